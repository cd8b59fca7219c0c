//! Reliability tests for validated text values.
//!
//! * N1: email canonicalisation never panics, is idempotent, merges case,
//!   surrounding whitespace, Unicode normal forms and a trailing dot; never
//!   merges look-alikes (ß/ss, dotless ı, Cyrillic о) with another address.
//! * N2: notes are limited in grapheme clusters and in bytes; exactly the
//!   limit passes, one more fails; controls and bidi overrides are refused.
//!
//! Property tests use proptest's default configuration: 256 cases, which the
//! standard `PROPTEST_CASES` environment variable overrides.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use pronet::email::{Email, EmailError, EmailPart};
use pronet::note::{MAX_NOTE_BYTES, Note, NoteError};
use proptest::prelude::*;
use proptest::sample::select;
use serde::de::IntoDeserializer;
use serde::de::value::Error as ValueError;
use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, is_nfc};

// ---------------------------------------------------------------- helpers

fn email(s: &str) -> Email {
    Email::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn note(s: &str, max: usize) -> Note {
    match Note::parse(s, max) {
        Ok(Some(n)) => n,
        other => panic!("{s:?} should be a note, got {other:?}"),
    }
}

/// Serialises through serde's `Serializer` for `fmt::Formatter`, which
/// writes a serialised string as is: enough to see what a value serialises
/// to without a format crate.
struct ViaSerde<'a, T>(&'a T);

impl<T: Serialize> fmt::Display for ViaSerde<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.serialize(f)
    }
}

fn deserialize_str<'de, T: Deserialize<'de>>(s: &'de str) -> Result<T, ValueError> {
    T::deserialize(s.into_deserializer())
}

/// Letters and marks whose case mapping or normalisation is tricky.
const TRICKY: &[&str] = &[
    "ß",
    "\u{1E9E}", // ẞ capital sharp s -> ß
    "ı",
    "İ", // -> i + U+0307
    "I",
    "Σ",
    "σ",
    "ς",
    "о", // Cyrillic
    "О", // Cyrillic
    "а", // Cyrillic
    "é",
    "e\u{301}",
    "E\u{301}",
    "\u{212A}", // KELVIN SIGN, canonically K
    "\u{212B}", // ANGSTROM SIGN, canonically Å
    "\u{2126}", // OHM SIGN, canonically Ω
    "ǅ",
    "Ǆ",
    "\u{023A}", // Ⱥ, lowercase is longer in UTF-8
    "ﬁ",
    "Ａ",
    "한",
    "\u{1100}\u{1161}\u{11A8}",
    "\u{0958}", // composition-excluded
    "a\u{0344}",
    "\u{1FBC}", // ᾼ
    "Ω\u{0345}",
    "\u{0390}",
    "ϴ",
    "ǰ",
    "J\u{30C}", // NFC, but its lowercase j + caron composes to ǰ
    "T\u{308}", // likewise: t + diaeresis composes to ẗ
    "👍🏽",
    "用",
];

fn local_atom() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => "[a-zA-Z0-9]",
            1 => "[!#$%&'*+/=?^_`{|}~-]",
            3 => select(TRICKY).prop_map(str::to_owned),
        ],
        1..=3,
    )
    .prop_map(|pieces| pieces.concat())
}

fn domain_label() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => "[a-zA-Z0-9]",
            2 => select(TRICKY).prop_map(str::to_owned),
        ],
        1..=4,
    )
    .prop_map(|pieces| pieces.concat())
}

/// Valid addresses with tricky letters, optional trailing dot and optional
/// surrounding whitespace.
fn valid_address() -> impl Strategy<Value = String> {
    (
        select(&["", " ", "\t", "\u{3000}", "\n "][..]),
        prop::collection::vec(local_atom(), 1..=2),
        prop::collection::vec(domain_label(), 1..=3),
        any::<bool>(),
        select(&["", " ", "\r\n", "\u{2003}"][..]),
    )
        .prop_map(|(lead, atoms, labels, root_dot, trail)| {
            let dot = if root_dot { "." } else { "" };
            format!("{lead}{}@{}{dot}{trail}", atoms.join("."), labels.join("."))
        })
}

/// Strings shaped roughly like addresses, with arbitrary characters mixed
/// in: most are invalid, some are valid.
fn address_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[a-zA-Z0-9]",
            1 => any::<char>().prop_map(String::from),
            1 => select(&["@", ".", "-", "..", " ", "\u{37E}", "\u{1FEF}"][..]).prop_map(str::to_owned),
            2 => select(TRICKY).prop_map(str::to_owned),
        ],
        0..40,
    )
    .prop_map(|pieces| pieces.concat())
}

