//! What a sender may still send: the send rule's limits read ahead of a
//! send, from the same checks the send decision makes.

use super::Ledger;
use super::decide::{quota_allows, standing_allows};
use crate::error::Refusal;
use crate::member::Tier;
use crate::policy::Policy;
use crate::standing::{self, Standing};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A sender's allowance at one instant, for the sender alone: how many
/// invitations (of any kind, invitations to join included) and notes their
/// tier's rolling windows still hold, their open invitations against the
/// cap, when the next send becomes possible, and their standing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Allowance {
    /// Sends left in the invitation quota's current window.
    pub sends_remaining: u32,
    /// The invitation quota's limit per window.
    pub send_limit: u32,
    /// Sends with a note left in the note quota's current window; `None`
    /// when the tier has no separate note allowance.
    pub notes_remaining: Option<u32>,
    /// Open invitations that count against the cap.
    pub outstanding: usize,
    /// The cap on open invitations.
    pub max_outstanding: u32,
    /// The first instant a send (without a note, with the recipient's
    /// email address, to someone the sender may invite) passes the
    /// sender's own limits: the instant asked about when one passes now,
    /// later while the quota is spent or a suspension lasts. `None` while
    /// the sender's open invitations are at the cap: only an answer, a
    /// withdrawal or an expiry frees one.
    pub next_send_at: Option<Timestamp>,
    /// The standing as judged at that instant.
    pub standing: Standing,
}

/// `ledger`'s allowance at `now` for a sender of `tier` with `outstanding`
/// open invitations: the quota and standing checks of
/// [`send`](super::decide::send) ([`quota_allows`], [`standing_allows`]),
/// asked ahead.
#[must_use]
pub fn allowance(
    ledger: &Ledger,
    tier: Tier,
    outstanding: usize,
    policy: &Policy,
    now: Timestamp,
) -> Allowance {
    let quota = policy.invitation_quota(tier);
    let mut next = Some(now);
    // A suspension lifts at its end; a spent quota frees a slot with time
    // only, so the later of the two is when both pass.
    if let Err(Refusal::Suspended { until }) = standing_allows(ledger, true, policy, now) {
        next = next.map(|t| t.max(until));
    }
    if let Err(Refusal::QuotaExhausted { retry_at }) =
        quota_allows(ledger, tier, false, policy, now)
    {
        next = next.map(|t| t.max(retry_at));
    }
    if outstanding >= policy.max_outstanding() as usize {
        next = None;
    }
    Allowance {
        sends_remaining: quota.remaining(&ledger.send_times(), now),
        send_limit: quota.limit(),
        notes_remaining: policy
            .note_quota(tier)
            .map(|q| q.remaining(&ledger.note_times(), now)),
        outstanding,
        max_outstanding: policy.max_outstanding(),
        next_send_at: next,
        standing: standing::evaluate(
            &ledger.standing,
            &ledger.sends,
            &ledger.reports,
            policy.standing(),
            now,
        ),
    }
}
