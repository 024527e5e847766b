//! Lesson files (TOML): parsing, validation and resolution into [`ResolvedLesson`]s.
//! Needs the `lesson-files` feature (on by default). The format is documented for authors
//! in `docs/LESSONS.md`.
//!
//! A step positions the run: it may change the scenario's configuration (`set`), add
//! interventions (`actions`, accumulated over the steps so far), and say where the cursor
//! goes (`until`). It can end with a challenge: a predicate over the learner's run.
//!
//! Errors carry a 1-based line number: TOML syntax errors from the parser's span, other
//! errors from the line of the step (or table) they concern.

use super::isolation::{self as iso, parse_kept};
use super::question::{EventSet, Question, QuestionKind};
use super::{
    Challenge, Goal, IsolationStep, ResolvedLesson, ResolvedStep, StepModel, StepRun, Until,
};
use crate::diagram::Diagram;
use crate::engine::{Action, Engine, Intervention};
use crate::models::leaderless::{self, analysis as lw_analysis};
use crate::models::replication::{self, Node, ReplicationScenario, Request};
use crate::models::txn::ast::IsolationLevel;
use crate::models::txn::presets::{preset, PRESETS};
use crate::models::txn::run::run_script;
use crate::models::txn::script::parse_script;
use crate::models::{
    clocks, paxos, quorum, raft, Clocks, EngineModel, Leaderless, Paxos, Quorum, Raft, Replication,
};
use crate::models::{failure_detector, FailureDetector};
use crate::models::{gossip, Gossip};
use crate::models::{twopc, TwoPc};
use crate::network::Latency;
use crate::Time;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A lesson file, parsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// URL slug, e.g. `"replication-lag"` (lowercase letters, digits, `-`).
    pub id: String,
    pub title: String,
    /// One sentence for the lesson list.
    pub summary: String,
    /// The model: `"replication"`, `"isolation"`, `"clocks"`, `"leaderless"`, `"raft"` or
    /// `"paxos"`.
    pub model: String,
    /// Reading order on the home page (ascending).
    #[serde(default)]
    pub order: u32,
    /// The model's scenario: for `replication` a [`ReplicationScenario`] plus `actions`
    /// (interventions every step starts from); for `isolation` a `preset` or a `script`,
    /// a `level` and optionally a `compare` level.
    pub scenario: toml::Table,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// One narrated step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    /// Markdown narration: what to notice.
    pub text: String,
    /// Changes to the scenario from this step on (e.g. `{ mode = "sync" }`).
    #[serde(default)]
    pub set: Option<toml::Table>,
    /// Drop the interventions earlier steps added (keeps the scenario's own `actions`).
    #[serde(default)]
    pub clear_actions: bool,
    /// Interventions added from this step on.
    #[serde(default)]
    pub actions: Vec<TimedAction>,
    /// Labels of scripted client operations (in the scenario or earlier steps) that this
    /// step and the following ones leave out.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Where the run's cursor stands for this step.
    #[serde(default)]
    pub until: Until,
    /// A task the learner solves by experimenting.
    #[serde(default)]
    pub challenge: Option<Challenge>,
    /// A question the learner answers; the answer is revealed after answering.
    #[serde(default)]
    pub question: Option<QuestionFile>,
    /// Horizontal zoom of the diagram for this step (1 = whole run; 1–16). A display hint.
    #[serde(default)]
    pub zoom: Option<f64>,
}

/// A step's question as lesson files write it: `ask` and exactly one of
/// - `options` and `answer` (one option's text, or a list of them when several are right);
/// - `relation = [A, B]`: how events A and B of the run are related (→, ←, ∥);
/// - `concurrent-with = E`, `before = E` or `after = E`: which events of the run (up to the
///   step's cursor) are concurrent with E, happen before E, or happen after E.
///
/// Events are named as [`super::question::find_event`] reads them; answers about the run
/// are computed from it, never written by the author.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct QuestionFile {
    /// The question (markdown).
    pub ask: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub answer: Option<Names>,
    #[serde(default)]
    pub relation: Option<Vec<String>>,
    #[serde(default)]
    pub concurrent_with: Option<String>,
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    /// The label of a read: "what does this read return?", answered from the step's run
    /// (see [`super::question::Prediction`]).
    #[serde(default)]
    pub predict: Option<String>,
    /// Shown after answering (markdown).
    #[serde(default)]
    pub explain: Option<String>,
}

impl QuestionFile {
    /// The question the app receives. Errors: no kind or several, a relation that is not
    /// two events, an answer that is not among the options. A `predict` question comes
    /// back unanswered (its [`QuestionKind::Predict`] has no prediction yet): it is
    /// answered from the step's run by [`QuestionFile::resolve_on`].
    pub fn resolve(&self) -> Result<Question, String> {
        let mut kinds = Vec::new();
        if !self.options.is_empty() || self.answer.is_some() {
            let answers = self
                .answer
                .as_ref()
                .ok_or("a question with options needs an answer (one option, or a list)")?
                .to_vec();
            let mut ix = Vec::new();
            for a in &answers {
                ix.push(self.options.iter().position(|o| o == a).ok_or_else(|| {
                    format!(
                        "the answer \"{a}\" is not one of the options ({})",
                        self.options.join(" | ")
                    )
                })?);
            }
            kinds.push(QuestionKind::Choice {
                options: self.options.clone(),
                answers: ix,
            });
        }
        if let Some(r) = &self.relation {
            let [a, b] = r.as_slice() else {
                return Err(format!(
                    "relation names two events, e.g. relation = [\"send m1\", \"C writes x\"]; this one names {}",
                    r.len()
                ));
            };
            kinds.push(QuestionKind::Relation {
                a: a.clone(),
                b: b.clone(),
            });
        }
        for (set, e) in [
            (EventSet::ConcurrentWith, &self.concurrent_with),
            (EventSet::Before, &self.before),
            (EventSet::After, &self.after),
        ] {
            if let Some(e) = e {
                kinds.push(QuestionKind::Events {
                    set,
                    event: e.clone(),
                });
            }
        }
        if let Some(read) = &self.predict {
            if read.trim().is_empty() {
                return Err(
                    "predict names a read by its label, e.g. predict = \"bob-read\"".into(),
                );
            }
            kinds.push(QuestionKind::Predict {
                read: read.clone(),
                prediction: None,
            });
        }
        if kinds.len() != 1 {
            return Err(format!(
                "a question has exactly one of: options and answer, relation, concurrent-with, before, after, predict ({} given)",
                kinds.len()
            ));
        }
        let kind = kinds.pop().expect("one kind");
        let q = Question {
            html: markdown_to_safe_html(&self.ask),
            kind,
            explain: self.explain.as_deref().map(markdown_to_safe_html),
        };
        if matches!(q.kind, QuestionKind::Choice { .. }) {
            q.pose(None)?;
        }
        Ok(q)
    }
}

