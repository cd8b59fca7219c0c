//! Reads: graph queries as a viewer may see them, invitation lists and
//! views, standing, and the registry of every read query.

use super::counts::List;
use super::{Network, Sight};
use crate::error::{Error, Refusal};
use crate::graph::{Degree, HowConnected, View};
use crate::id::{InvitationId, MemberId};
use crate::invitation::{Invitation, Ledger, Seen};
use crate::note::Note;
use crate::page::{Page, PageSize};
use crate::record::Key;
use crate::standing::{self, Standing};
use crate::store::Store;
use crate::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};

/// A pending invitation in a list, as its viewer may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Listed {
    /// The invitation.
    pub invitation: InvitationId,
    /// The other party: the sender in an inbox, the recipient in a sent list.
    pub other: MemberId,
    /// The note (the viewer is a party, so may read it).
    pub note: Option<Note>,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// Connections the viewer shares with the other party.
    pub mutual_connections: usize,
}

/// Where a list of invitations continues: lists run newest first.
///
/// On the wire (and through serde) a cursor is an opaque string, written by
/// `Display` and read back by `FromStr`, which accepts exactly the strings
/// `Display` writes and never panics:
///
/// ```
/// use pronet::{InvitationId, ListCursor, Timestamp};
/// let cursor = ListCursor {
///     sent_at: Timestamp::from_micros(5),
///     invitation: InvitationId::new(7),
/// };
/// let text = cursor.to_string();
/// assert_eq!(text.parse::<ListCursor>(), Ok(cursor));
/// assert!("garbage".parse::<ListCursor>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ListCursor {
    /// The last item's send time.
    pub sent_at: Timestamp,
    /// The last item's id.
    pub invitation: InvitationId,
}

impl std::fmt::Display for ListCursor {
    /// `l.<sent_at micros>.<invitation>`; opaque to clients.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "l.{}.{}",
            self.sent_at.as_micros(),
            self.invitation.get()
        )
    }
}

impl ListCursor {
    /// The cursor just at `inv`.
    pub(crate) fn of(inv: &Invitation) -> Self {
        Self {
            sent_at: inv.sent_at,
            invitation: inv.id,
        }
    }
}

impl From<&Listed> for ListCursor {
    /// The cursor at a list row: the next page starts after it.
    fn from(row: &Listed) -> Self {
        Self {
            sent_at: row.sent_at,
            invitation: row.invitation,
        }
    }
}

crate::page::cursor_text!(ListCursor, "list", |s| {
    let (micros, invitation) = s.strip_prefix("l.")?.split_once('.')?;
    Some(ListCursor {
        sent_at: Timestamp::from_micros(micros.parse().ok()?),
        invitation: InvitationId::new(invitation.parse().ok()?),
    })
});

/// One invitation as one of its parties sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvitationView {
    /// The invitation.
    pub id: InvitationId,
    /// Who sent it.
    pub sender: MemberId,
    /// Who it is for.
    pub recipient: MemberId,
    /// The note, for these two only.
    pub note: Option<Note>,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// Its state as the viewer sees it.
    pub seen: Seen,
    /// The note the recipient gave when rejecting it, for these two only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_note: Option<Note>,
}

/// Which list of received invitations to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Inbox {
    /// Delivered and pending.
    Main,
    /// Held back by the recipient's "who may invite me" setting.
    Held,
}

impl<S: Store, C: Clock> Network<S, C> {
    /// The degree of `other` in `viewer`'s network, as the viewer
    /// may see it.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`], also for a member hidden from the viewer.
    pub fn degree(&self, viewer: MemberId, other: MemberId) -> Result<Degree, Error> {
        super::trace::pair("degree", viewer, other)
            .within(|| self.with_view(viewer, |view| Ok(view.degree(viewer, other)?)))
    }

