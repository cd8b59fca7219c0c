//! The transactional outbox: RELIABILITY E2 and E3 (E1 is checked by the
//! fault sweep in `tests/faults.rs`).
//!
//! - E2: a relay stopped at any point (before delivering a page, after
//!   delivering it but before acknowledging it, and `kill -9` of a process
//!   between its commits and its relay) and restarted from where the store
//!   says (acknowledged events are gone) delivers every event, in commit
//!   order, each id once after deduplication.
//! - E3: acknowledging trims only what was acknowledged, never an event
//!   committed after the page; the outbox holds exactly the events each
//!   caller was answered, with their audiences, so the relay reaches no one
//!   the inline answer would not.

#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::{
    Audience, ChangeCursor, Committed, Email, Event, EventId, ManualClock, Member, MemoryStore,
    Network, Policy, Profile, Published, Store,
};
use support::{T0, days, email_of, m};

/// Every committed change's events, in commit order, as the callers were
/// answered (`events`, then `mail`).
#[derive(Default)]
struct Answered(Vec<Vec<Event>>);

impl Answered {
    fn keep<O>(&mut self, c: Committed<O>) -> O {
        let mut all = c.events;
        all.extend(c.mail);
        if !all.is_empty() {
            self.0.push(all);
        }
        c.outcome
    }

    /// Sends `from` → `to` with `note`, proving `to`'s address; keeps the
    /// answer; the send must create an invitation: its id.
    fn send<S: Store>(
        &mut self,
        net: &Network<S, ManualClock>,
        from: u64,
        to: u64,
        note: Option<&str>,
    ) -> pronet::InvitationId {
        let address = email_of(m(to));
        let request = pronet::SendRequest::new(m(from), m(to))
            .maybe_note(note)
            .proof(&address);
        support::sent(self.keep(net.send(request).unwrap()))
    }

    fn flat(&self) -> Vec<Event> {
        self.0.iter().flatten().cloned().collect()
    }
}

fn person(raw: u64) -> Member {
    Member::person(m(raw), Profile::named(format!("P{raw}"))).with_email(email_of(m(raw)), true)
}

/// A day of a small network: members join, invite (with notes, to members
/// and to addresses), accept, ignore, withdraw, block and leave.
fn script<S: Store>(net: &Network<S, ManualClock>, clock: &ManualClock) -> Answered {
    let mut got = Answered::default();
    for raw in 1..=6 {
        got.keep(net.register(person(raw)).unwrap());
    }
    let i = got.send(net, 1, 2, Some("Hi"));
    got.keep(net.accept(m(2), i).unwrap());
    // A repeated accept changes nothing and stores no event.
    got.keep(net.accept(m(2), i).unwrap());
    let j = got.send(net, 3, 2, None);
    got.keep(net.ignore_unknown(m(2), j).unwrap());
    let k = got.send(net, 4, 5, Some("Hello"));
    got.keep(net.withdraw(m(4), k).unwrap());
    let outsider = Email::parse("new.person@example.org").unwrap();
    got.keep(net.invite_to_join(m(1), &outsider).unwrap());
    clock.advance(days(1));
    got.keep(net.block(m(6), m(1)).unwrap());
    got.keep(net.deactivate(m(5)).unwrap());
    got
}

/// A consumer that drops repeats by remembering the greatest id it handled.
#[derive(Default)]
struct Consumer {
    handled: Vec<Published>,
    greatest: Option<EventId>,
    repeats: usize,
}

impl Consumer {
    fn deliver(&mut self, events: &[Published]) {
        for e in events {
            if self.greatest.is_some_and(|g| e.id <= g) {
                self.repeats += 1;
                continue;
            }
            self.greatest = Some(e.id);
            self.handled.push(e.clone());
        }
    }

    fn events(&self) -> Vec<Event> {
        self.handled.iter().map(|p| p.event.clone()).collect()
    }
}

/// Where a relay stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// After reading a page, before delivering it.
    BeforeDelivering,
    /// After delivering a page, before acknowledging it.
    BeforeAcknowledging,
}

/// A relay that starts from the beginning (acknowledged events are gone),
/// reads pages of `page` changes, and stops at `stop` on its `at`-th page;
/// answers whether it stopped early.
fn relay<S: Store>(
    net: &Network<S, ManualClock>,
    consumer: &mut Consumer,
    page: usize,
    stop: Option<(usize, Stop)>,
) -> bool {
    let mut cursor = ChangeCursor::START;
    for n in 0.. {
        let read = net.events_since(cursor, page).unwrap();
        if read.events.is_empty() {
            assert_eq!(read.cursor, cursor, "an empty page keeps the cursor");
            return false;
        }
        assert!(read.cursor > cursor);
        if stop == Some((n, Stop::BeforeDelivering)) {
            return true;
        }
        consumer.deliver(&read.events);
        if stop == Some((n, Stop::BeforeAcknowledging)) {
            return true;
        }
        assert!(net.acknowledge(read.cursor).unwrap() >= 1);
        cursor = read.cursor;
    }
    unreachable!()
}

