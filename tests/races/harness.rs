//! The race harness, generic over the store: a [`Backend`] makes the
//! networks of one repetition (and of each serial order), the rest is
//! shared. See `main.rs` for what is compared and checked.

#[cfg(feature = "sqlite")]
use crate::support::TempDb;
use crate::support::{Conflicts, T0, Watch, Watched, graph_of, pair, whole};
use pronet::invitation::{Delivery, Invitation, PairState, Status};
use pronet::record::{Key, Record, Versioned};
use pronet::{
    Error, Event, InvitationId, InvitationView, Listed, ManualClock, MemberId, MemoryStore,
    Network, PairKey, Policy, Refusal, SendOutcome, Store,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

pub type Snapshot = Vec<(Key, Versioned<Record>)>;

/// A store whose every record (with its version) can be listed.
pub trait Snap: Store {
    fn records(&self) -> Snapshot;
}

impl Snap for MemoryStore {
    fn records(&self) -> Snapshot {
        by_value(self.snapshot())
    }
}

#[cfg(feature = "sqlite")]
impl Snap for pronet::SqliteStore {
    fn records(&self) -> Snapshot {
        by_value(self.snapshot().unwrap())
    }
}

#[cfg(feature = "postgres")]
impl Snap for pronet::PostgresStore {
    fn records(&self) -> Snapshot {
        by_value(self.snapshot().unwrap())
    }
}

/// Records under keys of personal data are created at a version from
/// their feed position (Store clause 3), which differs between stores
/// (PostgreSQL's positions come from transaction ids): they are compared
/// by value.
fn by_value(mut records: Snapshot) -> Snapshot {
    for (key, read) in &mut records {
        if key.holds_personal_data() {
            read.version = pronet::record::Version::FIRST;
        }
    }
    records
}

/// The network scenarios are set up, checked and observed on. The clock
/// never moves from day 0.
pub type Net = Network<Arc<dyn Snap>, ManualClock>;

pub fn open<S: Store>(store: S, policy: &Policy) -> Network<S, ManualClock> {
    Network::open(store, ManualClock::new(T0), policy.clone()).unwrap()
}

impl<S: Snap, W: Watch> Snap for Watched<S, W> {
    fn records(&self) -> Snapshot {
        self.inner.records()
    }
}

// ---------------------------------------------------------------------------
// Calls and answers
// ---------------------------------------------------------------------------

/// One racing call. Sends carry no email proof: the racing senders are
/// eligible through shared connections (or the send is a crossing one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Send(MemberId, MemberId),
    Accept(MemberId, InvitationId),
    Withdraw(MemberId, InvitationId),
}

/// What a call answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Sent(SendOutcome, Vec<Event>),
    Done(Vec<Event>),
    Refused(Refusal),
    Contended,
    Failed(String),
}

impl Answer {
    pub fn events(&self) -> &[Event] {
        match self {
            Self::Sent(_, events) | Self::Done(events) => events,
            _ => &[],
        }
    }

    pub fn from_error(error: Error) -> Self {
        match error {
            Error::Refused(r) => Self::Refused(r),
            Error::Contended { .. } => Self::Contended,
            other => Self::Failed(format!("{other:?}")),
        }
    }

    pub fn connected(&self) -> bool {
        self.events()
            .iter()
            .any(|e| matches!(e, Event::ConnectionCreated { .. }))
    }
}

/// Makes `call` on `net`: the racing network of one thread, or the one
/// network of a serial order.
pub fn perform<S: Store>(net: &Network<S, ManualClock>, call: Call) -> Answer {
    let answer = match call {
        Call::Send(sender, recipient) => net
            .send(pronet::SendRequest::new(sender, recipient))
            .map(|c| Answer::Sent(c.outcome, c.events)),
        Call::Accept(actor, id) => net.accept(actor, id).map(|c| Answer::Done(c.events)),
        Call::Withdraw(actor, id) => net.withdraw(actor, id).map(|c| Answer::Done(c.events)),
    };
    answer.unwrap_or_else(Answer::from_error)
}

// ---------------------------------------------------------------------------
// Reading raw state
// ---------------------------------------------------------------------------

pub fn invitations(snap: &Snapshot) -> BTreeMap<InvitationId, Invitation> {
    snap.iter()
        .filter_map(|(_, v)| match &v.value {
            Record::Invitation(inv) => Some((inv.id, inv.clone())),
            _ => None,
        })
        .collect()
}

pub fn pairs(snap: &Snapshot) -> BTreeMap<PairKey, PairState> {
    snap.iter()
        .filter_map(|(_, v)| match &v.value {
            Record::Pair(p) => Some((p.key, p.clone())),
            _ => None,
        })
        .collect()
}

