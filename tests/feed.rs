//! RELIABILITY F1: many writers, threads and processes, commit while a
//! reader follows the change feed. At the end the reader has seen every
//! record at its latest version, and it never saw a record go back to an
//! older version (what a position appearing behind one already passed
//! would show as: the reader would miss a version, and end without the
//! latest). Run against `SqliteStore` (a file in WAL mode) and
//! `PostgresStore` (a fresh schema; skipped, saying so, without
//! `PRONET_POSTGRES_URL`).
//!
//! After each pass to the end of the feed, the reader audits it: reading
//! the whole feed again one record at a time, every record at a position it
//! has passed must be one it saw, so a commit that became visible behind
//! its cursor fails the test at once.
//!
//! Each writer owns a few member records and rewrites them, two per commit
//! (so a change set's records come in pairs), `COMMITS` times; child
//! processes are this test binary re-run in a child role
//! (`f1_child_writer_role`), their writer number and database named by the
//! environment. `PRONET_F1_COMMITS` sets a bigger run.

#![cfg(any(feature = "sqlite", feature = "postgres"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::change::{Change, Write};
use pronet::record::{Key, Record, Version, Versioned};
use pronet::{ChangeCursor, Member, MemberId, Profile, Store};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

const THREADS: u64 = 3;
const PROCESSES: u64 = 2;
const KEYS_PER_WRITER: u64 = 4;

fn commits() -> u64 {
    support::env_number("PRONET_F1_COMMITS", 60)
}

fn member(raw: u64, round: u64) -> Record {
    Record::Member(Member::person(
        MemberId::new(raw),
        Profile::named(format!("writer round {round}")),
    ))
}

/// Writer `w`'s commits: each rewrites two of its members.
fn write(store: &dyn Store, w: u64) {
    let first = w * 100 + 1;
    for round in 0..commits() {
        let a = first + (round % KEYS_PER_WRITER);
        let b = first + ((round + 1) % KEYS_PER_WRITER);
        let writes: Vec<Write> = [a, b]
            .iter()
            .map(|&raw| {
                let read = store.get(&Key::Member(MemberId::new(raw))).unwrap();
                Write::replacing(read.as_ref(), member(raw, round))
            })
            .collect();
        // Only this writer touches its keys: no conflict is possible.
        store.commit(&writes).unwrap();
    }
}

/// Follows the feed while `done` is false, then to its end: each key's
/// latest entry (`entry` makes it from a change, `version` reads its
/// version back), checking that the cursor and no key's version ever goes
/// back, and auditing each pass. Also how many pages and audits it took.
fn follow_feed<E>(
    store: &dyn Store,
    done: &AtomicBool,
    entry: impl Fn(&Versioned<Change>) -> E,
    version: impl Fn(&E) -> Version,
) -> (BTreeMap<Key, E>, u64, u64) {
    let mut seen: BTreeMap<Key, E> = BTreeMap::new();
    let mut cursor = ChangeCursor::START;
    let (mut pages, mut audits) = (0_u64, 0_u64);
    loop {
        let finished = done.load(Ordering::SeqCst);
        loop {
            let page = store.changes_since(cursor, 7).unwrap();
            if page.changes.is_empty() {
                break;
            }
            assert!(page.cursor > cursor, "F1: the cursor went back");
            cursor = page.cursor;
            pages += 1;
            for change in page.changes {
                let key = change.value.key();
                let next = entry(&change);
                if let Some(before) = seen.get(&key) {
                    assert!(
                        version(&next) > version(before),
                        "F1: {key:?} came back at version {:?} after {:?}",
                        version(&next),
                        version(before)
                    );
                }
                seen.insert(key, next);
            }
        }
        // Nothing behind the cursor that the reader did not see.
        audit(store, cursor, |key| seen.get(key).map(&version));
        audits += 1;
        if finished {
            return (seen, pages, audits);
        }
    }
}

/// Follows the feed while `done` is false, then to its end: every key's
/// latest version seen, checking that no key ever goes back.
fn follow(store: &dyn Store, done: &AtomicBool) -> BTreeMap<Key, Versioned<Record>> {
    let (seen, pages, audits) = follow_feed(
        store,
        done,
        // This feed has no deletions: every change is a record.
        |change| Versioned {
            version: change.version,
            value: change.value.record().cloned().unwrap(),
        },
        |record| record.version,
    );
    eprintln!("F1: the reader followed {pages} pages, audited {audits} times");
    seen
}

