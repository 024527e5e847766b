//! Guided lessons. A lesson file (TOML, see [`source`] and `docs/LESSONS.md`) is parsed,
//! validated and resolved into a [`ResolvedLesson`]: per step, the scenario, the
//! interventions, where the cursor goes, the narration as safe HTML and an optional
//! challenge. The app ships resolved lessons (so it needs no TOML or markdown parser);
//! everything here except [`source`] works without the `lesson-files` feature.
//!
//! Models with lessons: the engine models (`replication`, `clocks`, `leaderless`, `raft`,
//! `paxos`: a run of the engine, stepped event by event; see
//! [`crate::models::EngineModel`]) and `isolation`
//! (a SQL script on the transactional store, stepped statement by statement; see
//! [`isolation`]).

pub mod isolation;
pub mod question;
#[cfg(feature = "lesson-files")]
pub mod source;
#[cfg(feature = "lesson-files")]
pub use source::*;

use crate::engine::{Engine, Intervention, Protocol};
use crate::models::clocks::{self, ClocksScenario};
use crate::models::failure_detector::{self, FailureDetectorScenario};
use crate::models::gossip::{self, GossipScenario};
use crate::models::leaderless::{self, LeaderlessScenario};
use crate::models::paxos::{self, PaxosScenario};
use crate::models::quorum::{self, QuorumScenario};
use crate::models::raft::{self, RaftScenario};
use crate::models::replication::{analysis, Node, ReplicationScenario};
use crate::models::twopc::{self, TwoPcScenario};
use crate::models::txn::ast::IsolationLevel;
use crate::{EventKind, Time};
use serde::{Deserialize, Serialize};

/// Where a step puts the cursor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Until {
    /// Before the first event.
    Start,
    /// At the last event.
    #[default]
    End,
    /// At the last event at or before this simulated time (ms).
    Time(Time),
    /// At the event where the operation with this label was invoked.
    Invoked(String),
    /// At the event where the operation with this label returned.
    Returned(String),
    /// Isolation lessons: after the first N session lines of the script were submitted.
    Statement(usize),
}

/// What the learner must make happen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    pub goal: Goal,
    /// For `stale-read` and the session-guarantee violations: whose read it must be (any
    /// client when absent).
    #[serde(default)]
    pub client: Option<String>,
    /// For `no-anomaly`: statements the learner's script must keep, as script lines
    /// (`"T1: update doctors set on_call = 0 where id = 1"`), in this order; the learner may
    /// append to them (e.g. `FOR UPDATE`). See [`isolation::check`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
    /// Shown when the learner asks for a hint.
    #[serde(default)]
    pub hint: Option<String>,
    /// `no-false-suspicion`: the real crash must still be detected within this many ms
    /// (so "never suspect anything" does not pass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_ms: Option<Time>,
    /// `all-informed`: every live node must know the update within this many gossip rounds
    /// (counted from the update's round).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_rounds: Option<u64>,
    /// `all-informed`: at most this many messages sent from the update until every live
    /// node knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<u64>,
    /// `all-informed`: the run must have exactly this many nodes (so shrinking the system
    /// does not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<usize>,
    /// `all-informed`: the run's message loss must be at least this (so removing the loss
    /// does not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_loss: Option<f64>,
}

