//! Discovery: how members find the people they invite (people you may
//! know, people search, a company's people), and the follows and groups it
//! draws on.
//!
//! - **Follows and groups.** A person follows company pages and joins
//!   groups; both are stored through the [`Store`](crate::Store) like
//!   everything else, one record per member ([`Follows`], [`Memberships`]),
//!   each bounded by the [`DiscoveryPolicy`].
//! - **People you may know** ([`pymk`]): ranked candidates with their
//!   [`Reason`]s, from the graph (mutual connections), the profiles (shared
//!   current or past company, school), groups and imported contacts.
//! - **People search** ([`search`]): keywords and filters, ordered by degree
//!   then mutual count, with keyset cursors; a company's people is a search
//!   filtered by current company.
//!
//! The profile side lives in a [`DiscoveryIndex`] beside the graph: like the
//! graph it is an index, derived from committed member and membership
//! records, rebuilt by [`Network::open`](crate::Network::open) and updated
//! after every commit. The ranking and the search are pure functions over a
//! [`View`](crate::graph::View) (so the per-viewer filter applies to every
//! member they name), the index, the facts the shell loaded and the policy.
//!
//! # Text matching
//!
//! Text is compared after [`fold`]: Unicode NFKC normalisation, then full
//! Unicode lowercasing, with runs of whitespace collapsed. Keywords, titles
//! and locations match by whole words ([`words`]: the word boundaries of
//! Unicode UAX #29, so `node.js` and `O'Brien` are one word each and `C++`
//! is the word `c`); schools and skills match as whole folded values, so
//! `Rust` matches `rust` but not `rust programming`.

pub mod decide;
mod index;
pub mod pymk;
pub mod search;

pub use index::DiscoveryIndex;
pub use pymk::{PymkCursor, Reason, Suggestion};
pub use search::{DegreeFilter, SearchCursor, SearchHit, SearchQuery};

use crate::id::{GroupId, MemberId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// The company pages one member follows (one-way: no invitation, and the
/// company is not notified).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Follows {
    /// The follower.
    pub member: MemberId,
    /// The company pages followed.
    pub companies: BTreeSet<MemberId>,
}

impl Follows {
    /// A member who follows nobody.
    #[must_use]
    pub fn new(member: MemberId) -> Self {
        Self {
            member,
            companies: BTreeSet::new(),
        }
    }
}

/// The groups one member belongs to. Groups are named by the
/// host's [`GroupId`]s; pronet keeps no group records of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Memberships {
    /// The member.
    pub member: MemberId,
    /// The groups joined.
    pub groups: BTreeSet<GroupId>,
}

impl Memberships {
    /// A member in no group.
    #[must_use]
    pub fn new(member: MemberId) -> Self {
        Self {
            member,
            groups: BTreeSet::new(),
        }
    }
}

/// The suggestions one member dismissed, with when. People you may know
/// never suggests them again; past
/// [`max_dismissed`](DiscoveryPolicy::max_dismissed) the oldest dismissal is
/// forgotten to make room (so that dismissing always works and the record
/// stays bounded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Dismissals {
    /// The member who dismissed.
    pub member: MemberId,
    /// Whom, and when.
    pub dismissed: BTreeMap<MemberId, Timestamp>,
}

impl Dismissals {
    /// A member who dismissed nobody.
    #[must_use]
    pub fn new(member: MemberId) -> Self {
        Self {
            member,
            dismissed: BTreeMap::new(),
        }
    }
}

