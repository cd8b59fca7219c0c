//! Members: persons and company pages, their tier, profile and
//! invitation preference.

use crate::email::Email;
use crate::id::MemberId;
use serde::{Deserialize, Serialize};

/// Whether a member is a person or a company page. Only persons connect; a
/// company can be followed but never sends nor receives an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Kind {
    /// A person: connects, invites, is invited.
    Person,
    /// An organisation page: followed, never connected.
    Company,
}

/// A person's account tier: it sets the invitation quota and note allowance
/// Paid levels are numbered by the host, `Premium(0)` being its
/// first paid level; what each level allows is the host's policy.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[non_exhaustive]
pub enum Tier {
    /// The free tier.
    #[default]
    Free,
    /// One of the host's paid levels.
    Premium(u8),
}

/// Who may send this member an invitation. Every choice also requires the
/// ordinary eligibility of a send (a shared connection, a proved address
/// or the recipient in the sender's contacts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum InvitePreference {
    /// Anyone eligible (the default).
    #[default]
    Anyone,
    /// Only people who prove they know one of my email addresses, or have me
    /// in their imported contacts.
    EmailOrContacts,
    /// Only people who have me in their imported contacts.
    ContactsOnly,
}

/// What others can search a member by (search and people you may know). Companies are referred
/// to by the member id of their company page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// The name shown everywhere.
    pub display_name: String,
    /// Headline or current title.
    pub headline: String,
    /// Free-text location.
    pub location: String,
    /// Company pages the member works at now.
    pub current_companies: Vec<MemberId>,
    /// Company pages the member worked at before.
    pub past_companies: Vec<MemberId>,
    /// Schools attended.
    pub schools: Vec<String>,
    /// Skills listed.
    pub skills: Vec<String>,
}

impl Profile {
    /// A profile with only a display name.
    #[must_use]
    pub fn named(display_name: impl Into<String>) -> Self {
        Self {
            display_name: display_name.into(),
            ..Self::default()
        }
    }
}

/// A member-supplied part of a [`Member`] that has a size limit (every
/// member-supplied field has one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ProfileField {
    /// [`Profile::display_name`], in characters.
    DisplayName,
    /// [`Profile::headline`], in characters.
    Headline,
    /// [`Profile::location`], in characters.
    Location,
    /// [`Profile::current_companies`], in entries.
    CurrentCompanies,
    /// [`Profile::past_companies`], in entries.
    PastCompanies,
    /// [`Profile::schools`], in entries.
    Schools,
    /// One entry of [`Profile::schools`], in characters.
    School,
    /// [`Profile::skills`], in entries.
    Skills,
    /// One entry of [`Profile::skills`], in characters.
    Skill,
    /// [`Member::emails`], in entries.
    Emails,
}

impl std::fmt::Display for ProfileField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::DisplayName => "display name",
            Self::Headline => "headline",
            Self::Location => "location",
            Self::CurrentCompanies => "current companies",
            Self::PastCompanies => "past companies",
            Self::Schools => "schools",
            Self::School => "a school",
            Self::Skills => "skills",
            Self::Skill => "a skill",
            Self::Emails => "email addresses",
        })
    }
}

/// The size limits of a member's profile, checked when a member
/// registers and on every update, so that no member can make the work of
/// storing, indexing or searching their profile grow without bound. Text is
/// counted in characters (Unicode scalar values), lists in entries. The
/// defaults follow what professional networks allow:
///
/// | limit | default |
/// |---|---|
/// | display name | 100 characters |
/// | headline | 220 characters |
/// | location | 100 characters |
/// | current companies | 20 entries |
/// | past companies | 100 entries |
/// | schools | 50 entries of at most 100 characters |
/// | skills | 100 entries of at most 80 characters |
/// | email addresses | 10 |
///
/// Each must be 1 to [`ProfileLimits::CEILING`]; the
/// [`PolicyBuilder`](crate::policy::PolicyBuilder) refuses anything else.
///
/// It deserializes (in a [`PolicyConfig`](crate::PolicyConfig)) with every
/// limit optional, an absent one keeping its default; the builder checks
/// the ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ProfileLimits {
    /// Characters of the display name (default 100).
    pub display_name_chars: u32,
    /// Characters of the headline (default 220).
    pub headline_chars: u32,
    /// Characters of the location (default 100).
    pub location_chars: u32,
    /// Current company pages (default 20).
    pub current_companies: u32,
    /// Past company pages (default 100).
    pub past_companies: u32,
    /// Schools (default 50).
    pub schools: u32,
    /// Characters of one school (default 100).
    pub school_chars: u32,
    /// Skills (default 100).
    pub skills: u32,
    /// Characters of one skill (default 80).
    pub skill_chars: u32,
    /// Email addresses (default 10).
    pub emails: u32,
}

