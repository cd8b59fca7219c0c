//! People search: keywords and filters, ordered by degree then mutual
//! count, one page at a time.
//!
//! # What matches
//!
//! A member matches a [`SearchQuery`] when every keyword is a word of their
//! name, headline, location, schools or skills (in a
//! [typeahead](SearchQuery::typeahead) query, the start of one such word,
//! for keywords of at least [`MIN_PREFIX_CHARS`] characters), and every filter that has
//! values admits them. A filter admits a member who has *any* of its values
//! (as the facets of LinkedIn's search: two locations means either): a
//! location or title value when all its words are words of the member's
//! location or headline; a school or skill value when it equals one of the
//! member's (folded, see [`fold`]); a company when it is among
//! the member's current (or, for the past filter, past and not current)
//! companies; a group when the member belongs to it; and the degree filter
//! when the member's degree is among its choices. Values with no words
//! (empty, or only punctuation) are ignored. Only active persons are
//! results, never the viewer, never a member hidden from the viewer.
//!
//! # Order and pages
//!
//! Results run by degree (1st, 2nd, 3rd, then out of network), then by
//! mutual connections, most first, then by member id. The cursor of a page
//! is the (degree, mutual count, member) of its last item, and the next
//! page holds the results that come strictly after it. So:
//!
//! - on an unchanged network, paging through returns every result exactly
//!   once, in order;
//! - while the network changes between pages, every page is exact for the
//!   network as it is when the page is read (no hidden or deactivated
//!   member, degrees and counts current), the keys along the pages strictly
//!   increase, and a member whose degree and mutual count stay the same
//!   (and who keeps matching) appears exactly once. A member whose degree or
//!   mutual count changes in between moves: it may be skipped, or appear a
//!   second time with its new key, as with any keyset pagination.
//!
//! # Cost
//!
//! One pass over the connections of the viewer's connections (the cost of
//! preparing a [`Neighbourhood`](crate::graph::Neighbourhood)) gives every
//! 1st- and 2nd-degree member with their mutual count. Candidates come
//! from the smallest of: a keyword's member list, a filter's member lists,
//! the viewer's 1st- and 2nd-degree members (when the degree filter leaves
//! out 3rd+), or, with no keyword and no filter, every person. A candidate
//! further than 2nd degree costs one look at each of its connections, and
//! only as many of them are looked at as the page needs.
//!
//! A typeahead keyword costs the union of the member lists of the words it
//! starts (found as one range of the index's ordered vocabulary): a short,
//! common prefix can stand for a large part of the network, so a host may
//! wait for the third character before searching a large network.

use super::DiscoveryIndex;
use super::index::Term;
use super::{fold, words};
use crate::graph::index::{Slot, with_counts, with_marks};
use crate::graph::{Degree, GraphError, View};
use crate::id::{GroupId, MemberId};
use crate::page::{Page, PageSize};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cmp::Reverse;
use std::ops::BitOr;

/// The shortest keyword that matches as a prefix in a typeahead query.
pub const MIN_PREFIX_CHARS: usize = 2;

/// Which degrees a search keeps: any union of 1st, 2nd and 3rd+ (3rd and
/// out of network together, as LinkedIn's facet).
///
/// ```
/// use pronet::Degree;
/// use pronet::discovery::DegreeFilter;
///
/// let near = DegreeFilter::FIRST | DegreeFilter::SECOND;
/// assert!(near.admits(Degree::Second) && !near.admits(Degree::Third));
/// assert!(DegreeFilter::THIRD_PLUS.admits(Degree::OutOfNetwork));
/// assert_eq!(DegreeFilter::default(), DegreeFilter::ANY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DegreeFilter {
    first: bool,
    second: bool,
    third_plus: bool,
}

