//! Group commit: change sets that threads commit at the same time go to
//! PostgreSQL together, in one transaction and one round trip, each in a
//! subtransaction of its own (schema step 4), so that a conflict rolls back
//! only its own change set and the others commit.
//!
//! A thread that commits while no other is committing takes the waiting
//! change sets, its own among them, and commits them (it leads); threads
//! that come meanwhile queue theirs and wait. When it is done it hands
//! every waiter its answer, and hands the lead to the first thread still
//! queued, which takes everything queued by then. Under load, each
//! transaction carries the change sets of all the threads that came during
//! the one before; a thread alone commits its change set as before, in a
//! transaction of its own.
//!
//! Change sets are applied in the order they queued, so that a change set
//! whose expectation an earlier one in the same transaction broke gets
//! [`CommitError::Conflict`], as it would have had the earlier one
//! committed first. All the change sets of a transaction become visible at
//! once, their positions in queue order.

use super::write::{ChangeSet, commit_sets};
use super::*;
use std::sync::mpsc::Sender;

/// Change sets in one transaction at most: PostgreSQL keeps up to 64
/// subtransactions of a transaction in shared memory, and snapshots get
/// slower for every session while one has more.
const MOST_SETS: usize = 32;

/// Writes in one transaction at most: each needs a position of its own
/// below the next transaction's.
const MOST_WRITES: usize = (1 << 16) - 1;

/// What a queued thread is told.
enum Answer {
    /// Its change set was committed, or not.
    Done(Result<ChangeCursor, CommitError>),
    /// It leads now: it commits what is queued.
    Lead,
}

/// A queued change set and where its answer goes.
struct Queued {
    set: ChangeSet,
    answer: Sender<Answer>,
}

/// The queue of change sets waiting to be committed.
#[derive(Default)]
struct Queue {
    waiting: Vec<Queued>,
    /// Whether a thread is committing (leads).
    leading: bool,
}

/// Change sets waiting to be committed together.
#[derive(Default)]
pub(super) struct Group {
    queue: Mutex<Queue>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").finish_non_exhaustive()
    }
}

impl Group {
    /// Commits `set` with those of any threads committing at the same time,
    /// through `store`'s connections; answers its last position.
    pub(super) fn commit(
        &self,
        store: &PostgresStore,
        set: ChangeSet,
    ) -> Result<ChangeCursor, CommitError> {
        let (answer, answers) = mpsc::channel();
        let lead = {
            let mut queue = self.lock();
            queue.waiting.push(Queued { set, answer });
            !std::mem::replace(&mut queue.leading, true)
        };
        if lead {
            self.lead(store);
        }
        loop {
            match answers.recv() {
                Ok(Answer::Done(outcome)) => return outcome,
                Ok(Answer::Lead) => self.lead(store),
                // The leading thread panicked: whether the change set was
                // committed is unknown, as after a lost acknowledgement.
                Err(_) => return Err(CommitError::Store(failed(Abandoned))),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits what is queued, answers each, and hands the lead on.
    fn lead(&self, store: &PostgresStore) {
        let batch = self.take();
        let handed = Handoff(self);
        let outcomes = match store.conn() {
            Ok(mut conn) => {
                let sets: Vec<&ChangeSet> = batch.iter().map(|q| &q.set).collect();
                commit_sets(&mut conn, &sets)
            }
            Err(e) => {
                let e = CommitError::Store(e);
                batch.iter().map(|_| Err(super::write::copy(&e))).collect()
            }
        };
        for (queued, outcome) in batch.into_iter().zip(outcomes) {
            // A waiter that is gone needs no answer.
            let _gone = queued.answer.send(Answer::Done(outcome));
        }
        handed.done();
    }

    /// The change sets queued first, as many as one transaction takes.
    fn take(&self) -> Vec<Queued> {
        let mut queue = self.lock();
        let (mut sets, mut writes) = (0, 0);
        let fit = queue
            .waiting
            .iter()
            .take_while(|q| {
                sets += 1;
                writes += q.set.len();
                sets == 1 || (sets <= MOST_SETS && writes <= MOST_WRITES)
            })
            .count();
        queue.waiting.drain(..fit).collect()
    }
}

/// Hands the lead to the first queued thread, or gives it up when none is
/// queued; also when the leading thread unwinds, so that the queue never
/// stops.
struct Handoff<'a>(&'a Group);

impl Handoff<'_> {
    fn done(self) {}
}

impl Drop for Handoff<'_> {
    fn drop(&mut self) {
        let mut queue = self.0.lock();
        loop {
            let Some(next) = queue.waiting.first() else {
                queue.leading = false;
                return;
            };
            if next.answer.send(Answer::Lead).is_ok() {
                return;
            }
            // Its thread is gone: nobody waits for that change set.
            queue.waiting.remove(0);
        }
    }
}

