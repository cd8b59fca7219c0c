//! Persistence: the [`Store`] trait the host implements, [`MemoryStore`],
//! `SqliteStore` (feature `sqlite`), and for testing stores (feature
//! `testing`) the conformance suite and a fault-injecting wrapper.

#[cfg(feature = "testing")]
pub mod conformance;
#[cfg(feature = "testing")]
mod faulty;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod json;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "testing")]
pub use faulty::{Fault, FaultyStore, Injected};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{FeedListener, PostgresOpenError, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{OpenError, SqliteStore};

use crate::block::Block;
use crate::change::{Change, Write};
use crate::contacts::Contact;
pub use crate::cursor::ChangeCursor;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;
use crate::outbox::Outbox;
use crate::record::{Key, Record, Versioned};

/// Which side of an invitation a member is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The member sent it.
    Sender,
    /// The member received it.
    Recipient,
}

/// The standing blocks around one member, from
/// [`Store::blocks_both_ways`], each list in any order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BothWays {
    /// The blocks the member made (as [`Role::Sender`]).
    pub made: Vec<Block>,
    /// The blocks others made of the member (as [`Role::Recipient`]).
    pub received: Vec<Block>,
}

/// Reads a decision makes together, for [`Store::gather`]: the records
/// under some keys and, if asked, the secondary reads around one member.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gather<'k> {
    /// Read as [`get_many`](Store::get_many) reads them.
    pub keys: &'k [Key],
    /// Whose blocks to read, as [`blocks_both_ways`](Store::blocks_both_ways).
    pub blocks_both_ways: Option<MemberId>,
    /// Whose open invitations in which role to read, as
    /// [`open_invitations`](Store::open_invitations).
    pub open_invitations: Option<(MemberId, Role)>,
}

/// What [`Store::gather`] read: each part as its own method answers it;
/// a part that was not asked for is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gathered {
    /// The records under [`Gather::keys`], in their order.
    pub records: Vec<Option<Versioned<Record>>>,
    /// The blocks around [`Gather::blocks_both_ways`]'s member.
    pub blocks: BothWays,
    /// The open invitations of [`Gather::open_invitations`], in any order.
    pub open_invitations: Vec<Invitation>,
}

