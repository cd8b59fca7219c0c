//! A position in a store's change feed: a value below the records, so that
//! the outbox record and the store can both name it.

use serde::{Deserialize, Serialize};

/// A position in a store's change feed (see [`Store`](crate::Store), clause 7). Cursors
/// are ordered: a later position compares greater.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ChangeCursor(u64);

impl ChangeCursor {
    /// Before the first position: following the feed from here yields every
    /// record.
    pub const START: Self = Self(0);

    /// The cursor at `position`.
    #[must_use]
    pub const fn new(position: u64) -> Self {
        Self(position)
    }

    /// Its position.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for ChangeCursor {
    /// Its position in decimal (`"17"`): the wire form. Its serde form stays
    /// the number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

crate::page::cursor_text!(ChangeCursor, "change", |s| s.parse().ok().map(ChangeCursor));
