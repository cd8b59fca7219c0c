//! Race tests on real threads: RELIABILITY.md A3 (the invitation races),
//! G5, I1 and I9, against one `Network<MemoryStore, ManualClock>` shared by
//! reference.
//!
//! Every repetition builds a fresh network, sets the scenario up serially,
//! then starts the racing calls together (one `std::thread::scope` thread per
//! call, released by one `std::sync::Barrier`). The end state is then
//! compared with the outcomes of every serial order of the same calls, each
//! run on its own fresh network (all permutations, computed once per
//! scenario). The compared outcome is normalized (invitation ids renamed by
//! `(sender, recipient, id)` order, since retries skip ids) and holds:
//! every call's answer (outcome and events, or refusal variant), every
//! stored record with its version (`MemoryStore::snapshot`), every member's
//! connections in the graph index, every invitation as its sender and its
//! recipient see it (`Network::invitation`), and every member's inbox, held
//! and sent lists. The race must equal some serial order on all of it.
//!
//! Every repetition, race or serial, also checks: events across threads
//! have no duplicates and match the committed changes (one
//! `ConnectionCreated` per new connection, one `InvitationSent` per new
//! invitation, one `InvitationAccepted` / `InvitationWithdrawn` per
//! invitation that changed to that status, `InvitationReceived` exactly for
//! new inbox deliveries); the graph index equals the store's connections and
//! is symmetric (G1); each member's ledger counts their connections; at most
//! one open invitation per pair, named by the pair record (I1), and none
//! between connected members (I2); plus each scenario's own expectations.
//!
//! Scenarios (calls raced at once):
//! - `a3_double_send_races_to_one_invitation` (A3, I1): 2 identical sends.
//! - `i9_crossing_sends_connect_exactly_once` (A3, I9): A→B and B→A.
//! - `a3_accept_vs_withdraw_never_both`: accept and withdraw of one
//!   invitation.
//! - `a3_accept_vs_accept_connects_once` (I4): the recipient accepts twice.
//! - `g5_cap_holds_when_member_accepts_concurrently` (A3, G5): a member at
//!   cap-1 (cap 3) accepts 4 invitations at once.
//! - `g5_cap_holds_when_recipients_accept_concurrently` (A3, G5): 4
//!   recipients of a cap-1 member's invitations accept at once.
//! - `g5_cap_holds_under_concurrent_accepts` (A3, G5, I9): a cap-1 member
//!   accepts, two of its invitations are accepted and it makes a crossing
//!   send, all at once.
//! - `a3_many_sends_to_one_and_from_one_all_succeed`: 3 senders to one
//!   recipient and one sender to 3 recipients, all at once.
//!
//! The racing threads wait on the barrier, then spin until all of them are
//! awake, so that the calls overlap (a store conflict and a retry) in a good
//! share of the repetitions rather than running one after the other; and
//! the scenarios run one at a time, so that they do not share the cores.
//! `Error::Contended` cannot happen here (each call meets at most 3 other
//! commits, and the default policy allows 8 attempts), so any occurrence
//! fails the test after being counted.
//!
//! Each scenario runs 500 repetitions by default (about 10 s in all, in
//! debug, on 2 cores); the `PRONET_RACE_REPS` environment variable sets
//! another count. Each test prints (see
//! `cargo test --test races -- --nocapture`) its repetitions, how often each
//! serial outcome was observed, how many send attempts were retried after a
//! store conflict (counted from the invitation ids consumed, so for
//! scenarios with sends only), and how many calls ended in
//! `Error::Contended`. SqliteStore races are to come with SqliteStore.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pronet::invitation::{Delivery, Invitation, PairState, Status};
use pronet::record::{Key, Record, Versioned};
use pronet::{
    Email, Error, Event, InvitationId, InvitationView, Listed, ManualClock, Member, MemberId,
    MemoryStore, Network, PageSize, PairKey, Policy, Profile, Refusal, Seen, SendOutcome, Store,
    Timestamp,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

type Net = Network<MemoryStore, ManualClock>;
type Snapshot = Vec<(Key, Versioned<Record>)>;

/// 2023-11-14: every network starts here, and the clock never moves.
const START: Timestamp = Timestamp::from_micros(1_700_000_000_000_000);

/// The connection cap of the G5 scenarios.
const CAP: u32 = 3;

/// Repetitions per scenario: 500, or `PRONET_RACE_REPS`.
fn reps() -> usize {
    std::env::var("PRONET_RACE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

/// Held by each scenario while it runs: the test harness runs tests in
/// parallel, and races between scenarios for the cores would make the
/// racing calls within one scenario overlap less often.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------
// Building networks
// ---------------------------------------------------------------------------

fn m(raw: u64) -> MemberId {
    MemberId::new(raw)
}

fn email(id: MemberId) -> Email {
    Email::parse(&format!("m{}@example.com", id.get())).unwrap()
}

fn fresh(policy: &Policy) -> Net {
    Network::open(MemoryStore::new(), ManualClock::new(START), policy.clone()).unwrap()
}

fn capped() -> Policy {
    Policy::builder().max_connections(CAP).build().unwrap()
}

/// Registers persons `ids`, each with a discoverable address.
fn register(net: &Net, ids: &[MemberId]) {
    for &id in ids {
        let member = Member::person(id, Profile::named(format!("Member {}", id.get())))
            .with_email(email(id), true);
        let _ = net.register(member).unwrap();
    }
}

/// `sender` invites `recipient`, proving the recipient's address.
fn invite(net: &Net, sender: MemberId, recipient: MemberId) -> InvitationId {
    match net
        .send(sender, recipient, None, Some(&email(recipient)))
        .unwrap()
        .outcome
    {
        SendOutcome::Sent(id) => id,
        other => panic!("setup send {sender}→{recipient}: {other:?}"),
    }
}

/// Connects `a` and `b` through an accepted invitation.
fn connect(net: &Net, a: MemberId, b: MemberId) {
    let id = invite(net, a, b);
    let _ = net.accept(b, id).unwrap();
}

fn page_max() -> PageSize {
    PageSize::new(PageSize::MAX).unwrap()
}

// ---------------------------------------------------------------------------
// Calls and answers
// ---------------------------------------------------------------------------

/// One racing call. Sends carry no email proof: the racing senders are
/// eligible through shared connections (or the send is a crossing one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Send(MemberId, MemberId),
    Accept(MemberId, InvitationId),
    Withdraw(MemberId, InvitationId),
}

/// What a call answered.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Sent(SendOutcome, Vec<Event>),
    Done(Vec<Event>),
    Refused(Refusal),
    Contended,
    Failed(String),
}

impl Answer {
    fn events(&self) -> &[Event] {
        match self {
            Self::Sent(_, events) | Self::Done(events) => events,
            _ => &[],
        }
    }

    fn from_error(error: Error) -> Self {
        match error {
            Error::Refused(r) => Self::Refused(r),
            Error::Contended { .. } => Self::Contended,
            other => Self::Failed(format!("{other:?}")),
        }
    }

    fn connected(&self) -> bool {
        self.events()
            .iter()
            .any(|e| matches!(e, Event::ConnectionCreated { .. }))
    }
}

fn perform(net: &Net, call: Call) -> Answer {
    let answer = match call {
        Call::Send(sender, recipient) => net
            .send(sender, recipient, None, None)
            .map(|c| Answer::Sent(c.outcome, c.events)),
        Call::Accept(actor, id) => net.accept(actor, id).map(|c| Answer::Done(c.events)),
        Call::Withdraw(actor, id) => net.withdraw(actor, id).map(|c| Answer::Done(c.events)),
    };
    answer.unwrap_or_else(Answer::from_error)
}

// ---------------------------------------------------------------------------
// Reading raw state
// ---------------------------------------------------------------------------

fn invitations(snap: &Snapshot) -> BTreeMap<InvitationId, Invitation> {
    snap.iter()
        .filter_map(|(_, v)| match &v.value {
            Record::Invitation(inv) => Some((inv.id, inv.clone())),
            _ => None,
        })
        .collect()
}

fn pairs(snap: &Snapshot) -> BTreeMap<PairKey, PairState> {
    snap.iter()
        .filter_map(|(_, v)| match &v.value {
            Record::Pair(p) => Some((p.key, p.clone())),
            _ => None,
        })
        .collect()
}

fn connected(snap: &Snapshot) -> BTreeSet<PairKey> {
    pairs(snap)
        .into_values()
        .filter(|p| p.connected_since.is_some())
        .map(|p| p.key)
        .collect()
}

/// The member's ledger count in the store (0 when it has no ledger yet).
fn ledger(snap: &Snapshot, member: MemberId) -> u32 {
    snap.iter()
        .find_map(|(key, v)| match (key, &v.value) {
            (Key::Ledger(id), Record::Ledger(l)) if *id == member => Some(l.connections),
            _ => None,
        })
        .unwrap_or(0)
}

fn pair(a: MemberId, b: MemberId) -> PairKey {
    PairKey::new(a, b).unwrap()
}

// ---------------------------------------------------------------------------
// The normalized outcome
// ---------------------------------------------------------------------------

/// Canonical invitation ids: retries skip raw ids, so raw ids differ between
/// a race and the serial run it matches. Invitations are renumbered in
/// `(sender, recipient, raw id)` order; within one direction of a pair the
/// raw id order is the creation order.
struct Ids(BTreeMap<InvitationId, InvitationId>);

impl Ids {
    fn new(snap: &Snapshot) -> Self {
        let mut all: Vec<_> = invitations(snap)
            .into_values()
            .map(|inv| (inv.sender, inv.recipient, inv.id))
            .collect();
        all.sort();
        Self(
            all.into_iter()
                .zip(1..)
                .map(|((_, _, raw), canonical)| (raw, InvitationId::new(canonical)))
                .collect(),
        )
    }

    fn id(&self, raw: InvitationId) -> InvitationId {
        // An id the store never held keeps its number, far from the others.
        self.0
            .get(&raw)
            .copied()
            .unwrap_or(InvitationId::new(1_000_000 + raw.get()))
    }

    fn key(&self, key: Key) -> Key {
        match key {
            Key::Invitation(id) => Key::Invitation(self.id(id)),
            other => other,
        }
    }

    fn record(&self, record: Record) -> Record {
        match record {
            Record::Invitation(mut inv) => {
                inv.id = self.id(inv.id);
                Record::Invitation(inv)
            }
            Record::Pair(mut p) => {
                p.open = p.open.map(|id| self.id(id));
                Record::Pair(p)
            }
            Record::Ledger(mut l) => {
                for entry in &mut l.sends {
                    entry.invitation = self.id(entry.invitation);
                }
                Record::Ledger(l)
            }
            other => other,
        }
    }

    fn event(&self, mut event: Event) -> Event {
        match &mut event {
            Event::InvitationSent {
                invitation,
                supersedes,
                ..
            } => {
                *invitation = self.id(*invitation);
                *supersedes = supersedes.map(|id| self.id(id));
            }
            Event::InvitationReceived { invitation, .. }
            | Event::InvitationAccepted { invitation, .. }
            | Event::InvitationRejected { invitation, .. }
            | Event::InvitationIgnored { invitation, .. }
            | Event::InvitationWithdrawn { invitation, .. } => *invitation = self.id(*invitation),
            _ => {}
        }
        event
    }

    fn answer(&self, answer: Answer) -> Answer {
        let events = |events: Vec<Event>| events.into_iter().map(|e| self.event(e)).collect();
        match answer {
            Answer::Sent(SendOutcome::Sent(id), ev) => {
                Answer::Sent(SendOutcome::Sent(self.id(id)), events(ev))
            }
            Answer::Sent(SendOutcome::Connected { accepted }, ev) => Answer::Sent(
                SendOutcome::Connected {
                    accepted: self.id(accepted),
                },
                events(ev),
            ),
            Answer::Sent(other, ev) => Answer::Sent(other, events(ev)),
            Answer::Done(ev) => Answer::Done(events(ev)),
            Answer::Refused(Refusal::InvitationNotFound(id)) => {
                Answer::Refused(Refusal::InvitationNotFound(self.id(id)))
            }
            other => other,
        }
    }

    fn listed(&self, mut listed: Listed) -> Listed {
        listed.invitation = self.id(listed.invitation);
        listed
    }
}

/// Everything compared between a race and the serial orders.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    /// Each call's answer, by call index.
    answers: Vec<Answer>,
    /// Every stored record with its version.
    records: Snapshot,
    /// Each member's connections in the graph index.
    graph: Vec<(MemberId, Vec<MemberId>)>,
    /// Each invitation as its sender, then its recipient, sees it.
    views: Vec<(InvitationId, MemberId, Result<InvitationView, Answer>)>,
    /// Each member's inbox, held and sent lists.
    lists: Vec<(MemberId, [Vec<Listed>; 3])>,
}

