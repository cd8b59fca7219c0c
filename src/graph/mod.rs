//! The social graph: who is connected to whom (a connection is symmetric
//! and joins two distinct persons), and the degree, mutual-connection and
//! network-size questions asked of it on every page, each answered as the
//! viewer may see the graph (members blocked either way are neither results
//! nor links).
//!
//! [`SocialGraph`] is an index: the [`Store`](crate) is the source of truth,
//! and the graph is rebuilt from it and kept current after each committed
//! change. Updates are idempotent (connecting two connected members changes
//! nothing), so re-applying a change is always safe.
//!
//! Reads go through a [`View`]: the graph as one viewer may see it, with the
//! members hidden from that viewer (blocks) removed from results and from
//! paths. The query methods on `SocialGraph` itself are the view in which
//! nobody is hidden.
//!
//! ```
//! use pronet::graph::{Degree, SocialGraph};
//! use pronet::{Kind, MemberId};
//!
//! let mut g = SocialGraph::new();
//! let [ana, bo, cy, dee] = [1, 2, 3, 4].map(MemberId::new);
//! for m in [ana, bo, cy, dee] {
//!     g.add_member(m, Kind::Person)?;
//! }
//! g.connect(ana, bo)?;
//! g.connect(bo, cy)?;
//! g.connect(cy, dee)?;
//! assert_eq!(g.degree(ana, cy)?, Degree::Second);
//! assert_eq!(g.degree(ana, dee)?, Degree::Third);
//! assert_eq!(g.mutual_count(ana, cy)?, 1);
//! // Seen by a viewer who blocked bo, ana and cy share nobody.
//! assert_eq!(g.view([bo]).degree(ana, cy)?, Degree::OutOfNetwork);
//! # Ok::<(), pronet::graph::GraphError>(())
//! ```

pub(crate) mod index;
mod neighbourhood;
pub(crate) mod slots;
mod view;
mod visit;

pub use neighbourhood::Neighbourhood;
pub use view::{HowConnected, View};

use crate::id::MemberId;
use crate::member::Kind;
use crate::page::{Page, PageSize};
use index::{Adjacency, Slot};
use serde::{Deserialize, Serialize};
use slots::SlotTable;
use std::collections::BTreeSet;
use thiserror::Error;

/// The default connection cap: a person has at most this many connections
/// (policy `max_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 30_000;

/// How far member B is from member A in A's network: `First` when
/// connected, `Second` when they share a connection, `Third` when a
/// connection of A is connected to a connection of B, `OutOfNetwork` when
/// further or unreachable, `Yourself` when B is A.
///
/// This set is closed by definition, so the enum is exhaustive: a `match` on
/// it needs no wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Degree {
    /// A and B are the same member.
    Yourself,
    /// Connected.
    First,
    /// Not connected, but sharing at least one connection.
    Second,
    /// A connection of A is connected to a connection of B.
    Third,
    /// Further, or unreachable.
    OutOfNetwork,
}

/// Why the graph refused a change or a query.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GraphError {
    /// No such member, or the member is deactivated, or hidden from the
    /// viewer: the three are deliberately indistinguishable.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// A member cannot connect to themself.
    #[error("member {0} cannot connect to themself")]
    SelfConnection(MemberId),
    /// Only persons connect; this member is a company page.
    #[error("member {0} is a company page, and only persons connect")]
    NotAPerson(MemberId),
    /// The member already has the maximum number of connections.
    #[error("member {member} already has the maximum of {cap} connections")]
    ConnectionCap {
        /// The member at the cap.
        member: MemberId,
        /// The cap.
        cap: usize,
    },
    /// The member was added before with the other kind.
    #[error("member {0} already exists with another kind")]
    KindMismatch(MemberId),
    /// The index holds at most `u32::MAX` members.
    #[error("the graph cannot hold more members")]
    Full,
    /// A pagination cursor that this graph never issued.
    #[error("cursor {0} does not belong to this list")]
    UnknownCursor(MemberId),
}

#[derive(Clone, Copy, Debug)]
struct Flags {
    person: bool,
    active: bool,
}