impl QuestionFile {
    /// The question resolved on the step's run of model `M`: as [`QuestionFile::resolve`],
    /// and a `predict` question answered from `engine`'s client history, asked at trace
    /// step `cursor` (see [`super::question::Prediction::of`]). Errors: those of
    /// `resolve`, a predict question in a model without client reads
    /// ([`LessonModel::history`]), an unknown label, a label that is not a read, a read
    /// that has not returned by the cursor.
    pub fn resolve_on<M: LessonModel>(
        &self,
        engine: &Engine<M::Node>,
        cursor: Option<usize>,
    ) -> Result<Question, String> {
        let mut q = self.resolve()?;
        if let QuestionKind::Predict { read, prediction } = &mut q.kind {
            let last = engine.trace().len().checked_sub(1);
            let (history, steps) = M::history(engine, last).ok_or_else(|| {
                format!(
                    "predict asks what a read returns; {} lessons have no client reads (replication, raft and quorum lessons do)",
                    M::NAME
                )
            })?;
            let invoked = engine.trace().iter().any(
                |e| matches!(&e.kind, crate::EventKind::Invoke { label: Some(l), .. } if l == read),
            );
            *prediction = Some(super::question::Prediction::of(
                &history, &steps, read, invoked, cursor,
            )?);
        }
        Ok(q)
    }
}

/// An intervention in a lesson file, with nodes by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedAction {
    /// Simulated ms.
    pub at: Time,
    #[serde(flatten)]
    pub action: NamedAction,
}

/// The interventions a lesson can script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum NamedAction {
    Write {
        client: String,
        key: String,
        value: String,
        #[serde(default)]
        label: Option<String>,
    },
    Read {
        client: String,
        /// Replication lessons: the replica to read from. Quorum lessons leave it out (the
        /// client's coordinator reads from r replicas).
        #[serde(default)]
        replica: Option<String>,
        key: String,
        #[serde(default)]
        label: Option<String>,
    },
    Crash {
        node: String,
    },
    Restart {
        node: String,
    },
    Partition {
        groups: Vec<Vec<String>>,
    },
    Heal,
    Cut {
        a: String,
        b: String,
    },
    Restore {
        a: String,
        b: String,
    },
    /// Set a link's one-way delay in ms; without `ms`, back to the scenario's latency.
    Delay {
        a: String,
        b: String,
        #[serde(default)]
        ms: Option<Time>,
    },
    Promote {
        node: String,
    },
    /// Clocks lessons: one event at `from` that sends a message to each node of `to`.
    Send {
        from: String,
        to: Names,
        label: String,
    },
    /// Clocks lessons: a local event at `node`.
    Local {
        node: String,
        label: String,
    },
    /// Leaderless lessons: the client adds `item` to the cart `key`, at its home replica
    /// or at `replica`.
    Add {
        client: String,
        key: String,
        item: String,
        #[serde(default)]
        replica: Option<String>,
        #[serde(default)]
        label: Option<String>,
    },
    /// Leaderless lessons: the client removes `item` from the cart `key`.
    Remove {
        client: String,
        key: String,
        item: String,
        #[serde(default)]
        replica: Option<String>,
        #[serde(default)]
        label: Option<String>,
    },
    /// Raft lessons: let `node`'s election timer fire now (it starts an election).
    Timeout {
        node: String,
    },
    /// Paxos lessons: the proposer `node` starts a new ballot to propose `value`.
    Propose {
        node: String,
        value: String,
    },
    /// Gossip lessons: node `node` makes an update, `key` = `value`.
    Update {
        node: String,
        key: String,
        value: String,
    },
    /// Two-phase commit lessons: the coordinator begins transaction `id` with `writes`
    /// (`{ at = "shard-a", key = "alice", delta = -100 }`, participants by name).
    Begin {
        id: String,
        writes: Vec<twopc::WriteSpec>,
    },
    /// Failure-detector lessons: the monitored `node` freezes for `ms` (a GC pause).
    Pause {
        node: String,
        ms: Time,
    },
    /// Leaderless lessons: the client reads `key` (every sibling and the version vector);
    /// Raft lessons: the client reads `key` through the leader's log (no `replica`).
    Get {
        client: String,
        key: String,
        #[serde(default)]
        replica: Option<String>,
        #[serde(default)]
        label: Option<String>,
    },
}

/// One node name or a list of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    /// The names, in order.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n.clone()],
            Names::Many(v) => v.clone(),
        }
    }
}

impl NamedAction {
    /// The label of a scripted client operation, if it has one.
    pub fn label(&self) -> Option<&str> {
        match self {
            NamedAction::Write { label, .. }
            | NamedAction::Read { label, .. }
            | NamedAction::Add { label, .. }
            | NamedAction::Remove { label, .. }
            | NamedAction::Get { label, .. } => label.as_deref(),
            _ => None,
        }
    }

    /// The action's name as files write it (`"write"`, `"send"`, …).
    pub fn name(&self) -> &'static str {
        match self {
            NamedAction::Write { .. } => "write",
            NamedAction::Read { .. } => "read",
            NamedAction::Crash { .. } => "crash",
            NamedAction::Restart { .. } => "restart",
            NamedAction::Partition { .. } => "partition",
            NamedAction::Heal => "heal",
            NamedAction::Cut { .. } => "cut",
            NamedAction::Restore { .. } => "restore",
            NamedAction::Delay { .. } => "delay",
            NamedAction::Promote { .. } => "promote",
            NamedAction::Send { .. } => "send",
            NamedAction::Local { .. } => "local",
            NamedAction::Add { .. } => "add",
            NamedAction::Remove { .. } => "remove",
            NamedAction::Get { .. } => "get",
            NamedAction::Timeout { .. } => "timeout",
            NamedAction::Propose { .. } => "propose",
            NamedAction::Pause { .. } => "pause",
            NamedAction::Begin { .. } => "begin",
            NamedAction::Update { .. } => "update",
        }
    }
}

/// A step's run of an engine model: its scenario and interventions.
pub type EngineRun<M> = (
    <M as EngineModel>::Scenario,
    Vec<Intervention<<M as EngineModel>::Node>>,
);

