//! [`SqliteStore`]: the [`Store`] contract over SQLite (feature `sqlite`).
//!
//! One generic table holds every record: its key and value as JSON (through
//! the same serde derives as everything else), its version, and its
//! position in the change feed. The secondary reads come from an `entry`
//! table that each commit maintains in the same transaction, from the one
//! derivation every store in this crate shares. A new record kind therefore
//! needs no change here; a new secondary read needs one query.
//!
//! ```text
//! meta   (name TEXT PRIMARY KEY, value INTEGER)            schema_version, last_invitation_id
//! record (key TEXT PRIMARY KEY, version INTEGER, position INTEGER UNIQUE, value TEXT)
//! entry  (kind TEXT, a INTEGER, b INTEGER, key TEXT)       'open' (member, role), 'connected' (low, high), 'member' (id, 0)
//! ```

use super::{ChangeCursor, Changes, Entry, Role, Store, entries};
use crate::change::{Expect, Key, Record, Version, Versioned, Write};
use crate::contacts::Contact;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use thiserror::Error;

/// `PRAGMA application_id` of a pronet database: "pron" in ASCII.
const APPLICATION_ID: i32 = 0x7072_6f6e;

/// Invitation ids reserved per write transaction.
const ID_BLOCK: i64 = 64;

/// How long a connection waits for another one's write transaction before
/// it reports the database busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema: `MIGRATIONS[i]` takes a database from version `i` to `i + 1`.
/// Released steps are never edited; a change to the schema is a new step.
const MIGRATIONS: &[&str] = &[
    // 1: records with their versions and feed positions, and the entries of
    // the secondary reads derived from them.
    "CREATE TABLE record (
         key TEXT PRIMARY KEY NOT NULL,
         version INTEGER NOT NULL CHECK (version >= 1),
         position INTEGER NOT NULL,
         value TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE UNIQUE INDEX record_position ON record (position);
     CREATE TABLE entry (
         kind TEXT NOT NULL,
         a INTEGER NOT NULL,
         b INTEGER NOT NULL,
         key TEXT NOT NULL,
         PRIMARY KEY (kind, a, b, key)
     ) WITHOUT ROWID;
     INSERT INTO meta (name, value) VALUES ('last_invitation_id', 0);",
];

/// A [`Store`] in a SQLite database: a file shared by any number of
/// connections and processes, or a private in-memory database.
///
/// - The store creates its schema, and migrates an older one, when it
///   opens; the schema version is recorded in the database, and a database
///   written by a newer pronet is refused ([`OpenError::NewerSchema`]).
/// - A file runs in WAL mode with `synchronous = NORMAL`: readers never
///   wait for the writer, and a commit survives a crash of the process (the
///   last commits before a power loss may be lost, never half applied).
/// - Each change set is one `BEGIN IMMEDIATE` transaction that checks every
///   expected version in its writes (`INSERT ... ON CONFLICT DO NOTHING`,
///   `UPDATE ... WHERE version = ?`, one row each) and rolls back on the
///   first that fails. Connections that want to write at once wait for each
///   other (up to 10 seconds, then [`StoreError::Backend`]).
/// - Records are stored as JSON through the same serde derives as
///   everything else, so they round-trip exactly (timestamps are integer
///   microseconds), and what is read back is validated: it must decode
///   through the validating parsers (an [`Email`](crate::Email), a
///   [`Note`](crate::Note)) and belong under its key, or the read answers
///   [`StoreError::Corrupt`].
///
/// The connection is used by one thread at a time. For parallel access,
/// open one `SqliteStore` per thread (or per process) on the same file;
/// each [`Network`](crate::Network) over such a store follows the others
/// through [`Network::catch_up`](crate::Network::catch_up).
///
/// ```
/// use pronet::{ManualClock, Member, MemberId, Network, Policy, Profile, SqliteStore, Timestamp};
///
/// let dir = std::env::temp_dir().join(format!("pronet-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("network.db");
/// # let _ = std::fs::remove_file(&path);
/// let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
/// let one = Network::open(SqliteStore::open(&path)?, clock.clone(), Policy::default())?;
/// let two = Network::open(SqliteStore::open(&path)?, clock, Policy::default())?;
/// one.register(Member::person(MemberId::new(1), Profile::named("Ana")))?;
/// assert!(!two.graph().contains(MemberId::new(1)));
/// assert_eq!(two.catch_up()?, 1);
/// assert!(two.graph().contains(MemberId::new(1)));
/// # drop((one, two));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Invitation ids reserved for this store and not handed out yet: the
    /// next one and the end of the block.
    ids: Mutex<(u64, u64)>,
}

