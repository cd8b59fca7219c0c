//! Contacts: Ana imports a small address book (an Outlook-style CSV, with a
//! bad row), sees which of her contacts are members and their degree,
//! invites a member she found, and invites a non-member to join; when that
//! person joins, the invitation to join becomes an ordinary invitation.
//!
//! `cargo run --example contacts`

use pronet::InviteOutcome;
use pronet::{
    Audience, Email, Event, ImportFormat, ManualClock, Member, MemberId, MemoryStore, Network,
    PageSize, Policy, Profile, SendOutcome, Timestamp,
};

const ADDRESS_BOOK: &str = "\u{feff}First Name,Last Name,E-mail Address,E-mail 2 Address\r\n\
Bo,Berg,bo@example.com,\r\n\
Cy,Chen,CY@EXAMPLE.COM,cy.chen@work.example\r\n\
Dee,Diaz,dee@example.org,\r\n\
Eve,,eve(at)example.org,\r\n";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Timestamp::from_micros(1_767_225_600_000_000)); // 2026-01-01
    let net = Network::open(MemoryStore::new(), clock.clone(), Policy::default())?;
    let [ana, bo, cy, dee] = [1, 2, 3, 4].map(MemberId::new);
    let person = |id,
                  name: &str,
                  address: &str,
                  discoverable|
     -> Result<Member, Box<dyn std::error::Error>> {
        Ok(Member::person(id, Profile::named(name))
            .with_email(Email::parse(address)?, discoverable))
    };
    let _ = net.register(person(ana, "Ana", "ana@example.com", true)?)?;
    let _ = net.register(person(bo, "Bo", "bo@example.com", true)?)?;
    // Cy is a member too, but does not let others find them by this address.
    let _ = net.register(person(cy, "Cy", "cy@example.com", false)?)?;

    // 1. Ana imports her address book.
    let imported = net.import_contacts(ana, ADDRESS_BOOK.as_bytes(), &ImportFormat::Detect)?;
    let report = &imported.outcome;
    println!("Read as {:?}: {} new contacts", report.source, report.added);
    for m in &report.members {
        println!(
            "  line {}: {} is member {} ({:?})",
            m.line, m.email, m.member, m.degree
        );
    }
    for n in &report.not_members {
        println!(
            "  line {}: {} is not a member (as far as Ana may know)",
            n.line, n.email
        );
    }
    for bad in &report.bad_rows {
        println!("  line {}: skipped: {}", bad.line, bad.problem);
    }

    // 2. She invites the member she found: an ordinary invitation, with the
    //    address as proof that she knows Bo.
    let bo_address = &report.members[0].email;
    let InviteOutcome::Member {
        member,
        sent: SendOutcome::Sent(invitation),
    } = net.invite_to_join(ana, bo_address)?.outcome
    else {
        return Err("expected an ordinary invitation to Bo".into());
    };
    println!("Invited member {member}: invitation {invitation}");
    let _ = net.accept(bo, invitation)?;
    println!("Bo accepted: Ana and Bo are connected");

    // 3. She invites Dee, who is not a member, to join. The events are for
    //    members; the host's mailer takes `mail` (never shown to a member),
    //    where JoinInvitationReceived asks for the invitation email.
    let dee_address = Email::parse("dee@example.org")?;
    let invited = net.invite_to_join(ana, &dee_address)?;
    for event in &invited.events {
        println!("event for {:?}: {event:?}", event.audience());
    }
    for event in &invited.mail {
        if let (Event::JoinInvitationReceived { email, .. }, Audience::Address) =
            (event, event.audience())
        {
            println!("host: email an invitation to join to {email}");
        }
    }

    // 4. Dee joins with that address: Ana's invitation becomes an ordinary
    //    one, checked against every rule again, in Dee's inbox.
    let joined = net.register(person(dee, "Dee", "dee@example.org", true)?)?;
    println!("Dee joined ({} events)", joined.events.len());
    let inbox = net.inbox(dee, None, PageSize::default())?;
    for item in &inbox.items {
        println!(
            "Dee's inbox: invitation {} from {}",
            item.invitation, item.other
        );
    }
    let _ = net.accept(dee, inbox.items[0].invitation)?;
    println!(
        "Ana's connections: {:?}",
        net.connections(ana, ana, None, PageSize::default())?.items
    );

    // 5. Bo imports the contacts of his phone: a vCard file (2.1, as an
    //    Android phone exports it, with a quoted-printable name and a
    //    photo that is skipped). Eve registered with the punycode form of
    //    her domain; Bo's phone has the Unicode form: the same address.
    let eve = MemberId::new(5);
    let _ = net.register(person(eve, "Eve", "eve@xn--bcher-kva.de", true)?)?;
    let phone = net.import_contacts(bo, PHONE_CONTACTS.as_bytes(), &ImportFormat::Detect)?;
    let report = &phone.outcome;
    println!(
        "Bo's phone, read as {:?}: {} new contacts",
        report.source, report.added
    );
    for m in &report.members {
        let name = m.name.as_deref().unwrap_or("?");
        println!(
            "  line {}: {name} <{}> is member {} ({:?})",
            m.line, m.email, m.member, m.degree
        );
    }
    for n in &report.not_members {
        println!("  line {}: {} is not a member", n.line, n.email);
    }
    for bad in &report.bad_rows {
        println!("  line {}: skipped card: {}", bad.line, bad.problem);
    }
    Ok(())
}

/// A phone's export: vCard 2.1 with CRLF line ends.
const PHONE_CONTACTS: &str = "BEGIN:VCARD\r\n\
VERSION:2.1\r\n\
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Eve;;;\r\n\
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Eve M=C3=BCller\r\n\
EMAIL;HOME:eve@b\u{fc}cher.de\r\n\
PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEB\r\n\
 AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/2wBD\r\n\
\r\n\
END:VCARD\r\n\
BEGIN:VCARD\r\n\
VERSION:2.1\r\n\
FN:Fay\r\n\
EMAIL;WORK:fay@example.net\r\n\
EMAIL;HOME:FAY@example.net\r\n\
END:VCARD\r\n\
BEGIN:VCARD\r\n\
VERSION:2.1\r\n\
FN:Pizza Roma\r\n\
TEL;WORK:+39 06 000000\r\n\
END:VCARD\r\n";
