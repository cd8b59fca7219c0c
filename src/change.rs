//! The unit of work: a change set of writes, each carrying what its writer
//! expects to be stored, plus the events to publish once it commits; and a
//! [`Decision`], what a pure rule answers: the change and the caller's
//! answer.

use crate::event::Event;
use crate::record::{Key, Record, Version, Versioned};
use serde::{Deserialize, Serialize};

/// What a write expects to find in the store before it applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expect {
    /// No record under the key.
    Absent,
    /// The record at exactly this version.
    At(Version),
}

/// What one write does to its key: store a record there, or delete what
/// is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// Store the record under its key ([`Record::key`]).
    Put(Record),
    /// Delete the record under the key. What the store keeps is a
    /// tombstone holding no data but the version (see
    /// [`Store`](crate::Store), clause 10), or nothing at all for a key
    /// that holds personal data ([`Key::holds_personal_data`]).
    Delete(Key),
}

impl Change {
    /// The key it changes.
    #[must_use]
    pub fn key(&self) -> Key {
        match self {
            Self::Put(record) => record.key(),
            Self::Delete(key) => key.clone(),
        }
    }

    /// The record it stores, or `None` for a deletion.
    #[must_use]
    pub fn record(&self) -> Option<&Record> {
        match self {
            Self::Put(record) => Some(record),
            Self::Delete(_) => None,
        }
    }
}

/// One write: change a key if it holds what `expect` says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    /// What must be stored before the write.
    pub expect: Expect,
    /// The new record, or the deletion of the stored one.
    pub change: Change,
}

impl Write {
    /// A write replacing `read` (or creating the record when `read` is
    /// `None`) with `record`.
    #[must_use]
    pub fn replacing<T>(read: Option<&Versioned<T>>, record: Record) -> Self {
        Self {
            expect: read.map_or(Expect::Absent, |v| Expect::At(v.version)),
            change: Change::Put(record),
        }
    }

    /// A write deleting the record `read` under `key`: it applies only
    /// while `read`'s version is stored, like any write.
    #[must_use]
    pub fn deleting<T>(read: &Versioned<T>, key: Key) -> Self {
        Self {
            expect: Expect::At(read.version),
            change: Change::Delete(key),
        }
    }

    /// The key it changes.
    #[must_use]
    pub fn key(&self) -> Key {
        self.change.key()
    }

    /// The record it stores, or `None` for a deletion.
    #[must_use]
    pub fn record(&self) -> Option<&Record> {
        self.change.record()
    }
}

/// Everything one operation changes: all writes apply or none does, and the
/// events are published only once they have.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use]
pub struct ChangeSet {
    /// The writes, at most one per key.
    pub writes: Vec<Write>,
    /// The events the change produces, for their audiences.
    pub events: Vec<Event>,
}

impl ChangeSet {
    /// Whether it changes nothing (a repeated command answered as before).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Adds a write.
    pub fn write<T>(&mut self, read: Option<&Versioned<T>>, record: Record) {
        self.writes.push(Write::replacing(read, record));
    }

    /// Adds the deletion of `read`, stored under `key`.
    pub fn delete<T>(&mut self, read: &Versioned<T>, key: Key) {
        self.writes.push(Write::deleting(read, key));
    }

    /// Adds an event.
    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Adds each of some events.
    pub fn extend_events(&mut self, events: impl IntoIterator<Item = Event>) {
        self.events.extend(events);
    }
}

/// A decided change and what the caller is told.
///
/// Every pure rule that decides a command has one shape:
/// `fn(request, &facts, &policy, now) -> Result<Decision<O>, Refusal>`,
/// where the request is the caller's words (who acts, on whom or what,
/// with which note or reason), the facts are what the shell loaded, and
/// the effective time comes from the clock reading and the instants the
/// facts carry. A rule that reads no policy value still takes the policy
/// (`block::decide::unblock`, `report`, `remove_connection`), so that a
/// rule that comes to need one changes no caller. The exceptions, and why:
/// the member rules (`member::decide`) take only the
/// [`ProfileLimits`](crate::member::ProfileLimits), the one part of the
/// policy they read, and no time, since they record no instant; the
/// discovery rules take the [`DiscoveryPolicy`](crate::discovery::DiscoveryPolicy)
/// likewise; `contacts::decide::add` and `import` and `join::opt_out`
/// record an instant but read no policy, which applied before them (the
/// parse limits) or not at all; `join::withdraw` takes its two records
/// (the sender's ledger and the address's record) as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Decision<O> {
    /// What to commit; empty when a repeated command changes nothing.
    pub changes: ChangeSet,
    /// The answer for the caller.
    pub outcome: O,
}

impl<O> Decision<O> {
    /// A decision that commits `changes` and answers `outcome`.
    pub fn new(changes: ChangeSet, outcome: O) -> Self {
        Self { changes, outcome }
    }

    /// A decision that changes nothing and answers `outcome`.
    pub fn unchanged(outcome: O) -> Self {
        Self::new(ChangeSet::default(), outcome)
    }
}

/// A change whose caller is told nothing more than that it committed.
impl From<ChangeSet> for Decision<()> {
    fn from(changes: ChangeSet) -> Self {
        Self::new(changes, ())
    }
}
