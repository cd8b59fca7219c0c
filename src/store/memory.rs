//! The in-memory reference [`Store`].

use super::{ChangeCursor, Changes, Entry, Role, Store, entries};
use crate::block::Block;
use crate::change::{Expect, Write};
use crate::contacts::Contact;
use crate::error::{CommitError, StoreError};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::Invitation;
use crate::member::Member;
use crate::outbox::{Outbox, OutboxKey};
use crate::record::{Key, Record, Version, Versioned};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A [`Store`] in memory, keeping the whole contract: change sets apply
/// atomically under one lock, expectations are checked before anything is
/// written, and every write takes the next position in the change feed.
/// For tests, examples, and hosts that persist elsewhere.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<Key, Stored, foldhash::fast::RandomState>,
    /// Open invitations by (member, role): the secondary read.
    open: BTreeSet<(MemberId, Role, InvitationId)>,
    connections: BTreeSet<PairKey>,
    members: BTreeSet<MemberId>,
    /// Standing blocks by (member, role, other): the secondary read.
    blocks: BTreeSet<(MemberId, Role, MemberId)>,
    /// Contacts by owner and canonical address: the secondary read.
    contacts: BTreeSet<(MemberId, String)>,
    /// The change feed: every write's position and key, in position
    /// order. An entry is stale once its record was written again (the
    /// record's position moved on) or trimmed; readers skip stale entries, and they
    /// are dropped once they outnumber the records.
    feed: Vec<(u64, Key)>,
    /// The outbox's records by position (clause 9).
    outbox: BTreeMap<u64, OutboxKey>,
    last_position: u64,
    last_invitation_id: u64,
}

/// A record with its version and its position in the change feed, boxed
/// so that growing the table moves small entries.
#[derive(Debug)]
struct Stored {
    record: Box<Versioned<Record>>,
    position: u64,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record with its version, sorted by key, but for the outbox's
    /// (their keys are drawn at random; read them with
    /// [`Store::outbox`]): a snapshot for tests that compare whole states.
    #[must_use]
    pub fn snapshot(&self) -> Vec<(Key, Versioned<Record>)> {
        let state = self.lock();
        let mut all: Vec<_> = state
            .records
            .iter()
            .filter(|(k, _)| !matches!(k, Key::Outbox(_)))
            .map(|(k, v)| (k.clone(), (*v.record).clone()))
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

impl State {
    fn check(&self, write: &Write) -> Result<(), CommitError> {
        let key = write.record.key();
        let stored = self.records.get(&key).map(|v| v.record.version);
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
        self.last_position = self.last_position.saturating_add(1);
        let stored = Stored {
            record: Box::new(Versioned {
                version,
                value: write.record.clone(),
            }),
            position: self.last_position,
        };
        if let Record::Outbox(o) = &write.record {
            self.outbox.insert(self.last_position, o.key);
        }
        if let Record::Contact(c) = &write.record {
            // Contacts are never deleted, only written again.
            self.contacts
                .insert((c.owner, c.email.canonical().to_owned()));
        }
        if let Some(old) = self.records.insert(key.clone(), stored) {
            for entry in entries(&old.record.value) {
                self.index(entry, false);
            }
        }
        for entry in entries(&write.record) {
            self.index(entry, true);
        }
        self.feed.push((self.last_position, key));
    }

    /// Drops the stale feed entries once they outnumber the live ones
    /// (amortised constant time per write).
    fn compact_feed(&mut self) {
        if self.feed.len() > 2 * self.records.len() + 1024 {
            let records = &self.records;
            self.feed.retain(|(position, key)| {
                records.get(key).is_some_and(|s| s.position == *position)
            });
        }
    }

    /// Adds or removes one secondary-read entry.
    fn index(&mut self, entry: Entry, present: bool) {
        fn set<T: Ord>(set: &mut BTreeSet<T>, item: T, present: bool) {
            if present {
                set.insert(item);
            } else {
                set.remove(&item);
            }
        }
        match entry {
            Entry::Open(member, role, id) => set(&mut self.open, (member, role, id), present),
            Entry::Connected(pair) => set(&mut self.connections, pair, present),
            Entry::Member(id) => set(&mut self.members, id, present),
            Entry::Block(member, role, other) => {
                set(&mut self.blocks, (member, role, other), present);
            }
        }
    }

    fn record(&self, key: &Key) -> Option<&Record> {
        self.records.get(key).map(|s| &s.record.value)
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        Ok(self.lock().records.get(key).map(|s| (*s.record).clone()))
    }

    /// Under one lock: one state for all the keys.
    fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
        let state = self.lock();
        Ok(keys
            .iter()
            .map(|key| state.records.get(key).map(|s| (*s.record).clone()))
            .collect())
    }

    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        self.commit_positioned(writes).map(|_| ())
    }

