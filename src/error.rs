//! Errors: a [`Refusal`] when a rule said no, a [`StoreError`] when the
//! store failed, or contention that outlasted the retries.

use crate::id::{InvitationId, MemberId};
use crate::invitation::Seen;
use crate::note::NoteError;
use crate::record::Key;
use crate::time::Timestamp;
use thiserror::Error;

/// A rule said no. Each variant names the rule and carries what
/// the caller needs to act, and nothing kept private from them: an ignored
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
    /// invitations to join allowed, or it opted out. Which is not said:
    /// it would tell the sender something about the address's owner.
    #[error("this address cannot be invited to join")]
    NotInvitable,
    /// The note is not valid.
    #[error("invalid note: {0}")]
    InvalidNote(#[from] NoteError),
    /// No such invitation for this member: it does not exist, they are not
    /// the party who may act on it, or it never reached them.
    #[error("invitation {0} not found")]
    InvitationNotFound(InvitationId),
    /// The invitation was replaced by a newer one from the same sender (a
    /// re-send), which is the one to answer. Only its recipient is told
    /// (anyone else gets [`InvitationNotFound`](Self::InvitationNotFound)),
    /// and only when the newer one reached them too.
    #[error("invitation {invitation} was replaced by {by}")]
    InvitationReplaced {
        /// The invitation acted on.
        invitation: InvitationId,
        /// The newer invitation that replaced it.
        by: InvitationId,
    },
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
    /// An address book that cannot be imported.
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

impl Refusal {
    /// A stable snake_case code naming the rule, for programs (a message is
    /// for people, and may be reworded). Codes never change meaning; a new
    /// rule gets a new code. With the HTTP status a host would answer
    /// ([`http_status`](Self::http_status)):
    ///
    /// | Variant | Code | Status |
    /// |---|---|---|
    /// | [`UnknownMember`](Self::UnknownMember) | `unknown_member` | 404 |
    /// | [`InvitationNotFound`](Self::InvitationNotFound) | `invitation_not_found` | 404 |
    /// | [`InvitationReplaced`](Self::InvitationReplaced) | `invitation_replaced` | 409 |
    /// | [`MemberExists`](Self::MemberExists) | `member_exists` | 409 |
    /// | [`EmailInUse`](Self::EmailInUse) | `email_in_use` | 409 |
    /// | [`AlreadyConnected`](Self::AlreadyConnected) | `already_connected` | 409 |
    /// | [`NotPending`](Self::NotPending) | `not_pending` | 409 |
    /// | [`ConnectionCap`](Self::ConnectionCap) | `connection_cap` | 409 |
    /// | [`TooManyOutstanding`](Self::TooManyOutstanding) | `too_many_outstanding` | 409 |
    /// | [`TooManyFollows`](Self::TooManyFollows) | `too_many_follows` | 409 |
    /// | [`TooManyGroups`](Self::TooManyGroups) | `too_many_groups` | 409 |
    /// | [`TooManyBlocks`](Self::TooManyBlocks) | `too_many_blocks` | 409 |
    /// | [`QuotaExhausted`](Self::QuotaExhausted) | `quota_exhausted` | 429 |
    /// | [`NoteQuotaExhausted`](Self::NoteQuotaExhausted) | `note_quota_exhausted` | 429 |
    /// | [`ResendTooSoon`](Self::ResendTooSoon) | `resend_too_soon` | 429 |
    /// | [`ReblockTooSoon`](Self::ReblockTooSoon) | `reblock_too_soon` | 429 |
    /// | [`NotEligible`](Self::NotEligible) | `not_eligible` | 403 |
    /// | [`Barred`](Self::Barred) | `barred` | 403 |
    /// | [`ResendNever`](Self::ResendNever) | `resend_never` | 403 |
    /// | [`YouBlocked`](Self::YouBlocked) | `you_blocked` | 403 |
    /// | [`EmailProofRequired`](Self::EmailProofRequired) | `email_proof_required` | 403 |
    /// | [`Suspended`](Self::Suspended) | `suspended` | 403 |
    /// | [`NotInvitable`](Self::NotInvitable) | `not_invitable` | 403 |
    /// | [`Yourself`](Self::Yourself) | `yourself` | 422 |
    /// | [`NotAPerson`](Self::NotAPerson) | `not_a_person` | 422 |
    /// | [`NotACompany`](Self::NotACompany) | `not_a_company` | 422 |
    /// | [`ProfileTooLarge`](Self::ProfileTooLarge) | `profile_too_large` | 422 |
    /// | [`InvalidNote`](Self::InvalidNote) | `invalid_note` | 422 |
    /// | [`UnknownCursor`](Self::UnknownCursor) | `unknown_cursor` | 422 |
    ///
    /// 404: the thing does not exist for this member; 409: it conflicts with
    /// the current state, or a cap that lifts only when something else
    /// changes; 429: a limit that lifts at [`retry_at`](Self::retry_at);
    /// 403: not allowed for this member; 422: the request cannot be right
    /// whoever asks.
    ///
    /// ```
    /// use pronet::Refusal;
    /// assert_eq!(Refusal::Barred.code(), "barred");
    /// assert_eq!(Refusal::Barred.http_status(), 403);
    /// ```
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownMember(_) => "unknown_member",
            Self::InvitationNotFound(_) => "invitation_not_found",
            Self::InvitationReplaced { .. } => "invitation_replaced",
            Self::MemberExists(_) => "member_exists",
            Self::EmailInUse(_) => "email_in_use",
            Self::AlreadyConnected => "already_connected",
            Self::NotPending { .. } => "not_pending",
            Self::ConnectionCap { .. } => "connection_cap",
            Self::TooManyOutstanding { .. } => "too_many_outstanding",
            Self::TooManyFollows { .. } => "too_many_follows",
            Self::TooManyGroups { .. } => "too_many_groups",
            Self::TooManyBlocks { .. } => "too_many_blocks",
            Self::QuotaExhausted { .. } => "quota_exhausted",
            Self::NoteQuotaExhausted { .. } => "note_quota_exhausted",
            Self::ResendTooSoon { .. } => "resend_too_soon",
            Self::ReblockTooSoon { .. } => "reblock_too_soon",
            Self::NotEligible { .. } => "not_eligible",
            Self::Barred => "barred",
            Self::ResendNever => "resend_never",
            Self::YouBlocked(_) => "you_blocked",
            Self::EmailProofRequired { .. } => "email_proof_required",
            Self::Suspended { .. } => "suspended",
            Self::NotInvitable => "not_invitable",
            Self::Yourself => "yourself",
            Self::NotAPerson(_) => "not_a_person",
            Self::NotACompany(_) => "not_a_company",
            Self::ProfileTooLarge { .. } => "profile_too_large",
            Self::InvalidNote(_) => "invalid_note",
            Self::UnknownCursor(_) => "unknown_cursor",
        }
    }

    /// The HTTP status a host would answer with (see the table at
    /// [`code`](Self::code)): always 403, 404, 409, 422 or 429.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::UnknownMember(_) | Self::InvitationNotFound(_) => 404,
            Self::MemberExists(_)
            | Self::InvitationReplaced { .. }
            | Self::EmailInUse(_)
            | Self::AlreadyConnected
            | Self::NotPending { .. }
            | Self::ConnectionCap { .. }
            | Self::TooManyOutstanding { .. }
            | Self::TooManyFollows { .. }
            | Self::TooManyGroups { .. }
            | Self::TooManyBlocks { .. } => 409,
            Self::QuotaExhausted { .. }
            | Self::NoteQuotaExhausted { .. }
            | Self::ResendTooSoon { .. }
            | Self::ReblockTooSoon { .. } => 429,
            Self::NotEligible { .. }
            | Self::Barred
            | Self::ResendNever
            | Self::YouBlocked(_)
            | Self::EmailProofRequired { .. }
            | Self::Suspended { .. }
            | Self::NotInvitable => 403,
            Self::Yourself
            | Self::NotAPerson(_)
            | Self::NotACompany(_)
            | Self::ProfileTooLarge { .. }
            | Self::InvalidNote(_)
            | Self::UnknownCursor(_) => 422,
        }
    }

    /// When a limit that lifts at an instant lifts: the first instant the
    /// same request can succeed, for the 429 refusals
    /// ([`QuotaExhausted`](Self::QuotaExhausted),
    /// [`NoteQuotaExhausted`](Self::NoteQuotaExhausted),
    /// [`ResendTooSoon`](Self::ResendTooSoon),
    /// [`ReblockTooSoon`](Self::ReblockTooSoon)); `None` for every other.
    /// (A sanction's end, [`Suspended`](Self::Suspended) and
    /// [`EmailProofRequired`](Self::EmailProofRequired), is their `until`,
    /// see [`until`](Self::until).)
    #[must_use]
    pub fn retry_at(&self) -> Option<Timestamp> {
        match self {
            Self::QuotaExhausted { retry_at }
            | Self::NoteQuotaExhausted { retry_at }
            | Self::ResendTooSoon { retry_at }
            | Self::ReblockTooSoon { retry_at } => Some(*retry_at),
            _ => None,
        }
    }

    /// When a sanction on the sender lifts by itself:
    /// [`Suspended`](Self::Suspended) and
    /// [`EmailProofRequired`](Self::EmailProofRequired); `None` otherwise.
    #[must_use]
    pub fn until(&self) -> Option<Timestamp> {
        match self {
            Self::Suspended { until } | Self::EmailProofRequired { until } => Some(*until),
            _ => None,
        }
    }
}

