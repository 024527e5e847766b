//! What a quorum run did, read from its trace: each replica's keys (value, version) and
//! hints; each client request (call and return in simulated ms, outcome, the replicas it
//! reached and the ones it waited for); whether read and write quorums overlap; **stale
//! reads** (a read returning a version older than a write acknowledged before the read was
//! called); **read inversions** (a read returning an older version than a read that had
//! returned before it was called: DDIA Figure 9-6); requests served and refused per
//! client and per side of the network; and the run as a client [`History`] for the
//! linearizability checker.

use super::{
    preference_list, Config, Consistency, Entry, Hint, Kind, Node, Outcome, Request, Version, View,
};
use crate::engine::Engine;
use crate::linearizability::{History, Op, Operation, Status};
use crate::network::NetworkState;
use crate::trace::EventKind;
use crate::{Describe, NodeId, OpId, Time};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One replica's state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaState {
    pub node: NodeId,
    pub name: String,
    /// Per key, the value and version it holds.
    pub data: BTreeMap<String, Entry>,
    /// Writes it holds for other replicas (sloppy quorum).
    pub hints: Vec<Hint>,
}

/// How a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestOutcome {
    /// Served.
    Ok,
    /// Refused: no quorum in time.
    TimedOut,
    /// Not returned yet.
    Pending,
}

/// One client request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestRecord {
    pub op: OpId,
    pub client: NodeId,
    /// The intervention's label, if any.
    pub label: Option<String>,
    pub key: String,
    pub kind: Kind,
    /// A write: the value written. A read that returned: the value read (`None`: absent).
    pub value: Option<String>,
    /// The version written or read, when known.
    pub version: Option<Version>,
    /// Call and return, simulated ms.
    pub call_ms: Time,
    pub return_ms: Option<Time>,
    /// Trace steps of the call and the return.
    pub call_step: usize,
    pub return_step: Option<usize>,
    pub outcome: RequestOutcome,
    /// Replicas whose query answers counted (reads; ABD writes).
    pub read_from: Vec<NodeId>,
    /// Replicas that acknowledged storing (writes; ABD reads' write-back), hint holders
    /// included.
    pub stored_at: Vec<NodeId>,
    /// Every replica it reached: `read_from` ∪ `stored_at`.
    pub reached: Vec<NodeId>,
    /// The replicas the coordinator contacted and waited on, and how many answers it
    /// needed.
    pub waited_for: Vec<NodeId>,
    pub needed: usize,
    /// The replicas the client could reach when it called (its side of the network).
    pub side: Vec<NodeId>,
    /// Why it timed out, in words.
    pub reason: Option<String>,
}

/// A read that missed an acknowledged write.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaleRead {
    pub read: OpId,
    /// What the read returned (`None`: nothing).
    pub returned: Option<Version>,
    /// The newest write acknowledged before the read was called.
    pub write: OpId,
    pub write_version: Version,
    pub why: String,
}

/// A read that returned an older version than a read that had returned before it began.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inversion {
    pub earlier: OpId,
    pub later: OpId,
    pub why: String,
}

/// Requests served, refused and still pending.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub served: usize,
    pub refused: usize,
    pub pending: usize,
}

impl Counts {
    fn add(&mut self, o: RequestOutcome) {
        match o {
            RequestOutcome::Ok => self.served += 1,
            RequestOutcome::TimedOut => self.refused += 1,
            RequestOutcome::Pending => self.pending += 1,
        }
    }
}

/// One client's counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientCounts {
    pub client: NodeId,
    pub name: String,
    pub counts: Counts,
}

/// The counts of the requests called from one side of the network: the set of replicas
/// their clients could reach when calling.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideCounts {
    pub side: Vec<NodeId>,
    /// The side's replicas' names.
    pub names: Vec<String>,
    /// The clients that called from it.
    pub clients: Vec<NodeId>,
    pub counts: Counts,
}

