//! Fact loaders: what each decision reads from the store, and what a
//! viewer may see.

use super::{Fetched, Network};
use crate::block::Block;
use crate::block::decide::{Between, PairFacts};
use crate::error::{Error, Refusal, StoreError};
use crate::graph::{SocialGraph, View};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::decide::{AnswerFacts, SendFacts, outstanding};
use crate::invitation::{Delivery, Invitation, Ledger, PairState};
use crate::member::decide::Owners;
use crate::member::{self, Member};
use crate::record::Key;
use crate::store::{BothWays, Gather, Gathered, Role, Store};
use crate::time::{Clock, Timestamp};
use std::collections::BTreeSet;

impl<S: Store, C: Clock> Network<S, C> {
    /// What `viewer` may see: the one place that applies blocks (and, via
    /// the graph, deactivation) to every read.
    pub(super) fn sight(&self, viewer: MemberId) -> Result<Sight, Error> {
        self.known(viewer)?;
        Ok(Sight::of(&self.store, viewer)?)
    }

    /// [`sight`](Self::sight), and `reads` in the same store call (one
    /// round trip where the store can): the answer's `blocks` went into
    /// the sight.
    pub(super) fn sight_gathering(
        &self,
        viewer: MemberId,
        reads: Gather<'_>,
    ) -> Result<(Sight, Gathered), Error> {
        self.known(viewer)?;
        let mut gathered = self.store.gather(&Gather {
            blocks_both_ways: Some(viewer),
            ..reads
        })?;
        let sight = std::mem::take(&mut gathered.blocks).into();
        Ok((sight, gathered))
    }

    /// Refuses a viewer who is not an active member. Activity is mirrored
    /// in the graph: no member record to clone on every read.
    fn known(&self, viewer: MemberId) -> Result<(), Error> {
        if self.graph().contains(viewer) {
            Ok(())
        } else {
            Err(Refusal::UnknownMember(viewer).into())
        }
    }

    pub(super) fn send_facts(
        &self,
        sender: MemberId,
        recipient: MemberId,
        now: Timestamp,
    ) -> Result<SendFacts, Error> {
        let pair_key = PairKey::new(sender, recipient);
        // The records known by key, in one store call.
        let mut keys = vec![
            Key::Member(recipient),
            Key::Member(sender),
            Key::Block(sender, recipient),
            Key::Block(recipient, sender),
            Key::Ledger(sender),
            Key::Ledger(recipient),
        ];
        keys.extend(pair_key.map(Key::Pair));
        // With them, in the same store call: the blocks around the sender
        // and the sender's open invitations.
        let gathered = self.store.gather(&Gather {
            keys: &keys,
            blocks_both_ways: Some(sender),
            open_invitations: Some((sender, Role::Sender)),
        })?;
        let mut fetched = Fetched::of(keys, gathered.records);
        let pair = match pair_key {
            Some(k) => self.take::<PairState>(&mut fetched, Key::Pair(k))?,
            None => None,
        };
        let open = match pair.as_ref().and_then(|p| p.value.open) {
            Some(id) => self.load::<Invitation>(Key::Invitation(id))?,
            None => None,
        };
        // A dropped open invitation: the one its recipient knows instead.
        let known = match open
            .as_ref()
            .filter(|o| o.value.delivery == Delivery::Dropped)
            .and_then(|o| o.value.recipient_knows)
        {
            Some(id) => self.load::<Invitation>(Key::Invitation(id))?,
            None => None,
        };
        let recipient_member = self.take::<Member>(&mut fetched, Key::Member(recipient))?;
        let mut in_contacts = false;
        if let Some(m) = &recipient_member {
            for e in &m.value.emails {
                let key = Key::Contact(sender, e.email.canonical().to_owned());
                if self.store.get(&key)?.is_some() {
                    in_contacts = true;
                    break;
                }
            }
        }
        let sender_blocks = Between::new(
            self.take::<Block>(&mut fetched, Key::Block(sender, recipient))?
                .as_ref(),
            self.take::<Block>(&mut fetched, Key::Block(recipient, sender))?
                .as_ref(),
        );
        // Shared connections as the sender may see them: a member hidden by
        // a block carries no path. Unknown members share nothing;
        // the decision names them.
        let shared_connections = Sight::from(gathered.blocks)
            .view(&self.graph())
            .mutual_count(sender, recipient)
            .unwrap_or(0);
        // Invitations to members since deactivated are invisible to the
        // sender (not listed, not withdrawable), so they do not count.
        let outstanding = {
            let graph = self.graph();
            let pending = &gathered.open_invitations;
            outstanding(pending, |m| graph.contains(m), &self.policy, now)
        };
        Ok(SendFacts {
            sender: self.take(&mut fetched, Key::Member(sender))?,
            recipient: recipient_member,
            sender_blocks,
            pair,
            open,
            known,
            sender_ledger: self.take::<Ledger>(&mut fetched, Key::Ledger(sender))?,
            recipient_ledger: self.take::<Ledger>(&mut fetched, Key::Ledger(recipient))?,
            shared_connections,
            in_contacts,
            outstanding,
            new_id: self.store.next_invitation_id()?,
            join: None,
        })
    }

