//! [`PostgresStore`]: the [`Store`] contract over PostgreSQL (feature
//! `postgres`), through a pool of synchronous connections.
//!
//! One table holds every record, as in `SqliteStore`: its key and value as
//! JSON, its version and its position in the change feed; the
//! open-invitation and block lists come from an `entry` table each commit
//! keeps in step in the same transaction, derived by the one function every
//! store in this crate shares.
//!
//! ```text
//! meta   (name text PRIMARY KEY, value bigint)        schema_version, trimmed_position
//! record (key text COLLATE "C" PRIMARY KEY, version bigint, pos bigint UNIQUE, value text)
//! entry  (kind smallint, a bigint, b smallint, key text COLLATE "C")   open / block lists
//! sequence invitation_id (INCREMENT BY 64: one call reserves 64 ids)
//! index record_outbox ON record (pos) WHERE key is an outbox key
//! ```
//!
//! # The change feed: positions from transaction ids
//!
//! A sequence does not give a feed in commit order: a transaction can take
//! a number, then commit after one that took a later number, and a reader
//! that already passed the later one never sees it. Two ways out were
//! measured (pgbench, PostgreSQL 15 on this 2-core machine, loopback,
//! `synchronous_commit = on`, a change set of two inserts):
//!
//! | approach                                                  | 1 client | 8 clients |
//! |-----------------------------------------------------------|---------:|----------:|
//! | positions under a lock taken at the end of the transaction |  929 tps |  1774 tps |
//! | positions from the transaction id, readers below `xmin`    | 1760 tps |  5137 tps |
//! | the same, with `NOTIFY` inside each transaction            | 1218 tps |  2759 tps |
//!
//! The lock is held through the commit's WAL flush, so commits queue on it
//! one flush at a time; transaction ids let PostgreSQL flush many commits
//! together. This store takes the second way. A record written by the
//! transaction with id `x` (`pg_current_xact_id()`, 64 bits, never reused)
//! as the `i`-th write of its change set gets the position
//! `x * 65536 + i` (so a change set has at most 65,535 writes, and
//! positions run out after 2^47 transactions). A reader returns only rows
//! whose transaction id is below its snapshot's `xmin`: every transaction
//! below `xmin` has ended, and every later commit has an id of at least
//! `xmin`, so no commit becomes visible later with a position before one
//! returned (clause 7). A committed row above `xmin` is held back until the
//! older transactions still running end: the reader waits for that (polling
//! its snapshot, up to 10 seconds; in practice the length of one pronet
//! commit), so a commit that ended before a feed read began is in that read.
//! A transaction left open anywhere in the cluster holds the feed back; a
//! read that outwaits the limit ([`PostgresStore::with_settle_limit`])
//! answers with what is safe so far (a follower then sees later records
//! later, never out of order). A network's own commit does not wait for
//! that: [`commit_positioned`](Store::commit_positioned) answers the
//! commit's last position, the network applies the commit's records to its
//! index at once, and follows the feed later from where it was, so that a
//! commit of an older transaction, ending later with an earlier position,
//! is not skipped.
//!
//! Positions are never given twice, also after trimming, since transaction
//! ids never repeat; the highest position trimmed is kept in `meta` all the
//! same, so that [`change_cursor`](Store::change_cursor) never goes back.
//!
//! # Followers
//!
//! After each commit the store sends a `NOTIFY` on its channel (one per
//! schema), from a background thread of its own, coalescing bursts (a
//! `NOTIFY` inside the transaction would take PostgreSQL's global
//! notification lock through the commit's flush: the last row above). A
//! host's background thread keeps each [`Network`](crate::Network)'s
//! index fresh:
//!
//! ```no_run
//! # fn run(net: std::sync::Arc<pronet::Network<pronet::PostgresStore, pronet::SystemClock>>)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! let mut listener = net.store().listener()?;
//! loop {
//!     // A timeout still catches up now and then, should a notification
//!     // be lost with a connection.
//!     listener.wait(std::time::Duration::from_secs(5))?;
//!     net.catch_up()?;
//! }
//! # }
//! ```
//!
//! The notification is for fresh reads only: a `Network` probes the feed
//! before each decision anyway.

mod conn;
mod feed;
mod read;
mod schema;
mod write;

pub use feed::FeedListener;

