//! The discrete-event engine: simulated time, the event queue, message delivery through
//! the [`network`](crate::network), crashes and restarts, interventions, the recorded
//! trace, and replay from checkpoints.
//!
//! Ordering rule (what makes runs reproducible): the queue is ordered by
//! `(time, class, sequence)`. Ordinary events (deliveries, drops, timers) have class 0 and
//! are ordered by when they were scheduled; interventions have class 1 and are ordered by
//! their position in the run's intervention list. So an intervention at time `t` happens
//! after every ordinary event at `t`, and adding one at `t` never changes the trace up to
//! and including `t`.

use crate::network::{link, Latency, NetworkConfig, NetworkState};
use crate::trace::{DropReason, Event, EventKind, Sent, Trace};
use crate::{Describe, MessageId, NodeId, OpId, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Debug;

/// A protocol: the state machine of one node (server or client) of a model.
///
/// It never sees time, the network or the UI: handlers get an input and write effects
/// into the [`Ctx`]. The engine decides when and whether effects happen.
pub trait Protocol: Clone + Debug + Send + Sync + 'static {
    /// Messages between nodes.
    type Msg: Clone + Debug + PartialEq + Serialize + Describe + Send + Sync;
    /// Timer tags; setting a timer equal to a pending one of the same node replaces it.
    type Timer: Clone + Debug + PartialEq + Serialize + Send + Sync;
    /// Client requests, given to client nodes by [`Action::Request`] interventions.
    type Request: Clone + Debug + PartialEq + Serialize + DeserializeOwned + Describe + Send + Sync;
    /// Responses that complete client requests.
    type Response: Clone + Debug + PartialEq + Serialize + Describe + Send + Sync;
    /// Operator commands (e.g. "promote this follower").
    type Command: Clone + Debug + PartialEq + Serialize + DeserializeOwned + Describe + Send + Sync;
    /// What the UI may show of the node's state.
    type View: Clone + Debug + PartialEq + Serialize + Describe + Send + Sync;

    /// Called once at time 0.
    fn on_start(&mut self, _ctx: &mut Ctx<Self>) {}
    /// A message from `from` arrived.
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<Self>);
    /// A timer set earlier with [`Ctx::set_timer`] fired.
    fn on_timer(&mut self, _timer: Self::Timer, _ctx: &mut Ctx<Self>) {}
    /// A client operation begins at this (client) node; complete it with [`Ctx::reply`].
    fn on_request(&mut self, _op: OpId, _request: Self::Request, _ctx: &mut Ctx<Self>) {}
    /// An operator command.
    fn on_command(&mut self, _command: Self::Command, _ctx: &mut Ctx<Self>) {}
    /// The node crashed: forget all volatile state, keep only what is durable.
    fn on_crash(&mut self);
    /// The node restarts from its durable state.
    fn on_restart(&mut self, _ctx: &mut Ctx<Self>) {}
    /// The node's visible state.
    fn view(&self) -> Self::View;
}

/// An effect a protocol asks for.
#[derive(Clone, Debug)]
enum Effect<P: Protocol> {
    Send { to: NodeId, msg: P::Msg },
    SetTimer { timer: P::Timer, after_ms: Time },
    CancelTimer { timer: P::Timer },
    Reply { op: OpId, response: P::Response },
    Note(String),
}

/// The handle a protocol handler writes its effects into.
pub struct Ctx<P: Protocol> {
    me: NodeId,
    now: Time,
    clock: PhysicalClock,
    effects: Vec<Effect<P>>,
}

