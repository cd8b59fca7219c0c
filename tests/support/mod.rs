//! Test support shared by the integration tests (`mod support;` in each):
//! time helpers, email helpers, answers of calls, a `World` builder over a
//! `MemoryStore` network, temporary SQLite files removed on drop, and a
//! store wrapper that watches commits and reads (`Watched`, `Conflicts`).
//!
//! Each integration test is its own crate and uses only part of this
//! module, hence `dead_code` is allowed. A test file adds its own helpers
//! to `World` with an `impl World` block of its own.

#![allow(dead_code)]

use chrono::TimeDelta;
use pronet::block::Block;
use pronet::change::Write;
use pronet::contacts::Contact;
use pronet::invitation::Invitation;
use pronet::outbox::Outbox;
use pronet::quota::Quota;
use pronet::record::{Key, Record, Versioned};
use pronet::store::Role;
use pronet::{ChangeCursor, Changes, CommitError, Store, StoreError};
use pronet::{
    Committed, Email, Error, InvitationId, InvitePreference, ManualClock, Member, MemberId,
    MemoryStore, Network, PageSize, PairKey, Policy, Profile, Refusal, SendOutcome, Tier,
    Timestamp,
};
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

// ------------------------------------------------------------------- time

/// 2026-01-01T00:00:00Z: every test's "day 0".
pub const T0: Timestamp = Timestamp::from_micros(1_767_225_600_000_000);

pub fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

pub fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

pub fn us(n: i64) -> TimeDelta {
    TimeDelta::microseconds(n)
}

/// The instant `offset` after day 0.
pub fn at(offset: TimeDelta) -> Timestamp {
    T0.saturating_add(offset)
}

// ------------------------------------------------------- ids and addresses

pub fn m(raw: u64) -> MemberId {
    MemberId::new(raw)
}

/// Members `range`, in order.
pub fn members(range: std::ops::RangeInclusive<u64>) -> Vec<MemberId> {
    range.map(m).collect()
}

pub fn pair(a: MemberId, b: MemberId) -> PairKey {
    PairKey::new(a, b).unwrap()
}

/// A parsed address that must be valid.
pub fn email(address: &str) -> Email {
    Email::parse(address).unwrap()
}

/// The address every `World` person registers with: `m{id}@example.com`.
pub fn email_of(id: MemberId) -> Email {
    email(&format!("m{}@example.com", id.get()))
}

/// The largest page, for reading whole lists in one call.
pub fn whole() -> PageSize {
    PageSize::new(PageSize::MAX).unwrap()
}

// ------------------------------------------------------------------ answers

