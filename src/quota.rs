//! Rolling-window quotas: at most `limit` events in any window of
//! `window` length.

use crate::time::Timestamp;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// At most `limit` events in any rolling window of length `window`. Invalid
/// quotas (a zero limit or an empty window) cannot be built.
///
/// An event at instant `t` counts at every `now` with `t <= now < t + window`.
///
/// ```
/// use pronet::quota::Quota;
/// use pronet::Timestamp;
/// use chrono::TimeDelta;
///
/// let q = Quota::new(2, TimeDelta::days(1))?;
/// let t = |h: i64| Timestamp::UNIX_EPOCH.saturating_add(TimeDelta::hours(h));
/// assert_eq!(q.check(&[t(0), t(1)], t(2)), Err(t(24)));
/// assert_eq!(q.check(&[t(0), t(1)], t(24)), Ok(()));
/// # Ok::<(), pronet::quota::QuotaError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawQuota", into = "RawQuota")]
pub struct Quota {
    limit: u32,
    window: TimeDelta,
}

/// A quota with a zero limit or a window that is not positive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("a quota needs a limit of at least 1 and a positive window")]
pub struct QuotaError;

#[derive(Serialize, Deserialize)]
struct RawQuota {
    limit: u32,
    window_secs: i64,
}

impl TryFrom<RawQuota> for Quota {
    type Error = QuotaError;
    fn try_from(raw: RawQuota) -> Result<Self, QuotaError> {
        Self::new(
            raw.limit,
            TimeDelta::try_seconds(raw.window_secs).ok_or(QuotaError)?,
        )
    }
}

impl From<Quota> for RawQuota {
    fn from(q: Quota) -> Self {
        Self {
            limit: q.limit,
            window_secs: q.window.num_seconds(),
        }
    }
}

impl Quota {
    /// `limit` events per `window`.
    ///
    /// # Errors
    /// [`QuotaError`] when `limit` is 0 or `window` is not positive.
    pub fn new(limit: u32, window: TimeDelta) -> Result<Self, QuotaError> {
        if limit == 0 || window <= TimeDelta::zero() {
            Err(QuotaError)
        } else {
            Ok(Self { limit, window })
        }
    }

    /// The most events per window.
    #[must_use]
    pub fn limit(self) -> u32 {
        self.limit
    }

    /// The window's length.
    #[must_use]
    pub fn window(self) -> TimeDelta {
        self.window
    }

    /// Whether one more event fits at `now`, given the instants of earlier
    /// events (in any order; instants after `now` count too, so a clock that
    /// went backwards never frees a slot). On refusal, answers the first
    /// instant at which one more event fits.
    ///
    /// # Errors
    /// The instant the next event becomes possible.
    pub fn check(self, events: &[Timestamp], now: Timestamp) -> Result<(), Timestamp> {
        let mut counted = self.counted(events, now);
        let limit = self.limit as usize;
        if counted.len() < limit {
            return Ok(());
        }
        counted.sort_unstable();
        // The oldest events must leave the window until limit - 1 remain.
        let leaving = counted[counted.len() - limit];
        Err(leaving.saturating_add(self.window).max(now))
    }

    /// How many more events fit at `now`, counting events as
    /// [`check`](Self::check) does: `check` answers `Ok` exactly when this
    /// is at least 1.
    ///
    /// ```
    /// use pronet::quota::Quota;
    /// use pronet::{TimeDelta, Timestamp};
    ///
    /// let q = Quota::new(3, TimeDelta::days(1))?;
    /// let t = |h: i64| Timestamp::UNIX_EPOCH.saturating_add(TimeDelta::hours(h));
    /// assert_eq!(q.remaining(&[t(0), t(1)], t(2)), 1);
    /// assert_eq!(q.remaining(&[t(0), t(1)], t(24)), 2);
    /// # Ok::<(), pronet::quota::QuotaError>(())
    /// ```
    #[must_use]
    pub fn remaining(self, events: &[Timestamp], now: Timestamp) -> u32 {
        let counted = u32::try_from(self.counted(events, now).len()).unwrap_or(u32::MAX);
        self.limit.saturating_sub(counted)
    }

    /// The events that count at `now`: those inside the window ending at
    /// `now`, and any after it.
    fn counted(self, events: &[Timestamp], now: Timestamp) -> Vec<Timestamp> {
        let start = now.saturating_sub(self.window);
        events.iter().copied().filter(|&t| t > start).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_micros(secs * 1_000_000)
    }

    #[test]
    fn exactly_the_limit_fits_and_the_retry_instant_is_exact() {
        let q = Quota::new(3, TimeDelta::seconds(100)).unwrap_or_else(|_| unreachable!());
        let sent = [at(0), at(10), at(20)];
        assert_eq!(q.check(&sent[..2], at(20)), Ok(()));
        assert_eq!(q.check(&sent, at(30)), Err(at(100)));
        assert_eq!(q.check(&sent, at(99)), Err(at(100)));
        assert_eq!(q.check(&sent, at(100)), Ok(()));
    }

    #[test]
    fn remaining_is_positive_exactly_when_check_passes() {
        let q = Quota::new(3, TimeDelta::seconds(100)).unwrap_or_else(|_| unreachable!());
        let sent = [at(0), at(10), at(20), at(150)];
        for now in (0..300).step_by(5) {
            for n in 0..=sent.len() {
                let (events, now) = (&sent[..n], at(now));
                assert_eq!(q.check(events, now).is_ok(), q.remaining(events, now) >= 1);
            }
        }
        assert_eq!(q.remaining(&sent[..3], at(30)), 0);
        assert_eq!(q.remaining(&sent[..3], at(105)), 1);
        assert_eq!(q.remaining(&[], at(0)), 3);
    }

    #[test]
    fn events_after_now_still_count() {
        let q = Quota::new(1, TimeDelta::seconds(100)).unwrap_or_else(|_| unreachable!());
        assert_eq!(q.check(&[at(500)], at(0)), Err(at(600)));
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let q = Quota::new(1, TimeDelta::MAX).unwrap_or_else(|_| unreachable!());
        assert_eq!(
            q.check(&[Timestamp::MAX], Timestamp::MIN),
            Err(Timestamp::MAX)
        );
        // MIN + window saturates to MAX, where the event stops counting.
        assert_eq!(q.check(&[Timestamp::MIN], Timestamp::MAX), Ok(()));
        assert!(Quota::new(0, TimeDelta::days(1)).is_err());
        assert!(Quota::new(1, TimeDelta::zero()).is_err());
    }
}
