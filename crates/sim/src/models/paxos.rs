//! Single-decree Paxos (L. Lamport, "Paxos Made Simple", ACM SIGACT News 32(4), 2001): the
//! Synod algorithm of its section 2, with proposers, acceptors and learners as separate
//! nodes choosing one value. Section numbers below are the paper's.
//!
//! - Proposal numbers are [`Ballot`]s `(round, proposer)`, ordered by round, then by
//!   proposer: proposers draw their numbers from disjoint sets, so two of them never issue
//!   the same number (§2.5). They are written `r.k`: round `r` of the `k`-th proposer
//!   (proposers come first in a run, so `k` is the node id plus one).
//! - **Phase 1.** A proposer picks a ballot `n` higher than any it has used or heard of
//!   and sends Prepare(`n`) to every acceptor. An acceptor that has promised nothing
//!   numbered `n` or higher promises never again to accept a proposal numbered below `n`
//!   and answers Promise(`n`, the highest-numbered proposal it has accepted, if any).
//! - **Phase 2.** With promises from a majority, the proposer sends Accept(`n`, `v`) to every
//!   acceptor, where `v` is the value of the highest-numbered proposal among the promises,
//!   or its own value if none of them had accepted anything: it adopts an already accepted
//!   value (§2.2, invariant P2c). An acceptor accepts unless it has promised a higher
//!   ballot (`n ≥ promised`) and reports Accepted(`n`, `v`) to the proposer and to every
//!   learner (§2.3).
//! - A value is **chosen** when a majority of acceptors have accepted it in one ballot.
//!   Learners learn it when a majority of acceptors report Accepted with the same ballot;
//!   a proposer also sees its value chosen when a majority of Accepted for its ballot
//!   comes back.
//! - **Nacks**: an acceptor that ignores a Prepare or an Accept because it promised a
//!   higher ballot says so, Nack(`n`, promised) — the paper suggests this at the end of
//!   §2.2 as an optimization that does not affect correctness. A proposer that gets a
//!   nack, or no majority within `retry_ms`, abandons its ballot and, after a backoff,
//!   tries again with a round above every round it has heard of.
//! - **Backoff.** With `backoff_ms > 0` the proposer waits a delay drawn uniformly from
//!   `[0, backoff_ms)` (its own seeded generator, like Raft's election timeouts) before the
//!   next round, so duelling proposers soon leave each other a free window. With
//!   `backoff_ms = 0` it retries immediately, and two proposers can preempt each other
//!   forever, each new Prepare overtaking the other's Accept: §2.4's example of proposers
//!   issuing ever higher numbers of which none is chosen. Paxos is safe either way; progress
//!   needs a distinguished proposer or, here, randomness.
//! - Durable across a crash: an acceptor's promise and accepted proposal (§2.2: it must
//!   remember them through a failure and restart) and the highest round a proposer has
//!   used (§2.5: kept in stable storage so that no proposal number is issued twice). Here a
//!   reused ballot would only waste a round: its Prepare reaches acceptors that already
//!   promised that ballot, and they nack it (promising needs `n > promised`). A proposer's
//!   current attempt, its own value and what it heard are volatile: a restarted proposer
//!   is idle until an operator asks it to propose again. A learner keeps the value it
//!   learned (it wrote it down) and forgets its tallies.
//!
//! There are no clients: a proposer proposes its scenario value at `start_ms`, or when an
//! operator sends it [`Operator::Propose`]. [`Request`] and [`Response`] are empty types,
//! so no client operation can be written or sent.
//!
//! "Broken Paxos" switches ([`Broken`]) remove one rule each, so lessons and the
//! randomized search ([`explore`]) can show what that rule prevents; [`monitor`] checks the
//! Synod safety properties after every event, and [`analysis`] finds the chosen value,
//! the ballots, the preempted rounds and the adoptions of a run.

pub mod analysis;
pub mod explore;
pub mod monitor;

