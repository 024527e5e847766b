//! The atomicity checker's randomized search: many seeds, each a run with a random
//! schedule of transactions (operator `begin`s over random participants and keys, so
//! transactions contend for locks) and faults — crashes of the coordinator (often while it
//! collects votes or sends a decision) and of participants (often in doubt) with restarts,
//! partitions, cut and slow links, message loss and jitter — checked by the
//! [`monitor`](super::monitor) after every event, with the in-doubt periods of every run
//! measured ([`super::analysis::Tracker`]). A violation comes with a replayable run
//! (scenario and interventions), shrunk to the interventions it needs
//! ([`crate::models::search::shrink_by`], shared with Raft's and Paxos's searches).

use super::analysis::{Analysis, Tracker};
use super::monitor::{run_checked, Property, Violation};
use super::{Broken, Command, CommitProtocol, CoordPhase, Node, PState, TwoPcScenario, Write};
use crate::engine::{Action, Engine, Intervention, Setup};
use crate::models::search::{network_fault, network_noise, shrink_by};
use crate::{NodeId, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

/// What a search runs: the base scenario (participants, protocol, timeouts, broken rules;
/// its transactions are replaced by the random ones) and which faults it injects.
#[derive(Clone, Debug, PartialEq)]
pub struct ExploreConfig {
    pub base: TwoPcScenario,
    /// Crash and restart the coordinator and participants.
    pub crashes: bool,
    /// Partitions, cut and slow links, message loss and jitter.
    pub network: bool,
    /// At the end of the schedule (`base.duration_ms`), heal the network and restart every
    /// node, so the run's last [`crate::engine::SETTLE_MS`] show whether everyone learns the
    /// outcome. Without it, repairs planned after `duration_ms` are left out too: what is
    /// down or cut then stays so, and participants may end in doubt (blocked).
    pub heal_at_end: bool,
    /// Failing runs shrunk per property (the shortest is reported).
    pub shrink_per_property: usize,
}

impl ExploreConfig {
    /// Three participants, 2 500 simulated ms per run, every fault, healed at the end.
    pub fn new(protocol: CommitProtocol, broken: &[Broken]) -> ExploreConfig {
        let mut base = TwoPcScenario::basic(3, 0);
        base.duration_ms = 2_500;
        base.protocol = protocol;
        base.broken = broken.iter().copied().collect();
        ExploreConfig {
            base,
            crashes: true,
            network: true,
            heal_at_end: true,
            shrink_per_property: 2,
        }
    }
}

/// A run that violated a property: everything needed to replay it.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub seed: u64,
    pub violation: Violation,
    /// The scenario (its `seed` is the run's seed).
    pub scenario: TwoPcScenario,
    /// The interventions, shrunk: removing any one makes the violation disappear.
    pub interventions: Vec<Intervention<Node>>,
    /// How many interventions the random schedule had before shrinking.
    pub original_len: usize,
}

/// In-doubt periods over every run of a search. Times in simulated ms.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InDoubtStats {
    /// Runs with at least one in-doubt period.
    pub runs_with_in_doubt: u64,
    /// In-doubt periods, over all runs.
    pub periods: u64,
    /// Mean length of a period (open ones counted to the run's end).
    pub mean_ms: f64,
    pub max_ms: Time,
    /// Runs that ended with some participant still in doubt (blocked).
    pub runs_blocked_at_end: u64,
    /// Transactions that waited for a lock held by an in-doubt transaction, over all runs.
    pub blocked_waits: u64,
}

/// What a search found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub protocol: CommitProtocol,
    pub broken: Vec<Broken>,
    pub participants: usize,
    pub first_seed: u64,
    pub runs: u64,
    /// Runs with at least one violation.
    pub failing_runs: u64,
    /// Per property, how many runs violated it.
    pub by_property: BTreeMap<Property, u64>,
    /// Per property, a failing run with its schedule shrunk (the shortest found).
    pub shortest: Vec<Found>,
    /// Transactions begun, committed (by every participant) and aborted (by every
    /// participant that has an outcome), over all runs.
    pub transactions: u64,
    pub committed: u64,
    pub aborted: u64,
    pub in_doubt: InDoubtStats,
    /// Events simulated over all runs.
    pub events: u64,
}

/// The scenario a seed runs: `base` with the seed and, with network faults, a random loss
/// (0–10 % in half the runs) and jitter (0–20 ms).
pub fn scenario_for(config: &ExploreConfig, seed: u64) -> TwoPcScenario {
    let mut s = config.base.clone();
    s.seed = seed;
    s.transactions.clear();
    if config.network {
        (s.loss, s.jitter_ms) = network_noise(seed, 0x0002_0CC0_4417);
    }
    s
}

