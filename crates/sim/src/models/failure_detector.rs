//! Heartbeat failure detection: one **monitor** node watches 1–5 **monitored** nodes that
//! send it a heartbeat every `interval_ms`, and it runs two detectors side by side on the
//! same arrivals.
//!
//! - **Fixed timeout** (DDIA ch. 8, "Timeouts and Unbounded Delays"): a node is suspected
//!   when `now − last_heartbeat > timeout_ms`. Too short and a slow network or a paused
//!   process is declared dead; too long and a real crash goes unnoticed for that long.
//! - **φ accrual** (N. Hayashibara, X. Défago, R. Yared, T. Katayama, "The φ accrual failure
//!   detector", SRDS 2004): the monitor keeps a sliding window of the last
//!   `max_sample_size` inter-arrival times, estimates their mean μ and standard deviation σ,
//!   and outputs a suspicion level `φ(t) = −log10(1 − F(t − t_last))` where `F` is the
//!   normal CDF with that mean and deviation: φ = 1 means a 10 % chance that a heartbeat
//!   this late would still come, φ = 8 one in 10⁸. The application picks a threshold; here a
//!   node is suspected when `φ ≥ threshold`. The parameters are those of Akka's
//!   `PhiAccrualFailureDetector` (the detector of Akka Cluster): `min_std_deviation_ms`
//!   bounds σ from below, `acceptable_heartbeat_pause_ms` is added to μ (pauses the
//!   application tolerates, e.g. garbage collection), and the window starts from a
//!   bootstrap of two intervals `first_heartbeat_estimate_ms ± ¼` of it, as Akka does, so
//!   the first heartbeats already give a defined φ. F is computed as Akka computes it, with
//!   the logistic approximation of the normal CDF (S. R. Bowling et al., "A logistic
//!   approximation to the cumulative normal distribution", 2009: `F(y) ≈ 1 / (1 +
//!   e^(−y(1.5976 + 0.070566 y²)))`, absolute error below 1.4·10⁻⁴) — see [`phi`] and the
//!   tests, which compare it with the exact normal tail. (Cassandra's detector is also
//!   called φ accrual but assumes exponentially distributed inter-arrival times.)
//!
//! **Sampling.** The monitor evaluates both detectors at the instants `k · sample_ms` (e.g.
//! every 10 ms), as a reaper task would; a heartbeat's arrival ends a suspicion at once.
//! Between arrivals φ and the silence only grow with time, so the monitor does not wake at
//! every sample point: after each event it computes the first sample point at which a
//! detector's verdict would change and sets one timer for it. Its verdicts are exactly those
//! of a monitor woken every `sample_ms`, and the run's diagram is not drowned in timer
//! events. [`analysis`] recomputes φ at every sample point from the recorded arrivals.
//!
//! **Faults.** A real crash is the engine's crash: the node stops and its timers are lost.
//! A **pause** ([`Command::Pause`], or the scenario's `pauses`) freezes a monitored node as
//! a stop-the-world garbage collection does: it sends nothing, and a heartbeat that fell due
//! during the pause is sent late, at the pause's end, after which heartbeats go on every
//! `interval_ms` from there. The process was never dead: every suspicion during a pause is
//! a false suspicion. Latency, jitter, per-link overrides and loss come from the engine's
//! network.

pub mod analysis;

