//! Randomized search for safety violations: many seeds, each a run with a random schedule
//! of proposals (operator commands with fresh values) and faults — crashes of acceptors,
//! proposers and learners (often of a proposer in the middle of a ballot) and their
//! restarts, partitions, cut and slow links, message loss and jitter — checked by the
//! [`monitor`](super::monitor) after every event. A violation comes with a replayable run
//! (scenario, seed and interventions), shrunk by removing interventions one at a time while
//! the same property still fails.
//!
//! The parts that do not depend on Paxos — network faults and shrinking — are generic over
//! the protocol ([`network_fault`], [`shrink_by`], from [`crate::models::search`], which
//! Raft's search shares), using only the engine's [`Action`]s and
//! [`Intervention`]s.

use super::monitor::{run_checked, Property, Violation};
use super::{Broken, Node, Operator, PaxosScenario, Phase};
use crate::engine::{Action, Engine, Intervention};
use crate::models::search::network_noise;
pub use crate::models::search::{network_fault, shrink_by};
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
    pub scenario: PaxosScenario,
    /// The interventions, shrunk: removing any one of them makes the violation disappear.
    pub interventions: Vec<Intervention<Node>>,
    /// How many interventions the random schedule had before shrinking.
    pub original_len: usize,
}

/// What a search found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub proposers: usize,
    pub acceptors: usize,
    pub broken: Vec<Broken>,
    /// Seeds run: `first..first + runs`.
    pub first_seed: u64,
    pub runs: u64,
    /// Runs in which some value was chosen (the search exercises more than start-up).
    pub runs_with_choice: u64,
    /// Runs with at least one violation.
    pub failing_runs: u64,
    /// Per property, how many runs violated it.
    pub by_property: BTreeMap<Property, u64>,
    /// Per property, the first failing run, its schedule shrunk.
    pub shortest: Vec<Found>,
    /// Events simulated, over all runs (a measure of the search's size).
    pub events: u64,
}

/// The scenario a seed runs: `base` with the seed, a random loss rate (0–10 %, in half the
/// runs) and jitter (0–20 ms).
pub fn scenario_for(base: &PaxosScenario, seed: u64) -> PaxosScenario {
    let mut s = base.clone();
    s.seed = seed;
    (s.loss, s.jitter_ms) = network_noise(seed, 0x0BA5_05EE_D0F5);
    s
}

/// Shrinks a Paxos schedule that violates `property` on `scenario` ([`shrink_by`]).
pub fn shrink(
    scenario: &PaxosScenario,
    interventions: Vec<Intervention<Node>>,
    property: Property,
) -> Vec<Intervention<Node>> {
    shrink_by(interventions, |ivs| {
        scenario.setup().is_ok_and(|setup| {
            run_checked(setup, ivs.to_vec())
                .1
                .iter()
                .any(|v| v.property == property)
        })
    })
}

