//! Following the store's change feed, and mirroring committed records
//! into the graph and discovery indexes: the one path for local and remote
//! commits.

use super::{FEED_PAGE, Network};
use crate::change::{Change, Write};
use crate::discovery::DiscoveryIndex;
use crate::error::{Error, StoreError};
use crate::graph::SocialGraph;
use crate::id::MemberId;
use crate::record::{Key, Record};
use crate::store::{ChangeCursor, Changes, Store};
use crate::time::{Clock, Timestamp};
use chrono::TimeDelta;
use std::collections::HashMap;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering};

/// How fresh a network's reads must be. Decisions are always taken on an
/// index as current as the store (each operation follows the store's
/// change feed before it decides); reads follow this setting. pronet runs
/// no thread of its own: a read that must be fresher follows the feed
/// itself, one store read when nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Freshness {
    /// Every read first follows the feed: two networks on one database
    /// answer alike after every operation of either. The default.
    Current,
    /// A read follows the feed when the last time was longer ago than this
    /// (by the network's clock): reads may miss other processes' commits
    /// of that long, never this network's own.
    Within(TimeDelta),
}

impl<S: Store, C: Clock> Network<S, C> {
    /// This network with reads as fresh as `freshness` asks (see
    /// [`Freshness`]; the default is [`Freshness::Current`]).
    #[must_use]
    pub fn with_freshness(mut self, freshness: Freshness) -> Self {
        self.freshness = freshness;
        self
    }

    /// Brings the graph and discovery indexes up to date with the store:
    /// applies every record committed since this network last followed the
    /// store's change feed (see [`Store`], clause 7), and answers how many
    /// it applied.
    ///
    /// Every operation and (with the default [`Freshness::Current`]) every
    /// read does this by itself first, so a host need not call it; a host
    /// that reads through [`graph`](Network::graph) directly, or that set
    /// [`Freshness::Within`], calls it when it wants the index current (a
    /// background task woken by the store's notifications, say).
    ///
    /// Re-applying a record is harmless, and nothing is locked while the
    /// store is read: readers wait only while a page is applied. Threads
    /// that call it while another follows the feed share that thread's
    /// next follow (then answering 0 for the records it applied).
    ///
    /// ```
    /// # use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile, Timestamp};
    /// # let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
    /// // Two networks over one store, as two processes over one database.
    /// let store = std::sync::Arc::new(MemoryStore::new());
    /// let one = Network::open(store.clone(), clock.clone(), Policy::default())?;
    /// let two = Network::open(store, clock, Policy::default())?;
    /// one.register(Member::person(MemberId::new(1), Profile::named("Ana")))?;
    /// // `two` reads its index directly: it follows the feed first.
    /// assert!(two.catch_up()? > 0);
    /// assert!(two.graph().contains(MemberId::new(1)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails; the index then keeps what it
    /// applied, and the next call continues from there.
    pub fn catch_up(&self) -> Result<usize, Error> {
        super::trace::op("catch_up").within(|| Ok(self.sync()?))
    }

    /// Follows the feed before a read, as the freshness setting asks.
    pub(super) fn fresh(&self) -> Result<(), Error> {
        let due = self.stale.load(Ordering::SeqCst)
            || match self.freshness {
                Freshness::Current => true,
                Freshness::Within(limit) => {
                    let last = Timestamp::from_micros(self.synced.load(Ordering::SeqCst));
                    self.clock.now().since(last) > limit
                }
            };
        if due {
            self.sync_read()?;
        }
        Ok(())
    }

    /// Follows the change feed to its end, applying each page to the
    /// indexes in feed order. One thread follows at a time (the `followed`
    /// lock); the indexes are write-locked only while a page is applied,
    /// never across a store call. Threads that queue while one follows
    /// share the next follow (see [`sync_after`](Self::sync_after)).
    pub(super) fn sync(&self) -> Result<usize, StoreError> {
        self.sync_after(&[], None, None)
    }

    /// [`sync`](Self::sync) for a read: the store is asked first without
    /// the `followed` lock, and when the feed holds nothing new (the
    /// common case) that is all, so that concurrent readers never queue
    /// behind each other or behind a writer's follow. (Decisions use
    /// `sync`: with many writing threads the feed is rarely empty, and
    /// sharing follows costs the store fewer reads.)
    pub(super) fn sync_read(&self) -> Result<usize, StoreError> {
        let started = self.clock.now();
        let at = {
            let place = self.place();
            (place.followed, place.epoch)
        };
        let probe = match self.store.changes_now(at.0, FEED_PAGE) {
            Ok(page) => page,
            Err(e) => {
                self.stale.store(true, Ordering::SeqCst);
                return Err(e);
            }
        };
        if probe.changes.is_empty() && probe.unsettled.is_empty() {
            // Everything committed is at or before where the feed was
            // followed, which the index holds (the place moves only after
            // its records were applied).
            self.stale.store(false, Ordering::SeqCst);
            self.synced.fetch_max(started.as_micros(), Ordering::SeqCst);
            return Ok(0);
        }
        self.sync_after(&[], None, Some((at, probe)))
    }

