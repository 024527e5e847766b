//! The simulated network: per-link latency drawn from a seeded distribution, loss
//! probability, partitions and cut links, FIFO delivery per directed link.

use crate::{NodeId, Time};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One-way latency of a link: uniformly distributed in `[base_ms, base_ms + jitter_ms]`
/// simulated milliseconds, drawn from the run's seeded generator for every message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// Minimum one-way delay in simulated milliseconds.
    pub base_ms: Time,
    /// Width of the uniform jitter added to `base_ms`, in simulated milliseconds.
    #[serde(default)]
    pub jitter_ms: Time,
}

impl Latency {
    /// A fixed delay of `ms` simulated milliseconds (no jitter).
    pub const fn fixed(ms: Time) -> Self {
        Latency {
            base_ms: ms,
            jitter_ms: 0,
        }
    }

    /// Draws one delay in milliseconds.
    pub fn sample(&self, rng: &mut impl Rng) -> Time {
        if self.jitter_ms == 0 {
            self.base_ms
        } else {
            rng.random_range(self.base_ms..=self.base_ms.saturating_add(self.jitter_ms))
        }
    }

    /// The mean delay in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        self.base_ms as f64 + self.jitter_ms as f64 / 2.0
    }
}

/// A latency override for the link between two nodes (both directions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkLatency {
    pub a: NodeId,
    pub b: NodeId,
    pub latency: Latency,
}

/// The network of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Latency of every link without an override.
    pub default_latency: Latency,
    /// Per-link latency overrides (undirected).
    #[serde(default)]
    pub links: Vec<LinkLatency>,
    /// Probability in `[0, 1]` that any message is lost.
    #[serde(default)]
    pub loss: f64,
    /// When true (the default) each directed link delivers in send order, as a TCP
    /// connection does: a message never overtakes an earlier one on the same link.
    #[serde(default = "yes")]
    pub fifo: bool,
}

fn yes() -> bool {
    true
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            default_latency: Latency {
                base_ms: 10,
                jitter_ms: 5,
            },
            links: Vec::new(),
            loss: 0.0,
            fifo: true,
        }
    }
}

/// An undirected link key with `a <= b`.
pub fn link(a: NodeId, b: NodeId) -> (NodeId, NodeId) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// The network's mutable state during a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkState {
    pub config: NetworkConfig,
    /// Latency overrides set by interventions; they win over the scenario's.
    pub delay_overrides: BTreeMap<(NodeId, NodeId), Latency>,
    /// Partition groups: two nodes listed in different groups cannot reach each other.
    /// A node in no group reaches everyone. Empty when there is no partition.
    pub partition: Vec<Vec<NodeId>>,
    /// Links cut by hand (undirected).
    pub cut: BTreeSet<(NodeId, NodeId)>,
    /// Latest scheduled delivery time per directed link, for FIFO delivery.
    pub last_delivery: BTreeMap<(NodeId, NodeId), Time>,
}

impl Default for NetworkState {
    fn default() -> Self {
        NetworkState::new(NetworkConfig::default())
    }
}

impl NetworkState {
    pub fn new(config: NetworkConfig) -> Self {
        NetworkState {
            config,
            delay_overrides: BTreeMap::new(),
            partition: Vec::new(),
            cut: BTreeSet::new(),
            last_delivery: BTreeMap::new(),
        }
    }

    /// The latency distribution currently in force on the link `a`–`b`.
    pub fn latency(&self, a: NodeId, b: NodeId) -> Latency {
        let key = link(a, b);
        if let Some(l) = self.delay_overrides.get(&key) {
            return *l;
        }
        self.config
            .links
            .iter()
            .rev()
            .find(|l| link(l.a, l.b) == key)
            .map(|l| l.latency)
            .unwrap_or(self.config.default_latency)
    }

    fn group_of(&self, n: NodeId) -> Option<usize> {
        self.partition.iter().position(|g| g.contains(&n))
    }

    /// Whether a message from `a` can currently reach `b` (no partition or cut between them).
    pub fn reachable(&self, a: NodeId, b: NodeId) -> bool {
        if a == b {
            return true;
        }
        if self.cut.contains(&link(a, b)) {
            return false;
        }
        match (self.group_of(a), self.group_of(b)) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
    }
}
