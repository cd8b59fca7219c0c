//! Validated email addresses with a canonical key for matching.
//!
//! An [`Email`] keeps two strings:
//!
//! * the address **as written** (surrounding whitespace trimmed, otherwise
//!   untouched), which is what mail is delivered to, and
//! * a **canonical key**, which is what addresses are matched, compared and
//!   hashed by.
//!
//! # Canonical key
//!
//! The canonical key merges spellings that are the same address for every
//! mail system — and nothing else:
//!
//! 1. surrounding Unicode whitespace is trimmed;
//! 2. the text is normalised to Unicode NFC, so a precomposed `é` and `e` +
//!    combining acute accent are the same;
//! 3. the address is split at its **last** `@`;
//! 4. the local part is lowercased with plain Unicode lowercasing
//!    ([`str::to_lowercase`]), then normalised to NFC again (lowercasing can
//!    leave a string that is no longer in NFC);
//! 5. the domain is lowercased and NFC-normalised the same way, and one
//!    trailing `.` (the DNS root) is removed.
//!
//! Lowercasing is *not* Unicode case folding: `ß` stays `ß` (it does not
//! become `ss`), dotless `ı` stays `ı`, and `İ` becomes `i` + combining dot
//! above, not `i`. Normalisation is NFC, *not* NFKC: compatibility look-alikes
//! such as fullwidth `Ａ` stay distinct from `a`, and letters from different
//! scripts (Cyrillic `о`, Latin `o`) are never merged. Characters that Unicode
//! declares canonically equivalent *are* merged (for example KELVIN SIGN
//! `U+212A` is the letter `K`, hence `k`).
//!
//! Provider-specific rules are deliberately **not** applied: `+tags` are kept
//! and dots in Gmail local parts are kept, because whether `a.b+x@` and `ab@`
//! reach the same mailbox is decided by each provider, and merging them for
//! one provider would wrongly merge distinct people at another.
//!
//! The canonical key is idempotent: parsing the canonical key of an address
//! gives an address with the same canonical key.
//!
//! # Accepted grammar
//!
//! A pragmatic subset of RFC 5321/5322 as extended to UTF-8 by RFC 6531:
//!
//! ```text
//! address    = local-part "@" domain [ "." ]         ; at most 254 bytes
//! local-part = atom *( "." atom )                    ; at most 64 bytes
//! atom       = 1*( ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*"
//!                / "+" / "-" / "/" / "=" / "?" / "^" / "_" / "`" / "{"
//!                / "|" / "}" / "~" / UTF8-non-ASCII )
//! domain     = label *( "." label )
//! label      = 1*63 bytes of ( ALPHA / DIGIT / "-" / UTF8-non-ASCII ),
//!              not starting or ending with "-"
//! ```
//!
//! Not accepted: quoted local parts (`"john doe"@x`), comments, domain
//! literals (`user@[192.0.2.1]`), and `_` in domains. Everywhere, control
//! characters, whitespace, and the invisible or text-reordering characters
//! U+00AD, U+061C, U+180E, U+200B, U+200E, U+200F, U+202A–U+202E,
//! U+2060–U+2064, U+2066–U+2069, U+FEFF, U+FFF9–U+FFFB and U+FFFD (the
//! replacement character, a sign of damaged text) are refused; zero-width
//! (non-)joiners U+200C/U+200D are allowed, as some scripts need them. In the
//! domain, the full stops U+3002, U+FF0E and U+FF61 (which IDNA treats as
//! `.`) are refused so that a domain has one spelling.
//!
//! # Internationalised domains
//!
//! A domain label written in punycode (`xn--...`) is decoded with UTS #46
//! ToUnicode processing (the `idna` crate, which is **nontransitional**:
//! `ß`, final sigma `ς` and the joiners keep their identity and never turn
//! into `ss`, `σ` or nothing), then lowercased and NFC-normalised like any
//! other label. So `bücher.de`, `BÜCHER.de` and `xn--bcher-kva.de` have one
//! key, `bücher.de`, while the address as written keeps the form the person
//! gave (mail is delivered to it). Labels written in Unicode are *not*
//! passed through the UTS #46 mapping: it folds compatibility forms
//! (fullwidth `ａ`, the `ﬁ` ligature) that the rule above keeps distinct,
//! and a punycode label can only ever decode to an already-mapped label, so
//! both forms of a real internationalised domain still meet. A punycode
//! label that UTS #46 refuses (bad punycode, a label that is not valid
//! after decoding) or whose decoded form this grammar does not accept
//! (longer than 63 bytes, a refused character, or a whole address over the
//! limit) keeps its lowercase `xn--` form, so IDNA never changes which
//! addresses are accepted.
//!
//! Keys stored before this rule (databases holding an address whose domain
//! has an `xn--` label) are not migrated: such a record stays under its
//! old key (`Key::EmailOwner`, `Key::Contact`, `Key::Invitee`) until it is
//! written again; the records themselves re-derive the new key when read,
//! since an [`Email`] is parsed again on deserialisation.
//! Byte limits are UTF-8 bytes, not punycode lengths.
//!
//! The limits and character rules are checked on the address as written and
//! again on its canonical key (normalisation and lowercasing can lengthen a
//! string, or, rarely, turn an accepted character into a refused one), so the
//! canonical key is always itself a valid address.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use idna::uts46::{AsciiDenyList, Hyphens, Uts46};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

