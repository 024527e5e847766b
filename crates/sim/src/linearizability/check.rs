//! The search: Wing & Gong's algorithm with Lowe's memoization, as Porcupine's
//! `checkSingle` implements it, run per partition (P-compositionality).
//!
//! * Herlihy & Wing, "Linearizability: a correctness condition for concurrent objects"
//!   (TOPLAS 1990): the definition, and locality (a history is linearizable iff each
//!   object's subhistory is).
//! * Wing & Gong, "Testing and verifying concurrent objects" (JPDC 1993): the search. The
//!   history becomes one list of call and return entries in time order. Walking it, a call
//!   entry may be linearized now if the model accepts the operation in the current state:
//!   the call and its return are *lifted* out of the list, and the search restarts from the
//!   head. Reaching a return entry means its operation should have been linearized already:
//!   backtrack (pop the last linearized operation, *unlift* it, try the entry after it).
//!   An empty list means every operation was linearized.
//! * Lowe, "Testing for linearizability" (CCPE 2017): memoize the configurations already
//!   reached — (bit set of linearized operations, model state) — and never explore one
//!   twice. This is what makes the search practical.
//! * Horn & Kroening, "Faster linearizability checking via P-compositionality" (FORTE
//!   2015): check independent parts of a history (a key-value store's keys) separately.
//! * Porcupine (Athalye, github.com/anishathalye/porcupine, `checker.go`): the exact loop
//!   reproduced here, including the order of entries (by time, calls before returns at
//!   equal times, so operations that touch at an instant count as concurrent).

use super::history::{History, Op, Operation, Status};
use super::model::{
    Interner, KvOp, Machine, Model, ModelSpec, RegOp, Register, SetMachine, SetOp, NIL,
};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The answer for a history or one of its partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Some total order of the operations respects real time and the model.
    Linearizable,
    /// No such order exists (the search was exhaustive).
    NotLinearizable,
    /// The step budget ran out before the search ended (or, with [`Verdict::error`], the
    /// history could not be checked at all).
    Unknown,
}

impl Outcome {
    /// `linearizable`, `not-linearizable` or `unknown` (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Linearizable => "linearizable",
            Outcome::NotLinearizable => "not-linearizable",
            Outcome::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The verdict on one partition: one key of the kv model, or the whole history of the
/// single-object models (`key: None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionVerdict {
    pub key: Option<String>,
    /// Operations checked in it (after dropping `fail` operations and indeterminate reads).
    pub ops: usize,
    /// `unknown` also when its search was stopped unfinished because another partition
    /// was found not linearizable (Porcupine stops all partitions then, too).
    pub outcome: Outcome,
}

/// Why a partition is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The partition's key (`None` for single-object models).
    pub key: Option<String>,
    /// The longest linearizable prefix found, as operation ids ([`Operation::id`]) in
    /// linearization order. The search visits every reachable configuration, so no
    /// linearizable prefix of the partition has more operations. A valid sequential
    /// execution of the model that respects real time.
    pub linearized: Vec<usize>,
    /// The model state after each operation of `linearized` (same length), as text: a
    /// register's value (`nil` when unset), a key's value (quoted), a set (`{1, 2}`).
    pub states: Vec<String>,
    /// The operation that cannot be placed: of the operations not in `linearized`, the one
    /// that returned first (by return time; indeterminate ones last). Every linearization
    /// extending `linearized` must place it before anything called after its return, and
    /// no extension of `linearized` by any operation is linearizable.
    pub blocked: usize,
    /// The same in one plain paragraph, naming operations as
    /// "client 2's read x → 1 (called t=40, returned t=55)".
    pub text: String,
}

