//! The engine benchmark's workload and measurements, shared by `cargo bench -p distlab-sim`
//! and `distlab bench`.
//!
//! The workload is a single-leader replication run with 7 nodes (a leader, 4 followers and
//! 2 clients; semi-synchronous with `k = 2`) driven by a steady stream of client writes
//! and reads, with a follower crash and restart and a partition and heal every simulated
//! second. It measures:
//!
//! - `engine.events_per_sec`: events simulated per second of wall-clock time by a run from
//!   scratch ([`Engine::new`]), the median of several runs;
//! - `engine.step_back_ms`: wall-clock milliseconds of [`Engine::world_at`] at random
//!   steps ("step back" = jump anywhere in the run), median and max;
//! - `engine.add_intervention_ms`: wall-clock milliseconds of [`Engine::add_intervention`]
//!   at a random simulated time (re-simulating from the nearest checkpoint), median and max.
//!
//! Wall-clock times depend on the machine; the run itself is deterministic.

use crate::engine::{Action, Engine, Intervention, Setup};
use crate::models::replication::{self, Node, Place, ReplicationScenario};
use crate::Time;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::time::Instant;

/// How much to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The workload produces at least this many trace events (capped by
    /// [`crate::engine::MAX_EVENTS`]).
    pub events: usize,
    /// Runs from scratch timed for `events_per_sec` (the median is reported).
    pub runs: usize,
    /// Random steps timed for `step_back_ms`.
    pub step_backs: usize,
    /// Random interventions timed for `add_intervention_ms`.
    pub additions: usize,
    /// Seed of the random choices of steps and times (not of the run).
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            events: 10_000,
            runs: 7,
            step_backs: 200,
            additions: 30,
            seed: 1,
        }
    }
}

/// Measurements of one benchmark. Times are wall-clock milliseconds, except `horizon_ms`
/// (simulated milliseconds).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Events in the workload's trace.
    pub events: usize,
    /// Simulated length of the run, simulated ms.
    pub horizon_ms: Time,
    /// Events simulated per wall-clock second, median over [`Config::runs`] runs.
    pub events_per_sec: f64,
    /// Wall-clock ms of one run from scratch, median.
    pub run_ms_median: f64,
    /// Wall-clock ms of `world_at(Some(s))` at a random step `s`, median.
    pub step_back_ms_median: f64,
    /// Wall-clock ms of `world_at(Some(s))` at a random step `s`, max.
    pub step_back_ms_max: f64,
    /// Wall-clock ms of `add_intervention` at a random simulated time, median.
    pub add_intervention_ms_median: f64,
    /// Wall-clock ms of `add_intervention` at a random simulated time, max.
    pub add_intervention_ms_max: f64,
}

impl fmt::Display for Report {
    /// One `name value` line per metric, stable and grep-able.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "engine.events {}", self.events)?;
        writeln!(f, "engine.horizon_ms {}", self.horizon_ms)?;
        writeln!(f, "engine.events_per_sec {:.0}", self.events_per_sec)?;
        writeln!(f, "engine.run_ms.median {:.3}", self.run_ms_median)?;
        writeln!(
            f,
            "engine.step_back_ms.median {:.3}",
            self.step_back_ms_median
        )?;
        writeln!(f, "engine.step_back_ms.max {:.3}", self.step_back_ms_max)?;
        writeln!(
            f,
            "engine.add_intervention_ms.median {:.3}",
            self.add_intervention_ms_median
        )?;
        write!(
            f,
            "engine.add_intervention_ms.max {:.3}",
            self.add_intervention_ms_max
        )
    }
}

