//! Operations on contacts: address books, invitations to join, opt-outs
//! and their delivery when the invitee joins.

use super::{Committed, Network, Sight};
use crate::change::Decision;
use crate::contacts::decide::{Found, ImportFacts};
use crate::contacts::join::InviteOutcome;
use crate::contacts::join::{self, JoinFacts};
use crate::contacts::{self, Format, ImportReport};
use crate::contacts::{Invitee, JoinState};
use crate::email::Email;
use crate::error::Error;
use crate::event::Event;
use crate::graph::Degree;
use crate::id::{InvitationId, MemberId};
use crate::invitation::Ledger;
use crate::member::{EmailOwner, Member};
use crate::record::Key;
use crate::store::Store;
use crate::time::Clock;
use std::collections::BTreeSet;

impl<S: Store, C: Clock> Network<S, C> {
    /// Adds addresses to `owner`'s imported contacts; addresses already there
    /// change nothing. Answers how many were new.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember); store failures.
    pub fn add_contacts(
        &self,
        owner: MemberId,
        emails: &[Email],
    ) -> Result<Committed<usize>, Error> {
        let _op = super::trace::member("add_contacts", owner);
        self.run(|now| {
            self.active_member(owner)?;
            let mut existing = BTreeSet::new();
            for email in emails {
                let canonical = email.canonical().to_owned();
                if self
                    .store
                    .get(&Key::Contact(owner, canonical.clone()))?
                    .is_some()
                {
                    existing.insert(canonical);
                }
            }
            Ok(contacts::decide::add(
                owner,
                emails.iter().map(|e| (e, None)),
                &existing,
                now,
            )?)
        })
    }

    /// Imports an address book into `owner`'s contacts and reports
    /// what it holds: the addresses of members the owner may find by them,
    /// with their degree, every other address, and the rows that gave no
    /// address, with their lines and reasons.
    ///
    /// The file is read by [`contacts::parse`] under the policy's
    /// [`import_limits`](crate::Policy::import_limits). Addresses new to the
    /// address book are added in one atomic change set (at most the row
    /// limit of writes: 50,000 by default), with one
    /// [`Event::ContactsImported`]; importing the same file again writes
    /// nothing and emits nothing (RELIABILITY C3). Contacts make the owner
    /// eligible to invite the members who have those addresses without
    /// shared connections or an email proof.
    ///
    /// Matching follows [`contacts::decide::findable`]: an address of an
    /// undiscoverable member, of a member on either side of a block, or of a
    /// deactivated member is reported exactly like an address nobody has
    /// (RELIABILITY B7).
    ///
    /// ```
    /// use pronet::{Email, ImportFormat, ManualClock, Member, MemberId, MemoryStore, Network};
    /// use pronet::{Policy, Profile, Timestamp};
    ///
    /// let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// let (ana, bo) = (MemberId::new(1), MemberId::new(2));
    /// net.register(Member::person(ana, Profile::named("Ana")))?;
    /// net.register(Member::person(bo, Profile::named("Bo")).with_email(Email::parse("bo@example.com")?, true))?;
    /// let csv = "Name,Email\nBo,BO@example.com\nCy,cy@example.org\nDee,dee-at-example\n";
    /// let report = net.import_contacts(ana, csv.as_bytes(), &ImportFormat::Detect)?.outcome;
    /// assert_eq!((report.added, report.members.len(), report.not_members.len()), (2, 1, 1));
    /// assert_eq!(report.members[0].member, bo);
    /// assert_eq!(report.bad_rows[0].line, 4);
    /// // Importing the same file again adds nothing.
    /// assert_eq!(net.import_contacts(ana, csv.as_bytes(), &ImportFormat::Detect)?.outcome.added, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for an unknown or deactivated owner;
    /// [`Error::Import`] for a file that cannot be read at all (too large,
    /// too many rows, not text, no email column); store failures.
    pub fn import_contacts(
        &self,
        owner: MemberId,
        bytes: &[u8],
        format: &Format,
    ) -> Result<Committed<ImportReport>, Error> {
        super::trace::member("import_contacts", owner).within(|| {
            self.active_member(owner)?;
            let book = contacts::parse(bytes, format, self.policy.import_limits())?;
            self.run(|now| {
                let sight = self.sight(owner)?;
                let existing = self
                    .store
                    .contacts(owner)?
                    .into_iter()
                    .map(|c| c.email.canonical().to_owned())
                    .collect();
                let mut members = Vec::with_capacity(book.entries.len());
                for entry in &book.entries {
                    members.push(self.findable(owner, &sight, entry.email.canonical())?);
                }
                let degrees: Vec<Option<Degree>> = {
                    let graph = self.graph();
                    let view = sight.view(&graph);
                    let hood = view.neighbourhood(owner)?;
                    let degree = |m| hood.degree(m).unwrap_or(Degree::OutOfNetwork);
                    members.iter().map(|m| m.map(degree)).collect()
                };
                let mut found = Vec::with_capacity(book.entries.len());
                for ((entry, member), degree) in book.entries.iter().zip(members).zip(degrees) {
                    found.push(match (member, degree) {
                        (Some(member), Some(degree)) => Found::Member(member, degree),
                        _ => Found::NotMember {
                            invited: self
                                .load::<Invitee>(Key::Invitee(entry.email.canonical().to_owned()))?
                                .is_some_and(|i| {
                                    i.value.invitations.iter().any(|j| j.sender == owner)
                                }),
                        },
                    });
                }
                let facts = ImportFacts { existing, found };
                Ok(contacts::decide::import(owner, &book, &facts, now)?)
            })
        })
    }

