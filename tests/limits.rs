//! Quotas, limits and spam standing: SPEC.md sections 4 and 5, and
//! properties Q1 to Q5 of RELIABILITY.md.
//!
//! Every send here goes to a stranger with the stranger's email address as
//! proof, so eligibility never interferes; notes are added where a test
//! must stay clear of the standing signals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::TimeDelta;
use pronet::quota::Quota;
use pronet::standing::{self, Answer, Level, SendEntry, Signal, Standing, StandingPolicy};
use pronet::{
    Committed, Email, Error, Event, InvitationId, ManualClock, Member, MemberId, MemoryStore,
    Network, Policy, Profile, Refusal, SendOutcome, Tier, Timestamp,
};
use proptest::prelude::*;
use std::sync::{Arc, Barrier};
use support::{T0, quota_policy, refusal, sent_id};

const SENDER: MemberId = MemberId::new(0);

type Net = Network<Arc<MemoryStore>, ManualClock>;

struct World {
    net: Net,
    store: Arc<MemoryStore>,
    clock: ManualClock,
}

fn email_of(id: u64) -> Email {
    Email::parse(&format!("m{id}@example.com")).unwrap()
}

fn member(id: u64, tier: Tier) -> Member {
    Member::person(MemberId::new(id), Profile::named(format!("M{id}")))
        .with_email(email_of(id), true)
        .with_tier(tier)
}

/// A network of `members` persons (id 0 is the sender) at day 0.
fn world(members: u64, policy: Policy) -> World {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(T0);
    let net = Network::open(Arc::clone(&store), clock.clone(), policy).unwrap();
    for id in 0..members {
        let _ = net.register(member(id, Tier::Free)).unwrap();
    }
    World { net, store, clock }
}

impl World {
    fn at(&self, offset: TimeDelta) {
        self.clock.set(T0.saturating_add(offset));
    }

    fn send(&self, to: u64, note: Option<&str>) -> Result<Committed<SendOutcome>, Error> {
        self.net.send(
            pronet::SendRequest::new(SENDER, MemberId::new(to))
                .maybe_note(note)
                .proof(&email_of(to)),
        )
    }
}

/// Q1: the default Free quota, 300 per rolling 30 days: exactly 300 pass,
/// one more fails with the exact instant the window frees a slot, and at
/// that instant exactly one more passes.
#[test]
fn q1_free_quota_is_exact_at_every_window_boundary() {
    let w = world(310, Policy::default());
    let gap = TimeDelta::hours(2);
    let mut events = Vec::new();
    for i in 0..300 {
        w.at(gap * i);
        let sent = w
            .send(i as u64 + 1, Some("Hello, we met at the meetup."))
            .unwrap();
        events = sent.events;
    }
    // The 300th send used the last slot, and said so.
    let retry_at = T0.saturating_add(TimeDelta::days(30));
    assert!(events.contains(&Event::QuotaExhausted {
        member: SENDER,
        retry_at
    }));
    w.at(gap * 300);
    assert_eq!(
        refusal(w.send(301, Some("Hello"))),
        Refusal::QuotaExhausted { retry_at }
    );
    w.at(TimeDelta::days(30) - TimeDelta::microseconds(1));
    assert_eq!(
        refusal(w.send(301, Some("Hello"))),
        Refusal::QuotaExhausted { retry_at }
    );
    // The first send leaves the window at exactly day 30: one slot.
    w.at(TimeDelta::days(30));
    let _ = w.send(301, Some("Hello")).unwrap();
    assert_eq!(
        refusal(w.send(302, Some("Hello"))),
        Refusal::QuotaExhausted {
            retry_at: T0.saturating_add(TimeDelta::days(30) + gap)
        }
    );
    w.at(TimeDelta::days(30) + gap);
    let _ = w.send(302, Some("Hello")).unwrap();
}