/// The source of truth: where pronet keeps members, invitations, pairs and
/// counters. The host implements it over its database; [`MemoryStore`] is the
/// reference implementation, and `SqliteStore` (feature `sqlite`) keeps it in
/// SQLite. The conformance suite (feature `testing`,
/// `pronet::store::conformance`) checks an implementation against every
/// clause below.
///
/// # The contract
///
/// Records live under [`Key`]s; each stored record has a [`Version`]
/// (1 when first written, one more on every write). A write stores a record
/// or deletes one ([`Change`]); deletion leaves a tombstone or, for keys
/// that hold personal data, nothing (clause 10). The outbox's records are
/// deleted by [`trim_outbox`](Store::trim_outbox) once the host's relay
/// acknowledged them (clause 9).
///
/// 1. **Atomic change sets.** [`commit`](Store::commit) applies every write
///    of the slice or none of them. Readers never observe a partly applied
///    change set: each read method answers from one consistent state.
/// 2. **Expected versions.** Each write carries an [`Expect`]: `Absent` holds
///    when no record is stored under the key, `At(v)` when the stored record
///    has version `v`. If any expectation fails, `commit` writes nothing and
///    answers [`CommitError::Conflict`] naming a key that failed. A
///    tombstone (clause 10) counts as no record: `Absent` holds on it and
///    `At` never does. Checking and
///    writing are one atomic step: two commits expecting the same version of
///    one key can never both succeed. In SQL this is `INSERT ... ON CONFLICT
///    DO NOTHING` and `UPDATE ... WHERE version = ?` checked for one affected
///    row, inside one transaction. A change set that writes one key twice is
///    refused the same way (`Conflict` naming that key, nothing written),
///    whatever its expectations. An empty change set succeeds and changes
///    nothing.
/// 3. **Versions advance.** A successful write stores the record with the
///    expected version plus one; when it was absent, one more than its
///    tombstone's version, or `Version::FIRST` under a key never written.
///    Under a key that holds personal data ([`Key::holds_personal_data`]),
///    whose deletion keeps no tombstone, a created record's version is
///    instead at least the feed position its write takes (clause 7): higher
///    than any version the key had before, since a key's version never
///    exceeds the position of its latest write.
/// 4. **Reads are committed state.** [`get`](Store::get) returns the latest
///    committed record and its version, equal to what was written
///    ([`get_many`](Store::get_many) the same for each of several keys); the
///    secondary reads below reflect exactly the committed records. A record
///    read back that cannot be decoded, or that does not belong under its
///    key, is [`StoreError::Corrupt`], never a guess.
/// 5. **Secondary reads.** [`open_invitations`](Store::open_invitations)
///    returns the invitations where the member has the given role and
///    [`Invitation::is_open`] holds (status pending or ignored);
///    [`connections`](Store::connections) the pairs whose record has
///    `connected_since` set; [`members`](Store::members) every member record;
///    [`contacts`](Store::contacts) the contact records of one owner;
///    [`blocks`](Store::blocks) the [`Block`] records that stand
///    ([`Block::stands`]) with the member as blocker (`Role::Sender`) or as
///    target (`Role::Recipient`), and
///    [`blocks_both_ways`](Store::blocks_both_ways) both of those at once;
///    [`gather`](Store::gather) answers records by key and these reads
///    together, each part as its own method would. Each is derived from
///    the latest version of each record alone, and records of other kinds
///    never appear in them.
/// 6. **Ids.** [`next_invitation_id`](Store::next_invitation_id) never
///    returns the same id twice, across all callers and processes; ids
///    may be skipped.
/// 7. **The change feed.** Every successful commit gives each record it
///    writes a new position in the store's change feed, after every
///    position given before (a change set's records in the order of its
///    writes); a record's earlier position is then vacated.
///    [`changes_since(after, limit)`](Store::changes_since) returns the
///    records whose position is after `after`, in position order, each once
///    at its latest committed version, at most `limit` of them (at least one
///    when `limit > 0` and any exists), with the cursor of the last one
///    returned (`after` itself when none is). Positions become visible in
///    order: once a reader has seen a position, no commit becomes visible
///    later with a position before it (in SQL, positions are assigned under
///    the database's write lock, or from a commit-ordered sequence). So a
///    reader that follows the feed from a cursor to its end has seen every
///    record written since, at its latest version.
///    A store that makes a reader wait for that (a commit that ended
///    before a read began must be in it) may instead, from
///    [`changes_now`](Store::changes_now), answer the records it would
///    wait for as [`unsettled`](Changes::unsettled): committed, each at its
///    latest version, after the cursor it answers; the reader applies
///    them and reads them again later.
///    [`change_cursor`](Store::change_cursor) is the position of the latest
///    committed write ([`ChangeCursor::START`] in an empty store). Positions
///    may have gaps; failed commits take none that a reader can see.
///    Positions are never given twice, also after the record holding the
///    latest one was trimmed (clause 9): a store keeps its last position
///    apart from the records.
/// 8. **Failures.** A backend failure is [`StoreError::Backend`]. If a
///    commit may have been applied although an error is reported (a lost
///    acknowledgement), pronet's retry re-reads and re-decides, so the
///    change is never applied twice; the store must not apply it twice
///    on its own either.
/// 9. **The outbox.** Records under [`Key::Outbox`] hold the events of the
///    change set that wrote them ([`Outbox`]); they are written once
///    (expecting `Absent`), and rewritten or deleted (clause 10) only to
///    remove personal data ([`Network::erase`](crate::Network::erase)).
///    [`outbox(after, limit)`](Store::outbox) returns up to `limit` of them
///    whose feed position is after `after`, in position order, each with
///    its position (at least one when `limit > 0` and any exists), a
///    rewritten one at its latest position only, a deleted one not at all;
///    [`trim_outbox(through)`](Store::trim_outbox) deletes those at a
///    position at or before `through`, and no other record. A deleted
///    record leaves the change feed; a later write to its key would be a
///    new record (version 1). In SQL, an index on the position of the
///    outbox's rows keeps `outbox` from scanning the feed.
/// 10. **Deletion.** A write of [`Change::Delete`] expects `At(v)` (a
///     deletion expecting `Absent` is refused as a `Conflict`); it removes
///     the record and its secondary-read entries. [`get`](Store::get)
///     answers `None` afterwards and no secondary read lists it. The store
///     keeps a *tombstone*: the key and the version `v + 1`, no data. The
///     tombstone takes a new feed position like any write, and
///     [`changes_since`](Store::changes_since) answers it as
///     `Change::Delete(key)` at that version, so other instances' indexes
///     forget the record; a later create continues from its version, so a
///     reader's old `At(v)` can never match again. Under a key that holds
///     personal data ([`Key::holds_personal_data`]) the store keeps nothing
///     at all: the row goes, the deletion's position stays vacant (no feed
///     entry names the key) and clause 3 keeps later versions fresh. No
///     bytes of a deleted record may stay readable in the store's files
///     (SQLite: `secure_delete`).
///
/// Implementations must be safe to share between threads; pronet calls them
/// concurrently from as many threads as the host uses, and several processes
/// may share one database (each following the change feed, see
/// [`Network::catch_up`](crate::Network::catch_up)).
///
/// [`Version`]: crate::record::Version
/// [`Expect`]: crate::change::Expect
pub trait Store: Send + Sync {
    /// The record under `key` with its version, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or the record is corrupt.
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError>;

