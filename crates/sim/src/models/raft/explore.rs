//! Randomized search for safety violations: many seeds, each a run with a random fault
//! schedule (crashes — often of the current leader — restarts, partitions, cut and slow
//! links, message loss) and client writes, checked by the [`monitor`](super::monitor)
//! after every event. A violation comes with a replayable run (scenario, seed and the
//! interventions), shrunk by removing interventions one at a time while the same property
//! still fails.

use super::monitor::{run_checked, Property, Violation};
use super::{Broken, Node, RaftScenario, Refinement, Request, Role};
use crate::engine::{Action, Engine, Intervention};
use crate::network::Latency;
use crate::{NodeId, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;

/// A run that violated a property: everything needed to replay it.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub seed: u64,
    pub violation: Violation,
    /// The scenario (its `seed` is the run's seed).
    pub scenario: RaftScenario,
    /// The interventions, shrunk: removing any one of them makes the violation disappear.
    pub interventions: Vec<Intervention<Node>>,
    /// How many interventions the random schedule had before shrinking.
    pub original_len: usize,
}

/// What a search found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub servers: usize,
    pub broken: Vec<Broken>,
    pub refinements: Vec<Refinement>,
    /// Seeds run: `first..first + runs`.
    pub first_seed: u64,
    pub runs: u64,
    /// Runs with at least one violation.
    pub failing_runs: u64,
    /// Per property, how many runs violated it.
    pub by_property: BTreeMap<Property, u64>,
    /// Per property, the failing run with the shortest shrunk schedule found.
    pub shortest: Vec<Found>,
    /// Events simulated, over all runs (a measure of the search's size).
    pub events: u64,
}

/// The scenario a seed runs: `base` with the seed, a random loss rate (0–10 %) and jitter.
pub fn scenario_for(base: &RaftScenario, seed: u64) -> RaftScenario {
    let mut s = base.clone();
    s.seed = seed;
    (s.loss, s.jitter_ms) = crate::models::search::network_noise(seed, 0x005E_ED0F_F417);
    s
}

/// The random schedule of `seed` on `scenario`: built while the run goes, so that a crash
/// can pick the current leader. Over `scenario.duration_ms`, an action every 40–250 ms:
/// a client write or read (most often), a crash (of the leader, or of any server), a restart of a
/// crashed server, a partition into two random sides, a heal, a slow or cut link and its
/// repair. Crashed servers restart and partitions heal within about a second.
pub fn random_schedule(
    scenario: &RaftScenario,
    seed: u64,
) -> Result<Vec<Intervention<Node>>, String> {
    let setup = scenario.setup()?;
    let n = scenario.servers.len();
    let clients: Vec<NodeId> = (n..n + scenario.clients.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xFA_017);
    let mut e = Engine::start_with(setup, Vec::new());
    let mut planned: BTreeMap<Time, Vec<Action<Node>>> = BTreeMap::new();
    let mut t: Time = rng.random_range(100..300);
    while t < scenario.duration_ms {
        planned.entry(t).or_default();
        t += rng.random_range(40..250);
    }
    let mut writes = 0u64;
    let mut reads = ChaCha8Rng::seed_from_u64(seed ^ 0x0000_EAD5);
    let mut down = vec![false; n];
    while let Some((&at, _)) = planned.iter().next() {
        let fixed = planned.remove(&at).unwrap_or_default();
        // Run up to `at`.
        while e.world().now < at && e.step() {}
        let now = e.world().now.max(at);
        let mut actions = fixed;
        if actions.is_empty() {
            let leader = (0..n).find(|&i| {
                !down[i] && matches!(&e.world().nodes[i], Node::Server(s) if s.role == Role::Leader)
            });
            let roll = rng.random_range(0..100);
            let up: Vec<NodeId> = (0..n).filter(|&i| !down[i]).collect();
            match roll {
                0..=44 if !clients.is_empty() => {
                    writes += 1;
                    let key = ["x", "y", "z"][rng.random_range(0..3)].to_string();
                    // A third of the operations are reads (their own stream, so the
                    // faults stay what they were).
                    let request = if reads.random_bool(1.0 / 3.0) {
                        Request::Get { key }
                    } else {
                        Request::Put {
                            key,
                            value: writes.to_string(),
                        }
                    };
                    actions.push(Action::Request {
                        client: clients[rng.random_range(0..clients.len())],
                        request,
                        label: None,
                    });
                }
                45..=62 => {
                    let victim = match leader {
                        Some(l) if rng.random_bool(0.7) => Some(l),
                        _ if up.len() > 1 => Some(up[rng.random_range(0..up.len())]),
                        _ => None,
                    };
                    if let Some(v) = victim {
                        actions.push(Action::Crash { node: v });
                        let back = now + rng.random_range(60..900);
                        planned
                            .entry(back)
                            .or_default()
                            .push(Action::Restart { node: v });
                    }
                }
                63..=74 => {
                    let mut side: Vec<NodeId> = (0..n).filter(|_| rng.random_bool(0.5)).collect();
                    if side.is_empty() || side.len() == n {
                        side = vec![rng.random_range(0..n)];
                    }
                    let other: Vec<NodeId> = (0..n).filter(|i| !side.contains(i)).collect();
                    let mut groups = vec![side, other];
                    // Clients join a random side.
                    for &c in &clients {
                        groups[rng.random_range(0..2)].push(c);
                    }
                    actions.push(Action::Partition { groups });
                    let heal = now + rng.random_range(100..1_000);
                    planned.entry(heal).or_default().push(Action::Heal);
                }
                75..=84 => {
                    let a = rng.random_range(0..n);
                    let b = (a + rng.random_range(1..n.max(2))) % n.max(1);
                    if a != b {
                        let until = now + rng.random_range(100..800);
                        if rng.random_bool(0.5) {
                            actions.push(Action::CutLink { a, b });
                            planned
                                .entry(until)
                                .or_default()
                                .push(Action::RestoreLink { a, b });
                        } else {
                            actions.push(Action::SetLinkDelay {
                                a,
                                b,
                                latency: Some(Latency {
                                    base_ms: rng.random_range(40..300),
                                    jitter_ms: rng.random_range(0..100),
                                }),
                            });
                            planned
                                .entry(until)
                                .or_default()
                                .push(Action::SetLinkDelay {
                                    a,
                                    b,
                                    latency: None,
                                });
                        }
                    }
                }
                _ => {
                    // A quiet moment, or a forced election at a follower.
                    if rng.random_bool(0.3) && !up.is_empty() {
                        actions.push(Action::Command {
                            node: up[rng.random_range(0..up.len())],
                            command: super::Operator::Timeout,
                        });
                    }
                }
            }
        }
        for a in actions {
            match &a {
                Action::Crash { node } => {
                    if down[*node] {
                        continue;
                    }
                    down[*node] = true;
                }
                Action::Restart { node } => {
                    if !down[*node] {
                        continue;
                    }
                    down[*node] = false;
                }
                _ => {}
            }
            e.push_intervention(Intervention::new(now, a))?;
        }
    }
    Ok(e.interventions().to_vec())
}

