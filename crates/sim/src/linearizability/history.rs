//! Client histories: what the linearizability checker reads.
//!
//! A history is a list of [`Operation`]s, each a call by one client (Jepsen's *process*)
//! and, if it returned, its return. Times are in any monotone unit: simulated milliseconds
//! for Distlab's own runs, the line number for Jepsen and Porcupine logs (only the order of
//! calls and returns matters to the checker).

use serde::{Deserialize, Serialize};

/// A register value, a key's value or a set element, as text (`"3"`, `"3–3 live"`).
/// The checker interns values, so their size does not matter to its speed.
pub type Value = String;

/// What an operation asked for, and (for a read) what it saw. `key` is `None` for models
/// with a single object (register, cas-register, set); every model checks each key
/// on its own (P-compositionality: Herlihy & Wing 1990, "locality"; Horn & Kroening 2015).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "kebab-case")]
pub enum Op {
    /// Read a register, or `get` a key: `value` is what it returned; `None` is Jepsen's
    /// `nil` (never written). The key-value model reads an absent key as `""`, as
    /// Porcupine's kv model does, so `None` and `Some("")` are the same there.
    Read {
        key: Option<String>,
        value: Option<Value>,
    },
    /// Write a register, or `put` a key.
    Write { key: Option<String>, value: Value },
    /// Compare-and-set: if the register holds `from`, make it `to`. A cas that returned
    /// `ok` succeeded; one that returned `fail` did not happen (Jepsen's convention).
    Cas {
        key: Option<String>,
        from: Value,
        to: Value,
    },
    /// Key-value `append`: the key's value becomes its old value followed by `value`.
    Append { key: Option<String>, value: Value },
    /// Set `add` of one element (to the set named `key`, if any).
    Add {
        #[serde(default)]
        key: Option<String>,
        value: Value,
    },
    /// Set `remove` of one element (a shopping cart's removal).
    Remove {
        #[serde(default)]
        key: Option<String>,
        value: Value,
    },
    /// Set `read`: the whole set as it was returned (any order).
    ReadSet {
        #[serde(default)]
        key: Option<String>,
        values: Vec<Value>,
    },
}

/// How an operation ended (Jepsen's completion types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// `:ok` — it happened, and returned what [`Op`] records.
    Ok,
    /// `:fail` — it definitely did not happen; the checker drops it.
    Fail,
    /// `:info` — unknown (crashed, timed out): it may take effect at any point after its
    /// call, or never. Its return time is treated as infinity.
    Info,
}

/// One client operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Index in [`History::ops`]; explanations name operations by it.
    pub id: usize,
    /// The client (Jepsen's process) that issued it.
    pub client: u64,
    /// When it was called.
    pub call: u64,
    /// When it returned; `None` for [`Status::Info`] operations that never returned.
    pub ret: Option<u64>,
    pub status: Status,
    pub op: Op,
    /// A label to show (e.g. the lesson's action label, or `"p3 cas 1→4"`); may be empty.
    #[serde(default)]
    pub label: String,
}

/// A client history: operations in order of their call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub ops: Vec<Operation>,
}

impl History {
    /// The history in the checker's JSON format (docs/LINEARIZABILITY.md, "JSON"): what
    /// [`super::parse::parse_json`] (and `parse` with [`super::parse::Format::Json`], the
    /// `/check` page, `distlab check linearizability`) reads back. Each operation is
    /// written with its `id`, `client`, `call` and `ret` (simulated ms for Distlab's runs;
    /// `null` when it never returned), `status` and `op` (tagged by `"f"`) and `label`.
    /// The reader assigns ids by position, so a history whose ids are its positions (as
    /// every history Distlab builds) reads back equal.
    pub fn to_json(&self) -> String {
        super::parse::to_json(self)
    }
}
