//! Commits: one transaction per change set, expected versions checked by
//! the statements that write, entries kept in step, deadlocks and
//! serialization failures retried.

use super::*;
use crate::change::{Change, Expect};
use crate::store::json::TOMBSTONE;
use postgres::error::SqlState;
use std::collections::BTreeSet;

/// Attempts of a change set that PostgreSQL aborted for a deadlock or a
/// serialization failure, before it is reported as a conflict.
const ATTEMPTS: u32 = 5;

/// A change set with more writes than a transaction has positions.
#[derive(Debug, Error)]
#[error("a change set of {0} writes: at most 65,535 fit in one transaction's positions")]
struct TooManyWrites(usize);

/// One write, encoded before the transaction starts.
struct Encoded<'a> {
    /// Its place in the change set (1-based): its position's low bits.
    ord: i64,
    write: &'a Write,
    key: Key,
    text: String,
    value: String,
}

/// Why an attempt did not commit.
enum Failed {
    /// PostgreSQL aborted it (deadlock, serialization): try again.
    Again,
    /// Final.
    Commit(CommitError),
}

impl From<postgres::Error> for Failed {
    fn from(e: postgres::Error) -> Self {
        match e.code() {
            Some(c)
                if *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::T_R_SERIALIZATION_FAILURE =>
            {
                Self::Again
            }
            _ => Self::Commit(CommitError::Store(failed(e))),
        }
    }
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Self::Commit(CommitError::Store(e))
    }
}

/// The entry rows to delete or insert, as parallel columns.
#[derive(Default)]
struct EntryRows {
    kind: Vec<i16>,
    a: Vec<i64>,
    b: Vec<i16>,
    key: Vec<String>,
}

impl EntryRows {
    fn push(&mut self, (kind, a, b): (i16, i64, i16), key: &str) {
        self.kind.push(kind);
        self.a.push(a);
        self.b.push(b);
        self.key.push(key.to_owned());
    }
}

impl PostgresStore {
    /// Applies `writes` (not empty) in one transaction, or none of them.
    pub(super) fn commit_writes(&self, writes: &[Write]) -> Result<(), CommitError> {
        if writes.len() >= 1 << 16 {
            return Err(CommitError::Store(failed(TooManyWrites(writes.len()))));
        }
        // Encode everything, and refuse a key written twice, first.
        let mut keys = BTreeSet::new();
        let mut encoded = Vec::with_capacity(writes.len());
        for (ord, write) in (1..).zip(writes) {
            let key = write.key();
            if !keys.insert(key.clone()) {
                return Err(CommitError::Conflict(key));
            }
            let text = key_text(&key)?;
            let value = match write.record() {
                Some(record) => serde_json::to_string(record).map_err(failed)?,
                None => TOMBSTONE.to_owned(),
            };
            encoded.push(Encoded {
                ord,
                write,
                key,
                text,
                value,
            });
        }
        // Rows are locked in key order, whatever the order of the writes
        // (their positions keep it): two change sets over the same keys
        // wait for each other instead of deadlocking.
        encoded.sort_by(|x, y| x.text.cmp(&y.text));
        let mut conn = self.conn()?;
        let mut attempt = 1;
        loop {
            match attempt_commit(&mut conn, &encoded) {
                Ok(()) => return Ok(()),
                Err(Failed::Commit(e)) => return Err(e),
                Err(Failed::Again) if attempt < ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(u64::from(attempt)));
                }
                // Contention that outlasted the retries: the caller
                // re-reads and re-decides, as for any conflict.
                Err(Failed::Again) => {
                    return Err(CommitError::Conflict(encoded[0].key.clone()));
                }
            }
        }
    }
}

