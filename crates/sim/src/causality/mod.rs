//! Causality of a run: the happens-before relation, Lamport timestamps and vector clocks.
//!
//! One implementation serves every model and every imported log. A run is reduced to a
//! [`Causality`]: per node, its events in order; per event, the events whose messages it
//! received. The clocks follow the standard rules:
//!
//! - **Lamport timestamps** (Lamport 1978, "Time, Clocks, and the Ordering of Events in a
//!   Distributed System", rules IR1/IR2): every event ticks its node's counter; a message
//!   carries the sender's counter; a receive sets the counter to the maximum of its own and
//!   the message's, then ticks. Ties are broken by node id, giving the total order
//!   `(counter, node)` — consistent with happens-before, but `L(a) < L(b)` does not imply
//!   `a → b`.
//! - **Vector clocks** (Fidge 1988; Mattern 1989): every event increments its own entry; a
//!   message carries the sender's vector; a receive takes the entry-wise maximum, then
//!   increments its own entry. `a → b` exactly when `V(a) ≤ V(b)` and `a ≠ b`, so vector
//!   clocks detect concurrency.
//!
//! Which events count: every event that happens *at a node* — start, delivery, timer,
//! client invocation, command, crash and restart. A message that was dropped is no event of
//! its addressee (nothing was received), and network-wide events (partitions, link changes)
//! belong to no node.
//!
//! [`shiviz`] imports logs written for ShiViz (events with vector clocks), infers their
//! messages and exports any run as such a log.

pub mod shiviz;

use crate::diagram::{Diagram, Outcome};
use crate::NodeId;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt;

/// A vector clock: entry `i` = how many events of node `i` are in the event's causal past,
/// the event itself included. Dense, indexed by [`NodeId`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct VectorClock(pub Vec<u64>);

impl VectorClock {
    /// The zero clock for `nodes` nodes.
    pub fn zero(nodes: usize) -> Self {
        VectorClock(vec![0; nodes])
    }
    /// Entry `node` (0 when out of range).
    pub fn get(&self, node: NodeId) -> u64 {
        self.0.get(node).copied().unwrap_or(0)
    }
    /// Entry-wise maximum with `other` (the receive rule before the tick).
    pub fn merge(&mut self, other: &VectorClock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a = (*a).max(*b);
        }
    }
    /// Increments entry `node` (the tick of an event at `node`).
    pub fn tick(&mut self, node: NodeId) {
        if self.0.len() <= node {
            self.0.resize(node + 1, 0);
        }
        self.0[node] += 1;
    }
    /// `self ≤ other` entry-wise.
    pub fn leq(&self, other: &VectorClock) -> bool {
        let n = self.0.len().max(other.0.len());
        (0..n).all(|i| self.get(i) <= other.get(i))
    }
    /// The partial order of vector clocks: `Some(Less)` when `self < other`, `Some(Equal)`,
    /// `Some(Greater)`, or `None` when they are incomparable (concurrent).
    pub fn compare(&self, other: &VectorClock) -> Option<Ordering> {
        match (self.leq(other), other.leq(self)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (false, false) => None,
        }
    }
}

impl fmt::Display for VectorClock {
    /// `[2, 0, 1]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{v}")?;
        }
        write!(f, "]")
    }
}

/// A Lamport timestamp with its tie-breaker: ordered by `(counter, node)`, a total order of
/// all events consistent with happens-before (Lamport 1978, §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LamportTimestamp {
    pub counter: u64,
    pub node: NodeId,
}

impl fmt::Display for LamportTimestamp {
    /// `(3, 1)`: counter 3 at node 1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.counter, self.node)
    }
}

/// How two events are related by happens-before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// The same event.
    Same,
    /// `a → b`: `a` happens before `b`.
    Before,
    /// `b → a`.
    After,
    /// `a ∥ b`: neither happens before the other.
    Concurrent,
}

/// One event as causality sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CausalEvent {
    /// The node it happened at.
    pub node: NodeId,
    /// Its position among its node's events, from 1 (= its own vector-clock entry).
    pub seq: u64,
    /// The events whose messages it received (usually none or one; an imported log may
    /// show several).
    pub received_from: Vec<usize>,
    /// The diagram mark (= trace step for simulated runs) it came from.
    pub mark: usize,
}

