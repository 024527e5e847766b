//! What a leaderless run did to its writes: which survive as siblings, which were
//! legitimately overwritten (a later write's context had seen them), which were **lost**
//! (discarded without any survivor having seen them — last-write-wins' silent data loss),
//! and which removed items came back when siblings were merged by union (no tombstone).

use super::{covers, reconcile, Cart, Conflict, Dot, Node, Request, Sibling, View};
use crate::engine::Engine;
use crate::trace::EventKind;
use crate::{NodeId, OpId};
use serde::Serialize;
use std::collections::BTreeMap;

/// One client write.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Write {
    pub op: OpId,
    pub client: NodeId,
    pub label: Option<String>,
    pub key: String,
    /// `add milk to cart`.
    pub what: String,
    /// The removed item, for a removal.
    pub removes: Option<String>,
    /// The value the client wrote.
    pub value: Option<Cart>,
    /// The write's dot, once the coordinator acknowledged it.
    pub dot: Option<Dot>,
    /// The coordinator's physical timestamp (ms), once acknowledged.
    pub timestamp: Option<i64>,
    /// What the client had seen when writing (its context).
    pub context: BTreeMap<NodeId, u64>,
    /// Trace steps of the invocation and the return.
    pub invoked: usize,
    pub returned: Option<usize>,
}

/// Why a write is gone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LostWrite {
    pub op: OpId,
    pub key: String,
    /// The surviving sibling that won over it (last-write-wins), if any.
    pub lost_to: Option<OpId>,
    /// The loser had seen the winner: a causally later write discarded (clock skew).
    pub causally_later: bool,
    /// The reason in words.
    pub why: String,
}

/// The analysis of a run up to a step.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Analysis {
    pub writes: Vec<Write>,
    /// Per key, the siblings that survive on some replica (reconciled across replicas).
    pub survivors: BTreeMap<String, Vec<Sibling>>,
    /// Per key, the cart a client sees after reading every survivor and merging them.
    pub merged: BTreeMap<String, Vec<String>>,
    /// Whether every replica holds the same siblings for every key.
    pub converged: bool,
    /// Acknowledged writes nothing surviving has seen.
    pub lost: Vec<LostWrite>,
    /// `(key, item)`: items an acknowledged removal took out that the merged cart shows
    /// again, though no addition after the removal put them back.
    pub resurrected: Vec<(String, String)>,
}

