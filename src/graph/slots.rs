//! Member id to slot: plain arithmetic while ids are sequential, a direct
//! table while they are dense, a hash map once they are not.
//!
//! Hosts usually number members densely (database sequences). When members
//! arrive in id order with no gaps (`base`, `base + 1`, ...), which is what
//! a rebuild from a store sequence gives, the slot of an id is `id - base`:
//! no memory access at all and no table. Otherwise a direct `Vec` lookup
//! costs one memory access, where a hash map at a million members costs two
//! dependent cache misses; on the standard benchmark graph that was most of a
//! first-degree lookup and 70% of a bulk build.

use super::index::Slot;
use crate::id::MemberId;
use std::collections::HashMap;

/// No slot at this position of the direct table.
const NONE: Slot = Slot::MAX;

/// Ids stay in the direct table while the table would hold at most this many
/// entries per member (plus some headroom for small graphs).
const DENSITY: usize = 4;
const HEADROOM: usize = 1 << 16;

#[derive(Clone, Debug)]
pub(crate) enum SlotTable {
    /// Member `base + i` has slot `i`, for every `i < len`.
    Sequential { base: u64, len: u64 },
    /// `table[id]` is the slot of member `id`, or [`NONE`].
    Direct(Vec<Slot>),
    /// Any ids.
    Hashed(HashMap<MemberId, Slot, foldhash::fast::RandomState>),
}

impl Default for SlotTable {
    fn default() -> Self {
        Self::Direct(Vec::new())
    }
}

impl SlotTable {
    /// An empty table that starts sequential (the graph's choice; the
    /// discovery index, which rarely sees members in id order, starts
    /// direct with [`Default`]).
    pub(crate) fn sequential() -> Self {
        Self::Sequential { base: 0, len: 0 }
    }

    #[inline]
    pub(crate) fn get(&self, id: MemberId) -> Option<Slot> {
        match self {
            &Self::Sequential { base, len } => {
                let offset = id.get().wrapping_sub(base);
                // `offset < len <= u32::MAX + 1`: the cast is exact.
                (offset < len).then_some(offset as Slot)
            }
            Self::Direct(table) => usize::try_from(id.get())
                .ok()
                .and_then(|i| table.get(i))
                .copied()
                .filter(|&s| s != NONE),
            Self::Hashed(map) => map.get(&id).copied(),
        }
    }

    /// Records `id` at `slot`; `members` is how many members there will be
    /// with it, which bounds how large a direct table may grow.
    pub(crate) fn insert(&mut self, id: MemberId, slot: Slot, members: usize) {
        if let Self::Sequential { base, len } = self {
            if *len == 0 && slot == 0 {
                *base = id.get();
                *len = 1;
                return;
            }
            if u64::from(slot) == *len && base.checked_add(*len) == Some(id.get()) {
                *len += 1;
                return;
            }
            // Out of sequence: the entries so far move to a direct table (or
            // a hash map, if they do not fit one), then `id` goes there.
            let entries = self.entries();
            *self = Self::Direct(Vec::new());
            for (known, s) in entries {
                self.insert(known, s, members);
            }
        }
        if let Self::Direct(table) = self {
            let fits = usize::try_from(id.get())
                .ok()
                .filter(|&i| i < members.saturating_mul(DENSITY).saturating_add(HEADROOM));
            match fits {
                Some(i) => {
                    if i >= table.len() {
                        table.resize(i + 1, NONE);
                    }
                    table[i] = slot;
                    return;
                }
                None => *self = Self::Hashed(self.entries()),
            }
        }
        if let Self::Hashed(map) = self {
            map.insert(id, slot);
        }
    }

    /// Makes room for ids up to `max` among `members` members at once,
    /// when they fit the direct table (a bulk build), so that the table is
    /// not grown, and over-allocated, one id at a time.
    pub(crate) fn reserve(&mut self, max: MemberId, members: usize) {
        if let Self::Direct(table) = self {
            let fits = usize::try_from(max.get())
                .ok()
                .filter(|&i| i < members.saturating_mul(DENSITY).saturating_add(HEADROOM));
            if let Some(i) = fits {
                table.reserve_exact((i + 1).saturating_sub(table.len()));
            }
        }
    }

