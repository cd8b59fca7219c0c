//! The packed index against a naive model (A8: the index equals one rebuilt
//! from the records): after any sequence of upserts, group changes and
//! removals, the index built one update at a time and the one built in bulk
//! from the final records hold exactly the member lists, profiles and
//! persons a plain recomputation from the final records gives.

use super::super::fold;
use super::entry::WIDE;
use super::*;
use crate::member::Profile;
use proptest::prelude::*;
use std::collections::BTreeMap;

const WORDS: [&str; 6] = ["ana", "Rust", "node.js", "Zoë", "lisbon", "c++"];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS.to_vec()), 0..4).prop_map(|w| w.join(" "))
}

fn ids(range: std::ops::Range<u64>) -> impl Strategy<Value = Vec<MemberId>> {
    prop::collection::vec(range.prop_map(MemberId::new), 0..3)
}

fn profile() -> impl Strategy<Value = Profile> {
    (
        text(),
        text(),
        text(),
        ids(100..104),
        ids(100..104),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(text(), 0..3),
    )
        .prop_map(
            |(name, headline, location, current, past, schools, skills)| {
                let mut p = Profile::named(name);
                p.headline = headline;
                p.location = location;
                p.current_companies = current;
                p.past_companies = past;
                p.schools = schools;
                p.skills = skills;
                p
            },
        )
}

#[derive(Clone, Debug)]
enum Op {
    Upsert(Member),
    Groups(MemberId, Vec<GroupId>),
    Remove(MemberId),
}

fn op() -> impl Strategy<Value = Op> {
    let member = (0..8u64).prop_map(MemberId::new);
    prop_oneof![
        4 => (member.clone(), profile(), any::<bool>(), 0..6u8).prop_map(|(id, p, active, kind)| {
            let mut m = if kind == 0 { Member::company(id, p) } else { Member::person(id, p) };
            m.active = active || kind == 1;
            Op::Upsert(m)
        }),
        1 => (member.clone(), prop::collection::vec((0..4u64).prop_map(GroupId::new), 0..3))
            .prop_map(|(id, g)| Op::Groups(id, g)),
        1 => member.prop_map(Op::Remove),
    ]
}

/// What an index holds, with terms as their text.
#[derive(Debug, PartialEq, Eq, Default)]
struct Seen {
    words: BTreeMap<String, Vec<MemberId>>,
    schools: BTreeMap<String, Vec<MemberId>>,
    skills: BTreeMap<String, Vec<MemberId>>,
    current: BTreeMap<MemberId, Vec<MemberId>>,
    past: BTreeMap<MemberId, Vec<MemberId>>,
    groups: BTreeMap<GroupId, Vec<MemberId>>,
    headlines: BTreeMap<MemberId, Vec<String>>,
    people: Vec<MemberId>,
}

fn seen(index: &DiscoveryIndex) -> Seen {
    let texts = |p: &Postings<Term>| -> BTreeMap<String, Vec<MemberId>> {
        p.0.iter()
            .map(|(&t, l)| (index.text(t).to_owned(), l.clone()))
            .collect()
    };
    let plain = |p: &Postings<MemberId>| p.0.iter().map(|(&k, l)| (k, l.clone())).collect();
    let people: Vec<MemberId> = index.people_after(None).collect();
    assert_eq!(people.len(), index.len());
    Seen {
        words: texts(&index.words),
        schools: texts(&index.schools),
        skills: texts(&index.skills),
        current: plain(&index.current),
        past: plain(&index.past),
        groups: index
            .groups
            .0
            .iter()
            .map(|(&k, l)| (k, l.clone()))
            .collect(),
        headlines: people
            .iter()
            .map(|&m| {
                let e = index.entry(m).unwrap();
                let mut words: Vec<String> = e
                    .headline()
                    .iter()
                    .map(|&t| index.text(t).to_owned())
                    .collect();
                words.sort();
                (m, words)
            })
            .collect(),
        people,
    }
}

