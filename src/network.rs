//! [`Network`]: the thin imperative shell. Each operation reads the clock
//! once, loads the facts, lets a pure decision rule, commits the change set
//! atomically (retrying on conflict from fresh facts), updates the graph
//! and discovery indexes after the commit, and returns the committed events.

mod people;

use crate::block::{self, Between, Block, PairFacts, ReportReason};
use crate::change::{Key, Record, Versioned};
use crate::contacts::join::{self, Invitee, JoinFacts, JoinState};
use crate::contacts::{self, Format, ImportReport, InviteOutcome, MemberMatch, NonMember};
use crate::discovery::DiscoveryIndex;
use crate::email::Email;
use crate::error::{CommitError, Error, Refusal, StoreError};
use crate::event::Event;
use crate::graph::{Degree, HowConnected, SocialGraph, View};
use crate::id::{InvitationId, MemberId, PairKey};
use crate::instants;
use crate::invitation::decide::{self, AnswerFacts, Decision, SendFacts, SendOutcome, SendRequest};
use crate::invitation::{IgnoreReason, Invitation, Ledger, PairState, Seen};
use crate::member::decide::Owners;
use crate::member::{self, EmailOwner, Kind, Member};
use crate::note::Note;
use crate::page::{Page, PageSize};
use crate::policy::Policy;
use crate::standing::{self, Standing};
use crate::store::{ChangeCursor, Role, Store};
use crate::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
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

/// A pending invitation in a list, as its viewer may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Listed {
    /// The invitation.
    pub invitation: InvitationId,
    /// The other party: the sender in an inbox, the recipient in a sent list.
    pub other: MemberId,
    /// The note (the viewer is a party, so may read it).
    pub note: Option<Note>,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// Connections the viewer shares with the other party.
    pub mutual_connections: usize,
}

/// Where a list of invitations continues: lists run newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ListCursor {
    /// The last item's send time.
    pub sent_at: Timestamp,
    /// The last item's id.
    pub invitation: InvitationId,
}

/// One invitation as one of its parties sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvitationView {
    /// The invitation.
    pub id: InvitationId,
    /// Who sent it.
    pub sender: MemberId,
    /// Who it is for.
    pub recipient: MemberId,
    /// The note, for these two only.
    pub note: Option<Note>,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// Its state as the viewer sees it.
    pub seen: Seen,
    /// The note the recipient gave when rejecting it, for these two only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_note: Option<Note>,
}

/// Which list of received invitations to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inbox {
    /// Delivered and pending.
    Main,
    /// Held back by the recipient's "who may invite me" setting.
    Held,
}

