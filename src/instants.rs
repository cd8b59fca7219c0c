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

/// Calls `f` on every observed instant of `record`.
fn each_observed(record: &mut Record, f: &mut dyn FnMut(&mut Timestamp)) {
    let opt = |t: &mut Option<Timestamp>, f: &mut dyn FnMut(&mut Timestamp)| {
        if let Some(t) = t {
            f(t);
        }
    };
    match record {
        Record::Invitation(i) => {
            f(&mut i.sent_at);
            opt(&mut i.closed_at, f);
        }
        Record::Pair(p) => {
            opt(&mut p.connected_since, f);
            for a in [&mut p.from_low, &mut p.from_high] {
                opt(&mut a.last_sent, f);
                opt(&mut a.withdrawn_at, f);
            }
        }
        Record::Ledger(l) => {
            f(&mut l.latest);
            for s in &mut l.sends {
                f(&mut s.at);
                opt(&mut s.answered_at, f);
            }
            l.reports.iter_mut().for_each(&mut *f);
            opt(&mut l.standing.counted_from, f);
        }
        Record::Contact(c) => f(&mut c.imported_at),
        Record::Blocks(b) => {
            b.blocked.values_mut().for_each(&mut *f);
            b.unblocked.values_mut().for_each(&mut *f);
        }
        Record::Block(b) => {
            opt(&mut b.since, f);
            opt(&mut b.unblocked, f);
        }
        Record::Report(r) => f(&mut r.at),
        Record::Invitee(i) => {
            i.invitations.iter_mut().for_each(|j| f(&mut j.sent_at));
            opt(&mut i.opted_out, f);
        }
        Record::Dismissed(d) => d.dismissed.values_mut().for_each(&mut *f),
        Record::Member(_)
        | Record::BlockTally(_)
        | Record::EmailOwner(_)
        | Record::Follows(_)
        | Record::Groups(_) => {}
    }
}

/// The latest observed instant `record` holds, if any.
pub(crate) fn latest(record: &Record) -> Option<Timestamp> {
    let mut copy = record.clone();
    let mut latest = None;
    each_observed(&mut copy, &mut |t| latest = latest.max(Some(*t)));
    latest
}

/// Brings every observed instant of `record` later than `now` back to
/// `now`, and caps a sanction's end at `now + longest`: answers whether
/// anything changed.
pub(crate) fn bring_back(record: &mut Record, now: Timestamp, longest: TimeDelta) -> bool {
    let mut changed = false;
    each_observed(record, &mut |t| {
        if *t > now {
            *t = now;
            changed = true;
        }
    });
    if let Record::Ledger(l) = record {
        let cap = now.saturating_add(longest);
        if let Some(until) = l.standing.until.as_mut().filter(|u| **u > cap) {
            *until = cap;
            changed = true;
        }
    }
    changed
}
