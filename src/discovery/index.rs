//! The profile side of discovery: who works where, studied where, knows
//! what, belongs to which group, and which words describe them.

use super::{fold, words};
use crate::id::{GroupId, MemberId};
use crate::member::{Kind, Member};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::Arc;

/// The hasher of the index's maps (fast, and randomly seeded per map).
type Hasher = foldhash::fast::RandomState;

/// An interned folded word or value.
pub(crate) type Term = u32;

/// Folded words and values, interned once. Terms are never forgotten (their
/// number is bounded by the distinct words ever used). Each text is stored
/// once and shared: by a hash map for exact look-ups (every profile update
/// and query), by an ordered map in which the words starting with a prefix
/// are one range (typeahead, and a new word's one insertion), and by the
/// term's slot.
#[derive(Clone, Debug, Default)]
struct Vocabulary {
    ids: HashMap<Arc<str>, Term, Hasher>,
    ordered: BTreeMap<Arc<str>, Term>,
    text: Vec<Arc<str>>,
}

impl Vocabulary {
    fn intern(&mut self, word: &str) -> Term {
        if let Some(&t) = self.ids.get(word) {
            return t;
        }
        let t = Term::try_from(self.text.len()).unwrap_or(Term::MAX);
        let shared: Arc<str> = word.into();
        self.ids.insert(Arc::clone(&shared), t);
        self.ordered.insert(Arc::clone(&shared), t);
        self.text.push(shared);
        t
    }

    fn get(&self, word: &str) -> Option<Term> {
        self.ids.get(word).copied()
    }

    /// Every term whose text starts with `prefix`, in text order.
    fn starting_with<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = Term> + 'a {
        use std::ops::Bound;
        self.ordered
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(text, _)| text.starts_with(prefix))
            .map(|(_, &t)| t)
    }

    /// Approximate heap bytes.
    fn heap_bytes(&self) -> usize {
        let entry = size_of::<(Arc<str>, Term)>();
        self.ids.capacity() * (entry + 1)
            // A B-tree's nodes hold 6 to 11 entries: half again the entries.
            + self.ordered.len() * entry * 3 / 2
            // Each text once, with its two reference counts.
            + self.text.iter().map(|t| t.len() + 16).sum::<usize>()
            + self.text.capacity() * size_of::<Arc<str>>()
    }
}

/// One searchable person, as indexed. Every list is sorted and
/// deduplicated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Every word of the name, headline, location, schools and skills.
    pub(crate) words: Box<[Term]>,
    /// The words of the headline (for the title filter).
    pub(crate) headline: Box<[Term]>,
    /// The words of the location.
    pub(crate) location: Box<[Term]>,
    /// Folded schools, whole.
    pub(crate) schools: Box<[Term]>,
    /// Folded skills, whole.
    pub(crate) skills: Box<[Term]>,
    /// Current company pages.
    pub(crate) current: Box<[MemberId]>,
    /// Past company pages that are not also current.
    pub(crate) past: Box<[MemberId]>,
    /// Groups joined.
    pub(crate) groups: Box<[GroupId]>,
}

/// Sorted member lists by key.
#[derive(Clone, Debug)]
pub(crate) struct Postings<K>(HashMap<K, Vec<MemberId>, Hasher>);

impl<K> Default for Postings<K> {
    fn default() -> Self {
        Self(HashMap::default())
    }
}

impl<K: Hash + Eq + Copy> Postings<K> {
    /// The members listed under `key`, in id order.
    pub(crate) fn get(&self, key: K) -> &[MemberId] {
        self.0.get(&key).map_or(&[], Vec::as_slice)
    }

    fn insert(&mut self, key: K, member: MemberId) {
        let list = self.0.entry(key).or_default();
        if let Err(at) = list.binary_search(&member) {
            list.insert(at, member);
        }
    }

    fn remove(&mut self, key: K, member: MemberId) {
        if let Some(list) = self.0.get_mut(&key) {
            if let Ok(at) = list.binary_search(&member) {
                list.remove(at);
            }
            if list.is_empty() {
                self.0.remove(&key);
            }
        }
    }