    /// The records under `keys`, in the order of `keys`, each as
    /// [`get`](Store::get) answers it. A network reads the facts of a
    /// decision with it; a store over a database answers in one query
    /// (one round trip instead of one per key). The default calls `get`
    /// for each key.
    ///
    /// # Errors
    /// As [`get`](Store::get), for any of the keys.
    fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Applies all `writes` atomically if every expectation holds.
    ///
    /// # Errors
    /// [`CommitError::Conflict`] when an expectation fails or a key is
    /// written twice (nothing written); [`CommitError::Store`] when the
    /// backend fails.
    fn commit(&self, writes: &[Write]) -> Result<(), CommitError>;

    /// [`commit`](Store::commit), answering the feed position its last
    /// write took (clause 7), or `None` when the store cannot tell (the
    /// default) or nothing was written. A network that knows the position
    /// of its own commit indexes its writes without reading them back when
    /// no other commit came between; with `None` it asks
    /// [`change_cursor`](Store::change_cursor) instead, one store read
    /// more.
    ///
    /// # Errors
    /// As [`commit`](Store::commit).
    fn commit_positioned(&self, writes: &[Write]) -> Result<Option<ChangeCursor>, CommitError> {
        self.commit(writes).map(|()| None)
    }

    /// The open invitations (pending or ignored) where `member` has `role`,
    /// in any order.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or a record is corrupt.
    fn open_invitations(&self, member: MemberId, role: Role)
    -> Result<Vec<Invitation>, StoreError>;

    /// Every member, active or not (to rebuild the graph).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or a record is corrupt.
    fn members(&self) -> Result<Vec<Member>, StoreError>;

    /// Every connected pair (to rebuild the graph).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or a record is corrupt.
    fn connections(&self) -> Result<Vec<PairKey>, StoreError>;

    /// The standing blocks (see [`Block::stands`]) that `member` made, with
    /// [`Role::Sender`], or that others made of `member`, with
    /// [`Role::Recipient`], in any order. A famous member may be blocked by
    /// very many: the read is indexed, like
    /// [`open_invitations`](Store::open_invitations), never a scan of every
    /// record.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or a record is corrupt.
    fn blocks(&self, member: MemberId, role: Role) -> Result<Vec<Block>, StoreError>;

    /// The standing blocks `member` made and those others made of
    /// `member`, as [`blocks`](Store::blocks) answers them with each role:
    /// what every read applies, so a store that answers both in one call to
    /// its backend (as `PostgresStore` does, one round trip instead of two)
    /// may override this.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or a record is corrupt.
    fn blocks_both_ways(&self, member: MemberId) -> Result<BothWays, StoreError> {
        Ok(BothWays {
            made: self.blocks(member, Role::Sender)?,
            received: self.blocks(member, Role::Recipient)?,
        })
    }

