//! Spam standing: explainable signals over a sender's recent
//! invitations, and the standing they lead to.
//!
//! Standing is a pure function of the sender's recent sends and their
//! answers, the previous standing, the policy and `now`. It is deterministic
//! and monotone: one more reject, "I don't know" or report never improves
//! it, one more accept never worsens it.
//!
//! Privacy shapes the signals: the sender never learns of an ignore. A plain ignore is not recorded
//! against the sender at all. Invitations that were neither accepted nor
//! withdrawn some time after sending count as *unanswered*,
//! whether the recipient ignored them, answered privately or never looked,
//! so a sender's standing is the same in a world where the recipient
//! ignored and one where they did nothing.
//!
//! The private answers ("I don't know", spam) and reports must not become a
//! window onto one recipient's answer. They count only
//! - once at least [`private_signal_floor`](StandingPolicy::private_signal_floor)
//!   distinct recipients gave them within the window (each bars its pair
//!   for good, so each private answer in the ledger is a distinct
//!   recipient; reports are kept once per reporter), whatever the sender's
//!   volume, and
//! - from the start of the evaluation epoch after the one in which they were
//!   given ([`epoch`](StandingPolicy::epoch), epochs counted from the Unix
//!   epoch), never within the call that recorded them;
//!
//! and the signals they trip ([`Signal::NotKnown`], [`Signal::Reported`])
//! carry no count or share. Residual risk: a sender with colluding accounts
//! can make `floor - 1` of them answer privately and learn, at the next
//! epoch, whether one real recipient did too: one recipient per epoch, each
//! test costing invitations that are barred for good.

use crate::id::InvitationId;
use crate::time::Timestamp;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// One recent send, as the sender's ledger remembers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendEntry {
    /// When it was sent.
    pub at: Timestamp,
    /// The invitation.
    pub invitation: InvitationId,
    /// Whether it carried a note.
    pub with_note: bool,
    /// Whether the recipient was outside the sender's network (3rd degree
    /// or further) when it was sent.
    pub outside_network: bool,
    /// The answer that counts for standing, once there is one.
    pub answer: Option<Answer>,
    /// Whether it is an invitation to join not delivered yet: it
    /// counts toward the quota and bursts, but not toward the shares (it
    /// has no note, and nobody in the network to answer it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub join: bool,
    /// When the answer was given (absent in ledgers written before it was
    /// recorded: such an answer counts as given long ago).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<Timestamp>,
}

impl SendEntry {
    /// A send without an answer yet.
    #[must_use]
    pub fn new(
        at: Timestamp,
        invitation: InvitationId,
        with_note: bool,
        outside_network: bool,
    ) -> Self {
        Self {
            at,
            invitation,
            with_note,
            outside_network,
            answer: None,
            join: false,
            answered_at: None,
        }
    }

    /// An invitation to join sent at `at`.
    #[must_use]
    pub fn invitation_to_join(at: Timestamp, invitation: InvitationId) -> Self {
        Self {
            join: true,
            ..Self::new(at, invitation, false, true)
        }
    }
}

/// The answers that count for standing. A plain ignore is deliberately
/// absent (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Answer {
    /// Accepted.
    Accepted,
    /// Withdrawn by the sender: neutral.
    Withdrawn,
    /// Rejected.
    Rejected,
    /// "I don't know this person".
    DontKnow,
    /// Reported as spam.
    Spam,
}

/// A reason counting against a sender's standing, with the measure that
/// tripped it. Shares are whole percentages of the recent invitations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Signal {
    /// Too many invitations without a personal note.
    WithoutNote {
        /// Share without a note.
        percent: u8,
    },
    /// Too many invitations to people outside the sender's network.
    OutsideNetwork {
        /// Share to 3rd-degree or further recipients.
        percent: u8,
    },
    /// Too many invitations neither accepted nor withdrawn after a while.
    Unanswered {
        /// Share unanswered among those old enough to judge.
        percent: u8,
    },
    /// Too many rejections.
    Rejected {
        /// Share rejected.
        percent: u8,
    },
    /// Too many recipients said they do not know the sender, or reported
    /// an invitation as spam. Private answers: no count is shown (see the
    /// module documentation).
    NotKnown,
    /// Reported too often. Reports are private: no count is shown.
    Reported,
    /// Sends faster than a person plausibly sends.
    Burst {
        /// The most sends within one burst window.
        sends: u32,
    },
}

/// How far a sender is trusted to send, from best to worst.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[non_exhaustive]
pub enum Level {
    /// No concern.
    #[default]
    Good,
    /// A warning; sending is unaffected.
    Warned,
    /// Every invitation needs proof of the recipient's email address.
    Restricted,
    /// No invitations at all.
    Suspended,
}

