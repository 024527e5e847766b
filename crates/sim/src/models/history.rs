//! Client histories of engine runs, for the linearizability checker
//! ([`crate::linearizability`]).
//!
//! Any engine model whose clients issue requests can give its history: the engine records
//! each call ([`EventKind::Invoke`]) and each return ([`crate::Event::returned`]); the
//! model only says what each request and response mean as a register or key-value
//! operation ([`client_history`]'s `classify`). Times are simulated milliseconds.

use crate::engine::{Engine, Protocol};
use crate::linearizability::{History, Op, Operation, Status};
use crate::{EventKind, NodeId, OpId};
use std::collections::BTreeMap;

/// Where one operation of a [`History`] is in the trace, so that the UI can mark it on the
/// space-time diagram. Indexed like [`History::ops`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSteps {
    /// The engine's id of the client operation.
    pub op: OpId,
    /// The client node that called it.
    pub client: NodeId,
    /// The trace step of the call.
    pub call: usize,
    /// The trace step of the return; `None` while pending or if it never returned.
    pub ret: Option<usize>,
}

/// A run's client history up to and including trace step `upto` (`None`: before the first
/// event, so empty), with where each operation is in the trace.
///
/// `classify(request, response)` turns one operation into the checker's terms; `response`
/// is `None` for an operation still pending at `upto` (usually: `Status::Info` for a write,
/// which may yet take effect, and `None` for a read, which constrains nothing). Returning
/// `None` leaves the operation out (e.g. requests the checker has no model for).
/// Operations are in call order; ids are their indices.
pub fn client_history<P: Protocol>(
    engine: &Engine<P>,
    upto: Option<usize>,
    classify: impl Fn(&P::Request, Option<&P::Response>) -> Option<(Op, Status)>,
) -> (History, Vec<OpSteps>) {
    let trace = engine.trace();
    let end = upto.map_or(0, |s| (s + 1).min(trace.len()));
    // (operation, client, call step, request, label)
    type Call<'a, R> = (OpId, NodeId, usize, &'a R, Option<&'a str>);
    let mut calls: Vec<Call<'_, P::Request>> = Vec::new();
    let mut returns: BTreeMap<OpId, (usize, &P::Response)> = BTreeMap::new();
    for (step, ev) in trace[..end].iter().enumerate() {
        if let (EventKind::Invoke { op, request, label }, Some(node)) = (&ev.kind, ev.node) {
            calls.push((*op, node, step, request, label.as_deref()));
        }
        for (op, response) in &ev.returned {
            returns.entry(*op).or_insert((step, response));
        }
    }
    let mut history = History::default();
    let mut steps = Vec::new();
    for (op, client, call, request, label) in calls {
        let ret = returns.get(&op).copied();
        let Some((kind, status)) = classify(request, ret.map(|(_, r)| r)) else {
            continue;
        };
        let ret_step = ret.map(|(s, _)| s).filter(|_| status != Status::Info);
        history.ops.push(Operation {
            id: history.ops.len(),
            client: client as u64,
            call: trace[call].time,
            ret: ret_step.map(|s| trace[s].time),
            status,
            op: kind,
            label: label.unwrap_or_default().to_string(),
        });
        steps.push(OpSteps {
            op,
            client,
            call,
            ret: ret.map(|(s, _)| s),
        });
    }
    (history, steps)
}

/// Single-leader replication's client history, checked as one register per key: writes
/// are puts, reads are gets of the replica's value (`None`: never written). A write still
/// waiting for its acknowledgement is of unknown outcome (`Info`); a pending read is left
/// out (it constrains nothing).
pub fn replication(
    engine: &Engine<super::replication::Node>,
    upto: Option<usize>,
) -> (History, Vec<OpSteps>) {
    use super::replication::{Request, Response};
    client_history(engine, upto, |req, resp| match (req, resp) {
        (Request::Write { key, value }, resp) => Some((
            Op::Write {
                key: Some(key.clone()),
                value: value.clone(),
            },
            if resp.is_some() {
                Status::Ok
            } else {
                Status::Info
            },
        )),
        (Request::Read { key, .. }, Some(Response::Value { value, .. })) => Some((
            Op::Read {
                key: Some(key.clone()),
                value: value.clone(),
            },
            Status::Ok,
        )),
        _ => None,
    })
}

/// Raft's client history, checked as one register per key: puts and gets as applied by
/// the replicated state machine (a get returns the key's value, `None` when absent). Raft
/// clients retry until answered, so a pending put may still take effect (`Info`).
pub fn raft(engine: &Engine<super::raft::Node>, upto: Option<usize>) -> (History, Vec<OpSteps>) {
    use super::raft::Request;
    client_history(engine, upto, |req, resp| match (req, resp) {
        (Request::Put { key, value }, resp) => Some((
            Op::Write {
                key: Some(key.clone()),
                value: value.clone(),
            },
            if resp.is_some() {
                Status::Ok
            } else {
                Status::Info
            },
        )),
        (Request::Get { key }, Some(r)) => Some((
            Op::Read {
                key: Some(key.clone()),
                value: r.value.clone(),
            },
            Status::Ok,
        )),
        _ => None,
    })
}

/// A quorum store's client history (see [`super::quorum`]), checked as one register per
/// model: a write that was served is `Ok`; one that timed out, or is still pending, may
/// still have been stored by some replicas (`Info`); a served read is `Ok` with the value
/// it returned; a read that timed out or is pending is left out (it returned nothing —
/// its write-back in linearizable mode only re-stores a value already written).
pub fn quorum(
    engine: &Engine<super::quorum::Node>,
    upto: Option<usize>,
) -> (History, Vec<OpSteps>) {
    use super::quorum::{Outcome, Request};
    client_history(engine, upto, |req, resp| {
        let served = resp.is_some_and(|r| r.outcome == Outcome::Ok);
        match req {
            Request::Write { key, value } => Some((
                Op::Write {
                    key: Some(key.clone()),
                    value: value.clone(),
                },
                if served { Status::Ok } else { Status::Info },
            )),
            Request::Read { key } => served.then(|| {
                (
                    Op::Read {
                        key: Some(key.clone()),
                        value: resp.and_then(|r| r.value.clone()),
                    },
                    Status::Ok,
                )
            }),
        }
    })
}

/// A leaderless store's client history (see [`super::leaderless`]), checked as one set per
/// cart: an add or a remove is the set's `add` / `remove` of the item (`Info` while
/// pending); a get returns the cart a client sees after merging every sibling (the union of
/// their items, minus tombstones).
pub fn leaderless(
    engine: &Engine<super::leaderless::Node>,
    upto: Option<usize>,
) -> (History, Vec<OpSteps>) {
    use super::leaderless::{Cart, Request};
    client_history(engine, upto, |req, resp| {
        let status = if resp.is_some() {
            Status::Ok
        } else {
            Status::Info
        };
        match req {
            Request::Add { key, item, .. } => Some((
                Op::Add {
                    key: Some(key.clone()),
                    value: item.clone(),
                },
                status,
            )),
            Request::Remove { key, item, .. } => Some((
                Op::Remove {
                    key: Some(key.clone()),
                    value: item.clone(),
                },
                status,
            )),
            Request::Get { key, .. } => resp.map(|r| {
                let mut cart = Cart::default();
                for s in &r.siblings {
                    cart.merge(&s.value);
                }
                (
                    Op::ReadSet {
                        key: Some(key.clone()),
                        values: cart.visible(),
                    },
                    Status::Ok,
                )
            }),
        }
    })
}
