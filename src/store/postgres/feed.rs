//! The change feed and the outbox: reads that return only positions no
//! later commit can come before (see the module docs), the waking of
//! followers with `LISTEN`/`NOTIFY`, and trimming.

use super::*;

/// How long a feed read waits by default for older transactions to end
/// before it answers with what is safe so far (a transaction left open
/// anywhere in the cluster holds the feed back; see the module docs): as
/// long as a SQLite connection waits for a busy database, so that a read
/// returns every commit that ended before it began unless a transaction
/// somewhere stayed open longer.
pub(super) const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// The smallest position a transaction whose id is not below `xmin` can
/// write: rows below it are final.
fn bound(xmin: i64) -> i64 {
    xmin.saturating_mul(POSITIONS_PER_TRANSACTION)
}

/// The snapshot's horizon, as a column: every transaction below it ended.
const XMIN: &str = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// Waits until every transaction that could still write a position below
/// `pos` has ended (the snapshot's horizon passed `pos`), pausing a little
/// longer each time, for at most `limit`; answers whether it did.
/// Only transactions already running are waited for, so a steady stream
/// of new commits cannot keep a reader waiting.
fn wait_past(conn: &mut Conn, pos: i64, limit: Duration) -> Result<bool, StoreError> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_micros(100);
    loop {
        let xmin: i64 = conn
            .query_typed_one(&format!("SELECT {XMIN}"), &[])
            .and_then(|r| r.try_get(0))
            .map_err(failed)?;
        if bound(xmin) > pos {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(pause);
        // At most a millisecond: a network's followers queue behind this
        // one, and the transactions waited for are mostly commits.
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

/// A record row of a feed read: its position, key, version and value.
pub(super) struct FeedRow {
    pub(super) pos: i64,
    pub(super) key: String,
    pub(super) version: i64,
    pub(super) value: String,
}

impl PostgresStore {
    /// Up to `limit` rows after `after` (of the outbox only, with
    /// `outbox`), in position order, all below the snapshot's horizon.
    pub(super) fn feed_rows(
        &self,
        after: ChangeCursor,
        limit: usize,
        outbox: bool,
    ) -> Result<Vec<FeedRow>, StoreError> {
        Ok(self.read_feed(after, limit, outbox, false)?.0)
    }

    /// [`feed_rows`](Self::feed_rows), and with `now` the committed rows
    /// held back by older transactions still running, instead of waiting
    /// for those (when the page has room for all of them: else it waits,
    /// so that a long transaction somewhere cannot make every read return
    /// a full page of rows it will return again).
    pub(super) fn read_feed(
        &self,
        after: ChangeCursor,
        limit: usize,
        outbox: bool,
        now: bool,
    ) -> Result<(Vec<FeedRow>, Vec<FeedRow>), StoreError> {
        let Ok(from) = i64::try_from(after.get()) else {
            // Past every position PostgreSQL can hold.
            return Ok((Vec::new(), Vec::new()));
        };
        if limit == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let only = if outbox { OUTBOX_ROWS } else { "TRUE" };
        let sql = format!(
            "SELECT pos, key, version, value, {XMIN} FROM record
             WHERE {only} AND pos > $1 ORDER BY pos LIMIT $2"
        );
        let mut conn = self.conn()?;
        let mut waited = false;
        loop {
            let rows = conn
                .query_typed(&sql, &[(&from, Type::INT8), (&limit, Type::INT8)])
                .map_err(failed)?;
            let mut safe = Vec::with_capacity(rows.len());
            let mut unsettled = Vec::new();
            for row in &rows {
                let xmin: i64 = row.try_get(4).map_err(failed)?;
                let pos: i64 = row.try_get(0).map_err(failed)?;
                let read = FeedRow {
                    pos,
                    key: row.try_get(1).map_err(failed)?,
                    version: row.try_get(2).map_err(failed)?,
                    value: row.try_get(3).map_err(failed)?,
                };
                // Rows come in position order under one snapshot: after
                // the first held-back row, every row is held back.
                if pos >= bound(xmin) || !unsettled.is_empty() {
                    unsettled.push(read);
                } else {
                    safe.push(read);
                }
            }
            let full = i64::try_from(rows.len()).is_ok_and(|n| n >= limit);
            // Held-back rows: answer them as unsettled, or wait once for
            // the transactions before the last of them, then read again, so
            // that a read returns every commit that ended before it began
            // (unless one outlasts the limit). Every such commit is among
            // the rows read, so waiting past the last one read is enough;
            // waiting past the first only could answer a later one still
            // held back by a transaction that began after the first.
            match unsettled.last() {
                Some(_) if now && !full => return Ok((safe, unsettled)),
                Some(last) if !waited => {
                    waited = true;
                    if !wait_past(&mut conn, last.pos, self.settle)? {
                        return Ok((safe, Vec::new()));
                    }
                }
                _ => return Ok((safe, Vec::new())),
            }
        }
    }

    /// The latest position, waiting (briefly) for older transactions still
    /// running to end so that no commit can come before it.
    pub(super) fn latest_position(&self) -> Result<i64, StoreError> {
        let mut conn = self.conn()?;
        let read = |conn: &mut Conn| -> Result<(i64, i64), StoreError> {
            let row = conn
                .query_typed_one(
                    &format!(
                        "SELECT (SELECT max(pos) FROM record),
                                (SELECT max(pos) FROM record WHERE pos < {XMIN} * $1),
                                (SELECT value FROM meta WHERE name = 'trimmed_position'),
                                {XMIN} * $1"
                    ),
                    &[(&POSITIONS_PER_TRANSACTION, Type::INT8)],
                )
                .map_err(failed)?;
            let top: Option<i64> = row.try_get(0).map_err(failed)?;
            let safe: Option<i64> = row.try_get(1).map_err(failed)?;
            let trimmed: Option<i64> = row.try_get(2).map_err(failed)?;
            let horizon: i64 = row.try_get(3).map_err(failed)?;
            let trimmed = trimmed.ok_or_else(|| damaged("the trimmed position is missing"))?;
            // The trimmed position is raised inside the transaction that
            // deletes (a key of personal data): like a record's position,
            // it is safe only below the horizon, else an older transaction
            // still running may commit a position before it.
            let safe_trimmed = if trimmed < horizon { trimmed } else { 0 };
            Ok((
                top.unwrap_or(0).max(trimmed),
                safe.unwrap_or(0).max(safe_trimmed),
            ))
        };
        let (top, safe) = read(&mut conn)?;
        if top <= safe {
            return Ok(safe);
        }
        // The latest commit is held back by older transactions still
        // running: wait for those, then read again. If they outlast the
        // limit, the latest safe position: a follower from it may see
        // some records again, never miss one.
        if !wait_past(&mut conn, top, self.settle)? {
            return Ok(safe);
        }
        Ok(read(&mut conn)?.1)
    }

    /// Deletes the outbox rows at or before `through` that are final, and
    /// raises the trimmed position to the last one deleted.
    pub(super) fn trim(&self, through: ChangeCursor) -> Result<usize, StoreError> {
        let through = i64::try_from(through.get()).unwrap_or(i64::MAX);
        let mut conn = self.conn()?;
        let row = conn
            .query_typed_one(
                &format!(
                    "WITH gone AS (
                         DELETE FROM record
                         WHERE {OUTBOX_ROWS} AND pos <= $1 AND pos < {XMIN} * $2
                         RETURNING pos
                     ), raised AS (
                         UPDATE meta SET value = greatest(value, (SELECT max(pos) FROM gone))
                         WHERE name = 'trimmed_position' AND EXISTS (SELECT 1 FROM gone)
                     )
                     SELECT count(*) FROM gone"
                ),
                &[
                    (&through, Type::INT8),
                    (&POSITIONS_PER_TRANSACTION, Type::INT8),
                ],
            )
            .map_err(failed)?;
        let count: i64 = row.try_get(0).map_err(failed)?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// A listener on this store's channel, on a connection of its own: its
    /// [`wait`](FeedListener::wait) answers when any process commits to
    /// this store. See the module docs for the loop a host runs.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the connection or `LISTEN` fails.
    pub fn listener(&self) -> Result<FeedListener, StoreError> {
        let mut client = self.config.connect(NoTls).map_err(failed)?;
        client
            .batch_execute(&format!("LISTEN {}", quoted(&self.channel)))
            .map_err(failed)?;
        Ok(FeedListener { client })
    }
}

/// A double-quoted SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Wakes a follower when any process commits to the store
/// ([`PostgresStore::listener`]): a connection that `LISTEN`s on the
/// store's channel. A woken follower calls
/// [`Network::catch_up`](crate::Network::catch_up).
pub struct FeedListener {
    client: Client,
}

impl std::fmt::Debug for FeedListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedListener").finish_non_exhaustive()
    }
}

