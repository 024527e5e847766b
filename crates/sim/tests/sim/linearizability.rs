//! The linearizability checker on small hand-written histories: each model, the classic
//! cases, explanations, errors, and every parser's line-numbered errors.

use distlab_sim::linearizability::parse::{parse, parse_json, to_json, Format};
use distlab_sim::linearizability::{
    check, detect, try_check, CheckError, History, Model, ModelSpec, Op, Operation, Outcome, Status,
};

/// Builds a history from (client, call, ret, status, op); ids by position.
fn h(ops: Vec<(u64, u64, Option<u64>, Status, Op)>) -> History {
    History {
        ops: ops
            .into_iter()
            .enumerate()
            .map(|(id, (client, call, ret, status, op))| Operation {
                id,
                client,
                call,
                ret,
                status,
                op,
                label: String::new(),
            })
            .collect(),
    }
}

fn r(v: Option<&str>) -> Op {
    Op::Read {
        key: None,
        value: v.map(str::to_string),
    }
}
fn w(v: &str) -> Op {
    Op::Write {
        key: None,
        value: v.to_string(),
    }
}
fn cas(a: &str, b: &str) -> Op {
    Op::Cas {
        key: None,
        from: a.to_string(),
        to: b.to_string(),
    }
}
fn kr(k: &str, v: &str) -> Op {
    Op::Read {
        key: Some(k.into()),
        value: Some(v.into()),
    }
}
fn kw(k: &str, v: &str) -> Op {
    Op::Write {
        key: Some(k.into()),
        value: v.into(),
    }
}
fn ka(k: &str, v: &str) -> Op {
    Op::Append {
        key: Some(k.into()),
        value: v.into(),
    }
}
fn add(v: &str) -> Op {
    Op::Add {
        key: None,
        value: v.into(),
    }
}
fn rm(v: &str) -> Op {
    Op::Remove {
        key: None,
        value: v.into(),
    }
}
fn rs(vs: &[&str]) -> Op {
    Op::ReadSet {
        key: None,
        values: vs.iter().map(|s| s.to_string()).collect(),
    }
}

use Status::{Fail, Info, Ok as OK};

fn outcome(hist: &History, model: Model) -> Outcome {
    check(hist, &ModelSpec::new(model), None).outcome
}

#[test]
fn stale_read_after_completed_write_is_rejected() {
    let hist = h(vec![
        (1, 0, Some(10), OK, w("1")),
        (2, 20, Some(30), OK, r(None)),
    ]);
    let v = check(&hist, &ModelSpec::new(Model::Register), None);
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    let e = v.explanation.unwrap();
    assert_eq!(e.linearized, vec![0]);
    assert_eq!(e.states, vec!["1".to_string()]);
    assert_eq!(e.blocked, 1);
    assert!(
        e.text
            .contains("client 2's read → nil (called t=20, returned t=30)"),
        "{}",
        e.text
    );
    // Reading the written value is fine.
    let ok = h(vec![
        (1, 0, Some(10), OK, w("1")),
        (2, 20, Some(30), OK, r(Some("1"))),
    ]);
    assert_eq!(outcome(&ok, Model::Register), Outcome::Linearizable);
}

#[test]
fn concurrent_write_and_read_may_see_either() {
    for seen in [None, Some("1")] {
        let hist = h(vec![
            (1, 0, Some(10), OK, w("1")),
            (2, 5, Some(15), OK, r(seen)),
        ]);
        assert_eq!(
            outcome(&hist, Model::Register),
            Outcome::Linearizable,
            "{seen:?}"
        );
    }
    // But not a value nobody wrote.
    let hist = h(vec![
        (1, 0, Some(10), OK, w("1")),
        (2, 5, Some(15), OK, r(Some("2"))),
    ]);
    assert_eq!(outcome(&hist, Model::Register), Outcome::NotLinearizable);
}

#[test]
fn reads_cannot_go_back_in_time() {
    // w1 then w2 concurrent with two sequential reads seeing 2 then 1: impossible.
    let hist = h(vec![
        (1, 0, Some(5), OK, w("1")),
        (1, 10, Some(100), OK, w("2")),
        (2, 20, Some(30), OK, r(Some("2"))),
        (3, 40, Some(50), OK, r(Some("1"))),
    ]);
    let v = check(&hist, &ModelSpec::new(Model::Register), None);
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    assert_eq!(v.explanation.unwrap().blocked, 3);
}

