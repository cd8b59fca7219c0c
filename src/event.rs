//! Domain events: what changed, and who should hear of it. The host
//! turns them into notifications or feeds them to other systems. Events are
//! produced only for committed changes, exactly once each.

use crate::email::Email;
use crate::id::{GroupId, InvitationId, MemberId};
use crate::note::Note;
use crate::standing::{Level, Signal};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Who an event is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Audience {
    /// One member.
    Member(MemberId),
    /// Both members of a pair.
    Both(MemberId, MemberId),
    /// The person at the email address the event names, who is not a
    /// member: the host emails them. Never a member's audience.
    Address,
}

impl Audience {
    /// Whether `member` is in the audience.
    #[must_use]
    pub fn includes(self, member: MemberId) -> bool {
        match self {
            Self::Member(m) => m == member,
            Self::Both(a, b) => a == member || b == member,
            Self::Address => false,
        }
    }
}

/// Something that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Event {
    /// A member joined (for the member).
    MemberRegistered {
        /// The member.
        member: MemberId,
    },
    /// A member was deactivated (for the member).
    MemberDeactivated {
        /// The member.
        member: MemberId,
    },
    /// The sender's invitation was recorded (for the sender). Identical
    /// whether or not it reached the recipient, so that the sender never
    /// learns of a hold or a silent bar.
    InvitationSent {
        /// The invitation.
        invitation: InvitationId,
        /// Who sent it.
        sender: MemberId,
        /// Who it is for.
        recipient: MemberId,
        /// The earlier invitation to the same person it replaces.
        supersedes: Option<InvitationId>,
    },
    /// An invitation arrived in the recipient's inbox (for the recipient:
    /// the bell icon, an email with an Accept button).
    InvitationReceived {
        /// The invitation.
        invitation: InvitationId,
        /// Who sent it.
        sender: MemberId,
        /// Who it is for.
        recipient: MemberId,
        /// The personal note, for the recipient's eyes.
        note: Option<Note>,
    },
    /// The recipient accepted (for the sender).
    InvitationAccepted {
        /// The invitation.
        invitation: InvitationId,
        /// Who sent it.
        sender: MemberId,
        /// Who accepted.
        recipient: MemberId,
    },
    /// The recipient rejected (for the sender).
    InvitationRejected {
        /// The invitation.
        invitation: InvitationId,
        /// Who sent it.
        sender: MemberId,
        /// Who rejected.
        recipient: MemberId,
        /// The recipient's note to the sender, if they gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Note>,
    },
    /// The recipient ignored, possibly saying they do not know the sender
    /// (for the recipient only: the sender is never told).
    InvitationIgnored {
        /// The invitation.
        invitation: InvitationId,
        /// Who ignored it.
        recipient: MemberId,
    },
    /// The sender withdrew (for the sender only: nobody is notified).
    InvitationWithdrawn {
        /// The invitation.
        invitation: InvitationId,
        /// Who withdrew it.
        sender: MemberId,
    },
    /// Two members became connected (for both).
    ConnectionCreated {
        /// One member.
        a: MemberId,
        /// The other.
        b: MemberId,
    },
    /// A sender's standing changed (for the sender), with its reasons.
    StandingChanged {
        /// The sender.
        member: MemberId,
        /// The level before.
        from: Level,
        /// The level now.
        to: Level,
        /// The signals behind the new level.
        reasons: Vec<Signal>,
        /// When a restriction or suspension lifts.
        until: Option<Timestamp>,
    },
    /// The send just made used the last slot of the sender's quota (for the
    /// sender).
    QuotaExhausted {
        /// The sender.
        member: MemberId,
        /// When the next send becomes possible.
        retry_at: Timestamp,
    },
    /// A connection was removed (for the member who removed it only: the
    /// other is not notified).
    ConnectionRemoved {
        /// Who removed it.
        by: MemberId,
        /// The former connection.
        other: MemberId,
    },
    /// A member blocked another (for the blocker only).
    MemberBlocked {
        /// Who blocked.
        blocker: MemberId,
        /// Who is blocked.
        blocked: MemberId,
    },
    /// A member lifted their block (for the blocker only).
    MemberUnblocked {
        /// Who had blocked.
        blocker: MemberId,
        /// Who is no longer blocked.
        unblocked: MemberId,
    },
    /// A report was recorded (for the reporter only: the reported member is
    /// never told who reported).
    MemberReported {
        /// Who reported.
        reporter: MemberId,
        /// Who is reported.
        target: MemberId,
    },
    /// A member followed a company page (for the member only: the company
    /// is not notified).
    CompanyFollowed {
        /// The follower.
        member: MemberId,
        /// The company page.
        company: MemberId,
    },
    /// A member stopped following a company page (for the member only).
    CompanyUnfollowed {
        /// The former follower.
        member: MemberId,
        /// The company page.
        company: MemberId,
    },
    /// A member joined a group (for the member).
    GroupJoined {
        /// The member.
        member: MemberId,
        /// The group.
        group: GroupId,
    },
    /// A member left a group (for the member).
    GroupLeft {
        /// The member.
        member: MemberId,
        /// The group.
        group: GroupId,
    },
    /// A member dismissed a suggestion (for the member only: the dismissed
    /// member is never told).
    SuggestionDismissed {
        /// Who dismissed.
        member: MemberId,
        /// Whom.
        dismissed: MemberId,
    },
    /// Contacts were added to a member's address book (for the owner).
    ContactsImported {
        /// Whose contacts.
        owner: MemberId,
        /// How many addresses were new.
        added: usize,
    },
    /// The sender's invitation to join was recorded (for the sender).
    /// Identical whether or not an email goes out, so that it tells the
    /// sender nothing about the address (a member, an opt-out, a cap).
    JoinInvitationSent {
        /// The invitation to join.
        invitation: InvitationId,
        /// Who invited.
        sender: MemberId,
        /// The address, as the sender wrote it.
        email: Email,
    },
    /// The person at `email` is invited to join ([`Audience::Address`]):
    /// the host sends them the invitation email, with a link to opt out.
    /// Emitted only when no member has the address, in
    /// [`Committed::mail`](crate::Committed::mail), never among the events
    /// a caller may be shown.
    JoinInvitationReceived {
        /// The invitation to join.
        invitation: InvitationId,
        /// Who invited.
        sender: MemberId,
        /// The address to email, as the sender wrote it.
        email: Email,
        /// The sender's note, for the email.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<crate::note::Note>,
    },
    /// The address opted out of invitations to join
    /// ([`Audience::Address`]; for the host's records).
    OptedOut {
        /// The address.
        email: Email,
    },
}

