//! `distlab check linearizability` and `distlab check bench`, run as a user would:
//! histories in, verdicts, explanations and exit codes out.

use crate::common;

use common::{distlab, stderr, stdout, testdata};
use serde_json::Value;
use std::path::PathBuf;

fn temp_file(name: &str, text: &str) -> PathBuf {
    common::temp_file("check-test", name, text)
}

/// A write of 1 completes, then a read returns nil: stale.
const STALE: &str = "{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value nil}
";

const FINE: &str = "[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}]
";

#[test]
fn linearizable_exits_0() {
    let f = temp_file("fine.edn", FINE);
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "register",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(": linearizable (2 operations, format edn, model register"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn not_linearizable_exits_1_with_explanation() {
    let f = temp_file("stale.edn", STALE);
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "cas-register",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("not-linearizable"), "{out}");
    assert!(
        out.contains("client 1's read → nil (called t=3, returned t=4) cannot be placed"),
        "{out}"
    );
    assert!(
        out.contains("#0 client 0's write 1 (called t=1, returned t=2)  → state 1"),
        "{out}"
    );
    // From 1 the read of nil is still stale; --initial changes the model's start.
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "register",
        "--initial",
        "1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["outcome"], "not-linearizable");
    assert_eq!(v["explanation"]["blocked"], 1);
    assert_eq!(v["explanation"]["linearized"], serde_json::json!([0]));
    assert_eq!(v["format"], "edn");
    assert_eq!(v["model"], "register");
}

#[test]
fn malformed_input_exits_2_with_line() {
    let f = temp_file("bad.edn", "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :fine, :f :write, :value 1}\n");
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "register",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.edn: line 2: unknown :type :fine"),
        "{}",
        stderr(&o)
    );
    // An operation the model does not know.
    let f = temp_file("cas.edn", "{:process 0, :type :invoke, :f :cas, :value [0 1]}\n{:process 0, :type :ok, :f :cas, :value [0 1]}\n");
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "register",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not an operation of the register model"),
        "{}",
        stderr(&o)
    );
    // Unknown model, format, missing file.
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "queue",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown model"), "{}", stderr(&o));
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "register",
        "--format",
        "xml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = distlab(&[
        "check",
        "linearizability",
        "/nonexistent/h.edn",
        "--model",
        "register",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn budget_exhausted_exits_2_unknown() {
    let f = temp_file("fine2.edn", FINE);
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "register",
        "--budget",
        "1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["outcome"], "unknown");
}

#[test]
fn json_history_format() {
    let text = r#"{"ops": [
  {"client": 1, "call": 0, "ret": 10, "status": "ok", "op": {"f": "write", "key": "x", "value": "1"}},
  {"client": 2, "call": 20, "ret": 30, "status": "ok", "op": {"f": "read", "key": "x", "value": ""}}
]}"#;
    let f = temp_file("h.json", text);
    let o = distlab(&[
        "check",
        "linearizability",
        f.to_str().unwrap(),
        "--model",
        "kv",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("for key x"), "{}", stdout(&o));
}

#[test]
fn shared_histories() {
    let Some(etcd) = testdata("porcupine/jepsen/etcd_000.log") else {
        return;
    };
    let o = distlab(&[
        "check",
        "linearizability",
        etcd.to_str().unwrap(),
        "--model",
        "cas-register",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let Some(good) = testdata("knossos/good_cas-register-bug.edn") else {
        return;
    };
    let o = distlab(&[
        "check",
        "linearizability",
        good.to_str().unwrap(),
        "--model",
        "cas-register",
        "--initial",
        "0",
        "--format",
        "edn",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let Some(kv) = testdata("porcupine/kv/c10-bad.txt") else {
        return;
    };
    let o = distlab(&[
        "check",
        "linearizability",
        kv.to_str().unwrap(),
        "--model",
        "kv",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["format"], "kv");
    assert!(v["explanation"]["key"].is_string());
}

#[test]
fn bench_reports_both_groups() {
    let Some(dir) = testdata("porcupine") else {
        return;
    };
    let root = dir.parent().unwrap();
    let o = distlab(&[
        "check",
        "bench",
        "--testdata",
        root.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["etcd"]["rows"].as_array().unwrap().len(), 103);
    assert_eq!(v["kv"]["rows"].as_array().unwrap().len(), 6);
    let o = distlab(&["check", "bench", "--testdata", "/nonexistent"]);
    assert_eq!(o.status.code(), Some(2));
}
