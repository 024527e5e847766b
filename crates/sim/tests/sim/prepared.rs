//! Prepared failures (`EngineModel::prepared`): applied at the cursor of every lesson step,
//! each does what its label says — the named leader (or replica, or proposer) is the one
//! that crashes, and was what the label calls it; the partition separates the sides it
//! names; healing leaves every node up and the network whole — and computing and applying
//! them never panics over random runs and cursors.

use crate::common::cases;
use crate::common::runs::{faults, run_with_faults, RawFault, StepRuns};
use distlab_sim::engine::{Action, Engine, Intervention, Protocol, World};
use distlab_sim::models::{self, paxos, raft, replication, EngineModel, Prepared};
use distlab_sim::trace::EventKind;
use distlab_sim::{NodeId, Time};
use proptest::prelude::*;

/// The cursor's time as the app uses it (0 before the first event).
fn time_at<P: Protocol>(e: &Engine<P>, cursor: Option<usize>) -> Time {
    cursor
        .and_then(|c| e.trace().get(c))
        .map_or(0, |ev| ev.time)
}

/// Applies `p`'s actions at the cursor's time, as the app's number keys do (one
/// intervention after the other, each re-simulating).
fn apply<P: Protocol>(e: &Engine<P>, cursor: Option<usize>, p: &Prepared<P>) -> (Engine<P>, Time) {
    let at = time_at(e, cursor);
    let mut e = e.clone();
    for a in &p.actions {
        e.add_intervention(Intervention::new(at, a.clone()));
    }
    (e, at)
}

/// The step of the last event at `at` that `is` recognises (an applied intervention), and
/// the world just before it and just after it.
fn around<P: Protocol>(
    e: &Engine<P>,
    at: Time,
    is: impl Fn(&distlab_sim::trace::Event<P>) -> bool,
) -> (usize, World<P>, World<P>) {
    let step = e
        .trace()
        .iter()
        .rposition(|ev| ev.time == at && is(ev))
        .expect("the applied intervention is in the trace");
    let before = e.world_at(step.checked_sub(1)).unwrap();
    let after = e.world_at(Some(step)).unwrap();
    (step, before, after)
}

/// The name in a label's parentheses: "crash the leader (s2)" → "s2".
fn named(label: &str) -> &str {
    let open = label.find('(').expect("the label names the node");
    let close = label[open..].find(')').expect("closed") + open;
    &label[open + 1..close]
}

