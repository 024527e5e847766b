//! The engine's network and crash semantics, checked by walking the trace with an
//! independent model of who is up and who can reach whom, over random runs with crashes,
//! restarts, partitions, cut links, link delays, message loss and manual drops:
//!
//! - no message is delivered to a node that is down, nor between nodes separated by a
//!   partition or a cut link at delivery time;
//! - every message sent ends (delivered or dropped) at most once, exactly once when its
//!   arrival is within the run, at its scheduled arrival time (manual drops: earlier);
//! - a crash drops exactly the messages in flight to the crashed node, and lists them;
//! - every drop has a reason that the model confirms; directed links deliver in send order;
//! - a node that is down handles nothing; every intervention leaves exactly one event.

use crate::common;

use common::{build, schedule, spec, Faults, Modes};
use distlab_sim::engine::Action;
use distlab_sim::models::replication::Node;
use distlab_sim::trace::{DropReason, EventKind};
use distlab_sim::{Engine, Event, MessageId, NodeId, Time};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// The test's own model of the network's reachability, driven by trace events only.
#[derive(Default)]
struct Net {
    groups: Vec<Vec<NodeId>>,
    cut: BTreeSet<(NodeId, NodeId)>,
}

impl Net {
    fn reachable(&self, a: NodeId, b: NodeId) -> bool {
        if a == b {
            return true;
        }
        if self.cut.contains(&(a.min(b), a.max(b))) {
            return false;
        }
        let ga = self.groups.iter().position(|g| g.contains(&a));
        let gb = self.groups.iter().position(|g| g.contains(&b));
        !matches!((ga, gb), (Some(x), Some(y)) if x != y)
    }
}

struct Msg {
    from: NodeId,
    to: NodeId,
    sent_at: Time,
    arrives_at: Time,
    reachable_at_send: bool,
    ended: bool,
}

fn check(engine: &Engine<Node>, loss: f64) -> Result<(), TestCaseError> {
    check_trace(
        engine.trace(),
        engine.nodes().len(),
        engine.interventions().len(),
        engine.horizon(),
        loss,
    )
}