impl DegreeFilter {
    /// Every degree.
    pub const ANY: Self = Self {
        first: true,
        second: true,
        third_plus: true,
    };
    /// Connections only.
    pub const FIRST: Self = Self {
        first: true,
        second: false,
        third_plus: false,
    };
    /// Second degree only.
    pub const SECOND: Self = Self {
        first: false,
        second: true,
        third_plus: false,
    };
    /// Third degree and out of network.
    pub const THIRD_PLUS: Self = Self {
        first: false,
        second: false,
        third_plus: true,
    };

    /// Whether a member at `degree` is kept (never [`Degree::Yourself`]).
    #[must_use]
    pub fn admits(self, degree: Degree) -> bool {
        match degree {
            Degree::Yourself => false,
            Degree::First => self.first,
            Degree::Second => self.second,
            Degree::Third | Degree::OutOfNetwork => self.third_plus,
        }
    }
}

impl Default for DegreeFilter {
    fn default() -> Self {
        Self::ANY
    }
}

impl BitOr for DegreeFilter {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        Self {
            first: self.first || other.first,
            second: self.second || other.second,
            third_plus: self.third_plus || other.third_plus,
        }
    }
}

/// A people search: keywords and filters (see the [module docs](self) for
/// what matches). Built with chained calls; an empty query matches every
/// person.
///
/// ```
/// use pronet::discovery::{DegreeFilter, SearchQuery};
/// use pronet::{GroupId, MemberId};
///
/// let query = SearchQuery::keywords("rust engineer")
///     .location("Lisbon")
///     .current_company(MemberId::new(100))
///     .skill("Rust")
///     .group(GroupId::new(7))
///     .degrees(DegreeFilter::FIRST | DegreeFilter::SECOND);
/// assert_eq!(query.locations, ["Lisbon"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchQuery {
    /// Words that must all describe the member (name or keywords).
    pub text: String,
    /// Locations, any of which admits.
    pub locations: Vec<String>,
    /// Current companies, any of which admits.
    pub current_companies: Vec<MemberId>,
    /// Past companies, any of which admits.
    pub past_companies: Vec<MemberId>,
    /// Schools, any of which admits.
    pub schools: Vec<String>,
    /// Titles (matched against the headline), any of which admits.
    pub titles: Vec<String>,
    /// Skills, any of which admits.
    pub skills: Vec<String>,
    /// Groups, any of which admits.
    pub groups: Vec<GroupId>,
    /// The degrees kept.
    pub degrees: DegreeFilter,
    /// Typeahead: each keyword of at least [`MIN_PREFIX_CHARS`] characters
    /// matches every word it starts ("ru" matches "Rust" and "Ruth");
    /// shorter ones match whole words only.
    #[serde(default)]
    pub prefix: bool,
}

impl SearchQuery {
    /// A query matching every person.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A query for these words (a name, or keywords).
    #[must_use]
    pub fn keywords(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// A typeahead query for these words: as [`keywords`](Self::keywords),
    /// but each keyword of at least [`MIN_PREFIX_CHARS`] characters matches
    /// as a prefix of a word of the name, headline, location, schools or
    /// skills.
    ///
    /// ```
    /// use pronet::discovery::SearchQuery;
    /// let query = SearchQuery::typeahead("ana ru");
    /// assert!(query.prefix);
    /// ```
    #[must_use]
    pub fn typeahead(text: impl Into<String>) -> Self {
        Self {
            prefix: true,
            ..Self::keywords(text)
        }
    }

    /// Also admits members in `location`.
    #[must_use]
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.locations.push(location.into());
        self
    }

    /// Also admits members working at `company` now.
    #[must_use]
    pub fn current_company(mut self, company: MemberId) -> Self {
        self.current_companies.push(company);
        self
    }

    /// Also admits members who worked at `company` before.
    #[must_use]
    pub fn past_company(mut self, company: MemberId) -> Self {
        self.past_companies.push(company);
        self
    }

    /// Also admits members of `school`.
    #[must_use]
    pub fn school(mut self, school: impl Into<String>) -> Self {
        self.schools.push(school.into());
        self
    }

