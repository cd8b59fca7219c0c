//! The reads of one viewer: a profile, rows with display fields, counts,
//! the block list, relationships, a sender's allowance.

use super::*;
use crate::invitation::Allowance;
use crate::member::MemberEmail;
use crate::network::{
    BlockedMember, Card, InvitationCounts, MemberView, Pending, Relationship, Row,
};

/// A member kind's wire name: `"person"` or `"company"`.
pub(super) fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "person",
        Kind::Company => "company",
    }
}

/// A tier's wire name: `"free"`, `"premium_0"`, `"premium_1"`...
pub(super) fn tier_name(tier: Tier) -> std::borrow::Cow<'static, str> {
    match tier {
        Tier::Free => "free".into(),
        Tier::Premium(level) => format!("premium_{level}").into(),
    }
}

/// An address of a member's own, on the wire (their own profile only):
/// `{"email": "ana@example.com", "discoverable": true}`.
#[derive(Clone, Debug, Serialize)]
pub struct WireOwnEmail<'a> {
    email: &'a Email,
    discoverable: bool,
}

/// A [`MemberView`] on the wire: `{"id": "2", "kind": "person", "tier":
/// "free", "profile": {...}, "degree": "second", "mutual_connections": 1}`,
/// and `"emails": [...]` in the viewer's own profile only (omitted, never
/// empty, for anyone else).
#[derive(Clone, Debug, Serialize)]
pub struct WireMemberView<'a> {
    #[serde(flatten)]
    member: WireMember<'a>,
    degree: &'static str,
    mutual_connections: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    emails: Vec<WireOwnEmail<'a>>,
}

impl ToWire for MemberView {
    type Wire<'a> = WireMemberView<'a>;
    fn to_wire(&self) -> WireMemberView<'_> {
        WireMemberView {
            member: WireMember::of(self.id, self.kind, self.tier, &self.profile),
            degree: degree_name(self.degree),
            mutual_connections: self.mutual_connections,
            emails: self
                .emails
                .iter()
                .map(|e: &MemberEmail| WireOwnEmail {
                    email: &e.email,
                    discoverable: e.discoverable,
                })
                .collect(),
        }
    }
}

/// A [`Card`] on the wire: `{"id": "3", "kind": "person", "display_name":
/// "Cy", "headline": "...", "location": "...", "degree": "second"}`.
#[derive(Clone, Debug, Serialize)]
pub struct WireCard<'a> {
    id: Id,
    kind: &'static str,
    display_name: &'a str,
    headline: &'a str,
    location: &'a str,
    degree: &'static str,
}

impl ToWire for Card {
    type Wire<'a> = WireCard<'a>;
    fn to_wire(&self) -> WireCard<'_> {
        WireCard {
            id: id(self.id),
            kind: kind_name(self.kind),
            display_name: &self.display_name,
            headline: &self.headline,
            location: &self.location,
            degree: degree_name(self.degree),
        }
    }
}

/// A [`Row`] on the wire: the row as its list gives it, and the card:
/// `{"item": {"invitation": "4", ...}, "card": {...}}`.
#[derive(Clone, Debug, Serialize)]
pub struct WireRow<'a, I> {
    item: I,
    card: WireCard<'a>,
}

impl<T: ToWire> ToWire for Row<T> {
    type Wire<'a>
        = WireRow<'a, T::Wire<'a>>
    where
        T: 'a;
    fn to_wire(&self) -> Self::Wire<'_> {
        WireRow {
            item: self.item.to_wire(),
            card: self.card.to_wire(),
        }
    }
}

/// A [`BlockedMember`] on the wire: `{"member": "2", "display_name": "Bo",
/// "since": "..."}`.
#[derive(Clone, Debug, Serialize)]
pub struct WireBlockedMember<'a> {
    member: Id,
    display_name: &'a str,
    since: Instant,
}

impl ToWire for BlockedMember {
    type Wire<'a> = WireBlockedMember<'a>;
    fn to_wire(&self) -> WireBlockedMember<'_> {
        WireBlockedMember {
            member: id(self.member),
            display_name: &self.display_name,
            since: at(self.since),
        }
    }
}

/// [`InvitationCounts`] on the wire: `{"inbox": 2, "held": 0, "sent": 1,
/// "unseen": 1}`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WireInvitationCounts {
    inbox: usize,
    held: usize,
    sent: usize,
    unseen: usize,
}

impl ToWire for InvitationCounts {
    type Wire<'a> = WireInvitationCounts;
    fn to_wire(&self) -> WireInvitationCounts {
        WireInvitationCounts {
            inbox: self.inbox,
            held: self.held,
            sent: self.sent,
            unseen: self.unseen,
        }
    }
}

/// A [`Pending`] invitation on the wire: `{"direction": "sent" |
/// "received" | "held", "invitation": "4"}`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WirePending {
    direction: &'static str,
    invitation: Id,
}

impl ToWire for Pending {
    type Wire<'a> = WirePending;
    fn to_wire(&self) -> WirePending {
        let (direction, invitation) = match *self {
            Pending::Sent(i) => ("sent", i),
            Pending::Received(i) => ("received", i),
            Pending::Held(i) => ("held", i),
        };
        WirePending {
            direction,
            invitation: id(invitation),
        }
    }
}

/// A [`Relationship`] on the wire: `{"member": "3", "degree": "second",
/// "pending": {...}, "mutual_connections": 1}` (`pending` omitted when
/// none). A member hidden from the viewer, like an unknown id, is `null`
/// in its place.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WireRelationship {
    member: Id,
    degree: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<WirePending>,
    mutual_connections: usize,
}

impl ToWire for Relationship {
    type Wire<'a> = WireRelationship;
    fn to_wire(&self) -> WireRelationship {
        WireRelationship {
            member: id(self.member),
            degree: degree_name(self.degree),
            pending: self.pending.map(|p| p.to_wire()),
            mutual_connections: self.mutual_connections,
        }
    }
}

/// An [`Allowance`] on the wire, for the sender: `{"sends_remaining": 99,
/// "send_limit": 100, "notes_remaining": 4, "outstanding": 1,
/// "max_outstanding": 500, "next_send_at": "...", "standing": {...}}`
/// (`notes_remaining` omitted when the tier has no note allowance,
/// `next_send_at` when only an answer can free a slot).
#[derive(Clone, Debug, Serialize)]
pub struct WireAllowance {
    sends_remaining: u32,
    send_limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes_remaining: Option<u32>,
    outstanding: usize,
    max_outstanding: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_send_at: Option<Instant>,
    standing: WireStanding,
}

impl ToWire for Allowance {
    type Wire<'a> = WireAllowance;
    fn to_wire(&self) -> WireAllowance {
        WireAllowance {
            sends_remaining: self.sends_remaining,
            send_limit: self.send_limit,
            notes_remaining: self.notes_remaining,
            outstanding: self.outstanding,
            max_outstanding: self.max_outstanding,
            next_send_at: self.next_send_at.map(at),
            standing: self.standing.to_wire(),
        }
    }
}