/// The analysis of a run up to a step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    pub consistency: Consistency,
    pub n: usize,
    pub w: usize,
    pub r: usize,
    /// Whether every read quorum meets every write quorum: w + r > n in eventual mode;
    /// always in linearizable mode (majorities).
    pub quorum_overlap: bool,
    /// The overlap in words with the numbers, e.g. `"w + r = 4 > n = 3"`.
    pub overlap: String,
    /// In linearizable mode: that w and r are ignored.
    pub note: Option<String>,
    pub replicas: Vec<ReplicaState>,
    pub requests: Vec<RequestRecord>,
    pub stale_reads: Vec<StaleRead>,
    pub inversions: Vec<Inversion>,
    pub per_client: Vec<ClientCounts>,
    pub per_side: Vec<SideCounts>,
    /// Whether every key's preference replicas hold the same entry.
    pub converged: bool,
}

fn config(engine: &Engine<Node>) -> Option<Config> {
    engine.world().nodes.iter().find_map(|n| match n {
        Node::Replica(r) => Some(r.config.clone()),
        Node::Client(_) => None,
    })
}

/// Analyses `engine`'s run up to and including trace step `upto` (`None`: before any
/// event; the replicas' state at start, no requests).
pub fn analyze(engine: &Engine<Node>, upto: Option<usize>) -> Analysis {
    let cfg = config(engine);
    let names: Vec<String> = engine.nodes().iter().map(|n| n.name.clone()).collect();
    let name = |n: NodeId| names.get(n).cloned().unwrap_or_else(|| format!("node {n}"));
    let (consistency, n, w, r, replicas) = cfg
        .as_ref()
        .map(|c| (c.consistency, c.n, c.w, c.r, c.replicas))
        .unwrap_or((Consistency::Eventual, 0, 0, 0, 0));
    let (quorum_overlap, overlap, note) = match consistency {
        Consistency::Eventual => {
            (
                w + r > n,
                if w + r > n {
                    format!(
                        "w + r = {} > n = {n}: every read quorum meets every write quorum",
                        w + r
                    )
                } else {
                    format!("w + r = {} ≤ n = {n}: a read quorum can miss every replica of a write quorum", w + r)
                },
                None,
            )
        }
        Consistency::Linearizable => {
            let m = super::majority(n);
            (
                true,
                format!("majorities of n = {n}: {m} + {m} = {} > {n}", 2 * m),
                Some(format!(
                    "w = {w} and r = {r} are ignored in linearizable mode: ABD uses majorities of the n replicas"
                )),
            )
        }
    };
    let views = engine.views_at(upto);
    let replica_states: Vec<ReplicaState> = views
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v {
            View::Replica { data, hints } => Some(ReplicaState {
                node: i,
                name: name(i),
                data: data.clone(),
                hints: hints.clone(),
            }),
            View::Client { .. } => None,
        })
        .collect();
    let requests = match upto {
        Some(u) => records(engine, u, replicas),
        None => Vec::new(),
    };
    let stale_reads = stale(&requests, &name);
    let inversions = inverted(&requests, &name);
    let mut per_client: Vec<ClientCounts> = Vec::new();
    let mut per_side: Vec<SideCounts> = Vec::new();
    for q in &requests {
        match per_client.iter_mut().find(|c| c.client == q.client) {
            Some(c) => c.counts.add(q.outcome),
            None => {
                let mut counts = Counts::default();
                counts.add(q.outcome);
                per_client.push(ClientCounts {
                    client: q.client,
                    name: name(q.client),
                    counts,
                });
            }
        }
        match per_side.iter_mut().find(|s| s.side == q.side) {
            Some(s) => {
                s.counts.add(q.outcome);
                if !s.clients.contains(&q.client) {
                    s.clients.push(q.client);
                }
            }
            None => {
                let mut counts = Counts::default();
                counts.add(q.outcome);
                per_side.push(SideCounts {
                    side: q.side.clone(),
                    names: q.side.iter().map(|&x| name(x)).collect(),
                    clients: vec![q.client],
                    counts,
                });
            }
        }
    }
    per_client.sort_by_key(|c| c.client);
    let mut keys: BTreeSet<&String> = BTreeSet::new();
    for s in &replica_states {
        keys.extend(s.data.keys());
    }
    let converged = keys.iter().all(|k| {
        let pref = preference_list(k, replicas, n);
        let Some(&p0) = pref.first() else { return true };
        let first = replica_states.get(p0).and_then(|s| s.data.get(*k));
        pref.iter()
            .all(|&p| replica_states.get(p).and_then(|s| s.data.get(*k)) == first)
    });
    Analysis {
        consistency,
        n,
        w,
        r,
        quorum_overlap,
        overlap,
        note,
        replicas: replica_states,
        requests,
        stale_reads,
        inversions,
        per_client,
        per_side,
        converged,
    }
}