use super::scenario::{self, NamedLink};
use crate::engine::{Ctx, NodeInfo, NodeRole, Protocol, Setup};
use crate::{Describe, NodeId, OpId, Time};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// φ of a heartbeat `elapsed_ms` after the last one, when inter-arrival times are normal
/// with `mean_ms` and `std_dev_ms` (> 0): `−log10(1 − F(elapsed))` with `F` the logistic
/// approximation of the normal CDF that Akka uses, `F(y) ≈ 1 / (1 + e^(−z))`,
/// `z = y (1.5976 + 0.070566 y²)`, `y = (elapsed − mean) / std_dev` (Bowling et al. 2009).
/// Written in a form that never overflows: `φ = (z + ln(1 + e^(−z))) / ln 10` for `z ≥ 0`
/// and `ln(1 + e^z) / ln 10` for `z < 0`, which is the same function. Strictly increasing
/// in `elapsed_ms`; `φ(mean) = log10 2 ≈ 0.301`. Past about three standard deviations the
/// approximation's tail is thinner than the normal's (e.g. y = 6: 10.8 instead of 9.0): the
/// threshold is a threshold on this φ, as in Akka.
pub fn phi(elapsed_ms: f64, mean_ms: f64, std_dev_ms: f64) -> f64 {
    let y = (elapsed_ms - mean_ms) / std_dev_ms;
    let z = y * (1.5976 + 0.070566 * y * y);
    if z >= 0.0 {
        (z + (-z).exp().ln_1p()) / std::f64::consts::LN_10
    } else {
        z.exp().ln_1p() / std::f64::consts::LN_10
    }
}

/// The φ accrual detector's parameters (names and meaning as Akka's
/// `akka.cluster.failure-detector` settings; times in simulated ms).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhiParams {
    /// Suspect when φ ≥ this (Akka's default: 8).
    pub threshold: f64,
    /// How many inter-arrival times the window keeps (≥ 1; Akka: 1000).
    pub max_sample_size: usize,
    /// The smallest standard deviation used, ms (> 0): a perfectly regular history would
    /// otherwise make any small delay infinitely suspicious.
    pub min_std_deviation_ms: f64,
    /// Added to the mean, ms: silence the application accepts (e.g. a GC pause).
    pub acceptable_heartbeat_pause_ms: f64,
    /// The bootstrap's expected interval, ms (> 0): the window starts as
    /// `[e − e/4, e + e/4]`, mean `e`, deviation `e/4`.
    pub first_heartbeat_estimate_ms: f64,
}

/// The arrival history of one monitored node as the φ accrual detector keeps it: the last
/// arrival and a sliding window of inter-arrival times (ms), with running sums for the mean
/// and variance.
#[derive(Clone, Debug, PartialEq)]
pub struct PhiHistory {
    /// Inter-arrival times, oldest first, at most `max_sample_size`.
    pub intervals: VecDeque<f64>,
    sum: f64,
    squares: f64,
    /// When the last heartbeat arrived; `None` before the first.
    pub last: Option<Time>,
}

impl PhiHistory {
    /// No heartbeat yet: φ is 0 (nothing to suspect) until the first arrives.
    pub fn new() -> PhiHistory {
        PhiHistory {
            intervals: VecDeque::new(),
            sum: 0.0,
            squares: 0.0,
            last: None,
        }
    }

    fn push(&mut self, x: f64, max: usize) {
        if self.intervals.len() >= max.max(1) {
            if let Some(old) = self.intervals.pop_front() {
                self.sum -= old;
                self.squares -= old * old;
            }
        }
        self.intervals.push_back(x);
        self.sum += x;
        self.squares += x * x;
    }

    /// A heartbeat arrived at `t`: the first one seeds the window with the bootstrap
    /// intervals; each later one adds `t − last` to it (the oldest falls out when full).
    pub fn heartbeat(&mut self, t: Time, p: &PhiParams) {
        match self.last {
            None => {
                let e = p.first_heartbeat_estimate_ms;
                self.intervals.clear();
                self.sum = 0.0;
                self.squares = 0.0;
                self.push(e - e / 4.0, p.max_sample_size.max(2));
                self.push(e + e / 4.0, p.max_sample_size.max(2));
            }
            Some(last) => self.push(t.saturating_sub(last) as f64, p.max_sample_size),
        }
        self.last = Some(t);
    }

