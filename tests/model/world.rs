//! The lockstep harness: the real network and the model, one operation at a time.

use super::*;
use pronet::{BlockOutcome, UnblockOutcome};

/// The outcome a model answer's events `e` stand for: `unchanged` when
/// there are none, else `changed`; with the events.
fn outcome_by_events<T>(e: Vec<Event>, unchanged: T, changed: T) -> (T, Vec<Event>) {
    let outcome = if e.is_empty() { unchanged } else { changed };
    (outcome, e)
}

// ---------------------------------------------------------------------------
// The lockstep harness
// ---------------------------------------------------------------------------

pub(crate) struct World {
    pub(crate) net: Network<MemoryStore, ManualClock>,
    pub(crate) clock: ManualClock,
    pub(crate) model: Model,
    /// I5: every effective status each invitation has shown.
    pub(crate) history: BTreeMap<u64, Vec<MStatus>>,
    /// I6, kept from the real answers only: (sender, recipient) to the bar
    /// and the largest invitation id at the time it was set.
    pub(crate) bars: BTreeMap<(u64, u64), (MBar, u64)>,
    /// Q1: whether each invitation's sender was on a paid tier when sending.
    pub(crate) tier_at_send: BTreeMap<u64, bool>,
    /// Q1: invitations up to this id were checked.
    pub(crate) q1_checked: u64,
    /// Q2: the latest instant the clock was ever set to.
    pub(crate) max_clock: i64,
    /// B5: the blocks standing at the last check.
    pub(crate) last_blocks: BTreeSet<(u64, u64)>,
    /// B5: the (blocker, blocked) of the unblock being run, if any.
    pub(crate) unblocking: Option<(u64, u64)>,
    /// What the graph reads depend on (connections, blocks, active
    /// members, from the store) when they were last checked.
    pub(crate) graph_checked: Option<GraphState>,
    pub(crate) transitions: u64,
    pub(crate) probes: u64,
    /// The operation being run, for messages.
    pub(crate) step: usize,
}

impl World {
    pub(crate) fn new(limits: Limits, setup: &[PersonSetup]) -> Self {
        let clock = ManualClock::new(ts(START));
        let net = Network::open(MemoryStore::new(), clock.clone(), policy(limits)).unwrap();
        let mut model = Model {
            clock: START,
            now: START,
            limits,
            ..Model::default()
        };
        for (&id, p) in PERSONS.iter().zip(setup) {
            let mut emails = vec![primary_address(id)];
            if p.alt_email {
                emails.push(alt_address(id));
            }
            model.members.insert(
                id,
                MMember {
                    person: true,
                    active: true,
                    premium: p.premium,
                    preference: p.preference,
                    emails,
                },
            );
        }
        for (id, person) in [(COMPANY, false), (GONE, true)] {
            model.members.insert(
                id,
                MMember {
                    person,
                    active: true,
                    premium: false,
                    preference: InvitePreference::Anyone,
                    emails: vec![primary_address(id)],
                },
            );
        }
        for (&id, m) in &model.members {
            let _ = net.register(real_member(id, m)).unwrap();
        }
        let _ = net.deactivate(mid(GONE)).unwrap();
        model.members.get_mut(&GONE).unwrap().active = false;
        let mut world = Self {
            net,
            clock,
            model,
            history: BTreeMap::new(),
            bars: BTreeMap::new(),
            tier_at_send: BTreeMap::new(),
            q1_checked: 0,
            max_clock: START,
            last_blocks: BTreeSet::new(),
            unblocking: None,
            graph_checked: None,
            transitions: 0,
            probes: 0,
            step: 0,
        };
        world.check();
        world
    }

