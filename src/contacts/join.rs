//! Invitations to join: a member invites an address that no member
//! they can find has, by email.
//!
//! # Rules
//!
//! Every address has one [`Invitee`] record (`Key::Invitee(canonical)`),
//! which holds every invitation to join it ever received and whether it
//! opted out. Writing that one record with its expected version makes the
//! per-address rules hold under concurrent senders.
//!
//! * **The sender** is an active person; their [standing and
//!   quota](crate::invitation::decide::standing_allows) are checked by the
//!   same functions as an ordinary send, and an invitation to join is one
//!   send in the sender's quota and in the burst signal of their standing
//!   (it carries no note and has no recipient in the network to answer
//!   it, so the share signals leave it out until it becomes an ordinary
//!   invitation).
//! * **Once per sender and address.** Inviting an address again answers
//!   the first invitation and changes nothing (no event, no quota).
//! * **At most [`Policy::max_join_invitations_per_address`]** (default 3)
//!   invitations per address across all senders, ever, and **none after
//!   the address opted out** ([`Network::opt_out`](crate::Network::opt_out),
//!   which the host calls from the email's unsubscribe link). Both answer
//!   the same [`Refusal::NotInvitable`], so a sender learns neither whether
//!   the person opted out nor how many others invited them, and no quota is
//!   used.
//! * **Expiry.** An invitation to join is pending for the policy's
//!   [`pending_expiry`](Policy::pending_expiry) (180 days), like an
//!   ordinary one; it still counts toward the per-address cap afterwards.
//!
//! # Privacy (RELIABILITY B7)
//!
//! [`Network::invite_to_join`](crate::Network::invite_to_join) first asks
//! [`findable`](super::decide::findable) whether the address belongs to a member the
//! sender may find. If so, the sender already sees that member in their
//! import report, and an ordinary invitation is sent to them with the
//! address as proof ([`InviteOutcome::Member`]). Otherwise (nobody has the
//! address, or its owner is undiscoverable by it, deactivated, or on either
//! side of a block with the sender) the same decision runs, with the same
//! answer, the same records and the same events; the only difference is
//! that an email is requested ([`Event::JoinInvitationReceived`], in the
//! answer's [`mail`](crate::Committed::mail), for the host's mailer and
//! never for the sender) only when no member has the address. A member who is not to be found by
//! the address is never reached through it.
//!
//! # Joining
//!
//! When a member registers, or later updates their profile, every address
//! they own **and let others find them by** is checked for pending
//! invitations to join (not expired, not opted out). Each is turned into an
//! ordinary invitation by the ordinary [`send`]
//! decision, with the address as the sender's email proof, so every rule of
//! an ordinary send is checked again at that moment: the sender must still be an
//! active person in good enough standing, with no block either way, not
//! barred, within the re-send ladder and the outstanding cap, and admitted
//! by the new member's "who may invite me" setting (or held, as usual).
//! The quota is not counted again: the invitation keeps the id of the
//! invitation to join, whose entry in the sender's ledger it takes over. A
//! refusal drops the invitation to join silently: the sender was never
//! promised delivery, and telling them would say who owns the address.
//! Addresses their owner keeps undiscoverable are never delivered this
//! way: delivering would tell the sender who has the address.
//!
//! [`Policy::max_join_invitations_per_address`]: crate::Policy::max_join_invitations_per_address
//! [`Policy`]: crate::Policy
//! [`Refusal::NotInvitable`]: crate::Refusal::NotInvitable

use super::invitee::{Invitee, JoinInvitation, JoinState};
use crate::change::ChangeSet;
use crate::change::Decision;
use crate::email::Email;
use crate::error::Refusal;
use crate::event::Event;
use crate::id::{InvitationId, MemberId};
use crate::invitation::decide::{
    SendFacts, SendOutcome, SendRequest, quota_allows, record_send, send, standing_allows,
};
use crate::invitation::{Ledger, Seen, SentJoin};
use crate::member::Member;
use crate::member::decide::active_person;
use crate::note::Note;
use crate::policy::Policy;
use crate::record::{OrNew, Record, Versioned};
use crate::standing::SendEntry;
use crate::time::Timestamp;

