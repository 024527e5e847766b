//! Logical clocks as an implementation keeps them: nodes exchange messages, and each node
//! maintains a Lamport clock (Lamport 1978, IR1/IR2) and a vector clock (Fidge 1988;
//! Mattern 1989) in its own state, piggybacking them on every message.
//!
//! - Every event at a node ticks both clocks: a local event, a send (the event that sends
//!   it), a receive (after merging the message's clocks: Lamport `max(own, msg)`, vector
//!   entry-wise max), a crash and a restart.
//! - Messages are sent by operator commands ([`Command::Send`], [`Command::Local`]), so a
//!   lesson or a lecturer scripts exactly who talks to whom, or by optional random traffic
//!   ([`Traffic`]) seeded from the scenario.
//! - Both clocks are durable (a restarted node continues its counters). Each node also
//!   reads its physical clock ([`crate::PhysicalClock`]) at every event, so a lesson can
//!   show physical timestamps ordering a receive before its own send.
//!
//! The engine computes the same clocks for every model from the trace
//! ([`crate::causality`]); the tests check that this node's own clocks agree with it.

use super::scenario::{self, NamedLink};
use crate::engine::{Ctx, NodeInfo, NodeRole, PhysicalClock, Protocol, Setup};
use crate::{Action, Describe, Intervention, NodeId, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A message with the clocks the sender piggybacks on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Msg {
    /// What the lesson calls it, e.g. `"m1"`.
    pub label: String,
    /// The sender's Lamport counter after its send event.
    pub lamport: u64,
    /// The sender's vector clock after its send event (indexed by node id).
    pub vector: Vec<u64>,
    /// The sender's physical clock reading at the send, in ms.
    pub physical_ms: i64,
}

impl Describe for Msg {
    fn label(&self) -> String {
        self.label.clone()
    }
    fn kind(&self) -> &'static str {
        "message"
    }
    fn fields(&self) -> Vec<(String, String)> {
        vec![
            ("message".into(), self.label.clone()),
            ("Lamport timestamp".into(), self.lamport.to_string()),
            ("vector clock".into(), fmt_vector(&self.vector)),
            (
                "sender's physical clock".into(),
                format!("{} ms", self.physical_ms),
            ),
        ]
    }
}

fn fmt_vector(v: &[u64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// No client requests in this model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {}

impl Describe for Request {
    fn label(&self) -> String {
        match *self {}
    }
}

/// No client responses in this model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Response {}

impl Describe for Response {
    fn label(&self) -> String {
        match *self {}
    }
}

/// What a lesson or a lecturer makes a node do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case")]
pub enum Command {
    /// One event that sends a message labelled `label` to each node in `to`.
    Send { to: Vec<NodeId>, label: String },
    /// A local event (no message), e.g. "write x".
    Local { label: String },
}

impl Describe for Command {
    fn label(&self) -> String {
        match self {
            Command::Send { label, .. } => format!("send {label}"),
            Command::Local { label } => label.clone(),
        }
    }
}

/// Random traffic: each node's timer fires every `every_ms` on average (uniform in
/// `[every_ms / 2, 3 · every_ms / 2]`), `count` times; each time it sends to one random
/// other node with probability `send_probability`, or does a local event.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    #[serde(default = "default_every")]
    pub every_ms: Time,
    #[serde(default = "half")]
    pub send_probability: f64,
    /// Traffic events per node.
    #[serde(default = "default_count")]
    pub count: u32,
}

fn default_every() -> Time {
    50
}
fn half() -> f64 {
    0.5
}
fn default_count() -> u32 {
    6
}

/// Timer tags.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Timer {
    /// The next random-traffic event.
    Traffic,
}

/// A node's visible state: its clocks after its latest event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct View {
    pub lamport: u64,
    pub vector: Vec<u64>,
    /// The physical clock reading at the latest event, ms (`None` before any event).
    pub physical_ms: Option<i64>,
    /// Events so far.
    pub events: u64,
}

impl Describe for View {
    fn label(&self) -> String {
        format!("L={} V={}", self.lamport, fmt_vector(&self.vector))
    }
    fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("Lamport clock".into(), self.lamport.to_string()),
            ("vector clock".into(), fmt_vector(&self.vector)),
        ];
        if let Some(p) = self.physical_ms {
            f.push(("physical clock".into(), format!("{p} ms")));
        }
        f
    }
}

/// One node.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    me: NodeId,
    /// Durable: the Lamport counter.
    lamport: u64,
    /// Durable: the vector clock.
    vector: Vec<u64>,
    physical_ms: Option<i64>,
    events: u64,
    traffic: Option<Traffic>,
    traffic_done: u32,
    rng: ChaCha8Rng,
    sent: u64,
    names: Vec<String>,
}

impl Node {
    /// Ticks both clocks for an event at this node (after any merge).
    fn tick(&mut self, physical_ms: Option<i64>) {
        self.lamport += 1;
        self.vector[self.me] += 1;
        self.events += 1;
        if physical_ms.is_some() {
            self.physical_ms = physical_ms;
        }
    }

    fn send_to(&mut self, to: &[NodeId], label: String, ctx: &mut Ctx<Self>) {
        let physical_ms = ctx.physical_clock_ms();
        for &t in to {
            ctx.send(
                t,
                Msg {
                    label: label.clone(),
                    lamport: self.lamport,
                    vector: self.vector.clone(),
                    physical_ms,
                },
            );
        }
        self.sent += 1;
    }