use super::scenario::{self, NamedLink};
use crate::engine::{Ctx, NodeInfo, NodeRole, Protocol, Setup};
use crate::{Describe, NodeId, OpId, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A proposal number: ordered by `round`, then by `proposer` (derived `Ord`: field order).
/// Displayed `r.k`: round `r` of the `k`-th proposer, `k = proposer + 1` (proposers have
/// the first node ids of a run), e.g. `2.1` is round 2 of the first proposer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// Rounds start at 1.
    pub round: u64,
    /// The node that issued the ballot.
    pub proposer: NodeId,
}

impl Ballot {
    pub fn new(round: u64, proposer: NodeId) -> Ballot {
        Ballot { round, proposer }
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.proposer + 1)
    }
}

/// A ballot or `"none"`.
fn ballot_or_none(b: Option<Ballot>) -> String {
    b.map_or("none".into(), |b| b.to_string())
}

/// An accepted proposal `(ballot, value)` as `"v in r.k"`, or `"none"`.
fn proposal_or_none(p: &Option<(Ballot, String)>) -> String {
    p.as_ref()
        .map_or("none".into(), |(b, v)| format!("{v} in {b}"))
}

/// A rule of the Synod algorithm that a "broken Paxos" leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Broken {
    /// The proposer ignores the values in the promises and proposes its own (P2c's
    /// adoption rule left out). A later proposer then overwrites a chosen value.
    AdoptAcceptedValue,
    /// The acceptor accepts an Accept numbered below its promise (the promise of phase 1
    /// not kept). A proposal that phase 1 did not account for is then accepted.
    PromiseCheck,
}

impl Broken {
    /// Every switch, in order.
    pub const ALL: [Broken; 2] = [Broken::AdoptAcceptedValue, Broken::PromiseCheck];
    /// The name files and the command line use, e.g. `"promise-check"`.
    pub fn name(self) -> &'static str {
        match self {
            Broken::AdoptAcceptedValue => "adopt-accepted-value",
            Broken::PromiseCheck => "promise-check",
        }
    }
    /// The switch named `name`, or an error listing the names.
    pub fn parse(name: &str) -> Result<Broken, String> {
        Broken::ALL
            .into_iter()
            .find(|b| b.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown rule \"{name}\"; the rules that can be broken: {}",
                    Broken::ALL.map(Broken::name).join(", ")
                )
            })
    }
}

/// Who is who and the timing shared by every node of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Node ids of the acceptors.
    pub acceptors: Vec<NodeId>,
    /// Node ids of the learners (Accepted goes to each of them).
    pub learners: Vec<NodeId>,
    /// A proposer without a majority this long after starting a ballot abandons it.
    pub retry_ms: Time,
    /// Before retrying, a proposer waits a delay drawn from `[0, backoff_ms)`; 0 retries at
    /// once (and duelling proposers can livelock).
    pub backoff_ms: Time,
    /// Rules left out (empty for correct Paxos).
    pub broken: BTreeSet<Broken>,
}

impl Config {
    /// Promises or acceptances that make a majority of the acceptors.
    pub fn majority(&self) -> usize {
        self.acceptors.len() / 2 + 1
    }
}

/// Messages of the two phases, and the nack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Msg {
    /// Phase 1a, proposer → acceptors.
    Prepare { n: Ballot },
    /// Phase 1b: the promise not to accept anything below `n`, with the highest-numbered
    /// proposal the acceptor has accepted.
    Promise {
        n: Ballot,
        accepted: Option<(Ballot, String)>,
    },
    /// Phase 2a, proposer → acceptors.
    Accept { n: Ballot, value: String },
    /// Phase 2b, acceptor → the proposer and every learner.
    Accepted { n: Ballot, value: String },
    /// The acceptor ignored a Prepare or Accept numbered `n`: it has promised `promised`.
    Nack { n: Ballot, promised: Ballot },
}

