//! The pure decisions about address books: adding contacts, and which
//! member an address may show to whom.

use super::{Contact, ImportReport, MemberMatch, NonMember, ParsedBook};
use crate::change::{ChangeSet, Decision};
use crate::email::Email;
use crate::error::Refusal;
use crate::event::Event;
use crate::graph::Degree;
use crate::id::MemberId;
use crate::member::{EmailOwner, Member};
use crate::record::Record;
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// The member `viewer` may be shown for an address (no membership
/// oracle: a non-member, an undiscoverable member and a member hidden by a
/// block give the same answer), given the address's stored owner record and that owner's member
/// record, and whether a block hides a member from the viewer (either way).
///
/// Some member only if the address is claimed by an active member (person
/// or company page) who is either the viewer or lists the address as
/// discoverable and is not hidden from the viewer. Every other case answers
/// `None`, the same as an address nobody has.
#[must_use]
pub fn findable(
    viewer: MemberId,
    canonical: &str,
    owner: Option<&EmailOwner>,
    member: Option<&Member>,
    hidden: impl Fn(MemberId) -> bool,
) -> Option<MemberId> {
    let id = owner?.member?;
    let member = member.filter(|m| m.id == id && m.active)?;
    if id == viewer {
        return Some(id);
    }
    let discoverable = member
        .emails
        .iter()
        .any(|e| e.discoverable && e.email.canonical() == canonical);
    (discoverable && !hidden(id)).then_some(id)
}

/// Adds to `owner`'s address book the `emails` (with their names) that are
/// not in `existing` (canonical keys), once each: one [`Contact`] write per
/// new address and, if any, one [`Event::ContactsImported`]. Answers how
/// many were new.
///
/// # Errors
/// None: any address may be added to an address book (the owner was
/// checked when the facts were loaded). The result keeps the one shape of
/// every rule.
pub fn add<'a>(
    owner: MemberId,
    emails: impl IntoIterator<Item = (&'a Email, Option<&'a str>)>,
    existing: &BTreeSet<String>,
    now: Timestamp,
) -> Result<Decision<usize>, Refusal> {
    let mut changes = ChangeSet::default();
    let mut seen = BTreeSet::new();
    for (email, name) in emails {
        let canonical = email.canonical();
        if existing.contains(canonical) || !seen.insert(canonical.to_owned()) {
            continue;
        }
        let contact = Contact::new(owner, email.clone(), now).with_name(name.map(str::to_owned));
        changes.write::<Contact>(None, Record::Contact(contact));
    }
    let added = changes.writes.len();
    if added > 0 {
        changes.emit(Event::ContactsImported { owner, added });
    }
    Ok(Decision::new(changes, added))
}

/// What an import knows about one address of the book, as the shell loaded
/// it for the importer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// A member the importer may find by the address ([`findable`]), at
    /// this degree from the importer.
    Member(MemberId, Degree),
    /// Anyone else (nobody has the address, or its owner may not be found
    /// by it); `invited` when the importer already invited it to join.
    NotMember {
        /// Whether the importer has an invitation to join out to it.
        invited: bool,
    },
}

/// What [`import`] decides from: the owner's stored contacts and, for each
/// entry of the parsed book in order, what the importer may know of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportFacts {
    /// The canonical keys of the contacts the owner already has.
    pub existing: BTreeSet<String>,
    /// One per entry of the book, in the book's order.
    pub found: Vec<Found>,
}

