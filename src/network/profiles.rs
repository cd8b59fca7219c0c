//! Members as a viewer may see them: a profile, the display fields of list
//! rows, and the viewer's own block list.

use super::{Network, Sight};
use crate::error::Error;
use crate::graph::{Degree, SocialGraph, View};
use crate::id::MemberId;
use crate::member::{Kind, Member, MemberEmail, Profile, Tier};
use crate::page::{Page, PageSize};
use crate::record::Key;
use crate::store::{Role, Store};
use crate::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};

/// A member's profile as one viewer may see it.
///
/// Carries email addresses only when the viewer is the member: anyone else
/// gets none, whatever the addresses' discoverability (that governs
/// matching, never showing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemberView {
    /// The member.
    pub id: MemberId,
    /// Person or company page.
    pub kind: Kind,
    /// Account tier (a premium badge).
    pub tier: Tier,
    /// The profile.
    pub profile: Profile,
    /// The member's degree in the viewer's network.
    pub degree: Degree,
    /// Connections the viewer shares with the member (0 for the viewer).
    pub mutual_connections: usize,
    /// The member's email addresses: for the member themself only, empty
    /// for everyone else.
    pub emails: Vec<MemberEmail>,
}

/// The display fields of one member in a list row (an inbox row, a search
/// hit, a suggestion), as the viewer may see them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Card {
    /// The member.
    pub id: MemberId,
    /// Person or company page.
    pub kind: Kind,
    /// The name shown.
    pub display_name: String,
    /// Headline or current title.
    pub headline: String,
    /// Free-text location.
    pub location: String,
    /// The member's degree in the viewer's network.
    pub degree: Degree,
}

/// A list row with the display fields of the member it is about
/// (see [`Network::rows`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Row<T> {
    /// The row as the list gave it.
    pub item: T,
    /// The member it is about.
    pub card: Card,
}

/// A row of a list that is about one member: who that is.
pub trait Subject {
    /// The member the row is about (the other party of an invitation, a
    /// search hit, a suggestion).
    fn subject(&self) -> MemberId;
}

impl Subject for super::Listed {
    fn subject(&self) -> MemberId {
        self.other
    }
}

impl Subject for crate::discovery::SearchHit {
    fn subject(&self) -> MemberId {
        self.member
    }
}

impl Subject for crate::discovery::Suggestion {
    fn subject(&self) -> MemberId {
        self.member
    }
}

impl Subject for MemberId {
    fn subject(&self) -> MemberId {
        *self
    }
}

/// One member the viewer blocks, for the viewer's block list.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlockedMember {
    /// The member blocked.
    pub member: MemberId,
    /// Their name (the blocker may see whom they blocked).
    pub display_name: String,
    /// When the block was made.
    pub since: Timestamp,
}

