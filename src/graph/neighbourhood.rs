//! One viewer's network, prepared once to answer many degree questions.

use super::index::Slot;
use super::{Degree, GraphError, View};
use crate::id::MemberId;
use fixedbitset::FixedBitSet;

/// A viewer's neighbourhood: everyone within two steps, marked in a bitset.
///
/// Preparing it walks the viewer's connections' connections once (the cost
/// of one second-degree count); afterwards each [`degree`](Self::degree)
/// costs one lookup per connection of the member asked about, with no
/// allocation. Use it when one viewer needs many answers, such as a degree
/// badge on every row of a search page. It borrows the graph, so it cannot
/// outlive a change to it.
///
/// ```
/// use pronet::graph::{Degree, SocialGraph};
/// use pronet::{Kind, MemberId};
///
/// let mut g = SocialGraph::new();
/// let ids = [1, 2, 3, 4].map(MemberId::new);
/// for m in ids {
///     g.add_member(m, Kind::Person)?;
/// }
/// g.connect(ids[0], ids[1])?;
/// g.connect(ids[1], ids[2])?;
/// g.connect(ids[2], ids[3])?;
/// let me = g.neighbourhood(ids[0])?;
/// let badges: Vec<Degree> = ids.iter().map(|&m| me.degree(m)).collect::<Result<_, _>>()?;
/// assert_eq!(badges, [Degree::Yourself, Degree::First, Degree::Second, Degree::Third]);
/// # Ok::<(), pronet::graph::GraphError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Neighbourhood<'g> {
    view: View<'g>,
    viewer: Slot,
    /// Members reachable in two steps through visible connections.
    within_two: FixedBitSet,
}

impl<'g> Neighbourhood<'g> {
    pub(super) fn new(view: View<'g>, viewer: Slot) -> Self {
        let mut within_two = FixedBitSet::with_capacity(view.graph.adjacency.slots());
        for &x in view.neighbours(viewer) {
            if view.visible(x) {
                for &y in view.neighbours(x) {
                    if view.visible(y) {
                        within_two.insert(y as usize);
                    }
                }
            }
        }
        Self {
            view,
            viewer,
            within_two,
        }
    }

    /// The viewer this neighbourhood belongs to.
    #[must_use]
    pub fn viewer(&self) -> MemberId {
        self.view.id(self.viewer)
    }

    /// The degree of `member` in the viewer's network; always equal to
    /// [`View::degree`] for the same viewer and member.
    ///
    /// # Errors
    /// [`GraphError::UnknownMember`] if `member` is unknown, deactivated or
    /// hidden from the viewer.
    pub fn degree(&self, member: MemberId) -> Result<Degree, GraphError> {
        let s = self.view.resolve(member)?;
        let near = |n: Slot| self.within_two.contains(n as usize);
        Ok(if s == self.viewer {
            Degree::Yourself
        } else if self.view.graph.adjacency.contains(self.viewer, s) {
            Degree::First
        } else if near(s) {
            Degree::Second
        } else if self.view.neighbours(s).iter().any(|&y| near(y)) {
            Degree::Third
        } else {
            Degree::OutOfNetwork
        })
    }
}
