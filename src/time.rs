//! Time as data: [`Timestamp`], and the [`Clock`] the host provides.
//!
//! The core never reads the system clock except through [`SystemClock`]; every
//! operation reads its clock once and passes the instant down.

use chrono::{DateTime, TimeDelta, Utc};
use serde::de::{Error as _, Unexpected};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// An absolute UTC instant with microsecond precision, so that it round-trips
/// exactly through SQL databases.
///
/// It is stored as microseconds since the Unix epoch, clamped to the range
/// chrono can represent, and all arithmetic saturates: no instant or duration,
/// however extreme, makes it overflow or panic. It serialises as that
/// integer; deserialising refuses an integer outside
/// [`Timestamp::MIN`]..=[`Timestamp::MAX`] (such a value was never written
/// by pronet, so it is damage, not an instant to clamp).
///
/// ```
/// use pronet::Timestamp;
/// use chrono::TimeDelta;
///
/// let t = Timestamp::from_micros(1_000_000);
/// assert_eq!(t.saturating_add(TimeDelta::seconds(1)).as_micros(), 2_000_000);
/// assert_eq!(Timestamp::MAX.saturating_add(TimeDelta::days(1)), Timestamp::MAX);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "i64")]
pub struct Timestamp(i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let micros = i64::deserialize(deserializer)?;
        if (Self::MIN.0..=Self::MAX.0).contains(&micros) {
            Ok(Self(micros))
        } else {
            Err(D::Error::invalid_value(
                Unexpected::Signed(micros),
                &"microseconds since the Unix epoch within Timestamp::MIN..=Timestamp::MAX",
            ))
        }
    }
}

impl Timestamp {
    /// The earliest representable instant (about 262,000 BCE).
    pub const MIN: Self = Self(DateTime::<Utc>::MIN_UTC.timestamp_micros());
    /// The latest representable instant (about 262,000 CE).
    pub const MAX: Self = Self(DateTime::<Utc>::MAX_UTC.timestamp_micros());
    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Self = Self(0);

    /// The effective time of a decision: the clock reading, or the latest
    /// of the instants recorded in the facts it reads if that is later, so
    /// that time never goes backwards for those records (a clock
    /// that lags or jumps back never refills a quota or shortens a wait).
    /// Every rule takes its time from here.
    #[must_use]
    pub fn effective(clock: Self, recorded: impl IntoIterator<Item = Option<Self>>) -> Self {
        recorded.into_iter().flatten().fold(clock, Self::max)
    }

    /// The instant `micros` microseconds after the Unix epoch, clamped to
    /// [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    #[must_use]
    pub const fn from_micros(micros: i64) -> Self {
        if micros < Self::MIN.0 {
            Self::MIN
        } else if micros > Self::MAX.0 {
            Self::MAX
        } else {
            Self(micros)
        }
    }

    /// Microseconds since the Unix epoch.
    #[must_use]
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The instant of `at`, truncated to whole microseconds.
    #[must_use]
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Self::from_micros(at.timestamp_micros())
    }

    /// This instant as a chrono `DateTime`.
    #[must_use]
    pub fn to_datetime(self) -> DateTime<Utc> {
        // Always in range: construction clamps to chrono's own bounds.
        DateTime::from_timestamp_micros(self.0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// `self + delta`, saturating at [`Timestamp::MIN`] and [`Timestamp::MAX`].
    #[must_use]
    pub fn saturating_add(self, delta: TimeDelta) -> Self {
        Self::from_micros(self.0.saturating_add(delta_micros(delta)))
    }

    /// `self - delta`, saturating at [`Timestamp::MIN`] and [`Timestamp::MAX`].
    #[must_use]
    pub fn saturating_sub(self, delta: TimeDelta) -> Self {
        Self::from_micros(self.0.saturating_sub(delta_micros(delta)))
    }

    /// The time from `earlier` to `self` (negative when `earlier` is later),
    /// saturating instead of overflowing.
    #[must_use]
    pub fn since(self, earlier: Timestamp) -> TimeDelta {
        TimeDelta::microseconds(self.0.saturating_sub(earlier.0))
    }
}

/// A `TimeDelta` in whole microseconds, saturating: chrono's own conversion
/// answers `None` past about 292,000 years.
fn delta_micros(delta: TimeDelta) -> i64 {
    delta
        .num_microseconds()
        .unwrap_or(if delta < TimeDelta::zero() {
            i64::MIN
        } else {
            i64::MAX
        })
}

impl From<i64> for Timestamp {
    fn from(micros: i64) -> Self {
        Self::from_micros(micros)
    }
}

impl From<Timestamp> for i64 {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self::from_datetime(at)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.to_datetime()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        )
    }
}

