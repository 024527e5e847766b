//! A leaderless key-value store whose replicas detect concurrent writes with version
//! vectors, or resolve them by last-write-wins — the shopping cart of DDIA ch. 5
//! ("Detecting Concurrent Writes", Figures 5-12 and 5-13) and Dynamo (DeCandia et al. 2007,
//! §4.4 "Data Versioning").
//!
//! - Each client talks to a coordinating replica (its home replica, or one named per
//!   request). Every value is a shopping cart: a set of items, plus removed items kept as
//!   tombstones when [`LeaderlessScenario::tombstones`] is on.
//! - **Version vectors** (`conflict = "version-vectors"`): the replica keeps, per key, the
//!   set of concurrent values (*siblings*), each stamped with a *dot* — (replica, counter),
//!   the write's own event — and the *context* the client sent: the version vector of what
//!   it had seen. A write replaces exactly the siblings its context covers and is kept
//!   beside the others. This is the dotted version vector of Preguiça et al. ("Dotted
//!   Version Vectors: Logical Clocks for Optimistic Replication", 2010), as in Riak 2.0;
//!   with one replica it is exactly DDIA's per-key version number (Figure 5-13).
//! - A read or a write returns every sibling and the key's version vector (the merge of
//!   all the siblings' clocks); the client merges the siblings (union of items; minus
//!   tombstones) and sends the vector back with its next write.
//! - **Last-write-wins** (`conflict = "last-write-wins"`): the coordinator stamps each write
//!   with its *physical clock* (skew and drift per node: [`crate::PhysicalClock`]) and every
//!   replica keeps only the value with the greatest `(timestamp, replica)`, as Cassandra
//!   does. Concurrent writes silently lose all but one, and with skewed clocks even a
//!   causally later write can lose to the one it overwrote (DDIA ch. 8, Figure 8-3). The
//!   contexts are still carried so the [`analysis`] can say which writes were lost and why.
//! - Replication: after applying a write, the coordinator sends the key's siblings to every
//!   other replica (asynchronous push), and optionally every replica pushes everything
//!   every `anti_entropy_ms`, so replicas converge after a partition heals. A receiving
//!   replica merges: it keeps every sibling not covered by another's context.
//! - Durable across a crash: the data. Volatile: nothing else matters here.

use super::scenario::{self, NamedLink};
use crate::engine::{Ctx, NodeInfo, NodeRole, PhysicalClock, Protocol, Setup};
use crate::{Action, Describe, Intervention, NodeId, OpId, Time};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A version vector: per replica (node id), the number of its writes seen.
pub type VersionVector = BTreeMap<NodeId, u64>;

/// Whether `vv` has seen the write identified by `dot`.
pub fn covers(vv: &VersionVector, dot: Dot) -> bool {
    vv.get(&dot.replica).is_some_and(|&c| c >= dot.counter)
}

/// Entry-wise maximum of two version vectors into `into`.
pub fn merge_into(into: &mut VersionVector, other: &VersionVector) {
    for (&r, &c) in other {
        let e = into.entry(r).or_insert(0);
        *e = (*e).max(c);
    }
}

/// A write's identity: the replica that coordinated it and that replica's counter for the
/// key. Displayed `r1:2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dot {
    pub replica: NodeId,
    pub counter: u64,
}

/// A shopping cart: items and, with tombstones on, removed items. What a client sees is
/// `items − removed`. Merging two carts takes the union of both sets (DDIA ch. 5:
/// "merging siblings … by taking the union"; a removal survives a merge only as a
/// tombstone).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub items: BTreeSet<String>,
    #[serde(default)]
    pub removed: BTreeSet<String>,
}

impl Cart {
    /// The items a client sees.
    pub fn visible(&self) -> Vec<String> {
        self.items.difference(&self.removed).cloned().collect()
    }
    /// Union of items and of tombstones.
    pub fn merge(&mut self, other: &Cart) {
        self.items.extend(other.items.iter().cloned());
        self.removed.extend(other.removed.iter().cloned());
    }
    /// `[milk, eggs]`, with tombstones as `−ham` after the items.
    pub fn describe(&self) -> String {
        let mut parts = self.visible();
        parts.extend(self.removed.iter().map(|r| format!("−{r}")));
        format!("[{}]", parts.join(", "))
    }
}