/// The naive recomputation from the final records.
fn expected(
    members: &BTreeMap<MemberId, Member>,
    groups: &BTreeMap<MemberId, Vec<GroupId>>,
) -> Seen {
    let mut out = Seen::default();
    let add = |map: &mut BTreeMap<String, Vec<MemberId>>, k: String, m: MemberId| {
        let l = map.entry(k).or_default();
        if !l.contains(&m) {
            l.push(m);
        }
    };
    for (&id, m) in members {
        if !m.active || m.kind != Kind::Person {
            continue;
        }
        let p = &m.profile;
        out.people.push(id);
        for t in [&p.display_name, &p.headline, &p.location]
            .into_iter()
            .chain(&p.schools)
            .chain(&p.skills)
        {
            for w in super::super::words(t) {
                add(&mut out.words, w, id);
            }
        }
        for v in &p.schools {
            let f = fold(v);
            if !f.is_empty() {
                add(&mut out.schools, f, id);
            }
        }
        for v in &p.skills {
            let f = fold(v);
            if !f.is_empty() {
                add(&mut out.skills, f, id);
            }
        }
        let mut headline: Vec<String> = super::super::words(&p.headline).collect();
        headline.sort();
        headline.dedup();
        out.headlines.insert(id, headline);
        for &c in &p.current_companies {
            let l = out.current.entry(c).or_default();
            if !l.contains(&id) {
                l.push(id);
            }
        }
        for &c in &p.past_companies {
            if !p.current_companies.contains(&c) {
                let l = out.past.entry(c).or_default();
                if !l.contains(&id) {
                    l.push(id);
                }
            }
        }
        for &g in groups.get(&id).into_iter().flatten() {
            let l = out.groups.entry(g).or_default();
            if !l.contains(&id) {
                l.push(id);
            }
        }
    }
    out
}

proptest! {
    #[test]
    fn a8_upserts_and_bulk_build_equal_the_model(ops in prop::collection::vec(op(), 0..40)) {
        let mut index = DiscoveryIndex::new();
        let mut members: BTreeMap<MemberId, Member> = BTreeMap::new();
        let mut groups: BTreeMap<MemberId, Vec<GroupId>> = BTreeMap::new();
        let mut records: Vec<Member> = Vec::new();
        for op in ops {
            match op {
                Op::Upsert(m) => {
                    index.upsert(&m);
                    if !m.active || m.kind != Kind::Person {
                        groups.remove(&m.id);
                    }
                    members.insert(m.id, m.clone());
                    records.push(m);
                }
                Op::Groups(id, g) => {
                    index.set_groups(id, g.iter().copied());
                    if members.get(&id).is_some_and(|m| m.active && m.kind == Kind::Person) {
                        let mut g = g;
                        g.sort();
                        g.dedup();
                        groups.insert(id, g);
                    }
                }
                Op::Remove(id) => {
                    index.remove(id);
                    if let Some(m) = members.get_mut(&id) {
                        m.active = false;
                        records.push(m.clone());
                    }
                    groups.remove(&id);
                }
            }
        }
        let want = expected(&members, &groups);
        prop_assert_eq!(&seen(&index), &want);
        // The bulk build from every record in order (later ones win),
        // then the groups.
        let mut bulk = DiscoveryIndex::build(&records);
        for (&id, g) in &groups {
            bulk.set_groups(id, g.iter().copied());
        }
        prop_assert_eq!(&seen(&bulk), &want);
        for &m in &want.people {
            prop_assert_eq!(bulk.groups_of(m), groups.get(&m).cloned().unwrap_or_default());
            prop_assert_eq!(index.groups_of(m), groups.get(&m).cloned().unwrap_or_default());
        }
    }
}

#[test]
fn a8_a_bulk_build_of_dense_ids_far_from_zero_keeps_the_direct_table() {
    // Ids 70,000 to 71,999: within four per member (and the table's
    // headroom) of 2,000 members, but not of the first one alone.
    let members: Vec<Member> = (0..2_000u64)
        .map(|i| Member::person(MemberId::new(70_000 + i), Profile::named("Ana")))
        .collect();
    let index = DiscoveryIndex::build(&members);
    assert!(matches!(index.slots, SlotTable::Direct(_)));
    assert_eq!(index.len(), 2_000);
    assert!(index.contains(MemberId::new(71_999)) && !index.contains(MemberId::new(69_999)));
}

#[test]
fn a8_long_lists_take_the_wide_header() {
    let mut p = Profile::named("Ana");
    p.skills = (0..300).map(|i| format!("skill{i}")).collect();
    p.current_companies = (0..200).map(|i| MemberId::new(1 << 40 | i)).collect();
    let ana = MemberId::new(1);
    let mut index = DiscoveryIndex::new();
    index.upsert(&Member::person(ana, p));
    index.set_groups(ana, (0..130).map(|g| GroupId::new(u64::MAX - g)));
    let e = index.entry(ana).unwrap();
    assert_eq!(e.0[0], WIDE);
    assert_eq!(e.skills().len(), 300);
    assert_eq!(e.current().iter().count(), 200);
    assert!(e.current().contains(MemberId::new(1 << 40 | 199)));
    assert_eq!(e.groups().iter().next(), Some(GroupId::new(u64::MAX - 129)));
    assert_eq!(index.text(e.name()[0]), "ana");
    assert_eq!(index.employees(MemberId::new(1 << 40 | 7)), &[ana]);
    // And an empty profile is still a person, with no allocation.
    let bo = MemberId::new(2);
    index.upsert(&Member::person(bo, Profile::named("")));
    assert!(index.contains(bo) && index.entry(bo).unwrap().0.is_empty());
    assert_eq!(index.len(), 2);
}