impl<P: Protocol> Ctx<P> {
    fn new(me: NodeId, now: Time, clock: PhysicalClock) -> Self {
        Ctx {
            me,
            now,
            clock,
            effects: Vec::new(),
        }
    }
    /// The reading of this node's physical (time-of-day) clock, in milliseconds: simulated
    /// time plus the node's skew and drift ([`PhysicalClock::read`]). What a real node gets
    /// from `clock_gettime(CLOCK_REALTIME)`; protocols that timestamp data (last-write-wins)
    /// use it. It may differ between nodes and may even be negative.
    pub fn physical_clock_ms(&self) -> i64 {
        self.clock.read(self.now)
    }
    /// A context not attached to any run, for driving one handler of a protocol directly
    /// (unit tests of a protocol's rules, tools); inspect what it asked for with
    /// [`Ctx::sent`]. Its physical clock is exact.
    pub fn detached(me: NodeId, now: Time) -> Self {
        Ctx::new(me, now, PhysicalClock::default())
    }
    /// The messages the handler sent so far, in order, with their destinations.
    pub fn sent(&self) -> Vec<(NodeId, &P::Msg)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { to, msg } => Some((*to, msg)),
                _ => None,
            })
            .collect()
    }
    /// The id of the node being run.
    pub fn me(&self) -> NodeId {
        self.me
    }
    /// The current simulated time, ms. Protocols use it only for what they show (e.g. when
    /// a timer was set); behaviour depends on timers, not on reading the time.
    pub fn now(&self) -> Time {
        self.now
    }
    /// Sends `msg` to `to`; the network decides when (and whether) it arrives.
    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        self.effects.push(Effect::Send { to, msg });
    }
    /// Fires `timer` after `after_ms` simulated milliseconds, replacing an equal pending timer.
    pub fn set_timer(&mut self, timer: P::Timer, after_ms: Time) {
        self.effects.push(Effect::SetTimer { timer, after_ms });
    }
    /// Cancels a pending timer equal to `timer`, if any.
    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }
    /// Completes client operation `op` with `response` (client nodes only).
    pub fn reply(&mut self, op: OpId, response: P::Response) {
        self.effects.push(Effect::Reply { op, response });
    }
    /// Records a state change in words on the trace (e.g. "promoted to leader").
    pub fn note(&mut self, text: impl Into<String>) {
        self.effects.push(Effect::Note(text.into()));
    }
}

/// Whether a node is a server (runs the protocol) or a client (issues operations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    Server,
    Client,
}

/// A node's name and role, for display.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Unique, e.g. `"leader"`, `"follower-1"`, `"alice"`.
    pub name: String,
    pub role: NodeRole,
    /// Where it runs, for display (e.g. `"Frankfurt"`).
    #[serde(default)]
    pub place: Option<String>,
    /// The node's physical clock (skew and drift); perfect by default.
    #[serde(default)]
    pub clock: PhysicalClock,
}

/// A node's physical (time-of-day) clock relative to true simulated time: a constant skew
/// (offset) and a drift rate. Reading at simulated time `t` ms gives
/// `t + offset_ms + t · drift_ppm / 1,000,000` (rounded down). Quartz clocks drift by
/// tens of ppm and NTP-synchronised clocks are typically off by milliseconds (DDIA ch. 8,
/// "Unreliable Clocks"); lessons exaggerate both to make the effect visible.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhysicalClock {
    /// Offset from true time, in ms (positive: the clock is ahead).
    #[serde(default)]
    pub offset_ms: i64,
    /// Drift in parts per million (positive: the clock runs fast).
    #[serde(default)]
    pub drift_ppm: i64,
}

impl PhysicalClock {
    /// Whether the clock is exact (no skew, no drift).
    pub fn is_exact(&self) -> bool {
        self.offset_ms == 0 && self.drift_ppm == 0
    }
    /// The clock's reading at simulated time `t` (ms), saturating at `i64`'s bounds.
    pub fn read(&self, t: Time) -> i64 {
        let drift = (t as i128 * self.drift_ppm as i128).div_euclid(1_000_000);
        let reading = t as i128 + self.offset_ms as i128 + drift;
        reading.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }
    /// The clock in words, e.g. `"+30 ms, +200 ppm"`; `"exact"` when perfect.
    pub fn describe(&self) -> String {
        match (self.offset_ms, self.drift_ppm) {
            (0, 0) => "exact".into(),
            (o, 0) => format!("{o:+} ms"),
            (0, d) => format!("{d:+} ppm"),
            (o, d) => format!("{o:+} ms, {d:+} ppm"),
        }
    }
}

/// Everything needed to start a run: nodes, their initial protocol states, the network,
/// the seed and the run's duration.
#[derive(Clone, Debug)]
pub struct Setup<P: Protocol> {
    pub nodes: Vec<NodeInfo>,
    /// One initial state per node, same order as `nodes`.
    pub protocols: Vec<P>,
    pub network: NetworkConfig,
    /// Seed of the run's random generator (latencies, loss).
    pub seed: u64,
    /// How long to simulate, in simulated milliseconds. Interventions extend it: the run
    /// lasts at least [`SETTLE_MS`] past the last intervention.
    pub duration_ms: Time,
}