/// One of a key's concurrent values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sibling {
    pub value: Cart,
    /// The write that produced it.
    pub dot: Dot,
    /// What the writing client had seen (its context).
    pub context: VersionVector,
    /// The coordinator's physical clock at the write, ms (last-write-wins orders by it).
    pub timestamp: i64,
    /// The client operation that wrote it.
    pub op: OpId,
}

impl Sibling {
    /// The sibling's version vector: its context plus its own dot.
    pub fn version(&self) -> VersionVector {
        let mut v = self.context.clone();
        let e = v.entry(self.dot.replica).or_insert(0);
        *e = (*e).max(self.dot.counter);
        v
    }
}

/// How concurrent writes are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Conflict {
    /// Keep concurrent writes as siblings (dotted version vectors).
    VersionVectors,
    /// Keep the write with the greatest (timestamp, replica).
    LastWriteWins,
}

/// Merges `incoming` siblings into `into` under `conflict`. Version vectors: keep every
/// sibling whose dot no other sibling's context covers (one copy per dot). Last-write-wins:
/// keep the single greatest `(timestamp, dot.replica, dot.counter)`.
pub fn reconcile(into: &mut Vec<Sibling>, incoming: &[Sibling], conflict: Conflict) {
    let mut all: Vec<Sibling> = into.drain(..).chain(incoming.iter().cloned()).collect();
    match conflict {
        Conflict::VersionVectors => {
            let keep: Vec<bool> = all
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    !all.iter().any(|t| covers(&t.context, s.dot))
                        && !all[..i].iter().any(|t| t.dot == s.dot)
                })
                .collect();
            *into = all
                .into_iter()
                .zip(keep)
                .filter_map(|(s, k)| k.then_some(s))
                .collect();
            into.sort_by_key(|s| s.dot);
        }
        Conflict::LastWriteWins => {
            all.sort_by_key(|s| (s.timestamp, s.dot.replica, s.dot.counter));
            *into = all.pop().into_iter().collect();
        }
    }
}

/// The version vector of a key: the merge of its siblings' versions.
pub fn key_version(siblings: &[Sibling]) -> VersionVector {
    let mut v = VersionVector::new();
    for s in siblings {
        merge_into(&mut v, &s.version());
    }
    v
}

/// Messages.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Msg {
    /// Client → coordinator: write `value` to `key`, having seen `context`.
    Put {
        op: OpId,
        key: String,
        value: Cart,
        context: VersionVector,
    },
    /// Client → replica: read `key`.
    Get { op: OpId, key: String },
    /// Replica → client: the key's siblings and version vector after the operation, and
    /// for a write the sibling it created (even if last-write-wins discarded it at once).
    Reply {
        op: OpId,
        key: String,
        siblings: Vec<Sibling>,
        version: VersionVector,
        written: Option<Sibling>,
    },
    /// Replica → replica: a key's siblings (push replication or anti-entropy).
    Replicate { key: String, siblings: Vec<Sibling> },
}

/// Names for labels: `names[node]`.
fn vv_text(v: &VersionVector, names: &[String]) -> String {
    let parts: Vec<String> = v
        .iter()
        .filter(|(_, &c)| c > 0)
        .map(|(&r, c)| format!("{}:{c}", names.get(r).map_or("?", String::as_str)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn siblings_text(s: &[Sibling]) -> String {
    if s.is_empty() {
        return "(none)".into();
    }
    s.iter()
        .map(|s| s.value.describe())
        .collect::<Vec<_>>()
        .join(" | ")
}

impl Describe for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Put { key, value, .. } => format!("put {key}={}", value.describe()),
            Msg::Get { key, .. } => format!("get {key}"),
            Msg::Reply { siblings, .. } => format!("= {}", siblings_text(siblings)),
            Msg::Replicate { key, siblings } => {
                format!("replicate {key}={}", siblings_text(siblings))
            }
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Msg::Put { .. } => "write",
            Msg::Get { .. } => "read",
            Msg::Reply { .. } => "reply",
            Msg::Replicate { .. } => "replicate",
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![("type".to_string(), self.kind().to_string())];
        match self {
            Msg::Put { op, context, .. } => {
                f.push(("op".into(), format!("#{op}")));
                f.push(("context".into(), format!("{context:?}")));
            }
            Msg::Get { op, .. } => f.push(("op".into(), format!("#{op}"))),
            Msg::Reply { op, version, .. } => {
                f.push(("op".into(), format!("#{op}")));
                f.push(("version vector".into(), format!("{version:?}")));
            }
            Msg::Replicate { siblings, .. } => {
                f.push(("siblings".into(), siblings.len().to_string()));
            }
        }
        f
    }
}

/// Client requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Add `item` to the cart: merge the siblings last seen, add, write back with their
    /// version vector.
    Add {
        key: String,
        item: String,
        #[serde(default)]
        replica: Option<NodeId>,
    },
    /// Remove `item` (as a tombstone when the scenario keeps tombstones).
    Remove {
        key: String,
        item: String,
        #[serde(default)]
        replica: Option<NodeId>,
    },
    /// Read the key: all siblings and the version vector.
    Get {
        key: String,
        #[serde(default)]
        replica: Option<NodeId>,
    },
}

