//! Single-leader replication with asynchronous, semi-synchronous or synchronous
//! acknowledgement (DDIA ch. 5, "Leaders and Followers"; PostgreSQL docs 26.2.8
//! "Synchronous Replication" for `synchronous_standby_names = 'ANY k (...)'`; MySQL
//! semi-synchronous replication, `rpl_semi_sync_source_wait_for_replica_count`).
//!
//! - Clients send writes to the leader. The leader appends the write to its log (durable)
//!   and streams the entry to every follower over a FIFO link. A follower appends entries in
//!   log order and acknowledges its log position.
//! - The leader acknowledges a write to the client: immediately after appending
//!   ([`Mode::Async`]); after `k` followers have acknowledged it ([`Mode::SemiSync`]);
//!   after every follower has ([`Mode::Sync`]).
//! - Clients read from the replica they choose; any replica answers from its own data, so a
//!   lagging follower answers with an older value.
//! - Failover is manual: the operator promotes a follower ([`Command::Promote`]). The new
//!   leader starts a new generation (an epoch, like a Raft term) and tells everyone; writes
//!   the old leader acknowledged but the new one never received are lost.
//! - Durable across a crash: the log, the role, the generation and who the leader is.
//!   Volatile: the leader's knowledge of follower positions, writes waiting for acks, and
//!   the retransmission timers. A restarted follower reports its position and catches up.
//!
//! Retransmission: when a follower's acknowledged position is behind the leader's log, the
//! leader resends the missing entries after [`ReplicationScenario::retransmit_ms`], backing
//! off exponentially (doubling, at most 8×) until the follower catches up — like a
//! replication connection that reconnects.

use super::scenario;
use crate::engine::{Ctx, NodeInfo, NodeRole, Protocol, Setup};
use crate::{Action, Describe, Intervention, NodeId, OpId, Time};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// When the leader acknowledges a write to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Right after appending to its own log; followers catch up later.
    Async,
    /// After `k` followers (any `k`, the fastest) have acknowledged the entry.
    SemiSync { k: usize },
    /// After every follower has acknowledged the entry.
    Sync,
}

impl Mode {
    /// How many follower acknowledgements a write needs with `followers` followers.
    pub fn acks_needed(&self, followers: usize) -> usize {
        match *self {
            Mode::Async => 0,
            Mode::SemiSync { k } => k.min(followers),
            Mode::Sync => followers,
        }
    }

    /// The mode in words, e.g. "semi-synchronous (k = 1)".
    pub fn describe(&self) -> String {
        match self {
            Mode::Async => "asynchronous".into(),
            Mode::SemiSync { k } => format!("semi-synchronous (k = {k})"),
            Mode::Sync => "synchronous".into(),
        }
    }
}

/// How a client makes sure it reads its own writes (DDIA ch. 5, "Reading Your Own
/// Writes"; Terry et al. 1994, "Read Your Writes"). In a file:
/// `read-your-writes = "none" | "read-from-leader" | "wait-for-position"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadYourWrites {
    /// No guarantee: a read goes to the replica it names (today's behaviour).
    #[default]
    None,
    /// "When reading something that the user may have modified, read it from the leader":
    /// a read of a key this client has written (any write it invoked, acknowledged or not)
    /// goes to the leader of the key's partition, whatever replica it names. Cost: those
    /// reads pay the round trip to the leader and add to the leader's load.
    ReadFromLeader,
    /// "The client can remember the timestamp of its most recent write": the client keeps
    /// the log index of its latest acknowledged write in each partition and sends it with
    /// every read of that partition; the replica answers only once its log reaches that
    /// position (the read waits there). Cost: a lagging replica makes the read wait.
    WaitForPosition,
}

/// How a client makes sure its reads never go back in time (DDIA ch. 5, "Monotonic
/// Reads"; Terry et al. 1994, "Monotonic Reads"). In a file:
/// `monotonic-reads = "none" | "sticky-replica" | "wait-for-position"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MonotonicReads {
    /// No guarantee: a read goes to the replica it names (today's behaviour).
    #[default]
    None,
    /// "Each user always makes their reads from the same replica": every read of a
    /// partition goes to one follower of it, chosen by a hash of the client's name (or
    /// named in the scenario). Cost: when that replica is down the client's reads get no
    /// answer (rerouting them elsewhere would give up the guarantee).
    StickyReplica,
    /// The client remembers the log position of the replica that answered its latest read
    /// of each partition (Terry et al.'s read vector, one entry per partition) and a replica
    /// answers only once its log reaches it. Cost: reads may wait at a lagging replica.
    WaitForPosition,
}

/// A client's session guarantees, with node ids (see [`SessionSpec`] for the file format).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub read_your_writes: ReadYourWrites,
    pub monotonic_reads: MonotonicReads,
    /// Per partition (index as in [`ReplicationScenario::partition_servers`]): the replica
    /// that [`MonotonicReads::StickyReplica`] reads from.
    pub sticky: Vec<NodeId>,
}

/// A version of a value: the log position of the write that produced it, and the leader
/// generation that wrote it. Ordered by generation, then index. `(0, 0)` is "never written".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Version {
    pub generation: u64,
    pub index: u64,
}

/// One log entry: a client's write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Log position, from 1.
    pub index: u64,
    /// Generation of the leader that appended it.
    pub generation: u64,
    /// The client operation that wrote it.
    pub op: OpId,
    pub key: String,
    pub value: String,
}