impl FeedListener {
    /// Waits up to `timeout` for a commit to the store, answering whether
    /// one came (commits since the last call count: none is lost between
    /// calls). Several commits may wake it once.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the connection fails; open a new
    /// listener, and catch up, since commits may have been missed.
    pub fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut notifications = self.client.notifications();
        let woken = notifications
            .timeout_iter(timeout)
            .next()
            .map_err(failed)?
            .is_some();
        // Everything already queued is covered by this wake-up.
        while notifications.iter().next().map_err(failed)?.is_some() {}
        drop(notifications);
        if !woken && self.client.is_closed() {
            return Err(damaged("the listener's connection closed"));
        }
        Ok(woken)
    }
}

/// The least time between two notifications of one store. Followers learn
/// of a commit at most this much later (plus the notification's own
/// trip). Sent per commit, notifications were an eighth of the statements
/// the server ran under load (send+accept bench, 8 threads); now at most
/// a thousand a second.
const NOTIFY_GAP: Duration = Duration::from_millis(1);

/// Sends the store's `NOTIFY` after commits, from a thread of its own, so
/// that commits never take PostgreSQL's global notification lock (which
/// is held through the commit's flush: measured, it cost 40% of the
/// throughput with 8 writers). Commits that end while a notification is
/// being sent share the next one, which is always sent after they ended.
#[derive(Debug)]
pub(super) struct Notifier {
    wake: SyncSender<()>,
}

