//! Queries on the graph as one viewer sees it.

use super::index::{
    AHEAD, Slot, count_common, for_each_common, has_common, prefetch, prefetch_all, with_marks,
};
use super::{Degree, GraphError, Neighbourhood, SocialGraph};
use crate::id::MemberId;
use crate::page::{Page, PageSize};
use serde::{Deserialize, Serialize};

/// The graph as seen by one viewer: members hidden from the viewer are
/// neither results nor links in a path, and a query naming a hidden member
/// fails exactly as for a member that does not exist.
///
/// This is the one place where the per-viewer filter is applied; every graph
/// query goes through it. Built by [`SocialGraph::view`]; cheap to build (it
/// sorts the hidden list) and to drop.
#[derive(Clone, Debug)]
pub struct View<'g> {
    pub(crate) graph: &'g SocialGraph,
    /// Sorted slots of hidden members; usually empty or tiny.
    hidden: Vec<Slot>,
}

/// How a viewer is connected to another member ("how you're connected"):
/// the links in the viewer's network that bring them together (for a
/// second-degree member, the viewer's connections who link to them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HowConnected {
    /// The same member.
    Yourself,
    /// Directly connected.
    First,
    /// Second degree: the viewer's connections who are connected to the
    /// member (at most one page of them, in slot order).
    Second {
        /// The viewer's connections that link to the member.
        via: Vec<MemberId>,
    },
    /// Third degree: pairs (a connection of the viewer, a connection of the
    /// member) who are connected to each other (at most one page of pairs).
    Third {
        /// `(viewer's connection, member's connection)` pairs.
        via: Vec<(MemberId, MemberId)>,
    },
    /// Further or unreachable.
    OutOfNetwork,
}

/// How many lists ahead the third-degree scan loads.
const SCAN_AHEAD: usize = 32;

impl<'g> View<'g> {
    pub(super) fn new(graph: &'g SocialGraph, hidden: impl IntoIterator<Item = MemberId>) -> Self {
        let mut hidden: Vec<Slot> = hidden
            .into_iter()
            .filter_map(|id| graph.slots.get(id))
            .collect();
        hidden.sort_unstable();
        hidden.dedup();
        Self { graph, hidden }
    }

    #[inline]
    pub(crate) fn visible(&self, s: Slot) -> bool {
        self.hidden.is_empty() || self.hidden.binary_search(&s).is_err()
    }

    /// The slot of a member this viewer may see: known, active, not hidden.
    pub(crate) fn resolve(&self, id: MemberId) -> Result<Slot, GraphError> {
        let s = self.graph.active_slot(id)?;
        if self.visible(s) {
            Ok(s)
        } else {
            Err(GraphError::UnknownMember(id))
        }
    }

