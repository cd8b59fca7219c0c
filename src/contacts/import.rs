//! The address-book parser: bytes in, a [`ParsedBook`] or an
//! [`ImportError`] out. Pure: no store, no clock, no I/O, and no panic on any
//! input (RELIABILITY C1, fuzzed by `fuzz/fuzz_targets/import.rs`).
//!
//! # What it reads
//!
//! * **Text encodings.** A byte-order mark picks UTF-8, UTF-16 LE or
//!   UTF-16 BE (the mark is dropped). Without one, text that starts like
//!   UTF-16 (an ASCII character and a zero byte, twice) is read as UTF-16;
//!   otherwise valid UTF-8 is read as UTF-8, and anything else as
//!   Windows-1252, the code page Outlook on Western Windows writes its
//!   exports in. Text containing a NUL character is no text at all (a
//!   spreadsheet, an archive, an image): [`ImportError::NotText`].
//! * **Line ends.** CRLF, LF and old Mac CR, each counted as one line end
//!   (also inside quoted fields).
//! * **CSV** through `csv-core` (the `csv` crate's parser), streamed field
//!   by field so that no record is ever held whole: quoted fields with doubled quotes,
//!   quoted line breaks, ragged rows (rows shorter or longer than the
//!   header), and blank lines. The delimiter is `,`, `;` or tab: each is
//!   tried on the first [`HEADER_SEARCH`] records, and the one that finds a
//!   header with the most columns wins (a `;` file read with `,` has a
//!   one-column "header").
//! * **The header** is the first of the first [`HEADER_SEARCH`] records that
//!   has an email column, none of whose cells holds an `@` or is longer than
//!   64 bytes. Records before it are skipped: LinkedIn's `Connections.csv`
//!   starts with a few "Notes:" lines before its header.
//! * **Email columns** are the header cells whose name, lowercased with
//!   everything but letters and digits removed, contains `email` and none of
//!   `type`, `label`, `display`, `name`, `kind`: this takes Google's
//!   `E-mail 1 - Value`, Outlook's `E-mail Address` / `E-mail 2 Address`,
//!   Yahoo's `Email` / `Alternate Email 1`, Apple's `email (home)`,
//!   LinkedIn's `Email Address` and generic `Email` or `E-Mail-Adresse`,
//!   and leaves `E-mail 1 - Type`, `E-mail Display Name` and the like.
//!   [`Source`] names the export recognised by its other headers; it does
//!   not change how the rows are read.
//! * **Names** come from a full-name column (`Name`, `Full Name`,
//!   `Display Name`) or else from first, middle and last name columns
//!   (`First Name`, `Given Name`, `First`, ...), with control characters
//!   turned into spaces and runs of whitespace collapsed.
//! * **An explicit [`ColumnMapping`]** names the email and name columns by
//!   their header text (compared ignoring case and surrounding whitespace)
//!   for any other CSV; the header is the first record that has every mapped
//!   email column.
//! * **A plain list** ([`Format::List`], or what [`Format::Detect`] falls
//!   back to when no header is found but an `@` is): addresses separated by
//!   line breaks, commas, semicolons or whitespace, each optionally written
//!   `Name <address>` (the name may be quoted: `"Lima, Ana" <ana@x.org>`).
//!
//! In every field that holds addresses, several may stand together,
//! separated as in a list (Google joins them with ` ::: `); a `mailto:`
//! prefix and surrounding double quotes are dropped. Text between commas
//! or semicolons is cut at whitespace only when every part has an `@`:
//! `sp ace@example.com` is one bad address, not the address
//! `ace@example.com`.
//!
//! # What it answers
//!
//! Every address, parsed with [`Email::parse`], with the line of the record
//! it starts on (1-based, counted in the file as written, so quoted line
//! breaks and preamble lines count) and the row's name. Addresses with the
//! same canonical key collapse into the first, which takes the first name
//! found among them; [`ParsedBook::duplicates`] counts the others.
//!
//! A row that yields no address, a field that is not an address, and a
//! field longer than the limit are [`BadRow`]s with their line and reason;
//! the rest of the file is kept. Blank rows (every cell empty) are skipped.
//!
//! # Limits
//!
//! [`ImportLimits`]: the input's size in bytes (checked before anything is
//! read), the number of rows (CSV records after the header, or list
//! entries; also the number of addresses, so that a row of many columns
//! cannot multiply it), and the length of every field read (email and name
//! fields; columns that are not read are bounded by the size alone).
//! Exceeding the size or the rows refuses the whole file; a long field
//! refuses its row. A CSV record with more fields than
//! [`ImportLimits::max_fields`] is a bad row ([`Problem::TooManyFields`]):
//! only its first fields (each cut after the field limit) are ever held, so
//! memory for a record is bounded whatever its size. Work is linear in the
//! input, and memory is the decoded text plus a small constant per kept
//! contact (issue #11: a 9 MiB row of commas, which took 389 MB, now takes
//! about the size of the input).

