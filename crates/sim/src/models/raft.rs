//! Raft (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm",
//! USENIX ATC 2014): leader election, log replication and commitment, as in the paper's
//! Figure 2, with a key-value state machine and clients.
//!
//! - Servers are followers, candidates or leaders; time is divided into terms. A follower
//!   that hears from no leader for a randomized election timeout (`[election_ms,
//!   2·election_ms)`, §5.2) becomes a candidate: it increments its term, votes for itself
//!   and asks the others for votes (RequestVote). A server grants one vote per term, and
//!   only to a candidate whose log is at least as up-to-date as its own (§5.4.1: compare
//!   last terms, then lengths). A majority makes the candidate leader.
//! - The leader appends client commands to its log and replicates them with AppendEntries,
//!   which carries the index and term of the entry before the new ones: a follower whose log
//!   has no such entry refuses, and the leader retries one entry earlier (`nextIndex`
//!   back-off, §5.3). Empty AppendEntries are heartbeats (every `heartbeat_ms`).
//! - An entry is committed when the leader has it on a majority **and it is from the
//!   leader's current term** (§5.4.2); earlier entries are committed with it. Committed
//!   entries are applied, in order, to the state machine; the leader then answers the client.
//! - Any message with a higher term makes the receiver adopt the term and become a follower.
//! - Durable across a crash: `currentTerm`, `votedFor` and the log. Everything else —
//!   role, commit index, the state machine (rebuilt by replaying the log), the leader's
//!   `nextIndex` / `matchIndex` — is lost.
//!
//! Clients send each command to the server they believe leads; a server that does not lead
//! answers with the leader it knows of (a redirect, §8), and a client that hears nothing
//! retries elsewhere. Commands carry the client's operation id, so a retried command is
//! applied once (§8, "linearizable semantics").
//!
//! "Broken Raft" switches ([`Broken`]) remove one rule each, so lessons and the randomized
//! search can show the failure that rule prevents; [`monitor`] checks the paper's Figure 3
//! properties after every event.

pub mod analysis;
pub mod explore;
pub mod monitor;
pub mod presets;

use super::scenario::{self, NamedLink};
use crate::engine::{Ctx, NodeInfo, NodeRole, Protocol, Setup};
use crate::{Describe, NodeId, OpId, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A server's role (Raft paper, Figure 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Follower,
    /// Asking for pre-votes before starting an election (only with
    /// [`Refinement::PreVote`]; Ongaro's thesis §9.6). Its term is unchanged.
    PreCandidate,
    Candidate,
    Leader,
}

impl Role {
    /// `"follower"`, `"pre-candidate"`, `"candidate"` or `"leader"`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Follower => "follower",
            Role::PreCandidate => "pre-candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        }
    }
}

/// A state-machine command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Command {
    /// Set `key` to `value`.
    Put { key: String, value: String },
    /// Read `key` (through the log, so the read is linearizable).
    Get { key: String },
    /// The empty entry a leader appends when elected, with [`Refinement::ReadIndex`]: once
    /// it commits, the leader knows its commit index covers every committed entry
    /// (Ongaro's thesis §6.4, step 1).
    Noop,
}

impl Command {
    /// `"put x=1"`, `"get x"`.
    pub fn describe(&self) -> String {
        match self {
            Command::Put { key, value } => format!("put {key}={value}"),
            Command::Get { key } => format!("get {key}"),
            Command::Noop => "no-op".into(),
        }
    }
}

/// A log entry: the term in which a leader received it, the command, and which client
/// operation it carries (for replies and for applying a retried command once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub term: u64,
    pub command: Command,
    /// `(client node, operation)`.
    pub client: Option<(NodeId, OpId)>,
}

impl Entry {
    /// The entry at log position `index` in words, e.g. `"3:t2 put x=1"`.
    pub fn describe_at(&self, index: usize) -> String {
        format!("{index}:t{} {}", self.term, self.command.describe())
    }
}

/// A rule of Figure 2 that a "broken Raft" leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Broken {
    /// Grant votes without the up-to-date check on the candidate's log (§5.4.1). A leader
    /// can then lack committed entries: leader completeness fails.
    VoteUpToDateCheck,
    /// Commit entries of earlier terms by counting replicas (§5.4.2 forbids it): the
    /// paper's Figure 8, where such an entry is later overwritten.
    CurrentTermCommit,
    /// Keep `votedFor` in volatile memory: a server that crashes and restarts can vote twice
    /// in one term, and a term can have two leaders (election safety fails).
    PersistVotedFor,
    /// With [`Refinement::ReadIndex`], answer reads without first confirming leadership
    /// with a majority (thesis §6.4, step 3): a deposed leader that has not heard of its
    /// successor answers from its stale state machine (reads are no longer linearizable).
    ReadLeadershipCheck,
}

impl Broken {
    /// Every switch, in order.
    pub const ALL: [Broken; 4] = [
        Broken::VoteUpToDateCheck,
        Broken::CurrentTermCommit,
        Broken::PersistVotedFor,
        Broken::ReadLeadershipCheck,
    ];
    /// The name files and the command line use, e.g. `"vote-up-to-date-check"`.
    pub fn name(self) -> &'static str {
        match self {
            Broken::VoteUpToDateCheck => "vote-up-to-date-check",
            Broken::CurrentTermCommit => "current-term-commit",
            Broken::PersistVotedFor => "persist-voted-for",
            Broken::ReadLeadershipCheck => "read-leadership-check",
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

/// An optional refinement of Raft from Ongaro's PhD thesis ("Consensus: Bridging Theory
/// and Practice", 2014). None changes safety; each changes availability or cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refinement {
    /// Thesis §9.6: before an election a server asks for pre-votes with the term it would
    /// use, without incrementing its own. A server grants a pre-vote only to a log at least
    /// as up-to-date as its own and only if it has not heard from a leader for an election
    /// timeout. A server cut off from the majority therefore does not inflate its term and
    /// does not depose a working leader when it comes back.
    PreVote,
    /// Thesis §6.2 and §4.2.3: a leader that has not heard from a majority within an
    /// election timeout steps down (so a partitioned old leader stops accepting writes), and
    /// a server that heard from a leader within an election timeout ignores requests for
    /// votes (the leader's lease: it is not deposed while a majority still hears it).
    CheckQuorum,
    /// Thesis §6.4: reads skip the log. The leader records its commit index as the read
    /// index (after committing a no-op of its term), confirms it still leads with a round of
    /// heartbeats acknowledged by a majority, and answers once it has applied up to the read
    /// index. Reads stay linearizable and cost one round trip instead of a log entry.
    ReadIndex,
}

impl Refinement {
    /// Every refinement, in order.
    pub const ALL: [Refinement; 3] = [
        Refinement::PreVote,
        Refinement::CheckQuorum,
        Refinement::ReadIndex,
    ];
    /// The name files and the command line use, e.g. `"pre-vote"`.
    pub fn name(self) -> &'static str {
        match self {
            Refinement::PreVote => "pre-vote",
            Refinement::CheckQuorum => "check-quorum",
            Refinement::ReadIndex => "read-index",
        }
    }
    /// The refinement named `name`, or an error listing the names.
    pub fn parse(name: &str) -> Result<Refinement, String> {
        Refinement::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown refinement \"{name}\"; the refinements: {}",
                    Refinement::ALL.map(Refinement::name).join(", ")
                )
            })
    }
}