pub fn connected(snap: &Snapshot) -> BTreeSet<PairKey> {
    pairs(snap)
        .into_values()
        .filter(|p| p.connected_since.is_some())
        .map(|p| p.key)
        .collect()
}

/// The member's ledger count in the store (0 when it has no ledger yet).
pub fn ledger(snap: &Snapshot, member: MemberId) -> u32 {
    snap.iter()
        .find_map(|(key, v)| match (key, &v.value) {
            (Key::Ledger(id), Record::Ledger(l)) if *id == member => Some(l.connections),
            _ => None,
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// The normalized outcome
// ---------------------------------------------------------------------------

/// Canonical invitation ids: retries skip raw ids, so raw ids differ between
/// a race and the serial run it matches. Invitations are renumbered in
/// `(sender, recipient, raw id)` order; within one direction of a pair the
/// raw id order is the creation order.
pub struct Ids(BTreeMap<InvitationId, InvitationId>);

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
pub struct Outcome {
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

pub fn observe(net: &Net, members: &[MemberId], answers: Vec<Answer>) -> Outcome {
    let snap = net.store().records();
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
    let graph = graph_of(net, members);
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
                    list(net.inbox(member, None, whole())),
                    list(net.held(member, None, whole())),
                    list(net.sent(member, None, whole())),
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
pub fn check_events(net: &Net, before: &Snapshot, answers: &[Answer]) {
    let after = net.store().records();
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
    let mut exhausted = Vec::new();
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
            // The send that used its sender's last quota slot (Q1).
            Event::QuotaExhausted { member, .. } => exhausted.push(*member),
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
    for member in &exhausted {
        assert!(
            sent.iter().any(|id| parties(id).0 == *member),
            "QuotaExhausted for {member}, who sent nothing"
        );
    }
    assert_eq!(
        count,
        connections.len()
            + sent.len()
            + received.len()
            + accepted.len()
            + withdrawn.len()
            + exhausted.len(),
        "one event per change"
    );
}

/// G1, I1, I2 and the ledgers, on the store and the graph index.
pub fn check_invariants(net: &Net, members: &[MemberId]) {
    let snap = net.store().records();
    let store: BTreeSet<PairKey> = net.store().connections().unwrap().into_iter().collect();
    assert_eq!(store, connected(&snap), "Store::connections");
    {
        let graph = net.graph();
        let mut indexed = BTreeSet::new();
        for &member in members {
            for other in graph.connections(member, None, whole()).unwrap().items {
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
// Scenarios, stores and the runner
// ---------------------------------------------------------------------------

/// What a scenario's serial setup leaves: the members to observe and the
/// calls to race.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    pub members: Vec<MemberId>,
    pub calls: Vec<Call>,
}

pub struct Scenario {
    pub name: &'static str,
    pub policy: Policy,
    pub setup: fn(&Net) -> Setup,
    /// The scenario's own expectations on the raw answers and the network.
    pub check: fn(&Net, &Setup, &[Answer]),
}

/// One raced repetition, before the checks: the network that checks and
/// observes it, the records before the calls, and each call's answer.
pub struct Raced {
    pub net: Net,
    pub setup: Setup,
    pub before: Snapshot,
    pub answers: Vec<Answer>,
    /// Whether all calls started before the first one finished.
    pub overlapped: bool,
    /// Commits refused as conflicts (and retried) during the race.
    pub conflicts: usize,
    /// The database file or schema, if any, kept until the repetition is
    /// observed.
    pub _file: Option<Box<dyn std::any::Any>>,
}

/// A kind of store the scenarios race on.
pub trait Backend {
    /// The store, as named in the test output.
    const NAME: &'static str;
    /// Repetitions per scenario.
    fn reps() -> usize;
    /// A network over a fresh store, for the serial orders.
    fn serial(policy: &Policy) -> Net;
    /// Sets the scenario up on a fresh store, and races its calls.
    fn race(s: &Scenario) -> Raced;
}

/// The repetition count from `var`, or `default`.
fn reps_from(var: &str, default: usize) -> usize {
    crate::support::env_number(var, default)
}

/// All racing calls on one `MemoryStore` network shared by reference.
pub struct Memory;

impl Backend for Memory {
    const NAME: &'static str = "MemoryStore";

    /// 500, or `PRONET_RACE_REPS`.
    fn reps() -> usize {
        reps_from("PRONET_RACE_REPS", 500)
    }

    fn serial(policy: &Policy) -> Net {
        open(Arc::new(MemoryStore::new()) as Arc<dyn Snap>, policy)
    }

    fn race(s: &Scenario) -> Raced {
        let conflicts = Conflicts::default();
        let store = Watched::new(MemoryStore::new(), conflicts.clone());
        let net = open(Arc::new(store) as Arc<dyn Snap>, &s.policy);
        let setup = (s.setup)(&net);
        let before = net.store().records();
        conflicts.reset();
        let (results, overlapped) =
            race_threads(&setup.calls, || &net, |net, call| perform(*net, call));
        Raced {
            answers: results.into_iter().map(|(answer, _)| answer).collect(),
            net,
            setup,
            before,
            overlapped,
            conflicts: conflicts.count(),
            _file: None,
        }
    }
}

/// Each racing call on its own SQLite connection to one database file, and
/// its own network over it, as separate processes sharing a database
/// would; serial orders on an in-memory database.
#[cfg(feature = "sqlite")]
pub struct Sqlite;

#[cfg(feature = "sqlite")]
impl Backend for Sqlite {
    const NAME: &'static str = "SqliteStore";

    /// 50, or `PRONET_SQLITE_RACE_REPS`.
    fn reps() -> usize {
        reps_from("PRONET_SQLITE_RACE_REPS", 50)
    }

    fn serial(policy: &Policy) -> Net {
        let store = pronet::SqliteStore::open_in_memory().unwrap();
        open(Arc::new(store) as Arc<dyn Snap>, policy)
    }

    fn race(s: &Scenario) -> Raced {
        let file = TempDb::new("races");
        let path = file.path().to_owned();
        race_apart(
            s,
            move || pronet::SqliteStore::open(&path).unwrap(),
            Box::new(file),
        )
    }
}

/// Each racing call on its own `PostgresStore` (its own pool, so its own
/// connection) to one fresh schema, and its own network over it, as
/// separate processes sharing a database would; serial orders on
/// `MemoryStore`. The tests check that `PRONET_POSTGRES_URL` is set.
#[cfg(feature = "postgres")]
pub struct Postgres;

#[cfg(feature = "postgres")]
impl Backend for Postgres {
    const NAME: &'static str = "PostgresStore";

    /// 10, or `PRONET_POSTGRES_RACE_REPS`.
    fn reps() -> usize {
        reps_from("PRONET_POSTGRES_RACE_REPS", 10)
    }

    fn serial(policy: &Policy) -> Net {
        open(Arc::new(MemoryStore::new()) as Arc<dyn Snap>, policy)
    }

    fn race(s: &Scenario) -> Raced {
        use crate::support::pg;
        let url = std::env::var(pg::VAR).unwrap();
        let schemas = pg::Schemas::new(&url);
        let schema = schemas.fresh("races");
        race_apart(s, move || pg::store_in(&url, &schema), Box::new(schemas))
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// Races `s` with each call on its own store and network over one
/// database (`store` opens a new store on it, like a process would); the
/// setup runs first, on a store of its own, and the end is observed by a
/// network freshly opened on it, which every racing network, once caught
/// up, must equal. `database` keeps the database for the checks.
fn race_apart<S: Snap + 'static>(
    s: &Scenario,
    store: impl Fn() -> S + Sync,
    database: Box<dyn std::any::Any>,
) -> Raced {
    let (setup, before) = {
        let net = open(Arc::new(store()) as Arc<dyn Snap>, &s.policy);
        let setup = (s.setup)(&net);
        let before = net.store().records();
        (setup, before)
    };
    let conflicts = Conflicts::default();
    let (results, overlapped) = race_threads(
        &setup.calls,
        || open(Watched::new(store(), conflicts.clone()), &s.policy),
        perform,
    );
    // A network freshly opened on the database observes; every racing
    // network, once caught up, holds the same graph.
    let fresh = open(Arc::new(store()) as Arc<dyn Snap>, &s.policy);
    let fresh_graph = graph_of(&fresh, &setup.members);
    let mut answers = Vec::new();
    for (answer, net) in results {
        let _ = net.catch_up().unwrap();
        assert_eq!(
            graph_of(&net, &setup.members),
            fresh_graph,
            "{}: a racing network did not converge",
            s.name
        );
        answers.push(answer);
    }
    Raced {
        net: fresh,
        setup,
        before,
        answers,
        overlapped,
        conflicts: conflicts.count(),
        _file: Some(database),
    }
}

/// Makes each call on its own thread, on the network `net` gives that
/// thread, all released at once; the answers (with each thread's network),
/// and whether all calls started before the first one finished.
fn race_threads<N: Send>(
    calls: &[Call],
    net: impl Fn() -> N + Sync,
    perform: impl Fn(&N, Call) -> Answer + Sync,
) -> (Vec<(Answer, N)>, bool) {
    let n = calls.len();
    let barrier = Barrier::new(n);
    let ready = AtomicUsize::new(0);
    let results: Vec<(Answer, N, Instant, Instant)> = thread::scope(|scope| {
        let handles: Vec<_> = calls
            .iter()
            .map(|&call| {
                let (net, perform, barrier, ready) = (&net, &perform, &barrier, &ready);
                scope.spawn(move || {
                    let net = net();
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
                    let started = Instant::now();
                    let answer = perform(&net, call);
                    (answer, net, started, Instant::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let last_start = results.iter().map(|r| r.2).max().unwrap();
    let first_end = results.iter().map(|r| r.3).min().unwrap();
    let overlapped = last_start < first_end;
    let answers = results.into_iter().map(|(a, net, ..)| (a, net)).collect();
    (answers, overlapped)
}

/// Checks everything after `calls` ran on `net` from `before`, and
/// observes.
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
fn serial<B: Backend>(s: &Scenario, order: &[usize]) -> Outcome {
    let net = B::serial(&s.policy);
    let setup = (s.setup)(&net);
    let before = net.store().records();
    let mut answers = vec![Answer::Contended; setup.calls.len()];
    for &i in order {
        answers[i] = perform(&net, setup.calls[i]);
    }
    finish(s, &net, &setup, &before, answers)
}

/// The distinct outcomes of every serial order of the calls `included`.
fn serial_outcomes<B: Backend>(s: &Scenario, included: &[usize]) -> Vec<Outcome> {
    let mut distinct: Vec<Outcome> = Vec::new();
    for order in permutations(included) {
        let outcome = serial::<B>(s, &order);
        if !distinct.contains(&outcome) {
            distinct.push(outcome);
        }
    }
    distinct
}

/// Held by each scenario while it runs: the test harness runs tests in
/// parallel, and races between scenarios for the cores would make the
/// racing calls within one scenario overlap less often.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs scenario `s` on store `B`: every repetition's outcome must be the
/// outcome of some serial order of the calls that did not give up under
/// contention, and none may give up.
pub fn run<B: Backend>(s: &Scenario) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let reps = B::reps();
    // The serial setup alone, for the calls.
    let expected = (s.setup)(&B::serial(&s.policy));
    let n = expected.calls.len();
    let everything: Vec<usize> = (0..n).collect();
    let mut allowed: HashMap<Vec<usize>, Vec<Outcome>> = HashMap::new();
    allowed.insert(everything.clone(), serial_outcomes::<B>(s, &everything));
    let mut seen: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let (mut contended, mut overlapped, mut conflicts, mut conflicted) = (0, 0, 0, 0);
    for rep in 0..reps {
        let raced = B::race(s);
        assert_eq!(raced.setup, expected, "setups are deterministic");
        overlapped += usize::from(raced.overlapped);
        conflicts += raced.conflicts;
        conflicted += usize::from(raced.conflicts > 0);
        let outcome = finish(s, &raced.net, &raced.setup, &raced.before, raced.answers);
        // A call that gave up under contention changed nothing: compare
        // with the serial orders of the other calls.
        let included: Vec<usize> = (0..n)
            .filter(|&i| outcome.answers[i] != Answer::Contended)
            .collect();
        contended += n - included.len();
        let options = allowed
            .entry(included.clone())
            .or_insert_with(|| serial_outcomes::<B>(s, &included));
        match options.iter().position(|o| *o == outcome) {
            Some(i) => *seen.entry((n - included.len(), i)).or_default() += 1,
            None => panic!(
                "{} on {}: repetition {rep} ended in no serial order's outcome.\n\
                 race: {outcome:#?}\nserial outcomes: {options:#?}",
                s.name,
                B::NAME
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
    eprintln!(
        "{} on {}: {reps} repetitions of {n} racing calls; {full} distinct serial outcome(s) \
         over {} order(s); observed [{}]; calls overlapped in {overlapped} repetitions; \
         commits refused as conflicts and retried: {conflicts} (in {conflicted} repetitions); \
         Error::Contended: {contended}; {:.2?}",
        s.name,
        B::NAME,
        permutations(&everything).len(),
        observed.join(", "),
        started.elapsed()
    );
    assert_eq!(
        contended,
        0,
        "{} on {}: Error::Contended {contended} times",
        s.name,
        B::NAME
    );
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
