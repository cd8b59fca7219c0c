//! The reads a service author reaches for: a member as the viewer may see
//! them, invitation counts and the unseen count, the block list, a sender's
//! allowance, relationships in one call, rows with display fields, people
//! you may know a page at a time, typeahead search.
//!
//! - Two worlds (B3, privacy): `b3_*` build one script twice, once with a
//!   member hidden from the viewer (a block) and once without that member
//!   at all, and compare every answer of the new reads (B3); `i7_*`
//!   compares the sender's answers across an ignore, a mark of seen, and
//!   nothing (I7).
//! - `b4_counts_equal_list_lengths_under_random_operations`: a property
//!   over random sends, answers, blocks, marks and time.
//! - The allowance (`q1_*`, `quota_*`) against the send rule's refusals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::discovery::SearchQuery;
use pronet::network::Pending;
use pronet::{
    Degree, InvitePreference, ListCursor, Member, MemberId, PageSize, Profile, Refusal,
    SendOutcome, TimeDelta,
};
use proptest::prelude::*;
use std::fmt::Debug;
use support::*;

fn dbg<T: Debug>(value: T) -> String {
    format!("{value:?}")
}

/// Every answer of the new reads that `viewer` gets about `ids`, as text.
fn answers(w: &World, viewer: MemberId, ids: &[MemberId]) -> Vec<String> {
    let net = &w.net;
    let mut out = vec![
        dbg(net.relationships(viewer, ids)),
        dbg(net.rows(viewer, ids.to_vec())),
        dbg(net.invitation_counts(viewer)),
        dbg(net.blocked(viewer, None, whole())),
        dbg(net.quota(viewer)),
        dbg(net.people_you_may_know_page(viewer, None, whole())),
        dbg(net.inbox(viewer, None, whole())),
        dbg(net.sent(viewer, None, whole())),
        dbg(net.search(viewer, &SearchQuery::new(), None, whole())),
        dbg(net.search(viewer, &SearchQuery::typeahead("p1"), None, whole())),
    ];
    for &x in ids {
        out.push(dbg(net.member(viewer, x)));
    }
    out
}

/// B3 (a blocked member sees the blocker as if never registered), through
/// every new read: A invites B and works with C; B marks the invitation
/// seen; then A blocks B. B's answers equal those of a world where A never
/// joined.
#[test]
fn b3_a_blocker_and_a_non_member_look_the_same_through_every_new_read() {
    let (a, b, c, d) = (m(1), m(2), m(3), m(4));
    let ids = [a, b, c, d, m(99)];
    let blocked = World::new();
    blocked.people([a, b, c, d]);
    blocked.connect_all([(a, c), (b, c), (c, d)]);
    let _invitation = blocked.invite(a, b);
    done(blocked.net.mark_seen(b, None));
    done(blocked.net.block(a, b));

    let never = World::new();
    never.people([b, c, d]);
    never.connect(b, c);
    never.connect(c, d);

    assert_eq!(blocked.net.member(b, a).unwrap(), None);
    assert_eq!(blocked.net.relationships(b, &[a]).unwrap(), vec![None]);
    let got = answers(&blocked, b, &ids);
    let want = answers(&never, b, &ids);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    // And the blocker, for their part, sees B only in their block list.
    assert_eq!(blocked.net.member(a, b).unwrap(), None);
    let list = blocked.net.blocked(a, None, whole()).unwrap();
    assert_eq!(list.items.iter().map(|x| x.member).collect::<Vec<_>>(), [b]);
    assert_eq!(list.items[0].display_name, "P2");
}