impl Error {
    /// A stable snake_case code, for programs: the refusal's
    /// [`Refusal::code`] for [`Error::Refused`], and otherwise:
    ///
    /// | Variant | Code | Status |
    /// |---|---|---|
    /// | [`Store`](Self::Store) (backend) | `store_failed` | 503 |
    /// | [`Store`](Self::Store) (corrupt record) | `store_corrupt` | 500 |
    /// | [`Contended`](Self::Contended) | `contended` | 503 |
    /// | [`ClockSkew`](Self::ClockSkew) | `clock_skew` | 503 |
    /// | [`Import`](Self::Import) | `invalid_import` | 422 |
    /// | [`IndexOutOfStep`](Self::IndexOutOfStep) | `index_out_of_step` | 500 |
    ///
    /// No code but a refusal's (and `invalid_import`) concerns the caller:
    /// the others are the operator's, and their messages name records and
    /// backends, for the log only. The wire form ([`crate::wire`]) answers
    /// them with a fixed message.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(r) => r.code(),
            Self::Store(StoreError::Corrupt(_)) => "store_corrupt",
            Self::Store(_) => "store_failed",
            Self::Contended { .. } => "contended",
            Self::ClockSkew { .. } => "clock_skew",
            Self::Import(_) => "invalid_import",
            Self::IndexOutOfStep(_) => "index_out_of_step",
        }
    }

    /// The HTTP status a host would answer with: the refusal's
    /// [`Refusal::http_status`], or the status in the table at
    /// [`code`](Self::code). 503 means a retry may succeed (a retry decides
    /// again from fresh facts, so it never applies a change twice).
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Refused(r) => r.http_status(),
            Self::Store(StoreError::Corrupt(_)) | Self::IndexOutOfStep(_) => 500,
            Self::Store(_) | Self::Contended { .. } | Self::ClockSkew { .. } => 503,
            Self::Import(_) => 422,
        }
    }

    /// Whether the error concerns the caller (a refusal, or an address book
    /// that cannot be imported): its message may be shown to them. The
    /// others are the operator's.
    #[must_use]
    pub fn is_caller_error(&self) -> bool {
        matches!(self, Self::Refused(_) | Self::Import(_))
    }
}

