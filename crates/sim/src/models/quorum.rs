//! A Dynamo-style leaderless register store with quorums `n`, `w`, `r`, and a linearizable
//! mode (ABD), for lessons on quorums, CAP and linearizability.
//!
//! Sources: DeCandia et al., "Dynamo: Amazon's Highly Available Key-value Store" (SOSP
//! 2007), §4.5 "Execution of get() and put() operations", §4.6 "Handling Failures: Hinted
//! Handoff", §4.7 "Handling permanent failures: Replica synchronization"; Kleppmann,
//! *Designing Data-Intensive Applications* (DDIA), ch. 5 "Leaderless Replication" and ch. 9
//! "Linearizability and quorums" (Figure 9-6); Attiya, Bar-Noy & Dolev, "Sharing Memory
//! Robustly in Message-Passing Systems" (JACM 1995) and its multi-writer form, Lynch &
//! Shvartsman, "Robust emulation of shared memory using dynamic quorum-acknowledged
//! broadcasts" (FTCS 1997). Details and presets: `docs/QUORUMS.md`.
//!
//! - **Nodes**: 3–7 replicas (ids `0..replicas`, in ring order) then clients. Each client
//!   sends every request to its home replica, which *coordinates* it.
//! - **Placement**: a key's *preference list* is the first `n` replicas on the ring from
//!   the key's hash ([`preference_list`]); with `n` = number of replicas every replica
//!   holds every key.
//! - **Versions**: a stored value carries a [`Version`] `(counter, coordinator)`, ordered
//!   by counter then coordinator id; a replica keeps the larger (last-write-wins, as
//!   Cassandra resolves cells — but with a Lamport counter instead of a wall clock, so no
//!   clock skew). In eventual mode the coordinator stamps a write with its Lamport clock + 1
//!   (the clock follows every version it sees); concurrent writes through different
//!   coordinators are silently ordered by this stamp and all but one lost. No vector
//!   clocks or siblings here: see [`super::leaderless`] for those.
//! - **`consistency = "eventual"`** (Dynamo): a write goes to the key's `n` preference
//!   replicas and is acknowledged to the client after `w` acks (the coordinator's own
//!   store counts when it is one of them); a read asks the `n` and answers after `r`
//!   replies with the highest version. Fewer than `w` / `r` within `timeout_ms` → the
//!   coordinator answers "timed out" (a timed-out write may still be stored somewhere).
//!   `read_repair`: after answering, the coordinator sends the newest version to every
//!   replier that had an older one, late repliers included (asynchronously, as Dynamo).
//!   `sloppy_quorum` (hinted handoff): preference replicas that have not acked a write
//!   within `handoff_after_ms` are replaced by the next replicas on the ring beyond the
//!   first `n`, which get the write tagged with a hint naming the intended replica and
//!   count toward `w`; a hint holder retries delivering the hinted write to the intended
//!   replica every `handoff_after_ms` and drops the hint once acked. Reads still ask only
//!   the preference list. `anti_entropy_ms`: every replica periodically sends its entries
//!   to the next replica of each key's preference list (with `n` = replicas: the next
//!   replica on the ring), which keeps any newer version (Dynamo sends Merkle-tree
//!   summaries to send less; the outcome is the same).
//! - **`consistency = "linearizable"`** (ABD, multi-writer): quorums are majorities of the
//!   `n` preference replicas; `w` and `r` are ignored. A write queries a majority for
//!   their versions, stores `(max counter + 1, coordinator)` at a majority, then acks; a
//!   read queries a majority, writes the highest version back to a majority (synchronous
//!   read repair), then returns it. DDIA ch. 9: "a reader must perform read repair
//!   synchronously … a writer must read the latest state of a quorum of nodes before
//!   sending its writes". No majority within `timeout_ms` → the request times out (is
//!   refused). The counter also exceeds every stamp the coordinator made before, so two
//!   writes never share a version.
//! - **Crashes**: a replica's data, hints and Lamport counter are durable; requests it was
//!   coordinating are volatile and lost (their clients time out by their own timer,
//!   2 × `timeout_ms`).

use super::scenario::{self, NamedLink};
use crate::engine::{Ctx, NodeInfo, NodeRole, PhysicalClock, Protocol, Setup};
use crate::{Action, Describe, Intervention, NodeId, OpId, Time};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub mod analysis;
pub mod presets;

/// A write's version: `(counter, replica)` ordered by counter, then by the coordinating
/// replica's id. `name` is that replica's name, for labels only (a function of `replica`,
/// so it never decides an order). Displayed `v3.r1`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    pub counter: u64,
    pub replica: NodeId,
    pub name: String,
}

impl Version {
    /// `v3.r1`.
    pub fn label(&self) -> String {
        format!("v{}.{}", self.counter, self.name)
    }
}

/// A stored value with its version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub value: String,
    pub version: Version,
}

impl Entry {
    /// `1 v3.r1`.
    pub fn label(&self) -> String {
        format!("{} {}", self.value, self.version.label())
    }
}

/// A write held for another replica (hinted handoff): `entry` of `key`, meant for
/// `intended`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hint {
    pub key: String,
    pub entry: Entry,
    pub intended: NodeId,
    /// The intended replica's name, for labels.
    pub intended_name: String,
}

/// The consistency mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consistency {
    /// Dynamo's quorums `n`, `w`, `r` (with optional read repair, sloppy quorum and
    /// anti-entropy).
    Eventual,
    /// ABD: majority quorums, writes query before storing, reads write back.
    Linearizable,
}