/// The social graph: members, their connections, and fast degree queries.
///
/// Members live in dense slots; each slot has a sorted list of neighbour
/// slots. Connecting and disconnecting update two lists in place. The
/// connections of a deactivated member are set aside (they count nowhere and
/// appear nowhere) and come back if the member is reactivated.
///
/// petgraph's algorithms run on it directly: `&SocialGraph` implements
/// petgraph's visit traits (`IntoNeighbors`, `Visitable`, `NodeIndexable`, ...)
/// with [`MemberId`] as the node id, and [`SocialGraph::to_petgraph`] copies it
/// into a petgraph `UnGraph` for algorithms that need more.
#[derive(Clone, Debug)]
pub struct SocialGraph {
    ids: Vec<MemberId>,
    slots: SlotTable,
    flags: Vec<Flags>,
    adjacency: Adjacency,
    /// Connections with a deactivated endpoint, both directions stored, so
    /// that `(s, 0)..` ranges give all of one member's set-aside connections.
    dormant: BTreeSet<(Slot, Slot)>,
    connections: usize,
    max_connections: usize,
    /// Whether slot order is id order (members were added in increasing id
    /// order, as hosts numbering members from a sequence do), so that
    /// rankings can break ties by slot without looking ids up.
    ids_ascending: bool,
}

impl Default for SocialGraph {
    fn default() -> Self {
        Self::new()
    }
}

