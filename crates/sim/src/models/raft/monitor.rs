//! The safety monitor: the five properties of the Raft paper's Figure 3, evaluated on the
//! servers' states after every event of a run.
//!
//! - **Election safety**: at most one leader can be elected in a given term.
//! - **Leader append-only**: a leader never overwrites or deletes entries in its log; it
//!   only appends.
//! - **Log matching**: if two logs contain an entry with the same index and term, the logs
//!   are identical in all entries up through that index.
//! - **Leader completeness**: if an entry is committed in a given term, it is present in
//!   the logs of the leaders of all higher terms.
//! - **State machine safety**: if a server has applied an entry at a given index, no other
//!   server ever applies a different entry at that index.
//!
//! A sixth property concerns clients: **linearizable reads** — a read returns the value its
//! key has in the committed log up to the index the read was served at, and that index is
//! no earlier than any write that completed before the read was invoked (the paper's §8,
//! the thesis's §6.4). Reads through the log satisfy it by construction; reads served with
//! the read index refinement must earn it.
//!
//! An entry counts as committed in term T when a server of term T first reports a commit
//! index covering it (the leader that commits it is the first: it advances its commit
//! index before anyone else can learn of it).

use super::{Command, Entry, Node, Request, Response, Role, Server};
use crate::engine::{Engine, Intervention, Setup};
use crate::trace::{Event, EventKind};
use crate::{NodeId, OpId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// One of Figure 3's properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    ElectionSafety,
    LeaderAppendOnly,
    LogMatching,
    LeaderCompleteness,
    StateMachineSafety,
    LinearizableReads,
}

impl Property {
    /// Every property: Figure 3's in the paper's order, then linearizable reads.
    pub const ALL: [Property; 6] = [
        Property::ElectionSafety,
        Property::LeaderAppendOnly,
        Property::LogMatching,
        Property::LeaderCompleteness,
        Property::StateMachineSafety,
        Property::LinearizableReads,
    ];
    /// The property's name, e.g. `"election safety"`.
    pub fn name(self) -> &'static str {
        match self {
            Property::ElectionSafety => "election safety",
            Property::LeaderAppendOnly => "leader append-only",
            Property::LogMatching => "log matching",
            Property::LeaderCompleteness => "leader completeness",
            Property::StateMachineSafety => "state machine safety",
            Property::LinearizableReads => "linearizable reads",
        }
    }
    /// The property as the paper states it (Figure 3).
    pub fn statement(self) -> &'static str {
        match self {
            Property::ElectionSafety => "at most one leader can be elected in a given term",
            Property::LeaderAppendOnly => {
                "a leader never overwrites or deletes entries in its log; it only appends new entries"
            }
            Property::LogMatching => {
                "if two logs contain an entry with the same index and term, then the logs are identical in all entries up through the given index"
            }
            Property::LeaderCompleteness => {
                "if a log entry is committed in a given term, then that entry will be present in the logs of the leaders for all higher-numbered terms"
            }
            Property::StateMachineSafety => {
                "if a server has applied a log entry at a given index to its state machine, no other server will ever apply a different log entry for the same index"
            }
            Property::LinearizableReads => {
                "a read returns the latest value of its key in the committed log, no older than any write that completed before the read began"
            }
        }
    }
}

/// A property that failed: where (trace step and time), which, and what happened in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// The trace step after which the property failed.
    pub step: usize,
    /// Simulated ms.
    pub time: Time,
    pub property: Property,
    /// What happened, naming servers, terms and indices.
    pub text: String,
}

/// The monitor's memory of the run so far.
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    names: Vec<String>,
    /// Term → the server that was leader in it.
    leaders: BTreeMap<u64, NodeId>,
    /// Per server: `(term, log)` while it leads.
    leading: BTreeMap<NodeId, (u64, Vec<Entry>)>,
    /// Index → the committed entry and the term in which it was committed.
    committed: BTreeMap<usize, (Entry, u64)>,
    /// Index → the entry first applied there and by whom.
    applied: BTreeMap<usize, (Entry, NodeId)>,
    /// Per server: how far its state machine had applied at the last check.
    last_applied: Vec<usize>,
    /// Per client operation in progress: the request, and the highest log index of a
    /// write that had completed when it was invoked.
    ops: BTreeMap<(NodeId, OpId), (Request, usize)>,
    /// The highest log index of a completed write so far.
    completed_write: usize,
    /// Properties already reported (each is reported once per run).
    reported: Vec<Property>,
    pub violations: Vec<Violation>,
}