/// The refusal of a call that must have been refused by a rule.
pub fn refusal<T: Debug>(result: Result<T, Error>) -> Refusal {
    match result {
        Err(Error::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A table of calls that must each be refused, a row `call => refusal`:
/// the rows run in order, each compared with `assert_eq!` and its failure
/// naming its call.
#[allow(unused_macros)]
macro_rules! refusals {
    ($($call:expr => $want:expr),+ $(,)?) => {
        $(
            assert_eq!(
                crate::support::refusal($call),
                $want,
                "case: {}",
                stringify!($call)
            );
        )+
    };
}
#[allow(unused_imports)]
pub(crate) use refusals;

/// The new invitation of a send that must have created one.
pub fn sent_id(committed: &Committed<SendOutcome>) -> InvitationId {
    sent(committed.outcome)
}

/// Sends `request`, which must create an invitation: its id.
pub fn invite_with<S: Store, C: pronet::Clock>(
    net: &Network<S, C>,
    request: pronet::SendRequest<'_>,
) -> InvitationId {
    sent_id(&net.send(request).unwrap())
}

/// `from` sends `to` an invitation with `note`, proving `proof`: the
/// committed answer of a send that must be accepted.
pub fn send_proving<S: Store, C: pronet::Clock>(
    net: &Network<S, C>,
    from: MemberId,
    to: MemberId,
    note: Option<&str>,
    proof: &Email,
) -> Committed<SendOutcome> {
    net.send(
        pronet::SendRequest::new(from, to)
            .maybe_note(note)
            .proof(proof),
    )
    .unwrap()
}

/// `from` invites `to` with `note`, proving `to`'s address
/// ([`email_of`]); the send must create an invitation: its id.
pub fn invite<S: Store, C: pronet::Clock>(
    net: &Network<S, C>,
    from: MemberId,
    to: MemberId,
    note: Option<&str>,
) -> InvitationId {
    invite_with(
        net,
        pronet::SendRequest::new(from, to)
            .maybe_note(note)
            .proof(&email_of(to)),
    )
}

/// The new invitation of a send outcome that must be one.
pub fn sent(outcome: SendOutcome) -> InvitationId {
    match outcome {
        SendOutcome::Sent(id) => id,
        other => panic!("expected a new invitation, got {other:?}"),
    }
}

/// The number the environment variable `var` holds, or `default` when it
/// is unset or not a number.
pub fn env_number<T: std::str::FromStr>(var: &str, default: T) -> T {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `default` cases for a property, unless `PROPTEST_CASES` says otherwise.
pub fn cases(default: u32) -> u32 {
    env_number("PROPTEST_CASES", default)
}

/// Starts this test binary again to run only the test `role` (a child
/// role that does nothing in a normal run), with `value` in the
/// environment variable `var` and its stdout as `stdout` says.
pub fn child_role(
    role: &str,
    var: &str,
    value: impl AsRef<std::ffi::OsStr>,
    stdout: std::process::Stdio,
) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([role, "--exact", "--nocapture", "--test-threads=1"])
        .env(var, value)
        .stdout(stdout)
        .spawn()
        .unwrap()
}

// ------------------------------------------------------------ graph oracles

/// Breadth-first distances from `from`, up to `depth`, over the
/// neighbours `next` gives (each member once, at its shortest distance).
pub fn distances<T, I>(from: T, depth: usize, mut next: impl FnMut(T) -> I) -> BTreeMap<T, usize>
where
    T: Ord + Copy,
    I: IntoIterator<Item = T>,
{
    let mut dist = BTreeMap::from([(from, 0)]);
    let mut queue = VecDeque::from([from]);
    while let Some(x) = queue.pop_front() {
        let d = dist[&x];
        if d == depth {
            continue;
        }
        for y in next(x) {
            dist.entry(y).or_insert_with(|| {
                queue.push_back(y);
                d + 1
            });
        }
    }
    dist
}

/// The degree a distance up to 3 stands for (none or further: out of
/// network).
pub fn degree_at(distance: Option<&usize>) -> pronet::Degree {
    use pronet::Degree;
    match distance {
        Some(0) => Degree::Yourself,
        Some(1) => Degree::First,
        Some(2) => Degree::Second,
        Some(3) => Degree::Third,
        _ => Degree::OutOfNetwork,
    }
}

/// The other side of each pair in `pairs` that has `x` on one side.
pub fn partners<'a, T: PartialEq + Copy + 'a>(
    pairs: impl IntoIterator<Item = &'a (T, T)>,
    x: T,
) -> impl Iterator<Item = T> {
    pairs.into_iter().filter_map(move |&(a, b)| {
        if a == x {
            Some(b)
        } else if b == x {
            Some(a)
        } else {
            None
        }
    })
}

/// Each member's connections in `net`'s graph index, sorted.
pub fn graph_of<S: Store, C: pronet::Clock>(
    net: &Network<S, C>,
    members: &[MemberId],
) -> Vec<(MemberId, Vec<MemberId>)> {
    let graph = net.graph();
    members
        .iter()
        .map(|&member| {
            let mut items = graph.connections(member, None, whole()).unwrap().items;
            items.sort();
            (member, items)
        })
        .collect()
}

/// Every item of a paginated list, following each page's `next` cursor
/// from the start (`fetch(None)`); the first error ends it.
pub fn all_items<T, C, E>(
    mut fetch: impl FnMut(Option<C>) -> Result<pronet::Page<T, C>, E>,
) -> Result<Vec<T>, E> {
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(after)?;
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(items),
        }
    }
}

/// Unwraps a committed operation whose answer the test does not inspect.
pub fn done<O: Debug>(result: Result<Committed<O>, Error>) {
    let _committed = result.unwrap();
}

// ------------------------------------------------------- expected events

/// The `InvitationSent` event of a send.
pub fn sent_event(
    invitation: InvitationId,
    sender: MemberId,
    recipient: MemberId,
    supersedes: Option<InvitationId>,
) -> pronet::Event {
    pronet::Event::InvitationSent {
        invitation,
        sender,
        recipient,
        supersedes,
    }
}

/// The `InvitationWithdrawn` event of a withdrawal.
pub fn withdrawn_event(invitation: InvitationId, sender: MemberId) -> pronet::Event {
    pronet::Event::InvitationWithdrawn { invitation, sender }
}

/// The `MemberBlocked` event of a block.
pub fn blocked_event(blocker: MemberId, blocked: MemberId) -> pronet::Event {
    pronet::Event::MemberBlocked { blocker, blocked }
}

// ------------------------------------------------------------------ policy

/// The default policy with a Free quota of `free` invitations per 30 days,
/// and twice that for `Premium(0)`.
/// A policy whose Free quota is `free` sends per `window` (a paid tier's
/// twice that).
pub fn quota_policy_within(free: u32, window: TimeDelta) -> Policy {
    Policy::builder()
        .invitation_quota(Tier::Free, Quota::new(free, window).unwrap())
        .invitation_quota(Tier::Premium(0), Quota::new(free * 2, window).unwrap())
        .build()
        .unwrap()
}

pub fn quota_policy(free: u32) -> Policy {
    Policy::builder()
        .invitation_quota(Tier::Free, Quota::new(free, days(30)).unwrap())
        .invitation_quota(Tier::Premium(0), Quota::new(free * 2, days(30)).unwrap())
        .build()
        .unwrap()
}

// -------------------------------------------------------------------- World

pub type Net = Network<MemoryStore, ManualClock>;

/// A network over a `MemoryStore` at day 0, and the handle on its clock.
pub struct World {
    pub net: Net,
    pub clock: ManualClock,
}

impl World {
    pub fn new() -> Self {
        Self::with(Policy::default())
    }

    pub fn with(policy: Policy) -> Self {
        let clock = ManualClock::new(T0);
        let net = Network::open(MemoryStore::new(), clock.clone(), policy).unwrap();
        Self { net, clock }
    }

    /// Moves the clock to `offset` after day 0.
    pub fn at(&self, offset: TimeDelta) {
        self.clock.set(at(offset));
    }

    /// Registers `member`, which must be accepted.
    pub fn register(&self, member: Member) -> MemberId {
        let id = member.id;
        done(self.net.register(member));
        id
    }

    /// Registers a person named `P{id}` with the discoverable address
    /// `m{id}@example.com` (see [`email_of`]).
    pub fn person(&self, id: MemberId) -> MemberId {
        self.person_with(id, InvitePreference::Anyone)
    }

    pub fn person_with(&self, id: MemberId, pref: InvitePreference) -> MemberId {
        self.register(
            Member::person(id, Profile::named(format!("P{}", id.get())))
                .with_email(email_of(id), true)
                .with_invite_preference(pref),
        )
    }

    /// Registers each of `ids` as [`World::person`].
    pub fn people(&self, ids: impl IntoIterator<Item = MemberId>) {
        for id in ids {
            self.person(id);
        }
    }

    /// Registers `ids` as [`World::person`]: the same ids, to destructure.
    pub fn persons<const N: usize>(&self, ids: [MemberId; N]) -> [MemberId; N] {
        ids.map(|id| self.person(id))
    }

    /// Connects each pair, in order, as [`World::connect`].
    pub fn connect_all(&self, pairs: impl IntoIterator<Item = (MemberId, MemberId)>) {
        for (a, b) in pairs {
            self.connect(a, b);
        }
    }

    /// `from` invites `to`, proving `to`'s address; the send must create an
    /// invitation.
    pub fn invite(&self, from: MemberId, to: MemberId) -> InvitationId {
        invite(&self.net, from, to, None)
    }

    /// Connects two members through an accepted invitation.
    pub fn connect(&self, a: MemberId, b: MemberId) {
        let id = self.invite(a, b);
        done(self.net.accept(b, id));
    }
}

// -------------------------------------------------------- temporary files

/// A fresh database path under `CARGO_TARGET_TMPDIR`; the file and its
/// `-wal` and `-shm` companions are removed when it is dropped (and before
/// it is handed out).
pub struct TempDb(PathBuf);

impl TempDb {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pronet-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let this = Self(dir.join(format!("{name}-{}-{n}.db", std::process::id())));
        this.remove();
        this
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Removes the file and its companions (again usable afterwards).
    pub fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.0.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

impl AsRef<Path> for TempDb {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A factory of `SqliteStore`s, each on a fresh file; the files are removed
/// when the factory is dropped, which is after every store it made when
/// the factory is handed to a function that takes it by value (as the
/// conformance suite does).
#[cfg(feature = "sqlite")]
pub fn sqlite_files(name: &'static str) -> impl Fn() -> pronet::SqliteStore {
    let files = std::sync::Mutex::new(Vec::<TempDb>::new());
    move || {
        let file = TempDb::new(name);
        let store = pronet::SqliteStore::open(file.path()).unwrap();
        files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(file);
        store
    }
}

// ------------------------------------------------------------ watched stores

/// What a [`Watched`] store tells its watcher; all do nothing by default.
pub trait Watch: Send + Sync {
    /// Before every commit, with its writes.
    fn committing(&self, _writes: &[Write]) {}
    /// After every commit, with its writes and its result.
    fn committed(&self, _writes: &[Write], _result: &Result<(), CommitError>) {}
    /// Before every `Store::connections` read.
    fn reading_connections(&self) {}
}

/// A store in front of `inner` that tells `watch` of its commits and its
/// connection reads; every call passes through unchanged.
pub struct Watched<S, W> {
    pub inner: S,
    pub watch: W,
}

impl<S, W> Watched<S, W> {
    pub fn new(inner: S, watch: W) -> Self {
        Self { inner, watch }
    }
}

impl<S: Store, W: Watch> Store for Watched<S, W> {
    fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        self.inner.get(key)
    }
    fn commit(&self, writes: &[Write]) -> Result<(), CommitError> {
        self.watch.committing(writes);
        let result = self.inner.commit(writes);
        self.watch.committed(writes, &result);
        result
    }
    fn open_invitations(
        &self,
        member: MemberId,
        role: Role,
    ) -> Result<Vec<Invitation>, StoreError> {
        self.inner.open_invitations(member, role)
    }
    fn members(&self) -> Result<Vec<Member>, StoreError> {
        self.inner.members()
    }
    fn connections(&self) -> Result<Vec<PairKey>, StoreError> {
        self.watch.reading_connections();
        self.inner.connections()
    }
    fn contacts(&self, owner: MemberId) -> Result<Vec<Contact>, StoreError> {
        self.inner.contacts(owner)
    }
    fn blocks(&self, member: MemberId, role: Role) -> Result<Vec<Block>, StoreError> {
        self.inner.blocks(member, role)
    }
    fn next_invitation_id(&self) -> Result<InvitationId, StoreError> {
        self.inner.next_invitation_id()
    }
    fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        self.inner.change_cursor()
    }
    fn changes_since(&self, after: ChangeCursor, limit: usize) -> Result<Changes, StoreError> {
        self.inner.changes_since(after, limit)
    }
    fn outbox(
        &self,
        after: ChangeCursor,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Outbox)>, StoreError> {
        self.inner.outbox(after, limit)
    }
    fn trim_outbox(&self, through: ChangeCursor) -> Result<usize, StoreError> {
        self.inner.trim_outbox(through)
    }
}

/// Counts the commits refused as conflicts: each is a call that lost a
/// race on a record (the expected versions caught it) and decided again
/// from fresh facts. Clones share the count.
#[derive(Clone, Default)]
pub struct Conflicts(Arc<AtomicUsize>);

impl Conflicts {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.0.store(0, Ordering::SeqCst);
    }
}

