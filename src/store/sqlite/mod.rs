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
//! meta      (name TEXT PRIMARY KEY, value INTEGER, checksum INTEGER)   schema_version, last_invitation_id, trimmed_position
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

mod commit;
mod lists;
mod rows;
mod schema;
#[cfg(test)]
mod tests;

use super::{ChangeCursor, Changes, Entry, Role, Store, entries};
use crate::change::{Change, Expect, Write};
use crate::contacts::Contact;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;
use crate::outbox::Outbox;
use crate::record::{Key, Record, Versioned};
use lists::*;
use rows::*;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use schema::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use thiserror::Error;

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
/// A store over a file writes through one connection and reads through
/// others (a small pool, opened as needed), so reads never wait for a
/// write, neither this process's nor another's. Several stores (threads
/// or processes) may open one file; each [`Network`](crate::Network)
/// follows the others' commits through the change feed.
///
/// ```
/// use pronet::{Degree, ManualClock, Member, MemberId, Network, Policy, Profile, SqliteStore, Timestamp};
///
/// let dir = std::env::temp_dir().join(format!("pronet-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("network.db");
/// # let _ = std::fs::remove_file(&path);
/// let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
/// let one = Network::open(SqliteStore::open(&path)?, clock.clone(), Policy::default())?;
/// let two = Network::open(SqliteStore::open(&path)?, clock, Policy::default())?;
/// one.register(Member::person(MemberId::new(1), Profile::named("Ana")))?;
/// // `two` follows the file's feed before it reads.
/// assert_eq!(two.degree(MemberId::new(1), MemberId::new(1))?, Degree::Yourself);
/// # drop((one, two));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    /// The connection that writes.
    conn: Mutex<Connection>,
    /// Connections that only read, for a file: WAL lets them read while
    /// the writer (of this or another process) writes, so a read never
    /// waits for a write. `None` for a private in-memory database, which
    /// only its one connection can see.
    readers: Option<Readers>,
    /// Invitation ids reserved for this store and not handed out yet: the
    /// next one and the end of the block.
    ids: Mutex<(u64, u64)>,
}

/// The reading connections of a file's store.
#[derive(Debug)]
struct Readers {
    path: PathBuf,
    /// Connections not in use; at most [`IDLE_READERS`] are kept.
    idle: Mutex<Vec<Connection>>,
}