    pub(crate) fn run(&mut self, op: &Op) {
        match *op {
            Op::Send {
                sender,
                recipient,
                note,
                proof,
            } => self.send(sender, recipient, note, proof),
            Op::Answer {
                answer,
                actor,
                target,
            } => {
                let id = self.model.resolve(target);
                let actor = self.actor(actor, answer, id);
                self.answer(answer, actor, id);
            }
            Op::AddContacts {
                owner,
                ref addresses,
            } => {
                let pool = address_pool();
                let written: Vec<String> = addresses
                    .iter()
                    .map(|&(i, loud)| shout(&pool[i], loud))
                    .collect();
                let emails: Vec<Email> = written.iter().map(|a| Email::parse(a).unwrap()).collect();
                let real = refused(self.net.add_contacts(mid(owner), &emails));
                let expected = self.model.add_contacts(owner, &written);
                tally("add_contacts", &real);
                assert_eq!(real, expected, "add_contacts({owner}, {written:?})");
                self.transition(&real.map(|(_, e)| e).unwrap_or_default());
            }
            Op::Update {
                member,
                preference,
                alt_email,
                premium,
            } => self.update(member, preference, alt_email, premium),
            Op::Burst {
                sender,
                start,
                ref shots,
                flip,
                finale,
            } => {
                let first = self.model.invitations.keys().max().map_or(0, |&id| id + 1);
                self.burst(sender, start, shots, flip);
                if finale {
                    let mine: Vec<(u64, u64)> = self
                        .model
                        .invitations
                        .range(first..)
                        .filter(|(_, i)| i.sender == sender && self.model.live(i))
                        .map(|(&id, i)| (id, i.recipient))
                        .collect();
                    for (id, r) in mine.into_iter().rev() {
                        self.answer(Answer::Accept, r, id);
                    }
                }
            }
            Op::Block { actor, other } => self.block(actor, other),
            Op::Unblock(pick) => {
                let (a, b) = self.pick(pick, Among::Blocks);
                self.unblock(a, b);
            }
            Op::Report(pick, reason) => {
                let (a, b) = self.pick(pick, Among::Reports);
                self.report(a, b, reason);
            }
            Op::Remove(pick) => {
                let (a, b) = self.pick(pick, Among::Connections);
                self.remove(a, b);
            }
            Op::Feud {
                a,
                b,
                wrong_unblock,
                back,
                reblock,
            } => {
                self.block(a, b);
                if wrong_unblock {
                    self.unblock(b, a);
                }
                if back {
                    self.block(b, a);
                }
                self.unblock(a, b);
                self.block(a, b);
                if let (Some(nudge), Some(&at)) = (reblock, self.model.unblocked.get(&(a, b))) {
                    let at = plus(plus(at, REBLOCK), nudge);
                    if at > self.model.now {
                        self.advance_to(at);
                    }
                    self.block(a, b);
                }
            }
            Op::Befriend { a, b } => {
                let proof = ProofKind::Right {
                    which: 0,
                    loud: false,
                };
                self.send(a, b, NoteKind::Absent, proof);
                if let Some(id) = self.model.open_between(a, b) {
                    self.answer(Answer::Accept, b, id);
                }
            }
            Op::Spurn {
                a,
                b,
                answer,
                invite_back,
                withdraw,
            } => {
                let proof = ProofKind::Right {
                    which: 0,
                    loud: false,
                };
                self.send(a, b, NoteKind::Absent, proof);
                if let Some(id) = self.model.open_between(a, b) {
                    self.answer(answer, b, id);
                }
                if let Some(at) = self.model.earliest(a, b).filter(|&t| t > self.model.now) {
                    self.advance_to(at);
                }
                self.send(a, b, NoteKind::Valid, proof);
                let open = self.model.open_between(a, b);
                if let Some(id) =
                    open.filter(|id| withdraw && self.model.invitations[id].sender == a)
                {
                    self.answer(Answer::Withdraw, a, id);
                }
                if invite_back {
                    self.send(b, a, NoteKind::Absent, proof);
                }
            }
            Op::Climb {
                sender,
                recipient,
                proof,
                ref rungs,
            } => {
                for rung in rungs {
                    let (s, r) = if rung.swap {
                        (recipient, sender)
                    } else {
                        (sender, recipient)
                    };
                    if let Some(at) = self.model.earliest(s, r) {
                        if rung.early && minus(at, 1) > self.model.now {
                            self.advance_to(minus(at, 1));
                            self.send(s, r, NoteKind::Absent, proof);
                        }
                        if at > self.model.now {
                            self.advance_to(at);
                        }
                    }
                    self.send(s, r, NoteKind::Absent, proof);
                    if let Some(days) = rung.withdraw_after {
                        if days > 0 {
                            self.advance_to(plus(self.model.now, days * DAY));
                        }
                        let open = self.model.open_between(s, r);
                        if let Some(id) = open.filter(|id| self.model.invitations[id].sender == s) {
                            self.answer(Answer::Withdraw, s, id);
                        }
                    }
                }
            }
            Op::Deactivate(id) => {
                let real = refused(self.net.deactivate(mid(id)));
                let expected = self.model.deactivate(id);
                tally("deactivate", &real);
                assert_eq!(real, expected, "deactivate({id})");
                self.transition(&real.map(|(_, e)| e).unwrap_or_default());
            }
            Op::Erase(id) => {
                let real = match self.net.erase(mid(id)) {
                    Ok(_) => Ok(((), vec![])),
                    Err(Error::Refused(r)) => Err(r),
                    Err(e) => panic!("erase({id}): {e:?}"),
                };
                let expected = self.model.erase(id);
                tally("erase", &real);
                assert_eq!(real, expected, "PD3: erase({id})");
                if real.is_ok() {
                    // B5 holds for members who remain: an erased member's
                    // blocks go with the rest of their data.
                    self.last_blocks.retain(|(blocker, _)| *blocker != id);
                }
                self.transition(&[]);
            }
            Op::Retention(limit) => {
                self.retention(limit);
                self.transition(&[]);
            }
            Op::Advance(delta) => {
                // From the clock, which may be behind the effective time.
                self.clock.advance(TimeDelta::microseconds(delta));
                self.set_clock(plus(self.model.clock, delta));
            }
            Op::Rewind { back, set } => {
                let at = minus(self.model.clock, back);
                if set {
                    self.clock.set(ts(at));
                } else {
                    self.clock.advance(TimeDelta::microseconds(-back));
                }
                count(format!(
                    "clock: back {}",
                    if set { "(set)" } else { "(advance)" }
                ));
                self.set_clock(at);
            }
            Op::Extreme { high, inside } => {
                let at = if high { TMAX - inside } else { TMIN + inside };
                self.clock.set(ts(at));
                count(format!(
                    "clock: to the {} of time",
                    if high { "end" } else { "start" }
                ));
                self.set_clock(at);
            }
            Op::Jump {
                target,
                boundary,
                nudge,
                then,
            } => {
                let id = self.model.resolve(target);
                let Some(inv) = self.model.invitations.get(&id).cloned() else {
                    return;
                };
                let (s, r) = (inv.sender, inv.recipient);
                let dir = self.model.direction(s, r);
                let at = match boundary {
                    Boundary::Ladder90 => dir.last_sent.map(|t| plus(t, WAIT_1)),
                    Boundary::Ladder365 => dir.last_sent.map(|t| plus(t, WAIT_2)),
                    Boundary::Expiry => Some(plus(inv.sent_at, EXPIRY)),
                    Boundary::Cooldown => dir
                        .withdrawn_at
                        .or(dir.last_sent)
                        .map(|t| plus(t, COOLDOWN)),
                };
                if let Some(at) = at.map(|t| plus(t, nudge)).filter(|&t| t > self.model.now) {
                    self.advance_to(at);
                }
                match then {
                    FollowUp::Resend(note, proof) => self.send(s, r, note, proof),
                    FollowUp::Reverse(proof) => self.send(r, s, NoteKind::Absent, proof),
                    FollowUp::Accept => self.answer(Answer::Accept, r, id),
                    FollowUp::Withdraw => self.answer(Answer::Withdraw, s, id),
                    FollowUp::Ignore(reason) => self.answer(Answer::Ignore(reason), r, id),
                }
            }
        }
    }