impl Entry {
    pub fn version(&self) -> Version {
        Version {
            generation: self.generation,
            index: self.index,
        }
    }
}

/// Messages between clients and replicas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Msg {
    /// Client → leader: write `value` to `key`.
    Write {
        op: OpId,
        key: String,
        value: String,
    },
    /// Leader → client: the write is acknowledged at `version`.
    WriteOk { op: OpId, version: Version },
    /// Replica → client: I am not the leader; `leader` is.
    Redirect { op: OpId, leader: NodeId },
    /// Client → replica: read `key`. With `after` > 0 (a session guarantee by log
    /// position, see [`ReadYourWrites::WaitForPosition`], [`MonotonicReads::WaitForPosition`]) the replica answers only once its
    /// log holds position `after`; until then the read waits at the replica.
    Read {
        op: OpId,
        key: String,
        #[serde(default, skip_serializing_if = "is_zero")]
        after: u64,
    },
    /// Replica → client: the value of the key (None: never written), its version, and the
    /// replica's log position when it answered.
    ReadOk {
        op: OpId,
        value: Option<String>,
        version: Version,
        position: u64,
    },
    /// Leader → follower: log entries from `entries[0].index` on (empty: a probe).
    /// `prev` is the version of the leader's entry just before them (for a probe: its last
    /// entry; `(0, 0)` at the start of the log). A follower accepts the entries only if its
    /// own entry at `prev.index` has that version (the log-matching check of Raft's
    /// AppendEntries), so it never acknowledges a log that differs from the leader's.
    Append {
        generation: u64,
        #[serde(default)]
        prev: Version,
        entries: Vec<Entry>,
    },
    /// Follower → leader: my log holds everything up to `position`, and matches the log of
    /// the leader of `generation` up to there; `resend` asks for what follows (after a gap,
    /// a mismatch, a restart, or a probe).
    Ack {
        generation: u64,
        position: u64,
        resend: bool,
    },
    /// Node `leader` leads `generation`; its log had `fork` entries when it was promoted.
    NewLeader {
        generation: u64,
        leader: NodeId,
        fork: u64,
    },
}

impl Describe for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Write { key, value, .. } => format!("write {key}={value}"),
            Msg::WriteOk { version, .. } => format!("ok @{}", version.index),
            Msg::Redirect { .. } => "not leader".into(),
            Msg::Read { key, .. } => format!("read {key}"),
            Msg::ReadOk { value, .. } => format!("= {}", value.as_deref().unwrap_or("(none)")),
            Msg::Append { entries, .. } => match (entries.first(), entries.last()) {
                (Some(a), Some(b)) if a.index == b.index => format!("append #{}", a.index),
                (Some(a), Some(b)) => format!("append #{}–{}", a.index, b.index),
                _ => "probe".into(),
            },
            Msg::Ack { position, .. } => format!("ack {position}"),
            Msg::NewLeader { generation, .. } => format!("new leader (gen {generation})"),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Msg::Write { .. } => "write",
            Msg::WriteOk { .. } => "write-ok",
            Msg::Redirect { .. } => "redirect",
            Msg::Read { .. } => "read",
            Msg::ReadOk { .. } => "read-ok",
            Msg::Append { .. } => "append",
            Msg::Ack { .. } => "ack",
            Msg::NewLeader { .. } => "new-leader",
        }
    }

    fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![("type".to_string(), self.kind().to_string())];
        match self {
            Msg::Write { op, key, value } => {
                f.push(("op".into(), format!("#{op}")));
                f.push(("write".into(), format!("{key} = {value}")));
            }
            Msg::WriteOk { op, version } => {
                f.push(("op".into(), format!("#{op}")));
                f.push(("log index".into(), version.index.to_string()));
                f.push(("generation".into(), version.generation.to_string()));
            }
            Msg::Redirect { leader, .. } => f.push(("leader".into(), format!("node {leader}"))),
            Msg::Read { op, key, after } => {
                f.push(("op".into(), format!("#{op}")));
                f.push(("key".into(), key.clone()));
                if *after > 0 {
                    f.push(("answer once log position ≥".into(), after.to_string()));
                }
            }
            Msg::ReadOk {
                value,
                version,
                position,
                ..
            } => {
                f.push((
                    "value".into(),
                    value.clone().unwrap_or_else(|| "(none)".into()),
                ));
                f.push(("written at index".into(), version.index.to_string()));
                f.push(("replica position".into(), position.to_string()));
            }
            Msg::Append {
                generation,
                prev,
                entries,
            } => {
                f.push(("generation".into(), generation.to_string()));
                f.push((
                    "after".into(),
                    format!("index {} (generation {})", prev.index, prev.generation),
                ));
                for e in entries {
                    f.push((format!("#{}", e.index), format!("{} = {}", e.key, e.value)));
                }
            }
            Msg::Ack { position, .. } => f.push(("position".into(), position.to_string())),
            Msg::NewLeader {
                generation, fork, ..
            } => {
                f.push(("generation".into(), generation.to_string()));
                f.push(("log length at promotion".into(), fork.to_string()));
            }
        }
        f
    }
}

/// A client operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Request {
    /// Write `value` to `key` (sent to the leader).
    Write { key: String, value: String },
    /// Read `key` from the replica `replica`.
    Read { key: String, replica: NodeId },
}

