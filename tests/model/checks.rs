//! The checks on the real network after every transition, independent of the model's answers.

use super::*;

impl World {
    pub(crate) fn check(&mut self) {
        let now = self.model.now;
        assert_eq!(self.clock.now(), ts(self.model.clock));
        let snap = Snapshot::take(&self.net);

        // Every stored invitation equals the model's.
        assert_eq!(
            snap.invitations.keys().collect::<Vec<_>>(),
            self.model.invitations.keys().collect::<Vec<_>>(),
            "invitation ids"
        );
        for (id, inv) in &snap.invitations {
            let m = &self.model.invitations[id];
            let real = (
                inv.sender.get(),
                inv.recipient.get(),
                inv.note.as_ref().map(|n| n.as_str().to_owned()),
                inv.sent_at.as_micros(),
                model_status(inv),
                delivery_of(inv.delivery),
                inv.recipient_knows.map(|k| k.get()),
                matches!(inv.status, Status::EndedAccepted { .. }),
            );
            let model = (
                m.sender,
                m.recipient,
                m.note.clone(),
                m.sent_at,
                (m.status, m.kept_ignore),
                m.delivery,
                m.recipient_knows,
                m.recipient_accepted,
            );
            assert_eq!(real, model, "step {}: invitation {id}", self.step);
            // G3: only persons on either end.
            for end in [inv.sender, inv.recipient] {
                assert_eq!(snap.members[&end.get()].kind, Kind::Person, "G3: {inv:?}");
            }
        }
        assert_eq!(snap.connected, self.model.connections, "connections");
        self.check_blocks(&snap);
        self.check_quotas(&snap);

        // I1: at most one open invitation per unordered pair.
        let mut open_per_pair: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
        for (id, inv) in &snap.invitations {
            let status = effective(model_status(inv).0, inv.sent_at.as_micros(), now);
            if status.is_open() {
                open_per_pair
                    .entry(pair(inv.sender.get(), inv.recipient.get()))
                    .or_default()
                    .push(*id);
            }
        }
        for (p, ids) in &open_per_pair {
            assert!(ids.len() <= 1, "I1: {p:?} has open {ids:?}");
            // I2: none between connected members.
            assert!(
                !snap.connected.contains(p) && !self.net.graph().are_connected(mid(p.0), mid(p.1)),
                "I2: {p:?} connected with open {ids:?}"
            );
        }
        let graph = self.net.graph();
        for &a in &EVERYONE {
            for &b in &EVERYONE {
                let expected = a != b
                    && self.model.active(a)
                    && self.model.active(b)
                    && self.model.connected(a, b);
                assert_eq!(graph.are_connected(mid(a), mid(b)), expected, "{a}-{b}");
            }
        }
        drop(graph);

        // I5: closed stays closed.
        for (id, inv) in &snap.invitations {
            let status = effective(model_status(inv).0, inv.sent_at.as_micros(), now);
            let seen = self.history.entry(*id).or_default();
            if let Some(&last) = seen.last() {
                if !last.is_open() {
                    assert_eq!(status, last, "I5: invitation {id} changed after {seen:?}");
                }
            }
            if seen.last() != Some(&status) {
                seen.push(status);
            }
        }

        // Lists, for everyone.
        let all = PageSize::new(PageSize::MAX).unwrap();
        for &v in &EVERYONE {
            for which in [List::Inbox, List::Held, List::Sent] {
                let page = match which {
                    List::Inbox => self.net.inbox(mid(v), None, all),
                    List::Held => self.net.held(mid(v), None, all),
                    List::Sent => self.net.sent(mid(v), None, all),
                };
                let real: Result<Vec<Item>, Refusal> = match page {
                    Ok(p) => {
                        assert_eq!(p.next, None);
                        Ok(p.items
                            .into_iter()
                            .map(|l| {
                                (
                                    l.invitation.get(),
                                    l.other.get(),
                                    l.note.map(|n| n.as_str().to_owned()),
                                    l.sent_at.as_micros(),
                                    l.mutual_connections,
                                )
                            })
                            .collect())
                    }
                    Err(Error::Refused(r)) => Err(r),
                    Err(e) => panic!("{e:?}"),
                };
                let expected = self.model.list(v, which);
                assert_eq!(real, expected, "step {}: {which:?} of {v}", self.step);
                // B4: nobody hidden from the viewer is listed.
                let hidden = snap.hidden(v);
                for item in real.iter().flatten() {
                    assert!(!hidden.contains(&item.1), "B4: {v} lists {item:?}");
                }
                // I6: nothing from a "don't know"-barred sender after the bar.
                if let (Ok(items), List::Inbox | List::Held) = (&real, which) {
                    for item in items {
                        if let Some((MBar::DontKnow, newest)) = self.bars.get(&(item.1, v)) {
                            assert!(item.0 <= *newest, "I6: {item:?} listed for {v}");
                        }
                    }
                }
            }
        }

        // B4, counts included: each count is the length of the model's
        // list, and a viewer refused a list is refused the counts alike.
        for &v in &EVERYONE {
            let real = match self.net.invitation_counts(mid(v)) {
                Ok(c) => Ok([c.inbox, c.held, c.sent]),
                Err(Error::Refused(r)) => Err(r),
                Err(e) => panic!("{e:?}"),
            };
            let lengths = [List::Inbox, List::Held, List::Sent]
                .map(|which| self.model.list(v, which).map(|items| items.len()));
            let expected = match lengths {
                [Ok(inbox), Ok(held), Ok(sent)] => Ok([inbox, held, sent]),
                [Err(r), ..] | [_, Err(r), _] | [.., Err(r)] => Err(r),
            };
            assert_eq!(real, expected, "step {}: counts of {v}", self.step);
        }

        // I10 (and the views): only the two parties see an invitation.
        let ids: Vec<u64> = snap
            .invitations
            .keys()
            .copied()
            .chain([MISSING + 7])
            .collect();
        for &id in &ids {
            for &v in &EVERYONE {
                let real = match self.net.invitation(mid(v), iid(id)) {
                    Ok(view) => {
                        assert_eq!(view.id, iid(id));
                        Ok((
                            view.sender.get(),
                            view.recipient.get(),
                            view.note.map(|n| n.as_str().to_owned()),
                            view.sent_at.as_micros(),
                            view.seen,
                        ))
                    }
                    Err(Error::Refused(r)) => Err(r),
                    Err(e) => panic!("{e:?}"),
                };
                if let (Ok(_), Some(inv)) = (&real, snap.invitations.get(&id)) {
                    assert!(
                        v == inv.sender.get() || v == inv.recipient.get(),
                        "I10: {v} reads {id}"
                    );
                    // B4: no invitation with a member hidden from the viewer.
                    assert!(
                        !snap.between(inv.sender.get(), inv.recipient.get()),
                        "B4: {v} reads {id} across a block"
                    );
                }
                let expected = self.model.view(v, id);
                assert_eq!(real, expected, "step {}: {v} views {id}", self.step);
            }
        }

        // I3: anyone but the recipient answering, anyone but the sender
        // withdrawing, is told the invitation does not exist.
        for (&id, inv) in &snap.invitations {
            let (s, r) = (inv.sender.get(), inv.recipient.get());
            let outsiders: Vec<u64> = EVERYONE
                .iter()
                .copied()
                .filter(|&m| m != s && m != r)
                .collect();
            let outsider = outsiders[(self.step + id as usize) % outsiders.len()];
            let mut probes = vec![
                (Answer::Accept, s),
                (Answer::Ignore(IgnoreReason::DontKnow), s),
                (Answer::Reject, s),
                (Answer::Withdraw, r),
            ];
            for answer in [
                Answer::Accept,
                Answer::Ignore(IgnoreReason::Spam),
                Answer::Reject,
                Answer::Withdraw,
            ] {
                probes.push((answer, outsider));
            }
            for (answer, actor) in probes {
                assert_eq!(
                    self.run_answer(answer, actor, id),
                    Err(Refusal::InvitationNotFound(iid(id))),
                    "I3: {answer:?} by {actor} on {id} ({s} -> {r})"
                );
                self.probes += 1;
            }
        }

        // I6: "don't know" bars drop every later invitation; reject bars
        // refuse openly.
        for (&(s, r), &(bar, newest)) in &self.bars {
            match bar {
                MBar::DontKnow => {
                    for inv in snap.invitations.values().filter(|i| {
                        i.sender.get() == s && i.recipient.get() == r && i.id.get() > newest
                    }) {
                        assert_eq!(inv.delivery, Delivery::Dropped, "I6: {inv:?}");
                        // Unless the recipient accepted it by inviting the
                        // sender in turn, it does not exist for them.
                        let accepted = inv.status == Status::Accepted;
                        if !accepted && self.model.active(s) && self.model.active(r) {
                            assert_eq!(
                                self.net
                                    .invitation(mid(r), inv.id)
                                    .map_err(|e| e.refusal().cloned()),
                                Err(Some(Refusal::InvitationNotFound(inv.id))),
                                "I6: {r} sees {inv:?}"
                            );
                        }
                    }
                }
                MBar::Rejected => {
                    // Only where no earlier rule refuses: both active, no
                    // block, not connected, neither at the cap, no crossing.
                    let cap = self.model.limits.connections;
                    let graph = self.net.graph();
                    let probe = graph.contains(mid(s))
                        && graph.contains(mid(r))
                        && !graph.are_connected(mid(s), mid(r))
                        && !snap.between(s, r)
                        && !snap.at_cap(s, cap)
                        && !snap.at_cap(r, cap)
                        && snap.live(r, s, now).is_none()
                        && !snap.stands_for_known(r, s, now);
                    drop(graph);
                    if probe {
                        let proof = snap.members[&r].emails.first().map(|e| e.email.clone());
                        let real = self.net.send(
                            pronet::SendRequest::new(mid(s), mid(r)).maybe_proof(proof.as_ref()),
                        );
                        assert_eq!(
                            real.map(|c| c.outcome).map_err(|e| e.refusal().cloned()),
                            Err(Some(Refusal::Barred)),
                            "I6: {s} -> {r} after a reject"
                        );
                        self.probes += 1;
                    }
                }
            }
        }
        self.check_graph_reads(&snap);
        self.probe_blocks(&snap);
        // The probes changed nothing but the id counter.
        let after = self.net.store().snapshot();
        assert!(after == snap.records, "a probe wrote");
    }