impl Request {
    fn key(&self) -> &str {
        match self {
            Request::Add { key, .. } | Request::Remove { key, .. } | Request::Get { key, .. } => {
                key
            }
        }
    }
    /// The replica the request names (its client's home replica when `None`).
    pub fn replica(&self) -> Option<NodeId> {
        match self {
            Request::Add { replica, .. }
            | Request::Remove { replica, .. }
            | Request::Get { replica, .. } => *replica,
        }
    }
}

impl Describe for Request {
    fn label(&self) -> String {
        match self {
            Request::Add { key, item, .. } => format!("add {item} to {key}"),
            Request::Remove { key, item, .. } => format!("remove {item} from {key}"),
            Request::Get { key, .. } => format!("get {key}"),
        }
    }
}

/// What an operation returns: the siblings and version vector the replica answered with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Response {
    pub siblings: Vec<Sibling>,
    pub version: VersionVector,
    /// For writes: the value the client wrote.
    pub wrote: Option<Cart>,
    /// For writes: the sibling the coordinator created (dot, timestamp).
    pub written: Option<Sibling>,
}

impl Describe for Response {
    fn label(&self) -> String {
        siblings_text(&self.siblings)
    }
}

/// No operator commands in this model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {}

impl Describe for Command {
    fn label(&self) -> String {
        match *self {}
    }
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Timer {
    /// Push every key to every other replica.
    AntiEntropy,
}

/// A node's visible state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum View {
    /// Per key, its siblings.
    Replica {
        data: BTreeMap<String, Vec<Sibling>>,
        names: Vec<String>,
    },
    /// What the client last saw per key (siblings and version vector).
    Client {
        known: BTreeMap<String, (Vec<Sibling>, VersionVector)>,
        names: Vec<String>,
    },
}

