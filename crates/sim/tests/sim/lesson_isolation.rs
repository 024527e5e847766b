//! The "Isolation levels" lesson: every step shows what its narration claims (read from the
//! simulated store, not from the text), the closing challenge accepts the fixes the lesson
//! teaches and rejects the ways around it, and isolation lesson files are validated with
//! errors that name the line.

use distlab_sim::lesson::isolation::{all_met, check};
use distlab_sim::lesson::{built_in, Goal, IsolationStep, Lesson, Until};
use distlab_sim::models::txn::ast::{IsolationLevel, Value};
use distlab_sim::models::txn::dsg::{analyze, Phenomenon};
use distlab_sim::models::txn::run::{run_script, RunResult};
use distlab_sim::models::txn::script::parse_script;
use distlab_sim::models::txn::store::Outcome;

fn lesson() -> Lesson {
    built_in()
        .into_iter()
        .find(|l| l.id == "isolation-levels")
        .expect("built in")
}

/// A step (by title prefix): its script and levels, and how many session lines its cursor
/// has submitted.
fn step(title: &str) -> (IsolationStep, usize) {
    let l = lesson();
    let i = l
        .steps
        .iter()
        .position(|s| s.title.starts_with(title))
        .unwrap_or_else(|| panic!("no step titled {title}…"));
    let iso = l.isolation_step(i).unwrap();
    let n = parse_script(&iso.script).unwrap().steps.len();
    let upto = match l.steps[i].until {
        Until::Start => 0,
        Until::Statement(k) => k,
        Until::End => n,
        ref other => panic!("{other:?}"),
    };
    (iso, upto)
}

/// The run of the first `upto` session lines at `level`.
fn run(iso: &IsolationStep, level: IsolationLevel, upto: usize) -> RunResult {
    let mut s = parse_script(&iso.script).unwrap();
    s.steps.truncate(upto);
    run_script(&s, level).unwrap()
}

/// The rows returned by the `k`-th (0-based) session line.
fn rows(r: &RunResult, k: usize) -> Vec<Vec<Value>> {
    match &r.statements[k].result {
        Some(Ok(Outcome::Rows { rows, .. })) => rows.clone(),
        other => panic!("line {k}: {other:?}"),
    }
}

/// The column `col` of the single row the `k`-th session line returned.
fn one(r: &RunResult, k: usize, col: usize) -> Value {
    let rows = rows(r, k);
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0][col].clone()
}

fn sqlstate(r: &RunResult, k: usize) -> Option<&'static str> {
    match &r.statements[k].result {
        Some(Err(e)) => Some(e.sqlstate),
        _ => None,
    }
}

fn phenomena(r: &RunResult) -> Vec<Phenomenon> {
    analyze(&r.store.history())
        .findings
        .iter()
        .map(|f| f.phenomenon)
        .collect()
}

