//! Clause 10: deletion, tombstones, and keys of personal data that leave
//! nothing behind.

use super::*;

/// The deletion of the record stored under `key` at `version`.
fn delete(version: Version, key: Key) -> Write {
    Write {
        expect: Expect::At(version),
        change: Change::Delete(key),
    }
}

/// Every change after `from`, following the feed to its end.
fn feed_after<S: Store>(store: &S, from: ChangeCursor) -> Vec<Versioned<Change>> {
    let mut cursor = from;
    let mut all = Vec::new();
    loop {
        let page = store.changes_since(cursor, 3).unwrap();
        if page.changes.is_empty() {
            return all;
        }
        cursor = page.cursor;
        all.extend(page.changes);
    }
}

/// Clause 10 (and 2, 3, 5, 7): a deleted record reads as absent
/// everywhere, its tombstone carries the deletion through the feed and
/// keeps versions from coming back (no ABA), and a key of personal data
/// leaves nothing behind, not even in the feed.
///
/// # Panics
/// When the store breaks the clause.
pub fn c10_deletion<S: Store>(make: impl Fn() -> S) {
    let store = make();
    let records = [
        member(1, "Ana"),
        member(2, "Bo"),
        invitation(7, 1, 2, Status::Pending),
        pair(1, 2, true),
        block(1, 3, true),
        contact(1, "secret.person@example.org"),
    ];
    store
        .commit(&records.iter().cloned().map(absent).collect::<Vec<_>>())
        .unwrap();
    let before = store.change_cursor().unwrap();
    let mut versions = BTreeMap::new();
    for record in &records[2..] {
        let read = store.get(&record.key()).unwrap().unwrap();
        versions.insert(record.key(), read.version);
    }
    let contact_key = records[5].key();
    let doomed: Vec<Key> = records[2..].iter().map(Record::key).collect();

    // Refusals first: `Absent`, a stale version, or a failing write beside
    // it, and nothing is deleted.
    let absent_delete = Write {
        expect: Expect::Absent,
        change: Change::Delete(doomed[0].clone()),
    };
    conflict_key(
        store.commit(std::slice::from_ref(&absent_delete)),
        "clause 10: a deletion expecting Absent",
    );
    let stale = delete(Version(versions[&doomed[0]].0 + 1), doomed[0].clone());
    conflict_key(
        store.commit(std::slice::from_ref(&stale)),
        "clause 10: a deletion at a version not stored",
    );
    let failing = [
        delete(versions[&doomed[0]], doomed[0].clone()),
        absent(member(1, "Ana again")),
    ];
    conflict_key(
        store.commit(&failing),
        "clause 1: a deletion beside a conflict",
    );
    assert!(
        store.get(&doomed[0]).unwrap().is_some(),
        "clause 1: a failed change set deleted a record"
    );
    assert_eq!(
        store.change_cursor().unwrap(),
        before,
        "clause 7: failed commits take no position"
    );

    let deletions: Vec<Write> = doomed
        .iter()
        .map(|key| delete(versions[key], key.clone()))
        .collect();
    store.commit(&deletions).unwrap();
    let end = store.change_cursor().unwrap();
    assert!(end > before, "clause 7: deletions take positions");

    // Reads: gone everywhere.
    for key in &doomed {
        assert_eq!(
            store.get(key).unwrap(),
            None,
            "clause 10: get after deletion of {key:?}"
        );
    }
    for role in [Role::Sender, Role::Recipient] {
        assert!(
            store.open_invitations(id(1), role).unwrap().is_empty(),
            "clause 10: open list"
        );
        assert!(
            store.open_invitations(id(2), role).unwrap().is_empty(),
            "clause 10: open list"
        );
        assert!(
            store.blocks(id(1), role).unwrap().is_empty(),
            "clause 10: blocks"
        );
        assert!(
            store.blocks(id(3), role).unwrap().is_empty(),
            "clause 10: blocks"
        );
    }
    assert!(
        store.connections().unwrap().is_empty(),
        "clause 10: connections"
    );
    assert!(
        store.contacts(id(1)).unwrap().is_empty(),
        "clause 10: contacts"
    );
    assert_eq!(
        store.members().unwrap().len(),
        2,
        "clause 10: other records stay"
    );

    // The feed: each tombstone once at its version, the personal key not
    // at all, anywhere in it.
    let changes = feed_after(&store, before);
    let expected: Vec<Versioned<Change>> = doomed
        .iter()
        .filter(|k| !k.holds_personal_data())
        .map(|k| Versioned {
            version: versions[k].next(),
            value: Change::Delete(k.clone()),
        })
        .collect();
    assert_eq!(
        changes, expected,
        "clause 10: the feed carries deletions in order"
    );
    let whole = format!("{:?}", feed_after(&store, ChangeCursor::START));
    assert!(
        !whole.contains("secret.person"),
        "clause 10: a deleted key of personal data is still in the feed"
    );

    // A tombstone is no record: `At` never holds on it, even at its own
    // version; deleting it again is refused.
    for key in doomed.iter().filter(|k| !k.holds_personal_data()) {
        let tomb = versions[key].next();
        conflict_key(
            store.commit(&[delete(tomb, key.clone())]),
            "clause 10: deleting a tombstone",
        );
        conflict_key(
            store.commit(&[delete(versions[key], key.clone())]),
            "clause 10: deleting again at the old version",
        );
    }

    // Creating again continues past every version the key had: an old
    // reader's `At(v)` never matches again.
    let recreated = [
        invitation(7, 1, 2, Status::Pending),
        pair(1, 2, true),
        block(1, 3, true),
        contact(1, "secret.person@example.org"),
    ];
    for record in &recreated {
        let key = record.key();
        store.commit(&[absent(record.clone())]).unwrap();
        let read = store.get(&key).unwrap().unwrap();
        assert_eq!(&read.value, record, "clause 10: created again");
        assert!(
            read.version > versions[&key].next(),
            "clause 3: {key:?} created again at {:?}, not above {:?}",
            read.version,
            versions[&key]
        );
        conflict_key(
            store.commit(&[at(versions[&key].0, record.clone())]),
            "clause 10: an old reader's version matched again",
        );
    }
    assert_eq!(
        store.connections().unwrap(),
        vec![pair_key(1, 2)],
        "clause 5: created again"
    );
    assert_eq!(
        store.contacts(id(1)).unwrap().len(),
        1,
        "clause 5: created again"
    );
    assert_eq!(
        store.open_invitations(id(1), Role::Sender).unwrap().len(),
        1
    );
    assert_eq!(store.blocks(id(1), Role::Sender).unwrap().len(), 1);

    // A change set that only deletes a key of personal data: its position
    // is never given again, though nothing stays at it.
    let read = store.get(&contact_key).unwrap().unwrap();
    let last = store
        .commit_positioned(&[delete(read.version, contact_key.clone())])
        .unwrap();
    let cursor = store.change_cursor().unwrap();
    if let Some(last) = last {
        assert!(
            cursor >= last,
            "clause 7: a vacated position was given back"
        );
    }
    store.commit(&[absent(member(9, "Nine"))]).unwrap();
    let after = store.change_cursor().unwrap();
    assert!(after > cursor, "clause 7: positions only grow");
    if let Some(last) = last {
        assert!(after > last, "clause 7: a vacated position was given again");
    }

    // Outbox records rewritten or deleted (clause 9): the outbox lists a
    // rewritten one at its latest position only, a deleted one not at all.
    let kept = super::outbox::outbox(1, 1);
    let gone = super::outbox::outbox(2, 2);
    store
        .commit(&[absent(kept.clone()), absent(gone.clone())])
        .unwrap();
    let mut scrubbed = kept.clone();
    if let Record::Outbox(o) = &mut scrubbed {
        o.events.clear();
    }
    store
        .commit(&[at(1, scrubbed.clone()), delete(Version::FIRST, gone.key())])
        .unwrap();
    let listed = store.outbox(ChangeCursor::START, 10).unwrap();
    assert_eq!(
        listed.len(),
        1,
        "clause 9: rewritten or deleted outbox records"
    );
    assert_eq!(
        Record::Outbox(listed[0].1.clone()),
        scrubbed,
        "clause 9: as rewritten"
    );
    assert!(listed[0].0 > after, "clause 9: at its latest position");
}
