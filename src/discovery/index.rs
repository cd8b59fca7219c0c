//! The profile side of discovery: who works where, studied where, knows
//! what, belongs to which group, and which words describe them.

use super::fold_into;
use crate::graph::index::Slot;
use crate::graph::slots::SlotTable;
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
/// term's slot. A whole value (a school or a skill) also keeps its words,
/// so that a profile stores each value once and its words are found from it.
#[derive(Clone, Debug, Default)]
struct Vocabulary {
    ids: HashMap<Arc<str>, Term, Hasher>,
    ordered: BTreeMap<Arc<str>, Term>,
    text: Vec<Arc<str>>,
    /// The words of each term used as a whole value; `None` for a term
    /// only ever used as a word.
    parts: Vec<Option<Box<[Term]>>>,
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
        self.parts.push(None);
        t
    }

    /// Interns a folded whole value and its words.
    fn intern_value(&mut self, folded: &str) -> Term {
        let t = self.intern(folded);
        if self.parts.get(t as usize).is_some_and(Option::is_none) {
            let mut parts = Vec::new();
            for_each_word(folded, &mut String::new(), |w| parts.push(self.intern(w)));
            parts.sort_unstable();
            parts.dedup();
            if let Some(slot) = self.parts.get_mut(t as usize) {
                *slot = Some(parts.into_boxed_slice());
            }
        }
        t
    }

    /// The words of a whole value.
    fn parts(&self, t: Term) -> &[Term] {
        self.parts
            .get(t as usize)
            .and_then(Option::as_deref)
            .unwrap_or(&[])
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
            + self.text.iter().map(|t| allocated(t.len() + 16)).sum::<usize>()
            + self.text.capacity() * size_of::<Arc<str>>()
            + self.parts.capacity() * size_of::<Option<Box<[Term]>>>()
            + self
                .parts
                .iter()
                .flatten()
                .map(|p| allocated(p.len() * size_of::<Term>()))
                .sum::<usize>()
    }
}

/// What an allocation of `bytes` costs on the heap: a general-purpose
/// allocator (glibc's) adds an 8-byte header, rounds to 16 bytes and hands
/// out at least 32.
fn allocated(bytes: usize) -> usize {
    if bytes == 0 {
        0
    } else {
        (bytes + 8).div_ceil(16).max(2) * 16
    }
}

/// Calls `f` with each word of `text` (the words of [`words`](super::words),
/// without an allocation per word), folding into `buffer`.
fn for_each_word(text: &str, buffer: &mut String, mut f: impl FnMut(&str)) {
    use unicode_segmentation::UnicodeSegmentation;
    fold_into(text, buffer);
    for w in buffer.unicode_words() {
        f(w);
    }
}