impl Monitor {
    /// A monitor for servers named `names` (id order; clients are ignored).
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

    fn report(&mut self, step: usize, time: Time, property: Property, text: String) {
        if !self.reported.contains(&property) {
            self.reported.push(property);
            self.violations.push(Violation {
                step,
                time,
                property,
                text,
            });
        }
    }

    /// Checks every property on the servers' states after trace step `step` at `time`.
    /// `nodes` are all nodes of the run (clients are skipped); crashed servers keep their
    /// durable state, which is what matters for the logs.
    pub fn check(&mut self, step: usize, time: Time, nodes: &[Node]) {
        let servers: Vec<(NodeId, &Server)> = nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match n {
                Node::Server(s) => Some((i, s)),
                Node::Client(_) => None,
            })
            .collect();
        if self.last_applied.len() < nodes.len() {
            self.last_applied.resize(nodes.len(), 0);
        }
        // Election safety.
        for &(i, s) in &servers {
            if s.role == Role::Leader {
                match self.leaders.get(&s.current_term) {
                    Some(&other) if other != i => {
                        let text = format!(
                            "{} and {} are both leaders of term {}",
                            self.name(other),
                            self.name(i),
                            s.current_term
                        );
                        self.report(step, time, Property::ElectionSafety, text);
                    }
                    Some(_) => {}
                    None => {
                        self.leaders.insert(s.current_term, i);
                    }
                }
            }
        }
        // Leader append-only.
        for &(i, s) in &servers {
            if s.role != Role::Leader {
                self.leading.remove(&i);
                continue;
            }
            if let Some((term, before)) = self.leading.get(&i) {
                if *term == s.current_term
                    && (s.log.len() < before.len() || s.log[..before.len()] != before[..])
                {
                    let at = (0..before.len())
                        .find(|&k| s.log.get(k) != Some(&before[k]))
                        .map_or(before.len(), |k| k + 1);
                    let text = format!(
                        "{}, leader of term {}, changed or removed entry {at} of its own log",
                        self.name(i),
                        term
                    );
                    self.report(step, time, Property::LeaderAppendOnly, text);
                }
            }
            self.leading.insert(i, (s.current_term, s.log.clone()));
        }
        // Log matching: for each pair, the highest index with equal terms must have equal
        // prefixes.
        for (x, &(i, a)) in servers.iter().enumerate() {
            for &(j, b) in &servers[x + 1..] {
                let common = a.log.len().min(b.log.len());
                if let Some(k) = (0..common).rev().find(|&k| a.log[k].term == b.log[k].term) {
                    if a.log[..=k] != b.log[..=k] {
                        let d = (0..=k).find(|&d| a.log[d] != b.log[d]).unwrap_or(k);
                        let text = format!(
                            "{} and {} both have an entry of term {} at index {}, but differ at index {}",
                            self.name(i),
                            self.name(j),
                            a.log[k].term,
                            k + 1,
                            d + 1
                        );
                        self.report(step, time, Property::LogMatching, text);
                    }
                }
            }
        }
        // Record commitments (the term of the first server seen to commit each index).
        for &(_, s) in &servers {
            for index in 1..=s.commit_index.min(s.log.len()) {
                let e = &s.log[index - 1];
                match self.committed.get_mut(&index) {
                    None => {
                        self.committed.insert(index, (e.clone(), s.current_term));
                    }
                    Some((_, t)) => *t = (*t).min(s.current_term),
                }
            }
        }
        // Leader completeness.
        for &(i, s) in &servers {
            if s.role != Role::Leader {
                continue;
            }
            let missing = self
                .committed
                .iter()
                .find(|(&index, (e, t))| *t < s.current_term && s.log.get(index - 1) != Some(e))
                .map(|(&index, (e, t))| (index, e.clone(), *t));
            if let Some((index, e, t)) = missing {
                let text = format!(
                    "{}, leader of term {}, lacks entry {index} ({} of term {}), committed in term {t}",
                    self.name(i),
                    s.current_term,
                    e.command.describe(),
                    e.term
                );
                self.report(step, time, Property::LeaderCompleteness, text);
            }
        }
        // State machine safety: entries applied since the last check.
        for &(i, s) in &servers {
            let from = if s.last_applied < self.last_applied[i] {
                0 // restarted: replays from the beginning
            } else {
                self.last_applied[i]
            };
            for index in from + 1..=s.last_applied.min(s.log.len()) {
                let e = &s.log[index - 1];
                match self.applied.get(&index) {
                    None => {
                        self.applied.insert(index, (e.clone(), i));
                    }
                    Some((first, by)) if first != e => {
                        let text = format!(
                            "{} applied {} (term {}) at index {index}, where {} applied {} (term {})",
                            self.name(i),
                            e.command.describe(),
                            e.term,
                            self.name(*by),
                            first.command.describe(),
                            first.term
                        );
                        self.report(step, time, Property::StateMachineSafety, text);
                    }
                    Some(_) => {}
                }
            }
            self.last_applied[i] = s.last_applied;
        }
    }
}

