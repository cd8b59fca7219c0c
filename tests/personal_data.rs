//! RELIABILITY P: personal data. `Network::erase`, `Network::export` and
//! `Network::apply_retention`.
//!
//! - PD1 `pd1_*`: after `erase`, no byte of the member's name, headline,
//!   addresses or note texts is in a full snapshot of the store (every
//!   record, the outbox included): `MemoryStore`, a SQLite file's bytes
//!   after a checkpoint, and `PostgresStore` when `PRONET_POSTGRES_URL` is
//!   set (skipped loudly otherwise).
//! - PD2 `pd2_*`: an erased member and one who never existed give identical
//!   answers to every read (`ReadQuery::ALL`) of every other member.
//! - PD4 `pd4_*`: `export` reveals nothing of what others did that the
//!   member could not read (ignores, blocks, others' notes).
//! - Retention `retention_*`: closed invitations lose their notes after the
//!   policy's retention, bounded per call.
//!
//! PD3 is in `tests/model`, A1 in `tests/faults.rs`.

#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::{
    DegreeFilter, Email, Error, GroupId, InvitationId, ManualClock, Member, MemberId, MemoryStore,
    Network, PageSize, Policy, Profile, ReadQuery, Refusal, ReportReason, SearchQuery, Store,
    TimeDelta,
};
use std::fmt::Debug;
use support::{T0, days, done, email, email_of, invite, invite_with, m, whole};

/// The member erased in every test.
const ZED: MemberId = MemberId::new(1);
const A: MemberId = MemberId::new(2);
const B: MemberId = MemberId::new(3);
const C: MemberId = MemberId::new(4);
const D: MemberId = MemberId::new(5);
/// A company page.
const K: MemberId = MemberId::new(9);
const OTHERS: [MemberId; 5] = [A, B, C, D, K];

/// What of Zed's must be gone after erasure (compared case-insensitively).
const SECRETS: [&str; 9] = [
    "zelda",
    "quixote",
    "xylophonist",
    "zed-home",
    "secret hello from zed",
    "dear zed from b",
    "no thanks from zed",
    "pending words from zed",
    "zed-friend",
];

fn open<S: Store>(store: S, policy: Policy) -> (Network<S, ManualClock>, ManualClock) {
    let clock = ManualClock::new(T0);
    (Network::open(store, clock.clone(), policy).unwrap(), clock)
}

fn zed() -> Member {
    let mut profile = Profile::named("Zelda Quixote");
    profile.headline = "Chief Xylophonist".into();
    Member::person(ZED, profile)
        .with_email(email("Zelda.Quixote@Example.org"), true)
        .with_email(email("zed-home@example.net"), false)
}

fn zed_email() -> Email {
    email("Zelda.Quixote@Example.org")
}

/// The others, connected A–B and B–C, doing things among themselves.
fn others<S: Store>(net: &Network<S, ManualClock>) {
    for id in [A, B, C, D] {
        done(
            net.register(
                Member::person(id, Profile::named(format!("P{}", id.get())))
                    .with_email(email_of(id), true),
            ),
        );
    }
    done(net.register(Member::company(K, Profile::named("Kompany"))));
    for (x, y) in [(A, B), (B, C)] {
        let id = invite(net, x, y, Some("hi"));
        done(net.accept(y, id));
    }
    invite(net, D, A, Some("from d to a"));
    done(net.follow(A, K));
}

/// Everything Zed does, to others and alone: an accepted invitation to A
/// with a note, a pending one to C, contacts, an invitation to join, a
/// follow, a group, a dismissal, a block and a report.
fn zed_acts<S: Store>(net: &Network<S, ManualClock>, with_report: bool) {
    done(net.register(zed()));
    let to_a = invite(net, ZED, A, Some("Secret hello from Zed"));
    done(net.accept(A, to_a));
    invite(net, ZED, C, Some("Pending words from Zed"));
    done(net.add_contacts(ZED, &[email("zed-friend@example.net"), email_of(B)]));
    done(net.invite_to_join(ZED, &email("newcomer@example.net")));
    done(net.follow(ZED, K));
    done(net.join_group(ZED, GroupId::new(7)));
    done(net.dismiss(ZED, B));
    done(net.block(ZED, D));
    if with_report {
        done(net.report(ZED, B, ReportReason::Spam));
    }
}

