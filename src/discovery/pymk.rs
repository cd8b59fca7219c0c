//! People you may know: ranked candidates, each with its reasons.
//!
//! [`suggest`] is pure: it ranks from a [`View`] of the graph (so members
//! hidden from the viewer are never candidates, never counted as mutual
//! connections), the [`DiscoveryIndex`], the facts the shell loaded
//! ([`PymkFacts`]) and the [`DiscoveryPolicy`]; one question it cannot
//! answer from those (whether a pair record bars a candidate) is asked
//! through a callback, and only for the candidates about to be returned.
//!
//! # Candidates and score
//!
//! Candidates come from *sources*, each a list of members with a weight:
//! the connections of each of the viewer's connections (weight
//! [`mutual`](DiscoveryPolicy::mutual): one per mutual connection); the
//! current and past colleagues at each of the viewer's companies
//! ([`current_company`](DiscoveryPolicy::current_company) when both work
//! there now, [`past_company`](DiscoveryPolicy::past_company) otherwise);
//! the members of each of the viewer's schools and groups; and the owners of
//! the viewer's imported contacts. A candidate's score is the sum of the
//! weights of the sources it is in; the ranking is by score, highest first,
//! then by member id, lowest first.
//!
//! # Bounded work
//!
//! Sources are walked smallest first (by the number of members in them that
//! the viewer may see, the viewer included; ties by kind: connections,
//! companies, schools, groups; then by the connection's, company's or
//! group's id or the school's folded name; one company's lists in the order
//! (the viewer's past or current company, colleagues listed as past or
//! current there), past before current), and only as long as their
//! sizes add up to at most [`expansion_budget`](DiscoveryPolicy::expansion_budget):
//! the first source that would go past it, and every larger one, is left
//! out. So a viewer connected to hubs, or working at a company of a million,
//! costs at most the budget, and the left-out sources are exactly the ones
//! that say least about any single candidate (a mutual connection with
//! 20,000 connections). Contacts are always counted. For most viewers
//! nothing is left out; when something is, a score counts only the walked
//! sources, while the reasons shown are always the exact facts (the exact
//! mutual count, every shared company, school and group).
//!
//! # Exclusions
//!
//! Never suggested: the viewer, their connections, company pages, members
//! hidden from the viewer (blocks either way) or deactivated, and the
//! members in [`PymkFacts::excluded`] (the shell puts there the other party
//! of every live pending invitation, either way, and every dismissed
//! suggestion), and whoever the `admit` callback refuses (the shell refuses
//! pairs with a bar, see [`Network::people_you_may_know`](crate::Network::people_you_may_know)).

use super::{DiscoveryIndex, DiscoveryPolicy, index::Entry};
use crate::graph::index::{AHEAD, Counts, Marks, Slot, prefetch, with_counts, with_marks};
use crate::graph::{GraphError, View};
use crate::id::{GroupId, MemberId};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// Why a member is suggested. Listed in this order: mutual connections,
/// contacts, current companies, past companies, schools, groups (each kind
/// in id or name order).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Reason {
    /// This many connections in common (exact, as the viewer may see them).
    MutualConnections(usize),
    /// The candidate has a discoverable address in the viewer's imported
    /// contacts.
    InContacts,
    /// Both work at this company page now.
    CurrentCompany(MemberId),
    /// Both list this company page, at least one of them as a past company.
    PastCompany(MemberId),
    /// Both list this school (its folded name, see [`fold`](crate::discovery::fold)).
    School(String),
    /// Both belong to this group.
    Group(GroupId),
}

/// One suggested member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Suggestion {
    /// Who.
    pub member: MemberId,
    /// The score it was ranked by (see the [module docs](self)).
    pub score: u64,
    /// Why, never empty.
    pub reasons: Vec<Reason>,
}

