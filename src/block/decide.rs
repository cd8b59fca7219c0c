//! The decisions on blocks: block, unblock, report, remove a connection;
//! and [`Between`], the blocks between two members as a decision reads them.

use super::{Block, BlockOutcome, BlockTally, Report, ReportReason, UnblockOutcome};
use crate::change::ChangeSet;
use crate::change::Decision;
use crate::error::Refusal;
use crate::event::Event;
use crate::id::{MemberId, PairKey};
use crate::invitation::{Invitation, Ledger, PairState, Status};
use crate::member::Member;
use crate::member::decide::active;
use crate::policy::Policy;
use crate::record::{OrNew, Record, Versioned};
use crate::time::Timestamp;

/// Whether a stored block record stands.
fn stands(read: Option<&Versioned<Block>>) -> bool {
    read.is_some_and(|b| b.value.stands())
}

/// The blocks between one member and another, as a decision about the two
/// reads them from the records [`Block`] of each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Between {
    /// The first member blocked the second.
    pub blocked: bool,
    /// The second member blocked the first.
    pub blocked_by: bool,
}

impl Between {
    /// From the two records: the first member's block of the second, and
    /// the second's of the first.
    #[must_use]
    pub fn new(mine: Option<&Versioned<Block>>, theirs: Option<&Versioned<Block>>) -> Self {
        Self {
            blocked: stands(mine),
            blocked_by: stands(theirs),
        }
    }

    /// Whether either blocked the other.
    #[must_use]
    pub fn hides(&self) -> bool {
        self.blocked || self.blocked_by
    }
}

/// What a block, unblock, report or removal needs from the store.
#[derive(Clone, Debug, Default)]
pub struct PairFacts {
    /// The acting member's record.
    pub actor: Option<Versioned<Member>>,
    /// The other member's record.
    pub other: Option<Versioned<Member>>,
    /// The actor's block record of the other member.
    pub mine: Option<Versioned<Block>>,
    /// The other member's block record of the actor.
    pub theirs: Option<Versioned<Block>>,
    /// How many members the actor blocks.
    pub tally: Option<Versioned<BlockTally>>,
    /// The pair's record.
    pub pair: Option<Versioned<PairState>>,
    /// The invitation the pair record names as open, if any.
    pub open: Option<Versioned<Invitation>>,
    /// The actor's ledger.
    pub actor_ledger: Option<Versioned<Ledger>>,
    /// The other member's ledger.
    pub other_ledger: Option<Versioned<Ledger>>,
    /// The actor's earlier report of the other member, if any.
    pub report: Option<Versioned<Report>>,
}

impl PairFacts {
    /// The effective time of a decision on these facts: the clock, or the
    /// latest instant recorded in them if that is later, so that a
    /// process whose clock lags records nothing earlier than what it read
    /// (a lagging unblock cannot shorten the re-block wait).
    #[must_use]
    pub fn effective_now(&self, clock: Timestamp) -> Timestamp {
        let recorded = [
            self.mine.as_ref().map(|v| Record::Block(v.value.clone())),
            self.theirs.as_ref().map(|v| Record::Block(v.value.clone())),
            self.pair.as_ref().map(|v| Record::Pair(v.value.clone())),
            self.open
                .as_ref()
                .map(|v| Record::Invitation(v.value.clone())),
            self.actor_ledger
                .as_ref()
                .map(|v| Record::Ledger(v.value.clone())),
            self.other_ledger
                .as_ref()
                .map(|v| Record::Ledger(v.value.clone())),
            self.report
                .as_ref()
                .map(|v| Record::Report(v.value.clone())),
        ];
        Timestamp::effective(
            clock,
            recorded
                .iter()
                .map(|r| r.as_ref().and_then(crate::instants::latest)),
        )
    }