/// B invites Zed with a note, and Zed rejects with one (an action of B's
/// towards Zed: not in the two-worlds tests).
fn b_invites_zed<S: Store>(net: &Network<S, ManualClock>) {
    let id = invite_with(
        net,
        pronet::SendRequest::new(B, ZED)
            .note("Dear Zed from B")
            .proof(&zed_email()),
    );
    done(net.reject_with_note(ZED, id, "No thanks from Zed"));
}

/// The whole story of PD1, on any store.
fn erased_world<S: Store>(store: S) -> Network<S, ManualClock> {
    let (net, _) = open(store, Policy::default());
    others(&net);
    zed_acts(&net, true);
    b_invites_zed(&net);
    let changed = net.erase(ZED).unwrap();
    assert!(changed > 10, "erase rewrote {changed} records");
    net
}

/// Every record and every pending event, as text.
fn dump<S: Store>(net: &Network<S, ManualClock>) -> String {
    let mut text = String::new();
    let mut cursor = pronet::ChangeCursor::START;
    loop {
        let page = net.store().changes_since(cursor, 100).unwrap();
        if page.changes.is_empty() {
            break;
        }
        cursor = page.cursor;
        text.push_str(&format!("{:?}", page.changes));
        text.push_str(&serde_json::to_string(&page.changes).unwrap());
    }
    let events = net
        .events_since(pronet::ChangeCursor::START, usize::MAX)
        .unwrap();
    text.push_str(&format!("{events:?}"));
    text
}

fn assert_no_secrets(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for secret in SECRETS {
        assert!(
            !lower.contains(secret),
            "PD1: {what} still holds {secret:?}"
        );
    }
}

/// PD1 on `MemoryStore`: the whole store (every record through the feed,
/// the snapshot, and the outbox's events) holds nothing of Zed's.
#[test]
fn pd1_memory_store_holds_nothing_of_the_erased_member() {
    let net = erased_world(MemoryStore::new());
    assert_no_secrets("the feed and outbox", &dump(&net));
    assert_no_secrets("the snapshot", &format!("{:?}", net.store().snapshot()));
    // The story did write them before.
    let (before, _) = open(MemoryStore::new(), Policy::default());
    others(&before);
    zed_acts(&before, true);
    b_invites_zed(&before);
    let text = dump(&before).to_lowercase();
    for secret in SECRETS {
        assert!(text.contains(secret), "the story never wrote {secret:?}");
    }
}

/// PD1 on a SQLite file: after `erase` and a checkpoint, the database
/// file's bytes (and its log's) hold none of Zed's personal data.
#[cfg(feature = "sqlite")]
#[test]
fn pd1_sqlite_file_bytes_hold_nothing_of_the_erased_member() {
    let db = support::TempDb::new("pd1");
    {
        let net = erased_world(pronet::SqliteStore::open(db.path()).unwrap());
        assert_no_secrets("the feed and outbox", &dump(&net));
        net.store().checkpoint().unwrap();
    }
    let mut bytes = std::fs::read(db.path()).unwrap();
    let wal = db.path().with_extension("db-wal");
    if let Ok(more) = std::fs::read(&wal) {
        bytes.extend(more);
    }
    assert!(bytes.len() > 4096, "the file was read");
    assert_no_secrets("the file", &String::from_utf8_lossy(&bytes));
}

/// PD1 on PostgreSQL (skipped without `PRONET_POSTGRES_URL`): every row.
#[cfg(feature = "postgres")]
#[test]
fn pd1_postgres_store_holds_nothing_of_the_erased_member() {
    let Some(schemas) =
        support::pg::schemas("pd1_postgres_store_holds_nothing_of_the_erased_member")
    else {
        return;
    };
    let net = erased_world(schemas.store("pd1"));
    assert_no_secrets("the feed and outbox", &dump(&net));
    assert_no_secrets(
        "the snapshot",
        &format!("{:?}", net.store().snapshot().unwrap()),
    );
}

