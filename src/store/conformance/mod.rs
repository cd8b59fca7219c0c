//! The [`Store`] conformance suite (feature `testing`): one function per
//! clause of the contract documented on [`Store`], each run against fresh
//! stores from a factory, and [`run_conformance`] running them all.
//!
//! Run it against your own store from a test:
//!
//! ```
//! # fn main() {
//! pronet::store::conformance::run_conformance(pronet::MemoryStore::new);
//! # }
//! ```
//!
//! or generate one `#[test]` per clause with [`store_conformance_tests!`]
//! (in a module of its own per store):
//!
//! ```
//! mod memory {
//!     pronet::store_conformance_tests!(pronet::MemoryStore::new);
//! }
//! # fn main() {}
//! ```
//!
//! Every function panics, naming the clause, when the store breaks it: they
//! are meant for tests. The factory must give an empty store each time it is
//! called. The suite uses threads (a store is shared by reference), a few
//! hundred commits per clause, and no clock.
//!
//! Clause 8 (failures) is not checked here: it is about the store's backend
//! failing, which only the store itself can arrange. [`FaultyStore`]
//! injects such failures in front of any store, to test its callers.
//!
//! [`store_conformance_tests!`]: crate::store_conformance_tests
//! [`FaultyStore`]: super::FaultyStore

// The suite is test code: it reports a broken clause by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod deletion;
mod feed;
mod fixtures;
mod outbox;
mod reads;
mod writes;

use super::{ChangeCursor, Gather, Gathered, Role, Store};
use crate::block::{Block, BlockTally};
use crate::change::{Change, Expect, Write};
use crate::contacts::Contact;
use crate::email::Email;
use crate::error::CommitError;
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::{
    Attempts, Bar, Delivery, IgnoreReason, InboxMark, Invitation, Ledger, PairState, Status,
};
use crate::member::{InvitePreference, Member, Profile, Tier};
use crate::note::Note;
use crate::record::{Key, Record, Version, Versioned};
use crate::standing::{Answer, Level, SendEntry, Signal};
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

pub use deletion::c10_deletion;
pub use feed::{
    c7_change_feed, c7_change_feed_under_concurrent_commits,
    c7_changes_now_under_concurrent_commits,
};
use fixtures::*;
pub use outbox::c9_outbox;
pub use reads::{c4_reads_round_trip_exactly, c5_secondary_reads, c6_unique_ids};
pub use writes::{
    c1_atomic_change_sets, c1_readers_see_whole_change_sets, c2_duplicate_keys_conflict,
    c2_expected_versions, c2_one_winner_per_expectation, c3_versions_advance,
};

/// Runs every clause of the [`Store`] contract against stores made by
/// `make`.
///
/// # Panics
/// When the store breaks a clause; the message names it.
pub fn run_conformance<S: Store>(make: impl Fn() -> S) {
    c1_atomic_change_sets(&make);
    c1_readers_see_whole_change_sets(&make);
    c2_expected_versions(&make);
    c2_duplicate_keys_conflict(&make);
    c2_one_winner_per_expectation(&make);
    c3_versions_advance(&make);
    c4_reads_round_trip_exactly(&make);
    c5_secondary_reads(&make);
    c6_unique_ids(&make);
    c7_change_feed(&make);
    c7_change_feed_under_concurrent_commits(&make);
    c7_changes_now_under_concurrent_commits(&make);
    c9_outbox(&make);
    c10_deletion(&make);
}

/// Generates one `#[test]` per clause of the [`Store`](crate::Store)
/// contract, for the store made by the given factory (an expression of a
/// type `Fn() -> S`), by calling the functions of
/// [`pronet::store::conformance`](crate::store::conformance). Invoke it in a
/// module of its own for each store.
///
/// ```
/// mod faulty_memory {
///     use pronet::store::FaultyStore;
///     pronet::store_conformance_tests!(|| FaultyStore::new(pronet::MemoryStore::new()));
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        #[test]
        fn c1_atomic_change_sets() {
            $crate::store::conformance::c1_atomic_change_sets($make);
        }
        #[test]
        fn c1_readers_see_whole_change_sets() {
            $crate::store::conformance::c1_readers_see_whole_change_sets($make);
        }
        #[test]
        fn c2_expected_versions() {
            $crate::store::conformance::c2_expected_versions($make);
        }
        #[test]
        fn c2_duplicate_keys_conflict() {
            $crate::store::conformance::c2_duplicate_keys_conflict($make);
        }
        #[test]
        fn c2_one_winner_per_expectation() {
            $crate::store::conformance::c2_one_winner_per_expectation($make);
        }
        #[test]
        fn c3_versions_advance() {
            $crate::store::conformance::c3_versions_advance($make);
        }
        #[test]
        fn c4_reads_round_trip_exactly() {
            $crate::store::conformance::c4_reads_round_trip_exactly($make);
        }
        #[test]
        fn c5_secondary_reads() {
            $crate::store::conformance::c5_secondary_reads($make);
        }
        #[test]
        fn c6_unique_ids() {
            $crate::store::conformance::c6_unique_ids($make);
        }
        #[test]
        fn c7_change_feed() {
            $crate::store::conformance::c7_change_feed($make);
        }
        #[test]
        fn c7_change_feed_under_concurrent_commits() {
            $crate::store::conformance::c7_change_feed_under_concurrent_commits($make);
        }
        #[test]
        fn c9_outbox() {
            $crate::store::conformance::c9_outbox($make);
        }
        #[test]
        fn c7_changes_now_under_concurrent_commits() {
            $crate::store::conformance::c7_changes_now_under_concurrent_commits($make);
        }
        #[test]
        fn c10_deletion() {
            $crate::store::conformance::c10_deletion($make);
        }
    };
}