/// Why a [`SqliteStore`] could not open its database.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The database was written by a newer pronet. It is left untouched;
    /// open it with a pronet that knows its schema.
    #[error(
        "the database has pronet schema version {found}, newer than the versions up to \
         {supported} that this pronet knows: open it with a newer pronet"
    )]
    NewerSchema {
        /// The schema version recorded in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The file is a SQLite database of another application, or its
    /// recorded schema version makes no sense.
    #[error("not a pronet database: {0}")]
    Foreign(String),
    /// SQLite could not open or set up the database.
    #[error("could not open the SQLite database: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

fn open_failed(e: rusqlite::Error) -> OpenError {
    OpenError::Backend(Box::new(e))
}

fn failed(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn commit_failed(e: rusqlite::Error) -> CommitError {
    CommitError::Store(failed(e))
}

/// A row that cannot even name its key.
#[derive(Debug, Error)]
#[error("unreadable stored row: {0}")]
struct Unreadable(String);

fn unreadable(what: impl Into<String>) -> StoreError {
    StoreError::Backend(Box::new(Unreadable(what.into())))
}

impl SqliteStore {
    /// The schema version this pronet writes and reads.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// Opens (or creates) the database file at `path`, in WAL mode, creating
    /// or migrating its schema.
    ///
    /// # Errors
    /// [`OpenError::NewerSchema`] for a database of a newer pronet,
    /// [`OpenError::Foreign`] for another application's database,
    /// [`OpenError::Backend`] when SQLite fails.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let conn = Connection::open(path).map_err(open_failed)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_failed)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_failed)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::Backend(
                format!("the database cannot run in WAL mode (journal mode {mode})").into(),
            ));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_failed)?;
        // A larger page cache than SQLite's 2 MiB default, and checkpoints
        // every 10,000 pages (about 40 MiB of WAL) rather than every 1,000:
        // fewer fsyncs and fewer copies of the pages every commit touches.
        conn.pragma_update(None, "cache_size", -8_192)
            .map_err(open_failed)?;
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)
            .map_err(open_failed)?;
        Self::set_up(conn)
    }

    /// A new, private database in memory, gone when the store is dropped.
    ///
    /// # Errors
    /// [`OpenError::Backend`] when SQLite fails.
    pub fn open_in_memory() -> Result<Self, OpenError> {
        let conn = Connection::open_in_memory().map_err(open_failed)?;
        Self::set_up(conn)
    }

    fn set_up(mut conn: Connection) -> Result<Self, OpenError> {
        migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            ids: Mutex::new((0, 0)),
        })
    }

    /// Every record with its version, sorted by key: a snapshot for tests
    /// that compare whole states (as [`MemoryStore::snapshot`]).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails or a record is corrupt.
    ///
    /// [`MemoryStore::snapshot`]: crate::MemoryStore::snapshot
    pub fn snapshot(&self) -> Result<Vec<(Key, Versioned<Record>)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT key, version, value FROM record")
            .map_err(failed)?;
        let rows = stmt.query_map([], raw_row).map_err(failed)?;
        let mut all = Vec::new();
        for row in rows {
            let (text, version, value) = row.map_err(failed)?;
            let record = decode_row(&text, version, &value)?;
            all.push((record.value.key(), record));
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A transaction rolls back when its guard is dropped, also while
        // unwinding, so the connection is usable after a panic.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_transaction(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)
    }
}

/// Creates or migrates the schema in one write transaction, so that
/// connections opening a new file at once agree on one schema.
fn migrate(conn: &mut Connection) -> Result<(), OpenError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(open_failed)?;
    let application: i32 = tx
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(open_failed)?;
    let tables: i64 = tx
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(open_failed)?;
    if application != APPLICATION_ID && (application != 0 || tables > 0) {
        return Err(OpenError::Foreign(format!(
            "application id {application:#x} and {tables} schema object(s)"
        )));
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)",
    )
    .map_err(open_failed)?;
    let found: i64 = tx
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(open_failed)?
        .unwrap_or(0);
    if found > SqliteStore::SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            found,
            supported: SqliteStore::SCHEMA_VERSION,
        });
    }
    let from = usize::try_from(found)
        .map_err(|_| OpenError::Foreign(format!("schema version {found}")))?;
    for step in MIGRATIONS.iter().skip(from) {
        tx.execute_batch(step).map_err(open_failed)?;
    }
    if found < SqliteStore::SCHEMA_VERSION {
        tx.execute(
            "INSERT INTO meta (name, value) VALUES ('schema_version', ?1)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [SqliteStore::SCHEMA_VERSION],
        )
        .map_err(open_failed)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(open_failed)?;
    }
    tx.commit().map_err(open_failed)
}

