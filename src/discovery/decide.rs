//! The pure decisions of discovery: follow and unfollow a company, join and
//! leave a group, dismiss a suggestion. Each takes the facts loaded from the
//! store and answers a refusal or a change set; repeating a command changes
//! nothing and answers the same.

use super::{DiscoveryPolicy, Dismissals, Follows, Memberships};
use crate::change::{ChangeSet, Decision};
use crate::error::Refusal;
use crate::event::Event;
use crate::id::{GroupId, MemberId};
use crate::invitation::{Bar, Invitation, PairState};
use crate::member::decide::{active, active_person};
use crate::member::{Kind, Member};
use crate::policy::Policy;
use crate::record::{OrNew, Record, Versioned};
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// What following, unfollowing or dismissing needs: the actor, the other
/// member, whether a block hides the other from the actor, and the actor's
/// record of the kind concerned.
#[derive(Clone, Debug)]
pub struct Facts<T> {
    /// The acting member's record.
    pub actor: Option<Versioned<Member>>,
    /// The other member's record (the company, or the dismissed member).
    pub other: Option<Versioned<Member>>,
    /// Whether a block, either way, hides the other member from the actor.
    pub hidden: bool,
    /// The actor's follows, memberships or dismissals.
    pub record: Option<Versioned<T>>,
}

impl Facts<Dismissals> {
    /// The effective time of a dismissal: the clock, or the latest recorded
    /// dismissal when the clock is behind it (a lagging process must not
    /// stamp a new dismissal as older than earlier ones).
    #[must_use]
    pub fn effective_now(&self, clock: Timestamp) -> Timestamp {
        let latest = self
            .record
            .as_ref()
            .and_then(|d| d.value.dismissed.values().max().copied());
        Timestamp::effective(clock, [latest])
    }
}

/// The other member as the actor may see them: active, not hidden.
fn visible<T>(facts: &Facts<T>, other: MemberId) -> Result<&Member, Refusal> {
    let member = active(facts.other.as_ref(), other)?;
    if facts.hidden {
        Err(Refusal::UnknownMember(other))
    } else {
        Ok(member)
    }
}

/// `member` follows `company`: one-way, no invitation, nobody notified but
/// the follower.
///
/// # Errors
/// [`Refusal::UnknownMember`] for an unknown or deactivated member or
/// company, or a company hidden by a block; [`Refusal::NotAPerson`] when the
/// follower is a company page; [`Refusal::NotACompany`] when the followed
/// member is a person; [`Refusal::TooManyFollows`].
pub fn follow(
    member: MemberId,
    company: MemberId,
    facts: &Facts<Follows>,
    policy: &DiscoveryPolicy,
) -> Result<Decision<()>, Refusal> {
    active_person(facts.actor.as_ref(), member)?;
    if visible(facts, company)?.kind != Kind::Company {
        return Err(Refusal::NotACompany(company));
    }
    let mut follows = facts.record.as_ref().or_new(|| Follows::new(member));
    if follows.companies.contains(&company) {
        return Ok(Decision::unchanged(()));
    }
    if follows.companies.len() >= policy.max_follows as usize {
        return Err(Refusal::TooManyFollows {
            max: policy.max_follows,
        });
    }
    follows.companies.insert(company);
    let mut changes = ChangeSet::default();
    changes.write(facts.record.as_ref(), Record::Follows(follows));
    changes.emit(Event::CompanyFollowed { member, company });
    Ok(changes.into())
}

/// `member` stops following `company`. Unfollowing a company not followed
/// changes nothing; a followed company is unfollowed whatever became of it
/// (deactivated, hidden), so that the limit can always be freed.
///
/// # Errors
/// [`Refusal::UnknownMember`] or [`Refusal::NotAPerson`] for the member.
pub fn unfollow(
    member: MemberId,
    company: MemberId,
    facts: &Facts<Follows>,
) -> Result<Decision<()>, Refusal> {
    active_person(facts.actor.as_ref(), member)?;
    let mut changes = ChangeSet::default();
    if let Some(read) = &facts.record {
        if read.value.companies.contains(&company) {
            let mut follows = read.value.clone();
            follows.companies.remove(&company);
            changes.write(Some(read), Record::Follows(follows));
            changes.emit(Event::CompanyUnfollowed { member, company });
        }
    }
    Ok(changes.into())
}

