//! Member id to slot: a direct table while ids are dense, a hash map once
//! they are not.
//!
//! Hosts usually number members densely (database sequences). A direct
//! `Vec` lookup then costs one memory access, where a hash map at a million
//! members costs two dependent cache misses; on the standard benchmark graph
//! that was most of a first-degree lookup and 70% of a bulk build.

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
    #[inline]
    pub(crate) fn get(&self, id: MemberId) -> Option<Slot> {
        match self {
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
        match self {
            Self::Direct(table) => table
                .iter()
                .enumerate()
                .filter(|&(_, &s)| s != NONE)
                .map(|(i, &s)| (MemberId::new(i as u64), s))
                .collect(),
            Self::Hashed(map) => map.clone(),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
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
}