mod csv;
mod list;
mod vcard;

use crate::email::{Email, EmailError};
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::borrow::Cow;
use std::collections::HashMap;
use thiserror::Error;

use csv::*;
use list::*;

/// How many records from the top of a file are searched for its header.
pub const HEADER_SEARCH: usize = 16;

/// The longest header cell that can name an email column, in bytes.
const MAX_HEADER_CELL: usize = 64;

/// The delimiters tried, in order of preference when they tie.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// The limits on one import. [`ImportLimits::default`] gives 10 MiB, 50,000
/// rows, 1,024 bytes per field and 1,024 fields per CSV record; build others
/// with [`ImportLimits::new`] and [`ImportLimits::with_max_fields`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImportLimits {
    max_bytes: usize,
    max_rows: usize,
    max_field_bytes: usize,
    max_fields: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_rows: 50_000,
            max_field_bytes: 1_024,
            max_fields: Self::DEFAULT_MAX_FIELDS,
        }
    }
}

/// A limit of [`ImportLimits::new`] out of its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("{name} must be between 1 and {max}")]
pub struct LimitError {
    /// The limit.
    pub name: &'static str,
    /// Its largest allowed value.
    pub max: usize,
}

impl ImportLimits {
    /// The largest `max_bytes` allowed: 256 MiB.
    pub const MAX_BYTES: usize = 256 * 1024 * 1024;
    /// The largest `max_rows` allowed: 1,000,000.
    pub const MAX_ROWS: usize = 1_000_000;
    /// The largest `max_field_bytes` allowed: 64 KiB.
    pub const MAX_FIELD_BYTES: usize = 64 * 1024;
    /// The default `max_fields`: 1,024 (Outlook's export, the widest common
    /// one, has under a hundred columns).
    pub const DEFAULT_MAX_FIELDS: usize = 1_024;
    /// The largest `max_fields` allowed: 4,096.
    pub const MAX_FIELDS: usize = 4_096;

    /// Limits of `max_bytes` bytes of input, `max_rows` rows and
    /// `max_field_bytes` bytes per field read.
    ///
    /// ```
    /// use pronet::contacts::ImportLimits;
    /// let small = ImportLimits::new(64 * 1024, 500, 256)?;
    /// assert_eq!(small.max_rows(), 500);
    /// assert!(ImportLimits::new(0, 500, 256).is_err());
    /// # Ok::<(), pronet::contacts::LimitError>(())
    /// ```
    ///
    /// # Errors
    /// [`LimitError`] when a value is 0 or above its ceiling
    /// ([`MAX_BYTES`](Self::MAX_BYTES), [`MAX_ROWS`](Self::MAX_ROWS),
    /// [`MAX_FIELD_BYTES`](Self::MAX_FIELD_BYTES)).
    pub fn new(
        max_bytes: usize,
        max_rows: usize,
        max_field_bytes: usize,
    ) -> Result<Self, LimitError> {
        for (name, value, max) in [
            ("max_bytes", max_bytes, Self::MAX_BYTES),
            ("max_rows", max_rows, Self::MAX_ROWS),
            ("max_field_bytes", max_field_bytes, Self::MAX_FIELD_BYTES),
        ] {
            if !(1..=max).contains(&value) {
                return Err(LimitError { name, max });
            }
        }
        Ok(Self {
            max_bytes,
            max_rows,
            max_field_bytes,
            max_fields: Self::DEFAULT_MAX_FIELDS,
        })
    }