/// A connection lent to one read: back to the pool when dropped.
enum Reader<'a> {
    Pooled(Option<Connection>, &'a Mutex<Vec<Connection>>),
    Writer(MutexGuard<'a, Connection>),
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            // Only `drop` takes the connection out.
            Self::Pooled(conn, _) => conn.as_ref().unwrap_or_else(|| unreachable!()),
            Self::Writer(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match self {
            Self::Pooled(conn, _) => conn.as_mut().unwrap_or_else(|| unreachable!()),
            Self::Writer(conn) => conn,
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Self::Pooled(conn, idle) = self {
            let mut idle = idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < IDLE_READERS {
                idle.extend(conn.take());
            }
        }
    }
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
        let path = conn
            .path()
            .map(PathBuf::from)
            .ok_or_else(|| OpenError::Backend("the database file has no path".into()))?;
        let mut store = Self::new(conn);
        store.readers = Some(Readers {
            path,
            idle: Mutex::new(Vec::new()),
        });
        Ok(store)
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
            readers: None,
            ids: Mutex::new((0, 0)),
        }
    }

    /// Every record with its version, sorted by key, but for the outbox's: a
    /// snapshot for tests that compare whole states (as
    /// [`MemoryStore::snapshot`]).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails or a record is corrupt.
    ///
    /// [`MemoryStore::snapshot`]: crate::MemoryStore::snapshot
    pub fn snapshot(&self) -> Result<Vec<(Key, Versioned<Record>)>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ROW} FROM record WHERE NOT ({OUTBOX_ROWS})"
            ))
            .map_err(failed)?;
        let rows = stmt.query_map([], raw_row).map_err(failed)?;
        let mut all = Vec::new();
        for row in rows {
            let row = row.map_err(failed)?;
            if let Some(record) = decode_live(&row_key(&row.key)?, &row)? {
                all.push((record.value.key(), record));
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    /// Copies the write-ahead log into the database file and empties it
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`): afterwards the file alone holds
    /// the store, and no page image of a deleted or overwritten record
    /// stays in the log. Hosts call it after erasing a member when they
    /// must show that the bytes are gone; SQLite checkpoints on its own
    /// otherwise.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails, or readers kept the log from being
    /// copied whole (try again when they finished).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = self.lock();
        let (busy, _, _): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(failed)?;
        if busy != 0 {
            return Err(unreadable("the checkpoint was blocked by readers"));
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A transaction rolls back when its guard is dropped, also while
        // unwinding, so the connection is usable after a panic.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection to read with, never one a write holds: the writer's
    /// when it is idle (its page cache is warm with what this store wrote;
    /// a reading connection must reload every page after any write), else
    /// an idle reader or a new one. A private in-memory database has only
    /// the writer's.
    fn reader(&self) -> Result<Reader<'_>, StoreError> {
        let Some(readers) = &self.readers else {
            return Ok(Reader::Writer(self.lock()));
        };
        match self.conn.try_lock() {
            Ok(conn) => return Ok(Reader::Writer(conn)),
            Err(std::sync::TryLockError::Poisoned(p)) => return Ok(Reader::Writer(p.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
        let idle = readers
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open(&readers.path).map_err(failed)?;
                conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
                conn.pragma_update(None, "cache_size", -8_192)
                    .map_err(failed)?;
                conn
            }
        };
        Ok(Reader::Pooled(Some(conn), &readers.idle))
    }

    fn write_transaction(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)
    }
}

impl Store for SqliteStore {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(GET).map_err(failed)?;
        read_one(&mut stmt, key)
    }

    /// One connection and one statement for all the keys, in one read
    /// transaction (one consistent state).
    fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(GET).map_err(failed)?;
        if keys.len() < 2 {
            return keys.iter().map(|key| read_one(&mut stmt, key)).collect();
        }
        conn.execute_batch("BEGIN").map_err(failed)?;
        let read: Result<Vec<_>, _> = keys.iter().map(|key| read_one(&mut stmt, key)).collect();
        drop(stmt);
        if let Err(e) = conn.execute_batch("COMMIT") {
            // Never hand the connection back inside a transaction.
            let _ = conn.execute_batch("ROLLBACK");
            return Err(failed(e));
        }
        read
    }

    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        self.commit_positioned(writes).map(|_| ())
    }

    fn commit_positioned(&self, writes: &[Write]) -> Result<Option<ChangeCursor>, CommitError> {
        self.commit_writes(writes)
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
        let conn = self.reader()?;
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
        let conn = self.reader()?;
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
        let conn = self.reader()?;
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
            // A lost or damaged counter is not guessed back: ids handed out
            // but not yet used by other connections could be handed out
            // again.
            let last = read_meta(&tx, "last_invitation_id")?;
            let end = last
                .checked_add(ID_BLOCK)
                .filter(|&end| end >= ID_BLOCK)
                .ok_or_else(|| damaged(format!("last invitation id {last}")))?;
            write_meta(&tx, "last_invitation_id", end)?;
            tx.commit().map_err(failed)?;
            let end = end.unsigned_abs();
            *ids = (end - ID_BLOCK.unsigned_abs(), end);
        }
        ids.0 += 1;
        Ok(InvitationId::new(ids.0))
    }

    fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        let last = last_position(&*self.reader()?)?;
        let last = u64::try_from(last).map_err(|_| damaged(format!("last position {last}")))?;
        Ok(ChangeCursor::new(last))
    }

    fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        let Ok(from) = i64::try_from(after.get()) else {
            // Past every position SQLite can hold.
            return Ok(Changes::new(Vec::new(), after));
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ROW} FROM record WHERE position > ?1 ORDER BY position LIMIT ?2"
            ))
            .map_err(failed)?;
        let rows = stmt
            .query_map(params![from, limit], raw_row)
            .map_err(failed)?;
        let mut changes = Vec::new();
        let mut cursor = after;
        for row in rows {
            let row = row.map_err(failed)?;
            let key = row_key(&row.key)?;
            let read = decode_change(&key, &row)?;
            changes.push(Versioned {
                version: read.version,
                value: match read.value {
                    Some(record) => Change::Put(record),
                    None => Change::Delete(key),
                },
            });
            let position = u64::try_from(row.position)
                .ok()
                .filter(|&p| p > cursor.get())
                .ok_or_else(|| unreadable(format!("position {}", row.position)))?;
            cursor = ChangeCursor::new(position);
        }
        Ok(Changes::new(changes, cursor))
    }

    fn outbox(
        &self,
        after: ChangeCursor,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Outbox)>, StoreError> {
        let Ok(from) = i64::try_from(after.get()) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ROW} FROM record WHERE {OUTBOX_ROWS} AND position > ?1
                 ORDER BY position LIMIT ?2"
            ))
            .map_err(failed)?;
        let rows = stmt
            .query_map(params![from, limit], raw_row)
            .map_err(failed)?;
        let mut found = Vec::new();
        for row in rows {
            let row = row.map_err(failed)?;
            let Some(read) = decode_live(&row_key(&row.key)?, &row)? else {
                continue;
            };
            let record = read.value;
            let position = u64::try_from(row.position)
                .ok()
                .filter(|&p| p > after.get())
                .ok_or_else(|| unreadable(format!("position {}", row.position)))?;
            match record {
                Record::Outbox(o) => found.push((ChangeCursor::new(position), o)),
                other => return Err(StoreError::Corrupt(other.key())),
            }
        }
        Ok(found)
    }

    fn trim_outbox(&self, through: ChangeCursor) -> Result<usize, StoreError> {
        let through = i64::try_from(through.get()).unwrap_or(i64::MAX);
        let mut conn = self.lock();
        let tx = Self::write_transaction(&mut conn)?;
        // The greatest position deleted stays taken (clause 7).
        let deleted: Option<i64> = tx
            .prepare_cached(&format!(
                "SELECT max(position) FROM record WHERE {OUTBOX_ROWS} AND position <= ?1"
            ))
            .map_err(failed)?
            .query_row([through], |r| r.get(0))
            .map_err(failed)?;
        let Some(deleted) = deleted else {
            return Ok(0);
        };
        if deleted > read_meta(&tx, "trimmed_position")? {
            write_meta(&tx, "trimmed_position", deleted)?;
        }
        let count = tx
            .prepare_cached(&format!(
                "DELETE FROM record WHERE {OUTBOX_ROWS} AND position <= ?1"
            ))
            .map_err(failed)?
            .execute([through])
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(count)
    }
}

/// A record by key ([`ROW`]'s columns).
const GET: &str = "SELECT key, version, position, value, checksum FROM record WHERE key = ?1";

/// The live record under `key`, read with [`GET`].
fn read_one(
    stmt: &mut rusqlite::CachedStatement<'_>,
    key: &Key,
) -> Result<Option<Versioned<Record>>, StoreError> {
    let text = key_text(key)?;
    let row = stmt
        .query_row([&text], raw_row)
        .optional()
        .map_err(failed)?;
    match row {
        // The key column must be the key asked for (a damaged index could
        // lead elsewhere).
        Some(row) if row.key == text => decode_live(key, &row),
        Some(_) => Err(StoreError::Corrupt(key.clone())),
        None => Ok(None),
    }
}

/// The last position given: the records' greatest, or a greater one that
/// trimming deleted (one statement: one state, one read).
fn last_position(conn: &Connection) -> Result<i64, StoreError> {
    let (greatest, trimmed, checksum): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT (SELECT coalesce(max(position), 0) FROM record), value, checksum
             FROM meta WHERE name = 'trimmed_position'",
        )
        .map_err(failed)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(failed)?
        .ok_or_else(|| damaged("the meta row 'trimmed_position' is missing"))?;
    if checksum != meta_checksum("trimmed_position", trimmed) {
        return Err(damaged(format!(
            "the meta row 'trimmed_position' (value {trimmed}) fails its checksum"
        )));
    }
    Ok(greatest.max(trimmed))
}

/// A checked `meta` counter. A lost or damaged one is never guessed back.
fn read_meta(tx: &Connection, name: &str) -> Result<i64, StoreError> {
    let stored: Option<(i64, i64)> = tx
        .prepare_cached("SELECT value, checksum FROM meta WHERE name = ?1")
        .map_err(failed)?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(failed)?;
    match stored {
        None => Err(damaged(format!("the meta row '{name}' is missing"))),
        Some((value, checksum)) if checksum != meta_checksum(name, value) => Err(damaged(format!(
            "the meta row '{name}' (value {value}) fails its checksum"
        ))),
        Some((value, _)) => Ok(value),
    }
}

/// Sets a `meta` counter, with its checksum.
fn write_meta(tx: &Transaction<'_>, name: &str, value: i64) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE meta SET value = ?1, checksum = ?2 WHERE name = ?3")
        .map_err(failed)?
        .execute(params![value, meta_checksum(name, value), name])
        .map_err(failed)?;
    Ok(())
}
