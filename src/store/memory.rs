//! The in-memory reference [`Store`].

use super::{ChangeCursor, Changes, Entry, Role, Store, entries};
use crate::block::Block;
use crate::change::{Change, Expect, Write};
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

/// A record (or a deletion's tombstone, `None`) with its version and its
/// position in the change feed, boxed so that growing the table moves
/// small entries.
#[derive(Debug)]
struct Stored {
    record: Box<Versioned<Option<Record>>>,
    position: u64,
}

impl Stored {
    /// The record with its version, unless this is a tombstone.
    fn live(&self) -> Option<Versioned<Record>> {
        let value = self.record.value.clone()?;
        Some(Versioned {
            version: self.record.version,
            value,
        })
    }
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
            .filter_map(|(k, v)| Some((k.clone(), v.live()?)))
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
        let key = write.key();
        // A tombstone counts as no record (clause 10).
        let stored = self
            .records
            .get(&key)
            .and_then(|s| s.record.value.as_ref().map(|_| s.record.version));
        match (write.expect, stored, &write.change) {
            (Expect::Absent, None, Change::Put(_)) => Ok(()),
            (Expect::At(want), Some(have), _) if want == have => Ok(()),
            _ => Err(CommitError::Conflict(key)),
        }
    }

    fn apply(&mut self, write: &Write) {
        let key = write.key();
        self.last_position = self.last_position.saturating_add(1);
        let position = self.last_position;
        let version = match (write.expect, self.records.get(&key)) {
            (Expect::At(v), _) => v.next(),
            (Expect::Absent, Some(tombstone)) => tombstone.record.version.next(),
            (Expect::Absent, None) if key.holds_personal_data() => Version(position),
            (Expect::Absent, None) => Version::FIRST,
        };
        let record = write.record();
        if let Some(Record::Outbox(o)) = record {
            self.outbox.insert(position, o.key);
        }
        if let Key::Contact(owner, canonical) = &key {
            let entry = (*owner, canonical.clone());
            if record.is_some() {
                self.contacts.insert(entry);
            } else {
                self.contacts.remove(&entry);
            }
        }
        let old = if record.is_none() && key.holds_personal_data() {
            // Nothing stays: no tombstone, no feed entry naming the key;
            // the position stays vacant.
            let old = self.records.remove(&key);
            if let Some(old) = &old {
                if let Ok(at) = self.feed.binary_search_by_key(&old.position, |(p, _)| *p) {
                    self.feed.remove(at);
                }
            }
            old
        } else {
            let stored = Stored {
                record: Box::new(Versioned {
                    version,
                    value: record.cloned(),
                }),
                position,
            };
            self.feed.push((position, key.clone()));
            self.records.insert(key, stored)
        };
        if let Some(old) = &old {
            // A rewritten or deleted outbox record leaves its old position
            // (a no-op for other records).
            self.outbox.remove(&old.position);
        }
        if let Some(old) = old.and_then(|o| o.record.value) {
            for entry in entries(&old) {
                self.index(entry, false);
            }
        }
        if let Some(record) = record {
            for entry in entries(record) {
                self.index(entry, true);
            }
        }
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
        self.records.get(key).and_then(|s| s.record.value.as_ref())
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        Ok(self.lock().records.get(key).and_then(Stored::live))
    }

    /// Under one lock: one state for all the keys.
    fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Versioned<Record>>>, StoreError> {
        let state = self.lock();
        Ok(keys
            .iter()
            .map(|key| state.records.get(key).and_then(Stored::live))
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
            let key = write.key();
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
        let mut changes = Vec::new();
        // At the feed's end (a network's follow, mostly): no search.
        if after.get() >= state.last_position {
            return Ok(Changes::new(changes, cursor));
        }
        let start = state
            .feed
            .partition_point(|(position, _)| *position <= after.get());
        for (position, key) in &state.feed[start..] {
            if changes.len() >= limit {
                break;
            }
            // A trimmed outbox record left its entry behind.
            let Some(stored) = state.records.get(key) else {
                continue;
            };
            if stored.position == *position {
                let change = match &stored.record.value {
                    Some(record) => Change::Put(record.clone()),
                    None => Change::Delete(key.clone()),
                };
                changes.push(Versioned {
                    version: stored.record.version,
                    value: change,
                });
                cursor = ChangeCursor::new(*position);
            }
        }
        Ok(Changes::new(changes, cursor))
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
