//! Rows of the `record` table: keys as text, key ranges, checksums, and
//! the checked decoding of a row back into a record.

use super::*;
pub(super) use crate::store::json::{TOMBSTONE, decode_stored, decode_value, key_text, parse_key};

/// The checksum of a record row: a CRC-32 over every column, each framed
/// so that no two rows give the same bytes.
pub(super) fn record_checksum(key: &str, version: i64, position: i64, value: &str) -> i64 {
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
pub(super) fn meta_checksum(name: &str, value: i64) -> i64 {
    let mut h = crc32fast::Hasher::new();
    h.update(b"pronet meta\0");
    h.update(&(name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update(&value.to_le_bytes());
    i64::from(h.finalize())
}

/// An entry's contribution to its list's digest (the digest is the sum of
/// its entries' hashes).
pub(super) fn entry_hash(key: &str) -> i64 {
    let mut h = crc32fast::Hasher::new();
    h.update(b"pronet entry\0");
    h.update(key.as_bytes());
    i64::from(h.finalize())
}

/// A `u64` in an `INTEGER` column, bit for bit (ids above `i64::MAX` come
/// out negative, and back exactly).
pub(super) fn bits(v: u64) -> i64 {
    i64::from_ne_bytes(v.to_ne_bytes())
}

/// The range of key texts of one kind of key, as `(from, to)` (`to`
/// excluded): keys serialise as `{"Kind":...}`, so one kind's keys are
/// those from `{"Kind":` up to `{"Kind;`, a primary-key range scan.
pub(super) fn kind_range(sample: &Key) -> Result<(String, String), StoreError> {
    let text = key_text(sample)?;
    let end = text
        .find(':')
        .ok_or_else(|| unreadable(format!("key {text}")))?;
    let from = text[..=end].to_owned();
    let to = format!("{};", &text[..end]);
    Ok((from, to))
}

pub(super) fn role_code(role: Role) -> i64 {
    match role {
        Role::Sender => 0,
        Role::Recipient => 1,
    }
}

/// The columns of an entry this store keeps (the open-invitation and block
/// lists): its kind and two integers. Members and connections are read from their
/// records, so their entries are not stored.
pub(super) fn entry_columns(entry: Entry) -> Option<(&'static str, i64, i64)> {
    match entry {
        Entry::Open(member, role, _) => Some(("open", bits(member.get()), role_code(role))),
        Entry::Block(member, role, _) => Some(("block", bits(member.get()), role_code(role))),
        Entry::Connected(_) | Entry::Member(_) => None,
    }
}

/// The columns of a record row, in [`RawRow`]'s order.
pub(super) const ROW: &str = "key, version, position, value, checksum";

/// A stored row as it comes.
pub(super) struct RawRow {
    pub(super) key: String,
    pub(super) version: i64,
    pub(super) position: i64,
    pub(super) value: String,
    pub(super) checksum: i64,
}

impl RawRow {
    /// The row from columns `at..at + 5` (in [`ROW`]'s order).
    pub(super) fn read(row: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
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

pub(super) fn raw_row(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    RawRow::read(row, 0)
}

/// Decodes and validates a record row read under `key`: the checksum, then
/// the version, the JSON (exactly as the record serialises), the validating
/// parsers, and the key.
pub(super) fn decode(key: &Key, row: &RawRow) -> Result<Versioned<Record>, StoreError> {
    if !row.sealed() {
        return Err(StoreError::Corrupt(key.clone()));
    }
    decode_value(key, row.version, &row.value)
}

/// [`decode`], but a tombstone (clause 10) is a `None` value.
pub(super) fn decode_change(
    key: &Key,
    row: &RawRow,
) -> Result<Versioned<Option<Record>>, StoreError> {
    if !row.sealed() {
        return Err(StoreError::Corrupt(key.clone()));
    }
    decode_stored(key, row.version, &row.value)
}

/// [`decode`], but a tombstone (clause 10) is `None`.
pub(super) fn decode_live(
    key: &Key,
    row: &RawRow,
) -> Result<Option<Versioned<Record>>, StoreError> {
    let read = decode_change(key, row)?;
    Ok(read.value.map(|value| Versioned {
        version: read.version,
        value,
    }))
}

/// The key a row's key text names, checked to be its one spelling (or
/// `get` would miss it).
pub(super) fn row_key(text: &str) -> Result<Key, StoreError> {
    parse_key(text)?.ok_or_else(|| unreadable(format!("key {text:?}")))
}

/// Decodes and validates a row whose key is known only as text.
pub(super) fn decode_row(row: &RawRow) -> Result<Versioned<Record>, StoreError> {
    let key = row_key(&row.key)?;
    decode(&key, row)
}

/// The position after `position`, for the feed.
pub(super) fn next_position(position: i64) -> Result<i64, CommitError> {
    position
        .checked_add(1)
        .ok_or_else(|| CommitError::Store(unreadable("change feed positions exhausted")))
}

/// Every record of one kind (a primary-key range scan), checked.
pub(super) fn records_of_kind(conn: &Connection, sample: &Key) -> Result<Vec<Record>, StoreError> {
    let (from, to) = kind_range(sample)?;
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {ROW} FROM record WHERE key >= ?1 AND key < ?2"
        ))
        .map_err(failed)?;
    let rows = stmt.query_map([from, to], raw_row).map_err(failed)?;
    let mut found = Vec::new();
    for row in rows {
        let row = row.map_err(failed)?;
        if let Some(read) = decode_live(&row_key(&row.key)?, &row)? {
            found.push(read.value);
        }
    }
    Ok(found)
}
