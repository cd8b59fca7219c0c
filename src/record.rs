//! The closed store model: where each record lives ([`Key`]), the records
//! themselves ([`Record`], one variant per record kind), and the versions
//! the store keeps with them.

use crate::block::{Block, BlockList, BlockTally, Report};
use crate::contacts::{Contact, Invitee};
use crate::discovery::{Dismissals, Follows, Memberships};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::{InboxMark, Invitation, Ledger, PairState};
use crate::member::{EmailOwner, Member};
use crate::outbox::{Outbox, OutboxKey};
use serde::{Deserialize, Serialize};

/// A record's version in the store: 1 when first written, then one more on
/// every write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(pub u64);

impl Version {
    /// The version of a record written for the first time.
    pub const FIRST: Self = Self(1);

    /// The version after one more write.
    #[must_use]
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

/// A value read from the store with its version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versioned<T> {
    /// The version read.
    pub version: Version,
    /// The value.
    pub value: T,
}

/// "The stored record or a new one", as every rule that updates a record
/// reads it.
pub(crate) trait OrNew<T> {
    /// The stored value, or `new()` when nothing is stored.
    fn or_new(self, new: impl FnOnce() -> T) -> T;
}

impl<T: Clone> OrNew<T> for Option<&Versioned<T>> {
    fn or_new(self, new: impl FnOnce() -> T) -> T {
        self.map_or_else(new, |v| v.value.clone())
    }
}

/// Where a record lives. Each key holds one kind of [`Record`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Key {
    /// A member.
    Member(MemberId),
    /// An invitation.
    Invitation(InvitationId),
    /// The state of an unordered pair of members.
    Pair(PairKey),
    /// A member's counters.
    Ledger(MemberId),
    /// One imported contact: the owner and the address's canonical key.
    Contact(MemberId, String),
    /// A member's blocks, both ways: no longer written (see
    /// [`Key::Block`]).
    Blocks(MemberId),
    /// One reporter's report of one member: (reporter, target).
    Report(MemberId, MemberId),
    /// Who owns an email address, by its canonical key.
    EmailOwner(String),
    /// An address as a target of invitations to join, by its canonical key.
    Invitee(String),
    /// The company pages a member follows.
    Follows(MemberId),
    /// The groups a member belongs to.
    Groups(MemberId),
    /// The suggestions a member dismissed.
    Dismissed(MemberId),
    /// One member's block of another: (blocker, target).
    Block(MemberId, MemberId),
    /// How many members a member blocks.
    BlockTally(MemberId),
    /// The events of one committed change, until the relay acknowledges
    /// them (see [`Store`](crate::Store), clause 9).
    Outbox(OutboxKey),
    /// How far a member has marked their inbox seen (theirs alone).
    InboxMark(MemberId),
}

impl Key {
    /// Whether the key itself names a person: an email address (imported
    /// contacts, address owners, invitees). Deleting such a key leaves no
    /// tombstone and no trace in the change feed (see
    /// [`Store`](crate::Store), clause 10).
    #[must_use]
    pub fn holds_personal_data(&self) -> bool {
        matches!(
            self,
            Self::Contact(..) | Self::EmailOwner(_) | Self::Invitee(_)
        )
    }
}

/// A stored value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Record {
    /// A member.
    Member(Member),
    /// An invitation.
    Invitation(Invitation),
    /// A pair's connection, open invitation and history.
    Pair(PairState),
    /// A member's counters.
    Ledger(Ledger),
    /// An imported contact.
    Contact(Contact),
    /// A member's blocks: no longer written (see [`Record::Block`]).
    Blocks(BlockList),
    /// A report.
    Report(Report),
    /// An address's owner.
    EmailOwner(EmailOwner),
    /// An address's invitations to join and opt-out.
    Invitee(Invitee),
    /// A member's follows.
    Follows(Follows),
    /// A member's groups.
    Groups(Memberships),
    /// A member's dismissed suggestions.
    Dismissed(Dismissals),
    /// One member's block of another.
    Block(Block),
    /// How many members a member blocks.
    BlockTally(BlockTally),
    /// The events of one committed change.
    Outbox(Outbox),
    /// How far a member has marked their inbox seen.
    InboxMark(InboxMark),
}

impl Record {
    /// The key this record is stored under.
    #[must_use]
    pub fn key(&self) -> Key {
        match self {
            Self::Member(m) => Key::Member(m.id),
            Self::Invitation(i) => Key::Invitation(i.id),
            Self::Pair(p) => Key::Pair(p.key),
            Self::Ledger(l) => Key::Ledger(l.member),
            Self::Contact(c) => Key::Contact(c.owner, c.email.canonical().to_owned()),
            Self::Blocks(b) => Key::Blocks(b.member),
            Self::Report(r) => Key::Report(r.reporter, r.target),
            Self::EmailOwner(o) => Key::EmailOwner(o.email.canonical().to_owned()),
            Self::Invitee(i) => Key::Invitee(i.email.canonical().to_owned()),
            Self::Follows(f) => Key::Follows(f.member),
            Self::Groups(g) => Key::Groups(g.member),
            Self::Dismissed(d) => Key::Dismissed(d.member),
            Self::Block(b) => Key::Block(b.blocker, b.target),
            Self::BlockTally(t) => Key::BlockTally(t.member),
            Self::Outbox(o) => Key::Outbox(o.key),
            Self::InboxMark(m) => Key::InboxMark(m.member),
        }
    }
}

macro_rules! record_kind {
    ($variant:ident, $ty:ty) => {
        impl From<$ty> for Record {
            fn from(value: $ty) -> Self {
                Self::$variant(value)
            }
        }

        impl TryFrom<Record> for $ty {
            type Error = Record;
            fn try_from(record: Record) -> Result<Self, Record> {
                match record {
                    Record::$variant(value) => Ok(value),
                    other => Err(other),
                }
            }
        }
    };
}

record_kind!(Member, Member);
record_kind!(Invitation, Invitation);
record_kind!(Pair, PairState);
record_kind!(Ledger, Ledger);
record_kind!(Contact, Contact);
record_kind!(Blocks, BlockList);
record_kind!(Report, Report);
record_kind!(EmailOwner, EmailOwner);
record_kind!(Invitee, Invitee);
record_kind!(Follows, Follows);
record_kind!(Groups, Memberships);
record_kind!(Dismissed, Dismissals);
record_kind!(Block, Block);
record_kind!(BlockTally, BlockTally);
record_kind!(Outbox, Outbox);
record_kind!(InboxMark, InboxMark);
