//! The [`Store`] conformance suite (feature `testing`): one function per
//! clause of the contract documented on [`Store`], each run against fresh
//! stores from a factory, and [`run_conformance`] running them all.
//!
//! Run it against your own store from a test:
//!
//! ```
//! # fn main() {
//! pronet::store::conformance::run_conformance(pronet::MemoryStore::new);
//! # }
//! ```
//!
//! or generate one `#[test]` per clause with [`store_conformance_tests!`]
//! (in a module of its own per store):
//!
//! ```
//! mod memory {
//!     pronet::store_conformance_tests!(pronet::MemoryStore::new);
//! }
//! # fn main() {}
//! ```
//!
//! Every function panics, naming the clause, when the store breaks it: they
//! are meant for tests. The factory must give an empty store each time it is
//! called. The suite uses threads (a store is shared by reference), a few
//! hundred commits per clause, and no clock.
//!
//! Clause 8 (failures) is not checked here: it is about the store's backend
//! failing, which only the store itself can arrange. [`FaultyStore`]
//! injects such failures in front of any store, to test its callers.
//!
//! [`store_conformance_tests!`]: crate::store_conformance_tests
//! [`FaultyStore`]: super::FaultyStore

// The suite is test code: it reports a broken clause by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{ChangeCursor, Role, Store};
use crate::block::{Block, BlockTally};
use crate::change::{Expect, Write};
use crate::contacts::Contact;
use crate::email::Email;
use crate::error::CommitError;
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::{
    Attempts, Bar, Delivery, IgnoreReason, Invitation, Ledger, PairState, Status,
};
use crate::member::{InvitePreference, Member, Profile, Tier};
use crate::note::Note;
use crate::record::{Key, Record, Version, Versioned};
use crate::standing::{Answer, Level, SendEntry, Signal};
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

/// Runs every clause of the [`Store`] contract against stores made by
/// `make`.
///
/// # Panics
/// When the store breaks a clause; the message names it.
pub fn run_conformance<S: Store>(make: impl Fn() -> S) {
    c1_atomic_change_sets(&make);
    c1_readers_see_whole_change_sets(&make);
    c2_expected_versions(&make);
    c2_duplicate_keys_conflict(&make);
    c2_one_winner_per_expectation(&make);
    c3_versions_advance(&make);
    c4_reads_round_trip_exactly(&make);
    c5_secondary_reads(&make);
    c6_unique_ids(&make);
    c7_change_feed(&make);
    c7_change_feed_under_concurrent_commits(&make);
}

/// Generates one `#[test]` per clause of the [`Store`](crate::Store)
/// contract, for the store made by the given factory (an expression of a
/// type `Fn() -> S`), by calling the functions of
/// [`pronet::store::conformance`](crate::store::conformance). Invoke it in a
/// module of its own for each store.
///
/// ```
/// mod faulty_memory {
///     use pronet::store::FaultyStore;
///     pronet::store_conformance_tests!(|| FaultyStore::new(pronet::MemoryStore::new()));
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        #[test]
        fn c1_atomic_change_sets() {
            $crate::store::conformance::c1_atomic_change_sets($make);
        }
        #[test]
        fn c1_readers_see_whole_change_sets() {
            $crate::store::conformance::c1_readers_see_whole_change_sets($make);
        }
        #[test]
        fn c2_expected_versions() {
            $crate::store::conformance::c2_expected_versions($make);
        }
        #[test]
        fn c2_duplicate_keys_conflict() {
            $crate::store::conformance::c2_duplicate_keys_conflict($make);
        }
        #[test]
        fn c2_one_winner_per_expectation() {
            $crate::store::conformance::c2_one_winner_per_expectation($make);
        }
        #[test]
        fn c3_versions_advance() {
            $crate::store::conformance::c3_versions_advance($make);
        }
        #[test]
        fn c4_reads_round_trip_exactly() {
            $crate::store::conformance::c4_reads_round_trip_exactly($make);
        }
        #[test]
        fn c5_secondary_reads() {
            $crate::store::conformance::c5_secondary_reads($make);
        }
        #[test]
        fn c6_unique_ids() {
            $crate::store::conformance::c6_unique_ids($make);
        }
        #[test]
        fn c7_change_feed() {
            $crate::store::conformance::c7_change_feed($make);
        }
        #[test]
        fn c7_change_feed_under_concurrent_commits() {
            $crate::store::conformance::c7_change_feed_under_concurrent_commits($make);
        }
    };
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

fn id(raw: u64) -> MemberId {
    MemberId::new(raw)
}

fn pair_key(a: u64, b: u64) -> PairKey {
    PairKey::new(id(a), id(b)).unwrap()
}

fn member(raw: u64, name: &str) -> Record {
    Record::Member(Member::person(id(raw), Profile::named(name)))
}