/// How long a run continues after its last intervention, in simulated milliseconds.
pub const SETTLE_MS: Time = 1_000;
/// Safety cap: a run stops after this many events (and says so).
pub const MAX_EVENTS: usize = 200_000;
/// The engine keeps a checkpoint of the world every this many events.
pub const CHECKPOINT_EVERY: usize = 128;

/// Something done to a run from outside at a simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "", tag = "type", rename_all = "kebab-case")]
pub enum Action<P: Protocol> {
    /// Crash a node: volatile state lost, timers cancelled, in-flight messages to it lost.
    Crash { node: NodeId },
    /// Restart a crashed node from its durable state.
    Restart { node: NodeId },
    /// Split the network: nodes in different groups cannot reach each other. Nodes in no
    /// group reach everyone. Replaces any earlier partition.
    Partition { groups: Vec<Vec<NodeId>> },
    /// Remove the partition (cut links stay cut).
    Heal,
    /// Cut the link between two nodes (both directions).
    CutLink { a: NodeId, b: NodeId },
    /// Restore a cut link.
    RestoreLink { a: NodeId, b: NodeId },
    /// Set a link's latency (`None`: back to the scenario's).
    SetLinkDelay {
        a: NodeId,
        b: NodeId,
        latency: Option<Latency>,
    },
    /// Drop an in-flight message.
    DropMessage { id: MessageId },
    /// A client operation, started at `client`; `label` names it for lessons (e.g. "bob-read").
    Request {
        client: NodeId,
        request: P::Request,
        #[serde(default)]
        label: Option<String>,
    },
    /// An operator command to a node.
    Command { node: NodeId, command: P::Command },
}

/// An [`Action`] at a simulated time (ms).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Intervention<P: Protocol> {
    pub at: Time,
    #[serde(flatten)]
    pub action: Action<P>,
}

impl<P: Protocol> Intervention<P> {
    pub fn new(at: Time, action: Action<P>) -> Self {
        Intervention { at, action }
    }
}

type Key = (Time, u8, u64);

#[derive(Clone, Debug, PartialEq)]
enum Item<P: Protocol> {
    Deliver(MessageId),
    Timer { node: NodeId, timer: P::Timer },
    Intervention(usize),
}

#[derive(Clone, Debug, PartialEq)]
struct InFlight<P: Protocol> {
    from: NodeId,
    to: NodeId,
    payload: P::Msg,
    sent_at: Time,
    fate: Option<DropReason>,
    key: Key,
}

/// The complete state of a simulation at one point: node states, the queue, messages in
/// flight, the network and the random generator. Cloning it is a checkpoint; two worlds
/// compare equal when every part of them (including the generator's state) is equal.
#[derive(Clone, Debug, PartialEq)]
pub struct World<P: Protocol> {
    /// Time of the last processed event, simulated ms.
    pub now: Time,
    /// Protocol state per node.
    pub nodes: Vec<P>,
    /// Whether each node is up (not crashed).
    pub up: Vec<bool>,
    pub net: NetworkState,
    queue: BTreeMap<Key, Item<P>>,
    /// Pending timers `(node, timer, queue key)`: an index into `queue`, so setting and
    /// cancelling a timer does not scan the whole queue.
    timers: Vec<(NodeId, P::Timer, Key)>,
    inflight: BTreeMap<MessageId, InFlight<P>>,
    rng: ChaCha8Rng,
    /// Each node's physical clock (from the setup's [`NodeInfo`]).
    clocks: Vec<PhysicalClock>,
    next_msg: MessageId,
    next_op: OpId,
    next_seq: u64,
    views: Vec<P::View>,
}

impl<P: Protocol> World<P> {
    fn new(setup: &Setup<P>) -> Self {
        let views = setup.protocols.iter().map(|p| p.view()).collect();
        World {
            now: 0,
            nodes: setup.protocols.clone(),
            up: vec![true; setup.protocols.len()],
            net: NetworkState::new(setup.network.clone()),
            queue: BTreeMap::new(),
            timers: Vec::new(),
            inflight: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(setup.seed),
            clocks: (0..setup.protocols.len())
                .map(|n| setup.nodes.get(n).map(|i| i.clock).unwrap_or_default())
                .collect(),
            next_msg: 0,
            next_op: 0,
            next_seq: 0,
            views,
        }
    }