impl Watch for Conflicts {
    fn committed(&self, _writes: &[Write], result: &Result<(), CommitError>) {
        if matches!(result, Err(CommitError::Conflict(_))) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

// ------------------------------------------------------------- PostgreSQL

/// The PostgreSQL server of the tests: `PRONET_POSTGRES_URL` names a
/// database in which the tests create (and drop) one schema per store.
/// Without it the PostgreSQL tests say loudly that they skip.
#[cfg(feature = "postgres")]
pub mod pg {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub const VAR: &str = "PRONET_POSTGRES_URL";

    /// The server's connection string, or `None` after printing that
    /// `test` skips and how to run it.
    pub fn url(test: &str) -> Option<String> {
        match std::env::var(VAR) {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                eprintln!(
                    "SKIPPED {test}: no PostgreSQL server. Set {VAR}=postgres://user:password@host/db \
                     (`bash .ci/run` starts one and sets it) to run it."
                );
                None
            }
        }
    }

    /// The server's config, without waiting for the disk at each commit:
    /// the tests need no durability, and run several times faster.
    pub fn config(url: &str) -> postgres::Config {
        let mut config: postgres::Config = url.parse().unwrap();
        config.options("-c synchronous_commit=off");
        config
    }

    /// A schema name no other store of any run uses.
    pub fn fresh_schema(label: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        format!(
            "t_{label}_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// A store in `schema` (created if missing).
    pub fn store_in(url: &str, schema: &str) -> pronet::PostgresStore {
        pronet::PostgresStore::open_in_schema(config(url), schema, 4).unwrap()
    }

    /// Schemas on the server for `test`, or `None` after printing that it
    /// skips (see [`url`]).
    pub fn schemas(test: &str) -> Option<Schemas> {
        url(test).map(|url| Schemas::new(&url))
    }

    /// Drops `schema` and everything in it.
    pub fn drop_schema(url: &str, schema: &str) {
        let mut client = config(url).connect(postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .unwrap();
    }

    /// Schemas dropped when this is dropped.
    pub struct Schemas {
        url: String,
        names: Mutex<Vec<String>>,
    }

    impl Schemas {
        pub fn new(url: &str) -> Self {
            Self {
                url: url.to_owned(),
                names: Mutex::new(Vec::new()),
            }
        }

        /// The server's connection string.
        pub fn url(&self) -> &str {
            &self.url
        }

        /// A fresh schema, dropped with `self`.
        pub fn fresh(&self, label: &str) -> String {
            let name = fresh_schema(label);
            self.names.lock().unwrap().push(name.clone());
            name
        }

        /// A store in a fresh schema, dropped with `self`.
        pub fn store(&self, label: &str) -> pronet::PostgresStore {
            store_in(&self.url, &self.fresh(label))
        }
    }

    impl Drop for Schemas {
        fn drop(&mut self) {
            for name in self.names.lock().unwrap().drain(..) {
                let _ = std::panic::catch_unwind(|| drop_schema(&self.url, &name));
            }
        }
    }
}