/// A sender's standing: its level, until when a sanction lasts, the reasons,
/// and how many sanctions came before (each repeat lasts longer).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Standing {
    /// The level.
    pub level: Level,
    /// When a restriction or suspension lifts by itself.
    pub until: Option<Timestamp>,
    /// The signals behind the level.
    pub reasons: Vec<Signal>,
    /// Restrictions and suspensions imposed so far.
    pub strikes: u32,
    /// Sends before this instant were judged already; they count no more.
    pub counted_from: Option<Timestamp>,
}

/// The thresholds of standing, with documented defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StandingPolicy {
    /// Recent means sent within this window (default 30 days).
    pub window: TimeDelta,
    /// Shares are judged only over at least this many recent sends
    /// (default 10).
    pub min_sample: u32,
    /// Share without note that trips [`Signal::WithoutNote`] (default 80%).
    pub without_note_percent: u8,
    /// Share outside the network that trips [`Signal::OutsideNetwork`]
    /// (default 50%).
    pub outside_network_percent: u8,
    /// An invitation is judged unanswered this long after sending
    /// (default 14 days).
    pub unanswered_after: TimeDelta,
    /// Share unanswered that trips [`Signal::Unanswered`] (default 80%).
    pub unanswered_percent: u8,
    /// Share rejected that trips [`Signal::Rejected`] (default 20%).
    pub rejected_percent: u8,
    /// Share not known that trips [`Signal::NotKnown`] once the sender has
    /// at least [`min_sample`](Self::min_sample) recent sends (default 10%);
    /// below that sample, reaching the floor is enough.
    pub not_known_percent: u8,
    /// Reports that trip [`Signal::Reported`] (default 3; never fewer than
    /// [`private_signal_floor`](Self::private_signal_floor) count).
    pub reports: u32,
    /// Private answers ("I don't know", spam) and reports count only once
    /// at least this many distinct members gave them within the window
    /// (default 3).
    pub private_signal_floor: u32,
    /// Private answers and reports count from the start of the epoch after
    /// the one they were given in (default 1 day).
    pub epoch: TimeDelta,
    /// Sends within [`burst_window`](Self::burst_window) that trip
    /// [`Signal::Burst`] (default 40).
    pub burst_sends: u32,
    /// The burst window (default 1 hour).
    pub burst_window: TimeDelta,
    /// Signals for a warning (default 1).
    pub warn_at: u32,
    /// Signals for a restriction (default 3: a burst of
    /// unpersonalised invitations to strangers, trips three; a new member
    /// inviting their imported contacts without notes trips two and is only
    /// warned).
    pub restrict_at: u32,
    /// Signals for a suspension (default 5).
    pub suspend_at: u32,
    /// How long the first sanction lasts; each repeat doubles it
    /// (default 7 days).
    pub sanction: TimeDelta,
    /// The longest sanction (default 30 days).
    pub sanction_max: TimeDelta,
}

impl Default for StandingPolicy {
    fn default() -> Self {
        Self {
            window: TimeDelta::days(30),
            min_sample: 10,
            without_note_percent: 80,
            outside_network_percent: 50,
            unanswered_after: TimeDelta::days(14),
            unanswered_percent: 80,
            rejected_percent: 20,
            not_known_percent: 10,
            reports: 3,
            private_signal_floor: 3,
            epoch: TimeDelta::days(1),
            burst_sends: 40,
            burst_window: TimeDelta::hours(1),
            warn_at: 1,
            restrict_at: 3,
            suspend_at: 5,
            sanction: TimeDelta::days(7),
            sanction_max: TimeDelta::days(30),
        }
    }
}

impl StandingPolicy {
    /// The longest time any send needs remembering for standing.
    #[must_use]
    pub fn retention(&self) -> TimeDelta {
        self.window.max(self.burst_window)
    }

    /// Whether every value makes sense: thresholds ordered
    /// (`1 <= warn_at <= restrict_at <= suspend_at`), percentages at most
    /// 100, durations positive, `sanction <= sanction_max`, a private
    /// signal floor of at least 1.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        let percents = [
            self.without_note_percent,
            self.outside_network_percent,
            self.unanswered_percent,
            self.rejected_percent,
            self.not_known_percent,
        ];
        let positive = [
            self.window,
            self.unanswered_after,
            self.burst_window,
            self.sanction,
            self.epoch,
        ];
        percents.iter().all(|&p| (1..=100).contains(&p))
            && positive.iter().all(|&d| d > TimeDelta::zero())
            && self.sanction <= self.sanction_max
            && 1 <= self.warn_at
            && self.warn_at <= self.restrict_at
            && self.restrict_at <= self.suspend_at
            && self.min_sample >= 1
            && self.reports >= 1
            && self.private_signal_floor >= 1
            && self.burst_sends >= 2
    }
}