impl Describe for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Prepare { n } => format!("prepare {n}"),
            Msg::Promise { n, accepted: None } => format!("promise {n}"),
            Msg::Promise {
                n,
                accepted: Some((b, v)),
            } => format!("promise {n} (had {v} in {b})"),
            Msg::Accept { n, value } => format!("accept {n} {value}"),
            Msg::Accepted { n, value } => format!("accepted {n} {value}"),
            Msg::Nack { n, promised } => format!("nack {n} (promised {promised})"),
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let s = |k: &str, v: String| (k.to_string(), v);
        match self {
            Msg::Prepare { n } => vec![s("ballot", n.to_string())],
            Msg::Promise { n, accepted } => vec![
                s("ballot", n.to_string()),
                s("already accepted", proposal_or_none(accepted)),
            ],
            Msg::Accept { n, value } | Msg::Accepted { n, value } => {
                vec![s("ballot", n.to_string()), s("value", value.clone())]
            }
            Msg::Nack { n, promised } => vec![
                s("ballot", n.to_string()),
                s("promised", promised.to_string()),
            ],
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Msg::Prepare { .. } => "prepare",
            Msg::Promise { .. } => "promise",
            Msg::Accept { .. } => "accept",
            Msg::Accepted { .. } => "accepted",
            Msg::Nack { .. } => "nack",
        }
    }
    /// The round of the ballot the message is about.
    fn epoch(&self) -> Option<(&'static str, u64)> {
        match self {
            Msg::Prepare { n }
            | Msg::Promise { n, .. }
            | Msg::Accept { n, .. }
            | Msg::Accepted { n, .. }
            | Msg::Nack { n, .. } => Some(("round", n.round)),
        }
    }
}

/// Timers (proposers only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timer {
    /// The scenario's `start_ms`: propose the scenario value.
    Start,
    /// No majority within `retry_ms` of starting the current ballot: abandon it.
    Retry,
    /// The backoff after an abandoned ballot is over: start the next one.
    Backoff,
}

/// No client operations: Paxos here has no clients, so this type has no values. The engine
/// needs a request type; an empty enum means none can be written in a file or sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {}

impl Describe for Request {
    fn label(&self) -> String {
        match *self {}
    }
}

/// No client operations, so no responses either (an empty type, see [`Request`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {}

impl Describe for Response {
    fn label(&self) -> String {
        match *self {}
    }
}

/// Operator commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Operator {
    /// A proposer starts a new ballot to propose `value` (its own value from now on; what
    /// phase 1 finds already accepted still takes precedence). Other nodes ignore it.
    Propose { value: String },
}

impl Describe for Operator {
    fn label(&self) -> String {
        match self {
            Operator::Propose { value } => format!("propose {value}"),
        }
    }
}

/// Where a proposer is in its current attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Nothing to propose (or restarted).
    Idle,
    /// Phase 1: Prepare sent, collecting promises.
    Preparing,
    /// Phase 2: Accept sent, collecting acceptances.
    Accepting,
    /// The last ballot was abandoned (nack or no majority in time); waiting out the backoff.
    BackingOff,
    /// A majority accepted this proposer's ballot: its value is chosen.
    Chosen,
}

impl Phase {
    /// `"idle"`, `"preparing"`, `"accepting"`, `"backing off"` or `"chosen"`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Preparing => "preparing",
            Phase::Accepting => "accepting",
            Phase::BackingOff => "backing off",
            Phase::Chosen => "chosen",
        }
    }
}

/// Phase 2's value rule (P2c): the value of the highest-numbered proposal among the
/// promises' accepted proposals, with that proposal's ballot, or `own` (and `None`) when
/// no promise carries one.
pub fn pick_value<'a>(
    promises: impl IntoIterator<Item = &'a Option<(Ballot, String)>>,
    own: &str,
) -> (String, Option<Ballot>) {
    promises
        .into_iter()
        .flatten()
        .max_by_key(|(b, _)| *b)
        .map_or((own.to_string(), None), |(b, v)| (v.clone(), Some(*b)))
}

