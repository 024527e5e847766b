//! What a 2PC / 3PC run shows, found in one replay of its trace: each transaction's
//! decision and every participant's outcome, the **in-doubt periods** (a participant voted
//! yes and does not yet know the outcome — BHG §7.3's uncertainty period), every lock hold
//! with the transactions that waited for it, the transactions **blocked** behind a lock
//! whose holder was in doubt (DDIA ch. 9: "holding locks while in doubt"), the monitor's
//! violations ([`super::monitor`]) and totals.

use super::monitor::{Monitor, Violation};
use super::{Node, PState, TxnId};
use crate::engine::{Engine, World};
use crate::{NodeId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// The coordinator's decision on a transaction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub commit: bool,
    /// When it was first seen, simulated ms, and at which trace step.
    pub time: Time,
    pub step: usize,
    /// An abort answered by presumption (no record of the transaction).
    pub presumed: bool,
}

/// One participant's part in a transaction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParticipantOutcome {
    pub participant: NodeId,
    /// Whether it voted yes (wrote PREPARED).
    pub voted_yes: bool,
    /// `Some(true)` committed, `Some(false)` aborted, `None` no outcome (yet) at `upto`.
    pub committed: Option<bool>,
    /// When it reached the outcome, simulated ms, and at which step.
    pub time: Option<Time>,
    pub step: Option<usize>,
}

/// A transaction and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TxnOutcome {
    pub txn: TxnId,
    /// When the coordinator began it (first seen), simulated ms.
    pub started_ms: Option<Time>,
    /// Its participants, ascending.
    pub participants: Vec<NodeId>,
    pub decision: Option<Decision>,
    /// One per participant (in `participants` order).
    pub outcomes: Vec<ParticipantOutcome>,
}

/// A participant in doubt about a transaction: from voting yes (or recovering PREPARED)
/// until it learned the outcome. A crash in between does not end it (the log keeps it
/// in doubt).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InDoubt {
    pub participant: NodeId,
    pub txn: TxnId,
    pub from_ms: Time,
    pub from_step: usize,
    /// `None`: still in doubt at `upto`.
    pub until_ms: Option<Time>,
    pub until_step: Option<usize>,
    /// How it ended: `Some(true)` commit, `Some(false)` abort.
    pub resolved: Option<bool>,
}

impl InDoubt {
    /// Length in simulated ms, counting an open period up to `upto_ms`.
    pub fn duration(&self, upto_ms: Time) -> Time {
        self.until_ms
            .unwrap_or(upto_ms)
            .saturating_sub(self.from_ms)
    }
}

/// A transaction waiting for a lock during a hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Waiter {
    pub txn: TxnId,
    /// When it started waiting during this hold, simulated ms.
    pub from_ms: Time,
    /// When it got the lock (at this hold's release), if it did.
    pub got_ms: Option<Time>,
    /// When it stopped waiting during this hold (got it, gave up, or the hold ended);
    /// `None` still waiting at `upto`.
    pub until_ms: Option<Time>,
}

/// An exclusive lock held by a transaction at a participant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LockHold {
    pub participant: NodeId,
    pub key: String,
    pub txn: TxnId,
    pub acquired_ms: Time,
    /// `None`: still held at `upto`. A crash releases the lock table; a prepared
    /// transaction re-acquires its locks at once (a new hold from the crash time).
    pub released_ms: Option<Time>,
    pub waiters: Vec<Waiter>,
}

/// A transaction that waited for a lock while its holder was in doubt.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Blocked {
    pub participant: NodeId,
    pub key: String,
    /// The waiting transaction.
    pub txn: TxnId,
    /// The in-doubt holder.
    pub holder: TxnId,
    pub from_ms: Time,
    /// `None`: still waiting at `upto`.
    pub until_ms: Option<Time>,
    /// How long it waited while the holder was in doubt, simulated ms.
    pub waited_ms: Time,
}

/// A 2PC / 3PC run, analysed up to a trace step.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Analysis {
    /// Transactions in the order first seen.
    pub transactions: Vec<TxnOutcome>,
    pub in_doubt: Vec<InDoubt>,
    pub locks: Vec<LockHold>,
    pub blocked: Vec<Blocked>,
    pub violations: Vec<Violation>,
    /// The longest in-doubt period, simulated ms (open ones counted up to `upto_ms`).
    pub max_in_doubt_ms: Time,
    /// Sum of every lock hold's length, simulated ms.
    pub total_lock_hold_ms: Time,
    /// In-doubt periods still open at `upto_ms`.
    pub still_in_doubt: usize,
    /// The time of the last analysed event, simulated ms.
    pub upto_ms: Time,
    /// Time (ms) of the run's last intervention, if any.
    pub last_intervention: Option<Time>,
}