/// Where a page of people you may know continues: the (score, member) of
/// the last suggestion of the previous page. The next page holds the
/// candidates ranked strictly after it (a lower score, or the same score
/// and a higher member id).
///
/// On the wire (and through serde) a cursor is an opaque string, written by
/// `Display` and read back by `FromStr`, which accepts exactly the strings
/// `Display` writes and never panics:
///
/// ```
/// use pronet::MemberId;
/// use pronet::discovery::PymkCursor;
/// let cursor = PymkCursor { score: 30, member: MemberId::new(7) };
/// assert_eq!(cursor.to_string().parse::<PymkCursor>(), Ok(cursor));
/// assert!("p.30.x".parse::<PymkCursor>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct PymkCursor {
    /// The last suggestion's score.
    pub score: u64,
    /// Its member id.
    pub member: MemberId,
}

impl PymkCursor {
    /// Whether a candidate of `score` and `member` ranks after this cursor.
    fn precedes(self, score: u64, member: MemberId) -> bool {
        (Reverse(score), member) > (Reverse(self.score), self.member)
    }
}

impl From<&Suggestion> for PymkCursor {
    fn from(s: &Suggestion) -> Self {
        Self {
            score: s.score,
            member: s.member,
        }
    }
}

impl std::fmt::Display for PymkCursor {
    /// `p.<score>.<member>`; opaque to clients.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p.{}.{}", self.score, self.member.get())
    }
}

crate::page::cursor_text!(PymkCursor, "people you may know", |s| {
    let (score, member) = s.strip_prefix("p.")?.split_once('.')?;
    Some(PymkCursor {
        score: score.parse().ok()?,
        member: MemberId::new(member.parse().ok()?),
    })
});

/// What the shell loads for a ranking, beyond the graph and the index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PymkFacts {
    /// Members never to suggest: the other parties of live pending
    /// invitations (either way) and dismissed suggestions.
    pub excluded: BTreeSet<MemberId>,
    /// Members who own a discoverable address in the viewer's imported
    /// contacts.
    pub contacts: BTreeSet<MemberId>,
}

/// A ranking and what it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ranked {
    /// The suggestions, best first.
    pub suggestions: Vec<Suggestion>,
    /// List entries walked (at most the expansion budget).
    pub walked: usize,
    /// Sources left out by the budget (0 when the ranking is exact).
    pub left_out: usize,
    /// Candidates scored.
    pub candidates: usize,
}

/// Which list a source walks, for the deterministic order of sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Connection(MemberId),
    /// (viewer's company, the viewer is current there, colleagues listed as
    /// current there)
    Company(MemberId, bool, bool),
    School,
    Group(GroupId),
}

struct Source<'a> {
    size: usize,
    kind: Kind,
    /// For schools: the folded name, which orders schools of one size.
    name: &'a str,
    weight: u32,
    list: List<'a>,
}

