//! Records as JSON text, shared by the SQL stores: a key's one spelling,
//! and the checked decoding of a stored value (exactly the JSON the record
//! serialises to, under its own key).

use crate::error::StoreError;
use crate::record::{Key, Record, Version, Versioned};

/// The JSON text of `key`: the primary key of a SQL store's record row.
pub(crate) fn key_text(key: &Key) -> Result<String, StoreError> {
    serde_json::to_string(key).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The key a row's key text names, checked to be its one spelling (or
/// `get` would miss it); `None` when the text is no key at all.
pub(crate) fn parse_key(text: &str) -> Result<Option<Key>, StoreError> {
    match serde_json::from_str::<Key>(text) {
        Ok(key) if key_text(&key)? == text => Ok(Some(key)),
        Ok(key) => Err(StoreError::Corrupt(key)),
        Err(_) => Ok(None),
    }
}

/// The stored value of a deletion's tombstone (clause 10): JSON `null`,
/// which no record serialises to.
pub(crate) const TOMBSTONE: &str = "null";

/// What a row holds: a record ([`decode_value`]), or `None` for a
/// tombstone.
pub(crate) fn decode_stored(
    key: &Key,
    version: i64,
    value: &str,
) -> Result<Versioned<Option<Record>>, StoreError> {
    if value == TOMBSTONE {
        let version = u64::try_from(version)
            .ok()
            .filter(|v| *v > Version::FIRST.0)
            .ok_or_else(|| StoreError::Corrupt(key.clone()))?;
        if key.holds_personal_data() {
            // Such keys keep no tombstone.
            return Err(StoreError::Corrupt(key.clone()));
        }
        return Ok(Versioned {
            version: Version(version),
            value: None,
        });
    }
    let read = decode_value(key, version, value)?;
    Ok(Versioned {
        version: read.version,
        value: Some(read.value),
    })
}

/// Decodes the stored `value` at `version` read under `key`: a version of
/// at least 1, JSON that decodes through the validating parsers to a
/// record that serialises back to exactly `value` and belongs under `key`;
/// else [`StoreError::Corrupt`] naming `key`.
pub(crate) fn decode_value(
    key: &Key,
    version: i64,
    value: &str,
) -> Result<Versioned<Record>, StoreError> {
    let corrupt = || StoreError::Corrupt(key.clone());
    let version = u64::try_from(version)
        .ok()
        .filter(|v| *v >= Version::FIRST.0)
        .ok_or_else(corrupt)?;
    let record: Record = serde_json::from_str(value).map_err(|_| corrupt())?;
    // What serde would accept but not have written: an unknown field
    // (ignored), a missing `Option` (defaulted to `None`), another spelling
    // of a value. Stored JSON is always what `commit` wrote.
    if serde_json::to_string(&record).ok().as_deref() != Some(value) {
        return Err(corrupt());
    }
    if record.key() != *key {
        return Err(corrupt());
    }
    Ok(Versioned {
        version: Version(version),
        value: record,
    })
}
