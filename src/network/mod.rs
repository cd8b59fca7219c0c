//! [`Network`]: the thin imperative shell. Each operation reads the clock
//! once, brings its indexes up to the store, loads the facts, lets a pure
//! decision rule, commits the change set with its events (the outbox)
//! atomically (retrying on conflict from fresh facts), follows the store's
//! change feed into the graph and discovery indexes, and returns the
//! committed events.
//!
//! | file | its job |
//! |---|---|
//! | `mod.rs` | the [`Network`] struct, [`open`](Network::open), [`run`](Network) (decide, commit, retry, index) and typed loading |
//! | `clock.rs` | the time a network acts on; [`repair_clock`](Network::repair_clock) |
//! | `feed.rs` | following the change feed; mirroring records into the indexes; read freshness |
//! | `outbox.rs` | the relay's reads of the transactional outbox, and its acknowledgements |
//! | `facts.rs` | what each decision reads; what a viewer may see |
//! | `members.rs` | register, update, deactivate |
//! | `address_books.rs` | contacts, invitations to join, opt-outs, join delivery |
//! | `invitations.rs` | send, accept, ignore, reject, withdraw |
//! | `blocks.rs` | block, unblock, report, remove a connection |
//! | `reads.rs` | graph reads as a viewer may see them, lists, views, standing |
//! | `people.rs` | people you may know, people search, company pages |
//! | `personal.rs` | personal data: erase, export, note retention |
//! | `counts.rs` | the invitation lists' one filter, their counts, the unseen count and its mark |
//! | `profiles.rs` | a member as a viewer may see them, display fields of rows, the block list |
//! | `relationships.rs` | many members' relationships to a viewer at once |
//! | `quota.rs` | a sender's allowance ahead of a send |
//! | `trace.rs` | a `tracing` span per operation (feature `tracing`) |

mod address_books;
mod blocks;
mod clock;
mod counts;
mod facts;
mod feed;
mod invitations;
mod members;
mod outbox;
mod people;
mod personal;
mod profiles;
mod quota;
mod reads;
mod relationships;
mod trace;

pub use address_books::SentJoinInvitation;
pub use counts::InvitationCounts;
use facts::Sight;
pub use feed::Freshness;
use feed::{Follows, Place};
pub use personal::{Export, Retained};
pub use profiles::{BlockedMember, Card, MemberView, Row, Subject};
#[cfg(feature = "testing")]
pub use reads::ReadQuery;
pub use reads::{InvitationView, ListCursor, Listed};
pub use relationships::{Pending, Relationship};

use crate::change::{Change, Decision, Expect, Write};
use crate::discovery::DiscoveryIndex;
use crate::error::{CommitError, Error, StoreError};
use crate::event::Event;
use crate::graph::SocialGraph;
use crate::id::MemberId;
use crate::instants;
use crate::member::Kind;
use crate::outbox::{Outbox, OutboxKey};
use crate::policy::Policy;
use crate::record::{Key, Record, Versioned};
use crate::store::{ChangeCursor, Store};
use crate::time::{Clock, Timestamp};
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard};

/// Records read from the change feed per store call while catching up.
const FEED_PAGE: usize = 1024;

/// The result of a committed operation: its answer and the events it
/// produced (empty when a repeated command changed nothing).
///
/// Events for members and events for the host's mailer come apart, so that
/// what a caller may be shown has the same shape whoever is behind an email
/// address: an invitation to join an address nobody has and one to the
/// address of a member hidden from the sender both answer one
/// [`Event::JoinInvitationSent`] in `events`; only the first puts an
/// [`Event::JoinInvitationReceived`] in `mail`. Never show `mail`, or its
/// length, to a member.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Committed<O> {
    /// The operation's answer.
    pub outcome: O,
    /// The committed events for members, each with its audience.
    pub events: Vec<Event>,
    /// The committed events for the person at an email address who is not
    /// a member ([`Audience::Address`](crate::event::Audience::Address)):
    /// the host emails them, and never shows them to a member.
    pub mail: Vec<Event>,
}

