//! `Network::open` beside a busy writer (issue 11, item 2): a service
//! instance must start or restart while others register and connect
//! members. `open` reads the members and the connections as two snapshots;
//! a member registered between them and connected at once is an endpoint
//! the member list lacks.
//!
//! - `open_between_snapshots_*`: the interleaving made certain, by a store
//!   wrapper that lets another network commit just before `connections()`.
//! - `open_beside_writer_threads_*`: a writer thread on its own network,
//!   opens in a loop on another thread; every open must succeed and index
//!   everything committed before it returned.
//! - `open_beside_writer_process_sqlite`: the writer is another OS process
//!   (this test binary re-run in a child role) on the same SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::{
    Email, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, SendOutcome,
    Store, Timestamp,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
#[cfg(feature = "sqlite")]
use support::TempDb;
use support::{Watch, Watched};

const START: Timestamp = Timestamp::from_micros(1_700_000_000_000_000);

fn clock() -> ManualClock {
    ManualClock::new(START)
}

fn email(id: u64) -> Email {
    Email::parse(&format!("m{id}@example.com")).unwrap()
}

/// Registers `id` with a discoverable address and connects it to `to`
/// (which must exist and have a discoverable address too).
fn join_and_connect<S: Store>(net: &Network<S, ManualClock>, id: u64, to: Option<u64>) {
    let m = MemberId::new(id);
    let _ = net
        .register(Member::person(m, Profile::named(format!("M{id}"))).with_email(email(id), true))
        .unwrap();
    if let Some(to) = to {
        let sent = net
            .send(pronet::SendRequest::new(m, MemberId::new(to)).proof(&email(to)))
            .unwrap();
        let SendOutcome::Sent(invitation) = sent.outcome else {
            panic!("expected a sent invitation, got {:?}", sent.outcome);
        };
        let _ = net.accept(MemberId::new(to), invitation).unwrap();
    }
}

/// Runs a hook once, just before the store's first `connections()`: another
/// writer committing between `open`'s two reads.
struct Interleave(Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl Watch for Interleave {
    fn reading_connections(&self) {
        let hook = self.0.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
    }
}

/// For each member of the chain `ids`, whether it is connected to the one
/// before it, as `net`'s index says (`None`: not indexed).
fn chain<S: Store>(
    net: &Network<S, ManualClock>,
    ids: std::ops::RangeInclusive<u64>,
) -> Vec<Option<bool>> {
    let graph = net.graph();
    ids.map(|id| {
        let (a, b) = (
            MemberId::new(id.saturating_sub(1).max(1)),
            MemberId::new(id),
        );
        (graph.contains(a) && graph.contains(b))
            .then(|| graph.degree(a, b).unwrap() == pronet::Degree::First)
    })
    .collect()
}

fn open_between_snapshots<S: Store + Send + Sync + 'static>(inner: Arc<S>) {
    let writer = Network::open(Arc::clone(&inner), clock(), Policy::default()).unwrap();
    join_and_connect(&writer, 1, None);
    let writer = Arc::new(writer);
    let hook_writer = Arc::clone(&writer);
    let store = Watched::new(
        Arc::clone(&inner),
        Interleave(Mutex::new(Some(Box::new(move || {
            join_and_connect(&hook_writer, 2, Some(1))
        })))),
    );
    let opened = Network::open(store, clock(), Policy::default())
        .expect("open must succeed while another writer registers and connects");
    assert!(
        opened.store().watch.0.lock().unwrap().is_none(),
        "the hook ran"
    );
    // Everything committed before `open` returned is indexed.
    assert_eq!(
        opened
            .graph()
            .degree(MemberId::new(1), MemberId::new(2))
            .unwrap(),
        pronet::Degree::First
    );
    assert_eq!(chain(&opened, 1..=2), chain(&writer, 1..=2));
}

#[test]
fn open_between_snapshots_memory() {
    open_between_snapshots(Arc::new(MemoryStore::new()));
}

#[cfg(feature = "sqlite")]
#[test]
fn open_between_snapshots_sqlite() {
    let file = TempDb::new("between");
    open_between_snapshots(Arc::new(pronet::SqliteStore::open(file.path()).unwrap()));
}