    pub(crate) fn actor(&self, actor: Actor, answer: Answer, id: u64) -> u64 {
        let Some(inv) = self.model.invitations.get(&id) else {
            return match actor {
                Actor::Member(m) => m,
                _ => PERSONS[0],
            };
        };
        let withdraw = matches!(answer, Answer::Withdraw);
        match actor {
            Actor::Natural if withdraw => inv.sender,
            Actor::Natural => inv.recipient,
            Actor::OtherParty if withdraw => inv.recipient,
            Actor::OtherParty => inv.sender,
            Actor::Member(m) => m,
        }
    }

    /// Sets the clock to `at` (ahead of the effective time, as a rule).
    /// PD3: a retention pass to its end, in calls of `limit` records.
    /// Every note it erased was past the policy's retention since its
    /// invitation closed (or expired), and none past it is left; the model
    /// follows.
    pub(crate) fn retention(&mut self, limit: usize) {
        let mut calls = 0;
        loop {
            let pass = self.net.apply_retention(limit).unwrap();
            calls += 1;
            assert!(calls < 100_000, "PD3: the retention pass never ends");
            if !pass.more {
                break;
            }
        }
        count(format!(
            "retention: {} call(s)",
            if calls > 1 { "several" } else { "one" }
        ));
        let now = ts(self.model.now);
        let policy = self.net.policy().clone();
        let snap = Snapshot::take(&self.net);
        for (id, inv) in &snap.invitations {
            let model = self.model.invitations.get_mut(id).unwrap();
            let closed = match inv.closed_at {
                Some(at) if !inv.is_open() => Some(at),
                _ => Some(inv.expires_at(&policy)).filter(|&e| now >= e),
            };
            let due = closed.is_some_and(|at| now.since(at) >= policy.note_retention());
            let real = inv.note.as_ref().map(|n| n.as_str().to_owned());
            if due {
                assert_eq!(
                    real, None,
                    "PD3: invitation {id} kept its note past retention"
                );
                if model.note.is_some() {
                    count("retention: a note erased".to_owned());
                }
                model.note = None;
            } else {
                assert_eq!(
                    real, model.note,
                    "PD3: invitation {id}'s note erased too early"
                );
            }
        }
    }

