//! A `tracing` span per [`Network`](super::Network) operation, behind the
//! `tracing` feature; without it every item here is empty and inlined away,
//! and pronet does not depend on `tracing`.
//!
//! Each span is named `pronet` at level INFO, with these fields: `operation`
//! (the method's name), the member and invitation ids it names (`member`,
//! `other`, `invitation`, as numbers), `outcome` on every operation (`ok`,
//! `unchanged` for a command that changed nothing, or the refusal's or
//! error's [`code`](crate::Error::code)), and, for every operation that
//! decides and commits, `attempts` (decisions made, conflicts retried
//! included) and `store_us` (microseconds spent reading the facts and
//! committing, over all attempts). Nothing personal is ever
//! recorded: no note, no email address, no profile field.

use crate::error::Error;
use crate::id::{InvitationId, MemberId};
use crate::network::Committed;

// `outcome`: `ok` when the operation committed a change (or, for a read,
// answered), `unchanged` when it decided there was nothing to change.

#[cfg(feature = "tracing")]
thread_local! {
    /// The outcome of the current operation's last decide-and-commit run,
    /// for [`Op::within`].
    static LAST_RUN: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// The span of one operation, entered until dropped.
#[must_use]
pub(super) struct Op {
    #[cfg(feature = "tracing")]
    _span: tracing::span::EnteredSpan,
}

impl Op {
    /// Enters the span of `operation`, naming the ids it acts on.
    #[inline]
    pub(super) fn start(
        operation: &'static str,
        member: Option<MemberId>,
        other: Option<MemberId>,
        invitation: Option<InvitationId>,
    ) -> Self {
        #[cfg(feature = "tracing")]
        {
            let span = tracing::info_span!(
                "pronet",
                operation,
                member = member.map(MemberId::get),
                other = other.map(MemberId::get),
                invitation = invitation.map(InvitationId::get),
                outcome = tracing::field::Empty,
                attempts = tracing::field::Empty,
                store_us = tracing::field::Empty,
            );
            Self {
                _span: span.entered(),
            }
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = (operation, member, other, invitation);
            Self {}
        }
    }
}

impl Op {
    /// Runs `f`, the body of an operation that is not one decide-and-commit
    /// run (a read, or a command with steps before or after its run), and
    /// records its `outcome` on this span: the refusal's or error's
    /// [`code`](crate::Error::code), `unchanged` when its last
    /// decide-and-commit run changed nothing, `ok` otherwise.
    #[inline]
    pub(super) fn within<T>(self, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        #[cfg(feature = "tracing")]
        LAST_RUN.set(None);
        let result = f();
        #[cfg(feature = "tracing")]
        self._span.record(
            "outcome",
            match &result {
                // A command's last decide-and-commit run tells `unchanged`
                // from `ok`.
                Ok(_) => LAST_RUN.take().unwrap_or("ok"),
                Err(e) => e.code(),
            },
        );
        result
    }
}

/// An operation naming no member (the feed, the outbox, an opt-out by
/// address).
#[inline]
pub(super) fn op(operation: &'static str) -> Op {
    Op::start(operation, None, None, None)
}

/// An operation by or about one member.
#[inline]
pub(super) fn member(operation: &'static str, member: MemberId) -> Op {
    Op::start(operation, Some(member), None, None)
}

/// An operation between two members.
#[inline]
pub(super) fn pair(operation: &'static str, member: MemberId, other: MemberId) -> Op {
    Op::start(operation, Some(member), Some(other), None)
}

/// An operation of a member on an invitation.
#[inline]
pub(super) fn invitation(operation: &'static str, member: MemberId, id: InvitationId) -> Op {
    Op::start(operation, Some(member), None, Some(id))
}

/// What one run of decide-and-commit did, recorded on the current span
/// when it ends.
#[derive(Default)]
pub(super) struct Run {
    #[cfg(feature = "tracing")]
    attempts: u32,
    #[cfg(feature = "tracing")]
    store: std::time::Duration,
    #[cfg(feature = "tracing")]
    committed: bool,
}

impl Run {
    /// One more attempt.
    #[inline]
    pub(super) fn attempt(&mut self) {
        #[cfg(feature = "tracing")]
        {
            self.attempts = self.attempts.saturating_add(1);
        }
    }

    /// The change committed.
    #[inline]
    pub(super) fn committed(&mut self) {
        #[cfg(feature = "tracing")]
        {
            self.committed = true;
        }
    }

    /// Runs `f`, a store call, counting its time.
    #[inline]
    pub(super) fn store<T>(&mut self, f: impl FnOnce() -> T) -> T {
        #[cfg(feature = "tracing")]
        {
            let started = std::time::Instant::now();
            let out = f();
            self.store += started.elapsed();
            out
        }
        #[cfg(not(feature = "tracing"))]
        f()
    }

    /// Records the outcome, the attempts and the store time on the
    /// current span (and the outcome for an enclosing [`Op::within`]).
    #[inline]
    pub(super) fn finish<O>(self, result: &Result<Committed<O>, Error>) {
        #[cfg(feature = "tracing")]
        {
            let outcome = match result {
                Ok(_) if self.committed => "ok",
                Ok(_) => "unchanged",
                Err(e) => e.code(),
            };
            LAST_RUN.set(Some(outcome));
            let span = tracing::Span::current();
            span.record("outcome", outcome);
            span.record("attempts", self.attempts);
            span.record(
                "store_us",
                u64::try_from(self.store.as_micros()).unwrap_or(u64::MAX),
            );
        }
        #[cfg(not(feature = "tracing"))]
        let _ = result;
    }
}