    fn commit_positioned(&self, writes: &[Write]) -> Result<Option<ChangeCursor>, CommitError> {
        let mut state = self.lock();
        let mut keys = BTreeSet::new();
        for write in writes {
            // Two writes to one key in one change set would make the second
            // expectation meaningless: refuse it as a conflict.
            let key = write.record.key();
            if !keys.insert(key.clone()) {
                return Err(CommitError::Conflict(key));
            }
            state.check(write)?;
        }
        for write in writes {
            state.apply(write);
        }
        state.compact_feed();
        Ok((!writes.is_empty()).then(|| ChangeCursor::new(state.last_position)))
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
            match state.record(&key) {
                Some(Record::Invitation(inv)) => Ok(inv.clone()),
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
                match state.record(&key) {
                    Some(Record::Member(m)) => Ok(m.clone()),
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
                match state.record(&key) {
                    Some(Record::Contact(c)) => Ok(c.clone()),
                    _ => Err(StoreError::Corrupt(key)),
                }
            })
            .collect()
    }

    fn blocks(&self, member: MemberId, role: Role) -> Result<Vec<Block>, StoreError> {
        let state = self.lock();
        let entries = state
            .blocks
            .range((member, role, MemberId::new(0))..=(member, role, MemberId::new(u64::MAX)));
        entries
            .map(|&(_, _, other)| {
                let key = match role {
                    Role::Sender => Key::Block(member, other),
                    Role::Recipient => Key::Block(other, member),
                };
                match state.record(&key) {
                    Some(Record::Block(b)) => Ok(b.clone()),
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

    fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        Ok(ChangeCursor::new(self.lock().last_position))
    }

    fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        let state = self.lock();
        let mut cursor = after;
        let mut records = Vec::new();
        // At the feed's end (a network's follow, mostly): no search.
        if after.get() >= state.last_position {
            return Ok(Changes::new(records, cursor));
        }
        let start = state
            .feed
            .partition_point(|(position, _)| *position <= after.get());
        for (position, key) in &state.feed[start..] {
            if records.len() >= limit {
                break;
            }
            // A trimmed outbox record left its entry behind.
            let Some(stored) = state.records.get(key) else {
                continue;
            };
            if stored.position == *position {
                records.push((*stored.record).clone());
                cursor = ChangeCursor::new(*position);
            }
        }
        Ok(Changes::new(records, cursor))
    }

    fn outbox(
        &self,
        after: ChangeCursor,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Outbox)>, StoreError> {
        let state = self.lock();
        let later = state.outbox.range(after.get().saturating_add(1)..);
        later
            .take(limit)
            .map(|(&position, &key)| {
                let key = Key::Outbox(key);
                match state.record(&key) {
                    Some(Record::Outbox(o)) => Ok((ChangeCursor::new(position), o.clone())),
                    _ => Err(StoreError::Corrupt(key)),
                }
            })
            .collect()
    }

    fn trim_outbox(&self, through: ChangeCursor) -> Result<usize, StoreError> {
        let mut state = self.lock();
        let keep = state.outbox.split_off(&through.get().saturating_add(1));
        let trimmed = std::mem::replace(&mut state.outbox, keep);
        for key in trimmed.values() {
            state.records.remove(&Key::Outbox(*key));
        }
        // Their feed entries are stale now: readers skip them, and
        // compaction drops them.
        Ok(trimmed.len())
    }
}
