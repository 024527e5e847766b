//! Gossip (epidemic) dissemination of updates in a replicated state map, as in A. Demers,
//! D. Greene, C. Hauser, W. Irish, J. Larson, S. Shenker, H. Sturgis, D. Swinehart and
//! D. Terry, "Epidemic algorithms for replicated database maintenance", PODC 1987
//! (anti-entropy by push, pull and push-pull), with Scuttlebutt-style digests as in
//! R. van Renesse, D. Dumitriu, V. Gough and C. Thomas, "Efficient reconciliation and flow
//! control for anti-entropy protocols", LADIS 2008 (a digest names each key's version; the
//! peer answers with exactly the entries that are newer than the digest says).
//!
//! - **State.** Every node keeps a map `key → (version, value)`. A [`Version`] is
//!   `(counter, origin)`, ordered by counter, then by the node that made the update (so two
//!   updates never tie). Merging keeps, per key, the entry with the higher version: a
//!   node's state only ever moves to higher versions (Demers' timestamps; Cassandra and
//!   Scuttlebutt compare versions the same way). The map is durable: a crashed node keeps
//!   it (a database on disk) and loses only its timers and the messages in flight to it.
//! - **Updates** are injected at a node (the scenario's `updates`, or the operator command
//!   [`Command::Update`]): the node makes version `(its highest counter for the key + 1,
//!   itself)` and records the round it was made in, [`Entry::born`].
//! - **Rounds.** Every node runs a gossip round every `round_ms`, at the multiples of
//!   `round_ms` of its clock (clocks are exact here, so every node's rounds are **aligned**:
//!   round `k` starts at `k · round_ms` everywhere, the synchronous rounds of the analyses
//!   cited below; there is no per-node random offset). In each round a node picks `fanout`
//!   distinct peers uniformly at random among the other nodes (its own generator, seeded
//!   from the scenario seed and its id: the engine's `Ctx` has no generator, so this is how
//!   every model here draws random choices, as Raft's timeouts and Paxos' backoff do). It
//!   does not know which peers are down: a message to a crashed node is lost.
//!   - `push`: a node that knows something sends all its entries ([`Msg::Push`]) to each
//!     peer; a node that knows nothing stays quiet.
//!   - `pull`: the node sends its digest ([`Msg::Pull`]); the peer answers with the
//!     entries newer than the digest ([`Msg::Reply`]), or not at all when it has none.
//!   - `push-pull`: both in one exchange ([`Msg::PushPull`] carries the digest and the
//!     entries; the peer merges them and answers as for a pull).
//!
//!   A message carries the round it belongs to (a reply echoes its request's round), so a
//!   node that learns an update knows in which round, counted from the update's own round
//!   ([`Entry::born`]): what the analysis reports. Exchanges of a round are not atomic: a
//!   reply carries what the peer holds when the request arrives, which may include what it
//!   learnt earlier in the same round (real systems are not lock-step either; the analyses
//!   below assume they are, which is why their numbers are expectations, not exact
//!   predictions). A round's exchange must fit in the round
//!   (`2 · (latency_ms + jitter_ms) < round_ms`, checked by the scenario).
//! - Loss and crashes come from the engine (`loss`, crash and restart interventions); a
//!   restarted node resumes its rounds at its next round boundary.
//!
//! Expected numbers of rounds and the expected curve are in [`analysis`].

pub mod analysis;

use super::scenario;
use crate::engine::{Ctx, NodeInfo, NodeRole, Protocol, Setup};
use crate::{Describe, NodeId, OpId, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How nodes exchange state in a round (Demers et al. 1987, §1.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Send what you know to the peers.
    Push,
    /// Ask the peers for what you lack.
    Pull,
    /// Both in one exchange.
    #[default]
    PushPull,
}

impl Mode {
    /// Every mode, in order.
    pub const ALL: [Mode; 3] = [Mode::Push, Mode::Pull, Mode::PushPull];
    /// `"push"`, `"pull"` or `"push-pull"`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Push => "push",
            Mode::Pull => "pull",
            Mode::PushPull => "push-pull",
        }
    }
    /// The mode named `name`, or an error listing the names.
    pub fn parse(name: &str) -> Result<Mode, String> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| format!("unknown mode \"{name}\"; the modes: push, pull, push-pull"))
    }
}