impl Describe for Request {
    fn label(&self) -> String {
        match self {
            Request::Write { key, value } => format!("write {key}={value}"),
            Request::Read { key, .. } => format!("read {key}"),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Request::Write { .. } => "write",
            Request::Read { .. } => "read",
        }
    }
}

/// The result of a client operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Response {
    /// The write was acknowledged at this version.
    Written { version: Version },
    /// The read returned this value (None: never written) written at `version`, from a
    /// replica whose log position was `position`.
    Value {
        value: Option<String>,
        version: Version,
        position: u64,
    },
}

impl Describe for Response {
    fn label(&self) -> String {
        match self {
            Response::Written { version } => format!("ok @{}", version.index),
            Response::Value { value, .. } => format!("→ {}", value.as_deref().unwrap_or("(none)")),
        }
    }
}

/// Operator commands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Command {
    /// Make this follower the leader (manual failover).
    Promote,
}

impl Describe for Command {
    fn label(&self) -> String {
        "promote to leader".into()
    }
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Timer {
    /// Leader: resend what `follower` has not acknowledged.
    Retransmit { follower: NodeId },
}

/// A server's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Leader,
    Follower,
}

/// A write waiting at the leader for follower acknowledgements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub op: OpId,
    pub client: NodeId,
    pub version: Version,
}

/// A replica.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    // configuration
    servers: Vec<NodeId>,
    clients: Vec<NodeId>,
    mode: Mode,
    retransmit_ms: Time,
    // durable
    log: Vec<Entry>,
    role: Role,
    generation: u64,
    leader: NodeId,
    /// Log length when this node was promoted (entries after it come from its own leadership).
    fork: u64,
    /// Derived from `log` (kept in step by `append` and `truncate_log`): the latest value
    /// and version of each key, so reads and views need not scan the log.
    data: BTreeMap<String, (String, Version)>,
    // volatile (leader only)
    acked: BTreeMap<NodeId, u64>,
    pending: Vec<Pending>,
    backoff: BTreeMap<NodeId, u32>,
    // volatile (any replica)
    /// Reads waiting for the log to reach a position: `(client, op, key, position)`.
    reads_waiting: Vec<(NodeId, OpId, String, u64)>,
}

/// A client: knows each partition's leader; remembers its operations in progress and its
/// session state (the keys it wrote, the log positions its reads must not go below).
/// The session state survives a client crash (like a cookie kept by the user's device).
#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    /// Per partition: its servers (the first is the initial leader).
    groups: Vec<Vec<NodeId>>,
    /// Keys placed on partitions other than the first: key → partition.
    keys: BTreeMap<String, usize>,
    /// Per partition: the leader this client knows, and its generation.
    leaders: Vec<(NodeId, u64)>,
    writes: BTreeMap<OpId, (String, String)>,
    session: Session,
    /// Keys this client has written ([`ReadYourWrites::ReadFromLeader`]).
    written: BTreeSet<String>,
    /// Per partition: log index of this client's latest acknowledged write.
    write_floor: Vec<u64>,
    /// Per partition: log position of the replica that answered its latest read.
    read_floor: Vec<u64>,
    /// Reads in progress: op → partition.
    reads: BTreeMap<OpId, usize>,
}

impl Client {
    fn partition_of(&self, key: &str) -> usize {
        self.keys.get(key).copied().unwrap_or(0)
    }

    /// Where a read of `key` that names `replica` goes, and the log position the replica
    /// must hold before answering (0: answer at once).
    fn route_read(&self, key: &str, replica: NodeId) -> (NodeId, u64) {
        let p = self.partition_of(key);
        let target = if self.session.read_your_writes == ReadYourWrites::ReadFromLeader
            && self.written.contains(key)
        {
            self.leaders[p].0
        } else if self.session.monotonic_reads == MonotonicReads::StickyReplica {
            self.session.sticky.get(p).copied().unwrap_or(replica)
        } else {
            replica
        };
        let mut after = 0;
        if self.session.read_your_writes == ReadYourWrites::WaitForPosition {
            after = after.max(self.write_floor[p]);
        }
        if self.session.monotonic_reads == MonotonicReads::WaitForPosition {
            after = after.max(self.read_floor[p]);
        }
        (target, after)
    }
}

/// A node of the replication model.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Server(Box<Server>),
    Client(Box<Client>),
}

/// What the UI sees of a replica.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServerView {
    pub role: Role,
    pub generation: u64,
    /// Log position: number of entries in the log.
    pub position: u64,
    /// Current value and version per key.
    pub data: BTreeMap<String, (String, Version)>,
    /// Leader only: each follower's acknowledged position.
    pub acked: BTreeMap<NodeId, u64>,
    /// Leader only: writes waiting for follower acknowledgements.
    pub waiting: Vec<Pending>,
    /// Client reads waiting for this replica's log to reach the position they carry
    /// ([`ReadYourWrites::WaitForPosition`], [`MonotonicReads::WaitForPosition`]).
    #[serde(skip_serializing_if = "is_zero_usize")]
    pub reads_waiting: usize,
}

fn is_zero_usize(n: &usize) -> bool {
    *n == 0
}

/// What the UI sees of a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum View {
    Server(ServerView),
    Client { leader: NodeId, in_progress: usize },
}

