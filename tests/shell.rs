//! The service-grade shell: RELIABILITY A6 (reads never wait on writes),
//! A7 (no decision or default read acts on facts older than the store) and
//! A8 (the index equals one rebuilt from the store after any interleaving
//! of local and remote commits, under concurrent readers and writers).

#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::{
    ChangeCursor, Degree, Email, Error, InvitationId, ManualClock, Member, MemberId, MemoryStore,
    Network, PageSize, Policy, Profile, SearchQuery, Store,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::{T0, email_of, hours, m, whole};

const PEOPLE: u64 = 8;

fn person(raw: u64) -> Member {
    Member::person(m(raw), Profile::named(format!("P{raw}"))).with_email(email_of(m(raw)), true)
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One operation or read, with members and invitations named by number
/// (an invitation by the order it was sent in, so that two worlds whose
/// stores number invitations differently mean the same one).
#[derive(Clone, Copy, Debug)]
enum Op {
    Register(u64),
    Send(u64, u64, bool),
    Accept(usize),
    Ignore(usize),
    Reject(usize),
    Withdraw(usize),
    Block(u64, u64),
    Unblock(u64, u64),
    Remove(u64, u64),
    Deactivate(u64),
    Later,
    Degree(u64, u64),
    Mutuals(u64, u64),
    Inbox(u64),
    Sent(u64),
    Know(u64),
}

fn op(rng: &mut Rng) -> Op {
    let mut who = || 1 + rng.below(PEOPLE);
    let (a, b) = (who(), who());
    let i = usize::try_from(rng.below(12)).unwrap();
    match rng.below(32) {
        0..=3 => Op::Register(a),
        4..=10 => Op::Send(a, b, rng.below(2) == 0),
        11..=14 => Op::Accept(i),
        15 => Op::Ignore(i),
        16 => Op::Reject(i),
        17 => Op::Withdraw(i),
        18 => Op::Block(a, b),
        19 => Op::Unblock(a, b),
        20 => Op::Remove(a, b),
        21 => Op::Deactivate(a),
        22 => Op::Later,
        23..=25 => Op::Degree(a, b),
        26 => Op::Mutuals(a, b),
        27..=28 => Op::Inbox(a),
        29 => Op::Sent(a),
        _ => Op::Know(a),
    }
}

/// The invitations a world has sent, in order.
type Sent = Mutex<Vec<InvitationId>>;

/// Performs `op` on `net` and answers what a caller would see, with
/// invitation ids replaced by their place in `sent`.
fn perform<S: Store>(net: &Network<S, ManualClock>, sent: &Sent, op: Op) -> String {
    let nth = |i: usize| {
        let sent = sent.lock().unwrap();
        sent.get(i % sent.len().max(1)).copied()
    };
    let answer = match op {
        Op::Register(a) => format!("{:?}", net.register(person(a)).map(|c| c.events)),
        Op::Send(a, b, proof) => {
            let email: Option<Email> = proof.then(|| email_of(m(b)));
            let r = net.send(
                pronet::SendRequest::new(m(a), m(b))
                    .note("Hello")
                    .maybe_proof(email.as_ref()),
            );
            if let Ok(c) = &r {
                if let pronet::SendOutcome::Sent(id) = c.outcome {
                    sent.lock().unwrap().push(id);
                }
            }
            format!("{:?}", r.map(|c| (c.outcome, c.events)))
        }
        Op::Accept(i) | Op::Ignore(i) | Op::Reject(i) | Op::Withdraw(i) => {
            let Some(id) = nth(i) else {
                return "none sent".into();
            };
            let inv = net
                .store()
                .get(&pronet::record::Key::Invitation(id))
                .unwrap();
            let Some(pronet::record::Record::Invitation(inv)) = inv.map(|v| v.value) else {
                panic!("a sent invitation is stored");
            };
            let r = match op {
                Op::Accept(_) => net.accept(inv.recipient, id),
                Op::Ignore(_) => net.ignore_unknown(inv.recipient, id),
                Op::Reject(_) => net.reject(inv.recipient, id),
                _ => net.withdraw(inv.sender, id),
            };
            format!("{:?}", r.map(|c| c.events))
        }
        Op::Block(a, b) => format!("{:?}", net.block(m(a), m(b)).map(|c| c.events)),
        Op::Unblock(a, b) => format!("{:?}", net.unblock(m(a), m(b)).map(|c| c.events)),
        Op::Remove(a, b) => format!("{:?}", net.remove_connection(m(a), m(b)).map(|c| c.events)),
        Op::Deactivate(a) => format!("{:?}", net.deactivate(m(a)).map(|c| c.events)),
        Op::Later => String::new(),
        Op::Degree(a, b) => format!("{:?}", net.degree(m(a), m(b))),
        Op::Mutuals(a, b) => format!("{:?}", net.mutuals(m(a), m(b), None, whole())),
        Op::Inbox(a) => format!("{:?}", net.inbox(m(a), None, whole()).map(|p| p.items)),
        Op::Sent(a) => format!("{:?}", net.sent(m(a), None, whole()).map(|p| p.items)),
        Op::Know(a) => format!(
            "{:?}",
            net.people_you_may_know(m(a), PageSize::new(10).unwrap())
        ),
    };
    renumber(&answer, &sent.lock().unwrap())
}

/// Replaces each `InvitationId(n)` by its place among the sent ones.
fn renumber(text: &str, sent: &[InvitationId]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("InvitationId(") {
        let (head, tail) = rest.split_at(at + "InvitationId(".len());
        let end = tail.find(')').unwrap();
        let raw: u64 = tail[..end].parse().unwrap();
        let place = sent.iter().position(|i| i.get() == raw);
        out.push_str(head);
        out.push_str(&format!("#{place:?}"));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A7: operations and reads alternate at random between two networks on
/// one store (two processes), and every answer equals that of a single
/// network doing the same on a store of its own.
fn a7_two_networks_answer_as_one<S: Store>(make: impl Fn() -> (S, S, S), seed: u64, ops: usize) {
    let (shared_a, shared_b, single) = make();
    let clock = ManualClock::new(T0);
    let open = |store| Network::open(store, clock.clone(), Policy::default()).unwrap();
    let (a, b, one) = (open(shared_a), open(shared_b), open(single));
    let (sent_two, sent_one) = (Sent::default(), Sent::default());
    let mut rng = Rng(seed);
    for step in 0..ops {
        let op = op(&mut rng);
        if let Op::Later = op {
            clock.advance(hours(7));
            continue;
        }
        let net = if rng.below(2) == 0 { &a } else { &b };
        let two = perform(net, &sent_two, op);
        let single = perform(&one, &sent_one, op);
        assert_eq!(two, single, "A7 seed {seed}, step {step}: {op:?}");
    }
}

#[test]
fn a7_two_networks_on_one_memory_store_answer_as_one() {
    for seed in 0..support::cases(8) {
        a7_two_networks_answer_as_one(
            || {
                let shared = Arc::new(MemoryStore::new());
                (shared.clone(), shared, Arc::new(MemoryStore::new()))
            },
            u64::from(seed),
            400,
        );
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a7_two_networks_on_one_sqlite_file_answer_as_one() {
    for seed in 0..support::cases(3) {
        let (file, other) = (support::TempDb::new("a7"), support::TempDb::new("a7-one"));
        a7_two_networks_answer_as_one(
            || {
                let open = |f: &support::TempDb| pronet::SqliteStore::open(f.path()).unwrap();
                (open(&file), open(&file), open(&other))
            },
            100 + u64::from(seed),
            300,
        );
    }
}

/// The graph as `net`'s index has it: each member's presence and sorted
/// connections.
fn index_of<S: Store>(net: &Network<S, ManualClock>) -> Vec<(bool, Vec<MemberId>)> {
    let g = net.graph();
    (1..=PEOPLE)
        .map(|raw| {
            let mut items = g
                .connections(m(raw), None, whole())
                .map(|p| p.items)
                .unwrap_or_default();
            items.sort();
            (g.contains(m(raw)), items)
        })
        .collect()
}

/// A8: two networks on one store (as two processes on one database), each
/// written by two threads and read by one, run random operations at once;
/// afterwards, each index, once it followed the feed, equals the index of
/// a network freshly opened on the store.
fn a8_indexes_equal_a_rebuild<S: Store>(store: impl Fn() -> S) {
    let clock = ManualClock::new(T0);
    let open = || Network::open(store(), clock.clone(), Policy::default()).unwrap();
    for raw in 1..=PEOPLE {
        let _ = open().register(person(raw)).unwrap();
    }
    let nets = [open(), open()];
    let sent = Sent::default();
    let connected = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for (n, net) in nets.iter().enumerate() {
            for t in 0..2 {
                let (sent, connected) = (&sent, &connected);
                s.spawn(move || {
                    let mut rng = Rng(1000 + 10 * n as u64 + t);
                    for _ in 0..150 {
                        let op = op(&mut rng);
                        if !matches!(op, Op::Later | Op::Register(_)) {
                            let answer = perform(net, sent, op);
                            if answer.contains("ConnectionCreated") {
                                connected.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                });
            }
            s.spawn(move || {
                for raw in 0..300 {
                    let (a, b) = (1 + raw % PEOPLE, 1 + (raw / PEOPLE) % PEOPLE);
                    match net.degree(m(a), m(b)) {
                        Ok(_) | Err(Error::Refused(_)) => {}
                        Err(e) => panic!("A8: a read failed: {e}"),
                    }
                }
            });
        }
    });
    let rebuilt = open();
    for net in &nets {
        net.catch_up().unwrap();
        assert_eq!(index_of(net), index_of(&rebuilt), "A8");
        assert_eq!(
            net.graph().connection_count(),
            rebuilt.graph().connection_count()
        );
    }
    assert!(
        connected.load(Ordering::SeqCst) > 0,
        "the run connected someone"
    );
}

#[test]
fn a8_indexes_equal_a_rebuild_after_concurrent_commits_memory() {
    let shared = Arc::new(MemoryStore::new());
    a8_indexes_equal_a_rebuild(|| shared.clone());
}

#[cfg(feature = "sqlite")]
#[test]
fn a8_indexes_equal_a_rebuild_after_concurrent_commits_sqlite_file() {
    let file = support::TempDb::new("a8");
    a8_indexes_equal_a_rebuild(|| pronet::SqliteStore::open(file.path()).unwrap());
}

/// Tells a channel when a commit starts.
struct Committing(Mutex<std::sync::mpsc::Sender<()>>);

impl support::Watch for Committing {
    fn committing(&self, _writes: &[pronet::change::Write]) {
        let _ = self.0.lock().unwrap().send(());
    }
}

/// A6: while another connection holds the file's write lock (a write
/// transaction in progress) and this network's own commit waits for it,
/// every read of the registry answers; the lock is released only after all
/// of them returned, so a read that waited for the writer would fail with
/// the busy timeout instead.
#[cfg(feature = "sqlite")]
#[test]
fn a6_reads_never_wait_on_writes() {
    let file = support::TempDb::new("a6");
    let clock = ManualClock::new(T0);
    let (tx, committing) = std::sync::mpsc::channel();
    let store = support::Watched::new(
        pronet::SqliteStore::open(file.path()).unwrap(),
        Committing(Mutex::new(tx)),
    );
    let net = Network::open(store, clock.clone(), Policy::default()).unwrap();
    for raw in 1..=4 {
        let _ = net.register(person(raw)).unwrap();
    }
    for (a, b) in [(1, 2), (2, 3)] {
        let i = net.send(
            pronet::SendRequest::new(m(a), m(b))
                .note("Hi")
                .proof(&email_of(m(b))),
        );
        let _ = net.accept(m(b), support::sent_id(&i.unwrap())).unwrap();
    }
    let j = support::sent_id(
        &net.send(pronet::SendRequest::new(m(3), m(1)).proof(&email_of(m(1))))
            .unwrap(),
    );
    let _ = net.block(m(4), m(1)).unwrap();

    // Another process's writer, in the middle of a write transaction.
    let writer = rusqlite::Connection::open(file.path()).unwrap();
    writer
        .execute_batch(
            "BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE name = 'schema_version';",
        )
        .unwrap();
    while committing.try_recv().is_ok() {}
    let reads: Vec<(&str, Result<String, Error>)> = std::thread::scope(|s| {
        // This network's own write, waiting for the other writer.
        let waiting = s.spawn(|| net.register(person(9)).map(|c| c.events));
        committing.recv().unwrap();
        let reads = s
            .spawn(|| {
                let fmt = |r: Result<String, Error>| r;
                let store = &net.store().inner;
                let all: Vec<(&str, Result<String, Error>)> = vec![
                    (
                        "degree",
                        fmt(net.degree(m(1), m(3)).map(|d| format!("{d:?}"))),
                    ),
                    (
                        "mutuals",
                        fmt(net
                            .mutuals(m(1), m(3), None, whole())
                            .map(|p| format!("{p:?}"))),
                    ),
                    (
                        "mutual_count",
                        fmt(net.mutual_count(m(1), m(3)).map(|n| n.to_string())),
                    ),
                    (
                        "second_degree_count",
                        fmt(net.second_degree_count(m(1)).map(|n| n.to_string())),
                    ),
                    (
                        "how_connected",
                        fmt(net
                            .how_connected(m(1), m(3), whole())
                            .map(|h| format!("{h:?}"))),
                    ),
                    (
                        "connections",
                        fmt(net
                            .connections(m(1), m(2), None, whole())
                            .map(|p| format!("{p:?}"))),
                    ),
                    (
                        "inbox",
                        fmt(net
                            .inbox(m(1), None, whole())
                            .map(|p| format!("{:?}", p.items))),
                    ),
                    (
                        "held",
                        fmt(net
                            .held(m(1), None, whole())
                            .map(|p| format!("{:?}", p.items))),
                    ),
                    (
                        "sent",
                        fmt(net
                            .sent(m(3), None, whole())
                            .map(|p| format!("{:?}", p.items))),
                    ),
                    (
                        "standing",
                        fmt(net.standing(m(2)).map(|s| format!("{s:?}"))),
                    ),
                    (
                        "invitation",
                        fmt(net.invitation(m(1), j).map(|v| format!("{v:?}"))),
                    ),
                    (
                        "people_you_may_know",
                        fmt(net
                            .people_you_may_know(m(3), PageSize::new(5).unwrap())
                            .map(|p| format!("{p:?}"))),
                    ),
                    (
                        "search",
                        fmt(net
                            .search(m(1), &SearchQuery::keywords("P3"), None, whole())
                            .map(|p| format!("{p:?}"))),
                    ),
                    ("catch_up", fmt(net.catch_up().map(|n| n.to_string()))),
                    (
                        "events_since",
                        fmt(net
                            .events_since(ChangeCursor::START, 100)
                            .map(|p| p.events.len().to_string())),
                    ),
                    (
                        "store.members",
                        store
                            .members()
                            .map(|v| v.len().to_string())
                            .map_err(Error::from),
                    ),
                    (
                        "store.connections",
                        store
                            .connections()
                            .map(|v| v.len().to_string())
                            .map_err(Error::from),
                    ),
                    (
                        "store.open_invitations",
                        store
                            .open_invitations(m(1), pronet::store::Role::Recipient)
                            .map(|v| v.len().to_string())
                            .map_err(Error::from),
                    ),
                    (
                        "store.blocks",
                        store
                            .blocks(m(4), pronet::store::Role::Sender)
                            .map(|v| v.len().to_string())
                            .map_err(Error::from),
                    ),
                    (
                        "store.contacts",
                        store
                            .contacts(m(1))
                            .map(|v| v.len().to_string())
                            .map_err(Error::from),
                    ),
                    (
                        "store.change_cursor",
                        store
                            .change_cursor()
                            .map(|c| c.get().to_string())
                            .map_err(Error::from),
                    ),
                ];
                all
            })
            .join()
            .unwrap();
        writer.execute_batch("ROLLBACK").unwrap();
        assert!(
            waiting.join().unwrap().is_ok(),
            "the waiting write went through"
        );
        reads
    });
    for (name, result) in &reads {
        assert!(
            result.is_ok(),
            "A6: {name} waited for the writer: {result:?}"
        );
    }
    let answer = |name: &str| {
        reads
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
            .as_ref()
            .unwrap()
            .clone()
    };
    assert_eq!(answer("degree"), format!("{:?}", Degree::Second));
    assert_eq!(answer("mutual_count"), "1");
    assert_eq!(answer("store.members"), "4");
    assert_eq!(answer("store.blocks"), "1");
    assert_eq!(answer("store.open_invitations"), "1");
    assert!(answer("inbox").contains("mutual_connections: 1"));
}

/// `Freshness::Within`: reads may miss another network's commits for up
/// to the duration (by the network's clock), never its own; decisions
/// always follow the store first.
#[test]
fn freshness_within_bounds_how_stale_reads_are() {
    let shared = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(T0);
    let a = Network::open(shared.clone(), clock.clone(), Policy::default()).unwrap();
    let b = Network::open(shared, clock.clone(), Policy::default())
        .unwrap()
        .with_freshness(pronet::Freshness::Within(hours(1)));
    let _ = b.register(person(1)).unwrap();
    let _ = a.register(person(2)).unwrap();
    // b followed the feed when it registered 1, less than an hour ago.
    assert_eq!(
        b.degree(m(1), m(2)).unwrap_err().refusal(),
        Some(&pronet::Refusal::UnknownMember(m(2))),
        "a read within the hour may miss a's commit"
    );
    assert_eq!(
        b.degree(m(1), m(1)).unwrap(),
        Degree::Yourself,
        "never its own"
    );
    // A decision follows the store first: 2 is there for it.
    let sent = b
        .send(pronet::SendRequest::new(m(1), m(2)).proof(&email_of(m(2))))
        .unwrap();
    assert!(matches!(sent.outcome, pronet::SendOutcome::Sent(_)));
    assert_eq!(b.degree(m(1), m(2)).unwrap(), Degree::OutOfNetwork);
    // a's next commit shows in b's reads once the hour has passed.
    let _ = a.register(person(3)).unwrap();
    assert!(b.degree(m(1), m(3)).is_err());
    clock.advance(hours(1) + support::us(1));
    assert_eq!(b.degree(m(1), m(3)).unwrap(), Degree::OutOfNetwork);
}
