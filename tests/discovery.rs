//! Discovery: SPEC.md section 8 (people you may know, people search,
//! company pages) and the follows and groups of section 2, through the
//! per-viewer filter ("views are per viewer").
//!
//! - Scenarios: follows and groups (refusals, limits, repeats, events, and
//!   that they survive reopening the network), people you may know (reasons
//!   and scores, every exclusion, dismissals remembered, the silent "I don't
//!   know" kept silent, the work bound on hubs), search (keywords, each
//!   filter, degree order, pages) and a company's people.
//! - Properties against a naive model (BTreeMaps, breadth-first search,
//!   profiles read straight from the members, no index), on random networks
//!   built through the public API:
//!   - `pymk_equals_the_naive_model_and_never_suggests_an_excluded_member`:
//!     for every viewer, the suggestions (members, scores, reasons) equal
//!     the model's ranking, and none is excluded (self, connection, pending
//!     either way, blocked either way, barred, dismissed, deactivated,
//!     company), with random weights and expansion budgets small enough to
//!     leave sources out;
//!   - `search_equals_a_naive_filter_over_all_members`: every page of a
//!     random query, at a random page size, equals the model's filter over
//!     all members sorted by degree, mutual count and id, cut after the
//!     cursor; the pages together list every result exactly once;
//!   - `search_pages_while_the_network_changes`: between pages the network
//!     changes (connections, blocks, deactivations, profile updates); each
//!     page still equals the model's answer at its time, the keys along the
//!     pages strictly increase, no member appears twice with the same key,
//!     and every member whose key stayed the same throughout appears exactly
//!     once.
//!
//!   Cases per property: `PROPTEST_CASES` (default 40 here).
//!
//! Tokenising is shared with the library (`pronet::discovery::{fold,
//! words}`, themselves UAX #29 and NFKC from well-kept crates); matching,
//! degrees, counts, scores, exclusions and order are the model's own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::discovery::pymk;
use pronet::discovery::{DiscoveryPolicy, fold, words};
use pronet::{
    Degree, DegreeFilter, Error, Event, GroupId, ManualClock, Member, MemberId, MemoryStore,
    Network, Page, PageSize, Policy, Profile, Reason, Refusal, SearchCursor, SearchHit,
    SearchQuery, Suggestion,
};
use proptest::prelude::*;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use support::{T0, World, email_of, m, refusal, whole};

// ------------------------------------------------------------------ helpers

fn g(id: u64) -> GroupId {
    GroupId::new(id)
}

/// The default policy with some discovery values changed.
fn with_discovery(change: impl FnOnce(&mut DiscoveryPolicy)) -> Policy {
    let mut d = DiscoveryPolicy::default();
    change(&mut d);
    Policy::builder().discovery(d).build().unwrap()
}

fn profile(name: &str) -> Profile {
    Profile::named(name)
}

impl World {
    /// Registers a person with profile `p` and the discoverable address
    /// `m{id}@example.com`.
    fn profiled(&self, id: MemberId, p: Profile) -> MemberId {
        self.register(Member::person(id, p).with_email(email_of(id), true))
    }

    fn company(&self, id: MemberId, name: &str) -> MemberId {
        self.register(Member::company(id, Profile::named(name)))
    }

    fn pymk(&self, viewer: MemberId) -> Vec<Suggestion> {
        self.net.people_you_may_know(viewer, whole()).unwrap()
    }

    fn suggested(&self, viewer: MemberId) -> Vec<MemberId> {
        self.pymk(viewer).iter().map(|s| s.member).collect()
    }

    fn search(&self, viewer: MemberId, query: &SearchQuery) -> Vec<(MemberId, Degree, usize)> {
        let page = self.net.search(viewer, query, None, whole()).unwrap();
        assert!(page.next.is_none());
        page.items
            .iter()
            .map(|h| (h.member, h.degree, h.mutual_connections))
            .collect()
    }
}

fn with_companies(name: &str, current: &[MemberId], past: &[MemberId]) -> Profile {
    let mut p = profile(name);
    p.current_companies = current.to_vec();
    p.past_companies = past.to_vec();
    p
}

// ------------------------------------------------------- follows and groups

