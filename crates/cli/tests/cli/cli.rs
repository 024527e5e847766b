//! The `distlab` binary, run as a user would.

use crate::common;

use common::{distlab, stderr, stdout};
use std::path::PathBuf;

fn built_in_lesson() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../lessons/replication-lag.toml")
}

/// A fresh file under the system's temporary directory.
fn temp_file(name: &str, text: &str) -> PathBuf {
    common::temp_file("cli-test", name, text)
}

fn sql_script(name: &str, text: &str) -> PathBuf {
    common::temp_file("cli-sql", name, text)
}

#[test]
fn validate_accepts_the_built_in_lesson() {
    let path = built_in_lesson();
    let o = distlab(&["lesson", "validate", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), format!("ok {}", path.display()));
}

#[test]
fn validate_reports_the_line_of_an_unknown_node() {
    let text = std::fs::read_to_string(built_in_lesson()).unwrap();
    // Break the "Alice refreshes" step: its read goes to a replica that does not exist.
    let broken = text.replacen(
        "title = \"Alice refreshes\"",
        "title = \"Alice refreshes\"\nactions = [ { at = 500, action = \"read\", client = \"alice\", replica = \"follower-9\", key = \"score\" } ]",
        1,
    );
    assert_ne!(broken, text);
    let line = broken
        .lines()
        .position(|l| l.starts_with("title = \"Alice refreshes\""))
        .unwrap(); // 0-based index of the title; the [[step]] header is the line before it
    let path = temp_file("broken-node.toml", &broken);
    let o = distlab(&["lesson", "validate", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("{}:{}: ", path.display(), line)),
        "{err}"
    );
    assert!(err.contains("follower-9"), "{err}");
    assert!(stdout(&o).is_empty());
    let _ = std::fs::remove_file(path);
}

