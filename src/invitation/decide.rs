//! Every invitation rule (sending, answering, withdrawing, re-sending and
//! the privacy of answers) as a pure decision: loaded facts, the policy and
//! `now` in; a [`Refusal`] or a [`Decision`] (a change set with its events)
//! out. No I/O, no clock, no randomness: the same facts always give the same
//! answer, which is what lets the shell retry safely after a conflict.
//!
//! Hosts that want full control can load the facts themselves and call these
//! functions directly; [`Network`](crate::Network) is one such caller.

mod answer;

use super::{Attempts, Bar, Delivery, IgnoreReason, Invitation, Ledger, PairState, Seen, Status};
use crate::block::decide::{self as block, Between};
use crate::block::{Report, ReportReason};
use crate::change::{ChangeSet, Decision};
use crate::email::Email;
use crate::error::Refusal;
use crate::event::Event;
use crate::id::{InvitationId, MemberId, PairKey};
use crate::member::decide::active_person;
use crate::member::{InvitePreference, Member, Tier};
use crate::note::Note;
use crate::policy::Policy;
use crate::record::{OrNew, Record, Versioned};
use crate::standing::{self, Answer, Level, SendEntry};
use crate::time::Timestamp;

pub use answer::{accept, ignore, reject, withdraw};

/// What a send did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// A new invitation, pending from the sender's point of view.
    Sent(InvitationId),
    /// The recipient had already invited the sender: that invitation was
    /// accepted instead, and the two are connected: no new invitation, no quota used.
    Connected {
        /// The recipient's invitation that was accepted.
        accepted: InvitationId,
    },
}

/// A send as asked by the sender, its parts named:
/// `SendRequest::new(sender, recipient).note("We met at RustConf").proof(&email)`.
#[derive(Clone, Copy, Debug)]
pub struct SendRequest<'a> {
    /// Who sends.
    pub sender: MemberId,
    /// To whom.
    pub recipient: MemberId,
    /// The personal note, as typed (validated here).
    pub note: Option<&'a str>,
    /// An email address of the recipient's that the sender claims to know.
    pub proof: Option<&'a Email>,
}

impl<'a> SendRequest<'a> {
    /// `sender` invites `recipient`, without a note or an email proof.
    #[must_use]
    pub fn new(sender: MemberId, recipient: MemberId) -> Self {
        Self {
            sender,
            recipient,
            note: None,
            proof: None,
        }
    }

    /// With a personal note, as typed (validated when sent; a blank one is
    /// no note).
    #[must_use]
    pub fn note(self, note: &'a str) -> Self {
        self.maybe_note(Some(note))
    }

    /// With a note if there is one.
    #[must_use]
    pub fn maybe_note(self, note: Option<&'a str>) -> Self {
        Self { note, ..self }
    }

    /// With an email address of the recipient's that the sender knows: it
    /// makes the sender eligible without shared connections.
    #[must_use]
    pub fn proof(self, email: &'a Email) -> Self {
        self.maybe_proof(Some(email))
    }

    /// With an email proof if there is one.
    #[must_use]
    pub fn maybe_proof(self, proof: Option<&'a Email>) -> Self {
        Self { proof, ..self }
    }
}

/// What a send decision needs from the store and the graph.
#[derive(Clone, Debug)]
pub struct SendFacts {
    /// The sender's record.
    pub sender: Option<Versioned<Member>>,
    /// The recipient's record.
    pub recipient: Option<Versioned<Member>>,
    /// The blocks between the sender and the recipient, each way.
    pub sender_blocks: Between,
    /// The pair's record.
    pub pair: Option<Versioned<PairState>>,
    /// The invitation the pair record names as open, if any.
    pub open: Option<Versioned<Invitation>>,
    /// When `open` is a dropped invitation that replaced an earlier one,
    /// the invitation its recipient knows in its place
    /// ([`Invitation::recipient_knows`]), if stored.
    pub known: Option<Versioned<Invitation>>,
    /// The sender's counters.
    pub sender_ledger: Option<Versioned<Ledger>>,
    /// The recipient's counters.
    pub recipient_ledger: Option<Versioned<Ledger>>,
    /// Connections the two share, as the graph sees them.
    pub shared_connections: usize,
    /// Whether one of the recipient's addresses is in the sender's contacts.
    pub in_contacts: bool,
    /// How many live invitations the sender has pending.
    pub outstanding: usize,
    /// The id a new invitation would take.
    pub new_id: InvitationId,
    /// The invitation to join this send delivers, if it does (the address
    /// joined as this recipient): the
    /// new invitation takes its id, and the quota, counted when it was
    /// sent, is not counted again.
    pub join: Option<InvitationId>,
}

