//! Sequential specifications the checker tests histories against.
//!
//! A model is a deterministic state machine: an operation, applied to a state, is either
//! allowed (giving the next state) or not (what it returned is impossible in that state).
//! These are the models of Knossos (`register`, `cas-register`, `set`) and Porcupine
//! (`kv`: get / put / append, an absent key reads as `""`).
//!
//! The checker does not run these on strings: it interns every value to a small integer
//! first ([`Interner`]) and runs the [`Machine`]s below on those.

use super::history::{Op, Operation, Status, Value};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::Hash;
use std::str::FromStr;

/// Which sequential object the history is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// A read/write register (Knossos' `register`): [`Op::Read`], [`Op::Write`]. Starts as
    /// [`ModelSpec::initial`] (`None` = Jepsen's `nil`).
    Register,
    /// A register with compare-and-set (Knossos' `cas-register`, Porcupine's etcd model):
    /// [`Op::Read`], [`Op::Write`], [`Op::Cas`]. Knossos' histories start at `0`,
    /// Porcupine's etcd histories at `nil`.
    CasRegister,
    /// A key-value store (Porcupine's `kvModel`): per key, [`Op::Read`] (get),
    /// [`Op::Write`] (put), [`Op::Append`]. An absent key reads as `""` (or as
    /// [`ModelSpec::initial`] when given). Checked key by key (P-compositionality).
    Kv,
    /// A set (Knossos' `set`, plus removal): [`Op::Add`], [`Op::Remove`], [`Op::ReadSet`],
    /// compared as sets. Starts empty. Without removes it is Knossos' grow-only set.
    Set,
}

impl Model {
    /// Every model, in the order the CLI lists them.
    pub const ALL: [Model; 4] = [Model::Register, Model::CasRegister, Model::Kv, Model::Set];

    /// The model's name: `register`, `cas-register`, `kv` or `set`.
    pub fn name(self) -> &'static str {
        match self {
            Model::Register => "register",
            Model::CasRegister => "cas-register",
            Model::Kv => "kv",
            Model::Set => "set",
        }
    }

    /// Whether the model knows this kind of operation.
    pub fn supports(self, op: &Op) -> bool {
        matches!(
            (self, op),
            (Model::Register, Op::Read { .. } | Op::Write { .. })
                | (
                    Model::CasRegister,
                    Op::Read { .. } | Op::Write { .. } | Op::Cas { .. }
                )
                | (
                    Model::Kv,
                    Op::Read { .. } | Op::Write { .. } | Op::Append { .. }
                )
                | (
                    Model::Set,
                    Op::Add { .. } | Op::Remove { .. } | Op::ReadSet { .. }
                )
        )
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = String;
    /// Parses a model name (see [`Model::name`]); the error lists the known names.
    fn from_str(s: &str) -> Result<Self, String> {
        Model::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown model {s:?} (known: register, cas-register, kv, set)"))
    }
}

/// A model and its initial state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub model: Model,
    /// The initial value: of the register (`None` = `nil`, the default), or of every key
    /// of the kv model (`None` = `""`). Ignored by the set model, which starts empty.
    #[serde(default)]
    pub initial: Option<Value>,
}

impl ModelSpec {
    /// `model` starting from its default initial state (`nil`, `""`, the empty set).
    pub fn new(model: Model) -> Self {
        ModelSpec {
            model,
            initial: None,
        }
    }

    /// `model` starting from `initial` (see [`ModelSpec::initial`]).
    pub fn with_initial(model: Model, initial: impl Into<Value>) -> Self {
        ModelSpec {
            model,
            initial: Some(initial.into()),
        }
    }
}

/// Interned value: an index into an [`Interner`]. [`NIL`] is Jepsen's `nil`.
pub(crate) type Id = u32;
/// The interned `nil` (never written).
pub(crate) const NIL: Id = u32::MAX;

