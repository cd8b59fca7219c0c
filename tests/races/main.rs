//! Race tests on real threads: RELIABILITY.md A3 (the invitation races),
//! G5, I1, I9, I4 and Q1, each scenario run against every store: `memory::*`
//! on one `Network<MemoryStore>` shared by reference by the racing threads,
//! and (feature `sqlite`) `sqlite::*` with every racing thread on its own
//! SQLite connection to one database file and its own `Network` over it, as
//! separate processes sharing a database would; likewise (feature
//! `postgres`, with `PRONET_POSTGRES_URL` set) `postgres::*`, each racing
//! thread on its own `PostgresStore` in one fresh schema (10 repetitions,
//! or `PRONET_POSTGRES_RACE_REPS`). The harness is in
//! `harness.rs`, generic over the store (`Backend`).
//!
//! Every repetition builds a fresh store (a fresh file for SQLite), sets the
//! scenario up serially, then starts the racing calls together (one
//! `std::thread::scope` thread per call, released by one
//! `std::sync::Barrier`). With SQLite, every racing network then catches up
//! (`Network::catch_up`) and must hold the same graph as a network freshly
//! opened on the file, which checks and observes the outcome. The outcome
//! is compared with the outcomes of every serial order of the same calls,
//! each run on its own fresh store (a `MemoryStore`, or an in-memory
//! `SqliteStore`; all permutations, computed once per scenario). The
//! compared outcome is normalized (invitation ids renamed by
//! `(sender, recipient, id)` order, since retries skip ids) and holds:
//! every call's answer (outcome and events, or refusal variant), every
//! stored record with its version, every member's connections in the graph
//! index, every invitation as its sender and its recipient see it
//! (`Network::invitation`), and every member's inbox, held and sent lists.
//! The race must equal some serial order on all of it.
//!
//! Every repetition, race or serial, also checks: events across threads
//! have no duplicates and match the committed changes (one
//! `ConnectionCreated` per new connection, one `InvitationSent` per new
//! invitation, one `InvitationAccepted` / `InvitationWithdrawn` per
//! invitation that changed to that status, `InvitationReceived` exactly for
//! new inbox deliveries); the graph index equals the store's connections and
//! is symmetric (G1); each member's ledger counts their connections; at most
//! one open invitation per pair, named by the pair record (I1), and none
//! between connected members (I2); plus each scenario's own expectations.
//!
//! Scenarios (calls raced at once):
//! - `a3_double_send_races_to_one_invitation` (A3, I1): 2 identical sends.
//! - `i9_crossing_sends_connect_exactly_once` (A3, I9): A→B and B→A.
//! - `a3_accept_vs_withdraw_never_both`: accept and withdraw of one
//!   invitation.
//! - `a3_accept_vs_accept_connects_once` (I4): the recipient accepts twice.
//! - `g5_cap_holds_when_member_accepts_concurrently` (A3, G5): a member at
//!   cap-1 (cap 3) accepts 4 invitations at once.
//! - `g5_cap_holds_when_recipients_accept_concurrently` (A3, G5): 4
//!   recipients of a cap-1 member's invitations accept at once.
//! - `g5_cap_holds_under_concurrent_accepts` (A3, G5, I9): a cap-1 member
//!   accepts, two of its invitations are accepted and it makes a crossing
//!   send, all at once.
//! - `a3_many_sends_to_one_and_from_one_all_succeed`: 3 senders to one
//!   recipient and one sender to 3 recipients, all at once.
//! - `q1_last_quota_slot_is_taken_once` (A3, Q1): a sender with one slot
//!   left of a quota of 3 sends to 3 members at once.
//!
//! The racing threads wait on the barrier, then spin until all of them are
//! awake, so that the calls overlap (a store conflict and a retry) in a good
//! share of the repetitions rather than running one after the other; and
//! the scenarios run one at a time, so that they do not share the cores.
//! `Error::Contended` cannot happen here (each call meets at most 5 other
//! commits, and the default policy allows 8 attempts), so any occurrence
//! fails the test after being counted.
//!
//! Each scenario runs 500 repetitions on `MemoryStore` by default
//! (`PRONET_RACE_REPS` sets another count) and 50 on SQLite
//! (`PRONET_SQLITE_RACE_REPS`). Each test prints (see
//! `cargo test --all-features --test races -- --nocapture`) its
//! repetitions, how often each serial outcome was observed, in how many
//! repetitions the racing calls overlapped in time (all started before the
//! first one finished), how many commits were refused as conflicts and
//! retried, and how many calls ended in `Error::Contended`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

