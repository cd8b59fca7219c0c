//! [`FaultyStore`]: a wrapper that makes store calls fail on purpose
//! (feature `testing`).

use super::{BothWays, ChangeCursor, Changes, Gather, Gathered, Role, Store};
use crate::block::Block;
use crate::change::Write;
use crate::contacts::Contact;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;
use crate::outbox::Outbox;
use crate::record::{Key, Record, Versioned};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use thiserror::Error;

/// A failure a [`FaultyStore`] can inject. Each fires once, then the store
/// behaves normally again (unless other faults are armed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The `n`-th store call from now (1: the very next one), of any method,
    /// fails with [`StoreError::Backend`] without reaching the wrapped
    /// store: a failing commit applies nothing. `Call(0)` never fires.
    Call(u64),
    /// The next commit fails with [`StoreError::Backend`] without being
    /// applied.
    Commit,
    /// The next commit is applied, then reported as failed with
    /// [`StoreError::Backend`]: a lost acknowledgement.
    CommitApplied,
}

/// The error a [`FaultyStore`] injects, inside [`StoreError::Backend`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("injected store fault {fault:?} at call {call}")]
pub struct Injected {
    /// The fault that fired.
    pub fault: Fault,
    /// The number of the call it failed (see [`FaultyStore::calls`]).
    pub call: u64,
}

/// A [`Store`] wrapper that counts every call and fails the ones it is
/// told to, for testing what the callers do about store failures (RELIABILITY
/// A1, A2).
///
/// ```
/// use pronet::store::{Fault, FaultyStore};
/// use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp};
///
/// let net = Network::open(
///     FaultyStore::new(MemoryStore::new()),
///     ManualClock::new(Timestamp::UNIX_EPOCH),
///     Policy::default(),
/// )?;
/// let before = net.store().calls();
/// net.store().inject(Fault::Commit);
/// assert!(net.register(Member::person(MemberId::new(1), Profile::named("Ana"))).is_err());
/// assert!(net.store().inner().snapshot().is_empty());
/// assert!(net.store().calls() > before);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct FaultyStore<S> {
    inner: S,
    calls: AtomicU64,
    /// The armed faults, each with the call number it fails for
    /// [`Fault::Call`].
    armed: Mutex<Vec<(Fault, u64)>>,
    fired: AtomicU64,
}

impl<S: Store> FaultyStore<S> {
    /// Wraps `inner`, with no fault armed.
    #[must_use]
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: AtomicU64::new(0),
            armed: Mutex::new(Vec::new()),
            fired: AtomicU64::new(0),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Store calls made so far, of every method, failed ones included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Faults that have fired so far.
    pub fn fired(&self) -> u64 {
        self.fired.load(Ordering::SeqCst)
    }

    /// Arms `fault`, besides any armed before and not yet fired. When two
    /// would fire on one call, the one armed first does.
    pub fn inject(&self, fault: Fault) {
        let at = match fault {
            Fault::Call(n) => self.calls().saturating_add(n),
            Fault::Commit | Fault::CommitApplied => 0,
        };
        self.lock().push((fault, at));
    }

    /// Disarms every fault not yet fired.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Fault, u64)>> {
        self.armed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a call; the fault to inject into it, if one fires.
    fn call(&self, commit: bool) -> Option<Injected> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst).saturating_add(1);
        let mut armed = self.lock();
        let i = armed.iter().position(|&(fault, at)| match fault {
            Fault::Call(_) => at == call,
            Fault::Commit | Fault::CommitApplied => commit,
        })?;
        let (fault, _) = armed.remove(i);
        self.fired.fetch_add(1, Ordering::SeqCst);
        Some(Injected { fault, call })
    }

    /// Fails a non-commit call if it is the one.
    fn check(&self) -> Result<(), StoreError> {
        match self.call(false) {
            Some(injected) => Err(StoreError::Backend(Box::new(injected))),
            None => Ok(()),
        }
    }
}

impl<S: Store> Store for FaultyStore<S> {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        self.check()?;
        self.inner.get(key)
    }

    /// One call, however many keys (as the inner store's one query).
    fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
        self.check()?;
        self.inner.get_many(keys)
    }

    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        self.commit_positioned(writes).map(|_| ())
    }

    fn commit_positioned(&self, writes: &[Write]) -> Result<Option<ChangeCursor>, CommitError> {
        match self.call(true) {
            None => self.inner.commit_positioned(writes),
            Some(injected) => {
                if injected.fault == Fault::CommitApplied {
                    self.inner.commit_positioned(writes)?;
                }
                Err(CommitError::Store(StoreError::Backend(Box::new(injected))))
            }
        }
    }

    fn open_invitations(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<Invitation>, StoreError> {
        self.check()?;
        self.inner.open_invitations(member, role)
    }

    fn members(&self) -> Result<Vec<Member>, StoreError> {
        self.check()?;
        self.inner.members()
    }

    fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
        self.check()?;
        self.inner.connections()
    }

    fn contacts(&self, owner: MemberId) -> Result<Vec<Contact>, StoreError> {
        self.check()?;
        self.inner.contacts(owner)
    }

    fn blocks(&self, member: MemberId, role: Role) -> Result<Vec<Block>, StoreError> {
        self.check()?;
        self.inner.blocks(member, role)
    }

    fn blocks_both_ways(&self, member: MemberId) -> Result<BothWays, StoreError> {
        self.check()?;
        self.inner.blocks_both_ways(member)
    }

    fn gather(&self, reads: &Gather<'_>) -> Result<Gathered, StoreError> {
        self.check()?;
        self.inner.gather(reads)
    }

    fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
        self.check()?;
        self.inner.next_invitation_id()
    }

    fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        self.check()?;
        self.inner.change_cursor()
    }

    fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        self.check()?;
        self.inner.changes_since(after, limit)
    }

    fn changes_now(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        self.check()?;
        self.inner.changes_now(after, limit)
    }

    fn outbox(
        &self,
        after: ChangeCursor,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Outbox)>, StoreError> {
        self.check()?;
        self.inner.outbox(after, limit)
    }

    fn trim_outbox(&self, through: ChangeCursor) -> Result<usize, StoreError> {
        self.check()?;
        self.inner.trim_outbox(through)
    }
}