    /// Also admits members whose headline has the words of `title`.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.titles.push(title.into());
        self
    }

    /// Also admits members with `skill`.
    #[must_use]
    pub fn skill(mut self, skill: impl Into<String>) -> Self {
        self.skills.push(skill.into());
        self
    }

    /// Also admits members of `group`.
    #[must_use]
    pub fn group(mut self, group: GroupId) -> Self {
        self.groups.push(group);
        self
    }

    /// Keeps only these degrees.
    #[must_use]
    pub fn degrees(mut self, degrees: DegreeFilter) -> Self {
        self.degrees = degrees;
        self
    }
}

/// One search result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchHit {
    /// Who.
    pub member: MemberId,
    /// Their degree in the viewer's network (never `Yourself`).
    pub degree: Degree,
    /// Connections they share with the viewer (0 beyond 2nd degree).
    pub mutual_connections: usize,
}

/// Where a page of search results (or of a company's people) continues: the
/// key of the last result of the previous page.
///
/// On the wire (and through serde) a cursor is an opaque string, written by
/// `Display` and read back by `FromStr`, which accepts exactly the strings
/// `Display` writes and never panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct SearchCursor {
    /// The last result's degree.
    pub degree: Degree,
    /// Its mutual count.
    pub mutual_connections: usize,
    /// Its member id.
    pub member: MemberId,
}

impl std::fmt::Display for SearchCursor {
    /// `s.<degree>.<mutual connections>.<member>`; opaque to clients.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let degree = match self.degree {
            Degree::Yourself => 'y',
            Degree::First => '1',
            Degree::Second => '2',
            Degree::Third => '3',
            Degree::OutOfNetwork => 'o',
        };
        write!(
            f,
            "s.{degree}.{}.{}",
            self.mutual_connections,
            self.member.get()
        )
    }
}

crate::page::cursor_text!(SearchCursor, "search", |s| {
    let mut parts = s.strip_prefix("s.")?.split('.');
    let degree = match parts.next()? {
        "y" => Degree::Yourself,
        "1" => Degree::First,
        "2" => Degree::Second,
        "3" => Degree::Third,
        "o" => Degree::OutOfNetwork,
        _ => return None,
    };
    let mutual_connections = parts.next()?.parse().ok()?;
    let member = MemberId::new(parts.next()?.parse().ok()?);
    if parts.next().is_some() {
        return None;
    }
    Some(SearchCursor {
        degree,
        mutual_connections,
        member,
    })
});

impl From<&SearchHit> for SearchCursor {
    fn from(hit: &SearchHit) -> Self {
        Self {
            degree: hit.degree,
            mutual_connections: hit.mutual_connections,
            member: hit.member,
        }
    }
}

type Key = (u8, Reverse<usize>, MemberId);

fn rank(degree: Degree) -> u8 {
    match degree {
        Degree::Yourself => 0,
        Degree::First => 1,
        Degree::Second => 2,
        Degree::Third => 3,
        Degree::OutOfNetwork => 4,
    }
}

fn key(degree: Degree, mutual: usize, member: MemberId) -> Key {
    (rank(degree), Reverse(mutual), member)
}

fn hit_key(hit: &SearchHit) -> Key {
    key(hit.degree, hit.mutual_connections, hit.member)
}

/// A query in terms of the index; `None` when nothing can match.
struct Compiled<'a> {
    /// Each keyword's members, in id order: the word's list, or, for a
    /// typeahead prefix, the union of the lists of the words it starts.
    words: Vec<Cow<'a, [MemberId]>>,
    locations: Vec<Vec<Term>>,
    titles: Vec<Vec<Term>>,
    schools: Vec<Term>,
    skills: Vec<Term>,
}