fn invitation(raw: u64, sender: u64, recipient: u64, status: Status) -> Record {
    Record::Invitation(Invitation {
        id: InvitationId::new(raw),
        sender: id(sender),
        recipient: id(recipient),
        note: None,
        sent_at: Timestamp::from_micros(1_700_000_000_000_000),
        status,
        delivery: Delivery::Inbox,
        closed_at: None,
        decline_note: None,
    })
}

fn pair(a: u64, b: u64, connected: bool) -> Record {
    let mut state = PairState::new(pair_key(a, b));
    if connected {
        state.connected_since = Some(Timestamp::from_micros(1_700_000_000_000_000));
    }
    Record::Pair(state)
}

fn ledger(raw: u64, connections: u32) -> Record {
    let mut ledger = Ledger::new(id(raw));
    ledger.connections = connections;
    Record::Ledger(ledger)
}

/// `blocker`'s block record of `target`: standing, or lifted.
fn block(blocker: u64, target: u64, standing: bool) -> Record {
    let mut b = Block::new(id(blocker), id(target));
    if standing {
        b.since = Some(Timestamp::from_micros(i64::try_from(target).unwrap_or(0)));
    } else {
        b.unblocked = Some(Timestamp::MAX);
    }
    Record::Block(b)
}

fn contact(owner: u64, address: &str) -> Record {
    Record::Contact(Contact::new(
        id(owner),
        Email::parse(address).unwrap(),
        Timestamp::UNIX_EPOCH,
    ))
}

fn absent(record: Record) -> Write {
    Write {
        expect: Expect::Absent,
        record,
    }
}

fn at(version: u64, record: Record) -> Write {
    Write {
        expect: Expect::At(Version(version)),
        record,
    }
}

/// Writes `record` over whatever is stored under its key.
fn put<S: Store>(store: &S, record: Record) -> Version {
    let read = store.get(&record.key()).unwrap();
    let write = Write::replacing(read.as_ref(), record.clone());
    store.commit(&[write]).unwrap();
    let stored = store.get(&record.key()).unwrap().unwrap();
    assert_eq!(
        stored.value, record,
        "clause 4: get returns what was written"
    );
    stored.version
}

fn conflict_key(result: Result<(), CommitError>, clause: &str) -> Key {
    match result {
        Err(CommitError::Conflict(key)) => key,
        other => panic!("{clause}: expected CommitError::Conflict, got {other:?}"),
    }
}

/// Everything a reader can see, for "nothing changed" checks.
#[derive(Debug, PartialEq)]
struct Seen {
    records: Vec<Option<Versioned<Record>>>,
    open: Vec<Vec<InvitationId>>,
    members: Vec<MemberId>,
    connections: Vec<PairKey>,
    cursor: ChangeCursor,
}

fn seen<S: Store>(store: &S, keys: &[Key], people: &[u64]) -> Seen {
    let mut open = Vec::new();
    for &p in people {
        for role in [Role::Sender, Role::Recipient] {
            let mut ids: Vec<_> = store
                .open_invitations(id(p), role)
                .unwrap()
                .into_iter()
                .map(|i| i.id)
                .collect();
            ids.sort();
            open.push(ids);
        }
    }
    let mut members: Vec<_> = store.members().unwrap().into_iter().map(|m| m.id).collect();
    members.sort();
    let mut connections = store.connections().unwrap();
    connections.sort();
    Seen {
        records: keys.iter().map(|k| store.get(k).unwrap()).collect(),
        open,
        members,
        connections,
        cursor: store.change_cursor().unwrap(),
    }
}

// ---------------------------------------------------------------------------
// Clause 1
// ---------------------------------------------------------------------------

/// Clause 1: a change set whose expectations fail anywhere (first, middle,
/// last write) writes nothing at all: no record, no secondary read, no feed
/// position; the same change set with good expectations writes everything.
///
/// # Panics
/// When the store breaks the clause.
pub fn c1_atomic_change_sets<S: Store>(make: impl Fn() -> S) {
    let store = make();
    put(&store, member(1, "Ana"));
    put(&store, member(2, "Bo"));
    put(&store, pair(1, 2, false));
    let good = vec![
        at(1, member(1, "Ana Lima")),
        absent(invitation(7, 1, 2, Status::Pending)),
        at(1, pair(1, 2, true)),
        absent(member(3, "Cy")),
        absent(ledger(1, 1)),
    ];
    let keys: Vec<Key> = good.iter().map(|w| w.record.key()).collect();
    let people = [1, 2, 3];
    let before = seen(&store, &keys, &people);
    let stale = at(5, member(2, "Bo Stale"));
    for position in [0, 2, good.len()] {
        let mut writes = good.clone();
        writes.insert(position, stale.clone());
        let key = conflict_key(store.commit(&writes), "clause 1");
        assert_eq!(
            key,
            Key::Member(id(2)),
            "clause 2: the conflict names the failed key"
        );
        assert_eq!(
            seen(&store, &keys, &people),
            before,
            "clause 1: a change set failing at write {position} changed something"
        );
    }
    // A failure of an Absent expectation, last.
    let mut writes = good.clone();
    writes.push(absent(member(1, "Ana Again")));
    conflict_key(store.commit(&writes), "clause 1");
    assert_eq!(
        seen(&store, &keys, &people),
        before,
        "clause 1: Absent failing last"
    );

    store.commit(&good).unwrap();
    for write in &good {
        let stored = store.get(&write.record.key()).unwrap().unwrap();
        assert_eq!(stored.value, write.record, "clause 1: every write applied");
    }
    assert_eq!(store.connections().unwrap(), vec![pair_key(1, 2)]);
    let open = store.open_invitations(id(2), Role::Recipient).unwrap();
    assert_eq!(open.len(), 1, "clause 5 after an atomic commit");
}