/// `member` joins `group`; groups shared with others count for discovery.
/// Groups are the host's ids: any id is a group.
///
/// # Errors
/// [`Refusal::UnknownMember`]; [`Refusal::NotAPerson`] for a company page;
/// [`Refusal::TooManyGroups`].
pub fn join_group(
    member: MemberId,
    group: GroupId,
    facts: &Facts<Memberships>,
    policy: &DiscoveryPolicy,
) -> Result<Decision<()>, Refusal> {
    active_person(facts.actor.as_ref(), member)?;
    let mut memberships = facts.record.as_ref().or_new(|| Memberships::new(member));
    if memberships.groups.contains(&group) {
        return Ok(Decision::unchanged(()));
    }
    if memberships.groups.len() >= policy.max_groups as usize {
        return Err(Refusal::TooManyGroups {
            max: policy.max_groups,
        });
    }
    memberships.groups.insert(group);
    let mut changes = ChangeSet::default();
    changes.write(facts.record.as_ref(), Record::Groups(memberships));
    changes.emit(Event::GroupJoined { member, group });
    Ok(changes.into())
}

/// `member` leaves `group`; leaving a group one is not in changes nothing.
///
/// # Errors
/// [`Refusal::UnknownMember`]; [`Refusal::NotAPerson`].
pub fn leave_group(
    member: MemberId,
    group: GroupId,
    facts: &Facts<Memberships>,
) -> Result<Decision<()>, Refusal> {
    active_person(facts.actor.as_ref(), member)?;
    let mut changes = ChangeSet::default();
    if let Some(read) = &facts.record {
        if read.value.groups.contains(&group) {
            let mut memberships = read.value.clone();
            memberships.groups.remove(&group);
            changes.write(Some(read), Record::Groups(memberships));
            changes.emit(Event::GroupLeft { member, group });
        }
    }
    Ok(changes.into())
}

/// `viewer` dismisses `candidate` from their people you may know, for good.
/// Dismissing twice changes nothing. Past the policy's
/// [`max_dismissed`](DiscoveryPolicy::max_dismissed), the oldest dismissal
/// (then the lowest id) is forgotten to make room.
///
/// # Errors
/// [`Refusal::UnknownMember`] for an unknown or deactivated viewer or
/// candidate, or a candidate hidden by a block; [`Refusal::NotAPerson`] when
/// either is a company page; [`Refusal::Yourself`].
pub fn dismiss(
    viewer: MemberId,
    candidate: MemberId,
    facts: &Facts<Dismissals>,
    policy: &DiscoveryPolicy,
    now: Timestamp,
) -> Result<Decision<()>, Refusal> {
    active_person(facts.actor.as_ref(), viewer)?;
    if viewer == candidate {
        return Err(Refusal::Yourself);
    }
    if visible(facts, candidate)?.kind != Kind::Person {
        return Err(Refusal::NotAPerson(candidate));
    }
    let now = facts.effective_now(now);
    let mut dismissals = facts.record.as_ref().or_new(|| Dismissals::new(viewer));
    if dismissals.dismissed.contains_key(&candidate) {
        return Ok(Decision::unchanged(()));
    }
    while dismissals.dismissed.len() >= policy.max_dismissed as usize {
        let oldest = dismissals
            .dismissed
            .iter()
            .min_by_key(|&(id, at)| (*at, *id))
            .map(|(&id, _)| id);
        match oldest {
            Some(id) => dismissals.dismissed.remove(&id),
            None => break,
        };
    }
    dismissals.dismissed.insert(candidate, now);
    let mut changes = ChangeSet::default();
    changes.write(facts.record.as_ref(), Record::Dismissed(dismissals));
    changes.emit(Event::SuggestionDismissed {
        member: viewer,
        dismissed: candidate,
    });
    Ok(changes.into())
}

/// Who never appears among `viewer`'s people you may know for reasons the
/// graph cannot see: the other party of each of the viewer's open
/// invitations, either way, still live at `now` (ignored and held ones
/// included: they are pending as far as their sender can tell), and the
/// members the viewer dismissed.
#[must_use]
pub fn pymk_excluded<'a>(
    viewer: MemberId,
    open: impl IntoIterator<Item = &'a Invitation>,
    dismissals: Option<&Dismissals>,
    policy: &Policy,
    now: Timestamp,
) -> BTreeSet<MemberId> {
    let mut excluded: BTreeSet<MemberId> = open
        .into_iter()
        .filter(|inv| inv.is_live(policy, now))
        .map(|inv| {
            if inv.sender == viewer {
                inv.recipient
            } else {
                inv.sender
            }
        })
        .collect();
    if let Some(d) = dismissals {
        excluded.extend(d.dismissed.keys().copied());
    }
    excluded
}

