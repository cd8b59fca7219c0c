//! Store faults: RELIABILITY A1 and A2, with `FaultyStore` in front of
//! `MemoryStore` and (feature `sqlite`) `SqliteStore` in memory.
//!
//! - A1: for every mutating `Network` operation (register, update_member,
//!   deactivate, add_contacts, send, a crossing send, accept, ignore with
//!   each reason, reject, withdraw) and every k from 1 to the number of
//!   store calls the operation makes, an operation whose k-th store call
//!   fails answers `Error::Store`, carries no events, and leaves the stored
//!   records (with their versions) and the graph index exactly as before;
//!   the same operation run again without the fault then succeeds with the
//!   outcome of an undisturbed run. A commit failing without being applied
//!   (`Fault::Commit`) is one of those points, and is checked on its own too.
//! - A2: a commit that is applied but reported as failed
//!   (`Fault::CommitApplied`, a lost acknowledgement), followed by the
//!   caller retrying the same operation, leaves the records and the graph
//!   exactly as one undisturbed application does. The retry re-decides from
//!   the store, so it answers as a repeat does: accept, ignore, reject,
//!   withdraw, update and deactivate succeed with no events (I4), register
//!   is refused `MemberExists`, add_contacts adds nothing, a send is refused
//!   `ResendTooSoon` (its invitation exists; the re-send ladder applies) and
//!   a crossing send `AlreadyConnected`. The events of the lost commit are
//!   not in the caller's answer, but they are in the outbox, once (E2),
//!   for the relay. The graph is repaired from the change feed at once,
//!   or, when the store is still failing then, before the next operation.
//! - E1, with A1: after every fault point, the outbox holds the events of
//!   exactly the changes that committed, once each.
//!
//! - A1 for the resumable operations, `Network::erase` and
//!   `Network::apply_retention` (each a sequence of atomic steps): for
//!   every k, an erasure or a retention pass whose k-th store call fails
//!   answers `Error::Store` or completes; an erased member is unusable as
//!   soon as any of its steps committed; running it again without the fault
//!   finishes the work, and leaves the records, the outbox and the graph
//!   exactly as an undisturbed run.
//!
//! Each test prints the fault points it swept (`-- --nocapture`).

#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::ChangeCursor;
use pronet::record::{Key, Record, Versioned};
use pronet::store::{Fault, FaultyStore};
use pronet::{
    Email, Error, Event, IgnoreReason, InvitationId, ManualClock, Member, MemberId, MemoryStore,
    Network, PageSize, Policy, Profile, Refusal, Store,
};
use std::collections::BTreeMap;
use support::{T0, m};

type Snapshot = Vec<(Key, Versioned<Record>)>;

/// A store the tests can make empty and read whole.
trait Inspect: Store + Sized {
    const NAME: &'static str;
    fn make() -> Self;
    fn snap(&self) -> Snapshot;
}

impl Inspect for MemoryStore {
    const NAME: &'static str = "MemoryStore";
    fn make() -> Self {
        MemoryStore::new()
    }
    fn snap(&self) -> Snapshot {
        self.snapshot()
    }
}

#[cfg(feature = "sqlite")]
impl Inspect for pronet::SqliteStore {
    const NAME: &'static str = "SqliteStore (in memory)";
    fn make() -> Self {
        pronet::SqliteStore::open_in_memory().unwrap()
    }
    fn snap(&self) -> Snapshot {
        self.snapshot().unwrap()
    }
}

/// Each store in a fresh schema of the server `PRONET_POSTGRES_URL` names
/// (the tests below check that it is set), dropped by `drop_pg_schemas`.
#[cfg(feature = "postgres")]
impl Inspect for pronet::PostgresStore {
    const NAME: &'static str = "PostgresStore";
    fn make() -> Self {
        let url = std::env::var(support::pg::VAR).unwrap();
        let schema = support::pg::fresh_schema("faults");
        PG_SCHEMAS.lock().unwrap().push(schema.clone());
        support::pg::store_in(&url, &schema)
    }
    fn snap(&self) -> Snapshot {
        self.snapshot().unwrap()
    }
}

