//! The JSON wire format: what a host returns to its clients.
//!
//! The serde derives of the stored types ([`Record`](crate::record::Record)
//! and what it holds: [`Member`], [`Event`], [`Timestamp`], the ids...) are
//! the *store's* representation, which [`SqliteStore`](crate::SqliteStore)
//! keeps byte for byte; they are not meant for clients (a [`Member`] there
//! carries its email addresses, instants are integer microseconds, enums are
//! externally tagged in PascalCase). This module gives each value a host
//! shows a client its own, stable representation, through [`ToWire`]:
//! `serde_json::to_string(&event.to_wire())`. [`Refusal`], [`Error`],
//! [`SendOutcome`] and [`Committed`] have no stored form and serialize in
//! their wire form directly; [`ListCursor`] and [`SearchCursor`] serialize
//! as their opaque strings.
//!
//! # Rules
//!
//! - **Objects** have snake_case field names. An optional field is omitted
//!   when absent (never `null`), except a page's `next`, which is `null` on
//!   the last page.
//! - **Tags**: enums with data are internally tagged, `{"type":
//!   "invitation_sent", ...}`, the tag in snake_case; plain enums (a
//!   [`Degree`], an invitation's [`Seen`] state, a standing
//!   [`Level`]) are snake_case strings
//!   (`"out_of_network"`).
//! - **Instants** are RFC 3339 strings in UTC with microseconds,
//!   `"2026-01-02T03:04:05.000000Z"`.
//! - **Ids** (members, invitations, groups) are decimal strings, `"42"`: the
//!   host picks member ids, and a `u64` above 2^53 does not survive a
//!   JavaScript number. Event ids are `"position.index"` strings
//!   ([`EventId`]). Counts (mutual connections, limits, percentages, a
//!   suggestion's score, which is at most `u32::MAX`) are JSON numbers:
//!   they stay far below 2^53.
//! - **Cursors** are opaque strings (see [`ListCursor`], [`SearchCursor`],
//!   [`ChangeCursor`]; a page of members continues after a member id
//!   string): hand back what you were given. Parsing one never panics.
//! - **Errors** are `{"code": "...", "message": "...", ...fields}`: the
//!   code from [`Refusal::code`] / [`Error::code`] (stable, for programs),
//!   the message for people, and the refusal's fields (`retry_at`,
//!   `until`, `max`, `member`...). The operator's errors (store failure,
//!   contention, clock skew, a bug) carry a fixed message: nothing of a
//!   backend, a record key or another member leaks.
//! - **Emails** appear only where their owner or the rules allow: in the
//!   events of an invitation to join (the address the sender wrote, for
//!   the sender; the address to email, for the host's mailer), and in
//!   [`Refusal::EmailInUse`] (the address the caller gave). A [`Member`]'s
//!   wire form has none.
//! - A [`Committed`] carries the events for members only, never
//!   [`Committed::mail`].
//!
//! # Example
//!
//! ```
//! use pronet::wire::ToWire;
//! use pronet::{Event, InvitationId, MemberId, Refusal, Timestamp};
//!
//! let event = Event::InvitationAccepted {
//!     invitation: InvitationId::new(7),
//!     sender: MemberId::new(1),
//!     recipient: MemberId::new(2),
//! };
//! assert_eq!(
//!     serde_json::to_string(&event.to_wire()).unwrap(),
//!     r#"{"type":"invitation_accepted","invitation":"7","sender":"1","recipient":"2"}"#,
//! );
//! let refusal = Refusal::ResendTooSoon { retry_at: Timestamp::UNIX_EPOCH };
//! assert_eq!(
//!     serde_json::to_string(&refusal).unwrap(),
//!     concat!(
//!         r#"{"code":"resend_too_soon","message":"you can invite this member again "#,
//!         r#"from 1970-01-01T00:00:00.000000Z","retry_at":"1970-01-01T00:00:00.000000Z"}"#,
//!     ),
//! );
//! ```

