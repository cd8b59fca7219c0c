//! Contacts: SPEC.md section 9 and properties C1 to C4 and B7 of
//! RELIABILITY.md.
//!
//! The parser is tested against a corpus of real-world shaped files in
//! `tests/data/contacts/` (see the README there) and against arbitrary
//! bytes; the network tests drive a [`Network`] over a [`MemoryStore`] and
//! a [`ManualClock`], starting on day 0 ([`T0`]).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::TimeDelta;
use pronet::InviteOutcome;
use pronet::Store;
use pronet::contacts::{
    self, BadRow, ColumnMapping, Format, ImportError, ImportLimits, ImportReport, JoinState,
    ParsedBook, Problem, Source,
};
use pronet::record::{Key, Record};
use pronet::{
    Audience, Committed, Degree, Email, Error, Event, InvitePreference, Member, MemberId, Policy,
    Profile, Refusal, SendOutcome,
};
use proptest::prelude::*;
use std::fmt::Debug;
use std::path::PathBuf;
use support::{T0, World, email, m, quota_policy, refusal, whole};

// ---------------------------------------------------------------- helpers

fn corpus(name: &str) -> Vec<u8> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "data",
        "contacts",
        name,
    ]
    .iter()
    .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(bytes: &[u8]) -> Result<ParsedBook, ImportError> {
    contacts::parse(bytes, &Format::Detect, &ImportLimits::default())
}

/// (line, canonical address, name) of every entry.
fn entries(book: &ParsedBook) -> Vec<(u64, String, Option<String>)> {
    book.entries
        .iter()
        .map(|e| (e.line, e.email.canonical().to_owned(), e.name.clone()))
        .collect()
}

fn bad_lines(bad: &[BadRow]) -> Vec<u64> {
    bad.iter().map(|b| b.line).collect()
}

/// `cases` proptest cases, unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: support::cases(cases),
        ..ProptestConfig::default()
    }
}

impl World {
    fn person_emails(&self, id: u64, emails: &[(&str, bool)]) -> MemberId {
        let mut member = Member::person(MemberId::new(id), Profile::named(format!("P{id}")));
        for (address, discoverable) in emails {
            member = member.with_email(email(address), *discoverable);
        }
        let _ = self.net.register(member).unwrap();
        MemberId::new(id)
    }

    fn import(&self, owner: MemberId, text: &str) -> Committed<ImportReport> {
        self.net
            .import_contacts(owner, text.as_bytes(), &Format::Detect)
            .unwrap()
    }

    fn import_list(&self, owner: MemberId, text: &str) -> Committed<ImportReport> {
        self.net
            .import_contacts(owner, text.as_bytes(), &Format::List)
            .unwrap()
    }

    fn invitee(&self, address: &str) -> Option<contacts::Invitee> {
        let key = Key::Invitee(email(address).canonical().to_owned());
        self.net
            .store()
            .snapshot()
            .into_iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| match v.value {
                Record::Invitee(i) => Some(i),
                _ => None,
            })
    }

    fn inbox(&self, m: MemberId) -> Vec<pronet::InvitationId> {
        let page = self.net.inbox(m, None, whole()).unwrap();
        page.items.iter().map(|l| l.invitation).collect()
    }

    fn held(&self, m: MemberId) -> Vec<pronet::InvitationId> {
        let page = self.net.held(m, None, whole()).unwrap();
        page.items.iter().map(|l| l.invitation).collect()
    }

    fn sent(&self, m: MemberId) -> Vec<pronet::InvitationId> {
        let page = self.net.sent(m, None, whole()).unwrap();
        page.items.iter().map(|l| l.invitation).collect()
    }
}

fn invited(c: &Committed<InviteOutcome>) -> pronet::InvitationId {
    match c.outcome {
        InviteOutcome::Invited(id) => id,
        other => panic!("expected an invitation to join, got {other:?}"),
    }
}

// ------------------------------------------------- C2: the corpus, parsed

type Expected = (
    &'static str,
    Source,
    &'static [(u64, &'static str, Option<&'static str>)],
    &'static [u64],
);

/// C2: every file of the corpus, with what it must give: the source, every
/// address with its line and name, and the lines of the bad rows.
const CORPUS: &[Expected] = &[
    (
        "google.csv",
        Source::Google,
        &[
            (2, "ana.lima@acme.example", Some("Ana Lima")),
            (2, "ana@home.example", Some("Ana Lima")),
            // The quoted line break in Ana's notes makes Bo's row line 4.
            (4, "bo@example.com", Some("Bo Berg")),
            (4, "bo.berg@example.com", Some("Bo Berg")),
        ],
        &[5, 6],
    ),
    (
        "outlook.csv",
        Source::Outlook,
        &[
            (2, "andre.mueller@firma.example", Some("André Müller")),
            (3, "eli@example.com", Some("Eli Evans")),
            (3, "eli.evans@work.example", Some("Eli Evans")),
        ],
        &[4],
    ),
    (
        "yahoo.csv",
        Source::Yahoo,
        &[
            (2, "gus@yahoo.example", Some("Gus Gray")),
            (2, "gus.gray@mail.example", Some("Gus Gray")),
            (3, "hal@yahoo.example", Some("Hal")),
        ],
        &[],
    ),
    (
        "apple.tsv",
        Source::Apple,
        &[
            (2, "ivy@home.example", Some("Ivy Ito")),
            (2, "ivy@work.example", Some("Ivy Ito")),
            (3, "jo@work.example", Some("Jo")),
        ],
        &[],
    ),
    (
        "linkedin.csv",
        Source::LinkedIn,
        &[
            (5, "kim.kato@corp.example", Some("Kim Kato")),
            (7, "max@moreau.example", Some("Max Moreau")),
        ],
        &[6],
    ),
    (
        "semicolon.csv",
        Source::Generic,
        &[
            (2, "nina@beispiel.example", Some("Nina Nowak")),
            (3, "otto@beispiel.example", Some("Otto; der Zweite")),
        ],
        &[],
    ),
    (
        "utf16le.txt",
        Source::Generic,
        &[
            (2, "pia@example.es", Some("Pia Pérez")),
            (3, "quinn@example.com", Some("Quinn")),
        ],
        &[],
    ),
    (
        "utf16be.csv",
        Source::Generic,
        &[(2, "rui@example.pt", Some("Rui"))],
        &[],
    ),
    (
        "ragged.csv",
        Source::Generic,
        &[
            (2, "sam@example.com", Some("Sam")),
            (3, "tea@example.com", Some("Tea")),
            (6, "vic@example.com", Some("Vic")),
        ],
        &[4],
    ),
    (
        "cr_only.csv",
        Source::Generic,
        &[
            (2, "bea@example.com", Some("Bea")),
            (3, "cal@example.com", Some("Cal")),
        ],
        &[],
    ),
    (
        "list.txt",
        Source::List,
        &[
            (1, "wes@example.com", Some("Wes Wong")),
            (1, "xia@example.com", Some("Lima, Xia")),
            (2, "yan@example.com", None),
            (2, "zoe@example.com", None),
            (4, "amy@example.com", None),
        ],
        &[4],
    ),
    (
        "bad_rows.csv",
        Source::Generic,
        &[
            (2, "good@example.com", Some("Good")),
            (8, "good2@example.com", Some("Good again")),
        ],
        &[3, 4, 5, 6, 7],
    ),
    ("header_only.csv", Source::Generic, &[], &[]),
    ("empty.csv", Source::Empty, &[], &[]),
    // vCard (issue #18): each address at the line of its EMAIL property.
    (
        "android.vcf",
        Source::VCard,
        &[
            (7, "juergen.mueller@mail.example", Some("Jürgen Müller")),
            (8, "j.mueller@firma.example", Some("Jürgen Müller")),
            (39, "lucia@correo.example", Some("Lucía Álvarez")),
            (41, "lucia.alvarez@bücher.de", Some("Lucía Álvarez")),
        ],
        &[30],
    ),
    (
        "iphone.vcf",
        Source::VCard,
        &[
            (7, "kei@labs.example", Some("Kei Nakamura")),
            (9, "kei.nakamura@home.example", Some("Kei Nakamura")),
            (
                35,
                "sean.obrien@very-long-company-name.example",
                Some("Sean O'Brien, Jr."),
            ),
            (44, "support@acme", None),
        ],
        &[45],
    ),
    (
        "v4.vcf",
        Source::VCard,
        &[
            (6, "olga@post.example", Some("Olga Ivanova")),
            (7, "olga.ivanova@bücher.de", Some("Olga Ivanova")),
            (13, "pat@example.org", Some("Pat")),
        ],
        &[16],
    ),
    (
        "outlook.vcf",
        Source::VCard,
        &[(5, "joerg.weiss@firma.example", Some("Jörg Weiß"))],
        &[9],
    ),
];

