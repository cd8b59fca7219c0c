//! Clauses 4 to 6: records that round-trip exactly, the secondary reads,
//! and unique invitation ids.

use super::*;

/// Records of every kind, with extreme and unusual values: what must
/// round-trip exactly (RELIABILITY A5).
fn rich_records() -> Vec<Record> {
    let email = |s: &str| Email::parse(s).unwrap();
    let mut person = Member::person(
        id(u64::MAX),
        Profile {
            display_name: "Zoë O’Brien-Łukasiewicz 👩🏽‍💻".to_owned(),
            headline: "Ingénieure \"senior\" \\ back-end\n(Rust)".to_owned(),
            location: "Tōkyō, 日本".to_owned(),
            current_companies: vec![id(0), id(i64::MAX as u64 + 1)],
            past_companies: vec![],
            schools: vec!["École Polytechnique".to_owned(), String::new()],
            skills: vec!["SQL".to_owned(), "\u{1F980}".to_owned()],
        },
    )
    .with_tier(Tier::Premium(u8::MAX))
    .with_invite_preference(InvitePreference::ContactsOnly)
    .with_email(email("  Zoë.OBrien@Example.COM. "), true)
    .with_email(email("straße@x.de"), false);
    person.active = false;
    let company = Member::company(id(0), Profile::named("ACME"));
    let note = Note::parse("Hi Zoë 👋🏽 — we met at RustConf.\r\nLet's connect!", 300)
        .unwrap()
        .unwrap();
    let invitation = Invitation {
        id: InvitationId::new(u64::MAX),
        sender: id(1),
        recipient: id(u64::MAX),
        note: Some(note),
        sent_at: Timestamp::MIN,
        status: Status::Ignored(IgnoreReason::Spam),
        delivery: Delivery::Held,
        closed_at: Some(Timestamp::MAX),
        decline_note: Note::parse("Sorry, not now.", 300).unwrap(),
        replaced_by: Some(InvitationId::new(u64::MAX - 1)),
        recipient_knows: Some(InvitationId::new(u64::MAX - 2)),
    };
    let mut pair_state = PairState::new(pair_key(1, u64::MAX));
    pair_state.connected_since = Some(Timestamp::from_micros(-1));
    pair_state.open = Some(InvitationId::new(u64::MAX));
    pair_state.from_low = Attempts {
        unanswered: u32::MAX,
        last_sent: Some(Timestamp::MAX),
        withdrawn_at: Some(Timestamp::MIN),
        bar: Some(Bar::DontKnow),
    };
    pair_state.from_high.bar = Some(Bar::Rejected);
    let mut ledger = Ledger::new(id(u64::MAX));
    ledger.connections = u32::MAX;
    ledger.latest = Timestamp::MAX;
    ledger.sends = vec![
        SendEntry::new(Timestamp::MIN, InvitationId::new(0), true, false),
        SendEntry {
            answer: Some(Answer::Spam),
            ..SendEntry::new(
                Timestamp::from_micros(1_767_225_600_123_456),
                InvitationId::new(u64::MAX),
                false,
                true,
            )
        },
    ];
    ledger.standing.level = Level::Suspended;
    ledger.standing.until = Some(Timestamp::MAX);
    ledger.standing.reasons = vec![Signal::Reported, Signal::Rejected { percent: 100 }];
    ledger.standing.strikes = 7;
    ledger.standing.counted_from = Some(Timestamp::from_micros(1));
    vec![
        Record::Member(person),
        Record::Member(company),
        Record::Invitation(invitation),
        Record::Pair(pair_state),
        Record::Ledger(ledger),
        Record::Contact(Contact::new(
            id(u64::MAX),
            email("O'Brien+rust@bücher.example"),
            Timestamp::MAX,
        )),
        contact(1, "BO@Example.com"),
        Record::Block({
            let mut b = Block::new(id(u64::MAX), id(0));
            b.since = Some(Timestamp::MAX);
            b.unblocked = Some(Timestamp::MIN);
            b
        }),
        Record::BlockTally(BlockTally {
            member: id(u64::MAX),
            blocks: u32::MAX,
        }),
        Record::InboxMark(InboxMark::new(
            id(u64::MAX),
            Timestamp::MIN,
            InvitationId::new(u64::MAX),
        )),
    ]
}

