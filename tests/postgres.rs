//! `PostgresStore` on a real server (`PRONET_POSTGRES_URL`; each test
//! skips, saying so, without it): A5 round trips, the schema's version and
//! refusals, validation on read, the listener, and several processes with
//! their own `Network`s on one database.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::TimeDelta;
use pronet::change::Write;
use pronet::record::{Key, Record, Versioned};
use pronet::store::Role;
use pronet::{
    ChangeCursor, Error, ManualClock, Member, MemberId, Network, Policy, PostgresOpenError,
    PostgresStore, Profile, Store, StoreError,
};
use std::collections::BTreeSet;
use support::pg::{self, Schemas};
use support::{T0, email_of, graph_of, m, pair, whole};

fn clock() -> ManualClock {
    ManualClock::new(T0)
}

fn admin(url: &str, schema: &str) -> postgres::Client {
    let mut client = pg::config(url).connect(postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("SET search_path = \"{schema}\""))
        .unwrap();
    client
}

fn person(raw: u64) -> Member {
    Member::person(m(raw), Profile::named(format!("Person {raw}")))
        .with_email(email_of(m(raw)), true)
}

/// Every member's connections in `net`'s graph index, sorted, a line each.
fn graph_lines<S: Store>(net: &Network<S, ManualClock>, members: &[MemberId]) -> Vec<String> {
    graph_of(net, members)
        .into_iter()
        .map(|(member, items)| format!("{}:{items:?}", member.get()))
        .collect()
}

/// A5: a network's state round-trips exactly through PostgreSQL and a
/// restart: every record with its version, and the graph rebuilt from it.
#[test]
fn a5_network_state_round_trips_exactly_through_postgres_and_a_restart() {
    let Some(url) = pg::url("a5_network_state_round_trips_exactly_through_postgres_and_a_restart")
    else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.fresh("a5");
    let everyone: Vec<MemberId> = (1..=5).map(m).collect();
    let (before, graph_before) = {
        let net = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
        for raw in 1..=5 {
            support::done(net.register(person(raw)));
        }
        for raw in 2..=4 {
            let sent = net
                .send(
                    pronet::SendRequest::new(m(1), m(raw))
                        .note("Hello, Ünïcode ✓")
                        .proof(&email_of(m(raw))),
                )
                .unwrap();
            let id = support::sent_id(&sent);
            if raw != 4 {
                support::done(net.accept(m(raw), id));
            }
        }
        support::done(net.block(m(5), m(2)));
        (net.store().snapshot().unwrap(), graph_of(&net, &everyone))
    };
    assert!(before.len() > 10, "a world of {} records", before.len());
    let net = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
    assert_eq!(
        net.store().snapshot().unwrap(),
        before,
        "A5: every record and version"
    );
    assert_eq!(
        graph_of(&net, &everyone),
        graph_before,
        "A5: the graph rebuilt"
    );
    assert_eq!(
        net.store()
            .open_invitations(m(4), Role::Recipient)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(net.store().blocks(m(2), Role::Recipient).unwrap().len(), 1);
}

/// A5: a schema written by a newer pronet, or holding another
/// application's tables, is refused and left untouched.
#[test]
fn a5_newer_and_foreign_schemas_are_refused() {
    let Some(url) = pg::url("a5_newer_and_foreign_schemas_are_refused") else {
        return;
    };
    let schemas = Schemas::new(&url);
    let newer = schemas.fresh("newer");
    drop(pg::store_in(&url, &newer));
    admin(&url, &newer)
        .batch_execute("UPDATE meta SET value = 99 WHERE name = 'schema_version'")
        .unwrap();
    match PostgresStore::open_in_schema(pg::config(&url), &newer, 2) {
        Err(PostgresOpenError::NewerSchema {
            found: 99,
            supported,
        }) => {
            assert_eq!(supported, PostgresStore::SCHEMA_VERSION);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let foreign = schemas.fresh("foreign");
    let mut client = pg::config(&url).connect(postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{foreign}\"; CREATE TABLE \"{foreign}\".orders (id int)"
        ))
        .unwrap();
    assert!(matches!(
        PostgresStore::open_in_schema(pg::config(&url), &foreign, 2),
        Err(PostgresOpenError::Foreign(_))
    ));
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[&foreign],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "the foreign schema is left as it was");
}

/// A5: a schema of version 2 (each commit one big statement, before
/// `pronet_apply`) is migrated in place on opening: its records and
/// versions kept, and commits work as before, conflicts included.
#[test]
fn a5_a_version_2_schema_is_migrated_keeping_its_records() {
    let Some(schemas) = pg::schemas("a5_a_version_2_schema_is_migrated_keeping_its_records") else {
        return;
    };
    let (url, schema) = (schemas.url().to_owned(), schemas.fresh("v2"));
    let before = {
        let net = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
        for raw in 1..=3 {
            support::done(net.register(person(raw)));
        }
        let sent = net
            .send(pronet::SendRequest::new(m(1), m(2)).proof(&email_of(m(2))))
            .unwrap();
        support::done(net.accept(m(2), support::sent_id(&sent)));
        net.store().snapshot().unwrap()
    };
    // Take the schema back to version 2 as that release left it.
    admin(&url, &schema)
        .batch_execute(
            "DROP FUNCTION pronet_apply(text[], bigint[], bigint[], text[], bool[],
                 smallint[], bigint[], smallint[], text[]);
             CREATE FUNCTION pronet_conflict(key text) RETURNS bigint LANGUAGE plpgsql AS $$
             BEGIN
                 RAISE EXCEPTION USING ERRCODE = 'PN409', MESSAGE = key;
             END $$;
             UPDATE meta SET value = 2 WHERE name = 'schema_version'",
        )
        .unwrap();
    let net = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
    let version: i64 = admin(&url, &schema)
        .query_one("SELECT value FROM meta WHERE name = 'schema_version'", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, PostgresStore::SCHEMA_VERSION);
    assert_eq!(net.store().snapshot().unwrap(), before, "every record kept");
    let sent = net
        .send(pronet::SendRequest::new(m(1), m(3)).proof(&email_of(m(3))))
        .unwrap();
    support::done(net.accept(m(3), support::sent_id(&sent)));
    assert_eq!(net.graph().connection_count(), 2);
    // A stale expectation (m1's ledger moved with the send) is still a
    // conflict naming its key.
    let key = Key::Ledger(m(1));
    let stale = before
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.clone())
        .unwrap();
    let write = Write::replacing(Some(&stale), stale.value.clone());
    match net.store().commit(&[write]) {
        Err(pronet::CommitError::Conflict(k)) => assert_eq!(k, key),
        other => panic!("expected a conflict on {key:?}, got {other:?}"),
    }
}

