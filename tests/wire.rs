//! The JSON wire format (`pronet::wire`), pinned with golden JSON; the
//! error codes; the string cursors, round-tripped and fuzzed. The stored
//! forms (serde of `Event`, `Timestamp`...) are pinned too: the wire format
//! leaves them as they were.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::discovery::PymkCursor;
use pronet::wire::ToWire;
use pronet::{
    BlockOutcome, ChangeCursor, Degree, Email, Error, Event, EventId, GroupId, InvitationId,
    ListCursor, Note, Published, Refusal, SearchCursor, SearchQuery, SendOutcome, StoreError,
    Timestamp, UnblockOutcome,
};
use proptest::prelude::*;
use serde::Serialize;
use support::*;

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap()
}

fn note(text: &str) -> Note {
    Note::parse(text, 300).unwrap().unwrap()
}

/// Ana (1) and Bo (2) are connected, and Bo with Cy (3) and Di (4); an hour
/// later Cy invites Ana with a note.
fn world() -> (World, InvitationId) {
    let w = World::new();
    let [ana, bo, cy, di] = w.persons([m(1), m(2), m(3), m(4)]);
    w.connect_all([(ana, bo), (bo, cy), (bo, di)]);
    w.at(hours(1));
    let inv = sent_id(
        &w.net
            .send(
                pronet::SendRequest::new(cy, ana)
                    .note("Hello Ana")
                    .proof(&email_of(ana)),
            )
            .unwrap(),
    );
    (w, inv)
}

// ------------------------------------------------------------ golden JSON

