//! vCard address books (issue #18): the `.vcf` files phones and address-book
//! apps export (iOS and Android contacts, macOS Contacts, Thunderbird,
//! Outlook), versions 2.1, 3.0 (RFC 2426) and 4.0 (RFC 6350).
//!
//! A small streaming, line-based reader written for this job rather than a
//! vCard crate: pronet needs three properties of each card, under the
//! import's limits, in one pass that never holds a photo or any other value
//! it does not read, and never panics on garbage (RELIABILITY C1, fuzzed
//! with the CSV reader by `fuzz/fuzz_targets/import.rs`).
//!
//! * **Cards** run from `BEGIN:VCARD` to `END:VCARD`; a file holds any
//!   number. Names and parameters are matched ignoring ASCII case; a group
//!   prefix (`item1.EMAIL`, as Apple writes) is ignored.
//! * **Folded lines** (a line starting with a space or tab continues the
//!   one before it) are unfolded for the properties read, and skipped
//!   without being copied for every other one: an embedded `PHOTO` (base64,
//!   folded, or a 2.1 body of bare lines ending at a blank line) costs no
//!   memory beyond the decoded text itself.
//! * **What is read:** every `EMAIL` (whatever its `TYPE=`, `HOME`,
//!   `INTERNET`, `PREF` parameters), the name from `FN`, or from `N`
//!   (given, additional and family names) when `FN` is missing or empty.
//!   Values may be `QUOTED-PRINTABLE` (2.1, with `=` soft line breaks) in
//!   the `CHARSET=` they name (UTF-8 when none is named and the bytes are
//!   UTF-8, else Windows-1252); the escapes `\,` `\;` `\\` `\n` are undone.
//!   Base64-encoded names or addresses are not read.
//! * **The report:** each address comes with the line of its `EMAIL`
//!   property; a card with no address is a bad row at its `BEGIN:VCARD`
//!   line ([`Problem::NoAddress`]), as is a card that never ends
//!   ([`Problem::UnclosedCard`]; its addresses are not kept, as the file
//!   may be cut short); an address that does not parse or a value longer
//!   than the field limit is a bad row at its own line (a name too long
//!   refuses the card, as it refuses a CSV row); text outside the cards is
//!   one bad row per run ([`Problem::OutsideCard`]).
//! * **Limits:** the same [`ImportLimits`]: the size before anything is
//!   read, the cards as rows, the addresses, and the field length of every
//!   value read.

use super::{Book, ImportError, ImportLimits, ParsedBook, Problem, Source, clean_name, items};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use std::iter::Peekable;

/// Whether the text starts, after blank lines, with `BEGIN:VCARD`.
pub(super) fn looks_like_vcard(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .and_then(|l| l.get(..11))
        .is_some_and(|l| l.eq_ignore_ascii_case("BEGIN:VCARD"))
}

/// The card being read.
#[derive(Default)]
struct Card {
    begin: u64,
    full_name: Option<String>,
    structured_name: Option<String>,
    emails: Vec<(u64, String)>,
    /// A value of it was refused (and reported): the card gives nothing.
    refused: bool,
    /// An `EMAIL` value was too long (reported), so "no address" is not.
    email_too_long: bool,
}

/// One property's head: its name and the parameters that matter here.
struct Head<'a> {
    name: &'a str,
    quoted_printable: bool,
    base64: bool,
    charset: Option<&'a str>,
}

/// The physical lines of the text, numbered from 1.
struct Lines<'t> {
    inner: Peekable<std::str::Split<'t, char>>,
    line: u64,
}

impl<'t> Lines<'t> {
    fn next(&mut self) -> Option<(u64, &'t str)> {
        let text = self.inner.next()?;
        self.line = self.line.saturating_add(1);
        Some((self.line, text))
    }

    fn peek(&mut self) -> Option<&'t str> {
        self.inner.peek().copied()
    }
}

/// Reads a vCard file (text already decoded, line ends already LF).
pub(super) fn parse(text: &str, limits: &ImportLimits) -> Result<ParsedBook, ImportError> {
    let mut book = Book::new(*limits);
    let mut lines = Lines {
        inner: text.split('\n').peekable(),
        line: 0,
    };
    let mut card: Option<Card> = None;
    let mut outside_run = false;
    while let Some((line, raw)) = lines.next() {
        if raw.trim().is_empty() || raw.starts_with([' ', '\t']) {
            // Blank, or the continuation of a value not read.
            continue;
        }
        let Some((head, value)) = split_property(raw) else {
            // Inside a card: a 2.1 base64 body line, or junk; skipped.
            if card.is_none() && !outside_run {
                book.bad(line, Problem::OutsideCard);
                outside_run = true;
            }
            continue;
        };
        let head = parse_head(head);
        let is = |name: &str| head.name.eq_ignore_ascii_case(name);
        if is("BEGIN") && value.trim().eq_ignore_ascii_case("VCARD") {
            if let Some(open) = card.take() {
                book.row()?;
                book.bad(open.begin, Problem::UnclosedCard);
            }
            card = Some(Card {
                begin: line,
                ..Card::default()
            });
            outside_run = false;
            continue;
        }
        let Some(open) = card.as_mut() else {
            if !outside_run {
                book.bad(line, Problem::OutsideCard);
                outside_run = true;
            }
            continue;
        };
        if is("END") && value.trim().eq_ignore_ascii_case("VCARD") {
            let done = std::mem::take(open);
            card = None;
            finish(&mut book, done)?;
            continue;
        }
        let wanted = is("EMAIL") || is("FN") || is("N");
        if !wanted || head.base64 {
            continue; // its continuation lines are skipped above
        }
        let (raw_value, bytes) = read_value(value, &mut lines, head.quoted_printable, limits);
        if bytes > limits.max_field_bytes() {
            book.bad(
                line,
                Problem::FieldTooLong {
                    bytes,
                    max: limits.max_field_bytes(),
                },
            );
            open.email_too_long |= is("EMAIL");
            open.refused |= !is("EMAIL");
            continue;
        }
        let decoded = if head.quoted_printable {
            decode_quoted_printable(&raw_value, head.charset)
        } else {
            raw_value
        };
        if is("EMAIL") {
            if open.emails.len() >= limits.max_rows() {
                return Err(book.too_many());
            }
            open.emails.push((line, unescape(&decoded)));
        } else if is("FN") {
            open.full_name = clean_name(&unescape(&decoded));
        } else {
            open.structured_name = structured_name(&decoded);
        }
    }
    if let Some(open) = card {
        book.row()?;
        book.bad(open.begin, Problem::UnclosedCard);
    }
    Ok(book.finish(Source::VCard))
}

