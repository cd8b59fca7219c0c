//! `SqliteStore` under `Network`: RELIABILITY A5 (a whole network's state
//! round-trips exactly through a SQLite file and a restart), several
//! networks sharing one file and converging through the change feed
//! (`Network::catch_up`), and several connections opening, migrating and
//! taking ids from one file at once.

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::TimeDelta;
use pronet::record::{Key, Record, Versioned};
use pronet::{
    Clock, Email, InvitationId, InvitePreference, ManualClock, Member, MemberId, MemoryStore,
    Network, Policy, Profile, SqliteStore, Store, Tier,
};
use std::collections::HashSet;
use std::sync::Barrier;
use support::{T0, TempDb, m, send_proving, sent, whole};

fn email(raw: u64) -> Email {
    Email::parse(&format!("Member.{raw}@Example.com")).unwrap()
}

/// A varied history: Unicode profiles and notes, a company, tiers and
/// preferences, contacts, every answer, a crossing send, a deactivation,
/// and a clock moving by odd microseconds.
fn history<S: Store>(net: &Network<S, ManualClock>, clock: &ManualClock) {
    let names = ["Zoë", "Bo", "Cy 李", "Dee", "Eli", "Fé", "Gus"];
    for (raw, name) in (1..=7).zip(names) {
        let mut member = Member::person(m(raw), Profile::named(name)).with_email(email(raw), true);
        member.profile.headline = format!("Engineer #{raw} — “quoted”\n\tline two");
        member.profile.skills = vec!["Rust".into(), "🦀".into()];
        if raw == 4 {
            member = member
                .with_tier(Tier::Premium(2))
                .with_invite_preference(InvitePreference::EmailOrContacts);
        }
        let _ = net.register(member).unwrap();
        clock.advance(TimeDelta::microseconds(123_457));
    }
    let _ = net
        .register(Member::company(m(100), Profile::named("ACME Ltd.")))
        .unwrap();
    let _ = net.add_contacts(m(1), &[email(2), email(3)]).unwrap();
    let note = Some("Hi Bo 👋🏽 we met at RustConf — let's connect!\r\nZoë");
    let to_bo = support::invite_with(net, pronet::SendRequest::new(m(1), m(2)).maybe_note(note));
    clock.advance(TimeDelta::milliseconds(1_500) + TimeDelta::microseconds(1));
    let _ = net.accept(m(2), to_bo).unwrap();
    let to_cy = support::invite_with(net, pronet::SendRequest::new(m(1), m(3)));
    let _ = net.accept(m(3), to_cy).unwrap();
    // 2 and 3 now share 1: eligible by shared connection.
    let _ = net
        .send(pronet::SendRequest::new(m(2), m(3)).note("Hello Cy"))
        .unwrap();
    // A crossing send connects at once.
    let _ = net.send(pronet::SendRequest::new(m(3), m(2))).unwrap();
    // 4 admits only email or contacts: 1, eligible through 3, is held.
    let to_dee = sent(send_proving(net, m(3), m(4), None, &email(4)).outcome);
    let _ = net.accept(m(4), to_dee).unwrap();
    let _ = net.send(pronet::SendRequest::new(m(1), m(4))).unwrap();
    let to_eli = sent(send_proving(net, m(1), m(5), None, &email(5)).outcome);
    let _ = net.ignore_unknown(m(5), to_eli).unwrap();
    let to_fe = sent(send_proving(net, m(2), m(6), None, &email(6)).outcome);
    let _ = net.reject(m(6), to_fe).unwrap();
    clock.advance(TimeDelta::days(3) + TimeDelta::microseconds(7));
    let to_gus = sent(send_proving(net, m(3), m(7), Some("Gus?"), &email(7)).outcome);
    let _ = net.withdraw(m(3), to_gus).unwrap();
    let _ = send_proving(net, m(6), m(1), Some("Hi!"), &email(1));
    let _ = net.deactivate(m(7)).unwrap();
}

type Lists = Vec<(
    MemberId,
    Vec<pronet::Listed>,
    Vec<pronet::Listed>,
    Vec<pronet::Listed>,
)>;