use super::json::{decode_stored, decode_value, key_text, parse_key};
use super::{BothWays, ChangeCursor, Changes, Entry, Gather, Gathered, Role, Store, entries};
use crate::block::Block;
use crate::change::{Change, Write};
use crate::contacts::Contact;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;
use crate::outbox::Outbox;
use crate::record::{Key, Record, Versioned};
use conn::{Conn, Manager};
use feed::{FeedRow, Notifier};
use postgres::types::Type;
use postgres::{Client, Config, NoTls};
use r2d2::{Pool, PooledConnection};
use schema::*;
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Positions per transaction id: a change set's `i`-th write is at
/// `id * POSITIONS_PER_TRANSACTION + i`.
const POSITIONS_PER_TRANSACTION: i64 = 1 << 16;

/// A [`Store`] in a PostgreSQL database, shared by any number of processes,
/// through a pool of connections.
///
/// - The store creates its schema, and migrates an older one, in the first
///   schema of the connection's `search_path` (`public` by default) when it
///   opens; the schema version is recorded in the database, and a database
///   written by a newer pronet is refused
///   ([`PostgresOpenError::NewerSchema`]).
/// - Each change set is one transaction, one round trip: a call of the
///   schema's `pronet_apply` function, which writes every record and
///   checks every expected version (`INSERT ... ON CONFLICT`, `UPDATE ...
///   WHERE version = $n`, one row each, in key order); it rolls back when
///   any fails, answering [`CommitError::Conflict`] naming it. Its
///   statements, like every other, are planned once per connection.
///   Deadlocks and serialization failures are retried, then reported as
///   [`CommitError::Conflict`].
/// - Records are stored as JSON through the same serde derives as
///   everything else, and what is read back must decode through the
///   validating parsers to a record that serialises back to exactly the
///   stored JSON and belongs under its key, or the read answers
///   [`StoreError::Corrupt`] naming the key. (No checksums: PostgreSQL
///   checks its own pages when the cluster has data checksums on.)
/// - The change feed follows commit order across processes (see the
///   module docs for how), and [`listener`](Self::listener) wakes
///   followers when any process commits.
///
/// The methods block: from async code, call them in
/// `tokio::task::spawn_blocking` (see the README).
#[derive(Debug)]
pub struct PostgresStore {
    pool: Pool<Manager>,
    config: Config,
    channel: String,
    /// Invitation ids reserved for this store and not handed out yet: the
    /// next one and the end of the block.
    ids: Mutex<(u64, u64)>,
    notifier: Notifier,
    /// How long a feed read waits for older transactions to end.
    settle: Duration,
}

/// Why a [`PostgresStore`] could not open its database.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PostgresOpenError {
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
    /// The schema holds another application's tables, or no schema of the
    /// `search_path` exists.
    #[error("not a pronet schema: {0}")]
    Foreign(String),
    /// The connection string is malformed, or PostgreSQL could not be
    /// reached or set up.
    #[error("could not open the PostgreSQL database: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

fn open_failed(e: impl std::error::Error + Send + Sync + 'static) -> PostgresOpenError {
    PostgresOpenError::Backend(Box::new(e))
}

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Damage outside the records (no key to name), or a row whose key is
/// unreadable.
#[derive(Debug, Error)]
#[error("corrupt PostgreSQL store: {0}")]
struct Damaged(String);

fn damaged(what: impl Into<String>) -> StoreError {
    StoreError::Backend(Box::new(Damaged(what.into())))
}

impl PostgresStore {
    /// The schema version this pronet writes and reads.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// The pool size of [`connect`](Self::connect).
    pub const DEFAULT_POOL_SIZE: u32 = 8;

    /// Opens the database named by a connection string (`postgres://user:
    /// password@host/database` or `host=... user=... dbname=...`) with a
    /// pool of [`DEFAULT_POOL_SIZE`](Self::DEFAULT_POOL_SIZE) connections,
    /// creating or migrating the schema.
    ///
    /// # Errors
    /// As [`open`](Self::open), and [`PostgresOpenError::Backend`] for a
    /// malformed connection string.
    pub fn connect(url: &str) -> Result<Self, PostgresOpenError> {
        let config: Config = url.parse().map_err(open_failed)?;
        Self::open(config, Self::DEFAULT_POOL_SIZE)
    }

