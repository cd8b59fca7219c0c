//! The pure decisions about address books: adding contacts, and which
//! member an address may show to whom (SPEC 9).

use super::Contact;
use crate::change::ChangeSet;
use crate::email::Email;
use crate::event::Event;
use crate::id::MemberId;
use crate::member::{EmailOwner, Member};
use crate::record::Record;
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// The member `viewer` may be shown for an address (SPEC 9, RELIABILITY
/// B7), given the address's stored owner record and that owner's member
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
/// new address and, if any, one [`Event::ContactsImported`]. Answers the
/// change set and how many were new.
pub fn add<'a>(
    owner: MemberId,
    emails: impl IntoIterator<Item = (&'a Email, Option<&'a str>)>,
    existing: &BTreeSet<String>,
    now: Timestamp,
) -> (ChangeSet, usize) {
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
    (changes, added)
}