mod harness;

use chrono::TimeDelta;
use harness::{Answer, Call, Net, Scenario, Setup, connected, ledger, perform};
use pronet::quota::Quota;
use pronet::{
    Event, InvitationId, Member, MemberId, Policy, Profile, Refusal, Seen, SendOutcome, Tier,
};
use std::collections::BTreeSet;
use support::{T0, email_of, m, members, whole};

/// The connection cap of the G5 scenarios.
const CAP: u32 = 3;

/// Runs each scenario on each store: `memory::<scenario>` and, with the
/// `sqlite` and `postgres` features, `sqlite::<scenario>` and
/// `postgres::<scenario>`.
macro_rules! on_every_store {
    ($($scenario:ident $([sql: $attr:meta])?),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $scenario() {
                    crate::harness::run::<crate::harness::Memory>(&super::$scenario());
                }
            )*
        }
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[test]
                $(#[$attr])?
                fn $scenario() {
                    crate::harness::run::<crate::harness::Sqlite>(&super::$scenario());
                }
            )*
        }
        /// Each racing thread on its own PostgreSQL connection (its own
        /// store and network); skips, saying so, without a server.
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[test]
                $(#[$attr])?
                fn $scenario() {
                    if crate::support::pg::url(concat!("postgres::", stringify!($scenario))).is_some() {
                        crate::harness::run::<crate::harness::Postgres>(&super::$scenario());
                    }
                }
            )*
        }
    };
}

on_every_store!(
    a3_double_send_races_to_one_invitation,
    i9_crossing_sends_connect_exactly_once,
    a3_accept_vs_withdraw_never_both,
    a3_accept_vs_accept_connects_once,
    g5_cap_holds_when_member_accepts_concurrently,
    g5_cap_holds_when_recipients_accept_concurrently,
    g5_cap_holds_under_concurrent_accepts,
    // On SQLite each connection takes invitation ids from a block of its
    // own (on PostgreSQL too), so one sender's racing sends may commit out of id order: the
    // sender's ledger (commit order) and sent list (id order) then disagree
    // as no serial order makes them. A known difference, not yet settled.
    a3_many_sends_to_one_and_from_one_all_succeed [sql: ignore = "ids from per-connection blocks: sent-list order may differ from commit order"],
    q1_last_quota_slot_is_taken_once,
);

// ---------------------------------------------------------------------------
// Building networks
// ---------------------------------------------------------------------------

fn capped() -> Policy {
    Policy::builder().max_connections(CAP).build().unwrap()
}

/// A free-tier quota of 3 invitations per 30 days.
fn quota_of_three() -> Policy {
    Policy::builder()
        .invitation_quota(Tier::Free, Quota::new(3, TimeDelta::days(30)).unwrap())
        .build()
        .unwrap()
}

/// Registers persons `ids`, each with a discoverable address.
fn register(net: &Net, ids: &[MemberId]) {
    for &id in ids {
        let member = Member::person(id, Profile::named(format!("Member {}", id.get())))
            .with_email(email_of(id), true);
        let _ = net.register(member).unwrap();
    }
}

/// `sender` invites `recipient`, proving the recipient's address.
fn invite(net: &Net, sender: MemberId, recipient: MemberId) -> InvitationId {
    match net
        .send(pronet::SendRequest::new(sender, recipient).proof(&email_of(recipient)))
        .unwrap()
        .outcome
    {
        SendOutcome::Sent(id) => id,
        other => panic!("setup send {sender}→{recipient}: {other:?}"),
    }
}

/// Connects `a` and `b` through an accepted invitation.
fn connect(net: &Net, a: MemberId, b: MemberId) {
    let id = invite(net, a, b);
    let _ = net.accept(b, id).unwrap();
}