/// Whether no bar keeps `candidate` out of `viewer`'s people you may know,
/// given their pair's record: barred are a member who rejected the
/// viewer's invitation (the viewer was told), and one whom the viewer
/// rejected or answered "I don't know" (or reported). A member who answered
/// the viewer with "I don't know" is not barred for it: the viewer was never
/// told, and leaving them out would tell (a sender never learns an answer
/// they were not told).
#[must_use]
pub fn pymk_unbarred(viewer: MemberId, candidate: MemberId, pair: Option<&PairState>) -> bool {
    if viewer == candidate {
        return false;
    }
    pair.is_none_or(|p| {
        p.attempts(viewer).bar != Some(Bar::Rejected) && p.attempts(candidate).bar.is_none()
    })
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::member::Profile;
    use crate::record::Version;

    fn read<T>(value: T) -> Option<Versioned<T>> {
        Some(Versioned {
            version: Version::FIRST,
            value,
        })
    }

    fn facts<T>(other: Member, record: Option<T>) -> Facts<T> {
        Facts {
            actor: read(Member::person(MemberId::new(1), Profile::named("A"))),
            other: read(other),
            hidden: false,
            record: record.and_then(read),
        }
    }

    #[test]
    fn follow_refusals_limits_and_repeats() {
        let (ana, acme, bo) = (MemberId::new(1), MemberId::new(9), MemberId::new(2));
        let policy = DiscoveryPolicy {
            max_follows: 1,
            ..DiscoveryPolicy::default()
        };
        let company = Member::company(acme, Profile::named("Acme"));
        let f = facts::<Follows>(company.clone(), None);
        let changes = follow(ana, acme, &f, &policy)
            .map(|d| d.changes)
            .unwrap_or_default();
        assert_eq!(changes.writes.len(), 1);
        assert_eq!(
            follow(
                ana,
                bo,
                &facts(Member::person(bo, Profile::named("B")), None),
                &policy
            ),
            Err(Refusal::NotACompany(bo))
        );
        let mut hidden = facts::<Follows>(company.clone(), None);
        hidden.hidden = true;
        assert_eq!(
            follow(ana, acme, &hidden, &policy),
            Err(Refusal::UnknownMember(acme))
        );
        let mut following = Follows::new(ana);
        following.companies.insert(acme);
        let again = facts(company.clone(), Some(following.clone()));
        assert_eq!(
            follow(ana, acme, &again, &policy),
            Ok(Decision::unchanged(()))
        );
        let other = MemberId::new(10);
        let full = facts(Member::company(other, Profile::named("B")), Some(following));
        assert_eq!(
            follow(ana, other, &full, &policy),
            Err(Refusal::TooManyFollows { max: 1 })
        );
        assert_eq!(
            unfollow(ana, other, &full).map(|c| c.changes.is_empty()),
            Ok(true)
        );
        assert_eq!(
            unfollow(ana, acme, &full).map(|c| c.changes.writes.len()),
            Ok(1)
        );
    }

    #[test]
    fn dismiss_forgets_the_oldest_past_the_limit() {
        let (ana, bo, cy) = (MemberId::new(1), MemberId::new(2), MemberId::new(3));
        let policy = DiscoveryPolicy {
            max_dismissed: 1,
            ..DiscoveryPolicy::default()
        };
        let mut earlier = Dismissals::new(ana);
        earlier.dismissed.insert(cy, Timestamp::UNIX_EPOCH);
        let f = facts(Member::person(bo, Profile::named("B")), Some(earlier));
        let changes = dismiss(ana, bo, &f, &policy, Timestamp::from_micros(5))
            .map(|d| d.changes)
            .unwrap_or_default();
        match &changes.writes[..] {
            [w] => match &w.change {
                crate::change::Change::Put(Record::Dismissed(d)) => {
                    assert_eq!(d.dismissed.keys().copied().collect::<Vec<_>>(), vec![bo]);
                }
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            dismiss(ana, ana, &f, &policy, Timestamp::UNIX_EPOCH),
            Err(Refusal::Yourself)
        );
    }

    /// A process whose clock lags the one that recorded the earlier
    /// dismissal stamps the new one no earlier, so "the oldest is forgotten"
    /// still forgets the one dismissed first.
    #[test]
    fn dismiss_stamps_with_the_effective_time() {
        let (ana, bo, cy) = (MemberId::new(1), MemberId::new(2), MemberId::new(3));
        let recorded = Timestamp::from_micros(1_000);
        let mut earlier = Dismissals::new(ana);
        earlier.dismissed.insert(cy, recorded);
        let f = facts(Member::person(bo, Profile::named("B")), Some(earlier));
        let lagging = Timestamp::from_micros(5);
        let changes = dismiss(ana, bo, &f, &DiscoveryPolicy::default(), lagging)
            .map(|d| d.changes)
            .unwrap_or_default();
        match &changes.writes[..] {
            [w] => match w.record() {
                Some(Record::Dismissed(d)) => assert_eq!(d.dismissed.get(&bo), Some(&recorded)),
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    }
}