/// What an answer or a withdrawal needs from the store.
#[derive(Clone, Debug)]
pub struct AnswerFacts {
    /// The invitation acted on.
    pub invitation: Option<Versioned<Invitation>>,
    /// Its sender's record.
    pub sender: Option<Versioned<Member>>,
    /// Its recipient's record.
    pub recipient: Option<Versioned<Member>>,
    /// The blocks between its sender and its recipient, each way.
    pub sender_blocks: Between,
    /// The recipient's earlier report of the sender, if any.
    pub report: Option<Versioned<Report>>,
    /// The pair's record.
    pub pair: Option<Versioned<PairState>>,
    /// The sender's counters (read for accepting).
    pub sender_ledger: Option<Versioned<Ledger>>,
    /// The recipient's counters (read for accepting).
    pub recipient_ledger: Option<Versioned<Ledger>>,
    /// The invitation that replaced the one acted on
    /// ([`Invitation::replaced_by`]), if any.
    pub replacement: Option<Versioned<Invitation>>,
}

/// Sends an invitation, or accepts the recipient's own pending
/// invitation to the sender (a crossing send).
///
/// The checks run in this order, the first failure being the answer: both
/// are active persons and not the same member; neither blocked the other;
/// not connected and neither at the connection cap; not barred by a reject;
/// the re-send ladder and withdraw cooldown; eligibility (a shared
/// connection, a proved address or a contact); the note; standing,
/// outstanding invitations and quotas. One deliberate exception keeps the
/// recipient's private answers private: a bar from an earlier
/// "I don't know" is not refused but applied last, by dropping an
/// invitation that every other rule accepted, so that the sender's answer is
/// exactly what it would be had the recipient never answered.
///
/// # Errors
/// [`Refusal::UnknownMember`], [`Refusal::NotAPerson`],
/// [`Refusal::Yourself`], [`Refusal::AlreadyConnected`],
/// [`Refusal::ConnectionCap`], [`Refusal::Barred`],
/// [`Refusal::ResendTooSoon`], [`Refusal::ResendNever`],
/// [`Refusal::NotEligible`], [`Refusal::InvalidNote`].
pub fn send(
    req: &SendRequest<'_>,
    facts: &SendFacts,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<SendOutcome>, Refusal> {
    let now = facts.effective_now(clock);
    // 1. Both exist and are active persons, and are not the same member.
    let sender = active_person(facts.sender.as_ref(), req.sender)?;
    let key = PairKey::new(req.sender, req.recipient).ok_or(Refusal::Yourself)?;
    // A member who blocked the sender is, to the sender, a member who does
    // not exist, so that part of rule 2 comes first.
    if facts.sender_blocks.blocked_by {
        return Err(Refusal::UnknownMember(req.recipient));
    }
    let recipient = active_person(facts.recipient.as_ref(), req.recipient)?;
    // 2. The sender's own block of the recipient.
    if facts.sender_blocks.blocked {
        return Err(Refusal::YouBlocked(req.recipient));
    }
    let mut pair = pair_or_new(facts.pair.as_ref(), key);
    // 3. Not connected, neither at the cap.
    if pair.connected_since.is_some() {
        return Err(Refusal::AlreadyConnected);
    }
    below_cap(facts.sender_ledger.as_ref(), req.sender, policy)?;
    below_cap(facts.recipient_ledger.as_ref(), req.recipient, policy)?;
    // Crossing send: the recipient's live invitation to the sender is
    // accepted; see `crossing` for one the sender never received.
    if let Some((accepted, dropped)) = crossing(req, facts, policy, now) {
        // No invitation is created, so a note goes nowhere; an invalid
        // one is still refused rather than silently dropped.
        if let Some(text) = req.note {
            Note::parse(text, policy.note_max_chars(sender.tier))?;
        }
        let answer = AnswerFacts {
            invitation: Some(accepted.clone()),
            sender: facts.recipient.clone(),
            recipient: facts.sender.clone(),
            // Blocks were checked above; the crossing accept needs none.
            sender_blocks: Between::default(),
            report: None,
            pair: facts.pair.clone(),
            sender_ledger: facts.recipient_ledger.clone(),
            recipient_ledger: facts.sender_ledger.clone(),
            replacement: None,
        };
        let id = accepted.value.id;
        let decision = connect(&answer, accepted, dropped, policy, now)?;
        return Ok(Decision::new(
            decision,
            SendOutcome::Connected { accepted: id },
        ));
    }
    // 4. Not barred openly.
    let attempts = *pair.attempts(req.sender);
    if attempts.bar == Some(Bar::Rejected) {
        return Err(Refusal::Barred);
    }
    // 5. The re-send ladder and the withdraw cooldown.
    let retry_at = earliest_send(&attempts, policy)?;
    if now < retry_at {
        return Err(Refusal::ResendTooSoon { retry_at });
    }
    // 6. Eligibility, then the recipient's preference (which holds, not refuses).
    let knows_email = req
        .proof
        .is_some_and(|p| recipient.emails.iter().any(|e| e.email == *p));
    let shared_enough = facts.shared_connections >= policy.min_shared_connections() as usize;
    if !(shared_enough || knows_email || facts.in_contacts) {
        return Err(Refusal::NotEligible {
            required: policy.min_shared_connections(),
        });
    }
    let admitted = match recipient.invite_preference {
        InvitePreference::Anyone => true,
        InvitePreference::EmailOrContacts => knows_email || facts.in_contacts,
        InvitePreference::ContactsOnly => facts.in_contacts,
    };
    // 7. The note.
    let note = match req.note {
        Some(text) => Note::parse(text, policy.note_max_chars(sender.tier))?,
        None => None,
    };
    // 8. Standing, outstanding invitations, quotas.
    let ledger_read = facts.sender_ledger.as_ref();
    let mut ledger = ledger_read.or_new(|| Ledger::new(req.sender));
    standing_allows(&ledger, knows_email, policy, now)?;
    let superseding = facts
        .open
        .as_ref()
        .is_some_and(|o| o.value.sender == req.sender && o.value.is_live(policy, now));
    if facts.outstanding.saturating_sub(usize::from(superseding))
        >= policy.max_outstanding() as usize
    {
        return Err(Refusal::TooManyOutstanding {
            max: policy.max_outstanding(),
        });
    }
    // An invitation to join being delivered was counted when it was sent.
    if facts.join.is_none() {
        quota_allows(&ledger, sender.tier, note.is_some(), policy, now)?;
    }
    let delivery = if attempts.bar == Some(Bar::DontKnow) {
        Delivery::Dropped
    } else if admitted {
        Delivery::Inbox
    } else {
        Delivery::Held
    };

    let mut changes = ChangeSet::default();
    let mut supersedes = None;
    let mut recipient_knows = None;
    let id = facts.join.unwrap_or(facts.new_id);
    // What the recipient still knows in place of this dropped send: the
    // sender's open invitation it replaces, if that one reached them, or
    // what the dropped one it replaces stood for (withdrawn or not).
    if let Some(open) = facts.open.as_ref().map(|o| &o.value) {
        if delivery == Delivery::Dropped && open.sender == req.sender {
            recipient_knows = match open.delivery {
                Delivery::Dropped => open.recipient_knows,
                _ if open.is_open() => Some(open.id),
                _ => None,
            };
        }
    }
    if let Some(open) = facts.open.as_ref().filter(|o| o.value.is_open()) {
        let old = if open.value.sender == req.sender {
            let old = open.value.replaced(id, delivery, policy, now);
            if old.replaced_by.is_some() {
                supersedes = Some(old.id);
            }
            old
        } else {
            // The recipient's own invitation to the sender, which the
            // crossing above did not accept: expired, or dropped (see
            // `crossing`).
            ended_by_crossing(&open.value, policy, now)
        };
        changes.write(Some(open), Record::Invitation(old));
    }
    let own = pair.attempts_mut(req.sender);
    own.unanswered = own.unanswered.saturating_add(1);
    own.last_sent = Some(now);
    // The recipient is invited by the sender: the recipient's own ladder
    // towards the sender starts again (the ladder's "never" holds unless
    // the recipient invites the sender), unless the invitation is dropped: the recipient
    // never learns of it, so it must change nothing they can observe.
    if delivery != Delivery::Dropped {
        pair.attempts_mut(req.recipient).unanswered = 0;
    }
    pair.open = Some(id);
    changes.write(facts.pair.as_ref(), Record::Pair(pair));
    let invitation = Invitation {
        id,
        sender: req.sender,
        recipient: req.recipient,
        note: note.clone(),
        sent_at: now,
        status: Status::Pending,
        delivery,
        closed_at: None,
        decline_note: None,
        replaced_by: None,
        recipient_knows,
    };
    changes.write::<Invitation>(None, Record::Invitation(invitation));

    // The sender's ledger: the send, the standing it leads to, the quota.
    let outside_network = facts.shared_connections == 0;
    let entry = match facts.join {
        None => Some(SendEntry::new(now, id, note.is_some(), outside_network)),
        Some(join) => {
            // The invitation to join's entry becomes this invitation's.
            for e in ledger.sends.iter_mut().filter(|e| e.invitation == join) {
                e.join = false;
                e.outside_network = outside_network;
            }
            None
        }
    };
    let (exhausted, standing_event) = record_send(&mut ledger, entry, sender.tier, policy, now);
    changes.write(ledger_read, Record::Ledger(ledger));

    changes.emit(Event::InvitationSent {
        invitation: id,
        sender: req.sender,
        recipient: req.recipient,
        supersedes,
    });
    if delivery == Delivery::Inbox {
        changes.emit(Event::InvitationReceived {
            invitation: id,
            sender: req.sender,
            recipient: req.recipient,
            note,
        });
    }
    changes.extend_events(exhausted);
    changes.extend_events(standing_event);
    Ok(Decision::new(changes, SendOutcome::Sent(id)))
}

/// Standing for one more send of any kind (an invitation, an invitation to
/// join): a suspended sender sends nothing, and a restricted one only with
/// the recipient's email address proved.
///
/// # Errors
/// [`Refusal::Suspended`], [`Refusal::EmailProofRequired`].
pub fn standing_allows(
    ledger: &Ledger,
    email_proved: bool,
    policy: &Policy,
    now: Timestamp,
) -> Result<(), Refusal> {
    let standing_now = standing::evaluate(
        &ledger.standing,
        &ledger.sends,
        &ledger.reports,
        policy.standing(),
        now,
    );
    match (standing_now.level, standing_now.until) {
        (Level::Suspended, Some(until)) => Err(Refusal::Suspended { until }),
        (Level::Restricted, Some(until)) if !email_proved => {
            Err(Refusal::EmailProofRequired { until })
        }
        _ => Ok(()),
    }
}

/// Quotas for one more send of any kind: the tier's invitation quota over
/// its rolling window, counting every send in the ledger (invitations to
/// join included), and, for a send with a note, the note allowance.
///
/// # Errors
/// [`Refusal::QuotaExhausted`], [`Refusal::NoteQuotaExhausted`], each with
/// the instant the next send fits.
pub fn quota_allows(
    ledger: &Ledger,
    tier: Tier,
    with_note: bool,
    policy: &Policy,
    now: Timestamp,
) -> Result<(), Refusal> {
    policy
        .invitation_quota(tier)
        .check(&ledger.send_times(), now)
        .map_err(|retry_at| Refusal::QuotaExhausted { retry_at })?;
    if let (true, Some(notes)) = (with_note, policy.note_quota(tier)) {
        notes
            .check(&ledger.note_times(), now)
            .map_err(|retry_at| Refusal::NoteQuotaExhausted { retry_at })?;
    }
    Ok(())
}

/// Records one more send of any kind in the sender's ledger: forgets sends
/// past the policy's retention, adds `entry` (`None` when the send was
/// counted before, as an invitation to join being delivered), and judges
/// the standing again. Answers the [`Event::QuotaExhausted`] if this send
/// took the quota's last slot, and the [`Event::StandingChanged`] if the
/// level changed.
pub fn record_send(
    ledger: &mut Ledger,
    entry: Option<SendEntry>,
    tier: Tier,
    policy: &Policy,
    now: Timestamp,
) -> (Option<Event>, Option<Event>) {
    let forget_before = now.saturating_sub(policy.send_retention());
    ledger.sends.retain(|e| e.at > forget_before);
    ledger.reports.retain(|&at| at > forget_before);
    let counted = entry.is_some();
    ledger.sends.extend(entry);
    let judged = standing::evaluate(
        &ledger.standing,
        &ledger.sends,
        &ledger.reports,
        policy.standing(),
        now,
    );
    let standing_event = (judged.level != ledger.standing.level).then(|| Event::StandingChanged {
        member: ledger.member,
        from: ledger.standing.level,
        to: judged.level,
        reasons: judged.reasons.clone(),
        until: judged.until,
    });
    ledger.standing = judged;
    ledger.latest = ledger.latest.max(now);
    let exhausted = if counted {
        quota_allows(ledger, tier, false, policy, now).err()
    } else {
        None
    };
    let exhausted = match exhausted {
        Some(Refusal::QuotaExhausted { retry_at }) => Some(Event::QuotaExhausted {
            member: ledger.member,
            retry_at,
        }),
        _ => None,
    };
    (exhausted, standing_event)
}

/// The earliest instant the sender may invite this person again: the
/// re-send ladder counted from the last send (by default 90 days after one
/// unanswered attempt, 365 after two, never after three), and the withdraw
/// cooldown counted from the last withdrawal.
///
/// # Errors
/// [`Refusal::ResendNever`] after three or more unanswered attempts.
pub fn earliest_send(attempts: &Attempts, policy: &Policy) -> Result<Timestamp, Refusal> {
    let wait = policy
        .resend_wait(attempts.unanswered)
        .ok_or(Refusal::ResendNever)?;
    let ladder = attempts
        .last_sent
        .map_or(Timestamp::MIN, |t| t.saturating_add(wait));
    let cooldown = attempts.withdrawn_at.map_or(Timestamp::MIN, |t| {
        t.saturating_add(policy.withdraw_cooldown())
    });
    Ok(ladder.max(cooldown))
}

/// The invitation a crossing send by `req.sender` accepts, if any, with
/// the dropped invitation of the recipient's that stands in its place for
/// the recipient (the sender of the accepted one).
///
/// Here the sender is the member sending now, the recipient the one
/// invited. A crossing send accepts the recipient's live invitation to the
/// sender, as the sender knows it. After the sender answered "I don't know" (or
/// reported it), the recipient's re-sends are dropped and never reach
/// them, so to the sender the recipient's invitation is still the last one
/// that reached them ([`Invitation::recipient_knows`]), and nothing the
/// sender observes may depend on the dropped ones (SPEC 3.4). So:
///
/// - while that known invitation is live (`pending_expiry` from its own
///   send), the crossing send accepts it, exactly as it would have had the
///   recipient never re-sent (or withdrawn their re-send): the sender is
///   answered `Connected { accepted: known }`. To the recipient (who must
///   not learn that they were ignored) it is their latest invitation, the
///   dropped one, that was accepted: it is closed as accepted and the
///   [`Event::InvitationAccepted`] names it, while the known one, which
///   they saw superseded, stays superseded to them
///   ([`Status::EndedAccepted`]). If they had withdrawn the dropped one,
///   it stays withdrawn, and no [`Event::InvitationAccepted`] is sent (none
///   of their invitations is open to them): they see the connection made.
///   That the two connect at all tells them something; it cannot be
///   otherwise, since the sender, who cannot know of the withdrawal, must
///   see their own send connect.
/// - once the known invitation has expired (or if there is none), there is
///   no crossing, even while the dropped one would still be live: the send
///   goes the normal way and is a new invitation, as where the recipient
///   never re-sent. The dropped invitation is closed, since a pair has one
///   open invitation; see [`ended_by_crossing`] for what its sender sees.
///
/// Held invitations ("who may invite me") reach the recipient's held list,
/// so they cross as delivered ones do.
fn crossing<'f>(
    req: &SendRequest<'_>,
    facts: &'f SendFacts,
    policy: &Policy,
    now: Timestamp,
) -> Option<(&'f Versioned<Invitation>, Option<&'f Versioned<Invitation>>)> {
    let open = facts.open.as_ref()?;
    if open.value.sender != req.recipient {
        return None;
    }
    if open.value.delivery != Delivery::Dropped {
        return open.value.is_live(policy, now).then_some((open, None));
    }
    // Dropped: still pending to its sender, or withdrawn by them (the pair
    // still names it, see `withdraw`).
    let known = facts.known.as_ref()?;
    let k = &known.value;
    let same_pair = Some(k.id) == open.value.recipient_knows
        && k.sender == open.value.sender
        && k.recipient == open.value.recipient
        && k.delivery != Delivery::Dropped;
    // Open to the sender of this send: ignored by them, and ended for its
    // own sender only by the dropped re-send.
    let open_to_them = matches!(
        k.status,
        Status::Pending
            | Status::Ignored(_)
            | Status::EndedIgnored {
                sender_sees: Seen::Superseded,
                ..
            }
    );
    (same_pair && open_to_them && now < k.expires_at(policy)).then_some((known, Some(open)))
}

