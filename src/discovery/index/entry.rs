//! The packed form of one indexed person ([`Entry`]) and of the ids it
//! holds.

use super::*;

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
pub(super) const WIDE: u32 = 1 << 31;

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
pub(crate) struct Entry(pub(super) Box<[u32]>);

impl Entry {
    pub(super) fn pack(
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
    pub(super) fn with_groups(&self, groups: &[GroupId]) -> Self {
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

    pub(super) fn heap_bytes(&self) -> usize {
        allocated(self.0.len() * size_of::<u32>())
    }
}