impl Event {
    /// Who should hear of it.
    #[must_use]
    pub fn audience(&self) -> Audience {
        match *self {
            Self::MemberRegistered { member }
            | Self::MemberDeactivated { member }
            | Self::StandingChanged { member, .. }
            | Self::QuotaExhausted { member, .. } => Audience::Member(member),
            Self::InvitationSent { sender, .. }
            | Self::InvitationAccepted { sender, .. }
            | Self::InvitationRejected { sender, .. }
            | Self::InvitationWithdrawn { sender, .. } => Audience::Member(sender),
            Self::InvitationReceived { recipient, .. }
            | Self::InvitationIgnored { recipient, .. } => Audience::Member(recipient),
            Self::ConnectionCreated { a, b } => Audience::Both(a, b),
            Self::ContactsImported { owner, .. } => Audience::Member(owner),
            Self::CompanyFollowed { member, .. }
            | Self::CompanyUnfollowed { member, .. }
            | Self::GroupJoined { member, .. }
            | Self::GroupLeft { member, .. }
            | Self::SuggestionDismissed { member, .. } => Audience::Member(member),
            Self::ConnectionRemoved { by, .. } => Audience::Member(by),
            Self::MemberBlocked { blocker, .. } | Self::MemberUnblocked { blocker, .. } => {
                Audience::Member(blocker)
            }
            Self::MemberReported { reporter, .. } => Audience::Member(reporter),
            Self::JoinInvitationSent { sender, .. } => Audience::Member(sender),
            Self::JoinInvitationReceived { .. } | Self::OptedOut { .. } => Audience::Address,
        }
    }
}