    /// `sender` invites the person at `email`, who is not a member they can
    /// find, to join the network by email.
    ///
    /// If the address belongs to a member the sender may find by it
    /// ([`contacts::decide::findable`], the rule of the import report), an ordinary
    /// invitation is sent instead, with the address as proof, and answered
    /// as [`InviteOutcome::Member`]. Otherwise an invitation to join is
    /// recorded, counted in the sender's quota, and answered as
    /// [`InviteOutcome::Invited`] with an [`Event::JoinInvitationSent`] for
    /// the sender; the host emails the address when an
    /// [`Event::JoinInvitationReceived`] comes in the answer's [`mail`](Committed::mail), never shown to the sender. See
    /// [`contacts::join`] for the rules and why the sender's answer is the
    /// same whoever has the address.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember), [`Refusal::NotAPerson`](crate::Refusal::NotAPerson) for the sender;
    /// [`Refusal::NotInvitable`](crate::Refusal::NotInvitable); [`Refusal::Suspended`](crate::Refusal::Suspended);
    /// [`Refusal::QuotaExhausted`](crate::Refusal::QuotaExhausted); for a member's address, the refusals of
    /// [`send`](Self::send); store failures; contention.
    pub fn invite_to_join(
        &self,
        sender: MemberId,
        email: &Email,
    ) -> Result<Committed<InviteOutcome>, Error> {
        self.invite_to_join_as(sender, email, None)
    }

    /// As [`invite_to_join`](Self::invite_to_join), with a note from the
    /// sender, validated and counted as an invitation's note is (the
    /// sender's tier's length, the note quota). The host puts it in the
    /// invitation email ([`Event::JoinInvitationReceived`]'s `note`); once
    /// the address joins, the invitation it becomes carries it. A blank
    /// note is no note.
    ///
    /// # Errors
    /// As [`invite_to_join`](Self::invite_to_join), and
    /// [`Refusal::InvalidNote`](crate::Refusal::InvalidNote),
    /// [`Refusal::NoteQuotaExhausted`](crate::Refusal::NoteQuotaExhausted).
    pub fn invite_to_join_with_note(
        &self,
        sender: MemberId,
        email: &Email,
        note: &str,
    ) -> Result<Committed<InviteOutcome>, Error> {
        self.invite_to_join_as(sender, email, Some(note))
    }

