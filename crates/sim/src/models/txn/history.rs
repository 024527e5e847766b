//! The history of a run as Adya's theory sees it (Adya 2000, "Weak Consistency: A
//! Generalized Theory and Optimistic Implementations for Distributed Transactions", ch. 3):
//! transactions with their outcome, objects (rows) with their version order, and every read
//! — item reads and predicate reads with the version set they observed. The store records
//! it as it runs ([`super::store::Store::history`]); [`super::dsg`] builds the direct
//! serialization graph from it.
//!
//! Shapes:
//! - an **object** is one row, identified by its table and primary-key value (so a row that
//!   is deleted and inserted again with the same key is the same object, as in Adya's
//!   treatment of inserts and deletes as writes of "dead" / "unborn" versions);
//! - its **versions** are listed in version order (PostgreSQL orders the versions of a row by
//!   the row locks its writers held, which is the commit order of the committed writers);
//!   version 0 of every object is the unborn version (no writer), and a deletion installs a
//!   dead version (`values: None`);
//! - a **read** names the versions it observed: one per object of the table for a predicate
//!   read (its version set, Adya's Vset(P)), with whether the version matched the predicate;
//!   the rows a statement returned or changed are the matching ones.

use super::ast::{IsolationLevel, Value};
use super::store::Xid;
use serde::Serialize;

/// How a transaction ended (or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum TxnOutcome {
    /// Committed, `order`-th commit of the run (1-based).
    Committed {
        order: u64,
    },
    Aborted,
    /// Still running when the history was taken.
    Running,
}

/// One transaction of the history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TxnInfo {
    pub xid: Xid,
    /// The session that ran it (`"setup"` for setup lines).
    pub session: String,
    pub level: IsolationLevel,
    pub outcome: TxnOutcome,
}

/// One version of an object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VersionInfo {
    /// The transaction that installed it; `None` for the unborn version 0.
    pub writer: Option<Xid>,
    /// The row's values; `None` for the unborn version and for a dead (deleted) version.
    pub values: Option<Vec<Value>>,
    /// Whether the writer computed these values from the previous version of the object in
    /// the same statement (an UPDATE whose SET reads the row, like `hits = hits + 1`), so
    /// it did not overwrite that version blindly. Decides lost update (see [`super::dsg`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub derived: bool,
}

/// One object: a row, with its versions in version order (index 0 is the unborn version).
/// Versions written by transactions that aborted are kept in the list (G1a needs them);
/// versions written by one transaction in several commands are all listed (G1b needs them).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectInfo {
    pub table: String,
    /// The primary-key value (or, in a table without one, the row's first scan position).
    pub key: Value,
    pub versions: Vec<VersionInfo>,
}

/// One observation of one object by a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// Index into [`History::objects`].
    pub object: usize,
    /// Index into that object's `versions` (0 = the unborn version: the row did not exist
    /// for this read).
    pub version: usize,
    /// Whether the version satisfied the read's predicate (always `true` for an item read).
    pub matched: bool,
}

/// One read by a statement: a SELECT, or the scan of an UPDATE / DELETE / SELECT … FOR
/// UPDATE. A statement with a WHERE clause (or none: the predicate TRUE) is a predicate read
/// over its table; the rows it matched are also item reads of those versions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadInfo {
    pub xid: Xid,
    /// 0-based index of the statement in the run (the script's step order).
    pub statement: usize,
    pub table: String,
    /// The WHERE clause as SQL text; `None` means every row (no WHERE clause).
    pub predicate: Option<String>,
    /// The version set: one entry per object of the table (objects whose only versions were
    /// invisible to the read appear with version 0).
    pub observed: Vec<Observed>,
    /// Whether each version of each object of the table satisfies the read's predicate,
    /// indexed `[k][version]` where `k` is the position of the object in `observed` and
    /// `version` indexes that object's `versions` (unborn and dead versions never do). Empty when unknown (a hand-built history); the store always fills it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub version_matches: Vec<Vec<bool>>,
}

/// A whole history. Built by the store; consumed by [`super::dsg`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct History {
    pub txns: Vec<TxnInfo>,
    pub objects: Vec<ObjectInfo>,
    pub reads: Vec<ReadInfo>,
}