/// What an invitation to join did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InviteOutcome {
    /// An invitation to join is recorded for the address (or was already,
    /// from this sender). Whether an email goes out is not the sender's to
    /// know (see the [module documentation](self)).
    Invited(InvitationId),
    /// The address belongs to a member the sender can find by it: an
    /// ordinary invitation was sent to them instead, with the address as
    /// proof.
    Member {
        /// The member.
        member: MemberId,
        /// What the send did.
        sent: SendOutcome,
    },
}

/// What an invitation to join needs from the store.
#[derive(Clone, Debug)]
pub struct JoinFacts {
    /// The sender's record.
    pub sender: Option<Versioned<Member>>,
    /// The sender's counters.
    pub sender_ledger: Option<Versioned<Ledger>>,
    /// The address's record.
    pub invitee: Option<Versioned<Invitee>>,
    /// The id a new invitation would take.
    pub new_id: InvitationId,
    /// Whether the host is to email the address: no member has it. Only
    /// the events for the host depend on it, never the sender's answer.
    pub deliver: bool,
}

impl JoinFacts {
    /// The effective time: the clock, or the latest instant already
    /// recorded in these facts if later.
    #[must_use]
    pub fn effective_now(&self, clock: Timestamp) -> Timestamp {
        let ledger = self.sender_ledger.as_ref().map(|l| l.value.latest);
        let invitee = self.invitee.as_ref().and_then(|i| i.value.latest());
        Timestamp::effective(clock, [ledger, invitee])
    }
}