/// A proposer. Durable: `round` (the highest round it has used) and its generator; the
/// rest is volatile.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposer {
    pub config: Config,
    /// The highest round this proposer has used (durable: a ballot is never reused).
    pub round: u64,
    /// The highest round heard of in nacks since the last restart.
    pub highest_seen: u64,
    pub phase: Phase,
    /// The current (or last) ballot.
    pub ballot: Option<Ballot>,
    /// The value this proposer was asked to propose.
    pub own: Option<String>,
    /// The value of the current ballot's Accept (phase 2), once picked.
    pub value: Option<String>,
    /// When the value was adopted from a promise: the ballot it had been accepted in.
    pub adopted_from: Option<Ballot>,
    /// Phase 1: acceptor → the proposal it had accepted, per promise for the ballot.
    pub promises: BTreeMap<NodeId, Option<(Ballot, String)>>,
    /// Phase 2: acceptors that accepted the ballot.
    pub accepted: BTreeSet<NodeId>,
    /// The value this proposer saw chosen (a majority accepted its ballot).
    pub chosen: Option<String>,
    /// The scenario's value and start time (proposed once, at `start_ms`).
    pub plan: Option<(String, Time)>,
    rng: ChaCha8Rng,
}

/// An acceptor. Durable: everything (`promised`, `accepted`).
#[derive(Clone, Debug, PartialEq)]
pub struct Acceptor {
    pub config: Config,
    /// The highest ballot it has promised (answered a Prepare for).
    pub promised: Option<Ballot>,
    /// The highest-numbered proposal it has accepted (the last one: ballots only grow).
    pub accepted: Option<(Ballot, String)>,
}

/// A learner. Durable: `learned`; the tallies are volatile.
#[derive(Clone, Debug, PartialEq)]
pub struct Learner {
    pub config: Config,
    /// Per ballot: the value and the acceptors that reported accepting it.
    pub tallies: BTreeMap<Ballot, (String, BTreeSet<NodeId>)>,
    /// The value learned and the ballot a majority accepted it in.
    pub learned: Option<(Ballot, String)>,
}

/// A node of a Paxos run.
// A proposer carries its generator; boxing it would only add an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Proposer(Proposer),
    Acceptor(Acceptor),
    Learner(Learner),
}

/// What the page shows of a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum View {
    Proposer {
        phase: Phase,
        ballot: Option<Ballot>,
        /// The value being proposed in phase 2 (or the own value before it).
        value: Option<String>,
        own: Option<String>,
        adopted_from: Option<Ballot>,
        promises: usize,
        accepted: usize,
        chosen: Option<String>,
    },
    Acceptor {
        promised: Option<Ballot>,
        accepted: Option<(Ballot, String)>,
    },
    Learner {
        learned: Option<(Ballot, String)>,
    },
}

impl Describe for View {
    fn label(&self) -> String {
        match self {
            View::Proposer {
                phase: Phase::Chosen,
                chosen,
                ..
            } => format!("chosen: {}", chosen.as_deref().unwrap_or("?")),
            View::Proposer {
                phase,
                ballot: Some(b),
                ..
            } if *phase != Phase::Idle => format!("{} {b}", phase.name()),
            View::Proposer { phase, .. } => phase.name().into(),
            View::Acceptor { promised, accepted } => format!(
                "promised {}, accepted {}",
                ballot_or_none(*promised),
                proposal_or_none(accepted)
            ),
            View::Learner {
                learned: Some((_, v)),
            } => format!("learned {v}"),
            View::Learner { learned: None } => "learned nothing".into(),
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let s = |k: &str, v: String| (k.to_string(), v);
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        match self {
            View::Proposer {
                phase,
                ballot,
                value,
                own,
                adopted_from,
                promises,
                accepted,
                chosen,
            } => vec![
                s("phase", phase.name().into()),
                s("ballot", ballot_or_none(*ballot)),
                s("own value", opt(own)),
                s(
                    "proposing",
                    match (value, adopted_from) {
                        (Some(v), Some(b)) => format!("{v} (adopted, accepted in {b})"),
                        (Some(v), None) => v.clone(),
                        (None, _) => "none yet".into(),
                    },
                ),
                s("promises", promises.to_string()),
                s("accepted", accepted.to_string()),
                s("chosen", opt(chosen)),
            ],
            View::Acceptor { promised, accepted } => vec![
                s("promised", ballot_or_none(*promised)),
                s("accepted", proposal_or_none(accepted)),
            ],
            View::Learner { learned } => vec![s("learned", proposal_or_none(learned))],
        }
    }
}

impl Proposer {
    /// A proposer of `config` (node `me`) whose backoff delays come from `seed`, proposing
    /// nothing until commanded.
    pub fn new(config: Config, seed: u64, me: NodeId) -> Proposer {
        Proposer {
            config,
            round: 0,
            highest_seen: 0,
            phase: Phase::Idle,
            ballot: None,
            own: None,
            value: None,
            adopted_from: None,
            promises: BTreeMap::new(),
            accepted: BTreeSet::new(),
            chosen: None,
            plan: None,
            rng: ChaCha8Rng::seed_from_u64(
                seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(me as u64 + 1),
            ),
        }
    }