/// What members see: the graph, and each one's inbox, held and sent lists.
fn observe<S: Store>(net: &Network<S, ManualClock>) -> (Vec<Vec<MemberId>>, Lists) {
    let members: Vec<MemberId> = (1..=7).map(m).collect();
    let graph = {
        let g = net.graph();
        members
            .iter()
            .map(|&id| {
                let mut items = g
                    .connections(id, None, whole())
                    .map(|p| p.items)
                    .unwrap_or_default();
                items.sort();
                items
            })
            .collect()
    };
    let lists = members
        .iter()
        .filter(|&&id| net.graph().contains(id))
        .map(|&id| {
            (
                id,
                net.inbox(id, None, whole()).unwrap().items,
                net.held(id, None, whole()).unwrap().items,
                net.sent(id, None, whole()).unwrap().items,
            )
        })
        .collect();
    (graph, lists)
}

fn exact(a: &[(Key, Versioned<Record>)], b: &[(Key, Versioned<Record>)]) {
    assert_eq!(a, b);
    // Debug shows what equality may not compare (an email as written).
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

/// A5: the same history on MemoryStore and on a SQLite file stores exactly
/// the same records and versions; reopened after a "restart", the file
/// gives a network whose graph and lists equal the in-memory one's.
#[test]
fn a5_network_state_round_trips_exactly_through_a_file_and_a_restart() {
    let path = TempDb::new("a5");
    let memory_clock = ManualClock::new(T0);
    let memory =
        Network::open(MemoryStore::new(), memory_clock.clone(), Policy::default()).unwrap();
    history(&memory, &memory_clock);
    assert_eq!(
        memory.held(m(4), None, whole()).unwrap().items.len(),
        1,
        "a held invitation"
    );
    let sqlite_clock = ManualClock::new(T0);
    {
        let store = SqliteStore::open(path.path()).unwrap();
        let net = Network::open(store, sqlite_clock.clone(), Policy::default()).unwrap();
        history(&net, &sqlite_clock);
        exact(&net.store().snapshot().unwrap(), &memory.store().snapshot());
        assert_eq!(observe(&net), observe(&memory));
    }
    // A restart: a new connection, a graph rebuilt from the file.
    let reopened = Network::open(
        SqliteStore::open(path.path()).unwrap(),
        ManualClock::new(sqlite_clock.now()),
        Policy::default(),
    )
    .unwrap();
    exact(
        &reopened.store().snapshot().unwrap(),
        &memory.store().snapshot(),
    );
    assert_eq!(observe(&reopened), observe(&memory));
    for raw in 1..=12 {
        let id = InvitationId::new(raw);
        for viewer in (1..=7).map(m) {
            let a = memory.invitation(viewer, id).map_err(|e| format!("{e:?}"));
            let b = reopened
                .invitation(viewer, id)
                .map_err(|e| format!("{e:?}"));
            assert_eq!(a, b, "invitation {id} as seen by {viewer}");
        }
    }
    let g = reopened.graph();
    assert_eq!(g.degree(m(2), m(3)).unwrap(), pronet::Degree::First);
    assert_eq!(g.mutual_count(m(2), m(3)).unwrap(), 1);
}

/// Two networks, each over its own connection to one file (as two
/// processes would be), and no call to `catch_up`: every operation follows
/// the feed before it decides and after it commits, and every viewer read
/// before it answers, so each network answers as the other does after
/// every operation of either (A7). Only the raw index (`graph()`) lags
/// until the network's next operation or read.
#[test]
fn a7_networks_sharing_a_file_answer_alike_without_catch_up() {
    let path = TempDb::new("shared");
    let clock = ManualClock::new(T0);
    let open = || {
        Network::open(
            SqliteStore::open(path.path()).unwrap(),
            clock.clone(),
            Policy::default(),
        )
        .unwrap()
    };
    let (a, b) = (open(), open());
    for raw in 1..=6 {
        let net = if raw % 2 == 0 { &a } else { &b };
        let _ = net
            .register(
                Member::person(m(raw), Profile::named(format!("M{raw}")))
                    .with_email(email(raw), true),
            )
            .unwrap();
    }
    // b registered 5 before a registered 6: b's raw index has not yet
    // followed a's registration; a read follows first.
    assert!(!b.graph().contains(m(6)));
    assert_eq!(b.degree(m(5), m(6)).unwrap(), pronet::Degree::OutOfNetwork);
    assert!(b.graph().contains(m(6)));
    // Sent on a, accepted on b: b's decision sees a's invitation and
    // member records, and a's next read sees b's acceptance.
    let i = sent(send_proving(&a, m(1), m(2), None, &email(2)).outcome);
    let _ = b.accept(m(2), i).unwrap();
    assert_eq!(a.degree(m(1), m(2)).unwrap(), pronet::Degree::First);
    let j = sent(send_proving(&b, m(2), m(3), None, &email(3)).outcome);
    let _ = a.accept(m(3), j).unwrap();
    // 1 and 3 share 2: b decides eligibility on a's acceptance without
    // being told (the stale `NotEligible`).
    let k = support::invite_with(&b, pronet::SendRequest::new(m(1), m(3)).note("via Bo"));
    assert_eq!(
        a.inbox(m(3), None, whole()).unwrap().items[0].mutual_connections,
        1
    );
    let _ = a.accept(m(3), k).unwrap();
    let _ = a.deactivate(m(6)).unwrap();
    assert_eq!(
        b.degree(m(6), m(1)).unwrap_err().refusal(),
        Some(&pronet::Refusal::UnknownMember(m(6))),
        "the deactivation reached b"
    );
    assert_eq!(b.degree(m(1), m(3)).unwrap(), pronet::Degree::First);
    let fresh = open();
    assert_eq!(observe(&a), observe(&fresh));
    assert_eq!(observe(&b), observe(&fresh));
    assert_eq!(b.graph().connection_count(), 3);
    assert_eq!(a.catch_up().unwrap(), 0, "nothing left to follow");
}

/// Catching up across many pages of the feed (more than one store call
/// reads), with a member rewritten after its connection: the connection's
/// page comes before the member's new position, and is still applied.
#[test]
fn catch_up_follows_a_long_feed_and_members_rewritten_after_their_connections() {
    let store = SqliteStore::open_in_memory().unwrap();
    let clock = ManualClock::new(T0);
    let writer = Network::open(&store, clock.clone(), Policy::default()).unwrap();
    let reader = Network::open(&store, clock, Policy::default()).unwrap();
    let person = |raw: u64| {
        Member::person(m(raw), Profile::named(format!("M{raw}"))).with_email(email(raw), true)
    };
    for raw in 1..=2 {
        let _ = writer.register(person(raw)).unwrap();
    }
    let i = sent(
        writer
            .send(pronet::SendRequest::new(m(1), m(2)).proof(&email(2)))
            .unwrap()
            .outcome,
    );
    let _ = writer.accept(m(2), i).unwrap();
    for raw in 10..1_300 {
        let _ = writer.register(person(raw)).unwrap();
    }
    // Member 1 moves to the end of the feed, after its connection.
    let _ = writer
        .update_member(m(1), |p| p.profile.headline = "moved".into())
        .unwrap();
    let applied = reader.catch_up().unwrap();
    assert!(applied > 1_290, "{applied}");
    assert!(reader.graph().are_connected(m(1), m(2)));
    assert_eq!(reader.graph().member_count(), writer.graph().member_count());
    assert_eq!(reader.graph().connection_count(), 1);
}

/// Connections opening one new file at once agree on one schema, and ids
/// taken through separate connections at once are all distinct (clause 6
/// across connections).
#[test]
fn connections_open_one_file_at_once_and_take_distinct_ids() {
    const THREADS: usize = 4;
    let path = TempDb::new("ids");
    let barrier = Barrier::new(THREADS);
    let ids: Vec<Vec<InvitationId>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (path, barrier) = (&path, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let store = SqliteStore::open(path.path()).unwrap();
                    (0..150)
                        .map(|_| store.next_invitation_id().unwrap())
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = HashSet::new();
    for id in ids.into_iter().flatten() {
        assert!(all.insert(id), "id {id} taken twice");
    }
    assert_eq!(all.len(), THREADS * 150);
    // Reopening continues after every id handed out (each connection
    // reserves ids in blocks, so unused ones are skipped).
    let store = SqliteStore::open(path.path()).unwrap();
    let next = store.next_invitation_id().unwrap();
    assert!(all.iter().all(|&id| id < next), "{next}");
}

/// Openers of one new file per trial, as threads and as processes.
const OPENERS: usize = 4;
/// Trials of the concurrent-open tests: enough that the old `open` (which
/// gave up on the journal-mode switch at once) failed every run of each
/// test, and still quick.
const THREAD_TRIALS: usize = 60;
const PROCESS_TRIALS: usize = 20;
/// The environment variable that turns the child-role test into a child
/// opener: the path of the database to open.
const CHILD_PATH: &str = "PRONET_TEST_OPEN_CHILD_PATH";
/// Ids each opener takes after opening.
const CHILD_IDS: usize = 3;

/// Opens `path`, takes a few ids and prints them: what each concurrent
/// opener does.
fn open_and_take_ids(path: &std::path::Path) -> Result<Vec<InvitationId>, String> {
    let store = SqliteStore::open(path).map_err(|e| format!("open: {e}"))?;
    (0..CHILD_IDS)
        .map(|_| store.next_invitation_id().map_err(|e| format!("id: {e}")))
        .collect()
}

/// The ids of every opener are distinct, and a fresh open continues after
/// all of them.
fn check_ids(path: &std::path::Path, ids: Vec<Vec<InvitationId>>) {
    let mut all = HashSet::new();
    for id in ids.into_iter().flatten() {
        assert!(all.insert(id), "id {id} taken twice");
    }
    assert_eq!(all.len(), OPENERS * CHILD_IDS);
    let next = SqliteStore::open(path)
        .unwrap()
        .next_invitation_id()
        .unwrap();
    assert!(all.iter().all(|&id| id < next), "{next}");
}

/// Threads opening one new file at once all succeed (issue #11, item 1:
/// switching to WAL answers SQLITE_BUSY at once to all but one of them,
/// without calling the busy handler; `open` now retries it until its busy
/// timeout).
#[test]
fn threads_open_one_new_file_at_once_without_busy_errors() {
    for trial in 0..THREAD_TRIALS {
        let path = TempDb::new("open-threads");
        let barrier = Barrier::new(OPENERS);
        let results: Vec<Result<Vec<InvitationId>, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..OPENERS)
                .map(|_| {
                    let (path, barrier) = (&path, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        open_and_take_ids(path.path())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ids = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("trial {trial}: {e}")))
            .collect();
        check_ids(path.path(), ids);
    }
}

/// The child role of [`processes_open_one_new_file_at_once_without_busy_errors`]:
/// with `PRONET_TEST_OPEN_CHILD_PATH` set, it waits for a line on stdin
/// (the parent's start signal), opens that file, takes ids and prints
/// them; without it, it does nothing.
#[test]
fn concurrent_open_child_role() {
    let Some(path) = std::env::var_os(CHILD_PATH) else {
        return;
    };
    println!("pronet-child-ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    match open_and_take_ids(std::path::Path::new(&path)) {
        Ok(ids) => {
            let ids: Vec<String> = ids.iter().map(|id| id.get().to_string()).collect();
            println!("pronet-child-ids: {}", ids.join(" "));
        }
        Err(e) => {
            println!("pronet-child-error: {e}");
            std::process::exit(3);
        }
    }
}

/// OS processes opening one new file at once all succeed (issue #11,
/// item 1). Each child is this test binary re-run with `--exact` on
/// [`concurrent_open_child_role`]; each says when it is ready and then
/// blocks on stdin until every one is, so that all open at once.
#[test]
fn processes_open_one_new_file_at_once_without_busy_errors() {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().unwrap();
    for trial in 0..PROCESS_TRIALS {
        let path = TempDb::new("open-processes");
        let mut children: Vec<_> = (0..OPENERS)
            .map(|_| {
                Command::new(&exe)
                    .args([
                        "--exact",
                        "concurrent_open_child_role",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env(CHILD_PATH, path.path())
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // Wait until every child is ready, then start them all.
        let mut readers: Vec<_> = children
            .iter_mut()
            .map(|child| BufReader::new(child.stdout.take().unwrap()))
            .collect();
        for reader in &mut readers {
            let mut line = String::new();
            while !line.contains("pronet-child-ready") {
                line.clear();
                assert_ne!(
                    reader.read_line(&mut line).unwrap(),
                    0,
                    "a child ended early"
                );
            }
        }
        for child in &mut children {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"go\n").unwrap();
        }
        let mut ids = Vec::new();
        let mut failures = Vec::new();
        for (child, mut reader) in children.into_iter().zip(readers) {
            let mut stdout = String::new();
            reader.read_to_string(&mut stdout).unwrap();
            let out = child.wait_with_output().unwrap();
            let line = stdout
                .lines()
                .find_map(|l| l.strip_prefix("pronet-child-ids: "));
            match (out.status.success(), line) {
                (true, Some(line)) => ids.push(
                    line.split(' ')
                        .map(|n| InvitationId::new(n.parse().unwrap()))
                        .collect(),
                ),
                _ => failures.push(format!(
                    "{}: {stdout} {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                )),
            }
        }
        assert!(failures.is_empty(), "trial {trial}: {failures:#?}");
        check_ids(path.path(), ids);
    }
}