    /// The window's mean inter-arrival time, ms (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.intervals.is_empty() {
            0.0
        } else {
            self.sum / self.intervals.len() as f64
        }
    }

    /// The window's (population) standard deviation, ms.
    pub fn std_dev(&self) -> f64 {
        if self.intervals.is_empty() {
            return 0.0;
        }
        let n = self.intervals.len() as f64;
        let m = self.sum / n;
        (self.squares / n - m * m).max(0.0).sqrt()
    }

    /// φ at time `t` (0 before the first heartbeat): [`phi`] of `t − last` with mean
    /// `mean + acceptable_heartbeat_pause_ms` and deviation `max(std_dev, min_std_deviation_ms)`.
    pub fn phi_at(&self, t: Time, p: &PhiParams) -> f64 {
        let Some(last) = self.last else {
            return 0.0;
        };
        let elapsed = t.saturating_sub(last) as f64;
        phi(
            elapsed,
            self.mean() + p.acceptable_heartbeat_pause_ms,
            self.std_dev().max(p.min_std_deviation_ms),
        )
    }
}

impl Default for PhiHistory {
    fn default() -> Self {
        PhiHistory::new()
    }
}

/// The first sample point `k · sample` strictly after `now`.
pub fn next_sample(now: Time, sample: Time) -> Time {
    let s = sample.max(1);
    (now / s).saturating_add(1).saturating_mul(s)
}

/// How far ahead the monitor looks for a φ crossing, in sample points (~11 simulated hours
/// at 10 ms); a threshold not reached by then is treated as never reached.
const LOOKAHEAD: Time = 1 << 22;

/// The first sample point after `now` at which `h`'s φ reaches the threshold (no further
/// arrival assumed), or `None` within the lookahead. φ only grows between arrivals, so a
/// doubling search then a binary search finds it.
pub fn phi_crossing(h: &PhiHistory, p: &PhiParams, now: Time, sample: Time) -> Option<Time> {
    h.last?;
    let s = sample.max(1);
    let first = next_sample(now, s) / s;
    let reached = |k: Time| h.phi_at(k.saturating_mul(s), p) >= p.threshold;
    if reached(first) {
        return Some(first * s);
    }
    let (mut lo, mut step) = (first, 1);
    let hi = loop {
        let k = first.saturating_add(step);
        if reached(k) {
            break k;
        }
        lo = k;
        if step >= LOOKAHEAD {
            return None;
        }
        step *= 2;
    };
    // reached(hi), !reached(lo)
    let mut hi = hi;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reached(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi * s)
}

/// The first sample point after `now` at which a fixed timeout suspects a node last heard
/// at `last` (`now − last > timeout`).
pub fn timeout_crossing(last: Time, timeout: Time, now: Time, sample: Time) -> Time {
    next_sample(now.max(last.saturating_add(timeout)), sample)
}

/// The monitor's settings: who it watches and both detectors' parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// The monitored nodes' ids.
    pub watched: Vec<NodeId>,
    /// The fixed timeout, ms.
    pub timeout_ms: Time,
    pub phi: PhiParams,
    /// The sampling period, ms (> 0).
    pub sample_ms: Time,
}

/// What the monitor knows of one monitored node.
#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    pub node: NodeId,
    pub history: PhiHistory,
    /// Heartbeats received.
    pub received: u64,
    /// Suspected by the fixed timeout.
    pub timeout_suspects: bool,
    /// Suspected by φ accrual.
    pub phi_suspects: bool,
}

/// The monitor node.
#[derive(Clone, Debug, PartialEq)]
pub struct Monitor {
    pub config: MonitorConfig,
    pub watches: Vec<Watch>,
    names: Vec<String>,
}

/// A monitored node: it sends heartbeats every `interval_ms` unless paused or crashed.
#[derive(Clone, Debug, PartialEq)]
pub struct Monitored {
    pub monitor: NodeId,
    pub interval_ms: Time,
    /// Heartbeats sent since the last (re)start.
    pub seq: u64,
    /// When the next heartbeat is due.
    pub next_due: Time,
    /// Frozen until then (a pause in progress).
    pub paused_until: Option<Time>,
    /// Pauses planned by the scenario: `(at_ms, ms)`.
    pub plan: Vec<(Time, Time)>,
}

/// A node of a failure-detection run.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Monitor(Monitor),
    Monitored(Monitored),
}