/// The checker's answer for a whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// `not-linearizable` if any partition is; else `unknown` if any ran out of budget;
    /// else `linearizable`.
    pub outcome: Outcome,
    /// Each partition, in order of key (`None` first).
    pub partitions: Vec<PartitionVerdict>,
    /// For the first partition found not linearizable.
    pub explanation: Option<Explanation>,
    /// Search steps taken (loop iterations, summed over partitions): what the budget counts.
    #[serde(default)]
    pub steps: u64,
    /// Set (with outcome `unknown`) when the model cannot interpret the history; see
    /// [`CheckError`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A history the model cannot check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// Operation `id` is of a kind the model does not know (e.g. a cas for `register`).
    Unsupported { id: usize, model: Model, op: String },
    /// Operation `id` returned before it was called.
    ReturnBeforeCall { id: usize, call: u64, ret: u64 },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Unsupported { id, model, op } => {
                write!(
                    f,
                    "operation {id} ({op}) is not an operation of the {model} model"
                )
            }
            CheckError::ReturnBeforeCall { id, call, ret } => {
                write!(
                    f,
                    "operation {id} returns (t={ret}) before its call (t={call})"
                )
            }
        }
    }
}

impl std::error::Error for CheckError {}

/// Steps a partition's search runs before the next partition's turn.
const SLICE: u64 = 10_000;

/// Checks `history` against `spec`, taking at most `budget` search steps in total (`None`:
/// no limit). Never panics: a history the model cannot interpret gives outcome `unknown`
/// with [`Verdict::error`] set (use [`try_check`] to get it as an error).
///
/// Semantics (Jepsen's and Knossos' conventions, as Porcupine checks them):
/// * [`Status::Ok`]: the operation happened between its call and return, and returned
///   what it records.
/// * [`Status::Fail`]: it did not happen; dropped.
/// * [`Status::Info`]: it may have happened at any time after its call, or never: its
///   return time is infinity and its output is unconstrained (an indeterminate cas takes
///   effect if it can). Indeterminate reads constrain nothing and change nothing, so they
///   are dropped. An operation with `ret: None` is treated the same whatever its status.
/// * Equal times: a return and a call at the same instant count as concurrent.
/// * Partitions: each key (the kv model, or register ops carrying keys) is checked alone;
///   operations without a key form one partition. Partitions are searched round-robin,
///   10,000 steps at a time, and all stop as soon as one is not linearizable.
pub fn check(history: &History, spec: &ModelSpec, budget: Option<u64>) -> Verdict {
    try_check(history, spec, budget).unwrap_or_else(|e| Verdict {
        outcome: Outcome::Unknown,
        partitions: Vec::new(),
        explanation: None,
        steps: 0,
        error: Some(e.to_string()),
    })
}

