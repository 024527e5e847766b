//! The safety monitor: the Synod algorithm's safety requirements ("Paxos Made Simple",
//! §2.1), evaluated on the nodes' states after every event of a run.
//!
//! - **At most one value is chosen** (the Synod safety property).
//! - **Only a proposed value may be chosen.**
//! - **A learner learns only a chosen value** (checked for learners, and for proposers
//!   that report their value chosen).
//!
//! A value is chosen when a majority of acceptors have accepted it in the same ballot.
//! Acceptors overwrite their accepted proposal with later ones, so the monitor keeps, per
//! ballot, every acceptor it has ever seen accept that ballot: after each event at most one
//! acceptor has handled one message, so no acceptance goes unseen. A value counts as
//! proposed once some proposer has it as its own value (the scenario's or an operator's).

use super::{Ballot, Node};
use crate::engine::{Engine, Intervention, Setup};
use crate::{NodeId, Time};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One of the safety properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    AtMostOneChosen,
    ChosenWasProposed,
    LearnedIsChosen,
}

impl Property {
    /// Every property, in the paper's order.
    pub const ALL: [Property; 3] = [
        Property::AtMostOneChosen,
        Property::ChosenWasProposed,
        Property::LearnedIsChosen,
    ];
    /// The property's name, e.g. `"at most one chosen"`.
    pub fn name(self) -> &'static str {
        match self {
            Property::AtMostOneChosen => "at most one chosen",
            Property::ChosenWasProposed => "chosen was proposed",
            Property::LearnedIsChosen => "learned is chosen",
        }
    }
    /// The property as the paper states it (§2.1).
    pub fn statement(self) -> &'static str {
        match self {
            Property::AtMostOneChosen => "only a single value is chosen",
            Property::ChosenWasProposed => "only a value that has been proposed may be chosen",
            Property::LearnedIsChosen => {
                "a process never learns that a value has been chosen unless it actually has been"
            }
        }
    }
}

/// A property that failed: where (trace step and time), which, and what happened in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// The trace step after which the property failed.
    pub step: usize,
    /// Simulated ms.
    pub time: Time,
    pub property: Property,
    /// What happened, naming nodes, ballots and values.
    pub text: String,
}

/// A value chosen in a ballot: when a majority of acceptors had accepted it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chosen {
    pub step: usize,
    /// Simulated ms.
    pub time: Time,
    pub ballot: Ballot,
    pub value: String,
    /// The acceptors that had accepted it then (a majority).
    pub acceptors: Vec<NodeId>,
}

/// The monitor's memory of the run so far.
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    names: Vec<String>,
    /// Ballot → its value and every acceptor seen accepting it.
    acceptances: BTreeMap<Ballot, (String, BTreeSet<NodeId>)>,
    /// Ballots in which a value was chosen, in the order found.
    pub chosen: Vec<Chosen>,
    /// Every value some proposer has had as its own.
    pub proposed: BTreeSet<String>,
    /// Properties already reported (each is reported once per run).
    reported: Vec<Property>,
    pub violations: Vec<Violation>,
}

impl Monitor {
    /// A monitor for nodes named `names` (id order).
    pub fn new(names: Vec<String>) -> Monitor {
        Monitor {
            names,
            ..Monitor::default()
        }
    }

    fn name(&self, n: NodeId) -> String {
        self.names
            .get(n)
            .cloned()
            .unwrap_or_else(|| format!("node {n}"))
    }

    fn names_of(&self, ns: &[NodeId]) -> String {
        ns.iter()
            .map(|&n| self.name(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn report(&mut self, step: usize, time: Time, property: Property, text: String) {
        if !self.reported.contains(&property) {
            self.reported.push(property);
            self.violations.push(Violation {
                step,
                time,
                property,
                text,
            });
        }
    }

    /// Whether `value` was chosen in `ballot` (so far).
    pub fn is_chosen(&self, ballot: Ballot, value: &str) -> bool {
        self.chosen
            .iter()
            .any(|c| c.ballot == ballot && c.value == value)
    }

    /// Checks every property on the nodes' states after trace step `step` at `time`.
    /// Crashed nodes keep their durable state, which is what matters for acceptors.
    pub fn check(&mut self, step: usize, time: Time, nodes: &[Node]) {
        for n in nodes {
            if let Node::Proposer(p) = n {
                if let Some(v) = &p.own {
                    self.proposed.insert(v.clone());
                }
            }
        }
        // Acceptances, and the ballots they make chosen.
        for (i, n) in nodes.iter().enumerate() {
            let Node::Acceptor(a) = n else { continue };
            let Some((b, v)) = &a.accepted else { continue };
            let majority = a.config.majority();
            let (value, by) = self
                .acceptances
                .entry(*b)
                .or_insert_with(|| (v.clone(), BTreeSet::new()));
            if value != v {
                // A ballot carries one value (its proposer sends one Accept per ballot).
                continue;
            }
            if !by.insert(i) || by.len() != majority {
                continue;
            }
            let chosen = Chosen {
                step,
                time,
                ballot: *b,
                value: v.clone(),
                acceptors: by.iter().copied().collect(),
            };
            if let Some(first) = self.chosen.iter().find(|c| c.value != chosen.value) {
                let text = format!(
                    "{} was chosen in ballot {} (accepted by {}) at {} ms, and {} in ballot {} (accepted by {})",
                    first.value,
                    first.ballot,
                    self.names_of(&first.acceptors),
                    first.time,
                    chosen.value,
                    chosen.ballot,
                    self.names_of(&chosen.acceptors)
                );
                self.report(step, time, Property::AtMostOneChosen, text);
            }
            if !self.proposed.contains(&chosen.value) {
                let text = format!(
                    "{} was chosen in ballot {}, but no proposer proposed it",
                    chosen.value, chosen.ballot
                );
                self.report(step, time, Property::ChosenWasProposed, text);
            }
            self.chosen.push(chosen);
        }
        // What learners (and proposers) believe chosen.
        for (i, n) in nodes.iter().enumerate() {
            let (ballot, value) = match n {
                Node::Learner(l) => match &l.learned {
                    Some((b, v)) => (*b, v),
                    None => continue,
                },
                Node::Proposer(p) => match (&p.chosen, p.ballot) {
                    (Some(v), Some(b)) => (b, v),
                    _ => continue,
                },
                Node::Acceptor(_) => continue,
            };
            if !self.is_chosen(ballot, value) {
                let text = format!(
                    "{} believes {value} chosen in ballot {ballot}, but no majority of acceptors accepted it",
                    self.name(i)
                );
                self.report(step, time, Property::LearnedIsChosen, text);
            }
        }
    }
}

/// Runs a Paxos run from `setup` with `interventions`, checking every property after every
/// event (start-up included). Returns the finished engine and the violations in the order
/// found (each property at most once).
pub fn run_checked(
    setup: Setup<Node>,
    interventions: Vec<Intervention<Node>>,
) -> (Engine<Node>, Vec<Violation>) {
    let names = setup.nodes.iter().map(|n| n.name.clone()).collect();
    let mut m = Monitor::new(names);
    let mut e = Engine::start_with(setup, interventions);
    if let Some(last) = e.trace().len().checked_sub(1) {
        m.check(last, 0, &e.world().nodes);
    }
    while e.step() {
        let w = e.world();
        m.check(e.trace().len() - 1, w.now, &w.nodes);
    }
    (e, m.violations)
}
