//! Operations on blocks, reports and connection removal.

use super::{Committed, Network};
use crate::block::ReportReason;
use crate::block::decide as block;
use crate::error::Error;
use crate::id::MemberId;
use crate::store::Store;
use crate::time::Clock;

impl<S: Store, C: Clock> Network<S, C> {
    /// `actor` blocks `other` (SPEC 7): their connection and every pending
    /// invitation between them go, atomically, and each is hidden from the
    /// other until `actor` unblocks.
    ///
    /// # Errors
    /// The refusals of [`block::block`]; store failures; contention.
    pub fn block(&self, actor: MemberId, other: MemberId) -> Result<Committed<()>, Error> {
        let done = self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::block(actor, other, &facts, &self.policy, now)?)
        })?;
        answer(done)
    }

    /// `actor` lifts their block of `other`; nothing is restored.
    ///
    /// # Errors
    /// The refusals of [`block::unblock`]; store failures; contention.
    pub fn unblock(&self, actor: MemberId, other: MemberId) -> Result<Committed<()>, Error> {
        let done = self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::unblock(actor, other, &facts, now)?)
        })?;
        answer(done)
    }

    /// `actor` reports `other`, once per reporter and target.
    ///
    /// # Errors
    /// The refusals of [`block::report`]; store failures; contention.
    pub fn report(
        &self,
        actor: MemberId,
        other: MemberId,
        reason: ReportReason,
    ) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::report(actor, other, reason, &facts, now)?)
        })
    }

    /// `actor` removes their connection with `other`, silently.
    ///
    /// # Errors
    /// The refusals of [`block::remove_connection`]; store failures;
    /// contention.
    pub fn remove_connection(
        &self,
        actor: MemberId,
        other: MemberId,
    ) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::remove_connection(actor, other, &facts, now)?)
        })
    }
}

/// The caller's answer to a committed block or unblock: a silent one is
/// answered with its refusal, exactly as for a missing member.
pub(super) fn answer(done: Committed<block::Outcome>) -> Result<Committed<()>, Error> {
    match done.outcome {
        block::Outcome::Silent(refusal) => Err(refusal.into()),
        _ => Ok(Committed {
            outcome: (),
            events: done.events,
            mail: done.mail,
        }),
    }
}