/// Issue #18: each vCard file of the corpus reports the contacts found and
/// the bad cards with their lines and reasons; the photos are skipped.
#[test]
fn c2_vcard_files_report_contacts_and_bad_cards_with_reasons() {
    let reasons = |file: &str| -> Vec<(u64, Problem)> {
        let book = parse(&corpus(file)).unwrap();
        println!(
            "{file}: {} contacts, {} duplicates, bad cards {:?}",
            book.entries.len(),
            book.duplicates,
            book.bad_rows
                .iter()
                .map(|b| format!("line {}: {}", b.line, b.problem))
                .collect::<Vec<_>>()
        );
        book.bad_rows
            .into_iter()
            .map(|b| (b.line, b.problem))
            .collect()
    };
    // A card with a phone number only (Android, 2.1 with a photo before it).
    assert_eq!(reasons("android.vcf"), vec![(30, Problem::NoAddress)]);
    assert!(matches!(
        reasons("iphone.vcf").as_slice(),
        [(45, Problem::InvalidAddress { .. })]
    ));
    // The file ends inside a card: its address is not kept.
    assert_eq!(reasons("v4.vcf"), vec![(16, Problem::UnclosedCard)]);
    // An exporter's footer after the last card: one bad row for the run.
    assert_eq!(reasons("outlook.vcf"), vec![(9, Problem::OutsideCard)]);
    // Duplicates collapse: the same address twice in a card (case), and
    // the same address in two cards.
    assert_eq!(parse(&corpus("android.vcf")).unwrap().duplicates, 1);
    assert_eq!(parse(&corpus("v4.vcf")).unwrap().duplicates, 1);
}

/// CRLF, LF and CR line ends, with or without a byte-order mark, read the
/// same; an explicit `Format::VCard` reads what detection reads.
#[test]
fn c2_vcard_line_ends_and_explicit_format_agree() {
    let crlf = corpus("iphone.vcf");
    let text = String::from_utf8(crlf.clone()).unwrap();
    let lf = text.replace("\r\n", "\n");
    let cr = text.replace("\r\n", "\r");
    let bom = format!("\u{feff}{text}");
    let want = parse(&crlf).unwrap();
    for other in [lf.as_bytes(), cr.as_bytes(), bom.as_bytes()] {
        assert_eq!(parse(other).unwrap(), want);
    }
    let explicit = contacts::parse(&crlf, &Format::VCard, &ImportLimits::default()).unwrap();
    assert_eq!(explicit, want);
}

/// The import limits hold for vCards as for CSV: size, cards (rows),
/// addresses and field length.
#[test]
fn c2_vcard_limits() {
    let card =
        |i: usize| format!("BEGIN:VCARD\nVERSION:3.0\nFN:P{i}\nEMAIL:p{i}@x.example\nEND:VCARD\n");
    let three: String = (0..3).map(card).collect();
    let limits = |rows, field| ImportLimits::new(4_096, rows, field).unwrap();
    assert_eq!(
        contacts::parse(three.as_bytes(), &Format::Detect, &limits(3, 64))
            .unwrap()
            .entries
            .len(),
        3
    );
    assert_eq!(
        contacts::parse(three.as_bytes(), &Format::Detect, &limits(2, 64)),
        Err(ImportError::TooManyRows { max: 2 })
    );
    // Two addresses in one card count as two.
    let two = "BEGIN:VCARD\nEMAIL:a@x.example\nEMAIL:b@x.example\nEND:VCARD\n";
    assert_eq!(
        contacts::parse(two.as_bytes(), &Format::Detect, &limits(1, 64)),
        Err(ImportError::TooManyRows { max: 1 })
    );
    // A folded address longer than the field limit: a bad row at its line.
    let long = "BEGIN:VCARD\nFN:Al\nEMAIL:aaaaaaaaaa\n aaaaaaaaaa@x.example\nEND:VCARD\n";
    let book = contacts::parse(long.as_bytes(), &Format::Detect, &limits(5, 20)).unwrap();
    assert!(book.entries.is_empty());
    assert_eq!(
        book.bad_rows,
        contacts::parse(long.as_bytes(), &Format::Detect, &limits(5, 20))
            .unwrap()
            .bad_rows
    );
    assert!(matches!(
        book.bad_rows.as_slice(),
        [BadRow {
            line: 3,
            problem: Problem::FieldTooLong { bytes: 30, max: 20 },
            ..
        }]
    ));
    // A photo far longer than the field limit is not read, so not refused.
    let photo = format!(
        "BEGIN:VCARD\nPHOTO;ENCODING=b:{}\n {}\nEMAIL:a@x.example\nEND:VCARD\n",
        "A".repeat(500),
        "B".repeat(500)
    );
    let book = contacts::parse(photo.as_bytes(), &Format::Detect, &limits(5, 20)).unwrap();
    assert_eq!(book.entries.len(), 1);
    assert!(book.bad_rows.is_empty());
    // Size is checked first.
    let big = "BEGIN:VCARD\n".repeat(400);
    assert!(matches!(
        contacts::parse(big.as_bytes(), &Format::Detect, &limits(5, 20)),
        Err(ImportError::TooLarge { .. })
    ));
}

