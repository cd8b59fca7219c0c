//! Plain lists of addresses, and the addresses written in one field (as
//! `Name <address>` or bare, one or several): shared by every format.

use super::*;

/// Reads a plain list, line by line.
pub(super) fn parse_list(text: &str, limits: &ImportLimits) -> Result<ParsedBook, ImportError> {
    let mut book = Book::new(*limits);
    for (i, line_text) in text.split('\n').enumerate() {
        let line = u64::try_from(i).map_or(u64::MAX, |i| i.saturating_add(1));
        let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
        if line_text.trim().is_empty() {
            continue;
        }
        book.row()?;
        for item in items(line_text) {
            if book.fits(line, item.address.len()) {
                book.item(line, &item, None)?;
            }
        }
    }
    Ok(book.finish(Source::List))
}

/// One address in a field, with the name written before it in
/// `Name <address>` form.
#[derive(Debug)]
pub(super) struct Item<'a> {
    pub(super) name: Option<&'a str>,
    pub(super) address: &'a str,
}

/// The addresses in a field (see the module docs).
pub(super) fn items(field: &str) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    let mut rest = field;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest.get(open..).and_then(|r| r.find('>')).map(|c| open + c) else {
            break;
        };
        let before = rest.get(..open).unwrap_or_default();
        let address = rest.get(open + 1..close).unwrap_or_default();
        // The name is the last part of the text before the '<' that is not
        // cut by a separator outside double quotes; what comes before it
        // are plain addresses.
        let cut = last_unquoted_separator(before);
        let (plain, name) = match cut {
            Some(at) => (
                before.get(..at).unwrap_or_default(),
                before.get(at + 1..).unwrap_or_default(),
            ),
            None => ("", before),
        };
        plain_items(plain, &mut out);
        let name = name.trim().trim_matches('"').trim();
        out.push(Item {
            name: (!name.is_empty()).then_some(name),
            address: address.trim(),
        });
        rest = rest.get(close + 1..).unwrap_or_default();
    }
    plain_items(rest, &mut out);
    out
}

/// The byte index of the last separator in `text` outside double quotes,
/// ignoring trailing whitespace.
pub(super) fn last_unquoted_separator(text: &str) -> Option<usize> {
    let trimmed = text.trim_end();
    let mut quoted = false;
    let mut last = None;
    for (i, c) in trimmed.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && (c == ',' || c == ';') {
            last = Some(i);
        }
    }
    last
}

/// Plain addresses: pieces separated by `,` or `;`, each one address, or
/// several separated by whitespace when every one of them has an `@`
/// (tokens of only `:`, as in Google's ` ::: `, separate too). A piece
/// with whitespace inside that is not such a run is one (bad) address,
/// never cut into pieces that might be someone else's address.
pub(super) fn plain_items<'a>(text: &'a str, out: &mut Vec<Item<'a>>) {
    for piece in text.split([',', ';']) {
        let piece = piece.trim();
        let tokens: Vec<&str> = piece
            .split_whitespace()
            .filter(|t| !t.chars().all(|c| c == ':'))
            .collect();
        let several = tokens.len() > 1 && tokens.iter().all(|t| t.contains('@'));
        let pieces = if several { tokens } else { vec![piece] };
        for token in pieces {
            let token = token.trim_matches('"');
            if token.is_empty() || token.chars().all(|c| c == ':') {
                continue;
            }
            out.push(Item {
                name: None,
                address: strip_mailto(token),
            });
        }
    }
}

pub(super) fn strip_mailto(token: &str) -> &str {
    match token.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("mailto:") => token.get(7..).unwrap_or(token),
        _ => token,
    }
}
