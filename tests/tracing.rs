//! The `tracing` feature: every `Network` operation opens a span with its
//! name, the ids it names, and for commands the outcome, the attempts and
//! the store time; never a note, an email address or a profile field (P:
//! personal data stays out of logs).

#![cfg(feature = "tracing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::{Email, Member, PageSize, Profile, SearchQuery};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use support::{World, email_of, m, sent_id};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::span::Current;

/// A span's name and its fields, as recorded.
type Captured = (String, BTreeMap<String, String>);

/// Every span's name and fields, as recorded.
#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<Vec<Captured>>>,
    metadata: Arc<Mutex<Vec<&'static Metadata<'static>>>>,
    /// The entered spans, innermost last (the test runs on one thread).
    entered: Arc<Mutex<Vec<Id>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = BTreeMap::new();
        span.record(&mut Fields(&mut fields));
        let mut spans = self.spans.lock().unwrap();
        spans.push((span.metadata().name().to_owned(), fields));
        self.metadata.lock().unwrap().push(span.metadata());
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.spans.lock().unwrap();
        let index = usize::try_from(span.into_u64() - 1).unwrap();
        values.record(&mut Fields(&mut spans[index].1));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        // pronet emits no events; a captured one would be checked too.
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.spans
            .lock()
            .unwrap()
            .push(("event".to_owned(), fields));
    }
    fn enter(&self, span: &Id) {
        self.entered.lock().unwrap().push(span.clone());
    }
    fn exit(&self, _: &Id) {
        self.entered.lock().unwrap().pop();
    }
    fn current_span(&self) -> Current {
        match self.entered.lock().unwrap().last() {
            Some(id) => {
                let index = usize::try_from(id.into_u64() - 1).unwrap();
                Current::new(id.clone(), self.metadata.lock().unwrap()[index])
            }
            None => Current::none(),
        }
    }
}

/// The ops with their fields, and every value ever recorded, of a run of
/// operations with personal data in notes, emails and profiles.
#[test]
fn p_spans_name_the_operation_ids_outcome_and_attempts_and_nothing_personal() {
    let capture = Capture::default();
    let secret_note = "SECRET-NOTE-73";
    let secret_name = "Secretname Surname";
    let secret_email = "secret.person@example.net";
    let spans = capture.spans.clone();
    tracing::subscriber::with_default(capture, || {
        let w = World::new();
        let (ana, bo) = (m(1), m(2));
        let mut profile = Profile::named(secret_name);
        profile.headline = "SECRET-HEADLINE".into();
        w.register(
            Member::person(ana, profile).with_email(Email::parse(secret_email).unwrap(), true),
        );
        w.person(bo);
        let sent = w
            .net
            .send(
                pronet::SendRequest::new(ana, bo)
                    .note(secret_note)
                    .proof(&email_of(bo)),
            )
            .unwrap();
        let id = sent_id(&sent);
        let _ = w.net.accept(bo, id).unwrap();
        let _ = w.net.accept(bo, id).unwrap();
        let _ = w.net.block(m(1), m(404)).unwrap_err();
        let _ = w
            .net
            .invite_to_join(ana, &Email::parse("other.secret@example.org").unwrap())
            .unwrap();
        let _ = w
            .net
            .update_member(ana, |a| a.profile.location = "SECRET-TOWN".into())
            .unwrap();
        let _ = w.net.search(
            bo,
            &SearchQuery::keywords("secretname"),
            None,
            PageSize::default(),
        );
        let _ = w.net.inbox(bo, None, PageSize::default()).unwrap();
    });
    let spans = spans.lock().unwrap().clone();
    let op = |name: &str| -> Vec<BTreeMap<String, String>> {
        spans
            .iter()
            .filter(|(_, f)| f.get("operation").map(String::as_str) == Some(name))
            .map(|(_, f)| f.clone())
            .collect()
    };
    // Every span is pronet's, at the operation level.
    assert!(spans.iter().all(|(name, _)| name == "pronet"), "{spans:?}");
    let send = &op("send")[0];
    assert_eq!(send["member"], "1");
    assert_eq!(send["other"], "2");
    assert_eq!(send["outcome"], "ok");
    assert_eq!(send["attempts"], "1");
    assert!(send.contains_key("store_us"));
    let accepts = op("accept");
    assert_eq!(accepts.len(), 2);
    assert_eq!(accepts[0]["invitation"], "1");
    assert_eq!(accepts[0]["outcome"], "ok");
    assert_eq!(accepts[1]["outcome"], "unchanged");
    assert_eq!(op("block")[0]["outcome"], "unknown_member");
    assert_eq!(op("register").len(), 2);
    assert_eq!(op("update_member")[0]["outcome"], "ok");
    assert_eq!(op("invite_to_join")[0]["member"], "1");
    assert_eq!(op("search")[0]["member"], "2");
    assert_eq!(op("inbox")[0]["member"], "2");
    // Nothing personal anywhere.
    let everything = format!("{spans:?}").to_lowercase();
    for secret in [
        secret_note,
        secret_name,
        "secretname",
        secret_email,
        "secret.person",
        "other.secret",
        "example",
        "secret-headline",
        "secret-town",
        "@",
    ] {
        assert!(
            !everything.contains(&secret.to_lowercase()),
            "{secret} in {everything}"
        );
    }
}