/// The thread committing a change set's transaction unwound before it
/// answered.
#[derive(Debug, Error)]
#[error("the thread committing this change set's transaction stopped before it answered")]
struct Abandoned;


#[cfg(test)]
mod tests {
    //! Needs a server: `PRONET_POSTGRES_URL` (skips, saying so, without).
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::change::Expect;
    use crate::invitation::Ledger;
    use crate::record::Version;

    fn ledger(raw: u64, connections: u32) -> Record {
        let mut ledger = Ledger::new(MemberId::new(raw));
        ledger.connections = connections;
        Record::Ledger(ledger)
    }

    fn write(expect: Expect, record: Record) -> Write {
        Write {
            expect,
            change: Change::Put(record),
        }
    }

    /// Waits until `store`'s queue is as `done` wants it. The bound only
    /// keeps a broken queue from hanging the run.
    fn until(store: &PostgresStore, what: &str, done: impl Fn(&Queue) -> bool) {
        let give_up = Instant::now() + Duration::from_secs(120);
        while !done(&store.group.lock()) {
            assert!(Instant::now() < give_up, "never {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Change sets that queue while another commits go in one transaction
    /// (their positions share its id), in the order they queued, and a
    /// conflict among them rolls back only its own change set.
    #[test]
    fn change_sets_queued_behind_a_commit_share_one_transaction() {
        let Ok(url) = std::env::var("PRONET_POSTGRES_URL") else {
            eprintln!(
                "SKIPPED change_sets_queued_behind_a_commit_share_one_transaction: no PostgreSQL \
                 server. Set PRONET_POSTGRES_URL=postgres://user:password@host/db to run it."
            );
            return;
        };
        let config: Config = url.parse().unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!("t_group_{}_{nanos}", std::process::id());
        let store = PostgresStore::open_in_schema(config.clone(), &schema, 4).unwrap();
        let (k1, k2, k3) = (ledger(1, 0).key(), ledger(2, 0).key(), ledger(3, 0).key());
        store
            .commit(&[write(Expect::Absent, ledger(1, 0)), write(Expect::Absent, ledger(2, 0))])
            .unwrap();
        let before = store.change_cursor().unwrap();
        // Another session holds member 1's ledger: the first commit waits.
        let mut holder = config.connect(NoTls).unwrap();
        holder
            .batch_execute(&format!(
                "BEGIN; SELECT 1 FROM \"{schema}\".record WHERE key = '{}' FOR UPDATE",
                key_text(&k1).unwrap()
            ))
            .unwrap();
        let v1 = Expect::At(Version(1));
        let outcomes = std::thread::scope(|scope| {
            let store = &store;
            let first = scope.spawn(move || store.commit_positioned(&[write(v1, ledger(1, 1))]));
            until(store, "led", |q| q.leading && q.waiting.is_empty());
            let queued = [
                write(Expect::Absent, ledger(3, 1)),
                // Member 2's ledger is at version 1: this one conflicts.
                write(Expect::At(Version(7)), ledger(2, 7)),
                write(v1, ledger(2, 1)),
            ]
            .into_iter()
            .enumerate()
            .map(|(n, w)| {
                let handle = scope.spawn(move || store.commit_positioned(&[w]));
                until(store, "queued", |q| q.waiting.len() == n + 1);
                handle
            })
            .collect::<Vec<_>>();
            holder.batch_execute("ROLLBACK").unwrap();
            let first = first.join().unwrap();
            let rest: Vec<_> = queued.into_iter().map(|h| h.join().unwrap()).collect();
            (first, rest)
        });
        let position = |r: &Result<Option<ChangeCursor>, CommitError>| r.as_ref().unwrap().unwrap();
        let (first, rest) = outcomes;
        let (a, b, d) = (position(&first), position(&rest[0]), position(&rest[2]));
        assert!(matches!(&rest[1], Err(CommitError::Conflict(k)) if *k == k2));
        let transaction = |p: ChangeCursor| p.get() >> 16;
        assert_eq!(transaction(b), transaction(d), "one transaction");
        assert_ne!(transaction(a), transaction(b));
        assert!(a < b && b < d, "{a:?} {b:?} {d:?}");
        let stored = |k: &Key| store.get(k).unwrap().unwrap();
        assert_eq!((stored(&k1).version, stored(&k1).value), (Version(2), ledger(1, 1)));
        assert_eq!((stored(&k2).version, stored(&k2).value), (Version(2), ledger(2, 1)));
        assert_eq!((stored(&k3).version, stored(&k3).value), (Version(1), ledger(3, 1)));
        let fed: Vec<Key> = store
            .changes_since(before, 10)
            .unwrap()
            .changes
            .into_iter()
            .map(|c| c.value.key())
            .collect();
        assert_eq!(fed, [k1, k3, k2], "the feed in commit order, the queue's order");
        drop(store);
        let mut admin = config.connect(NoTls).unwrap();
        admin
            .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .unwrap();
    }
}
