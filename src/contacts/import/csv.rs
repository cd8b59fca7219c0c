//! The CSV reader: records and rows under the import limits, the header
//! and its columns, and the book of entries and bad rows they fill.

use super::*;

/// One CSV record: its first line, its first [`ImportLimits::max_fields`]
/// cells (each cut at [`kept_bytes`]) with their full lengths, and how many
/// fields it has in all.
#[derive(Debug, Default)]
pub(super) struct Row {
    line: u64,
    cells: Vec<String>,
    lens: Vec<usize>,
    fields: usize,
}

impl Row {
    /// Whether a cell was cut (it is longer than anything read).
    fn cut(&self, keep: usize) -> bool {
        self.lens.iter().any(|&len| len > keep)
    }
}

/// CSV records, streamed field by field through `csv-core`: memory per
/// record is bounded by the field count and field length limits, whatever
/// the record's size (issue #11: a 9 MiB row of commas used to become nine
/// million `String`s, once per delimiter tried).
pub(super) struct Records<'t> {
    input: &'t [u8],
    pos: usize,
    /// The line at `pos` (1-based).
    line: u64,
    core: csv_core::Reader,
    out: [u8; 1024],
    field: Vec<u8>,
    keep: usize,
    max_fields: usize,
    done: bool,
}

impl<'t> Records<'t> {
    fn new(text: &'t str, delimiter: u8, limits: &ImportLimits) -> Self {
        Self {
            input: text.as_bytes(),
            pos: 0,
            line: 1,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            out: [0; 1024],
            field: Vec::new(),
            keep: kept_bytes(limits),
            max_fields: limits.max_fields,
            done: false,
        }
    }

    /// Reads the next record into `row`; `false` at the end.
    fn next_into(&mut self, row: &mut Row) -> bool {
        row.cells.clear();
        row.lens.clear();
        row.fields = 0;
        if self.done {
            return false;
        }
        // Blank lines between records are skipped (as the reader would),
        // counted here so that the record's first line is known.
        while self.input.get(self.pos) == Some(&b'\n') {
            self.pos = self.pos.saturating_add(1);
            self.line = self.line.saturating_add(1);
        }
        row.line = self.line;
        let mut len = 0usize;
        self.field.clear();
        loop {
            let rest = self.input.get(self.pos..).unwrap_or_default();
            let (result, read, written) = self.core.read_field(rest, &mut self.out);
            let consumed = rest.get(..read).unwrap_or_default();
            let newlines = consumed.iter().filter(|&&b| b == b'\n').count();
            self.line = self
                .line
                .saturating_add(u64::try_from(newlines).unwrap_or(u64::MAX));
            self.pos = self.pos.saturating_add(read);
            let chunk = self.out.get(..written).unwrap_or_default();
            len = len.saturating_add(written);
            let room = self.keep.saturating_sub(self.field.len());
            self.field
                .extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
            match result {
                csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::OutputFull => {}
                csv_core::ReadFieldResult::Field { record_end } => {
                    row.fields = row.fields.saturating_add(1);
                    if row.cells.len() < self.max_fields {
                        row.cells
                            .push(String::from_utf8_lossy(&self.field).into_owned());
                        row.lens.push(len);
                    }
                    len = 0;
                    self.field.clear();
                    if record_end {
                        return true;
                    }
                }
                csv_core::ReadFieldResult::End => {
                    self.done = true;
                    return row.fields > 0;
                }
            }
        }
    }
}

/// A header found: its delimiter, its index among the records, its cells.
pub(super) struct Header {
    pub(super) delimiter: u8,
    pub(super) index: usize,
    pub(super) cells: Vec<String>,
}

/// The header among the first records, by the delimiter that gives it the
/// most columns. A record wider than the field limit, or with a cell longer
/// than the field limit, is never a header.
pub(super) fn find_header(
    text: &str,
    limits: &ImportLimits,
    accept: impl Fn(&[String]) -> bool,
) -> Option<Header> {
    let mut best: Option<Header> = None;
    let keep = kept_bytes(limits);
    let mut row = Row::default();
    for delimiter in DELIMITERS {
        let mut records = Records::new(text, delimiter, limits);
        for index in 0..HEADER_SEARCH {
            if !records.next_into(&mut row) {
                break;
            }
            if row.fields > limits.max_fields || row.cut(keep) {
                continue;
            }
            if accept(&row.cells) {
                if best
                    .as_ref()
                    .is_none_or(|b| row.cells.len() > b.cells.len())
                {
                    best = Some(Header {
                        delimiter,
                        index,
                        cells: std::mem::take(&mut row.cells),
                    });
                }
                break;
            }
        }
    }
    best
}