/// The only message: a monitored node's heartbeat, numbered from 1 after each (re)start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Msg {
    Heartbeat { seq: u64 },
}

impl Describe for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Heartbeat { seq } => format!("heartbeat #{seq}"),
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        match self {
            Msg::Heartbeat { seq } => vec![("number".into(), seq.to_string())],
        }
    }
    fn kind(&self) -> &'static str {
        "heartbeat"
    }
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timer {
    /// A monitored node's next heartbeat is due.
    Heartbeat,
    /// A planned pause (index into the plan) begins.
    PauseAt(usize),
    /// The pause in progress ends.
    PauseEnd,
    /// The monitor's next sample point at which a verdict changes.
    Check,
}

/// There are no clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {}

impl Describe for Request {
    fn label(&self) -> String {
        match *self {}
    }
}

/// There are no clients.
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
pub enum Command {
    /// Freeze a monitored node for `ms` (a stop-the-world GC pause): it sends nothing
    /// until then; a heartbeat due meanwhile goes out at the pause's end.
    Pause { ms: Time },
}

impl Describe for Command {
    fn label(&self) -> String {
        match self {
            Command::Pause { ms } => format!("pause {ms} ms"),
        }
    }
}

/// One monitored node as the monitor's view shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WatchView {
    pub node: String,
    pub last_heartbeat: Option<Time>,
    pub received: u64,
    pub timeout_suspects: bool,
    pub phi_suspects: bool,
}

/// A node's visible state (integers only, so traces are identical on every platform).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum View {
    Monitor {
        watches: Vec<WatchView>,
    },
    Monitored {
        sent: u64,
        paused_until: Option<Time>,
    },
}

fn verdict(t: bool) -> &'static str {
    if t {
        "suspected"
    } else {
        "trusted"
    }
}

impl Describe for View {
    fn label(&self) -> String {
        match self {
            View::Monitor { watches } => {
                let s: Vec<String> = watches
                    .iter()
                    .filter(|w| w.timeout_suspects || w.phi_suspects)
                    .map(|w| w.node.clone())
                    .collect();
                if s.is_empty() {
                    "suspects nobody".into()
                } else {
                    format!("suspects {}", s.join(", "))
                }
            }
            View::Monitored {
                paused_until: Some(t),
                ..
            } => format!("paused until {t} ms"),
            View::Monitored { sent, .. } => format!("{sent} heartbeats sent"),
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        match self {
            View::Monitor { watches } => watches
                .iter()
                .map(|w| {
                    (
                        w.node.clone(),
                        format!(
                            "last heartbeat {}; timeout: {}; φ: {}",
                            w.last_heartbeat
                                .map_or("none".into(), |t| format!("at {t} ms")),
                            verdict(w.timeout_suspects),
                            verdict(w.phi_suspects)
                        ),
                    )
                })
                .collect(),
            View::Monitored { sent, paused_until } => vec![
                ("heartbeats sent".into(), sent.to_string()),
                (
                    "paused".into(),
                    paused_until.map_or("no".into(), |t| format!("until {t} ms")),
                ),
            ],
        }
    }
}

impl Monitor {
    /// A monitor of `config.watched`; `names` are all node names by id (for notes).
    pub fn new(config: MonitorConfig, names: Vec<String>) -> Monitor {
        let watches = config
            .watched
            .iter()
            .map(|&node| Watch {
                node,
                history: PhiHistory::new(),
                received: 0,
                timeout_suspects: false,
                phi_suspects: false,
            })
            .collect();
        Monitor {
            config,
            watches,
            names,
        }
    }

    fn name(&self, n: NodeId) -> String {
        self.names
            .get(n)
            .cloned()
            .unwrap_or_else(|| format!("node {n}"))
    }

