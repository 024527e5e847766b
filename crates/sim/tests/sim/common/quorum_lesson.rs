//! Shared by the quorum lessons' tests (`lesson_quorums.rs`, `lesson_linearizability.rs`,
//! `lesson_cap.rs`): a step's run with its analysis at the step's cursor, and readers of
//! requests, replicas' values and the checker's verdict.

#![allow(dead_code)]

use distlab_sim::engine::{Engine, Intervention};
use distlab_sim::lesson::Lesson;
use distlab_sim::linearizability::{check, Model, ModelSpec, Outcome, Verdict};
use distlab_sim::models::history;
use distlab_sim::models::quorum::analysis::{analyze, Analysis, RequestRecord};
use distlab_sim::models::quorum::{Node, QuorumScenario, View};
use distlab_sim::models::Quorum;
use distlab_sim::{NodeId, Time};

pub fn parse(text: &str) -> Lesson {
    Lesson::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

pub fn index(l: &Lesson, title: &str) -> usize {
    l.steps
        .iter()
        .position(|s| s.title.starts_with(title))
        .unwrap_or_else(|| panic!("no step \"{title}\""))
}

/// A step's run: scenario, interventions, engine, and the analysis at the step's cursor.
pub struct Run {
    pub scenario: QuorumScenario,
    pub ivs: Vec<Intervention<Node>>,
    pub engine: Engine<Node>,
    pub cursor: Option<usize>,
    pub a: Analysis,
}

pub fn run_with(scenario: QuorumScenario, ivs: Vec<Intervention<Node>>) -> Run {
    let engine = Engine::new(scenario.setup().unwrap(), ivs.clone());
    let cursor = engine.trace().len().checked_sub(1);
    let a = analyze(&engine, cursor);
    Run {
        scenario,
        ivs,
        engine,
        cursor,
        a,
    }
}

pub fn run(l: &Lesson, title: &str) -> Run {
    let i = index(l, title);
    let (s, ivs) = l.engine_run::<Quorum>(i).unwrap();
    let mut r = run_with(s, ivs);
    r.cursor = l.steps[i].until.cursor(&r.engine).unwrap();
    r.a = analyze(&r.engine, r.cursor);
    r
}

impl Run {
    pub fn id(&self, name: &str) -> NodeId {
        self.scenario.node(name).unwrap()
    }
    pub fn req(&self, label: &str) -> &RequestRecord {
        self.a
            .requests
            .iter()
            .find(|q| q.label.as_deref() == Some(label))
            .unwrap_or_else(|| panic!("no request {label}: {:?}", self.a.requests))
    }
    pub fn latency(&self, label: &str) -> Time {
        let q = self.req(label);
        q.return_ms.unwrap() - q.call_ms
    }
    /// The value `node` holds for `key` after trace step `step`.
    pub fn value_at(&self, step: Option<usize>, node: NodeId, key: &str) -> Option<String> {
        match &self.engine.views_at(step)[node] {
            View::Replica { data, .. } => data.get(key).map(|e| e.value.clone()),
            View::Client { .. } => panic!("{node} is a client"),
        }
    }
    /// When `node` first held `value` for `key`.
    pub fn first_holds(&self, node: NodeId, key: &str, value: &str) -> Option<Time> {
        (0..self.engine.trace().len())
            .find(|&s| self.value_at(Some(s), node, key).as_deref() == Some(value))
            .map(|s| self.engine.trace()[s].time)
    }
    pub fn step_of_heal(&self) -> usize {
        self.engine
            .trace()
            .iter()
            .position(|e| matches!(e.kind, distlab_sim::EventKind::Heal))
            .expect("a heal")
    }
    pub fn verdict(&self) -> Verdict {
        let h = history::quorum(&self.engine, self.cursor).0;
        check(&h, &ModelSpec::new(Model::Register), Some(5_000_000))
    }
    pub fn linearizable(&self) -> bool {
        self.verdict().outcome == Outcome::Linearizable
    }
}
