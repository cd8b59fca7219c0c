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
//!   [`PymkCursor`], [`ChangeCursor`]; a page
//!   of members or of blocked members continues after a member id
//!   string): hand back what you were given. Parsing one never panics.
//! - **Errors** are `{"code": "...", "message": "...", ...fields}`: the
//!   code from [`Refusal::code`] / [`Error::code`] (stable, for programs),
//!   the message for people, and the refusal's fields (`retry_at`,
//!   `until`, `max`, `member`...). The operator's errors (store failure,
//!   contention, clock skew, a bug) carry a fixed message: nothing of a
//!   backend, a record key or another member leaks.
//! - **Emails** appear only where their owner or the rules allow: in the
//!   events of an invitation to join (the address the sender wrote, for
//!   the sender; the address to email, for the host's mailer), in the
//!   sender's rows of their invitations to join
//!   ([`SentJoinInvitation`]), in [`Refusal::EmailInUse`] (the address the
//!   caller gave), and in a member's own [`MemberView`](crate::MemberView)
//!   (`"emails"`, omitted in anyone else's). A [`Member`]'s wire form has
//!   none.
//! - **Hidden members** are `null` in a list of
//!   [`relationships`](crate::Network::relationships), exactly as unknown
//!   ids are.
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

use crate::block::{BlockOutcome, UnblockOutcome};
use crate::contacts::join::InviteOutcome;
use crate::discovery::{PymkCursor, Reason, SearchCursor, SearchHit, Suggestion};
use crate::email::Email;
use crate::error::{Error, Refusal, StoreError};
use crate::event::Event;
use crate::graph::Degree;
use crate::id::{GroupId, InvitationId, MemberId};
use crate::invitation::Seen;
use crate::invitation::decide::SendOutcome;
use crate::member::{Kind, Member, ProfileField, Tier};
use crate::network::{Committed, InvitationView, ListCursor, Listed, SentJoinInvitation};
use crate::note::Note;
use crate::outbox::{EventId, EventPage, Published};
use crate::page::Page;
use crate::standing::{Level, Signal, Standing};
use crate::store::ChangeCursor;
use crate::time::Timestamp;
use serde::{Serialize, Serializer};

mod answers;
mod events;
mod export;
mod reads;
mod views;

pub use answers::*;
pub use events::*;
pub use export::*;
pub use reads::*;
pub use views::*;

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

/// Ids and cursors that travel as their text form ([`Text`]).
macro_rules! as_text {
    ($($t:ty),*) => {$(
        impl ToWire for $t {
            type Wire<'a> = Text<$t>;
            fn to_wire(&self) -> Text<$t> {
                Text(*self)
            }
        }
    )*};
}

as_text!(EventId, ChangeCursor, ListCursor, SearchCursor, PymkCursor);

impl ToWire for BlockOutcome {
    type Wire<'a> = &'static str;
    /// `"blocked"` or `"already_blocked"`.
    fn to_wire(&self) -> &'static str {
        match self {
            BlockOutcome::Blocked => "blocked",
            BlockOutcome::AlreadyBlocked => "already_blocked",
        }
    }
}

impl ToWire for UnblockOutcome {
    type Wire<'a> = &'static str;
    /// `"unblocked"` or `"not_blocked"`.
    fn to_wire(&self) -> &'static str {
        match self {
            UnblockOutcome::Unblocked => "unblocked",
            UnblockOutcome::NotBlocked => "not_blocked",
        }
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