/// The recipient's open invitation to the sender, ended by the sender's
/// send that did not cross it (see [`crossing`]).
///
/// Expired: closed as expired at the instant it expired, keeping the
/// sender's ignore if they ignored it, so that they still see their own
/// answer (as after a dropped re-send or a block).
///
/// Dropped and still live (the invitation the sender knew has expired):
/// closed as superseded, naming nothing, since a pair has one open
/// invitation. The member who sent it (the recipient of this send) sees it
/// superseded and the new invitation in their inbox; no event tells them
/// of it, and neither this send's answer nor its events name it to its
/// sender. The new invitation arriving while theirs was pending does tell
/// them that theirs did not cross: that cannot be avoided once the sender
/// of this send, who must see what they would had it never been sent,
/// invites them; nothing more is told.
fn ended_by_crossing(inv: &Invitation, policy: &Policy, now: Timestamp) -> Invitation {
    if inv.delivery == Delivery::Dropped && inv.is_live(policy, now) {
        inv.closed_as(Status::Superseded, now)
    } else {
        inv.ended(Status::Expired, policy, now)
            .keeping_ignore(inv.status)
    }
}

/// Accepting `invitation`: the shared core of an accept and a crossing
/// send. `dropped` is the dropped invitation that stands in its place for
/// its sender (see [`crossing`]): that one, if still open, is what its
/// sender sees accepted.
fn connect(
    facts: &AnswerFacts,
    invitation: &Versioned<Invitation>,
    dropped: Option<&Versioned<Invitation>>,
    policy: &Policy,
    now: Timestamp,
) -> Result<ChangeSet, Refusal> {
    let inv = &invitation.value;
    let mut ledgers = Vec::with_capacity(2);
    for (read, member) in [
        (facts.sender_ledger.as_ref(), inv.sender),
        (facts.recipient_ledger.as_ref(), inv.recipient),
    ] {
        let mut ledger = below_cap(read, member, policy)?;
        ledger.connections = ledger.connections.saturating_add(1);
        ledger.latest = ledger.latest.max(now);
        if member == inv.sender {
            ledger.record_answer(inv.id, Answer::Accepted, now);
            if let Some(d) = dropped.filter(|d| d.value.is_open()) {
                ledger.record_answer(d.value.id, Answer::Accepted, now);
            }
        }
        ledgers.push((read, ledger));
    }
    let mut changes = ChangeSet::default();
    let mut told = Some(inv.id);
    let closed = match dropped {
        None => inv.closed_as(Status::Accepted, now),
        Some(d) => {
            let sender_sees = inv.seen_by_sender(policy, now);
            told = None;
            if d.value.is_open() {
                let shown = d.value.closed_as(Status::Accepted, now);
                told = Some(shown.id);
                changes.write(Some(d), Record::Invitation(shown));
            }
            inv.closed_as(Status::EndedAccepted { sender_sees }, now)
        }
    };
    changes.write(Some(invitation), Record::Invitation(closed));
    let mut pair = pair_or_new(facts.pair.as_ref(), pair_of(inv)?);
    pair.connected_since = Some(now);
    pair.open = None;
    for member in [inv.sender, inv.recipient] {
        let attempts = pair.attempts_mut(member);
        *attempts = Attempts {
            bar: attempts.bar,
            ..Attempts::default()
        };
    }
    changes.write(facts.pair.as_ref(), Record::Pair(pair));
    for (read, ledger) in ledgers {
        changes.write(read, Record::Ledger(ledger));
    }
    if let Some(told) = told {
        changes.emit(Event::InvitationAccepted {
            invitation: told,
            sender: inv.sender,
            recipient: inv.recipient,
        });
    }
    changes.emit(Event::ConnectionCreated {
        a: inv.sender,
        b: inv.recipient,
    });
    Ok(changes)
}