/// Timing and rules shared by every server of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Number of servers (ids `0..servers`).
    pub servers: usize,
    /// Election timeouts are drawn uniformly from `[election_ms, 2·election_ms)`.
    pub election_ms: Time,
    /// The leader sends AppendEntries (heartbeats if empty) this often.
    pub heartbeat_ms: Time,
    /// Rules left out (empty for correct Raft).
    pub broken: BTreeSet<Broken>,
    /// Refinements switched on (empty for Raft as in the paper).
    pub refinements: BTreeSet<Refinement>,
}

impl Config {
    /// Votes or replicas that make a majority of the servers.
    pub fn majority(&self) -> usize {
        self.servers / 2 + 1
    }
    /// Whether refinement `r` is switched on.
    pub fn has(&self, r: Refinement) -> bool {
        self.refinements.contains(&r)
    }
}

/// Messages: the two RPCs of Figure 2 and their replies, and the client protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Msg {
    RequestVote {
        term: u64,
        last_log_index: usize,
        last_log_term: u64,
    },
    RequestVoteReply {
        term: u64,
        granted: bool,
    },
    /// [`Refinement::PreVote`]: would you vote for me in `term` (my term + 1)? The
    /// receiver changes neither its term nor its vote.
    PreVote {
        term: u64,
        last_log_index: usize,
        last_log_term: u64,
    },
    /// Granted: `term` is the request's. Refused: the receiver's current term.
    PreVoteReply {
        term: u64,
        granted: bool,
    },
    AppendEntries {
        term: u64,
        prev_log_index: usize,
        prev_log_term: u64,
        entries: Vec<Entry>,
        leader_commit: usize,
        /// The leader's heartbeat round, echoed in the reply: a majority echoing a round
        /// sent after a read arrived confirms the leader still leads (thesis §6.4).
        #[serde(default)]
        round: u64,
    },
    AppendEntriesReply {
        term: u64,
        success: bool,
        /// The request's `prev_log_index`, so the leader can match the reply to it.
        prev_log_index: usize,
        /// On success, the index of the last entry the follower now matches.
        match_index: usize,
        /// The request's `round`.
        #[serde(default)]
        round: u64,
    },
    /// A client's command.
    Request {
        op: OpId,
        command: Command,
    },
    /// The outcome: the value read (or `None`) once applied, or a redirect.
    Reply {
        op: OpId,
        outcome: Outcome,
    },
}

/// What a server answers a client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Outcome {
    /// Applied; for a get, the value read.
    Done { value: Option<String>, index: usize },
    /// Not the leader; `leader` is the one this server knows of, if any.
    NotLeader { leader: Option<NodeId> },
}

