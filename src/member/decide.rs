//! The pure decisions about members themselves: registration, updates,
//! deactivation, and the profile limits.

use super::{EmailOwner, Kind, Member, ProfileField, ProfileLimits, within_chars};
use crate::change::{ChangeSet, Decision};
use crate::error::Refusal;
use crate::event::Event;
use crate::id::MemberId;
use crate::record::{Key, Record, Versioned};
use std::collections::{BTreeMap, BTreeSet};

/// The stored owners of addresses, by canonical address (absent: never
/// owned).
pub type Owners = BTreeMap<String, Versioned<EmailOwner>>;

/// What a decision about one member reads: their stored record and the
/// stored owners of the addresses concerned (theirs, before and after).
#[derive(Clone, Debug, Default)]
pub struct MemberFacts {
    /// The member's stored record, if any.
    pub existing: Option<Versioned<Member>>,
    /// The owners of the addresses concerned.
    pub owners: Owners,
}

/// The member `id` as its stored record says, if active: the one rule for
/// "this member exists": a deactivated member appears nowhere.
///
/// # Errors
/// [`Refusal::UnknownMember`] for a missing or deactivated member (or a
/// record of another id).
pub fn active(read: Option<&Versioned<Member>>, id: MemberId) -> Result<&Member, Refusal> {
    read.map(|m| &m.value)
        .filter(|m| m.id == id && m.active)
        .ok_or(Refusal::UnknownMember(id))
}

/// The member `id`, if an active person: the only kind that connects,
/// invites, follows and is suggested.
///
/// # Errors
/// [`Refusal::UnknownMember`] as for [`active`]; [`Refusal::NotAPerson`]
/// for an active company page.
pub fn active_person(read: Option<&Versioned<Member>>, id: MemberId) -> Result<&Member, Refusal> {
    let member = active(read, id)?;
    if member.kind == Kind::Person {
        Ok(member)
    } else {
        Err(Refusal::NotAPerson(id))
    }
}

/// Claims `member`'s addresses and releases those of `previous` it no
/// longer has.
///
/// # Errors
/// [`Refusal::EmailInUse`] when another member owns one of them.
fn claim_emails(
    changes: &mut ChangeSet,
    previous: Option<&Member>,
    member: &Member,
    owners: &Owners,
) -> Result<(), Refusal> {
    let keep: BTreeSet<&str> = member.emails.iter().map(|e| e.email.canonical()).collect();
    let mut claimed = BTreeSet::new();
    for e in &member.emails {
        if !claimed.insert(e.email.canonical()) {
            continue; // the same address listed twice
        }
        let owner = owners.get(e.email.canonical());
        match owner.and_then(|o| o.value.member) {
            Some(m) if m == member.id => {}
            Some(_) => return Err(Refusal::EmailInUse(e.email.clone())),
            None => {
                let claim = EmailOwner {
                    email: e.email.clone(),
                    member: Some(member.id),
                };
                changes.write(owner, Record::EmailOwner(claim));
            }
        }
    }
    for e in previous.map_or(&[][..], |p| &p.emails) {
        if keep.contains(e.email.canonical()) {
            continue;
        }
        // Released by deleting the owner record: nothing keeps the
        // address once its owner dropped it (it is personal data).
        if let Some(owner) = owners
            .get(e.email.canonical())
            .filter(|o| o.value.member == Some(member.id))
        {
            changes.delete(owner, Key::EmailOwner(e.email.canonical().to_owned()));
        }
    }
    Ok(())
}

/// Registers a new member, claiming their email addresses.
///
/// # Errors
/// [`Refusal::ProfileTooLarge`] past one of `limits`;
/// [`Refusal::MemberExists`] when the id is taken (even by a deactivated
/// member: ids are never reused); [`Refusal::EmailInUse`].
pub fn register(
    member: Member,
    facts: &MemberFacts,
    limits: &ProfileLimits,
) -> Result<Decision<()>, Refusal> {
    limits.check(&member)?;
    if facts.existing.is_some() {
        return Err(Refusal::MemberExists(member.id));
    }
    let mut changes = ChangeSet::default();
    claim_emails(&mut changes, None, &member, &facts.owners)?;
    changes.emit(Event::MemberRegistered { member: member.id });
    changes.write::<Member>(None, Record::Member(member));
    Ok(changes.into())
}

/// Replaces a member's profile, tier, emails and preference; the id, kind
/// and activity cannot change this way. Addresses dropped are released
/// for others to claim.
///
/// # Errors
/// [`Refusal::ProfileTooLarge`] past one of `limits`;
/// [`Refusal::UnknownMember`] for a missing or deactivated member;
/// [`Refusal::EmailInUse`].
pub fn update(
    member: Member,
    facts: &MemberFacts,
    limits: &ProfileLimits,
) -> Result<Decision<()>, Refusal> {
    limits.check(&member)?;
    let current = facts
        .existing
        .as_ref()
        .filter(|m| m.value.active)
        .ok_or(Refusal::UnknownMember(member.id))?;
    let updated = Member {
        id: current.value.id,
        kind: current.value.kind,
        active: true,
        ..member
    };
    let mut changes = ChangeSet::default();
    if updated != current.value {
        claim_emails(&mut changes, Some(&current.value), &updated, &facts.owners)?;
        changes.write(Some(current), Record::Member(updated));
    }
    Ok(changes.into())
}

