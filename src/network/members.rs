//! Operations on members: register, update, deactivate.

use super::{Committed, Network};
use crate::error::Error;
use crate::id::MemberId;
use crate::member::decide::{MemberFacts, Owners};
use crate::member::{self, Member};
use crate::record::Key;
use crate::store::Store;
use crate::time::Clock;

impl<S: Store, C: Clock> Network<S, C> {
    /// Registers a member.
    ///
    /// # Errors
    /// [`Refusal::ProfileTooLarge`](crate::Refusal::ProfileTooLarge) past the policy's
    /// [`profile_limits`](crate::Policy::profile_limits);
    /// [`Refusal::MemberExists`](crate::Refusal::MemberExists); store failures.
    ///
    /// Once the member is committed, the invitations to join waiting for
    /// their discoverable addresses become ordinary invitations (see
    /// [`deliver_join_invitations`](Self::deliver_join_invitations)), and
    /// their events are added to the answer's. That second step is not part
    /// of the registration: if it fails, the member is registered all the
    /// same, and the host may run it again.
    pub fn register(&self, member: Member) -> Result<Committed<()>, Error> {
        super::trace::member("register", member.id).within(|| {
            let id = member.id;
            let limits = self.policy.profile_limits();
            // Before any read: an oversized profile costs nothing more.
            limits.check(&member)?;
            let mut done = self.run(|_| {
                let facts = MemberFacts {
                    existing: self.load(Key::Member(member.id))?,
                    owners: self.owners([&member])?,
                };
                Ok(member::decide::register(member.clone(), &facts, limits)?)
            })?;
            self.follow_up_joins(id, &mut done.events);
            Ok(done)
        })
    }

    /// Edits a member: `edit` changes the member as stored now (profile,
    /// tier, email addresses, invitation preference), and what it leaves
    /// alone stays as it is, so that no field is dropped by rebuilding the
    /// member. The id, the kind and whether the member is active cannot
    /// change this way (whatever `edit` does to them is undone). Addresses
    /// removed are released for others to claim.
    ///
    /// `edit` may run more than once (again on the freshly stored member
    /// when another change raced it): make it a pure edit.
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Store, Tier, Timestamp};
    /// # let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// let ana = MemberId::new(1);
    /// let email = pronet::Email::parse("ana@example.com")?;
    /// net.register(Member::person(ana, Profile::named("Ana")).with_email(email, true))?;
    /// net.update_member(ana, |m| m.tier = Tier::Premium(0))?;
    /// // Her email address is still hers.
    /// # let Some(pronet::record::Record::Member(stored)) = net.store().get(&pronet::record::Key::Member(ana))?.map(|v| v.value) else { unreachable!() };
    /// # assert_eq!(stored.emails.len(), 1);
    /// # assert_eq!(stored.tier, Tier::Premium(0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::ProfileTooLarge`](crate::Refusal::ProfileTooLarge) past the policy's
    /// [`profile_limits`](crate::Policy::profile_limits);
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember) for a
    /// member never registered or deactivated;
    /// [`Refusal::EmailInUse`](crate::Refusal::EmailInUse); store failures.
    ///
    /// Like [`register`](Self::register), an update that changes something
    /// is followed by delivering the invitations to join waiting for the
    /// member's discoverable addresses (an address just added or just made
    /// discoverable).
    pub fn update_member(
        &self,
        id: MemberId,
        mut edit: impl FnMut(&mut Member),
    ) -> Result<Committed<()>, Error> {
        let _op = super::trace::member("update_member", id);
        let limits = self.policy.profile_limits();
        let mut done = self.run(|_| {
            let existing = self.load::<Member>(Key::Member(id))?;
            let Some(current) = existing.as_ref().filter(|m| m.value.active) else {
                return Err(crate::Refusal::UnknownMember(id).into());
            };
            let mut edited = current.value.clone();
            edit(&mut edited);
            // What cannot change this way stays as stored.
            edited.id = current.value.id;
            edited.kind = current.value.kind;
            edited.active = true;
            limits.check(&edited)?;
            let owners = self.owners(existing.iter().map(|e| &e.value).chain([&edited]))?;
            let facts = MemberFacts { existing, owners };
            Ok(member::decide::update(edited, &facts, limits)?)
        })?;
        self.follow_up_joins(id, &mut done.events);
        Ok(done)
    }

    /// Deactivates a member: they appear nowhere from now on.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember); store failures.
    pub fn deactivate(&self, id: MemberId) -> Result<Committed<()>, Error> {
        let _op = super::trace::member("deactivate", id);
        self.run(|_| {
            let facts = MemberFacts {
                existing: self.load(Key::Member(id))?,
                owners: Owners::new(),
            };
            Ok(member::decide::deactivate(id, &facts)?)
        })
    }
}
