//! Scenario tests for invitations: SPEC.md sections 3 (sending, answering,
//! withdrawing, re-sending, privacy, notes) and 6 (events), and the
//! invitation bar of RELIABILITY.md section I (I3 to I10; I1 and I2 are
//! exercised along the way).
//!
//! Every test drives a [`Network`] over a [`MemoryStore`] and a
//! [`ManualClock`] in given / when / then steps. Time starts at [`T0`] and
//! is moved with [`World::at`], always to an offset from `T0`, so that every
//! boundary (`last_sent + 90 days`, `sent_at + 180 days`, ...) is written as
//! the exact instant it must be.
//!
//! Members are persons with one email address each, `m{id}@example.com`;
//! a send "with proof" passes the recipient's address, which makes any
//! sender eligible without shared connections.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::TimeDelta;
use pronet::Degree;
use pronet::{
    Audience, Committed, Email, Error, Event, IgnoreReason, InvitationId, InvitationView,
    InvitePreference, ListCursor, Listed, Member, MemberId, Note, NoteError, Page, PageSize,
    Policy, Profile, Refusal, Seen, SendOutcome, Tier,
};
use std::collections::BTreeSet;
use std::fmt::Debug;
use support::{World, at, days, done, email_of, refusal, sent_id, us, whole};
use support::{sent_event, withdrawn_event};

// ---------------------------------------------------------------- helpers

const ANA: MemberId = MemberId::new(1);
const BO: MemberId = MemberId::new(2);
const CY: MemberId = MemberId::new(3);
const DEE: MemberId = MemberId::new(4);
const EVE: MemberId = MemberId::new(5);

fn note(text: &str) -> Note {
    Note::parse(text, 2_000).unwrap().unwrap()
}

fn ids(page: &Page<Listed, ListCursor>) -> Vec<InvitationId> {
    page.items.iter().map(|l| l.invitation).collect()
}

impl World {
    /// `from` invites `to`, proving `to`'s email address.
    fn send_proof(
        &self,
        from: MemberId,
        to: MemberId,
        note: Option<&str>,
    ) -> Result<Committed<SendOutcome>, Error> {
        self.net.send(
            pronet::SendRequest::new(from, to)
                .maybe_note(note)
                .proof(&email_of(to)),
        )
    }

    fn inbox(&self, m: MemberId) -> Vec<InvitationId> {
        ids(&self.net.inbox(m, None, whole()).unwrap())
    }

    fn held(&self, m: MemberId) -> Vec<InvitationId> {
        ids(&self.net.held(m, None, whole()).unwrap())
    }

    fn sent(&self, m: MemberId) -> Vec<InvitationId> {
        ids(&self.net.sent(m, None, whole()).unwrap())
    }

    fn seen(&self, viewer: MemberId, id: InvitationId) -> Seen {
        self.net.invitation(viewer, id).unwrap().seen
    }

    fn degree(&self, a: MemberId, b: MemberId) -> Degree {
        self.net.graph().degree(a, b).unwrap()
    }

    /// Moves the clock to `offset` after day 0, where `from`'s send to `to`
    /// (proving the address, no note) must be refused `want`.
    #[track_caller]
    fn refused_at(&self, offset: TimeDelta, from: MemberId, to: MemberId, want: Refusal) {
        self.at(offset);
        assert_eq!(
            refusal(self.send_proof(from, to, None)),
            want,
            "a send at {offset}"
        );
    }
}

fn too_soon(offset: TimeDelta) -> Refusal {
    Refusal::ResendTooSoon {
        retry_at: at(offset),
    }
}

// ------------------------------------------------------- I8: the ladder

/// I8: after one unanswered send, the next is refused until exactly
/// `last_sent + 90 days`, with that instant as `retry_at`; at that instant it
/// succeeds and supersedes the first.
#[test]
fn i8_first_resend_boundary_is_exactly_90_days_and_supersedes() {
    // Given Ana invited Bo on day 0, and Bo has not answered
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = w.invite(a, b);

    // When Ana sends again one microsecond before day 90
    w.at(days(90) - us(1));
    // Then she is told to wait until exactly day 90, and nothing changed
    assert_eq!(refusal(w.send_proof(a, b, None)), too_soon(days(90)));
    assert_eq!(w.inbox(b), vec![first]);
    assert_eq!(w.sent(a), vec![first]);
    assert_eq!(w.seen(a, first), Seen::Pending);

    // When she sends at exactly day 90
    w.at(days(90));
    let sent = w.send_proof(a, b, Some("Second try")).unwrap();
    let second = sent_id(&sent);

    // Then a new invitation supersedes the first
    assert_ne!(second, first);
    assert_eq!(
        sent.events,
        vec![
            sent_event(second, a, b, Some(first)),
            Event::InvitationReceived {
                invitation: second,
                sender: a,
                recipient: b,
                note: Some(note("Second try")),
            },
        ]
    );
    assert_eq!(
        w.inbox(b),
        vec![second],
        "the recipient sees only the newest"
    );
    assert_eq!(w.sent(a), vec![second], "the sender lists only the newest");
    assert_eq!(w.seen(a, first), Seen::Superseded);
    assert_eq!(w.seen(a, second), Seen::Pending);
    assert_eq!(w.seen(b, second), Seen::Pending);
    // The recipient acting on the superseded one is told which replaced it.
    let replaced = Refusal::InvitationReplaced {
        invitation: first,
        by: second,
    };
    support::refusals! {
        w.net.invitation(b, first) => replaced,
        w.net.accept(b, first) => replaced,
    }
    // And the sender cannot withdraw what was superseded.
    assert_eq!(
        refusal(w.net.withdraw(a, first)),
        Refusal::NotPending {
            seen: Seen::Superseded
        }
    );
}

/// I5: the recipient answering an invitation replaced by a re-send (from
/// an email's Accept button) is told it was replaced and by which, for
/// every answer and the view, with nothing changed; anyone else (the
/// sender included) gets the answers they got before this change.
#[test]
fn i5_answering_a_replaced_invitation_names_its_replacement_to_the_recipient_only() {
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    let first = w.invite(a, b);
    w.at(days(90));
    let second = sent_id(&w.send_proof(a, b, None).unwrap());
    let replaced = Refusal::InvitationReplaced {
        invitation: first,
        by: second,
    };
    let before = w.net.store().snapshot();
    support::refusals! {
        w.net.accept(b, first) => replaced,
        w.net.ignore(b, first) => replaced,
        w.net.reject(b, first) => replaced,
        w.net.reject_with_note(b, first, "No") => replaced,
        w.net.invitation(b, first) => replaced,
    }
    assert_eq!(
        w.net.store().snapshot(),
        before,
        "a refusal changed the store"
    );
    assert_eq!(replaced.code(), "invitation_replaced");
    // The sender and a stranger: exactly what they got before.
    support::refusals! {
        w.net.accept(a, first) => Refusal::InvitationNotFound(first),
        w.net.withdraw(a, first) => Refusal::NotPending { seen: Seen::Superseded },
    }
    assert_eq!(w.seen(a, first), Seen::Superseded);
    support::refusals! {
        w.net.accept(c, first) => Refusal::InvitationNotFound(first),
        w.net.invitation(c, first) => Refusal::InvitationNotFound(first),
    }
    // The replacement answers as usual.
    done(w.net.accept(b, second));
    assert_eq!(w.degree(a, b), Degree::First);
    // The first still names its replacement, now accepted.
    assert_eq!(refusal(w.net.accept(b, first)), replaced);
}

/// I5 / SPEC 3.4: a re-send dropped because the recipient said "I don't
/// know" never reached them, so answering the replaced one does not name
/// it: the recipient still sees their own answer, as if nothing was sent
/// (see `i6_dropped_resend_is_invisible_to_the_recipient`).
#[test]
fn i5_a_dropped_replacement_is_never_named_to_the_recipient() {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = w.invite(a, b);
    done(w.net.ignore_unknown(b, first));
    w.at(days(90));
    let second = sent_id(&w.send_proof(a, b, None).unwrap());
    assert_ne!(second, first);
    assert_eq!(
        refusal(w.net.accept(b, first)),
        Refusal::NotPending {
            seen: Seen::Ignored
        }
    );
    assert_eq!(w.seen(b, first), Seen::Ignored);
}

/// I8: after two unanswered sends the wait is 365 days from the last send,
/// exact to the microsecond.
#[test]
fn i8_second_resend_waits_exactly_365_days_from_the_last_send() {
    // Given Ana invited Bo on day 0 and again on day 90, with no answer
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    w.invite(a, b);
    w.at(days(90));
    let second = w.invite(a, b);

    // When she tries 90 days after the second send
    w.at(days(180));
    // Then the ladder has grown: 365 days from day 90
    assert_eq!(refusal(w.send_proof(a, b, None)), too_soon(days(455)));

    // When she tries one microsecond before day 455
    w.refused_at(days(455) - us(1), a, b, too_soon(days(455)));

    // When she tries at exactly day 455
    w.at(days(455));
    let sent = w.send_proof(a, b, None).unwrap();
    let third = sent_id(&sent);

    // Then it is sent; the second had expired on day 270, so nothing is
    // superseded and it stays expired
    assert_eq!(sent.events[0], sent_event(third, a, b, None));
    assert_eq!(w.seen(a, second), Seen::Expired);
    assert_eq!(w.inbox(b), vec![third]);
    assert_eq!(w.sent(a), vec![third]);
}

/// I8: after three unanswered sends, never again: not later, not with proof,
/// not with contacts, not ten years on.
#[test]
fn i8_after_three_unanswered_sends_the_answer_is_never() {
    // Given three unanswered invitations, on days 0, 90 and 455
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    w.invite(a, b);
    w.at(days(90));
    w.invite(a, b);
    w.at(days(455));
    let third = w.invite(a, b);

    // Then every later send is refused for ever
    for offset in [
        days(455) + us(1),
        days(455 + 365) - us(1),
        days(455 + 365),
        days(455 + 3_650),
    ] {
        w.refused_at(offset, a, b, Refusal::ResendNever);
    }
    // ... whatever eligibility the sender brings
    done(w.net.add_contacts(a, &[email_of(b)]));
    assert_eq!(
        refusal(w.net.send(pronet::SendRequest::new(a, b))),
        Refusal::ResendNever
    );
    // ... and a refused send changed nothing (the third expired long ago)
    assert_eq!(w.seen(a, third), Seen::Expired);
    assert!(w.sent(a).is_empty());
}