    pub(crate) fn advance_to(&mut self, at: i64) {
        self.clock.set(ts(clamp(at)));
        self.set_clock(at);
    }

    /// The clock was put at `at`: the model follows, and everything is
    /// checked (which reads the clock).
    pub(crate) fn set_clock(&mut self, at: i64) {
        self.model.set_clock(at);
        self.max_clock = self.max_clock.max(clamp(at));
        self.transition(&[]);
    }

    pub(crate) fn update(
        &mut self,
        member: u64,
        preference: InvitePreference,
        alt_email: bool,
        premium: Option<bool>,
    ) {
        let real = match self.model.members.get(&member) {
            Some(m) => {
                let mut next = m.clone();
                next.update(member, preference, alt_email, premium);
                refused(
                    self.net
                        .update_member(mid(member), |m| *m = real_member(member, &next)),
                )
            }
            None => refused(self.net.update_member(mid(member), |m| {
                m.profile = Profile::named("nobody");
            })),
        };
        let changes_tier = self
            .model
            .members
            .get(&member)
            .is_some_and(|m| m.active && premium.is_some_and(|p| p != m.premium));
        let expected = self.model.update(member, preference, alt_email, premium);
        tally(
            if changes_tier {
                "update (tier)"
            } else {
                "update"
            },
            &real,
        );
        assert_eq!(real, expected, "step {}: update({member})", self.step);
        self.transition(&[]);
    }

    pub(crate) fn burst(&mut self, sender: u64, start: usize, shots: &[Shot], flip: Option<usize>) {
        let others: Vec<u64> = PERSONS.iter().copied().filter(|&p| p != sender).collect();
        let proof = ProofKind::Right {
            which: 0,
            loud: false,
        };
        for (k, shot) in shots.iter().enumerate() {
            if flip == Some(k) {
                if let Some(m) = self.model.members.get(&sender).cloned() {
                    let alt = m.emails.len() > 1;
                    self.update(sender, m.preference, alt, Some(!m.premium));
                }
            }
            if shot.gap > 0 {
                // From the clock, which may be behind the effective time.
                self.clock.advance(TimeDelta::microseconds(shot.gap));
                self.set_clock(plus(self.model.clock, shot.gap));
            }
            let r = others[(start + k) % others.len()];
            let note = if shot.note {
                NoteKind::Valid
            } else {
                NoteKind::Absent
            };
            self.send(sender, r, note, proof);
            let open = self.model.open_between(sender, r);
            let Some(id) = open.filter(|id| self.model.invitations[id].sender == sender) else {
                continue;
            };
            match shot.settle {
                Settle::Leave => {}
                Settle::Accept => self.answer(Answer::Accept, r, id),
                Settle::AcceptRemove { by_sender } => {
                    self.answer(Answer::Accept, r, id);
                    if by_sender {
                        self.remove(sender, r);
                    } else {
                        self.remove(r, sender);
                    }
                }
                Settle::Reject => self.answer(Answer::Reject, r, id),
                Settle::Ignore(reason) => self.answer(Answer::Ignore(reason), r, id),
                Settle::Withdraw => self.answer(Answer::Withdraw, sender, id),
            }
        }
    }

