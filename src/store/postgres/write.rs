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

/// A change set, encoded before its transaction starts: the parallel
/// columns of `pronet_apply` (see [`APPLY`]), sorted by key.
pub(super) struct ChangeSet {
    texts: Vec<String>,
    expected: Vec<i64>,
    /// Each write's place in the change set (1-based): its position's
    /// low bits.
    ords: Vec<i64>,
    values: Vec<String>,
    personal: Vec<bool>,
    entries: EntryRows,
    /// The key of its first write in key order: the one a contention that
    /// outlasted the retries names.
    first: Key,
}

impl ChangeSet {
    /// Its number of writes.
    pub(super) fn len(&self) -> usize {
        self.texts.len()
    }

    /// The place of its last write, the highest.
    fn last(&self) -> i64 {
        self.ords.iter().copied().max().unwrap_or(0)
    }
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

    fn extend(&mut self, other: &Self) {
        self.kind.extend(&other.kind);
        self.a.extend(&other.a);
        self.b.extend(&other.b);
        self.key.extend(other.key.iter().cloned());
    }
}

/// Encodes `writes` (not empty) as a change set, refusing a key written
/// twice and a deletion of an absent record as conflicts.
pub(super) fn prepare(writes: &[Write]) -> Result<ChangeSet, CommitError> {
    if writes.len() >= 1 << 16 {
        return Err(CommitError::Store(failed(TooManyWrites(writes.len()))));
    }
    let mut keys = BTreeSet::new();
    let mut encoded = Vec::with_capacity(writes.len());
    for (ord, write) in (1..).zip(writes) {
        let key = write.key();
        if !keys.insert(key.clone()) {
            return Err(CommitError::Conflict(key));
        }
        let expected = match write.expect {
            // A deletion expects a record (clause 10).
            Expect::Absent if write.record().is_none() => {
                return Err(CommitError::Conflict(key));
            }
            Expect::Absent => 0,
            // A version past what PostgreSQL holds was never stored.
            Expect::At(v) => i64::try_from(v.0).map_err(|_| CommitError::Conflict(key.clone()))?,
        };
        let text = key_text(&key)?;
        let value = match write.record() {
            Some(record) => serde_json::to_string(record).map_err(failed)?,
            None => TOMBSTONE.to_owned(),
        };
        encoded.push((text, key, ord, expected, value, write));
    }
    // Rows are locked in key order, whatever the order of the writes
    // (their positions keep it): two change sets over the same keys wait
    // for each other instead of deadlocking.
    encoded.sort_by(|x, y| x.0.cmp(&y.0));
    let mut set = ChangeSet {
        texts: Vec::with_capacity(writes.len()),
        expected: Vec::with_capacity(writes.len()),
        ords: Vec::with_capacity(writes.len()),
        values: Vec::with_capacity(writes.len()),
        personal: Vec::with_capacity(writes.len()),
        entries: EntryRows::default(),
        first: encoded[0].1.clone(),
    };
    for (text, key, ord, expected, value, write) in encoded {
        for entry in write.record().into_iter().flat_map(entries) {
            if let Some(columns) = entry_columns(entry) {
                set.entries.push(columns, &text);
            }
        }
        set.personal.push(key.holds_personal_data());
        set.texts.push(text);
        set.expected.push(expected);
        set.ords.push(ord);
        set.values.push(value);
    }
    Ok(set)
}

/// Commits `sets` in one transaction, each applied in full or not at all
/// (see [`group`](super::group)): answers each one's last position or
/// conflict. Deadlocks and serialization failures are retried.
pub(super) fn commit_sets(
    conn: &mut Conn,
    sets: &[&ChangeSet],
) -> Vec<Result<ChangeCursor, CommitError>> {
    let mut attempt = 1;
    loop {
        let outcome = match sets {
            [] => Ok(Vec::new()),
            [one] => attempt_one(conn, one).map(|base| vec![last_position(base, one.last())]),
            _ => attempt_all(conn, sets),
        };
        match outcome {
            Ok(each) => return each,
            Err(Failed::Again) if attempt < ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(u64::from(attempt)));
            }
            // Contention that outlasted the retries: the callers re-read
            // and re-decide, as for any conflict.
            Err(Failed::Again) => {
                return sets
                    .iter()
                    .map(|set| Err(CommitError::Conflict(set.first.clone())))
                    .collect();
            }
            Err(Failed::Commit(e)) => {
                return sets.iter().map(|_| Err(copy(&e))).collect();
            }
        }
    }
}

