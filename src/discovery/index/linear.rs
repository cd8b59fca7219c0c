//! Re-indexing is linear in the profile: the postings' update compares
//! keys a bounded number of times per key, counted exactly with a key type
//! that counts its comparisons. (The quadratic update this replaces made
//! about `old.len() * new.len()` comparisons: 25 million here.)

use super::*;
use std::cell::Cell;
use std::cmp::Ordering;

thread_local! {
    static COMPARISONS: Cell<u64> = const { Cell::new(0) };
}

fn counted() -> u64 {
    COMPARISONS.with(Cell::get)
}

fn tick() {
    COMPARISONS.with(|c| c.set(c.get() + 1));
}

#[derive(Clone, Copy, Debug)]
struct Counted(u32);

impl std::hash::Hash for Counted {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq for Counted {
    fn eq(&self, other: &Self) -> bool {
        tick();
        self.0 == other.0
    }
}
impl Eq for Counted {}
impl PartialOrd for Counted {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Counted {
    fn cmp(&self, other: &Self) -> Ordering {
        tick();
        self.0.cmp(&other.0)
    }
}

/// Comparisons made by one update from `old` to `new`, and the postings.
fn update(n: u32) -> (u64, Postings<Counted>) {
    let member = MemberId::new(1);
    let old: Vec<Counted> = (0..n).map(|i| Counted(2 * i)).collect();
    // Half kept, half new.
    let new: Vec<Counted> = (0..n).map(|i| Counted(i + n)).collect();
    let mut postings = Postings::default();
    postings.update(member, &[], &old);
    let before = counted();
    postings.update(member, &old, &new);
    (counted() - before, postings)
}

#[test]
fn reindexing_compares_linearly_in_the_profile() {
    let n = 5_000;
    let (at_n, postings) = update(n);
    // One merge step per key plus a hash lookup each: a few per key.
    assert!(at_n <= 8 * 2 * u64::from(n), "{at_n} comparisons at {n}");
    let (at_2n, _) = update(2 * n);
    assert!(at_2n <= 3 * at_n, "{at_2n} at 2n against {at_n} at n");
    // And the postings are exact: the new keys only.
    let mut keys: Vec<u32> = postings.0.keys().map(|k| k.0).collect();
    keys.sort_unstable();
    assert_eq!(keys, (n..2 * n).collect::<Vec<_>>());
    assert!(
        postings
            .0
            .values()
            .all(|l| l.as_slice() == [MemberId::new(1)])
    );
}
