//! The recipient accepts, ignores or rejects an invitation, or
//! its sender withdraws it.

use super::*;

/// The recipient accepts; the two become connected.
///
/// Accepting an invitation already accepted answers the same and changes
/// nothing.
///
/// # Errors
/// [`Refusal::InvitationNotFound`] unless `actor` is the recipient of an
/// invitation that reached them; [`Refusal::NotPending`];
/// [`Refusal::ConnectionCap`].
pub fn accept(
    actor: MemberId,
    id: InvitationId,
    facts: &AnswerFacts,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<()>, Refusal> {
    let now = facts.effective_now(clock);
    let (invitation, seen) = as_recipient(actor, id, facts, policy, now)?;
    match seen {
        Seen::Pending | Seen::Held => Ok(Decision::from(connect(
            facts, invitation, None, policy, now,
        )?)),
        Seen::Accepted => Ok(Decision::unchanged(())),
        seen => Err(Refusal::NotPending { seen }),
    }
}

/// The recipient ignores, possibly saying "I don't know this
/// person" or reporting spam, which bars the sender silently. The sender is
/// told nothing and keeps seeing the invitation as pending.
///
/// Ignoring again answers the same and changes nothing, unless the new
/// answer is stronger (a plain ignore later marked "I don't know", or
/// reported): that one applies.
///
/// # Errors
/// [`Refusal::InvitationNotFound`], [`Refusal::NotPending`].
pub fn ignore(
    actor: MemberId,
    id: InvitationId,
    reason: IgnoreReason,
    facts: &AnswerFacts,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<()>, Refusal> {
    let now = facts.effective_now(clock);
    let (invitation, seen) = as_recipient(actor, id, facts, policy, now)?;
    match (seen, invitation.value.status.ignored()) {
        (Seen::Pending | Seen::Held, _) => {}
        // A later "I don't know" or report of an ignored invitation still
        // counts; a weaker or equal answer repeats and changes nothing.
        (Seen::Ignored, Some(earlier)) if reason > earlier => {}
        (Seen::Ignored, _) => return Ok(Decision::unchanged(())),
        (seen, _) => return Err(Refusal::NotPending { seen }),
    }
    let mut changes = ChangeSet::default();
    let mut closed = invitation.value.clone();
    closed.status = match closed.status {
        // Still ended for the sender.
        Status::EndedIgnored { sender_sees, .. } => Status::EndedIgnored {
            reason,
            sender_sees,
        },
        _ => Status::Ignored(reason),
    };
    changes.write(Some(invitation), Record::Invitation(closed));
    if reason.bars() {
        let mut pair = pair_or_new(facts.pair.as_ref(), pair_of(&invitation.value)?);
        let bar = &mut pair.attempts_mut(invitation.value.sender).bar;
        if bar.is_none() {
            *bar = Some(Bar::DontKnow);
        }
        changes.write(facts.pair.as_ref(), Record::Pair(pair));
        let answer = if reason == IgnoreReason::Spam {
            Answer::Spam
        } else {
            Answer::DontKnow
        };
        let sender = invitation.value.sender;
        let mut ledger = answered(facts.sender_ledger.as_ref(), sender, id, answer, now);
        // Reporting the invitation is "I don't know" plus a report of the
        // sender, counted once per reporter.
        if reason == IgnoreReason::Spam && facts.report.is_none() {
            block::add_report(&mut changes, actor, &mut ledger, ReportReason::Spam, now);
        }
        changes.write(facts.sender_ledger.as_ref(), Record::Ledger(ledger));
    }
    changes.emit(Event::InvitationIgnored {
        invitation: id,
        recipient: actor,
    });
    Ok(changes.into())
}

/// The recipient rejects; the sender is told and barred from
/// inviting this recipient ever again (the other direction stays open).
///
/// The recipient may give a polite note with the reject (`note`, as typed):
/// it is validated as an invitation note is ([`Note::parse`], at the
/// recipient's tier's length), kept on the invitation as
/// [`Invitation::decline_note`], and carried by the
/// [`Event::InvitationRejected`] addressed to the sender. A blank note is
/// no note.
///
/// Rejecting again answers the same and changes nothing (a note given the
/// second time is not read).
///
/// # Errors
/// [`Refusal::InvitationNotFound`], [`Refusal::NotPending`],
/// [`Refusal::InvalidNote`].
pub fn reject(
    actor: MemberId,
    id: InvitationId,
    note: Option<&str>,
    facts: &AnswerFacts,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<()>, Refusal> {
    let now = facts.effective_now(clock);
    let (invitation, seen) = as_recipient(actor, id, facts, policy, now)?;
    match seen {
        Seen::Pending | Seen::Held => {}
        Seen::Rejected => return Ok(Decision::unchanged(())),
        seen => return Err(Refusal::NotPending { seen }),
    }
    let note = match (note, facts.recipient.as_ref()) {
        (Some(text), Some(recipient)) => {
            Note::parse(text, policy.note_max_chars(recipient.value.tier))?
        }
        _ => None,
    };
    let mut closed = invitation.value.closed_as(Status::Rejected, now);
    closed.decline_note.clone_from(&note);
    let sender = invitation.value.sender;
    let mut changes = close(facts, invitation, closed, Answer::Rejected, now, |pair| {
        pair.open = None;
        pair.attempts_mut(sender).bar = Some(Bar::Rejected);
    })?;
    changes.emit(Event::InvitationRejected {
        invitation: id,
        sender: invitation.value.sender,
        recipient: actor,
        note,
    });
    Ok(changes.into())
}

/// The sender withdraws a pending invitation. Nobody is notified,
/// no quota is refunded, and the sender waits the withdraw cooldown before
/// inviting the same person again; the re-send ladder still counts it.
///
/// Withdrawing again answers the same and changes nothing.
///
/// # Errors
/// [`Refusal::InvitationNotFound`] unless `actor` sent it;
/// [`Refusal::NotPending`].
pub fn withdraw(
    actor: MemberId,
    id: InvitationId,
    facts: &AnswerFacts,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<()>, Refusal> {
    let now = facts.effective_now(clock);
    let invitation = facts
        .invitation
        .as_ref()
        .filter(|i| i.value.id == id && i.value.sender == actor)
        .ok_or(Refusal::InvitationNotFound(id))?;
    parties_active(&invitation.value, facts).map_err(|_| Refusal::InvitationNotFound(id))?;
    match invitation.value.seen_by_sender(policy, now) {
        Seen::Pending => {}
        Seen::Withdrawn => return Ok(Decision::unchanged(())),
        seen => return Err(Refusal::NotPending { seen }),
    }
    let closed = invitation.value.closed_as(Status::Withdrawn, now);
    // A dropped invitation stays named by the pair when it stands for one
    // its recipient still knows (`Invitation::recipient_knows`): to them,
    // who never saw it withdrawn, that one is still open (see `crossing`).
    let keep = invitation.value.delivery == Delivery::Dropped
        && invitation.value.recipient_knows.is_some();
    let mut changes = close(facts, invitation, closed, Answer::Withdrawn, now, |pair| {
        if !keep {
            pair.open = None;
        }
        pair.attempts_mut(actor).withdrawn_at = Some(now);
    })?;
    changes.emit(Event::InvitationWithdrawn {
        invitation: id,
        sender: actor,
    });
    Ok(changes.into())
}

/// The writes that close an open invitation for good, as `closed`: the
/// invitation, its pair (edited by `edit`) and the sender's ledger with
/// `answer` recorded.
fn close(
    facts: &AnswerFacts,
    invitation: &Versioned<Invitation>,
    closed: Invitation,
    answer: Answer,
    now: Timestamp,
    edit: impl FnOnce(&mut PairState),
) -> Result<ChangeSet, Refusal> {
    let (id, sender) = (invitation.value.id, invitation.value.sender);
    let mut changes = ChangeSet::default();
    changes.write(Some(invitation), Record::Invitation(closed));
    let mut pair = pair_or_new(facts.pair.as_ref(), pair_of(&invitation.value)?);
    edit(&mut pair);
    changes.write(facts.pair.as_ref(), Record::Pair(pair));
    let ledger = answered(facts.sender_ledger.as_ref(), sender, id, answer, now);
    changes.write(facts.sender_ledger.as_ref(), Record::Ledger(ledger));
    Ok(changes)
}

/// The invitation as its recipient sees it, or not found: not theirs, never
/// delivered to them, taken back by the sender, or between members one of
/// whom is gone. One that reached them and was since replaced by a newer
/// one from the same sender that reached them too is
/// [`Refusal::InvitationReplaced`]: the recipient may know of both, and the
/// sender, who sent both, learns nothing from it.
fn as_recipient<'f>(
    actor: MemberId,
    id: InvitationId,
    facts: &'f AnswerFacts,
    policy: &Policy,
    now: Timestamp,
) -> Result<(&'f Versioned<Invitation>, Seen), Refusal> {
    let invitation = facts
        .invitation
        .as_ref()
        .filter(|i| i.value.id == id && i.value.recipient == actor)
        .ok_or(Refusal::InvitationNotFound(id))?;
    parties_active(&invitation.value, facts).map_err(|_| Refusal::InvitationNotFound(id))?;
    let Some(seen) = invitation.value.seen_by_recipient(policy, now) else {
        let replacement = facts.replacement.as_ref().map(|v| &v.value);
        return Err(invitation
            .value
            .replaced_for_recipient(replacement, policy, now)
            .unwrap_or(Refusal::InvitationNotFound(id)));
    };
    Ok((invitation, seen))
}
