//! Clauses 1 to 3: atomic change sets, expected versions, and versions that
//! advance.

use super::*;

// ---------------------------------------------------------------------------
// Clause 1
// ---------------------------------------------------------------------------

/// Clause 1: a change set whose expectations fail anywhere (first, middle,
/// last write) writes nothing at all: no record, no secondary read, no feed
/// position; the same change set with good expectations writes everything.
///
/// # Panics
/// When the store breaks the clause.
pub fn c1_atomic_change_sets<S: Store>(make: impl Fn() -> S) {
    let store = make();
    put(&store, member(1, "Ana"));
    put(&store, member(2, "Bo"));
    put(&store, pair(1, 2, false));
    let good = vec![
        at(1, member(1, "Ana Lima")),
        absent(invitation(7, 1, 2, Status::Pending)),
        at(1, pair(1, 2, true)),
        absent(member(3, "Cy")),
        absent(ledger(1, 1)),
    ];
    let keys: Vec<Key> = good.iter().map(|w| w.key()).collect();
    let people = [1, 2, 3];
    let before = seen(&store, &keys, &people);
    let stale = at(5, member(2, "Bo Stale"));
    for position in [0, 2, good.len()] {
        let mut writes = good.clone();
        writes.insert(position, stale.clone());
        let key = conflict_key(store.commit(&writes), "clause 1");
        assert_eq!(
            key,
            Key::Member(id(2)),
            "clause 2: the conflict names the failed key"
        );
        assert_eq!(
            seen(&store, &keys, &people),
            before,
            "clause 1: a change set failing at write {position} changed something"
        );
    }
    // A failure of an Absent expectation, last.
    let mut writes = good.clone();
    writes.push(absent(member(1, "Ana Again")));
    conflict_key(store.commit(&writes), "clause 1");
    assert_eq!(
        seen(&store, &keys, &people),
        before,
        "clause 1: Absent failing last"
    );

    store.commit(&good).unwrap();
    for write in &good {
        let stored = store.get(&write.key()).unwrap().unwrap();
        assert_eq!(
            Some(&stored.value),
            write.record(),
            "clause 1: every write applied"
        );
    }
    assert_eq!(store.connections().unwrap(), vec![pair_key(1, 2)]);
    let open = store.open_invitations(id(2), Role::Recipient).unwrap();
    assert_eq!(open.len(), 1, "clause 5 after an atomic commit");
}

/// Clause 1: readers running while change sets commit never see one partly
/// applied: two members renamed together always read with the same name,
/// and two pairs connected and disconnected together are read together.
///
/// # Panics
/// When the store breaks the clause.
pub fn c1_readers_see_whole_change_sets<S: Store>(make: impl Fn() -> S) {
    const ROUNDS: u64 = 150;
    let store = make();
    let names = |round: u64| format!("round {round}");
    store
        .commit(&[
            absent(member(1, &names(0))),
            absent(member(2, &names(0))),
            absent(pair(3, 4, false)),
            absent(pair(5, 6, false)),
        ])
        .unwrap();
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        let reader = || {
            let mut reads = 0_u32;
            while !done.load(Ordering::SeqCst) || reads < 10 {
                let members = store.members().unwrap();
                assert_eq!(members.len(), 2);
                assert_eq!(
                    members[0].profile.display_name, members[1].profile.display_name,
                    "clause 1: members() saw half a change set"
                );
                let connections = store.connections().unwrap();
                assert!(
                    connections.is_empty() || connections.len() == 2,
                    "clause 1: connections() saw half a change set: {connections:?}"
                );
                reads += 1;
            }
        };
        scope.spawn(reader);
        scope.spawn(reader);
        for round in 1..=ROUNDS {
            store
                .commit(&[
                    at(round, member(1, &names(round))),
                    at(round, pair(3, 4, round % 2 == 1)),
                    at(round, pair(5, 6, round % 2 == 1)),
                    at(round, member(2, &names(round))),
                ])
                .unwrap();
        }
        done.store(true, Ordering::SeqCst);
    });
}

// ---------------------------------------------------------------------------
// Clause 2
// ---------------------------------------------------------------------------

/// Clause 2: `Absent` fails on a stored key, `At(v)` on a missing key and on
/// any other version; each failure names its key and writes nothing. An
/// empty change set succeeds and changes nothing.
///
/// # Panics
/// When the store breaks the clause.
pub fn c2_expected_versions<S: Store>(make: impl Fn() -> S) {
    let store = make();
    let cursor = store.change_cursor().unwrap();
    store.commit(&[]).unwrap();
    assert_eq!(
        store.change_cursor().unwrap(),
        cursor,
        "clause 2: an empty change set changes nothing"
    );
    put(&store, member(1, "Ana"));
    put(&store, member(1, "Ana Lima")); // version 2
    let keys = [Key::Member(id(1)), Key::Member(id(2))];
    let before = seen(&store, &keys, &[1, 2]);
    let cases = [
        (absent(member(1, "x")), "Absent on a stored key"),
        (at(1, member(2, "x")), "At(1) on a missing key"),
        (at(1, member(1, "x")), "At(1) on version 2"),
        (at(3, member(1, "x")), "At(3) on version 2"),
        (at(u64::MAX, member(1, "x")), "At(u64::MAX) on version 2"),
        (at(0, member(1, "x")), "At(0) on version 2"),
    ];
    for (write, case) in cases {
        let key = conflict_key(store.commit(std::slice::from_ref(&write)), case);
        assert_eq!(key, write.key(), "clause 2: {case} names its key");
        assert_eq!(
            seen(&store, &keys, &[1, 2]),
            before,
            "clause 2: {case} wrote"
        );
    }
    store.commit(&[at(2, member(1, "Ana L."))]).unwrap();
    store.commit(&[absent(member(2, "Bo"))]).unwrap();
}

