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

/// A member or group id as the packed [`Entry`] stores it: two `u32`s.
pub(crate) trait PackedId: Copy {
    fn from_raw(raw: u64) -> Self;
    fn raw(self) -> u64;
}

impl PackedId for MemberId {
    fn from_raw(raw: u64) -> Self {
        Self::new(raw)
    }
    fn raw(self) -> u64 {
        self.get()
    }
}

impl PackedId for GroupId {
    fn from_raw(raw: u64) -> Self {
        Self::new(raw)
    }
    fn raw(self) -> u64 {
        self.get()
    }
}

/// A sorted list of ids inside a packed [`Entry`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ids<'a, T> {
    raw: &'a [u32],
    kind: std::marker::PhantomData<T>,
}

impl<'a, T: PackedId> Ids<'a, T> {
    fn new(raw: &'a [u32]) -> Self {
        Self {
            raw,
            kind: std::marker::PhantomData,
        }
    }

    /// The ids, in increasing order.
    pub(crate) fn iter(self) -> impl Iterator<Item = T> + 'a {
        self.raw
            .chunks_exact(2)
            .map(|p| T::from_raw(u64::from(p[0]) << 32 | u64::from(p[1])))
    }

    /// Whether `id` is listed (the lists are a profile's: short).
    pub(crate) fn contains(self, id: T) -> bool {
        self.iter().any(|x| x.raw() == id.raw())
    }
}

/// The lists of one [`Entry`], in their packed order.
const FIELDS: usize = 8;
const NAME: usize = 0;
const HEADLINE: usize = 1;
const LOCATION: usize = 2;
const SCHOOLS: usize = 3;
const SKILLS: usize = 4;
const CURRENT: usize = 5;
const PAST: usize = 6;
const GROUPS: usize = 7;
/// Lists of at most this many items share a two-word header.
const NARROW: usize = 127;
/// The header flag of the wide form (one count word per list).
const WIDE: u32 = 1 << 31;

/// One searchable person, as indexed, packed into one allocation (a
/// person costs one allocation of about 64 bytes, where eight boxed lists
/// cost 128 bytes of headers before any content). Every list is sorted and
/// deduplicated.
///
/// Layout: a header of the eight lists' lengths (two words holding seven
/// bits each when every list is short, else a flag word and one word each),
/// then the term lists (name words, headline words, location words,
/// schools, skills) and the id lists (current companies, past companies
/// that are not current, groups; two words per id, high word first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry(Box<[u32]>);

impl Entry {
    fn pack(
        terms: [&[Term]; 5],
        current: &[MemberId],
        past: &[MemberId],
        groups: &[GroupId],
    ) -> Self {
        let mut counts = [0usize; FIELDS];
        for (c, t) in counts.iter_mut().zip(terms) {
            *c = t.len();
        }
        counts[CURRENT] = current.len();
        counts[PAST] = past.len();
        counts[GROUPS] = groups.len();
        let body: usize =
            counts[..CURRENT].iter().sum::<usize>() + 2 * counts[CURRENT..].iter().sum::<usize>();
        if body == 0 {
            return Self::default();
        }
        let narrow = counts.iter().all(|&c| c <= NARROW);
        let mut out = Vec::with_capacity(body + if narrow { 2 } else { 1 + FIELDS });
        if narrow {
            let word = |cs: &[usize]| {
                cs.iter()
                    .enumerate()
                    .fold(0u32, |w, (i, &c)| w | (c as u32) << (7 * i))
            };
            out.push(word(&counts[..4]));
            out.push(word(&counts[4..]));
        } else {
            out.push(WIDE);
            out.extend(counts.iter().map(|&c| u32::try_from(c).unwrap_or(u32::MAX)));
        }
        for t in terms {
            out.extend_from_slice(t);
        }
        let mut ids = |raw: &mut dyn Iterator<Item = u64>| {
            for r in raw {
                out.push((r >> 32) as u32);
                out.push(r as u32);
            }
        };
        ids(&mut current.iter().map(|c| c.get()));
        ids(&mut past.iter().map(|c| c.get()));
        ids(&mut groups.iter().map(|g| g.get()));
        Self(out.into_boxed_slice())
    }

    /// Where each list starts, and where the last ends.
    fn bounds(&self) -> [usize; FIELDS + 1] {
        let mut counts = [0usize; FIELDS];
        let header = match self.0.first() {
            None => return [0; FIELDS + 1],
            Some(&w) if w & WIDE != 0 => {
                for (c, &w) in counts.iter_mut().zip(&self.0[1..]) {
                    *c = w as usize;
                }
                1 + FIELDS
            }
            Some(&w0) => {
                let w1 = self.0.get(1).copied().unwrap_or(0);
                for (i, c) in counts.iter_mut().enumerate() {
                    let w = if i < 4 { w0 } else { w1 };
                    *c = (w >> (7 * (i % 4)) & 0x7f) as usize;
                }
                2
            }
        };
        let mut at = [0usize; FIELDS + 1];
        at[0] = header;
        for i in 0..FIELDS {
            let width = if i >= CURRENT { 2 } else { 1 };
            at[i + 1] = at[i] + width * counts[i];
        }
        at
    }

    fn field(&self, i: usize) -> &[u32] {
        let at = self.bounds();
        self.0.get(at[i]..at[i + 1]).unwrap_or(&[])
    }

    /// The words of the name.
    pub(crate) fn name(&self) -> &[Term] {
        self.field(NAME)
    }
    /// The words of the headline (for the title filter).
    pub(crate) fn headline(&self) -> &[Term] {
        self.field(HEADLINE)
    }
    /// The words of the location.
    pub(crate) fn location(&self) -> &[Term] {
        self.field(LOCATION)
    }
    /// Folded schools, whole.
    pub(crate) fn schools(&self) -> &[Term] {
        self.field(SCHOOLS)
    }
    /// Folded skills, whole.
    pub(crate) fn skills(&self) -> &[Term] {
        self.field(SKILLS)
    }
    /// Current company pages.
    pub(crate) fn current(&self) -> Ids<'_, MemberId> {
        Ids::new(self.field(CURRENT))
    }
    /// Past company pages that are not also current.
    pub(crate) fn past(&self) -> Ids<'_, MemberId> {
        Ids::new(self.field(PAST))
    }
    /// Groups joined.
    pub(crate) fn groups(&self) -> Ids<'_, GroupId> {
        Ids::new(self.field(GROUPS))
    }

    /// The same profile with other groups.
    fn with_groups(&self, groups: &[GroupId]) -> Self {
        let current: Vec<MemberId> = self.current().iter().collect();
        let past: Vec<MemberId> = self.past().iter().collect();
        Self::pack(
            [
                self.name(),
                self.headline(),
                self.location(),
                self.schools(),
                self.skills(),
            ],
            &current,
            &past,
            groups,
        )
    }

    fn heap_bytes(&self) -> usize {
        allocated(self.0.len() * size_of::<u32>())
    }
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

/// The packed index against a naive model (A8: the index equals one rebuilt
/// from the records): after any sequence of upserts, group changes and
/// removals, the index built one update at a time and the one built in bulk
/// from the final records hold exactly the member lists, profiles and
/// persons a plain recomputation from the final records gives.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod model {
    use super::super::fold;
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
}
