//! Race tests on real threads against `SqliteStore` (RELIABILITY A3, with
//! G5, I1, I9 and Q1): every racing thread has its own SQLite connection to
//! one database file and its own `Network` over it, as separate processes
//! sharing a database would.
//!
//! Each repetition creates a fresh file, sets the scenario up serially
//! through one network, then starts one thread per racing call: each opens
//! its own `SqliteStore` on the file and a `Network` over it, waits on a
//! barrier, spins until all are awake, and makes its call. Afterwards every
//! racing network catches up (`Network::catch_up`) and must hold the same
//! graph as a network freshly opened on the file, which then observes the
//! outcome: every call's answer (with its events), every stored record with
//! its version, every member's connections, every invitation as each party
//! sees it, and every inbox, held and sent list, with invitation ids
//! renumbered in (sender, recipient, id) order since retries skip ids. The
//! outcome must equal the outcome of some serial order of the same calls,
//! each order run on its own network over an in-memory `SqliteStore` (all
//! orders, computed once per scenario). Every repetition also checks the
//! invariants: the index mirrors the store's connections, each ledger
//! counts its member's connections, at most one open invitation per pair
//! and it is the one the pair record names (I1), none while connected
//! (I2), and no event twice.
//!
//! Scenarios (calls raced at once):
//! - `a3_sqlite_double_send`: the same send twice.
//! - `a3_sqlite_crossing_sends` (I9): A→B and B→A.
//! - `a3_sqlite_accept_vs_withdraw`.
//! - `a3_sqlite_accept_vs_accept` (I4).
//! - `a3_sqlite_cap_minus_one_member_accepts` (G5): a member at cap-1 (cap
//!   3) accepts 3 invitations at once.
//! - `a3_sqlite_cap_minus_one_recipients_accept` (G5): 3 recipients of a
//!   cap-1 member's invitations accept at once.
//! - `a3_sqlite_last_quota_slot` (Q1): a sender with one slot left of a
//!   quota of 3 sends to 3 members at once.
//!
//! Each scenario runs 50 repetitions by default (`PRONET_SQLITE_RACE_REPS`
//! sets another count); together they take well under a minute in debug on
//! 2 cores. Each prints (`-- --nocapture`) its repetitions, the serial
//! outcomes it matched and how often, and in how many repetitions the
//! racing calls overlapped in time (all calls started before the first one
//! finished). The scenarios run one at a time.

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::TimeDelta;
use pronet::change::Write;
use pronet::invitation::{Invitation, PairState};
use pronet::quota::Quota;
use pronet::record::{Key, Record, Versioned};
use pronet::store::Role;
use pronet::{
    ChangeCursor, Changes, CommitError, Email, Error, Event, InvitationId, InvitationView, Listed,
    ManualClock, Member, MemberId, Network, PageSize, PairKey, Policy, Profile, Refusal,
    SendOutcome, SqliteStore, Store, StoreError, Tier, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

type Net<S> = Network<S, ManualClock>;
type Snapshot = Vec<(Key, Versioned<Record>)>;

/// 2023-11-14; the clock never moves.
const START: Timestamp = Timestamp::from_micros(1_700_000_000_000_000);

/// The connection cap of the G5 scenarios.
const CAP: u32 = 3;

fn reps() -> usize {
    std::env::var("PRONET_SQLITE_RACE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A fresh database path, its files removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("races");
        std::fs::create_dir_all(&dir).unwrap();
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let this = Self(dir.join(format!("{}-{n}.db", std::process::id())));
        this.remove();
        this
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.0.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A store that counts the commits it refused as conflicts: each is a race
/// the expected versions caught, followed by a retry from fresh facts.
struct Counting<'a> {
    inner: SqliteStore,
    conflicts: &'a AtomicUsize,
}

impl Store for Counting<'_> {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        self.inner.get(key)
    }
    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        let result = self.inner.commit(writes);
        if matches!(result, Err(CommitError::Conflict(_))) {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    fn open_invitations(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<Invitation>, StoreError> {
        self.inner.open_invitations(member, role)
    }
    fn members(&self) -> Result<Vec<Member>, StoreError> {
        self.inner.members()
    }
    fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
        self.inner.connections()
    }
    fn contacts(&self, owner: MemberId) -> Result<Vec<pronet::contacts::Contact>, StoreError> {
        self.inner.contacts(owner)
    }
    fn blocks(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<pronet::block::Block>, StoreError> {
        self.inner.blocks(member, role)
    }
    fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
        self.inner.next_invitation_id()
    }
    fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        self.inner.change_cursor()
    }
    fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        self.inner.changes_since(after, limit)
    }
}

