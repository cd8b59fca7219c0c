//! Errors: a [`Refusal`] when a rule said no, a [`StoreError`] when the
//! store failed, or contention that outlasted the retries.

use crate::id::{InvitationId, MemberId};
use crate::invitation::Seen;
use crate::note::NoteError;
use crate::record::Key;
use crate::time::Timestamp;
use thiserror::Error;

/// A rule of SPEC.md said no. Each variant names the rule and carries what
/// the caller needs to act, and nothing SPEC 3.4 keeps private: an ignored
/// invitation, a held or dropped one, and a member hidden by a block never
/// show through a refusal.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No such member, or deactivated: the two are indistinguishable.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// The member is a company page; only persons invite and connect.
    #[error("member {0} is a company page; only persons connect")]
    NotAPerson(MemberId),
    /// The member is a person, and only company pages can be followed.
    #[error("member {0} is not a company page")]
    NotACompany(MemberId),
    /// The member follows the most company pages allowed.
    #[error("you follow the maximum of {max} company pages")]
    TooManyFollows {
        /// The limit.
        max: u32,
    },
    /// The member belongs to the most groups allowed.
    #[error("you belong to the maximum of {max} groups")]
    TooManyGroups {
        /// The limit.
        max: u32,
    },
    /// A member cannot invite, block, unblock, report or remove themself.
    #[error("not possible with oneself")]
    Yourself,
    /// The actor blocked this member; unblock them first.
    #[error("you blocked member {0}")]
    YouBlocked(MemberId),
    /// Blocking a member again too soon after unblocking them.
    #[error("you can block this member again from {retry_at}")]
    ReblockTooSoon {
        /// The first instant the block is possible.
        retry_at: Timestamp,
    },
    /// The member has blocked the most members allowed.
    #[error("you have blocked the maximum of {max} members")]
    TooManyBlocks {
        /// The limit.
        max: u32,
    },
    /// A profile field, list or list entry is longer than the policy
    /// allows (see [`ProfileLimits`](crate::member::ProfileLimits)).
    #[error("the {field} may have at most {limit}")]
    ProfileTooLarge {
        /// The field over its limit.
        field: crate::member::ProfileField,
        /// Its limit: characters for text, entries for a list.
        limit: u32,
    },
    /// A pagination cursor that does not belong to the list.
    #[error("cursor {0} does not belong to this list")]
    UnknownCursor(MemberId),
    /// The member id is taken.
    #[error("member {0} already exists")]
    MemberExists(MemberId),
    /// Another member owns this email address.
    #[error("the address {0} belongs to another member")]
    EmailInUse(crate::email::Email),
    /// The two are already connected.
    #[error("already connected")]
    AlreadyConnected,
    /// One of the two has reached the connection cap.
    #[error("member {member} has reached the maximum of {cap} connections")]
    ConnectionCap {
        /// Who is at the cap.
        member: MemberId,
        /// The cap.
        cap: u32,
    },
    /// The recipient rejected an earlier invitation from this sender.
    #[error("this member declined an earlier invitation; you cannot invite them again")]
    Barred,
    /// The re-send ladder or the withdraw cooldown asks to wait.
    #[error("you can invite this member again from {retry_at}")]
    ResendTooSoon {
        /// The first instant a send can succeed.
        retry_at: Timestamp,
    },
    /// Three or more unanswered invitations: no more, unless the recipient
    /// invites the sender.
    #[error("you cannot invite this member again unless they invite you")]
    ResendNever,
    /// Not enough shared connections, no proof of the recipient's email, and
    /// not in the sender's imported contacts.
    #[error(
        "you need {required} shared connection(s), their email address, or them in your contacts"
    )]
    NotEligible {
        /// Shared connections the policy asks for.
        required: u32,
    },
    /// The sender has used the tier's invitation quota for the window.
    #[error("invitation quota used up; the next invitation is possible from {retry_at}")]
    QuotaExhausted {
        /// The first instant a send can succeed.
        retry_at: Timestamp,
    },
    /// The sender has used the tier's allowance of personalised notes; an
    /// invitation without a note is still possible.
    #[error("personal note allowance used up until {retry_at}; send without a note or wait")]
    NoteQuotaExhausted {
        /// The first instant a note fits again.
        retry_at: Timestamp,
    },
    /// The sender has too many invitations pending.
    #[error("you have {max} invitations pending; withdraw some before sending more")]
    TooManyOutstanding {
        /// The most pending at once.
        max: u32,
    },
    /// The sender is restricted: every invitation needs the recipient's email
    /// address as proof.
    #[error("until {until}, invitations need the recipient's email address")]
    EmailProofRequired {
        /// When the restriction lifts.
        until: Timestamp,
    },
    /// The sender is suspended from sending invitations.
    #[error("sending invitations is suspended until {until}")]
    Suspended {
        /// When the suspension lifts.
        until: Timestamp,
    },
    /// The address cannot be invited to join: it has had the most
    /// invitations to join allowed, or it opted out. Which is not said
    /// (SPEC 9).
    #[error("this address cannot be invited to join")]
    NotInvitable,
    /// The note is not valid.
    #[error("invalid note: {0}")]
    InvalidNote(#[from] NoteError),
    /// No such invitation for this member: it does not exist, they are not
    /// the party who may act on it, or it never reached them.
    #[error("invitation {0} not found")]
    InvitationNotFound(InvitationId),
    /// The invitation is no longer pending; `seen` is its state as the
    /// acting member sees it.
    #[error("the invitation is no longer pending ({seen:?})")]
    NotPending {
        /// The state as seen by the actor.
        seen: Seen,
    },
}