    /// Block lists, reports and ledger counts against the model; B1 and
    /// B5 from the store alone.
    pub(crate) fn check_blocks(&mut self, snap: &Snapshot) {
        let standing = snap.standing_blocks();
        assert_eq!(standing, self.model.blocks, "step {}: blocks", self.step);
        for (&m, list) in &snap.blocks {
            for o in &list.blocked_by {
                assert!(
                    snap.blocks[&o.get()].blocked.contains_key(&mid(m)),
                    "{m} blocked by {o}, not in their list"
                );
            }
            for o in list.blocked.keys() {
                assert!(snap.blocks[&o.get()].blocked_by.contains(&mid(m)));
            }
        }
        let unblocked: BTreeMap<(u64, u64), i64> = snap
            .blocks
            .values()
            .flat_map(|b| {
                b.unblocked
                    .iter()
                    .map(|(o, at)| ((b.member.get(), o.get()), at.as_micros()))
            })
            .collect();
        assert_eq!(
            unblocked, self.model.unblocked,
            "step {}: unblocks",
            self.step
        );
        assert_eq!(
            snap.reports, self.model.reports,
            "step {}: reports",
            self.step
        );
        for &p in &PERSONS {
            let stored = snap.ledger_connections.get(&p).copied().unwrap_or(0);
            assert_eq!(
                stored as usize,
                self.model.connection_count(p),
                "step {}: {p}'s ledger",
                self.step
            );
        }

        // B1: nothing between two members blocked either way.
        let graph = self.net.graph();
        for &(a, b) in standing.keys() {
            assert!(
                !snap.connected.contains(&pair(a, b)) && !graph.are_connected(mid(a), mid(b)),
                "B1: {a} blocked {b}, still connected"
            );
            for inv in snap.invitations.values() {
                if pair(inv.sender.get(), inv.recipient.get()) == pair(a, b) {
                    // An invitation past its expiry stays as it was.
                    let live = inv.is_live(self.net.policy(), ts(self.model.now));
                    assert!(
                        !(model_status(inv).0.is_open() && live),
                        "B1: {a} blocked {b}, {inv:?} open"
                    );
                }
            }
        }
        drop(graph);

        // B5: a block goes only by its blocker's unblock.
        let blocks: BTreeSet<(u64, u64)> = standing.keys().copied().collect();
        for gone in self.last_blocks.difference(&blocks) {
            assert_eq!(
                self.unblocking,
                Some(*gone),
                "B5: step {}: block {gone:?} lifted",
                self.step
            );
        }
        self.last_blocks = blocks;
        self.unblocking = None;
    }