/// A read or a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Read,
    Write,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Served: the quorum answered.
    Ok,
    /// Refused: no quorum in time (the coordinator gave up, or the client's own timer
    /// fired). A timed-out write may still be stored on some replicas.
    TimedOut,
}

/// FNV-1a (64 bits) of a key: the key's position on the ring. Deterministic across
/// platforms.
pub fn key_hash(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Every replica in ring order starting at the key's position: the first `n` are its
/// preference list, the rest the fallbacks a sloppy quorum uses, in order. Empty when
/// there are no replicas.
pub fn ring_order(key: &str, replicas: usize) -> Vec<NodeId> {
    if replicas == 0 {
        return Vec::new();
    }
    let start = (key_hash(key) % replicas as u64) as usize;
    (0..replicas).map(|i| (start + i) % replicas).collect()
}

/// The key's preference list: the first `n` replicas (ids `0..replicas`) on the ring from
/// the key's hash (all of them when `n ≥ replicas`).
pub fn preference_list(key: &str, replicas: usize, n: usize) -> Vec<NodeId> {
    let mut r = ring_order(key, replicas);
    r.truncate(n);
    r
}

/// The smallest majority of `n`: `n / 2 + 1`.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// Messages.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Msg {
    /// Client → coordinator: write `value` to `key`.
    Write {
        op: OpId,
        key: String,
        value: String,
    },
    /// Client → coordinator: read `key`.
    Read { op: OpId, key: String },
    /// Coordinator → replica: store `entry` (keep it if newer). With a hint, the receiver
    /// holds it for the intended replica (sloppy quorum).
    Store {
        op: OpId,
        key: String,
        entry: Entry,
        hint: Option<(NodeId, String)>,
    },
    /// Coordinator → replica: ABD read's write-back of the value it is about to return.
    WriteBack { op: OpId, key: String, entry: Entry },
    /// Replica → coordinator: stored (or held the hint).
    Ack { op: OpId, key: String },
    /// Coordinator → replica: what do you hold for `key`? (`for_write`: an ABD write's
    /// query for the highest version.)
    Fetch {
        op: OpId,
        key: String,
        for_write: bool,
    },
    /// Replica → coordinator: what it holds for `key` (`None`: nothing).
    Value {
        op: OpId,
        key: String,
        entry: Option<Entry>,
    },
    /// Coordinator → replica: asynchronous read repair (no answer).
    Repair { key: String, entry: Entry },
    /// Hint holder → intended replica: the write it held.
    Handoff { key: String, entry: Entry },
    /// Intended replica → hint holder: stored; drop the hint.
    HandoffAck { key: String, version: Version },
    /// Replica → next replica of each key's preference list: anti-entropy.
    Sync { entries: Vec<(String, Entry)> },
    /// Coordinator → client: the result.
    Reply { op: OpId, response: Response },
}

fn opt_entry(key: &str, e: &Option<Entry>) -> String {
    match e {
        Some(e) => format!("{key}={} {}", e.value, e.version.label()),
        None => format!("{key}=∅"),
    }
}

impl Describe for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Write { key, value, .. } => format!("write {key}={value}"),
            Msg::Read { key, .. } => format!("read {key}"),
            Msg::Store {
                key, entry, hint, ..
            } => match hint {
                Some((_, name)) => format!(
                    "write {key}={} {} · hint for {name}",
                    entry.value,
                    entry.version.label()
                ),
                None => format!("write {key}={} {}", entry.value, entry.version.label()),
            },
            Msg::WriteBack { key, entry, .. } => {
                format!("write back {key}={} {}", entry.value, entry.version.label())
            }
            Msg::Ack { .. } => "ack".into(),
            Msg::Fetch { key, for_write, .. } => {
                if *for_write {
                    format!("version of {key}?")
                } else {
                    format!("read {key}")
                }
            }
            Msg::Value { key, entry, .. } => opt_entry(key, entry),
            Msg::Repair { key, entry } => {
                format!("repair {key}={} {}", entry.value, entry.version.label())
            }
            Msg::Handoff { key, entry } => {
                format!("handoff {key}={} {}", entry.value, entry.version.label())
            }
            Msg::HandoffAck { .. } => "ack handoff".into(),
            Msg::Sync { entries } => format!(
                "sync {}",
                entries
                    .iter()
                    .map(|(k, e)| format!("{k}={} {}", e.value, e.version.label()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Msg::Reply { response, .. } => response.label(),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Msg::Write { .. } | Msg::Store { .. } | Msg::WriteBack { .. } => "write",
            Msg::Read { .. } | Msg::Fetch { .. } => "read",
            Msg::Ack { .. } | Msg::HandoffAck { .. } => "ack",
            Msg::Value { .. } | Msg::Reply { .. } => "reply",
            Msg::Repair { .. } => "repair",
            Msg::Handoff { .. } => "handoff",
            Msg::Sync { .. } => "sync",
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![("type".to_string(), self.kind().to_string())];
        match self {
            Msg::Write { op, .. }
            | Msg::Read { op, .. }
            | Msg::Store { op, .. }
            | Msg::WriteBack { op, .. }
            | Msg::Ack { op, .. }
            | Msg::Fetch { op, .. }
            | Msg::Value { op, .. }
            | Msg::Reply { op, .. } => f.push(("op".into(), format!("#{op}"))),
            _ => {}
        }
        if let Msg::Store {
            hint: Some((_, name)),
            ..
        } = self
        {
            f.push(("hint".into(), format!("for {name}")));
        }
        f
    }
}

/// Client requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Write `value` to `key`.
    Write { key: String, value: String },
    /// Read `key`.
    Read { key: String },
}