/// The random schedule of `seed` on `scenario`, built while the run goes so that a crash
/// can pick a proposer in the middle of a ballot. Over `scenario.duration_ms`, an action
/// every 20–150 ms: an operator's proposal of a fresh value (`v1`, `v2`, …) to a random
/// proposer (most often); a crash (of a proposer that is preparing or accepting, or of any
/// node — acceptors most often), restarted within 50–600 ms; a network fault
/// ([`network_fault`]); or nothing.
pub fn random_schedule(
    scenario: &PaxosScenario,
    seed: u64,
) -> Result<Vec<Intervention<Node>>, String> {
    let setup = scenario.setup()?;
    let (proposers, acceptors, learners) = scenario.roles();
    let n = setup.nodes.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x9A_705);
    let mut e = Engine::start_with(setup, Vec::new());
    let mut planned: BTreeMap<Time, Vec<Action<Node>>> = BTreeMap::new();
    let mut t: Time = rng.random_range(0..100);
    while t < scenario.duration_ms {
        planned.entry(t).or_default();
        t += rng.random_range(20..150);
    }
    let mut values = 0u64;
    let mut down = vec![false; n];
    while let Some((&at, _)) = planned.iter().next() {
        let fixed = planned.remove(&at).unwrap_or_default();
        while e.world().now < at && e.step() {}
        let now = e.world().now.max(at);
        let mut actions = fixed;
        if actions.is_empty() {
            let up = |ids: &[NodeId]| -> Vec<NodeId> {
                ids.iter().copied().filter(|&i| !down[i]).collect()
            };
            let active: Vec<NodeId> = up(&proposers)
                .into_iter()
                .filter(|&i| {
                    matches!(&e.world().nodes[i], Node::Proposer(p)
                        if matches!(p.phase, Phase::Preparing | Phase::Accepting))
                })
                .collect();
            match rng.random_range(0..100) {
                0..=39 => {
                    let ps = up(&proposers);
                    if !ps.is_empty() {
                        values += 1;
                        actions.push(Action::Command {
                            node: ps[rng.random_range(0..ps.len())],
                            command: Operator::Propose {
                                value: format!("v{values}"),
                            },
                        });
                    }
                }
                40..=59 => {
                    let pool = match rng.random_range(0..10) {
                        0..=2 if !active.is_empty() => active,
                        0..=5 => up(&acceptors),
                        6..=8 => up(&proposers),
                        _ => up(&learners),
                    };
                    if !pool.is_empty() {
                        let v = pool[rng.random_range(0..pool.len())];
                        actions.push(Action::Crash { node: v });
                        let back = now + rng.random_range(50..600);
                        planned
                            .entry(back)
                            .or_default()
                            .push(Action::Restart { node: v });
                    }
                }
                60..=79 => {
                    if let Some((fault, until, repair)) = network_fault(&mut rng, n, now) {
                        actions.push(fault);
                        planned.entry(until).or_default().push(repair);
                    }
                }
                _ => {}
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

/// Runs `runs` seeds from `first_seed` on `base` (its broken rules included) and reports
/// the violations; the first failing run of each property is shrunk. Errors: the base
/// scenario is invalid.
pub fn explore(base: &PaxosScenario, first_seed: u64, runs: u64) -> Result<Report, String> {
    base.setup()?;
    let mut report = Report {
        proposers: base.proposers.len(),
        acceptors: base.acceptors.len(),
        broken: base.broken.iter().copied().collect(),
        first_seed,
        runs,
        runs_with_choice: 0,
        failing_runs: 0,
        by_property: BTreeMap::new(),
        shortest: Vec::new(),
        events: 0,
    };
    for seed in first_seed..first_seed + runs {
        let scenario = scenario_for(base, seed);
        let ivs = random_schedule(&scenario, seed)?;
        let (engine, violations) = run_checked(scenario.setup()?, ivs.clone());
        report.events += engine.trace().len() as u64;
        // Some learner learned a value, or some proposer saw its value chosen.
        let chose = engine.world().nodes.iter().any(|n| match n {
            Node::Learner(l) => l.learned.is_some(),
            Node::Proposer(p) => p.chosen.is_some(),
            Node::Acceptor(_) => false,
        });
        report.runs_with_choice += u64::from(chose);
        if violations.is_empty() {
            continue;
        }
        report.failing_runs += 1;
        for v in violations {
            *report.by_property.entry(v.property).or_default() += 1;
            if report
                .shortest
                .iter()
                .any(|f| f.violation.property == v.property)
            {
                continue;
            }
            let small = shrink(&scenario, ivs.clone(), v.property);
            let (_, again) = run_checked(scenario.setup()?, small.clone());
            let Some(violation) = again.into_iter().find(|w| w.property == v.property) else {
                continue;
            };
            report.shortest.push(Found {
                seed,
                violation,
                scenario: scenario.clone(),
                interventions: small,
                original_len: ivs.len(),
            });
        }
    }
    report.shortest.sort_by_key(|f| f.violation.property);
    Ok(report)
}