/// Checks `trace` of a run with `n` nodes, `interventions` interventions, lasting until
/// `horizon` (simulated ms), with loss probability `loss`.
fn check_trace(
    trace: &[Event<Node>],
    n: usize,
    interventions: usize,
    horizon: Time,
    loss: f64,
) -> Result<(), TestCaseError> {
    let mut up = vec![true; n];
    let mut net = Net::default();
    let mut msgs: BTreeMap<MessageId, Msg> = BTreeMap::new();
    let mut next_id: MessageId = 0;
    // Per directed link, the ids delivered so far (to check FIFO order).
    let mut last_delivered: BTreeMap<(NodeId, NodeId), MessageId> = BTreeMap::new();
    let mut last_time = 0;
    let mut intervention_events = 0;
    for (step, ev) in trace.iter().enumerate() {
        prop_assert!(ev.time >= last_time, "time goes back at step {}", step);
        last_time = ev.time;
        let here = ev.node;
        match &ev.kind {
            EventKind::Deliver {
                id, from, sent_at, ..
            } => {
                let to = here.expect("a delivery has a node");
                prop_assert!(
                    up[to],
                    "step {}: message #{} delivered to node {} while it is down",
                    step,
                    id,
                    to
                );
                prop_assert!(
                    net.reachable(*from, to),
                    "step {}: message #{} delivered from {} to {} across a partition or cut link",
                    step,
                    id,
                    from,
                    to
                );
                let m = msgs.get_mut(id).expect("delivered message was sent");
                prop_assert!(!m.ended, "step {}: message #{} ends twice", step, id);
                prop_assert!(
                    m.reachable_at_send,
                    "step {}: message #{} was sent across a partition",
                    step,
                    id
                );
                prop_assert_eq!((m.from, m.to, m.sent_at), (*from, to, *sent_at));
                prop_assert_eq!(ev.time, m.arrives_at, "delivered at its scheduled arrival");
                m.ended = true;
                if let Some(prev) = last_delivered.insert((*from, to), *id) {
                    prop_assert!(
                        prev < *id,
                        "step {}: link {}→{} delivered #{} after #{}",
                        step,
                        from,
                        to,
                        id,
                        prev
                    );
                }
            }
            EventKind::Drop {
                id,
                from,
                sent_at,
                reason,
                ..
            } => {
                let to = here.expect("a drop has a node");
                let m = msgs.get_mut(id).expect("dropped message was sent");
                prop_assert!(!m.ended, "step {}: message #{} ends twice", step, id);
                prop_assert_eq!((m.from, m.to, m.sent_at), (*from, to, *sent_at));
                match reason {
                    DropReason::Manual => {
                        prop_assert!(ev.time <= m.arrives_at);
                        intervention_events += 1;
                    }
                    DropReason::Loss => {
                        prop_assert!(loss > 0.0, "step {}: loss without a loss probability", step);
                        prop_assert_eq!(ev.time, m.arrives_at);
                    }
                    DropReason::Partition => {
                        prop_assert!(
                            !m.reachable_at_send || !net.reachable(*from, to),
                            "step {}: #{} dropped for a partition that does not separate {} and {}",
                            step,
                            id,
                            from,
                            to
                        );
                        prop_assert_eq!(ev.time, m.arrives_at);
                    }
                    DropReason::ReceiverDown => {
                        prop_assert!(
                            !up[to],
                            "step {}: #{} dropped as receiver down, but {} is up",
                            step,
                            id,
                            to
                        );
                        prop_assert!(net.reachable(*from, to) && m.reachable_at_send);
                        prop_assert_eq!(ev.time, m.arrives_at);
                    }
                }
                m.ended = true;
            }
            EventKind::Crash => {
                let node = here.expect("a crash has a node");
                prop_assert!(up[node], "step {}: node {} crashes twice", step, node);
                up[node] = false;
                intervention_events += 1;
                let in_flight: Vec<MessageId> = msgs
                    .iter()
                    .filter(|(_, m)| m.to == node && !m.ended)
                    .map(|(id, _)| *id)
                    .collect();
                prop_assert_eq!(
                    &ev.dropped,
                    &in_flight,
                    "step {}: crash of {} drops exactly what was in flight to it",
                    step,
                    node
                );
                for id in &ev.dropped {
                    msgs.get_mut(id).expect("listed").ended = true;
                }
            }
            EventKind::Restart => {
                let node = here.expect("a restart has a node");
                prop_assert!(!up[node], "step {}: node {} restarts while up", step, node);
                up[node] = true;
                intervention_events += 1;
            }
            EventKind::Timer { .. } => {
                let node = here.expect("a timer has a node");
                prop_assert!(
                    up[node],
                    "step {}: a timer fires at node {} while it is down",
                    step,
                    node
                );
            }
            EventKind::Invoke { .. } | EventKind::Command { .. } => {
                let node = here.expect("has a node");
                prop_assert!(
                    up[node],
                    "step {}: node {} handles a request while down",
                    step,
                    node
                );
                intervention_events += 1;
            }
            EventKind::Partition { groups } => {
                net.groups = groups.clone();
                intervention_events += 1;
            }
            EventKind::Heal => {
                net.groups.clear();
                intervention_events += 1;
            }
            EventKind::CutLink { a, b } => {
                net.cut.insert((*a.min(b), *a.max(b)));
                intervention_events += 1;
            }
            EventKind::RestoreLink { a, b } => {
                net.cut.remove(&(*a.min(b), *a.max(b)));
                intervention_events += 1;
            }
            EventKind::SetLinkDelay { .. } | EventKind::Ignored { .. } => intervention_events += 1,
            EventKind::Start => {}
        }
        if !matches!(ev.kind, EventKind::Crash) {
            prop_assert!(ev.dropped.is_empty());
        }
        for s in &ev.sent {
            let from = here.expect("a sender");
            prop_assert!(up[from], "step {}: node {} sends while down", step, from);
            prop_assert_eq!(s.id, next_id, "message ids are assigned in send order");
            next_id += 1;
            prop_assert!(s.arrives_at >= ev.time);
            msgs.insert(
                s.id,
                Msg {
                    from,
                    to: s.to,
                    sent_at: ev.time,
                    arrives_at: s.arrives_at,
                    reachable_at_send: net.reachable(from, s.to),
                    ended: false,
                },
            );
        }
    }
    prop_assert_eq!(
        intervention_events,
        interventions,
        "one event per intervention"
    );
    // Every message whose arrival falls within the run has ended; later ones have not.
    for (id, m) in &msgs {
        if !m.ended {
            prop_assert!(
                m.arrives_at > horizon,
                "message #{} (arrives {} ms) never ended, horizon {} ms",
                id,
                m.arrives_at,
                horizon
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(common::cases(400))]

    #[test]
    fn no_delivery_to_crashed_or_partitioned_nodes(
        spec in spec(Modes::Any, true),
        ops in schedule(Faults::ALL, 30, 16),
    ) {
        let ivs = build(&spec, &ops);
        let engine = Engine::new(spec.setup(), ivs);
        check(&engine, spec.loss)?;
    }
}

/// The checker itself rejects a trace that delivers to a crashed node: a sanity check that
/// the property can fail.
#[test]
fn checker_rejects_delivery_to_a_down_node() {
    use distlab_sim::models::replication::write;
    let spec = common::Spec {
        seed: 1,
        followers: 2,
        clients: 1,
        mode: "async",
        k: 1,
        latency_ms: 10,
        jitter_ms: 0,
        retransmit_ms: 1_000,
        loss: 0.0,
        duration_ms: 200,
    };
    let engine = Engine::new(
        spec.setup(),
        vec![
            write(0, 3, "x", "1"),
            distlab_sim::Intervention::new(15, Action::Crash { node: 1 }),
        ],
    );
    check(&engine, 0.0).expect("the real trace passes");
    let n = engine.nodes().len();
    let ivs = engine.interventions().len();
    let horizon = engine.horizon();
    let mut trace = engine.trace().clone();
    let crash = trace
        .iter()
        .position(|e| matches!(e.kind, EventKind::Crash))
        .unwrap();
    // Forge: the crash does not list the append in flight to follower 1 …
    let dropped = std::mem::take(&mut trace[crash].dropped);
    assert_eq!(dropped.len(), 1, "the append to follower 1 was in flight");
    let (sent_at, sent) = trace
        .iter()
        .flat_map(|e| e.sent.iter().map(move |s| (e.time, s.clone())))
        .find(|(_, s)| s.id == dropped[0])
        .unwrap();
    let mut deliver = trace[crash].clone();
    deliver.time = trace.last().unwrap().time;
    deliver.kind = EventKind::Deliver {
        id: sent.id,
        from: 0,
        payload: sent.payload,
        sent_at,
    };
    let err = check_trace(&trace, n, ivs, horizon, 0.0).unwrap_err();
    assert!(err.to_string().contains("drops exactly"), "{err}");
    // … or it does, and the append is delivered to the crashed follower later.
    trace[crash].dropped = dropped;
    trace.push(deliver);
    let err = check_trace(&trace, n, ivs, horizon, 0.0).unwrap_err();
    assert!(err.to_string().contains("while it is down"), "{err}");
}
