//! What a gossip run shows, read from its trace in one pass: every update with the round
//! and time each node learnt it, the informed nodes per round (the epidemic curve), the
//! round by which every live node knew it (or the stragglers that never did), the messages
//! and bytes sent, and what theory expects for comparison.
//!
//! **Rounds** are counted from the update's own round ([`super::Entry::born`], round 0: the
//! origin knows it); a node that learns it from an exchange of round `k` learnt it in round
//! `k − born`. A node counts as informed of an update once it holds that key at the
//! update's version or a higher one.
//!
//! **Expected values** (all nodes up, the synchronous rounds of the model):
//! - [`expected_curve`]: the mean-field recurrences of Demers et al. 1987 (§1.4), extended to
//!   a fanout `f` and a loss rate `p` (`q = 1 − p`): a susceptible node stays susceptible
//!   in a round with probability
//!   `push: (1 − f·q/(n−1))^I`, `pull: (1 − q²·I/(n−1))^f`, push-pull: the product of the
//!   two, where `I` is the number of informed nodes. With `f = 1`, `p = 0` they are Demers'
//!   `p_{i+1} = p_i (1 − 1/n)^{n(1−p_i)}` (push) and `p_{i+1} = p_i²` (pull). This is the
//!   discrete form of the logistic (SI) epidemic curve: slow start, exponential middle,
//!   saturation.
//! - [`expected_rounds`]: closed forms for fanout 1 without loss: push
//!   `log₂ n + ln n` (B. Pittel, "On spreading a rumor", SIAM J. Appl. Math. 47(1), 1987:
//!   `log₂ n + ln n + O(1)`), pull `log₂ n + log₂ ln n` (the doubling start, then Demers'
//!   squaring end phase), push-pull `log₃ n + ln ln n` (R. Karp, C. Schindelhauer,
//!   S. Shenker, B. Vöcking, "Randomized rumor spreading", FOCS 2000: `log₃ n + O(ln ln
//!   n)`). The `O(·)` terms are dropped, so these are approximations; for other fanouts and
//!   with loss only the mean-field recurrence is given.

use super::{GossipScenario, Mode, Msg, Node, Version};
use crate::engine::Engine;
use crate::trace::EventKind;
use crate::{NodeId, Time};
use serde::Serialize;
use std::collections::BTreeMap;

/// When a node learnt an update.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Learnt {
    /// Round, counted from the update's round (0 for the origin).
    pub round: u64,
    pub time: Time,
    pub step: usize,
    /// The node it learnt it from (`None` for the origin).
    pub from: Option<NodeId>,
}

/// One update and how it spread.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub key: String,
    pub value: String,
    pub version: Version,
    pub origin: NodeId,
    /// When it was made.
    pub time: Time,
    pub step: usize,
    /// Its round ([`Entry::born`]).
    pub born: u64,
    /// Per node: when it learnt the update (or a newer version of the key), if it did.
    pub learnt: Vec<Option<Learnt>>,
    /// Informed nodes at the end of each round `0, 1, …` up to the round under way at the
    /// analysed step.
    pub curve: Vec<usize>,
    /// Nodes up at the analysed step.
    pub live: usize,
    /// The round by which every live node had learnt it, if they all have.
    pub all_round: Option<u64>,
    /// The time the last live node learnt it, if they all have.
    pub all_time: Option<Time>,
    /// Live nodes that have not learnt it.
    pub stragglers: Vec<NodeId>,
    /// Messages sent from the update until every live node knew it (or until the analysed
    /// step, when some do not yet).
    pub messages: u64,
    /// Their bytes ([`Msg::bytes`]).
    pub bytes: u64,
}

impl Spread {
    /// Informed nodes now.
    pub fn informed(&self) -> usize {
        self.learnt.iter().filter(|l| l.is_some()).count()
    }
}