    /// Q1 and Q2 from the store alone.
    pub(crate) fn check_quotas(&mut self, snap: &Snapshot) {
        let limits = self.model.limits;
        // Q2: send instants never go back in id order, and no stored instant
        // lies beyond the latest clock reading.
        let mut last = TMIN;
        for inv in snap.invitations.values() {
            let at = inv.sent_at.as_micros();
            assert!(at >= last, "Q2: {inv:?} sent before {last}");
            last = at;
            let closed = inv.closed_at.map_or(TMIN, Timestamp::as_micros);
            assert!(at.max(closed) <= self.max_clock, "Q2: {inv:?}");
        }
        let instants = snap
            .blocks
            .values()
            .flat_map(|b| b.blocked.values().chain(b.unblocked.values()))
            .map(|t| t.as_micros())
            .chain(snap.reports.values().map(|r| r.1));
        for at in instants {
            assert!(at <= self.max_clock, "Q2: {at} stored");
        }
        // Q1: at each send, the sender's sends in the window up to it, and
        // those with a note, within the limits of the tier then.
        for inv in snap.invitations.values() {
            let id = inv.id.get();
            if id <= self.q1_checked {
                continue;
            }
            self.q1_checked = id;
            let premium = self.tier_at_send[&id];
            let from = minus(inv.sent_at.as_micros(), WINDOW);
            let window: Vec<&Invitation> = snap
                .invitations
                .values()
                .filter(|j| j.sender == inv.sender && j.id <= inv.id)
                .filter(|j| j.sent_at.as_micros() > from)
                .collect();
            assert!(
                window.len() <= limits.quota(premium) as usize,
                "Q1: {} sends up to {inv:?}",
                window.len()
            );
            if let (Some(_), Some(notes)) = (&inv.note, limits.notes(premium)) {
                let with_note = window.iter().filter(|j| j.note.is_some()).count();
                assert!(
                    with_note <= notes as usize,
                    "Q1: {with_note} notes up to {inv:?}"
                );
            }
        }
    }