/// Checks everything that must hold of any successfully parsed address.
fn check_parsed(input: &str, e: &Email) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.as_written(), input.trim());
    let again = Email::parse(e.canonical());
    prop_assert!(
        again.is_ok(),
        "canonical {:?} rejected: {:?}",
        e.canonical(),
        again
    );
    let again = again.unwrap();
    prop_assert_eq!(again.canonical(), e.canonical());
    prop_assert_eq!(again.as_written(), e.canonical());
    prop_assert!(is_nfc(e.canonical()));
    let relowered: String = e.canonical().to_lowercase().nfc().collect();
    prop_assert_eq!(relowered.as_str(), e.canonical());
    prop_assert!(!e.canonical().ends_with('.'));
    prop_assert!(e.canonical().len() <= 254);
    prop_assert_eq!(&Email::parse(e.as_written()).unwrap(), e);
    Ok(())
}

// ---------------------------------------------------------------- N1 (email)

proptest! {
    #[test]
    fn n1_email_parse_never_panics_on_arbitrary_strings(s in any::<String>()) {
        match Email::parse(&s) {
            Ok(e) => check_parsed(&s, &e)?,
            Err(EmailError::Empty) => prop_assert!(s.trim().is_empty()),
            Err(_) => {}
        }
    }

    #[test]
    fn n1_email_parse_never_panics_and_is_idempotent_on_address_like_strings(
        s in address_like()
    ) {
        if let Ok(e) = Email::parse(&s) {
            check_parsed(&s, &e)?;
        }
    }

    #[test]
    fn n1_email_canonical_is_idempotent(s in valid_address()) {
        let e = Email::parse(&s);
        prop_assert!(e.is_ok(), "{:?} rejected: {:?}", s, e);
        check_parsed(&s, &e.unwrap())?;
    }

    #[test]
    fn n1_email_merges_unicode_normal_forms(s in valid_address()) {
        let nfc: String = s.nfc().collect();
        let nfd: String = s.nfd().collect();
        let e = email(&s);
        let from_nfd = email(&nfd);
        prop_assert_eq!(&email(&nfc), &e);
        prop_assert_eq!(&from_nfd, &e);
        // The address as written is kept, not normalised.
        prop_assert_eq!(from_nfd.as_written(), nfd.trim());
    }

    #[test]
    fn n1_email_merges_case_whitespace_and_trailing_dot(
        local in "[a-z0-9]{1,10}(\\.[a-z0-9+_-]{1,10}){0,2}",
        domain in "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,2}",
        flips in prop::collection::vec(any::<bool>(), 64),
        lead in select(&["", " ", "\t\n", "\u{00A0}", "\u{3000}"][..]),
        trail in select(&["", " ", "\r\n", "\u{2009}"][..]),
        root_dot in any::<bool>(),
    ) {
        let plain = format!("{local}@{domain}");
        let mut flipped: String = plain
            .chars()
            .zip(flips.iter().cycle())
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        if root_dot {
            flipped.push('.');
        }
        let written = format!("{lead}{flipped}{trail}");
        let e = email(&written);
        prop_assert_eq!(e.canonical(), plain.as_str());
        prop_assert_eq!(&e, &email(&plain));
        prop_assert_eq!(e.as_written(), flipped.as_str());
    }

    #[test]
    fn n1_email_never_merges_look_alikes(
        before in "[a-z0-9]{0,8}",
        after in "[a-z0-9]{0,8}",
        domain in "[a-z]{1,10}\\.[a-z]{2,4}",
        pair in select(&[
            ("ß", "ss"),
            ("ẞ", "ss"),
            ("ı", "i"),
            ("İ", "i"),
            ("о", "o"), // Cyrillic о, Latin o
            ("а", "a"), // Cyrillic а, Latin a
            ("Ａ", "a"), // fullwidth
            ("ﬁ", "fi"), // ligature
        ][..]),
    ) {
        let (look_alike, plain) = pair;
        let a = email(&format!("{before}{look_alike}{after}@{domain}"));
        let b = email(&format!("{before}{plain}{after}@{domain}"));
        prop_assert_ne!(&a, &b);
        prop_assert_ne!(a.canonical(), b.canonical());
        // And the same look-alike in the domain.
        let c = email(&format!("x@{before}{look_alike}{after}.{domain}"));
        let d = email(&format!("x@{before}{plain}{after}.{domain}"));
        prop_assert_ne!(&c, &d);
    }
}

#[test]
fn n1_email_never_panics_on_huge_or_hostile_input() {
    let huge = "a".repeat(100_000) + "@example.com";
    assert!(matches!(
        Email::parse(&huge),
        Err(EmailError::TooLong {
            part: EmailPart::Address,
            ..
        })
    ));
    let combining = format!("a{}@x.com", "\u{301}".repeat(10_000));
    assert!(matches!(
        Email::parse(&combining),
        Err(EmailError::TooLong { .. })
    ));
    for s in [
        "@",
        "@@",
        "..@..",
        "\u{0}",
        "a@\u{FFFF}",
        "\u{10FFFF}@\u{10FFFF}",
    ] {
        let _ = Email::parse(s);
    }
    assert_eq!(Email::parse("@"), Err(EmailError::EmptyLocalPart));
    // Split at the last '@': the domain is empty.
    assert_eq!(Email::parse("@@"), Err(EmailError::EmptyDomain));
    assert_eq!(
        Email::parse("@@x.com"),
        Err(EmailError::InvalidCharacter { character: '@' })
    );
    assert_eq!(
        Email::parse("a@@x.com"),
        Err(EmailError::InvalidCharacter { character: '@' })
    );
    assert_eq!(
        Email::parse("\u{10FFFF}@\u{10FFFF}").map(|e| e.canonical().to_owned()),
        Ok("\u{10FFFF}@\u{10FFFF}".to_owned())
    );
}