    fn invite_to_join_as(
        &self,
        sender: MemberId,
        email: &Email,
        note: Option<&str>,
    ) -> Result<Committed<InviteOutcome>, Error> {
        super::trace::member("invite_to_join", sender).within(|| {
            // Whom the address names is decided on the index: as current as
            // the store, as every decision.
            self.sync()?;
            let sight = self.sight(sender)?;
            let canonical = email.canonical();
            if let Some(member) = self.findable(sender, &sight, canonical)? {
                let sent = self.send(
                    crate::SendRequest::new(sender, member)
                        .maybe_note(note)
                        .proof(email),
                )?;
                return Ok(Committed {
                    outcome: InviteOutcome::Member {
                        member,
                        sent: sent.outcome,
                    },
                    events: sent.events,
                    mail: sent.mail,
                });
            }
            self.run(|now| {
                let owner = self.load::<EmailOwner>(Key::EmailOwner(canonical.to_owned()))?;
                let facts = JoinFacts {
                    sender: self.load(Key::Member(sender))?,
                    sender_ledger: self.load(Key::Ledger(sender))?,
                    invitee: self.load(Key::Invitee(canonical.to_owned()))?,
                    new_id: self.store.next_invitation_id()?,
                    deliver: owner.is_none_or(|o| o.value.member.is_none()),
                };
                Ok(join::invite(
                    sender,
                    email,
                    note,
                    &facts,
                    &self.policy,
                    now,
                )?)
            })
        })
    }

    /// `sender`'s invitations to join still waiting (not delivered, not
    /// withdrawn, not expired), newest first. Kept apart from
    /// [`sent`](Self::sent), whose rows name a member: these name the
    /// address the sender wrote (their own data). Whether the address
    /// belongs to a member is not shown: an invitation the address's owner
    /// dropped on joining stays listed as waiting until it expires, like
    /// one nobody answered. Once delivered, an invitation is in `sent`,
    /// with the same id.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) unless
    /// `sender` is an active member; store failures.
    pub fn sent_join_invitations(
        &self,
        sender: MemberId,
    ) -> Result<Vec<SentJoinInvitation>, Error> {
        super::trace::member("sent_join_invitations", sender).within(|| {
            self.active_member(sender)?;
            let now = self.now();
            let Some(ledger) = self.load::<Ledger>(Key::Ledger(sender))? else {
                return Ok(Vec::new());
            };
            let mut rows = Vec::new();
            for sent in &ledger.value.joins {
                let key = Key::Invitee(sent.email.canonical().to_owned());
                let Some(invitee) = self.load::<Invitee>(key)? else {
                    continue;
                };
                let waiting = invitee.value.invitations.iter().find(|j| {
                    j.id == sent.invitation
                        && j.sender == sender
                        && matches!(j.state, JoinState::Pending | JoinState::Dropped)
                        && now < self.policy.expires_at(j.sent_at)
                });
                if let Some(j) = waiting {
                    rows.push(SentJoinInvitation {
                        invitation: j.id,
                        email: sent.email.clone(),
                        note: j.note.clone(),
                        sent_at: j.sent_at,
                    });
                }
            }
            rows.sort_by_key(|r| std::cmp::Reverse((r.sent_at, r.invitation)));
            Ok(rows)
        })
    }

    /// Records that the person at `email` wants no invitations to join (the
    /// host calls it from the unsubscribe link of the invitation email):
    /// none is accepted from now on, and none waiting is delivered if they
    /// join. Opting out again changes nothing.
    ///
    /// # Errors
    /// Store failures; contention.
    pub fn opt_out(&self, email: &Email) -> Result<Committed<()>, Error> {
        let _op = super::trace::op("opt_out");
        self.run(|now| {
            let invitee = self.load::<Invitee>(Key::Invitee(email.canonical().to_owned()))?;
            Ok(join::opt_out(email, invitee.as_ref(), now)?)
        })
    }