/// An engine model that lesson files can script: its own actions (client operations,
/// commands) and challenge goals, on top of the fault actions every model shares.
pub trait LessonModel: EngineModel {
    /// The actions only this model has, by name, for error messages.
    const ACTIONS: &'static str;
    /// Resolves a model-specific action; `Ok(None)` for any other (the shared fault
    /// actions — crash, restart, partition, heal, cut, restore, delay — and other models'
    /// actions, which [`resolve_for`] rejects). Errors: an unknown node, a node of the wrong
    /// kind.
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String>;
    /// The run's client history up to `upto` as register operations, with each
    /// operation's trace steps (see [`crate::models::history`]); `None` for models whose
    /// clients do not read and write registers (the default). What predict questions
    /// read.
    fn history(
        _engine: &Engine<Self::Node>,
        _upto: Option<usize>,
    ) -> Option<(
        crate::linearizability::History,
        Vec<crate::models::history::OpSteps>,
    )> {
        None
    }
    /// Whether the run (up to `upto`) meets `c`; `None` when the goal is not this model's.
    fn goal_met(
        s: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<bool>;
}

fn foreign<M: LessonModel>(a: &NamedAction) -> String {
    format!(
        "action \"{}\" is not available in {} lessons (its own actions: {}; and crash, restart, partition, heal, cut, restore, delay)",
        a.name(),
        M::NAME,
        M::ACTIONS
    )
}

impl LessonModel for Replication {
    const ACTIONS: &'static str = "write, read, promote";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        let server = |name: &str| -> Result<usize, String> {
            let id = s.node(name)?;
            if !s.is_server(id) {
                return Err(format!("\"{name}\" is a client, not a replica"));
            }
            Ok(id)
        };
        let client = |name: &str| -> Result<usize, String> {
            let id = s.node(name)?;
            if s.is_server(id) {
                return Err(format!("\"{name}\" is a replica, not a client"));
            }
            Ok(id)
        };
        Ok(Some(match a {
            NamedAction::Write {
                client: c,
                key,
                value,
                label,
            } => Action::Request {
                client: client(c)?,
                request: Request::Write {
                    key: key.clone(),
                    value: value.clone(),
                },
                label: label.clone(),
            },
            NamedAction::Read {
                client: c,
                replica,
                key,
                label,
            } => Action::Request {
                client: client(c)?,
                request: Request::Read {
                    key: key.clone(),
                    replica: server(replica.as_deref().ok_or_else(|| {
                        format!("read by {c}: say which replica it reads from (replica = \"…\")")
                    })?)?,
                },
                label: label.clone(),
            },
            NamedAction::Promote { node } => Action::Command {
                node: server(node)?,
                command: replication::Command::Promote,
            },
            _ => return Ok(None),
        }))
    }
    fn history(
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<(
        crate::linearizability::History,
        Vec<crate::models::history::OpSteps>,
    )> {
        Some(crate::models::history::replication(engine, upto))
    }
    fn goal_met(
        s: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<bool> {
        c.goal
            .applies_to("replication")
            .then(|| c.met(s, engine, upto))
    }
}

impl LessonModel for Clocks {
    const ACTIONS: &'static str = "send, local";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        Ok(Some(match a {
            NamedAction::Send { from, to, label } => Action::Command {
                node: s.node(from)?,
                command: clocks::Command::Send {
                    to: to
                        .to_vec()
                        .iter()
                        .map(|n| s.node(n))
                        .collect::<Result<Vec<_>, _>>()?,
                    label: label.clone(),
                },
            },
            NamedAction::Local { node, label } => Action::Command {
                node: s.node(node)?,
                command: clocks::Command::Local {
                    label: label.clone(),
                },
            },
            _ => return Ok(None),
        }))
    }
    fn goal_met(
        _: &Self::Scenario,
        _: &Challenge,
        _: &Engine<Self::Node>,
        _: Option<usize>,
    ) -> Option<bool> {
        None
    }
}

impl LessonModel for Raft {
    const ACTIONS: &'static str = "write (client, key, value), get (client, key), timeout (node)";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        let servers = s.servers.len();
        let client = |name: &str| -> Result<usize, String> {
            let id = s.node(name)?;
            if id < servers {
                return Err(format!("\"{name}\" is a server, not a client"));
            }
            Ok(id)
        };
        Ok(Some(match a {
            NamedAction::Write {
                client: c,
                key,
                value,
                label,
            } => Action::Request {
                client: client(c)?,
                request: raft::Request::Put {
                    key: key.clone(),
                    value: value.clone(),
                },
                label: label.clone(),
            },
            NamedAction::Get {
                client: c,
                key,
                replica,
                label,
            } => {
                if replica.is_some() {
                    return Err(
                        "a Raft client reads through the leader: get takes no replica".into(),
                    );
                }
                Action::Request {
                    client: client(c)?,
                    request: raft::Request::Get { key: key.clone() },
                    label: label.clone(),
                }
            }
            NamedAction::Timeout { node } => {
                let id = s.node(node)?;
                if id >= servers {
                    return Err(format!("\"{node}\" is a client, not a server"));
                }
                Action::Command {
                    node: id,
                    command: raft::Operator::Timeout,
                }
            }
            _ => return Ok(None),
        }))
    }
    fn history(
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<(
        crate::linearizability::History,
        Vec<crate::models::history::OpSteps>,
    )> {
        Some(crate::models::history::raft(engine, upto))
    }
    fn goal_met(
        _: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<bool> {
        match c.goal {
            Goal::NoLeader | Goal::TwoLeaders => {
                Some(c.met_by_raft(&raft::analysis::analyze(engine, upto)))
            }
            Goal::NotLinearizable => Some(super::history_not_linearizable(
                &crate::models::history::raft(engine, upto).0,
            )),
            _ => None,
        }
    }
}

impl LessonModel for Quorum {
    const ACTIONS: &'static str = "write (client, key, value), read (client, key)";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        let client = |name: &str| -> Result<usize, String> {
            let id = s.node(name)?;
            if id < s.replicas.len() {
                return Err(format!(
                    "\"{name}\" is a replica, not a client: clients call the store"
                ));
            }
            Ok(id)
        };
        let (c, request, label) = match a {
            NamedAction::Write {
                client: c,
                key,
                value,
                label,
            } => (
                c,
                quorum::Request::Write {
                    key: key.clone(),
                    value: value.clone(),
                },
                label,
            ),
            NamedAction::Read {
                client: c,
                replica,
                key,
                label,
            } => {
                if let Some(r) = replica {
                    return Err(format!(
                        "read by {c}: quorum reads go through the client's coordinator to r replicas; leave out replica = \"{r}\""
                    ));
                }
                (c, quorum::Request::Read { key: key.clone() }, label)
            }
            _ => return Ok(None),
        };
        Ok(Some(Action::Request {
            client: client(c)?,
            request,
            label: label.clone(),
        }))
    }
    fn history(
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<(
        crate::linearizability::History,
        Vec<crate::models::history::OpSteps>,
    )> {
        Some(crate::models::history::quorum(engine, upto))
    }
    fn goal_met(
        s: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<bool> {
        if !c.goal.applies_to("quorum") {
            return None;
        }
        let who = c.client.as_deref().and_then(|n| s.node(n).ok());
        let a = quorum::analysis::analyze(engine, upto);
        Some(c.met_by_quorum(&a, who, || {
            super::history_not_linearizable(&crate::models::history::quorum(engine, upto).0)
        }))
    }
}

impl LessonModel for Paxos {
    const ACTIONS: &'static str = "propose (node, value)";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        let NamedAction::Propose { node, value } = a else {
            return Ok(None);
        };
        let id = s.node(node)?;
        if id >= s.proposers.len() {
            let role = if id < s.proposers.len() + s.acceptors.len() {
                "an acceptor"
            } else {
                "a learner"
            };
            return Err(format!(
                "\"{node}\" is {role}, not a proposer: only proposers propose"
            ));
        }
        if value.trim().is_empty() {
            return Err(format!("propose at {node}: the value is empty"));
        }
        Ok(Some(Action::Command {
            node: id,
            command: paxos::Operator::Propose {
                value: value.clone(),
            },
        }))
    }
    fn goal_met(
        _: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<bool> {
        matches!(c.goal, Goal::NoValueChosen | Goal::TwoValuesChosen)
            .then(|| c.met_by_paxos(&paxos::analysis::analyze(engine, upto)))
    }
}