#[test]
fn n1_email_nfd_and_nfc_e_acute_are_the_same_address() {
    let nfc = email("ren\u{e9}@caf\u{e9}.fr");
    let nfd = email("rene\u{301}@cafe\u{301}.fr");
    assert_eq!(nfc, nfd);
    assert_eq!(nfd.canonical(), "ren\u{e9}@caf\u{e9}.fr");
    assert_eq!(nfd.as_written(), "rene\u{301}@cafe\u{301}.fr");
    assert_ne!(nfd.as_written(), nfc.as_written());
}

#[test]
fn n1_email_lowercasing_is_followed_by_nfc() {
    // "J" + combining caron is NFC (there is no precomposed capital), but its
    // lowercase "j" + caron is not: NFC composes it to U+01F0.
    let e = email("J\u{30C}ohn@x.com");
    assert_eq!(e.canonical(), "\u{1F0}ohn@x.com");
    assert_eq!(e, email("\u{1F0}ohn@x.com"));
    assert_eq!(e, email("j\u{30C}ohn@x.com"));
    assert_eq!(email(e.canonical()).canonical(), e.canonical());
}

#[test]
fn n1_email_case_and_trailing_dot_merge() {
    let a = email("User@Example.COM.");
    let b = email("user@example.com");
    assert_eq!(a, b);
    assert_eq!(a.canonical(), "user@example.com");
    assert_eq!(a.as_written(), "User@Example.COM.");
    assert_eq!(a.to_string(), "User@Example.COM.");
    // Only one trailing dot is the DNS root.
    assert_eq!(
        Email::parse("user@example.com.."),
        Err(EmailError::DomainLabel {
            label: String::new()
        })
    );
}

#[test]
fn n1_email_surrounding_whitespace_is_trimmed_for_both_forms() {
    let e = email(" \t\u{3000}Ann@Example.org \r\n");
    assert_eq!(e.as_written(), "Ann@Example.org");
    assert_eq!(e.canonical(), "ann@example.org");
    assert_eq!(e, email("ann@example.org"));
}

#[test]
fn n1_email_sharp_s_is_not_ss() {
    assert_ne!(email("straße@x.de"), email("strasse@x.de"));
    assert_eq!(email("straße@x.de").canonical(), "straße@x.de");
    // Capital sharp s lowercases to ß: that is case, and merges.
    assert_eq!(email("STRA\u{1E9E}E@x.de"), email("straße@x.de"));
    assert_eq!(email("STRASSE@x.de"), email("strasse@x.de"));
    assert_ne!(email("STRASSE@x.de"), email("straße@x.de"));
}

#[test]
fn n1_email_dotless_and_dotted_i_stay_distinct() {
    assert_ne!(email("ırmak@x.tr"), email("irmak@x.tr"));
    assert_eq!(email("ırmak@x.tr").canonical(), "ırmak@x.tr");
    assert_eq!(email("IRMAK@x.tr"), email("irmak@x.tr"));
    // Capital dotted İ lowercases to i + combining dot above, not to i.
    assert_ne!(email("İrmak@x.tr"), email("irmak@x.tr"));
    assert_eq!(email("İrmak@x.tr").canonical(), "i\u{307}rmak@x.tr");
}

#[test]
fn n1_email_cyrillic_o_is_not_latin_o() {
    let cyrillic = email("\u{43e}lga@x.com");
    let latin = email("olga@x.com");
    assert_ne!(cyrillic, latin);
    // Cyrillic capital О merges with Cyrillic о (case), not with Latin o.
    assert_eq!(email("\u{41e}LGA@x.com"), cyrillic);
    assert_ne!(email("\u{41e}LGA@x.com"), latin);
    assert_ne!(email("x@\u{43e}rg.com"), email("x@org.com"));
}

#[test]
fn n1_email_compatibility_forms_are_not_merged_but_canonical_equivalents_are() {
    assert_ne!(email("\u{FF21}@x.com"), email("a@x.com")); // fullwidth A
    assert_ne!(email("\u{FB01}@x.com"), email("fi@x.com")); // ﬁ ligature
    assert_eq!(email("\u{212A}@x.com"), email("k@x.com")); // KELVIN SIGN ≡ K
}

#[test]
fn n1_email_provider_specific_rules_are_not_applied() {
    assert_ne!(email("ann+jobs@gmail.com"), email("ann@gmail.com"));
    assert_ne!(email("a.nn@gmail.com"), email("ann@gmail.com"));
    assert_eq!(
        email("Ann+Jobs@GMail.com").canonical(),
        "ann+jobs@gmail.com"
    );
}

