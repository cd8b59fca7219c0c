//! Events, as the relay and answers carry them.

use super::*;

// ----------------------------------------------------------------- events

/// An [`Event`] on the wire: `{"type": "invitation_sent", ...}`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `Event`.
pub enum WireEvent<'a> {
    MemberRegistered {
        member: Id,
    },
    MemberDeactivated {
        member: Id,
    },
    InvitationSent {
        invitation: Id,
        sender: Id,
        recipient: Id,
        #[serde(skip_serializing_if = "Option::is_none")]
        supersedes: Option<Id>,
    },
    InvitationReceived {
        invitation: Id,
        sender: Id,
        recipient: Id,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a Note>,
    },
    InvitationAccepted {
        invitation: Id,
        sender: Id,
        recipient: Id,
    },
    InvitationRejected {
        invitation: Id,
        sender: Id,
        recipient: Id,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a Note>,
    },
    InvitationIgnored {
        invitation: Id,
        recipient: Id,
    },
    InvitationWithdrawn {
        invitation: Id,
        sender: Id,
    },
    ConnectionCreated {
        a: Id,
        b: Id,
    },
    StandingChanged {
        member: Id,
        from: &'static str,
        to: &'static str,
        reasons: Vec<WireSignal>,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<Instant>,
    },
    QuotaExhausted {
        member: Id,
        retry_at: Instant,
    },
    ConnectionRemoved {
        by: Id,
        other: Id,
    },
    MemberBlocked {
        blocker: Id,
        blocked: Id,
    },
    MemberUnblocked {
        blocker: Id,
        unblocked: Id,
    },
    MemberReported {
        reporter: Id,
        target: Id,
    },
    CompanyFollowed {
        member: Id,
        company: Id,
    },
    CompanyUnfollowed {
        member: Id,
        company: Id,
    },
    GroupJoined {
        member: Id,
        group: Id,
    },
    GroupLeft {
        member: Id,
        group: Id,
    },
    SuggestionDismissed {
        member: Id,
        dismissed: Id,
    },
    ContactsImported {
        owner: Id,
        added: usize,
    },
    JoinInvitationSent {
        invitation: Id,
        sender: Id,
        email: &'a Email,
    },
    JoinInvitationReceived {
        invitation: Id,
        sender: Id,
        email: &'a Email,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a Note>,
    },
    OptedOut {
        email: &'a Email,
    },
}

/// A standing [`Signal`] on the wire: `{"type": "without_note", "percent":
/// 85}`, `{"type": "not_known"}`.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // The fields are those of `Signal`.
pub enum WireSignal {
    WithoutNote { percent: u8 },
    OutsideNetwork { percent: u8 },
    Unanswered { percent: u8 },
    Rejected { percent: u8 },
    NotKnown,
    Reported,
    Burst { sends: u32 },
}

impl ToWire for Signal {
    type Wire<'a> = WireSignal;
    fn to_wire(&self) -> WireSignal {
        match *self {
            Signal::WithoutNote { percent } => WireSignal::WithoutNote { percent },
            Signal::OutsideNetwork { percent } => WireSignal::OutsideNetwork { percent },
            Signal::Unanswered { percent } => WireSignal::Unanswered { percent },
            Signal::Rejected { percent } => WireSignal::Rejected { percent },
            Signal::NotKnown => WireSignal::NotKnown,
            Signal::Reported => WireSignal::Reported,
            Signal::Burst { sends } => WireSignal::Burst { sends },
        }
    }
}