use crate::contacts::join::InviteOutcome;
use crate::discovery::{Reason, SearchCursor, SearchHit, Suggestion};
use crate::email::Email;
use crate::error::{Error, Refusal, StoreError};
use crate::event::Event;
use crate::graph::Degree;
use crate::id::{GroupId, InvitationId, MemberId};
use crate::invitation::Seen;
use crate::invitation::decide::SendOutcome;
use crate::member::{Kind, Member, ProfileField, Tier};
use crate::network::{Committed, InvitationView, ListCursor, Listed};
use crate::note::Note;
use crate::outbox::{EventId, EventPage, Published};
use crate::page::Page;
use crate::standing::{Level, Signal, Standing};
use crate::store::ChangeCursor;
use crate::time::Timestamp;
use serde::{Serialize, Serializer};

/// A value with a wire form: what a host sends its clients.
pub trait ToWire {
    /// The wire form, borrowing from the value.
    type Wire<'a>: Serialize
    where
        Self: 'a;

    /// The value in its wire form, ready for `serde_json`.
    fn to_wire(&self) -> Self::Wire<'_>;
}

/// An id on the wire: a decimal string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Id(u64);

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl From<MemberId> for Id {
    fn from(id: MemberId) -> Self {
        Self(id.get())
    }
}

impl From<InvitationId> for Id {
    fn from(id: InvitationId) -> Self {
        Self(id.get())
    }
}

impl From<GroupId> for Id {
    fn from(id: GroupId) -> Self {
        Self(id.get())
    }
}

/// An instant on the wire: an RFC 3339 string (UTC, microseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instant(Timestamp);

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// A value written as its `Display` string (event ids, cursors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text<T>(T);

impl<T: std::fmt::Display> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

fn at(t: Timestamp) -> Instant {
    Instant(t)
}

fn id(i: impl Into<Id>) -> Id {
    i.into()
}

// ------------------------------------------------------------ plain enums

/// A degree's wire name.
#[must_use]
pub fn degree_name(degree: Degree) -> &'static str {
    match degree {
        Degree::Yourself => "yourself",
        Degree::First => "first",
        Degree::Second => "second",
        Degree::Third => "third",
        Degree::OutOfNetwork => "out_of_network",
    }
}

/// An invitation state's wire name.
#[must_use]
pub fn seen_name(seen: Seen) -> &'static str {
    match seen {
        Seen::Pending => "pending",
        Seen::Held => "held",
        Seen::Ignored => "ignored",
        Seen::Accepted => "accepted",
        Seen::Rejected => "rejected",
        Seen::Withdrawn => "withdrawn",
        Seen::Superseded => "superseded",
        Seen::Expired => "expired",
        Seen::Cancelled => "cancelled",
    }
}

/// A standing level's wire name.
#[must_use]
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Good => "good",
        Level::Warned => "warned",
        Level::Restricted => "restricted",
        Level::Suspended => "suspended",
    }
}

fn field_name(field: ProfileField) -> &'static str {
    match field {
        ProfileField::DisplayName => "display_name",
        ProfileField::Headline => "headline",
        ProfileField::Location => "location",
        ProfileField::CurrentCompanies => "current_companies",
        ProfileField::PastCompanies => "past_companies",
        ProfileField::Schools => "schools",
        ProfileField::School => "school",
        ProfileField::Skills => "skills",
        ProfileField::Skill => "skill",
        ProfileField::Emails => "emails",
    }
}

impl ToWire for Degree {
    type Wire<'a> = &'static str;
    fn to_wire(&self) -> &'static str {
        degree_name(*self)
    }
}

impl ToWire for Seen {
    type Wire<'a> = &'static str;
    fn to_wire(&self) -> &'static str {
        seen_name(*self)
    }
}

impl ToWire for Level {
    type Wire<'a> = &'static str;
    fn to_wire(&self) -> &'static str {
        level_name(*self)
    }
}

impl ToWire for MemberId {
    type Wire<'a> = Id;
    fn to_wire(&self) -> Id {
        id(*self)
    }
}

impl ToWire for InvitationId {
    type Wire<'a> = Id;
    fn to_wire(&self) -> Id {
        id(*self)
    }
}

impl ToWire for Timestamp {
    type Wire<'a> = Instant;
    fn to_wire(&self) -> Instant {
        at(*self)
    }
}