#[test]
fn follows_are_stored_refused_where_spec_says_and_repeat_harmlessly() {
    let policy = with_discovery(|d| d.max_follows = 2);
    let w = World::with(policy);
    let ana = w.profiled(m(1), profile("Ana"));
    let bo = w.profiled(m(2), profile("Bo"));
    let [acme, globex, initech] = [m(100), m(101), m(102)];
    for (c, name) in [(acme, "Acme"), (globex, "Globex"), (initech, "Initech")] {
        w.company(c, name);
    }
    let followed = w.net.follow(ana, acme).unwrap();
    assert_eq!(
        followed.events,
        vec![Event::CompanyFollowed {
            member: ana,
            company: acme
        }]
    );
    assert!(w.net.follow(ana, acme).unwrap().events.is_empty());
    support::refusals! {
        w.net.follow(ana, bo) => Refusal::NotACompany(bo),
        w.net.follow(acme, globex) => Refusal::NotAPerson(acme),
        w.net.follow(ana, m(999)) => Refusal::UnknownMember(m(999)),
    }
    let _ = w.net.follow(ana, globex).unwrap();
    assert_eq!(
        refusal(w.net.follow(ana, initech)),
        Refusal::TooManyFollows { max: 2 }
    );
    let _ = w.net.unfollow(ana, acme).unwrap();
    assert!(w.net.unfollow(ana, acme).unwrap().events.is_empty());
    let _ = w.net.follow(ana, initech).unwrap();
    let stored = w.net.store().snapshot();
    let follows: Vec<_> = stored
        .iter()
        .filter_map(|(_, v)| match &v.value {
            pronet::record::Record::Follows(f) => Some(f.companies.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(follows, vec![BTreeSet::from([globex, initech])]);
    // A deactivated company can still be unfollowed (freeing the slot), but
    // not followed.
    let _ = w.net.deactivate(globex).unwrap();
    assert_eq!(
        refusal(w.net.follow(bo, globex)),
        Refusal::UnknownMember(globex)
    );
    assert_eq!(w.net.unfollow(ana, globex).unwrap().events.len(), 1);
}

#[test]
fn groups_count_for_discovery_and_survive_reopening() {
    let store = MemoryStore::new();
    let clock = ManualClock::new(T0);
    {
        let net = Network::open(&store, clock.clone(), Policy::default()).unwrap();
        for (id, name) in [(1, "Ana"), (2, "Bo"), (3, "Cy")] {
            let _ = net
                .register(Member::person(m(id), profile(name)).with_email(email_of(m(id)), true))
                .unwrap();
        }
        let joined = net.join_group(m(1), g(7)).unwrap();
        assert_eq!(
            joined.events,
            vec![Event::GroupJoined {
                member: m(1),
                group: g(7)
            }]
        );
        assert!(net.join_group(m(1), g(7)).unwrap().events.is_empty());
        let _ = net.join_group(m(2), g(7)).unwrap();
        let _ = net.join_group(m(3), g(8)).unwrap();
        let _ = net.join_group(m(3), g(7)).unwrap();
        let _ = net.leave_group(m(3), g(7)).unwrap();
        assert!(net.leave_group(m(3), g(7)).unwrap().events.is_empty());
        assert_eq!(net.discovery().groups_of(m(1)), &[g(7)]);
    }
    // Reopened: the index is rebuilt from the store.
    let net = Network::open(&store, clock, Policy::default()).unwrap();
    assert_eq!(net.discovery().groups_of(m(1)), &[g(7)]);
    assert_eq!(net.discovery().groups_of(m(3)), &[g(8)]);
    let pymk = net.people_you_may_know(m(1), whole()).unwrap();
    assert_eq!(pymk.len(), 1);
    assert_eq!(pymk[0].member, m(2));
    assert_eq!(pymk[0].reasons, vec![Reason::Group(g(7))]);
    let hits = net
        .search(m(3), &SearchQuery::new().group(g(7)), None, whole())
        .unwrap();
    assert_eq!(
        hits.items.iter().map(|h| h.member).collect::<Vec<_>>(),
        vec![m(1), m(2)]
    );
    let _ = net
        .register(Member::company(m(100), profile("Acme")))
        .unwrap();
    assert_eq!(
        refusal(net.join_group(m(100), g(7))),
        Refusal::NotAPerson(m(100))
    );
    let policy = with_discovery(|d| d.max_groups = 1);
    let net = Network::open(&store, ManualClock::new(T0), policy).unwrap();
    assert_eq!(
        refusal(net.join_group(m(1), g(9))),
        Refusal::TooManyGroups { max: 1 }
    );
}

// ------------------------------------------------------ people you may know

/// Ana's network: connected to Bo and Cy; Dee knows both (2 mutual), Eli
/// knows Bo and works at Acme like Ana; Fay studied at Ana's school
/// (spelled differently), Gus shares a group, Hal is in Ana's contacts,
/// Ida is in them too but not discoverable by that address, Jo used to work
/// at Acme.
#[test]
fn pymk_ranks_by_weighted_reasons_and_lists_them() {
    let w = World::new();
    let acme = w.company(m(100), "Acme");
    let mut ana_profile = with_companies("Ana", &[acme], &[]);
    ana_profile.schools = vec!["Instituto Superior Técnico".into()];
    let ana = w.profiled(m(1), ana_profile);
    let bo = w.profiled(m(2), profile("Bo"));
    let cy = w.profiled(m(3), profile("Cy"));
    let dee = w.profiled(m(4), profile("Dee"));
    let eli = w.profiled(m(5), with_companies("Eli", &[acme], &[]));
    let mut fay_profile = profile("Fay");
    fay_profile.schools = vec!["  instituto superior TÉCNICO".into()];
    let fay = w.profiled(m(6), fay_profile);
    let gus = w.profiled(m(7), profile("Gus"));
    let hal = w.profiled(m(8), profile("Hal"));
    let ida = m(9);
    let _ = w
        .net
        .register(Member::person(ida, profile("Ida")).with_email(email_of(ida), false))
        .unwrap();
    let jo = w.profiled(m(10), with_companies("Jo", &[], &[acme]));
    for (a, b) in [(ana, bo), (ana, cy), (dee, bo), (dee, cy), (eli, bo)] {
        w.connect(a, b);
    }
    let _ = w.net.join_group(ana, g(1)).unwrap();
    let _ = w.net.join_group(gus, g(1)).unwrap();
    let _ = w
        .net
        .add_contacts(ana, &[email_of(hal), email_of(ida)])
        .unwrap();

    let got = w.pymk(ana);
    let want: Vec<(MemberId, u64, Vec<Reason>)> = vec![
        (hal, 50, vec![Reason::InContacts]),
        (
            eli,
            10 + 30,
            vec![Reason::MutualConnections(1), Reason::CurrentCompany(acme)],
        ),
        (dee, 20, vec![Reason::MutualConnections(2)]),
        (
            fay,
            15,
            vec![Reason::School("instituto superior técnico".into())],
        ),
        (jo, 15, vec![Reason::PastCompany(acme)]),
        (gus, 5, vec![Reason::Group(g(1))]),
    ];
    let got: Vec<(MemberId, u64, Vec<Reason>)> = got
        .into_iter()
        .map(|s| (s.member, s.score, s.reasons))
        .collect();
    assert_eq!(got, want);
    // Limits cut the list, best first.
    let two = w
        .net
        .people_you_may_know(ana, PageSize::new(2).unwrap())
        .unwrap();
    assert_eq!(two.iter().map(|s| s.member).collect::<Vec<_>>(), [hal, eli]);
    // Company pages have no suggestions; Bo sees Cy through Ana and Dee.
    assert_eq!(
        refusal(w.net.people_you_may_know(acme, whole())),
        Refusal::NotAPerson(acme)
    );
    assert_eq!(w.suggested(bo), [cy]);
}

/// Every exclusion of SPEC 8, one member each, all of whom would otherwise
/// be suggested through a shared connection.
#[test]
fn pymk_excludes_connections_pending_blocked_barred_dismissed_and_deactivated() {
    let w = World::new();
    let ana = w.profiled(m(1), profile("Ana"));
    let hub = w.profiled(m(2), profile("Hub"));
    let others: Vec<MemberId> = (3..=11).map(|i| w.profiled(m(i), profile("P"))).collect();
    w.connect(ana, hub);
    for &o in &others {
        w.connect(hub, o);
    }
    let [
        connected,
        sent_to,
        received_from,
        blocked,
        blocker,
        rejected_me,
        i_rejected,
        dismissed,
        gone,
    ] = <[MemberId; 9]>::try_from(others.clone()).unwrap();
    assert_eq!(w.suggested(ana).len(), 9);
    w.connect(ana, connected);
    let _ = w.invite(ana, sent_to);
    let _ = w.invite(received_from, ana);
    let _ = w.net.block(ana, blocked).unwrap();
    let _ = w.net.block(blocker, ana).unwrap();
    let inv = w.invite(ana, rejected_me);
    let _ = w.net.reject(rejected_me, inv).unwrap();
    let inv = w.invite(i_rejected, ana);
    let _ = w.net.reject(ana, inv).unwrap();
    let dismissal = w.net.dismiss(ana, dismissed).unwrap();
    assert_eq!(
        dismissal.events,
        vec![Event::SuggestionDismissed {
            member: ana,
            dismissed
        }]
    );
    let _ = w.net.deactivate(gone).unwrap();
    assert!(w.suggested(ana).is_empty(), "{:?}", w.pymk(ana));
    // Dismissing is remembered, refused for oneself and hidden members.
    assert!(w.net.dismiss(ana, dismissed).unwrap().events.is_empty());
    support::refusals! {
        w.net.dismiss(ana, ana) => Refusal::Yourself,
        w.net.dismiss(ana, blocker) => Refusal::UnknownMember(blocker),
        w.net.dismiss(ana, gone) => Refusal::UnknownMember(gone),
    }
    // The hub's other connections still see each other, minus their own
    // exclusions: the blocker never sees Ana, nor Ana the blocker.
    assert!(!w.suggested(blocker).contains(&ana));
    assert!(w.suggested(dismissed).contains(&ana));
}

/// SPEC 3.4: the sender never learns of an "I don't know". Two worlds: in
/// one Bo answered Ana's invitation with "I don't know", in the other Bo
/// did nothing. Ana's suggestions are the same in both, while the
/// invitation is pending (Bo left out as pending) and after it expired (Bo
/// back); Bo's own suggestions leave Ana out in the first world only.
#[test]
fn pymk_keeps_a_dont_know_silent() {
    let worlds: Vec<(World, ManualClock)> = (0..2)
        .map(|_| {
            let w = World::new();
            let clock = w.clock.clone();
            (w, clock)
        })
        .collect();
    let mut views = Vec::new();
    for (i, (w, clock)) in worlds.iter().enumerate() {
        let [ana, bo, cy] = [1, 2, 3].map(|i| w.profiled(m(i), profile("P")));
        w.connect(ana, cy);
        w.connect(bo, cy);
        let inv = w.invite(ana, bo);
        if i == 0 {
            let _ = w.net.ignore_unknown(bo, inv).unwrap();
        }
        let pending = w.pymk(ana);
        clock.advance(chrono::TimeDelta::days(181));
        let expired = w.pymk(ana);
        views.push((pending, expired, w.suggested(bo)));
    }
    assert_eq!(views[0].0, views[1].0);
    assert_eq!(views[0].1, views[1].1);
    assert!(views[0].0.is_empty());
    assert_eq!(views[0].1.len(), 1);
    assert!(views[0].2.is_empty());
    assert_eq!(views[1].2, [m(1)]);
}

/// BENCH.md: people you may know bounds the work it spends expanding hubs.
/// Ana knows a hub of 402 connections and a small connection of 2 (Ana and
/// Cy); with a budget of 50 the hub is left out (its connections are no
/// candidates), the small one is walked (2 entries), and the reasons stay
/// exact: Cy, connected to both, shows 2 mutual connections though only one
/// was walked.
#[test]
fn pymk_bounds_hub_expansion_and_keeps_reasons_exact() {
    let policy = with_discovery(|d| d.expansion_budget = 50);
    let w = World::with(policy);
    let ana = w.profiled(m(1), profile("Ana"));
    let hub = w.profiled(m(2), profile("Hub"));
    let small = w.profiled(m(3), profile("Small"));
    let cy = w.profiled(m(4), profile("Cy"));
    w.connect_all([(ana, hub), (ana, small), (small, cy), (hub, cy)]);
    for i in 0..400 {
        let fan = w.profiled(m(1000 + i), profile("Fan"));
        w.connect(fan, hub);
    }
    let got = w.pymk(ana);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].member, cy);
    assert_eq!(got[0].score, 10);
    assert_eq!(got[0].reasons, vec![Reason::MutualConnections(2)]);
    // The graph's guard first (with_view), then the index's, as documented.
    let ranked = w
        .net
        .with_view(ana, |view| {
            pymk::suggest::<Error>(
                view,
                ana,
                &w.net.discovery(),
                &pymk::PymkFacts::default(),
                w.net.policy().discovery(),
                10,
                |_| Ok(true),
            )
        })
        .unwrap();
    assert_eq!((ranked.walked, ranked.left_out), (2, 1));
}

/// G6's hub pair for people you may know: two hubs at the 30,000 cap
/// (19,999 fans shared) and a viewer connected to both and to 50 ordinary
/// members. With a budget of 40,000, whatever the viewer, the entries
/// walked stay within it; for the viewer the second hub is what is left
/// out (the first, lower id, fits), and the ordinary side is still ranked.
#[test]
fn pymk_on_two_30k_hubs_walks_at_most_the_budget() {
    use pronet::discovery::DiscoveryIndex;
    use pronet::graph::GraphError;
    use pronet::{Kind, SocialGraph};
    let (h1, h2, viewer) = (m(1), m(2), m(3));
    let ordinary: Vec<MemberId> = (10..60).map(m).collect();
    let fans: Vec<MemberId> = (1_000..41_000).map(m).collect();
    let members = [h1, h2, viewer]
        .into_iter()
        .chain(ordinary.iter().copied())
        .chain(fans.iter().copied())
        .map(|id| (id, Kind::Person));
    let mut edges = vec![(viewer, h1), (viewer, h2)];
    edges.extend(fans[..29_999].iter().map(|&f| (h1, f)));
    edges.extend(fans[10_000..39_999].iter().map(|&f| (h2, f)));
    for (i, &o) in ordinary.iter().enumerate() {
        edges.push((viewer, o));
        edges.push((o, fans[i]));
        edges.push((o, fans[i + 1]));
    }
    let graph = SocialGraph::build(members, edges, 30_000).unwrap();
    let mut policy = DiscoveryPolicy::default();
    policy.expansion_budget = 40_000;
    let index = DiscoveryIndex::new();
    let facts = pymk::PymkFacts::default();
    for who in [viewer, h1, h2, ordinary[0], fans[15_000]] {
        let ranked =
            pymk::suggest::<GraphError>(&graph.view([]), who, &index, &facts, &policy, 10, |_| {
                Ok(true)
            })
            .unwrap();
        assert!(
            ranked.walked <= policy.expansion_budget as usize,
            "{who}: {ranked:?}"
        );
        if who == viewer {
            assert_eq!(ranked.left_out, 1, "one hub fits the budget, not two");
            assert_eq!(ranked.walked, 50 * 3 + 30_000);
            // fans[1] shares two ordinary connections and the first hub.
            assert_eq!(ranked.suggestions[0].member, fans[1]);
            assert_eq!(ranked.suggestions[0].score, 30);
            assert_eq!(
                ranked.suggestions[0].reasons,
                [Reason::MutualConnections(3)]
            );
        }
    }
}

/// When the shell's `admit` refuses more candidates than the few ranked up
/// front, the ranking carries on with the rest, in order: the answer is the
/// full ranking without the refused.
#[test]
fn pymk_ranks_on_past_many_refused_candidates() {
    use pronet::discovery::DiscoveryIndex;
    use pronet::graph::GraphError;
    use pronet::{Kind, SocialGraph};
    let viewer = m(1);
    let friends: Vec<MemberId> = (2..6).map(m).collect();
    let others: Vec<MemberId> = (10..70).map(m).collect();
    let members = [viewer]
        .into_iter()
        .chain(friends.iter().copied())
        .chain(others.iter().copied())
        .map(|id| (id, Kind::Person));
    let mut edges: Vec<(MemberId, MemberId)> = friends.iter().map(|&f| (viewer, f)).collect();
    // Other k is connected to k % 4 + 1 of the friends.
    for (k, &o) in others.iter().enumerate() {
        for &f in &friends[..k % 4 + 1] {
            edges.push((f, o));
        }
    }
    let graph = SocialGraph::build(members, edges, 30_000).unwrap();
    let run = |limit: usize, refuse: &dyn Fn(MemberId) -> bool| -> Vec<(MemberId, u64)> {
        pymk::suggest::<GraphError>(
            &graph.view([]),
            viewer,
            &DiscoveryIndex::new(),
            &pymk::PymkFacts::default(),
            &DiscoveryPolicy::default(),
            limit,
            |c| Ok(!refuse(c)),
        )
        .unwrap()
        .suggestions
        .into_iter()
        .map(|s| (s.member, s.score))
        .collect()
    };
    let all = run(100, &|_| false);
    assert_eq!(all.len(), 60);
    assert!(
        all.windows(2)
            .all(|w| (Reverse(w[0].1), w[0].0) < (Reverse(w[1].1), w[1].0))
    );
    let refused = |c: MemberId| c.get() % 7 != 0;
    let want: Vec<(MemberId, u64)> = all.iter().copied().filter(|(c, _)| !refused(*c)).collect();
    assert_eq!(run(5, &refused), want[..5]);
    assert_eq!(run(100, &refused), want);
}

// ------------------------------------------------------------------- search

/// A small world for search: Ana (the viewer) - Bo - Cy - Dee - Eli in a
/// chain, plus Fay out of network; profiles with names, headlines,
/// locations, companies, schools, skills and groups.
fn search_world() -> (World, [MemberId; 6], MemberId, MemberId) {
    let w = World::new();
    let acme = w.company(m(100), "Acme");
    let globex = w.company(m(101), "Globex");
    let people = [
        (
            1,
            "Ana Lima",
            "Engineering Manager",
            "Lisbon",
            &[acme][..],
            &[][..],
            "MIT",
            "Rust",
        ),
        (
            2,
            "Bo Silva",
            "Senior Rust Engineer",
            "Porto",
            &[globex],
            &[acme],
            "Técnico",
            "Go",
        ),
        (
            3,
            "Cy Lima",
            "Data Engineer",
            "Lisbon, Portugal",
            &[acme],
            &[],
            "MIT",
            "rust",
        ),
        (
            4,
            "Dee Rust",
            "Designer",
            "Berlin",
            &[],
            &[globex],
            "RISD",
            "Figma",
        ),
        (
            5,
            "Eli Okafor",
            "Rust engineer",
            "Lisbon",
            &[globex],
            &[],
            "mit",
            "RUST",
        ),
        (
            6,
            "Fay Lima",
            "Engineer",
            "Lisbon",
            &[acme],
            &[],
            "Stanford",
            "SQL",
        ),
    ];
    let mut ids = [m(0); 6];
    for (i, (id, name, headline, location, current, past, school, skill)) in
        people.into_iter().enumerate()
    {
        let mut p = with_companies(name, current, past);
        p.headline = headline.into();
        p.location = location.into();
        p.schools = vec![school.into()];
        p.skills = vec![skill.into()];
        ids[i] = w.profiled(m(id), p);
    }
    for pair in ids[..5].windows(2) {
        w.connect(pair[0], pair[1]);
    }
    let _ = w.net.join_group(ids[2], g(1)).unwrap();
    let _ = w.net.join_group(ids[5], g(1)).unwrap();
    (w, ids, acme, globex)
}

#[test]
fn search_matches_keywords_and_each_filter_in_degree_order() {
    let (w, [ana, bo, cy, dee, eli, fay], acme, globex) = search_world();
    let first = Degree::First;
    let second = Degree::Second;
    let third = Degree::Third;
    let out = Degree::OutOfNetwork;
    // Keywords: every word, in the name, headline, location, school or skill.
    assert_eq!(
        w.search(ana, &SearchQuery::keywords("lima")),
        [(cy, second, 1), (fay, out, 0)]
    );
    assert_eq!(
        w.search(ana, &SearchQuery::keywords("RUST engineer")),
        [(bo, first, 0), (cy, second, 1), (eli, out, 0)]
    );
    assert_eq!(
        w.search(ana, &SearchQuery::keywords("rust")),
        [
            (bo, first, 0),
            (cy, second, 1),
            (dee, third, 0),
            (eli, out, 0)
        ]
    );
    assert!(w.search(ana, &SearchQuery::keywords("nobody")).is_empty());
    // The viewer never appears; an empty query lists everyone else.
    assert_eq!(
        w.search(ana, &SearchQuery::new()),
        [
            (bo, first, 0),
            (cy, second, 1),
            (dee, third, 0),
            (eli, out, 0),
            (fay, out, 0)
        ]
    );
    // Filters; several values of one filter admit either.
    let filter = |q: SearchQuery| -> Vec<MemberId> {
        w.search(ana, &q).into_iter().map(|(m, ..)| m).collect()
    };
    assert_eq!(
        filter(SearchQuery::new().location("lisbon")),
        [cy, eli, fay]
    );
    assert_eq!(
        filter(SearchQuery::new().location("portugal").location("berlin")),
        [cy, dee]
    );
    assert_eq!(filter(SearchQuery::new().current_company(acme)), [cy, fay]);
    assert_eq!(filter(SearchQuery::new().past_company(acme)), [bo]);
    assert_eq!(filter(SearchQuery::new().past_company(globex)), [dee]);
    assert_eq!(filter(SearchQuery::new().school("mit")), [cy, eli]);
    assert_eq!(
        filter(SearchQuery::new().title("engineer")),
        [bo, cy, eli, fay]
    );
    assert_eq!(filter(SearchQuery::new().title("rust engineer")), [bo, eli]);
    assert_eq!(filter(SearchQuery::new().skill("Rust")), [cy, eli]);
    assert_eq!(filter(SearchQuery::new().group(g(1))), [cy, fay]);
    assert_eq!(
        filter(SearchQuery::new().degrees(DegreeFilter::FIRST | DegreeFilter::SECOND)),
        [bo, cy]
    );
    assert_eq!(
        filter(SearchQuery::new().degrees(DegreeFilter::THIRD_PLUS)),
        [dee, eli, fay]
    );
    assert_eq!(
        filter(
            SearchQuery::keywords("engineer")
                .location("lisbon")
                .skill("rust")
                .degrees(DegreeFilter::THIRD_PLUS)
        ),
        [eli]
    );
    // Filters with unknown values match nothing; empty values are ignored.
    assert!(filter(SearchQuery::new().school("Oxford")).is_empty());
    assert_eq!(filter(SearchQuery::new().school("  ")).len(), 5);
    // Blocked either way, or deactivated: gone from the results.
    let _ = w.net.block(fay, ana).unwrap();
    let _ = w.net.deactivate(eli).unwrap();
    assert_eq!(filter(SearchQuery::keywords("lima")), [cy]);
    assert_eq!(filter(SearchQuery::new().location("lisbon")), [cy]);
}

#[test]
fn search_orders_by_mutual_count_and_pages_with_cursors() {
    let w = World::new();
    let viewer = w.profiled(m(1), profile("Viewer"));
    let friends: Vec<MemberId> = (10..14)
        .map(|i| w.profiled(m(i), profile("Friend")))
        .collect();
    for &f in &friends {
        w.connect(viewer, f);
    }
    // Candidate 20+k shares k+1 of the viewer's connections.
    let mut want = Vec::new();
    for k in 0..4u64 {
        let c = w.profiled(m(20 + k), profile("Candidate"));
        for &f in &friends[..=k as usize] {
            w.connect(f, c);
        }
        want.push((c, Degree::Second, k as usize + 1));
    }
    want.reverse();
    let query = SearchQuery::keywords("candidate");
    assert_eq!(w.search(viewer, &query), want);
    let three = PageSize::new(3).unwrap();
    let got: Vec<_> = support::all_items(|after| w.net.search(viewer, &query, after, three))
        .unwrap()
        .iter()
        .map(|h| (h.member, h.degree, h.mutual_connections))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn company_people_lists_current_employees_by_degree() {
    let (w, [ana, bo, cy, _, _, fay], acme, globex) = search_world();
    let page = |company, degrees| -> Vec<MemberId> {
        w.net
            .company_people(ana, company, degrees, None, whole())
            .unwrap()
            .items
            .iter()
            .map(|h| h.member)
            .collect()
    };
    assert_eq!(page(acme, DegreeFilter::ANY), [cy, fay]);
    assert_eq!(page(acme, DegreeFilter::SECOND), [cy]);
    assert_eq!(page(globex, DegreeFilter::FIRST), [bo]);
    support::refusals! {
        w.net.company_people(ana, bo, DegreeFilter::ANY, None, whole()) => Refusal::NotACompany(bo),
        w.net.company_people(ana, m(999), DegreeFilter::ANY, None, whole())
            => Refusal::UnknownMember(m(999)),
    }
    let _ = w.net.deactivate(acme).unwrap();
    assert_eq!(
        refusal(
            w.net
                .company_people(ana, acme, DegreeFilter::ANY, None, whole())
        ),
        Refusal::UnknownMember(acme)
    );
}

// -------------------------------------------------------------- the model

const COMPANIES: [u64; 3] = [100, 101, 102];
const NAMES: [&str; 6] = ["Ana", "Bo", "Lima", "Silva", "Rust", "Okafor"];
const HEADLINES: [&str; 6] = [
    "Senior Rust Engineer",
    "Data engineer",
    "Engineering Manager",
    "Designer",
    "",
    "rust DESIGNER",
];
const LOCATIONS: [&str; 4] = ["Lisbon", "Porto, Portugal", "Lisbon, Portugal", ""];
const SCHOOLS: [&str; 4] = ["MIT", " mit", "Técnico", "Stanford"];
const SKILLS: [&str; 4] = ["Rust", "rust", "Go", "SQL"];

/// A profile drawn from small pools, so that values collide often.
fn arb_profile() -> impl Strategy<Value = Profile> {
    (
        prop::collection::vec(0..NAMES.len(), 1..=2),
        0..HEADLINES.len(),
        0..LOCATIONS.len(),
        prop::collection::vec(0..COMPANIES.len(), 0..=2),
        prop::collection::vec(0..COMPANIES.len(), 0..=2),
        prop::collection::vec(0..SCHOOLS.len(), 0..=2),
        prop::collection::vec(0..SKILLS.len(), 0..=2),
    )
        .prop_map(
            |(names, headline, location, current, past, schools, skills)| {
                let name: Vec<&str> = names.iter().map(|&i| NAMES[i]).collect();
                let mut p = Profile::named(name.join(" "));
                p.headline = HEADLINES[headline].into();
                p.location = LOCATIONS[location].into();
                p.current_companies = current.iter().map(|&i| m(COMPANIES[i])).collect();
                p.past_companies = past.iter().map(|&i| m(COMPANIES[i])).collect();
                p.schools = schools.iter().map(|&i| SCHOOLS[i].into()).collect();
                p.skills = skills.iter().map(|&i| SKILLS[i].into()).collect();
                p
            },
        )
}

/// One change to the network, on members named by index (resolved against
/// the members at the time it applies, and skipped when it cannot apply).
#[derive(Clone, Debug)]
enum Op {
    Connect(usize, usize),
    Invite(usize, usize),
    Reject(usize, usize),
    DontKnow(usize, usize),
    Block(usize, usize),
    Dismiss(usize, usize),
    Deactivate(usize),
    Join(usize, u64),
    Contact(usize, usize),
    Update(usize, Profile),
    Remove(usize, usize),
}

fn arb_op(n: usize) -> impl Strategy<Value = Op> {
    let i = 0..n;
    prop_oneof![
        8 => (i.clone(), i.clone()).prop_map(|(a, b)| Op::Connect(a, b)),
        2 => (i.clone(), i.clone()).prop_map(|(a, b)| Op::Invite(a, b)),
        1 => (i.clone(), i.clone()).prop_map(|(a, b)| Op::Reject(a, b)),
        1 => (i.clone(), i.clone()).prop_map(|(a, b)| Op::DontKnow(a, b)),
        1 => (i.clone(), i.clone()).prop_map(|(a, b)| Op::Block(a, b)),
        1 => (i.clone(), i.clone()).prop_map(|(a, b)| Op::Dismiss(a, b)),
        1 => i.clone().prop_map(Op::Deactivate),
        2 => (i.clone(), 1..4u64).prop_map(|(a, gid)| Op::Join(a, gid)),
        2 => (i.clone(), i.clone()).prop_map(|(a, b)| Op::Contact(a, b)),
        1 => (i.clone(), arb_profile()).prop_map(|(a, p)| Op::Update(a, p)),
        1 => (i.clone(), i).prop_map(|(a, b)| Op::Remove(a, b)),
    ]
}

fn key(a: MemberId, b: MemberId) -> (MemberId, MemberId) {
    (a.min(b), a.max(b))
}

/// The naive model: everything the rules need, in plain maps.
#[derive(Clone, Debug, Default)]
struct Model {
    /// Persons in registration order, with profile and discoverability.
    persons: BTreeMap<MemberId, (Profile, bool)>,
    companies: BTreeSet<MemberId>,
    inactive: BTreeSet<MemberId>,
    edges: BTreeSet<(MemberId, MemberId)>,
    /// (blocker, blocked).
    blocks: BTreeSet<(MemberId, MemberId)>,
    /// Live pending (sender, recipient), ignored ones included.
    pending: BTreeSet<(MemberId, MemberId)>,
    /// (sender, recipient) -> the sender is barred; `true` for a reject.
    bars: BTreeMap<(MemberId, MemberId), bool>,
    /// Pairs that ever had an invitation or connection (left alone by the
    /// generator, so that no re-send rule applies).
    used: BTreeSet<(MemberId, MemberId)>,
    dismissed: BTreeSet<(MemberId, MemberId)>,
    groups: BTreeMap<MemberId, BTreeSet<GroupId>>,
    /// owner -> members whose address the owner imported.
    contacts: BTreeMap<MemberId, BTreeSet<MemberId>>,
}

impl Model {
    fn active_person(&self, x: MemberId) -> bool {
        self.persons.contains_key(&x) && !self.inactive.contains(&x)
    }

    fn hidden(&self, v: MemberId, x: MemberId) -> bool {
        self.blocks.contains(&(v, x)) || self.blocks.contains(&(x, v))
    }

    /// Whether `v` may see the person `x` (active, not hidden).
    fn sees(&self, v: MemberId, x: MemberId) -> bool {
        self.active_person(x) && !self.hidden(v, x)
    }

    /// `x`'s connections as `v` may see them.
    fn n(&self, v: MemberId, x: MemberId) -> BTreeSet<MemberId> {
        support::partners(&self.edges, x)
            .filter(|&y| self.sees(v, y))
            .collect()
    }

    fn degree(&self, v: MemberId, x: MemberId) -> Degree {
        let nv = self.n(v, v);
        let nx = self.n(v, x);
        if v == x {
            Degree::Yourself
        } else if nv.contains(&x) {
            Degree::First
        } else if nv.intersection(&nx).next().is_some() {
            Degree::Second
        } else if nv
            .iter()
            .any(|&a| self.n(v, a).intersection(&nx).next().is_some())
        {
            Degree::Third
        } else {
            Degree::OutOfNetwork
        }
    }

    fn mutual(&self, v: MemberId, x: MemberId) -> usize {
        if v == x {
            return 0;
        }
        self.n(v, v).intersection(&self.n(v, x)).count()
    }

    fn profile(&self, x: MemberId) -> &Profile {
        &self.persons[&x].0
    }

    fn current(&self, x: MemberId) -> BTreeSet<MemberId> {
        self.profile(x).current_companies.iter().copied().collect()
    }

    fn past(&self, x: MemberId) -> BTreeSet<MemberId> {
        let current = self.current(x);
        self.profile(x)
            .past_companies
            .iter()
            .copied()
            .filter(|c| !current.contains(c))
            .collect()
    }

    fn values(list: &[String]) -> BTreeSet<String> {
        list.iter()
            .map(|s| fold(s))
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn schools(&self, x: MemberId) -> BTreeSet<String> {
        Self::values(&self.profile(x).schools)
    }

    fn skills(&self, x: MemberId) -> BTreeSet<String> {
        Self::values(&self.profile(x).skills)
    }

    fn groups(&self, x: MemberId) -> BTreeSet<GroupId> {
        self.groups.get(&x).cloned().unwrap_or_default()
    }

    fn active_persons(&self) -> Vec<MemberId> {
        self.persons
            .keys()
            .copied()
            .filter(|&x| self.active_person(x))
            .collect()
    }

    fn contact_owners(&self, v: MemberId) -> BTreeSet<MemberId> {
        self.contacts
            .get(&v)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&x| x != v && self.active_person(x) && self.persons[&x].1)
            .collect()
    }

    /// Members `v` must never be suggested, the graph aside.
    fn excluded(&self, v: MemberId, x: MemberId) -> bool {
        x == v
            || !self.sees(v, x)
            || self.edges.contains(&key(v, x))
            || self.pending.contains(&(v, x))
            || self.pending.contains(&(x, v))
            || self.dismissed.contains(&(v, x))
            || self.bars.get(&(v, x)) == Some(&true)
            || self.bars.contains_key(&(x, v))
    }

    /// The model's people you may know, straight from the module docs.
    fn pymk(&self, v: MemberId, p: &DiscoveryPolicy, limit: usize) -> Vec<Suggested> {
        type SortKey = (usize, u8, u64, bool, bool, String);
        let mut sources: Vec<(SortKey, BTreeSet<MemberId>, u32)> = Vec::new();
        let visible_persons = self.active_persons();
        let members_where = |f: &dyn Fn(MemberId) -> bool| -> BTreeSet<MemberId> {
            visible_persons.iter().copied().filter(|&x| f(x)).collect()
        };
        if p.mutual > 0 {
            for x in self.n(v, v) {
                let list = self.n(v, x);
                sources.push((
                    (list.len(), 0, x.get(), false, false, String::new()),
                    list,
                    p.mutual,
                ));
            }
        }
        let mut company = |c: MemberId, vcur: bool, ccur: bool, weight: u32| {
            let raw = members_where(&|x| {
                if ccur {
                    self.current(x).contains(&c)
                } else {
                    self.past(x).contains(&c)
                }
            });
            if weight > 0 && !raw.is_empty() {
                let size = raw.iter().filter(|&&x| !self.hidden(v, x)).count();
                sources.push(((size, 1, c.get(), vcur, ccur, String::new()), raw, weight));
            }
        };
        for c in self.current(v) {
            company(c, true, true, p.current_company);
            company(c, true, false, p.past_company);
        }
        for c in self.past(v) {
            company(c, false, true, p.past_company);
            company(c, false, false, p.past_company);
        }
        if p.school > 0 {
            for s in self.schools(v) {
                let raw = members_where(&|x| self.schools(x).contains(&s));
                let size = raw.iter().filter(|&&x| !self.hidden(v, x)).count();
                sources.push(((size, 2, 0, false, false, s.clone()), raw, p.school));
            }
        }
        if p.group > 0 {
            for gid in self.groups(v) {
                let raw = members_where(&|x| self.groups(x).contains(&gid));
                let size = raw.iter().filter(|&&x| !self.hidden(v, x)).count();
                sources.push((
                    (size, 3, gid.get(), false, false, String::new()),
                    raw,
                    p.group,
                ));
            }
        }
        sources.sort_by(|a, b| a.0.cmp(&b.0));
        let mut score: BTreeMap<MemberId, u64> = BTreeMap::new();
        let mut walked = 0;
        for (k, list, weight) in &sources {
            if walked + k.0 > p.expansion_budget as usize {
                continue;
            }
            walked += k.0;
            for &x in list {
                if self.sees(v, x) {
                    *score.entry(x).or_default() += u64::from(*weight);
                }
            }
        }
        let contacts = self.contact_owners(v);
        if p.contact > 0 {
            for &x in &contacts {
                if self.sees(v, x) {
                    *score.entry(x).or_default() += u64::from(p.contact);
                }
            }
        }
        let mut ranked: Vec<(Reverse<u64>, MemberId)> = score
            .into_iter()
            .filter(|&(x, s)| s > 0 && !self.excluded(v, x))
            .map(|(x, s)| (Reverse(s), x))
            .collect();
        ranked.sort();
        ranked
            .into_iter()
            .take(limit)
            .map(|(Reverse(score), x)| {
                let mut reasons = Vec::new();
                let mutual = self.mutual(v, x);
                if mutual > 0 {
                    reasons.push(Reason::MutualConnections(mutual));
                }
                if contacts.contains(&x) {
                    reasons.push(Reason::InContacts);
                }
                let both_current: BTreeSet<MemberId> = self
                    .current(v)
                    .intersection(&self.current(x))
                    .copied()
                    .collect();
                let mine: BTreeSet<MemberId> =
                    self.current(v).union(&self.past(v)).copied().collect();
                let theirs: BTreeSet<MemberId> =
                    self.current(x).union(&self.past(x)).copied().collect();
                reasons.extend(both_current.iter().map(|&c| Reason::CurrentCompany(c)));
                reasons.extend(
                    mine.intersection(&theirs)
                        .filter(|c| !both_current.contains(c))
                        .map(|&c| Reason::PastCompany(c)),
                );
                reasons.extend(
                    self.schools(v)
                        .intersection(&self.schools(x))
                        .map(|s| Reason::School(s.clone())),
                );
                reasons.extend(
                    self.groups(v)
                        .intersection(&self.groups(x))
                        .map(|&gid| Reason::Group(gid)),
                );
                (x, score, reasons)
            })
            .collect()
    }

    /// Whether the person `x` matches `q` (degree aside).
    fn matches(&self, x: MemberId, q: &SearchQuery) -> bool {
        let p = self.profile(x);
        let mut all_words: BTreeSet<String> = BTreeSet::new();
        for text in [&p.display_name, &p.headline, &p.location]
            .into_iter()
            .chain(&p.schools)
            .chain(&p.skills)
        {
            all_words.extend(words(text));
        }
        let headline: BTreeSet<String> = words(&p.headline).collect();
        let location: BTreeSet<String> = words(&p.location).collect();
        let text_filter = |values: &[String], have: &BTreeSet<String>| {
            let given: Vec<Vec<String>> = values
                .iter()
                .map(|v| words(v).collect::<Vec<_>>())
                .filter(|w| !w.is_empty())
                .collect();
            given.is_empty() || given.iter().any(|w| w.iter().all(|t| have.contains(t)))
        };
        let value_filter = |values: &[String], have: &BTreeSet<String>| {
            let given: Vec<String> = values
                .iter()
                .map(|v| fold(v))
                .filter(|v| !v.is_empty())
                .collect();
            given.is_empty() || given.iter().any(|v| have.contains(v))
        };
        words(&q.text).all(|t| all_words.contains(&t))
            && text_filter(&q.locations, &location)
            && text_filter(&q.titles, &headline)
            && value_filter(&q.schools, &self.schools(x))
            && value_filter(&q.skills, &self.skills(x))
            && (q.current_companies.is_empty()
                || q.current_companies
                    .iter()
                    .any(|c| self.current(x).contains(c)))
            && (q.past_companies.is_empty()
                || q.past_companies.iter().any(|c| self.past(x).contains(c)))
            && (q.groups.is_empty() || q.groups.iter().any(|gid| self.groups(x).contains(gid)))
    }

    /// Every result of `v`'s search, in order.
    fn search(&self, v: MemberId, q: &SearchQuery) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .active_persons()
            .into_iter()
            .filter(|&x| x != v && self.sees(v, x) && self.matches(x, q))
            .map(|x| {
                let degree = self.degree(v, x);
                let mutual = if matches!(degree, Degree::First | Degree::Second) {
                    self.mutual(v, x)
                } else {
                    0
                };
                (x, degree, mutual)
            })
            .filter(|h| q.degrees.admits(h.1))
            .collect();
        hits.sort_by_key(sort_key);
        hits
    }
}

/// A search result as compared: (member, degree, mutual count).
type Hit = (MemberId, Degree, usize);

/// A suggestion as compared: (member, score, reasons).
type Suggested = (MemberId, u64, Vec<Reason>);

fn sort_key(h: &Hit) -> (u8, Reverse<usize>, MemberId) {
    let rank = match h.1 {
        Degree::Yourself => 0,
        Degree::First => 1,
        Degree::Second => 2,
        Degree::Third => 3,
        Degree::OutOfNetwork => 4,
    };
    (rank, Reverse(h.2), h.0)
}

fn hits(page: &Page<SearchHit, SearchCursor>) -> Vec<Hit> {
    page.items
        .iter()
        .map(|h| (h.member, h.degree, h.mutual_connections))
        .collect()
}

fn suggested(list: Vec<Suggestion>) -> Vec<Suggested> {
    list.into_iter()
        .map(|s| (s.member, s.score, s.reasons))
        .collect()
}

// --------------------------------------------------------- the simulation

/// A network and its model, changed in lockstep.
struct Sim {
    w: World,
    model: Model,
    ids: Vec<MemberId>,
}

impl Sim {
    /// Companies are registered before the persons, or after them (then
    /// the graph's slots follow member ids, which rankings use to break
    /// ties without id lookups: both paths are exercised).
    fn new(profiles: &[(Profile, bool)], policy: Policy, companies_first: bool) -> Self {
        let w = World::with(policy);
        let mut model = Model::default();
        let companies = |w: &World, model: &mut Model| {
            for (i, c) in COMPANIES.iter().enumerate() {
                w.company(m(*c), NAMES[i]);
                model.companies.insert(m(*c));
            }
        };
        if companies_first {
            companies(&w, &mut model);
        }
        let mut ids = Vec::new();
        for (i, (p, discoverable)) in profiles.iter().enumerate() {
            let id = m(i as u64 + 1);
            let member = Member::person(id, p.clone()).with_email(email_of(id), *discoverable);
            let _ = w.net.register(member).unwrap();
            model.persons.insert(id, (p.clone(), *discoverable));
            ids.push(id);
        }
        if !companies_first {
            companies(&w, &mut model);
        }
        Self { w, model, ids }
    }

    fn id(&self, i: usize) -> MemberId {
        self.ids[i % self.ids.len()]
    }

    /// A pair that never had an invitation, both active, neither hiding.
    fn fresh(&self, a: MemberId, b: MemberId) -> bool {
        a != b
            && self.model.active_person(a)
            && self.model.active_person(b)
            && !self.model.hidden(a, b)
            && !self.model.used.contains(&key(a, b))
    }

    /// `a` invites `b` with a note and proof (a note keeps random senders
    /// clear of the "no note" spam signal).
    fn invite(&mut self, a: MemberId, b: MemberId) -> pronet::InvitationId {
        self.model.used.insert(key(a, b));
        support::invite(&self.w.net, a, b, Some("Hello"))
    }

    fn apply(&mut self, op: &Op) {
        let net = &self.w.net;
        match op {
            Op::Connect(a, b) | Op::Invite(a, b) | Op::Reject(a, b) | Op::DontKnow(a, b) => {
                let (a, b) = (self.id(*a), self.id(*b));
                if !self.fresh(a, b) {
                    return;
                }
                let inv = self.invite(a, b);
                let net = &self.w.net;
                match op {
                    Op::Connect(..) => {
                        let _ = net.accept(b, inv).unwrap();
                        self.model.edges.insert(key(a, b));
                    }
                    Op::Invite(..) => {
                        self.model.pending.insert((a, b));
                    }
                    Op::Reject(..) => {
                        let _ = net.reject(b, inv).unwrap();
                        self.model.bars.insert((a, b), true);
                    }
                    _ => {
                        let _ = net.ignore_unknown(b, inv).unwrap();
                        self.model.pending.insert((a, b));
                        self.model.bars.insert((a, b), false);
                    }
                }
            }
            Op::Block(a, b) => {
                let (a, b) = (self.id(*a), self.id(*b));
                let model = &mut self.model;
                if a == b
                    || !model.active_person(a)
                    || !model.active_person(b)
                    || model.blocks.contains(&(a, b))
                {
                    return;
                }
                if model.blocks.contains(&(b, a)) {
                    // Blocking back is recorded, and answered as for a
                    // missing member (the blocker is hidden from `a`).
                    assert!(matches!(
                        net.block(a, b),
                        Err(Error::Refused(Refusal::UnknownMember(x))) if x == b
                    ));
                } else {
                    let _ = net.block(a, b).unwrap();
                }
                model.blocks.insert((a, b));
                model.edges.remove(&key(a, b));
                model.pending.remove(&(a, b));
                model.pending.remove(&(b, a));
            }
            Op::Dismiss(a, b) => {
                let (a, b) = (self.id(*a), self.id(*b));
                if a != b && self.model.active_person(a) && self.model.sees(a, b) {
                    let _ = net.dismiss(a, b).unwrap();
                    self.model.dismissed.insert((a, b));
                }
            }
            Op::Deactivate(a) => {
                let a = self.id(*a);
                // Keep most of the network alive.
                if self.model.active_person(a) && self.model.inactive.len() < self.ids.len() / 4 {
                    let _ = net.deactivate(a).unwrap();
                    self.model.inactive.insert(a);
                }
            }
            Op::Join(a, gid) => {
                let a = self.id(*a);
                if self.model.active_person(a) {
                    let _ = net.join_group(a, g(*gid)).unwrap();
                    self.model.groups.entry(a).or_default().insert(g(*gid));
                }
            }
            Op::Contact(a, b) => {
                let (a, b) = (self.id(*a), self.id(*b));
                if self.model.active_person(a) {
                    let _ = net.add_contacts(a, &[email_of(b)]).unwrap();
                    self.model.contacts.entry(a).or_default().insert(b);
                }
            }
            Op::Update(a, p) => {
                let a = self.id(*a);
                if self.model.active_person(a) {
                    let discoverable = self.model.persons[&a].1;
                    let _ = net.update_member(a, |m| m.profile = p.clone()).unwrap();
                    self.model.persons.insert(a, (p.clone(), discoverable));
                }
            }
            Op::Remove(a, b) => {
                let (a, b) = (self.id(*a), self.id(*b));
                let model = &mut self.model;
                if model.edges.contains(&key(a, b))
                    && model.active_person(a)
                    && model.active_person(b)
                {
                    let _ = net.remove_connection(a, b).unwrap();
                    model.edges.remove(&key(a, b));
                }
            }
        }
    }
}

fn cases() -> u32 {
    support::cases(40)
}

fn arb_policy() -> impl Strategy<Value = DiscoveryPolicy> {
    (
        prop::collection::vec(0u32..=40, 6),
        prop_oneof![2 => Just(100_000u32), 1 => 1u32..40],
    )
        .prop_map(|(w, budget)| {
            let mut d = DiscoveryPolicy::default();
            d.mutual = w[0];
            d.current_company = w[1];
            d.past_company = w[2];
            d.school = w[3];
            d.group = w[4];
            d.contact = w[5];
            d.expansion_budget = budget;
            d
        })
}

fn arb_query() -> impl Strategy<Value = SearchQuery> {
    const KEYWORDS: [&str; 9] = [
        "rust", "lima", "engineer", "designer", "ana", "portugal", "mit", "go", "nobody",
    ];
    const PLACES: [&str; 4] = ["Lisbon", "portugal", "Berlin", "  "];
    const SCHOOL_Q: [&str; 3] = ["mit", "Técnico", "Oxford"];
    const TITLES: [&str; 3] = ["engineer", "rust engineer", "manager"];
    const SKILL_Q: [&str; 3] = ["RUST", "go", "sql"];
    let degrees = prop::sample::select(vec![
        DegreeFilter::ANY,
        DegreeFilter::FIRST,
        DegreeFilter::SECOND,
        DegreeFilter::THIRD_PLUS,
        DegreeFilter::FIRST | DegreeFilter::SECOND,
        DegreeFilter::FIRST | DegreeFilter::THIRD_PLUS,
        DegreeFilter::SECOND | DegreeFilter::THIRD_PLUS,
    ]);
    let some = |n: usize, max: usize| prop::collection::vec(0..n, 0..=max);
    (
        some(KEYWORDS.len(), 2),
        some(PLACES.len(), 2),
        some(COMPANIES.len(), 1),
        some(COMPANIES.len(), 1),
        some(SCHOOL_Q.len(), 1),
        some(TITLES.len(), 1),
        some(SKILL_Q.len(), 1),
        prop::collection::vec(1..4u64, 0..=1),
        degrees,
        // Most queries use one or two filters, so that results are not
        // always empty: a mask picks which filters apply.
        0u8..=255,
    )
        .prop_map(
            |(kw, places, cur, past, schools, titles, skills, groups, degrees, mask)| {
                let on = |bit: u8| mask & (1 << bit) != 0 && mask.count_ones() <= 3;
                let mut q = SearchQuery::keywords(
                    kw.iter()
                        .map(|&i| KEYWORDS[i])
                        .collect::<Vec<_>>()
                        .join(" "),
                )
                .degrees(degrees);
                if on(0) {
                    q.locations = places.iter().map(|&i| PLACES[i].to_string()).collect();
                }
                if on(1) {
                    q.current_companies = cur.iter().map(|&i| m(COMPANIES[i])).collect();
                }
                if on(2) {
                    q.past_companies = past.iter().map(|&i| m(COMPANIES[i])).collect();
                }
                if on(3) {
                    q.schools = schools.iter().map(|&i| SCHOOL_Q[i].to_string()).collect();
                }
                if on(4) {
                    q.titles = titles.iter().map(|&i| TITLES[i].to_string()).collect();
                }
                if on(5) {
                    q.skills = skills.iter().map(|&i| SKILL_Q[i].to_string()).collect();
                }
                if on(6) {
                    q.groups = groups.iter().map(|&i| g(i)).collect();
                }
                if mask & 0x80 != 0 && kw.len() > 1 {
                    q.text.clear();
                }
                q
            },
        )
}

/// The results strictly after `after`, as the model orders them.
fn after_cursor(all: &[Hit], after: Option<SearchCursor>) -> Vec<Hit> {
    all.iter()
        .filter(|h| {
            after
                .is_none_or(|c| sort_key(h) > sort_key(&(c.member, c.degree, c.mutual_connections)))
        })
        .cloned()
        .collect()
}

/// The page the model expects after `after`: the first `size` results, and
/// the cursor of the last when more follow.
fn model_page(all: &[Hit], after: Option<SearchCursor>, size: usize) -> (Vec<Hit>, Option<Hit>) {
    let rest = after_cursor(all, after);
    let page: Vec<Hit> = rest.iter().take(size).cloned().collect();
    let next = if rest.len() > size {
        page.last().cloned()
    } else {
        None
    };
    (page, next)
}

fn cursor_hit(c: &SearchCursor) -> Hit {
    (c.member, c.degree, c.mutual_connections)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn pymk_equals_the_naive_model_and_never_suggests_an_excluded_member(
        profiles in prop::collection::vec((arb_profile(), any::<bool>()), 6..16),
        ops in prop::collection::vec(arb_op(16), 10..70),
        discovery in arb_policy(),
        limit in 1u32..6,
        companies_first in any::<bool>(),
    ) {
        let policy = Policy::builder().discovery(discovery.clone()).build().unwrap();
        let mut sim = Sim::new(&profiles, policy, companies_first);
        for op in &ops {
            sim.apply(op);
        }
        let model = &sim.model;
        for v in model.active_persons() {
            let all = suggested(sim.w.net.people_you_may_know(v, whole()).unwrap());
            prop_assert_eq!(&all, &model.pymk(v, &discovery, PageSize::MAX as usize), "viewer {}", v);
            for (x, ..) in &all {
                prop_assert!(!model.excluded(v, *x), "{} suggested to {}", x, v);
                prop_assert!(!model.companies.contains(x));
            }
            let top = suggested(
                sim.w.net.people_you_may_know(v, PageSize::new(limit).unwrap()).unwrap(),
            );
            prop_assert_eq!(&top[..], &all[..all.len().min(limit as usize)]);
        }
    }

    #[test]
    fn search_equals_a_naive_filter_over_all_members(
        profiles in prop::collection::vec((arb_profile(), any::<bool>()), 6..16),
        ops in prop::collection::vec(arb_op(16), 10..60),
        queries in prop::collection::vec(arb_query(), 1..4),
        size in 1u32..5,
        companies_first in any::<bool>(),
    ) {
        let mut sim = Sim::new(&profiles, Policy::default(), companies_first);
        for op in &ops {
            sim.apply(op);
        }
        let model = &sim.model;
        for q in &queries {
            for v in model.active_persons() {
                let all = model.search(v, q);
                let mut listed = Vec::new();
                let mut after = None;
                loop {
                    let page = sim
                        .w
                        .net
                        .search(v, q, after, PageSize::new(size).unwrap())
                        .unwrap();
                    let (want, want_next) = model_page(&all, after, size as usize);
                    prop_assert_eq!(hits(&page), want, "viewer {} query {:?}", v, q);
                    prop_assert_eq!(page.next.as_ref().map(cursor_hit), want_next);
                    listed.extend(hits(&page));
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                // Every result exactly once, in order.
                prop_assert_eq!(&listed, &all);
            }
        }
    }

    #[test]
    fn search_pages_while_the_network_changes(
        profiles in prop::collection::vec((arb_profile(), any::<bool>()), 6..14),
        ops in prop::collection::vec(arb_op(14), 10..50),
        changes in prop::collection::vec(prop::collection::vec(arb_op(14), 0..3), 1..12),
        query in arb_query(),
        viewer in 0usize..14,
        size in 1u32..4,
    ) {
        let mut sim = Sim::new(&profiles, Policy::default(), true);
        for op in &ops {
            sim.apply(op);
        }
        let v = sim.id(viewer);
        prop_assume!(sim.model.active_person(v));
        let mut changes: VecDeque<Vec<Op>> = changes.into_iter().collect();
        let mut listed: Vec<Hit> = Vec::new();
        let mut snapshots: Vec<Vec<Hit>> = Vec::new();
        let mut after = None;
        loop {
            let all = sim.model.search(v, &query);
            let page = sim
                .w
                .net
                .search(v, &query, after, PageSize::new(size).unwrap())
                .unwrap();
            // Each page is exact for the network as it is now.
            let (want, want_next) = model_page(&all, after, size as usize);
            prop_assert_eq!(hits(&page), want);
            prop_assert_eq!(page.next.as_ref().map(cursor_hit), want_next);
            listed.extend(hits(&page));
            snapshots.push(all);
            let Some(next) = page.next else { break };
            after = Some(next);
            // The network changes before the next page (the viewer stays).
            for op in changes.pop_front().unwrap_or_default() {
                let touches_viewer = matches!(op, Op::Deactivate(a) if sim.id(a) == v);
                if !touches_viewer {
                    sim.apply(&op);
                }
            }
        }
        // Keys strictly increase along the pages: no member twice with one key.
        for pair in listed.windows(2) {
            prop_assert!(sort_key(&pair[0]) < sort_key(&pair[1]), "{:?}", pair);
        }
        // A member whose key never changed (and who always matched) appears
        // exactly once.
        let steady: BTreeSet<Hit> = snapshots[0]
            .iter()
            .filter(|h| snapshots.iter().all(|s| s.contains(h)))
            .cloned()
            .collect();
        for h in steady {
            let times = listed.iter().filter(|l| l.0 == h.0).count();
            prop_assert_eq!(times, 1, "{:?} in {:?}", h, listed);
        }
    }
}