    /// The same limits reading at most `max_fields` fields per CSV record
    /// (default [`DEFAULT_MAX_FIELDS`](Self::DEFAULT_MAX_FIELDS)); a wider
    /// record is a [`BadRow`] ([`Problem::TooManyFields`]) and is not read.
    ///
    /// ```
    /// use pronet::contacts::ImportLimits;
    /// let narrow = ImportLimits::default().with_max_fields(100)?;
    /// assert_eq!(narrow.max_fields(), 100);
    /// assert!(ImportLimits::default().with_max_fields(0).is_err());
    /// # Ok::<(), pronet::contacts::LimitError>(())
    /// ```
    ///
    /// # Errors
    /// [`LimitError`] when `max_fields` is 0 or above
    /// [`MAX_FIELDS`](Self::MAX_FIELDS).
    pub fn with_max_fields(self, max_fields: usize) -> Result<Self, LimitError> {
        if !(1..=Self::MAX_FIELDS).contains(&max_fields) {
            return Err(LimitError {
                name: "max_fields",
                max: Self::MAX_FIELDS,
            });
        }
        Ok(Self { max_fields, ..self })
    }

    /// The most fields read per CSV record.
    #[must_use]
    pub fn max_fields(&self) -> usize {
        self.max_fields
    }

    /// The largest input, in bytes.
    #[must_use]
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The most rows (and addresses).
    #[must_use]
    pub fn max_rows(&self) -> usize {
        self.max_rows
    }

    /// The longest field read, in bytes.
    #[must_use]
    pub fn max_field_bytes(&self) -> usize {
        self.max_field_bytes
    }
}

/// How to read an import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A vCard file (recognised by its `BEGIN:VCARD`), a CSV export
    /// recognised by its header, or else a plain list of addresses (see the
    /// [module documentation](self)).
    #[default]
    Detect,
    /// A CSV file whose email and name columns are named explicitly.
    Mapped(ColumnMapping),
    /// A plain list of addresses.
    List,
    /// A vCard file (`.vcf`: versions 2.1, 3.0 and 4.0), as phones and
    /// address-book apps export; [`Format::Detect`] recognises one by its
    /// `BEGIN:VCARD`.
    VCard,
}

/// Which columns of a CSV file hold addresses and names, by header text
/// (compared ignoring ASCII case and surrounding whitespace).
///
/// ```
/// use pronet::contacts::{ColumnMapping, Format};
/// let mapping = ColumnMapping::new(["Work mail", "Private mail"]).with_names(["Who"]);
/// let format = Format::Mapped(mapping);
/// # let _ = format;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMapping {
    email_columns: Vec<String>,
    name_columns: Vec<String>,
}

impl ColumnMapping {
    /// A mapping reading addresses from `email_columns`, without names.
    #[must_use]
    pub fn new<I, S>(email_columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            email_columns: email_columns.into_iter().map(Into::into).collect(),
            name_columns: Vec::new(),
        }
    }

    /// The same mapping taking the name from `name_columns`, joined with
    /// spaces in this order (for example first and last name).
    #[must_use]
    pub fn with_names<I, S>(self, name_columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            name_columns: name_columns.into_iter().map(Into::into).collect(),
            ..self
        }
    }

    /// The columns read for addresses.
    #[must_use]
    pub fn email_columns(&self) -> &[String] {
        &self.email_columns
    }

    /// The columns read for the name.
    #[must_use]
    pub fn name_columns(&self) -> &[String] {
        &self.name_columns
    }
}

/// What an import was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// Nothing but whitespace (or nothing at all).
    Empty,
    /// A Google Contacts export (`E-mail 1 - Value`, ...).
    Google,
    /// An Outlook export (`E-mail Address`, `E-mail 2 Address`, ...).
    Outlook,
    /// A Yahoo Mail export (`Email`, `Nickname`, `Alternate Email 1`, ...).
    Yahoo,
    /// An Apple Contacts export (`email (home)`, `email (work)`, ...).
    Apple,
    /// LinkedIn's own `Connections.csv` (`Email Address`, `Connected On`).
    LinkedIn,
    /// Another CSV file with an email column.
    Generic,
    /// A CSV file read through an explicit [`ColumnMapping`].
    Mapped,
    /// A plain list of addresses.
    List,
    /// A vCard file: the export of a phone or an address-book app.
    VCard,
}

/// One address read from the file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The line its record starts on (1-based); in a vCard, the line of
    /// its `EMAIL` property.
    pub line: u64,
    /// The address.
    pub email: Email,
    /// The name in the same row, if any.
    pub name: Option<String>,
}

/// A row, or part of one, that gave no address.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BadRow {
    /// The line the record starts on (1-based).
    pub line: u64,
    /// Why.
    pub problem: Problem,
}