    /// The acting member is active and not acting on themself; the other
    /// member exists and has not blocked the actor (a member who blocked the
    /// actor is indistinguishable from one that does not exist, B3).
    /// `also_blocked` also refuses a member the actor blocked.
    fn other_visible(
        &self,
        actor: MemberId,
        other: MemberId,
        also_blocked: bool,
    ) -> Result<(), Refusal> {
        self.actor_active(actor)?;
        if actor == other {
            return Err(Refusal::Yourself);
        }
        let hidden = self.blocked_by_other() || also_blocked && stands(self.mine.as_ref());
        if hidden || !self.other_active(other) {
            return Err(Refusal::UnknownMember(other));
        }
        Ok(())
    }

    fn actor_active(&self, actor: MemberId) -> Result<(), Refusal> {
        active(self.actor.as_ref(), actor).map(|_| ())
    }

    fn other_active(&self, other: MemberId) -> bool {
        active(self.other.as_ref(), other).is_ok()
    }

    /// Whether the other member blocked the actor.
    fn blocked_by_other(&self) -> bool {
        stands(self.theirs.as_ref())
    }

    fn key(&self, actor: MemberId, other: MemberId) -> Result<PairKey, Refusal> {
        PairKey::new(actor, other).ok_or(Refusal::Yourself)
    }

    /// The actor's record of the other member, as stored or new.
    fn mine(&self, actor: MemberId, other: MemberId) -> Block {
        self.mine.as_ref().or_new(|| Block::new(actor, other))
    }

    /// Writes both ledgers one connection down: the pair's connection ends
    /// at `now`.
    fn disconnect(
        &self,
        changes: &mut ChangeSet,
        actor: MemberId,
        other: MemberId,
        now: Timestamp,
    ) {
        for (read, member) in [(&self.actor_ledger, actor), (&self.other_ledger, other)] {
            let mut ledger = read.as_ref().or_new(|| Ledger::new(member));
            ledger.connections = ledger.connections.saturating_sub(1);
            ledger.latest = ledger.latest.max(now);
            changes.write(read.as_ref(), Record::Ledger(ledger));
        }
    }

    /// The actor's tally of blocks, as stored or new.
    fn tally(&self, actor: MemberId) -> BlockTally {
        self.tally.as_ref().or_new(|| BlockTally::new(actor))
    }
}

