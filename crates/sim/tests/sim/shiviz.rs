//! ShiViz logs: the real logs from ShiViz's repository (../shared/testdata/shiviz, when
//! present), every validation error on small inline logs with its exact line, message
//! inference, and export → import round trips of random simulated runs.

use crate::common;

use common::{build, cases, schedule, spec, Faults, Modes};
use distlab_sim::causality::shiviz::{export, parse, Execution, LogError, Message};
use distlab_sim::causality::{Causality, Relation};
use distlab_sim::diagram::{Diagram, Outcome};
use distlab_sim::engine::{Engine, NodeInfo, NodeRole};
use proptest::prelude::*;
use std::path::PathBuf;

/// A log from the shared test data, or `None` (with a clear note) when it is absent.
fn testdata(name: &str) -> Option<String> {
    let path = std::env::var("DISTLAB_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
        .join("shiviz")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!(
                "testdata absent: skipping ({} not found; set DISTLAB_TESTDATA)",
                path.display()
            );
            None
        }
    }
}

fn one(text: &str) -> Execution {
    let mut execs = parse(text, None).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(execs.len(), 1);
    execs.remove(0)
}

fn error(text: &str) -> LogError {
    match parse(text, None) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// The clocks computed from the inferred messages are the log's own clocks.
fn assert_clocks_agree(x: &Execution) {
    let c = x.causality();
    assert_eq!(c.len(), x.events.len());
    for e in 0..x.events.len() {
        assert_eq!(
            c.vector[x.position(e)],
            x.vector(e),
            "event {} (line {})",
            x.name_of(e),
            x.events[e].line
        );
        assert_eq!(c.events[x.position(e)].node, x.events[e].host);
    }
}

fn concurrent_pairs(x: &Execution) -> (usize, usize) {
    let c = x.causality();
    let n = c.len();
    (c.concurrent_pairs(), n * (n - 1) / 2)
}

#[test]
fn facebook_log() {
    let Some(text) = testdata("facebook.log") else {
        return;
    };
    let x = one(&text);
    assert_eq!(x.name, "");
    assert_eq!(x.hosts, ["alice", "loadBalancer", "eastDC", "westDC"]);
    assert_eq!(x.events.len(), 47);
    assert_eq!(concurrent_pairs(&x), (68, 1_081));
    assert_clocks_agree(&x);
    // Typographic quotes survive.
    assert!(
        x.events[2].text.contains("status=“Breakfast”"),
        "{:?}",
        x.events[2]
    );
    assert_eq!((x.events[2].line, x.events[2].clock_line), (5, 6));
    // alice's second event: the timeline comes from eastDC's 6th event (directly), not from
    // the load balancer or westDC, whose events eastDC had already seen.
    let alice2 = x.event("alice", 2).unwrap();
    let from: Vec<String> = x
        .messages
        .iter()
        .filter(|m| m.to == alice2)
        .map(|m| x.name_of(m.from))
        .collect();
    assert_eq!(from, ["eastDC:6"]);
    // The diagram has the same causality.
    let d = x.diagram();
    assert_eq!(Causality::of_diagram(&d), x.causality());
}

#[test]
fn multiple_comparison_log() {
    let Some(text) = testdata("multiple-comparison.log") else {
        return;
    };
    let execs = parse(&text, None).unwrap();
    let names: Vec<&str> = execs.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names[0], "Base execution");
    assert_eq!(names[1], "Same as base");
    assert!(names.len() >= 5, "{names:?}");
    let base = &execs[0];
    assert_eq!(base.line, 1);
    assert_eq!(base.hosts, ["mountainView", "paloAlto"]);
    assert_eq!(base.events.len(), 8);
    assert_eq!(concurrent_pairs(base), (1, 28));
    let c = base.causality();
    let (a, b) = (
        base.event("mountainView", 2).unwrap(),
        base.event("paloAlto", 3).unwrap(),
    );
    assert_eq!(
        c.relation(base.position(a), base.position(b)),
        Relation::Concurrent
    );
    for x in &execs {
        assert!(!x.events.is_empty());
        assert_clocks_agree(x);
    }
    // "Same as base" is the same execution on other lines.
    assert_eq!(execs[1].events.len(), 8);
    assert_eq!(execs[1].messages, base.messages);
}

