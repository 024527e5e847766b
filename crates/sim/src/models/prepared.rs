//! Prepared failures ([`super::EngineModel::prepared`]): what a lecturer's number keys do,
//! computed from the run at the cursor so that every label is true of the run it is
//! applied to ("crash the leader (s2)" names the server that leads *then*).
//!
//! The app applies a prepared failure's actions as interventions at the cursor's time
//! (`t` = the time of the cursor's event, 0 before the first event). An intervention at `t`
//! runs after every event at `t` ([`crate::engine`]'s ordering rule), so the state it finds
//! is the world after the *last* trace event at or before `t` — which is what
//! [`world_at_cursor`] returns and what every model's prepared failures are computed from.

use super::{
    leaderless::LeaderlessScenario, paxos, quorum::QuorumScenario, raft, replication, Prepared,
};
use crate::engine::{Action, Engine, Protocol, World};
use crate::{NodeId, Time};

/// The time an intervention added at `cursor` happens (the cursor event's time; 0 before
/// the first event or on an empty trace; a cursor past the trace counts as its last
/// event), and the world it finds: the world after the last trace event at or before that
/// time (every event at that time comes before an intervention added then).
pub fn world_at_cursor<P: Protocol>(engine: &Engine<P>, cursor: Option<usize>) -> (Time, World<P>) {
    let trace = engine.trace();
    let cursor = cursor.and_then(|c| trace.len().checked_sub(1).map(|last| c.min(last)));
    let t = cursor.map_or(0, |c| trace[c].time);
    let step = trace.iter().rposition(|e| e.time <= t);
    let world = engine
        .world_at(step)
        .or_else(|| engine.world_at(None))
        .unwrap_or_else(|| engine.world().clone());
    (t, world)
}

/// "heal the network and restart everything": removes the partition, restores every cut
/// link and restarts every node that is down (in id order). Link delays set by hand stay.
pub fn heal_all<P: Protocol>(world: &World<P>) -> Prepared<P> {
    let mut actions = vec![Action::Heal];
    actions.extend(
        world
            .net
            .cut
            .iter()
            .map(|&(a, b)| Action::RestoreLink { a, b }),
    );
    actions.extend(
        (0..world.up.len())
            .filter(|&n| !world.up[n])
            .map(|node| Action::Restart { node }),
    );
    Prepared {
        label: "heal the network and restart everything".into(),
        actions,
    }
}

fn name<P: Protocol>(engine: &Engine<P>, id: NodeId) -> String {
    engine
        .nodes()
        .get(id)
        .map_or_else(|| format!("node {id}"), |n| n.name.clone())
}