/// The store could not do what was asked.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, connection, driver): the operation may be
    /// retried later.
    #[error("store backend failed: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// A record read back is not what its key should hold.
    #[error("corrupt record under {0:?}")]
    Corrupt(Key),
}

/// Why a change set was not committed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CommitError {
    /// A write's expectation no longer holds: somebody else changed `key`
    /// first. Nothing was written.
    #[error("conflict on {0:?}")]
    Conflict(Key),
    /// The store failed. Nothing was written, unless the store cannot tell
    /// (a lost acknowledgement), in which case a retry re-decides from fresh
    /// facts and so applies the change at most once.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everything a [`Network`](crate::Network) operation can fail with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule said no.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Other writers kept changing the same records through every attempt.
    #[error("gave up after {attempts} conflicting attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// An address book that cannot be imported (SPEC 9).
    #[error(transparent)]
    Import(#[from] crate::contacts::ImportError),
    /// The graph index disagrees with the store (a bug, or records changed
    /// behind the network's back). Reopening the network rebuilds the index
    /// from the store.
    #[error("the graph index is out of step with the store: {0}")]
    IndexOutOfStep(crate::graph::GraphError),
    /// A record holds an instant further ahead of the host clock than the
    /// policy's [`max_clock_skew`](crate::Policy::max_clock_skew): the trace
    /// of a clock that jumped forward, or of a clock now far behind. Nothing
    /// was decided from it. Fix the host clock, then bring such records back
    /// with [`Network::repair_clock`](crate::Network::repair_clock). An
    /// operator's error: log it, and answer the member as for a store
    /// failure (it names another member's record).
    #[error("record {key:?} holds the instant {recorded}, beyond the clock's {clock}")]
    ClockSkew {
        /// The record.
        key: crate::record::Key,
        /// Its latest recorded instant.
        recorded: crate::time::Timestamp,
        /// The clock's reading.
        clock: crate::time::Timestamp,
    },
}

impl From<crate::graph::GraphError> for Error {
    /// Graph answers as network answers: an unknown (or hidden) member and a
    /// foreign cursor are refusals; anything else means the index disagrees
    /// with the store, which is [`Error::IndexOutOfStep`].
    fn from(e: crate::graph::GraphError) -> Self {
        use crate::graph::GraphError as G;
        match e {
            G::UnknownMember(m) => Self::Refused(Refusal::UnknownMember(m)),
            G::UnknownCursor(m) => Self::Refused(Refusal::UnknownCursor(m)),
            other => Self::IndexOutOfStep(other),
        }
    }
}

impl Error {
    /// The refusal, if a rule said no.
    #[must_use]
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(r) => Some(r),
            _ => None,
        }
    }
}