#[test]
fn n1_email_equality_hash_and_order_use_the_canonical_key() {
    let spellings = ["Bob@X.org", "bob@x.org.", " BOB@x.ORG ", "bob@x.org"];
    let set: HashSet<Email> = spellings.iter().map(|s| email(s)).collect();
    assert_eq!(set.len(), 1);
    let sorted: BTreeSet<Email> = ["b@x.org", "A@x.org", "c@x.org", "B@X.ORG"]
        .iter()
        .map(|s| email(s))
        .collect();
    let keys: Vec<&str> = sorted.iter().map(Email::canonical).collect();
    assert_eq!(keys, ["a@x.org", "b@x.org", "c@x.org"]);
    assert!(email("A@x.org") < email("b@x.org"));
}

#[test]
fn n1_email_from_str_and_display() {
    let e: Email = "Zoe@Example.com".parse().unwrap();
    assert_eq!(e.to_string(), "Zoe@Example.com");
    assert_eq!("nope".parse::<Email>(), Err(EmailError::MissingAt));
}

#[test]
fn n1_email_serde_writes_as_written_and_validates_on_read() {
    let e = email(" Zoe@Example.COM. ");
    assert_eq!(ViaSerde(&e).to_string(), "Zoe@Example.COM.");
    let back: Email = deserialize_str("Zoe@Example.COM.").unwrap();
    assert_eq!(back.as_written(), "Zoe@Example.COM.");
    assert_eq!(back.canonical(), "zoe@example.com");
    let trimmed: Email = deserialize_str("  zoe@example.com\n").unwrap();
    assert_eq!(trimmed.as_written(), "zoe@example.com");

    let err = deserialize_str::<Email>("not an address").unwrap_err();
    assert_eq!(err.to_string(), "email address has no '@'");
    let err = deserialize_str::<Email>("a\u{202E}b@x.com").unwrap_err();
    assert!(err.to_string().contains("U+202E"), "{err}");
    assert!(deserialize_str::<Email>("").is_err());
    // Owned strings go through the same validation.
    let owned: Result<Email, ValueError> =
        Email::deserialize(String::from("x@y.z").into_deserializer());
    assert_eq!(owned.unwrap(), email("X@Y.Z"));
    let owned: Result<Email, ValueError> =
        Email::deserialize(String::from("x@-y.z").into_deserializer());
    assert!(owned.is_err());
}

#[test]
fn n1_email_internationalised_addresses_are_accepted() {
    for s in [
        "用户@例子.广告",
        "δοκιμή@παράδειγμα.δοκιμή",
        "अजय@डाटा.भारत",
        "Ελένη@Παράδειγμα.gr",
        "o'brien+news@mail.example.co.uk",
        "!#$%&'*+/=?^_`{|}~-@x.io",
    ] {
        let e = email(s);
        assert_eq!(e.as_written(), s);
    }
    assert_eq!(
        email("Ελένη@Παράδειγμα.gr").canonical(),
        "ελένη@παράδειγμα.gr"
    );
}

#[test]
fn n1_email_empty_and_missing_parts() {
    assert_eq!(Email::parse(""), Err(EmailError::Empty));
    assert_eq!(Email::parse(" \t\n\u{3000}"), Err(EmailError::Empty));
    assert_eq!(Email::parse("user"), Err(EmailError::MissingAt));
    assert_eq!(Email::parse("user.example.com"), Err(EmailError::MissingAt));
    assert_eq!(
        Email::parse("@example.com"),
        Err(EmailError::EmptyLocalPart)
    );
    assert_eq!(Email::parse("user@"), Err(EmailError::EmptyDomain));
    assert_eq!(Email::parse("user@."), Err(EmailError::EmptyDomain));
}

#[test]
fn n1_email_length_limits_exactly_the_limit_passes() {
    let local64 = "a".repeat(64);
    assert!(Email::parse(&format!("{local64}@x.com")).is_ok());
    assert_eq!(
        Email::parse(&format!("{local64}a@x.com")),
        Err(EmailError::TooLong {
            part: EmailPart::LocalPart,
            bytes: 65,
            max: 64
        })
    );
    // 64 + 1 + 189 = 254 bytes.
    let domain189 = format!("{}.{}.{}", "b".repeat(63), "c".repeat(63), "d".repeat(61));
    let at_limit = format!("{local64}@{domain189}");
    assert_eq!(at_limit.len(), 254);
    assert!(Email::parse(&at_limit).is_ok());
    // Surrounding whitespace does not count.
    assert!(Email::parse(&format!("  {at_limit}\n")).is_ok());
    assert_eq!(
        Email::parse(&format!("{at_limit}e")),
        Err(EmailError::TooLong {
            part: EmailPart::Address,
            bytes: 255,
            max: 254
        })
    );
    // Multi-byte characters count in bytes: 32 × 'é' is 64 bytes, 33 is 66.
    assert!(Email::parse(&format!("{}@x.com", "é".repeat(32))).is_ok());
    assert_eq!(
        Email::parse(&format!("{}@x.com", "é".repeat(33))),
        Err(EmailError::TooLong {
            part: EmailPart::LocalPart,
            bytes: 66,
            max: 64
        })
    );
}