/// I8: the first wait is the policy's (here 120 days), exactly.
#[test]
fn i8_first_resend_wait_follows_the_policy() {
    // Given a host that asks for 120 days before the first re-send
    let policy = Policy::builder()
        .first_resend_wait(days(120))
        .build()
        .unwrap();
    let w = World::with(policy);
    let (a, b) = (w.person(ANA), w.person(BO));
    w.invite(a, b);

    // Then day 90 is too soon, and so is one microsecond before day 120
    w.refused_at(days(90), a, b, too_soon(days(120)));
    w.refused_at(days(120) - us(1), a, b, too_soon(days(120)));

    // And day 120 exactly is allowed
    w.at(days(120));
    let again = w.invite(a, b);
    assert_eq!(w.sent(a), vec![again]);
}

/// I8 / SPEC 3.3: "never, unless the recipient invites the sender": an
/// invitation from the recipient restarts the sender's ladder at zero.
#[test]
fn i8_recipient_inviting_the_sender_restarts_the_senders_ladder() {
    // Given Ana has used all three attempts (days 0, 90, 455) and the
    // last one expired on day 635
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    w.invite(a, b);
    w.at(days(90));
    w.invite(a, b);
    w.at(days(455));
    w.invite(a, b);
    w.refused_at(days(640), a, b, Refusal::ResendNever);

    // When Bo invites Ana (then withdraws, so that Ana's send is not a
    // crossing accept)
    let from_bo = w.invite(b, a);
    done(w.net.withdraw(b, from_bo));

    // Then Ana may invite Bo again at once
    let fresh = w.invite(a, b);
    assert_eq!(w.inbox(b), vec![fresh]);
    // ... and her ladder starts from one attempt: 90 days from now
    w.refused_at(days(640 + 90) - us(1), a, b, too_soon(days(730)));
}

// ------------------------------------------------- I8: withdraw cooldown

/// I8: withdrawing on day 1 and trying on day 22 (cooldown over) is still
/// refused until day 90: withdraw-then-send never shortens the ladder.
#[test]
fn i8_withdraw_then_send_never_shortens_the_90_day_wait() {
    // Given Ana invited Bo on day 0 and withdrew on day 1
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = w.invite(a, b);
    w.at(days(1));
    done(w.net.withdraw(a, first));
    assert!(w.inbox(b).is_empty());

    // When she tries once the 21-day cooldown is over (day 22)
    w.at(days(22));
    // Then the ladder still says day 90
    assert_eq!(refusal(w.send_proof(a, b, None)), too_soon(days(90)));
    w.refused_at(days(90) - us(1), a, b, too_soon(days(90)));

    // And on day 90 exactly she may; nothing is superseded (it was withdrawn)
    w.at(days(90));
    let sent = w.send_proof(a, b, None).unwrap();
    let second = sent_id(&sent);
    assert_eq!(sent.events[0], sent_event(second, a, b, None));
    assert_eq!(w.seen(a, first), Seen::Withdrawn);
    // And the withdrawn attempt still counted: the next wait is 365 days
    w.refused_at(days(90 + 365) - us(1), a, b, too_soon(days(455)));
}

/// SPEC 3.2 / I8: when the 21-day withdraw cooldown ends after the ladder,
/// it is the wait, exact to the microsecond.
#[test]
fn i8_withdraw_cooldown_dominates_when_it_ends_after_the_ladder() {
    // Given Ana invited Bo on day 0 and withdrew on day 80
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = w.invite(a, b);
    w.at(days(80));
    done(w.net.withdraw(a, first));

    // Then on day 90 (ladder over) the cooldown still runs until day 101
    w.refused_at(days(90), a, b, too_soon(days(101)));
    // ... to the microsecond: withdrawal + 21 days - 1 us
    w.refused_at(days(80 + 21) - us(1), a, b, too_soon(days(101)));

    // And at withdrawal + 21 days exactly she may
    w.at(days(101));
    let again = w.invite(a, b);
    assert_eq!(w.inbox(b), vec![again]);
}

/// SPEC 3.2: with no ladder in the way (the recipient's invitation reset it),
/// the withdraw cooldown alone is exactly 21 days.
#[test]
fn withdraw_cooldown_alone_is_exactly_21_days() {
    // Given Ana invited Bo and withdrew at once; then Bo invited Ana and
    // withdrew too, which restarts Ana's ladder but not her cooldown
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = w.invite(a, b);
    done(w.net.withdraw(a, first));
    let from_bo = w.invite(b, a);
    done(w.net.withdraw(b, from_bo));

    // Then Ana waits exactly 21 days from her withdrawal
    w.refused_at(days(21) - us(1), a, b, too_soon(days(21)));
    w.at(days(21));
    let again = w.invite(a, b);
    assert_eq!(w.sent(a), vec![again]);
}

// ------------------------------------------------------------- expiry

/// SPEC 3.2: an invitation unanswered for 180 days expires, exactly then,
/// for both parties, and can no longer be answered or withdrawn.
#[test]
fn expiry_is_exactly_180_days_for_both_parties() {
    // Given Ana invited Bo on day 0
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let id = w.invite(a, b);

    // When one microsecond before day 180
    w.at(days(180) - us(1));
    // Then it is still pending for both, and listed on both sides
    assert_eq!(w.inbox(b), vec![id]);
    assert_eq!(w.sent(a), vec![id]);
    assert_eq!(w.seen(a, id), Seen::Pending);
    assert_eq!(w.seen(b, id), Seen::Pending);

    // When day 180 is reached exactly
    w.at(days(180));
    // Then both see it expired, and it left both lists
    assert_eq!(w.seen(a, id), Seen::Expired);
    assert_eq!(w.seen(b, id), Seen::Expired);
    assert!(w.inbox(b).is_empty());
    assert!(w.sent(a).is_empty());
    // And no answer nor withdrawal is possible any more
    let expired = Refusal::NotPending {
        seen: Seen::Expired,
    };
    support::refusals! {
        w.net.accept(b, id) => expired,
        w.net.reject(b, id) => expired,
        w.net.ignore(b, id) => expired,
        w.net.withdraw(a, id) => expired,
    }
    assert_eq!(w.degree(a, b), Degree::OutOfNetwork);
}

/// SPEC 3.2: the last microsecond before expiry is still in time to accept.
#[test]
fn accept_in_the_last_microsecond_before_expiry_connects() {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let id = w.invite(a, b);
    w.at(days(180) - us(1));
    let accepted = w.net.accept(b, id).unwrap();
    assert_eq!(accepted.events.len(), 2);
    assert_eq!(w.degree(a, b), Degree::First);
    // ... and an accepted invitation does not "expire" later
    w.at(days(400));
    assert_eq!(w.seen(a, id), Seen::Accepted);
    assert_eq!(w.seen(b, id), Seen::Accepted);
}

/// SPEC 3.1 / 3.2: an expired invitation is no longer pending, so the
/// recipient's own send is a new invitation, not a crossing accept.
#[test]
fn an_expired_invitation_does_not_cross() {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let old = w.invite(a, b);
    w.at(days(180));
    let from_bo = w.invite(b, a);
    assert_eq!(w.inbox(a), vec![from_bo]);
    assert_eq!(w.seen(a, old), Seen::Expired);
    assert_ne!(w.degree(a, b), Degree::First);
}

// --------------------------------------------------- I7: two worlds

/// What the sender can observe of one sender-side call.
#[derive(Debug, PartialEq)]
enum Obs {
    Send(Result<(SendOutcome, Vec<Event>), Refusal>),
    Withdraw(Result<Vec<Event>, Refusal>),
    View(Result<InvitationView, Refusal>),
    Sent(Page<Listed, ListCursor>),
}

/// Runs sender-side calls in one world and records what they answer.
struct Recorder {
    w: World,
    sender: MemberId,
    recipient: MemberId,
    /// Everything the sender could observe, events limited to those whose
    /// audience includes the sender.
    seen: Vec<Obs>,
    /// Every event the calls committed, whoever they are for.
    all_events: Vec<Event>,
    /// The recipient's inbox after each successful send (not a sender view:
    /// it shows whether the ignore had any effect at all).
    recipient_inbox: Vec<Vec<InvitationId>>,
}

impl Recorder {
    fn for_sender(&mut self, events: &[Event]) -> Vec<Event> {
        self.all_events.extend(events.iter().cloned());
        events
            .iter()
            .filter(|e| e.audience().includes(self.sender))
            .cloned()
            .collect()
    }

    fn send(&mut self, text: Option<&str>) -> Option<InvitationId> {
        let result = self.w.send_proof(self.sender, self.recipient, text);
        let obs = result
            .map(|c| (c.outcome, self.for_sender(&c.events)))
            .map_err(|e| refusal::<()>(Err(e)));
        let id = match obs {
            Ok((SendOutcome::Sent(id), _)) => Some(id),
            _ => None,
        };
        if id.is_some() {
            self.recipient_inbox.push(self.w.inbox(self.recipient));
        }
        self.seen.push(Obs::Send(obs));
        id
    }

    fn withdraw(&mut self, id: InvitationId) {
        let result = self.w.net.withdraw(self.sender, id);
        let obs = result
            .map(|c| self.for_sender(&c.events))
            .map_err(|e| refusal::<()>(Err(e)));
        self.seen.push(Obs::Withdraw(obs));
    }

    fn view(&mut self, id: InvitationId) {
        let obs = self
            .w
            .net
            .invitation(self.sender, id)
            .map_err(|e| refusal::<()>(Err(e)));
        self.seen.push(Obs::View(obs));
    }

    fn sent_list(&mut self) {
        let page = self.w.net.sent(self.sender, None, whole());
        self.seen.push(Obs::Sent(page.unwrap()));
    }
}