fn observe(net: &Net, members: &[MemberId], answers: Vec<Answer>) -> Outcome {
    let snap = net.store().snapshot();
    let ids = Ids::new(&snap);
    let mut records: Snapshot = snap
        .iter()
        .map(|(key, v)| {
            (
                ids.key(key.clone()),
                Versioned {
                    version: v.version,
                    value: ids.record(v.value.clone()),
                },
            )
        })
        .collect();
    records.sort_by(|a, b| a.0.cmp(&b.0));
    let graph = {
        let graph = net.graph();
        members
            .iter()
            .map(|&member| {
                let mut items = graph.connections(member, None, page_max()).unwrap().items;
                items.sort();
                (member, items)
            })
            .collect()
    };
    let mut views = Vec::new();
    for inv in invitations(&snap).values() {
        for viewer in [inv.sender, inv.recipient] {
            let view = net
                .invitation(viewer, inv.id)
                .map(|mut v| {
                    v.id = ids.id(v.id);
                    v
                })
                .map_err(|e| ids.answer(Answer::from_error(e)));
            views.push((ids.id(inv.id), viewer, view));
        }
    }
    views.sort_by_key(|v| (v.0, v.1));
    let list = |page: Result<pronet::Page<Listed, pronet::ListCursor>, Error>| -> Vec<Listed> {
        let page = page.unwrap();
        assert!(page.next.is_none(), "one page holds every list here");
        page.items.into_iter().map(|l| ids.listed(l)).collect()
    };
    let lists = members
        .iter()
        .map(|&member| {
            (
                member,
                [
                    list(net.inbox(member, None, page_max())),
                    list(net.held(member, None, page_max())),
                    list(net.sent(member, None, page_max())),
                ],
            )
        })
        .collect();
    Outcome {
        answers: answers.into_iter().map(|a| ids.answer(a)).collect(),
        records,
        graph,
        views,
        lists,
    }
}