#[cfg(feature = "postgres")]
static PG_SCHEMAS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Drops the schemas the PostgreSQL stores of this process were made in.
#[cfg(feature = "postgres")]
fn drop_pg_schemas(url: &str) {
    let names: Vec<String> = PG_SCHEMAS.lock().unwrap().drain(..).collect();
    for name in names {
        support::pg::drop_schema(url, &name);
    }
}

type Net<S> = Network<FaultyStore<S>, ManualClock>;

/// Everyone the tests look at: the world's members and the one registered.
const EVERYONE: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 20];

fn email(raw: u64) -> Email {
    Email::parse(&format!("m{raw}@example.com")).unwrap()
}

fn person(raw: u64) -> Member {
    Member::person(m(raw), Profile::named(format!("Member {raw}"))).with_email(email(raw), true)
}

/// The invitations the operations act on.
#[derive(Clone, Copy, Debug)]
struct Ids {
    /// 3 → 1, accepted by 1.
    accept: InvitationId,
    /// 4 → 1, ignored by 1.
    ignore: InvitationId,
    /// 5 → 1, rejected by 1.
    reject: InvitationId,
    /// 1 → 6, withdrawn by 1.
    withdraw: InvitationId,
}

fn invite<S: Inspect>(net: &Net<S>, from: u64, to: u64) -> InvitationId {
    support::invite_with(
        net,
        pronet::SendRequest::new(m(from), m(to))
            .note("Hello 👋")
            .proof(&email(to)),
    )
}

/// Members 1 to 7; 1 and 2 connected; invitations to 1 from 3, 4, 5 and 7,
/// and from 1 to 6; 1 has 2's address in their contacts.
fn world<S: Inspect>() -> (Net<S>, Ids) {
    world_on(ManualClock::new(T0))
}

/// [`world`] on `clock`.
fn world_on<S: Inspect>(clock: ManualClock) -> (Net<S>, Ids) {
    let store = FaultyStore::new(S::make());
    let net = Network::open(store, clock, Policy::default()).unwrap();
    for raw in 1..=7 {
        let _ = net.register(person(raw)).unwrap();
    }
    let first = invite(&net, 1, 2);
    let _ = net.accept(m(2), first).unwrap();
    let ids = Ids {
        accept: invite(&net, 3, 1),
        ignore: invite(&net, 4, 1),
        reject: invite(&net, 5, 1),
        withdraw: invite(&net, 1, 6),
    };
    invite(&net, 7, 1);
    let _ = net.add_contacts(m(1), &[email(2)]).unwrap();
    (net, ids)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Register,
    UpdateMember,
    Deactivate,
    AddContacts,
    Send,
    CrossingSend,
    Accept,
    Ignore(IgnoreReason),
    Reject,
    Withdraw,
}

const OPS: [Op; 12] = [
    Op::Register,
    Op::UpdateMember,
    Op::Deactivate,
    Op::AddContacts,
    Op::Send,
    Op::CrossingSend,
    Op::Accept,
    Op::Ignore(IgnoreReason::Ignored),
    Op::Ignore(IgnoreReason::DontKnow),
    Op::Ignore(IgnoreReason::Spam),
    Op::Reject,
    Op::Withdraw,
];

/// An operation's answer, with invitation ids left out (retries consume
/// ids, so a repeated run may use other numbers).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Done { events: usize, added: Option<usize> },
    Refused(String),
    Failed,
}