/// I7 (ignore is silent), and the unseen mark likewise: the sender's
/// answers after the recipient ignored the invitation, marked
/// it seen, or did nothing: every read of the sender's, including its
/// relationships (pending, sent), counts, sent list, allowance and the
/// invitation itself, answers alike; and marking seen commits no event.
#[test]
fn i7_ignored_and_seen_invitations_look_pending_to_their_sender() {
    let (a, b, c) = (m(1), m(2), m(3));
    let world = |answer: &str| {
        let w = World::new();
        w.people([a, b, c]);
        w.connect(b, c);
        let inv = w.invite(a, b);
        w.at(hours(1));
        let before = w
            .net
            .events_since(pronet::ChangeCursor::START, 1000)
            .unwrap();
        match answer {
            "ignore" => done(w.net.ignore(b, inv)),
            "seen" => {
                let marked = w.net.mark_seen(b, None).unwrap();
                assert!(marked.events.is_empty() && marked.mail.is_empty());
                let after = w
                    .net
                    .events_since(pronet::ChangeCursor::START, 1000)
                    .unwrap();
                assert_eq!(
                    before.events, after.events,
                    "marking seen publishes nothing"
                );
                assert_eq!(w.net.invitation_counts(b).unwrap().unseen, 0);
            }
            _ => assert_eq!(w.net.invitation_counts(b).unwrap().unseen, 1),
        }
        w.at(hours(2));
        (w, inv)
    };
    let (quiet, inv) = world("nothing");
    // The sender's view: the new reads, the invitation, and the events
    // for the sender (without their ids: positions differ by design).
    let view_of_a = |w: &World| {
        let mut v = answers(w, a, &[a, b, c]);
        v.push(dbg(w.net.invitation(a, inv)));
        let events = w
            .net
            .events_since(pronet::ChangeCursor::START, 1000)
            .unwrap();
        let for_a: Vec<_> = events
            .events
            .into_iter()
            .filter(|p| p.event.audience().includes(a))
            .map(|p| (p.at, p.event))
            .collect();
        v.push(dbg(for_a));
        v
    };
    let quiet_answers = view_of_a(&quiet);
    assert_eq!(
        quiet.net.relationships(a, &[b]).unwrap()[0].map(|r| r.pending),
        Some(Some(Pending::Sent(inv)))
    );
    for answer in ["ignore", "seen"] {
        let (w, inv2) = world(answer);
        assert_eq!(inv, inv2);
        assert_eq!(view_of_a(&w), quiet_answers, "{answer}");
    }
    // The recipient who ignored it no longer has it pending.
    let (ignored, _) = world("ignore");
    assert_eq!(
        ignored.net.relationships(b, &[a]).unwrap()[0].map(|r| r.pending),
        Some(None)
    );
}

#[test]
fn the_unseen_count_follows_the_mark_and_never_runs_ahead_of_the_inbox() {
    let w = World::new();
    let (a, b, c, r) = (m(1), m(2), m(3), m(4));
    w.people([a, b, c, r]);
    let first = w.invite(a, r);
    w.at(hours(1));
    let second = w.invite(b, r);
    let counts = w.net.invitation_counts(r).unwrap();
    assert_eq!((counts.inbox, counts.unseen), (2, 2));
    // Marking up to the older row leaves the newer one unseen.
    let inbox = w.net.inbox(r, None, whole()).unwrap();
    assert_eq!(inbox.items[1].invitation, first);
    done(w.net.mark_seen(r, Some(ListCursor::from(&inbox.items[1]))));
    assert_eq!(w.net.invitation_counts(r).unwrap().unseen, 1);
    // A cursor far in the future marks only what is in the inbox now.
    let far = ListCursor {
        sent_at: pronet::Timestamp::MAX,
        invitation: pronet::InvitationId::new(u64::MAX),
    };
    done(w.net.mark_seen(r, Some(far)));
    assert_eq!(w.net.invitation_counts(r).unwrap().unseen, 0);
    w.at(hours(2));
    let _third = w.invite(c, r);
    assert_eq!(w.net.invitation_counts(r).unwrap().unseen, 1);
    // The mark never moves back, and marking again changes nothing.
    let again = w
        .net
        .mark_seen(r, Some(ListCursor::from(&inbox.items[1])))
        .unwrap();
    assert!(again.events.is_empty());
    assert_eq!(w.net.invitation_counts(r).unwrap().unseen, 1);
    // A withdrawn invitation leaves both the inbox and its count.
    done(w.net.withdraw(b, second));
    let counts = w.net.invitation_counts(r).unwrap();
    assert_eq!((counts.inbox, counts.unseen), (2, 1));
    assert_eq!(
        refusal(w.net.mark_seen(m(99), None)),
        Refusal::UnknownMember(m(99))
    );
}

#[test]
fn a_member_view_carries_emails_for_its_owner_only() {
    let w = World::new();
    let [a, b, c] = w.persons([m(1), m(2), m(3)]);
    w.connect(a, b);
    w.connect(b, c);
    let own = w.net.member(a, a).unwrap().unwrap();
    assert_eq!(own.degree, Degree::Yourself);
    assert_eq!(own.emails.len(), 1);
    let other = w.net.member(a, c).unwrap().unwrap();
    assert_eq!(
        (other.degree, other.mutual_connections, other.emails.len()),
        (Degree::Second, 1, 0)
    );
    assert_eq!(other.profile.display_name, "P3");
    done(w.net.deactivate(c));
    assert_eq!(w.net.member(a, c).unwrap(), None);
    assert_eq!(refusal(w.net.member(c, a)), Refusal::UnknownMember(c));
}

