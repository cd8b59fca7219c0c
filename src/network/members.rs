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
    }

    /// Replaces a member's profile, tier, emails and invitation preference.
    ///
    /// # Errors
    /// [`Refusal::ProfileTooLarge`](crate::Refusal::ProfileTooLarge) past the policy's
    /// [`profile_limits`](crate::Policy::profile_limits);
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember); store failures.
    ///
    /// Like [`register`](Self::register), an update that changes something
    /// is followed by delivering the invitations to join waiting for the
    /// member's discoverable addresses (an address just added or just made
    /// discoverable).
    pub fn update_member(&self, member: Member) -> Result<Committed<()>, Error> {
        let id = member.id;
        let limits = self.policy.profile_limits();
        limits.check(&member)?;
        let mut done = self.run(|_| {
            let existing = self.load::<Member>(Key::Member(member.id))?;
            let owners = self.owners(existing.iter().map(|e| &e.value).chain([&member]))?;
            let facts = MemberFacts { existing, owners };
            Ok(member::decide::update(member.clone(), &facts, limits)?)
        })?;
        self.follow_up_joins(id, &mut done.events);
        Ok(done)
    }

    /// Deactivates a member: they appear nowhere from now on.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`](crate::Refusal::UnknownMember); store failures.
    pub fn deactivate(&self, id: MemberId) -> Result<Committed<()>, Error> {
        self.run(|_| {
            let facts = MemberFacts {
                existing: self.load(Key::Member(id))?,
                owners: Owners::new(),
            };
            Ok(member::decide::deactivate(id, &facts)?)
        })
    }
}
