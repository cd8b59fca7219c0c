//! Blocks, reports, removal and per-viewer privacy: SPEC.md sections 2
//! (views are per viewer), 3.4 (a blocked member sees the blocker as if it
//! did not exist) and 7 (block, unblock, report, remove), and
//! RELIABILITY.md section B (B1 to B6), plus SPEC 1's deactivated members.
//!
//! Every test drives a [`Network`] over a [`MemoryStore`] and a
//! [`ManualClock`]. Time starts at [`T0`]; members are persons with one
//! discoverable address `m{id}@example.com`, and a send "with proof" passes
//! the recipient's address, which makes any sender eligible.
//!
//! - B1: `b1_block_leaves_nothing_between_the_two` (every state a pair can
//!   be in, either member blocking) and
//!   `b1_block_raced_against_accept_ends_as_one_serial_order` (real
//!   threads, each of the 4 inviter/blocker combinations
//!   `PRONET_RACE_REPS` times, 200 by default; it prints how often each
//!   serial order was observed and how many repetitions had a store
//!   conflict, i.e. really overlapped).
//! - B2: `b2_every_operation_is_refused_while_blocked_and_works_after_unblock`
//!   is the one table of every operation between the two (`OPS`), run from
//!   both sides, for an invitation created before the block in either
//!   direction; `b2_reblock_within_48_hours_is_refused_exactly` the wait at
//!   its boundary.
//! - B3: `b3_blocked_member_sees_the_blocker_as_never_registered`: two
//!   worlds built from one script, one where A blocked B and one where A was
//!   never registered; every answer B gets is compared.
//! - B4: `b4_every_read_query_hides_blocked_and_deactivated_members` walks
//!   `ReadQuery::ALL` with an exhaustive `match` and checks each query
//!   against a naive model of the graph as each viewer may see it.
//! - B5 (`b5_*`), B6 (`b6_*`), removal (`removal_*`, SPEC 7) and
//!   deactivated members (`deactivated_*`, SPEC 1) follow.
//!

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// B4's model, world and helpers serve only the `testing` test below.
#![cfg_attr(not(feature = "testing"), allow(dead_code, unused_imports))]

mod support;
use support::blocked_event;

use pronet::DegreeFilter;
use pronet::block::BlockList;
use pronet::graph::HowConnected;
use pronet::invitation::{Delivery, Invitation, Ledger, PairState, Status};
use pronet::record::{Key, Record, Versioned};
use pronet::standing::{Level, Signal, StandingPolicy};
use pronet::store::Role;
use pronet::{
    Audience, Committed, Degree, Error, Event, IgnoreReason, InvitationId, InvitePreference,
    ListCursor, Listed, ManualClock, Member, MemberId, MemoryStore, Network, Page, PairKey, Policy,
    Profile, Reason, Refusal, ReportReason, SearchQuery, Seen, SendOutcome, Store,
};
use pronet::{BlockOutcome, UnblockOutcome};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;
use support::{
    Conflicts, Net, T0, Watched, World, at, days, email_of, hours, pair, refusal, us, whole,
};

// ------------------------------------------------------------------ helpers

type Snapshot = Vec<(Key, Versioned<Record>)>;

/// The blocker in every two-member scenario.
const A: MemberId = MemberId::new(1);
/// The blocked member.
const B: MemberId = MemberId::new(2);
/// A member connected to both (their one mutual connection).
const C: MemberId = MemberId::new(3);
/// A hub connected to both.
const HUB: MemberId = MemberId::new(10);
/// An id that is never registered anywhere.
const NOBODY: MemberId = MemberId::new(99);
/// An invitation id that is never issued anywhere.
const NO_INVITATION: InvitationId = InvitationId::new(9_999);

fn dbg<T: Debug>(value: T) -> String {
    format!("{value:?}")
}

/// The other member of the A-B pair.
fn other_of(x: MemberId) -> MemberId {
    if x == A { B } else { A }
}

/// The new invitation of a send that must have created one.
fn new_invitation(result: Result<Committed<SendOutcome>, Error>) -> InvitationId {
    support::sent(result.unwrap().outcome)
}

/// The events of an operation that must have succeeded.
fn events<O: Debug>(result: Result<Committed<O>, Error>) -> Vec<Event> {
    result.unwrap().events
}

impl World {
    /// `from` invites `to` without proof (eligible through shared
    /// connections only).
    fn invite_unproven(&self, from: MemberId, to: MemberId) -> InvitationId {
        new_invitation(self.net.send(pronet::SendRequest::new(from, to)))
    }

    fn snap(&self) -> Snapshot {
        self.net.store().snapshot()
    }

    fn inbox(&self, m: MemberId) -> Vec<(MemberId, InvitationId)> {
        listed(self.net.inbox(m, None, whole()).unwrap())
    }

    fn sent(&self, m: MemberId) -> Vec<(MemberId, InvitationId)> {
        listed(self.net.sent(m, None, whole()).unwrap())
    }
}

fn listed(page: Page<Listed, ListCursor>) -> Vec<(MemberId, InvitationId)> {
    page.items.iter().map(|l| (l.other, l.invitation)).collect()
}

// ------------------------------------------------------- reading raw state

fn invitations(snap: &Snapshot) -> BTreeMap<InvitationId, Invitation> {
    snap.iter()
        .filter_map(|(_, v)| match &v.value {
            Record::Invitation(inv) => Some((inv.id, inv.clone())),
            _ => None,
        })
        .collect()
}

fn invitation(snap: &Snapshot, id: InvitationId) -> Invitation {
    invitations(snap).remove(&id).unwrap()
}

fn pair_state(snap: &Snapshot, a: MemberId, b: MemberId) -> Option<PairState> {
    let key = Key::Pair(pair(a, b));
    snap.iter().find_map(|(k, v)| match &v.value {
        Record::Pair(p) if *k == key => Some(p.clone()),
        _ => None,
    })
}

fn ledger(snap: &Snapshot, member: MemberId) -> Option<Ledger> {
    snap.iter().find_map(|(k, v)| match (k, &v.value) {
        (Key::Ledger(id), Record::Ledger(l)) if *id == member => Some(l.clone()),
        _ => None,
    })
}

/// The member's connection count in their ledger (0 without a ledger).
fn ledger_connections(snap: &Snapshot, member: MemberId) -> u32 {
    ledger(snap, member).map_or(0, |l| l.connections)
}

/// The reports counted in the member's ledger (0 without a ledger).
fn ledger_reports(snap: &Snapshot, member: MemberId) -> usize {
    ledger(snap, member).map_or(0, |l| l.reports.len())
}

/// The member's blocks both ways, assembled from the per-pair block
/// records.
fn block_list(snap: &Snapshot, member: MemberId) -> BlockList {
    let records = snap.iter().filter_map(|(_, v)| match &v.value {
        Record::Block(b) => Some(b),
        _ => None,
    });
    BlockList::from_blocks(member, records)
}

/// The keys whose record (or version) differs between two snapshots.
fn changed_keys(before: &Snapshot, after: &Snapshot) -> BTreeSet<Key> {
    let old: BTreeMap<&Key, &Versioned<Record>> = before.iter().map(|(k, v)| (k, v)).collect();
    let new: BTreeMap<&Key, &Versioned<Record>> = after.iter().map(|(k, v)| (k, v)).collect();
    old.keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| (*k).clone())
        .collect()
}

/// B1's end condition, read from the store, its secondary reads, the graph
/// index and the lists: no connection and no open invitation between `a`
/// and `b`.
fn assert_nothing_between(w: &World, a: MemberId, b: MemberId, ctx: &str) {
    nothing_between(&w.net, &w.snap(), a, b, ctx);
}

fn nothing_between<S: Store>(
    net: &Network<S, ManualClock>,
    snap: &Snapshot,
    a: MemberId,
    b: MemberId,
    ctx: &str,
) {
    let key = pair(a, b);
    for inv in invitations(snap).values() {
        if inv.pair() == Some(key) {
            assert!(!inv.is_open(), "{ctx}: open invitation {inv:?}");
        }
    }
    if let Some(p) = pair_state(snap, a, b) {
        assert_eq!(p.connected_since, None, "{ctx}: pair connected");
        assert_eq!(p.open, None, "{ctx}: pair names an open invitation");
    }
    assert!(!net.graph().are_connected(a, b), "{ctx}: graph connected");
    let stored = net.store().connections().unwrap();
    assert!(!stored.contains(&key), "{ctx}: store lists the connection");
    for (x, y) in [(a, b), (b, a)] {
        for role in [Role::Sender, Role::Recipient] {
            let open = net.store().open_invitations(x, role).unwrap();
            assert!(
                open.iter().all(|i| i.sender != y && i.recipient != y),
                "{ctx}: {x}'s open invitations as {role:?} name {y}: {open:?}"
            );
        }
        let lists = [
            net.inbox(x, None, whole()),
            net.held(x, None, whole()),
            net.sent(x, None, whole()),
        ];
        for list in lists {
            let list = listed(list.unwrap());
            assert!(list.iter().all(|(o, _)| *o != y), "{ctx}: {x} lists {y}");
        }
    }
}

/// `blocker`'s block of `blocked` stands, in the store and in the reads.
fn assert_block_stands(w: &World, blocker: MemberId, blocked: MemberId, ctx: &str) {
    block_stands(&w.net, &w.snap(), blocker, blocked, ctx);
}

fn block_stands<S: Store>(
    net: &Network<S, ManualClock>,
    snap: &Snapshot,
    blocker: MemberId,
    blocked: MemberId,
    ctx: &str,
) {
    assert!(
        block_list(snap, blocker).blocked.contains_key(&blocked),
        "{ctx}: block record"
    );
    assert!(
        block_list(snap, blocked).blocked_by.contains(&blocker),
        "{ctx}: blocked-by record"
    );
    assert_eq!(
        refusal(net.degree(blocker, blocked)),
        Refusal::UnknownMember(blocked),
        "{ctx}"
    );
    assert_eq!(
        refusal(net.degree(blocked, blocker)),
        Refusal::UnknownMember(blocker),
        "{ctx}"
    );
}

// -------------------------------------------------- operations and answers

/// What an operation or read answered, comparable across worlds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    /// Committed (possibly changing nothing): the outcome and the events.
    Done { outcome: String, events: Vec<Event> },
    /// A read's value.
    Read(String),
    /// A rule said no.
    Refused(Refusal),
    /// Anything else (store failure, contention).
    Failed(String),
}

impl Answer {
    fn done<O: Debug>(result: Result<Committed<O>, Error>) -> Self {
        match result {
            Ok(c) => Self::Done {
                outcome: dbg(c.outcome),
                events: c.events,
            },
            Err(e) => Self::failed(e),
        }
    }

    fn read<T: Debug>(result: Result<T, Error>) -> Self {
        match result {
            Ok(v) => Self::Read(dbg(v)),
            Err(e) => Self::failed(e),
        }
    }

    fn failed(e: Error) -> Self {
        match e {
            Error::Refused(r) => Self::Refused(r),
            other => Self::Failed(dbg(other)),
        }
    }

    /// The answer as `member` gets it: only the events addressed to them.
    fn for_member(self, member: MemberId) -> Self {
        match self {
            Self::Done { outcome, events } => Self::Done {
                outcome,
                events: events
                    .into_iter()
                    .filter(|e| e.audience().includes(member))
                    .collect(),
            },
            other => other,
        }
    }

    /// The answer with a missing member and a missing invitation renamed, so
    /// that a call naming `NOBODY` compares with one naming `member`.
    fn renamed(self, member: MemberId, inv: InvitationId) -> Self {
        match self {
            Self::Refused(Refusal::UnknownMember(m)) if m == NOBODY => {
                Self::Refused(Refusal::UnknownMember(member))
            }
            Self::Refused(Refusal::InvitationNotFound(i)) if i == NO_INVITATION => {
                Self::Refused(Refusal::InvitationNotFound(inv))
            }
            other => other,
        }
    }
}

/// Every operation one member can direct at another (B2's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// `send(actor, other)` with proof of the other's address.
    Send,
    Accept,
    Ignore(IgnoreReason),
    Reject,
    Withdraw,
    RemoveConnection,
    Report,
    Unblock,
    Block,
    Degree,
    Mutuals,
    MutualCount,
    HowConnected,
    /// `connections(actor, other)`: the other's connections.
    Connections,
    /// `invitation(actor, id)`.
    InvitationView,
}

const OPS: [Op; 17] = [
    Op::Send,
    Op::Accept,
    Op::Ignore(IgnoreReason::Ignored),
    Op::Ignore(IgnoreReason::DontKnow),
    Op::Ignore(IgnoreReason::Spam),
    Op::Reject,
    Op::Withdraw,
    Op::RemoveConnection,
    Op::Report,
    Op::Unblock,
    Op::Block,
    Op::Degree,
    Op::Mutuals,
    Op::MutualCount,
    Op::HowConnected,
    Op::Connections,
    Op::InvitationView,
];

/// Runs `op` by `actor` naming `other`, or the invitation `inv`.
fn perform(net: &Net, op: Op, actor: MemberId, other: MemberId, inv: InvitationId) -> Answer {
    match op {
        Op::Send => {
            Answer::done(net.send(pronet::SendRequest::new(actor, other).proof(&email_of(other))))
        }
        Op::Accept => Answer::done(net.accept(actor, inv)),
        Op::Ignore(reason) => Answer::done(net.ignore_because(actor, inv, reason)),
        Op::Reject => Answer::done(net.reject(actor, inv)),
        Op::Withdraw => Answer::done(net.withdraw(actor, inv)),
        Op::RemoveConnection => Answer::done(net.remove_connection(actor, other)),
        Op::Report => Answer::done(net.report(actor, other, ReportReason::Spam)),
        Op::Unblock => Answer::done(net.unblock(actor, other)),
        Op::Block => Answer::done(net.block(actor, other)),
        Op::Degree => Answer::read(net.degree(actor, other)),
        Op::Mutuals => Answer::read(net.mutuals(actor, other, None, whole())),
        Op::MutualCount => Answer::read(net.mutual_count(actor, other)),
        Op::HowConnected => Answer::read(net.how_connected(actor, other, whole())),
        Op::Connections => Answer::read(net.connections(actor, other, None, whole())),
        Op::InvitationView => Answer::read(
            net.invitation(actor, inv)
                .map(|v| (v.id, v.sender, v.recipient, v.seen)),
        ),
    }
}

