//! RELIABILITY C1: any bytes given to the address-book parser give a book or
//! a clear error, never a panic, a hang or unbounded memory, and every book
//! stays within the limits. CSV, plain lists and vCard (explicitly, and
//! through detection of `BEGIN:VCARD`); seed it with `tests/data/contacts/`,
//! whose `.vcf` files reach the vCard paths.
//!
//! The first two bytes pick small limits for a second parse, so that the
//! row and field limits are reached as often as the defaults are not.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pronet::contacts::{self, ColumnMapping, Format, ImportError, ImportLimits};

fuzz_target!(|data: &[u8]| {
    let small = match data {
        [rows, field, ..] => ImportLimits::new(
            4_096,
            usize::from(*rows % 16) + 1,
            usize::from(*field % 64) + 1,
        )
        .ok(),
        _ => None,
    };
    for limits in [Some(ImportLimits::default()), small].into_iter().flatten() {
        check(data, &limits);
    }
});

fn check(data: &[u8], limits: &ImportLimits) {
    let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    let formats = [
        Format::Detect,
        Format::List,
        Format::Mapped(ColumnMapping::new(["email"]).with_names(["name"])),
        Format::VCard,
    ];
    for format in formats {
        match contacts::parse(data, &format, limits) {
            Ok(book) => {
                assert!(book.rows <= limits.max_rows());
                assert!(book.entries.len() <= limits.max_rows());
                let mut keys: Vec<&str> =
                    book.entries.iter().map(|e| e.email.canonical()).collect();
                keys.sort_unstable();
                keys.dedup();
                assert_eq!(keys.len(), book.entries.len(), "duplicates collapse");
                for e in &book.entries {
                    assert!((1..=lines).contains(&e.line));
                    assert!(e.email.as_written().len() <= limits.max_field_bytes());
                    // The canonical key is itself a valid address with the same key.
                    let again = pronet::Email::parse(e.email.canonical());
                    assert_eq!(
                        again.as_ref().map(|a| a.canonical()),
                        Ok(e.email.canonical())
                    );
                }
                for b in &book.bad_rows {
                    assert!((1..=lines).contains(&b.line));
                }
            }
            Err(ImportError::TooLarge { bytes, max }) => {
                assert!(bytes > max && max == limits.max_bytes());
            }
            Err(_) => {}
        }
    }
}
