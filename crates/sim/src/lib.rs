//! # distlab-sim — the engine behind Distlab
//!
//! A deterministic discrete-event simulator for distributed protocols. Protocols are pure
//! state machines ([`Protocol`]): they receive a message, a timer, a client request or an
//! operator command and return effects through a [`Ctx`]; they never see time, the network
//! or the UI. The [`Engine`] owns simulated time (milliseconds), the [`network`] (latency,
//! loss, partitions, FIFO links), crashes and restarts, and records everything in a
//! [`Trace`]. A run is a [`Setup`] (model, parameters, seed) plus a list of
//! [`Intervention`]s; the same run always yields a byte-identical trace.
//!
//! Modules:
//! - [`engine`]: the simulator, interventions, checkpoints and replay.
//! - [`network`]: latency distributions, loss, partitions, cut links.
//! - [`trace`]: the recorded events of a run.
//! - [`diagram`]: a model-independent view of a trace for space-time diagrams.
//! - [`causality`]: happens-before, Lamport timestamps and vector clocks of any run; ShiViz
//!   logs in and out ([`causality::shiviz`]).
//! - [`models`]: the protocols (single-leader replication with session guarantees, logical
//!   clocks, leaderless carts, a Dynamo-style quorum store and ABD, Raft, Paxos, two- and
//!   three-phase commit, the transactional store) and their runs' client histories ([`models::history`]).
//! - [`lesson`]: guided lessons as data files, and their validation.
//! - [`linearizability`]: the linearizability checker (Wing & Gong with Lowe's
//!   memoization, key by key) and the history formats of Jepsen and Porcupine.
//! - [`bench`]: the engine benchmark's workload and measurements (native targets only).

#[cfg(not(target_arch = "wasm32"))]
pub mod bench;
pub mod causality;
pub mod diagram;
pub mod engine;
pub mod lesson;
pub mod linearizability;
pub mod models;
pub mod network;
pub mod share;
pub mod trace;

pub use engine::{
    Action, Ctx, Engine, Intervention, NodeInfo, NodeRole, PhysicalClock, Protocol, Setup, World,
};
pub use network::{Latency, NetworkConfig};
pub use trace::{DropReason, Event, EventKind, Trace};

/// Index of a node (server or client) in a run: `0..nodes.len()`.
pub type NodeId = usize;
/// Simulated time in milliseconds since the start of the run.
pub type Time = u64;
/// Identifier of a message, unique within a run, assigned in send order from 0.
pub type MessageId = u64;
/// Identifier of a client operation, unique within a run, assigned in invocation order from 0.
pub type OpId = u64;

/// A short, human-readable description of a value for diagrams and tooltips.
pub trait Describe {
    /// A short label, e.g. `"append #3"` for a message or `"leader"` for a node state.
    fn label(&self) -> String;
    /// Named facts shown in a tooltip or state panel, in display order.
    fn fields(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// A kind for styling and filtering, e.g. `"append"`, `"ack"`, `"read"`.
    fn kind(&self) -> &'static str {
        "message"
    }
    /// The epoch a message belongs to, named — `("term", 3)` for a Raft RPC of term 3,
    /// `("round", 2)` for a Paxos message of ballot round 2 — so the diagram can colour
    /// messages by it. `None` (the default) for messages outside any epoch.
    fn epoch(&self) -> Option<(&'static str, u64)> {
        None
    }
}