// ---------------------------------------------------------------------------
// Building networks
// ---------------------------------------------------------------------------

fn m(raw: u64) -> MemberId {
    MemberId::new(raw)
}

fn email(id: MemberId) -> Email {
    Email::parse(&format!("m{}@example.com", id.get())).unwrap()
}

fn open<S: Store>(store: S, policy: &Policy) -> Net<S> {
    Network::open(store, ManualClock::new(START), policy.clone()).unwrap()
}

fn register<S: Store>(net: &Net<S>, ids: &[MemberId]) {
    for &id in ids {
        let member = Member::person(id, Profile::named(format!("Member {}", id.get())))
            .with_email(email(id), true);
        let _ = net.register(member).unwrap();
    }
}

fn invite<S: Store>(net: &Net<S>, sender: MemberId, recipient: MemberId) -> InvitationId {
    match net
        .send(sender, recipient, None, Some(&email(recipient)))
        .unwrap()
        .outcome
    {
        SendOutcome::Sent(id) => id,
        other => panic!("setup send {sender}→{recipient}: {other:?}"),
    }
}

fn connect<S: Store>(net: &Net<S>, a: MemberId, b: MemberId) {
    let id = invite(net, a, b);
    let _ = net.accept(b, id).unwrap();
}

fn page_max() -> PageSize {
    PageSize::new(PageSize::MAX).unwrap()
}

fn members(range: std::ops::RangeInclusive<u64>) -> Vec<MemberId> {
    range.map(m).collect()
}

// ---------------------------------------------------------------------------
// Calls and answers
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Send(MemberId, MemberId),
    Accept(MemberId, InvitationId),
    Withdraw(MemberId, InvitationId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Sent(SendOutcome, Vec<Event>),
    Done(Vec<Event>),
    Refused(Refusal),
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
            other => Self::Failed(format!("{other:?}")),
        }
    }

    fn connected(&self) -> bool {
        self.events()
            .iter()
            .any(|e| matches!(e, Event::ConnectionCreated { .. }))
    }
}

fn perform<S: Store>(net: &Net<S>, call: Call) -> Answer {
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
// The normalized outcome
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

/// Canonical invitation ids, in (sender, recipient, raw id) order.
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
                .map(|((_, _, raw), n)| (raw, InvitationId::new(n)))
                .collect(),
        )
    }

    fn id(&self, raw: InvitationId) -> InvitationId {
        self.0
            .get(&raw)
            .copied()
            .unwrap_or(InvitationId::new(1_000_000 + raw.get()))
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
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    answers: Vec<Answer>,
    records: Snapshot,
    graph: Vec<(MemberId, Vec<MemberId>)>,
    views: Vec<(InvitationId, MemberId, Result<InvitationView, Answer>)>,
    lists: Vec<(MemberId, [Vec<Listed>; 3])>,
}

fn graph_of<S: Store>(net: &Net<S>, members: &[MemberId]) -> Vec<(MemberId, Vec<MemberId>)> {
    let graph = net.graph();
    members
        .iter()
        .map(|&member| {
            let mut items = graph.connections(member, None, page_max()).unwrap().items;
            items.sort();
            (member, items)
        })
        .collect()
}

fn observe<S: Store>(
    net: &Net<S>,
    snap: &Snapshot,
    members: &[MemberId],
    answers: Vec<Answer>,
) -> Outcome {
    let ids = Ids::new(snap);
    let mut records: Snapshot = snap
        .iter()
        .map(|(key, v)| {
            let key = match key {
                Key::Invitation(id) => Key::Invitation(ids.id(*id)),
                other => other.clone(),
            };
            (
                key,
                Versioned {
                    version: v.version,
                    value: ids.record(v.value.clone()),
                },
            )
        })
        .collect();
    records.sort_by(|a, b| a.0.cmp(&b.0));
    let mut views = Vec::new();
    for inv in invitations(snap).values() {
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
        page.unwrap()
            .items
            .into_iter()
            .map(|mut l| {
                l.invitation = ids.id(l.invitation);
                l
            })
            .collect()
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
        graph: graph_of(net, members),
        views,
        lists,
    }
}

