//! Unit tests of the send and answer rules: given these facts and this
//! policy, when this request at this instant, then exactly these writes and
//! events (or this refusal).

use super::*;
use crate::given::{ANA, BO, T0, keys, sorted, stored, strangers};
use crate::member::Profile;
use crate::record::Key;
use chrono::TimeDelta;

/// The id the next invitation takes.
const NEW: InvitationId = InvitationId::new(7);

fn bo_email() -> Email {
    Email::parse("bo@example.com").unwrap()
}

fn pair() -> PairKey {
    PairKey::new(ANA, BO).unwrap()
}

/// Facts about Ana and Bo, both active persons, strangers.
fn given() -> SendFacts {
    strangers(
        Member::person(ANA, Profile::named("Ana")),
        Member::person(BO, Profile::named("Bo")).with_email(bo_email(), true),
        NEW,
    )
}

/// An invitation from `sender` to `recipient`, pending since `sent_at`.
fn pending(id: u64, sender: MemberId, recipient: MemberId, sent_at: Timestamp) -> Invitation {
    Invitation {
        id: InvitationId::new(id),
        sender,
        recipient,
        note: None,
        sent_at,
        status: Status::Pending,
        delivery: Delivery::Inbox,
        closed_at: None,
        decline_note: None,
        replaced_by: None,
        recipient_knows: None,
    }
}

/// The facts of answering `inv`, between Ana and Bo.
fn answering(inv: Invitation) -> AnswerFacts {
    let mut pair = PairState::new(pair());
    pair.open = Some(inv.id);
    let send = given();
    let (sender, recipient) = if inv.sender == ANA {
        (send.sender, send.recipient)
    } else {
        (send.recipient, send.sender)
    };
    AnswerFacts {
        invitation: stored(inv),
        sender,
        recipient,
        sender_blocks: Between::default(),
        report: None,
        pair: stored(pair),
        sender_ledger: None,
        recipient_ledger: None,
        replacement: None,
    }
}

/// Then `inv` is accepted: it closes, the pair connects, both ledgers
/// count it, and both parties are told.
fn assert_connects<O>(decision: &Decision<O>, inv: &Invitation) {
    assert_eq!(
        keys(decision),
        sorted(vec![
            Key::Pair(pair()),
            Key::Invitation(inv.id),
            Key::Ledger(ANA),
            Key::Ledger(BO),
        ])
    );
    assert_eq!(
        decision.changes.events,
        vec![
            Event::InvitationAccepted {
                invitation: inv.id,
                sender: inv.sender,
                recipient: inv.recipient,
            },
            Event::ConnectionCreated {
                a: inv.sender,
                b: inv.recipient
            },
        ]
    );
}

fn request(proof: Option<&Email>) -> SendRequest<'_> {
    SendRequest {
        sender: ANA,
        recipient: BO,
        note: None,
        proof,
    }
}

#[test]
fn given_strangers_when_ana_sends_with_bos_address_then_pair_invitation_and_ledger_are_written() {
    let email = bo_email();
    let decision = send(&request(Some(&email)), &given(), &Policy::default(), T0).unwrap();
    assert_eq!(decision.outcome, SendOutcome::Sent(NEW));
    assert_eq!(
        keys(&decision),
        sorted(vec![
            Key::Pair(pair()),
            Key::Invitation(NEW),
            Key::Ledger(ANA)
        ])
    );
    assert_eq!(
        decision.changes.events,
        vec![
            Event::InvitationSent {
                invitation: NEW,
                sender: ANA,
                recipient: BO,
                supersedes: None,
            },
            Event::InvitationReceived {
                invitation: NEW,
                sender: ANA,
                recipient: BO,
                note: None,
            },
        ]
    );
}

#[test]
fn given_strangers_when_ana_sends_without_proof_then_not_eligible() {
    let policy = Policy::default();
    assert_eq!(
        send(&request(None), &given(), &policy, T0).unwrap_err(),
        Refusal::NotEligible {
            required: policy.min_shared_connections()
        }
    );
}

#[test]
fn given_bo_at_the_connection_cap_when_ana_sends_then_connection_cap() {
    let policy = Policy::default();
    let mut facts = given();
    let mut full = Ledger::new(BO);
    full.connections = policy.max_connections();
    facts.recipient_ledger = stored(full);
    let email = bo_email();
    assert_eq!(
        send(&request(Some(&email)), &facts, &policy, T0).unwrap_err(),
        Refusal::ConnectionCap {
            member: BO,
            cap: policy.max_connections()
        }
    );
}

#[test]
fn given_bos_live_invitation_to_ana_when_ana_sends_then_it_is_accepted_instead() {
    let theirs = pending(3, BO, ANA, T0);
    let mut facts = given();
    let mut state = PairState::new(pair());
    state.open = Some(theirs.id);
    facts.pair = stored(state);
    facts.open = stored(theirs.clone());
    let later = T0.saturating_add(TimeDelta::hours(1));
    let decision = send(&request(None), &facts, &Policy::default(), later).unwrap();
    assert_eq!(
        decision.outcome,
        SendOutcome::Connected {
            accepted: theirs.id
        }
    );
    assert_connects(&decision, &theirs);
}

#[test]
fn given_anas_pending_invitation_when_bo_accepts_then_they_connect() {
    let inv = pending(3, ANA, BO, T0);
    let facts = answering(inv.clone());
    let decision = accept(BO, inv.id, &facts, &Policy::default(), T0).unwrap();
    assert_connects(&decision, &inv);
}

#[test]
fn given_anas_pending_invitation_when_ana_accepts_it_herself_then_not_found() {
    let inv = pending(3, ANA, BO, T0);
    let facts = answering(inv.clone());
    assert_eq!(
        accept(ANA, inv.id, &facts, &Policy::default(), T0).unwrap_err(),
        Refusal::InvitationNotFound(inv.id)
    );
}

#[test]
fn given_an_invitation_past_its_expiry_when_bo_accepts_then_not_pending() {
    let policy = Policy::default();
    let inv = pending(3, ANA, BO, T0);
    let facts = answering(inv.clone());
    let expired = policy.expires_at(T0);
    assert_eq!(
        accept(BO, inv.id, &facts, &policy, expired).unwrap_err(),
        Refusal::NotPending {
            seen: Seen::Expired
        }
    );
}

#[test]
fn given_live_expired_and_deactivated_invitations_then_only_the_live_to_the_active_count() {
    let policy = Policy::default();
    let now = T0.saturating_add(TimeDelta::days(10));
    let live = pending(1, ANA, BO, now);
    let expired = pending(
        2,
        ANA,
        MemberId::new(3),
        T0.saturating_sub(policy.pending_expiry()),
    );
    let to_gone = pending(3, ANA, MemberId::new(4), now);
    let active = |m: MemberId| m != MemberId::new(4);
    assert_eq!(
        outstanding([&live, &expired, &to_gone], active, &policy, now),
        1
    );
}