fn perform<S: Inspect>(net: &Net<S>, ids: Ids, op: Op) -> Result<Vec<Event>, Error> {
    let new_headline = |bo: &mut Member| bo.profile.headline = "Now at ACME".to_owned();
    match op {
        Op::Register => net.register(person(20)).map(|c| c.events),
        Op::UpdateMember => net.update_member(m(2), new_headline).map(|c| c.events),
        Op::Deactivate => net.deactivate(m(3)).map(|c| c.events),
        Op::AddContacts => net
            .add_contacts(m(1), &[email(2), email(30), email(31)])
            .map(|c| c.events),
        Op::Send => net
            .send(
                pronet::SendRequest::new(m(2), m(6))
                    .note("Hi — Bo here")
                    .proof(&email(6)),
            )
            .map(|c| c.events),
        Op::CrossingSend => net
            .send(pronet::SendRequest::new(m(1), m(7)))
            .map(|c| c.events),
        Op::Accept => net.accept(m(1), ids.accept).map(|c| c.events),
        Op::Ignore(reason) => net
            .ignore_because(m(1), ids.ignore, reason)
            .map(|c| c.events),
        Op::Reject => net.reject(m(1), ids.reject).map(|c| c.events),
        Op::Withdraw => net.withdraw(m(1), ids.withdraw).map(|c| c.events),
    }
}

fn answer(result: &Result<Vec<Event>, Error>) -> Answer {
    match result {
        Ok(events) => Answer::Done {
            events: events.len(),
            added: events.iter().find_map(|e| match e {
                Event::ContactsImported { added, .. } => Some(*added),
                _ => None,
            }),
        },
        Err(Error::Refused(r)) => Answer::Refused(format!("{r:?}")),
        Err(_) => Answer::Failed,
    }
}

/// Each member's presence and connections in the graph index.
fn graph<S: Inspect>(net: &Net<S>) -> Vec<(u64, bool, Vec<MemberId>)> {
    let graph = net.graph();
    EVERYONE
        .iter()
        .map(|&raw| {
            let connections = graph
                .connections(m(raw), None, PageSize::new(PageSize::MAX).unwrap())
                .map(|p| {
                    let mut items = p.items;
                    items.sort();
                    items
                })
                .unwrap_or_default();
            (raw, graph.contains(m(raw)), connections)
        })
        .collect()
}