/// `sender` invites `email` to join (see the
/// [module documentation](self) for the rules and their order).
///
/// # Errors
/// [`Refusal::UnknownMember`], [`Refusal::NotAPerson`] for the sender;
/// [`Refusal::NotInvitable`] past the per-address cap or after an opt-out;
/// [`Refusal::Suspended`]; [`Refusal::QuotaExhausted`].
pub fn invite(
    sender: MemberId,
    email: &Email,
    note: Option<&str>,
    facts: &JoinFacts,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<InviteOutcome>, Refusal> {
    let now = facts.effective_now(clock);
    let member = active_person(facts.sender.as_ref(), sender)?;
    let mut invitee = facts
        .invitee
        .as_ref()
        .or_new(|| Invitee::new(email.clone()));
    if let Some(earlier) = invitee.invitations.iter().find(|i| i.sender == sender) {
        // The sender's own withdrawal is theirs to know; anything else
        // about the address is not.
        if earlier.state == JoinState::Withdrawn {
            return Err(Refusal::NotPending {
                seen: Seen::Withdrawn,
            });
        }
        return Ok(Decision::unchanged(InviteOutcome::Invited(earlier.id)));
    }
    let note = match note {
        Some(text) => Note::parse(text, policy.note_max_chars(member.tier))?,
        None => None,
    };
    let cap = policy.max_join_invitations_per_address() as usize;
    if invitee.opted_out.is_some() || invitee.invitations.len() >= cap {
        return Err(Refusal::NotInvitable);
    }
    let read = facts.sender_ledger.as_ref();
    let mut ledger = read.or_new(|| Ledger::new(sender));
    // An invitation to join is by email: it proves the address.
    standing_allows(&ledger, true, policy, now)?;
    quota_allows(&ledger, member.tier, note.is_some(), policy, now)?;

    let id = facts.new_id;
    invitee.invitations.push(JoinInvitation {
        id,
        sender,
        email: email.clone(),
        sent_at: now,
        state: JoinState::Pending,
        note: note.clone(),
    });
    // The sender's list: expired entries go, this one comes.
    ledger.joins.retain(|j| now < policy.expires_at(j.sent_at));
    ledger.joins.push(SentJoin {
        invitation: id,
        email: email.clone(),
        sent_at: now,
    });
    let mut entry = SendEntry::invitation_to_join(now, id);
    entry.with_note = note.is_some();
    let (exhausted, standing) = record_send(&mut ledger, Some(entry), member.tier, policy, now);
    let mut changes = ChangeSet::default();
    changes.write(facts.invitee.as_ref(), Record::Invitee(invitee));
    changes.write(read, Record::Ledger(ledger));
    changes.emit(Event::JoinInvitationSent {
        invitation: id,
        sender,
        email: email.clone(),
    });
    if facts.deliver {
        changes.emit(Event::JoinInvitationReceived {
            invitation: id,
            sender,
            email: email.clone(),
            note,
        });
    }
    changes.extend_events(exhausted);
    changes.extend_events(standing);
    Ok(Decision::new(changes, InviteOutcome::Invited(id)))
}

/// The sender withdraws invitation to join `id` before it is delivered:
/// it will never be delivered, and it leaves the sender's list. No quota is
/// refunded, and it still counts toward the address's cap. Nobody else is
/// told (the address was emailed already, if anyone was). An invitation
/// the address's owner dropped on joining is withdrawn like a pending
/// one: to the sender the two look the same. Withdrawing again changes
/// nothing.
///
/// `ledger` is the sender's, and `invitee` the record of the address that
/// the ledger names for `id`.
///
/// # Errors
/// [`Refusal::InvitationNotFound`] unless `actor` sent it (and it was not
/// delivered: a delivered one is withdrawn as an ordinary invitation);
/// [`Refusal::NotPending`] once expired.
pub fn withdraw(
    actor: MemberId,
    id: InvitationId,
    ledger: Option<&Versioned<Ledger>>,
    invitee: Option<&Versioned<Invitee>>,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<()>, Refusal> {
    let not_found = Refusal::InvitationNotFound(id);
    let invitee_read = invitee.ok_or(not_found.clone())?;
    let now = Timestamp::effective(
        clock,
        [ledger.map(|l| l.value.latest), invitee_read.value.latest()],
    );
    let join = invitee_read
        .value
        .invitations
        .iter()
        .find(|i| i.id == id && i.sender == actor)
        .ok_or(not_found.clone())?;
    match join.state {
        JoinState::Withdrawn => return Ok(Decision::unchanged(())),
        JoinState::Delivered => return Err(not_found),
        JoinState::Pending | JoinState::Dropped => {}
    }
    if now >= policy.expires_at(join.sent_at) {
        return Err(Refusal::NotPending {
            seen: Seen::Expired,
        });
    }
    let mut record = invitee_read.value.clone();
    for j in record.invitations.iter_mut().filter(|j| j.id == id) {
        j.state = JoinState::Withdrawn;
    }
    // The ledger keeps naming the address until expiry, so that a second
    // withdraw finds it and changes nothing.
    let mut sender_ledger = ledger.or_new(|| Ledger::new(actor));
    sender_ledger.record_answer(id, crate::standing::Answer::Withdrawn, now);
    sender_ledger.latest = sender_ledger.latest.max(now);
    let mut changes = ChangeSet::default();
    changes.write(Some(invitee_read), Record::Invitee(record));
    changes.write(ledger, Record::Ledger(sender_ledger));
    changes.emit(Event::InvitationWithdrawn {
        invitation: id,
        sender: actor,
    });
    Ok(changes.into())
}

/// The address opts out of invitations to join: none is accepted from now
/// on, and none pending is delivered if it joins. Opting out again changes
/// nothing.
///
/// # Errors
/// None: anyone may opt out, for any address.
pub fn opt_out(
    email: &Email,
    invitee: Option<&Versioned<Invitee>>,
    clock: Timestamp,
) -> Result<Decision<()>, Refusal> {
    let mut changes = ChangeSet::default();
    let mut record = invitee.or_new(|| Invitee::new(email.clone()));
    if record.opted_out.is_none() {
        let now = Timestamp::effective(clock, [record.latest()]);
        record.opted_out = Some(now);
        changes.write(invitee, Record::Invitee(record));
        changes.emit(Event::OptedOut {
            email: email.clone(),
        });
    }
    Ok(changes.into())
}

/// The address's record with invitation `id` settled as `state`, or `None`
/// if it is no longer deliverable at `now` (already settled, expired, or
/// the address opted out).
#[must_use]
pub fn settle(
    invitee: &Invitee,
    id: InvitationId,
    state: JoinState,
    policy: &Policy,
    now: Timestamp,
) -> Option<Invitee> {
    invitee.deliverable(policy, now).find(|i| i.id == id)?;
    let mut record = invitee.clone();
    for invitation in record.invitations.iter_mut().filter(|i| i.id == id) {
        invitation.state = state;
    }
    Some(record)
}

/// A waiting invitation to join to deliver: which one, from whom, to the
/// member who now has the address.
#[derive(Clone, Copy, Debug)]
pub struct JoinDelivery<'a> {
    /// The invitation to join.
    pub invitation: InvitationId,
    /// Who sent it.
    pub sender: MemberId,
    /// The member who now has the address.
    pub recipient: MemberId,
    /// The address, the proof of the send it becomes.
    pub email: &'a Email,
}

/// What delivering an invitation to join needs from the store.
#[derive(Clone, Debug)]
pub struct DeliverFacts {
    /// The address's record, which holds the invitation to join.
    pub invitee: Versioned<Invitee>,
    /// The facts of the send it becomes: the sender's and the new
    /// member's, with [`join`](SendFacts::join) naming the invitation. They
    /// give the effective time.
    pub send: SendFacts,
}

/// Joining: an invitation to join waiting at the address becomes an
/// ordinary invitation to the member who now owns it, decided by the
/// ordinary [`send`] with the address as proof. A refusal drops it
/// silently: the sender was never promised delivery, and telling them
/// would say who owns the address. Answers whether it became an invitation
/// (or a connection); a change that settles nothing (already settled,
/// expired, opted out) is empty.
///
/// # Errors
/// None: a refusal of the send is the drop described above.
pub fn deliver(
    req: &JoinDelivery<'_>,
    facts: &DeliverFacts,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<bool>, Refusal> {
    let (id, invitee) = (req.invitation, &facts.invitee);
    // The sender's note travels with the invitation it becomes.
    let note = invitee
        .value
        .invitations
        .iter()
        .find(|i| i.id == id)
        .and_then(|i| i.note.as_ref())
        .map(Note::as_str);
    let send_req = SendRequest {
        sender: req.sender,
        recipient: req.recipient,
        note,
        proof: Some(req.email),
    };
    let now = facts.send.effective_now(clock);
    let (mut changes, state) = match send(&send_req, &facts.send, policy, now) {
        Ok(decision) => (decision.changes, JoinState::Delivered),
        Err(_) => (ChangeSet::default(), JoinState::Dropped),
    };
    let Some(settled) = settle(&invitee.value, id, state, policy, now) else {
        return Ok(Decision::unchanged(false));
    };
    changes.write(Some(invitee), Record::Invitee(settled));
    Ok(Decision::new(changes, state == JoinState::Delivered))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    //! Given these facts and this policy, when this request at this instant,
    //! then exactly these writes and events (or this refusal).

    use super::*;
    use crate::given::{ANA, T0, keys, stored, strangers};
    use crate::member::Profile;
    use crate::record::Key;

    const CY: MemberId = MemberId::new(3);
    /// The id the next invitation takes.
    const NEW: InvitationId = InvitationId::new(7);

    fn cy_email() -> Email {
        Email::parse("Cy@Example.org").unwrap()
    }

    fn ana() -> Member {
        Member::person(ANA, Profile::named("Ana"))
    }

    /// Ana, active, and an address nobody has and nobody invited.
    fn given() -> JoinFacts {
        JoinFacts {
            sender: stored(ana()),
            sender_ledger: None,
            invitee: None,
            new_id: NEW,
            deliver: true,
        }
    }

    /// The address with Ana's invitation to join waiting since `T0`.
    fn invited() -> Invitee {
        let mut invitee = Invitee::new(cy_email());
        invitee.invitations.push(JoinInvitation {
            id: NEW,
            sender: ANA,
            email: cy_email(),
            sent_at: T0,
            state: JoinState::Pending,
            note: None,
        });
        invitee
    }

    fn the_address() -> Key {
        Key::Invitee("cy@example.org".into())
    }

    #[test]
    fn given_a_new_address_when_ana_invites_it_then_its_record_and_her_ledger_are_written() {
        let decision = invite(ANA, &cy_email(), None, &given(), &Policy::default(), T0).unwrap();
        assert_eq!(decision.outcome, InviteOutcome::Invited(NEW));
        let mut want = vec![the_address(), Key::Ledger(ANA)];
        want.sort();
        assert_eq!(keys(&decision), want);
        assert_eq!(
            decision.changes.events,
            vec![
                Event::JoinInvitationSent {
                    invitation: NEW,
                    sender: ANA,
                    email: cy_email(),
                },
                Event::JoinInvitationReceived {
                    invitation: NEW,
                    sender: ANA,
                    email: cy_email(),
                    note: None,
                },
            ]
        );
    }

    #[test]
    fn given_a_member_has_the_address_when_ana_invites_it_then_nobody_is_emailed() {
        let mut facts = given();
        facts.deliver = false;
        let decision = invite(ANA, &cy_email(), None, &facts, &Policy::default(), T0).unwrap();
        assert_eq!(decision.outcome, InviteOutcome::Invited(NEW));
        assert_eq!(
            decision.changes.events,
            vec![Event::JoinInvitationSent {
                invitation: NEW,
                sender: ANA,
                email: cy_email(),
            }]
        );
    }

    #[test]
    fn given_ana_invited_the_address_when_she_invites_it_again_then_the_same_answer_and_nothing_written()
     {
        let mut facts = given();
        facts.invitee = stored(invited());
        facts.new_id = InvitationId::new(8);
        assert_eq!(
            invite(ANA, &cy_email(), None, &facts, &Policy::default(), T0),
            Ok(Decision::unchanged(InviteOutcome::Invited(NEW)))
        );
    }

    #[test]
    fn given_the_address_opted_out_when_ana_invites_it_then_not_invitable() {
        let mut facts = given();
        let mut invitee = Invitee::new(cy_email());
        invitee.opted_out = Some(T0);
        facts.invitee = stored(invitee);
        assert_eq!(
            invite(ANA, &cy_email(), None, &facts, &Policy::default(), T0),
            Err(Refusal::NotInvitable)
        );
    }

    #[test]
    fn given_an_address_when_it_opts_out_twice_then_only_the_first_is_written() {
        let first = opt_out(&cy_email(), None, T0).unwrap();
        assert_eq!(keys(&first), vec![the_address()]);
        assert_eq!(
            first.changes.events,
            vec![Event::OptedOut { email: cy_email() }]
        );
        let mut out = Invitee::new(cy_email());
        out.opted_out = Some(T0);
        assert_eq!(
            opt_out(&cy_email(), stored(out).as_ref(), T0),
            Ok(Decision::unchanged(()))
        );
    }

    /// When Cy, who now has the address, joins at `at`, and `sender` is
    /// as given, the waiting invitation is delivered as Ana's send.
    fn delivered(sender: Member, policy: &Policy, at: Timestamp) -> Decision<bool> {
        let cy = Member::person(CY, Profile::named("Cy")).with_email(cy_email(), true);
        let mut send = strangers(sender, cy, InvitationId::new(99));
        send.join = Some(NEW);
        let facts = DeliverFacts {
            invitee: stored(invited()).unwrap(),
            send,
        };
        let req = JoinDelivery {
            invitation: NEW,
            sender: ANA,
            recipient: CY,
            email: &cy_email(),
        };
        deliver(&req, &facts, policy, at).unwrap()
    }

    #[test]
    fn given_a_waiting_invitation_when_cy_joins_then_it_becomes_an_invitation_and_is_settled() {
        let decision = delivered(ana(), &Policy::default(), T0);
        assert!(decision.outcome);
        assert!(keys(&decision).contains(&Key::Invitation(NEW)));
        assert!(keys(&decision).contains(&the_address()));
    }

    #[test]
    fn given_the_sender_left_when_cy_joins_then_the_invitation_is_dropped_silently() {
        let mut gone = ana();
        gone.active = false;
        let decision = delivered(gone, &Policy::default(), T0);
        assert!(!decision.outcome);
        assert_eq!(keys(&decision), vec![the_address()]);
        assert!(decision.changes.events.is_empty());
    }

    #[test]
    fn given_the_invitation_expired_when_cy_joins_then_nothing_changes() {
        let policy = Policy::default();
        let decision = delivered(ana(), &policy, policy.expires_at(T0));
        assert_eq!(decision, Decision::unchanged(false));
    }
}