impl Describe for View {
    fn label(&self) -> String {
        match self {
            View::Server(s) => format!(
                "{} @{}",
                if s.role == Role::Leader {
                    "leader"
                } else {
                    "follower"
                },
                s.position
            ),
            View::Client { .. } => "client".into(),
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        match self {
            View::Server(s) => {
                let mut f = vec![
                    ("role".into(), format!("{:?}", s.role).to_lowercase()),
                    ("generation".into(), s.generation.to_string()),
                    ("log position".into(), s.position.to_string()),
                ];
                for (k, (v, ver)) in &s.data {
                    f.push((k.clone(), format!("{v} (index {})", ver.index)));
                }
                if !s.waiting.is_empty() {
                    f.push((
                        "writes waiting for acks".into(),
                        s.waiting.len().to_string(),
                    ));
                }
                if s.reads_waiting > 0 {
                    f.push((
                        "reads waiting for log position".into(),
                        s.reads_waiting.to_string(),
                    ));
                }
                f
            }
            View::Client { in_progress, .. } => {
                vec![("operations in progress".into(), in_progress.to_string())]
            }
        }
    }
}

impl Server {
    fn position(&self) -> u64 {
        self.log.len() as u64
    }

    fn followers(&self, me: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.servers.iter().copied().filter(move |s| *s != me)
    }

    /// The version of the entry at log index `index` (`(0, 0)` for index 0).
    fn version_at(&self, index: u64) -> Version {
        match index {
            0 => Version::default(),
            i => self.log[i as usize - 1].version(),
        }
    }

    fn value(&self, key: &str) -> (Option<String>, Version) {
        match self.data.get(key) {
            Some((value, version)) => (Some(value.clone()), *version),
            None => (None, Version::default()),
        }
    }

    /// Answers the waiting reads whose position the log now holds.
    fn serve_waiting_reads(&mut self, ctx: &mut Ctx<Node>) {
        let position = self.position();
        let (ready, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.reads_waiting)
            .into_iter()
            .partition(|r| r.3 <= position);
        self.reads_waiting = still;
        for (client, op, key, _) in ready {
            let (value, version) = self.value(&key);
            ctx.send(
                client,
                Msg::ReadOk {
                    op,
                    value,
                    version,
                    position,
                },
            );
        }
    }

    /// Appends `e` to the log.
    fn append(&mut self, e: Entry) {
        self.data
            .insert(e.key.clone(), (e.value.clone(), e.version()));
        self.log.push(e);
    }

    /// Truncates the log to `len` entries (no-op when it is not longer).
    fn truncate_log(&mut self, len: usize) {
        if len < self.log.len() {
            self.log.truncate(len);
            self.data = self
                .log
                .iter()
                .map(|e| (e.key.clone(), (e.value.clone(), e.version())))
                .collect();
        }
    }

    /// Sends `follower` everything after its acknowledged position (a probe if nothing).
    fn replicate_to(&mut self, follower: NodeId, ctx: &mut Ctx<Node>) {
        let from = self
            .acked
            .get(&follower)
            .copied()
            .unwrap_or(self.position())
            .min(self.position());
        let entries = self.log[from as usize..].to_vec();
        ctx.send(
            follower,
            Msg::Append {
                generation: self.generation,
                prev: self.version_at(from),
                entries,
            },
        );
        self.arm_retransmit(follower, ctx);
    }

    fn arm_retransmit(&mut self, follower: NodeId, ctx: &mut Ctx<Node>) {
        let b = *self.backoff.entry(follower).or_insert(0);
        ctx.set_timer(
            Timer::Retransmit { follower },
            self.retransmit_ms << b.min(3),
        );
    }

    /// Acknowledges every waiting write that now has enough follower acks.
    fn release(&mut self, me: NodeId, ctx: &mut Ctx<Node>) {
        let needed = self.mode.acks_needed(self.servers.len() - 1);
        let acked = &self.acked;
        let followers: Vec<NodeId> = self.followers(me).collect();
        self.pending.retain(|p| {
            let have = followers
                .iter()
                .filter(|f| acked.get(f).copied().unwrap_or(0) >= p.version.index)
                .count();
            if have >= needed {
                ctx.send(
                    p.client,
                    Msg::WriteOk {
                        op: p.op,
                        version: p.version,
                    },
                );
                false
            } else {
                true
            }
        });
    }

