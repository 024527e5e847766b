//! A model-independent view of a trace for drawing a space-time (message-sequence) diagram:
//! a lifeline per node, events as marks, messages as arrows from send to delivery (or to
//! the point where they were dropped), and the periods a node was down.
//!
//! Built once per trace; a renderer shows the parts whose step is at most the cursor.

use crate::engine::{Engine, NodeInfo, Protocol};
use crate::trace::{DropReason, EventKind};
use crate::{Describe, MessageId, NodeId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// A mark on a lifeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mark {
    /// Trace step of the event.
    pub step: usize,
    pub time: Time,
    /// The lifeline; `None` for network-wide events (shown on the time axis).
    pub node: Option<NodeId>,
    /// `start`, `deliver`, `drop`, `timer`, `invoke`, `return`, `crash`, `restart`,
    /// `command`, `network` or `ignored`.
    pub kind: &'static str,
    /// A one-line summary, e.g. `"alice: read score → 2–2"`.
    pub label: String,
    /// Facts for the tooltip: what happened, then the node's state after it.
    pub details: Vec<(String, String)>,
}

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Outcome {
    Delivered {
        at: Time,
        step: usize,
    },
    Dropped {
        at: Time,
        step: usize,
        reason: DropReason,
    },
    /// Still in flight at the end of the trace.
    InFlight,
}

/// An arrow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arrow {
    pub id: MessageId,
    pub from: NodeId,
    pub to: NodeId,
    pub sent_at: Time,
    pub send_step: usize,
    /// Scheduled arrival time (simulated ms), used to animate it in flight.
    pub arrives_at: Time,
    pub kind: &'static str,
    pub label: String,
    pub details: Vec<(String, String)>,
    pub outcome: Outcome,
    /// The message's epoch (see [`crate::Describe::epoch`]), e.g. `("term", 2)`.
    pub epoch: Option<(&'static str, u64)>,
}

impl Arrow {
    /// The step at which the message stops being in flight, if it does.
    pub fn end_step(&self) -> Option<usize> {
        match self.outcome {
            Outcome::Delivered { step, .. } | Outcome::Dropped { step, .. } => Some(step),
            Outcome::InFlight => None,
        }
    }
    /// The time the arrow ends (delivery, drop) or would end (scheduled arrival).
    pub fn end_time(&self) -> Time {
        match self.outcome {
            Outcome::Delivered { at, .. } | Outcome::Dropped { at, .. } => at,
            Outcome::InFlight => self.arrives_at,
        }
    }
}

/// A period during which a node was down.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Down {
    pub node: NodeId,
    pub from: Time,
    pub from_step: usize,
    /// Restart time and step; `None` if still down at the end of the trace.
    pub until: Option<(Time, usize)>,
}

/// A whole diagram.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagram {
    pub nodes: Vec<NodeInfo>,
    pub marks: Vec<Mark>,
    pub arrows: Vec<Arrow>,
    pub down: Vec<Down>,
    /// Time of the last event, simulated ms.
    pub end_time: Time,
    /// Whether mark times are simulated milliseconds (a run of the engine). False for an
    /// imported log, whose "times" only order events (Lamport counters) and carry no unit.
    pub timed: bool,
}

