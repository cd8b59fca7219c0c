//! Q2 with forward jumps (issue 11, item 3): one bad reading of the host
//! clock, ten years ahead, then corrected. It must be contained (members not
//! involved act at the real time, in the same process and after a restart,
//! and it does not spread to whoever deals with the records it stamped),
//! detected (a record beyond the policy's `max_clock_skew` is refused with
//! `Error::ClockSkew` naming its key, and nothing is decided from it), and
//! repairable (`Network::repair_clock` brings those records back, after
//! which the waits run in real time). A forward jump within the skew keeps
//! SPEC 4: time never goes backwards for the records it stamped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::TimeDelta;
use pronet::record::Key;
use pronet::{
    Error, InvitationId, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile,
    Refusal, SendOutcome, Store, Timestamp,
};
use std::sync::Arc;
use support::{T0, at, email_of};

const ANA: MemberId = MemberId::new(1);
const BO: MemberId = MemberId::new(2);
const CY: MemberId = MemberId::new(3);
const DEE: MemberId = MemberId::new(4);
const EVE: MemberId = MemberId::new(5);

/// Registers each `(member, name)` as a person with a discoverable address.
fn register<S: Store>(net: &Network<S, ManualClock>, people: &[(MemberId, &str)]) {
    for &(m, name) in people {
        let _ = net
            .register(Member::person(m, Profile::named(name)).with_email(email_of(m), true))
            .unwrap();
    }
}

fn send<S: Store>(
    net: &Network<S, ManualClock>,
    from: MemberId,
    to: MemberId,
) -> Result<InvitationId, Error> {
    let sent = net.send(
        pronet::SendRequest::new(from, to)
            .note("We met at the meetup.")
            .proof(&email_of(to)),
    )?;
    match sent.outcome {
        SendOutcome::Sent(id) => Ok(id),
        other => panic!("expected a new invitation, got {other:?}"),
    }
}

fn skew<T: std::fmt::Debug>(answer: Result<T, Error>) -> (Key, Timestamp) {
    match answer {
        Err(Error::ClockSkew { key, recorded, .. }) => (key, recorded),
        other => panic!("expected a clock-skew error, got {other:?}"),
    }
}

fn glitch<S: Store + Send + Sync + 'static>(store: Arc<S>) {
    let clock = ManualClock::new(T0);
    let open = |clock: &ManualClock| {
        Network::open(Arc::clone(&store), clock.clone(), Policy::default()).unwrap()
    };
    let net = open(&clock);
    register(
        &net,
        &[
            (ANA, "Ana"),
            (BO, "Bo"),
            (CY, "Cy"),
            (DEE, "Dee"),
            (EVE, "Eve"),
        ],
    );

    // One reading ten years ahead: Ana invites Bo.
    let future = at(TimeDelta::days(3650));
    clock.set(future);
    let to_bo = send(&net, ANA, BO).unwrap();
    // The clock is corrected.
    let real = at(TimeDelta::hours(1));
    clock.set(real);

    // Contained: Eve, never involved, acts at the real time in this process.
    let eve_to_dee = send(&net, EVE, DEE).unwrap();
    assert_eq!(net.invitation(EVE, eve_to_dee).unwrap().sent_at, real);

    // Detected: whatever reads the stamped records is refused by name, and
    // nothing is written.
    let before = net
        .store()
        .changes_since(pronet::ChangeCursor::new(0), usize::MAX)
        .unwrap();
    let (key, recorded) = skew(send(&net, ANA, CY));
    assert_eq!(recorded, future);
    assert!(
        matches!(key, Key::Ledger(m) if m == ANA) || matches!(key, Key::Pair(_)),
        "{key:?}"
    );
    let (_, recorded) = skew(net.accept(BO, to_bo));
    assert_eq!(recorded, future);
    // Cy, who would invite Ana, would read Ana's ledger: refused, so the
    // future date does not spread to Cy.
    let _ = skew(send(&net, CY, ANA));
    let after = net
        .store()
        .changes_since(pronet::ChangeCursor::new(0), usize::MAX)
        .unwrap();
    assert_eq!(
        before.changes, after.changes,
        "nothing decided from the glitch"
    );

    // After a restart: the same, and Eve and Dee still act at real time.
    clock.set(at(TimeDelta::hours(2)));
    let net = open(&clock);
    let _ = skew(send(&net, ANA, CY));
    let dee_to_cy = send(&net, DEE, CY).unwrap();
    assert_eq!(
        net.invitation(DEE, dee_to_cy).unwrap().sent_at,
        at(TimeDelta::hours(2))
    );

    // Repaired: the records come back to the clock.
    let now = at(TimeDelta::hours(3));
    clock.set(now);
    let repaired = net.repair_clock().unwrap();
    assert!(
        repaired >= 3,
        "the invitation, the pair and Ana's ledger: {repaired}"
    );
    assert_eq!(
        net.repair_clock().unwrap(),
        0,
        "running it again rewrites nothing"
    );
    assert_eq!(net.invitation(ANA, to_bo).unwrap().sent_at, now);
    // Ana withdraws; 30 real days later the re-send wait runs from now, not
    // from the future reading.
    let _ = net.withdraw(ANA, to_bo).unwrap();
    clock.set(now.saturating_add(TimeDelta::days(30)));
    let refused = net
        .send(pronet::SendRequest::new(ANA, BO).proof(&email_of(BO)))
        .unwrap_err();
    assert_eq!(
        refused.refusal(),
        Some(&Refusal::ResendTooSoon {
            retry_at: now.saturating_add(TimeDelta::days(90))
        })
    );
    // And Ana acts at real time again.
    let ana_to_cy = send(&net, ANA, CY).unwrap();
    assert_eq!(
        net.invitation(ANA, ana_to_cy).unwrap().sent_at,
        now.saturating_add(TimeDelta::days(30))
    );
}