mod entry;
pub(crate) use entry::Entry;

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
        // Members usually arrive in id order (a rebuild, a new member):
        // then the insertion is a push.
        if list.last().is_none_or(|&last| last < member) {
            list.push(member);
        } else if let Err(at) = list.binary_search(&member) {
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

    /// Gives back the lists' spare capacity (after a bulk build).
    fn shrink(&mut self) {
        for list in self.0.values_mut() {
            list.shrink_to_fit();
        }
        self.0.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        self.0.capacity() * (size_of::<(K, Vec<MemberId>)>() + 1)
            + self
                .0
                .values()
                .map(|l| allocated(l.capacity() * size_of::<MemberId>()))
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
/// it. Memory is about 100 bytes per person (one packed profile of 4 bytes
/// per word, school and skill and 8 per company and group, and its place in
/// the id table and the ordered set of persons) plus 8 bytes per word,
/// school, skill, company or group of each profile in the member lists:
/// about 250 bytes per person for profiles of a dozen words.
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
    /// Member to position in `entries` (positions are never reused, so a
    /// member keeps theirs through removal and return).
    slots: SlotTable,
    entries: Vec<Option<Entry>>,
    len: usize,
    people: BTreeSet<MemberId>,
    pub(crate) words: Postings<Term>,
    pub(crate) schools: Postings<Term>,
    pub(crate) skills: Postings<Term>,
    pub(crate) current: Postings<MemberId>,
    pub(crate) past: Postings<MemberId>,
    pub(crate) groups: Postings<GroupId>,
}

fn sorted<T: Ord>(v: &mut Vec<T>) {
    v.sort_unstable();
    v.dedup();
}

/// Reused buffers for packing one profile.
#[derive(Default)]
struct Scratch {
    name: Vec<Term>,
    headline: Vec<Term>,
    location: Vec<Term>,
    schools: Vec<Term>,
    skills: Vec<Term>,
    current: Vec<MemberId>,
    past: Vec<MemberId>,
    words: Vec<Term>,
    old_words: Vec<Term>,
    /// Folded text.
    text: String,
    /// A bulk build, which makes the ordered set of persons at the end.
    bulk: bool,
    /// How many persons the index will hold (a bulk build's), so that the
    /// id table stays direct for dense ids that do not start near 0.
    persons: usize,
}

impl DiscoveryIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An index of `members` at once: the same index as
    /// [`upsert`](Self::upsert) of each in turn (a later record of the same
    /// member replaces an earlier one), built in member id order so that
    /// every member list grows by appending, and with no spare capacity.
    ///
    /// ```
    /// use pronet::discovery::DiscoveryIndex;
    /// use pronet::{Member, MemberId, Profile};
    ///
    /// let members = [
    ///     Member::person(MemberId::new(2), Profile::named("Bo")),
    ///     Member::person(MemberId::new(1), Profile::named("Ana")),
    /// ];
    /// let index = DiscoveryIndex::build(&members);
    /// assert_eq!(index.len(), 2);
    /// ```
    #[must_use]
    pub fn build<'a>(members: impl IntoIterator<Item = &'a Member>) -> Self {
        let mut all: Vec<&Member> = members.into_iter().collect();
        // Stable: of two records of one member, the later stays last.
        all.sort_by_key(|m| m.id);
        let mut last: Vec<&Member> = Vec::with_capacity(all.len());
        for m in all {
            match last.last_mut() {
                Some(prev) if prev.id == m.id => *prev = m,
                _ => last.push(m),
            }
        }
        let mut index = Self::new();
        let persons = last
            .iter()
            .filter(|m| m.active && m.kind == Kind::Person)
            .count();
        index.entries.reserve_exact(persons);
        if let Some(max) = last.last() {
            index.slots.reserve(max.id, persons);
        }
        let mut scratch = Scratch {
            bulk: true,
            persons,
            ..Scratch::default()
        };
        for m in &last {
            index.upsert_with(m, &mut scratch);
        }
        index.people = last
            .iter()
            .filter(|m| m.active && m.kind == Kind::Person)
            .map(|m| m.id)
            .collect();
        for postings in [&mut index.words, &mut index.schools, &mut index.skills] {
            postings.shrink();
        }
        index.current.shrink();
        index.past.shrink();
        index.groups.shrink();
        index
    }

    /// Indexes `member`'s profile as it is now, replacing what was indexed
    /// for them before and keeping their groups. A company page or a
    /// deactivated member is removed instead.
    pub fn upsert(&mut self, member: &Member) {
        self.upsert_with(member, &mut Scratch::default());
    }

    fn upsert_with(&mut self, member: &Member, s: &mut Scratch) {
        if !member.active || member.kind != Kind::Person {
            self.remove(member.id);
            return;
        }
        let p = &member.profile;
        let v = &mut self.vocabulary;
        let buffer = &mut s.text;
        let mut terms = |text: &str, out: &mut Vec<Term>| {
            out.clear();
            for_each_word(text, buffer, |w| out.push(v.intern(w)));
            sorted(out);
        };
        terms(&p.display_name, &mut s.name);
        terms(&p.headline, &mut s.headline);
        terms(&p.location, &mut s.location);
        let mut values = |list: &[String], out: &mut Vec<Term>| {
            out.clear();
            for value in list {
                fold_into(value, buffer);
                if !buffer.is_empty() {
                    out.push(v.intern_value(buffer));
                }
            }
            sorted(out);
        };
        values(&p.schools, &mut s.schools);
        values(&p.skills, &mut s.skills);
        s.current.clear();
        s.current.extend_from_slice(&p.current_companies);
        sorted(&mut s.current);
        s.past.clear();
        s.past.extend(
            p.past_companies
                .iter()
                .copied()
                .filter(|c| s.current.binary_search(c).is_err()),
        );
        sorted(&mut s.past);
        let id = member.id;
        let at = self.position(id, s.persons);
        let old = self.entries[at].take();
        let was = old.is_some();
        let old_groups: Vec<GroupId> = old.iter().flat_map(|e| e.groups().iter()).collect();
        let entry = Entry::pack(
            [&s.name, &s.headline, &s.location, &s.schools, &s.skills],
            &s.current,
            &s.past,
            &old_groups,
        );
        self.all_words(old.as_ref(), &mut s.old_words);
        self.all_words(Some(&entry), &mut s.words);
        let empty = Entry::default();
        let old = old.as_ref().unwrap_or(&empty);
        self.words.update(id, &s.old_words, &s.words);
        self.schools.update(id, old.schools(), entry.schools());
        self.skills.update(id, old.skills(), entry.skills());
        let old_current: Vec<MemberId> = old.current().iter().collect();
        let old_past: Vec<MemberId> = old.past().iter().collect();
        self.current.update(id, &old_current, &s.current);
        self.past.update(id, &old_past, &s.past);
        if !was {
            self.len += 1;
        }
        if !s.bulk {
            self.people.insert(id);
        }
        self.entries[at] = Some(entry);
    }

    /// The position of `member` in `entries`, given one if new; `persons`
    /// is how many the index will hold, if known.
    fn position(&mut self, member: MemberId, persons: usize) -> usize {
        if let Some(at) = self.slots.get(member) {
            return at as usize;
        }
        let at = self.entries.len();
        self.entries.push(None);
        self.slots.insert(
            member,
            Slot::try_from(at).unwrap_or(Slot::MAX),
            persons.max(at + 1),
        );
        at
    }

    /// Every word of an entry (name, headline, location, and the words of
    /// its schools and skills), sorted, into `out`.
    fn all_words(&self, entry: Option<&Entry>, out: &mut Vec<Term>) {
        out.clear();
        let Some(e) = entry else { return };
        out.extend_from_slice(e.name());
        out.extend_from_slice(e.headline());
        out.extend_from_slice(e.location());
        for &t in e.schools().iter().chain(e.skills()) {
            out.extend_from_slice(self.vocabulary.parts(t));
        }
        sorted(out);
    }

    /// Sets the groups of an indexed person (ignored for anyone else: only
    /// active persons join groups).
    pub fn set_groups(&mut self, member: MemberId, groups: impl IntoIterator<Item = GroupId>) {
        let Some(entry) = self.entry_mut(member) else {
            return;
        };
        let mut groups: Vec<GroupId> = groups.into_iter().collect();
        sorted(&mut groups);
        let old: Vec<GroupId> = entry.groups().iter().collect();
        *entry = entry.with_groups(&groups);
        self.groups.update(member, &old, &groups);
    }

    fn entry_mut(&mut self, member: MemberId) -> Option<&mut Entry> {
        let at = self.slots.get(member)? as usize;
        self.entries.get_mut(at)?.as_mut()
    }

    /// Removes a member (deactivated, or not a person); `false` when they
    /// were not indexed.
    pub fn remove(&mut self, member: MemberId) -> bool {
        let Some(old) = self
            .slots
            .get(member)
            .and_then(|at| self.entries.get_mut(at as usize))
            .and_then(Option::take)
        else {
            return false;
        };
        let mut words = Vec::new();
        self.all_words(Some(&old), &mut words);
        self.words.update(member, &words, &[]);
        self.schools.update(member, old.schools(), &[]);
        self.skills.update(member, old.skills(), &[]);
        let current: Vec<MemberId> = old.current().iter().collect();
        let past: Vec<MemberId> = old.past().iter().collect();
        let groups: Vec<GroupId> = old.groups().iter().collect();
        self.current.update(member, &current, &[]);
        self.past.update(member, &past, &[]);
        self.groups.update(member, &groups, &[]);
        self.people.remove(&member);
        self.len -= 1;
        true
    }

    /// Whether `member` is an indexed (active) person.
    #[must_use]
    pub fn contains(&self, member: MemberId) -> bool {
        self.entry(member).is_some()
    }

    /// Number of indexed persons.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no person is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The groups of an indexed person, in id order.
    #[must_use]
    pub fn groups_of(&self, member: MemberId) -> Vec<GroupId> {
        self.entry(member)
            .map(|e| e.groups().iter().collect())
            .unwrap_or_default()
    }

    /// The indexed persons whose current company is `company`, in id order.
    #[must_use]
    pub fn employees(&self, company: MemberId) -> &[MemberId] {
        self.current.get(company)
    }

    /// Approximate heap bytes held, for the benchmark's report: every
    /// allocation at what a general-purpose allocator hands out for it.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let entries = self.entries.capacity() * size_of::<Option<Entry>>()
            + self
                .entries
                .iter()
                .flatten()
                .map(Entry::heap_bytes)
                .sum::<usize>();
        // A B-tree set's leaves hold up to 11 ids in 104 bytes; built in
        // order they are full, grown one by one about half full.
        let people = self.people.len() * 104 / 8;
        entries
            + self.slots.heap_bytes()
            + self.vocabulary.heap_bytes()
            + people
            + self.words.heap_bytes()
            + self.schools.heap_bytes()
            + self.skills.heap_bytes()
            + self.current.heap_bytes()
            + self.past.heap_bytes()
            + self.groups.heap_bytes()
    }

    pub(crate) fn entry(&self, member: MemberId) -> Option<&Entry> {
        let at = self.slots.get(member)? as usize;
        self.entries.get(at)?.as_ref()
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
mod tests;

#[cfg(test)]
mod linear;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod model;