impl<O> Committed<O> {
    /// An answer with the events of its change, split by audience.
    fn new(outcome: O, events: Vec<Event>) -> Self {
        let (mail, events) = events
            .into_iter()
            .partition(|e| e.audience() == crate::event::Audience::Address);
        Self {
            outcome,
            events,
            mail,
        }
    }
}

/// A professional network over a host's [`Store`] and [`Clock`].
///
/// All methods take `&self` and are safe to call from many threads at once:
/// the store referees races through expected versions, and the indexes sit
/// behind read-write locks that no thread holds across a store call.
///
/// Several processes may share one database, each with its own `Network`:
/// each follows the store's change feed (its own commits and the others'
/// alike, in commit order) before it decides, after it commits, and before
/// reads as its [`Freshness`] asks, so that with the default setting two
/// networks on one database answer alike after every operation of either.
///
/// Every change's events are stored with it (the transactional outbox):
/// [`Committed`] hands them to a caller that publishes inline, and
/// [`events_since`](Network::events_since) to a relay that must never lose
/// one.
///
/// ```
/// use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile};
/// use pronet::{Degree, PageSize, Refusal, SendOutcome, Timestamp};
///
/// let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
/// let [ana, bo, cy] = [1, 2, 3].map(MemberId::new);
/// for (id, name) in [(ana, "Ana"), (bo, "Bo"), (cy, "Cy")] {
///     net.register(Member::person(id, Profile::named(name)))?;
/// }
/// // Strangers cannot invite each other without an email address or contacts.
/// let refused = net.send(pronet::SendRequest::new(ana, cy)).unwrap_err();
/// assert!(matches!(refused.refusal(), Some(Refusal::NotEligible { .. })));
/// # let bo_email = pronet::Email::parse("bo@example.com")?;
/// # net.update_member(bo, |m| m.add_email(bo_email.clone(), true))?;
/// # let SendOutcome::Sent(i) = net.send(pronet::SendRequest::new(ana, bo).proof(&bo_email))?.outcome else { unreachable!() };
/// # net.accept(bo, i)?;
/// # let cy_email = pronet::Email::parse("cy@example.com")?;
/// # net.update_member(cy, |m| m.add_email(cy_email.clone(), true))?;
/// # let SendOutcome::Sent(i) = net.send(pronet::SendRequest::new(bo, cy).proof(&cy_email))?.outcome else { unreachable!() };
/// # net.accept(cy, i)?;
/// // Once both know Bo, Ana may invite Cy, who sees it in the inbox.
/// let sent = net.send(pronet::SendRequest::new(ana, cy).note("We both worked with Bo."))?;
/// let SendOutcome::Sent(invitation) = sent.outcome else { unreachable!() };
/// assert_eq!(net.inbox(cy, None, PageSize::default())?.items[0].mutual_connections, 1);
/// net.accept(cy, invitation)?;
/// assert_eq!(net.graph().degree(ana, cy)?, Degree::First);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Network<S: Store, C: Clock> {
    store: S,
    clock: C,
    policy: Policy,
    graph: RwLock<SocialGraph>,
    /// Profiles and groups for discovery. Locked after `graph` whenever
    /// both are held, and written only while `graph` is write-locked, so
    /// that readers holding the graph see both as of the same commit.
    discovery: RwLock<DiscoveryIndex>,
    /// The latest instant this network has acted on, in microseconds.
    latest: AtomicI64,
    /// How far the indexes have followed the store's change feed. Held
    /// while one thread reads the feed and applies it, so that pages apply
    /// in feed order; never by readers.
    followed: Mutex<Place>,
    /// Follows of the feed begun (counted under `followed`), and the number
    /// of the last that read to the feed's end: a thread that waited for
    /// `followed` while a follow begun after its call completed needs no
    /// follow of its own (see `Network::sync_after`).
    follows: Follows,
    /// How fresh reads must be.
    freshness: Freshness,
    /// When the indexes last followed the feed to its end (microseconds
    /// of the host clock), for [`Freshness::Within`].
    synced: AtomicI64,
    /// Set when the indexes may lag behind what this network committed (a
    /// commit failed in a way that may have applied it, or following the
    /// feed after a commit failed): the next read follows the feed first,
    /// whatever the freshness.
    stale: AtomicBool,
    /// This instance's random number, and its counter, for the keys of its
    /// outbox records.
    instance: u64,
    outboxed: AtomicU64,
    /// Where [`apply_retention`](Network::apply_retention) continues.
    retention: Mutex<ChangeCursor>,
}

