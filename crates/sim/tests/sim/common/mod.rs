//! Shared by the property tests: random replication scenarios and fault schedules
//! (proptest strategies), and small trace readers used by the oracles.
//!
//! A run is generated as a [`Spec`] (cluster shape, mode, network, seed) plus a list of
//! abstract [`Op`]s at random times. Node choices are raw numbers reduced modulo the node
//! count when the run is built, so every generated value is valid for every shape and
//! shrinks well.

#![allow(dead_code)]

pub mod quorum_lesson;
pub mod runs;

use distlab_sim::engine::{Action, Engine, Intervention, Setup};
use distlab_sim::models::replication::{
    Command, Msg, Node, Place, ReplicationScenario, Request, Response,
};
use distlab_sim::network::Latency;
use distlab_sim::trace::EventKind;
use distlab_sim::{NodeId, OpId, Time};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A proptest configuration with `n` cases, times the `DISTLAB_PROPTEST_SCALE` environment
/// variable when set (e.g. `DISTLAB_PROPTEST_SCALE=20` for a long local run).
pub fn cases(n: u32) -> ProptestConfig {
    let scale = std::env::var("DISTLAB_PROPTEST_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    ProptestConfig::with_cases(n * scale)
}

/// The shape and network of a generated run.
#[derive(Clone, Debug)]
pub struct Spec {
    pub seed: u64,
    pub followers: usize,
    pub clients: usize,
    /// `"async"`, `"semi-sync"` or `"sync"`.
    pub mode: &'static str,
    /// For semi-sync, already within `1..=followers`.
    pub k: usize,
    pub latency_ms: Time,
    pub jitter_ms: Time,
    pub retransmit_ms: Time,
    pub loss: f64,
    pub duration_ms: Time,
}

impl Spec {
    pub fn servers(&self) -> usize {
        1 + self.followers
    }
    pub fn nodes(&self) -> usize {
        self.servers() + self.clients
    }
    /// The id of the `i`-th client (modulo the number of clients).
    pub fn client(&self, i: usize) -> NodeId {
        self.servers() + i % self.clients
    }
    /// How many follower acks a write needs before the leader acknowledges it.
    pub fn acks_needed(&self) -> usize {
        match self.mode {
            "async" => 0,
            "sync" => self.followers,
            _ => self.k,
        }
    }

    pub fn scenario(&self) -> ReplicationScenario {
        let place = |name: String| Place { name, place: None };
        ReplicationScenario {
            seed: self.seed,
            duration_ms: self.duration_ms,
            mode: self.mode.to_string(),
            k: self.k,
            leader: place("leader".into()),
            followers: (1..=self.followers)
                .map(|i| place(format!("follower-{i}")))
                .collect(),
            clients: (1..=self.clients)
                .map(|i| place(format!("client-{i}")))
                .collect(),
            latency_ms: self.latency_ms,
            jitter_ms: self.jitter_ms,
            links: Vec::new(),
            loss: self.loss,
            retransmit_ms: self.retransmit_ms,
            partitions: Vec::new(),
            sessions: Vec::new(),
        }
    }

    pub fn setup(&self) -> Setup<Node> {
        self.scenario()
            .setup()
            .expect("generated scenarios are valid")
    }
}

/// Which acknowledgement modes a strategy may pick.
#[derive(Clone, Copy, Debug)]
pub enum Modes {
    Any,
    Only(&'static str),
}

/// Random cluster shapes: 1–6 followers, 1–3 clients, any mode, small latencies.
pub fn spec(modes: Modes, loss: bool) -> impl Strategy<Value = Spec> {
    let mode = match modes {
        Modes::Any => prop_oneof![Just("async"), Just("semi-sync"), Just("sync")].boxed(),
        Modes::Only(m) => Just(m).boxed(),
    };
    let loss = if loss {
        prop_oneof![3 => Just(0.0), 1 => Just(0.05)].boxed()
    } else {
        Just(0.0).boxed()
    };
    (
        any::<u64>(),
        1usize..=6,
        1usize..=3,
        mode,
        1usize..=6,
        (1u64..=40, 0u64..=20),
        prop_oneof![Just(30u64), Just(100), Just(400), Just(1_000)],
        loss,
        prop_oneof![Just(500u64), Just(1_000), Just(1_500)],
    )
        .prop_map(
            |(
                seed,
                followers,
                clients,
                mode,
                k,
                (latency_ms, jitter_ms),
                retransmit_ms,
                loss,
                duration_ms,
            )| Spec {
                seed,
                followers,
                clients,
                mode,
                k: 1 + (k - 1) % followers,
                latency_ms,
                jitter_ms,
                retransmit_ms,
                loss,
                duration_ms,
            },
        )
}

/// An abstract intervention; raw numbers are reduced modulo the run's node counts.
#[derive(Clone, Debug)]
pub enum Op {
    Write {
        client: usize,
        key: u8,
    },
    Read {
        client: usize,
        replica: usize,
        key: u8,
    },
    /// Crash a server (`server`) or, when `client`, a client.
    Crash {
        node: usize,
        client: bool,
    },
    Restart {
        node: usize,
        client: bool,
    },
    /// Group (0 = in no group, 1–3) of each node, by node id modulo the list's length.
    Partition {
        groups: Vec<u8>,
    },
    Heal,
    Cut {
        a: usize,
        b: usize,
    },
    Restore {
        a: usize,
        b: usize,
    },
    Delay {
        a: usize,
        b: usize,
        latency: Option<(Time, Time)>,
    },
    /// Drop the `pick`-th message in flight at that time.
    Drop {
        pick: usize,
    },
    Promote {
        node: usize,
    },
}

/// Which kinds of ops a schedule may contain.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    pub crashes: bool,
    pub network: bool,
    pub drops: bool,
    pub promote: bool,
}

impl Faults {
    pub const NONE: Faults = Faults {
        crashes: false,
        network: false,
        drops: false,
        promote: false,
    };
    pub const ALL_BUT_FAILOVER: Faults = Faults {
        crashes: true,
        network: true,
        drops: true,
        promote: false,
    };
    pub const ALL: Faults = Faults {
        crashes: true,
        network: true,
        drops: true,
        promote: true,
    };
}

fn client_op() -> BoxedStrategy<Op> {
    prop_oneof![
        (any::<usize>(), 0u8..2).prop_map(|(client, key)| Op::Write { client, key }),
        (any::<usize>(), any::<usize>(), 0u8..2).prop_map(|(client, replica, key)| Op::Read {
            client,
            replica,
            key
        }),
    ]
    .boxed()
}

/// One random fault allowed by `faults` (`None` when none is allowed).
pub fn fault(faults: Faults) -> Option<BoxedStrategy<Op>> {
    let mut choices: Vec<(u32, BoxedStrategy<Op>)> = Vec::new();
    if faults.crashes {
        choices.push((
            3,
            (any::<usize>(), prop::bool::weighted(0.2))
                .prop_map(|(node, client)| Op::Crash { node, client })
                .boxed(),
        ));
        choices.push((
            3,
            (any::<usize>(), prop::bool::weighted(0.2))
                .prop_map(|(node, client)| Op::Restart { node, client })
                .boxed(),
        ));
    }
    if faults.network {
        choices.push((
            2,
            prop::collection::vec(0u8..4, 2..10)
                .prop_map(|groups| Op::Partition { groups })
                .boxed(),
        ));
        choices.push((2, Just(Op::Heal).boxed()));
        choices.push((
            1,
            (any::<usize>(), any::<usize>())
                .prop_map(|(a, b)| Op::Cut { a, b })
                .boxed(),
        ));
        choices.push((
            1,
            (any::<usize>(), any::<usize>())
                .prop_map(|(a, b)| Op::Restore { a, b })
                .boxed(),
        ));
        choices.push((
            2,
            (
                any::<usize>(),
                any::<usize>(),
                prop::option::of((0u64..300, 0u64..30)),
            )
                .prop_map(|(a, b, latency)| Op::Delay { a, b, latency })
                .boxed(),
        ));
    }
    if faults.drops {
        choices.push((3, any::<usize>().prop_map(|pick| Op::Drop { pick }).boxed()));
    }
    if faults.promote {
        choices.push((
            1,
            any::<usize>().prop_map(|node| Op::Promote { node }).boxed(),
        ));
    }
    if choices.is_empty() {
        None
    } else {
        Some(prop::strategy::Union::new_weighted(choices).boxed())
    }
}

fn at() -> impl Strategy<Value = Time> {
    (0u64..=300).prop_map(|t| t * 5)
}

/// A schedule: 1–`clients` client operations and up to `faults_max` faults, shuffled, at
/// times that are multiples of 5 ms in `[0, 1500]` (so several interventions, and
/// interventions and deliveries, often share a time). Message drops get their time when
/// the run is built (see [`build`]).
pub fn schedule(
    faults: Faults,
    clients: usize,
    faults_max: usize,
) -> impl Strategy<Value = Vec<(Time, Op)>> {
    let client_ops = prop::collection::vec((at(), client_op()), 1..=clients);
    let fault_ops = match fault(faults) {
        Some(f) => prop::collection::vec((at(), f), 0..=faults_max).boxed(),
        None => Just(Vec::new()).boxed(),
    };
    (client_ops, fault_ops)
        .prop_map(|(mut a, b)| {
            a.extend(b);
            a
        })
        .prop_shuffle()
}

/// The value written by the write at position `i` of a schedule: unique within a run.
pub fn value_of(i: usize) -> String {
    format!("v{i}")
}

/// Turns a schedule into interventions of `spec`'s run, in schedule order. Message drops
/// pick among the messages in flight at their time in the run built so far (so most of them
/// hit a message); that uses [`Engine::add_intervention`], but the returned list is meant
/// to be run from scratch.
pub fn build(spec: &Spec, ops: &[(Time, Op)]) -> Vec<Intervention<Node>> {
    let n = spec.nodes();
    let servers = spec.servers();
    let key = |k: u8| {
        if k == 0 {
            "x".to_string()
        } else {
            "y".to_string()
        }
    };
    let node = |i: usize, client: bool| {
        if client {
            spec.client(i)
        } else {
            i % servers
        }
    };
    let mut ivs = Vec::new();
    let mut drops = Vec::new();
    for (i, (at, op)) in ops.iter().enumerate() {
        let action = match op {
            Op::Write { client, key: k } => Action::Request {
                client: spec.client(*client),
                request: Request::Write {
                    key: key(*k),
                    value: value_of(i),
                },
                label: Some(format!("w{i}")),
            },
            Op::Read {
                client,
                replica,
                key: k,
            } => Action::Request {
                client: spec.client(*client),
                request: Request::Read {
                    key: key(*k),
                    replica: replica % servers,
                },
                label: Some(format!("r{i}")),
            },
            Op::Crash { node: x, client } => Action::Crash {
                node: node(*x, *client),
            },
            Op::Restart { node: x, client } => Action::Restart {
                node: node(*x, *client),
            },
            Op::Partition { groups } => {
                let mut g: BTreeMap<u8, Vec<NodeId>> = BTreeMap::new();
                for id in 0..n {
                    let which = groups[id % groups.len()];
                    if which > 0 {
                        g.entry(which).or_default().push(id);
                    }
                }
                Action::Partition {
                    groups: g.into_values().collect(),
                }
            }
            Op::Heal => Action::Heal,
            Op::Cut { a, b } => Action::CutLink { a: a % n, b: b % n },
            Op::Restore { a, b } => Action::RestoreLink { a: a % n, b: b % n },
            Op::Delay { a, b, latency } => Action::SetLinkDelay {
                a: a % n,
                b: b % n,
                latency: latency.map(|(base_ms, jitter_ms)| Latency { base_ms, jitter_ms }),
            },
            Op::Drop { pick } => {
                drops.push((ivs.len(), *at, *pick));
                // Placeholder, resolved below.
                Action::DropMessage { id: u64::MAX }
            }
            Op::Promote { node: x } => Action::Command {
                node: 1 + x % spec.followers,
                command: Command::Promote,
            },
        };
        ivs.push(Intervention::new(*at, action));
    }
    if drops.is_empty() {
        return ivs;
    }
    // Resolve drops one by one against the run with the interventions before them: each
    // picks a message that run sends, and a time while it is in flight.
    let without: Vec<Intervention<Node>> = ivs
        .iter()
        .filter(|iv| !matches!(iv.action, Action::DropMessage { .. }))
        .cloned()
        .collect();
    let mut engine = Engine::new(spec.setup(), without);
    for (pos, at, pick) in drops {
        let sent: Vec<(u64, Time, Time)> = engine
            .trace()
            .iter()
            .flat_map(|e| e.sent.iter().map(move |s| (s.id, e.time, s.arrives_at)))
            .filter(|(_, from, to)| to > from)
            .collect();
        let iv = match sent.get(pick % sent.len().max(1)) {
            Some(&(id, from, to)) => Intervention::new(
                from + (pick / sent.len()) as Time % (to - from),
                Action::DropMessage { id },
            ),
            None => Intervention::new(
                at,
                Action::DropMessage {
                    id: pick as u64 % 64,
                },
            ),
        };
        ivs[pos] = iv.clone();
        engine.add_intervention(iv);
    }
    ivs
}

/// Facts about client operations read straight from a trace.
#[derive(Clone, Debug, Default)]
pub struct Ops {
    /// op → (client, invoke step, request).
    pub invoked: BTreeMap<OpId, (NodeId, usize, Request)>,
    /// op → (return step, response).
    pub returned: BTreeMap<OpId, (usize, Response)>,
    /// op → (leader, step) of the leader's `WriteOk` sends.
    pub write_ok_sent: BTreeMap<OpId, Vec<(NodeId, usize)>>,
    /// op → (leader, step) where the leader received the client's `Write`.
    pub write_arrived: BTreeMap<OpId, Vec<(NodeId, usize)>>,
    /// op → log index, from the entries in `Append` messages (the leader's numbering).
    pub index: BTreeMap<OpId, u64>,
}

pub fn ops(engine: &Engine<Node>) -> Ops {
    let mut o = Ops::default();
    for (i, ev) in engine.trace().iter().enumerate() {
        if let (Some(n), EventKind::Invoke { op, request, .. }) = (ev.node, &ev.kind) {
            o.invoked.insert(*op, (n, i, request.clone()));
        }
        for (op, r) in &ev.returned {
            o.returned.insert(*op, (i, r.clone()));
        }
        if let (
            Some(n),
            EventKind::Deliver {
                payload: Msg::Write { op, .. },
                ..
            },
        ) = (ev.node, &ev.kind)
        {
            o.write_arrived.entry(*op).or_default().push((n, i));
        }
        for s in &ev.sent {
            match &s.payload {
                Msg::WriteOk { op, .. } => o
                    .write_ok_sent
                    .entry(*op)
                    .or_default()
                    .push((ev.node.expect("sent by a node"), i)),
                Msg::Append { entries, .. } => {
                    for e in entries {
                        o.index.entry(e.op).or_insert(e.index);
                    }
                }
                _ => {}
            }
        }
    }
    o
}

/// The step of the last event of a trace (`None` for an empty trace).
pub fn last_step(engine: &Engine<Node>) -> Option<usize> {
    engine.trace().len().checked_sub(1)
}

/// The built-in "Replication lag" lesson's step whose title starts with `title_prefix`:
/// its engine, and the analysis at the step's cursor. Titles, unlike step numbers, survive
/// inserting a step.
pub fn lesson_step(
    title_prefix: &str,
) -> (
    Engine<Node>,
    distlab_sim::models::replication::analysis::Analysis,
) {
    let lesson = distlab_sim::lesson::built_in()
        .into_iter()
        .find(|l| l.id == "replication-lag")
        .expect("built-in lesson");
    let i = lesson
        .steps
        .iter()
        .position(|s| s.title.starts_with(title_prefix))
        .unwrap_or_else(|| panic!("no step titled {title_prefix}…"));
    let run = lesson.run_for_step(i).unwrap();
    let engine = Engine::new(run.scenario.setup().unwrap(), run.interventions);
    let cursor = lesson.cursor_for_step(i, &engine).unwrap();
    let a = distlab_sim::models::replication::analysis::analyze(&engine, cursor);
    (engine, a)
}

/// The read with this label.
pub fn read_labelled<'a>(
    a: &'a distlab_sim::models::replication::analysis::Analysis,
    label: &str,
) -> &'a distlab_sim::models::replication::analysis::ReadOp {
    a.reads
        .iter()
        .find(|r| r.label.as_deref() == Some(label))
        .unwrap_or_else(|| panic!("no read labelled {label}"))
}

/// The write with this label.
pub fn write_labelled<'a>(
    a: &'a distlab_sim::models::replication::analysis::Analysis,
    label: &str,
) -> &'a distlab_sim::models::replication::analysis::WriteOp {
    a.writes
        .iter()
        .find(|w| w.label.as_deref() == Some(label))
        .unwrap_or_else(|| panic!("no write labelled {label}"))
}