/// Given Ana's invitation to Bo (day 0), Bo either `answer`s it on day 1 or
/// does nothing; then Ana runs the same script of calls over three years.
fn two_worlds_run(answer: Option<IgnoreReason>) -> Recorder {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = sent_id(&w.send_proof(a, b, Some("Hello Bo")).unwrap());
    w.at(days(1));
    if let Some(reason) = answer {
        let ignored = w.net.ignore_because(b, first, reason).unwrap();
        assert!(!ignored.events.iter().any(|e| e.audience().includes(a)));
        assert!(w.inbox(b).is_empty(), "an ignore leaves the inbox");
    } else {
        assert_eq!(w.inbox(b), vec![first]);
    }
    let mut r = Recorder {
        w,
        sender: a,
        recipient: b,
        seen: Vec::new(),
        all_events: Vec::new(),
        recipient_inbox: Vec::new(),
    };
    r.view(first);
    r.sent_list();
    r.w.at(days(30));
    assert!(r.send(None).is_none());
    r.w.at(days(90) - us(1));
    assert!(r.send(None).is_none());
    r.view(first);
    r.w.at(days(90));
    let second = r.send(Some("Trying again")).unwrap();
    r.view(first);
    r.view(second);
    r.sent_list();
    r.w.at(days(91));
    r.withdraw(second);
    r.withdraw(second);
    r.view(second);
    r.sent_list();
    // Cooldown ends on day 112, the ladder (two attempts) on day 455.
    r.w.at(days(112));
    assert!(r.send(None).is_none());
    r.w.at(days(455) - us(1));
    assert!(r.send(None).is_none());
    r.w.at(days(455));
    let third = r.send(None).unwrap();
    r.view(third);
    r.sent_list();
    r.w.at(days(635) - us(1));
    r.view(third);
    r.sent_list();
    r.w.at(days(635));
    r.view(third);
    r.sent_list();
    r.withdraw(third);
    r.w.at(days(820));
    assert!(r.send(None).is_none());
    r.w.at(days(455 + 3_650));
    assert!(r.send(None).is_none());
    r.view(first);
    r
}

fn assert_same_sender_view(reason: IgnoreReason) {
    let ignored = two_worlds_run(Some(reason));
    let untouched = two_worlds_run(None);
    assert!(ignored.seen.len() > 20, "the script ran");
    for (i, (x, y)) in ignored.seen.iter().zip(&untouched.seen).enumerate() {
        assert_eq!(x, y, "step {i} differs after {reason:?}");
    }
    assert_eq!(ignored.seen.len(), untouched.seen.len());
}

/// I7: a plain ignore changes nothing the sender can observe, and (since it
/// bars nothing) not even the events or what the recipient later receives.
#[test]
fn i7_plain_ignore_is_invisible_to_the_sender() {
    assert_same_sender_view(IgnoreReason::Ignored);
    let ignored = two_worlds_run(Some(IgnoreReason::Ignored));
    let untouched = two_worlds_run(None);
    assert_eq!(ignored.all_events, untouched.all_events);
    assert_eq!(ignored.recipient_inbox, untouched.recipient_inbox);
}

/// I7 / SPEC 3.4: "I don't know this person" changes nothing the sender can
/// observe; the later sends are taken silently, reach nobody, and produce no
/// InvitationReceived, which is the only difference in the events.
#[test]
fn i7_dont_know_is_invisible_to_the_sender() {
    assert_same_sender_view(IgnoreReason::DontKnow);
    let barred = two_worlds_run(Some(IgnoreReason::DontKnow));
    let untouched = two_worlds_run(None);
    // The bar took effect: the two later sends never reached Bo ...
    assert_eq!(barred.recipient_inbox, vec![Vec::new(), Vec::new()]);
    assert_eq!(untouched.recipient_inbox.len(), 2);
    assert!(
        untouched
            .recipient_inbox
            .iter()
            .all(|inbox| inbox.len() == 1)
    );
    // ... and the only events missing are the recipient's notifications.
    let not_received = |events: &[Event]| -> Vec<Event> {
        events
            .iter()
            .filter(|e| !matches!(e, Event::InvitationReceived { .. }))
            .cloned()
            .collect()
    };
    assert!(
        !barred
            .all_events
            .iter()
            .any(|e| matches!(e, Event::InvitationReceived { .. }))
    );
    assert_eq!(barred.all_events, not_received(&untouched.all_events));
    assert_ne!(barred.all_events, untouched.all_events);
}

/// I7: reporting as spam is "I don't know" plus a report: also invisible.
#[test]
fn i7_spam_report_is_invisible_to_the_sender() {
    assert_same_sender_view(IgnoreReason::Spam);
}

/// I6 / I7 / SPEC 3.4: after "I don't know", a later send looks exactly like
/// a normal send to the sender, but never reaches the recipient, whatever
/// the clock, proof, contacts, tier or withdrawals; the other direction stays
/// open.
#[test]
fn i6_dont_know_bar_is_silent_and_permanent() {
    // Given Bo said he does not know Ana
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = w.invite(a, b);
    w.at(days(1));
    done(w.net.ignore_unknown(b, first));

    // When Ana sends again on day 90, with a note
    w.at(days(90));
    let sent = w.send_proof(a, b, Some("Remember me?")).unwrap();
    let second = sent_id(&sent);

    // Then to Ana it is an ordinary send: one event, for her
    assert_eq!(sent.events, vec![sent_event(second, a, b, Some(first))]);
    assert_eq!(w.sent(a), vec![second]);
    let view = w.net.invitation(a, second).unwrap();
    assert_eq!(view.seen, Seen::Pending);
    assert_eq!(view.note, Some(note("Remember me?")));
    // ... but Bo never receives it: not in the inbox, not held, not visible
    assert!(w.inbox(b).is_empty());
    assert!(w.held(b).is_empty());
    let gone = Refusal::InvitationNotFound(second);
    support::refusals! {
        w.net.invitation(b, second) => gone,
        w.net.accept(b, second) => gone,
        w.net.reject(b, second) => gone,
    }

    // When Ana withdraws, brings contacts and pays, and waits out the ladder
    w.at(days(91));
    done(w.net.withdraw(a, second));
    done(w.net.add_contacts(a, &[email_of(b)]));
    done(w.net.update_member(a, |m| m.tier = Tier::Premium(0)));
    w.at(days(455));
    let third = sent_id(&w.send_proof(a, b, None).unwrap());
    // Then it is still dropped
    assert_eq!(w.sent(a), vec![third]);
    assert!(w.inbox(b).is_empty());

    // And Bo may still invite Ana, once her invitation is gone
    done(w.net.withdraw(a, third));
    let from_bo = w.invite(b, a);
    assert_eq!(w.inbox(a), vec![from_bo]);
    done(w.net.accept(a, from_bo));
    assert_eq!(w.degree(a, b), Degree::First);
}

/// Everything the recipient `b` can learn, at this instant, about the
/// sender `a` and the invitation `first` they answered, written as text so
/// that two worlds compare step by step. Answers that change something run
/// last in [`recipient_run`].
fn recipient_view(w: &World, a: MemberId, b: MemberId, first: InvitationId) -> Vec<String> {
    let answer = |r: Result<Committed<()>, Error>| match r {
        Ok(c) => format!("ok {:?}", c.events),
        Err(e) => format!("{:?}", refusal::<()>(Err(e))),
    };
    vec![
        format!(
            "{:?}",
            w.net
                .invitation(b, first)
                .map_err(|e| refusal::<()>(Err(e)))
        ),
        answer(w.net.accept(b, first)),
        answer(w.net.reject(b, first)),
        answer(w.net.ignore(b, first)),
        answer(w.net.ignore_unknown(b, first)),
        format!("{:?}", w.net.invitation_counts(b).unwrap()),
        format!("{:?}", w.inbox(b)),
        format!("{:?}", w.held(b)),
        format!("{:?}", w.sent(b)),
        format!("{:?}", w.net.relationships(b, &[a]).unwrap()),
        format!("{:?}", w.net.member(b, a).unwrap()),
        format!("{:?}", w.net.quota(b).unwrap()),
    ]
}

/// Bo answers Ana's first invitation with `answer` on day 1; then Ana sends
/// again on day `resend_day` and 365 days later (each send dropped) if
/// `resend`, or does nothing; then `blocker` blocks the other and unblocks
/// three days later; Bo looks at everything he can at each step, then
/// reports the first invitation as spam. Returns what Bo saw and the
/// events addressed to him.
fn recipient_run(
    answer: IgnoreReason,
    resend: bool,
    resend_day: i64,
    blocker: MemberId,
) -> (Vec<String>, Vec<String>) {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = sent_id(&w.send_proof(a, b, Some("Hello Bo")).unwrap());
    w.at(days(1));
    done(w.net.ignore_because(b, first, answer));
    let mut seen = recipient_view(&w, a, b, first);
    for (day, note) in [(resend_day, Some("Me again")), (resend_day + 365, None)] {
        w.at(days(day));
        if resend {
            let sent = w.send_proof(a, b, note).unwrap();
            assert!(!sent.events.iter().any(|e| e.audience().includes(b)));
        }
        seen.extend(recipient_view(&w, a, b, first));
        w.at(days(day) + us(1));
        seen.extend(recipient_view(&w, a, b, first));
    }
    let blocked = if blocker == a { b } else { a };
    w.at(days(resend_day + 366));
    let _ = w.net.block(blocker, blocked).unwrap();
    seen.extend(recipient_view(&w, a, b, first));
    w.at(days(resend_day + 369));
    let _ = w.net.unblock(blocker, blocked).unwrap();
    seen.extend(recipient_view(&w, a, b, first));
    let reported = w.net.report_invitation(b, first);
    seen.push(format!(
        "{:?}",
        reported
            .map(|c| c.events)
            .map_err(|e| refusal::<()>(Err(e)))
    ));
    seen.extend(recipient_view(&w, a, b, first));
    let events = w
        .net
        .events_since(pronet::ChangeCursor::START, usize::MAX)
        .unwrap()
        .events
        .into_iter()
        .filter(|p| p.event.audience().includes(b))
        .map(|p| format!("{:?} {:?}", p.at, p.event))
        .collect();
    (seen, events)
}

