//! The adjacency index behind every graph query.
//!
//! One sorted `Vec<u32>` of neighbour slots per member. Sorted lists give
//! binary-search membership, merge intersection for mutuals, and in-place
//! updates (a `Vec::insert` into a list of typical length 50 costs far less
//! than a microsecond), with 4 bytes per direction of each connection. A frozen
//! CSR would save the 24-byte list headers but would need a rebuild on every
//! change; petgraph's linked adjacency costs far more per neighbour walked.

use fixedbitset::FixedBitSet;
use std::cell::RefCell;

/// A member's dense position in the index. Slots are never reused, so a slot
/// stays a valid pagination cursor for as long as the graph lives.
pub(crate) type Slot = u32;

/// Sorted adjacency lists, one per slot.
#[derive(Clone, Debug, Default)]
pub(crate) struct Adjacency {
    lists: Vec<Vec<Slot>>,
}

impl Adjacency {
    /// An index of `members` slots with exactly the given neighbours; each
    /// list is sorted and deduplicated. `edges` holds each connection once.
    pub(crate) fn from_edges(members: usize, edges: &[(Slot, Slot)]) -> Self {
        let mut degree = vec![0usize; members];
        for &(a, b) in edges {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        let mut lists: Vec<Vec<Slot>> = degree.iter().map(|&d| Vec::with_capacity(d)).collect();
        for &(a, b) in edges {
            lists[a as usize].push(b);
            lists[b as usize].push(a);
        }
        for list in &mut lists {
            list.sort_unstable();
            list.dedup();
        }
        Self { lists }
    }

    /// Adds an isolated slot.
    pub(crate) fn push(&mut self) {
        self.lists.push(Vec::new());
    }

    /// The sorted neighbours of `s` (empty for an unknown slot).
    #[inline]
    pub(crate) fn of(&self, s: Slot) -> &[Slot] {
        self.lists.get(s as usize).map_or(&[], Vec::as_slice)
    }

    /// Whether `a` and `b` are adjacent, searching the shorter list.
    #[inline]
    pub(crate) fn contains(&self, a: Slot, b: Slot) -> bool {
        let (la, lb) = (self.of(a), self.of(b));
        if la.len() <= lb.len() {
            la.binary_search(&b).is_ok()
        } else {
            lb.binary_search(&a).is_ok()
        }
    }

    /// Adds the edge in both lists; `false` when it was already there.
    pub(crate) fn insert(&mut self, a: Slot, b: Slot) -> bool {
        let added = insert_sorted(&mut self.lists[a as usize], b);
        if added {
            insert_sorted(&mut self.lists[b as usize], a);
        }
        added
    }

    /// Removes the edge from both lists; `false` when it was not there.
    pub(crate) fn remove(&mut self, a: Slot, b: Slot) -> bool {
        let removed = remove_sorted(&mut self.lists[a as usize], b);
        if removed {
            remove_sorted(&mut self.lists[b as usize], a);
        }
        removed
    }

    /// Removes and returns every neighbour of `s`, unlinking `s` from each.
    pub(crate) fn take_all(&mut self, s: Slot) -> Vec<Slot> {
        let taken = std::mem::take(&mut self.lists[s as usize]);
        for &n in &taken {
            remove_sorted(&mut self.lists[n as usize], s);
        }
        taken
    }

    /// Number of slots.
    pub(crate) fn slots(&self) -> usize {
        self.lists.len()
    }

    /// Heap bytes held by the lists and their headers.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.lists.capacity() * size_of::<Vec<Slot>>()
            + self
                .lists
                .iter()
                .map(|l| l.capacity() * size_of::<Slot>())
                .sum::<usize>()
    }
}

fn insert_sorted(list: &mut Vec<Slot>, s: Slot) -> bool {
    match list.binary_search(&s) {
        Ok(_) => false,
        Err(at) => {
            list.insert(at, s);
            true
        }
    }
}

fn remove_sorted(list: &mut Vec<Slot>, s: Slot) -> bool {
    match list.binary_search(&s) {
        Ok(at) => {
            list.remove(at);
            true
        }
        Err(_) => false,
    }
}

/// How many lists ahead of a walk over many lists to [`prefetch`]: enough
/// to cover a miss while the lists in between are read, few enough that
/// the loads in flight fit the CPU's fill buffers.
pub(crate) const AHEAD: usize = 8;