    /// Opens the database `config` names, with a pool of at most
    /// `pool_size` connections (at least 1; one per thread that uses the
    /// store at once is plenty), creating or migrating the schema in the
    /// first schema of the `search_path` (set it with
    /// `config.options("-c search_path=...")`).
    ///
    /// # Errors
    /// [`PostgresOpenError::NewerSchema`] for a schema of a newer pronet,
    /// [`PostgresOpenError::Foreign`] for another application's schema,
    /// [`PostgresOpenError::Backend`] when PostgreSQL cannot be reached.
    pub fn open(config: Config, pool_size: u32) -> Result<Self, PostgresOpenError> {
        let manager = Manager {
            config: config.clone(),
        };
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            // Connections are opened as needed, not all at once here.
            .min_idle(Some(0))
            // A broken connection is noticed by its use (and replaced);
            // testing each on check-out would cost a round trip per call.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(open_failed)?;
        let schema = migrate(&mut pool.get().map_err(open_failed)?.client)?;
        let channel = channel(&schema);
        let notifier = Notifier::start(config.clone(), channel.clone()).map_err(open_failed)?;
        Ok(Self {
            pool,
            config,
            channel,
            ids: Mutex::new((0, 0)),
            notifier,
            settle: feed::SETTLE_LIMIT,
        })
    }

    /// Opens the store in schema `schema` of the database `config` names,
    /// creating the schema if it does not exist: one database can hold
    /// several stores (tenants, tests). Adds the schema as the connections'
    /// `search_path` to the `options` of `config`.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_in_schema(
        mut config: Config,
        schema: &str,
        pool_size: u32,
    ) -> Result<Self, PostgresOpenError> {
        let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
        let mut client = config.connect(NoTls).map_err(open_failed)?;
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
            .map_err(open_failed)?;
        // Options are spaces apart: escape the spaces in the name.
        let path = format!(
            "-c search_path={}",
            quoted.replace('\\', "\\\\").replace(' ', "\\ ")
        );
        let options = match config.get_options() {
            Some(given) => format!("{given} {path}"),
            None => path,
        };
        config.options(&options);
        Self::open(config, pool_size)
    }

    /// This store with feed reads that wait at most `limit` (10 seconds by
    /// default) for older transactions to end. A feed read returns only
    /// positions no later commit can come before, so a commit is held back
    /// while a transaction that began before it is still running anywhere
    /// in the cluster; the read waits for those, up to this limit, then
    /// answers with what is safe so far (followers see the rest later,
    /// never out of order). A network's own commits are in its index when
    /// the call returns whatever the limit; with a shorter one, commits of
    /// other processes may reach it a read later while a long transaction
    /// runs.
    #[must_use]
    pub fn with_settle_limit(mut self, limit: Duration) -> Self {
        self.settle = limit;
        self
    }

    /// Every stored record with its version, sorted by key, each checked
    /// as [`Store::get`] checks it, but for the outbox's (their keys are
    /// drawn at random; read them with [`Store::outbox`]), as
    /// `MemoryStore::snapshot`: for tests that compare whole states, not for
    /// production paths (it reads the whole table).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or a record is corrupt.
    pub fn snapshot(&self) -> Result<Vec<(Key, Versioned<Record>)>, StoreError> {
        let mut conn = self.conn()?;
        let rows = conn
            .query_typed(
                &format!("SELECT key, version, value FROM record WHERE NOT ({OUTBOX_ROWS})"),
                &[],
            )
            .map_err(failed)?;
        let mut all = Vec::with_capacity(rows.len());
        for row in rows {
            let key = row_key(&row.try_get::<_, String>(0).map_err(failed)?)?;
            let version: i64 = row.try_get(1).map_err(failed)?;
            let value: &str = row.try_get(2).map_err(failed)?;
            let read = decode_stored(&key, version, value)?;
            if let Some(value) = read.value {
                let version = read.version;
                all.push((key, Versioned { version, value }));
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    /// A connection of the pool.
    fn conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        self.pool.get().map_err(failed)
    }

    /// Every record whose key text is in `[from, to)`, checked.
    fn records_between(&self, from: &str, to: &str) -> Result<Vec<Record>, StoreError> {
        let mut conn = self.conn()?;
        let rows = conn
            .query_typed(
                "SELECT key, version, value FROM record WHERE key >= $1 AND key < $2",
                &[(&from, Type::TEXT), (&to, Type::TEXT)],
            )
            .map_err(failed)?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let key = row_key(&row.try_get::<_, String>(0).map_err(failed)?)?;
            let version: i64 = row.try_get(1).map_err(failed)?;
            let value: &str = row.try_get(2).map_err(failed)?;
            // A tombstone (clause 10) is no record.
            if let Some(record) = decode_stored(&key, version, value)?.value {
                found.push(record);
            }
        }
        Ok(found)
    }

    /// Every record of `sample`'s kind: keys serialise as `{"Kind":...}`,
    /// so they are those from `{"Kind":` up to `{"Kind;` (bytewise, the
    /// column's collation), a primary-key range scan.
    fn records_of_kind(&self, sample: &Key) -> Result<Vec<Record>, StoreError> {
        let text = key_text(sample)?;
        let end = text
            .find(':')
            .ok_or_else(|| damaged(format!("key {text}")))?;
        self.records_between(&text[..=end], &format!("{};", &text[..end]))
    }
}