/// The stored records with invitation ids renumbered in (sender,
/// recipient, id) order, as retries skip ids.
fn normalized(snap: &Snapshot) -> Snapshot {
    let mut invitations: Vec<_> = snap
        .iter()
        .filter_map(|(_, v)| match &v.value {
            Record::Invitation(i) => Some((i.sender, i.recipient, i.id)),
            _ => None,
        })
        .collect();
    invitations.sort();
    let ids: BTreeMap<InvitationId, InvitationId> = invitations
        .into_iter()
        .zip(1..)
        .map(|((_, _, raw), n)| (raw, InvitationId::new(n)))
        .collect();
    let id = |raw: InvitationId| ids.get(&raw).copied().unwrap_or(raw);
    let mut out: Snapshot = snap
        .iter()
        .map(|(key, v)| {
            let key = match key {
                Key::Invitation(raw) => Key::Invitation(id(*raw)),
                other => other.clone(),
            };
            let value = match v.value.clone() {
                Record::Invitation(mut i) => {
                    i.id = id(i.id);
                    Record::Invitation(i)
                }
                Record::Pair(mut p) => {
                    p.open = p.open.map(id);
                    Record::Pair(p)
                }
                Record::Ledger(mut l) => {
                    for entry in &mut l.sends {
                        entry.invitation = id(entry.invitation);
                    }
                    Record::Ledger(l)
                }
                other => other,
            };
            // A key of personal data is created at a version from its
            // feed position (Store clause 3), which differs from one
            // PostgreSQL database to the next: such records are compared
            // by value.
            let version = if key.holds_personal_data() {
                pronet::record::Version::FIRST
            } else {
                v.version
            };
            (key, Versioned { version, value })
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// What an undisturbed run of `op` answers and leaves, and how many store
/// calls it makes.
struct Reference {
    answer: Answer,
    records: Snapshot,
    /// The events in the outbox after the operation.
    outbox: Vec<String>,
    graph: Vec<(u64, bool, Vec<MemberId>)>,
    calls: u64,
}

fn reference<S: Inspect>(op: Op) -> Reference {
    let (net, ids) = world::<S>();
    let before = net.store().calls();
    let result = perform(&net, ids, op);
    assert!(
        result.is_ok(),
        "{op:?} must succeed undisturbed: {result:?}"
    );
    Reference {
        answer: answer(&result),
        calls: net.store().calls() - before,
        records: normalized(&net.store().inner().snap()),
        outbox: outbox(&net),
        graph: graph(&net),
    }
}

/// Every event in the outbox, in commit order, with invitation ids
/// numbered by first appearance (a failed attempt may have taken ids).
fn outbox<S: Inspect>(net: &Net<S>) -> Vec<String> {
    let page = net
        .store()
        .inner()
        .outbox(ChangeCursor::START, usize::MAX)
        .unwrap();
    let mut ids: Vec<String> = Vec::new();
    page.into_iter()
        .flat_map(|(_, o)| o.events)
        .map(|event| {
            let text = format!("{event:?}");
            let mut out = String::new();
            let mut rest = text.as_str();
            while let Some(at) = rest.find("InvitationId(") {
                let (head, tail) = rest.split_at(at + "InvitationId(".len());
                let end = tail.find(')').unwrap();
                let raw = tail[..end].to_owned();
                let n = ids.iter().position(|i| *i == raw).unwrap_or_else(|| {
                    ids.push(raw);
                    ids.len() - 1
                });
                out.push_str(head);
                out.push_str(&format!("#{n}"));
                rest = &tail[end..];
            }
            out.push_str(rest);
            out
        })
        .collect()
}

/// A1 for one store: every operation, every k. Answers the fault points.
/// E1 with it: after every fault, the outbox holds the events of exactly
/// the changes that committed. The operations are swept by a few threads
/// at once, each point in a world of its own: a PostgreSQL world waits on
/// the server most of its time.
fn a1_sweep<S: Inspect>() -> u64 {
    const SWEEPERS: usize = 3;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut swept: Vec<(usize, u64)> = std::thread::scope(|scope| {
        let sweepers: Vec<_> = (0..SWEEPERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&op) = OPS.get(at) else {
                            return mine;
                        };
                        mine.push((at, a1_sweep_op::<S>(op)));
                    }
                })
            })
            .collect();
        sweepers
            .into_iter()
            .flat_map(|s| s.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    swept.sort_unstable();
    let points = swept.iter().map(|&(_, calls)| calls).sum();
    let per_op: Vec<String> = swept
        .iter()
        .map(|&(at, calls)| format!("{:?}: {calls}", OPS[at]))
        .collect();
    eprintln!(
        "A1 {}: {points} fault points swept (store calls per operation: {}), each also \
         with Fault::Commit",
        S::NAME,
        per_op.join(", ")
    );
    points
}

/// The resumable operations of A1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resumable {
    /// Erase member 1 (who has connections, invitations both ways, notes
    /// and contacts).
    Erase,
    /// A whole retention pass, 3 records a call, 200 days on.
    Retention,
}

/// Runs `op` to its end; answers the first error, if any.
fn resume<S: Inspect>(net: &Net<S>, op: Resumable) -> Result<(), Error> {
    match op {
        Resumable::Erase => net.erase(m(1)).map(|_| ()),
        Resumable::Retention => loop {
            if !net.apply_retention(3)?.more {
                return Ok(());
            }
        },
    }
}

/// A world for `op`: `world`, and for retention some invitations closed
/// with notes, the clock past the policy's retention.
fn resumable_world<S: Inspect>(op: Resumable) -> Net<S> {
    let clock = ManualClock::new(T0);
    let (net, ids) = world_on::<S>(clock.clone());
    if op == Resumable::Retention {
        let _ = net.accept(m(1), ids.accept).unwrap();
        let _ = net
            .reject_with_note(m(1), ids.reject, "No, thanks")
            .unwrap();
        let _ = net.withdraw(m(1), ids.withdraw).unwrap();
        clock.set(T0.saturating_add(pronet::TimeDelta::days(200)));
    }
    net
}