/// What an operation must answer.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    /// Refused with exactly this, and nothing changed.
    Refused(Refusal),
    /// Answered Ok with no event, and nothing changed.
    Unchanged,
    /// Answered Ok with exactly these events.
    Events(Vec<Event>),
    /// A new invitation: `Sent`, with `InvitationSent` and
    /// `InvitationReceived`.
    NewInvitation,
    /// A read with this value (Debug-formatted).
    Read(String),
}

/// Whether `answer`, which moved the store from `before` to `after`, is
/// what `expect` asks; a description of the mismatch if not.
fn mismatch(
    expect: &Expect,
    answer: &Answer,
    before: &Snapshot,
    after: &Snapshot,
) -> Option<String> {
    let unchanged = before == after;
    let ok = match (expect, answer) {
        (Expect::Refused(want), Answer::Refused(got)) => want == got && unchanged,
        (Expect::Unchanged, Answer::Done { events, .. }) => events.is_empty() && unchanged,
        (Expect::Events(want), Answer::Done { events, .. }) => want == events,
        (Expect::NewInvitation, Answer::Done { outcome, events }) => {
            outcome.starts_with("Sent(")
                && matches!(events.first(), Some(Event::InvitationSent { .. }))
                && events
                    .iter()
                    .any(|e| matches!(e, Event::InvitationReceived { .. }))
        }
        (Expect::Read(want), Answer::Read(got)) => want == got && unchanged,
        _ => false,
    };
    (!ok).then(|| {
        format!(
            "expected {expect:?}, got {answer:?}; store changed: {:?}",
            changed_keys(before, after)
        )
    })
}

// ----------------------------------------------------------------------- B1

/// What lies between A and B when the block comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Between {
    /// Connected.
    Connected,
    /// A pending invitation in the recipient's inbox.
    Pending,
    /// A pending invitation held back by the recipient's setting.
    Held,
    /// An invitation the recipient ignored (open: the sender sees it
    /// pending).
    Ignored,
    /// An invitation dropped by an earlier "I don't know" (open: the sender
    /// sees it pending).
    Dropped,
}

/// A and B (both admitting only senders who know their address) share a
/// hub; `inviter` and the other are in state `between`. Answers the open
/// invitation, if any, and leaves the clock at day 100.
fn b1_world(between: Between, inviter: MemberId) -> (World, Option<InvitationId>) {
    let w = World::new();
    w.person_with(A, InvitePreference::EmailOrContacts);
    w.person_with(B, InvitePreference::EmailOrContacts);
    w.person(HUB);
    w.connect(HUB, A);
    w.connect(HUB, B);
    let invitee = other_of(inviter);
    let inv = match between {
        Between::Connected => {
            w.connect(inviter, invitee);
            None
        }
        Between::Pending => Some(w.invite(inviter, invitee)),
        Between::Held => Some(w.invite_unproven(inviter, invitee)),
        Between::Ignored => {
            let id = w.invite(inviter, invitee);
            let _ = w.net.ignore(invitee, id).unwrap();
            Some(id)
        }
        Between::Dropped => {
            let id = w.invite(inviter, invitee);
            let _ = w.net.ignore_unknown(invitee, id).unwrap();
            w.at(days(90));
            Some(w.invite(inviter, invitee))
        }
    };
    w.at(days(100));
    // The setup is what it claims to be.
    let snap = w.snap();
    if let Some(id) = inv {
        let stored = invitation(&snap, id);
        assert!(stored.is_open(), "{between:?}: {stored:?}");
        let want = match between {
            Between::Held => Delivery::Held,
            Between::Dropped => Delivery::Dropped,
            _ => Delivery::Inbox,
        };
        assert_eq!(stored.delivery, want, "{between:?}");
        assert_eq!(w.net.invitation(inviter, id).unwrap().seen, Seen::Pending);
    } else {
        assert!(w.net.graph().are_connected(A, B));
    }
    (w, inv)
}

/// B1: whatever lies between A and B (connection, pending, held, ignored or
/// dropped invitation, either one the inviter), a block by either of them
/// leaves no connection and no open invitation, seen from the store, its
/// secondary reads, the graph index and both members' lists; the invitation
/// is cancelled and hidden from both; the ledgers lose exactly the
/// connection; the only event is `MemberBlocked`, for the blocker only.
#[test]
fn b1_block_leaves_nothing_between_the_two() {
    let cases = [
        Between::Connected,
        Between::Pending,
        Between::Held,
        Between::Ignored,
        Between::Dropped,
    ];
    for between in cases {
        for inviter in [A, B] {
            for blocker in [A, B] {
                let ctx = format!("{between:?}, inviter {inviter}, blocker {blocker}");
                let (w, inv) = b1_world(between, inviter);
                let blocked = other_of(blocker);
                let before = w.snap();
                let connected_before = u32::from(between == Between::Connected);
                for m in [A, B] {
                    assert_eq!(
                        ledger_connections(&before, m),
                        1 + connected_before,
                        "{ctx}"
                    );
                }

                let got = events(w.net.block(blocker, blocked));

                assert_eq!(got, vec![blocked_event(blocker, blocked)], "{ctx}");
                assert_eq!(got[0].audience(), Audience::Member(blocker), "{ctx}");
                assert_nothing_between(&w, A, B, &ctx);
                assert_block_stands(&w, blocker, blocked, &ctx);
                let after = w.snap();
                for m in [A, B] {
                    // The hub connection stays; the pair's connection went.
                    assert_eq!(ledger_connections(&after, m), 1, "{ctx}: ledger of {m}");
                    assert!(w.net.graph().are_connected(m, HUB), "{ctx}");
                }
                assert_eq!(w.net.graph().connection_count(), 2, "{ctx}");
                if let Some(id) = inv {
                    let stored = invitation(&after, id);
                    // Cancelled for the sender; an ignored invitation keeps
                    // its recipient's answer (`Status::EndedIgnored`).
                    let cancelled = match between {
                        Between::Ignored => Status::EndedIgnored {
                            reason: IgnoreReason::Ignored,
                            sender_sees: Seen::Cancelled,
                        },
                        _ => Status::Cancelled,
                    };
                    assert_eq!(stored.status, cancelled, "{ctx}");
                    assert_eq!(stored.closed_at, Some(at(days(100))), "{ctx}");
                    for viewer in [A, B] {
                        assert_eq!(
                            refusal(w.net.invitation(viewer, id)),
                            Refusal::InvitationNotFound(id),
                            "{ctx}: {viewer} still sees the invitation"
                        );
                    }
                }
            }
        }
    }
}

/// One end of the block-vs-accept race: both answers, the whole store, and
/// the graph index's view of the pair.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RaceEnd {
    accept: Answer,
    block: Answer,
    snapshot: Snapshot,
    connected_in_graph: bool,
    graph_connections: usize,
}

/// A [`MemoryStore`] that counts the commits refused as conflicts: each is
/// one call that lost a race on a record and decided again.
type Counting = Watched<MemoryStore, Conflicts>;

type RaceNet = Network<Counting, ManualClock>;

/// A and B, and a pending invitation from `inviter` to the other.
fn race_world(inviter: MemberId) -> (RaceNet, InvitationId) {
    let net = Network::open(
        Watched::new(MemoryStore::new(), Conflicts::default()),
        ManualClock::new(T0),
        Policy::default(),
    )
    .unwrap();
    for m in [A, B] {
        let member = Member::person(m, Profile::named(format!("P{}", m.get())))
            .with_email(email_of(m), true);
        let _ = net.register(member).unwrap();
    }
    let invitee = other_of(inviter);
    let id = new_invitation(
        net.send(pronet::SendRequest::new(inviter, invitee).proof(&email_of(invitee))),
    );
    (net, id)
}

fn race_end(net: &RaceNet, accept: Answer, block: Answer) -> RaceEnd {
    RaceEnd {
        accept,
        block,
        snapshot: net.store().inner.snapshot(),
        connected_in_graph: net.graph().are_connected(A, B),
        graph_connections: net.graph().connection_count(),
    }
}

/// The end of one serial order: the block first, or the accept first.
fn race_serial(inviter: MemberId, blocker: MemberId, block_first: bool) -> RaceEnd {
    let (net, id) = race_world(inviter);
    let invitee = other_of(inviter);
    let blocked = other_of(blocker);
    let (accept, block) = if block_first {
        let block = Answer::done(net.block(blocker, blocked));
        (Answer::done(net.accept(invitee, id)), block)
    } else {
        let accept = Answer::done(net.accept(invitee, id));
        (accept, Answer::done(net.block(blocker, blocked)))
    };
    race_end(&net, accept, block)
}