/// Challenge goals, checked live on the learner's run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Goal {
    /// A stale read happened.
    StaleRead,
    /// Replication lessons: a read violated read-your-writes (it missed its client's own
    /// acknowledged write; see [`analysis::Guarantee`]), optionally by one `client`.
    ReadYourWritesViolation,
    /// Replication lessons: a read violated monotonic reads (older than what its client
    /// had already read of the key), optionally by one `client`.
    MonotonicReadViolation,
    /// Replication lessons: a read violated consistent prefix (it missed a write that a
    /// write its client had already seen depends on), optionally by one `client`.
    ConsistentPrefixViolation,
    /// An acknowledged write was lost (replication: by a failover; leaderless: by
    /// last-write-wins).
    LostWrite,
    /// Leaderless lessons: last-write-wins discarded a write whose writer had seen the
    /// write that was kept (a skewed clock beat causality).
    CausallyLaterLost,
    /// Raft lessons: after the run's last intervention no server is elected leader, and at
    /// the end no leader has a working majority (an old leader cut off from a majority may
    /// still believe it leads; it cannot commit anything).
    NoLeader,
    /// Raft lessons: two servers hold the leader role at the same moment (an old leader,
    /// cut off, has not learnt of the newer term).
    TwoLeaders,
    /// Paxos lessons: by the end of the run no value is chosen, and at least two proposers
    /// each had a ballot nacked because of another proposer's higher ballot: duelling
    /// proposers preempting each other (a livelock). Crashing acceptors alone does not count.
    NoValueChosen,
    /// Paxos lessons: two different values are chosen (a broken Paxos: the monitor's
    /// "at most one chosen" fails).
    TwoValuesChosen,
    /// Quorum lessons: a request was refused — it timed out because no quorum of its
    /// key's replicas could be reached.
    RequestRefused,
    /// The run's client history is not linearizable: the linearizability checker
    /// ([`crate::linearizability`]) finds no order of its operations that respects real
    /// time and a register's rules, key by key (replication, Raft and quorum lessons).
    NotLinearizable,
    /// Isolation lessons: the learner's script runs with no anomaly (no cycle in Adya's
    /// dependency graph) while keeping the `keep` statements in one transaction per session,
    /// every session finishing, and no transaction rolled back except by the database.
    NoAnomaly,
    /// Two-phase commit lessons: at the end of the run some participant is still in doubt
    /// about a transaction — it voted yes (PREPARED), holds its locks and has no decision
    /// (BHG §7.3's uncertainty period, never ended). Judged on the whole run.
    ParticipantInDoubt,
    /// Two-phase commit lessons: a transaction committed at one participant and aborted at
    /// another (the atomicity monitor's "atomic outcome", BHG AC1, fails) — e.g. three-phase
    /// commit split by a partition (Skeen 1981's timeouts under a partition).
    AtomicityViolated,
    /// Failure detectors: no false suspicion by φ accrual, and every real crash detected
    /// within the challenge's `within_ms`.
    NoFalseSuspicion,
    /// Gossip lessons: every live node learnt the run's first update, within the
    /// challenge's `within_rounds` rounds and with at most `max_messages` messages (each
    /// when given).
    AllInformed,
}

impl Goal {
    /// The goal as files write it, e.g. `"stale-read"`.
    pub fn name(self) -> &'static str {
        match self {
            Goal::StaleRead => "stale-read",
            Goal::ReadYourWritesViolation => "read-your-writes-violation",
            Goal::MonotonicReadViolation => "monotonic-read-violation",
            Goal::ConsistentPrefixViolation => "consistent-prefix-violation",
            Goal::LostWrite => "lost-write",
            Goal::CausallyLaterLost => "causally-later-lost",
            Goal::NoLeader => "no-leader",
            Goal::TwoLeaders => "two-leaders",
            Goal::NoValueChosen => "no-value-chosen",
            Goal::TwoValuesChosen => "two-values-chosen",
            Goal::NoAnomaly => "no-anomaly",
            Goal::NoFalseSuspicion => "no-false-suspicion",
            Goal::ParticipantInDoubt => "participant-in-doubt",
            Goal::AtomicityViolated => "atomicity-violated",
            Goal::AllInformed => "all-informed",
            Goal::RequestRefused => "request-refused",
            Goal::NotLinearizable => "not-linearizable",
        }
    }

    /// Whether this goal can be checked on runs of `model`.
    pub fn applies_to(self, model: &str) -> bool {
        match self {
            Goal::StaleRead => model == "replication" || model == "quorum",
            Goal::ReadYourWritesViolation
            | Goal::MonotonicReadViolation
            | Goal::ConsistentPrefixViolation => model == "replication",
            Goal::LostWrite => model == "replication" || model == "leaderless",
            Goal::CausallyLaterLost => model == "leaderless",
            Goal::NoLeader | Goal::TwoLeaders => model == "raft",
            Goal::NoValueChosen | Goal::TwoValuesChosen => model == "paxos",
            Goal::NoAnomaly => model == "isolation",
            Goal::NoFalseSuspicion => model == "failure-detector",
            Goal::ParticipantInDoubt | Goal::AtomicityViolated => model == "twopc",
            Goal::AllInformed => model == "gossip",
            Goal::RequestRefused => model == "quorum",
            Goal::NotLinearizable => matches!(model, "replication" | "raft" | "quorum"),
        }
    }
}

/// What a step resolves to: the scenario, the interventions and the cursor.
#[derive(Clone, Debug)]
pub struct StepRun {
    pub scenario: ReplicationScenario,
    pub interventions: Vec<Intervention<Node>>,
}

/// An isolation lesson's step: a script, the level sessions run at, and optionally a
/// second level shown side by side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IsolationStep {
    /// The script (format: `docs/SQL-SCRIPTS.md`).
    pub script: String,
    /// The level of sessions that BEGIN without one.
    pub level: IsolationLevel,
    /// A second level, shown side by side.
    pub compare: Option<IsolationLevel>,
}