#[test]
fn info_write_may_or_may_not_take_effect() {
    for (seen, later) in [(Some("1"), Some("1")), (None, None), (None, Some("1"))] {
        let hist = h(vec![
            (1, 0, None, Info, w("1")),
            (2, 10, Some(20), OK, r(seen)),
            (3, 30, Some(40), OK, r(later)),
        ]);
        assert_eq!(
            outcome(&hist, Model::Register),
            Outcome::Linearizable,
            "{seen:?} {later:?}"
        );
    }
    // Once seen, it has happened: a later read cannot see nil again.
    let hist = h(vec![
        (1, 0, None, Info, w("1")),
        (2, 10, Some(20), OK, r(Some("1"))),
        (3, 30, Some(40), OK, r(None)),
    ]);
    assert_eq!(outcome(&hist, Model::Register), Outcome::NotLinearizable);
    // An info op with a return time is still indeterminate (infinite return).
    let hist = h(vec![
        (1, 0, Some(5), Info, w("1")),
        (2, 10, Some(20), OK, r(None)),
        (3, 30, Some(40), OK, r(Some("1"))),
    ]);
    assert_eq!(outcome(&hist, Model::Register), Outcome::Linearizable);
}

#[test]
fn info_reads_constrain_nothing() {
    let hist = h(vec![
        (1, 0, Some(5), OK, w("1")),
        (2, 10, None, Info, r(Some("7"))),
    ]);
    let v = check(&hist, &ModelSpec::new(Model::Register), None);
    assert_eq!(v.outcome, Outcome::Linearizable);
    assert_eq!(v.partitions[0].ops, 1);
}

#[test]
fn failed_cas_is_dropped_and_ok_cas_must_match() {
    let spec = ModelSpec::with_initial(Model::CasRegister, "0");
    let hist = h(vec![
        (1, 0, Some(5), Fail, cas("0", "9")),
        (2, 10, Some(20), OK, r(Some("0"))),
        (3, 30, Some(40), OK, cas("0", "4")),
        (1, 50, Some(60), OK, r(Some("4"))),
    ]);
    assert_eq!(check(&hist, &spec, None).outcome, Outcome::Linearizable);
    assert_eq!(check(&hist, &spec, None).partitions[0].ops, 3);
    // A successful cas whose `from` cannot be the value.
    let bad = h(vec![(1, 0, Some(5), OK, cas("1", "2"))]);
    let v = check(&bad, &spec, None);
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    assert_eq!(v.explanation.unwrap().linearized, Vec::<usize>::new());
    // From nil (Porcupine's etcd convention) the same cas 0→4 is impossible.
    let hist = h(vec![(3, 30, Some(40), OK, cas("0", "4"))]);
    assert_eq!(outcome(&hist, Model::CasRegister), Outcome::NotLinearizable);
    // An indeterminate cas takes effect if it can.
    let hist = h(vec![
        (1, 0, Some(5), OK, w("0")),
        (2, 10, None, Info, cas("0", "4")),
        (3, 20, Some(30), OK, r(Some("4"))),
    ]);
    assert_eq!(outcome(&hist, Model::CasRegister), Outcome::Linearizable);
}

#[test]
fn kv_absent_key_reads_empty_and_append_concatenates() {
    let hist = h(vec![
        (1, 0, Some(5), OK, kr("x", "")),
        (1, 10, Some(15), OK, ka("x", "a")),
        (2, 12, Some(30), OK, ka("x", "b")),
        (3, 40, Some(45), OK, kr("x", "ab")),
        (3, 50, Some(55), OK, kw("y", "z")),
        (3, 60, Some(65), OK, kr("y", "z")),
    ]);
    let v = check(&hist, &ModelSpec::new(Model::Kv), None);
    assert_eq!(v.outcome, Outcome::Linearizable);
    assert_eq!(v.partitions.len(), 2);
    assert_eq!(v.partitions[0].key.as_deref(), Some("x"));
    assert_eq!(v.partitions[0].ops, 4);
    // Appends in the wrong order.
    let hist = h(vec![
        (1, 0, Some(5), OK, ka("x", "a")),
        (2, 10, Some(15), OK, ka("x", "b")),
        (3, 20, Some(25), OK, kr("x", "ba")),
        (3, 30, Some(35), OK, kr("y", "")),
    ]);
    let v = check(&hist, &ModelSpec::new(Model::Kv), None);
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    let e = v.explanation.unwrap();
    assert_eq!(e.key.as_deref(), Some("x"));
    assert_eq!(e.blocked, 2);
    assert_eq!(e.states, vec!["\"a\"".to_string(), "\"ab\"".to_string()]);
    // Key y's search was stopped once x failed (as Porcupine stops its partitions).
    assert_eq!(v.partitions[1].outcome, Outcome::Unknown);
}