    fn become_follower(&mut self, generation: u64, leader: NodeId, fork: u64, ctx: &mut Ctx<Node>) {
        self.fork = fork;
        if self.position() > fork && self.role == Role::Leader {
            let lost: Vec<String> = self.log[fork as usize..]
                .iter()
                .map(|e| format!("#{} {}={}", e.index, e.key, e.value))
                .collect();
            ctx.note(format!(
                "steps down; discards entries the new leader never had: {}",
                lost.join(", ")
            ));
        }
        self.truncate_log(fork as usize);
        if self.role == Role::Leader {
            ctx.note(format!(
                "now a follower of node {leader} (generation {generation})"
            ));
        }
        self.role = Role::Follower;
        self.generation = generation;
        self.leader = leader;
        self.acked.clear();
        self.pending.clear();
        self.backoff.clear();
        ctx.send(
            leader,
            Msg::Ack {
                generation,
                position: self.position(),
                resend: true,
            },
        );
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        let me = ctx.me();
        match msg {
            Msg::Write { op, key, value } => {
                if self.role != Role::Leader {
                    ctx.send(
                        from,
                        Msg::Redirect {
                            op,
                            leader: self.leader,
                        },
                    );
                    return;
                }
                let entry = Entry {
                    index: self.position() + 1,
                    generation: self.generation,
                    op,
                    key,
                    value,
                };
                let version = entry.version();
                self.append(entry);
                self.pending.push(Pending {
                    op,
                    client: from,
                    version,
                });
                let followers: Vec<NodeId> = self.followers(me).collect();
                let entry = self.log.last().cloned().expect("just appended");
                let prev = self.version_at(entry.index - 1);
                for f in followers {
                    // Stream the new entry; a follower with a gap asks for the rest.
                    ctx.send(
                        f,
                        Msg::Append {
                            generation: self.generation,
                            prev,
                            entries: vec![entry.clone()],
                        },
                    );
                    self.arm_retransmit(f, ctx);
                }
                self.release(me, ctx);
                self.serve_waiting_reads(ctx);
            }
            Msg::Read { op, key, after } if after > self.position() => {
                ctx.note(format!(
                    "read #{op} waits: log position {} < {after}",
                    self.position()
                ));
                self.reads_waiting.push((from, op, key, after));
            }
            Msg::Read { op, key, .. } => {
                let (value, version) = self.value(&key);
                ctx.send(
                    from,
                    Msg::ReadOk {
                        op,
                        value,
                        version,
                        position: self.position(),
                    },
                );
            }
            Msg::Append {
                generation,
                prev,
                entries,
            } => {
                if generation < self.generation {
                    // A deposed leader: tell it who leads now.
                    ctx.send(
                        from,
                        Msg::NewLeader {
                            generation: self.generation,
                            leader: self.leader,
                            fork: self.fork,
                        },
                    );
                    return;
                }
                if generation > self.generation {
                    self.generation = generation;
                    self.leader = from;
                    self.role = Role::Follower;
                }
                let probe = entries.is_empty();
                let before = self.position();
                // Log matching: accept only if our entry at `prev.index` is the leader's.
                // Otherwise our log differs from (or is shorter than) the leader's there:
                // drop the differing entry and everything after it, and ask for the rest.
                let matches = prev.index <= self.position() && self.version_at(prev.index) == prev;
                if !matches {
                    self.truncate_log(prev.index.saturating_sub(1) as usize);
                } else {
                    // Our log up to `prev` is the leader's; after this, it is exactly the
                    // leader's log when it sent the message (FIFO: nothing the leader sent
                    // later has arrived, so any further entries we hold are not its own).
                    // Entries we already hold unchanged are kept as they are.
                    let mut i = prev.index as usize;
                    for e in entries {
                        if i < self.log.len() && self.log[i] != e {
                            self.truncate_log(i);
                        }
                        if i == self.log.len() {
                            self.append(e);
                        }
                        i += 1;
                    }
                    self.truncate_log(i);
                    // The leader's entries of its own generation follow its fork: once we
                    // hold one, we know the fork even if we missed the `NewLeader`.
                    let f = self.fork as usize;
                    let known = self.log.get(f).is_some_and(|e| e.generation == generation)
                        && (f == 0 || self.log[f - 1].generation < generation);
                    if !known {
                        if let Some(f) = self.log.iter().position(|e| e.generation == generation) {
                            self.fork = f as u64;
                        }
                    }
                }
                self.serve_waiting_reads(ctx);
                ctx.send(
                    from,
                    Msg::Ack {
                        generation: self.generation,
                        position: self.position(),
                        // After a mismatch, a probe or dropping entries, our position is
                        // exact (it may be lower than what we acknowledged before).
                        resend: !matches || probe || self.position() < before,
                    },
                );
            }
            Msg::Ack {
                generation,
                position,
                resend,
            } => {
                // Positions acknowledged in another generation refer to another log.
                if self.role != Role::Leader || generation != self.generation {
                    return;
                }
                let a = self.acked.entry(from).or_insert(0);
                if position > *a {
                    self.backoff.insert(from, 0);
                }
                *a = if resend { position } else { (*a).max(position) };
                if position >= self.position() {
                    ctx.cancel_timer(Timer::Retransmit { follower: from });
                } else if resend {
                    // The follower has a gap, restarted, or answered a probe: send the rest.
                    self.replicate_to(from, ctx);
                }
                self.release(me, ctx);
            }
            Msg::NewLeader {
                generation,
                leader,
                fork,
            } => {
                if generation > self.generation {
                    self.become_follower(generation, leader, fork, ctx);
                }
            }
            Msg::WriteOk { .. } | Msg::ReadOk { .. } | Msg::Redirect { .. } => {}
        }
    }
}

impl Client {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        match msg {
            Msg::WriteOk { op, version } if self.writes.contains_key(&op) => {
                let (key, _) = self.writes.remove(&op).expect("checked");
                let p = self.partition_of(&key);
                self.write_floor[p] = self.write_floor[p].max(version.index);
                ctx.reply(op, Response::Written { version });
            }
            Msg::ReadOk {
                op,
                value,
                version,
                position,
            } => {
                if let Some(p) = self.reads.remove(&op) {
                    self.read_floor[p] = self.read_floor[p].max(position);
                }
                ctx.reply(
                    op,
                    Response::Value {
                        value,
                        version,
                        position,
                    },
                )
            }
            Msg::Redirect { op, leader } => {
                let group = self.groups.iter().position(|g| g.contains(&from));
                if let (true, Some(p)) = (leader != from, group) {
                    self.leaders[p].0 = leader;
                }
                if let Some((key, value)) = self.writes.get(&op).cloned() {
                    let p = self.partition_of(&key);
                    ctx.send(self.leaders[p].0, Msg::Write { op, key, value });
                }
            }
            Msg::NewLeader {
                generation, leader, ..
            } => {
                if let Some(p) = self.groups.iter().position(|g| g.contains(&leader)) {
                    if generation > self.leaders[p].1 {
                        self.leaders[p] = (leader, generation);
                    }
                }
            }
            _ => {}
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

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        match self {
            Node::Server(s) => s.on_message(from, msg, ctx),
            Node::Client(c) => c.on_message(from, msg, ctx),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Self>) {
        let Node::Server(s) = self else { return };
        let Timer::Retransmit { follower } = timer;
        if s.role == Role::Leader && s.acked.get(&follower).copied().unwrap_or(0) < s.position() {
            *s.backoff.entry(follower).or_insert(0) += 1;
            s.replicate_to(follower, ctx);
        }
    }

