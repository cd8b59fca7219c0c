//! Blocking, removing and reporting, and the per-viewer visibility they
//! imply: a block hides each member from the other in every answer, and
//! to the blocked member the blocker looks like a member who does not
//! exist.
//!
//! Each block is its own record, [`Block`], under
//! [`Key::Block(blocker, target)`](crate::record::Key::Block): a block
//! writes that one small record (and the blocker's [`BlockTally`], which counts
//! their blocks against the policy's limit), whatever the number of members
//! who blocked the same target. Who blocked a member, and whom a member
//! blocked, are the store's secondary read [`Store::blocks`], derived from
//! the standing block records; together they are the members hidden from
//! that member in every answer, the one filter every read goes through. A
//! block also writes the pair's record, so that it serialises with every
//! send, accept and removal between the two (the store's version check
//! referees).
//!
//! [`Store::blocks`]: crate::Store::blocks

pub mod decide;

use crate::id::MemberId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One member's block of another: the record under
/// [`Key::Block(blocker, target)`](crate::record::Key::Block). Lifting the
/// block keeps the record, remembering when (for the re-block wait).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Block {
    /// Who blocked.
    pub blocker: MemberId,
    /// Who is blocked.
    pub target: MemberId,
    /// When the standing block was made; `None` once lifted.
    pub since: Option<Timestamp>,
    /// When the blocker last lifted a block of the target, if ever.
    pub unblocked: Option<Timestamp>,
}

impl Block {
    /// `blocker`'s record about `target`, never blocked.
    #[must_use]
    pub fn new(blocker: MemberId, target: MemberId) -> Self {
        Self {
            blocker,
            target,
            since: None,
            unblocked: None,
        }
    }

    /// Whether the block stands.
    #[must_use]
    pub fn stands(&self) -> bool {
        self.since.is_some()
    }
}

/// How many members one member blocks now: the record under
/// [`Key::BlockTally(member)`](crate::record::Key::BlockTally), written by
/// that member's blocks and unblocks only. It checks
/// [`Policy::max_blocks`](crate::Policy::max_blocks), and serialises one member's concurrent blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlockTally {
    /// The member.
    pub member: MemberId,
    /// Their standing blocks.
    pub blocks: u32,
}

impl BlockTally {
    /// A member who blocks nobody.
    #[must_use]
    pub fn new(member: MemberId) -> Self {
        Self { member, blocks: 0 }
    }
}

/// One member's blocks, both ways: a view assembled from [`Block`]
/// records (see [`from_blocks`](Self::from_blocks)).
///
/// Before 0.2 it was also the stored record, one per member under
/// `Key::Blocks`, which rewrote the whole `blocked_by` set of a member on
/// every block of them; pronet no longer writes or reads such records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlockList {
    /// The member.
    pub member: MemberId,
    /// Members this member blocked, with when.
    pub blocked: BTreeMap<MemberId, Timestamp>,
    /// Members who blocked this member.
    pub blocked_by: BTreeSet<MemberId>,
    /// When this member last unblocked each member (for the re-block wait).
    pub unblocked: BTreeMap<MemberId, Timestamp>,
}

impl BlockList {
    /// A member's empty list.
    #[must_use]
    pub fn new(member: MemberId) -> Self {
        Self {
            member,
            blocked: BTreeMap::new(),
            blocked_by: BTreeSet::new(),
            unblocked: BTreeMap::new(),
        }
    }

    /// `member`'s list from block records; records not about `member` are
    /// skipped.
    #[must_use]
    pub fn from_blocks<'a>(member: MemberId, blocks: impl IntoIterator<Item = &'a Block>) -> Self {
        let mut list = Self::new(member);
        for b in blocks {
            if b.blocker == member {
                if let Some(at) = b.since {
                    list.blocked.insert(b.target, at);
                }
                if let Some(at) = b.unblocked {
                    list.unblocked.insert(b.target, at);
                }
            } else if b.target == member && b.stands() {
                list.blocked_by.insert(b.blocker);
            }
        }
        list
    }

    /// Whether `other` is hidden from this member: blocked either way.
    #[must_use]
    pub fn hides(&self, other: MemberId) -> bool {
        self.blocked.contains_key(&other) || self.blocked_by.contains(&other)
    }

    /// Every member hidden from this member.
    pub fn hidden(&self) -> impl Iterator<Item = MemberId> + '_ {
        self.blocked
            .keys()
            .copied()
            .chain(self.blocked_by.iter().copied())
    }
}

/// What [`Network::block`](crate::Network::block) did, for the blocker.
///
/// A member the blocker cannot see (one who does not exist, is
/// deactivated, or blocked the blocker) is no outcome but the refusal
/// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember), with nothing
/// recorded: to the blocked member, a blocker looks exactly like a member who
/// does not exist, and the standing block already keeps the two apart both
/// ways. An `Ok` always means what it says; a refusal always means nothing
/// was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlockOutcome {
    /// The block was made now: the connection and any pending invitation
    /// between the two are gone.
    Blocked,
    /// The blocker already blocked this member; nothing changed.
    AlreadyBlocked,
}

/// What [`Network::unblock`](crate::Network::unblock) did, for the blocker.
///
/// As for [`BlockOutcome`], a member the blocker cannot see is refused with
/// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) and nothing is
/// recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnblockOutcome {
    /// The block was lifted now; nothing it removed is restored.
    Unblocked,
    /// There was no block to lift; nothing changed.
    NotBlocked,
}

/// Why a member is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReportReason {
    /// Spam or unwanted invitations.
    Spam,
    /// A fake or impersonating profile.
    Fake,
    /// Harassment or abuse.
    Harassment,
    /// Anything else.
    Other,
}

/// One reporter's report of one member. One reporter counts once per
/// target: a second report replaces nothing and counts nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// Who reported. Never shown to the reported member.
    pub reporter: MemberId,
    /// Who is reported.
    pub target: MemberId,
    /// Why.
    pub reason: ReportReason,
    /// When.
    pub at: Timestamp,
}