/// Clause 4 (and RELIABILITY A5): records of every kind, with extreme ids,
/// timestamps, counters and Unicode text, read back exactly equal, through
/// `get`, the secondary reads and the change feed.
///
/// # Panics
/// When the store breaks the clause.
pub fn c4_reads_round_trip_exactly<S: Store>(make: impl Fn() -> S) {
    let store = make();
    let records = rich_records();
    store
        .commit(&records.iter().cloned().map(absent).collect::<Vec<_>>())
        .unwrap();
    let exact = |read: &Record, written: &Record| {
        assert_eq!(read, written, "clause 4: read back differs");
        // Debug shows what equality may not compare (an email as written).
        assert_eq!(
            format!("{read:?}"),
            format!("{written:?}"),
            "clause 4: read back differs"
        );
    };
    for record in &records {
        let stored = store.get(&record.key()).unwrap().unwrap();
        if record.key().holds_personal_data() {
            // Clause 3: such keys start at least at their write's position.
            assert!(stored.version >= Version::FIRST, "clause 3");
        } else {
            assert_eq!(stored.version, Version::FIRST, "clause 3");
        }
        exact(&stored.value, record);
    }
    // `get_many` answers as `get` does, in the order asked, a key absent
    // or asked twice included.
    let absent_key = Key::Member(id(424_242));
    let mut keys: Vec<Key> = records.iter().rev().map(Record::key).collect();
    keys.insert(1, absent_key);
    keys.push(records[0].key());
    let many = store.get_many(&keys).unwrap();
    assert_eq!(many.len(), keys.len(), "clause 4: get_many");
    for (key, read) in keys.iter().zip(&many) {
        assert_eq!(read, &store.get(key).unwrap(), "clause 4: get_many {key:?}");
    }
    assert_eq!(many[1], None, "clause 4: get_many of an absent key");
    assert_eq!(
        store.get_many(&[]).unwrap(),
        Vec::new(),
        "clause 4: get_many"
    );
    let changes = store
        .changes_since(ChangeCursor::START, records.len() + 1)
        .unwrap();
    assert_eq!(changes.changes.len(), records.len(), "clause 7");
    for (read, written) in puts(changes.changes.clone()).iter().zip(&records) {
        exact(&read.value, written);
    }
    let mut members = store.members().unwrap();
    members.sort_by_key(|m| m.id);
    let written: Vec<_> = records
        .iter()
        .filter(|r| matches!(r, Record::Member(_)))
        .cloned()
        .collect();
    assert_eq!(members.len(), written.len());
    for (m, w) in members.into_iter().zip(written.iter().rev()) {
        exact(&Record::Member(m), w);
    }
    // The ignored invitation is open, for the recipient with id u64::MAX.
    let open = store
        .open_invitations(id(u64::MAX), Role::Recipient)
        .unwrap();
    assert_eq!(open.len(), 1, "clause 5");
    exact(&Record::Invitation(open[0].clone()), &records[2]);
    assert_eq!(
        store.connections().unwrap(),
        vec![pair_key(1, u64::MAX)],
        "clause 5"
    );
}

// ---------------------------------------------------------------------------
// Clause 5
// ---------------------------------------------------------------------------

