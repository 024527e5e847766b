//! The atomicity monitor: the atomic commitment properties of BHG §7.2 (AC1–AC2, and the
//! consequence that a decision is final), evaluated on the nodes' states after every event.
//!
//! - **Atomic outcome** (AC1): no transaction is committed at one participant and aborted
//!   at another.
//! - **Commit needs every yes** (AC3): a participant commits only if every participant of
//!   the transaction voted yes (wrote PREPARED).
//! - **Outcome matches the decision**: no participant's outcome differs from the
//!   coordinator's decision.
//! - **Decisions never change** (AC2): a participant that has committed or aborted never
//!   changes its mind, and neither does the coordinator (e.g. deciding commit, then, after
//!   a crash, answering abort by presumption).
//!
//! The coordinator's decision is what it shows: a transaction it is committing or has
//! ended, a COMMIT / ABORT record, or an abort answered by presumption. Participants'
//! outcomes and votes are read from their durable state (a crashed participant keeps it).

use super::{CoordRecord, Node, PRecord, PState, TxnId};
use crate::engine::{Engine, Intervention, Setup};
use crate::{NodeId, Time};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One of the atomic commitment properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    AtomicOutcome,
    CommitNeedsAllYes,
    MatchesDecision,
    DecisionsFinal,
}

impl Property {
    pub const ALL: [Property; 4] = [
        Property::AtomicOutcome,
        Property::CommitNeedsAllYes,
        Property::MatchesDecision,
        Property::DecisionsFinal,
    ];
    /// E.g. `"atomic outcome"`.
    pub fn name(self) -> &'static str {
        match self {
            Property::AtomicOutcome => "atomic outcome",
            Property::CommitNeedsAllYes => "commit needs every yes",
            Property::MatchesDecision => "outcome matches the decision",
            Property::DecisionsFinal => "decisions never change",
        }
    }
    /// The property in words (BHG §7.2).
    pub fn statement(self) -> &'static str {
        match self {
            Property::AtomicOutcome => {
                "all participants that reach a decision reach the same one: never committed at one and aborted at another"
            }
            Property::CommitNeedsAllYes => {
                "the commit decision can only be reached if all participants voted yes"
            }
            Property::MatchesDecision => {
                "every participant's outcome is the coordinator's decision"
            }
            Property::DecisionsFinal => {
                "a process cannot reverse its decision after it has reached one"
            }
        }
    }
}

/// A property that failed: where (trace step, time), which, for which transaction, and
/// what happened in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    pub step: usize,
    /// Simulated ms.
    pub time: Time,
    pub property: Property,
    pub txn: TxnId,
    pub text: String,
}

/// The monitor's memory of a run so far.
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    names: Vec<String>,
    /// Participants of each transaction, as the coordinator or a prepare said.
    pub participants: BTreeMap<TxnId, Vec<NodeId>>,
    /// Participants that voted yes (wrote PREPARED), per transaction.
    pub voted_yes: BTreeMap<TxnId, BTreeSet<NodeId>>,
    /// First outcome seen per (transaction, participant): commit?, step, time.
    pub outcomes: BTreeMap<(TxnId, NodeId), (bool, usize, Time)>,
    /// The coordinator's first decision per transaction: commit?, step, time, presumed.
    pub decisions: BTreeMap<TxnId, (bool, usize, Time, bool)>,
    reported: BTreeSet<(Property, TxnId)>,
    pub violations: Vec<Violation>,
}

fn word(commit: bool) -> &'static str {
    if commit {
        "committed"
    } else {
        "aborted"
    }
}

impl Monitor {
    /// A monitor for nodes named `names` (id order).
    pub fn new(names: Vec<String>) -> Monitor {
        Monitor {
            names,
            ..Monitor::default()
        }
    }

    fn name(&self, n: NodeId) -> String {
        self.names
            .get(n)
            .cloned()
            .unwrap_or_else(|| format!("node {n}"))
    }

    fn report(&mut self, step: usize, time: Time, property: Property, txn: &str, text: String) {
        if self.reported.insert((property, txn.to_string())) {
            self.violations.push(Violation {
                step,
                time,
                property,
                txn: txn.into(),
                text,
            });
        }
    }

    fn decide(&mut self, step: usize, time: Time, txn: &str, commit: bool, presumed: bool) {
        match self.decisions.get(txn).copied() {
            None => {
                self.decisions
                    .insert(txn.into(), (commit, step, time, presumed));
                let others: Vec<(NodeId, bool)> = self
                    .outcomes
                    .iter()
                    .filter(|((t, _), _)| t == txn)
                    .map(|((_, p), (c, _, _))| (*p, *c))
                    .collect();
                if let Some((p, c)) = others.into_iter().find(|(_, c)| *c != commit) {
                    let text = format!(
                        "{} decided {} {txn}{}, but {} had {} it",
                        self.name(0),
                        if commit { "commit" } else { "abort" },
                        if presumed { " (presumed abort)" } else { "" },
                        self.name(p),
                        word(c)
                    );
                    self.report(step, time, Property::MatchesDecision, txn, text);
                }
            }
            Some((was, s0, t0, _)) if was != commit => {
                let text = format!(
                    "{} decided {} {txn} at {t0} ms (step {s0}), then {}{}",
                    self.name(0),
                    if was { "commit" } else { "abort" },
                    if commit { "commit" } else { "abort" },
                    if presumed {
                        " by presumption after losing its decision"
                    } else {
                        ""
                    }
                );
                self.report(step, time, Property::DecisionsFinal, txn, text);
            }
            Some(_) => {}
        }
    }