/// I6 / I7: a re-send dropped because Bo answered "I don't know" (or
/// reported it) changes nothing Bo can observe: his view of the invitation
/// he answered, every answer to it, his counts, lists, relationship and
/// quota reads and his events are the same as in a world where Ana never
/// sent again, whether the re-send comes while the first invitation is
/// live (day 90) or after it expired (day 200), and after either of them
/// blocks and unblocks the other. (Before the fix the first invitation
/// turned "not found", or expired, for Bo once the re-send closed it; and a
/// block showed it cancelled only where it was still Ana's open one.)
#[test]
fn i6_dropped_resend_is_invisible_to_the_recipient() {
    for (answer, first, blocker) in [
        (IgnoreReason::DontKnow, 90, BO),
        (IgnoreReason::Spam, 90, ANA),
        (IgnoreReason::DontKnow, 200, ANA),
        (IgnoreReason::DontKnow, 200, BO),
    ] {
        let (resent, seen_resent) = recipient_run(answer, true, first, blocker);
        let (quiet, seen_quiet) = recipient_run(answer, false, first, blocker);
        assert!(resent.len() > 40, "the script ran");
        for (i, (x, y)) in resent.iter().zip(&quiet).enumerate() {
            assert_eq!(
                x, y,
                "step {i} differs after {answer:?}, re-sent on day {first}"
            );
        }
        assert_eq!(resent.len(), quiet.len());
        assert_eq!(seen_resent, seen_quiet);
    }
}

/// I7: the sender sees the invitation Bo answered "I don't know" replaced
/// by her re-send (superseded, or expired when re-sent after its expiry;
/// out of her sent list) exactly as when Bo did nothing, though Bo still
/// sees his own answer on it.
#[test]
fn i7_dropped_resend_supersedes_for_the_sender_only() {
    for (day, closed) in [(90, Seen::Superseded), (200, Seen::Expired)] {
        for answer in [None, Some(IgnoreReason::DontKnow)] {
            let w = World::new();
            let (a, b) = (w.person(ANA), w.person(BO));
            let first = w.invite(a, b);
            w.at(days(1));
            if let Some(reason) = answer {
                done(w.net.ignore_because(b, first, reason));
            }
            w.at(days(day));
            let second = w.invite(a, b);
            let case = format!("{answer:?} on day {day}");
            assert_eq!(w.seen(a, first), closed, "{case}");
            assert_eq!(w.sent(a), vec![second], "{case}");
            assert_eq!(w.net.invitation_counts(a).unwrap().sent, 1, "{case}");
            assert_eq!(
                refusal(w.net.withdraw(a, first)),
                Refusal::NotPending { seen: closed },
                "{case}"
            );
            let for_bo = w.net.invitation(b, first).map(|v| v.seen);
            match (answer, closed) {
                (Some(_), _) => assert_eq!(for_bo.unwrap(), Seen::Ignored, "{case}"),
                (None, Seen::Expired) => assert_eq!(for_bo.unwrap(), Seen::Expired, "{case}"),
                (None, _) => assert_eq!(
                    refusal(for_bo),
                    Refusal::InvitationReplaced {
                        invitation: first,
                        by: second
                    },
                    "{case}"
                ),
            }
        }
    }
}

/// Bo answers Ana's first invitation "I don't know" on day 1; Ana then
/// sends again on each of `resend_days` (each send dropped), withdrawing
/// each the next day if `withdraw`, if `resend`, or does nothing; on
/// `bo_day` Bo sends to Ana. Returns everything Bo can
/// observe from then on (his send's answer and events, his views, lists,
/// counts, relationship and quota reads, his view of the invitation he
/// sent, and the events addressed to him), with the id of the invitation
/// Bo's send created written `NEW` (ids are drawn from one sequence, so the
/// dropped re-sends shift it: that side channel is not this test's), and
/// the ids of the dropped re-sends.
fn recipient_cross_run(
    resend: bool,
    resend_days: &[i64],
    withdraw: bool,
    bo_day: i64,
) -> (Vec<String>, Vec<InvitationId>) {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = sent_id(&w.send_proof(a, b, Some("Hello Bo")).unwrap());
    w.at(days(1));
    done(w.net.ignore_unknown(b, first));
    let mut dropped = Vec::new();
    for &day in resend_days {
        w.at(days(day));
        if resend {
            let id = sent_id(&w.send_proof(a, b, None).unwrap());
            dropped.push(id);
            if withdraw {
                w.at(days(day + 1));
                done(w.net.withdraw(a, id));
            }
        }
    }
    w.at(days(bo_day));
    let mut seen = recipient_view(&w, a, b, first);
    let crossing = w.send_proof(b, a, Some("Hello Ana"));
    let new = match &crossing {
        Ok(c) => match c.outcome {
            SendOutcome::Sent(id) => Some(id),
            _ => None,
        },
        Err(_) => None,
    };
    let hide = |s: String| match new {
        Some(id) => s.replace(&format!("{id:?}"), "NEW"),
        None => s,
    };
    seen.push(format!(
        "{:?}",
        crossing
            .map(|c| {
                let mine: Vec<Event> = c
                    .events
                    .into_iter()
                    .filter(|e| e.audience().includes(b))
                    .collect();
                (c.outcome, mine)
            })
            .map_err(|e| refusal::<()>(Err(e)))
    ));
    for day in [bo_day, bo_day + 1, 275, 400, 900] {
        if day < bo_day {
            continue;
        }
        w.at(days(day) + us(1));
        seen.extend(recipient_view(&w, a, b, first));
        seen.push(format!("{:?}", w.degree(b, a)));
        if let Some(id) = new {
            seen.push(format!(
                "{:?}",
                w.net.invitation(b, id).map_err(|e| refusal::<()>(Err(e)))
            ));
        }
        // Bo never reads a dropped re-send, whatever happened.
        for &id in &dropped {
            assert_eq!(
                refusal(w.net.invitation(b, id)),
                Refusal::InvitationNotFound(id),
                "Bo reads the dropped {id:?} on day {day}"
            );
        }
    }
    seen.extend(
        w.net
            .events_since(pronet::ChangeCursor::START, usize::MAX)
            .unwrap()
            .events
            .into_iter()
            .filter(|p| p.event.audience().includes(b))
            .map(|p| format!("{:?} {:?}", p.at, p.event)),
    );
    (seen.into_iter().map(hide).collect(), dropped)
}

/// I6 / SPEC 3.4: when Bo, who answered Ana's invitation "I don't know",
/// sends to Ana after her dropped re-send, his send answers exactly as
/// where Ana never re-sent: while her first invitation is live (until day
/// 180) his send accepts that one, and after it expired his send is a new
/// invitation, even while her dropped re-send would still be live (days
/// 200 and 250, for a re-send on day 90); and so with a chain of two
/// dropped re-sends (days 90 and 455), and when Ana withdrew her re-send.
/// Everything Bo observes afterwards
/// (views, lists, counts, relationship, degree, events) is the same too.
/// (Before the fix his send accepted the dropped re-send, an invitation he
/// never saw, naming its id, and connected the two on days 200 and 250.)
#[test]
fn i6_recipients_crossing_send_ignores_a_dropped_resend() {
    for (resend_days, withdraw, bo_day) in [
        (&[90][..], false, 100),
        (&[90][..], false, 179),
        (&[90][..], false, 200),
        (&[90][..], false, 250),
        (&[90][..], false, 300),
        (&[200][..], false, 210),
        (&[90, 455][..], false, 460),
        (&[90, 455][..], false, 700),
        (&[90][..], true, 100),
        (&[90][..], true, 200),
        (&[90, 455][..], true, 460),
    ] {
        let (resent, dropped) = recipient_cross_run(true, resend_days, withdraw, bo_day);
        let (quiet, _) = recipient_cross_run(false, resend_days, withdraw, bo_day);
        assert_eq!(dropped.len(), resend_days.len(), "the re-sends were taken");
        assert!(resent.len() > 20, "the script ran");
        for (i, (x, y)) in resent.iter().zip(&quiet).enumerate() {
            assert_eq!(
                x, y,
                "step {i} differs, re-sent on days {resend_days:?} (withdrawn: {withdraw}), Bo sent on day {bo_day}"
            );
        }
        assert_eq!(resent.len(), quiet.len());
    }
}

/// Ana invites Bo on day 0; Bo answers "I don't know" on day 1 if
/// `dont_know` (else he never looks); Ana re-sends on day 90; Bo sends to
/// Ana on `bo_day`. Returns everything Ana can observe from her re-send
/// on, and the ids of her two invitations.
fn sender_cross_run(dont_know: bool, bo_day: i64) -> (Vec<String>, [InvitationId; 2]) {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = sent_id(&w.send_proof(a, b, Some("Hello Bo")).unwrap());
    w.at(days(1));
    if dont_know {
        done(w.net.ignore_unknown(b, first));
    }
    w.at(days(90));
    let resent = w.send_proof(a, b, None).unwrap();
    let second = sent_id(&resent);
    let mut seen = vec![format!(
        "{:?}",
        resent
            .events
            .iter()
            .filter(|e| e.audience().includes(a))
            .collect::<Vec<_>>()
    )];
    w.at(days(bo_day));
    let crossing = w.send_proof(b, a, None).unwrap();
    seen.push(format!(
        "{:?}",
        crossing
            .events
            .iter()
            .filter(|e| e.audience().includes(a))
            .collect::<Vec<_>>()
    ));
    for day in [bo_day, 400] {
        w.at(days(day) + us(1));
        for id in [first, second] {
            seen.push(format!(
                "{:?}",
                w.net.invitation(a, id).map_err(|e| refusal::<()>(Err(e)))
            ));
            seen.push(format!("{:?}", refusal(w.net.withdraw(a, id))));
        }
        seen.push(format!("{:?}", w.sent(a)));
        seen.push(format!("{:?}", w.inbox(a)));
        seen.push(format!("{:?}", w.net.invitation_counts(a).unwrap()));
        seen.push(format!("{:?}", w.degree(a, b)));
        seen.push(format!("{:?}", w.net.relationships(a, &[b]).unwrap()));
    }
    (seen, [first, second])
}

