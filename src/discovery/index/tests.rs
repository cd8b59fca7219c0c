use super::*;
use crate::member::Profile;

fn profile() -> Profile {
    let mut p = Profile::named("Ana Lima");
    p.headline = "Senior Rust Engineer".into();
    p.location = "Lisbon, Portugal".into();
    p.current_companies = vec![MemberId::new(100), MemberId::new(100)];
    p.past_companies = vec![MemberId::new(100), MemberId::new(101)];
    p.schools = vec!["Técnico Lisboa".into(), " ".into()];
    p.skills = vec!["Rust".into(), "rust".into()];
    p
}

#[test]
fn upsert_update_and_remove_keep_postings_exact() {
    let mut index = DiscoveryIndex::new();
    let ana = MemberId::new(1);
    index.upsert(&Member::person(ana, profile()));
    index.set_groups(ana, [GroupId::new(3), GroupId::new(3)]);
    let e = index.entry(ana).cloned().unwrap_or_default();
    assert_eq!(e.current().iter().collect::<Vec<_>>(), [MemberId::new(100)]);
    assert_eq!(e.past().iter().collect::<Vec<_>>(), [MemberId::new(101)]);
    assert_eq!(e.skills().len(), 1);
    assert_eq!(e.schools().len(), 1);
    assert_eq!(index.employees(MemberId::new(100)), &[ana]);
    let rust = index.term("rust").unwrap_or(Term::MAX);
    assert_eq!(index.words.get(rust), &[ana]);
    assert_eq!(index.skills.get(rust), &[ana]);
    let lisboa = index.term("lisboa").unwrap_or(Term::MAX);
    assert_eq!(index.words.get(lisboa), &[ana]);

    // An update keeps the groups and moves the postings.
    let mut p = profile();
    p.current_companies = vec![MemberId::new(102)];
    index.upsert(&Member::person(ana, p));
    assert!(index.employees(MemberId::new(100)).is_empty());
    assert_eq!(index.past.get(MemberId::new(100)), &[ana]);
    assert_eq!(index.groups_of(ana), &[GroupId::new(3)]);
    assert_eq!(index.groups.get(GroupId::new(3)), &[ana]);

    // Re-applying is harmless; deactivation removes everything.
    let before = index.entry(ana).cloned();
    index.upsert(&Member::person(ana, index_profile_again()));
    index.upsert(&Member::person(ana, index_profile_again()));
    assert_ne!(index.entry(ana).cloned(), before);
    let mut gone = Member::person(ana, profile());
    gone.active = false;
    index.upsert(&gone);
    assert!(index.is_empty());
    assert!(index.words.0.is_empty() && index.groups.0.is_empty());
    assert!(index.current.0.is_empty() && index.past.0.is_empty());
    index.set_groups(ana, [GroupId::new(4)]);
    assert!(index.groups.0.is_empty());
}

#[test]
fn a_prefix_finds_exactly_the_words_it_starts() {
    let mut v = Vocabulary::default();
    for w in ["ru", "rust", "ruth", "rv", "r", "zoë", "zo", "ruße", "ar"] {
        v.intern(w);
    }
    let v = v;
    for prefix in ["ru", "r", "zo", "zoë", "ruß", "x", ""] {
        let mut got: Vec<&str> = v
            .starting_with(prefix)
            .map(|t| &*v.text[t as usize])
            .collect();
        let mut want: Vec<&str> = v
            .text
            .iter()
            .map(|t| &**t)
            .filter(|t| t.starts_with(prefix))
            .collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{prefix}");
    }
    assert_eq!(v.get("rust"), Some(1));
    assert_eq!(v.ordered.len(), v.ids.len());
}

fn index_profile_again() -> Profile {
    Profile::named("Ana")
}

#[test]
fn companies_are_not_indexed() {
    let mut index = DiscoveryIndex::new();
    index.upsert(&Member::company(MemberId::new(9), Profile::named("Acme")));
    assert!(index.is_empty());
    assert_eq!(index.people_after(None).count(), 0);
}
