//! RELIABILITY A4: the store conformance suite (`pronet::store::conformance`)
//! against every Store in the crate: `MemoryStore`, and with the `sqlite`
//! feature `SqliteStore` in memory and on a file (WAL). One test per
//! contract clause and store; `FaultyStore` with no fault armed must pass
//! too, since it stands in front of the stores in the fault tests.
//!
//! Run with `cargo test --features testing,sqlite --test conformance`.

#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

#[cfg(feature = "sqlite")]
mod sqlite_file {
    use pronet::change::Write;
    use pronet::invitation::Invitation;
    use pronet::record::{Key, Record, Versioned};
    use pronet::store::Role;
    use pronet::{
        ChangeCursor, Changes, CommitError, InvitationId, Member, MemberId, PairKey, SqliteStore,
        Store, StoreError,
    };
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A `SqliteStore` on a fresh file, removed (with its WAL) on drop.
    pub struct TempFile {
        store: Option<SqliteStore>,
        path: PathBuf,
    }

    impl TempFile {
        pub fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance");
            std::fs::create_dir_all(&dir).unwrap();
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let path = dir.join(format!("{}-{n}.db", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let store = SqliteStore::open(&path).unwrap();
            Self {
                store: Some(store),
                path,
            }
        }

        fn store(&self) -> &SqliteStore {
            self.store.as_ref().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            drop(self.store.take());
            for suffix in ["", "-wal", "-shm"] {
                let mut name = self.path.clone().into_os_string();
                name.push(suffix);
                let _ = std::fs::remove_file(name);
            }
        }
    }

    impl Store for TempFile {
        fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
            self.store().get(key)
        }
        fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
            self.store().commit(writes)
        }
        fn open_invitations(
            &self,
            member: MemberId,
            role: Role,
        ) -> Result<Vec<Invitation>, StoreError> {
            self.store().open_invitations(member, role)
        }
        fn members(&self) -> Result<Vec<Member>, StoreError> {
            self.store().members()
        }
        fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
            self.store().connections()
        }
        fn contacts(
            &self,
            owner: pronet::MemberId,
        ) -> Result<Vec<pronet::contacts::Contact>, StoreError> {
            self.store().contacts(owner)
        }
        fn blocks(
            &self,
            member: MemberId,
            role: Role,
        ) -> Result<Vec<pronet::block::Block>, StoreError> {
            self.store().blocks(member, role)
        }
        fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
            self.store().next_invitation_id()
        }
        fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
            self.store().change_cursor()
        }
        fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
            self.store().changes_since(after, limit)
        }
    }

    pronet::store_conformance_tests!(TempFile::new);
}

/// The whole suite through its one-call entry point.
#[test]
fn a4_run_conformance_on_memory_store() {
    pronet::store::conformance::run_conformance(pronet::MemoryStore::new);
}