/// I7 / SPEC 3.4: when Bo, who answered "I don't know", accepts Ana's first
/// invitation by sending to her while it is live (after her dropped
/// re-send), Ana sees exactly what she would had Bo never answered: her
/// re-send accepted (the event names it), her first invitation superseded,
/// the two connected.
#[test]
fn i7_crossing_after_a_dropped_resend_accepts_the_resend_for_the_sender() {
    let (barred, [first, second]) = sender_cross_run(true, 100);
    let (untouched, _) = sender_cross_run(false, 100);
    for (i, (x, y)) in barred.iter().zip(&untouched).enumerate() {
        assert_eq!(x, y, "step {i} differs");
    }
    assert_eq!(barred.len(), untouched.len());
    assert!(barred[1].contains(&format!("invitation: {second:?}")));
    assert!(
        barred
            .iter()
            .any(|s| s.contains("seen: Superseded") && s.contains(&format!("{first:?}")))
    );
}

/// SPEC 3.4, the decision where the two views cannot both be kept: Bo,
/// who answered "I don't know", sends to Ana after her first invitation
/// expired but while her dropped re-send would still be live. Bo's send is
/// a new invitation (as where Ana never re-sent, see
/// `i6_recipients_crossing_send_ignores_a_dropped_resend`); Ana's re-send
/// is closed as superseded, named by no event and no answer, and Bo's
/// invitation reaches her inbox; the two are not connected, and she may
/// accept it.
#[test]
fn a_dropped_resend_is_superseded_by_the_recipients_new_invitation() {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = w.invite(a, b);
    w.at(days(1));
    done(w.net.ignore_unknown(b, first));
    w.at(days(90));
    let second = w.invite(a, b);
    w.at(days(200));
    let sent = w.send_proof(b, a, None).unwrap();
    let from_bo = sent_id(&sent);
    assert_eq!(
        sent.events,
        vec![
            sent_event(from_bo, b, a, None),
            Event::InvitationReceived {
                invitation: from_bo,
                sender: b,
                recipient: a,
                note: None,
            },
        ]
    );
    assert_eq!(w.seen(a, first), Seen::Superseded);
    assert_eq!(w.seen(a, second), Seen::Superseded);
    assert_eq!(w.seen(b, first), Seen::Ignored);
    assert!(w.sent(a).is_empty());
    assert_eq!(w.inbox(a), vec![from_bo]);
    assert_eq!(w.sent(b), vec![from_bo]);
    assert_ne!(w.degree(a, b), Degree::First);
    done(w.net.accept(a, from_bo));
    assert_eq!(w.degree(a, b), Degree::First);
    assert_eq!(w.seen(b, from_bo), Seen::Accepted);
}

/// SPEC 3.4: Bo, who answered "I don't know", sends to Ana while her first
/// invitation is live, after she re-sent (dropped) and withdrew the
/// re-send. Bo's send accepts her first invitation, as where she never
/// re-sent; Ana sees the two connected, her first invitation still
/// superseded and her re-send still withdrawn, and no event names either.
#[test]
fn a_crossing_send_accepts_the_known_invitation_after_a_withdrawn_dropped_resend() {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let first = w.invite(a, b);
    w.at(days(1));
    done(w.net.ignore_unknown(b, first));
    w.at(days(90));
    let second = w.invite(a, b);
    w.at(days(91));
    done(w.net.withdraw(a, second));
    w.at(days(100));
    let crossing = w.send_proof(b, a, None).unwrap();
    assert_eq!(crossing.outcome, SendOutcome::Connected { accepted: first });
    assert_eq!(crossing.events, vec![Event::ConnectionCreated { a, b }]);
    assert_eq!(w.degree(a, b), Degree::First);
    assert_eq!(w.seen(b, first), Seen::Accepted);
    assert_eq!(w.seen(a, first), Seen::Superseded);
    assert_eq!(w.seen(a, second), Seen::Withdrawn);
    assert_eq!(
        refusal(w.net.invitation(b, second)),
        Refusal::InvitationNotFound(second)
    );
    for m in [a, b] {
        assert!(w.inbox(m).is_empty());
        assert!(w.sent(m).is_empty());
    }
}

// ------------------------------------------------------------- held

/// Gives `a` and `b` one shared connection, `via`.
fn share_one(w: &World, a: MemberId, b: MemberId, via: MemberId) {
    w.person(via);
    w.connect(a, via);
    w.connect(via, b);
}

/// SPEC 3.4: "contacts only" holds an eligible stranger's invitation
/// silently; the sender sees it pending; the recipient may accept it.
#[test]
fn held_by_contacts_only_is_silent_and_acceptable() {
    // Given Bo accepts invitations from his contacts only, and Ana shares
    // one connection with him but does not have him in her contacts
    let w = World::new();
    let a = w.person(ANA);
    let b = w.person_with(BO, InvitePreference::ContactsOnly);
    share_one(&w, a, b, CY);

    // When Ana sends (even proving his email, which this setting ignores)
    let sent = w.send_proof(a, b, Some("Hi Bo")).unwrap();
    let id = sent_id(&sent);

    // Then it is Ok, with no notification for Bo
    assert_eq!(sent.events, vec![sent_event(id, a, b, None)]);
    assert!(!sent.events.iter().any(|e| e.audience().includes(b)));
    // ... it waits in Bo's held list, not his inbox
    assert!(w.inbox(b).is_empty());
    let held = w.net.held(b, None, PageSize::default()).unwrap();
    assert_eq!(ids(&held), vec![id]);
    assert_eq!(held.items[0].other, a);
    assert_eq!(held.items[0].mutual_connections, 1);
    assert_eq!(w.seen(b, id), Seen::Held);
    // ... and Ana sees an ordinary pending invitation
    assert_eq!(w.seen(a, id), Seen::Pending);
    assert_eq!(w.sent(a), vec![id]);

    // When Bo accepts it from the held list
    let accepted = w.net.accept(b, id).unwrap();
    // Then they are connected and Ana is told
    assert_eq!(
        accepted.events,
        vec![
            Event::InvitationAccepted {
                invitation: id,
                sender: a,
                recipient: b,
            },
            Event::ConnectionCreated { a, b },
        ]
    );
    assert_eq!(w.degree(a, b), Degree::First);
    assert!(w.held(b).is_empty());
    assert_eq!(w.seen(a, id), Seen::Accepted);
}

/// SPEC 3.4: "contacts only" admits a sender who has the recipient in their
/// contacts: delivered to the inbox with a notification.
#[test]
fn contacts_only_admits_a_sender_with_the_recipient_in_contacts() {
    let w = World::new();
    let a = w.person(ANA);
    let b = w.person_with(BO, InvitePreference::ContactsOnly);
    done(w.net.add_contacts(a, &[email_of(b)]));
    let sent = w.net.send(pronet::SendRequest::new(a, b)).unwrap();
    let id = sent_id(&sent);
    assert_eq!(w.inbox(b), vec![id]);
    assert!(w.held(b).is_empty());
    assert!(
        sent.events
            .iter()
            .any(|e| matches!(e, Event::InvitationReceived { .. }))
    );
}

/// SPEC 3.4: "email or contacts" holds a sender who is eligible only by a
/// shared connection, and delivers one who proves the email.
#[test]
fn held_by_email_or_contacts_unless_the_email_is_proved() {
    // Given Bo admits only senders who know his email or have him in contacts,
    // and Ana and Dee each share one connection (Cy) with him
    let w = World::new();
    let (a, d) = (w.person(ANA), w.person(DEE));
    let b = w.person_with(BO, InvitePreference::EmailOrContacts);
    share_one(&w, a, b, CY);
    w.connect(d, CY);

    // When Ana sends without proof and Dee with it
    let held = w.net.send(pronet::SendRequest::new(a, b)).unwrap();
    let delivered = w.send_proof(d, b, None).unwrap();

    // Then Ana's is held silently and Dee's is delivered with a notification
    let (ha, hd) = (sent_id(&held), sent_id(&delivered));
    assert_eq!(held.events.len(), 1);
    assert_eq!(delivered.events.len(), 2);
    assert_eq!(w.held(b), vec![ha]);
    assert_eq!(w.inbox(b), vec![hd]);
    assert_eq!(w.seen(a, ha), Seen::Pending);
    assert_eq!(w.seen(d, hd), Seen::Pending);

    // And Bo can accept from the held list
    done(w.net.accept(b, ha));
    assert_eq!(w.degree(a, b), Degree::First);
}

// ------------------------------------------------ I3, I4, I5: answers

/// I3: only the recipient answers, only the sender withdraws; anyone else
/// is told "not found", exactly as for an invitation that does not exist.
#[test]
fn i3_only_the_parties_act_and_others_get_not_found() {
    // Given Ana invited Bo, and Cy is a third member
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    let id = w.invite(a, b);
    let nf = Refusal::InvitationNotFound(id);

    // Then Cy can do nothing with it
    support::refusals! {
        w.net.accept(c, id) => nf,
        w.net.reject(c, id) => nf,
        w.net.ignore_unknown(c, id) => nf,
        w.net.withdraw(c, id) => nf,
        w.net.invitation(c, id) => nf,
    }
    // ... the sender cannot answer her own invitation
    support::refusals! {
        w.net.accept(a, id) => nf,
        w.net.reject(a, id) => nf,
        w.net.ignore(a, id) => nf,
    }
    // ... and the recipient cannot withdraw it
    assert_eq!(refusal(w.net.withdraw(b, id)), nf);
    // ... the same answer as for an id that was never issued
    let never = InvitationId::new(9_999);
    support::refusals! {
        w.net.accept(c, never) => Refusal::InvitationNotFound(never),
        w.net.withdraw(c, never) => Refusal::InvitationNotFound(never),
    }

    // And nothing changed
    assert_eq!(w.seen(a, id), Seen::Pending);
    assert_eq!(w.seen(b, id), Seen::Pending);
    assert_eq!(w.inbox(b), vec![id]);
    assert_eq!(w.degree(a, b), Degree::OutOfNetwork);
}

