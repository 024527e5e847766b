//! The protocols Distlab simulates, one module each.

pub mod clocks;
pub mod history;
pub mod leaderless;
pub mod paxos;
pub mod quorum;
pub mod raft;
pub mod replication;
pub mod scenario;
pub mod search;
pub mod txn;

use crate::engine::{Engine, PhysicalClock, Protocol, Setup};
use crate::NodeId;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// A model whose runs are engine runs: a protocol and the scenario file that sets it up
/// (nodes by name). Lessons, the CLI and the app handle every such model the same way.
pub trait EngineModel {
    /// The protocol of every node.
    type Node: Protocol + PartialEq;
    /// The scenario as lesson files write it.
    type Scenario: Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync;
    /// What the model's analysis finds in a run (stale reads, lost writes, …).
    type Analysis: Clone + Debug + PartialEq + Send + Sync + 'static;
    /// The name lesson files use: `model = "…"`.
    const NAME: &'static str;
    /// Analyses `engine`'s run up to and including trace step `upto`.
    fn analyze(
        s: &Self::Scenario,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Self::Analysis;
    /// Checks the scenario and builds the run's setup. Errors say what is wrong.
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String>;
    /// The id of a named node, or an error listing the known names.
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String>;
    /// Node `node`'s physical clock as a scenario parameter, or `None` when the model
    /// gives that node no clock parameter (the default: every clock exact and fixed).
    fn clock(_s: &Self::Scenario, _node: NodeId) -> Option<PhysicalClock> {
        None
    }
    /// Sets node `node`'s physical clock (skew in ms, drift in ppm) in the scenario.
    /// Errors when the node has no clock parameter (see [`EngineModel::clock`]).
    fn set_clock(
        _s: &mut Self::Scenario,
        node: NodeId,
        _clock: PhysicalClock,
    ) -> Result<(), String> {
        Err(format!(
            "node {node} has no clock parameter in {} scenarios",
            Self::NAME
        ))
    }
    /// The scenario's prepared failures, for presentation mode's number keys (the first is
    /// key 1): each says what it does ("crash the leader") and the actions to apply at the
    /// cursor of `engine`'s run (`cursor`: the trace step the learner stands at). They are
    /// computed from the run at the cursor (e.g. Raft's leader *then*), so key 1 always
    /// does what its label says. Default: none.
    fn prepared(
        _s: &Self::Scenario,
        _engine: &Engine<Self::Node>,
        _cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        Vec::new()
    }
}

/// A failure a lecturer can trigger with one key in presentation mode
/// ([`EngineModel::prepared`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared<P: crate::engine::Protocol> {
    /// What it does, as the shortcut list shows it: "crash the leader (node-2)".
    pub label: String,
    /// Applied together at the cursor's time.
    pub actions: Vec<crate::engine::Action<P>>,
}

/// Single-leader replication ([`replication`]).
pub struct Replication;
/// Logical clocks ([`clocks`]).
pub struct Clocks;
/// The leaderless store with version vectors or last-write-wins ([`leaderless`]).
pub struct Leaderless;
/// Raft consensus ([`raft`]).
pub struct Raft;
/// Single-decree Paxos ([`paxos`]).
pub struct Paxos;
/// The Dynamo-style quorum store with a linearizable (ABD) mode ([`quorum`]).
pub struct Quorum;

impl EngineModel for Quorum {
    type Node = quorum::Node;
    type Scenario = quorum::QuorumScenario;
    type Analysis = quorum::analysis::Analysis;
    const NAME: &'static str = "quorum";
    /// Replicas' keys and hints, requests, quorum overlap, stale reads and inversions,
    /// requests served and refused per client and per side of the network.
    fn analyze(_: &Self::Scenario, e: &Engine<Self::Node>, upto: Option<usize>) -> Self::Analysis {
        quorum::analysis::analyze(e, upto)
    }
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
}

impl EngineModel for Raft {
    type Node = raft::Node;
    type Scenario = raft::RaftScenario;
    type Analysis = raft::analysis::Analysis;
    const NAME: &'static str = "raft";
    /// Elections, stale leaders and the safety monitor's violations (one replay).
    fn analyze(_: &Self::Scenario, e: &Engine<Self::Node>, upto: Option<usize>) -> Self::Analysis {
        raft::analysis::analyze(e, upto)
    }
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
}

impl EngineModel for Paxos {
    type Node = paxos::Node;
    type Scenario = paxos::PaxosScenario;
    type Analysis = paxos::analysis::Analysis;
    const NAME: &'static str = "paxos";
    /// The chosen value, ballots, preempted rounds, adoptions and the safety monitor's
    /// violations (one replay).
    fn analyze(_: &Self::Scenario, e: &Engine<Self::Node>, upto: Option<usize>) -> Self::Analysis {
        paxos::analysis::analyze(e, upto)
    }
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
}

impl EngineModel for Replication {
    type Node = replication::Node;
    type Scenario = replication::ReplicationScenario;
    type Analysis = replication::analysis::Analysis;
    const NAME: &'static str = "replication";
    fn analyze(_: &Self::Scenario, e: &Engine<Self::Node>, upto: Option<usize>) -> Self::Analysis {
        replication::analysis::analyze(e, upto)
    }
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
}

impl EngineModel for Clocks {
    type Node = clocks::Node;
    type Scenario = clocks::ClocksScenario;
    /// The clocks are on the diagram (the engine's causality); nothing else to find.
    type Analysis = ();
    const NAME: &'static str = "clocks";
    fn analyze(_: &Self::Scenario, _: &Engine<Self::Node>, _: Option<usize>) {}
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
    /// Every node has a clock parameter.
    fn clock(s: &Self::Scenario, node: NodeId) -> Option<PhysicalClock> {
        s.nodes.get(node).map(|n| PhysicalClock {
            offset_ms: n.clock_offset_ms,
            drift_ppm: n.clock_drift_ppm,
        })
    }
    fn set_clock(s: &mut Self::Scenario, node: NodeId, clock: PhysicalClock) -> Result<(), String> {
        let count = s.nodes.len();
        let n = s
            .nodes
            .get_mut(node)
            .ok_or_else(|| format!("no node {node}: the scenario has {count}"))?;
        n.clock_offset_ms = clock.offset_ms;
        n.clock_drift_ppm = clock.drift_ppm;
        Ok(())
    }
}

impl EngineModel for Leaderless {
    type Node = leaderless::Node;
    type Scenario = leaderless::LeaderlessScenario;
    type Analysis = leaderless::analysis::Analysis;
    const NAME: &'static str = "leaderless";
    fn analyze(s: &Self::Scenario, e: &Engine<Self::Node>, upto: Option<usize>) -> Self::Analysis {
        leaderless::analysis::analyze(e, upto, &s.names())
    }
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
    /// Replicas have a clock parameter (last-write-wins stamps writes with the
    /// coordinating replica's clock); clients do not.
    fn clock(s: &Self::Scenario, node: NodeId) -> Option<PhysicalClock> {
        s.replicas.get(node).map(|r| PhysicalClock {
            offset_ms: r.clock_offset_ms,
            drift_ppm: r.clock_drift_ppm,
        })
    }
    fn set_clock(s: &mut Self::Scenario, node: NodeId, clock: PhysicalClock) -> Result<(), String> {
        let r = s.replicas.get_mut(node).ok_or_else(|| {
            format!("node {node} is not a replica: only replicas' clocks are parameters")
        })?;
        r.clock_offset_ms = clock.offset_ms;
        r.clock_drift_ppm = clock.drift_ppm;
        Ok(())
    }
}
