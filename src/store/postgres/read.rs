//! Reads by key and of the entry lists, and [`Store::gather`]'s one
//! statement that makes several of them in one round trip: each read's
//! rows are decoded and checked here, whichever statement fetched them.

use super::*;
use crate::store::{Gather, Gathered};

/// A send's reads in one statement, each part's rows tagged with its
/// number: the records under `$1`, the blocks of `$2` in the roles `$3`,
/// the open invitations of `$4` in the roles `$5` (an empty role list
/// reads nothing). The kinds are [`BLOCK`] and [`OPEN`].
const GATHER: &str = "SELECT 0::int2, key, version, value, 0::int2 FROM record WHERE key = ANY ($1)
     UNION ALL
     SELECT 1::int2, e.key, r.version, r.value, e.b FROM entry e LEFT JOIN record r ON r.key = e.key
     WHERE e.kind = 1 AND e.a = $2 AND e.b = ANY ($3)
     UNION ALL
     SELECT 2::int2, e.key, r.version, r.value, e.b FROM entry e LEFT JOIN record r ON r.key = e.key
     WHERE e.kind = 0 AND e.a = $4 AND e.b = ANY ($5)";

/// One entry list's rows for `member` in `roles`.
const LISTED: &str =
    "SELECT e.key, r.version, r.value, e.b FROM entry e LEFT JOIN record r ON r.key = e.key
     WHERE e.kind = $1 AND e.a = $2 AND e.b = ANY ($3)";

/// A row of an entry list: the entry's key, its record's version and
/// value (none when no record exists), the role code.
type ListedRow = (String, Option<i64>, Option<String>, i16);

/// A row of a read by key: key text, version, value.
type KeyedRow = (String, i64, String);

impl PostgresStore {
    pub(super) fn read_many(
        &self,
        keys: &[Key],
    ) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
        let texts = keys.iter().map(key_text).collect::<Result<Vec<_>, _>>()?;
        let rows = self
            .conn()?
            .query_typed(
                "SELECT key, version, value FROM record WHERE key = ANY($1)",
                &[(&texts, Type::TEXT_ARRAY)],
            )
            .map_err(failed)?;
        let rows = rows
            .iter()
            .map(|r| keyed_row(r, 0))
            .collect::<Result<_, _>>()?;
        keyed(keys, &texts, rows)
    }

    /// The rows of the entry list `kind` of `member` in `roles`.
    fn listed(
        &self,
        kind: i16,
        member: MemberId,
        roles: &[Role],
    ) -> Result<Vec<ListedRow>, StoreError> {
        let codes: Vec<i16> = roles.iter().map(|&r| role_code(r)).collect();
        let rows = self
            .conn()?
            .query_typed(
                LISTED,
                &[
                    (&kind, Type::INT2),
                    (&bits(member.get()), Type::INT8),
                    (&codes, Type::INT2_ARRAY),
                ],
            )
            .map_err(failed)?;
        rows.iter().map(|r| listed_row(r, 0)).collect()
    }

    /// The standing blocks around `member` in `roles`, one round trip.
    pub(super) fn blocks_in(
        &self,
        member: MemberId,
        roles: &[Role],
    ) -> Result<BothWays, StoreError> {
        blocks_of(member, roles, self.listed(BLOCK, member, roles)?)
    }

    /// The open invitations of `member` in `role`, one round trip.
    pub(super) fn open_of(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<Invitation>, StoreError> {
        invitations_of(member, role, self.listed(OPEN, member, &[role])?)
    }

    /// [`Store::gather`]: one statement, one round trip.
    pub(super) fn gather_at_once(&self, reads: &Gather<'_>) -> Result<Gathered, StoreError> {
        const BOTH: [Role; 2] = [Role::Sender, Role::Recipient];
        let texts = reads
            .keys
            .iter()
            .map(key_text)
            .collect::<Result<Vec<_>, _>>()?;
        // A part not asked for is asked with no roles: it reads nothing.
        let (blocker, block_roles): (MemberId, &[Role]) = match reads.blocks_both_ways {
            Some(member) => (member, &BOTH),
            None => (MemberId::new(0), &[]),
        };
        let (inviter, invite_role) = match reads.open_invitations {
            Some((member, role)) => (member, Some(role)),
            None => (MemberId::new(0), None),
        };
        let block_codes: Vec<i16> = block_roles.iter().map(|&r| role_code(r)).collect();
        let invite_codes: Vec<i16> = invite_role.iter().map(|&r| role_code(r)).collect();
        let rows = self
            .conn()?
            .query_typed(
                GATHER,
                &[
                    (&texts, Type::TEXT_ARRAY),
                    (&bits(blocker.get()), Type::INT8),
                    (&block_codes, Type::INT2_ARRAY),
                    (&bits(inviter.get()), Type::INT8),
                    (&invite_codes, Type::INT2_ARRAY),
                ],
            )
            .map_err(failed)?;
        let (mut records, mut blocks, mut invitations) = (Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            match row.try_get::<_, i16>(0).map_err(failed)? {
                0 => records.push(keyed_row(row, 1)?),
                1 => blocks.push(listed_row(row, 1)?),
                2 => invitations.push(listed_row(row, 1)?),
                part => return Err(damaged(format!("a gathered row of part {part}"))),
            }
        }
        Ok(Gathered {
            records: keyed(reads.keys, &texts, records)?,
            blocks: blocks_of(blocker, block_roles, blocks)?,
            open_invitations: match invite_role {
                Some(role) => invitations_of(inviter, role, invitations)?,
                None => Vec::new(),
            },
        })
    }
}