    fn on_request(&mut self, op: OpId, request: Request, ctx: &mut Ctx<Self>) {
        let Node::Client(c) = self else { return };
        match request {
            Request::Write { key, value } => {
                let p = c.partition_of(&key);
                c.writes.insert(op, (key.clone(), value.clone()));
                c.written.insert(key.clone());
                ctx.send(c.leaders[p].0, Msg::Write { op, key, value });
            }
            Request::Read { key, replica } => {
                let (target, after) = c.route_read(&key, replica);
                c.reads.insert(op, c.partition_of(&key));
                ctx.send(target, Msg::Read { op, key, after });
            }
        }
    }

    fn on_command(&mut self, command: Command, ctx: &mut Ctx<Self>) {
        let Node::Server(s) = self else { return };
        match command {
            Command::Promote => {
                if s.role == Role::Leader {
                    ctx.note("already the leader");
                    return;
                }
                let me = ctx.me();
                s.role = Role::Leader;
                s.generation += 1;
                s.leader = me;
                s.fork = s.position();
                s.acked.clear();
                s.pending.clear();
                ctx.note(format!(
                    "promoted to leader (generation {}) with log position {}",
                    s.generation,
                    s.position()
                ));
                let targets: Vec<NodeId> = s
                    .servers
                    .iter()
                    .chain(s.clients.iter())
                    .copied()
                    .filter(|n| *n != me)
                    .collect();
                for t in targets {
                    ctx.send(
                        t,
                        Msg::NewLeader {
                            generation: s.generation,
                            leader: me,
                            fork: s.fork,
                        },
                    );
                }
            }
        }
    }

    fn on_crash(&mut self) {
        match self {
            Node::Server(s) => {
                s.acked.clear();
                s.pending.clear();
                s.backoff.clear();
                s.reads_waiting.clear();
            }
            Node::Client(c) => {
                c.writes.clear();
                c.reads.clear();
            }
        }
    }

    fn on_restart(&mut self, ctx: &mut Ctx<Self>) {
        let me = ctx.me();
        if let Node::Server(s) = self {
            match s.role {
                // Ask every follower where it is; their acks drive catch-up.
                Role::Leader => {
                    let followers: Vec<NodeId> = s.followers(me).collect();
                    for f in followers {
                        ctx.send(
                            f,
                            Msg::Append {
                                generation: s.generation,
                                prev: s.version_at(s.position()),
                                entries: Vec::new(),
                            },
                        );
                    }
                }
                Role::Follower => ctx.send(
                    s.leader,
                    Msg::Ack {
                        generation: s.generation,
                        position: s.position(),
                        resend: true,
                    },
                ),
            }
        }
    }

    fn view(&self) -> View {
        match self {
            Node::Server(s) => View::Server(ServerView {
                role: s.role,
                generation: s.generation,
                position: s.position(),
                data: s.data.clone(),
                acked: if s.role == Role::Leader {
                    s.acked.clone()
                } else {
                    BTreeMap::new()
                },
                waiting: s.pending.clone(),
                reads_waiting: s.reads_waiting.len(),
            }),
            Node::Client(c) => View::Client {
                leader: c.leaders[0].0,
                in_progress: c.writes.len(),
            },
        }
    }
}

impl Node {
    /// A server's replication group (its partition's servers, the initial leader first);
    /// empty for a client.
    pub fn group(&self) -> &[NodeId] {
        match self {
            Node::Server(s) => &s.servers,
            Node::Client(_) => &[],
        }
    }

    /// A client's session guarantees (None for a server).
    pub fn session(&self) -> Option<&Session> {
        match self {
            Node::Server(_) => None,
            Node::Client(c) => Some(&c.session),
        }
    }

