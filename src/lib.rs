//! pronet: the connection side of a professional network.
//!
//! Members and their connections (1st, 2nd, 3rd degree, mutual
//! connections), and the invitations that create connections, with the rules
//! that keep them personal. The host brings persistence (a [`Store`]) and
//! time (a [`Clock`]); the core does no I/O.
//!
//! - [`graph`]: the social graph index and its degree queries.
//! - [`invitation`]: invitation records and, in [`invitation::decide`], every
//!   invitation rule as a pure decision.
//! - [`contacts`]: address-book import (the pure parser in
//!   [`contacts::import`]), matching, and invitations to join.
//! - [`discovery`]: people you may know, people search, follows and groups.
//! - [`Network`]: the shell that loads facts, decides, commits atomically
//!   through the [`Store`], and keeps the graph current.
//! - [`wire`]: the JSON wire format for what a host returns to clients,
//!   and the error codes ([`Refusal::code`], [`Error::code`]).

pub mod block;
pub mod change;
pub mod contacts;
mod cursor;
pub mod discovery;
pub mod email;
pub mod error;
pub mod event;
#[cfg(test)]
mod given;
pub mod graph;
pub mod id;
mod instants;
pub mod invitation;
pub mod member;
pub mod network;
pub mod note;
pub mod outbox;
pub mod page;
pub mod policy;
mod privacy;
pub mod quota;
pub mod record;
pub mod standing;
pub mod store;
pub mod time;
pub mod wire;

pub use block::{BlockOutcome, ReportReason, UnblockOutcome};
/// A span of time (chrono's), re-exported so that a host needs no direct
/// chrono dependency: [`ManualClock::advance`], [`Timestamp::saturating_add`],
/// the quotas and the policy's durations take it.
///
/// ```
/// use pronet::{ManualClock, TimeDelta, Timestamp};
/// let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
/// clock.advance(TimeDelta::days(1));
/// ```
pub use chrono::TimeDelta;
pub use contacts::join::InviteOutcome;
pub use contacts::{Format as ImportFormat, ImportReport};
pub use discovery::{DegreeFilter, Reason, SearchCursor, SearchHit, SearchQuery, Suggestion};
pub use email::{Email, EmailError};
pub use error::{CommitError, Error, Refusal, StoreError};
pub use event::{Audience, Event};
pub use graph::{Degree, GraphError, SocialGraph};
pub use id::{GroupId, InvitationId, MemberId, PairKey};
pub use invitation::Allowance;
pub use invitation::decide::{SendOutcome, SendRequest};
pub use invitation::{IgnoreReason, Seen};
pub use member::{
    InvitePreference, Kind, Member, MemberEmail, Profile, ProfileField, ProfileLimits, Tier,
};
#[cfg(feature = "testing")]
pub use network::ReadQuery;
pub use network::{
    BlockedMember, Card, Committed, Export, Freshness, InvitationCounts, InvitationView,
    ListCursor, Listed, MemberView, Network, Relationship, Retained, Row, SentJoinInvitation,
};
pub use note::{Note, NoteError};
pub use outbox::{EventId, EventPage, Published};
pub use page::{CursorError, Page, PageSize, PageSizeError};
pub use policy::{
    ConfigDuration, ConfigImportLimits, ConfigNoteQuota, ConfigQuota, Policy, PolicyConfig,
    PolicyError, Unlimited,
};
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{ChangeCursor, Changes, MemoryStore, Store};
#[cfg(feature = "postgres")]
pub use store::{PostgresOpenError, PostgresStore};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
