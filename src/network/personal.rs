//! Personal data: erasing a member, exporting what is held about one, and
//! erasing the notes of closed invitations once the policy's retention has
//! passed. The rules are in `crate::privacy`; this walks the store and
//! commits.

use super::{FEED_PAGE, Network};
use crate::block::{Block, Report};
use crate::change::{ChangeSet, Decision, Write};
use crate::contacts::{Contact, Invitee};
use crate::discovery::{Dismissals, Follows, Memberships};
use crate::email::Email;
use crate::error::{Error, Refusal};
use crate::id::{GroupId, InvitationId, MemberId};
use crate::member::{EmailOwner, Member};
use crate::network::InvitationView;
use crate::privacy::{self, Scrub};
use crate::record::{Key, Record};
use crate::standing::Standing;
use crate::store::{ChangeCursor, Role, Store};
use crate::time::{Clock, Timestamp};
use std::collections::BTreeSet;
use std::sync::PoisonError;

/// Everything pronet holds about one member that the member may read, as
/// [`Network::export`] answers it; its JSON form is its
/// [`to_wire`](crate::wire::ToWire::to_wire) (see [`crate::wire`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Export {
    /// The member's record: profile, addresses, tier, preference.
    pub member: Member,
    /// Their connections they may see, each with the instant it was made.
    pub connections: Vec<(MemberId, Timestamp)>,
    /// The invitations they sent, as they see them (their notes, and the
    /// decline notes given to them).
    pub sent: Vec<InvitationView>,
    /// The invitations they received, as they see them.
    pub received: Vec<InvitationView>,
    /// Their invitations to join: id, the address as they wrote it, when.
    pub join_invitations: Vec<(InvitationId, Email, Timestamp)>,
    /// The contacts they imported.
    pub contacts: Vec<Contact>,
    /// The company pages they follow.
    pub follows: Vec<MemberId>,
    /// The groups they belong to.
    pub groups: Vec<GroupId>,
    /// The suggestions they dismissed, with when.
    pub dismissed: Vec<(MemberId, Timestamp)>,
    /// The blocks they made that stand.
    pub blocks: Vec<Block>,
    /// The reports they made.
    pub reports: Vec<Report>,
    /// Their standing as a sender, with its reasons.
    pub standing: Standing,
}

/// What one call of [`Network::apply_retention`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retained {
    /// Invitations whose notes it erased.
    pub erased: usize,
    /// Whether records remain to look at: call again. `false` once a pass
    /// reached the end of the store (the next call starts a new pass).
    pub more: bool,
}

