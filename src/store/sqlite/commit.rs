//! Committing a change set in one write transaction: expectations
//! checked, records and list entries written, positions given in order.

use super::*;

impl SqliteStore {
    /// [`Store::commit_positioned`]'s body.
    pub(super) fn commit_writes(
        &self,
        writes: &[Write],
    ) -> Result<Option<ChangeCursor>, CommitError> {
        if writes.is_empty() {
            return Ok(None);
        }
        // Encode everything, and refuse a key written twice, before the
        // transaction starts.
        let mut keys = BTreeSet::new();
        let mut encoded = Vec::with_capacity(writes.len());
        for write in writes {
            let key = write.key();
            if !keys.insert(key.clone()) {
                return Err(CommitError::Conflict(key));
            }
            let text = key_text(&key)?;
            let value = match write.record() {
                Some(record) => serde_json::to_string(record)
                    .map_err(|e| CommitError::Store(StoreError::Backend(Box::new(e))))?,
                None => TOMBSTONE.to_owned(),
            };
            encoded.push((write, key, text, value));
        }
        let mut conn = self.lock();
        let tx = Self::write_transaction(&mut conn)?;
        // Positions are taken under the write lock, so they become visible
        // in order (clause 7).
        let mut position = last_position(&tx)?;
        let mut vacated = false;
        for (write, key, text, value) in encoded {
            position = next_position(position)?;
            let personal = key.holds_personal_data();
            // The entries the record had, to replace with its new ones.
            let old: Vec<Entry> = match (write.expect, &write.change) {
                (Expect::Absent, Change::Delete(_)) => return Err(CommitError::Conflict(key)),
                (Expect::Absent, Change::Put(_)) => {
                    // Clause 3: a key of personal data starts at its
                    // position, above any version it had before deletion.
                    let first = if personal { position } else { 1 };
                    let inserted = tx
                        .prepare_cached(
                            "INSERT INTO record (key, version, position, value, checksum)
                             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO NOTHING",
                        )
                        .map_err(commit_failed)?
                        .execute(params![
                            text,
                            first,
                            position,
                            value,
                            record_checksum(&text, first, position, &value)
                        ])
                        .map_err(commit_failed)?;
                    if inserted != 1 {
                        // Only a tombstone counts as absent: the record
                        // continues from its version (clause 10).
                        let tombstone: Option<i64> = tx
                            .prepare_cached(
                                "SELECT version FROM record WHERE key = ?1 AND value = ?2",
                            )
                            .map_err(commit_failed)?
                            .query_row(params![text, TOMBSTONE], |r| r.get(0))
                            .optional()
                            .map_err(commit_failed)?;
                        let Some(was) = tombstone else {
                            // Dropping the transaction rolls everything back.
                            return Err(CommitError::Conflict(key));
                        };
                        rewrite(&tx, &key, &text, was, position, &value)?;
                    }
                    Vec::new()
                }
                (Expect::At(expected), change) => {
                    // A version past what SQLite holds was never stored.
                    let Ok(expected) = i64::try_from(expected.0) else {
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
                    // The record replaced must be sound (and no tombstone):
                    // its entries are replaced by the new one's.
                    let Some(old) = decode_live(&key, &stored).map_err(CommitError::Store)? else {
                        return Err(CommitError::Conflict(key));
                    };
                    if personal && matches!(change, Change::Delete(_)) {
                        // Nothing stays (clause 10); the position stays
                        // taken (below).
                        tx.prepare_cached("DELETE FROM record WHERE key = ?1")
                            .map_err(commit_failed)?
                            .execute([&text])
                            .map_err(commit_failed)?;
                        vacated = true;
                    } else {
                        rewrite(&tx, &key, &text, expected, position, &value)?;
                    }
                    entries(&old.value).collect()
                }
            };
            let new: Vec<Entry> = write.record().into_iter().flat_map(entries).collect();
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
        if vacated && position > read_meta(&tx, "trimmed_position")? {
            // A vacated position is never given again (clause 7).
            write_meta(&tx, "trimmed_position", position)?;
        }
        tx.commit().map_err(commit_failed)?;
        let last = u64::try_from(position)
            .map_err(|_| CommitError::Store(unreadable(format!("position {position}"))))?;
        Ok(Some(ChangeCursor::new(last)))
    }
}

/// Rewrites the row under `key` at version `was` (a record or a
/// tombstone) with `value` at the next version and `position`.
fn rewrite(
    tx: &Transaction<'_>,
    key: &Key,
    text: &str,
    was: i64,
    position: i64,
    value: &str,
) -> Result<(), CommitError> {
    let Some(next) = was.checked_add(1) else {
        return Err(CommitError::Conflict(key.clone()));
    };
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
            record_checksum(text, next, position, value),
            text,
            was
        ])
        .map_err(commit_failed)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(CommitError::Conflict(key.clone()))
    }
}
