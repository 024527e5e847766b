//! The linearizability checker (Herlihy & Wing 1990): is there a total order of a client
//! history's operations, consistent with real time, that a sequential model accepts?
//!
//! * [`history`]: the input ([`History`] of [`Operation`]s).
//! * [`model`]: the sequential models ([`Model`]: register, cas-register, kv, set).
//! * [`check`](mod@check): the search (Wing & Gong 1993 with Lowe 2017's memoization, as
//!   Porcupine's `checkSingle`; P-compositional per key, Horn & Kroening 2015) →
//!   [`Verdict`] with an [`Explanation`] when not linearizable.
//! * [`parse`]: Jepsen EDN, Porcupine etcd and kv logs, JSON; [`parse::detect`].
//! * [`bench`]: the benchmark workload, with the clock passed in (works in wasm).
//!
//! See docs/LINEARIZABILITY.md.

pub mod bench;
pub mod check;
pub mod history;
pub mod model;
pub mod parse;

pub use check::{
    check, describe, describe_op, try_check, CheckError, Explanation, Outcome, PartitionVerdict,
    Verdict,
};
pub use history::{History, Op, Operation, Status, Value};
pub use model::{replay_step, Model, ModelSpec, ReplayState};
pub use parse::{detect, parse_any, Format, ParseError};