/// A1 for `erase` and `apply_retention`: every k. Answers the fault points.
fn a1_resumable_sweep<S: Inspect>() -> u64 {
    let mut points = 0;
    for op in [Resumable::Erase, Resumable::Retention] {
        let (reference, calls) = {
            let net = resumable_world::<S>(op);
            let before = net.store().calls();
            resume(&net, op).unwrap();
            let calls = net.store().calls() - before;
            (
                (
                    normalized(&net.store().inner().snap()),
                    outbox(&net),
                    graph(&net),
                ),
                calls,
            )
        };
        assert!(calls > 3, "{op:?}: {calls} store calls");
        for k in 1..=calls {
            let net = resumable_world::<S>(op);
            net.store().inject(Fault::Call(k));
            let result = resume(&net, op);
            assert_eq!(net.store().fired(), 1, "{op:?} call {k}: the fault fired");
            match &result {
                Ok(()) | Err(Error::Store(_)) => {}
                other => panic!("A1 {op:?} call {k}: expected Error::Store, got {other:?}"),
            }
            if op == Resumable::Erase {
                let member = net
                    .store()
                    .inner()
                    .get(&Key::Member(m(1)))
                    .unwrap()
                    .unwrap();
                let erased =
                    matches!(&member.value, Record::Member(x) if !x.active && x.emails.is_empty());
                if erased {
                    // Unusable from the first step on.
                    assert!(matches!(
                        net.send(pronet::SendRequest::new(m(1), m(6)).proof(&email(6))),
                        Err(Error::Refused(Refusal::UnknownMember(_)))
                    ));
                } else {
                    assert!(result.is_err(), "A1 {op:?} call {k}: done but not erased");
                }
            }
            resume(&net, op).unwrap();
            net.catch_up().unwrap();
            assert_eq!(
                (
                    normalized(&net.store().inner().snap()),
                    outbox(&net),
                    graph(&net)
                ),
                reference,
                "A1 {op:?} call {k}: run again, as undisturbed"
            );
        }
        eprintln!("A1 {} {op:?}: {calls} fault points swept", S::NAME);
        points += calls;
    }
    points
}

/// A1 for one operation: a fault at each of its store calls in turn, and
/// at its commit. Answers the number of its store calls.
fn a1_sweep_op<S: Inspect>(op: Op) -> u64 {
    let reference = reference::<S>(op);
    let mut faults: Vec<Fault> = (1..=reference.calls).map(Fault::Call).collect();
    faults.push(Fault::Commit);
    for fault in faults {
        let (net, ids) = world::<S>();
        let (records, graph_before) = (net.store().inner().snap(), graph(&net));
        let outbox_before = outbox(&net);
        net.store().inject(fault);
        let result = perform(&net, ids, op);
        assert_eq!(net.store().fired(), 1, "{op:?} {fault:?}: the fault fired");
        match &result {
            Err(Error::Store(_)) => {}
            // A fault after the commit (following the feed into the
            // index; for registering and updating, delivering waiting
            // invitations to join, a second operation whose failure
            // leaves the first committed, see `Network::register`) finds
            // the state as after one successful run, and the index
            // follows at the next read or operation.
            Ok(_) => {
                assert_eq!(answer(&result), reference.answer, "A1 {op:?} {fault:?}");
                assert_eq!(
                    normalized(&net.store().inner().snap()),
                    reference.records,
                    "A1 {op:?} {fault:?}: a fault after the commit"
                );
                assert_eq!(outbox(&net), reference.outbox, "E1 {op:?} {fault:?}");
                net.catch_up().unwrap();
                assert_eq!(graph(&net), reference.graph, "A1 {op:?} {fault:?}");
                continue;
            }
            other => panic!("A1 {op:?} {fault:?}: expected Error::Store, got {other:?}"),
        }
        assert_eq!(
            net.store().inner().snap(),
            records,
            "A1 {op:?} {fault:?}: the records changed"
        );
        assert_eq!(
            outbox(&net),
            outbox_before,
            "E1 {op:?} {fault:?}: an event without its change"
        );
        assert_eq!(
            graph(&net),
            graph_before,
            "A1 {op:?} {fault:?}: the graph changed"
        );
        // Nothing was left half done: the operation now succeeds as if
        // it had never been tried.
        let again = perform(&net, ids, op);
        assert_eq!(
            answer(&again),
            reference.answer,
            "A1 {op:?} {fault:?}: run again"
        );
        assert_eq!(
            normalized(&net.store().inner().snap()),
            reference.records,
            "A1 {op:?} {fault:?}: run again"
        );
        assert_eq!(
            outbox(&net),
            reference.outbox,
            "E1 {op:?} {fault:?}: run again, the change's events once"
        );
        assert_eq!(
            graph(&net),
            reference.graph,
            "A1 {op:?} {fault:?}: graph run again"
        );
    }
    reference.calls
}

