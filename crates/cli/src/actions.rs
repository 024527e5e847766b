//! Interventions in words, for the fault searches' reports (`raft explore`, `twopc
//! explore`): "crash s3", "partition {s1, s2} | {s3}", "slow s1 – s2 to 50–70 ms".

use distlab_sim::engine::Protocol;
use distlab_sim::{Action, NodeId};

/// Node `i`'s name in `names`, or "node i" when it has none.
pub fn name(names: &[String], i: NodeId) -> String {
    names.get(i).cloned().unwrap_or_else(|| format!("node {i}"))
}

/// `a` in words. The engine's own actions (crash, restart, partition, heal, cut, restore,
/// slow, drop) are written here; a client request or an operator command is written by
/// the model's `request` / `command` (given the node it is at).
pub fn describe<P: Protocol>(
    a: &Action<P>,
    names: &[String],
    request: impl Fn(NodeId, &P::Request) -> String,
    command: impl Fn(NodeId, &P::Command) -> String,
) -> String {
    let n = |i: &NodeId| name(names, *i);
    match a {
        Action::Crash { node } => format!("crash {}", n(node)),
        Action::Restart { node } => format!("restart {}", n(node)),
        Action::Partition { groups } => format!(
            "partition {}",
            groups
                .iter()
                .map(|g| format!("{{{}}}", g.iter().map(n).collect::<Vec<_>>().join(", ")))
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        Action::Heal => "heal the partition".into(),
        Action::CutLink { a, b } => format!("cut {} – {}", n(a), n(b)),
        Action::RestoreLink { a, b } => format!("restore {} – {}", n(a), n(b)),
        Action::SetLinkDelay {
            a,
            b,
            latency: Some(l),
        } => format!(
            "slow {} – {} to {}–{} ms",
            n(a),
            n(b),
            l.base_ms,
            l.base_ms + l.jitter_ms
        ),
        Action::SetLinkDelay {
            a,
            b,
            latency: None,
        } => format!("{} – {} back to normal", n(a), n(b)),
        Action::DropMessage { id } => format!("drop message #{id}"),
        Action::Request {
            client, request: r, ..
        } => request(*client, r),
        Action::Command { node, command: c } => command(*node, c),
    }
}