// ---------------------------------------------------------------------------
// Checks run after every repetition, race or serial
// ---------------------------------------------------------------------------

/// Events across all calls have no duplicates and match exactly what changed
/// between `before` and the store now.
fn check_events(net: &Net, before: &Snapshot, answers: &[Answer]) {
    let after = net.store().snapshot();
    let mut distinct = BTreeSet::new();
    for event in answers.iter().flat_map(Answer::events) {
        assert!(
            distinct.insert(format!("{event:?}")),
            "duplicate event {event:?} in {answers:#?}"
        );
    }
    let (old, new) = (invitations(before), invitations(&after));
    let (was, now) = (connected(before), connected(&after));
    assert!(was.is_subset(&now), "a race removed a connection");
    let created_invitations: BTreeSet<InvitationId> = new
        .keys()
        .filter(|id| !old.contains_key(id))
        .copied()
        .collect();
    let changed_to = |status: Status| -> BTreeSet<InvitationId> {
        new.iter()
            .filter(|(id, inv)| {
                inv.status == status && old.get(id).is_none_or(|o| o.status != status)
            })
            .map(|(id, _)| *id)
            .collect()
    };
    let parties = |id: &InvitationId| {
        let inv = &new[id];
        (inv.sender, inv.recipient)
    };
    let mut connections = BTreeSet::new();
    let (mut sent, mut received, mut accepted, mut withdrawn, mut superseded) = (
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
    );
    let mut count = 0;
    for event in answers.iter().flat_map(Answer::events) {
        count += 1;
        match event {
            Event::ConnectionCreated { a, b } => {
                connections.insert(pair(*a, *b));
            }
            Event::InvitationSent {
                invitation,
                sender,
                recipient,
                supersedes,
            } => {
                assert_eq!(parties(invitation), (*sender, *recipient), "{event:?}");
                sent.insert(*invitation);
                superseded.extend(*supersedes);
            }
            Event::InvitationReceived {
                invitation,
                sender,
                recipient,
                ..
            } => {
                assert_eq!(parties(invitation), (*sender, *recipient), "{event:?}");
                received.insert(*invitation);
            }
            Event::InvitationAccepted {
                invitation,
                sender,
                recipient,
            } => {
                assert_eq!(parties(invitation), (*sender, *recipient), "{event:?}");
                accepted.insert(*invitation);
            }
            Event::InvitationWithdrawn { invitation, sender } => {
                assert_eq!(parties(invitation).0, *sender, "{event:?}");
                withdrawn.insert(*invitation);
            }
            other => panic!("no race here should emit {other:?}"),
        }
    }
    let new_connections: BTreeSet<PairKey> = now.difference(&was).copied().collect();
    assert_eq!(connections, new_connections, "ConnectionCreated events");
    assert_eq!(sent, created_invitations, "InvitationSent events");
    let delivered: BTreeSet<InvitationId> = created_invitations
        .iter()
        .filter(|id| new[*id].delivery == Delivery::Inbox)
        .copied()
        .collect();
    assert_eq!(received, delivered, "InvitationReceived events");
    assert_eq!(accepted, changed_to(Status::Accepted), "InvitationAccepted");
    assert_eq!(
        withdrawn,
        changed_to(Status::Withdrawn),
        "InvitationWithdrawn"
    );
    assert_eq!(superseded, changed_to(Status::Superseded), "supersedes");
    // Every accepted invitation connected its own pair.
    for id in &accepted {
        let (s, r) = parties(id);
        assert!(
            connections.contains(&pair(s, r)),
            "accepted {id} unconnected"
        );
    }
    assert_eq!(
        count,
        connections.len() + sent.len() + received.len() + accepted.len() + withdrawn.len(),
        "one event per change"
    );
}