impl<S: Store, C: Clock> Network<S, C> {
    /// `id`'s profile as `viewer` may see it, or `None` exactly when `id`
    /// is hidden from the viewer: never registered, deactivated, or
    /// separated from the viewer by a block either way. Those cases answer
    /// alike, so a member who blocked the viewer looks like one who never
    /// joined. Email addresses appear only in the viewer's own profile.
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp, Email, Degree};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// let email = Email::parse("bo@example.com")?;
    /// net.register(Member::person(ana, Profile::named("Ana")))?;
    /// net.register(Member::person(bo, Profile::named("Bo")).with_email(email, true))?;
    /// let seen_by_ana = net.member(ana, bo)?.expect("visible");
    /// assert_eq!(seen_by_ana.profile.display_name, "Bo");
    /// assert_eq!(seen_by_ana.degree, Degree::OutOfNetwork);
    /// assert!(seen_by_ana.emails.is_empty());
    /// assert_eq!(net.member(bo, bo)?.expect("self").emails.len(), 1);
    /// net.block(bo, ana)?;
    /// assert_eq!(net.member(ana, bo)?, None);
    /// assert_eq!(net.member(ana, MemberId::new(99))?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for an
    /// unknown or deactivated viewer; store failures.
    pub fn member(&self, viewer: MemberId, id: MemberId) -> Result<Option<MemberView>, Error> {
        super::trace::pair("member", viewer, id).within(|| {
            self.fresh()?;
            let sight = self.sight(viewer)?;
            let Some((m, degree, mutual)) = self.visible(&sight, viewer, id)? else {
                return Ok(None);
            };
            Ok(Some(MemberView {
                id,
                kind: m.kind,
                tier: m.tier,
                degree,
                mutual_connections: mutual,
                emails: if viewer == id { m.emails } else { Vec::new() },
                profile: m.profile,
            }))
        })
    }

    /// The rows of a list `viewer` read, each with the display fields of
    /// the member it is about (name, headline, location, degree), in one
    /// call. A row whose member became hidden from the viewer since the
    /// list was read (blocked, deactivated) is left out, as the list would
    /// now leave it out.
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp, Email, PageSize};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// net.send(pronet::SendRequest::new(ana, bo).note("Hi Bo").proof(&bo_email))?;
    /// let inbox = net.inbox(bo, None, PageSize::default())?;
    /// let rows = net.rows(bo, inbox.items)?;
    /// assert_eq!(rows[0].card.display_name, "Ana");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for an
    /// unknown or deactivated viewer; store failures.
    pub fn rows<T: Subject>(&self, viewer: MemberId, items: Vec<T>) -> Result<Vec<Row<T>>, Error> {
        super::trace::member("rows", viewer).within(|| {
            self.fresh()?;
            let sight = self.sight(viewer)?;
            let placed: Vec<Option<(Degree, usize)>> = {
                let graph = self.graph();
                let view = sight.view(&graph);
                items
                    .iter()
                    .map(|item| place(&sight, &graph, &view, viewer, item.subject()))
                    .collect()
            };
            let mut rows = Vec::with_capacity(items.len());
            for (item, placed) in items.into_iter().zip(placed) {
                let Some((degree, _)) = placed else { continue };
                let Some(m) = self.active_record(item.subject())? else {
                    continue;
                };
                let p = m.profile;
                rows.push(Row {
                    item,
                    card: Card {
                        id: m.id,
                        kind: m.kind,
                        display_name: p.display_name,
                        headline: p.headline,
                        location: p.location,
                        degree,
                    },
                });
            }
            Ok(rows)
        })
    }

    /// Whom `viewer` blocks, by member id, one page at a time: for the
    /// viewer alone (nobody learns from it who blocks them). Blocked
    /// members since deactivated are left out, as everywhere.
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp, PageSize};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")))?;
    /// net.block(ana, bo)?;
    /// let page = net.blocked(ana, None, PageSize::default())?;
    /// assert_eq!(page.items[0].member, bo);
    /// assert_eq!(page.items[0].display_name, "Bo");
    /// assert!(net.blocked(bo, None, PageSize::default())?.items.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for an
    /// unknown or deactivated viewer; store failures.
    pub fn blocked(
        &self,
        viewer: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<BlockedMember, MemberId>, Error> {
        super::trace::member("blocked", viewer).within(|| {
            self.fresh()?;
            self.sight(viewer)?;
            let mut blocks: Vec<(MemberId, Timestamp)> = self
                .store
                .blocks(viewer, Role::Sender)?
                .into_iter()
                .filter(|b| b.blocker == viewer)
                .filter_map(|b| b.since.map(|since| (b.target, since)))
                .filter(|(target, _)| after.is_none_or(|a| *target > a))
                .collect();
            {
                let graph = self.graph();
                blocks.retain(|(target, _)| graph.contains(*target));
            }
            blocks.sort_unstable();
            let more = blocks.len() > size.get();
            blocks.truncate(size.get());
            let mut items = Vec::with_capacity(blocks.len());
            for (member, since) in blocks {
                let display_name = match self.load::<Member>(Key::Member(member))? {
                    Some(m) => m.value.profile.display_name,
                    None => String::new(),
                };
                items.push(BlockedMember {
                    member,
                    display_name,
                    since,
                });
            }
            let next = if more {
                items.last().map(|b| b.member)
            } else {
                None
            };
            Ok(Page::new(items, next))
        })
    }

    /// `id`'s record with their degree and mutual count in `viewer`'s
    /// network, or `None` when `id` is hidden from the viewer.
    fn visible(
        &self,
        sight: &Sight,
        viewer: MemberId,
        id: MemberId,
    ) -> Result<Option<(Member, Degree, usize)>, Error> {
        let placed = {
            let graph = self.graph();
            place(sight, &graph, &sight.view(&graph), viewer, id)
        };
        let Some((degree, mutual)) = placed else {
            return Ok(None);
        };
        Ok(self.active_record(id)?.map(|m| (m, degree, mutual)))
    }

    /// `id`'s stored record if active (the graph said so a moment ago; a
    /// deactivation since hides them again).
    fn active_record(&self, id: MemberId) -> Result<Option<Member>, Error> {
        Ok(match self.load::<Member>(Key::Member(id))? {
            Some(m) if m.value.active => Some(m.value),
            _ => None,
        })
    }
}

/// `id`'s degree and mutual count in `viewer`'s network as the viewer may
/// see it, or `None` when `id` is hidden from them.
pub(super) fn place(
    sight: &Sight,
    graph: &SocialGraph,
    view: &View<'_>,
    viewer: MemberId,
    id: MemberId,
) -> Option<(Degree, usize)> {
    if !sight.sees(id, graph) {
        return None;
    }
    let degree = view.degree(viewer, id).ok()?;
    let mutual = if viewer == id {
        0
    } else {
        view.mutual_count(viewer, id).ok()?
    };
    Some((degree, mutual))
}
