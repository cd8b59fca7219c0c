//! The host-configurable limits and waits, with their documented defaults,
//! validated when built so that an impossible policy cannot exist.

use crate::contacts::import::{ImportLimits, LimitError};
use crate::discovery::DiscoveryPolicy;
use crate::member::{ProfileLimits, Tier};
use crate::quota::Quota;
use crate::standing::StandingPolicy;
use crate::time::Timestamp;
use chrono::TimeDelta;
use serde::Deserialize;
use std::collections::BTreeMap;
use thiserror::Error;

/// Every limit and wait a host may tune. Build one with
/// [`Policy::builder`]; [`Policy::default`] gives the documented defaults
/// (each stated on its getter below).
///
/// ```
/// use pronet::Policy;
/// use chrono::TimeDelta;
///
/// let strict = Policy::builder()
///     .min_shared_connections(4)
///     .first_resend_wait(TimeDelta::days(120))
///     .build()?;
/// assert_eq!(strict.min_shared_connections(), 4);
/// assert!(Policy::builder().first_resend_wait(TimeDelta::days(30)).build().is_err());
/// # Ok::<(), pronet::PolicyError>(())
/// ```
///
/// It deserializes (from a JSON or TOML configuration file, say) through
/// [`PolicyConfig`], and so through the builder's validation: an invalid
/// value is refused, never half-applied.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "PolicyConfig")]
pub struct Policy {
    min_shared_connections: u32,
    note_max_chars_free: u32,
    note_max_chars_paid: u32,
    withdraw_cooldown: TimeDelta,
    pending_expiry: TimeDelta,
    first_resend_wait: TimeDelta,
    second_resend_wait: TimeDelta,
    max_connections: u32,
    max_attempts: u32,
    invitation_quotas: BTreeMap<Tier, Quota>,
    note_quotas: BTreeMap<Tier, Option<Quota>>,
    max_outstanding: u32,
    standing: StandingPolicy,
    reblock_wait: TimeDelta,
    max_clock_skew: TimeDelta,
    max_blocks: u32,
    max_join_invitations_per_address: u32,
    import_limits: ImportLimits,
    discovery: DiscoveryPolicy,
    profile_limits: ProfileLimits,
    note_retention: TimeDelta,
}

/// `limit` per 30 days, for the defaults (whose values are always valid).
fn per_30_days(limit: u32) -> Quota {
    Quota::new(limit.max(1), TimeDelta::days(30)).unwrap_or_else(|_| unreachable!())
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_shared_connections: 1,
            note_max_chars_free: 200,
            note_max_chars_paid: 300,
            withdraw_cooldown: TimeDelta::days(21),
            pending_expiry: TimeDelta::days(180),
            first_resend_wait: TimeDelta::days(90),
            second_resend_wait: TimeDelta::days(365),
            max_connections: 30_000,
            max_attempts: 8,
            invitation_quotas: BTreeMap::from([
                (Tier::Free, per_30_days(300)),
                (Tier::Premium(0), per_30_days(600)),
            ]),
            note_quotas: BTreeMap::new(),
            max_outstanding: 5_000,
            standing: StandingPolicy::default(),
            reblock_wait: TimeDelta::hours(48),
            max_clock_skew: TimeDelta::days(1),
            max_blocks: 10_000,
            max_join_invitations_per_address: 3,
            import_limits: ImportLimits::default(),
            discovery: DiscoveryPolicy::default(),
            profile_limits: ProfileLimits::default(),
            note_retention: TimeDelta::days(180),
        }
    }
}

/// A policy value outside its allowed range.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The first re-send wait must lie in 3 to 6 months (90 to 183 days).
    #[error("the first re-send wait must be 90 to 183 days, not {0}")]
    FirstResendWait(TimeDelta),
    /// The second re-send wait must not be shorter than the first.
    #[error("the second re-send wait must be at least the first")]
    SecondResendWait,
    /// A duration that must be positive was zero or negative.
    #[error("{0} must be a positive duration")]
    NotPositive(&'static str),
    /// A paid tier's invitation quota is below the free tier's, or the free
    /// tier's quota was removed.
    #[error("invitation quotas must exist for Free and grow with the tier")]
    TierQuotas,
    /// The standing thresholds are inconsistent (see
    /// [`StandingPolicy::is_valid`]).
    #[error("inconsistent standing policy")]
    Standing,
    /// A discovery value is out of range (see
    /// [`DiscoveryPolicy::is_valid`]).
    #[error("invalid discovery policy")]
    Discovery,
    /// A profile limit is zero or past [`ProfileLimits::CEILING`].
    #[error("every profile limit must be between 1 and {}", ProfileLimits::CEILING)]
    ProfileLimits,
    /// A configured quota has a zero limit or a window that is not
    /// positive.
    #[error("the quota of {tier:?} needs a limit of at least 1 and a positive window")]
    Quota {
        /// The tier it was given for.
        tier: Tier,
    },
    /// A configured tier is neither `"free"`, `"premium"` nor
    /// `"premium:N"` (N a paid level, 0 to 255).
    #[error("{0:?} is not a tier (\"free\", \"premium\" or \"premium:N\")")]
    UnknownTier(String),
    /// An import limit is zero or past its ceiling.
    #[error("import limits: {0}")]
    ImportLimits(LimitError),
    /// A count that must be at least 1 was zero, or past its ceiling.
    #[error("{name} must be between 1 and {max}")]
    OutOfRange {
        /// The setting.
        name: &'static str,
        /// Its largest allowed value.
        max: u32,
    },
}