/// How a row's name is put together.
#[derive(Debug)]
pub(super) enum Names {
    None,
    /// One column holds the full name.
    Full(usize),
    /// These columns, joined with spaces.
    Parts(Vec<usize>),
}

/// The columns read from each row.
#[derive(Debug)]
pub(super) struct Columns {
    emails: Vec<usize>,
    names: Names,
}

impl Columns {
    pub(super) fn detected(header: &[String]) -> Self {
        let emails = (0..header.len())
            .filter(|&i| header.get(i).is_some_and(|c| is_email_column(c)))
            .collect();
        let s: Vec<String> = header.iter().map(|c| squash(c)).collect();
        let find = |names: &[&str]| s.iter().position(|c| names.contains(&c.as_str()));
        let full = find(&[
            "name",
            "fullname",
            "displayname",
            "contactname",
            "formattedname",
        ]);
        let parts: Vec<usize> = [
            &["firstname", "first", "givenname"][..],
            &["middlename", "middle", "additionalname"][..],
            &["lastname", "last", "familyname", "surname"][..],
        ]
        .iter()
        .filter_map(|names| find(names))
        .collect();
        let names = match full {
            Some(i) => Names::Full(i),
            None if !parts.is_empty() => Names::Parts(parts),
            None => Names::None,
        };
        Self { emails, names }
    }

    pub(super) fn mapped(header: &[String], mapping: &ColumnMapping) -> Result<Self, ImportError> {
        let folded: Vec<String> = header.iter().map(|c| fold(c)).collect();
        let index = |name: &String| {
            folded
                .iter()
                .position(|c| *c == fold(name))
                .ok_or_else(|| ImportError::MissingColumn(name.clone()))
        };
        let emails = mapping
            .email_columns
            .iter()
            .map(index)
            .collect::<Result<_, _>>()?;
        let parts: Vec<usize> = mapping
            .name_columns
            .iter()
            .map(index)
            .collect::<Result<_, _>>()?;
        let names = if parts.is_empty() {
            Names::None
        } else {
            Names::Parts(parts)
        };
        Ok(Self { emails, names })
    }
}

/// The book being built, with the limits it enforces.
pub(super) struct Book {
    pub(super) limits: ImportLimits,
    pub(super) entries: Vec<Entry>,
    pub(super) bad_rows: Vec<BadRow>,
    pub(super) seen: HashMap<String, usize>,
    pub(super) addresses: usize,
    pub(super) duplicates: usize,
    pub(super) rows: usize,
}

impl Book {
    pub(super) fn new(limits: ImportLimits) -> Self {
        Self {
            limits,
            entries: Vec::new(),
            bad_rows: Vec::new(),
            seen: HashMap::new(),
            addresses: 0,
            duplicates: 0,
            rows: 0,
        }
    }

    pub(super) fn too_many(&self) -> ImportError {
        ImportError::TooManyRows {
            max: self.limits.max_rows,
        }
    }

    /// Counts one more row.
    pub(super) fn row(&mut self) -> Result<(), ImportError> {
        self.rows = self.rows.saturating_add(1);
        if self.rows > self.limits.max_rows {
            return Err(self.too_many());
        }
        Ok(())
    }

    pub(super) fn bad(&mut self, line: u64, problem: Problem) {
        self.bad_rows.push(BadRow { line, problem });
    }

    /// Whether a field of `bytes` fits the field limit; a bad row if not.
    pub(super) fn fits(&mut self, line: u64, bytes: usize) -> bool {
        let max = self.limits.max_field_bytes;
        if bytes > max {
            self.bad(line, Problem::FieldTooLong { bytes, max });
            false
        } else {
            true
        }
    }