impl LessonModel for Gossip {
    const ACTIONS: &'static str = "update (node, key, value)";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        let NamedAction::Update { node, key, value } = a else {
            return Ok(None);
        };
        if key.trim().is_empty() {
            return Err(format!("update at {node}: the key is empty"));
        }
        Ok(Some(Action::Command {
            node: s.node(node)?,
            command: gossip::Command::Update {
                key: key.clone(),
                value: value.clone(),
            },
        }))
    }
    /// `all-informed` is judged on the whole run (the update may still spread after the
    /// cursor), whatever `upto` says.
    fn goal_met(
        s: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        _upto: Option<usize>,
    ) -> Option<bool> {
        let end = engine.trace().len().checked_sub(1);
        matches!(c.goal, Goal::AllInformed)
            .then(|| c.met_by_gossip(&gossip::analysis::analyze(s, engine, end)))
    }
}

impl LessonModel for FailureDetector {
    const ACTIONS: &'static str = "pause (node, ms)";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        let NamedAction::Pause { node, ms } = a else {
            return Ok(None);
        };
        let id = s.node(node)?;
        if id == 0 {
            return Err(format!(
                "\"{node}\" is the monitor: only monitored nodes pause"
            ));
        }
        if *ms == 0 {
            return Err(format!("pause {node}: ms must be positive"));
        }
        crate::models::scenario::check_time("pause ms", *ms)?;
        Ok(Some(Action::Command {
            node: id,
            command: failure_detector::Command::Pause { ms: *ms },
        }))
    }
    fn goal_met(
        _: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<bool> {
        matches!(c.goal, Goal::NoFalseSuspicion)
            .then(|| c.met_by_failure_detector(&failure_detector::analysis::analyze(engine, upto)))
    }
}

impl LessonModel for TwoPc {
    const ACTIONS: &'static str = "begin (id, writes = [{ at, key, delta }])";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        let NamedAction::Begin { id, writes } = a else {
            return Ok(None);
        };
        Ok(Some(Action::Command {
            node: 0,
            command: s.begin(id, writes)?,
        }))
    }
    fn goal_met(
        _: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<bool> {
        c.goal
            .applies_to("twopc")
            .then(|| c.met_by_twopc(&twopc::analysis::analyze(engine, upto)))
    }
}

impl LessonModel for Leaderless {
    const ACTIONS: &'static str = "add, remove, get";
    fn model_action(
        s: &Self::Scenario,
        a: &NamedAction,
    ) -> Result<Option<Action<Self::Node>>, String> {
        let replicas = s.replicas.len();
        let replica = |name: &Option<String>| -> Result<Option<usize>, String> {
            name.as_deref()
                .map(|n| {
                    let id = s.node(n)?;
                    if id >= replicas {
                        return Err(format!("\"{n}\" is a client, not a replica"));
                    }
                    Ok(id)
                })
                .transpose()
        };
        let client = |name: &str| -> Result<usize, String> {
            let id = s.node(name)?;
            if id < replicas {
                return Err(format!("\"{name}\" is a replica, not a client"));
            }
            Ok(id)
        };
        let (c, request, label) = match a {
            NamedAction::Add {
                client: c,
                key,
                item,
                replica: r,
                label,
            }
            | NamedAction::Remove {
                client: c,
                key,
                item,
                replica: r,
                label,
            } => {
                let (key, item, replica) = (key.clone(), item.clone(), replica(r)?);
                let request = if matches!(a, NamedAction::Add { .. }) {
                    leaderless::Request::Add { key, item, replica }
                } else {
                    leaderless::Request::Remove { key, item, replica }
                };
                (c, request, label)
            }
            NamedAction::Get {
                client: c,
                key,
                replica: r,
                label,
            } => (
                c,
                leaderless::Request::Get {
                    key: key.clone(),
                    replica: replica(r)?,
                },
                label,
            ),
            _ => return Ok(None),
        };
        Ok(Some(Action::Request {
            client: client(c)?,
            request,
            label: label.clone(),
        }))
    }
    fn goal_met(
        s: &Self::Scenario,
        c: &Challenge,
        engine: &Engine<Self::Node>,
        upto: Option<usize>,
    ) -> Option<bool> {
        matches!(c.goal, Goal::LostWrite | Goal::CausallyLaterLost)
            .then(|| c.met_by_leaderless(&lw_analysis::analyze(engine, upto, &s.names())))
    }
}

/// A lesson error with its 1-based line (0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LessonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for LessonError {}

