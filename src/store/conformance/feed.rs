//! Clause 7: the change feed, alone and under concurrent commits.

use super::*;

// ---------------------------------------------------------------------------
// Clause 7
// ---------------------------------------------------------------------------

/// Follows the feed from `from` to its end, `limit` records at a time,
/// checking that positions only grow.
fn follow<S: Store>(
    store: &S,
    from: ChangeCursor,
    limit: usize,
) -> (Vec<Versioned<Record>>, ChangeCursor) {
    let mut cursor = from;
    let mut all = Vec::new();
    loop {
        let page = store.changes_since(cursor, limit).unwrap();
        assert!(page.changes.len() <= limit, "clause 7: more than the limit");
        if page.changes.is_empty() {
            assert_eq!(
                page.cursor, cursor,
                "clause 7: an empty page keeps the cursor"
            );
            return (all, cursor);
        }
        assert!(
            page.cursor > cursor,
            "clause 7: the cursor went back or stood still"
        );
        cursor = page.cursor;
        all.extend(puts(page.changes));
    }
}

/// Clause 7: the change feed returns each record written after a cursor
/// once, at its latest version, in the order of the last writes (a
/// change set's writes in order); pages of any size reassemble the same
/// feed; failed commits leave no trace; `change_cursor` is the end.
///
/// # Panics
/// When the store breaks the clause.
pub fn c7_change_feed<S: Store>(make: impl Fn() -> S) {
    let store = make();
    assert_eq!(
        store.change_cursor().unwrap(),
        ChangeCursor::START,
        "clause 7: empty store"
    );
    let empty = store.changes_since(ChangeCursor::START, 10).unwrap();
    assert!(empty.changes.is_empty());
    assert_eq!(empty.cursor, ChangeCursor::START);

    store.commit(&[absent(member(1, "Ana"))]).unwrap();
    let after_one = store.change_cursor().unwrap();
    assert!(
        after_one > ChangeCursor::START,
        "clause 7: a commit moves the end"
    );
    store
        .commit(&[
            absent(member(2, "Bo")),
            absent(member(3, "Cy")),
            absent(pair(2, 3, true)),
        ])
        .unwrap();
    store.commit(&[at(1, member(1, "Ana Lima"))]).unwrap();
    let end = store.change_cursor().unwrap();
    let expected = vec![
        Versioned {
            version: Version(1),
            value: member(2, "Bo"),
        },
        Versioned {
            version: Version(1),
            value: member(3, "Cy"),
        },
        Versioned {
            version: Version(1),
            value: pair(2, 3, true),
        },
        Versioned {
            version: Version(2),
            value: member(1, "Ana Lima"),
        },
    ];
    for limit in [1, 2, 3, 4, 1000] {
        let (records, cursor) = follow(&store, ChangeCursor::START, limit);
        assert_eq!(records, expected, "clause 7: the feed in pages of {limit}");
        assert_eq!(
            cursor, end,
            "clause 7: following to the end reaches change_cursor"
        );
    }
    let none = store.changes_since(ChangeCursor::START, 0).unwrap();
    assert!(none.changes.is_empty(), "clause 7: limit 0");
    assert_eq!(
        none.cursor,
        ChangeCursor::START,
        "clause 7: limit 0 keeps the cursor"
    );
    // From the cursor after the first commit: member 1 was written again
    // since, so it comes again, at its new position.
    let (records, _) = follow(&store, after_one, 10);
    assert_eq!(records, expected, "clause 7: the feed from a cursor");
    // From a cursor inside the feed: only what follows it.
    let first = store.changes_since(ChangeCursor::START, 1).unwrap();
    let (rest, _) = follow(&store, first.cursor, 10);
    assert_eq!(
        rest,
        expected[1..],
        "clause 7: continuing from a page's cursor"
    );

    // A failed commit takes no position a reader can see.
    conflict_key(
        store.commit(&[absent(member(4, "Di")), absent(member(1, "x"))]),
        "clause 7",
    );
    assert_eq!(
        store.change_cursor().unwrap(),
        end,
        "clause 7: a failed commit moved the end"
    );
    assert!(store.changes_since(end, 10).unwrap().changes.is_empty());
    store.commit(&[absent(member(4, "Di"))]).unwrap();
    let page = store.changes_since(end, 10).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].value, Change::Put(member(4, "Di")));
    assert_eq!(page.cursor, store.change_cursor().unwrap());
    // A cursor from the far future sees nothing.
    let far = ChangeCursor::new(u64::MAX);
    let page = store.changes_since(far, 10).unwrap();
    assert!(page.changes.is_empty());
    assert_eq!(page.cursor, far);

    // Many rewrites of few records (a store may keep and compact a log):
    // the feed still holds each record once, at its latest version.
    let middle = store.change_cursor().unwrap();
    for round in 0..600_u64 {
        for raw in [2, 3] {
            let read = store.get(&Key::Member(id(raw))).unwrap();
            let name = format!("round {round}");
            store
                .commit(&[Write::replacing(read.as_ref(), member(raw, &name))])
                .unwrap();
        }
    }
    let latest = |raw: u64| Versioned {
        version: Version(601),
        value: member(raw, "round 599"),
    };
    for from in [ChangeCursor::START, middle] {
        let (records, cursor) = follow(&store, from, 3);
        assert_eq!(cursor, store.change_cursor().unwrap());
        assert_eq!(
            records[records.len() - 2..],
            [latest(2), latest(3)],
            "clause 7: after many rewrites"
        );
        let keys: BTreeSet<Key> = records.iter().map(|r| r.value.key()).collect();
        assert_eq!(keys.len(), records.len(), "clause 7: each record once");
    }

    // A store that tells the position of its commit tells the truth.
    let before = store.change_cursor().unwrap();
    let pair = [absent(member(90, "X")), absent(member(91, "Y"))];
    if let Some(position) = store.commit_positioned(&pair).unwrap() {
        assert_eq!(
            position,
            store.change_cursor().unwrap(),
            "clause 7: commit_positioned answers its last write's position"
        );
        let page = store.changes_since(before, 10).unwrap();
        assert_eq!(page.cursor, position, "clause 7: commit_positioned");
        let last = page.changes.last().map(|r| r.value.key());
        assert_eq!(
            last,
            Some(Key::Member(id(91))),
            "clause 7: commit_positioned"
        );
    }
    assert_eq!(
        store.commit_positioned(&[]).unwrap(),
        None,
        "clause 7: nothing written"
    );
}

