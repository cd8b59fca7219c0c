//! Loading a [`Policy`] from a configuration file (TOML, JSON, ...)
//! through serde, with the builder's validation.

use super::*;

/// A [`Policy`] as a configuration file writes it: every setting optional
/// (an absent one keeps its default), unknown settings refused, durations
/// as a whole number and a unit (`"21d"`, `"48h"`, `"30m"`, `"90s"`).
/// [`build`](Self::build) runs the builder's validation and answers a typed
/// [`PolicyError`]; `Policy` itself deserializes through it (the error
/// then comes in the format's error, with the same message).
///
/// Every setting of the [builder](Policy::builder) has a field here.
/// Quotas are keyed by tier (`"free"`, `"premium"` for paid level 0,
/// `"premium:N"` for level N) and written `{limit, window}`; a note quota
/// may also be `"unlimited"`.
///
/// ```
/// use pronet::{Policy, PolicyConfig, PolicyError};
///
/// let config: PolicyConfig = serde_json::from_str(
///     r#"{"min_shared_connections": 2, "first_resend_wait": "120d", "reblock_wait": "72h"}"#,
/// )?;
/// let policy = config.build()?;
/// assert_eq!(policy.min_shared_connections(), 2);
/// assert_eq!(policy.reblock_wait(), pronet::TimeDelta::hours(72));
///
/// let too_short: PolicyConfig = serde_json::from_str(r#"{"first_resend_wait": "30d"}"#)?;
/// assert!(matches!(too_short.build(), Err(PolicyError::FirstResendWait(_))));
/// // Directly, with the same validation.
/// assert!(serde_json::from_str::<Policy>(r#"{"first_resend_wait": "30d"}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The same in TOML, with quotas and limits:
///
/// ```toml
/// min_shared_connections = 2
/// note_retention = "90d"
///
/// [invitation_quotas]
/// free = { limit = 100, window = "7d" }
/// premium = { limit = 500, window = "30d" }
///
/// [note_quotas]
/// free = { limit = 5, window = "30d" }
/// premium = "unlimited"
///
/// [import_limits]
/// max_rows = 5000
///
/// [profile_limits]
/// skills = 50
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PolicyConfig {
    /// See [`PolicyBuilder::min_shared_connections`].
    pub min_shared_connections: Option<u32>,
    /// See [`PolicyBuilder::note_max_chars_free`].
    pub note_max_chars_free: Option<u32>,
    /// See [`PolicyBuilder::note_max_chars_paid`].
    pub note_max_chars_paid: Option<u32>,
    /// See [`PolicyBuilder::withdraw_cooldown`].
    pub withdraw_cooldown: Option<ConfigDuration>,
    /// See [`PolicyBuilder::pending_expiry`].
    pub pending_expiry: Option<ConfigDuration>,
    /// See [`PolicyBuilder::first_resend_wait`].
    pub first_resend_wait: Option<ConfigDuration>,
    /// See [`PolicyBuilder::second_resend_wait`].
    pub second_resend_wait: Option<ConfigDuration>,
    /// See [`PolicyBuilder::max_connections`].
    pub max_connections: Option<u32>,
    /// See [`PolicyBuilder::max_attempts`].
    pub max_attempts: Option<u32>,
    /// See [`PolicyBuilder::max_outstanding`].
    pub max_outstanding: Option<u32>,
    /// See [`PolicyBuilder::reblock_wait`].
    pub reblock_wait: Option<ConfigDuration>,
    /// See [`PolicyBuilder::max_clock_skew`].
    pub max_clock_skew: Option<ConfigDuration>,
    /// See [`PolicyBuilder::max_blocks`].
    pub max_blocks: Option<u32>,
    /// See [`PolicyBuilder::max_join_invitations_per_address`].
    pub max_join_invitations_per_address: Option<u32>,
    /// See [`PolicyBuilder::standing`] (every field of it, as its serde
    /// form writes them).
    pub standing: Option<StandingPolicy>,
    /// See [`PolicyBuilder::discovery`] (every field of it, as its serde
    /// form writes them).
    pub discovery: Option<DiscoveryPolicy>,
    /// See [`PolicyBuilder::note_retention`].
    pub note_retention: Option<ConfigDuration>,
    /// See [`PolicyBuilder::invitation_quota`], by tier; a tier not named
    /// keeps its default.
    pub invitation_quotas: BTreeMap<String, ConfigQuota>,
    /// See [`PolicyBuilder::note_quota`], by tier.
    pub note_quotas: BTreeMap<String, ConfigNoteQuota>,
    /// See [`PolicyBuilder::import_limits`]; a limit not named keeps its
    /// default.
    pub import_limits: Option<ConfigImportLimits>,
    /// See [`PolicyBuilder::profile_limits`]; a limit not named keeps its
    /// default.
    pub profile_limits: Option<ProfileLimits>,
}

/// A quota in a configuration file: `{limit = 300, window = "30d"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConfigQuota {
    /// The most sends per window (at least 1).
    pub limit: u32,
    /// The rolling window (positive).
    pub window: ConfigDuration,
}

