//! Clause 9: the outbox, and feed positions that trimming never lets come
//! back.

use super::*;
use crate::event::Event;
use crate::outbox::{Outbox, OutboxKey};

pub(super) fn outbox(seq: u64, member: u64) -> Record {
    Record::Outbox(Outbox {
        key: OutboxKey { instance: 7, seq },
        at: Timestamp::UNIX_EPOCH,
        events: vec![Event::MemberRegistered { member: id(member) }],
    })
}

fn outbox_seqs(found: &[(ChangeCursor, Outbox)]) -> Vec<u64> {
    found.iter().map(|(_, o)| o.key.seq).collect()
}

/// Clause 9: outbox records come back after a cursor in feed order with
/// their positions, page by page; trimming deletes exactly those at or
/// before a position (no other record, not twice); and positions are never
/// given again, also when the record holding the latest one was trimmed.
///
/// # Panics
/// When the store breaks the clause.
pub fn c9_outbox<S: Store>(make: impl Fn() -> S) {
    let store = make();
    assert!(store.outbox(ChangeCursor::START, 10).unwrap().is_empty());
    assert_eq!(store.trim_outbox(ChangeCursor::new(u64::MAX)).unwrap(), 0);
    // Three changes, each a member and its outbox record, and a change
    // without events between them.
    for n in 1..=3 {
        store
            .commit(&[absent(member(n, "M")), absent(outbox(n, n))])
            .unwrap();
        store.commit(&[absent(pair(n, n + 10, false))]).unwrap();
    }
    let all = store.outbox(ChangeCursor::START, 10).unwrap();
    assert_eq!(outbox_seqs(&all), [1, 2, 3], "clause 9: feed order");
    for (position, o) in &all {
        assert_eq!(
            store.get(&Key::Outbox(o.key)).unwrap().map(|v| v.value),
            Some(Record::Outbox(o.clone())),
            "clause 9: as written"
        );
        let page = store
            .changes_since(ChangeCursor::new(position.get() - 1), 1)
            .unwrap();
        assert_eq!(
            (page.cursor, page.changes[0].value.key()),
            (*position, Key::Outbox(o.key)),
            "clause 9: the position is the record's feed position"
        );
    }
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    // Pages reassemble the whole.
    let first = store.outbox(ChangeCursor::START, 2).unwrap();
    let rest = store.outbox(first[1].0, 2).unwrap();
    assert_eq!(outbox_seqs(&first), [1, 2], "clause 9: the limit");
    assert_eq!(outbox_seqs(&rest), [3], "clause 9: after the cursor");
    assert!(store.outbox(all[2].0, 5).unwrap().is_empty());
    assert_eq!(store.outbox(ChangeCursor::START, 0).unwrap(), []);

    // Trimming through the second deletes the first two and nothing else.
    let before = store.changes_since(ChangeCursor::START, 100).unwrap();
    assert_eq!(store.trim_outbox(all[1].0).unwrap(), 2, "clause 9: trim");
    assert_eq!(
        store.trim_outbox(all[1].0).unwrap(),
        0,
        "clause 9: trim twice"
    );
    assert_eq!(
        outbox_seqs(&store.outbox(ChangeCursor::START, 10).unwrap()),
        [3]
    );
    for seq in [1, 2] {
        let key = Key::Outbox(OutboxKey { instance: 7, seq });
        assert_eq!(store.get(&key).unwrap(), None, "clause 9: trimmed");
    }
    let after = store.changes_since(ChangeCursor::START, 100).unwrap();
    let kept: Vec<_> = before
        .changes
        .iter()
        .filter(|r| !matches!(&r.value, Change::Put(Record::Outbox(o)) if o.key.seq < 3))
        .cloned()
        .collect();
    assert_eq!(
        after.changes, kept,
        "clause 9: trimming leaves other records"
    );
    assert_eq!(store.members().unwrap().len(), 3);

    // The latest position trimmed: the next commit still comes after it.
    store
        .commit(&[absent(member(4, "M")), absent(outbox(4, 4))])
        .unwrap();
    let end = store.change_cursor().unwrap();
    let newest = store.outbox(all[2].0, 10).unwrap();
    assert_eq!(store.trim_outbox(end).unwrap(), 2);
    let reader = store.change_cursor().unwrap();
    store.commit(&[absent(member(5, "M"))]).unwrap();
    let page = store.changes_since(newest[0].0, 10).unwrap();
    assert_eq!(
        page.changes
            .iter()
            .map(|r| r.value.key())
            .collect::<Vec<_>>(),
        [Key::Member(id(5))],
        "clause 7: a reader at the trimmed latest position sees the next commit"
    );
    assert!(page.cursor > newest[0].0 && page.cursor > reader.min(end));
}
