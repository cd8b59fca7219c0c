//! Strategies: random limits, setups and operation sequences.

use super::*;

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

pub(crate) fn preference() -> impl Strategy<Value = InvitePreference> {
    prop_oneof![
        6 => Just(InvitePreference::Anyone),
        2 => Just(InvitePreference::EmailOrContacts),
        1 => Just(InvitePreference::ContactsOnly),
    ]
}

pub(crate) fn person_setup() -> impl Strategy<Value = PersonSetup> {
    (prop::bool::weighted(0.3), preference(), any::<bool>()).prop_map(
        |(premium, preference, alt_email)| PersonSetup {
            premium,
            preference,
            alt_email,
        },
    )
}

pub(crate) fn who() -> impl Strategy<Value = u64> {
    prop_oneof![
        18 => prop::sample::select(PERSONS.to_vec()),
        1 => Just(COMPANY),
        1 => Just(GONE),
        1 => Just(UNKNOWN),
    ]
}

pub(crate) fn note_kind() -> impl Strategy<Value = NoteKind> {
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

pub(crate) fn proof_kind() -> impl Strategy<Value = ProofKind> {
    prop_oneof![
        3 => Just(ProofKind::Absent),
        5 => (0usize..2, prop::bool::weighted(0.3))
            .prop_map(|(which, loud)| ProofKind::Right { which, loud }),
        2 => (0..OTHER_ADDRESSES.len()).prop_map(ProofKind::Wrong),
    ]
}

pub(crate) fn reason() -> impl Strategy<Value = IgnoreReason> {
    prop_oneof![
        3 => Just(IgnoreReason::Ignored),
        2 => Just(IgnoreReason::DontKnow),
        1 => Just(IgnoreReason::Spam),
    ]
}

pub(crate) fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => Just(Answer::Accept),
        3 => reason().prop_map(Answer::Ignore),
        2 => Just(Answer::Reject),
        3 => Just(Answer::Withdraw),
    ]
}

pub(crate) fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        8 => Just(Actor::Natural),
        1 => Just(Actor::OtherParty),
        2 => who().prop_map(Actor::Member),
    ]
}

pub(crate) fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => (0usize..3).prop_map(Target::Recent),
        3 => (0usize..64).prop_map(Target::Any),
        1 => (0u64..4).prop_map(Target::Missing),
    ]
}

pub(crate) fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![
        // Minutes.
        4 => (1i64..=600).prop_map(|m| m * MINUTE),
        // 1 to 30 days, on the day or anywhere within it.
        5 => (1i64..=30, prop_oneof![Just(0i64), 0..DAY]).prop_map(|(d, j)| d * DAY + j),
        // 60 to 400 days.
        3 => (60i64..=400).prop_map(|d| d * DAY),
    ]
}

pub(crate) fn boundary() -> impl Strategy<Value = Boundary> {
    prop_oneof![
        Just(Boundary::Ladder90),
        Just(Boundary::Ladder365),
        Just(Boundary::Expiry),
        Just(Boundary::Cooldown),
    ]
}

pub(crate) fn follow_up() -> impl Strategy<Value = FollowUp> {
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
pub(crate) fn limits() -> impl Strategy<Value = Limits> {
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

pub(crate) fn settle() -> impl Strategy<Value = Settle> {
    prop_oneof![
        6 => Just(Settle::Leave),
        2 => Just(Settle::Accept),
        3 => any::<bool>().prop_map(|by_sender| Settle::AcceptRemove { by_sender }),
        1 => Just(Settle::Reject),
        1 => reason().prop_map(Settle::Ignore),
        2 => Just(Settle::Withdraw),
    ]
}

pub(crate) fn shot() -> impl Strategy<Value = Shot> {
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

pub(crate) fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        3 => (0usize..16, prop::bool::weighted(0.25)).prop_map(|(n, swap)| Pick::Existing { n, swap }),
        1 => two().prop_map(|(a, b)| Pick::Pair(a, b)),
    ]
}

pub(crate) fn report_reason() -> impl Strategy<Value = ReportReason> {
    prop_oneof![
        Just(ReportReason::Spam),
        Just(ReportReason::Fake),
        Just(ReportReason::Harassment),
        Just(ReportReason::Other),
    ]
}

/// A second to a year.
pub(crate) fn rewind() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => (1i64..=60).prop_map(|s| s * 1_000_000),
        2 => (1i64..=600).prop_map(|m| m * MINUTE),
        3 => (1i64..=30).prop_map(|d| d * DAY),
        1 => (31i64..=365).prop_map(|d| d * DAY),
        1 => Just(365 * DAY),
    ]
}

/// A sender and a recipient: mostly two distinct persons.
pub(crate) fn two() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![
        12 => (prop::sample::select(PERSONS.to_vec()), 1usize..PERSONS.len())
            .prop_map(|(a, k)| (a, PERSONS[(PERSONS.iter().position(|&p| p == a).unwrap() + k) % PERSONS.len()])),
        3 => (who(), who()),
    ]
}

pub(crate) fn rung() -> impl Strategy<Value = Rung> {
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

pub(crate) fn op() -> impl Strategy<Value = Op> {
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
            prop::bool::weighted(0.3),
        )
            .prop_map(|((a, b), answer, invite_back, withdraw)| Op::Spurn {
                a,
                b,
                answer,
                invite_back,
                withdraw,
            }),
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
        1 => who().prop_map(Op::Erase),
        2 => (1_usize..40).prop_map(Op::Retention),
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

pub(crate) fn scenario() -> impl Strategy<Value = (Limits, Vec<PersonSetup>, Vec<Op>)> {
    (
        limits(),
        vec(person_setup(), PERSONS.len()),
        vec(op(), 1..=MAX_STEPS),
    )
}