    /// Degree and mutual count of everyone as everyone sees them, against
    /// the model; B4: a member hidden from the viewer is unknown to both.
    /// They are checked again whenever what they depend on changed in the
    /// store.
    pub(crate) fn check_graph_reads(&mut self, snap: &Snapshot) {
        let state = (
            snap.connected.clone(),
            snap.standing_blocks().into_keys().collect(),
            snap.members
                .values()
                .filter(|m| m.active)
                .map(|m| m.id.get())
                .collect(),
        );
        if self.graph_checked.as_ref() == Some(&state) {
            return;
        }
        self.graph_checked = Some(state);
        let unblocked = Model {
            blocks: BTreeMap::new(),
            ..self.model.clone()
        };
        for &v in &EVERYONE {
            let hidden = snap.hidden(v);
            let expected = self.model.graph_reads(v, &EVERYONE);
            if !hidden.is_empty() {
                // How often a block changes what the viewer sees of others.
                let open = unblocked.graph_reads(v, &EVERYONE);
                for o in EVERYONE.iter().filter(|o| !hidden.contains(o)) {
                    if expected[o] != open[o] {
                        count("graph: a block changes a degree or mutual count".to_owned());
                    }
                }
            }
            for &o in &EVERYONE {
                let real = (
                    read(self.net.degree(mid(v), mid(o))),
                    read(self.net.mutual_count(mid(v), mid(o))),
                );
                assert_eq!(
                    real, expected[&o],
                    "step {}: degree and mutual count of {o} for {v}",
                    self.step
                );
                if hidden.contains(&o) && self.model.active(v) {
                    let unknown = Some(Refusal::UnknownMember(mid(o)));
                    assert_eq!(real.0.err(), unknown, "B4: degree of {o} for {v}");
                    assert_eq!(real.1.err(), unknown, "B4: mutual count of {o} for {v}");
                }
            }
        }
    }