impl Notifier {
    /// Starts the thread; it ends when the store is dropped.
    pub(super) fn start(config: Config, channel: String) -> std::io::Result<Self> {
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("pronet-notify".into())
            .spawn(move || {
                let mut client: Option<Client> = None;
                while woken.recv().is_ok() {
                    // Best effort: a failed notification only delays
                    // followers until their listener's timeout, and the
                    // connection is opened again for the next commit.
                    if client.as_ref().is_none_or(Client::is_closed) {
                        // A notification needs no flush to disk: without
                        // this, each would cost a second synchronous commit.
                        client = config.connect(NoTls).ok().and_then(|mut c| {
                            c.batch_execute("SET synchronous_commit = off").ok()?;
                            Some(c)
                        });
                    }
                    if let Some(c) = client.as_mut() {
                        let sent =
                            c.query_typed("SELECT pg_notify($1, '')", &[(&channel, Type::TEXT)]);
                        if sent.is_err() {
                            client = None;
                        }
                    }
                    // Commits in the meantime share the next notification:
                    // under load, one per gap instead of one per commit.
                    std::thread::sleep(NOTIFY_GAP);
                }
            })?;
        Ok(Self { wake })
    }

    /// Asks for a notification after a commit that just ended.
    pub(super) fn notify(&self) {
        // Full: one is pending and will be sent after this commit ended.
        let _pending = self.wake.try_send(());
    }
}
