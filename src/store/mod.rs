//! Persistence: the [`Store`] trait the host implements, and [`MemoryStore`].

mod memory;

pub use memory::MemoryStore;

use crate::change::{Key, Record, Versioned, Write};
use crate::contacts::Contact;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;

/// Which side of an invitation a member is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The member sent it.
    Sender,
    /// The member received it.
    Recipient,
}

/// The source of truth: where pronet keeps members, invitations, pairs and
/// counters. The host implements it over its database; [`MemoryStore`] is the
/// reference implementation.
///
/// # The contract
///
/// Records live under [`Key`]s; each stored record has a [`Version`]
/// (1 when first written, one more on every write). Records are never
/// deleted.
///
/// 1. **Atomic change sets.** [`commit`](Store::commit) applies every write
///    of the slice or none of them. Readers never observe a partly applied
///    change set.
/// 2. **Expected versions.** Each write carries an [`Expect`]: `Absent` holds
///    when no record is stored under the key, `At(v)` when the stored record
///    has version `v`. If any expectation fails, `commit` writes nothing and
///    answers [`CommitError::Conflict`] naming a key that failed. Checking and
///    writing are one atomic step: two commits expecting the same version of
///    one key can never both succeed. In SQL this is `INSERT ... ON CONFLICT
///    DO NOTHING` and `UPDATE ... WHERE version = ?` checked for one affected
///    row, inside one transaction.
/// 3. **Versions advance.** A successful write stores the record with the
///    expected version plus one (`Version::FIRST` when it was absent).
/// 4. **Reads are committed state.** [`get`](Store::get) returns the latest
///    committed record and its version; the secondary reads below reflect
///    exactly the committed records.
/// 5. **Secondary reads.** [`open_invitations`](Store::open_invitations)
///    returns the invitations where the member has the given role and
///    [`Invitation::is_open`] holds (status pending or ignored);
///    [`connections`](Store::connections) the pairs whose record has
///    `connected_since` set; [`members`](Store::members) every member record;
///    [`contacts`](Store::contacts) the contact records of one owner.
/// 6. **Ids.** [`next_invitation_id`](Store::next_invitation_id) never
///    returns the same id twice, across all callers and processes; ids
///    may be skipped.
/// 7. **Failures.** A backend failure is [`StoreError::Backend`]. If a
///    commit may have been applied although an error is reported (a lost
///    acknowledgement), pronet's retry re-reads and re-decides, so the
///    change is never applied twice; the store must not apply it twice
///    on its own either.
///
/// Implementations must be safe to share between threads; pronet calls them
/// concurrently from as many threads as the host uses.
///
/// [`Version`]: crate::change::Version
/// [`Expect`]: crate::change::Expect
pub trait Store: Send + Sync {
    /// The record under `key` with its version, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError>;

    /// Applies all `writes` atomically if every expectation holds.
    ///
    /// # Errors
    /// [`CommitError::Conflict`] when an expectation fails (nothing written);
    /// [`CommitError::Store`] when the backend fails.
    fn commit(&self, writes: &[Write]) -> Result<(), CommitError>;

    /// The open invitations (pending or ignored) where `member` has `role`,
    /// in any order.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn open_invitations(&self, member: MemberId, role: Role)
    -> Result<Vec<Invitation>, StoreError>;

    /// Every member, active or not (to rebuild the graph).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn members(&self) -> Result<Vec<Member>, StoreError>;

    /// Every connected pair (to rebuild the graph).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn connections(&self) -> Result<Vec<PairKey>, StoreError>;

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
}

impl<S: Store + ?Sized> Store for &S {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        (**self).get(key)
    }
    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        (**self).commit(writes)
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
    fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
        (**self).next_invitation_id()
    }
}

impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        (**self).get(key)
    }
    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        (**self).commit(writes)
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
    fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
        (**self).next_invitation_id()
    }
}