/// Both calls at once, on two threads released by one barrier and a spin
/// (the barrier wakes waiters one by one; the spin lines them up). Answers
/// the end and how many commits lost a race.
fn race_once(inviter: MemberId, blocker: MemberId) -> (RaceEnd, usize) {
    let (net, id) = race_world(inviter);
    let invitee = other_of(inviter);
    let blocked = other_of(blocker);
    let barrier = Barrier::new(2);
    let ready = AtomicUsize::new(0);
    let go = || {
        barrier.wait();
        ready.fetch_add(1, Ordering::SeqCst);
        let mut spins = 0_u32;
        while ready.load(Ordering::SeqCst) < 2 {
            spins = spins.wrapping_add(1);
            if spins % 1024 == 0 {
                thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    };
    let (go, shared) = (&go, &net);
    let (accept, block) = thread::scope(|scope| {
        let accept = scope.spawn(move || {
            go();
            Answer::done(shared.accept(invitee, id))
        });
        let block = scope.spawn(move || {
            go();
            Answer::done(shared.block(blocker, blocked))
        });
        (accept.join().unwrap(), block.join().unwrap())
    });
    let end = race_end(&net, accept, block);
    let ctx = format!("race inviter {inviter} blocker {blocker}");
    nothing_between(&net, &end.snapshot, A, B, &ctx);
    block_stands(&net, &end.snapshot, blocker, blocked, &ctx);
    (end, net.store().watch.count())
}

/// Repetitions of each race configuration: 200, or `PRONET_RACE_REPS`.
fn reps() -> usize {
    support::env_number("PRONET_RACE_REPS", 200)
}

/// B1 and A3 (block vs accept): a block and the accept of a pending
/// invitation between the same two members, raced on real threads, in all
/// four combinations of inviter and blocker. Never blocked and connected,
/// never blocked with an open invitation (checked from every angle after
/// each repetition), and the end (both answers, the whole store with
/// versions, the graph index) equals exactly one serial order: block first
/// (the accept is refused `InvitationNotFound`, the invitation cancelled)
/// or accept first (a connection created, then removed by the block; the
/// ledgers back to 0).
#[test]
fn b1_block_raced_against_accept_ends_as_one_serial_order() {
    let started = Instant::now();
    let reps = reps();
    let mut tally = BTreeMap::new();
    let (mut conflicts, mut collided) = (0, 0);
    for inviter in [A, B] {
        for blocker in [A, B] {
            let invitee = other_of(inviter);
            let blocked = other_of(blocker);
            let block_first = race_serial(inviter, blocker, true);
            let accept_first = race_serial(inviter, blocker, false);
            // The two serial orders are what B1 says they are.
            let (_, id) = race_world(inviter);
            assert_eq!(
                block_first.accept,
                Answer::Refused(Refusal::InvitationNotFound(id))
            );
            let Answer::Done { events, .. } = &accept_first.accept else {
                panic!("accept first: {:?}", accept_first.accept)
            };
            assert!(events.contains(&Event::ConnectionCreated {
                a: inviter,
                b: invitee
            }));
            for end in [&block_first, &accept_first] {
                let Answer::Done { events, .. } = &end.block else {
                    panic!("block: {:?}", end.block)
                };
                assert_eq!(events, &vec![blocked_event(blocker, blocked)]);
                assert!(!end.connected_in_graph);
                assert_eq!(end.graph_connections, 0);
            }
            assert_eq!(
                invitation(&block_first.snapshot, id).status,
                Status::Cancelled
            );
            assert_eq!(
                invitation(&accept_first.snapshot, id).status,
                Status::Accepted
            );
            for m in [A, B] {
                assert_eq!(ledger_connections(&accept_first.snapshot, m), 0);
                assert!(ledger(&accept_first.snapshot, m).is_some());
            }
            assert_ne!(block_first, accept_first);

            let (mut first_block, mut first_accept) = (0, 0);
            for rep in 0..reps {
                let (end, lost) = race_once(inviter, blocker);
                conflicts += lost;
                collided += usize::from(lost > 0);
                if end == block_first {
                    first_block += 1;
                } else if end == accept_first {
                    first_accept += 1;
                } else {
                    panic!(
                        "inviter {inviter}, blocker {blocker}, repetition {rep}: \
                         no serial order ends like this:\n{end:#?}\n\
                         block first:\n{block_first:#?}\naccept first:\n{accept_first:#?}"
                    );
                }
            }
            tally.insert((inviter, blocker), (first_block, first_accept));
        }
    }
    eprintln!(
        "b1 block vs accept: {} repetitions per (inviter, blocker); \
         (block first, accept first) observed: {tally:?}; {collided} repetitions \
         had a store conflict ({conflicts} conflicting commits, each decided again); {:.2?}",
        reps,
        started.elapsed()
    );
}

// ----------------------------------------------------------------------- B2

/// A (the blocker), B, and C connected to both; an invitation from
/// `inviter` to the other sent at day 0; A's block of B at hour 1. The
/// clock is left at hour 2.
fn b2_world(inviter: MemberId) -> (World, InvitationId) {
    let w = World::new();
    w.people([A, B, C]);
    w.connect(C, A);
    w.connect(C, B);
    let inv = w.invite(inviter, other_of(inviter));
    w.at(hours(1));
    let _ = w.net.block(A, B).unwrap();
    w.at(hours(2));
    (w, inv)
}

/// `b2_world`, then A unblocks at hour 2; the clock is left at hour 3.
fn b2_unblocked_world(inviter: MemberId) -> (World, InvitationId) {
    let (w, inv) = b2_world(inviter);
    let got = events(w.net.unblock(A, B));
    assert_eq!(
        got,
        vec![Event::MemberUnblocked {
            blocker: A,
            unblocked: B
        }]
    );
    assert_eq!(got[0].audience(), Audience::Member(A));
    w.at(hours(3));
    (w, inv)
}

/// One row of B2's table.
struct Row {
    /// What the operation must answer (SPEC 7 and the rustdoc of
    /// `pronet::block`).
    expect: Expect,
    /// Whether the answer must equal the one for a member id that was never
    /// registered (and an invitation id never issued).
    like_missing: bool,
}

/// B2 while A's block of B stands: what `op` by `actor` (naming the other,
/// or the invitation `inv` created before the block) must answer. From B
/// (blocked) everything fails exactly as for a missing member, except that
/// B may block A back (documented on `block::block`). From A (the blocker)
/// a send is refused `YouBlocked`; A may report B (documented on
/// `block::report`) and unblock; blocking again is a repeat that answers
/// Ok and changes nothing (documented on `block::block`); everything else
/// fails as for a missing member.
fn while_blocked(op: Op, actor: MemberId, inv: InvitationId) -> Row {
    let other = other_of(actor);
    let missing = |r| Row {
        expect: Expect::Refused(r),
        like_missing: true,
    };
    let exception = |expect| Row {
        expect,
        like_missing: false,
    };
    let blocker = actor == A;
    match op {
        Op::Send if blocker => exception(Expect::Refused(Refusal::YouBlocked(B))),
        Op::Send => missing(Refusal::UnknownMember(A)),
        Op::Accept | Op::Ignore(_) | Op::Reject | Op::Withdraw | Op::InvitationView => {
            missing(Refusal::InvitationNotFound(inv))
        }
        Op::Report if blocker => exception(Expect::Events(vec![Event::MemberReported {
            reporter: A,
            target: B,
        }])),
        Op::Unblock if blocker => exception(Expect::Events(vec![Event::MemberUnblocked {
            blocker: A,
            unblocked: B,
        }])),
        Op::Block if blocker => exception(Expect::Unchanged),
        // Blocking back is refused exactly as for a missing member, and
        // records nothing.
        Op::Block => missing(Refusal::UnknownMember(A)),
        Op::RemoveConnection
        | Op::Report
        | Op::Unblock
        | Op::Degree
        | Op::Mutuals
        | Op::MutualCount
        | Op::HowConnected
        | Op::Connections => missing(Refusal::UnknownMember(other)),
    }
}

/// B2 after A unblocked at hour 2 (the call at hour 3): the normal rules.
/// The old invitation is cancelled for good: its recipient and its sender
/// get `NotPending { Cancelled }`, anyone else not found. The old inviter
/// is still on the re-send ladder (the cancelled invitation was an
/// unanswered attempt, so block and unblock cannot shorten the wait); the
/// other may invite at once. A may not block again within 48 hours of
/// unblocking; B may block.
fn after_unblock(op: Op, actor: MemberId, inviter: MemberId, inv: InvitationId) -> Expect {
    let other = other_of(actor);
    let invitee = other_of(inviter);
    let not_pending = Expect::Refused(Refusal::NotPending {
        seen: Seen::Cancelled,
    });
    match op {
        Op::Send if actor == inviter => Expect::Refused(Refusal::ResendTooSoon {
            retry_at: at(days(90)),
        }),
        Op::Send => Expect::NewInvitation,
        Op::Accept | Op::Ignore(_) | Op::Reject if actor == invitee => not_pending,
        Op::Withdraw if actor == inviter => not_pending,
        Op::Accept | Op::Ignore(_) | Op::Reject | Op::Withdraw => {
            Expect::Refused(Refusal::InvitationNotFound(inv))
        }
        Op::RemoveConnection | Op::Unblock => Expect::Unchanged,
        Op::Report => Expect::Events(vec![Event::MemberReported {
            reporter: actor,
            target: other,
        }]),
        Op::Block if actor == A => Expect::Refused(Refusal::ReblockTooSoon {
            retry_at: at(hours(2) + hours(48)),
        }),
        Op::Block => Expect::Events(vec![blocked_event(B, A)]),
        Op::Degree => Expect::Read(dbg(Degree::Second)),
        Op::Mutuals | Op::Connections => {
            Expect::Read(dbg(Page::<MemberId, MemberId>::new(vec![C], None)))
        }
        Op::MutualCount => Expect::Read(dbg(1_usize)),
        Op::HowConnected => Expect::Read(dbg(HowConnected::Second { via: vec![C] })),
        Op::InvitationView => Expect::Read(dbg((inv, inviter, invitee, Seen::Cancelled))),
    }
}

/// Runs B2's table while the block stands: every operation, by each side,
/// for an invitation from either side; each on a fresh network. With
/// `known_bugs`, only the rows marked as known divergences; without, all
/// the others. Answers the rows run and the failures.
fn b2_while_blocked() -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut rows = 0;
    for inviter in [A, B] {
        for op in OPS {
            for actor in [B, A] {
                let (w, inv) = b2_world(inviter);
                let row = while_blocked(op, actor, inv);
                rows += 1;
                let who = if actor == A { "blocker A" } else { "blocked B" };
                let ctx = format!("while blocked, {op:?} by {who}, invitation from {inviter}");
                let other = other_of(actor);
                let before = w.snap();
                let answer = perform(&w.net, op, actor, other, inv);
                let after = w.snap();
                if let Some(m) = mismatch(&row.expect, &answer, &before, &after) {
                    failures.push(format!("{ctx}: {m}"));
                }
                if row.like_missing {
                    let (w2, _) = b2_world(inviter);
                    let missing =
                        perform(&w2.net, op, actor, NOBODY, NO_INVITATION).renamed(other, inv);
                    if missing != answer {
                        failures.push(format!(
                            "{ctx}: answered {answer:?}, but {missing:?} for a missing member"
                        ));
                    }
                }
                // Whatever the call, nothing came back between the two, and
                // the block stands unless A lifted it.
                assert_nothing_between(&w, A, B, &ctx);
                if !(op == Op::Unblock && actor == A) {
                    assert_block_stands(&w, A, B, &ctx);
                }
            }
        }
    }
    (rows, failures)
}

/// B2 (SPEC 7: a block forbids every operation between the two in both
/// directions until the blocker unblocks). One table, `OPS`: send both ways,
/// accept / ignore (each reason) / reject / withdraw of an invitation
/// created before the block (from either side), remove connection, report,
/// unblock, block, and every read naming the other member (degree,
/// mutuals, mutual count, how connected, the other's connections, the
/// invitation). While the block stands, each row's answer is checked
/// exactly (refusals change nothing in the store), and from the blocked
/// member each refusal is also checked to equal the one for a member id
/// that was never registered. After A unblocks, nothing was restored (no
/// connection, no invitation, the old invitation `Cancelled` for both), and
/// every row answers by the normal rules.
#[test]
fn b2_every_operation_is_refused_while_blocked_and_works_after_unblock() {
    // While blocked.
    let (rows, failures) = b2_while_blocked();
    // 2 invitation directions x 17 operations x 2 sides.
    assert_eq!(rows, 2 * OPS.len() * 2);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // After unblock: nothing restored.
    for inviter in [A, B] {
        let (w, inv) = b2_unblocked_world(inviter);
        let ctx = format!("after unblock, invitation from {inviter}");
        assert_nothing_between(&w, A, B, &ctx);
        let snap = w.snap();
        assert!(block_list(&snap, A).blocked.is_empty(), "{ctx}");
        assert!(block_list(&snap, B).blocked_by.is_empty(), "{ctx}");
        assert_eq!(invitation(&snap, inv).status, Status::Cancelled, "{ctx}");
        for viewer in [A, B] {
            assert_eq!(w.net.invitation(viewer, inv).unwrap().seen, Seen::Cancelled);
            assert_eq!(ledger_connections(&snap, viewer), 1, "{ctx}: only C");
            assert!(
                w.inbox(viewer).is_empty() && w.sent(viewer).is_empty(),
                "{ctx}"
            );
        }
        assert_eq!(w.net.degree(A, B).unwrap(), Degree::Second, "{ctx}");
    }

    // After unblock: every operation by the normal rules.
    let mut failures = Vec::new();
    for inviter in [A, B] {
        for op in OPS {
            for actor in [B, A] {
                let (w, inv) = b2_unblocked_world(inviter);
                let ctx = format!("after unblock, {op:?} by {actor}, invitation from {inviter}");
                let expect = after_unblock(op, actor, inviter, inv);
                let before = w.snap();
                let answer = perform(&w.net, op, actor, other_of(actor), inv);
                if let Some(m) = mismatch(&expect, &answer, &before, &w.snap()) {
                    failures.push(format!("{ctx}: {m}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// B2 (SPEC 7, policy 48 hours): re-blocking within 48 hours of unblocking
/// is refused with `ReblockTooSoon { retry_at }`, `retry_at` being exactly
/// the unblock time plus 48 hours: 1 µs before it the block is refused and
/// nothing changes; at that instant it succeeds. The wait binds only the
/// member who unblocked: the other may block at once.
#[test]
fn b2_reblock_within_48_hours_is_refused_exactly() {
    let (w, _) = b2_world(A);
    w.at(hours(5));
    let _ = w.net.unblock(A, B).unwrap();
    let retry_at = at(hours(5) + hours(48));
    for offset in [us(0), us(1), hours(24), hours(48) - us(1)] {
        w.at(hours(5) + offset);
        let before = w.snap();
        assert_eq!(
            refusal(w.net.block(A, B)),
            Refusal::ReblockTooSoon { retry_at },
            "at unblock + {offset}"
        );
        assert_eq!(w.snap(), before);
    }
    w.at(hours(5) + hours(48));
    assert_eq!(events(w.net.block(A, B)), vec![blocked_event(A, B)]);
    assert_block_stands(&w, A, B, "blocked again");

    // The blocked member is not bound by the blocker's wait.
    let (w, _) = b2_world(A);
    w.at(hours(5));
    let _ = w.net.unblock(A, B).unwrap();
    w.at(hours(5) + us(1));
    assert_eq!(events(w.net.block(B, A)), vec![blocked_event(B, A)]);
    assert_block_stands(&w, B, A, "B blocked");
}

// ----------------------------------------------------------------------- B3

const B3_D: MemberId = MemberId::new(4);
const B3_E: MemberId = MemberId::new(5);
const B3_F: MemberId = MemberId::new(6);
const B3_G: MemberId = MemberId::new(7);
const B3_H: MemberId = MemberId::new(8);
/// Every member of the B3 script, A included, plus an id never registered.
const B3_ALL: [MemberId; 9] = [A, B, C, B3_D, B3_E, B3_F, B3_G, B3_H, NOBODY];

/// What A and B were to each other before A's block.
#[derive(Clone, Copy, Debug)]
enum Before {
    /// Connected (A invited, B accepted).
    Connected,
    /// A's invitation was pending in B's inbox.
    Pending,
}

/// One B3 world, built by one script. In world 1 (`with_a`) A is a member
/// who blocks B; in world 2 A was never registered, and every call of the
/// script made by or for A fails (each send still takes an invitation id,
/// as it does in world 1, so ids match). The graph, ids in registration
/// order:
///
/// ```text
/// world 1:  A-C A-D A-E A-G (and A-B before the block)
/// both:     B-C B-F C-F C-D G-H
/// ```
///
/// E is reachable from B only through A; G and H only through A; D through
/// C (and, in world 1, A). After the block (hour 1), at hour 2: D invites B
/// without proof (held: B admits only those who know the address), G
/// invites B with proof (inbox), B invites H. Answers the world, A's
/// invitation to B (id 1 in both worlds), G's invitation to B, and the
/// answers B got during the script after the block.
fn b3_world(with_a: bool, before: Before) -> (World, InvitationId, InvitationId, Vec<String>) {
    let w = World::new();
    for m in B3_ALL.into_iter().filter(|&m| m != NOBODY) {
        if m == A && !with_a {
            continue;
        }
        if m == B {
            w.person_with(m, InvitePreference::EmailOrContacts);
        } else {
            w.person(m);
        }
    }
    // The connections that do not involve A, first: B's own history is the
    // same in both worlds.
    for (x, y) in [(B, C), (B, B3_F), (C, B3_F), (C, B3_D), (B3_G, B3_H)] {
        w.connect(x, y);
    }
    // A's part: it fails in world 2.
    let a_to_b = w
        .net
        .send(pronet::SendRequest::new(A, B).proof(&email_of(B)));
    assert_eq!(a_to_b.is_ok(), with_a);
    // The sixth send of the script, in both worlds.
    let a_to_b = a_to_b.map_or(InvitationId::new(6), |c| support::sent(c.outcome));
    assert_eq!(a_to_b, InvitationId::new(6));
    if let Before::Connected = before {
        assert_eq!(w.net.accept(B, a_to_b).is_ok(), with_a);
    }
    for x in [C, B3_D, B3_E, B3_G] {
        if let Ok(sent) = w
            .net
            .send(pronet::SendRequest::new(A, x).proof(&email_of(x)))
        {
            let SendOutcome::Sent(id) = sent.outcome else {
                panic!("{sent:?}")
            };
            let _ = w.net.accept(x, id).unwrap();
        }
    }
    w.at(hours(1));
    assert_eq!(w.net.block(A, B).is_ok(), with_a);
    w.at(hours(2));
    let mut seen_by_b = Vec::new();
    let d_to_b = w.net.send(pronet::SendRequest::new(B3_D, B));
    seen_by_b.push(dbg(Answer::done(d_to_b).for_member(B)));
    let g_to_b = w
        .net
        .send(pronet::SendRequest::new(B3_G, B).proof(&email_of(B)));
    let g_id = match &g_to_b {
        Ok(Committed {
            outcome: SendOutcome::Sent(id),
            ..
        }) => *id,
        other => panic!("{other:?}"),
    };
    seen_by_b.push(dbg(Answer::done(g_to_b).for_member(B)));
    seen_by_b
        .push(dbg(Answer::done(w.net.send(
            pronet::SendRequest::new(B, B3_H).proof(&email_of(B3_H)),
        ))));
    (w, a_to_b, g_id, seen_by_b)
}

/// Everything B can read, each answer labelled: every graph query naming
/// each member (A, and an id never registered, included), queries on the
/// graph as B sees it about other members, B's lists and standing, and
/// every invitation id up to `max_id`.
fn b3_reads(w: &World, max_id: u64) -> Vec<(String, Answer)> {
    let net = &w.net;
    let mut out = Vec::new();
    let mut put = |label: String, answer: Answer| out.push((label, answer));
    for x in B3_ALL {
        put(format!("degree {x}"), Answer::read(net.degree(B, x)));
        put(
            format!("mutual_count {x}"),
            Answer::read(net.mutual_count(B, x)),
        );
        put(
            format!("mutuals {x}"),
            Answer::read(net.mutuals(B, x, None, whole())),
        );
        put(
            format!("how_connected {x}"),
            Answer::read(net.how_connected(B, x, whole())),
        );
        put(
            format!("connections {x}"),
            Answer::read(net.connections(B, x, None, whole())),
        );
        put(
            format!("neighbourhood degree {x}"),
            Answer::read(net.with_view(B, |v| Ok(v.neighbourhood(B)?.degree(x)?))),
        );
        for y in B3_ALL {
            put(
                format!("view degree {x} {y}"),
                Answer::read(net.with_view(B, |v| Ok(v.degree(x, y)?))),
            );
            put(
                format!("view mutual_count {x} {y}"),
                Answer::read(net.with_view(B, |v| Ok(v.mutual_count(x, y)?))),
            );
            put(
                format!("view how_connected {x} {y}"),
                Answer::read(net.with_view(B, |v| Ok(v.how_connected(x, y, whole())?))),
            );
        }
        put(
            format!("view second_degree_count {x}"),
            Answer::read(net.with_view(B, |v| Ok(v.second_degree_count(x)?))),
        );
    }
    put(
        "second_degree_count".into(),
        Answer::read(net.second_degree_count(B)),
    );
    put("inbox".into(), Answer::read(net.inbox(B, None, whole())));
    put("held".into(), Answer::read(net.held(B, None, whole())));
    put("sent".into(), Answer::read(net.sent(B, None, whole())));
    put("standing".into(), Answer::read(net.standing(B)));
    put(
        "people_you_may_know".into(),
        Answer::read(net.people_you_may_know(B, whole()).map(|list| {
            list.into_iter()
                .map(|s| (s.member, s.score, s.reasons))
                .collect::<Vec<_>>()
        })),
    );
    put(
        "search".into(),
        Answer::read(
            net.search(B, &SearchQuery::new(), None, whole())
                .map(|p| search_hits(&p.items)),
        ),
    );
    for id in 1..=max_id {
        let id = InvitationId::new(id);
        put(
            format!("invitation {id}"),
            Answer::read(
                net.invitation(B, id)
                    .map(|v| (v.id, v.sender, v.recipient, v.note, v.sent_at, v.seen)),
            ),
        );
    }
    out
}

/// Every operation B can direct at A, in order, each answer labelled.
fn b3_ops_naming_a(w: &World, a_to_b: InvitationId) -> Vec<(String, Answer)> {
    let net = &w.net;
    let mut out = vec![
        (
            "send with proof".to_owned(),
            Answer::done(net.send(pronet::SendRequest::new(B, A).proof(&email_of(A)))),
        ),
        (
            "send with note".to_owned(),
            Answer::done(net.send(pronet::SendRequest::new(B, A).note("Hello"))),
        ),
        (
            "remove".to_owned(),
            Answer::done(net.remove_connection(B, A)),
        ),
        ("unblock".to_owned(), Answer::done(net.unblock(B, A))),
        ("accept".to_owned(), Answer::done(net.accept(B, a_to_b))),
        ("reject".to_owned(), Answer::done(net.reject(B, a_to_b))),
        ("withdraw".to_owned(), Answer::done(net.withdraw(B, a_to_b))),
        ("dismiss".to_owned(), Answer::done(net.dismiss(B, A))),
        ("follow".to_owned(), Answer::done(net.follow(B, A))),
    ];
    for reason in [
        ReportReason::Spam,
        ReportReason::Fake,
        ReportReason::Harassment,
        ReportReason::Other,
    ] {
        out.push((
            format!("report {reason:?}"),
            Answer::done(net.report(B, A, reason)),
        ));
    }
    for reason in [
        IgnoreReason::Ignored,
        IgnoreReason::DontKnow,
        IgnoreReason::Spam,
    ] {
        out.push((
            format!("ignore {reason:?}"),
            Answer::done(net.ignore_because(B, a_to_b, reason)),
        ));
    }
    out
}

fn assert_same_answers(ctx: &str, world1: &[(String, Answer)], world2: &[(String, Answer)]) {
    assert_eq!(world1.len(), world2.len(), "{ctx}");
    let differ: Vec<String> = world1
        .iter()
        .zip(world2)
        .filter(|(one, two)| one != two)
        .map(|((label, one), (_, two))| {
            format!("{label}: blocked by A: {one:?}\n    A never existed: {two:?}")
        })
        .collect();
    assert!(
        differ.is_empty(),
        "{ctx}: B can tell the worlds apart:\n  {}",
        differ.join("\n  ")
    );
}

/// The answer of a read that must have succeeded.
fn read_value(answers: &[(String, Answer)], label: &str) -> String {
    match answers.iter().find(|(l, _)| l == label) {
        Some((_, Answer::Read(v))) => v.clone(),
        other => panic!("{label}: {other:?}"),
    }
}

/// B3 (SPEC 3.4: a blocked member sees the blocker exactly as if the
/// blocker did not exist), as two worlds built from one script
/// (`b3_world`): in world 1 A blocked B (after being connected to B, or
/// with an invitation pending to B); in world 2 A was never registered.
/// Every answer B gets is compared, in order, and must be identical: the
/// events B received after the block; every read (degree, mutuals and
/// mutual count, how connected, connections, the neighbourhood, graph
/// queries about others on B's view, second-degree count, inbox, held,
/// sent, standing, people you may know, search, every invitation id);
/// every operation naming A (sends, remove, unblock, report, accept /
/// reject / withdraw / ignore of A's invitation, dismiss, follow) with its
/// refusal or events; then again after B accepts G
/// (whose only other link is A) and removes C. The numbers are also checked
/// exactly in world 1: A's connections that B could reach only through A
/// count nowhere (E, G, H are out of B's network; D is second degree
/// through C only; on B's view C and D share nobody).
#[test]
fn b3_blocked_member_sees_the_blocker_as_never_registered() {
    for before in [Before::Connected, Before::Pending] {
        let ctx = format!("{before:?}");
        let (w1, a_to_b, g1, events1) = b3_world(true, before);
        let (w2, _, g2, events2) = b3_world(false, before);
        assert_eq!(g1, g2, "{ctx}: the script takes the same ids");
        assert_eq!(events1, events2, "{ctx}: B's events after the block");
        // The invitation ids issued so far, plus one never issued.
        let max_id = w1.net.store().next_invitation_id().unwrap().get();
        assert_eq!(
            max_id,
            w2.net.store().next_invitation_id().unwrap().get(),
            "{ctx}"
        );

        let reads1 = b3_reads(&w1, max_id + 1);
        assert_same_answers(&ctx, &reads1, &b3_reads(&w2, max_id + 1));
        // The numbers, exactly (world 2's graph is plain to see).
        assert_eq!(read_value(&reads1, "second_degree_count"), "1");
        assert_eq!(read_value(&reads1, &format!("degree {B3_D}")), "Second");
        for far in [B3_E, B3_G, B3_H] {
            assert_eq!(
                read_value(&reads1, &format!("degree {far}")),
                "OutOfNetwork",
                "{ctx}: {far} is reachable only through A"
            );
        }
        assert_eq!(read_value(&reads1, &format!("mutual_count {C}")), "1");
        assert_eq!(
            read_value(&reads1, &format!("view mutual_count {C} {B3_D}")),
            "0"
        );
        assert_eq!(
            read_value(&reads1, &format!("view second_degree_count {C}")),
            "0"
        );
        assert_eq!(
            read_value(&reads1, &format!("view degree {C} {B3_E}")),
            "OutOfNetwork"
        );
        // Without the per-viewer filter, world 1 would have said otherwise.
        assert_eq!(w1.net.graph().degree(B, B3_E).unwrap(), Degree::Third);
        assert_eq!(w1.net.graph().mutual_count(C, B3_D).unwrap(), 1);

        let ops1 = b3_ops_naming_a(&w1, a_to_b);
        assert_same_answers(&ctx, &ops1, &b3_ops_naming_a(&w2, a_to_b));
        assert!(
            ops1.iter().all(|(_, a)| matches!(
                a,
                Answer::Refused(Refusal::UnknownMember(m)) if *m == A
            ) || *a
                == Answer::Refused(Refusal::InvitationNotFound(a_to_b))),
            "{ctx}: {ops1:?}"
        );

        // B acts on the others; A's connections still count for nothing.
        let mut acts1 = Vec::new();
        let mut acts2 = Vec::new();
        for (w, acts) in [(&w1, &mut acts1), (&w2, &mut acts2)] {
            w.at(hours(3));
            acts.push(("accept G".to_owned(), Answer::done(w.net.accept(B, g1))));
            acts.extend(b3_reads(w, max_id + 3));
            acts.push((
                "send E".to_owned(),
                Answer::done(
                    w.net.send(
                        pronet::SendRequest::new(B, B3_E)
                            .note("Hi")
                            .proof(&email_of(B3_E)),
                    ),
                ),
            ));
            acts.push((
                "remove C".to_owned(),
                Answer::done(w.net.remove_connection(B, C)),
            ));
            acts.extend(b3_reads(w, max_id + 3));
            acts.extend(b3_ops_naming_a(w, a_to_b));
        }
        assert_same_answers(&ctx, &acts1, &acts2);
        // After accepting G: D (through C) and H (through G); E still out.
        let first = b3_reads(&w1, 0);
        assert_eq!(read_value(&first, "second_degree_count"), "2");
        assert_eq!(
            read_value(&first, &format!("how_connected {B3_D}")),
            dbg(HowConnected::Third {
                via: vec![(B3_F, C)]
            })
        );
        assert_eq!(
            read_value(&first, &format!("degree {B3_E}")),
            "OutOfNetwork"
        );
    }
}

/// B3, a pagination cursor naming the blocker. Reproduction: with A having
/// blocked B, `net.mutuals(B, C, Some(A), size)` and
/// `net.connections(B, C, Some(A), size)` answer a page, while in a world
/// where A was never registered they answer `UnknownCursor(A)`: B learns
/// that A exists. (`View::cursor_start` looks the cursor up among all
/// members of the graph, hidden and deactivated ones included.)
#[test]
fn b3_cursor_naming_the_blocker_is_no_oracle() {
    let (w1, ..) = b3_world(true, Before::Connected);
    let (w2, ..) = b3_world(false, Before::Connected);
    let cursors = |w: &World| {
        vec![
            (
                "mutuals after A".to_owned(),
                Answer::read(w.net.mutuals(B, C, Some(A), whole())),
            ),
            (
                "connections after A".to_owned(),
                Answer::read(w.net.connections(B, C, Some(A), whole())),
            ),
        ]
    };
    let world2 = cursors(&w2);
    assert_eq!(
        world2[0].1,
        Answer::Refused(Refusal::UnknownCursor(A)),
        "a never-registered cursor"
    );
    assert_same_answers("cursor", &cursors(&w1), &world2);
}

/// B3: with A having blocked B, B blocking A back answers exactly as
/// blocking a member never registered (`UnknownMember(A)`), and records
/// nothing in either world (B can block A once A unblocks).
#[test]
fn b3_blocking_back_is_no_oracle() {
    let (w1, ..) = b3_world(true, Before::Connected);
    let (w2, ..) = b3_world(false, Before::Connected);
    let answer = |w: &World| vec![("block A".to_owned(), Answer::done(w.net.block(B, A)))];
    let before = w1.snap();
    assert_same_answers("block back", &answer(&w1), &answer(&w2));
    assert_eq!(
        w1.snap(),
        before,
        "the refused block back changed the store"
    );
}

// ----------------------------------------------------------------------- B4

/// A naive model of the graph as each viewer may see it: the members, the
/// deactivated ones, the blocks, and the connections.
struct Model {
    /// Every registered member; slot order is id order (members are
    /// registered in id order).
    members: BTreeSet<MemberId>,
    inactive: BTreeSet<MemberId>,
    /// `(blocker, blocked)`.
    blocks: BTreeSet<(MemberId, MemberId)>,
    edges: BTreeSet<PairKey>,
}

impl Model {
    /// Members hidden from `viewer`: blocked either way, or deactivated.
    fn hidden(&self, viewer: MemberId) -> BTreeSet<MemberId> {
        support::partners(&self.blocks, viewer)
            .chain(self.inactive.iter().copied())
            .collect()
    }

    fn sees(&self, viewer: MemberId, x: MemberId) -> bool {
        self.members.contains(&x) && !self.hidden(viewer).contains(&x)
    }

    fn resolve(&self, viewer: MemberId, x: MemberId) -> Result<(), Refusal> {
        if self.sees(viewer, x) {
            Ok(())
        } else {
            Err(Refusal::UnknownMember(x))
        }
    }

    /// `x`'s connections as `viewer` sees them, in slot order.
    fn n(&self, viewer: MemberId, x: MemberId) -> Vec<MemberId> {
        self.members
            .iter()
            .copied()
            .filter(|&y| {
                self.sees(viewer, y) && PairKey::new(x, y).is_some_and(|k| self.edges.contains(&k))
            })
            .collect()
    }

    /// Distances from `x` on `viewer`'s graph, up to 3.
    fn distances(&self, viewer: MemberId, x: MemberId) -> BTreeMap<MemberId, usize> {
        support::distances(x, 3, |y| self.n(viewer, y))
    }

    fn degree(&self, viewer: MemberId, x: MemberId, y: MemberId) -> Result<Degree, Refusal> {
        self.resolve(viewer, x)?;
        self.resolve(viewer, y)?;
        Ok(support::degree_at(self.distances(viewer, x).get(&y)))
    }

    fn mutuals(
        &self,
        viewer: MemberId,
        x: MemberId,
        y: MemberId,
    ) -> Result<Vec<MemberId>, Refusal> {
        self.resolve(viewer, x)?;
        self.resolve(viewer, y)?;
        if x == y {
            return Ok(Vec::new());
        }
        let ny = self.n(viewer, y);
        Ok(self
            .n(viewer, x)
            .into_iter()
            .filter(|z| ny.contains(z))
            .collect())
    }

    /// People `viewer` may know in the B4 world with the default policy:
    /// 10 per mutual connection and 30 for working at Acme together, best
    /// first; never the viewer, a connection, a member hidden from them, or
    /// the other party of a pending invitation.
    fn suggestions(&self, viewer: MemberId) -> Vec<(MemberId, u64, Vec<Reason>)> {
        let staff: BTreeSet<MemberId> = B4_ACME_STAFF.into_iter().collect();
        let mine = self.n(viewer, viewer);
        let mut out: Vec<(MemberId, u64, Vec<Reason>)> = self
            .members
            .iter()
            .copied()
            .filter(|&x| {
                x != viewer
                    && self.sees(viewer, x)
                    && !mine.contains(&x)
                    && !B4_PENDING.contains(&(viewer, x))
                    && !B4_PENDING.contains(&(x, viewer))
            })
            .filter_map(|x| {
                let mutual = self.mutuals(viewer, viewer, x).ok()?.len();
                let colleagues = staff.contains(&viewer) && staff.contains(&x);
                let mut reasons = Vec::new();
                if mutual > 0 {
                    reasons.push(Reason::MutualConnections(mutual));
                }
                if colleagues {
                    reasons.push(Reason::CurrentCompany(B4_ACME));
                }
                let score = 10 * mutual as u64 + if colleagues { 30 } else { 0 };
                (score > 0).then_some((x, score, reasons))
            })
            .collect();
        out.sort_by_key(|&(x, score, _)| (std::cmp::Reverse(score), x));
        out
    }

    /// `viewer`'s search among `among` (every profile here matches the
    /// queries used, except the keyword query, which names P2 only): the
    /// visible ones but the viewer, by degree, mutual count and id.
    fn search(
        &self,
        viewer: MemberId,
        among: &BTreeSet<MemberId>,
        query: &SearchQuery,
    ) -> Vec<(MemberId, Degree, usize)> {
        let mut out: Vec<(MemberId, Degree, usize)> = among
            .iter()
            .copied()
            .filter(|&x| x != viewer && self.sees(viewer, x))
            .filter(|&x| query.text.is_empty() || x == B)
            .filter_map(|x| {
                let degree = self.degree(viewer, viewer, x).ok()?;
                let mutual = match degree {
                    Degree::First | Degree::Second => self.mutuals(viewer, viewer, x).ok()?.len(),
                    _ => 0,
                };
                query.degrees.admits(degree).then_some((x, degree, mutual))
            })
            .collect();
        let rank = |d: Degree| match d {
            Degree::Yourself => 0,
            Degree::First => 1,
            Degree::Second => 2,
            Degree::Third => 3,
            Degree::OutOfNetwork => 4,
        };
        out.sort_by_key(|&(x, d, mutual)| (rank(d), std::cmp::Reverse(mutual), x));
        out
    }

    fn second_degree_count(&self, viewer: MemberId, x: MemberId) -> Result<usize, Refusal> {
        self.resolve(viewer, x)?;
        Ok(self
            .distances(viewer, x)
            .values()
            .filter(|&&d| d == 2)
            .count())
    }

    fn connections(&self, viewer: MemberId, x: MemberId) -> Result<Vec<MemberId>, Refusal> {
        self.resolve(viewer, x)?;
        Ok(self.n(viewer, x))
    }

    fn how_connected(
        &self,
        viewer: MemberId,
        x: MemberId,
        y: MemberId,
    ) -> Result<HowConnected, Refusal> {
        Ok(match self.degree(viewer, x, y)? {
            Degree::Yourself => HowConnected::Yourself,
            Degree::First => HowConnected::First,
            Degree::OutOfNetwork => HowConnected::OutOfNetwork,
            Degree::Second => HowConnected::Second {
                via: self.mutuals(viewer, x, y)?,
            },
            Degree::Third => {
                let ny = self.n(viewer, y);
                let mut via = Vec::new();
                for p in self.n(viewer, x) {
                    for q in self.n(viewer, p) {
                        if ny.contains(&q) {
                            via.push((p, q));
                        }
                    }
                }
                HowConnected::Third { via }
            }
        })
    }
}

/// A result as the model says it, comparable with a network's answer.
fn modelled<T: Debug>(result: Result<T, Refusal>) -> Answer {
    match result {
        Ok(v) => Answer::Read(dbg(v)),
        Err(r) => Answer::Refused(r),
    }
}

/// Search results as compared: (member, degree, mutual count).
fn search_hits(items: &[pronet::SearchHit]) -> Vec<(MemberId, Degree, usize)> {
    items
        .iter()
        .map(|h| (h.member, h.degree, h.mutual_connections))
        .collect()
}

fn members_page(items: Vec<MemberId>) -> Page<MemberId, MemberId> {
    Page::new(items, None)
}

const B4_D: MemberId = MemberId::new(4);
const B4_E: MemberId = MemberId::new(5);
const B4_F: MemberId = MemberId::new(6);
const B4_G: MemberId = MemberId::new(7);
const B4_X: MemberId = MemberId::new(8);
const B4_Y: MemberId = MemberId::new(9);
/// A company page (not among the model's members: it has no connections).
const B4_ACME: MemberId = MemberId::new(50);
/// Those who work at Acme now.
const B4_ACME_STAFF: [MemberId; 6] = [A, B, C, B4_D, B4_E, B4_X];
/// The live pending invitations after the block, as (sender, recipient).
const B4_PENDING: [(MemberId, MemberId); 7] = [
    (B4_E, A),
    (A, B4_F),
    (B4_D, B4_F),
    (B4_F, B4_Y),
    (B4_X, B4_D),
    (B4_D, B4_G),
    (B4_E, B4_G),
];

/// The B4 network: a hub connected to A..G; A-C, B-C, C-D, A-D, D-E, B-E,
/// B-X (X reachable only through B), D-Y (Y only through D), F-G; A, B, C,
/// D, E and X work at the company page Acme. Pending invitations: B→A
/// (inbox), E→A (inbox), A→F (inbox), D→F (inbox), F→Y (inbox), X→D
/// (inbox), D→G and E→G (both held: G admits only those who know the
/// address). Then A blocks B (cancelling B→A) and D is deactivated.
/// Answers the world and the model of it.
fn b4_world() -> (World, Model, BTreeMap<&'static str, InvitationId>) {
    let w = World::new();
    let everyone = [A, B, C, B4_D, B4_E, B4_F, B4_G, B4_X, B4_Y, HUB];
    for m in everyone {
        if m == B4_G {
            w.person_with(m, InvitePreference::EmailOrContacts);
        } else {
            w.person(m);
        }
    }
    let _ = w
        .net
        .register(Member::company(B4_ACME, Profile::named("Acme")))
        .unwrap();
    for m in B4_ACME_STAFF {
        let mut profile = Profile::named(format!("P{}", m.get()));
        profile.current_companies = vec![B4_ACME];
        let _ = w
            .net
            .update_member(m, |p| p.profile = profile.clone())
            .unwrap();
    }
    let mut edges = BTreeSet::new();
    let hub_edges = [A, B, C, B4_D, B4_E, B4_F, B4_G].map(|m| (HUB, m));
    let others = [
        (A, C),
        (B, C),
        (C, B4_D),
        (A, B4_D),
        (B4_D, B4_E),
        (B, B4_E),
        (B, B4_X),
        (B4_D, B4_Y),
        (B4_F, B4_G),
    ];
    for (x, y) in hub_edges.into_iter().chain(others) {
        w.connect(x, y);
        edges.insert(pair(x, y));
    }
    let mut inv = BTreeMap::new();
    inv.insert("B→A", w.invite(B, A));
    inv.insert("E→A", w.invite(B4_E, A));
    inv.insert("A→F", w.invite(A, B4_F));
    inv.insert("D→F", w.invite(B4_D, B4_F));
    inv.insert("F→Y", w.invite(B4_F, B4_Y));
    inv.insert("X→D", w.invite(B4_X, B4_D));
    inv.insert("D→G", w.invite_unproven(B4_D, B4_G));
    inv.insert("E→G", w.invite_unproven(B4_E, B4_G));
    w.at(hours(1));
    let _ = w.net.block(A, B).unwrap();
    let _ = w.net.deactivate(B4_D).unwrap();
    let model = Model {
        members: everyone.into_iter().collect(),
        inactive: BTreeSet::from([B4_D]),
        blocks: BTreeSet::from([(A, B)]),
        edges,
    };
    (w, model, inv)
}

/// The B4 world's inbox, held or sent lists, as (list owner, other party,
/// invitation name).
#[cfg(feature = "testing")]
fn b4_list(query: pronet::ReadQuery) -> &'static [(MemberId, MemberId, &'static str)] {
    use pronet::ReadQuery;
    match query {
        ReadQuery::Inbox => &[(A, B4_E, "E→A"), (B4_F, A, "A→F"), (B4_Y, B4_F, "F→Y")],
        ReadQuery::Held => &[(B4_G, B4_E, "E→G")],
        _ => &[
            (A, B4_F, "A→F"),
            (B4_E, A, "E→A"),
            (B4_E, B4_G, "E→G"),
            (B4_F, B4_Y, "F→Y"),
        ],
    }
}

/// B4 (SPEC 2: views are per viewer) and SPEC 1 (a deactivated member
/// appears nowhere): every read query of the registry `ReadQuery::ALL`,
/// walked with an exhaustive `match` (a new query does not compile until it
/// is covered here), is asked by every member about every member (and an
/// id never registered), and compared with a naive model of the graph as
/// that viewer may see it: A and B hidden from each other, D (deactivated)
/// from everyone. So B never appears in A's answers nor A in B's, D in
/// nobody's, as a result, a mutual, a path or a count: degrees, mutual
/// lists and counts, second-degree counts, how-connected links, connection
/// lists, queries on a prepared view (third-party degrees, mutual counts,
/// neighbourhoods); inbox, held and sent lists leave out invitations from
/// and to them (and their mutual counts leave them out); an invitation
/// between a viewer and a member hidden from them is not found; people you
/// may know, search and a company's people leave them out as candidates,
/// results and mutual connections (scores and reasons included), and so
/// does people you may know read a page at a time; a member's profile is
/// absent exactly when the model hides them, with emails only in one's own;
/// invitation counts equal the modelled lists' lengths; the block list
/// holds only whom the viewer blocks; relationships and rows with display
/// fields name only visible members (pending invitations as the lists
/// show them). D's own reads, standing and quota included, fail as for an
/// unknown member.
#[cfg(feature = "testing")]
#[test]
fn b4_every_read_query_hides_blocked_and_deactivated_members() {
    use pronet::ReadQuery;
    let (w, model, inv) = b4_world();
    let net = &w.net;
    let ids: Vec<MemberId> = model.members.iter().copied().chain([NOBODY]).collect();
    let viewers: Vec<MemberId> = model.members.iter().copied().collect();
    let active: Vec<MemberId> = viewers
        .iter()
        .copied()
        .filter(|m| !model.inactive.contains(m))
        .collect();
    let failures = std::cell::RefCell::new(Vec::new());
    let check = |what: String, got: Answer, want: Answer| {
        if got != want {
            failures
                .borrow_mut()
                .push(format!("{what}: got {got:?}, want {want:?}"));
        }
    };
    // What a deactivated viewer gets from every query.
    let gone = |v: MemberId| Answer::Refused(Refusal::UnknownMember(v));
    // The model's answer for `viewer`, unless the viewer is deactivated.
    let for_viewer = |v: MemberId, want: Answer| {
        if model.inactive.contains(&v) {
            gone(v)
        } else {
            want
        }
    };
    let mut covered = BTreeSet::new();

    for query in ReadQuery::ALL {
        covered.insert(dbg(query));
        match query {
            ReadQuery::Degree => {
                for &v in &viewers {
                    for &x in &ids {
                        check(
                            format!("degree({v}, {x})"),
                            Answer::read(net.degree(v, x)),
                            for_viewer(v, modelled(model.degree(v, v, x))),
                        );
                    }
                }
            }
            ReadQuery::Mutuals => {
                for &v in &viewers {
                    for &x in &ids {
                        check(
                            format!("mutuals({v}, {x})"),
                            Answer::read(net.mutuals(v, x, None, whole())),
                            for_viewer(v, modelled(model.mutuals(v, v, x).map(members_page))),
                        );
                    }
                }
            }
            ReadQuery::MutualCount => {
                for &v in &viewers {
                    for &x in &ids {
                        let count = model.mutuals(v, v, x).map(|m| m.len());
                        check(
                            format!("mutual_count({v}, {x})"),
                            Answer::read(net.mutual_count(v, x)),
                            for_viewer(v, modelled(count)),
                        );
                    }
                }
            }
            ReadQuery::SecondDegreeCount => {
                for &v in &viewers {
                    check(
                        format!("second_degree_count({v})"),
                        Answer::read(net.second_degree_count(v)),
                        for_viewer(v, modelled(model.second_degree_count(v, v))),
                    );
                }
            }
            ReadQuery::HowConnected => {
                for &v in &viewers {
                    for &x in &ids {
                        check(
                            format!("how_connected({v}, {x})"),
                            Answer::read(net.how_connected(v, x, whole())),
                            for_viewer(v, modelled(model.how_connected(v, v, x))),
                        );
                    }
                }
            }
            ReadQuery::Connections => {
                for &v in &viewers {
                    for &x in &ids {
                        check(
                            format!("connections({v}, {x})"),
                            Answer::read(net.connections(v, x, None, whole())),
                            for_viewer(v, modelled(model.connections(v, x).map(members_page))),
                        );
                    }
                }
            }
            ReadQuery::WithView => {
                for &v in &viewers {
                    for &x in &ids {
                        check(
                            format!("view of {v}: neighbourhood degree of {x}"),
                            Answer::read(
                                net.with_view(v, |view| Ok(view.neighbourhood(v)?.degree(x)?)),
                            ),
                            for_viewer(v, modelled(model.degree(v, v, x))),
                        );
                        check(
                            format!("view of {v}: second_degree_count({x})"),
                            Answer::read(net.with_view(v, |view| Ok(view.second_degree_count(x)?))),
                            for_viewer(v, modelled(model.second_degree_count(v, x))),
                        );
                        check(
                            format!("view of {v}: connections({x})"),
                            Answer::read(
                                net.with_view(v, |view| Ok(view.connections(x, None, whole())?)),
                            ),
                            for_viewer(v, modelled(model.connections(v, x).map(members_page))),
                        );
                        for &y in &ids {
                            check(
                                format!("view of {v}: degree({x}, {y})"),
                                Answer::read(net.with_view(v, |view| Ok(view.degree(x, y)?))),
                                for_viewer(v, modelled(model.degree(v, x, y))),
                            );
                            check(
                                format!("view of {v}: mutuals({x}, {y})"),
                                Answer::read(
                                    net.with_view(v, |view| {
                                        Ok(view.mutuals(x, y, None, whole())?)
                                    }),
                                ),
                                for_viewer(v, modelled(model.mutuals(v, x, y).map(members_page))),
                            );
                            check(
                                format!("view of {v}: mutual_count({x}, {y})"),
                                Answer::read(net.with_view(v, |view| Ok(view.mutual_count(x, y)?))),
                                for_viewer(v, modelled(model.mutuals(v, x, y).map(|m| m.len()))),
                            );
                            check(
                                format!("view of {v}: how_connected({x}, {y})"),
                                Answer::read(
                                    net.with_view(v, |view| {
                                        Ok(view.how_connected(x, y, whole())?)
                                    }),
                                ),
                                for_viewer(v, modelled(model.how_connected(v, x, y))),
                            );
                        }
                    }
                }
            }
            ReadQuery::Inbox | ReadQuery::Held | ReadQuery::Sent => {
                // (list owner, other party, invitation) expected per list.
                let expected = b4_list(query);
                for &v in &viewers {
                    let page = match query {
                        ReadQuery::Inbox => net.inbox(v, None, whole()),
                        ReadQuery::Held => net.held(v, None, whole()),
                        _ => net.sent(v, None, whole()),
                    };
                    let got = page.map(|p| {
                        p.items
                            .iter()
                            .map(|l| (l.other, l.invitation, l.mutual_connections))
                            .collect::<BTreeSet<_>>()
                    });
                    let want: BTreeSet<_> = expected
                        .iter()
                        .filter(|(owner, ..)| *owner == v)
                        .map(|&(_, other, name)| {
                            let mutual = model.mutuals(v, v, other).unwrap().len();
                            (other, inv[name], mutual)
                        })
                        .collect();
                    check(
                        format!("{query:?}({v})"),
                        Answer::read(got),
                        for_viewer(v, Answer::Read(dbg(want))),
                    );
                }
            }
            ReadQuery::Invitation => {
                let snap = w.snap();
                for (&id, stored) in &invitations(&snap) {
                    for &v in &viewers {
                        let other = if v == stored.sender {
                            Some(stored.recipient)
                        } else if v == stored.recipient {
                            Some(stored.sender)
                        } else {
                            None
                        };
                        let visible =
                            !model.inactive.contains(&v) && other.is_some_and(|o| model.sees(v, o));
                        let got = net.invitation(v, id);
                        let ok = match &got {
                            Ok(view) => visible && view.id == id,
                            Err(Error::Refused(Refusal::InvitationNotFound(i))) => {
                                !visible && *i == id
                            }
                            Err(_) => false,
                        };
                        if !ok {
                            failures.borrow_mut().push(format!(
                                "invitation({v}, {id}) between {} and {}: {got:?}",
                                stored.sender, stored.recipient
                            ));
                        }
                    }
                }
            }
            ReadQuery::PeopleYouMayKnow => {
                // Default weights: 10 per mutual connection, 30 for working
                // at Acme together; no other reason exists in this world.
                for &v in &viewers {
                    let got = net.people_you_may_know(v, whole()).map(|list| {
                        list.into_iter()
                            .map(|s| (s.member, s.score, s.reasons))
                            .collect::<Vec<_>>()
                    });
                    check(
                        format!("people_you_may_know({v})"),
                        Answer::read(got),
                        for_viewer(v, Answer::Read(dbg(model.suggestions(v)))),
                    );
                }
            }
            ReadQuery::Search => {
                for &v in &viewers {
                    for (label, query) in [
                        ("everyone", SearchQuery::new()),
                        (
                            "near",
                            SearchQuery::new().degrees(DegreeFilter::FIRST | DegreeFilter::SECOND),
                        ),
                        ("named", SearchQuery::keywords("p2")),
                    ] {
                        let got = net
                            .search(v, &query, None, whole())
                            .map(|p| search_hits(&p.items));
                        check(
                            format!("search({v}, {label})"),
                            Answer::read(got),
                            for_viewer(
                                v,
                                Answer::Read(dbg(model.search(v, &model.members, &query))),
                            ),
                        );
                    }
                }
            }
            ReadQuery::CompanyPeople => {
                let staff: BTreeSet<MemberId> = B4_ACME_STAFF.into_iter().collect();
                for &v in &viewers {
                    let got = net
                        .company_people(v, B4_ACME, DegreeFilter::ANY, None, whole())
                        .map(|p| search_hits(&p.items));
                    check(
                        format!("company_people({v}, Acme)"),
                        Answer::read(got),
                        for_viewer(
                            v,
                            Answer::Read(dbg(model.search(v, &staff, &SearchQuery::new()))),
                        ),
                    );
                }
            }
            ReadQuery::Member => {
                for &v in &viewers {
                    for &x in &ids {
                        let got = net.member(v, x).map(|view| {
                            view.map(|m| {
                                assert!(m.emails.is_empty() || v == x, "member({v}, {x}): emails");
                                (m.id, m.degree, m.mutual_connections)
                            })
                        });
                        let want = (model.sees(v, x) && !model.inactive.contains(&v)).then(|| {
                            let mutual = if v == x {
                                0
                            } else {
                                model.mutuals(v, v, x).unwrap().len()
                            };
                            (x, model.degree(v, v, x).unwrap(), mutual)
                        });
                        check(
                            format!("member({v}, {x})"),
                            Answer::read(got),
                            for_viewer(v, Answer::Read(dbg(want))),
                        );
                    }
                }
            }
            ReadQuery::InvitationCounts => {
                for &v in &viewers {
                    let count = |q| b4_list(q).iter().filter(|(o, ..)| *o == v).count();
                    let inbox = count(ReadQuery::Inbox);
                    let want = (inbox, count(ReadQuery::Held), count(ReadQuery::Sent), inbox);
                    check(
                        format!("invitation_counts({v})"),
                        Answer::read(
                            net.invitation_counts(v)
                                .map(|c| (c.inbox, c.held, c.sent, c.unseen)),
                        ),
                        for_viewer(v, Answer::Read(dbg(want))),
                    );
                }
                check(
                    "invitation_counts(nobody)".into(),
                    Answer::read(net.invitation_counts(NOBODY)),
                    gone(NOBODY),
                );
            }
            ReadQuery::Blocked => {
                for &v in &viewers {
                    let want: Vec<MemberId> = model
                        .blocks
                        .iter()
                        .filter(|&&(by, target)| by == v && !model.inactive.contains(&target))
                        .map(|&(_, target)| target)
                        .collect();
                    check(
                        format!("blocked({v})"),
                        Answer::read(
                            net.blocked(v, None, whole())
                                .map(|p| p.items.iter().map(|b| b.member).collect::<Vec<_>>()),
                        ),
                        for_viewer(v, Answer::Read(dbg(want))),
                    );
                }
            }
            ReadQuery::Quota => {
                for &v in &viewers {
                    let sent = b4_list(ReadQuery::Sent)
                        .iter()
                        .filter(|(o, ..)| *o == v)
                        .count();
                    check(
                        format!("quota({v}).outstanding"),
                        Answer::read(net.quota(v).map(|q| q.outstanding)),
                        for_viewer(v, Answer::Read(dbg(sent))),
                    );
                }
                check(
                    "quota(nobody)".into(),
                    Answer::read(net.quota(NOBODY)),
                    gone(NOBODY),
                );
            }
            ReadQuery::Relationships => {
                use pronet::network::Pending;
                for &v in &viewers {
                    let pending = |x: MemberId| {
                        let find = |q| {
                            b4_list(q)
                                .iter()
                                .find(|&&(o, other, _)| o == v && other == x)
                                .map(|&(_, _, name)| inv[name])
                        };
                        find(ReadQuery::Inbox)
                            .map(Pending::Received)
                            .or(find(ReadQuery::Held).map(Pending::Held))
                            .or(find(ReadQuery::Sent).map(Pending::Sent))
                    };
                    let want: Vec<_> = ids
                        .iter()
                        .map(|&x| {
                            (model.sees(v, x) && !model.inactive.contains(&v)).then(|| {
                                let mutual = if v == x {
                                    0
                                } else {
                                    model.mutuals(v, v, x).unwrap().len()
                                };
                                (x, model.degree(v, v, x).unwrap(), mutual, pending(x))
                            })
                        })
                        .collect();
                    let got = net.relationships(v, &ids).map(|rs| {
                        rs.into_iter()
                            .map(|r| {
                                r.map(|r| (r.member, r.degree, r.mutual_connections, r.pending))
                            })
                            .collect::<Vec<_>>()
                    });
                    check(
                        format!("relationships({v})"),
                        Answer::read(got),
                        for_viewer(v, Answer::Read(dbg(want))),
                    );
                }
            }
            ReadQuery::Rows => {
                for &v in &viewers {
                    let want: Vec<_> = ids
                        .iter()
                        .filter(|&&x| model.sees(v, x) && !model.inactive.contains(&v))
                        .map(|&x| (x, model.degree(v, v, x).unwrap()))
                        .collect();
                    let got = net.rows(v, ids.clone()).map(|rows| {
                        rows.iter()
                            .map(|r| (r.item, r.card.degree))
                            .collect::<Vec<_>>()
                    });
                    check(
                        format!("rows({v})"),
                        Answer::read(got),
                        for_viewer(v, Answer::Read(dbg(want))),
                    );
                }
            }
            ReadQuery::PeopleYouMayKnowPage => {
                let one = pronet::PageSize::new(1).unwrap();
                for &v in &viewers {
                    let pages =
                        support::all_items(|after| net.people_you_may_know_page(v, after, one));
                    let answer = match pages {
                        Ok(items) => Answer::Read(dbg(items
                            .into_iter()
                            .map(|s| (s.member, s.score, s.reasons))
                            .collect::<Vec<_>>())),
                        Err(e) => Answer::failed(e),
                    };
                    check(
                        format!("people_you_may_know_page({v}), one at a time"),
                        answer,
                        for_viewer(v, Answer::Read(dbg(model.suggestions(v)))),
                    );
                }
            }
            ReadQuery::Standing => {
                for &v in &viewers {
                    let got = net.standing(v);
                    if model.inactive.contains(&v) {
                        check(format!("standing({v})"), Answer::read(got), gone(v));
                    } else if got.is_err() {
                        failures
                            .borrow_mut()
                            .push(format!("standing({v}): {got:?}"));
                    }
                }
                check(
                    "standing(nobody)".into(),
                    Answer::read(net.standing(NOBODY)),
                    gone(NOBODY),
                );
            }
        }
    }
    let failures = failures.into_inner();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(covered.len(), ReadQuery::ALL.len());

    // The model itself hides what it must (so that agreeing with it means
    // something): B is nowhere in A's network and X, reachable only
    // through B, is out of it; D is in nobody's.
    assert_eq!(net.second_degree_count(A).unwrap(), 3); // E, F, G
    assert_eq!(
        net.connections(A, HUB, None, whole()).unwrap().items,
        vec![A, C, B4_E, B4_F, B4_G]
    );
    assert_eq!(net.degree(A, B4_X).unwrap(), Degree::OutOfNetwork);
    // Discovery too: X, a colleague reachable only through B, is suggested
    // to A for Acme alone (no mutual connection through B); G through the
    // hub; B, D, E and F (blocked, deactivated, pending) nowhere.
    let suggested: Vec<(MemberId, u64, Vec<Reason>)> = net
        .people_you_may_know(A, whole())
        .unwrap()
        .into_iter()
        .map(|s| (s.member, s.score, s.reasons))
        .collect();
    assert_eq!(
        suggested,
        vec![
            (B4_X, 30, vec![Reason::CurrentCompany(B4_ACME)]),
            (B4_G, 10, vec![Reason::MutualConnections(1)]),
        ]
    );
    let acme = net
        .company_people(A, B4_ACME, DegreeFilter::ANY, None, whole())
        .unwrap();
    assert_eq!(
        search_hits(&acme.items),
        vec![
            (C, Degree::First, 1),
            (B4_E, Degree::Second, 1),
            (B4_X, Degree::OutOfNetwork, 0)
        ]
    );
    assert_eq!(net.degree(C, B4_X).unwrap(), Degree::Second);
    assert_eq!(net.degree(B, B4_Y).unwrap(), Degree::OutOfNetwork);
    assert_eq!(net.mutual_count(C, B4_E).unwrap(), 2); // the hub and B
    assert_eq!(
        net.with_view(A, |v| Ok(v.mutual_count(C, B4_E)?)).unwrap(),
        1
    );
    assert_eq!(
        net.inbox(A, None, whole()).unwrap().items[0].mutual_connections,
        1
    );
    assert!(active.iter().all(|&v| !model.n(v, v).contains(&B4_D)));
    // Without the filters, the graph index would have said otherwise.
    let graph = net.graph();
    assert_eq!(graph.degree(A, B4_X).unwrap(), Degree::Third);
    assert_eq!(graph.second_degree_count(A).unwrap(), 4);
}

// ----------------------------------------------------------------------- B5

/// B5 (SPEC 7: only the blocker can unblock): B's unblock of A is refused
/// exactly as for a member that does not exist, changes nothing, and A
/// stays hidden from B: every operation and read B directs at A still fails
/// as for a missing member, and A's send is still refused `YouBlocked`.
#[test]
fn b5_only_the_blocker_can_unblock() {
    let (w, inv) = b2_world(A);
    let before = w.snap();
    support::refusals! {
        w.net.unblock(B, A) => Refusal::UnknownMember(A),
        w.net.unblock(B, NOBODY) => Refusal::UnknownMember(NOBODY),
    }
    assert_eq!(w.snap(), before, "B's unblock changed the store");
    assert_block_stands(&w, A, B, "after B's unblock");
    for op in [
        Op::Send,
        Op::Report,
        Op::RemoveConnection,
        Op::Degree,
        Op::Mutuals,
        Op::MutualCount,
        Op::HowConnected,
        Op::Connections,
    ] {
        assert_eq!(
            perform(&w.net, op, B, A, inv),
            Answer::Refused(Refusal::UnknownMember(A)),
            "{op:?}"
        );
    }
    assert_eq!(
        perform(&w.net, Op::Send, A, B, inv),
        Answer::Refused(Refusal::YouBlocked(B))
    );
}

/// B5 (SPEC 7: the other member blocking back cannot undo the first
/// block) and B3: B's block back of A is refused as for a member that does
/// not exist and records nothing (an answer never refuses what it
/// committed); B's unblock likewise. A's block stands (the records, the
/// reads, B's sends still `UnknownMember(A)`, A's still `YouBlocked`); only
/// A's unblock opens the pair, answered `Unblocked`, after which B sees A
/// and may block them, answered `Blocked`, then `AlreadyBlocked`.
#[test]
fn b5_blocking_back_cannot_undo_the_first_block() {
    let (w, _) = b2_world(A);
    let before = w.snap();
    assert_eq!(refusal(w.net.block(B, A)), Refusal::UnknownMember(A));
    assert_eq!(w.snap(), before, "B's block back changed the store");
    w.at(hours(3));
    assert_eq!(refusal(w.net.unblock(B, A)), Refusal::UnknownMember(A));
    assert_eq!(w.snap(), before, "B's unblock changed the store");
    let snap = w.snap();
    let (a, b) = (block_list(&snap, A), block_list(&snap, B));
    assert_eq!(a.blocked.keys().copied().collect::<Vec<_>>(), vec![B]);
    assert!(a.blocked_by.is_empty());
    assert!(b.blocked.is_empty());
    assert_eq!(b.blocked_by.iter().copied().collect::<Vec<_>>(), vec![A]);
    assert_block_stands(&w, A, B, "A's block after B's unblock");
    assert_nothing_between(&w, A, B, "A's block after B's unblock");
    support::refusals! {
        w.net.send(pronet::SendRequest::new(B, A).proof(&email_of(A))) => Refusal::UnknownMember(A),
        w.net.send(pronet::SendRequest::new(A, B).proof(&email_of(B))) => Refusal::YouBlocked(B),
    }
    // A blocking again changes nothing, and says so.
    let again = w.net.block(A, B).unwrap();
    assert_eq!(again.outcome, BlockOutcome::AlreadyBlocked);
    assert!(again.events.is_empty());
    // Only A's unblock opens the pair.
    w.at(hours(4));
    let lifted = w.net.unblock(A, B).unwrap();
    assert_eq!(lifted.outcome, UnblockOutcome::Unblocked);
    assert_eq!(
        w.net.unblock(A, B).unwrap().outcome,
        UnblockOutcome::NotBlocked
    );
    assert_eq!(w.net.degree(A, B).unwrap(), Degree::Second);
    assert_eq!(w.net.degree(B, A).unwrap(), Degree::Second);
    // Now B sees A, and may block them.
    assert_eq!(w.net.block(B, A).unwrap().outcome, BlockOutcome::Blocked);
    assert_eq!(
        w.net.block(B, A).unwrap().outcome,
        BlockOutcome::AlreadyBlocked
    );
    assert_block_stands(&w, B, A, "B's block after A's unblock");
}

/// B5 (SPEC 7: unblocking restores nothing): whether A and B were connected
/// or had an invitation pending when A blocked, A's unblock changes only
/// the two block lists: no connection (store, graph, ledgers), no open
/// invitation (the cancelled one stays cancelled, seen as such by both),
/// and its only event is `MemberUnblocked`, for A only.
#[test]
fn b5_unblocking_restores_nothing() {
    for between in [Between::Connected, Between::Pending] {
        let ctx = format!("{between:?}");
        let w = World::new();
        w.people([A, B, C]);
        w.connect(C, A);
        w.connect(C, B);
        let inv = match between {
            Between::Connected => {
                w.connect(A, B);
                None
            }
            _ => Some(w.invite(B, A)),
        };
        w.at(hours(1));
        let _ = w.net.block(A, B).unwrap();
        let blocked = w.snap();
        w.at(hours(2));
        let got = events(w.net.unblock(A, B));
        assert_eq!(
            got,
            vec![Event::MemberUnblocked {
                blocker: A,
                unblocked: B
            }],
            "{ctx}"
        );
        assert!(!got[0].audience().includes(B), "{ctx}");
        let unblocked = w.snap();
        assert_eq!(
            changed_keys(&blocked, &unblocked),
            BTreeSet::from([Key::Block(A, B), Key::BlockTally(A)]),
            "{ctx}"
        );
        assert_nothing_between(&w, A, B, &ctx);
        for m in [A, B] {
            assert_eq!(ledger_connections(&unblocked, m), 1, "{ctx}: only C");
        }
        assert_eq!(w.net.degree(A, B).unwrap(), Degree::Second, "{ctx}");
        assert_eq!(w.net.mutual_count(A, B).unwrap(), 1, "{ctx}");
        if let Some(id) = inv {
            assert_eq!(invitation(&unblocked, id).status, Status::Cancelled);
            for viewer in [A, B] {
                assert_eq!(w.net.invitation(viewer, id).unwrap().seen, Seen::Cancelled);
            }
        }
    }
}

// ----------------------------------------------------------------------- B6

/// The default policy, with `threshold` reports tripping
/// `Signal::Reported` (3 by default), and a private signal floor as low.
/// Reports count from the next day (the evaluation epoch; T0 is midnight).
fn report_policy(threshold: u32) -> Policy {
    let mut standing = StandingPolicy::default();
    standing.reports = threshold;
    standing.private_signal_floor = threshold;
    Policy::builder().standing(standing).build().unwrap()
}

/// The reported member.
const TARGET: MemberId = MemberId::new(1);
const R1: MemberId = MemberId::new(2);
const R2: MemberId = MemberId::new(3);
const S1: MemberId = MemberId::new(4);
const S2: MemberId = MemberId::new(5);
const W: MemberId = MemberId::new(6);

/// Everything the target gets in a world where TARGET invited R1 and R2,
/// `spammer` (one of them) ignored the invitation as spam, and the stranger
/// `reporter` reported TARGET: every event addressed to TARGET, lists,
/// standing, invitation views, graph reads, and sends (at once and after 90
/// days) with their answers. Answers also the events of the two reports.
fn b6_target_view(spammer: MemberId, reporter: MemberId) -> (Vec<(String, Answer)>, Vec<Event>) {
    let w = World::with(report_policy(1));
    w.people([TARGET, R1, R2, S1, S2, W]);
    let to_r1 = w.invite(TARGET, R1);
    let to_r2 = w.invite(TARGET, R2);
    w.at(hours(1));
    let spam = if spammer == R1 { to_r1 } else { to_r2 };
    let mut report_events = events(w.net.report_invitation(spammer, spam));
    report_events.extend(events(w.net.report(
        reporter,
        TARGET,
        ReportReason::Harassment,
    )));
    assert_eq!(ledger_reports(&w.snap(), TARGET), 2);

    // The next evaluation epoch: the reports count.
    w.at(days(1) + hours(2));
    let net = &w.net;
    let mut out = Vec::new();
    let reads = |out: &mut Vec<(String, Answer)>| {
        out.push((
            "inbox".into(),
            Answer::read(net.inbox(TARGET, None, whole())),
        ));
        out.push(("held".into(), Answer::read(net.held(TARGET, None, whole()))));
        out.push(("sent".into(), Answer::read(net.sent(TARGET, None, whole()))));
        out.push(("standing".into(), Answer::read(net.standing(TARGET))));
        out.push((
            "second degree".into(),
            Answer::read(net.second_degree_count(TARGET)),
        ));
        out.push((
            "connections".into(),
            Answer::read(net.connections(TARGET, TARGET, None, whole())),
        ));
        for id in 1..=6 {
            let id = InvitationId::new(id);
            out.push((
                format!("invitation {id}"),
                Answer::read(net.invitation(TARGET, id)),
            ));
        }
    };
    reads(&mut out);
    let send = |to: MemberId| {
        Answer::done(net.send(pronet::SendRequest::new(TARGET, to).proof(&email_of(to))))
    };
    out.push(("send W".into(), send(W).for_member(TARGET)));
    out.push(("send R1".into(), send(R1).for_member(TARGET)));
    out.push(("send R2".into(), send(R2).for_member(TARGET)));
    w.at(days(90));
    out.push(("send R1 later".into(), send(R1).for_member(TARGET)));
    out.push(("send R2 later".into(), send(R2).for_member(TARGET)));
    reads(&mut out);
    (out, report_events)
}

/// B6 (SPEC 7: the reported member is never told who reported), as two
/// worlds: in one R1 reports TARGET's invitation as spam and the stranger
/// S1 reports TARGET; in the other R2 and S2 do. Everything TARGET gets
/// (events addressed to them, including the standing change their next
/// send brings; lists; standing, whose only reason is
/// `Reported`, with no count; invitation views; sends and their refusals;
/// reads) is identical in both worlds, and none of it names a stranger who
/// reported. The report events are for the reporters only.
#[test]
fn b6_reporter_identity_never_reaches_the_reported_member() {
    let (one, events_one) = b6_target_view(R1, S1);
    let (two, events_two) = b6_target_view(R2, S2);
    for (spammer, reporter, events) in [(R1, S1, &events_one), (R2, S2, &events_two)] {
        assert!(events.contains(&Event::MemberReported {
            reporter: spammer,
            target: TARGET
        }));
        assert!(events.contains(&Event::MemberReported {
            reporter,
            target: TARGET
        }));
        assert!(
            events.iter().all(|e| !e.audience().includes(TARGET)),
            "{events:?}"
        );
    }
    assert_eq!(one.len(), two.len());
    for ((label, x), (_, y)) in one.iter().zip(&two) {
        assert_eq!(x, y, "{label}: TARGET can tell who reported");
    }
    let everything = dbg(&one);
    for stranger in [S1, S2] {
        assert!(!everything.contains(&dbg(stranger)), "{stranger} named");
    }
    // The standing shows the signal, and nothing else.
    let standing = one.iter().find(|(l, _)| l == "standing").unwrap();
    let Answer::Read(standing) = &standing.1 else {
        panic!("{standing:?}")
    };
    assert!(
        // The ignore-as-spam is also a private "I don't know" (floor 1 here).
        standing.contains(&dbg(vec![Signal::NotKnown, Signal::Reported])),
        "{standing}"
    );
    assert!(standing.contains("level: Warned"), "{standing}");
    // TARGET's next send carried the standing change, with the signal only.
    let Some((_, Answer::Done { events, .. })) = one.iter().find(|(l, _)| l == "send W") else {
        panic!("send W")
    };
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::StandingChanged { member, to: Level::Warned, reasons, .. }
                if *member == TARGET && *reasons == vec![Signal::NotKnown, Signal::Reported]
        )),
        "{events:?}"
    );
}

/// The reasons of TARGET's standing now.
fn reasons(w: &World) -> Vec<Signal> {
    w.net.standing(TARGET).unwrap().reasons
}

/// B6 (SPEC 7: one reporter counts once per target): reporting twice (for
/// another reason the second time) counts 1, and the second report answers
/// Ok with no event and changes nothing; a report and an ignore-as-spam of
/// the target's invitation by the same reporter count 1, in either order.
/// The count is read from the target's ledger `reports` and from the
/// standing (`Reported` with a threshold of 1, from the next epoch).
#[test]
fn b6_one_reporter_counts_once_per_target() {
    // Twice.
    let w = World::with(report_policy(1));
    w.people([TARGET, R1]);
    assert_eq!(
        events(w.net.report(R1, TARGET, ReportReason::Spam)),
        vec![Event::MemberReported {
            reporter: R1,
            target: TARGET
        }]
    );
    let before = w.snap();
    w.at(hours(1));
    assert!(events(w.net.report(R1, TARGET, ReportReason::Fake)).is_empty());
    assert_eq!(w.snap(), before);
    assert_eq!(ledger_reports(&w.snap(), TARGET), 1);
    assert_eq!(reasons(&w), vec![], "not within the epoch of the report");
    w.at(days(1));
    assert_eq!(reasons(&w), vec![Signal::Reported]);

    // A report and an ignore-as-spam, in both orders.
    for report_first in [true, false] {
        let ctx = format!("report first: {report_first}");
        let w = World::with(report_policy(1));
        w.people([TARGET, R1]);
        let inv = w.invite(TARGET, R1);
        w.at(hours(1));
        let spam = |w: &World| events(w.net.report_invitation(R1, inv));
        let report = |w: &World| events(w.net.report(R1, TARGET, ReportReason::Spam));
        let reported = Event::MemberReported {
            reporter: R1,
            target: TARGET,
        };
        if report_first {
            assert_eq!(report(&w), vec![reported.clone()], "{ctx}");
            let ignored = spam(&w);
            assert!(!ignored.contains(&reported), "{ctx}: {ignored:?}");
        } else {
            assert!(spam(&w).contains(&reported), "{ctx}");
            assert!(report(&w).is_empty(), "{ctx}");
        }
        assert_eq!(ledger_reports(&w.snap(), TARGET), 1, "{ctx}");
        w.at(days(1));
        // The ignore-as-spam also counts as a private "I don't know".
        assert_eq!(
            reasons(&w),
            vec![Signal::NotKnown, Signal::Reported],
            "{ctx}"
        );
    }
}

/// B6: distinct reporters each count. With the default threshold of 3, two
/// reporters (one of them reporting twice) leave the standing without the
/// signal; a third (through an ignore-as-spam) brings `Reported` (no
/// count), the standing's only reason, from the next evaluation epoch, and
/// the ledger counts 3.
#[test]
fn b6_three_distinct_reporters_count_three() {
    let w = World::new();
    w.people([TARGET, R1, R2, S1]);
    let inv = w.invite(TARGET, S1);
    w.at(hours(1));
    let _ = w.net.report(R1, TARGET, ReportReason::Spam).unwrap();
    let _ = w.net.report(R1, TARGET, ReportReason::Harassment).unwrap();
    let _ = w.net.report(R2, TARGET, ReportReason::Fake).unwrap();
    assert_eq!(ledger_reports(&w.snap(), TARGET), 2);
    assert_eq!(reasons(&w), vec![]);
    assert_eq!(w.net.standing(TARGET).unwrap().level, Level::Good);
    let _ = w.net.report_invitation(S1, inv).unwrap();
    assert_eq!(ledger_reports(&w.snap(), TARGET), 3);
    assert_eq!(reasons(&w), vec![], "not within the epoch of the third");
    assert_eq!(w.net.standing(TARGET).unwrap().level, Level::Good);
    w.at(days(1));
    assert_eq!(reasons(&w), vec![Signal::Reported]);
    assert_eq!(w.net.standing(TARGET).unwrap().level, Level::Warned);
}

// ------------------------------------------------------- removal (SPEC 7)

/// SPEC 7, removal: either side removes the connection; the only event is
/// `ConnectionRemoved`, for the remover only (the other is not notified);
/// the store, the graph index and both ledgers follow (one connection
/// less, C still shared); nothing bars them: either may invite the other
/// again at once under the normal rules (here with email proof), and the
/// accept connects them again.
#[test]
fn removal_by_either_side_is_silent_and_bars_nothing() {
    for remover in [A, B] {
        for next in [A, B] {
            let ctx = format!("removed by {remover}, invited again by {next}");
            let w = World::new();
            w.people([A, B, C]);
            w.connect_all([(C, A), (C, B), (A, B)]);
            let before = w.snap();
            for m in [A, B] {
                assert_eq!(ledger_connections(&before, m), 2, "{ctx}");
            }
            w.at(hours(1));
            let other = other_of(remover);
            let got = events(w.net.remove_connection(remover, other));
            assert_eq!(
                got,
                vec![Event::ConnectionRemoved { by: remover, other }],
                "{ctx}"
            );
            assert!(
                got.iter().all(|e| !e.audience().includes(other)),
                "{ctx}: the other member is notified"
            );
            assert_nothing_between(&w, A, B, &ctx);
            let after = w.snap();
            for m in [A, B] {
                assert_eq!(ledger_connections(&after, m), 1, "{ctx}");
            }
            assert_eq!(w.net.graph().connection_count(), 2, "{ctx}");
            assert_eq!(w.net.degree(A, B).unwrap(), Degree::Second, "{ctx}");
            assert_eq!(w.net.mutual_count(A, B).unwrap(), 1, "{ctx}");
            assert_eq!(w.net.second_degree_count(A).unwrap(), 1, "{ctx}");
            let state = pair_state(&after, A, B).unwrap();
            assert_eq!(state.from_low.bar, None, "{ctx}");
            assert_eq!(state.from_high.bar, None, "{ctx}");

            // They may invite each other again, at once.
            let invitee = other_of(next);
            let inv = new_invitation(
                w.net
                    .send(pronet::SendRequest::new(next, invitee).proof(&email_of(invitee))),
            );
            assert_eq!(w.inbox(invitee), vec![(next, inv)], "{ctx}");
            let _ = w.net.accept(invitee, inv).unwrap();
            assert_eq!(w.net.degree(A, B).unwrap(), Degree::First, "{ctx}");
            for m in [A, B] {
                assert_eq!(ledger_connections(&w.snap(), m), 2, "{ctx}");
            }
        }
    }
}

/// SPEC 7, removal: removing a connection that does not exist (never
/// connected; an invitation pending; already removed) answers Ok with no
/// event and changes nothing (a pending invitation stays pending); removing
/// oneself is refused `Yourself`; a missing member is `UnknownMember`.
#[test]
fn removal_of_a_missing_connection_is_ok_and_silent() {
    let w = World::new();
    w.people([A, B, C]);
    let assert_silent = |w: &World, x: MemberId, y: MemberId, ctx: &str| {
        let before = w.snap();
        let got = w.net.remove_connection(x, y).unwrap();
        assert!(got.events.is_empty(), "{ctx}: {got:?}");
        assert_eq!(w.snap(), before, "{ctx}: the store changed");
    };
    assert_silent(&w, A, B, "never connected");
    let inv = w.invite(A, B);
    assert_silent(&w, A, B, "pending, by the sender");
    assert_silent(&w, B, A, "pending, by the recipient");
    assert_eq!(w.inbox(B), vec![(A, inv)]);
    assert_eq!(w.net.invitation(A, inv).unwrap().seen, Seen::Pending);
    w.connect(A, C);
    let _ = w.net.remove_connection(C, A).unwrap();
    assert_silent(&w, A, C, "already removed");
    assert_silent(&w, C, A, "already removed, by the remover");
    support::refusals! {
        w.net.remove_connection(A, A) => Refusal::Yourself,
        w.net.remove_connection(A, NOBODY) => Refusal::UnknownMember(NOBODY),
        w.net.remove_connection(NOBODY, A) => Refusal::UnknownMember(NOBODY),
    }
}

// ------------------------------------------------- deactivated (SPEC 1)

const GONE: MemberId = MemberId::new(4);

/// A, B, C and GONE: C connected to A, B and GONE; GONE's invitation to A
/// and B's invitation to GONE pending; GONE deactivated at hour 1. The
/// clock is left at hour 2. Answers the world, GONE→A and B→GONE.
fn deactivated_world() -> (World, InvitationId, InvitationId) {
    let w = World::new();
    w.people([A, B, C, GONE]);
    w.connect_all([(C, A), (C, B), (C, GONE)]);
    let gone_to_a = w.invite(GONE, A);
    let b_to_gone = w.invite(B, GONE);
    w.at(hours(1));
    assert_eq!(
        events(w.net.deactivate(GONE)),
        vec![Event::MemberDeactivated { member: GONE }]
    );
    w.at(hours(2));
    (w, gone_to_a, b_to_gone)
}

/// SPEC 1 (a deactivated member appears nowhere, every operation addressed
/// to them fails as if they did not exist), row by row: what `op` by
/// `actor` naming `other` (or the invitation `inv`) must answer, whether it
/// must equal the answer for a missing member (`NOBODY`, `NO_INVITATION`),
/// (no row is a known divergence at present).
fn deactivated_rows(
    gone_to_a: InvitationId,
    b_to_gone: InvitationId,
) -> Vec<(Op, MemberId, MemberId, InvitationId, Row)> {
    let member_ops = [
        Op::Send,
        Op::RemoveConnection,
        Op::Report,
        Op::Unblock,
        Op::Block,
        Op::Degree,
        Op::Mutuals,
        Op::MutualCount,
        Op::HowConnected,
        Op::Connections,
    ];
    let invitation_ops = [
        Op::Accept,
        Op::Ignore(IgnoreReason::Ignored),
        Op::Ignore(IgnoreReason::DontKnow),
        Op::Ignore(IgnoreReason::Spam),
        Op::Reject,
        Op::Withdraw,
        Op::InvitationView,
    ];
    let missing = |r| Row {
        expect: Expect::Refused(r),
        like_missing: true,
    };
    let mut rows = Vec::new();
    for op in member_ops {
        // Addressed to the deactivated member.
        rows.push((
            op,
            A,
            GONE,
            gone_to_a,
            missing(Refusal::UnknownMember(GONE)),
        ));
        // By the deactivated member: they are unknown themselves.
        rows.push((
            op,
            GONE,
            A,
            gone_to_a,
            missing(Refusal::UnknownMember(GONE)),
        ));
    }
    for op in invitation_ops {
        // The invitation from the deactivated member, by its recipient.
        rows.push((
            op,
            A,
            GONE,
            gone_to_a,
            missing(Refusal::InvitationNotFound(gone_to_a)),
        ));
        // The invitation to the deactivated member, by its sender.
        rows.push((
            op,
            B,
            GONE,
            b_to_gone,
            missing(Refusal::InvitationNotFound(b_to_gone)),
        ));
        // By the deactivated member, on either invitation: unknown either
        // way (the member or the invitation).
        for inv in [gone_to_a, b_to_gone] {
            rows.push((
                op,
                GONE,
                A,
                inv,
                Row {
                    expect: Expect::Refused(Refusal::InvitationNotFound(inv)),
                    like_missing: false,
                },
            ));
        }
    }
    rows
}

/// Runs the deactivated-member table: each row on a fresh network, its
/// answer checked (refusals change nothing) and, where asked, compared with
/// the answer for a missing member. Answers the rows run and the failures.
fn deactivated_table() -> (usize, Vec<String>) {
    let (probe, gone_to_a, b_to_gone) = deactivated_world();
    drop(probe);
    let mut failures = Vec::new();
    let mut run = 0;
    for (op, actor, other, inv, row) in deactivated_rows(gone_to_a, b_to_gone) {
        run += 1;
        let ctx = format!("{op:?} by {actor} naming {other} / {inv}");
        let (w, ..) = deactivated_world();
        let before = w.snap();
        let answer = perform(&w.net, op, actor, other, inv);
        // The deactivated member's own invitation calls: not found, or the
        // member unknown; either is "as if they did not exist".
        let expect = match (&row.expect, &answer) {
            (
                Expect::Refused(Refusal::InvitationNotFound(_)),
                Answer::Refused(Refusal::UnknownMember(m)),
            ) if actor == GONE && *m == GONE => Expect::Refused(Refusal::UnknownMember(GONE)),
            (e, _) => e.clone(),
        };
        if let Some(m) = mismatch(&expect, &answer, &before, &w.snap()) {
            failures.push(format!("{ctx}: {m}"));
        }
        if row.like_missing {
            let (w2, ..) = deactivated_world();
            let missing = if actor == GONE {
                perform(&w2.net, op, NOBODY, other, inv)
            } else {
                perform(&w2.net, op, actor, NOBODY, NO_INVITATION)
            };
            let missing = missing.renamed(GONE, inv);
            if missing != answer {
                failures.push(format!(
                    "{ctx}: answered {answer:?}, but {missing:?} for a missing member"
                ));
            }
        }
    }
    (run, failures)
}

/// SPEC 1 and B4: a deactivated member is absent from every read (see
/// `b4_every_read_query_hides_blocked_and_deactivated_members`, where D is
/// deactivated) and every operation naming them, or made by them, fails as
/// if they did not exist: `UnknownMember` for every member operation and
/// read, `InvitationNotFound` for invitations from or to them, each equal
/// to the answer for a member id never registered (and an invitation id
/// never issued); nothing changes in the store.
#[test]
fn deactivated_member_operations_fail_as_for_a_missing_member() {
    let (run, failures) = deactivated_table();
    assert_eq!(run, 10 * 2 + 7 * 4);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // And the deactivated member's reads of their own.
    let (w, ..) = deactivated_world();
    for answer in [
        Answer::read(w.net.inbox(GONE, None, whole())),
        Answer::read(w.net.sent(GONE, None, whole())),
        Answer::read(w.net.held(GONE, None, whole())),
        Answer::read(w.net.standing(GONE)),
        Answer::read(w.net.second_degree_count(GONE)),
    ] {
        assert_eq!(answer, Answer::Refused(Refusal::UnknownMember(GONE)));
    }
    // Their pending invitations are in nobody's lists.
    assert!(w.inbox(A).is_empty());
    assert!(w.sent(B).is_empty());
}

/// SPEC 1: unblocking a member who has since been deactivated is an
/// operation addressed to them, and must fail as if they did not exist.
/// Reproduction: A blocks D; D is deactivated; `net.unblock(A, D)` answers
/// `Ok` with `MemberUnblocked` and writes both block lists, where
/// `net.unblock(A, NOBODY)` is `UnknownMember(NOBODY)` (`block::unblock`
/// checks existence only when there is no block to lift).
#[test]
fn deactivated_member_cannot_be_unblocked() {
    let w = World::new();
    w.people([A, GONE]);
    let _ = w.net.block(A, GONE).unwrap();
    let _ = w.net.deactivate(GONE).unwrap();
    let before = w.snap();
    assert_eq!(
        Answer::done(w.net.unblock(A, GONE)),
        Answer::Refused(Refusal::UnknownMember(GONE))
    );
    assert_eq!(w.snap(), before);
}

/// SPEC 1 / B4: a pagination cursor naming a deactivated member is a cursor
/// that does not belong to any list, as for an id never registered.
/// Reproduction: C connected to A and D, D deactivated:
/// `net.connections(A, C, Some(D), size)` answers a page, where
/// `Some(NOBODY)` answers `UnknownCursor(NOBODY)`.
#[test]
fn deactivated_member_is_no_cursor() {
    let (w, ..) = deactivated_world();
    support::refusals! {
        w.net.connections(A, C, Some(NOBODY), whole()) => Refusal::UnknownCursor(NOBODY),
        w.net.connections(A, C, Some(GONE), whole()) => Refusal::UnknownCursor(GONE),
        w.net.mutuals(A, C, Some(GONE), whole()) => Refusal::UnknownCursor(GONE),
    }
}