#[test]
fn n1_email_invalid_characters_are_refused() {
    let cases = [
        ("us er@x.com", ' '),
        ("user@ex ample.com", ' '),
        ("a\u{0}b@x.com", '\u{0}'),
        ("a\u{7f}@x.com", '\u{7f}'),
        ("a\u{85}@x.com", '\u{85}'),
        ("a\u{a0}b@x.com", '\u{a0}'),
        ("a<b@x.com", '<'),
        ("a>b@x.com", '>'),
        ("a(b)@x.com", '('),
        ("a,b@x.com", ','),
        ("a;b@x.com", ';'),
        ("a:b@x.com", ':'),
        ("a\\b@x.com", '\\'),
        ("\"john\"@x.com", '"'),
        ("a@b@x.com", '@'),
        ("a@[192.0.2.1]", '['),
        ("a@x_y.com", '_'),
        ("a@x+y.com", '+'),
        ("a\u{202E}b@x.com", '\u{202E}'),
        ("a\u{200B}b@x.com", '\u{200B}'),
        ("a\u{FEFF}@x.com", '\u{FEFF}'),
        ("a\u{AD}b@x.com", '\u{AD}'),
        ("a\u{FFFD}@x.com", '\u{FFFD}'),
        ("a@x\u{3002}com", '\u{3002}'),
        // GREEK QUESTION MARK is canonically ';', refused once normalised.
        ("a\u{37E}@x.com", ';'),
    ];
    for (input, character) in cases {
        assert_eq!(
            Email::parse(input),
            Err(EmailError::InvalidCharacter { character }),
            "{input:?}"
        );
    }
}

#[test]
fn n1_email_local_part_dots_and_domain_labels() {
    for s in [".a@x.com", "a.@x.com", "a..b@x.com"] {
        assert_eq!(Email::parse(s), Err(EmailError::MisplacedDot), "{s:?}");
    }
    assert!(Email::parse("a.b.c@x.com").is_ok());
    let label = |l: &str| {
        Err(EmailError::DomainLabel {
            label: l.to_owned(),
        })
    };
    assert_eq!(Email::parse("a@x..com"), label(""));
    assert_eq!(Email::parse("a@.com"), label(""));
    assert_eq!(Email::parse("a@-x.com"), label("-x"));
    assert_eq!(Email::parse("a@x-.com"), label("x-"));
    assert!(Email::parse("a@x-y.com").is_ok());
    let l63 = "l".repeat(63);
    assert!(Email::parse(&format!("a@{l63}.com")).is_ok());
    assert_eq!(
        Email::parse(&format!("a@{l63}m.com")),
        label(&format!("{l63}m"))
    );
    // Labels are measured in UTF-8 bytes: 31 × 'я' is 62 bytes, 32 is 64.
    assert!(Email::parse(&format!("a@{}.ru", "я".repeat(31))).is_ok());
    assert!(matches!(
        Email::parse(&format!("a@{}.ru", "я".repeat(32))),
        Err(EmailError::DomainLabel { .. })
    ));
}

// ---------------------------------------------------------------- N2 (notes)

/// Grapheme clusters that stay separate clusters when concatenated after a
/// letter and before one another.
const GRAPHEMES: &[&str] = &[
    "a",
    "Z",
    " ",
    "é",
    "e\u{301}",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🇫🇷",
    "\r\n",
    "\n",
    "한",
    "\u{1100}\u{1161}\u{11A8}",
    "ก\u{E33}",
    "ß",
    "\u{2028}",
    "!",
];

fn note_text() -> impl Strategy<Value = (String, usize)> {
    prop::collection::vec(select(GRAPHEMES), 0..60).prop_map(|gs| {
        // A leading letter makes the note non-blank.
        (format!("x{}", gs.concat()), gs.len() + 1)
    })
}