impl ToWire for EventId {
    type Wire<'a> = Text<EventId>;
    fn to_wire(&self) -> Text<EventId> {
        Text(*self)
    }
}

impl ToWire for ChangeCursor {
    type Wire<'a> = Text<ChangeCursor>;
    fn to_wire(&self) -> Text<ChangeCursor> {
        Text(*self)
    }
}

impl ToWire for ListCursor {
    type Wire<'a> = Text<ListCursor>;
    fn to_wire(&self) -> Text<ListCursor> {
        Text(*self)
    }
}

impl ToWire for SearchCursor {
    type Wire<'a> = Text<SearchCursor>;
    fn to_wire(&self) -> Text<SearchCursor> {
        Text(*self)
    }
}

impl ToWire for () {
    type Wire<'a> = ();
    fn to_wire(&self) {}
}

impl<T: ToWire> ToWire for [T] {
    type Wire<'a>
        = Vec<T::Wire<'a>>
    where
        T: 'a;
    fn to_wire(&self) -> Self::Wire<'_> {
        self.iter().map(ToWire::to_wire).collect()
    }
}

impl<T: ToWire> ToWire for Vec<T> {
    type Wire<'a>
        = Vec<T::Wire<'a>>
    where
        T: 'a;
    fn to_wire(&self) -> Self::Wire<'_> {
        self.as_slice().to_wire()
    }
}

impl<T: ToWire> ToWire for Option<T> {
    type Wire<'a>
        = Option<T::Wire<'a>>
    where
        T: 'a;
    fn to_wire(&self) -> Self::Wire<'_> {
        self.as_ref().map(ToWire::to_wire)
    }
}

// ----------------------------------------------------------------- events

/// An [`Event`] on the wire: `{"type": "invitation_sent", ...}`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `Event`.
pub enum WireEvent<'a> {
    MemberRegistered {
        member: Id,
    },
    MemberDeactivated {
        member: Id,
    },
    InvitationSent {
        invitation: Id,
        sender: Id,
        recipient: Id,
        #[serde(skip_serializing_if = "Option::is_none")]
        supersedes: Option<Id>,
    },
    InvitationReceived {
        invitation: Id,
        sender: Id,
        recipient: Id,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a Note>,
    },
    InvitationAccepted {
        invitation: Id,
        sender: Id,
        recipient: Id,
    },
    InvitationRejected {
        invitation: Id,
        sender: Id,
        recipient: Id,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a Note>,
    },
    InvitationIgnored {
        invitation: Id,
        recipient: Id,
    },
    InvitationWithdrawn {
        invitation: Id,
        sender: Id,
    },
    ConnectionCreated {
        a: Id,
        b: Id,
    },
    StandingChanged {
        member: Id,
        from: &'static str,
        to: &'static str,
        reasons: Vec<WireSignal>,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<Instant>,
    },
    QuotaExhausted {
        member: Id,
        retry_at: Instant,
    },
    ConnectionRemoved {
        by: Id,
        other: Id,
    },
    MemberBlocked {
        blocker: Id,
        blocked: Id,
    },
    MemberUnblocked {
        blocker: Id,
        unblocked: Id,
    },
    MemberReported {
        reporter: Id,
        target: Id,
    },
    CompanyFollowed {
        member: Id,
        company: Id,
    },
    CompanyUnfollowed {
        member: Id,
        company: Id,
    },
    GroupJoined {
        member: Id,
        group: Id,
    },
    GroupLeft {
        member: Id,
        group: Id,
    },
    SuggestionDismissed {
        member: Id,
        dismissed: Id,
    },
    ContactsImported {
        owner: Id,
        added: usize,
    },
    JoinInvitationSent {
        invitation: Id,
        sender: Id,
        email: &'a Email,
    },
    JoinInvitationReceived {
        invitation: Id,
        sender: Id,
        email: &'a Email,
    },
    OptedOut {
        email: &'a Email,
    },
}

