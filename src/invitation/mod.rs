//! Invitations: the records, their states, and (in [`decide`]) every
//! rule as a pure decision over loaded facts.

mod allowance;
pub mod decide;
mod inbox_mark;

pub use allowance::{Allowance, allowance};
pub use inbox_mark::InboxMark;

use crate::id::{InvitationId, MemberId, PairKey};
use crate::note::Note;
use crate::policy::Policy;
use crate::standing::{Answer, SendEntry, Standing};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Where an invitation stands, as stored. What each party sees of it is
/// [`Seen`], which hides what each party may not know (the sender never
/// sees an ignore or where it was delivered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Status {
    /// Waiting for the recipient.
    Pending,
    /// The recipient ignored it; to the sender it is still pending.
    Ignored(IgnoreReason),
    /// The recipient accepted: the two are connected.
    Accepted,
    /// The recipient rejected it; the sender was told and is barred.
    Rejected,
    /// The sender withdrew it.
    Withdrawn,
    /// The sender sent a newer invitation to the same person.
    Superseded,
    /// Past the policy's pending expiry without an accept or reject. Stored
    /// when the sender sends again after expiry (it replaces a stored
    /// ignore too: the recipient sees only the newest invitation);
    /// until then readers derive it from the time.
    Expired,
    /// Removed by a block between the two.
    Cancelled,
    /// The recipient ignored it, and it ended for the sender alone: the
    /// sender sees `sender_sees` (superseded, expired or cancelled), the
    /// recipient still sees their ignore. A newer send dropped after the
    /// recipient's "I don't know", which never reaches them, ends it this
    /// way, and so does a block: the recipient's answer stands, and what
    /// they see of it never depends on what the sender did since.
    EndedIgnored {
        /// The recipient's answer.
        reason: IgnoreReason,
        /// What the sender sees.
        sender_sees: Seen,
    },
    /// The recipient accepted it by inviting the sender in turn, after it
    /// had ended for the sender alone (the sender's newer invitation was
    /// dropped after the recipient's "I don't know", so to the recipient
    /// this one was still the sender's invitation): the recipient sees it
    /// accepted; the sender sees `sender_sees` (superseded), and the
    /// dropped invitation that replaced it accepted.
    EndedAccepted {
        /// What the sender sees.
        sender_sees: Seen,
    },
}

impl Status {
    /// The recipient's ignore, if it stands.
    #[must_use]
    pub fn ignored(self) -> Option<IgnoreReason> {
        match self {
            Self::Ignored(reason) | Self::EndedIgnored { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// How the recipient ignored an invitation, from the mildest answer to the
/// strongest (a later, stronger answer to an ignored invitation applies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IgnoreReason {
    /// Just ignored.
    Ignored,
    /// "I don't know this person": bars the sender, silently.
    DontKnow,
    /// Reported as spam: as "I don't know", plus a report.
    Spam,
}

impl IgnoreReason {
    /// Whether this answer bars the sender from inviting again.
    #[must_use]
    pub fn bars(self) -> bool {
        matches!(self, Self::DontKnow | Self::Spam)
    }
}

/// Whether an invitation reached the recipient's inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Delivery {
    /// In the recipient's inbox, with a notification.
    Inbox,
    /// The recipient's "who may invite me" setting did not admit the sender:
    /// it waits, without notification, in a list the recipient may open.
    Held,
    /// The recipient had said "I don't know" this sender: it never reaches
    /// the recipient. The sender sees an ordinary pending invitation.
    Dropped,
}

/// An invitation from one person to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Invitation {
    /// Its id.
    pub id: InvitationId,
    /// Who sent it.
    pub sender: MemberId,
    /// Who it is for.
    pub recipient: MemberId,
    /// The personal note, readable only by the two.
    pub note: Option<Note>,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// Where it stands.
    pub status: Status,
    /// Whether it reached the recipient.
    pub delivery: Delivery,
    /// When it stopped being pending from the sender's point of view.
    pub closed_at: Option<Timestamp>,
    /// The note the recipient gave when rejecting it, readable only by the
    /// two (the sender is told of the reject anyway, so it reveals nothing
    /// more). Personal data like [`note`](Self::note): erasure and note
    /// retention erase it with the invitation's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_note: Option<Note>,
    /// The sender's newer invitation to the same person that replaced this
    /// one ([`Status::Superseded`], or [`Status::EndedIgnored`] when the
    /// sender sees it superseded); `None` otherwise, and for invitations replaced before
    /// pronet recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<InvitationId>,
    /// For an invitation [`Delivery::Dropped`] that replaced an earlier one
    /// of the sender's to the same person: the sender's last invitation
    /// that reached the recipient (in the inbox or held), directly or
    /// through other dropped ones. To the recipient, who never learns of a
    /// dropped invitation, that one is still the sender's invitation: a
    /// crossing send by the recipient accepts it while it is live, and
    /// never the dropped one. `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_knows: Option<InvitationId>,
}

/// An invitation's state as one of its two parties sees it: the
/// sender never sees an ignore, and an invitation past its expiry shows as
/// expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Seen {
    /// Waiting for an answer.
    Pending,
    /// Waiting in the recipient's held list (seen by the recipient only).
    Held,
    /// The recipient ignored it (seen by the recipient only).
    Ignored,
    /// Accepted.
    Accepted,
    /// Rejected.
    Rejected,
    /// Withdrawn by the sender (seen by the sender only).
    Withdrawn,
    /// Replaced by a newer invitation (seen by the sender only).
    Superseded,
    /// Unanswered for longer than the policy's pending expiry.
    Expired,
    /// Removed by a block between the two; while the block lasts, neither
    /// party sees the invitation at all.
    Cancelled,
}