/// A professional network over a host's [`Store`] and [`Clock`].
///
/// All methods take `&self` and are safe to call from many threads at once:
/// the store referees races through expected versions, and the graph index
/// sits behind a read-write lock.
///
/// Several processes may share one database, each with its own `Network`:
/// each indexes its own commits at once, and follows the others' through
/// the store's change feed when it calls [`catch_up`](Network::catch_up).
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
/// let refused = net.send(ana, cy, None, None).unwrap_err();
/// assert!(matches!(refused.refusal(), Some(Refusal::NotEligible { .. })));
/// # let bo_email = pronet::Email::parse("bo@example.com")?;
/// # net.update_member(Member::person(bo, Profile::named("Bo")).with_email(bo_email.clone(), true))?;
/// # let SendOutcome::Sent(i) = net.send(ana, bo, None, Some(&bo_email))?.outcome else { unreachable!() };
/// # net.accept(bo, i)?;
/// # let cy_email = pronet::Email::parse("cy@example.com")?;
/// # net.update_member(Member::person(cy, Profile::named("Cy")).with_email(cy_email.clone(), true))?;
/// # let SendOutcome::Sent(i) = net.send(bo, cy, None, Some(&cy_email))?.outcome else { unreachable!() };
/// # net.accept(cy, i)?;
/// // Once both know Bo, Ana may invite Cy, who sees it in the inbox.
/// let sent = net.send(ana, cy, Some("We both worked with Bo."), None)?;
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
    /// How far the graph index has followed the store's change feed.
    followed: Mutex<ChangeCursor>,
    /// Set when a commit failed in a way that may have applied it: the
    /// index then catches up before the next operation.
    unsure: AtomicBool,
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
            // The cap is decided with the store's ledgers; the index only
            // mirrors what was committed.
            usize::MAX,
        )
        .map_err(|e| StoreError::Backend(Box::new(e)))?;
        for m in members.iter().filter(|m| !m.active) {
            graph
                .deactivate(m.id)
                .map_err(|e| StoreError::Backend(Box::new(e)))?;
        }
        let mut discovery = DiscoveryIndex::new();
        for m in &members {
            discovery.upsert(m);
        }
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
            followed: Mutex::new(followed),
            unsure: AtomicBool::new(false),
        };
        // What committed while the snapshots were read comes through the
        // feed: the index is as current as the store when `open` returns.
        network.catch_up()?;
        Ok(network)
    }

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
    fn index_discovery<'a>(&self, records: impl IntoIterator<Item = &'a Record> + Clone) {
        if records.clone().into_iter().any(indexed_for_discovery) {
            let mut discovery = self
                .discovery
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            index_discovery(&mut discovery, records);
        }
    }

    fn follow_feed(&self, graph: &mut SocialGraph) -> Result<usize, StoreError> {
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

    /// The time this network acts on: the clock, unless it has gone back
    /// behind an instant this network already acted on (SPEC 4). Decisions
    /// also move it forward to the latest instant recorded in the facts they
    /// read, which carries the guarantee across processes and restarts.
    ///
    /// A latest reading further ahead of the clock than the policy's
    /// [`max_clock_skew`](Policy::max_clock_skew) was a bad reading (or the
    /// clock is now far behind): it is dropped, so that it stamps nothing
    /// more; the records it stamped are refused when read (see
    /// [`Error::ClockSkew`]) until [`repair_clock`](Self::repair_clock).
    fn now(&self) -> Timestamp {
        let clock = self.clock.now();
        let skew = self.policy.max_clock_skew();
        let mut seen = self.latest.load(Ordering::SeqCst);
        loop {
            // `since` saturates, so `TimeDelta::MAX` is never exceeded.
            let next = if Timestamp::from_micros(seen).since(clock) > skew {
                clock.as_micros()
            } else {
                seen.max(clock.as_micros())
            };
            match self
                .latest
                .compare_exchange(seen, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Timestamp::from_micros(next),
                Err(current) => seen = current,
            }
        }
    }

    /// Brings every record holding an instant later than the clock back to
    /// the clock's time, after a bad clock reading (see
    /// [`Policy::max_clock_skew`] and [`Error::ClockSkew`]): sends, answers,
    /// waits, blocks, imports and the like recorded "in the future" count
    /// as having happened now, and a sanction lasts at most its longest
    /// length from now. Answers how many records it rewrote.
    ///
    /// Fix the host clock first. Each record is rewritten on its own,
    /// atomically, against the version read; running it again (after a
    /// failure, or on another instance) rewrites only what is still ahead of
    /// the clock. It reads the whole store through its change feed: an
    /// operator's tool, not a request handler's.
    ///
    /// # Errors
    /// Store failures; [`Error::Contended`] when other writers keep changing
    /// a record it repairs.
    pub fn repair_clock(&self) -> Result<usize, Error> {
        let now = self.clock.now();
        self.latest.store(now.as_micros(), Ordering::SeqCst);
        let longest = self.policy.standing().sanction_max;
        let mut repaired = 0;
        let mut cursor = ChangeCursor::new(0);
        loop {
            let page = self.store.changes_since(cursor, FEED_PAGE)?;
            for read in &page.records {
                if instants::latest(&read.value).is_some_and(|t| t > now) {
                    repaired += usize::from(self.repair_one(read.value.key(), now, longest)?);
                }
            }
            if page.records.len() < FEED_PAGE || page.cursor <= cursor {
                break;
            }
            cursor = page.cursor;
        }
        Ok(repaired)
    }

    /// Rewrites one record with its instants brought back to `now`, retrying
    /// on conflict: answers whether it wrote.
    fn repair_one(
        &self,
        key: Key,
        now: Timestamp,
        longest: chrono::TimeDelta,
    ) -> Result<bool, Error> {
        let attempts = self.policy.max_attempts();
        for _ in 0..attempts {
            let Some(read) = self.store.get(&key)? else {
                return Ok(false);
            };
            let mut record = read.value;
            if !instants::bring_back(&mut record, now, longest) {
                return Ok(false);
            }
            let write = crate::change::Write {
                expect: crate::change::Expect::At(read.version),
                record,
            };
            match self.store.commit(std::slice::from_ref(&write)) {
                Ok(()) => {
                    let mut graph = self.graph.write().unwrap_or_else(PoisonError::into_inner);
                    index(&mut graph, [&write.record]);
                    return Ok(true);
                }
                Err(CommitError::Conflict(_)) => continue,
                Err(CommitError::Store(e)) => {
                    self.unsure.store(true, Ordering::SeqCst);
                    return Err(e.into());
                }
            }
        }
        Err(Error::Contended { attempts })
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The graph index, for degree, mutual and network-size queries. Hold
    /// the guard briefly: writers wait for it.
    pub fn graph(&self) -> RwLockReadGuard<'_, SocialGraph> {
        self.graph.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a member.
    ///
    /// # Errors
    /// [`Refusal::ProfileTooLarge`] past the policy's
    /// [`profile_limits`](Policy::profile_limits);
    /// [`Refusal::MemberExists`]; store failures.
    ///
    /// Once the member is committed, the invitations to join waiting for
    /// their discoverable addresses become ordinary invitations (see
    /// [`deliver_join_invitations`](Self::deliver_join_invitations)), and
    /// their events are added to the answer's. That second step is not part
    /// of the registration: if it fails, the member is registered all the
    /// same, and the host may run it again.
    pub fn register(&self, member: Member) -> Result<Committed<()>, Error> {
        let id = member.id;
        let limits = self.policy.profile_limits();
        // Before any read: an oversized profile costs nothing more.
        limits.check(&member)?;
        let mut done = self.run(|_| {
            let existing = self.load::<Member>(Key::Member(member.id))?;
            let owners = self.owners([&member])?;
            let changes =
                member::decide::register(existing.as_ref(), member.clone(), &owners, limits)?;
            Ok(Decision {
                changes,
                outcome: (),
            })
        })?;
        self.follow_up_joins(id, &mut done.events);
        Ok(done)
    }

    /// Replaces a member's profile, tier, emails and invitation preference.
    ///
    /// # Errors
    /// [`Refusal::ProfileTooLarge`] past the policy's
    /// [`profile_limits`](Policy::profile_limits);
    /// [`Refusal::UnknownMember`]; store failures.
    ///
    /// Like [`register`](Self::register), an update that changes something
    /// is followed by delivering the invitations to join waiting for the
    /// member's discoverable addresses (an address just added or just made
    /// discoverable).
    pub fn update_member(&self, member: Member) -> Result<Committed<()>, Error> {
        let id = member.id;
        let limits = self.policy.profile_limits();
        limits.check(&member)?;
        let mut done = self.run(|_| {
            let existing = self.load::<Member>(Key::Member(member.id))?;
            let owners = self.owners(existing.iter().map(|e| &e.value).chain([&member]))?;
            let changes =
                member::decide::update(existing.as_ref(), member.clone(), &owners, limits)?;
            Ok(Decision {
                changes,
                outcome: (),
            })
        })?;
        self.follow_up_joins(id, &mut done.events);
        Ok(done)
    }

    /// Deactivates a member: they appear nowhere from now on.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn deactivate(&self, id: MemberId) -> Result<Committed<()>, Error> {
        self.run(|_| {
            let existing = self.load::<Member>(Key::Member(id))?;
            let changes = member::decide::deactivate(existing.as_ref(), id)?;
            Ok(Decision {
                changes,
                outcome: (),
            })
        })
    }

    /// Adds addresses to `owner`'s imported contacts; addresses already there
    /// change nothing. Answers how many were new.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn add_contacts(
        &self,
        owner: MemberId,
        emails: &[Email],
    ) -> Result<Committed<usize>, Error> {
        self.run(|now| {
            self.active_member(owner)?;
            let mut existing = BTreeSet::new();
            for email in emails {
                let canonical = email.canonical().to_owned();
                if self
                    .store
                    .get(&Key::Contact(owner, canonical.clone()))?
                    .is_some()
                {
                    existing.insert(canonical);
                }
            }
            let (changes, added) =
                contacts::add(owner, emails.iter().map(|e| (e, None)), &existing, now);
            Ok(Decision {
                changes,
                outcome: added,
            })
        })
    }

    /// Imports an address book into `owner`'s contacts (SPEC 9) and reports
    /// what it holds: the addresses of members the owner may find by them,
    /// with their degree, every other address, and the rows that gave no
    /// address, with their lines and reasons.
    ///
    /// The file is read by [`contacts::parse`] under the policy's
    /// [`import_limits`](Policy::import_limits). Addresses new to the
    /// address book are added in one atomic change set (at most the row
    /// limit of writes: 50,000 by default), with one
    /// [`Event::ContactsImported`]; importing the same file again writes
    /// nothing and emits nothing (RELIABILITY C3). Contacts make the owner
    /// eligible to invite the members who have those addresses (SPEC 3.1).
    ///
    /// Matching follows [`contacts::findable`]: an address of an
    /// undiscoverable member, of a member on either side of a block, or of a
    /// deactivated member is reported exactly like an address nobody has
    /// (RELIABILITY B7).
    ///
    /// ```
    /// use pronet::{Email, ImportFormat, ManualClock, Member, MemberId, MemoryStore, Network};
    /// use pronet::{Policy, Profile, Timestamp};
    ///
    /// let net = Network::open(MemoryStore::new(), ManualClock::new(Timestamp::UNIX_EPOCH), Policy::default())?;
    /// let (ana, bo) = (MemberId::new(1), MemberId::new(2));
    /// net.register(Member::person(ana, Profile::named("Ana")))?;
    /// net.register(Member::person(bo, Profile::named("Bo")).with_email(Email::parse("bo@example.com")?, true))?;
    /// let csv = "Name,Email\nBo,BO@example.com\nCy,cy@example.org\nDee,dee-at-example\n";
    /// let report = net.import_contacts(ana, csv.as_bytes(), &ImportFormat::Detect)?.outcome;
    /// assert_eq!((report.added, report.members.len(), report.not_members.len()), (2, 1, 1));
    /// assert_eq!(report.members[0].member, bo);
    /// assert_eq!(report.bad_rows[0].line, 4);
    /// // Importing the same file again adds nothing.
    /// assert_eq!(net.import_contacts(ana, csv.as_bytes(), &ImportFormat::Detect)?.outcome.added, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`] for an unknown or deactivated owner;
    /// [`Error::Import`] for a file that cannot be read at all (too large,
    /// too many rows, not text, no email column); store failures.
    pub fn import_contacts(
        &self,
        owner: MemberId,
        bytes: &[u8],
        format: &Format,
    ) -> Result<Committed<ImportReport>, Error> {
        self.active_member(owner)?;
        let book = contacts::parse(bytes, format, self.policy.import_limits())?;
        self.run(|now| {
            let sight = self.sight(owner)?;
            let existing: BTreeSet<String> = self
                .store
                .contacts(owner)?
                .into_iter()
                .map(|c| c.email.canonical().to_owned())
                .collect();
            let entries = book.entries.iter().map(|e| (&e.email, e.name.as_deref()));
            let (changes, added) = contacts::add(owner, entries, &existing, now);
            let mut found = Vec::with_capacity(book.entries.len());
            for entry in &book.entries {
                found.push(self.findable(owner, &sight, entry.email.canonical())?);
            }
            let mut members = Vec::new();
            let mut not_members = Vec::new();
            {
                let graph = self.graph();
                let view = graph.view(sight.hidden.iter().copied());
                let hood = view.neighbourhood(owner)?;
                for (entry, found) in book.entries.iter().zip(found) {
                    match found {
                        Some(member) => members.push(MemberMatch {
                            line: entry.line,
                            email: entry.email.clone(),
                            name: entry.name.clone(),
                            member,
                            degree: hood.degree(member).unwrap_or(Degree::OutOfNetwork),
                        }),
                        None => not_members.push((entry, false)),
                    }
                }
            }
            let mut not_member_entries = Vec::with_capacity(not_members.len());
            for (entry, _) in not_members {
                let invited = self
                    .load::<Invitee>(Key::Invitee(entry.email.canonical().to_owned()))?
                    .is_some_and(|i| i.value.invitations.iter().any(|j| j.sender == owner));
                not_member_entries.push(NonMember {
                    line: entry.line,
                    email: entry.email.clone(),
                    name: entry.name.clone(),
                    invited,
                });
            }
            Ok(Decision {
                changes,
                outcome: ImportReport {
                    source: book.source,
                    added,
                    members,
                    not_members: not_member_entries,
                    bad_rows: book.bad_rows.clone(),
                    duplicates: book.duplicates,
                },
            })
        })
    }

    /// `sender` invites the person at `email` to join (SPEC 9).
    ///
    /// If the address belongs to a member the sender may find by it
    /// ([`contacts::findable`], the rule of the import report), an ordinary
    /// invitation is sent instead, with the address as proof, and answered
    /// as [`InviteOutcome::Member`]. Otherwise an invitation to join is
    /// recorded, counted in the sender's quota, and answered as
    /// [`InviteOutcome::Invited`] with an [`Event::JoinInvitationSent`] for
    /// the sender; the host emails the address when an
    /// [`Event::JoinInvitationReceived`] comes in the answer's [`mail`](Committed::mail), never shown to the sender. See
    /// [`contacts::join`] for the rules and why the sender's answer is the
    /// same whoever has the address.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`], [`Refusal::NotAPerson`] for the sender;
    /// [`Refusal::NotInvitable`]; [`Refusal::Suspended`];
    /// [`Refusal::QuotaExhausted`]; for a member's address, the refusals of
    /// [`send`](Self::send); store failures; contention.
    pub fn invite_to_join(
        &self,
        sender: MemberId,
        email: &Email,
    ) -> Result<Committed<InviteOutcome>, Error> {
        let sight = self.sight(sender)?;
        let canonical = email.canonical();
        if let Some(member) = self.findable(sender, &sight, canonical)? {
            let sent = self.send(sender, member, None, Some(email))?;
            return Ok(Committed {
                outcome: InviteOutcome::Member {
                    member,
                    sent: sent.outcome,
                },
                events: sent.events,
                mail: sent.mail,
            });
        }
        self.run(|now| {
            let owner = self.load::<EmailOwner>(Key::EmailOwner(canonical.to_owned()))?;
            let facts = JoinFacts {
                sender: self.load(Key::Member(sender))?,
                sender_ledger: self.load(Key::Ledger(sender))?,
                invitee: self.load(Key::Invitee(canonical.to_owned()))?,
                new_id: self.store.next_invitation_id()?,
                deliver: owner.is_none_or(|o| o.value.member.is_none()),
            };
            Ok(join::invite(sender, email, &facts, &self.policy, now)?)
        })
    }

    /// Records that the person at `email` wants no invitations to join (the
    /// host calls it from the unsubscribe link of the invitation email):
    /// none is accepted from now on, and none waiting is delivered if they
    /// join. Opting out again changes nothing.
    ///
    /// # Errors
    /// Store failures; contention.
    pub fn opt_out(&self, email: &Email) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let invitee = self.load::<Invitee>(Key::Invitee(email.canonical().to_owned()))?;
            Ok(Decision {
                changes: join::opt_out(email, invitee.as_ref(), now),
                outcome: (),
            })
        })
    }

    /// Turns the invitations to join waiting for `member`'s discoverable
    /// addresses into ordinary invitations, each by the ordinary send
    /// decision with the address as proof; a refusal drops the invitation
    /// to join silently (see [`contacts::join`]). Answers how many became
    /// invitations (or connections).
    ///
    /// [`register`](Self::register) and [`update_member`](Self::update_member)
    /// run it after their commit; a host runs it again if that step failed.
    /// Each invitation is its own atomic change, and running it again only
    /// delivers what is still waiting.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures; contention.
    pub fn deliver_join_invitations(&self, member: MemberId) -> Result<Committed<usize>, Error> {
        let me = self.active_member(member)?;
        let now = self.now();
        let mut events = Vec::new();
        let mut delivered = 0;
        for address in me.emails.iter().filter(|e| e.discoverable) {
            let canonical = address.email.canonical().to_owned();
            let owned = self
                .load::<EmailOwner>(Key::EmailOwner(canonical.clone()))?
                .is_some_and(|o| o.value.member == Some(member));
            let Some(invitee) = self.load::<Invitee>(Key::Invitee(canonical.clone()))? else {
                continue;
            };
            if !owned {
                continue;
            }
            let waiting: Vec<_> = invitee
                .value
                .deliverable(&self.policy, now)
                .map(|i| (i.id, i.sender))
                .collect();
            for (id, sender) in waiting {
                let done = self.deliver_one(member, &address.email, id, sender)?;
                delivered += usize::from(done.outcome);
                events.extend(done.events);
            }
        }
        Ok(Committed::new(delivered, events))
    }

    /// Delivers one invitation to join, if still waiting: answers whether it
    /// became an invitation (or a connection).
    fn deliver_one(
        &self,
        member: MemberId,
        email: &Email,
        id: InvitationId,
        sender: MemberId,
    ) -> Result<Committed<bool>, Error> {
        let key = Key::Invitee(email.canonical().to_owned());
        self.run(|now| {
            let Some(invitee) = self.load::<Invitee>(key.clone())? else {
                return Ok(unchanged(false));
            };
            let mut facts = self.send_facts(sender, member, now)?;
            facts.join = Some(id);
            let req = SendRequest {
                sender,
                recipient: member,
                note: None,
                proof: Some(email),
            };
            let now = facts.effective_now(now);
            let (mut changes, state) = match decide::send(&req, &facts, &self.policy, now) {
                Ok(decision) => (decision.changes, JoinState::Delivered),
                Err(_) => (crate::change::ChangeSet::default(), JoinState::Dropped),
            };
            let Some(settled) = join::settle(&invitee.value, id, state, &self.policy, now) else {
                return Ok(unchanged(false));
            };
            changes.write(Some(&invitee), Record::Invitee(settled));
            Ok(Decision {
                changes,
                outcome: state == JoinState::Delivered,
            })
        })
    }

    /// Runs [`deliver_join_invitations`](Self::deliver_join_invitations)
    /// after a committed registration or update, adding its events. Its
    /// failure leaves the committed change standing (see
    /// [`register`](Self::register)).
    fn follow_up_joins(&self, member: MemberId, events: &mut Vec<Event>) {
        if let Ok(delivered) = self.deliver_join_invitations(member) {
            events.extend(delivered.events);
        }
    }

    /// The member `viewer` may be shown for the address `canonical`: the one
    /// place that applies [`contacts::findable`] to stored records.
    fn findable(
        &self,
        viewer: MemberId,
        sight: &Sight,
        canonical: &str,
    ) -> Result<Option<MemberId>, Error> {
        let Some(owner) = self.load::<EmailOwner>(Key::EmailOwner(canonical.to_owned()))? else {
            return Ok(None);
        };
        let Some(id) = owner.value.member else {
            return Ok(None);
        };
        let member = self.load::<Member>(Key::Member(id))?;
        Ok(contacts::findable(
            viewer,
            canonical,
            Some(&owner.value),
            member.as_ref().map(|m| &m.value),
            |m| sight.hidden.contains(&m),
        ))
    }

    /// Sends an invitation (SPEC 3.1), or connects at once when the
    /// recipient had already invited the sender.
    ///
    /// `proof` is an email address of the recipient's that the sender knows;
    /// it makes the sender eligible without shared connections.
    ///
    /// # Errors
    /// The refusals of [`decide::send`]; store failures; contention.
    pub fn send(
        &self,
        sender: MemberId,
        recipient: MemberId,
        note: Option<&str>,
        proof: Option<&Email>,
    ) -> Result<Committed<SendOutcome>, Error> {
        let req = SendRequest {
            sender,
            recipient,
            note,
            proof,
        };
        self.run(|now| {
            let facts = self.send_facts(sender, recipient, now)?;
            Ok(decide::send(&req, &facts, &self.policy, now)?)
        })
    }

    /// Accepts an invitation: the two become connected (SPEC 3.2).
    ///
    /// # Errors
    /// The refusals of [`decide::accept`]; store failures; contention.
    pub fn accept(&self, actor: MemberId, id: InvitationId) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            Ok(decide::accept(actor, id, &facts, &self.policy, now)?)
        })
    }

    /// Ignores an invitation, silently to the sender; with
    /// [`IgnoreReason::DontKnow`] or [`IgnoreReason::Spam`] it also bars the
    /// sender from inviting again (SPEC 3.2).
    ///
    /// # Errors
    /// The refusals of [`decide::ignore`]; store failures; contention.
    pub fn ignore(
        &self,
        actor: MemberId,
        id: InvitationId,
        reason: IgnoreReason,
    ) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            Ok(decide::ignore(
                actor,
                id,
                reason,
                &facts,
                &self.policy,
                now,
            )?)
        })
    }

    /// Rejects an invitation: the sender is told and barred (SPEC 3.2).
    /// [`reject_with_note`](Self::reject_with_note) adds a polite note.
    ///
    /// # Errors
    /// The refusals of [`decide::reject`]; store failures; contention.
    pub fn reject(&self, actor: MemberId, id: InvitationId) -> Result<Committed<()>, Error> {
        self.reject_as(actor, id, None)
    }

    /// Rejects an invitation with a note to the sender ("Sorry, I keep my
    /// network for people I have worked with"), validated as an invitation
    /// note is. The sender reads it in the [`Event::InvitationRejected`] and
    /// in the invitation's [`InvitationView::decline_note`]; nobody else
    /// can. A blank note is no note.
    ///
    /// # Errors
    /// As [`reject`](Self::reject), and [`Refusal::InvalidNote`].
    pub fn reject_with_note(
        &self,
        actor: MemberId,
        id: InvitationId,
        note: &str,
    ) -> Result<Committed<()>, Error> {
        self.reject_as(actor, id, Some(note))
    }

    fn reject_as(
        &self,
        actor: MemberId,
        id: InvitationId,
        note: Option<&str>,
    ) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            Ok(decide::reject(actor, id, note, &facts, &self.policy, now)?)
        })
    }

    /// Withdraws a pending invitation (SPEC 3.2).
    ///
    /// # Errors
    /// The refusals of [`decide::withdraw`]; store failures; contention.
    pub fn withdraw(&self, actor: MemberId, id: InvitationId) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            Ok(decide::withdraw(actor, id, &facts, &self.policy, now)?)
        })
    }

    /// `actor` blocks `other` (SPEC 7): their connection and every pending
    /// invitation between them go, atomically, and each is hidden from the
    /// other until `actor` unblocks.
    ///
    /// # Errors
    /// The refusals of [`block::block`]; store failures; contention.
    pub fn block(&self, actor: MemberId, other: MemberId) -> Result<Committed<()>, Error> {
        let done = self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::block(actor, other, &facts, &self.policy, now)?)
        })?;
        answer(done)
    }

    /// `actor` lifts their block of `other`; nothing is restored.
    ///
    /// # Errors
    /// The refusals of [`block::unblock`]; store failures; contention.
    pub fn unblock(&self, actor: MemberId, other: MemberId) -> Result<Committed<()>, Error> {
        let done = self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            Ok(block::unblock(actor, other, &facts, now)?)
        })?;
        answer(done)
    }

    /// `actor` reports `other`, once per reporter and target.
    ///
    /// # Errors
    /// The refusals of [`block::report`]; store failures; contention.
    pub fn report(
        &self,
        actor: MemberId,
        other: MemberId,
        reason: ReportReason,
    ) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            let changes = block::report(actor, other, reason, &facts, now)?;
            Ok(Decision {
                changes,
                outcome: (),
            })
        })
    }

    /// `actor` removes their connection with `other`, silently.
    ///
    /// # Errors
    /// The refusals of [`block::remove_connection`]; store failures;
    /// contention.
    pub fn remove_connection(
        &self,
        actor: MemberId,
        other: MemberId,
    ) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.pair_facts(actor, other)?;
            let changes = block::remove_connection(actor, other, &facts, now)?;
            Ok(Decision {
                changes,
                outcome: (),
            })
        })
    }

    /// The degree of `other` in `viewer`'s network (SPEC 2), as the viewer
    /// may see it.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`], also for a member hidden from the viewer.
    pub fn degree(&self, viewer: MemberId, other: MemberId) -> Result<Degree, Error> {
        self.with_view(viewer, |view| Ok(view.degree(viewer, other)?))
    }

    /// The connections `viewer` shares with `other`, one page at a time.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`], [`Refusal::UnknownCursor`].
    pub fn mutuals(
        &self,
        viewer: MemberId,
        other: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<MemberId, MemberId>, Error> {
        self.with_view(viewer, |view| Ok(view.mutuals(viewer, other, after, size)?))
    }

    /// How many connections `viewer` shares with `other`.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`].
    pub fn mutual_count(&self, viewer: MemberId, other: MemberId) -> Result<usize, Error> {
        self.with_view(viewer, |view| Ok(view.mutual_count(viewer, other)?))
    }

    /// The size of `viewer`'s second-degree network.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`].
    pub fn second_degree_count(&self, viewer: MemberId) -> Result<usize, Error> {
        self.with_view(viewer, |view| Ok(view.second_degree_count(viewer)?))
    }

    /// How `viewer` is connected to `other` ("how you're connected").
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`].
    pub fn how_connected(
        &self,
        viewer: MemberId,
        other: MemberId,
        size: PageSize,
    ) -> Result<HowConnected, Error> {
        self.with_view(viewer, |view| Ok(view.how_connected(viewer, other, size)?))
    }

    /// The connections of `member` (the viewer's own or someone else's), as
    /// `viewer` may see them, one page at a time.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`], [`Refusal::UnknownCursor`].
    pub fn connections(
        &self,
        viewer: MemberId,
        member: MemberId,
        after: Option<MemberId>,
        size: PageSize,
    ) -> Result<Page<MemberId, MemberId>, Error> {
        self.with_view(viewer, |view| Ok(view.connections(member, after, size)?))
    }

    /// Runs `query` on the graph as `viewer` may see it: members the viewer
    /// blocked or was blocked by, and deactivated members, are neither
    /// results nor paths. For queries beyond the methods above, such as a
    /// prepared [`Neighbourhood`](crate::graph::Neighbourhood) for many
    /// degree badges.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`] for an unknown or deactivated viewer; what
    /// `query` answers.
    pub fn with_view<T>(
        &self,
        viewer: MemberId,
        query: impl FnOnce(&View<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let sight = self.sight(viewer)?;
        let graph = self.graph();
        let view = graph.view(sight.hidden.iter().copied());
        query(&view)
    }

    /// The recipient's inbox: delivered pending invitations, newest first,
    /// each with its mutual-connection count (SPEC 8).
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn inbox(
        &self,
        recipient: MemberId,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        self.received(recipient, Inbox::Main, after, size)
    }

    /// The invitations held back by the recipient's "who may invite me"
    /// setting (SPEC 3.4), newest first. The recipient may answer them like
    /// any other.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn held(
        &self,
        recipient: MemberId,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        self.received(recipient, Inbox::Held, after, size)
    }

    /// The sender's pending invitations, newest first. Ignored, held and
    /// dropped invitations look pending here, exactly like unanswered ones.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn sent(
        &self,
        sender: MemberId,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        let sight = self.sight(sender)?;
        let now = self.now();
        let items = self
            .store
            .open_invitations(sender, Role::Sender)?
            .into_iter()
            .filter(|inv| inv.seen_by_sender(&self.policy, now) == Seen::Pending)
            .map(|inv| (inv.recipient, inv))
            .collect();
        Ok(self.paginate(&sight, items, after, size))
    }

    /// A member's spam standing as judged now (SPEC 5), for the member
    /// themself: from their recent sends and the answers so far, and with
    /// a sanction whose time has passed shown as lifted.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn standing(&self, member: MemberId) -> Result<Standing, Error> {
        self.active_member(member)?;
        let now = self.now();
        Ok(self
            .load::<Ledger>(Key::Ledger(member))?
            .map(|l| {
                let now = now.max(l.value.latest);
                standing::evaluate(
                    &l.value.standing,
                    &l.value.sends,
                    &l.value.reports,
                    self.policy.standing(),
                    now,
                )
            })
            .unwrap_or_default())
    }

    /// One invitation as `viewer` sees it. Only its sender and recipient can
    /// read it, note included (SPEC 3.4); anyone else, and either party
    /// while a block stands between them, is told it does not exist.
    ///
    /// # Errors
    /// [`Refusal::InvitationNotFound`]; store failures.
    pub fn invitation(&self, viewer: MemberId, id: InvitationId) -> Result<InvitationView, Error> {
        let now = self.now();
        let not_found = || Error::Refused(Refusal::InvitationNotFound(id));
        let sight = self.sight(viewer).map_err(|_| not_found())?;
        let inv = self
            .load::<Invitation>(Key::Invitation(id))?
            .ok_or_else(not_found)?
            .value;
        let seen = if viewer == inv.sender && sight.sees(inv.recipient, &self.graph()) {
            inv.seen_by_sender(&self.policy, now)
        } else if viewer == inv.recipient && sight.sees(inv.sender, &self.graph()) {
            inv.seen_by_recipient(&self.policy, now)
                .ok_or_else(not_found)?
        } else {
            return Err(not_found());
        };
        Ok(InvitationView {
            id,
            sender: inv.sender,
            recipient: inv.recipient,
            note: inv.note,
            sent_at: inv.sent_at,
            seen,
            decline_note: inv.decline_note,
        })
    }

    /// What `viewer` may see: the one place that applies blocks (and, via
    /// the graph, deactivation) to every read.
    fn sight(&self, viewer: MemberId) -> Result<Sight, Error> {
        // Activity is mirrored in the graph: no member record to clone on
        // every read.
        if !self.graph().contains(viewer) {
            return Err(Refusal::UnknownMember(viewer).into());
        }
        let hidden = block::hidden_from(&self.store, viewer)?;
        Ok(Sight { hidden })
    }

    fn received(
        &self,
        recipient: MemberId,
        which: Inbox,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        let sight = self.sight(recipient)?;
        let now = self.now();
        let want = match which {
            Inbox::Main => Seen::Pending,
            Inbox::Held => Seen::Held,
        };
        let items = self
            .store
            .open_invitations(recipient, Role::Recipient)?
            .into_iter()
            .filter(|inv| inv.seen_by_recipient(&self.policy, now) == Some(want))
            .map(|inv| (inv.sender, inv))
            .collect();
        Ok(self.paginate(&sight, items, after, size))
    }

    /// Keeps what the viewer may see, sorts newest first, and cuts one page
    /// after the cursor.
    fn paginate(
        &self,
        sight: &Sight,
        items: Vec<(MemberId, Invitation)>,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Page<Listed, ListCursor> {
        let cursor = |inv: &Invitation| ListCursor {
            sent_at: inv.sent_at,
            invitation: inv.id,
        };
        let graph = self.graph();
        let view = graph.view(sight.hidden.iter().copied());
        let mut items: Vec<_> = items
            .into_iter()
            .filter(|(other, _)| sight.sees(*other, &graph))
            .collect();
        items.sort_by_key(|item| std::cmp::Reverse(cursor(&item.1)));
        let mut rest = items
            .into_iter()
            .filter(|(_, inv)| after.is_none_or(|c| cursor(inv) < c));
        let page: Vec<Listed> = rest
            .by_ref()
            .take(size.get())
            .map(|(other, inv)| Listed {
                invitation: inv.id,
                other,
                mutual_connections: view.mutual_count(inv.sender, inv.recipient).unwrap_or(0),
                note: inv.note,
                sent_at: inv.sent_at,
            })
            .collect();
        let next = if rest.next().is_some() {
            page.last().map(|l| ListCursor {
                sent_at: l.sent_at,
                invitation: l.invitation,
            })
        } else {
            None
        };
        Page::new(page, next)
    }

    fn send_facts(
        &self,
        sender: MemberId,
        recipient: MemberId,
        now: Timestamp,
    ) -> Result<SendFacts, Error> {
        let pair_key = PairKey::new(sender, recipient);
        let pair = match pair_key {
            Some(k) => self.load::<PairState>(Key::Pair(k))?,
            None => None,
        };
        let open = match pair.as_ref().and_then(|p| p.value.open) {
            Some(id) => self.load::<Invitation>(Key::Invitation(id))?,
            None => None,
        };
        let recipient_member = self.load::<Member>(Key::Member(recipient))?;
        let mut in_contacts = false;
        if let Some(m) = &recipient_member {
            for e in &m.value.emails {
                let key = Key::Contact(sender, e.email.canonical().to_owned());
                if self.store.get(&key)?.is_some() {
                    in_contacts = true;
                    break;
                }
            }
        }
        let sender_blocks = self.between(sender, recipient)?;
        // Shared connections as the sender may see them: a member hidden by
        // a block carries no path (SPEC 2). Unknown members share nothing;
        // the decision names them.
        let hidden = block::hidden_from(&self.store, sender)?;
        let shared_connections = self
            .graph()
            .view(hidden)
            .mutual_count(sender, recipient)
            .unwrap_or(0);
        // Invitations to members since deactivated are invisible to the
        // sender (not listed, not withdrawable), so they do not count.
        let pending = self.store.open_invitations(sender, Role::Sender)?;
        let outstanding = {
            let graph = self.graph();
            pending
                .iter()
                .filter(|inv| inv.is_live(&self.policy, now) && graph.contains(inv.recipient))
                .count()
        };
        Ok(SendFacts {
            sender: self.load(Key::Member(sender))?,
            recipient: recipient_member,
            sender_blocks,
            pair,
            open,
            sender_ledger: self.load::<Ledger>(Key::Ledger(sender))?,
            recipient_ledger: self.load::<Ledger>(Key::Ledger(recipient))?,
            shared_connections,
            in_contacts,
            outstanding,
            new_id: self.store.next_invitation_id()?,
            join: None,
        })
    }

    fn pair_facts(&self, actor: MemberId, other: MemberId) -> Result<PairFacts, Error> {
        let pair = match PairKey::new(actor, other) {
            Some(k) => self.load::<PairState>(Key::Pair(k))?,
            None => None,
        };
        let open = match pair.as_ref().and_then(|p| p.value.open) {
            Some(id) => self.load::<Invitation>(Key::Invitation(id))?,
            None => None,
        };
        Ok(PairFacts {
            actor: self.load(Key::Member(actor))?,
            other: self.load(Key::Member(other))?,
            mine: self.load(Key::Block(actor, other))?,
            theirs: self.load(Key::Block(other, actor))?,
            tally: self.load(Key::BlockTally(actor))?,
            pair,
            open,
            actor_ledger: self.load(Key::Ledger(actor))?,
            other_ledger: self.load(Key::Ledger(other))?,
            report: self.load(Key::Report(actor, other))?,
        })
    }

    fn answer_facts(&self, id: InvitationId) -> Result<AnswerFacts, Error> {
        let Some(invitation) = self.load::<Invitation>(Key::Invitation(id))? else {
            return Ok(AnswerFacts {
                invitation: None,
                sender: None,
                recipient: None,
                sender_blocks: Between::default(),
                report: None,
                pair: None,
                sender_ledger: None,
                recipient_ledger: None,
            });
        };
        let (s, r) = (invitation.value.sender, invitation.value.recipient);
        let pair = match invitation.value.pair() {
            Some(k) => self.load(Key::Pair(k))?,
            None => None,
        };
        Ok(AnswerFacts {
            sender: self.load(Key::Member(s))?,
            recipient: self.load(Key::Member(r))?,
            sender_blocks: self.between(s, r)?,
            report: self.load(Key::Report(r, s))?,
            pair,
            sender_ledger: self.load(Key::Ledger(s))?,
            recipient_ledger: self.load(Key::Ledger(r))?,
            invitation: Some(invitation),
        })
    }

    /// The stored owners of every address of `members`.
    fn owners<'m>(&self, members: impl IntoIterator<Item = &'m Member>) -> Result<Owners, Error> {
        let mut owners = Owners::new();
        for m in members {
            for e in &m.emails {
                let canonical = e.email.canonical().to_owned();
                if let Some(owner) = self.load(Key::EmailOwner(canonical.clone()))? {
                    owners.insert(canonical, owner);
                }
            }
        }
        Ok(owners)
    }

    fn active_member(&self, id: MemberId) -> Result<Member, Error> {
        match self.load::<Member>(Key::Member(id))? {
            Some(m) if m.value.active => Ok(m.value),
            _ => Err(Refusal::UnknownMember(id).into()),
        }
    }

    /// A typed read: the record under `key`, which must be of kind `T`.
    /// The blocks between `a` and `b`, each way.
    fn between(&self, a: MemberId, b: MemberId) -> Result<Between, Error> {
        let mine = self.load::<Block>(Key::Block(a, b))?;
        let theirs = self.load::<Block>(Key::Block(b, a))?;
        Ok(Between::new(mine.as_ref(), theirs.as_ref()))
    }

    fn load<T: TryFrom<Record>>(&self, key: Key) -> Result<Option<Versioned<T>>, Error> {
        match self.store.get(&key)? {
            None => Ok(None),
            Some(v) => {
                let clock = self.clock.now();
                // The trace of a bad clock reading is refused, not spread.
                if let Some(recorded) = instants::latest(&v.value)
                    .filter(|&t| t.since(clock) > self.policy.max_clock_skew())
                {
                    return Err(Error::ClockSkew {
                        key,
                        recorded,
                        clock,
                    });
                }
                Self::typed(key, v)
            }
        }
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
    /// update the graph index and hand back the events.
    fn run<O>(
        &self,
        mut decide: impl FnMut(Timestamp) -> Result<Decision<O>, Error>,
    ) -> Result<Committed<O>, Error> {
        let now = self.now();
        if self.unsure.load(Ordering::SeqCst) {
            let mut graph = self.graph.write().unwrap_or_else(PoisonError::into_inner);
            self.follow_feed(&mut graph)?;
        }
        let attempts = self.policy.max_attempts();
        for _ in 0..attempts {
            let Decision { changes, outcome } = decide(now)?;
            if changes.is_empty() {
                return Ok(Committed::new(outcome, changes.events));
            }
            // Commit and index under the graph's write lock, so the index
            // sees committed changes in commit order.
            let mut graph = self.graph.write().unwrap_or_else(PoisonError::into_inner);
            match self.store.commit(&changes.writes) {
                Ok(()) => {
                    index(&mut graph, changes.writes.iter().map(|w| &w.record));
                    self.index_discovery(changes.writes.iter().map(|w| &w.record));
                    return Ok(Committed::new(outcome, changes.events));
                }
                Err(CommitError::Conflict(_)) => continue,
                Err(CommitError::Store(e)) => {
                    // The commit may have been applied although the store
                    // says otherwise (a lost acknowledgement): follow the
                    // feed now, or before the next operation if the store
                    // does not answer. The caller's retry re-decides from
                    // the store, so nothing applies twice.
                    self.unsure.store(true, Ordering::SeqCst);
                    let _ = self.follow_feed(&mut graph);
                    return Err(e.into());
                }
            }
        }
        Err(Error::Contended { attempts })
    }
}