impl Policy {
    /// A builder starting from the defaults.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder(Self::default())
    }

    /// Shared connections needed to invite without email proof or contacts
    /// (default 1: the recipient is 2nd degree).
    #[must_use]
    pub fn min_shared_connections(&self) -> u32 {
        self.min_shared_connections
    }

    /// The longest note, in user-perceived characters, for a tier (default
    /// 200 for Free, 300 for paid tiers).
    #[must_use]
    pub fn note_max_chars(&self, tier: Tier) -> usize {
        match tier {
            Tier::Free => self.note_max_chars_free as usize,
            Tier::Premium(_) => self.note_max_chars_paid as usize,
        }
    }

    /// How long after withdrawing the sender must wait to invite the same
    /// person again (default 21 days).
    #[must_use]
    pub fn withdraw_cooldown(&self) -> TimeDelta {
        self.withdraw_cooldown
    }

    /// How long an unanswered invitation stays pending (default 180 days).
    #[must_use]
    pub fn pending_expiry(&self) -> TimeDelta {
        self.pending_expiry
    }

    /// The instant an invitation (ordinary or to join) sent at `sent_at`
    /// expires if still unanswered: the one expiry rule of both kinds.
    #[must_use]
    pub fn expires_at(&self, sent_at: Timestamp) -> Timestamp {
        sent_at.saturating_add(self.pending_expiry)
    }

    /// The wait before sending again, counted from the last send, after
    /// `unanswered` unanswered attempts (the re-send ladder): nothing before the first
    /// send, 90 days after one, 365 days after two, and `None` (never) after
    /// three or more.
    #[must_use]
    pub fn resend_wait(&self, unanswered: u32) -> Option<TimeDelta> {
        match unanswered {
            0 => Some(TimeDelta::zero()),
            1 => Some(self.first_resend_wait),
            2 => Some(self.second_resend_wait),
            _ => None,
        }
    }

    /// The most connections a person may have (default 30,000).
    #[must_use]
    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// How many times an operation is decided and committed before it gives
    /// up under contention (default 8).
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The invitation quota of a tier, over a rolling window: Free 300 per 30 days by
    /// default; a paid level uses the quota set for the highest configured
    /// level at or below it (by default every paid level has 600 per 30
    /// days, pronet's choice; a host sets paid levels as it sells them).
    #[must_use]
    pub fn invitation_quota(&self, tier: Tier) -> Quota {
        self.invitation_quotas
            .range(..=tier)
            .next_back()
            .map_or_else(|| per_30_days(1), |(_, q)| *q)
    }

    /// The personalised-note allowance of a tier, looked up like
    /// [`invitation_quota`](Self::invitation_quota); `None` (the default) is
    /// unlimited.
    #[must_use]
    pub fn note_quota(&self, tier: Tier) -> Option<Quota> {
        self.note_quotas
            .range(..=tier)
            .next_back()
            .and_then(|(_, q)| *q)
    }

    /// The most invitations a sender may have pending at once (default
    /// 5,000).
    #[must_use]
    pub fn max_outstanding(&self) -> u32 {
        self.max_outstanding
    }

    /// The thresholds of spam standing.
    #[must_use]
    pub fn standing(&self) -> &StandingPolicy {
        &self.standing
    }

    /// How long after unblocking a member the same member cannot be blocked
    /// again (default 48 hours), so that block and unblock cannot be
    /// cycled to reset what a block removed.
    #[must_use]
    pub fn reblock_wait(&self) -> TimeDelta {
        self.reblock_wait
    }

    /// How far a recorded instant may lie ahead of the host clock before it
    /// is treated as the trace of a bad clock reading (default 1 day).
    ///
    /// Within it, time never goes backwards for a decision: it acts at
    /// the latest of the clock, the records it reads and this process's
    /// latest reading. Beyond it, a record read is refused with
    /// [`Error::ClockSkew`](crate::Error::ClockSkew), naming its key, so
    /// that one bad reading does not spread through every record decided
    /// from it; [`Network::repair_clock`](crate::Network::repair_clock)
    /// brings such records back to the clock. A process whose own latest
    /// reading lies this far ahead of the clock drops it.
    #[must_use]
    pub fn max_clock_skew(&self) -> TimeDelta {
        self.max_clock_skew
    }

    /// The most members one member may block (default 10,000), so that the
    /// per-viewer filter stays bounded.
    #[must_use]
    pub fn max_blocks(&self) -> u32 {
        self.max_blocks
    }

    /// The most invitations to join one address may receive, across all
    /// senders and all time (default 3): no address is emailed without end.
    #[must_use]
    pub fn max_join_invitations_per_address(&self) -> u32 {
        self.max_join_invitations_per_address
    }

    /// The limits on one address-book import (default 10 MiB,
    /// 50,000 rows, 1,024 bytes per field).
    #[must_use]
    pub fn import_limits(&self) -> &ImportLimits {
        &self.import_limits
    }

    /// The weights and limits of discovery: people you may know,
    /// follows, groups and dismissals.
    #[must_use]
    pub fn discovery(&self) -> &DiscoveryPolicy {
        &self.discovery
    }

    /// The size limits of profiles, checked at registration and on every
    /// update (defaults: display name 100 characters, headline 220,
    /// location 100, 20 current and 100 past companies, 50 schools of 100
    /// characters, 100 skills of 80 characters, 10 email addresses; see
    /// [`ProfileLimits`]).
    #[must_use]
    pub fn profile_limits(&self) -> &ProfileLimits {
        &self.profile_limits
    }

    /// How long the notes of a closed invitation are kept (the sender's
    /// note and the recipient's decline note): after this long since it
    /// closed (or expired), [`Network::apply_retention`] erases them. 180
    /// days by default.
    ///
    /// [`Network::apply_retention`]: crate::Network::apply_retention
    #[must_use]
    pub fn note_retention(&self) -> TimeDelta {
        self.note_retention
    }

    /// How long a sender's sends must be remembered: the longest of the
    /// quota, note and standing windows.
    #[must_use]
    pub fn send_retention(&self) -> TimeDelta {
        self.invitation_quotas
            .values()
            .chain(self.note_quotas.values().flatten())
            .map(|q| q.window())
            .fold(self.standing.retention(), TimeDelta::max)
    }
}