/// A `u64` in a `bigint` column, bit for bit.
fn bits(v: u64) -> i64 {
    i64::from_ne_bytes(v.to_ne_bytes())
}

/// The `entry` kinds (spelled as numbers in `read.rs`'s statements too):
/// an open invitation, a standing block.
const OPEN: i16 = 0;
const BLOCK: i16 = 1;

fn role_code(role: Role) -> i16 {
    match role {
        Role::Sender => 0,
        Role::Recipient => 1,
    }
}

/// The columns of an entry kept in the `entry` table: kind, member, role.
/// Members and connections are read from their records.
fn entry_columns(entry: Entry) -> Option<(i16, i64, i16)> {
    match entry {
        Entry::Open(member, role, _) => Some((OPEN, bits(member.get()), role_code(role))),
        Entry::Block(member, role, _) => Some((BLOCK, bits(member.get()), role_code(role))),
        Entry::Connected(_) | Entry::Member(_) => None,
    }
}

/// The key a row's key text names.
fn row_key(text: &str) -> Result<Key, StoreError> {
    parse_key(text)?.ok_or_else(|| damaged(format!("unreadable key {text:?}")))
}

/// A feed row, decoded and checked, with its position: a record, or a
/// tombstone's deletion.
fn decode_feed_row(row: &FeedRow) -> Result<(ChangeCursor, Versioned<Change>), StoreError> {
    let key = row_key(&row.key)?;
    let read = decode_stored(&key, row.version, &row.value)?;
    let pos = u64::try_from(row.pos).map_err(|_| StoreError::Corrupt(key.clone()))?;
    let value = match read.value {
        Some(record) => Change::Put(record),
        None => Change::Delete(key),
    };
    Ok((
        ChangeCursor::new(pos),
        Versioned {
            version: read.version,
            value,
        },
    ))
}

/// Feed rows after `after`, decoded and checked, as a page.
fn changes_of(after: ChangeCursor, rows: &[FeedRow]) -> Result<Changes, StoreError> {
    let mut changes = Vec::with_capacity(rows.len());
    let mut cursor = after;
    for row in rows {
        let (pos, change) = decode_feed_row(row)?;
        if pos <= cursor {
            return Err(damaged(format!("position {}", row.pos)));
        }
        cursor = pos;
        changes.push(change);
    }
    Ok(Changes::new(changes, cursor))
}