/// Why a row gave no address.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Problem {
    /// Every email field of the row is empty.
    #[error("no email address in this row")]
    NoAddress,
    /// A field is not an acceptable address.
    #[error("{value:?} is not an email address: {error}")]
    InvalidAddress {
        /// The text, as it stands in the file (at most the field limit).
        value: String,
        /// Why it is not acceptable.
        error: EmailError,
    },
    /// A CSV record has more fields than the limit
    /// ([`ImportLimits::max_fields`]); none of it is read.
    #[error("the row has {fields} fields; at most {max} are read")]
    TooManyFields {
        /// How many it has.
        fields: usize,
        /// The limit.
        max: usize,
    },
    /// A vCard's `BEGIN:VCARD` has no `END:VCARD` (reported at the
    /// `BEGIN` line); its addresses are not kept.
    #[error("the card is not closed by END:VCARD")]
    UnclosedCard,
    /// Text outside `BEGIN:VCARD` ... `END:VCARD` in a vCard file
    /// (reported once per run of such lines, at its first).
    #[error("text outside a card")]
    OutsideCard,
    /// A field read for addresses or the name is longer than the limit.
    #[error("a field is {bytes} bytes long; at most {max} are read")]
    FieldTooLong {
        /// Its length in bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
}

/// A parsed address book.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParsedBook {
    /// What the file was read as.
    pub source: Source,
    /// The distinct addresses, in file order.
    pub entries: Vec<Entry>,
    /// Rows (or parts of rows) that gave no address, in file order.
    pub bad_rows: Vec<BadRow>,
    /// Addresses that repeated an earlier one (same canonical key).
    pub duplicates: usize,
    /// Rows read: CSV records after the header, or list lines, blank ones
    /// not counted.
    pub rows: usize,
}

/// Why a file cannot be imported at all.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The input is larger than the limit.
    #[error("the file is {bytes} bytes; at most {max} bytes can be imported")]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The file has more rows, or more addresses, than the limit.
    #[error("the file has more than {max} rows or addresses")]
    TooManyRows {
        /// The limit.
        max: usize,
    },
    /// The input is not text: it holds NUL characters, as spreadsheets,
    /// archives and images do.
    #[error("the file is not text; export the address book as CSV")]
    NotText,
    /// Neither a CSV header with an email column nor any address was found
    /// near the top of the file.
    #[error("no email column or address found; export the address book as CSV or map its columns")]
    UnknownFormat,
    /// A column of the [`ColumnMapping`] is not in the header.
    #[error("the column {0:?} is not in the file's header")]
    MissingColumn(String),
    /// The [`ColumnMapping`] names no email column.
    #[error("the column mapping names no email column")]
    EmptyMapping,
}

/// Reads an address book.
///
/// ```
/// use pronet::contacts::{parse, Format, ImportLimits, Source};
///
/// let csv = "\u{feff}First Name,Last Name,E-mail Address,E-mail 2 Address\r\n\
///            Ana,Lima,ana@example.com,\r\n\
///            Bo,,not-an-address,bo@example.org\r\n";
/// let book = parse(csv.as_bytes(), &Format::Detect, &ImportLimits::default())?;
/// assert_eq!(book.source, Source::Outlook);
/// assert_eq!(book.entries.len(), 2);
/// assert_eq!(book.entries[0].name.as_deref(), Some("Ana Lima"));
/// assert_eq!(book.bad_rows[0].line, 3);
/// # Ok::<(), pronet::contacts::ImportError>(())
/// ```
///
/// # Errors
/// [`ImportError`]: too large, too many rows, not text, no header or
/// address found, or a mapping that does not fit the file.
pub fn parse(
    bytes: &[u8],
    format: &Format,
    limits: &ImportLimits,
) -> Result<ParsedBook, ImportError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let text = decode(bytes)?;
    let text: &str = &text;
    if text.trim().is_empty() {
        return Ok(Book::new(*limits).finish(Source::Empty));
    }
    match format {
        Format::List => parse_list(text, limits),
        Format::VCard => vcard::parse(text, limits),
        Format::Detect if vcard::looks_like_vcard(text) => vcard::parse(text, limits),
        Format::Mapped(mapping) => {
            if mapping.email_columns.is_empty() {
                return Err(ImportError::EmptyMapping);
            }
            let wanted: Vec<String> = mapping.email_columns.iter().map(|c| fold(c)).collect();
            let header = find_header(text, limits, |cells| {
                let folded: Vec<String> = cells.iter().map(|c| fold(c)).collect();
                wanted.iter().all(|w| folded.contains(w))
            });
            let Some(header) = header else {
                let first = mapping.email_columns.first().cloned().unwrap_or_default();
                return Err(ImportError::MissingColumn(first));
            };
            let columns = Columns::mapped(&header.cells, mapping)?;
            parse_csv(text, &header, &columns, Source::Mapped, limits)
        }
        Format::Detect => match find_header(text, limits, is_header) {
            Some(header) => {
                let columns = Columns::detected(&header.cells);
                let source = source_of(&header.cells);
                parse_csv(text, &header, &columns, source, limits)
            }
            None if looks_like_list(text) => parse_list(text, limits),
            None => Err(ImportError::UnknownFormat),
        },
    }
}