/// Adds a finished card's addresses to the book.
fn finish(book: &mut Book, card: Card) -> Result<(), ImportError> {
    book.row()?;
    if card.refused {
        return Ok(());
    }
    let name = card.full_name.or(card.structured_name);
    let mut any = false;
    for (line, value) in &card.emails {
        for item in items(value) {
            any = true;
            book.item(*line, &item, name.as_deref())?;
        }
    }
    if !any && !card.email_too_long {
        book.bad(card.begin, Problem::NoAddress);
    }
    Ok(())
}

/// Splits `NAME;PARAMS:value` at the first `:` outside double quotes.
fn split_property(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((line.get(..i)?, line.get(i + 1..)?)),
            _ => {}
        }
    }
    None
}

/// The name (without its group) and the encoding parameters of a head.
fn parse_head(head: &str) -> Head<'_> {
    let mut parts = head.split(';');
    let name = parts.next().unwrap_or_default();
    let name = name.rsplit('.').next().unwrap_or(name).trim();
    let mut parsed = Head {
        name,
        quoted_printable: false,
        base64: false,
        charset: None,
    };
    for param in parts {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim().trim_matches('"')),
            None => ("", param.trim()),
        };
        let encoding = key.is_empty() || key.eq_ignore_ascii_case("ENCODING");
        if encoding && value.eq_ignore_ascii_case("QUOTED-PRINTABLE") {
            parsed.quoted_printable = true;
        } else if encoding
            && (value.eq_ignore_ascii_case("BASE64") || value.eq_ignore_ascii_case("B"))
        {
            parsed.base64 = true;
        } else if key.eq_ignore_ascii_case("CHARSET") {
            parsed.charset = Some(value);
        }
    }
    parsed
}

/// A value with its continuation lines (folded lines, and for
/// quoted-printable the lines after a soft break `=`), kept up to the field
/// limit (and 4 bytes more), with its full length in bytes.
fn read_value(
    first: &str,
    lines: &mut Lines<'_>,
    quoted_printable: bool,
    limits: &ImportLimits,
) -> (String, usize) {
    let cap = limits.max_field_bytes().saturating_add(4);
    let mut value = String::new();
    let mut len = 0usize;
    let push = |value: &mut String, len: &mut usize, part: &str| {
        *len = len.saturating_add(part.len());
        if value.len() < cap {
            value.push_str(part);
        }
    };
    push(&mut value, &mut len, first);
    let mut soft_break = quoted_printable && first.ends_with('=');
    while let Some(next) = lines.peek() {
        if let Some(rest) = next.strip_prefix([' ', '\t']) {
            push(&mut value, &mut len, rest);
            soft_break = quoted_printable && rest.ends_with('=');
        } else if soft_break {
            if value.ends_with('=') {
                value.pop();
            }
            len = len.saturating_sub(1);
            push(&mut value, &mut len, next);
            soft_break = next.ends_with('=');
        } else {
            break;
        }
        lines.next();
    }
    if soft_break && value.ends_with('=') {
        value.pop();
        len = len.saturating_sub(1);
    }
    (value, len)
}

/// Decodes quoted-printable text (`=XX` bytes) in `charset`; malformed
/// escapes are kept as written.
fn decode_quoted_printable(value: &str, charset: Option<&str>) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|h| (*h as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'=', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    let encoding = charset
        .and_then(|c| Encoding::for_label(c.as_bytes()))
        .unwrap_or(if std::str::from_utf8(&out).is_ok() {
            UTF_8
        } else {
            WINDOWS_1252
        });
    encoding.decode_without_bom_handling(&out).0.into_owned()
}

/// Undoes the text escapes of vCard 3.0 and 4.0.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push(' '),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The name of an `N` value: given, additional and family names.
fn structured_name(value: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => current.push(' '),
                Some(other) => current.push(other),
                None => {}
            },
            ';' => parts.push(std::mem::take(&mut current)),
            ',' => current.push(' '),
            c => current.push(c),
        }
    }
    parts.push(current);
    let part = |i: usize| parts.get(i).map_or("", String::as_str);
    clean_name(&[part(1), part(2), part(0)].join(" "))
}