    /// The pair a [`Pick`] names: a standing block, connection or report,
    /// or any two.
    pub(crate) fn pick(&self, pick: Pick, among: Among) -> (u64, u64) {
        let existing: Vec<(u64, u64)> = match among {
            Among::Blocks => self.model.blocks.keys().copied().collect(),
            Among::Connections => self.model.connections.iter().copied().collect(),
            Among::Reports => self.model.reports.keys().copied().collect(),
        };
        match pick {
            Pick::Existing { n, swap } if !existing.is_empty() => {
                let (a, b) = existing[n % existing.len()];
                if swap { (b, a) } else { (a, b) }
            }
            Pick::Existing { n, .. } => (PERSONS[n % 6], PERSONS[(n + 1) % 6]),
            Pick::Pair(a, b) => (a, b),
        }
    }

    pub(crate) fn block(&mut self, actor: u64, other: u64) {
        let real = refused(self.net.block(mid(actor), mid(other)));
        // The model answers with events only: a block that changed
        // nothing is `AlreadyBlocked`.
        let expected = self.model.block(actor, other).map(|((), e)| {
            outcome_by_events(e, BlockOutcome::AlreadyBlocked, BlockOutcome::Blocked)
        });
        self.compare("block", format!("block {actor} -> {other}"), real, expected);
    }

    pub(crate) fn unblock(&mut self, actor: u64, other: u64) {
        self.unblocking = Some((actor, other));
        let real = refused(self.net.unblock(mid(actor), mid(other)));
        let expected = self.model.unblock(actor, other).map(|((), e)| {
            outcome_by_events(e, UnblockOutcome::NotBlocked, UnblockOutcome::Unblocked)
        });
        self.compare(
            "unblock",
            format!("unblock {actor} -> {other}"),
            real,
            expected,
        );
    }

    pub(crate) fn report(&mut self, actor: u64, other: u64, reason: ReportReason) {
        let real = refused(self.net.report(mid(actor), mid(other), reason));
        let expected = self.model.report(actor, other, reason);
        self.compare(
            "report",
            format!("report {actor} -> {other} ({reason:?})"),
            real,
            expected,
        );
    }

    pub(crate) fn remove(&mut self, actor: u64, other: u64) {
        let real = refused(self.net.remove_connection(mid(actor), mid(other)));
        let expected = self.model.remove(actor, other);
        self.compare(
            "remove",
            format!("remove {actor} - {other}"),
            real,
            expected,
        );
    }

    pub(crate) fn proof(&self, recipient: u64, proof: ProofKind) -> Option<String> {
        match proof {
            ProofKind::Absent => None,
            ProofKind::Right { which, loud } => self.model.members.get(&recipient).map(|m| match m
                .emails
                .len()
            {
                // Erased: the address they had.
                0 => shout(&primary_address(recipient), loud),
                n => shout(&m.emails[which % n], loud),
            }),
            ProofKind::Wrong(i) => Some(OTHER_ADDRESSES[i].to_owned()),
        }
    }