/// A gossip run, analysed up to a trace step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    pub n: usize,
    pub mode: Mode,
    pub fanout: usize,
    pub loss: f64,
    pub round_ms: Time,
    /// The round under way at the analysed step (`time / round_ms`).
    pub round: u64,
    /// Updates, in the order they were made.
    pub updates: Vec<Spread>,
    /// Messages sent in the run so far, and their bytes.
    pub messages: u64,
    pub bytes: u64,
    /// Messages sent so far by kind (`"push"`, `"pull"`, `"push-pull"`, `"reply"`).
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Nodes up at the analysed step.
    pub up: Vec<bool>,
    /// The expected informed count per round (all nodes up), from [`expected_curve`].
    pub expected_curve: Vec<f64>,
    /// The closed-form expected rounds ([`expected_rounds`]); `None` unless the run has
    /// fanout 1 and no loss.
    pub expected_rounds: Option<Expected>,
    /// The first round at which the mean-field curve leaves less than half a node
    /// uninformed.
    pub mean_field_rounds: Option<u64>,
}

/// A closed-form expectation with its formula and source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expected {
    pub rounds: f64,
    pub formula: &'static str,
    pub source: &'static str,
}

/// Expected rounds until all `n` nodes know a rumour, for fanout 1 without loss (see the
/// module documentation); `None` for other fanouts or `n < 2`.
pub fn expected_rounds(n: usize, mode: Mode, fanout: usize) -> Option<Expected> {
    if fanout != 1 || n < 2 {
        return None;
    }
    let nf = n as f64;
    let ln = nf.ln();
    Some(match mode {
        Mode::Push => Expected {
            rounds: nf.log2() + ln,
            formula: "log₂ n + ln n",
            source: "Pittel 1987",
        },
        Mode::Pull => Expected {
            rounds: nf.log2() + ln.max(1.0).log2(),
            formula: "log₂ n + log₂ ln n",
            source: "Demers et al. 1987; Karp et al. 2000",
        },
        Mode::PushPull => Expected {
            rounds: nf.log(3.0) + ln.max(1.0).ln(),
            formula: "log₃ n + ln ln n",
            source: "Karp et al. 2000",
        },
    })
}

/// The mean-field expected number of informed nodes at the end of rounds `0..=rounds`
/// (one informed at round 0), `n` nodes, all up (see the module documentation).
pub fn expected_curve(n: usize, mode: Mode, fanout: usize, loss: f64, rounds: u64) -> Vec<f64> {
    let nf = n as f64;
    let f = fanout.min(n.saturating_sub(1)) as f64;
    let q = (1.0 - loss).clamp(0.0, 1.0);
    let others = (nf - 1.0).max(1.0);
    let mut i = 1.0_f64.min(nf);
    let mut v = vec![i];
    for _ in 0..rounds {
        let push = (1.0 - (f * q / others).min(1.0)).powf(i);
        let pull = (1.0 - (q * q * i / others).min(1.0)).powf(f);
        let stay = match mode {
            Mode::Push => push,
            Mode::Pull => pull,
            Mode::PushPull => push * pull,
        };
        i += (nf - i) * (1.0 - stay);
        v.push(i.min(nf));
    }
    v
}

/// The first round whose expected uninformed count is below one half, within
/// [`super::MAX_ROUNDS`].
pub fn mean_field_rounds(n: usize, mode: Mode, fanout: usize, loss: f64) -> Option<u64> {
    expected_curve(n, mode, fanout, loss, super::MAX_ROUNDS)
        .iter()
        .position(|&i| n as f64 - i < 0.5)
        .map(|r| r as u64)
}