    /// Moves `member` from the lists of `old` to those of `new`, touching
    /// only the keys in one and not the other. Both are sorted and
    /// deduplicated (as every [`Entry`] list is), so one merge pass finds
    /// the difference: linear in `old.len() + new.len()`, however long the
    /// profile.
    fn update(&mut self, member: MemberId, old: &[K], new: &[K])
    where
        K: Ord,
    {
        debug_assert!(old.windows(2).all(|w| w[0] < w[1]));
        debug_assert!(new.windows(2).all(|w| w[0] < w[1]));
        let (mut i, mut j) = (0, 0);
        while i < old.len() && j < new.len() {
            match old[i].cmp(&new[j]) {
                Ordering::Less => {
                    self.remove(old[i], member);
                    i += 1;
                }
                Ordering::Greater => {
                    self.insert(new[j], member);
                    j += 1;
                }
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
            }
        }
        for &k in &old[i..] {
            self.remove(k, member);
        }
        for &k in &new[j..] {
            self.insert(k, member);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.0.capacity() * (size_of::<(K, Vec<MemberId>)>() + 1)
            + self
                .0
                .values()
                .map(|l| l.capacity() * size_of::<MemberId>())
                .sum::<usize>()
    }
}

/// The discovery index: every active person's searchable profile and
/// groups, with member lists by word, school, skill, company and group.
///
/// Like the [`SocialGraph`](crate::SocialGraph), it is an index derived from
/// committed records ([`Member`] records and [`Memberships`](super::Memberships)),
/// rebuilt when the network opens and updated after each commit; every
/// update is idempotent. Company pages and deactivated members are not in
/// it. Memory is about one entry of a few hundred bytes per person plus
/// 8 bytes per (word, school, skill, company or group) of each profile.
///
/// ```
/// use pronet::discovery::DiscoveryIndex;
/// use pronet::{GroupId, Member, MemberId, Profile};
///
/// let mut index = DiscoveryIndex::new();
/// let mut profile = Profile::named("Ana Lima");
/// profile.skills = vec!["Rust".into()];
/// index.upsert(&Member::person(MemberId::new(1), profile));
/// index.set_groups(MemberId::new(1), [GroupId::new(7)]);
/// assert!(index.contains(MemberId::new(1)));
/// assert_eq!(index.len(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct DiscoveryIndex {
    vocabulary: Vocabulary,
    entries: HashMap<MemberId, Entry, Hasher>,
    people: BTreeSet<MemberId>,
    pub(crate) words: Postings<Term>,
    pub(crate) schools: Postings<Term>,
    pub(crate) skills: Postings<Term>,
    pub(crate) current: Postings<MemberId>,
    pub(crate) past: Postings<MemberId>,
    pub(crate) groups: Postings<GroupId>,
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Box<[T]> {
    v.sort_unstable();
    v.dedup();
    v.into_boxed_slice()
}

impl DiscoveryIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes `member`'s profile as it is now, replacing what was indexed
    /// for them before and keeping their groups. A company page or a
    /// deactivated member is removed instead.
    pub fn upsert(&mut self, member: &Member) {
        if !member.active || member.kind != Kind::Person {
            self.remove(member.id);
            return;
        }
        let p = &member.profile;
        let mut text_words = Vec::new();
        let mut headline = Vec::new();
        let mut location = Vec::new();
        for w in words(&p.display_name) {
            text_words.push(self.vocabulary.intern(&w));
        }
        for w in words(&p.headline) {
            headline.push(self.vocabulary.intern(&w));
        }
        for w in words(&p.location) {
            location.push(self.vocabulary.intern(&w));
        }
        let mut values = |list: &[String], text_words: &mut Vec<Term>| {
            let mut terms = Vec::new();
            for value in list {
                let folded = fold(value);
                if folded.is_empty() {
                    continue;
                }
                terms.push(self.vocabulary.intern(&folded));
                for w in words(&folded) {
                    text_words.push(self.vocabulary.intern(&w));
                }
            }
            sorted(terms)
        };
        let schools = values(&p.schools, &mut text_words);
        let skills = values(&p.skills, &mut text_words);
        text_words.extend(&headline);
        text_words.extend(&location);
        let current = sorted(p.current_companies.clone());
        let past = sorted(
            p.past_companies
                .iter()
                .copied()
                .filter(|c| current.binary_search(c).is_err())
                .collect(),
        );
        let old = self.entries.remove(&member.id).unwrap_or_default();
        let entry = Entry {
            words: sorted(text_words),
            headline: sorted(headline),
            location: sorted(location),
            schools,
            skills,
            current,
            past,
            groups: old.groups.clone(),
        };
        let id = member.id;
        self.words.update(id, &old.words, &entry.words);
        self.schools.update(id, &old.schools, &entry.schools);
        self.skills.update(id, &old.skills, &entry.skills);
        self.current.update(id, &old.current, &entry.current);
        self.past.update(id, &old.past, &entry.past);
        self.people.insert(id);
        self.entries.insert(id, entry);
    }

    /// Sets the groups of an indexed person (ignored for anyone else: only
    /// active persons join groups).
    pub fn set_groups(&mut self, member: MemberId, groups: impl IntoIterator<Item = GroupId>) {
        let Some(entry) = self.entries.get_mut(&member) else {
            return;
        };
        let groups = sorted(groups.into_iter().collect());
        self.groups.update(member, &entry.groups, &groups);
        entry.groups = groups;
    }

    /// Removes a member (deactivated, or not a person); `false` when they
    /// were not indexed.
    pub fn remove(&mut self, member: MemberId) -> bool {
        let Some(old) = self.entries.remove(&member) else {
            return false;
        };
        self.words.update(member, &old.words, &[]);
        self.schools.update(member, &old.schools, &[]);
        self.skills.update(member, &old.skills, &[]);
        self.current.update(member, &old.current, &[]);
        self.past.update(member, &old.past, &[]);
        self.groups.update(member, &old.groups, &[]);
        self.people.remove(&member);
        true
    }

    /// Whether `member` is an indexed (active) person.
    #[must_use]
    pub fn contains(&self, member: MemberId) -> bool {
        self.entries.contains_key(&member)
    }