fn compile<'a>(index: &'a DiscoveryIndex, query: &SearchQuery) -> Option<Compiled<'a>> {
    let mut keywords = Vec::new();
    for w in words(&query.text) {
        if query.prefix && w.chars().count() >= MIN_PREFIX_CHARS {
            let mut members: Vec<MemberId> = index
                .terms_starting_with(&w)
                .flat_map(|t| index.words.get(t).iter().copied())
                .collect();
            if members.is_empty() {
                return None;
            }
            members.sort_unstable();
            members.dedup();
            keywords.push(Cow::Owned(members));
        } else {
            keywords.push(Cow::Borrowed(index.words.get(index.term(&w)?)));
        }
    }
    // Alternatives of words: those with an unknown word can never match;
    // a filter whose every alternative is impossible matches nothing.
    let alternatives = |values: &[String]| -> Option<Vec<Vec<Term>>> {
        let mut given = false;
        let mut out = Vec::new();
        for v in values {
            let ws: Vec<String> = words(v).collect();
            if ws.is_empty() {
                continue;
            }
            given = true;
            if let Some(terms) = ws.iter().map(|w| index.term(w)).collect() {
                out.push(terms);
            }
        }
        (!given || !out.is_empty()).then_some(out)
    };
    let whole = |values: &[String]| -> Option<Vec<Term>> {
        let mut given = false;
        let mut out = Vec::new();
        for v in values {
            let folded = fold(v);
            if folded.is_empty() {
                continue;
            }
            given = true;
            out.extend(index.term(&folded));
        }
        (!given || !out.is_empty()).then_some(out)
    };
    Some(Compiled {
        words: keywords,
        locations: alternatives(&query.locations)?,
        titles: alternatives(&query.titles)?,
        schools: whole(&query.schools)?,
        skills: whole(&query.skills)?,
    })
}

/// Membership in one sorted member list, asked for members in increasing
/// order: each answer starts where the last one stopped and gallops
/// forward, so a run of candidates costs about log(gap) steps each, close
/// together in memory, instead of a binary search from the top of a list
/// that may hold a tenth of the network.
struct Probe<'a> {
    list: &'a [MemberId],
    at: usize,
}

impl<'a> Probe<'a> {
    fn new(list: &'a [MemberId]) -> Self {
        Self { list, at: 0 }
    }

    /// Whether `m` is listed; `m` must not be below the previous question.
    fn has(&mut self, m: MemberId) -> bool {
        let rest = &self.list[self.at.min(self.list.len())..];
        let mut bound = 1;
        while bound < rest.len() && rest[bound - 1] < m {
            bound *= 2;
        }
        let lo = bound / 2;
        let hi = bound.min(rest.len());
        self.at += lo + rest[lo.min(hi)..hi].partition_point(|&x| x < m);
        self.list.get(self.at) == Some(&m)
    }
}

/// A query's member-list filters, probed for candidates in id order.
struct Filters<'a> {
    /// Every keyword's list: all must hold.
    words: Vec<Probe<'a>>,
    /// For each filter with values, its values' lists: one must hold.
    any: Vec<Vec<Probe<'a>>>,
}

impl<'a> Filters<'a> {
    fn new(index: &'a DiscoveryIndex, q: &'a Compiled<'a>, query: &SearchQuery) -> Self {
        let mut any = Vec::new();
        let mut filter = |lists: Vec<&'a [MemberId]>| {
            if !lists.is_empty() {
                any.push(lists.into_iter().map(Probe::new).collect());
            }
        };
        filter(q.schools.iter().map(|&t| index.schools.get(t)).collect());
        filter(q.skills.iter().map(|&t| index.skills.get(t)).collect());
        filter(
            query
                .current_companies
                .iter()
                .map(|&c| index.current.get(c))
                .collect(),
        );
        filter(
            query
                .past_companies
                .iter()
                .map(|&c| index.past.get(c))
                .collect(),
        );
        filter(query.groups.iter().map(|&g| index.groups.get(g)).collect());
        Self {
            words: q.words.iter().map(|list| Probe::new(list)).collect(),
            any,
        }
    }

    /// Whether `m` passes every list filter. Members must be asked about in
    /// increasing id order.
    fn admit(&mut self, m: MemberId) -> bool {
        // A probe skipped for one member stays valid for the next, which is
        // larger: so the checks may stop at the first answer that decides.
        self.words.iter_mut().all(|p| p.has(m))
            && self
                .any
                .iter_mut()
                .all(|alternatives| alternatives.iter_mut().any(|p| p.has(m)))
    }
}