#[test]
fn set_reads_compare_as_sets() {
    let hist = h(vec![
        (1, 0, Some(5), OK, add("1")),
        (2, 2, Some(8), OK, add("2")),
        (3, 10, Some(12), OK, rs(&["2", "1"])),
        (3, 3, Some(4), OK, rs(&[])),
    ]);
    assert_eq!(outcome(&hist, Model::Set), Outcome::Linearizable);
    // A read that misses an add completed before it began.
    let hist = h(vec![
        (1, 0, Some(5), OK, add("1")),
        (3, 10, Some(12), OK, rs(&[])),
    ]);
    assert_eq!(outcome(&hist, Model::Set), Outcome::NotLinearizable);
    // An element never added.
    let hist = h(vec![
        (1, 0, Some(5), OK, add("1")),
        (3, 10, Some(12), OK, rs(&["1", "3"])),
    ]);
    let v = check(&hist, &ModelSpec::new(Model::Set), None);
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    assert_eq!(
        v.explanation.as_ref().unwrap().states,
        vec!["{1}".to_string()]
    );
}

/// Removal (a shopping cart's): a read after a completed remove must not see the element;
/// a read concurrent with it may see either; sets with keys are checked key by key.
#[test]
fn set_removes_and_keyed_sets() {
    let hist = h(vec![
        (1, 0, Some(5), OK, add("1")),
        (1, 6, Some(9), OK, rm("1")),
        (2, 7, Some(12), OK, rs(&["1"])),
        (3, 10, Some(14), OK, rs(&[])),
    ]);
    assert_eq!(outcome(&hist, Model::Set), Outcome::Linearizable);
    let hist = h(vec![
        (1, 0, Some(5), OK, add("1")),
        (1, 6, Some(9), OK, rm("1")),
        (3, 10, Some(14), OK, rs(&["1"])),
    ]);
    assert_eq!(outcome(&hist, Model::Set), Outcome::NotLinearizable);
    // Two carts: each read sees only its own cart's items.
    let keyed = |k: &str, op: Op| match op {
        Op::Add { value, .. } => Op::Add {
            key: Some(k.into()),
            value,
        },
        Op::ReadSet { values, .. } => Op::ReadSet {
            key: Some(k.into()),
            values,
        },
        o => o,
    };
    let hist = h(vec![
        (1, 0, Some(5), OK, keyed("a", add("1"))),
        (2, 0, Some(5), OK, keyed("b", add("2"))),
        (3, 10, Some(14), OK, keyed("a", rs(&["1"]))),
        (3, 15, Some(19), OK, keyed("b", rs(&["2"]))),
    ]);
    let v = check(&hist, &ModelSpec::new(Model::Set), None);
    assert_eq!(v.outcome, Outcome::Linearizable);
    assert_eq!(v.partitions.len(), 2);
}

#[test]
fn unsupported_ops_and_bad_times_are_errors_not_panics() {
    let hist = h(vec![(1, 0, Some(5), OK, cas("0", "1"))]);
    let spec = ModelSpec::new(Model::Register);
    assert!(matches!(
        try_check(&hist, &spec, None),
        Err(CheckError::Unsupported { id: 0, .. })
    ));
    let v = check(&hist, &spec, None);
    assert_eq!(v.outcome, Outcome::Unknown);
    assert!(v
        .error
        .unwrap()
        .contains("not an operation of the register model"));
    assert!(try_check(&hist, &ModelSpec::new(Model::Set), None).is_err());
    let hist = h(vec![(1, 10, Some(5), OK, w("1"))]);
    assert!(matches!(
        try_check(&hist, &spec, None),
        Err(CheckError::ReturnBeforeCall {
            id: 0,
            call: 10,
            ret: 5
        })
    ));
    // The empty history.
    assert_eq!(
        outcome(&History::default(), Model::Kv),
        Outcome::Linearizable
    );
}

