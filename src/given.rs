//! What the unit tests beside each `decide.rs` share to state their facts
//! and read a decision: given these stored records, then exactly these
//! writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::block::decide::Between;
use crate::change::Decision;
use crate::id::{InvitationId, MemberId};
use crate::invitation::decide::SendFacts;
use crate::member::Member;
use crate::record::{Key, Version, Versioned};
use crate::time::Timestamp;

/// Ana, who acts in most scenarios.
pub(crate) const ANA: MemberId = MemberId::new(1);
/// Bo, the other member.
pub(crate) const BO: MemberId = MemberId::new(2);
/// 2026-01-01T00:00:00Z.
pub(crate) const T0: Timestamp = Timestamp::from_micros(1_767_225_600_000_000);

/// A record as first stored.
pub(crate) fn stored<T>(value: T) -> Option<Versioned<T>> {
    Some(Versioned {
        version: Version::FIRST,
        value,
    })
}

/// The keys a decision writes, in key order.
pub(crate) fn keys<O>(decision: &Decision<O>) -> Vec<Key> {
    sorted(decision.changes.writes.iter().map(|w| w.key()).collect())
}

/// `keys` in key order.
pub(crate) fn sorted(mut keys: Vec<Key>) -> Vec<Key> {
    keys.sort();
    keys
}

/// The facts of `sender`'s send to `recipient`, both stored, strangers with
/// nothing recorded between them; a new invitation takes `new_id`.
pub(crate) fn strangers(sender: Member, recipient: Member, new_id: InvitationId) -> SendFacts {
    SendFacts {
        sender: stored(sender),
        recipient: stored(recipient),
        sender_blocks: Between::default(),
        pair: None,
        open: None,
        known: None,
        sender_ledger: None,
        recipient_ledger: None,
        shared_connections: 0,
        in_contacts: false,
        outstanding: 0,
        new_id,
        join: None,
    }
}
