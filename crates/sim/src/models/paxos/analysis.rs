//! What a Paxos run shows, found in one replay of its trace: the value chosen and when,
//! every ballot each proposer started, the ballots abandoned (preempted by a nack or
//! without a majority in time), the moments a proposer adopted an already accepted value
//! instead of its own, and the safety monitor's violations ([`super::monitor`]).

use super::monitor::{Chosen, Monitor, Violation};
use super::{Ballot, Node, Phase};
use crate::engine::Engine;
use crate::trace::EventKind;
use crate::{NodeId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// A proposer starting a ballot (sending Prepare).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BallotStart {
    pub step: usize,
    pub time: Time,
    pub proposer: NodeId,
    pub ballot: Ballot,
}

/// Why a proposer gave up a ballot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Abandoned {
    /// An acceptor nacked it: it had promised `promised`.
    Nacked { promised: Ballot },
    /// No majority within `retry_ms`.
    TimedOut,
}

/// A ballot given up before its value was chosen through it (a preempted round).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preempted {
    pub step: usize,
    pub time: Time,
    pub proposer: NodeId,
    pub ballot: Ballot,
    /// The phase it was in: preparing or accepting.
    pub phase: Phase,
    pub why: Abandoned,
}

/// A proposer sending Accept with a value found in the promises rather than its own.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Adoption {
    pub step: usize,
    pub time: Time,
    pub proposer: NodeId,
    /// The ballot of its Accept.
    pub ballot: Ballot,
    /// The value adopted.
    pub value: String,
    /// The ballot the value had been accepted in.
    pub from: Ballot,
    /// The proposer's own value (it may be the same).
    pub own: Option<String>,
}

/// A learner learning a value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Learned {
    pub step: usize,
    pub time: Time,
    pub learner: NodeId,
    pub ballot: Ballot,
    pub value: String,
}

/// A Paxos run, analysed up to a trace step.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Analysis {
    /// The first value chosen (a majority of acceptors accepted it in one ballot): when,
    /// in which ballot, by which acceptors.
    pub chosen: Option<Chosen>,
    /// Every ballot in which a value was chosen, in order (one value in a correct run; a
    /// ballot after the first chosen one carries the same value again).
    pub chosen_ballots: Vec<Chosen>,
    /// Ballots started, in order.
    pub ballots: Vec<BallotStart>,
    /// Ballots abandoned: nacked or without a majority in time.
    pub preempted: Vec<Preempted>,
    /// Proposers that proposed an already accepted value, in order.
    pub adoptions: Vec<Adoption>,
    /// Learners learning, in order.
    pub learned: Vec<Learned>,
    /// Violations of the safety properties, in order found.
    pub violations: Vec<Violation>,
    /// Time (ms) of the run's last intervention, if any.
    pub last_intervention: Option<Time>,
}

impl Analysis {
    /// The ballots proposer `node` started, in order.
    pub fn ballots_of(&self, node: NodeId) -> Vec<Ballot> {
        self.ballots
            .iter()
            .filter(|b| b.proposer == node)
            .map(|b| b.ballot)
            .collect()
    }
    /// Per proposer, the ballots it started.
    pub fn ballots_per_proposer(&self) -> BTreeMap<NodeId, Vec<Ballot>> {
        let mut m: BTreeMap<NodeId, Vec<Ballot>> = BTreeMap::new();
        for b in &self.ballots {
            m.entry(b.proposer).or_default().push(b.ballot);
        }
        m
    }
    /// The first adoption of a value accepted in another proposer's ballot, if any.
    pub fn first_adoption(&self) -> Option<&Adoption> {
        self.adoptions
            .iter()
            .find(|a| a.from.proposer != a.proposer)
    }
}

/// What the analysis remembers of a proposer between steps.
#[derive(Clone, PartialEq)]
struct Was {
    phase: Phase,
    ballot: Option<Ballot>,
}

/// Replays `engine`'s run and analyses it up to and including trace step `upto` (`None`:
/// before the first event, so nothing).
pub fn analyze(engine: &Engine<Node>, upto: Option<usize>) -> Analysis {
    let mut a = Analysis {
        last_intervention: engine.interventions().iter().map(|iv| iv.at).max(),
        ..Analysis::default()
    };
    let Some(upto) = upto else {
        return a;
    };
    let names = engine.nodes().iter().map(|n| n.name.clone()).collect();
    let mut monitor = Monitor::new(names);
    let trace = engine.trace();
    let mut before: Vec<Option<Was>> = Vec::new();
    let mut learned_before: Vec<bool> = Vec::new();
    engine.replay(upto, |step, w| {
        let ev = &trace[step];
        if before.is_empty() {
            before = vec![None; w.nodes.len()];
            learned_before = vec![false; w.nodes.len()];
        }
        for (i, n) in w.nodes.iter().enumerate() {
            match n {
                Node::Proposer(p) => {
                    let now = Was {
                        phase: p.phase,
                        ballot: p.ballot,
                    };
                    let was = before[i].clone().unwrap_or(Was {
                        phase: Phase::Idle,
                        ballot: None,
                    });
                    // Only the node of the event changes; start-up events all see the world
                    // after start-up, so look at each proposer once per change.
                    if now == was {
                        continue;
                    }
                    let active = |ph: Phase| matches!(ph, Phase::Preparing | Phase::Accepting);
                    if let (true, Some(b)) = (active(was.phase), was.ballot) {
                        let left = now.ballot != was.ballot || !active(now.phase);
                        let why = match &ev.kind {
                            EventKind::Deliver {
                                payload: super::Msg::Nack { promised, .. },
                                ..
                            } => Some(Abandoned::Nacked {
                                promised: *promised,
                            }),
                            EventKind::Timer {
                                timer: super::Timer::Retry,
                            } => Some(Abandoned::TimedOut),
                            _ => None, // a crash, or an operator's new proposal
                        };
                        if let (true, Some(why), false) = (left, why, now.phase == Phase::Chosen) {
                            a.preempted.push(Preempted {
                                step,
                                time: w.now,
                                proposer: i,
                                ballot: b,
                                phase: was.phase,
                                why,
                            });
                        }
                    }
                    if let (Phase::Preparing, Some(b)) = (now.phase, now.ballot) {
                        if now.ballot != was.ballot {
                            a.ballots.push(BallotStart {
                                step,
                                time: w.now,
                                proposer: i,
                                ballot: b,
                            });
                        }
                    }
                    if let (Phase::Accepting, Some(b), Some(from), Some(v)) =
                        (now.phase, now.ballot, p.adopted_from, &p.value)
                    {
                        if was.phase != Phase::Accepting || was.ballot != now.ballot {
                            a.adoptions.push(Adoption {
                                step,
                                time: w.now,
                                proposer: i,
                                ballot: b,
                                value: v.clone(),
                                from,
                                own: p.own.clone(),
                            });
                        }
                    }
                    before[i] = Some(now);
                }
                Node::Learner(l) => {
                    if let (Some((b, v)), false) = (&l.learned, learned_before[i]) {
                        learned_before[i] = true;
                        a.learned.push(Learned {
                            step,
                            time: w.now,
                            learner: i,
                            ballot: *b,
                            value: v.clone(),
                        });
                    }
                }
                Node::Acceptor(_) => {}
            }
        }
        monitor.check(step, w.now, &w.nodes);
    });
    a.chosen = monitor.chosen.first().cloned();
    a.chosen_ballots = monitor.chosen;
    a.violations = monitor.violations;
    a
}