    pub(super) fn pair_facts(&self, actor: MemberId, other: MemberId) -> Result<PairFacts, Error> {
        let pair = match PairKey::new(actor, other) {
            Some(k) => self.load::<PairState>(Key::Pair(k))?,
            None => None,
        };
        let open = match pair.as_ref().and_then(|p| p.value.open) {
            Some(id) => self.load::<Invitation>(Key::Invitation(id))?,
            None => None,
        };
        Ok(PairFacts {
            actor: self.load(Key::Member(actor))?,
            other: self.load(Key::Member(other))?,
            mine: self.load(Key::Block(actor, other))?,
            theirs: self.load(Key::Block(other, actor))?,
            tally: self.load(Key::BlockTally(actor))?,
            pair,
            open,
            actor_ledger: self.load(Key::Ledger(actor))?,
            other_ledger: self.load(Key::Ledger(other))?,
            report: self.load(Key::Report(actor, other))?,
        })
    }

    pub(super) fn answer_facts(&self, id: InvitationId) -> Result<AnswerFacts, Error> {
        let Some(invitation) = self.load::<Invitation>(Key::Invitation(id))? else {
            return Ok(AnswerFacts {
                invitation: None,
                sender: None,
                recipient: None,
                sender_blocks: Between::default(),
                report: None,
                pair: None,
                sender_ledger: None,
                recipient_ledger: None,
                replacement: None,
            });
        };
        let (s, r) = (invitation.value.sender, invitation.value.recipient);
        // The records known by key, in one store call.
        let mut keys = vec![
            Key::Member(s),
            Key::Member(r),
            Key::Block(s, r),
            Key::Block(r, s),
            Key::Report(r, s),
            Key::Ledger(s),
            Key::Ledger(r),
        ];
        keys.extend(invitation.value.pair().map(Key::Pair));
        let mut fetched = self.fetch(keys)?;
        let pair = match invitation.value.pair() {
            Some(k) => self.take(&mut fetched, Key::Pair(k))?,
            None => None,
        };
        Ok(AnswerFacts {
            sender: self.take(&mut fetched, Key::Member(s))?,
            recipient: self.take(&mut fetched, Key::Member(r))?,
            sender_blocks: Between::new(
                self.take::<Block>(&mut fetched, Key::Block(s, r))?.as_ref(),
                self.take::<Block>(&mut fetched, Key::Block(r, s))?.as_ref(),
            ),
            report: self.take(&mut fetched, Key::Report(r, s))?,
            pair,
            sender_ledger: self.take(&mut fetched, Key::Ledger(s))?,
            recipient_ledger: self.take(&mut fetched, Key::Ledger(r))?,
            replacement: match invitation.value.replaced_by {
                Some(by) => self.load(Key::Invitation(by))?,
                None => None,
            },
            invitation: Some(invitation),
        })
    }

    /// The stored owners of every address of `members`.
    pub(super) fn owners<'m>(
        &self,
        members: impl IntoIterator<Item = &'m Member>,
    ) -> Result<Owners, Error> {
        let mut owners = Owners::new();
        for m in members {
            for e in &m.emails {
                let canonical = e.email.canonical().to_owned();
                if let Some(owner) = self.load(Key::EmailOwner(canonical.clone()))? {
                    owners.insert(canonical, owner);
                }
            }
        }
        Ok(owners)
    }

    pub(super) fn active_member(&self, id: MemberId) -> Result<Member, Error> {
        let read = self.load::<Member>(Key::Member(id))?;
        Ok(member::decide::active(read.as_ref(), id)?.clone())
    }

    /// A typed read: the record under `key`, which must be of kind `T`.
    /// The blocks between `a` and `b`, each way.
    pub(super) fn between(&self, a: MemberId, b: MemberId) -> Result<Between, Error> {
        let mine = self.load::<Block>(Key::Block(a, b))?;
        let theirs = self.load::<Block>(Key::Block(b, a))?;
        Ok(Between::new(mine.as_ref(), theirs.as_ref()))
    }
}

/// The sight of the member around whom these blocks stand.
impl From<BothWays> for Sight {
    fn from(both: BothWays) -> Self {
        let made = both.made.into_iter().map(|b| b.target);
        let hidden = made.chain(both.received.into_iter().map(|b| b.blocker));
        Self {
            hidden: hidden.collect(),
        }
    }
}

/// What one viewer may see: every member but those hidden from them by a
/// standing block, either way, and the deactivated (whom the graph leaves
/// out). Every read applies blocks through it and nothing else.
pub(super) struct Sight {
    hidden: BTreeSet<MemberId>,
}

impl Sight {
    /// `member`'s sight: whom they blocked and who blocked them, from the
    /// store's secondary read.
    fn of<S: Store + ?Sized>(store: &S, member: MemberId) -> Result<Self, StoreError> {
        Ok(store.blocks_both_ways(member)?.into())
    }

    /// Whether a block hides `other` from the viewer.
    pub(super) fn hides(&self, other: MemberId) -> bool {
        self.hidden.contains(&other)
    }

    /// Whether the viewer may see `other`: active and not hidden.
    pub(super) fn sees(&self, other: MemberId, graph: &SocialGraph) -> bool {
        !self.hides(other) && graph.contains(other)
    }

    /// The graph as the viewer may see it.
    pub(super) fn view<'g>(&self, graph: &'g SocialGraph) -> View<'g> {
        graph.view(self.hidden.iter().copied())
    }
}