/// Builds a [`Policy`], validating every value in [`build`](Self::build).
#[derive(Clone, Debug)]
#[must_use]
pub struct PolicyBuilder(Policy);

impl PolicyBuilder {
    /// See [`Policy::min_shared_connections`]; 1 to 1,000.
    pub fn min_shared_connections(mut self, n: u32) -> Self {
        self.0.min_shared_connections = n;
        self
    }

    /// The note limit for the Free tier; 1 to 2,000.
    pub fn note_max_chars_free(mut self, n: u32) -> Self {
        self.0.note_max_chars_free = n;
        self
    }

    /// The note limit for paid tiers; 1 to 2,000.
    pub fn note_max_chars_paid(mut self, n: u32) -> Self {
        self.0.note_max_chars_paid = n;
        self
    }

    /// See [`Policy::withdraw_cooldown`]; positive.
    pub fn withdraw_cooldown(mut self, wait: TimeDelta) -> Self {
        self.0.withdraw_cooldown = wait;
        self
    }

    /// See [`Policy::pending_expiry`]; positive.
    pub fn pending_expiry(mut self, after: TimeDelta) -> Self {
        self.0.pending_expiry = after;
        self
    }

    /// The wait after one unanswered attempt; 90 to 183 days.
    pub fn first_resend_wait(mut self, wait: TimeDelta) -> Self {
        self.0.first_resend_wait = wait;
        self
    }

    /// The wait after two unanswered attempts; at least the first wait.
    pub fn second_resend_wait(mut self, wait: TimeDelta) -> Self {
        self.0.second_resend_wait = wait;
        self
    }