impl ToWire for Event {
    type Wire<'a> = WireEvent<'a>;
    fn to_wire(&self) -> WireEvent<'_> {
        use WireEvent as W;
        match self {
            Event::MemberRegistered { member } => W::MemberRegistered {
                member: id(*member),
            },
            Event::MemberDeactivated { member } => W::MemberDeactivated {
                member: id(*member),
            },
            Event::InvitationSent {
                invitation,
                sender,
                recipient,
                supersedes,
            } => W::InvitationSent {
                invitation: id(*invitation),
                sender: id(*sender),
                recipient: id(*recipient),
                supersedes: supersedes.map(id),
            },
            Event::InvitationReceived {
                invitation,
                sender,
                recipient,
                note,
            } => W::InvitationReceived {
                invitation: id(*invitation),
                sender: id(*sender),
                recipient: id(*recipient),
                note: note.as_ref(),
            },
            Event::InvitationAccepted {
                invitation,
                sender,
                recipient,
            } => W::InvitationAccepted {
                invitation: id(*invitation),
                sender: id(*sender),
                recipient: id(*recipient),
            },
            Event::InvitationRejected {
                invitation,
                sender,
                recipient,
                note,
            } => W::InvitationRejected {
                invitation: id(*invitation),
                sender: id(*sender),
                recipient: id(*recipient),
                note: note.as_ref(),
            },
            Event::InvitationIgnored {
                invitation,
                recipient,
            } => W::InvitationIgnored {
                invitation: id(*invitation),
                recipient: id(*recipient),
            },
            Event::InvitationWithdrawn { invitation, sender } => W::InvitationWithdrawn {
                invitation: id(*invitation),
                sender: id(*sender),
            },
            Event::ConnectionCreated { a, b } => W::ConnectionCreated {
                a: id(*a),
                b: id(*b),
            },
            Event::StandingChanged {
                member,
                from,
                to,
                reasons,
                until,
            } => W::StandingChanged {
                member: id(*member),
                from: level_name(*from),
                to: level_name(*to),
                reasons: reasons.to_wire(),
                until: until.map(at),
            },
            Event::QuotaExhausted { member, retry_at } => W::QuotaExhausted {
                member: id(*member),
                retry_at: at(*retry_at),
            },
            Event::ConnectionRemoved { by, other } => W::ConnectionRemoved {
                by: id(*by),
                other: id(*other),
            },
            Event::MemberBlocked { blocker, blocked } => W::MemberBlocked {
                blocker: id(*blocker),
                blocked: id(*blocked),
            },
            Event::MemberUnblocked { blocker, unblocked } => W::MemberUnblocked {
                blocker: id(*blocker),
                unblocked: id(*unblocked),
            },
            Event::MemberReported { reporter, target } => W::MemberReported {
                reporter: id(*reporter),
                target: id(*target),
            },
            Event::CompanyFollowed { member, company } => W::CompanyFollowed {
                member: id(*member),
                company: id(*company),
            },
            Event::CompanyUnfollowed { member, company } => W::CompanyUnfollowed {
                member: id(*member),
                company: id(*company),
            },
            Event::GroupJoined { member, group } => W::GroupJoined {
                member: id(*member),
                group: id(*group),
            },
            Event::GroupLeft { member, group } => W::GroupLeft {
                member: id(*member),
                group: id(*group),
            },
            Event::SuggestionDismissed { member, dismissed } => W::SuggestionDismissed {
                member: id(*member),
                dismissed: id(*dismissed),
            },
            Event::ContactsImported { owner, added } => W::ContactsImported {
                owner: id(*owner),
                added: *added,
            },
            Event::JoinInvitationSent {
                invitation,
                sender,
                email,
            } => W::JoinInvitationSent {
                invitation: id(*invitation),
                sender: id(*sender),
                email,
            },
            Event::JoinInvitationReceived {
                invitation,
                sender,
                email,
                note,
            } => W::JoinInvitationReceived {
                invitation: id(*invitation),
                sender: id(*sender),
                email,
                note: note.as_ref(),
            },
            Event::OptedOut { email } => W::OptedOut { email },
        }
    }
}

/// A [`Published`] event on the wire: `{"id": "12.0", "at": "...",
/// "event": {"type": ...}}`.
#[derive(Clone, Debug, Serialize)]
pub struct WirePublished<'a> {
    id: Text<EventId>,
    at: Instant,
    event: WireEvent<'a>,
}

impl ToWire for Published {
    type Wire<'a> = WirePublished<'a>;
    fn to_wire(&self) -> WirePublished<'_> {
        WirePublished {
            id: Text(self.id),
            at: at(self.at),
            event: self.event.to_wire(),
        }
    }
}

/// An [`EventPage`] on the wire: `{"events": [...], "cursor": "17"}`.
#[derive(Clone, Debug, Serialize)]
pub struct WireEventPage<'a> {
    events: Vec<WirePublished<'a>>,
    cursor: Text<ChangeCursor>,
}

impl ToWire for EventPage {
    type Wire<'a> = WireEventPage<'a>;
    fn to_wire(&self) -> WireEventPage<'_> {
        WireEventPage {
            events: self.events.to_wire(),
            cursor: Text(self.cursor),
        }
    }
}