/// Q2 (forward jump), on a `MemoryStore`.
#[test]
fn q2_a_forward_glitch_is_contained_detected_and_repaired_memory() {
    glitch(Arc::new(MemoryStore::new()));
}

/// Q2 (forward jump), on a SQLite file.
#[cfg(feature = "sqlite")]
#[test]
fn q2_a_forward_glitch_is_contained_detected_and_repaired_sqlite() {
    let file = support::TempDb::new("clock");
    glitch(Arc::new(pronet::SqliteStore::open(file.path()).unwrap()));
}

/// Q2: a forward jump within `max_clock_skew` (12 hours), then the clock
/// back: the records it stamped keep time from going backwards (the
/// invitation's expiry and the re-send wait count from the later instant),
/// and nothing is refused.
#[test]
fn q2_a_forward_jump_within_the_skew_never_goes_backwards() {
    let clock = ManualClock::new(T0);
    let net = Network::open(MemoryStore::new(), clock.clone(), Policy::default()).unwrap();
    register(&net, &[(ANA, "Ana"), (BO, "Bo"), (CY, "Cy")]);
    let ahead = at(TimeDelta::hours(12));
    clock.set(ahead);
    let id = send(&net, ANA, BO).unwrap();
    clock.set(at(TimeDelta::hours(1)));
    // The same process, and a restarted one, act at the later instant for
    // the records it stamped.
    let _ = net.withdraw(ANA, id).unwrap();
    let refused = net
        .send(pronet::SendRequest::new(ANA, BO).proof(&email_of(BO)))
        .unwrap_err();
    assert!(matches!(
        refused.refusal(),
        Some(Refusal::ResendTooSoon { retry_at }) if *retry_at == ahead.saturating_add(TimeDelta::days(90))
    ));
    let other = send(&net, CY, ANA);
    assert!(other.is_ok(), "{other:?}");
}

/// SPEC 7 with two processes whose clocks disagree (issue 12): one instance
/// runs `lag` behind the other. Ana blocks Bo through the first, unblocks
/// through the lagging one; the unblock is recorded no earlier than the
/// block it lifts (the effective time is taken from the records), so the
/// 48-hour re-block wait still runs from then.
fn reblock_wait_holds_with_lag(lag: TimeDelta) {
    let store = Arc::new(MemoryStore::new());
    let on_time = ManualClock::new(T0);
    let lagging = ManualClock::new(at(-lag));
    let one = Network::open(Arc::clone(&store), on_time.clone(), Policy::default()).unwrap();
    let two = Network::open(Arc::clone(&store), lagging, Policy::default()).unwrap();
    register(&one, &[(ANA, "Ana"), (BO, "Bo")]);
    let _ = one.block(ANA, BO).unwrap();
    let _ = two.unblock(ANA, BO).unwrap();
    on_time.set(at(TimeDelta::hours(30)));
    let refused = one.block(ANA, BO).unwrap_err();
    assert_eq!(
        refused.refusal(),
        Some(&Refusal::ReblockTooSoon {
            retry_at: at(TimeDelta::hours(48))
        })
    );
    on_time.set(at(TimeDelta::hours(48)));
    assert!(one.block(ANA, BO).is_ok());
}

/// B5 with the lagging process 20 hours behind.
#[test]
fn b5_the_reblock_wait_holds_when_one_process_clock_lags() {
    reblock_wait_holds_with_lag(TimeDelta::hours(20));
}

/// B5 with the lagging process a whole day behind (the policy's default
/// `max_clock_skew`, the most a record may stand ahead of a clock).
#[test]
fn b5_the_reblock_wait_holds_when_one_process_clock_lags_a_day() {
    reblock_wait_holds_with_lag(TimeDelta::days(1));
}