impl Describe for View {
    fn label(&self) -> String {
        let (data, names): (Vec<(&String, &Vec<Sibling>)>, &[String]) = match self {
            View::Replica { data, names } => (data.iter().collect(), names),
            View::Client { known, names } => {
                (known.iter().map(|(k, (s, _))| (k, s)).collect(), names)
            }
        };
        if data.is_empty() {
            return "empty".into();
        }
        data.iter()
            .map(|(k, s)| {
                format!(
                    "{k} = {} {}",
                    siblings_text(s),
                    vv_text(&key_version(s), names)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn fields(&self) -> Vec<(String, String)> {
        let (data, names) = match self {
            View::Replica { data, names } => (data.clone(), names),
            View::Client { known, names } => (
                known
                    .iter()
                    .map(|(k, (s, _))| (k.clone(), s.clone()))
                    .collect(),
                names,
            ),
        };
        data.iter()
            .flat_map(|(k, sibs)| {
                sibs.iter().map(move |s| {
                    (
                        k.clone(),
                        format!(
                            "{} {} (write {}:{}, t={})",
                            s.value.describe(),
                            vv_text(&s.version(), names),
                            names.get(s.dot.replica).map_or("?", String::as_str),
                            s.dot.counter,
                            s.timestamp
                        ),
                    )
                })
            })
            .collect()
    }
}

/// A replica.
#[derive(Clone, Debug, PartialEq)]
pub struct Replica {
    conflict: Conflict,
    replicas: Vec<NodeId>,
    anti_entropy_ms: Option<Time>,
    /// Durable: per key, its siblings.
    data: BTreeMap<String, Vec<Sibling>>,
    names: Vec<String>,
}

/// A client.
#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    home: NodeId,
    tombstones: bool,
    /// Per key: the siblings and version vector last returned to it.
    known: BTreeMap<String, (Vec<Sibling>, VersionVector)>,
    /// Operations in progress: op → (key, the value it wrote, if a write).
    waiting: BTreeMap<OpId, Option<Cart>>,
    names: Vec<String>,
}

/// A node of the store.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Replica(Replica),
    Client(Client),
}

impl Replica {
    fn push(&self, key: &str, ctx: &mut Ctx<Node>) {
        let me = ctx.me();
        let siblings = self.data.get(key).cloned().unwrap_or_default();
        for &r in self.replicas.iter().filter(|&&r| r != me) {
            ctx.send(
                r,
                Msg::Replicate {
                    key: key.to_string(),
                    siblings: siblings.clone(),
                },
            );
        }
    }

    fn reply(
        &self,
        to: NodeId,
        op: OpId,
        key: String,
        written: Option<Sibling>,
        ctx: &mut Ctx<Node>,
    ) {
        let siblings = self.data.get(&key).cloned().unwrap_or_default();
        let version = key_version(&siblings);
        ctx.send(
            to,
            Msg::Reply {
                op,
                key,
                siblings,
                version,
                written,
            },
        );
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
        if let Node::Replica(r) = self {
            if let Some(ms) = r.anti_entropy_ms {
                ctx.set_timer(Timer::AntiEntropy, ms.max(1));
            }
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        match (self, msg) {
            (
                Node::Replica(r),
                Msg::Put {
                    op,
                    key,
                    value,
                    context,
                },
            ) => {
                let me = ctx.me();
                let siblings = r.data.entry(key.clone()).or_default();
                let counter = key_version(siblings).get(&me).copied().unwrap_or(0) + 1;
                let write = Sibling {
                    value,
                    dot: Dot {
                        replica: me,
                        counter,
                    },
                    context,
                    timestamp: ctx.physical_clock_ms(),
                    op,
                };
                reconcile(siblings, std::slice::from_ref(&write), r.conflict);
                r.reply(from, op, key.clone(), Some(write), ctx);
                r.push(&key, ctx);
            }
            (Node::Replica(r), Msg::Get { op, key }) => r.reply(from, op, key, None, ctx),
            (Node::Replica(r), Msg::Replicate { key, siblings }) => {
                let mine = r.data.entry(key).or_default();
                reconcile(mine, &siblings, r.conflict);
            }
            (
                Node::Client(c),
                Msg::Reply {
                    op,
                    key,
                    siblings,
                    version,
                    written,
                },
            ) => {
                if let Some(wrote) = c.waiting.remove(&op) {
                    c.known.insert(key, (siblings.clone(), version.clone()));
                    ctx.reply(
                        op,
                        Response {
                            siblings,
                            version,
                            wrote,
                            written,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, _timer: Timer, ctx: &mut Ctx<Self>) {
        if let Node::Replica(r) = self {
            let keys: Vec<String> = r.data.keys().cloned().collect();
            for k in keys {
                r.push(&k, ctx);
            }
            if let Some(ms) = r.anti_entropy_ms {
                ctx.set_timer(Timer::AntiEntropy, ms.max(1));
            }
        }
    }

    fn on_request(&mut self, op: OpId, request: Request, ctx: &mut Ctx<Self>) {
        let Node::Client(c) = self else { return };
        let to = request.replica().unwrap_or(c.home);
        let key = request.key().to_string();
        let (seen, context) = c.known.get(&key).cloned().unwrap_or_default();
        // The client merges what it last saw (DDIA: "take the union").
        let mut value = Cart::default();
        for s in &seen {
            value.merge(&s.value);
        }
        match request {
            Request::Get { .. } => {
                c.waiting.insert(op, None);
                ctx.send(to, Msg::Get { op, key });
                return;
            }
            Request::Add { item, .. } => {
                value.removed.remove(&item);
                value.items.insert(item);
            }
            Request::Remove { item, .. } => {
                if c.tombstones {
                    value.removed.insert(item);
                } else {
                    value.items.remove(&item);
                }
            }
        }
        c.waiting.insert(op, Some(value.clone()));
        ctx.send(
            to,
            Msg::Put {
                op,
                key,
                value,
                context,
            },
        );
    }

    fn on_crash(&mut self) {
        if let Node::Client(c) = self {
            c.waiting.clear();
        }
    }

    fn on_restart(&mut self, ctx: &mut Ctx<Self>) {
        self.on_start(ctx);
    }

    fn view(&self) -> View {
        match self {
            Node::Replica(r) => View::Replica {
                data: r.data.clone(),
                names: r.names.clone(),
            },
            Node::Client(c) => View::Client {
                known: c.known.clone(),
                names: c.names.clone(),
            },
        }
    }
}

/// A replica in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSpec {
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

pub use super::scenario::ClientSpec;

/// A leaderless store scenario as written in lesson files (nodes by name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderlessScenario {
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration_ms: Time,
    /// `"version-vectors"` or `"last-write-wins"`.
    #[serde(default = "default_conflict")]
    pub conflict: Conflict,
    /// Removals leave tombstones (otherwise a removed item comes back on merge).
    #[serde(default)]
    pub tombstones: bool,
    /// 1–7 replicas.
    pub replicas: Vec<ReplicaSpec>,
    pub clients: Vec<ClientSpec>,
    #[serde(default = "default_latency")]
    pub latency_ms: Time,
    #[serde(default)]
    pub jitter_ms: Time,
    #[serde(default)]
    pub links: Vec<NamedLink>,
    #[serde(default)]
    pub loss: f64,
    /// Every replica pushes all its keys this often (simulated ms); off when absent.
    #[serde(default)]
    pub anti_entropy_ms: Option<Time>,
}

fn default_duration() -> Time {
    500
}
fn default_conflict() -> Conflict {
    Conflict::VersionVectors
}
fn default_latency() -> Time {
    10
}

impl LeaderlessScenario {
    /// All node names in id order: replicas, then clients.
    pub fn names(&self) -> Vec<String> {
        self.replicas
            .iter()
            .map(|r| r.name.clone())
            .chain(self.clients.iter().map(|c| c.name.clone()))
            .collect()
    }

    /// The id of a named node, or an error listing the known names.
    pub fn node(&self, name: &str) -> Result<NodeId, String> {
        scenario::node_id(&self.names(), name)
    }

    /// Checks the scenario and builds the engine setup. Errors say what is wrong.
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        let names = self.names();
        if !(1..=7).contains(&self.replicas.len()) {
            return Err(format!(
                "{} replicas: a scenario has 1 to 7",
                self.replicas.len()
            ));
        }
        if self.clients.is_empty() {
            return Err("a scenario needs at least one client".into());
        }
        scenario::check_names(&names)?;
        scenario::check_time("duration_ms", self.duration_ms)?;
        if let Some(ae) = self.anti_entropy_ms {
            scenario::check_time("anti_entropy_ms", ae)?;
        }
        let network = scenario::network(
            &names,
            self.latency_ms,
            self.jitter_ms,
            &self.links,
            self.loss,
        )?;
        let replicas: Vec<NodeId> = (0..self.replicas.len()).collect();
        let mut nodes = Vec::new();
        let mut protocols = Vec::new();
        for r in &self.replicas {
            nodes.push(NodeInfo {
                name: r.name.clone(),
                role: NodeRole::Server,
                place: r.place.clone(),
                clock: PhysicalClock {
                    offset_ms: r.clock_offset_ms,
                    drift_ppm: r.clock_drift_ppm,
                },
            });
            protocols.push(Node::Replica(Replica {
                conflict: self.conflict,
                replicas: replicas.clone(),
                anti_entropy_ms: self.anti_entropy_ms,
                data: BTreeMap::new(),
                names: names.clone(),
            }));
        }
        let all_names = self.names();
        for c in &self.clients {
            let home = c.home(&all_names, self.replicas.len())?;
            nodes.push(NodeInfo {
                name: c.name.clone(),
                role: NodeRole::Client,
                place: c.place.clone(),
                clock: PhysicalClock::default(),
            });
            protocols.push(Node::Client(Client {
                home,
                tombstones: self.tombstones,
                known: BTreeMap::new(),
                waiting: BTreeMap::new(),
                names: names.clone(),
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

/// Convenience: at `at`, `client` adds `item` to the cart `key` (at its home replica).
pub fn add(at: Time, client: NodeId, key: &str, item: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request: Request::Add {
                key: key.into(),
                item: item.into(),
                replica: None,
            },
            label: None,
        },
    )
}

/// Convenience: at `at`, `client` removes `item` from the cart `key`.
pub fn remove(at: Time, client: NodeId, key: &str, item: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request: Request::Remove {
                key: key.into(),
                item: item.into(),
                replica: None,
            },
            label: None,
        },
    )
}

/// Convenience: at `at`, `client` reads `key` from `replica` (its home when `None`).
pub fn get(at: Time, client: NodeId, key: &str, replica: Option<NodeId>) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request: Request::Get {
                key: key.into(),
                replica,
            },
            label: None,
        },
    )
}

pub mod analysis;