    /// Whether a message for ballot `n` belongs to the attempt in progress.
    fn current(&self, n: Ballot) -> bool {
        self.ballot == Some(n) && matches!(self.phase, Phase::Preparing | Phase::Accepting)
    }

    /// Proposes `value` from now on, with a new ballot.
    pub fn propose(&mut self, value: String, ctx: &mut Ctx<Node>) {
        self.own = Some(value);
        self.chosen = None;
        self.start_ballot(ctx);
    }

    /// Phase 1a: a round above every round used or heard of; Prepare to every acceptor.
    fn start_ballot(&mut self, ctx: &mut Ctx<Node>) {
        self.round = self.round.max(self.highest_seen) + 1;
        let n = Ballot::new(self.round, ctx.me());
        self.ballot = Some(n);
        self.phase = Phase::Preparing;
        self.value = None;
        self.adopted_from = None;
        self.promises.clear();
        self.accepted.clear();
        ctx.cancel_timer(Timer::Backoff);
        ctx.set_timer(Timer::Retry, self.config.retry_ms.max(1));
        ctx.note(format!("prepares ballot {n}"));
        for &a in &self.config.acceptors {
            ctx.send(a, Msg::Prepare { n });
        }
    }

    /// The current ballot failed (`why`): back off, or retry at once without backoff.
    fn abandon(&mut self, why: String, ctx: &mut Ctx<Node>) {
        ctx.cancel_timer(Timer::Retry);
        if self.config.backoff_ms == 0 {
            ctx.note(format!("{why}: retries at once"));
            self.start_ballot(ctx);
            return;
        }
        let wait = self.rng.random_range(0..self.config.backoff_ms);
        self.phase = Phase::BackingOff;
        ctx.note(format!("{why}: backs off {wait} ms"));
        ctx.set_timer(Timer::Backoff, wait);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        match msg {
            Msg::Promise { n, accepted } => {
                if !self.current(n) || self.phase != Phase::Preparing {
                    return;
                }
                self.promises.insert(from, accepted);
                if self.promises.len() < self.config.majority() {
                    return;
                }
                // Phase 2a: P2c's value, unless broken.
                let own = self.own.clone().unwrap_or_default();
                let (value, adopted) = if self.config.broken.contains(&Broken::AdoptAcceptedValue) {
                    (own, None)
                } else {
                    pick_value(self.promises.values(), &own)
                };
                if let Some(b) = adopted {
                    ctx.note(format!("adopts {value}, accepted in {b}"));
                }
                self.value = Some(value.clone());
                self.adopted_from = adopted;
                self.phase = Phase::Accepting;
                for &a in &self.config.acceptors {
                    ctx.send(
                        a,
                        Msg::Accept {
                            n,
                            value: value.clone(),
                        },
                    );
                }
            }
            Msg::Accepted { n, value } => {
                if !self.current(n) || self.phase != Phase::Accepting {
                    return;
                }
                self.accepted.insert(from);
                if self.accepted.len() >= self.config.majority() {
                    self.phase = Phase::Chosen;
                    ctx.cancel_timer(Timer::Retry);
                    ctx.note(format!("{value} is chosen (ballot {n})"));
                    self.chosen = Some(value);
                }
            }
            Msg::Nack { n, promised } => {
                self.highest_seen = self.highest_seen.max(promised.round);
                if self.current(n) {
                    self.abandon(format!("ballot {n} preempted by {promised}"), ctx);
                }
            }
            Msg::Prepare { .. } | Msg::Accept { .. } => {}
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Node>) {
        match timer {
            Timer::Start => {
                if let Some((value, _)) = self.plan.clone() {
                    self.propose(value, ctx);
                }
            }
            Timer::Retry => {
                if let (Some(n), true) = (
                    self.ballot,
                    matches!(self.phase, Phase::Preparing | Phase::Accepting),
                ) {
                    let why = format!(
                        "no majority for ballot {n} within {} ms",
                        self.config.retry_ms
                    );
                    self.abandon(why, ctx);
                }
            }
            Timer::Backoff => {
                if self.phase == Phase::BackingOff {
                    self.start_ballot(ctx);
                }
            }
        }
    }
}

impl Acceptor {
    /// An acceptor that has promised and accepted nothing.
    pub fn new(config: Config) -> Acceptor {
        Acceptor {
            config,
            promised: None,
            accepted: None,
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        match msg {
            Msg::Prepare { n } => match self.promised {
                Some(p) if p >= n => ctx.send(from, Msg::Nack { n, promised: p }),
                _ => {
                    self.promised = Some(n);
                    ctx.send(
                        from,
                        Msg::Promise {
                            n,
                            accepted: self.accepted.clone(),
                        },
                    );
                }
            },
            Msg::Accept { n, value } => {
                let keeps_promise = self.promised.is_none_or(|p| n >= p);
                if !keeps_promise && !self.config.broken.contains(&Broken::PromiseCheck) {
                    let promised = self.promised.expect("a promise is above n");
                    ctx.send(from, Msg::Nack { n, promised });
                    return;
                }
                self.promised = self.promised.max(Some(n));
                self.accepted = Some((n, value.clone()));
                let reply = Msg::Accepted { n, value };
                ctx.send(from, reply.clone());
                for &l in &self.config.learners {
                    ctx.send(l, reply.clone());
                }
            }
            Msg::Promise { .. } | Msg::Accepted { .. } | Msg::Nack { .. } => {}
        }
    }
}

impl Learner {
    /// A learner that has learned nothing.
    pub fn new(config: Config) -> Learner {
        Learner {
            config,
            tallies: BTreeMap::new(),
            learned: None,
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        let Msg::Accepted { n, value } = msg else {
            return;
        };
        let (v, by) = self
            .tallies
            .entry(n)
            .or_insert_with(|| (value.clone(), BTreeSet::new()));
        if *v != value {
            return; // one value per ballot: a proposer sends one
        }
        by.insert(from);
        if by.len() >= self.config.majority() && self.learned.is_none() {
            ctx.note(format!("learns {value} (ballot {n})"));
            self.learned = Some((n, value));
        }
    }
}

impl Protocol for Node {
    type Msg = Msg;
    type Timer = Timer;
    type Request = Request;
    type Response = Response;
    type Command = Operator;
    type View = View;

    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        if let Node::Proposer(p) = self {
            match p.plan.clone() {
                Some((value, 0)) => p.propose(value, ctx),
                Some((_, at)) => ctx.set_timer(Timer::Start, at),
                None => {}
            }
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        match self {
            Node::Proposer(p) => p.on_message(from, msg, ctx),
            Node::Acceptor(a) => a.on_message(from, msg, ctx),
            Node::Learner(l) => l.on_message(from, msg, ctx),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Self>) {
        if let Node::Proposer(p) = self {
            p.on_timer(timer, ctx);
        }
    }

    fn on_request(&mut self, _op: OpId, request: Request, _ctx: &mut Ctx<Self>) {
        match request {}
    }

    fn on_command(&mut self, command: Operator, ctx: &mut Ctx<Self>) {
        match (self, command) {
            (Node::Proposer(p), Operator::Propose { value }) => p.propose(value, ctx),
            (_, Operator::Propose { .. }) => {}
        }
    }

    fn on_crash(&mut self) {
        match self {
            Node::Proposer(p) => {
                let fresh = Proposer {
                    round: p.round,
                    rng: p.rng.clone(),
                    plan: p.plan.clone(),
                    ..Proposer::new(p.config.clone(), 0, 0)
                };
                *p = fresh;
            }
            Node::Acceptor(_) => {}
            Node::Learner(l) => l.tallies.clear(),
        }
    }

    /// Acceptors and learners carry on from their durable state. A proposer is idle until
    /// an operator asks it to propose (a scenario start still pending at the crash was lost
    /// with the node's timers).
    fn on_restart(&mut self, _ctx: &mut Ctx<Self>) {}

    fn view(&self) -> View {
        match self {
            Node::Proposer(p) => View::Proposer {
                phase: p.phase,
                ballot: p.ballot,
                value: p.value.clone().or_else(|| p.own.clone()),
                own: p.own.clone(),
                adopted_from: p.adopted_from,
                promises: p.promises.len(),
                accepted: p.accepted.len(),
                chosen: p.chosen.clone(),
            },
            Node::Acceptor(a) => View::Acceptor {
                promised: a.promised,
                accepted: a.accepted.clone(),
            },
            Node::Learner(l) => View::Learner {
                learned: l.learned.clone(),
            },
        }
    }
}

/// A proposer in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposerSpec {
    pub name: String,
    /// The value it proposes at `start_ms`; without one it waits for an operator's
    /// [`Operator::Propose`].
    #[serde(default)]
    pub value: Option<String>,
    /// When it starts proposing `value`, simulated ms (0 when absent; needs a `value`).
    #[serde(default)]
    pub start_ms: Option<Time>,
    #[serde(default)]
    pub place: Option<String>,
}

impl ProposerSpec {
    /// A proposer `name` proposing `value` at `start_ms`.
    pub fn new(name: &str, value: &str, start_ms: Time) -> ProposerSpec {
        ProposerSpec {
            name: name.into(),
            value: Some(value.into()),
            start_ms: Some(start_ms),
            place: None,
        }
    }
    /// A proposer `name` that waits for an operator's command.
    pub fn idle(name: &str) -> ProposerSpec {
        ProposerSpec {
            name: name.into(),
            value: None,
            start_ms: None,
            place: None,
        }
    }
}

/// A Paxos scenario as lesson files and the command line write it (nodes by name). Node ids
/// in a run: proposers first, then acceptors, then learners, each in file order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaxosScenario {
    /// Seed of the run: latencies, loss and every proposer's backoff delays.
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration_ms: Time,
    /// At least one proposer.
    pub proposers: Vec<ProposerSpec>,
    /// 3 or 5 acceptor names (1 to experiment).
    pub acceptors: Vec<String>,
    /// Learner names (none is allowed: proposers still see their value chosen).
    #[serde(default)]
    pub learners: Vec<String>,
    #[serde(default = "default_latency")]
    pub latency_ms: Time,
    #[serde(default)]
    pub jitter_ms: Time,
    #[serde(default)]
    pub links: Vec<NamedLink>,
    #[serde(default)]
    pub loss: f64,
    /// A proposer without a majority this long after starting a ballot abandons it.
    #[serde(default = "default_retry")]
    pub retry_ms: Time,
    /// Randomized backoff before a retry, uniform in `[0, backoff_ms)`; 0: retry at once.
    #[serde(default = "default_backoff")]
    pub backoff_ms: Time,
    /// Rules left out ("broken Paxos"); empty for Paxos as in the paper.
    #[serde(default)]
    pub broken: BTreeSet<Broken>,
}

fn default_duration() -> Time {
    1_000
}
fn default_latency() -> Time {
    10
}
fn default_retry() -> Time {
    200
}
fn default_backoff() -> Time {
    100
}

impl PaxosScenario {
    /// Two proposers, `p1` proposing `"A"` at time 0 and `p2` waiting for an operator; three
    /// acceptors `a1`–`a3`; one learner `l1`; defaults elsewhere.
    pub fn basic(seed: u64) -> PaxosScenario {
        PaxosScenario {
            seed,
            duration_ms: default_duration(),
            proposers: vec![ProposerSpec::new("p1", "A", 0), ProposerSpec::idle("p2")],
            acceptors: vec!["a1".into(), "a2".into(), "a3".into()],
            learners: vec!["l1".into()],
            latency_ms: default_latency(),
            jitter_ms: 0,
            links: Vec::new(),
            loss: 0.0,
            retry_ms: default_retry(),
            backoff_ms: default_backoff(),
            broken: BTreeSet::new(),
        }
    }