impl Describe for Msg {
    fn label(&self) -> String {
        match self {
            Msg::RequestVote { term, .. } => format!("RequestVote t{term}"),
            Msg::RequestVoteReply { term, granted } => {
                format!("vote {} t{term}", if *granted { "yes" } else { "no" })
            }
            Msg::PreVote { term, .. } => format!("PreVote t{term}"),
            Msg::PreVoteReply { term, granted } => {
                format!("pre-vote {} t{term}", if *granted { "yes" } else { "no" })
            }
            Msg::AppendEntries { term, entries, .. } if entries.is_empty() => {
                format!("heartbeat t{term}")
            }
            Msg::AppendEntries { term, entries, .. } => {
                format!("AppendEntries t{term} ×{}", entries.len())
            }
            Msg::AppendEntriesReply { term, success, .. } => {
                format!("append {} t{term}", if *success { "ok" } else { "refused" })
            }
            Msg::Request { command, .. } => command.describe(),
            Msg::Reply { outcome, .. } => match outcome {
                Outcome::Done { value: Some(v), .. } => format!("ok: {v}"),
                Outcome::Done { value: None, .. } => "ok".into(),
                Outcome::NotLeader { .. } => "not the leader".into(),
            },
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let s = |k: &str, v: String| (k.to_string(), v);
        match self {
            Msg::RequestVote {
                term,
                last_log_index,
                last_log_term,
            }
            | Msg::PreVote {
                term,
                last_log_index,
                last_log_term,
            } => vec![
                s("term", term.to_string()),
                s("lastLogIndex", last_log_index.to_string()),
                s("lastLogTerm", last_log_term.to_string()),
            ],
            Msg::RequestVoteReply { term, granted } | Msg::PreVoteReply { term, granted } => {
                vec![
                    s("term", term.to_string()),
                    s("voteGranted", granted.to_string()),
                ]
            }
            Msg::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
            } => vec![
                s("term", term.to_string()),
                s("prevLogIndex", prev_log_index.to_string()),
                s("prevLogTerm", prev_log_term.to_string()),
                s(
                    "entries",
                    if entries.is_empty() {
                        "none (heartbeat)".into()
                    } else {
                        entries
                            .iter()
                            .map(|e| format!("t{} {}", e.term, e.command.describe()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                ),
                s("leaderCommit", leader_commit.to_string()),
                s("round", round.to_string()),
            ],
            Msg::AppendEntriesReply {
                term,
                success,
                prev_log_index,
                match_index,
                round,
            } => vec![
                s("term", term.to_string()),
                s("success", success.to_string()),
                s("for prevLogIndex", prev_log_index.to_string()),
                s("matchIndex", match_index.to_string()),
                s("round", round.to_string()),
            ],
            Msg::Request { op, command } => {
                vec![
                    s("operation", format!("#{op}")),
                    s("command", command.describe()),
                ]
            }
            Msg::Reply { op, outcome } => vec![
                s("operation", format!("#{op}")),
                s(
                    "outcome",
                    match outcome {
                        Outcome::Done { value, index } => format!(
                            "applied at index {index}{}",
                            value
                                .as_ref()
                                .map_or(String::new(), |v| format!(", value {v}"))
                        ),
                        Outcome::NotLeader { leader: Some(l) } => format!("redirect to node {l}"),
                        Outcome::NotLeader { leader: None } => "no leader known".into(),
                    },
                ),
            ],
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Msg::RequestVote { .. } => "request-vote",
            Msg::RequestVoteReply { .. } => "vote",
            Msg::PreVote { .. } => "pre-vote",
            Msg::PreVoteReply { .. } => "pre-vote-reply",
            Msg::AppendEntries { entries, .. } if entries.is_empty() => "heartbeat",
            Msg::AppendEntries { .. } => "append",
            Msg::AppendEntriesReply { .. } => "append-reply",
            Msg::Request { .. } => "request",
            Msg::Reply { .. } => "reply",
        }
    }
    /// The term of an RPC or its reply; client messages have none.
    fn epoch(&self) -> Option<(&'static str, u64)> {
        match self {
            Msg::RequestVote { term, .. }
            | Msg::RequestVoteReply { term, .. }
            | Msg::PreVote { term, .. }
            | Msg::PreVoteReply { term, .. }
            | Msg::AppendEntries { term, .. }
            | Msg::AppendEntriesReply { term, .. } => Some(("term", *term)),
            Msg::Request { .. } | Msg::Reply { .. } => None,
        }
    }
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timer {
    /// Follower / candidate: no leader heard from; start an election.
    Election,
    /// Leader: send AppendEntries to everyone.
    Heartbeat,
    /// Leader with [`Refinement::CheckQuorum`]: step down unless a majority answered
    /// within the last election timeout.
    CheckQuorum,
    /// Client: no answer to operation `op` yet; try another server.
    Retry(OpId),
}

/// A client operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    Put { key: String, value: String },
    Get { key: String },
}

impl Describe for Request {
    fn label(&self) -> String {
        self.command().describe()
    }
    fn kind(&self) -> &'static str {
        match self {
            Request::Put { .. } => "write",
            Request::Get { .. } => "read",
        }
    }
}

impl Request {
    fn command(&self) -> Command {
        match self {
            Request::Put { key, value } => Command::Put {
                key: key.clone(),
                value: value.clone(),
            },
            Request::Get { key } => Command::Get { key: key.clone() },
        }
    }
}

/// What completes a client operation: the value read (gets) and the log index at which the
/// command was applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub value: Option<String>,
    pub index: usize,
}

impl Describe for Response {
    fn label(&self) -> String {
        match &self.value {
            Some(v) => format!("{v} (index {})", self.index),
            None => format!("ok (index {})", self.index),
        }
    }
}

/// Operator commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Operator {
    /// Let this server's election timer fire now (start an election).
    Timeout,
}

impl Describe for Operator {
    fn label(&self) -> String {
        "election timeout now".into()
    }
}

/// A server's state. Durable: `current_term`, `voted_for`, `log`. The rest is volatile.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    pub config: Config,
    /// Latest term this server has seen (durable).
    pub current_term: u64,
    /// The candidate it voted for in `current_term` (durable unless
    /// [`Broken::PersistVotedFor`]).
    pub voted_for: Option<NodeId>,
    /// The log; index 1 is `log[0]` (durable).
    pub log: Vec<Entry>,
    pub role: Role,
    /// Highest log index known to be committed.
    pub commit_index: usize,
    /// Highest log index applied to the state machine.
    pub last_applied: usize,
    /// The key-value state machine.
    pub kv: BTreeMap<String, String>,
    /// Per client operation applied: the log index it was applied at and its result, so a
    /// command retried into the log twice is applied once and answered the same way (§8).
    /// Keyed by operation rather than by a client's latest serial number because a client
    /// here may have several operations in flight.
    pub sessions: BTreeMap<(NodeId, OpId), (usize, Option<String>)>,
    /// The leader of `current_term`, if known.
    pub leader: Option<NodeId>,
    /// Candidate: who voted for it in this term.
    pub votes: BTreeSet<NodeId>,
    /// Leader: per server, the next log index to send.
    pub next_index: Vec<usize>,
    /// Leader: per server, the highest index known replicated there.
    pub match_index: Vec<usize>,
    /// When the election timer was last reset and how long it runs (simulated ms), for the
    /// page's timer progress.
    pub election_deadline: Option<(Time, Time)>,
    /// When this server last heard from the leader of its term (simulated ms).
    pub leader_contact: Option<Time>,
    /// Pre-candidate: who granted a pre-vote for `current_term + 1`.
    pub prevotes: BTreeSet<NodeId>,
    /// Leader: per server, when it last answered an AppendEntries of this term (simulated
    /// ms; the leader's own entry is unused). For [`Refinement::CheckQuorum`].
    pub heard: Vec<Time>,
    /// Leader: the last heartbeat round sent, and per server the last round it echoed.
    pub round: u64,
    pub acked_round: Vec<u64>,
    /// Leader with [`Refinement::ReadIndex`]: reads waiting to be answered.
    pub reads: Vec<PendingRead>,
    rng: ChaCha8Rng,
}

/// A read waiting at a leader with [`Refinement::ReadIndex`] (thesis §6.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRead {
    pub client: NodeId,
    pub op: OpId,
    pub key: String,
    /// The commit index to apply up to; `None` until the leader has committed an entry of
    /// its term.
    pub read_index: Option<usize>,
    /// The heartbeat round, sent after the read arrived, that a majority must echo.
    pub round: u64,
}