/// A vCard contact matches a member who registered the other form of an
/// internationalised domain (issue #18, both directions).
#[test]
fn vcard_contacts_match_members_across_idn_forms() {
    let w = World::new();
    let ana = w.person(m(1));
    let lucia = w.person_emails(2, &[("lucia.alvarez@xn--bcher-kva.de", true)]);
    let olga = w.person_emails(3, &[("olga.ivanova@bücher.de", true)]);
    let report = w
        .net
        .import_contacts(ana, &corpus("android.vcf"), &Format::Detect)
        .unwrap()
        .outcome;
    assert_eq!(report.source, Source::VCard);
    let found: Vec<_> = report.members.iter().map(|m| m.member).collect();
    assert_eq!(found, vec![lucia]);
    let report = w
        .net
        .import_contacts(ana, &corpus("v4.vcf"), &Format::Detect)
        .unwrap()
        .outcome;
    let found: Vec<_> = report.members.iter().map(|m| m.member).collect();
    assert_eq!(found, vec![olga]);
    // The address as written in the file is what the report shows.
    assert_eq!(
        report.members[0].email.as_written(),
        "olga.ivanova@xn--bcher-kva.de"
    );
}

/// The CSV row-width limit (issue #11): a record wider than `max_fields`
/// is a bad row, the rest is kept.
#[test]
fn c2_a_row_wider_than_the_field_limit_is_a_bad_row() {
    let limits = ImportLimits::default().with_max_fields(4).unwrap();
    let csv = "Name,Email\nAna,ana@x.example\n,,,,,,,,\nBo,bo@x.example,,\n";
    let book = contacts::parse(csv.as_bytes(), &Format::Detect, &limits).unwrap();
    assert_eq!(book.entries.len(), 2);
    assert!(matches!(
        book.bad_rows.as_slice(),
        [BadRow {
            line: 3,
            problem: Problem::TooManyFields { fields: 9, max: 4 },
            ..
        }]
    ));
    assert!(
        ImportLimits::default()
            .with_max_fields(ImportLimits::MAX_FIELDS + 1)
            .is_err()
    );
}

