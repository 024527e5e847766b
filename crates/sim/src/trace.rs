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
