//! The invitation lists' one filter, their counts, and the recipient's
//! unseen count with its mark.

use super::{Committed, ListCursor, Network, Sight};
use crate::change::{ChangeSet, Decision};
use crate::error::Error;
use crate::id::MemberId;
use crate::invitation::{InboxMark, Invitation, Seen};
use crate::record::{Key, Record};
use crate::store::{Gather, Role, Store};
use crate::time::Clock;
use serde::{Deserialize, Serialize};

/// One of a member's invitation lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum List {
    /// Received, delivered and pending.
    Inbox,
    /// Received and held back by the recipient's "who may invite me"
    /// setting.
    Held,
    /// Sent and pending as the sender sees it.
    Sent,
}

/// The lengths of a member's invitation lists, and how many inbox
/// invitations they have not marked seen, for the member themself.
///
/// Each count is the length of the list it names, as read at the same
/// moment (the same filter decides both): an invitation leaves the count
/// exactly when it leaves the list, whether answered, withdrawn, replaced,
/// cancelled by a block or expired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvitationCounts {
    /// The length of [`inbox`](Network::inbox).
    pub inbox: usize,
    /// The length of [`held`](Network::held).
    pub held: usize,
    /// The length of [`sent`](Network::sent) (ignored invitations
    /// included: they look pending to their sender).
    pub sent: usize,
    /// The inbox invitations not yet marked seen
    /// ([`mark_seen`](Network::mark_seen)): the bell icon's number.
    pub unseen: usize,
}

impl<S: Store, C: Clock> Network<S, C> {
    /// The invitations of one of `owner`'s lists, as the owner may see
    /// them, in no order: the one filter behind each list, its page and its
    /// count. Leaves out invitations whose other party is hidden from the
    /// owner (a block either way, deactivated).
    pub(super) fn listing(
        &self,
        owner: MemberId,
        list: List,
    ) -> Result<(Sight, Vec<(MemberId, Invitation)>), Error> {
        self.fresh()?;
        let role = match list {
            List::Inbox | List::Held => Role::Recipient,
            List::Sent => Role::Sender,
        };
        let (sight, gathered) = self.sight_gathering(
            owner,
            Gather {
                open_invitations: Some((owner, role)),
                ..Gather::default()
            },
        )?;
        let now = self.now();
        let keep = |inv: &Invitation| match list {
            List::Inbox => inv.seen_by_recipient(&self.policy, now) == Some(Seen::Pending),
            List::Held => inv.seen_by_recipient(&self.policy, now) == Some(Seen::Held),
            List::Sent => inv.seen_by_sender(&self.policy, now) == Seen::Pending,
        };
        let items: Vec<(MemberId, Invitation)> = gathered
            .open_invitations
            .into_iter()
            .filter(keep)
            .map(|inv| match list {
                List::Sent => (inv.recipient, inv),
                List::Inbox | List::Held => (inv.sender, inv),
            })
            .collect();
        let graph = self.graph();
        let items = items
            .into_iter()
            .filter(|(other, _)| sight.sees(*other, &graph))
            .collect();
        drop(graph);
        Ok((sight, items))
    }

    /// The lengths of `member`'s inbox, held and sent lists and their
    /// unseen count, for `member` alone (each list is theirs).
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp, Email};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// # let [ana, bo] = [1, 2].map(MemberId::new);
    /// # let bo_email = Email::parse("bo@example.com")?;
    /// # net.register(Member::person(ana, Profile::named("Ana")))?;
    /// # net.register(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
    /// net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?;
    /// let counts = net.invitation_counts(bo)?;
    /// assert_eq!((counts.inbox, counts.unseen), (1, 1));
    /// net.mark_seen(bo, None)?;
    /// assert_eq!(net.invitation_counts(bo)?.unseen, 0);
    /// assert_eq!(net.invitation_counts(ana)?.sent, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for an
    /// unknown or deactivated member; store failures.
    pub fn invitation_counts(&self, member: MemberId) -> Result<InvitationCounts, Error> {
        super::trace::member("invitation_counts", member).within(|| {
            let (_, inbox) = self.listing(member, List::Inbox)?;
            let (_, held) = self.listing(member, List::Held)?;
            let (_, sent) = self.listing(member, List::Sent)?;
            let mark = self.load::<InboxMark>(Key::InboxMark(member))?;
            let unseen = inbox
                .iter()
                .filter(|(_, inv)| {
                    !mark
                        .as_ref()
                        .is_some_and(|m| m.value.covers(inv.sent_at, inv.id))
                })
                .count();
            Ok(InvitationCounts {
                inbox: inbox.len(),
                held: held.len(),
                sent: sent.len(),
                unseen,
            })
        })
    }

    /// `recipient` marks their inbox seen up to `up_to` (a cursor of an
    /// inbox row, [`ListCursor::from`] a [`Listed`](super::Listed)), or
    /// all of it with `None`: every invitation in the inbox at or before
    /// that row (newest first) stops counting as unseen. The mark moves to
    /// the newest such invitation and never back, so an invitation that
    /// arrives later counts as unseen whatever cursor was given.
    ///
    /// Private to the recipient: nothing else is written and no event is
    /// committed, so the sender learns nothing, from any answer or event,
    /// about whether the invitation was opened.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for an
    /// unknown or deactivated member; store failures; contention.
    pub fn mark_seen(
        &self,
        recipient: MemberId,
        up_to: Option<ListCursor>,
    ) -> Result<Committed<()>, Error> {
        let _op = super::trace::member("mark_seen", recipient);
        self.run(|_| {
            let (_, inbox) = self.listing(recipient, List::Inbox)?;
            let newest = inbox
                .iter()
                .map(|(_, inv)| ListCursor::of(inv))
                .filter(|c| up_to.is_none_or(|u| *c <= u))
                .max();
            let Some(newest) = newest else {
                return Ok(Decision::unchanged(()));
            };
            let read = self.load::<InboxMark>(Key::InboxMark(recipient))?;
            if read
                .as_ref()
                .is_some_and(|m| m.value.covers(newest.sent_at, newest.invitation))
            {
                return Ok(Decision::unchanged(()));
            }
            let mut changes = ChangeSet::default();
            changes.write(
                read.as_ref(),
                Record::InboxMark(InboxMark::new(recipient, newest.sent_at, newest.invitation)),
            );
            Ok(Decision::new(changes, ()))
        })
    }
}