/// The 1-based line of byte `offset` in `text`; an offset at the very end (after a final
/// newline) counts as the last line, so the line always exists.
fn line_of(text: &str, offset: usize) -> usize {
    let prefix = text
        .as_bytes()
        .get(..offset.min(text.len()))
        .unwrap_or_default();
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    line.min(text.lines().count().max(1))
}

/// The line of the top-level key `key` (`model = "raft"`, before the first table header),
/// or 1 when it is not found (e.g. written as a dotted or quoted key).
fn top_level_line(text: &str, key: &str) -> usize {
    text.lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

/// The line of the `n`-th `[[step]]` header (0-based), or 0.
fn step_line(text: &str, n: usize) -> usize {
    let mut seen = 0;
    for (i, l) in text.lines().enumerate() {
        if l.trim_start().starts_with("[[step]]") {
            if seen == n {
                return i + 1;
            }
            seen += 1;
        }
    }
    0
}

/// The line of step `n`'s `key = …` or `[step.key]` (the step's line when not found).
fn step_key_line(text: &str, n: usize, key: &str) -> usize {
    let start = step_line(text, n);
    text.lines()
        .enumerate()
        .skip(start)
        .take_while(|(_, l)| !l.trim_start().starts_with("[[step]]"))
        .find(|(_, l)| {
            let l = l.trim_start();
            l.starts_with(&format!("[step.{key}]"))
                || l.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map_or(start, |(i, _)| i + 1)
}

fn scenario_line(text: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with("[scenario]"))
        .map_or(0, |i| i + 1)
}

impl Lesson {
    /// Parses and validates a lesson file: syntax, fields, node names, labels, and that
    /// every step's run can be built and its `until` is reached.
    pub fn parse(text: &str) -> Result<Lesson, LessonError> {
        let lesson: Lesson = toml::from_str(text).map_err(|e| LessonError {
            line: e.span().map_or(0, |s| line_of(text, s.start)),
            message: e.message().to_string(),
        })?;
        lesson.validate(text)?;
        Ok(lesson)
    }

    fn validate(&self, text: &str) -> Result<(), LessonError> {
        let at = |line: usize, message: String| LessonError { line, message };
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(at(
                top_level_line(text, "id"),
                format!(
                    "id \"{}\" must be lowercase letters, digits and '-'",
                    self.id
                ),
            ));
        }
        if self.steps.is_empty() {
            return Err(at(0, "a lesson needs at least one [[step]]".into()));
        }
        match self.model.as_str() {
            "replication" => self.validate_engine::<Replication>(text),
            "clocks" => self.validate_engine::<Clocks>(text),
            "leaderless" => self.validate_engine::<Leaderless>(text),
            "raft" => self.validate_engine::<Raft>(text),
            "paxos" => self.validate_engine::<Paxos>(text),
            "quorum" => self.validate_engine::<Quorum>(text),
            "failure-detector" => self.validate_engine::<FailureDetector>(text),
            "gossip" => self.validate_engine::<Gossip>(text),
            "twopc" => self.validate_engine::<TwoPc>(text),
            "isolation" => self.validate_isolation(text),
            other => Err(at(
                top_level_line(text, "model"),
                format!("unknown model \"{other}\": the models are: replication, isolation, clocks, leaderless, raft, paxos, quorum, failure-detector, gossip, twopc"),
            )),
        }
    }

    fn validate_engine<M: LessonModel>(&self, text: &str) -> Result<(), LessonError> {
        let at = |line: usize, message: String| LessonError { line, message };
        self.base_scenario::<M>()
            .map_err(|m| at(scenario_line(text), m))?;
        for i in 0..self.steps.len() {
            let line = step_line(text, i);
            let step = &self.steps[i];
            let (scenario, interventions) = self
                .engine_run::<M>(i)
                .map_err(|m| at(line, format!("step {} (\"{}\"): {m}", i + 1, step.title)))?;
            let engine = Engine::new(M::setup(&scenario).map_err(|m| at(line, m))?, interventions);
            step.until
                .cursor(&engine)
                .map_err(|m| at(line, format!("step {} (\"{}\"): {m}", i + 1, step.title)))?;
            if let Some(q) = &step.question {
                let cursor = step.until.cursor(&engine).unwrap_or(None);
                q.resolve_on::<M>(&engine, cursor)
                    .and_then(|q| q.pose(Some((&Diagram::build(&engine), cursor))))
                    .map_err(|m| {
                        at(
                            step_key_line(text, i, "question"),
                            format!("step {} question: {m}", i + 1),
                        )
                    })?;
            }
            if let Some(z) = step.zoom {
                if !(1.0..=16.0).contains(&z) {
                    return Err(at(
                        line,
                        format!(
                            "step {}: zoom = {z}, but zoom must be between 1 and 16",
                            i + 1
                        ),
                    ));
                }
            }
            if let Some(c) = &step.challenge {
                if !c.goal.applies_to(M::NAME) || !c.keep.is_empty() {
                    let goals: Vec<&str> = ALL_GOALS
                        .iter()
                        .filter(|g| g.applies_to(M::NAME))
                        .map(|&g| goal_name(g))
                        .collect();
                    return Err(at(
                        line,
                        format!(
                            "step {} challenge: goal \"{}\"{} is not for {} lessons; their goals: {}",
                            i + 1,
                            goal_name(c.goal),
                            if c.keep.is_empty() { "" } else { " with keep" },
                            M::NAME,
                            if goals.is_empty() { "none".into() } else { goals.join(", ") }
                        ),
                    ));
                }
                if let Some(name) = &c.client {
                    M::node(&scenario, name)
                        .map_err(|m| at(line, format!("step {} challenge: {m}", i + 1)))?;
                }
                let upto = engine.trace().len().checked_sub(1);
                if M::goal_met(&scenario, c, &engine, upto) == Some(true) {
                    return Err(at(
                        line,
                        format!("step {} challenge: the step's own run already meets it; the learner would have nothing to do", i + 1),
                    ));
                }
            }
        }
        Ok(())
    }

    fn base_scenario<M: EngineModel>(&self) -> Result<M::Scenario, String> {
        let mut t = self.scenario.clone();
        t.remove("actions");
        let s: M::Scenario = t
            .try_into()
            .map_err(|e: toml::de::Error| format!("[scenario]: {}", e.message()))?;
        M::setup(&s)?;
        Ok(s)
    }

    fn base_actions(&self) -> Result<Vec<TimedAction>, String> {
        match self.scenario.get("actions") {
            None => Ok(Vec::new()),
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| format!("[scenario] actions: {}", e.message())),
        }
    }

    /// The scenario and interventions of step `i` (0-based) of a replication lesson.
    pub fn run_for_step(&self, i: usize) -> Result<StepRun, String> {
        let (scenario, interventions) = self.engine_run::<Replication>(i)?;
        Ok(StepRun {
            scenario,
            interventions,
        })
    }

    /// The scenario and interventions of step `i` (0-based) of an engine-model lesson:
    /// `[scenario]` with every step's `set` so far, and the actions accumulated (minus
    /// `remove`d labels, reset by `clear_actions`). Errors: a lesson of another model, bad
    /// scenario fields, unknown nodes or labels.
    pub fn engine_run<M: LessonModel>(&self, i: usize) -> Result<EngineRun<M>, String> {
        if self.model != M::NAME {
            return Err(format!(
                "lesson \"{}\" is a {} lesson, not a {} one",
                self.id,
                self.model,
                M::NAME
            ));
        }
        let mut table = self.scenario.clone();
        table.remove("actions");
        let mut actions = self.base_actions()?;
        for step in &self.steps[..=i.min(self.steps.len() - 1)] {
            if let Some(set) = &step.set {
                for (k, v) in set {
                    table.insert(k.clone(), v.clone());
                }
            }
            if step.clear_actions {
                actions = self.base_actions()?;
            }
            for label in &step.remove {
                let before = actions.len();
                actions.retain(|a| a.action.label() != Some(label.as_str()));
                if actions.len() == before {
                    return Err(format!(
                        "remove: no scripted operation is labelled \"{label}\""
                    ));
                }
            }
            actions.extend(step.actions.iter().cloned());
        }
        let scenario: M::Scenario = table
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        M::setup(&scenario)?;
        let interventions = actions
            .iter()
            .map(|a| resolve_for::<M>(&scenario, a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((scenario, interventions))
    }

    /// The cursor (trace step; `None` = before the first event) for step `i` on `engine`.
    pub fn cursor_for_step(
        &self,
        i: usize,
        engine: &Engine<Node>,
    ) -> Result<Option<usize>, String> {
        self.steps[i].until.cursor(engine)
    }

    /// Whether a challenge is met by `engine`'s run (evaluated over the whole trace).
    pub fn challenge_met(
        challenge: &Challenge,
        scenario: &ReplicationScenario,
        engine: &Engine<Node>,
    ) -> bool {
        challenge.met(scenario, engine, engine.trace().len().checked_sub(1))
    }
}

const ALL_GOALS: &[Goal] = &[
    Goal::RequestRefused,
    Goal::NotLinearizable,
    Goal::StaleRead,
    Goal::ReadYourWritesViolation,
    Goal::MonotonicReadViolation,
    Goal::ConsistentPrefixViolation,
    Goal::LostWrite,
    Goal::CausallyLaterLost,
    Goal::NoLeader,
    Goal::TwoLeaders,
    Goal::NoValueChosen,
    Goal::TwoValuesChosen,
    Goal::NoAnomaly,
    Goal::NoFalseSuspicion,
    Goal::AllInformed,
    Goal::ParticipantInDoubt,
    Goal::AtomicityViolated,
];

fn goal_name(g: Goal) -> &'static str {
    g.name()
}

/// A level as lesson files write it: `read-uncommitted`, `read-committed`,
/// `repeatable-read`, `serializable` (SSI) or `serializable-2pl`.
fn level_named(name: &str) -> Result<IsolationLevel, String> {
    Ok(match name {
        "read-uncommitted" => IsolationLevel::ReadUncommitted,
        "read-committed" => IsolationLevel::ReadCommitted,
        "repeatable-read" => IsolationLevel::RepeatableRead,
        "serializable" => IsolationLevel::Serializable,
        "serializable-2pl" => IsolationLevel::Serializable2pl,
        other => {
            return Err(format!(
                "unknown isolation level \"{other}\" (the levels are: read-uncommitted, read-committed, repeatable-read, serializable, serializable-2pl)"
            ))
        }
    })
}

/// An isolation lesson's `[scenario]`, after a step's `set`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IsolationSource {
    /// A preset's id (see `models::txn::presets`).
    #[serde(default)]
    preset: Option<String>,
    /// A script of its own (`docs/SQL-SCRIPTS.md`).
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    level: Option<String>,
    /// A second level side by side, or `"none"`.
    #[serde(default)]
    compare: Option<String>,
}

