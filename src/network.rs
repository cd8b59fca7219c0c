//! [`Network`]: the thin imperative shell. Each operation reads the clock
//! once, loads the facts, lets a pure decision rule, commits the change set
//! atomically (retrying on conflict from fresh facts), updates the graph
//! index after the commit, and returns the committed events.

use crate::change::{Key, Record, Versioned};
use crate::contact::Contact;
use crate::email::Email;
use crate::error::{CommitError, Error, Refusal, StoreError};
use crate::event::Event;
use crate::graph::SocialGraph;
use crate::id::{InvitationId, MemberId, PairKey};
use crate::invitation::decide::{self, AnswerFacts, Decision, SendFacts, SendOutcome, SendRequest};
use crate::invitation::{IgnoreReason, Invitation, Ledger, PairState, Seen};
use crate::member::{self, Member};
use crate::note::Note;
use crate::page::{Page, PageSize};
use crate::policy::Policy;
use crate::standing::{self, Standing};
use crate::store::{ChangeCursor, Role, Store};
use crate::time::{Clock, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard};

/// Records read from the change feed per store call while catching up.
const FEED_PAGE: usize = 1024;

/// The result of a committed operation: its answer and the events it
/// produced (empty when a repeated command changed nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Committed<O> {
    /// The operation's answer.
    pub outcome: O,
    /// The committed events, each with its audience.
    pub events: Vec<Event>,
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
    /// The latest instant this network has acted on, in microseconds.
    latest: AtomicI64,
    /// How far the graph index has followed the store's change feed.
    followed: Mutex<ChangeCursor>,
    /// Set when a commit failed in a way that may have applied it: the
    /// index then catches up before the next operation.
    unsure: AtomicBool,
}

impl<S: Store, C: Clock> Network<S, C> {
    /// Opens a network over `store`, rebuilding the graph index from it, and
    /// following the store's change feed from its current end (see
    /// [`catch_up`](Network::catch_up)).
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails or holds connections that make
    /// no sense (an endpoint missing or not a person).
    pub fn open(store: S, clock: C, policy: Policy) -> Result<Self, Error> {
        // The feed position first: whatever commits while the graph is read
        // comes again through the feed, and applying it twice is harmless.
        let followed = store.change_cursor()?;
        let members = store.members()?;
        let connections = store.connections()?;
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
        Ok(Self {
            store,
            clock,
            policy,
            graph: RwLock::new(graph),
            latest: AtomicI64::new(i64::MIN),
            followed: Mutex::new(followed),
            unsure: AtomicBool::new(false),
        })
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
        Ok(self.follow(&mut graph)?)
    }