/// Strings ↔ small integers, so that model states compare and hash as integers.
#[derive(Default, Debug)]
pub(crate) struct Interner {
    ids: FxHashMap<String, Id>,
    strings: Vec<String>,
}

impl Interner {
    pub(crate) fn id(&mut self, s: &str) -> Id {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.strings.len() as Id;
        self.strings.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
    pub(crate) fn opt(&mut self, s: Option<&str>) -> Id {
        s.map_or(NIL, |s| self.id(s))
    }
    pub(crate) fn get(&self, i: Id) -> Option<&str> {
        self.strings.get(i as usize).map(String::as_str)
    }
}

/// A partition's sequential machine, on interned operations. `step` returns the next
/// state, or `None` if the operation (with what it returned) is impossible in `state`.
pub(crate) trait Machine {
    type State: Clone + Eq + Hash;
    fn init(&mut self) -> Self::State;
    fn step(&mut self, state: &Self::State, op: usize) -> Option<Self::State>;
}

/// An operation of a register or cas-register, interned. `known` is false for
/// [`Status::Info`] operations, whose outputs constrain nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RegOp {
    Read(Id),
    Write(Id),
    /// A cas that succeeded (`known`), or an indeterminate one (takes effect if it can).
    Cas {
        from: Id,
        to: Id,
        known: bool,
    },
}

/// Knossos' register and cas-register (and Porcupine's etcd model).
pub(crate) struct Register {
    pub(crate) ops: Vec<RegOp>,
    pub(crate) initial: Id,
}

impl Machine for Register {
    type State = Id;
    fn init(&mut self) -> Id {
        self.initial
    }
    fn step(&mut self, &st: &Id, op: usize) -> Option<Id> {
        match *self.ops.get(op)? {
            RegOp::Read(v) => (v == st).then_some(st),
            RegOp::Write(v) => Some(v),
            RegOp::Cas { from, to, known } => {
                if from == st {
                    Some(to)
                } else if known {
                    None
                } else {
                    Some(st)
                }
            }
        }
    }
}

/// A key's operation in the kv model, interned (values and states share one table).
#[derive(Clone, Copy, Debug)]
pub(crate) enum KvOp {
    Get(Id),
    Put(Id),
    Append(Id),
}

/// Porcupine's kv model for one key: the state is the key's whole value, interned;
/// appends are memoized so that each (state, suffix) pair concatenates once.
pub(crate) struct Kv {
    pub(crate) values: Interner,
    pub(crate) ops: Vec<KvOp>,
    pub(crate) initial: Id,
    appended: FxHashMap<(Id, Id), Id>,
}

impl Kv {
    pub(crate) fn new(values: Interner, ops: Vec<KvOp>, initial: Id) -> Self {
        Kv {
            values,
            ops,
            initial,
            appended: FxHashMap::default(),
        }
    }
}

impl Machine for Kv {
    type State = Id;
    fn init(&mut self) -> Id {
        self.initial
    }
    fn step(&mut self, &st: &Id, op: usize) -> Option<Id> {
        match *self.ops.get(op)? {
            KvOp::Get(v) => (v == st).then_some(st),
            KvOp::Put(v) => Some(v),
            KvOp::Append(v) => {
                if let Some(&r) = self.appended.get(&(st, v)) {
                    return Some(r);
                }
                let mut s = self.values.get(st).unwrap_or("").to_string();
                s.push_str(self.values.get(v).unwrap_or(""));
                let r = self.values.id(&s);
                self.appended.insert((st, v), r);
                Some(r)
            }
        }
    }
}

/// A set operation, interned: elements are bit positions.
#[derive(Clone, Debug)]
pub(crate) enum SetOp {
    Add(Id),
    Remove(Id),
    /// The read's elements as a bit set (same width as the state).
    Read(Box<[u64]>),
}

/// Knossos' set: the state is the bit set of the elements added so far.
pub(crate) struct SetMachine {
    pub(crate) ops: Vec<SetOp>,
    pub(crate) words: usize,
}

