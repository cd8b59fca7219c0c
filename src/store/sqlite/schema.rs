//! The schema of a SQLite store: its migrations, and the steps that open
//! a database (waiting while another connection holds it busy).

use super::*;

/// `PRAGMA application_id` of a pronet database: "pron" in ASCII.
pub(super) const APPLICATION_ID: i32 = 0x7072_6f6e;

/// Invitation ids reserved per write transaction.
pub(super) const ID_BLOCK: i64 = 64;

/// Reading connections kept open per store when idle.
pub(super) const IDLE_READERS: usize = 8;

/// How long a connection waits for another one's write transaction before
/// it reports the database busy.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// One step of the schema: SQL, then (optionally) Rust that fills in what
/// SQL cannot compute.
pub(super) struct Migration {
    pub(super) sql: &'static str,
    pub(super) then: Option<fn(&Transaction<'_>) -> rusqlite::Result<()>>,
}

/// The schema: `MIGRATIONS[i]` takes a database from version `i` to `i + 1`.
/// Released steps are never edited; a change to the schema is a new step.
pub(super) const MIGRATIONS: &[Migration] = &[
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
    // 3: the outbox (clause 9): the greatest position trimming deleted,
    // below which no new position may fall (positions come from the
    // records' greatest otherwise, so a commit writes no extra row). The
    // outbox's rows are one range of the primary key (the relay trims
    // them), so they need no index of their own: each commit writes one
    // b-tree entry fewer.
    Migration {
        sql: "INSERT INTO meta (name, value, checksum) VALUES ('trimmed_position', 0, 0);",
        then: Some(seal_trimmed_position),
    },
];

/// The key range of the outbox's rows: a primary-key range scan.
pub(super) const OUTBOX_ROWS: &str = "key >= '{\"Outbox\":' AND key < '{\"Outbox\";'";

/// Migration 3's Rust half: the checksum of the `trimmed_position` row.
fn seal_trimmed_position(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE meta SET checksum = ?1 WHERE name = 'trimmed_position'",
        params![meta_checksum("trimmed_position", 0)],
    )?;
    Ok(())
}

/// Migration 2's Rust half: the checksums of the rows already stored, and
/// the sums of the entries already stored.
pub(super) fn seal_existing_rows(tx: &Transaction<'_>) -> rusqlite::Result<()> {
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

/// Whether `e` is SQLite saying that another connection holds a lock.
pub(super) fn is_busy(e: &OpenError) -> bool {
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
pub(super) fn while_busy<T>(
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
pub(super) fn migrate(conn: &mut Connection) -> Result<(), OpenError> {
    // Deleted and overwritten records are zeroed on their pages, not left
    // readable in the file (clause 10: erased personal data). A setting of
    // this connection, which does every write.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(open_failed)?;
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