/// The textbook three-process run (A sends to B, B to C; C has a local event first) with
/// blank lines, typographic quotes, Windows line endings and zero entries.
const THREE: &str = "A sends “hello”\r\nA {\"A\":1}\r\n\r\nC local\r\nC {\"C\":1, \"A\": 0}\r\nB receives\r\nB {\"A\":1, \"B\":1}\r\nB sends\r\nB {\"A\":1, \"B\":2}\r\n\r\nC receives\r\nC {\"A\":1,\"B\":2,\"C\":2}\r\n";

#[test]
fn three_processes() {
    let x = one(THREE);
    assert_eq!(x.hosts, ["A", "C", "B"]);
    assert_eq!(x.events[0].text, "A sends “hello”");
    let lines: Vec<(usize, usize)> = x.events.iter().map(|e| (e.line, e.clock_line)).collect();
    assert_eq!(lines, [(1, 2), (4, 5), (6, 7), (8, 9), (11, 12)]);
    assert_eq!(x.events[1].clock.get("A"), Some(&0));
    assert_eq!(
        x.messages,
        [Message { from: 0, to: 2 }, Message { from: 3, to: 4 }]
    );
    assert_eq!(x.event("C", 2), Some(4));
    assert_eq!(x.event("C", 3), None);
    assert_eq!(x.event("D", 1), None);
    assert_eq!(x.event_on_line(8), Some(3));
    assert_eq!(x.event_on_line(9), Some(3));
    assert_eq!(x.event_on_line(10), None);
    assert_clocks_agree(&x);
    let d = x.diagram();
    let kinds: Vec<(&str, &str, u64)> = d
        .marks
        .iter()
        .map(|m| (m.label.as_str(), m.kind, m.time))
        .collect();
    assert_eq!(
        kinds,
        [
            ("A sends “hello”", "send", 1),
            ("C local", "local", 1),
            ("B receives", "deliver", 2),
            ("B sends", "send", 3),
            ("C receives", "deliver", 4),
        ]
    );
    assert_eq!(d.end_time, 4);
    assert_eq!(d.nodes[2].name, "B");
    assert_eq!(d.nodes[2].role, NodeRole::Server);
    assert!(d.marks.iter().enumerate().all(|(i, m)| m.step == i));
    assert!(d.marks[4]
        .details
        .contains(&("receives from".to_string(), "B:2".to_string())));
    assert!(d.marks[4]
        .details
        .contains(&("line".to_string(), "11".to_string())));
    assert_eq!(d.arrows.len(), 2);
    assert_eq!((d.arrows[1].from, d.arrows[1].to), (2, 1));
    assert_eq!(d.arrows[1].outcome, Outcome::Delivered { at: 4, step: 4 });
    assert_eq!(Causality::of_diagram(&d), x.causality());
}