/// Index of the first session line whose SQL starts with `prefix` in `session`.
fn line_of(iso: &IsolationStep, session: &str, prefix: &str) -> Vec<usize> {
    parse_script(&iso.script)
        .unwrap()
        .steps
        .iter()
        .enumerate()
        .filter(|(_, l)| l.session.as_deref() == Some(session) && l.sql.starts_with(prefix))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn dirty_read_steps() {
    let (iso, upto) = step("A dirty read");
    assert_eq!(iso.level, IsolationLevel::ReadUncommitted);
    let r = run(&iso, iso.level, upto);
    let read = line_of(&iso, "T2", "select")[0];
    assert_eq!(read + 1, upto, "the cursor stops right after T2's read");
    assert_eq!(
        one(&r, read, 2),
        Value::Int(400),
        "T2 sees the uncommitted 400"
    );

    let (iso, upto) = step("Money that never left");
    let r = run(&iso, iso.level, upto);
    let reads = line_of(&iso, "T2", "select");
    assert_eq!(one(&r, reads[1], 2), Value::Int(500));
    assert_eq!(phenomena(&r), vec![Phenomenon::G1a]);

    let (iso, upto) = step("Read committed");
    assert_eq!(iso.level, IsolationLevel::ReadCommitted);
    assert_eq!(iso.compare, Some(IsolationLevel::ReadUncommitted));
    let read = line_of(&iso, "T2", "select")[0];
    assert_eq!(one(&run(&iso, iso.level, upto), read, 2), Value::Int(500));
    assert_eq!(
        one(&run(&iso, iso.compare.unwrap(), upto), read, 2),
        Value::Int(400)
    );
    // At read committed the whole run has no anomaly.
    assert!(phenomena(&run(&iso, iso.level, usize::MAX)).is_empty());
}

#[test]
fn read_committed_versus_repeatable_read() {
    let (iso, upto) = step("A non-repeatable read");
    assert_eq!(
        (iso.level, iso.compare),
        (IsolationLevel::ReadCommitted, None)
    );
    let reads = line_of(&iso, "T1", "select");
    let r = run(&iso, iso.level, upto);
    assert_eq!(one(&r, reads[0], 2), Value::Int(500));
    assert_eq!(one(&r, reads[1], 2), Value::Int(600));
    assert!(
        !phenomena(&r).is_empty(),
        "the checker names the fuzzy read"
    );

    let (iso, upto) = step("Repeatable read");
    assert_eq!(iso.level, IsolationLevel::RepeatableRead);
    let r = run(&iso, iso.level, upto);
    assert_eq!(one(&r, reads[0], 2), Value::Int(500));
    assert_eq!(one(&r, reads[1], 2), Value::Int(500));
    assert!(phenomena(&r).is_empty());

    let (iso, upto) = step("Phantoms");
    let reads = line_of(&iso, "T1", "select");
    let rc = run(&iso, IsolationLevel::ReadCommitted, upto);
    let rr = run(&iso, IsolationLevel::RepeatableRead, upto);
    assert_eq!(rows(&rc, reads[0]).len(), 1);
    assert_eq!(rows(&rc, reads[1]).len(), 2, "the phantom appears");
    assert_eq!(rows(&rr, reads[1]).len(), 1, "the snapshot hides it");
}

#[test]
fn lost_update_and_read_skew() {
    let (iso, upto) = step("A lost update");
    let t2_update = line_of(&iso, "T2", "update")[0];
    let rc = run(&iso, IsolationLevel::ReadCommitted, upto);
    assert!(
        rc.statements[t2_update].blocked,
        "T2 waits for T1's row lock"
    );
    assert_eq!(sqlstate(&rc, t2_update), None);
    assert_eq!(
        rc.tables["counters"],
        vec![vec![Value::Int(1), Value::Int(11)]]
    );
    assert!(phenomena(&rc).contains(&Phenomenon::LostUpdate));
    let rr = run(&iso, IsolationLevel::RepeatableRead, upto);
    assert_eq!(sqlstate(&rr, t2_update), Some("40001"));
    let msg = match &rr.statements[t2_update].result {
        Some(Err(e)) => e.message.clone(),
        _ => unreachable!(),
    };
    assert_eq!(msg, "could not serialize access due to concurrent update");

    // The two fixes the step names, at read committed. The database's arithmetic: T2's
    // UPDATE adds one to T1's 11 — nothing lost, though T2's earlier SELECT (10) is still a
    // stale read the checker flags as G-single.
    let fixed = IsolationStep {
        script: iso.script.replace("set hits = 11", "set hits = hits + 1"),
        ..iso.clone()
    };
    assert_ne!(fixed.script, iso.script);
    let rc = run(&fixed, IsolationLevel::ReadCommitted, upto);
    assert_eq!(
        rc.tables["counters"],
        vec![vec![Value::Int(1), Value::Int(12)]]
    );
    let found = phenomena(&rc);
    assert!(!found.contains(&Phenomenon::LostUpdate), "{found:?}");
    assert!(found.contains(&Phenomenon::GSingle), "{found:?}");
    // Locking the row when reading it: T2's SELECT waits for T1, then returns 11.
    let locked = IsolationStep {
        script: iso.script.replace(
            "select * from counters where id = 1;",
            "select * from counters where id = 1 for update;",
        ),
        ..iso.clone()
    };
    let t2_select = line_of(&locked, "T2", "select")[0];
    let rc = run(&locked, IsolationLevel::ReadCommitted, upto);
    assert!(rc.statements[t2_select].blocked);
    assert_eq!(one(&rc, t2_select, 1), Value::Int(11));
    // At repeatable read the retry reads T1's 11 (a new transaction, a new snapshot).
    let retry = format!(
        "{}T2: begin;\nT2: select * from counters where id = 1;\nT2: commit;\n",
        iso.script
    );
    let rr = run_script(
        &parse_script(&retry).unwrap(),
        IsolationLevel::RepeatableRead,
    )
    .unwrap();
    assert_eq!(one(&rr, rr.statements.len() - 2, 1), Value::Int(11));

    let (iso, upto) = step("Read skew");
    let reads = line_of(&iso, "T1", "select");
    let rc = run(&iso, IsolationLevel::ReadCommitted, upto);
    assert_eq!(one(&rc, reads[0], 2), Value::Int(500));
    assert_eq!(one(&rc, reads[1], 2), Value::Int(400), "900 in total");
    assert!(phenomena(&rc).contains(&Phenomenon::GSingle));
    let rr = run(&iso, IsolationLevel::RepeatableRead, upto);
    assert_eq!(one(&rr, reads[1], 2), Value::Int(500));
    assert!(phenomena(&rr).is_empty());
}

#[test]
fn write_skew_and_the_two_serializable_levels() {
    let (iso, upto) = step("Write skew");
    assert_eq!(iso.level, IsolationLevel::RepeatableRead);
    let r = run(&iso, iso.level, upto);
    assert!(r.statements.iter().all(|s| matches!(s.result, Some(Ok(_)))));
    assert_eq!(phenomena(&r), vec![Phenomenon::G2Item]);
    let on_call: Vec<&Value> = r.tables["doctors"].iter().map(|row| &row[2]).collect();
    assert_eq!(
        on_call,
        vec![&Value::Int(0), &Value::Int(0)],
        "nobody on call"
    );

    let (iso, upto) = step("Serializable");
    assert_eq!(
        (iso.level, iso.compare),
        (
            IsolationLevel::Serializable,
            Some(IsolationLevel::Serializable2pl)
        )
    );
    let ssi = run(&iso, iso.level, upto);
    let errors: Vec<_> = ssi
        .statements
        .iter()
        .filter_map(|s| match &s.result {
            Some(Err(e)) => Some((e.sqlstate, e.message.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        vec![(
            "40001",
            "could not serialize access due to read/write dependencies among transactions"
        )]
    );
    assert!(phenomena(&ssi).is_empty());
    assert!(ssi.tables["doctors"]
        .iter()
        .any(|row| row[2] == Value::Int(1)));
    let tpl = run(&iso, IsolationLevel::Serializable2pl, upto);
    assert!(tpl
        .statements
        .iter()
        .any(|s| matches!(&s.result, Some(Err(e)) if e.sqlstate == "40P01")));
    assert!(phenomena(&tpl).is_empty());
}

/// The challenge step's keep list, script and level.
fn challenge() -> (Vec<String>, String, IsolationLevel) {
    let l = lesson();
    let last = l.steps.len() - 1;
    let c = l.steps[last]
        .challenge
        .clone()
        .expect("the last step is the challenge");
    assert_eq!(c.goal, Goal::NoAnomaly);
    let iso = l.isolation_step(last).unwrap();
    (c.keep, iso.script, iso.level)
}

fn solved(keep: &[String], script: &str, level: IsolationLevel) -> bool {
    all_met(&check(keep, script, level))
}

#[test]
fn the_challenge_accepts_the_fixes_the_lesson_teaches() {
    let (keep, script, level) = challenge();
    assert!(!solved(&keep, &script, level), "unsolved as given");
    for l in [
        IsolationLevel::Serializable,
        IsolationLevel::Serializable2pl,
    ] {
        assert!(solved(&keep, &script, l), "{l}");
    }
    let for_update = script.replace(
        "select * from doctors where on_call = 1;",
        "select * from doctors where on_call = 1 for update;",
    );
    for l in [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ] {
        assert!(solved(&keep, &for_update, l), "FOR UPDATE at {l}");
    }
    // A level in BEGIN works as well as the switch.
    let begin_ser = script.replace("begin;", "begin isolation level serializable;");
    assert!(solved(&keep, &begin_ser, level));
}

#[test]
fn the_challenge_rejects_the_ways_around_it() {
    let (keep, script, level) = challenge();
    let reason = |s: &str, l: IsolationLevel| -> String {
        let checks = check(&keep, s, l);
        assert!(!all_met(&checks), "{s}");
        checks
            .iter()
            .filter(|c| !c.met)
            .map(|c| c.why.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    // Locking only one side still lets the write skew through.
    let one_lock = script.replacen(
        "select * from doctors where on_call = 1;",
        "select * from doctors where on_call = 1 for update;",
        1,
    );
    assert!(reason(&one_lock, IsolationLevel::ReadCommitted).contains("G2-item"));
    // Deleting Bob's update, reordering, splitting a transaction, rolling back by hand or
    // never committing do not count.
    let no_update = script.replace("T2: update doctors set on_call = 0 where id = 2;\n", "");
    assert!(reason(&no_update, level).contains("missing"));
    let serial = {
        let lines: Vec<&str> = script.lines().collect();
        let (t1, rest): (Vec<&str>, Vec<&str>) = lines
            .iter()
            .filter(|l| !l.starts_with("setup"))
            .partition(|l| l.starts_with("T1"));
        let setup: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with("setup"))
            .collect();
        [setup, t1, rest].concat().join("\n")
    };
    assert!(reason(&serial, level).contains("out of order"), "{serial}");
    let split = script.replace(
        "T1: select * from doctors where on_call = 1;",
        "T1: select * from doctors where on_call = 1;\nT1: commit;",
    );
    assert!(reason(&split, level).contains("splits them"));
    let rollback = script.replace("T2: commit;", "T2: rollback;");
    assert!(reason(&rollback, level).contains("rolls back by itself"));
    let never = script.replace("T2: commit;\n", "");
    assert!(reason(&never, level).contains("never commits"));
    let bad_sql = script.replace(
        "T2: update doctors set on_call = 0 where id = 2;",
        "T2: selec 1;\nT2: update doctors set on_call = 0 where id = 2;",
    );
    assert!(reason(&bad_sql, level).contains("42601"));
    assert!(reason("no session prefix here", level).contains("does not parse"));
}

fn isolation_lesson(scenario: &str, steps: &str) -> String {
    format!(
        "id = \"t\"\ntitle = \"T\"\nsummary = \"S\"\nmodel = \"isolation\"\n\n[scenario]\n{scenario}\n{steps}"
    )
}

#[test]
fn isolation_lesson_files_are_validated_with_their_line() {
    let ok_step = "\n[[step]]\ntitle = \"One\"\ntext = \"x\"\nuntil = { statement = 2 }\n";
    let good = isolation_lesson(
        "preset = \"lost-update\"\nlevel = \"read-committed\"",
        ok_step,
    );
    Lesson::parse(&good).unwrap();

    let err = |text: &str| Lesson::parse(text).unwrap_err();
    let e = err(&isolation_lesson("preset = \"lost-updates\"", ok_step));
    assert!(e.message.contains("unknown preset \"lost-updates\""), "{e}");
    assert_eq!(e.line, 9, "the step's [[step]] line: {e}");
    // (scenario, step body after its title, what the error says)
    let lost_update = "preset = \"lost-update\"";
    let cases: &[(&str, &str, &str)] = &[
        (
            "preset = \"lost-update\"\nlevel = \"snapshot\"",
            "until = { statement = 2 }",
            "unknown isolation level \"snapshot\"",
        ),
        (lost_update, "until = { statement = 99 }", "the script has 9 session lines"),
        (lost_update, "until = { returned = \"w\" }", "statement = N"),
        ("script = \"T1: selec 1;\"", "", "the script, line 1"),
        (
            lost_update,
            "actions = [ { at = 1, action = \"heal\" } ]",
            "for lessons of engine models",
        ),
        (lost_update, "challenge = { goal = \"stale-read\" }", "no-anomaly"),
        (
            lost_update,
            "challenge = { goal = \"no-anomaly\", keep = [\"T3: delete from counters\"] }",
            "not a statement of the step's script",
        ),
        // A challenge the step's own run meets (serializable prevents the lost update).
        (
            "preset = \"lost-update\"\nlevel = \"serializable\"",
            "challenge = { goal = \"no-anomaly\", keep = [\"T1: update counters set hits = 11 where id = 1\"] }",
            "already meets it",
        ),
    ];
    for (scenario, body, says) in cases {
        let step = format!("\n[[step]]\ntitle = \"One\"\ntext = \"x\"\n{body}\n");
        let text = isolation_lesson(scenario, &step);
        let e = err(&text);
        assert!(e.message.contains(says), "{scenario} / {body}: {e}");
        let header = text.lines().position(|l| l == "[[step]]").unwrap() + 1;
        assert_eq!(e.line, header, "{e}");
    }
    // Replication lessons reject the isolation-only parts.
    let text = built_in()
        .into_iter()
        .find(|l| l.id == "replication-lag")
        .map(|_| distlab_sim::lesson::BUILT_IN[0].1)
        .unwrap()
        .replace("until = { time = 250 }", "until = { statement = 2 }");
    let e = err(&text);
    assert!(e.message.contains("for isolation lessons"), "{e}");
}