/// A version: `(counter, origin)`, ordered by counter, then origin (derived `Ord`: field
/// order). Written `counter@origin`, the origin as its 1-based node number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    pub counter: u64,
    /// The node that made the update.
    pub origin: NodeId,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}@n{}", self.counter, self.origin + 1)
    }
}

/// One key's entry of a state map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub version: Version,
    pub value: String,
    /// The gossip round in which the update was made (the origin's last round started at
    /// or before it): round 0 of the update's spread. Carried with the entry.
    pub born: u64,
}

impl Entry {
    /// A rough size in bytes of the entry on the wire: key, value, a 16-byte version and an
    /// 8-byte round.
    pub fn bytes(&self) -> u64 {
        (self.key.len() + self.value.len()) as u64 + 24
    }
}

/// A node's state map: key → entry. A `BTreeMap`, so digests and messages list keys in
/// order.
pub type State = BTreeMap<String, Entry>;

/// Merges `incoming` into `state`: an entry replaces the key's entry only when its version
/// is higher (Demers et al.: the higher timestamp wins). Returns the entries that were new.
pub fn merge(state: &mut State, incoming: &[Entry]) -> Vec<Entry> {
    let mut new = Vec::new();
    for e in incoming {
        let newer = state
            .get(&e.key)
            .is_none_or(|have| e.version > have.version);
        if newer {
            state.insert(e.key.clone(), e.clone());
            new.push(e.clone());
        }
    }
    new
}

/// The digest of a state map: each key with its version (Scuttlebutt).
pub fn digest(state: &State) -> Vec<(String, Version)> {
    state.values().map(|e| (e.key.clone(), e.version)).collect()
}

/// The entries of `state` newer than `digest` says the asker has (keys it lacks
/// included): what a pull is answered with.
pub fn newer_than(state: &State, digest: &[(String, Version)]) -> Vec<Entry> {
    let have: BTreeMap<&str, Version> = digest.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    state
        .values()
        .filter(|e| have.get(e.key.as_str()).is_none_or(|v| e.version > *v))
        .cloned()
        .collect()
}

/// Gossip messages. `round` is the round of the exchange (a reply echoes its request's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Msg {
    /// Push: every entry the sender has.
    Push { round: u64, entries: Vec<Entry> },
    /// Pull: the sender's digest, asking for what is newer.
    Pull {
        round: u64,
        digest: Vec<(String, Version)>,
    },
    /// Push-pull: the sender's entries and its digest.
    PushPull {
        round: u64,
        digest: Vec<(String, Version)>,
        entries: Vec<Entry>,
    },
    /// The answer to a pull or push-pull: the entries newer than the asker's digest.
    Reply { round: u64, entries: Vec<Entry> },
}

impl Msg {
    /// The round of the exchange.
    pub fn round(&self) -> u64 {
        match self {
            Msg::Push { round, .. }
            | Msg::Pull { round, .. }
            | Msg::PushPull { round, .. }
            | Msg::Reply { round, .. } => *round,
        }
    }
    /// The entries the message carries (none for a pull).
    pub fn entries(&self) -> &[Entry] {
        match self {
            Msg::Push { entries, .. }
            | Msg::PushPull { entries, .. }
            | Msg::Reply { entries, .. } => entries,
            Msg::Pull { .. } => &[],
        }
    }
    /// A rough size in bytes: an 8-byte header (type and round), the entries
    /// ([`Entry::bytes`]) and the digest (key and a 16-byte version each).
    pub fn bytes(&self) -> u64 {
        let digest = |d: &[(String, Version)]| d.iter().map(|(k, _)| k.len() as u64 + 16).sum();
        let entries = self.entries().iter().map(Entry::bytes).sum::<u64>();
        8 + entries
            + match self {
                Msg::Pull { digest: d, .. } | Msg::PushPull { digest: d, .. } => digest(d),
                _ => 0,
            }
    }
}

