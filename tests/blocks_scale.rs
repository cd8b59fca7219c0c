//! Blocks at scale (issue #11 item 6): a member blocked by very many others
//! costs each new blocker the same, and the limit on how many members one
//! member may block holds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::change::Write;
use pronet::store::Role;
use pronet::{
    CommitError, Degree, ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile,
    Refusal, Store,
};
use std::sync::Mutex;
use support::{T0, Watch, Watched, refusal};

/// Records, for every successful commit, how many records it wrote and
/// their size as JSON.
#[derive(Default)]
struct Sizes(Mutex<Vec<(usize, usize)>>);

impl Watch for Sizes {
    fn committed(&self, writes: &[Write], result: &Result<(), CommitError>) {
        if result.is_ok() {
            let bytes = writes
                .iter()
                .map(|w| serde_json::to_vec(&w.change).unwrap().len())
                .sum();
            self.0.lock().unwrap().push((writes.len(), bytes));
        }
    }
}

/// A [`MemoryStore`] measuring its commits.
type Measuring = Watched<MemoryStore, Sizes>;

/// (records, bytes) of the last successful commit.
fn last_commit(store: &Measuring) -> (usize, usize) {
    *store.watch.0.lock().unwrap().last().unwrap()
}

/// Members 0 (the famous one) to `n`, registered; ids have the same
/// number of digits from 1,000 on, so record sizes compare exactly.
fn network(n: u64, policy: Policy) -> Network<Measuring, ManualClock> {
    let net = Network::open(
        Watched::new(MemoryStore::new(), Sizes::default()),
        ManualClock::new(T0),
        policy,
    )
    .unwrap();
    for i in [0].into_iter().chain(1_000..1_000 + n) {
        let m = Member::person(MemberId::new(i), Profile::named(format!("M{i}")));
        let _ = net.register(m).unwrap();
    }
    net
}

/// A member blocked by 4,000 others: every block writes the same number
/// of records of the same size, the 4,000th as the first (before, each
/// block rewrote the target's whole list of blockers: the 4,000th wrote
/// about 4,000 ids more than the first). Every block still holds both ways.
#[test]
fn many_blockers_of_one_member_write_constant_bytes_per_block() {
    let n = 4_000;
    let famous = MemberId::new(0);
    let net = network(n, Policy::default());
    let mut written = Vec::new();
    for i in 1_000..1_000 + n {
        let _ = net.block(MemberId::new(i), famous).unwrap();
        written.push(last_commit(net.store()));
    }
    let first = written[0];
    assert!(first.0 <= 4, "a block writes {} records", first.0);
    for (k, w) in written.iter().enumerate() {
        assert_eq!(*w, first, "block {k} wrote {w:?}, the first {first:?}");
    }
    // At n and 2n alike: the bytes of the blocks made last equal the first.
    assert_eq!(written[(n / 2) as usize - 1], written[n as usize - 1]);

    // Both ways, through the secondary read and every read.
    let blockers = net.store().blocks(famous, Role::Recipient).unwrap();
    assert_eq!(blockers.len(), n as usize);
    assert!(net.store().blocks(famous, Role::Sender).unwrap().is_empty());
    for i in [1_000, 1_000 + n / 2, 1_000 + n - 1] {
        let m = MemberId::new(i);
        support::refusals! {
            net.degree(famous, m) => Refusal::UnknownMember(m),
            net.degree(m, famous) => Refusal::UnknownMember(famous),
            net.block(famous, m) => Refusal::UnknownMember(m),
        }
    }
    // The famous member's own block of someone else is as small.
    let _ = net
        .register(Member::person(MemberId::new(9_999), Profile::named("Z")))
        .unwrap();
    let _ = net.block(famous, MemberId::new(9_999)).unwrap();
    assert!(last_commit(net.store()).1 <= first.1 + 64);
}

/// `max_blocks` counts the standing blocks of one member: at the limit the
/// next block is refused, and an unblock frees a place.
#[test]
fn max_blocks_counts_standing_blocks() {
    let policy = Policy::builder().max_blocks(3).build().unwrap();
    let net = network(6, policy);
    let actor = MemberId::new(0);
    for i in 1_000..1_003 {
        let _ = net.block(actor, MemberId::new(i)).unwrap();
    }
    // Blocking one already blocked answers the same, at the limit too.
    let _ = net.block(actor, MemberId::new(1_000)).unwrap();
    assert_eq!(
        refusal(net.block(actor, MemberId::new(1_003))),
        Refusal::TooManyBlocks { max: 3 }
    );
    // Blocks of the actor by others do not count.
    let _ = net.block(MemberId::new(1_004), actor).unwrap();
    let _ = net.unblock(actor, MemberId::new(1_001)).unwrap();
    let _ = net.block(actor, MemberId::new(1_003)).unwrap();
    assert_eq!(
        refusal(net.block(actor, MemberId::new(1_005))),
        Refusal::TooManyBlocks { max: 3 }
    );
    assert_eq!(net.store().blocks(actor, Role::Sender).unwrap().len(), 3);
    assert_eq!(
        net.degree(actor, MemberId::new(1_001)).unwrap(),
        Degree::OutOfNetwork
    );
}