/// A hop of a happens-before chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hop {
    /// The next event on the same node (program order).
    SameNode,
    /// A message from the previous event to this one.
    Message,
}

/// Why a run's events cannot form a causality: an event listed before one of the events
/// it received from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderError {
    /// The event (index into the list given to [`Causality::new`]).
    pub event: usize,
    /// The sender it names, which is not earlier in the list.
    pub sender: usize,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event {} receives from event {}, which does not come before it",
            self.event, self.sender
        )
    }
}

impl std::error::Error for OrderError {}

/// The causal structure of a run with every event's Lamport timestamp and vector clock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Causality {
    /// Number of nodes (lifelines).
    pub nodes: usize,
    /// Events in an order where every sender precedes its receivers (the processing order
    /// of a simulated run).
    pub events: Vec<CausalEvent>,
    /// Lamport timestamp per event.
    pub lamport: Vec<LamportTimestamp>,
    /// Vector clock per event.
    pub vector: Vec<VectorClock>,
    /// Per diagram mark, its event (`None` for drops and network-wide marks).
    pub event_of_mark: Vec<Option<usize>>,
    /// Per node, its events in order.
    pub by_node: Vec<Vec<usize>>,
}

impl Causality {
    /// Computes the clocks of `events`, given as `(node, mark, received_from)` in an order
    /// where every sender comes before its receivers. `marks` is the number of diagram
    /// marks (for [`Causality::event_of_mark`]).
    ///
    /// Errors: [`OrderError`] when an event receives from itself or a later event.
    pub fn new(
        nodes: usize,
        marks: usize,
        events: Vec<(NodeId, usize, Vec<usize>)>,
    ) -> Result<Causality, OrderError> {
        let nodes = events.iter().map(|e| e.0 + 1).max().unwrap_or(0).max(nodes);
        let mut by_node: Vec<Vec<usize>> = vec![Vec::new(); nodes];
        let mut lamport: Vec<LamportTimestamp> = Vec::with_capacity(events.len());
        let mut vector: Vec<VectorClock> = Vec::with_capacity(events.len());
        let mut event_of_mark = vec![None; marks];
        let mut out = Vec::with_capacity(events.len());
        for (i, (node, mark, received_from)) in events.into_iter().enumerate() {
            if let Some(&sender) = received_from.iter().find(|&&s| s >= i) {
                return Err(OrderError { event: i, sender });
            }
            let prev = by_node[node].last().copied();
            let mut v = prev.map_or_else(|| VectorClock::zero(nodes), |p| vector[p].clone());
            let mut counter = prev.map_or(0, |p| lamport[p].counter);
            for &s in &received_from {
                v.merge(&vector[s]);
                counter = counter.max(lamport[s].counter);
            }
            v.tick(node);
            lamport.push(LamportTimestamp {
                counter: counter + 1,
                node,
            });
            by_node[node].push(i);
            out.push(CausalEvent {
                node,
                seq: v.get(node),
                received_from,
                mark,
            });
            vector.push(v);
            if let Some(slot) = event_of_mark.get_mut(mark) {
                *slot = Some(i);
            }
        }
        Ok(Causality {
            nodes,
            events: out,
            lamport,
            vector,
            event_of_mark,
            by_node,
        })
    }

