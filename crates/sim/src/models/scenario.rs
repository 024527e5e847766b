//! Pieces every model's scenario file shares: nodes by name, per-link latency overrides,
//! and the network they describe.

use crate::network::{Latency, LinkLatency, NetworkConfig};
use crate::{NodeId, Time};
use serde::{Deserialize, Serialize};

/// A latency override between two named nodes, in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedLink {
    pub a: String,
    pub b: String,
    /// Minimum one-way delay, simulated ms.
    pub ms: Time,
    /// Uniform jitter added to `ms`, simulated ms.
    #[serde(default)]
    pub jitter_ms: Time,
}

/// A client in a scenario file with its home replica, the one that coordinates its
/// requests (leaderless stores: the cart store and the quorum store).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub name: String,
    #[serde(default)]
    pub place: Option<String>,
    /// Its home (coordinating) replica, by name.
    pub replica: String,
}

impl ClientSpec {
    /// The home replica's id among `names` (id order), where ids below `replicas` are the
    /// replicas. Errors: an unknown name, or a name that is a client.
    pub fn home(&self, names: &[String], replicas: usize) -> Result<NodeId, String> {
        let home = node_id(names, &self.replica)?;
        if home >= replicas {
            return Err(format!(
                "client \"{}\": \"{}\" is a client, not a replica",
                self.name, self.replica
            ));
        }
        Ok(home)
    }
}

/// The longest time any scenario parameter or intervention may name (a run's duration, a
/// timeout, a period, an intervention's time): one simulated hour, in ms. Lessons use
/// seconds; the bound keeps hand-edited runs (links, files) from overflowing the clock or
/// simulating without end.
pub const MAX_TIME_MS: Time = 3_600_000;

/// The longest one-way latency (and jitter) a scenario or an intervention may set: ten
/// simulated seconds, in ms. Longer delays would only pile messages up in flight.
pub const MAX_LATENCY_MS: Time = 10_000;

/// Checks a time parameter (`what = ms`) against [`MAX_TIME_MS`].
pub fn check_time(what: &str, ms: Time) -> Result<(), String> {
    if ms > MAX_TIME_MS {
        return Err(format!(
            "{what} = {ms} ms is more than a simulated hour ({MAX_TIME_MS} ms)"
        ));
    }
    Ok(())
}

/// Checks a latency or jitter (`what = ms`) against [`MAX_LATENCY_MS`].
pub fn check_latency(what: &str, ms: Time) -> Result<(), String> {
    if ms > MAX_LATENCY_MS {
        return Err(format!(
            "{what} = {ms} ms is more than the longest delay a link may have ({MAX_LATENCY_MS} ms)"
        ));
    }
    Ok(())
}

/// The id of a named node among `names` (id order), or an error listing the known names.
pub fn node_id(names: &[String], name: &str) -> Result<NodeId, String> {
    names
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| format!("unknown node \"{name}\" (known: {})", names.join(", ")))
}

/// Checks that node names are unique and non-empty. Errors name the offending name.
pub fn check_names(names: &[String]) -> Result<(), String> {
    for (i, n) in names.iter().enumerate() {
        if n.trim().is_empty() {
            return Err(format!("node {} has an empty name", i + 1));
        }
        if names[..i].contains(n) {
            return Err(format!("two nodes are named \"{n}\""));
        }
    }
    Ok(())
}

/// The network of a scenario: a default uniform latency `[latency_ms, latency_ms +
/// jitter_ms]`, per-link overrides between named nodes, a loss probability in `[0, 1]`,
/// FIFO links. Errors: an unknown node in a link, a loss outside `[0, 1]`, a latency or
/// jitter above [`MAX_LATENCY_MS`].
pub fn network(
    names: &[String],
    latency_ms: Time,
    jitter_ms: Time,
    links: &[NamedLink],
    loss: f64,
) -> Result<NetworkConfig, String> {
    check_latency("latency_ms", latency_ms)?;
    check_latency("jitter_ms", jitter_ms)?;
    for l in links {
        check_latency(&format!("link {}–{}: ms", l.a, l.b), l.ms)?;
        check_latency(&format!("link {}–{}: jitter_ms", l.a, l.b), l.jitter_ms)?;
    }
    if !(0.0..=1.0).contains(&loss) {
        return Err(format!(
            "loss = {loss} is not a probability between 0 and 1"
        ));
    }
    let links = links
        .iter()
        .map(|l| {
            Ok(LinkLatency {
                a: node_id(names, &l.a)?,
                b: node_id(names, &l.b)?,
                latency: Latency {
                    base_ms: l.ms,
                    jitter_ms: l.jitter_ms,
                },
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(NetworkConfig {
        default_latency: Latency {
            base_ms: latency_ms,
            jitter_ms,
        },
        links,
        loss,
        fifo: true,
    })
}