impl Standing {
    /// The standing in force at `now`: a sanction whose time has passed has
    /// lifted, and what it judged counts no more.
    #[must_use]
    pub fn at(&self, now: Timestamp) -> Standing {
        match self.until {
            Some(until) if until <= now => Standing {
                level: Level::Good,
                until: None,
                reasons: Vec::new(),
                strikes: self.strikes,
                counted_from: Some(until),
            },
            _ => self.clone(),
        }
    }

    /// Whether a restriction or suspension is in force at `now`.
    #[must_use]
    pub fn sanctioned(&self, now: Timestamp) -> bool {
        self.at(now).level >= Level::Restricted
    }
}

/// The signals tripped at `now` by the sends and the reports received (one
/// instant per distinct reporter) that fall in the policy's window and came
/// after `counted_from`.
#[must_use]
pub fn signals(
    sends: &[SendEntry],
    reports: &[Timestamp],
    counted_from: Option<Timestamp>,
    policy: &StandingPolicy,
    now: Timestamp,
) -> Vec<Signal> {
    let from = now.saturating_sub(policy.window);
    let counts = |at: Timestamp| at > from && counted_from.is_none_or(|c| at >= c);
    let all_recent: Vec<&SendEntry> = sends.iter().filter(|s| counts(s.at)).collect();
    // Invitations to join count in bursts only (see [`SendEntry::invitation_to_join`]).
    let recent: Vec<&SendEntry> = all_recent.iter().copied().filter(|s| !s.join).collect();
    let mut out = Vec::new();
    let n = recent.len();
    let share = |count: usize, of: usize| -> u8 {
        u8::try_from(count.saturating_mul(100) / of.max(1)).unwrap_or(100)
    };
    let count = |f: &dyn Fn(&SendEntry) -> bool| recent.iter().filter(|s| f(s)).count();
    if n >= policy.min_sample as usize {
        let mut trip = |hits: usize, threshold: u8, signal: fn(u8) -> Signal| {
            let percent = share(hits, n);
            if percent >= threshold {
                out.push(signal(percent));
            }
        };
        trip(
            count(&|s| !s.with_note),
            policy.without_note_percent,
            |percent| Signal::WithoutNote { percent },
        );
        trip(
            count(&|s| s.outside_network),
            policy.outside_network_percent,
            |percent| Signal::OutsideNetwork { percent },
        );
        trip(
            count(&|s| s.answer == Some(Answer::Rejected)),
            policy.rejected_percent,
            |percent| Signal::Rejected { percent },
        );
        let judged: Vec<&&SendEntry> = recent
            .iter()
            .filter(|s| s.at.saturating_add(policy.unanswered_after) <= now)
            .filter(|s| s.answer != Some(Answer::Withdrawn))
            .collect();
        if judged.len() >= policy.min_sample as usize {
            // Neither accepted nor withdrawn: a private answer looks to the
            // sender like no answer yet, and a reject (one more signal of
            // its own) must not improve this one.
            let unanswered = judged
                .iter()
                .filter(|s| s.answer != Some(Answer::Accepted))
                .count();
            let percent = share(unanswered, judged.len());
            if percent >= policy.unanswered_percent {
                out.push(Signal::Unanswered { percent });
            }
        }
    }
    // Private signals: given before this epoch began, from enough
    // distinct members.
    let epoch_start = epoch_start(now, policy.epoch);
    let settled = |at: Option<Timestamp>| at.is_none_or(|at| at < epoch_start);
    let floor = policy.private_signal_floor as usize;
    let not_known = recent
        .iter()
        .filter(|s| s.answer.is_some_and(private) && settled(s.answered_at))
        .count();
    if not_known >= floor
        && (n < policy.min_sample as usize || share(not_known, n) >= policy.not_known_percent)
    {
        out.push(Signal::NotKnown);
    }
    let reports = reports
        .iter()
        .filter(|&&at| counts(at) && settled(Some(at)))
        .count();
    if reports >= floor.max(policy.reports as usize) {
        out.push(Signal::Reported);
    }
    let burst = densest(&all_recent, policy.burst_window);
    if burst >= policy.burst_sends {
        out.push(Signal::Burst { sends: burst });
    }
    out
}

/// Whether an answer is one the sender is never told about.
fn private(answer: Answer) -> bool {
    matches!(answer, Answer::DontKnow | Answer::Spam)
}