/// An erased member is unusable and stays so: every operation naming them
/// is refused as for an unknown member, registering the id again is
/// refused, erasing again changes nothing, and export refuses them.
#[test]
fn erased_member_cannot_come_back() {
    let net = erased_world(MemoryStore::new());
    assert_eq!(
        net.register(zed()).unwrap_err().refusal(),
        Some(&Refusal::MemberExists(ZED))
    );
    assert_eq!(
        net.update_member(ZED, |_| {}).unwrap_err().refusal(),
        Some(&Refusal::UnknownMember(ZED))
    );
    assert!(matches!(
        net.send(pronet::SendRequest::new(ZED, B).proof(&email_of(B)))
            .unwrap_err()
            .refusal(),
        Some(Refusal::UnknownMember(_))
    ));
    assert!(matches!(
        net.export(ZED).unwrap_err().refusal(),
        Some(Refusal::UnknownMember(_))
    ));
    assert_eq!(net.erase(ZED).unwrap(), 0, "erasing again changes nothing");
    assert_eq!(
        net.erase(m(77)).unwrap_err().refusal(),
        Some(&Refusal::UnknownMember(m(77)))
    );
    // Zed's address is free for someone else.
    done(net.register(Member::person(m(20), Profile::named("New")).with_email(zed_email(), true)));
    // The report Zed made still counts on B, without Zed's id.
    let store = net.store();
    assert!(
        store
            .get(&pronet::record::Key::Report(ZED, B))
            .unwrap()
            .is_none()
    );
}

/// One read's answer, as text.
fn answer<T: Debug>(result: Result<T, Error>) -> String {
    format!("{result:?}")
}

/// Every read of the registry, for each viewer among `OTHERS`, about each
/// of `OTHERS` and Zed, and each invitation id up to `max_id`.
fn every_read<S: Store>(net: &Network<S, ManualClock>, max_id: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let subjects = [ZED, A, B, C, D, K];
    for v in OTHERS {
        for query in ReadQuery::ALL {
            let mut put = |label: String, value: String| out.push((format!("{v} {label}"), value));
            match query {
                ReadQuery::Degree => {
                    for x in subjects {
                        put(format!("degree {x}"), answer(net.degree(v, x)));
                    }
                }
                ReadQuery::Mutuals => {
                    for x in subjects {
                        put(
                            format!("mutuals {x}"),
                            answer(net.mutuals(v, x, None, whole())),
                        );
                    }
                }
                ReadQuery::MutualCount => {
                    for x in subjects {
                        put(format!("mutual_count {x}"), answer(net.mutual_count(v, x)));
                    }
                }
                ReadQuery::SecondDegreeCount => {
                    put("second".into(), answer(net.second_degree_count(v)));
                }
                ReadQuery::HowConnected => {
                    for x in subjects {
                        put(format!("how {x}"), answer(net.how_connected(v, x, whole())));
                    }
                }
                ReadQuery::Connections => {
                    for x in subjects {
                        put(
                            format!("connections {x}"),
                            answer(net.connections(v, x, None, whole())),
                        );
                    }
                }
                ReadQuery::WithView => {
                    for x in subjects {
                        put(
                            format!("view {x}"),
                            answer(net.with_view(v, |view| {
                                Ok((view.degree(v, x)?, view.second_degree_count(x)?))
                            })),
                        );
                    }
                }
                ReadQuery::Inbox => put("inbox".into(), answer(net.inbox(v, None, whole()))),
                ReadQuery::Held => put("held".into(), answer(net.held(v, None, whole()))),
                ReadQuery::Sent => put("sent".into(), answer(net.sent(v, None, whole()))),
                ReadQuery::Invitation => {
                    for id in 1..=max_id {
                        let id = InvitationId::new(id);
                        put(format!("invitation {id}"), answer(net.invitation(v, id)));
                    }
                }
                ReadQuery::Standing => put("standing".into(), answer(net.standing(v))),
                ReadQuery::PeopleYouMayKnow => put(
                    "pymk".into(),
                    answer(net.people_you_may_know(v, PageSize::default())),
                ),
                ReadQuery::Search => put(
                    "search".into(),
                    answer(net.search(v, &SearchQuery::new(), None, whole())),
                ),
                ReadQuery::CompanyPeople => put(
                    "company".into(),
                    answer(net.company_people(v, K, DegreeFilter::ANY, None, whole())),
                ),
                ReadQuery::Member => {
                    for x in subjects {
                        put(format!("member {x}"), answer(net.member(v, x)));
                    }
                }
                ReadQuery::InvitationCounts => {
                    put("counts".into(), answer(net.invitation_counts(v)));
                }
                ReadQuery::Blocked => put("blocked".into(), answer(net.blocked(v, None, whole()))),
                ReadQuery::Quota => put("quota".into(), answer(net.quota(v))),
                ReadQuery::Relationships => {
                    put(
                        "relationships".into(),
                        answer(net.relationships(v, &subjects)),
                    );
                }
                ReadQuery::Rows => put("rows".into(), answer(net.rows(v, subjects.to_vec()))),
                ReadQuery::PeopleYouMayKnowPage => put(
                    "pymk page".into(),
                    answer(net.people_you_may_know_page(v, None, whole())),
                ),
            }
        }
    }
    out
}