/// [`check`], with a history the model cannot interpret as an error.
pub fn try_check(
    history: &History,
    spec: &ModelSpec,
    budget: Option<u64>,
) -> Result<Verdict, CheckError> {
    // Validate, drop, partition.
    let mut parts: BTreeMap<Option<String>, Vec<&Operation>> = BTreeMap::new();
    for op in &history.ops {
        if !spec.model.supports(&op.op) {
            return Err(CheckError::Unsupported {
                id: op.id,
                model: spec.model,
                op: describe_op(&op.op),
            });
        }
        if let Some(ret) = op.ret {
            if ret < op.call && op.status != Status::Info {
                return Err(CheckError::ReturnBeforeCall {
                    id: op.id,
                    call: op.call,
                    ret,
                });
            }
        }
        if op.status == Status::Fail {
            continue;
        }
        let indeterminate = op.status == Status::Info || op.ret.is_none();
        if indeterminate && matches!(op.op, Op::Read { .. } | Op::ReadSet { .. }) {
            continue;
        }
        parts.entry(key_of(&op.op)).or_default().push(op);
    }
    let mut verdict = Verdict {
        outcome: Outcome::Linearizable,
        partitions: Vec::new(),
        explanation: None,
        steps: 0,
        error: None,
    };
    let parts: Vec<(Option<String>, Vec<&Operation>)> = parts.into_iter().collect();
    let mut searches: Vec<Box<dyn Resumable>> = parts
        .iter()
        .map(|(_, ops)| search_partition(spec, ops))
        .collect();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; parts.len()];
    let mut left = budget;
    // Round-robin slices, as Porcupine runs partitions in parallel and stops all of them
    // when one is not linearizable: a hard key does not hide an easy violation.
    let mut failed = false;
    while !failed && outcomes.iter().any(Option::is_none) && left != Some(0) {
        for (i, search) in searches.iter_mut().enumerate() {
            if outcomes[i].is_some() {
                continue;
            }
            let slice = left.map_or(SLICE, |l| l.min(SLICE));
            if slice == 0 {
                break;
            }
            let (outcome, steps) = search.run(slice);
            verdict.steps += steps;
            if let Some(l) = left.as_mut() {
                *l -= steps.min(*l);
            }
            outcomes[i] = outcome;
            if outcome == Some(Outcome::NotLinearizable) {
                failed = true;
                if verdict.explanation.is_none() {
                    let (key, ops) = &parts[i];
                    verdict.explanation = Some(explain(spec, key.clone(), ops, search.longest()));
                }
                break;
            }
        }
    }
    for ((key, ops), outcome) in parts.into_iter().zip(outcomes) {
        verdict.partitions.push(PartitionVerdict {
            key,
            ops: ops.len(),
            outcome: outcome.unwrap_or(Outcome::Unknown),
        });
    }
    verdict.outcome = if verdict
        .partitions
        .iter()
        .any(|p| p.outcome == Outcome::NotLinearizable)
    {
        Outcome::NotLinearizable
    } else if verdict
        .partitions
        .iter()
        .any(|p| p.outcome == Outcome::Unknown)
    {
        Outcome::Unknown
    } else {
        Outcome::Linearizable
    };
    Ok(verdict)
}

fn key_of(op: &Op) -> Option<String> {
    match op {
        Op::Read { key, .. }
        | Op::Write { key, .. }
        | Op::Cas { key, .. }
        | Op::Append { key, .. }
        | Op::Add { key, .. }
        | Op::Remove { key, .. }
        | Op::ReadSet { key, .. } => key.clone(),
    }
}

fn known(op: &Operation) -> bool {
    op.status == Status::Ok && op.ret.is_some()
}

/// The search of one partition, with the model's interned machine.
fn search_partition(spec: &ModelSpec, ops: &[&Operation]) -> Box<dyn Resumable> {
    let times: Vec<(u64, u64)> = ops
        .iter()
        .map(|o| {
            (
                o.call,
                if known(o) {
                    o.ret.unwrap_or(u64::MAX)
                } else {
                    u64::MAX
                },
            )
        })
        .collect();
    let mut values = Interner::default();
    match spec.model {
        Model::Register | Model::CasRegister => {
            let initial = values.opt(spec.initial.as_deref());
            let rops = ops
                .iter()
                .map(|o| match &o.op {
                    Op::Read { value, .. } => RegOp::Read(values.opt(value.as_deref())),
                    Op::Write { value, .. } => RegOp::Write(values.id(value)),
                    Op::Cas { from, to, .. } => RegOp::Cas {
                        from: values.id(from),
                        to: values.id(to),
                        known: known(o),
                    },
                    // Unreachable after validation; a read of nil keeps it total.
                    _ => RegOp::Read(NIL),
                })
                .collect();
            let m = Register { ops: rops, initial };
            Box::new(Search::new(m, &times))
        }
        Model::Kv => {
            let initial = values.id(spec.initial.as_deref().unwrap_or(""));
            let kops = ops
                .iter()
                .map(|o| match &o.op {
                    Op::Read { value, .. } => KvOp::Get(values.id(value.as_deref().unwrap_or(""))),
                    Op::Write { value, .. } => KvOp::Put(values.id(value)),
                    Op::Append { value, .. } => KvOp::Append(values.id(value)),
                    _ => KvOp::Append(initial),
                })
                .collect();
            let m = super::model::Kv::new(values, kops, initial);
            Box::new(Search::new(m, &times))
        }
        Model::Set => {
            for o in ops {
                match &o.op {
                    Op::Add { value, .. } | Op::Remove { value, .. } => {
                        values.id(value);
                    }
                    Op::ReadSet { values: vs, .. } => {
                        for v in vs {
                            values.id(v);
                        }
                    }
                    _ => {}
                }
            }
            let n = ops
                .iter()
                .map(|o| match &o.op {
                    Op::Add { .. } | Op::Remove { .. } => 1,
                    Op::ReadSet { values, .. } => values.len(),
                    _ => 0,
                })
                .sum::<usize>();
            let words = n.div_ceil(64).max(1);
            let sops = ops
                .iter()
                .map(|o| match &o.op {
                    Op::Add { value, .. } => SetOp::Add(values.id(value)),
                    Op::Remove { value, .. } => SetOp::Remove(values.id(value)),
                    Op::ReadSet { values: vs, .. } => {
                        let mut bits = vec![0u64; words];
                        for v in vs {
                            let i = values.id(v) as usize;
                            if let Some(w) = bits.get_mut(i / 64) {
                                *w |= 1 << (i % 64);
                            }
                        }
                        SetOp::Read(bits.into_boxed_slice())
                    }
                    _ => SetOp::Read(vec![u64::MAX; words].into_boxed_slice()),
                })
                .collect();
            let m = SetMachine { ops: sops, words };
            Box::new(Search::new(m, &times))
        }
    }
}