    /// Messages currently in flight: `(id, from, to, sent_at, scheduled arrival)`.
    pub fn in_flight(&self) -> Vec<(MessageId, NodeId, NodeId, Time, Time)> {
        self.inflight
            .iter()
            .map(|(id, m)| (*id, m.from, m.to, m.sent_at, m.key.0))
            .collect()
    }

    fn push(&mut self, at: Time, item: Item<P>) -> Key {
        let key = (at, 0, self.next_seq);
        self.next_seq += 1;
        self.queue.insert(key, item);
        key
    }

    fn event(&self, node: Option<NodeId>, kind: EventKind<P>) -> Event<P> {
        Event {
            time: self.now,
            node,
            kind,
            sent: Vec::new(),
            returned: Vec::new(),
            dropped: Vec::new(),
            notes: Vec::new(),
            state: None,
        }
    }

    /// Runs a handler of node `n` and applies its effects to the world and to `ev`.
    fn run_node(&mut self, n: NodeId, ev: &mut Event<P>, f: impl FnOnce(&mut P, &mut Ctx<P>)) {
        let mut ctx = Ctx::new(n, self.now, self.clocks[n]);
        f(&mut self.nodes[n], &mut ctx);
        for effect in ctx.effects {
            match effect {
                Effect::Send { to, .. } if to >= self.nodes.len() => {
                    // Models validate the node ids their requests and commands carry; this
                    // only keeps a message to a node that does not exist from panicking.
                    ev.notes.push(format!(
                        "message to node {to} not sent: there is no such node"
                    ));
                }
                Effect::Send { to, msg } => {
                    let id = self.next_msg;
                    self.next_msg += 1;
                    let mut arrives = self
                        .now
                        .saturating_add(self.net.latency(n, to).sample(&mut self.rng));
                    if self.net.config.fifo {
                        let last = self.net.last_delivery.entry((n, to)).or_insert(0);
                        arrives = arrives.max(*last);
                        *last = arrives;
                    }
                    let lost = self.net.config.loss > 0.0
                        && self.rng.random::<f64>() < self.net.config.loss;
                    let fate = if lost {
                        Some(DropReason::Loss)
                    } else if !self.net.reachable(n, to) {
                        Some(DropReason::Partition)
                    } else {
                        None
                    };
                    let key = self.push(arrives, Item::Deliver(id));
                    self.inflight.insert(
                        id,
                        InFlight {
                            from: n,
                            to,
                            payload: msg.clone(),
                            sent_at: self.now,
                            fate,
                            key,
                        },
                    );
                    ev.sent.push(Sent {
                        id,
                        to,
                        payload: msg,
                        arrives_at: arrives,
                    });
                }
                Effect::SetTimer { timer, after_ms } => {
                    self.remove_timer(n, &timer);
                    let key = self.push(
                        self.now.saturating_add(after_ms),
                        Item::Timer {
                            node: n,
                            timer: timer.clone(),
                        },
                    );
                    self.timers.push((n, timer, key));
                }
                Effect::CancelTimer { timer } => self.remove_timer(n, &timer),
                Effect::Reply { op, response } => ev.returned.push((op, response)),
                Effect::Note(text) => ev.notes.push(text),
            }
        }
        self.record_view(n, ev);
    }

    fn record_view(&mut self, n: NodeId, ev: &mut Event<P>) {
        let view = self.nodes[n].view();
        if view != self.views[n] {
            self.views[n] = view.clone();
            ev.state = Some(view);
        }
    }

    fn remove_timer(&mut self, n: NodeId, timer: &P::Timer) {
        let queue = &mut self.queue;
        self.timers.retain(|(node, t, key)| {
            let hit = *node == n && t == timer;
            if hit {
                queue.remove(key);
            }
            !hit
        });
    }

    /// Processes the next queue item at or before `horizon`; returns its event, or `None`
    /// when nothing is left to do before the horizon.
    fn step(&mut self, interventions: &[Intervention<P>], horizon: Time) -> Option<Event<P>> {
        let (&key, _) = self.queue.iter().next()?;
        if key.0 > horizon {
            return None;
        }
        let item = self.queue.remove(&key).expect("key just seen");
        self.now = key.0;
        Some(match item {
            Item::Deliver(id) => self.deliver(id),
            Item::Timer { node, timer } => {
                self.timers.retain(|(_, _, k)| *k != key);
                let mut ev = self.event(
                    Some(node),
                    EventKind::Timer {
                        timer: timer.clone(),
                    },
                );
                self.run_node(node, &mut ev, |p, ctx| p.on_timer(timer, ctx));
                ev
            }
            Item::Intervention(i) => self.intervene(interventions[i].action.clone()),
        })
    }