/// Clause 1: readers running while change sets commit never see one partly
/// applied: two members renamed together always read with the same name,
/// and two pairs connected and disconnected together are read together.
///
/// # Panics
/// When the store breaks the clause.
pub fn c1_readers_see_whole_change_sets<S: Store>(make: impl Fn() -> S) {
    const ROUNDS: u64 = 150;
    let store = make();
    let names = |round: u64| format!("round {round}");
    store
        .commit(&[
            absent(member(1, &names(0))),
            absent(member(2, &names(0))),
            absent(pair(3, 4, false)),
            absent(pair(5, 6, false)),
        ])
        .unwrap();
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        let reader = || {
            let mut reads = 0_u32;
            while !done.load(Ordering::SeqCst) || reads < 10 {
                let members = store.members().unwrap();
                assert_eq!(members.len(), 2);
                assert_eq!(
                    members[0].profile.display_name, members[1].profile.display_name,
                    "clause 1: members() saw half a change set"
                );
                let connections = store.connections().unwrap();
                assert!(
                    connections.is_empty() || connections.len() == 2,
                    "clause 1: connections() saw half a change set: {connections:?}"
                );
                reads += 1;
            }
        };
        scope.spawn(reader);
        scope.spawn(reader);
        for round in 1..=ROUNDS {
            store
                .commit(&[
                    at(round, member(1, &names(round))),
                    at(round, pair(3, 4, round % 2 == 1)),
                    at(round, pair(5, 6, round % 2 == 1)),
                    at(round, member(2, &names(round))),
                ])
                .unwrap();
        }
        done.store(true, Ordering::SeqCst);
    });
}

// ---------------------------------------------------------------------------
// Clause 2
// ---------------------------------------------------------------------------

/// Clause 2: `Absent` fails on a stored key, `At(v)` on a missing key and on
/// any other version; each failure names its key and writes nothing. An
/// empty change set succeeds and changes nothing.
///
/// # Panics
/// When the store breaks the clause.
pub fn c2_expected_versions<S: Store>(make: impl Fn() -> S) {
    let store = make();
    let cursor = store.change_cursor().unwrap();
    store.commit(&[]).unwrap();
    assert_eq!(
        store.change_cursor().unwrap(),
        cursor,
        "clause 2: an empty change set changes nothing"
    );
    put(&store, member(1, "Ana"));
    put(&store, member(1, "Ana Lima")); // version 2
    let keys = [Key::Member(id(1)), Key::Member(id(2))];
    let before = seen(&store, &keys, &[1, 2]);
    let cases = [
        (absent(member(1, "x")), "Absent on a stored key"),
        (at(1, member(2, "x")), "At(1) on a missing key"),
        (at(1, member(1, "x")), "At(1) on version 2"),
        (at(3, member(1, "x")), "At(3) on version 2"),
        (at(u64::MAX, member(1, "x")), "At(u64::MAX) on version 2"),
        (at(0, member(1, "x")), "At(0) on version 2"),
    ];
    for (write, case) in cases {
        let key = conflict_key(store.commit(std::slice::from_ref(&write)), case);
        assert_eq!(key, write.record.key(), "clause 2: {case} names its key");
        assert_eq!(
            seen(&store, &keys, &[1, 2]),
            before,
            "clause 2: {case} wrote"
        );
    }
    store.commit(&[at(2, member(1, "Ana L."))]).unwrap();
    store.commit(&[absent(member(2, "Bo"))]).unwrap();
}