/// A [`KeyedRow`] from `row`'s columns starting at `from`.
fn keyed_row(row: &postgres::Row, from: usize) -> Result<KeyedRow, StoreError> {
    let get = || {
        Ok((
            row.try_get(from)?,
            row.try_get(from + 1)?,
            row.try_get(from + 2)?,
        ))
    };
    get().map_err(|e: postgres::Error| failed(e))
}

/// A [`ListedRow`] from `row`'s columns starting at `from`.
fn listed_row(row: &postgres::Row, from: usize) -> Result<ListedRow, StoreError> {
    let get = || {
        Ok((
            row.try_get(from)?,
            row.try_get(from + 1)?,
            row.try_get(from + 2)?,
            row.try_get(from + 3)?,
        ))
    };
    get().map_err(|e: postgres::Error| failed(e))
}

/// The records under `keys` (whose texts are `texts`) from the rows read
/// by key, in the order of `keys`.
fn keyed(
    keys: &[Key],
    texts: &[String],
    rows: Vec<KeyedRow>,
) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
    let mut found = std::collections::BTreeMap::new();
    for (text, version, value) in &rows {
        // Only the rows asked for (a damaged index could lead elsewhere).
        if !texts.iter().any(|t| t == text) {
            return Err(StoreError::Corrupt(row_key(text)?));
        }
        found.insert(text.as_str(), (*version, value.as_str()));
    }
    keys.iter()
        .zip(texts)
        .map(|(key, text)| match found.get(text.as_str()) {
            // A tombstone reads as absent, as in `get`.
            Some(&(version, value)) => decode_stored(key, version, value).map(|read| {
                read.value.map(|value| Versioned {
                    version: read.version,
                    value,
                })
            }),
            None => Ok(None),
        })
        .collect()
}

/// The records of an entry list's rows in `roles`, each with its role and
/// checked to imply its entry (`derived`).
fn decode_listed(
    rows: Vec<ListedRow>,
    roles: &[Role],
    derived: impl Fn(&Record, Role) -> bool,
) -> Result<Vec<(Role, Record)>, StoreError> {
    let mut found = Vec::with_capacity(rows.len());
    for (text, version, value, code) in rows {
        let key = row_key(&text)?;
        // An entry whose record does not exist, or of another role.
        let (Some(version), Some(value), Some(&role)) = (
            version,
            value,
            roles.iter().find(|&&r| role_code(r) == code),
        ) else {
            return Err(StoreError::Corrupt(key));
        };
        let record = decode_value(&key, version, &value)?.value;
        if !derived(&record, role) {
            return Err(StoreError::Corrupt(key));
        }
        found.push((role, record));
    }
    Ok(found)
}

/// The standing blocks around `member` in `roles`, from the block list's rows.
fn blocks_of(
    member: MemberId,
    roles: &[Role],
    rows: Vec<ListedRow>,
) -> Result<BothWays, StoreError> {
    let listed = decode_listed(rows, roles, |record, role| {
        matches!(record, Record::Block(_))
            && entries(record)
                .any(|e| matches!(e, Entry::Block(m, r, _) if m == member && r == role))
    })?;
    let mut both = BothWays::default();
    for (role, record) in listed {
        if let Record::Block(b) = record {
            match role {
                Role::Sender => both.made.push(b),
                Role::Recipient => both.received.push(b),
            }
        }
    }
    Ok(both)
}

/// The open invitations of `member` in `role`, from the open list's rows.
fn invitations_of(
    member: MemberId,
    role: Role,
    rows: Vec<ListedRow>,
) -> Result<Vec<Invitation>, StoreError> {
    let listed = decode_listed(rows, &[role], |record, role| {
        matches!(record, Record::Invitation(inv)
            if entries(record).any(|e| e == Entry::Open(member, role, inv.id)))
    })?;
    Ok(listed
        .into_iter()
        .filter_map(|(_, record)| match record {
            Record::Invitation(inv) => Some(inv),
            _ => None,
        })
        .collect())
}