// ---------------------------------------------------------------------------
// Scenario helpers
// ---------------------------------------------------------------------------

/// The send outcome of a call that must have succeeded.
fn sent(answer: &Answer) -> SendOutcome {
    match answer {
        Answer::Sent(outcome, _) => *outcome,
        other => panic!("expected a successful send, got {other:?}"),
    }
}

fn seen(net: &Net, viewer: MemberId, id: InvitationId) -> Result<Seen, Refusal> {
    net.invitation(viewer, id)
        .map(|v| v.seen)
        .map_err(|e| e.refusal().cloned().unwrap())
}

/// A list's invitations, with the other member of each, sorted.
fn listed_ids(
    list: Result<pronet::Page<pronet::Listed, pronet::ListCursor>, pronet::Error>,
) -> Vec<(MemberId, InvitationId)> {
    let mut ids: Vec<_> = list
        .unwrap()
        .items
        .into_iter()
        .map(|l| (l.other, l.invitation))
        .collect();
    ids.sort();
    ids
}

fn inbox_ids(net: &Net, member: MemberId) -> Vec<(MemberId, InvitationId)> {
    listed_ids(net.inbox(member, None, whole()))
}

fn sent_ids(net: &Net, member: MemberId) -> Vec<(MemberId, InvitationId)> {
    listed_ids(net.sent(member, None, whole()))
}

/// Members 1 and 2 who share member 3.
fn two_via_hub(net: &Net) -> (MemberId, MemberId) {
    let (a, b, hub) = (m(1), m(2), m(3));
    register(net, &[a, b, hub]);
    connect(net, hub, a);
    connect(net, hub, b);
    (a, b)
}

/// Member 1 with an invitation to member 2 (by email proof).
fn one_invitation(net: &Net) -> (MemberId, MemberId, InvitationId) {
    let (a, b) = (m(1), m(2));
    register(net, &[a, b]);
    (a, b, invite(net, a, b))
}

/// [`one_invitation`], with the calls `calls` makes from its sender,
/// recipient and id raced: the setup.
fn on_one_invitation(net: &Net, calls: fn(MemberId, MemberId, InvitationId) -> Vec<Call>) -> Setup {
    let (a, b, id) = one_invitation(net);
    Setup {
        members: vec![a, b],
        calls: calls(a, b, id),
    }
}

/// The sender, recipient and invitation of an [`on_one_invitation`] setup
/// whose first call is the accept.
fn accepted(setup: &Setup) -> (MemberId, MemberId, InvitationId) {
    let Call::Accept(_, id) = setup.calls[0] else {
        unreachable!()
    };
    (m(1), m(2), id)
}

/// A G5 scenario: under the cap of 3, with member 1 at cap-1, every call
/// is a way for member 1 to connect (see [`check_cap`]).
fn g5(name: &'static str, setup: fn(&Net) -> Setup) -> Scenario {
    Scenario {
        name,
        policy: capped(),
        setup,
        check: |net, setup, answers| check_cap(net, setup, answers, m(1)),
    }
}

/// G5: exactly one racing call connected; the others were refused at
/// `member`'s cap, and are still refused when tried again; `member` has
/// exactly `CAP` connections by the graph, the pair records and the ledger.
fn check_cap(net: &Net, setup: &Setup, answers: &[Answer], member: MemberId) {
    let winners = answers.iter().filter(|a| a.connected()).count();
    assert_eq!(winners, 1, "exactly one connects: {answers:#?}");
    for (call, answer) in setup.calls.iter().zip(answers) {
        if !answer.connected() {
            let cap = Refusal::ConnectionCap { member, cap: CAP };
            assert_eq!(answer, &Answer::Refused(cap.clone()), "{call:?}");
            // At the cap: trying again is refused the same way.
            assert_eq!(perform(net, *call), Answer::Refused(cap), "{call:?} again");
        }
    }
    let graph_degree = net
        .graph()
        .connections(member, None, whole())
        .unwrap()
        .items
        .len();
    assert_eq!(graph_degree, CAP as usize, "G5: graph");
    let snap = net.store().records();
    let stored = connected(&snap)
        .iter()
        .filter(|p| p.low() == member || p.high() == member)
        .count();
    assert_eq!(stored, CAP as usize, "G5: pair records");
    assert_eq!(ledger(&snap, member), CAP, "G5: ledger");
}

