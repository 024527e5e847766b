//! The recorded trace of a run: one [`Event`] per thing that happened, in the order the
//! engine processed them. The trace is the only thing the UI and checkers read.

use crate::engine::Protocol;
use crate::network::Latency;
use crate::{MessageId, NodeId, OpId, Time};
use serde::{Deserialize, Serialize};

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// Lost by the link's loss probability.
    Loss,
    /// Sender and receiver were on different sides of a partition or a cut link.
    Partition,
    /// The receiver crashed while the message was in flight, or was down on arrival.
    ReceiverDown,
    /// Dropped by hand (an intervention).
    Manual,
}

impl DropReason {
    /// The reason in words.
    pub fn describe(&self) -> &'static str {
        match self {
            DropReason::Loss => "lost on the link (loss probability)",
            DropReason::Partition => "network partition: the receiver was unreachable",
            DropReason::ReceiverDown => "the receiver was down (crashed)",
            DropReason::Manual => "dropped by hand",
        }
    }
}

/// A message sent while handling an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(bound = "")]
pub struct Sent<P: Protocol> {
    pub id: MessageId,
    pub to: NodeId,
    pub payload: P::Msg,
    /// When the engine scheduled its arrival (simulated ms); it may be dropped instead.
    pub arrives_at: Time,
}

/// What happened in one event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(bound = "", tag = "type", rename_all = "kebab-case")]
pub enum EventKind<P: Protocol> {
    /// The node started (time 0) and did something.
    Start,
    /// A message was delivered to `node`.
    Deliver {
        id: MessageId,
        from: NodeId,
        payload: P::Msg,
        sent_at: Time,
    },
    /// A message addressed to `node` was dropped at `time`.
    Drop {
        id: MessageId,
        from: NodeId,
        payload: P::Msg,
        sent_at: Time,
        reason: DropReason,
    },
    /// A timer of `node` fired.
    Timer { timer: P::Timer },
    /// A client (`node`) invoked an operation.
    Invoke {
        op: OpId,
        request: P::Request,
        label: Option<String>,
    },
    /// The node crashed: volatile state lost, timers cancelled, in-flight messages to it lost.
    Crash,
    /// The node restarted from its durable state.
    Restart,
    /// An operator command was applied to the node (e.g. promote a follower).
    Command { command: P::Command },
    /// The network was partitioned into these groups.
    Partition { groups: Vec<Vec<NodeId>> },
    /// All partitions were healed (cut links stay cut).
    Heal,
    /// The link `a`–`b` was cut.
    CutLink { a: NodeId, b: NodeId },
    /// The link `a`–`b` was restored.
    RestoreLink { a: NodeId, b: NodeId },
    /// The latency of link `a`–`b` was set (`None`: back to the scenario's).
    SetLinkDelay {
        a: NodeId,
        b: NodeId,
        latency: Option<Latency>,
    },
    /// An intervention that had no effect, and why (e.g. crashing a node that is down).
    Ignored { what: String, why: String },
}

/// One event of a trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(bound = "")]
pub struct Event<P: Protocol> {
    /// Simulated time in milliseconds.
    pub time: Time,
    /// The node where it happened; `None` for network-wide events (partition, heal, link changes).
    pub node: Option<NodeId>,
    pub kind: EventKind<P>,
    /// Messages the node sent while handling this event.
    pub sent: Vec<Sent<P>>,
    /// Client operations that completed at this event, with their responses.
    pub returned: Vec<(OpId, P::Response)>,
    /// Messages dropped as a consequence of this event (a crash drops those in flight to the node).
    pub dropped: Vec<MessageId>,
    /// Notes the protocol made (state changes in words, e.g. "promoted to leader").
    pub notes: Vec<String>,
    /// The node's visible state after the event, when it changed.
    pub state: Option<P::View>,
}

/// A whole run's events, in processing order. Index = step number.
pub type Trace<P> = Vec<Event<P>>;

/// Serializes a trace to canonical JSON bytes (used to prove byte-identical replays).
pub fn to_json<P: Protocol>(trace: &[Event<P>]) -> Vec<u8> {
    serde_json::to_vec(trace).expect("trace types serialize infallibly")
}

/// A 64-bit FNV-1a digest of a trace's observable content: for every event its time, node,
/// kind (with message, operation and payload labels), the messages it sent (id, receiver,
/// scheduled arrival, label), the operations it completed, the messages it dropped, its
/// notes and the node's state label. Equal traces have equal digests; the app shows it on
/// the diagram (`data-trace-digest`) and `distlab run` prints it, so a browser run can be
/// compared with a native one without shipping a serializer to the browser.
pub fn digest<P: Protocol>(trace: &[Event<P>]) -> u64 {
    use crate::Describe;
    use std::fmt::Write;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut line = String::new();
    for ev in trace {
        line.clear();
        let _ = write!(line, "{}|{:?}|", ev.time, ev.node);
        let _ = match &ev.kind {
            EventKind::Start => write!(line, "start"),
            EventKind::Deliver {
                id,
                from,
                payload,
                sent_at,
            } => write!(line, "deliver {id} {from} {sent_at} {}", payload.label()),
            EventKind::Drop {
                id,
                from,
                payload,
                sent_at,
                reason,
            } => write!(
                line,
                "drop {id} {from} {sent_at} {reason:?} {}",
                payload.label()
            ),
            EventKind::Timer { timer } => write!(line, "timer {timer:?}"),
            EventKind::Invoke { op, request, label } => {
                write!(line, "invoke {op} {label:?} {}", request.label())
            }
            EventKind::Crash => write!(line, "crash"),
            EventKind::Restart => write!(line, "restart"),
            EventKind::Command { command } => write!(line, "command {}", command.label()),
            EventKind::Partition { groups } => write!(line, "partition {groups:?}"),
            EventKind::Heal => write!(line, "heal"),
            EventKind::CutLink { a, b } => write!(line, "cut {a} {b}"),
            EventKind::RestoreLink { a, b } => write!(line, "restore {a} {b}"),
            EventKind::SetLinkDelay { a, b, latency } => write!(line, "delay {a} {b} {latency:?}"),
            EventKind::Ignored { what, why } => write!(line, "ignored {what} {why}"),
        };
        for s in &ev.sent {
            let _ = write!(
                line,
                "|sent {} {} {} {}",
                s.id,
                s.to,
                s.arrives_at,
                s.payload.label()
            );
        }
        for (op, r) in &ev.returned {
            let _ = write!(line, "|ret {op} {}", r.label());
        }
        let _ = write!(line, "|dropped {:?}|notes {:?}", ev.dropped, ev.notes);
        if let Some(v) = &ev.state {
            let _ = write!(line, "|state {}", v.label());
        }
        for b in line.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}
