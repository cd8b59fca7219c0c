//! Commits: one transaction per change set, expected versions checked by
//! the statements that write, entries kept in step, deadlocks and
//! serialization failures retried.

use super::*;
use crate::change::Expect;
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
    /// Applies `writes` (not empty) in one transaction, or none of them,
    /// and answers the position of the last write.
    pub(super) fn commit_writes(&self, writes: &[Write]) -> Result<ChangeCursor, CommitError> {
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
                Ok(base) => return last_position(base, encoded.len()),
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

/// The position of the last of `writes` writes, given the transaction's
/// first position minus one.
fn last_position(base: i64, writes: usize) -> Result<ChangeCursor, CommitError> {
    i64::try_from(writes)
        .ok()
        .and_then(|n| base.checked_add(n))
        .and_then(|last| u64::try_from(last).ok())
        .map(ChangeCursor::new)
        .ok_or_else(|| CommitError::Store(damaged(format!("a position after {base}"))))
}

/// The statement that applies every write of a change set, each checked
/// against its expectation, in a transaction of its own (schema step 3,
/// `pronet_apply`): `$1..$4` are parallel columns (key text, expected
/// version or 0 for absent, place in the change set, value), sorted by key.
/// Rows are written in key order, whatever the order of the writes (their
/// positions keep it), so that two change sets over the same keys wait for
/// each other instead of deadlocking; a row changed by a transaction that
/// committed meanwhile no longer has the expected version and is not
/// updated, and a key inserted meanwhile is not inserted. A tombstone
/// (value `null`, clause 10) never matches an expected version; an insert
/// over one continues its version. `$5` says which keys hold personal data:
/// deleting one removes its row (and raises the trimmed position past it:
/// the store keeps a vacated position apart, clause 7), and creating one
/// starts its version at its position. `$6..$9` are the entries of the new
/// records (kind, member, role, key): a rewritten or deleted record's other
/// entries go; the new ones are added. When any write was not applied (its
/// expectation failed), the function raises `CONFLICT` naming the first
/// such key in the change set's order, and the whole transaction rolls
/// back. Answers the transaction's positions' base: its `i`-th write is at
/// base + `i`.
const APPLY: &str = "SELECT pronet_apply($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// One call, its own transaction ([`APPLY`]): every write with its
/// expectation checked, and the entries, or nothing. Answers the
/// transaction's positions' base (its id times
/// `POSITIONS_PER_TRANSACTION`): its `i`-th write is at base + `i`.
fn attempt_commit(conn: &mut Conn, encoded: &[Encoded<'_>]) -> Result<i64, Failed> {
    let mut expected = Vec::with_capacity(encoded.len());
    let mut fresh = EntryRows::default();
    for e in encoded {
        expected.push(match e.write.expect {
            // A deletion expects a record (clause 10).
            Expect::Absent if e.write.record().is_none() => {
                return Err(Failed::Commit(CommitError::Conflict(e.key.clone())));
            }
            Expect::Absent => 0,
            // A version past what PostgreSQL holds was never stored.
            Expect::At(v) => i64::try_from(v.0)
                .map_err(|_| Failed::Commit(CommitError::Conflict(e.key.clone())))?,
        });
        for entry in e.write.record().into_iter().flat_map(entries) {
            if let Some(columns) = entry_columns(entry) {
                fresh.push(columns, &e.text);
            }
        }
    }
    let texts: Vec<&str> = encoded.iter().map(|e| e.text.as_str()).collect();
    let ords: Vec<i64> = encoded.iter().map(|e| e.ord).collect();
    let values: Vec<&str> = encoded.iter().map(|e| e.value.as_str()).collect();
    let personal: Vec<bool> = encoded
        .iter()
        .map(|e| e.key.holds_personal_data())
        .collect();
    let row = conn
        .query_typed_one(
            APPLY,
            &[
                (&texts, Type::TEXT_ARRAY),
                (&expected, Type::INT8_ARRAY),
                (&ords, Type::INT8_ARRAY),
                (&values, Type::TEXT_ARRAY),
                (&personal, Type::BOOL_ARRAY),
                (&fresh.kind, Type::INT2_ARRAY),
                (&fresh.a, Type::INT8_ARRAY),
                (&fresh.b, Type::INT2_ARRAY),
                (&fresh.key, Type::TEXT_ARRAY),
            ],
        )
        .map_err(|e| conflict(&e).map_or_else(|| Failed::from(e), Failed::Commit))?;
    let base: Option<i64> = row.try_get(0)?;
    base.ok_or_else(|| Failed::from(damaged("a commit answered no position")))
}

/// The conflict `pronet_apply` raised, naming its key.
fn conflict(e: &postgres::Error) -> Option<CommitError> {
    let db = e.as_db_error()?;
    if db.code().code() != CONFLICT {
        return None;
    }
    Some(match row_key(db.message()) {
        Ok(key) => CommitError::Conflict(key),
        Err(e) => CommitError::Store(e),
    })
}