/// A5: values read back are validated: an unknown field, a respelled value
/// or a record under another key is `Corrupt` naming the key.
#[test]
fn a5_tampered_values_read_back_as_corrupt() {
    let Some(url) = pg::url("a5_tampered_values_read_back_as_corrupt") else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.fresh("tamper");
    let net = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
    support::done(net.register(person(1)));
    support::done(net.register(person(2)));
    let key = Key::Member(m(1));
    let key_text = serde_json::to_string(&key).unwrap();
    let other_text = serde_json::to_string(&Key::Member(m(2))).unwrap();
    let mut client = admin(&url, &schema);
    let original: String = client
        .query_one("SELECT value FROM record WHERE key = $1", &[&key_text])
        .unwrap()
        .get(0);
    let other: String = client
        .query_one("SELECT value FROM record WHERE key = $1", &[&other_text])
        .unwrap()
        .get(0);
    let unknown_field = original.replacen('{', "{\"x\":1,", 2);
    for tampered in [
        unknown_field,
        original.replace("Person 1", "Person\\u00201"),
        other,
    ] {
        client
            .execute(
                "UPDATE record SET value = $2 WHERE key = $1",
                &[&key_text, &tampered],
            )
            .unwrap();
        match net.store().get(&key) {
            Err(StoreError::Corrupt(k)) => assert_eq!(k, key),
            other => panic!("{tampered}: expected Corrupt, got {other:?}"),
        }
        assert!(matches!(net.store().members(), Err(StoreError::Corrupt(_))));
    }
}

