//! The cli crate's integration tests, one module per subject, linked into one test binary
//! (one binary instead of one per file keeps a fresh build's disk use and link time small).

mod check;
mod cli;
mod clocks;
mod common;
mod gossip;
mod raft;
mod sql_diff;
mod twopc;