/// `actor` blocks `other`. Atomically removes their connection and every
/// pending invitation between them, both ways (cancelled: after an unblock
/// it still counts on its sender's re-send ladder, so a block and unblock
/// never shorten a wait; one the recipient ignored stays ignored for them),
/// and from then on each is hidden from the other.
/// The one event is `MemberBlocked`, for the blocker; the removed
/// connection is part of it. Blocking someone already blocked answers
/// [`BlockOutcome::AlreadyBlocked`] and changes nothing.
///
/// A member hidden from the actor (deactivated, or who blocked the actor)
/// is refused exactly as one who does not exist, and nothing is recorded:
/// the actor must not learn of the other's block, and an answer never
/// refuses what it committed. The other's block already keeps the two
/// apart both ways (and the actor blocking back could not undo it); once
/// it is lifted, the actor sees them and may block.
///
/// # Errors
/// [`Refusal::UnknownMember`]; [`Refusal::Yourself`];
/// [`Refusal::ReblockTooSoon`] within the policy's wait after unblocking;
/// [`Refusal::TooManyBlocks`].
pub fn block(
    actor: MemberId,
    other: MemberId,
    facts: &PairFacts,
    policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<BlockOutcome>, Refusal> {
    let now = facts.effective_now(clock);
    facts.actor_active(actor)?;
    let key = facts.key(actor, other)?;
    if facts.blocked_by_other() || !facts.other_active(other) {
        return Err(Refusal::UnknownMember(other));
    }
    if stands(facts.mine.as_ref()) {
        return Ok(Decision::unchanged(BlockOutcome::AlreadyBlocked));
    }
    Ok(Decision::new(
        blocked(actor, other, key, facts, policy, now)?,
        BlockOutcome::Blocked,
    ))
}

/// The change of `actor` blocking `other`, both known to exist.
fn blocked(
    actor: MemberId,
    other: MemberId,
    key: PairKey,
    facts: &PairFacts,
    policy: &Policy,
    now: Timestamp,
) -> Result<ChangeSet, Refusal> {
    let mut mine = facts.mine(actor, other);
    if mine.stands() {
        return Ok(ChangeSet::default());
    }
    if let Some(unblocked) = mine.unblocked {
        let retry_at = unblocked.saturating_add(policy.reblock_wait());
        if now < retry_at {
            return Err(Refusal::ReblockTooSoon { retry_at });
        }
    }
    // The blocker's tally counts their standing blocks: the limit is
    // checked, and two blocks by one member serialise, on that one record.
    let mut tally = facts.tally(actor);
    if tally.blocks >= policy.max_blocks() {
        return Err(Refusal::TooManyBlocks {
            max: policy.max_blocks(),
        });
    }
    tally.blocks = tally.blocks.saturating_add(1);
    mine.since = Some(now);

    let mut changes = ChangeSet::default();
    changes.write(facts.mine.as_ref(), Record::Block(mine));
    changes.write(facts.tally.as_ref(), Record::BlockTally(tally));
    let mut pair = facts.pair.as_ref().or_new(|| PairState::new(key));
    // A pending invitation is cancelled; one already past its expiry is
    // recorded as expired, which it already was for both parties. An
    // ignored one stays ignored for its recipient.
    if let Some(open) = facts.open.as_ref().filter(|o| o.value.is_open()) {
        let closed = open
            .value
            .ended(Status::Cancelled, policy, now)
            .keeping_ignore(open.value.status);
        changes.write(Some(open), Record::Invitation(closed));
    }
    pair.open = None;
    let was_connected = pair.connected_since.take().is_some();
    // Always write the pair: it is what serialises this block with any send
    // or accept racing it.
    changes.write(facts.pair.as_ref(), Record::Pair(pair));
    if was_connected {
        facts.disconnect(&mut changes, actor, other, now);
    }
    changes.emit(Event::MemberBlocked {
        blocker: actor,
        blocked: other,
    });
    Ok(changes)
}

/// `actor` lifts their own block of `other`. Restores nothing: no
/// connection, no invitation. A block made by the other member stays (only
/// the blocker can lift a block). Unblocking a visible member not blocked
/// answers [`UnblockOutcome::NotBlocked`] and changes nothing.
///
/// A member hidden from the actor (deactivated, or who blocked the actor)
/// is refused exactly as one who does not exist, and nothing is recorded,
/// not even when the actor had blocked them: an answer never refuses what
/// it committed, and while the other's block stands the actor's changes
/// nothing between the two.
///
/// # Errors
/// [`Refusal::UnknownMember`] when `other` does not exist, is deactivated,
/// or blocked the actor; [`Refusal::Yourself`].
pub fn unblock(
    actor: MemberId,
    other: MemberId,
    facts: &PairFacts,
    _policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<UnblockOutcome>, Refusal> {
    let now = facts.effective_now(clock);
    let mut mine = facts.mine(actor, other);
    facts.other_visible(actor, other, false)?;
    if !mine.stands() {
        return Ok(Decision::unchanged(UnblockOutcome::NotBlocked));
    }
    mine.since = None;
    mine.unblocked = Some(now);
    let mut tally = facts.tally(actor);
    tally.blocks = tally.blocks.saturating_sub(1);
    let mut changes = ChangeSet::default();
    changes.write(facts.mine.as_ref(), Record::Block(mine));
    changes.write(facts.tally.as_ref(), Record::BlockTally(tally));
    changes.emit(Event::MemberUnblocked {
        blocker: actor,
        unblocked: other,
    });
    Ok(Decision::new(changes, UnblockOutcome::Unblocked))
}

/// `actor` reports `other`. Recorded with its reason, once per
/// reporter and target; it counts against the target's standing. Nobody is
/// told who reported. A blocker may still report whom they blocked.
///
/// # Errors
/// [`Refusal::UnknownMember`] (also when `other` blocked `actor`);
/// [`Refusal::Yourself`].
pub fn report(
    actor: MemberId,
    other: MemberId,
    reason: ReportReason,
    facts: &PairFacts,
    _policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<()>, Refusal> {
    let now = facts.effective_now(clock);
    facts.other_visible(actor, other, false)?;
    let mut changes = ChangeSet::default();
    if facts.report.is_some() {
        return Ok(changes.into());
    }
    let read = facts.other_ledger.as_ref();
    let mut ledger = read.or_new(|| Ledger::new(other));
    add_report(&mut changes, actor, &mut ledger, reason, now);
    changes.write(read, Record::Ledger(ledger));
    Ok(changes.into())
}

/// Adds a first report by `reporter` of the owner of `target_ledger`: the
/// report record, its count on the ledger (which the caller writes), and the
/// event for the reporter. The caller has checked there was none before.
pub(crate) fn add_report(
    changes: &mut ChangeSet,
    reporter: MemberId,
    target_ledger: &mut Ledger,
    reason: ReportReason,
    now: Timestamp,
) {
    let target = target_ledger.member;
    let report = Report {
        reporter,
        target,
        reason,
        at: now,
    };
    changes.write::<Report>(None, Record::Report(report));
    target_ledger.reports.push(now);
    target_ledger.latest = target_ledger.latest.max(now);
    changes.emit(Event::MemberReported { reporter, target });
}

/// Either member removes their connection. Nobody is notified and
/// nothing bars them from inviting each other again. Removing a connection
/// that does not exist answers the same and changes nothing.
///
/// # Errors
/// [`Refusal::UnknownMember`] (also for a member hidden by a block);
/// [`Refusal::Yourself`].
pub fn remove_connection(
    actor: MemberId,
    other: MemberId,
    facts: &PairFacts,
    _policy: &Policy,
    clock: Timestamp,
) -> Result<Decision<()>, Refusal> {
    let now = facts.effective_now(clock);
    facts.other_visible(actor, other, true)?;
    let mut changes = ChangeSet::default();
    let Some(read) = facts
        .pair
        .as_ref()
        .filter(|p| p.value.connected_since.is_some())
    else {
        return Ok(changes.into());
    };
    let mut pair = read.value.clone();
    pair.connected_since = None;
    changes.write(Some(read), Record::Pair(pair));
    facts.disconnect(&mut changes, actor, other, now);
    changes.emit(Event::ConnectionRemoved { by: actor, other });
    Ok(changes.into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    //! Given these facts and this policy, when this request at this instant,
    //! then exactly these writes and events (or this refusal).

    use super::*;
    use crate::given::{ANA, BO, T0, keys, stored};
    use crate::member::Profile;
    use crate::record::Key;
    use chrono::TimeDelta;

    /// Facts about Ana and Bo, both active, nothing between them.
    fn given() -> PairFacts {
        PairFacts {
            actor: stored(Member::person(ANA, Profile::named("Ana"))),
            other: stored(Member::person(BO, Profile::named("Bo"))),
            ..PairFacts::default()
        }
    }

    #[test]
    fn given_strangers_when_ana_blocks_bo_then_her_block_tally_and_pair_are_written() {
        let decision = block(ANA, BO, &given(), &Policy::default(), T0).unwrap();
        assert_eq!(decision.outcome, BlockOutcome::Blocked);
        let pair = PairKey::new(ANA, BO).unwrap();
        assert_eq!(
            keys(&decision),
            vec![Key::Pair(pair), Key::Block(ANA, BO), Key::BlockTally(ANA)]
        );
        assert_eq!(
            decision.changes.events,
            vec![Event::MemberBlocked {
                blocker: ANA,
                blocked: BO
            }]
        );
    }

    /// B3: blocking back a member who blocked you is refused as for a
    /// member who does not exist, and records nothing.
    #[test]
    fn b3_given_bo_blocked_ana_when_ana_blocks_back_then_unknown_member_and_nothing_written() {
        let mut facts = given();
        let mut theirs = Block::new(BO, ANA);
        theirs.since = Some(T0);
        facts.theirs = stored(theirs);
        assert_eq!(
            block(ANA, BO, &facts, &Policy::default(), T0).unwrap_err(),
            Refusal::UnknownMember(BO)
        );
        let mut absent = given();
        absent.other = None;
        assert_eq!(
            block(ANA, BO, &absent, &Policy::default(), T0).unwrap_err(),
            Refusal::UnknownMember(BO)
        );
    }

    /// B3: with a block of Ana's own standing, Bo blocking back or being
    /// deactivated makes Bo unknown to Ana's unblock and block alike, with
    /// nothing written, exactly as an id never registered.
    #[test]
    fn b3_given_ana_blocked_bo_when_bo_is_hidden_then_unblock_and_block_answer_unknown_member() {
        let mut mine = Block::new(ANA, BO);
        mine.since = Some(T0);
        let base = PairFacts {
            mine: stored(mine),
            ..given()
        };
        let mut blocked_back = base.clone();
        let mut theirs = Block::new(BO, ANA);
        theirs.since = Some(T0);
        blocked_back.theirs = stored(theirs);
        let mut gone = base.clone();
        let mut bo = Member::person(BO, Profile::named("Bo"));
        bo.active = false;
        gone.other = stored(bo);
        let mut never = given();
        never.other = None;
        for facts in [&blocked_back, &gone, &never] {
            assert_eq!(
                unblock(ANA, BO, facts, &Policy::default(), T0).unwrap_err(),
                Refusal::UnknownMember(BO)
            );
            assert_eq!(
                block(ANA, BO, facts, &Policy::default(), T0).unwrap_err(),
                Refusal::UnknownMember(BO)
            );
        }
        let lifted = unblock(ANA, BO, &base, &Policy::default(), T0).unwrap();
        assert_eq!(lifted.outcome, UnblockOutcome::Unblocked);
        let again = block(ANA, BO, &base, &Policy::default(), T0).unwrap();
        assert_eq!(again.outcome, BlockOutcome::AlreadyBlocked);
        assert!(again.changes.is_empty());
    }

    #[test]
    fn given_an_unblock_recorded_ahead_of_the_clock_when_ana_blocks_again_then_the_wait_runs_from_the_record()
     {
        let mut facts = given();
        let mut mine = Block::new(ANA, BO);
        let unblocked = T0.saturating_add(TimeDelta::hours(20));
        mine.unblocked = Some(unblocked);
        facts.mine = stored(mine);
        // The clock lags the record by 20 hours: the effective time is the
        // record's, so the wait ends 48 hours after the unblock.
        assert_eq!(
            block(ANA, BO, &facts, &Policy::default(), T0).unwrap_err(),
            Refusal::ReblockTooSoon {
                retry_at: unblocked.saturating_add(TimeDelta::hours(48))
            }
        );
    }

    #[test]
    fn given_anything_when_ana_acts_on_herself_then_yourself() {
        let mut facts = given();
        facts.other = facts.actor.clone();
        assert_eq!(
            block(ANA, ANA, &facts, &Policy::default(), T0).unwrap_err(),
            Refusal::Yourself
        );
        assert_eq!(
            unblock(ANA, ANA, &facts, &Policy::default(), T0).unwrap_err(),
            Refusal::Yourself
        );
    }

    #[test]
    fn given_no_block_when_ana_unblocks_bo_then_nothing_changes() {
        let decision = unblock(ANA, BO, &given(), &Policy::default(), T0).unwrap();
        assert_eq!(decision.outcome, UnblockOutcome::NotBlocked);
        assert!(decision.changes.is_empty());
        assert!(decision.changes.events.is_empty());
    }
}