/// A `u64` in an `INTEGER` column, bit for bit (ids above `i64::MAX` come
/// out negative, and back exactly).
fn bits(v: u64) -> i64 {
    i64::from_ne_bytes(v.to_ne_bytes())
}

fn unbits(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

fn key_text(key: &Key) -> Result<String, StoreError> {
    serde_json::to_string(key).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn role_code(role: Role) -> i64 {
    match role {
        Role::Sender => 0,
        Role::Recipient => 1,
    }
}

/// An entry's columns: its kind and two integers.
fn entry_columns(entry: Entry) -> (&'static str, i64, i64) {
    match entry {
        Entry::Open(member, role, _) => ("open", bits(member.get()), role_code(role)),
        Entry::Connected(pair) => ("connected", bits(pair.low().get()), bits(pair.high().get())),
        Entry::Member(id) => ("member", bits(id.get()), 0),
    }
}

/// A stored row as it comes: key text, version, value text.
fn raw_row(row: &Row<'_>) -> rusqlite::Result<(String, i64, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

/// Decodes and validates a record read under `key`.
fn decode(key: &Key, version: i64, value: &str) -> Result<Versioned<Record>, StoreError> {
    let corrupt = || StoreError::Corrupt(key.clone());
    let version = u64::try_from(version)
        .ok()
        .filter(|v| *v >= Version::FIRST.0)
        .ok_or_else(corrupt)?;
    let record: Record = serde_json::from_str(value).map_err(|_| corrupt())?;
    if record.key() != *key {
        return Err(corrupt());
    }
    Ok(Versioned {
        version: Version(version),
        value: record,
    })
}

/// Decodes and validates a row whose key is known only as text.
fn decode_row(text: &str, version: i64, value: &str) -> Result<Versioned<Record>, StoreError> {
    match serde_json::from_str::<Key>(text) {
        Ok(key) => {
            let record = decode(&key, version, value)?;
            // The key must also be stored in its one spelling, or `get`
            // would miss it.
            if key_text(&key)? == text {
                Ok(record)
            } else {
                Err(StoreError::Corrupt(key))
            }
        }
        Err(_) => Err(unreadable(format!("key {text:?}"))),
    }
}

/// The position after `position`, for the feed.
fn next_position(position: i64) -> Result<i64, CommitError> {
    position
        .checked_add(1)
        .ok_or_else(|| CommitError::Store(unreadable("change feed positions exhausted")))
}

impl Store for SqliteStore {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        let text = key_text(key)?;
        let conn = self.lock();
        let row = conn
            .prepare_cached("SELECT version, value FROM record WHERE key = ?1")
            .map_err(failed)?
            .query_row([&text], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .optional()
            .map_err(failed)?;
        row.map(|(version, value)| decode(key, version, &value))
            .transpose()
    }

    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        if writes.is_empty() {
            return Ok(());
        }
        // Encode everything, and refuse a key written twice, before the
        // transaction starts.
        let mut keys = BTreeSet::new();
        let mut encoded = Vec::with_capacity(writes.len());
        for write in writes {
            let key = write.record.key();
            if !keys.insert(key.clone()) {
                return Err(CommitError::Conflict(key));
            }
            let text = key_text(&key)?;
            let value = serde_json::to_string(&write.record)
                .map_err(|e| CommitError::Store(StoreError::Backend(Box::new(e))))?;
            encoded.push((write, key, text, value));
        }
        let mut conn = self.lock();
        let tx = Self::write_transaction(&mut conn)?;
        // Positions are taken under the write lock, so they become visible
        // in order (clause 7).
        let mut position: i64 = tx
            .prepare_cached("SELECT coalesce(max(position), 0) FROM record")
            .map_err(commit_failed)?
            .query_row([], |r| r.get(0))
            .map_err(commit_failed)?;
        for (write, key, text, value) in encoded {
            position = next_position(position)?;
            // The entries the record had, to replace with its new ones.
            let old: Vec<Entry> = match write.expect {
                Expect::Absent => {
                    let inserted = tx
                        .prepare_cached(
                            "INSERT INTO record (key, version, position, value)
                             VALUES (?1, 1, ?2, ?3) ON CONFLICT (key) DO NOTHING",
                        )
                        .map_err(commit_failed)?
                        .execute(params![text, position, value])
                        .map_err(commit_failed)?;
                    if inserted != 1 {
                        // Dropping the transaction rolls everything back.
                        return Err(CommitError::Conflict(key));
                    }
                    Vec::new()
                }
                Expect::At(expected) => {
                    // A version past what SQLite holds was never stored.
                    let (Ok(expected), Ok(next)) =
                        (i64::try_from(expected.0), i64::try_from(expected.next().0))
                    else {
                        return Err(CommitError::Conflict(key));
                    };
                    let stored: Option<String> = tx
                        .prepare_cached("SELECT value FROM record WHERE key = ?1 AND version = ?2")
                        .map_err(commit_failed)?
                        .query_row(params![text, expected], |r| r.get(0))
                        .optional()
                        .map_err(commit_failed)?;
                    let Some(stored) = stored else {
                        return Err(CommitError::Conflict(key));
                    };
                    let updated = tx
                        .prepare_cached(
                            "UPDATE record SET version = ?1, position = ?2, value = ?3
                             WHERE key = ?4 AND version = ?5",
                        )
                        .map_err(commit_failed)?
                        .execute(params![next, position, value, text, expected])
                        .map_err(commit_failed)?;
                    if updated != 1 {
                        return Err(CommitError::Conflict(key));
                    }
                    let old = decode(&key, expected, &stored).map_err(CommitError::Store)?;
                    entries(&old.value).collect()
                }
            };
            let new: Vec<Entry> = entries(&write.record).collect();
            for entry in old.iter().filter(|e| !new.contains(e)) {
                let (kind, a, b) = entry_columns(*entry);
                tx.prepare_cached(
                    "DELETE FROM entry WHERE kind = ?1 AND a = ?2 AND b = ?3 AND key = ?4",
                )
                .map_err(commit_failed)?
                .execute(params![kind, a, b, text])
                .map_err(commit_failed)?;
            }
            for entry in new.iter().filter(|e| !old.contains(e)) {
                let (kind, a, b) = entry_columns(*entry);
                tx.prepare_cached("INSERT INTO entry (kind, a, b, key) VALUES (?1, ?2, ?3, ?4)")
                    .map_err(commit_failed)?
                    .execute(params![kind, a, b, text])
                    .map_err(commit_failed)?;
            }
        }
        tx.commit().map_err(commit_failed)
    }

    fn open_invitations(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<Invitation>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT r.key, r.version, r.value FROM entry e JOIN record r ON r.key = e.key
                 WHERE e.kind = 'open' AND e.a = ?1 AND e.b = ?2",
            )
            .map_err(failed)?;
        let rows = stmt
            .query_map(params![bits(member.get()), role_code(role)], raw_row)
            .map_err(failed)?;
        let mut found = Vec::new();
        for row in rows {
            let (text, version, value) = row.map_err(failed)?;
            let record = decode_row(&text, version, &value)?;
            match record.value {
                // The entry must agree with the record it was derived from.
                Record::Invitation(inv)
                    if entries(&Record::Invitation(inv.clone()))
                        .any(|e| e == Entry::Open(member, role, inv.id)) =>
                {
                    found.push(inv);
                }
                other => return Err(StoreError::Corrupt(other.key())),
            }
        }
        Ok(found)
    }

    fn members(&self) -> Result<Vec<Member>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT r.key, r.version, r.value FROM entry e JOIN record r ON r.key = e.key
                 WHERE e.kind = 'member' ORDER BY e.a",
            )
            .map_err(failed)?;
        let rows = stmt.query_map([], raw_row).map_err(failed)?;
        let mut found = Vec::new();
        for row in rows {
            let (text, version, value) = row.map_err(failed)?;
            match decode_row(&text, version, &value)?.value {
                Record::Member(m) => found.push(m),
                other => return Err(StoreError::Corrupt(other.key())),
            }
        }
        Ok(found)
    }

    fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT a, b FROM entry WHERE kind = 'connected'")
            .map_err(failed)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(failed)?;
        let mut found = Vec::new();
        for row in rows {
            let (a, b) = row.map_err(failed)?;
            let (a, b) = (MemberId::new(unbits(a)), MemberId::new(unbits(b)));
            match PairKey::new(a, b) {
                Some(pair) if pair.low() == a => found.push(pair),
                _ => return Err(unreadable(format!("connection entry ({a}, {b})"))),
            }
        }
        Ok(found)
    }

    fn contacts(&self, owner: MemberId) -> Result<Vec<Contact>, StoreError> {
        // Contact keys serialise as `{"Contact":[owner,"address"]}`: one
        // owner's contacts are the keys between that prefix and the same
        // prefix with its final ',' raised to '-', a primary-key range scan.
        let probe = key_text(&Key::Contact(owner, String::new()))?;
        let prefix = probe.trim_end_matches("\"\"]}");
        let upper = format!("{}-", prefix.trim_end_matches(','));
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT key, version, value FROM record WHERE key >= ?1 AND key < ?2")
            .map_err(failed)?;
        let rows = stmt
            .query_map([prefix, upper.as_str()], raw_row)
            .map_err(failed)?;
        let mut found = Vec::new();
        for row in rows {
            let (text, version, value) = row.map_err(failed)?;
            let key: Key = serde_json::from_str(&text)
                .map_err(|_| unreadable(format!("record key {text}")))?;
            match decode(&key, version, &value)?.value {
                Record::Contact(c) if c.owner == owner => found.push(c),
                _ => return Err(StoreError::Corrupt(key)),
            }
        }
        Ok(found)
    }

    fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        if ids.0 >= ids.1 {
            // Reserve a block in one write transaction; ids left unused
            // when the store is dropped are skipped (clause 6 allows it).
            let mut conn = self.lock();
            let tx = Self::write_transaction(&mut conn)?;
            let end: i64 = tx
                .prepare_cached(
                    "UPDATE meta SET value = value + ?1 WHERE name = 'last_invitation_id'
                     RETURNING value",
                )
                .map_err(failed)?
                .query_row([ID_BLOCK], |r| r.get(0))
                .map_err(failed)?;
            tx.commit().map_err(failed)?;
            let end = u64::try_from(end)
                .ok()
                .filter(|&end| end >= ID_BLOCK.unsigned_abs())
                .ok_or_else(|| unreadable(format!("last invitation id {end}")))?;
            *ids = (end - ID_BLOCK.unsigned_abs(), end);
        }
        ids.0 += 1;
        Ok(InvitationId::new(ids.0))
    }

    fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        let conn = self.lock();
        let position: i64 = conn
            .prepare_cached("SELECT coalesce(max(position), 0) FROM record")
            .map_err(failed)?
            .query_row([], |r| r.get(0))
            .map_err(failed)?;
        let position =
            u64::try_from(position).map_err(|_| unreadable(format!("position {position}")))?;
        Ok(ChangeCursor::new(position))
    }

    fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        let Ok(from) = i64::try_from(after.get()) else {
            // Past every position SQLite can hold.
            return Ok(Changes::new(Vec::new(), after));
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, version, value, position FROM record
                 WHERE position > ?1 ORDER BY position LIMIT ?2",
            )
            .map_err(failed)?;
        let rows = stmt
            .query_map(params![from, limit], |r| {
                Ok((raw_row(r)?, r.get::<_, i64>(3)?))
            })
            .map_err(failed)?;
        let mut records = Vec::new();
        let mut cursor = after;
        for row in rows {
            let ((text, version, value), position) = row.map_err(failed)?;
            records.push(decode_row(&text, version, &value)?);
            let position =
                u64::try_from(position).map_err(|_| unreadable(format!("position {position}")))?;
            cursor = ChangeCursor::new(position);
        }
        Ok(Changes::new(records, cursor))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::member::Profile;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh database path in the system's temporary directory, removed
    /// on drop.
    struct TempPath(PathBuf);

    impl TempPath {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let path = std::env::temp_dir()
                .join(format!("pronet-sqlite-unit-{}-{n}.db", std::process::id()));
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
            record,
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
        assert_eq!(version, 1);
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
                    supported: 1,
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
        let tamper = |sql: &str| {
            store.lock().execute(sql, [&text]).unwrap();
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
}