    /// The causality of a diagram (a simulated run or an imported log): events are the
    /// marks at a node other than drops, network-wide changes and ignored interventions;
    /// a delivered arrow makes its delivery receive from its send.
    pub fn of_diagram(d: &Diagram) -> Causality {
        let counts = |kind: &str| !matches!(kind, "drop" | "network" | "ignored");
        let mut event_at: Vec<Option<usize>> = vec![None; d.marks.len()];
        let mut list: Vec<(NodeId, usize, Vec<usize>)> = Vec::new();
        // Marks are in processing order, so senders come first; receives are attached below.
        let mut order: Vec<usize> = (0..d.marks.len()).collect();
        order.sort_by_key(|&m| d.marks[m].step);
        for m in order {
            let mark = &d.marks[m];
            if let (Some(node), true) = (mark.node, counts(mark.kind)) {
                event_at[m] = Some(list.len());
                list.push((node, m, Vec::new()));
            }
        }
        let step_to_mark: std::collections::HashMap<usize, usize> = d
            .marks
            .iter()
            .enumerate()
            .map(|(i, m)| (m.step, i))
            .collect();
        for a in &d.arrows {
            if let Outcome::Delivered { step, .. } = a.outcome {
                let from = step_to_mark.get(&a.send_step).and_then(|&m| event_at[m]);
                let to = step_to_mark.get(&step).and_then(|&m| event_at[m]);
                if let (Some(from), Some(to)) = (from, to) {
                    if !list[to].2.contains(&from) {
                        list[to].2.push(from);
                    }
                }
            }
        }
        Causality::new(d.nodes.len(), d.marks.len(), list)
            .expect("a diagram's deliveries come after their sends")
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }
    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// `a → b` (happens-before, irreflexive): `V(a)[node(a)] ≤ V(b)[node(a)]` and `a ≠ b`.
    pub fn happens_before(&self, a: usize, b: usize) -> bool {
        a != b && self.events[a].seq <= self.vector[b].get(self.events[a].node)
    }

    /// How `a` and `b` are related.
    pub fn relation(&self, a: usize, b: usize) -> Relation {
        if a == b {
            Relation::Same
        } else if self.happens_before(a, b) {
            Relation::Before
        } else if self.happens_before(b, a) {
            Relation::After
        } else {
            Relation::Concurrent
        }
    }

    /// The events that happen before `e` (its causal past, `e` excluded), in event order.
    pub fn past(&self, e: usize) -> Vec<usize> {
        (0..self.len())
            .filter(|&x| self.happens_before(x, e))
            .collect()
    }
    /// The events `e` happens before (its causal future), in event order.
    pub fn future(&self, e: usize) -> Vec<usize> {
        (0..self.len())
            .filter(|&x| self.happens_before(e, x))
            .collect()
    }
    /// The events concurrent with `e`, in event order.
    pub fn concurrent_with(&self, e: usize) -> Vec<usize> {
        (0..self.len())
            .filter(|&x| self.relation(e, x) == Relation::Concurrent)
            .collect()
    }
    /// How many unordered pairs of distinct events are concurrent.
    pub fn concurrent_pairs(&self) -> usize {
        (0..self.len())
            .map(|a| {
                (a + 1..self.len())
                    .filter(|&b| self.relation(a, b) == Relation::Concurrent)
                    .count()
            })
            .sum()
    }

    /// The events of `within` in Lamport order: by `(counter, node)`, the total order that
    /// Lamport timestamps give (Lamport 1978, §3).
    pub fn lamport_order(&self, within: &[usize]) -> Vec<usize> {
        let mut v = within.to_vec();
        v.sort_by_key(|&e| self.lamport[e]);
        v
    }

    /// Counter-examples to "L(a) < L(b) implies a → b": pairs `(a, b)` of events in
    /// `within` whose Lamport counters satisfy `L(a) < L(b)` (strictly, without the
    /// tie-break) although `a ∥ b`. Lamport 1978 proves only the converse (a → b ⇒
    /// L(a) < L(b)). Sorted with the widest counter gap first, then in Lamport order.
    pub fn lamport_only_pairs(&self, within: &[usize]) -> Vec<(usize, usize)> {
        let order = self.lamport_order(within);
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for (i, &a) in order.iter().enumerate() {
            for &b in &order[i + 1..] {
                if self.lamport[a].counter < self.lamport[b].counter
                    && self.relation(a, b) == Relation::Concurrent
                {
                    pairs.push((a, b));
                }
            }
        }
        let gap = |&(a, b): &(usize, usize)| self.lamport[b].counter - self.lamport[a].counter;
        pairs.sort_by_key(|p| std::cmp::Reverse(gap(p)));
        pairs
    }

