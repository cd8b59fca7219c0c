//! Unit tests of the SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::member::Profile;
use crate::record::Version;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh database path in the system's temporary directory, removed
/// on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("pronet-sqlite-unit-{}-{n}.db", std::process::id()));
        let this = Self(path);
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

fn member(raw: u64) -> Record {
    Record::Member(Member::person(MemberId::new(raw), Profile::named("Ana")))
}

fn write(record: Record) -> Write {
    Write {
        expect: Expect::Absent,
        change: Change::Put(record),
    }
}

#[test]
fn a_new_file_gets_wal_the_schema_version_and_the_application_id() {
    let path = TempPath::new();
    let store = SqliteStore::open(&path.0).unwrap();
    let conn = store.lock();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, SqliteStore::SCHEMA_VERSION);
    assert_eq!(version, 3);
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app, APPLICATION_ID);
}

#[test]
fn reopening_keeps_records_and_does_not_migrate_again() {
    let path = TempPath::new();
    {
        let store = SqliteStore::open(&path.0).unwrap();
        store.commit(&[write(member(1))]).unwrap();
    }
    let store = SqliteStore::open(&path.0).unwrap();
    let read = store.get(&Key::Member(MemberId::new(1))).unwrap().unwrap();
    assert_eq!(read.value, member(1));
    assert_eq!(store.members().unwrap().len(), 1);
}