fn words_in(alternatives: &[Vec<Term>], have: &[Term]) -> bool {
    alternatives.is_empty()
        || alternatives
            .iter()
            .any(|alt| alt.iter().all(|t| have.binary_search(t).is_ok()))
}

/// Whether the indexed person `m` matches the location and title filters.
fn fields_match(index: &DiscoveryIndex, q: &Compiled<'_>, m: MemberId) -> bool {
    q.locations.is_empty() && q.titles.is_empty()
        || index.entry(m).is_some_and(|e| {
            words_in(&q.locations, e.location()) && words_in(&q.titles, e.headline())
        })
}

/// Where candidates come from: the smallest superset of the results.
enum Generator<'a> {
    /// The union of these sorted lists.
    Lists(Vec<&'a [MemberId]>),
    /// The viewer's 1st- and 2nd-degree members.
    Near,
    /// The viewer's connections.
    First,
    /// Every person.
    All,
}

fn generator<'a>(
    index: &'a DiscoveryIndex,
    q: &'a Compiled<'a>,
    query: &SearchQuery,
    near_bound: usize,
    first_bound: usize,
) -> Generator<'a> {
    let mut best: (usize, Generator<'a>) = (index.len(), Generator::All);
    let mut consider = |lists: Vec<&'a [MemberId]>| {
        let size = lists.iter().map(|l| l.len()).sum();
        if size < best.0 {
            best = (size, Generator::Lists(lists));
        }
    };
    for list in &q.words {
        consider(vec![list]);
    }
    for alts in [&q.locations, &q.titles] {
        if !alts.is_empty() {
            // Each alternative's rarest word lists a superset of its matches.
            consider(
                alts.iter()
                    .filter_map(|alt| {
                        alt.iter()
                            .map(|&t| index.words.get(t))
                            .min_by_key(|l| l.len())
                    })
                    .collect(),
            );
        }
    }
    if !q.schools.is_empty() {
        consider(q.schools.iter().map(|&t| index.schools.get(t)).collect());
    }
    if !q.skills.is_empty() {
        consider(q.skills.iter().map(|&t| index.skills.get(t)).collect());
    }
    if !query.current_companies.is_empty() {
        consider(
            query
                .current_companies
                .iter()
                .map(|&c| index.current.get(c))
                .collect(),
        );
    }
    if !query.past_companies.is_empty() {
        consider(
            query
                .past_companies
                .iter()
                .map(|&c| index.past.get(c))
                .collect(),
        );
    }
    if !query.groups.is_empty() {
        consider(query.groups.iter().map(|&g| index.groups.get(g)).collect());
    }
    if !query.degrees.third_plus && near_bound < best.0 {
        best = (near_bound, Generator::Near);
    }
    if !query.degrees.third_plus && !query.degrees.second && first_bound < best.0 {
        best = (first_bound, Generator::First);
    }
    best.1
}