/// The start of the evaluation epoch holding `now`: epochs of length
/// `epoch` counted from the Unix epoch.
fn epoch_start(now: Timestamp, epoch: TimeDelta) -> Timestamp {
    let length = epoch.num_microseconds().unwrap_or(i64::MAX).max(1);
    let micros = now.as_micros();
    Timestamp::from_micros(micros - micros.rem_euclid(length))
}

/// The most sends within any window of length `window`.
fn densest(sends: &[&SendEntry], window: TimeDelta) -> u32 {
    let mut times: Vec<Timestamp> = sends.iter().map(|s| s.at).collect();
    times.sort_unstable();
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].since(times[start]) >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    u32::try_from(best).unwrap_or(u32::MAX)
}

/// The standing after judging `sends` and `reports` at `now`, from the
/// `previous` one.
///
/// A sanction in force stays until its time, and can only be raised; a new
/// restriction or suspension lasts `sanction × 2^(strikes so far)`, at most
/// `sanction_max`, and counts a strike. Without a sanction, the level follows
/// the signals (good or warned).
#[must_use]
pub fn evaluate(
    previous: &Standing,
    sends: &[SendEntry],
    reports: &[Timestamp],
    policy: &StandingPolicy,
    now: Timestamp,
) -> Standing {
    let base = previous.at(now);
    let reasons = signals(sends, reports, base.counted_from, policy, now);
    let tripped = u32::try_from(reasons.len()).unwrap_or(u32::MAX);
    let computed = if tripped >= policy.suspend_at {
        Level::Suspended
    } else if tripped >= policy.restrict_at {
        Level::Restricted
    } else if tripped >= policy.warn_at {
        Level::Warned
    } else {
        Level::Good
    };
    if computed >= Level::Restricted && computed > base.level {
        let doubling = 1i32.checked_shl(base.strikes.min(30)).unwrap_or(i32::MAX);
        let length = policy
            .sanction
            .checked_mul(doubling)
            .unwrap_or(policy.sanction_max)
            .min(policy.sanction_max);
        return Standing {
            level: computed,
            until: Some(now.saturating_add(length)),
            reasons,
            strikes: base.strikes.saturating_add(1),
            counted_from: base.counted_from,
        };
    }
    if base.level >= Level::Restricted {
        return base;
    }
    Standing {
        level: computed,
        until: None,
        reasons,
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u64, gap: TimeDelta, with_note: bool, outside: bool) -> Vec<SendEntry> {
        (0..n)
            .map(|i| {
                let at = Timestamp::UNIX_EPOCH.saturating_add(gap * i as i32);
                SendEntry::new(at, InvitationId::new(i), with_note, outside)
            })
            .collect()
    }

    #[test]
    fn spec_example_unpersonalised_burst_to_strangers_is_restricted() {
        let policy = StandingPolicy::default();
        let sends = entries(100, TimeDelta::seconds(36), false, true);
        let now = sends[99].at;
        let s = evaluate(&Standing::default(), &sends, &[], &policy, now);
        assert_eq!(s.level, Level::Restricted);
        assert_eq!(s.until, Some(now.saturating_add(TimeDelta::days(7))));
        assert!(s.reasons.contains(&Signal::WithoutNote { percent: 100 }));
        assert!(s.reasons.contains(&Signal::OutsideNetwork { percent: 100 }));
        assert!(s.reasons.contains(&Signal::Burst { sends: 100 }));
    }

    #[test]
    fn sanctions_lift_and_escalate_up_to_the_ceiling() {
        let policy = StandingPolicy::default();
        let mut standing = Standing::default();
        let mut now = Timestamp::UNIX_EPOCH;
        let mut lengths = Vec::new();
        for _ in 0..5 {
            let start = now;
            let sends: Vec<SendEntry> = entries(100, TimeDelta::seconds(1), false, true)
                .into_iter()
                .map(|mut e| {
                    e.at = start.saturating_add(TimeDelta::seconds(e.invitation.get() as i64 + 1));
                    e
                })
                .collect();
            now = start.saturating_add(TimeDelta::seconds(100));
            standing = evaluate(&standing, &sends, &[], &policy, now);
            assert_eq!(standing.level, Level::Restricted);
            let until = standing.until.unwrap_or(now);
            lengths.push(until.since(now).num_days());
            // After it lifts, the same old sends count no more.
            let lifted = evaluate(&standing, &sends, &[], &policy, until);
            assert_eq!(lifted.level, Level::Good);
            standing = lifted;
            now = until;
        }
        assert_eq!(lengths, vec![7, 14, 28, 30, 30]);
    }
}
