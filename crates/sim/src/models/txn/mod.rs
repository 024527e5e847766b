//! Transactions on a single-node relational store, as PostgreSQL 15 runs them: row versions
//! (xmin / xmax), snapshots, row locks, and the isolation levels (PostgreSQL docs, ch. 13
//! "Concurrency Control"). The engine of the isolation-levels lab:
//!
//! - [`ast`]: the SQL subset as data (what the store executes).
//! - [`sql`]: SQL text → [`ast::Statement`] with the `sqlparser` crate (PostgreSQL dialect);
//!   anything outside the subset is an error naming the construct and its position.
//! - [`script`]: the interleaving script format (`setup: …;`, `T1: …;`, `--` comments), as
//!   used by the Hermitage tests.
//! - [`types`]: static types, as PostgreSQL's parse analysis checks and converts them.
//! - [`store`]: the MVCC store and its sessions.
//! - [`history`]: the run as Adya's theory sees it (versions, reads, outcomes).
//! - [`dsg`]: the direct serialization graph and the anomalies it shows (Adya 2000).

pub mod ast;
pub mod dsg;
pub mod generate;
pub mod history;
pub mod presets;
pub mod run;
pub mod script;
pub mod sql;
pub mod ssi;
pub mod store;
pub mod types;