/// Clause 7: a reader following the feed while 3 threads commit sees every
/// key's version only grow, and once the writers are done and it has read
/// to the end, holds every record at its latest version: no position was
/// skipped, though commits raced.
///
/// # Panics
/// When the store breaks the clause.
pub fn c7_change_feed_under_concurrent_commits<S: Store>(make: impl Fn() -> S) {
    follow_concurrent_commits(make, false);
}

/// Clause 7, [`changes_now`](Store::changes_now): as
/// [`c7_change_feed_under_concurrent_commits`], the follower applying each
/// page's settled changes, then its unsettled ones (each after the page's
/// cursor, in position order, no key twice in a page); a key's version
/// never goes back (an unsettled record may come again at the same
/// version), and at the end the follower holds every record at its latest
/// version.
///
/// # Panics
/// When the store breaks the clause.
pub fn c7_changes_now_under_concurrent_commits<S: Store>(make: impl Fn() -> S) {
    follow_concurrent_commits(make, true);
}

fn follow_concurrent_commits<S: Store>(make: impl Fn() -> S, now: bool) {
    const WRITERS: u64 = 3;
    const COMMITS: u64 = 60;
    let store = make();
    let done = AtomicBool::new(false);
    let mut followed: BTreeMap<Key, Versioned<Record>> = BTreeMap::new();
    let mut apply = |records: Vec<Versioned<Record>>| {
        for record in records {
            let key = record.value.key();
            if let Some(before) = followed.get(&key) {
                assert!(
                    record.version > before.version || (now && record.version == before.version),
                    "clause 7: {key:?} came again at version {:?} after {:?}",
                    record.version,
                    before.version
                );
            }
            followed.insert(key, record);
        }
    };
    thread::scope(|scope| {
        for w in 0..WRITERS {
            let store = &store;
            scope.spawn(move || {
                for c in 0..COMMITS {
                    // Each writer's own key, a shared key, and a new key.
                    let own = member(100 + w, &format!("writer {w} commit {c}"));
                    let new = ledger(1000 * (w + 1) + c, 0);
                    loop {
                        let shared = store.get(&Key::Ledger(id(1))).unwrap();
                        let count = match &shared {
                            Some(Versioned {
                                value: Record::Ledger(l),
                                ..
                            }) => l.connections + 1,
                            _ => 1,
                        };
                        let own_read = store.get(&own.key()).unwrap();
                        let writes = [
                            Write::replacing(own_read.as_ref(), own.clone()),
                            Write::replacing(shared.as_ref(), ledger(1, count)),
                            absent(new.clone()),
                        ];
                        match store.commit(&writes) {
                            Ok(()) => break,
                            Err(CommitError::Conflict(_)) => {}
                            Err(e) => panic!("a commit failed: {e}"),
                        }
                    }
                }
            });
        }
        let mut cursor = ChangeCursor::START;
        loop {
            let finished = done.load(Ordering::SeqCst);
            let page = if now {
                store.changes_now(cursor, 7).unwrap()
            } else {
                store.changes_since(cursor, 7).unwrap()
            };
            let mut last = page.cursor;
            let mut keys = BTreeSet::new();
            for (position, change) in &page.unsettled {
                assert!(
                    *position > last,
                    "clause 7: an unsettled change at or before the page's cursor"
                );
                last = *position;
                assert!(keys.insert(change.value.key()), "clause 7: a key twice");
            }
            for change in &page.changes {
                assert!(keys.insert(change.value.key()), "clause 7: a key twice");
            }
            let unsettled: Vec<_> = page.unsettled.into_iter().map(|(_, v)| v).collect();
            if !now {
                assert!(
                    unsettled.is_empty(),
                    "clause 7: changes_since answered unsettled changes"
                );
            }
            if page.changes.is_empty() {
                apply(puts(unsettled));
                if finished {
                    break;
                }
                if store
                    .get(&Key::Ledger(id(1)))
                    .unwrap()
                    .is_some_and(|l| match l.value {
                        Record::Ledger(l) => u64::from(l.connections) == WRITERS * COMMITS,
                        _ => false,
                    })
                {
                    done.store(true, Ordering::SeqCst);
                }
                thread::yield_now();
                continue;
            }
            cursor = page.cursor;
            apply(puts(page.changes));
            apply(puts(unsettled));
        }
    });
    let (all, _) = follow(&store, ChangeCursor::START, 1000);
    let latest: BTreeMap<Key, Versioned<Record>> =
        all.into_iter().map(|r| (r.value.key(), r)).collect();
    assert_eq!(
        latest.len() as u64,
        WRITERS + 1 + WRITERS * COMMITS,
        "clause 7: every key once"
    );
    let keys: BTreeSet<&Key> = latest.keys().collect();
    let seen_keys: BTreeSet<&Key> = followed.keys().collect();
    assert_eq!(keys, seen_keys, "clause 7: the follower missed keys");
    for (key, record) in &latest {
        assert_eq!(
            followed.get(key),
            Some(record),
            "clause 7: the follower holds {key:?} at another version"
        );
        assert_eq!(store.get(key).unwrap().as_ref(), Some(record), "clause 4");
    }
}
