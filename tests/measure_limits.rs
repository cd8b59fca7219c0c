//! Release-mode measurements for issue #11 item 6: `cargo test --release --all-features --test measure_limits -- --ignored --nocapture`. They print wall-clock figures and assert nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pronet::discovery::DiscoveryIndex;
use pronet::{ManualClock, Member, MemberId, MemoryStore, Network, Policy, Profile};
use std::time::Instant;
use support::T0;

#[test]
#[ignore = "measurement, run in release"]
fn measure_reindex_200k_word_profile() {
    let mut index = DiscoveryIndex::new();
    let id = MemberId::new(1);
    let words = |from: usize| {
        (from..from + 200_000)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut p = Profile::named("Big");
    p.headline = words(0);
    index.upsert(&Member::person(id, p.clone()));
    p.headline = words(100_000);
    let t = Instant::now();
    index.upsert(&Member::person(id, p));
    println!("re-index of a 200k-word profile: {:?}", t.elapsed());
}

#[test]
#[ignore = "measurement, run in release"]
fn measure_10k_blockers_of_one_member() {
    let n = 10_000u64;
    let policy = Policy::default();
    let net = Network::open(MemoryStore::new(), ManualClock::new(T0), policy).unwrap();
    let famous = MemberId::new(0);
    for i in 0..=n {
        let _ = net
            .register(Member::person(
                MemberId::new(i),
                Profile::named(format!("M{i}")),
            ))
            .unwrap();
    }
    let t = Instant::now();
    for i in 1..=n {
        let _ = net.block(MemberId::new(i), famous).unwrap();
    }
    println!("{n} blockers of one member: {:?}", t.elapsed());
}
