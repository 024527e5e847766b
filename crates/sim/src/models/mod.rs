//! The protocols Distlab simulates, one module each.

pub mod clocks;
pub mod failure_detector;
pub mod gossip;
pub mod history;
pub mod leaderless;
pub mod paxos;
pub mod prepared;
pub mod quorum;
pub mod raft;
pub mod replication;
pub mod scenario;
pub mod search;
pub mod twopc;
pub mod txn;

use crate::engine::{Action, Engine, PhysicalClock, Protocol, Setup};
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
    /// Checks what an intervention asks of the scenario's nodes beyond their ids being in
    /// range (which [`crate::share::RunLink::run`] checks for every model): a request goes
    /// to a client, a command to a node of the right kind, node ids inside a request or a
    /// command name nodes of the right kind. Interventions from lesson files pass (they
    /// are resolved by name, with these checks); this guards runs read from links and
    /// files. Errors say what is wrong. Default: nothing more to check.
    fn check_intervention(
        _s: &Self::Scenario,
        _iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        Ok(())
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
/// Two-phase commit (presumed abort) and three-phase commit ([`twopc`]).
pub struct TwoPc;

impl EngineModel for TwoPc {
    type Node = twopc::Node;
    type Scenario = twopc::TwoPcScenario;
    type Analysis = twopc::analysis::Analysis;
    const NAME: &'static str = "twopc";
    /// Decisions and outcomes, in-doubt periods, lock holds and waiters, transactions
    /// blocked behind in-doubt locks, the atomicity monitor's violations (one replay).
    fn analyze(_: &Self::Scenario, e: &Engine<Self::Node>, upto: Option<usize>) -> Self::Analysis {
        twopc::analysis::analyze(e, upto)
    }
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
    /// `begin` goes to the coordinator, with a valid new id and writes at participants.
    fn check_intervention(
        s: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        match &iv.action {
            Action::Command {
                node,
                command: twopc::Command::Begin { id, writes },
            } => twopc::check_begin(s, *node, id, writes),
            _ => Ok(()),
        }
    }
    /// 1 crash the coordinator, 2 partition a participant from it, 3 heal and restart.
    fn prepared(
        s: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        prepared::twopc(s, e, cursor)
    }
}
/// Heartbeat failure detection: a fixed timeout and φ accrual side by side
/// ([`failure_detector`]).
pub struct FailureDetector;

impl EngineModel for FailureDetector {
    type Node = failure_detector::Node;
    type Scenario = failure_detector::FailureDetectorScenario;
    type Analysis = failure_detector::analysis::Analysis;
    const NAME: &'static str = "failure-detector";
    /// φ over time, suspicions (false ones), detection times and the threshold / timeout
    /// sweeps, from the recorded arrivals.
    fn analyze(_: &Self::Scenario, e: &Engine<Self::Node>, upto: Option<usize>) -> Self::Analysis {
        failure_detector::analysis::analyze(e, upto)
    }
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
    /// Pauses go to monitored nodes, last at least 1 ms and at most a simulated hour.
    fn check_intervention(
        _: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        match &iv.action {
            Action::Command {
                node,
                command: failure_detector::Command::Pause { ms },
            } => {
                if *node == 0 {
                    Err(
                        "a pause of node 0, which is the monitor; only monitored nodes pause"
                            .into(),
                    )
                } else if *ms == 0 {
                    Err(format!("a pause of node {node} that lasts 0 ms"))
                } else {
                    scenario::check_time("pause ms", *ms)
                }
            }
            _ => Ok(()),
        }
    }
    /// 1 pause a monitored node 300 ms, 2 crash it, 3 restart what is down.
    fn prepared(
        _: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        failure_detector::prepared(e, cursor)
    }
}
/// Gossip dissemination: push, pull and push-pull anti-entropy ([`gossip`]).
pub struct Gossip;

impl EngineModel for Gossip {
    type Node = gossip::Node;
    type Scenario = gossip::GossipScenario;
    type Analysis = gossip::analysis::Analysis;
    const NAME: &'static str = "gossip";
    /// Each update's spread (round and time each node learnt it, the curve, rounds until
    /// all live nodes knew it), messages and bytes, and the expected curve and rounds.
    fn analyze(s: &Self::Scenario, e: &Engine<Self::Node>, upto: Option<usize>) -> Self::Analysis {
        gossip::analysis::analyze(s, e, upto)
    }
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
    /// An update has a non-empty key.
    fn check_intervention(
        _s: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        match &iv.action {
            Action::Command {
                node,
                command: gossip::Command::Update { key, .. },
            } if key.trim().is_empty() => {
                Err(format!("an update at node {node} with an empty key"))
            }
            _ => Ok(()),
        }
    }
    /// 1 crash an informed node, 2 partition the nodes into halves, 3 heal.
    fn prepared(
        _: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        gossip::prepared(e, cursor)
    }
}

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
    /// Requests go to clients.
    fn check_intervention(
        s: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        match &iv.action {
            Action::Request { client, .. } if *client < s.replicas.len() => Err(format!(
                "a request at node {client}, which is a replica, not a client"
            )),
            _ => Ok(()),
        }
    }
    /// 1 crash a replica, 2 partition a minority from the rest (as the CAP presets), 3 heal.
    fn prepared(
        s: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        prepared::quorum(s, e, cursor)
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
    /// Requests go to clients; `timeout` to servers.
    fn check_intervention(
        s: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        let servers = s.servers.len();
        match &iv.action {
            Action::Request { client, .. } if *client < servers => Err(format!(
                "a request at node {client}, which is a server, not a client"
            )),
            Action::Command { node, .. } if *node >= servers => Err(format!(
                "an election timeout at node {node}, which is a client, not a server"
            )),
            _ => Ok(()),
        }
    }
    /// 1 crash the leader, 2 partition it from the majority, 3 heal and restart.
    fn prepared(
        _: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        prepared::raft(e, cursor)
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
    /// Only proposers propose, and a value is not empty.
    fn check_intervention(
        s: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        match &iv.action {
            Action::Command {
                node,
                command: paxos::Operator::Propose { value },
            } => {
                if *node >= s.proposers.len() {
                    Err(format!("a propose at node {node}, which is not a proposer"))
                } else if value.trim().is_empty() {
                    Err(format!("a propose at node {node} with an empty value"))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
    /// 1 crash the proposer mid-ballot, 2 partition it with an acceptor minority, 3 heal.
    fn prepared(
        s: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        prepared::paxos(s, e, cursor)
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
    /// Requests go to clients, reads name a replica, promotions go to replicas.
    fn check_intervention(
        s: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        match &iv.action {
            Action::Request { client, .. } if s.is_server(*client) => Err(format!(
                "a request at node {client}, which is a replica, not a client"
            )),
            Action::Request {
                request: replication::Request::Read { replica, .. },
                ..
            } if !s.is_server(*replica) => Err(format!(
                "a read from node {replica}, which is not a replica"
            )),
            Action::Command { node, .. } if !s.is_server(*node) => Err(format!(
                "a promotion of node {node}, which is not a replica"
            )),
            _ => Ok(()),
        }
    }
    /// 1 crash the leader, 2 partition it from its followers, 3 heal and restart.
    fn prepared(
        _: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        prepared::replication(e, cursor)
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
    /// A send goes to nodes of the scenario.
    fn check_intervention(
        s: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        match &iv.action {
            Action::Command {
                command: clocks::Command::Send { to, .. },
                ..
            } => match to.iter().find(|&&t| t >= s.nodes.len()) {
                Some(t) => Err(format!(
                    "a send to node {t}, but the scenario has {} nodes",
                    s.nodes.len()
                )),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
    /// 1 partition the nodes in two halves, 2 heal and restart.
    fn prepared(
        _: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        prepared::clocks(e, cursor)
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
    /// Requests go to clients and name replicas (if any).
    fn check_intervention(
        s: &Self::Scenario,
        iv: &crate::engine::Intervention<Self::Node>,
    ) -> Result<(), String> {
        let replicas = s.replicas.len();
        match &iv.action {
            Action::Request { client, .. } if *client < replicas => Err(format!(
                "a request at node {client}, which is a replica, not a client"
            )),
            Action::Request { request, .. } => match request.replica() {
                Some(r) if r >= replicas => {
                    Err(format!("a request to node {r}, which is not a replica"))
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
    /// 1 crash a replica, 2 partition a minority from the rest, 3 heal and restart.
    fn prepared(
        s: &Self::Scenario,
        e: &Engine<Self::Node>,
        cursor: Option<usize>,
    ) -> Vec<Prepared<Self::Node>> {
        prepared::leaderless(s, e, cursor)
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
