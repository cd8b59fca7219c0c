//! [`SqliteStore`]: the [`Store`] contract over SQLite (feature `sqlite`).
//!
//! One generic table holds every record: its key and value as JSON (through
//! the same serde derives as everything else), its version, its position in
//! the change feed, and a checksum. The open-invitation lists come from an
//! `entry` table that each commit maintains in the same transaction, from
//! the one derivation every store in this crate shares, with a count and a
//! digest per list in `entry_sum`; members and connections are read from
//! the records themselves. A new record kind therefore needs no change
//! here.
//!
//! ```text
//! meta      (name TEXT PRIMARY KEY, value INTEGER, checksum INTEGER)   schema_version, last_invitation_id
//! record    (key TEXT PRIMARY KEY, version INTEGER, position INTEGER UNIQUE, value TEXT, checksum INTEGER)
//! entry     (kind TEXT, a INTEGER, b INTEGER, key TEXT)               'open' (member, role)
//! entry_sum (kind TEXT, a INTEGER, b INTEGER, count INTEGER, digest INTEGER)  per (kind, a, b)
//! ```
//!
//! # Corruption
//!
//! Every `record` and `meta` row carries a CRC-32 (crate `crc32fast`) over
//! all its columns, checked on every read. A CRC detects accidental damage
//! (a flipped bit or byte, a torn or misplaced write: every error burst of
//! up to 32 bits for certain, anything else but for one chance in 2^32); it
//! is no defence against someone who edits the file on purpose and
//! recomputes it. What passes the checksum is then decoded, must be
//! exactly the JSON that the decoded record serialises to (so an unknown
//! field, a missing field or a value spelled otherwise is refused, not
//! ignored or defaulted), must pass the validating parsers (an email, a
//! note, a timestamp within range) and must belong under its key; else the
//! read answers [`StoreError::Corrupt`] naming the key. Each open-invitation
//! list is checked against its count and digest, so an entry that is lost
//! or added is detected too.

use super::{ChangeCursor, Changes, Entry, Role, Store, entries};
use crate::change::{Expect, Write};
use crate::contacts::Contact;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;
use crate::record::{Key, Record, Version, Versioned};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use thiserror::Error;

/// `PRAGMA application_id` of a pronet database: "pron" in ASCII.
const APPLICATION_ID: i32 = 0x7072_6f6e;

/// Invitation ids reserved per write transaction.
const ID_BLOCK: i64 = 64;