    /// The first sample point after `now` at which some verdict changes, if any.
    fn next_check(&self, now: Time) -> Option<Time> {
        let c = &self.config;
        self.watches
            .iter()
            .filter_map(|w| {
                let last = w.history.last?;
                let t = (!w.timeout_suspects)
                    .then(|| timeout_crossing(last, c.timeout_ms, now, c.sample_ms));
                let p = if w.phi_suspects {
                    None
                } else {
                    phi_crossing(&w.history, &c.phi, now, c.sample_ms)
                };
                t.into_iter().chain(p).min()
            })
            .min()
    }

    fn schedule(&self, ctx: &mut Ctx<Node>) {
        match self.next_check(ctx.now()) {
            Some(t) => ctx.set_timer(Timer::Check, t - ctx.now()),
            None => ctx.cancel_timer(Timer::Check),
        }
    }

    fn on_heartbeat(&mut self, from: NodeId, ctx: &mut Ctx<Node>) {
        let now = ctx.now();
        let p = self.config.phi;
        let name = self.name(from);
        let Some(w) = self.watches.iter_mut().find(|w| w.node == from) else {
            return;
        };
        let silence = w.history.last.map(|l| now - l);
        w.history.heartbeat(now, &p);
        w.received += 1;
        let mut again = Vec::new();
        if w.timeout_suspects {
            w.timeout_suspects = false;
            again.push("timeout");
        }
        if w.phi_suspects {
            w.phi_suspects = false;
            again.push("φ");
        }
        if !again.is_empty() {
            ctx.note(format!(
                "trusts {name} again ({}): a heartbeat after {} ms of silence",
                again.join(" and "),
                silence.unwrap_or(0)
            ));
        }
        self.schedule(ctx);
    }

    fn on_check(&mut self, ctx: &mut Ctx<Node>) {
        let now = ctx.now();
        let c = self.config.clone();
        for i in 0..self.watches.len() {
            let name = self.name(self.watches[i].node);
            let w = &mut self.watches[i];
            let Some(last) = w.history.last else { continue };
            let silence = now - last;
            if !w.timeout_suspects && silence > c.timeout_ms {
                w.timeout_suspects = true;
                ctx.note(format!(
                    "timeout suspects {name}: no heartbeat for {silence} ms > {} ms",
                    c.timeout_ms
                ));
            }
            let phi = w.history.phi_at(now, &c.phi);
            if !w.phi_suspects && phi >= c.phi.threshold {
                w.phi_suspects = true;
                ctx.note(format!(
                    "φ suspects {name}: φ = {phi:.1} ≥ {} after {silence} ms of silence",
                    c.phi.threshold
                ));
            }
        }
        self.schedule(ctx);
    }
}

impl Monitored {
    fn beat(&mut self, ctx: &mut Ctx<Node>) {
        self.seq += 1;
        ctx.send(self.monitor, Msg::Heartbeat { seq: self.seq });
        self.next_due = ctx.now() + self.interval_ms;
        ctx.set_timer(Timer::Heartbeat, self.interval_ms);
    }

    fn pause(&mut self, ms: Time, ctx: &mut Ctx<Node>) {
        let until = ctx.now().saturating_add(ms);
        let until = self.paused_until.map_or(until, |u| u.max(until));
        self.paused_until = Some(until);
        ctx.cancel_timer(Timer::Heartbeat);
        ctx.set_timer(Timer::PauseEnd, until - ctx.now());
        ctx.note(format!("pauses (stop-the-world) until {until} ms"));
    }

