//! The protocols Distlab simulates, one module each.

pub mod clocks;
pub mod leaderless;
pub mod replication;
pub mod scenario;
pub mod txn;