/// The source of "now" for every operation. The host provides it; tests use
/// [`ManualClock`].
///
/// A clock may jump backwards (NTP, a host bug): pronet never lets that refill
/// a quota or end a wait early, because the time it acts on is the maximum of
/// the clock and the latest time it has already recorded.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock: the only place pronet reads real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(Utc::now())
    }
}

/// A clock that moves only when told to. Clones share one timeline, so a test
/// can keep a handle while the [`Network`](crate) under test holds another.
///
/// ```
/// use pronet::{Clock, ManualClock, Timestamp};
/// use chrono::TimeDelta;
///
/// let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
/// let shared = clock.clone();
/// clock.advance(TimeDelta::days(1));
/// assert_eq!(shared.now(), Timestamp::from_micros(86_400_000_000));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    micros: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `start`.
    #[must_use]
    pub fn new(start: Timestamp) -> Self {
        Self {
            micros: Arc::new(AtomicI64::new(start.as_micros())),
        }
    }

    /// Moves every clone of this clock by `delta` (which may be negative, to
    /// test clocks that jump backwards), saturating at the representable range.
    pub fn advance(&self, delta: TimeDelta) {
        // fetch_update cannot fail with a closure that always answers Some.
        let _ = self
            .micros
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some(Timestamp::from_micros(m).saturating_add(delta).as_micros())
            });
    }

    /// Sets every clone of this clock to `at`.
    pub fn set(&self, at: Timestamp) {
        self.micros.store(at.as_micros(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_micros(self.micros.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_arithmetic_saturates() {
        assert_eq!(
            Timestamp::MIN.saturating_sub(TimeDelta::MAX),
            Timestamp::MIN
        );
        assert_eq!(
            Timestamp::MAX.saturating_add(TimeDelta::MAX),
            Timestamp::MAX
        );
        assert_eq!(
            Timestamp::MIN.saturating_add(TimeDelta::MIN),
            Timestamp::MIN
        );
        assert!(Timestamp::MAX.since(Timestamp::MIN) > TimeDelta::zero());
        assert!(Timestamp::MIN.since(Timestamp::MAX) < TimeDelta::zero());
        assert_eq!(Timestamp::from_micros(i64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::from_micros(i64::MIN), Timestamp::MIN);
        // Both ends convert to a DateTime and display.
        assert!(Timestamp::MIN.to_string().starts_with('-'));
        assert!(!Timestamp::MAX.to_string().is_empty());
    }

    #[test]
    fn datetime_round_trip_truncates_to_micros() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap_or_default();
        let t = Timestamp::from_datetime(at);
        assert_eq!(t.as_micros(), 1_700_000_000_123_456);
        assert_eq!(Timestamp::from_datetime(t.to_datetime()), t);
    }

    #[test]
    fn manual_clock_clones_share_a_timeline_and_can_go_back() {
        let clock = ManualClock::new(Timestamp::from_micros(10));
        let other = clock.clone();
        clock.advance(TimeDelta::microseconds(5));
        assert_eq!(other.now(), Timestamp::from_micros(15));
        other.advance(TimeDelta::microseconds(-20));
        assert_eq!(clock.now(), Timestamp::from_micros(-5));
        clock.set(Timestamp::MAX);
        clock.advance(TimeDelta::MAX);
        assert_eq!(other.now(), Timestamp::MAX);
    }

    /// A5, Q5: an instant outside the representable range is refused when
    /// deserialised (it was never written), not clamped; both ends pass.
    #[test]
    fn deserialising_refuses_out_of_range_instants() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, I64Deserializer};
        let read = |micros: i64| {
            let from: I64Deserializer<Error> = micros.into_deserializer();
            Timestamp::deserialize(from).ok()
        };
        for t in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH] {
            assert_eq!(read(t.as_micros()), Some(t));
        }
        for micros in [
            Timestamp::MAX.as_micros() + 1,
            Timestamp::MIN.as_micros() - 1,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(read(micros), None, "{micros}");
        }
    }

    #[test]
    fn serde_is_exact_micros() {
        let t = Timestamp::from_micros(-123_456_789);
        assert_eq!(t.as_micros(), i64::from(t));
        let back: Timestamp = Timestamp::from(i64::from(t));
        assert_eq!(back, t);
    }
}