/// At most this many cache lines of one list are loaded by
/// [`prefetch_all`] (2 KiB, 512 neighbours): beyond that a walk of the list
/// is long enough for the CPU's own stream prefetcher, and a binary search
/// into a hub's list reads only a few of its lines.
const PREFETCH_LINES: usize = 32;

/// Starts loading the first cache line of `list`, and the second for a
/// list of more than 16 neighbours (see [`prefetch_lines`]): for walks over
/// many lists, where more lines per list would queue behind each other in
/// the CPU's fill buffers.
#[inline(always)]
pub(crate) fn prefetch(list: &[Slot]) {
    prefetch_lines(list, if list.len() > 16 { 2 } else { 1 });
}

/// Starts loading every cache line of `list`, up to [`PREFETCH_LINES`]
/// (see [`prefetch_lines`]): for the few lists a query is about to read in
/// full.
#[inline(always)]
pub(crate) fn prefetch_all(list: &[Slot]) {
    prefetch_lines(list, PREFETCH_LINES);
}

/// Starts loading the cache lines of `list`, at most `most` of them, into
/// the CPU's cache without waiting for them, so that the loads of lists
/// about to be read overlap instead of queueing behind each other.
///
/// The crate's one `unsafe` block: `_mm_prefetch` is only a hint to the
/// cache. It never faults, whatever the address, reads nothing into the
/// program and writes nothing, and the SSE it needs is part of every
/// x86_64 target; the addresses are within a live slice anyway. Elsewhere
/// it does nothing.
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch_lines(list: &[Slot], most: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let bytes = size_of_val(list);
        if bytes == 0 {
            return;
        }
        let at = list.as_ptr().cast::<i8>();
        // Lines the slice touches: a list not starting on a line boundary
        // spills into one more.
        let first = at as usize / 64;
        let lines = ((at as usize + bytes - 1) / 64 - first + 1).min(most);
        // SAFETY: see above; a prefetch has no effect the program can
        // observe, and `wrapping_add` makes no claim about the address.
        unsafe {
            for line in 0..lines {
                _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(line * 64));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (list, most);
}

/// Ids compared at once by [`count_common`]'s block merge.
const BLOCK: usize = 8;

/// How many slots the two sorted, duplicate-free lists share, or, with
/// `ANY`, whether they share one (1 or 0, stopping at the first found).
///
/// Lists of similar length are merged a block of [`BLOCK`] ids at a time:
/// every id of one block is compared with every id of the other (64
/// comparisons the compiler turns into a few vector instructions, with no
/// branch on the data), then the block with the smaller last id advances,
/// or both on a tie. A plain merge advances one id per step and its
/// branch-free form still pays a dependent compare per step. When one list
/// is much shorter, binary probes into the longer one, as in
/// [`for_each_common`].
#[inline]
fn common<const ANY: bool>(a: &[Slot], b: &[Slot]) -> usize {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return 0;
    }
    let probes = short.len() * (usize::BITS - long.len().leading_zeros()) as usize;
    if probes < long.len() {
        let mut count = 0;
        for_each_common(short, long, |_| {
            count += 1;
            !ANY
        });
        return count;
    }
    let (mut i, mut j, mut count) = (0, 0, 0);
    // Every match with an id before `i` in `short` or before `j` in `long`
    // has been counted: a block advances only once no later block of the
    // other list can hold one of its ids (the lists are sorted and have no
    // repeats).
    while i + BLOCK <= short.len() && j + BLOCK <= long.len() {
        let x: &[Slot; BLOCK] = short[i..i + BLOCK].try_into().unwrap_or(&[0; BLOCK]);
        let y: &[Slot; BLOCK] = long[j..j + BLOCK].try_into().unwrap_or(&[0; BLOCK]);
        let mut hits = 0u32;
        for &p in x {
            for &q in y {
                hits += u32::from(p == q);
            }
        }
        count += hits as usize;
        if ANY && count > 0 {
            return 1;
        }
        let (lx, ly) = (x[BLOCK - 1], y[BLOCK - 1]);
        i += BLOCK * usize::from(lx <= ly);
        j += BLOCK * usize::from(ly <= lx);
    }
    while i < short.len() && j < long.len() {
        let (x, y) = (short[i], long[j]);
        count += usize::from(x == y);
        if ANY && count > 0 {
            return 1;
        }
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    count
}

/// How many slots two sorted, duplicate-free lists share (see [`common`]).
#[inline]
pub(crate) fn count_common(a: &[Slot], b: &[Slot]) -> usize {
    common::<false>(a, b)
}

/// Whether two sorted, duplicate-free lists share a slot (see [`common`]).
#[inline]
pub(crate) fn has_common(a: &[Slot], b: &[Slot]) -> bool {
    common::<true>(a, b) > 0
}

/// Calls `f` with each slot present in both sorted lists, in ascending order,
/// until `f` answers `false`. Uses a linear merge for lists of similar length
/// and binary probes into the longer one when one is much shorter, so a
/// member of 25 connections against a hub of 30,000 costs about
/// 25 × log2(30,000) steps, not 30,000.
#[inline]
pub(crate) fn for_each_common(a: &[Slot], b: &[Slot], mut f: impl FnMut(Slot) -> bool) {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return;
    }
    let probes = short.len() * (usize::BITS - long.len().leading_zeros()) as usize;
    if probes < long.len() {
        let mut rest = long;
        for &s in short {
            match rest.binary_search(&s) {
                Ok(at) => {
                    if !f(s) {
                        return;
                    }
                    rest = &rest[at + 1..];
                }
                Err(at) => rest = &rest[at..],
            }
            if rest.is_empty() {
                return;
            }
        }
    } else {
        // Branch-free steps: which side advances is data, not a jump the
        // CPU must guess (it guesses wrong about half the time on sorted
        // neighbour lists).
        let (mut i, mut j) = (0, 0);
        while i < short.len() && j < long.len() {
            let (x, y) = (short[i], long[j]);
            if x == y && !f(x) {
                return;
            }
            i += usize::from(x <= y);
            j += usize::from(y <= x);
        }
    }
}