    /// See [`Policy::max_connections`]; 1 to 1,000,000.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.0.max_connections = n;
        self
    }

    /// See [`Policy::max_attempts`]; 1 to 100.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.0.max_attempts = n;
        self
    }

    /// The invitation quota of `tier` and of paid levels above it that have
    /// none of their own.
    pub fn invitation_quota(mut self, tier: Tier, quota: Quota) -> Self {
        self.0.invitation_quotas.insert(tier, quota);
        self
    }

    /// The note allowance of `tier` (and of higher levels without their own);
    /// `None` makes it unlimited.
    pub fn note_quota(mut self, tier: Tier, quota: Option<Quota>) -> Self {
        self.0.note_quotas.insert(tier, quota);
        self
    }

    /// See [`Policy::max_outstanding`]; 1 to 100,000.
    pub fn max_outstanding(mut self, n: u32) -> Self {
        self.0.max_outstanding = n;
        self
    }

    /// See [`Policy::reblock_wait`]; positive.
    pub fn reblock_wait(mut self, wait: TimeDelta) -> Self {
        self.0.reblock_wait = wait;
        self
    }

    /// See [`Policy::max_clock_skew`]; positive (`TimeDelta::MAX` turns the
    /// check off).
    pub fn max_clock_skew(mut self, skew: TimeDelta) -> Self {
        self.0.max_clock_skew = skew;
        self
    }

    /// See [`Policy::max_blocks`]; 1 to 1,000,000.
    pub fn max_blocks(mut self, n: u32) -> Self {
        self.0.max_blocks = n;
        self
    }

    /// See [`Policy::max_join_invitations_per_address`]; 1 to 100.
    pub fn max_join_invitations_per_address(mut self, n: u32) -> Self {
        self.0.max_join_invitations_per_address = n;
        self
    }

    /// See [`Policy::import_limits`] (validated when built).
    pub fn import_limits(mut self, limits: ImportLimits) -> Self {
        self.0.import_limits = limits;
        self
    }

    /// See [`Policy::standing`].
    pub fn standing(mut self, standing: StandingPolicy) -> Self {
        self.0.standing = standing;
        self
    }

    /// See [`Policy::discovery`].
    pub fn discovery(mut self, discovery: DiscoveryPolicy) -> Self {
        self.0.discovery = discovery;
        self
    }

    /// See [`Policy::note_retention`]; a positive duration.
    pub fn note_retention(mut self, keep: TimeDelta) -> Self {
        self.0.note_retention = keep;
        self
    }

    /// See [`Policy::profile_limits`]; each limit 1 to
    /// [`ProfileLimits::CEILING`].
    pub fn profile_limits(mut self, limits: ProfileLimits) -> Self {
        self.0.profile_limits = limits;
        self
    }

    /// The policy, if every value is allowed.
    ///
    /// # Errors
    /// The first value out of its range, as a [`PolicyError`].
    pub fn build(self) -> Result<Policy, PolicyError> {
        let p = self.0;
        let in_range = |name, value: u32, max: u32| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(PolicyError::OutOfRange { name, max })
            }
        };
        in_range("min_shared_connections", p.min_shared_connections, 1_000)?;
        in_range("note_max_chars_free", p.note_max_chars_free, 2_000)?;
        in_range("note_max_chars_paid", p.note_max_chars_paid, 2_000)?;
        in_range("max_connections", p.max_connections, 1_000_000)?;
        in_range("max_attempts", p.max_attempts, 100)?;
        in_range("max_outstanding", p.max_outstanding, 100_000)?;
        in_range("max_blocks", p.max_blocks, 1_000_000)?;
        in_range(
            "max_join_invitations_per_address",
            p.max_join_invitations_per_address,
            100,
        )?;
        let free = p
            .invitation_quotas
            .get(&Tier::Free)
            .ok_or(PolicyError::TierQuotas)?;
        if p.invitation_quotas
            .values()
            .any(|q| q.limit() < free.limit())
        {
            return Err(PolicyError::TierQuotas);
        }
        if !p.standing.is_valid() {
            return Err(PolicyError::Standing);
        }
        if !p.discovery.is_valid() {
            return Err(PolicyError::Discovery);
        }
        if !p.profile_limits.is_valid() {
            return Err(PolicyError::ProfileLimits);
        }
        for (name, d) in [
            ("withdraw_cooldown", p.withdraw_cooldown),
            ("pending_expiry", p.pending_expiry),
            ("reblock_wait", p.reblock_wait),
            ("max_clock_skew", p.max_clock_skew),
            ("note_retention", p.note_retention),
        ] {
            if d <= TimeDelta::zero() {
                return Err(PolicyError::NotPositive(name));
            }
        }
        if p.first_resend_wait < TimeDelta::days(90) || p.first_resend_wait > TimeDelta::days(183) {
            return Err(PolicyError::FirstResendWait(p.first_resend_wait));
        }
        if p.second_resend_wait < p.first_resend_wait {
            return Err(PolicyError::SecondResendWait);
        }
        Ok(p)
    }
}

mod config;
pub use config::{
    ConfigDuration, ConfigImportLimits, ConfigNoteQuota, ConfigQuota, PolicyConfig, Unlimited,
};

#[cfg(test)]
mod tests;