    /// Takes one address of a row whose name is `row_name`.
    pub(super) fn item(
        &mut self,
        line: u64,
        item: &Item<'_>,
        row_name: Option<&str>,
    ) -> Result<(), ImportError> {
        self.addresses = self.addresses.saturating_add(1);
        if self.addresses > self.limits.max_rows {
            return Err(self.too_many());
        }
        let name = match item.name {
            Some(n) if self.fits(line, n.len()) => clean_name(n),
            Some(_) => return Ok(()),
            None => row_name.map(str::to_owned),
        };
        match Email::parse(item.address) {
            Ok(email) => self.add(line, email, name),
            Err(error) => self.bad(
                line,
                Problem::InvalidAddress {
                    value: item.address.to_owned(),
                    error,
                },
            ),
        }
        Ok(())
    }

    pub(super) fn add(&mut self, line: u64, email: Email, name: Option<String>) {
        match self.seen.get(email.canonical()) {
            Some(&i) => {
                self.duplicates = self.duplicates.saturating_add(1);
                if let Some(first) = self.entries.get_mut(i) {
                    if first.name.is_none() {
                        first.name = name;
                    }
                }
            }
            None => {
                self.seen
                    .insert(email.canonical().to_owned(), self.entries.len());
                self.entries.push(Entry { line, email, name });
            }
        }
    }

    pub(super) fn finish(self, source: Source) -> ParsedBook {
        ParsedBook {
            source,
            entries: self.entries,
            bad_rows: self.bad_rows,
            duplicates: self.duplicates,
            rows: self.rows,
        }
    }
}

/// Reads the CSV records after `header`.
pub(super) fn parse_csv(
    text: &str,
    header: &Header,
    columns: &Columns,
    source: Source,
    limits: &ImportLimits,
) -> Result<ParsedBook, ImportError> {
    let mut book = Book::new(*limits);
    let mut records = Records::new(text, header.delimiter, limits);
    let mut row = Row::default();
    let mut index = 0usize;
    while records.next_into(&mut row) {
        let before_data = index <= header.index;
        index = index.saturating_add(1);
        if before_data {
            continue;
        }
        if row.cells.iter().all(|c| c.trim().is_empty()) && row.fields <= limits.max_fields {
            continue;
        }
        book.row()?;
        let line = row.line;
        if row.fields > limits.max_fields {
            book.bad(
                line,
                Problem::TooManyFields {
                    fields: row.fields,
                    max: limits.max_fields,
                },
            );
            continue;
        }
        let name = match row_name(&mut book, &row, &columns.names) {
            Some(name) => name,
            None => continue, // a name field too long: reported
        };
        let mut any = false;
        let mut bad = false;
        for &i in &columns.emails {
            let (Some(field), Some(&len)) = (row.cells.get(i), row.lens.get(i)) else {
                continue;
            };
            if !book.fits(line, len) {
                bad = true;
                continue;
            }
            for item in items(field) {
                any = true;
                book.item(line, &item, name.as_deref())?;
            }
        }
        if !any && !bad {
            book.bad(line, Problem::NoAddress);
        }
    }
    Ok(book.finish(source))
}

/// The row's name: `Some(None)` for none, `None` when a name field is too
/// long (and reported).
pub(super) fn row_name(book: &mut Book, row: &Row, names: &Names) -> Option<Option<String>> {
    let wanted: Vec<usize> = match names {
        Names::None => return Some(None),
        Names::Full(i) => vec![*i],
        Names::Parts(is) => is.clone(),
    };
    let mut parts = Vec::with_capacity(wanted.len());
    for i in wanted {
        let (Some(part), Some(&len)) = (row.cells.get(i), row.lens.get(i)) else {
            continue;
        };
        if !book.fits(row.line, len) {
            return None;
        }
        parts.push(part.as_str());
    }
    Some(clean_name(&parts.join(" ")))
}

/// A name for display: control characters as spaces, whitespace runs
/// collapsed, surrounding whitespace and quotes removed; `None` if empty.
pub(super) fn clean_name(raw: &str) -> Option<String> {
    let spaced: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let joined = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = joined.trim_matches(|c: char| c == '"' || c.is_whitespace());
    (!name.is_empty()).then(|| name.to_owned())
}