/// A reusable set of marked slots for one query, cleared when the query ends.
///
/// It remembers what it marked so that clearing costs as much as marking,
/// falling back to zeroing the whole bitset when most of it was touched.
#[derive(Default)]
pub(crate) struct Marks {
    bits: FixedBitSet,
    touched: Vec<Slot>,
}

impl Marks {
    /// Marks `s`; `true` if it was not marked before.
    #[inline]
    pub(crate) fn mark(&mut self, s: Slot) -> bool {
        let fresh = !self.bits.put(s as usize);
        if fresh {
            self.touched.push(s);
        }
        fresh
    }

    /// Whether `s` is marked.
    #[inline]
    pub(crate) fn is_marked(&self, s: Slot) -> bool {
        self.bits.contains(s as usize)
    }

    fn clear(&mut self) {
        // Zeroing a word in a sweep costs a small fraction of a cycle;
        // clearing one marked bit is a read-modify-write of a word
        // somewhere in the set, a few cycles: past one mark per 512 bits
        // the sweep is cheaper.
        if self.touched.len() > self.bits.len() / 512 {
            self.bits.clear();
        } else {
            for &s in &self.touched {
                self.bits.set(s as usize, false);
            }
        }
        self.touched.clear();
    }

    /// Every slot marked, in the order first marked.
    pub(crate) fn marked(&self) -> &[Slot] {
        &self.touched
    }
}