/// A member 1 at cap-1: connected to members 2 and 3.
fn at_cap_minus_one(net: &Net, others: &[MemberId]) -> MemberId {
    let member = m(1);
    let friends = [m(2), m(3)];
    register(net, &[member]);
    register(net, &friends);
    register(net, others);
    for f in friends {
        connect(net, member, f);
    }
    member
}

// ---------------------------------------------------------------------------
// The scenarios
// ---------------------------------------------------------------------------

/// A3, I1: the same sender sends to the same recipient from two threads.
/// One invitation; the other call waits the re-send ladder.
fn a3_double_send_races_to_one_invitation() -> Scenario {
    Scenario {
        name: "a3_double_send_races_to_one_invitation",
        policy: Policy::default(),
        setup: |net| {
            let (a, b) = two_via_hub(net);
            Setup {
                members: members(1..=3),
                calls: vec![Call::Send(a, b), Call::Send(a, b)],
            }
        },
        check: |net, setup, answers| {
            let (a, b) = (m(1), m(2));
            let retry_at = T0.saturating_add(net.policy().resend_wait(1).unwrap());
            let too_soon = Answer::Refused(Refusal::ResendTooSoon { retry_at });
            let (won, lost) = match (&answers[0], &answers[1]) {
                (w @ Answer::Sent(..), l) | (l, w @ Answer::Sent(..)) => (w, l),
                _ => panic!("one send succeeds: {answers:#?}"),
            };
            assert_eq!(lost, &too_soon, "{setup:?}");
            let SendOutcome::Sent(id) = sent(won) else {
                panic!("{won:?}")
            };
            assert_eq!(sent_ids(net, a), vec![(b, id)]);
            assert_eq!(inbox_ids(net, b), vec![(a, id)]);
            assert_eq!(seen(net, a, id), Ok(Seen::Pending));
            assert_eq!(seen(net, b, id), Ok(Seen::Pending));
        },
    }
}

/// A3, I9: A→B and B→A at once give one connection and no pending
/// invitation; one call sent, the other connected by accepting it.
fn i9_crossing_sends_connect_exactly_once() -> Scenario {
    Scenario {
        name: "i9_crossing_sends_connect_exactly_once",
        policy: Policy::default(),
        setup: |net| {
            let (a, b) = two_via_hub(net);
            Setup {
                members: members(1..=3),
                calls: vec![Call::Send(a, b), Call::Send(b, a)],
            }
        },
        check: |net, setup, answers| {
            let (a, b) = (m(1), m(2));
            let (first, second) = (sent(&answers[0]), sent(&answers[1]));
            let (id, other) = match (first, second) {
                (SendOutcome::Sent(id), other) | (other, SendOutcome::Sent(id)) => (id, other),
                _ => panic!("one call sends: {answers:#?}"),
            };
            assert_eq!(other, SendOutcome::Connected { accepted: id }, "{setup:?}");
            assert!(net.graph().are_connected(a, b));
            for member in [a, b] {
                assert!(sent_ids(net, member).is_empty());
                assert!(inbox_ids(net, member).is_empty());
            }
            let inv = net.invitation(a, id).unwrap();
            assert_eq!(seen(net, inv.sender, id), Ok(Seen::Accepted));
            assert_eq!(seen(net, inv.recipient, id), Ok(Seen::Accepted));
            let created = answers
                .iter()
                .flat_map(Answer::events)
                .filter(|e| matches!(e, Event::ConnectionCreated { .. }))
                .count();
            assert_eq!(created, 1);
        },
    }
}