    /// Several reads in one call: what a decision reads before it decides
    /// (a send reads its records by key, the sender's blocks and the
    /// sender's open invitations) or a read needs (an invitation list
    /// reads the owner's blocks and open invitations), so that a store
    /// over a database may answer them in one round trip, as
    /// `PostgresStore` does. Each part is answered as its own method would
    /// answer it, from a consistent state (clause 4); the parts need not
    /// be read from one state, as separate calls are not. The default
    /// calls [`get_many`](Store::get_many) and the asked-for secondary
    /// reads in turn.
    ///
    /// # Errors
    /// As the reads it makes.
    fn gather(&self, reads: &Gather<'_>) -> Result<Gathered, StoreError> {
        Ok(Gathered {
            records: self.get_many(reads.keys)?,
            blocks: match reads.blocks_both_ways {
                Some(member) => self.blocks_both_ways(member)?,
                None => BothWays::default(),
            },
            open_invitations: match reads.open_invitations {
                Some((member, role)) => self.open_invitations(member, role)?,
                None => Vec::new(),
            },
        })
    }

    /// Every contact `owner` imported, in any order.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn contacts(&self, owner: MemberId) -> Result<Vec<Contact>, StoreError>;

    /// A fresh invitation id.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn next_invitation_id(&self) -> Result<InvitationId, StoreError>;

    /// The position of the latest committed write in the change feed
    /// (clause 7): following the feed from here yields only later commits.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn change_cursor(&self) -> Result<ChangeCursor, StoreError>;

    /// Up to `limit` records written after `after`, in feed order, each at
    /// its latest version, and where the feed continues (clause 7).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or a record is corrupt.
    fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError>;

    /// [`changes_since`](Store::changes_since) for a follower that wants
    /// every committed record now (clause 7, last paragraph): a store whose
    /// positions can become visible out of commit order (a commit of an
    /// older transaction may still come before them) answers the records
    /// it would have to wait for in [`Changes::unsettled`] instead of
    /// waiting, and the cursor stops before them. The default answers
    /// `changes_since`, with nothing unsettled.
    ///
    /// # Errors
    /// As [`changes_since`](Store::changes_since).
    fn changes_now(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        self.changes_since(after, limit)
    }

    /// Up to `limit` outbox records after `after`, in feed order, each with
    /// its position (clause 9).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or a record is corrupt.
    fn outbox(
        &self,
        after: ChangeCursor,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Outbox)>, StoreError>;

    /// Deletes the outbox records at positions up to and including
    /// `through`, and answers how many it deleted (clause 9).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn trim_outbox(&self, through: ChangeCursor) -> Result<usize, StoreError>;
}

/// One page of the change feed: changes in feed order, each key's latest
/// (a record, or a deletion's tombstone), and the cursor to continue from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changes {
    /// The changes after the cursor asked for, in feed order, each with the
    /// version its key holds: [`Change::Put`] with the stored record, or
    /// [`Change::Delete`] for a tombstone.
    pub changes: Vec<Versioned<Change>>,
    /// The position of the last change returned, or the cursor asked for
    /// when none was: where the next call continues.
    pub cursor: ChangeCursor,
    /// Only from [`changes_now`](Store::changes_now): committed changes
    /// after `cursor`, in feed order, each with its position, that a
    /// reader may apply at once but must read again, since a commit with
    /// an earlier position may still become visible. Each key appears at
    /// most once in `changes` and `unsettled` together, at its latest
    /// version. Empty from `changes_since`.
    pub unsettled: Vec<(ChangeCursor, Versioned<Change>)>,
}

impl Changes {
    /// A page of `changes` ending at `cursor`, with nothing unsettled.
    #[must_use]
    pub fn new(changes: Vec<Versioned<Change>>, cursor: ChangeCursor) -> Self {
        Self {
            changes,
            cursor,
            unsettled: Vec::new(),
        }
    }