/// Analyses `engine`'s run up to and including trace step `upto` (`None`: nothing yet).
/// `names[node]` names nodes in explanations.
pub fn analyze(engine: &Engine<Node>, upto: Option<usize>, names: &[String]) -> Analysis {
    let Some(upto) = upto else {
        return Analysis {
            converged: true,
            ..Analysis::default()
        };
    };
    let trace = &engine.trace()[..=upto.min(engine.trace().len().saturating_sub(1))];
    let mut writes: Vec<Write> = Vec::new();
    let mut conflict = Conflict::VersionVectors;
    // The replicas' data and clients' knowledge at `upto`, from the views in the trace.
    let mut replicas: BTreeMap<NodeId, BTreeMap<String, Vec<Sibling>>> = BTreeMap::new();
    for (n, p) in engine.world().nodes.iter().enumerate() {
        if let Node::Replica(r) = p {
            conflict = r.conflict;
            replicas.insert(n, BTreeMap::new());
        }
    }
    let mut client_known: BTreeMap<NodeId, BTreeMap<String, BTreeMap<NodeId, u64>>> =
        BTreeMap::new();
    for (step, ev) in trace.iter().enumerate() {
        if let (EventKind::Invoke { op, request, label }, Some(client)) = (&ev.kind, ev.node) {
            if !matches!(request, Request::Get { .. }) {
                let key = match request {
                    Request::Add { key, .. } | Request::Remove { key, .. } => key.clone(),
                    Request::Get { key, .. } => key.clone(),
                };
                let context = client_known
                    .get(&client)
                    .and_then(|k| k.get(&key))
                    .cloned()
                    .unwrap_or_default();
                writes.push(Write {
                    op: *op,
                    client,
                    label: label.clone(),
                    what: crate::Describe::label(request),
                    removes: match request {
                        Request::Remove { item, .. } => Some(item.clone()),
                        _ => None,
                    },
                    key,
                    value: None,
                    dot: None,
                    timestamp: None,
                    context,
                    invoked: step,
                    returned: None,
                });
            }
        }
        for (op, resp) in &ev.returned {
            if let Some(w) = writes.iter_mut().find(|w| w.op == *op) {
                w.returned = Some(step);
                w.value = resp.wrote.clone();
                if let Some(s) = &resp.written {
                    w.dot = Some(s.dot);
                    w.timestamp = Some(s.timestamp);
                }
            }
        }
        match (&ev.state, ev.node) {
            (Some(View::Replica { data, .. }), Some(n)) => {
                replicas.insert(n, data.clone());
            }
            (Some(View::Client { known, .. }), Some(n)) => {
                client_known.insert(
                    n,
                    known
                        .iter()
                        .map(|(k, (_, v))| (k.clone(), v.clone()))
                        .collect(),
                );
            }
            _ => {}
        }
    }
    let mut survivors: BTreeMap<String, Vec<Sibling>> = BTreeMap::new();
    for data in replicas.values() {
        for (k, sibs) in data {
            // Across replicas, keep what no survivor has seen; under LWW several replicas
            // may still disagree, so keep each replica's winner.
            let entry = survivors.entry(k.clone()).or_default();
            reconcile(entry, sibs, Conflict::VersionVectors);
        }
    }
    let first = replicas.values().next();
    let converged = replicas.values().all(|d| Some(d) == first);
    let merged: BTreeMap<String, Vec<String>> = survivors
        .iter()
        .map(|(k, sibs)| {
            let mut c = Cart::default();
            for s in sibs {
                c.merge(&s.value);
            }
            (k.clone(), c.visible())
        })
        .collect();
    let name = |n: NodeId| names.get(n).cloned().unwrap_or_else(|| format!("node {n}"));
    let mut lost = Vec::new();
    for w in writes.iter().filter(|w| w.returned.is_some()) {
        let Some(dot) = w.dot else { continue };
        let sibs = survivors.get(&w.key).map(Vec::as_slice).unwrap_or(&[]);
        if sibs.iter().any(|s| s.dot == dot || covers(&s.context, dot)) {
            continue;
        }
        let winner = sibs
            .iter()
            .max_by_key(|s| (s.timestamp, s.dot.replica, s.dot.counter));
        let causally_later = winner.is_some_and(|s| covers(&w.context, s.dot));
        let why = match winner {
            Some(s) if causally_later => format!(
                "{}'s write ({}) came after it had seen {} — yet it was discarded: its \
                 timestamp {} ms (from {}'s clock) is lower than the older write's {} ms. \
                 Last-write-wins trusted a skewed clock over causality.",
                name(w.client),
                w.what,
                s.value.describe(),
                w.timestamp.unwrap_or(0),
                name(dot.replica),
                s.timestamp
            ),
            Some(s) if conflict == Conflict::LastWriteWins => format!(
                "{}'s write ({}) was concurrent with the write of {} — neither had seen the \
                 other — and last-write-wins kept only the one with the greater timestamp \
                 ({} ms > {} ms).",
                name(w.client),
                w.what,
                s.value.describe(),
                s.timestamp,
                w.timestamp.unwrap_or(0)
            ),
            _ => format!(
                "{}'s write ({}) was acknowledged but no surviving value includes it.",
                name(w.client),
                w.what
            ),
        };
        lost.push(LostWrite {
            op: w.op,
            key: w.key.clone(),
            lost_to: winner.map(|s| s.op),
            causally_later,
            why,
        });
    }
    let mut resurrected = Vec::new();
    for w in writes.iter().filter(|w| w.returned.is_some()) {
        let (Some(item), Some(dot)) = (&w.removes, w.dot) else {
            continue;
        };
        if lost.iter().any(|l| l.op == w.op) {
            continue;
        }
        let shown = merged
            .get(&w.key)
            .is_some_and(|m: &Vec<String>| m.contains(item));
        // An addition that had seen the removal legitimately puts the item back.
        let re_added = writes.iter().any(|a| {
            a.key == w.key
                && a.removes.is_none()
                && a.what.starts_with(&format!("add {item} "))
                && covers(&a.context, dot)
        });
        if shown && !re_added && !resurrected.contains(&(w.key.clone(), item.clone())) {
            resurrected.push((w.key.clone(), item.clone()));
        }
    }
    Analysis {
        writes,
        survivors,
        merged,
        converged,
        lost,
        resurrected,
    }
}
