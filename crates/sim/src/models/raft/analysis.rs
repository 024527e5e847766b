//! What a Raft run shows, found in one replay of its trace: every election won and lost,
//! the moments when two servers believe they lead at once (a stale leader in an older
//! term), and the safety monitor's violations ([`super::monitor`]).

use super::monitor::{Monitor, Violation};
use super::{Node, Role};
use crate::engine::Engine;
use crate::{NodeId, Time};
use serde::Serialize;

/// A server becoming candidate or leader, or a leader stepping down.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    pub step: usize,
    pub time: Time,
    pub node: NodeId,
    pub term: u64,
}

/// Two servers leading at once: trace step, time (ms), and each `(node, term)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TwoLeaders {
    pub step: usize,
    pub time: Time,
    pub first: (NodeId, u64),
    pub second: (NodeId, u64),
}

/// A Raft run, analysed up to a trace step.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Analysis {
    /// Servers elected leader, in order.
    pub elections: Vec<Transition>,
    /// Servers that became candidates (each election attempt), in order.
    pub candidacies: Vec<Transition>,
    /// Leaders that stopped leading without crashing (they saw a higher term, or with
    /// check quorum lost their majority), in order; `term` is the term they led.
    pub step_downs: Vec<Transition>,
    /// The first moment two up servers both had the leader role: an old leader that has
    /// not yet learnt of the new term.
    pub two_leaders: Option<TwoLeaders>,
    /// Violations of Figure 3's properties, in order found.
    pub violations: Vec<Violation>,
    /// At the last step analysed: an up server that leads with a working majority — it
    /// heard successful or refused AppendEntries replies of its term from enough servers
    /// (itself included) within the last `2·election_ms`. A leader cut off from a majority
    /// still thinks it leads (without check-quorum) but is not counted.
    pub working_leader: Option<(NodeId, u64)>,
    /// Time (ms) of the run's last intervention, if any: challenges count what happens
    /// after the learner's last move.
    pub last_intervention: Option<Time>,
}

fn server_roles(nodes: &[Node]) -> Vec<Option<(Role, u64)>> {
    nodes
        .iter()
        .map(|n| match n {
            Node::Server(s) => Some((s.role, s.current_term)),
            Node::Client(_) => None,
        })
        .collect()
}

/// Replays `engine`'s run and analyses it up to and including trace step `upto` (`None`:
/// before the first event, so nothing).
pub fn analyze(engine: &Engine<Node>, upto: Option<usize>) -> Analysis {
    let mut a = Analysis {
        last_intervention: engine.interventions().iter().map(|iv| iv.at).max(),
        ..Analysis::default()
    };
    let Some(upto) = upto else {
        return a;
    };
    let names = engine.nodes().iter().map(|n| n.name.clone()).collect();
    let mut monitor = Monitor::new(names);
    let mut before: Vec<Option<(Role, u64)>> = Vec::new();
    let mut look = |step: usize, time: Time, nodes: &[Node], up: &[bool], a: &mut Analysis| {
        let now = server_roles(nodes);
        for (i, r) in now.iter().enumerate() {
            let Some((role, term)) = *r else { continue };
            let was = before.get(i).copied().flatten();
            if was != Some((role, term)) {
                let t = Transition {
                    step,
                    time,
                    node: i,
                    term,
                };
                if let Some((Role::Leader, led)) = was {
                    if role != Role::Leader && up.get(i).copied().unwrap_or(false) {
                        a.step_downs.push(Transition {
                            term: led,
                            ..t.clone()
                        });
                    }
                }
                match role {
                    Role::Leader => a.elections.push(t),
                    Role::Candidate
                        if was.is_none_or(|(r, tm)| r != Role::Candidate || tm != term) =>
                    {
                        a.candidacies.push(t)
                    }
                    _ => {}
                }
            }
        }
        if a.two_leaders.is_none() {
            let leaders: Vec<(NodeId, u64)> = now
                .iter()
                .enumerate()
                .filter(|(i, _)| up.get(*i).copied().unwrap_or(false))
                .filter_map(|(i, r)| {
                    r.filter(|(role, _)| *role == Role::Leader)
                        .map(|(_, t)| (i, t))
                })
                .collect();
            if leaders.len() >= 2 {
                a.two_leaders = Some(TwoLeaders {
                    step,
                    time,
                    first: leaders[0],
                    second: leaders[1],
                });
            }
        }
        if let Some(event) = engine.trace().get(step) {
            monitor.observe(step, event, nodes);
        }
        before = now;
    };
    let mut last_world: Option<(Time, Vec<Node>, Vec<bool>)> = None;
    engine.replay(upto, |step, w| {
        look(step, w.now, &w.nodes, &w.up, &mut a);
        if step == upto {
            last_world = Some((w.now, w.nodes.clone(), w.up.clone()));
        }
    });
    // Replies each leader heard: (leader, follower) → (time, term) of the latest.
    let mut heard: std::collections::BTreeMap<(NodeId, NodeId), (Time, u64)> = Default::default();
    for ev in engine.trace().iter().take(upto + 1) {
        if let (
            Some(to),
            crate::EventKind::Deliver {
                from,
                payload: super::Msg::AppendEntriesReply { term, .. },
                ..
            },
        ) = (ev.node, &ev.kind)
        {
            heard.insert((to, *from), (ev.time, *term));
        }
    }
    if let Some((now, nodes, up)) = last_world {
        a.working_leader = nodes.iter().enumerate().find_map(|(i, n)| match n {
            Node::Server(s) if s.role == Role::Leader && up.get(i).copied().unwrap_or(false) => {
                let window = 2 * s.config.election_ms;
                let contacts = 1
                    + (0..s.config.servers)
                        .filter(|&f| f != i)
                        .filter(|&f| {
                            heard.get(&(i, f)).is_some_and(|&(t, term)| {
                                term == s.current_term && t + window >= now
                            })
                        })
                        .count();
                (contacts >= s.config.majority()).then_some((i, s.current_term))
            }
            _ => None,
        });
    }
    a.violations = monitor.violations;
    a
}