    fn place(&self) -> std::sync::MutexGuard<'_, Place> {
        self.followed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`sync`](Self::sync) right after this network committed `own`, its
    /// last write at `position` if the store said. A change set's writes
    /// take the positions up to its last one (clause 7), so `own` holds
    /// the positions `position - own.len() + 1 ..= position`:
    /// - when no record of a later position was applied yet, `own` is
    ///   applied without reading it back (each of its keys is at its
    ///   latest version as far as the index knows); when the feed was
    ///   followed up to just before it, the feed is followed to
    ///   `position`, else where the feed was followed stays (other
    ///   positions come between: another commit, or gaps such as
    ///   `PostgresStore`'s, whose positions come from transaction ids; a
    ///   commit with an earlier position may still become visible, and the
    ///   next follow must not skip it; it reads `own` again, which is
    ///   harmless: each record sets the state of its key, and the feed
    ///   holds only the latest version of each);
    /// - when a record of a later position was applied (a later commit of
    ///   another thread, or one the store answered as unsettled), applying
    ///   `own` could set one of its keys back: the feed is followed to its
    ///   end instead, `own` included.
    pub(super) fn sync_after(
        &self,
        own: &[Write],
        position: Option<ChangeCursor>,
        probe: Option<((ChangeCursor, u64), Changes)>,
    ) -> Result<usize, StoreError> {
        let started = self.clock.now();
        let ticket = self.follows.begun.load(Ordering::SeqCst);
        let mut place = self.place();
        // A follow that began after this call and read to the feed's end
        // returned every commit that ended before this call (this
        // network's own included): the feed need not be read again. Threads
        // that queue here while one follows share the next follow.
        if position.is_none() && self.follows.completed.load(Ordering::SeqCst) > ticket {
            drop(place);
            self.stale.store(false, Ordering::SeqCst);
            self.synced.fetch_max(started.as_micros(), Ordering::SeqCst);
            return Ok(0);
        }
        // A page read before the lock is good if nothing was applied
        // since (else it could set a key back to an older version).
        let probe = probe
            .filter(|(at, _)| *at == (place.followed, place.epoch))
            .map(|p| p.1);
        let result = self.follow_locked(&mut place, own, position, probe);
        match result {
            Err(_) => self.stale.store(true, Ordering::SeqCst),
            // Only a follow to the feed's end makes the index fresh: after
            // applying its own commit alone, a network still owes its reads
            // the commits that came before it.
            Ok(Followed::ToEnd(_)) => {
                self.stale.store(false, Ordering::SeqCst);
                self.synced.fetch_max(started.as_micros(), Ordering::SeqCst);
            }
            Ok(Followed::OwnOnly(_)) => {}
        }
        result.map(Followed::applied)
    }

    fn follow_locked(
        &self,
        place: &mut Place,
        own: &[Write],
        position: Option<ChangeCursor>,
        mut probe: Option<Changes>,
    ) -> Result<Followed, StoreError> {
        if let Some(end) = position.filter(|_| !own.is_empty()) {
            if end <= place.followed {
                // Followed past it already (another thread of this network
                // read it from the feed).
                return Ok(Followed::ToEnd(0));
            }
            // A key whose later version was applied already (another
            // thread's commit, or an unsettled record) keeps it.
            let records: Vec<&Change> = own
                .iter()
                .map(|w| &w.change)
                .filter(|c| place.ahead.get(&c.key()).is_none_or(|&at| at < end))
                .collect();
            self.apply(&records)?;
            place.epoch += 1;
            let first = u64::try_from(own.len())
                .ok()
                .and_then(|n| end.get().checked_sub(n));
            if first == Some(place.followed.get()) {
                place.advance(end);
                return Ok(Followed::ToEnd(records.len()));
            }
            place.mark(own.iter().map(|w| w.change.key()), end);
            return Ok(Followed::OwnOnly(records.len()));
        }
        // To the feed's end: one store read when nothing changed (later
        // commits come with the next follow).
        let number = self.follows.begun.fetch_add(1, Ordering::SeqCst) + 1;
        let mut applied = 0;
        loop {
            let page = match probe.take() {
                Some(page) => page,
                None => self.store.changes_now(place.followed, FEED_PAGE)?,
            };
            // The settled records, then the unsettled ones after them: all
            // in feed order, each key once at its latest version.
            let records: Vec<&Change> = page
                .changes
                .iter()
                .chain(page.unsettled.iter().map(|(_, v)| v))
                .map(|v| &v.value)
                .collect();
            if !records.is_empty() {
                self.apply(&records)?;
            }
            applied += records.len();
            place.epoch += 1;
            place.advance(page.cursor);
            for (at, change) in &page.unsettled {
                place.mark([change.value.key()], *at);
            }
            if page.changes.len() < FEED_PAGE {
                self.follows.completed.store(number, Ordering::SeqCst);
                return Ok(Followed::ToEnd(applied));
            }
        }
    }

    /// Applies committed changes, in feed order, to the indexes: members
    /// first, then the endpoints of connected pairs that the index does not
    /// know yet (a member rewritten since moved to a later page; read from
    /// the store before any lock is taken), then the rest, then deletions
    /// (each forgets what its key stood for).
    fn apply(&self, changes: &[&Change]) -> Result<(), StoreError> {
        let records: Vec<&Record> = changes.iter().filter_map(|c| c.record()).collect();
        let records = records.as_slice();
        let is_member = |r: &&Record| matches!(r, Record::Member(_));
        let missing: Vec<MemberId> = {
            let graph = self.graph();
            let mut missing = Vec::new();
            for record in records {
                let Record::Pair(p) = record else { continue };
                if p.connected_since.is_none() {
                    continue;
                }
                for id in [p.key.low(), p.key.high()] {
                    let paged = records
                        .iter()
                        .any(|r| matches!(r, Record::Member(m) if m.id == id));
                    if !graph.contains(id) && !paged && !missing.contains(&id) {
                        missing.push(id);
                    }
                }
            }
            missing
        };
        let mut endpoints = Vec::new();
        for id in missing {
            if let Some(m) = self.store.get(&Key::Member(id))? {
                endpoints.push(m.value);
            }
        }
        let mut graph = self.graph.write().unwrap_or_else(PoisonError::into_inner);
        index(&mut graph, records.iter().copied().filter(is_member));
        index(&mut graph, &endpoints);
        index(
            &mut graph,
            records.iter().copied().filter(|r| !is_member(r)),
        );
        self.index_discovery(records.iter().copied().chain(&endpoints));
        let deleted = changes.iter().filter_map(|c| match c {
            Change::Delete(key) => Some(key),
            Change::Put(_) => None,
        });
        forget(&mut graph, &self.discovery, deleted);
        Ok(())
    }

    /// Mirrors committed records into the discovery index, taking its lock
    /// only when one of them concerns it. Called with the graph's write
    /// guard held (lock order: graph, then discovery), so that readers
    /// holding the graph see both as of the same commit.
    fn index_discovery<'a>(&self, records: impl IntoIterator<Item = &'a Record> + Clone) {
        if records.clone().into_iter().any(indexed_for_discovery) {
            let mut discovery = self
                .discovery
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            index_discovery(&mut discovery, records);
        }
    }
}