impl Request {
    /// The key it is about.
    pub fn key(&self) -> &str {
        match self {
            Request::Write { key, .. } | Request::Read { key } => key,
        }
    }
    /// Read or write.
    pub fn kind(&self) -> Kind {
        match self {
            Request::Write { .. } => Kind::Write,
            Request::Read { .. } => Kind::Read,
        }
    }
}

impl Describe for Request {
    fn label(&self) -> String {
        match self {
            Request::Write { key, value } => format!("write {key}={value}"),
            Request::Read { key } => format!("read {key}"),
        }
    }
}

/// What a request returns to its client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Response {
    pub kind: Kind,
    pub key: String,
    pub outcome: Outcome,
    /// A write: the value written. A read: the value read (`None`: the key was absent, or
    /// the read timed out).
    pub value: Option<String>,
    /// The version written or read, when known (a timed-out ABD write may not have one).
    pub version: Option<Version>,
    /// Replicas whose answers to the query phase counted (reads; ABD writes).
    pub read_from: Vec<NodeId>,
    /// Replicas (hint holders included) that acknowledged storing (writes; ABD reads'
    /// write-back), by the time of the answer.
    pub stored_at: Vec<NodeId>,
    /// Replicas the coordinator contacted (the preference list, then any fallbacks).
    pub asked: Vec<NodeId>,
    /// How many answers it waited for (`w`, `r`, or a majority of `n`).
    pub needed: usize,
    /// Why it timed out, in words.
    pub reason: Option<String>,
}

impl Describe for Response {
    fn label(&self) -> String {
        match (self.outcome, self.kind) {
            (Outcome::TimedOut, _) => "timeout".into(),
            (Outcome::Ok, Kind::Write) => match &self.version {
                Some(v) => format!("ok {}", v.label()),
                None => "ok".into(),
            },
            (Outcome::Ok, Kind::Read) => match (&self.value, &self.version) {
                (Some(x), Some(v)) => format!("{}={x} {}", self.key, v.label()),
                _ => format!("{}=∅", self.key),
            },
        }
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
    /// Coordinator: give up on `op` if it has not been answered (`timeout_ms`).
    Deadline(OpId),
    /// Coordinator: hand `op`'s write to fallback replicas (`handoff_after_ms`).
    Handoff(OpId),
    /// Client: no answer to `op` (2 × `timeout_ms`).
    ClientTimeout(OpId),
    /// Replica: anti-entropy round.
    AntiEntropy,
    /// Hint holder: retry delivering hints.
    HintRetry,
}

/// A node's visible state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum View {
    /// Per key, its value and version; the hints it holds for other replicas.
    Replica {
        data: BTreeMap<String, Entry>,
        hints: Vec<Hint>,
    },
    /// Per key, what the client last got from a successful request; requests in progress.
    Client {
        last: BTreeMap<String, Option<Entry>>,
        pending: usize,
    },
}

impl Describe for View {
    fn label(&self) -> String {
        match self {
            View::Replica { data, hints } => {
                let mut parts: Vec<String> = data
                    .iter()
                    .map(|(k, e)| format!("{k}={} {}", e.value, e.version.label()))
                    .collect();
                if parts.is_empty() {
                    parts.push("empty".into());
                }
                for h in hints {
                    parts.push(format!(
                        "hint for {}: {}={} {}",
                        h.intended_name,
                        h.key,
                        h.entry.value,
                        h.entry.version.label()
                    ));
                }
                parts.join("; ")
            }
            View::Client { last, pending } => {
                let mut parts: Vec<String> = last.iter().map(|(k, e)| opt_entry(k, e)).collect();
                if *pending > 0 {
                    parts.push(format!("{pending} pending"));
                }
                if parts.is_empty() {
                    "idle".into()
                } else {
                    parts.join("; ")
                }
            }
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        match self {
            View::Replica { data, hints } => data
                .iter()
                .map(|(k, e)| (k.clone(), e.label()))
                .chain(hints.iter().map(|h| {
                    (
                        format!("hint for {}", h.intended_name),
                        format!("{}={}", h.key, h.entry.label()),
                    )
                }))
                .collect(),
            View::Client { last, pending } => last
                .iter()
                .map(|(k, e)| (k.clone(), opt_entry(k, e)))
                .chain(std::iter::once(("pending".into(), pending.to_string())))
                .collect(),
        }
    }
}

/// The store's parameters, shared by every node.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub consistency: Consistency,
    pub n: usize,
    pub w: usize,
    pub r: usize,
    pub read_repair: bool,
    pub sloppy_quorum: bool,
    /// Simulated ms.
    pub handoff_after_ms: Time,
    /// Simulated ms; `None`: off.
    pub anti_entropy_ms: Option<Time>,
    /// Simulated ms.
    pub timeout_ms: Time,
    /// Number of replicas (ids `0..replicas`).
    pub replicas: usize,
    /// Every node's name, by id.
    pub names: Vec<String>,
}