/// A standing [`Signal`] on the wire: `{"type": "without_note", "percent":
/// 85}`, `{"type": "not_known"}`.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `Signal`.
pub enum WireSignal {
    WithoutNote { percent: u8 },
    OutsideNetwork { percent: u8 },
    Unanswered { percent: u8 },
    Rejected { percent: u8 },
    NotKnown,
    Reported,
    Burst { sends: u32 },
}

impl ToWire for Signal {
    type Wire<'a> = WireSignal;
    fn to_wire(&self) -> WireSignal {
        match *self {
            Signal::WithoutNote { percent } => WireSignal::WithoutNote { percent },
            Signal::OutsideNetwork { percent } => WireSignal::OutsideNetwork { percent },
            Signal::Unanswered { percent } => WireSignal::Unanswered { percent },
            Signal::Rejected { percent } => WireSignal::Rejected { percent },
            Signal::NotKnown => WireSignal::NotKnown,
            Signal::Reported => WireSignal::Reported,
            Signal::Burst { sends } => WireSignal::Burst { sends },
        }
    }
}

impl ToWire for Event {
    type Wire<'a> = WireEvent<'a>;
    fn to_wire(&self) -> WireEvent<'_> {
        use WireEvent as W;
        match self {
            Event::MemberRegistered { member } => W::MemberRegistered {
                member: id(*member),
            },
            Event::MemberDeactivated { member } => W::MemberDeactivated {
                member: id(*member),
            },
            Event::InvitationSent {
                invitation,
                sender,
                recipient,
                supersedes,
            } => W::InvitationSent {
                invitation: id(*invitation),
                sender: id(*sender),
                recipient: id(*recipient),
                supersedes: supersedes.map(id),
            },
            Event::InvitationReceived {
                invitation,
                sender,
                recipient,
                note,
            } => W::InvitationReceived {
                invitation: id(*invitation),
                sender: id(*sender),
                recipient: id(*recipient),
                note: note.as_ref(),
            },
            Event::InvitationAccepted {
                invitation,
                sender,
                recipient,
            } => W::InvitationAccepted {
                invitation: id(*invitation),
                sender: id(*sender),
                recipient: id(*recipient),
            },
            Event::InvitationRejected {
                invitation,
                sender,
                recipient,
                note,
            } => W::InvitationRejected {
                invitation: id(*invitation),
                sender: id(*sender),
                recipient: id(*recipient),
                note: note.as_ref(),
            },
            Event::InvitationIgnored {
                invitation,
                recipient,
            } => W::InvitationIgnored {
                invitation: id(*invitation),
                recipient: id(*recipient),
            },
            Event::InvitationWithdrawn { invitation, sender } => W::InvitationWithdrawn {
                invitation: id(*invitation),
                sender: id(*sender),
            },
            Event::ConnectionCreated { a, b } => W::ConnectionCreated {
                a: id(*a),
                b: id(*b),
            },
            Event::StandingChanged {
                member,
                from,
                to,
                reasons,
                until,
            } => W::StandingChanged {
                member: id(*member),
                from: level_name(*from),
                to: level_name(*to),
                reasons: reasons.to_wire(),
                until: until.map(at),
            },
            Event::QuotaExhausted { member, retry_at } => W::QuotaExhausted {
                member: id(*member),
                retry_at: at(*retry_at),
            },
            Event::ConnectionRemoved { by, other } => W::ConnectionRemoved {
                by: id(*by),
                other: id(*other),
            },
            Event::MemberBlocked { blocker, blocked } => W::MemberBlocked {
                blocker: id(*blocker),
                blocked: id(*blocked),
            },
            Event::MemberUnblocked { blocker, unblocked } => W::MemberUnblocked {
                blocker: id(*blocker),
                unblocked: id(*unblocked),
            },
            Event::MemberReported { reporter, target } => W::MemberReported {
                reporter: id(*reporter),
                target: id(*target),
            },
            Event::CompanyFollowed { member, company } => W::CompanyFollowed {
                member: id(*member),
                company: id(*company),
            },
            Event::CompanyUnfollowed { member, company } => W::CompanyUnfollowed {
                member: id(*member),
                company: id(*company),
            },
            Event::GroupJoined { member, group } => W::GroupJoined {
                member: id(*member),
                group: id(*group),
            },
            Event::GroupLeft { member, group } => W::GroupLeft {
                member: id(*member),
                group: id(*group),
            },
            Event::SuggestionDismissed { member, dismissed } => W::SuggestionDismissed {
                member: id(*member),
                dismissed: id(*dismissed),
            },
            Event::ContactsImported { owner, added } => W::ContactsImported {
                owner: id(*owner),
                added: *added,
            },
            Event::JoinInvitationSent {
                invitation,
                sender,
                email,
            } => W::JoinInvitationSent {
                invitation: id(*invitation),
                sender: id(*sender),
                email,
            },
            Event::JoinInvitationReceived {
                invitation,
                sender,
                email,
            } => W::JoinInvitationReceived {
                invitation: id(*invitation),
                sender: id(*sender),
                email,
            },
            Event::OptedOut { email } => W::OptedOut { email },
        }
    }
}