    /// Turns the invitations to join waiting for `member`'s discoverable
    /// addresses into ordinary invitations, each by the ordinary send
    /// decision with the address as proof; a refusal drops the invitation
    /// to join silently (see [`contacts::join`]). Answers how many became
    /// invitations (or connections).
    ///
    /// [`register`](Self::register) and [`update_member`](Self::update_member)
    /// run it after their commit; a host runs it again if that step failed.
    /// Each invitation is its own atomic change, and running it again only
    /// delivers what is still waiting.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember); store failures; contention.
    pub fn deliver_join_invitations(&self, member: MemberId) -> Result<Committed<usize>, Error> {
        super::trace::member("deliver_join_invitations", member).within(|| {
            let me = self.active_member(member)?;
            let now = self.now();
            let mut events = Vec::new();
            let mut delivered = 0;
            for address in me.emails.iter().filter(|e| e.discoverable) {
                let canonical = address.email.canonical().to_owned();
                let owned = self
                    .load::<EmailOwner>(Key::EmailOwner(canonical.clone()))?
                    .is_some_and(|o| o.value.member == Some(member));
                let Some(invitee) = self.load::<Invitee>(Key::Invitee(canonical.clone()))? else {
                    continue;
                };
                if !owned {
                    continue;
                }
                let waiting: Vec<_> = invitee
                    .value
                    .deliverable(&self.policy, now)
                    .map(|i| (i.id, i.sender))
                    .collect();
                for (id, sender) in waiting {
                    let done = self.deliver_one(member, &address.email, id, sender)?;
                    delivered += usize::from(done.outcome);
                    events.extend(done.events);
                }
            }
            Ok(Committed::new(delivered, events))
        })
    }

    /// Delivers one invitation to join, if still waiting: answers whether it
    /// became an invitation (or a connection).
    pub(super) fn deliver_one(
        &self,
        member: MemberId,
        email: &Email,
        id: InvitationId,
        sender: MemberId,
    ) -> Result<Committed<bool>, Error> {
        let key = Key::Invitee(email.canonical().to_owned());
        self.run(|now| {
            let Some(invitee) = self.load::<Invitee>(key.clone())? else {
                return Ok(Decision::unchanged(false));
            };
            let mut send = self.send_facts(sender, member, now)?;
            send.join = Some(id);
            let req = join::JoinDelivery {
                invitation: id,
                sender,
                recipient: member,
                email,
            };
            let facts = join::DeliverFacts { invitee, send };
            Ok(join::deliver(&req, &facts, &self.policy, now)?)
        })
    }

    /// Runs [`deliver_join_invitations`](Self::deliver_join_invitations)
    /// after a committed registration or update, adding its events. Its
    /// failure leaves the committed change standing (see
    /// [`register`](Self::register)).
    pub(super) fn follow_up_joins(&self, member: MemberId, events: &mut Vec<Event>) {
        if let Ok(delivered) = self.deliver_join_invitations(member) {
            events.extend(delivered.events);
        }
    }

    /// The member `viewer` may be shown for the address `canonical`: the one
    /// place that applies [`contacts::decide::findable`] to stored records.
    pub(super) fn findable(
        &self,
        viewer: MemberId,
        sight: &Sight,
        canonical: &str,
    ) -> Result<Option<MemberId>, Error> {
        let Some(owner) = self.load::<EmailOwner>(Key::EmailOwner(canonical.to_owned()))? else {
            return Ok(None);
        };
        let Some(id) = owner.value.member else {
            return Ok(None);
        };
        let member = self.load::<Member>(Key::Member(id))?;
        Ok(contacts::decide::findable(
            viewer,
            canonical,
            Some(&owner.value),
            member.as_ref().map(|m| &m.value),
            |m| sight.hides(m),
        ))
    }
}

/// One of a sender's invitations to join still waiting, as
/// [`Network::sent_join_invitations`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentJoinInvitation {
    /// Its id (kept by the invitation it becomes when the address joins).
    pub invitation: InvitationId,
    /// The address, as the sender wrote it.
    pub email: Email,
    /// The sender's note.
    pub note: Option<crate::note::Note>,
    /// When it was sent.
    pub sent_at: crate::time::Timestamp,
}
