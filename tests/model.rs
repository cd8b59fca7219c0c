//! Model-based property test for invitations, quotas and blocks:
//! RELIABILITY.md sections I (I1 to I6 and I8 to I10), Q (Q1 to Q5) and B
//! (B1, B2, B4 and B5 in lockstep) against SPEC.md sections 3, 4, 5 and 7.
//!
//! A real `Network<MemoryStore, ManualClock>` and a deliberately naive model
//! run the same random sequence of operations in lockstep. The model keeps
//! plain `BTreeMap`s and `BTreeSet`s: members (with their tier), imported
//! contacts (owner and lowercased address), connections as ordered
//! `(u64, u64)` pairs, every invitation with its status and delivery, per
//! direction of a pair the unanswered count, last send, last withdrawal and
//! bar, every member's successful sends (instant, with a note or not), the
//! blocks (blocker, blocked, since), the last unblock of each pair, and the
//! reports (reporter, target, reason, instant). Shared connections are a set
//! intersection and degrees a breadth-first search over the connection set,
//! minus the members hidden from the viewer; quotas are a count over the
//! sends in the window, and the instant a quota frees up is found by trying
//! each send's exit from the window in turn. There is no store, no graph
//! index, no pair record and no ledger in the model.
//!
//! Time: the model keeps the clock as the host set it and its own effective
//! "now", the latest clock reading so far, which is what `Network::now()`
//! keeps (a process-wide high-water mark; decisions also take the latest
//! instant recorded in the facts they read, which in one process never
//! exceeds it). All instant arithmetic saturates at `Timestamp::MIN` and
//! `Timestamp::MAX`, as the crate's does.
//!
//! Each case draws its limits: three cases in ten SPEC.md's defaults (an
//! invitation quota of 300 per 30 days for Free and pronet's 600 for paid
//! levels, no note allowance, 5,000 outstanding, 30,000 connections), the
//! others an invitation quota per 30 days of 2 to 4 for Free and the same or
//! up to 2 more for `Premium(0)`, a note allowance per 30 days (none, or 1
//! to 2 for Free and the same or up to 2 more for `Premium(0)`), an
//! outstanding cap (2, 3 or 5,000: with six persons a sender never has more
//! than five invitations pending) and a connection cap (2 to 4, or 30,000).
//!
//! Operations: sends between six persons, a company page, a member
//! deactivated at the start and an id never registered, with notes (none,
//! valid, blank, exactly 200 graphemes, 201 graphemes, a control character, a
//! bidirectional override) and email proofs (none, the recipient's address in
//! any case, someone else's); accept, ignore (plain, "I don't know", spam),
//! reject and withdraw by the natural party, the wrong party or anyone, on
//! recent, older or non-existent invitations; imported contacts; preference,
//! email and tier changes; rare deactivations; block, unblock (mostly of a
//! standing block, by its blocker or by the blocked member), report (every
//! reason) and connection removal (mostly of an existing connection, by
//! either side); clock advances of minutes, days and hundreds of days;
//! clock jumps backwards (a second to a year, by `advance` or `set`, often
//! several in a case, and the clock then moves on from where it was put);
//! rare jumps of the clock to `Timestamp::MAX` or `Timestamp::MIN` (or a
//! little inside them), after which the case carries on at the end of time;
//! and jumps to exactly (or one microsecond either side of) a direction's
//! 90-day and 365-day ladder steps, its 21-day withdraw cooldown or an
//! invitation's 180-day expiry, each followed at once by a send, a reverse
//! send or an answer on that pair. Compound operations help the runs get
//! somewhere: befriending (a send with the recipient's address, then their
//! accept) grows the graph so that shared connections matter; spurning (a
//! send, the recipient's ignore, "I don't know", spam report or reject, the
//! sender's re-send as soon as allowed, and maybe the recipient inviting
//! back) reaches bars, dropped sends and crossings; climbing sends again and
//! again in one direction, each rung at the model's earliest allowed instant
//! (tried one microsecond early first, sometimes sent the other way,
//! sometimes withdrawn days later); bursts send from one member to the
//! others in turn, minutes to days apart, with or without notes, each
//! invitation then left, accepted, accepted and the connection removed (so
//! the pair may be invited again at once), rejected, ignored or withdrawn,
//! and the sender's tier maybe flipped half-way, which reaches the quota,
//! note allowance and outstanding boundaries; and feuds (a block, the
//! blocked member's attempt to unblock, a silent block back, the unblock,
//! an immediate re-block, and a re-block exactly at, or a microsecond
//! either side of, the 48-hour wait).
//!
//! After every transition the test compares the answer (refusal variants
//! with their fields, every `retry_at` exactly), the events (the exact list,
//! `QuotaExhausted` included), every stored invitation, the connections,
//! each person's connection count in their ledger, every block list and
//! report record, every member's inbox, held and sent lists (ids, order,
//! notes, mutual counts), every member's view of every invitation, and every
//! member's `Network::degree` and `Network::mutual_count` of every member
//! with the model, then checks on the real network, independently of the
//! model's answers:
//!
//! - I1 at most one open (pending or ignored, unexpired) invitation per
//!   unordered pair, from `MemoryStore::snapshot`;
//! - I2 no open invitation between connected members;
//! - I3 a non-party's accept, ignore, reject or withdraw, the sender's
//!   answer and the recipient's withdrawal all get `InvitationNotFound`;
//! - I4 every answer is repeated at once and must answer the same, with no
//!   events and an unchanged store;
//! - I5 an invitation's status (as the sender sees it: open past the
//!   expiry is expired), once accepted, rejected, withdrawn, superseded,
//!   expired or cancelled, never changes again;
//! - I6 after a reject the sender's send is refused with `Barred` (probed
//!   every step); after "I don't know" or spam, no later invitation from the
//!   sender is delivered, listed, viewable by the recipient or announced by
//!   an `InvitationReceived` event;
//! - I8 the ladder and cooldown at their exact boundaries (via the model);
//! - I9 a send to a member with a live invitation to the sender answers
//!   `Connected`, and leaves the two connected with no open invitation;
//! - I10 `Network::invitation` answers only the sender and the recipient,
//!   note included; anyone else gets `InvitationNotFound`;
//! - Q1 at each stored invitation's send, its sender's invitations within
//!   the 30 days up to it number at most the quota of the tier the sender
//!   had then, and those with a note at most the note allowance;
//! - Q2 invitations are stored with non-decreasing send instants in id
//!   order, and no instant stored anywhere (invitations, blocks, reports)
//!   lies beyond the latest clock reading (plus the lockstep answers at and
//!   after every backward jump: no refill, no wait ended early);
//! - Q3 only `Sent` outcomes store an invitation, and the quota counts only
//!   those (via the model: refused sends and crossing sends count nothing);
//! - Q4 tier changes use the new tier's limits over the same sends (via
//!   the model, and Q1 with the tier at each send);
//! - Q5 nothing panics at or near `Timestamp::MAX` and `Timestamp::MIN`, and
//!   the answers there still match the model's saturating arithmetic;
//! - B1 no connection (in the store or the graph) and no open invitation
//!   between two members blocked either way, from the stored block lists;
//! - B2 while a block stands, probes of every operation between the two
//!   (sends both ways, removal both ways, the blocked member's report,
//!   accept, ignore, reject and withdraw of every invitation between them
//!   by its party) are refused as for a missing member (`YouBlocked` for
//!   the blocker's send) and write nothing;
//! - B4 (for the reads this test makes) no list shows, no invitation view
//!   reveals, and `degree` and `mutual_count` refuse as unknown, a member
//!   hidden from the viewer by a block either way;
//! - B5 a block disappears from the store only by its blocker's unblock;
//!   the blocked member's unblock answers `UnknownMember` and writes nothing.
//!
//! Not covered here (see `tests/invitations.rs` and `tests/blocks.rs`): I7
//! and B3 (the two-worlds tests of ignore's and a block's silence) and B6's
//! privacy (the model checks only that a reporter counts once per target,
//! through the stored reports and the exact events).
//!
//! Where SPEC.md leaves a choice open, the model follows the code and says
//! so in a comment: what a recipient sees of an ignored invitation later
//! superseded or expired, a stronger second ignore, a withdrawal after a
//! party is deactivated, a crossing send's note, which sends reset the
//! recipient's own ladder, what the outstanding cap counts, what a block
//! does to the ladder, and what happens at the end of time.
//!
//! Spam standing (SPEC 5, tested in `tests/limits.rs`) is not modelled: its
//! sample, report and burst thresholds are out of reach, so it never
//! changes (a change would show as a `StandingChanged` event or a refusal
//! the model does not expect).
//!
//! The property runs 256 cases of up to 60 operations by default; the
//! standard `PROPTEST_CASES` environment variable overrides the count. The
//! test prints the cases and transitions it ran.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::TimeDelta;
use pronet::block::BlockList;
use pronet::invitation::{Delivery, Invitation, Status};
use pronet::note::NoteError;
use pronet::quota::Quota;
use pronet::record::{Key, Record};
use pronet::standing::StandingPolicy;
use pronet::{
    Clock, Degree, Email, Error, Event, IgnoreReason, InvitationId, InvitePreference, Kind,
    ManualClock, Member, MemberId, MemoryStore, Network, Note, PageSize, Policy, Profile, Refusal,
    ReportReason, Seen, SendOutcome, Tier, Timestamp,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestRunner};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

const MINUTE: i64 = 60_000_000;
const DAY: i64 = 86_400_000_000;
/// SPEC 3.2 `pending_expiry`.
const EXPIRY: i64 = 180 * DAY;
/// SPEC 3.3: the wait after one unanswered attempt.
const WAIT_1: i64 = 90 * DAY;
/// SPEC 3.3: the wait after two unanswered attempts.
const WAIT_2: i64 = 365 * DAY;
/// SPEC 3.2 `withdraw_cooldown`.
const COOLDOWN: i64 = 21 * DAY;
/// 2024-01-01T00:00:00Z.
const START: i64 = 1_704_067_200_000_000;
/// SPEC 4: the rolling window of the invitation quota and note allowance.
const WINDOW: i64 = 30 * DAY;
/// SPEC 7: re-blocking the same member waits this long after unblocking.
const REBLOCK: i64 = 48 * 60 * MINUTE;
/// The earliest and latest instants, in microseconds.
const TMIN: i64 = Timestamp::MIN.as_micros();
const TMAX: i64 = Timestamp::MAX.as_micros();

/// The persons, active from the start.
const PERSONS: [u64; 6] = [1, 2, 3, 4, 5, 6];
/// A company page.
const COMPANY: u64 = 7;
/// A person deactivated right after registering.
const GONE: u64 = 8;
/// An id never registered.
const UNKNOWN: u64 = 99;
/// Everyone an operation or a check may name.
const EVERYONE: [u64; 9] = [1, 2, 3, 4, 5, 6, COMPANY, GONE, UNKNOWN];
/// Invitation ids from here on are never allocated.
const MISSING: u64 = 1 << 40;

const MAX_STEPS: usize = 60;
const DEFAULT_CASES: u32 = 256;

/// Addresses used as wrong proofs: some belong to other members, one to
/// nobody, one is another member's address in capitals.
const OTHER_ADDRESSES: [&str; 5] = [
    "stranger@example.net",
    "p1@example.com",
    "p2.alt@example.org",
    "jobs@company7.example",
    "P3@EXAMPLE.COM",
];

static CASES_RUN: AtomicU64 = AtomicU64::new(0);
static TRANSITIONS: AtomicU64 = AtomicU64::new(0);
static PROBES: AtomicU64 = AtomicU64::new(0);
/// How often each kind of outcome was seen, to show what the runs reach.
static OUTCOMES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Counts an outcome under a short label: the variant, without its fields.
fn tally<O: std::fmt::Debug>(what: &str, result: &Answered<O>) {
    let short = |text: String| {
        let cut = text.find(['{', '(']).unwrap_or(text.len());
        text[..cut].trim().to_owned()
    };
    count(match result {
        Ok((o, events)) => format!(
            "{what}: {} ({} events)",
            short(format!("{o:?}")),
            events.len()
        ),
        Err(r) => format!("{what}: {}", short(format!("{r:?}"))),
    });
}

fn count(label: String) {
    *OUTCOMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(label)
        .or_default() += 1;
}

fn mid(raw: u64) -> MemberId {
    MemberId::new(raw)
}

fn iid(raw: u64) -> InvitationId {
    InvitationId::new(raw)
}

fn ts(micros: i64) -> Timestamp {
    Timestamp::from_micros(micros)
}

/// An instant kept within `Timestamp::MIN..=Timestamp::MAX`.
fn clamp(micros: i64) -> i64 {
    micros.clamp(TMIN, TMAX)
}

/// `at + delta`, saturating at the ends of time.
fn plus(at: i64, delta: i64) -> i64 {
    clamp(at.saturating_add(delta))
}

/// `at - delta`, saturating at the ends of time.
fn minus(at: i64, delta: i64) -> i64 {
    clamp(at.saturating_sub(delta))
}

/// The unordered pair as an ordered tuple.
fn pair(a: u64, b: u64) -> (u64, u64) {
    if a < b { (a, b) } else { (b, a) }
}

/// The naive canonical form of the ASCII addresses used here.
fn canon(address: &str) -> String {
    address.trim().to_lowercase()
}

fn primary_address(id: u64) -> String {
    match id {
        COMPANY => "jobs@company7.example".to_owned(),
        _ => format!("p{id}@example.com"),
    }
}

fn alt_address(id: u64) -> String {
    format!("p{id}.alt@example.org")
}