/// Clause 2: a change set writing one key twice is refused as a conflict
/// naming that key, whatever the expectations, and writes nothing.
///
/// # Panics
/// When the store breaks the clause.
pub fn c2_duplicate_keys_conflict<S: Store>(make: impl Fn() -> S) {
    let store = make();
    put(&store, member(1, "Ana"));
    let keys = [Key::Member(id(1)), Key::Member(id(5)), Key::Member(id(6))];
    let before = seen(&store, &keys, &[1, 5, 6]);
    let cases = [
        vec![absent(member(5, "a")), at(1, member(5, "b"))],
        vec![absent(member(5, "a")), absent(member(5, "b"))],
        vec![at(1, member(1, "a")), at(1, member(1, "b"))],
        vec![at(1, member(1, "a")), at(2, member(1, "b"))],
        vec![
            absent(member(6, "c")),
            at(1, member(1, "a")),
            absent(member(5, "d")),
            at(1, member(1, "a")),
        ],
    ];
    for writes in cases {
        let dup = if writes[0].key() == Key::Member(id(6)) {
            Key::Member(id(1))
        } else {
            writes[0].key()
        };
        let key = conflict_key(store.commit(&writes), "clause 2 (duplicate keys)");
        assert_eq!(key, dup, "clause 2: the conflict names the duplicated key");
        assert_eq!(
            seen(&store, &keys, &[1, 5, 6]),
            before,
            "clause 2: a change set with a duplicated key wrote: {writes:?}"
        );
    }
}

/// Clause 2: threads committing the same expectation at once: exactly one
/// wins, the others get `Conflict`, and the stored value is the winner's.
///
/// # Panics
/// When the store breaks the clause.
pub fn c2_one_winner_per_expectation<S: Store>(make: impl Fn() -> S) {
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 25;
    let store = make();
    put(&store, member(1, "start"));
    for round in 1..=ROUNDS {
        let barrier = Barrier::new(THREADS as usize);
        let results: Vec<(String, bool, bool)> = thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (store, barrier) = (&store, &barrier);
                    scope.spawn(move || {
                        let name = format!("round {round} thread {t}");
                        barrier.wait();
                        // One update of a stored key and one creation.
                        let updated = store.commit(&[at(round, member(1, &name))]);
                        let created = store.commit(&[absent(member(1000 + round, &name))]);
                        let won = |r: Result<(), CommitError>| match r {
                            Ok(()) => true,
                            Err(CommitError::Conflict(_)) => false,
                            Err(e) => panic!("clause 2: a racing commit failed: {e}"),
                        };
                        (name, won(updated), won(created))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let updaters: Vec<_> = results.iter().filter(|r| r.1).collect();
        let creators: Vec<_> = results.iter().filter(|r| r.2).collect();
        assert_eq!(
            updaters.len(),
            1,
            "clause 2: At({round}) won by {updaters:?}"
        );
        assert_eq!(creators.len(), 1, "clause 2: Absent won by {creators:?}");
        let stored = store.get(&Key::Member(id(1))).unwrap().unwrap();
        assert_eq!(stored.version, Version(round + 1), "clause 3 under races");
        assert_eq!(
            stored.value,
            member(1, &updaters[0].0),
            "the winner's value"
        );
        let created = store.get(&Key::Member(id(1000 + round))).unwrap().unwrap();
        assert_eq!(created.value, member(1000 + round, &creators[0].0));
    }
}

// ---------------------------------------------------------------------------
// Clauses 3 and 4
// ---------------------------------------------------------------------------

/// Clause 3: a record is stored at version 1 when created and one more on
/// every write; each write is read back exactly (clause 4).
///
/// # Panics
/// When the store breaks the clause.
pub fn c3_versions_advance<S: Store>(make: impl Fn() -> S) {
    let store = make();
    assert_eq!(
        store.get(&Key::Member(id(1))).unwrap(),
        None,
        "clause 4: nothing stored"
    );
    store.commit(&[absent(member(1, "v1"))]).unwrap();
    for v in 1..=6_u64 {
        let stored = store.get(&Key::Member(id(1))).unwrap().unwrap();
        assert_eq!(stored.version, Version(v), "clause 3");
        assert_eq!(stored.value, member(1, &format!("v{v}")), "clause 4");
        store
            .commit(&[at(v, member(1, &format!("v{}", v + 1)))])
            .unwrap();
    }
    // Versions are per key.
    store.commit(&[absent(member(2, "other"))]).unwrap();
    assert_eq!(
        store.get(&Key::Member(id(2))).unwrap().unwrap().version,
        Version::FIRST
    );
}