/// Host b hears of a:1 through c before b's own receive: only the direct sender is drawn.
#[test]
fn messages_come_from_the_direct_sender_only() {
    let log = "\
a1
a {\"a\":1}
c1
c {\"a\":1, \"c\":1}
b1
b {\"a\":1, \"b\":1, \"c\":1}
";
    let x = one(log);
    let names: Vec<(String, String)> = x
        .messages
        .iter()
        .map(|m| (x.name_of(m.from), x.name_of(m.to)))
        .collect();
    assert_eq!(
        names,
        [
            ("a:1".to_string(), "c:1".to_string()),
            ("c:1".to_string(), "b:1".to_string())
        ]
    );
    assert_clocks_agree(&x);
}

/// An event may receive from several hosts at once when neither sender saw the other.
#[test]
fn an_event_may_receive_from_two_senders() {
    let log = "a1\na {\"a\":1}\nb1\nb {\"b\":1}\nc1\nc {\"a\":1, \"b\":1, \"c\":1}\n";
    let x = one(log);
    assert_eq!(
        x.messages,
        [Message { from: 0, to: 2 }, Message { from: 1, to: 2 }]
    );
    assert_clocks_agree(&x);
}

/// As in ShiViz, a host's events are ordered by their own clock entry, not by file order.
#[test]
fn a_hosts_events_are_ordered_by_their_own_entry() {
    let log = "a2\na {\"a\":2}\na1\na {\"a\":1}\n";
    let x = one(log);
    assert_eq!(x.host_events(0), [1, 0]);
    assert_eq!(x.order(), [1, 0]);
    assert_eq!(x.name_of(0), "a:2");
}

#[test]
fn custom_regex_with_fields() {
    // The one-line format of ShiViz's "hello" example, with a date field.
    let log = "\
2024-01-01 client1 \"message 1 sent\" {\"client1\":1}
2024-01-02 server \"message 1 received\" {\"client1\":1, \"server\":1}
garbage-free
";
    let re = r#"(?<date>\S+) (?<host>\w+) "(?<event>.*)" (?<clock>{.*})"#;
    let e = parse(log, Some(re)).unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("does not match here"), "{e}");
    let log = &log[..log.find("garbage").unwrap()];
    let x = parse(log, Some(re)).unwrap().remove(0);
    assert_eq!(x.hosts, ["client1", "server"]);
    assert_eq!(x.events[1].text, "message 1 received");
    assert_eq!(
        x.events[1].fields,
        [("date".to_string(), "2024-01-02".to_string())]
    );
    assert_eq!((x.events[1].line, x.events[1].clock_line), (2, 2));
    assert_eq!(x.messages, [Message { from: 0, to: 1 }]);
    // The (?P<name>) spelling and counted repetitions still work.
    let re = r"(?P<host>[a-z]{2,}[0-9]) (?P<clock>\{.*\})\n(?P<event>.*)";
    let log = "ab1 {\"ab1\":1}\nstart\nab1 {\"ab1\":2}\nstop\n";
    let x = parse(log, Some(re)).unwrap().remove(0);
    assert_eq!(x.events[1].text, "stop");
    assert_eq!((x.events[1].line, x.events[1].clock_line), (4, 3));
}

#[test]
fn regex_errors() {
    let e = parse(
        "x\na {\"a\":1}\n",
        Some(r"(?<event>.*)\n(?<hots>\S*) (?<clock>{.*})"),
    )
    .unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.message.contains("no named group \"host\""), "{e}");
    assert!(
        e.message.contains("its named groups: event, hots, clock"),
        "{e}"
    );
    assert_eq!(e.to_string(), e.message);
    let e = parse("x", Some(r"(?<event>.*")).unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.message.contains("is invalid"), "{e}");
}

/// `log` is rejected at `line` with a message containing each of `says`.
fn rejects(log: &str, line: usize, says: &[&str]) -> LogError {
    let e = error(log);
    assert_eq!(e.line, line, "{e}");
    for s in says {
        assert!(e.message.contains(s), "{e}\nlacks: {s}");
    }
    e
}

#[test]
fn executions_are_named_and_must_have_events() {
    let log = "=== one ===\na1\na {\"a\":1}\n\n=== two ===\nb1\nb {\"b\":1}\n";
    let execs = parse(log, None).unwrap();
    let names: Vec<(&str, usize)> = execs.iter().map(|x| (x.name.as_str(), x.line)).collect();
    assert_eq!(names, [("one", 1), ("two", 5)]);
    assert_eq!(execs[1].events[0].line, 6);
    let e = rejects("=== one ===\na1\na {\"a\":1}\n=== empty ===\n\n", 4, &[]);
    assert_eq!(e.to_string(), "line 4: execution \"empty\" has no events");
    let twice = "=== one ===\na1\na {\"a\":1}\n=== one ===\nb1\nb {\"b\":1}\n";
    rejects(
        twice,
        4,
        &["second execution named \"one\" (the first starts at line 1)"],
    );
    assert_eq!(error("").to_string(), "line 1: the log has no events");
    rejects("\n  \n", 1, &["no events"]);
}

#[test]
fn text_outside_any_event_is_an_error() {
    // "stray line" is read as an event line, but its next line is no clock line.
    let log = "a1\na {\"a\":1}\nstray line\n\na2\na {\"a\":2}\n";
    rejects(log, 3, &["\"stray line\" is not part of any event"]);
    rejects("a1\na {\"a\":1} trailing\n", 2, &["\"trailing\""]);
}