#[cfg(test)]
mod code_tests {
    use super::*;
    use crate::email::Email;
    use crate::note::NoteError;

    /// One of every refusal: a new variant breaks the exhaustive match in
    /// `code`, and then belongs here too.
    fn every_refusal() -> Vec<Refusal> {
        let m = MemberId::new(1);
        let t = Timestamp::from_micros(0);
        let mut all = vec![
            Refusal::UnknownMember(m),
            Refusal::NotAPerson(m),
            Refusal::NotACompany(m),
            Refusal::TooManyFollows { max: 1 },
            Refusal::TooManyGroups { max: 1 },
            Refusal::Yourself,
            Refusal::YouBlocked(m),
            Refusal::ReblockTooSoon { retry_at: t },
            Refusal::TooManyBlocks { max: 1 },
            Refusal::ProfileTooLarge {
                field: crate::member::ProfileField::Headline,
                limit: 1,
            },
            Refusal::UnknownCursor(m),
            Refusal::MemberExists(m),
            Refusal::AlreadyConnected,
            Refusal::ConnectionCap { member: m, cap: 1 },
            Refusal::Barred,
            Refusal::ResendTooSoon { retry_at: t },
            Refusal::ResendNever,
            Refusal::NotEligible { required: 1 },
            Refusal::QuotaExhausted { retry_at: t },
            Refusal::NoteQuotaExhausted { retry_at: t },
            Refusal::TooManyOutstanding { max: 1 },
            Refusal::EmailProofRequired { until: t },
            Refusal::Suspended { until: t },
            Refusal::NotInvitable,
            Refusal::InvalidNote(NoteError::TooLong { chars: 2, max: 1 }),
            Refusal::InvitationNotFound(InvitationId::new(1)),
            Refusal::InvitationReplaced {
                invitation: InvitationId::new(1),
                by: InvitationId::new(2),
            },
            Refusal::NotPending {
                seen: Seen::Pending,
            },
        ];
        if let Ok(email) = Email::parse("a@example.com") {
            all.push(Refusal::EmailInUse(email));
        }
        all
    }