    fn resume(&mut self, ctx: &mut Ctx<Node>) {
        self.paused_until = None;
        let now = ctx.now();
        if self.next_due <= now {
            ctx.note("resumes: the overdue heartbeat goes out now");
            self.beat(ctx);
        } else {
            ctx.note("resumes");
            ctx.set_timer(Timer::Heartbeat, self.next_due - now);
        }
    }
}

impl Protocol for Node {
    type Msg = Msg;
    type Timer = Timer;
    type Request = Request;
    type Response = Response;
    type Command = Command;
    type View = View;

    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        if let Node::Monitored(m) = self {
            for (i, &(at, _)) in m.plan.iter().enumerate() {
                ctx.set_timer(Timer::PauseAt(i), at);
            }
            m.beat(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        match (self, msg) {
            (Node::Monitor(m), Msg::Heartbeat { .. }) => m.on_heartbeat(from, ctx),
            (Node::Monitored(_), Msg::Heartbeat { .. }) => {}
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Self>) {
        match (self, timer) {
            (Node::Monitor(m), Timer::Check) => m.on_check(ctx),
            (Node::Monitored(m), Timer::Heartbeat) if m.paused_until.is_none() => m.beat(ctx),
            (Node::Monitored(m), Timer::PauseAt(i)) => {
                if let Some(&(_, ms)) = m.plan.get(i) {
                    m.pause(ms, ctx);
                }
            }
            (Node::Monitored(m), Timer::PauseEnd) => m.resume(ctx),
            _ => {}
        }
    }

    fn on_request(&mut self, _op: OpId, request: Request, _ctx: &mut Ctx<Self>) {
        match request {}
    }

    fn on_command(&mut self, command: Command, ctx: &mut Ctx<Self>) {
        match (self, command) {
            (Node::Monitored(m), Command::Pause { ms }) => m.pause(ms, ctx),
            (Node::Monitor(_), Command::Pause { .. }) => {}
        }
    }

    /// Nothing is durable: a monitor forgets its histories and verdicts, a monitored node
    /// its count and any pause (its planned pauses' timers are lost with the crash).
    fn on_crash(&mut self) {
        match self {
            Node::Monitor(m) => *m = Monitor::new(m.config.clone(), m.names.clone()),
            Node::Monitored(m) => {
                m.seq = 0;
                m.paused_until = None;
            }
        }
    }

    /// A monitored node starts heartbeating again at once; a monitor waits for heartbeats.
    fn on_restart(&mut self, ctx: &mut Ctx<Self>) {
        if let Node::Monitored(m) = self {
            m.beat(ctx);
        }
    }

    fn view(&self) -> View {
        match self {
            Node::Monitor(m) => View::Monitor {
                watches: m
                    .watches
                    .iter()
                    .map(|w| WatchView {
                        node: m.name(w.node),
                        last_heartbeat: w.history.last,
                        received: w.received,
                        timeout_suspects: w.timeout_suspects,
                        phi_suspects: w.phi_suspects,
                    })
                    .collect(),
            },
            Node::Monitored(m) => View::Monitored {
                sent: m.seq,
                paused_until: m.paused_until,
            },
        }
    }
}

/// A planned pause in a scenario file: `node` freezes at `at_ms` for `ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseSpec {
    pub node: String,
    pub at_ms: Time,
    pub ms: Time,
}

/// A failure-detection scenario as lesson files write it. Node ids: the monitor is 0, the
/// monitored nodes follow in file order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureDetectorScenario {
    /// Seed of the run (latencies, loss).
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration_ms: Time,
    /// The monitor's name.
    #[serde(default = "default_monitor")]
    pub monitor: String,
    /// The monitored nodes' names (1 to 5).
    pub nodes: Vec<String>,
    /// Heartbeat period, ms (> 0).
    #[serde(default = "default_interval")]
    pub interval_ms: Time,
    #[serde(default = "default_latency")]
    pub latency_ms: Time,
    #[serde(default)]
    pub jitter_ms: Time,
    #[serde(default)]
    pub links: Vec<NamedLink>,
    #[serde(default)]
    pub loss: f64,
    /// The monitor's sampling period, ms (> 0).
    #[serde(default = "default_sample")]
    pub sample_ms: Time,
    /// The fixed-timeout detector's timeout, ms (> 0).
    #[serde(default = "default_timeout")]
    pub timeout_ms: Time,
    /// φ threshold (> 0, at most [`MAX_THRESHOLD`]).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    #[serde(default = "default_window")]
    pub max_sample_size: usize,
    #[serde(default = "default_min_std")]
    pub min_std_deviation_ms: Time,
    #[serde(default)]
    pub acceptable_heartbeat_pause_ms: Time,
    /// Defaults to `interval_ms` (as Akka: the heartbeat interval).
    #[serde(default)]
    pub first_heartbeat_estimate_ms: Option<Time>,
    /// Planned stop-the-world pauses.
    #[serde(default)]
    pub pauses: Vec<PauseSpec>,
}

/// The highest φ threshold a scenario may set (φ = 50: one chance in 10⁵⁰).
pub const MAX_THRESHOLD: f64 = 50.0;
/// The longest window a scenario may set.
pub const MAX_WINDOW: usize = 10_000;

fn default_duration() -> Time {
    3_000
}
fn default_monitor() -> String {
    "monitor".into()
}
fn default_interval() -> Time {
    100
}
fn default_latency() -> Time {
    10
}
fn default_sample() -> Time {
    10
}
fn default_timeout() -> Time {
    250
}
fn default_threshold() -> f64 {
    8.0
}
fn default_window() -> usize {
    100
}
fn default_min_std() -> Time {
    10
}

impl FailureDetectorScenario {
    /// A monitor and `n` nodes `node-1`…, defaults elsewhere (heartbeats every 100 ms,
    /// 10 ms latency, timeout 250 ms, φ threshold 8).
    pub fn basic(n: usize, seed: u64) -> FailureDetectorScenario {
        FailureDetectorScenario {
            seed,
            duration_ms: default_duration(),
            monitor: default_monitor(),
            nodes: (1..=n).map(|i| format!("node-{i}")).collect(),
            interval_ms: default_interval(),
            latency_ms: default_latency(),
            jitter_ms: 0,
            links: Vec::new(),
            loss: 0.0,
            sample_ms: default_sample(),
            timeout_ms: default_timeout(),
            threshold: default_threshold(),
            max_sample_size: default_window(),
            min_std_deviation_ms: default_min_std(),
            acceptable_heartbeat_pause_ms: 0,
            first_heartbeat_estimate_ms: None,
            pauses: Vec::new(),
        }
    }