/// A [`Published`] event on the wire: `{"id": "12.0", "at": "...",
/// "event": {"type": ...}}`.
#[derive(Clone, Debug, Serialize)]
pub struct WirePublished<'a> {
    id: Text<EventId>,
    at: Instant,
    event: WireEvent<'a>,
}

impl ToWire for Published {
    type Wire<'a> = WirePublished<'a>;
    fn to_wire(&self) -> WirePublished<'_> {
        WirePublished {
            id: Text(self.id),
            at: at(self.at),
            event: self.event.to_wire(),
        }
    }
}

/// An [`EventPage`] on the wire: `{"events": [...], "cursor": "17"}`.
#[derive(Clone, Debug, Serialize)]
pub struct WireEventPage<'a> {
    events: Vec<WirePublished<'a>>,
    cursor: Text<ChangeCursor>,
}

impl ToWire for EventPage {
    type Wire<'a> = WireEventPage<'a>;
    fn to_wire(&self) -> WireEventPage<'_> {
        WireEventPage {
            events: self.events.to_wire(),
            cursor: Text(self.cursor),
        }
    }
}

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

// -------------------------------------------------------- rows and views

/// A [`Listed`] invitation on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct WireListed<'a> {
    invitation: Id,
    other: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a Note>,
    sent_at: Instant,
    mutual_connections: usize,
}

impl ToWire for Listed {
    type Wire<'a> = WireListed<'a>;
    fn to_wire(&self) -> WireListed<'_> {
        WireListed {
            invitation: id(self.invitation),
            other: id(self.other),
            note: self.note.as_ref(),
            sent_at: at(self.sent_at),
            mutual_connections: self.mutual_connections,
        }
    }
}

/// An [`InvitationView`] on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct WireInvitationView<'a> {
    id: Id,
    sender: Id,
    recipient: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a Note>,
    sent_at: Instant,
    seen: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    decline_note: Option<&'a Note>,
}

impl ToWire for InvitationView {
    type Wire<'a> = WireInvitationView<'a>;
    fn to_wire(&self) -> WireInvitationView<'_> {
        WireInvitationView {
            id: id(self.id),
            sender: id(self.sender),
            recipient: id(self.recipient),
            note: self.note.as_ref(),
            sent_at: at(self.sent_at),
            seen: seen_name(self.seen),
            decline_note: self.decline_note.as_ref(),
        }
    }
}

/// A suggestion's [`Reason`] on the wire: `{"type": "mutual_connections",
/// "count": 3}`, `{"type": "in_contacts"}`, `{"type": "current_company",
/// "company": "9"}`, `{"type": "school", "name": "..."}`, `{"type":
/// "group", "group": "5"}`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `Reason`.
pub enum WireReason<'a> {
    MutualConnections { count: usize },
    InContacts,
    CurrentCompany { company: Id },
    PastCompany { company: Id },
    School { name: &'a str },
    Group { group: Id },
}