impl Lesson {
    /// The script, level and comparison of step `i` (0-based) of an isolation lesson:
    /// `[scenario]` with the `set` of every step so far applied (`preset` and `script`
    /// replace each other). Errors name the unknown preset or level, or the missing script.
    pub fn isolation_step(&self, i: usize) -> Result<IsolationStep, String> {
        if self.model != "isolation" {
            return Err(format!(
                "lesson \"{}\" is a {} lesson, not an isolation one",
                self.id, self.model
            ));
        }
        let mut table = self.scenario.clone();
        for step in &self.steps[..=i.min(self.steps.len() - 1)] {
            if let Some(set) = &step.set {
                for (k, v) in set {
                    match k.as_str() {
                        "preset" => {
                            table.remove("script");
                        }
                        "script" => {
                            table.remove("preset");
                        }
                        _ => {}
                    }
                    table.insert(k.clone(), v.clone());
                }
            }
        }
        let src: IsolationSource = table
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        let script = match (&src.preset, &src.script) {
            (Some(_), Some(_)) => return Err("give either preset or script, not both".into()),
            (Some(id), None) => preset(id)
                .ok_or_else(|| {
                    let ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
                    format!(
                        "unknown preset \"{id}\" (the presets are: {})",
                        ids.join(", ")
                    )
                })?
                .script
                .to_string(),
            (None, Some(s)) => s.clone(),
            (None, None) => return Err("the scenario needs a preset or a script".into()),
        };
        let level = match &src.level {
            Some(l) => level_named(l)?,
            None => IsolationLevel::ReadCommitted,
        };
        let compare = match src.compare.as_deref() {
            None | Some("none") => None,
            Some(l) => Some(level_named(l)?),
        };
        Ok(IsolationStep {
            script,
            level,
            compare,
        })
    }

