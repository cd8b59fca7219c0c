//! The open-invitation entry lists: kept in step by each commit, and read
//! back checked against their stored count and digest.

use super::*;

/// Adds (`sign` 1) or removes (`sign` -1) an entry row and its share of
/// its list's count and digest.
pub(super) fn change_entry(
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
    pub(super) fn listed(
        &self,
        kind: &str,
        member: MemberId,
        role: Role,
        sample: &Key,
        derived: impl Fn(&Record) -> bool,
    ) -> Result<Vec<Record>, StoreError> {
        let (a, b) = (bits(member.get()), role_code(role));
        let mut conn = self.reader()?;
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