    /// The server's log (None for a client).
    pub fn log(&self) -> Option<&[Entry]> {
        match self {
            Node::Server(s) => Some(&s.log),
            Node::Client(_) => None,
        }
    }
}

/// A named node in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub name: String,
    #[serde(default)]
    pub place: Option<String>,
}

pub use super::scenario::NamedLink;

/// A further partition (shard) in a scenario file: its own leader and followers, and the
/// keys it holds (keys that no partition lists belong to the scenario's first partition,
/// `leader` and `followers`). DDIA ch. 6: each partition has its own leader; its log is
/// independent of the others', so there is no order between writes of different partitions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionSpec {
    pub leader: Place,
    /// 1–6 followers.
    pub followers: Vec<Place>,
    /// The keys this partition holds (at least one; a key belongs to one partition).
    pub keys: Vec<String>,
}

/// A client's session guarantees in a scenario file, e.g.
/// `{ client = "alice", read-your-writes = "read-from-leader", monotonic-reads = "sticky-replica" }`.
/// Clients without an entry have none (each read goes to the replica it names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SessionSpec {
    pub client: String,
    #[serde(default)]
    pub read_your_writes: ReadYourWrites,
    #[serde(default)]
    pub monotonic_reads: MonotonicReads,
    /// With `sticky-replica`: the replicas to stick to, at most one per partition (by
    /// name); a partition not listed gets a follower chosen by a hash of the client's name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sticky: Vec<String>,
}

/// FNV-1a of a name: the "hash of the user ID" that picks a sticky replica.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A single-leader replication scenario as written in lesson files (nodes by name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationScenario {
    #[serde(default)]
    pub seed: u64,
    /// Simulated ms to run (interventions extend it).
    #[serde(default = "default_duration")]
    pub duration_ms: Time,
    /// `"async"`, `"semi-sync"` or `"sync"`.
    #[serde(default = "default_mode")]
    pub mode: String,
    /// For semi-sync: follower acks needed (1 ≤ k ≤ followers).
    #[serde(default = "one")]
    pub k: usize,
    pub leader: Place,
    /// 1–6 followers.
    pub followers: Vec<Place>,
    pub clients: Vec<Place>,
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
    /// Leader's first retransmission delay, simulated ms.
    #[serde(default = "default_retransmit")]
    pub retransmit_ms: Time,
    /// Further partitions (shards), each with its own leader and followers; empty: one
    /// partition (`leader` and `followers`) holds every key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionSpec>,
    /// Per-client session guarantees (clients not listed have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<SessionSpec>,
}

fn default_duration() -> Time {
    1_000
}
fn default_mode() -> String {
    "async".into()
}
fn one() -> usize {
    1
}
fn default_latency() -> Time {
    10
}
fn default_retransmit() -> Time {
    1_000
}

impl ReplicationScenario {
    /// The acknowledgement mode. Errors name the bad field.
    pub fn mode(&self) -> Result<Mode, String> {
        let n = self.followers.len();
        match self.mode.as_str() {
            "async" => Ok(Mode::Async),
            "sync" => Ok(Mode::Sync),
            "semi-sync" if (1..=n).contains(&self.k) => Ok(Mode::SemiSync { k: self.k }),
            "semi-sync" => Err(format!(
                "k = {} but semi-sync needs 1 ≤ k ≤ {n} (the number of followers)",
                self.k
            )),
            other => Err(format!(
                "unknown mode \"{other}\": expected \"async\", \"semi-sync\" or \"sync\""
            )),
        }
    }