/// Followers are woken by a commit of another store (another process's,
/// as far as PostgreSQL can tell), and not without one.
#[test]
fn listener_wakes_on_another_stores_commit() {
    let Some(url) = pg::url("listener_wakes_on_another_stores_commit") else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.fresh("listen");
    let follower = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
    let mut listener = follower.store().listener().unwrap();
    assert!(!listener.wait(std::time::Duration::from_millis(20)).unwrap());
    let writer = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
    support::done(writer.register(person(1)));
    // Generous: the test asserts that it wakes, not how fast.
    assert!(listener.wait(std::time::Duration::from_secs(30)).unwrap());
    assert!(follower.catch_up().unwrap() > 0);
    assert!(follower.graph().contains(m(1)));
}

/// F1: a network's own commit is in its index when the call returns, even
/// while a transaction that began before it (another process's commit,
/// here held on a row lock) keeps the feed from passing it, and with feed
/// reads that do not wait at all; and the older commit, which becomes
/// visible later with an earlier position, is still followed: the index
/// never skips it.
#[test]
fn f1_own_commit_indexed_at_once_while_an_older_commit_is_running() {
    let Some(url) = pg::url("f1_own_commit_indexed_at_once_while_an_older_commit_is_running")
    else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.fresh("own");
    let store = pg::store_in(&url, &schema).with_settle_limit(std::time::Duration::ZERO);
    let net = Network::open(store, clock(), Policy::default()).unwrap();
    for raw in 1..=3 {
        support::done(net.register(person(raw)));
    }
    let sent = net
        .send(pronet::SendRequest::new(m(1), m(2)).proof(&email_of(m(2))))
        .unwrap();
    let id = support::sent_id(&sent);

    // Another process's commit: it inserts member 10, then waits for
    // member 3's row, which `locker` holds. (Rows are written in key text
    // order: `{"Member":10}` before `{"Member":3}`.) Its transaction id,
    // and so its positions, come before the network's next commit.
    let key_of = |raw: u64| serde_json::to_string(&Key::Member(m(raw))).unwrap();
    let mut locker = admin(&url, &schema);
    let mut lock = locker.transaction().unwrap();
    lock.execute(
        "SELECT 1 FROM record WHERE key = $1 FOR UPDATE",
        &[&key_of(3)],
    )
    .unwrap();
    let locker_pid: i32 = lock
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let remote = pg::store_in(&url, &schema);
    let renamed =
        Member::person(m(3), Profile::named("Person 3, renamed")).with_email(email_of(m(3)), true);
    let three = remote.get(&Key::Member(m(3))).unwrap();
    let writes = vec![
        Write::replacing(None::<&Versioned<Record>>, Record::Member(person(10))),
        Write::replacing(three.as_ref(), Record::Member(renamed)),
    ];
    std::thread::scope(|scope| {
        let older = scope.spawn(|| remote.commit(&writes));
        // Until the older commit waits for the lock (it then holds its
        // transaction id and member 10's row).
        let mut watcher = admin(&url, &schema);
        while watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                &[&locker_pid],
            )
            .unwrap()
            .get::<_, i64>(0)
            == 0
        {
            std::thread::yield_now();
        }

        support::done(net.accept(m(2), id));
        let pair_key = Key::Pair(pair(m(1), m(2)));
        let feed = net
            .store()
            .changes_since(ChangeCursor::START, 1000)
            .unwrap();
        assert!(
            feed.changes.iter().all(|c| c.value.key() != pair_key),
            "the feed holds the accept back behind the older commit"
        );
        let connected = net.graph().connections(m(1), None, whole()).unwrap().items;
        assert_eq!(
            connected,
            [m(2)],
            "F1: the network's own commit is in its index at once"
        );
        assert!(!net.graph().contains(m(10)));

        lock.rollback().unwrap();
        older.join().unwrap().unwrap();
    });
    // Once every transaction before the older commit ended (others' on
    // this server too), a follow returns it: the index did not skip it.
    let pos: i64 = admin(&url, &schema)
        .query_one("SELECT pos FROM record WHERE key = $1", &[&key_of(10)])
        .unwrap()
        .get(0);
    let mut watcher = admin(&url, &schema);
    while watcher
        .query_one(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 65536 <= $1",
            &[&pos],
        )
        .unwrap()
        .get::<_, bool>(0)
    {
        std::thread::yield_now();
    }
    net.catch_up().unwrap();
    assert!(net.graph().contains(m(10)), "F1: the older commit followed");
    let everyone: Vec<MemberId> = [1, 2, 3, 10].map(m).to_vec();
    let rebuilt = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
    assert_eq!(graph_of(&net, &everyone), graph_of(&rebuilt, &everyone));
}