/// How long a connection waits for another one's write transaction before
/// it reports the database busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// One step of the schema: SQL, then (optionally) Rust that fills in what
/// SQL cannot compute.
struct Migration {
    sql: &'static str,
    then: Option<fn(&Transaction<'_>) -> rusqlite::Result<()>>,
}

/// The schema: `MIGRATIONS[i]` takes a database from version `i` to `i + 1`.
/// Released steps are never edited; a change to the schema is a new step.
const MIGRATIONS: &[Migration] = &[
    // 1: records with their versions and feed positions, and the entries of
    // the secondary reads derived from them.
    Migration {
        sql: "CREATE TABLE record (
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
        then: None,
    },
    // 2: a checksum on every record and meta row; a count and digest per
    // open-invitation list; members and connections read from the records
    // (their entries go).
    Migration {
        sql: "ALTER TABLE record ADD COLUMN checksum INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE meta ADD COLUMN checksum INTEGER NOT NULL DEFAULT 0;
     DELETE FROM entry WHERE kind <> 'open';
     CREATE TABLE entry_sum (
         kind TEXT NOT NULL,
         a INTEGER NOT NULL,
         b INTEGER NOT NULL,
         count INTEGER NOT NULL,
         digest INTEGER NOT NULL,
         PRIMARY KEY (kind, a, b)
     ) WITHOUT ROWID;",
        then: Some(seal_existing_rows),
    },
];

/// Migration 2's Rust half: the checksums of the rows already stored, and
/// the sums of the entries already stored.
fn seal_existing_rows(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let mut rows = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT key, version, position, value FROM record")?;
        let mut query = stmt.query([])?;
        while let Some(r) = query.next()? {
            let (key, version, position, value): (String, i64, i64, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            rows.push((record_checksum(&key, version, position, &value), key));
        }
    }
    for (checksum, key) in rows {
        tx.execute(
            "UPDATE record SET checksum = ?1 WHERE key = ?2",
            params![checksum, key],
        )?;
    }
    let mut metas = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT name, value FROM meta")?;
        let mut query = stmt.query([])?;
        while let Some(r) = query.next()? {
            let (name, value): (String, i64) = (r.get(0)?, r.get(1)?);
            metas.push((meta_checksum(&name, value), name));
        }
    }
    for (checksum, name) in metas {
        tx.execute(
            "UPDATE meta SET checksum = ?1 WHERE name = ?2",
            params![checksum, name],
        )?;
    }
    let mut sums: BTreeMap<(String, i64, i64), (i64, i64)> = BTreeMap::new();
    {
        let mut stmt = tx.prepare("SELECT kind, a, b, key FROM entry")?;
        let mut query = stmt.query([])?;
        while let Some(r) = query.next()? {
            let (kind, a, b, key): (String, i64, i64, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let sum = sums.entry((kind, a, b)).or_default();
            sum.0 += 1;
            sum.1 += entry_hash(&key);
        }
    }
    for ((kind, a, b), (count, digest)) in sums {
        tx.execute(
            "INSERT INTO entry_sum (kind, a, b, count, digest) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind, a, b, count, digest],
        )?;
    }
    Ok(())
}

/// The checksum of a record row: a CRC-32 over every column, each framed
/// so that no two rows give the same bytes.
fn record_checksum(key: &str, version: i64, position: i64, value: &str) -> i64 {
    let mut h = crc32fast::Hasher::new();
    h.update(b"pronet record\0");
    h.update(&(key.len() as u64).to_le_bytes());
    h.update(key.as_bytes());
    h.update(&version.to_le_bytes());
    h.update(&position.to_le_bytes());
    h.update(value.as_bytes());
    i64::from(h.finalize())
}

/// The checksum of a `meta` row.
fn meta_checksum(name: &str, value: i64) -> i64 {
    let mut h = crc32fast::Hasher::new();
    h.update(b"pronet meta\0");
    h.update(&(name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update(&value.to_le_bytes());
    i64::from(h.finalize())
}

/// An entry's contribution to its list's digest (the digest is the sum of
/// its entries' hashes).
fn entry_hash(key: &str) -> i64 {
    let mut h = crc32fast::Hasher::new();
    h.update(b"pronet entry\0");
    h.update(key.as_bytes());
    i64::from(h.finalize())
}

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
///   microseconds), and what is read back is validated: its row must pass
///   its CRC-32 checksum, and it must decode through the validating parsers
///   (an [`Email`](crate::Email), a [`Note`](crate::Note), a
///   [`Timestamp`](crate::Timestamp) in range) to a record that serialises
///   back to exactly the stored JSON (no unknown, missing or respelled
///   field) and belongs under its key, or the read answers
///   [`StoreError::Corrupt`] naming the key. Open-invitation lists are
///   checked against a stored count and digest; members and connections
///   are read from the (checked) records themselves. The checksum detects
///   accidental corruption, not a deliberate edit that recomputes it.
/// - Opening tolerates any number of connections and processes opening
///   the same (new) file at once: each step that finds the database busy
///   is retried until the busy timeout.
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

/// Damage outside the records (no key to name): the database needs
/// restoring from a backup.
#[derive(Debug, Error)]
#[error("corrupt SQLite database: {0}")]
struct Damaged(String);

fn damaged(what: impl Into<String>) -> StoreError {
    StoreError::Backend(Box::new(Damaged(what.into())))
}

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
        let mut conn = Connection::open(path).map_err(open_failed)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_failed)?;
        // Every step of opening tolerates other connections opening the
        // same file at once: switching the journal mode to WAL upgrades a
        // read transaction to a write one, which SQLite answers with
        // SQLITE_BUSY at once, without calling the busy handler; so each
        // step is retried while the database is busy, until the busy
        // timeout. Each is idempotent (the migration is one transaction
        // that rolls back when it fails).
        let deadline = Instant::now() + BUSY_TIMEOUT;
        let mode: String = while_busy(deadline, || {
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(open_failed)
        })?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::Backend(
                format!("the database cannot run in WAL mode (journal mode {mode})").into(),
            ));
        }
        while_busy(deadline, || {
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(open_failed)?;
            // A larger page cache than SQLite's 2 MiB default, and
            // checkpoints every 10,000 pages (about 40 MiB of WAL) rather
            // than every 1,000: fewer fsyncs and fewer copies of the pages
            // every commit touches.
            conn.pragma_update(None, "cache_size", -8_192)
                .map_err(open_failed)?;
            conn.pragma_update(None, "wal_autocheckpoint", 10_000)
                .map_err(open_failed)
        })?;
        while_busy(deadline, || migrate(&mut conn))?;
        // The b-trees and indexes agree with each other: a damaged index
        // would otherwise silently skip records in the change feed, which
        // no per-row checksum can notice. One pass over the file.
        let verdict: String = while_busy(deadline, || {
            conn.query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
                .map_err(open_failed)
        })?;
        if verdict != "ok" {
            return Err(OpenError::Backend(Box::new(Damaged(verdict))));
        }
        Ok(Self::new(conn))
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
        Ok(Self::new(conn))
    }

    fn new(conn: Connection) -> Self {
        Self {
            conn: Mutex::new(conn),
            ids: Mutex::new((0, 0)),
        }
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
            .prepare_cached(&format!("SELECT {ROW} FROM record"))
            .map_err(failed)?;
        let rows = stmt.query_map([], raw_row).map_err(failed)?;
        let mut all = Vec::new();
        for row in rows {
            let record = decode_row(&row.map_err(failed)?)?;
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

/// Whether `e` is SQLite saying that another connection holds a lock.
fn is_busy(e: &OpenError) -> bool {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
    match e {
        OpenError::Backend(e) => matches!(
            e.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, DatabaseBusy | DatabaseLocked)
        ),
        _ => false,
    }
}

/// Runs `step` again while it fails because the database is busy, until
/// `deadline`, pausing a little longer each time (1 ms doubling to 50 ms).
fn while_busy<T>(
    deadline: Instant,
    mut step: impl FnMut() -> Result<T, OpenError>,
) -> Result<T, OpenError> {
    let mut pause = Duration::from_millis(1);
    loop {
        match step() {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            done => return done,
        }
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
    if found >= 2 {
        // From version 2 on, the row carries a checksum.
        let checksum: i64 = tx
            .query_row(
                "SELECT checksum FROM meta WHERE name = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(open_failed)?;
        if checksum != meta_checksum("schema_version", found) {
            return Err(OpenError::Backend(Box::new(Damaged(
                "the schema version fails its checksum".into(),
            ))));
        }
    }
    let from = usize::try_from(found)
        .map_err(|_| OpenError::Foreign(format!("schema version {found}")))?;
    for step in MIGRATIONS.iter().skip(from) {
        tx.execute_batch(step.sql).map_err(open_failed)?;
        if let Some(then) = step.then {
            then(&tx).map_err(open_failed)?;
        }
    }
    if found < SqliteStore::SCHEMA_VERSION {
        tx.execute(
            "INSERT INTO meta (name, value, checksum) VALUES ('schema_version', ?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, checksum = excluded.checksum",
            params![
                SqliteStore::SCHEMA_VERSION,
                meta_checksum("schema_version", SqliteStore::SCHEMA_VERSION)
            ],
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

fn key_text(key: &Key) -> Result<String, StoreError> {
    serde_json::to_string(key).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The range of key texts of one kind of key, as `(from, to)` (`to`
/// excluded): keys serialise as `{"Kind":...}`, so one kind's keys are
/// those from `{"Kind":` up to `{"Kind;`, a primary-key range scan.
fn kind_range(sample: &Key) -> Result<(String, String), StoreError> {
    let text = key_text(sample)?;
    let end = text
        .find(':')
        .ok_or_else(|| unreadable(format!("key {text}")))?;
    let from = text[..=end].to_owned();
    let to = format!("{};", &text[..end]);
    Ok((from, to))
}

fn role_code(role: Role) -> i64 {
    match role {
        Role::Sender => 0,
        Role::Recipient => 1,
    }
}

/// The columns of an entry this store keeps (the open-invitation and block
/// lists): its kind and two integers. Members and connections are read from their
/// records, so their entries are not stored.
fn entry_columns(entry: Entry) -> Option<(&'static str, i64, i64)> {
    match entry {
        Entry::Open(member, role, _) => Some(("open", bits(member.get()), role_code(role))),
        Entry::Block(member, role, _) => Some(("block", bits(member.get()), role_code(role))),
        Entry::Connected(_) | Entry::Member(_) => None,
    }
}

/// The columns of a record row, in [`RawRow`]'s order.
const ROW: &str = "key, version, position, value, checksum";

/// A stored row as it comes.
struct RawRow {
    key: String,
    version: i64,
    position: i64,
    value: String,
    checksum: i64,
}

impl RawRow {
    /// The row from columns `at..at + 5` (in [`ROW`]'s order).
    fn read(row: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            key: row.get(at)?,
            version: row.get(at + 1)?,
            position: row.get(at + 2)?,
            value: row.get(at + 3)?,
            checksum: row.get(at + 4)?,
        })
    }

    fn sealed(&self) -> bool {
        self.checksum == record_checksum(&self.key, self.version, self.position, &self.value)
    }
}

fn raw_row(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    RawRow::read(row, 0)
}

/// Decodes and validates a record row read under `key`: the checksum, the
/// version, the JSON (exactly as the record serialises), the validating
/// parsers, and the key.
fn decode(key: &Key, row: &RawRow) -> Result<Versioned<Record>, StoreError> {
    let corrupt = || StoreError::Corrupt(key.clone());
    if !row.sealed() {
        return Err(corrupt());
    }
    let version = u64::try_from(row.version)
        .ok()
        .filter(|v| *v >= Version::FIRST.0)
        .ok_or_else(corrupt)?;
    let record: Record = serde_json::from_str(&row.value).map_err(|_| corrupt())?;
    // What serde would accept but not have written: an unknown field
    // (ignored), a missing `Option` (defaulted to `None`), another spelling
    // of a value. Stored JSON is always what `commit` wrote.
    if serde_json::to_string(&record).ok().as_deref() != Some(row.value.as_str()) {
        return Err(corrupt());
    }
    if record.key() != *key {
        return Err(corrupt());
    }
    Ok(Versioned {
        version: Version(version),
        value: record,
    })
}

/// The key a row's key text names, checked to be its one spelling (or
/// `get` would miss it).
fn row_key(text: &str) -> Result<Key, StoreError> {
    match serde_json::from_str::<Key>(text) {
        Ok(key) if key_text(&key)? == text => Ok(key),
        Ok(key) => Err(StoreError::Corrupt(key)),
        Err(_) => Err(unreadable(format!("key {text:?}"))),
    }
}

/// Decodes and validates a row whose key is known only as text.
fn decode_row(row: &RawRow) -> Result<Versioned<Record>, StoreError> {
    let key = row_key(&row.key)?;
    decode(&key, row)
}

/// The position after `position`, for the feed.
fn next_position(position: i64) -> Result<i64, CommitError> {
    position
        .checked_add(1)
        .ok_or_else(|| CommitError::Store(unreadable("change feed positions exhausted")))
}

/// Every record of one kind (a primary-key range scan), checked.
fn records_of_kind(conn: &Connection, sample: &Key) -> Result<Vec<Record>, StoreError> {
    let (from, to) = kind_range(sample)?;
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {ROW} FROM record WHERE key >= ?1 AND key < ?2"
        ))
        .map_err(failed)?;
    let rows = stmt.query_map([from, to], raw_row).map_err(failed)?;
    let mut found = Vec::new();
    for row in rows {
        found.push(decode_row(&row.map_err(failed)?)?.value);
    }
    Ok(found)
}

/// Adds (`sign` 1) or removes (`sign` -1) an entry row and its share of
/// its list's count and digest.
fn change_entry(
    tx: &Transaction<'_>,
    (kind, a, b): (&str, i64, i64),
    text: &str,
    sign: i64,
) -> Result<(), CommitError> {
    let sql = if sign > 0 {
        "INSERT INTO entry (kind, a, b, key) VALUES (?1, ?2, ?3, ?4)"
    } else {
        "DELETE FROM entry WHERE kind = ?1 AND a = ?2 AND b = ?3 AND key = ?4"
    };
    let changed = tx
        .prepare_cached(sql)
        .map_err(commit_failed)?
        .execute(params![kind, a, b, text])
        .map_err(commit_failed)?;
    if changed != 1 {
        // The entry the record implies was missing, or was there already.
        let key = row_key(text).map_err(CommitError::Store)?;
        return Err(CommitError::Store(StoreError::Corrupt(key)));
    }
    tx.prepare_cached(
        "INSERT INTO entry_sum (kind, a, b, count, digest) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, a, b) DO UPDATE
         SET count = count + excluded.count, digest = digest + excluded.digest",
    )
    .map_err(commit_failed)?
    .execute(params![kind, a, b, sign, sign * entry_hash(text)])
    .map_err(commit_failed)?;
    Ok(())
}

impl SqliteStore {
    /// The records of one entry list, `kind` for (`member`, `role`), each
    /// checked against its entry by `derived` (the record must imply the
    /// entry), and the list against its stored count and digest. A lost or
    /// phantom entry is [`StoreError::Corrupt`] naming the record, found by
    /// scanning the records of `sample`'s kind (on this error path only).
    fn listed(
        &self,
        kind: &str,
        member: MemberId,
        role: Role,
        sample: &Key,
        derived: impl Fn(&Record) -> bool,
    ) -> Result<Vec<Record>, StoreError> {
        let (a, b) = (bits(member.get()), role_code(role));
        let mut conn = self.lock();
        // One read transaction: the entries and their sum from one state.
        let tx = conn.transaction().map_err(failed)?;
        let mut found = Vec::new();
        let (mut count, mut digest) = (0_i64, 0_i64);
        {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT e.key, {} FROM entry e LEFT JOIN record r ON r.key = e.key
                     WHERE e.kind = ?3 AND e.a = ?1 AND e.b = ?2",
                    ROW.split(", ")
                        .map(|c| format!("r.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .map_err(failed)?;
            let rows = stmt
                .query_map(params![a, b, kind], |r| {
                    let entry: String = r.get(0)?;
                    let record = match r.get::<_, Option<String>>(1)? {
                        Some(_) => Some(RawRow::read(r, 1)?),
                        None => None,
                    };
                    Ok((entry, record))
                })
                .map_err(failed)?;
            for row in rows {
                let (entry, record) = row.map_err(failed)?;
                // An entry whose record does not exist.
                let Some(record) = record else {
                    return Err(StoreError::Corrupt(row_key(&entry)?));
                };
                let record = decode_row(&record)?.value;
                // The entry must agree with the record it was derived from.
                if !derived(&record) {
                    return Err(StoreError::Corrupt(record.key()));
                }
                found.push(record);
                count += 1;
                digest += entry_hash(&entry);
            }
        }
        let sum: (i64, i64) = tx
            .prepare_cached(
                "SELECT count, digest FROM entry_sum WHERE kind = ?3 AND a = ?1 AND b = ?2",
            )
            .map_err(failed)?
            .query_row(params![a, b, kind], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(failed)?
            .unwrap_or((0, 0));
        if sum != (count, digest) {
            // An entry was lost or added behind the store's back: name one.
            let listed: BTreeSet<Key> = found.iter().map(Record::key).collect();
            let derived: BTreeSet<Key> = records_of_kind(&tx, sample)?
                .iter()
                .filter(|r| derived(r))
                .map(Record::key)
                .collect();
            let key = derived
                .symmetric_difference(&listed)
                .next()
                .cloned()
                .unwrap_or(Key::Member(member));
            return Err(StoreError::Corrupt(key));
        }
        Ok(found)
    }
}

impl Store for SqliteStore {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        let text = key_text(key)?;
        let conn = self.lock();
        let row = conn
            .prepare_cached(&format!("SELECT {ROW} FROM record WHERE key = ?1"))
            .map_err(failed)?
            .query_row([&text], raw_row)
            .optional()
            .map_err(failed)?;
        match row {
            // The key column must be the key asked for (a damaged index
            // could lead elsewhere).
            Some(row) if row.key == text => decode(key, &row).map(Some),
            Some(_) => Err(StoreError::Corrupt(key.clone())),
            None => Ok(None),
        }
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
                            "INSERT INTO record (key, version, position, value, checksum)
                             VALUES (?1, 1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING",
                        )
                        .map_err(commit_failed)?
                        .execute(params![
                            text,
                            position,
                            value,
                            record_checksum(&text, 1, position, &value)
                        ])
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
                    let stored = tx
                        .prepare_cached(&format!(
                            "SELECT {ROW} FROM record WHERE key = ?1 AND version = ?2"
                        ))
                        .map_err(commit_failed)?
                        .query_row(params![text, expected], raw_row)
                        .optional()
                        .map_err(commit_failed)?;
                    let Some(stored) = stored else {
                        return Err(CommitError::Conflict(key));
                    };
                    // The record replaced must be sound: its entries are
                    // replaced by the new one's.
                    let old = decode(&key, &stored).map_err(CommitError::Store)?;
                    let updated = tx
                        .prepare_cached(
                            "UPDATE record SET version = ?1, position = ?2, value = ?3, checksum = ?4
                             WHERE key = ?5 AND version = ?6",
                        )
                        .map_err(commit_failed)?
                        .execute(params![
                            next,
                            position,
                            value,
                            record_checksum(&text, next, position, &value),
                            text,
                            expected
                        ])
                        .map_err(commit_failed)?;
                    if updated != 1 {
                        return Err(CommitError::Conflict(key));
                    }
                    entries(&old.value).collect()
                }
            };
            let new: Vec<Entry> = entries(&write.record).collect();
            for entry in old.iter().filter(|e| !new.contains(e)) {
                if let Some(columns) = entry_columns(*entry) {
                    change_entry(&tx, columns, &text, -1)?;
                }
            }
            for entry in new.iter().filter(|e| !old.contains(e)) {
                if let Some(columns) = entry_columns(*entry) {
                    change_entry(&tx, columns, &text, 1)?;
                }
            }
        }
        tx.commit().map_err(commit_failed)
    }

    fn open_invitations(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<Invitation>, StoreError> {
        let sample = Key::Invitation(InvitationId::new(0));
        let listed = self.listed("open", member, role, &sample, |record| {
            matches!(record, Record::Invitation(inv)
                if entries(record).any(|e| e == Entry::Open(member, role, inv.id)))
        })?;
        Ok(listed
            .into_iter()
            .filter_map(|record| match record {
                Record::Invitation(inv) => Some(inv),
                _ => None,
            })
            .collect())
    }

    fn blocks(&self, member: MemberId, role: Role) -> Result<Vec<crate::block::Block>, StoreError> {
        let sample = Key::Block(MemberId::new(0), MemberId::new(0));
        let listed = self.listed("block", member, role, &sample, |record| {
            matches!(record, Record::Block(_))
                && entries(record)
                    .any(|e| matches!(e, Entry::Block(m, r, _) if m == member && r == role))
        })?;
        Ok(listed
            .into_iter()
            .filter_map(|record| match record {
                Record::Block(b) => Some(b),
                _ => None,
            })
            .collect())
    }

    fn members(&self) -> Result<Vec<Member>, StoreError> {
        let conn = self.lock();
        let mut found = Vec::new();
        for record in records_of_kind(&conn, &Key::Member(MemberId::new(0)))? {
            match record {
                Record::Member(m) => found.push(m),
                other => return Err(StoreError::Corrupt(other.key())),
            }
        }
        found.sort_by_key(|m| m.id);
        Ok(found)
    }

    fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
        let conn = self.lock();
        let sample = PairKey::new(MemberId::new(0), MemberId::new(1))
            .ok_or_else(|| unreadable("pair key"))?;
        let mut found = Vec::new();
        for record in records_of_kind(&conn, &Key::Pair(sample))? {
            match record {
                Record::Pair(p) if p.connected_since.is_some() => found.push(p.key),
                Record::Pair(_) => {}
                other => return Err(StoreError::Corrupt(other.key())),
            }
        }
        found.sort();
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
            .prepare_cached(&format!(
                "SELECT {ROW} FROM record WHERE key >= ?1 AND key < ?2"
            ))
            .map_err(failed)?;
        let rows = stmt
            .query_map([prefix, upper.as_str()], raw_row)
            .map_err(failed)?;
        let mut found = Vec::new();
        for row in rows {
            let row = row.map_err(failed)?;
            let key = row_key(&row.key)?;
            match decode(&key, &row)?.value {
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
            let stored: Option<(i64, i64)> = tx
                .prepare_cached(
                    "SELECT value, checksum FROM meta WHERE name = 'last_invitation_id'",
                )
                .map_err(failed)?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(failed)?;
            // A lost or damaged counter is not guessed back: ids handed out
            // but not yet used by other connections could be handed out
            // again.
            let Some((last, checksum)) = stored else {
                return Err(damaged(
                    "the invitation id counter (meta row 'last_invitation_id') is missing",
                ));
            };
            if checksum != meta_checksum("last_invitation_id", last) {
                return Err(damaged(format!(
                    "the invitation id counter (meta row 'last_invitation_id', value {last}) \
                     fails its checksum"
                )));
            }
            let end = last
                .checked_add(ID_BLOCK)
                .filter(|&end| end >= ID_BLOCK)
                .ok_or_else(|| damaged(format!("last invitation id {last}")))?;
            tx.prepare_cached(
                "UPDATE meta SET value = ?1, checksum = ?2 WHERE name = 'last_invitation_id'",
            )
            .map_err(failed)?
            .execute(params![end, meta_checksum("last_invitation_id", end)])
            .map_err(failed)?;
            tx.commit().map_err(failed)?;
            let end = end.unsigned_abs();
            *ids = (end - ID_BLOCK.unsigned_abs(), end);
        }
        ids.0 += 1;
        Ok(InvitationId::new(ids.0))
    }

    fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        let conn = self.lock();
        // The latest row itself, so that its checksum vouches for its
        // position.
        let row = conn
            .prepare_cached(&format!(
                "SELECT {ROW} FROM record ORDER BY position DESC LIMIT 1"
            ))
            .map_err(failed)?
            .query_row([], raw_row)
            .optional()
            .map_err(failed)?;
        let Some(row) = row else {
            return Ok(ChangeCursor::START);
        };
        decode_row(&row)?;
        let position = u64::try_from(row.position)
            .map_err(|_| unreadable(format!("position {}", row.position)))?;
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
            .prepare_cached(&format!(
                "SELECT {ROW} FROM record WHERE position > ?1 ORDER BY position LIMIT ?2"
            ))
            .map_err(failed)?;
        let rows = stmt
            .query_map(params![from, limit], raw_row)
            .map_err(failed)?;
        let mut records = Vec::new();
        let mut cursor = after;
        for row in rows {
            let row = row.map_err(failed)?;
            records.push(decode_row(&row)?);
            let position = u64::try_from(row.position)
                .ok()
                .filter(|&p| p > cursor.get())
                .ok_or_else(|| unreadable(format!("position {}", row.position)))?;
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
        assert_eq!(version, 2);
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
                    supported: 2,
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
                record: Record::Invitation(closed),
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
