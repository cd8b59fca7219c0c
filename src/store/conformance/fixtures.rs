//! Records and writes the clauses build on, and a snapshot of what a store
//! reads back.

use super::*;

pub(super) fn id(raw: u64) -> MemberId {
    MemberId::new(raw)
}

pub(super) fn pair_key(a: u64, b: u64) -> PairKey {
    PairKey::new(id(a), id(b)).unwrap()
}

pub(super) fn member(raw: u64, name: &str) -> Record {
    Record::Member(Member::person(id(raw), Profile::named(name)))
}

pub(super) fn invitation(raw: u64, sender: u64, recipient: u64, status: Status) -> Record {
    Record::Invitation(Invitation {
        id: InvitationId::new(raw),
        sender: id(sender),
        recipient: id(recipient),
        note: None,
        sent_at: Timestamp::from_micros(1_700_000_000_000_000),
        status,
        delivery: Delivery::Inbox,
        closed_at: None,
        decline_note: None,
        replaced_by: None,
        recipient_knows: None,
    })
}

pub(super) fn pair(a: u64, b: u64, connected: bool) -> Record {
    let mut state = PairState::new(pair_key(a, b));
    if connected {
        state.connected_since = Some(Timestamp::from_micros(1_700_000_000_000_000));
    }
    Record::Pair(state)
}

pub(super) fn ledger(raw: u64, connections: u32) -> Record {
    let mut ledger = Ledger::new(id(raw));
    ledger.connections = connections;
    Record::Ledger(ledger)
}

/// `blocker`'s block record of `target`: standing, or lifted.
pub(super) fn block(blocker: u64, target: u64, standing: bool) -> Record {
    let mut b = Block::new(id(blocker), id(target));
    if standing {
        b.since = Some(Timestamp::from_micros(i64::try_from(target).unwrap_or(0)));
    } else {
        b.unblocked = Some(Timestamp::MAX);
    }
    Record::Block(b)
}

pub(super) fn contact(owner: u64, address: &str) -> Record {
    Record::Contact(Contact::new(
        id(owner),
        Email::parse(address).unwrap(),
        Timestamp::UNIX_EPOCH,
    ))
}

pub(super) fn absent(record: Record) -> Write {
    Write {
        expect: Expect::Absent,
        change: Change::Put(record),
    }
}

pub(super) fn at(version: u64, record: Record) -> Write {
    Write {
        expect: Expect::At(Version(version)),
        change: Change::Put(record),
    }
}

/// Writes `record` over whatever is stored under its key.
pub(super) fn put<S: Store>(store: &S, record: Record) -> Version {
    let read = store.get(&record.key()).unwrap();
    let write = Write::replacing(read.as_ref(), record.clone());
    store.commit(&[write]).unwrap();
    let stored = store.get(&record.key()).unwrap().unwrap();
    assert_eq!(
        stored.value, record,
        "clause 4: get returns what was written"
    );
    stored.version
}

pub(super) fn conflict_key(result: Result<(), CommitError>, clause: &str) -> Key {
    match result {
        Err(CommitError::Conflict(key)) => key,
        other => panic!("{clause}: expected CommitError::Conflict, got {other:?}"),
    }
}

/// Everything a reader can see, for "nothing changed" checks.
#[derive(Debug, PartialEq)]
pub(super) struct Seen {
    records: Vec<Option<Versioned<Record>>>,
    open: Vec<Vec<InvitationId>>,
    members: Vec<MemberId>,
    connections: Vec<PairKey>,
    cursor: ChangeCursor,
}

pub(super) fn seen<S: Store>(store: &S, keys: &[Key], people: &[u64]) -> Seen {
    let mut open = Vec::new();
    for &p in people {
        for role in [Role::Sender, Role::Recipient] {
            let mut ids: Vec<_> = store
                .open_invitations(id(p), role)
                .unwrap()
                .into_iter()
                .map(|i| i.id)
                .collect();
            ids.sort();
            open.push(ids);
        }
    }
    let mut members: Vec<_> = store.members().unwrap().into_iter().map(|m| m.id).collect();
    members.sort();
    let mut connections = store.connections().unwrap();
    connections.sort();
    Seen {
        records: keys.iter().map(|k| store.get(k).unwrap()).collect(),
        open,
        members,
        connections,
        cursor: store.change_cursor().unwrap(),
    }
}

/// The records of a feed page that has no deletions.
pub(super) fn puts(changes: Vec<Versioned<Change>>) -> Vec<Versioned<Record>> {
    changes
        .into_iter()
        .map(|c| match c.value {
            Change::Put(record) => Versioned {
                version: c.version,
                value: record,
            },
            Change::Delete(key) => panic!("clause 7: an unexpected deletion of {key:?}"),
        })
        .collect()
}