proptest! {
    #[test]
    fn n2_note_parse_never_panics(s in any::<String>(), max in 0usize..400) {
        match Note::parse(&s, max) {
            Ok(None) => prop_assert!(s.chars().all(char::is_whitespace)),
            Ok(Some(n)) => {
                prop_assert_eq!(n.as_str(), s.as_str());
                prop_assert!(n.chars() <= max);
                prop_assert!(s.len() <= MAX_NOTE_BYTES);
                prop_assert!(!s.chars().any(|c| c.is_control() && c != '\n' && c != '\r'));
            }
            Err(NoteError::TooManyBytes { bytes, max }) => {
                prop_assert_eq!(bytes, s.len());
                prop_assert_eq!(max, MAX_NOTE_BYTES);
            }
            Err(NoteError::ControlCharacter { position, character })
            | Err(NoteError::BidiOverride { position, character }) => {
                prop_assert_eq!(s[position..].chars().next(), Some(character));
            }
            Err(_) => {}
        }
    }

    #[test]
    fn n2_note_exactly_the_grapheme_limit_passes_one_more_fails(
        (text, count) in note_text()
    ) {
        let n = note(&text, count);
        prop_assert_eq!(n.chars(), count);
        prop_assert_eq!(n.as_str(), text.as_str());
        prop_assert_eq!(
            Note::parse(&text, count - 1),
            Err(NoteError::TooLong { chars: count, max: count - 1 })
        );
    }

    #[test]
    fn n2_note_exactly_the_byte_limit_passes_one_more_fails(g in select(GRAPHEMES)) {
        let repeats = (MAX_NOTE_BYTES - 1) / g.len();
        let fill = MAX_NOTE_BYTES - 1 - repeats * g.len();
        let text = format!("x{}{}", g.repeat(repeats), "a".repeat(fill));
        prop_assert_eq!(text.len(), MAX_NOTE_BYTES);
        let n = note(&text, MAX_NOTE_BYTES);
        prop_assert_eq!(n.chars(), 1 + repeats + fill);
        let over = format!("{text}a");
        prop_assert_eq!(
            Note::parse(&over, MAX_NOTE_BYTES),
            Err(NoteError::TooManyBytes { bytes: MAX_NOTE_BYTES + 1, max: MAX_NOTE_BYTES })
        );
    }

    #[test]
    fn n2_note_controls_are_refused_at_their_byte_offset(
        (prefix, _) in note_text(),
        control in any::<char>().prop_filter("a control other than a line break", |c| {
            c.is_control() && *c != '\n' && *c != '\r'
        }),
        suffix in "[a-z ]{0,10}",
    ) {
        let text = format!("{prefix}{control}{suffix}");
        prop_assert_eq!(
            Note::parse(&text, MAX_NOTE_BYTES),
            Err(NoteError::ControlCharacter { position: prefix.len(), character: control })
        );
    }

    #[test]
    fn n2_note_bidi_controls_are_refused_at_their_byte_offset(
        (prefix, _) in note_text(),
        bidi in select(&[
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
            '\u{200E}', '\u{200F}', '\u{061C}',
        ][..]),
        suffix in "[a-z ]{0,10}",
    ) {
        let text = format!("{prefix}{bidi}{suffix}");
        prop_assert_eq!(
            Note::parse(&text, MAX_NOTE_BYTES),
            Err(NoteError::BidiOverride { position: prefix.len(), character: bidi })
        );
    }
}

#[test]
fn n2_note_blank_is_no_note() {
    // Whitespace controls (tab, VT, FF, NEL) in a blank text make no note,
    // rather than an error.
    for s in [
        "",
        " ",
        "\n\r\n",
        "\t \u{3000}",
        "\u{0b}\u{0c}\u{85}",
        "\u{2028}",
        &" ".repeat(5000),
    ] {
        assert_eq!(Note::parse(s, 300), Ok(None), "{s:?}");
    }
    assert!(Note::parse(" . ", 300).unwrap().is_some());
}

#[test]
fn n2_note_text_is_kept_exactly_as_written() {
    let text = "  Hello,\r\n\n  nice to meet you.  \n";
    let n = note(text, 300);
    assert_eq!(n.as_str(), text);
    assert_eq!(n.to_string(), text);
    assert_eq!(n.as_ref() as &str, text);
    // NFD stays NFD.
    assert_eq!(note("cafe\u{301}", 300).as_str(), "cafe\u{301}");
    assert_eq!(note("cafe\u{301}", 300).chars(), 4);
}

#[test]
fn n2_note_tier_limits_exactly_the_limit_passes() {
    for max in [200, 300] {
        let at = "a".repeat(max);
        assert_eq!(note(&at, max).chars(), max);
        assert_eq!(
            Note::parse(&format!("{at}b"), max),
            Err(NoteError::TooLong {
                chars: max + 1,
                max
            })
        );
    }
    // A paid-tier note is too long for Free.
    let paid = "a".repeat(250);
    assert!(note(&paid, 300).chars() == 250);
    assert_eq!(
        Note::parse(&paid, 200),
        Err(NoteError::TooLong {
            chars: 250,
            max: 200
        })
    );
    assert_eq!(
        Note::parse("a", 0),
        Err(NoteError::TooLong { chars: 1, max: 0 })
    );
}

#[test]
fn n2_note_emoji_with_skin_tone_is_one_grapheme_at_the_limit() {
    let thumbs = "👍🏽"; // 8 bytes, one grapheme
    assert_eq!(thumbs.chars().count(), 2);
    let at = thumbs.repeat(200);
    assert_eq!(at.len(), 1600);
    assert_eq!(note(&at, 200).chars(), 200);
    let over = thumbs.repeat(201);
    assert_eq!(
        Note::parse(&over, 200),
        Err(NoteError::TooLong {
            chars: 201,
            max: 200
        })
    );
    // A ZWJ family is one grapheme too.
    let family = "👨‍👩‍👧‍👦";
    assert_eq!(note(family, 1).chars(), 1);
    assert_eq!(note(&format!("{family}{thumbs}"), 2).chars(), 2);
    assert_eq!(
        Note::parse(&format!("{family}{thumbs}"), 1),
        Err(NoteError::TooLong { chars: 2, max: 1 })
    );
}