/// How many invitations count against the sender's
/// [`max_outstanding`](Policy::max_outstanding): of their open
/// invitations, those still live at `now` whose recipient is `active`. An
/// invitation to a member since deactivated is invisible to its sender
/// (not listed, not withdrawable), so it does not count.
#[must_use]
pub fn outstanding<'a>(
    sent: impl IntoIterator<Item = &'a Invitation>,
    active: impl Fn(MemberId) -> bool,
    policy: &Policy,
    now: Timestamp,
) -> usize {
    sent.into_iter()
        .filter(|inv| inv.is_live(policy, now) && active(inv.recipient))
        .count()
}

/// Both parties are active and neither blocked the other: otherwise the
/// invitation does not exist for either of them.
fn parties_active(inv: &Invitation, facts: &AnswerFacts) -> Result<(), Refusal> {
    active_person(facts.sender.as_ref(), inv.sender)?;
    active_person(facts.recipient.as_ref(), inv.recipient)?;
    if facts.sender_blocks.hides() {
        return Err(Refusal::InvitationNotFound(inv.id));
    }
    Ok(())
}

/// The member's ledger (a fresh one if none is stored), if below the cap.
fn below_cap(
    read: Option<&Versioned<Ledger>>,
    member: MemberId,
    policy: &Policy,
) -> Result<Ledger, Refusal> {
    let ledger = read.or_new(|| Ledger::new(member));
    if ledger.connections >= policy.max_connections() {
        Err(Refusal::ConnectionCap {
            member,
            cap: policy.max_connections(),
        })
    } else {
        Ok(ledger)
    }
}