thread_local! {
    /// Cleared marks kept per thread: one per query running at once (a
    /// query may nest scratches; each takes its own).
    static SCRATCH: RefCell<Vec<Marks>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a cleared [`Marks`] able to hold `slots` slots. The marks are
/// kept per thread between queries, so a query allocates nothing once warm.
pub(crate) fn with_marks<R>(slots: usize, f: impl FnOnce(&mut Marks) -> R) -> R {
    let mut marks = SCRATCH
        .with(|pool| pool.borrow_mut().pop())
        .unwrap_or_default();
    if marks.bits.len() < slots {
        marks.bits.grow(slots);
    }
    let out = f(&mut marks);
    marks.clear();
    SCRATCH.with(|pool| pool.borrow_mut().push(marks));
    out
}

/// A reusable counter per slot for one query (a score or a count of
/// links), cleared when the query ends. Like [`Marks`], it remembers what it
/// touched so that clearing costs as much as counting.
#[derive(Default)]
pub(crate) struct Tally {
    counts: Vec<u32>,
    touched: Vec<Slot>,
}

impl Tally {
    /// Adds `n` to the counter of `s` (saturating).
    #[inline]
    pub(crate) fn add(&mut self, s: Slot, n: u32) {
        let c = &mut self.counts[s as usize];
        if *c == 0 && n > 0 {
            self.touched.push(s);
        }
        *c = c.saturating_add(n);
    }

    /// The counter of `s`.
    #[inline]
    pub(crate) fn get(&self, s: Slot) -> u32 {
        self.counts[s as usize]
    }

    fn clear(&mut self) {
        if self.touched.len() > self.counts.len() / 16 {
            self.counts.iter_mut().for_each(|c| *c = 0);
        } else {
            for &s in &self.touched {
                self.counts[s as usize] = 0;
            }
        }
        self.touched.clear();
    }
}

thread_local! {
    static TALLY: RefCell<Vec<Tally>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a cleared [`Tally`] able to hold `slots` slots, kept per
/// thread between queries like [`with_marks`].
pub(crate) fn with_tally<R>(slots: usize, f: impl FnOnce(&mut Tally) -> R) -> R {
    let mut tally = TALLY
        .with(|pool| pool.borrow_mut().pop())
        .unwrap_or_default();
    if tally.counts.len() < slots {
        tally.counts.resize(slots, 0);
    }
    let out = f(&mut tally);
    tally.clear();
    TALLY.with(|pool| pool.borrow_mut().push(tally));
    out
}

/// Weighted counts per slot for one query, built for the common case where
/// most slots are counted once (a viewer's second-degree members mostly
/// share one connection with them): a first count only sets a bit, in a
/// bitset small enough to stay in the CPU's cache (128 KiB per million
/// members), and only later counts touch the per-slot counters (4 MiB per
/// million, a cache miss each). On the standard graph this made the counting
/// pass of people you may know several times faster.
pub(crate) struct Counts<'a> {
    seen: &'a mut Marks,
    repeated: &'a mut Marks,
    extra: &'a mut Tally,
}

impl Counts<'_> {
    /// Counts `s` once more with weight `w`; `true` on its first count (the
    /// caller keeps the first weight, if it needs it).
    #[inline]
    pub(crate) fn add(&mut self, s: Slot, w: u32) -> bool {
        if self.seen.mark(s) {
            true
        } else {
            self.repeated.mark(s);
            self.extra.add(s, w);
            false
        }
    }

    /// Whether `s` was counted at all.
    #[inline]
    pub(crate) fn counted(&self, s: Slot) -> bool {
        self.seen.is_marked(s)
    }

    /// The sum of the weights of every count of `s` but the first.
    #[inline]
    pub(crate) fn extra(&self, s: Slot) -> u32 {
        if self.repeated.is_marked(s) {
            self.extra.get(s)
        } else {
            0
        }
    }

    /// Every slot counted, in the order first counted.
    pub(crate) fn counted_slots(&self) -> &[Slot] {
        self.seen.marked()
    }

    /// Whether `s` was counted more than once.
    #[inline]
    pub(crate) fn repeated(&self, s: Slot) -> bool {
        self.repeated.is_marked(s)
    }

    /// Every slot counted more than once, in the order first repeated.
    pub(crate) fn repeated_slots(&self) -> &[Slot] {
        self.repeated.marked()
    }
}