/// I4: accepting twice answers Ok twice; the second changes nothing and
/// produces no event.
#[test]
fn i4_accept_twice_is_ok_without_events() {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let id = w.invite(a, b);
    let first = w.net.accept(b, id).unwrap();
    assert_eq!(first.events.len(), 2);
    let connections = w.net.graph().connection_count();

    let second = w.net.accept(b, id).unwrap();
    assert_eq!(second.outcome, ());
    assert!(second.events.is_empty());
    assert_eq!(w.net.graph().connection_count(), connections);
    assert_eq!(w.seen(a, id), Seen::Accepted);
}

/// I4: withdrawing twice answers Ok twice; the second produces no event and
/// does not restart the cooldown.
#[test]
fn i4_withdraw_twice_is_ok_without_events_and_keeps_the_cooldown() {
    // Given Ana invited Bo on day 0 and withdrew on day 80
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let id = w.invite(a, b);
    w.at(days(80));
    let first = w.net.withdraw(a, id).unwrap();
    assert_eq!(first.events, vec![withdrawn_event(id, a)]);

    // When she withdraws again on day 85
    w.at(days(85));
    let second = w.net.withdraw(a, id).unwrap();
    // Then it is Ok with no event, and the cooldown still ends on day 101
    assert!(second.events.is_empty());
    assert_eq!(w.seen(a, id), Seen::Withdrawn);
    assert_eq!(refusal(w.send_proof(a, b, None)), too_soon(days(101)));
    w.at(days(101));
    w.invite(a, b);
}

/// I4: rejecting twice and ignoring twice are Ok, the second time silent.
#[test]
fn i4_reject_twice_and_ignore_twice_are_ok_without_events() {
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    let rejected = w.invite(a, b);
    assert_eq!(w.net.reject(b, rejected).unwrap().events.len(), 1);
    assert!(w.net.reject(b, rejected).unwrap().events.is_empty());
    let ignored = w.invite(a, c);
    assert_eq!(w.net.ignore(c, ignored).unwrap().events.len(), 1);
    assert!(w.net.ignore(c, ignored).unwrap().events.is_empty());
}

/// I5: a closed invitation never changes again.
#[test]
fn i5_a_closed_invitation_never_changes() {
    let w = World::new();
    let (a, b, c, d) = (w.person(ANA), w.person(BO), w.person(CY), w.person(DEE));

    // Rejected: cannot be accepted, ignored or withdrawn
    let rejected = w.invite(a, b);
    done(w.net.reject(b, rejected));
    let was_rejected = Refusal::NotPending {
        seen: Seen::Rejected,
    };
    support::refusals! {
        w.net.accept(b, rejected) => was_rejected,
        w.net.ignore(b, rejected) => was_rejected,
        w.net.withdraw(a, rejected) => was_rejected,
    }
    assert_eq!(w.seen(a, rejected), Seen::Rejected);
    assert_eq!(w.seen(b, rejected), Seen::Rejected);
    assert_ne!(w.degree(a, b), Degree::First);

    // Accepted: cannot be rejected, ignored or withdrawn
    let accepted = w.invite(a, c);
    done(w.net.accept(c, accepted));
    let was_accepted = Refusal::NotPending {
        seen: Seen::Accepted,
    };
    support::refusals! {
        w.net.reject(c, accepted) => was_accepted,
        w.net.ignore_unknown(c, accepted) => was_accepted,
        w.net.withdraw(a, accepted) => was_accepted,
    }
    assert_eq!(w.degree(a, c), Degree::First);

    // Withdrawn: gone for the recipient, fixed for the sender
    let withdrawn = w.invite(a, d);
    done(w.net.withdraw(a, withdrawn));
    let nf = Refusal::InvitationNotFound(withdrawn);
    support::refusals! {
        w.net.accept(d, withdrawn) => nf,
        w.net.reject(d, withdrawn) => nf,
        w.net.invitation(d, withdrawn) => nf,
    }
    assert_eq!(w.seen(a, withdrawn), Seen::Withdrawn);
    assert_ne!(w.degree(a, d), Degree::First);
}

// --------------------------------------------------- I6: reject bar

/// I6: after a reject the sender is refused openly, for ever, whatever the
/// proof, contacts, tier or shared connections; the recipient can still
/// invite the sender.
#[test]
fn i6_reject_bars_the_sender_for_ever_but_not_the_recipient() {
    // Given Bo rejected Ana's invitation
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let id = w.invite(a, b);
    let rejected = w.net.reject(b, id).unwrap();
    assert_eq!(
        rejected.events,
        vec![Event::InvitationRejected {
            invitation: id,
            sender: a,
            recipient: b,
            note: None,
        }]
    );
    assert_eq!(rejected.events[0].audience(), Audience::Member(a));

    // Then Ana is barred at once (before the ladder would speak) ...
    w.refused_at(days(1), a, b, Refusal::Barred);
    // ... with contacts, a shared connection, a paid tier, ten years on
    done(w.net.add_contacts(a, &[email_of(b)]));
    share_one(&w, a, b, CY);
    done(w.net.update_member(a, |m| m.tier = Tier::Premium(1)));
    for offset in [days(90), days(365), days(3_650)] {
        w.at(offset);
        support::refusals! {
            w.send_proof(a, b, None) => Refusal::Barred,
            w.net.send(pronet::SendRequest::new(a, b)) => Refusal::Barred,
        }
    }
    assert!(w.inbox(b).is_empty());

    // And Bo can still invite Ana, and she can accept
    let from_bo = w.invite(b, a);
    assert_eq!(w.inbox(a), vec![from_bo]);
    done(w.net.accept(a, from_bo));
    assert_eq!(w.degree(a, b), Degree::First);
}

// ------------------------------------------------- I9: crossing sends

/// I9: when the recipient sends to the sender, the pending invitation is
/// accepted instead: one connection, no pending invitation left.
#[test]
fn i9_crossing_send_connects() {
    // Given Ana invited Bo
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let id = w.invite(a, b);

    // When Bo sends to Ana (no proof, no shared connection: not needed)
    let crossing = w
        .net
        .send(pronet::SendRequest::new(b, a).note("Yes!"))
        .unwrap();

    // Then Ana's invitation is accepted and they are connected
    assert_eq!(crossing.outcome, SendOutcome::Connected { accepted: id });
    assert_eq!(
        crossing.events,
        vec![
            Event::InvitationAccepted {
                invitation: id,
                sender: a,
                recipient: b,
            },
            Event::ConnectionCreated { a, b },
        ]
    );
    assert_eq!(w.degree(a, b), Degree::First);
    assert_eq!(w.net.graph().connection_count(), 1);
    // ... with no invitation left pending either way
    for m in [a, b] {
        assert!(w.inbox(m).is_empty());
        assert!(w.sent(m).is_empty());
        assert!(w.held(m).is_empty());
    }
    assert_eq!(w.seen(a, id), Seen::Accepted);
    assert_eq!(w.seen(b, id), Seen::Accepted);
    // ... and no further invitation either way (I2)
    support::refusals! {
        w.send_proof(a, b, None) => Refusal::AlreadyConnected,
        w.send_proof(b, a, None) => Refusal::AlreadyConnected,
    }
}

/// I9: a recipient who ignored an invitation and later invites the sender
/// accepts that invitation (it is still pending for the sender).
#[test]
fn i9_crossing_send_after_ignore_connects() {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    let id = w.invite(a, b);
    done(w.net.ignore(b, id));
    let crossing = w.send_proof(b, a, None).unwrap();
    assert_eq!(crossing.outcome, SendOutcome::Connected { accepted: id });
    assert_eq!(w.degree(a, b), Degree::First);
    assert!(w.sent(a).is_empty());
    assert!(w.sent(b).is_empty());
}

// ------------------------------------------------------ I10: notes

/// I10: only the sender and the recipient can read a note.
#[test]
fn i10_a_note_is_readable_only_by_its_two_parties() {
    // Given Ana invited Bo with a note
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    let text = "We met at the Rust meetup.";
    let sent = w.send_proof(a, b, Some(text)).unwrap();
    let id = sent_id(&sent);

    // Then both parties read it
    assert_eq!(w.net.invitation(a, id).unwrap().note, Some(note(text)));
    assert_eq!(w.net.invitation(b, id).unwrap().note, Some(note(text)));
    assert_eq!(
        w.net.inbox(b, None, PageSize::default()).unwrap().items[0].note,
        Some(note(text))
    );
    assert_eq!(
        w.net.sent(a, None, PageSize::default()).unwrap().items[0].note,
        Some(note(text))
    );
    // ... a third member cannot even see it exists
    assert_eq!(
        refusal(w.net.invitation(c, id)),
        Refusal::InvitationNotFound(id)
    );
    // ... and the only event that carries it is for the recipient
    for event in &sent.events {
        if let Event::InvitationReceived { note: n, .. } = event {
            assert_eq!(n, &Some(note(text)));
            assert_eq!(event.audience(), Audience::Member(b));
        }
    }

    // And after it is accepted, still the two only
    done(w.net.accept(b, id));
    assert_eq!(w.net.invitation(a, id).unwrap().note, Some(note(text)));
    assert_eq!(w.net.invitation(b, id).unwrap().note, Some(note(text)));
    assert_eq!(
        refusal(w.net.invitation(c, id)),
        Refusal::InvitationNotFound(id)
    );
}