    #[inline]
    pub(crate) fn neighbours(&self, s: Slot) -> &'g [Slot] {
        self.graph.adjacency.of(s)
    }

    pub(crate) fn id(&self, s: Slot) -> MemberId {
        self.graph.ids[s as usize]
    }

    /// The slot of `id` if this viewer may see it (known, active, not
    /// hidden).
    #[inline]
    pub(crate) fn slot(&self, id: MemberId) -> Option<Slot> {
        self.resolve(id).ok()
    }

    /// The hidden members' slots, sorted.
    pub(crate) fn hidden_slots(&self) -> &[Slot] {
        &self.hidden
    }

    /// How many members of the sorted `list` are hidden from this viewer.
    pub(crate) fn hidden_among(&self, list: &[Slot]) -> usize {
        let mut count = 0;
        if !self.hidden.is_empty() {
            for_each_common(&self.hidden, list, |_| {
                count += 1;
                true
            });
        }
        count
    }

    /// Whether slot order is member id order, so that ties can be broken by
    /// slot.
    pub(crate) fn slots_follow_ids(&self) -> bool {
        self.graph.ids_ascending
    }

    /// How many slots the graph has: the size a per-slot scratch needs.
    pub(crate) fn slot_count(&self) -> usize {
        self.graph.adjacency.slots()
    }

    /// The degree of `b` in `a`'s network.
    ///
    /// First degree is one binary search; second is a sorted-list
    /// intersection; third marks one side's connections and scans the
    /// connections of the other side's connections, from the side whose scan
    /// is cheaper, stopping at the first link found. Without hidden members no
    /// allocation happens.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`] if either is unknown, deactivated or hidden.
    pub fn degree(&self, a: MemberId, b: MemberId) -> Result<Degree, GraphError> {
        let (sa, sb) = (self.resolve(a)?, self.resolve(b)?);
        if sa == sb {
            return Ok(Degree::Yourself);
        }
        let (na, nb) = (self.neighbours(sa), self.neighbours(sb));
        // Both lists are read past the first degree, and partly before:
        // their lines load together rather than one after another.
        prefetch_all(na);
        prefetch_all(nb);
        if self.graph.adjacency.contains(sa, sb) {
            return Ok(Degree::First);
        }
        let shared = if self.hidden.is_empty() {
            has_common(na, nb)
        } else {
            let mut shared = false;
            for_each_common(na, nb, |s| {
                shared = self.visible(s);
                !shared
            });
            shared
        };
        if shared {
            return Ok(Degree::Second);
        }
        // Scan from the side whose connections have fewer connections.
        let (marked, scanned) = if self.scan_cost(na) <= self.scan_cost(nb) {
            (nb, na)
        } else {
            (na, nb)
        };
        let linked = with_marks(self.graph.adjacency.slots(), |marks| {
            // Keep the next SCAN_AHEAD lists loading while scanning one: their
            // cache misses overlap, and the scan stops at the first link
            // without having fetched the rest.
            for &x in scanned.iter().take(SCAN_AHEAD) {
                prefetch(self.neighbours(x));
            }
            for &y in marked {
                if self.visible(y) {
                    marks.mark(y);
                }
            }
            for (i, &x) in scanned.iter().enumerate() {
                if let Some(&ahead) = scanned.get(i + SCAN_AHEAD) {
                    prefetch(self.neighbours(ahead));
                }
                if self.visible(x) && self.neighbours(x).iter().any(|&z| marks.is_marked(z)) {
                    return true;
                }
            }
            false
        });
        Ok(if linked {
            Degree::Third
        } else {
            Degree::OutOfNetwork
        })
    }

    fn scan_cost(&self, list: &[Slot]) -> usize {
        list.iter().map(|&x| self.neighbours(x).len()).sum()
    }

    /// The members connected to both `a` and `b`, one page at a time, in the
    /// order the members were added to the graph (stable across pages). Pass
    /// the `next` cursor of a page as `after` to get the following page.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`]; [`GraphError::UnknownCursor`] for a
    /// cursor that is not a member of this graph.
    pub fn mutuals(
        &self,
        a: MemberId,
        b: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<MemberId, MemberId>, GraphError> {
        let (sa, sb) = (self.resolve(a)?, self.resolve(b)?);
        let start = self.cursor_start(after)?;
        let (na, nb) = (self.tail(sa, start), self.tail(sb, start));
        let mut items = Vec::new();
        let mut more = false;
        if sa != sb {
            for_each_common(na, nb, |s| {
                if !self.visible(s) {
                    return true;
                }
                if items.len() == size.get() {
                    more = true;
                    return false;
                }
                items.push(s);
                true
            });
        }
        Ok(self.page(items, more))
    }

    /// How many members are connected to both `a` and `b`; always equal to
    /// the total length of the [`mutuals`](Self::mutuals) pages.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn mutual_count(&self, a: MemberId, b: MemberId) -> Result<usize, GraphError> {
        let (sa, sb) = (self.resolve(a)?, self.resolve(b)?);
        if sa == sb {
            return Ok(0);
        }
        let (na, nb) = (self.neighbours(sa), self.neighbours(sb));
        prefetch_all(na);
        prefetch_all(nb);
        if self.hidden.is_empty() {
            return Ok(count_common(na, nb));
        }
        let mut count = 0;
        for_each_common(na, nb, |s| {
            count += usize::from(self.visible(s));
            true
        });
        Ok(count)
    }

    /// The size of `a`'s second-degree network: members who are not `a`, not
    /// connected to `a`, and share at least one connection with `a`.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn second_degree_count(&self, a: MemberId) -> Result<usize, GraphError> {
        let sa = self.resolve(a)?;
        let first = self.neighbours(sa);
        Ok(with_marks(self.graph.adjacency.slots(), |marks| {
            marks.mark(sa);
            for &x in first {
                marks.mark(x);
            }
            let mut count = 0;
            for (i, &x) in first.iter().enumerate() {
                // Start loading a list a few connections ahead.
                if let Some(&ahead) = first.get(i + AHEAD) {
                    prefetch(self.neighbours(ahead));
                }
                if !self.visible(x) {
                    continue;
                }
                for &y in self.neighbours(x) {
                    if marks.mark(y) && self.visible(y) {
                        count += 1;
                    }
                }
            }
            count
        }))
    }

    /// `a`'s connections, one page at a time, in slot order.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`], [`GraphError::UnknownCursor`].
    pub fn connections(
        &self,
        a: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<MemberId, MemberId>, GraphError> {
        let sa = self.resolve(a)?;
        let start = self.cursor_start(after)?;
        let mut visible = self
            .tail(sa, start)
            .iter()
            .copied()
            .filter(|&s| self.visible(s));
        let items: Vec<Slot> = visible.by_ref().take(size.get()).collect();
        let more = visible.next().is_some();
        Ok(self.page(items, more))
    }

    /// How `a` is connected to `b`: the mutual connections for a
    /// second-degree member, the linking pairs for a third-degree one, each
    /// list at most one page long.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn how_connected(
        &self,
        a: MemberId,
        b: MemberId,
        size: PageSize,
    ) -> Result<HowConnected, GraphError> {
        Ok(match self.degree(a, b)? {
            Degree::Yourself => HowConnected::Yourself,
            Degree::First => HowConnected::First,
            Degree::OutOfNetwork => HowConnected::OutOfNetwork,
            Degree::Second => HowConnected::Second {
                via: self.mutuals(a, b, None, size)?.items,
            },
            Degree::Third => {
                let (sa, sb) = (self.resolve(a)?, self.resolve(b)?);
                let via = with_marks(self.graph.adjacency.slots(), |marks| {
                    for &y in self.neighbours(sb) {
                        if self.visible(y) {
                            marks.mark(y);
                        }
                    }
                    let mut via = Vec::new();
                    'scan: for &x in self.neighbours(sa) {
                        if !self.visible(x) {
                            continue;
                        }
                        for &y in self.neighbours(x) {
                            if marks.is_marked(y) {
                                via.push((self.id(x), self.id(y)));
                                if via.len() == size.get() {
                                    break 'scan;
                                }
                            }
                        }
                    }
                    via
                });
                HowConnected::Third { via }
            }
        })
    }

    /// Prepares `viewer`'s neighbourhood once, to answer many degree questions
    /// for that viewer cheaply (a badge on every row of a results page).
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn neighbourhood(&self, viewer: MemberId) -> Result<Neighbourhood<'g>, GraphError> {
        Ok(Neighbourhood::new(self.clone(), self.resolve(viewer)?))
    }

    /// The first slot a page may start at: just past the cursor's slot. A
    /// cursor naming a member the viewer cannot see (unknown, deactivated or
    /// hidden) is refused like an id that never existed, so that cursors are
    /// no oracle; a client whose cursor member left starts the list again.
    fn cursor_start(&self, after: Option<MemberId>) -> Result<Slot, GraphError> {
        match after {
            None => Ok(0),
            Some(id) => self
                .resolve(id)
                .map(|s| s.saturating_add(1))
                .map_err(|_| GraphError::UnknownCursor(id)),
        }
    }

    /// The part of `s`'s neighbour list at or after slot `start`.
    fn tail(&self, s: Slot, start: Slot) -> &'g [Slot] {
        let list = self.neighbours(s);
        &list[list.partition_point(|&n| n < start)..]
    }

    fn page(&self, slots: Vec<Slot>, more: bool) -> Page<MemberId, MemberId> {
        let next = if more {
            slots.last().map(|&s| self.id(s))
        } else {
            None
        };
        Page::new(slots.into_iter().map(|s| self.id(s)).collect(), next)
    }
}
