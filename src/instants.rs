//! The instants each record kind carries, for the clock's guard rails
//! (see [`Policy::max_clock_skew`](crate::Policy::max_clock_skew)): the
//! latest one a record holds, to detect the trace of a bad clock reading,
//! and bringing them back to the clock, to repair it.
//!
//! Only *observed* instants count: when something happened, stamped with the
//! effective time of the decision that wrote it. Deadlines computed from
//! them (a sanction's end) lie in the future by design; a repair caps them
//! instead.

use crate::record::Record;
use crate::time::Timestamp;
use chrono::TimeDelta;

/// Calls `$f` on a reference to every observed instant of `$record`: one
/// field list for reading (`$record: &Record`, no `mut`) and rewriting
/// (`&mut Record`, with `mut`), so that detection on every load needs no
/// copy of the record.
macro_rules! each_observed {
    ($record:expr, $f:ident $(, $m:tt)?) => {
        match $record {
            Record::Invitation(i) => {
                $f(&$($m)? i.sent_at);
                if let Some(t) = &$($m)? i.closed_at { $f(t) }
            }
            Record::Pair(p) => {
                if let Some(t) = &$($m)? p.connected_since { $f(t) }
                for a in [&$($m)? p.from_low, &$($m)? p.from_high] {
                    if let Some(t) = &$($m)? a.last_sent { $f(t) }
                    if let Some(t) = &$($m)? a.withdrawn_at { $f(t) }
                }
            }
            Record::Ledger(l) => {
                $f(&$($m)? l.latest);
                for s in &$($m)? l.sends {
                    $f(&$($m)? s.at);
                    if let Some(t) = &$($m)? s.answered_at { $f(t) }
                }
                for t in &$($m)? l.reports { $f(t) }
                if let Some(t) = &$($m)? l.standing.counted_from { $f(t) }
            }
            Record::Contact(c) => $f(&$($m)? c.imported_at),
            Record::Blocks(b) => {
                for (_, t) in &$($m)? b.blocked { $f(t) }
                for (_, t) in &$($m)? b.unblocked { $f(t) }
            }
            Record::Block(b) => {
                if let Some(t) = &$($m)? b.since { $f(t) }
                if let Some(t) = &$($m)? b.unblocked { $f(t) }
            }
            Record::Report(r) => $f(&$($m)? r.at),
            Record::InboxMark(k) => $f(&$($m)? k.sent_at),
            Record::Outbox(o) => $f(&$($m)? o.at),
            Record::Invitee(i) => {
                for j in &$($m)? i.invitations { $f(&$($m)? j.sent_at) }
                if let Some(t) = &$($m)? i.opted_out { $f(t) }
            }
            Record::Dismissed(d) => {
                for (_, t) in &$($m)? d.dismissed { $f(t) }
            }
            Record::Member(_)
            | Record::BlockTally(_)
            | Record::EmailOwner(_)
            | Record::Follows(_)
            | Record::Groups(_) => {}
        }
    };
}

/// The latest observed instant `record` holds, if any.
pub(crate) fn latest(record: &Record) -> Option<Timestamp> {
    let mut latest = None;
    let mut see = |t: &Timestamp| latest = latest.max(Some(*t));
    each_observed!(record, see);
    latest
}

/// Brings every observed instant of `record` later than `now` back to
/// `now`, and caps a sanction's end at `now + longest`: answers whether
/// anything changed.
pub(crate) fn bring_back(record: &mut Record, now: Timestamp, longest: TimeDelta) -> bool {
    let mut changed = false;
    let mut back = |t: &mut Timestamp| {
        if *t > now {
            *t = now;
            changed = true;
        }
    };
    each_observed!(&mut *record, back, mut);
    if let Record::Ledger(l) = record {
        let cap = now.saturating_add(longest);
        if let Some(until) = l.standing.until.as_mut().filter(|u| **u > cap) {
            *until = cap;
            changed = true;
        }
    }
    changed
}