/// Analyses `engine`'s run of `s` up to and including trace step `upto` (`None`: before
/// the first event).
pub fn analyze(s: &GossipScenario, engine: &Engine<Node>, upto: Option<usize>) -> Analysis {
    let n = engine.nodes().len();
    let trace = engine.trace();
    let end = upto.map_or(0, |u| (u + 1).min(trace.len()));
    let round_ms = s.round_ms.max(1);
    let mut up = vec![true; n];
    // Per node: key → version held.
    let mut held: Vec<BTreeMap<String, Version>> = vec![BTreeMap::new(); n];
    let mut updates: Vec<Spread> = Vec::new();
    let mut messages = 0u64;
    let mut bytes = 0u64;
    let mut by_kind: BTreeMap<&'static str, u64> = BTreeMap::new();
    // Per step: messages and bytes sent, for the per-update counts.
    let mut sent_at: Vec<(u64, u64)> = Vec::with_capacity(end);
    for (step, ev) in trace[..end].iter().enumerate() {
        let mut m = 0;
        let mut b = 0;
        for sent in &ev.sent {
            let kind = crate::Describe::kind(&sent.payload);
            *by_kind.entry(kind).or_default() += 1;
            m += 1;
            b += sent.payload.bytes();
        }
        messages += m;
        bytes += b;
        sent_at.push((m, b));
        let Some(node) = ev.node else { continue };
        match &ev.kind {
            EventKind::Crash => up[node] = false,
            EventKind::Restart => up[node] = true,
            _ => {}
        }
        let Some(view) = &ev.state else { continue };
        let delivered: Option<(&Msg, NodeId)> = match &ev.kind {
            EventKind::Deliver { payload, from, .. } => Some((payload, *from)),
            _ => None,
        };
        for (key, (version, value)) in &view.state {
            if held[node].get(key) == Some(version) {
                continue;
            }
            held[node].insert(key.clone(), *version);
            match delivered {
                None if version.origin == node => {
                    // An update made here; it supersedes the key's older updates here.
                    for u in updates
                        .iter_mut()
                        .filter(|u| u.key == *key && u.version <= *version)
                    {
                        if u.learnt[node].is_none() {
                            u.learnt[node] = Some(Learnt {
                                round: view.round.saturating_sub(u.born),
                                time: ev.time,
                                step,
                                from: None,
                            });
                        }
                    }
                    let mut learnt: Vec<Option<Learnt>> = vec![None; n];
                    for (x, h) in held.iter().enumerate() {
                        if h.get(key).is_some_and(|v| v >= version) {
                            learnt[x] = Some(Learnt {
                                round: 0,
                                time: ev.time,
                                step,
                                from: None,
                            });
                        }
                    }
                    updates.push(Spread {
                        key: key.clone(),
                        value: value.clone(),
                        version: *version,
                        origin: node,
                        time: ev.time,
                        step,
                        born: view.round,
                        learnt,
                        curve: Vec::new(),
                        live: 0,
                        all_round: None,
                        all_time: None,
                        stragglers: Vec::new(),
                        messages: 0,
                        bytes: 0,
                    });
                }
                None => {}
                Some((msg, from)) => {
                    let round = msg.round();
                    for u in updates
                        .iter_mut()
                        .filter(|u| u.key == *key && u.version <= *version)
                    {
                        if u.learnt[node].is_none() {
                            u.learnt[node] = Some(Learnt {
                                round: round.saturating_sub(u.born),
                                time: ev.time,
                                step,
                                from: Some(from),
                            });
                        }
                    }
                }
            }
        }
    }
    let now = end
        .checked_sub(1)
        .map_or(0, |last| trace[last].time / round_ms);
    for u in &mut updates {
        let span = now.saturating_sub(u.born) as usize;
        u.curve = (0..=span)
            .map(|r| {
                u.learnt
                    .iter()
                    .filter(|l| l.as_ref().is_some_and(|l| l.round as usize <= r))
                    .count()
            })
            .collect();
        u.live = up.iter().filter(|&&x| x).count();
        u.stragglers = (0..n).filter(|&x| up[x] && u.learnt[x].is_none()).collect();
        let last = if u.stragglers.is_empty() {
            let last = (0..n)
                .filter(|&x| up[x])
                .filter_map(|x| u.learnt[x].as_ref())
                .max_by_key(|l| (l.step, l.round));
            u.all_round = last.map(|l| l.round);
            u.all_time = last.map(|l| l.time);
            last.map_or(u.step, |l| l.step)
        } else {
            end.saturating_sub(1)
        };
        let (m, b) = sent_at
            .get(u.step..=last.max(u.step))
            .unwrap_or_default()
            .iter()
            .fold((0, 0), |(m, b), (x, y)| (m + x, b + y));
        u.messages = m;
        u.bytes = b;
    }
    Analysis {
        n,
        mode: s.mode,
        fanout: s.fanout,
        loss: s.loss,
        round_ms,
        round: now,
        updates,
        messages,
        bytes,
        by_kind,
        up,
        expected_curve: expected_curve(n, s.mode, s.fanout, s.loss, s.rounds),
        expected_rounds: if s.loss == 0.0 {
            expected_rounds(n, s.mode, s.fanout)
        } else {
            None
        },
        mean_field_rounds: mean_field_rounds(n, s.mode, s.fanout, s.loss),
    }
}