/// Removes interventions one at a time (last first, in passes until nothing more can go)
/// while `property` still fails, so every intervention left is needed.
pub fn shrink(
    scenario: &RaftScenario,
    interventions: Vec<Intervention<Node>>,
    property: Property,
) -> Vec<Intervention<Node>> {
    crate::models::search::shrink_by(interventions, |ivs| {
        scenario.setup().is_ok_and(|setup| {
            run_checked(setup, ivs.to_vec())
                .1
                .iter()
                .any(|v| v.property == property)
        })
    })
}

/// Runs `runs` seeds from `first_seed` on `base` (its broken rules and refinements included) and reports
/// the violations. `shrink_per_property` failing runs per property are shrunk to find the
/// shortest schedule. Errors: the base scenario is invalid.
pub fn explore(
    base: &RaftScenario,
    first_seed: u64,
    runs: u64,
    shrink_per_property: usize,
) -> Result<Report, String> {
    base.setup()?;
    let mut report = Report {
        servers: base.servers.len(),
        broken: base.broken.iter().copied().collect(),
        refinements: base.refinements.iter().copied().collect(),
        first_seed,
        runs,
        failing_runs: 0,
        by_property: BTreeMap::new(),
        shortest: Vec::new(),
        events: 0,
    };
    let mut shrunk: BTreeMap<Property, usize> = BTreeMap::new();
    for seed in first_seed..first_seed + runs {
        let scenario = scenario_for(base, seed);
        let ivs = random_schedule(&scenario, seed)?;
        let (engine, violations) = run_checked(scenario.setup()?, ivs.clone());
        report.events += engine.trace().len() as u64;
        if violations.is_empty() {
            continue;
        }
        report.failing_runs += 1;
        for v in violations {
            *report.by_property.entry(v.property).or_default() += 1;
            let done = shrunk.entry(v.property).or_default();
            if *done >= shrink_per_property {
                continue;
            }
            *done += 1;
            let small = shrink(&scenario, ivs.clone(), v.property);
            let (_, again) = run_checked(scenario.setup()?, small.clone());
            let Some(violation) = again.into_iter().find(|w| w.property == v.property) else {
                continue;
            };
            let found = Found {
                seed,
                violation,
                scenario: scenario.clone(),
                interventions: small,
                original_len: ivs.len(),
            };
            match report
                .shortest
                .iter_mut()
                .find(|f| f.violation.property == v.property)
            {
                Some(f) if f.interventions.len() <= found.interventions.len() => {}
                Some(f) => *f = found,
                None => report.shortest.push(found),
            }
        }
    }
    report.shortest.sort_by_key(|f| f.violation.property);
    Ok(report)
}