    /// All node names in id order: leader, followers, each further partition's leader
    /// and followers, clients.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::iter::once(&self.leader)
            .chain(&self.followers)
            .map(|p| p.name.clone())
            .collect();
        for p in &self.partitions {
            v.extend(
                std::iter::once(&p.leader)
                    .chain(&p.followers)
                    .map(|p| p.name.clone()),
            );
        }
        v.extend(self.clients.iter().map(|p| p.name.clone()));
        v
    }

    /// Per partition, its servers' ids, the initial leader first. Partition 0 is
    /// `leader` and `followers`; then `partitions` in order.
    pub fn partition_servers(&self) -> Vec<Vec<NodeId>> {
        let mut groups = vec![(0..=self.followers.len()).collect::<Vec<_>>()];
        let mut next = 1 + self.followers.len();
        for p in &self.partitions {
            let n = 1 + p.followers.len();
            groups.push((next..next + n).collect());
            next += n;
        }
        groups
    }

    /// The number of servers (replicas of every partition); clients' ids follow them.
    pub fn server_count(&self) -> usize {
        self.partition_servers().iter().map(Vec::len).sum()
    }

    /// Whether node `id` is a server (a replica of some partition), not a client.
    pub fn is_server(&self, id: NodeId) -> bool {
        id < self.server_count()
    }

    /// The partition holding `key` (index into [`Self::partition_servers`]).
    pub fn partition_of(&self, key: &str) -> usize {
        self.partitions
            .iter()
            .position(|p| p.keys.iter().any(|k| k == key))
            .map_or(0, |i| i + 1)
    }

    /// Each client's session, by node id (clients without an entry get the default).
    /// Errors: unknown or non-client names, a client listed twice, sticky replicas that
    /// are not servers or two in one partition.
    pub fn client_sessions(&self) -> Result<BTreeMap<NodeId, Session>, String> {
        let groups = self.partition_servers();
        let names = self.names();
        let mut out = BTreeMap::new();
        for c in (self.server_count()..names.len()).map(|id| (id, &names[id])) {
            // Default sticky replicas: a follower of each partition by hash of the name.
            let sticky = groups
                .iter()
                .map(|g| g[1 + (name_hash(c.1) % (g.len() as u64 - 1)) as usize])
                .collect();
            out.insert(
                c.0,
                Session {
                    sticky,
                    ..Session::default()
                },
            );
        }
        for spec in &self.sessions {
            let id = self.node(&spec.client)?;
            if self.is_server(id) {
                return Err(format!(
                    "sessions: \"{}\" is a replica, not a client",
                    spec.client
                ));
            }
            let s = out.get_mut(&id).expect("every client has a session");
            if s.read_your_writes != ReadYourWrites::None
                || s.monotonic_reads != MonotonicReads::None
            {
                return Err(format!(
                    "sessions: client \"{}\" is listed twice",
                    spec.client
                ));
            }
            s.read_your_writes = spec.read_your_writes;
            s.monotonic_reads = spec.monotonic_reads;
            let mut seen = BTreeSet::new();
            for r in &spec.sticky {
                let rid = self.node(r)?;
                let Some(p) = groups.iter().position(|g| g.contains(&rid)) else {
                    return Err(format!(
                        "sessions: sticky \"{r}\" is a client, not a replica"
                    ));
                };
                if !seen.insert(p) {
                    return Err(format!(
                        "sessions: client \"{}\" has two sticky replicas in one partition",
                        spec.client
                    ));
                }
                s.sticky[p] = rid;
            }
        }
        Ok(out)
    }

    /// The id of a named node, or an error listing the known names.
    pub fn node(&self, name: &str) -> Result<NodeId, String> {
        scenario::node_id(&self.names(), name)
    }

    /// Checks the scenario and builds the engine setup. Errors say what is wrong.
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        let mode = self.mode()?;
        scenario::check_time("duration_ms", self.duration_ms)?;
        scenario::check_time("retransmit_ms", self.retransmit_ms)?;
        if self.followers.is_empty() || self.followers.len() > 6 {
            return Err(format!(
                "{} followers: a scenario has 1 to 6",
                self.followers.len()
            ));
        }
        if self.clients.is_empty() {
            return Err("a scenario needs at least one client".into());
        }
        let names = self.names();
        scenario::check_names(&names)?;
        let network = scenario::network(
            &names,
            self.latency_ms,
            self.jitter_ms,
            &self.links,
            self.loss,
        )?;
        let groups = self.partition_servers();
        let n_servers = self.server_count();
        let clients: Vec<NodeId> = (n_servers..names.len()).collect();
        let sessions = self.client_sessions()?;
        let mut keys = BTreeMap::new();
        for (i, p) in self.partitions.iter().enumerate() {
            if p.followers.is_empty() || p.followers.len() > 6 {
                return Err(format!(
                    "partition {} (leader \"{}\"): {} followers; a partition has 1 to 6",
                    i + 2,
                    p.leader.name,
                    p.followers.len()
                ));
            }
            if p.keys.is_empty() {
                return Err(format!(
                    "partition {} (leader \"{}\") holds no keys: give it keys = [...]",
                    i + 2,
                    p.leader.name
                ));
            }
            for k in &p.keys {
                if keys.insert(k.clone(), i + 1).is_some() {
                    return Err(format!("key \"{k}\" is in two partitions"));
                }
            }
        }
        let mut nodes = Vec::new();
        let mut protocols = Vec::new();
        let servers = std::iter::once(&self.leader).chain(&self.followers).chain(
            self.partitions
                .iter()
                .flat_map(|p| std::iter::once(&p.leader).chain(&p.followers)),
        );
        for (i, p) in servers.enumerate() {
            let group = groups
                .iter()
                .find(|g| g.contains(&i))
                .expect("every server is in a partition");
            nodes.push(NodeInfo {
                name: p.name.clone(),
                role: NodeRole::Server,
                place: p.place.clone(),
                clock: Default::default(),
            });
            protocols.push(Node::Server(Box::new(Server {
                servers: group.clone(),
                clients: clients.clone(),
                mode,
                retransmit_ms: self.retransmit_ms.max(1),
                log: Vec::new(),
                role: if i == group[0] {
                    Role::Leader
                } else {
                    Role::Follower
                },
                generation: 1,
                leader: group[0],
                fork: 0,
                data: BTreeMap::new(),
                acked: BTreeMap::new(),
                pending: Vec::new(),
                backoff: BTreeMap::new(),
                reads_waiting: Vec::new(),
            })));
        }
        for (c, id) in self.clients.iter().zip(n_servers..) {
            nodes.push(NodeInfo {
                name: c.name.clone(),
                role: NodeRole::Client,
                place: c.place.clone(),
                clock: Default::default(),
            });
            protocols.push(Node::Client(Box::new(Client {
                groups: groups.clone(),
                keys: keys.clone(),
                leaders: groups.iter().map(|g| (g[0], 1)).collect(),
                writes: BTreeMap::new(),
                session: sessions[&id].clone(),
                written: BTreeSet::new(),
                write_floor: vec![0; groups.len()],
                read_floor: vec![0; groups.len()],
                reads: BTreeMap::new(),
            })));
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

/// Convenience: a write intervention.
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

/// Convenience: a read intervention.
pub fn read(at: Time, client: NodeId, replica: NodeId, key: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request: Request::Read {
                key: key.into(),
                replica,
            },
            label: None,
        },
    )
}

pub mod analysis;

pub mod presets;