/// One page of `viewer`'s search for `query`, after `after`.
///
/// # Errors
/// [`GraphError::UnknownMember`] when the viewer is unknown, deactivated or
/// hidden.
pub fn search(
    view: &View<'_>,
    viewer: MemberId,
    index: &DiscoveryIndex,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    size: PageSize,
) -> Result<Page<SearchHit, SearchCursor>, GraphError> {
    let sv = view.resolve(viewer)?;
    let Some(q) = compile(index, query) else {
        return Ok(Page::new(Vec::new(), None));
    };
    let after = after.map(|c| key(c.degree, c.mutual_connections, c.member));
    let after_ok = |hit: &SearchHit| after.is_none_or(|k| hit_key(hit) > k);
    let want = size.get() + 1;
    let slots = view.slot_count();
    let near_bound: usize = view
        .neighbours(sv)
        .iter()
        .map(|&x| view.neighbours(x).len() + 1)
        .sum();
    let first_bound = view.neighbours(sv).len();
    let generator = generator(index, &q, query, near_bound, first_bound);
    let mut filters = Filters::new(index, &q, query);
    let mut hits = with_marks(slots, |first| {
        with_counts(slots, |counts| {
            // Every visible member within two steps, counted once per
            // visible connection of the viewer they are connected to.
            for &x in view.neighbours(sv) {
                if view.visible(x) {
                    first.mark(x);
                    for &y in view.neighbours(x) {
                        if view.visible(y) {
                            counts.add(y, 1);
                        }
                    }
                }
            }
            let mutual = |s: Slot| -> usize {
                if counts.counted(s) {
                    1 + counts.extra(s) as usize
                } else {
                    0
                }
            };
            // Candidates with their slots, in increasing id order (the
            // filters probe their lists in that order, and the far tier
            // needs it).
            let near_in_order = |slots: &mut dyn Iterator<Item = Slot>| {
                let mut all: Vec<(MemberId, Slot)> = slots.map(|s| (view.id(s), s)).collect();
                all.sort_unstable();
                all
            };
            let candidates: Box<dyn Iterator<Item = (MemberId, Slot)>> = match generator {
                Generator::All => Box::new(
                    index
                        .people_after(None)
                        .filter_map(|m| view.slot(m).map(|s| (m, s))),
                ),
                Generator::Lists(lists) => {
                    let mut all: Vec<MemberId> = lists.concat();
                    all.sort_unstable();
                    all.dedup();
                    Box::new(all.into_iter().filter_map(|m| view.slot(m).map(|s| (m, s))))
                }
                Generator::Near => Box::new(
                    near_in_order(
                        &mut counts.counted_slots().iter().copied().chain(
                            view.neighbours(sv)
                                .iter()
                                .copied()
                                .filter(|&x| first.is_marked(x) && !counts.counted(x)),
                        ),
                    )
                    .into_iter(),
                ),
                Generator::First => Box::new(
                    near_in_order(
                        &mut view
                            .neighbours(sv)
                            .iter()
                            .copied()
                            .filter(|&x| first.is_marked(x)),
                    )
                    .into_iter(),
                ),
            };
            let mut near = Vec::new();
            let mut far = Vec::new();
            for (m, s) in candidates {
                if m == viewer || !filters.admit(m) || !fields_match(index, &q, m) {
                    continue;
                }
                let degree = if first.is_marked(s) {
                    Degree::First
                } else if counts.counted(s) {
                    Degree::Second
                } else {
                    if query.degrees.third_plus {
                        far.push((m, s));
                    }
                    continue;
                };
                let hit = SearchHit {
                    member: m,
                    degree,
                    mutual_connections: mutual(s),
                };
                if query.degrees.admits(degree) && after_ok(&hit) {
                    near.push(hit);
                }
            }
            near.sort_unstable_by_key(hit_key);
            if near.len() >= want || far.is_empty() {
                return near;
            }
            // Third degree before out of network, each in id order (their
            // mutual count is 0): classify the far candidates, in id order,
            // only until the page is full.
            let need = want - near.len();
            let mut thirds = Vec::new();
            let mut outs = Vec::new();
            for (m, s) in far {
                let third = view.neighbours(s).iter().any(|&y| counts.counted(y));
                let hit = SearchHit {
                    member: m,
                    degree: if third {
                        Degree::Third
                    } else {
                        Degree::OutOfNetwork
                    },
                    mutual_connections: 0,
                };
                if !after_ok(&hit) {
                    continue;
                }
                if third {
                    thirds.push(hit);
                    if thirds.len() == need {
                        break;
                    }
                } else if outs.len() < need {
                    outs.push(hit);
                }
            }
            near.extend(thirds);
            near.extend(outs);
            near
        })
    });
    hits.truncate(want);
    let next = if hits.len() > size.get() {
        hits.truncate(size.get());
        hits.last().map(SearchCursor::from)
    } else {
        None
    };
    Ok(Page::new(hits, next))
}