/// The input as text (see the module docs for the encodings).
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ImportError> {
    let text = if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        encoding
            .decode_without_bom_handling(bytes.get(bom..).unwrap_or_default())
            .0
    } else if let Some(encoding) = utf16_without_bom(bytes) {
        encoding.decode_without_bom_handling(bytes).0
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        Cow::Borrowed(text)
    } else {
        WINDOWS_1252.decode_without_bom_handling(bytes).0
    };
    if text.contains('\0') {
        return Err(ImportError::NotText);
    }
    // One line end, LF, so that every line is counted the same way: the
    // CSV reader ends records at CR, LF and CRLF alike, but counts lines at
    // LF only (and a CRLF record's line one short).
    if text.contains('\r') {
        return Ok(Cow::Owned(lf_line_ends(&text)));
    }
    Ok(text)
}

/// `text` with CRLF and CR line ends as LF, in one copy.
fn lf_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\r') {
        out.push_str(rest.get(..at).unwrap_or_default());
        out.push('\n');
        rest = rest.get(at + 1..).unwrap_or_default();
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// UTF-16 without a byte-order mark, recognised by its first two characters
/// being ASCII.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes.get(..4)? {
        [a, 0, b, 0] if *a != 0 && *b != 0 => Some(UTF_16LE),
        [0, a, 0, b] if *a != 0 && *b != 0 => Some(UTF_16BE),
        _ => None,
    }
}

/// A header name for comparing: ASCII letters lowercased, surrounding
/// whitespace removed.
fn fold(cell: &str) -> String {
    cell.trim().to_ascii_lowercase()
}

/// A header name reduced to its lowercase letters and digits.
fn squash(cell: &str) -> String {
    cell.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a header cell names an email column (see the module docs).
fn is_email_column(cell: &str) -> bool {
    let s = squash(cell);
    cell.len() <= MAX_HEADER_CELL
        && s.contains("email")
        && !["type", "label", "display", "name", "kind"]
            .iter()
            .any(|w| s.contains(w))
}

/// Whether a record can be a detected header.
fn is_header(cells: &[String]) -> bool {
    cells.iter().any(|c| is_email_column(c))
        && cells
            .iter()
            .all(|c| !c.contains('@') && c.len() <= MAX_HEADER_CELL)
}

/// The export a header comes from.
fn source_of(cells: &[String]) -> Source {
    let s: Vec<String> = cells.iter().map(|c| squash(c)).collect();
    let has = |name: &str| s.iter().any(|c| c == name);
    let google = s.iter().any(|c| {
        c.strip_prefix("email")
            .and_then(|rest| rest.strip_suffix("value"))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|d| d.is_ascii_digit()))
    });
    let apple = cells.iter().any(|c| {
        let c = c.trim().to_lowercase();
        (c.starts_with("email (") || c.starts_with("email(")) && c.ends_with(')')
    });
    if has("emailaddress") && has("connectedon") {
        Source::LinkedIn
    } else if google {
        Source::Google
    } else if has("emailaddress")
        && (has("email2address") || has("emaildisplayname") || has("emailtype"))
    {
        Source::Outlook
    } else if has("email") && (has("nickname") || has("yahooid") || has("alternateemail1")) {
        Source::Yahoo
    } else if apple {
        Source::Apple
    } else {
        Source::Generic
    }
}

/// Whether text without a header is a list: an `@` near the top.
fn looks_like_list(text: &str) -> bool {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(HEADER_SEARCH)
        .any(|l| l.contains('@'))
}

/// How many bytes of a cell are kept: enough for every field that is read
/// (a longer one is reported by its length, never read).
fn kept_bytes(limits: &ImportLimits) -> usize {
    limits
        .max_field_bytes
        .max(MAX_HEADER_CELL)
        .saturating_add(4)
}