    fn deliver(&mut self, id: MessageId) -> Event<P> {
        let m = self
            .inflight
            .remove(&id)
            .expect("queued message is in flight");
        let reason = m.fate.or_else(|| {
            if !self.net.reachable(m.from, m.to) {
                Some(DropReason::Partition)
            } else if !self.up[m.to] {
                Some(DropReason::ReceiverDown)
            } else {
                None
            }
        });
        if let Some(reason) = reason {
            return self.event(
                Some(m.to),
                EventKind::Drop {
                    id,
                    from: m.from,
                    payload: m.payload,
                    sent_at: m.sent_at,
                    reason,
                },
            );
        }
        let mut ev = self.event(
            Some(m.to),
            EventKind::Deliver {
                id,
                from: m.from,
                payload: m.payload.clone(),
                sent_at: m.sent_at,
            },
        );
        self.run_node(m.to, &mut ev, |p, ctx| p.on_message(m.from, m.payload, ctx));
        ev
    }

    fn ignored(&self, node: Option<NodeId>, what: &str, why: String) -> Event<P> {
        self.event(
            node,
            EventKind::Ignored {
                what: what.to_string(),
                why,
            },
        )
    }

    fn intervene(&mut self, action: Action<P>) -> Event<P> {
        let n_nodes = self.nodes.len();
        let bad = |n: NodeId| n >= n_nodes;
        match action {
            Action::Crash { node }
            | Action::Restart { node }
            | Action::Command { node, .. }
            | Action::Request { client: node, .. }
                if bad(node) =>
            {
                self.ignored(None, "intervention", format!("there is no node {node}"))
            }
            Action::Crash { node } => {
                if !self.up[node] {
                    return self.ignored(Some(node), "crash", "the node is already down".into());
                }
                self.up[node] = false;
                self.nodes[node].on_crash();
                let queue = &mut self.queue;
                self.timers.retain(|(t, _, key)| {
                    if *t == node {
                        queue.remove(key);
                    }
                    *t != node
                });
                let mut ev = self.event(Some(node), EventKind::Crash);
                let lost: Vec<MessageId> = self
                    .inflight
                    .iter()
                    .filter(|(_, m)| m.to == node)
                    .map(|(id, _)| *id)
                    .collect();
                for id in &lost {
                    let m = self.inflight.remove(id).expect("listed");
                    self.queue.remove(&m.key);
                }
                ev.dropped = lost;
                self.record_view(node, &mut ev);
                ev
            }
            Action::Restart { node } => {
                if self.up[node] {
                    return self.ignored(Some(node), "restart", "the node is already up".into());
                }
                self.up[node] = true;
                let mut ev = self.event(Some(node), EventKind::Restart);
                self.run_node(node, &mut ev, |p, ctx| p.on_restart(ctx));
                ev
            }
            Action::Partition { groups } => {
                self.net.partition = groups.clone();
                self.event(None, EventKind::Partition { groups })
            }
            Action::Heal => {
                self.net.partition.clear();
                self.event(None, EventKind::Heal)
            }
            Action::CutLink { a, b } => {
                self.net.cut.insert(link(a, b));
                self.event(None, EventKind::CutLink { a, b })
            }
            Action::RestoreLink { a, b } => {
                self.net.cut.remove(&link(a, b));
                self.event(None, EventKind::RestoreLink { a, b })
            }
            Action::SetLinkDelay { a, b, latency } => {
                match latency {
                    Some(l) => self.net.delay_overrides.insert(link(a, b), l),
                    None => self.net.delay_overrides.remove(&link(a, b)),
                };
                self.event(None, EventKind::SetLinkDelay { a, b, latency })
            }
            Action::DropMessage { id } => match self.inflight.remove(&id) {
                Some(m) => {
                    self.queue.remove(&m.key);
                    self.event(
                        Some(m.to),
                        EventKind::Drop {
                            id,
                            from: m.from,
                            payload: m.payload,
                            sent_at: m.sent_at,
                            reason: DropReason::Manual,
                        },
                    )
                }
                None => self.ignored(
                    None,
                    "drop message",
                    format!("message #{id} is not in flight"),
                ),
            },
            Action::Request {
                client,
                request,
                label,
            } => {
                if !self.up[client] {
                    return self.ignored(Some(client), "request", "the client is down".into());
                }
                let op = self.next_op;
                self.next_op += 1;
                let mut ev = self.event(
                    Some(client),
                    EventKind::Invoke {
                        op,
                        request: request.clone(),
                        label,
                    },
                );
                self.run_node(client, &mut ev, |p, ctx| p.on_request(op, request, ctx));
                ev
            }
            Action::Command { node, command } => {
                if !self.up[node] {
                    return self.ignored(Some(node), "command", "the node is down".into());
                }
                let mut ev = self.event(
                    Some(node),
                    EventKind::Command {
                        command: command.clone(),
                    },
                );
                self.run_node(node, &mut ev, |p, ctx| p.on_command(command, ctx));
                ev
            }
        }
    }
}