    pub(crate) fn send(&mut self, s: u64, r: u64, note: NoteKind, proof: ProofKind) {
        let proof = self.proof(r, proof);
        let email = proof.as_deref().map(|p| Email::parse(p).unwrap());
        let text = note.text();
        let before = Snapshot::take(&self.net);
        let crossing = before.live(r, s, self.model.now);
        let both_active = self.net.graph().contains(mid(s)) && self.net.graph().contains(mid(r));

        let real = refused(
            self.net.send(
                pronet::SendRequest::new(mid(s), mid(r))
                    .maybe_note(text.as_deref())
                    .maybe_proof(email.as_ref()),
            ),
        );
        let fresh = match &real {
            Ok((SendOutcome::Sent(id), _)) => Some(id.get()),
            _ => None,
        };
        if let (Some(id), Some(m)) = (fresh, self.model.members.get(&s)) {
            self.tier_at_send.insert(id, m.premium);
        }
        let expected = self.model.send(s, r, note, proof.as_deref(), fresh);
        match &real {
            Ok((SendOutcome::Sent(id), _)) => count(format!(
                "send: Sent, {:?}",
                self.model.invitations[&id.get()].delivery
            )),
            other => tally("send", other),
        }
        if self.model.clock < self.model.now {
            // Q2: sends while the clock is behind the effective time.
            tally("send, clock behind", &real);
        }
        assert_eq!(
            real, expected,
            "step {}: send {s} -> {r}, note {note:?}, proof {proof:?}",
            self.step
        );

        // I9, from the store alone: a crossing send (with a valid note, if
        // any, and neither at the connection cap) connects, and leaves no
        // open invitation between the two.
        let note_refused = matches!(&real, Err(Refusal::InvalidNote(_)));
        let cap = self.model.limits.connections;
        let capped = before.at_cap(s, cap) || before.at_cap(r, cap);
        // A dropped invitation (after "I don't know") never crosses: the
        // sender, who never saw it, accepts the one they know while it is
        // live, or else sends anew, and it is closed (SPEC 3.4).
        let dropped = crossing.and_then(|x| {
            let inv = &before.invitations[&x];
            (inv.delivery == Delivery::Dropped).then(|| inv.recipient_knows.map(|k| k.get()))
        });
        if let (Some(knows), true, false) = (dropped, both_active, capped) {
            let after = Snapshot::take(&self.net);
            tally("send over a live dropped invitation", &real);
            match &real {
                Ok((SendOutcome::Connected { accepted }, _)) => {
                    assert_eq!(Some(accepted.get()), knows, "I9: {real:?}");
                    assert!(self.net.graph().are_connected(mid(s), mid(r)));
                }
                Ok((SendOutcome::Sent(_), _)) => {
                    assert!(after.live(r, s, self.model.now).is_none(), "I1: {real:?}");
                }
                _ => {}
            }
        } else if let (Some(x), true, false, false) = (crossing, both_active, note_refused, capped)
        {
            assert!(
                matches!(&real, Ok((SendOutcome::Connected { accepted }, _)) if accepted.get() == x),
                "I9: send {s} -> {r} with {x} live from {r}: {real:?}"
            );
            let after = Snapshot::take(&self.net);
            assert!(after.live(s, r, self.model.now).is_none());
            assert!(after.live(r, s, self.model.now).is_none());
            assert!(self.net.graph().are_connected(mid(s), mid(r)));
        }
        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    pub(crate) fn run_answer(&self, answer: Answer, actor: u64, id: u64) -> Answered<()> {
        let (actor, id) = (mid(actor), iid(id));
        refused(match answer {
            Answer::Accept => self.net.accept(actor, id),
            Answer::Ignore(reason) => self.net.ignore_because(actor, id, reason),
            Answer::Reject => self.net.reject(actor, id),
            Answer::Withdraw => self.net.withdraw(actor, id),
        })
    }

    pub(crate) fn answer(&mut self, answer: Answer, actor: u64, id: u64) {
        let real = self.run_answer(answer, actor, id);
        let expected = self.model.answer(answer, actor, id);
        tally(&short_answer(answer), &real);
        assert_eq!(
            real, expected,
            "step {}: {answer:?} by {actor} on {id}",
            self.step
        );

        // I6 bookkeeping from the real answer.
        if let Ok((_, events)) = &real {
            let snapshot = Snapshot::take(&self.net);
            let newest = snapshot.invitations.keys().max().copied().unwrap_or(0);
            if let (false, Some(inv)) = (events.is_empty(), snapshot.invitations.get(&id)) {
                let key = (inv.sender.get(), actor);
                match answer {
                    Answer::Reject => {
                        self.bars.insert(key, (MBar::Rejected, newest));
                    }
                    Answer::Ignore(IgnoreReason::DontKnow | IgnoreReason::Spam) => {
                        self.bars.entry(key).or_insert((MBar::DontKnow, newest));
                    }
                    _ => {}
                }
            }
        }

        // I4: the same command again answers the same, with no events, and
        // changes nothing.
        let before = self.net.store().snapshot();
        let again = self.run_answer(answer, actor, id);
        let same = match &real {
            Ok(((), _)) => Ok(((), vec![])),
            Err(e) => Err(e.clone()),
        };
        assert_eq!(again, same, "I4: {answer:?} by {actor} on {id} repeated");
        assert_eq!(
            self.model.answer(answer, actor, id),
            same,
            "model: repeat of {answer:?}"
        );
        assert!(self.net.store().snapshot() == before, "I4: a repeat wrote");
        self.probes += 1;

        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    /// Counts the real answer of one operation (as `what`), compares it
    /// with the model's (a failure names the step and `call`), and makes
    /// the transition its events say.
    fn compare<O: PartialEq + std::fmt::Debug>(
        &mut self,
        what: &str,
        call: String,
        real: Answered<O>,
        expected: Answered<O>,
    ) {
        tally(what, &real);
        assert_eq!(real, expected, "step {}: {call}", self.step);
        self.transition(&real.map(|(_, e)| e).unwrap_or_default());
    }

    /// Counts a transition and checks everything.
    pub(crate) fn transition(&mut self, events: &[Event]) {
        self.transitions += 1;
        for e in events {
            let name = format!("{e:?}");
            count(format!(
                "event: {}",
                &name[..name.find([' ', '{']).unwrap_or(name.len())]
            ));
        }
        // I6: a barred direction never produces a delivery.
        for e in events {
            if let Event::InvitationReceived {
                sender, recipient, ..
            } = e
            {
                assert!(
                    !self.bars.contains_key(&(sender.get(), recipient.get())),
                    "I6: {sender} -> {recipient} delivered after a bar: {e:?}"
                );
            }
        }
        self.check();
    }
}

/// A read's answer, its refusal on error.
pub(crate) fn read<T>(result: Result<T, Error>) -> Result<T, Refusal> {
    match result {
        Ok(v) => Ok(v),
        Err(Error::Refused(r)) => Err(r),
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

pub(crate) fn short_answer(answer: Answer) -> String {
    match answer {
        Answer::Ignore(reason) => format!("ignore {reason:?}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

pub(crate) fn real_member(id: u64, m: &MMember) -> Member {
    let profile = Profile::named(format!("Member {id}"));
    let base = if m.person {
        Member::person(mid(id), profile)
    } else {
        Member::company(mid(id), profile)
    };
    let tier = if m.premium {
        Tier::Premium(0)
    } else {
        Tier::Free
    };
    m.emails.iter().fold(
        base.with_tier(tier).with_invite_preference(m.preference),
        |member, e| member.with_email(Email::parse(e).unwrap(), true),
    )
}

/// SPEC.md's defaults with the case's limits, except that spam standing
/// (SPEC 5) never trips: its sample, report, private-signal floor and burst
/// thresholds are out of reach.
pub(crate) fn policy(limits: Limits) -> Policy {
    let mut standing = StandingPolicy::default();
    standing.min_sample = u32::MAX;
    standing.reports = u32::MAX;
    standing.private_signal_floor = u32::MAX;
    standing.burst_sends = u32::MAX;
    let per_window = |n: u32| Quota::new(n, TimeDelta::microseconds(WINDOW)).unwrap();
    // The model keeps one process-wide effective time through backward
    // jumps of up to a year and to the ends of time: the clock-skew check
    // is off here (tests/clock.rs covers it, and forward glitches).
    let mut builder = Policy::builder()
        .max_clock_skew(TimeDelta::MAX)
        .standing(standing)
        .invitation_quota(Tier::Free, per_window(limits.quota[0]))
        .invitation_quota(Tier::Premium(0), per_window(limits.quota[1]))
        .max_outstanding(limits.outstanding)
        .max_connections(limits.connections);
    if let Some([free, paid]) = limits.notes {
        // Both set: a paid level without its own allowance would inherit
        // Free's (`Policy::note_quota`), whatever the builder's docs say.
        builder = builder
            .note_quota(Tier::Free, Some(per_window(free)))
            .note_quota(Tier::Premium(0), Some(per_window(paid)));
    }
    builder.build().unwrap()
}

pub(crate) fn run_case(limits: Limits, setup: &[PersonSetup], ops: &[Op]) -> (u64, u64) {
    let mut world = World::new(limits, setup);
    for (step, op) in ops.iter().enumerate() {
        world.step = step;
        world.run(op);
    }
    (world.transitions, world.probes)
}
