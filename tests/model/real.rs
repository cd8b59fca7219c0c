//! The real network, read back.

use super::*;

// ---------------------------------------------------------------------------
// The real network, read back
// ---------------------------------------------------------------------------

pub(crate) fn refused<O>(result: Result<pronet::Committed<O>, Error>) -> Answered<O> {
    match result {
        Ok(c) => Ok((c.outcome, c.events)),
        Err(Error::Refused(r)) => Err(r),
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

pub(crate) fn status_of(status: Status) -> MStatus {
    match status {
        Status::Pending => MStatus::Pending,
        Status::Ignored(r) => MStatus::Ignored(r),
        Status::Accepted => MStatus::Accepted,
        Status::Rejected => MStatus::Rejected,
        Status::Withdrawn => MStatus::Withdrawn,
        Status::Superseded => MStatus::Superseded,
        Status::Expired => MStatus::Expired,
        Status::Cancelled => MStatus::Cancelled,
        other => panic!("unknown status {other:?}"),
    }
}

pub(crate) fn delivery_of(delivery: Delivery) -> MDelivery {
    match delivery {
        Delivery::Inbox => MDelivery::Inbox,
        Delivery::Held => MDelivery::Held,
        Delivery::Dropped => MDelivery::Dropped,
        other => panic!("unknown delivery {other:?}"),
    }
}

/// The stored status as the model holds it: an ignored invitation that a
/// dropped re-send closed for the sender alone is, to the sender,
/// superseded (or expired), with the recipient's ignore kept apart.
pub(crate) fn model_status(inv: &Invitation) -> (MStatus, Option<IgnoreReason>) {
    match inv.status {
        Status::EndedIgnored {
            reason,
            sender_sees,
        } => match sender_sees {
            Seen::Superseded => (MStatus::Superseded, Some(reason)),
            Seen::Cancelled => (MStatus::Cancelled, Some(reason)),
            _ => (MStatus::Expired, Some(reason)),
        },
        // Accepted by its recipient's crossing send after it ended for its
        // sender alone (`MInvitation::recipient_accepted`).
        Status::EndedAccepted { sender_sees } => match sender_sees {
            Seen::Superseded => (MStatus::Superseded, None),
            other => panic!("accepted after it ended as {other:?}"),
        },
        status => (status_of(status), None),
    }
}

/// The status as time has made it: open past the expiry is expired.
pub(crate) fn effective(status: MStatus, sent_at: i64, now: i64) -> MStatus {
    if status.is_open() && now >= plus(sent_at, EXPIRY) {
        MStatus::Expired
    } else {
        status
    }
}

/// What the store holds, decoded.
pub(crate) struct Snapshot {
    pub(crate) records: Vec<(Key, pronet::record::Versioned<Record>)>,
    pub(crate) invitations: BTreeMap<u64, Invitation>,
    pub(crate) members: BTreeMap<u64, Member>,
    pub(crate) connected: BTreeSet<(u64, u64)>,
    /// Every member's block list.
    pub(crate) blocks: BTreeMap<u64, BlockList>,
    /// (reporter, target) to reason and instant.
    pub(crate) reports: BTreeMap<(u64, u64), (ReportReason, i64)>,
    /// Each ledger's connection count.
    pub(crate) ledger_connections: BTreeMap<u64, u32>,
}

impl Snapshot {
    pub(crate) fn take(net: &Network<MemoryStore, ManualClock>) -> Self {
        let records = net.store().snapshot();
        let mut invitations = BTreeMap::new();
        let mut members = BTreeMap::new();
        let mut connected = BTreeSet::new();
        let mut blocks = BTreeMap::new();
        let mut reports = BTreeMap::new();
        let mut ledger_connections = BTreeMap::new();
        let block_records: Vec<_> = records
            .iter()
            .filter_map(|(_, v)| match &v.value {
                Record::Block(b) => Some(b),
                _ => None,
            })
            .collect();
        for b in &block_records {
            for m in [b.blocker, b.target] {
                blocks.insert(
                    m.get(),
                    BlockList::from_blocks(m, block_records.iter().copied()),
                );
            }
        }
        for (_, v) in &records {
            match &v.value {
                Record::Report(r) => {
                    reports.insert(
                        (r.reporter.get(), r.target.get()),
                        (r.reason, r.at.as_micros()),
                    );
                }
                Record::Ledger(l) => {
                    ledger_connections.insert(l.member.get(), l.connections);
                }
                Record::Invitation(i) => {
                    invitations.insert(i.id.get(), i.clone());
                }
                Record::Member(m) => {
                    members.insert(m.id.get(), m.clone());
                }
                Record::Pair(p) if p.connected_since.is_some() => {
                    connected.insert((p.key.low().get(), p.key.high().get()));
                }
                _ => {}
            }
        }
        Self {
            records,
            invitations,
            members,
            connected,
            blocks,
            reports,
            ledger_connections,
        }
    }

    /// Standing blocks, (blocker, blocked) to since, from the block lists.
    pub(crate) fn standing_blocks(&self) -> BTreeMap<(u64, u64), i64> {
        self.blocks
            .values()
            .flat_map(|b| {
                b.blocked
                    .iter()
                    .map(|(o, at)| ((b.member.get(), o.get()), at.as_micros()))
            })
            .collect()
    }

    /// Whether either blocked the other, from the block lists.
    pub(crate) fn between(&self, a: u64, b: u64) -> bool {
        self.blocks.get(&a).is_some_and(|l| l.hides(mid(b)))
    }

    /// Members hidden from `viewer`, from the viewer's block list.
    pub(crate) fn hidden(&self, viewer: u64) -> BTreeSet<u64> {
        self.blocks
            .get(&viewer)
            .map(|l| l.hidden().map(MemberId::get).collect())
            .unwrap_or_default()
    }

    /// Whether the ledger puts `m` at the connection cap.
    pub(crate) fn at_cap(&self, m: u64, cap: u32) -> bool {
        self.ledger_connections.get(&m).copied().unwrap_or(0) >= cap
    }

    /// Whether a dropped invitation from `s` to `r` stands for one that
    /// reached `r` and is still within its expiry: a send by `r` to `s`
    /// may then cross it (as the model decides), whatever became of the
    /// dropped one, so the probes of other rules leave such a pair alone.
    pub(crate) fn stands_for_known(&self, s: u64, r: u64, now: i64) -> bool {
        self.invitations.values().any(|i| {
            i.sender.get() == s
                && i.recipient.get() == r
                && i.delivery == Delivery::Dropped
                && i.recipient_knows.is_some_and(|k| {
                    self.invitations
                        .get(&k.get())
                        .is_some_and(|k| now < plus(k.sent_at.as_micros(), EXPIRY))
                })
        })
    }

    /// The live invitation from `s` to `r`, if any.
    pub(crate) fn live(&self, s: u64, r: u64, now: i64) -> Option<u64> {
        self.invitations
            .values()
            .find(|i| {
                i.sender.get() == s
                    && i.recipient.get() == r
                    && effective(model_status(i).0, i.sent_at.as_micros(), now).is_open()
            })
            .map(|i| i.id.get())
    }
}