fn pair_or_new(read: Option<&Versioned<PairState>>, key: PairKey) -> PairState {
    read.or_new(|| PairState::new(key))
}

fn pair_of(inv: &Invitation) -> Result<PairKey, Refusal> {
    inv.pair().ok_or(Refusal::InvitationNotFound(inv.id))
}

fn pair_times(pair: Option<&Versioned<PairState>>) -> [Option<Timestamp>; 5] {
    pair.map_or([None; 5], |p| {
        let p = &p.value;
        [
            p.connected_since,
            p.from_low.last_sent,
            p.from_low.withdrawn_at,
            p.from_high.last_sent,
            p.from_high.withdrawn_at,
        ]
    })
}

fn ledger_time(ledger: Option<&Versioned<Ledger>>) -> Option<Timestamp> {
    ledger.map(|l| l.value.latest)
}

impl SendFacts {
    /// The effective time of a send: the clock, or the latest instant
    /// already recorded in these facts if that is later (a clock
    /// that goes backwards never refills a quota or shortens a wait).
    #[must_use]
    pub fn effective_now(&self, clock: Timestamp) -> Timestamp {
        let open = self.open.as_ref().map(|o| o.value.sent_at);
        Timestamp::effective(
            clock,
            pair_times(self.pair.as_ref()).into_iter().chain([
                open,
                ledger_time(self.sender_ledger.as_ref()),
                ledger_time(self.recipient_ledger.as_ref()),
            ]),
        )
    }
}

impl AnswerFacts {
    /// The effective time of an answer or withdrawal (see
    /// [`SendFacts::effective_now`]).
    #[must_use]
    pub fn effective_now(&self, clock: Timestamp) -> Timestamp {
        let inv = self.invitation.as_ref().map(|i| &i.value);
        Timestamp::effective(
            clock,
            pair_times(self.pair.as_ref()).into_iter().chain([
                inv.map(|i| i.sent_at),
                inv.and_then(|i| i.closed_at),
                ledger_time(self.sender_ledger.as_ref()),
                ledger_time(self.recipient_ledger.as_ref()),
            ]),
        )
    }
}

/// The sender's ledger with the answer to `invitation` recorded.
fn answered(
    read: Option<&Versioned<Ledger>>,
    sender: MemberId,
    invitation: InvitationId,
    answer: Answer,
    now: Timestamp,
) -> Ledger {
    let mut ledger = read.or_new(|| Ledger::new(sender));
    ledger.record_answer(invitation, answer, now);
    ledger.latest = ledger.latest.max(now);
    ledger
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