    fn outcome(&mut self, step: usize, time: Time, txn: &str, p: NodeId, commit: bool) {
        let key = (txn.to_string(), p);
        if let Some(&(was, _, t0)) = self.outcomes.get(&key) {
            if was != commit {
                let text = format!(
                    "{} {} {txn} at {t0} ms, then {} it",
                    self.name(p),
                    word(was),
                    word(commit)
                );
                self.report(step, time, Property::DecisionsFinal, txn, text);
            }
            return;
        }
        self.outcomes.insert(key, (commit, step, time));
        if let Some((q, _)) = self
            .outcomes
            .iter()
            .find(|((t, q), (c, _, _))| t == txn && *q != p && *c != commit)
            .map(|((_, q), v)| (*q, *v))
        {
            let (c, qt) = (
                self.outcomes[&(txn.to_string(), q)].0,
                self.outcomes[&(txn.to_string(), q)].2,
            );
            let text = format!(
                "{} {} {txn} at {time} ms, but {} {} it at {qt} ms",
                self.name(p),
                word(commit),
                self.name(q),
                word(c)
            );
            self.report(step, time, Property::AtomicOutcome, txn, text);
        }
        if commit {
            let yes = self.voted_yes.get(txn).cloned().unwrap_or_default();
            let missing: Vec<NodeId> = self
                .participants
                .get(txn)
                .map(|ps| ps.iter().copied().filter(|q| !yes.contains(q)).collect())
                .unwrap_or_default();
            if !missing.is_empty() {
                let text = format!(
                    "{} committed {txn}, but {} never voted yes",
                    self.name(p),
                    missing
                        .iter()
                        .map(|&q| self.name(q))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                self.report(step, time, Property::CommitNeedsAllYes, txn, text);
            }
        }
        if let Some(&(d, _, _, presumed)) = self.decisions.get(txn) {
            if d != commit {
                let text = format!(
                    "{} {} {txn}, but {} decided {}{}",
                    self.name(p),
                    word(commit),
                    self.name(0),
                    if d { "commit" } else { "abort" },
                    if presumed { " (presumed abort)" } else { "" }
                );
                self.report(step, time, Property::MatchesDecision, txn, text);
            }
        }
    }

    /// Checks every property on the nodes' states after trace step `step` at `time`.
    pub fn check(&mut self, step: usize, time: Time, nodes: &[Node]) {
        // Who takes part, and who voted yes, first: a commit is judged against them.
        for (i, n) in nodes.iter().enumerate() {
            match n {
                Node::Coordinator(c) => {
                    for t in c.txns.values() {
                        self.participants
                            .entry(t.id.clone())
                            .or_insert_with(|| t.participants.clone());
                    }
                    for r in &c.log {
                        if let CoordRecord::Commit {
                            txn, participants, ..
                        }
                        | CoordRecord::PreCommit {
                            txn, participants, ..
                        } = r
                        {
                            self.participants
                                .entry(txn.clone())
                                .or_insert_with(|| participants.clone());
                        }
                    }
                }
                Node::Participant(p) => {
                    for r in &p.log {
                        if let PRecord::Prepared {
                            txn, participants, ..
                        } = r
                        {
                            self.voted_yes.entry(txn.clone()).or_default().insert(i);
                            if !participants.is_empty() {
                                self.participants
                                    .entry(txn.clone())
                                    .or_insert_with(|| participants.clone());
                            }
                        }
                    }
                }
            }
        }
        for (i, n) in nodes.iter().enumerate() {
            match n {
                Node::Coordinator(c) => {
                    let mut seen: Vec<(TxnId, bool, bool)> = Vec::new();
                    for t in c.txns.values() {
                        if let Some(d) = t.phase.decision() {
                            seen.push((t.id.clone(), d, false));
                        }
                    }
                    for r in &c.log {
                        match r {
                            CoordRecord::Commit { txn, .. } => {
                                seen.push((txn.clone(), true, false))
                            }
                            CoordRecord::Abort { txn, .. } => {
                                seen.push((txn.clone(), false, false))
                            }
                            _ => {}
                        }
                    }
                    for t in &c.presumed {
                        seen.push((t.clone(), false, true));
                    }
                    for (txn, d, presumed) in seen {
                        self.decide(step, time, &txn, d, presumed);
                    }
                }
                Node::Participant(p) => {
                    let outs: Vec<(TxnId, bool)> = p
                        .txns
                        .iter()
                        .filter_map(|(id, t)| match t.state {
                            PState::Committed => Some((id.clone(), true)),
                            PState::Aborted => Some((id.clone(), false)),
                            _ => None,
                        })
                        .collect();
                    for (txn, c) in outs {
                        self.outcome(step, time, &txn, i, c);
                    }
                }
            }
        }
    }
}

/// Runs a 2PC / 3PC run from `setup` with `interventions`, checking every property after
/// every event (start-up included). Returns the finished engine and the violations in the
/// order found (each property at most once per transaction).
pub fn run_checked(
    setup: Setup<Node>,
    interventions: Vec<Intervention<Node>>,
) -> (Engine<Node>, Vec<Violation>) {
    let names = setup.nodes.iter().map(|n| n.name.clone()).collect();
    let mut m = Monitor::new(names);
    let mut e = Engine::start_with(setup, interventions);
    if let Some(last) = e.trace().len().checked_sub(1) {
        m.check(last, 0, &e.world().nodes);
    }
    while e.step() {
        let w = e.world();
        m.check(e.trace().len() - 1, w.now, &w.nodes);
    }
    (e, m.violations)
}
