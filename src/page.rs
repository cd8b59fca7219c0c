//! Pagination shared by every list query: a bounded page size and a page of
//! results with the cursor of the next page.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How many items a page holds: at least 1, at most [`PageSize::MAX`].
/// Every list query takes one, so no single call does unbounded work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PageSize(u32);

/// A page size of zero or above [`PageSize::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("page size {0} is outside 1..={max}", max = PageSize::MAX)]
pub struct PageSizeError(pub u32);

impl PageSize {
    /// The largest page any query returns.
    pub const MAX: u32 = 1_000;

    /// A page of `size` items.
    ///
    /// # Errors
    /// [`PageSizeError`] when `size` is 0 or above [`PageSize::MAX`].
    pub const fn new(size: u32) -> Result<Self, PageSizeError> {
        if size == 0 || size > Self::MAX {
            Err(PageSizeError(size))
        } else {
            Ok(Self(size))
        }
    }

    /// The number of items.
    #[must_use]
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

impl Default for PageSize {
    /// 20 items, a typical screenful.
    fn default() -> Self {
        Self(20)
    }
}

impl TryFrom<u32> for PageSize {
    type Error = PageSizeError;
    fn try_from(size: u32) -> Result<Self, Self::Error> {
        Self::new(size)
    }
}

impl From<PageSize> for u32 {
    fn from(size: PageSize) -> Self {
        size.0
    }
}

/// One page of a list, and the cursor to pass for the next page (`None` on
/// the last page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T, C> {
    /// The items of this page, in the list's order.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// A page of `items` followed by the page at `next`.
    #[must_use]
    pub fn new(items: Vec<T>, next: Option<C>) -> Self {
        Self { items, next }
    }
}

/// A text that is not a cursor of the kind asked for: cursors are opaque
/// strings (see [`crate::wire`]); hand back exactly what a page gave.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("not a valid {kind} cursor")]
pub struct CursorError {
    kind: &'static str,
}

impl CursorError {
    pub(crate) const fn new(kind: &'static str) -> Self {
        Self { kind }
    }
}

/// Implements `FromStr` (canonical strings only: the text must be exactly
/// what `Display` writes for the value it parses to), `TryFrom<String>` and
/// `From<T> for String` for a cursor type, from a lenient `parse` function.
macro_rules! cursor_text {
    ($t:ty, $kind:literal, $parse:expr) => {
        impl std::str::FromStr for $t {
            type Err = $crate::page::CursorError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let parse: fn(&str) -> Option<$t> = $parse;
                match parse(s) {
                    Some(c) if c.to_string() == s => Ok(c),
                    _ => Err($crate::page::CursorError::new($kind)),
                }
            }
        }

        impl TryFrom<String> for $t {
            type Error = $crate::page::CursorError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$t> for String {
            fn from(c: $t) -> Self {
                c.to_string()
            }
        }
    };
}
pub(crate) use cursor_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_bounds_are_exact() {
        assert_eq!(PageSize::new(0), Err(PageSizeError(0)));
        assert_eq!(PageSize::new(1).map(PageSize::get), Ok(1));
        assert_eq!(PageSize::new(PageSize::MAX).map(PageSize::get), Ok(1000));
        assert_eq!(PageSize::new(1001), Err(PageSizeError(1001)));
    }
}
