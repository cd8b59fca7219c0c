//! Following the store's change feed, and mirroring committed records
//! into the graph and discovery indexes: the one path for local and remote
//! commits.

use super::{FEED_PAGE, Network};
use crate::discovery::DiscoveryIndex;
use crate::error::{Error, StoreError};
use crate::graph::SocialGraph;
use crate::record::{Key, Record};
use crate::store::Store;
use crate::time::Clock;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

impl<S: Store, C: Clock> Network<S, C> {
    /// Brings the graph index up to date with the store: applies every
    /// record committed since this network last followed the store's change
    /// feed (see [`Store`], clause 7), and answers how many it applied.
    ///
    /// A network indexes its own commits as it makes them, so a process that
    /// is the only writer to its store never needs this. **Processes that
    /// share one database must call it** to see each other's members and
    /// connections: before degree, mutual and list queries whose freshness
    /// matters, or periodically (every second, say), from any thread. Until
    /// then the index may lag behind the other processes' commits, never
    /// behind this network's own. The rules that must hold across processes
    /// (one open invitation per pair, the connection cap, quotas, the
    /// re-send ladder) never rely on the index: the store referees them.
    /// What the index does decide in a stale process is soft: eligibility by
    /// shared connections, mutual-connection counts, and whether a member
    /// registered elsewhere shows in lists yet.
    ///
    /// It also repairs the index after a commit whose outcome was unknown
    /// (the store reported an error but may have applied it); the network
    /// does that by itself before its next operation.
    ///
    /// Re-applying a record is harmless, so calling it often costs one feed
    /// read when nothing changed. Operations wait while it applies what it reads.
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails; the index then keeps what it
    /// applied, and the next call continues from there.
    pub fn catch_up(&self) -> Result<usize, Error> {
        let mut graph = self.graph.write().unwrap_or_else(PoisonError::into_inner);
        Ok(self.follow_feed(&mut graph)?)
    }

    /// Follows the change feed to its end, applying each page to `graph`.
    /// The caller holds the graph's write lock, so no commit of this network
    /// interleaves with the feed reads: every record read is at least as new
    /// as what the index holds.
    /// Mirrors committed records into the discovery index, taking its lock
    /// only when one of them concerns it. Called with the graph's write
    /// guard held (lock order: graph, then discovery).
    pub(super) fn index_discovery<'a>(
        &self,
        records: impl IntoIterator<Item = &'a Record> + Clone,
    ) {
        if records.clone().into_iter().any(indexed_for_discovery) {
            let mut discovery = self
                .discovery
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            index_discovery(&mut discovery, records);
        }
    }

    pub(super) fn follow_feed(&self, graph: &mut SocialGraph) -> Result<usize, StoreError> {
        let mut followed = self.followed.lock().unwrap_or_else(PoisonError::into_inner);
        let mut applied = 0;
        loop {
            let page = self.store.changes_since(*followed, FEED_PAGE)?;
            let records: Vec<&Record> = page.records.iter().map(|v| &v.value).collect();
            // Members first, then the endpoints of connected pairs that the
            // index does not know yet (a member rewritten since moved to a
            // later page), then the rest.
            let (members, others): (Vec<&Record>, Vec<&Record>) =
                records.iter().partition(|r| matches!(r, Record::Member(_)));
            index(graph, members);
            for record in &others {
                if let Record::Pair(p) = record {
                    if p.connected_since.is_some() {
                        for id in [p.key.low(), p.key.high()] {
                            if !graph.contains(id) {
                                if let Some(m) = self.store.get(&Key::Member(id))? {
                                    index(graph, [&m.value]);
                                }
                            }
                        }
                    }
                }
            }
            index(graph, others);
            self.index_discovery(records.iter().copied());
            applied += records.len();
            *followed = page.cursor.max(*followed);
            if records.len() < FEED_PAGE {
                break;
            }
        }
        self.unsure.store(false, Ordering::SeqCst);
        Ok(applied)
    }
}

/// Mirrors committed records into the graph: the one function both the
/// commit path and the change feed go through. Each record sets the state
/// its key stands for (a member present and active or not, a pair connected
/// or not), so re-applying a record is harmless.
pub(super) fn index<'a>(graph: &mut SocialGraph, records: impl IntoIterator<Item = &'a Record>) {
    for record in records {
        // Errors cannot arise from committed, decided state; the index is
        // rebuilt from the store by `open` if it ever drifts.
        let _ = match record {
            Record::Member(m) if m.active => graph
                .add_member(m.id, m.kind)
                .and_then(|_| graph.reactivate(m.id)),
            Record::Member(m) => graph
                .add_member(m.id, m.kind)
                .and_then(|_| graph.deactivate(m.id)),
            Record::Pair(p) if p.connected_since.is_some() => {
                graph.connect(p.key.low(), p.key.high())
            }
            Record::Pair(p) => graph.disconnect(p.key.low(), p.key.high()),
            _ => Ok(false),
        };
    }
}

/// Whether the discovery index mirrors this kind of record.
pub(super) fn indexed_for_discovery(record: &Record) -> bool {
    matches!(record, Record::Member(_) | Record::Groups(_))
}

/// Mirrors committed member and group records into the discovery index;
/// idempotent like [`index`].
pub(super) fn index_discovery<'a>(
    discovery: &mut DiscoveryIndex,
    records: impl IntoIterator<Item = &'a Record>,
) {
    for record in records {
        match record {
            Record::Member(m) => discovery.upsert(m),
            Record::Groups(g) => discovery.set_groups(g.member, g.groups.iter().copied()),
            _ => {}
        }
    }
}