    /// Number of indexed persons.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no person is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The groups of an indexed person, in id order.
    #[must_use]
    pub fn groups_of(&self, member: MemberId) -> &[GroupId] {
        self.entries.get(&member).map_or(&[], |e| &e.groups)
    }

    /// The indexed persons whose current company is `company`, in id order.
    #[must_use]
    pub fn employees(&self, company: MemberId) -> &[MemberId] {
        self.current.get(company)
    }

    /// Approximate heap bytes held, for the benchmark's report.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let entries = self.entries.capacity() * (size_of::<(MemberId, Entry)>() + 1)
            + self
                .entries
                .values()
                .map(|e| {
                    (e.words.len()
                        + e.headline.len()
                        + e.location.len()
                        + e.schools.len()
                        + e.skills.len())
                        * size_of::<Term>()
                        + (e.current.len() + e.past.len()) * size_of::<MemberId>()
                        + e.groups.len() * size_of::<GroupId>()
                })
                .sum::<usize>();
        let vocabulary = self.vocabulary.heap_bytes();
        entries
            + vocabulary
            + self.people.len() * size_of::<MemberId>() * 2
            + self.words.heap_bytes()
            + self.schools.heap_bytes()
            + self.skills.heap_bytes()
            + self.current.heap_bytes()
            + self.past.heap_bytes()
            + self.groups.heap_bytes()
    }

    pub(crate) fn entry(&self, member: MemberId) -> Option<&Entry> {
        self.entries.get(&member)
    }

    /// Every indexed person in id order, from just after `after`.
    pub(crate) fn people_after(
        &self,
        after: Option<MemberId>,
    ) -> impl Iterator<Item = MemberId> + '_ {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.people.range((from, Bound::Unbounded)).copied()
    }

    /// The term of a folded word or value, if any profile uses it.
    pub(crate) fn term(&self, folded: &str) -> Option<Term> {
        self.vocabulary.get(folded)
    }

    /// The terms whose folded text starts with `prefix`.
    pub(crate) fn terms_starting_with<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = Term> + 'a {
        self.vocabulary.starting_with(prefix)
    }

    /// The folded text of a term.
    pub(crate) fn text(&self, term: Term) -> &str {
        self.vocabulary.text.get(term as usize).map_or("", |t| t)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
        assert_eq!(e.current.as_ref(), &[MemberId::new(100)]);
        assert_eq!(e.past.as_ref(), &[MemberId::new(101)]);
        assert_eq!(e.skills.len(), 1);
        assert_eq!(e.schools.len(), 1);
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
}

/// Re-indexing is linear in the profile: the postings' update compares
/// keys a bounded number of times per key, counted exactly with a key type
/// that counts its comparisons. (The quadratic update this replaces made
/// about `old.len() * new.len()` comparisons: 25 million here.)
#[cfg(test)]
mod linear {
    use super::*;
    use std::cell::Cell;
    use std::cmp::Ordering;

    thread_local! {
        static COMPARISONS: Cell<u64> = const { Cell::new(0) };
    }

    fn counted() -> u64 {
        COMPARISONS.with(Cell::get)
    }

    fn tick() {
        COMPARISONS.with(|c| c.set(c.get() + 1));
    }

    #[derive(Clone, Copy, Debug)]
    struct Counted(u32);

    impl std::hash::Hash for Counted {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }

    impl PartialEq for Counted {
        fn eq(&self, other: &Self) -> bool {
            tick();
            self.0 == other.0
        }
    }
    impl Eq for Counted {}
    impl PartialOrd for Counted {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Counted {
        fn cmp(&self, other: &Self) -> Ordering {
            tick();
            self.0.cmp(&other.0)
        }
    }

    /// Comparisons made by one update from `old` to `new`, and the postings.
    fn update(n: u32) -> (u64, Postings<Counted>) {
        let member = MemberId::new(1);
        let old: Vec<Counted> = (0..n).map(|i| Counted(2 * i)).collect();
        // Half kept, half new.
        let new: Vec<Counted> = (0..n).map(|i| Counted(i + n)).collect();
        let mut postings = Postings::default();
        postings.update(member, &[], &old);
        let before = counted();
        postings.update(member, &old, &new);
        (counted() - before, postings)
    }

    #[test]
    fn reindexing_compares_linearly_in_the_profile() {
        let n = 5_000;
        let (at_n, postings) = update(n);
        // One merge step per key plus a hash lookup each: a few per key.
        assert!(at_n <= 8 * 2 * u64::from(n), "{at_n} comparisons at {n}");
        let (at_2n, _) = update(2 * n);
        assert!(at_2n <= 3 * at_n, "{at_2n} at 2n against {at_n} at n");
        // And the postings are exact: the new keys only.
        let mut keys: Vec<u32> = postings.0.keys().map(|k| k.0).collect();
        keys.sort_unstable();
        assert_eq!(keys, (n..2 * n).collect::<Vec<_>>());
        assert!(
            postings
                .0
                .values()
                .all(|l| l.as_slice() == [MemberId::new(1)])
        );
    }
}