    #[test]
    fn codes_are_unique_snake_case_and_statuses_are_4xx() {
        let all = every_refusal();
        assert_eq!(all.len(), 29);
        let mut codes: Vec<&str> = all.iter().map(Refusal::code).collect();
        for code in &codes {
            assert!(
                !code.is_empty()
                    && code.starts_with(|c: char| c.is_ascii_lowercase())
                    && !code.ends_with('_')
                    && !code.contains("__")
                    && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "duplicate codes");
        for r in &all {
            assert!(
                [403, 404, 409, 422, 429].contains(&r.http_status()),
                "{r:?}"
            );
            assert_eq!(r.retry_at().is_some(), r.http_status() == 429, "{r:?}");
        }
    }

    #[test]
    fn error_codes_are_unique_snake_case_and_apart_from_refusals() {
        let t = Timestamp::from_micros(0);
        let key = Key::Member(MemberId::new(1));
        let others = [
            Error::Store(StoreError::Backend("x".into())),
            Error::Store(StoreError::Corrupt(key.clone())),
            Error::Contended { attempts: 1 },
            Error::Import(crate::contacts::ImportError::TooLarge { bytes: 2, max: 1 }),
            Error::IndexOutOfStep(crate::graph::GraphError::SelfConnection(MemberId::new(1))),
            Error::ClockSkew {
                key,
                recorded: t,
                clock: t,
            },
        ];
        let mut codes: Vec<&str> = others.iter().map(Error::code).collect();
        codes.extend(every_refusal().iter().map(Refusal::code));
        assert!(
            codes
                .iter()
                .all(|c| c.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n, "duplicate codes");
        for e in &others {
            assert!([422, 500, 503].contains(&e.http_status()), "{e:?}");
            assert_eq!(e.is_caller_error(), e.http_status() < 500, "{e:?}");
        }
        let refused = Error::Refused(Refusal::Barred);
        assert_eq!((refused.code(), refused.http_status()), ("barred", 403));
    }
}