/// I1, I2, the ledgers, the index against the store, and no event twice.
fn check_invariants<S: Store>(
    net: &Net<S>,
    snap: &Snapshot,
    members: &[MemberId],
    answers: &[Answer],
) {
    let store: BTreeSet<PairKey> = net.store().connections().unwrap().into_iter().collect();
    assert_eq!(store, connected(snap), "Store::connections");
    let indexed: BTreeSet<PairKey> = graph_of(net, members)
        .into_iter()
        .flat_map(|(a, bs)| bs.into_iter().map(move |b| PairKey::new(a, b).unwrap()))
        .collect();
    assert_eq!(indexed, store, "the graph index mirrors the store");
    for &member in members {
        let degree = store
            .iter()
            .filter(|p| p.low() == member || p.high() == member)
            .count() as u32;
        let ledger = snap
            .iter()
            .find_map(|(key, v)| match (key, &v.value) {
                (Key::Ledger(id), Record::Ledger(l)) if *id == member => Some(l.connections),
                _ => None,
            })
            .unwrap_or(0);
        assert_eq!(ledger, degree, "ledger of {member}");
    }
    let pairs = pairs(snap);
    let mut open: BTreeMap<PairKey, Vec<InvitationId>> = BTreeMap::new();
    for inv in invitations(snap).values().filter(|i| i.is_open()) {
        open.entry(inv.pair().unwrap()).or_default().push(inv.id);
    }
    for (key, ids) in &open {
        assert_eq!(ids.len(), 1, "I1: open invitations {ids:?} for {key:?}");
        assert_eq!(pairs[key].open, Some(ids[0]), "the pair names its open one");
        assert!(!store.contains(key), "I2: open invitation while connected");
    }
    let mut distinct = BTreeSet::new();
    for event in answers.iter().flat_map(Answer::events) {
        assert!(
            distinct.insert(format!("{event:?}")),
            "duplicate event {event:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Scenarios and the runner
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
struct Setup {
    members: Vec<MemberId>,
    calls: Vec<Call>,
}

struct Scenario {
    name: &'static str,
    policy: Policy,
    setup: fn(&Net<SqliteStore>) -> Setup,
    setup_ref: fn(&Net<&SqliteStore>) -> Setup,
    check: fn(&[Answer]),
}

/// The outcome of the calls in `order`, one after another, on one network
/// over an in-memory database.
fn serial(s: &Scenario, order: &[usize]) -> Outcome {
    let store = SqliteStore::open_in_memory().unwrap();
    let net = open(&store, &s.policy);
    let setup = (s.setup_ref)(&net);
    let mut answers = vec![Answer::Failed("not run".into()); setup.calls.len()];
    for &i in order {
        answers[i] = perform(&net, setup.calls[i]);
    }
    let snap = store.snapshot().unwrap();
    check_invariants(&net, &snap, &setup.members, &answers);
    (s.check)(&answers);
    observe(&net, &snap, &setup.members, answers)
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

/// One race on a fresh file: its outcome, whether all calls started before
/// the first one finished, and how many commits were refused as conflicts.
fn race(s: &Scenario, expected: &Setup) -> (Outcome, bool, usize) {
    let path = TempPath::new();
    let setup = {
        let net = open(SqliteStore::open(&path.0).unwrap(), &s.policy);
        (s.setup)(&net)
    };
    assert_eq!(&setup, expected, "setups are deterministic");
    let n = setup.calls.len();
    let barrier = Barrier::new(n);
    let ready = AtomicUsize::new(0);
    let conflicts = AtomicUsize::new(0);
    let results: Vec<(Answer, Net<Counting<'_>>, Instant, Instant)> = thread::scope(|scope| {
        let handles: Vec<_> = setup
            .calls
            .iter()
            .map(|&call| {
                let (path, barrier, ready, policy) = (&path, &barrier, &ready, &s.policy);
                let conflicts = &conflicts;
                scope.spawn(move || {
                    // Its own connection and its own network, like a process.
                    let store = Counting {
                        inner: SqliteStore::open(&path.0).unwrap(),
                        conflicts,
                    };
                    let net = open(store, policy);
                    barrier.wait();
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
    let overlapped = {
        let last_start = results.iter().map(|r| r.2).max().unwrap();
        let first_end = results.iter().map(|r| r.3).min().unwrap();
        last_start < first_end
    };
    // A network freshly opened on the file observes; every racing network,
    // once caught up, holds the same graph.
    let store = SqliteStore::open(&path.0).unwrap();
    let snap = store.snapshot().unwrap();
    let fresh = open(store, &s.policy);
    let fresh_graph = graph_of(&fresh, &setup.members);
    let mut answers = Vec::new();
    for (answer, net, _, _) in results {
        let _ = net.catch_up().unwrap();
        assert_eq!(
            graph_of(&net, &setup.members),
            fresh_graph,
            "{}: a racing network did not converge",
            s.name
        );
        answers.push(answer);
    }
    check_invariants(&fresh, &snap, &setup.members, &answers);
    (s.check)(&answers);
    let conflicts = conflicts.load(Ordering::SeqCst);
    (
        observe(&fresh, &snap, &setup.members, answers),
        overlapped,
        conflicts,
    )
}

fn run(s: &Scenario) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let reps = reps();
    let expected = {
        let store = SqliteStore::open_in_memory().unwrap();
        (s.setup_ref)(&open(&store, &s.policy))
    };
    let n = expected.calls.len();
    let orders = permutations(&(0..n).collect::<Vec<_>>());
    let mut outcomes: Vec<Outcome> = Vec::new();
    for order in &orders {
        let outcome = serial(s, order);
        if !outcomes.contains(&outcome) {
            outcomes.push(outcome);
        }
    }
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    let (mut overlapped, mut conflicts, mut conflicted) = (0, 0, 0);
    for rep in 0..reps {
        let (outcome, overlap, refused) = race(s, &expected);
        overlapped += usize::from(overlap);
        conflicts += refused;
        conflicted += usize::from(refused > 0);
        match outcomes.iter().position(|o| *o == outcome) {
            Some(i) => *seen.entry(i).or_default() += 1,
            None => panic!(
                "{}: repetition {rep} ended in no serial order's outcome.\n\
                 race: {outcome:#?}\nserial outcomes: {outcomes:#?}",
                s.name
            ),
        }
    }
    let observed: Vec<String> = seen
        .iter()
        .map(|(i, count)| format!("serial outcome #{i}: {count}"))
        .collect();
    eprintln!(
        "{}: {reps} repetitions of {n} racing calls, one SQLite connection and network per \
         thread; {} distinct serial outcome(s) over {} order(s); observed [{}]; calls \
         overlapped in {overlapped} repetitions; commits refused as conflicts and retried: \
         {conflicts} (in {conflicted} repetitions); {:.2?}",
        s.name,
        outcomes.len(),
        orders.len(),
        observed.join(", "),
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// Setups, written once for both kinds of network
// ---------------------------------------------------------------------------

macro_rules! setups {
    ($($name:ident($net:ident) $body:block)*) => {
        mod file {
            use super::*;
            $(pub fn $name($net: &Net<SqliteStore>) -> Setup $body)*
        }
        mod in_memory {
            use super::*;
            $(pub fn $name($net: &Net<&SqliteStore>) -> Setup $body)*
        }
    };
}

setups! {
    two_via_hub_sends(net) {
        // 1 and 2 share 3: eligible to invite each other without proof.
        register(net, &members(1..=3));
        connect(net, m(3), m(1));
        connect(net, m(3), m(2));
        Setup { members: members(1..=3), calls: vec![Call::Send(m(1), m(2)), Call::Send(m(1), m(2))] }
    }
    crossing(net) {
        register(net, &members(1..=3));
        connect(net, m(3), m(1));
        connect(net, m(3), m(2));
        Setup { members: members(1..=3), calls: vec![Call::Send(m(1), m(2)), Call::Send(m(2), m(1))] }
    }
    accept_vs_withdraw(net) {
        register(net, &members(1..=2));
        let id = invite(net, m(1), m(2));
        Setup { members: members(1..=2), calls: vec![Call::Accept(m(2), id), Call::Withdraw(m(1), id)] }
    }
    accept_vs_accept(net) {
        register(net, &members(1..=2));
        let id = invite(net, m(1), m(2));
        Setup { members: members(1..=2), calls: vec![Call::Accept(m(2), id), Call::Accept(m(2), id)] }
    }
    cap_member_accepts(net) {
        // 1 is connected to 2 and 3 (cap 3), and invited by 4, 5 and 6.
        register(net, &members(1..=6));
        connect(net, m(1), m(2));
        connect(net, m(1), m(3));
        let calls = members(4..=6).into_iter().map(|s| Call::Accept(m(1), invite(net, s, m(1)))).collect();
        Setup { members: members(1..=6), calls }
    }
    cap_recipients_accept(net) {
        // 1 is connected to 2 and 3 (cap 3), and has invited 4, 5 and 6.
        register(net, &members(1..=6));
        connect(net, m(1), m(2));
        connect(net, m(1), m(3));
        let calls = members(4..=6).into_iter().map(|r| Call::Accept(r, invite(net, m(1), r))).collect();
        Setup { members: members(1..=6), calls }
    }
    last_quota_slot(net) {
        // Everyone is connected to hub 10, each by inviting it; 1 has also
        // invited 2, so 1 has one send left of 3, and races 3 more.
        let mut everyone = members(1..=5);
        everyone.push(m(10));
        register(net, &everyone);
        for raw in 1..=5 {
            connect(net, m(raw), m(10));
        }
        invite(net, m(1), m(2));
        Setup { members: everyone, calls: vec![Call::Send(m(1), m(3)), Call::Send(m(1), m(4)), Call::Send(m(1), m(5))] }
    }
}

fn capped() -> Policy {
    Policy::builder().max_connections(CAP).build().unwrap()
}

fn quota_of_three() -> Policy {
    Policy::builder()
        .invitation_quota(Tier::Free, Quota::new(3, TimeDelta::days(30)).unwrap())
        .build()
        .unwrap()
}

fn winners(answers: &[Answer]) -> usize {
    answers.iter().filter(|a| a.connected()).count()
}

fn check_cap(answers: &[Answer]) {
    assert_eq!(
        winners(answers),
        1,
        "G5: exactly one connects: {answers:#?}"
    );
    for answer in answers.iter().filter(|a| !a.connected()) {
        assert_eq!(
            answer,
            &Answer::Refused(Refusal::ConnectionCap {
                member: m(1),
                cap: CAP
            }),
            "G5"
        );
    }
}

#[test]
fn a3_sqlite_double_send() {
    run(&Scenario {
        name: "a3_sqlite_double_send",
        policy: Policy::default(),
        setup: file::two_via_hub_sends,
        setup_ref: in_memory::two_via_hub_sends,
        check: |answers| {
            let sent = answers
                .iter()
                .filter(|a| matches!(a, Answer::Sent(..)))
                .count();
            assert_eq!(sent, 1, "I1: one invitation: {answers:#?}");
            assert!(
                answers
                    .iter()
                    .any(|a| matches!(a, Answer::Refused(Refusal::ResendTooSoon { .. })))
            );
        },
    });
}

#[test]
fn a3_sqlite_crossing_sends() {
    run(&Scenario {
        name: "a3_sqlite_crossing_sends",
        policy: Policy::default(),
        setup: file::crossing,
        setup_ref: in_memory::crossing,
        check: |answers| {
            assert_eq!(winners(answers), 1, "I9: one connection: {answers:#?}");
            assert!(answers.iter().all(|a| matches!(a, Answer::Sent(..))));
        },
    });
}

#[test]
fn a3_sqlite_accept_vs_withdraw() {
    run(&Scenario {
        name: "a3_sqlite_accept_vs_withdraw",
        policy: Policy::default(),
        setup: file::accept_vs_withdraw,
        setup_ref: in_memory::accept_vs_withdraw,
        check: |answers| {
            let done = answers
                .iter()
                .filter(|a| matches!(a, Answer::Done(e) if !e.is_empty()))
                .count();
            assert_eq!(
                done, 1,
                "exactly one of accept and withdraw wins: {answers:#?}"
            );
        },
    });
}

#[test]
fn a3_sqlite_accept_vs_accept() {
    run(&Scenario {
        name: "a3_sqlite_accept_vs_accept",
        policy: Policy::default(),
        setup: file::accept_vs_accept,
        setup_ref: in_memory::accept_vs_accept,
        check: |answers| {
            assert!(
                answers.iter().all(|a| matches!(a, Answer::Done(_))),
                "{answers:#?}"
            );
            assert_eq!(winners(answers), 1, "I4: one connection, one set of events");
        },
    });
}

#[test]
fn a3_sqlite_cap_minus_one_member_accepts() {
    run(&Scenario {
        name: "a3_sqlite_cap_minus_one_member_accepts",
        policy: capped(),
        setup: file::cap_member_accepts,
        setup_ref: in_memory::cap_member_accepts,
        check: check_cap,
    });
}

#[test]
fn a3_sqlite_cap_minus_one_recipients_accept() {
    run(&Scenario {
        name: "a3_sqlite_cap_minus_one_recipients_accept",
        policy: capped(),
        setup: file::cap_recipients_accept,
        setup_ref: in_memory::cap_recipients_accept,
        check: check_cap,
    });
}

#[test]
fn a3_sqlite_last_quota_slot() {
    run(&Scenario {
        name: "a3_sqlite_last_quota_slot",
        policy: quota_of_three(),
        setup: file::last_quota_slot,
        setup_ref: in_memory::last_quota_slot,
        check: |answers| {
            let sent = answers
                .iter()
                .filter(|a| matches!(a, Answer::Sent(..)))
                .count();
            assert_eq!(sent, 1, "Q1: the last slot is taken once: {answers:#?}");
            for answer in answers.iter().filter(|a| !matches!(a, Answer::Sent(..))) {
                assert!(
                    matches!(answer, Answer::Refused(Refusal::QuotaExhausted { .. })),
                    "{answer:?}"
                );
            }
        },
    });
}
