//! Atomic commit across shards: two-phase commit (2PC) with presumed abort, and
//! three-phase commit (3PC) with the timeouts textbooks give it.
//!
//! Sources: J. Gray, "Notes on Data Base Operating Systems" (1978); P. A. Bernstein,
//! V. Hadzilacos and N. Goodman, *Concurrency Control and Recovery in Database Systems*
//! (1987), ch. 7 (BHG: 2PC, its termination and recovery, the cooperative termination
//! protocol of §7.4, 3PC); C. Mohan, B. Lindsay and R. Obermarck, "Transaction Management in
//! the R* Distributed Database Management System" (TODS 11(4), 1986: presumed abort);
//! J. Gray and A. Reuter, *Transaction Processing* (1993), ch. 12; D. Skeen, "Nonblocking
//! Commit Protocols" (SIGMOD 1981); M. Kleppmann, *Designing Data-Intensive Applications*
//! (DDIA) ch. 9, "Atomic Commit and Two-Phase Commit".
//!
//! Nodes: id 0 is the **coordinator** (transaction manager), ids `1..=n` the
//! **participants** (resource managers, one per shard). Transactions are started by the
//! scenario (`transactions`, each at its `start_ms`) or by an operator's
//! [`Command::Begin`] at the coordinator.
//!
//! - **Execution.** The coordinator sends each involved participant its writes
//!   ([`Msg::Write`]). The participant takes an exclusive lock on each key — waiting in FIFO
//!   order behind the transaction that holds it — applies the writes tentatively and
//!   answers [`Msg::Done`].
//! - **2PC, phase 1.** With every `done`, the coordinator sends [`Msg::Prepare`]. A
//!   participant votes **no** (scenario `vote = "no"`, or with `no_overdraft` a balance that
//!   would go negative) and aborts at once, or force-writes a PREPARED record and votes
//!   **yes**. From then on it is **in doubt**: it may neither commit nor abort on its own and
//!   keeps its locks until it learns the decision (BHG §7.3, the "uncertainty period").
//!   Before voting it may abort unilaterally: without a prepare within `prepare_timeout_ms`
//!   of its work arriving, it does.
//! - **2PC, phase 2.** All yes: the coordinator force-writes COMMIT — the **commit point** —
//!   and sends [`Msg::Commit`]; participants commit, release their locks and [`Msg::Ack`].
//!   It re-sends commit to those that have not acked every `retry_ms` and writes END when
//!   all have. A no, a `done` that reports an abort, or no votes within `vote_timeout_ms`
//!   (no `done` within `work_timeout_ms`): the coordinator writes ABORT and sends
//!   [`Msg::Abort`].
//! - **Presumed abort** (Mohan et al. 1986): aborts need no acknowledgement and the
//!   coordinator forgets an aborted transaction at once; asked about a transaction it has no
//!   record of (and is not still working on), it answers abort.
//! - **Termination.** An in-doubt participant asks the coordinator ([`Msg::DecisionReq`],
//!   "decision?") every `retry_ms` until it learns the outcome; the coordinator answers from
//!   its log. With `cooperative_termination` (BHG §7.4) it also asks the other participants
//!   (the prepare carries their list): one that has committed or aborted says so; one that
//!   has not voted aborts unilaterally and says abort; one in doubt cannot help — if all are
//!   in doubt, the asker stays blocked.
//! - **Crashes.** Volatile state (the coordinator's table of transactions, a participant's
//!   unprepared work, lock table and waiting lines) is lost; the durable logs and a
//!   participant's committed data are kept. A restarted coordinator re-sends the decision of
//!   every transaction with a COMMIT record and no END; a transaction with no decision record
//!   is aborted (presumed abort). A restarted participant rolls back unprepared work (writes
//!   ABORTED), and for every PREPARED record without an outcome it is in doubt again,
//!   re-acquires the locks and asks the coordinator at once and every `retry_ms`. A
//!   scenario transaction whose start time had not come at a coordinator crash is lost.
//! - **3PC** (Skeen 1981, with the timeouts of BHG §7.5 / common textbook presentations):
//!   can-commit? ([`Msg::CanCommit`]) → yes/no; pre-commit ([`Msg::PreCommit`], after a
//!   durable PRE-COMMIT record) → [`Msg::PreAck`]; do-commit ([`Msg::DoCommit`]) → ack.
//!   Participant timeouts (`prepare_timeout_ms`): waiting for can-commit, or uncertain
//!   (voted yes, no pre-commit) → **abort**; pre-committed → **commit**. The coordinator,
//!   missing pre-commit acks after `vote_timeout_ms`, commits. A restarted coordinator with
//!   a PRE-COMMIT record and no decision commits; a restarted participant asks, as in 2PC.
//!   Non-blocking when nodes only crash and messages arrive in time; a **partition** that
//!   separates pre-committed from uncertain participants makes one side commit and the
//!   other abort — atomicity is lost.
//! - **Broken 2PC** ([`Broken`]): `decide-on-timeout` (an in-doubt participant aborts after
//!   `prepare_timeout_ms`) and `send-before-log` (the coordinator sends commit before its
//!   COMMIT record is durable; the record is written only with END). The monitor
//!   ([`monitor`]) catches both.
//!
//! There are no clients: [`Request`] and [`Response`] are empty types.

pub mod analysis;
pub mod explore;
pub mod monitor;
pub mod presets;

use super::scenario::{self, NamedLink};
use crate::engine::{Ctx, NodeInfo, NodeRole, Protocol, Setup};
use crate::{Describe, NodeId, OpId, Time};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A transaction's id, e.g. `"T1"`.
pub type TxnId = String;

/// Which commit protocol a run uses.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CommitProtocol {
    /// Two-phase commit with presumed abort (the default).
    #[default]
    TwoPhase,
    /// Three-phase commit with timeouts (Skeen 1981).
    ThreePhase,
}

impl CommitProtocol {
    pub const ALL: [CommitProtocol; 2] = [CommitProtocol::TwoPhase, CommitProtocol::ThreePhase];
    /// `"two-phase"` or `"three-phase"`, as files and the command line write it.
    pub fn name(self) -> &'static str {
        match self {
            CommitProtocol::TwoPhase => "two-phase",
            CommitProtocol::ThreePhase => "three-phase",
        }
    }
    /// The protocol named `name`, or an error listing the names.
    pub fn parse(name: &str) -> Result<CommitProtocol, String> {
        CommitProtocol::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                format!("unknown protocol \"{name}\"; the protocols: two-phase, three-phase")
            })
    }
}

/// A rule of 2PC that a "broken 2PC" leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Broken {
    /// An in-doubt participant gives up after `prepare_timeout_ms` and aborts on its own
    /// (the rule "after voting yes, wait for the decision" left out).
    DecideOnTimeout,
    /// The coordinator sends commit before the COMMIT record is durable (it writes it with
    /// END): a crash in between, then presumed abort, decides the other way.
    SendBeforeLog,
}

impl Broken {
    pub const ALL: [Broken; 2] = [Broken::DecideOnTimeout, Broken::SendBeforeLog];
    /// `"decide-on-timeout"` or `"send-before-log"`.
    pub fn name(self) -> &'static str {
        match self {
            Broken::DecideOnTimeout => "decide-on-timeout",
            Broken::SendBeforeLog => "send-before-log",
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

/// A participant's vote as the scenario fixes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vote {
    /// Votes yes unless `no_overdraft` finds a negative balance.
    #[default]
    Yes,
    /// Always votes no (e.g. a constraint check fails).
    No,
}

/// One write of a transaction at one participant: add `delta` to `key`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    /// The participant's node id (1..=n).
    pub participant: NodeId,
    pub key: String,
    pub delta: i64,
}

/// A write as a message carries it (the participant is the receiver).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDelta {
    pub key: String,
    pub delta: i64,
}

/// `"alice -100"`.
fn deltas_text(ws: &[KeyDelta]) -> String {
    ws.iter()
        .map(|w| format!("{} {:+}", w.key, w.delta))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a participant tells a peer that asks about a transaction (cooperative
/// termination, BHG §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerAnswer {
    Committed,
    /// Aborted — or had not voted, and has now aborted unilaterally.
    Aborted,
    /// In doubt itself: cannot help.
    Uncertain,
}

/// Messages. Every message names its transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Msg {
    /// Execution: coordinator → participant, the writes to apply there.
    Write { txn: TxnId, writes: Vec<KeyDelta> },
    /// Execution done (locks held, writes applied tentatively); `ok = false`: the
    /// participant has already aborted the transaction.
    Done { txn: TxnId, ok: bool },
    /// 2PC phase 1: vote request, with every participant of the transaction.
    Prepare {
        txn: TxnId,
        participants: Vec<NodeId>,
    },
    /// 3PC phase 1: can-commit?, with every participant.
    CanCommit {
        txn: TxnId,
        participants: Vec<NodeId>,
    },
    /// A participant's vote.
    Vote { txn: TxnId, yes: bool },
    /// 3PC phase 2: pre-commit.
    PreCommit { txn: TxnId },
    /// 3PC: pre-commit acknowledged.
    PreAck { txn: TxnId },
    /// 2PC decision: commit.
    Commit { txn: TxnId },
    /// 3PC phase 3: do-commit.
    DoCommit { txn: TxnId },
    /// Decision: abort (both protocols).
    Abort { txn: TxnId },
    /// Commit applied (participant → coordinator).
    Ack { txn: TxnId },
    /// An in-doubt participant asks for the outcome ("decision?"), of the coordinator or,
    /// cooperatively, of a peer.
    DecisionReq { txn: TxnId },
    /// A peer's answer to [`Msg::DecisionReq`].
    PeerState { txn: TxnId, state: PeerAnswer },
}