/// G1, I1, I2 and the ledgers, on the store and the graph index.
fn check_invariants(net: &Net, members: &[MemberId]) {
    let snap = net.store().snapshot();
    let store: BTreeSet<PairKey> = net.store().connections().unwrap().into_iter().collect();
    assert_eq!(store, connected(&snap), "Store::connections");
    {
        let graph = net.graph();
        let mut indexed = BTreeSet::new();
        for &member in members {
            for other in graph.connections(member, None, page_max()).unwrap().items {
                assert!(graph.are_connected(other, member), "G1 {member} {other}");
                indexed.insert(pair(member, other));
            }
        }
        assert_eq!(indexed, store, "the graph index mirrors the store");
        assert_eq!(graph.connection_count(), store.len());
    }
    for &member in members {
        let degree = store
            .iter()
            .filter(|p| p.low() == member || p.high() == member)
            .count();
        assert_eq!(ledger(&snap, member) as usize, degree, "ledger of {member}");
    }
    let pairs = pairs(&snap);
    let mut open: BTreeMap<PairKey, Vec<InvitationId>> = BTreeMap::new();
    for inv in invitations(&snap).values().filter(|i| i.is_open()) {
        open.entry(inv.pair().unwrap()).or_default().push(inv.id);
    }
    for (key, ids) in &open {
        assert_eq!(ids.len(), 1, "I1: open invitations {ids:?} for {key:?}");
        assert_eq!(pairs[key].open, Some(ids[0]), "the pair names its open one");
        assert!(!store.contains(key), "I2: open invitation while connected");
    }
    for (key, p) in &pairs {
        if let Some(id) = p.open {
            assert_eq!(open.get(key), Some(&vec![id]), "pair {key:?} names {id}");
        }
    }
}

// ---------------------------------------------------------------------------
// Scenarios and the runner
// ---------------------------------------------------------------------------

/// What a scenario's serial setup leaves: the members to observe and the
/// calls to race.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Setup {
    members: Vec<MemberId>,
    calls: Vec<Call>,
}