impl<S: Store, C: Clock> Network<S, C> {
    /// Opens a network over `store`, rebuilding the graph index and the
    /// discovery index from it (the latter reads each active person's group
    /// record, one read per person), and following the store's change feed
    /// from its current end (see [`catch_up`](Network::catch_up)).
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails or holds connections that make
    /// no sense (an endpoint missing or not a person).
    pub fn open(store: S, clock: C, policy: Policy) -> Result<Self, Error> {
        // The feed position first: whatever commits while the graph is read
        // comes again through the feed, and applying it twice is harmless.
        let followed = store.change_cursor()?;
        let mut members = store.members()?;
        let connections = store.connections()?;
        // The two reads are separate snapshots: a member registered after
        // the first and connected before the second is an endpoint the
        // member list lacks. Members are never deleted, so read each one.
        let known: HashSet<MemberId> = members.iter().map(|m| m.id).collect();
        let missing: BTreeSet<MemberId> = connections
            .iter()
            .flat_map(|p| [p.low(), p.high()])
            .filter(|id| !known.contains(id))
            .collect();
        for id in missing {
            let key = Key::Member(id);
            match store.get(&key)?.map(|v| v.value) {
                Some(Record::Member(m)) if m.id == id => members.push(m),
                _ => return Err(StoreError::Corrupt(key).into()),
            }
        }
        let mut graph = SocialGraph::build(
            members.iter().map(|m| (m.id, m.kind)),
            connections.iter().map(|p| (p.low(), p.high())),
            // The connection cap is decided in one place, the send and
            // accept rules over the store's ledgers (`invitation::decide`);
            // this index only mirrors what was committed, so its own cap
            // (kept for hosts that use `SocialGraph` on its own) is off.
            usize::MAX,
        )
        .map_err(|e| StoreError::Backend(Box::new(e)))?;
        for m in members.iter().filter(|m| !m.active) {
            graph
                .deactivate(m.id)
                .map_err(|e| StoreError::Backend(Box::new(e)))?;
        }
        let mut discovery = DiscoveryIndex::build(&members);
        for m in members
            .iter()
            .filter(|m| m.active && m.kind == Kind::Person)
        {
            let key = Key::Groups(m.id);
            match store.get(&key)?.map(|v| v.value) {
                None => {}
                Some(Record::Groups(g)) => discovery.set_groups(m.id, g.groups),
                Some(_) => return Err(StoreError::Corrupt(key).into()),
            }
        }
        let network = Self {
            store,
            clock,
            policy,
            graph: RwLock::new(graph),
            discovery: RwLock::new(discovery),
            latest: AtomicI64::new(i64::MIN),
            followed: Mutex::new(Place::at(followed)),
            follows: Follows::default(),
            freshness: Freshness::Current,
            synced: AtomicI64::new(i64::MIN),
            stale: AtomicBool::new(false),
            instance: random_u64(),
            outboxed: AtomicU64::new(0),
            retention: Mutex::new(ChangeCursor::START),
        };
        // What committed while the snapshots were read comes through the
        // feed: the index is as current as the store when `open` returns.
        network.catch_up()?;
        Ok(network)
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The graph index, for degree, mutual and network-size queries, as of
    /// the last time this network followed the store's feed (its own
    /// commits always included; call [`catch_up`](Self::catch_up) first for
    /// other processes'). Hold the guard briefly: index updates wait for
    /// it. The viewer-aware reads ([`degree`](Self::degree) and the like)
    /// are fresh as [`Freshness`] asks.
    pub fn graph(&self) -> RwLockReadGuard<'_, SocialGraph> {
        self.graph.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn load<T: TryFrom<Record>>(&self, key: Key) -> Result<Option<Versioned<T>>, Error> {
        match self.store.get(&key)? {
            None => Ok(None),
            Some(v) => self.checked(key, v),
        }
    }

    /// Reads `keys` in one store call, for [`take`](Self::take).
    fn fetch(&self, keys: Vec<Key>) -> Result<Fetched, Error> {
        let found = self.store.get_many(&keys)?;
        Ok(Fetched::of(keys, found))
    }

    /// The record under `key` as [`load`](Self::load) answers it: from
    /// `fetched` when it was read there (once: a key taken twice is read
    /// again), else from the store.
    fn take<T: TryFrom<Record>>(
        &self,
        fetched: &mut Fetched,
        key: Key,
    ) -> Result<Option<Versioned<T>>, Error> {
        let read = fetched
            .0
            .iter_mut()
            .find(|(k, _)| *k == key)
            .and_then(|(_, read)| read.take());
        match read {
            None => self.load(key),
            Some(None) => Ok(None),
            Some(Some(v)) => self.checked(key, v),
        }
    }

    /// A record read from the store, checked for a bad clock's trace and
    /// typed.
    fn checked<T: TryFrom<Record>>(
        &self,
        key: Key,
        v: Versioned<Record>,
    ) -> Result<Option<Versioned<T>>, Error> {
        let clock = self.clock.now();
        // The trace of a bad clock reading is refused, not spread.
        if let Some(recorded) =
            instants::latest(&v.value).filter(|&t| t.since(clock) > self.policy.max_clock_skew())
        {
            return Err(Error::ClockSkew {
                key,
                recorded,
                clock,
            });
        }
        Self::typed(key, v)
    }

    fn typed<T: TryFrom<Record>>(
        key: Key,
        v: Versioned<Record>,
    ) -> Result<Option<Versioned<T>>, Error> {
        match T::try_from(v.value) {
            Ok(value) => Ok(Some(Versioned {
                version: v.version,
                value,
            })),
            Err(_) => Err(StoreError::Corrupt(key).into()),
        }
    }

    /// Decide and commit, retrying from fresh facts on conflict; on success
    /// bring the indexes up to the store (this commit included) and hand
    /// back the events, which the same change set stored in the outbox.
    ///
    /// No lock is held across a store call: the index follows the store's
    /// change feed before each decision (so nothing is decided on facts
    /// older than the store's latest commit) and after the commit (so the
    /// caller sees its own write), applying records in commit order
    /// whoever committed them.
    fn run<O>(
        &self,
        decide: impl FnMut(Timestamp) -> Result<Decision<O>, Error>,
    ) -> Result<Committed<O>, Error> {
        let mut trace = trace::Run::default();
        let result = self.run_traced(decide, &mut trace);
        trace.finish(&result);
        result
    }

    /// [`run`](Self::run), counting attempts and store time in `trace`.
    fn run_traced<O>(
        &self,
        mut decide: impl FnMut(Timestamp) -> Result<Decision<O>, Error>,
        trace: &mut trace::Run,
    ) -> Result<Committed<O>, Error> {
        let now = self.now();
        let attempts = self.policy.max_attempts();
        for _ in 0..attempts {
            self.sync()?;
            trace.attempt();
            let Decision { changes, outcome } = trace.store(|| decide(now))?;
            if changes.is_empty() {
                return Ok(Committed::new(outcome, changes.events));
            }
            // The events go into the change set (moved, not copied) and
            // come back out of it for the caller once it committed.
            let mut writes = changes.writes;
            if !changes.events.is_empty() {
                writes.push(Write {
                    expect: Expect::Absent,
                    change: Change::Put(Record::Outbox(Outbox {
                        key: OutboxKey {
                            instance: self.instance,
                            seq: self.outboxed.fetch_add(1, Ordering::Relaxed),
                        },
                        at: now,
                        events: changes.events,
                    })),
                });
            }
            match trace.store(|| self.store.commit_positioned(&writes)) {
                Ok(position) => {
                    trace.committed();
                    // The commit stands whatever following the feed answers;
                    // a failure to follow leaves the index stale, and the
                    // next operation follows first.
                    let _ = self.sync_after(&writes, position, None);
                    let events = match writes.pop() {
                        Some(Write {
                            change: Change::Put(Record::Outbox(o)),
                            ..
                        }) => o.events,
                        _ => Vec::new(),
                    };
                    return Ok(Committed::new(outcome, events));
                }
                Err(CommitError::Conflict(_)) => continue,
                Err(CommitError::Store(e)) => {
                    // The commit may have been applied although the store
                    // says otherwise (a lost acknowledgement). The caller's
                    // retry re-decides from the store, so nothing applies
                    // twice. The index follows the feed now, or, if the
                    // store fails again, before the next read.
                    self.stale.store(true, Ordering::SeqCst);
                    let _ = self.sync();
                    return Err(e.into());
                }
            }
        }
        Err(Error::Contended { attempts })
    }

    /// Calls `f` on every record of the store, read through its change
    /// feed a page at a time (the operator's sweeps: clock repair, erasure,
    /// export), stopping at `f`'s first error.
    fn each_record(&self, mut f: impl FnMut(&Record) -> Result<(), Error>) -> Result<(), Error> {
        let mut cursor = ChangeCursor::START;
        loop {
            let page = self.store.changes_since(cursor, FEED_PAGE)?;
            for record in page.changes.iter().filter_map(|c| c.value.record()) {
                f(record)?;
            }
            if page.changes.len() < FEED_PAGE || page.cursor <= cursor {
                return Ok(());
            }
            cursor = page.cursor;
        }
    }

    /// Rewrites (or deletes) the one record under `key`, outside any
    /// decision: `decide` turns the version read into its write, or `None`
    /// to leave it (answering `false`). The write is committed alone
    /// against that version, and on a conflict read again and decided
    /// anew; answers whether it wrote. What the operator's sweeps (clock
    /// repair, erasure, retention) do to each record they change.
    ///
    /// # Errors
    /// Store failures (the index is then marked stale);
    /// [`Error::Contended`] after the policy's attempts.
    fn rewrite_one(
        &self,
        key: &Key,
        mut decide: impl FnMut(Versioned<Record>) -> Option<Write>,
    ) -> Result<bool, Error> {
        let attempts = self.policy.max_attempts();
        for _ in 0..attempts {
            let Some(read) = self.store.get(key)? else {
                return Ok(false);
            };
            let Some(write) = decide(read) else {
                return Ok(false);
            };
            match self.store.commit(std::slice::from_ref(&write)) {
                Ok(()) => {
                    let _ = self.sync();
                    return Ok(true);
                }
                Err(CommitError::Conflict(_)) => continue,
                Err(CommitError::Store(e)) => {
                    self.stale.store(true, Ordering::SeqCst);
                    return Err(e.into());
                }
            }
        }
        Err(Error::Contended { attempts })
    }
}

/// Records read in one store call ([`get_many`](Store::get_many) or
/// [`gather`](Store::gather)), by key (a few: searched in order), each
/// until taken.
struct Fetched(Vec<(Key, Option<Option<Versioned<Record>>>)>);

impl Fetched {
    /// The records `found` under `keys`, in their order.
    fn of(keys: Vec<Key>, found: Vec<Option<Versioned<Record>>>) -> Self {
        Self(keys.into_iter().zip(found.into_iter().map(Some)).collect())
    }
}

/// A random number, different in each process and each call (std's
/// hasher keys come from the operating system's randomness).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x7072_6f6e);
    hasher.finish()
}
