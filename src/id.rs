//! Identifiers: small newtypes so that a member id can never be passed where an
//! invitation id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// Wraps a raw id chosen by the host.
            #[must_use]
            pub const fn new(raw: u64) -> Self {
                Self(raw)
            }

            /// The raw id, for storage and logging.
            #[must_use]
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl From<u64> for $name {
            fn from(raw: u64) -> Self {
                Self(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A member: a person or a company page. The host assigns member ids
    /// (typically its own user ids); pronet never invents them.
    MemberId,
    "m"
);
id_type!(
    /// An invitation.
    InvitationId,
    "inv"
);
id_type!(
    /// A group that members join.
    GroupId,
    "g"
);

/// An unordered pair of distinct members: the key of a connection and of the
/// "one open invitation per pair" rule. `PairKey::new(a, b) == PairKey::new(b, a)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PairKey {
    low: MemberId,
    high: MemberId,
}

impl PairKey {
    /// The pair of `a` and `b`, or `None` when they are the same member (no
    /// pair of a member with itself exists).
    #[must_use]
    pub fn new(a: MemberId, b: MemberId) -> Option<Self> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(Self { low: a, high: b }),
            std::cmp::Ordering::Greater => Some(Self { low: b, high: a }),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// The member with the smaller id.
    #[must_use]
    pub fn low(self) -> MemberId {
        self.low
    }

    /// The member with the larger id.
    #[must_use]
    pub fn high(self) -> MemberId {
        self.high
    }

    /// The other member of the pair, or `None` when `m` is not in it.
    #[must_use]
    pub fn other(self, m: MemberId) -> Option<MemberId> {
        if m == self.low {
            Some(self.high)
        } else if m == self.high {
            Some(self.low)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_key_is_unordered_and_refuses_self() {
        let (a, b) = (MemberId::new(7), MemberId::new(3));
        assert_eq!(PairKey::new(a, b), PairKey::new(b, a));
        assert_eq!(PairKey::new(a, a), None);
        let key = PairKey::new(a, b).into_iter().next();
        assert_eq!(key.map(PairKey::low), Some(b));
        assert_eq!(key.and_then(|k| k.other(b)), Some(a));
        assert_eq!(key.and_then(|k| k.other(MemberId::new(9))), None);
    }

    #[test]
    fn ids_display_with_prefix() {
        assert_eq!(MemberId::new(42).to_string(), "m42");
        assert_eq!(InvitationId::from(5).to_string(), "inv5");
    }
}