fn names<P: Protocol>(engine: &Engine<P>, ids: &[NodeId]) -> String {
    ids.iter()
        .map(|&i| name(engine, i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Crash `target` if there is one; otherwise an honest no-op.
fn crash_or_nothing<P: Protocol>(
    target: Option<NodeId>,
    label: impl FnOnce(NodeId) -> String,
    nothing: &str,
) -> Prepared<P> {
    match target {
        Some(node) => Prepared {
            label: label(node),
            actions: vec![Action::Crash { node }],
        },
        None => Prepared {
            label: nothing.to_string(),
            actions: Vec::new(),
        },
    }
}

fn partition<P: Protocol>(label: String, groups: Vec<Vec<NodeId>>) -> Prepared<P> {
    Prepared {
        label,
        actions: vec![Action::Partition { groups }],
    }
}

/// Raft: 1 crash the leader, 2 partition the leader from the majority, 3 heal and restart.
/// The leader is the server that is up, believes it leads, and has the highest term (an
/// old leader cut off from the majority may still believe it leads in an older term).
/// Without a leader, 1 crashes and 2 isolates the first server that is up, and say so.
pub fn raft(engine: &Engine<raft::Node>, cursor: Option<usize>) -> Vec<Prepared<raft::Node>> {
    let (_, w) = world_at_cursor(engine, cursor);
    let servers: Vec<NodeId> = (0..w.nodes.len())
        .filter(|&i| matches!(w.nodes[i], raft::Node::Server(_)))
        .collect();
    let leader = servers
        .iter()
        .copied()
        .filter(|&i| w.up[i])
        .filter_map(|i| match w.nodes[i].view() {
            raft::View::Server {
                role: raft::Role::Leader,
                term,
                ..
            } => Some((term, i)),
            _ => None,
        })
        .max_by_key(|&(term, i)| (term, std::cmp::Reverse(i)))
        .map(|(_, i)| i);
    let first_up = servers.iter().copied().find(|&i| w.up[i]);
    let crash = match leader {
        Some(l) => crash_or_nothing(
            Some(l),
            |n| format!("crash the leader ({})", name(engine, n)),
            "",
        ),
        None => crash_or_nothing(
            first_up,
            |n| format!("crash {} (there is no leader)", name(engine, n)),
            "nothing to crash: every server is down",
        ),
    };
    let isolated = leader.or(first_up).unwrap_or(0);
    let rest: Vec<NodeId> = servers.iter().copied().filter(|&i| i != isolated).collect();
    let split = if leader.is_some() {
        format!(
            "partition the leader ({}) from the majority",
            name(engine, isolated)
        )
    } else {
        format!(
            "partition {} from the other servers (no leader)",
            name(engine, isolated)
        )
    };
    vec![
        crash,
        partition(split, vec![vec![isolated], rest]),
        heal_all(&w),
    ]
}

/// Single-leader replication: 1 crash the leader, 2 partition the leader from its
/// followers, 3 heal and restart. The leader is that of the first partition (shard): the
/// server of its group that is up and leads in the highest generation (after a failover
/// an old leader may not know yet that it was replaced); if none is up, the one with the
/// highest generation.
pub fn replication(
    engine: &Engine<replication::Node>,
    cursor: Option<usize>,
) -> Vec<Prepared<replication::Node>> {
    let (_, w) = world_at_cursor(engine, cursor);
    let group: Vec<NodeId> = (0..w.nodes.len())
        .find_map(|i| {
            let g = w.nodes[i].group();
            (!g.is_empty()).then(|| g.to_vec())
        })
        .unwrap_or_default();
    let leading = |up_only: bool| {
        group
            .iter()
            .copied()
            .filter(|&i| !up_only || w.up[i])
            .filter_map(|i| match w.nodes[i].view() {
                replication::View::Server(s) if s.role == replication::Role::Leader => {
                    Some((s.generation, i))
                }
                _ => None,
            })
            .max_by_key(|&(g, i)| (g, std::cmp::Reverse(i)))
            .map(|(_, i)| i)
    };
    let leader = leading(true).or_else(|| leading(false));
    let crash = match leader {
        Some(l) if w.up[l] => crash_or_nothing(
            Some(l),
            |n| format!("crash the leader ({})", name(engine, n)),
            "",
        ),
        _ => crash_or_nothing(
            group.iter().copied().find(|&i| w.up[i]),
            |n| format!("crash {} (the leader is down)", name(engine, n)),
            "nothing to crash: every replica is down",
        ),
    };
    let l = leader.or_else(|| group.first().copied()).unwrap_or(0);
    let followers: Vec<NodeId> = group.iter().copied().filter(|&i| i != l).collect();
    vec![
        crash,
        partition(
            format!(
                "partition the leader ({}) from its followers",
                name(engine, l)
            ),
            vec![vec![l], followers],
        ),
        heal_all(&w),
    ]
}

/// The CAP split of a store with home replicas (as the quorum store's CAP presets cut it):
/// a minority of the replicas — the first ⌊(R − 1) / 2⌋, at least one (one of two) — with
/// the clients whose home replica is among them, against the other replicas and their
/// clients. A store of one replica cannot be split: the last client is cut off from it.
fn minority_split(replicas: usize, homes: &[(NodeId, NodeId)]) -> (Vec<NodeId>, Vec<NodeId>) {
    if replicas < 2 {
        let mut a: Vec<NodeId> = (0..replicas).collect();
        let mut clients: Vec<NodeId> = homes.iter().map(|&(c, _)| c).collect();
        let b: Vec<NodeId> = clients.pop().into_iter().collect();
        a.extend(clients);
        return (a, b);
    }
    let k = (replicas.saturating_sub(1) / 2).max(1);
    let mut a: Vec<NodeId> = (0..k).collect();
    let mut b: Vec<NodeId> = (k..replicas).collect();
    for &(client, home) in homes {
        if home < k {
            a.push(client);
        } else {
            b.push(client);
        }
    }
    (a, b)
}

/// A replica to crash in a store with home replicas: the first replica that is up and is
/// no client's home (so the clients' coordinators stay and the quorum is what suffers),
/// else the first replica that is up.
fn replica_to_crash(up: &[bool], replicas: usize, homes: &[(NodeId, NodeId)]) -> Option<NodeId> {
    let is_home = |r: NodeId| homes.iter().any(|&(_, h)| h == r);
    (0..replicas)
        .find(|&r| up.get(r) == Some(&true) && !is_home(r))
        .or_else(|| (0..replicas).find(|&r| up.get(r) == Some(&true)))
}

fn store_prepared<P: Protocol>(
    engine: &Engine<P>,
    cursor: Option<usize>,
    replicas: usize,
    homes: &[(NodeId, NodeId)],
) -> Vec<Prepared<P>> {
    let (_, w) = world_at_cursor(engine, cursor);
    let crash = crash_or_nothing(
        replica_to_crash(&w.up, replicas, homes),
        |n| format!("crash a replica ({})", name(engine, n)),
        "nothing to crash: every replica is down",
    );
    let (a, b) = minority_split(replicas, homes);
    let label = format!("partition {} | {}", names(engine, &a), names(engine, &b));
    vec![crash, partition(label, vec![a, b]), heal_all(&w)]
}

/// The quorum store: 1 crash a replica, 2 partition a minority of the replicas (with their
/// clients) from the rest, as the CAP presets do, 3 heal and restart.
pub fn quorum<P: Protocol>(
    s: &QuorumScenario,
    engine: &Engine<P>,
    cursor: Option<usize>,
) -> Vec<Prepared<P>> {
    let homes = client_homes(&s.clients, &s.names(), s.replicas.len());
    store_prepared(engine, cursor, s.replicas.len(), &homes)
}

/// Each client's node id with its home replica's (clients come after the `replicas`
/// replicas, in order); clients without a valid home are left out.
fn client_homes(
    clients: &[super::scenario::ClientSpec],
    names: &[String],
    replicas: usize,
) -> Vec<(NodeId, NodeId)> {
    clients
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.home(names, replicas).ok().map(|h| (replicas + i, h)))
        .collect()
}

/// The leaderless cart store: as [`quorum`].
pub fn leaderless<P: Protocol>(
    s: &LeaderlessScenario,
    engine: &Engine<P>,
    cursor: Option<usize>,
) -> Vec<Prepared<P>> {
    let homes = client_homes(&s.clients, &s.names(), s.replicas.len());
    store_prepared(engine, cursor, s.replicas.len(), &homes)
}

/// Paxos: 1 crash the proposer that is working on a ballot (the highest ballot among the
/// proposers that are up and preparing, accepting or backing off; else the first proposer
/// that is up), 2 partition that proposer with a minority of the acceptors from the
/// majority (it cannot get a majority; the others can), 3 heal and restart.
pub fn paxos(
    s: &paxos::PaxosScenario,
    engine: &Engine<paxos::Node>,
    cursor: Option<usize>,
) -> Vec<Prepared<paxos::Node>> {
    let (_, w) = world_at_cursor(engine, cursor);
    let (proposers, acceptors, _) = s.roles();
    let working = proposers
        .iter()
        .copied()
        .filter(|&p| w.up.get(p) == Some(&true))
        .filter_map(|p| match w.nodes.get(p) {
            Some(paxos::Node::Proposer(x))
                if matches!(
                    x.phase,
                    paxos::Phase::Preparing | paxos::Phase::Accepting | paxos::Phase::BackingOff
                ) =>
            {
                Some((x.ballot, p))
            }
            _ => None,
        })
        .max_by_key(|&(b, p)| (b, std::cmp::Reverse(p)))
        .map(|(_, p)| p);
    let first_up = proposers
        .iter()
        .copied()
        .find(|&p| w.up.get(p) == Some(&true));
    let crash = match working {
        Some(p) => crash_or_nothing(
            Some(p),
            |n| format!("crash proposer {} (mid-ballot)", name(engine, n)),
            "",
        ),
        None => crash_or_nothing(
            first_up,
            |n| format!("crash proposer {}", name(engine, n)),
            "nothing to crash: every proposer is down",
        ),
    };
    let p = working
        .or(first_up)
        .or(proposers.first().copied())
        .unwrap_or(0);
    let k = (acceptors.len().saturating_sub(1) / 2).min(acceptors.len());
    let mut side: Vec<NodeId> = vec![p];
    side.extend(&acceptors[..k]);
    let rest: Vec<NodeId> = proposers
        .iter()
        .copied()
        .filter(|&x| x != p)
        .chain(acceptors[k..].iter().copied())
        .collect();
    let label = if k == 0 {
        format!("partition {} from the acceptors", name(engine, p))
    } else {
        format!(
            "partition {} with {} from the acceptor majority",
            name(engine, p),
            names(engine, &acceptors[..k])
        )
    };
    vec![crash, partition(label, vec![side, rest]), heal_all(&w)]
}

/// Logical clocks: 1 partition the nodes into two halves (the first ⌈n/2⌉ against the
/// rest), 2 heal and restart.
pub fn clocks<P: Protocol>(engine: &Engine<P>, cursor: Option<usize>) -> Vec<Prepared<P>> {
    let (_, w) = world_at_cursor(engine, cursor);
    let n = w.nodes.len();
    let half = n.div_ceil(2);
    let (a, b): (Vec<NodeId>, Vec<NodeId>) = ((0..half).collect(), (half..n).collect());
    let label = format!("partition {} | {}", names(engine, &a), names(engine, &b));
    vec![partition(label, vec![a, b]), heal_all(&w)]
}

/// Two-phase / three-phase commit: 1 crash the coordinator, 2 partition a participant from
/// the coordinator (one in doubt at the cursor if any — it stays in doubt —, else the last
/// participant), 3 heal and restart.
pub fn twopc(
    s: &super::twopc::TwoPcScenario,
    engine: &Engine<super::twopc::Node>,
    cursor: Option<usize>,
) -> Vec<Prepared<super::twopc::Node>> {
    use super::twopc::Node;
    let (_, w) = world_at_cursor(engine, cursor);
    let coordinator_up = w.up.first() == Some(&true);
    let crash = crash_or_nothing(
        coordinator_up.then_some(0),
        |n| format!("crash the coordinator ({})", name(engine, n)),
        "nothing to crash: the coordinator is down",
    );
    let ids = s.participant_ids();
    let in_doubt = ids.iter().copied().find(|&p| {
        matches!(w.nodes.get(p), Some(Node::Participant(x))
            if x.txns.values().any(|t| t.state.in_doubt()))
    });
    let p = in_doubt.or(ids.last().copied()).unwrap_or(1);
    let rest: Vec<NodeId> = (0..w.nodes.len()).filter(|&x| x != p).collect();
    let label = format!(
        "partition {} from the coordinator{}",
        name(engine, p),
        if in_doubt.is_some() {
            " (in doubt)"
        } else {
            ""
        }
    );
    vec![crash, partition(label, vec![vec![p], rest]), heal_all(&w)]
}
