//! The transactional outbox: the events of each committed change, stored in
//! the same change set as the records they describe, so that they exist if
//! and only if the change committed (E1). A host's relay reads them in
//! commit order ([`Network::events_since`](crate::Network::events_since)),
//! delivers them, and acknowledges them, after which they are trimmed.

use crate::cursor::ChangeCursor;
use crate::event::Event;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where one change's events are stored: the network instance that wrote
/// them (a random number drawn when it opened) and a counter of that
/// instance. Unique in practice; a clash is refereed by the store like any
/// other write expecting an absent record, and retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OutboxKey {
    /// The writing instance.
    pub instance: u64,
    /// The instance's counter.
    pub seq: u64,
}

/// The events of one committed change, waiting for the host's relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    /// Where it is stored.
    pub key: OutboxKey,
    /// The instant the change was decided at (the network's clock).
    pub at: Timestamp,
    /// The change's events in the order they were produced, for members and
    /// for the mailer alike (see [`Committed`](crate::Committed)).
    pub events: Vec<Event>,
}

/// An event's id: unique in the store, and ordered by commit. It is the
/// position of its change's [`Outbox`] record in the store's change feed,
/// then its place among that change's events, so a consumer that keeps the
/// greatest id it handled can drop every repeat by comparison. Written
/// `position.index` (`"1042.0"`), a string in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    /// The change's position in the feed.
    pub position: u64,
    /// The event's place in its change.
    pub index: u32,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.position, self.index)
    }
}

/// A text that is not an [`EventId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an event id (expected `position.index`): {0:?}")]
pub struct EventIdError(String);

impl FromStr for EventId {
    type Err = EventIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || EventIdError(s.to_owned());
        let (position, index) = s.split_once('.').ok_or_else(bad)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(position) || !digits(index) {
            return Err(bad());
        }
        Ok(Self {
            position: position.parse().map_err(|_| bad())?,
            index: index.parse().map_err(|_| bad())?,
        })
    }
}

impl Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One event as the relay delivers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// Its id, for deduplication.
    pub id: EventId,
    /// When it happened.
    pub at: Timestamp,
    /// What happened, and for whom ([`Event::audience`]).
    pub event: Event,
}

/// A page of the outbox: whole changes, in commit order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    /// The events, in commit order.
    pub events: Vec<Published>,
    /// Where the next page starts, and what to acknowledge once these are
    /// delivered.
    pub cursor: ChangeCursor,
}

impl Outbox {
    /// Its events as published from `position`.
    pub(crate) fn published(self, position: ChangeCursor) -> impl Iterator<Item = Published> {
        let at = self.at;
        self.events
            .into_iter()
            .zip(0_u32..)
            .map(move |(event, index)| Published {
                id: EventId {
                    position: position.get(),
                    index,
                },
                at,
                event,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_read_back_and_order_by_commit_then_place() {
        let a = EventId {
            position: 9,
            index: 3,
        };
        let b = EventId {
            position: 10,
            index: 0,
        };
        assert!(a < b);
        assert_eq!(a.to_string(), "9.3");
        assert_eq!("9.3".parse::<EventId>(), Ok(a));
        for bad in [
            "",
            "9",
            "9.",
            ".3",
            "9.3.1",
            "-1.0",
            "+1.0",
            "a.b",
            "1.99999999999",
        ] {
            assert!(bad.parse::<EventId>().is_err(), "{bad}");
        }
    }
}