/// `owner` imports a parsed address book: the new addresses are added
/// ([`add`]) and the report says, in file order, which addresses belong to
/// members the owner may find (with their degree) and which do not (with
/// whether the owner already invited them to join). An address whose
/// owner may not be found by it is reported exactly like one nobody has.
///
/// # Errors
/// None today; a `found` that does not cover every entry reports the
/// uncovered entries as non-members never invited (the shell loads one per
/// entry).
pub fn import(
    owner: MemberId,
    book: &ParsedBook,
    facts: &ImportFacts,
    now: Timestamp,
) -> Result<Decision<ImportReport>, Refusal> {
    let entries = book.entries.iter().map(|e| (&e.email, e.name.as_deref()));
    let Decision { changes, outcome } = add(owner, entries, &facts.existing, now)?;
    let mut members = Vec::new();
    let mut not_members = Vec::new();
    let unknown = std::iter::repeat(&Found::NotMember { invited: false });
    for (entry, found) in book.entries.iter().zip(facts.found.iter().chain(unknown)) {
        match *found {
            Found::Member(member, degree) => members.push(MemberMatch {
                line: entry.line,
                email: entry.email.clone(),
                name: entry.name.clone(),
                member,
                degree,
            }),
            Found::NotMember { invited } => not_members.push(NonMember {
                line: entry.line,
                email: entry.email.clone(),
                name: entry.name.clone(),
                invited,
            }),
        }
    }
    let report = ImportReport {
        source: book.source,
        added: outcome,
        members,
        not_members,
        bad_rows: book.bad_rows.clone(),
        duplicates: book.duplicates,
    };
    Ok(Decision::new(changes, report))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    //! Given these facts, when this request, then exactly this answer.

    use super::*;
    use crate::member::Profile;

    const ANA: MemberId = MemberId::new(1);
    const BO: MemberId = MemberId::new(2);
    const T0: Timestamp = Timestamp::from_micros(1_767_225_600_000_000);

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn bo(discoverable: bool) -> Member {
        Member::person(BO, Profile::named("Bo")).with_email(email("bo@example.com"), discoverable)
    }

    fn owner() -> EmailOwner {
        EmailOwner {
            email: email("bo@example.com"),
            member: Some(BO),
        }
    }

    #[test]
    fn given_bo_lets_others_find_him_when_ana_looks_then_she_finds_bo() {
        let found = findable(
            ANA,
            "bo@example.com",
            Some(&owner()),
            Some(&bo(true)),
            |_| false,
        );
        assert_eq!(found, Some(BO));
    }

    #[test]
    fn given_any_reason_bo_is_not_findable_when_ana_looks_then_the_same_as_nobody() {
        let nobody = findable(ANA, "bo@example.com", None, None, |_| false);
        assert_eq!(nobody, None);
        let undiscoverable = findable(
            ANA,
            "bo@example.com",
            Some(&owner()),
            Some(&bo(false)),
            |_| false,
        );
        let hidden = findable(
            ANA,
            "bo@example.com",
            Some(&owner()),
            Some(&bo(true)),
            |m| m == BO,
        );
        let mut gone = bo(true);
        gone.active = false;
        let deactivated = findable(ANA, "bo@example.com", Some(&owner()), Some(&gone), |_| {
            false
        });
        assert_eq!([undiscoverable, hidden, deactivated], [nobody; 3]);
    }

    #[test]
    fn given_an_address_book_when_ana_adds_new_and_known_addresses_then_only_the_new_once() {
        let existing = BTreeSet::from(["known@example.com".to_owned()]);
        let new = email("New@Example.com");
        let again = email("new@example.com");
        let known = email("known@example.com");
        let Decision {
            changes,
            outcome: added,
        } = add(
            ANA,
            [(&new, Some("New")), (&again, None), (&known, None)],
            &existing,
            T0,
        )
        .unwrap();
        assert_eq!(added, 1);
        assert_eq!(changes.writes.len(), 1);
        assert_eq!(
            changes.events,
            vec![Event::ContactsImported {
                owner: ANA,
                added: 1
            }]
        );
        let Decision {
            changes: nothing,
            outcome: none,
        } = add(ANA, [(&known, None)], &existing, T0).unwrap();
        assert_eq!(
            (nothing.is_empty(), nothing.events.len(), none),
            (true, 0, 0)
        );
    }

    #[test]
    fn given_a_member_a_stranger_and_a_known_address_when_ana_imports_then_the_report_follows_the_facts()
     {
        let entry = |line, address: &str| super::super::Entry {
            line,
            email: email(address),
            name: None,
        };
        let book = ParsedBook {
            source: super::super::Source::List,
            entries: vec![
                entry(1, "bo@example.com"),
                entry(2, "cy@example.com"),
                entry(3, "known@example.com"),
            ],
            bad_rows: Vec::new(),
            duplicates: 1,
            rows: 4,
        };
        let facts = ImportFacts {
            existing: BTreeSet::from(["known@example.com".to_owned()]),
            found: vec![
                Found::Member(BO, Degree::Second),
                Found::NotMember { invited: true },
                Found::NotMember { invited: false },
            ],
        };
        let Decision { changes, outcome } = import(ANA, &book, &facts, T0).unwrap();
        assert_eq!((outcome.added, changes.writes.len()), (2, 2));
        assert_eq!(outcome.duplicates, 1);
        assert_eq!(
            outcome
                .members
                .iter()
                .map(|m| (m.line, m.member, m.degree))
                .collect::<Vec<_>>(),
            vec![(1, BO, Degree::Second)]
        );
        assert_eq!(
            outcome
                .not_members
                .iter()
                .map(|n| (n.line, n.invited))
                .collect::<Vec<_>>(),
            vec![(2, true), (3, false)]
        );
    }
}