    /// The connections `viewer` shares with `other`, one page at a time.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`], [`Refusal::UnknownCursor`].
    pub fn mutuals(
        &self,
        viewer: MemberId,
        other: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<MemberId, MemberId>, Error> {
        super::trace::pair("mutuals", viewer, other)
            .within(|| self.with_view(viewer, |view| Ok(view.mutuals(viewer, other, after, size)?)))
    }

    /// How many connections `viewer` shares with `other`.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`].
    pub fn mutual_count(&self, viewer: MemberId, other: MemberId) -> Result<usize, Error> {
        super::trace::pair("mutual_count", viewer, other)
            .within(|| self.with_view(viewer, |view| Ok(view.mutual_count(viewer, other)?)))
    }

    /// The size of `viewer`'s second-degree network.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`].
    pub fn second_degree_count(&self, viewer: MemberId) -> Result<usize, Error> {
        super::trace::member("second_degree_count", viewer)
            .within(|| self.with_view(viewer, |view| Ok(view.second_degree_count(viewer)?)))
    }

    /// How `viewer` is connected to `other` ("how you're connected").
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`].
    pub fn how_connected(
        &self,
        viewer: MemberId,
        other: MemberId,
        size: PageSize,
    ) -> Result<HowConnected, Error> {
        super::trace::pair("how_connected", viewer, other)
            .within(|| self.with_view(viewer, |view| Ok(view.how_connected(viewer, other, size)?)))
    }

    /// The connections of `member` (the viewer's own or someone else's), as
    /// `viewer` may see them, one page at a time.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`], [`Refusal::UnknownCursor`].
    pub fn connections(
        &self,
        viewer: MemberId,
        member: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<MemberId, MemberId>, Error> {
        super::trace::pair("connections", viewer, member)
            .within(|| self.with_view(viewer, |view| Ok(view.connections(member, after, size)?)))
    }

    /// Runs `query` on the graph as `viewer` may see it: members the viewer
    /// blocked or was blocked by, and deactivated members, are neither
    /// results nor paths. For queries beyond the methods above, such as a
    /// prepared [`Neighbourhood`](crate::graph::Neighbourhood) for many
    /// degree badges.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`] for an unknown or deactivated viewer; what
    /// `query` answers.
    pub fn with_view<T>(
        &self,
        viewer: MemberId,
        query: impl FnOnce(&View<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        super::trace::member("with_view", viewer).within(|| {
            self.fresh()?;
            let sight = self.sight(viewer)?;
            let graph = self.graph();
            let view = sight.view(&graph);
            query(&view)
        })
    }

    /// The recipient's inbox: delivered pending invitations, newest first,
    /// each with its mutual-connection count.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn inbox(
        &self,
        recipient: MemberId,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        super::trace::member("inbox", recipient)
            .within(|| self.received(recipient, Inbox::Main, after, size))
    }

    /// The invitations held back by the recipient's "who may invite me"
    /// setting, newest first, never notified and never shown to the sender
    /// as anything but pending. The recipient may answer them like
    /// any other.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn held(
        &self,
        recipient: MemberId,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        super::trace::member("held", recipient)
            .within(|| self.received(recipient, Inbox::Held, after, size))
    }

    /// The sender's pending invitations, newest first. Ignored, held and
    /// dropped invitations look pending here, exactly like unanswered ones.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn sent(
        &self,
        sender: MemberId,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        super::trace::member("sent", sender).within(|| {
            let (sight, items) = self.listing(sender, List::Sent)?;
            Ok(self.paginate(&sight, items, after, size))
        })
    }

    /// A member's spam standing as judged now, for the member
    /// themself: from their recent sends and the answers so far, and with
    /// a sanction whose time has passed shown as lifted.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn standing(&self, member: MemberId) -> Result<Standing, Error> {
        super::trace::member("standing", member).within(|| {
            self.active_member(member)?;
            let now = self.now();
            Ok(self
                .load::<Ledger>(Key::Ledger(member))?
                .map(|l| {
                    let now = now.max(l.value.latest);
                    standing::evaluate(
                        &l.value.standing,
                        &l.value.sends,
                        &l.value.reports,
                        self.policy.standing(),
                        now,
                    )
                })
                .unwrap_or_default())
        })
    }

    /// One invitation as `viewer` sees it. Only its sender and recipient can
    /// read it, note included; anyone else, and either party
    /// while a block stands between them, is told it does not exist.
    ///
    /// # Errors
    /// [`Refusal::InvitationNotFound`]; store failures.
    pub fn invitation(&self, viewer: MemberId, id: InvitationId) -> Result<InvitationView, Error> {
        super::trace::invitation("invitation", viewer, id).within(|| {
            let now = self.now();
            let not_found = || Error::Refused(Refusal::InvitationNotFound(id));
            self.fresh()?;
            let sight = self.sight(viewer).map_err(|_| not_found())?;
            let inv = self
                .load::<Invitation>(Key::Invitation(id))?
                .ok_or_else(not_found)?
                .value;
            let seen = if viewer == inv.sender && sight.sees(inv.recipient, &self.graph()) {
                inv.seen_by_sender(&self.policy, now)
            } else if viewer == inv.recipient && sight.sees(inv.sender, &self.graph()) {
                match inv.seen_by_recipient(&self.policy, now) {
                    Some(seen) => seen,
                    None => return Err(self.replaced_or_not_found(&inv, now)?.into()),
                }
            } else {
                return Err(not_found());
            };
            Ok(InvitationView {
                id,
                sender: inv.sender,
                recipient: inv.recipient,
                note: inv.note,
                sent_at: inv.sent_at,
                seen,
                decline_note: inv.decline_note,
            })
        })
    }

    /// What the recipient of `inv`, which they can no longer see, is told:
    /// which invitation replaced it, if they may know, or "not found".
    fn replaced_or_not_found(&self, inv: &Invitation, now: Timestamp) -> Result<Refusal, Error> {
        let replacement = match inv.replaced_by {
            Some(by) => self
                .load::<Invitation>(Key::Invitation(by))?
                .map(|v| v.value),
            None => None,
        };
        Ok(inv
            .replaced_for_recipient(replacement.as_ref(), &self.policy, now)
            .unwrap_or(Refusal::InvitationNotFound(inv.id)))
    }

    pub(super) fn received(
        &self,
        recipient: MemberId,
        which: Inbox,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        let list = match which {
            Inbox::Main => List::Inbox,
            Inbox::Held => List::Held,
        };
        let (sight, items) = self.listing(recipient, list)?;
        Ok(self.paginate(&sight, items, after, size))
    }

    /// Sorts a [`listing`](Self::listing) newest first and cuts one page
    /// after the cursor.
    pub(super) fn paginate(
        &self,
        sight: &Sight,
        items: Vec<(MemberId, Invitation)>,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Page<Listed, ListCursor> {
        let cursor = |inv: &Invitation| ListCursor {
            sent_at: inv.sent_at,
            invitation: inv.id,
        };
        let graph = self.graph();
        let view = sight.view(&graph);
        let mut items = items;
        items.sort_by_key(|item| std::cmp::Reverse(cursor(&item.1)));
        let mut rest = items
            .into_iter()
            .filter(|(_, inv)| after.is_none_or(|c| cursor(inv) < c));
        let page: Vec<Listed> = rest
            .by_ref()
            .take(size.get())
            .map(|(other, inv)| Listed {
                invitation: inv.id,
                other,
                mutual_connections: view.mutual_count(inv.sender, inv.recipient).unwrap_or(0),
                note: inv.note,
                sent_at: inv.sent_at,
            })
            .collect();
        let next = if rest.next().is_some() {
            page.last().map(|l| ListCursor {
                sent_at: l.sent_at,
                invitation: l.invitation,
            })
        } else {
            None
        };
        Page::new(page, next)
    }
}