    fn schedule_traffic(&mut self, ctx: &mut Ctx<Self>) {
        if let Some(t) = self.traffic {
            if self.traffic_done < t.count {
                let every = t.every_ms.max(2);
                let after = self.rng.random_range(every / 2..=every * 3 / 2).max(1);
                ctx.set_timer(Timer::Traffic, after);
            }
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
        self.schedule_traffic(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        self.lamport = self.lamport.max(msg.lamport);
        for (a, b) in self.vector.iter_mut().zip(&msg.vector) {
            *a = (*a).max(*b);
        }
        self.tick(Some(ctx.physical_clock_ms()));
    }

    fn on_timer(&mut self, _timer: Timer, ctx: &mut Ctx<Self>) {
        self.tick(Some(ctx.physical_clock_ms()));
        let Some(t) = self.traffic else { return };
        let n = self.vector.len();
        if n > 1 && self.rng.random::<f64>() < t.send_probability {
            let mut to = self.rng.random_range(0..n - 1);
            if to >= self.me {
                to += 1;
            }
            let label = format!("{}{}", self.names[self.me], self.sent + 1);
            self.send_to(&[to], label, ctx);
        }
        self.traffic_done += 1;
        self.schedule_traffic(ctx);
    }

    fn on_command(&mut self, command: Command, ctx: &mut Ctx<Self>) {
        self.tick(Some(ctx.physical_clock_ms()));
        match command {
            Command::Send { to, label } => {
                let to: Vec<NodeId> = to
                    .into_iter()
                    .filter(|&t| t != self.me && t < self.vector.len())
                    .collect();
                if to.is_empty() {
                    ctx.note(format!("{label}: no other node to send to"));
                } else {
                    self.send_to(&to, label, ctx);
                }
            }
            Command::Local { label } => ctx.note(label),
        }
    }

    fn on_crash(&mut self) {
        // A crash is an event of the node too; the clocks are durable.
        self.tick(None);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<Self>) {
        self.tick(Some(ctx.physical_clock_ms()));
        self.schedule_traffic(ctx);
    }

    fn view(&self) -> View {
        View {
            lamport: self.lamport,
            vector: self.vector.clone(),
            physical_ms: self.physical_ms,
            events: self.events,
        }
    }
}

/// A node of a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockedNode {
    pub name: String,
    #[serde(default)]
    pub place: Option<String>,
    /// Physical clock skew, ms (positive: ahead).
    #[serde(default)]
    pub clock_offset_ms: i64,
    /// Physical clock drift, parts per million (positive: fast).
    #[serde(default)]
    pub clock_drift_ppm: i64,
}

/// A logical-clocks scenario as written in lesson files (nodes by name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClocksScenario {
    #[serde(default)]
    pub seed: u64,
    /// Simulated ms to run (interventions extend it).
    #[serde(default = "default_duration")]
    pub duration_ms: Time,
    /// 2–8 nodes.
    pub nodes: Vec<ClockedNode>,
    /// Default one-way latency in simulated ms, and its jitter.
    #[serde(default = "default_latency")]
    pub latency_ms: Time,
    #[serde(default)]
    pub jitter_ms: Time,
    #[serde(default)]
    pub links: Vec<NamedLink>,
    /// Loss probability of every message, 0–1.
    #[serde(default)]
    pub loss: f64,
    /// Optional random traffic.
    #[serde(default)]
    pub traffic: Option<Traffic>,
}

fn default_duration() -> Time {
    300
}
fn default_latency() -> Time {
    10
}

impl ClocksScenario {
    /// Node names in id order.
    pub fn names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// The id of a named node, or an error listing the known names.
    pub fn node(&self, name: &str) -> Result<NodeId, String> {
        scenario::node_id(&self.names(), name)
    }

    /// Checks the scenario and builds the engine setup. Errors say what is wrong: the
    /// number of nodes, a duplicate name, an unknown node in a link, a bad probability.
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        let names = self.names();
        if !(2..=8).contains(&names.len()) {
            return Err(format!("{} nodes: a scenario has 2 to 8", names.len()));
        }
        scenario::check_names(&names)?;
        let network = scenario::network(
            &names,
            self.latency_ms,
            self.jitter_ms,
            &self.links,
            self.loss,
        )?;
        scenario::check_time("duration_ms", self.duration_ms)?;
        if let Some(t) = self.traffic {
            scenario::check_time("traffic.every_ms", t.every_ms)?;
            if !(0.0..=1.0).contains(&t.send_probability) {
                return Err(format!(
                    "traffic.send_probability = {} is not a probability between 0 and 1",
                    t.send_probability
                ));
            }
        }
        let n = names.len();
        let nodes = self
            .nodes
            .iter()
            .map(|c| NodeInfo {
                name: c.name.clone(),
                role: NodeRole::Server,
                place: c.place.clone(),
                clock: PhysicalClock {
                    offset_ms: c.clock_offset_ms,
                    drift_ppm: c.clock_drift_ppm,
                },
            })
            .collect();
        let protocols = (0..n)
            .map(|me| Node {
                me,
                lamport: 0,
                vector: vec![0; n],
                physical_ms: None,
                events: 0,
                traffic: self.traffic,
                traffic_done: 0,
                rng: ChaCha8Rng::seed_from_u64(
                    self.seed ^ 0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(me as u64 + 1),
                ),
                sent: 0,
                names: names.clone(),
            })
            .collect();
        Ok(Setup {
            nodes,
            protocols,
            network,
            seed: self.seed,
            duration_ms: self.duration_ms,
        })
    }
}

/// Convenience: at `at`, node `from` sends a message labelled `label` to each of `to`.
pub fn send(at: Time, from: NodeId, to: &[NodeId], label: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Command {
            node: from,
            command: Command::Send {
                to: to.to_vec(),
                label: label.into(),
            },
        },
    )
}

/// Convenience: at `at`, a local event labelled `label` at `node`.
pub fn local(at: Time, node: NodeId, label: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Command {
            node,
            command: Command::Local {
                label: label.into(),
            },
        },
    )
}