#[test]
fn malformed_json() {
    let log = "a1\na {\"a\":1}\na2\na {\"a\":2,}\n";
    rejects(
        log,
        4,
        &["{\"a\":2,} is not valid JSON: trailing comma at column 10"],
    );
    // A clock over two lines (a custom regex allows it): the error is on its second line.
    let log = "a1\na {\"a\":1}\nb1\nb {\"b\":1,\n  \"a\" 1}\n";
    let re = r"(?<event>.*)\n(?<host>\S*) (?<clock>\{[^}]*\})";
    let e = parse(log, Some(re)).unwrap_err();
    assert_eq!(e.line, 5, "{e}");
    assert!(e.message.contains("expected `:` at column 7"), "{e}");
    rejects("a1\na {\"a\":1, \"b\":-1}\n", 2, &["entry for \"b\" is -1"]);
    rejects("a1\na {\"a\":1.5}\n", 2, &["whole number"]);
    rejects("a1\na {}x{}\n", 2, &["is not valid JSON"]);
}

#[test]
fn missing_own_entry() {
    let log = "a1\na {\"a\":1}\nb1\nb {\"a\":1}\n";
    rejects(
        log,
        4,
        &["no entry for the event's own host \"b\"", "entries for a"],
    );
}

#[test]
fn own_entry_must_start_at_1_and_step_by_1() {
    let log = "a1\na {\"a\":1}\nb2\nb {\"b\":2}\n";
    rejects(
        log,
        4,
        &["the first event of host \"b\" has 2 as its own clock entry"],
    );
    rejects(
        "a1\na {\"a\":1}\na3\na {\"a\":3}\n",
        4,
        &["goes from 1 (line 2) to 3"],
    );
    let twice = "a1\na {\"a\":1}\na1 again\na {\"a\":1}\n";
    rejects(twice, 4, &["goes from 1 (line 2) to 1"]);
}

#[test]
fn entries_for_other_hosts_never_go_down() {
    let log =
        "b1\nb {\"b\":1}\nb2\nb {\"b\":2}\na1\na {\"a\":1,\"b\":2}\na2\na {\"a\":2,\"b\":1}\n";
    let says = "entry for \"b\" goes down from 2 (at a's previous event, line 6) to 1";
    rejects(log, 8, &[says]);
}

#[test]
fn clocks_must_refer_to_existing_events_of_known_hosts() {
    let log = "a1\na {\"a\":1}\nb1\nb {\"b\":1,\"a\":2}\n";
    rejects(
        log,
        4,
        &["has seen 2 events of \"a\", but \"a\" has only 1"],
    );
    let log = "a1\na {\"a\":1}\nb1\nb {\"b\":1,\"zed\":1}\n";
    rejects(log, 4, &["\"zed\", which has no events"]);
    let log = "a1\na {\"a\":1}\nb1\nb {\"b\":1,\"a\":18446744073709551615}\n";
    rejects(log, 4, &["has seen 18446744073709551615 events of \"a\""]);
    // A zero entry for an unknown host is harmless.
    one("a1\na {\"a\":1,\"zed\":0}\n");
}

#[test]
fn clocks_must_be_transitive() {
    // b:1 has seen c:1, so a:1, having seen b:1, must have seen c:1 too.
    let log = "c1\nc {\"c\":1}\nb1\nb {\"b\":1,\"c\":1}\na1\na {\"a\":1,\"b\":1}\n";
    let says = [
        "event a:1 has seen b:1 (line 4), so it must have seen everything",
        "b:1 has c: 1 where a:1 has c: 0",
    ];
    rejects(log, 6, &says);
    // Having seen an event that saw this host's future.
    let log = "a1\na {\"a\":1,\"b\":1}\na2\na {\"a\":2,\"b\":1}\nb1\nb {\"b\":1,\"a\":2}\n";
    rejects(log, 2, &["b:1 has a: 2 where a:1 has a: 1"]);
}

#[test]
fn causal_cycles() {
    let log = "a1\na {\"a\":1,\"b\":1}\nb1\nb {\"b\":1,\"a\":1}\n";
    rejects(log, 2, &["causal cycle: event a:1 has seen b:1 (line 4)"]);
    // Three events that each saw the other two (no message could be inferred among them).
    let all = "{\"a\":1,\"b\":1,\"c\":1}";
    let log = format!("a1\na {all}\nb1\nb {all}\nc1\nc {all}\n");
    rejects(&log, 2, &["causal cycle"]);
}