/// Clause 2: a change set writing one key twice is refused as a conflict
/// naming that key, whatever the expectations, and writes nothing.
///
/// # Panics
/// When the store breaks the clause.
pub fn c2_duplicate_keys_conflict<S: Store>(make: impl Fn() -> S) {
    let store = make();
    put(&store, member(1, "Ana"));
    let keys = [Key::Member(id(1)), Key::Member(id(5)), Key::Member(id(6))];
    let before = seen(&store, &keys, &[1, 5, 6]);
    let cases = [
        vec![absent(member(5, "a")), at(1, member(5, "b"))],
        vec![absent(member(5, "a")), absent(member(5, "b"))],
        vec![at(1, member(1, "a")), at(1, member(1, "b"))],
        vec![at(1, member(1, "a")), at(2, member(1, "b"))],
        vec![
            absent(member(6, "c")),
            at(1, member(1, "a")),
            absent(member(5, "d")),
            at(1, member(1, "a")),
        ],
    ];
    for writes in cases {
        let dup = if writes[0].record.key() == Key::Member(id(6)) {
            Key::Member(id(1))
        } else {
            writes[0].record.key()
        };
        let key = conflict_key(store.commit(&writes), "clause 2 (duplicate keys)");
        assert_eq!(key, dup, "clause 2: the conflict names the duplicated key");
        assert_eq!(
            seen(&store, &keys, &[1, 5, 6]),
            before,
            "clause 2: a change set with a duplicated key wrote: {writes:?}"
        );
    }
}