enum List<'a> {
    Slots(&'a [Slot]),
    Members(&'a [MemberId]),
}

/// Ranks people `viewer` may know and returns the best `limit` that
/// `admit` accepts, with their reasons.
///
/// `admit` is asked about candidates in rank order until `limit` are
/// accepted; it may fail, and its error is returned.
///
/// # Errors
/// [`GraphError::UnknownMember`] (as `E`) when the viewer is unknown,
/// deactivated or hidden; what `admit` fails with.
pub fn suggest<E: From<GraphError>>(
    view: &View<'_>,
    viewer: MemberId,
    index: &DiscoveryIndex,
    facts: &PymkFacts,
    policy: &DiscoveryPolicy,
    limit: usize,
    admit: impl FnMut(MemberId) -> Result<bool, E>,
) -> Result<Ranked, E> {
    suggest_after(view, viewer, index, facts, policy, None, limit, admit)
}

/// As [`suggest`], for the candidates ranked after `after` (see
/// [`PymkCursor`]): on an unchanged network, paging through returns every
/// candidate [`suggest`] would rank, each exactly once, in order. While
/// the network changes between pages, each page is exact for the network
/// as it is then, and the (score, member) keys along the pages strictly
/// increase in rank, so a candidate whose score stays the same never
/// appears twice; one whose score changes may move, as with any keyset
/// pagination.
///
/// # Errors
/// As [`suggest`].
#[allow(clippy::too_many_arguments)]
pub fn suggest_after<E: From<GraphError>>(
    view: &View<'_>,
    viewer: MemberId,
    index: &DiscoveryIndex,
    facts: &PymkFacts,
    policy: &DiscoveryPolicy,
    after: Option<PymkCursor>,
    limit: usize,
    mut admit: impl FnMut(MemberId) -> Result<bool, E>,
) -> Result<Ranked, E> {
    let sv = view.resolve(viewer)?;
    let me = index.entry(viewer);
    let hidden = hidden_members(view);
    let sources = sources(view, sv, index, me, policy, &hidden);
    // Which sources fit the budget: a prefix of them, smallest first.
    let budget = policy.expansion_budget as usize;
    let mut walked = 0usize;
    let mut fits = vec![false; sources.len()];
    for (source, fit) in sources.iter().zip(&mut fits) {
        if walked + source.size <= budget {
            walked += source.size;
            *fit = true;
        }
    }
    let left_out = fits.iter().filter(|f| !**f).count();
    // When every connection of the viewer was walked, a candidate's mutual
    // count is its score less the other walked sources, over the weight:
    // no need to intersect connection lists again (for the best candidates,
    // often hubs, that was a quarter of the time).
    let mutuals_walked = policy.mutual > 0
        && sources
            .iter()
            .zip(&fits)
            .all(|(s, &fit)| fit || !matches!(s.kind, Kind::Connection(_)));
    let slots = view.slot_count();
    with_marks(slots, |excluded| {
        excluded.mark(sv);
        for &x in view.neighbours(sv) {
            excluded.mark(x);
        }
        for &m in &facts.excluded {
            if let Some(s) = view.slot(m) {
                excluded.mark(s);
            }
        }
        with_counts(slots, |counts| {
            // Each candidate once, with the weight of its first source; the
            // rest of its score is in `counts`.
            let mut firsts: Vec<(Slot, u32)> = Vec::with_capacity(walked + facts.contacts.len());
            let mut add = |y: Slot, w: u32| {
                if counts.add(y, w) {
                    firsts.push((y, w));
                }
            };
            let walk: Vec<&Source<'_>> = sources
                .iter()
                .zip(&fits)
                .filter(|(_, fit)| **fit)
                .map(|(s, _)| s)
                .collect();
            for (i, source) in walk.iter().enumerate() {
                // Start loading a list a few sources ahead of the walk.
                if let Some(List::Slots(ahead)) = walk.get(i + AHEAD).map(|s| &s.list) {
                    prefetch(ahead);
                }
                match source.list {
                    List::Slots(list) => {
                        for &y in list {
                            if view.visible(y) {
                                add(y, source.weight);
                            }
                        }
                    }
                    List::Members(list) => {
                        for &m in list {
                            if let Some(y) = view.slot(m) {
                                add(y, source.weight);
                            }
                        }
                    }
                }
            }
            if policy.contact > 0 {
                for &m in &facts.contacts {
                    if let Some(y) = view.slot(m) {
                        add(y, policy.contact);
                    }
                }
            }
            // Ties go to the lower member id; when slots follow ids, the
            // slot stands in for the id until the few winners are known
            // (saving one id lookup per candidate).
            let by_slot = view.slots_follow_ids();
            let eligible = firsts
                .iter()
                .filter(|&&(s, _)| !excluded.is_marked(s))
                .filter(|&&(s, w)| {
                    after.is_none_or(|c| {
                        c.precedes(u64::from(w.saturating_add(counts.extra(s))), view.id(s))
                    })
                });
            let key = |&(s, w): &(Slot, u32)| {
                let tie = if by_slot {
                    u64::from(s)
                } else {
                    view.id(s).get()
                };
                (Reverse(w.saturating_add(counts.extra(s))), tie)
            };
            let candidates = eligible.clone().map(key);
            // The best few, kept in a bounded heap as the candidates go by;
            // all of them, sorted, only if `admit` refuses so many that the
            // few run out.
            let head = limit.saturating_add(limit / 2 + 8);
            let (best, total) = if after.is_none()
                && repeats_lead(counts, excluded, &sources, &fits, facts, policy, head)
            {
                // The best few are all counted more than once: the
                // candidates counted once are only counted, not ranked.
                let (best, _) = smallest(
                    eligible
                        .clone()
                        .filter(|&&(s, _)| counts.repeated(s))
                        .map(key),
                    head,
                );
                (best, eligible.clone().count())
            } else {
                smallest(candidates.clone(), head)
            };
            let mut queue = best.into_iter();
            let mut rest_loaded = total <= head;
            let mut suggestions = Vec::new();
            while suggestions.len() < limit {
                let (Reverse(score), tie) = match queue.next() {
                    Some(item) => item,
                    None if !rest_loaded => {
                        rest_loaded = true;
                        let mut all: Vec<_> = candidates.clone().collect();
                        all.sort_unstable();
                        queue = all.split_off(head.min(all.len())).into_iter();
                        continue;
                    }
                    None => break,
                };
                let member = if by_slot {
                    view.id(Slot::try_from(tie).unwrap_or(Slot::MAX))
                } else {
                    MemberId::new(tie)
                };
                if !admit(member)? {
                    continue;
                }
                let mutual = if mutuals_walked && score < u32::MAX {
                    let other = walked_profile_score(&sources, &fits, facts, policy, member);
                    (score.saturating_sub(other) / policy.mutual) as usize
                } else {
                    view.mutual_count(viewer, member)?
                };
                suggestions.push(Suggestion {
                    member,
                    score: u64::from(score),
                    reasons: reasons(member, mutual, index, me, facts),
                });
            }
            Ok(Ranked {
                suggestions,
                walked,
                left_out,
                candidates: total,
            })
        })
    })
}

/// Whether at least `head` candidates counted more than once (not
/// excluded) score more than any candidate counted once can: then those
/// counted once never reach the best `head`, and ranking them is wasted
/// work (most candidates are counted once). A candidate counted once scores
/// the weight of its one source, at most the largest walked weight; one
/// counted more scores at least the smallest walked weight plus its
/// further counts.
fn repeats_lead(
    counts: &Counts<'_>,
    excluded: &Marks,
    sources: &[Source<'_>],
    fits: &[bool],
    facts: &PymkFacts,
    policy: &DiscoveryPolicy,
    head: usize,
) -> bool {
    let contacts = (policy.contact > 0 && !facts.contacts.is_empty()).then_some(policy.contact);
    let weights = sources
        .iter()
        .zip(fits)
        .filter(|(_, fit)| **fit)
        .map(|(s, _)| s.weight)
        .chain(contacts);
    let (lowest, highest) = weights.fold((u32::MAX, 0), |(lo, hi), w| (lo.min(w), hi.max(w)));
    let mut leading = 0;
    for &s in counts.repeated_slots() {
        if !excluded.is_marked(s) && lowest.saturating_add(counts.extra(s)) > highest {
            leading += 1;
            if leading >= head {
                return true;
            }
        }
    }
    false
}

/// The `k` smallest items, sorted, and how many items there were: a
/// bounded heap, so that the many candidates are looked at once and never
/// stored.
fn smallest<T: Ord>(items: impl Iterator<Item = T>, k: usize) -> (Vec<T>, usize) {
    let mut heap = std::collections::BinaryHeap::with_capacity(k.saturating_add(1));
    let mut total = 0;
    for item in items {
        total += 1;
        if heap.len() < k {
            heap.push(item);
        } else if heap.peek().is_some_and(|top| item < *top) {
            heap.pop();
            heap.push(item);
        }
    }
    (heap.into_sorted_vec(), total)
}

/// The part of `member`'s score from the walked member lists (companies,
/// schools, groups) and from contacts; the rest came from mutual
/// connections.
fn walked_profile_score(
    sources: &[Source<'_>],
    fits: &[bool],
    facts: &PymkFacts,
    policy: &DiscoveryPolicy,
    member: MemberId,
) -> u32 {
    let mut score = 0u32;
    for (source, _) in sources.iter().zip(fits).filter(|(_, fit)| **fit) {
        if let List::Members(list) = source.list {
            if list.binary_search(&member).is_ok() {
                score = score.saturating_add(source.weight);
            }
        }
    }
    if policy.contact > 0 && facts.contacts.contains(&member) {
        score = score.saturating_add(policy.contact);
    }
    score
}

/// The members hidden from the viewer, in id order, to size postings as the
/// viewer sees them.
fn hidden_members(view: &View<'_>) -> Vec<MemberId> {
    let mut ids: Vec<MemberId> = view.hidden_slots().iter().map(|&s| view.id(s)).collect();
    ids.sort_unstable();
    ids
}

/// How many of `list` (sorted) are not in `hidden` (sorted).
fn visible_len(list: &[MemberId], hidden: &[MemberId]) -> usize {
    if hidden.is_empty() {
        return list.len();
    }
    let hid = hidden
        .iter()
        .filter(|h| list.binary_search(h).is_ok())
        .count();
    list.len() - hid
}

fn sources<'a>(
    view: &View<'a>,
    sv: Slot,
    index: &'a DiscoveryIndex,
    me: Option<&'a Entry>,
    policy: &DiscoveryPolicy,
    hidden: &[MemberId],
) -> Vec<Source<'a>> {
    let mut sources = Vec::new();
    if policy.mutual > 0 {
        for &x in view.neighbours(sv) {
            if view.visible(x) {
                let list = view.neighbours(x);
                sources.push(Source {
                    size: list.len() - view.hidden_among(list),
                    kind: Kind::Connection(view.id(x)),
                    name: "",
                    weight: policy.mutual,
                    list: List::Slots(list),
                });
            }
        }
    }
    let mut postings = |kind: Kind, name: &'a str, weight: u32, list: &'a [MemberId]| {
        if weight > 0 && !list.is_empty() {
            sources.push(Source {
                size: visible_len(list, hidden),
                kind,
                name,
                weight,
                list: List::Members(list),
            });
        }
    };
    if let Some(me) = me {
        for c in me.current().iter() {
            postings(
                Kind::Company(c, true, true),
                "",
                policy.current_company,
                index.current.get(c),
            );
            postings(
                Kind::Company(c, true, false),
                "",
                policy.past_company,
                index.past.get(c),
            );
        }
        for c in me.past().iter() {
            postings(
                Kind::Company(c, false, true),
                "",
                policy.past_company,
                index.current.get(c),
            );
            postings(
                Kind::Company(c, false, false),
                "",
                policy.past_company,
                index.past.get(c),
            );
        }
        for &s in me.schools() {
            postings(
                Kind::School,
                index.text(s),
                policy.school,
                index.schools.get(s),
            );
        }
        for g in me.groups().iter() {
            postings(Kind::Group(g), "", policy.group, index.groups.get(g));
        }
    }
    sources.sort_by(|a, b| (a.size, a.kind, a.name).cmp(&(b.size, b.kind, b.name)));
    sources
}

/// The exact reasons the viewer may know `member`, who has `mutual`
/// connections in common with them.
fn reasons(
    member: MemberId,
    mutual: usize,
    index: &DiscoveryIndex,
    me: Option<&Entry>,
    facts: &PymkFacts,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if mutual > 0 {
        reasons.push(Reason::MutualConnections(mutual));
    }
    if facts.contacts.contains(&member) {
        reasons.push(Reason::InContacts);
    }
    if let (Some(me), Some(them)) = (me, index.entry(member)) {
        let current: Vec<MemberId> = me
            .current()
            .iter()
            .filter(|&c| them.current().contains(c))
            .collect();
        let mut mine: Vec<MemberId> = me.current().iter().chain(me.past().iter()).collect();
        mine.sort_unstable();
        let past: Vec<MemberId> = mine
            .into_iter()
            .filter(|&c| them.current().contains(c) || them.past().contains(c))
            .filter(|c| current.binary_search(c).is_err())
            .collect();
        reasons.extend(current.into_iter().map(Reason::CurrentCompany));
        reasons.extend(past.into_iter().map(Reason::PastCompany));
        let mut schools: Vec<&str> = me
            .schools()
            .iter()
            .filter(|s| them.schools().binary_search(s).is_ok())
            .map(|&s| index.text(s))
            .collect();
        schools.sort_unstable();
        reasons.extend(schools.into_iter().map(|s| Reason::School(s.to_owned())));
        reasons.extend(
            me.groups()
                .iter()
                .filter(|&g| them.groups().contains(g))
                .map(Reason::Group),
        );
    }
    reasons
}

/// The ranking against a naive count, on graphs where many candidates share
/// several connections with the viewer (so that the candidates counted once
/// are left unranked) and, with profiles, where a candidate counted once can
/// outscore one counted twice (so that they must not be).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod naive {
    use super::*;
    use crate::graph::SocialGraph;
    use crate::member::{Kind as MemberKind, Member, Profile};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn world(seed: u64, profiles: bool, fanout: u64) -> (SocialGraph, DiscoveryIndex) {
        let mut state = seed | 1;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let n = 300u64;
        let mut edges = BTreeSet::new();
        // The viewer (0) has 40 connections, each with `fanout` of their
        // own: few, and few candidates are counted twice.
        for x in 1..=40 {
            edges.insert((0, x));
            for _ in 0..fanout {
                let y = 1 + next(199);
                if y != x {
                    edges.insert((x.min(y), x.max(y)));
                }
            }
        }
        let graph = SocialGraph::build(
            (0..n).map(|i| (MemberId::new(i), MemberKind::Person)),
            edges
                .iter()
                .map(|&(a, b)| (MemberId::new(a), MemberId::new(b))),
            usize::MAX,
        )
        .unwrap();
        // Half of the members the connections never reach (200 and up)
        // work at the viewer's company: counted once, they may outscore
        // candidates counted several times.
        let company = MemberId::new(10_000);
        let members: Vec<Member> = (0..n)
            .map(|i| {
                let mut p = Profile::named(format!("m{i}"));
                if profiles && (i == 0 || i >= 200 && next(2) == 0) {
                    p.current_companies = vec![company];
                }
                Member::person(MemberId::new(i), p)
            })
            .collect();
        (graph, DiscoveryIndex::build(&members))
    }

    /// Score by the module's rule, counted the plain way.
    fn expected(
        graph: &SocialGraph,
        index: &DiscoveryIndex,
        policy: &DiscoveryPolicy,
        limit: usize,
    ) -> Vec<(MemberId, u64)> {
        let viewer = MemberId::new(0);
        let view = graph.view([]);
        let sv = view.resolve(viewer).unwrap();
        let first: BTreeSet<Slot> = view.neighbours(sv).iter().copied().collect();
        let mut score: BTreeMap<MemberId, u64> = BTreeMap::new();
        for &x in &first {
            for &y in view.neighbours(x) {
                *score.entry(view.id(y)).or_default() += u64::from(policy.mutual);
            }
        }
        let mine: Vec<MemberId> = index.entry(viewer).unwrap().current().iter().collect();
        for c in mine {
            for &m in index.employees(c) {
                *score.entry(m).or_default() += u64::from(policy.current_company);
            }
        }
        let mut ranked: Vec<(MemberId, u64)> = score
            .into_iter()
            .filter(|&(m, s)| s > 0 && m != viewer && !first.contains(&view.slot(m).unwrap()))
            .collect();
        ranked.sort_by_key(|&(m, s)| (Reverse(s), m));
        ranked.truncate(limit);
        ranked
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn ranking_equals_a_naive_count(
            seed in any::<u64>(),
            profiles in any::<bool>(),
            company in prop::sample::select(vec![30u32, 200]),
            fanout in prop::sample::select(vec![1u64, 2, 3, 5, 30]),
            limit in 1usize..30,
        ) {
            let (graph, index) = world(seed, profiles, fanout);
            // At 200, a colleague counted once outscores most candidates
            // counted several times.
            let policy = DiscoveryPolicy {
                current_company: company,
                ..DiscoveryPolicy::default()
            };
            let view = graph.view([]);
            let ranked = suggest::<GraphError>(
                &view,
                MemberId::new(0),
                &index,
                &PymkFacts::default(),
                &policy,
                limit,
                |_| Ok(true),
            )
            .unwrap();
            prop_assert_eq!(ranked.left_out, 0);
            let got: Vec<(MemberId, u64)> =
                ranked.suggestions.iter().map(|s| (s.member, s.score)).collect();
            prop_assert_eq!(got, expected(&graph, &index, &policy, limit));
        }
    }
}