/// Clause 5: after every commit of a sequence that opens, ignores, answers
/// and withdraws invitations, connects and disconnects pairs, deactivates
/// members and writes records of other kinds, the secondary reads equal
/// what the latest records say, exactly.
///
/// # Panics
/// When the store breaks the clause.
pub fn c5_secondary_reads<S: Store>(make: impl Fn() -> S) {
    let store = make();
    let people: Vec<u64> = (1..=5).collect();
    let mut latest: BTreeMap<Key, Record> = BTreeMap::new();
    let steps: Vec<Record> = vec![
        member(1, "Ana"),
        member(2, "Bo"),
        invitation(10, 1, 2, Status::Pending),
        invitation(11, 3, 2, Status::Pending),
        member(3, "Cy"),
        invitation(12, 2, 4, Status::Ignored(IgnoreReason::Ignored)),
        ledger(1, 0),
        contact(2, "ana@example.com"),
        invitation(10, 1, 2, Status::Accepted),
        pair(1, 2, true),
        ledger(1, 1),
        invitation(11, 3, 2, Status::Ignored(IgnoreReason::DontKnow)),
        invitation(13, 4, 1, Status::Pending),
        pair(3, 4, true),
        invitation(13, 4, 1, Status::Withdrawn),
        pair(3, 4, false),
        invitation(12, 2, 4, Status::Rejected),
        invitation(14, 5, 3, Status::Pending),
        invitation(14, 5, 3, Status::Superseded),
        invitation(15, 5, 3, Status::Expired),
        invitation(16, 5, 3, Status::Pending),
        {
            let Record::Member(mut m) = member(2, "Bo") else {
                unreachable!()
            };
            m.active = false;
            Record::Member(m)
        },
        member(5, "Di"),
        pair(2, 5, true),
        block(1, 2, true),
        block(3, 2, true),
        block(2, 1, true),
        block(4, 2, false),
        block(1, 2, false),
        block(5, 2, true),
        block(1, 2, true),
        block(3, 2, false),
    ];
    for (step, record) in steps.into_iter().enumerate() {
        put(&store, record.clone());
        latest.insert(record.key(), record);
        for &p in &people {
            for role in [Role::Sender, Role::Recipient] {
                let mut read: Vec<Invitation> = store.open_invitations(id(p), role).unwrap();
                read.sort_by_key(|i| i.id);
                let want: Vec<Invitation> = latest
                    .values()
                    .filter_map(|r| match r {
                        Record::Invitation(i) if i.is_open() => Some(i.clone()),
                        _ => None,
                    })
                    .filter(|i| match role {
                        Role::Sender => i.sender == id(p),
                        Role::Recipient => i.recipient == id(p),
                    })
                    .collect();
                assert_eq!(
                    read, want,
                    "clause 5: open_invitations({p}, {role:?}) at step {step}"
                );
            }
        }
        let mut members = store.members().unwrap();
        members.sort_by_key(|m| m.id);
        let want: Vec<Member> = latest
            .values()
            .filter_map(|r| match r {
                Record::Member(m) => Some(m.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(members, want, "clause 5: members() at step {step}");
        let mut connections = store.connections().unwrap();
        connections.sort();
        let want: Vec<PairKey> = latest
            .values()
            .filter_map(|r| match r {
                Record::Pair(p) if p.connected_since.is_some() => Some(p.key),
                _ => None,
            })
            .collect();
        assert_eq!(connections, want, "clause 5: connections() at step {step}");
        for &p in &people {
            for role in [Role::Sender, Role::Recipient] {
                let mut read = store.blocks(id(p), role).unwrap();
                read.sort_by_key(|b| (b.blocker, b.target));
                let want: Vec<Block> = latest
                    .values()
                    .filter_map(|r| match r {
                        Record::Block(b) if b.stands() => Some(b.clone()),
                        _ => None,
                    })
                    .filter(|b| match role {
                        Role::Sender => b.blocker == id(p),
                        Role::Recipient => b.target == id(p),
                    })
                    .collect();
                assert_eq!(read, want, "clause 5: blocks({p}, {role:?}) at step {step}");
            }
            let sorted = |mut blocks: Vec<Block>| {
                blocks.sort_by_key(|b| (b.blocker, b.target));
                blocks
            };
            let both = store.blocks_both_ways(id(p)).unwrap();
            assert_eq!(
                (sorted(both.made), sorted(both.received)),
                (
                    sorted(store.blocks(id(p), Role::Sender).unwrap()),
                    sorted(store.blocks(id(p), Role::Recipient).unwrap())
                ),
                "clause 5: blocks_both_ways({p}) at step {step}"
            );
            // `gather` answers each part as its own method does, and a
            // part not asked for as empty.
            let role = if p % 2 == 0 {
                Role::Sender
            } else {
                Role::Recipient
            };
            let keys = [
                Key::Member(id(p)),
                Key::Block(id(p), id(2)),
                Key::Ledger(id(p)),
                Key::Member(id(99)),
            ];
            let all = store
                .gather(&Gather {
                    keys: &keys,
                    blocks_both_ways: Some(id(p)),
                    open_invitations: Some((id(p), role)),
                })
                .unwrap();
            let by_id = |mut invitations: Vec<Invitation>| {
                invitations.sort_by_key(|i| i.id);
                invitations
            };
            assert_eq!(
                (
                    all.records,
                    sorted(all.blocks.made),
                    sorted(all.blocks.received),
                    by_id(all.open_invitations)
                ),
                (
                    store.get_many(&keys).unwrap(),
                    sorted(store.blocks(id(p), Role::Sender).unwrap()),
                    sorted(store.blocks(id(p), Role::Recipient).unwrap()),
                    by_id(store.open_invitations(id(p), role).unwrap())
                ),
                "clause 5: gather({p}, {role:?}) at step {step}"
            );
            let keys_only = Gather {
                keys: &keys,
                ..Gather::default()
            };
            assert_eq!(
                store.gather(&keys_only).unwrap(),
                Gathered {
                    records: store.get_many(&keys).unwrap(),
                    ..Gathered::default()
                },
                "clause 5: gather({p}) of keys alone at step {step}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Clause 6
// ---------------------------------------------------------------------------

/// Clause 6: invitation ids taken one after another and from 4 threads at
/// once are all distinct.
///
/// # Panics
/// When the store breaks the clause.
pub fn c6_unique_ids<S: Store>(make: impl Fn() -> S) {
    const THREADS: usize = 4;
    const EACH: usize = 100;
    let store = make();
    let mut all = HashSet::new();
    for _ in 0..EACH {
        assert!(all.insert(store.next_invitation_id().unwrap()), "clause 6");
    }
    let taken: Vec<Vec<InvitationId>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let store = &store;
                scope.spawn(move || {
                    (0..EACH)
                        .map(|_| store.next_invitation_id().unwrap())
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for id in taken.into_iter().flatten() {
        assert!(all.insert(id), "clause 6: id {id} returned twice");
    }
}
