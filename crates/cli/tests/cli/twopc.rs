//! `distlab twopc explore` and `twopc replay`, run as a user would: exit codes, the report
//! (text and JSON), and a printed failing run replayed from a file.

use crate::common;

use common::{distlab, stderr, stdout};
use serde_json::Value;

#[test]
fn correct_two_phase_commit_exits_0_with_in_doubt_statistics() {
    let o = distlab(&["twopc", "explore", "--seeds", "40"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("40 runs (seeds 0..40), two-phase, 3 participants"),
        "{out}"
    );
    assert!(out.contains("in doubt: "), "{out}");
    assert!(out.contains("no violation of atomic outcome"), "{out}");

    let o = distlab(&[
        "twopc", "explore", "--seeds", "40", "--from", "100", "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["runs"], 40);
    assert_eq!(r["first_seed"], 100);
    assert_eq!(r["protocol"], "two-phase");
    assert_eq!(r["failing_runs"], 0);
    assert!(r["in_doubt"]["runs_with_in_doubt"].as_u64().unwrap() > 0);
    assert!(r["in_doubt"]["max_ms"].as_u64().unwrap() > 0);
    assert!(r["transactions"].as_u64().unwrap() > 0);
    assert_eq!(r["shortest"].as_array().unwrap().len(), 0);
}

#[test]
fn three_phase_with_crashes_only_exits_0() {
    let o = distlab(&[
        "twopc",
        "explore",
        "--seeds",
        "40",
        "--protocol",
        "three-phase",
        "--crashes-only",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("faults: crashes only"));
}

#[test]
fn three_phase_under_partitions_exits_1_and_the_printed_run_replays() {
    let o = distlab(&[
        "twopc",
        "explore",
        "--seeds",
        "60",
        "--protocol",
        "three-phase",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(r["failing_runs"].as_u64().unwrap() > 0);
    let found = &r["shortest"][0];
    let property = found["violation"]["property"].as_str().unwrap().to_string();
    assert!(
        [
            "atomic-outcome",
            "outcome-matches-the-decision",
            "matches-decision"
        ]
        .contains(&property.as_str()),
        "{property}"
    );
    let saved = serde_json::json!({ "scenario": found["scenario"], "interventions": found["interventions"] });
    let file = common::temp_file("twopc-test", "run.json", &saved.to_string());
    let o = distlab(&["twopc", "replay", file.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["property"] == property.as_str()));
    // Text: the property in words, the schedule, the replay line.
    let o = distlab(&[
        "twopc",
        "explore",
        "--seeds",
        "60",
        "--protocol",
        "three-phase",
    ]);
    let out = stdout(&o);
    assert!(out.contains("The property: "), "{out}");
    assert!(out.contains("Shortest schedule found:"), "{out}");
    assert!(out.contains("distlab twopc replay FILE"), "{out}");
    // The replay line printed is itself a valid saved run.
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("{\"scenario\""))
        .unwrap();
    let file = common::temp_file("twopc-test", "line.json", line);
    let o = distlab(&["twopc", "replay", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains(" violated for T"), "{}", stdout(&o));
}

#[test]
fn each_broken_rule_exits_1() {
    for rule in ["decide-on-timeout", "send-before-log"] {
        let o = distlab(&[
            "twopc", "explore", "--seeds", "80", "--broken", rule, "--json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{rule}: {}", stderr(&o));
        let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(r["broken"][0], rule);
    }
}

#[test]
fn a_run_without_violation_replays_to_exit_0() {
    let saved = serde_json::json!({
        "scenario": {
            "participants": [{"name": "shard-a", "data": {"alice": 500}}, {"name": "shard-b"}],
            "transactions": [{"id": "T1", "writes": [
                {"at": "shard-a", "key": "alice", "delta": -100},
                {"at": "shard-b", "key": "bob", "delta": 100}]}]
        },
        "interventions": [{"at": 35, "type": "crash", "node": 0}, {"at": 300, "type": "restart", "node": 0}]
    });
    let file = common::temp_file("twopc-test", "ok.json", &saved.to_string());
    let o = distlab(&["twopc", "replay", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("no violation"));
}

#[test]
fn bad_input_exits_2() {
    let o = distlab(&["twopc", "explore", "--broken", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("decide-on-timeout, send-before-log"),
        "{}",
        stderr(&o)
    );
    let o = distlab(&["twopc", "explore", "--protocol", "four-phase"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("two-phase, three-phase"),
        "{}",
        stderr(&o)
    );
    let o = distlab(&["twopc", "explore", "--participants", "9"]);
    assert_eq!(o.status.code(), Some(2));
    let o = distlab(&["twopc", "explore", "--seeds", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let file = common::temp_file("twopc-test", "bad.json", "{\"scenario\": 3}");
    let o = distlab(&["twopc", "replay", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 1: not a saved 2PC run"),
        "{}",
        stderr(&o)
    );
    // A begin at a participant is refused, not run.
    let saved = serde_json::json!({
        "scenario": {"participants": [{"name": "a"}, {"name": "b"}]},
        "interventions": [{"at": 0, "type": "command", "node": 1,
                           "command": {"command": "begin", "id": "T1", "writes": [{"participant": 2, "key": "k", "delta": 1}]}}]
    });
    let file = common::temp_file("twopc-test", "begin.json", &saved.to_string());
    let o = distlab(&["twopc", "replay", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not the coordinator"), "{}", stderr(&o));
    let o = distlab(&["twopc", "replay", "/no/such/file.json"]);
    assert_eq!(o.status.code(), Some(2));
}
