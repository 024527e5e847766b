//! The protocols Distlab simulates, one module each.

pub mod replication;
pub mod txn;