#[test]
fn list_rows_views_hits_suggestions_and_standing() {
    let (w, inv) = world();
    assert_eq!(inv, InvitationId::new(4));
    assert_eq!(
        json(&w.net.inbox(m(1), None, whole()).unwrap().to_wire()),
        r#"{"items":[{"invitation":"4","other":"3","note":"Hello Ana","sent_at":"2026-01-01T01:00:00.000000Z","mutual_connections":1}],"next":null}"#
    );
    assert_eq!(
        json(&w.net.invitation(m(1), inv).unwrap().to_wire()),
        r#"{"id":"4","sender":"3","recipient":"1","note":"Hello Ana","sent_at":"2026-01-01T01:00:00.000000Z","seen":"pending"}"#
    );
    assert_eq!(
        json(&w.net.people_you_may_know(m(1), whole()).unwrap().to_wire()),
        r#"[{"member":"4","score":10,"reasons":[{"type":"mutual_connections","count":1}]}]"#
    );
    assert_eq!(
        json(
            &w.net
                .search(m(1), &SearchQuery::keywords("P3"), None, whole())
                .unwrap()
                .to_wire()
        ),
        r#"{"items":[{"member":"3","degree":"second","mutual_connections":1}],"next":null}"#
    );
    assert_eq!(
        json(&w.net.standing(m(3)).unwrap().to_wire()),
        r#"{"level":"good","reasons":[],"strikes":0}"#
    );
    assert_eq!(
        json(&w.net.degree(m(1), m(3)).unwrap().to_wire()),
        r#""second""#
    );
    assert_eq!(json(&Degree::OutOfNetwork.to_wire()), r#""out_of_network""#);
}

#[test]
fn a_page_continues_at_a_string_cursor() {
    let (w, _) = world();
    w.at(hours(2));
    let _ = w
        .net
        .send(pronet::SendRequest::new(m(4), m(1)).proof(&email_of(m(1))))
        .unwrap();
    let size = pronet::PageSize::new(1).unwrap();
    let page = w.net.inbox(m(1), None, size).unwrap();
    let text = json(&page.to_wire());
    assert!(
        text.ends_with(r#","next":"l.1767232800000000.5"}"#),
        "{text}"
    );
    // The cursor's serde form is the same string, and reads back.
    let next = page.next.unwrap();
    assert_eq!(json(&next), r#""l.1767232800000000.5""#);
    let back: ListCursor = serde_json::from_str(r#""l.1767232800000000.5""#).unwrap();
    assert_eq!(back, next);
    assert!(serde_json::from_str::<ListCursor>(r#""l.x.5""#).is_err());
    let rest = w.net.inbox(m(1), Some(back), size).unwrap();
    assert_eq!(rest.items.len(), 1);
    // A page of members continues after a member id string.
    let connections = w.net.connections(m(2), m(2), None, size).unwrap();
    assert_eq!(
        json(&connections.to_wire()),
        r#"{"items":["1"],"next":"1"}"#
    );
}

#[test]
fn events_are_internally_tagged_with_string_ids_and_rfc3339_instants() {
    let (w, inv) = world();
    let accepted = w.net.accept(m(1), inv).unwrap();
    // `Committed` serializes in its wire form directly; `()` is null.
    assert_eq!(
        json(&accepted),
        r#"{"outcome":null,"events":[{"type":"invitation_accepted","invitation":"4","sender":"3","recipient":"1"},{"type":"connection_created","a":"3","b":"1"}]}"#
    );
    let page = w.net.events_since(ChangeCursor::START, 1).unwrap();
    assert_eq!(
        json(&page.to_wire()),
        r#"{"events":[{"id":"3.0","at":"2026-01-01T00:00:00.000000Z","event":{"type":"member_registered","member":"1"}}],"cursor":"3"}"#
    );

    let big = u64::MAX;
    let cases: Vec<(Event, &str)> = vec![
        (
            sent_event(InvitationId::new(big), m(1), m(2), None),
            r#"{"type":"invitation_sent","invitation":"18446744073709551615","sender":"1","recipient":"2"}"#,
        ),
        (
            Event::InvitationReceived {
                invitation: InvitationId::new(9),
                sender: m(1),
                recipient: m(2),
                note: Some(note("Hi")),
            },
            r#"{"type":"invitation_received","invitation":"9","sender":"1","recipient":"2","note":"Hi"}"#,
        ),
        (
            Event::StandingChanged {
                member: m(1),
                from: pronet::standing::Level::Good,
                to: pronet::standing::Level::Restricted,
                reasons: vec![
                    pronet::standing::Signal::WithoutNote { percent: 90 },
                    pronet::standing::Signal::NotKnown,
                ],
                until: Some(T0),
            },
            r#"{"type":"standing_changed","member":"1","from":"good","to":"restricted","reasons":[{"type":"without_note","percent":90},{"type":"not_known"}],"until":"2026-01-01T00:00:00.000000Z"}"#,
        ),
        (
            Event::QuotaExhausted {
                member: m(1),
                retry_at: at(days(30)),
            },
            r#"{"type":"quota_exhausted","member":"1","retry_at":"2026-01-31T00:00:00.000000Z"}"#,
        ),
        (
            Event::GroupJoined {
                member: m(1),
                group: GroupId::new(7),
            },
            r#"{"type":"group_joined","member":"1","group":"7"}"#,
        ),
        (
            Event::JoinInvitationSent {
                invitation: InvitationId::new(3),
                sender: m(1),
                email: email("Zoe@Example.com"),
            },
            r#"{"type":"join_invitation_sent","invitation":"3","sender":"1","email":"Zoe@Example.com"}"#,
        ),
    ];
    for (event, golden) in cases {
        assert_eq!(json(&event.to_wire()), golden);
    }
    let published = Published {
        id: EventId {
            position: 12,
            index: 1,
        },
        at: Timestamp::UNIX_EPOCH,
        event: Event::ConnectionCreated { a: m(1), b: m(2) },
    };
    assert_eq!(
        json(&published.to_wire()),
        r#"{"id":"12.1","at":"1970-01-01T00:00:00.000000Z","event":{"type":"connection_created","a":"1","b":"2"}}"#
    );
}

#[test]
fn send_outcomes_and_member_views() {
    assert_eq!(
        json(&SendOutcome::Sent(InvitationId::new(9))),
        r#"{"type":"sent","invitation":"9"}"#
    );
    assert_eq!(
        json(&SendOutcome::Connected {
            accepted: InvitationId::new(8)
        }),
        r#"{"type":"connected","accepted":"8"}"#
    );
    // A member's wire form has no email address; its stored form has them.
    let member = pronet::Member::person(m(5), pronet::Profile::named("Eve"))
        .with_email(email("eve@example.com"), true);
    let wire = json(&member.to_wire());
    assert_eq!(
        wire,
        r#"{"id":"5","kind":"person","tier":"free","profile":{"display_name":"Eve","headline":"","location":"","current_companies":[],"past_companies":[],"schools":[],"skills":[]}}"#
    );
    assert!(json(&member).contains("eve@example.com"));
}

#[test]
fn refusals_and_errors() {
    let cases: Vec<(Refusal, &str)> = vec![
        (
            Refusal::ResendTooSoon { retry_at: T0 },
            r#"{"code":"resend_too_soon","message":"you can invite this member again from 2026-01-01T00:00:00.000000Z","retry_at":"2026-01-01T00:00:00.000000Z"}"#,
        ),
        (
            Refusal::UnknownMember(m(9)),
            r#"{"code":"unknown_member","message":"member m9 not found","member":"9"}"#,
        ),
        (
            Refusal::ConnectionCap {
                member: m(2),
                cap: 30000,
            },
            r#"{"code":"connection_cap","message":"member m2 has reached the maximum of 30000 connections","member":"2","cap":30000}"#,
        ),
        (
            Refusal::Suspended { until: T0 },
            r#"{"code":"suspended","message":"sending invitations is suspended until 2026-01-01T00:00:00.000000Z","until":"2026-01-01T00:00:00.000000Z"}"#,
        ),
        (
            Refusal::NotPending {
                seen: pronet::Seen::Withdrawn,
            },
            r#"{"code":"not_pending","message":"the invitation is no longer pending (Withdrawn)","seen":"withdrawn"}"#,
        ),
        (
            Refusal::Barred,
            r#"{"code":"barred","message":"this member declined an earlier invitation; you cannot invite them again"}"#,
        ),
    ];
    for (refusal, golden) in cases {
        assert_eq!(json(&refusal), golden);
        assert_eq!(json(&Error::Refused(refusal)), golden);
    }
    // The operator's errors leak nothing of the backend.
    let store = Error::Store(StoreError::Backend("disk /var/db full".into()));
    assert_eq!(
        json(&store),
        r#"{"code":"store_failed","message":"the service is unavailable; try again later"}"#
    );
    assert_eq!(store.http_status(), 503);
    let contended = Error::Contended { attempts: 8 };
    assert_eq!(
        json(&contended),
        r#"{"code":"contended","message":"the service is unavailable; try again later"}"#
    );
}

#[test]
fn refusal_codes_statuses_and_retry_at() {
    let (w, inv) = world();
    let again = refusal(w.net.send(pronet::SendRequest::new(m(2), m(1))));
    assert_eq!(
        (again.code(), again.http_status()),
        ("already_connected", 409)
    );
    let missing = refusal(w.net.accept(m(2), inv));
    assert_eq!(
        (missing.code(), missing.http_status(), missing.retry_at()),
        ("invitation_not_found", 404, None)
    );
    let wait = Refusal::QuotaExhausted { retry_at: T0 };
    assert_eq!(
        (wait.code(), wait.http_status(), wait.retry_at()),
        ("quota_exhausted", 429, Some(T0))
    );
    assert_eq!(Refusal::Barred.http_status(), 403);
    assert_eq!(Refusal::Yourself.http_status(), 422);
    assert_eq!(Refusal::AlreadyConnected.http_status(), 409);

    let errors = [
        Error::Store(StoreError::Backend("x".into())),
        Error::Contended { attempts: 1 },
        Error::Refused(Refusal::Barred),
    ];
    let codes: Vec<&str> = errors.iter().map(Error::code).collect();
    assert_eq!(codes, ["store_failed", "contended", "barred"]);
    for e in &errors {
        assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    }
}

#[test]
fn stored_forms_are_unchanged() {
    // SqliteStore keeps records as this JSON: the wire format is separate.
    let event = Event::InvitationAccepted {
        invitation: InvitationId::new(7),
        sender: m(1),
        recipient: m(2),
    };
    assert_eq!(
        json(&event),
        r#"{"InvitationAccepted":{"invitation":7,"sender":1,"recipient":2}}"#
    );
    assert_eq!(json(&T0), "1767225600000000");
    assert_eq!(json(&ChangeCursor::new(17)), "17");
}

// ---------------------------------------------------------------- cursors

fn degree() -> impl Strategy<Value = Degree> {
    prop_oneof![
        Just(Degree::Yourself),
        Just(Degree::First),
        Just(Degree::Second),
        Just(Degree::Third),
        Just(Degree::OutOfNetwork),
    ]
}

fn list_cursor() -> impl Strategy<Value = ListCursor> {
    (
        Timestamp::MIN.as_micros()..=Timestamp::MAX.as_micros(),
        any::<u64>(),
    )
        .prop_map(|(micros, id)| ListCursor {
            sent_at: Timestamp::from_micros(micros),
            invitation: InvitationId::new(id),
        })
}

fn search_cursor() -> impl Strategy<Value = SearchCursor> {
    (degree(), any::<usize>(), any::<u64>()).prop_map(|(degree, mutual_connections, id)| {
        SearchCursor {
            degree,
            mutual_connections,
            member: m(id),
        }
    })
}

/// Parses `text` as every cursor kind: never a panic, and whatever parses
/// is canonical (writes back as the same text).
fn parses_canonically_or_not_at_all(text: &str) {
    if let Ok(c) = text.parse::<ListCursor>() {
        assert_eq!(c.to_string(), text);
    }
    if let Ok(c) = text.parse::<SearchCursor>() {
        assert_eq!(c.to_string(), text);
    }
    if let Ok(c) = text.parse::<ChangeCursor>() {
        assert_eq!(c.to_string(), text);
    }
    if let Ok(c) = text.parse::<PymkCursor>() {
        assert_eq!(c.to_string(), text);
    }
    let _ = serde_json::from_value::<PymkCursor>(serde_json::Value::String(text.to_owned()));
    let _ = serde_json::from_value::<ListCursor>(serde_json::Value::String(text.to_owned()));
    let _ = serde_json::from_value::<SearchCursor>(serde_json::Value::String(text.to_owned()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn list_cursors_round_trip(c in list_cursor()) {
        let text = c.to_string();
        prop_assert_eq!(text.parse::<ListCursor>(), Ok(c));
        prop_assert_eq!(serde_json::from_str::<ListCursor>(&json(&c)).unwrap(), c);
    }

    #[test]
    fn search_cursors_round_trip(c in search_cursor()) {
        let text = c.to_string();
        prop_assert_eq!(text.parse::<SearchCursor>(), Ok(c));
        prop_assert_eq!(serde_json::from_str::<SearchCursor>(&json(&c)).unwrap(), c);
    }

    #[test]
    fn pymk_cursors_round_trip(score in any::<u64>(), id in any::<u64>()) {
        let c = PymkCursor { score, member: m(id) };
        prop_assert_eq!(c.to_string().parse::<PymkCursor>(), Ok(c));
        prop_assert_eq!(serde_json::from_str::<PymkCursor>(&json(&c)).unwrap(), c);
    }

    #[test]
    fn change_cursors_round_trip(n in any::<u64>()) {
        let c = ChangeCursor::new(n);
        prop_assert_eq!(c.to_string().parse::<ChangeCursor>(), Ok(c));
    }

    #[test]
    fn arbitrary_strings_are_rejected_without_panic(text in "\\PC{0,40}") {
        parses_canonically_or_not_at_all(&text);
    }

    #[test]
    fn near_misses_are_rejected_without_panic(
        l in list_cursor(),
        s in search_cursor(),
        p in (any::<u64>(), any::<u64>()),
        which in 0u8..3,
        cut in 0usize..48,
        junk in "[-+.0-9a-zé ]{0,3}",
    ) {
        let text = match which {
            0 => l.to_string(),
            1 => s.to_string(),
            _ => PymkCursor { score: p.0, member: m(p.1) }.to_string(),
        };
        let cut = cut.min(text.len()); // Cursors are ASCII: any cut is a boundary.
        let mutated = format!("{}{junk}{}", &text[..cut], &text[cut..]);
        parses_canonically_or_not_at_all(&mutated);
        parses_canonically_or_not_at_all(&text[..cut]);
    }
}

#[test]
fn a_committed_answer_never_carries_the_mail() {
    let (w, _) = world();
    let done = w
        .net
        .invite_to_join(m(1), &email("zoe@example.org"))
        .unwrap();
    assert_eq!(done.mail.len(), 1, "the mailer's event exists");
    assert_eq!(
        json(&done),
        r#"{"outcome":{"type":"invited","invitation":"5"},"events":[{"type":"join_invitation_sent","invitation":"5","sender":"1","email":"zoe@example.org"}]}"#
    );
    let sent = w
        .net
        .send(pronet::SendRequest::new(m(4), m(1)).proof(&email_of(m(1))))
        .unwrap();
    assert_eq!(
        json(&sent),
        r#"{"outcome":{"type":"sent","invitation":"6"},"events":[{"type":"invitation_sent","invitation":"6","sender":"4","recipient":"1"},{"type":"invitation_received","invitation":"6","sender":"4","recipient":"1"}]}"#
    );
}

/// The outcomes of block and unblock, the refusal naming a replaced
/// invitation's replacement, and a sender's row of an invitation to join.
#[test]
fn block_outcomes_replaced_invitations_and_join_rows() {
    assert_eq!(json(&BlockOutcome::Blocked.to_wire()), r#""blocked""#);
    assert_eq!(
        json(&BlockOutcome::AlreadyBlocked.to_wire()),
        r#""already_blocked""#
    );
    assert_eq!(json(&UnblockOutcome::Unblocked.to_wire()), r#""unblocked""#);
    assert_eq!(
        json(&UnblockOutcome::NotBlocked.to_wire()),
        r#""not_blocked""#
    );
    let (w, _) = world();
    let blocked = w.net.block(m(1), m(4)).unwrap();
    assert_eq!(
        json(&blocked),
        r#"{"outcome":"blocked","events":[{"type":"member_blocked","blocker":"1","blocked":"4"}]}"#
    );
    let replaced = Refusal::InvitationReplaced {
        invitation: InvitationId::new(7),
        by: InvitationId::new(9),
    };
    assert_eq!(
        json(&replaced),
        r#"{"code":"invitation_replaced","message":"invitation inv7 was replaced by inv9","invitation":"7","replaced_by":"9"}"#
    );
    let address = Email::parse("New@Example.org").unwrap();
    let _ = w
        .net
        .invite_to_join_with_note(m(2), &address, "Join us")
        .unwrap();
    let rows = w.net.sent_join_invitations(m(2)).unwrap();
    assert_eq!(
        json(&rows.to_wire()),
        r#"[{"invitation":"5","email":"New@Example.org","note":"Join us","sent_at":"2026-01-01T01:00:00.000000Z"}]"#
    );
}

// ------------------------------------------------------------ the reads

/// The reads of one viewer: a profile (emails only in one's own), counts,
/// relationships (a hidden or unknown member is `null`), rows with cards,
/// the allowance, people you may know a page at a time, the block list.
#[test]
fn reads_of_one_viewer() {
    let (w, _) = world();
    let net = &w.net;
    let golden = |value: String, want: &str| assert_eq!(value, want);
    golden(
        json(&net.member(m(1), m(3)).unwrap().to_wire()),
        r#"{"id":"3","kind":"person","tier":"free","profile":{"display_name":"P3","headline":"","location":"","current_companies":[],"past_companies":[],"schools":[],"skills":[]},"degree":"second","mutual_connections":1}"#,
    );
    golden(
        json(&net.member(m(1), m(1)).unwrap().to_wire()),
        r#"{"id":"1","kind":"person","tier":"free","profile":{"display_name":"P1","headline":"","location":"","current_companies":[],"past_companies":[],"schools":[],"skills":[]},"degree":"yourself","mutual_connections":0,"emails":[{"email":"m1@example.com","discoverable":true}]}"#,
    );
    golden(
        json(&net.invitation_counts(m(1)).unwrap().to_wire()),
        r#"{"inbox":1,"held":0,"sent":0,"unseen":1}"#,
    );
    golden(
        json(
            &net.relationships(m(1), &[m(3), m(4), m(99)])
                .unwrap()
                .to_wire(),
        ),
        r#"[{"member":"3","degree":"second","pending":{"direction":"received","invitation":"4"},"mutual_connections":1},{"member":"4","degree":"second","mutual_connections":1},null]"#,
    );
    let inbox = net.inbox(m(1), None, whole()).unwrap();
    golden(
        json(&net.rows(m(1), inbox.items).unwrap().to_wire()),
        r#"[{"item":{"invitation":"4","other":"3","note":"Hello Ana","sent_at":"2026-01-01T01:00:00.000000Z","mutual_connections":1},"card":{"id":"3","kind":"person","display_name":"P3","headline":"","location":"","degree":"second"}}]"#,
    );
    golden(
        json(&net.quota(m(3)).unwrap().to_wire()),
        r#"{"sends_remaining":299,"send_limit":300,"outstanding":1,"max_outstanding":5000,"next_send_at":"2026-01-01T01:00:00.000000Z","standing":{"level":"good","reasons":[],"strikes":0}}"#,
    );
    let size = pronet::PageSize::new(1).unwrap();
    let pymk = net.people_you_may_know_page(m(1), None, size).unwrap();
    golden(
        json(&pymk.to_wire()),
        r#"{"items":[{"member":"4","score":10,"reasons":[{"type":"mutual_connections","count":1}]}],"next":null}"#,
    );
    let _ = net.block(m(1), m(4)).unwrap();
    golden(
        json(&net.blocked(m(1), None, whole()).unwrap().to_wire()),
        r#"{"items":[{"member":"4","display_name":"P4","since":"2026-01-01T01:00:00.000000Z"}],"next":null}"#,
    );
    golden(
        json(&net.relationships(m(1), &[m(4)]).unwrap().to_wire()),
        r#"[null]"#,
    );
}