const PROCESSES: u64 = 3;
const PEOPLE: u64 = 10;
/// The processes' clocks advance this much per operation.
const STEP: TimeDelta = TimeDelta::minutes(2);

/// The Free quota of the processes' networks: tight, so that the rolling
/// window binds within the run (each member sends a few times an hour).
fn quota() -> Policy {
    support::quota_policy_within(2, TimeDelta::minutes(30))
}

fn ops() -> u64 {
    support::env_number("PRONET_PG_PROCESS_OPS", 60)
}

/// Child role of `processes_with_their_own_networks_keep_invariants`:
/// random operations, then (once every process is done) its index.
#[test]
fn process_network_child_role() {
    let Ok(role) = std::env::var("PRONET_PG_CHILD") else {
        return;
    };
    let (schema, w) = role.split_once('|').unwrap();
    let w: u64 = w.parse().unwrap();
    let url = std::env::var(pg::VAR).unwrap();
    let clock = clock();
    let net = Network::open(pg::store_in(&url, schema), clock.clone(), quota()).unwrap();
    // A fixed sequence per process (an LCG): bounded and repeatable.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ w;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) % n
    };
    let mut contended = 0;
    for op in 0..ops() {
        // Every process's clock runs alike (the ledgers' latest instants
        // keep time from going back for a member when one lags).
        clock.set(support::at(STEP * i32::try_from(op).unwrap()));
        let (a, b) = (m(1 + next(PEOPLE)), m(1 + next(PEOPLE)));
        let result = match next(6) {
            0 | 1 => net
                .send(pronet::SendRequest::new(a, b).proof(&email_of(b)))
                .map(|_| ()),
            2 => match net
                .store()
                .open_invitations(a, Role::Recipient)
                .unwrap()
                .first()
            {
                Some(inv) => net.accept(a, inv.id).map(|_| ()),
                None => Ok(()),
            },
            3 => match net
                .store()
                .open_invitations(a, Role::Sender)
                .unwrap()
                .first()
            {
                Some(inv) => net.withdraw(a, inv.id).map(|_| ()),
                None => Ok(()),
            },
            4 => net.remove_connection(a, b).map(|_| ()),
            _ => net.block(a, b).map(|_| ()),
        };
        match result {
            Ok(()) | Err(Error::Refused(_)) => {}
            Err(Error::Contended { .. }) => contended += 1,
            Err(e) => panic!("process {w}: {e}"),
        }
    }
    // Wait until every process is done, then catch up and report.
    let mut client = admin(&url, schema);
    client
        .execute("INSERT INTO done (w) VALUES ($1)", &[&(w as i64)])
        .unwrap();
    for _ in 0..6000 {
        let n: i64 = client
            .query_one("SELECT count(*) FROM done", &[])
            .unwrap()
            .get(0);
        if n == PROCESSES as i64 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    net.catch_up().unwrap();
    let everyone: Vec<MemberId> = (1..=PEOPLE).map(m).collect();
    for line in graph_lines(&net, &everyone) {
        println!("GRAPH {line}");
    }
    eprintln!("process {w}: {} ops, {contended} contended", ops());
}