/// The error of a failed transaction, for each change set it held.
pub(super) fn copy(e: &CommitError) -> CommitError {
    match e {
        CommitError::Conflict(key) => CommitError::Conflict(key.clone()),
        CommitError::Store(StoreError::Corrupt(key)) => {
            CommitError::Store(StoreError::Corrupt(key.clone()))
        }
        CommitError::Store(other) => CommitError::Store(failed(Shared(other.to_string()))),
    }
}

/// A backend failure of a transaction that held several change sets.
#[derive(Debug, Error)]
#[error("{0}")]
struct Shared(String);

/// A number of rows as an `int` column.
fn count(n: usize) -> Result<i32, Failed> {
    i32::try_from(n).map_err(|_| Failed::from(damaged(format!("{n} rows in a change set"))))
}

/// The position of the write at place `last`, given the transaction's
/// positions' base.
fn last_position(base: i64, last: i64) -> Result<ChangeCursor, CommitError> {
    base.checked_add(last)
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
fn attempt_one(conn: &mut Conn, set: &ChangeSet) -> Result<i64, Failed> {
    let row = conn
        .query_typed_one(
            APPLY,
            &[
                (&set.texts, Type::TEXT_ARRAY),
                (&set.expected, Type::INT8_ARRAY),
                (&set.ords, Type::INT8_ARRAY),
                (&set.values, Type::TEXT_ARRAY),
                (&set.personal, Type::BOOL_ARRAY),
                (&set.entries.kind, Type::INT2_ARRAY),
                (&set.entries.a, Type::INT8_ARRAY),
                (&set.entries.b, Type::INT2_ARRAY),
                (&set.entries.key, Type::TEXT_ARRAY),
            ],
        )
        .map_err(|e| conflict(&e).map_or_else(|| Failed::from(e), Failed::Commit))?;
    let base: Option<i64> = row.try_get(0)?;
    base.ok_or_else(|| Failed::from(damaged("a commit answered no position")))
}

/// Several change sets in one transaction, each in a subtransaction of its
/// own (schema step 4, `pronet_apply_all`): the columns of all of them one
/// after the other, with each one's number of writes and entries, and its
/// places numbered on from the one before, so that each write has a
/// position of its own.
const APPLY_ALL: &str =
    "SELECT base, failed FROM pronet_apply_all($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// One call of [`APPLY_ALL`]: answers each change set's last position or
/// the conflict that rolled it back.
fn attempt_all(
    conn: &mut Conn,
    sets: &[&ChangeSet],
) -> Result<Vec<Result<ChangeCursor, CommitError>>, Failed> {
    let mut all = ChangeSet {
        texts: Vec::new(),
        expected: Vec::new(),
        ords: Vec::new(),
        values: Vec::new(),
        personal: Vec::new(),
        entries: EntryRows::default(),
        first: sets[0].first.clone(),
    };
    let (mut sizes, mut e_sizes, mut lasts) = (Vec::new(), Vec::new(), Vec::new());
    let mut before = 0_i64;
    for set in sets {
        all.texts.extend(set.texts.iter().cloned());
        all.expected.extend(&set.expected);
        all.ords.extend(set.ords.iter().map(|o| before + o));
        all.values.extend(set.values.iter().cloned());
        all.personal.extend(&set.personal);
        all.entries.extend(&set.entries);
        sizes.push(count(set.len())?);
        e_sizes.push(count(set.entries.key.len())?);
        before += set.last();
        lasts.push(before);
    }
    let row = conn.query_typed_one(
        APPLY_ALL,
        &[
            (&sizes, Type::INT4_ARRAY),
            (&e_sizes, Type::INT4_ARRAY),
            (&all.texts, Type::TEXT_ARRAY),
            (&all.expected, Type::INT8_ARRAY),
            (&all.ords, Type::INT8_ARRAY),
            (&all.values, Type::TEXT_ARRAY),
            (&all.personal, Type::BOOL_ARRAY),
            (&all.entries.kind, Type::INT2_ARRAY),
            (&all.entries.a, Type::INT8_ARRAY),
            (&all.entries.b, Type::INT2_ARRAY),
            (&all.entries.key, Type::TEXT_ARRAY),
        ],
    )?;
    let base: Option<i64> = row.try_get(0)?;
    let base = base.ok_or_else(|| Failed::from(damaged("a commit answered no position")))?;
    let each: Vec<Option<String>> = row.try_get(1)?;
    if each.len() != sets.len() {
        return Err(Failed::from(damaged("a group commit answered another count")));
    }
    Ok(each
        .into_iter()
        .zip(lasts)
        .map(|(conflict, last)| match conflict {
            None => last_position(base, last),
            Some(text) => match row_key(&text) {
                Ok(key) => Err(CommitError::Conflict(key)),
                Err(e) => Err(CommitError::Store(e)),
            },
        })
        .collect())
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