/// A2 for one store.
fn a2_lost_acknowledgements<S: Inspect>() -> Vec<(Op, Answer)> {
    let mut retries = Vec::new();
    for op in OPS {
        let reference = reference::<S>(op);
        let (net, ids) = world::<S>();
        net.store().inject(Fault::CommitApplied);
        let result = perform(&net, ids, op);
        assert!(
            matches!(result, Err(Error::Store(_))),
            "A2 {op:?}: the lost acknowledgement is an error: {result:?}"
        );
        assert_eq!(net.store().fired(), 1);
        // Applied once already, and the index followed the change feed.
        assert_eq!(
            normalized(&net.store().inner().snap()),
            reference.records,
            "A2 {op:?}"
        );
        assert_eq!(
            graph(&net),
            reference.graph,
            "A2 {op:?}: graph after the error"
        );
        let retry = perform(&net, ids, op);
        match &retry {
            Ok(events) => assert!(events.is_empty(), "A2 {op:?}: the retry repeated events"),
            Err(Error::Refused(_)) => {}
            Err(e) => panic!("A2 {op:?}: the retry failed: {e}"),
        }
        assert_eq!(
            normalized(&net.store().inner().snap()),
            reference.records,
            "A2 {op:?}: one application after the retry"
        );
        assert_eq!(
            outbox(&net),
            reference.outbox,
            "E2 {op:?}: the lost acknowledgement's events are stored once"
        );
        assert_eq!(
            graph(&net),
            reference.graph,
            "A2 {op:?}: graph after the retry"
        );
        retries.push((op, answer(&retry)));
    }
    retries
}

fn expected_retry(op: Op) -> Answer {
    let refused = |r: Refusal| Answer::Refused(format!("{r:?}"));
    let quiet = Answer::Done {
        events: 0,
        added: None,
    };
    match op {
        Op::Register => refused(Refusal::MemberExists(m(20))),
        Op::Send => refused(Refusal::ResendTooSoon {
            retry_at: T0.saturating_add(Policy::default().resend_wait(1).unwrap()),
        }),
        Op::CrossingSend => refused(Refusal::AlreadyConnected),
        _ => quiet,
    }
}

#[test]
fn a1_every_failed_store_call_leaves_memory_store_state_unchanged() {
    assert!(a1_sweep::<MemoryStore>() > 50);
}

#[cfg(feature = "sqlite")]
#[test]
fn a1_every_failed_store_call_leaves_sqlite_store_state_unchanged() {
    assert!(a1_sweep::<pronet::SqliteStore>() > 50);
}

/// A1 on PostgreSQL (a fresh schema per world); skips, saying so, without
/// a server. A2 runs in the same test, so the two share the schema list.
#[cfg(feature = "postgres")]
#[test]
fn a1_a2_postgres_store_fault_sweep_and_lost_acknowledgements() {
    let Some(url) = support::pg::url("a1_a2_postgres_store_fault_sweep_and_lost_acknowledgements")
    else {
        return;
    };
    let points = a1_sweep::<pronet::PostgresStore>();
    eprintln!("A1 on PostgresStore: {points} fault points swept");
    assert!(points > 50);
    for (op, retry) in a2_lost_acknowledgements::<pronet::PostgresStore>() {
        assert_eq!(retry, expected_retry(op), "A2 {op:?}: the retry's answer");
    }
    drop_pg_schemas(&url);
}

#[test]
fn a1_erase_and_retention_resume_after_every_failed_store_call_memory_store() {
    assert!(a1_resumable_sweep::<MemoryStore>() > 20);
}