impl Config {
    fn name(&self, n: NodeId) -> String {
        self.names
            .get(n)
            .cloned()
            .unwrap_or_else(|| format!("node {n}"))
    }
    fn pref(&self, key: &str) -> Vec<NodeId> {
        preference_list(key, self.replicas, self.n)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Query,
    Store,
    Done,
}

/// A request a replica coordinates (volatile).
#[derive(Clone, Debug, PartialEq)]
struct Coord {
    client: NodeId,
    kind: Kind,
    key: String,
    /// A write's value.
    value: Option<String>,
    phase: Phase,
    asked: Vec<NodeId>,
    /// Query replies by replica.
    replies: BTreeMap<NodeId, Option<Entry>>,
    /// Replicas that acknowledged the store phase.
    acks: BTreeSet<NodeId>,
    /// The entry being stored (or, for a read, the answer).
    entry: Option<Entry>,
    /// Preference replicas already replaced by a fallback.
    handed: BTreeSet<NodeId>,
    /// Read repair sent: replica → version.
    repaired: BTreeMap<NodeId, Version>,
    /// Query replies counted when the query phase ended.
    read_from: Vec<NodeId>,
}

/// A replica: a storage node that also coordinates its clients' requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Replica {
    pub config: Config,
    /// Durable: per key, the newest entry it has seen.
    pub data: BTreeMap<String, Entry>,
    /// Durable: writes held for other replicas.
    pub hints: Vec<Hint>,
    /// Durable: the Lamport counter (the highest version counter seen or stamped).
    pub clock: u64,
    coord: BTreeMap<OpId, Coord>,
}

/// A client.
#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    pub home: NodeId,
    /// Its own timeout, simulated ms (2 × `timeout_ms`).
    pub timeout_ms: Time,
    waiting: BTreeMap<OpId, (Kind, String)>,
    last: BTreeMap<String, Option<Entry>>,
}

/// A node of the store.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Replica(Replica),
    Client(Client),
}

impl Replica {
    /// A replica with no data, for `config`.
    pub fn new(config: Config) -> Self {
        Replica {
            config,
            data: BTreeMap::new(),
            hints: Vec::new(),
            clock: 0,
            coord: BTreeMap::new(),
        }
    }

    fn observe(&mut self, v: &Version) {
        self.clock = self.clock.max(v.counter);
    }

    /// Keeps `entry` if it is newer than what the replica holds.
    fn apply(&mut self, key: &str, entry: &Entry) {
        self.observe(&entry.version);
        let newer = self.data.get(key).is_none_or(|e| e.version < entry.version);
        if newer {
            self.data.insert(key.to_string(), entry.clone());
        }
    }

    fn stamp(&mut self, at_least: u64, me: NodeId) -> Version {
        self.clock = self.clock.max(at_least) + 1;
        Version {
            counter: self.clock,
            replica: me,
            name: self.config.name(me),
        }
    }

    fn hold_hint(&mut self, key: &str, entry: &Entry, intended: NodeId, ctx: &mut Ctx<Node>) {
        self.observe(&entry.version);
        if self.hints.is_empty() {
            ctx.set_timer(Timer::HintRetry, self.config.handoff_after_ms.max(1));
        }
        if let Some(h) = self
            .hints
            .iter_mut()
            .find(|h| h.key == key && h.intended == intended)
        {
            if h.entry.version < entry.version {
                h.entry = entry.clone();
            }
            return;
        }
        self.hints.push(Hint {
            key: key.to_string(),
            entry: entry.clone(),
            intended,
            intended_name: self.config.name(intended),
        });
    }

    fn start(
        &mut self,
        op: OpId,
        client: NodeId,
        kind: Kind,
        key: String,
        value: Option<String>,
        ctx: &mut Ctx<Node>,
    ) {
        let me = ctx.me();
        let pref = self.config.pref(&key);
        let mut c = Coord {
            client,
            kind,
            key: key.clone(),
            value: value.clone(),
            phase: Phase::Query,
            asked: pref.clone(),
            replies: BTreeMap::new(),
            acks: BTreeSet::new(),
            entry: None,
            handed: BTreeSet::new(),
            repaired: BTreeMap::new(),
            read_from: Vec::new(),
        };
        let lin = self.config.consistency == Consistency::Linearizable;
        if kind == Kind::Write && !lin {
            // Dynamo: stamp and store at once.
            let version = self.stamp(0, me);
            let entry = Entry {
                value: value.unwrap_or_default(),
                version,
            };
            c.phase = Phase::Store;
            c.entry = Some(entry.clone());
            self.coord.insert(op, c);
            self.send_store(op, &pref, &key, &entry, false, ctx);
            if self.config.sloppy_quorum {
                ctx.set_timer(Timer::Handoff(op), self.config.handoff_after_ms.max(1));
            }
        } else {
            self.coord.insert(op, c);
            for &p in &pref {
                if p == me {
                    let mine = self.data.get(&key).cloned();
                    if let Some(c) = self.coord.get_mut(&op) {
                        c.replies.insert(me, mine);
                    }
                } else {
                    ctx.send(
                        p,
                        Msg::Fetch {
                            op,
                            key: key.clone(),
                            for_write: kind == Kind::Write,
                        },
                    );
                }
            }
        }
        ctx.set_timer(Timer::Deadline(op), self.config.timeout_ms.max(1));
        self.progress(op, ctx);
    }