fn e2_relay_stopped_anywhere<S: Store>(make: impl Fn() -> S) {
    for page in [1, 2, 3] {
        for at in 0..5 {
            for stop in [Stop::BeforeDelivering, Stop::BeforeAcknowledging] {
                let clock = ManualClock::new(T0);
                let net = Network::open(make(), clock.clone(), Policy::default()).unwrap();
                let answered = script(&net, &clock);
                let mut consumer = Consumer::default();
                let stopped = relay(&net, &mut consumer, page, Some((at, stop)));
                assert!(stopped, "page {page}: the script makes more than 5 pages");
                // Restarted: no cursor but the store's.
                assert!(!relay(&net, &mut consumer, page, None));
                let ctx = format!("page {page}, stop {stop:?} at {at}");
                assert_eq!(consumer.events(), answered.flat(), "E2 {ctx}");
                let ids: Vec<EventId> = consumer.handled.iter().map(|p| p.id).collect();
                assert!(
                    ids.windows(2).all(|w| w[0] < w[1]),
                    "E2 {ctx}: commit order"
                );
                match stop {
                    Stop::BeforeDelivering => assert_eq!(consumer.repeats, 0, "E2 {ctx}"),
                    Stop::BeforeAcknowledging => {
                        assert!(
                            consumer.repeats > 0,
                            "E2 {ctx}: the unacknowledged page came again"
                        );
                    }
                }
                assert!(
                    net.events_since(ChangeCursor::START, 100)
                        .unwrap()
                        .events
                        .is_empty()
                );
            }
        }
    }
}

#[test]
fn e2_relay_stopped_anywhere_delivers_everything_once_memory() {
    e2_relay_stopped_anywhere(MemoryStore::new);
}

#[cfg(feature = "sqlite")]
#[test]
fn e2_relay_stopped_anywhere_delivers_everything_once_sqlite_file() {
    e2_relay_stopped_anywhere(support::sqlite_files("outbox-e2"));
}

/// E3: the outbox holds exactly what the callers were answered, change by
/// change, with the same audiences; mail never goes to a member.
fn e3_outbox_is_what_callers_were_answered<S: Store>(store: S) {
    let clock = ManualClock::new(T0);
    let net = Network::open(store, clock.clone(), Policy::default()).unwrap();
    let answered = script(&net, &clock);
    let stored = net.store().outbox(ChangeCursor::START, usize::MAX).unwrap();
    let changes: Vec<Vec<Event>> = stored.iter().map(|(_, o)| o.events.clone()).collect();
    // The outbox keeps each change's events in the order produced; callers
    // get them split into `events` and `mail`.
    let split: Vec<Vec<Event>> = changes
        .iter()
        .map(|c| {
            let (mail, member): (Vec<Event>, Vec<Event>) = c
                .iter()
                .cloned()
                .partition(|e| e.audience() == Audience::Address);
            member.into_iter().chain(mail).collect()
        })
        .collect();
    assert_eq!(split, answered.0, "E3: one outbox record per change");
    let mail: Vec<&Event> = changes
        .iter()
        .flatten()
        .filter(|e| e.audience() == Audience::Address)
        .collect();
    assert!(matches!(mail[..], [Event::JoinInvitationReceived { .. }]));
    for e in changes.iter().flatten() {
        for raw in 1..=6 {
            assert!(
                e.audience() != Audience::Address || !e.audience().includes(m(raw)),
                "E3: mail reaches no member"
            );
        }
    }
    // The blocked member hears nothing of the block.
    assert!(
        changes
            .iter()
            .flatten()
            .all(|e| !matches!(e, Event::MemberBlocked { .. }) || !e.audience().includes(m(1)))
    );
}

#[test]
fn e3_outbox_is_what_callers_were_answered_memory() {
    e3_outbox_is_what_callers_were_answered(MemoryStore::new());
}

#[cfg(feature = "sqlite")]
#[test]
fn e3_outbox_is_what_callers_were_answered_sqlite() {
    e3_outbox_is_what_callers_were_answered(pronet::SqliteStore::open_in_memory().unwrap());
}