impl ConfigQuota {
    fn quota(self, tier: Tier) -> Result<Quota, PolicyError> {
        Quota::new(self.limit, self.window.get()).map_err(|_| PolicyError::Quota { tier })
    }
}

/// A note quota in a configuration file: a [`ConfigQuota`], or the word
/// `"unlimited"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ConfigNoteQuota {
    /// At most this many notes per window.
    Limited(ConfigQuota),
    /// No note allowance.
    Unlimited(Unlimited),
}

/// The word `"unlimited"` in a configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Unlimited;

impl TryFrom<String> for Unlimited {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        if text == "unlimited" {
            Ok(Self)
        } else {
            Err(format!("{text:?} is neither a quota nor \"unlimited\""))
        }
    }
}

/// [`ImportLimits`] in a configuration file; a limit not named keeps its
/// default, and [`PolicyConfig::build`] checks each against its range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ConfigImportLimits {
    /// See [`ImportLimits::max_bytes`].
    pub max_bytes: Option<usize>,
    /// See [`ImportLimits::max_rows`].
    pub max_rows: Option<usize>,
    /// See [`ImportLimits::max_field_bytes`].
    pub max_field_bytes: Option<usize>,
    /// See [`ImportLimits::max_fields`].
    pub max_fields: Option<usize>,
}

impl ConfigImportLimits {
    fn limits(self) -> Result<ImportLimits, LimitError> {
        let d = ImportLimits::default();
        ImportLimits::new(
            self.max_bytes.unwrap_or(d.max_bytes()),
            self.max_rows.unwrap_or(d.max_rows()),
            self.max_field_bytes.unwrap_or(d.max_field_bytes()),
        )?
        .with_max_fields(self.max_fields.unwrap_or(d.max_fields()))
    }
}

/// A tier as a configuration file names it: `"free"`, `"premium"` (paid
/// level 0) or `"premium:N"`.
fn config_tier(name: &str) -> Result<Tier, PolicyError> {
    match name {
        "free" => Ok(Tier::Free),
        "premium" => Ok(Tier::Premium(0)),
        _ => name
            .strip_prefix("premium:")
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse().ok())
            .map(Tier::Premium)
            .ok_or_else(|| PolicyError::UnknownTier(name.to_owned())),
    }
}

impl PolicyConfig {
    /// The policy: the defaults with every given setting applied, through
    /// the builder's validation.
    ///
    /// # Errors
    /// The first value out of its range, as a [`PolicyError`].
    pub fn build(self) -> Result<Policy, PolicyError> {
        let mut b = Policy::builder();
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field {
                    b = b.$field(v.into());
                }
            )*};
        }
        set!(
            min_shared_connections,
            note_max_chars_free,
            note_max_chars_paid,
            withdraw_cooldown,
            pending_expiry,
            first_resend_wait,
            second_resend_wait,
            max_connections,
            max_attempts,
            max_outstanding,
            reblock_wait,
            max_clock_skew,
            max_blocks,
            max_join_invitations_per_address,
            standing,
            discovery,
            note_retention,
            profile_limits
        );
        for (name, quota) in self.invitation_quotas {
            let tier = config_tier(&name)?;
            b = b.invitation_quota(tier, quota.quota(tier)?);
        }
        for (name, quota) in self.note_quotas {
            let tier = config_tier(&name)?;
            let quota = match quota {
                ConfigNoteQuota::Limited(q) => Some(q.quota(tier)?),
                ConfigNoteQuota::Unlimited(Unlimited) => None,
            };
            b = b.note_quota(tier, quota);
        }
        if let Some(limits) = self.import_limits {
            b = b.import_limits(limits.limits().map_err(PolicyError::ImportLimits)?);
        }
        b.build()
    }
}

impl TryFrom<PolicyConfig> for Policy {
    type Error = PolicyError;
    fn try_from(config: PolicyConfig) -> Result<Self, PolicyError> {
        config.build()
    }
}

/// A duration in a configuration file: a whole number and one unit, `d`
/// (days), `h`, `m` (minutes) or `s`, such as `"90d"`. Anything else is
/// refused when read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ConfigDuration(TimeDelta);

impl ConfigDuration {
    /// The duration.
    #[must_use]
    pub fn get(self) -> TimeDelta {
        self.0
    }
}

impl From<ConfigDuration> for TimeDelta {
    fn from(d: ConfigDuration) -> Self {
        d.0
    }
}

impl TryFrom<String> for ConfigDuration {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl std::str::FromStr for ConfigDuration {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("{text:?} is not a duration such as \"90d\", \"48h\", \"30m\" or \"45s\"");
        let split = text.len().checked_sub(1).ok_or_else(bad)?;
        let (digits, unit) = text.split_at_checked(split).ok_or_else(bad)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        let d = match unit {
            "d" => TimeDelta::try_days(n),
            "h" => TimeDelta::try_hours(n),
            "m" => TimeDelta::try_minutes(n),
            "s" => TimeDelta::try_seconds(n),
            _ => None,
        };
        d.map(Self).ok_or_else(bad)
    }
}