/// Q1 under concurrency: the last slot, raced by threads sending to
/// different recipients, is taken exactly once.
#[test]
fn q1_last_quota_slot_raced_by_threads_is_taken_once() {
    let reps: usize = support::env_number("PRONET_RACE_REPS", 50);
    for _ in 0..reps {
        let w = world(12, quota_policy(5));
        for to in 1..=4 {
            let _ = w.send(to, Some("hi")).unwrap();
        }
        let barrier = Barrier::new(4);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (5..=8)
                .map(|to| {
                    let (w, barrier) = (&w, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        w.send(to, Some("hi"))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "{results:?}");
        for r in results.into_iter().filter(Result::is_err) {
            assert!(matches!(refusal(r), Refusal::QuotaExhausted { .. }));
        }
        let pending = w
            .net
            .sent(
                SENDER,
                None,
                pronet::PageSize::new(pronet::PageSize::MAX).unwrap(),
            )
            .unwrap();
        assert_eq!(pending.items.len(), 5);
    }
}

/// Q2: a clock that jumps backwards, by a second up to a year and
/// repeatedly, refills no quota and ends no wait early, in this process and
/// in a new one opened over the same store.
#[test]
fn q2_clock_jumping_back_refills_nothing_and_ends_no_wait() {
    let w = world(6, quota_policy(3));
    for to in 1..=3 {
        let _ = w.send(to, Some("hi")).unwrap();
    }
    let quota_end = T0.saturating_add(TimeDelta::days(30));
    let resend_end = T0.saturating_add(TimeDelta::days(90));
    // Within the policy's max_clock_skew (1 day): the recorded time holds.
    for back in [
        TimeDelta::seconds(1),
        TimeDelta::hours(1),
        TimeDelta::hours(22),
    ] {
        w.clock.advance(-back);
        support::refusals! {
            w.send(4, Some("hi")) => Refusal::QuotaExhausted { retry_at: quota_end },
            w.send(1, Some("again")) => Refusal::ResendTooSoon { retry_at: resend_end },
        }
    }
    // Beyond it (a day, a year, twice): the records ahead of the clock are
    // refused by name, and nothing is decided or written.
    let before = w.store.snapshot();
    for back in [
        TimeDelta::days(1),
        TimeDelta::days(365),
        TimeDelta::days(365),
    ] {
        w.clock.advance(-back);
        for to in [4, 1] {
            let answer = w.send(to, Some("hi"));
            assert!(matches!(answer, Err(Error::ClockSkew { .. })), "{answer:?}");
        }
    }
    assert_eq!(w.store.snapshot(), before);
    // A restarted process with a clock a year behind: the same.
    let earlier = ManualClock::new(T0.saturating_sub(TimeDelta::days(365)));
    let net2 = Network::open(Arc::clone(&w.store), earlier.clone(), quota_policy(3)).unwrap();
    let answer = net2.send(
        pronet::SendRequest::new(SENDER, MemberId::new(4))
            .note("hi")
            .proof(&email_of(4)),
    );
    assert!(matches!(answer, Err(Error::ClockSkew { .. })), "{answer:?}");
    // With the check off, it reads the recorded time.
    let unchecked = Policy::builder()
        .invitation_quota(Tier::Free, Quota::new(3, TimeDelta::days(30)).unwrap())
        .invitation_quota(
            Tier::Premium(0),
            Quota::new(6, TimeDelta::days(30)).unwrap(),
        )
        .max_clock_skew(TimeDelta::MAX)
        .build()
        .unwrap();
    let net3 = Network::open(Arc::clone(&w.store), earlier, unchecked).unwrap();
    assert_eq!(
        refusal(
            net3.send(
                pronet::SendRequest::new(SENDER, MemberId::new(4))
                    .note("hi")
                    .proof(&email_of(4))
            )
        ),
        Refusal::QuotaExhausted {
            retry_at: quota_end
        }
    );
    // An invitation that expired does not come back when the clock does.
    let w = world(3, Policy::default());
    let id = sent_id(&w.send(1, Some("hi")).unwrap());
    w.at(TimeDelta::days(180));
    assert!(matches!(
        refusal(w.net.accept(MemberId::new(1), id)),
        Refusal::NotPending { .. }
    ));
    w.at(TimeDelta::days(179));
    assert!(matches!(
        refusal(w.net.accept(MemberId::new(1), id)),
        Refusal::NotPending { .. }
    ));
}

/// Q3: refused sends and crossing sends (which accept instead) use no quota.
#[test]
fn q3_only_successful_sends_count() {
    let w = world(8, quota_policy(3));
    // Refused: an invalid note, twice.
    for _ in 0..2 {
        assert!(matches!(
            refusal(w.send(1, Some("bad\u{7}note"))),
            Refusal::InvalidNote(_)
        ));
    }
    // A crossing send: member 5 invites the sender, the sender "sends" back.
    let from5 = w
        .net
        .send(pronet::SendRequest::new(MemberId::new(5), SENDER).proof(&email_of(0)))
        .unwrap();
    let crossing = w.send(5, None).unwrap();
    assert_eq!(
        crossing.outcome,
        SendOutcome::Connected {
            accepted: sent_id(&from5)
        }
    );
    // All three slots are still free.
    for to in 1..=3 {
        let _ = w.send(to, Some("hi")).unwrap();
    }
    assert!(matches!(
        refusal(w.send(4, Some("hi"))),
        Refusal::QuotaExhausted { .. }
    ));
}

/// Q4: changing tier never resets the window: a downgrade with more sends
/// in the window than the lower quota allows must wait; upgrading back only
/// raises the limit over the same window.
#[test]
fn q4_tier_changes_never_reset_the_window() {
    let w = world(12, quota_policy(3));
    let _ = w
        .net
        .update_member(SENDER, |m| m.tier = Tier::Premium(0))
        .unwrap();
    for to in 1..=5 {
        let _ = w.send(to, Some("hi")).unwrap();
    }
    let _ = w
        .net
        .update_member(SENDER, |m| m.tier = Tier::Free)
        .unwrap();
    assert_eq!(
        refusal(w.send(6, Some("hi"))),
        Refusal::QuotaExhausted {
            retry_at: T0.saturating_add(TimeDelta::days(30))
        }
    );
    let _ = w
        .net
        .update_member(SENDER, |m| m.tier = Tier::Premium(0))
        .unwrap();
    let _ = w.send(6, Some("hi")).unwrap();
    assert!(matches!(
        refusal(w.send(7, Some("hi"))),
        Refusal::QuotaExhausted { .. }
    ));
}

/// Q5: extreme instants and durations neither overflow nor panic.
#[test]
fn q5_extreme_instants_do_not_panic() {
    for start in [
        Timestamp::MAX,
        Timestamp::MAX.saturating_sub(TimeDelta::days(1)),
        Timestamp::MIN,
        Timestamp::UNIX_EPOCH,
    ] {
        let w = world(4, Policy::default());
        w.clock.set(start);
        let id = sent_id(&w.send(1, Some("hi")).unwrap());
        w.clock.advance(TimeDelta::MAX);
        let _ = w.send(1, Some("again"));
        let _ = w.net.accept(MemberId::new(1), id);
        w.clock.advance(TimeDelta::MIN);
        let _ = w.send(2, Some("hi"));
        // Answers, or names the record beyond the clock: never a panic.
        let standing = w.net.standing(SENDER);
        assert!(
            matches!(standing, Ok(_) | Err(Error::ClockSkew { .. })),
            "{standing:?}"
        );
        let _ = w
            .net
            .sent(SENDER, None, pronet::PageSize::default())
            .unwrap();
    }
}

/// SPEC 4: at most `max_outstanding` pending at once.
#[test]
fn outstanding_invitations_are_capped() {
    let w = world(6, Policy::builder().max_outstanding(2).build().unwrap());
    let first = sent_id(&w.send(1, Some("hi")).unwrap());
    let _ = w.send(2, Some("hi")).unwrap();
    assert_eq!(
        refusal(w.send(3, Some("hi"))),
        Refusal::TooManyOutstanding { max: 2 }
    );
    let _ = w.net.withdraw(SENDER, first).unwrap();
    let _ = w.send(3, Some("hi")).unwrap();
    // Expired invitations are no longer outstanding.
    w.at(TimeDelta::days(180));
    let _ = w.send(4, Some("hi")).unwrap();
    let _ = w.send(5, Some("hi")).unwrap();
}

/// SPEC 4: a personalised-note allowance (5 per 30 days, as LinkedIn's free
/// tier) refuses the sixth note, while a send without a note passes.
#[test]
fn note_allowance_limits_notes_not_sends() {
    let notes = Quota::new(5, TimeDelta::days(30)).unwrap();
    let w = world(
        10,
        Policy::builder()
            .note_quota(Tier::Free, Some(notes))
            .build()
            .unwrap(),
    );
    for to in 1..=5 {
        w.at(TimeDelta::hours(to as i64));
        let _ = w.send(to, Some("a personal note")).unwrap();
    }
    assert_eq!(
        refusal(w.send(6, Some("one too many"))),
        Refusal::NoteQuotaExhausted {
            retry_at: T0.saturating_add(TimeDelta::days(30) + TimeDelta::hours(1))
        }
    );
    let _ = w.send(6, None).unwrap();
}

/// SPEC 5's example: an account sending 100 unpersonalised invitations to
/// strangers in an hour ends restricted, with its reasons, as an event; it
/// then needs email proof for every invitation, and can still answer.
#[test]
fn spec5_unpersonalised_burst_to_strangers_ends_restricted() {
    let w = world(103, Policy::default());
    let mut changes = Vec::new();
    for to in 1..=100u64 {
        w.at(TimeDelta::seconds(36 * to as i64));
        let sent = w.send(to, None).unwrap();
        changes.extend(
            sent.events
                .into_iter()
                .filter(|e| matches!(e, Event::StandingChanged { .. })),
        );
    }
    let standing = w.net.standing(SENDER).unwrap();
    assert_eq!(standing.level, Level::Restricted);
    assert!(
        standing
            .reasons
            .contains(&Signal::WithoutNote { percent: 100 })
    );
    assert!(
        standing
            .reasons
            .contains(&Signal::OutsideNetwork { percent: 100 })
    );
    assert!(
        standing
            .reasons
            .iter()
            .any(|r| matches!(r, Signal::Burst { .. }))
    );
    let restricted_at = changes.iter().find_map(|e| match e {
        Event::StandingChanged {
            to: Level::Restricted,
            until,
            reasons,
            ..
        } => Some((*until, reasons.len())),
        _ => None,
    });
    let (until, reasons) = restricted_at.expect("a StandingChanged event to Restricted");
    assert_eq!(reasons, 3);
    let until = until.unwrap();
    // Restricted: eligible through contacts but without proof, refused.
    let to = MemberId::new(101);
    let _ = w.net.add_contacts(SENDER, &[email_of(101)]).unwrap();
    assert_eq!(
        refusal(w.net.send(pronet::SendRequest::new(SENDER, to))),
        Refusal::EmailProofRequired { until }
    );
    // Still answers: member 102 invites the sender, who ignores it.
    let inv = sent_id(
        &w.net
            .send(pronet::SendRequest::new(MemberId::new(102), SENDER).proof(&email_of(0)))
            .unwrap(),
    );
    let _ = w.net.ignore(SENDER, inv).unwrap();
    // The restriction lifts by itself.
    w.clock.set(until);
    assert_eq!(w.net.standing(SENDER).unwrap().level, Level::Good);
}

/// SPEC 5: enough signals suspend sending; a suspended member still
/// accepts, rejects and withdraws.
#[test]
fn spec5_reports_and_unknowns_suspend_sending_but_not_answering() {
    let w = world(60, Policy::default());
    let mut ids = Vec::new();
    for to in 1..=45u64 {
        w.at(TimeDelta::seconds(60 * to as i64));
        ids.push(sent_id(&w.send(to, None).unwrap()));
    }
    // Five recipients report, and the sender is invited by member 55.
    for (i, id) in ids.iter().take(5).enumerate() {
        let _ = w
            .net
            .report_invitation(MemberId::new(i as u64 + 1), *id)
            .unwrap();
    }
    let incoming = sent_id(
        &w.net
            .send(pronet::SendRequest::new(MemberId::new(55), SENDER).proof(&email_of(0)))
            .unwrap(),
    );
    // Not within the epoch of the reports (SPEC 5): only the public
    // signals count, and they restrict.
    assert_eq!(w.net.standing(SENDER).unwrap().level, Level::Restricted);
    // From the next evaluation epoch the private ones count too.
    w.at(TimeDelta::days(1));
    let refused = refusal(w.send(46, None));
    let Refusal::Suspended { until } = refused else {
        panic!("expected a suspension, got {refused:?}")
    };
    let standing = w.net.standing(SENDER).unwrap();
    assert_eq!(standing.level, Level::Suspended);
    assert_eq!(standing.until, Some(until));
    assert!(standing.reasons.contains(&Signal::Reported));
    assert!(standing.reasons.contains(&Signal::NotKnown));
    let _ = w.net.withdraw(SENDER, ids[10]).unwrap();
    let _ = w.net.accept(SENDER, incoming).unwrap();
    assert!(until > T0);
}

fn entry_strategy() -> impl Strategy<Value = SendEntry> {
    (
        0i64..3_000,
        0u64..1_000,
        any::<bool>(),
        any::<bool>(),
        0u8..6,
    )
        .prop_map(|(secs, id, with_note, outside, answer)| {
            let mut e = SendEntry::new(
                T0.saturating_add(TimeDelta::seconds(secs * 60)),
                InvitationId::new(id),
                with_note,
                outside,
            );
            e.answer = match answer {
                0 => Some(Answer::Accepted),
                1 => Some(Answer::Rejected),
                2 => Some(Answer::DontKnow),
                3 => Some(Answer::Spam),
                4 => Some(Answer::Withdrawn),
                _ => None,
            };
            e
        })
}

proptest! {
    /// Standing is deterministic and monotone: one more reject, "I don't
    /// know" or report never improves it; one more accept never worsens it.
    /// (Each case asks about one more report before it needs an unanswered
    /// send, so reports are checked in every case.)
    #[test]
    fn standing_is_deterministic_and_monotone(
        mut sends in prop::collection::vec(entry_strategy(), 0..80),
        pick in any::<prop::sample::Index>(),
        worse in prop::sample::select(vec![Answer::Rejected, Answer::DontKnow, Answer::Spam]),
        days_later in 0i64..20,
        reports in prop::collection::vec((0i64..3_000).prop_map(|m| T0.saturating_add(TimeDelta::minutes(m))), 0..5),
        extra_report in (0i64..3_000).prop_map(|m| T0.saturating_add(TimeDelta::minutes(m))),
    ) {
        let policy = StandingPolicy::default();
        let now = T0.saturating_add(TimeDelta::days(2 + days_later));
        let base = Standing::default();
        let before = standing::evaluate(&base, &sends, &reports, &policy, now);
        prop_assert_eq!(&before, &standing::evaluate(&base, &sends, &reports, &policy, now));
        let mut more_reports = reports.clone();
        more_reports.push(extra_report);
        let after_report = standing::evaluate(&base, &sends, &more_reports, &policy, now);
        prop_assert!(after_report.level >= before.level);
        let unanswered: Vec<usize> =
            (0..sends.len()).filter(|&i| sends[i].answer.is_none()).collect();
        prop_assume!(!unanswered.is_empty());
        let i = unanswered[pick.index(unanswered.len())];
        let mut worse_sends = sends.clone();
        worse_sends[i].answer = Some(worse);
        let after_worse = standing::evaluate(&base, &worse_sends, &reports, &policy, now);
        prop_assert!(after_worse.level >= before.level);
        sends[i].answer = Some(Answer::Accepted);
        let after_accept = standing::evaluate(&base, &sends, &reports, &policy, now);
        prop_assert!(after_accept.level <= before.level);
    }
}

// ------------------------------------------- SPEC 5: private answers in standing

/// What the sender can observe, at one instant: their standing, their sent
/// list, each invitation's view, and a send's full answer (to a fresh
/// member), which carries any standing-change event.
fn sender_view(w: &World, ids: &[InvitationId], probe: u64) -> String {
    let standing = w.net.standing(SENDER);
    let sent = w.net.sent(SENDER, None, pronet::PageSize::default());
    let views: Vec<_> = ids
        .iter()
        .map(|&id| w.net.invitation(SENDER, id).map(|v| v.seen))
        .collect();
    let send = w.send(probe, Some("Hello, we met at the meetup."));
    format!("{standing:?}\n{sent:?}\n{views:?}\n{send:?}")
}

/// Two worlds (SPEC 5, issue 11 item 4): the sender invites 9 accounts of
/// their own and a target; 2 own accounts answer "I don't know" (below the
/// private signal floor of 3 with the target). In one world the target
/// answers "I don't know" too, in the other it does nothing. Within the
/// epoch of the answer, everything the sender observes is identical, even
/// with the floor reached; below the floor it stays identical forever.
#[test]
fn spec5_one_private_answer_is_not_observable_within_the_epoch_or_below_the_floor() {
    let observe = |target_answers: bool, own_private: usize| -> Vec<String> {
        let w = world(40, Policy::default());
        let mut ids = Vec::new();
        for to in 1..=10u64 {
            w.at(TimeDelta::minutes(to as i64));
            ids.push(sent_id(
                &w.send(to, Some("Hello, we met at the meetup.")).unwrap(),
            ));
        }
        let mut seen = Vec::new();
        w.at(TimeDelta::hours(1));
        for (i, &id) in ids.iter().take(own_private).enumerate() {
            let _ = w
                .net
                .ignore_unknown(MemberId::new(i as u64 + 1), id)
                .unwrap();
        }
        seen.push(sender_view(&w, &ids, 20));
        w.at(TimeDelta::hours(2));
        if target_answers {
            let _ = w.net.ignore_unknown(MemberId::new(10), ids[9]).unwrap();
        }
        // Polled right after the answer, and through the rest of the epoch
        // (T0 is midnight; the epoch is one day).
        for (probe, hours) in [(21, 2), (22, 12), (23, 23)] {
            w.at(TimeDelta::hours(hours));
            seen.push(sender_view(&w, &ids, probe));
        }
        // Later epochs.
        for (probe, days) in [(24, 1), (25, 3), (26, 20)] {
            w.at(TimeDelta::days(days));
            seen.push(sender_view(&w, &ids, probe));
        }
        seen
    };
    // Below the floor: 1 own private answer, plus perhaps the target's.
    let (answered, silent) = (observe(true, 1), observe(false, 1));
    assert_eq!(
        answered, silent,
        "below the floor the answer is never observable"
    );
    // At the floor: identical within the epoch, then the signal shows,
    // without a count.
    let (answered, silent) = (observe(true, 2), observe(false, 2));
    assert_eq!(answered[..4], silent[..4], "within the epoch nothing shows");
    assert_ne!(answered[4], silent[4], "the next epoch applies it");
    assert!(answered[4].contains("NotKnown"), "{}", answered[4]);
    assert!(!silent.iter().any(|s| s.contains("NotKnown")));
}

/// SPEC 5: private answers trip `NotKnown` for a sender of any volume once
/// the floor is reached (a sender of 5 sends with 3 "I don't know"), and
/// the reasons carry no count or share.
#[test]
fn spec5_private_answers_count_at_the_floor_whatever_the_volume() {
    let w = world(10, Policy::default());
    let mut ids = Vec::new();
    for to in 1..=5u64 {
        ids.push(sent_id(
            &w.send(to, Some("Hello, we met at the meetup.")).unwrap(),
        ));
    }
    for (i, &id) in ids.iter().take(3).enumerate() {
        let _ = w
            .net
            .ignore_unknown(MemberId::new(i as u64 + 1), id)
            .unwrap();
    }
    assert_eq!(w.net.standing(SENDER).unwrap().level, Level::Good);
    w.at(TimeDelta::days(1));
    let standing = w.net.standing(SENDER).unwrap();
    assert_eq!(standing.level, Level::Warned);
    assert_eq!(standing.reasons, vec![Signal::NotKnown]);
}

// ------------------------------------------------------- profile limits

/// SPEC 5: every member-supplied field has a limit. Each field one past its
/// default limit is refused at registration and on update, naming the field
/// and the limit, and nothing is written; at the limit it is accepted.
#[test]
fn oversized_profile_fields_are_refused_at_register_and_update() {
    use pronet::{ProfileField, ProfileLimits};
    let limits = ProfileLimits::default();
    assert_eq!(limits.display_name_chars, 100);
    assert_eq!(limits.headline_chars, 220);
    let text = |n: u32| "é".repeat(n as usize);
    let list = |n: u32| (0..n).map(|i| format!("s{i}")).collect::<Vec<_>>();
    let companies = |n: u32| {
        (0..u64::from(n))
            .map(|i| MemberId::new(1_000 + i))
            .collect()
    };
    // A member with one field at `n` (characters or entries).
    let with = |id: u64, field: ProfileField, n: u32| {
        let mut m = member(id, Tier::Free);
        let p = &mut m.profile;
        match field {
            ProfileField::DisplayName => p.display_name = text(n),
            ProfileField::Headline => p.headline = text(n),
            ProfileField::Location => p.location = text(n),
            ProfileField::CurrentCompanies => p.current_companies = companies(n),
            ProfileField::PastCompanies => p.past_companies = companies(n),
            ProfileField::Schools => p.schools = list(n),
            ProfileField::School => p.schools = vec![text(n)],
            ProfileField::Skills => p.skills = list(n),
            ProfileField::Skill => p.skills = vec![text(n)],
            ProfileField::Emails => {
                m.emails.clear();
                for i in 0..u64::from(n) {
                    m = m.with_email(email_of(10_000 * (id + 1) + i), true);
                }
            }
            _ => unreachable!(),
        }
        m
    };
    let w = world(1, Policy::default());
    for (next, (field, limit)) in (1..).zip(limits.all()) {
        let before = w.store.snapshot();
        // Registering one past the limit.
        let over = with(next, field, limit + 1);
        assert_eq!(
            refusal(w.net.register(over)),
            Refusal::ProfileTooLarge { field, limit },
            "{field}"
        );
        assert!(w.store.snapshot() == before, "{field}: refused yet written");
        // At the limit it registers; one more on update is refused.
        let _ = w.net.register(with(next, field, limit)).unwrap();
        let before = w.store.snapshot();
        assert_eq!(
            refusal(w.net.update_member(MemberId::new(next), |m| {
                *m = with(next, field, limit + 1);
            })),
            Refusal::ProfileTooLarge { field, limit },
            "{field}"
        );
        assert!(w.store.snapshot() == before, "{field}: refused yet written");
    }
    // A 64 MiB display name is refused like any other, on both paths.
    let huge = Member::person(MemberId::new(999), Profile::named("x".repeat(64 << 20)));
    assert_eq!(
        refusal(w.net.register(huge.clone())),
        Refusal::ProfileTooLarge {
            field: ProfileField::DisplayName,
            limit: 100
        }
    );
    assert!(matches!(
        refusal(
            w.net
                .update_member(SENDER, |m| m.profile = huge.profile.clone())
        ),
        Refusal::ProfileTooLarge { .. }
    ));
}

/// The limits are the host's: a policy may lower or raise them, within
/// 1 to `ProfileLimits::CEILING`.
#[test]
fn profile_limits_are_policy() {
    use pronet::{PolicyError, ProfileField, ProfileLimits};
    let mut limits = ProfileLimits::default();
    limits.skills = 2;
    let policy = Policy::builder().profile_limits(limits).build().unwrap();
    assert_eq!(policy.profile_limits().skills, 2);
    let w = world(1, policy);
    let mut m = member(1, Tier::Free);
    m.profile.skills = vec!["a".into(), "b".into(), "c".into()];
    assert_eq!(
        refusal(w.net.register(m.clone())),
        Refusal::ProfileTooLarge {
            field: ProfileField::Skills,
            limit: 2
        }
    );
    m.profile.skills.pop();
    let _ = w.net.register(m).unwrap();
    for bad in [0, ProfileLimits::CEILING + 1] {
        let mut limits = ProfileLimits::default();
        limits.headline_chars = bad;
        assert_eq!(
            Policy::builder().profile_limits(limits).build(),
            Err(PolicyError::ProfileLimits)
        );
    }
}