fn records(engine: &Engine<Node>, upto: usize, replicas: usize) -> Vec<RequestRecord> {
    let trace = engine.trace();
    let end = (upto + 1).min(trace.len());
    let mut net = NetworkState::default();
    let mut out: Vec<RequestRecord> = Vec::new();
    for (step, ev) in trace[..end].iter().enumerate() {
        match &ev.kind {
            EventKind::Partition { groups } => net.partition = groups.clone(),
            EventKind::Heal => net.partition.clear(),
            EventKind::CutLink { a, b } => {
                net.cut.insert(crate::network::link(*a, *b));
            }
            EventKind::RestoreLink { a, b } => {
                net.cut.remove(&crate::network::link(*a, *b));
            }
            EventKind::Invoke { op, request, label } => {
                let client = ev.node.unwrap_or(0);
                let side: Vec<NodeId> = (0..replicas)
                    .filter(|&x| net.reachable(client, x))
                    .collect();
                out.push(RequestRecord {
                    op: *op,
                    client,
                    label: label.clone(),
                    key: request.key().to_string(),
                    kind: request.kind(),
                    value: match request {
                        Request::Write { value, .. } => Some(value.clone()),
                        Request::Read { .. } => None,
                    },
                    version: None,
                    call_ms: ev.time,
                    return_ms: None,
                    call_step: step,
                    return_step: None,
                    outcome: RequestOutcome::Pending,
                    read_from: Vec::new(),
                    stored_at: Vec::new(),
                    reached: Vec::new(),
                    waited_for: Vec::new(),
                    needed: 0,
                    side,
                    reason: None,
                });
            }
            _ => {}
        }
        for (op, resp) in &ev.returned {
            let Some(q) = out.iter_mut().find(|q| q.op == *op) else {
                continue;
            };
            q.return_ms = Some(ev.time);
            q.return_step = Some(step);
            q.outcome = match resp.outcome {
                Outcome::Ok => RequestOutcome::Ok,
                Outcome::TimedOut => RequestOutcome::TimedOut,
            };
            if q.kind == Kind::Read {
                q.value = if resp.outcome == Outcome::Ok {
                    resp.value.clone()
                } else {
                    None
                };
            }
            q.version = resp.version.clone();
            q.read_from = resp.read_from.clone();
            q.stored_at = resp.stored_at.clone();
            let mut reached: BTreeSet<NodeId> = resp.read_from.iter().copied().collect();
            reached.extend(resp.stored_at.iter().copied());
            q.reached = reached.into_iter().collect();
            q.waited_for = resp.asked.clone();
            q.needed = resp.needed;
            q.reason = resp.reason.clone();
        }
    }
    out
}

fn what(q: &RequestRecord, name: &dyn Fn(NodeId) -> String) -> String {
    let l = q.label.clone().unwrap_or_else(|| match q.kind {
        Kind::Read => format!("read {}", q.key),
        Kind::Write => format!("write {}={}", q.key, q.value.as_deref().unwrap_or("")),
    });
    let who = name(q.client);
    if l.starts_with(&who) {
        // A label that already names the client ("cA reads x").
        format!("{l} (#{})", q.op)
    } else {
        format!("{who}'s {l} (#{})", q.op)
    }
}

fn ver(v: &Option<Version>) -> String {
    v.as_ref().map_or("nothing".into(), |v| v.label())
}

