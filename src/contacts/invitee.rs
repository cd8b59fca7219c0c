//! The records of invitations to join: one [`Invitee`] per address,
//! with the invitations it received and its opt-out.

use crate::email::Email;
use crate::id::{InvitationId, MemberId};
use crate::note::Note;
use crate::policy::Policy;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What became of an invitation to join.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum JoinState {
    /// Waiting for the address to join (or past its expiry).
    Pending,
    /// The address joined and the invitation became an ordinary invitation
    /// with the same id (or connected the two at once).
    Delivered,
    /// The address joined but a rule of sending refused the invitation.
    Dropped,
    /// The sender withdrew it before it was delivered.
    Withdrawn,
}

/// One invitation to join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JoinInvitation {
    /// Its id, from the same sequence as ordinary invitations; the ordinary
    /// invitation it becomes keeps it.
    pub id: InvitationId,
    /// Who invited.
    pub sender: MemberId,
    /// The address as the sender wrote it (for delivery).
    pub email: Email,
    /// When.
    pub sent_at: Timestamp,
    /// What became of it.
    pub state: JoinState,
    /// The sender's note, readable by the sender and the person invited
    /// (in the invitation email, and once delivered, in the invitation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
}

impl JoinInvitation {
    /// Pending and not expired at `now`.
    #[must_use]
    pub fn is_live(&self, policy: &Policy, now: Timestamp) -> bool {
        self.state == JoinState::Pending && now < policy.expires_at(self.sent_at)
    }
}

/// Everything about one address as a target of invitations to join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Invitee {
    /// The address (its canonical key is the record's key).
    pub email: Email,
    /// Every invitation to join it, oldest first; at most the policy's cap.
    pub invitations: Vec<JoinInvitation>,
    /// When the address opted out of invitations to join, if it did.
    pub opted_out: Option<Timestamp>,
}

impl Invitee {
    /// An address nobody invited yet.
    #[must_use]
    pub fn new(email: Email) -> Self {
        Self {
            email,
            invitations: Vec::new(),
            opted_out: None,
        }
    }

    /// The invitations that joining with this address delivers now:
    /// pending, not expired, and only if the address did not opt out.
    pub fn deliverable<'a>(
        &'a self,
        policy: &'a Policy,
        now: Timestamp,
    ) -> impl Iterator<Item = &'a JoinInvitation> + 'a {
        self.invitations
            .iter()
            .filter(move |i| self.opted_out.is_none() && i.is_live(policy, now))
    }

    /// The latest instant recorded in it.
    #[must_use]
    pub fn latest(&self) -> Option<Timestamp> {
        self.invitations
            .iter()
            .map(|i| i.sent_at)
            .chain(self.opted_out)
            .max()
    }
}