impl Analysis {
    /// The transaction `txn`'s outcome, if seen.
    pub fn txn(&self, txn: &str) -> Option<&TxnOutcome> {
        self.transactions.iter().find(|t| t.txn == txn)
    }
    /// The in-doubt periods of participant `p`.
    pub fn in_doubt_of(&self, p: NodeId) -> Vec<&InDoubt> {
        self.in_doubt
            .iter()
            .filter(|d| d.participant == p)
            .collect()
    }
}

/// Follows a run event by event (states after each step) and builds its [`Analysis`]:
/// used by [`analyze`] on a finished run and by the explorer while runs go.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    monitor: Monitor,
    /// Per participant: txn → state after the previous step.
    states: BTreeMap<NodeId, BTreeMap<TxnId, PState>>,
    /// Per participant: key → holder after the previous step.
    holders: BTreeMap<NodeId, BTreeMap<String, TxnId>>,
    /// (participant, key) → index of the open hold in `a.locks`.
    open_holds: BTreeMap<(NodeId, String), usize>,
    /// (participant, txn) → index of the open period in `a.in_doubt`.
    open_doubt: BTreeMap<(NodeId, TxnId), usize>,
    order: Vec<TxnId>,
    started: BTreeMap<TxnId, Time>,
    a: Analysis,
}

impl Tracker {
    /// A tracker for nodes named `names` (id order).
    pub fn new(names: Vec<String>) -> Tracker {
        Tracker {
            monitor: Monitor::new(names),
            ..Tracker::default()
        }
    }

    /// Takes in the world after trace step `step`.
    pub fn observe(&mut self, step: usize, w: &World<Node>) {
        let now = w.now;
        self.a.upto_ms = now;
        self.monitor.check(step, now, &w.nodes);
        for (i, n) in w.nodes.iter().enumerate() {
            match n {
                Node::Coordinator(c) => {
                    for t in c.txns.values() {
                        if !self.started.contains_key(&t.id) {
                            self.started.insert(t.id.clone(), t.started_ms);
                            self.order.push(t.id.clone());
                        }
                    }
                }
                Node::Participant(p) => {
                    self.doubts(i, step, now, p.txns.iter().map(|(k, t)| (k, t.state)));
                    self.lock_changes(i, now, &p.locks, &p.waiting);
                    for id in p.txns.keys() {
                        if !self.order.contains(id) {
                            self.order.push(id.clone());
                        }
                    }
                }
            }
        }
    }

    fn doubts<'a>(
        &mut self,
        p: NodeId,
        step: usize,
        now: Time,
        states: impl Iterator<Item = (&'a TxnId, PState)>,
    ) {
        let cur: BTreeMap<TxnId, PState> = states.map(|(k, s)| (k.clone(), s)).collect();
        let prev = self.states.entry(p).or_default();
        if *prev == cur {
            return;
        }
        for (txn, s) in &cur {
            let was = prev.get(txn).copied();
            let key = (p, txn.clone());
            if s.in_doubt() && !was.is_some_and(PState::in_doubt) {
                self.open_doubt.insert(key.clone(), self.a.in_doubt.len());
                self.a.in_doubt.push(InDoubt {
                    participant: p,
                    txn: txn.clone(),
                    from_ms: now,
                    from_step: step,
                    until_ms: None,
                    until_step: None,
                    resolved: None,
                });
            } else if !s.in_doubt() {
                if let Some(ix) = self.open_doubt.remove(&key) {
                    let d = &mut self.a.in_doubt[ix];
                    d.until_ms = Some(now);
                    d.until_step = Some(step);
                    d.resolved = match s {
                        PState::Committed => Some(true),
                        PState::Aborted => Some(false),
                        _ => None,
                    };
                }
            }
        }
        *prev = cur;
    }