/// A run in progress: the setup, its interventions, the world now, the trace so far and
/// checkpoints for replay.
#[derive(Clone, Debug)]
pub struct Engine<P: Protocol> {
    nodes: Vec<NodeInfo>,
    duration_ms: Time,
    interventions: Vec<Intervention<P>>,
    /// The latest `at + SETTLE_MS` over the interventions (0 without any), simulated ms.
    settle_until: Time,
    world: World<P>,
    trace: Trace<P>,
    /// `(trace length, world)` pairs, ascending; the first is the world after start-up.
    checkpoints: Vec<(usize, World<P>)>,
    truncated: bool,
}

impl<P: Protocol> Engine<P> {
    /// Starts a run (time 0: every node's `on_start`) and simulates it to its end.
    pub fn new(setup: Setup<P>, interventions: Vec<Intervention<P>>) -> Self {
        let mut e = Self::start_with(setup, interventions);
        e.run_to_end();
        e
    }

    /// Starts a run with its interventions queued, without simulating past time 0: drive it
    /// with [`Engine::step`] or [`Engine::run_to_end`]. Stepping it to the end gives the same
    /// trace as [`Engine::new`].
    pub fn start_with(setup: Setup<P>, interventions: Vec<Intervention<P>>) -> Self {
        let mut e = Self::start(setup);
        for iv in interventions {
            e.queue_intervention(iv);
        }
        e
    }

    /// Starts a run without simulating past time 0; call [`Engine::run_to_end`].
    pub fn start(setup: Setup<P>) -> Self {
        let mut world = World::new(&setup);
        let mut trace = Vec::new();
        for n in 0..world.nodes.len() {
            let mut ev = world.event(Some(n), EventKind::Start);
            world.run_node(n, &mut ev, |p, ctx| p.on_start(ctx));
            if !ev.sent.is_empty() || ev.state.is_some() || !ev.notes.is_empty() {
                trace.push(ev);
            }
        }
        let checkpoints = vec![(trace.len(), world.clone())];
        Engine {
            nodes: setup.nodes,
            duration_ms: setup.duration_ms,
            interventions: Vec::new(),
            settle_until: 0,
            world,
            trace,
            checkpoints,
            truncated: false,
        }
    }

    /// Queues an intervention in the current world and in every checkpoint that precedes
    /// it, so replays from those checkpoints see it too.
    fn queue_intervention(&mut self, iv: Intervention<P>) {
        let i = self.interventions.len();
        let key = (iv.at, 1, i as u64);
        self.world.queue.insert(key, Item::Intervention(i));
        for (_, w) in self.checkpoints.iter_mut().filter(|(_, w)| w.now <= iv.at) {
            w.queue.insert(key, Item::Intervention(i));
        }
        self.settle_until = self.settle_until.max(iv.at.saturating_add(SETTLE_MS));
        self.interventions.push(iv);
    }