/// Maximum length of a whole address, in UTF-8 bytes (RFC 5321 path limit
/// less the angle brackets).
pub const MAX_ADDRESS_BYTES: usize = 254;

/// Maximum length of the local part (before the `@`), in UTF-8 bytes
/// (RFC 5321).
pub const MAX_LOCAL_PART_BYTES: usize = 64;

/// Maximum length of one domain label, in UTF-8 bytes (RFC 1035).
pub const MAX_DOMAIN_LABEL_BYTES: usize = 63;

/// ASCII punctuation allowed in an atom of the local part (RFC 5322 `atext`).
const ATEXT_SYMBOLS: &str = "!#$%&'*+-/=?^_`{|}~";

/// A validated email address.
///
/// Keeps the address as written (trimmed) for delivery, and a canonical key
/// for matching; see the [module documentation](self) for the rules.
///
/// Equality, hashing and ordering use the canonical key only: two `Email`s
/// are equal if and only if their canonical keys are equal, even when they
/// were written differently.
///
/// Serialises as the address as written; deserialising runs [`Email::parse`],
/// so an address read from storage or the network is validated again.
#[derive(Debug, Clone)]
pub struct Email {
    written: String,
    canonical: String,
}

/// Which part of an address a [`EmailError::TooLong`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmailPart {
    /// The whole address.
    Address,
    /// The local part, before the `@`.
    LocalPart,
}

impl fmt::Display for EmailPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Address => f.write_str("the address"),
            Self::LocalPart => f.write_str("the part before the '@'"),
        }
    }
}

/// Why a string is not an acceptable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// The input is empty or only whitespace.
    #[error("email address is empty")]
    Empty,
    /// The address or its local part is longer than allowed.
    ///
    /// `bytes` is measured on the address as written (trimmed) or, when that
    /// is within the limit, on its canonical key.
    #[error("email address is too long: {part} is {bytes} bytes, at most {max} are allowed")]
    TooLong {
        /// The part that is too long.
        part: EmailPart,
        /// Its length in UTF-8 bytes.
        bytes: usize,
        /// The limit in UTF-8 bytes.
        max: usize,
    },
    /// There is no `@`.
    #[error("email address has no '@'")]
    MissingAt,
    /// Nothing comes before the `@`.
    #[error("email address has nothing before the '@'")]
    EmptyLocalPart,
    /// Nothing (or only the root `.`) comes after the `@`.
    #[error("email address has no domain after the '@'")]
    EmptyDomain,
    /// A character that is not allowed where it stands.
    #[error(
        "email address contains a character that is not allowed: {character:?} (U+{code:04X})",
        code = u32::from(*.character)
    )]
    InvalidCharacter {
        /// The offending character.
        character: char,
    },
    /// The local part starts or ends with `.`, or contains `..`.
    #[error("the part before the '@' may not start or end with '.' or contain '..'")]
    MisplacedDot,
    /// A domain label is empty (as in `a..b` or `.com`), starts or ends with
    /// `-`, or is longer than 63 bytes.
    #[error(
        "invalid domain label {label:?}: each label between dots must be 1 to 63 bytes \
         and may not start or end with '-'"
    )]
    DomainLabel {
        /// The offending label, as written.
        label: String,
    },
}

