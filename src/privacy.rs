//! Personal data: the pure rules of erasure and retention. What erasing a
//! member does to each kind of record ([`scrub`]), and when a closed
//! invitation's notes are past retention ([`notes_expired`]). The shell
//! that walks the store and commits is `Network::erase` and
//! `Network::apply_retention`.

use crate::event::Event;
use crate::id::MemberId;
use crate::invitation::Invitation;
use crate::member::{InvitePreference, Member, Profile, Tier};
use crate::outbox::Outbox;
use crate::policy::Policy;
use crate::record::Record;
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// What erasing a member does to one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scrub {
    /// Nothing of the member's personal data is in it.
    Keep,
    /// Rewrite it as this.
    Put(Box<Record>),
    /// Delete it.
    Delete,
}

/// The member record an erased member leaves: the id and kind (so the id
/// is never registered again and the graph knows what it was), inactive,
/// with no profile, no address, default settings.
#[must_use]
pub(crate) fn erased(member: &Member) -> Member {
    Member {
        id: member.id,
        kind: member.kind,
        tier: Tier::Free,
        profile: Profile::default(),
        emails: Vec::new(),
        invite_preference: InvitePreference::Anyone,
        active: false,
    }
}

/// Whether `member` is what [`erased`] leaves.
#[must_use]
pub(crate) fn is_erased(member: &Member) -> bool {
    *member == erased(member)
}

/// What erasing `member` (whose canonical addresses are `addresses`) does
/// to `record`. The one place that says what erasure removes and what it
/// keeps:
///
/// - removed: the member's profile and addresses (the record stays as
///   [`erased`]), the owners of their addresses, the invitee records of
///   their addresses (with any opt-out: the address's holder asked for
///   erasure), the notes of every invitation they sent or received, their
///   imported contacts, follows, groups, dismissals, blocks and block
///   tally, the reports they made, their invitations to join (from
///   invitees' records), others' dismissals and follows of them, and in
///   outbox records the notes of their invitations and the events naming
///   their addresses;
/// - kept, holding no personal data: pair states (connection dates and
///   bars that protect the other party), ledgers (counters, quotas, the
///   count of reports on a target), others' blocks and reports of them,
///   invitations without their notes, and addresses in *other* members'
///   imported contacts (the importer's data, as if the member had never
///   joined).
pub(crate) fn scrub(record: &Record, member: MemberId, addresses: &BTreeSet<String>) -> Scrub {
    let changed = |new: Record| {
        if &new == record {
            Scrub::Keep
        } else {
            Scrub::Put(Box::new(new))
        }
    };
    match record {
        Record::Member(m) if m.id == member => changed(Record::Member(erased(m))),
        Record::Invitation(i) if i.sender == member || i.recipient == member => {
            changed(Record::Invitation(without_notes(i)))
        }
        Record::Contact(c) if c.owner == member => Scrub::Delete,
        Record::EmailOwner(o)
            if o.member == Some(member) || addresses.contains(o.email.canonical()) =>
        {
            Scrub::Delete
        }
        Record::Invitee(i) if addresses.contains(i.email.canonical()) => Scrub::Delete,
        Record::Invitee(i) => {
            let mut kept = i.clone();
            kept.invitations.retain(|j| j.sender != member);
            if kept.invitations.is_empty() && kept.opted_out.is_none() {
                // Nothing left to remember about the address.
                if i.invitations.is_empty() {
                    Scrub::Keep
                } else {
                    Scrub::Delete
                }
            } else {
                changed(Record::Invitee(kept))
            }
        }
        Record::Follows(f) if f.member == member => Scrub::Delete,
        Record::Follows(f) => {
            let mut kept = f.clone();
            kept.companies.remove(&member);
            changed(Record::Follows(kept))
        }
        Record::Groups(g) if g.member == member => Scrub::Delete,
        Record::Dismissed(d) if d.member == member => Scrub::Delete,
        Record::Dismissed(d) => {
            let mut kept = d.clone();
            kept.dismissed.remove(&member);
            changed(Record::Dismissed(kept))
        }
        Record::Report(r) if r.reporter == member => Scrub::Delete,
        Record::Block(b) if b.blocker == member => Scrub::Delete,
        Record::BlockTally(t) if t.member == member => Scrub::Delete,
        Record::Blocks(b) if b.member == member => Scrub::Delete,
        Record::Outbox(o) => match scrub_outbox(o, member, addresses) {
            Some(kept) if kept.events.is_empty() => Scrub::Delete,
            Some(kept) => Scrub::Put(Box::new(Record::Outbox(kept))),
            None => Scrub::Keep,
        },
        _ => Scrub::Keep,
    }
}

/// The invitation without its notes.
fn without_notes(invitation: &Invitation) -> Invitation {
    Invitation {
        note: None,
        decline_note: None,
        ..invitation.clone()
    }
}

/// The outbox record with the member's personal data removed from its
/// events, or `None` when it carries none: notes of invitations they sent
/// or received go; events naming one of their addresses are dropped.
fn scrub_outbox(outbox: &Outbox, member: MemberId, addresses: &BTreeSet<String>) -> Option<Outbox> {
    let mut kept = outbox.clone();
    kept.events.retain(|event| match event {
        Event::JoinInvitationSent { email, .. }
        | Event::JoinInvitationReceived { email, .. }
        | Event::OptedOut { email } => !addresses.contains(email.canonical()),
        _ => true,
    });
    for event in &mut kept.events {
        match event {
            Event::InvitationReceived {
                sender,
                recipient,
                note,
                ..
            }
            | Event::InvitationRejected {
                sender,
                recipient,
                note,
                ..
            } if *sender == member || *recipient == member => *note = None,
            _ => {}
        }
    }
    (kept != *outbox).then_some(kept)
}

/// The invitation without its notes when `policy`'s note retention has
/// passed since it closed (or, still open, since it expired) at `now`;
/// `None` when it keeps them (or has none).
#[must_use]
pub(crate) fn notes_expired(
    invitation: &Invitation,
    policy: &Policy,
    now: Timestamp,
) -> Option<Invitation> {
    if invitation.note.is_none() && invitation.decline_note.is_none() {
        return None;
    }
    let closed = match invitation.closed_at {
        Some(at) if !invitation.is_open() => at,
        _ => {
            let expiry = invitation.expires_at(policy);
            if now < expiry {
                return None;
            }
            expiry
        }
    };
    (now.since(closed) >= policy.note_retention()).then(|| without_notes(invitation))
}