    fn entries(&self) -> HashMap<MemberId, Slot, foldhash::fast::RandomState> {
        match *self {
            Self::Sequential { base, len } => (0..len)
                .map(|i| (MemberId::new(base + i), i as Slot))
                .collect(),
            Self::Direct(ref table) => table
                .iter()
                .enumerate()
                .filter(|&(_, &s)| s != NONE)
                .map(|(i, &s)| (MemberId::new(i as u64), s))
                .collect(),
            Self::Hashed(ref map) => map.clone(),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Sequential { .. } => 0,
            Self::Direct(table) => table.capacity() * size_of::<Slot>(),
            // Entries plus one control byte per bucket, as hashbrown keeps.
            Self::Hashed(map) => map.capacity() * (size_of::<(MemberId, Slot)>() + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_ids_stay_direct_and_sparse_ids_switch_to_hashing() {
        let mut t = SlotTable::default();
        for i in 0..100u32 {
            t.insert(MemberId::new(u64::from(i) * 3), i, 100);
        }
        assert!(matches!(t, SlotTable::Direct(_)));
        assert_eq!(t.get(MemberId::new(297)), Some(99));
        assert_eq!(t.get(MemberId::new(298)), None);
        t.insert(MemberId::new(u64::MAX), 100, 101);
        assert!(matches!(t, SlotTable::Hashed(_)));
        assert_eq!(t.get(MemberId::new(297)), Some(99));
        assert_eq!(t.get(MemberId::new(u64::MAX)), Some(100));
        assert_eq!(t.get(MemberId::new(1)), None);
    }

    #[test]
    fn sequential_ids_need_no_table_until_one_breaks_the_sequence() {
        let mut t = SlotTable::sequential();
        assert_eq!(t.get(MemberId::new(0)), None);
        for i in 0..100u32 {
            t.insert(MemberId::new(1_000 + u64::from(i)), i, 0);
        }
        assert!(matches!(
            t,
            SlotTable::Sequential {
                base: 1_000,
                len: 100
            }
        ));
        assert_eq!(t.heap_bytes(), 0);
        assert_eq!(t.get(MemberId::new(1_000)), Some(0));
        assert_eq!(t.get(MemberId::new(1_099)), Some(99));
        assert_eq!(t.get(MemberId::new(1_100)), None);
        assert_eq!(t.get(MemberId::new(999)), None);
        assert_eq!(t.get(MemberId::new(u64::MAX)), None);
        // A gap: the table becomes direct and keeps every entry.
        t.insert(MemberId::new(1_200), 100, 101);
        assert!(matches!(t, SlotTable::Direct(_)));
        assert_eq!(t.get(MemberId::new(1_000)), Some(0));
        assert_eq!(t.get(MemberId::new(1_099)), Some(99));
        assert_eq!(t.get(MemberId::new(1_200)), Some(100));
        assert_eq!(t.get(MemberId::new(1_100)), None);
        // Ids far from zero, out of order: hashed.
        let mut far = SlotTable::sequential();
        far.insert(MemberId::new(u64::MAX - 5), 0, 2);
        far.insert(MemberId::new(u64::MAX - 7), 1, 2);
        assert!(matches!(far, SlotTable::Hashed(_)));
        assert_eq!(far.get(MemberId::new(u64::MAX - 5)), Some(0));
        assert_eq!(far.get(MemberId::new(u64::MAX - 7)), Some(1));
        // The last id of the range: no overflow.
        let mut top = SlotTable::sequential();
        top.insert(MemberId::new(u64::MAX), 0, 1);
        assert_eq!(top.get(MemberId::new(u64::MAX)), Some(0));
        top.insert(MemberId::new(0), 1, 2);
        assert_eq!(top.get(MemberId::new(0)), Some(1));
        assert_eq!(top.get(MemberId::new(u64::MAX)), Some(0));
    }
}