/// Q1 and Q3 as the allowance reports them: the allowance comes from the
/// send rule: the instant it names is the
/// one the refused send names, and a send at it passes.
#[test]
fn q1_quota_names_the_instant_the_send_rule_refuses_until() {
    let w = World::with(quota_policy(2));
    let a = w.person(m(1));
    let others: Vec<MemberId> = (2..=4).map(|i| w.person(m(i))).collect();
    let start = w.net.quota(a).unwrap();
    assert_eq!((start.sends_remaining, start.send_limit), (2, 2));
    assert_eq!(start.next_send_at, Some(at(TimeDelta::zero())));
    w.invite(a, others[0]);
    w.at(hours(1));
    w.invite(a, others[1]);
    let spent = w.net.quota(a).unwrap();
    assert_eq!((spent.sends_remaining, spent.outstanding), (0, 2));
    let refused = refusal(
        w.net
            .send(pronet::SendRequest::new(a, others[2]).proof(&email_of(others[2]))),
    );
    assert_eq!(
        refused,
        Refusal::QuotaExhausted {
            retry_at: spent.next_send_at.unwrap()
        }
    );
    assert_eq!(spent.next_send_at, Some(at(days(30))));
    w.clock.set(spent.next_send_at.unwrap());
    assert_eq!(w.net.quota(a).unwrap().sends_remaining, 1);
    let sent = w
        .net
        .send(pronet::SendRequest::new(a, others[2]).proof(&email_of(others[2])))
        .unwrap();
    assert!(matches!(sent.outcome, SendOutcome::Sent(_)));
}

#[test]
fn quota_has_no_next_instant_while_open_invitations_are_at_the_cap() {
    let policy = pronet::Policy::builder()
        .max_outstanding(1)
        .build()
        .unwrap();
    let w = World::with(policy);
    let [a, b, c] = w.persons([m(1), m(2), m(3)]);
    let inv = w.invite(a, b);
    assert_eq!(w.net.quota(a).unwrap().next_send_at, None);
    assert_eq!(
        refusal(
            w.net
                .send(pronet::SendRequest::new(a, c).proof(&email_of(c)))
        ),
        Refusal::TooManyOutstanding { max: 1 }
    );
    done(w.net.accept(b, inv));
    assert!(w.net.quota(a).unwrap().next_send_at.is_some());
}

#[test]
fn relationships_answer_pending_either_way_and_held() {
    let w = World::new();
    let [a, b, c, h] = w.persons([m(1), m(2), m(3), m(4)]);
    let d = w.person_with(m(5), InvitePreference::ContactsOnly);
    w.connect(c, h);
    w.connect(a, h);
    let to_b = w.invite(a, b);
    let from_c = w.invite(c, a);
    let held = w.invite(a, d);
    let from_d_view = w.net.relationships(d, &[a]).unwrap();
    assert_eq!(from_d_view[0].unwrap().pending, Some(Pending::Held(held)));
    let got = w.net.relationships(a, &[b, c, d, h, a]).unwrap();
    let pending: Vec<_> = got.iter().map(|r| r.unwrap().pending).collect();
    assert_eq!(
        pending,
        [
            Some(Pending::Sent(to_b)),
            Some(Pending::Received(from_c)),
            Some(Pending::Sent(held)),
            None,
            None
        ]
    );
    assert_eq!(got[1].unwrap().mutual_connections, 1);
    assert_eq!(got[4].unwrap().degree, Degree::Yourself);
}

#[test]
fn rows_carry_display_fields_for_inbox_search_and_suggestions() {
    let w = World::new();
    let [a, b, c] = w.persons([m(1), m(2), m(3)]);
    let mut profile = Profile::named("Ruth Moreau");
    profile.headline = "Rust engineer".to_owned();
    profile.location = "Lyon".to_owned();
    let r = w.register(Member::person(m(4), profile).with_email(email_of(m(4)), true));
    w.connect(a, b);
    w.connect(b, r);
    w.invite(c, a);
    let inbox = w
        .net
        .rows(a, w.net.inbox(a, None, whole()).unwrap().items)
        .unwrap();
    assert_eq!(inbox[0].card.display_name, "P3");
    let hits = w
        .net
        .search(a, &SearchQuery::typeahead("ru"), None, whole())
        .unwrap();
    let rows = w.net.rows(a, hits.items).unwrap();
    assert_eq!(rows.len(), 1);
    let card = &rows[0].card;
    assert_eq!(
        (
            card.display_name.as_str(),
            card.headline.as_str(),
            card.location.as_str(),
            card.degree
        ),
        ("Ruth Moreau", "Rust engineer", "Lyon", Degree::Second)
    );
    let pymk = w
        .net
        .rows(a, w.net.people_you_may_know(a, whole()).unwrap())
        .unwrap();
    assert_eq!(pymk[0].card.id, r);
    // A row whose member is hidden since is left out.
    done(w.net.block(r, a));
    assert!(w.net.rows(a, vec![r]).unwrap().is_empty());
}