#[test]
fn budget_gives_unknown() {
    let mut ops = Vec::new();
    for i in 0..12u64 {
        ops.push((i, 0, Some(100), OK, w(&i.to_string())));
    }
    ops.push((99, 200, Some(300), OK, r(Some("zzz"))));
    let hist = h(ops);
    let spec = ModelSpec::new(Model::Register);
    assert_eq!(check(&hist, &spec, Some(5)).outcome, Outcome::Unknown);
    let v = check(&hist, &spec, None);
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    assert_eq!(v.explanation.unwrap().blocked, 12);
}

#[test]
fn json_serializes_the_verdict_shape() {
    let hist = h(vec![
        (1, 0, Some(10), OK, w("1")),
        (2, 20, Some(30), OK, r(None)),
    ]);
    let v = check(&hist, &ModelSpec::new(Model::Register), None);
    let j = serde_json::to_value(&v).unwrap();
    assert_eq!(j["outcome"], "not-linearizable");
    assert_eq!(j["partitions"][0]["key"], serde_json::Value::Null);
    assert_eq!(j["explanation"]["blocked"], 1);
    assert_eq!(j["explanation"]["linearized"][0], 0);
}

// ---- parsers ----

#[test]
fn edn_vector_and_lines_with_pairing() {
    let vector = "; comment\n[{:process 0, :type :invoke, :f :write, :value 1}\n {:process 1, :type :invoke, :f :read, :value nil}\n {:process 0, :type :ok, :f :write, :value 1}\n {:process :nemesis, :type :info, :f :start, :value nil}\n {:process 1, :type :ok, :f :read, :value 1}\n {:process 2, :type :invoke, :f :cas, :value [1 2]}\n {:process 2, :type :info, :f :cas, :value [1 2]}]\n";
    let hist = parse(vector, Format::Edn).unwrap();
    assert_eq!(hist.ops.len(), 3);
    assert_eq!(hist.ops[0].op, w("1"));
    assert_eq!((hist.ops[0].call, hist.ops[0].ret), (2, Some(4)));
    assert_eq!(hist.ops[1].op, r(Some("1")));
    assert_eq!(hist.ops[2].op, cas("1", "2"));
    assert_eq!((hist.ops[2].status, hist.ops[2].ret), (Info, None));
    // One map per line, and a pending op at the end becomes indeterminate.
    let lines = "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n{:process 5, :type :invoke, :f :write, :value 2}\n";
    let hist = parse(lines, Format::Edn).unwrap();
    assert_eq!(hist.ops.len(), 2);
    assert_eq!((hist.ops[1].status, hist.ops[1].ret), (Info, None));
    // All on one line: times are positions.
    let one =
        "[{:process 0 :type :invoke :f :read :value nil} {:process 0 :type :ok :f :read :value 3}]";
    let hist = parse(one, Format::Edn).unwrap();
    assert_eq!((hist.ops[0].call, hist.ops[0].ret), (1, Some(2)));
    assert_eq!(detect(one), Format::Edn);
}

#[test]
fn edn_errors_carry_lines() {
    let cases: [(&str, usize, &str); 6] = [
        ("[{:process 0, :type :invoke, :f :write, :value 1}\n {:process 0, :type :ok, :f :write, :value 1}\n {:process 0, :type :done, :f :read}]", 3, "unknown :type"),
        ("{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :invoke, :f :write, :value 2}", 2, "invokes again"),
        ("{:process 0, :type :ok, :f :write, :value 1}", 1, "did not invoke"),
        ("{:process 0, :type :invoke, :f :read}\n{:process 0, :type :info, :f :read}\n{:process 0, :type :invoke, :f :read}", 3, "after crashing"),
        ("{:process 0, :type :invoke, :f :frob, :value 1}", 1, "unknown :f"),
        ("{:process 0, :type :invoke,\n :f :write, :value [1 2}", 2, "EDN"),
    ];
    for (text, line, msg) in cases {
        let e = parse(text, Format::Edn).unwrap_err();
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.message.contains(msg), "{text}: {e}");
    }
    let e = parse("{:process 0, :type :invoke, :f :cas, :value 1}\n{:process 0, :type :ok, :f :cas, :value 1}", Format::Edn).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("[from to]"), "{e}");
}

