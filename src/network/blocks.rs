//! Operations on blocks, reports and connection removal.

use super::{Committed, Network};
use crate::block::decide as block;
use crate::block::{BlockOutcome, ReportReason, UnblockOutcome};
use crate::error::Error;
use crate::id::MemberId;
use crate::store::Store;
use crate::time::Clock;

impl<S: Store, C: Clock> Network<S, C> {
    /// `actor` blocks `other`: their connection and every pending
    /// invitation between them go, atomically, and each is hidden from the
    /// other until `actor` unblocks. Answers [`BlockOutcome::Blocked`], or
    /// [`BlockOutcome::AlreadyBlocked`] when nothing changed; a refusal
    /// always means nothing was recorded.
    ///
    /// A member who blocked `actor` is refused exactly as one who does not
    /// exist ([`Refusal::UnknownMember`](crate::Refusal::UnknownMember)),
    /// and nothing is recorded: the blocked member learns nothing of the
    /// block.
    ///
    /// ```
    /// # use pronet::{Email, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, SendOutcome, Timestamp};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// # let SendOutcome::Sent(id) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
    /// # net.accept(bo, id)?;
    /// use pronet::{BlockOutcome, Refusal};
    /// assert_eq!(net.block(ana, bo)?.outcome, BlockOutcome::Blocked);
    /// assert_eq!(net.block(ana, bo)?.outcome, BlockOutcome::AlreadyBlocked);
    /// // Bo now sees Ana as a member who does not exist.
    /// let refused = net.degree(bo, ana).unwrap_err();
    /// assert_eq!(refused.refusal(), Some(&Refusal::UnknownMember(ana)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The refusals of [`block::block`]; store failures; contention.
    pub fn block(
        &self,
        actor: MemberId,
        other: MemberId,
    ) -> Result<Committed<BlockOutcome>, Error> {
        let _op = super::trace::pair("block", actor, other);
        self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::block(actor, other, &facts, &self.policy, now)?)
        })
    }

    /// `actor` lifts their block of `other`; nothing is restored. Answers
    /// [`UnblockOutcome::Unblocked`], or [`UnblockOutcome::NotBlocked`] when
    /// nothing changed; a refusal always means nothing was recorded (a
    /// member hidden from `actor` is refused as one who does not exist).
    ///
    /// # Errors
    /// The refusals of [`block::unblock`]; store failures; contention.
    pub fn unblock(
        &self,
        actor: MemberId,
        other: MemberId,
    ) -> Result<Committed<UnblockOutcome>, Error> {
        let _op = super::trace::pair("unblock", actor, other);
        self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::unblock(actor, other, &facts, &self.policy, now)?)
        })
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
        let _op = super::trace::pair("report", actor, other);
        self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::report(
                actor,
                other,
                reason,
                &facts,
                &self.policy,
                now,
            )?)
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
        let _op = super::trace::pair("remove_connection", actor, other);
        self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::remove_connection(
                actor,
                other,
                &facts,
                &self.policy,
                now,
            )?)
        })
    }
}
