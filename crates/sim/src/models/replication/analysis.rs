//! What a replication run means: each write's latency to acknowledgement, each read's
//! result and whether it was stale, the replication lag of every follower, and the
//! acknowledged writes a failover lost. Computed from the trace (and, for lost writes, from
//! the world replayed to the step), never from inside the protocol.
//!
//! Stale read (DDIA ch. 5, "Problems with Replication Lag"): a read that returns a value
//! older than the newest write to the same key that was acknowledged to its client before
//! the read began. "Older" compares [`Version`]s (generation, then log index).
//!
//! Session guarantees (DDIA ch. 5, Figures 5-3, 5-4, 5-5; Terry et al. 1994): every
//! returned read is checked against three rules, each naming the write the read should
//! have shown ([`SessionViolation`]). "Before" means: acknowledged to, or returned to,
//! the client at an earlier trace step than the one where the read was invoked; reads and
//! writes still in progress when the read begins do not count.
//!
//! - **read-your-writes**: the read returned a version of its key older than a write to
//!   that key by the same client, acknowledged before the read began;
//! - **monotonic reads**: the read returned a version of its key older than a version an
//!   earlier read by the same client of the same key returned;
//! - **consistent prefix**: an earlier read by the same client of *another* key returned
//!   a write W, and this read returned a version of its key older than a write P that W
//!   causally depends on. W depends on P when P is, transitively, a write whose value W's
//!   writer had read (a read returned before W was invoked) or a write of W's writer
//!   acknowledged before W was invoked (DDIA's "causally related writes").
//!
//! The costs of the fixes: [`ServerLoad`] (reads and writes each server served, and their
//! mean latency in simulated ms), each read's wait at a replica ([`ReadOp::waited_ms`]),
//! and the reads still unanswered with whether their replica is down ([`Unanswered`]).

use super::{Msg, Node, Request, Response, Role, Version, View};
use crate::engine::Engine;
use crate::trace::EventKind;
use crate::{NodeId, OpId, Time};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A session guarantee a read can violate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guarantee {
    /// The read missed the client's own acknowledged write (DDIA Figure 5-3).
    ReadYourWrites,
    /// The read went back in time from what the client had read (DDIA Figure 5-4).
    MonotonicReads,
    /// The read missed a write that a write the client had seen depends on (DDIA Figure 5-5).
    ConsistentPrefix,
}

impl Guarantee {
    /// The guarantee's name in words, e.g. "read-your-writes".
    pub fn name(self) -> &'static str {
        match self {
            Guarantee::ReadYourWrites => "read-your-writes",
            Guarantee::MonotonicReads => "monotonic reads",
            Guarantee::ConsistentPrefix => "consistent prefix",
        }
    }
}

/// One read that violated a session guarantee, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionViolation {
    pub guarantee: Guarantee,
    /// The violating read and its client.
    pub read: OpId,
    pub client: NodeId,
    /// The write the read should have shown (or something newer): the client's own write
    /// (read-your-writes), the write an earlier read returned (monotonic reads), or the
    /// causal predecessor (consistent prefix).
    pub missing_write: OpId,
    /// The earlier read by the same client that the rule compares with (monotonic reads:
    /// the read that returned the newer version; consistent prefix: the read that returned
    /// the dependent write); `None` for read-your-writes.
    pub earlier_read: Option<OpId>,
    /// The explanation in words.
    pub explanation: String,
}

/// What one server did: the fixes' cost in load and latency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServerLoad {
    pub server: NodeId,
    /// Index of its partition (0: the scenario's `leader` and `followers`).
    pub partition: usize,
    /// Whether it leads its partition at the analysed step.
    pub leader: bool,
    /// Client reads it answered.
    pub reads: usize,
    /// Mean latency of those reads, invocation to return at the client, simulated ms.
    pub mean_read_ms: Option<f64>,
    /// Client writes it appended as leader.
    pub writes: usize,
}

/// A read that has not returned at the analysed step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unanswered {
    pub op: OpId,
    pub client: NodeId,
    /// The replica the read was sent to.
    pub replica: NodeId,
    /// Whether that replica is down at the analysed step.
    pub replica_down: bool,
    /// Simulated ms since the read was invoked.
    pub waiting_ms: Time,
}

/// A partition (shard): its servers and its current leader.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionState {
    pub servers: Vec<NodeId>,
    /// The leader with the highest generation among its servers (it may be down).
    pub leader: Option<NodeId>,
    pub leader_position: u64,
}

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
    /// The replica the client actually sent the read to: the named one, unless a session
    /// guarantee routed it elsewhere (the leader, a sticky replica).
    pub served_by: Option<NodeId>,
    /// How long the read waited at the replica for its log to reach the read's position
    /// (simulated ms; 0 when answered at once, `None` before it is answered).
    pub waited_ms: Option<Time>,
    /// The guarantees this read violated (details in [`Analysis::session_violations`]).
    pub violates: Vec<Guarantee>,
}