fn stale(reqs: &[RequestRecord], name: &dyn Fn(NodeId) -> String) -> Vec<StaleRead> {
    let mut out = Vec::new();
    for rd in reqs
        .iter()
        .filter(|q| q.kind == Kind::Read && q.outcome == RequestOutcome::Ok)
    {
        let newest = reqs
            .iter()
            .filter(|w| {
                w.kind == Kind::Write
                    && w.key == rd.key
                    && w.outcome == RequestOutcome::Ok
                    && w.return_step.is_some_and(|s| s < rd.call_step)
            })
            .filter_map(|w| w.version.clone().map(|v| (v, w)))
            .max_by(|a, b| a.0.cmp(&b.0));
        if let Some((v, w)) = newest {
            if rd.version.as_ref().is_none_or(|rv| *rv < v) {
                out.push(StaleRead {
                    read: rd.op,
                    returned: rd.version.clone(),
                    write: w.op,
                    write_version: v.clone(),
                    why: format!(
                        "{} returned {} at {} ms, but {} had been acknowledged with {} at {} ms, before the read began at {} ms",
                        what(rd, name),
                        ver(&rd.version),
                        rd.return_ms.unwrap_or(0),
                        what(w, name),
                        v.label(),
                        w.return_ms.unwrap_or(0),
                        rd.call_ms
                    ),
                });
            }
        }
    }
    out
}

fn inverted(reqs: &[RequestRecord], name: &dyn Fn(NodeId) -> String) -> Vec<Inversion> {
    let reads: Vec<&RequestRecord> = reqs
        .iter()
        .filter(|q| q.kind == Kind::Read && q.outcome == RequestOutcome::Ok)
        .collect();
    let mut out = Vec::new();
    for b in &reads {
        // The newest version among reads of the key that returned before b was called.
        let earlier = reads
            .iter()
            .filter(|a| a.key == b.key && a.return_step.is_some_and(|s| s < b.call_step))
            .max_by(|x, y| x.version.cmp(&y.version));
        if let Some(a) = earlier {
            if b.version < a.version {
                out.push(Inversion {
                    earlier: a.op,
                    later: b.op,
                    why: format!(
                        "{} returned {} at {} ms; {} began after that, at {} ms, yet returned the older {}: not linearizable",
                        what(a, name),
                        ver(&a.version),
                        a.return_ms.unwrap_or(0),
                        what(b, name),
                        b.call_ms,
                        ver(&b.version)
                    ),
                });
            }
        }
    }
    out
}

/// The run up to and including step `upto` (`None`: empty) as a client history for the
/// linearizability checker: one [`Operation`] per request, `client` = the client's node
/// id, times in simulated ms, keyed ops (`key: Some`), labels from the intervention's
/// label or else the request (`"write x=1"`).
///
/// - Served write → `Ok`. Timed-out or pending write → `Info`, `ret: None`: it may have
///   been stored on some replicas and become visible at any later time.
/// - Served read → `Ok` with the value read (`None` for an absent key).
/// - Timed-out read → `Fail`: a read changes no register value. In linearizable mode its
///   write-back may have spread a value to more replicas, but that value is some write's,
///   and that write is in the history (`Ok`, or `Info` taking effect at any time), so
///   dropping the read hides nothing. Pending read → `Info` (always safe).
pub fn history(engine: &Engine<Node>, upto: Option<usize>) -> History {
    let Some(upto) = upto else {
        return History::default();
    };
    let replicas = config(engine).map_or(0, |c| c.replicas);
    let reqs = records(engine, upto, replicas);
    let trace = engine.trace();
    let ops =
        reqs.iter()
            .enumerate()
            .map(|(id, q)| {
                let label = q.label.clone().unwrap_or_else(|| {
                    match trace.get(q.call_step).map(|e| &e.kind) {
                        Some(EventKind::Invoke { request, .. }) => request.label(),
                        _ => String::new(),
                    }
                });
                let key = Some(q.key.clone());
                let (status, ret) = match (q.kind, q.outcome) {
                    (_, RequestOutcome::Ok) => (Status::Ok, q.return_ms),
                    (Kind::Read, RequestOutcome::TimedOut) => (Status::Fail, q.return_ms),
                    _ => (Status::Info, None),
                };
                let op = match q.kind {
                    Kind::Write => Op::Write {
                        key,
                        value: q.value.clone().unwrap_or_default(),
                    },
                    Kind::Read => Op::Read {
                        key,
                        value: q.value.clone(),
                    },
                };
                Operation {
                    id,
                    client: q.client as u64,
                    call: q.call_ms,
                    ret,
                    status,
                    op,
                    label,
                }
            })
            .collect();
    History { ops }
}