/// Clause 2: threads committing the same expectation at once: exactly one
/// wins, the others get `Conflict`, and the stored value is the winner's.
///
/// # Panics
/// When the store breaks the clause.
pub fn c2_one_winner_per_expectation<S: Store>(make: impl Fn() -> S) {
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 25;
    let store = make();
    put(&store, member(1, "start"));
    for round in 1..=ROUNDS {
        let barrier = Barrier::new(THREADS as usize);
        let results: Vec<(String, bool, bool)> = thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (store, barrier) = (&store, &barrier);
                    scope.spawn(move || {
                        let name = format!("round {round} thread {t}");
                        barrier.wait();
                        // One update of a stored key and one creation.
                        let updated = store.commit(&[at(round, member(1, &name))]);
                        let created = store.commit(&[absent(member(1000 + round, &name))]);
                        let won = |r: Result<(), CommitError>| match r {
                            Ok(()) => true,
                            Err(CommitError::Conflict(_)) => false,
                            Err(e) => panic!("clause 2: a racing commit failed: {e}"),
                        };
                        (name, won(updated), won(created))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let updaters: Vec<_> = results.iter().filter(|r| r.1).collect();
        let creators: Vec<_> = results.iter().filter(|r| r.2).collect();
        assert_eq!(
            updaters.len(),
            1,
            "clause 2: At({round}) won by {updaters:?}"
        );
        assert_eq!(creators.len(), 1, "clause 2: Absent won by {creators:?}");
        let stored = store.get(&Key::Member(id(1))).unwrap().unwrap();
        assert_eq!(stored.version, Version(round + 1), "clause 3 under races");
        assert_eq!(
            stored.value,
            member(1, &updaters[0].0),
            "the winner's value"
        );
        let created = store.get(&Key::Member(id(1000 + round))).unwrap().unwrap();
        assert_eq!(created.value, member(1000 + round, &creators[0].0));
    }
}

// ---------------------------------------------------------------------------
// Clauses 3 and 4
// ---------------------------------------------------------------------------

/// Clause 3: a record is stored at version 1 when created and one more on
/// every write; each write is read back exactly (clause 4).
///
/// # Panics
/// When the store breaks the clause.
pub fn c3_versions_advance<S: Store>(make: impl Fn() -> S) {
    let store = make();
    assert_eq!(
        store.get(&Key::Member(id(1))).unwrap(),
        None,
        "clause 4: nothing stored"
    );
    store.commit(&[absent(member(1, "v1"))]).unwrap();
    for v in 1..=6_u64 {
        let stored = store.get(&Key::Member(id(1))).unwrap().unwrap();
        assert_eq!(stored.version, Version(v), "clause 3");
        assert_eq!(stored.value, member(1, &format!("v{v}")), "clause 4");
        store
            .commit(&[at(v, member(1, &format!("v{}", v + 1)))])
            .unwrap();
    }
    // Versions are per key.
    store.commit(&[absent(member(2, "other"))]).unwrap();
    assert_eq!(
        store.get(&Key::Member(id(2))).unwrap().unwrap().version,
        Version::FIRST
    );
}

/// Records of every kind, with extreme and unusual values: what must
/// round-trip exactly (RELIABILITY A5).
fn rich_records() -> Vec<Record> {
    let email = |s: &str| Email::parse(s).unwrap();
    let mut person = Member::person(
        id(u64::MAX),
        Profile {
            display_name: "Zoë O’Brien-Łukasiewicz 👩🏽‍💻".to_owned(),
            headline: "Ingénieure \"senior\" \\ back-end\n(Rust)".to_owned(),
            location: "Tōkyō, 日本".to_owned(),
            current_companies: vec![id(0), id(i64::MAX as u64 + 1)],
            past_companies: vec![],
            schools: vec!["École Polytechnique".to_owned(), String::new()],
            skills: vec!["SQL".to_owned(), "\u{1F980}".to_owned()],
        },
    )
    .with_tier(Tier::Premium(u8::MAX))
    .with_invite_preference(InvitePreference::ContactsOnly)
    .with_email(email("  Zoë.OBrien@Example.COM. "), true)
    .with_email(email("straße@x.de"), false);
    person.active = false;
    let company = Member::company(id(0), Profile::named("ACME"));
    let note = Note::parse("Hi Zoë 👋🏽 — we met at RustConf.\r\nLet's connect!", 300)
        .unwrap()
        .unwrap();
    let invitation = Invitation {
        id: InvitationId::new(u64::MAX),
        sender: id(1),
        recipient: id(u64::MAX),
        note: Some(note),
        sent_at: Timestamp::MIN,
        status: Status::Ignored(IgnoreReason::Spam),
        delivery: Delivery::Held,
        closed_at: Some(Timestamp::MAX),
        decline_note: Note::parse("Sorry, not now.", 300).unwrap(),
    };
    let mut pair_state = PairState::new(pair_key(1, u64::MAX));
    pair_state.connected_since = Some(Timestamp::from_micros(-1));
    pair_state.open = Some(InvitationId::new(u64::MAX));
    pair_state.from_low = Attempts {
        unanswered: u32::MAX,
        last_sent: Some(Timestamp::MAX),
        withdrawn_at: Some(Timestamp::MIN),
        bar: Some(Bar::DontKnow),
    };
    pair_state.from_high.bar = Some(Bar::Rejected);
    let mut ledger = Ledger::new(id(u64::MAX));
    ledger.connections = u32::MAX;
    ledger.latest = Timestamp::MAX;
    ledger.sends = vec![
        SendEntry::new(Timestamp::MIN, InvitationId::new(0), true, false),
        SendEntry {
            answer: Some(Answer::Spam),
            ..SendEntry::new(
                Timestamp::from_micros(1_767_225_600_123_456),
                InvitationId::new(u64::MAX),
                false,
                true,
            )
        },
    ];
    ledger.standing.level = Level::Suspended;
    ledger.standing.until = Some(Timestamp::MAX);
    ledger.standing.reasons = vec![Signal::Reported, Signal::Rejected { percent: 100 }];
    ledger.standing.strikes = 7;
    ledger.standing.counted_from = Some(Timestamp::from_micros(1));
    vec![
        Record::Member(person),
        Record::Member(company),
        Record::Invitation(invitation),
        Record::Pair(pair_state),
        Record::Ledger(ledger),
        Record::Contact(Contact::new(
            id(u64::MAX),
            email("O'Brien+rust@bücher.example"),
            Timestamp::MAX,
        )),
        contact(1, "BO@Example.com"),
        Record::Block({
            let mut b = Block::new(id(u64::MAX), id(0));
            b.since = Some(Timestamp::MAX);
            b.unblocked = Some(Timestamp::MIN);
            b
        }),
        Record::BlockTally(BlockTally {
            member: id(u64::MAX),
            blocks: u32::MAX,
        }),
    ]
}

/// Clause 4 (and RELIABILITY A5): records of every kind, with extreme ids,
/// timestamps, counters and Unicode text, read back exactly equal, through
/// `get`, the secondary reads and the change feed.
///
/// # Panics
/// When the store breaks the clause.
pub fn c4_reads_round_trip_exactly<S: Store>(make: impl Fn() -> S) {
    let store = make();
    let records = rich_records();
    store
        .commit(&records.iter().cloned().map(absent).collect::<Vec<_>>())
        .unwrap();
    let exact = |read: &Record, written: &Record| {
        assert_eq!(read, written, "clause 4: read back differs");
        // Debug shows what equality may not compare (an email as written).
        assert_eq!(
            format!("{read:?}"),
            format!("{written:?}"),
            "clause 4: read back differs"
        );
    };
    for record in &records {
        let stored = store.get(&record.key()).unwrap().unwrap();
        assert_eq!(stored.version, Version::FIRST);
        exact(&stored.value, record);
    }
    let changes = store
        .changes_since(ChangeCursor::START, records.len() + 1)
        .unwrap();
    assert_eq!(changes.records.len(), records.len(), "clause 7");
    for (read, written) in changes.records.iter().zip(&records) {
        exact(&read.value, written);
    }
    let mut members = store.members().unwrap();
    members.sort_by_key(|m| m.id);
    let written: Vec<_> = records
        .iter()
        .filter(|r| matches!(r, Record::Member(_)))
        .cloned()
        .collect();
    assert_eq!(members.len(), written.len());
    for (m, w) in members.into_iter().zip(written.iter().rev()) {
        exact(&Record::Member(m), w);
    }
    // The ignored invitation is open, for the recipient with id u64::MAX.
    let open = store
        .open_invitations(id(u64::MAX), Role::Recipient)
        .unwrap();
    assert_eq!(open.len(), 1, "clause 5");
    exact(&Record::Invitation(open[0].clone()), &records[2]);
    assert_eq!(
        store.connections().unwrap(),
        vec![pair_key(1, u64::MAX)],
        "clause 5"
    );
}

// ---------------------------------------------------------------------------
// Clause 5
// ---------------------------------------------------------------------------

/// Clause 5: after every commit of a sequence that opens, ignores, answers
/// and withdraws invitations, connects and disconnects pairs, deactivates
/// members and writes records of other kinds, the secondary reads equal
/// what the latest records say, exactly.
///
/// # Panics
/// When the store breaks the clause.
pub fn c5_secondary_reads<S: Store>(make: impl Fn() -> S) {
    let store = make();
    let people: Vec<u64> = (1..=5).collect();
    let mut latest: BTreeMap<Key, Record> = BTreeMap::new();
    let steps: Vec<Record> = vec![
        member(1, "Ana"),
        member(2, "Bo"),
        invitation(10, 1, 2, Status::Pending),
        invitation(11, 3, 2, Status::Pending),
        member(3, "Cy"),
        invitation(12, 2, 4, Status::Ignored(IgnoreReason::Ignored)),
        ledger(1, 0),
        contact(2, "ana@example.com"),
        invitation(10, 1, 2, Status::Accepted),
        pair(1, 2, true),
        ledger(1, 1),
        invitation(11, 3, 2, Status::Ignored(IgnoreReason::DontKnow)),
        invitation(13, 4, 1, Status::Pending),
        pair(3, 4, true),
        invitation(13, 4, 1, Status::Withdrawn),
        pair(3, 4, false),
        invitation(12, 2, 4, Status::Rejected),
        invitation(14, 5, 3, Status::Pending),
        invitation(14, 5, 3, Status::Superseded),
        invitation(15, 5, 3, Status::Expired),
        invitation(16, 5, 3, Status::Pending),
        {
            let Record::Member(mut m) = member(2, "Bo") else {
                unreachable!()
            };
            m.active = false;
            Record::Member(m)
        },
        member(5, "Di"),
        pair(2, 5, true),
        block(1, 2, true),
        block(3, 2, true),
        block(2, 1, true),
        block(4, 2, false),
        block(1, 2, false),
        block(5, 2, true),
        block(1, 2, true),
        block(3, 2, false),
    ];
    for (step, record) in steps.into_iter().enumerate() {
        put(&store, record.clone());
        latest.insert(record.key(), record);
        for &p in &people {
            for role in [Role::Sender, Role::Recipient] {
                let mut read: Vec<Invitation> = store.open_invitations(id(p), role).unwrap();
                read.sort_by_key(|i| i.id);
                let want: Vec<Invitation> = latest
                    .values()
                    .filter_map(|r| match r {
                        Record::Invitation(i) if i.is_open() => Some(i.clone()),
                        _ => None,
                    })
                    .filter(|i| match role {
                        Role::Sender => i.sender == id(p),
                        Role::Recipient => i.recipient == id(p),
                    })
                    .collect();
                assert_eq!(
                    read, want,
                    "clause 5: open_invitations({p}, {role:?}) at step {step}"
                );
            }
        }
        let mut members = store.members().unwrap();
        members.sort_by_key(|m| m.id);
        let want: Vec<Member> = latest
            .values()
            .filter_map(|r| match r {
                Record::Member(m) => Some(m.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(members, want, "clause 5: members() at step {step}");
        let mut connections = store.connections().unwrap();
        connections.sort();
        let want: Vec<PairKey> = latest
            .values()
            .filter_map(|r| match r {
                Record::Pair(p) if p.connected_since.is_some() => Some(p.key),
                _ => None,
            })
            .collect();
        assert_eq!(connections, want, "clause 5: connections() at step {step}");
        for &p in &people {
            for role in [Role::Sender, Role::Recipient] {
                let mut read = store.blocks(id(p), role).unwrap();
                read.sort_by_key(|b| (b.blocker, b.target));
                let want: Vec<Block> = latest
                    .values()
                    .filter_map(|r| match r {
                        Record::Block(b) if b.stands() => Some(b.clone()),
                        _ => None,
                    })
                    .filter(|b| match role {
                        Role::Sender => b.blocker == id(p),
                        Role::Recipient => b.target == id(p),
                    })
                    .collect();
                assert_eq!(read, want, "clause 5: blocks({p}, {role:?}) at step {step}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Clause 6
// ---------------------------------------------------------------------------

/// Clause 6: invitation ids taken one after another and from 4 threads at
/// once are all distinct.
///
/// # Panics
/// When the store breaks the clause.
pub fn c6_unique_ids<S: Store>(make: impl Fn() -> S) {
    const THREADS: usize = 4;
    const EACH: usize = 100;
    let store = make();
    let mut all = HashSet::new();
    for _ in 0..EACH {
        assert!(all.insert(store.next_invitation_id().unwrap()), "clause 6");
    }
    let taken: Vec<Vec<InvitationId>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let store = &store;
                scope.spawn(move || {
                    (0..EACH)
                        .map(|_| store.next_invitation_id().unwrap())
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for id in taken.into_iter().flatten() {
        assert!(all.insert(id), "clause 6: id {id} returned twice");
    }
}

// ---------------------------------------------------------------------------
// Clause 7
// ---------------------------------------------------------------------------

/// Follows the feed from `from` to its end, `limit` records at a time,
/// checking that positions only grow.
fn follow<S: Store>(
    store: &S,
    from: ChangeCursor,
    limit: usize,
) -> (Vec<Versioned<Record>>, ChangeCursor) {
    let mut cursor = from;
    let mut all = Vec::new();
    loop {
        let page = store.changes_since(cursor, limit).unwrap();
        assert!(page.records.len() <= limit, "clause 7: more than the limit");
        if page.records.is_empty() {
            assert_eq!(
                page.cursor, cursor,
                "clause 7: an empty page keeps the cursor"
            );
            return (all, cursor);
        }
        assert!(
            page.cursor > cursor,
            "clause 7: the cursor went back or stood still"
        );
        cursor = page.cursor;
        all.extend(page.records);
    }
}

/// Clause 7: the change feed returns each record written after a cursor
/// once, at its latest version, in the order of the last writes (a
/// change set's writes in order); pages of any size reassemble the same
/// feed; failed commits leave no trace; `change_cursor` is the end.
///
/// # Panics
/// When the store breaks the clause.
pub fn c7_change_feed<S: Store>(make: impl Fn() -> S) {
    let store = make();
    assert_eq!(
        store.change_cursor().unwrap(),
        ChangeCursor::START,
        "clause 7: empty store"
    );
    let empty = store.changes_since(ChangeCursor::START, 10).unwrap();
    assert!(empty.records.is_empty());
    assert_eq!(empty.cursor, ChangeCursor::START);

    store.commit(&[absent(member(1, "Ana"))]).unwrap();
    let after_one = store.change_cursor().unwrap();
    assert!(
        after_one > ChangeCursor::START,
        "clause 7: a commit moves the end"
    );
    store
        .commit(&[
            absent(member(2, "Bo")),
            absent(member(3, "Cy")),
            absent(pair(2, 3, true)),
        ])
        .unwrap();
    store.commit(&[at(1, member(1, "Ana Lima"))]).unwrap();
    let end = store.change_cursor().unwrap();
    let expected = vec![
        Versioned {
            version: Version(1),
            value: member(2, "Bo"),
        },
        Versioned {
            version: Version(1),
            value: member(3, "Cy"),
        },
        Versioned {
            version: Version(1),
            value: pair(2, 3, true),
        },
        Versioned {
            version: Version(2),
            value: member(1, "Ana Lima"),
        },
    ];
    for limit in [1, 2, 3, 4, 1000] {
        let (records, cursor) = follow(&store, ChangeCursor::START, limit);
        assert_eq!(records, expected, "clause 7: the feed in pages of {limit}");
        assert_eq!(
            cursor, end,
            "clause 7: following to the end reaches change_cursor"
        );
    }
    let none = store.changes_since(ChangeCursor::START, 0).unwrap();
    assert!(none.records.is_empty(), "clause 7: limit 0");
    assert_eq!(
        none.cursor,
        ChangeCursor::START,
        "clause 7: limit 0 keeps the cursor"
    );
    // From the cursor after the first commit: member 1 was written again
    // since, so it comes again, at its new position.
    let (records, _) = follow(&store, after_one, 10);
    assert_eq!(records, expected, "clause 7: the feed from a cursor");
    // From a cursor inside the feed: only what follows it.
    let first = store.changes_since(ChangeCursor::START, 1).unwrap();
    let (rest, _) = follow(&store, first.cursor, 10);
    assert_eq!(
        rest,
        expected[1..],
        "clause 7: continuing from a page's cursor"
    );

    // A failed commit takes no position a reader can see.
    conflict_key(
        store.commit(&[absent(member(4, "Di")), absent(member(1, "x"))]),
        "clause 7",
    );
    assert_eq!(
        store.change_cursor().unwrap(),
        end,
        "clause 7: a failed commit moved the end"
    );
    assert!(store.changes_since(end, 10).unwrap().records.is_empty());
    store.commit(&[absent(member(4, "Di"))]).unwrap();
    let page = store.changes_since(end, 10).unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].value, member(4, "Di"));
    assert_eq!(page.cursor, store.change_cursor().unwrap());
    // A cursor from the far future sees nothing.
    let far = ChangeCursor::new(u64::MAX);
    let page = store.changes_since(far, 10).unwrap();
    assert!(page.records.is_empty());
    assert_eq!(page.cursor, far);

    // Many rewrites of few records (a store may keep and compact a log):
    // the feed still holds each record once, at its latest version.
    let middle = store.change_cursor().unwrap();
    for round in 0..600_u64 {
        for raw in [2, 3] {
            let read = store.get(&Key::Member(id(raw))).unwrap();
            let name = format!("round {round}");
            store
                .commit(&[Write::replacing(read.as_ref(), member(raw, &name))])
                .unwrap();
        }
    }
    let latest = |raw: u64| Versioned {
        version: Version(601),
        value: member(raw, "round 599"),
    };
    for from in [ChangeCursor::START, middle] {
        let (records, cursor) = follow(&store, from, 3);
        assert_eq!(cursor, store.change_cursor().unwrap());
        assert_eq!(
            records[records.len() - 2..],
            [latest(2), latest(3)],
            "clause 7: after many rewrites"
        );
        let keys: BTreeSet<Key> = records.iter().map(|r| r.value.key()).collect();
        assert_eq!(keys.len(), records.len(), "clause 7: each record once");
    }
}

/// Clause 7: a reader following the feed while 3 threads commit sees every
/// key's version only grow, and once the writers are done and it has read
/// to the end, holds every record at its latest version: no position was
/// skipped, though commits raced.
///
/// # Panics
/// When the store breaks the clause.
pub fn c7_change_feed_under_concurrent_commits<S: Store>(make: impl Fn() -> S) {
    const WRITERS: u64 = 3;
    const COMMITS: u64 = 60;
    let store = make();
    let done = AtomicBool::new(false);
    let mut followed: BTreeMap<Key, Versioned<Record>> = BTreeMap::new();
    let mut apply = |records: Vec<Versioned<Record>>| {
        for record in records {
            let key = record.value.key();
            if let Some(before) = followed.get(&key) {
                assert!(
                    record.version > before.version,
                    "clause 7: {key:?} came again at version {:?} after {:?}",
                    record.version,
                    before.version
                );
            }
            followed.insert(key, record);
        }
    };
    thread::scope(|scope| {
        for w in 0..WRITERS {
            let store = &store;
            scope.spawn(move || {
                for c in 0..COMMITS {
                    // Each writer's own key, a shared key, and a new key.
                    let own = member(100 + w, &format!("writer {w} commit {c}"));
                    let new = ledger(1000 * (w + 1) + c, 0);
                    loop {
                        let shared = store.get(&Key::Ledger(id(1))).unwrap();
                        let count = match &shared {
                            Some(Versioned {
                                value: Record::Ledger(l),
                                ..
                            }) => l.connections + 1,
                            _ => 1,
                        };
                        let own_read = store.get(&own.key()).unwrap();
                        let writes = [
                            Write::replacing(own_read.as_ref(), own.clone()),
                            Write::replacing(shared.as_ref(), ledger(1, count)),
                            absent(new.clone()),
                        ];
                        match store.commit(&writes) {
                            Ok(()) => break,
                            Err(CommitError::Conflict(_)) => {}
                            Err(e) => panic!("a commit failed: {e}"),
                        }
                    }
                }
            });
        }
        let mut cursor = ChangeCursor::START;
        loop {
            let finished = done.load(Ordering::SeqCst);
            let page = store.changes_since(cursor, 7).unwrap();
            if page.records.is_empty() {
                if finished {
                    break;
                }
                if store
                    .get(&Key::Ledger(id(1)))
                    .unwrap()
                    .is_some_and(|l| match l.value {
                        Record::Ledger(l) => u64::from(l.connections) == WRITERS * COMMITS,
                        _ => false,
                    })
                {
                    done.store(true, Ordering::SeqCst);
                }
                thread::yield_now();
                continue;
            }
            cursor = page.cursor;
            apply(page.records);
        }
    });
    let (all, _) = follow(&store, ChangeCursor::START, 1000);
    let latest: BTreeMap<Key, Versioned<Record>> =
        all.into_iter().map(|r| (r.value.key(), r)).collect();
    assert_eq!(
        latest.len() as u64,
        WRITERS + 1 + WRITERS * COMMITS,
        "clause 7: every key once"
    );
    let keys: BTreeSet<&Key> = latest.keys().collect();
    let seen_keys: BTreeSet<&Key> = followed.keys().collect();
    assert_eq!(keys, seen_keys, "clause 7: the follower missed keys");
    for (key, record) in &latest {
        assert_eq!(
            followed.get(key),
            Some(record),
            "clause 7: the follower holds {key:?} at another version"
        );
        assert_eq!(store.get(key).unwrap().as_ref(), Some(record), "clause 4");
    }
}