/// A3: accept and withdraw of one invitation: connected (the withdraw sees
/// it accepted) or withdrawn (the accept finds nothing), never both.
fn a3_accept_vs_withdraw_never_both() -> Scenario {
    Scenario {
        name: "a3_accept_vs_withdraw_never_both",
        policy: Policy::default(),
        setup: |net| {
            on_one_invitation(net, |a, b, id| {
                vec![Call::Accept(b, id), Call::Withdraw(a, id)]
            })
        },
        check: |net, setup, answers| {
            let (a, b, id) = accepted(setup);
            let accepted = Answer::Refused(Refusal::NotPending {
                seen: Seen::Accepted,
            });
            let withdrawn = Answer::Refused(Refusal::InvitationNotFound(id));
            match (&answers[0], &answers[1]) {
                (Answer::Done(events), refused) if !events.is_empty() => {
                    assert_eq!(refused, &accepted);
                    assert!(net.graph().are_connected(a, b));
                    assert_eq!(seen(net, a, id), Ok(Seen::Accepted));
                    assert_eq!(seen(net, b, id), Ok(Seen::Accepted));
                }
                (refused, Answer::Done(events)) if !events.is_empty() => {
                    assert_eq!(refused, &withdrawn);
                    assert!(!net.graph().are_connected(a, b));
                    assert_eq!(seen(net, a, id), Ok(Seen::Withdrawn));
                    assert_eq!(seen(net, b, id), Err(Refusal::InvitationNotFound(id)));
                }
                _ => panic!("exactly one of accept and withdraw wins: {answers:#?}"),
            }
            assert!(sent_ids(net, a).is_empty());
            assert!(inbox_ids(net, b).is_empty());
        },
    }
}

/// A3, I4: the recipient accepts twice at once: both calls succeed, one
/// connection, and one set of events across both answers.
fn a3_accept_vs_accept_connects_once() -> Scenario {
    Scenario {
        name: "a3_accept_vs_accept_connects_once",
        policy: Policy::default(),
        setup: |net| {
            on_one_invitation(net, |_, b, id| {
                vec![Call::Accept(b, id), Call::Accept(b, id)]
            })
        },
        check: |net, setup, answers| {
            let (a, b, id) = accepted(setup);
            let expected = vec![
                Event::InvitationAccepted {
                    invitation: id,
                    sender: a,
                    recipient: b,
                },
                Event::ConnectionCreated { a, b },
            ];
            match (&answers[0], &answers[1]) {
                (Answer::Done(x), Answer::Done(y)) => {
                    assert!(
                        (x == &expected && y.is_empty()) || (x.is_empty() && y == &expected),
                        "one set of events: {answers:#?}"
                    );
                }
                _ => panic!("both accepts succeed: {answers:#?}"),
            }
            assert!(net.graph().are_connected(a, b));
            assert_eq!(seen(net, a, id), Ok(Seen::Accepted));
            assert_eq!(seen(net, b, id), Ok(Seen::Accepted));
        },
    }
}

/// Member 1 at cap-1, and members 4 to 7 each with an invitation to
/// accept: from each of them to 1 (`member_accepts`: 1 accepts all 4), or
/// from 1 to each of them (they accept).
fn four_accepts(net: &Net, member_accepts: bool) -> Setup {
    let others = members(4..=7);
    let member = at_cap_minus_one(net, &others);
    let calls = others
        .iter()
        .map(|&other| {
            if member_accepts {
                Call::Accept(member, invite(net, other, member))
            } else {
                Call::Accept(other, invite(net, member, other))
            }
        })
        .collect();
    Setup {
        members: members(1..=7),
        calls,
    }
}

/// A3, G5: a member at cap-1 accepts 4 pending invitations at once.
fn g5_cap_holds_when_member_accepts_concurrently() -> Scenario {
    g5("g5_cap_holds_when_member_accepts_concurrently", |net| {
        four_accepts(net, true)
    })
}

/// A3, G5: 4 members accept a cap-1 member's invitations at once.
fn g5_cap_holds_when_recipients_accept_concurrently() -> Scenario {
    g5("g5_cap_holds_when_recipients_accept_concurrently", |net| {
        four_accepts(net, false)
    })
}

