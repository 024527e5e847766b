//! `distlab clocks analyze`, run as a user would: ShiViz logs in, counts, relations and
//! errors out.

use crate::common;

use common::{distlab, stderr, stdout, testdata};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;

fn temp_file(name: &str, text: &str) -> PathBuf {
    common::temp_file("clocks-test", name, text)
}

fn json(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// A sends to B, B sends to C; C's first event is local. Two executions.
const LOG: &str = "\
=== textbook ===
A sends
A {\"A\":1}
C local
C {\"C\":1}
B receives
B {\"A\":1, \"B\":1}
B sends
B {\"A\":1, \"B\":2}
C receives
C {\"A\":1, \"B\":2, \"C\":2}

=== alone ===
x1
X {\"X\":1}
";

#[test]
fn text_report() {
    let path = temp_file("textbook.log", LOG);
    let o = distlab(&[
        "clocks",
        "analyze",
        path.to_str().unwrap(),
        "--pair",
        "A:1",
        "C:2",
        "--pair",
        "line:4",
        "B:2",
        "--pair",
        "C:2",
        "line:3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "execution \"textbook\"; other executions (--execution NAME): \"alone\""
    );
    assert_eq!(lines[1], "hosts: 3");
    assert_eq!(lines[2], "  A  1 event");
    assert_eq!(lines[3], "  C  2 events");
    assert!(out.contains("\nevents: 5\n"), "{out}");
    assert!(out.contains("\nmessages: 2 (inferred"), "{out}");
    assert!(out.contains("  A:1 (line 2) → B:1 (line 6)\n"), "{out}");
    assert!(out.contains("  B:2 (line 8) → C:2 (line 10)\n"), "{out}");
    assert!(
        out.contains("\nconcurrent pairs: 3 of 10 event pairs\n"),
        "{out}"
    );
    assert!(out.contains("  C:1 (line 4) ∥ B:2 (line 8)\n"), "{out}");
    assert!(
        out.contains(
            "pair A:1 (line 2) and C:2 (line 10): before\n  A:1 → C:2: a chain of messages"
        ),
        "{out}"
    );
    assert!(
        out.contains("pair C:1 (line 4) and B:2 (line 8): concurrent\n  C:1 ∥ B:2: concurrent"),
        "{out}"
    );
    assert!(
        out.contains("pair C:2 (line 10) and A:1 (line 2): after\n  A:1 → C:2:"),
        "{out}"
    );
}

#[test]
fn json_report_and_executions() {
    let path = temp_file("textbook-json.log", LOG);
    let file = path.to_str().unwrap();
    let v = json(&distlab(&[
        "clocks", "analyze", file, "--json", "--pair", "C:1", "B:2", "--pair", "B:1", "line:6",
    ]));
    assert_eq!(v["execution"], "textbook");
    assert_eq!(v["executions"], serde_json::json!(["textbook", "alone"]));
    assert_eq!(v["hosts"], 3);
    assert_eq!(v["host_names"], serde_json::json!(["A", "C", "B"]));
    assert_eq!(v["events_per_host"], serde_json::json!([1, 2, 2]));
    assert_eq!(v["events"], 5);
    assert_eq!(v["messages"], 2);
    assert_eq!(v["message_list"][1]["from"], "B:2");
    assert_eq!(v["message_list"][1]["to_line"], 10);
    assert_eq!(v["event_pairs"], 10);
    assert_eq!(v["concurrent_pairs"], 3);
    let pairs = v["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0]["a"], "C:1");
    assert_eq!(pairs[0]["b"], "B:2");
    assert_eq!(pairs[0]["relation"], "concurrent");
    assert!(pairs[0]["explanation"]
        .as_str()
        .unwrap()
        .contains("[0, 1, 0] and [1, 0, 2]"));
    assert_eq!(pairs[1]["relation"], "same");
    let v = json(&distlab(&[
        "clocks",
        "analyze",
        file,
        "--json",
        "--execution",
        "alone",
    ]));
    assert_eq!(v["execution"], "alone");
    assert_eq!(v["host_names"], serde_json::json!(["X"]));
    assert_eq!(v["events"], 1);
    assert_eq!(v["concurrent_pairs"], 0);
    let o = distlab(&["clocks", "analyze", file, "--execution", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("no execution \"nope\"") && stderr(&o).contains("\"alone\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn custom_regex() {
    let path = temp_file(
        "one-line.log",
        "client \"hello\" {\"client\":1}\nserver \"got it\" {\"client\":1, \"server\":1}\n",
    );
    let file = path.to_str().unwrap();
    let v = json(&distlab(&[
        "clocks",
        "analyze",
        file,
        "--json",
        "--regex",
        r#"(?<host>\w+) "(?<event>.*)" (?<clock>{.*})"#,
    ]));
    assert_eq!(v["messages"], 1);
    assert_eq!(v["host_names"], serde_json::json!(["client", "server"]));
    // The default regex cannot read it.
    let o = distlab(&["clocks", "analyze", file]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn invalid_logs_and_names_are_bad_input() {
    let path = temp_file("bad.log", "a1\na {\"a\":1}\nb1\nb {\"b\":1, \"a\":2}\n");
    let file = path.to_str().unwrap();
    let o = distlab(&["clocks", "analyze", file]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).starts_with(&format!(
            "distlab: {file}: line 4: event b:1 has seen 2 events of \"a\""
        )),
        "{}",
        stderr(&o)
    );
    let path = temp_file("good.log", "a1\na {\"a\":1}\n");
    let file = path.to_str().unwrap();
    for (pair, why) in [
        (["a:2", "a:1"], "host \"a\" has 1 event: n must be 1–1"),
        (["b:1", "a:1"], "no host \"b\""),
        (["line:9", "a:1"], "no event is written on line 9"),
        (["a", "a:1"], "name an event as host:n"),
    ] {
        let o = distlab(&["clocks", "analyze", file, "--pair", pair[0], pair[1]]);
        assert_eq!(o.status.code(), Some(2), "{pair:?}");
        assert!(stderr(&o).contains(why), "{pair:?}: {}", stderr(&o));
    }
    let o = distlab(&["clocks", "analyze", "/nonexistent/log"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

/// ShiViz's facebook.log (../shared/testdata/shiviz), when present.
#[test]
fn facebook_log_counts() {
    let Some(path) = testdata("shiviz/facebook.log") else {
        return;
    };
    let file = path.to_str().unwrap();
    let v = json(&distlab(&[
        "clocks", "analyze", file, "--json", "--pair", "alice:1", "westDC:2",
    ]));
    assert_eq!(v["hosts"], 4);
    assert_eq!(v["events"], 47);
    assert_eq!(v["event_pairs"], 1081);
    assert_eq!(v["concurrent_pairs"], 68);
    assert_eq!(v["pairs"][0]["relation"], "concurrent");
    let o = distlab(&["clocks", "analyze", file]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("concurrent pairs: 68 of 1081 event pairs"));
}