/// Every address the contact imports draw from.
fn address_pool() -> Vec<String> {
    let mut pool: Vec<String> = PERSONS.iter().map(|&p| primary_address(p)).collect();
    pool.extend(PERSONS.iter().map(|&p| alt_address(p)));
    pool.push(primary_address(COMPANY));
    pool.push(primary_address(GONE));
    pool.push("stranger@example.net".to_owned());
    pool
}

fn shout(address: &str, loud: bool) -> String {
    if loud {
        address.to_uppercase()
    } else {
        address.to_owned()
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(DEFAULT_CASES)
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

/// The limits of one case (SPEC 4, and SPEC 2's connection cap). Quotas
/// and allowances are per [`WINDOW`], for Free and `Premium(0)`.
#[derive(Clone, Copy, Debug)]
struct Limits {
    quota: [u32; 2],
    notes: Option<[u32; 2]>,
    outstanding: u32,
    connections: u32,
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
    fn quota(self, premium: bool) -> u32 {
        self.quota[usize::from(premium)]
    }

    fn notes(self, premium: bool) -> Option<u32> {
        self.notes.map(|n| n[usize::from(premium)])
    }
}

/// A person's starting profile.
#[derive(Clone, Copy, Debug)]
struct PersonSetup {
    premium: bool,
    preference: InvitePreference,
    alt_email: bool,
}

/// The note a send carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoteKind {
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
    fn text(self) -> Option<String> {
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
    fn expected(self, premium: bool) -> Result<Option<String>, NoteError> {
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
enum ProofKind {
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
enum Answer {
    Accept,
    Ignore(IgnoreReason),
    Reject,
    Withdraw,
}

/// Who acts on an invitation.
#[derive(Clone, Copy, Debug)]
enum Actor {
    /// The recipient for answers, the sender for a withdrawal.
    Natural,
    /// The sender for answers, the recipient for a withdrawal.
    OtherParty,
    /// Anyone at all.
    Member(u64),
}

/// Which invitation an operation names.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// The n-th newest.
    Recent(usize),
    /// Any, by index in id order.
    Any(usize),
    /// One that does not exist.
    Missing(u64),
}

/// An instant a jump lands on (plus or minus a microsecond).
#[derive(Clone, Copy, Debug)]
enum Boundary {
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
enum FollowUp {
    Resend(NoteKind, ProofKind),
    Reverse(ProofKind),
    Accept,
    Withdraw,
    Ignore(IgnoreReason),
}

/// What happens to one invitation of [`Op::Burst`] right after it is sent.
#[derive(Clone, Copy, Debug)]
enum Settle {
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
struct Shot {
    /// With a valid note, or none.
    note: bool,
    /// The clock moves on this much first.
    gap: i64,
    settle: Settle,
}

/// Which pair an unblock, report or removal names.
#[derive(Clone, Copy, Debug)]
enum Pick {
    /// The n-th standing block, report or connection, by the blocker (the
    /// reporter, the lower id), or swapped.
    Existing { n: usize, swap: bool },
    /// Any two.
    Pair(u64, u64),
}

/// What [`Pick::Existing`] picks from.
#[derive(Clone, Copy, Debug)]
enum Among {
    Blocks,
    Connections,
    Reports,
}

/// One rung of [`Op::Climb`].
#[derive(Clone, Copy, Debug)]
struct Rung {
    /// This rung is sent the other way, by the climb's recipient.
    swap: bool,
    /// Try one microsecond before the earliest send first.
    early: bool,
    /// Withdraw this many days after the send.
    withdraw_after: Option<i64>,
}

#[derive(Clone, Debug)]
enum Op {
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
    /// A blocks B; maybe B tries to unblock, maybe B blocks back (silently);
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

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn preference() -> impl Strategy<Value = InvitePreference> {
    prop_oneof![
        6 => Just(InvitePreference::Anyone),
        2 => Just(InvitePreference::EmailOrContacts),
        1 => Just(InvitePreference::ContactsOnly),
    ]
}

fn person_setup() -> impl Strategy<Value = PersonSetup> {
    (prop::bool::weighted(0.3), preference(), any::<bool>()).prop_map(
        |(premium, preference, alt_email)| PersonSetup {
            premium,
            preference,
            alt_email,
        },
    )
}

fn who() -> impl Strategy<Value = u64> {
    prop_oneof![
        18 => prop::sample::select(PERSONS.to_vec()),
        1 => Just(COMPANY),
        1 => Just(GONE),
        1 => Just(UNKNOWN),
    ]
}

fn note_kind() -> impl Strategy<Value = NoteKind> {
    prop_oneof![
        5 => Just(NoteKind::Absent),
        4 => Just(NoteKind::Valid),
        1 => Just(NoteKind::Blank),
        1 => Just(NoteKind::Exactly200),
        2 => Just(NoteKind::Long201),
        1 => Just(NoteKind::Control),
        1 => Just(NoteKind::Bidi),
    ]
}

fn proof_kind() -> impl Strategy<Value = ProofKind> {
    prop_oneof![
        3 => Just(ProofKind::Absent),
        5 => (0usize..2, prop::bool::weighted(0.3))
            .prop_map(|(which, loud)| ProofKind::Right { which, loud }),
        2 => (0..OTHER_ADDRESSES.len()).prop_map(ProofKind::Wrong),
    ]
}

fn reason() -> impl Strategy<Value = IgnoreReason> {
    prop_oneof![
        3 => Just(IgnoreReason::Ignored),
        2 => Just(IgnoreReason::DontKnow),
        1 => Just(IgnoreReason::Spam),
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => Just(Answer::Accept),
        3 => reason().prop_map(Answer::Ignore),
        2 => Just(Answer::Reject),
        3 => Just(Answer::Withdraw),
    ]
}

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        8 => Just(Actor::Natural),
        1 => Just(Actor::OtherParty),
        2 => who().prop_map(Actor::Member),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => (0usize..3).prop_map(Target::Recent),
        3 => (0usize..64).prop_map(Target::Any),
        1 => (0u64..4).prop_map(Target::Missing),
    ]
}

fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![
        // Minutes.
        4 => (1i64..=600).prop_map(|m| m * MINUTE),
        // 1 to 30 days, on the day or anywhere within it.
        5 => (1i64..=30, prop_oneof![Just(0i64), 0..DAY]).prop_map(|(d, j)| d * DAY + j),
        // 60 to 400 days.
        3 => (60i64..=400).prop_map(|d| d * DAY),
    ]
}

fn boundary() -> impl Strategy<Value = Boundary> {
    prop_oneof![
        Just(Boundary::Ladder90),
        Just(Boundary::Ladder365),
        Just(Boundary::Expiry),
        Just(Boundary::Cooldown),
    ]
}

fn follow_up() -> impl Strategy<Value = FollowUp> {
    prop_oneof![
        5 => (note_kind(), proof_kind()).prop_map(|(n, p)| FollowUp::Resend(n, p)),
        2 => proof_kind().prop_map(FollowUp::Reverse),
        2 => Just(FollowUp::Accept),
        1 => Just(FollowUp::Withdraw),
        1 => reason().prop_map(FollowUp::Ignore),
    ]
}

/// Three cases in ten have SPEC.md's roomy defaults (so that the
/// invitation rules get room), the others tight limits that runs reach.
fn limits() -> impl Strategy<Value = Limits> {
    let tight = (
        (2u32..=4, 0u32..=2).prop_map(|(free, more)| [free, free + more]),
        prop_oneof![
            2 => Just(None),
            3 => (1u32..=2, 0u32..=2).prop_map(|(free, more)| Some([free, free + more])),
        ],
        prop_oneof![3 => 2u32..=3, 1 => Just(5_000)],
        prop_oneof![3 => Just(30_000), 2 => 2u32..=4],
    )
        .prop_map(|(quota, notes, outstanding, connections)| Limits {
            quota,
            notes,
            outstanding,
            connections,
        });
    prop_oneof![3 => Just(Limits::default()), 7 => tight]
}

fn settle() -> impl Strategy<Value = Settle> {
    prop_oneof![
        6 => Just(Settle::Leave),
        2 => Just(Settle::Accept),
        3 => any::<bool>().prop_map(|by_sender| Settle::AcceptRemove { by_sender }),
        1 => Just(Settle::Reject),
        1 => reason().prop_map(Settle::Ignore),
        2 => Just(Settle::Withdraw),
    ]
}

fn shot() -> impl Strategy<Value = Shot> {
    (
        prop::bool::weighted(0.6),
        prop_oneof![
            3 => Just(0i64),
            3 => (1i64..=600).prop_map(|m| m * MINUTE),
            2 => (1i64..=12).prop_map(|d| d * DAY),
        ],
        settle(),
    )
        .prop_map(|(note, gap, settle)| Shot { note, gap, settle })
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        3 => (0usize..16, prop::bool::weighted(0.25)).prop_map(|(n, swap)| Pick::Existing { n, swap }),
        1 => two().prop_map(|(a, b)| Pick::Pair(a, b)),
    ]
}

fn report_reason() -> impl Strategy<Value = ReportReason> {
    prop_oneof![
        Just(ReportReason::Spam),
        Just(ReportReason::Fake),
        Just(ReportReason::Harassment),
        Just(ReportReason::Other),
    ]
}

/// A second to a year.
fn rewind() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => (1i64..=60).prop_map(|s| s * 1_000_000),
        2 => (1i64..=600).prop_map(|m| m * MINUTE),
        3 => (1i64..=30).prop_map(|d| d * DAY),
        1 => (31i64..=365).prop_map(|d| d * DAY),
        1 => Just(365 * DAY),
    ]
}

/// A sender and a recipient: mostly two distinct persons.
fn two() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![
        12 => (prop::sample::select(PERSONS.to_vec()), 1usize..PERSONS.len())
            .prop_map(|(a, k)| (a, PERSONS[(PERSONS.iter().position(|&p| p == a).unwrap() + k) % PERSONS.len()])),
        3 => (who(), who()),
    ]
}