/// Deactivates a member: from now on they appear nowhere.
/// Deactivating twice answers the same and changes nothing.
///
/// # Errors
/// [`Refusal::UnknownMember`] for an id never registered.
pub fn deactivate(id: MemberId, facts: &MemberFacts) -> Result<Decision<()>, Refusal> {
    let current = facts.existing.as_ref().ok_or(Refusal::UnknownMember(id))?;
    let mut changes = ChangeSet::default();
    if current.value.active {
        let mut member = current.value.clone();
        member.active = false;
        changes.write(Some(current), Record::Member(member));
        changes.emit(Event::MemberDeactivated { member: id });
    }
    Ok(changes.into())
}

impl ProfileLimits {
    /// Checks `member`'s profile and addresses against the limits, in the
    /// order of [`ProfileField`]; the work is bounded by the limits, not by
    /// the size of what is checked.
    ///
    /// # Errors
    /// [`Refusal::ProfileTooLarge`] naming the first field over its limit.
    pub fn check(&self, member: &Member) -> Result<(), Refusal> {
        let p = &member.profile;
        let text = |field, value: &str, limit: u32| {
            if within_chars(value, limit) {
                Ok(())
            } else {
                Err(Refusal::ProfileTooLarge { field, limit })
            }
        };
        let list = |field, len: usize, limit: u32| {
            if len <= limit as usize {
                Ok(())
            } else {
                Err(Refusal::ProfileTooLarge { field, limit })
            }
        };
        text(
            ProfileField::DisplayName,
            &p.display_name,
            self.display_name_chars,
        )?;
        text(ProfileField::Headline, &p.headline, self.headline_chars)?;
        text(ProfileField::Location, &p.location, self.location_chars)?;
        list(
            ProfileField::CurrentCompanies,
            p.current_companies.len(),
            self.current_companies,
        )?;
        list(
            ProfileField::PastCompanies,
            p.past_companies.len(),
            self.past_companies,
        )?;
        list(ProfileField::Schools, p.schools.len(), self.schools)?;
        for school in &p.schools {
            text(ProfileField::School, school, self.school_chars)?;
        }
        list(ProfileField::Skills, p.skills.len(), self.skills)?;
        for skill in &p.skills {
            text(ProfileField::Skill, skill, self.skill_chars)?;
        }
        list(ProfileField::Emails, member.emails.len(), self.emails)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    //! Given these facts, when this request, then exactly these writes and
    //! events (or this refusal).

    use super::*;
    use crate::email::Email;
    use crate::member::Profile;
    use crate::record::{Key, Version};

    const ANA: MemberId = MemberId::new(1);
    const BO: MemberId = MemberId::new(2);

    fn ana_with(address: &str) -> Member {
        Member::person(ANA, Profile::named("Ana")).with_email(Email::parse(address).unwrap(), true)
    }

    fn keys(changes: &ChangeSet) -> Vec<Key> {
        changes.writes.iter().map(|w| w.key()).collect()
    }

    #[test]
    fn given_a_free_address_when_ana_registers_then_she_and_its_owner_are_written() {
        let changes = register(
            ana_with("Ana@Example.com"),
            &MemberFacts::default(),
            &ProfileLimits::default(),
        )
        .unwrap()
        .changes;
        let mut got = keys(&changes);
        got.sort();
        assert_eq!(
            got,
            vec![Key::Member(ANA), Key::EmailOwner("ana@example.com".into())]
        );
        assert_eq!(
            changes.events,
            vec![Event::MemberRegistered { member: ANA }]
        );
    }

    #[test]
    fn given_bo_owns_the_address_when_ana_registers_with_it_then_email_in_use() {
        let email = Email::parse("shared@example.com").unwrap();
        let owners = Owners::from([(
            email.canonical().to_owned(),
            Versioned {
                version: Version::FIRST,
                value: EmailOwner {
                    email: email.clone(),
                    member: Some(BO),
                },
            },
        )]);
        assert_eq!(
            register(
                ana_with("shared@example.com"),
                &MemberFacts {
                    existing: None,
                    owners
                },
                &ProfileLimits::default()
            ),
            Err(Refusal::EmailInUse(email))
        );
    }

    #[test]
    fn given_ana_exists_when_she_registers_again_then_member_exists_and_nothing_is_written() {
        let existing = Versioned {
            version: Version::FIRST,
            value: ana_with("ana@example.com"),
        };
        assert_eq!(
            register(
                ana_with("ana@example.com"),
                &MemberFacts {
                    existing: Some(existing),
                    owners: Owners::new()
                },
                &ProfileLimits::default()
            ),
            Err(Refusal::MemberExists(ANA))
        );
    }

    #[test]
    fn given_default_limits_when_a_name_is_one_character_too_long_then_profile_too_large() {
        let limits = ProfileLimits::default();
        let name = "x".repeat(101);
        let member = Member::person(ANA, Profile::named(name));
        assert!(matches!(
            register(member, &MemberFacts::default(), &limits),
            Err(Refusal::ProfileTooLarge { limit: 100, .. })
        ));
    }
}