impl ReadOp {
    /// Latency from invocation to return, simulated ms.
    pub fn latency_ms(&self) -> Option<Time> {
        self.returned.as_ref().map(|r| r.0 - self.invoked_at)
    }
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
    /// Acknowledged writes that are not in their partition's current leader's log (lost
    /// by a failover).
    pub lost_writes: Vec<OpId>,
    /// Every partition; one when the scenario has no `partitions`.
    pub partitions: Vec<PartitionState>,
    /// Reads that violated a session guarantee, in invocation order (a read may appear
    /// once per guarantee).
    pub session_violations: Vec<SessionViolation>,
    /// Per server: reads and writes served (the cost of routing reads to leaders, of
    /// co-locating keys on one partition).
    pub load: Vec<ServerLoad>,
    /// Reads not answered (yet), e.g. sent to a sticky replica that is down.
    pub unanswered: Vec<Unanswered>,
}

impl Analysis {
    /// The stale reads, in invocation order.
    pub fn stale_reads(&self) -> impl Iterator<Item = &ReadOp> {
        self.reads.iter().filter(|r| r.stale.is_some())
    }

    /// The session-guarantee violations of one guarantee.
    pub fn violations(&self, g: Guarantee) -> impl Iterator<Item = &SessionViolation> {
        self.session_violations
            .iter()
            .filter(move |v| v.guarantee == g)
    }

    /// The read with this label, if any.
    pub fn read(&self, label: &str) -> Option<&ReadOp> {
        self.reads
            .iter()
            .find(|r| r.label.as_deref() == Some(label))
    }