/// Opens networks in a loop while `write` runs on another thread; every open
/// must succeed, and once the writer is done a last open sees what it wrote.
fn open_beside_writer<S: Store + Send + Sync + 'static>(
    open_store: impl Fn() -> S + Send + Sync + 'static,
    members: u64,
) {
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = Arc::clone(&done);
        let net = Network::open(open_store(), clock(), Policy::default()).unwrap();
        std::thread::spawn(move || {
            join_and_connect(&net, 1, None);
            for id in 2..=members {
                join_and_connect(&net, id, Some(id - 1));
            }
            done.store(true, Ordering::SeqCst);
            net
        })
    };
    let mut opens = 0;
    while !done.load(Ordering::SeqCst) {
        let net = Network::open(open_store(), clock(), Policy::default())
            .unwrap_or_else(|e| panic!("open {opens} beside a writer failed: {e}"));
        // The index is consistent: every connection's endpoints are members.
        let seen = chain(&net, 1..=members);
        // A prefix of the chain, every link connected but perhaps the
        // newest member's (registered, not connected yet).
        let indexed: Vec<bool> = seen.iter().skip(1).map_while(|&l| l).collect();
        assert!(
            seen.iter().skip(1 + indexed.len()).all(Option::is_none),
            "{seen:?}"
        );
        assert!(indexed.iter().rev().skip(1).all(|&l| l), "{seen:?}");
        opens += 1;
    }
    let writer = writer.join().unwrap();
    let last = Network::open(open_store(), clock(), Policy::default()).unwrap();
    assert_eq!(chain(&last, 1..=members), chain(&writer, 1..=members));
    assert!(chain(&last, 2..=members).iter().all(|&l| l == Some(true)));
    println!("{opens} opens beside the writer");
}

#[test]
fn open_beside_writer_threads_memory() {
    let store = Arc::new(MemoryStore::new());
    open_beside_writer(move || Arc::clone(&store), 300);
}

#[cfg(feature = "sqlite")]
#[test]
fn open_beside_writer_threads_sqlite() {
    let file = Arc::new(TempDb::new("threads"));
    let path = file.path().to_path_buf();
    open_beside_writer(move || pronet::SqliteStore::open(&path).unwrap(), 60);
    drop(file);
}

/// Child role of `open_beside_writer_process_sqlite`: write to the file
/// named by the environment, then exit.
#[cfg(feature = "sqlite")]
#[test]
fn child_writer_role() {
    let Ok(path) = std::env::var("PRONET_OPEN_CHILD_DB") else {
        return;
    };
    let net = Network::open(
        pronet::SqliteStore::open(&path).unwrap(),
        clock(),
        Policy::default(),
    )
    .unwrap();
    // Member 1 exists already (the parent registered it).
    for id in 2..=60 {
        join_and_connect(&net, id, Some(id - 1));
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn open_beside_writer_process_sqlite() {
    let file = TempDb::new("process");
    {
        let net = Network::open(
            pronet::SqliteStore::open(file.path()).unwrap(),
            clock(),
            Policy::default(),
        )
        .unwrap();
        join_and_connect(&net, 1, None);
    }
    let mut child = support::child_role(
        "child_writer_role",
        "PRONET_OPEN_CHILD_DB",
        file.path(),
        std::process::Stdio::null(),
    );
    let mut opens = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let net = Network::open(
            pronet::SqliteStore::open(file.path()).unwrap(),
            clock(),
            Policy::default(),
        )
        .unwrap_or_else(|e| panic!("open {opens} beside a writing process failed: {e}"));
        drop(net);
        opens += 1;
    };
    assert!(status.success(), "the writer process failed");
    let last = Network::open(
        pronet::SqliteStore::open(file.path()).unwrap(),
        clock(),
        Policy::default(),
    )
    .unwrap();
    let graph = last.graph();
    for id in 2..=60 {
        assert_eq!(
            graph
                .degree(MemberId::new(id - 1), MemberId::new(id))
                .unwrap(),
            pronet::Degree::First
        );
    }
    println!("{opens} opens beside the writing process");
}