impl ToWire for Reason {
    type Wire<'a> = WireReason<'a>;
    fn to_wire(&self) -> WireReason<'_> {
        match self {
            Reason::MutualConnections(count) => WireReason::MutualConnections { count: *count },
            Reason::InContacts => WireReason::InContacts,
            Reason::CurrentCompany(c) => WireReason::CurrentCompany { company: id(*c) },
            Reason::PastCompany(c) => WireReason::PastCompany { company: id(*c) },
            Reason::School(name) => WireReason::School { name },
            Reason::Group(g) => WireReason::Group { group: id(*g) },
        }
    }
}

/// A [`Suggestion`] on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct WireSuggestion<'a> {
    member: Id,
    score: u64,
    reasons: Vec<WireReason<'a>>,
}

impl ToWire for Suggestion {
    type Wire<'a> = WireSuggestion<'a>;
    fn to_wire(&self) -> WireSuggestion<'_> {
        WireSuggestion {
            member: id(self.member),
            score: self.score,
            reasons: self.reasons.to_wire(),
        }
    }
}

/// A [`SearchHit`] on the wire.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WireSearchHit {
    member: Id,
    degree: &'static str,
    mutual_connections: usize,
}

impl ToWire for SearchHit {
    type Wire<'a> = WireSearchHit;
    fn to_wire(&self) -> WireSearchHit {
        WireSearchHit {
            member: id(self.member),
            degree: degree_name(self.degree),
            mutual_connections: self.mutual_connections,
        }
    }
}

/// A sender's [`Standing`] on the wire, for the sender:
/// `{"level": "restricted", "until": "...", "reasons": [...], "strikes": 1}`.
#[derive(Clone, Debug, Serialize)]
pub struct WireStanding {
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<Instant>,
    reasons: Vec<WireSignal>,
    strikes: u32,
}

impl ToWire for Standing {
    type Wire<'a> = WireStanding;
    fn to_wire(&self) -> WireStanding {
        WireStanding {
            level: level_name(self.level),
            until: self.until.map(at),
            reasons: self.reasons.to_wire(),
            strikes: self.strikes,
        }
    }
}

/// A [`Page`] on the wire: `{"items": [...], "next": "<cursor>" | null}`.
#[derive(Clone, Debug, Serialize)]
pub struct WirePage<I, C> {
    items: Vec<I>,
    next: Option<C>,
}

impl<T: ToWire, C: ToWire> ToWire for Page<T, C> {
    type Wire<'a>
        = WirePage<T::Wire<'a>, C::Wire<'a>>
    where
        T: 'a,
        C: 'a;
    fn to_wire(&self) -> Self::Wire<'_> {
        WirePage {
            items: self.items.to_wire(),
            next: self.next.to_wire(),
        }
    }
}

/// A [`Member`] on the wire: its id, kind, tier and profile, and **no email
/// address** (the stored form, [`Member`]'s serde, carries them).
/// `{"id": "42", "kind": "person", "tier": "free", "profile": {...}}`; a
/// paid tier is `"premium_0"`, `"premium_1"`...
#[derive(Clone, Debug, Serialize)]
pub struct WireMember<'a> {
    id: Id,
    kind: &'static str,
    tier: std::borrow::Cow<'static, str>,
    profile: WireProfile<'a>,
}

/// A member's profile on the wire (companies as id strings).
#[derive(Clone, Debug, Serialize)]
pub struct WireProfile<'a> {
    display_name: &'a str,
    headline: &'a str,
    location: &'a str,
    current_companies: Vec<Id>,
    past_companies: Vec<Id>,
    schools: &'a [String],
    skills: &'a [String],
}

impl ToWire for Member {
    type Wire<'a> = WireMember<'a>;
    fn to_wire(&self) -> WireMember<'_> {
        let p = &self.profile;
        WireMember {
            id: id(self.id),
            kind: match self.kind {
                Kind::Person => "person",
                Kind::Company => "company",
            },
            tier: match self.tier {
                Tier::Free => "free".into(),
                Tier::Premium(level) => format!("premium_{level}").into(),
            },
            profile: WireProfile {
                display_name: &p.display_name,
                headline: &p.headline,
                location: &p.location,
                current_companies: p.current_companies.iter().copied().map(id).collect(),
                past_companies: p.past_companies.iter().copied().map(id).collect(),
                schools: &p.schools,
                skills: &p.skills,
            },
        }
    }
}
