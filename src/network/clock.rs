//! The time a network acts on, and the repair after a bad clock reading.

use super::Network;
use crate::change::Write;
use crate::error::Error;
use crate::instants;
use crate::record::{Key, Versioned};
use crate::store::Store;
use crate::time::{Clock, Timestamp};
use std::sync::atomic::Ordering;

impl<S: Store, C: Clock> Network<S, C> {
    /// The time this network acts on: the clock, unless it has gone back
    /// behind an instant this network already acted on (time never runs
    /// backwards for a decision, so no wait is shortened). Decisions
    /// also move it forward to the latest instant recorded in the facts they
    /// read, which carries the guarantee across processes and restarts.
    ///
    /// A latest reading further ahead of the clock than the policy's
    /// [`max_clock_skew`](Policy::max_clock_skew) was a bad reading (or the
    /// clock is now far behind): it is dropped, so that it stamps nothing
    /// more; the records it stamped are refused when read (see
    /// [`Error::ClockSkew`]) until [`repair_clock`](Self::repair_clock).
    pub(super) fn now(&self) -> Timestamp {
        let clock = self.clock.now();
        let skew = self.policy.max_clock_skew();
        let mut seen = self.latest.load(Ordering::SeqCst);
        loop {
            // `since` saturates, so `TimeDelta::MAX` is never exceeded.
            let next = if Timestamp::from_micros(seen).since(clock) > skew {
                clock.as_micros()
            } else {
                seen.max(clock.as_micros())
            };
            match self
                .latest
                .compare_exchange(seen, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Timestamp::from_micros(next),
                Err(current) => seen = current,
            }
        }
    }

    /// Brings every record holding an instant later than the clock back to
    /// the clock's time, after a bad clock reading (see
    /// [`Policy::max_clock_skew`](crate::Policy::max_clock_skew) and [`Error::ClockSkew`]): sends, answers,
    /// waits, blocks, imports and the like recorded "in the future" count
    /// as having happened now, and a sanction lasts at most its longest
    /// length from now. Answers how many records it rewrote.
    ///
    /// Fix the host clock first. Each record is rewritten on its own,
    /// atomically, against the version read; running it again (after a
    /// failure, or on another instance) rewrites only what is still ahead of
    /// the clock. It reads the whole store through its change feed: an
    /// operator's tool, not a request handler's.
    ///
    /// # Errors
    /// Store failures; [`Error::Contended`] when other writers keep changing
    /// a record it repairs.
    pub fn repair_clock(&self) -> Result<usize, Error> {
        super::trace::op("repair_clock").within(|| {
            let now = self.clock.now();
            self.latest.store(now.as_micros(), Ordering::SeqCst);
            let longest = self.policy.standing().sanction_max;
            let mut repaired = 0;
            self.each_record(|record| {
                if instants::latest(record).is_some_and(|t| t > now) {
                    repaired += usize::from(self.repair_one(&record.key(), now, longest)?);
                }
                Ok(())
            })?;
            Ok(repaired)
        })
    }

    /// Rewrites one record with its instants brought back to `now`:
    /// answers whether it wrote.
    fn repair_one(
        &self,
        key: &Key,
        now: Timestamp,
        longest: chrono::TimeDelta,
    ) -> Result<bool, Error> {
        self.rewrite_one(key, |read| {
            let version = Versioned {
                version: read.version,
                value: (),
            };
            let mut record = read.value;
            instants::bring_back(&mut record, now, longest)
                .then(|| Write::replacing(Some(&version), record))
        })
    }
}
