//! List rows, views, suggestions, search hits, standing, pages, members.

use super::*;

// -------------------------------------------------------- rows and views

/// A [`Listed`] invitation on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct WireListed<'a> {
    invitation: Id,
    other: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a Note>,
    sent_at: Instant,
    mutual_connections: usize,
}

impl ToWire for Listed {
    type Wire<'a> = WireListed<'a>;
    fn to_wire(&self) -> WireListed<'_> {
        WireListed {
            invitation: id(self.invitation),
            other: id(self.other),
            note: self.note.as_ref(),
            sent_at: at(self.sent_at),
            mutual_connections: self.mutual_connections,
        }
    }
}

/// A [`SentJoinInvitation`] on the wire, for its sender: the address is
/// the one they wrote.
#[derive(Clone, Debug, Serialize)]
pub struct WireSentJoinInvitation<'a> {
    invitation: Id,
    email: &'a Email,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a Note>,
    sent_at: Instant,
}

impl ToWire for SentJoinInvitation {
    type Wire<'a> = WireSentJoinInvitation<'a>;
    fn to_wire(&self) -> WireSentJoinInvitation<'_> {
        WireSentJoinInvitation {
            invitation: id(self.invitation),
            email: &self.email,
            note: self.note.as_ref(),
            sent_at: at(self.sent_at),
        }
    }
}

/// An [`InvitationView`] on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct WireInvitationView<'a> {
    id: Id,
    sender: Id,
    recipient: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a Note>,
    sent_at: Instant,
    seen: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    decline_note: Option<&'a Note>,
}

impl ToWire for InvitationView {
    type Wire<'a> = WireInvitationView<'a>;
    fn to_wire(&self) -> WireInvitationView<'_> {
        WireInvitationView {
            id: id(self.id),
            sender: id(self.sender),
            recipient: id(self.recipient),
            note: self.note.as_ref(),
            sent_at: at(self.sent_at),
            seen: seen_name(self.seen),
            decline_note: self.decline_note.as_ref(),
        }
    }
}

/// A suggestion's [`Reason`] on the wire: `{"type": "mutual_connections",
/// "count": 3}`, `{"type": "in_contacts"}`, `{"type": "current_company",
/// "company": "9"}`, `{"type": "school", "name": "..."}`, `{"type":
/// "group", "group": "5"}`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `Reason`.
pub enum WireReason<'a> {
    MutualConnections { count: usize },
    InContacts,
    CurrentCompany { company: Id },
    PastCompany { company: Id },
    School { name: &'a str },
    Group { group: Id },
}

impl ToWire for Reason {
    type Wire<'a> = WireReason<'a>;
    fn to_wire(&self) -> WireReason<'_> {
        match self {
            Reason::MutualConnections(count) => WireReason::MutualConnections { count: *count },
            Reason::InContacts => WireReason::InContacts,
            Reason::CurrentCompany(c) => WireReason::CurrentCompany { company: id(*c) },
            Reason::PastCompany(c) => WireReason::PastCompany { company: id(*c) },
            Reason::School(name) => WireReason::School { name },
            Reason::Group(g) => WireReason::Group { group: id(*g) },
        }
    }
}

/// A [`Suggestion`] on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct WireSuggestion<'a> {
    member: Id,
    score: u64,
    reasons: Vec<WireReason<'a>>,
}

impl ToWire for Suggestion {
    type Wire<'a> = WireSuggestion<'a>;
    fn to_wire(&self) -> WireSuggestion<'_> {
        WireSuggestion {
            member: id(self.member),
            score: self.score,
            reasons: self.reasons.to_wire(),
        }
    }
}

/// A [`SearchHit`] on the wire.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WireSearchHit {
    member: Id,
    degree: &'static str,
    mutual_connections: usize,
}

impl ToWire for SearchHit {
    type Wire<'a> = WireSearchHit;
    fn to_wire(&self) -> WireSearchHit {
        WireSearchHit {
            member: id(self.member),
            degree: degree_name(self.degree),
            mutual_connections: self.mutual_connections,
        }
    }
}

/// A sender's [`Standing`] on the wire, for the sender:
/// `{"level": "restricted", "until": "...", "reasons": [...], "strikes": 1}`.
#[derive(Clone, Debug, Serialize)]
pub struct WireStanding {
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<Instant>,
    reasons: Vec<WireSignal>,
    strikes: u32,
}

impl ToWire for Standing {
    type Wire<'a> = WireStanding;
    fn to_wire(&self) -> WireStanding {
        WireStanding {
            level: level_name(self.level),
            until: self.until.map(at),
            reasons: self.reasons.to_wire(),
            strikes: self.strikes,
        }
    }
}

/// A [`Page`] on the wire: `{"items": [...], "next": "<cursor>" | null}`.
#[derive(Clone, Debug, Serialize)]
pub struct WirePage<I, C> {
    items: Vec<I>,
    next: Option<C>,
}

impl<T: ToWire, C: ToWire> ToWire for Page<T, C> {
    type Wire<'a>
        = WirePage<T::Wire<'a>, C::Wire<'a>>
    where
        T: 'a,
        C: 'a;
    fn to_wire(&self) -> Self::Wire<'_> {
        WirePage {
            items: self.items.to_wire(),
            next: self.next.to_wire(),
        }
    }
}

/// A [`Member`] on the wire: its id, kind, tier and profile, and **no email
/// address** (the stored form, [`Member`]'s serde, carries them).
/// `{"id": "42", "kind": "person", "tier": "free", "profile": {...}}`; a
/// paid tier is `"premium_0"`, `"premium_1"`...
#[derive(Clone, Debug, Serialize)]
pub struct WireMember<'a> {
    id: Id,
    kind: &'static str,
    tier: std::borrow::Cow<'static, str>,
    profile: WireProfile<'a>,
}

/// A member's profile on the wire (companies as id strings).
#[derive(Clone, Debug, Serialize)]
pub struct WireProfile<'a> {
    display_name: &'a str,
    headline: &'a str,
    location: &'a str,
    current_companies: Vec<Id>,
    past_companies: Vec<Id>,
    schools: &'a [String],
    skills: &'a [String],
}

impl<'a> WireProfile<'a> {
    pub(super) fn of(p: &'a crate::member::Profile) -> Self {
        WireProfile {
            display_name: &p.display_name,
            headline: &p.headline,
            location: &p.location,
            current_companies: p.current_companies.iter().copied().map(id).collect(),
            past_companies: p.past_companies.iter().copied().map(id).collect(),
            schools: &p.schools,
            skills: &p.skills,
        }
    }
}

impl<'a> WireMember<'a> {
    /// The one wire form of a member's public fields, shared by
    /// [`Member`] and [`MemberView`](crate::network::MemberView).
    pub(super) fn of(
        member: MemberId,
        kind: Kind,
        tier: Tier,
        profile: &'a crate::member::Profile,
    ) -> Self {
        WireMember {
            id: id(member),
            kind: reads::kind_name(kind),
            tier: reads::tier_name(tier),
            profile: WireProfile::of(profile),
        }
    }
}

impl ToWire for Member {
    type Wire<'a> = WireMember<'a>;
    fn to_wire(&self) -> WireMember<'_> {
        WireMember::of(self.id, self.kind, self.tier, &self.profile)
    }
}