/// Runs `setup` with `interventions`, following it with a [`Tracker`]: the engine and the
/// analysis of the whole run (violations included).
pub fn run_analyzed(
    setup: Setup<Node>,
    interventions: Vec<Intervention<Node>>,
) -> (Engine<Node>, Analysis) {
    let names = setup.nodes.iter().map(|n| n.name.clone()).collect();
    let mut t = Tracker::new(names);
    let mut e = Engine::start_with(setup, interventions);
    if let Some(last) = e.trace().len().checked_sub(1) {
        t.observe(last, e.world());
    }
    while e.step() {
        t.observe(e.trace().len() - 1, e.world());
    }
    let a = t.finish();
    (e, a)
}

/// Shrinks a schedule that violates `property` on `scenario`.
pub fn shrink(
    scenario: &TwoPcScenario,
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

/// The random schedule of `seed`, built while the run goes so that crashes can hit the
/// coordinator while it collects votes or sends a decision and participants while in
/// doubt. Every 20–120 ms until `duration_ms`: a `begin` of a new transaction `Tk` (1–3
/// writes at random participants' first keys, deltas in ±60) — most often; a crash
/// (restarted 50–600 ms later); a network fault ([`network_fault`]); or nothing. With
/// `heal_at_end`, at `duration_ms` (or the first event after it): heal, restore links and
/// delays, restart every node; repairs planned after `duration_ms` are left out either way
/// (without `heal_at_end`, what is down or cut then stays so).
pub fn random_schedule(
    config: &ExploreConfig,
    scenario: &TwoPcScenario,
    seed: u64,
) -> Result<Vec<Intervention<Node>>, String> {
    let setup = scenario.setup()?;
    let n = setup.nodes.len();
    let participants = scenario.participant_ids();
    let keys: Vec<String> = scenario
        .participants
        .iter()
        .map(|p| {
            p.data
                .keys()
                .next()
                .cloned()
                .unwrap_or_else(|| "x".to_string())
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2_9C);
    let mut e = Engine::start_with(setup, Vec::new());
    let mut planned: BTreeMap<Time, Vec<Action<Node>>> = BTreeMap::new();
    let mut t: Time = rng.random_range(0..40);
    while t < scenario.duration_ms {
        planned.entry(t).or_default();
        t += rng.random_range(20..120);
    }
    let mut down = vec![false; n];
    let mut txns = 0u64;
    loop {
        // Planned slots and repairs before the schedule's end; at the end, with
        // `heal_at_end`, one repair of everything (later repairs are then moot).
        let next = planned
            .keys()
            .next()
            .copied()
            .filter(|&t| t < scenario.duration_ms);
        let at = match next {
            Some(at) => at,
            None if config.heal_at_end => scenario.duration_ms,
            None => break,
        };
        let fixed = planned.remove(&at).unwrap_or_default();
        while e.world().now < at && e.step() {}
        let now = e.world().now.max(at);
        let mut actions = fixed;
        if next.is_none() {
            actions.push(Action::Heal);
            for a in 0..n {
                for b in a + 1..n {
                    actions.push(Action::RestoreLink { a, b });
                    actions.push(Action::SetLinkDelay {
                        a,
                        b,
                        latency: None,
                    });
                }
            }
            for (node, d) in down.iter().enumerate() {
                if *d {
                    actions.push(Action::Restart { node });
                }
            }
            planned.clear();
        } else if actions.is_empty() {
            let w = e.world();
            match rng.random_range(0..100) {
                0..=44 => {
                    txns += 1;
                    let k = rng.random_range(1..=3.min(participants.len()).max(1));
                    let mut writes: Vec<Write> = Vec::new();
                    for _ in 0..k {
                        let p = participants[rng.random_range(0..participants.len())];
                        if writes.iter().any(|w| w.participant == p) {
                            continue;
                        }
                        writes.push(Write {
                            participant: p,
                            key: keys[p - 1].clone(),
                            delta: rng.random_range(-60..=60),
                        });
                    }
                    actions.push(Action::Command {
                        node: 0,
                        command: Command::Begin {
                            id: format!("T{txns}"),
                            writes,
                        },
                    });
                }
                45..=69 if config.crashes => {
                    let coordinator_busy = matches!(&w.nodes[0], Node::Coordinator(c)
                        if c.txns.values().any(|t| matches!(t.phase,
                            CoordPhase::Voting | CoordPhase::PreCommitting | CoordPhase::Committing)));
                    let in_doubt: Vec<NodeId> = participants
                        .iter()
                        .copied()
                        .filter(|&p| {
                            !down[p]
                                && matches!(&w.nodes[p], Node::Participant(x)
                                    if x.txns.values().any(|t| t.state == PState::Prepared))
                        })
                        .collect();
                    let victim = match rng.random_range(0..10) {
                        0..=3 if coordinator_busy && !down[0] => Some(0),
                        0..=5 if !in_doubt.is_empty() => {
                            Some(in_doubt[rng.random_range(0..in_doubt.len())])
                        }
                        0..=1 => Some(0),
                        _ => Some(participants[rng.random_range(0..participants.len())]),
                    };
                    if let Some(v) = victim.filter(|&v| !down[v]) {
                        actions.push(Action::Crash { node: v });
                        let back = now + rng.random_range(50..600);
                        planned
                            .entry(back)
                            .or_default()
                            .push(Action::Restart { node: v });
                    }
                }
                70..=89 if config.network => {
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
        if next.is_none() {
            break;
        }
    }
    Ok(e.interventions().to_vec())
}

/// Runs the seeds `seeds` of `config` and reports violations (the first
/// `shrink_per_property` failing runs of each property shrunk, the shortest kept) and
/// in-doubt statistics. Errors: the base scenario is invalid.
pub fn explore(config: &ExploreConfig, seeds: Range<u64>) -> Result<Report, String> {
    config.base.setup()?;
    let mut report = Report {
        protocol: config.base.protocol,
        broken: config.base.broken.iter().copied().collect(),
        participants: config.base.participants.len(),
        first_seed: seeds.start,
        runs: 0,
        failing_runs: 0,
        by_property: BTreeMap::new(),
        shortest: Vec::new(),
        transactions: 0,
        committed: 0,
        aborted: 0,
        in_doubt: InDoubtStats::default(),
        events: 0,
    };
    let mut shrunk: BTreeMap<Property, usize> = BTreeMap::new();
    let mut total_doubt_ms: u128 = 0;
    for seed in seeds {
        report.runs += 1;
        let scenario = scenario_for(config, seed);
        let ivs = random_schedule(config, &scenario, seed)?;
        let (engine, a) = run_analyzed(scenario.setup()?, ivs.clone());
        report.events += engine.trace().len() as u64;
        report.transactions += a.transactions.len() as u64;
        for t in &a.transactions {
            let outs: Vec<bool> = t.outcomes.iter().filter_map(|o| o.committed).collect();
            if !outs.is_empty() && outs.len() == t.outcomes.len() && outs.iter().all(|c| *c) {
                report.committed += 1;
            } else if !outs.is_empty() && outs.iter().all(|c| !*c) {
                report.aborted += 1;
            }
        }
        let s = &mut report.in_doubt;
        if !a.in_doubt.is_empty() {
            s.runs_with_in_doubt += 1;
        }
        s.periods += a.in_doubt.len() as u64;
        for d in &a.in_doubt {
            let ms = d.duration(a.upto_ms);
            total_doubt_ms += ms as u128;
            s.max_ms = s.max_ms.max(ms);
        }
        if a.still_in_doubt > 0 {
            s.runs_blocked_at_end += 1;
        }
        s.blocked_waits += a.blocked.len() as u64;
        if a.violations.is_empty() {
            continue;
        }
        report.failing_runs += 1;
        let mut props: Vec<Property> = a.violations.iter().map(|v| v.property).collect();
        props.sort();
        props.dedup();
        for p in props {
            *report.by_property.entry(p).or_default() += 1;
            let done = shrunk.entry(p).or_default();
            if *done >= config.shrink_per_property {
                continue;
            }
            *done += 1;
            let small = shrink(&scenario, ivs.clone(), p);
            let (_, again) = run_checked(scenario.setup()?, small.clone());
            let Some(violation) = again.into_iter().find(|w| w.property == p) else {
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
                .find(|f| f.violation.property == p)
            {
                Some(f) if f.interventions.len() > found.interventions.len() => *f = found,
                Some(_) => {}
                None => report.shortest.push(found),
            }
        }
    }
    if report.in_doubt.periods > 0 {
        report.in_doubt.mean_ms = total_doubt_ms as f64 / report.in_doubt.periods as f64;
    }
    report.shortest.sort_by_key(|f| f.violation.property);
    Ok(report)
}
