//! Many members' relationships to one viewer in one call.

use super::Network;
use super::counts::List;
use super::profiles::place;
use crate::error::Error;
use crate::graph::Degree;
use crate::id::{InvitationId, MemberId};
use crate::store::Store;
use crate::time::Clock;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A pending invitation between the viewer and another member, as the
/// viewer sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Pending {
    /// The viewer invited the member and the invitation looks pending to
    /// the viewer (as an ignored or held one does to its sender).
    Sent(InvitationId),
    /// The member invited the viewer: it is in the viewer's inbox.
    Received(InvitationId),
    /// The member invited the viewer: it waits in the viewer's held list.
    Held(InvitationId),
}

/// One member's relationship to the viewer (see
/// [`Network::relationships`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Relationship {
    /// The member.
    pub member: MemberId,
    /// Their degree in the viewer's network.
    pub degree: Degree,
    /// A pending invitation between the two, either way, if any.
    pub pending: Option<Pending>,
    /// Connections the viewer shares with them (0 for the viewer).
    pub mutual_connections: usize,
}

impl<S: Store, C: Clock> Network<S, C> {
    /// For each of `ids`, in order, its relationship to `viewer`: degree,
    /// a pending invitation either way, mutual count; `None` for a member
    /// hidden from the viewer (a block either way, deactivated), exactly as
    /// for an id that was never registered. Pending invitations are those
    /// of the viewer's [`inbox`](Self::inbox), [`held`](Self::held) and
    /// [`sent`](Self::sent) lists, read through the same filter: an
    /// invitation the recipient ignored still shows to its sender as
    /// [`Pending::Sent`].
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp, Email, Degree};
    /// # use pronet::network::Pending;
    /// # use pronet::SendOutcome;
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo, cy] = [1, 2, 3].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// # net.register(Member::person(cy, Profile::named("Cy")))?;
    /// let SendOutcome::Sent(sent) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
    /// net.block(cy, ana)?;
    /// let found = net.relationships(ana, &[bo, cy, MemberId::new(99)])?;
    /// assert_eq!(found[0].map(|r| (r.degree, r.pending)), Some((Degree::OutOfNetwork, Some(Pending::Sent(sent)))));
    /// assert_eq!(found[1], None); // Cy blocked Ana: as if Cy never joined.
    /// assert_eq!(found[2], None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for an
    /// unknown or deactivated viewer; store failures.
    pub fn relationships(
        &self,
        viewer: MemberId,
        ids: &[MemberId],
    ) -> Result<Vec<Option<Relationship>>, Error> {
        super::trace::member("relationships", viewer).within(|| {
            let mut pending: HashMap<MemberId, Pending> = HashMap::new();
            for (list, as_pending) in [
                (
                    List::Inbox,
                    Pending::Received as fn(InvitationId) -> Pending,
                ),
                (List::Held, Pending::Held),
                (List::Sent, Pending::Sent),
            ] {
                for (other, inv) in self.listing(viewer, list)?.1 {
                    pending.insert(other, as_pending(inv.id));
                }
            }
            let sight = self.sight(viewer)?;
            let graph = self.graph();
            let view = sight.view(&graph);
            Ok(ids
                .iter()
                .map(|&id| {
                    place(&sight, &graph, &view, viewer, id).map(|(degree, mutual)| Relationship {
                        member: id,
                        degree,
                        pending: pending.get(&id).copied(),
                        mutual_connections: mutual,
                    })
                })
                .collect())
        })
    }
}