const NONE: usize = usize::MAX;

/// A partition's search that can be run a slice at a time.
pub(crate) trait Resumable {
    /// Runs at most `max` steps: `Some(outcome)` when the search ended (linearizable or
    /// not), `None` when the slice ran out. Returns the steps taken too.
    fn run(&mut self, max: u64) -> (Option<Outcome>, u64);
    /// The longest linearized prefix seen so far (local operation indices).
    fn longest(&self) -> &[usize];
}

/// Porcupine's `checkSingle` over `times[i] = (call, return)` of operations `0..n`
/// (return `u64::MAX` = never), as a resumable state machine.
pub(crate) struct Search<M: Machine> {
    m: M,
    op_of: Vec<usize>,
    is_call: Vec<bool>,
    matching: Vec<usize>,
    next: Vec<usize>,
    prev: Vec<usize>,
    linearized: Box<[u64]>,
    cache: FxHashSet<(Box<[u64]>, M::State)>,
    calls: Vec<(usize, M::State)>,
    longest: Vec<usize>,
    state: M::State,
    entry: usize,
}

impl<M: Machine> Search<M> {
    pub(crate) fn new(mut m: M, times: &[(u64, u64)]) -> Self {
        let n = times.len();
        // Entries 1..=2n in time order, calls before returns at equal times; 0 is the head.
        let mut order: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * n);
        for (i, &(call, ret)) in times.iter().enumerate() {
            order.push((call, 0, i));
            order.push((ret, 1, i));
        }
        order.sort_unstable();
        let mut op_of = vec![NONE; 2 * n + 1];
        let mut is_call = vec![false; 2 * n + 1];
        let mut ret_entry = vec![NONE; n];
        for (k, &(_, kind, i)) in order.iter().enumerate() {
            op_of[k + 1] = i;
            is_call[k + 1] = kind == 0;
            if kind == 1 {
                ret_entry[i] = k + 1;
            }
        }
        let mut matching = vec![NONE; 2 * n + 1];
        for k in 1..=2 * n {
            if is_call[k] {
                matching[k] = ret_entry[op_of[k]];
            }
        }
        let mut next: Vec<usize> = (1..=2 * n + 1).collect();
        next[2 * n] = NONE;
        let mut prev: Vec<usize> = (0..=2 * n).map(|k| k.wrapping_sub(1)).collect();
        prev[0] = NONE;
        let state = m.init();
        let entry = next[0];
        Search {
            m,
            op_of,
            is_call,
            matching,
            next,
            prev,
            linearized: vec![0u64; n.div_ceil(64).max(1)].into_boxed_slice(),
            cache: FxHashSet::default(),
            calls: Vec::new(),
            longest: Vec::new(),
            state,
            entry,
        }
    }
}

