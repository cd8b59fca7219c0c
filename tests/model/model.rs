//! The naive model.

use super::*;

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub(crate) struct MMember {
    pub(crate) person: bool,
    pub(crate) active: bool,
    pub(crate) premium: bool,
    pub(crate) preference: InvitePreference,
    /// As written.
    pub(crate) emails: Vec<String>,
}

impl MMember {
    /// Member `id` after `Operation::Update`: the preference `p`, the tier
    /// (unchanged when `tier` is `None`), and a person's addresses (the
    /// primary one, and the alternative one when `alt`).
    pub(crate) fn update(&mut self, id: u64, p: InvitePreference, alt: bool, tier: Option<bool>) {
        self.preference = p;
        // A tier change keeps every earlier send in the window (Q4).
        self.premium = tier.unwrap_or(self.premium);
        if self.person {
            self.emails = vec![primary_address(id)];
            if alt {
                self.emails.push(alt_address(id));
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MStatus {
    Pending,
    Ignored(IgnoreReason),
    Accepted,
    Rejected,
    Withdrawn,
    Superseded,
    Expired,
    /// Removed by a block (SPEC 7).
    Cancelled,
}

impl MStatus {
    pub(crate) fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Ignored(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MDelivery {
    Inbox,
    Held,
    Dropped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MBar {
    Rejected,
    DontKnow,
}

#[derive(Clone, Debug)]
pub(crate) struct MInvitation {
    pub(crate) sender: u64,
    pub(crate) recipient: u64,
    pub(crate) note: Option<String>,
    pub(crate) sent_at: i64,
    pub(crate) status: MStatus,
    pub(crate) delivery: MDelivery,
    /// The re-send that superseded it.
    pub(crate) replaced_by: Option<u64>,
    /// The recipient's ignore, kept for the recipient when a re-send they
    /// never see (dropped after "I don't know") or a block ended it for
    /// the sender.
    pub(crate) kept_ignore: Option<IgnoreReason>,
    /// For a dropped re-send that replaced an earlier invitation: the
    /// sender's last invitation that reached the recipient, which to the
    /// recipient is still the sender's invitation (SPEC 3.4).
    pub(crate) recipient_knows: Option<u64>,
    /// The recipient accepted it by a crossing send after a dropped
    /// re-send ended it for the sender alone: the recipient sees it
    /// accepted, the sender superseded.
    pub(crate) recipient_accepted: bool,
}

/// One direction of a pair's history.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Direction {
    pub(crate) unanswered: u32,
    pub(crate) last_sent: Option<i64>,
    pub(crate) withdrawn_at: Option<i64>,
    pub(crate) bar: Option<MBar>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List {
    Inbox,
    Held,
    Sent,
}

/// What a list item shows: id, other party, note, sent at, mutual count.
pub(crate) type Item = (u64, u64, Option<String>, i64, usize);
/// What a view shows: sender, recipient, note, sent at, seen.
pub(crate) type View = (u64, u64, Option<String>, i64, Seen);
pub(crate) type Answered<O> = Result<(O, Vec<Event>), Refusal>;
/// A degree and a mutual count, as `Network::degree` and
/// `Network::mutual_count` answer them.
pub(crate) type GraphRead = (Result<Degree, Refusal>, Result<usize, Refusal>);
/// A probe's events, or its refusal.
pub(crate) type Probed = Result<Vec<Event>, Refusal>;
/// Connections, blocks and active members.
pub(crate) type GraphState = (BTreeSet<(u64, u64)>, BTreeSet<(u64, u64)>, BTreeSet<u64>);

#[derive(Clone, Debug, Default)]
pub(crate) struct Model {
    /// The clock, as the host set it.
    pub(crate) clock: i64,
    /// The effective time: the latest clock reading so far (SPEC 4: a clock
    /// that goes backwards never refills a quota or shortens a wait).
    pub(crate) now: i64,
    pub(crate) limits: Limits,
    pub(crate) members: BTreeMap<u64, MMember>,
    /// (owner, canonical address).
    pub(crate) contacts: BTreeSet<(u64, String)>,
    /// Ordered pairs; kept when a member is deactivated, as the store does.
    pub(crate) connections: BTreeSet<(u64, u64)>,
    pub(crate) invitations: BTreeMap<u64, MInvitation>,
    /// (sender, recipient) to that direction's history.
    pub(crate) directions: BTreeMap<(u64, u64), Direction>,
    /// (reporter, reported) to the reason and instant of the first report,
    /// counted once per reporter (SPEC 7): a spam answer's or a member
    /// report's.
    pub(crate) reports: BTreeMap<(u64, u64), (ReportReason, i64)>,
    /// (blocker, blocked) to when.
    pub(crate) blocks: BTreeMap<(u64, u64), i64>,
    /// (blocker, unblocked) to when the block was last lifted.
    pub(crate) unblocked: BTreeMap<(u64, u64), i64>,
    /// Each sender's successful sends: when, and whether with a note.
    pub(crate) sends: BTreeMap<u64, Vec<(i64, bool)>>,
    /// Pairs (low, high) whose last invitation is a dropped one its sender
    /// withdrew, which stands for one the recipient still knows: a
    /// crossing send by the recipient accepts that one while it is live.
    /// Until the next send, connection or block in the pair.
    pub(crate) withdrawn_dropped: BTreeMap<(u64, u64), u64>,
}

/// SPEC 4, naively: `None` if one more event fits at `now` among `events`
/// (at most `limit` in any window of `window`), or else the first instant
/// from which one does: the earliest exit of an event from the window after
/// which fewer than `limit` remain (the end of time if none).
pub(crate) fn quota_retry(events: &[i64], limit: u32, window: i64, now: i64) -> Option<i64> {
    let within = |at: i64| events.iter().filter(|&&t| t > minus(at, window)).count();
    if within(now) < limit as usize {
        return None;
    }
    let mut exits: Vec<i64> = events
        .iter()
        .map(|&t| plus(t, window))
        .filter(|&at| at > now)
        .collect();
    exits.sort_unstable();
    Some(
        exits
            .into_iter()
            .find(|&at| within(at) < limit as usize)
            .unwrap_or(TMAX),
    )
}

impl Model {
    pub(crate) fn active(&self, id: u64) -> bool {
        self.members.get(&id).is_some_and(|m| m.active)
    }

    /// The clock is set to `at`; the network reads it at once.
    pub(crate) fn set_clock(&mut self, at: i64) {
        self.clock = clamp(at);
        self.now = self.now.max(self.clock);
    }

    /// Whether either blocked the other.
    pub(crate) fn between(&self, a: u64, b: u64) -> bool {
        self.blocks.contains_key(&(a, b)) || self.blocks.contains_key(&(b, a))
    }

    /// Members hidden from `viewer`: blocked by or blocking them.
    pub(crate) fn hidden(&self, viewer: u64) -> BTreeSet<u64> {
        support::partners(self.blocks.keys(), viewer).collect()
    }

    /// Whether `viewer` may see `other`: active and not hidden by a block.
    pub(crate) fn sees(&self, viewer: u64, other: u64) -> bool {
        self.active(other) && !self.between(viewer, other)
    }

    /// Connections counted against the cap: deactivation does not end
    /// them (the store keeps them), removal and blocks do.
    pub(crate) fn connection_count(&self, m: u64) -> usize {
        self.connections
            .iter()
            .filter(|&&(x, y)| x == m || y == m)
            .count()
    }

    /// SPEC 2's connection cap, the sender's side first.
    pub(crate) fn below_cap(&self, first: u64, second: u64) -> Result<(), Refusal> {
        let cap = self.limits.connections;
        for m in [first, second] {
            if self.connection_count(m) >= cap as usize {
                return Err(Refusal::ConnectionCap {
                    member: mid(m),
                    cap,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn person(&self, id: u64) -> Result<MMember, Refusal> {
        match self.members.get(&id) {
            Some(m) if m.active && m.person => Ok(m.clone()),
            Some(m) if m.active => Err(Refusal::NotAPerson(mid(id))),
            _ => Err(Refusal::UnknownMember(mid(id))),
        }
    }

    pub(crate) fn connected(&self, a: u64, b: u64) -> bool {
        self.connections.contains(&pair(a, b))
    }

    /// Active connections of an active member.
    pub(crate) fn friends(&self, a: u64) -> BTreeSet<u64> {
        if !self.active(a) {
            return BTreeSet::new();
        }
        support::partners(&self.connections, a)
            .filter(|&o| self.active(o))
            .collect()
    }

    /// Connections `viewer` shares with `other`, as the viewer may see
    /// them (SPEC 2: a member hidden from the viewer carries no path).
    pub(crate) fn mutual(&self, viewer: u64, other: u64) -> usize {
        let hidden = self.hidden(viewer);
        self.friends(viewer)
            .intersection(&self.friends(other))
            .filter(|m| !hidden.contains(m))
            .count()
    }

    /// SPEC 2, for `viewer`: the degree and the mutual count of each of
    /// `others` as the viewer sees them (members hidden from the viewer, by
    /// a block either way, or by deactivation, are unknown and carry no
    /// path), by a plain breadth-first search to depth 3 and set
    /// intersections over the connection set.
    pub(crate) fn graph_reads(&self, viewer: u64, others: &[u64]) -> BTreeMap<u64, GraphRead> {
        if !self.active(viewer) {
            let unknown = Refusal::UnknownMember(mid(viewer));
            return others
                .iter()
                .map(|&o| (o, (Err(unknown.clone()), Err(unknown.clone()))))
                .collect();
        }
        let hidden = self.hidden(viewer);
        let seen = |m: u64| self.active(m) && !hidden.contains(&m);
        let mut links: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for &(x, y) in &self.connections {
            if seen(x) && seen(y) {
                links.entry(x).or_default().insert(y);
                links.entry(y).or_default().insert(x);
            }
        }
        let dist = support::distances(viewer, 3, |x| links.get(&x).into_iter().flatten().copied());
        let none = BTreeSet::new();
        let mine = links.get(&viewer).unwrap_or(&none);
        others
            .iter()
            .map(|&o| {
                if !seen(o) {
                    let unknown = Refusal::UnknownMember(mid(o));
                    return (o, (Err(unknown.clone()), Err(unknown)));
                }
                let degree = support::degree_at(dist.get(&o));
                let mutual = if o == viewer {
                    0
                } else {
                    mine.intersection(links.get(&o).unwrap_or(&none)).count()
                };
                (o, (Ok(degree), Ok(mutual)))
            })
            .collect()
    }

    pub(crate) fn live(&self, inv: &MInvitation) -> bool {
        inv.status.is_open() && self.now < plus(inv.sent_at, EXPIRY)
    }

    /// The pair's open invitation, found by scanning them all.
    pub(crate) fn open_between(&self, a: u64, b: u64) -> Option<u64> {
        let open: Vec<u64> = self
            .invitations
            .iter()
            .filter(|(_, i)| pair(i.sender, i.recipient) == pair(a, b) && i.status.is_open())
            .map(|(&id, _)| id)
            .collect();
        assert!(open.len() <= 1, "model: two open invitations {open:?}");
        open.first().copied()
    }

    pub(crate) fn direction(&self, sender: u64, recipient: u64) -> Direction {
        self.directions
            .get(&(sender, recipient))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn direction_mut(&mut self, sender: u64, recipient: u64) -> &mut Direction {
        self.directions.entry((sender, recipient)).or_default()
    }

    /// When the ladder and the cooldown next let `s` invite `r` (for
    /// choosing jump targets only; `send` decides), or `None` for never.
    pub(crate) fn earliest(&self, s: u64, r: u64) -> Option<i64> {
        let dir = self.direction(s, r);
        let wait = [0, WAIT_1, WAIT_2].get(dir.unanswered as usize)?;
        let ladder = dir.last_sent.map_or(TMIN, |t| plus(t, *wait));
        let cooldown = dir.withdrawn_at.map_or(TMIN, |t| plus(t, COOLDOWN));
        Some(ladder.max(cooldown))
    }

    pub(crate) fn seen_by_sender(&self, inv: &MInvitation) -> Seen {
        match inv.status {
            MStatus::Pending | MStatus::Ignored(_) if !self.live(inv) => Seen::Expired,
            MStatus::Pending | MStatus::Ignored(_) => Seen::Pending,
            MStatus::Accepted => Seen::Accepted,
            MStatus::Rejected => Seen::Rejected,
            MStatus::Withdrawn => Seen::Withdrawn,
            MStatus::Superseded => Seen::Superseded,
            MStatus::Expired => Seen::Expired,
            MStatus::Cancelled => Seen::Cancelled,
        }
    }

    /// `None`: the invitation does not exist for the recipient.
    pub(crate) fn seen_by_recipient(&self, inv: &MInvitation) -> Option<Seen> {
        // A dropped invitation never reaches the recipient, whatever became
        // of it (a crossing send accepts the one they know instead).
        if inv.delivery == MDelivery::Dropped {
            return None;
        }
        if inv.recipient_accepted {
            return Some(Seen::Accepted);
        }
        // A re-send the recipient never saw changes nothing they see.
        if inv.kept_ignore.is_some() {
            return Some(Seen::Ignored);
        }
        match inv.status {
            MStatus::Pending if !self.live(inv) => Some(Seen::Expired),
            MStatus::Pending if inv.delivery == MDelivery::Held => Some(Seen::Held),
            MStatus::Pending => Some(Seen::Pending),
            // What recipients see of an invitation they ignored once it
            // expires or the sender sends again is not written in the rules.
            // The code shows `Ignored` until a later send that reaches them
            // stores `Expired` or `Superseded` over it, and then `Expired` or
            // nothing (a dropped send or a block changes nothing:
            // `kept_ignore`); the model follows it, and I5 is checked on the
            // status as the sender sees it.
            MStatus::Ignored(_) => Some(Seen::Ignored),
            MStatus::Accepted => Some(Seen::Accepted),
            MStatus::Rejected => Some(Seen::Rejected),
            MStatus::Expired => Some(Seen::Expired),
            MStatus::Cancelled => Some(Seen::Cancelled),
            MStatus::Withdrawn | MStatus::Superseded => None,
        }
    }

    /// SPEC 3.1. `fresh` is the id the real network gave a new invitation.
    pub(crate) fn send(
        &mut self,
        s: u64,
        r: u64,
        note: NoteKind,
        proof: Option<&str>,
        fresh: Option<u64>,
    ) -> Answered<SendOutcome> {
        let sender = self.person(s)?;
        if s == r {
            return Err(Refusal::Yourself);
        }
        // 2. A member who blocked the sender does not exist for them (SPEC
        // 3.4), so this comes before the recipient's own checks; the
        // sender's own block comes after them (SPEC 3.1's order).
        if self.blocks.contains_key(&(r, s)) {
            return Err(Refusal::UnknownMember(mid(r)));
        }
        let recipient = self.person(r)?;
        if self.blocks.contains_key(&(s, r)) {
            return Err(Refusal::YouBlocked(mid(r)));
        }
        if self.connected(s, r) {
            return Err(Refusal::AlreadyConnected);
        }
        self.below_cap(s, r)?;
        // A crossing send connects before the bar, ladder and eligibility
        // checks (SPEC 3.1 says "instead"); its note goes nowhere, but an
        // invalid one is still refused.
        // A dropped re-send of the recipient's never crosses: the sender,
        // who never saw it, accepts the last invitation that reached them
        // while that one is live (SPEC 3.4: nothing they observe depends on
        // the dropped ones); the recipient sees their re-send accepted.
        let open = self.open_between(s, r);
        let via = open.or_else(|| self.withdrawn_dropped.get(&pair(s, r)).copied());
        if let Some(id) = via {
            let inv = &self.invitations[&id];
            if inv.sender == r && (self.live(inv) || inv.delivery == MDelivery::Dropped) {
                let known = if inv.delivery == MDelivery::Dropped {
                    inv.recipient_knows.filter(|k| {
                        let k = &self.invitations[k];
                        let open_to_them = match k.status {
                            MStatus::Pending | MStatus::Ignored(_) => true,
                            MStatus::Superseded => k.kept_ignore.is_some(),
                            _ => false,
                        };
                        k.delivery != MDelivery::Dropped
                            && open_to_them
                            && self.now < plus(k.sent_at, EXPIRY)
                    })
                } else {
                    Some(id)
                };
                if let Some(k) = known {
                    note.expected(sender.premium)?;
                    if k != id {
                        let known = self.invitations.get_mut(&k).unwrap();
                        known.recipient_accepted = true;
                        known.kept_ignore = None;
                    }
                    let events = if self.invitations[&id].status.is_open() {
                        self.connect(id)
                    } else {
                        // Withdrawn by its sender: it stays so, and
                        // nothing of theirs is accepted.
                        count("send: crossing through a withdrawn dropped invitation".to_owned());
                        self.withdrawn_dropped.remove(&pair(s, r));
                        self.connections.insert(pair(s, r));
                        for (a, b) in [(s, r), (r, s)] {
                            let dir = self.direction_mut(a, b);
                            *dir = Direction {
                                bar: dir.bar,
                                ..Direction::default()
                            };
                        }
                        vec![Event::ConnectionCreated {
                            a: mid(r),
                            b: mid(s),
                        }]
                    };
                    return Ok((SendOutcome::Connected { accepted: iid(k) }, events));
                }
            }
        }
        let dir = self.direction(s, r);
        if dir.bar == Some(MBar::Rejected) {
            return Err(Refusal::Barred);
        }
        let wait = match dir.unanswered {
            0 => 0,
            1 => WAIT_1,
            2 => WAIT_2,
            _ => return Err(Refusal::ResendNever),
        };
        let ladder = dir.last_sent.map(|t| plus(t, wait));
        let cooldown = dir.withdrawn_at.map(|t| plus(t, COOLDOWN));
        if let Some(retry) = ladder.max(cooldown) {
            if self.now < retry {
                return Err(Refusal::ResendTooSoon {
                    retry_at: ts(retry),
                });
            }
        }
        let knows_email =
            proof.is_some_and(|p| recipient.emails.iter().any(|e| canon(e) == canon(p)));
        let in_contacts = recipient
            .emails
            .iter()
            .any(|e| self.contacts.contains(&(s, canon(e))));
        if !(self.mutual(s, r) >= 1 || knows_email || in_contacts) {
            return Err(Refusal::NotEligible { required: 1 });
        }
        let admitted = match recipient.preference {
            InvitePreference::Anyone => true,
            InvitePreference::EmailOrContacts => knows_email || in_contacts,
            InvitePreference::ContactsOnly => in_contacts,
            other => panic!("unknown preference {other:?}"),
        };
        let note = note.expected(sender.premium)?;
        // 8. Standing never changes under this test's policy. The
        // outstanding cap counts the sender's live invitations to active
        // members (those to members since deactivated are invisible to the
        // sender, who can neither list nor withdraw them), less one the send
        // supersedes.
        let outstanding = self
            .invitations
            .values()
            .filter(|i| i.sender == s && self.live(i) && self.person(i.recipient).is_ok())
            .count();
        let superseding = open.is_some_and(|id| {
            let inv = &self.invitations[&id];
            inv.sender == s && self.live(inv)
        });
        let max = self.limits.outstanding;
        if outstanding - usize::from(superseding) >= max as usize {
            return Err(Refusal::TooManyOutstanding { max });
        }
        // The quotas count every earlier successful send (dropped and held
        // ones too), whatever the tier was then (Q4); crossing sends and
        // refusals are not among them (Q3).
        let sends = self.sends.get(&s).cloned().unwrap_or_default();
        let at: Vec<i64> = sends.iter().map(|&(t, _)| t).collect();
        let limit = self.limits.quota(sender.premium);
        if let Some(retry) = quota_retry(&at, limit, WINDOW, self.now) {
            return Err(Refusal::QuotaExhausted {
                retry_at: ts(retry),
            });
        }
        if let (Some(_), Some(notes)) = (&note, self.limits.notes(sender.premium)) {
            let with_note: Vec<i64> = sends.iter().filter(|e| e.1).map(|e| e.0).collect();
            if let Some(retry) = quota_retry(&with_note, notes, WINDOW, self.now) {
                return Err(Refusal::NoteQuotaExhausted {
                    retry_at: ts(retry),
                });
            }
        }
        let delivery = if dir.bar == Some(MBar::DontKnow) {
            MDelivery::Dropped
        } else if admitted {
            MDelivery::Inbox
        } else {
            MDelivery::Held
        };

        let id = fresh.expect("the model sent an invitation the network did not");
        assert!(
            !self.invitations.contains_key(&id) && id < MISSING,
            "invitation id {id} reused"
        );
        let mut supersedes = None;
        let mut recipient_knows = None;
        if let Some(w) = self.withdrawn_dropped.remove(&pair(s, r)) {
            let inv = &self.invitations[&w];
            if inv.sender == s && delivery == MDelivery::Dropped {
                recipient_knows = inv.recipient_knows;
            }
        }
        if let Some(old) = open.filter(|&o| self.invitations[&o].sender == r) {
            // The recipient's own invitation, not crossed: past its expiry
            // (their ignore stands), or dropped and live, superseded for
            // its sender and named to nobody.
            let live = self.live(&self.invitations[&old]);
            let inv = self.invitations.get_mut(&old).unwrap();
            if live {
                assert_eq!(inv.delivery, MDelivery::Dropped, "model: a live crossing");
                inv.status = MStatus::Superseded;
            } else {
                if let MStatus::Ignored(r) = inv.status {
                    inv.kept_ignore = Some(r);
                }
                inv.status = MStatus::Expired;
            }
        } else if let Some(old) = open {
            let live = self.live(&self.invitations[&old]);
            let inv = self.invitations.get_mut(&old).unwrap();
            if let (MStatus::Ignored(r), MDelivery::Dropped) = (inv.status, delivery) {
                inv.kept_ignore = Some(r);
            }
            if delivery == MDelivery::Dropped {
                recipient_knows = if inv.delivery == MDelivery::Dropped {
                    inv.recipient_knows
                } else {
                    Some(old)
                };
            }
            if live {
                assert_eq!(inv.sender, s, "model: the recipient's live invitation");
                inv.status = MStatus::Superseded;
                inv.replaced_by = Some(id);
                supersedes = Some(iid(old));
            } else {
                inv.status = MStatus::Expired;
            }
        }
        let now = self.now;
        let own = self.direction_mut(s, r);
        own.unanswered += 1;
        own.last_sent = Some(now);
        // "Unless the recipient invites the sender" (SPEC 3.3): a send the
        // recipient can see (delivered or held) counts; a dropped one must
        // change nothing the recipient can observe.
        if delivery != MDelivery::Dropped {
            self.direction_mut(r, s).unanswered = 0;
        }
        self.invitations.insert(
            id,
            MInvitation {
                sender: s,
                recipient: r,
                note: note.clone(),
                sent_at: now,
                status: MStatus::Pending,
                delivery,
                replaced_by: None,
                kept_ignore: None,
                recipient_knows,
                recipient_accepted: false,
            },
        );
        let mut events = vec![Event::InvitationSent {
            invitation: iid(id),
            sender: mid(s),
            recipient: mid(r),
            supersedes,
        }];
        let with_note = note.is_some();
        if delivery == MDelivery::Inbox {
            events.push(Event::InvitationReceived {
                invitation: iid(id),
                sender: mid(s),
                recipient: mid(r),
                note: note.map(|n| Note::parse(&n, 2_000).unwrap().unwrap()),
            });
        }
        let mine = self.sends.entry(s).or_default();
        mine.push((now, with_note));
        let at: Vec<i64> = mine.iter().map(|&(t, _)| t).collect();
        // The send that used the last slot says so (SPEC 6).
        if let Some(retry) = quota_retry(&at, limit, WINDOW, now) {
            events.push(Event::QuotaExhausted {
                member: mid(s),
                retry_at: ts(retry),
            });
        }
        Ok((SendOutcome::Sent(iid(id)), events))
    }

    pub(crate) fn connect(&mut self, id: u64) -> Vec<Event> {
        let inv = self.invitations.get_mut(&id).unwrap();
        inv.status = MStatus::Accepted;
        let (s, r) = (inv.sender, inv.recipient);
        self.connections.insert(pair(s, r));
        for (a, b) in [(s, r), (r, s)] {
            let dir = self.direction_mut(a, b);
            *dir = Direction {
                bar: dir.bar,
                ..Direction::default()
            };
        }
        vec![
            Event::InvitationAccepted {
                invitation: iid(id),
                sender: mid(s),
                recipient: mid(r),
            },
            Event::ConnectionCreated {
                a: mid(s),
                b: mid(r),
            },
        ]
    }

    /// The invitation as the acting recipient sees it, or not found.
    pub(crate) fn as_recipient(&self, actor: u64, id: u64) -> Result<Seen, Refusal> {
        let not_found = Refusal::InvitationNotFound(iid(id));
        let inv = self
            .invitations
            .get(&id)
            .filter(|i| i.recipient == actor)
            .ok_or(not_found.clone())?;
        // A party gone, or a block between them: it does not exist.
        if self.person(inv.sender).is_err()
            || self.person(inv.recipient).is_err()
            || self.between(inv.sender, inv.recipient)
        {
            return Err(not_found);
        }
        self.seen_by_recipient(inv)
            .ok_or_else(|| self.gone_for_recipient(id, inv))
    }

    /// What the recipient is told of an invitation that no longer exists
    /// for them: which re-send replaced it, when it reached them and so
    /// did the re-send; "not found" otherwise.
    pub(crate) fn gone_for_recipient(&self, id: u64, inv: &MInvitation) -> Refusal {
        let by = inv.replaced_by.filter(|by| {
            inv.status == MStatus::Superseded
                && inv.delivery != MDelivery::Dropped
                && self
                    .invitations
                    .get(by)
                    .is_some_and(|new| self.seen_by_recipient(new).is_some())
        });
        match by {
            Some(by) => Refusal::InvitationReplaced {
                invitation: iid(id),
                by: iid(by),
            },
            None => Refusal::InvitationNotFound(iid(id)),
        }
    }

    pub(crate) fn accept(&mut self, actor: u64, id: u64) -> Answered<()> {
        match self.as_recipient(actor, id)? {
            Seen::Pending | Seen::Held => {
                self.below_cap(self.invitations[&id].sender, actor)?;
                Ok(((), self.connect(id)))
            }
            Seen::Accepted => Ok(((), vec![])),
            seen => Err(Refusal::NotPending { seen }),
        }
    }

    pub(crate) fn ignore(&mut self, actor: u64, id: u64, reason: IgnoreReason) -> Answered<()> {
        let seen = self.as_recipient(actor, id)?;
        let inv = &self.invitations[&id];
        let earlier = match inv.status {
            MStatus::Ignored(r) => Some(r),
            _ => inv.kept_ignore,
        };
        match (seen, earlier) {
            (Seen::Pending | Seen::Held, _) => {}
            // A stronger answer to an ignored invitation applies (a plain
            // ignore later marked "I don't know", or reported); a weaker or
            // equal one is a repeat (the code's documented choice).
            (Seen::Ignored, Some(e)) if reason > e => {}
            (Seen::Ignored, _) => return Ok(((), vec![])),
            (seen, _) => return Err(Refusal::NotPending { seen }),
        }
        let inv = self.invitations.get_mut(&id).unwrap();
        if inv.kept_ignore.is_some() {
            inv.kept_ignore = Some(reason);
        } else {
            inv.status = MStatus::Ignored(reason);
        }
        let sender = inv.sender;
        if matches!(reason, IgnoreReason::DontKnow | IgnoreReason::Spam) {
            let dir = self.direction_mut(sender, actor);
            dir.bar = dir.bar.or(Some(MBar::DontKnow));
        }
        let mut events = vec![];
        // Spam is "I don't know" plus a report of the sender, recorded once
        // per reporter (SPEC 3.2 and 7).
        if reason == IgnoreReason::Spam && !self.reports.contains_key(&(actor, sender)) {
            let now = self.now;
            self.reports
                .insert((actor, sender), (ReportReason::Spam, now));
            events.push(Event::MemberReported {
                reporter: mid(actor),
                target: mid(sender),
            });
        }
        events.push(Event::InvitationIgnored {
            invitation: iid(id),
            recipient: mid(actor),
        });
        Ok(((), events))
    }

    pub(crate) fn reject(&mut self, actor: u64, id: u64) -> Answered<()> {
        match self.as_recipient(actor, id)? {
            Seen::Pending | Seen::Held => {}
            Seen::Rejected => return Ok(((), vec![])),
            seen => return Err(Refusal::NotPending { seen }),
        }
        let inv = self.invitations.get_mut(&id).unwrap();
        inv.status = MStatus::Rejected;
        let sender = inv.sender;
        self.direction_mut(sender, actor).bar = Some(MBar::Rejected);
        Ok((
            (),
            vec![Event::InvitationRejected {
                invitation: iid(id),
                sender: mid(sender),
                recipient: mid(actor),
                note: None,
            }],
        ))
    }

    pub(crate) fn withdraw(&mut self, actor: u64, id: u64) -> Answered<()> {
        let inv = self
            .invitations
            .get(&id)
            .filter(|i| i.sender == actor)
            .ok_or(Refusal::InvitationNotFound(iid(id)))?;
        // A party gone, or a block between them: the invitation does not
        // exist, as in the view and the sent list.
        if self.person(inv.sender).is_err()
            || self.person(inv.recipient).is_err()
            || self.between(inv.sender, inv.recipient)
        {
            return Err(Refusal::InvitationNotFound(iid(id)));
        }
        match self.seen_by_sender(inv) {
            Seen::Pending => {}
            Seen::Withdrawn => return Ok(((), vec![])),
            seen => return Err(Refusal::NotPending { seen }),
        }
        let recipient = inv.recipient;
        if inv.delivery == MDelivery::Dropped && inv.recipient_knows.is_some() {
            self.withdrawn_dropped.insert(pair(actor, recipient), id);
        }
        self.invitations.get_mut(&id).unwrap().status = MStatus::Withdrawn;
        let now = self.now;
        self.direction_mut(actor, recipient).withdrawn_at = Some(now);
        Ok((
            (),
            vec![Event::InvitationWithdrawn {
                invitation: iid(id),
                sender: mid(actor),
            }],
        ))
    }

    pub(crate) fn answer(&mut self, answer: Answer, actor: u64, id: u64) -> Answered<()> {
        match answer {
            Answer::Accept => self.accept(actor, id),
            Answer::Ignore(reason) => self.ignore(actor, id, reason),
            Answer::Reject => self.reject(actor, id),
            Answer::Withdraw => self.withdraw(actor, id),
        }
    }

    pub(crate) fn add_contacts(&mut self, owner: u64, addresses: &[String]) -> Answered<usize> {
        if !self.active(owner) {
            return Err(Refusal::UnknownMember(mid(owner)));
        }
        let new: BTreeSet<String> = addresses
            .iter()
            .map(|a| canon(a))
            .filter(|c| !self.contacts.contains(&(owner, c.clone())))
            .collect();
        let added = new.len();
        self.contacts.extend(new.into_iter().map(|c| (owner, c)));
        let events = if added > 0 {
            vec![Event::ContactsImported {
                owner: mid(owner),
                added,
            }]
        } else {
            vec![]
        };
        Ok((added, events))
    }

    pub(crate) fn update(
        &mut self,
        id: u64,
        preference: InvitePreference,
        alt_email: bool,
        premium: Option<bool>,
    ) -> Answered<()> {
        let member = self
            .members
            .get_mut(&id)
            .filter(|m| m.active)
            .ok_or(Refusal::UnknownMember(mid(id)))?;
        member.update(id, preference, alt_email, premium);
        Ok(((), vec![]))
    }

    pub(crate) fn deactivate(&mut self, id: u64) -> Answered<()> {
        let member = self
            .members
            .get_mut(&id)
            .ok_or(Refusal::UnknownMember(mid(id)))?;
        if !member.active {
            return Ok(((), vec![]));
        }
        member.active = false;
        Ok(((), vec![Event::MemberDeactivated { member: mid(id) }]))
    }

    /// `Network::erase`: the member is inactive, with no address, default
    /// settings; the notes of their invitations, their contacts, the blocks
    /// (and their lifts) and reports they made are gone; connections, pair
    /// histories and others' blocks and reports of them stay. No events.
    pub(crate) fn erase(&mut self, id: u64) -> Answered<()> {
        let member = self
            .members
            .get_mut(&id)
            .ok_or(Refusal::UnknownMember(mid(id)))?;
        member.active = false;
        member.premium = false;
        member.preference = InvitePreference::Anyone;
        member.emails.clear();
        self.contacts.retain(|(owner, _)| *owner != id);
        for inv in self.invitations.values_mut() {
            if inv.sender == id || inv.recipient == id {
                inv.note = None;
            }
        }
        self.blocks.retain(|(blocker, _), _| *blocker != id);
        self.unblocked.retain(|(blocker, _), _| *blocker != id);
        self.reports.retain(|(reporter, _), _| *reporter != id);
        Ok(((), vec![]))
    }

    /// SPEC 7 (as `block::block` documents it): the actor and the other
    /// member must exist; a member who blocked the actor is answered as
    /// missing, and nothing is recorded (B3); blocking a member already
    /// blocked changes nothing; re-blocking within 48
    /// hours of unblocking is refused; blocking removes the connection and
    /// cancels the open invitation between the two, either way. The pair's
    /// ladder, cooldowns and bars stay as they were (the code's choice:
    /// SPEC.md is silent).
    pub(crate) fn block(&mut self, actor: u64, other: u64) -> Answered<()> {
        if !self.active(actor) {
            return Err(Refusal::UnknownMember(mid(actor)));
        }
        if actor == other {
            return Err(Refusal::Yourself);
        }
        if !self.active(other) {
            return Err(Refusal::UnknownMember(mid(other)));
        }
        if self.blocks.contains_key(&(other, actor)) {
            return Err(Refusal::UnknownMember(mid(other)));
        }
        self.record_block(actor, other).map(|events| ((), events))
    }

    pub(crate) fn record_block(&mut self, actor: u64, other: u64) -> Result<Vec<Event>, Refusal> {
        if self.blocks.contains_key(&(actor, other)) {
            return Ok(vec![]);
        }
        if let Some(&at) = self.unblocked.get(&(actor, other)) {
            let retry = plus(at, REBLOCK);
            if self.now < retry {
                return Err(Refusal::ReblockTooSoon {
                    retry_at: ts(retry),
                });
            }
        }
        self.blocks.insert((actor, other), self.now);
        self.withdrawn_dropped.remove(&pair(actor, other));
        // A pending invitation is cancelled; one past its expiry (which both
        // parties already see as expired, I5) is recorded as expired.
        if let Some(id) = self.open_between(actor, other) {
            let live = self.live(&self.invitations[&id]);
            let inv = self.invitations.get_mut(&id).unwrap();
            // The recipient's ignore stands.
            if let MStatus::Ignored(r) = inv.status {
                inv.kept_ignore = Some(r);
            }
            inv.status = if live {
                MStatus::Cancelled
            } else {
                MStatus::Expired
            };
        }
        self.connections.remove(&pair(actor, other));
        Ok(vec![Event::MemberBlocked {
            blocker: mid(actor),
            blocked: mid(other),
        }])
    }

    /// SPEC 7: only the blocker unblocks; nothing is restored. A member
    /// hidden from the actor (deactivated, or who blocked the actor) is
    /// answered as missing, and nothing is recorded.
    pub(crate) fn unblock(&mut self, actor: u64, other: u64) -> Answered<()> {
        self.visible(actor, other, false)?;
        if !self.blocks.contains_key(&(actor, other)) {
            return Ok(((), vec![]));
        }
        self.blocks.remove(&(actor, other));
        self.unblocked.insert((actor, other), self.now);
        Ok((
            (),
            vec![Event::MemberUnblocked {
                blocker: mid(actor),
                unblocked: mid(other),
            }],
        ))
    }

    /// The actor is active and not naming themself; the other member is
    /// active and did not block the actor (nor, with `also_blocked`, was
    /// blocked by them).
    pub(crate) fn visible(
        &self,
        actor: u64,
        other: u64,
        also_blocked: bool,
    ) -> Result<(), Refusal> {
        if !self.active(actor) {
            return Err(Refusal::UnknownMember(mid(actor)));
        }
        if actor == other {
            return Err(Refusal::Yourself);
        }
        if !self.active(other)
            || self.blocks.contains_key(&(other, actor))
            || also_blocked && self.blocks.contains_key(&(actor, other))
        {
            return Err(Refusal::UnknownMember(mid(other)));
        }
        Ok(())
    }

    /// SPEC 7: recorded with its reason, once per reporter and target; the
    /// blocker may report whom they blocked.
    pub(crate) fn report(&mut self, actor: u64, other: u64, reason: ReportReason) -> Answered<()> {
        self.visible(actor, other, false)?;
        if self.reports.contains_key(&(actor, other)) {
            return Ok(((), vec![]));
        }
        self.reports.insert((actor, other), (reason, self.now));
        Ok((
            (),
            vec![Event::MemberReported {
                reporter: mid(actor),
                target: mid(other),
            }],
        ))
    }

    /// SPEC 7: either side, silently to the other; no bar.
    pub(crate) fn remove(&mut self, actor: u64, other: u64) -> Answered<()> {
        self.visible(actor, other, true)?;
        if !self.connections.remove(&pair(actor, other)) {
            return Ok(((), vec![]));
        }
        Ok((
            (),
            vec![Event::ConnectionRemoved {
                by: mid(actor),
                other: mid(other),
            }],
        ))
    }

    pub(crate) fn list(&self, viewer: u64, which: List) -> Result<Vec<Item>, Refusal> {
        if !self.active(viewer) {
            return Err(Refusal::UnknownMember(mid(viewer)));
        }
        let mut items: Vec<Item> = self
            .invitations
            .iter()
            .filter_map(|(&id, inv)| {
                let other = match which {
                    List::Inbox | List::Held => {
                        let want = if which == List::Inbox {
                            Seen::Pending
                        } else {
                            Seen::Held
                        };
                        (inv.recipient == viewer
                            && self.seen_by_recipient(inv) == Some(want)
                            && self.sees(viewer, inv.sender))
                        .then_some(inv.sender)
                    }
                    List::Sent => (inv.sender == viewer
                        && self.seen_by_sender(inv) == Seen::Pending
                        && self.sees(viewer, inv.recipient))
                    .then_some(inv.recipient),
                }?;
                Some((
                    id,
                    other,
                    inv.note.clone(),
                    inv.sent_at,
                    self.mutual(viewer, other),
                ))
            })
            .collect();
        items.sort_by_key(|i| std::cmp::Reverse((i.3, i.0)));
        Ok(items)
    }

    pub(crate) fn view(&self, viewer: u64, id: u64) -> Result<View, Refusal> {
        let not_found = Refusal::InvitationNotFound(iid(id));
        let inv = self.invitations.get(&id).ok_or(not_found.clone())?;
        if !(self.active(inv.sender) && self.active(inv.recipient))
            || self.between(inv.sender, inv.recipient)
        {
            return Err(not_found);
        }
        let seen = if viewer == inv.sender {
            self.seen_by_sender(inv)
        } else if viewer == inv.recipient {
            self.seen_by_recipient(inv)
                .ok_or_else(|| self.gone_for_recipient(id, inv))?
        } else {
            return Err(not_found);
        };
        Ok((
            inv.sender,
            inv.recipient,
            inv.note.clone(),
            inv.sent_at,
            seen,
        ))
    }

    /// Resolves a target to an invitation id (or a missing one).
    pub(crate) fn resolve(&self, target: Target) -> u64 {
        let ids: Vec<u64> = self.invitations.keys().copied().collect();
        match target {
            _ if ids.is_empty() => MISSING,
            Target::Recent(n) => ids[ids.len() - 1 - n % ids.len()],
            Target::Any(n) => ids[n % ids.len()],
            Target::Missing(k) => MISSING + k,
        }
    }
}
