//! What a replication run means: each write's latency to acknowledgement, each read's
//! result and whether it was stale, the replication lag of every follower, and the
//! acknowledged writes a failover lost. Computed from the trace (and, for lost writes, from
//! the world replayed to the step), never from inside the protocol.
//!
//! Stale read (DDIA ch. 5, "Problems with Replication Lag"): a read that returns a value
//! older than the newest write to the same key that was acknowledged to its client before
//! the read began. "Older" compares [`Version`]s (generation, then log index).

use super::{Node, Request, Response, Role, Version, View};
use crate::engine::Engine;
use crate::trace::EventKind;
use crate::{NodeId, OpId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// A client write and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WriteOp {
    pub op: OpId,
    pub label: Option<String>,
    pub client: NodeId,
    pub key: String,
    pub value: String,
    /// When the client invoked it (simulated ms) and the trace step.
    pub invoked_at: Time,
    pub invoke_step: usize,
    /// When the acknowledgement reached the client, its step, and the write's version.
    pub acked: Option<(Time, usize, Version)>,
}

impl WriteOp {
    /// Latency from invocation to acknowledgement, simulated ms.
    pub fn latency_ms(&self) -> Option<Time> {
        self.acked.map(|(t, _, _)| t - self.invoked_at)
    }
}

/// Why a read was stale.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Staleness {
    /// The newest write acknowledged before the read began.
    pub newest_write: OpId,
    pub expected_value: String,
    pub expected_version: Version,
    /// The explanation in words.
    pub explanation: String,
}

/// A client read and what it returned.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadOp {
    pub op: OpId,
    pub label: Option<String>,
    pub client: NodeId,
    pub replica: NodeId,
    pub key: String,
    pub invoked_at: Time,
    pub invoke_step: usize,
    /// `(time, step, value, version, replica position)` once it returned.
    pub returned: Option<(Time, usize, Option<String>, Version, u64)>,
    /// Set when the read was stale.
    pub stale: Option<Staleness>,
}

/// A follower's replication lag at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lag {
    pub follower: NodeId,
    /// Leader position − follower position (entries).
    pub entries: u64,
    /// How long ago the leader appended the oldest entry the follower lacks (simulated ms; 0 when caught up).
    pub ms: Time,
    pub position: u64,
}

/// Everything the replication page shows about a run at one step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// Time of the step, simulated ms.
    pub now: Time,
    pub writes: Vec<WriteOp>,
    pub reads: Vec<ReadOp>,
    /// The current leader: the leader with the highest generation (it may be down).
    pub leader: Option<NodeId>,
    pub leader_position: u64,
    pub lag: Vec<Lag>,
    /// Acknowledged writes that are not in the current leader's log (lost by a failover).
    pub lost_writes: Vec<OpId>,
}

impl Analysis {
    /// The stale reads, in invocation order.
    pub fn stale_reads(&self) -> impl Iterator<Item = &ReadOp> {
        self.reads.iter().filter(|r| r.stale.is_some())
    }

    /// The operation with this label, if any: `(op, returned?)`.
    pub fn labelled(&self, label: &str) -> Option<(OpId, bool)> {
        let w = self
            .writes
            .iter()
            .find(|w| w.label.as_deref() == Some(label))
            .map(|w| (w.op, w.acked.is_some()));
        w.or_else(|| {
            self.reads
                .iter()
                .find(|r| r.label.as_deref() == Some(label))
                .map(|r| (r.op, r.returned.is_some()))
        })
    }
}