impl<M: Machine> Resumable for Search<M> {
    fn longest(&self) -> &[usize] {
        &self.longest
    }

    fn run(&mut self, max: u64) -> (Option<Outcome>, u64) {
        let mut steps = 0u64;
        let (next, prev) = (&mut self.next, &mut self.prev);
        while next[0] != NONE {
            if steps == max {
                return (None, steps);
            }
            steps += 1;
            let entry = self.entry;
            if entry != NONE && self.is_call[entry] {
                let op = self.op_of[entry];
                let Some(new_state) = self.m.step(&self.state, op) else {
                    self.entry = next[entry];
                    continue;
                };
                let mut nl = self.linearized.clone();
                nl[op / 64] |= 1 << (op % 64);
                if self.cache.insert((nl, new_state.clone())) {
                    let old = std::mem::replace(&mut self.state, new_state);
                    self.calls.push((entry, old));
                    self.linearized[op / 64] |= 1 << (op % 64);
                    // lift: take the call, then its return, out of the list.
                    let r = self.matching[entry];
                    next[prev[entry]] = next[entry];
                    if next[entry] != NONE {
                        prev[next[entry]] = prev[entry];
                    }
                    next[prev[r]] = next[r];
                    if next[r] != NONE {
                        prev[next[r]] = prev[r];
                    }
                    self.entry = next[0];
                } else {
                    self.entry = next[entry];
                }
            } else {
                // A return entry: its operation should have been linearized. Backtrack.
                if self.calls.len() > self.longest.len() {
                    self.longest = self.calls.iter().map(|&(e, _)| self.op_of[e]).collect();
                }
                let Some((e, s)) = self.calls.pop() else {
                    return (Some(Outcome::NotLinearizable), steps);
                };
                self.state = s;
                let op = self.op_of[e];
                self.linearized[op / 64] &= !(1 << (op % 64));
                // unlift: put the return, then the call, back.
                let r = self.matching[e];
                next[prev[r]] = r;
                if next[r] != NONE {
                    prev[next[r]] = r;
                }
                next[prev[e]] = e;
                if next[e] != NONE {
                    prev[next[e]] = e;
                }
                self.entry = next[e];
            }
        }
        (Some(Outcome::Linearizable), steps)
    }
}

/// Builds the explanation of a failed partition from its longest prefix (local indices).
fn explain(
    spec: &ModelSpec,
    key: Option<String>,
    ops: &[&Operation],
    longest: &[usize],
) -> Explanation {
    use super::model::{replay_step, ReplayState};
    let mut st = ReplayState::initial(spec);
    let mut states = Vec::with_capacity(longest.len());
    for &i in longest {
        if let Some(next) = ops.get(i).and_then(|o| replay_step(spec.model, &st, o)) {
            st = next;
        }
        states.push(show_state(spec.model, &st));
    }
    let mut inside = vec![false; ops.len()];
    for &i in longest {
        if let Some(x) = inside.get_mut(i) {
            *x = true;
        }
    }
    let blocked_local = (0..ops.len())
        .filter(|&i| !inside[i])
        .min_by_key(|&i| {
            let o = ops[i];
            (
                if known(o) {
                    o.ret.unwrap_or(u64::MAX)
                } else {
                    u64::MAX
                },
                o.call,
                i,
            )
        })
        .unwrap_or(0);
    let blocked = ops.get(blocked_local).map_or(0, |o| o.id);
    let linearized: Vec<usize> = longest
        .iter()
        .filter_map(|&i| ops.get(i).map(|o| o.id))
        .collect();
    let mut text = String::new();
    let part = key
        .as_ref()
        .map(|k| format!(" for key {}", show_value(k)))
        .unwrap_or_default();
    let initial = show_state(spec.model, &ReplayState::initial(spec));
    text.push_str(&format!(
        "No linearization exists{part}: no order of its {} operations respects both real time and the {} model (starting from {initial}). ",
        ops.len(),
        spec.model
    ));
    match (longest.last().and_then(|&i| ops.get(i)), states.last()) {
        (Some(last), Some(s)) => text.push_str(&format!(
            "The longest linearizable prefix has {} operation{}, ending with {}, which leaves the state {s}. ",
            longest.len(),
            if longest.len() == 1 { "" } else { "s" },
            describe(last)
        )),
        _ => text.push_str("Not even one operation can be linearized first. "),
    }
    if let Some(b) = ops.get(blocked_local) {
        text.push_str(&format!(
            "Then {} cannot be placed: it returned before every other remaining operation was called, so it must come next, and whichever of the operations concurrent with it go first, the model does not allow what it returned.",
            describe(b)
        ));
    }
    Explanation {
        key,
        linearized,
        states,
        blocked,
        text,
    }
}

