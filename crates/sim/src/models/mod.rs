//! The protocols Distlab simulates, one module each.

pub mod clocks;
pub mod leaderless;
pub mod replication;
pub mod scenario;
pub mod txn;

use crate::engine::{Protocol, Setup};
use crate::NodeId;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// A model whose runs are engine runs: a protocol and the scenario file that sets it up
/// (nodes by name). Lessons, the CLI and the app handle every such model the same way.
pub trait EngineModel {
    /// The protocol of every node.
    type Node: Protocol;
    /// The scenario as lesson files write it.
    type Scenario: Clone + Debug + PartialEq + Serialize + DeserializeOwned;
    /// The name lesson files use: `model = "…"`.
    const NAME: &'static str;
    /// Checks the scenario and builds the run's setup. Errors say what is wrong.
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String>;
    /// The id of a named node, or an error listing the known names.
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String>;
}

/// Single-leader replication ([`replication`]).
pub struct Replication;
/// Logical clocks ([`clocks`]).
pub struct Clocks;
/// The leaderless store with version vectors or last-write-wins ([`leaderless`]).
pub struct Leaderless;

impl EngineModel for Replication {
    type Node = replication::Node;
    type Scenario = replication::ReplicationScenario;
    const NAME: &'static str = "replication";
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
    const NAME: &'static str = "clocks";
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
}

impl EngineModel for Leaderless {
    type Node = leaderless::Node;
    type Scenario = leaderless::LeaderlessScenario;
    const NAME: &'static str = "leaderless";
    fn setup(s: &Self::Scenario) -> Result<Setup<Self::Node>, String> {
        s.setup()
    }
    fn node(s: &Self::Scenario, name: &str) -> Result<NodeId, String> {
        s.node(name)
    }
}