    fn validate_isolation(&self, text: &str) -> Result<(), LessonError> {
        for (i, step) in self.steps.iter().enumerate() {
            let line = step_line(text, i);
            let fail = |m: String| LessonError {
                line,
                message: format!("step {} (\"{}\"): {m}", i + 1, step.title),
            };
            if !step.actions.is_empty() || !step.remove.is_empty() || step.clear_actions {
                return Err(fail(
                    "actions, remove and clear_actions are for lessons of engine models (replication, clocks, leaderless); an isolation step changes its script with set = { preset = … } or { script = … }".into(),
                ));
            }
            if step.zoom.is_some() {
                return Err(fail(
                    "zoom is for lessons of engine models (replication, clocks, leaderless)".into(),
                ));
            }
            let run = self.isolation_step(i).map_err(&fail)?;
            let script = parse_script(&run.script).map_err(|e| fail(format!("the script, {e}")))?;
            run_script(&script, run.level).map_err(|e| fail(format!("the script, {e}")))?;
            let n = script.steps.len();
            match &step.until {
                Until::Start | Until::End => {}
                Until::Statement(k) if *k <= n => {}
                Until::Statement(k) => {
                    return Err(fail(format!(
                        "until = {{ statement = {k} }}, but the script has {n} session lines"
                    )))
                }
                _ => {
                    return Err(fail(
                        "an isolation step's until is \"start\", \"end\" or { statement = N }"
                            .into(),
                    ))
                }
            }
            if let Some(q) = &step.question {
                let qline = step_key_line(text, i, "question");
                let fail_q = |m: String| LessonError {
                    line: qline,
                    message: format!("step {} (\"{}\") question: {m}", i + 1, step.title),
                };
                let q = q.resolve().map_err(fail_q)?;
                if !matches!(q.kind, QuestionKind::Choice { .. }) {
                    return Err(fail_q("isolation lessons ask multiple-choice questions (options and answer); relation, concurrent-with, before and after are about the events of an engine run".into()));
                }
            }
            if let Some(c) = &step.challenge {
                if c.goal != Goal::NoAnomaly || c.client.is_some() {
                    return Err(fail(format!(
                        "challenge: goal \"{}\" is for replication lessons; isolation lessons have no-anomaly (with keep)",
                        goal_name(c.goal)
                    )));
                }
                for k in &c.keep {
                    let kept = parse_kept(k).map_err(|m| fail(format!("challenge: {m}")))?;
                    if !iso::check(std::slice::from_ref(k), &run.script, run.level)[0].met {
                        return Err(fail(format!(
                            "challenge: keep \"{}: {}\" is not a statement of the step's script",
                            kept.session, kept.sql
                        )));
                    }
                }
                if iso::all_met(&iso::check(&c.keep, &run.script, run.level)) {
                    return Err(fail("challenge: the step's own run already meets it; the learner would have nothing to do".into()));
                }
            }
        }
        Ok(())
    }
}

/// Turns a named action into an intervention of `scenario`'s run (replication).
pub fn resolve(
    scenario: &ReplicationScenario,
    a: &TimedAction,
) -> Result<Intervention<Node>, String> {
    resolve_for::<Replication>(scenario, a)
}

/// Turns a named action into an intervention of a run of model `M`. Errors: unknown
/// nodes, nodes of the wrong kind, actions of another model, a time beyond
/// [`crate::models::scenario::MAX_TIME_MS`] or a delay beyond
/// [`crate::models::scenario::MAX_LATENCY_MS`].
pub fn resolve_for<M: LessonModel>(
    scenario: &M::Scenario,
    a: &TimedAction,
) -> Result<Intervention<M::Node>, String> {
    crate::models::scenario::check_time("at", a.at)?;
    if let NamedAction::Delay { ms: Some(ms), .. } = &a.action {
        crate::models::scenario::check_latency("delay ms", *ms)?;
    }
    if let Some(action) = M::model_action(scenario, &a.action)? {
        return Ok(Intervention::new(a.at, action));
    }
    let n = |name: &str| M::node(scenario, name);
    let action = match &a.action {
        NamedAction::Crash { node } => Action::Crash { node: n(node)? },
        NamedAction::Restart { node } => Action::Restart { node: n(node)? },
        NamedAction::Partition { groups } => Action::Partition {
            groups: groups
                .iter()
                .map(|g| g.iter().map(|x| n(x)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()?,
        },
        NamedAction::Heal => Action::Heal,
        NamedAction::Cut { a: x, b: y } => Action::CutLink { a: n(x)?, b: n(y)? },
        NamedAction::Restore { a: x, b: y } => Action::RestoreLink { a: n(x)?, b: n(y)? },
        NamedAction::Delay { a: x, b: y, ms } => Action::SetLinkDelay {
            a: n(x)?,
            b: n(y)?,
            latency: ms.map(Latency::fixed),
        },
        other => return Err(foreign::<M>(other)),
    };
    Ok(Intervention::new(a.at, action))
}

/// The built-in lessons' sources, `(file name, text)`, in reading order.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "replication-lag.toml",
        include_str!("../../../../lessons/replication-lag.toml"),
    ),
    (
        "session-guarantees.toml",
        include_str!("../../../../lessons/session-guarantees.toml"),
    ),
    (
        "quorums.toml",
        include_str!("../../../../lessons/quorums.toml"),
    ),
    (
        "isolation-levels.toml",
        include_str!("../../../../lessons/isolation-levels.toml"),
    ),
    (
        "linearizability.toml",
        include_str!("../../../../lessons/linearizability.toml"),
    ),
    ("cap.toml", include_str!("../../../../lessons/cap.toml")),
    (
        "logical-clocks.toml",
        include_str!("../../../../lessons/logical-clocks.toml"),
    ),
    (
        "leader-election.toml",
        include_str!("../../../../lessons/leader-election.toml"),
    ),
    (
        "log-replication.toml",
        include_str!("../../../../lessons/log-replication.toml"),
    ),
    (
        "version-vectors.toml",
        include_str!("../../../../lessons/version-vectors.toml"),
    ),
    ("paxos.toml", include_str!("../../../../lessons/paxos.toml")),
    (
        "gossip.toml",
        include_str!("../../../../lessons/gossip.toml"),
    ),
    (
        "two-phase-commit.toml",
        include_str!("../../../../lessons/two-phase-commit.toml"),
    ),
    (
        "failure-detectors.toml",
        include_str!("../../../../lessons/failure-detectors.toml"),
    ),
];

/// Parses the built-in lessons (sorted by `order`). They are validated by tests.
pub fn built_in() -> Vec<Lesson> {
    let mut v: Vec<Lesson> = BUILT_IN
        .iter()
        .filter_map(|(_, t)| Lesson::parse(t).ok())
        .collect();
    v.sort_by_key(|l| l.order);
    v
}

