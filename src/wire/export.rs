//! A member's [`Export`] on the wire.

use super::*;
use crate::block::ReportReason;
use crate::network::Export;

/// An [`Export`] on the wire: one object with a field per kind of data,
/// every list sorted.
///
/// `{"member": {...member, "emails": [{"email": "...", "discoverable":
/// true}], "invite_preference": "anyone"}, "connections": [{"member": "7",
/// "since": "..."}], "sent": [<invitation view>], "received": [...],
/// "join_invitations": [{"invitation": "9", "email": "...", "sent_at":
/// "..."}], "contacts": [{"email": "...", "name": "...", "imported_at":
/// "..."}], "follows": ["12"], "groups": ["3"], "dismissed": [{"member":
/// "5", "at": "..."}], "blocks": [{"member": "8", "since": "..."}],
/// "reports": [{"member": "6", "reason": "spam", "at": "..."}],
/// "standing": <standing>}`. Unlike [`WireMember`], the member carries
/// their addresses: the export is for the member alone.
#[derive(Clone, Debug, Serialize)]
pub struct WireExport<'a> {
    member: WireExportedMember<'a>,
    connections: Vec<WireDated>,
    sent: Vec<WireInvitationView<'a>>,
    received: Vec<WireInvitationView<'a>>,
    join_invitations: Vec<WireJoinInvitation<'a>>,
    contacts: Vec<WireContact<'a>>,
    follows: Vec<Id>,
    groups: Vec<Id>,
    dismissed: Vec<WireDated>,
    blocks: Vec<WireDated>,
    reports: Vec<WireReport>,
    standing: WireStanding,
}

/// The exported member: the public wire form plus addresses and setting.
#[derive(Clone, Debug, Serialize)]
pub struct WireExportedMember<'a> {
    #[serde(flatten)]
    member: WireMember<'a>,
    emails: Vec<WireAddress<'a>>,
    invite_preference: &'static str,
}

/// One of the member's addresses.
#[derive(Clone, Debug, Serialize)]
pub struct WireAddress<'a> {
    email: &'a Email,
    discoverable: bool,
}

/// Another member and an instant (a connection, a dismissal, a block).
#[derive(Clone, Debug, Serialize)]
pub struct WireDated {
    member: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<Instant>,
}

/// An invitation to join the member sent.
#[derive(Clone, Debug, Serialize)]
pub struct WireJoinInvitation<'a> {
    invitation: Id,
    email: &'a Email,
    sent_at: Instant,
}

/// A contact the member imported.
#[derive(Clone, Debug, Serialize)]
pub struct WireContact<'a> {
    email: &'a Email,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    imported_at: Instant,
}

/// A report the member made.
#[derive(Clone, Debug, Serialize)]
pub struct WireReport {
    member: Id,
    reason: &'static str,
    at: Instant,
}

fn dated(member: MemberId, since: Option<Timestamp>) -> WireDated {
    WireDated {
        member: id(member),
        since: since.map(at),
    }
}

impl ToWire for Export {
    type Wire<'a> = WireExport<'a>;
    fn to_wire(&self) -> WireExport<'_> {
        let m = &self.member;
        WireExport {
            member: WireExportedMember {
                member: m.to_wire(),
                emails: m
                    .emails
                    .iter()
                    .map(|e| WireAddress {
                        email: &e.email,
                        discoverable: e.discoverable,
                    })
                    .collect(),
                invite_preference: match m.invite_preference {
                    crate::member::InvitePreference::Anyone => "anyone",
                    crate::member::InvitePreference::EmailOrContacts => "email_or_contacts",
                    crate::member::InvitePreference::ContactsOnly => "contacts_only",
                },
            },
            connections: self
                .connections
                .iter()
                .map(|&(other, since)| dated(other, Some(since)))
                .collect(),
            sent: self.sent.to_wire(),
            received: self.received.to_wire(),
            join_invitations: self
                .join_invitations
                .iter()
                .map(|(invitation, email, sent_at)| WireJoinInvitation {
                    invitation: id(*invitation),
                    email,
                    sent_at: at(*sent_at),
                })
                .collect(),
            contacts: self
                .contacts
                .iter()
                .map(|c| WireContact {
                    email: &c.email,
                    name: c.name.as_deref(),
                    imported_at: at(c.imported_at),
                })
                .collect(),
            follows: self.follows.iter().copied().map(id).collect(),
            groups: self.groups.iter().copied().map(id).collect(),
            dismissed: self
                .dismissed
                .iter()
                .map(|&(other, when)| dated(other, Some(when)))
                .collect(),
            blocks: self
                .blocks
                .iter()
                .map(|b| dated(b.target, b.since))
                .collect(),
            reports: self
                .reports
                .iter()
                .map(|r| WireReport {
                    member: id(r.target),
                    reason: match r.reason {
                        ReportReason::Spam => "spam",
                        ReportReason::Fake => "fake",
                        ReportReason::Harassment => "harassment",
                        ReportReason::Other => "other",
                    },
                    at: at(r.at),
                })
                .collect(),
            standing: self.standing.to_wire(),
        }
    }
}