    /// A shortest happens-before chain from `a` to `b`: the events after `a` with the hop
    /// that reaches each, ending at `b`; `None` unless `a → b`.
    pub fn chain(&self, a: usize, b: usize) -> Option<Vec<(Hop, usize)>> {
        if !self.happens_before(a, b) {
            return None;
        }
        // Successors: the next event on the node, and the receivers of its messages.
        let mut receivers: Vec<Vec<usize>> = vec![Vec::new(); self.len()];
        for (i, e) in self.events.iter().enumerate() {
            for &s in &e.received_from {
                receivers[s].push(i);
            }
        }
        let mut came_from: Vec<Option<(Hop, usize)>> = vec![None; self.len()];
        let mut queue = VecDeque::from([a]);
        while let Some(x) = queue.pop_front() {
            if x == b {
                break;
            }
            let e = &self.events[x];
            let next = self.by_node[e.node].get(e.seq as usize).copied();
            // Messages first, so a chain prefers crossing to the other node early.
            let succ = receivers[x]
                .iter()
                .map(|&r| (Hop::Message, r))
                .chain(next.map(|n| (Hop::SameNode, n)));
            for (hop, y) in succ {
                // Only events that can still reach b are worth visiting.
                if y != a && came_from[y].is_none() && (y == b || self.happens_before(y, b)) {
                    came_from[y] = Some((hop, x));
                    queue.push_back(y);
                }
            }
        }
        let mut path = Vec::new();
        let mut at = b;
        while at != a {
            let (hop, prev) = came_from[at]?;
            path.push((hop, at));
            at = prev;
        }
        path.reverse();
        Some(path)
    }

    /// The relation of `a` and `b` in words, with the reason: a chain of messages for
    /// `a → b`, the incomparable vector-clock entries for `a ∥ b`. `name(e)` names an
    /// event, `node(n)` a node.
    pub fn explain(
        &self,
        a: usize,
        b: usize,
        name: &dyn Fn(usize) -> String,
        node: &dyn Fn(NodeId) -> String,
    ) -> String {
        let (na, nb) = (name(a), name(b));
        match self.relation(a, b) {
            Relation::Same => format!("{na} is the same event."),
            Relation::Before => format!("{na} → {nb}: {}", self.why_before(a, b, name, node)),
            Relation::After => format!("{nb} → {na}: {}", self.why_before(b, a, name, node)),
            Relation::Concurrent => {
                let (va, vb) = (&self.vector[a], &self.vector[b]);
                // Each has seen itself, which the other has not (that is what ∥ means).
                let (i, j) = (self.events[a].node, self.events[b].node);
                format!(
                    "{na} ∥ {nb}: concurrent — no chain of messages leads from either to the \
                     other. Their vector clocks {va} and {vb} are incomparable: {na} has seen \
                     {} event(s) of {} (itself included), {nb} only {}; {nb} has seen {} of {}, {na} only \
                     {}.",
                    va.get(i),
                    node(i),
                    vb.get(i),
                    vb.get(j),
                    node(j),
                    va.get(j)
                )
            }
        }
    }

    fn why_before(
        &self,
        a: usize,
        b: usize,
        name: &dyn Fn(usize) -> String,
        node: &dyn Fn(NodeId) -> String,
    ) -> String {
        let chain = self.chain(a, b).unwrap_or_default();
        let messages: Vec<(usize, usize)> = chain
            .iter()
            .enumerate()
            .filter(|(_, (hop, _))| *hop == Hop::Message)
            .map(|(k, &(_, to))| (if k == 0 { a } else { chain[k - 1].1 }, to))
            .collect();
        if messages.is_empty() {
            format!(
                "both happen at {}, {} first (program order).",
                node(self.events[a].node),
                name(a)
            )
        } else {
            let hops: Vec<String> = messages
                .iter()
                .map(|&(s, r)| {
                    format!(
                        "{} sends at {} and {} receives at {}",
                        node(self.events[s].node),
                        name(s),
                        node(self.events[r].node),
                        name(r)
                    )
                })
                .collect();
            format!(
                "a chain of messages leads from one to the other: {}. Vector clocks {} ≤ {}.",
                hops.join("; then "),
                self.vector[a],
                self.vector[b]
            )
        }
    }
}