/// The discovery values of the [`Policy`](crate::Policy): the weights of
/// people you may know, how much work it may spend, and the limits on
/// follows, groups and dismissals.
///
/// A suggestion's score is the weighted sum of its reasons: `mutual` per
/// mutual connection, `current_company` per company both work at now,
/// `past_company` per other company both list (current or past),
/// `school` per shared school, `group` per shared group, and `contact` once
/// if the candidate is in the viewer's imported contacts. A weight of 0
/// turns its reason off as a source of candidates and of score. Each weight
/// is at most 10,000, so scores never overflow.
///
/// ```
/// use pronet::Policy;
/// use pronet::discovery::DiscoveryPolicy;
///
/// let mut discovery = DiscoveryPolicy::default();
/// discovery.school = 40;
/// let policy = Policy::builder().discovery(discovery).build()?;
/// assert_eq!(policy.discovery().school, 40);
/// # Ok::<(), pronet::PolicyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DiscoveryPolicy {
    /// Score per mutual connection (default 10).
    pub mutual: u32,
    /// Score per company both work at now (default 30).
    pub current_company: u32,
    /// Score per other shared company, current or past (default 15).
    pub past_company: u32,
    /// Score per shared school (default 15).
    pub school: u32,
    /// Score per shared group (default 5).
    pub group: u32,
    /// Score for being in the viewer's imported contacts (default 50).
    pub contact: u32,
    /// The most list entries people you may know walks to find candidates
    /// (default 100,000): the connection lists of the viewer's connections
    /// and the member lists of the viewer's companies, schools and groups,
    /// smallest first, as long as their sizes add up to at most this. Hubs
    /// and huge companies come last and are the first left out, so the work
    /// per query is bounded whatever the graph (BENCH.md: PYMK must bound the
    /// work it spends expanding hubs). See [`pymk`] for what that means for
    /// scores.
    pub expansion_budget: u32,
    /// The most company pages one member may follow (default 5,000).
    pub max_follows: u32,
    /// The most groups one member may belong to (default 100, as LinkedIn).
    pub max_groups: u32,
    /// The most dismissals remembered per member (default 5,000).
    pub max_dismissed: u32,
}

impl Default for DiscoveryPolicy {
    fn default() -> Self {
        Self {
            mutual: 10,
            current_company: 30,
            past_company: 15,
            school: 15,
            group: 5,
            contact: 50,
            expansion_budget: 100_000,
            max_follows: 5_000,
            max_groups: 100,
            max_dismissed: 5_000,
        }
    }
}

impl DiscoveryPolicy {
    /// The largest weight allowed.
    pub const MAX_WEIGHT: u32 = 10_000;

    /// Whether every value is in range: weights at most
    /// [`MAX_WEIGHT`](Self::MAX_WEIGHT), the budget and the limits at least 1
    /// (limits at most 1,000,000).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        let weights = [
            self.mutual,
            self.current_company,
            self.past_company,
            self.school,
            self.group,
            self.contact,
        ];
        let limits = [self.max_follows, self.max_groups, self.max_dismissed];
        weights.iter().all(|&w| w <= Self::MAX_WEIGHT)
            && self.expansion_budget >= 1
            && limits.iter().all(|&l| (1..=1_000_000).contains(&l))
    }
}

/// `text` folded for matching: NFKC, full Unicode lowercase, whitespace
/// runs collapsed to one space, trimmed.
///
/// ```
/// assert_eq!(pronet::discovery::fold("  Ｓｔａｎｆｏｒｄ\u{a0} UNIVERSITY "), "stanford university");
/// ```
#[must_use]
pub fn fold(text: &str) -> String {
    let mut folded = String::new();
    fold_into(text, &mut folded);
    folded
}

/// [`fold`] into `out` (cleared first), without allocating for ASCII text
/// once `out` is large enough: indexing a profile folds several texts.
pub(crate) fn fold_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        // NFKC leaves ASCII as it is, and its lowercase is ASCII's.
        for word in text.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        }
        return;
    }
    let lower = text.nfkc().collect::<String>().to_lowercase();
    for word in lower.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// The words of `text` for matching: the UAX #29 words of its [`fold`].
///
/// ```
/// let words: Vec<String> = pronet::discovery::words("Senior Rust-Engineer, node.js & C++").collect();
/// assert_eq!(words, ["senior", "rust", "engineer", "node.js", "c"]);
/// ```
pub fn words(text: &str) -> impl Iterator<Item = String> {
    let folded = fold(text);
    folded
        .unicode_words()
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rule of [`fold`], written the plain way.
    fn reference(text: &str) -> String {
        let lower = text.nfkc().collect::<String>().to_lowercase();
        lower.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    proptest! {
        /// N: folding into a reused buffer gives the rule's answer, ASCII
        /// (every whitespace character of it included) or not.
        #[test]
        fn fold_into_follows_the_rule(
            texts in prop::collection::vec("[ -~\\t\\n\\x0b\\x0c\\rÉé ß\u{a0}Ｓ]{0,12}", 1..4),
        ) {
            let mut buffer = String::from("left over");
            for text in &texts {
                fold_into(text, &mut buffer);
                prop_assert_eq!(&buffer, &reference(text));
                prop_assert_eq!(fold(text), reference(text));
            }
        }
    }
}