impl Invitation {
    /// The pair of members it concerns.
    #[must_use]
    pub fn pair(&self) -> Option<PairKey> {
        PairKey::new(self.sender, self.recipient)
    }

    /// Open from the sender's point of view: pending, or ignored (which the
    /// sender cannot tell apart), whatever the delivery.
    #[must_use]
    pub fn is_open(&self) -> bool {
        matches!(self.status, Status::Pending | Status::Ignored(_))
    }

    /// The instant it expires if still open.
    #[must_use]
    pub fn expires_at(&self, policy: &Policy) -> Timestamp {
        policy.expires_at(self.sent_at)
    }

    /// Open and not yet expired at `now`.
    #[must_use]
    pub fn is_live(&self, policy: &Policy, now: Timestamp) -> bool {
        self.is_open() && now < self.expires_at(policy)
    }

    /// The same invitation closed as `status` at `at`.
    #[must_use]
    pub(crate) fn closed_as(&self, status: Status, at: Timestamp) -> Self {
        Self {
            status,
            closed_at: Some(at),
            ..self.clone()
        }
    }

    /// The same open invitation ended by something else happening at `now`
    /// (a newer send supersedes it, a block cancels it): closed as `status`
    /// if still live, otherwise as expired at the instant it expired, which
    /// it already was for both parties.
    #[must_use]
    pub(crate) fn ended(&self, status: Status, policy: &Policy, now: Timestamp) -> Self {
        if self.is_live(policy, now) {
            self.closed_as(status, now)
        } else {
            self.closed_as(Status::Expired, self.expires_at(policy))
        }
    }

    /// The sender's own open invitation ended by their newer one, `by`,
    /// sent at `now` and delivered as `delivery`: superseded if still live,
    /// otherwise expired (as it already was for both parties).
    ///
    /// A newer send dropped because of the recipient's "I don't know" never
    /// reaches the recipient, so it must change nothing they can observe:
    /// an invitation they ignored ends for the sender alone
    /// ([`Status::EndedIgnored`]), exactly as if the recipient had not
    /// answered, and the recipient still sees their ignore.
    #[must_use]
    pub(crate) fn replaced(
        &self,
        by: InvitationId,
        delivery: Delivery,
        policy: &Policy,
        now: Timestamp,
    ) -> Self {
        let mut old = self.ended(Status::Superseded, policy, now);
        if old.status == Status::Superseded {
            // So that the recipient answering the old one is told which
            // replaced it.
            old.replaced_by = Some(by);
        }
        if delivery == Delivery::Dropped {
            old = old.keeping_ignore(self.status);
        }
        old
    }

