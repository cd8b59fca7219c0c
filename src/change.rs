//! The unit of work: a change set of writes, each carrying what its writer
//! expects to be stored, plus the events to publish once it commits; and a
//! [`Decision`], what a pure rule answers: the change and the caller's
//! answer.

use crate::event::Event;
use crate::record::{Record, Version, Versioned};
use serde::{Deserialize, Serialize};

/// What a write expects to find in the store before it applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expect {
    /// No record under the key.
    Absent,
    /// The record at exactly this version.
    At(Version),
}

/// One write: store `record` under its key if the key holds what `expect`
/// says; records are never deleted, only superseded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    /// What must be stored before the write.
    pub expect: Expect,
    /// The new value; its key is [`Record::key`].
    pub record: Record,
}

impl Write {
    /// A write replacing `read` (or creating the record when `read` is
    /// `None`) with `record`.
    #[must_use]
    pub fn replacing<T>(read: Option<&Versioned<T>>, record: Record) -> Self {
        Self {
            expect: read.map_or(Expect::Absent, |v| Expect::At(v.version)),
            record,
        }
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