/// Reads the whole feed again, one record a page (so each page's cursor
/// is that record's position): every record at or before `passed`, where
/// the reader has been, must be one the reader saw (at that version or a
/// later one). A commit that became visible behind the reader's cursor
/// would show here as a record the reader never saw.
fn audit(store: &dyn Store, passed: ChangeCursor, seen: impl Fn(&Key) -> Option<Version>) {
    let mut cursor = ChangeCursor::START;
    loop {
        let page = store.changes_since(cursor, 1).unwrap();
        let Some(record) = page.changes.first() else {
            return;
        };
        cursor = page.cursor;
        if cursor > passed {
            return;
        }
        let key = record.value.key();
        let reader = seen(&key);
        assert!(
            reader >= Some(record.version),
            "F1: {key:?} version {:?} appeared at position {} behind the reader's cursor {} \
             (the reader saw {reader:?})",
            record.version,
            cursor.get(),
            passed.get()
        );
    }
}

/// Runs F1 on stores from `open` (each writer thread, and the reader, on a
/// store of its own), with child processes started by `child`.
fn f1<S: Store + 'static>(open: impl Fn() -> S + Sync, child: impl Fn(u64) -> std::process::Child) {
    let done = AtomicBool::new(false);
    let reader_store = open();
    let seen = std::thread::scope(|scope| {
        let reader = scope.spawn(|| follow(&reader_store, &done));
        let mut children: Vec<_> = (0..PROCESSES).map(|p| child(THREADS + p)).collect();
        let writers: Vec<_> = (0..THREADS)
            .map(|w| {
                let store = open();
                scope.spawn(move || write(&store, w))
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        for child in &mut children {
            assert!(
                child.wait().unwrap().success(),
                "F1: a writer process failed"
            );
        }
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap()
    });
    let latest: BTreeMap<Key, Versioned<Record>> = (0..THREADS + PROCESSES)
        .flat_map(|w| (1..=KEYS_PER_WRITER).map(move |k| w * 100 + k))
        .map(|raw| {
            let key = Key::Member(MemberId::new(raw));
            let stored = reader_store.get(&key).unwrap().unwrap();
            (key, stored)
        })
        .collect();
    assert_eq!(
        latest.len(),
        ((THREADS + PROCESSES) * KEYS_PER_WRITER) as usize
    );
    assert_eq!(
        seen, latest,
        "F1: the reader has every record at its latest version"
    );
    // Every writer's last round is what the reader holds.
    let last = commits() - 1;
    for w in 0..THREADS + PROCESSES {
        let raw = w * 100 + 1 + (last % KEYS_PER_WRITER);
        assert_eq!(
            seen[&Key::Member(MemberId::new(raw))].value,
            member(raw, last)
        );
    }
}

/// Starts this binary in the child role: writer `w` on the database named
/// by `kind` and `target`.
fn spawn_child(kind: &str, target: &str, w: u64) -> std::process::Child {
    support::child_role(
        "f1_child_writer_role",
        "PRONET_F1_CHILD",
        format!("{kind}|{target}|{w}"),
        std::process::Stdio::null(),
    )
}

/// Child role: one writer process (does nothing in a normal run).
#[test]
fn f1_child_writer_role() {
    let Ok(role) = std::env::var("PRONET_F1_CHILD") else {
        return;
    };
    let mut parts = role.splitn(3, '|');
    let (kind, target, w) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap().parse::<u64>().unwrap(),
    );
    match kind {
        #[cfg(feature = "sqlite")]
        "sqlite" => write(&pronet::SqliteStore::open(target).unwrap(), w),
        #[cfg(feature = "postgres")]
        "postgres" => {
            let url = std::env::var(support::pg::VAR).unwrap();
            write(&support::pg::store_in(&url, target), w);
        }
        other => panic!("unknown child kind {other}"),
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn f1_feed_followed_under_writer_threads_and_processes_sqlite() {
    let file = support::TempDb::new("f1");
    let path = file.path().to_str().unwrap().to_owned();
    f1(
        || pronet::SqliteStore::open(&path).unwrap(),
        |w| spawn_child("sqlite", &path, w),
    );
}

#[cfg(feature = "postgres")]
#[test]
fn f1_feed_followed_under_writer_threads_and_processes_postgres() {
    let Some(schemas) =
        support::pg::schemas("f1_feed_followed_under_writer_threads_and_processes_postgres")
    else {
        return;
    };
    let schema = schemas.fresh("f1");
    f1(
        || support::pg::store_in(schemas.url(), &schema),
        |w| spawn_child("postgres", &schema, w),
    );
}

/// F1 with deletions: each writer thread (on a store, so a connection, of
/// its own) rewrites a member record, creates and deletes contact records
/// (personal data: deletion keeps nothing, its position stays vacant), and
/// deletes and re-creates a second member record (a tombstone), while a
/// reader follows the feed. A key's version never goes back in the feed;
/// an audit after each pass finds nothing behind the reader's cursor that
/// it did not see; at the end the reader holds every key's final state:
/// each stored record at its latest version, each deleted member as
/// deleted.
fn f1_deletions<S: Store>(open: impl Fn() -> S + Sync) {
    const WRITERS: u64 = 3;
    let rounds = commits() / 2;
    let contact = |w: u64, n: u64| {
        Record::Contact(pronet::contacts::Contact::new(
            MemberId::new(w * 100 + 1),
            support::email(&format!("c{n}@w{w}.example")),
            support::T0,
        ))
    };
    let done = AtomicBool::new(false);
    let reader_store = open();
    let seen = std::thread::scope(|scope| {
        let reader = scope.spawn(|| follow_versions(&reader_store, &done));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = open();
                scope.spawn(move || {
                    let (main, other) = (
                        Key::Member(MemberId::new(w * 100 + 1)),
                        Key::Member(MemberId::new(w * 100 + 2)),
                    );
                    for round in 0..rounds {
                        let read = store.get(&main).unwrap();
                        let mut writes =
                            vec![Write::replacing(read.as_ref(), member(w * 100 + 1, round))];
                        // A contact created this round, the last one deleted.
                        writes.push(Write::replacing(
                            None::<&Versioned<Record>>,
                            contact(w, round),
                        ));
                        if round > 0 {
                            let last = contact(w, round - 1).key();
                            let stored = store.get(&last).unwrap().unwrap();
                            writes.push(Write::deleting(&stored, last));
                        }
                        // The second member: deleted one round, back the next.
                        match store.get(&other).unwrap() {
                            Some(stored) if round % 2 == 1 => {
                                writes.push(Write::deleting(&stored, other.clone()));
                            }
                            Some(_) => {}
                            None => writes.push(Write::replacing(
                                None::<&Versioned<Record>>,
                                member(w * 100 + 2, round),
                            )),
                        }
                        // Only this writer touches its keys.
                        store.commit(&writes).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap()
    });
    for w in 0..WRITERS {
        let mut keys = vec![
            Key::Member(MemberId::new(w * 100 + 1)),
            Key::Member(MemberId::new(w * 100 + 2)),
        ];
        keys.extend((0..rounds).map(|n| contact(w, n).key()));
        for key in keys {
            let stored = reader_store.get(&key).unwrap();
            match (&key, stored) {
                (_, Some(stored)) => assert_eq!(
                    seen.get(&key),
                    Some(&(stored.version, true)),
                    "F1: the reader holds {key:?} at its latest version"
                ),
                (Key::Member(_), None) => assert!(
                    seen.get(&key).is_some_and(|&(_, live)| !live),
                    "F1: the reader holds the deleted {key:?} as deleted"
                ),
                // A deleted contact leaves nothing to follow.
                (_, None) => {}
            }
        }
    }
}

/// Follows the feed while `done` is false, then to its end: each key's
/// latest version and whether it is a record (`true`) or a deletion,
/// checking that no key's version ever goes back, and auditing each pass.
fn follow_versions(store: &dyn Store, done: &AtomicBool) -> BTreeMap<Key, (Version, bool)> {
    follow_feed(
        store,
        done,
        |change| (change.version, change.value.record().is_some()),
        |&(version, _)| version,
    )
    .0
}

#[cfg(feature = "sqlite")]
#[test]
fn f1_deletions_race_writers_sqlite() {
    let file = support::TempDb::new("f1-deletions");
    let path = file.path().to_str().unwrap().to_owned();
    f1_deletions(|| pronet::SqliteStore::open(&path).unwrap());
}

#[cfg(feature = "postgres")]
#[test]
fn f1_deletions_race_writers_postgres() {
    let Some(schemas) = support::pg::schemas("f1_deletions_race_writers_postgres") else {
        return;
    };
    let schema = schemas.fresh("f1del");
    f1_deletions(|| support::pg::store_in(schemas.url(), &schema));
}
