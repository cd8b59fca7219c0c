//! A sender's allowance, read ahead of a send.

use super::Network;
use crate::error::Error;
use crate::id::MemberId;
use crate::invitation::decide::outstanding;
use crate::invitation::{self, Allowance, Ledger};
use crate::record::Key;
use crate::store::{Role, Store};
use crate::time::Clock;

impl<S: Store, C: Clock> Network<S, C> {
    /// What `member` may still send now, for `member` alone: sends and
    /// notes left in their tier's current windows, their open invitations
    /// against the cap, the next instant a send passes their own limits,
    /// and their standing. Decided by the send rule's own checks, so a send
    /// at [`next_send_at`](Allowance::next_send_at) is not refused for the
    /// quota, a suspension or the cap (the recipient's side, the re-send
    /// ladder and eligibility are the recipient's business and not read
    /// here).
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp, Email};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// let before = net.quota(ana)?;
    /// net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?;
    /// let after = net.quota(ana)?;
    /// assert_eq!(after.sends_remaining, before.sends_remaining - 1);
    /// assert_eq!(after.outstanding, 1);
    /// assert_eq!(after.next_send_at, Some(Timestamp::UNIX_EPOCH));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for an
    /// unknown or deactivated member; store failures.
    pub fn quota(&self, member: MemberId) -> Result<Allowance, Error> {
        super::trace::member("quota", member).within(|| {
            self.fresh()?;
            let me = self.active_member(member)?;
            let ledger = self
                .load::<Ledger>(Key::Ledger(member))?
                .map_or_else(|| Ledger::new(member), |l| l.value);
            // As the send rule: time never runs backwards for a ledger.
            let now = self.now().max(ledger.latest);
            let pending = self.store.open_invitations(member, Role::Sender)?;
            let open = {
                let graph = self.graph();
                outstanding(&pending, |m| graph.contains(m), &self.policy, now)
            };
            Ok(invitation::allowance(
                &ledger,
                me.tier,
                open,
                &self.policy,
                now,
            ))
        })
    }
}