/// Issue #18, I10 for a decline note: Bo rejects Ana with a polite note;
/// Ana reads it in her rejection event and in the invitation's view, Bo in
/// his view; no other member can read it, and no event for anyone else
/// carries it.
#[test]
fn i10_a_decline_note_reaches_the_sender_and_nobody_else() {
    // Given Ana invited Bo, and Cy is another member
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    let id = w.invite(a, b);

    // When Bo rejects with a note
    let text = "Sorry, I keep LinkedIn for people I have worked with";
    let rejected = w.net.reject_with_note(b, id, text).unwrap();

    // Then Ana's rejection event carries it, addressed to Ana only
    assert_eq!(
        rejected.events,
        vec![Event::InvitationRejected {
            invitation: id,
            sender: a,
            recipient: b,
            note: Some(note(text)),
        }]
    );
    assert_eq!(rejected.events[0].audience(), Audience::Member(a));
    assert!(!rejected.events[0].audience().includes(c));
    // ... the view of both parties shows it, beside the rejection
    let seen_by_ana = w.net.invitation(a, id).unwrap();
    assert_eq!(seen_by_ana.seen, Seen::Rejected);
    assert_eq!(seen_by_ana.decline_note, Some(note(text)));
    assert_eq!(
        w.net.invitation(b, id).unwrap().decline_note,
        Some(note(text))
    );
    // ... and a third member cannot even see the invitation exists
    assert_eq!(
        refusal(w.net.invitation(c, id)),
        Refusal::InvitationNotFound(id)
    );
    // (the views are read from the stored invitation record, which keeps it)

    // Rejecting again changes nothing and emits nothing, note or not
    assert!(
        w.net
            .reject_with_note(b, id, "again")
            .unwrap()
            .events
            .is_empty()
    );
    assert_eq!(
        w.net.invitation(a, id).unwrap().decline_note,
        Some(note(text))
    );
}

/// A decline note is validated as invitation notes are; a blank one is no
/// note; a plain reject carries none.
#[test]
fn a_decline_note_is_validated_like_an_invitation_note() {
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    let id = w.invite(a, b);
    assert!(matches!(
        refusal(w.net.reject_with_note(b, id, "no\u{202E}thanks")),
        Refusal::InvalidNote(NoteError::BidiOverride { .. })
    ));
    let too_long = "x".repeat(5_000);
    assert!(matches!(
        refusal(w.net.reject_with_note(b, id, &too_long)),
        Refusal::InvalidNote(_)
    ));
    // Only the recipient may reject: Cy is told it does not exist, note or not
    assert_eq!(
        refusal(w.net.reject_with_note(c, id, "nope")),
        Refusal::InvitationNotFound(id)
    );
    // Nothing was changed by the refusals
    assert_eq!(w.net.invitation(a, id).unwrap().seen, Seen::Pending);
    let rejected = w.net.reject_with_note(b, id, "   ").unwrap();
    assert!(matches!(
        rejected.events.as_slice(),
        [Event::InvitationRejected { note: None, .. }]
    ));
    assert_eq!(w.net.invitation(a, id).unwrap().decline_note, None);

    let id2 = w.invite(c, b);
    done(w.net.reject(b, id2));
    assert_eq!(w.net.invitation(c, id2).unwrap().decline_note, None);
}

// ------------------------------------------------- SPEC 3.1 refusals

/// SPEC 3.1 rule 1: self, unknown, company and deactivated members.
#[test]
fn send_refuses_self_unknown_companies_and_deactivated_members() {
    let w = World::new();
    let a = w.person(ANA);
    let company = MemberId::new(50);
    done(
        w.net
            .register(Member::company(company, Profile::named("Acme"))),
    );
    let gone = w.person(MemberId::new(60));
    done(w.net.deactivate(gone));
    let unknown = MemberId::new(99);

    support::refusals! {
        w.send_proof(a, a, None) => Refusal::Yourself,
        w.net.send(pronet::SendRequest::new(a, unknown)) => Refusal::UnknownMember(unknown),
        w.net.send(pronet::SendRequest::new(unknown, a).proof(&email_of(a)))
            => Refusal::UnknownMember(unknown),
        w.net.send(pronet::SendRequest::new(a, company)) => Refusal::NotAPerson(company),
        w.send_proof(company, a, None) => Refusal::NotAPerson(company),
    }
    // A deactivated member is indistinguishable from an unknown one
    support::refusals! {
        w.send_proof(a, gone, None) => Refusal::UnknownMember(gone),
        w.send_proof(gone, a, None) => Refusal::UnknownMember(gone),
    }
    // Nothing was created by any of these
    assert!(w.sent(a).is_empty());
    assert!(w.inbox(a).is_empty());
}

/// SPEC 3.1 rules 3, 6, 7 in order: connected before eligibility before
/// the note; the first failing rule is the answer.
#[test]
fn send_refusals_come_in_spec_order() {
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    w.connect(a, b);
    let bad = "bell\u{7}";

    // Already connected, whatever else is wrong
    support::refusals! {
        w.send_proof(a, b, Some(bad)) => Refusal::AlreadyConnected,
        w.net.send(pronet::SendRequest::new(b, a).note(bad)) => Refusal::AlreadyConnected,
    }
    // Cy is 2nd degree to nobody: not eligible comes before the bad note
    let d = w.person(DEE);
    assert_eq!(
        refusal(w.net.send(pronet::SendRequest::new(c, d).note(bad))),
        Refusal::NotEligible { required: 1 }
    );
    // With eligibility, the note is the answer
    assert!(matches!(
        refusal(w.send_proof(c, d, Some(bad))),
        Refusal::InvalidNote(NoteError::ControlCharacter {
            position: 4,
            character: '\u{7}'
        })
    ));
    // Re-send wait comes before eligibility
    let id = w.invite(c, d);
    assert_eq!(
        refusal(w.net.send(pronet::SendRequest::new(c, d))),
        too_soon(days(90))
    );
    // And a refused send left the invitation alone
    assert_eq!(w.sent(c), vec![id]);
}

/// SPEC 3.1 rule 6: no shared connection, no proof, no contacts: not
/// eligible; a wrong address is no proof.
#[test]
fn send_refuses_a_stranger_without_proof_or_contacts() {
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    let not_eligible = Refusal::NotEligible { required: 1 };
    assert_eq!(
        refusal(w.net.send(pronet::SendRequest::new(a, b))),
        not_eligible
    );
    // Cy's address is no proof of knowing Bo
    assert_eq!(
        refusal(
            w.net
                .send(pronet::SendRequest::new(a, b).proof(&email_of(c)))
        ),
        not_eligible
    );
    // Nor is an address nobody has
    let nobody = Email::parse("nobody@example.com").unwrap();
    assert_eq!(
        refusal(w.net.send(pronet::SendRequest::new(a, b).proof(&nobody))),
        not_eligible
    );
    // Nor contacts holding someone else
    done(w.net.add_contacts(a, &[email_of(c)]));
    assert_eq!(
        refusal(w.net.send(pronet::SendRequest::new(a, b))),
        not_eligible
    );
    assert!(w.sent(a).is_empty());
    assert!(w.inbox(b).is_empty());
}

/// SPEC 3.1 rule 6: eligible by proving the email (in any case), or by
/// having the recipient in imported contacts.
#[test]
fn send_is_eligible_by_email_proof_or_by_contacts() {
    let w = World::new();
    let (a, b, c) = (w.person(ANA), w.person(BO), w.person(CY));
    // Proof, written differently from how Bo registered it
    let proof = Email::parse("  M2@Example.COM ").unwrap();
    let by_proof = sent_id(
        &w.net
            .send(pronet::SendRequest::new(a, b).proof(&proof))
            .unwrap(),
    );
    assert_eq!(w.inbox(b), vec![by_proof]);
    // Contacts
    assert_eq!(w.net.add_contacts(a, &[email_of(c)]).unwrap().outcome, 1);
    let by_contacts = sent_id(&w.net.send(pronet::SendRequest::new(a, c)).unwrap());
    assert_eq!(w.inbox(c), vec![by_contacts]);
}

/// SPEC 3.1 rule 6: the default policy needs one shared connection; a host
/// asking for two refuses one and admits two.
#[test]
fn send_needs_the_policys_shared_connections() {
    // Given a host that asks for 2 shared connections
    let policy = Policy::builder().min_shared_connections(2).build().unwrap();
    let w = World::with(policy);
    let (a, b) = (w.person(ANA), w.person(BO));
    share_one(&w, a, b, CY);

    // Then one shared connection is not enough
    assert_eq!(w.net.graph().mutual_count(a, b).unwrap(), 1);
    assert_eq!(
        refusal(w.net.send(pronet::SendRequest::new(a, b))),
        Refusal::NotEligible { required: 2 }
    );
    // When a second is added, it is
    share_one(&w, a, b, DEE);
    assert_eq!(w.net.graph().mutual_count(a, b).unwrap(), 2);
    let id = sent_id(&w.net.send(pronet::SendRequest::new(a, b)).unwrap());
    assert_eq!(w.inbox(b), vec![id]);

    // And with the default policy one shared connection is enough
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));
    share_one(&w, a, b, CY);
    let id = sent_id(&w.net.send(pronet::SendRequest::new(a, b)).unwrap());
    assert_eq!(w.inbox(b), vec![id]);
}

/// SPEC 3.5: 200 characters for Free, 300 for paid tiers, counted in
/// grapheme clusters; control and bidi characters refused; blank is no note.
#[test]
fn send_validates_the_note_by_tier() {
    let w = World::new();
    let free = w.person(ANA);
    let paid = MemberId::new(10);
    let member = Member::person(paid, Profile::named("Pat"))
        .with_email(email_of(paid), true)
        .with_tier(Tier::Premium(0));
    done(w.net.register(member));
    let [b, c, d, e] = [BO, CY, DEE, EVE].map(|m| w.person(m));
    let x = |n: usize| "x".repeat(n);

    // Free: 201 refused, 200 sent
    assert_eq!(
        refusal(w.send_proof(free, b, Some(&x(201)))),
        Refusal::InvalidNote(NoteError::TooLong {
            chars: 201,
            max: 200
        })
    );
    // e + combining acute: 201 graphemes (402 chars) is still too long
    let accents = "e\u{301}".repeat(201);
    assert_eq!(
        refusal(w.send_proof(free, b, Some(&accents))),
        Refusal::InvalidNote(NoteError::TooLong {
            chars: 201,
            max: 200
        })
    );
    let ok = sent_id(
        &w.send_proof(free, b, Some(&"e\u{301}".repeat(200)))
            .unwrap(),
    );
    assert_eq!(w.net.invitation(b, ok).unwrap().note.unwrap().chars(), 200);

    // Paid: 201 sent, 301 refused, 300 sent
    done(w.send_proof(paid, c, Some(&x(201))));
    assert_eq!(
        refusal(w.send_proof(paid, d, Some(&x(301)))),
        Refusal::InvalidNote(NoteError::TooLong {
            chars: 301,
            max: 300
        })
    );
    done(w.send_proof(paid, d, Some(&x(300))));

    // Control and bidi characters are refused, line breaks are fine
    assert!(matches!(
        refusal(w.send_proof(free, e, Some("tab\there"))),
        Refusal::InvalidNote(NoteError::ControlCharacter { position: 3, .. })
    ));
    assert!(matches!(
        refusal(w.send_proof(free, e, Some("evil\u{202E}txt"))),
        Refusal::InvalidNote(NoteError::BidiOverride { position: 4, .. })
    ));
    // A blank note is no note
    let blank = sent_id(&w.send_proof(free, e, Some("  \n ")).unwrap());
    assert_eq!(w.net.invitation(e, blank).unwrap().note, None);
    assert_eq!(w.sent(paid).len(), 2);
}

