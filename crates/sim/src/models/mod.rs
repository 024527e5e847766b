//! The protocols Distlab simulates, one module each.

pub mod clocks;
pub mod replication;
pub mod scenario;
pub mod txn;