/// The follows of the feed a network began, and the number of the last
/// that read to the feed's end.
#[derive(Debug, Default)]
pub(super) struct Follows {
    begun: AtomicU64,
    completed: AtomicU64,
}

/// Where a network follows the store's change feed.
#[derive(Debug)]
pub(super) struct Place {
    /// Every record at or before this position is in the indexes; the next
    /// follow continues after it.
    pub(super) followed: ChangeCursor,
    /// Counts the applies to the indexes: a feed page read before the
    /// lock is applied only if none came between.
    pub(super) epoch: u64,
    /// Keys applied past `followed` (a network's own commits, unsettled
    /// records), at the position applied: an own commit applied later
    /// never sets one back.
    pub(super) ahead: HashMap<Key, ChangeCursor>,
}

impl Place {
    /// A place from which the feed is followed, nothing applied past it.
    pub(super) fn at(followed: ChangeCursor) -> Self {
        Self {
            followed,
            epoch: 0,
            ahead: HashMap::new(),
        }
    }

    /// The feed was followed to `to`: keys applied up to it need no mark.
    fn advance(&mut self, to: ChangeCursor) {
        self.followed = self.followed.max(to);
        let followed = self.followed;
        if !self.ahead.is_empty() {
            self.ahead.retain(|_, at| *at > followed);
        }
    }

    /// `keys` were applied at `at`, past where the feed was followed.
    fn mark(&mut self, keys: impl IntoIterator<Item = Key>, at: ChangeCursor) {
        if at <= self.followed {
            return;
        }
        for key in keys {
            let entry = self.ahead.entry(key).or_insert(at);
            *entry = (*entry).max(at);
        }
    }
}

/// How far a follow of the feed went, and how many records it applied.
enum Followed {
    /// To the feed's end (as the store answered it).
    ToEnd(usize),
    /// The network's own commit alone; the feed before it is still owed.
    OwnOnly(usize),
}

impl Followed {
    fn applied(self) -> usize {
        match self {
            Self::ToEnd(n) | Self::OwnOnly(n) => n,
        }
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

/// Mirrors deletions into the indexes: a deleted pair is not connected, a
/// deleted member is inactive and unsearchable, deleted groups are none.
/// Idempotent like [`index`].
fn forget<'a>(
    graph: &mut SocialGraph,
    discovery: &std::sync::RwLock<DiscoveryIndex>,
    keys: impl IntoIterator<Item = &'a Key>,
) {
    for key in keys {
        match key {
            Key::Pair(p) => {
                let _ = graph.disconnect(p.low(), p.high());
            }
            Key::Member(id) => {
                let _ = graph.deactivate(*id);
                discovery
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(*id);
            }
            Key::Groups(id) => discovery
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .set_groups(*id, []),
            _ => {}
        }
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