    /// All node names in id order: proposers, acceptors, learners.
    pub fn names(&self) -> Vec<String> {
        self.proposers
            .iter()
            .map(|p| p.name.clone())
            .chain(self.acceptors.iter().cloned())
            .chain(self.learners.iter().cloned())
            .collect()
    }

    /// The id of a named node, or an error listing the known names.
    pub fn node(&self, name: &str) -> Result<NodeId, String> {
        scenario::node_id(&self.names(), name)
    }

    /// Ids of the proposers, acceptors and learners.
    pub fn roles(&self) -> (Vec<NodeId>, Vec<NodeId>, Vec<NodeId>) {
        let p = self.proposers.len();
        let a = p + self.acceptors.len();
        let l = a + self.learners.len();
        ((0..p).collect(), (p..a).collect(), (a..l).collect())
    }

    /// The shared configuration of the nodes.
    pub fn config(&self) -> Config {
        let (_, acceptors, learners) = self.roles();
        Config {
            acceptors,
            learners,
            retry_ms: self.retry_ms,
            backoff_ms: self.backoff_ms,
            broken: self.broken.clone(),
        }
    }

    /// Checks the scenario and builds the run's setup. Errors: no proposer, an acceptor
    /// count other than 3 or 5 (1 is allowed for experiments), bad names, `retry_ms = 0`, a
    /// proposer with an empty value, a start time without a value or after the run's end.
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        if self.proposers.is_empty() {
            return Err("no proposers: a Paxos run needs at least one".into());
        }
        let n = self.acceptors.len();
        if !matches!(n, 1 | 3 | 5) {
            return Err(format!(
                "{n} acceptors: Paxos here has 3 or 5 (or 1 to experiment)"
            ));
        }
        let names = self.names();
        scenario::check_names(&names)?;
        if self.retry_ms == 0 {
            return Err("retry_ms must be positive".into());
        }
        scenario::check_time("duration_ms", self.duration_ms)?;
        scenario::check_time("retry_ms", self.retry_ms)?;
        scenario::check_time("backoff_ms", self.backoff_ms)?;
        for p in &self.proposers {
            match (&p.value, p.start_ms) {
                (Some(v), _) if v.trim().is_empty() => {
                    return Err(format!("proposer {}: the value is empty", p.name));
                }
                (None, Some(_)) => {
                    return Err(format!(
                        "proposer {}: start_ms without a value to propose",
                        p.name
                    ));
                }
                (Some(_), Some(at)) if at > self.duration_ms => {
                    return Err(format!(
                        "proposer {}: start_ms = {at} is after the run ends (duration_ms = {})",
                        p.name, self.duration_ms
                    ));
                }
                _ => {}
            }
        }
        let network = scenario::network(
            &names,
            self.latency_ms,
            self.jitter_ms,
            &self.links,
            self.loss,
        )?;
        let config = self.config();
        let info = |name: &String, place: Option<String>| NodeInfo {
            name: name.clone(),
            role: NodeRole::Server,
            place,
            clock: Default::default(),
        };
        let mut nodes = Vec::new();
        let mut protocols = Vec::new();
        for (i, p) in self.proposers.iter().enumerate() {
            nodes.push(info(&p.name, p.place.clone()));
            let mut proposer = Proposer::new(config.clone(), self.seed, i);
            proposer.plan = p.value.clone().map(|v| (v, p.start_ms.unwrap_or(0)));
            protocols.push(Node::Proposer(proposer));
        }
        for a in &self.acceptors {
            nodes.push(info(a, None));
            protocols.push(Node::Acceptor(Acceptor::new(config.clone())));
        }
        for l in &self.learners {
            nodes.push(info(l, None));
            protocols.push(Node::Learner(Learner::new(config.clone())));
        }
        Ok(Setup {
            nodes,
            protocols,
            network,
            seed: self.seed,
            duration_ms: self.duration_ms,
        })
    }
}