impl Email {
    /// Parses and validates an email address.
    ///
    /// Surrounding whitespace is trimmed; the rest is kept as written and
    /// returned by [`as_written`](Self::as_written). The canonical key used
    /// for matching is returned by [`canonical`](Self::canonical). See the
    /// [module documentation](self) for the accepted grammar and the
    /// canonicalisation rules.
    ///
    /// # Errors
    ///
    /// Returns an [`EmailError`] saying why the input is not an acceptable
    /// address. Never panics.
    ///
    /// # Example
    ///
    /// ```
    /// use pronet::email::{Email, EmailError};
    ///
    /// let email = Email::parse("  Ada.Lovelace@Example.COM. ")?;
    /// assert_eq!(email.as_written(), "Ada.Lovelace@Example.COM.");
    /// assert_eq!(email.canonical(), "ada.lovelace@example.com");
    /// assert_eq!(email, Email::parse("ada.lovelace@example.com")?);
    ///
    /// // Look-alikes are not merged.
    /// assert_ne!(Email::parse("straße@x.de")?, Email::parse("strasse@x.de")?);
    ///
    /// assert_eq!(Email::parse("no-at-sign"), Err(EmailError::MissingAt));
    /// # Ok::<(), EmailError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let written = input.trim();
        if written.is_empty() {
            return Err(EmailError::Empty);
        }
        validate(written)?;
        let canonical = canonicalize(written);
        validate(&canonical)?;
        Ok(Self {
            written: written.to_owned(),
            canonical,
        })
    }

    /// The address as written (surrounding whitespace trimmed); use it to
    /// deliver mail.
    #[must_use]
    pub fn as_written(&self) -> &str {
        &self.written
    }

    /// The canonical key; use it to match addresses.
    ///
    /// It is itself a valid address, and parsing it gives the same key.
    #[must_use]
    pub fn canonical(&self) -> &str {
        &self.canonical
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Email {
    /// Shows the address as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for Email {}

impl Hash for Email {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

impl PartialOrd for Email {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Email {
    fn cmp(&self, other: &Self) -> Ordering {
        self.canonical.cmp(&other.canonical)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.written)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EmailVisitor;

        impl Visitor<'_> for EmailVisitor {
            type Value = Email;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an email address string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Email, E> {
                Email::parse(v).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(EmailVisitor)
    }
}

/// Checks the structure, lengths and characters of a trimmed address.
fn validate(address: &str) -> Result<(), EmailError> {
    check_length(EmailPart::Address, address.len(), MAX_ADDRESS_BYTES)?;
    let (local, domain) = address.rsplit_once('@').ok_or(EmailError::MissingAt)?;
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    check_length(EmailPart::LocalPart, local.len(), MAX_LOCAL_PART_BYTES)?;
    validate_local(local)?;
    validate_domain(domain)
}

fn check_length(part: EmailPart, bytes: usize, max: usize) -> Result<(), EmailError> {
    if bytes > max {
        Err(EmailError::TooLong { part, bytes, max })
    } else {
        Ok(())
    }
}

fn validate_local(local: &str) -> Result<(), EmailError> {
    if let Some(character) = local.chars().find(|&c| !is_local_char(c)) {
        return Err(EmailError::InvalidCharacter { character });
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(EmailError::MisplacedDot);
    }
    Ok(())
}

/// Validates a domain whose optional trailing root `.` was already removed.
fn validate_domain(domain: &str) -> Result<(), EmailError> {
    if let Some(character) = domain.chars().find(|&c| !is_domain_char(c)) {
        return Err(EmailError::InvalidCharacter { character });
    }
    match domain.split('.').find(|label| !is_valid_label(label)) {
        Some(label) => Err(EmailError::DomainLabel {
            label: label.to_owned(),
        }),
        None => Ok(()),
    }
}

fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_DOMAIN_LABEL_BYTES
        && !label.starts_with('-')
        && !label.ends_with('-')
}

fn is_local_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '.' || ATEXT_SYMBOLS.contains(c)
    } else {
        is_allowed_non_ascii(c)
    }
}

fn is_domain_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '-' || c == '.'
    } else {
        // Full stops that IDNA maps to '.': refused so a domain has one spelling.
        !matches!(c, '\u{3002}' | '\u{FF0E}' | '\u{FF61}') && is_allowed_non_ascii(c)
    }
}

/// Non-ASCII characters are allowed (RFC 6531) unless they are controls,
/// whitespace, or invisible / text-reordering format characters.
fn is_allowed_non_ascii(c: char) -> bool {
    !(c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{FFFD}'
        ))
}

/// Computes the canonical key of a trimmed address. Total: never panics,
/// whatever the input (the result is validated by the caller).
fn canonicalize(written: &str) -> String {
    let nfc: String = written.nfc().collect();
    match nfc.rsplit_once('@') {
        Some((local, domain)) => {
            let local = lower_nfc(local);
            let mut domain = lower_nfc(domain);
            if domain.ends_with('.') {
                domain.pop();
            }
            let mut key = String::with_capacity(local.len() + 1 + domain.len());
            key.push_str(&local);
            key.push('@');
            key.push_str(&domain);
            match idn(&domain) {
                Some(unicode) => {
                    let mut idn_key = String::with_capacity(local.len() + 1 + unicode.len());
                    idn_key.push_str(&local);
                    idn_key.push('@');
                    idn_key.push_str(&unicode);
                    // All or nothing: a decoded domain that makes the
                    // address unacceptable keeps the punycode form.
                    if validate(&idn_key).is_ok() {
                        idn_key
                    } else {
                        key
                    }
                }
                None => key,
            }
        }
        None => lower_nfc(&nfc),
    }
}