/// Checks the effect every prepared failure promises, whatever the model: the nodes it
/// crashes are down right after, its partition is in force with no link across its
/// groups, and after "heal" nothing is down, partitioned or cut.
fn check_effects<P: Protocol>(e: &Engine<P>, cursor: Option<usize>, all: &[Prepared<P>]) {
    for p in all {
        assert!(
            !p.label.is_empty() && p.label.len() <= 64,
            "short label: {}",
            p.label
        );
        let (after_all, at) = apply(e, cursor, p);
        for a in &p.actions {
            match a {
                Action::Crash { node } => {
                    let (_, before, after) = around(&after_all, at, |ev| {
                        ev.node == Some(*node) && matches!(ev.kind, EventKind::Crash)
                    });
                    assert!(before.up[*node], "{}: the node was up", p.label);
                    assert!(!after.up[*node], "{}: the node is down", p.label);
                    let name = &e.nodes()[*node].name;
                    assert!(p.label.contains(name.as_str()), "{} names {name}", p.label);
                }
                Action::Partition { groups } => {
                    let (_, _, after) = around(
                        &after_all,
                        at,
                        |ev| matches!(&ev.kind, EventKind::Partition { groups: g } if g == groups),
                    );
                    assert_eq!(&after.net.partition, groups);
                    assert!(groups.iter().all(|g| !g.is_empty()), "{}", p.label);
                    for (i, g) in groups.iter().enumerate() {
                        for h in &groups[i + 1..] {
                            for &a in g {
                                for &b in h {
                                    assert!(!after.net.reachable(a, b), "{}", p.label);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if p.label.starts_with("heal") {
            let w = after_all
                .world_at(after_all.trace().iter().rposition(|ev| ev.time <= at))
                .unwrap();
            assert!(w.up.iter().all(|&u| u), "{}: every node is up", p.label);
            assert!(
                w.net.partition.is_empty() && w.net.cut.is_empty(),
                "{}",
                p.label
            );
        }
    }
}

/// The highest-term server that is up and believes it leads, in `w`.
fn raft_leader(w: &World<raft::Node>) -> Option<NodeId> {
    (0..w.nodes.len())
        .filter(|&i| w.up[i])
        .filter_map(|i| match w.nodes[i].view() {
            raft::View::Server {
                role: raft::Role::Leader,
                term,
                ..
            } => Some((term, i)),
            _ => None,
        })
        .max_by_key(|&(t, i)| (t, std::cmp::Reverse(i)))
        .map(|(_, i)| i)
}

/// Raft's keys 1 and 2 at `cursor`: the label names the leader of the moment (or says
/// there is none); the crash hits it; the partition puts it alone against every other
/// server (a majority).
fn check_raft_with(s: &raft::RaftScenario, e: &Engine<raft::Node>, cursor: Option<usize>) {
    let all = models::Raft::prepared(s, e, cursor);
    assert_eq!(all, models::Raft::prepared(s, e, cursor), "deterministic");
    check_raft_inner(e, cursor, all);
}

fn check_raft_inner(e: &Engine<raft::Node>, cursor: Option<usize>, all: Vec<Prepared<raft::Node>>) {
    assert_eq!(all.len(), 3);
    check_effects(e, cursor, &all);
    let at = time_at(e, cursor);
    let now = e
        .world_at(e.trace().iter().rposition(|ev| ev.time <= at))
        .unwrap();
    match raft_leader(&now) {
        Some(l) => {
            let name = &e.nodes()[l].name;
            assert_eq!(all[0].label, format!("crash the leader ({name})"));
            assert_eq!(all[0].actions, vec![Action::Crash { node: l }]);
            assert!(all[1].label.contains(&format!("leader ({name})")));
            let Action::Partition { groups } = &all[1].actions[0] else {
                panic!("key 2 partitions")
            };
            let servers = now
                .nodes
                .iter()
                .filter(|n| matches!(n, raft::Node::Server(_)))
                .count();
            assert_eq!(groups[0], vec![l]);
            assert_eq!(groups[1].len(), servers - 1);
            assert!(
                servers == 1 || groups[1].len() > servers / 2,
                "the other side is a majority"
            );
        }
        None => assert!(
            all[0].label.contains("no leader") || all[0].actions.is_empty(),
            "{}",
            all[0].label
        ),
    }
}

/// Replication's keys 1 and 2: the label names the leader (the up server leading the
/// highest generation of the first shard), the crash hits it, the partition cuts it off
/// from every follower of its shard.
fn check_replication(
    s: &replication::ReplicationScenario,
    e: &Engine<replication::Node>,
    cursor: Option<usize>,
) {
    let all = models::Replication::prepared(s, e, cursor);
    assert_eq!(all.len(), 3);
    check_effects(e, cursor, &all);
    let at = time_at(e, cursor);
    let now = e
        .world_at(e.trace().iter().rposition(|ev| ev.time <= at))
        .unwrap();
    let shard = &s.partition_servers()[0];
    let leader = shard
        .iter()
        .copied()
        .filter(|&i| now.up[i])
        .filter_map(|i| match now.nodes[i].view() {
            replication::View::Server(v) if v.role == replication::Role::Leader => {
                Some((v.generation, i))
            }
            _ => None,
        })
        .max_by_key(|&(g, i)| (g, std::cmp::Reverse(i)))
        .map(|(_, i)| i);
    if let Some(l) = leader {
        let name = &e.nodes()[l].name;
        assert_eq!(all[0].label, format!("crash the leader ({name})"));
        assert_eq!(all[0].actions, vec![Action::Crash { node: l }]);
        let Action::Partition { groups } = &all[1].actions[0] else {
            panic!("key 2 partitions")
        };
        assert_eq!(named(&all[1].label), name);
        assert_eq!(groups[0], vec![l]);
        let mut followers: Vec<NodeId> = shard.iter().copied().filter(|&i| i != l).collect();
        followers.sort_unstable();
        assert_eq!(groups[1], followers);
    } else {
        assert!(
            !all[0].label.starts_with("crash the leader"),
            "{}",
            all[0].label
        );
    }
}

/// The stores' key 1 crashes a replica (not a client) and says which; key 2 puts a
/// minority of the replicas with their own clients against the rest.
fn check_store<M: EngineModel>(
    s: &M::Scenario,
    e: &Engine<M::Node>,
    cursor: Option<usize>,
    replicas: usize,
) {
    let all = M::prepared(s, e, cursor);
    assert_eq!(all.len(), 3);
    check_effects(e, cursor, &all);
    for a in &all[0].actions {
        let Action::Crash { node } = a else {
            panic!("key 1 crashes")
        };
        assert!(*node < replicas, "a replica crashes, not a client");
        assert_eq!(named(&all[0].label), e.nodes()[*node].name);
    }
    let Action::Partition { groups } = &all[1].actions[0] else {
        panic!("key 2 partitions")
    };
    let side = |g: &[NodeId]| g.iter().filter(|&&n| n < replicas).count();
    assert_eq!(side(&groups[0]) + side(&groups[1]), replicas);
    if replicas >= 2 {
        assert!(
            side(&groups[0]) >= 1 && side(&groups[0]) <= side(&groups[1]),
            "a minority (or half) of the replicas on one side"
        );
        assert!(replicas == 2 || side(&groups[0]) * 2 < replicas);
    } else {
        assert!(groups[1].iter().all(|&n| n >= replicas), "a client cut off");
    }
}

/// Paxos' key 1 crashes a proposer that was up (mid-ballot when the label says so); key 2
/// leaves it with fewer than a majority of acceptors.
fn check_paxos(s: &paxos::PaxosScenario, e: &Engine<paxos::Node>, cursor: Option<usize>) {
    let all = models::Paxos::prepared(s, e, cursor);
    assert_eq!(all.len(), 3);
    check_effects(e, cursor, &all);
    let (proposers, acceptors, _) = s.roles();
    let at = time_at(e, cursor);
    let now = e
        .world_at(e.trace().iter().rposition(|ev| ev.time <= at))
        .unwrap();
    for a in &all[0].actions {
        let Action::Crash { node } = a else {
            panic!("key 1 crashes")
        };
        assert!(proposers.contains(node), "a proposer crashes");
        if all[0].label.contains("mid-ballot") {
            let paxos::Node::Proposer(p) = &now.nodes[*node] else {
                panic!("a proposer")
            };
            assert!(matches!(
                p.phase,
                paxos::Phase::Preparing | paxos::Phase::Accepting | paxos::Phase::BackingOff
            ));
        }
    }
    let Action::Partition { groups } = &all[1].actions[0] else {
        panic!("key 2 partitions")
    };
    let with = groups[0].iter().filter(|n| acceptors.contains(n)).count();
    assert!(
        with * 2 < acceptors.len(),
        "the proposer's side has no majority"
    );
    assert!(proposers.contains(&groups[0][0]));
}

fn cursor_of<P: Protocol>(e: &Engine<P>, pick: u32) -> Option<usize> {
    let len = e.trace().len();
    match pick % 7 {
        0 => None,
        _ if len == 0 => None,
        _ => Some(pick as usize % (len + 3)).map(|c| c.min(len - 1)),
    }
}

/// Every lesson step, at its own cursor: each model's prepared failures do what they say.
#[test]
fn prepared_failures_do_what_they_say_at_every_lesson_step() {
    for (s, ivs, until, name) in models::Raft::steps() {
        let e = Engine::new(models::Raft::setup(&s).unwrap(), ivs);
        let c = until.cursor(&e).unwrap_or_else(|m| panic!("{name}: {m}"));
        check_raft_with(&s, &e, c);
    }
    for (s, ivs, until, _) in models::Replication::steps() {
        let e = Engine::new(models::Replication::setup(&s).unwrap(), ivs);
        check_replication(&s, &e, until.cursor(&e).unwrap());
    }
    for (s, ivs, until, _) in models::Quorum::steps() {
        let e = Engine::new(models::Quorum::setup(&s).unwrap(), ivs);
        check_store::<models::Quorum>(&s, &e, until.cursor(&e).unwrap(), s.replicas.len());
    }
    for (s, ivs, until, _) in models::Leaderless::steps() {
        let e = Engine::new(models::Leaderless::setup(&s).unwrap(), ivs);
        check_store::<models::Leaderless>(&s, &e, until.cursor(&e).unwrap(), s.replicas.len());
    }
    for (s, ivs, until, _) in models::Paxos::steps() {
        let e = Engine::new(models::Paxos::setup(&s).unwrap(), ivs);
        check_paxos(&s, &e, until.cursor(&e).unwrap());
    }
    for (s, ivs, until, _) in models::Clocks::steps() {
        let e = Engine::new(models::Clocks::setup(&s).unwrap(), ivs);
        let c = until.cursor(&e).unwrap();
        let all = models::Clocks::prepared(&s, &e, c);
        assert_eq!(all.len(), 2);
        assert!(all[0].label.starts_with("partition"));
        check_effects(&e, c, &all);
    }
    generic_steps::<models::TwoPc>();
    generic_steps::<models::FailureDetector>();
    generic_steps::<models::Gossip>();
}

/// Every lesson step of `M`, at its own cursor: the prepared failures exist, are the
/// same when asked twice, and do what their labels say ([`check_effects`]).
fn generic_steps<M: StepRuns>() {
    for (s, ivs, until, name) in M::steps() {
        let e = Engine::new(M::setup(&s).unwrap(), ivs);
        let c = until.cursor(&e).unwrap_or_else(|m| panic!("{name}: {m}"));
        let all = M::prepared(&s, &e, c);
        assert!(!all.is_empty(), "{}: {name} has prepared failures", M::NAME);
        assert_eq!(all, M::prepared(&s, &e, c), "deterministic");
        check_effects(&e, c, &all);
    }
}

/// In the leader-crash preset, at a time the preset says a leader is elected, key 1
/// crashes exactly that leader.
#[test]
fn raft_key_one_crashes_the_presets_leader() {
    let p = models::raft::presets::normal_election();
    let e = Engine::new(p.scenario.setup().unwrap(), p.interventions.clone());
    let t = 600;
    let leader = models::raft::presets::leader_at(&p.scenario, t).expect("a leader by 600 ms");
    let c = e.trace().iter().rposition(|ev| ev.time <= t);
    let all = models::Raft::prepared(&p.scenario, &e, c);
    assert_eq!(all[0].actions, vec![Action::Crash { node: leader }]);
    assert_eq!(
        all[0].label,
        format!("crash the leader ({})", p.scenario.servers[leader])
    );
    // Before any election there is no leader, and the label says so.
    let all = models::Raft::prepared(&p.scenario, &e, None);
    assert!(all[0].label.contains("no leader"), "{}", all[0].label);
}

fn random_check<M: StepRuns>(
    pick: usize,
    raw: &[RawFault],
    c: u32,
    check: impl Fn(&M::Scenario, &Engine<M::Node>, Option<usize>),
) {
    let steps = M::steps();
    let (s, ivs, _, _) = &steps[pick % steps.len()];
    let e = run_with_faults::<M>(s, ivs, raw);
    check(s, &e, cursor_of(&e, c));
}

proptest! {
    #![proptest_config(cases(16))]

    #[test]
    fn raft_prepared_over_random_runs(pick in any::<usize>(), raw in faults(5, 1_500), c in any::<u32>()) {
        random_check::<models::Raft>(pick, &raw, c, check_raft_with);
    }

    #[test]
    fn replication_prepared_over_random_runs(pick in any::<usize>(), raw in faults(5, 1_500), c in any::<u32>()) {
        random_check::<models::Replication>(pick, &raw, c, check_replication);
    }

    #[test]
    fn quorum_prepared_over_random_runs(pick in any::<usize>(), raw in faults(5, 1_500), c in any::<u32>()) {
        random_check::<models::Quorum>(pick, &raw, c, |s, e, c| {
            check_store::<models::Quorum>(s, e, c, s.replicas.len())
        });
    }

    #[test]
    fn leaderless_prepared_over_random_runs(pick in any::<usize>(), raw in faults(5, 800), c in any::<u32>()) {
        random_check::<models::Leaderless>(pick, &raw, c, |s, e, c| {
            check_store::<models::Leaderless>(s, e, c, s.replicas.len())
        });
    }

    #[test]
    fn paxos_prepared_over_random_runs(pick in any::<usize>(), raw in faults(5, 1_000), c in any::<u32>()) {
        random_check::<models::Paxos>(pick, &raw, c, check_paxos);
    }

    #[test]
    fn clocks_prepared_over_random_runs(pick in any::<usize>(), raw in faults(5, 400), c in any::<u32>()) {
        random_check::<models::Clocks>(pick, &raw, c, |s, e, c| {
            check_effects(e, c, &models::Clocks::prepared(s, e, c))
        });
    }
}