    /// Sends `entry` to `targets` (storing locally and self-acking when the coordinator is
    /// one of them).
    fn send_store(
        &mut self,
        op: OpId,
        targets: &[NodeId],
        key: &str,
        entry: &Entry,
        write_back: bool,
        ctx: &mut Ctx<Node>,
    ) {
        let me = ctx.me();
        for &p in targets {
            if p == me {
                self.apply(key, entry);
                if let Some(c) = self.coord.get_mut(&op) {
                    c.acks.insert(me);
                }
            } else if write_back {
                ctx.send(
                    p,
                    Msg::WriteBack {
                        op,
                        key: key.to_string(),
                        entry: entry.clone(),
                    },
                );
            } else {
                ctx.send(
                    p,
                    Msg::Store {
                        op,
                        key: key.to_string(),
                        entry: entry.clone(),
                        hint: None,
                    },
                );
            }
        }
    }

    fn needed(&self, c: &Coord) -> usize {
        match (self.config.consistency, c.kind) {
            (Consistency::Linearizable, _) => majority(self.config.n),
            (Consistency::Eventual, Kind::Write) => self.config.w,
            (Consistency::Eventual, Kind::Read) => self.config.r,
        }
    }

    /// Moves `op` through its phases as far as the answers received allow.
    fn progress(&mut self, op: OpId, ctx: &mut Ctx<Node>) {
        let me = ctx.me();
        loop {
            let Some(c) = self.coord.get(&op) else { return };
            let need = self.needed(c);
            match c.phase {
                Phase::Done => return,
                Phase::Query => {
                    if c.replies.len() < need {
                        return;
                    }
                    let best = c
                        .replies
                        .values()
                        .flatten()
                        .max_by(|a, b| a.version.cmp(&b.version))
                        .cloned();
                    let read_from: Vec<NodeId> = c.replies.keys().copied().collect();
                    let (kind, key, value) = (c.kind, c.key.clone(), c.value.clone());
                    let lin = self.config.consistency == Consistency::Linearizable;
                    let pref = self.config.pref(&key);
                    match (lin, kind) {
                        (true, Kind::Write) => {
                            let max = best.as_ref().map_or(0, |e| e.version.counter);
                            let version = self.stamp(max, me);
                            let entry = Entry {
                                value: value.unwrap_or_default(),
                                version,
                            };
                            if let Some(c) = self.coord.get_mut(&op) {
                                c.phase = Phase::Store;
                                c.entry = Some(entry.clone());
                                c.read_from = read_from;
                            }
                            self.send_store(op, &pref, &key, &entry, false, ctx);
                        }
                        (true, Kind::Read) => {
                            if let Some(c) = self.coord.get_mut(&op) {
                                c.read_from = read_from;
                                c.entry = best.clone();
                                c.phase = Phase::Store;
                            }
                            match best {
                                Some(entry) => self.send_store(op, &pref, &key, &entry, true, ctx),
                                None => {
                                    // Nothing to write back: the absent value is what a
                                    // majority holds already.
                                    self.answer(op, ctx);
                                    return;
                                }
                            }
                        }
                        (false, _) => {
                            if let Some(c) = self.coord.get_mut(&op) {
                                c.read_from = read_from;
                                c.entry = best;
                            }
                            self.answer(op, ctx);
                            if self.config.read_repair {
                                self.repair(op, ctx);
                            }
                            return;
                        }
                    }
                }
                Phase::Store => {
                    if c.acks.len() < need {
                        return;
                    }
                    self.answer(op, ctx);
                    return;
                }
            }
        }
    }

    fn response(&self, c: &Coord, outcome: Outcome, reason: Option<String>) -> Response {
        let value = match c.kind {
            Kind::Write => c.value.clone(),
            Kind::Read => c.entry.as_ref().map(|e| e.value.clone()),
        };
        Response {
            kind: c.kind,
            key: c.key.clone(),
            outcome,
            value: if outcome == Outcome::Ok || c.kind == Kind::Write {
                value
            } else {
                None
            },
            version: c.entry.as_ref().map(|e| e.version.clone()),
            read_from: c.read_from.clone(),
            stored_at: c.acks.iter().copied().collect(),
            asked: c.asked.clone(),
            needed: self.needed(c),
            reason,
        }
    }

    fn answer(&mut self, op: OpId, ctx: &mut Ctx<Node>) {
        let Some(c) = self.coord.get(&op) else { return };
        let response = self.response(c, Outcome::Ok, None);
        let client = c.client;
        if let Some(c) = self.coord.get_mut(&op) {
            c.phase = Phase::Done;
        }
        ctx.send(client, Msg::Reply { op, response });
    }