#[test]
fn typeahead_matches_prefixes_of_two_or_more_characters() {
    let w = World::new();
    let a = w.person(m(1));
    let named = |id: u64, name: &str, headline: &str| {
        let mut p = Profile::named(name);
        p.headline = headline.to_owned();
        w.register(Member::person(m(id), p))
    };
    let ruth = named(2, "Ruth Smith", "Designer");
    let rustacean = named(3, "Bo Chen", "Rust developer");
    let _other = named(4, "Cy Ray", "Writer");
    let hidden = named(5, "Rufus King", "Chef");
    done(w.net.block(hidden, a));
    let found = |q: SearchQuery| -> Vec<MemberId> {
        let page = w.net.search(a, &q, None, whole()).unwrap();
        page.items.iter().map(|h| h.member).collect()
    };
    assert_eq!(found(SearchQuery::typeahead("ru")), [ruth, rustacean]);
    assert_eq!(found(SearchQuery::typeahead("RUT")), [ruth]);
    assert_eq!(found(SearchQuery::typeahead("ruth sm")), [ruth]);
    assert_eq!(found(SearchQuery::typeahead("ru dev")), [rustacean]);
    // One character is no prefix; whole-word queries stay whole-word.
    assert!(found(SearchQuery::typeahead("r")).is_empty());
    assert!(found(SearchQuery::keywords("ru")).is_empty());
    assert!(found(SearchQuery::typeahead("xy")).is_empty());
}

#[test]
fn people_you_may_know_pages_return_every_suggestion_once_in_order() {
    let w = World::new();
    let hub = w.person(m(1));
    let viewer = w.person(m(2));
    w.connect(viewer, hub);
    let mut friends = Vec::new();
    for i in 3..=12 {
        let f = w.person(m(i));
        w.connect(f, hub);
        // Some candidates share more connections with the viewer.
        if i % 3 == 0 {
            let g = w.person(m(100 + i));
            w.connect(g, viewer);
            w.connect(g, f);
        }
        friends.push(f);
    }
    let all = w.net.people_you_may_know(viewer, whole()).unwrap();
    assert!(all.len() >= 10);
    for size in 1..=4 {
        let size = PageSize::new(size).unwrap();
        let mut got = Vec::new();
        let mut after = None;
        loop {
            let page = w.net.people_you_may_know_page(viewer, after, size).unwrap();
            assert!(page.items.len() <= size.get());
            got.extend(page.items);
            match page.next {
                Some(next) => {
                    // Cursors are strings on the wire: round-trip each.
                    after = Some(next.to_string().parse().unwrap());
                }
                None => break,
            }
        }
        assert_eq!(got, all);
    }
}

// ------------------------------------------------- counts under operations

#[derive(Clone, Debug)]
enum Op {
    Send(usize, usize),
    Accept(usize),
    Ignore(usize),
    Reject(usize),
    Withdraw(usize),
    Block(usize, usize),
    Unblock(usize, usize),
    MarkSeen(usize),
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0usize..5;
    prop_oneof![
        4 => (who.clone(), who.clone()).prop_map(|(a, b)| Op::Send(a, b)),
        1 => any::<usize>().prop_map(Op::Accept),
        1 => any::<usize>().prop_map(Op::Ignore),
        1 => any::<usize>().prop_map(Op::Reject),
        1 => any::<usize>().prop_map(Op::Withdraw),
        1 => (who.clone(), who.clone()).prop_map(|(a, b)| Op::Block(a, b)),
        1 => (who.clone(), who.clone()).prop_map(|(a, b)| Op::Unblock(a, b)),
        1 => who.prop_map(Op::MarkSeen),
        1 => (1i64..=30).prop_map(Op::Wait),
    ]
}