/// A client: sends each operation to the server it believes leads, follows redirects,
/// retries elsewhere when nothing comes back.
#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    pub servers: usize,
    /// The server believed to lead (the first one asked).
    pub leader_hint: NodeId,
    /// Operations in progress and how many times each was sent.
    pub waiting: BTreeMap<OpId, (Command, u32)>,
    pub retry_ms: Time,
}

/// A node of a Raft run.
// Most nodes of a run are servers; boxing them would only add an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Server(Server),
    Client(Client),
}

/// What the page shows of a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum View {
    Server {
        role: Role,
        term: u64,
        voted_for: Option<NodeId>,
        log: Vec<Entry>,
        commit_index: usize,
        kv: BTreeMap<String, String>,
        leader: Option<NodeId>,
        /// `(reset at, runs for)`, simulated ms.
        election_deadline: Option<(Time, Time)>,
    },
    Client {
        waiting: usize,
        leader_hint: NodeId,
    },
}

impl Describe for View {
    fn label(&self) -> String {
        match self {
            View::Server {
                role,
                term,
                log,
                commit_index,
                ..
            } => format!(
                "{} t{term}, log {} (committed {commit_index})",
                role.name(),
                log.len()
            ),
            View::Client { waiting, .. } => format!("client, {waiting} waiting"),
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        match self {
            View::Server {
                role,
                term,
                voted_for,
                log,
                commit_index,
                kv,
                ..
            } => vec![
                ("role".into(), role.name().into()),
                ("currentTerm".into(), term.to_string()),
                (
                    "votedFor".into(),
                    voted_for.map_or("none".into(), |v| format!("node {v}")),
                ),
                (
                    "log".into(),
                    log.iter()
                        .enumerate()
                        .map(|(i, e)| e.describe_at(i + 1))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                ("commitIndex".into(), commit_index.to_string()),
                (
                    "state".into(),
                    kv.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
            View::Client {
                waiting,
                leader_hint,
            } => vec![
                ("waiting".into(), waiting.to_string()),
                ("asks".into(), format!("node {leader_hint}")),
            ],
        }
    }
}

impl Server {
    /// A server of `config` whose election timeouts come from `seed`.
    pub fn new(config: Config, seed: u64, me: NodeId) -> Server {
        let n = config.servers;
        Server {
            config,
            current_term: 0,
            voted_for: None,
            log: Vec::new(),
            role: Role::Follower,
            commit_index: 0,
            last_applied: 0,
            kv: BTreeMap::new(),
            sessions: BTreeMap::new(),
            leader: None,
            votes: BTreeSet::new(),
            next_index: vec![1; n],
            match_index: vec![0; n],
            election_deadline: None,
            leader_contact: None,
            prevotes: BTreeSet::new(),
            heard: vec![0; n],
            round: 0,
            acked_round: vec![0; n],
            reads: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(
                seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(me as u64 + 1),
            ),
        }
    }

    /// The other servers' ids.
    fn others(&self, me: NodeId) -> Vec<NodeId> {
        (0..self.config.servers).filter(|&s| s != me).collect()
    }

    /// Index of the last log entry (0 when empty).
    pub fn last_log_index(&self) -> usize {
        self.log.len()
    }
    /// Term of the last log entry (0 when empty).
    pub fn last_log_term(&self) -> u64 {
        self.log.last().map_or(0, |e| e.term)
    }
    /// Term of the entry at `index` (0 for index 0 or past the end).
    pub fn term_at(&self, index: usize) -> u64 {
        index
            .checked_sub(1)
            .and_then(|i| self.log.get(i))
            .map_or(0, |e| e.term)
    }

    /// §5.4.1: a candidate's log is at least as up-to-date as ours when its last term is
    /// greater, or equal with an index at least ours.
    pub fn log_ok(&self, last_log_index: usize, last_log_term: u64) -> bool {
        last_log_term > self.last_log_term()
            || (last_log_term == self.last_log_term() && last_log_index >= self.last_log_index())
    }

    fn reset_election_timer(&mut self, ctx: &mut Ctx<Node>) {
        let e = self.config.election_ms.max(1);
        let after = self
            .rng
            .random_range(e..e.saturating_mul(2).max(e.saturating_add(1)));
        self.election_deadline = Some((ctx.now(), after));
        ctx.set_timer(Timer::Election, after);
    }

    /// Any RPC with a higher term: adopt it and become a follower (Figure 2, "All Servers").
    fn observe_term(&mut self, term: u64, ctx: &mut Ctx<Node>) {
        if term > self.current_term {
            let was = self.role;
            self.current_term = term;
            self.voted_for = None;
            self.leader = None;
            if was != Role::Follower {
                ctx.note(format!("term {term} seen: {} steps down", was.name()));
                self.become_follower(ctx);
            }
        }
    }

    fn become_follower(&mut self, ctx: &mut Ctx<Node>) {
        self.role = Role::Follower;
        self.votes.clear();
        self.prevotes.clear();
        // Reads waiting here are dropped: their clients retry at the new leader.
        self.reads.clear();
        ctx.cancel_timer(Timer::Heartbeat);
        ctx.cancel_timer(Timer::CheckQuorum);
        self.reset_election_timer(ctx);
    }

    /// The election timer fired: with [`Refinement::PreVote`] ask for pre-votes first,
    /// otherwise start an election.
    fn election_timeout(&mut self, ctx: &mut Ctx<Node>) {
        if !self.config.has(Refinement::PreVote) {
            self.start_election(ctx);
            return;
        }
        self.role = Role::PreCandidate;
        self.leader = None;
        self.prevotes = BTreeSet::from([ctx.me()]);
        ctx.note(format!(
            "asks for pre-votes for term {}",
            self.current_term + 1
        ));
        self.reset_election_timer(ctx);
        if self.prevotes.len() >= self.config.majority() {
            self.start_election(ctx);
            return;
        }
        for s in self.others(ctx.me()) {
            ctx.send(
                s,
                Msg::PreVote {
                    term: self.current_term + 1,
                    last_log_index: self.last_log_index(),
                    last_log_term: self.last_log_term(),
                },
            );
        }
    }

    /// Whether this server still has a leader it heard from within an election timeout
    /// (for a leader: a majority answered within one). Used to refuse pre-votes and, with
    /// [`Refinement::CheckQuorum`], to ignore requests for votes (thesis §4.2.3).
    fn leader_alive(&self, me: NodeId, now: Time) -> bool {
        match self.role {
            Role::Leader => self.quorum_heard(me, now),
            _ => {
                self.leader.is_some()
                    && self
                        .leader_contact
                        .is_some_and(|t| now.saturating_sub(t) < self.config.election_ms)
            }
        }
    }

    /// Leader: whether it and the servers that answered it within the last election
    /// timeout make a majority.
    fn quorum_heard(&self, me: NodeId, now: Time) -> bool {
        let heard = self
            .heard
            .iter()
            .enumerate()
            .filter(|&(s, &t)| s != me && now.saturating_sub(t) < self.config.election_ms)
            .count();
        heard + 1 >= self.config.majority()
    }

    fn start_election(&mut self, ctx: &mut Ctx<Node>) {
        self.current_term += 1;
        self.role = Role::Candidate;
        self.voted_for = Some(ctx.me());
        self.leader = None;
        self.votes = BTreeSet::from([ctx.me()]);
        ctx.note(format!("candidate for term {}", self.current_term));
        self.reset_election_timer(ctx);
        if self.votes.len() >= self.config.majority() {
            self.become_leader(ctx);
            return;
        }
        for s in self.others(ctx.me()) {
            ctx.send(
                s,
                Msg::RequestVote {
                    term: self.current_term,
                    last_log_index: self.last_log_index(),
                    last_log_term: self.last_log_term(),
                },
            );
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx<Node>) {
        self.role = Role::Leader;
        self.leader = Some(ctx.me());
        self.election_deadline = None;
        ctx.cancel_timer(Timer::Election);
        let n = self.config.servers;
        self.next_index = vec![self.last_log_index() + 1; n];
        self.match_index = vec![0; n];
        self.heard = vec![ctx.now(); n];
        self.acked_round = vec![0; n];
        self.reads.clear();
        ctx.note(format!("leader of term {}", self.current_term));
        if self.config.has(Refinement::ReadIndex) {
            self.log.push(Entry {
                term: self.current_term,
                command: Command::Noop,
                client: None,
            });
        }
        self.match_index[ctx.me()] = self.last_log_index();
        if self.config.has(Refinement::CheckQuorum) {
            ctx.set_timer(Timer::CheckQuorum, self.config.election_ms.max(1));
        }
        self.broadcast(ctx);
    }

    /// [`Refinement::CheckQuorum`]: a leader that heard from no majority within the last
    /// election timeout steps down (thesis §6.2).
    fn check_quorum(&mut self, ctx: &mut Ctx<Node>) {
        if self.quorum_heard(ctx.me(), ctx.now()) {
            ctx.set_timer(Timer::CheckQuorum, self.config.election_ms.max(1));
        } else {
            ctx.note(format!(
                "no majority answered in {} ms: steps down (check quorum)",
                self.config.election_ms
            ));
            self.leader = None;
            self.become_follower(ctx);
        }
    }

    /// [`Refinement::ReadIndex`]: answers the waiting reads whose leadership round a
    /// majority echoed and whose read index is applied (thesis §6.4).
    fn serve_reads(&mut self, ctx: &mut Ctx<Node>) {
        if self.reads.is_empty() || self.role != Role::Leader {
            return;
        }
        let committed_in_term = self.term_at(self.commit_index) == self.current_term;
        let me = ctx.me();
        let mut waiting = Vec::new();
        for mut read in std::mem::take(&mut self.reads) {
            if read.read_index.is_none() && committed_in_term {
                read.read_index = Some(self.commit_index);
            }
            let echoed = self
                .acked_round
                .iter()
                .enumerate()
                .filter(|&(s, &r)| s != me && r >= read.round)
                .count()
                + 1;
            let confirmed = echoed >= self.config.majority()
                || self.config.broken.contains(&Broken::ReadLeadershipCheck);
            match read.read_index {
                Some(index) if confirmed && self.last_applied >= index => {
                    ctx.send(
                        read.client,
                        Msg::Reply {
                            op: read.op,
                            // The state read is the one applied so far (at least the
                            // read index): the reply names that index.
                            outcome: Outcome::Done {
                                value: self.kv.get(&read.key).cloned(),
                                index: self.last_applied,
                            },
                        },
                    );
                }
                _ => waiting.push(read),
            }
        }
        self.reads = waiting;
    }

    /// AppendEntries to every other server from its `nextIndex` (a new heartbeat round),
    /// and the next heartbeat.
    fn broadcast(&mut self, ctx: &mut Ctx<Node>) {
        self.round += 1;
        for s in self.others(ctx.me()) {
            self.send_append(s, ctx);
        }
        ctx.set_timer(Timer::Heartbeat, self.config.heartbeat_ms.max(1));
    }

    fn send_append(&self, to: NodeId, ctx: &mut Ctx<Node>) {
        let next = self.next_index[to].clamp(1, self.last_log_index() + 1);
        let prev = next - 1;
        ctx.send(
            to,
            Msg::AppendEntries {
                term: self.current_term,
                prev_log_index: prev,
                prev_log_term: self.term_at(prev),
                entries: self.log[prev..].to_vec(),
                leader_commit: self.commit_index,
                round: self.round,
            },
        );
    }

    /// Leader: the highest index replicated on a majority; committed if its entry is from
    /// the current term (§5.4.2; unless [`Broken::CurrentTermCommit`]).
    fn advance_commit(&mut self, ctx: &mut Ctx<Node>) {
        let mut matched = self.match_index.clone();
        matched[ctx.me()] = self.last_log_index();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let n = matched[self.config.majority() - 1];
        let current_term_only = !self.config.broken.contains(&Broken::CurrentTermCommit);
        if n > self.commit_index && (!current_term_only || self.term_at(n) == self.current_term) {
            self.commit_index = n;
            self.apply(ctx);
        }
    }

    /// Applies committed entries in order; a leader answers the clients whose commands
    /// these are.
    fn apply(&mut self, ctx: &mut Ctx<Node>) {
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            let index = self.last_applied;
            let entry = self.log[index - 1].clone();
            let duplicate = entry.client.and_then(|id| self.sessions.get(&id).cloned());
            let (index, value) = match duplicate {
                Some(first) => first,
                None => {
                    let v = match &entry.command {
                        Command::Put { key, value } => {
                            self.kv.insert(key.clone(), value.clone());
                            None
                        }
                        Command::Get { key } => self.kv.get(key).cloned(),
                        Command::Noop => None,
                    };
                    if let Some(id) = entry.client {
                        self.sessions.insert(id, (index, v.clone()));
                    }
                    (index, v)
                }
            };
            if self.role == Role::Leader {
                if let Some((c, op)) = entry.client {
                    ctx.send(
                        c,
                        Msg::Reply {
                            op,
                            outcome: Outcome::Done { value, index },
                        },
                    );
                }
            }
        }
        self.serve_reads(ctx);
    }

    /// An AppendEntries reply that refuses the request with this `prev_log_index`.
    fn refuse_append(&self, to: NodeId, prev_log_index: usize, round: u64, ctx: &mut Ctx<Node>) {
        ctx.send(
            to,
            Msg::AppendEntriesReply {
                term: self.current_term,
                success: false,
                prev_log_index,
                match_index: 0,
                round,
            },
        );
    }

    /// [`Refinement::CheckQuorum`]: a request for votes (or pre-votes) in a higher term
    /// that arrives while this server still hears from its leader is ignored, term and
    /// all (thesis §4.2.3).
    fn in_lease(&self, term: u64, ctx: &Ctx<Node>) -> bool {
        self.config.has(Refinement::CheckQuorum)
            && term > self.current_term
            && self.leader_alive(ctx.me(), ctx.now())
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        match msg {
            Msg::RequestVote {
                term,
                last_log_index,
                last_log_term,
            } => {
                if self.in_lease(term, ctx) {
                    ctx.note("ignores RequestVote: its leader is alive (check quorum)");
                    return;
                }
                self.observe_term(term, ctx);
                let log_ok = self.config.broken.contains(&Broken::VoteUpToDateCheck)
                    || self.log_ok(last_log_index, last_log_term);
                let granted =
                    term == self.current_term && self.voted_for.is_none_or(|v| v == from) && log_ok;
                if granted {
                    self.voted_for = Some(from);
                    self.reset_election_timer(ctx);
                }
                ctx.send(
                    from,
                    Msg::RequestVoteReply {
                        term: self.current_term,
                        granted,
                    },
                );
            }
            Msg::RequestVoteReply { term, granted } => {
                self.observe_term(term, ctx);
                if self.role == Role::Candidate && term == self.current_term && granted {
                    self.votes.insert(from);
                    if self.votes.len() >= self.config.majority() {
                        self.become_leader(ctx);
                    }
                }
            }
            Msg::PreVote {
                term,
                last_log_index,
                last_log_term,
            } => {
                // Neither the term nor the vote changes (thesis §9.6).
                let granted = term > self.current_term
                    && self.log_ok(last_log_index, last_log_term)
                    && !self.leader_alive(ctx.me(), ctx.now());
                ctx.send(
                    from,
                    Msg::PreVoteReply {
                        term: if granted { term } else { self.current_term },
                        granted,
                    },
                );
            }
            Msg::PreVoteReply { term, granted } => {
                if !granted {
                    self.observe_term(term, ctx);
                } else if self.role == Role::PreCandidate && term == self.current_term + 1 {
                    self.prevotes.insert(from);
                    if self.prevotes.len() >= self.config.majority() {
                        self.start_election(ctx);
                    }
                }
            }
            Msg::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
            } => {
                self.observe_term(term, ctx);
                if term < self.current_term {
                    self.refuse_append(from, prev_log_index, round, ctx);
                    return;
                }
                self.leader_contact = Some(ctx.now());
                // A leader of our term exists: a candidate returns to follower (§5.2).
                if self.role != Role::Follower {
                    self.become_follower(ctx);
                } else {
                    self.reset_election_timer(ctx);
                }
                self.leader = Some(from);
                let consistent = prev_log_index <= self.last_log_index()
                    && self.term_at(prev_log_index) == prev_log_term;
                if !consistent {
                    self.refuse_append(from, prev_log_index, round, ctx);
                    return;
                }
                // Delete a conflicting entry and all that follow; append the new ones.
                for (k, e) in entries.iter().enumerate() {
                    let index = prev_log_index + 1 + k;
                    if index <= self.last_log_index() {
                        if self.term_at(index) == e.term {
                            continue;
                        }
                        self.log.truncate(index - 1);
                    }
                    self.log.push(e.clone());
                }
                let last_new = prev_log_index + entries.len();
                if leader_commit > self.commit_index {
                    self.commit_index = leader_commit.min(last_new);
                    self.apply(ctx);
                }
                ctx.send(
                    from,
                    Msg::AppendEntriesReply {
                        term: self.current_term,
                        success: true,
                        prev_log_index,
                        match_index: last_new,
                        round,
                    },
                );
            }
            Msg::AppendEntriesReply {
                term,
                success,
                prev_log_index,
                match_index,
                round,
            } => {
                self.observe_term(term, ctx);
                if self.role != Role::Leader || term != self.current_term {
                    return;
                }
                self.heard[from] = ctx.now();
                self.acked_round[from] = self.acked_round[from].max(round);
                self.serve_reads(ctx);
                if success {
                    if match_index > self.match_index[from] {
                        self.match_index[from] = match_index;
                    }
                    self.next_index[from] = self.next_index[from].max(match_index + 1);
                    self.advance_commit(ctx);
                    if self.next_index[from] <= self.last_log_index() {
                        self.send_append(from, ctx);
                    }
                } else if prev_log_index + 1 == self.next_index[from] && prev_log_index > 0 {
                    // The follower lacks the entry before nextIndex: back off by one (§5.3).
                    self.next_index[from] = prev_log_index;
                    self.send_append(from, ctx);
                }
            }
            Msg::Request { op, command } => {
                if self.role != Role::Leader {
                    ctx.send(
                        from,
                        Msg::Reply {
                            op,
                            outcome: Outcome::NotLeader {
                                leader: self.leader,
                            },
                        },
                    );
                    return;
                }
                if let (Command::Get { key }, true) =
                    (&command, self.config.has(Refinement::ReadIndex))
                {
                    // A read skips the log: confirm leadership with a fresh round.
                    if !self.reads.iter().any(|r| r.client == from && r.op == op) {
                        self.reads.push(PendingRead {
                            client: from,
                            op,
                            key: key.clone(),
                            read_index: None,
                            round: self.round + 1,
                        });
                    }
                    self.broadcast(ctx);
                    self.serve_reads(ctx);
                    return;
                }
                let retry = self.log.iter().any(|e| e.client == Some((from, op)));
                if !retry {
                    self.log.push(Entry {
                        term: self.current_term,
                        command,
                        client: Some((from, op)),
                    });
                    self.match_index[ctx.me()] = self.last_log_index();
                    self.advance_commit(ctx);
                    for s in self.others(ctx.me()) {
                        self.send_append(s, ctx);
                    }
                } else if let Some((index, v)) = self.sessions.get(&(from, op)) {
                    // Already applied: answer again.
                    ctx.send(
                        from,
                        Msg::Reply {
                            op,
                            outcome: Outcome::Done {
                                value: v.clone(),
                                index: *index,
                            },
                        },
                    );
                }
            }
            Msg::Reply { .. } => {}
        }
    }
}

impl Client {
    fn send(&mut self, op: OpId, ctx: &mut Ctx<Node>) {
        if let Some((command, tries)) = self.waiting.get_mut(&op) {
            *tries += 1;
            let command = command.clone();
            ctx.send(self.leader_hint, Msg::Request { op, command });
            ctx.set_timer(Timer::Retry(op), self.retry_ms.max(1));
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
        if let Node::Server(s) = self {
            s.reset_election_timer(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        match self {
            Node::Server(s) => s.on_message(from, msg, ctx),
            Node::Client(c) => {
                let Msg::Reply { op, outcome } = msg else {
                    return;
                };
                if !c.waiting.contains_key(&op) {
                    return;
                }
                match outcome {
                    Outcome::Done { value, index } => {
                        c.waiting.remove(&op);
                        c.leader_hint = from;
                        ctx.cancel_timer(Timer::Retry(op));
                        ctx.reply(op, Response { value, index });
                    }
                    Outcome::NotLeader { leader } => {
                        c.leader_hint = match leader {
                            Some(l) if l != from => l,
                            _ => (from + 1) % c.servers,
                        };
                        c.send(op, ctx);
                    }
                }
            }
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Self>) {
        match (self, timer) {
            (Node::Server(s), Timer::Election) if s.role != Role::Leader => s.election_timeout(ctx),
            (Node::Server(s), Timer::Heartbeat) if s.role == Role::Leader => s.broadcast(ctx),
            (Node::Server(s), Timer::CheckQuorum) if s.role == Role::Leader => s.check_quorum(ctx),
            (Node::Client(c), Timer::Retry(op)) => {
                c.leader_hint = (c.leader_hint + 1) % c.servers;
                c.send(op, ctx);
            }
            _ => {}
        }
    }

    fn on_request(&mut self, op: OpId, request: Request, ctx: &mut Ctx<Self>) {
        if let Node::Client(c) = self {
            c.waiting.insert(op, (request.command(), 0));
            c.send(op, ctx);
        }
    }

    fn on_command(&mut self, command: Operator, ctx: &mut Ctx<Self>) {
        match (self, command) {
            (Node::Server(s), Operator::Timeout) => {
                if s.role != Role::Leader {
                    s.election_timeout(ctx);
                }
            }
            (Node::Client(_), Operator::Timeout) => {}
        }
    }

    fn on_crash(&mut self) {
        match self {
            Node::Server(s) => {
                let fresh = Server {
                    current_term: s.current_term,
                    voted_for: if s.config.broken.contains(&Broken::PersistVotedFor) {
                        None
                    } else {
                        s.voted_for
                    },
                    log: std::mem::take(&mut s.log),
                    rng: s.rng.clone(),
                    ..Server::new(s.config.clone(), 0, 0)
                };
                *s = fresh;
            }
            Node::Client(c) => c.waiting.clear(),
        }
    }

    fn on_restart(&mut self, ctx: &mut Ctx<Self>) {
        self.on_start(ctx);
    }

    fn view(&self) -> View {
        match self {
            Node::Server(s) => View::Server {
                role: s.role,
                term: s.current_term,
                voted_for: s.voted_for,
                log: s.log.clone(),
                commit_index: s.commit_index,
                kv: s.kv.clone(),
                leader: s.leader,
                election_deadline: s.election_deadline,
            },
            Node::Client(c) => View::Client {
                waiting: c.waiting.len(),
                leader_hint: c.leader_hint,
            },
        }
    }
}

/// A client in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub name: String,
    #[serde(default)]
    pub place: Option<String>,
    /// The server it asks first, by name (the first server when absent).
    #[serde(default)]
    pub server: Option<String>,
}

/// A server's durable state at the start of a run, for scenarios that begin mid-history
/// (the paper's Figures 7 and 8). Entries are written by term only, as the paper draws them;
/// entry `i` of term `t` is the command `put x=t<t>`, so two servers with an entry of the same
/// index and term hold the same entry (log matching holds at the start).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialServer {
    /// The server's name.
    pub server: String,
    /// Its `currentTerm` (at least the last entry's term).
    pub term: u64,
    /// Whom it voted for in `term`, by name.
    #[serde(default)]
    pub voted_for: Option<String>,
    /// The terms of its log entries, index 1 first; never decreasing.
    #[serde(default)]
    pub log: Vec<u64>,
}

impl InitialServer {
    /// The log entries `log` stands for.
    pub fn entries(&self) -> Vec<Entry> {
        self.log
            .iter()
            .map(|&term| Entry {
                term,
                command: Command::Put {
                    key: "x".into(),
                    value: format!("t{term}"),
                },
                client: None,
            })
            .collect()
    }
}

/// A Raft scenario as lesson files and the command line write it (nodes by name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaftScenario {
    /// Seed of the run: latencies, loss and every server's election timeouts.
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration_ms: Time,
    /// 3, 5 or 7 server names.
    pub servers: Vec<String>,
    #[serde(default)]
    pub clients: Vec<ClientSpec>,
    #[serde(default = "default_election")]
    pub election_ms: Time,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_ms: Time,
    /// How long a client waits for an answer before asking another server.
    #[serde(default = "default_retry")]
    pub client_retry_ms: Time,
    #[serde(default = "default_latency")]
    pub latency_ms: Time,
    #[serde(default)]
    pub jitter_ms: Time,
    #[serde(default)]
    pub links: Vec<NamedLink>,
    #[serde(default)]
    pub loss: f64,
    /// Rules left out ("broken Raft"); empty for Raft as in the paper.
    #[serde(default)]
    pub broken: BTreeSet<Broken>,
    /// Refinements from Ongaro's thesis switched on: `pre-vote`, `check-quorum`,
    /// `read-index` ([`Refinement`]); empty for Raft as in the paper.
    #[serde(default)]
    pub refinements: BTreeSet<Refinement>,
    /// Durable state some servers start with (the others start empty in term 0).
    #[serde(default)]
    pub initial: Vec<InitialServer>,
}

fn default_duration() -> Time {
    1_000
}
fn default_election() -> Time {
    150
}
fn default_heartbeat() -> Time {
    50
}
fn default_retry() -> Time {
    200
}
fn default_latency() -> Time {
    10
}

impl RaftScenario {
    /// A scenario of `n` servers named `s1`…`sn` and one client, `client`, with defaults.
    pub fn cluster(n: usize, seed: u64) -> RaftScenario {
        RaftScenario {
            seed,
            duration_ms: default_duration(),
            servers: (1..=n).map(|i| format!("s{i}")).collect(),
            clients: vec![ClientSpec {
                name: "client".into(),
                place: None,
                server: None,
            }],
            election_ms: default_election(),
            heartbeat_ms: default_heartbeat(),
            client_retry_ms: default_retry(),
            latency_ms: default_latency(),
            jitter_ms: 0,
            links: Vec::new(),
            loss: 0.0,
            broken: BTreeSet::new(),
            refinements: BTreeSet::new(),
            initial: Vec::new(),
        }
    }

    /// All node names in id order: servers, then clients.
    pub fn names(&self) -> Vec<String> {
        self.servers
            .iter()
            .cloned()
            .chain(self.clients.iter().map(|c| c.name.clone()))
            .collect()
    }

    /// The id of a named node, or an error listing the known names.
    pub fn node(&self, name: &str) -> Result<NodeId, String> {
        scenario::node_id(&self.names(), name)
    }

    /// The shared configuration of the servers.
    pub fn config(&self) -> Config {
        Config {
            servers: self.servers.len(),
            election_ms: self.election_ms,
            heartbeat_ms: self.heartbeat_ms,
            broken: self.broken.clone(),
            refinements: self.refinements.clone(),
        }
    }

    /// Checks the scenario and builds the run's setup. Errors: a server count other than
    /// 3, 5 or 7 (1 is allowed for experiments), bad names, timing that cannot elect
    /// (`heartbeat_ms` must be below `election_ms`), an unknown server for a client.
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        let n = self.servers.len();
        if !matches!(n, 1 | 3 | 5 | 7) {
            return Err(format!(
                "{n} servers: a Raft cluster here has 3, 5 or 7 (or 1 to experiment)"
            ));
        }
        let names = self.names();
        scenario::check_names(&names)?;
        if self.election_ms == 0 || self.heartbeat_ms == 0 {
            return Err("election_ms and heartbeat_ms must be positive".into());
        }
        scenario::check_time("duration_ms", self.duration_ms)?;
        scenario::check_time("election_ms", self.election_ms)?;
        scenario::check_time("heartbeat_ms", self.heartbeat_ms)?;
        scenario::check_time("client_retry_ms", self.client_retry_ms)?;
        if self.heartbeat_ms >= self.election_ms {
            return Err(format!(
                "heartbeat_ms = {} must be below election_ms = {}: followers would time out between heartbeats",
                self.heartbeat_ms, self.election_ms
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
        for (i, name) in self.servers.iter().enumerate() {
            nodes.push(NodeInfo {
                name: name.clone(),
                role: NodeRole::Server,
                place: None,
                clock: Default::default(),
            });
            protocols.push(Node::Server(Server::new(config.clone(), self.seed, i)));
        }
        let mut seen = BTreeSet::new();
        for init in &self.initial {
            let id = self.node(&init.server)?;
            let Some(Node::Server(server)) = protocols.get_mut(id) else {
                return Err(format!(
                    "initial state for \"{}\": it is not a server",
                    init.server
                ));
            };
            if !seen.insert(id) {
                return Err(format!("two initial states for server \"{}\"", init.server));
            }
            if init.log.windows(2).any(|w| w[1] < w[0]) {
                return Err(format!(
                    "server \"{}\": the terms of a log never decrease, but the log is {:?}",
                    init.server, init.log
                ));
            }
            if let Some(&last) = init.log.last() {
                if last > init.term {
                    return Err(format!(
                        "server \"{}\": its log has an entry of term {last}, later than its term {}",
                        init.server, init.term
                    ));
                }
            }
            server.current_term = init.term;
            server.log = init.entries();
            server.voted_for = match &init.voted_for {
                Some(v) => {
                    let vid = self.node(v)?;
                    if vid >= n {
                        return Err(format!(
                            "server \"{}\": voted for \"{v}\", which is not a server",
                            init.server
                        ));
                    }
                    Some(vid)
                }
                None => None,
            };
        }
        for c in &self.clients {
            let first = match &c.server {
                Some(s) => {
                    let id = self.node(s)?;
                    if id >= n {
                        return Err(format!("client {}: \"{s}\" is not a server", c.name));
                    }
                    id
                }
                None => 0,
            };
            nodes.push(NodeInfo {
                name: c.name.clone(),
                role: NodeRole::Client,
                place: c.place.clone(),
                clock: Default::default(),
            });
            protocols.push(Node::Client(Client {
                servers: n,
                leader_hint: first,
                waiting: BTreeMap::new(),
                retry_ms: self.client_retry_ms,
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
