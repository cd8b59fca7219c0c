//! A5 and issue #11 item 5: what a damaged SQLite file reads back. A byte
//! flipped anywhere in a closed database gives, through every read of the
//! store and of a `Network` over it, exactly the original answers or a
//! clear error: never different data, never a panic. Entries of the
//! open-invitation lists lost or added behind the store's back, and a lost
//! invitation-id counter, are detected.

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::record::Key;
use pronet::store::Role;
use pronet::{
    ChangeCursor, Email, Error, InvitationId, ManualClock, Member, Network, Policy, Profile,
    SqliteStore, Store, StoreError, Timestamp,
};
use std::fmt::Write as _;
use std::path::Path;
use support::{T0, TempDb, m, send_proving, sent, whole};

/// When the built database is read back: after everything it recorded (a
/// clock behind its records would be refused as a clock fault).
fn read_at() -> Timestamp {
    T0.saturating_add(chrono::TimeDelta::days(3))
}
/// Members 1..=MEMBERS are persons; 100 is a company.
const MEMBERS: u64 = 7;
/// Byte-flip trials by default; `PRONET_FLIP_TRIALS` asks for more.
const FLIP_TRIALS: usize = 150;

fn email(raw: u64) -> Email {
    Email::parse(&format!("member.{raw}@example.com")).unwrap()
}

/// A small network: persons and a company, contacts, invitations with and
/// without notes in every state, connections, a block.
fn build(path: &Path) {
    let clock = ManualClock::new(T0);
    let net = Network::open(
        SqliteStore::open(path).unwrap(),
        clock.clone(),
        Policy::default(),
    )
    .unwrap();
    for raw in 1..=MEMBERS {
        let mut member = Member::person(m(raw), Profile::named(format!("Member {raw} é")))
            .with_email(email(raw), true);
        member.profile.headline = format!("Headline {raw}");
        let _ = net.register(member).unwrap();
        clock.advance(chrono::TimeDelta::microseconds(1_234_567));
    }
    let _ = net
        .register(Member::company(m(100), Profile::named("ACME")))
        .unwrap();
    let _ = net.add_contacts(m(1), &[email(2), email(3)]).unwrap();
    let a = support::invite_with(
        &net,
        pronet::SendRequest::new(m(1), m(2)).note("Hello two, note one"),
    );
    let _ = net.accept(m(2), a).unwrap();
    let b = support::invite_with(&net, pronet::SendRequest::new(m(1), m(3)).note("Hi three"));
    let _ = net.accept(m(3), b).unwrap();
    clock.advance(chrono::TimeDelta::hours(5));
    let _ = net
        .send(pronet::SendRequest::new(m(2), m(3)).note("Pending note"))
        .unwrap();
    let c = sent(send_proving(&net, m(1), m(4), None, &email(4)).outcome);
    let _ = net.ignore(m(4), c).unwrap();
    let d = sent(send_proving(&net, m(1), m(5), Some("Rejected note"), &email(5)).outcome);
    let _ = net.reject(m(5), d).unwrap();
    let e = sent(send_proving(&net, m(3), m(6), Some("Withdrawn"), &email(6)).outcome);
    let _ = net.withdraw(m(3), e).unwrap();
    let _ = send_proving(&net, m(6), m(7), Some("Open to seven"), &email(7));
    let _ = send_proving(&net, m(2), m(4), None, &email(4));
    clock.advance(chrono::TimeDelta::days(2));
    let _ = net.block(m(5), m(7)).unwrap();
    let _ = send_proving(&net, m(4), m(6), Some("Last one"), &email(6));
}