impl Monitor {
    /// Checks everything after trace step `step`, whose event is `event`: the servers'
    /// states ([`Monitor::check`]) and the operations it completed
    /// ([`Monitor::check_event`]).
    pub fn observe(&mut self, step: usize, event: &Event<Node>, nodes: &[Node]) {
        self.check(step, event.time, nodes);
        self.check_event(step, event);
    }

    /// Checks the client side of trace step `step`: remembers invoked operations and, for
    /// each completed read, checks [`Property::LinearizableReads`] against the committed
    /// log (call after [`Monitor::check`] for the same step).
    pub fn check_event(&mut self, step: usize, event: &Event<Node>) {
        let Some(client) = event.node else { return };
        if let EventKind::Invoke { op, request, .. } = &event.kind {
            self.ops
                .insert((client, *op), (request.clone(), self.completed_write));
        }
        for (op, Response { value, index }) in &event.returned {
            let Some((request, floor)) = self.ops.remove(&(client, *op)) else {
                continue;
            };
            match request {
                Request::Put { .. } => self.completed_write = self.completed_write.max(*index),
                Request::Get { key } => {
                    let expected = self
                        .committed
                        .range(..=*index)
                        .rev()
                        .find_map(|(_, (e, _))| match &e.command {
                            Command::Put { key: k, value } if *k == key => Some(value.clone()),
                            _ => None,
                        });
                    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "nothing".into());
                    let text = if *index < floor {
                        Some(format!(
                            "{} read {key} = {} at log index {index}, but a write at index {floor} had completed before the read began",
                            self.name(client),
                            shown(value)
                        ))
                    } else if *value != expected {
                        Some(format!(
                            "{} read {key} = {}, but the committed log up to index {index} gives {}",
                            self.name(client),
                            shown(value),
                            shown(&expected)
                        ))
                    } else {
                        None
                    };
                    if let Some(text) = text {
                        self.report(step, event.time, Property::LinearizableReads, text);
                    }
                }
            }
        }
    }
}

/// Runs a Raft run from `setup` with `interventions`, checking every property after every
/// event (start-up included). Returns the finished engine and the violations in the order
/// found (each property at most once).
pub fn run_checked(
    setup: Setup<Node>,
    interventions: Vec<Intervention<Node>>,
) -> (Engine<Node>, Vec<Violation>) {
    let names = setup.nodes.iter().map(|n| n.name.clone()).collect();
    let mut m = Monitor::new(names);
    let mut e = Engine::start_with(setup, interventions);
    // Start-up events happen before the first step returns: check their joint result.
    for (step, event) in e.trace().iter().enumerate() {
        m.observe(step, event, &e.world().nodes);
    }
    while e.step() {
        let step = e.trace().len() - 1;
        m.observe(step, &e.trace()[step], &e.world().nodes);
    }
    (e, m.violations)
}