/// The run a resolved step shows, by model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum StepModel {
    Replication {
        scenario: ReplicationScenario,
        interventions: Vec<Intervention<Node>>,
    },
    Isolation(IsolationStep),
    Clocks {
        scenario: ClocksScenario,
        interventions: Vec<Intervention<clocks::Node>>,
    },
    Leaderless {
        scenario: LeaderlessScenario,
        interventions: Vec<Intervention<leaderless::Node>>,
    },
    Raft {
        scenario: RaftScenario,
        interventions: Vec<Intervention<raft::Node>>,
    },
    Paxos {
        scenario: PaxosScenario,
        interventions: Vec<Intervention<paxos::Node>>,
    },
    Quorum {
        scenario: QuorumScenario,
        interventions: Vec<Intervention<quorum::Node>>,
    },
    Twopc {
        scenario: TwoPcScenario,
        interventions: Vec<Intervention<twopc::Node>>,
    },
    FailureDetector {
        scenario: FailureDetectorScenario,
        interventions: Vec<Intervention<failure_detector::Node>>,
    },
    Gossip {
        scenario: GossipScenario,
        interventions: Vec<Intervention<gossip::Node>>,
    },
}

/// A lesson ready to show: every step resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedLesson {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub order: u32,
    /// `"replication"`, `"isolation"`, `"clocks"`, `"leaderless"`, `"raft"` or `"paxos"`.
    pub model: String,
    pub steps: Vec<ResolvedStep>,
}

/// One step ready to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedStep {
    pub title: String,
    /// The narration, rendered from markdown to HTML with raw HTML escaped.
    pub html: String,
    pub run: StepModel,
    pub until: Until,
    pub challenge: Option<Challenge>,
    /// A question for the learner, answered in the page (see [`question`]).
    #[serde(default)]
    pub question: Option<question::Question>,
    pub zoom: Option<f64>,
}