struct Scenario {
    name: &'static str,
    policy: Policy,
    setup: fn(&Net) -> Setup,
    /// The scenario's own expectations on the raw answers and the network.
    check: fn(&Net, &Setup, &[Answer]),
}

/// Runs `calls` on `net` after `setup`, checks everything, and observes.
fn finish(
    s: &Scenario,
    net: &Net,
    setup: &Setup,
    before: &Snapshot,
    answers: Vec<Answer>,
) -> Outcome {
    check_events(net, before, &answers);
    check_invariants(net, &setup.members);
    if !answers.contains(&Answer::Contended) {
        (s.check)(net, setup, &answers);
    }
    observe(net, &setup.members, answers)
}

/// The outcome of the calls at `order`, one after another; calls left out
/// answer `Contended`.
fn serial(s: &Scenario, order: &[usize]) -> Outcome {
    let net = fresh(&s.policy);
    let setup = (s.setup)(&net);
    let before = net.store().snapshot();
    let mut answers = vec![Answer::Contended; setup.calls.len()];
    for &i in order {
        answers[i] = perform(&net, setup.calls[i]);
    }
    finish(s, &net, &setup, &before, answers)
}

fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.is_empty() {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for (i, &first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}

/// The distinct outcomes of every serial order of the calls `included`.
fn serial_outcomes(s: &Scenario, included: &[usize]) -> Vec<Outcome> {
    let mut distinct: Vec<Outcome> = Vec::new();
    for order in permutations(included) {
        let outcome = serial(s, &order);
        if !distinct.contains(&outcome) {
            distinct.push(outcome);
        }
    }
    distinct
}

/// One race: the answers, checked and observed, and how many send attempts
/// were retried (every attempt takes an invitation id).
fn race(s: &Scenario, expected: &Setup, setup_ids: u64) -> (Outcome, u64) {
    let net = fresh(&s.policy);
    let setup = (s.setup)(&net);
    assert_eq!(&setup, expected, "setups are deterministic");
    let before = net.store().snapshot();
    let n = setup.calls.len();
    let barrier = Barrier::new(n);
    let ready = AtomicUsize::new(0);
    let answers: Vec<Answer> = thread::scope(|scope| {
        let handles: Vec<_> = setup
            .calls
            .iter()
            .map(|&call| {
                let (net, barrier, ready) = (&net, &barrier, &ready);
                scope.spawn(move || {
                    barrier.wait();
                    // The barrier wakes the waiting threads one by one, while
                    // the last to arrive runs on at once: a short spin until
                    // all have woken lines the calls up much more closely.
                    ready.fetch_add(1, Ordering::SeqCst);
                    let mut spins = 0_u32;
                    while ready.load(Ordering::SeqCst) < n {
                        spins = spins.wrapping_add(1);
                        if spins % 1024 == 0 {
                            thread::yield_now();
                        } else {
                            std::hint::spin_loop();
                        }
                    }
                    perform(net, call)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Read before the checks, which may try refused sends again.
    let taken = net.store().next_invitation_id().unwrap().get() - 1 - setup_ids;
    let sends = setup
        .calls
        .iter()
        .filter(|c| matches!(c, Call::Send(..)))
        .count() as u64;
    let outcome = finish(s, &net, &setup, &before, answers);
    (outcome, taken.saturating_sub(sends))
}

fn run(s: &Scenario) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let reps = reps();
    // The serial setup alone, for the calls and the ids it takes.
    let probe = fresh(&s.policy);
    let expected = (s.setup)(&probe);
    let setup_ids = probe.store().next_invitation_id().unwrap().get() - 1;
    let n = expected.calls.len();
    let everything: Vec<usize> = (0..n).collect();
    let mut allowed: HashMap<Vec<usize>, Vec<Outcome>> = HashMap::new();
    allowed.insert(everything.clone(), serial_outcomes(s, &everything));
    let mut seen: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let (mut contended, mut retries, mut retried_reps) = (0, 0, 0);
    for rep in 0..reps {
        let (outcome, retried) = race(s, &expected, setup_ids);
        retries += retried;
        retried_reps += usize::from(retried > 0);
        // A call that gave up under contention changed nothing: compare
        // with the serial orders of the other calls.
        let included: Vec<usize> = (0..n)
            .filter(|&i| outcome.answers[i] != Answer::Contended)
            .collect();
        contended += n - included.len();
        let options = allowed
            .entry(included.clone())
            .or_insert_with(|| serial_outcomes(s, &included));
        match options.iter().position(|o| *o == outcome) {
            Some(i) => *seen.entry((n - included.len(), i)).or_default() += 1,
            None => panic!(
                "{}: repetition {rep} ended in no serial order's outcome.\n\
                 race: {outcome:#?}\nserial outcomes: {options:#?}",
                s.name
            ),
        }
    }
    let full = allowed[&everything].len();
    let observed: Vec<String> = seen
        .iter()
        .map(|((left_out, i), count)| {
            if *left_out == 0 {
                format!("serial outcome #{i}: {count}")
            } else {
                format!("outcome #{i} without {left_out} contended call(s): {count}")
            }
        })
        .collect();
    let has_sends = expected.calls.iter().any(|c| matches!(c, Call::Send(..)));
    let retried = if has_sends {
        format!("{retries} (in {retried_reps} repetitions)")
    } else {
        "not counted (no sends)".to_owned()
    };
    eprintln!(
        "{}: {reps} repetitions of {n} racing calls; {full} distinct serial outcome(s) \
         over {} order(s); observed [{}]; send attempts retried after a conflict: {retried}; \
         Error::Contended: {contended}; {:.2?}",
        s.name,
        permutations(&everything).len(),
        observed.join(", "),
        started.elapsed()
    );
    assert_eq!(
        contended, 0,
        "{}: Error::Contended {contended} times",
        s.name
    );
}

// ---------------------------------------------------------------------------
// Scenario helpers
// ---------------------------------------------------------------------------

/// The send outcome of a call that must have succeeded.
fn sent(answer: &Answer) -> SendOutcome {
    match answer {
        Answer::Sent(outcome, _) => *outcome,
        other => panic!("expected a successful send, got {other:?}"),
    }
}

fn seen(net: &Net, viewer: MemberId, id: InvitationId) -> Result<Seen, Refusal> {
    net.invitation(viewer, id)
        .map(|v| v.seen)
        .map_err(|e| e.refusal().cloned().unwrap())
}

fn inbox_ids(net: &Net, member: MemberId) -> Vec<(MemberId, InvitationId)> {
    let mut ids: Vec<_> = net
        .inbox(member, None, page_max())
        .unwrap()
        .items
        .into_iter()
        .map(|l| (l.other, l.invitation))
        .collect();
    ids.sort();
    ids
}

fn sent_ids(net: &Net, member: MemberId) -> Vec<(MemberId, InvitationId)> {
    let mut ids: Vec<_> = net
        .sent(member, None, page_max())
        .unwrap()
        .items
        .into_iter()
        .map(|l| (l.other, l.invitation))
        .collect();
    ids.sort();
    ids
}

/// Members 1 and 2 who share member 3.
fn two_via_hub(net: &Net) -> (MemberId, MemberId) {
    let (a, b, hub) = (m(1), m(2), m(3));
    register(net, &[a, b, hub]);
    connect(net, hub, a);
    connect(net, hub, b);
    (a, b)
}

/// Member 1 with an invitation to member 2 (by email proof).
fn one_invitation(net: &Net) -> (MemberId, MemberId, InvitationId) {
    let (a, b) = (m(1), m(2));
    register(net, &[a, b]);
    (a, b, invite(net, a, b))
}

/// G5: exactly one racing call connected; the others were refused at
/// `member`'s cap, and are still refused when tried again; `member` has
/// exactly `CAP` connections by the graph, the pair records and the ledger.
fn check_cap(net: &Net, setup: &Setup, answers: &[Answer], member: MemberId) {
    let winners = answers.iter().filter(|a| a.connected()).count();
    assert_eq!(winners, 1, "exactly one connects: {answers:#?}");
    for (call, answer) in setup.calls.iter().zip(answers) {
        if !answer.connected() {
            let cap = Refusal::ConnectionCap { member, cap: CAP };
            assert_eq!(answer, &Answer::Refused(cap.clone()), "{call:?}");
            // At the cap: trying again is refused the same way.
            assert_eq!(perform(net, *call), Answer::Refused(cap), "{call:?} again");
        }
    }
    let graph_degree = net
        .graph()
        .connections(member, None, page_max())
        .unwrap()
        .items
        .len();
    assert_eq!(graph_degree, CAP as usize, "G5: graph");
    let snap = net.store().snapshot();
    let stored = connected(&snap)
        .iter()
        .filter(|p| p.low() == member || p.high() == member)
        .count();
    assert_eq!(stored, CAP as usize, "G5: pair records");
    assert_eq!(ledger(&snap, member), CAP, "G5: ledger");
}

/// A member 1 at cap-1: connected to members 2 and 3.
fn at_cap_minus_one(net: &Net, others: &[MemberId]) -> MemberId {
    let member = m(1);
    let friends = [m(2), m(3)];
    register(net, &[member]);
    register(net, &friends);
    register(net, others);
    for f in friends {
        connect(net, member, f);
    }
    member
}

fn members(range: std::ops::RangeInclusive<u64>) -> Vec<MemberId> {
    range.map(m).collect()
}

// ---------------------------------------------------------------------------
// The scenarios
// ---------------------------------------------------------------------------

/// A3, I1: the same sender sends to the same recipient from two threads.
/// One invitation; the other call waits the re-send ladder.
#[test]
fn a3_double_send_races_to_one_invitation() {
    run(&Scenario {
        name: "a3_double_send_races_to_one_invitation",
        policy: Policy::default(),
        setup: |net| {
            let (a, b) = two_via_hub(net);
            Setup {
                members: members(1..=3),
                calls: vec![Call::Send(a, b), Call::Send(a, b)],
            }
        },
        check: |net, setup, answers| {
            let (a, b) = (m(1), m(2));
            let retry_at = START.saturating_add(net.policy().resend_wait(1).unwrap());
            let too_soon = Answer::Refused(Refusal::ResendTooSoon { retry_at });
            let (won, lost) = match (&answers[0], &answers[1]) {
                (w @ Answer::Sent(..), l) | (l, w @ Answer::Sent(..)) => (w, l),
                _ => panic!("one send succeeds: {answers:#?}"),
            };
            assert_eq!(lost, &too_soon, "{setup:?}");
            let SendOutcome::Sent(id) = sent(won) else {
                panic!("{won:?}")
            };
            assert_eq!(sent_ids(net, a), vec![(b, id)]);
            assert_eq!(inbox_ids(net, b), vec![(a, id)]);
            assert_eq!(seen(net, a, id), Ok(Seen::Pending));
            assert_eq!(seen(net, b, id), Ok(Seen::Pending));
        },
    });
}

/// A3, I9: A→B and B→A at once give one connection and no pending
/// invitation; one call sent, the other connected by accepting it.
#[test]
fn i9_crossing_sends_connect_exactly_once() {
    run(&Scenario {
        name: "i9_crossing_sends_connect_exactly_once",
        policy: Policy::default(),
        setup: |net| {
            let (a, b) = two_via_hub(net);
            Setup {
                members: members(1..=3),
                calls: vec![Call::Send(a, b), Call::Send(b, a)],
            }
        },
        check: |net, setup, answers| {
            let (a, b) = (m(1), m(2));
            let (first, second) = (sent(&answers[0]), sent(&answers[1]));
            let (id, other) = match (first, second) {
                (SendOutcome::Sent(id), other) | (other, SendOutcome::Sent(id)) => (id, other),
                _ => panic!("one call sends: {answers:#?}"),
            };
            assert_eq!(other, SendOutcome::Connected { accepted: id }, "{setup:?}");
            assert!(net.graph().are_connected(a, b));
            for member in [a, b] {
                assert!(sent_ids(net, member).is_empty());
                assert!(inbox_ids(net, member).is_empty());
            }
            let inv = net.invitation(a, id).unwrap();
            assert_eq!(seen(net, inv.sender, id), Ok(Seen::Accepted));
            assert_eq!(seen(net, inv.recipient, id), Ok(Seen::Accepted));
            let created = answers
                .iter()
                .flat_map(Answer::events)
                .filter(|e| matches!(e, Event::ConnectionCreated { .. }))
                .count();
            assert_eq!(created, 1);
        },
    });
}

/// A3: accept and withdraw of one invitation: connected (the withdraw sees
/// it accepted) or withdrawn (the accept finds nothing), never both.
#[test]
fn a3_accept_vs_withdraw_never_both() {
    run(&Scenario {
        name: "a3_accept_vs_withdraw_never_both",
        policy: Policy::default(),
        setup: |net| {
            let (a, b, id) = one_invitation(net);
            Setup {
                members: vec![a, b],
                calls: vec![Call::Accept(b, id), Call::Withdraw(a, id)],
            }
        },
        check: |net, setup, answers| {
            let (a, b) = (m(1), m(2));
            let Call::Accept(_, id) = setup.calls[0] else {
                unreachable!()
            };
            let accepted = Answer::Refused(Refusal::NotPending {
                seen: Seen::Accepted,
            });
            let withdrawn = Answer::Refused(Refusal::InvitationNotFound(id));
            match (&answers[0], &answers[1]) {
                (Answer::Done(events), refused) if !events.is_empty() => {
                    assert_eq!(refused, &accepted);
                    assert!(net.graph().are_connected(a, b));
                    assert_eq!(seen(net, a, id), Ok(Seen::Accepted));
                    assert_eq!(seen(net, b, id), Ok(Seen::Accepted));
                }
                (refused, Answer::Done(events)) if !events.is_empty() => {
                    assert_eq!(refused, &withdrawn);
                    assert!(!net.graph().are_connected(a, b));
                    assert_eq!(seen(net, a, id), Ok(Seen::Withdrawn));
                    assert_eq!(seen(net, b, id), Err(Refusal::InvitationNotFound(id)));
                }
                _ => panic!("exactly one of accept and withdraw wins: {answers:#?}"),
            }
            assert!(sent_ids(net, a).is_empty());
            assert!(inbox_ids(net, b).is_empty());
        },
    });
}

/// A3, I4: the recipient accepts twice at once: both calls succeed, one
/// connection, and one set of events across both answers.
#[test]
fn a3_accept_vs_accept_connects_once() {
    run(&Scenario {
        name: "a3_accept_vs_accept_connects_once",
        policy: Policy::default(),
        setup: |net| {
            let (a, b, id) = one_invitation(net);
            Setup {
                members: vec![a, b],
                calls: vec![Call::Accept(b, id), Call::Accept(b, id)],
            }
        },
        check: |net, setup, answers| {
            let (a, b) = (m(1), m(2));
            let Call::Accept(_, id) = setup.calls[0] else {
                unreachable!()
            };
            let expected = vec![
                Event::InvitationAccepted {
                    invitation: id,
                    sender: a,
                    recipient: b,
                },
                Event::ConnectionCreated { a, b },
            ];
            match (&answers[0], &answers[1]) {
                (Answer::Done(x), Answer::Done(y)) => {
                    assert!(
                        (x == &expected && y.is_empty()) || (x.is_empty() && y == &expected),
                        "one set of events: {answers:#?}"
                    );
                }
                _ => panic!("both accepts succeed: {answers:#?}"),
            }
            assert!(net.graph().are_connected(a, b));
            assert_eq!(seen(net, a, id), Ok(Seen::Accepted));
            assert_eq!(seen(net, b, id), Ok(Seen::Accepted));
        },
    });
}

/// A3, G5: a member at cap-1 accepts 4 pending invitations at once.
#[test]
fn g5_cap_holds_when_member_accepts_concurrently() {
    run(&Scenario {
        name: "g5_cap_holds_when_member_accepts_concurrently",
        policy: capped(),
        setup: |net| {
            let senders = members(4..=7);
            let member = at_cap_minus_one(net, &senders);
            let calls = senders
                .iter()
                .map(|&s| Call::Accept(member, invite(net, s, member)))
                .collect();
            Setup {
                members: members(1..=7),
                calls,
            }
        },
        check: |net, setup, answers| check_cap(net, setup, answers, m(1)),
    });
}

/// A3, G5: 4 members accept a cap-1 member's invitations at once.
#[test]
fn g5_cap_holds_when_recipients_accept_concurrently() {
    run(&Scenario {
        name: "g5_cap_holds_when_recipients_accept_concurrently",
        policy: capped(),
        setup: |net| {
            let recipients = members(4..=7);
            let member = at_cap_minus_one(net, &recipients);
            let calls = recipients
                .iter()
                .map(|&r| Call::Accept(r, invite(net, member, r)))
                .collect();
            Setup {
                members: members(1..=7),
                calls,
            }
        },
        check: |net, setup, answers| check_cap(net, setup, answers, m(1)),
    });
}

/// A3, G5, I9: at cap-1, every way to connect at once: the member accepts
/// an invitation, two recipients accept the member's invitations, and the
/// member sends to someone who had invited them (a crossing send).
#[test]
fn g5_cap_holds_under_concurrent_accepts() {
    run(&Scenario {
        name: "g5_cap_holds_under_concurrent_accepts",
        policy: capped(),
        setup: |net| {
            let (s1, r1, s2, r2) = (m(4), m(5), m(6), m(7));
            let member = at_cap_minus_one(net, &[s1, r1, s2, r2]);
            let incoming = invite(net, s1, member);
            let outgoing = invite(net, member, r1);
            invite(net, s2, member);
            let outgoing2 = invite(net, member, r2);
            Setup {
                members: members(1..=7),
                calls: vec![
                    Call::Accept(member, incoming),
                    Call::Accept(r1, outgoing),
                    Call::Send(member, s2),
                    Call::Accept(r2, outgoing2),
                ],
            }
        },
        check: |net, setup, answers| check_cap(net, setup, answers, m(1)),
    });
}

/// A3: three senders invite one recipient while one sender invites three
/// recipients, all at once: every send succeeds with its own id, and every
/// list shows exactly its invitations.
#[test]
fn a3_many_sends_to_one_and_from_one_all_succeed() {
    run(&Scenario {
        name: "a3_many_sends_to_one_and_from_one_all_succeed",
        policy: Policy::default(),
        setup: |net| {
            // 1 is the hub everybody knows; 2 sends to 7..=9, 3..=5 send to 6.
            let hub = m(1);
            let everyone = members(1..=9);
            register(net, &everyone);
            for &other in &everyone[1..] {
                connect(net, hub, other);
            }
            let mut calls: Vec<Call> = members(3..=5)
                .into_iter()
                .map(|s| Call::Send(s, m(6)))
                .collect();
            calls.extend(members(7..=9).into_iter().map(|r| Call::Send(m(2), r)));
            Setup {
                members: everyone,
                calls,
            }
        },
        check: |net, setup, answers| {
            let mut ids = BTreeSet::new();
            let mut to_six = Vec::new();
            let mut from_two = Vec::new();
            for (call, answer) in setup.calls.iter().zip(answers) {
                let SendOutcome::Sent(id) = sent(answer) else {
                    panic!("{call:?}: {answer:?}")
                };
                assert!(ids.insert(id), "invitation ids are unique");
                let Call::Send(s, r) = *call else {
                    unreachable!()
                };
                assert_eq!(seen(net, s, id), Ok(Seen::Pending));
                assert_eq!(seen(net, r, id), Ok(Seen::Pending));
                assert!(sent_ids(net, s).contains(&(r, id)));
                if r == m(6) {
                    assert_eq!(sent_ids(net, s), vec![(r, id)]);
                    to_six.push((s, id));
                } else {
                    assert_eq!(inbox_ids(net, r), vec![(s, id)]);
                    from_two.push((r, id));
                }
            }
            to_six.sort();
            from_two.sort();
            assert_eq!(inbox_ids(net, m(6)), to_six);
            assert_eq!(sent_ids(net, m(2)), from_two);
            for listed in net.inbox(m(6), None, page_max()).unwrap().items {
                assert_eq!(listed.mutual_connections, 1, "the hub");
            }
        },
    });
}
