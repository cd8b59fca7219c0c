//! Outcomes, refusals and errors.

use super::*;

// ------------------------------------------------------- outcomes, errors

/// A [`SendOutcome`] on the wire: `{"type": "sent", "invitation": "9"}` or
/// `{"type": "connected", "accepted": "8"}`.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `SendOutcome`.
pub enum WireSendOutcome {
    Sent { invitation: Id },
    Connected { accepted: Id },
}

impl ToWire for SendOutcome {
    type Wire<'a> = WireSendOutcome;
    fn to_wire(&self) -> WireSendOutcome {
        match *self {
            SendOutcome::Sent(i) => WireSendOutcome::Sent { invitation: id(i) },
            SendOutcome::Connected { accepted } => WireSendOutcome::Connected {
                accepted: id(accepted),
            },
        }
    }
}

impl Serialize for SendOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

/// An [`InviteOutcome`] on the wire: `{"type": "invited", "invitation":
/// "9"}`, or `{"type": "member", "member": "4", "sent": {"type": "sent",
/// ...}}` when the address is a member's the sender may find by it.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `InviteOutcome`.
pub enum WireInviteOutcome {
    Invited { invitation: Id },
    Member { member: Id, sent: WireSendOutcome },
}

impl ToWire for InviteOutcome {
    type Wire<'a> = WireInviteOutcome;
    fn to_wire(&self) -> WireInviteOutcome {
        match *self {
            InviteOutcome::Invited(i) => WireInviteOutcome::Invited { invitation: id(i) },
            InviteOutcome::Member { member, sent } => WireInviteOutcome::Member {
                member: id(member),
                sent: sent.to_wire(),
            },
        }
    }
}

/// A [`Committed`] on the wire: `{"outcome": ..., "events": [...]}`. The
/// events for members only: [`Committed::mail`] is the host's mailer's and
/// is never shown to a member. Filter `events` by audience before showing
/// them to one member ([`Event::audience`]).
#[derive(Clone, Debug, Serialize)]
pub struct WireCommitted<'a, O> {
    outcome: O,
    events: Vec<WireEvent<'a>>,
}

impl<O: ToWire> ToWire for Committed<O> {
    type Wire<'a>
        = WireCommitted<'a, O::Wire<'a>>
    where
        O: 'a;
    fn to_wire(&self) -> Self::Wire<'_> {
        WireCommitted {
            outcome: self.outcome.to_wire(),
            events: self.events.to_wire(),
        }
    }
}

impl<O: ToWire> Serialize for Committed<O> {
    /// The wire form (see [`WireCommitted`]): `mail` is left out.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

/// A [`Refusal`] or an [`Error`] on the wire: `{"code": "resend_too_soon",
/// "message": "...", "retry_at": "..."}`. Besides `code` and `message`,
/// only the fields the refusal carries appear.
#[derive(Clone, Debug, Serialize)]
pub struct WireError<'a> {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invitation: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replaced_by: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a Email>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_at: Option<Instant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<Instant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cap: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seen: Option<&'static str>,
}

impl WireError<'_> {
    fn bare(code: &'static str, message: String) -> Self {
        Self {
            code,
            message,
            member: None,
            invitation: None,
            replaced_by: None,
            cursor: None,
            email: None,
            retry_at: None,
            until: None,
            max: None,
            cap: None,
            required: None,
            field: None,
            limit: None,
            seen: None,
        }
    }
}

impl ToWire for Refusal {
    type Wire<'a> = WireError<'a>;
    fn to_wire(&self) -> WireError<'_> {
        let mut w = WireError::bare(self.code(), self.to_string());
        w.retry_at = self.retry_at().map(at);
        w.until = self.until().map(at);
        match self {
            Refusal::UnknownMember(m)
            | Refusal::NotAPerson(m)
            | Refusal::NotACompany(m)
            | Refusal::YouBlocked(m)
            | Refusal::MemberExists(m) => w.member = Some(id(*m)),
            Refusal::ConnectionCap { member, cap } => {
                w.member = Some(id(*member));
                w.cap = Some(*cap);
            }
            Refusal::UnknownCursor(m) => w.cursor = Some(id(*m)),
            Refusal::EmailInUse(e) => w.email = Some(e),
            Refusal::TooManyFollows { max }
            | Refusal::TooManyGroups { max }
            | Refusal::TooManyBlocks { max }
            | Refusal::TooManyOutstanding { max } => w.max = Some(*max),
            Refusal::NotEligible { required } => w.required = Some(*required),
            Refusal::ProfileTooLarge { field, limit } => {
                w.field = Some(field_name(*field));
                w.limit = Some(*limit);
            }
            Refusal::InvitationNotFound(i) => w.invitation = Some(id(*i)),
            Refusal::InvitationReplaced { invitation, by } => {
                w.invitation = Some(id(*invitation));
                w.replaced_by = Some(id(*by));
            }
            Refusal::NotPending { seen } => w.seen = Some(seen_name(*seen)),
            Refusal::Yourself
            | Refusal::AlreadyConnected
            | Refusal::ReblockTooSoon { .. }
            | Refusal::Barred
            | Refusal::ResendTooSoon { .. }
            | Refusal::ResendNever
            | Refusal::QuotaExhausted { .. }
            | Refusal::NoteQuotaExhausted { .. }
            | Refusal::EmailProofRequired { .. }
            | Refusal::Suspended { .. }
            | Refusal::NotInvitable
            | Refusal::InvalidNote(_) => {}
        }
        w
    }
}

impl Serialize for Refusal {
    /// The wire form: see [`WireError`].
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

impl ToWire for Error {
    type Wire<'a> = WireError<'a>;
    fn to_wire(&self) -> WireError<'_> {
        match self {
            Error::Refused(r) => r.to_wire(),
            Error::Import(e) => WireError::bare(self.code(), e.to_string()),
            Error::Store(StoreError::Backend(_))
            | Error::Contended { .. }
            | Error::ClockSkew { .. } => WireError::bare(
                self.code(),
                "the service is unavailable; try again later".to_owned(),
            ),
            Error::Store(_) | Error::IndexOutOfStep(_) => {
                WireError::bare(self.code(), "internal error".to_owned())
            }
        }
    }
}

impl Serialize for Error {
    /// The wire form: see [`WireError`]. The operator's errors carry a fixed
    /// message; log their `Display` instead.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}