    /// This page with `unsettled` changes after its cursor (see
    /// [`Changes::unsettled`]).
    #[must_use]
    pub fn with_unsettled(mut self, unsettled: Vec<(ChangeCursor, Versioned<Change>)>) -> Self {
        self.unsettled = unsettled;
        self
    }
}

/// What one record contributes to the secondary reads (clause 5). The one
/// place that derives them from a record's content, shared by every store
/// in this crate: a new record kind without secondary reads needs no store
/// changes at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Entry {
    /// An open invitation where the member has the role.
    Open(MemberId, Role, InvitationId),
    /// A connected pair.
    Connected(PairKey),
    /// A member.
    Member(MemberId),
    /// A standing block where the member has the role (sender: the blocker;
    /// recipient: the blocked member) and the other member.
    Block(MemberId, Role, MemberId),
}

/// The secondary-read entries of `record` (at most two).
pub(crate) fn entries(record: &Record) -> impl Iterator<Item = Entry> {
    let pair = match record {
        Record::Invitation(inv) if inv.is_open() => [
            Some(Entry::Open(inv.sender, Role::Sender, inv.id)),
            Some(Entry::Open(inv.recipient, Role::Recipient, inv.id)),
        ],
        Record::Pair(p) if p.connected_since.is_some() => [Some(Entry::Connected(p.key)), None],
        Record::Member(m) => [Some(Entry::Member(m.id)), None],
        Record::Block(b) if b.stands() => [
            Some(Entry::Block(b.blocker, Role::Sender, b.target)),
            Some(Entry::Block(b.target, Role::Recipient, b.blocker)),
        ],
        _ => [None, None],
    };
    pair.into_iter().flatten()
}

/// A store behind a reference or a shared pointer is the same store.
macro_rules! delegate_store {
    ($($wrapper:ty),*) => {$(
        impl<S: Store + ?Sized> Store for $wrapper {
            fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
                (**self).get(key)
            }
            fn get_many(
                &self,
                keys: &[Key],
            ) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
                (**self).get_many(keys)
            }
            fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
                (**self).commit(writes)
            }
            fn commit_positioned(
                &self,
                writes: &[Write],
            ) -> Result<Option<ChangeCursor>, CommitError> {
                (**self).commit_positioned(writes)
            }
            fn open_invitations(
                &self,
                member: MemberId,
                role: Role,
            ) -> Result<Vec<Invitation>, StoreError> {
                (**self).open_invitations(member, role)
            }
            fn members(&self) -> Result<Vec<Member>, StoreError> {
                (**self).members()
            }
            fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
                (**self).connections()
            }
            fn contacts(&self, owner: MemberId) -> Result<Vec<Contact>, StoreError> {
                (**self).contacts(owner)
            }
            fn blocks(&self, member: MemberId, role: Role) -> Result<Vec<Block>, StoreError> {
                (**self).blocks(member, role)
            }
            fn blocks_both_ways(&self, member: MemberId) -> Result<BothWays, StoreError> {
                (**self).blocks_both_ways(member)
            }
            fn gather(&self, reads: &Gather<'_>) -> Result<Gathered, StoreError> {
                (**self).gather(reads)
            }
            fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
                (**self).next_invitation_id()
            }
            fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
                (**self).change_cursor()
            }
            fn changes_since(
                &self,
                after: ChangeCursor,
                limit: usize,
            ) -> Result<Changes, StoreError> {
                (**self).changes_since(after, limit)
            }
            fn changes_now(
                &self,
                after: ChangeCursor,
                limit: usize,
            ) -> Result<Changes, StoreError> {
                (**self).changes_now(after, limit)
            }
            fn outbox(
                &self,
                after: ChangeCursor,
                limit: usize,
            ) -> Result<Vec<(ChangeCursor, Outbox)>, StoreError> {
                (**self).outbox(after, limit)
            }
            fn trim_outbox(&self, through: ChangeCursor) -> Result<usize, StoreError> {
                (**self).trim_outbox(through)
            }
        }
    )*};
}

delegate_store!(&S, std::sync::Arc<S>);