impl Store for PostgresStore {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        let text = key_text(key)?;
        let mut conn = self.conn()?;
        let row = conn
            .query_typed_opt(
                "SELECT key, version, value FROM record WHERE key = $1",
                &[(&text, Type::TEXT)],
            )
            .map_err(failed)?;
        let Some(row) = row else { return Ok(None) };
        // The row must be the one asked for (a damaged index could lead
        // elsewhere).
        if row.try_get::<_, &str>(0).map_err(failed)? != text {
            return Err(StoreError::Corrupt(key.clone()));
        }
        let version: i64 = row.try_get(1).map_err(failed)?;
        let value: &str = row.try_get(2).map_err(failed)?;
        let read = decode_stored(key, version, value)?;
        Ok(read.value.map(|value| Versioned {
            version: read.version,
            value,
        }))
    }

    /// One query for all the keys, from one snapshot.
    fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
        self.read_many(keys)
    }

    fn gather(&self, reads: &Gather<'_>) -> Result<Gathered, StoreError> {
        self.gather_at_once(reads)
    }

    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        self.commit_positioned(writes).map(|_| ())
    }

    /// The position of a change set's last write is its transaction id's
    /// first position plus the number of writes; the positions between the
    /// feed's end and it may hold commits of transactions still running,
    /// which a network's next follow of the feed waits for (see the
    /// module docs).
    fn commit_positioned(&self, writes: &[Write]) -> Result<Option<ChangeCursor>, CommitError> {
        if writes.is_empty() {
            return Ok(None);
        }
        let last = self.commit_writes(writes)?;
        self.notifier.notify();
        Ok(Some(last))
    }

    fn open_invitations(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<Invitation>, StoreError> {
        self.open_of(member, role)
    }

    fn members(&self) -> Result<Vec<Member>, StoreError> {
        let mut found = Vec::new();
        for record in self.records_of_kind(&Key::Member(MemberId::new(0)))? {
            match record {
                Record::Member(m) => found.push(m),
                other => return Err(StoreError::Corrupt(other.key())),
            }
        }
        found.sort_by_key(|m| m.id);
        Ok(found)
    }

    fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
        let sample =
            PairKey::new(MemberId::new(0), MemberId::new(1)).ok_or_else(|| damaged("pair key"))?;
        let mut found = Vec::new();
        for record in self.records_of_kind(&Key::Pair(sample))? {
            match record {
                Record::Pair(p) if p.connected_since.is_some() => found.push(p.key),
                Record::Pair(_) => {}
                other => return Err(StoreError::Corrupt(other.key())),
            }
        }
        found.sort();
        Ok(found)
    }

    fn blocks(&self, member: MemberId, role: Role) -> Result<Vec<Block>, StoreError> {
        let both = self.blocks_in(member, &[role])?;
        Ok(match role {
            Role::Sender => both.made,
            Role::Recipient => both.received,
        })
    }

    fn blocks_both_ways(&self, member: MemberId) -> Result<BothWays, StoreError> {
        self.blocks_in(member, &[Role::Sender, Role::Recipient])
    }

    fn contacts(&self, owner: MemberId) -> Result<Vec<Contact>, StoreError> {
        // Contact keys serialise as `{"Contact":[owner,"address"]}`: one
        // owner's contacts are the keys between that prefix and the same
        // prefix with its final ',' raised to '-'.
        let probe = key_text(&Key::Contact(owner, String::new()))?;
        let prefix = probe.trim_end_matches("\"\"]}");
        let upper = format!("{}-", prefix.trim_end_matches(','));
        let mut found = Vec::new();
        for record in self.records_between(prefix, &upper)? {
            match record {
                Record::Contact(c) if c.owner == owner => found.push(c),
                other => return Err(StoreError::Corrupt(other.key())),
            }
        }
        Ok(found)
    }

    fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        if ids.0 >= ids.1 {
            // The sequence hands each caller a block of its own; ids left
            // unused when the store is dropped are skipped (clause 6).
            let mut conn = self.conn()?;
            let end: i64 = conn
                .query_typed_one("SELECT nextval('invitation_id')", &[])
                .and_then(|r| r.try_get(0))
                .map_err(failed)?;
            let end = u64::try_from(end)
                .ok()
                .filter(|&e| e >= ID_BLOCK.unsigned_abs())
                .ok_or_else(|| damaged(format!("invitation id sequence at {end}")))?;
            *ids = (end - ID_BLOCK.unsigned_abs(), end);
        }
        ids.0 += 1;
        Ok(InvitationId::new(ids.0))
    }

    fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        let latest = self.latest_position()?;
        u64::try_from(latest)
            .map(ChangeCursor::new)
            .map_err(|_| damaged(format!("position {latest}")))
    }

    fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        changes_of(after, &self.feed_rows(after, limit, false)?)
    }

    /// Without waiting for older transactions: the committed rows they
    /// hold back come as unsettled (when they fit in the page).
    fn changes_now(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        let (safe, held) = self.read_feed(after, limit, false, true)?;
        let page = changes_of(after, &safe)?;
        let mut unsettled = Vec::with_capacity(held.len());
        let mut last = page.cursor;
        for row in &held {
            let (pos, change) = decode_feed_row(row)?;
            if pos <= last {
                return Err(damaged(format!("position {}", row.pos)));
            }
            last = pos;
            unsettled.push((pos, change));
        }
        Ok(page.with_unsettled(unsettled))
    }

    fn outbox(
        &self,
        after: ChangeCursor,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Outbox)>, StoreError> {
        let mut found = Vec::new();
        for row in self.feed_rows(after, limit, true)? {
            match decode_feed_row(&row)? {
                (
                    pos,
                    Versioned {
                        value: Change::Put(Record::Outbox(o)),
                        ..
                    },
                ) if pos > after => found.push((pos, o)),
                // A deleted outbox record left no events.
                (
                    _,
                    Versioned {
                        value: Change::Delete(Key::Outbox(_)),
                        ..
                    },
                ) => {}
                (_, other) => return Err(StoreError::Corrupt(other.value.key())),
            }
        }
        Ok(found)
    }

    fn trim_outbox(&self, through: ChangeCursor) -> Result<usize, StoreError> {
        self.trim(through)
    }
}