/// The domain with its punycode labels decoded (see the module docs), or
/// `None` when it has none that decode. Total: never panics.
fn idn(domain: &str) -> Option<String> {
    let is_punycode = |label: &str| label.get(..4).is_some_and(|p| p == "xn--");
    if !domain.split('.').any(is_punycode) {
        return None;
    }
    let uts46 = Uts46::new();
    let mut changed = false;
    let labels: Vec<String> = domain
        .split('.')
        .map(|label| {
            if !is_punycode(label) {
                return label.to_owned();
            }
            let (unicode, result) =
                uts46.to_unicode(label.as_bytes(), AsciiDenyList::STD3, Hyphens::Allow);
            let decoded = lower_nfc(&unicode);
            let acceptable = result.is_ok()
                && !decoded.contains('.')
                && !is_punycode(&decoded)
                && is_valid_label(&decoded)
                && decoded.chars().all(is_domain_char);
            if acceptable {
                changed = true;
                decoded
            } else {
                label.to_owned()
            }
        })
        .collect();
    changed.then(|| labels.join("."))
}

/// Lowercases, then re-normalises to NFC: lowercasing an NFC string can
/// produce one that is not in NFC.
fn lower_nfc(s: &str) -> String {
    s.to_lowercase().nfc().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn canonicalize_lowercases_and_strips_one_trailing_dot() {
        assert_eq!(canonicalize("A.B@Ex.COM."), "a.b@ex.com");
        assert_eq!(canonicalize("a@b.."), "a@b.");
    }

    #[test]
    fn internationalised_domains_have_one_key() {
        assert_eq!(canonicalize("Ana@BÜCHER.de"), "ana@bücher.de");
        assert_eq!(canonicalize("ana@xn--bcher-kva.de"), "ana@bücher.de");
        assert_eq!(canonicalize("ana@XN--BCHER-KVA.DE."), "ana@bücher.de");
        // Nontransitional: ß stays ß (transitional processing would give ss).
        assert_eq!(canonicalize("a@straße.de"), "a@straße.de");
        assert_eq!(canonicalize("a@xn--strae-oqa.de"), "a@straße.de");
        // A bad punycode label keeps the lowercase form.
        assert_eq!(canonicalize("a@XN--ZZZZ-.de"), "a@xn--zzzz-.de");
        assert_eq!(canonicalize("a@xn--.de"), "a@xn--.de");
        // Punycode of plain ASCII is not a valid IDNA label: kept.
        assert_eq!(canonicalize("a@xn--abc-.de"), "a@xn--abc-.de");
        // Unicode labels are not mapped: fullwidth stays fullwidth.
        assert_eq!(canonicalize("a@\u{FF41}b.de"), "a@\u{FF41}b.de");
    }

    #[test]
    fn canonicalize_without_at_is_total() {
        assert_eq!(canonicalize("ABC"), "abc");
    }

    #[test]
    fn canonical_is_checked_again_after_normalisation() {
        // GREEK QUESTION MARK is canonically equivalent to ';'.
        assert_eq!(
            Email::parse("a\u{037E}b@x.com"),
            Err(EmailError::InvalidCharacter { character: ';' })
        );
        // U+023A (2 bytes) lowercases to U+2C65 (3 bytes): 32 of them fit as
        // written (64 bytes) but not once lowercased (96 bytes).
        let local = "\u{023A}".repeat(32);
        assert_eq!(
            Email::parse(&format!("{local}@x.com")),
            Err(EmailError::TooLong {
                part: EmailPart::LocalPart,
                bytes: 96,
                max: MAX_LOCAL_PART_BYTES
            })
        );
    }

    #[test]
    fn error_messages_name_the_problem() {
        let err = EmailError::InvalidCharacter { character: '\t' };
        assert_eq!(
            err.to_string(),
            "email address contains a character that is not allowed: '\\t' (U+0009)"
        );
        let err = EmailError::TooLong {
            part: EmailPart::LocalPart,
            bytes: 65,
            max: 64,
        };
        assert_eq!(
            err.to_string(),
            "email address is too long: the part before the '@' is 65 bytes, at most 64 are allowed"
        );
    }
}