/// PD2: two worlds from one script. In one, Zed joins, connects with A,
/// invites C, imports contacts, invites an address to join, follows,
/// joins a group, dismisses B, blocks D, and is erased; in the other Zed
/// never existed. Every read of every other member answers the same, and
/// the others keep acting alike afterwards. (Others' actions towards Zed,
/// and Zed's reports, whose count on the target stays by design, cannot
/// be mirrored in a world without Zed: they are left out.)
#[test]
fn pd2_erased_member_is_indistinguishable_from_one_never_registered() {
    let (erased, clock1) = open(MemoryStore::new(), Policy::default());
    let (never, clock2) = open(MemoryStore::new(), Policy::default());
    others(&erased);
    others(&never);
    zed_acts(&erased, false);
    erased.erase(ZED).unwrap();
    for clock in [&clock1, &clock2] {
        clock.set(support::at(days(1)));
    }
    let max_id = erased.store().next_invitation_id().unwrap().get() + 1;
    let one = every_read(&erased, max_id);
    let two = every_read(&never, max_id);
    assert_eq!(one.len(), two.len());
    let answered = one.iter().filter(|(_, v)| v.starts_with("Ok")).count();
    assert!(
        answered * 2 > one.len(),
        "most reads answer: {answered} of {}",
        one.len()
    );
    let b_to_a = one
        .iter()
        .find(|(l, _)| *l == format!("{B} degree {A}"))
        .unwrap();
    assert_eq!(b_to_a.1, "Ok(First)");
    for ((label, x), (_, y)) in one.iter().zip(&two) {
        assert_eq!(x, y, "PD2: {label}");
    }
    // And afterwards: C, whom Zed invited, invites D and A alike.
    for net in [&erased, &never] {
        done(net.follow(C, K));
        done(net.join_group(C, GroupId::new(7)));
    }
    assert_eq!(
        answer(erased.people_you_may_know(C, PageSize::default())),
        answer(never.people_you_may_know(C, PageSize::default()))
    );
}

/// PD4: the export reveals nothing of what others did that Zed could not
/// read. World one: C ignores Zed's invitation, X invites Zed with a note
/// and then blocks Zed, B writes C a note. World two: C does nothing and X
/// never registered. Zed's export is the same in both, holds Zed's own
/// notes and data, and no one else's note to a third party.
#[test]
fn pd4_export_reveals_nothing_of_what_others_did() {
    const X: MemberId = MemberId::new(8);
    let export = |hidden: bool| {
        let (net, _) = open(MemoryStore::new(), Policy::default());
        others(&net);
        zed_acts(&net, true);
        if hidden {
            done(
                net.register(Member::person(X, Profile::named("X")).with_email(email_of(X), true)),
            );
            invite_with(
                &net,
                pronet::SendRequest::new(X, ZED)
                    .note("x writes zed")
                    .proof(&zed_email()),
            );
            done(net.block(X, ZED));
            // C ignores Zed's pending invitation (Zed's sent list still
            // says pending).
            let inbox = net.inbox(C, None, whole()).unwrap();
            let from_zed = inbox.items.iter().find(|l| l.other == ZED).unwrap();
            done(net.ignore(C, from_zed.invitation));
        }
        net.export(ZED).unwrap()
    };
    let seen = export(false);
    let hidden = export(true);
    assert_eq!(seen, hidden, "PD4: the export differs with what others hid");
    let text = format!("{seen:?}").to_lowercase();
    assert!(text.contains("pending words from zed"), "Zed's own note");
    assert!(text.contains("zed-friend"), "Zed's contacts");
    assert!(
        text.contains("newcomer@example.net"),
        "Zed's invitation to join"
    );
    assert!(
        !text.contains("from d to a"),
        "PD4: another's note to a third party"
    );
    assert!(
        !text.contains("x writes zed"),
        "PD4: a hidden member's note"
    );
    assert_eq!(seen.connections.len(), 1);
    assert_eq!(seen.connections[0].0, A);
    assert_eq!(seen.follows, vec![K]);
    assert_eq!(seen.groups, vec![GroupId::new(7)]);
    assert_eq!(seen.blocks.len(), 1);
    assert_eq!(seen.reports.len(), 1);
    // Its wire form is JSON with the wire format's conventions.
    let json = serde_json::to_value(pronet::wire::ToWire::to_wire(&seen)).unwrap();
    assert_eq!(json["member"]["id"], "1");
    assert_eq!(json["sent"][0]["seen"], "accepted");
    assert!(json["contacts"].as_array().unwrap().len() == 2);
}