/// Every operation's span, reads included, records an `outcome`: `ok`,
/// `unchanged`, or the refusal's code (P: and still nothing personal).
#[test]
fn p_every_operation_records_its_outcome() {
    use pronet::block::ReportReason;
    use pronet::{ChangeCursor, DegreeFilter, GroupId, ImportFormat as Format};
    let capture = Capture::default();
    let spans = capture.spans.clone();
    tracing::subscriber::with_default(capture, || {
        let w = World::new();
        let (ana, bo, cy, acme) = (m(1), m(2), m(3), m(9));
        let nobody = m(404);
        w.people([ana, bo, cy]);
        w.register(Member::company(acme, Profile::named("Acme")));
        let page = PageSize::default();
        let id = w.invite(ana, bo);
        let _ = w.net.invitation(bo, id).unwrap();
        let _ = w.net.invitation(cy, id).unwrap_err();
        let _ = w.net.inbox(bo, None, page).unwrap();
        let _ = w.net.held(bo, None, page).unwrap();
        let _ = w.net.sent(ana, None, page).unwrap();
        let _ = w.net.invitation_counts(bo).unwrap();
        let _ = w.net.mark_seen(bo, None).unwrap();
        let _ = w.net.accept(bo, id).unwrap();
        let _ = w.net.degree(ana, bo).unwrap();
        let _ = w.net.mutuals(ana, bo, None, page).unwrap();
        let _ = w.net.mutual_count(ana, bo).unwrap();
        let _ = w.net.second_degree_count(ana).unwrap();
        let _ = w.net.how_connected(ana, cy, page).unwrap();
        let _ = w.net.connections(ana, bo, None, page).unwrap();
        w.net.with_view(ana, |_| Ok(())).unwrap();
        let _ = w.net.standing(ana).unwrap();
        let _ = w.net.quota(nobody).unwrap_err();
        let _ = w.net.quota(ana).unwrap();
        let _ = w.net.member(ana, bo).unwrap();
        let _ = w.net.rows(ana, vec![bo]).unwrap();
        let _ = w.net.relationships(ana, &[bo, cy]).unwrap();
        let _ = w.net.people_you_may_know(cy, page).unwrap();
        let _ = w.net.people_you_may_know_page(cy, None, page).unwrap();
        let _ = w
            .net
            .search(cy, &SearchQuery::keywords("p1"), None, page)
            .unwrap();
        let _ = w.net.follow(ana, acme).unwrap();
        let _ = w.net.unfollow(ana, acme).unwrap();
        let _ = w
            .net
            .company_people(ana, acme, DegreeFilter::ANY, None, page)
            .unwrap();
        let _ = w.net.join_group(ana, GroupId::new(7)).unwrap();
        let _ = w.net.leave_group(ana, GroupId::new(7)).unwrap();
        let _ = w.net.dismiss(cy, ana).unwrap();
        let _ = w.net.add_contacts(ana, &[email_of(cy)]).unwrap();
        let _ = w
            .net
            .import_contacts(nobody, b"x@example.org\n", &Format::Detect)
            .unwrap_err();
        let _ = w
            .net
            .import_contacts(ana, b"x@example.org\n", &Format::Detect)
            .unwrap();
        let outsider = Email::parse("out@example.org").unwrap();
        let _ = w.net.invite_to_join(ana, &outsider).unwrap();
        let _ = w.net.sent_join_invitations(ana).unwrap();
        let _ = w.net.opt_out(&outsider).unwrap();
        let _ = w.net.deliver_join_invitations(cy).unwrap();
        let sent = w.invite(cy, ana);
        let _ = w.net.withdraw(cy, sent).unwrap();
        let _ = w.net.report(ana, cy, ReportReason::Spam).unwrap();
        let _ = w.net.block(ana, cy).unwrap();
        let _ = w.net.blocked(ana, None, page).unwrap();
        let _ = w.net.unblock(ana, cy).unwrap();
        let _ = w.net.remove_connection(ana, bo).unwrap();
        let _ = w.net.export(ana).unwrap();
        let _ = w.net.events_since(ChangeCursor::START, 10).unwrap();
        let _ = w.net.acknowledge(ChangeCursor::START).unwrap();
        let _ = w.net.catch_up().unwrap();
        let _ = w.net.repair_clock().unwrap();
        let _ = w.net.apply_retention(100).unwrap();
        let _ = w.net.deactivate(cy).unwrap();
        let _ = w.net.erase(cy).unwrap();
        let _ = w.net.update_member(ana, |_| ()).unwrap();
        let _ = w.net.register(Member::person(ana, Profile::named("Again")));
    });
    let spans = spans.lock().unwrap().clone();
    let mut outcomes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, fields) in &spans {
        assert_eq!(name, "pronet", "{fields:?}");
        let outcome = fields.get("outcome");
        assert!(outcome.is_some(), "a span without an outcome: {fields:?}");
        outcomes
            .entry(fields["operation"].clone())
            .or_default()
            .push(outcome.unwrap().clone());
    }
    // Every public operation ran, and recorded an outcome.
    for operation in [
        "accept",
        "acknowledge",
        "add_contacts",
        "apply_retention",
        "block",
        "blocked",
        "catch_up",
        "company_people",
        "connections",
        "deactivate",
        "degree",
        "deliver_join_invitations",
        "dismiss",
        "erase",
        "events_since",
        "export",
        "follow",
        "held",
        "how_connected",
        "import_contacts",
        "inbox",
        "invitation",
        "invitation_counts",
        "invite_to_join",
        "join_group",
        "leave_group",
        "mark_seen",
        "member",
        "mutual_count",
        "mutuals",
        "opt_out",
        "people_you_may_know",
        "people_you_may_know_page",
        "quota",
        "register",
        "relationships",
        "remove_connection",
        "repair_clock",
        "report",
        "rows",
        "search",
        "second_degree_count",
        "send",
        "sent",
        "sent_join_invitations",
        "standing",
        "unblock",
        "unfollow",
        "update_member",
        "with_view",
        "withdraw",
    ] {
        assert!(outcomes.contains_key(operation), "{operation} left no span");
    }
    // Reads: ok, or the refusal's code (the first calls are the test's;
    // later ones may be other operations' own reads).
    assert_eq!(outcomes["invitation"][..2], ["ok", "invitation_not_found"]);
    assert_eq!(outcomes["quota"][..2], ["unknown_member", "ok"]);
    assert!(outcomes["inbox"].iter().all(|o| o == "ok"));
    // Commands with a step before their run: the refusal there is recorded.
    assert_eq!(outcomes["import_contacts"][..2], ["unknown_member", "ok"]);
    assert_eq!(outcomes["register"].last().unwrap(), "member_exists");
    // A command that changed nothing.
    assert_eq!(outcomes["update_member"][0], "unchanged");
    assert!(!format!("{spans:?}").contains('@'));
}