    /// The write with this label, if any.
    pub fn write(&self, label: &str) -> Option<&WriteOp> {
        self.writes
            .iter()
            .find(|w| w.label.as_deref() == Some(label))
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
    let mut down = vec![false; names.len()];
    // (key, version) → the write that produced it, appended by a leader.
    let mut write_of: BTreeMap<(String, Version), OpId> = BTreeMap::new();
    let mut appended_writes: BTreeMap<NodeId, usize> = BTreeMap::new();
    // When each read reached its replica, and when (and by whom) it was answered.
    let mut arrived: BTreeMap<OpId, Time> = BTreeMap::new();
    let mut answered: BTreeMap<OpId, (Time, NodeId)> = BTreeMap::new();
    for (i, ev) in trace[..end].iter().enumerate() {
        now = ev.time;
        match (&ev.kind, ev.node) {
            (EventKind::Crash, Some(n)) => down[n] = true,
            (EventKind::Restart, Some(n)) => down[n] = false,
            (
                EventKind::Deliver {
                    payload: Msg::Read { op, .. },
                    ..
                },
                Some(_),
            ) => {
                arrived.insert(*op, ev.time);
            }
            (
                EventKind::Deliver {
                    payload: Msg::Write { op, key, .. },
                    ..
                },
                Some(n),
            ) => {
                if let Some(View::Server(new)) = &ev.state {
                    if let (Role::Leader, Some((_, v))) = (new.role, new.data.get(key)) {
                        if v.index == new.position {
                            write_of.insert((key.clone(), *v), *op);
                            *appended_writes.entry(n).or_insert(0) += 1;
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(n) = ev.node {
            for m in &ev.sent {
                if let Msg::ReadOk { op, .. } = &m.payload {
                    answered.insert(*op, (ev.time, n));
                }
            }
        }
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
                    let served_by = ev.sent.iter().find_map(|m| match &m.payload {
                        Msg::Read { op: o, .. } if o == op => Some(m.to),
                        _ => None,
                    });
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
                        served_by,
                        waited_ms: None,
                        violates: Vec::new(),
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

    // How long each answered read waited at its replica.
    for r in reads.iter_mut() {
        if let (Some(a), Some((t, _))) = (arrived.get(&r.op), answered.get(&r.op)) {
            if r.returned.is_some() {
                r.waited_ms = Some(t.saturating_sub(*a));
            }
        }
    }

    let session_violations = session_checks(&names, &writes, &mut reads, &write_of);

    // Partitions: the servers of each replication group, from the nodes' configuration.
    let nodes = &engine.world().nodes;
    let mut groups: Vec<Vec<NodeId>> = Vec::new();
    for n in nodes.iter() {
        let g = n.group();
        if !g.is_empty() && !groups.iter().any(|x| x.as_slice() == g) {
            groups.push(g.to_vec());
        }
    }
    let view_of = |n: NodeId| match &views[n] {
        View::Server(s) => Some(s),
        View::Client { .. } => None,
    };
    let mut partitions = Vec::new();
    let mut lag = Vec::new();
    for g in &groups {
        let leader = g
            .iter()
            .filter_map(|n| view_of(*n).map(|s| (*n, s)))
            .filter(|(_, s)| s.role == Role::Leader)
            .max_by_key(|(n, s)| (s.generation, std::cmp::Reverse(*n)))
            .map(|(n, _)| n);
        let mut leader_position = 0;
        if let Some(l) = leader {
            let lp = view_of(l).map_or(0, |s| s.position);
            leader_position = lp;
            let times = appended.get(&l);
            for n in g {
                let Some(s) = view_of(*n) else { continue };
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
        partitions.push(PartitionState {
            servers: g.clone(),
            leader,
            leader_position,
        });
    }
    let leader = partitions.first().and_then(|p| p.leader);
    let leader_position = partitions.first().map_or(0, |p| p.leader_position);

    // Acknowledged writes missing from their partition's current leader's log (only
    // possible after a failover).
    let mut lost_writes = Vec::new();
    let failed_over = (0..views.len()).any(|n| view_of(n).is_some_and(|s| s.generation > 1));
    if failed_over {
        if let Some(world) = engine.world_at(step) {
            let logs: Vec<&[super::Entry]> = partitions
                .iter()
                .filter_map(|p| p.leader)
                .map(|l| world.nodes[l].log().unwrap_or(&[]))
                .collect();
            for w in writes.iter().filter(|w| w.acked.is_some()) {
                if !logs.iter().any(|log| log.iter().any(|e| e.op == w.op)) {
                    lost_writes.push(w.op);
                }
            }
        }
    }

    // The load on each server.
    let mut load = Vec::new();
    for (pi, p) in partitions.iter().enumerate() {
        for &n in &p.servers {
            let served: Vec<Time> = reads
                .iter()
                .filter(|r| answered.get(&r.op).is_some_and(|a| a.1 == n))
                .filter_map(|r| r.latency_ms())
                .collect();
            load.push(ServerLoad {
                server: n,
                partition: pi,
                leader: p.leader == Some(n),
                reads: served.len(),
                mean_read_ms: (!served.is_empty())
                    .then(|| served.iter().sum::<Time>() as f64 / served.len() as f64),
                writes: appended_writes.get(&n).copied().unwrap_or(0),
            });
        }
    }
    let unanswered = reads
        .iter()
        .filter(|r| r.returned.is_none())
        .filter_map(|r| {
            r.served_by.map(|to| Unanswered {
                op: r.op,
                client: r.client,
                replica: to,
                replica_down: down[to],
                waiting_ms: now.saturating_sub(r.invoked_at),
            })
        })
        .collect();

    Analysis {
        now,
        writes,
        reads,
        leader,
        leader_position,
        lag,
        lost_writes,
        partitions,
        session_violations,
        load,
        unanswered,
    }
}

/// The three session checks of the module documentation, on every returned read.
fn session_checks(
    names: &[&str],
    writes: &[WriteOp],
    reads: &mut [ReadOp],
    write_of: &BTreeMap<(String, Version), OpId>,
) -> Vec<SessionViolation> {
    let write_by_op: BTreeMap<OpId, &WriteOp> = writes.iter().map(|w| (w.op, w)).collect();
    let version_of: BTreeMap<OpId, Version> =
        write_of.iter().map(|((_, v), op)| (*op, *v)).collect();
    let written = |r: &ReadOp| -> Option<OpId> {
        let (_, _, _, v, _) = r.returned.as_ref()?;
        write_of.get(&(r.key.clone(), *v)).copied()
    };
    let describe = |op: OpId| -> String {
        match write_by_op.get(&op) {
            Some(w) => format!("{}'s write {}={}", names[w.client], w.key, w.value),
            None => format!("write #{op}"),
        }
    };
    let got = |r: &ReadOp| -> String {
        let v = r.returned.as_ref().and_then(|x| x.2.clone());
        v.unwrap_or_else(|| "(nothing)".into())
    };
    let from = |r: &ReadOp| names[r.served_by.unwrap_or(r.replica)].to_string();
    // Causal dependencies of each write (transitively closed), in invocation order.
    let mut deps: BTreeMap<OpId, BTreeSet<OpId>> = BTreeMap::new();
    let mut by_invoke: Vec<&WriteOp> = writes.iter().collect();
    by_invoke.sort_by_key(|w| w.invoke_step);
    for w in by_invoke {
        let mut d = BTreeSet::new();
        let seen_reads = reads.iter().filter(|r| {
            r.client == w.client && r.returned.as_ref().is_some_and(|x| x.1 < w.invoke_step)
        });
        let mut direct: Vec<OpId> = seen_reads.filter_map(&written).collect();
        direct.extend(
            writes
                .iter()
                .filter(|o| o.client == w.client && o.acked.is_some_and(|a| a.1 < w.invoke_step))
                .map(|o| o.op),
        );
        for p in direct {
            if p == w.op {
                continue;
            }
            d.insert(p);
            if let Some(pd) = deps.get(&p) {
                d.extend(pd.iter().copied());
            }
        }
        deps.insert(w.op, d);
    }

    let mut out = Vec::new();
    for i in 0..reads.len() {
        let r = &reads[i];
        let Some((at, _, _, version, position)) = r.returned.clone() else {
            continue;
        };
        let mut found = Vec::new();
        // Read-your-writes: the client's own acknowledged write to the key.
        let own = writes
            .iter()
            .filter(|w| {
                w.client == r.client
                    && w.key == r.key
                    && w.acked.is_some_and(|a| a.1 < r.invoke_step)
            })
            .max_by_key(|w| w.acked.map(|a| a.2));
        if let Some(w) = own {
            let wv = w.acked.expect("filtered").2;
            if version < wv {
                found.push(SessionViolation {
                    guarantee: Guarantee::ReadYourWrites,
                    read: r.op,
                    client: r.client,
                    missing_write: w.op,
                    earlier_read: None,
                    explanation: format!(
                        "{c} wrote {k}={new} (acknowledged at {acked} ms, log index {idx}), then read {k} at {start} ms \
                         and got \"{g}\" from {rep} at {at} ms: {rep} was at log position {position} and had not \
                         applied {c}'s own write yet.",
                        c = names[r.client],
                        k = r.key,
                        new = w.value,
                        acked = w.acked.expect("filtered").0,
                        idx = wv.index,
                        start = r.invoked_at,
                        g = got(r),
                        rep = from(r),
                    ),
                });
            }
        }
        // Monotonic reads: an earlier read of the key by the client returned a newer version.
        let earlier = reads[..]
            .iter()
            .filter(|e| {
                e.client == r.client
                    && e.key == r.key
                    && e.returned.as_ref().is_some_and(|x| x.1 < r.invoke_step)
            })
            .max_by_key(|e| e.returned.as_ref().map(|x| x.3));
        if let Some(e) = earlier {
            let ev = e.returned.as_ref().expect("filtered").3;
            if version < ev {
                found.push(SessionViolation {
                    guarantee: Guarantee::MonotonicReads,
                    read: r.op,
                    client: r.client,
                    missing_write: write_of.get(&(r.key.clone(), ev)).copied().unwrap_or(0),
                    earlier_read: Some(e.op),
                    explanation: format!(
                        "{c} read {k} at {t1} ms and got \"{g1}\" (log index {i1}) from {r1}; then read it at {t2} ms \
                         and got \"{g2}\" (log index {i2}) from {r2}, which was at log position {position}: \
                         time went backwards.",
                        c = names[r.client],
                        k = r.key,
                        t1 = e.invoked_at,
                        g1 = got(e),
                        i1 = ev.index,
                        r1 = from(e),
                        t2 = r.invoked_at,
                        g2 = got(r),
                        i2 = version.index,
                        r2 = from(r),
                    ),
                });
            }
        }
        // Consistent prefix: an earlier read of another key showed a write W that depends
        // on a write P to this key, and this read does not show P.
        let mut cp = None;
        'outer: for e in reads.iter().filter(|e| {
            e.client == r.client
                && e.key != r.key
                && e.returned.as_ref().is_some_and(|x| x.1 < r.invoke_step)
        }) {
            let Some(w) = written(e) else { continue };
            for p in deps.get(&w).into_iter().flatten() {
                let (Some(pw), Some(pv)) = (write_by_op.get(p), version_of.get(p)) else {
                    continue;
                };
                if pw.key == r.key && version < *pv {
                    cp = Some((e, w, *p));
                    break 'outer;
                }
            }
        }
        if let Some((e, w, p)) = cp {
            found.push(SessionViolation {
                guarantee: Guarantee::ConsistentPrefix,
                read: r.op,
                client: r.client,
                missing_write: p,
                earlier_read: Some(e.op),
                explanation: format!(
                    "{c} read {k1} at {t1} ms and saw {w} (from {r1}); that write depends on {p}, \
                     whose writer had seen it. Then {c} read {k2} at {t2} ms and got \"{g}\" from {r2} at {at} ms: \
                     the effect without its cause.",
                    c = names[r.client],
                    k1 = e.key,
                    t1 = e.invoked_at,
                    w = describe(w),
                    r1 = from(e),
                    p = describe(p),
                    k2 = r.key,
                    t2 = r.invoked_at,
                    g = got(r),
                    r2 = from(r),
                ),
            });
        }
        reads[i].violates = found.iter().map(|v| v.guarantee).collect();
        out.extend(found);
    }
    out
}