    /// This invitation, just ended for its sender (superseded, expired or
    /// cancelled), with the recipient's ignore kept when its status
    /// `before` was one ([`Status::EndedIgnored`]).
    #[must_use]
    pub(crate) fn keeping_ignore(mut self, before: Status) -> Self {
        let sender_sees = match self.status {
            Status::Superseded => Seen::Superseded,
            Status::Expired => Seen::Expired,
            Status::Cancelled => Seen::Cancelled,
            _ => return self,
        };
        if let Status::Ignored(reason) = before {
            self.status = Status::EndedIgnored {
                reason,
                sender_sees,
            };
        }
        self
    }

    /// What the sender sees: never an ignore, never the delivery.
    #[must_use]
    pub fn seen_by_sender(&self, policy: &Policy, now: Timestamp) -> Seen {
        match self.status {
            Status::EndedIgnored { sender_sees, .. } | Status::EndedAccepted { sender_sees } => {
                sender_sees
            }
            Status::Pending | Status::Ignored(_) if now >= self.expires_at(policy) => Seen::Expired,
            Status::Pending | Status::Ignored(_) => Seen::Pending,
            Status::Accepted => Seen::Accepted,
            Status::Rejected => Seen::Rejected,
            Status::Withdrawn => Seen::Withdrawn,
            Status::Superseded => Seen::Superseded,
            Status::Expired => Seen::Expired,
            Status::Cancelled => Seen::Cancelled,
        }
    }

    /// What the recipient sees, or `None` when the invitation does not exist
    /// for them: dropped (whatever became of it: a crossing send by the
    /// recipient accepts the invitation they know instead, see
    /// [`recipient_knows`](Self::recipient_knows)), or taken back by the
    /// sender (withdrawn or superseded) before they answered.
    #[must_use]
    pub fn seen_by_recipient(&self, policy: &Policy, now: Timestamp) -> Option<Seen> {
        if self.delivery == Delivery::Dropped {
            return None;
        }
        Some(match self.status {
            Status::Pending if now >= self.expires_at(policy) => Seen::Expired,
            Status::Expired => Seen::Expired,
            Status::Pending if self.delivery == Delivery::Held => Seen::Held,
            Status::Pending => Seen::Pending,
            Status::Ignored(_) | Status::EndedIgnored { .. } => Seen::Ignored,
            Status::Accepted | Status::EndedAccepted { .. } => Seen::Accepted,
            Status::Rejected => Seen::Rejected,
            Status::Cancelled => Seen::Cancelled,
            Status::Withdrawn | Status::Superseded => return None,
        })
    }
}

impl Invitation {
    /// [`Refusal::InvitationReplaced`](crate::Refusal::InvitationReplaced)
    /// when this invitation, which its recipient can no longer see, had
    /// reached them and was replaced by `replacement` (the invitation its
    /// [`replaced_by`](Self::replaced_by) names), which reached them too: a
    /// dropped one never did, and the recipient must not learn of it.
    /// `None` whenever the recipient is to be told "not found".
    #[must_use]
    pub(crate) fn replaced_for_recipient(
        &self,
        replacement: Option<&Invitation>,
        policy: &Policy,
        now: Timestamp,
    ) -> Option<crate::Refusal> {
        if self.status != Status::Superseded || self.delivery == Delivery::Dropped {
            return None;
        }
        let by = self.replaced_by?;
        let new = replacement?;
        let same = new.id == by && new.sender == self.sender && new.recipient == self.recipient;
        (same && new.seen_by_recipient(policy, now).is_some()).then_some(
            crate::Refusal::InvitationReplaced {
                invitation: self.id,
                by,
            },
        )
    }
}

/// Why a sender may not invite a recipient again: a reject (told) or an
/// "I don't know" (never told).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Bar {
    /// The recipient rejected an invitation: refused openly.
    Rejected,
    /// The recipient answered "I don't know this person" (or reported it):
    /// later sends are taken silently and dropped.
    DontKnow,
}

/// One direction of a pair's invitation history: what the re-send ladder
/// (90 days after one unanswered send, 365 after two, never after three)
/// and the bars need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attempts {
    /// Sends since the pair last connected or the other side last invited:
    /// every send is an unanswered attempt until accepted (ignored, expired,
    /// withdrawn and still pending all count), so withdrawing never shortens
    /// the ladder.
    pub unanswered: u32,
    /// When the last of them was sent.
    pub last_sent: Option<Timestamp>,
    /// When the sender last withdrew an invitation to this person.
    pub withdrawn_at: Option<Timestamp>,
    /// A permanent bar, once the recipient rejected or did not know them.
    pub bar: Option<Bar>,
}