fn rung() -> impl Strategy<Value = Rung> {
    (
        prop::bool::weighted(0.25),
        any::<bool>(),
        prop_oneof![
            3 => Just(None),
            1 => prop_oneof![Just(0i64), 1i64..=20, Just(70), Just(75), Just(85)].prop_map(Some),
        ],
    )
        .prop_map(|(swap, early, withdraw_after)| Rung {
            swap,
            early,
            withdraw_after,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        26 => (two(), note_kind(), proof_kind()).prop_map(|((sender, recipient), note, proof)| {
            Op::Send { sender, recipient, note, proof }
        }),
        5 => two().prop_map(|(a, b)| Op::Befriend { a, b }),
        3 => (
            two(),
            prop_oneof![
                3 => reason().prop_map(Answer::Ignore),
                1 => Just(Answer::Reject),
            ],
            any::<bool>(),
        )
            .prop_map(|((a, b), answer, invite_back)| Op::Spurn { a, b, answer, invite_back }),
        4 => (two(), proof_kind(), vec(rung(), 1..=4)).prop_map(|((sender, recipient), proof, rungs)| {
            Op::Climb { sender, recipient, proof, rungs }
        }),
        28 => (answer(), actor(), target())
            .prop_map(|(answer, actor, target)| Op::Answer { answer, actor, target }),
        5 => (who(), vec((0..address_pool().len(), prop::bool::weighted(0.3)), 1..4))
            .prop_map(|(owner, addresses)| Op::AddContacts { owner, addresses }),
        3 => (
            who(),
            preference(),
            any::<bool>(),
            prop_oneof![1 => Just(None), 2 => any::<bool>().prop_map(Some)],
        )
            .prop_map(|(member, preference, alt_email, premium)| {
                Op::Update { member, preference, alt_email, premium }
            }),
        6 => (
            prop::sample::select(PERSONS.to_vec()),
            0usize..5,
            vec(shot(), 1..=6),
            prop_oneof![2 => Just(None), 1 => (0usize..6).prop_map(Some)],
            prop::bool::weighted(0.3),
        )
            .prop_map(|(sender, start, shots, flip, finale)| Op::Burst { sender, start, shots, flip, finale }),
        4 => two().prop_map(|(actor, other)| Op::Block { actor, other }),
        3 => pick().prop_map(Op::Unblock),
        2 => (pick(), report_reason()).prop_map(|(who, reason)| Op::Report(who, reason)),
        3 => pick().prop_map(Op::Remove),
        2 => (
            two(),
            any::<bool>(),
            any::<bool>(),
            prop_oneof![1 => Just(None), 3 => prop_oneof![Just(-1i64), Just(0i64), Just(1i64)].prop_map(Some)],
        )
            .prop_map(|((a, b), wrong_unblock, back, reblock)| Op::Feud { a, b, wrong_unblock, back, reblock }),
        1 => who().prop_map(Op::Deactivate),
        12 => advance().prop_map(Op::Advance),
        5 => (rewind(), any::<bool>()).prop_map(|(back, set)| Op::Rewind { back, set }),
        1 => (
            any::<bool>(),
            prop_oneof![Just(0i64), Just(1i64), Just(DAY), Just(WINDOW), (1i64..=400).prop_map(|d| d * DAY)],
        )
            .prop_map(|(high, inside)| Op::Extreme { high, inside }),
        8 => (target(), boundary(), prop_oneof![Just(-1i64), Just(0i64), Just(0i64), Just(1i64)], follow_up())
            .prop_map(|(target, boundary, nudge, then)| Op::Jump { target, boundary, nudge, then }),
    ]
}

fn scenario() -> impl Strategy<Value = (Limits, Vec<PersonSetup>, Vec<Op>)> {
    (
        limits(),
        vec(person_setup(), PERSONS.len()),
        vec(op(), 1..=MAX_STEPS),
    )
}

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct MMember {
    person: bool,
    active: bool,
    premium: bool,
    preference: InvitePreference,
    /// As written.
    emails: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MStatus {
    Pending,
    Ignored(IgnoreReason),
    Accepted,
    Rejected,
    Withdrawn,
    Superseded,
    Expired,
    /// Removed by a block (SPEC 7).
    Cancelled,
}

impl MStatus {
    fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Ignored(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MDelivery {
    Inbox,
    Held,
    Dropped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MBar {
    Rejected,
    DontKnow,
}

#[derive(Clone, Debug)]
struct MInvitation {
    sender: u64,
    recipient: u64,
    note: Option<String>,
    sent_at: i64,
    status: MStatus,
    delivery: MDelivery,
}

/// One direction of a pair's history.
#[derive(Clone, Copy, Debug, Default)]
struct Direction {
    unanswered: u32,
    last_sent: Option<i64>,
    withdrawn_at: Option<i64>,
    bar: Option<MBar>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum List {
    Inbox,
    Held,
    Sent,
}

/// What a list item shows: id, other party, note, sent at, mutual count.
type Item = (u64, u64, Option<String>, i64, usize);
/// What a view shows: sender, recipient, note, sent at, seen.
type View = (u64, u64, Option<String>, i64, Seen);
type Answered<O> = Result<(O, Vec<Event>), Refusal>;
/// A degree and a mutual count, as `Network::degree` and
/// `Network::mutual_count` answer them.
type GraphRead = (Result<Degree, Refusal>, Result<usize, Refusal>);
/// A probe's events, or its refusal.
type Probed = Result<Vec<Event>, Refusal>;
/// Connections, blocks and active members.
type GraphState = (BTreeSet<(u64, u64)>, BTreeSet<(u64, u64)>, BTreeSet<u64>);

#[derive(Clone, Debug, Default)]
struct Model {
    /// The clock, as the host set it.
    clock: i64,
    /// The effective time: the latest clock reading so far (SPEC 4: a clock
    /// that goes backwards never refills a quota or shortens a wait).
    now: i64,
    limits: Limits,
    members: BTreeMap<u64, MMember>,
    /// (owner, canonical address).
    contacts: BTreeSet<(u64, String)>,
    /// Ordered pairs; kept when a member is deactivated, as the store does.
    connections: BTreeSet<(u64, u64)>,
    invitations: BTreeMap<u64, MInvitation>,
    /// (sender, recipient) to that direction's history.
    directions: BTreeMap<(u64, u64), Direction>,
    /// (reporter, reported) to the reason and instant of the first report,
    /// counted once per reporter (SPEC 7): a spam answer's or a member
    /// report's.
    reports: BTreeMap<(u64, u64), (ReportReason, i64)>,
    /// (blocker, blocked) to when.
    blocks: BTreeMap<(u64, u64), i64>,
    /// (blocker, unblocked) to when the block was last lifted.
    unblocked: BTreeMap<(u64, u64), i64>,
    /// Each sender's successful sends: when, and whether with a note.
    sends: BTreeMap<u64, Vec<(i64, bool)>>,
}

/// SPEC 4, naively: `None` if one more event fits at `now` among `events`
/// (at most `limit` in any window of `window`), or else the first instant
/// from which one does: the earliest exit of an event from the window after
/// which fewer than `limit` remain (the end of time if none).
fn quota_retry(events: &[i64], limit: u32, window: i64, now: i64) -> Option<i64> {
    let within = |at: i64| events.iter().filter(|&&t| t > minus(at, window)).count();
    if within(now) < limit as usize {
        return None;
    }
    let mut exits: Vec<i64> = events
        .iter()
        .map(|&t| plus(t, window))
        .filter(|&at| at > now)
        .collect();
    exits.sort_unstable();
    Some(
        exits
            .into_iter()
            .find(|&at| within(at) < limit as usize)
            .unwrap_or(TMAX),
    )
}

impl Model {
    fn active(&self, id: u64) -> bool {
        self.members.get(&id).is_some_and(|m| m.active)
    }

    /// The clock is set to `at`; the network reads it at once.
    fn set_clock(&mut self, at: i64) {
        self.clock = clamp(at);
        self.now = self.now.max(self.clock);
    }

    /// Whether either blocked the other.
    fn between(&self, a: u64, b: u64) -> bool {
        self.blocks.contains_key(&(a, b)) || self.blocks.contains_key(&(b, a))
    }

    /// Members hidden from `viewer`: blocked by or blocking them.
    fn hidden(&self, viewer: u64) -> BTreeSet<u64> {
        self.blocks
            .keys()
            .filter_map(|&(x, y)| match () {
                () if x == viewer => Some(y),
                () if y == viewer => Some(x),
                () => None,
            })
            .collect()
    }

    /// Whether `viewer` may see `other`: active and not hidden by a block.
    fn sees(&self, viewer: u64, other: u64) -> bool {
        self.active(other) && !self.between(viewer, other)
    }

    /// Connections counted against the cap: deactivation does not end
    /// them (the store keeps them), removal and blocks do.
    fn connection_count(&self, m: u64) -> usize {
        self.connections
            .iter()
            .filter(|&&(x, y)| x == m || y == m)
            .count()
    }

    /// SPEC 2's connection cap, the sender's side first.
    fn below_cap(&self, first: u64, second: u64) -> Result<(), Refusal> {
        let cap = self.limits.connections;
        for m in [first, second] {
            if self.connection_count(m) >= cap as usize {
                return Err(Refusal::ConnectionCap {
                    member: mid(m),
                    cap,
                });
            }
        }
        Ok(())
    }

    fn person(&self, id: u64) -> Result<MMember, Refusal> {
        match self.members.get(&id) {
            Some(m) if m.active && m.person => Ok(m.clone()),
            Some(m) if m.active => Err(Refusal::NotAPerson(mid(id))),
            _ => Err(Refusal::UnknownMember(mid(id))),
        }
    }

    fn connected(&self, a: u64, b: u64) -> bool {
        self.connections.contains(&pair(a, b))
    }

    /// Active connections of an active member.
    fn friends(&self, a: u64) -> BTreeSet<u64> {
        if !self.active(a) {
            return BTreeSet::new();
        }
        self.connections
            .iter()
            .filter_map(|&(x, y)| match () {
                () if x == a => Some(y),
                () if y == a => Some(x),
                () => None,
            })
            .filter(|&o| self.active(o))
            .collect()
    }

    /// Connections `viewer` shares with `other`, as the viewer may see
    /// them (SPEC 2: a member hidden from the viewer carries no path).
    fn mutual(&self, viewer: u64, other: u64) -> usize {
        let hidden = self.hidden(viewer);
        self.friends(viewer)
            .intersection(&self.friends(other))
            .filter(|m| !hidden.contains(m))
            .count()
    }

    /// SPEC 2, for `viewer`: the degree and the mutual count of each of
    /// `others` as the viewer sees them (members hidden from the viewer, by
    /// a block either way, or by deactivation, are unknown and carry no
    /// path), by a plain breadth-first search to depth 3 and set
    /// intersections over the connection set.
    fn graph_reads(&self, viewer: u64, others: &[u64]) -> BTreeMap<u64, GraphRead> {
        if !self.active(viewer) {
            let unknown = Refusal::UnknownMember(mid(viewer));
            return others
                .iter()
                .map(|&o| (o, (Err(unknown.clone()), Err(unknown.clone()))))
                .collect();
        }
        let hidden = self.hidden(viewer);
        let seen = |m: u64| self.active(m) && !hidden.contains(&m);
        let mut links: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for &(x, y) in &self.connections {
            if seen(x) && seen(y) {
                links.entry(x).or_default().insert(y);
                links.entry(y).or_default().insert(x);
            }
        }
        let mut dist = BTreeMap::from([(viewer, 0)]);
        let mut queue = VecDeque::from([viewer]);
        while let Some(x) = queue.pop_front() {
            let d = dist[&x];
            if d == 3 {
                continue;
            }
            for &y in links.get(&x).into_iter().flatten() {
                dist.entry(y).or_insert_with(|| {
                    queue.push_back(y);
                    d + 1
                });
            }
        }
        let none = BTreeSet::new();
        let mine = links.get(&viewer).unwrap_or(&none);
        others
            .iter()
            .map(|&o| {
                if !seen(o) {
                    let unknown = Refusal::UnknownMember(mid(o));
                    return (o, (Err(unknown.clone()), Err(unknown)));
                }
                let degree = match dist.get(&o) {
                    Some(0) => Degree::Yourself,
                    Some(1) => Degree::First,
                    Some(2) => Degree::Second,
                    Some(3) => Degree::Third,
                    _ => Degree::OutOfNetwork,
                };
                let mutual = if o == viewer {
                    0
                } else {
                    mine.intersection(links.get(&o).unwrap_or(&none)).count()
                };
                (o, (Ok(degree), Ok(mutual)))
            })
            .collect()
    }

    fn live(&self, inv: &MInvitation) -> bool {
        inv.status.is_open() && self.now < plus(inv.sent_at, EXPIRY)
    }

    /// The pair's open invitation, found by scanning them all.
    fn open_between(&self, a: u64, b: u64) -> Option<u64> {
        let open: Vec<u64> = self
            .invitations
            .iter()
            .filter(|(_, i)| pair(i.sender, i.recipient) == pair(a, b) && i.status.is_open())
            .map(|(&id, _)| id)
            .collect();
        assert!(open.len() <= 1, "model: two open invitations {open:?}");
        open.first().copied()
    }

    fn direction(&self, sender: u64, recipient: u64) -> Direction {
        self.directions
            .get(&(sender, recipient))
            .copied()
            .unwrap_or_default()
    }

    fn direction_mut(&mut self, sender: u64, recipient: u64) -> &mut Direction {
        self.directions.entry((sender, recipient)).or_default()
    }

    /// When the ladder and the cooldown next let `s` invite `r` (for
    /// choosing jump targets only; `send` decides), or `None` for never.
    fn earliest(&self, s: u64, r: u64) -> Option<i64> {
        let dir = self.direction(s, r);
        let wait = [0, WAIT_1, WAIT_2].get(dir.unanswered as usize)?;
        let ladder = dir.last_sent.map_or(TMIN, |t| plus(t, *wait));
        let cooldown = dir.withdrawn_at.map_or(TMIN, |t| plus(t, COOLDOWN));
        Some(ladder.max(cooldown))
    }

    fn seen_by_sender(&self, inv: &MInvitation) -> Seen {
        match inv.status {
            MStatus::Pending | MStatus::Ignored(_) if !self.live(inv) => Seen::Expired,
            MStatus::Pending | MStatus::Ignored(_) => Seen::Pending,
            MStatus::Accepted => Seen::Accepted,
            MStatus::Rejected => Seen::Rejected,
            MStatus::Withdrawn => Seen::Withdrawn,
            MStatus::Superseded => Seen::Superseded,
            MStatus::Expired => Seen::Expired,
            MStatus::Cancelled => Seen::Cancelled,
        }
    }

    /// `None`: the invitation does not exist for the recipient.
    fn seen_by_recipient(&self, inv: &MInvitation) -> Option<Seen> {
        // A dropped invitation never reaches the recipient, unless they
        // accepted it by inviting the sender in turn (a crossing send).
        if inv.delivery == MDelivery::Dropped && inv.status != MStatus::Accepted {
            return None;
        }
        match inv.status {
            MStatus::Pending if !self.live(inv) => Some(Seen::Expired),
            MStatus::Pending if inv.delivery == MDelivery::Held => Some(Seen::Held),
            MStatus::Pending => Some(Seen::Pending),
            // SPEC.md does not say what recipients see of an invitation they
            // ignored once it expires or the sender sends again. The code
            // shows `Ignored` until a later send stores `Expired` or
            // `Superseded` over it, and then `Expired` or nothing; the model
            // follows it (the stored status is compared exactly), and I5 is
            // checked on the status as the sender sees it.
            MStatus::Ignored(_) => Some(Seen::Ignored),
            MStatus::Accepted => Some(Seen::Accepted),
            MStatus::Rejected => Some(Seen::Rejected),
            MStatus::Expired => Some(Seen::Expired),
            MStatus::Cancelled => Some(Seen::Cancelled),
            MStatus::Withdrawn | MStatus::Superseded => None,
        }
    }

    /// SPEC 3.1. `fresh` is the id the real network gave a new invitation.
    fn send(
        &mut self,
        s: u64,
        r: u64,
        note: NoteKind,
        proof: Option<&str>,
        fresh: Option<u64>,
    ) -> Answered<SendOutcome> {
        let sender = self.person(s)?;
        if s == r {
            return Err(Refusal::SelfInvitation);
        }
        // 2. A member who blocked the sender does not exist for them (SPEC
        // 3.4), so this comes before the recipient's own checks; the
        // sender's own block comes after them (SPEC 3.1's order).
        if self.blocks.contains_key(&(r, s)) {
            return Err(Refusal::UnknownMember(mid(r)));
        }
        let recipient = self.person(r)?;
        if self.blocks.contains_key(&(s, r)) {
            return Err(Refusal::YouBlocked(mid(r)));
        }
        if self.connected(s, r) {
            return Err(Refusal::AlreadyConnected);
        }
        self.below_cap(s, r)?;
        // A crossing send connects before the bar, ladder and eligibility
        // checks (SPEC 3.1 says "instead"); its note goes nowhere, but an
        // invalid one is still refused.
        let open = self.open_between(s, r);
        if let Some(id) = open {
            let inv = &self.invitations[&id];
            if inv.sender == r && self.live(inv) {
                note.expected(sender.premium)?;
                let events = self.connect(id);
                return Ok((SendOutcome::Connected { accepted: iid(id) }, events));
            }
        }
        let dir = self.direction(s, r);
        if dir.bar == Some(MBar::Rejected) {
            return Err(Refusal::Barred);
        }
        let wait = match dir.unanswered {
            0 => 0,
            1 => WAIT_1,
            2 => WAIT_2,
            _ => return Err(Refusal::ResendNever),
        };
        let ladder = dir.last_sent.map(|t| plus(t, wait));
        let cooldown = dir.withdrawn_at.map(|t| plus(t, COOLDOWN));
        if let Some(retry) = ladder.max(cooldown) {
            if self.now < retry {
                return Err(Refusal::ResendTooSoon {
                    retry_at: ts(retry),
                });
            }
        }
        let knows_email =
            proof.is_some_and(|p| recipient.emails.iter().any(|e| canon(e) == canon(p)));
        let in_contacts = recipient
            .emails
            .iter()
            .any(|e| self.contacts.contains(&(s, canon(e))));
        if !(self.mutual(s, r) >= 1 || knows_email || in_contacts) {
            return Err(Refusal::NotEligible { required: 1 });
        }
        let admitted = match recipient.preference {
            InvitePreference::Anyone => true,
            InvitePreference::EmailOrContacts => knows_email || in_contacts,
            InvitePreference::ContactsOnly => in_contacts,
            other => panic!("unknown preference {other:?}"),
        };
        let note = note.expected(sender.premium)?;
        // 8. Standing never changes under this test's policy. The
        // outstanding cap counts the sender's live invitations to active
        // members (those to members since deactivated are invisible to the
        // sender, who can neither list nor withdraw them), less one the send
        // supersedes.
        let outstanding = self
            .invitations
            .values()
            .filter(|i| i.sender == s && self.live(i) && self.person(i.recipient).is_ok())
            .count();
        let superseding = open.is_some_and(|id| {
            let inv = &self.invitations[&id];
            inv.sender == s && self.live(inv)
        });
        let max = self.limits.outstanding;
        if outstanding - usize::from(superseding) >= max as usize {
            return Err(Refusal::TooManyOutstanding { max });
        }
        // The quotas count every earlier successful send (dropped and held
        // ones too), whatever the tier was then (Q4); crossing sends and
        // refusals are not among them (Q3).
        let sends = self.sends.get(&s).cloned().unwrap_or_default();
        let at: Vec<i64> = sends.iter().map(|&(t, _)| t).collect();
        let limit = self.limits.quota(sender.premium);
        if let Some(retry) = quota_retry(&at, limit, WINDOW, self.now) {
            return Err(Refusal::QuotaExhausted {
                retry_at: ts(retry),
            });
        }
        if let (Some(_), Some(notes)) = (&note, self.limits.notes(sender.premium)) {
            let with_note: Vec<i64> = sends.iter().filter(|e| e.1).map(|e| e.0).collect();
            if let Some(retry) = quota_retry(&with_note, notes, WINDOW, self.now) {
                return Err(Refusal::NoteQuotaExhausted {
                    retry_at: ts(retry),
                });
            }
        }
        let delivery = if dir.bar == Some(MBar::DontKnow) {
            MDelivery::Dropped
        } else if admitted {
            MDelivery::Inbox
        } else {
            MDelivery::Held
        };

        let id = fresh.expect("the model sent an invitation the network did not");
        assert!(
            !self.invitations.contains_key(&id) && id < MISSING,
            "invitation id {id} reused"
        );
        let mut supersedes = None;
        if let Some(old) = open {
            let live = self.live(&self.invitations[&old]);
            let inv = self.invitations.get_mut(&old).unwrap();
            if live {
                assert_eq!(inv.sender, s, "model: the recipient's live invitation");
                inv.status = MStatus::Superseded;
                supersedes = Some(iid(old));
            } else {
                inv.status = MStatus::Expired;
            }
        }
        let now = self.now;
        let own = self.direction_mut(s, r);
        own.unanswered += 1;
        own.last_sent = Some(now);
        // "Unless the recipient invites the sender" (SPEC 3.3): a send the
        // recipient can see (delivered or held) counts; a dropped one must
        // change nothing the recipient can observe.
        if delivery != MDelivery::Dropped {
            self.direction_mut(r, s).unanswered = 0;
        }
        self.invitations.insert(
            id,
            MInvitation {
                sender: s,
                recipient: r,
                note: note.clone(),
                sent_at: now,
                status: MStatus::Pending,
                delivery,
            },
        );
        let mut events = vec![Event::InvitationSent {
            invitation: iid(id),
            sender: mid(s),
            recipient: mid(r),
            supersedes,
        }];
        let with_note = note.is_some();
        if delivery == MDelivery::Inbox {
            events.push(Event::InvitationReceived {
                invitation: iid(id),
                sender: mid(s),
                recipient: mid(r),
                note: note.map(|n| Note::parse(&n, 2_000).unwrap().unwrap()),
            });
        }
        let mine = self.sends.entry(s).or_default();
        mine.push((now, with_note));
        let at: Vec<i64> = mine.iter().map(|&(t, _)| t).collect();
        // The send that used the last slot says so (SPEC 6).
        if let Some(retry) = quota_retry(&at, limit, WINDOW, now) {
            events.push(Event::QuotaExhausted {
                member: mid(s),
                retry_at: ts(retry),
            });
        }
        Ok((SendOutcome::Sent(iid(id)), events))
    }

    fn connect(&mut self, id: u64) -> Vec<Event> {
        let inv = self.invitations.get_mut(&id).unwrap();
        inv.status = MStatus::Accepted;
        let (s, r) = (inv.sender, inv.recipient);
        self.connections.insert(pair(s, r));
        for (a, b) in [(s, r), (r, s)] {
            let dir = self.direction_mut(a, b);
            *dir = Direction {
                bar: dir.bar,
                ..Direction::default()
            };
        }
        vec![
            Event::InvitationAccepted {
                invitation: iid(id),
                sender: mid(s),
                recipient: mid(r),
            },
            Event::ConnectionCreated {
                a: mid(s),
                b: mid(r),
            },
        ]
    }

    /// The invitation as the acting recipient sees it, or not found.
    fn as_recipient(&self, actor: u64, id: u64) -> Result<Seen, Refusal> {
        let not_found = Refusal::InvitationNotFound(iid(id));
        let inv = self
            .invitations
            .get(&id)
            .filter(|i| i.recipient == actor)
            .ok_or(not_found.clone())?;
        // A party gone, or a block between them: it does not exist.
        if self.person(inv.sender).is_err()
            || self.person(inv.recipient).is_err()
            || self.between(inv.sender, inv.recipient)
        {
            return Err(not_found);
        }
        self.seen_by_recipient(inv).ok_or(not_found)
    }

    fn accept(&mut self, actor: u64, id: u64) -> Answered<()> {
        match self.as_recipient(actor, id)? {
            Seen::Pending | Seen::Held => {
                self.below_cap(self.invitations[&id].sender, actor)?;
                Ok(((), self.connect(id)))
            }
            Seen::Accepted => Ok(((), vec![])),
            seen => Err(Refusal::NotPending { seen }),
        }
    }

    fn ignore(&mut self, actor: u64, id: u64, reason: IgnoreReason) -> Answered<()> {
        let seen = self.as_recipient(actor, id)?;
        let earlier = match self.invitations[&id].status {
            MStatus::Ignored(r) => Some(r),
            _ => None,
        };
        match (seen, earlier) {
            (Seen::Pending | Seen::Held, _) => {}
            // A stronger answer to an ignored invitation applies (a plain
            // ignore later marked "I don't know", or reported); a weaker or
            // equal one is a repeat (the code's documented choice).
            (Seen::Ignored, Some(e)) if reason > e => {}
            (Seen::Ignored, _) => return Ok(((), vec![])),
            (seen, _) => return Err(Refusal::NotPending { seen }),
        }
        let inv = self.invitations.get_mut(&id).unwrap();
        inv.status = MStatus::Ignored(reason);
        let sender = inv.sender;
        if matches!(reason, IgnoreReason::DontKnow | IgnoreReason::Spam) {
            let dir = self.direction_mut(sender, actor);
            dir.bar = dir.bar.or(Some(MBar::DontKnow));
        }
        let mut events = vec![];
        // Spam is "I don't know" plus a report of the sender, recorded once
        // per reporter (SPEC 3.2 and 7).
        if reason == IgnoreReason::Spam && !self.reports.contains_key(&(actor, sender)) {
            let now = self.now;
            self.reports
                .insert((actor, sender), (ReportReason::Spam, now));
            events.push(Event::MemberReported {
                reporter: mid(actor),
                target: mid(sender),
            });
        }
        events.push(Event::InvitationIgnored {
            invitation: iid(id),
            recipient: mid(actor),
        });
        Ok(((), events))
    }

    fn reject(&mut self, actor: u64, id: u64) -> Answered<()> {
        match self.as_recipient(actor, id)? {
            Seen::Pending | Seen::Held => {}
            Seen::Rejected => return Ok(((), vec![])),
            seen => return Err(Refusal::NotPending { seen }),
        }
        let inv = self.invitations.get_mut(&id).unwrap();
        inv.status = MStatus::Rejected;
        let sender = inv.sender;
        self.direction_mut(sender, actor).bar = Some(MBar::Rejected);
        Ok((
            (),
            vec![Event::InvitationRejected {
                invitation: iid(id),
                sender: mid(sender),
                recipient: mid(actor),
                note: None,
            }],
        ))
    }

    fn withdraw(&mut self, actor: u64, id: u64) -> Answered<()> {
        let inv = self
            .invitations
            .get(&id)
            .filter(|i| i.sender == actor)
            .ok_or(Refusal::InvitationNotFound(iid(id)))?;
        // A party gone, or a block between them: the invitation does not
        // exist, as in the view and the sent list.
        if self.person(inv.sender).is_err()
            || self.person(inv.recipient).is_err()
            || self.between(inv.sender, inv.recipient)
        {
            return Err(Refusal::InvitationNotFound(iid(id)));
        }
        match self.seen_by_sender(inv) {
            Seen::Pending => {}
            Seen::Withdrawn => return Ok(((), vec![])),
            seen => return Err(Refusal::NotPending { seen }),
        }
        let recipient = inv.recipient;
        self.invitations.get_mut(&id).unwrap().status = MStatus::Withdrawn;
        let now = self.now;
        self.direction_mut(actor, recipient).withdrawn_at = Some(now);
        Ok((
            (),
            vec![Event::InvitationWithdrawn {
                invitation: iid(id),
                sender: mid(actor),
            }],
        ))
    }

    fn answer(&mut self, answer: Answer, actor: u64, id: u64) -> Answered<()> {
        match answer {
            Answer::Accept => self.accept(actor, id),
            Answer::Ignore(reason) => self.ignore(actor, id, reason),
            Answer::Reject => self.reject(actor, id),
            Answer::Withdraw => self.withdraw(actor, id),
        }
    }

    fn add_contacts(&mut self, owner: u64, addresses: &[String]) -> Answered<usize> {
        if !self.active(owner) {
            return Err(Refusal::UnknownMember(mid(owner)));
        }
        let new: BTreeSet<String> = addresses
            .iter()
            .map(|a| canon(a))
            .filter(|c| !self.contacts.contains(&(owner, c.clone())))
            .collect();
        let added = new.len();
        self.contacts.extend(new.into_iter().map(|c| (owner, c)));
        let events = if added > 0 {
            vec![Event::ContactsImported {
                owner: mid(owner),
                added,
            }]
        } else {
            vec![]
        };
        Ok((added, events))
    }

    fn update(
        &mut self,
        id: u64,
        preference: InvitePreference,
        alt_email: bool,
        premium: Option<bool>,
    ) -> Answered<()> {
        let member = self
            .members
            .get_mut(&id)
            .filter(|m| m.active)
            .ok_or(Refusal::UnknownMember(mid(id)))?;
        member.preference = preference;
        // A tier change keeps every earlier send in the window (Q4).
        member.premium = premium.unwrap_or(member.premium);
        if member.person {
            member.emails = vec![primary_address(id)];
            if alt_email {
                member.emails.push(alt_address(id));
            }
        }
        Ok(((), vec![]))
    }

    fn deactivate(&mut self, id: u64) -> Answered<()> {
        let member = self
            .members
            .get_mut(&id)
            .ok_or(Refusal::UnknownMember(mid(id)))?;
        if !member.active {
            return Ok(((), vec![]));
        }
        member.active = false;
        Ok(((), vec![Event::MemberDeactivated { member: mid(id) }]))
    }

    /// SPEC 7 (as `block::block` documents it): the actor and the other
    /// member must exist; a member who blocked the actor is answered as
    /// missing, though blocking back is still recorded (silently, so that
    /// it stands if the first block is lifted, B5); re-blocking within 48
    /// hours of unblocking is refused; blocking removes the connection and
    /// cancels the open invitation between the two, either way. The pair's
    /// ladder, cooldowns and bars stay as they were (the code's choice:
    /// SPEC.md is silent).
    fn block(&mut self, actor: u64, other: u64) -> Answered<()> {
        if !self.active(actor) {
            return Err(Refusal::UnknownMember(mid(actor)));
        }
        if actor == other {
            return Err(Refusal::Yourself);
        }
        if !self.active(other) {
            return Err(Refusal::UnknownMember(mid(other)));
        }
        let silent = self.blocks.contains_key(&(other, actor));
        let done = self.record_block(actor, other);
        if silent {
            return Err(Refusal::UnknownMember(mid(other)));
        }
        done.map(|events| ((), events))
    }

    fn record_block(&mut self, actor: u64, other: u64) -> Result<Vec<Event>, Refusal> {
        if self.blocks.contains_key(&(actor, other)) {
            return Ok(vec![]);
        }
        if let Some(&at) = self.unblocked.get(&(actor, other)) {
            let retry = plus(at, REBLOCK);
            if self.now < retry {
                return Err(Refusal::ReblockTooSoon {
                    retry_at: ts(retry),
                });
            }
        }
        self.blocks.insert((actor, other), self.now);
        // A pending invitation is cancelled; one past its expiry (which both
        // parties already see as expired, I5) is recorded as expired.
        if let Some(id) = self.open_between(actor, other) {
            let live = self.live(&self.invitations[&id]);
            let inv = self.invitations.get_mut(&id).unwrap();
            inv.status = if live {
                MStatus::Cancelled
            } else {
                MStatus::Expired
            };
        }
        self.connections.remove(&pair(actor, other));
        Ok(vec![Event::MemberBlocked {
            blocker: mid(actor),
            blocked: mid(other),
        }])
    }

    /// SPEC 7: only the blocker unblocks; nothing is restored. Lifting a
    /// block while the other member blocked the actor too is done, but
    /// answered as for a missing member.
    fn unblock(&mut self, actor: u64, other: u64) -> Answered<()> {
        if !self.blocks.contains_key(&(actor, other)) {
            self.visible(actor, other, false)?;
            return Ok(((), vec![]));
        }
        if !self.active(actor) {
            return Err(Refusal::UnknownMember(mid(actor)));
        }
        if !self.active(other) {
            return Err(Refusal::UnknownMember(mid(other)));
        }
        self.blocks.remove(&(actor, other));
        self.unblocked.insert((actor, other), self.now);
        if self.blocks.contains_key(&(other, actor)) {
            return Err(Refusal::UnknownMember(mid(other)));
        }
        Ok((
            (),
            vec![Event::MemberUnblocked {
                blocker: mid(actor),
                unblocked: mid(other),
            }],
        ))
    }

    /// The actor is active and not naming themself; the other member is
    /// active and did not block the actor (nor, with `also_blocked`, was
    /// blocked by them).
    fn visible(&self, actor: u64, other: u64, also_blocked: bool) -> Result<(), Refusal> {
        if !self.active(actor) {
            return Err(Refusal::UnknownMember(mid(actor)));
        }
        if actor == other {
            return Err(Refusal::Yourself);
        }
        if !self.active(other)
            || self.blocks.contains_key(&(other, actor))
            || also_blocked && self.blocks.contains_key(&(actor, other))
        {
            return Err(Refusal::UnknownMember(mid(other)));
        }
        Ok(())
    }

    /// SPEC 7: recorded with its reason, once per reporter and target; the
    /// blocker may report whom they blocked.
    fn report(&mut self, actor: u64, other: u64, reason: ReportReason) -> Answered<()> {
        self.visible(actor, other, false)?;
        if self.reports.contains_key(&(actor, other)) {
            return Ok(((), vec![]));
        }
        self.reports.insert((actor, other), (reason, self.now));
        Ok((
            (),
            vec![Event::MemberReported {
                reporter: mid(actor),
                target: mid(other),
            }],
        ))
    }

    /// SPEC 7: either side, silently to the other; no bar.
    fn remove(&mut self, actor: u64, other: u64) -> Answered<()> {
        self.visible(actor, other, true)?;
        if !self.connections.remove(&pair(actor, other)) {
            return Ok(((), vec![]));
        }
        Ok((
            (),
            vec![Event::ConnectionRemoved {
                by: mid(actor),
                other: mid(other),
            }],
        ))
    }

    fn list(&self, viewer: u64, which: List) -> Result<Vec<Item>, Refusal> {
        if !self.active(viewer) {
            return Err(Refusal::UnknownMember(mid(viewer)));
        }
        let mut items: Vec<Item> = self
            .invitations
            .iter()
            .filter_map(|(&id, inv)| {
                let other = match which {
                    List::Inbox | List::Held => {
                        let want = if which == List::Inbox {
                            Seen::Pending
                        } else {
                            Seen::Held
                        };
                        (inv.recipient == viewer
                            && self.seen_by_recipient(inv) == Some(want)
                            && self.sees(viewer, inv.sender))
                        .then_some(inv.sender)
                    }
                    List::Sent => (inv.sender == viewer
                        && self.seen_by_sender(inv) == Seen::Pending
                        && self.sees(viewer, inv.recipient))
                    .then_some(inv.recipient),
                }?;
                Some((
                    id,
                    other,
                    inv.note.clone(),
                    inv.sent_at,
                    self.mutual(viewer, other),
                ))
            })
            .collect();
        items.sort_by_key(|i| std::cmp::Reverse((i.3, i.0)));
        Ok(items)
    }

    fn view(&self, viewer: u64, id: u64) -> Result<View, Refusal> {
        let not_found = Refusal::InvitationNotFound(iid(id));
        let inv = self.invitations.get(&id).ok_or(not_found.clone())?;
        if !(self.active(inv.sender) && self.active(inv.recipient))
            || self.between(inv.sender, inv.recipient)
        {
            return Err(not_found);
        }
        let seen = if viewer == inv.sender {
            self.seen_by_sender(inv)
        } else if viewer == inv.recipient {
            self.seen_by_recipient(inv).ok_or(not_found)?
        } else {
            return Err(not_found);
        };
        Ok((
            inv.sender,
            inv.recipient,
            inv.note.clone(),
            inv.sent_at,
            seen,
        ))
    }

    /// Resolves a target to an invitation id (or a missing one).
    fn resolve(&self, target: Target) -> u64 {
        let ids: Vec<u64> = self.invitations.keys().copied().collect();
        match target {
            _ if ids.is_empty() => MISSING,
            Target::Recent(n) => ids[ids.len() - 1 - n % ids.len()],
            Target::Any(n) => ids[n % ids.len()],
            Target::Missing(k) => MISSING + k,
        }
    }
}

// ---------------------------------------------------------------------------
// The real network, read back
// ---------------------------------------------------------------------------

fn refused<O>(result: Result<pronet::Committed<O>, Error>) -> Answered<O> {
    match result {
        Ok(c) => Ok((c.outcome, c.events)),
        Err(Error::Refused(r)) => Err(r),
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

fn status_of(status: Status) -> MStatus {
    match status {
        Status::Pending => MStatus::Pending,
        Status::Ignored(r) => MStatus::Ignored(r),
        Status::Accepted => MStatus::Accepted,
        Status::Rejected => MStatus::Rejected,
        Status::Withdrawn => MStatus::Withdrawn,
        Status::Superseded => MStatus::Superseded,
        Status::Expired => MStatus::Expired,
        Status::Cancelled => MStatus::Cancelled,
        other => panic!("unknown status {other:?}"),
    }
}

fn delivery_of(delivery: Delivery) -> MDelivery {
    match delivery {
        Delivery::Inbox => MDelivery::Inbox,
        Delivery::Held => MDelivery::Held,
        Delivery::Dropped => MDelivery::Dropped,
        other => panic!("unknown delivery {other:?}"),
    }
}

/// The status as time has made it: open past the expiry is expired.
fn effective(status: MStatus, sent_at: i64, now: i64) -> MStatus {
    if status.is_open() && now >= plus(sent_at, EXPIRY) {
        MStatus::Expired
    } else {
        status
    }
}

/// What the store holds, decoded.
struct Snapshot {
    records: Vec<(Key, pronet::record::Versioned<Record>)>,
    invitations: BTreeMap<u64, Invitation>,
    members: BTreeMap<u64, Member>,
    connected: BTreeSet<(u64, u64)>,
    /// Every member's block list.
    blocks: BTreeMap<u64, BlockList>,
    /// (reporter, target) to reason and instant.
    reports: BTreeMap<(u64, u64), (ReportReason, i64)>,
    /// Each ledger's connection count.
    ledger_connections: BTreeMap<u64, u32>,
}

impl Snapshot {
    fn take(net: &Network<MemoryStore, ManualClock>) -> Self {
        let records = net.store().snapshot();
        let mut invitations = BTreeMap::new();
        let mut members = BTreeMap::new();
        let mut connected = BTreeSet::new();
        let mut blocks = BTreeMap::new();
        let mut reports = BTreeMap::new();
        let mut ledger_connections = BTreeMap::new();
        let block_records: Vec<_> = records
            .iter()
            .filter_map(|(_, v)| match &v.value {
                Record::Block(b) => Some(b),
                _ => None,
            })
            .collect();
        for b in &block_records {
            for m in [b.blocker, b.target] {
                blocks.insert(
                    m.get(),
                    BlockList::from_blocks(m, block_records.iter().copied()),
                );
            }
        }
        for (_, v) in &records {
            match &v.value {
                Record::Report(r) => {
                    reports.insert(
                        (r.reporter.get(), r.target.get()),
                        (r.reason, r.at.as_micros()),
                    );
                }
                Record::Ledger(l) => {
                    ledger_connections.insert(l.member.get(), l.connections);
                }
                Record::Invitation(i) => {
                    invitations.insert(i.id.get(), i.clone());
                }
                Record::Member(m) => {
                    members.insert(m.id.get(), m.clone());
                }
                Record::Pair(p) if p.connected_since.is_some() => {
                    connected.insert((p.key.low().get(), p.key.high().get()));
                }
                _ => {}
            }
        }
        Self {
            records,
            invitations,
            members,
            connected,
            blocks,
            reports,
            ledger_connections,
        }
    }

    /// Standing blocks, (blocker, blocked) to since, from the block lists.
    fn standing_blocks(&self) -> BTreeMap<(u64, u64), i64> {
        self.blocks
            .values()
            .flat_map(|b| {
                b.blocked
                    .iter()
                    .map(|(o, at)| ((b.member.get(), o.get()), at.as_micros()))
            })
            .collect()
    }

    /// Whether either blocked the other, from the block lists.
    fn between(&self, a: u64, b: u64) -> bool {
        self.blocks.get(&a).is_some_and(|l| l.hides(mid(b)))
    }

    /// Members hidden from `viewer`, from the viewer's block list.
    fn hidden(&self, viewer: u64) -> BTreeSet<u64> {
        self.blocks
            .get(&viewer)
            .map(|l| l.hidden().map(MemberId::get).collect())
            .unwrap_or_default()
    }

    /// Whether the ledger puts `m` at the connection cap.
    fn at_cap(&self, m: u64, cap: u32) -> bool {
        self.ledger_connections.get(&m).copied().unwrap_or(0) >= cap
    }

    /// The live invitation from `s` to `r`, if any.
    fn live(&self, s: u64, r: u64, now: i64) -> Option<u64> {
        self.invitations
            .values()
            .find(|i| {
                i.sender.get() == s
                    && i.recipient.get() == r
                    && effective(status_of(i.status), i.sent_at.as_micros(), now).is_open()
            })
            .map(|i| i.id.get())
    }
}

// ---------------------------------------------------------------------------
// The lockstep harness
// ---------------------------------------------------------------------------

struct World {
    net: Network<MemoryStore, ManualClock>,
    clock: ManualClock,
    model: Model,
    /// I5: every effective status each invitation has shown.
    history: BTreeMap<u64, Vec<MStatus>>,
    /// I6, kept from the real answers only: (sender, recipient) to the bar
    /// and the largest invitation id at the time it was set.
    bars: BTreeMap<(u64, u64), (MBar, u64)>,
    /// Q1: whether each invitation's sender was on a paid tier when sending.
    tier_at_send: BTreeMap<u64, bool>,
    /// Q1: invitations up to this id were checked.
    q1_checked: u64,
    /// Q2: the latest instant the clock was ever set to.
    max_clock: i64,
    /// B5: the blocks standing at the last check.
    last_blocks: BTreeSet<(u64, u64)>,
    /// B5: the (blocker, blocked) of the unblock being run, if any.
    unblocking: Option<(u64, u64)>,
    /// What the graph reads depend on (connections, blocks, active
    /// members, from the store) when they were last checked.
    graph_checked: Option<GraphState>,
    transitions: u64,
    probes: u64,
    /// The operation being run, for messages.
    step: usize,
}

impl World {
    fn new(limits: Limits, setup: &[PersonSetup]) -> Self {
        let clock = ManualClock::new(ts(START));
        let net = Network::open(MemoryStore::new(), clock.clone(), policy(limits)).unwrap();
        let mut model = Model {
            clock: START,
            now: START,
            limits,
            ..Model::default()
        };
        for (&id, p) in PERSONS.iter().zip(setup) {
            let mut emails = vec![primary_address(id)];
            if p.alt_email {
                emails.push(alt_address(id));
            }
            model.members.insert(
                id,
                MMember {
                    person: true,
                    active: true,
                    premium: p.premium,
                    preference: p.preference,
                    emails,
                },
            );
        }
        for (id, person) in [(COMPANY, false), (GONE, true)] {
            model.members.insert(
                id,
                MMember {
                    person,
                    active: true,
                    premium: false,
                    preference: InvitePreference::Anyone,
                    emails: vec![primary_address(id)],
                },
            );
        }
        for (&id, m) in &model.members {
            let _ = net.register(real_member(id, m)).unwrap();
        }
        let _ = net.deactivate(mid(GONE)).unwrap();
        model.members.get_mut(&GONE).unwrap().active = false;
        let mut world = Self {
            net,
            clock,
            model,
            history: BTreeMap::new(),
            bars: BTreeMap::new(),
            tier_at_send: BTreeMap::new(),
            q1_checked: 0,
            max_clock: START,
            last_blocks: BTreeSet::new(),
            unblocking: None,
            graph_checked: None,
            transitions: 0,
            probes: 0,
            step: 0,
        };
        world.check();
        world
    }

    fn run(&mut self, op: &Op) {
        match *op {
            Op::Send {
                sender,
                recipient,
                note,
                proof,
            } => self.send(sender, recipient, note, proof),
            Op::Answer {
                answer,
                actor,
                target,
            } => {
                let id = self.model.resolve(target);
                let actor = self.actor(actor, answer, id);
                self.answer(answer, actor, id);
            }
            Op::AddContacts {
                owner,
                ref addresses,
            } => {
                let pool = address_pool();
                let written: Vec<String> = addresses
                    .iter()
                    .map(|&(i, loud)| shout(&pool[i], loud))
                    .collect();
                let emails: Vec<Email> = written.iter().map(|a| Email::parse(a).unwrap()).collect();
                let real = refused(self.net.add_contacts(mid(owner), &emails));
                let expected = self.model.add_contacts(owner, &written);
                tally("add_contacts", &real);
                assert_eq!(real, expected, "add_contacts({owner}, {written:?})");
                self.transition(&real.map(|(_, e)| e).unwrap_or_default());
            }
            Op::Update {
                member,
                preference,
                alt_email,
                premium,
            } => self.update(member, preference, alt_email, premium),
            Op::Burst {
                sender,
                start,
                ref shots,
                flip,
                finale,
            } => {
                let first = self.model.invitations.keys().max().map_or(0, |&id| id + 1);
                self.burst(sender, start, shots, flip);
                if finale {
                    let mine: Vec<(u64, u64)> = self
                        .model
                        .invitations
                        .range(first..)
                        .filter(|(_, i)| i.sender == sender && self.model.live(i))
                        .map(|(&id, i)| (id, i.recipient))
                        .collect();
                    for (id, r) in mine.into_iter().rev() {
                        self.answer(Answer::Accept, r, id);
                    }
                }
            }
            Op::Block { actor, other } => self.block(actor, other),
            Op::Unblock(pick) => {
                let (a, b) = self.pick(pick, Among::Blocks);
                self.unblock(a, b);
            }
            Op::Report(pick, reason) => {
                let (a, b) = self.pick(pick, Among::Reports);
                self.report(a, b, reason);
            }
            Op::Remove(pick) => {
                let (a, b) = self.pick(pick, Among::Connections);
                self.remove(a, b);
            }
            Op::Feud {
                a,
                b,
                wrong_unblock,
                back,
                reblock,
            } => {
                self.block(a, b);
                if wrong_unblock {
                    self.unblock(b, a);
                }
                if back {
                    self.block(b, a);
                }
                self.unblock(a, b);
                self.block(a, b);
                if let (Some(nudge), Some(&at)) = (reblock, self.model.unblocked.get(&(a, b))) {
                    let at = plus(plus(at, REBLOCK), nudge);
                    if at > self.model.now {
                        self.advance_to(at);
                    }
                    self.block(a, b);
                }
            }
            Op::Befriend { a, b } => {
                let proof = ProofKind::Right {
                    which: 0,
                    loud: false,
                };
                self.send(a, b, NoteKind::Absent, proof);
                if let Some(id) = self.model.open_between(a, b) {
                    self.answer(Answer::Accept, b, id);
                }
            }
            Op::Spurn {
                a,
                b,
                answer,
                invite_back,
            } => {
                let proof = ProofKind::Right {
                    which: 0,
                    loud: false,
                };
                self.send(a, b, NoteKind::Absent, proof);
                if let Some(id) = self.model.open_between(a, b) {
                    self.answer(answer, b, id);
                }
                if let Some(at) = self.model.earliest(a, b).filter(|&t| t > self.model.now) {
                    self.advance_to(at);
                }
                self.send(a, b, NoteKind::Valid, proof);
                if invite_back {
                    self.send(b, a, NoteKind::Absent, proof);
                }
            }
            Op::Climb {
                sender,
                recipient,
                proof,
                ref rungs,
            } => {
                for rung in rungs {
                    let (s, r) = if rung.swap {
                        (recipient, sender)
                    } else {
                        (sender, recipient)
                    };
                    if let Some(at) = self.model.earliest(s, r) {
                        if rung.early && minus(at, 1) > self.model.now {
                            self.advance_to(minus(at, 1));
                            self.send(s, r, NoteKind::Absent, proof);
                        }
                        if at > self.model.now {
                            self.advance_to(at);
                        }
                    }
                    self.send(s, r, NoteKind::Absent, proof);
                    if let Some(days) = rung.withdraw_after {
                        if days > 0 {
                            self.advance_to(plus(self.model.now, days * DAY));
                        }
                        let open = self.model.open_between(s, r);
                        if let Some(id) = open.filter(|id| self.model.invitations[id].sender == s) {
                            self.answer(Answer::Withdraw, s, id);
                        }
                    }
                }
            }
            Op::Deactivate(id) => {
                let real = refused(self.net.deactivate(mid(id)));
                let expected = self.model.deactivate(id);
                tally("deactivate", &real);
                assert_eq!(real, expected, "deactivate({id})");
                self.transition(&real.map(|(_, e)| e).unwrap_or_default());
            }
            Op::Advance(delta) => {
                // From the clock, which may be behind the effective time.
                self.clock.advance(TimeDelta::microseconds(delta));
                self.set_clock(plus(self.model.clock, delta));
            }
            Op::Rewind { back, set } => {
                let at = minus(self.model.clock, back);
                if set {
                    self.clock.set(ts(at));
                } else {
                    self.clock.advance(TimeDelta::microseconds(-back));
                }
                count(format!(
                    "clock: back {}",
                    if set { "(set)" } else { "(advance)" }
                ));
                self.set_clock(at);
            }
            Op::Extreme { high, inside } => {
                let at = if high { TMAX - inside } else { TMIN + inside };
                self.clock.set(ts(at));
                count(format!(
                    "clock: to the {} of time",
                    if high { "end" } else { "start" }
                ));
                self.set_clock(at);
            }
            Op::Jump {
                target,
                boundary,
                nudge,
                then,
            } => {
                let id = self.model.resolve(target);
                let Some(inv) = self.model.invitations.get(&id).cloned() else {
                    return;
                };
                let (s, r) = (inv.sender, inv.recipient);
                let dir = self.model.direction(s, r);
                let at = match boundary {
                    Boundary::Ladder90 => dir.last_sent.map(|t| plus(t, WAIT_1)),
                    Boundary::Ladder365 => dir.last_sent.map(|t| plus(t, WAIT_2)),
                    Boundary::Expiry => Some(plus(inv.sent_at, EXPIRY)),
                    Boundary::Cooldown => dir
                        .withdrawn_at
                        .or(dir.last_sent)
                        .map(|t| plus(t, COOLDOWN)),
                };
                if let Some(at) = at.map(|t| plus(t, nudge)).filter(|&t| t > self.model.now) {
                    self.advance_to(at);
                }
                match then {
                    FollowUp::Resend(note, proof) => self.send(s, r, note, proof),
                    FollowUp::Reverse(proof) => self.send(r, s, NoteKind::Absent, proof),
                    FollowUp::Accept => self.answer(Answer::Accept, r, id),
                    FollowUp::Withdraw => self.answer(Answer::Withdraw, s, id),
                    FollowUp::Ignore(reason) => self.answer(Answer::Ignore(reason), r, id),
                }
            }
        }
    }

    fn actor(&self, actor: Actor, answer: Answer, id: u64) -> u64 {
        let Some(inv) = self.model.invitations.get(&id) else {
            return match actor {
                Actor::Member(m) => m,
                _ => PERSONS[0],
            };
        };
        let withdraw = matches!(answer, Answer::Withdraw);
        match actor {
            Actor::Natural if withdraw => inv.sender,
            Actor::Natural => inv.recipient,
            Actor::OtherParty if withdraw => inv.recipient,
            Actor::OtherParty => inv.sender,
            Actor::Member(m) => m,
        }
    }

    /// Sets the clock to `at` (ahead of the effective time, as a rule).
    fn advance_to(&mut self, at: i64) {
        self.clock.set(ts(clamp(at)));
        self.set_clock(at);
    }

    /// The clock was put at `at`: the model follows, and everything is
    /// checked (which reads the clock).
    fn set_clock(&mut self, at: i64) {
        self.model.set_clock(at);
        self.max_clock = self.max_clock.max(clamp(at));
        self.transition(&[]);
    }

    fn update(
        &mut self,
        member: u64,
        preference: InvitePreference,
        alt_email: bool,
        premium: Option<bool>,
    ) {
        let real = match self.model.members.get(&member) {
            Some(m) => {
                let mut next = m.clone();
                next.preference = preference;
                next.premium = premium.unwrap_or(next.premium);
                if next.person {
                    next.emails = vec![primary_address(member)];
                    if alt_email {
                        next.emails.push(alt_address(member));
                    }
                }
                refused(self.net.update_member(real_member(member, &next)))
            }
            None => refused(
                self.net
                    .update_member(Member::person(mid(member), Profile::named("nobody"))),
            ),
        };
        let changes_tier = self
            .model
            .members
            .get(&member)
            .is_some_and(|m| m.active && premium.is_some_and(|p| p != m.premium));
        let expected = self.model.update(member, preference, alt_email, premium);
        tally(
            if changes_tier {
                "update (tier)"
            } else {
                "update"
            },
            &real,
        );
        assert_eq!(real, expected, "step {}: update({member})", self.step);
        self.transition(&[]);
    }

    fn burst(&mut self, sender: u64, start: usize, shots: &[Shot], flip: Option<usize>) {
        let others: Vec<u64> = PERSONS.iter().copied().filter(|&p| p != sender).collect();
        let proof = ProofKind::Right {
            which: 0,
            loud: false,
        };
        for (k, shot) in shots.iter().enumerate() {
            if flip == Some(k) {
                if let Some(m) = self.model.members.get(&sender).cloned() {
                    let alt = m.emails.len() > 1;
                    self.update(sender, m.preference, alt, Some(!m.premium));
                }
            }
            if shot.gap > 0 {
                // From the clock, which may be behind the effective time.
                self.clock.advance(TimeDelta::microseconds(shot.gap));
                self.set_clock(plus(self.model.clock, shot.gap));
            }
            let r = others[(start + k) % others.len()];
            let note = if shot.note {
                NoteKind::Valid
            } else {
                NoteKind::Absent
            };
            self.send(sender, r, note, proof);
            let open = self.model.open_between(sender, r);
            let Some(id) = open.filter(|id| self.model.invitations[id].sender == sender) else {
                continue;
            };
            match shot.settle {
                Settle::Leave => {}
                Settle::Accept => self.answer(Answer::Accept, r, id),
                Settle::AcceptRemove { by_sender } => {
                    self.answer(Answer::Accept, r, id);
                    if by_sender {
                        self.remove(sender, r);
                    } else {
                        self.remove(r, sender);
                    }
                }
                Settle::Reject => self.answer(Answer::Reject, r, id),
                Settle::Ignore(reason) => self.answer(Answer::Ignore(reason), r, id),
                Settle::Withdraw => self.answer(Answer::Withdraw, sender, id),
            }
        }
    }

    /// The pair a [`Pick`] names: a standing block, connection or report,
    /// or any two.
    fn pick(&self, pick: Pick, among: Among) -> (u64, u64) {
        let existing: Vec<(u64, u64)> = match among {
            Among::Blocks => self.model.blocks.keys().copied().collect(),
            Among::Connections => self.model.connections.iter().copied().collect(),
            Among::Reports => self.model.reports.keys().copied().collect(),
        };
        match pick {
            Pick::Existing { n, swap } if !existing.is_empty() => {
                let (a, b) = existing[n % existing.len()];
                if swap { (b, a) } else { (a, b) }
            }
            Pick::Existing { n, .. } => (PERSONS[n % 6], PERSONS[(n + 1) % 6]),
            Pick::Pair(a, b) => (a, b),
        }
    }

    fn block(&mut self, actor: u64, other: u64) {
        let real = refused(self.net.block(mid(actor), mid(other)));
        let expected = self.model.block(actor, other);
        tally("block", &real);
        assert_eq!(
            real, expected,
            "step {}: block {actor} -> {other}",
            self.step
        );
        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    fn unblock(&mut self, actor: u64, other: u64) {
        self.unblocking = Some((actor, other));
        let real = refused(self.net.unblock(mid(actor), mid(other)));
        let expected = self.model.unblock(actor, other);
        tally("unblock", &real);
        assert_eq!(
            real, expected,
            "step {}: unblock {actor} -> {other}",
            self.step
        );
        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    fn report(&mut self, actor: u64, other: u64, reason: ReportReason) {
        let real = refused(self.net.report(mid(actor), mid(other), reason));
        let expected = self.model.report(actor, other, reason);
        tally("report", &real);
        assert_eq!(
            real, expected,
            "step {}: report {actor} -> {other} ({reason:?})",
            self.step
        );
        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    fn remove(&mut self, actor: u64, other: u64) {
        let real = refused(self.net.remove_connection(mid(actor), mid(other)));
        let expected = self.model.remove(actor, other);
        tally("remove", &real);
        assert_eq!(
            real, expected,
            "step {}: remove {actor} - {other}",
            self.step
        );
        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    fn proof(&self, recipient: u64, proof: ProofKind) -> Option<String> {
        match proof {
            ProofKind::Absent => None,
            ProofKind::Right { which, loud } => self
                .model
                .members
                .get(&recipient)
                .map(|m| shout(&m.emails[which % m.emails.len()], loud)),
            ProofKind::Wrong(i) => Some(OTHER_ADDRESSES[i].to_owned()),
        }
    }

    fn send(&mut self, s: u64, r: u64, note: NoteKind, proof: ProofKind) {
        let proof = self.proof(r, proof);
        let email = proof.as_deref().map(|p| Email::parse(p).unwrap());
        let text = note.text();
        let before = Snapshot::take(&self.net);
        let crossing = before.live(r, s, self.model.now);
        let both_active = self.net.graph().contains(mid(s)) && self.net.graph().contains(mid(r));

        let real = refused(
            self.net
                .send(mid(s), mid(r), text.as_deref(), email.as_ref()),
        );
        let fresh = match &real {
            Ok((SendOutcome::Sent(id), _)) => Some(id.get()),
            _ => None,
        };
        if let (Some(id), Some(m)) = (fresh, self.model.members.get(&s)) {
            self.tier_at_send.insert(id, m.premium);
        }
        let expected = self.model.send(s, r, note, proof.as_deref(), fresh);
        match &real {
            Ok((SendOutcome::Sent(id), _)) => count(format!(
                "send: Sent, {:?}",
                self.model.invitations[&id.get()].delivery
            )),
            other => tally("send", other),
        }
        if self.model.clock < self.model.now {
            // Q2: sends while the clock is behind the effective time.
            tally("send, clock behind", &real);
        }
        assert_eq!(
            real, expected,
            "step {}: send {s} -> {r}, note {note:?}, proof {proof:?}",
            self.step
        );

        // I9, from the store alone: a crossing send (with a valid note, if
        // any, and neither at the connection cap) connects, and leaves no
        // open invitation between the two.
        let note_refused = matches!(&real, Err(Refusal::InvalidNote(_)));
        let cap = self.model.limits.connections;
        let capped = before.at_cap(s, cap) || before.at_cap(r, cap);
        if let (Some(x), true, false, false) = (crossing, both_active, note_refused, capped) {
            assert!(
                matches!(&real, Ok((SendOutcome::Connected { accepted }, _)) if accepted.get() == x),
                "I9: send {s} -> {r} with {x} live from {r}: {real:?}"
            );
            let after = Snapshot::take(&self.net);
            assert!(after.live(s, r, self.model.now).is_none());
            assert!(after.live(r, s, self.model.now).is_none());
            assert!(self.net.graph().are_connected(mid(s), mid(r)));
        }
        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    fn run_answer(&self, answer: Answer, actor: u64, id: u64) -> Answered<()> {
        let (actor, id) = (mid(actor), iid(id));
        refused(match answer {
            Answer::Accept => self.net.accept(actor, id),
            Answer::Ignore(reason) => self.net.ignore(actor, id, reason),
            Answer::Reject => self.net.reject(actor, id),
            Answer::Withdraw => self.net.withdraw(actor, id),
        })
    }

    fn answer(&mut self, answer: Answer, actor: u64, id: u64) {
        let real = self.run_answer(answer, actor, id);
        let expected = self.model.answer(answer, actor, id);
        tally(&short_answer(answer), &real);
        assert_eq!(
            real, expected,
            "step {}: {answer:?} by {actor} on {id}",
            self.step
        );

        // I6 bookkeeping from the real answer.
        if let Ok((_, events)) = &real {
            let snapshot = Snapshot::take(&self.net);
            let newest = snapshot.invitations.keys().max().copied().unwrap_or(0);
            if let (false, Some(inv)) = (events.is_empty(), snapshot.invitations.get(&id)) {
                let key = (inv.sender.get(), actor);
                match answer {
                    Answer::Reject => {
                        self.bars.insert(key, (MBar::Rejected, newest));
                    }
                    Answer::Ignore(IgnoreReason::DontKnow | IgnoreReason::Spam) => {
                        self.bars.entry(key).or_insert((MBar::DontKnow, newest));
                    }
                    _ => {}
                }
            }
        }

        // I4: the same command again answers the same, with no events, and
        // changes nothing.
        let before = self.net.store().snapshot();
        let again = self.run_answer(answer, actor, id);
        let same = match &real {
            Ok(((), _)) => Ok(((), vec![])),
            Err(e) => Err(e.clone()),
        };
        assert_eq!(again, same, "I4: {answer:?} by {actor} on {id} repeated");
        assert_eq!(
            self.model.answer(answer, actor, id),
            same,
            "model: repeat of {answer:?}"
        );
        assert!(self.net.store().snapshot() == before, "I4: a repeat wrote");
        self.probes += 1;

        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    /// Counts a transition and checks everything.
    fn transition(&mut self, events: &[Event]) {
        self.transitions += 1;
        for e in events {
            let name = format!("{e:?}");
            count(format!(
                "event: {}",
                &name[..name.find([' ', '{']).unwrap_or(name.len())]
            ));
        }
        // I6: a barred direction never produces a delivery.
        for e in events {
            if let Event::InvitationReceived {
                sender, recipient, ..
            } = e
            {
                assert!(
                    !self.bars.contains_key(&(sender.get(), recipient.get())),
                    "I6: {sender} -> {recipient} delivered after a bar: {e:?}"
                );
            }
        }
        self.check();
    }

    fn check(&mut self) {
        let now = self.model.now;
        assert_eq!(self.clock.now(), ts(self.model.clock));
        let snap = Snapshot::take(&self.net);

        // Every stored invitation equals the model's.
        assert_eq!(
            snap.invitations.keys().collect::<Vec<_>>(),
            self.model.invitations.keys().collect::<Vec<_>>(),
            "invitation ids"
        );
        for (id, inv) in &snap.invitations {
            let m = &self.model.invitations[id];
            let real = (
                inv.sender.get(),
                inv.recipient.get(),
                inv.note.as_ref().map(|n| n.as_str().to_owned()),
                inv.sent_at.as_micros(),
                status_of(inv.status),
                delivery_of(inv.delivery),
            );
            let model = (
                m.sender,
                m.recipient,
                m.note.clone(),
                m.sent_at,
                m.status,
                m.delivery,
            );
            assert_eq!(real, model, "step {}: invitation {id}", self.step);
            // G3: only persons on either end.
            for end in [inv.sender, inv.recipient] {
                assert_eq!(snap.members[&end.get()].kind, Kind::Person, "G3: {inv:?}");
            }
        }
        assert_eq!(snap.connected, self.model.connections, "connections");
        self.check_blocks(&snap);
        self.check_quotas(&snap);

        // I1: at most one open invitation per unordered pair.
        let mut open_per_pair: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
        for (id, inv) in &snap.invitations {
            let status = effective(status_of(inv.status), inv.sent_at.as_micros(), now);
            if status.is_open() {
                open_per_pair
                    .entry(pair(inv.sender.get(), inv.recipient.get()))
                    .or_default()
                    .push(*id);
            }
        }
        for (p, ids) in &open_per_pair {
            assert!(ids.len() <= 1, "I1: {p:?} has open {ids:?}");
            // I2: none between connected members.
            assert!(
                !snap.connected.contains(p) && !self.net.graph().are_connected(mid(p.0), mid(p.1)),
                "I2: {p:?} connected with open {ids:?}"
            );
        }
        let graph = self.net.graph();
        for &a in &EVERYONE {
            for &b in &EVERYONE {
                let expected = a != b
                    && self.model.active(a)
                    && self.model.active(b)
                    && self.model.connected(a, b);
                assert_eq!(graph.are_connected(mid(a), mid(b)), expected, "{a}-{b}");
            }
        }
        drop(graph);

        // I5: closed stays closed.
        for (id, inv) in &snap.invitations {
            let status = effective(status_of(inv.status), inv.sent_at.as_micros(), now);
            let seen = self.history.entry(*id).or_default();
            if let Some(&last) = seen.last() {
                if !last.is_open() {
                    assert_eq!(status, last, "I5: invitation {id} changed after {seen:?}");
                }
            }
            if seen.last() != Some(&status) {
                seen.push(status);
            }
        }

        // Lists, for everyone.
        let all = PageSize::new(PageSize::MAX).unwrap();
        for &v in &EVERYONE {
            for which in [List::Inbox, List::Held, List::Sent] {
                let page = match which {
                    List::Inbox => self.net.inbox(mid(v), None, all),
                    List::Held => self.net.held(mid(v), None, all),
                    List::Sent => self.net.sent(mid(v), None, all),
                };
                let real: Result<Vec<Item>, Refusal> = match page {
                    Ok(p) => {
                        assert_eq!(p.next, None);
                        Ok(p.items
                            .into_iter()
                            .map(|l| {
                                (
                                    l.invitation.get(),
                                    l.other.get(),
                                    l.note.map(|n| n.as_str().to_owned()),
                                    l.sent_at.as_micros(),
                                    l.mutual_connections,
                                )
                            })
                            .collect())
                    }
                    Err(Error::Refused(r)) => Err(r),
                    Err(e) => panic!("{e:?}"),
                };
                let expected = self.model.list(v, which);
                assert_eq!(real, expected, "step {}: {which:?} of {v}", self.step);
                // B4: nobody hidden from the viewer is listed.
                let hidden = snap.hidden(v);
                for item in real.iter().flatten() {
                    assert!(!hidden.contains(&item.1), "B4: {v} lists {item:?}");
                }
                // I6: nothing from a "don't know"-barred sender after the bar.
                if let (Ok(items), List::Inbox | List::Held) = (&real, which) {
                    for item in items {
                        if let Some((MBar::DontKnow, newest)) = self.bars.get(&(item.1, v)) {
                            assert!(item.0 <= *newest, "I6: {item:?} listed for {v}");
                        }
                    }
                }
            }
        }

        // I10 (and the views): only the two parties see an invitation.
        let ids: Vec<u64> = snap
            .invitations
            .keys()
            .copied()
            .chain([MISSING + 7])
            .collect();
        for &id in &ids {
            for &v in &EVERYONE {
                let real = match self.net.invitation(mid(v), iid(id)) {
                    Ok(view) => {
                        assert_eq!(view.id, iid(id));
                        Ok((
                            view.sender.get(),
                            view.recipient.get(),
                            view.note.map(|n| n.as_str().to_owned()),
                            view.sent_at.as_micros(),
                            view.seen,
                        ))
                    }
                    Err(Error::Refused(r)) => Err(r),
                    Err(e) => panic!("{e:?}"),
                };
                if let (Ok(_), Some(inv)) = (&real, snap.invitations.get(&id)) {
                    assert!(
                        v == inv.sender.get() || v == inv.recipient.get(),
                        "I10: {v} reads {id}"
                    );
                    // B4: no invitation with a member hidden from the viewer.
                    assert!(
                        !snap.between(inv.sender.get(), inv.recipient.get()),
                        "B4: {v} reads {id} across a block"
                    );
                }
                let expected = self.model.view(v, id);
                assert_eq!(real, expected, "step {}: {v} views {id}", self.step);
            }
        }

        // I3: anyone but the recipient answering, anyone but the sender
        // withdrawing, is told the invitation does not exist.
        for (&id, inv) in &snap.invitations {
            let (s, r) = (inv.sender.get(), inv.recipient.get());
            let outsiders: Vec<u64> = EVERYONE
                .iter()
                .copied()
                .filter(|&m| m != s && m != r)
                .collect();
            let outsider = outsiders[(self.step + id as usize) % outsiders.len()];
            let mut probes = vec![
                (Answer::Accept, s),
                (Answer::Ignore(IgnoreReason::DontKnow), s),
                (Answer::Reject, s),
                (Answer::Withdraw, r),
            ];
            for answer in [
                Answer::Accept,
                Answer::Ignore(IgnoreReason::Spam),
                Answer::Reject,
                Answer::Withdraw,
            ] {
                probes.push((answer, outsider));
            }
            for (answer, actor) in probes {
                assert_eq!(
                    self.run_answer(answer, actor, id),
                    Err(Refusal::InvitationNotFound(iid(id))),
                    "I3: {answer:?} by {actor} on {id} ({s} -> {r})"
                );
                self.probes += 1;
            }
        }

        // I6: "don't know" bars drop every later invitation; reject bars
        // refuse openly.
        for (&(s, r), &(bar, newest)) in &self.bars {
            match bar {
                MBar::DontKnow => {
                    for inv in snap.invitations.values().filter(|i| {
                        i.sender.get() == s && i.recipient.get() == r && i.id.get() > newest
                    }) {
                        assert_eq!(inv.delivery, Delivery::Dropped, "I6: {inv:?}");
                        // Unless the recipient accepted it by inviting the
                        // sender in turn, it does not exist for them.
                        let accepted = inv.status == Status::Accepted;
                        if !accepted && self.model.active(s) && self.model.active(r) {
                            assert_eq!(
                                self.net
                                    .invitation(mid(r), inv.id)
                                    .map_err(|e| e.refusal().cloned()),
                                Err(Some(Refusal::InvitationNotFound(inv.id))),
                                "I6: {r} sees {inv:?}"
                            );
                        }
                    }
                }
                MBar::Rejected => {
                    // Only where no earlier rule refuses: both active, no
                    // block, not connected, neither at the cap, no crossing.
                    let cap = self.model.limits.connections;
                    let graph = self.net.graph();
                    let probe = graph.contains(mid(s))
                        && graph.contains(mid(r))
                        && !graph.are_connected(mid(s), mid(r))
                        && !snap.between(s, r)
                        && !snap.at_cap(s, cap)
                        && !snap.at_cap(r, cap)
                        && snap.live(r, s, now).is_none();
                    drop(graph);
                    if probe {
                        let proof = snap.members[&r].emails.first().map(|e| e.email.clone());
                        let real = self.net.send(mid(s), mid(r), None, proof.as_ref());
                        assert_eq!(
                            real.map(|c| c.outcome).map_err(|e| e.refusal().cloned()),
                            Err(Some(Refusal::Barred)),
                            "I6: {s} -> {r} after a reject"
                        );
                        self.probes += 1;
                    }
                }
            }
        }
        self.check_graph_reads(&snap);
        self.probe_blocks(&snap);
        // The probes changed nothing but the id counter.
        let after = self.net.store().snapshot();
        assert!(after == snap.records, "a probe wrote");
    }

    /// Block lists, reports and ledger counts against the model; B1 and
    /// B5 from the store alone.
    fn check_blocks(&mut self, snap: &Snapshot) {
        let standing = snap.standing_blocks();
        assert_eq!(standing, self.model.blocks, "step {}: blocks", self.step);
        for (&m, list) in &snap.blocks {
            for o in &list.blocked_by {
                assert!(
                    snap.blocks[&o.get()].blocked.contains_key(&mid(m)),
                    "{m} blocked by {o}, not in their list"
                );
            }
            for o in list.blocked.keys() {
                assert!(snap.blocks[&o.get()].blocked_by.contains(&mid(m)));
            }
        }
        let unblocked: BTreeMap<(u64, u64), i64> = snap
            .blocks
            .values()
            .flat_map(|b| {
                b.unblocked
                    .iter()
                    .map(|(o, at)| ((b.member.get(), o.get()), at.as_micros()))
            })
            .collect();
        assert_eq!(
            unblocked, self.model.unblocked,
            "step {}: unblocks",
            self.step
        );
        assert_eq!(
            snap.reports, self.model.reports,
            "step {}: reports",
            self.step
        );
        for &p in &PERSONS {
            let stored = snap.ledger_connections.get(&p).copied().unwrap_or(0);
            assert_eq!(
                stored as usize,
                self.model.connection_count(p),
                "step {}: {p}'s ledger",
                self.step
            );
        }

        // B1: nothing between two members blocked either way.
        let graph = self.net.graph();
        for &(a, b) in standing.keys() {
            assert!(
                !snap.connected.contains(&pair(a, b)) && !graph.are_connected(mid(a), mid(b)),
                "B1: {a} blocked {b}, still connected"
            );
            for inv in snap.invitations.values() {
                if pair(inv.sender.get(), inv.recipient.get()) == pair(a, b) {
                    // An invitation past its expiry stays as it was.
                    let live = inv.is_live(self.net.policy(), ts(self.model.now));
                    assert!(
                        !(status_of(inv.status).is_open() && live),
                        "B1: {a} blocked {b}, {inv:?} open"
                    );
                }
            }
        }
        drop(graph);

        // B5: a block goes only by its blocker's unblock.
        let blocks: BTreeSet<(u64, u64)> = standing.keys().copied().collect();
        for gone in self.last_blocks.difference(&blocks) {
            assert_eq!(
                self.unblocking,
                Some(*gone),
                "B5: step {}: block {gone:?} lifted",
                self.step
            );
        }
        self.last_blocks = blocks;
        self.unblocking = None;
    }

    /// Q1 and Q2 from the store alone.
    fn check_quotas(&mut self, snap: &Snapshot) {
        let limits = self.model.limits;
        // Q2: send instants never go back in id order, and no stored instant
        // lies beyond the latest clock reading.
        let mut last = TMIN;
        for inv in snap.invitations.values() {
            let at = inv.sent_at.as_micros();
            assert!(at >= last, "Q2: {inv:?} sent before {last}");
            last = at;
            let closed = inv.closed_at.map_or(TMIN, Timestamp::as_micros);
            assert!(at.max(closed) <= self.max_clock, "Q2: {inv:?}");
        }
        let instants = snap
            .blocks
            .values()
            .flat_map(|b| b.blocked.values().chain(b.unblocked.values()))
            .map(|t| t.as_micros())
            .chain(snap.reports.values().map(|r| r.1));
        for at in instants {
            assert!(at <= self.max_clock, "Q2: {at} stored");
        }
        // Q1: at each send, the sender's sends in the window up to it, and
        // those with a note, within the limits of the tier then.
        for inv in snap.invitations.values() {
            let id = inv.id.get();
            if id <= self.q1_checked {
                continue;
            }
            self.q1_checked = id;
            let premium = self.tier_at_send[&id];
            let from = minus(inv.sent_at.as_micros(), WINDOW);
            let window: Vec<&Invitation> = snap
                .invitations
                .values()
                .filter(|j| j.sender == inv.sender && j.id <= inv.id)
                .filter(|j| j.sent_at.as_micros() > from)
                .collect();
            assert!(
                window.len() <= limits.quota(premium) as usize,
                "Q1: {} sends up to {inv:?}",
                window.len()
            );
            if let (Some(_), Some(notes)) = (&inv.note, limits.notes(premium)) {
                let with_note = window.iter().filter(|j| j.note.is_some()).count();
                assert!(
                    with_note <= notes as usize,
                    "Q1: {with_note} notes up to {inv:?}"
                );
            }
        }
    }

    /// Degree and mutual count of everyone as everyone sees them, against
    /// the model; B4: a member hidden from the viewer is unknown to both.
    /// They are checked again whenever what they depend on changed in the
    /// store.
    fn check_graph_reads(&mut self, snap: &Snapshot) {
        let state = (
            snap.connected.clone(),
            snap.standing_blocks().into_keys().collect(),
            snap.members
                .values()
                .filter(|m| m.active)
                .map(|m| m.id.get())
                .collect(),
        );
        if self.graph_checked.as_ref() == Some(&state) {
            return;
        }
        self.graph_checked = Some(state);
        let unblocked = Model {
            blocks: BTreeMap::new(),
            ..self.model.clone()
        };
        for &v in &EVERYONE {
            let hidden = snap.hidden(v);
            let expected = self.model.graph_reads(v, &EVERYONE);
            if !hidden.is_empty() {
                // How often a block changes what the viewer sees of others.
                let open = unblocked.graph_reads(v, &EVERYONE);
                for o in EVERYONE.iter().filter(|o| !hidden.contains(o)) {
                    if expected[o] != open[o] {
                        count("graph: a block changes a degree or mutual count".to_owned());
                    }
                }
            }
            for &o in &EVERYONE {
                let real = (
                    read(self.net.degree(mid(v), mid(o))),
                    read(self.net.mutual_count(mid(v), mid(o))),
                );
                assert_eq!(
                    real, expected[&o],
                    "step {}: degree and mutual count of {o} for {v}",
                    self.step
                );
                if hidden.contains(&o) && self.model.active(v) {
                    let unknown = Some(Refusal::UnknownMember(mid(o)));
                    assert_eq!(real.0.err(), unknown, "B4: degree of {o} for {v}");
                    assert_eq!(real.1.err(), unknown, "B4: mutual count of {o} for {v}");
                }
            }
        }
    }

    /// B2 and B5: while a block stands, every operation between the two is
    /// refused as for a missing member (the blocker's send `YouBlocked`),
    /// and the blocked member cannot unblock. The caller checks that
    /// nothing was written.
    fn probe_blocks(&mut self, snap: &Snapshot) {
        let member = |m: u64| snap.members.get(&m).filter(|x| x.active);
        let active = |m: u64| member(m).is_some();
        let person = |m: u64| member(m).is_some_and(|x| x.kind == Kind::Person);
        let standing = snap.standing_blocks();
        for &(a, b) in standing.keys() {
            let one_way = !standing.contains_key(&(b, a));
            let unknown = |m: u64| Err(Refusal::UnknownMember(mid(m)));
            let mut probes: Vec<(String, Probed, Probed)> = vec![];
            let mut probe = |what: String, real: Result<Vec<Event>, Refusal>, want| {
                probes.push((what, real, want));
            };
            let send =
                |x: u64, y: u64| refused(self.net.send(mid(x), mid(y), None, None)).map(|(_, e)| e);
            if person(b) {
                probe(format!("send {b} -> {a}"), send(b, a), unknown(a));
            }
            if person(a) && person(b) {
                let want = if one_way {
                    Err(Refusal::YouBlocked(mid(b)))
                } else {
                    unknown(b)
                };
                probe(format!("send {a} -> {b}"), send(a, b), want);
            }
            let remove = |x: u64, y: u64| {
                refused(self.net.remove_connection(mid(x), mid(y))).map(|(_, e)| e)
            };
            if active(a) {
                probe(format!("remove {a} - {b}"), remove(a, b), unknown(b));
            }
            if active(b) {
                probe(format!("remove {b} - {a}"), remove(b, a), unknown(a));
                let report = refused(self.net.report(mid(b), mid(a), ReportReason::Other));
                probe(
                    format!("report {b} -> {a}"),
                    report.map(|(_, e)| e),
                    unknown(a),
                );
                if one_way {
                    let unblock = refused(self.net.unblock(mid(b), mid(a)));
                    probe(
                        format!("B5: unblock {b} -> {a}"),
                        unblock.map(|(_, e)| e),
                        unknown(a),
                    );
                }
            }
            for inv in snap.invitations.values() {
                let (s, r) = (inv.sender.get(), inv.recipient.get());
                if pair(s, r) != pair(a, b) {
                    continue;
                }
                let id = inv.id.get();
                let not_found = Err(Refusal::InvitationNotFound(inv.id));
                for (answer, actor) in [
                    (Answer::Accept, r),
                    (Answer::Ignore(IgnoreReason::Ignored), r),
                    (Answer::Reject, r),
                    (Answer::Withdraw, s),
                ] {
                    let real = self.run_answer(answer, actor, id).map(|(_, e)| e);
                    probe(
                        format!("{answer:?} by {actor} on {id}"),
                        real,
                        not_found.clone(),
                    );
                }
            }
            for (what, real, want) in probes {
                assert_eq!(
                    real, want,
                    "B2: step {}: {a} blocked {b}: {what}",
                    self.step
                );
                self.probes += 1;
            }
        }
    }
}

/// A read's answer, its refusal on error.
fn read<T>(result: Result<T, Error>) -> Result<T, Refusal> {
    match result {
        Ok(v) => Ok(v),
        Err(Error::Refused(r)) => Err(r),
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

fn short_answer(answer: Answer) -> String {
    match answer {
        Answer::Ignore(reason) => format!("ignore {reason:?}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn real_member(id: u64, m: &MMember) -> Member {
    let profile = Profile::named(format!("Member {id}"));
    let base = if m.person {
        Member::person(mid(id), profile)
    } else {
        Member::company(mid(id), profile)
    };
    let tier = if m.premium {
        Tier::Premium(0)
    } else {
        Tier::Free
    };
    m.emails.iter().fold(
        base.with_tier(tier).with_invite_preference(m.preference),
        |member, e| member.with_email(Email::parse(e).unwrap(), true),
    )
}

/// SPEC.md's defaults with the case's limits, except that spam standing
/// (SPEC 5) never trips: its sample, report, private-signal floor and burst
/// thresholds are out of reach.
fn policy(limits: Limits) -> Policy {
    let mut standing = StandingPolicy::default();
    standing.min_sample = u32::MAX;
    standing.reports = u32::MAX;
    standing.private_signal_floor = u32::MAX;
    standing.burst_sends = u32::MAX;
    let per_window = |n: u32| Quota::new(n, TimeDelta::microseconds(WINDOW)).unwrap();
    // The model keeps one process-wide effective time through backward
    // jumps of up to a year and to the ends of time: the clock-skew check
    // is off here (tests/clock.rs covers it, and forward glitches).
    let mut builder = Policy::builder()
        .max_clock_skew(TimeDelta::MAX)
        .standing(standing)
        .invitation_quota(Tier::Free, per_window(limits.quota[0]))
        .invitation_quota(Tier::Premium(0), per_window(limits.quota[1]))
        .max_outstanding(limits.outstanding)
        .max_connections(limits.connections);
    if let Some([free, paid]) = limits.notes {
        // Both set: a paid level without its own allowance would inherit
        // Free's (`Policy::note_quota`), whatever the builder's docs say.
        builder = builder
            .note_quota(Tier::Free, Some(per_window(free)))
            .note_quota(Tier::Premium(0), Some(per_window(paid)));
    }
    builder.build().unwrap()
}

fn run_case(limits: Limits, setup: &[PersonSetup], ops: &[Op]) -> (u64, u64) {
    let mut world = World::new(limits, setup);
    for (step, op) in ops.iter().enumerate() {
        world.step = step;
        world.run(op);
    }
    (world.transitions, world.probes)
}

// ---------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------

/// I1 to I6, I8 to I10, Q1 to Q5, B1, B2, B4 and B5, after every
/// transition of random operation sequences run on the network and the
/// naive model in lockstep.
#[test]
fn model_i1_to_i10_hold_in_lockstep() {
    let cases = cases();
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    });
    let started = Instant::now();
    let result = runner.run(&scenario(), |(limits, setup, ops)| {
        let (transitions, probes) = run_case(limits, &setup, &ops);
        CASES_RUN.fetch_add(1, Ordering::Relaxed);
        TRANSITIONS.fetch_add(transitions, Ordering::Relaxed);
        PROBES.fetch_add(probes, Ordering::Relaxed);
        Ok(())
    });
    eprintln!(
        "model-test: {} cases, {} transitions, {} probes, {:.1?}",
        CASES_RUN.load(Ordering::Relaxed),
        TRANSITIONS.load(Ordering::Relaxed),
        PROBES.load(Ordering::Relaxed),
        started.elapsed()
    );
    for (label, n) in OUTCOMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
    {
        eprintln!("  {n:>6}  {label}");
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}
