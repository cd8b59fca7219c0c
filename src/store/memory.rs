//! The in-memory reference [`Store`].

use super::{Role, Store};
use crate::change::{Expect, Key, Record, Version, Versioned, Write};
use crate::contacts::Contact;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A [`Store`] in memory, keeping the whole contract: change sets apply
/// atomically under one lock, expectations are checked before anything is
/// written. For tests, examples, and hosts that persist elsewhere.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Records boxed, so that growing the table moves small entries.
    records: HashMap<Key, (Version, Box<Record>), foldhash::fast::RandomState>,
    /// Open invitations by (member, role): the secondary read.
    open: BTreeSet<(MemberId, Role, InvitationId)>,
    connections: BTreeSet<PairKey>,
    members: BTreeSet<MemberId>,
    /// Contacts by owner: the secondary read.
    contacts: BTreeSet<(MemberId, String)>,
    last_invitation_id: u64,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record with its version, sorted by key: a snapshot for tests
    /// that compare whole states.
    #[must_use]
    pub fn snapshot(&self) -> Vec<(Key, Versioned<Record>)> {
        let state = self.lock();
        let mut all: Vec<_> = state
            .records
            .iter()
            .map(|(k, (version, record))| (k.clone(), versioned(*version, record)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Commits validate before they mutate, so the state is consistent
        // even if a panicking thread held the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn versioned(version: Version, record: &Record) -> Versioned<Record> {
    Versioned {
        version,
        value: record.clone(),
    }
}

impl State {
    fn check(&self, write: &Write) -> Result<(), CommitError> {
        let key = write.record.key();
        let stored = self.records.get(&key).map(|(version, _)| *version);
        match (write.expect, stored) {
            (Expect::Absent, None) => Ok(()),
            (Expect::At(want), Some(have)) if want == have => Ok(()),
            _ => Err(CommitError::Conflict(key)),
        }
    }

    fn apply(&mut self, write: &Write) {
        let key = write.record.key();
        let version = match write.expect {
            Expect::Absent => Version::FIRST,
            Expect::At(v) => v.next(),
        };
        match &write.record {
            Record::Invitation(inv) => {
                for (member, role) in [(inv.sender, Role::Sender), (inv.recipient, Role::Recipient)]
                {
                    if inv.is_open() {
                        self.open.insert((member, role, inv.id));
                    } else {
                        self.open.remove(&(member, role, inv.id));
                    }
                }
            }
            Record::Pair(pair) => {
                if pair.connected_since.is_some() {
                    self.connections.insert(pair.key);
                } else {
                    self.connections.remove(&pair.key);
                }
            }
            Record::Member(m) => {
                self.members.insert(m.id);
            }
            Record::Contact(c) => {
                self.contacts
                    .insert((c.owner, c.email.canonical().to_owned()));
            }
            Record::Ledger(_)
            | Record::Blocks(_)
            | Record::Report(_)
            | Record::EmailOwner(_)
            | Record::Invitee(_)
            | Record::Follows(_)
            | Record::Groups(_)
            | Record::Dismissed(_) => {}
        }
        self.records
            .insert(key, (version, Box::new(write.record.clone())));
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        Ok(self
            .lock()
            .records
            .get(key)
            .map(|(version, record)| versioned(*version, record)))
    }

    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        let mut state = self.lock();
        let mut keys = BTreeSet::new();
        for write in writes {
            state.check(write)?;
            // Two writes to one key in one change set would make the second
            // expectation meaningless: refuse it as a conflict.
            let key = write.record.key();
            if !keys.insert(key.clone()) {
                return Err(CommitError::Conflict(key));
            }
        }
        for write in writes {
            state.apply(write);
        }
        Ok(())
    }

    fn open_invitations(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<Invitation>, StoreError> {
        let state = self.lock();
        let ids = state.open.range(
            (member, role, InvitationId::new(0))..=(member, role, InvitationId::new(u64::MAX)),
        );
        ids.map(|&(_, _, id)| {
            let key = Key::Invitation(id);
            match state.records.get(&key).map(|(_, r)| (**r).clone()) {
                Some(Record::Invitation(inv)) => Ok(inv),
                _ => Err(StoreError::Corrupt(key)),
            }
        })
        .collect()
    }

    fn members(&self) -> Result<Vec<Member>, StoreError> {
        let state = self.lock();
        state
            .members
            .iter()
            .map(|&id| {
                let key = Key::Member(id);
                match state.records.get(&key).map(|(_, r)| (**r).clone()) {
                    Some(Record::Member(m)) => Ok(m),
                    _ => Err(StoreError::Corrupt(key)),
                }
            })
            .collect()
    }

    fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
        Ok(self.lock().connections.iter().copied().collect())
    }

    fn contacts(&self, owner: MemberId) -> Result<Vec<Contact>, StoreError> {
        let state = self.lock();
        let from = (owner, String::new());
        state
            .contacts
            .range(from..)
            .take_while(|(o, _)| *o == owner)
            .map(|(o, canonical)| {
                let key = Key::Contact(*o, canonical.clone());
                match state.records.get(&key).map(|(_, r)| (**r).clone()) {
                    Some(Record::Contact(c)) => Ok(c),
                    _ => Err(StoreError::Corrupt(key)),
                }
            })
            .collect()
    }

    fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
        let mut state = self.lock();
        state.last_invitation_id = state.last_invitation_id.saturating_add(1);
        Ok(InvitationId::new(state.last_invitation_id))
    }
}
