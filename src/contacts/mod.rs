//! Contacts: imported address books, matching them against
//! members, and invitations to join for people who are not members yet.
//!
//! * [`import`]: the pure parser, bytes to a [`ParsedBook`].
//! * [`Contact`]: one address in one member's address book, stored once per
//!   owner and canonical address, so that importing again changes nothing.
//!   A contact makes its owner eligible to invite the member who has that
//!   address, whatever that member's discoverability settings.
//! * [`findable`](decide::findable): the one rule deciding which member an importer may be
//!   shown for an address, used by the import report and by
//!   [`Network::invite_to_join`](crate::Network::invite_to_join).
//! * [`join`]: invitations to join, their per-address record and decisions.
//!
//! # Matching is no membership oracle (RELIABILITY B7)
//!
//! An import reports an address as a member's only when [`findable`](decide::findable) says
//! so: the address belongs to an active member who lets others find them by
//! it, and no block stands between the two, either way. Every other address
//! (nobody's, an undiscoverable member's, a member on either side of a
//! block, a deactivated member's) gets exactly the same entry,
//! [`NonMember`], and the import writes and emits exactly the same things
//! for it. Invitations to join follow the same rule (see [`join`]).

pub mod decide;
pub mod import;
mod invitee;

pub mod join;

pub use import::{
    BadRow, ColumnMapping, Entry, Format, ImportError, ImportLimits, LimitError, ParsedBook,
    Problem, Source, parse,
};

pub use invitee::{Invitee, JoinInvitation, JoinState};

use crate::email::Email;
use crate::graph::Degree;
use crate::id::MemberId;

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One address in one member's imported contacts. Stored once per owner and
/// canonical address, so importing the same address again changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contact {
    /// Whose address book it is in.
    pub owner: MemberId,
    /// The address, as written in the first import (for delivery).
    pub email: Email,
    /// When it was first imported.
    pub imported_at: Timestamp,
    /// The name the first import gave it, if any (for display to the owner
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Contact {
    /// A contact of `owner` imported at `imported_at`, without a name.
    #[must_use]
    pub fn new(owner: MemberId, email: Email, imported_at: Timestamp) -> Self {
        Self {
            owner,
            email,
            imported_at,
            name: None,
        }
    }

    /// The same contact with a name.
    #[must_use]
    pub fn with_name(self, name: Option<String>) -> Self {
        Self { name, ..self }
    }
}

/// What an import found, for the member who imported.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// What the file was read as.
    pub source: Source,
    /// Addresses new to the address book (0 when the same file is imported
    /// again).
    pub added: usize,
    /// Addresses of members the importer may find by them, in file order.
    pub members: Vec<MemberMatch>,
    /// Every other address, in file order.
    pub not_members: Vec<NonMember>,
    /// Rows that gave no address, with their lines and reasons.
    pub bad_rows: Vec<BadRow>,
    /// Addresses that repeated an earlier one in the file.
    pub duplicates: usize,
}

/// An imported address that belongs to a member the importer may find.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberMatch {
    /// The line it was read from.
    pub line: u64,
    /// The address, as written in the file.
    pub email: Email,
    /// The name in the file, if any.
    pub name: Option<String>,
    /// The member.
    pub member: MemberId,
    /// Their degree as the importer sees it ([`Degree::Yourself`] for the
    /// importer's own address).
    pub degree: Degree,
}

/// An imported address that is not a member's the importer may find: nobody
/// has it, or its owner is not to be found by it (RELIABILITY B7).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NonMember {
    /// The line it was read from.
    pub line: u64,
    /// The address, as written in the file.
    pub email: Email,
    /// The name in the file, if any.
    pub name: Option<String>,
    /// Whether the importer has already invited this address to join.
    pub invited: bool,
}