impl<S: Store, C: Clock> Network<S, C> {
    /// Erases `member`'s personal data for good, and answers how many
    /// records it rewrote or deleted.
    ///
    /// First, in one change set, the member record becomes an erased
    /// marker (the id and kind, inactive, no profile, no address), the
    /// owners and invitee records of their addresses are deleted (with any
    /// opt-out: the address's holder asked for erasure), and the outbox's
    /// pending events lose their notes and the events naming their
    /// addresses. From that commit on the member is unusable: every
    /// operation naming them is refused as for an unknown member, and
    /// registering the id again is refused with
    /// [`Refusal::MemberExists`] (ids never come back to life).
    ///
    /// Then every other record naming the member is rewritten or deleted,
    /// each on its own, atomically, against the version read: the notes of
    /// every invitation they sent or received, the contacts they imported,
    /// their follows, groups, dismissals (and others' dismissals and
    /// follows of them), their blocks, the reports they made (the target's
    /// count stays). Connections and open invitations end as for a
    /// deactivation, silently: no event is emitted.
    ///
    /// What stays holds no personal data: pair states (connection dates,
    /// and the bars that protect the other party), ledgers (quota
    /// counters, a target's report count), others' blocks and reports of
    /// them, invitations without notes. An address of theirs that *another*
    /// member imported stays in that member's contacts: it is the
    /// importer's data, and stays exactly as if the member had never
    /// joined. To every other member the erased member is then
    /// indistinguishable from one who never existed.
    ///
    /// The second step reads the whole store through its change feed (an
    /// operator's tool, not a request handler's). If it fails, the member is
    /// already unusable; calling `erase` again resumes it (erasing again
    /// changes nothing more).
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`] for an id never registered; store
    /// failures; [`Error::Contended`] when other writers keep changing a
    /// record it rewrites.
    pub fn erase(&self, member: MemberId) -> Result<usize, Error> {
        super::trace::member("erase", member).within(|| {
            let first = self.run(|_| self.decide_erasure(member))?;
            let (addresses, mut done) = first.outcome;
            self.each_record(|record| {
                if privacy::scrub(record, member, &addresses) != Scrub::Keep {
                    let key = record.key();
                    done +=
                        usize::from(self.rewrite(&key, |r| privacy::scrub(r, member, &addresses))?);
                }
                Ok(())
            })?;
            Ok(done)
        })
    }

    /// The first, atomic step of [`erase`](Self::erase): the marker, the
    /// addresses' records, the outbox. Answers the member's canonical
    /// addresses (none once erased) and how many records it changes.
    fn decide_erasure(
        &self,
        member: MemberId,
    ) -> Result<Decision<(BTreeSet<String>, usize)>, Error> {
        let read = self
            .load::<Member>(Key::Member(member))?
            .ok_or(Refusal::UnknownMember(member))?;
        let addresses: BTreeSet<String> = read
            .value
            .emails
            .iter()
            .map(|e| e.email.canonical().to_owned())
            .collect();
        let mut changes = ChangeSet::default();
        if !privacy::is_erased(&read.value) {
            changes.write(Some(&read), Record::Member(privacy::erased(&read.value)));
        }
        for address in &addresses {
            let owner = Key::EmailOwner(address.clone());
            if let Some(o) = self.load::<EmailOwner>(owner.clone())? {
                if o.value.member == Some(member) {
                    changes.delete(&o, owner);
                }
            }
            let invitee = Key::Invitee(address.clone());
            if let Some(i) = self.load::<Invitee>(invitee.clone())? {
                changes.delete(&i, invitee);
            }
        }
        let mut after = ChangeCursor::START;
        loop {
            let page = self.store.outbox(after, FEED_PAGE)?;
            for (position, outbox) in &page {
                after = after.max(*position);
                let record = Record::Outbox(outbox.clone());
                if privacy::scrub(&record, member, &addresses) == Scrub::Keep {
                    continue;
                }
                let key = record.key();
                let Some(stored) = self.store.get(&key)? else {
                    continue;
                };
                match privacy::scrub(&stored.value, member, &addresses) {
                    Scrub::Keep => {}
                    Scrub::Put(new) => changes.write(Some(&stored), *new),
                    Scrub::Delete => changes.delete(&stored, key),
                }
            }
            if page.len() < FEED_PAGE {
                break;
            }
        }
        let count = changes.writes.len();
        Ok(Decision::new(changes, (addresses, count)))
    }

    /// Rewrites (or deletes) the record under `key` as `scrub` says of
    /// the version read: answers whether it changed it.
    fn rewrite(&self, key: &Key, scrub: impl Fn(&Record) -> Scrub) -> Result<bool, Error> {
        self.rewrite_one(key, |read| match scrub(&read.value) {
            Scrub::Keep => None,
            Scrub::Put(record) => Some(Write::replacing(Some(&read), *record)),
            Scrub::Delete => Some(Write::deleting(&read, key.clone())),
        })
    }

    /// Everything pronet holds about `member` that they may read (see
    /// [`Export`]): their record, connections with their dates, the
    /// invitations they sent and received as they see them (their own
    /// notes, and notes written to them; never anyone's note to a third
    /// party, and an ignored invitation they sent reads as pending, as in
    /// their sent list), their invitations to join, imported contacts,
    /// follows, groups, dismissals, the blocks and reports they made, and
    /// their standing with its reasons. Nothing about what others did that
    /// they could not already read: no one else's blocks, ignores or
    /// reports, and no member hidden from them.
    ///
    /// It reads the whole store through its change feed (an operator's
    /// tool, not a request handler's).
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`] for an unknown, deactivated or erased
    /// member (they appear nowhere, to themselves included); store
    /// failures.
    pub fn export(&self, member: MemberId) -> Result<Export, Error> {
        super::trace::member("export", member).within(|| {
            self.fresh()?;
            let record = self.active_member(member)?;
            let sight = self.sight(member)?;
            let mut export = Export {
                member: record,
                connections: Vec::new(),
                sent: Vec::new(),
                received: Vec::new(),
                join_invitations: Vec::new(),
                contacts: self.store.contacts(member)?,
                follows: Vec::new(),
                groups: Vec::new(),
                dismissed: Vec::new(),
                blocks: self.store.blocks(member, Role::Sender)?,
                reports: Vec::new(),
                standing: self.standing(member)?,
            };
            let mut invitations = BTreeSet::new();
            self.each_record(|record| {
                match record {
                    Record::Invitation(i) if i.sender == member || i.recipient == member => {
                        invitations.insert(i.id);
                    }
                    Record::Pair(p) if p.key.low() == member || p.key.high() == member => {
                        let other = if p.key.low() == member {
                            p.key.high()
                        } else {
                            p.key.low()
                        };
                        if let Some(since) = p.connected_since {
                            if sight.sees(other, &self.graph()) {
                                export.connections.push((other, since));
                            }
                        }
                    }
                    Record::Invitee(i) => export.join_invitations.extend(
                        i.invitations
                            .iter()
                            .filter(|j| j.sender == member)
                            .map(|j| (j.id, j.email.clone(), j.sent_at)),
                    ),
                    Record::Report(r) if r.reporter == member => export.reports.push(r.clone()),
                    _ => {}
                }
                Ok(())
            })?;
            for id in invitations {
                // What the member can read of it, exactly as `invitation`
                // answers them; hidden ones are left out.
                if let Ok(view) = self.invitation(member, id) {
                    if view.sender == member {
                        export.sent.push(view);
                    } else {
                        export.received.push(view);
                    }
                }
            }
            if let Some(f) = self.load::<Follows>(Key::Follows(member))? {
                export.follows = f.value.companies.into_iter().collect();
            }
            if let Some(g) = self.load::<Memberships>(Key::Groups(member))? {
                export.groups = g.value.groups.into_iter().collect();
            }
            if let Some(d) = self.load::<Dismissals>(Key::Dismissed(member))? {
                let graph = self.graph();
                export.dismissed = d
                    .value
                    .dismissed
                    .into_iter()
                    .filter(|(other, _)| sight.sees(*other, &graph))
                    .collect();
            }
            export.connections.sort();
            export.join_invitations.sort_by_key(|j| j.0);
            export
                .contacts
                .sort_by(|a, b| a.email.canonical().cmp(b.email.canonical()));
            export.blocks.sort_by_key(|b| b.target);
            export.reports.sort_by_key(|r| r.target);
            Ok(export)
        })
    }

    /// Erases the notes of closed invitations past the policy's
    /// [`note_retention`](crate::Policy::note_retention) (counted from when
    /// the invitation closed, or expired while open), by the network's
    /// clock. pronet runs no thread of its own: the host calls this
    /// periodically. Each call looks at no more than `limit` records of the
    /// store, each rewritten on its own against the version read, and
    /// continues where the previous call of this network stopped; a pass
    /// that reaches the end of the store answers `more: false`, and the
    /// next call starts a new pass. Running it on several instances, or
    /// again after a failure, is harmless.
    ///
    /// # Errors
    /// Store failures; [`Error::Contended`] when other writers keep
    /// changing an invitation it rewrites.
    pub fn apply_retention(&self, limit: usize) -> Result<Retained, Error> {
        super::trace::op("apply_retention").within(|| {
            let now = self.now();
            let mut cursor = self
                .retention
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let page = self.store.changes_since(*cursor, limit)?;
            let mut erased = 0;
            for record in page.changes.iter().filter_map(|c| c.value.record()) {
                let Record::Invitation(invitation) = record else {
                    continue;
                };
                if privacy::notes_expired(invitation, &self.policy, now).is_some() {
                    let key = record.key();
                    let rewrote = self.rewrite(&key, |r| match r {
                        Record::Invitation(i) => privacy::notes_expired(i, &self.policy, now)
                            .map_or(Scrub::Keep, |i| Scrub::Put(Box::new(Record::Invitation(i)))),
                        _ => Scrub::Keep,
                    })?;
                    erased += usize::from(rewrote);
                }
            }
            let more = limit > 0 && page.changes.len() >= limit && page.cursor > *cursor;
            *cursor = if more {
                page.cursor
            } else {
                ChangeCursor::START
            };
            Ok(Retained { erased, more })
        })
    }
}