#[test]
fn n2_note_byte_limit_with_two_byte_characters() {
    let at = "é".repeat(1000);
    assert_eq!(at.len(), MAX_NOTE_BYTES);
    assert_eq!(note(&at, 1000).chars(), 1000);
    // Within bytes, the grapheme limit still applies.
    assert_eq!(
        Note::parse(&at, 300),
        Err(NoteError::TooLong {
            chars: 1000,
            max: 300
        })
    );
    assert_eq!(
        Note::parse(&format!("{at}a"), 2000),
        Err(NoteError::TooManyBytes {
            bytes: 2001,
            max: MAX_NOTE_BYTES
        })
    );
    assert_eq!(
        Note::parse(&"é".repeat(1001), 2000),
        Err(NoteError::TooManyBytes {
            bytes: 2002,
            max: MAX_NOTE_BYTES
        })
    );
}

#[test]
fn n2_note_line_breaks_are_allowed_other_controls_are_not() {
    let n = note("a\nb\rc\r\nd", 300);
    assert_eq!(n.chars(), 7, "\\r\\n is one grapheme");
    assert!(note("a\u{2028}b\u{2029}", 300).chars() == 4);
    let cases = [
        ("a\tb", 1, '\t'),
        ("\u{0}", 0, '\u{0}'),
        ("é\u{7}", 2, '\u{7}'),
        ("ok \u{1b}[31m", 3, '\u{1b}'),
        ("x\u{7f}", 1, '\u{7f}'),
        ("x\u{85}y", 1, '\u{85}'),
        ("line\n\u{0b}", 5, '\u{0b}'),
        ("x\u{0c}", 1, '\u{0c}'),
    ];
    for (text, position, character) in cases {
        assert_eq!(
            Note::parse(text, 300),
            Err(NoteError::ControlCharacter {
                position,
                character
            }),
            "{text:?}"
        );
    }
}

#[test]
fn n2_note_bidi_overrides_are_refused() {
    // The classic "Trojan Source" reversal.
    let text = "Hi \u{202E}gnp.exe";
    assert_eq!(
        Note::parse(text, 300),
        Err(NoteError::BidiOverride {
            position: 3,
            character: '\u{202E}'
        })
    );
    for c in [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
    ] {
        let text = format!("é{c}");
        assert_eq!(
            Note::parse(&text, 300),
            Err(NoteError::BidiOverride {
                position: 2,
                character: c
            })
        );
    }
    // Right-to-left text itself is fine.
    assert_eq!(note("שלום עולם", 300).chars(), 9);
    assert_eq!(note("مرحبا", 300).chars(), 5);
}

#[test]
fn n2_note_serde_round_trip_and_validation_on_read() {
    let n = note("Hello 👋🏽\n", 300);
    assert_eq!(ViaSerde(&n).to_string(), "Hello 👋🏽\n");
    let back: Note = deserialize_str("Hello 👋🏽\n").unwrap();
    assert_eq!(back, n);
    assert_eq!(back.chars(), 8);

    // The tier limit is not applied on read: 1500 graphemes within 2000 bytes.
    let long = "a".repeat(1500);
    let read: Note = deserialize_str(&long).unwrap();
    assert_eq!(read.chars(), 1500);
    // ...but the byte limit and character rules are.
    let too_big = "a".repeat(MAX_NOTE_BYTES + 1);
    let err = deserialize_str::<Note>(&too_big).unwrap_err();
    assert_eq!(
        err.to_string(),
        "note is too large: 2001 bytes, at most 2000 are allowed"
    );
    assert!(deserialize_str::<Note>("a\u{0}").is_err());
    assert!(deserialize_str::<Note>("a\u{202E}").is_err());
    // A blank string is not a note.
    assert!(deserialize_str::<Note>("   ").is_err());
    assert!(deserialize_str::<Note>("").is_err());
}

// ------------------------------------------- N2: invisible characters in notes