    /// Follows the change feed to its end, applying each page to `graph`.
    /// The caller holds the graph's write lock, so no commit of this network
    /// interleaves with the feed reads: every record read is at least as new
    /// as what the index holds.
    fn follow(&self, graph: &mut SocialGraph) -> Result<usize, StoreError> {
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
    fn now(&self) -> Timestamp {
        let clock = self.clock.now().as_micros();
        let before = self.latest.fetch_max(clock, Ordering::SeqCst);
        Timestamp::from_micros(before.max(clock))
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
    /// [`Refusal::MemberExists`]; store failures.
    pub fn register(&self, member: Member) -> Result<Committed<()>, Error> {
        self.run(|_| {
            let existing = self.load::<Member>(Key::Member(member.id))?;
            let changes = member::decide::register(existing.as_ref(), member.clone())?;
            Ok(Decision {
                changes,
                outcome: (),
            })
        })
    }

    /// Replaces a member's profile, tier, emails and invitation preference.
    ///
    /// # Errors
    /// [`Refusal::UnknownMember`]; store failures.
    pub fn update_member(&self, member: Member) -> Result<Committed<()>, Error> {
        self.run(|_| {
            let existing = self.load::<Member>(Key::Member(member.id))?;
            let changes = member::decide::update(existing.as_ref(), member.clone())?;
            Ok(Decision {
                changes,
                outcome: (),
            })
        })
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
            let mut changes = crate::change::ChangeSet::default();
            let mut seen = std::collections::BTreeSet::new();
            for email in emails {
                let key = Key::Contact(owner, email.canonical().to_owned());
                if seen.insert(key.clone()) && self.store.get(&key)?.is_none() {
                    let contact = Contact::new(owner, email.clone(), now);
                    changes.write::<Contact>(None, Record::Contact(contact));
                }
            }
            let added = changes.writes.len();
            if added > 0 {
                changes.emit(Event::ContactsImported { owner, added });
            }
            Ok(Decision {
                changes,
                outcome: added,
            })
        })
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
    ///
    /// # Errors
    /// The refusals of [`decide::reject`]; store failures; contention.
    pub fn reject(&self, actor: MemberId, id: InvitationId) -> Result<Committed<()>, Error> {
        self.run(|now| {
            let facts = self.answer_facts(id)?;
            Ok(decide::reject(actor, id, &facts, &self.policy, now)?)
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
        self.active_member(sender)?;
        let now = self.now();
        let items = self
            .store
            .open_invitations(sender, Role::Sender)?
            .into_iter()
            .filter(|inv| inv.seen_by_sender(&self.policy, now) == Seen::Pending)
            .filter(|inv| self.is_active(inv.recipient))
            .map(|inv| (inv.recipient, inv))
            .collect();
        Ok(self.paginate(sender, items, after, size))
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
                    self.policy.standing(),
                    now,
                )
            })
            .unwrap_or_default())
    }

    /// One invitation as `viewer` sees it. Only its sender and recipient can
    /// read it, note included (SPEC 3.4); anyone else is told it does not
    /// exist.
    ///
    /// # Errors
    /// [`Refusal::InvitationNotFound`]; store failures.
    pub fn invitation(&self, viewer: MemberId, id: InvitationId) -> Result<InvitationView, Error> {
        let now = self.now();
        let not_found = || Error::Refused(Refusal::InvitationNotFound(id));
        let inv = self
            .load::<Invitation>(Key::Invitation(id))?
            .ok_or_else(not_found)?
            .value;
        if !(self.is_active(inv.sender) && self.is_active(inv.recipient)) {
            return Err(not_found());
        }
        let seen = if viewer == inv.sender {
            inv.seen_by_sender(&self.policy, now)
        } else if viewer == inv.recipient {
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
        })
    }

    fn received(
        &self,
        recipient: MemberId,
        which: Inbox,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Result<Page<Listed, ListCursor>, Error> {
        self.active_member(recipient)?;
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
            .filter(|inv| self.is_active(inv.sender))
            .map(|inv| (inv.sender, inv))
            .collect();
        Ok(self.paginate(recipient, items, after, size))
    }

    /// Sorts newest first and cuts one page after the cursor.
    fn paginate(
        &self,
        viewer: MemberId,
        mut items: Vec<(MemberId, Invitation)>,
        after: Option<ListCursor>,
        size: PageSize,
    ) -> Page<Listed, ListCursor> {
        let cursor = |inv: &Invitation| ListCursor {
            sent_at: inv.sent_at,
            invitation: inv.id,
        };
        items.sort_by_key(|item| std::cmp::Reverse(cursor(&item.1)));
        let graph = self.graph();
        let mut rest = items
            .into_iter()
            .filter(|(_, inv)| after.is_none_or(|c| cursor(inv) < c));
        let page: Vec<Listed> = rest
            .by_ref()
            .take(size.get())
            .map(|(other, inv)| Listed {
                invitation: inv.id,
                other,
                mutual_connections: graph.mutual_count(viewer, other).unwrap_or(0),
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
        Ok(SendFacts {
            sender: self.load(Key::Member(sender))?,
            recipient: recipient_member,
            pair,
            open,
            sender_ledger: self.load::<Ledger>(Key::Ledger(sender))?,
            recipient_ledger: self.load::<Ledger>(Key::Ledger(recipient))?,
            shared_connections: self.graph().mutual_count(sender, recipient).unwrap_or(0),
            in_contacts,
            outstanding: self
                .store
                .open_invitations(sender, Role::Sender)?
                .iter()
                .filter(|inv| inv.is_live(&self.policy, now))
                .count(),
            new_id: self.store.next_invitation_id()?,
        })
    }

    fn answer_facts(&self, id: InvitationId) -> Result<AnswerFacts, Error> {
        let Some(invitation) = self.load::<Invitation>(Key::Invitation(id))? else {
            return Ok(AnswerFacts {
                invitation: None,
                sender: None,
                recipient: None,
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
            pair,
            sender_ledger: self.load(Key::Ledger(s))?,
            recipient_ledger: self.load(Key::Ledger(r))?,
            invitation: Some(invitation),
        })
    }

    fn active_member(&self, id: MemberId) -> Result<Member, Error> {
        match self.load::<Member>(Key::Member(id))? {
            Some(m) if m.value.active => Ok(m.value),
            _ => Err(Refusal::UnknownMember(id).into()),
        }
    }

    fn is_active(&self, id: MemberId) -> bool {
        self.graph().contains(id)
    }

    /// A typed read: the record under `key`, which must be of kind `T`.
    fn load<T: TryFrom<Record>>(&self, key: Key) -> Result<Option<Versioned<T>>, Error> {
        match self.store.get(&key)? {
            None => Ok(None),
            Some(v) => match T::try_from(v.value) {
                Ok(value) => Ok(Some(Versioned {
                    version: v.version,
                    value,
                })),
                Err(_) => Err(StoreError::Corrupt(key).into()),
            },
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
            self.follow(&mut graph)?;
        }
        let attempts = self.policy.max_attempts();
        for _ in 0..attempts {
            let Decision { changes, outcome } = decide(now)?;
            if changes.is_empty() {
                return Ok(Committed {
                    outcome,
                    events: changes.events,
                });
            }
            // Commit and index under the graph's write lock, so the index
            // sees committed changes in commit order.
            let mut graph = self.graph.write().unwrap_or_else(PoisonError::into_inner);
            match self.store.commit(&changes.writes) {
                Ok(()) => {
                    index(&mut graph, changes.writes.iter().map(|w| &w.record));
                    return Ok(Committed {
                        outcome,
                        events: changes.events,
                    });
                }
                Err(CommitError::Conflict(_)) => continue,
                Err(CommitError::Store(e)) => {
                    // The commit may have been applied although the store
                    // says otherwise (a lost acknowledgement): follow the
                    // feed now, or before the next operation if the store
                    // does not answer. The caller's retry re-decides from
                    // the store, so nothing applies twice.
                    self.unsure.store(true, Ordering::SeqCst);
                    let _ = self.follow(&mut graph);
                    return Err(e.into());
                }
            }
        }
        Err(Error::Contended { attempts })
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