fn entries_label(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| format!("{}={}", e.key, e.value))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Describe for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Push { entries, .. } => format!("push {}", entries_label(entries)),
            Msg::Pull { .. } => "pull".into(),
            Msg::PushPull { entries, .. } if entries.is_empty() => "push-pull".into(),
            Msg::PushPull { entries, .. } => format!("push-pull {}", entries_label(entries)),
            Msg::Reply { entries, .. } => format!("reply {}", entries_label(entries)),
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let s = |k: &str, v: String| (k.to_string(), v);
        let digest = |d: &[(String, Version)]| {
            if d.is_empty() {
                "empty".to_string()
            } else {
                d.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let entries = |e: &[Entry]| {
            if e.is_empty() {
                "none".to_string()
            } else {
                e.iter()
                    .map(|e| format!("{}={} ({})", e.key, e.value, e.version))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let mut f = vec![s("round", self.round().to_string())];
        match self {
            Msg::Pull { digest: d, .. } => f.push(s("digest", digest(d))),
            Msg::PushPull {
                digest: d,
                entries: e,
                ..
            } => {
                f.push(s("digest", digest(d)));
                f.push(s("entries", entries(e)));
            }
            Msg::Push { entries: e, .. } | Msg::Reply { entries: e, .. } => {
                f.push(s("entries", entries(e)))
            }
        }
        f.push(s("size", format!("{} bytes", self.bytes())));
        f
    }
    fn kind(&self) -> &'static str {
        match self {
            Msg::Push { .. } => "push",
            Msg::Pull { .. } => "pull",
            Msg::PushPull { .. } => "push-pull",
            Msg::Reply { .. } => "reply",
        }
    }
    fn epoch(&self) -> Option<(&'static str, u64)> {
        Some(("round", self.round()))
    }
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timer {
    /// The next round boundary: run a gossip round.
    Round,
    /// The scenario's update with this index (into the node's plan) is due.
    Update(usize),
}

/// No client operations (an empty type: none can be written or sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {}

impl Describe for Request {
    fn label(&self) -> String {
        match *self {}
    }
}

/// No client operations, so no responses (an empty type).
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
    /// Make an update at this node: `key` gets `value` with a new, higher version.
    Update { key: String, value: String },
}

impl Describe for Command {
    fn label(&self) -> String {
        match self {
            Command::Update { key, value } => format!("update {key}={value}"),
        }
    }
}

/// What every node of a run shares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Number of nodes (ids `0..n`).
    pub n: usize,
    pub mode: Mode,
    /// Peers contacted per round.
    pub fanout: usize,
    /// Round length, simulated ms.
    pub round_ms: Time,
}

/// A gossiping node.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub config: Config,
    /// The state map (durable).
    pub state: State,
    /// The last round this node started (0 before its first).
    pub round: u64,
    /// The scenario's updates at this node: `(at_ms, key, value)`.
    pub plan: Vec<(Time, String, String)>,
    rng: ChaCha8Rng,
}

/// What the page shows of a node: its last round and its state map.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct View {
    pub round: u64,
    /// key → (version, value).
    pub state: BTreeMap<String, (Version, String)>,
}

