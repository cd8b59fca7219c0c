//! Operations on invitations: send, accept, ignore, reject, withdraw.

use super::{Committed, Network};
use crate::contacts::Invitee;
use crate::contacts::join;
use crate::error::Error;
use crate::id::{InvitationId, MemberId};
use crate::invitation::IgnoreReason;
use crate::invitation::Ledger;
use crate::invitation::decide::{self, SendOutcome, SendRequest};
use crate::record::Key;
use crate::store::Store;
use crate::time::Clock;

impl<S: Store, C: Clock> Network<S, C> {
    /// Sends an invitation, or connects at once when the
    /// recipient had already invited the sender.
    ///
    /// The [`SendRequest`] names its parts: the note, if any, and the
    /// proof, an email address of the recipient's that the sender knows,
    /// which makes the sender eligible without shared connections.
    ///
    /// # Errors
    /// The refusals of [`decide::send`]; store failures; contention.
    pub fn send(&self, req: SendRequest<'_>) -> Result<Committed<SendOutcome>, Error> {
        let (sender, recipient) = (req.sender, req.recipient);
        let _op = super::trace::pair("send", sender, recipient);
        self.run(|now| {
            let facts = self.send_facts(sender, recipient, now)?;
            Ok(decide::send(&req, &facts, &self.policy, now)?)
        })
    }