    /// B2 and B5: while a block stands, every operation between the two is
    /// refused as for a missing member (the blocker's send `YouBlocked`),
    /// and the blocked member cannot unblock. The caller checks that
    /// nothing was written.
    pub(crate) fn probe_blocks(&mut self, snap: &Snapshot) {
        let member = |m: u64| snap.members.get(&m).filter(|x| x.active);
        let active = |m: u64| member(m).is_some();
        let person = |m: u64| member(m).is_some_and(|x| x.kind == Kind::Person);
        let standing = snap.standing_blocks();
        for &(a, b) in standing.keys() {
            let one_way = !standing.contains_key(&(b, a));
            let unknown = |m: u64| Err(Refusal::UnknownMember(mid(m)));
            let mut probes: Vec<(String, Probed, Probed)> = vec![];
            let mut probe = |what: String, real: Result<Vec<Event>, Refusal>, want| {
                probes.push((what, real, want));
            };
            let send = |x: u64, y: u64| {
                refused(self.net.send(pronet::SendRequest::new(mid(x), mid(y)))).map(|(_, e)| e)
            };
            if person(b) {
                probe(format!("send {b} -> {a}"), send(b, a), unknown(a));
            }
            if person(a) && person(b) {
                let want = if one_way {
                    Err(Refusal::YouBlocked(mid(b)))
                } else {
                    unknown(b)
                };
                probe(format!("send {a} -> {b}"), send(a, b), want);
            }
            let remove = |x: u64, y: u64| {
                refused(self.net.remove_connection(mid(x), mid(y))).map(|(_, e)| e)
            };
            if active(a) {
                probe(format!("remove {a} - {b}"), remove(a, b), unknown(b));
            }
            if active(b) {
                probe(format!("remove {b} - {a}"), remove(b, a), unknown(a));
                let report = refused(self.net.report(mid(b), mid(a), ReportReason::Other));
                probe(
                    format!("report {b} -> {a}"),
                    report.map(|(_, e)| e),
                    unknown(a),
                );
                if one_way {
                    let unblock = refused(self.net.unblock(mid(b), mid(a)));
                    probe(
                        format!("B5: unblock {b} -> {a}"),
                        unblock.map(|(_, e)| e),
                        unknown(a),
                    );
                }
            }
            for inv in snap.invitations.values() {
                let (s, r) = (inv.sender.get(), inv.recipient.get());
                if pair(s, r) != pair(a, b) {
                    continue;
                }
                let id = inv.id.get();
                let not_found = Err(Refusal::InvitationNotFound(inv.id));
                for (answer, actor) in [
                    (Answer::Accept, r),
                    (Answer::Ignore(IgnoreReason::Ignored), r),
                    (Answer::Reject, r),
                    (Answer::Withdraw, s),
                ] {
                    let real = self.run_answer(answer, actor, id).map(|(_, e)| e);
                    probe(
                        format!("{answer:?} by {actor} on {id}"),
                        real,
                        not_found.clone(),
                    );
                }
            }
            for (what, real, want) in probes {
                assert_eq!(
                    real, want,
                    "B2: step {}: {a} blocked {b}: {what}",
                    self.step
                );
                self.probes += 1;
            }
        }
    }
}