impl SocialGraph {
    /// An empty graph with the default cap of [`DEFAULT_MAX_CONNECTIONS`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_max_connections(DEFAULT_MAX_CONNECTIONS)
    }

    /// An empty graph where each person has at most `max_connections`.
    ///
    /// The cap serves a host that keeps a `SocialGraph` on its own. A
    /// [`Network`](crate::Network) decides its cap once, with its send and
    /// accept rules over the stored ledgers, and builds its mirror of the
    /// committed connections with no cap (`usize::MAX`).
    #[must_use]
    pub fn with_max_connections(max_connections: usize) -> Self {
        Self {
            ids: Vec::new(),
            slots: SlotTable::sequential(),
            flags: Vec::new(),
            adjacency: Adjacency::default(),
            dormant: BTreeSet::new(),
            connections: 0,
            max_connections,
            ids_ascending: true,
        }
    }

    /// Builds a graph in one pass from all members and connections, as when
    /// rebuilding the index from the store. Faster than adding connections one
    /// by one, and every list gets exactly the capacity it needs. Repeated
    /// connections collapse into one.
    ///
    /// # Errors
    /// The first member that is added twice with different kinds, or the first
    /// connection that [`connect`](Self::connect) would refuse.
    pub fn build(
        members: impl IntoIterator<Item = (MemberId, Kind)>,
        connections: impl IntoIterator<Item = (MemberId, MemberId)>,
        max_connections: usize,
    ) -> Result<Self, GraphError> {
        let mut graph = Self::with_max_connections(max_connections);
        let members: Vec<(MemberId, Kind)> = members.into_iter().collect();
        for &(id, kind) in &members {
            graph.insert_member(id, kind, members.len())?;
        }
        let connections = connections.into_iter();
        let mut edges = Vec::with_capacity(connections.size_hint().0);
        for (a, b) in connections {
            let (sa, sb) = graph.connectable(a, b)?;
            edges.push((sa, sb));
        }
        graph.adjacency = Adjacency::from_edges(graph.ids.len(), &edges);
        drop(edges);
        let mut directed = 0usize;
        for s in 0..graph.ids.len() {
            let degree = graph.adjacency.of(slot(s)).len();
            if degree > max_connections {
                return Err(GraphError::ConnectionCap {
                    member: graph.ids[s],
                    cap: max_connections,
                });
            }
            directed += degree;
        }
        graph.connections = directed / 2;
        Ok(graph)
    }

    /// Adds an active member; `Ok(false)` when it was already there with the
    /// same kind (re-applying is harmless).
    ///
    /// # Errors
    /// [`GraphError::KindMismatch`] when it exists with the other kind;
    /// [`GraphError::Full`] past `u32::MAX` members.
    pub fn add_member(&mut self, id: MemberId, kind: Kind) -> Result<bool, GraphError> {
        self.insert_member(id, kind, 0)
    }

    /// [`add_member`](Self::add_member), knowing that about `expected`
    /// members will be added in all (so that dense ids added out of order
    /// still get the direct slot table).
    fn insert_member(
        &mut self,
        id: MemberId,
        kind: Kind,
        expected: usize,
    ) -> Result<bool, GraphError> {
        let person = kind == Kind::Person;
        if let Some(s) = self.slots.get(id) {
            return if self.flags[s as usize].person == person {
                Ok(false)
            } else {
                Err(GraphError::KindMismatch(id))
            };
        }
        let s = Slot::try_from(self.ids.len()).map_err(|_| GraphError::Full)?;
        self.ids_ascending &= self.ids.last().is_none_or(|&last| last < id);
        self.ids.push(id);
        self.slots.insert(id, s, self.ids.len().max(expected));
        self.flags.push(Flags {
            person,
            active: true,
        });
        self.adjacency.push();
        Ok(true)
    }

    /// Deactivates a member: from now on it appears in no answer, its
    /// connections count for nobody, and queries about it fail as for an
    /// unknown member. `Ok(false)` when it was already inactive.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`] for a member never added.
    pub fn deactivate(&mut self, id: MemberId) -> Result<bool, GraphError> {
        let s = self.slot_of(id)?;
        if !self.flags[s as usize].active {
            return Ok(false);
        }
        self.flags[s as usize].active = false;
        for n in self.adjacency.take_all(s) {
            self.dormant.insert((s, n));
            self.dormant.insert((n, s));
            self.connections -= 1;
        }
        Ok(true)
    }

    /// Reactivates a member, restoring its connections to members that are
    /// active. `Ok(false)` when it was already active.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`] for a member never added.
    pub fn reactivate(&mut self, id: MemberId) -> Result<bool, GraphError> {
        let s = self.slot_of(id)?;
        if self.flags[s as usize].active {
            return Ok(false);
        }
        self.flags[s as usize].active = true;
        let set_aside: Vec<Slot> = self.dormant_of(s).collect();
        for n in set_aside {
            if self.flags[n as usize].active {
                self.dormant.remove(&(s, n));
                self.dormant.remove(&(n, s));
                self.adjacency.insert(s, n);
                self.connections += 1;
            }
        }
        Ok(true)
    }

    /// Connects two persons; `Ok(false)` when they were already connected.
    ///
    /// # Errors
    /// [`GraphError::SelfConnection`], [`GraphError::UnknownMember`] (also for
    /// a deactivated member), [`GraphError::NotAPerson`], and
    /// [`GraphError::ConnectionCap`] when either side is at the cap.
    pub fn connect(&mut self, a: MemberId, b: MemberId) -> Result<bool, GraphError> {
        let (sa, sb) = self.connectable(a, b)?;
        if self.adjacency.contains(sa, sb) {
            return Ok(false);
        }
        for (s, id) in [(sa, a), (sb, b)] {
            if self.connection_total(s) >= self.max_connections {
                return Err(GraphError::ConnectionCap {
                    member: id,
                    cap: self.max_connections,
                });
            }
        }
        self.adjacency.insert(sa, sb);
        self.connections += 1;
        Ok(true)
    }

    /// Removes a connection; `Ok(false)` when there was none.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`] for a member never added or deactivated.
    pub fn disconnect(&mut self, a: MemberId, b: MemberId) -> Result<bool, GraphError> {
        let (sa, sb) = (self.active_slot(a)?, self.active_slot(b)?);
        let removed = self.adjacency.remove(sa, sb);
        if removed {
            self.connections -= 1;
        }
        Ok(removed)
    }

    /// The graph as seen by a viewer from whom `hidden` members are hidden
    /// (typically the members the viewer blocked or was blocked by). Ids that
    /// are not in the graph are ignored.
    #[must_use]
    pub fn view(&self, hidden: impl IntoIterator<Item = MemberId>) -> View<'_> {
        View::new(self, hidden)
    }

    /// Number of active members.
    #[must_use]
    pub fn member_count(&self) -> usize {
        self.flags.iter().filter(|f| f.active).count()
    }

    /// Number of connections between active members.
    #[must_use]
    pub fn connection_count(&self) -> usize {
        self.connections
    }

    /// The cap on each person's connections.
    #[must_use]
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Approximate heap bytes of the index: the adjacency lists, the id table
    /// and the id-to-slot map. Reported by the benchmark as bytes per
    /// connection.
    #[must_use]
    pub fn index_bytes(&self) -> usize {
        self.adjacency.heap_bytes()
            + self.ids.capacity() * size_of::<MemberId>()
            + self.flags.capacity() * size_of::<Flags>()
            + self.slots.heap_bytes()
            + self.dormant.len() * size_of::<(Slot, Slot)>()
    }

    /// Whether `id` is a known, active member.
    #[must_use]
    pub fn contains(&self, id: MemberId) -> bool {
        self.active_slot(id).is_ok()
    }

    /// Whether `a` and `b` are connected (both active).
    #[must_use]
    pub fn are_connected(&self, a: MemberId, b: MemberId) -> bool {
        match (self.active_slot(a), self.active_slot(b)) {
            (Ok(sa), Ok(sb)) => self.adjacency.contains(sa, sb),
            _ => false,
        }
    }

    /// [`View::degree`] with nobody hidden.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn degree(&self, a: MemberId, b: MemberId) -> Result<Degree, GraphError> {
        self.view([]).degree(a, b)
    }

    /// [`View::mutuals`] with nobody hidden.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`], [`GraphError::UnknownCursor`].
    pub fn mutuals(
        &self,
        a: MemberId,
        b: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<MemberId, MemberId>, GraphError> {
        self.view([]).mutuals(a, b, after, size)
    }

    /// [`View::mutual_count`] with nobody hidden.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn mutual_count(&self, a: MemberId, b: MemberId) -> Result<usize, GraphError> {
        self.view([]).mutual_count(a, b)
    }

    /// [`View::second_degree_count`] with nobody hidden.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn second_degree_count(&self, a: MemberId) -> Result<usize, GraphError> {
        self.view([]).second_degree_count(a)
    }

    /// [`View::connections`] with nobody hidden.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`], [`GraphError::UnknownCursor`].
    pub fn connections(
        &self,
        a: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<MemberId, MemberId>, GraphError> {
        self.view([]).connections(a, after, size)
    }

    /// [`View::how_connected`] with nobody hidden.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn how_connected(
        &self,
        a: MemberId,
        b: MemberId,
        size: PageSize,
    ) -> Result<HowConnected, GraphError> {
        self.view([]).how_connected(a, b, size)
    }

    /// [`View::neighbourhood`] with nobody hidden.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`].
    pub fn neighbourhood(&self, viewer: MemberId) -> Result<Neighbourhood<'_>, GraphError> {
        self.view([]).neighbourhood(viewer)
    }

    fn slot_of(&self, id: MemberId) -> Result<Slot, GraphError> {
        self.slots.get(id).ok_or(GraphError::UnknownMember(id))
    }

    /// The slot of an active member; deactivated members are unknown.
    fn active_slot(&self, id: MemberId) -> Result<Slot, GraphError> {
        let s = self.slot_of(id)?;
        if self.flags[s as usize].active {
            Ok(s)
        } else {
            Err(GraphError::UnknownMember(id))
        }
    }

    /// The one place that decides whether two members may be connected at
    /// all (the cap aside): distinct, known, active, both persons.
    fn connectable(&self, a: MemberId, b: MemberId) -> Result<(Slot, Slot), GraphError> {
        if a == b {
            return Err(GraphError::SelfConnection(a));
        }
        let (sa, sb) = (self.active_slot(a)?, self.active_slot(b)?);
        for (s, id) in [(sa, a), (sb, b)] {
            if !self.flags[s as usize].person {
                return Err(GraphError::NotAPerson(id));
            }
        }
        Ok((sa, sb))
    }

    /// Connections of `s`, the set-aside ones to deactivated members included:
    /// they come back on reactivation, so they keep their place under the cap.
    fn connection_total(&self, s: Slot) -> usize {
        self.adjacency.of(s).len() + self.dormant_of(s).count()
    }

    fn dormant_of(&self, s: Slot) -> impl Iterator<Item = Slot> + '_ {
        self.dormant.range((s, 0)..=(s, Slot::MAX)).map(|&(_, n)| n)
    }
}

/// A slot from a position known to be below `u32::MAX` (every slot is).
fn slot(position: usize) -> Slot {
    Slot::try_from(position).unwrap_or(Slot::MAX)
}