/// A decision that changes nothing.
fn unchanged<O>(outcome: O) -> Decision<O> {
    Decision {
        changes: crate::change::ChangeSet::default(),
        outcome,
    }
}

/// Mirrors committed records into the graph: the one function both the
/// commit path and the change feed go through. Each record sets the state
/// its key stands for (a member present and active or not, a pair connected
/// or not), so re-applying a record is harmless.
fn index<'a>(graph: &mut SocialGraph, records: impl IntoIterator<Item = &'a Record>) {
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
fn indexed_for_discovery(record: &Record) -> bool {
    matches!(record, Record::Member(_) | Record::Groups(_))
}

/// Mirrors committed member and group records into the discovery index;
/// idempotent like [`index`].
fn index_discovery<'a>(
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

/// The caller's answer to a committed block or unblock: a silent one is
/// answered with its refusal, exactly as for a missing member.
fn answer(done: Committed<block::Outcome>) -> Result<Committed<()>, Error> {
    match done.outcome {
        block::Outcome::Silent(refusal) => Err(refusal.into()),
        _ => Ok(Committed {
            outcome: (),
            events: done.events,
            mail: done.mail,
        }),
    }
}

/// The members hidden from one viewer by blocks, either way.
struct Sight {
    hidden: BTreeSet<MemberId>,
}

impl Sight {
    /// Whether the viewer may see `other`: active and not hidden.
    fn sees(&self, other: MemberId, graph: &SocialGraph) -> bool {
        !self.hidden.contains(&other) && graph.contains(other)
    }
}

/// Every read query of [`Network`], so that a test can assert, for each,
/// that blocked and deactivated members are absent (B4 of RELIABILITY.md).
///
/// Deliberately exhaustive: adding a read query to `Network` means adding a
/// variant here, and the registry test stops compiling until it covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadQuery {
    /// [`Network::degree`].
    Degree,
    /// [`Network::mutuals`].
    Mutuals,
    /// [`Network::mutual_count`].
    MutualCount,
    /// [`Network::second_degree_count`].
    SecondDegreeCount,
    /// [`Network::how_connected`].
    HowConnected,
    /// [`Network::connections`].
    Connections,
    /// [`Network::with_view`] (any graph query, such as a neighbourhood).
    WithView,
    /// [`Network::inbox`].
    Inbox,
    /// [`Network::held`].
    Held,
    /// [`Network::sent`].
    Sent,
    /// [`Network::invitation`].
    Invitation,
    /// [`Network::standing`] (a member's own; names nobody else).
    Standing,
    /// [`Network::people_you_may_know`].
    PeopleYouMayKnow,
    /// [`Network::search`].
    Search,
    /// [`Network::company_people`].
    CompanyPeople,
}

impl ReadQuery {
    /// All of them.
    pub const ALL: [ReadQuery; 15] = [
        Self::Degree,
        Self::Mutuals,
        Self::MutualCount,
        Self::SecondDegreeCount,
        Self::HowConnected,
        Self::Connections,
        Self::WithView,
        Self::Inbox,
        Self::Held,
        Self::Sent,
        Self::Invitation,
        Self::Standing,
        Self::PeopleYouMayKnow,
        Self::Search,
        Self::CompanyPeople,
    ];
}