    fn lock_changes(
        &mut self,
        p: NodeId,
        now: Time,
        locks: &BTreeMap<String, TxnId>,
        waiting: &BTreeMap<String, Vec<TxnId>>,
    ) {
        let prev = self.holders.entry(p).or_default().clone();
        let keys: std::collections::BTreeSet<&String> = prev.keys().chain(locks.keys()).collect();
        for k in keys {
            let (old, new) = (prev.get(k), locks.get(k));
            if old == new {
                continue;
            }
            if let Some(ix) = self.open_holds.remove(&(p, k.clone())) {
                let h = &mut self.a.locks[ix];
                h.released_ms = Some(now);
                for w in h.waiters.iter_mut().filter(|w| w.until_ms.is_none()) {
                    w.until_ms = Some(now);
                    if Some(&w.txn) == new {
                        w.got_ms = Some(now);
                    }
                }
            }
            if let Some(t) = new {
                self.open_holds.insert((p, k.clone()), self.a.locks.len());
                self.a.locks.push(LockHold {
                    participant: p,
                    key: k.clone(),
                    txn: t.clone(),
                    acquired_ms: now,
                    released_ms: None,
                    waiters: Vec::new(),
                });
            }
        }
        // Waiters of the open holds.
        for k in locks.keys() {
            let Some(&ix) = self.open_holds.get(&(p, k.clone())) else {
                continue;
            };
            let line: &[TxnId] = waiting.get(k).map_or(&[], |l| l.as_slice());
            let h = &mut self.a.locks[ix];
            for w in h.waiters.iter_mut().filter(|w| w.until_ms.is_none()) {
                if !line.contains(&w.txn) {
                    w.until_ms = Some(now);
                }
            }
            for t in line {
                if !h
                    .waiters
                    .iter()
                    .any(|w| &w.txn == t && w.until_ms.is_none())
                {
                    h.waiters.push(Waiter {
                        txn: t.clone(),
                        from_ms: now,
                        got_ms: None,
                        until_ms: None,
                    });
                }
            }
        }
        self.holders.insert(p, locks.clone());
    }

    /// The analysis so far.
    pub fn finish(&self) -> Analysis {
        let mut a = self.a.clone();
        let upto = a.upto_ms;
        let m = &self.monitor;
        a.violations = m.violations.clone();
        for txn in &self.order {
            let participants = m.participants.get(txn).cloned().unwrap_or_else(|| {
                let mut ps: Vec<NodeId> = m
                    .outcomes
                    .keys()
                    .filter(|(t, _)| t == txn)
                    .map(|(_, p)| *p)
                    .collect();
                ps.sort();
                ps
            });
            let yes = m.voted_yes.get(txn).cloned().unwrap_or_default();
            let outcomes = participants
                .iter()
                .map(|&p| {
                    let o = m.outcomes.get(&(txn.clone(), p));
                    ParticipantOutcome {
                        participant: p,
                        voted_yes: yes.contains(&p),
                        committed: o.map(|o| o.0),
                        time: o.map(|o| o.2),
                        step: o.map(|o| o.1),
                    }
                })
                .collect();
            a.transactions.push(TxnOutcome {
                txn: txn.clone(),
                started_ms: self.started.get(txn).copied(),
                participants,
                decision: m
                    .decisions
                    .get(txn)
                    .map(|&(commit, step, time, presumed)| Decision {
                        commit,
                        time,
                        step,
                        presumed,
                    }),
                outcomes,
            });
        }
        a.max_in_doubt_ms = a
            .in_doubt
            .iter()
            .map(|d| d.duration(upto))
            .max()
            .unwrap_or(0);
        a.still_in_doubt = a.in_doubt.iter().filter(|d| d.until_ms.is_none()).count();
        a.total_lock_hold_ms = a
            .locks
            .iter()
            .map(|h| h.released_ms.unwrap_or(upto).saturating_sub(h.acquired_ms))
            .sum();
        // Waiters behind a holder that was in doubt at that participant meanwhile.
        for h in &a.locks {
            let doubts: Vec<&InDoubt> = a
                .in_doubt
                .iter()
                .filter(|d| d.participant == h.participant && d.txn == h.txn)
                .collect();
            for w in &h.waiters {
                let w_end = w.until_ms.unwrap_or(upto);
                let overlap: Option<Time> = doubts
                    .iter()
                    .filter_map(|d| {
                        let s = d.from_ms.max(w.from_ms);
                        let e = d.until_ms.unwrap_or(upto).min(w_end);
                        (s <= e).then_some(e - s)
                    })
                    .reduce(|x, y| x + y);
                if let Some(waited_ms) = overlap {
                    a.blocked.push(Blocked {
                        participant: h.participant,
                        key: h.key.clone(),
                        txn: w.txn.clone(),
                        holder: h.txn.clone(),
                        from_ms: w.from_ms,
                        until_ms: w.until_ms,
                        waited_ms,
                    });
                }
            }
        }
        a
    }
}

/// Replays `engine`'s run and analyses it up to and including trace step `upto` (`None`:
/// before the first event, so nothing).
pub fn analyze(engine: &Engine<Node>, upto: Option<usize>) -> Analysis {
    let last_intervention = engine.interventions().iter().map(|iv| iv.at).max();
    let Some(upto) = upto else {
        return Analysis {
            last_intervention,
            ..Analysis::default()
        };
    };
    let names = engine.nodes().iter().map(|n| n.name.clone()).collect();
    let mut t = Tracker::new(names);
    engine.replay(upto, |step, w| t.observe(step, w));
    let mut a = t.finish();
    a.last_intervention = last_intervention;
    a
}