#[cfg(feature = "sqlite")]
#[test]
fn a1_erase_and_retention_resume_after_every_failed_store_call_sqlite_store() {
    assert!(a1_resumable_sweep::<pronet::SqliteStore>() > 20);
}

/// The resumable sweep on PostgreSQL; skips, saying so, without a server.
#[cfg(feature = "postgres")]
#[test]
fn a1_erase_and_retention_resume_after_every_failed_store_call_postgres_store() {
    let Some(url) = support::pg::url(
        "a1_erase_and_retention_resume_after_every_failed_store_call_postgres_store",
    ) else {
        return;
    };
    assert!(a1_resumable_sweep::<pronet::PostgresStore>() > 20);
    drop_pg_schemas(&url);
}

#[test]
fn a2_lost_acknowledgement_then_retry_applies_once_memory_store() {
    for (op, retry) in a2_lost_acknowledgements::<MemoryStore>() {
        assert_eq!(retry, expected_retry(op), "A2 {op:?}: the retry's answer");
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a2_lost_acknowledgement_then_retry_applies_once_sqlite_store() {
    for (op, retry) in a2_lost_acknowledgements::<pronet::SqliteStore>() {
        assert_eq!(retry, expected_retry(op), "A2 {op:?}: the retry's answer");
    }
}

/// A2 when the store keeps failing just after the lost acknowledgement:
/// the index cannot follow at once, so it lags; the next operation
/// catches it up before deciding.
#[test]
fn a2_index_catches_up_before_the_next_operation() {
    let (net, ids) = world::<MemoryStore>();
    let calls = reference::<MemoryStore>(Op::Accept).calls;
    // The commit is the accept's last call (the store tells its position,
    // so nothing is read after it); the feed read after the lost
    // acknowledgement fails.
    net.store().inject(Fault::CommitApplied);
    net.store().inject(Fault::Call(calls + 1));
    assert!(matches!(net.accept(m(1), ids.accept), Err(Error::Store(_))));
    assert_eq!(net.store().fired(), 2);
    assert!(
        !net.graph().are_connected(m(1), m(3)),
        "the index could not follow yet"
    );
    // Any operation catches up first; here an unrelated one.
    let _ = net.update_member(m(5), |_| {}).unwrap();
    assert!(net.graph().are_connected(m(1), m(3)));
    let retry = net.accept(m(1), ids.accept).unwrap();
    assert!(retry.events.is_empty());
}

/// `Network::catch_up` reports a failing store, and succeeds afterwards.
#[test]
fn catch_up_reports_store_failures() {
    let (net, _) = world::<MemoryStore>();
    net.store().inject(Fault::Call(1));
    assert!(matches!(net.catch_up(), Err(Error::Store(_))));
    // Its own commits were followed already; the feed holds nothing new.
    assert_eq!(net.catch_up().unwrap(), 0);
}

/// The store calls of the hot path, each a round trip to a database
/// server (issue 14: each costs CPU on both sides, which bounds
/// PostgreSQL throughput). A send follows the feed, gathers its records
/// with the sender's blocks and open invitations in one call
/// ([`Store::gather`]), looks for the recipient's one address in the
/// sender's contacts, takes an invitation id (`PostgresStore` reserves 64
/// a call) and commits; an accept follows the feed, reads the invitation,
/// then the records around it in one call, and commits. The inbox follows
/// the feed, then reads the recipient's blocks and open invitations in one
/// call. A call more is a regression.
#[test]
fn send_accept_and_inbox_make_five_four_and_two_store_calls() {
    let (net, _) = world::<MemoryStore>();
    let before = net.store().calls();
    let id = invite(&net, 2, 3);
    let sent = net.store().calls() - before;
    let before = net.store().calls();
    let _ = net.accept(m(3), id).unwrap();
    let accepted = net.store().calls() - before;
    let before = net.store().calls();
    let _ = net.inbox(m(1), None, pronet::PageSize::default()).unwrap();
    let inbox = net.store().calls() - before;
    assert_eq!((sent, accepted, inbox), (5, 4, 2));
}