#[test]
fn c2_every_corpus_file_gives_its_addresses_lines_and_bad_rows() {
    for &(file, source, want, bad) in CORPUS {
        let book = parse(&corpus(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(book.source, source, "{file}");
        let want: Vec<_> = want
            .iter()
            .map(|&(l, e, n)| (l, e.to_owned(), n.map(str::to_owned)))
            .collect();
        assert_eq!(entries(&book), want, "{file}");
        assert_eq!(
            bad_lines(&book.bad_rows),
            bad,
            "{file}: {:?}",
            book.bad_rows
        );
    }
}

#[test]
fn c2_bad_rows_say_why() {
    let book = parse(&corpus("bad_rows.csv")).unwrap();
    let problems: Vec<&Problem> = book.bad_rows.iter().map(|b| &b.problem).collect();
    assert!(
        matches!(problems[0], Problem::InvalidAddress { value, .. } if value == "nobody.example.com")
    );
    assert!(
        matches!(problems[2], Problem::InvalidAddress { value, .. } if value == "sp ace@example.com")
    );
    assert_eq!(problems[3], &Problem::NoAddress);
    // Every reason reads as a sentence.
    for bad in &book.bad_rows {
        assert!(!bad.problem.to_string().is_empty());
    }
    let list = parse(&corpus("list.txt")).unwrap();
    assert_eq!(
        list.duplicates, 1,
        "WES@EXAMPLE.COM repeats wes@example.com"
    );
}

#[test]
fn c2_binary_files_and_unknown_csv_are_clear_errors() {
    assert_eq!(parse(&corpus("not_text.xlsx")), Err(ImportError::NotText));
    assert_eq!(
        parse(b"Name,Phone\nAna,555 0100\n"),
        Err(ImportError::UnknownFormat)
    );
    // Whitespace, a lone BOM and a UTF-16 BOM are empty books.
    for empty in [&b"  \r\n\t\n"[..], b"\xEF\xBB\xBF", b"\xFF\xFE"] {
        let book = parse(empty).unwrap();
        assert_eq!((book.source, book.entries.len()), (Source::Empty, 0));
    }
}

#[test]
fn c2_explicit_mapping_reads_named_columns_in_any_case() {
    let file = "Who,Given,Work mail,Private mail\nx,Ana,ana@work.example,ana@home.example\ny,Bo,,bo@home.example\n";
    let mapping = ColumnMapping::new(["work MAIL", " Private mail "]).with_names(["Given", "Who"]);
    let book = contacts::parse(
        file.as_bytes(),
        &Format::Mapped(mapping),
        &ImportLimits::default(),
    )
    .unwrap();
    assert_eq!(book.source, Source::Mapped);
    assert_eq!(
        entries(&book),
        vec![
            (2, "ana@work.example".into(), Some("Ana x".into())),
            (2, "ana@home.example".into(), Some("Ana x".into())),
            (3, "bo@home.example".into(), Some("Bo y".into())),
        ]
    );
    let missing = ColumnMapping::new(["Work mail"]).with_names(["Surname"]);
    assert_eq!(
        contacts::parse(
            file.as_bytes(),
            &Format::Mapped(missing),
            &ImportLimits::default()
        ),
        Err(ImportError::MissingColumn("Surname".into()))
    );
    let absent = ColumnMapping::new(["Mail"]);
    assert_eq!(
        contacts::parse(
            file.as_bytes(),
            &Format::Mapped(absent),
            &ImportLimits::default()
        ),
        Err(ImportError::MissingColumn("Mail".into()))
    );
    let empty = ColumnMapping::new(Vec::<String>::new());
    assert_eq!(
        contacts::parse(
            file.as_bytes(),
            &Format::Mapped(empty),
            &ImportLimits::default()
        ),
        Err(ImportError::EmptyMapping)
    );
}

#[test]
fn c2_an_explicit_list_reads_a_file_that_looks_like_csv() {
    let file = "Email\nana@example.com\n";
    let book = contacts::parse(file.as_bytes(), &Format::List, &ImportLimits::default()).unwrap();
    assert_eq!(book.source, Source::List);
    assert_eq!(entries(&book), vec![(2, "ana@example.com".into(), None)]);
    assert_eq!(bad_lines(&book.bad_rows), vec![1]);
}

/// C2: each limit holds exactly at its value and refuses one more.
#[test]
fn c2_limits_hold_exactly_at_their_values() {
    // Bytes: 64 pass, 65 fail, before anything is read.
    let small = ImportLimits::new(64, 3, 1_024).unwrap();
    let at_64 = format!("{}@example.com", "a".repeat(64 - 12));
    let book = contacts::parse(at_64.as_bytes(), &Format::Detect, &small).unwrap();
    assert_eq!(book.entries.len(), 1);
    let over = format!("{at_64} ");
    assert_eq!(
        contacts::parse(over.as_bytes(), &Format::Detect, &small),
        Err(ImportError::TooLarge { bytes: 65, max: 64 })
    );
    let limits = ImportLimits::new(1_024, 3, 20).unwrap();
    let read = |s: &str| contacts::parse(s.as_bytes(), &Format::Detect, &limits);
    // Rows: 3 pass, 4 fail; blank rows are not counted.
    assert_eq!(read("Email\na@x.io\n\nb@x.io\nc@x.io\n").unwrap().rows, 3);
    assert_eq!(
        read("Email\na@x.io\nb@x.io\nc@x.io\nd@x.io\n"),
        Err(ImportError::TooManyRows { max: 3 })
    );
    // Addresses count too: one row of four.
    assert_eq!(
        read("a@x.io b@x.io c@x.io d@x.io"),
        Err(ImportError::TooManyRows { max: 3 })
    );
    // Fields: 20 bytes pass, 21 make the row bad, the others are kept.
    let book = read("Email\nabcdefghij@x12345.io\nabcdefghij@x123456.io\n").unwrap();
    assert_eq!(entries(&book).len(), 1);
    assert_eq!(bad_lines(&book.bad_rows), vec![3]);
    assert_eq!(
        book.bad_rows[0].problem,
        Problem::FieldTooLong { bytes: 21, max: 20 }
    );
    assert!(ImportLimits::new(0, 1, 1).is_err());
    assert!(ImportLimits::new(1, 1, ImportLimits::MAX_FIELD_BYTES + 1).is_err());
    let defaults = ImportLimits::default();
    assert_eq!(
        (
            defaults.max_bytes(),
            defaults.max_rows(),
            defaults.max_field_bytes()
        ),
        (10 * 1024 * 1024, 50_000, 1_024)
    );
}

#[test]
fn c2_the_default_limits_refuse_a_file_over_ten_mebibytes() {
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    assert_eq!(
        parse(&big),
        Err(ImportError::TooLarge {
            bytes: 10 * 1024 * 1024 + 1,
            max: 10 * 1024 * 1024
        })
    );
}

// -------------------------------------------- C1: arbitrary input, bounded

/// What every answer of the parser must satisfy, whatever the input.
fn check_bounded(bytes: &[u8], limits: &ImportLimits) {
    let lines = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    for format in [
        Format::Detect,
        Format::List,
        Format::Mapped(ColumnMapping::new(["email"])),
        Format::VCard,
    ] {
        match contacts::parse(bytes, &format, limits) {
            Ok(book) => {
                assert!(book.rows <= limits.max_rows());
                assert!(book.entries.len() <= limits.max_rows());
                for e in &book.entries {
                    assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
                    assert!(e.email.as_written().len() <= limits.max_field_bytes());
                }
                for b in &book.bad_rows {
                    assert!(b.line >= 1 && b.line <= lines);
                }
                // Distinct canonical addresses.
                let mut keys: Vec<&str> =
                    book.entries.iter().map(|e| e.email.canonical()).collect();
                keys.sort_unstable();
                keys.dedup();
                assert_eq!(keys.len(), book.entries.len());
                // Deterministic.
                assert_eq!(contacts::parse(bytes, &format, limits), Ok(book));
            }
            Err(ImportError::TooLarge { bytes: n, max }) => {
                assert!(n > max && max == limits.max_bytes());
            }
            Err(_) => {}
        }
    }
}

/// Text shaped like address books: delimiters, quotes, line ends, BOMs,
/// `@`, names, non-ASCII and controls, in any order.
fn bookish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b",".to_vec()),
        Just(b";".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"@".to_vec()),
        Just(b" ::: ".to_vec()),
        Just(b"<".to_vec()),
        Just(b">".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xFF\xFE".to_vec()),
        Just(b"E-mail 1 - Value".to_vec()),
        Just(b"Email Address".to_vec()),
        Just(b"First Name".to_vec()),
        Just(b"Notes:".to_vec()),
        Just(b"ana@example.com".to_vec()),
        Just("Zoë".as_bytes().to_vec()),
        Just(b"\x00".to_vec()),
        Just(b"\xE9".to_vec()),
        "[a-z.]{0,12}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|ps| ps.concat())
}

/// Text shaped like vCard files: card boundaries, properties with
/// parameters, folding, quoted-printable soft breaks and escapes, photos,
/// line ends and garbage, in any order (C1 for the vCard reader).
fn vcardish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"BEGIN:VCARD".to_vec()),
        Just(b"END:VCARD".to_vec()),
        Just(b"begin:vcard".to_vec()),
        Just(b"VERSION:2.1".to_vec()),
        Just(b"EMAIL;TYPE=INTERNET,HOME:".to_vec()),
        Just(b"item1.EMAIL;type=pref:".to_vec()),
        Just(b"EMAIL;PREF=1;TYPE=\"home,work\":".to_vec()),
        Just(b"FN:".to_vec()),
        Just(b"N:".to_vec()),
        Just(b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:".to_vec()),
        Just(b"N;CHARSET=x-unknown;QUOTED-PRINTABLE:=C3=".to_vec()),
        Just(b"PHOTO;ENCODING=BASE64;JPEG:".to_vec()),
        Just(b"PHOTO;ENCODING=b:/9j/4AAQ".to_vec()),
        Just(b"=".to_vec()),
        Just(b"=4".to_vec()),
        Just(b"=C3=BC".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\\,".to_vec()),
        Just(b";".to_vec()),
        Just(b":".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n ".to_vec()),
        Just(b"\n\t".to_vec()),
        Just(b"ana@example.com".to_vec()),
        Just(b"jan@xn--bcher-kva.de".to_vec()),
        Just("Zoë".as_bytes().to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xE9".to_vec()),
        "[a-z.@]{0,12}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|ps| ps.concat())
}

proptest! {
    #![proptest_config(config(512))]

    /// C1 on vCard-shaped text (issue #18).
    #[test]
    fn c1_vcard_shaped_text_never_panics_and_respects_limits(
        bytes in vcardish(),
        rows in 1usize..8,
        field in 1usize..40,
    ) {
        check_bounded(&bytes, &ImportLimits::default());
        check_bounded(&bytes, &ImportLimits::new(4_096, rows, field).unwrap());
    }

    /// C1: arbitrary bytes give a book or a clear error, never a panic, and
    /// every answer stays within the limits.
    #[test]
    fn c1_arbitrary_bytes_never_panic_and_respect_limits(
        bytes in proptest::collection::vec(any::<u8>(), 0..2_048),
        rows in 1usize..8,
        field in 1usize..40,
    ) {
        check_bounded(&bytes, &ImportLimits::default());
        check_bounded(&bytes, &ImportLimits::new(1_024, rows, field).unwrap());
    }

    /// C1 on address-book-shaped text, which reaches the CSV paths that
    /// random bytes rarely do.
    #[test]
    fn c1_address_book_shaped_text_never_panics_and_respects_limits(
        bytes in bookish(),
        rows in 1usize..8,
        field in 1usize..40,
    ) {
        check_bounded(&bytes, &ImportLimits::default());
        check_bounded(&bytes, &ImportLimits::new(4_096, rows, field).unwrap());
    }
}

/// C1: the slowest shape for the parser (one huge quoted field, many
/// delimiters, a long run of separators) still reads in linear time.
#[test]
fn c1_pathological_shapes_read_quickly() {
    let mut one_field = b"Email\n\"".to_vec();
    one_field.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    let commas = vec![b','; 2 * 1024 * 1024];
    let mut separators = b"a@b.io".to_vec();
    separators.extend(std::iter::repeat_n(b' ', 2 * 1024 * 1024));
    let angles = "<".repeat(512 * 1024) + &">".repeat(512 * 1024);
    for input in [one_field, commas, separators, angles.into_bytes()] {
        let started = std::time::Instant::now();
        let _ = parse(&input);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}

// ---------------------------------------------- network: import and report

/// SPEC 9: the report lists members by degree, non-members, bad rows;
/// re-reading the contacts makes the importer eligible (SPEC 3.1).
#[test]
fn import_reports_members_with_their_degree_and_feeds_eligibility() {
    let w = World::new();
    let [ana, bo, cy, dee] = [1, 2, 3, 4].map(|i| w.person(m(i)));
    w.connect(ana, bo);
    w.connect(bo, cy);
    let file = "Name,Email\nBo,M2@Example.com\nCy,m3@example.com\nDee,m4@example.com\nAna,m1@example.com\nNew,new@example.org\nOops,oops\n";
    let done = w.import(ana, file);
    let report = &done.outcome;
    assert_eq!(report.source, Source::Generic);
    assert_eq!(report.added, 5);
    let members: Vec<_> = report
        .members
        .iter()
        .map(|m| (m.line, m.member, m.degree))
        .collect();
    assert_eq!(
        members,
        vec![
            (2, bo, Degree::First),
            (3, cy, Degree::Second),
            (4, dee, Degree::OutOfNetwork),
            (5, ana, Degree::Yourself),
        ]
    );
    assert_eq!(report.members[0].email.as_written(), "M2@Example.com");
    assert_eq!(report.members[0].name.as_deref(), Some("Bo"));
    assert_eq!(report.not_members.len(), 1);
    assert_eq!(report.not_members[0].email.canonical(), "new@example.org");
    assert!(!report.not_members[0].invited);
    assert_eq!(bad_lines(&report.bad_rows), vec![7]);
    assert_eq!(
        done.events,
        vec![Event::ContactsImported {
            owner: ana,
            added: 5
        }]
    );
    // Dee is now in Ana's contacts: Ana may invite Dee without proof.
    assert!(w.net.send(pronet::SendRequest::new(ana, dee)).is_ok());
}

#[test]
fn import_refuses_unknown_owners_and_unreadable_files() {
    let w = World::new();
    let ana = w.person(m(1));
    assert_eq!(
        refusal(
            w.net
                .import_contacts(MemberId::new(9), b"a@b.io", &Format::Detect)
        ),
        Refusal::UnknownMember(MemberId::new(9))
    );
    let err = w
        .net
        .import_contacts(ana, &corpus("not_text.xlsx"), &Format::Detect)
        .unwrap_err();
    assert!(
        matches!(err, Error::Import(ImportError::NotText)),
        "{err:?}"
    );
    let _ = w.net.deactivate(ana).unwrap();
    assert_eq!(
        refusal(w.net.import_contacts(ana, b"a@b.io", &Format::Detect)),
        Refusal::UnknownMember(ana)
    );
}

/// C3: importing the same file twice changes nothing the second time: the
/// whole store is identical, no event, nothing added; the report is the
/// same but for `added`.
#[test]
fn c3_importing_every_corpus_file_twice_changes_nothing_the_second_time() {
    let w = World::new();
    let ana = w.person(m(1));
    let _bo = w.person_emails(2, &[("kim.kato@corp.example", true)]);
    for &(file, ..) in CORPUS {
        let bytes = corpus(file);
        let first = w.net.import_contacts(ana, &bytes, &Format::Detect).unwrap();
        let before = w.net.store().snapshot();
        let second = w.net.import_contacts(ana, &bytes, &Format::Detect).unwrap();
        assert_eq!(w.net.store().snapshot(), before, "{file}");
        assert!(second.events.is_empty(), "{file}");
        assert_eq!(second.outcome.added, 0, "{file}");
        let mut expected = first.outcome.clone();
        expected.added = 0;
        assert_eq!(expected, second.outcome, "{file}");
    }
    let report = w
        .net
        .import_contacts(ana, &corpus("linkedin.csv"), &Format::Detect)
        .unwrap()
        .outcome;
    assert_eq!(report.members.len(), 1, "Kim is a member Ana may find");
}

fn address_lists() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    let address = prop_oneof![
        "[a-c]{1,2}@[xy]\\.io",
        "[A-C]{1,2}@[XY]\\.IO",
        "[a-c]{1,2}@[xy]\\.io\\.",
        Just("not an address".to_owned()),
    ];
    (
        proptest::collection::vec(address.clone(), 0..12),
        proptest::collection::vec(address, 0..12),
    )
}

proptest! {
    #![proptest_config(config(64))]

    /// C3 as a property: after importing a file, importing it again (or any
    /// part of it, in any case and order) changes nothing; and importing
    /// two files adds exactly the distinct canonical addresses of both.
    #[test]
    fn c3_reimport_is_a_no_op((first, second) in address_lists()) {
        let w = World::new();
        let ana = w.person(m(1));
        let text = |list: &[String]| list.join("\n");
        let a = w.import_list(ana, &text(&first));
        let snapshot = w.net.store().snapshot();
        let again = w.import_list(ana, &text(&first));
        prop_assert_eq!(again.outcome.added, 0);
        prop_assert!(again.events.is_empty());
        prop_assert_eq!(w.net.store().snapshot(), snapshot.clone());
        let mut reversed: Vec<String> = first.iter().rev().map(|s| s.to_uppercase()).collect();
        reversed.truncate(first.len() / 2);
        let part = w.import_list(ana, &text(&reversed));
        prop_assert_eq!(part.outcome.added, 0);
        prop_assert_eq!(w.net.store().snapshot(), snapshot);
        let b = w.import_list(ana, &text(&second));
        let distinct = |list: &[String]| -> std::collections::BTreeSet<String> {
            list.iter().filter_map(|s| Email::parse(s).ok()).map(|e| e.canonical().to_owned()).collect()
        };
        let all: std::collections::BTreeSet<String> =
            distinct(&first).union(&distinct(&second)).cloned().collect();
        prop_assert_eq!(a.outcome.added + b.outcome.added, all.len());
        prop_assert_eq!(w.net.store().contacts(ana).unwrap().len(), all.len());
    }
}

// ------------------------------------------------ B7: no membership oracle

/// How the address `target@example.com` stands in one world.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// Nobody has it (member 2 exists with another address).
    Nobody,
    /// Member 2 has it, but not discoverable.
    Undiscoverable,
    /// Member 2 has it, discoverable, and blocked the importer.
    BlockedTheImporter,
    /// Member 2 has it, discoverable, and the importer blocked them.
    BlockedByTheImporter,
    /// Member 2 had it, discoverable, and is deactivated.
    Deactivated,
}

/// Everything the importer observes in one world.
#[derive(Debug, PartialEq)]
struct Observed {
    reports: Vec<ImportReport>,
    invites: Vec<Result<(InviteOutcome, Vec<Event>), Refusal>>,
    standing: pronet::standing::Standing,
    sent: Vec<pronet::InvitationId>,
    /// The store records about the importer's contacts, ledger and the
    /// address, with their versions.
    records: Vec<(Key, pronet::record::Versioned<Record>)>,
    /// Every event, whoever it is for, other than those for the host.
    events: Vec<Event>,
    /// The events for the address (the invitation email).
    for_address: Vec<Event>,
}

fn b7_world(target: Target) -> Observed {
    let w = World::new();
    let importer = w.person(m(1));
    let (address, opted) = ("target@example.com", "target.two@example.com");
    let other = match target {
        Target::Nobody => w.person_emails(2, &[("someone@example.com", true)]),
        Target::Undiscoverable => w.person_emails(2, &[(address, false), (opted, false)]),
        _ => w.person_emails(2, &[(address, true), (opted, true)]),
    };
    match target {
        Target::BlockedTheImporter => drop(w.net.block(other, importer).unwrap()),
        Target::BlockedByTheImporter => drop(w.net.block(importer, other).unwrap()),
        Target::Deactivated => drop(w.net.deactivate(other).unwrap()),
        _ => {}
    }
    let _ = w.net.opt_out(&email(opted)).unwrap();
    let mut all_events = Vec::new();
    let mut reports = Vec::new();
    let file = "Name,Email\nT,Target@Example.com\nT2,target.two@example.com\n";
    let first = w.import(importer, file);
    all_events.extend(first.events.clone());
    reports.push(first.outcome);
    let mut invites = Vec::new();
    let mut invite = |w: &World, to: &str, all: &mut Vec<Event>| {
        let r = w.net.invite_to_join(importer, &email(to));
        if let Ok(c) = &r {
            all.extend(c.events.clone());
            all.extend(c.mail.clone());
        }
        // The whole answer a caller may be shown, events included, not only
        // the importer's own (issue 11, item 7: the same shape either side).
        invites.push(
            r.map(|c| (c.outcome, c.events))
                .map_err(|e| refusal::<()>(Err(e))),
        );
    };
    invite(&w, "TARGET@example.com", &mut all_events);
    invite(&w, opted, &mut all_events);
    w.at(TimeDelta::days(1));
    invite(&w, address, &mut all_events);
    let again = w.import(importer, file);
    all_events.extend(again.events.clone());
    reports.push(again.outcome);
    w.at(TimeDelta::days(200));
    invite(&w, address, &mut all_events);
    invite(&w, opted, &mut all_events);
    let records = w
        .net
        .store()
        .snapshot()
        .into_iter()
        .filter(|(k, _)| match k {
            Key::Contact(owner, _) => *owner == importer,
            Key::Ledger(m) => *m == importer,
            Key::Invitee(_) => true,
            _ => false,
        })
        // Records under keys of personal data are created at a version
        // from their feed position (Store clause 3), which counts every
        // commit, the target's registration included: a store-internal
        // number no member ever reads. They are compared by value.
        .map(|(k, mut v)| {
            if k.holds_personal_data() {
                v.version = pronet::record::Version::FIRST;
            }
            (k, v)
        })
        .collect();
    let (for_address, events) = all_events
        .into_iter()
        .partition(|e| e.audience() == Audience::Address);
    Observed {
        reports,
        invites,
        standing: w.net.standing(importer).unwrap(),
        sent: w.sent(importer),
        records,
        events,
        for_address,
    }
}

/// B7: a non-member, an undiscoverable member, a member who blocked the
/// importer, a member the importer blocked and a deactivated member give
/// identical answers to import and invitations to join, identical records
/// and identical events; only the host's email request differs (no email
/// goes to a member's address).
#[test]
fn b7_matching_and_inviting_are_no_membership_oracle() {
    let nobody = b7_world(Target::Nobody);
    assert!(nobody.reports[0].members.is_empty());
    assert_eq!(nobody.reports[0].not_members.len(), 2);
    assert!(nobody.reports[1].not_members[0].invited);
    assert_eq!(nobody.for_address.len(), 1, "one invitation email");
    assert!(matches!(
        nobody.invites[0],
        Ok((InviteOutcome::Invited(_), _))
    ));
    assert_eq!(nobody.invites[1], Err(Refusal::NotInvitable));
    assert_eq!(nobody.invites[4], Err(Refusal::NotInvitable));
    for target in [
        Target::Undiscoverable,
        Target::BlockedTheImporter,
        Target::BlockedByTheImporter,
        Target::Deactivated,
    ] {
        let world = b7_world(target);
        assert_eq!(world.reports, nobody.reports, "{target:?}");
        assert_eq!(world.invites, nobody.invites, "{target:?}");
        assert_eq!(world.standing, nobody.standing, "{target:?}");
        assert_eq!(world.sent, nobody.sent, "{target:?}");
        assert_eq!(world.records, nobody.records, "{target:?}");
        assert_eq!(world.events, nobody.events, "{target:?}");
        assert!(
            world.for_address.is_empty(),
            "{target:?}: no invitation email to a member's address"
        );
    }
}

/// The other side of B7: a discoverable member the importer may see is
/// reported as a member, and inviting their address sends an ordinary
/// invitation with the address as proof.
#[test]
fn a_findable_member_is_matched_and_invited_the_ordinary_way() {
    let w = World::new();
    let ana = w.person(m(1));
    let bo = w.person_emails(2, &[("bo@example.com", true)]);
    let report = w.import(ana, "bo@example.com").outcome;
    assert_eq!(report.members[0].member, bo);
    let sent = w.net.invite_to_join(ana, &email("Bo@example.com")).unwrap();
    let InviteOutcome::Member {
        member,
        sent: SendOutcome::Sent(id),
    } = sent.outcome
    else {
        panic!("expected an ordinary invitation, got {:?}", sent.outcome)
    };
    assert_eq!(member, bo);
    assert_eq!(w.inbox(bo), vec![id]);
    // The ordinary rules apply: again is too soon.
    assert!(matches!(
        refusal(w.net.invite_to_join(ana, &email("bo@example.com"))),
        Refusal::ResendTooSoon { .. }
    ));
    assert!(w.invitee("bo@example.com").is_none());
}

// ------------------------------------------------------ C4: invite to join

/// C4: at most the policy's number of invitations per address across all
/// senders; again from the same sender answers the first and changes
/// nothing; refusals use no quota and emit nothing.
#[test]
fn c4_the_per_address_cap_holds_across_senders() {
    let w = World::new();
    let senders: Vec<MemberId> = (1..=5).map(|i| w.person(m(i))).collect();
    let x = email("x@example.org");
    let mut ids = Vec::new();
    for &s in &senders[..3] {
        let done = w.net.invite_to_join(s, &x).unwrap();
        let id = invited(&done);
        assert_eq!(
            done.events,
            vec![Event::JoinInvitationSent {
                invitation: id,
                sender: s,
                email: x.clone()
            }]
        );
        assert_eq!(
            done.mail,
            vec![Event::JoinInvitationReceived {
                invitation: id,
                sender: s,
                email: x.clone(),
                note: None,
            }]
        );
        assert_eq!(done.events[0].audience(), Audience::Member(s));
        assert_eq!(done.mail[0].audience(), Audience::Address);
        ids.push(id);
    }
    let before = w.net.store().snapshot();
    let again = w
        .net
        .invite_to_join(senders[1], &email("X@Example.org"))
        .unwrap();
    assert_eq!(again.outcome, InviteOutcome::Invited(ids[1]));
    assert!(again.events.is_empty());
    assert_eq!(
        refusal(w.net.invite_to_join(senders[3], &x)),
        Refusal::NotInvitable
    );
    assert_eq!(
        w.net.store().snapshot(),
        before,
        "nothing written, no quota"
    );
    assert_eq!(w.invitee("x@example.org").unwrap().invitations.len(), 3);
}

/// C4: never after the address opted out; opting out twice changes nothing.
#[test]
fn c4_no_invitation_after_an_opt_out() {
    let w = World::new();
    let [a, b] = [1, 2].map(|i| w.person(m(i)));
    let x = email("x@example.org");
    let _ = w.net.invite_to_join(a, &x).unwrap();
    let out = w.net.opt_out(&email("X@example.org")).unwrap();
    assert!(out.events.is_empty());
    assert_eq!(
        out.mail,
        vec![Event::OptedOut {
            email: email("X@example.org")
        }]
    );
    let snapshot = w.net.store().snapshot();
    let again = w.net.opt_out(&x).unwrap();
    assert!(again.events.is_empty() && again.mail.is_empty());
    assert_eq!(w.net.store().snapshot(), snapshot);
    assert_eq!(refusal(w.net.invite_to_join(b, &x)), Refusal::NotInvitable);
    // An address nobody invited may opt out too.
    let _ = w.net.opt_out(&email("y@example.org")).unwrap();
    assert_eq!(
        refusal(w.net.invite_to_join(a, &email("y@example.org"))),
        Refusal::NotInvitable
    );
    // And joining with it delivers nothing.
    let c = w.person_emails(3, &[("x@example.org", true)]);
    assert!(w.inbox(c).is_empty());
}

/// C4 under concurrency: five senders race for a cap of three.
#[test]
fn c4_the_cap_holds_under_concurrent_senders() {
    for _ in 0..10 {
        let w = World::new();
        let senders: Vec<MemberId> = (1..=5).map(|i| w.person(m(i))).collect();
        let x = email("x@example.org");
        let barrier = std::sync::Barrier::new(senders.len());
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = senders
                .iter()
                .map(|&from| {
                    let (w, x, barrier) = (&w, &x, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        w.net.invite_to_join(from, x)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
        for r in results.into_iter().filter(Result::is_err) {
            assert_eq!(refusal(r), Refusal::NotInvitable);
        }
        assert_eq!(w.invitee("x@example.org").unwrap().invitations.len(), 3);
    }
}

/// SPEC 9 and 4: an invitation to join counts toward the sender's quota,
/// through the same check as a send, both ways; joining does not count it
/// again.
#[test]
fn c4_invitations_to_join_share_the_quota_and_are_not_counted_twice() {
    let w = World::with(quota_policy(3));
    let [s, a, b] = [1, 2, 3].map(|i| w.person(m(i)));
    let _ = w
        .net
        .send(pronet::SendRequest::new(s, a).proof(&email("m2@example.com")))
        .unwrap();
    let _ = w.net.invite_to_join(s, &email("j1@example.org")).unwrap();
    let last = w.net.invite_to_join(s, &email("j2@example.org")).unwrap();
    let retry_at = T0.saturating_add(TimeDelta::days(30));
    assert!(last.events.contains(&Event::QuotaExhausted {
        member: s,
        retry_at
    }));
    support::refusals! {
        w.net.send(pronet::SendRequest::new(s, b).proof(&email("m3@example.com")))
            => Refusal::QuotaExhausted { retry_at },
        w.net.invite_to_join(s, &email("j3@example.org")) => Refusal::QuotaExhausted { retry_at },
    }
    // j1 joins: the invitation is delivered although the quota is full,
    // and it does not use another slot.
    w.at(TimeDelta::days(1));
    let joined = w.person_emails(10, &[("j1@example.org", true)]);
    assert_eq!(w.inbox(joined).len(), 1);
    w.at(TimeDelta::days(30));
    // At day 30 the first three sends leave the window: three slots, not two.
    for (i, to) in ["k1", "k2", "k3"].iter().enumerate() {
        let r = w
            .net
            .invite_to_join(s, &email(&format!("{to}@example.org")));
        assert!(r.is_ok(), "send {i}: {r:?}");
    }
}

/// C4: joining with the address turns every pending invitation to join into
/// an ordinary invitation with the same id, delivered to the new member,
/// visible to its sender, with the ordinary events.
#[test]
fn c4_joining_delivers_pending_invitations_as_ordinary_ones() {
    let w = World::new();
    let [s1, s2] = [1, 2].map(|i| w.person(m(i)));
    let id1 = invited(&w.net.invite_to_join(s1, &email("New@Example.org")).unwrap());
    let id2 = invited(&w.net.invite_to_join(s2, &email("new@example.org")).unwrap());
    w.at(TimeDelta::days(3));
    let newcomer = Member::person(MemberId::new(9), Profile::named("New"))
        .with_email(email("new@example.org"), true);
    let joined = w.net.register(newcomer).unwrap();
    let n = MemberId::new(9);
    assert!(
        joined
            .events
            .contains(&Event::MemberRegistered { member: n })
    );
    for (sender, id) in [(s1, id1), (s2, id2)] {
        assert!(joined.events.contains(&Event::InvitationSent {
            invitation: id,
            sender,
            recipient: n,
            supersedes: None
        }));
        assert!(joined.events.contains(&Event::InvitationReceived {
            invitation: id,
            sender,
            recipient: n,
            note: None
        }));
        assert_eq!(w.sent(sender), vec![id]);
    }
    let mut inbox = w.inbox(n);
    inbox.sort();
    assert_eq!(inbox, vec![id1, id2]);
    let record = w.invitee("new@example.org").unwrap();
    assert!(
        record
            .invitations
            .iter()
            .all(|i| i.state == JoinState::Delivered)
    );
    // The invitation is an ordinary one: accepting connects.
    let _ = w.net.accept(n, id1).unwrap();
    assert_eq!(w.net.degree(s1, n).unwrap(), Degree::First);
    // Delivering again finds nothing waiting.
    let again = w.net.deliver_join_invitations(n).unwrap();
    assert_eq!((again.outcome, again.events.len()), (0, 0));
}

/// C4: joining re-checks every send rule: a sender who left, one at the
/// outstanding cap, an expired invitation, an undiscoverable address and
/// the newcomer's "who may invite me" setting.
#[test]
fn c4_joining_rechecks_every_send_rule() {
    let w = World::with(Policy::builder().max_outstanding(1).build().unwrap());
    let [gone, busy, fine, early] = [1, 2, 3, 4].map(|i| w.person(m(i)));
    let helper = w.person(m(5));
    let x = email("x@example.org");
    let early_id = invited(&w.net.invite_to_join(early, &x).unwrap());
    w.at(TimeDelta::days(10));
    let _ = w.net.invite_to_join(gone, &x).unwrap();
    let _ = w.net.invite_to_join(busy, &x).unwrap();
    let _ = w.net.deactivate(gone).unwrap();
    let _ = w
        .net
        .send(pronet::SendRequest::new(busy, helper).proof(&email("m5@example.com")))
        .unwrap();
    // The early invitation expires after 180 days; the cap of 3 is reached.
    assert_eq!(
        refusal(w.net.invite_to_join(fine, &x)),
        Refusal::NotInvitable
    );
    w.at(TimeDelta::days(180));
    let n = MemberId::new(9);
    let joined = w
        .net
        .register(
            Member::person(n, Profile::named("X"))
                .with_email(x.clone(), true)
                .with_invite_preference(InvitePreference::ContactsOnly),
        )
        .unwrap();
    // Nothing delivered: early's expired, gone is gone, busy is at its cap.
    assert_eq!(joined.events, vec![Event::MemberRegistered { member: n }]);
    let record = w.invitee("x@example.org").unwrap();
    let states: Vec<_> = record
        .invitations
        .iter()
        .map(|i| (i.sender, i.state))
        .collect();
    assert_eq!(
        states,
        vec![
            (early, JoinState::Pending),
            (gone, JoinState::Dropped),
            (busy, JoinState::Dropped),
        ]
    );
    assert!(w.inbox(n).is_empty() && w.held(n).is_empty());
    assert!(w.sent(early).is_empty());
    let _ = early_id;

    // A sender within the rules, to a newcomer who admits only contacts:
    // delivered, but held, silently.
    let y = email("y@example.org");
    let id = invited(&w.net.invite_to_join(fine, &y).unwrap());
    let m = MemberId::new(10);
    let joined = w
        .net
        .register(
            Member::person(m, Profile::named("Y"))
                .with_email(y.clone(), true)
                .with_invite_preference(InvitePreference::ContactsOnly),
        )
        .unwrap();
    assert!(
        !joined
            .events
            .iter()
            .any(|e| matches!(e, Event::InvitationReceived { .. }))
    );
    assert_eq!(w.held(m), vec![id]);
    assert_eq!(w.sent(fine), vec![id]);
}

/// Delivery needs the address to be discoverable (delivering tells the
/// sender who has it); making it discoverable later delivers.
#[test]
fn c4_an_undiscoverable_address_is_delivered_once_made_discoverable() {
    let w = World::new();
    let s = w.person(m(1));
    let z = email("z@example.org");
    let id = invited(&w.net.invite_to_join(s, &z).unwrap());
    let n = w.person_emails(9, &[("z@example.org", false)]);
    assert!(w.inbox(n).is_empty());
    assert!(w.sent(s).is_empty());
    w.at(TimeDelta::days(5));
    let updated = w
        .net
        .update_member(n, |m| {
            m.emails.iter_mut().for_each(|e| e.discoverable = true);
        })
        .unwrap();
    assert!(updated.events.contains(&Event::InvitationReceived {
        invitation: id,
        sender: s,
        recipient: n,
        note: None
    }));
    assert_eq!(w.inbox(n), vec![id]);
}

#[test]
fn invite_to_join_refuses_unknown_senders_and_companies() {
    let w = World::new();
    let x = email("x@example.org");
    assert_eq!(
        refusal(w.net.invite_to_join(MemberId::new(7), &x)),
        Refusal::UnknownMember(MemberId::new(7))
    );
    let _ = w
        .net
        .register(Member::company(MemberId::new(8), Profile::named("Acme")))
        .unwrap();
    assert_eq!(
        refusal(w.net.invite_to_join(MemberId::new(8), &x)),
        Refusal::NotAPerson(MemberId::new(8))
    );
}

/// The import report says which non-members the importer already invited.
#[test]
fn the_report_marks_addresses_already_invited() {
    let w = World::new();
    let [a, b] = [1, 2].map(|i| w.person(m(i)));
    let _ = w.net.invite_to_join(a, &email("x@example.org")).unwrap();
    let _ = w.net.invite_to_join(b, &email("y@example.org")).unwrap();
    let report = w.import(a, "x@example.org, y@example.org").outcome;
    let flags: Vec<_> = report
        .not_members
        .iter()
        .map(|n| (n.email.canonical().to_owned(), n.invited))
        .collect();
    assert_eq!(
        flags,
        vec![
            ("x@example.org".into(), true),
            ("y@example.org".into(), false)
        ]
    );
}

/// SPEC 9 limits at full size: a file of exactly the default row limit
/// (50,000 rows) is imported in one atomic change, and importing it again
/// changes nothing; one more row is refused whole.
#[test]
fn an_import_at_the_default_row_limit_is_one_change() {
    let w = World::new();
    let ana = w.person(m(1));
    let _bo = w.person(m(2));
    let mut file = String::from("Name,Email\n");
    for i in 0..50_000 {
        file.push_str(&format!("Person {i},p{i}@example.org\n"));
    }
    file.push_str("Bo,m2@example.com\n");
    let err = w
        .net
        .import_contacts(ana, file.as_bytes(), &Format::Detect)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Import(ImportError::TooManyRows { max: 50_000 })
    ));
    let file = file.replacen("Person 0,p0@example.org\n", "", 1);
    let started = std::time::Instant::now();
    let done = w.import(ana, &file);
    let took = started.elapsed();
    assert_eq!(done.outcome.added, 50_000);
    assert_eq!(done.outcome.members.len(), 1);
    assert_eq!(done.outcome.not_members.len(), 49_999);
    assert_eq!(done.outcome.not_members[0].line, 2);
    let snapshot = w.net.store().snapshot();
    assert_eq!(w.import(ana, &file).outcome.added, 0);
    assert_eq!(w.net.store().snapshot(), snapshot);
    eprintln!("50,000 rows imported in {took:?}");
}