impl Machine for SetMachine {
    type State = Box<[u64]>;
    fn init(&mut self) -> Box<[u64]> {
        vec![0; self.words].into_boxed_slice()
    }
    fn step(&mut self, st: &Box<[u64]>, op: usize) -> Option<Box<[u64]>> {
        match self.ops.get(op)? {
            SetOp::Add(v) => {
                let mut s = st.clone();
                let (w, b) = (*v as usize / 64, *v as usize % 64);
                *s.get_mut(w)? |= 1 << b;
                Some(s)
            }
            SetOp::Remove(v) => {
                let mut s = st.clone();
                let (w, b) = (*v as usize / 64, *v as usize % 64);
                *s.get_mut(w)? &= !(1 << b);
                Some(s)
            }
            SetOp::Read(r) => (r == st).then(|| st.clone()),
        }
    }
}

/// Applies `op` to a string-valued state of `model`, for replaying an explanation's
/// prefix in tests and tools. The state is the register's value (`None` = nil), the key's
/// value (kv; `None` reads as `""`), or the set's elements (sorted, deduplicated).
/// Returns the next state, or `None` if the model does not allow the operation there.
/// `Status::Info` operations are unconstrained in their outputs; `Status::Fail` ones do
/// nothing.
pub fn replay_step(model: Model, state: &ReplayState, op: &Operation) -> Option<ReplayState> {
    if op.status == Status::Fail {
        return Some(state.clone());
    }
    let known = op.status == Status::Ok;
    match (model, state, &op.op) {
        (Model::Register | Model::CasRegister, ReplayState::Value(st), Op::Read { value, .. }) => {
            (!known || value == st).then(|| state.clone())
        }
        (Model::Kv, ReplayState::Value(st), Op::Read { value, .. }) => {
            let v = value.as_deref().unwrap_or("");
            (!known || v == st.as_deref().unwrap_or("")).then(|| state.clone())
        }
        (
            Model::Register | Model::CasRegister | Model::Kv,
            ReplayState::Value(_),
            Op::Write { value, .. },
        ) => Some(ReplayState::Value(Some(value.clone()))),
        (Model::CasRegister, ReplayState::Value(st), Op::Cas { from, to, .. }) => {
            if st.as_deref() == Some(from.as_str()) {
                Some(ReplayState::Value(Some(to.clone())))
            } else if known {
                None
            } else {
                Some(state.clone())
            }
        }
        (Model::Kv, ReplayState::Value(st), Op::Append { value, .. }) => Some(ReplayState::Value(
            Some(format!("{}{}", st.as_deref().unwrap_or(""), value)),
        )),
        (Model::Set, ReplayState::Set(s), Op::Remove { value, .. }) => {
            let mut s = s.clone();
            s.retain(|x| x != value);
            Some(ReplayState::Set(s))
        }
        (Model::Set, ReplayState::Set(s), Op::Add { value, .. }) => {
            let mut s = s.clone();
            if let Err(i) = s.binary_search(value) {
                s.insert(i, value.clone());
            }
            Some(ReplayState::Set(s))
        }
        (Model::Set, ReplayState::Set(s), Op::ReadSet { values, .. }) => {
            let mut r = values.clone();
            r.sort();
            r.dedup();
            (!known || &r == s).then(|| state.clone())
        }
        _ => None,
    }
}

/// A model state with plain strings, for [`replay_step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayState {
    /// A register's or a key's value (`None` = nil; the kv model reads it as `""`).
    Value(Option<Value>),
    /// A set's elements, sorted and deduplicated.
    Set(Vec<Value>),
}

impl ReplayState {
    /// The initial state of `spec`'s model.
    pub fn initial(spec: &ModelSpec) -> Self {
        match spec.model {
            Model::Set => ReplayState::Set(Vec::new()),
            Model::Kv => ReplayState::Value(Some(spec.initial.clone().unwrap_or_default())),
            _ => ReplayState::Value(spec.initial.clone()),
        }
    }
}