#[test]
fn a_database_of_a_newer_pronet_is_refused_and_left_untouched() {
    let path = TempPath::new();
    {
        let store = SqliteStore::open(&path.0).unwrap();
        store
            .lock()
            .execute(
                "UPDATE meta SET value = 99 WHERE name = 'schema_version'",
                [],
            )
            .unwrap();
    }
    match SqliteStore::open(&path.0) {
        Err(
            e @ OpenError::NewerSchema {
                found: 99,
                supported: 3,
            },
        ) => {
            assert!(e.to_string().contains("newer pronet"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let conn = Connection::open(&path.0).unwrap();
    let version: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, 99);
}

#[test]
fn another_applications_database_is_refused() {
    let path = TempPath::new();
    Connection::open(&path.0)
        .unwrap()
        .execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        .unwrap();
    assert!(matches!(
        SqliteStore::open(&path.0),
        Err(OpenError::Foreign(_))
    ));
    let other = TempPath::new();
    Connection::open(&other.0)
        .unwrap()
        .pragma_update(None, "application_id", 42)
        .unwrap();
    assert!(matches!(
        SqliteStore::open(&other.0),
        Err(OpenError::Foreign(_))
    ));
}

/// A5: what is read back is validated; a tampered row is `Corrupt`,
/// never a guess, in every read.
#[test]
fn a5_tampered_rows_read_as_corrupt() {
    let store = SqliteStore::open_in_memory().unwrap();
    let alice = Record::Member(
        Member::person(MemberId::new(1), Profile::named("Ana"))
            .with_email(crate::Email::parse("ana@example.com").unwrap(), true),
    );
    store.commit(&[write(alice), write(member(2))]).unwrap();
    let key = Key::Member(MemberId::new(1));
    let text = key_text(&key).unwrap();
    // Each edit recomputes the row's checksum, as a deliberate editor
    // could: what is then read back must still be validated.
    let tamper = |sql: &str| {
        store.lock().execute(sql, [&text]).unwrap();
        reseal(&store.lock());
    };
    let corrupt = |store: &SqliteStore| {
        assert!(matches!(store.get(&key), Err(StoreError::Corrupt(k)) if k == key));
        assert!(matches!(store.members(), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            store.changes_since(ChangeCursor::START, 10),
            Err(StoreError::Corrupt(_))
        ));
    };
    // An address that its validating parser refuses.
    tamper(
        "UPDATE record SET value = replace(value, 'ana@example.com', 'ana@@example') WHERE key = ?1",
    );
    corrupt(&store);
    // A record of another member under this key.
    tamper(
        "UPDATE record SET value = replace(value, '\"ana@@example\"', '\"ana@example.com\"') WHERE key = ?1",
    );
    assert!(store.get(&key).is_ok());
    tamper("UPDATE record SET value = replace(value, '\"id\":1', '\"id\":3') WHERE key = ?1");
    corrupt(&store);
    tamper("UPDATE record SET value = replace(value, '\"id\":3', '\"id\":1') WHERE key = ?1");
    // Version 0 cannot even be stored.
    assert!(
        store
            .lock()
            .execute("UPDATE record SET version = 0 WHERE key = ?1", [&text])
            .is_err()
    );
    // Not JSON at all.
    tamper("UPDATE record SET value = 'garbage' WHERE key = ?1");
    corrupt(&store);
    // A key spelled otherwise.
    tamper(
        "UPDATE record SET value = (SELECT value FROM record WHERE key = '{\"Member\":2}'), key = '{ \"Member\": 2 }' WHERE key = ?1",
    );
    assert!(matches!(
        store.changes_since(ChangeCursor::START, 10),
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(store.snapshot(), Err(StoreError::Corrupt(_))));
    // A key that is no key at all.
    store
        .lock()
        .execute(
            "UPDATE record SET key = 'nonsense' WHERE key = '{ \"Member\": 2 }'",
            [],
        )
        .unwrap();
    assert!(matches!(
        store.changes_since(ChangeCursor::START, 10),
        Err(StoreError::Backend(_))
    ));
}

/// Recomputes every record row's checksum.
fn reseal(conn: &Connection) {
    let rows: Vec<(String, i64, i64, String)> = conn
        .prepare("SELECT key, version, position, value FROM record")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (key, version, position, value) in rows {
        conn.execute(
            "UPDATE record SET checksum = ?1 WHERE key = ?2",
            params![record_checksum(&key, version, position, &value), key],
        )
        .unwrap();
    }
}

fn pending(id: u64, note: Option<&str>) -> Invitation {
    use crate::invitation::{Delivery, Status};
    Invitation {
        id: InvitationId::new(id),
        sender: MemberId::new(1),
        recipient: MemberId::new(2),
        note: note.and_then(|n| crate::Note::parse(n, 300).unwrap()),
        sent_at: crate::Timestamp::from_micros(1_767_225_600_000_000),
        status: Status::Pending,
        delivery: Delivery::Inbox,
        closed_at: None,
        decline_note: None,
        replaced_by: None,
        recipient_knows: None,
    }
}

/// Issue #11 item 5: any change to a stored row that does not
/// recompute its checksum is `Corrupt` naming the key, even one that
/// decodes to a valid record (a shifted timestamp, another note).
#[test]
fn a5_an_edited_row_fails_its_checksum() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .commit(&[write(Record::Invitation(pending(5, Some("Hello"))))])
        .unwrap();
    let key = Key::Invitation(InvitationId::new(5));
    for sql in [
        "UPDATE record SET value = replace(value, 'Hello', 'Hallo')",
        "UPDATE record SET value = replace(value, '1767225600000000', '1767225600000001')",
        "UPDATE record SET position = position + 10",
        "UPDATE record SET version = version + 1",
    ] {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .commit(&[write(Record::Invitation(pending(5, Some("Hello"))))])
            .unwrap();
        store.lock().execute(sql, []).unwrap();
        assert!(
            matches!(store.get(&key), Err(StoreError::Corrupt(k)) if k == key),
            "{sql}"
        );
        assert!(matches!(
            store.open_invitations(MemberId::new(2), Role::Recipient),
            Err(StoreError::Corrupt(_))
        ));
    }
    assert!(store.get(&key).unwrap().is_some());
}

/// Issue #11 item 5: with the checksum recomputed, a field name hit
/// (an unknown field, the `Option` it was now missing), an extra field,
/// and a timestamp out of range are still refused as `Corrupt`, never
/// ignored, defaulted to `None` or clamped.
#[test]
fn a5_unknown_missing_and_out_of_range_fields_are_corrupt() {
    let key = Key::Invitation(InvitationId::new(5));
    let cases = [
        // `note` renamed: unknown field, and `note` missing.
        ("'\"note\":'", "'\"nite\":'"),
        // `closed_at` dropped altogether.
        ("',\"closed_at\":null'", "''"),
        // An extra field.
        ("'\"status\":'", "'\"extra\":1,\"status\":'"),
        // Past Timestamp::MAX (would have been clamped to it).
        ("'1767225600000000'", "'9223372036854775807'"),
        // Before Timestamp::MIN.
        ("'1767225600000000'", "'-9223372036854775807'"),
        // Another spelling of the same value.
        ("'1767225600000000'", "'1.7672256e15'"),
    ];
    for (from, to) in cases {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .commit(&[write(Record::Invitation(pending(5, Some("Hello"))))])
            .unwrap();
        let changed = store
            .lock()
            .execute(
                &format!("UPDATE record SET value = replace(value, {from}, {to})"),
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);
        reseal(&store.lock());
        let value: String = store
            .lock()
            .query_row("SELECT value FROM record", [], |r| r.get(0))
            .unwrap();
        assert!(value.contains(&to[1..to.len() - 1]), "{value}");
        assert!(
            matches!(store.get(&key), Err(StoreError::Corrupt(k)) if k == key),
            "{from} -> {to}: {value}"
        );
    }
}

/// A database of schema 1 (no checksums, member and connection
/// entries) migrates: every row is sealed, the open-invitation sums
/// are computed, and everything reads back.
#[test]
fn a_schema_1_database_migrates_to_checksums() {
    let path = TempPath::new();
    {
        let conn = Connection::open(&path.0).unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.execute_batch(
            "INSERT INTO meta (name, value) VALUES ('schema_version', 1);
             UPDATE meta SET value = 64 WHERE name = 'last_invitation_id';",
        )
        .unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        let invitation = Record::Invitation(pending(5, Some("Hello")));
        let rows = [(member(1), 1), (member(2), 2), (invitation, 3)];
        for (record, position) in &rows {
            conn.execute(
                "INSERT INTO record (key, version, position, value) VALUES (?1, 1, ?2, ?3)",
                params![
                    key_text(&record.key()).unwrap(),
                    position,
                    serde_json::to_string(record).unwrap()
                ],
            )
            .unwrap();
        }
        let inv = key_text(&Key::Invitation(InvitationId::new(5))).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO entry VALUES ('member', 1, 0, '{{\"Member\":1}}');
             INSERT INTO entry VALUES ('member', 2, 0, '{{\"Member\":2}}');
             INSERT INTO entry VALUES ('open', 1, 0, '{inv}');
             INSERT INTO entry VALUES ('open', 2, 1, '{inv}');"
        ))
        .unwrap();
    }
    let store = SqliteStore::open(&path.0).unwrap();
    assert_eq!(store.snapshot().unwrap().len(), 3);
    assert_eq!(store.members().unwrap().len(), 2);
    // Migration 3: the feed goes on from the stored positions.
    assert_eq!(store.change_cursor().unwrap(), ChangeCursor::new(3));
    assert!(store.outbox(ChangeCursor::START, 10).unwrap().is_empty());
    assert_eq!(
        store
            .open_invitations(MemberId::new(2), Role::Recipient)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .open_invitations(MemberId::new(1), Role::Sender)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.next_invitation_id().unwrap(), InvitationId::new(65));
    let kinds: i64 = store
        .lock()
        .query_row("SELECT count(*) FROM entry WHERE kind <> 'open'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kinds, 0);
    // Closing an invitation takes its entries and their sums away.
    let mut closed = pending(5, Some("Hello"));
    closed.status = crate::invitation::Status::Withdrawn;
    store
        .commit(&[Write {
            expect: Expect::At(Version::FIRST),
            change: Change::Put(Record::Invitation(closed)),
        }])
        .unwrap();
    assert!(
        store
            .open_invitations(MemberId::new(2), Role::Recipient)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_entry_disagreeing_with_its_record_is_corrupt() {
    use crate::invitation::{Delivery, Status};
    let store = SqliteStore::open_in_memory().unwrap();
    let invitation = Invitation {
        id: InvitationId::new(5),
        sender: MemberId::new(1),
        recipient: MemberId::new(2),
        note: None,
        sent_at: crate::Timestamp::UNIX_EPOCH,
        status: Status::Pending,
        delivery: Delivery::Inbox,
        closed_at: None,
        decline_note: None,
        replaced_by: None,
        recipient_knows: None,
    };
    store
        .commit(&[write(Record::Invitation(invitation))])
        .unwrap();
    assert_eq!(
        store
            .open_invitations(MemberId::new(2), Role::Recipient)
            .unwrap()
            .len(),
        1
    );
    // The entry claims member 3 received it.
    store
        .lock()
        .execute("UPDATE entry SET a = 3 WHERE kind = 'open' AND b = 1", [])
        .unwrap();
    assert!(matches!(
        store.open_invitations(MemberId::new(3), Role::Recipient),
        Err(StoreError::Corrupt(Key::Invitation(_)))
    ));
}