impl ResolvedStep {
    /// A replication step's scenario and interventions (`None` for other models).
    pub fn replication(&self) -> Option<(&ReplicationScenario, &[Intervention<Node>])> {
        match &self.run {
            StepModel::Replication {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }

    /// An isolation step's script and levels (`None` for other models).
    pub fn isolation(&self) -> Option<&IsolationStep> {
        match &self.run {
            StepModel::Isolation(i) => Some(i),
            _ => None,
        }
    }

    /// A clocks step's scenario and interventions (`None` for other models).
    pub fn clocks(&self) -> Option<(&ClocksScenario, &[Intervention<clocks::Node>])> {
        match &self.run {
            StepModel::Clocks {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }

    /// A Raft step's scenario and interventions (`None` for other models).
    pub fn raft(&self) -> Option<(&RaftScenario, &[Intervention<raft::Node>])> {
        match &self.run {
            StepModel::Raft {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }

    /// A Paxos step's scenario and interventions (`None` for other models).
    pub fn paxos(&self) -> Option<(&PaxosScenario, &[Intervention<paxos::Node>])> {
        match &self.run {
            StepModel::Paxos {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }

    /// A gossip step's scenario and interventions (`None` for other models).
    pub fn gossip(&self) -> Option<(&GossipScenario, &[Intervention<gossip::Node>])> {
        match &self.run {
            StepModel::Gossip {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }

    /// A two-phase commit step's scenario and interventions (`None` for other models).
    pub fn twopc(&self) -> Option<(&TwoPcScenario, &[Intervention<twopc::Node>])> {
        match &self.run {
            StepModel::Twopc {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }

    /// A quorum step's scenario and interventions (`None` for other models).
    pub fn quorum(&self) -> Option<(&QuorumScenario, &[Intervention<quorum::Node>])> {
        match &self.run {
            StepModel::Quorum {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }

    /// A leaderless step's scenario and interventions (`None` for other models).
    /// The failure-detection run of a `failure-detector` step.
    pub fn failure_detector(
        &self,
    ) -> Option<(
        &FailureDetectorScenario,
        &[Intervention<failure_detector::Node>],
    )> {
        match &self.run {
            StepModel::FailureDetector {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }

    pub fn leaderless(&self) -> Option<(&LeaderlessScenario, &[Intervention<leaderless::Node>])> {
        match &self.run {
            StepModel::Leaderless {
                scenario,
                interventions,
            } => Some((scenario, interventions)),
            _ => None,
        }
    }
}

impl Until {
    /// The cursor (trace step; `None` = before the first event) this condition gives on
    /// `engine`'s trace (any engine model). Errors name the label that is never invoked
    /// or never returns.
    pub fn cursor<P: Protocol>(&self, engine: &Engine<P>) -> Result<Option<usize>, String> {
        let trace = engine.trace();
        let last = trace.len().checked_sub(1);
        match self {
            Until::Statement(_) => Err(
                "until = { statement = N } is for isolation lessons; a replication step uses time, invoked or returned".into(),
            ),
            Until::Start => Ok(None),
            Until::End => Ok(last),
            Until::Time(t) => Ok(trace.iter().rposition(|e| e.time <= *t)),
            Until::Invoked(label) => trace
                .iter()
                .position(
                    |e| matches!(&e.kind, EventKind::Invoke { label: Some(l), .. } if l == label),
                )
                .map(Some)
                .ok_or_else(|| {
                    format!("until: no operation labelled \"{label}\" is invoked in this run")
                }),
            Until::Returned(label) => {
                let op = trace.iter().find_map(|e| match &e.kind {
                    EventKind::Invoke {
                        op, label: Some(l), ..
                    } if l == label => Some(*op),
                    _ => None,
                });
                let op = op.ok_or_else(|| {
                    format!("until: no operation labelled \"{label}\" is invoked in this run")
                })?;
                trace
                    .iter()
                    .position(|e| e.returned.iter().any(|(o, _)| *o == op))
                    .map(Some)
                    .ok_or_else(|| {
                        format!(
                            "until: the operation labelled \"{label}\" never returns in this run"
                        )
                    })
            }
        }
    }
}

impl Challenge {
    /// The goal as files write it, e.g. `"stale-read"`.
    pub fn goal_name(&self) -> &'static str {
        self.goal.name()
    }

    /// Whether the run in `engine`, up to and including trace step `upto`, meets the
    /// challenge; `scenario` names the nodes.
    pub fn met(
        &self,
        scenario: &ReplicationScenario,
        engine: &Engine<Node>,
        upto: Option<usize>,
    ) -> bool {
        if self.goal == Goal::NotLinearizable {
            return history_not_linearizable(&crate::models::history::replication(engine, upto).0);
        }
        self.met_by(scenario, &analysis::analyze(engine, upto))
    }

    /// Whether an analysis of a run (see [`analysis::analyze`]) meets the challenge.
    pub fn met_by(&self, scenario: &ReplicationScenario, a: &analysis::Analysis) -> bool {
        match self.goal {
            Goal::StaleRead => {
                let who = self.client.as_deref().and_then(|n| scenario.node(n).ok());
                a.stale_reads().any(|r| who.is_none_or(|w| r.client == w))
            }
            Goal::LostWrite => !a.lost_writes.is_empty(),
            Goal::ReadYourWritesViolation
            | Goal::MonotonicReadViolation
            | Goal::ConsistentPrefixViolation => {
                let g = match self.goal {
                    Goal::ReadYourWritesViolation => analysis::Guarantee::ReadYourWrites,
                    Goal::MonotonicReadViolation => analysis::Guarantee::MonotonicReads,
                    _ => analysis::Guarantee::ConsistentPrefix,
                };
                let who = self.client.as_deref().and_then(|n| scenario.node(n).ok());
                a.violations(g).any(|v| who.is_none_or(|w| v.client == w))
            }
            _ => false,
        }
    }

    /// Whether a Raft run's analysis (see [`raft::analysis::analyze`]) meets the challenge.
    pub fn met_by_raft(&self, a: &raft::analysis::Analysis) -> bool {
        match self.goal {
            Goal::NoLeader => {
                let after = a.last_intervention.unwrap_or(0);
                !a.elections.iter().any(|e| e.time >= after) && a.working_leader.is_none()
            }
            Goal::TwoLeaders => a.two_leaders.is_some(),
            _ => false,
        }
    }

    /// Whether a Paxos run's analysis (see [`paxos::analysis::analyze`]) meets the
    /// challenge. For `no-value-chosen` analyse the whole run: before the end a value may
    /// still be chosen.
    pub fn met_by_paxos(&self, a: &paxos::analysis::Analysis) -> bool {
        match self.goal {
            Goal::NoValueChosen => {
                let mut duelling: Vec<_> = a
                    .preempted
                    .iter()
                    .filter(|p| {
                        matches!(p.why, paxos::analysis::Abandoned::Nacked { promised } if promised.proposer != p.proposer)
                    })
                    .map(|p| p.proposer)
                    .collect();
                duelling.sort_unstable();
                duelling.dedup();
                a.chosen.is_none() && duelling.len() >= 2
            }
            Goal::TwoValuesChosen => a
                .chosen_ballots
                .iter()
                .any(|c| a.chosen.as_ref().is_some_and(|f| f.value != c.value)),
            _ => false,
        }
    }

    /// Whether a gossip run's analysis (see [`gossip::analysis::analyze`], of the whole
    /// run) meets the challenge: `all-informed` looks at the run's first update.
    pub fn met_by_gossip(&self, a: &gossip::analysis::Analysis) -> bool {
        match self.goal {
            Goal::AllInformed => {
                self.nodes.is_none_or(|n| a.n == n)
                    && self.min_loss.is_none_or(|l| a.loss >= l)
                    && a.updates.first().is_some_and(|u| {
                        u.all_round
                            .is_some_and(|r| self.within_rounds.is_none_or(|w| r <= w))
                            && self.max_messages.is_none_or(|m| u.messages <= m)
                    })
            }
            _ => false,
        }
    }

    /// Whether a leaderless run's analysis (see [`leaderless::analysis::analyze`]) meets
    /// the challenge.
    /// `no-false-suspicion`: φ accrual suspected no node that was up, the run has a real
    /// crash, and every crash was detected by φ within `within_ms` (when given).
    pub fn met_by_failure_detector(&self, a: &failure_detector::analysis::Analysis) -> bool {
        match self.goal {
            Goal::NoFalseSuspicion => {
                a.phi_false() == 0
                    && a.crashes() > 0
                    && a.phi_detection()
                        .is_some_and(|d| self.within_ms.is_none_or(|w| d <= w))
            }
            _ => false,
        }
    }

    pub fn met_by_leaderless(&self, a: &leaderless::analysis::Analysis) -> bool {
        match self.goal {
            Goal::LostWrite => !a.lost.is_empty(),
            Goal::CausallyLaterLost => a.lost.iter().any(|l| l.causally_later),
            _ => false,
        }
    }

    /// Whether a two-phase commit run's analysis (see [`twopc::analysis::analyze`]) meets
    /// the challenge: `participant-in-doubt` — some in-doubt period is still open at the
    /// analysis's last step (analyse the whole run: the goal is about the end);
    /// `atomicity-violated` — the monitor found a transaction committed at one participant
    /// and aborted at another.
    pub fn met_by_twopc(&self, a: &twopc::analysis::Analysis) -> bool {
        match self.goal {
            Goal::ParticipantInDoubt => a.in_doubt.iter().any(|d| d.until_ms.is_none()),
            Goal::AtomicityViolated => a
                .violations
                .iter()
                .any(|v| v.property == twopc::monitor::Property::AtomicOutcome),
            _ => false,
        }
    }

    /// Whether a quorum run's analysis (see [`quorum::analysis::analyze`]) meets this
    /// challenge. `client` is the challenge's client, resolved to its node id;
    /// `not_linearizable` runs the checker on the run's history, only if the goal needs it.
    pub fn met_by_quorum(
        &self,
        a: &quorum::analysis::Analysis,
        client: Option<crate::NodeId>,
        not_linearizable: impl FnOnce() -> bool,
    ) -> bool {
        let by = |c: crate::NodeId| client.is_none_or(|w| w == c);
        match self.goal {
            Goal::StaleRead => a
                .stale_reads
                .iter()
                .any(|s| a.requests.iter().any(|r| r.op == s.read && by(r.client))),
            Goal::RequestRefused => a
                .requests
                .iter()
                .any(|r| r.outcome == quorum::analysis::RequestOutcome::TimedOut && by(r.client)),
            Goal::NotLinearizable => not_linearizable(),
            _ => false,
        }
    }
}

/// Whether a run's client history fails the linearizability checker (checked as one
/// register per key, each on its own; a key never written reads as nil), within [`CHECK_BUDGET`] search steps: what the
/// `not-linearizable` goal asks.
pub fn history_not_linearizable(history: &crate::linearizability::History) -> bool {
    use crate::linearizability::{check, Model, ModelSpec, Outcome};
    check(
        history,
        &ModelSpec::new(Model::Register),
        Some(CHECK_BUDGET),
    )
    .outcome
        == Outcome::NotLinearizable
}

/// Search steps a challenge's linearizability check may take (lesson runs are small: a
/// few dozen operations take a few hundred steps).
pub const CHECK_BUDGET: u64 = 5_000_000;