/// A3, G5, I9: at cap-1, every way to connect at once: the member accepts
/// an invitation, two recipients accept the member's invitations, and the
/// member sends to someone who had invited them (a crossing send).
fn g5_cap_holds_under_concurrent_accepts() -> Scenario {
    g5("g5_cap_holds_under_concurrent_accepts", |net| {
        let (s1, r1, s2, r2) = (m(4), m(5), m(6), m(7));
        let member = at_cap_minus_one(net, &[s1, r1, s2, r2]);
        let incoming = invite(net, s1, member);
        let outgoing = invite(net, member, r1);
        invite(net, s2, member);
        let outgoing2 = invite(net, member, r2);
        Setup {
            members: members(1..=7),
            calls: vec![
                Call::Accept(member, incoming),
                Call::Accept(r1, outgoing),
                Call::Send(member, s2),
                Call::Accept(r2, outgoing2),
            ],
        }
    })
}

/// A3: three senders invite one recipient while one sender invites three
/// recipients, all at once: every send succeeds with its own id, and every
/// list shows exactly its invitations.
fn a3_many_sends_to_one_and_from_one_all_succeed() -> Scenario {
    Scenario {
        name: "a3_many_sends_to_one_and_from_one_all_succeed",
        policy: Policy::default(),
        setup: |net| {
            // 1 is the hub everybody knows; 2 sends to 7..=9, 3..=5 send to 6.
            let hub = m(1);
            let everyone = members(1..=9);
            register(net, &everyone);
            for &other in &everyone[1..] {
                connect(net, hub, other);
            }
            let mut calls: Vec<Call> = members(3..=5)
                .into_iter()
                .map(|s| Call::Send(s, m(6)))
                .collect();
            calls.extend(members(7..=9).into_iter().map(|r| Call::Send(m(2), r)));
            Setup {
                members: everyone,
                calls,
            }
        },
        check: |net, setup, answers| {
            let mut ids = BTreeSet::new();
            let mut to_six = Vec::new();
            let mut from_two = Vec::new();
            for (call, answer) in setup.calls.iter().zip(answers) {
                let SendOutcome::Sent(id) = sent(answer) else {
                    panic!("{call:?}: {answer:?}")
                };
                assert!(ids.insert(id), "invitation ids are unique");
                let Call::Send(s, r) = *call else {
                    unreachable!()
                };
                assert_eq!(seen(net, s, id), Ok(Seen::Pending));
                assert_eq!(seen(net, r, id), Ok(Seen::Pending));
                assert!(sent_ids(net, s).contains(&(r, id)));
                if r == m(6) {
                    assert_eq!(sent_ids(net, s), vec![(r, id)]);
                    to_six.push((s, id));
                } else {
                    assert_eq!(inbox_ids(net, r), vec![(s, id)]);
                    from_two.push((r, id));
                }
            }
            to_six.sort();
            from_two.sort();
            assert_eq!(inbox_ids(net, m(6)), to_six);
            assert_eq!(sent_ids(net, m(2)), from_two);
            for listed in net.inbox(m(6), None, whole()).unwrap().items {
                assert_eq!(listed.mutual_connections, 1, "the hub");
            }
        },
    }
}

/// A3, Q1: everyone is connected to hub 10, each by inviting it; 1 has also
/// invited 2, so 1 has one send left of a quota of 3, and races 3 more
/// sends (to members it shares the hub with): exactly one is sent, the
/// others are refused for the quota.
fn q1_last_quota_slot_is_taken_once() -> Scenario {
    Scenario {
        name: "q1_last_quota_slot_is_taken_once",
        policy: quota_of_three(),
        setup: |net| {
            let mut everyone = members(1..=5);
            everyone.push(m(10));
            register(net, &everyone);
            for raw in 1..=5 {
                connect(net, m(raw), m(10));
            }
            invite(net, m(1), m(2));
            Setup {
                members: everyone,
                calls: vec![
                    Call::Send(m(1), m(3)),
                    Call::Send(m(1), m(4)),
                    Call::Send(m(1), m(5)),
                ],
            }
        },
        check: |_, _, answers| {
            let sent = answers
                .iter()
                .filter(|a| matches!(a, Answer::Sent(..)))
                .count();
            assert_eq!(sent, 1, "Q1: the last slot is taken once: {answers:#?}");
            for answer in answers.iter().filter(|a| !matches!(a, Answer::Sent(..))) {
                assert!(
                    matches!(answer, Answer::Refused(Refusal::QuotaExhausted { .. })),
                    "{answer:?}"
                );
            }
        },
    }
}