/// Retention: a closed invitation keeps its notes until the policy's
/// retention has passed since it closed, then loses them (both notes);
/// an open one keeps them until it expired that long ago; each call looks
/// at no more than its limit, and passes resume.
#[test]
fn retention_erases_notes_of_closed_invitations_after_the_policy() {
    let policy = Policy::builder()
        .note_retention(TimeDelta::days(30))
        .build()
        .unwrap();
    let (net, clock) = open(MemoryStore::new(), policy);
    others(&net);
    zed_acts(&net, false);
    b_invites_zed(&net);
    let notes = |net: &Network<MemoryStore, ManualClock>| {
        let text = format!("{:?}", net.store().snapshot()).to_lowercase();
        SECRETS[4..8].iter().filter(|s| text.contains(*s)).count()
    };
    let run = |limit| {
        let mut total = 0;
        let mut calls = 0;
        loop {
            let r = net.apply_retention(limit).unwrap();
            total += r.erased;
            calls += 1;
            if !r.more {
                return (total, calls);
            }
        }
    };
    assert_eq!(notes(&net), 4);
    clock.set(support::at(days(29)));
    assert_eq!(run(5).0, 0, "nothing is past retention yet");
    assert_eq!(notes(&net), 4);
    clock.set(support::at(days(31)));
    let (erased, calls) = run(5);
    assert!(calls > 2, "bounded work per call: {calls} calls");
    // The accepted (Zed→A, A→B, B→C) and rejected (B→Zed) invitations.
    assert_eq!(erased, 4);
    assert_eq!(notes(&net), 1, "the open invitation keeps its note");
    assert_eq!(run(1000), (0, 1), "running again changes nothing");
    // Open past its expiry (180 days) plus retention: gone too.
    clock.set(support::at(days(180 + 31)));
    assert_eq!(run(1000).0, 2, "the expired open ones (Zed→C, D→A)");
    assert_eq!(notes(&net), 0);
}

/// An address its owner dropped leaves nothing behind (its owner record is
/// deleted, not kept as released), so erasing the member later has no
/// earlier address to miss; and someone else may claim it.
#[test]
fn a_dropped_address_leaves_no_record() {
    let (net, _) = open(MemoryStore::new(), Policy::default());
    done(net.register(zed()));
    done(net.update_member(ZED, |m| m.emails.truncate(1)));
    let text = format!("{:?}", net.store().snapshot()).to_lowercase();
    assert!(
        !text.contains("zed-home"),
        "the dropped address is still stored"
    );
    assert!(text.contains("zelda.quixote@example.org"));
    done(
        net.register(
            Member::person(m(30), Profile::named("Other"))
                .with_email(email("ZED-HOME@example.net"), true),
        ),
    );
    net.erase(ZED).unwrap();
    let text = format!("{:?}", net.store().snapshot()).to_lowercase();
    assert!(!text.contains("zelda"), "PD1");
    assert!(text.contains("zed-home"), "the new owner's address stays");
}