fn node(name: &str) -> NodeInfo {
    NodeInfo {
        name: name.into(),
        role: NodeRole::Server,
        place: None,
        clock: Default::default(),
    }
}

/// Labels and names that ShiViz's regex would misread are made readable.
#[test]
fn export_makes_labels_and_names_readable() {
    let x = one("s1\ns {\"s\":1}\nt1\nt {\"t\":1, \"s\":1}\nt2\nt {\"t\":2, \"s\":1}\nt3\nt {\"t\":3, \"s\":1}\n");
    let mut d = x.diagram();
    d.nodes = vec![node("node a"), node("node_a")];
    d.marks[0].label = "two\nlines".into();
    d.marks[1].label = "word {\"looks\": \"like a clock\"}".into();
    d.marks[2].label = "=== not a delimiter ===".into();
    d.marks[3].label = String::new();
    let c = Causality::of_diagram(&d);
    let text = export(&d, &c, Some("run\n1"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "=== run 1 ===");
    assert_eq!(lines[1], "two lines");
    assert_eq!(lines[2], "node_a {\"node_a\":1}");
    assert_eq!(lines[3], "word\u{a0}{\"looks\": \"like a clock\"}");
    assert_eq!(lines[4], "node_a-1 {\"node_a-1\":1,\"node_a\":1}");
    assert_eq!(lines[5], "===\u{a0}not a delimiter ===");
    assert_eq!(lines[7], "");
    let y = parse(&text, None).unwrap().remove(0);
    assert_eq!(y.name, "run 1");
    assert_eq!(y.hosts, ["node_a", "node_a-1"]);
    assert_eq!(y.events[0].text, "two lines");
    assert_eq!(y.events[3].text, "");
    assert_eq!(y.messages, x.messages);
    assert_clocks_agree(&y);
}

/// Importing an exported imported log gives the same clocks.
#[test]
fn facebook_log_survives_export() {
    let Some(text) = testdata("facebook.log") else {
        return;
    };
    let x = one(&text);
    let d = x.diagram();
    let c = x.causality();
    let y = one(&export(&d, &c, None));
    assert_eq!(y.hosts.len(), 4);
    for (pos, &e) in x.order().iter().enumerate() {
        assert_eq!(y.events[pos].clock, x.events[e].clock);
        assert_eq!(y.events[pos].text, x.events[e].text);
    }
    assert_eq!(concurrent_pairs(&y), (68, 1_081));
}

proptest! {
    #![proptest_config(cases(32))]

    /// Any simulated run, exported and imported again, has the same happens-before relation
    /// for every pair of events, and its clocks are the ones the run computed.
    #[test]
    fn export_then_import_keeps_happens_before(
        spec in spec(Modes::Any, true),
        ops in schedule(Faults::ALL, 3, 6),
    ) {
        let engine = Engine::new(spec.setup(), build(&spec, &ops));
        let d = Diagram::build(&engine);
        let c = Causality::of_diagram(&d);
        let text = export(&d, &c, Some("simulated"));
        let execs = parse(&text, None).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(execs.len(), 1);
        let x = &execs[0];
        prop_assert_eq!(x.events.len(), c.len());
        let back = x.causality();
        for e in 0..c.len() {
            // The log lists events in the run's causal order, and imports keep it.
            prop_assert_eq!(x.position(e), e);
            let host = &x.hosts[x.events[e].host];
            prop_assert_eq!(host, &d.nodes[c.events[e].node].name);
            prop_assert_eq!(x.events[e].seq, c.events[e].seq);
            for (g, name) in x.hosts.iter().enumerate() {
                let n = d.nodes.iter().position(|i| &i.name == name).unwrap();
                prop_assert_eq!(back.vector[e].get(g), c.vector[e].get(n));
            }
        }
        for a in 0..c.len() {
            for b in 0..c.len() {
                prop_assert_eq!(back.relation(a, b), c.relation(a, b), "events {} {}", a, b);
            }
        }
        prop_assert_eq!(back.concurrent_pairs(), c.concurrent_pairs());
    }
}