/// Every answer the store and a `Network` over it give, as text; or the
/// first error other than a refusal (a refusal is an answer).
fn observe(path: &Path, keys: &[Key]) -> Result<String, String> {
    let store = SqliteStore::open(path).map_err(|e| format!("open: {e}"))?;
    let store_err = |e: StoreError| format!("store: {e}");
    let mut out = String::new();
    writeln!(out, "snapshot {:?}", store.snapshot().map_err(store_err)?).unwrap();
    for key in keys {
        writeln!(out, "get {key:?} {:?}", store.get(key).map_err(store_err)?).unwrap();
    }
    writeln!(out, "members {:?}", store.members().map_err(store_err)?).unwrap();
    writeln!(
        out,
        "connections {:?}",
        store.connections().map_err(store_err)?
    )
    .unwrap();
    let ids = (1..=MEMBERS).chain([100, 999]).map(m);
    for id in ids.clone() {
        for role in [Role::Sender, Role::Recipient] {
            let mut open = store.open_invitations(id, role).map_err(store_err)?;
            open.sort_by_key(|inv| inv.id);
            writeln!(out, "open {id} {role:?} {open:?}").unwrap();
        }
        let mut contacts = store.contacts(id).map_err(store_err)?;
        contacts.sort_by(|a, b| a.email.canonical().cmp(b.email.canonical()));
        writeln!(out, "contacts {id} {contacts:?}").unwrap();
    }
    writeln!(
        out,
        "cursor {:?}",
        store.change_cursor().map_err(store_err)?
    )
    .unwrap();
    // The whole feed at once, and in pages of three.
    writeln!(
        out,
        "feed {:?}",
        store
            .changes_since(ChangeCursor::START, 10_000)
            .map_err(store_err)?
    )
    .unwrap();
    let mut cursor = ChangeCursor::START;
    loop {
        let changes = store.changes_since(cursor, 3).map_err(store_err)?;
        if changes.changes.is_empty() {
            break;
        }
        writeln!(out, "page {:?}", changes).unwrap();
        cursor = changes.cursor;
    }
    // A network over the store: its rebuilt indexes and every read.
    let net = Network::open(&store, ManualClock::new(read_at()), Policy::default())
        .map_err(|e| format!("network: {e}"))?;
    fn answer<T: std::fmt::Debug>(r: Result<T, Error>) -> Result<String, String> {
        match r {
            Ok(v) => Ok(format!("{v:?}")),
            Err(Error::Refused(r)) => Ok(format!("refused {r:?}")),
            Err(e) => Err(format!("network: {e}")),
        }
    }
    for viewer in ids.clone() {
        writeln!(
            out,
            "inbox {viewer} {}",
            answer(net.inbox(viewer, None, whole()))?
        )
        .unwrap();
        writeln!(
            out,
            "held {viewer} {}",
            answer(net.held(viewer, None, whole()))?
        )
        .unwrap();
        writeln!(
            out,
            "sent {viewer} {}",
            answer(net.sent(viewer, None, whole()))?
        )
        .unwrap();
        writeln!(out, "standing {viewer} {}", answer(net.standing(viewer))?).unwrap();
        for other in ids.clone() {
            writeln!(
                out,
                "degree {viewer} {other} {}",
                answer(net.degree(viewer, other))?
            )
            .unwrap();
            writeln!(
                out,
                "connections {viewer} {other} {}",
                answer(net.connections(viewer, other, None, whole()))?
            )
            .unwrap();
        }
        for raw in 1..=20 {
            let id = InvitationId::new(raw);
            writeln!(
                out,
                "invitation {viewer} {id} {}",
                answer(net.invitation(viewer, id))?
            )
            .unwrap();
        }
    }
    drop(net);
    // The id counter (a write, made alike in the original).
    writeln!(
        out,
        "next id {:?}",
        store.next_invitation_id().map_err(store_err)?
    )
    .unwrap();
    Ok(out)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A5 (issue #11, item 5): one random byte flipped in a closed database
/// file, for many trials: every read of the store and of a `Network` over
/// it answers exactly as the original did, or fails with a clear error.
/// None answers differently, none panics. Trials: `FLIP_TRIALS`, or
/// `PRONET_FLIP_TRIALS`.
#[test]
fn a5_byte_flips_read_back_identical_or_as_errors() {
    let original = TempDb::new("flip-original");
    build(original.path());
    // Closed: the WAL is checkpointed into the file and removed.
    assert!(!Path::new(&format!("{}-wal", original.path().display())).exists());
    let bytes = std::fs::read(original.path()).unwrap();
    let keys: Vec<Key> = SqliteStore::open(original.path())
        .unwrap()
        .snapshot()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let baseline = {
        let copy = TempDb::new("flip-baseline");
        std::fs::write(copy.path(), &bytes).unwrap();
        observe(copy.path(), &keys).unwrap()
    };
    let trials = support::env_number("PRONET_FLIP_TRIALS", FLIP_TRIALS);
    let mut rng = Rng(0x005e_ed0f_f11b);
    let (mut identical, mut errored) = (0, 0);
    let mut different = Vec::new();
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    let copy = TempDb::new("flip-trial");
    for trial in 0..trials {
        let offset = usize::try_from(rng.next() % bytes.len() as u64).unwrap();
        let mask = u8::try_from(rng.next() % 255).unwrap() + 1;
        let mut damaged = bytes.clone();
        damaged[offset] ^= mask;
        copy.remove();
        std::fs::write(copy.path(), &damaged).unwrap();
        let seen = std::panic::catch_unwind(|| observe(copy.path(), &keys)).unwrap_or_else(|_| {
            panic!("trial {trial}: a panic (offset {offset}, mask {mask:#04x})")
        });
        match seen {
            Ok(seen) if seen == baseline => identical += 1,
            Ok(seen) => {
                let first = seen
                    .lines()
                    .zip(baseline.lines())
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("now {a}\nwas {b}"));
                different.push(format!(
                    "trial {trial} offset {offset} mask {mask:#04x}: {first:?}"
                ));
            }
            Err(e) => {
                errored += 1;
                let kind: String = e.chars().take(60).collect();
                *errors.entry(kind).or_default() += 1;
            }
        }
    }
    println!(
        "byte flips: {trials} trials over a {} byte file: {identical} identical, {errored} errors, {} silently different",
        bytes.len(),
        different.len()
    );
    for (kind, n) in &errors {
        println!("  {n:5} {kind}");
    }
    assert!(different.is_empty(), "{}", different.join("\n"));
    assert_eq!(identical + errored, trials);
}

/// A raw connection to the file, as a tamperer (or a broken tool) has.
fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Lists invitation `key` (as stored, JSON) in member `a`'s open
/// invitations, as the recipient.
fn list_open(path: &Path, a: i64, key: &str) {
    raw(path)
        .execute(
            "INSERT INTO entry (kind, a, b, key) VALUES ('open', ?1, 1, ?2)",
            rusqlite::params![a, key],
        )
        .unwrap();
}

fn corrupt_key<T: std::fmt::Debug>(r: Result<T, Error>) -> Key {
    match r {
        Err(Error::Store(StoreError::Corrupt(key))) => key,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// A5: an open-invitation entry deleted behind the store's back is
/// detected (the inbox and sent lists answer `Corrupt` naming the
/// invitation), not read as a shorter list; likewise a phantom entry,
/// whether it names a real record of another list or no record at all.
#[test]
fn a5_lost_and_phantom_entries_are_corrupt_naming_the_key() {
    let path = TempDb::new("entries");
    build(path.path());
    let open = || {
        Network::open(
            SqliteStore::open(path.path()).unwrap(),
            ManualClock::new(read_at()),
            Policy::default(),
        )
        .unwrap()
    };
    // Invitation 3: 2 -> 3, pending with a note.
    assert_eq!(open().inbox(m(3), None, whole()).unwrap().items.len(), 1);
    let key3 = serde_json::to_string(&Key::Invitation(InvitationId::new(3))).unwrap();
    let deleted = raw(path.path())
        .execute(
            "DELETE FROM entry WHERE kind = 'open' AND key = ?1 AND b = 1",
            [&key3],
        )
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(
        corrupt_key(open().inbox(m(3), None, whole())),
        Key::Invitation(InvitationId::new(3))
    );
    // The sender's side is intact.
    assert_eq!(open().sent(m(2), None, whole()).unwrap().items.len(), 2);
    // Put it back: sound again.
    list_open(path.path(), 3, &key3);
    assert_eq!(open().inbox(m(3), None, whole()).unwrap().items.len(), 1);
    // A phantom: invitation 9 (4 -> 6) listed in 5's inbox too.
    let key9 = serde_json::to_string(&Key::Invitation(InvitationId::new(9))).unwrap();
    list_open(path.path(), 5, &key9);
    assert_eq!(
        corrupt_key(open().inbox(m(5), None, whole())),
        Key::Invitation(InvitationId::new(9))
    );
    raw(path.path())
        .execute("DELETE FROM entry WHERE a = 5 AND b = 1", [])
        .unwrap();
    assert!(open().inbox(m(5), None, whole()).unwrap().items.is_empty());
    // A phantom naming no record at all.
    let key42 = serde_json::to_string(&Key::Invitation(InvitationId::new(42))).unwrap();
    list_open(path.path(), 6, &key42);
    let store = SqliteStore::open(path.path()).unwrap();
    assert!(matches!(
        store.open_invitations(m(6), Role::Recipient),
        Err(StoreError::Corrupt(Key::Invitation(id))) if id == InvitationId::new(42)
    ));
}

/// A5: members and connections are read from the records themselves, so
/// the entries of older schemas (or rows added to the side tables) can
/// neither add nor hide one; `Network::open` rebuilds the same graph.
#[test]
fn a5_side_table_rows_cannot_add_members_or_connections() {
    let path = TempDb::new("side");
    build(path.path());
    let before = {
        let store = SqliteStore::open(path.path()).unwrap();
        (store.members().unwrap(), store.connections().unwrap())
    };
    assert_eq!(before.1.len(), 2);
    let conn = raw(path.path());
    conn.execute_batch(
        "INSERT INTO entry (kind, a, b, key) VALUES ('connected', 4, 5, '{\"Pair\":{\"low\":4,\"high\":5}}');
         INSERT INTO entry (kind, a, b, key) VALUES ('member', 77, 0, '{\"Member\":77}');",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(path.path()).unwrap();
    assert_eq!(
        (store.members().unwrap(), store.connections().unwrap()),
        before
    );
    let net = Network::open(&store, ManualClock::new(read_at()), Policy::default()).unwrap();
    assert!(!net.graph().are_connected(m(4), m(5)));
    assert!(net.graph().are_connected(m(1), m(2)));
}

/// Issue #11 item 5: a deleted invitation-id counter is a clear error
/// naming the damage (not "Query returned no rows"), and a damaged one
/// (its checksum fails) too; ids are never guessed back.
#[test]
fn a_lost_or_damaged_id_counter_is_a_clear_error() {
    let path = TempDb::new("counter");
    build(path.path());
    raw(path.path())
        .execute("DELETE FROM meta WHERE name = 'last_invitation_id'", [])
        .unwrap();
    let net = Network::open(
        SqliteStore::open(path.path()).unwrap(),
        ManualClock::new(read_at()),
        Policy::default(),
    )
    .unwrap();
    let e = net
        .send(pronet::SendRequest::new(m(5), m(6)).proof(&email(6)))
        .unwrap_err();
    assert!(matches!(e, Error::Store(StoreError::Backend(_))), "{e:?}");
    assert!(e.to_string().contains("corrupt SQLite database"), "{e}");
    assert!(e.to_string().contains("last_invitation_id"), "{e}");
    assert!(e.to_string().contains("missing"), "{e}");
    drop(net);
    raw(path.path())
        .execute(
            "INSERT INTO meta (name, value, checksum) VALUES ('last_invitation_id', 3, 0)",
            [],
        )
        .unwrap();
    let store = SqliteStore::open(path.path()).unwrap();
    let e = store.next_invitation_id().unwrap_err();
    assert!(e.to_string().contains("fails its checksum"), "{e}");
}