/// N2: invisible and format characters are refused in notes, with the
/// character and its byte offset (issue 11, item 7): the ones emails refuse,
/// Unicode tag characters hiding text, Hangul fillers, and a note of only
/// an invisible character.
#[test]
fn n2_note_invisible_characters_are_refused() {
    let hidden_tags: String = "hidden"
        .chars()
        .map(|c| char::from_u32(0xE0000 + u32::from(c)).unwrap())
        .collect();
    let cases: Vec<(String, usize, char)> = vec![
        ("\u{200B}".into(), 0, '\u{200B}'),
        ("hi\u{200B}there".into(), 2, '\u{200B}'),
        ("\u{FEFF}hello".into(), 0, '\u{FEFF}'),
        ("a\u{2060}b".into(), 1, '\u{2060}'),
        ("a\u{2061}b".into(), 1, '\u{2061}'),
        ("a\u{2062}b".into(), 1, '\u{2062}'),
        ("a\u{2063}b".into(), 1, '\u{2063}'),
        ("a\u{2064}b".into(), 1, '\u{2064}'),
        ("a\u{FFF9}b\u{FFFA}c\u{FFFB}".into(), 1, '\u{FFF9}'),
        ("x\u{3164}y".into(), 1, '\u{3164}'),
        ("x\u{115F}".into(), 1, '\u{115F}'),
        ("x\u{1160}".into(), 1, '\u{1160}'),
        ("x\u{FFA0}".into(), 1, '\u{FFA0}'),
        ("soft\u{00AD}hyphen".into(), 4, '\u{00AD}'),
        // Tag characters after an ordinary letter: hidden text.
        (format!("Hi{hidden_tags}"), 2, '\u{E0068}'),
        // Tags after the flag base but without the cancel tag.
        (format!("\u{1F3F4}{hidden_tags}"), 4, '\u{E0068}'),
        // A joiner that joins nothing.
        ("ok\u{200D}".into(), 2, '\u{200D}'),
        ("\u{200D}".into(), 0, '\u{200D}'),
        ("a \u{200C} b".into(), 2, '\u{200C}'),
        // Two variation selectors in a row (data hidden after an emoji).
        ("\u{2764}\u{FE0F}\u{FE0F}".into(), 6, '\u{FE0F}'),
        ("\u{1F600}\u{E0100}\u{E0101}".into(), 8, '\u{E0101}'),
    ];
    for (text, position, character) in cases {
        assert_eq!(
            Note::parse(&text, 300),
            Err(NoteError::InvisibleCharacter {
                position,
                character
            }),
            "{text:?}"
        );
        // Stored notes are validated the same way.
        assert!(deserialize_str::<Note>(&text).is_err(), "{text:?}");
    }
}

/// N2: the sequences that display keep working: emoji ZWJ sequences,
/// variation selectors after a visible character, flag tag sequences,
/// Persian and Indic joiners.
#[test]
fn n2_note_visible_sequences_with_joiners_and_selectors_pass() {
    for text in [
        "\u{1F469}\u{200D}\u{1F4BB} at work",          // 👩‍💻
        "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}", // family
        "\u{1F3F3}\u{FE0F}\u{200D}\u{1F308}",          // 🏳️‍🌈
        "\u{1F3F3}\u{FE0F}\u{200D}\u{26A7}\u{FE0F}",   // 🏳️‍⚧️
        "I \u{2764}\u{FE0F} it",
        // 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland: black flag, tags g b s c t, cancel tag.
        "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
        "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}", // می‌خواهم
        "\u{915}\u{94D}\u{200D}\u{937}",                             // क्‍ष
        "\u{8FBB}\u{E0100}", // 辻 with an ideographic variation
    ] {
        let n = note(text, 300);
        assert_eq!(n.as_str(), text);
    }
    // The flag counts as one character.
    let scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
    assert_eq!(note(scotland, 1).chars(), 1);
}

/// N1 with internationalised domains (issue #18): the Unicode and punycode
/// forms of one domain have one key, in both directions, while look-alikes
/// written in either form stay apart.
#[test]
fn n1_email_idn_forms_meet_but_look_alikes_do_not() {
    // Both directions: a contact saved in one form finds the member who
    // registered the other.
    let unicode = email("jan@bücher.de");
    let punycode = email("jan@xn--bcher-kva.de");
    assert_eq!(unicode, punycode);
    assert_eq!(punycode.canonical(), "jan@bücher.de");
    assert_eq!(email("jan@XN--BCHER-KVA.DE.").canonical(), "jan@bücher.de");
    assert_eq!(email("JAN@BÜCHER.DE").canonical(), "jan@bücher.de");
    // The address as written stays as given, for delivery.
    assert_eq!(punycode.as_written(), "jan@xn--bcher-kva.de");
    assert_eq!(unicode.as_written(), "jan@bücher.de");
    // Nontransitional processing: ß is its own letter, in either form.
    assert_eq!(email("a@straße.de"), email("a@xn--strae-oqa.de"));
    assert_ne!(email("a@xn--strae-oqa.de"), email("a@strasse.de"));
    assert_ne!(email("a@straße.de"), email("a@strasse.de"));
    // Cyrillic о in punycode is not Latin o.
    assert_eq!(email("x@xn--rg-emc.com"), email("x@\u{43e}rg.com"));
    assert_ne!(email("x@xn--rg-emc.com"), email("x@org.com"));
    // Dotless ı is not i.
    assert_eq!(email("x@xn--d-eka.com"), email("x@ıd.com"));
    assert_ne!(email("x@xn--d-eka.com"), email("x@id.com"));
    // Punycode that is not a valid IDNA label keeps its own key.
    assert_eq!(email("x@XN--A.com").canonical(), "x@xn--a.com");
    // Idempotent: the key parses to itself.
    for e in [&unicode, &punycode] {
        assert_eq!(email(e.canonical()).canonical(), e.canonical());
    }
}