/// Several processes, each with its own `Network` on one database, run a
/// fixed number of random operations; then the global invariants hold
/// (I1 one open invitation per pair at most, I2 none between connected
/// members, B1 no blocked pair connected, Q1 a sender's successful sends
/// within any rolling window never exceed the quota) and every process's
/// index, caught up, equals the graph of a `Network` opened afresh on the
/// database.
#[test]
fn processes_with_their_own_networks_keep_invariants() {
    let Some(url) = pg::url("processes_with_their_own_networks_keep_invariants") else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.fresh("procs");
    {
        let net = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
        for raw in 1..=PEOPLE {
            support::done(net.register(person(raw)));
        }
    }
    admin(&url, &schema)
        .batch_execute("CREATE TABLE done (w bigint PRIMARY KEY)")
        .unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|w| {
            support::child_role(
                "process_network_child_role",
                "PRONET_PG_CHILD",
                format!("{schema}|{w}"),
                std::process::Stdio::piped(),
            )
        })
        .collect();
    let outputs: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "a process failed");
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    let net = Network::open(pg::store_in(&url, &schema), clock(), Policy::default()).unwrap();
    let everyone: Vec<MemberId> = (1..=PEOPLE).map(m).collect();
    let fresh: Vec<String> = graph_lines(&net, &everyone);
    for (w, out) in outputs.iter().enumerate() {
        let graph: Vec<String> = out
            .lines()
            // libtest may print before the first line.
            .filter_map(|l| l.find("GRAPH ").map(|at| l[at + 6..].to_owned()))
            .collect();
        assert_eq!(
            graph, fresh,
            "process {w}'s index equals one rebuilt from the database"
        );
    }
    let store = net.store();
    let connected: BTreeSet<_> = store.connections().unwrap().into_iter().collect();
    let mut open_pairs = BTreeSet::new();
    for &member in &everyone {
        for inv in store.open_invitations(member, Role::Sender).unwrap() {
            let key = pair(inv.sender, inv.recipient);
            assert!(
                open_pairs.insert(key),
                "I1: two open invitations for {key:?}"
            );
            assert!(
                !connected.contains(&key),
                "I2: an open invitation while connected"
            );
        }
        for block in store.blocks(member, Role::Sender).unwrap() {
            let key = pair(block.blocker, block.target);
            assert!(!connected.contains(&key), "B1: a blocked pair is connected");
        }
    }
    assert!(!connected.is_empty(), "the operations connected somebody");
    // Q1: every invitation record is a successful send, at its instant.
    let quota = quota().invitation_quota(pronet::Tier::Free);
    let mut sent: std::collections::BTreeMap<MemberId, Vec<pronet::Timestamp>> =
        std::collections::BTreeMap::new();
    for (_, record) in store.snapshot().unwrap() {
        if let Record::Invitation(inv) = record.value {
            sent.entry(inv.sender).or_default().push(inv.sent_at);
        }
    }
    let mut bound = false;
    for (sender, times) in &mut sent {
        times.sort();
        for (i, &t) in times.iter().enumerate() {
            let within = times[..=i]
                .iter()
                .filter(|&&s| t.since(s) < quota.window())
                .count();
            assert!(
                within <= quota.limit() as usize,
                "Q1: {sender:?} sent {within} within a window ending {t:?}"
            );
            bound |= within == quota.limit() as usize;
        }
    }
    assert!(bound, "some sender used a whole window's quota");
    eprintln!(
        "{PROCESSES} processes x {} ops: {} connections, {} open invitations",
        ops(),
        connected.len(),
        open_pairs.len()
    );
}

/// F1, clause 7: deleting a key of personal data keeps its position apart
/// (the trimmed position, raised inside the deleting transaction); while
/// an older transaction is still open, `change_cursor` answers no position
/// above that transaction's own, so that a follower starting from it
/// cannot skip the older transaction's commit.
#[test]
fn f1_change_cursor_never_passes_an_older_open_transaction() {
    let Some(url) = pg::url("f1_change_cursor_never_passes_an_older_open_transaction") else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.fresh("cursor");
    // A short settle limit: the open transaction outlasts it.
    let store = pg::store_in(&url, &schema).with_settle_limit(std::time::Duration::from_millis(20));
    let contact = Record::Contact(pronet::contacts::Contact::new(m(1), email_of(m(2)), T0));
    let key = contact.key();
    assert!(key.holds_personal_data());
    store
        .commit(&[Write::replacing(None::<&Versioned<Record>>, contact)])
        .unwrap();
    let stored = store.get(&key).unwrap().unwrap();

    // An older transaction, open, with its id (and so its positions).
    let mut open = admin(&url, &schema);
    let mut older = open.transaction().unwrap();
    let id: i64 = older
        .query_one("SELECT pg_current_xact_id()::text::bigint", &[])
        .unwrap()
        .get(0);
    let first_position = u64::try_from(id).unwrap() * 65536;

    store.commit(&[Write::deleting(&stored, key)]).unwrap();
    let cursor = store.change_cursor().unwrap();
    assert!(
        cursor.get() < first_position,
        "change_cursor {} passed the open transaction's positions (from {first_position})",
        cursor.get()
    );
    older.rollback().unwrap();
    // Once it ended (and every older one on this server), the deletion's
    // position is the latest.
    let settled = pg::store_in(&url, &schema);
    assert!(settled.change_cursor().unwrap().get() > first_position);
}
