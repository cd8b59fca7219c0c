//! Issue #11 (RELIABILITY C1, "never unbounded memory"): the peak heap an
//! import takes, measured deterministically by counting every allocation
//! (dhat's heap profiler in testing mode is this binary's global
//! allocator; it counts bytes, not time, so the figures do not depend on
//! the machine).
//!
//! One test in this binary: the profiler is process-wide.
//!
//! Figures (`cargo test --test import_memory -- --nocapture`):
//! a 9 MiB row of commas between a header and a good row took a peak of
//! 389 MB (maximum resident set, measured before the fix: each field
//! became a `String` once per delimiter tried); its parse now peaks at
//! 33,842 bytes above the input (the text is borrowed, a record holds at
//! most `max_fields` cells). A 4 MiB vCard with CRLF line ends and one
//! 4 MiB photo peaks at one LF copy of the text plus 784 bytes: the photo
//! is never copied.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pronet::contacts::{Format, ImportLimits, Problem, parse};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const MIB: usize = 1024 * 1024;

/// The input built with its exact capacity, so that building it does not
/// set the peak.
fn row_of_commas(commas: usize) -> String {
    let mut s = String::with_capacity(commas + 64);
    s.push_str("Name,Email\n");
    s.extend(std::iter::repeat_n(',', commas));
    s.push_str("\nAna,ana@example.com\n");
    s
}

#[test]
fn a_huge_row_of_commas_is_a_bad_row_in_bounded_memory() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let input = row_of_commas(9 * MIB);
    // A vCard with a 4 MiB photo: skipped, never copied.
    let mut vcard = String::with_capacity(5 * MIB);
    vcard.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo\r\nPHOTO;ENCODING=b;TYPE=JPEG:");
    for _ in 0..(4 * MIB / 76) {
        vcard.push_str(
            "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ\r\n ",
        );
    }
    vcard.push_str("AA==\r\nEMAIL;TYPE=INTERNET:bo@example.com\r\nEND:VCARD\r\n");
    let before = dhat::HeapStats::get();

    let book = parse(input.as_bytes(), &Format::Detect, &ImportLimits::default()).unwrap();
    let csv_peak = dhat::HeapStats::get().max_bytes - before.curr_bytes;
    assert_eq!(book.entries.len(), 1);
    assert_eq!(book.entries[0].line, 3);
    assert_eq!(book.bad_rows.len(), 1);
    assert_eq!(book.bad_rows[0].line, 2);
    assert_eq!(
        book.bad_rows[0].problem,
        Problem::TooManyFields {
            fields: 9 * MIB + 1,
            max: ImportLimits::DEFAULT_MAX_FIELDS
        }
    );
    drop(book);

    let before_vcard = dhat::HeapStats::get();
    let cards = parse(vcard.as_bytes(), &Format::Detect, &ImportLimits::default()).unwrap();
    let vcard_growth = dhat::HeapStats::get()
        .max_bytes
        .saturating_sub(before_vcard.curr_bytes);
    assert_eq!(cards.entries.len(), 1);
    assert_eq!(cards.entries[0].email.as_written(), "bo@example.com");

    println!(
        "input {} bytes: peak during the CSV parse {} bytes; vCard input {} bytes: \
         peak growth during the vCard parse at most {} bytes",
        input.len(),
        csv_peak,
        vcard.len(),
        vcard_growth
    );
    // Linear with a small constant: the text is borrowed (it is valid
    // UTF-8 with LF line ends), and a record holds at most max_fields
    // cells of at most the field limit.
    assert!(csv_peak < MIB, "peak {csv_peak} bytes");
    // The vCard has CRLF line ends: one copy of the text with LF, nothing
    // per photo line.
    assert!(
        vcard_growth < vcard.len() + 64 * 1024,
        "peak {vcard_growth} bytes"
    );
}