/// Runs `f` with empty [`Counts`] for `slots` slots.
pub(crate) fn with_counts<R>(slots: usize, f: impl FnOnce(&mut Counts<'_>) -> R) -> R {
    with_marks(slots, |seen| {
        with_marks(slots, |repeated| {
            with_tally(slots, |extra| {
                f(&mut Counts {
                    seen,
                    repeated,
                    extra,
                })
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common(a: &[Slot], b: &[Slot]) -> Vec<Slot> {
        let mut out = Vec::new();
        for_each_common(a, b, |s| {
            out.push(s);
            true
        });
        out
    }

    #[test]
    fn intersection_agrees_in_both_strategies() {
        let long: Vec<Slot> = (0..10_000).map(|i| i * 3).collect();
        // Short list: probing strategy.
        assert_eq!(
            common(&[3, 4, 9, 29_997, 40_000], &long),
            vec![3, 9, 29_997]
        );
        // Similar lengths: merge strategy.
        let other: Vec<Slot> = (0..10_000).map(|i| i * 2).collect();
        let naive: Vec<Slot> = long.iter().copied().filter(|s| other.contains(s)).collect();
        assert_eq!(common(&long, &other), naive);
        assert_eq!(naive.len(), 3334);
        assert!(common(&[], &long).is_empty());
    }

    /// The plain one-id-at-a-time merge count, as the block merge's oracle.
    fn plain_count(a: &[Slot], b: &[Slot]) -> usize {
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    n += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        n
    }

    fn check_count(a: &[Slot], b: &[Slot]) {
        let want = plain_count(a, b);
        assert_eq!(count_common(a, b), want, "{a:?} {b:?}");
        assert_eq!(count_common(b, a), want, "{a:?} {b:?}");
        assert_eq!(has_common(a, b), want > 0, "{a:?} {b:?}");
        assert_eq!(has_common(b, a), want > 0, "{a:?} {b:?}");
    }

    #[test]
    fn block_merge_count_agrees_with_the_plain_merge() {
        let e: &[Slot] = &[];
        let run = |from: Slot, n: Slot| (0..n).map(|i| from + i).collect::<Vec<Slot>>();
        // Edge cases: empty, equal, disjoint, interleaved, ties on block
        // ends, lengths around the block size, the largest slots.
        check_count(e, e);
        check_count(e, &run(0, 20));
        for n in [1, 7, 8, 9, 15, 16, 17, 64] {
            check_count(&run(0, n), &run(0, n));
            check_count(&run(0, n), &run(n, n));
            check_count(&run(0, n), &run(n / 2, n));
            let evens: Vec<Slot> = (0..n).map(|i| i * 2).collect();
            let odds: Vec<Slot> = (0..n).map(|i| i * 2 + 1).collect();
            check_count(&evens, &odds);
            check_count(&evens, &run(0, 2 * n));
        }
        check_count(&run(u32::MAX - 20, 21), &run(u32::MAX - 30, 31));
        let ends: Vec<Slot> = (0..32).map(|i| i * 8 + 7).collect();
        check_count(&run(0, 256), &ends);
        // Random lists of random densities and lengths, seeded.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3_000 {
            let range = 1 + next() % 400;
            let (la, lb) = (next() % 120, next() % 120);
            let mut list = |len: u64| {
                let mut l: Vec<Slot> = (0..len).map(|_| (next() % range) as Slot).collect();
                l.sort_unstable();
                l.dedup();
                l
            };
            let a = list(la);
            let b = list(lb);
            check_count(&a, &b);
        }
    }

    #[test]
    fn insert_remove_keep_lists_sorted_and_symmetric() {
        let mut adj = Adjacency::from_edges(4, &[(0, 2), (2, 0), (1, 2)]);
        assert_eq!(adj.of(2), &[0, 1]);
        assert!(adj.insert(3, 2));
        assert!(!adj.insert(2, 3));
        assert_eq!(adj.of(2), &[0, 1, 3]);
        assert!(adj.contains(3, 2));
        assert!(adj.remove(0, 2));
        assert!(!adj.remove(0, 2));
        assert_eq!(adj.of(0), &[] as &[Slot]);
        assert_eq!(adj.take_all(2), vec![1, 3]);
        assert!(adj.of(1).is_empty() && adj.of(3).is_empty());
    }

    #[test]
    fn tally_counts_and_clears_between_queries() {
        with_tally(100, |t| {
            t.add(7, 2);
            t.add(7, 3);
            t.add(9, 0);
            t.add(u32::from(u8::MAX) / 4, u32::MAX);
            t.add(u32::from(u8::MAX) / 4, 1);
            assert_eq!((t.get(7), t.get(9), t.get(63)), (5, 0, u32::MAX));
            assert_eq!(t.touched, &[7, 63]);
        });
        with_tally(100, |t| {
            assert!((0..100).all(|s| t.get(s) == 0) && t.touched.is_empty())
        });
    }

    #[test]
    fn counts_keep_first_counts_in_the_bitset_and_nest() {
        with_counts(100, |c| {
            assert!(c.add(4, 3));
            assert!(!c.add(4, 5));
            assert!(!c.add(4, 1));
            assert!(c.add(9, 2));
            assert_eq!((c.counted(4), c.extra(4)), (true, 6));
            assert_eq!((c.counted(9), c.extra(9)), (true, 0));
            assert_eq!((c.counted(5), c.extra(5)), (false, 0));
            assert_eq!(c.counted_slots(), &[4, 9]);
            // Nested scratches are separate and cleared.
            with_counts(100, |inner| assert!(!inner.counted(4) && inner.add(4, 1)));
        });
        with_counts(100, |c| {
            assert!((0..100).all(|s| !c.counted(s) && c.extra(s) == 0))
        });
    }

    #[test]
    fn marks_clear_between_queries() {
        with_marks(1000, |m| {
            assert!(m.mark(5));
            assert!(!m.mark(5));
            for s in 0..1000 {
                m.mark(s);
            }
        });
        with_marks(1000, |m| assert!((0..1000).all(|s| !m.is_marked(s))));
    }
}
