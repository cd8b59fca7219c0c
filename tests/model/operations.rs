//! The operations a case is made of.

use super::*;

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

/// The limits of one case (SPEC 4, and SPEC 2's connection cap). Quotas
/// and allowances are per [`WINDOW`], for Free and `Premium(0)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) quota: [u32; 2],
    pub(crate) notes: Option<[u32; 2]>,
    pub(crate) outstanding: u32,
    pub(crate) connections: u32,
}

impl Default for Limits {
    /// SPEC.md's defaults (and pronet's 600 for paid levels).
    fn default() -> Self {
        Self {
            quota: [300, 600],
            notes: None,
            outstanding: 5_000,
            connections: 30_000,
        }
    }
}

impl Limits {
    pub(crate) fn quota(self, premium: bool) -> u32 {
        self.quota[usize::from(premium)]
    }

    pub(crate) fn notes(self, premium: bool) -> Option<u32> {
        self.notes.map(|n| n[usize::from(premium)])
    }
}

/// A person's starting profile.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PersonSetup {
    pub(crate) premium: bool,
    pub(crate) preference: InvitePreference,
    pub(crate) alt_email: bool,
}

/// The note a send carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoteKind {
    Absent,
    Valid,
    /// Only whitespace, tab included: no note.
    Blank,
    /// 200 graphemes of `e` + combining acute (600 bytes): fits every tier.
    Exactly200,
    /// 201 graphemes: too long for Free, fine for paid tiers.
    Long201,
    /// A tab at byte 2.
    Control,
    /// A right-to-left override at byte 3.
    Bidi,
}

impl NoteKind {
    pub(crate) fn text(self) -> Option<String> {
        match self {
            Self::Absent => None,
            Self::Valid => Some("Hi 👋🏽, we met at RustConf.\r\nLet's connect!".to_owned()),
            Self::Blank => Some("  \n\t ".to_owned()),
            Self::Exactly200 => Some("e\u{301}".repeat(200)),
            Self::Long201 => Some(format!("{}👍🏽", "a".repeat(200))),
            Self::Control => Some("hi\tthere".to_owned()),
            Self::Bidi => Some("abc\u{202E}def".to_owned()),
        }
    }

    /// The model's note rule (SPEC 3.5), by construction of the texts.
    pub(crate) fn expected(self, premium: bool) -> Result<Option<String>, NoteError> {
        match self {
            Self::Absent | Self::Blank => Ok(None),
            Self::Valid | Self::Exactly200 => Ok(self.text()),
            Self::Long201 if premium => Ok(self.text()),
            Self::Long201 => Err(NoteError::TooLong {
                chars: 201,
                max: 200,
            }),
            Self::Control => Err(NoteError::ControlCharacter {
                position: 2,
                character: '\t',
            }),
            Self::Bidi => Err(NoteError::BidiOverride {
                position: 3,
                character: '\u{202E}',
            }),
        }
    }
}

/// The email proof a send carries.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ProofKind {
    Absent,
    /// One of the recipient's own addresses, maybe in capitals.
    Right {
        which: usize,
        loud: bool,
    },
    /// One of [`OTHER_ADDRESSES`].
    Wrong(usize),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Answer {
    Accept,
    Ignore(IgnoreReason),
    Reject,
    Withdraw,
}

/// Who acts on an invitation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Actor {
    /// The recipient for answers, the sender for a withdrawal.
    Natural,
    /// The sender for answers, the recipient for a withdrawal.
    OtherParty,
    /// Anyone at all.
    Member(u64),
}

/// Which invitation an operation names.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// The n-th newest.
    Recent(usize),
    /// Any, by index in id order.
    Any(usize),
    /// One that does not exist.
    Missing(u64),
}

/// An instant a jump lands on (plus or minus a microsecond).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Boundary {
    /// The direction's last send + 90 days.
    Ladder90,
    /// The direction's last send + 365 days.
    Ladder365,
    /// The invitation's send + 180 days.
    Expiry,
    /// The direction's last withdrawal (or else last send) + 21 days.
    Cooldown,
}

/// What happens right after a boundary jump, on the jumped-to pair.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FollowUp {
    Resend(NoteKind, ProofKind),
    Reverse(ProofKind),
    Accept,
    Withdraw,
    Ignore(IgnoreReason),
}

