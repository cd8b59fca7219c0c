//! Imported contacts (SPEC 9): the addresses a member has in their address
//! book. A contact makes its owner eligible to invite the member who has that
//! address (SPEC 3.1), whatever that member's discoverability settings.

use crate::email::Email;
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
    /// The address, as written in the first import.
    pub email: Email,
    /// When it was first imported.
    pub imported_at: Timestamp,
}

impl Contact {
    /// A contact of `owner` imported at `imported_at`.
    #[must_use]
    pub fn new(owner: MemberId, email: Email, imported_at: Timestamp) -> Self {
        Self {
            owner,
            email,
            imported_at,
        }
    }
}
