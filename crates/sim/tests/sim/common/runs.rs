//! Every engine model's ready-made runs: each step of every built-in lesson (and the Raft
//! lab's presets), by model, with the step's cursor rule; and random fault interventions
//! over a run's nodes (proptest strategies). Shared by the share, prepared-failure and
//! client-history tests.

#![allow(dead_code)]

use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::lesson::{built_in, ResolvedLesson, StepModel, Until};
use distlab_sim::models::{self, EngineModel};
use distlab_sim::network::Latency;
use distlab_sim::{NodeId, Time};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Every built-in lesson resolved, plus the Raft lab (its presets as a lesson).
pub fn lessons() -> &'static [ResolvedLesson] {
    static L: OnceLock<Vec<ResolvedLesson>> = OnceLock::new();
    L.get_or_init(|| {
        let mut v: Vec<ResolvedLesson> = built_in()
            .iter()
            .map(|l| l.resolve().unwrap_or_else(|e| panic!("{}: {e}", l.id)))
            .collect();
        v.push(models::raft::presets::lab_lesson());
        v
    })
}

/// A run of model `M`: its scenario and interventions.
pub type Run<M> = (
    <M as EngineModel>::Scenario,
    Vec<Intervention<<M as EngineModel>::Node>>,
);

/// A lesson step's run of model `M`, its `until`, and its name ("lesson-id step N").
pub type Step<M> = (
    <M as EngineModel>::Scenario,
    Vec<Intervention<<M as EngineModel>::Node>>,
    Until,
    String,
);

/// An engine model whose runs the built-in lessons' steps hold.
pub trait StepRuns: EngineModel + Sized + 'static {
    /// The step's scenario and interventions, if the step is of this model.
    fn of_step(run: &StepModel) -> Option<Run<Self>>;
    /// Every step of this model: scenario, interventions, the step's `until`, and a name
    /// ("lesson-id step N") for failure messages.
    fn steps() -> Vec<Step<Self>> {
        lessons()
            .iter()
            .flat_map(|l| {
                l.steps.iter().enumerate().filter_map(move |(i, s)| {
                    Self::of_step(&s.run).map(|(sc, ivs)| {
                        (sc, ivs, s.until.clone(), format!("{} step {}", l.id, i + 1))
                    })
                })
            })
            .collect()
    }
}

macro_rules! step_runs {
    ($model:ty, $variant:ident) => {
        impl StepRuns for $model {
            fn of_step(run: &StepModel) -> Option<(Self::Scenario, Vec<Intervention<Self::Node>>)> {
                match run {
                    StepModel::$variant {
                        scenario,
                        interventions,
                    } => Some((scenario.clone(), interventions.clone())),
                    _ => None,
                }
            }
        }
    };
}

step_runs!(models::Replication, Replication);
step_runs!(models::Clocks, Clocks);
step_runs!(models::Leaderless, Leaderless);
step_runs!(models::Raft, Raft);
step_runs!(models::Paxos, Paxos);
step_runs!(models::Quorum, Quorum);
step_runs!(models::TwoPc, Twopc);
step_runs!(models::FailureDetector, FailureDetector);
step_runs!(models::Gossip, Gossip);

/// A fault as drawn: raw numbers reduced modulo the run's node count when applied, so
/// every drawn value fits every run and shrinks well.
#[derive(Clone, Debug)]
pub struct RawFault {
    pub at: Time,
    pub kind: u8,
    pub a: usize,
    pub b: usize,
    pub ms: Time,
}

/// Up to `max` random faults in `[0, horizon)` ms.
pub fn faults(max: usize, horizon: Time) -> impl Strategy<Value = Vec<RawFault>> {
    prop::collection::vec(
        (
            0..horizon,
            0u8..9,
            any::<usize>(),
            any::<usize>(),
            0u64..300,
        )
            .prop_map(|(at, kind, a, b, ms)| RawFault { at, kind, a, b, ms }),
        0..=max,
    )
}

/// The fault as an intervention of a run with `n` nodes (any model: crash, restart,
/// partition, heal, cut, restore, delay, drop a message).
pub fn fault<P: distlab_sim::Protocol>(f: &RawFault, n: usize) -> Intervention<P> {
    let (a, b) = (f.a % n, f.b % n);
    let action = match f.kind {
        0 | 1 => Action::Crash { node: a },
        2 => Action::Restart { node: a },
        3 => {
            // Nodes go to group 0, 1 or none by two bits of `a` each.
            let mut groups: Vec<Vec<NodeId>> = vec![Vec::new(), Vec::new()];
            for node in 0..n {
                match (f.a >> (2 * (node % 30))) & 3 {
                    0 => groups[0].push(node),
                    1 => groups[1].push(node),
                    _ => {}
                }
            }
            Action::Partition { groups }
        }
        4 => Action::Heal,
        5 => Action::CutLink { a, b },
        6 => Action::RestoreLink { a, b },
        7 => Action::SetLinkDelay {
            a,
            b,
            latency: (!f.ms.is_multiple_of(3)).then(|| Latency::fixed(f.ms)),
        },
        _ => Action::DropMessage {
            id: (f.b % 64) as u64,
        },
    };
    Intervention::new(f.at, action)
}

/// A run of `M`: `scenario` with `ivs` plus the faults.
pub fn run_with_faults<M: EngineModel>(
    scenario: &M::Scenario,
    ivs: &[Intervention<M::Node>],
    raw: &[RawFault],
) -> Engine<M::Node> {
    let setup = M::setup(scenario).expect("lesson scenarios are valid");
    let n = setup.nodes.len();
    let mut all = ivs.to_vec();
    all.extend(raw.iter().map(|f| fault::<M::Node>(f, n)));
    Engine::new(setup, all)
}