#[test]
fn kv_lines_parse_with_keys() {
    let text = "{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x 0 0 y\"}\n{:process 0, :type :ok, :f :append, :key \"0\", :value \"x 0 0 y\"}\n{:process 1, :type :invoke, :f :get, :key \"0\", :value nil}\n{:process 1, :type :ok, :f :get, :key \"0\", :value \"x 0 0 y\"}\n";
    assert_eq!(detect(text), Format::Kv);
    let hist = parse(text, Format::Kv).unwrap();
    assert_eq!(hist.ops[0].op, ka("0", "x 0 0 y"));
    assert_eq!(hist.ops[1].op, kr("0", "x 0 0 y"));
    assert_eq!(outcome(&hist, Model::Kv), Outcome::Linearizable);
}

#[test]
fn etcd_lines_parse_and_errors_carry_lines() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:invoke\t:cas\t[1 4]\nsome other log line\nINFO  jepsen.util - 0\t:ok\t:read\t3\nINFO  jepsen.util - 1\t:info\t:cas\t:timed-out\nINFO  jepsen.util - 2\t:invoke\t:write\t2\nINFO  jepsen.util - 2\t:fail\t:write\t2\n";
    assert_eq!(detect(text), Format::Etcd);
    let hist = parse(text, Format::Etcd).unwrap();
    assert_eq!(hist.ops.len(), 3);
    assert_eq!(hist.ops[0].op, r(Some("3")));
    assert_eq!((hist.ops[0].call, hist.ops[0].ret), (1, Some(4)));
    assert_eq!(hist.ops[1].op, cas("1", "4"));
    assert_eq!((hist.ops[1].status, hist.ops[1].ret), (Info, None));
    assert_eq!(hist.ops[2].status, Fail);
    let bad =
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t{3}\n";
    let e = parse(bad, Format::Etcd).unwrap_err();
    assert_eq!(e.line, 2);
    let bad = "INFO  jepsen.util - 0\t:invoke\t:frob\tnil\n";
    assert_eq!(parse(bad, Format::Etcd).unwrap_err().line, 1);
}

#[test]
fn json_round_trips_and_errors_carry_lines() {
    let hist = h(vec![
        (1, 0, Some(10), OK, kw("x", "1")),
        (2, 5, None, Info, kr("x", "1")),
        (3, 6, Some(9), OK, add("a b")),
    ]);
    let text = to_json(&hist);
    assert_eq!(detect(&text), Format::Json);
    assert_eq!(parse(&text, Format::Json).unwrap(), hist);
    let friendly = r#"{"ops": [
      {"client": 1, "call": 0, "ret": 3, "status": "ok", "op": {"f": "write", "value": "1"}},
      {"client": 2, "call": 1, "status": "info", "op": {"f": "cas", "from": "1", "to": "2"}}
    ]}"#;
    let hist = parse_json(friendly).unwrap();
    assert_eq!(hist.ops[1].id, 1);
    assert_eq!(hist.ops[1].ret, None);
    let bad = "{\"ops\": [\n {\"client\": 1, \"call\": 0, \"status\": \"maybe\", \"op\": {\"f\": \"read\"}}\n]}";
    assert_eq!(parse_json(bad).unwrap_err().line, 2);
}

#[test]
fn parsers_never_panic_on_junk() {
    for junk in [
        "",
        "[",
        "{",
        "}",
        "nil",
        "[1 2 3]",
        "{:process 1}",
        "#{}",
        "\"x",
        "INFO  jepsen.util - x",
        "{\"ops\": 3}",
        "(",
        "#_",
        "\\",
        ":",
        "#inst \"x\"",
    ] {
        for f in [Format::Edn, Format::Etcd, Format::Kv, Format::Json] {
            let _ = parse(junk, f);
        }
        let _ = detect(junk);
    }
}