// ---------------------------------------------------------- events

/// SPEC 6: send notifies the recipient (with the note) and tells the sender;
/// accept tells the sender and both learn of the connection.
#[test]
fn events_of_send_and_accept_name_their_audience() {
    let w = World::new();
    let (a, b) = (w.person(ANA), w.person(BO));

    let sent = w.send_proof(a, b, Some("Hi")).unwrap();
    let id = sent_id(&sent);
    assert_eq!(
        sent.events,
        vec![
            sent_event(id, a, b, None),
            Event::InvitationReceived {
                invitation: id,
                sender: a,
                recipient: b,
                note: Some(note("Hi")),
            },
        ]
    );
    assert_eq!(sent.events[0].audience(), Audience::Member(a));
    assert_eq!(sent.events[1].audience(), Audience::Member(b));
    assert!(!sent.events[0].audience().includes(b));
    assert!(!sent.events[1].audience().includes(a));

    let accepted = w.net.accept(b, id).unwrap();
    assert_eq!(
        accepted.events,
        vec![
            Event::InvitationAccepted {
                invitation: id,
                sender: a,
                recipient: b,
            },
            Event::ConnectionCreated { a, b },
        ]
    );
    assert_eq!(accepted.events[0].audience(), Audience::Member(a));
    assert!(accepted.events[1].audience().includes(a));
    assert!(accepted.events[1].audience().includes(b));
}

/// SPEC 6: reject is told to the sender; ignore and withdraw produce nothing
/// addressed to the other party.
#[test]
fn events_of_reject_ignore_and_withdraw() {
    let w = World::new();
    let (a, b, c, d) = (w.person(ANA), w.person(BO), w.person(CY), w.person(DEE));

    let to_reject = w.invite(a, b);
    let rejected = w.net.reject(b, to_reject).unwrap();
    assert_eq!(
        rejected.events,
        vec![Event::InvitationRejected {
            invitation: to_reject,
            sender: a,
            recipient: b,
            note: None,
        }]
    );
    assert!(rejected.events[0].audience().includes(a));
    assert!(!rejected.events[0].audience().includes(b));

    for reason in [IgnoreReason::Ignored, IgnoreReason::DontKnow] {
        let (sender, recipient) = if reason == IgnoreReason::Ignored {
            (a, c)
        } else {
            (c, d)
        };
        let id = w.invite(sender, recipient);
        let ignored = w.net.ignore_because(recipient, id, reason).unwrap();
        assert!(!ignored.events.is_empty(), "the ignore is recorded");
        assert!(
            !ignored.events.iter().any(|e| e.audience().includes(sender)),
            "{reason:?} must not reach the sender: {:?}",
            ignored.events
        );
    }

    let to_withdraw = w.invite(a, d);
    let withdrawn = w.net.withdraw(a, to_withdraw).unwrap();
    assert_eq!(withdrawn.events.len(), 1);
    assert!(!withdrawn.events.iter().any(|e| e.audience().includes(d)));
}

// ------------------------------------------------------------ lists

/// Reads a whole list page by page, `size` at a time.
fn all_pages(
    size: u32,
    fetch: impl Fn(Option<ListCursor>, PageSize) -> Page<Listed, ListCursor>,
) -> Vec<Vec<Listed>> {
    let size = PageSize::new(size).unwrap();
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(after, size);
        assert!(page.items.len() <= size.get());
        after = page.next;
        pages.push(page.items);
        if after.is_none() {
            return pages;
        }
        assert!(pages.len() < 100, "pagination does not end");
    }
}

/// Checks a paginated list against the whole list: newest first, every item
/// exactly once, pages of 2.
fn check_pagination(whole: &[Listed], pages: &[Vec<Listed>]) {
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    let mut expected = vec![2; whole.len() / 2];
    if whole.len() % 2 == 1 {
        expected.push(1);
    }
    assert_eq!(sizes, expected);
    let joined: Vec<Listed> = pages.concat();
    assert_eq!(joined, whole);
    let distinct: BTreeSet<InvitationId> = joined.iter().map(|l| l.invitation).collect();
    assert_eq!(distinct.len(), joined.len());
    for pair in whole.windows(2) {
        let newer = (pair[0].sent_at, pair[0].invitation);
        let older = (pair[1].sent_at, pair[1].invitation);
        assert!(newer > older, "newest first: {pair:?}");
    }
}

/// SPEC 8: the inbox lists newest first, pages of 2 return every item
/// exactly once, and each shows the right mutual-connection count.
#[test]
fn inbox_is_newest_first_paginates_and_counts_mutuals() {
    // Given Rae has two connections, Hal and Ivy
    let w = World::new();
    let r = w.person(MemberId::new(100));
    let (hal, ivy) = (w.person(MemberId::new(101)), w.person(MemberId::new(102)));
    w.connect(r, hal);
    w.connect(r, ivy);
    // ... and seven senders, some sharing Hal and/or Ivy, two sending at the
    // same instant
    let senders: Vec<MemberId> = (1..=7).map(|i| w.person(MemberId::new(i))).collect();
    w.connect_all([
        (senders[1], hal),
        (senders[2], hal),
        (senders[2], ivy),
        (ivy, senders[4]),
    ]);
    let mut sent = Vec::new();
    for (i, &s) in senders.iter().enumerate() {
        w.at(TimeDelta::hours(i.min(5) as i64 + 1));
        sent.push(w.invite(s, r));
    }

    // When Rae reads her inbox whole, and two at a time
    let whole = w.net.inbox(r, None, PageSize::default()).unwrap();
    assert_eq!(whole.next, None);
    let pages = all_pages(2, |after, size| w.net.inbox(r, after, size).unwrap());

    // Then it is newest first (ties by the later invitation), every item once
    let expected: Vec<InvitationId> = sent.iter().rev().copied().collect();
    assert_eq!(ids(&whole), expected);
    check_pagination(&whole.items, &pages);
    assert_eq!(pages.len(), 4);
    // ... each showing its sender, note, time and mutual connections
    let expected_mutuals = [0, 1, 2, 0, 1, 0, 0];
    for item in &whole.items {
        let i = senders.iter().position(|&s| s == item.other).unwrap();
        assert_eq!(item.invitation, sent[i]);
        assert_eq!(item.note, None);
        assert_eq!(item.sent_at, at(TimeDelta::hours(i.min(5) as i64 + 1)));
        assert_eq!(item.mutual_connections, expected_mutuals[i], "sender {i}");
        let g = w.net.graph();
        let listed = g.mutuals(r, item.other, None, PageSize::default()).unwrap();
        assert_eq!(listed.items.len(), item.mutual_connections);
    }
}

/// SPEC 8: the sent list likewise, with each recipient's mutual count.
#[test]
fn sent_list_is_newest_first_and_paginates() {
    // Given Sam invites five members at different times, sharing Hal with one
    let w = World::new();
    let s = w.person(MemberId::new(100));
    let hal = w.person(MemberId::new(101));
    w.connect(s, hal);
    let recipients: Vec<MemberId> = (1..=5).map(|i| w.person(MemberId::new(i))).collect();
    w.connect(hal, recipients[3]);
    let mut sent = Vec::new();
    for (i, &r) in recipients.iter().enumerate() {
        w.at(days(i as i64));
        sent.push(w.invite(s, r));
    }
    // ... and one is answered, so it leaves the list
    done(w.net.accept(recipients[0], sent[0]));

    let whole = w.net.sent(s, None, PageSize::default()).unwrap();
    let pages = all_pages(2, |after, size| w.net.sent(s, after, size).unwrap());

    assert_eq!(ids(&whole), vec![sent[4], sent[3], sent[2], sent[1]]);
    check_pagination(&whole.items, &pages);
    assert_eq!(pages.len(), 2);
    let mutuals: Vec<usize> = whole.items.iter().map(|l| l.mutual_connections).collect();
    assert_eq!(mutuals, vec![0, 1, 0, 0]);
    let others: Vec<MemberId> = whole.items.iter().map(|l| l.other).collect();
    assert_eq!(
        others,
        vec![recipients[4], recipients[3], recipients[2], recipients[1]]
    );
}

/// A cursor from one page, used again after the list changed, still returns
/// only older items and no repeats.
#[test]
fn a_cursor_survives_changes_to_the_list() {
    let w = World::new();
    let r = w.person(MemberId::new(100));
    let senders: Vec<MemberId> = (1..=4).map(|i| w.person(MemberId::new(i))).collect();
    let mut sent = Vec::new();
    for (i, &s) in senders.iter().enumerate() {
        w.at(days(i as i64));
        sent.push(w.invite(s, r));
    }
    let size = PageSize::new(2).unwrap();
    let first = w.net.inbox(r, None, size).unwrap();
    assert_eq!(ids(&first), vec![sent[3], sent[2]]);
    // A newer invitation arrives and an older one is withdrawn
    let late = w.person(MemberId::new(9));
    w.at(days(10));
    w.invite(late, r);
    done(w.net.withdraw(senders[1], sent[1]));
    let second = w.net.inbox(r, first.next, size).unwrap();
    assert_eq!(ids(&second), vec![sent[0]]);
    assert_eq!(second.next, None);
}