fn show_state(model: Model, st: &super::model::ReplayState) -> String {
    use super::model::ReplayState;
    match st {
        ReplayState::Value(v) if model == Model::Kv => format!("{:?}", v.as_deref().unwrap_or("")),
        ReplayState::Value(v) => v.as_deref().map_or_else(|| "nil".to_string(), show_value),
        ReplayState::Set(s) => format!(
            "{{{}}}",
            s.iter()
                .map(|v| show_value(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A value for text: as is, or quoted when empty or holding spaces.
fn show_value(v: &str) -> String {
    if v.is_empty() || v.contains(char::is_whitespace) {
        format!("{v:?}")
    } else {
        v.to_string()
    }
}

/// An operation's request and result in words, e.g. `read x → 1`, `write 3`,
/// `cas 1→4`, `append k "x 0 1 y"`, `add 5`, `read {1, 2}`.
pub fn describe_op(op: &Op) -> String {
    let k = |key: &Option<String>| {
        key.as_ref()
            .map(|k| format!(" {}", show_value(k)))
            .unwrap_or_default()
    };
    match op {
        Op::Read { key, value } => format!(
            "read{} → {}",
            k(key),
            value
                .as_deref()
                .map_or_else(|| "nil".to_string(), show_value)
        ),
        Op::Write { key, value } => format!("write{} {}", k(key), show_value(value)),
        Op::Cas { key, from, to } => {
            format!("cas{} {}→{}", k(key), show_value(from), show_value(to))
        }
        Op::Append { key, value } => format!("append{} {}", k(key), show_value(value)),
        Op::Add { key, value } => format!("add{} {}", k(key), show_value(value)),
        Op::Remove { key, value } => format!("remove{} {}", k(key), show_value(value)),
        Op::ReadSet { key, values } => format!(
            "read{} {{{}}}",
            k(key),
            values
                .iter()
                .map(|v| show_value(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// An operation in words, as explanations name it: "client 2's read x → 1 (called t=40,
/// returned t=55)"; indeterminate ones "(called t=40, outcome unknown)".
pub fn describe(op: &Operation) -> String {
    let what = match (&op.op, op.status) {
        (Op::Read { key, .. }, Status::Info) => {
            format!(
                "read{}",
                key.as_ref()
                    .map(|k| format!(" {}", show_value(k)))
                    .unwrap_or_default()
            )
        }
        (o, _) => describe_op(o),
    };
    let when = match (op.status, op.ret) {
        (Status::Ok, Some(r)) => format!("called t={}, returned t={r}", op.call),
        (Status::Fail, Some(r)) => format!("called t={}, failed t={r}", op.call),
        _ => format!("called t={}, outcome unknown", op.call),
    };
    format!("client {}'s {what} ({when})", op.client)
}