    /// Read repair: the newest version among the replies to every replier holding older.
    fn repair(&mut self, op: OpId, ctx: &mut Ctx<Node>) {
        let me = ctx.me();
        let Some(c) = self.coord.get(&op) else { return };
        let Some(best) = c
            .replies
            .values()
            .flatten()
            .max_by(|a, b| a.version.cmp(&b.version))
            .cloned()
        else {
            return;
        };
        let key = c.key.clone();
        let stale: Vec<NodeId> = c
            .replies
            .iter()
            .filter(|(n, e)| {
                e.as_ref().is_none_or(|e| e.version < best.version)
                    && c.repaired.get(n).is_none_or(|v| *v < best.version)
            })
            .map(|(n, _)| *n)
            .collect();
        for n in stale {
            if let Some(c) = self.coord.get_mut(&op) {
                c.repaired.insert(n, best.version.clone());
            }
            if n == me {
                self.apply(&key, &best);
            } else {
                ctx.send(
                    n,
                    Msg::Repair {
                        key: key.clone(),
                        entry: best.clone(),
                    },
                );
            }
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        let me = ctx.me();
        match msg {
            Msg::Write { op, key, value } => {
                self.start(op, from, Kind::Write, key, Some(value), ctx)
            }
            Msg::Read { op, key } => self.start(op, from, Kind::Read, key, None, ctx),
            Msg::Store {
                op,
                key,
                entry,
                hint,
            } => {
                match hint {
                    Some((intended, _)) if intended != me => {
                        self.hold_hint(&key, &entry, intended, ctx)
                    }
                    _ => self.apply(&key, &entry),
                }
                ctx.send(from, Msg::Ack { op, key });
            }
            Msg::WriteBack { op, key, entry } => {
                self.apply(&key, &entry);
                ctx.send(from, Msg::Ack { op, key });
            }
            Msg::Ack { op, .. } => {
                if let Some(c) = self.coord.get_mut(&op) {
                    if c.phase != Phase::Query && c.asked.contains(&from) {
                        c.acks.insert(from);
                        self.progress(op, ctx);
                    }
                }
            }
            Msg::Fetch { op, key, .. } => {
                let entry = self.data.get(&key).cloned();
                ctx.send(from, Msg::Value { op, key, entry });
            }
            Msg::Value { op, entry, .. } => {
                if let Some(e) = &entry {
                    self.observe(&e.version);
                }
                let lin = self.config.consistency == Consistency::Linearizable;
                let Some(c) = self.coord.get_mut(&op) else {
                    return;
                };
                if !c.asked.contains(&from)
                    || (c.phase != Phase::Query && (lin || c.kind == Kind::Write))
                {
                    return;
                }
                c.replies.insert(from, entry);
                if c.phase == Phase::Query {
                    self.progress(op, ctx);
                } else if self.config.read_repair {
                    // A late replier of an answered eventual read.
                    self.repair(op, ctx);
                }
            }
            Msg::Repair { key, entry } => self.apply(&key, &entry),
            Msg::Handoff { key, entry } => {
                self.apply(&key, &entry);
                ctx.send(
                    from,
                    Msg::HandoffAck {
                        key,
                        version: entry.version,
                    },
                );
            }
            Msg::HandoffAck { key, version } => {
                self.hints.retain(|h| {
                    !(h.intended == from && h.key == key && h.entry.version <= version)
                });
                if self.hints.is_empty() {
                    ctx.cancel_timer(Timer::HintRetry);
                }
            }
            Msg::Sync { entries } => {
                for (k, e) in entries {
                    self.apply(&k, &e);
                }
            }
            Msg::Reply { .. } => {}
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Node>) {
        let me = ctx.me();
        match timer {
            Timer::Deadline(op) => {
                let Some(c) = self.coord.remove(&op) else {
                    return;
                };
                if c.phase != Phase::Done {
                    let got = if c.phase == Phase::Query {
                        c.replies.len()
                    } else {
                        c.acks.len()
                    };
                    let reason = format!(
                        "{} got {got} of the {} answers it needed within {} ms",
                        self.config.name(me),
                        self.needed(&c),
                        self.config.timeout_ms
                    );
                    let response = self.response(&c, Outcome::TimedOut, Some(reason));
                    ctx.send(c.client, Msg::Reply { op, response });
                }
            }
            Timer::Handoff(op) => {
                let Some(c) = self.coord.get(&op) else { return };
                let Some(entry) = c.entry.clone() else { return };
                let key = c.key.clone();
                let ring = ring_order(&key, self.config.replicas);
                let pref = self.config.pref(&key);
                let missing: Vec<NodeId> = pref
                    .iter()
                    .copied()
                    .filter(|p| !c.acks.contains(p) && !c.handed.contains(p))
                    .collect();
                let mut fallbacks = ring
                    .iter()
                    .copied()
                    .skip(self.config.n)
                    .filter(|f| !c.asked.contains(f));
                let mut sends = Vec::new();
                for p in missing {
                    let Some(f) = fallbacks.next() else { break };
                    sends.push((p, f));
                }
                for (p, f) in sends {
                    if let Some(c) = self.coord.get_mut(&op) {
                        c.handed.insert(p);
                        c.asked.push(f);
                    }
                    if f == me {
                        self.hold_hint(&key, &entry, p, ctx);
                        if let Some(c) = self.coord.get_mut(&op) {
                            c.acks.insert(me);
                        }
                    } else {
                        ctx.send(
                            f,
                            Msg::Store {
                                op,
                                key: key.clone(),
                                entry: entry.clone(),
                                hint: Some((p, self.config.name(p))),
                            },
                        );
                    }
                }
                self.progress(op, ctx);
            }
            Timer::AntiEntropy => {
                let mut out: BTreeMap<NodeId, Vec<(String, Entry)>> = BTreeMap::new();
                for (k, e) in &self.data {
                    let pref = self.config.pref(k);
                    if let Some(i) = pref.iter().position(|&p| p == me) {
                        let next = pref[(i + 1) % pref.len()];
                        if next != me {
                            out.entry(next).or_default().push((k.clone(), e.clone()));
                        }
                    }
                }
                for (to, entries) in out {
                    ctx.send(to, Msg::Sync { entries });
                }
                if let Some(ms) = self.config.anti_entropy_ms {
                    ctx.set_timer(Timer::AntiEntropy, ms.max(1));
                }
            }
            Timer::HintRetry => {
                for h in &self.hints {
                    ctx.send(
                        h.intended,
                        Msg::Handoff {
                            key: h.key.clone(),
                            entry: h.entry.clone(),
                        },
                    );
                }
                if !self.hints.is_empty() {
                    ctx.set_timer(Timer::HintRetry, self.config.handoff_after_ms.max(1));
                }
            }
            Timer::ClientTimeout(_) => {}
        }
    }

    fn restart_timers(&self, ctx: &mut Ctx<Node>) {
        if let Some(ms) = self.config.anti_entropy_ms {
            ctx.set_timer(Timer::AntiEntropy, ms.max(1));
        }
        if !self.hints.is_empty() {
            ctx.set_timer(Timer::HintRetry, self.config.handoff_after_ms.max(1));
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
        if let Node::Replica(r) = self {
            r.restart_timers(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        match self {
            Node::Replica(r) => r.on_message(from, msg, ctx),
            Node::Client(c) => {
                if let Msg::Reply { op, response } = msg {
                    if c.waiting.remove(&op).is_some() {
                        ctx.cancel_timer(Timer::ClientTimeout(op));
                        if response.outcome == Outcome::Ok {
                            let entry = response.version.clone().map(|version| Entry {
                                value: response.value.clone().unwrap_or_default(),
                                version,
                            });
                            c.last.insert(response.key.clone(), entry);
                        }
                        ctx.reply(op, response);
                    }
                }
            }
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Self>) {
        match self {
            Node::Replica(r) => r.on_timer(timer, ctx),
            Node::Client(c) => {
                if let Timer::ClientTimeout(op) = timer {
                    if let Some((kind, key)) = c.waiting.remove(&op) {
                        ctx.reply(
                            op,
                            Response {
                                kind,
                                key,
                                outcome: Outcome::TimedOut,
                                value: None,
                                version: None,
                                read_from: Vec::new(),
                                stored_at: Vec::new(),
                                asked: Vec::new(),
                                needed: 0,
                                reason: Some(format!(
                                    "no answer from the coordinator within {} ms",
                                    c.timeout_ms
                                )),
                            },
                        );
                    }
                }
            }
        }
    }

    fn on_request(&mut self, op: OpId, request: Request, ctx: &mut Ctx<Self>) {
        let Node::Client(c) = self else { return };
        let key = request.key().to_string();
        c.waiting.insert(op, (request.kind(), key.clone()));
        ctx.set_timer(Timer::ClientTimeout(op), c.timeout_ms.max(1));
        let msg = match request {
            Request::Write { key, value } => Msg::Write { op, key, value },
            Request::Read { key } => Msg::Read { op, key },
        };
        ctx.send(c.home, msg);
    }

    fn on_crash(&mut self) {
        match self {
            Node::Replica(r) => r.coord.clear(),
            Node::Client(c) => c.waiting.clear(),
        }
    }

    fn on_restart(&mut self, ctx: &mut Ctx<Self>) {
        self.on_start(ctx);
    }

    fn view(&self) -> View {
        match self {
            Node::Replica(r) => View::Replica {
                data: r.data.clone(),
                hints: r.hints.clone(),
            },
            Node::Client(c) => View::Client {
                last: c.last.clone(),
                pending: c.waiting.len(),
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
}

pub use super::scenario::ClientSpec;

/// A quorum store scenario as written in lesson files (nodes by name). Times are in
/// simulated milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuorumScenario {
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration_ms: Time,
    /// `"eventual"` (default) or `"linearizable"`.
    #[serde(default = "default_consistency")]
    pub consistency: Consistency,
    /// Replicas per key (the preference list's length), 1 ≤ n ≤ replicas. Default 3.
    #[serde(default = "default_three")]
    pub n: usize,
    /// Write quorum, 1 ≤ w ≤ n (eventual mode). Default 2.
    #[serde(default = "default_two")]
    pub w: usize,
    /// Read quorum, 1 ≤ r ≤ n (eventual mode). Default 2.
    #[serde(default = "default_two")]
    pub r: usize,
    /// Asynchronous read repair after answering a read (eventual mode).
    #[serde(default)]
    pub read_repair: bool,
    /// Sloppy quorum with hinted handoff (eventual mode).
    #[serde(default)]
    pub sloppy_quorum: bool,
    /// How long a coordinator waits for preference replicas before handing a write to
    /// fallbacks; also the hint holders' retry period. Default 50.
    #[serde(default = "default_handoff")]
    pub handoff_after_ms: Time,
    /// Anti-entropy period; off when absent.
    #[serde(default)]
    pub anti_entropy_ms: Option<Time>,
    /// How long a coordinator waits for its quorum. Default 500. Clients give up after
    /// twice this.
    #[serde(default = "default_timeout")]
    pub timeout_ms: Time,
    /// 3–7 replicas, in ring order.
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
}

fn default_duration() -> Time {
    1_000
}
fn default_consistency() -> Consistency {
    Consistency::Eventual
}
fn default_three() -> usize {
    3
}
fn default_two() -> usize {
    2
}
fn default_handoff() -> Time {
    50
}
fn default_timeout() -> Time {
    500
}
fn default_latency() -> Time {
    10
}

impl QuorumScenario {
    /// A scenario with `replicas` replicas `r1…` and one client per entry of `homes`
    /// (`c1…`, each with that home replica index), eventual mode, n = 3 (or fewer replicas),
    /// w = r = 2, latency 10 ms, duration 1,000 ms.
    pub fn cluster(replicas: usize, homes: &[usize]) -> Self {
        QuorumScenario {
            seed: 0,
            duration_ms: default_duration(),
            consistency: Consistency::Eventual,
            n: replicas.min(3),
            w: 2,
            r: 2,
            read_repair: false,
            sloppy_quorum: false,
            handoff_after_ms: default_handoff(),
            anti_entropy_ms: None,
            timeout_ms: default_timeout(),
            replicas: (1..=replicas)
                .map(|i| ReplicaSpec {
                    name: format!("r{i}"),
                    place: None,
                })
                .collect(),
            clients: homes
                .iter()
                .enumerate()
                .map(|(i, h)| ClientSpec {
                    name: format!("c{}", i + 1),
                    place: None,
                    replica: format!("r{}", h + 1),
                })
                .collect(),
            latency_ms: default_latency(),
            jitter_ms: 0,
            links: Vec::new(),
            loss: 0.0,
        }
    }

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

    /// The store's parameters as every node sees them.
    pub fn config(&self) -> Config {
        Config {
            consistency: self.consistency,
            n: self.n,
            w: self.w,
            r: self.r,
            read_repair: self.read_repair,
            sloppy_quorum: self.sloppy_quorum,
            handoff_after_ms: self.handoff_after_ms,
            anti_entropy_ms: self.anti_entropy_ms,
            timeout_ms: self.timeout_ms,
            replicas: self.replicas.len(),
            names: self.names(),
        }
    }

    /// Checks the scenario and builds the engine setup. Errors: 3–7 replicas, at least one
    /// client, unique non-empty names, 1 ≤ n ≤ replicas, 1 ≤ w, r ≤ n, timeout_ms ≥ 1,
    /// anti_entropy_ms ≥ 1, with a sloppy quorum 1 ≤ handoff_after_ms < timeout_ms,
    /// clients' homes must be replicas, links must name known nodes, loss in [0, 1].
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        let names = self.names();
        if !(3..=7).contains(&self.replicas.len()) {
            return Err(format!(
                "{} replicas: a quorum scenario has 3 to 7",
                self.replicas.len()
            ));
        }
        if self.clients.is_empty() {
            return Err("a scenario needs at least one client".into());
        }
        scenario::check_names(&names)?;
        if self.n == 0 || self.n > self.replicas.len() {
            return Err(format!(
                "n = {}: a key needs 1 to {} replicas (the number of replicas)",
                self.n,
                self.replicas.len()
            ));
        }
        if self.w == 0 || self.w > self.n {
            return Err(format!(
                "w = {}: the write quorum must be between 1 and n = {}",
                self.w, self.n
            ));
        }
        if self.r == 0 || self.r > self.n {
            return Err(format!(
                "r = {}: the read quorum must be between 1 and n = {}",
                self.r, self.n
            ));
        }
        if self.timeout_ms == 0 {
            return Err("timeout_ms = 0: a coordinator must wait at least 1 ms".into());
        }
        scenario::check_time("duration_ms", self.duration_ms)?;
        scenario::check_time("timeout_ms", self.timeout_ms)?;
        scenario::check_time("handoff_after_ms", self.handoff_after_ms)?;
        if let Some(ae) = self.anti_entropy_ms {
            scenario::check_time("anti_entropy_ms", ae)?;
        }
        if self.anti_entropy_ms == Some(0) {
            return Err(
                "anti_entropy_ms = 0: the period must be at least 1 ms (or leave it out)".into(),
            );
        }
        if self.sloppy_quorum
            && (self.handoff_after_ms == 0 || self.handoff_after_ms >= self.timeout_ms)
        {
            return Err(format!(
                "handoff_after_ms = {}: with a sloppy quorum it must be at least 1 and less than timeout_ms = {}",
                self.handoff_after_ms, self.timeout_ms
            ));
        }
        let network = scenario::network(
            &names,
            self.latency_ms,
            self.jitter_ms,
            &self.links,
            self.loss,
        )?;
        let config = self.config();
        let mut nodes = Vec::new();
        let mut protocols = Vec::new();
        for r in &self.replicas {
            nodes.push(NodeInfo {
                name: r.name.clone(),
                role: NodeRole::Server,
                place: r.place.clone(),
                clock: PhysicalClock::default(),
            });
            protocols.push(Node::Replica(Replica::new(config.clone())));
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
                timeout_ms: self.timeout_ms.saturating_mul(2),
                waiting: BTreeMap::new(),
                last: BTreeMap::new(),
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

/// Convenience: at `at` (simulated ms), `client` writes `value` to `key`.
pub fn write(at: Time, client: NodeId, key: &str, value: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request: Request::Write {
                key: key.into(),
                value: value.into(),
            },
            label: None,
        },
    )
}

/// Convenience: at `at` (simulated ms), `client` reads `key`.
pub fn read(at: Time, client: NodeId, key: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request: Request::Read { key: key.into() },
            label: None,
        },
    )
}

/// [`write`] or [`read`] with a label (what lessons and the history call it).
pub fn labelled(mut iv: Intervention<Node>, label: &str) -> Intervention<Node> {
    if let Action::Request { label: l, .. } = &mut iv.action {
        *l = Some(label.to_string());
    }
    iv
}