impl Diagram {
    /// Builds the diagram of an engine's trace.
    pub fn build<P: Protocol>(engine: &Engine<P>) -> Diagram {
        let nodes = engine.nodes().to_vec();
        let name = |n: NodeId| {
            nodes
                .get(n)
                .map_or_else(|| format!("node {n}"), |i| i.name.clone())
        };
        let mut marks = Vec::new();
        let mut arrows: Vec<Arrow> = Vec::new();
        let mut arrow_ix: BTreeMap<MessageId, usize> = BTreeMap::new();
        let mut down: Vec<Down> = Vec::new();
        let mut labels: BTreeMap<u64, String> = BTreeMap::new();
        for (step, ev) in engine.trace().iter().enumerate() {
            let who = ev.node.map(&name).unwrap_or_else(|| "network".into());
            let (kind, label, mut details): (&'static str, String, Vec<(String, String)>) =
                match &ev.kind {
                    EventKind::Start => ("start", format!("{who} starts"), vec![]),
                    EventKind::Deliver { from, payload, .. } => (
                        "deliver",
                        format!("{who} ← {}: {}", name(*from), payload.label()),
                        payload.fields(),
                    ),
                    EventKind::Drop {
                        from,
                        payload,
                        reason,
                        ..
                    } => (
                        "drop",
                        format!("dropped {} → {who}: {}", name(*from), payload.label()),
                        vec![("why".into(), reason.describe().into())],
                    ),
                    EventKind::Timer { timer } => {
                        ("timer", format!("{who}: timer {timer:?}"), vec![])
                    }
                    EventKind::Invoke { op, request, label } => {
                        if let Some(l) = label {
                            labels.insert(*op, l.clone());
                        }
                        let mut d = vec![("operation".into(), format!("#{op}"))];
                        if let Some(l) = label {
                            d.push(("label".into(), l.clone()));
                        }
                        ("invoke", format!("{who}: {}", request.label()), d)
                    }
                    EventKind::Crash => ("crash", format!("{who} crashes"), vec![]),
                    EventKind::Restart => ("restart", format!("{who} restarts"), vec![]),
                    EventKind::Command { command } => {
                        ("command", format!("{who}: {}", command.label()), vec![])
                    }
                    EventKind::Partition { groups } => {
                        let g: Vec<String> = groups
                            .iter()
                            .map(|g| g.iter().map(|n| name(*n)).collect::<Vec<_>>().join(", "))
                            .collect();
                        (
                            "network",
                            format!("partition: {{{}}}", g.join("} | {")),
                            vec![],
                        )
                    }
                    EventKind::Heal => ("network", "partition healed".into(), vec![]),
                    EventKind::CutLink { a, b } => (
                        "network",
                        format!("link {} – {} cut", name(*a), name(*b)),
                        vec![],
                    ),
                    EventKind::RestoreLink { a, b } => (
                        "network",
                        format!("link {} – {} restored", name(*a), name(*b)),
                        vec![],
                    ),
                    EventKind::SetLinkDelay { a, b, latency } => (
                        "network",
                        match latency {
                            Some(l) if l.jitter_ms == 0 => format!(
                                "link {} – {} delay set to {} ms",
                                name(*a),
                                name(*b),
                                l.base_ms
                            ),
                            Some(l) => format!(
                                "link {} – {} delay set to {}–{} ms",
                                name(*a),
                                name(*b),
                                l.base_ms,
                                l.base_ms + l.jitter_ms
                            ),
                            None => {
                                format!("link {} – {} delay back to normal", name(*a), name(*b))
                            }
                        },
                        vec![],
                    ),
                    EventKind::Ignored { what, why } => {
                        ("ignored", format!("{what} ignored: {why}"), vec![])
                    }
                };
            let mut kind = kind;
            let mut label = label;
            for (op, resp) in &ev.returned {
                kind = "return";
                let l = labels
                    .get(op)
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                label = format!("{who}: #{op}{l} returns {}", resp.label());
                details.push(("result".into(), resp.label()));
            }
            for note in &ev.notes {
                details.push(("note".into(), note.clone()));
            }
            if let Some(state) = &ev.state {
                details.push(("state after".into(), state.label()));
                details.extend(state.fields());
            }
            details.insert(0, ("time".into(), format!("{} ms", ev.time)));
            details.insert(1, ("step".into(), step.to_string()));
            marks.push(Mark {
                step,
                time: ev.time,
                node: ev.node,
                kind,
                label,
                details,
            });

            for s in &ev.sent {
                arrow_ix.insert(s.id, arrows.len());
                arrows.push(Arrow {
                    id: s.id,
                    from: ev.node.unwrap_or(0),
                    to: s.to,
                    sent_at: ev.time,
                    send_step: step,
                    arrives_at: s.arrives_at,
                    kind: s.payload.kind(),
                    label: s.payload.label(),
                    details: s.payload.fields(),
                    outcome: Outcome::InFlight,
                    epoch: s.payload.epoch(),
                });
            }
            match &ev.kind {
                EventKind::Deliver { id, .. } => {
                    if let Some(&i) = arrow_ix.get(id) {
                        arrows[i].outcome = Outcome::Delivered { at: ev.time, step };
                    }
                }
                EventKind::Drop { id, reason, .. } => {
                    if let Some(&i) = arrow_ix.get(id) {
                        arrows[i].outcome = Outcome::Dropped {
                            at: ev.time,
                            step,
                            reason: *reason,
                        };
                    }
                }
                EventKind::Crash => {
                    if let Some(n) = ev.node {
                        down.push(Down {
                            node: n,
                            from: ev.time,
                            from_step: step,
                            until: None,
                        });
                    }
                }
                EventKind::Restart => {
                    if let Some(d) = down
                        .iter_mut()
                        .rev()
                        .find(|d| Some(d.node) == ev.node && d.until.is_none())
                    {
                        d.until = Some((ev.time, step));
                    }
                }
                _ => {}
            }
            for id in &ev.dropped {
                if let Some(&i) = arrow_ix.get(id) {
                    arrows[i].outcome = Outcome::Dropped {
                        at: ev.time,
                        step,
                        reason: DropReason::ReceiverDown,
                    };
                }
            }
        }
        let end_time = engine.trace().last().map_or(0, |e| e.time);
        Diagram {
            nodes,
            marks,
            arrows,
            down,
            end_time,
            timed: true,
        }
    }
}