/// What happens to one invitation of [`Op::Burst`] right after it is sent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Settle {
    Leave,
    Accept,
    /// Accepted, then the connection removed by the sender or the recipient:
    /// the pair may be invited again at once.
    AcceptRemove {
        by_sender: bool,
    },
    Reject,
    Ignore(IgnoreReason),
    Withdraw,
}

/// One send of [`Op::Burst`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shot {
    /// With a valid note, or none.
    pub(crate) note: bool,
    /// The clock moves on this much first.
    pub(crate) gap: i64,
    pub(crate) settle: Settle,
}

/// Which pair an unblock, report or removal names.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pick {
    /// The n-th standing block, report or connection, by the blocker (the
    /// reporter, the lower id), or swapped.
    Existing { n: usize, swap: bool },
    /// Any two.
    Pair(u64, u64),
}

/// What [`Pick::Existing`] picks from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Among {
    Blocks,
    Connections,
    Reports,
}

/// One rung of [`Op::Climb`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rung {
    /// This rung is sent the other way, by the climb's recipient.
    pub(crate) swap: bool,
    /// Try one microsecond before the earliest send first.
    pub(crate) early: bool,
    /// Withdraw this many days after the send.
    pub(crate) withdraw_after: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) enum Op {
    Send {
        sender: u64,
        recipient: u64,
        note: NoteKind,
        proof: ProofKind,
    },
    Answer {
        answer: Answer,
        actor: Actor,
        target: Target,
    },
    AddContacts {
        owner: u64,
        /// Indices into [`address_pool`], and whether in capitals.
        addresses: Vec<(usize, bool)>,
    },
    Update {
        member: u64,
        preference: InvitePreference,
        alt_email: bool,
        /// A new tier (paid or not), or the same.
        premium: Option<bool>,
    },
    /// A send with the recipient's address, then their accept: grows the
    /// graph so that shared connections come into play.
    Befriend {
        a: u64,
        b: u64,
    },
    /// Climbs the re-send ladder of one direction: each rung jumps to the
    /// model's earliest next send (optionally one microsecond before it
    /// first), sends, and may withdraw some days later.
    Climb {
        sender: u64,
        recipient: u64,
        proof: ProofKind,
        rungs: Vec<Rung>,
    },
    /// A send with the recipient's address, their answer, a re-send as
    /// soon as the ladder allows, and maybe the recipient inviting back: the
    /// paths of bars, dropped sends and crossings.
    Spurn {
        a: u64,
        b: u64,
        answer: Answer,
        invite_back: bool,
        /// The sender withdraws the second send before any invite back
        /// (a dropped one after "I don't know": the crossing must still
        /// accept the invitation the recipient knows).
        withdraw: bool,
    },
    /// Sends from one member to the others in turn, each then settled:
    /// the quota, note allowance and outstanding boundaries.
    Burst {
        sender: u64,
        /// Where in the others the turn starts.
        start: usize,
        shots: Vec<Shot>,
        /// Flip the sender's tier before this shot.
        flip: Option<usize>,
        /// At the end, each recipient still invited accepts, newest first
        /// (the connection cap).
        finale: bool,
    },
    Block {
        actor: u64,
        other: u64,
    },
    Unblock(Pick),
    Report(Pick, ReportReason),
    Remove(Pick),
    /// A blocks B; maybe B tries to unblock, maybe B tries to block back (refused as
    /// for a missing member, nothing recorded);
    /// A unblocks and at once blocks again (too soon); maybe A blocks again
    /// at the end of the 48-hour wait, nudged by a microsecond or not.
    Feud {
        a: u64,
        b: u64,
        wrong_unblock: bool,
        back: bool,
        reblock: Option<i64>,
    },
    Deactivate(u64),
    /// PD3: erase a member's personal data.
    Erase(u64),
    /// PD3: a whole retention pass, this many records a call.
    Retention(usize),
    Advance(i64),
    /// The clock jumps backwards by this much: by `advance` or by `set`.
    Rewind {
        back: i64,
        set: bool,
    },
    /// The clock is set this far inside `Timestamp::MAX` (or `MIN`).
    Extreme {
        high: bool,
        inside: i64,
    },
    Jump {
        target: Target,
        boundary: Boundary,
        nudge: i64,
        then: FollowUp,
    },
}