/// Client operations in a workload of `ops` operations (one every 2 simulated ms).
fn ops_for(ops: usize) -> (ReplicationScenario, Vec<Intervention<Node>>) {
    let place = |name: &str| Place {
        name: name.into(),
        place: None,
    };
    let scenario = ReplicationScenario {
        seed: 7,
        duration_ms: 1_000,
        mode: "semi-sync".into(),
        k: 2,
        leader: place("leader"),
        followers: (1..=4).map(|i| place(&format!("follower-{i}"))).collect(),
        clients: vec![place("alice"), place("bob")],
        latency_ms: 5,
        jitter_ms: 10,
        links: Vec::new(),
        loss: 0.0,
        retransmit_ms: 200,
        partitions: Vec::new(),
        sessions: Vec::new(),
    };
    let (alice, bob) = (5, 6);
    let mut ivs = Vec::with_capacity(ops + ops / 100);
    for i in 0..ops {
        let at = 2 * i as Time;
        let client = if i % 2 == 0 { alice } else { bob };
        let key = format!("k{}", i % 8);
        if i % 3 == 2 {
            ivs.push(replication::read(at, client, i % 5, &key));
        } else {
            ivs.push(replication::write(at, client, &key, &format!("v{i}")));
        }
        // Every simulated second: a follower crashes for 300 ms, and the network splits
        // one follower away for 200 ms.
        if i % 500 == 100 {
            let f = 1 + (i / 500) % 4;
            ivs.push(Intervention::new(at, Action::Crash { node: f }));
            ivs.push(Intervention::new(at + 300, Action::Restart { node: f }));
        }
        if i % 500 == 350 {
            let f = 1 + (i / 500 + 2) % 4;
            let rest: Vec<usize> = (0..7).filter(|n| *n != f).collect();
            ivs.push(Intervention::new(
                at,
                Action::Partition {
                    groups: vec![vec![f], rest],
                },
            ));
            ivs.push(Intervention::new(at + 200, Action::Heal));
        }
    }
    (scenario, ivs)
}

/// The benchmark workload: a setup and interventions whose run has at least `events` trace
/// events (up to [`crate::engine::MAX_EVENTS`]). Deterministic.
pub fn workload(events: usize) -> (Setup<Node>, Vec<Intervention<Node>>) {
    let events = events.clamp(1, crate::engine::MAX_EVENTS);
    // About 8 events per operation; grow until the run is long enough.
    let mut ops = events / 8 + 1;
    loop {
        let (scenario, ivs) = ops_for(ops);
        let setup = scenario.setup().expect("the benchmark scenario is valid");
        let engine = Engine::new(setup.clone(), ivs.clone());
        let got = engine.trace().len();
        if got >= events || engine.truncated() {
            return (setup, ivs);
        }
        ops = ops * events / got.max(1) + 16;
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1_000.0
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Builds the workload and measures it. Takes roughly `runs + additions` times one run.
pub fn run(config: &Config) -> Report {
    let (setup, ivs) = workload(config.events);
    let mut run_ms = Vec::new();
    let mut engine = None;
    for _ in 0..config.runs.max(1) {
        let setup = setup.clone();
        let ivs = ivs.clone();
        let t = Instant::now();
        let e = Engine::new(setup, ivs);
        run_ms.push(ms(t));
        engine = Some(e);
    }
    let engine = engine.expect("at least one run");
    let events = engine.trace().len();
    let run_ms_median = median(&mut run_ms);

    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut back = Vec::new();
    for _ in 0..config.step_backs {
        let s = rng.random_range(0..events);
        let t = Instant::now();
        let w = engine.world_at(Some(s));
        back.push(ms(t));
        assert!(w.is_some(), "step {s} is in the trace");
    }

    let horizon = engine.horizon();
    let mut add = Vec::new();
    for i in 0..config.additions {
        let mut e = engine.clone();
        let at = rng.random_range(0..horizon.max(1));
        let iv = if i % 2 == 0 {
            Intervention::new(
                at,
                Action::Crash {
                    node: rng.random_range(1..5),
                },
            )
        } else {
            replication::write(at, 5, "bench", "added")
        };
        let t = Instant::now();
        e.add_intervention(iv);
        add.push(ms(t));
    }
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    Report {
        events,
        horizon_ms: horizon,
        events_per_sec: if run_ms_median > 0.0 {
            events as f64 / (run_ms_median / 1_000.0)
        } else {
            f64::INFINITY
        },
        run_ms_median,
        step_back_ms_max: max(&back),
        step_back_ms_median: median(&mut back),
        add_intervention_ms_max: max(&add),
        add_intervention_ms_median: median(&mut add),
    }
}