impl Default for ProfileLimits {
    fn default() -> Self {
        Self {
            display_name_chars: 100,
            headline_chars: 220,
            location_chars: 100,
            current_companies: 20,
            past_companies: 100,
            schools: 50,
            school_chars: 100,
            skills: 100,
            skill_chars: 80,
            emails: 10,
        }
    }
}

impl ProfileLimits {
    /// The largest value any limit may take.
    pub const CEILING: u32 = 100_000;

    /// Every limit with its field, for validation and documentation.
    #[must_use]
    pub fn all(&self) -> [(ProfileField, u32); 10] {
        [
            (ProfileField::DisplayName, self.display_name_chars),
            (ProfileField::Headline, self.headline_chars),
            (ProfileField::Location, self.location_chars),
            (ProfileField::CurrentCompanies, self.current_companies),
            (ProfileField::PastCompanies, self.past_companies),
            (ProfileField::Schools, self.schools),
            (ProfileField::School, self.school_chars),
            (ProfileField::Skills, self.skills),
            (ProfileField::Skill, self.skill_chars),
            (ProfileField::Emails, self.emails),
        ]
    }

    /// Whether every limit lies in 1 to [`CEILING`](Self::CEILING).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.all()
            .iter()
            .all(|(_, v)| (1..=Self::CEILING).contains(v))
    }
}

/// Whether `value` has at most `limit` characters, reading at most
/// `limit + 1` of them.
fn within_chars(value: &str, limit: u32) -> bool {
    let limit = limit as usize;
    // A character takes at least one byte.
    value.len() <= limit || value.chars().nth(limit).is_none()
}

/// One of a member's email addresses. Proving it when sending an
/// invitation makes the sender eligible whatever
/// its discoverability; discoverability only governs whether others may find
/// the member by it (contact matching).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemberEmail {
    /// The address.
    pub email: Email,
    /// Whether others may find the member by it.
    pub discoverable: bool,
}

/// Who an email address belongs to: each canonical address belongs to at
/// most one member, so that proving or importing an address finds exactly
/// one person. Released when its owner drops it: the record is deleted
/// (records written by earlier versions may say `member: None`, which
/// means the same).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmailOwner {
    /// The address, as its owner wrote it.
    pub email: Email,
    /// Its owner, if any.
    pub member: Option<MemberId>,
}

/// A member of the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Member {
    /// The host's id for this member.
    pub id: MemberId,
    /// Person or company page.
    pub kind: Kind,
    /// Account tier; meaningful for persons only.
    pub tier: Tier,
    /// Discovery profile.
    pub profile: Profile,
    /// The member's email addresses.
    pub emails: Vec<MemberEmail>,
    /// Who may invite this member.
    pub invite_preference: InvitePreference,
    /// A deactivated member appears nowhere, and every operation addressed to
    /// them fails as if they did not exist.
    pub active: bool,
}

impl Member {
    /// An active person on the free tier with the default preference.
    #[must_use]
    pub fn person(id: MemberId, profile: Profile) -> Self {
        Self {
            id,
            kind: Kind::Person,
            tier: Tier::Free,
            profile,
            emails: Vec::new(),
            invite_preference: InvitePreference::Anyone,
            active: true,
        }
    }

    /// An active company page.
    #[must_use]
    pub fn company(id: MemberId, profile: Profile) -> Self {
        Self {
            kind: Kind::Company,
            ..Self::person(id, profile)
        }
    }

    /// The same member on another tier.
    #[must_use]
    pub fn with_tier(self, tier: Tier) -> Self {
        Self { tier, ..self }
    }

    /// The same member with another invitation preference.
    #[must_use]
    pub fn with_invite_preference(self, invite_preference: InvitePreference) -> Self {
        Self {
            invite_preference,
            ..self
        }
    }

    /// The same member with one more email address.
    #[must_use]
    pub fn with_email(mut self, email: Email, discoverable: bool) -> Self {
        self.emails.push(MemberEmail {
            email,
            discoverable,
        });
        self
    }

    /// Adds an email address, in place: for an edit in
    /// [`Network::update_member`](crate::Network::update_member).
    pub fn add_email(&mut self, email: Email, discoverable: bool) {
        self.emails.push(MemberEmail {
            email,
            discoverable,
        });
    }

    /// Whether this member is an active person, the only kind that connects.
    #[must_use]
    pub fn is_active_person(&self) -> bool {
        self.active && self.kind == Kind::Person
    }
}

pub mod decide;