    /// All names in id order: the monitor, then the monitored nodes.
    pub fn names(&self) -> Vec<String> {
        std::iter::once(self.monitor.clone())
            .chain(self.nodes.iter().cloned())
            .collect()
    }

    /// The id of a named node, or an error listing the known names.
    pub fn node(&self, name: &str) -> Result<NodeId, String> {
        scenario::node_id(&self.names(), name)
    }

    /// The φ detector's parameters.
    pub fn phi_params(&self) -> PhiParams {
        PhiParams {
            threshold: self.threshold,
            max_sample_size: self.max_sample_size,
            min_std_deviation_ms: self.min_std_deviation_ms as f64,
            acceptable_heartbeat_pause_ms: self.acceptable_heartbeat_pause_ms as f64,
            first_heartbeat_estimate_ms: self
                .first_heartbeat_estimate_ms
                .unwrap_or(self.interval_ms) as f64,
        }
    }

    /// The monitor's configuration.
    pub fn config(&self) -> MonitorConfig {
        MonitorConfig {
            watched: (1..=self.nodes.len()).collect(),
            timeout_ms: self.timeout_ms,
            phi: self.phi_params(),
            sample_ms: self.sample_ms,
        }
    }

    /// Checks the scenario and builds the run's setup. Errors: 0 or more than 5 monitored
    /// nodes, bad names, a zero interval, sample period, timeout, window, deviation or
    /// estimate, a threshold outside `(0, 50]`, times beyond a simulated hour, a pause of an
    /// unknown node or of the monitor, or a pause of 0 ms.
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        if self.nodes.is_empty() || self.nodes.len() > 5 {
            return Err(format!(
                "{} monitored nodes: a failure-detection run watches 1 to 5",
                self.nodes.len()
            ));
        }
        let names = self.names();
        scenario::check_names(&names)?;
        for (what, v) in [
            ("interval_ms", self.interval_ms),
            ("sample_ms", self.sample_ms),
            ("timeout_ms", self.timeout_ms),
            ("min_std_deviation_ms", self.min_std_deviation_ms),
        ] {
            if v == 0 {
                return Err(format!("{what} must be positive"));
            }
            scenario::check_time(what, v)?;
        }
        scenario::check_time("duration_ms", self.duration_ms)?;
        scenario::check_time(
            "acceptable_heartbeat_pause_ms",
            self.acceptable_heartbeat_pause_ms,
        )?;
        if let Some(e) = self.first_heartbeat_estimate_ms {
            if e == 0 {
                return Err("first_heartbeat_estimate_ms must be positive".into());
            }
            scenario::check_time("first_heartbeat_estimate_ms", e)?;
        }
        if !(self.threshold > 0.0 && self.threshold <= MAX_THRESHOLD) {
            return Err(format!(
                "threshold = {}: a φ threshold is above 0 and at most {MAX_THRESHOLD}",
                self.threshold
            ));
        }
        if self.max_sample_size == 0 || self.max_sample_size > MAX_WINDOW {
            return Err(format!(
                "max_sample_size = {}: the window holds 1 to {MAX_WINDOW} intervals",
                self.max_sample_size
            ));
        }
        let mut plans: Vec<Vec<(Time, Time)>> = vec![Vec::new(); self.nodes.len()];
        for p in &self.pauses {
            let id = self.node(&p.node).map_err(|e| format!("pauses: {e}"))?;
            if id == 0 {
                return Err(format!(
                    "pauses: \"{}\" is the monitor; only monitored nodes pause",
                    p.node
                ));
            }
            if p.ms == 0 {
                return Err(format!("pauses: a pause of {} lasts 0 ms", p.node));
            }
            scenario::check_time("pauses: at_ms", p.at_ms)?;
            scenario::check_time("pauses: ms", p.ms)?;
            plans[id - 1].push((p.at_ms, p.ms));
        }
        let network = scenario::network(
            &names,
            self.latency_ms,
            self.jitter_ms,
            &self.links,
            self.loss,
        )?;
        let info = |name: &String| NodeInfo {
            name: name.clone(),
            role: NodeRole::Server,
            place: None,
            clock: Default::default(),
        };
        let nodes = names.iter().map(info).collect();
        let mut protocols = vec![Node::Monitor(Monitor::new(self.config(), names.clone()))];
        for plan in plans {
            protocols.push(Node::Monitored(Monitored {
                monitor: 0,
                interval_ms: self.interval_ms,
                seq: 0,
                next_due: 0,
                paused_until: None,
                plan,
            }));
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

/// Presentation mode's prepared failures, computed at the cursor: 1 pause the first
/// monitored node that is up for 300 ms (a GC pause: a false suspicion for a tight
/// detector), 2 crash it (a real failure: watch the detection time), 3 restart every node
/// that is down.
pub fn prepared(
    engine: &crate::engine::Engine<Node>,
    cursor: Option<usize>,
) -> Vec<super::Prepared<Node>> {
    use crate::engine::Action;
    let (_, w) = super::prepared::world_at_cursor(engine, cursor);
    let name = |n: NodeId| {
        engine
            .nodes()
            .get(n)
            .map_or_else(|| format!("node {n}"), |i| i.name.clone())
    };
    let target = (1..w.nodes.len()).find(|&n| w.up.get(n) == Some(&true));
    let mut v = Vec::new();
    match target {
        Some(n) => {
            v.push(super::Prepared {
                label: format!("pause {} for 300 ms (a GC pause)", name(n)),
                actions: vec![Action::Command {
                    node: n,
                    command: Command::Pause { ms: 300 },
                }],
            });
            v.push(super::Prepared {
                label: format!("crash {}", name(n)),
                actions: vec![Action::Crash { node: n }],
            });
        }
        None => v.push(super::Prepared {
            label: "nothing to pause or crash: every monitored node is down".into(),
            actions: Vec::new(),
        }),
    }
    let mut restart = super::prepared::heal_all(&w);
    restart.label = "restart every node that is down".into();
    v.push(restart);
    v
}