/// Every read query of [`Network`], so that a test can assert, for each,
/// that blocked and deactivated members are absent (B4 of RELIABILITY.md).
///
/// Deliberately exhaustive: adding a read query to `Network` means adding a
/// variant here, and the registry test stops compiling until it covers it.
/// A test registry, behind the `testing` feature.
#[cfg(feature = "testing")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadQuery {
    /// [`Network::degree`].
    Degree,
    /// [`Network::mutuals`].
    Mutuals,
    /// [`Network::mutual_count`].
    MutualCount,
    /// [`Network::second_degree_count`].
    SecondDegreeCount,
    /// [`Network::how_connected`].
    HowConnected,
    /// [`Network::connections`].
    Connections,
    /// [`Network::with_view`] (any graph query, such as a neighbourhood).
    WithView,
    /// [`Network::inbox`].
    Inbox,
    /// [`Network::held`].
    Held,
    /// [`Network::sent`].
    Sent,
    /// [`Network::invitation`].
    Invitation,
    /// [`Network::standing`] (a member's own; names nobody else).
    Standing,
    /// [`Network::people_you_may_know`].
    PeopleYouMayKnow,
    /// [`Network::search`].
    Search,
    /// [`Network::company_people`].
    CompanyPeople,
    /// [`Network::member`].
    Member,
    /// [`Network::invitation_counts`] (a member's own lists).
    InvitationCounts,
    /// [`Network::blocked`] (whom the viewer blocks).
    Blocked,
    /// [`Network::quota`] (a member's own; names nobody else).
    Quota,
    /// [`Network::relationships`].
    Relationships,
    /// [`Network::rows`].
    Rows,
    /// [`Network::people_you_may_know_page`].
    PeopleYouMayKnowPage,
}

#[cfg(feature = "testing")]
impl ReadQuery {
    /// All of them.
    pub const ALL: [ReadQuery; 22] = [
        Self::Degree,
        Self::Mutuals,
        Self::MutualCount,
        Self::SecondDegreeCount,
        Self::HowConnected,
        Self::Connections,
        Self::WithView,
        Self::Inbox,
        Self::Held,
        Self::Sent,
        Self::Invitation,
        Self::Standing,
        Self::PeopleYouMayKnow,
        Self::Search,
        Self::CompanyPeople,
        Self::Member,
        Self::InvitationCounts,
        Self::Blocked,
        Self::Quota,
        Self::Relationships,
        Self::Rows,
        Self::PeopleYouMayKnowPage,
    ];
}
