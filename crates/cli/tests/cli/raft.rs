//! `distlab raft explore` and `raft replay`, run as a user would: exit codes, the report,
//! and a printed failing run replayed from a file.

use crate::common;

use common::{distlab, stderr, stdout};
use serde_json::Value;

#[test]
fn correct_raft_exits_0() {
    let o = distlab(&["raft", "explore", "--seeds", "30", "--servers", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("30 runs (seeds 0..30), 3 servers"), "{out}");
    assert!(out.contains("no violation of election safety"), "{out}");
}

#[test]
fn a_broken_rule_exits_1_with_a_replayable_run() {
    // Seed 0 already breaks leader completeness without the up-to-date check on votes.
    let o = distlab(&[
        "raft",
        "explore",
        "--seeds",
        "1",
        "--broken",
        "vote-up-to-date-check",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["runs"], 1);
    assert_eq!(r["failing_runs"], 1);
    assert_eq!(r["broken"][0], "vote-up-to-date-check");
    let found = &r["shortest"][0];
    assert_eq!(found["violation"]["property"], "leader-completeness");
    // The run it prints, saved and replayed, fails the same way.
    let saved = serde_json::json!({ "scenario": found["scenario"], "interventions": found["interventions"] });
    let file = common::temp_file("raft-test", "run.json", &saved.to_string());
    let o = distlab(&["raft", "replay", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("leader completeness violated at"),
        "{}",
        stdout(&o)
    );
    // Text output: the property in words and the schedule.
    let o = distlab(&[
        "raft",
        "explore",
        "--seeds",
        "1",
        "--broken",
        "vote-up-to-date-check",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("The property: if a log entry is committed in a given term"),
        "{out}"
    );
    assert!(out.contains("Shortest schedule found:"), "{out}");
    assert!(out.contains("distlab raft replay FILE"), "{out}");
}

#[test]
fn bad_input_exits_2() {
    let o = distlab(&["raft", "explore", "--broken", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("vote-up-to-date-check, current-term-commit, persist-voted-for"),
        "{}",
        stderr(&o)
    );
    let o = distlab(&["raft", "explore", "--servers", "4"]);
    assert_eq!(o.status.code(), Some(2));
    let file = common::temp_file("raft-test", "bad.json", "{\"scenario\": 3}");
    let o = distlab(&["raft", "replay", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 1: not a saved Raft run"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn refinements_are_switches_and_a_broken_read_check_is_found() {
    let o = distlab(&[
        "raft",
        "explore",
        "--seeds",
        "20",
        "--refinement",
        "pre-vote",
        "--refinement",
        "read-index",
        "--refinement",
        "check-quorum",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        r["refinements"],
        serde_json::json!(["pre-vote", "check-quorum", "read-index"])
    );
    assert_eq!(r["failing_runs"], 0);
    // Seed 1144 catches a leader that answers reads without confirming it still leads.
    let o = distlab(&[
        "raft",
        "explore",
        "--seeds",
        "1",
        "--from",
        "1144",
        "--refinement",
        "read-index",
        "--broken",
        "read-leadership-check",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("refinements: read-index"), "{out}");
    assert!(out.contains("linearizable reads violated"), "{out}");
    let o = distlab(&["raft", "explore", "--refinement", "lease-reads"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown refinement \"lease-reads\"; the refinements: pre-vote, check-quorum, read-index"),
        "{}",
        stderr(&o)
    );
}
