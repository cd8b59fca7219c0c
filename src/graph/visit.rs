//! petgraph's visit traits for `&SocialGraph`, so that petgraph's traversals
//! and algorithms (`Bfs`, `Dfs`, `dijkstra`, `has_path_connecting`, ...) run
//! on pronet's graph without a copy, with [`MemberId`] as the node id.
//!
//! Only active members and their connections are visible through these
//! traits. For algorithms that need a compact or mutable graph, use
//! [`SocialGraph::to_petgraph`].

use super::SocialGraph;
use super::index::Slot;
use crate::id::MemberId;
use petgraph::Undirected;
use petgraph::graph::UnGraph;
use petgraph::visit::{
    Data, GraphBase, GraphProp, IntoEdgeReferences, IntoEdges, IntoNeighbors, IntoNodeIdentifiers,
    NodeCount, NodeIndexable, Visitable,
};
use std::collections::HashSet;

impl SocialGraph {
    /// A petgraph `UnGraph` copy of the active members (node weights are
    /// their ids) and connections, for algorithms beyond the visit traits.
    #[must_use]
    pub fn to_petgraph(&self) -> UnGraph<MemberId, ()> {
        let mut graph = UnGraph::with_capacity(self.member_count(), self.connections);
        let nodes: Vec<_> = self
            .ids
            .iter()
            .zip(&self.flags)
            .map(|(&id, f)| f.active.then(|| graph.add_node(id)))
            .collect();
        // Connections only ever join two active members.
        for (a, b) in self.edge_slots() {
            if let (Some(x), Some(y)) = (nodes[a as usize], nodes[b as usize]) {
                graph.add_edge(x, y, ());
            }
        }
        graph
    }

    /// Every connection once, as `(lower slot, higher slot)`.
    fn edge_slots(&self) -> impl Iterator<Item = (Slot, Slot)> + '_ {
        (0..self.adjacency.slots()).flat_map(move |s| {
            let a = super::slot(s);
            let list = self.adjacency.of(a);
            list[list.partition_point(|&n| n <= a)..]
                .iter()
                .map(move |&b| (a, b))
        })
    }
}

impl GraphBase for SocialGraph {
    type NodeId = MemberId;
    type EdgeId = (MemberId, MemberId);
}

impl GraphProp for SocialGraph {
    type EdgeType = Undirected;
}

impl Data for SocialGraph {
    type NodeWeight = ();
    type EdgeWeight = ();
}

impl NodeCount for SocialGraph {
    fn node_count(&self) -> usize {
        self.member_count()
    }
}

/// Indices are slots: dense, stable, including deactivated members (which
/// have no neighbours). `to_index` of an id not in the graph answers
/// `node_bound()`, an index no visit map holds.
impl NodeIndexable for SocialGraph {
    fn node_bound(&self) -> usize {
        self.ids.len()
    }

    fn to_index(&self, id: MemberId) -> usize {
        self.slots.get(id).map_or(self.ids.len(), |s| s as usize)
    }

    fn from_index(&self, i: usize) -> MemberId {
        self.ids.get(i).copied().unwrap_or(MemberId::new(u64::MAX))
    }
}

impl<'a> IntoNeighbors for &'a SocialGraph {
    type Neighbors = Box<dyn Iterator<Item = MemberId> + 'a>;

    fn neighbors(self, id: MemberId) -> Self::Neighbors {
        let list = self
            .active_slot(id)
            .map_or(&[][..], |s| self.adjacency.of(s));
        Box::new(list.iter().map(move |&n| self.ids[n as usize]))
    }
}

impl<'a> IntoNodeIdentifiers for &'a SocialGraph {
    type NodeIdentifiers = Box<dyn Iterator<Item = MemberId> + 'a>;

    fn node_identifiers(self) -> Self::NodeIdentifiers {
        Box::new(
            self.ids
                .iter()
                .zip(&self.flags)
                .filter(|(_, f)| f.active)
                .map(|(&id, _)| id),
        )
    }
}

impl<'a> IntoEdgeReferences for &'a SocialGraph {
    type EdgeRef = (MemberId, MemberId, &'a ());
    type EdgeReferences = Box<dyn Iterator<Item = Self::EdgeRef> + 'a>;

    fn edge_references(self) -> Self::EdgeReferences {
        Box::new(
            self.edge_slots()
                .map(|(a, b)| (self.ids[a as usize], self.ids[b as usize], &())),
        )
    }
}

impl<'a> IntoEdges for &'a SocialGraph {
    type Edges = Box<dyn Iterator<Item = Self::EdgeRef> + 'a>;

    fn edges(self, id: MemberId) -> Self::Edges {
        Box::new(self.neighbors(id).map(move |n| (id, n, &())))
    }
}

impl Visitable for SocialGraph {
    type Map = HashSet<MemberId>;

    fn visit_map(&self) -> Self::Map {
        HashSet::new()
    }

    fn reset_map(&self, map: &mut Self::Map) {
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::SocialGraph;
    use crate::{Kind, MemberId};
    use petgraph::algo::{dijkstra, has_path_connecting};
    use petgraph::visit::Bfs;

    fn chain() -> Result<SocialGraph, crate::graph::GraphError> {
        let mut g = SocialGraph::new();
        for i in 0..5 {
            g.add_member(MemberId::new(i), Kind::Person)?;
        }
        for i in 0..3 {
            g.connect(MemberId::new(i), MemberId::new(i + 1))?;
        }
        Ok(g)
    }

    #[test]
    fn petgraph_algorithms_run_on_the_graph() -> Result<(), crate::graph::GraphError> {
        let g = chain()?;
        let mut bfs = Bfs::new(&g, MemberId::new(0));
        let mut order = Vec::new();
        while let Some(m) = bfs.next(&g) {
            order.push(m.get());
        }
        assert_eq!(order, vec![0, 1, 2, 3]);
        assert!(has_path_connecting(
            &g,
            MemberId::new(0),
            MemberId::new(3),
            None
        ));
        assert!(!has_path_connecting(
            &g,
            MemberId::new(0),
            MemberId::new(4),
            None
        ));
        let dist = dijkstra(&g, MemberId::new(0), None, |_| 1u32);
        assert_eq!(dist.get(&MemberId::new(3)), Some(&3));
        Ok(())
    }

    #[test]
    fn petgraph_copy_matches() -> Result<(), crate::graph::GraphError> {
        let g = chain()?;
        let copy = g.to_petgraph();
        assert_eq!(copy.node_count(), 5);
        assert_eq!(copy.edge_count(), 3);
        Ok(())
    }
}