    /// The nodes of the run.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// The interventions of the run, in the order they were added.
    pub fn interventions(&self) -> &[Intervention<P>] {
        &self.interventions
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace<P> {
        &self.trace
    }

    /// Whether the run stopped at [`MAX_EVENTS`] rather than at its horizon.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The time the run ends: its duration, or [`SETTLE_MS`] after the last intervention.
    pub fn horizon(&self) -> Time {
        self.duration_ms.max(self.settle_until)
    }

    /// The world after the last processed event.
    pub fn world(&self) -> &World<P> {
        &self.world
    }

    /// Processes one more event; false when the run has reached its horizon.
    pub fn step(&mut self) -> bool {
        if self.trace.len() >= MAX_EVENTS {
            self.truncated = true;
            return false;
        }
        let horizon = self.horizon();
        match self.world.step(&self.interventions, horizon) {
            Some(ev) => {
                self.trace.push(ev);
                if self.trace.len().is_multiple_of(CHECKPOINT_EVERY) {
                    self.checkpoints
                        .push((self.trace.len(), self.world.clone()));
                }
                true
            }
            None => false,
        }
    }

    /// Simulates until the horizon (or [`MAX_EVENTS`]).
    pub fn run_to_end(&mut self) {
        while self.step() {}
    }

    /// Adds an intervention at or after the time of the last processed event, without
    /// re-simulating: the run goes on with it queued, and the result is the same as a fresh
    /// run with the whole list (it is ordered after every event at its time, and after the
    /// interventions added before it). For building a schedule while a run goes (e.g. a
    /// fault search that crashes whichever node leads). Errors: `iv.at` is in the past.
    pub fn push_intervention(&mut self, iv: Intervention<P>) -> Result<(), String> {
        if iv.at < self.world.now {
            return Err(format!(
                "an intervention at {} ms is in the past: the run is at {} ms",
                iv.at, self.world.now
            ));
        }
        self.queue_intervention(iv);
        Ok(())
    }

    /// Adds an intervention and re-simulates from it: the trace up to and including every
    /// event at time `iv.at` is kept (restored from the nearest checkpoint), the rest is
    /// simulated again. The result is byte-identical to a fresh run with the same list.
    pub fn add_intervention(&mut self, iv: Intervention<P>) {
        let at = iv.at;
        let ci = self
            .checkpoints
            .iter()
            .rposition(|(_, w)| w.now <= at)
            .unwrap_or(0);
        self.checkpoints.truncate(ci + 1);
        let (len, world) = self.checkpoints[ci].clone();
        self.trace.truncate(len);
        self.world = world;
        self.truncated = false;
        // The restored world has processed nothing after `at`, and the queue orders the new
        // intervention after every event at `at`: simulating on reproduces the kept prefix.
        self.queue_intervention(iv);
        self.run_to_end();
    }

    /// Replays the run from its start in one pass, calling `f(step, world)` with the world
    /// right after each trace event up to and including `upto` (start-up events all see
    /// the world after start-up). For analyses that need every intermediate state (e.g. a
    /// safety monitor); cheaper than [`Engine::world_at`] per step.
    pub fn replay(&self, upto: usize, mut f: impl FnMut(usize, &World<P>)) {
        let Some(last) = self.trace.len().checked_sub(1).map(|l| l.min(upto)) else {
            return;
        };
        let (len, mut world) = self.checkpoints[0].clone();
        if len > 0 {
            for step in 0..len.min(last + 1) {
                f(step, &world);
            }
        }
        let horizon = self.horizon();
        for step in len..=last {
            if world.step(&self.interventions, horizon).is_none() {
                break;
            }
            f(step, &world);
        }
    }

    /// The world as it was right after trace event `step` (or after start-up when `step`
    /// is `None`), recomputed from the nearest checkpoint: at most [`CHECKPOINT_EVERY`]
    /// events are replayed. Returns `None` when `step` is beyond the trace.
    pub fn world_at(&self, step: Option<usize>) -> Option<World<P>> {
        let want = step.map_or(self.checkpoints[0].0, |s| s + 1);
        if want > self.trace.len() {
            return None;
        }
        let ci = self
            .checkpoints
            .iter()
            .rposition(|(len, _)| *len <= want)
            .unwrap_or(0);
        let (mut len, mut world) = self.checkpoints[ci].clone();
        let horizon = self.horizon();
        while len < want {
            world.step(&self.interventions, horizon)?;
            len += 1;
        }
        Some(world)
    }

    /// The visible state of every node right after trace event `step` (`None`: at start),
    /// read from the trace.
    pub fn views_at(&self, step: Option<usize>) -> Vec<P::View> {
        let mut views: Vec<P::View> = self.checkpoints[0].1.views.clone();
        let end = step.map_or(0, |s| (s + 1).min(self.trace.len()));
        for ev in &self.trace[..end] {
            if let (Some(n), Some(v)) = (ev.node, &ev.state) {
                views[n] = v.clone();
            }
        }
        views
    }
}