/// One transaction: every write with its expectation checked by the
/// statement that writes it, then the entries; dropped (rolled back) on
/// the first failure.
fn attempt_commit(conn: &mut Client, encoded: &[Encoded<'_>]) -> Result<(), Failed> {
    let mut tx = conn.transaction()?;
    let mut gone = EntryRows::default();
    let mut added = EntryRows::default();
    for e in encoded {
        let personal = e.key.holds_personal_data();
        let old: Vec<Entry> = match (e.write.expect, &e.write.change) {
            (Expect::Absent, Change::Delete(_)) => {
                return Err(Failed::Commit(CommitError::Conflict(e.key.clone())));
            }
            (Expect::Absent, Change::Put(_)) => {
                // Over a tombstone the version continues (clause 10); a
                // key of personal data starts at its position (clause 3).
                let inserted = tx.execute_typed(
                    "INSERT INTO record (key, version, pos, value)
                     VALUES ($1,
                         CASE WHEN $4 THEN pg_current_xact_id()::text::bigint * 65536 + $2
                              ELSE 1 END,
                         pg_current_xact_id()::text::bigint * 65536 + $2, $3)
                     ON CONFLICT (key) DO UPDATE
                     SET version = record.version + 1, pos = EXCLUDED.pos, value = EXCLUDED.value
                     WHERE record.value = 'null'",
                    &[
                        (&e.text, Type::TEXT),
                        (&e.ord, Type::INT8),
                        (&e.value, Type::TEXT),
                        (&personal, Type::BOOL),
                    ],
                )?;
                if inserted != 1 {
                    return Err(Failed::Commit(CommitError::Conflict(e.key.clone())));
                }
                Vec::new()
            }
            (Expect::At(expected), change) => {
                // A version past what PostgreSQL holds was never stored.
                let (Ok(version), Ok(next)) =
                    (i64::try_from(expected.0), i64::try_from(expected.next().0))
                else {
                    return Err(Failed::Commit(CommitError::Conflict(e.key.clone())));
                };
                // The old value comes back for its entries; a row changed
                // by a transaction that committed meanwhile no longer has
                // the version, and nothing is updated.
                // A key of personal data keeps nothing when deleted.
                let row = if personal && matches!(change, Change::Delete(_)) {
                    tx.query_typed_opt(
                        "WITH old AS (
                             SELECT value FROM record
                             WHERE key = $1 AND version = $2 AND value <> 'null' FOR UPDATE
                         )
                         DELETE FROM record r USING old WHERE r.key = $1
                         RETURNING old.value",
                        &[(&e.text, Type::TEXT), (&version, Type::INT8)],
                    )?
                } else {
                    tx.query_typed_opt(
                        "WITH old AS (
                         SELECT value FROM record
                         WHERE key = $1 AND version = $2 AND value <> 'null' FOR UPDATE
                     )
                     UPDATE record r
                     SET version = $3, value = $5,
                         pos = pg_current_xact_id()::text::bigint * 65536 + $4
                     FROM old WHERE r.key = $1 AND r.version = $2
                     RETURNING old.value",
                        &[
                            (&e.text, Type::TEXT),
                            (&version, Type::INT8),
                            (&next, Type::INT8),
                            (&e.ord, Type::INT8),
                            (&e.value, Type::TEXT),
                        ],
                    )?
                };
                let Some(row) = row else {
                    return Err(Failed::Commit(CommitError::Conflict(e.key.clone())));
                };
                let stored: &str = row.try_get(0)?;
                // The record replaced must be sound: its entries go.
                entries(&decode_value(&e.key, version, stored)?.value).collect()
            }
        };
        let new: Vec<Entry> = e.write.record().into_iter().flat_map(entries).collect();
        for entry in old.iter().filter(|x| !new.contains(x)) {
            if let Some(columns) = entry_columns(*entry) {
                gone.push(columns, &e.text);
            }
        }
        for entry in new.iter().filter(|x| !old.contains(x)) {
            if let Some(columns) = entry_columns(*entry) {
                added.push(columns, &e.text);
            }
        }
    }
    if !gone.key.is_empty() || !added.key.is_empty() {
        let row = tx.query_typed_one(
            "WITH gone AS (
                 DELETE FROM entry e
                 USING unnest($1::smallint[], $2::bigint[], $3::smallint[], $4::text[])
                     AS g(kind, a, b, key)
                 WHERE e.kind = g.kind AND e.a = g.a AND e.b = g.b AND e.key = g.key
                 RETURNING 1
             ), added AS (
                 INSERT INTO entry (kind, a, b, key)
                 SELECT * FROM unnest($5::smallint[], $6::bigint[], $7::smallint[], $8::text[])
                 ON CONFLICT DO NOTHING
                 RETURNING 1
             )
             SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM added)",
            &[
                (&gone.kind, Type::INT2_ARRAY),
                (&gone.a, Type::INT8_ARRAY),
                (&gone.b, Type::INT2_ARRAY),
                (&gone.key, Type::TEXT_ARRAY),
                (&added.kind, Type::INT2_ARRAY),
                (&added.a, Type::INT8_ARRAY),
                (&added.b, Type::INT2_ARRAY),
                (&added.key, Type::TEXT_ARRAY),
            ],
        )?;
        let (deleted, inserted): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        if usize::try_from(deleted).ok() != Some(gone.key.len())
            || usize::try_from(inserted).ok() != Some(added.key.len())
        {
            // An entry the old records imply was missing, or a new one was
            // there already: the entries were changed behind the store.
            let text = gone.key.first().or(added.key.first());
            let key = match text {
                Some(text) => row_key(text)?,
                None => encoded[0].key.clone(),
            };
            return Err(Failed::Commit(CommitError::Store(StoreError::Corrupt(key))));
        }
    }
    tx.commit()?;
    Ok(())
}
