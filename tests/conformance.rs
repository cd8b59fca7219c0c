//! RELIABILITY A4: the store conformance suite (`pronet::store::conformance`)
//! against every Store in the crate: `MemoryStore`, and with the `sqlite`
//! feature `SqliteStore` in memory and on a file (WAL). One test per
//! contract clause and store; `FaultyStore` with no fault armed must pass
//! too, since it stands in front of the stores in the fault tests.
//!
//! Run with `cargo test --features testing,sqlite --test conformance`.

#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod memory {
    pronet::store_conformance_tests!(pronet::MemoryStore::new);
}

mod faulty_memory {
    pronet::store_conformance_tests!(
        || pronet::store::FaultyStore::new(pronet::MemoryStore::new())
    );
}

#[cfg(feature = "sqlite")]
mod sqlite_in_memory {
    pronet::store_conformance_tests!(|| pronet::SqliteStore::open_in_memory().unwrap());
}

/// Each store on a fresh file (WAL), removed with its companions when the
/// test's factory is dropped.
#[cfg(feature = "sqlite")]
mod sqlite_file {
    pronet::store_conformance_tests!(crate::support::sqlite_files("conformance"));
}

/// The whole suite through its one-call entry point.
#[test]
fn a4_run_conformance_on_memory_store() {
    pronet::store::conformance::run_conformance(pronet::MemoryStore::new);
}

/// A4 on PostgreSQL: every clause, each store in a fresh schema (dropped
/// afterwards). Skips, saying so, without `PRONET_POSTGRES_URL`.
#[cfg(feature = "postgres")]
#[test]
fn a4_conformance_postgres_store() {
    let Some(schemas) = support::pg::schemas("a4_conformance_postgres_store") else {
        return;
    };
    pronet::store::conformance::run_conformance(|| schemas.store("conformance"));
}