impl Msg {
    /// The transaction the message is about.
    pub fn txn(&self) -> &str {
        match self {
            Msg::Write { txn, .. }
            | Msg::Done { txn, .. }
            | Msg::Prepare { txn, .. }
            | Msg::CanCommit { txn, .. }
            | Msg::Vote { txn, .. }
            | Msg::PreCommit { txn }
            | Msg::PreAck { txn }
            | Msg::Commit { txn }
            | Msg::DoCommit { txn }
            | Msg::Abort { txn }
            | Msg::Ack { txn }
            | Msg::DecisionReq { txn }
            | Msg::PeerState { txn, .. } => txn,
        }
    }
}

impl Describe for Msg {
    /// `"write T1 (alice -100)"`, `"done T1"`, `"prepare T1"`, `"can-commit? T1"`,
    /// `"yes T1"` / `"no T1"`, `"pre-commit T1"`, `"ack pre-commit T1"`, `"commit T1"`,
    /// `"do-commit T1"`, `"abort T1"`, `"ack T1"`, `"decision? T1"`, `"T1 committed"`.
    fn label(&self) -> String {
        match self {
            Msg::Write { txn, writes } => format!("write {txn} ({})", deltas_text(writes)),
            Msg::Done { txn, ok: true } => format!("done {txn}"),
            Msg::Done { txn, ok: false } => format!("done {txn} (aborted)"),
            Msg::Prepare { txn, .. } => format!("prepare {txn}"),
            Msg::CanCommit { txn, .. } => format!("can-commit? {txn}"),
            Msg::Vote { txn, yes: true } => format!("yes {txn}"),
            Msg::Vote { txn, yes: false } => format!("no {txn}"),
            Msg::PreCommit { txn } => format!("pre-commit {txn}"),
            Msg::PreAck { txn } => format!("ack pre-commit {txn}"),
            Msg::Commit { txn } => format!("commit {txn}"),
            Msg::DoCommit { txn } => format!("do-commit {txn}"),
            Msg::Abort { txn } => format!("abort {txn}"),
            Msg::Ack { txn } => format!("ack {txn}"),
            Msg::DecisionReq { txn } => format!("decision? {txn}"),
            Msg::PeerState { txn, state } => format!(
                "{txn} {}",
                match state {
                    PeerAnswer::Committed => "committed",
                    PeerAnswer::Aborted => "aborted",
                    PeerAnswer::Uncertain => "uncertain",
                }
            ),
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let s = |k: &str, v: String| (k.to_string(), v);
        let mut f = vec![s("transaction", self.txn().to_string())];
        match self {
            Msg::Write { writes, .. } => f.push(s("writes", deltas_text(writes))),
            Msg::Prepare { participants, .. } | Msg::CanCommit { participants, .. } => f.push(s(
                "participants",
                participants
                    .iter()
                    .map(|p| format!("node {p}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
            Msg::Vote { yes, .. } => f.push(s("vote", if *yes { "yes" } else { "no" }.into())),
            _ => {}
        }
        f
    }
    fn kind(&self) -> &'static str {
        match self {
            Msg::Write { .. } => "write",
            Msg::Done { .. } => "done",
            Msg::Prepare { .. } | Msg::CanCommit { .. } => "prepare",
            Msg::Vote { .. } => "vote",
            Msg::PreCommit { .. } => "pre-commit",
            Msg::PreAck { .. } | Msg::Ack { .. } => "ack",
            Msg::Commit { .. } | Msg::DoCommit { .. } => "commit",
            Msg::Abort { .. } => "abort",
            Msg::DecisionReq { .. } => "ask",
            Msg::PeerState { .. } => "answer",
        }
    }
}

/// Timers; each names its transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "timer", content = "txn", rename_all = "kebab-case")]
pub enum Timer {
    /// Coordinator: a scenario transaction's `start_ms`.
    Start(TxnId),
    /// Coordinator: `work_timeout_ms` after sending the writes.
    Work(TxnId),
    /// Coordinator: `vote_timeout_ms` after sending prepare / can-commit.
    Votes(TxnId),
    /// Coordinator (3PC): `vote_timeout_ms` after sending pre-commit.
    PreAcks(TxnId),
    /// Coordinator: re-send the decision to participants that have not acked.
    Resend(TxnId),
    /// Participant: `prepare_timeout_ms` without the next phase's message (before voting;
    /// in 3PC also when uncertain or pre-committed).
    Prepare(TxnId),
    /// Participant: in doubt, ask for the decision (every `retry_ms`).
    Ask(TxnId),
    /// Participant, broken `decide-on-timeout`: give up waiting and abort.
    GiveUp(TxnId),
}

/// No client operations (an empty type: none can be written or sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {}

impl Describe for Request {
    fn label(&self) -> String {
        match *self {}
    }
}

/// No client operations, so no responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {}

impl Describe for Response {
    fn label(&self) -> String {
        match *self {}
    }
}

/// Operator commands (to the coordinator; participants ignore them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Command {
    /// Start transaction `id` with `writes` (participants by node id). Ignored when the
    /// coordinator already knows `id` (in its table or its log).
    Begin { id: TxnId, writes: Vec<Write> },
}

impl Describe for Command {
    fn label(&self) -> String {
        match self {
            Command::Begin { id, writes } => format!(
                "begin {id}: {}",
                writes
                    .iter()
                    .map(|w| format!("{} {:+} at node {}", w.key, w.delta, w.participant))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Who is who and the timing, shared by every node of a run. Times in simulated ms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub protocol: CommitProtocol,
    /// The coordinator's node id (0).
    pub coordinator: NodeId,
    /// The participants' node ids (1..=n).
    pub participants: Vec<NodeId>,
    /// The coordinator waits this long for votes (and, in 3PC, for pre-commit acks).
    pub vote_timeout_ms: Time,
    /// Decision re-send and "decision?" re-ask period.
    pub retry_ms: Time,
    /// A participant waiting this long for prepare aborts; in 3PC also the uncertain and
    /// pre-committed timeouts.
    pub prepare_timeout_ms: Time,
    /// The coordinator aborts a transaction whose writes are not all done this long after
    /// it sent them (e.g. stuck behind a lock).
    pub work_timeout_ms: Time,
    pub cooperative_termination: bool,
    /// Vote no when a write would leave a negative value.
    pub no_overdraft: bool,
    pub broken: BTreeSet<Broken>,
    /// Node names in id order (for notes).
    pub names: Vec<String>,
}

impl Config {
    /// Node `n`'s name (`"node n"` when unknown).
    pub fn name(&self, n: NodeId) -> String {
        self.names
            .get(n)
            .cloned()
            .unwrap_or_else(|| format!("node {n}"))
    }
}

// ---------------------------------------------------------------------------------------
// The coordinator.

/// Where the coordinator is with a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoordPhase {
    /// Writes sent, waiting for every `done`.
    Executing,
    /// Prepare / can-commit sent, collecting votes.
    Voting,
    /// 3PC: pre-commit sent, collecting acks.
    PreCommitting,
    /// Decided commit: commit sent, waiting for every ack (re-sending).
    Committing,
    /// Decided abort (presumed abort: forgotten, no acks awaited).
    Aborted,
    /// Committed and every participant acked: END written.
    Ended,
}

impl CoordPhase {
    /// `"executing"`, `"collecting votes"`, `"pre-committing"`, `"committing"`,
    /// `"aborted"`, `"ended"`.
    pub fn name(self) -> &'static str {
        match self {
            CoordPhase::Executing => "executing",
            CoordPhase::Voting => "collecting votes",
            CoordPhase::PreCommitting => "pre-committing",
            CoordPhase::Committing => "committing",
            CoordPhase::Aborted => "aborted",
            CoordPhase::Ended => "ended",
        }
    }
    /// Decided: `Some(true)` commit, `Some(false)` abort, `None` not yet.
    pub fn decision(self) -> Option<bool> {
        match self {
            CoordPhase::Committing | CoordPhase::Ended => Some(true),
            CoordPhase::Aborted => Some(false),
            _ => None,
        }
    }
}

/// The coordinator's (volatile) record of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CoordTxn {
    pub id: TxnId,
    pub writes: Vec<Write>,
    /// Participants involved, ascending.
    pub participants: Vec<NodeId>,
    pub phase: CoordPhase,
    /// Participants that reported `done`.
    pub done: BTreeSet<NodeId>,
    /// Votes so far: participant → yes.
    pub votes: BTreeMap<NodeId, bool>,
    /// 3PC pre-commit acks (while pre-committing), then decision acks (while committing).
    pub acks: BTreeSet<NodeId>,
    /// When it began (or was recovered), simulated ms.
    pub started_ms: Time,
    /// When the coordinator decided, simulated ms.
    pub decided_ms: Option<Time>,
    /// Why it aborted, in words.
    pub reason: Option<String>,
}

/// A record of the coordinator's durable log (each with the simulated ms it was written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "kebab-case")]
pub enum CoordRecord {
    /// 3PC: the decision to pre-commit, with the participants.
    PreCommit {
        txn: TxnId,
        participants: Vec<NodeId>,
        at_ms: Time,
    },
    /// The commit point, with the participants (to re-send to after a crash).
    Commit {
        txn: TxnId,
        participants: Vec<NodeId>,
        at_ms: Time,
    },
    /// Abort (under presumed abort it need not be forced; it only documents the decision).
    Abort { txn: TxnId, at_ms: Time },
    /// Every participant acked the commit: the transaction is forgotten.
    End { txn: TxnId, at_ms: Time },
}

impl CoordRecord {
    pub fn txn(&self) -> &str {
        match self {
            CoordRecord::PreCommit { txn, .. }
            | CoordRecord::Commit { txn, .. }
            | CoordRecord::Abort { txn, .. }
            | CoordRecord::End { txn, .. } => txn,
        }
    }
    /// `"COMMIT T1"`, `"PRE-COMMIT T1"`, `"ABORT T1"`, `"END T1"`.
    pub fn text(&self) -> String {
        match self {
            CoordRecord::PreCommit { txn, .. } => format!("PRE-COMMIT {txn}"),
            CoordRecord::Commit { txn, .. } => format!("COMMIT {txn}"),
            CoordRecord::Abort { txn, .. } => format!("ABORT {txn}"),
            CoordRecord::End { txn, .. } => format!("END {txn}"),
        }
    }
}

/// The coordinator. Durable: `log` (and the scenario's `plan`); the rest is volatile.
#[derive(Clone, Debug, PartialEq)]
pub struct Coordinator {
    pub config: Config,
    /// Transactions it knows now (volatile), by id.
    pub txns: BTreeMap<TxnId, CoordTxn>,
    /// The durable log, in write order.
    pub log: Vec<CoordRecord>,
    /// Transactions it answered "abort" for without a record (presumed abort), volatile.
    pub presumed: BTreeSet<TxnId>,
    /// The scenario's transactions: id, start time, writes.
    pub plan: Vec<(TxnId, Time, Vec<Write>)>,
}

impl Coordinator {
    /// A coordinator with an empty log.
    pub fn new(config: Config, plan: Vec<(TxnId, Time, Vec<Write>)>) -> Coordinator {
        Coordinator {
            config,
            txns: BTreeMap::new(),
            log: Vec::new(),
            presumed: BTreeSet::new(),
            plan,
        }
    }

    /// The decision its log holds for `txn`: `Some(true)` a COMMIT record, `Some(false)` an
    /// ABORT record, `None` neither.
    pub fn logged_decision(&self, txn: &str) -> Option<bool> {
        self.log.iter().rev().find_map(|r| match r {
            CoordRecord::Commit { txn: t, .. } if t == txn => Some(true),
            CoordRecord::Abort { txn: t, .. } if t == txn => Some(false),
            _ => None,
        })
    }

    fn has_record(&self, txn: &str, pred: impl Fn(&CoordRecord) -> bool) -> bool {
        self.log.iter().any(|r| r.txn() == txn && pred(r))
    }

    fn three(&self) -> bool {
        self.config.protocol == CommitProtocol::ThreePhase
    }

    /// Starts transaction `id` (execution phase). Ignored if `id` is known or has no writes.
    pub fn begin(&mut self, id: TxnId, writes: Vec<Write>, ctx: &mut Ctx<Node>) {
        if self.txns.contains_key(&id) || self.log.iter().any(|r| r.txn() == id) {
            ctx.note(format!("{id} already exists: begin ignored"));
            return;
        }
        let participants: Vec<NodeId> = writes
            .iter()
            .map(|w| w.participant)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if participants.is_empty() {
            ctx.note(format!("{id} has no writes: begin ignored"));
            return;
        }
        ctx.note(format!("begins {id}"));
        for &p in &participants {
            let ws = writes
                .iter()
                .filter(|w| w.participant == p)
                .map(|w| KeyDelta {
                    key: w.key.clone(),
                    delta: w.delta,
                })
                .collect();
            ctx.send(
                p,
                Msg::Write {
                    txn: id.clone(),
                    writes: ws,
                },
            );
        }
        ctx.set_timer(Timer::Work(id.clone()), self.config.work_timeout_ms);
        self.txns.insert(
            id.clone(),
            CoordTxn {
                id,
                writes,
                participants,
                phase: CoordPhase::Executing,
                done: BTreeSet::new(),
                votes: BTreeMap::new(),
                acks: BTreeSet::new(),
                started_ms: ctx.now(),
                decided_ms: None,
                reason: None,
            },
        );
    }

    fn abort(&mut self, txn: &str, why: String, ctx: &mut Ctx<Node>) {
        let Some(t) = self.txns.get_mut(txn) else {
            return;
        };
        t.phase = CoordPhase::Aborted;
        t.decided_ms = Some(ctx.now());
        t.reason = Some(why.clone());
        self.log.push(CoordRecord::Abort {
            txn: txn.into(),
            at_ms: ctx.now(),
        });
        ctx.note(format!("decides abort {txn}: {why}"));
        for &p in &t.participants {
            if t.votes.get(&p) != Some(&false) {
                ctx.send(p, Msg::Abort { txn: txn.into() });
            }
        }
        for timer in [Timer::Work, Timer::Votes, Timer::PreAcks, Timer::Resend] {
            ctx.cancel_timer(timer(txn.into()));
        }
    }

    fn decision_msg(&self, txn: &str) -> Msg {
        if self.three() {
            Msg::DoCommit { txn: txn.into() }
        } else {
            Msg::Commit { txn: txn.into() }
        }
    }

    /// The commit point: COMMIT forced (unless broken), then commit / do-commit sent.
    fn commit(&mut self, txn: &str, ctx: &mut Ctx<Node>) {
        let msg = self.decision_msg(txn);
        let send_first = self.config.broken.contains(&Broken::SendBeforeLog);
        let Some(t) = self.txns.get_mut(txn) else {
            return;
        };
        t.phase = CoordPhase::Committing;
        t.decided_ms = Some(ctx.now());
        t.acks.clear();
        if send_first {
            ctx.note(format!(
                "decides commit {txn} and sends it BEFORE the COMMIT record is durable (broken)"
            ));
        } else {
            self.log.push(CoordRecord::Commit {
                txn: txn.into(),
                participants: t.participants.clone(),
                at_ms: ctx.now(),
            });
            ctx.note(format!("forces COMMIT {txn} to its log: the commit point"));
        }
        for &p in &t.participants {
            ctx.send(p, msg.clone());
        }
        for timer in [Timer::Votes, Timer::PreAcks] {
            ctx.cancel_timer(timer(txn.into()));
        }
        ctx.set_timer(Timer::Resend(txn.into()), self.config.retry_ms);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        let three = self.three();
        match msg {
            Msg::Done { txn, ok } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                if t.phase != CoordPhase::Executing {
                    return;
                }
                if !ok {
                    let why = format!("{} had already aborted it", self.config.name(from));
                    self.abort(&txn, why, ctx);
                    return;
                }
                t.done.insert(from);
                if t.done.len() < t.participants.len() {
                    return;
                }
                t.phase = CoordPhase::Voting;
                let participants = t.participants.clone();
                for &p in &participants {
                    let m = if three {
                        Msg::CanCommit {
                            txn: txn.clone(),
                            participants: participants.clone(),
                        }
                    } else {
                        Msg::Prepare {
                            txn: txn.clone(),
                            participants: participants.clone(),
                        }
                    };
                    ctx.send(p, m);
                }
                ctx.cancel_timer(Timer::Work(txn.clone()));
                ctx.set_timer(Timer::Votes(txn), self.config.vote_timeout_ms);
            }
            Msg::Vote { txn, yes } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                if t.phase != CoordPhase::Voting {
                    return;
                }
                t.votes.insert(from, yes);
                if !yes {
                    self.abort(&txn, format!("{} voted no", self.config.name(from)), ctx);
                    return;
                }
                if t.votes.len() < t.participants.len() {
                    return;
                }
                if !three {
                    self.commit(&txn, ctx);
                    return;
                }
                // 3PC: every vote yes — PRE-COMMIT durable, then pre-commit.
                t.phase = CoordPhase::PreCommitting;
                t.acks.clear();
                let participants = t.participants.clone();
                self.log.push(CoordRecord::PreCommit {
                    txn: txn.clone(),
                    participants: participants.clone(),
                    at_ms: ctx.now(),
                });
                ctx.note(format!("every vote yes: pre-commits {txn}"));
                for &p in &participants {
                    ctx.send(p, Msg::PreCommit { txn: txn.clone() });
                }
                ctx.cancel_timer(Timer::Votes(txn.clone()));
                ctx.set_timer(Timer::PreAcks(txn), self.config.vote_timeout_ms);
            }
            Msg::PreAck { txn } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                if t.phase != CoordPhase::PreCommitting {
                    return;
                }
                t.acks.insert(from);
                if t.acks.len() == t.participants.len() {
                    self.commit(&txn, ctx);
                }
            }
            Msg::Ack { txn } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                if t.phase != CoordPhase::Committing {
                    return;
                }
                t.acks.insert(from);
                if t.acks.len() < t.participants.len() {
                    return;
                }
                t.phase = CoordPhase::Ended;
                let participants = t.participants.clone();
                ctx.cancel_timer(Timer::Resend(txn.clone()));
                if self.logged_decision(&txn).is_none() {
                    // Broken send-before-log: the record only now.
                    self.log.push(CoordRecord::Commit {
                        txn: txn.clone(),
                        participants,
                        at_ms: ctx.now(),
                    });
                }
                self.log.push(CoordRecord::End {
                    txn: txn.clone(),
                    at_ms: ctx.now(),
                });
                ctx.note(format!("every participant acked: END {txn}"));
            }
            Msg::DecisionReq { txn } => {
                let reply = match self.logged_decision(&txn) {
                    Some(true) => Some(self.decision_msg(&txn)),
                    Some(false) => Some(Msg::Abort { txn: txn.clone() }),
                    None => match self.txns.get(&txn).map(|t| t.phase) {
                        Some(CoordPhase::Committing | CoordPhase::Ended) => {
                            Some(self.decision_msg(&txn))
                        }
                        Some(CoordPhase::Aborted) => Some(Msg::Abort { txn: txn.clone() }),
                        Some(_) => None, // still deciding: the decision will come
                        None => {
                            if self.presumed.insert(txn.clone()) {
                                ctx.note(format!("no record of {txn}: presumed abort"));
                            }
                            Some(Msg::Abort { txn: txn.clone() })
                        }
                    },
                };
                if let Some(m) = reply {
                    ctx.send(from, m);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Node>) {
        match timer {
            Timer::Start(txn) => {
                if let Some((_, _, ws)) = self.plan.iter().find(|(id, _, _)| *id == txn).cloned() {
                    self.begin(txn, ws, ctx);
                }
            }
            Timer::Work(txn) => {
                if self.txns.get(&txn).map(|t| t.phase) == Some(CoordPhase::Executing) {
                    let why = format!(
                        "the writes were not all done within {} ms",
                        self.config.work_timeout_ms
                    );
                    self.abort(&txn, why, ctx);
                }
            }
            Timer::Votes(txn) => {
                if self.txns.get(&txn).map(|t| t.phase) == Some(CoordPhase::Voting) {
                    let why = format!(
                        "no vote from every participant within {} ms",
                        self.config.vote_timeout_ms
                    );
                    self.abort(&txn, why, ctx);
                }
            }
            Timer::PreAcks(txn) => {
                if self.txns.get(&txn).map(|t| t.phase) == Some(CoordPhase::PreCommitting) {
                    ctx.note(format!(
                        "not every pre-commit acked within {} ms: 3PC commits {txn} anyway",
                        self.config.vote_timeout_ms
                    ));
                    self.commit(&txn, ctx);
                }
            }
            Timer::Resend(txn) => {
                let msg = self.decision_msg(&txn);
                let Some(t) = self.txns.get(&txn) else {
                    return;
                };
                if t.phase != CoordPhase::Committing {
                    return;
                }
                for &p in &t.participants {
                    if !t.acks.contains(&p) {
                        ctx.send(p, msg.clone());
                    }
                }
                ctx.set_timer(Timer::Resend(txn), self.config.retry_ms);
            }
            Timer::Prepare(_) | Timer::Ask(_) | Timer::GiveUp(_) => {}
        }
    }

    /// Recovery from the log: re-send every undelivered commit; 3PC: a PRE-COMMIT without a
    /// decision commits.
    fn on_restart(&mut self, ctx: &mut Ctx<Node>) {
        let mut seen = BTreeSet::new();
        let log = self.log.clone();
        for r in &log {
            let txn = r.txn().to_string();
            if !seen.insert(txn.clone()) {
                continue;
            }
            if self.has_record(&txn, |r| matches!(r, CoordRecord::End { .. })) {
                continue;
            }
            let participants = log.iter().find_map(|r| match r {
                CoordRecord::Commit {
                    txn: t,
                    participants,
                    ..
                }
                | CoordRecord::PreCommit {
                    txn: t,
                    participants,
                    ..
                } if *t == txn => Some(participants.clone()),
                _ => None,
            });
            let Some(participants) = participants else {
                continue; // an ABORT: presumed abort needs nothing
            };
            let decided = self.logged_decision(&txn);
            if decided == Some(false) {
                continue;
            }
            self.txns.insert(
                txn.clone(),
                CoordTxn {
                    id: txn.clone(),
                    writes: Vec::new(),
                    participants,
                    phase: CoordPhase::PreCommitting,
                    done: BTreeSet::new(),
                    votes: BTreeMap::new(),
                    acks: BTreeSet::new(),
                    started_ms: ctx.now(),
                    decided_ms: None,
                    reason: None,
                },
            );
            if decided == Some(true) {
                ctx.note(format!(
                    "recovers COMMIT {txn} from its log: re-sends the decision"
                ));
                let msg = self.decision_msg(&txn);
                let t = self.txns.get_mut(&txn).expect("inserted");
                t.phase = CoordPhase::Committing;
                t.decided_ms = Some(ctx.now());
                for &p in &t.participants {
                    ctx.send(p, msg.clone());
                }
                ctx.set_timer(Timer::Resend(txn), self.config.retry_ms);
            } else {
                ctx.note(format!(
                    "recovers PRE-COMMIT {txn} from its log: 3PC commits it"
                ));
                self.commit(&txn, ctx);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Participants.

/// A participant's state in one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PState {
    /// Waiting in line for a lock.
    Waiting,
    /// Locks held, writes applied tentatively, not voted.
    Working,
    /// Voted yes (PREPARED durable): in doubt (3PC: uncertain).
    Prepared,
    /// 3PC: got pre-commit (PRE-COMMITTED durable).
    PreCommitted,
    Committed,
    Aborted,
}

impl PState {
    /// `"waiting for a lock"`, `"working"`, `"in doubt"`, `"pre-committed"`, `"committed"`,
    /// `"aborted"`.
    pub fn name(self) -> &'static str {
        match self {
            PState::Waiting => "waiting for a lock",
            PState::Working => "working",
            PState::Prepared => "in doubt",
            PState::PreCommitted => "pre-committed",
            PState::Committed => "committed",
            PState::Aborted => "aborted",
        }
    }
    /// Committed or aborted.
    pub fn is_final(self) -> bool {
        matches!(self, PState::Committed | PState::Aborted)
    }
    /// Voted yes and has no outcome: prepared or pre-committed.
    pub fn in_doubt(self) -> bool {
        matches!(self, PState::Prepared | PState::PreCommitted)
    }
}

/// A participant's record of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PTxn {
    /// Its writes here.
    pub writes: Vec<KeyDelta>,
    /// Every participant of the transaction (known from prepare; empty before).
    pub participants: Vec<NodeId>,
    pub state: PState,
    /// When it entered `state`, simulated ms (for a recovered state: when the record was
    /// written).
    pub since_ms: Time,
    /// Rebuilt from the log after a crash: asks rather than using 3PC's timeouts.
    pub recovered: bool,
}

/// A record of a participant's durable log (each with the simulated ms it was written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "kebab-case")]
pub enum PRecord {
    /// Voted yes: the writes (redo/undo information) and the participants.
    Prepared {
        txn: TxnId,
        writes: Vec<KeyDelta>,
        participants: Vec<NodeId>,
        at_ms: Time,
    },
    /// 3PC: got pre-commit.
    PreCommitted {
        txn: TxnId,
        at_ms: Time,
    },
    Committed {
        txn: TxnId,
        at_ms: Time,
    },
    Aborted {
        txn: TxnId,
        at_ms: Time,
    },
}

impl PRecord {
    pub fn txn(&self) -> &str {
        match self {
            PRecord::Prepared { txn, .. }
            | PRecord::PreCommitted { txn, .. }
            | PRecord::Committed { txn, .. }
            | PRecord::Aborted { txn, .. } => txn,
        }
    }
    /// `"PREPARED T1"`, `"PRE-COMMITTED T1"`, `"COMMITTED T1"`, `"ABORTED T1"`.
    pub fn text(&self) -> String {
        match self {
            PRecord::Prepared { txn, .. } => format!("PREPARED {txn}"),
            PRecord::PreCommitted { txn, .. } => format!("PRE-COMMITTED {txn}"),
            PRecord::Committed { txn, .. } => format!("COMMITTED {txn}"),
            PRecord::Aborted { txn, .. } => format!("ABORTED {txn}"),
        }
    }
}

/// A participant (resource manager). Durable: `data` (committed values) and `log`; the
/// transactions table, locks and waiting lines are rebuilt from the log on a crash.
#[derive(Clone, Debug, PartialEq)]
pub struct Participant {
    pub config: Config,
    /// The scenario's vote.
    pub vote: Vote,
    /// Committed values.
    pub data: BTreeMap<String, i64>,
    pub txns: BTreeMap<TxnId, PTxn>,
    /// Exclusive locks: key → holder.
    pub locks: BTreeMap<String, TxnId>,
    /// Waiting lines, FIFO: key → waiting transactions.
    pub waiting: BTreeMap<String, Vec<TxnId>>,
    /// The durable log, in write order.
    pub log: Vec<PRecord>,
    /// Unprepared work lost in the last crash (rolled back at restart).
    pub lost: Vec<TxnId>,
}

impl Participant {
    /// A participant with `data`, an empty log and `vote`.
    pub fn new(config: Config, data: BTreeMap<String, i64>, vote: Vote) -> Participant {
        Participant {
            config,
            vote,
            data,
            txns: BTreeMap::new(),
            locks: BTreeMap::new(),
            waiting: BTreeMap::new(),
            log: Vec::new(),
            lost: Vec::new(),
        }
    }

    fn three(&self) -> bool {
        self.config.protocol == CommitProtocol::ThreePhase
    }

    /// The value `key` has for transaction `txn`: committed value plus `txn`'s deltas
    /// (locks are exclusive, so no other transaction's work is in between).
    pub fn value_for(&self, key: &str, txn: &str) -> i64 {
        let base = self.data.get(key).copied().unwrap_or(0);
        let own: i64 = self
            .txns
            .get(txn)
            .map(|t| {
                t.writes
                    .iter()
                    .filter(|w| w.key == key)
                    .map(|w| w.delta)
                    .sum()
            })
            .unwrap_or(0);
        base.saturating_add(own)
    }

    /// The keys `txn` writes here, each once, sorted.
    fn keys(&self, txn: &str) -> Vec<String> {
        self.txns
            .get(txn)
            .map(|t| {
                t.writes
                    .iter()
                    .map(|w| w.key.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `txn` holds every lock it needs.
    fn holds_all(&self, txn: &str) -> bool {
        self.keys(txn)
            .iter()
            .all(|k| self.locks.get(k).map(String::as_str) == Some(txn))
    }

    fn set_state(&mut self, txn: &str, state: PState, now: Time) {
        if let Some(t) = self.txns.get_mut(txn) {
            t.state = state;
            t.since_ms = now;
        }
    }

    /// Takes every free lock `txn` needs and queues for the others; true when it holds all.
    fn lock(&mut self, txn: &str) -> bool {
        for k in self.keys(txn) {
            match self.locks.get(&k) {
                None => {
                    self.locks.insert(k, txn.into());
                }
                Some(h) if h == txn => {}
                Some(_) => {
                    let line = self.waiting.entry(k).or_default();
                    if !line.iter().any(|w| w == txn) {
                        line.push(txn.into());
                    }
                }
            }
        }
        self.holds_all(txn)
    }

    /// Releases `txn`'s locks and its places in line; grants freed keys to the next in line
    /// (FIFO); a waiter that now holds everything starts working and reports done.
    fn release(&mut self, txn: &str, ctx: &mut Ctx<Node>) {
        let freed: Vec<String> = self
            .locks
            .iter()
            .filter(|(_, h)| *h == txn)
            .map(|(k, _)| k.clone())
            .collect();
        for line in self.waiting.values_mut() {
            line.retain(|w| w != txn);
        }
        let mut woken = Vec::new();
        for k in freed {
            self.locks.remove(&k);
            if let Some(line) = self.waiting.get_mut(&k) {
                if !line.is_empty() {
                    let next = line.remove(0);
                    self.locks.insert(k.clone(), next.clone());
                    woken.push(next);
                }
            }
        }
        self.waiting.retain(|_, l| !l.is_empty());
        for w in woken {
            let waiting = self.txns.get(&w).map(|t| t.state) == Some(PState::Waiting);
            if waiting && self.holds_all(&w) {
                self.set_state(&w, PState::Working, ctx.now());
                ctx.note(format!("{w} gets its locks"));
                ctx.send(self.config.coordinator, Msg::Done { txn: w, ok: true });
            }
        }
    }

    fn cancel_timers(txn: &str, ctx: &mut Ctx<Node>) {
        for timer in [Timer::Prepare, Timer::Ask, Timer::GiveUp] {
            ctx.cancel_timer(timer(txn.into()));
        }
    }

    /// Aborts `txn` here: ABORTED written, locks released.
    fn abort(&mut self, txn: &str, why: &str, ctx: &mut Ctx<Node>) {
        let now = ctx.now();
        if !self.txns.contains_key(txn) {
            self.txns.insert(
                txn.into(),
                PTxn {
                    writes: Vec::new(),
                    participants: Vec::new(),
                    state: PState::Aborted,
                    since_ms: now,
                    recovered: false,
                },
            );
        }
        self.set_state(txn, PState::Aborted, now);
        self.log.push(PRecord::Aborted {
            txn: txn.into(),
            at_ms: now,
        });
        ctx.note(format!("aborts {txn}{why}"));
        self.release(txn, ctx);
        Self::cancel_timers(txn, ctx);
    }

    /// Commits `txn` here: writes applied to the data, COMMITTED written, locks released.
    fn commit(&mut self, txn: &str, why: &str, ctx: &mut Ctx<Node>) {
        let now = ctx.now();
        let Some(t) = self.txns.get(txn) else {
            return;
        };
        for w in t.writes.clone() {
            let v = self.data.entry(w.key).or_insert(0);
            *v = v.saturating_add(w.delta);
        }
        self.set_state(txn, PState::Committed, now);
        self.log.push(PRecord::Committed {
            txn: txn.into(),
            at_ms: now,
        });
        ctx.note(format!("commits {txn}{why}"));
        self.release(txn, ctx);
        Self::cancel_timers(txn, ctx);
    }

    fn state(&self, txn: &str) -> Option<PState> {
        self.txns.get(txn).map(|t| t.state)
    }

    /// Phase 1 at this participant: vote.
    fn prepare(&mut self, txn: String, participants: Vec<NodeId>, ctx: &mut Ctx<Node>) {
        let coord = self.config.coordinator;
        match self.state(&txn) {
            Some(PState::Working) => {}
            Some(PState::Prepared | PState::PreCommitted) => {
                ctx.send(coord, Msg::Vote { txn, yes: true });
                return;
            }
            Some(PState::Committed) => return,
            Some(PState::Aborted) => {
                ctx.send(coord, Msg::Vote { txn, yes: false });
                return;
            }
            Some(PState::Waiting) | None => {
                let why = if self.state(&txn).is_none() {
                    ": it has no work for it (lost in a crash, or never arrived)"
                } else {
                    ": still waiting for a lock"
                };
                self.abort(&txn, why, ctx);
                ctx.send(coord, Msg::Vote { txn, yes: false });
                return;
            }
        }
        let overdraft = if self.config.no_overdraft {
            self.keys(&txn)
                .into_iter()
                .find(|k| self.value_for(k, &txn) < 0)
        } else {
            None
        };
        let no = match (self.vote, overdraft) {
            (Vote::No, _) => Some(": votes no".to_string()),
            (_, Some(k)) => Some(format!(
                ": votes no, {k} would be {}",
                self.value_for(&k, &txn)
            )),
            _ => None,
        };
        if let Some(why) = no {
            self.abort(&txn, &why, ctx);
            ctx.send(coord, Msg::Vote { txn, yes: false });
            return;
        }
        let now = ctx.now();
        let t = self.txns.get_mut(&txn).expect("working");
        t.participants = participants.clone();
        t.state = PState::Prepared;
        t.since_ms = now;
        self.log.push(PRecord::Prepared {
            txn: txn.clone(),
            writes: t.writes.clone(),
            participants,
            at_ms: now,
        });
        ctx.note(format!("forces PREPARED {txn}, votes yes: in doubt"));
        ctx.cancel_timer(Timer::Prepare(txn.clone()));
        if self.three() {
            ctx.set_timer(Timer::Prepare(txn.clone()), self.config.prepare_timeout_ms);
        } else {
            ctx.set_timer(Timer::Ask(txn.clone()), self.config.retry_ms);
            if self.config.broken.contains(&Broken::DecideOnTimeout) {
                ctx.set_timer(Timer::GiveUp(txn.clone()), self.config.prepare_timeout_ms);
            }
        }
        ctx.send(coord, Msg::Vote { txn, yes: true });
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Node>) {
        let coord = self.config.coordinator;
        match msg {
            Msg::Write { txn, writes } => match self.state(&txn) {
                Some(PState::Aborted) => ctx.send(coord, Msg::Done { txn, ok: false }),
                Some(PState::Working) => ctx.send(coord, Msg::Done { txn, ok: true }),
                Some(_) => {}
                None => {
                    self.txns.insert(
                        txn.clone(),
                        PTxn {
                            writes,
                            participants: Vec::new(),
                            state: PState::Waiting,
                            since_ms: ctx.now(),
                            recovered: false,
                        },
                    );
                    ctx.set_timer(Timer::Prepare(txn.clone()), self.config.prepare_timeout_ms);
                    if self.lock(&txn) {
                        self.set_state(&txn, PState::Working, ctx.now());
                        ctx.send(coord, Msg::Done { txn, ok: true });
                    } else {
                        let holders: BTreeSet<String> = self
                            .keys(&txn)
                            .iter()
                            .filter_map(|k| self.locks.get(k))
                            .filter(|h| **h != txn)
                            .cloned()
                            .collect();
                        ctx.note(format!(
                            "{txn} waits for a lock held by {}",
                            holders.into_iter().collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
            },
            Msg::Prepare { txn, participants } if !self.three() => {
                self.prepare(txn, participants, ctx)
            }
            Msg::CanCommit { txn, participants } if self.three() => {
                self.prepare(txn, participants, ctx)
            }
            Msg::PreCommit { txn } if self.three() => match self.state(&txn) {
                Some(PState::Prepared) => {
                    let now = ctx.now();
                    self.set_state(&txn, PState::PreCommitted, now);
                    self.log.push(PRecord::PreCommitted {
                        txn: txn.clone(),
                        at_ms: now,
                    });
                    ctx.note(format!("pre-commits {txn}"));
                    ctx.set_timer(Timer::Prepare(txn.clone()), self.config.prepare_timeout_ms);
                    ctx.send(coord, Msg::PreAck { txn });
                }
                Some(PState::PreCommitted) => ctx.send(coord, Msg::PreAck { txn }),
                _ => {}
            },
            Msg::Commit { txn } | Msg::DoCommit { txn } => match self.state(&txn) {
                Some(PState::Committed) => ctx.send(coord, Msg::Ack { txn }),
                Some(PState::Aborted) => {
                    ctx.note(format!("told to commit {txn}, which it has aborted"));
                }
                Some(PState::Prepared | PState::PreCommitted | PState::Working) => {
                    let why = if from == coord {
                        String::new()
                    } else {
                        format!(" (told by {})", self.config.name(from))
                    };
                    self.commit(&txn, &why, ctx);
                    ctx.send(coord, Msg::Ack { txn });
                }
                Some(PState::Waiting) | None => {}
            },
            Msg::Abort { txn } => match self.state(&txn) {
                Some(PState::Aborted) => {}
                Some(PState::Committed) => {
                    ctx.note(format!("told to abort {txn}, which it has committed"));
                }
                _ => self.abort(&txn, "", ctx),
            },
            Msg::DecisionReq { txn } => {
                let state = match self.state(&txn) {
                    Some(PState::Committed) => PeerAnswer::Committed,
                    Some(PState::Aborted) => PeerAnswer::Aborted,
                    Some(PState::Prepared | PState::PreCommitted) => PeerAnswer::Uncertain,
                    Some(PState::Working | PState::Waiting) | None => {
                        self.abort(&txn, ": asked before voting, aborts unilaterally", ctx);
                        PeerAnswer::Aborted
                    }
                };
                ctx.send(from, Msg::PeerState { txn, state });
            }
            Msg::PeerState { txn, state } => {
                if self.state(&txn) != Some(PState::Prepared) {
                    return;
                }
                let why = format!(" (learned from {})", self.config.name(from));
                match state {
                    PeerAnswer::Committed => self.commit(&txn, &why, ctx),
                    PeerAnswer::Aborted => self.abort(&txn, &why, ctx),
                    PeerAnswer::Uncertain => {}
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Node>) {
        match timer {
            Timer::Prepare(txn) => {
                let Some(t) = self.txns.get(&txn) else {
                    return;
                };
                let (state, recovered) = (t.state, t.recovered);
                let ms = self.config.prepare_timeout_ms;
                match state {
                    PState::Waiting | PState::Working => {
                        let why = format!(": no prepare within {ms} ms, aborts unilaterally");
                        self.abort(&txn, &why, ctx)
                    }
                    PState::Prepared if self.three() && !recovered => {
                        let why = format!(": uncertain for {ms} ms, 3PC's timeout aborts");
                        self.abort(&txn, &why, ctx)
                    }
                    PState::PreCommitted if self.three() && !recovered => {
                        let why = format!(": pre-committed for {ms} ms, 3PC's timeout commits");
                        self.commit(&txn, &why, ctx)
                    }
                    _ => {}
                }
            }
            Timer::Ask(txn) => {
                if !self.state(&txn).is_some_and(PState::in_doubt) {
                    return;
                }
                ctx.send(
                    self.config.coordinator,
                    Msg::DecisionReq { txn: txn.clone() },
                );
                if self.config.cooperative_termination && !self.three() {
                    let me = ctx.me();
                    let peers = self.txns[&txn].participants.clone();
                    for p in peers.into_iter().filter(|&p| p != me) {
                        ctx.send(p, Msg::DecisionReq { txn: txn.clone() });
                    }
                }
                ctx.set_timer(Timer::Ask(txn), self.config.retry_ms);
            }
            Timer::GiveUp(txn) if self.state(&txn) == Some(PState::Prepared) => {
                let why = format!(
                    ": in doubt for {} ms, gives up and aborts (broken)",
                    self.config.prepare_timeout_ms
                );
                self.abort(&txn, &why, ctx);
            }
            _ => {}
        }
    }

    /// The table as the log says: outcomes, and PREPARED / PRE-COMMITTED without one (in
    /// doubt, locks held). Unprepared work is not in the log.
    fn rebuild_from_log(&mut self) {
        let mut txns: BTreeMap<TxnId, PTxn> = BTreeMap::new();
        for r in &self.log {
            let txn = r.txn().to_string();
            let (state, at) = match r {
                PRecord::Prepared {
                    writes,
                    participants,
                    at_ms,
                    ..
                } => {
                    txns.insert(
                        txn.clone(),
                        PTxn {
                            writes: writes.clone(),
                            participants: participants.clone(),
                            state: PState::Prepared,
                            since_ms: *at_ms,
                            recovered: true,
                        },
                    );
                    continue;
                }
                PRecord::PreCommitted { at_ms, .. } => (PState::PreCommitted, *at_ms),
                PRecord::Committed { at_ms, .. } => (PState::Committed, *at_ms),
                PRecord::Aborted { at_ms, .. } => (PState::Aborted, *at_ms),
            };
            let t = txns.entry(txn).or_insert_with(|| PTxn {
                writes: Vec::new(),
                participants: Vec::new(),
                state,
                since_ms: at,
                recovered: true,
            });
            t.state = state;
            t.since_ms = at;
        }
        self.locks.clear();
        self.waiting.clear();
        for (id, t) in &txns {
            if t.state.in_doubt() {
                for w in &t.writes {
                    self.locks.insert(w.key.clone(), id.clone());
                }
            }
        }
        self.txns = txns;
    }

    fn on_crash(&mut self) {
        self.lost = self
            .txns
            .iter()
            .filter(|(_, t)| matches!(t.state, PState::Waiting | PState::Working))
            .map(|(id, _)| id.clone())
            .collect();
        self.rebuild_from_log();
    }

    fn on_restart(&mut self, ctx: &mut Ctx<Node>) {
        for txn in std::mem::take(&mut self.lost) {
            if self.txns.contains_key(&txn) {
                continue;
            }
            self.abort(&txn, ": its unprepared work was lost in the crash", ctx);
        }
        let doubtful: Vec<TxnId> = self
            .txns
            .iter()
            .filter(|(_, t)| t.state.in_doubt())
            .map(|(id, _)| id.clone())
            .collect();
        for txn in doubtful {
            ctx.note(format!(
                "recovers {} {txn} from its log: in doubt, locks re-acquired, asks for the decision",
                if self.state(&txn) == Some(PState::PreCommitted) {
                    "PRE-COMMITTED"
                } else {
                    "PREPARED"
                }
            ));
            self.on_timer(Timer::Ask(txn), ctx);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The node.

/// A node of a 2PC / 3PC run.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Coordinator(Coordinator),
    Participant(Participant),
}

impl Node {
    /// The coordinator's state, if this is the coordinator.
    pub fn coordinator(&self) -> Option<&Coordinator> {
        match self {
            Node::Coordinator(c) => Some(c),
            Node::Participant(_) => None,
        }
    }
    /// The participant's state, if this is a participant.
    pub fn participant(&self) -> Option<&Participant> {
        match self {
            Node::Participant(p) => Some(p),
            Node::Coordinator(_) => None,
        }
    }
}

/// What the page shows of a node (the node's state, cloned).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum View {
    Coordinator {
        protocol: CommitProtocol,
        /// Its volatile table of transactions.
        txns: Vec<CoordTxn>,
        /// Its durable log.
        log: Vec<CoordRecord>,
        /// Transactions answered "abort" by presumption.
        presumed: Vec<TxnId>,
    },
    Participant {
        /// Per transaction its state here.
        txns: BTreeMap<TxnId, PTxn>,
        /// Committed values.
        data: BTreeMap<String, i64>,
        /// key → holder.
        locks: BTreeMap<String, TxnId>,
        /// key → waiting transactions, first in line first.
        waiting: BTreeMap<String, Vec<TxnId>>,
        log: Vec<PRecord>,
    },
}

impl Describe for View {
    /// Coordinator: `"T1 collecting votes (1/2 yes), T2 committing"` or `"idle"` (only
    /// unfinished transactions). Participant: `"T1 in doubt, T2 waiting for a lock"` or
    /// `"idle"`.
    fn label(&self) -> String {
        let parts: Vec<String> = match self {
            View::Coordinator { txns, .. } => txns
                .iter()
                .filter(|t| !matches!(t.phase, CoordPhase::Aborted | CoordPhase::Ended))
                .map(|t| match t.phase {
                    CoordPhase::Voting => format!(
                        "{} collecting votes ({}/{} yes)",
                        t.id,
                        t.votes.values().filter(|y| **y).count(),
                        t.participants.len()
                    ),
                    p => format!("{} {}", t.id, p.name()),
                })
                .collect(),
            View::Participant { txns, .. } => txns
                .iter()
                .filter(|(_, t)| !t.state.is_final())
                .map(|(id, t)| format!("{id} {}", t.state.name()))
                .collect(),
        };
        if parts.is_empty() {
            "idle".into()
        } else {
            parts.join(", ")
        }
    }
    fn fields(&self) -> Vec<(String, String)> {
        let s = |k: &str, v: String| (k.to_string(), v);
        match self {
            View::Coordinator {
                protocol,
                txns,
                log,
                presumed,
            } => {
                let mut f = vec![s("protocol", protocol.name().into())];
                for t in txns {
                    f.push(s(&t.id, t.phase.name().into()));
                }
                f.push(s(
                    "log",
                    if log.is_empty() {
                        "empty".into()
                    } else {
                        log.iter().map(|r| r.text()).collect::<Vec<_>>().join(", ")
                    },
                ));
                if !presumed.is_empty() {
                    f.push(s("presumed abort", presumed.join(", ")));
                }
                f
            }
            View::Participant {
                txns,
                data,
                locks,
                waiting,
                log,
            } => {
                let mut f: Vec<(String, String)> = txns
                    .iter()
                    .map(|(id, t)| s(id, t.state.name().into()))
                    .collect();
                f.push(s(
                    "data",
                    data.iter()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
                if !locks.is_empty() {
                    f.push(s(
                        "locks",
                        locks
                            .iter()
                            .map(|(k, t)| {
                                let line = waiting.get(k).map_or(String::new(), |w| {
                                    format!(" (waiting: {})", w.join(", "))
                                });
                                format!("{k} by {t}{line}")
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    ));
                }
                f.push(s(
                    "log",
                    if log.is_empty() {
                        "empty".into()
                    } else {
                        log.iter().map(|r| r.text()).collect::<Vec<_>>().join(", ")
                    },
                ));
                f
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
        if let Node::Coordinator(c) = self {
            for (id, at, ws) in c.plan.clone() {
                if at == 0 {
                    c.begin(id, ws, ctx);
                } else {
                    ctx.set_timer(Timer::Start(id), at);
                }
            }
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Self>) {
        match self {
            Node::Coordinator(c) => c.on_message(from, msg, ctx),
            Node::Participant(p) => p.on_message(from, msg, ctx),
        }
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<Self>) {
        match self {
            Node::Coordinator(c) => c.on_timer(timer, ctx),
            Node::Participant(p) => p.on_timer(timer, ctx),
        }
    }

    fn on_request(&mut self, _op: OpId, request: Request, _ctx: &mut Ctx<Self>) {
        match request {}
    }

    fn on_command(&mut self, command: Command, ctx: &mut Ctx<Self>) {
        match (self, command) {
            (Node::Coordinator(c), Command::Begin { id, writes }) => c.begin(id, writes, ctx),
            (Node::Participant(_), Command::Begin { .. }) => {
                ctx.note("only the coordinator begins transactions: ignored")
            }
        }
    }

    fn on_crash(&mut self) {
        match self {
            Node::Coordinator(c) => {
                c.txns.clear();
                c.presumed.clear();
            }
            Node::Participant(p) => p.on_crash(),
        }
    }

    fn on_restart(&mut self, ctx: &mut Ctx<Self>) {
        match self {
            Node::Coordinator(c) => c.on_restart(ctx),
            Node::Participant(p) => p.on_restart(ctx),
        }
    }

    fn view(&self) -> View {
        match self {
            Node::Coordinator(c) => View::Coordinator {
                protocol: c.config.protocol,
                txns: c.txns.values().cloned().collect(),
                log: c.log.clone(),
                presumed: c.presumed.iter().cloned().collect(),
            },
            Node::Participant(p) => View::Participant {
                txns: p.txns.clone(),
                data: p.data.clone(),
                locks: p.locks.clone(),
                waiting: p.waiting.clone(),
                log: p.log.clone(),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// The scenario file.

/// A participant in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantSpec {
    pub name: String,
    /// Initial committed values (e.g. `{ alice = 500 }`).
    #[serde(default)]
    pub data: BTreeMap<String, i64>,
    /// `"yes"` (default) or `"no"`.
    #[serde(default)]
    pub vote: Vote,
    #[serde(default)]
    pub place: Option<String>,
}

impl ParticipantSpec {
    /// A participant `name` holding `data`, voting yes.
    pub fn new(name: &str, data: &[(&str, i64)]) -> ParticipantSpec {
        ParticipantSpec {
            name: name.into(),
            data: data.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            vote: Vote::Yes,
            place: None,
        }
    }
}

/// A write in a scenario file: at participant `at` (by name), add `delta` to `key`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteSpec {
    pub at: String,
    pub key: String,
    pub delta: i64,
}

impl WriteSpec {
    pub fn new(at: &str, key: &str, delta: i64) -> WriteSpec {
        WriteSpec {
            at: at.into(),
            key: key.into(),
            delta,
        }
    }
}

/// A transaction in a scenario file, begun by the coordinator at `start_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxnSpec {
    pub id: TxnId,
    #[serde(default)]
    pub start_ms: Time,
    pub writes: Vec<WriteSpec>,
}

impl TxnSpec {
    pub fn new(id: &str, start_ms: Time, writes: Vec<WriteSpec>) -> TxnSpec {
        TxnSpec {
            id: id.into(),
            start_ms,
            writes,
        }
    }
}

/// A 2PC / 3PC scenario as lesson files and the command line write it (nodes by name).
/// Node ids: the coordinator 0, then the participants in file order. Times in simulated ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoPcScenario {
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_duration")]
    pub duration_ms: Time,
    #[serde(default)]
    pub protocol: CommitProtocol,
    /// The coordinator's name.
    #[serde(default = "default_coordinator")]
    pub coordinator: String,
    /// 1 to 5 participants (2–5 make sense; 1 to experiment).
    pub participants: Vec<ParticipantSpec>,
    #[serde(default)]
    pub transactions: Vec<TxnSpec>,
    #[serde(default = "default_latency")]
    pub latency_ms: Time,
    #[serde(default)]
    pub jitter_ms: Time,
    #[serde(default)]
    pub loss: f64,
    #[serde(default)]
    pub links: Vec<NamedLink>,
    /// The coordinator waits this long for votes (3PC: also for pre-commit acks).
    #[serde(default = "default_vote_timeout")]
    pub vote_timeout_ms: Time,
    /// Decision re-send and "decision?" re-ask period.
    #[serde(default = "default_retry")]
    pub retry_ms: Time,
    /// A participant waiting this long for prepare aborts (3PC: also its uncertain and
    /// pre-committed timeouts).
    #[serde(default = "default_prepare_timeout")]
    pub prepare_timeout_ms: Time,
    /// The coordinator aborts a transaction whose writes are not done this long after it
    /// sent them.
    #[serde(default = "default_work_timeout")]
    pub work_timeout_ms: Time,
    #[serde(default)]
    pub cooperative_termination: bool,
    #[serde(default)]
    pub no_overdraft: bool,
    #[serde(default)]
    pub broken: BTreeSet<Broken>,
}

fn default_duration() -> Time {
    1_000
}
fn default_coordinator() -> String {
    "coordinator".into()
}
fn default_latency() -> Time {
    10
}
fn default_vote_timeout() -> Time {
    100
}
fn default_retry() -> Time {
    100
}
fn default_prepare_timeout() -> Time {
    300
}
fn default_work_timeout() -> Time {
    500
}

impl TwoPcScenario {
    /// A coordinator and `participants` (`shard-a`, `shard-b`, …, each with one account
    /// `acct-a`, … holding 100), no transactions, defaults elsewhere.
    pub fn basic(participants: usize, seed: u64) -> TwoPcScenario {
        let ps = (0..participants)
            .map(|i| {
                let c = (b'a' + (i % 26) as u8) as char;
                ParticipantSpec::new(&format!("shard-{c}"), &[(&format!("acct-{c}"), 100)])
            })
            .collect();
        TwoPcScenario {
            seed,
            duration_ms: default_duration(),
            protocol: CommitProtocol::TwoPhase,
            coordinator: default_coordinator(),
            participants: ps,
            transactions: Vec::new(),
            latency_ms: default_latency(),
            jitter_ms: 0,
            loss: 0.0,
            links: Vec::new(),
            vote_timeout_ms: default_vote_timeout(),
            retry_ms: default_retry(),
            prepare_timeout_ms: default_prepare_timeout(),
            work_timeout_ms: default_work_timeout(),
            cooperative_termination: false,
            no_overdraft: false,
            broken: BTreeSet::new(),
        }
    }

    /// All node names in id order: the coordinator, then the participants.
    pub fn names(&self) -> Vec<String> {
        std::iter::once(self.coordinator.clone())
            .chain(self.participants.iter().map(|p| p.name.clone()))
            .collect()
    }

    /// The id of a named node, or an error listing the known names.
    pub fn node(&self, name: &str) -> Result<NodeId, String> {
        scenario::node_id(&self.names(), name)
    }

    /// The participants' ids: `1..=n`.
    pub fn participant_ids(&self) -> Vec<NodeId> {
        (1..=self.participants.len()).collect()
    }

    /// Whether `node` is a participant.
    pub fn is_participant(&self, node: NodeId) -> bool {
        (1..=self.participants.len()).contains(&node)
    }

    /// The shared configuration of the nodes.
    pub fn config(&self) -> Config {
        Config {
            protocol: self.protocol,
            coordinator: 0,
            participants: self.participant_ids(),
            vote_timeout_ms: self.vote_timeout_ms,
            retry_ms: self.retry_ms,
            prepare_timeout_ms: self.prepare_timeout_ms,
            work_timeout_ms: self.work_timeout_ms,
            cooperative_termination: self.cooperative_termination,
            no_overdraft: self.no_overdraft,
            broken: self.broken.clone(),
            names: self.names(),
        }
    }

    /// Writes by participant name → writes by node id. Errors: no writes, an unknown
    /// participant (or the coordinator), an empty key.
    pub fn resolve_writes(&self, txn: &str, writes: &[WriteSpec]) -> Result<Vec<Write>, String> {
        if writes.is_empty() {
            return Err(format!("transaction {txn} has no writes"));
        }
        writes
            .iter()
            .map(|w| {
                let p = self
                    .node(&w.at)
                    .map_err(|e| format!("transaction {txn}: {e}"))?;
                if !self.is_participant(p) {
                    return Err(format!(
                        "transaction {txn}: \"{}\" is the coordinator, not a participant",
                        w.at
                    ));
                }
                if w.key.trim().is_empty() {
                    return Err(format!("transaction {txn}: a write with an empty key"));
                }
                Ok(Write {
                    participant: p,
                    key: w.key.clone(),
                    delta: w.delta,
                })
            })
            .collect()
    }

    /// The operator command that begins transaction `id` with `writes` (by name), for
    /// [`crate::engine::Action::Command`] at the coordinator (node 0). Errors as
    /// [`TwoPcScenario::resolve_writes`], and an empty id or one of the scenario's
    /// transactions.
    pub fn begin(&self, id: &str, writes: &[WriteSpec]) -> Result<Command, String> {
        check_txn_id(id)?;
        if self.transactions.iter().any(|t| t.id == id) {
            return Err(format!(
                "transaction {id} is already one of the scenario's transactions"
            ));
        }
        Ok(Command::Begin {
            id: id.into(),
            writes: self.resolve_writes(id, writes)?,
        })
    }

    /// Checks the scenario and builds the run's setup. Errors: no participants or more than
    /// five, bad or duplicate names, a transaction with an empty or duplicate id, no writes,
    /// a write at an unknown node or the coordinator, a start after the run's end, a zero
    /// timeout or period, times beyond an hour, a bad network.
    pub fn setup(&self) -> Result<Setup<Node>, String> {
        let n = self.participants.len();
        if !(1..=5).contains(&n) {
            return Err(format!(
                "{n} participants: a run has 1 to 5 (2 or more to see atomic commit at work)"
            ));
        }
        let names = self.names();
        scenario::check_names(&names)?;
        scenario::check_time("duration_ms", self.duration_ms)?;
        for (what, ms) in [
            ("vote_timeout_ms", self.vote_timeout_ms),
            ("retry_ms", self.retry_ms),
            ("prepare_timeout_ms", self.prepare_timeout_ms),
            ("work_timeout_ms", self.work_timeout_ms),
        ] {
            if ms == 0 {
                return Err(format!("{what} must be positive"));
            }
            scenario::check_time(what, ms)?;
        }
        for p in &self.participants {
            if p.data.keys().any(|k| k.trim().is_empty()) {
                return Err(format!("participant {}: a key is empty", p.name));
            }
        }
        let mut plan = Vec::new();
        for (i, t) in self.transactions.iter().enumerate() {
            check_txn_id(&t.id)?;
            if self.transactions[..i].iter().any(|u| u.id == t.id) {
                return Err(format!("two transactions are named {}", t.id));
            }
            if t.start_ms > self.duration_ms {
                return Err(format!(
                    "transaction {}: start_ms = {} is after the run ends (duration_ms = {})",
                    t.id, t.start_ms, self.duration_ms
                ));
            }
            plan.push((
                t.id.clone(),
                t.start_ms,
                self.resolve_writes(&t.id, &t.writes)?,
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
        let info = |name: &String, place: Option<String>| NodeInfo {
            name: name.clone(),
            role: NodeRole::Server,
            place,
            clock: Default::default(),
        };
        let mut nodes = vec![info(&self.coordinator, None)];
        let mut protocols = vec![Node::Coordinator(Coordinator::new(config.clone(), plan))];
        for p in &self.participants {
            nodes.push(info(&p.name, p.place.clone()));
            protocols.push(Node::Participant(Participant::new(
                config.clone(),
                p.data.clone(),
                p.vote,
            )));
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

/// A transaction id is non-empty, at most 32 characters, without spaces.
pub fn check_txn_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("a transaction with an empty id".into());
    }
    if id.chars().count() > 32 || id.chars().any(char::is_whitespace) {
        return Err(format!(
            "transaction id \"{id}\": at most 32 characters, no spaces"
        ));
    }
    Ok(())
}

/// Checks an operator's `begin` at `node` (for runs read from links and files): it goes to
/// the coordinator (node 0), its id is valid and not one of the scenario's transactions, it
/// has writes, each at a participant with a non-empty key.
pub fn check_begin(
    s: &TwoPcScenario,
    node: NodeId,
    id: &str,
    writes: &[Write],
) -> Result<(), String> {
    if node != 0 {
        return Err(format!(
            "a begin at node {node}, which is a participant, not the coordinator"
        ));
    }
    check_txn_id(id)?;
    if s.transactions.iter().any(|t| t.id == id) {
        return Err(format!(
            "a begin of {id}, which is already one of the scenario's transactions"
        ));
    }
    if writes.is_empty() {
        return Err(format!("a begin of {id} without writes"));
    }
    for w in writes {
        if !s.is_participant(w.participant) {
            return Err(format!(
                "a begin of {id} with a write at node {}, which is not a participant",
                w.participant
            ));
        }
        if w.key.trim().is_empty() {
            return Err(format!("a begin of {id} with an empty key"));
        }
    }
    Ok(())
}