/// B4 (counts included): every count equals the length of its list, read
/// right after, whatever
/// happened before; the unseen count never exceeds the inbox and is 0 right
/// after marking everything seen.
fn counts_match_lists(w: &World, members: &[MemberId]) -> Result<(), TestCaseError> {
    for &x in members {
        let counts = w.net.invitation_counts(x).unwrap();
        let inbox = w.net.inbox(x, None, whole()).unwrap();
        let held = w.net.held(x, None, whole()).unwrap();
        let sent = w.net.sent(x, None, whole()).unwrap();
        prop_assert_eq!(counts.inbox, inbox.items.len());
        prop_assert_eq!(counts.held, held.items.len());
        prop_assert_eq!(counts.sent, sent.items.len());
        prop_assert!(counts.unseen <= counts.inbox);
        let pending = w.net.relationships(x, members).unwrap();
        let listed = pending
            .iter()
            .flatten()
            .filter(|r| r.pending.is_some())
            .count();
        prop_assert_eq!(listed, counts.inbox + counts.held + counts.sent);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(24)))]

    #[test]
    fn b4_counts_equal_list_lengths_under_random_operations(ops in prop::collection::vec(op(), 1..30)) {
        let w = World::new();
        let members: Vec<MemberId> = (1..=4).map(|i| w.person(m(i))).collect();
        let members: Vec<MemberId> = members
            .into_iter()
            .chain([w.person_with(m(5), InvitePreference::ContactsOnly)])
            .collect();
        let mut invitations = Vec::new();
        let mut clock = 0i64;
        for op in ops {
            let pick = |i: usize| invitations.get(i % invitations.len().max(1)).copied();
            match op {
                Op::Send(a, b) => {
                    let (a, b) = (members[a], members[b]);
                    if let Ok(c) = w.net.send(pronet::SendRequest::new(a, b).proof(&email_of(b))) {
                        if let SendOutcome::Sent(id) = c.outcome {
                            invitations.push(id);
                        }
                    }
                }
                Op::Accept(i) | Op::Ignore(i) | Op::Reject(i) | Op::Withdraw(i) => {
                    if let Some(id) = pick(i) {
                        for &x in &members {
                            let _ = match op {
                                Op::Accept(_) => w.net.accept(x, id),
                                Op::Ignore(_) => w.net.ignore(x, id),
                                Op::Reject(_) => w.net.reject(x, id),
                                _ => w.net.withdraw(x, id),
                            };
                        }
                    }
                }
                Op::Block(a, b) => {
                    let _ = w.net.block(members[a], members[b]);
                }
                Op::Unblock(a, b) => {
                    let _ = w.net.unblock(members[a], members[b]);
                }
                Op::MarkSeen(x) => {
                    done(w.net.mark_seen(members[x], None));
                    prop_assert_eq!(w.net.invitation_counts(members[x]).unwrap().unseen, 0);
                }
                Op::Wait(d) => {
                    clock += d;
                    w.at(days(clock));
                }
            }
            counts_match_lists(&w, &members)?;
        }
    }
}

/// While the network changes between pages, the (score, member) keys keep
/// increasing in rank: a candidate whose score stays the same appears
/// exactly once, and one that moved ahead of the cursor is not repeated.
#[test]
fn people_you_may_know_pages_never_repeat_while_the_network_changes() {
    let w = World::new();
    let [viewer, hub, x] = w.persons([m(1), m(2), m(3)]);
    w.connect(viewer, hub);
    let candidates: Vec<MemberId> = (10..15).map(|i| w.person(m(i))).collect();
    for &c in &candidates {
        w.connect(c, hub);
    }
    let two = PageSize::new(2).unwrap();
    let first = w.net.people_you_may_know_page(viewer, None, two).unwrap();
    let first_ids: Vec<MemberId> = first.items.iter().map(|s| s.member).collect();
    assert_eq!(first_ids, candidates[..2]);
    // Two candidates gain a mutual connection: one already shown, one not.
    w.connect_all([(viewer, x), (x, candidates[0]), (x, candidates[3])]);
    let mut shown = first_ids;
    let mut after = first.next;
    while let Some(cursor) = after {
        let page = w
            .net
            .people_you_may_know_page(viewer, Some(cursor), two)
            .unwrap();
        shown.extend(page.items.iter().map(|s| s.member));
        after = page.next;
    }
    let unique: std::collections::BTreeSet<MemberId> = shown.iter().copied().collect();
    assert_eq!(unique.len(), shown.len(), "repeated: {shown:?}");
    for unchanged in [candidates[1], candidates[2], candidates[4]] {
        assert!(
            unique.contains(&unchanged),
            "{unchanged} missing: {shown:?}"
        );
    }
}