/// E3: acknowledging a page's cursor trims that page only: events
/// committed after the page was read stay, also when they commit between
/// the read and the acknowledgement.
#[test]
fn e3_acknowledging_trims_only_what_was_read() {
    let clock = ManualClock::new(T0);
    let net = Network::open(MemoryStore::new(), clock.clone(), Policy::default()).unwrap();
    for raw in 1..=3 {
        let _ = net.register(person(raw)).unwrap();
    }
    let page = net.events_since(ChangeCursor::START, 2).unwrap();
    assert_eq!(page.events.len(), 2);
    // Committed after the read, before the acknowledgement.
    let _ = net.register(person(4)).unwrap();
    assert_eq!(net.acknowledge(page.cursor).unwrap(), 2);
    assert_eq!(net.acknowledge(page.cursor).unwrap(), 0, "again: harmless");
    let rest = net.events_since(ChangeCursor::START, 10).unwrap();
    assert_eq!(
        rest.events
            .iter()
            .map(|p| p.event.clone())
            .collect::<Vec<_>>(),
        [3, 4].map(|raw| Event::MemberRegistered { member: m(raw) }),
        "E3: the unread events stay"
    );
    assert!(
        rest.events
            .iter()
            .all(|p| p.id > page.events[1].id && p.at == T0)
    );
    assert_eq!(net.acknowledge(ChangeCursor::START).unwrap(), 0);
}

/// The child role of `e2_kill_9_between_commit_and_publish`: runs the
/// script on the file the environment names, writes the events it was
/// answered to `<file>.expected`, relays two pages (acknowledging the
/// first only) to `<file>.delivered`, says so, and waits to be killed.
#[cfg(feature = "sqlite")]
#[test]
fn e2_child_role() {
    use std::io::Write;
    let Ok(path) = std::env::var("PRONET_OUTBOX_CHILD_DB") else {
        return;
    };
    let clock = ManualClock::new(T0);
    let store = pronet::SqliteStore::open(&path).unwrap();
    let net = Network::open(store, clock.clone(), Policy::default()).unwrap();
    let answered = script(&net, &clock);
    let lines: String = answered.flat().iter().map(|e| format!("{e:?}\n")).collect();
    std::fs::write(format!("{path}.expected"), lines).unwrap();
    let mut delivered = std::fs::File::create(format!("{path}.delivered")).unwrap();
    let first = net.events_since(ChangeCursor::START, 3).unwrap();
    for p in &first.events {
        writeln!(delivered, "{}|{:?}", p.id, p.event).unwrap();
    }
    net.acknowledge(first.cursor).unwrap();
    let second = net.events_since(first.cursor, 3).unwrap();
    for p in &second.events {
        writeln!(delivered, "{}|{:?}", p.id, p.event).unwrap();
    }
    // Delivered, not acknowledged; later changes committed, not published.
    println!("READY");
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::park();
    }
}

/// E2 with `kill -9`: a process commits, relays part of its outbox, and is
/// killed before acknowledging the last page it delivered and before
/// publishing the rest; a relay started afterwards delivers the rest, and
/// after deduplication by id every event arrived once, in commit order.
#[cfg(feature = "sqlite")]
#[test]
fn e2_kill_9_between_commit_and_publish() {
    use std::io::{BufRead, BufReader, Write};
    let file = support::TempDb::new("outbox-kill");
    let path = file.path().to_str().unwrap().to_owned();
    let mut child = support::child_role(
        "e2_child_role",
        "PRONET_OUTBOX_CHILD_DB",
        &path,
        std::process::Stdio::piped(),
    );
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .any(|line| line.contains("READY"));
    assert!(ready, "the child reached its kill point");
    child.kill().unwrap(); // SIGKILL
    assert!(!child.wait().unwrap().success());

    let net = Network::open(
        pronet::SqliteStore::open(&path).unwrap(),
        ManualClock::new(T0),
        Policy::default(),
    )
    .unwrap();
    let mut delivered = std::fs::OpenOptions::new()
        .append(true)
        .open(format!("{path}.delivered"))
        .unwrap();
    let mut cursor = ChangeCursor::START;
    loop {
        let page = net.events_since(cursor, 3).unwrap();
        if page.events.is_empty() {
            break;
        }
        for p in &page.events {
            writeln!(delivered, "{}|{:?}", p.id, p.event).unwrap();
        }
        net.acknowledge(page.cursor).unwrap();
        cursor = page.cursor;
    }
    drop(delivered);
    let mut greatest: Option<EventId> = None;
    let (mut handled, mut repeats) = (Vec::new(), 0);
    for line in std::fs::read_to_string(format!("{path}.delivered"))
        .unwrap()
        .lines()
    {
        let (id, event) = line.split_once('|').unwrap();
        let id: EventId = id.parse().unwrap();
        if greatest.is_some_and(|g| id <= g) {
            repeats += 1;
            continue;
        }
        greatest = Some(id);
        handled.push(event.to_owned());
    }
    let expected: Vec<String> = std::fs::read_to_string(format!("{path}.expected"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(handled, expected, "E2: every event once, in commit order");
    assert!(
        repeats > 0,
        "E2: the unacknowledged page was delivered again"
    );
    for suffix in [".expected", ".delivered"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}