    /// Accepts an invitation: the two become connected; the sender is notified.
    ///
    /// ```
    /// # use pronet::{Email, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, SendOutcome, Timestamp};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// # let SendOutcome::Sent(id) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
    /// net.accept(bo, id)?;
    /// assert_eq!(net.degree(ana, bo)?, pronet::Degree::First);
    /// net.accept(bo, id)?; // again: the same answer, nothing changes
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The refusals of [`decide::accept`]; store failures; contention.
    pub fn accept(&self, actor: MemberId, id: InvitationId) -> Result<Committed<()>, Error> {
        let _op = super::trace::invitation("accept", actor, id);
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            Ok(decide::accept(actor, id, &facts, &self.policy, now)?)
        })
    }

    /// The recipient ignores an invitation, silently: the sender is told
    /// nothing and keeps seeing it as pending until it expires, and may
    /// invite again as the re-send ladder allows. Ignoring again changes
    /// nothing.
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Seen, Timestamp};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = pronet::Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// # let pronet::SendOutcome::Sent(id) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
    /// net.ignore(bo, id)?;
    /// assert_eq!(net.invitation(bo, id)?.seen, Seen::Ignored);
    /// assert_eq!(net.invitation(ana, id)?.seen, Seen::Pending); // the sender cannot tell
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The refusals of [`decide::ignore`]; store failures; contention.
    pub fn ignore(&self, actor: MemberId, id: InvitationId) -> Result<Committed<()>, Error> {
        self.ignore_because(actor, id, IgnoreReason::Ignored)
    }

    /// The recipient ignores an invitation saying "I don't know this
    /// person": as [`ignore`](Self::ignore), and the sender is barred from
    /// inviting them again, silently (their later invitations are taken
    /// and never delivered, so the sender cannot tell). May follow a plain
    /// ignore of the same invitation.
    ///
    /// # Errors
    /// As [`ignore`](Self::ignore).
    pub fn ignore_unknown(
        &self,
        actor: MemberId,
        id: InvitationId,
    ) -> Result<Committed<()>, Error> {
        self.ignore_because(actor, id, IgnoreReason::DontKnow)
    }

    /// The recipient reports an invitation as spam: as
    /// [`ignore_unknown`](Self::ignore_unknown), plus a report of the
    /// sender (counted once per reporter, against the sender's standing;
    /// the sender is never told who reported). May follow a plain ignore
    /// or an "I don't know" of the same invitation. To report a member
    /// rather than an invitation, see [`report`](Self::report).
    ///
    /// # Errors
    /// As [`ignore`](Self::ignore).
    pub fn report_invitation(
        &self,
        actor: MemberId,
        id: InvitationId,
    ) -> Result<Committed<()>, Error> {
        self.ignore_because(actor, id, IgnoreReason::Spam)
    }

    /// The general form of [`ignore`](Self::ignore),
    /// [`ignore_unknown`](Self::ignore_unknown) and
    /// [`report_invitation`](Self::report_invitation), for a host that
    /// takes the reason as data: each of those is this with its
    /// [`IgnoreReason`]. A later, stronger reason for an ignored invitation
    /// applies; a weaker or equal one changes nothing.
    ///
    /// # Errors
    /// As [`ignore`](Self::ignore).
    pub fn ignore_because(
        &self,
        actor: MemberId,
        id: InvitationId,
        reason: IgnoreReason,
    ) -> Result<Committed<()>, Error> {
        let operation = match reason {
            IgnoreReason::DontKnow => "ignore_unknown",
            IgnoreReason::Spam => "report_invitation",
            _ => "ignore",
        };
        let _op = super::trace::invitation(operation, actor, id);
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            Ok(decide::ignore(
                actor,
                id,
                reason,
                &facts,
                &self.policy,
                now,
            )?)
        })
    }

    /// Rejects an invitation: the sender is told, and may never invite the
    /// recipient again (the other direction stays open).
    /// [`reject_with_note`](Self::reject_with_note) adds a polite note.
    ///
    /// ```
    /// # use pronet::{Email, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, SendOutcome, Timestamp};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// # let SendOutcome::Sent(id) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
    /// let done = net.reject(bo, id)?;
    /// assert!(matches!(done.events[0], pronet::Event::InvitationRejected { .. }));
    /// // Ana may never invite Bo again.
    /// let refused = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email)).unwrap_err();
    /// assert_eq!(refused.refusal(), Some(&pronet::Refusal::Barred));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The refusals of [`decide::reject`]; store failures; contention.
    pub fn reject(&self, actor: MemberId, id: InvitationId) -> Result<Committed<()>, Error> {
        self.reject_as(actor, id, None)
    }

    /// Rejects an invitation with a note to the sender ("Sorry, I keep my
    /// network for people I have worked with"), validated as an invitation
    /// note is. The sender reads it in the [`Event::InvitationRejected`](crate::Event::InvitationRejected) and
    /// in the invitation's [`InvitationView::decline_note`](crate::network::InvitationView::decline_note); nobody else
    /// can. A blank note is no note.
    ///
    /// # Errors
    /// As [`reject`](Self::reject), and [`Refusal::InvalidNote`](crate::Refusal::InvalidNote).
    pub fn reject_with_note(
        &self,
        actor: MemberId,
        id: InvitationId,
        note: &str,
    ) -> Result<Committed<()>, Error> {
        self.reject_as(actor, id, Some(note))
    }

    pub(super) fn reject_as(
        &self,
        actor: MemberId,
        id: InvitationId,
        note: Option<&str>,
    ) -> Result<Committed<()>, Error> {
        let _op = super::trace::invitation("reject", actor, id);
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            Ok(decide::reject(actor, id, note, &facts, &self.policy, now)?)
        })
    }

    /// Withdraws a pending invitation: it leaves the recipient's inbox,
    /// nobody is notified, the quota is not refunded, and the sender waits
    /// the policy's withdraw cooldown before inviting the same person again.
    ///
    /// ```
    /// # use pronet::{Email, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, SendOutcome, Timestamp};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// # let SendOutcome::Sent(id) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
    /// net.withdraw(ana, id)?;
    /// // Bo no longer sees it; Ana sees it withdrawn.
    /// assert!(net.inbox(bo, None, pronet::PageSize::default())?.items.is_empty());
    /// assert_eq!(net.invitation(ana, id)?.seen, pronet::Seen::Withdrawn);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The refusals of [`decide::withdraw`]; store failures; contention.
    pub fn withdraw(&self, actor: MemberId, id: InvitationId) -> Result<Committed<()>, Error> {
        let _op = super::trace::invitation("withdraw", actor, id);
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            if facts.invitation.is_none() {
                // Not an invitation (yet): perhaps the actor's invitation
                // to join, found through their ledger.
                let ledger = self.load::<Ledger>(Key::Ledger(actor))?;
                let address = ledger.as_ref().and_then(|l| {
                    l.value
                        .joins
                        .iter()
                        .find(|j| j.invitation == id)
                        .map(|j| j.email.canonical().to_owned())
                });
                if let Some(address) = address {
                    let invitee = self.load::<Invitee>(Key::Invitee(address))?;
                    return Ok(join::withdraw(
                        actor,
                        id,
                        ledger.as_ref(),
                        invitee.as_ref(),
                        &self.policy,
                        now,
                    )?);
                }
            }
            Ok(decide::withdraw(actor, id, &facts, &self.policy, now)?)
        })
    }
}