impl Lesson {
    /// Resolves every step into its scenario, interventions and narration rendered to safe
    /// HTML: what the app ships (it then needs no TOML or markdown parser). Errors as
    /// [`Lesson::run_for_step`].
    pub fn resolve(&self) -> Result<ResolvedLesson, String> {
        let steps = (0..self.steps.len())
            .map(|i| {
                let run = match self.model.as_str() {
                    "isolation" => StepModel::Isolation(self.isolation_step(i)?),
                    "clocks" => {
                        let (scenario, interventions) = self.engine_run::<Clocks>(i)?;
                        StepModel::Clocks {
                            scenario,
                            interventions,
                        }
                    }
                    "leaderless" => {
                        let (scenario, interventions) = self.engine_run::<Leaderless>(i)?;
                        StepModel::Leaderless {
                            scenario,
                            interventions,
                        }
                    }
                    "raft" => {
                        let (scenario, interventions) = self.engine_run::<Raft>(i)?;
                        StepModel::Raft {
                            scenario,
                            interventions,
                        }
                    }
                    "paxos" => {
                        let (scenario, interventions) = self.engine_run::<Paxos>(i)?;
                        StepModel::Paxos {
                            scenario,
                            interventions,
                        }
                    }
                    "quorum" => {
                        let (scenario, interventions) = self.engine_run::<Quorum>(i)?;
                        StepModel::Quorum {
                            scenario,
                            interventions,
                        }
                    }
                    "failure-detector" => {
                        let (scenario, interventions) = self.engine_run::<FailureDetector>(i)?;
                        StepModel::FailureDetector {
                            scenario,
                            interventions,
                        }
                    }
                    "gossip" => {
                        let (scenario, interventions) = self.engine_run::<Gossip>(i)?;
                        StepModel::Gossip {
                            scenario,
                            interventions,
                        }
                    }
                    "twopc" => {
                        let (scenario, interventions) = self.engine_run::<TwoPc>(i)?;
                        StepModel::Twopc {
                            scenario,
                            interventions,
                        }
                    }
                    _ => {
                        let r = self.run_for_step(i)?;
                        StepModel::Replication {
                            scenario: r.scenario,
                            interventions: r.interventions,
                        }
                    }
                };
                let s = &self.steps[i];
                Ok(ResolvedStep {
                    title: s.title.clone(),
                    html: markdown_to_safe_html(&s.text),
                    run,
                    until: s.until.clone(),
                    challenge: s.challenge.clone(),
                    question: self.step_question(i)?,
                    zoom: s.zoom,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(ResolvedLesson {
            id: self.id.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            order: self.order,
            model: self.model.clone(),
            steps,
        })
    }
}

impl Lesson {
    /// Step `i`'s (0-based) question as the app receives it, resolved on the step's run:
    /// a `predict` question is answered from the run (see [`QuestionFile::resolve_on`]);
    /// the others as [`QuestionFile::resolve`]. `None` when the step asks none. Errors:
    /// no step `i`, the step's run cannot be built, and those of the question.
    pub fn step_question(&self, i: usize) -> Result<Option<Question>, String> {
        if i >= self.steps.len() {
            return Err(format!(
                "lesson \"{}\" has {} steps, not {}",
                self.id,
                self.steps.len(),
                i + 1
            ));
        }
        match self.model.as_str() {
            "isolation" => self.steps[i]
                .question
                .as_ref()
                .map(QuestionFile::resolve)
                .transpose(),
            "clocks" => self.engine_question::<Clocks>(i),
            "leaderless" => self.engine_question::<Leaderless>(i),
            "raft" => self.engine_question::<Raft>(i),
            "paxos" => self.engine_question::<Paxos>(i),
            "quorum" => self.engine_question::<Quorum>(i),
            "failure-detector" => self.engine_question::<FailureDetector>(i),
            "gossip" => self.engine_question::<Gossip>(i),
            "twopc" => self.engine_question::<TwoPc>(i),
            _ => self.engine_question::<Replication>(i),
        }
    }

    fn engine_question<M: LessonModel>(&self, i: usize) -> Result<Option<Question>, String> {
        let step = &self.steps[i];
        let Some(q) = &step.question else {
            return Ok(None);
        };
        if q.predict.is_none() {
            return q.resolve().map(Some);
        }
        let (scenario, interventions) = self.engine_run::<M>(i)?;
        let engine = Engine::new(M::setup(&scenario)?, interventions);
        let cursor = step.until.cursor(&engine)?;
        q.resolve_on::<M>(&engine, cursor).map(Some)
    }
}

/// Renders lesson markdown to HTML that cannot inject markup or script: raw HTML blocks
/// and inline HTML become escaped text, and a link or image whose URL has a scheme other
/// than `http`, `https` or `mailto` (`javascript:`, `data:`, `vbscript:`, in any case,
/// with any whitespace or control characters a browser would skip) points at
/// `#blocked` instead. Relative URLs and fragments are kept.
pub fn markdown_to_safe_html(md: &str) -> String {
    use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};
    fn safe(url: CowStr<'_>) -> CowStr<'_> {
        if url_is_safe(&url) {
            url
        } else {
            CowStr::Borrowed("#blocked")
        }
    }
    let parser =
        Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|ev| {
            match ev {
                Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => Event::Start(Tag::Link {
                    link_type,
                    dest_url: safe(dest_url),
                    title,
                    id,
                }),
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => Event::Start(Tag::Image {
                    link_type,
                    dest_url: safe(dest_url),
                    title,
                    id,
                }),
                other => other,
            }
        });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// Whether a link target may be followed: no scheme (a relative URL or a fragment), or
/// `http`, `https` or `mailto`. The scheme is read as a browser does (WHATWG URL):
/// ASCII whitespace and control characters are ignored and case does not matter.
fn url_is_safe(url: &str) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect::<String>()
        .to_ascii_lowercase();
    match cleaned.find([':', '/', '?', '#']) {
        Some(i) if cleaned[i..].starts_with(':') => {
            matches!(&cleaned[..i], "http" | "https" | "mailto")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::markdown_to_safe_html;

    #[test]
    fn markdown_escapes_html_and_script() {
        let h = markdown_to_safe_html(
            "Hi <script>alert(1)</script> **bold**\n\n<img src=x onerror=alert(1)>",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
    }

    #[test]
    fn markdown_blocks_javascript_links() {
        let h = markdown_to_safe_html("[x](javascript:alert(1))");
        assert!(!h.contains("javascript:"), "{h}");
    }
}