#[test]
fn validate_reports_the_line_of_a_syntax_error() {
    let text = "id = \"x\"\ntitle = \"X\"\nsummary = \"s\"\nmodel = \"replication\"\n\n[scenario\nseed = 1\n";
    let path = temp_file("broken-syntax.toml", text);
    let good = built_in_lesson();
    let o = distlab(&[
        "lesson",
        "validate",
        good.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("ok "));
    let err = stderr(&o);
    assert!(err.starts_with(&format!("{}:6: ", path.display())), "{err}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn validate_without_files_or_with_a_missing_file_is_bad_input() {
    let o = distlab(&["lesson", "validate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = distlab(&["lesson", "validate", "/nonexistent/lesson.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

#[test]
fn list_shows_the_built_in_lessons() {
    let o = distlab(&["lesson", "list"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("replication-lag"), "{out}");
    assert!(out.contains("Replication lag"), "{out}");
    assert!(out.contains("steps)"), "{out}");
}

#[test]
fn show_step_6_marks_bobs_read_stale() {
    let o = distlab(&["lesson", "show", "replication-lag", "--step", "6"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Bob refreshes"), "{out}");
    assert!(out.contains("cursor: 437 ms"), "{out}");
    let bob = out
        .lines()
        .find(|l| l.contains("[bob-read]"))
        .expect("bob's read is listed");
    assert!(bob.contains("STALE"), "{bob}");
    assert!(bob.contains("\"3–3 live\""), "{bob}");
    assert!(out.contains("STALE READ: bob's read at 431 ms"), "{out}");
    let alice = out.lines().find(|l| l.contains("[alice-read]")).unwrap();
    assert!(!alice.contains("STALE"), "{alice}");
    assert!(out.contains("latency 4 ms"), "{out}");
    assert!(out.contains("follower-2: 1 entry behind, 35 ms"), "{out}");
}

#[test]
fn show_json_is_the_analysis() {
    let o = distlab(&[
        "lesson",
        "show",
        "replication-lag",
        "--step",
        "14", // "Failover can lose acknowledged writes"
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["lost_writes"], serde_json::json!([1]));
    assert_eq!(v["leader"], serde_json::json!(1));
    assert!(v["reads"].as_array().unwrap().len() >= 3);
}

#[test]
fn show_from_a_file() {
    let path = built_in_lesson();
    let o = distlab(&[
        "lesson",
        "show",
        "--file",
        path.to_str().unwrap(),
        "--step",
        "14", // "Failover can lose acknowledged writes"
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("— LOST"));
}

#[test]
fn show_rejects_unknown_lessons_and_steps() {
    let o = distlab(&["lesson", "show", "no-such-lesson"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("replication-lag"),
        "lists the known ids"
    );
    let o = distlab(&["lesson", "show", "replication-lag", "--step", "99"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("out of range"));
    let o = distlab(&["lesson", "show", "replication-lag", "--step", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = distlab(&["lesson", "show"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn run_trace_is_identical_across_runs() {
    let args = [
        "run",
        "--lesson",
        "replication-lag",
        "--step",
        "14", // "Failover can lose acknowledged writes"
        "--trace",
    ];
    let a = distlab(&args);
    let b = distlab(&args);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).expect("JSON");
    assert!(v.as_array().unwrap().len() > 20);
    // Another step is another run.
    let c = distlab(&[
        "run",
        "--lesson",
        "replication-lag",
        "--step",
        "6",
        "--trace",
    ]);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn run_needs_a_lesson() {
    let o = distlab(&["run", "--step", "2"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bench_prints_the_metrics() {
    let o = distlab(&["bench", "--events", "1500"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for name in [
        "engine.events ",
        "engine.events_per_sec ",
        "engine.step_back_ms.median ",
        "engine.step_back_ms.max ",
        "engine.add_intervention_ms.median ",
        "engine.add_intervention_ms.max ",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name}in {out}"));
        let value: f64 = line[name.len()..].parse().expect("a number");
        assert!(value >= 0.0);
    }
    let events: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("engine.events "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(events >= 1500);
    let o = distlab(&["bench", "--events", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

const LOST_UPDATE: &str = "-- lost update at repeatable read\n\
setup: create table test (id int primary key, value int);\n\
setup: insert into test (id, value) values (1, 10), (2, 20);\n\
T1: begin isolation level repeatable read;\n\
T2: begin isolation level repeatable read;\n\
T1: update test set value = 11 where id = 1;\n\
T2: update test set value = 12 where id = 1;\n\
T1: commit;\n\
T2: rollback;\n\
T3: select * from test;\n";

#[test]
fn sql_run_json_reports_blocking_errors_rows_and_tables() {
    let path = sql_script("lost-update.sql", LOST_UPDATE);
    let o = distlab(&["sql", "run", path.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let st = v["statements"].as_array().unwrap();
    assert_eq!(st.len(), 7);
    let t2 = &st[3];
    assert_eq!(t2["session"], "T2");
    assert_eq!(t2["blocked"], true);
    assert_eq!(t2["status"], "error");
    assert_eq!(t2["sqlstate"], "40001");
    // No ORDER BY: heap order, where an update's new version comes last, as in PostgreSQL.
    assert_eq!(st[6]["rows"], serde_json::json!([[2, 20], [1, 11]]));
    assert_eq!(v["tables"]["test"], serde_json::json!([[1, 11], [2, 20]]));
    // Repeatable read refused the second write: the checker finds nothing.
    assert_eq!(v["anomalies"], serde_json::json!([]));
}

#[test]
fn sql_run_names_the_anomalies_of_the_run() {
    // The write-skew preset's shape at repeatable read: both doctors go off call.
    let text = "setup: create table doctors (id int primary key, on_call int);\n\
setup: insert into doctors values (1, 1), (2, 1);\n\
T1: begin isolation level repeatable read;\n\
T2: begin isolation level repeatable read;\n\
T1: select * from doctors where on_call = 1;\n\
T2: select * from doctors where on_call = 1;\n\
T1: update doctors set on_call = 0 where id = 1;\n\
T2: update doctors set on_call = 0 where id = 2;\n\
T1: commit;\n\
T2: commit;\n";
    let path = sql_script("write-skew.sql", text);
    let o = distlab(&["sql", "run", path.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let a = v["anomalies"].as_array().expect("anomalies");
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["code"], "G2-item");
    assert_eq!(a[0]["sessions"], serde_json::json!(["T1", "T2"]));
    let o = distlab(&["sql", "run", path.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("anomaly: Write skew (G2-item)"), "{out}");
    // At serializable (SSI) T2's COMMIT fails, and nothing is left to name.
    let text_ser = text.replace(" isolation level repeatable read", "");
    let path = sql_script("write-skew-ser.sql", &text_ser);
    let o = distlab(&[
        "sql",
        "run",
        path.to_str().unwrap(),
        "--level",
        "serializable",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ERROR 40001"), "{out}");
    assert!(out.contains("anomalies: none"), "{out}");
}

#[test]
fn sql_run_level_applies_to_sessions_without_their_own() {
    let text = LOST_UPDATE.replace(" isolation level repeatable read", "");
    let path = sql_script("lost-update-default.sql", &text);
    let rc = distlab(&["sql", "run", path.to_str().unwrap(), "--json"]);
    let rr = distlab(&[
        "sql",
        "run",
        path.to_str().unwrap(),
        "--json",
        "--level",
        "repeatable-read",
    ]);
    let rc: serde_json::Value = serde_json::from_slice(&rc.stdout).unwrap();
    let rr: serde_json::Value = serde_json::from_slice(&rr.stdout).unwrap();
    assert_eq!(
        rc["statements"][3]["status"], "ok",
        "read committed re-checks and updates"
    );
    assert_eq!(rr["statements"][3]["sqlstate"], "40001");
}

#[test]
fn sql_run_rejects_malformed_scripts_with_the_line() {
    // A line without a `session:` prefix.
    let path = sql_script(
        "bad.sql",
        "setup: create table t (id int primary key);\nselect * from t;\n",
    );
    let o = distlab(&["sql", "run", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2, column 1"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("expected `session: statement;`"),
        "{}",
        stderr(&o)
    );
    let o = distlab(&["sql", "run", path.to_str().unwrap(), "--level", "chaos"]);
    assert_eq!(o.status.code(), Some(2));
    // Bad SQL in a setup line: the sessions would not have their data.
    let path = sql_script(
        "bad-setup.sql",
        "setup: create table t (id int primary key);\nsetup: insert into t select 1;\nT1: select * from t;\n",
    );
    let o = distlab(&["sql", "run", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

const BAD_SQL_LINES: &str = "setup: create table t (id int primary key, v int);\n\
setup: insert into t values (1, 10);\n\
T1: begin;\n\
T1: select * from t join u on true;\n\
T1: select * from t;\n\
T1: rollback;\n\
T2: selec 1;\n\
T2: select * from t;\n";

#[test]
fn sql_run_runs_a_bad_sql_line_as_a_failing_statement() {
    // As on the web page and in psql: the line fails in its session (42601, naming the
    // construct, its line and column), which aborts its transaction until ROLLBACK; the
    // rest of the script runs.
    let path = sql_script("bad-lines.sql", BAD_SQL_LINES);
    let o = distlab(&["sql", "run", path.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let st = v["statements"].as_array().unwrap();
    assert_eq!(st.len(), 6);
    assert_eq!(st[1]["line"], 4);
    assert_eq!(st[1]["sql"], "select * from t join u on true;");
    assert_eq!(st[1]["status"], "error");
    assert_eq!(st[1]["sqlstate"], "42601");
    let m = st[1]["message"].as_str().unwrap();
    assert!(m.starts_with("line 4, column 21: unsupported: JOIN"), "{m}");
    assert_eq!(st[2]["sqlstate"], "25P02", "the block is aborted");
    assert_eq!(st[3]["status"], "ok");
    assert_eq!(st[3]["command"], "ROLLBACK");
    assert_eq!(st[4]["sqlstate"], "42601");
    let m = st[4]["message"].as_str().unwrap();
    assert!(m.starts_with("line 7, column 5: syntax error"), "{m}");
    assert_eq!(st[5]["status"], "ok", "autocommit goes on after the error");
    assert_eq!(st[5]["rows"], serde_json::json!([[1, 10]]));
    assert_eq!(v["tables"]["t"], serde_json::json!([[1, 10]]));

    let o = distlab(&["sql", "run", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("→ ERROR 42601: line 4, column 21: unsupported: JOIN"),
        "{out}"
    );
    assert!(out.contains("→ ERROR 25P02"), "{out}");
    assert!(
        out.contains("→ ERROR 42601: line 7, column 5: syntax error"),
        "{out}"
    );
    assert!(out.contains("table t: (1, 10)"), "{out}");
}

#[test]
fn show_prints_an_isolation_step_and_its_challenge() {
    let o = distlab(&["lesson", "show", "isolation-levels", "--step", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("level: read uncommitted"), "{out}");
    assert!(out.contains("cursor: 4 of 7 statements submitted"), "{out}");
    assert!(out.contains("(1, alice, 400)"), "the dirty read: {out}");
    assert!(
        !out.contains("rollback"),
        "stops before T1 rolls back: {out}"
    );

    let o = distlab(&["lesson", "show", "isolation-levels", "--step", "12"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("challenge: run with no anomaly — not met by this script"),
        "{out}"
    );
    assert!(
        out.contains("[ ] No anomaly: the dependency graph has no cycle: write skew (G2-item)"),
        "{out}"
    );

    // Isolation lessons have no event trace; --json belongs to replication lessons.
    let o = distlab(&["run", "--lesson", "isolation-levels", "--step", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no event trace"), "{}", stderr(&o));
    let o = distlab(&[
        "lesson",
        "show",
        "isolation-levels",
        "--step",
        "1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sql run --json"), "{}", stderr(&o));
}