impl Describe for View {
    fn label(&self) -> String {
        if self.state.is_empty() {
            "knows nothing".into()
        } else {
            self.state
                .iter()
                .map(|(k, (_, v))| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![("round".to_string(), self.round.to_string())];
        for (k, (ver, v)) in &self.state {
            f.push((k.clone(), format!("{v} ({ver})")));
        }
        f
    }
}

impl Node {
    /// Node `me` of `config`, its peer choices drawn from `seed`.
    pub fn new(config: Config, seed: u64, me: NodeId) -> Node {
        Node {
            config,
            state: State::new(),
            round: 0,
            plan: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(
                seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(0x6055_1B00 + me as u64),
            ),
        }
    }

    /// Sets the timer of the next round boundary (the next multiple of `round_ms` of the
    /// node's clock, strictly after now).
    fn schedule_round(&self, ctx: &mut Ctx<Node>) {
        let r = self.config.round_ms.max(1);
        let now = ctx.physical_clock_ms().max(0) as u64;
        ctx.set_timer(Timer::Round, r - now % r);
    }

    /// Makes an update: a version above every version of the key this node has seen.
    fn update(&mut self, key: String, value: String, ctx: &mut Ctx<Node>) {
        let counter = self.state.get(&key).map_or(0, |e| e.version.counter) + 1;
        let version = Version {
            counter,
            origin: ctx.me(),
        };
        ctx.note(format!("update {key}={value} ({version})"));
        self.state.insert(
            key.clone(),
            Entry {
                key,
                version,
                value,
                born: self.round,
            },
        );
    }

    /// One gossip round: `fanout` distinct random peers, one exchange each.
    fn gossip(&mut self, ctx: &mut Ctx<Node>) {
        let me = ctx.me();
        let others = self.config.n.saturating_sub(1);
        let k = self.config.fanout.min(others);
        if k == 0 {
            return;
        }
        let round = self.round;
        // `k` distinct peers, uniformly: a partial Fisher–Yates shuffle of the others.
        let mut pool: Vec<NodeId> = (0..self.config.n).filter(|&i| i != me).collect();
        for j in 0..k {
            let pick = self.rng.random_range(j..pool.len());
            pool.swap(j, pick);
        }
        let peers = &pool[..k];
        let entries: Vec<Entry> = self.state.values().cloned().collect();
        for &p in peers {
            let msg = match self.config.mode {
                Mode::Push if entries.is_empty() => continue,
                Mode::Push => Msg::Push {
                    round,
                    entries: entries.clone(),
                },
                Mode::Pull => Msg::Pull {
                    round,
                    digest: digest(&self.state),
                },
                Mode::PushPull => Msg::PushPull {
                    round,
                    digest: digest(&self.state),
                    entries: entries.clone(),
                },
            };
            ctx.send(p, msg);
        }
    }

    fn learn(&mut self, entries: &[Entry], from: NodeId, ctx: &mut Ctx<Node>) {
        for e in merge(&mut self.state, entries) {
            ctx.note(format!(
                "learns {}={} ({}) from n{}",
                e.key,
                e.value,
                e.version,
                from + 1
            ));
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
        self.schedule_round(ctx);
        for (i, (at, _, _)) in self.plan.iter().enumerate() {
            ctx.set_timer(Timer::Update(i), *at);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        match msg {
            Msg::Push { entries, .. } | Msg::Reply { entries, .. } => {
                self.learn(&entries, from, ctx)
            }
            Msg::Pull { round, digest } => {
                let entries = newer_than(&self.state, &digest);
                if !entries.is_empty() {
                    ctx.send(from, Msg::Reply { round, entries });
                }
            }
            Msg::PushPull {
                round,
                digest,
                entries,
            } => {
                self.learn(&entries, from, ctx);
                let back = newer_than(&self.state, &digest);
                if !back.is_empty() {
                    ctx.send(
                        from,
                        Msg::Reply {
                            round,
                            entries: back,
                        },
                    );
                }
            }
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Self>) {
        match timer {
            Timer::Round => {
                let r = self.config.round_ms.max(1);
                self.round = ctx.physical_clock_ms().max(0) as u64 / r;
                self.gossip(ctx);
                self.schedule_round(ctx);
            }
            Timer::Update(i) => {
                if let Some((_, key, value)) = self.plan.get(i).cloned() {
                    self.update(key, value, ctx);
                }
            }
        }
    }

    fn on_request(&mut self, _op: OpId, request: Request, _ctx: &mut Ctx<Self>) {
        match request {}
    }

    fn on_command(&mut self, command: Command, ctx: &mut Ctx<Self>) {
        let Command::Update { key, value } = command;
        self.update(key, value, ctx);
    }

    /// The state map is durable; timers are lost with the crash (the engine's doing).
    fn on_crash(&mut self) {}

    /// Rounds resume at the next round boundary; the round now under way was missed.
    fn on_restart(&mut self, ctx: &mut Ctx<Self>) {
        let r = self.config.round_ms.max(1);
        self.round = ctx.physical_clock_ms().max(0) as u64 / r;
        self.schedule_round(ctx);
    }

    fn view(&self) -> View {
        View {
            round: self.round,
            state: self
                .state
                .values()
                .map(|e| (e.key.clone(), (e.version, e.value.clone())))
                .collect(),
        }
    }
}

/// An update in a scenario file: at `at_ms`, node `node` sets `key` to `value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSpec {
    pub node: String,
    pub at_ms: Time,
    pub key: String,
    pub value: String,
}

/// Smallest and largest number of nodes of a gossip run.
pub const MIN_NODES: usize = 2;
pub const MAX_NODES: usize = 64;
/// Largest fanout.
pub const MAX_FANOUT: usize = 8;
/// Most rounds a run may last (the event count grows with nodes × rounds × fanout).
pub const MAX_ROUNDS: u64 = 100;

/// A gossip scenario as lesson files write it. Nodes are named `n1` … `nN` (ids 0 … N−1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GossipScenario {
    /// Seed of the run: latencies, loss and every node's peer choices.
    #[serde(default)]
    pub seed: u64,
    /// Number of nodes, 2–64 (lessons use 8–64).
    pub nodes: usize,
    #[serde(default)]
    pub mode: Mode,
    /// Peers per round, 1–8 (and fewer than `nodes`).
    #[serde(default = "one")]
    pub fanout: usize,
    /// Round length, simulated ms.
    #[serde(default = "default_round")]
    pub round_ms: Time,
    /// How many rounds the run lasts (1–100): it ends half a round after round `rounds`
    /// starts.
    #[serde(default = "default_rounds")]
    pub rounds: u64,
    #[serde(default = "default_latency")]
    pub latency_ms: Time,
    #[serde(default)]
    pub jitter_ms: Time,
    /// Probability that a message is lost, 0–1.
    #[serde(default)]
    pub loss: f64,
    /// Updates made during the run.
    #[serde(default)]
    pub updates: Vec<UpdateSpec>,
}

fn one() -> usize {
    1
}
fn default_round() -> Time {
    100
}
fn default_rounds() -> u64 {
    20
}
fn default_latency() -> Time {
    10
}

impl GossipScenario {
    /// `nodes` nodes in `mode` with fanout 1, rounds of 100 ms for 20 rounds, 10 ms links,
    /// no loss, and one update `x = 1` at `n1` at 50 ms (in round 0).
    pub fn basic(nodes: usize, mode: Mode, seed: u64) -> GossipScenario {
        GossipScenario {
            seed,
            nodes,
            mode,
            fanout: 1,
            round_ms: default_round(),
            rounds: default_rounds(),
            latency_ms: default_latency(),
            jitter_ms: 0,
            loss: 0.0,
            updates: vec![UpdateSpec {
                node: "n1".into(),
                at_ms: 50,
                key: "x".into(),
                value: "1".into(),
            }],
        }
    }

    /// Node names in id order: `n1` … `nN`.
    pub fn names(&self) -> Vec<String> {
        (1..=self.nodes).map(|i| format!("n{i}")).collect()
    }

    /// The id of a named node, or an error giving the names.
    pub fn node(&self, name: &str) -> Result<NodeId, String> {
        name.strip_prefix('n')
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|&i| (1..=self.nodes).contains(&i) && name == format!("n{i}"))
            .map(|i| i - 1)
            .ok_or_else(|| {
                format!(
                    "unknown node \"{name}\" (the nodes are n1 to n{})",
                    self.nodes
                )
            })
    }

    /// The shared configuration of the nodes.
    pub fn config(&self) -> Config {
        Config {
            n: self.nodes,
            mode: self.mode,
            fanout: self.fanout,
            round_ms: self.round_ms,
        }
    }

    /// When the run ends: half a round after round `rounds` starts, simulated ms.
    pub fn duration_ms(&self) -> Time {
        self.round_ms
            .saturating_mul(self.rounds)
            .saturating_add(self.round_ms / 2)
    }

    /// Checks the scenario and builds the run's setup. Errors: nodes outside 2–64, fanout
    /// outside 1–8 or not below the node count, `round_ms` of 0, rounds outside 1–100, an
    /// exchange that does not fit in a round (`2 · (latency_ms + jitter_ms) ≥ round_ms`),
    /// loss outside 0–1, an update at an unknown node, with an empty key or after the run.
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        if !(MIN_NODES..=MAX_NODES).contains(&self.nodes) {
            return Err(format!(
                "nodes = {}: a gossip run has {MIN_NODES} to {MAX_NODES} nodes",
                self.nodes
            ));
        }
        if self.fanout == 0 || self.fanout > MAX_FANOUT || self.fanout >= self.nodes {
            return Err(format!(
                "fanout = {}: it must be 1 to {} and below the number of nodes ({})",
                self.fanout, MAX_FANOUT, self.nodes
            ));
        }
        if self.round_ms == 0 {
            return Err("round_ms must be positive".into());
        }
        if !(1..=MAX_ROUNDS).contains(&self.rounds) {
            return Err(format!(
                "rounds = {}: a run lasts 1 to {MAX_ROUNDS} rounds",
                self.rounds
            ));
        }
        scenario::check_time("round_ms", self.round_ms)?;
        scenario::check_time("the run (round_ms × rounds)", self.duration_ms())?;
        let exchange = self.latency_ms.saturating_add(self.jitter_ms);
        if exchange.saturating_mul(2) >= self.round_ms {
            return Err(format!(
                "a round of {} ms is too short for links of up to {exchange} ms: a pull and its reply must fit in one round (2 × (latency_ms + jitter_ms) < round_ms)",
                self.round_ms
            ));
        }
        let names = self.names();
        let network = scenario::network(&names, self.latency_ms, self.jitter_ms, &[], self.loss)?;
        let config = self.config();
        let mut protocols: Vec<Node> = (0..self.nodes)
            .map(|i| Node::new(config.clone(), self.seed, i))
            .collect();
        for u in &self.updates {
            let id = self.node(&u.node).map_err(|m| format!("update: {m}"))?;
            if u.key.trim().is_empty() {
                return Err(format!("update at {}: the key is empty", u.node));
            }
            if u.at_ms > self.duration_ms() {
                return Err(format!(
                    "update at {}: at_ms = {} is after the run ends ({} ms)",
                    u.node,
                    u.at_ms,
                    self.duration_ms()
                ));
            }
            protocols[id]
                .plan
                .push((u.at_ms, u.key.clone(), u.value.clone()));
        }
        let nodes = names
            .iter()
            .map(|name| NodeInfo {
                name: name.clone(),
                role: NodeRole::Server,
                place: None,
                clock: Default::default(),
            })
            .collect();
        Ok(Setup {
            nodes,
            protocols,
            network,
            seed: self.seed,
            duration_ms: self.duration_ms(),
        })
    }
}

/// Ready-made runs: `(name, scenario, interventions)`. Push, pull and push-pull at 16 and
/// 64 nodes; push-pull with 20 % loss; push-pull at 32 nodes with four nodes crashed from
/// the start.
pub fn presets() -> Vec<(
    &'static str,
    GossipScenario,
    Vec<crate::engine::Intervention<Node>>,
)> {
    use crate::engine::{Action, Intervention};
    let mut v = Vec::new();
    for n in [16, 64] {
        for mode in Mode::ALL {
            let name = match (n, mode) {
                (16, Mode::Push) => "push-16",
                (16, Mode::Pull) => "pull-16",
                (16, Mode::PushPull) => "push-pull-16",
                (_, Mode::Push) => "push-64",
                (_, Mode::Pull) => "pull-64",
                (_, Mode::PushPull) => "push-pull-64",
            };
            v.push((name, GossipScenario::basic(n, mode, 1), Vec::new()));
        }
    }
    let mut lossy = GossipScenario::basic(32, Mode::PushPull, 1);
    lossy.loss = 0.2;
    v.push(("loss-20", lossy, Vec::new()));
    let crashed = GossipScenario::basic(32, Mode::PushPull, 1);
    let crashes = [5, 12, 20, 27]
        .into_iter()
        .map(|node| Intervention::new(0, Action::Crash { node }))
        .collect();
    v.push(("crashed-4", crashed, crashes));
    v
}

/// Presentation mode's prepared failures ([`super::EngineModel::prepared`]) at the cursor:
/// 1 crash an informed node (one that is up and knows the most recent update, picked by
/// the cursor's step so the choice varies but is reproducible; the origin only if no other
/// is informed), 2 partition the nodes into halves (`n1…n⌈N/2⌉` against the rest: the
/// update cannot cross), 3 heal the network and restart everything.
pub fn prepared(
    engine: &crate::engine::Engine<Node>,
    cursor: Option<usize>,
) -> Vec<super::Prepared<Node>> {
    use crate::engine::Action;
    let (_, w) = super::prepared::world_at_cursor(engine, cursor);
    let n = w.nodes.len();
    let name = |i: NodeId| format!("n{}", i + 1);
    // The most recent update anyone holds: the highest (counter, origin) of any key.
    let latest = w
        .nodes
        .iter()
        .flat_map(|x| x.state.values())
        .max_by_key(|e| (e.version, e.key.clone()))
        .map(|e| (e.key.clone(), e.version));
    let informed: Vec<NodeId> = (0..n)
        .filter(|&i| w.up[i])
        .filter(|&i| {
            latest
                .as_ref()
                .is_some_and(|(k, v)| w.nodes[i].state.get(k).is_some_and(|e| e.version >= *v))
        })
        .collect();
    let non_origin: Vec<NodeId> = informed
        .iter()
        .copied()
        .filter(|&i| latest.as_ref().is_none_or(|(_, v)| v.origin != i))
        .collect();
    let pick = |v: &[NodeId]| (!v.is_empty()).then(|| v[cursor.unwrap_or(0) % v.len()]);
    let target = pick(&non_origin)
        .or_else(|| pick(&informed))
        .or_else(|| (0..n).find(|&i| w.up[i]));
    let crash = match target {
        Some(node) => super::Prepared {
            label: if informed.contains(&node) {
                format!("crash {} (informed)", name(node))
            } else {
                format!("crash {}", name(node))
            },
            actions: vec![Action::Crash { node }],
        },
        None => super::Prepared {
            label: "nothing to crash: every node is down".into(),
            actions: Vec::new(),
        },
    };
    let half = n.div_ceil(2);
    let partition = super::Prepared {
        label: format!(
            "partition n1–{} | {}–n{n}",
            name(half - 1),
            name(half.min(n - 1))
        ),
        actions: vec![Action::Partition {
            groups: vec![(0..half).collect(), (half..n).collect()],
        }],
    };
    vec![crash, partition, super::prepared::heal_all(&w)]
}
