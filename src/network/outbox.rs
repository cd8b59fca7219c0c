//! The relay's side of the transactional outbox: reading committed events
//! in commit order, and acknowledging them.

use super::Network;
use crate::error::Error;
use crate::outbox::EventPage;
use crate::store::{ChangeCursor, Store};
use crate::time::Clock;

impl<S: Store, C: Clock> Network<S, C> {
    /// The events of up to `limit` committed changes after `after`, in
    /// commit order, and the cursor to continue from (and to
    /// [`acknowledge`](Self::acknowledge) once they are delivered).
    ///
    /// The outbox is written in the same change set as the records each
    /// event describes, so it holds an event if and only if its change
    /// committed, whichever process committed it and whatever happened to
    /// that process after. A relay (one per deployment; any instance may
    /// run it) loops: read a page, deliver it, acknowledge its cursor. Since
    /// acknowledged events are trimmed, a relay that restarts needs no
    /// cursor of its own: it starts again from [`ChangeCursor::START`] and
    /// delivers every event it had not acknowledged, at least once, in
    /// commit order. Each event's [`EventId`](crate::EventId) grows with
    /// commit order, so a consumer that remembers the greatest id it
    /// handled drops every repeat.
    ///
    /// Events for the mailer ([`Audience::Address`](crate::Audience::Address))
    /// are in the outbox too: route each event by its audience, and never
    /// show a mail event to a member.
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails.
    pub fn events_since(&self, after: ChangeCursor, limit: usize) -> Result<EventPage, Error> {
        super::trace::op("events_since").within(|| {
            let changes = self.store.outbox(after, limit)?;
            let cursor = changes.last().map_or(after, |(position, _)| *position);
            let events = changes
                .into_iter()
                .flat_map(|(position, outbox)| outbox.published(position))
                .collect();
            Ok(EventPage { events, cursor })
        })
    }

    /// Trims the events up to and including `through` (a cursor
    /// [`events_since`](Self::events_since) answered) once they are
    /// delivered, and answers how many changes' events it trimmed. Only
    /// events at or before the cursor go, so a page read after it is never
    /// lost; acknowledging again is harmless.
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails; nothing is lost, and the
    /// events are delivered again after a restart.
    pub fn acknowledge(&self, through: ChangeCursor) -> Result<usize, Error> {
        super::trace::op("acknowledge").within(|| Ok(self.store.trim_outbox(through)?))
    }
}