/// Everything stored about one unordered pair of members: whether they are
/// connected, their one open invitation, and each direction's history.
/// Every change to the pair writes this one record, so the store's version
/// check on it serialises all races within a pair (double send, crossing
/// sends, accept versus withdraw).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PairState {
    /// The pair.
    pub key: PairKey,
    /// Since when they are connected, if they are.
    pub connected_since: Option<Timestamp>,
    /// The one invitation between them that is open (it may have expired
    /// since; readers check). Or a dropped invitation its sender withdrew
    /// that stands for one its recipient still knows
    /// ([`Invitation::recipient_knows`]): closed, it is open to nobody,
    /// but a crossing send by its recipient finds that one through it.
    pub open: Option<InvitationId>,
    /// Invitations sent by `key.low()` to `key.high()`.
    pub from_low: Attempts,
    /// Invitations sent by `key.high()` to `key.low()`.
    pub from_high: Attempts,
}

impl PairState {
    /// A pair with no history.
    #[must_use]
    pub fn new(key: PairKey) -> Self {
        Self {
            key,
            connected_since: None,
            open: None,
            from_low: Attempts::default(),
            from_high: Attempts::default(),
        }
    }

    /// The history of invitations sent by `sender` (one of the pair).
    #[must_use]
    pub fn attempts(&self, sender: MemberId) -> &Attempts {
        if sender == self.key.low() {
            &self.from_low
        } else {
            &self.from_high
        }
    }

    /// Mutable history of invitations sent by `sender`.
    pub fn attempts_mut(&mut self, sender: MemberId) -> &mut Attempts {
        if sender == self.key.low() {
            &mut self.from_low
        } else {
            &mut self.from_high
        }
    }
}

/// Per-member counters that limits need: connections (for the cap), the
/// recent sends (for quotas and standing), the standing itself, and the
/// latest instant recorded for the member (so that time never goes
/// backwards for them). Guarded by the store's version check, so that
/// concurrent accepts cannot pass the connection cap and concurrent sends
/// cannot take the last quota slot twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ledger {
    /// The member.
    pub member: MemberId,
    /// Current connections.
    pub connections: u32,
    /// The member's sends within the policy's retention, oldest first.
    pub sends: Vec<SendEntry>,
    /// The standing as last judged.
    pub standing: Standing,
    /// When this member was reported, once per reporter, within the
    /// policy's retention.
    pub reports: Vec<Timestamp>,
    /// The latest effective instant at which this ledger was written.
    pub latest: Timestamp,
    /// The member's invitations to join, until they expire (an invitation
    /// sent later forgets the expired ones): where their list of
    /// invitations to join, and a withdraw, find each address. The
    /// addresses are the member's own data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joins: Vec<SentJoin>,
}

/// One invitation to join in its sender's [`Ledger`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SentJoin {
    /// The invitation to join.
    pub invitation: InvitationId,
    /// The address, as the sender wrote it.
    pub email: crate::email::Email,
    /// When it was sent.
    pub sent_at: Timestamp,
}

impl Ledger {
    /// A member's empty ledger.
    #[must_use]
    pub fn new(member: MemberId) -> Self {
        Self {
            member,
            connections: 0,
            sends: Vec::new(),
            standing: Standing::default(),
            reports: Vec::new(),
            latest: Timestamp::MIN,
            joins: Vec::new(),
        }
    }

    /// When each remembered send was made: what the invitation quota
    /// counts.
    #[must_use]
    pub fn send_times(&self) -> Vec<Timestamp> {
        self.sends.iter().map(|e| e.at).collect()
    }

    /// When each remembered send with a note was made: what the note
    /// quota counts.
    #[must_use]
    pub fn note_times(&self) -> Vec<Timestamp> {
        self.sends
            .iter()
            .filter(|e| e.with_note)
            .map(|e| e.at)
            .collect()
    }

    /// Records the answer given at `at` to one of this member's sends, if
    /// still remembered.
    pub fn record_answer(&mut self, invitation: InvitationId, answer: Answer, at: Timestamp) {
        if let Some(entry) = self.sends.iter_mut().find(|e| e.invitation == invitation) {
            entry.answer = Some(answer);
            entry.answered_at = Some(at);
        }
    }
}