/// Analyses the run up to and including trace step `step` (`None`: before any event).
pub fn analyze(engine: &Engine<Node>, step: Option<usize>) -> Analysis {
    let trace = engine.trace();
    let names: Vec<&str> = engine.nodes().iter().map(|n| n.name.as_str()).collect();
    let end = step.map_or(0, |s| (s + 1).min(trace.len()));
    let mut views = engine.views_at(None);
    let mut writes: Vec<WriteOp> = Vec::new();
    let mut reads: Vec<ReadOp> = Vec::new();
    let mut index_of: BTreeMap<OpId, (bool, usize)> = BTreeMap::new();
    // When each server appended each log index (while leading), simulated ms.
    let mut appended: BTreeMap<NodeId, Vec<Time>> = BTreeMap::new();
    let mut now = 0;
    for (i, ev) in trace[..end].iter().enumerate() {
        now = ev.time;
        if let (Some(n), EventKind::Invoke { op, request, label }) = (ev.node, &ev.kind) {
            match request {
                Request::Write { key, value } => {
                    index_of.insert(*op, (true, writes.len()));
                    writes.push(WriteOp {
                        op: *op,
                        label: label.clone(),
                        client: n,
                        key: key.clone(),
                        value: value.clone(),
                        invoked_at: ev.time,
                        invoke_step: i,
                        acked: None,
                    });
                }
                Request::Read { key, replica } => {
                    index_of.insert(*op, (false, reads.len()));
                    reads.push(ReadOp {
                        op: *op,
                        label: label.clone(),
                        client: n,
                        replica: *replica,
                        key: key.clone(),
                        invoked_at: ev.time,
                        invoke_step: i,
                        returned: None,
                        stale: None,
                    });
                }
            }
        }
        for (op, resp) in &ev.returned {
            match (index_of.get(op), resp) {
                (Some(&(true, w)), Response::Written { version }) => {
                    writes[w].acked = Some((ev.time, i, *version))
                }
                (
                    Some(&(false, r)),
                    Response::Value {
                        value,
                        version,
                        position,
                    },
                ) => reads[r].returned = Some((ev.time, i, value.clone(), *version, *position)),
                _ => {}
            }
        }
        if let (Some(n), Some(v)) = (ev.node, &ev.state) {
            if let (View::Server(new), View::Server(old)) = (v, &views[n]) {
                if new.role == Role::Leader {
                    let times = appended.entry(n).or_default();
                    times.truncate(old.position.min(new.position) as usize);
                    while (times.len() as u64) < new.position {
                        times.push(ev.time);
                    }
                }
            }
            views[n] = v.clone();
        }
    }

    // Stale reads.
    for r in reads.iter_mut() {
        let Some((at, _, value, version, position)) = &r.returned else {
            continue;
        };
        let newest = writes
            .iter()
            .filter(|w| w.key == r.key && w.acked.is_some_and(|(_, s, _)| s < r.invoke_step))
            .max_by_key(|w| w.acked.map(|a| a.2));
        let Some(w) = newest else { continue };
        let wv = w.acked.expect("filtered").2;
        if *version < wv {
            let got = value.as_deref().unwrap_or("(nothing)");
            r.stale = Some(Staleness {
                newest_write: w.op,
                expected_value: w.value.clone(),
                expected_version: wv,
                explanation: format!(
                    "{client}'s read at {start} ms returned \"{got}\" from {replica} at {at} ms, but {writer}'s write of \"{new}\" \
                     had been acknowledged at {acked} ms, before the read began. {replica} was at log position {position}; \
                     the write is log index {index}, which had not reached it yet.",
                    client = names[r.client],
                    start = r.invoked_at,
                    replica = names[r.replica],
                    writer = names[w.client],
                    new = w.value,
                    acked = w.acked.expect("filtered").0,
                    index = wv.index,
                ),
            });
        }
    }

    // The current leader and each follower's lag.
    let servers: Vec<(NodeId, &super::ServerView)> = views
        .iter()
        .enumerate()
        .filter_map(|(n, v)| {
            if let View::Server(s) = v {
                Some((n, s))
            } else {
                None
            }
        })
        .collect();
    let leader = servers
        .iter()
        .filter(|(_, s)| s.role == Role::Leader)
        .max_by_key(|(n, s)| (s.generation, std::cmp::Reverse(*n)))
        .map(|(n, _)| *n);
    let mut lag = Vec::new();
    let mut leader_position = 0;
    if let Some(l) = leader {
        let lp = servers
            .iter()
            .find(|(n, _)| *n == l)
            .map(|(_, s)| s.position)
            .unwrap_or(0);
        leader_position = lp;
        let times = appended.get(&l);
        for (n, s) in &servers {
            // Followers only: a deposed leader that has not heard of its successor has no lag.
            if *n == l || s.role == Role::Leader {
                continue;
            }
            let entries = lp.saturating_sub(s.position);
            let ms = if entries > 0 {
                times
                    .and_then(|t| t.get(s.position as usize))
                    .map_or(0, |t| now.saturating_sub(*t))
            } else {
                0
            };
            lag.push(Lag {
                follower: *n,
                entries,
                ms,
                position: s.position,
            });
        }
    }

    // Acknowledged writes missing from the current leader's log (only possible after a failover).
    let mut lost_writes = Vec::new();
    let failed_over = servers.iter().any(|(_, s)| s.generation > 1);
    if let (Some(l), true) = (leader, failed_over) {
        if let Some(world) = engine.world_at(step) {
            let log = world.nodes[l].log().unwrap_or(&[]);
            for w in writes.iter().filter(|w| w.acked.is_some()) {
                if !log.iter().any(|e| e.op == w.op) {
                    lost_writes.push(w.op);
                }
            }
        }
    }

    Analysis {
        now,
        writes,
        reads,
        leader,
        leader_position,
        lag,
        lost_writes,
    }
}
