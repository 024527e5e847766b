//! Random interleavings of 2–3 sessions at READ UNCOMMITTED, READ COMMITTED, REPEATABLE
//! READ, SERIALIZABLE (SSI) and serializable 2PL (seeded by proptest): the store never panics, reports waiting statements
//! consistently, keeps primary keys unique, and keeps each level's promises:
//! no transaction reads a value written by a transaction that aborted (G1a) except at
//! READ UNCOMMITTED, and from REPEATABLE READ up reads of a row repeat unless the reader wrote it.

use distlab_sim::models::txn::ast::{IsolationLevel, Value};
use distlab_sim::models::txn::run::run_script;
use distlab_sim::models::txn::script::parse_script;
use distlab_sim::models::txn::store::Outcome;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    ReadId(u8),
    ReadPredicate(u8),
    /// Writes a value unique to this script line, so every value read names its writer.
    WriteId(u8),
    WritePredicate(u8),
    Insert(u8),
    Delete(u8),
    LockId(u8),
    Commit,
    Rollback,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..4).prop_map(Op::ReadId),
        1 => (2u8..4).prop_map(Op::ReadPredicate),
        3 => (0u8..4).prop_map(Op::WriteId),
        1 => (0u8..4).prop_map(Op::WritePredicate),
        1 => (0u8..6).prop_map(Op::Insert),
        1 => (0u8..4).prop_map(Op::Delete),
        1 => (0u8..4).prop_map(Op::LockId),
        1 => Just(Op::Commit),
        1 => Just(Op::Rollback),
    ]
}

fn level_name(l: u8) -> &'static str {
    [
        "read uncommitted",
        "read committed",
        "repeatable read",
        "serializable",
        "serializable 2pl",
    ][l as usize % 5]
}

/// A script: per session a level; the interleaving as (session, op) pairs.
fn script() -> impl Strategy<Value = (Vec<u8>, Vec<(usize, Op)>)> {
    (2usize..=3).prop_flat_map(|n| {
        (
            prop::collection::vec(0u8..5, n),
            prop::collection::vec((0..n, op()), 4..24),
        )
    })
}

/// The script text and, per step, its 1-based line. Written values are `1000 + 10 * step`
/// (plus the row id, below 10, for predicate writes), so a value names its step.
fn render(levels: &[u8], steps: &[(usize, Op)]) -> (String, Vec<usize>) {
    let mut s = String::from("setup: create table t (id int primary key, value int);\nsetup: insert into t values (0, 0), (1, 10), (2, 20), (3, 30);\n");
    let mut open = vec![false; levels.len()];
    let mut line = 2;
    let mut step_lines = Vec::new();
    for (i, (sess, op)) in steps.iter().enumerate() {
        let name = format!("T{sess}");
        if !open[*sess] && !matches!(op, Op::Commit | Op::Rollback) {
            if levels[*sess] == 4 {
                // 2PL has no SQL name: such sessions take the run's default level.
                s.push_str(&format!("{name}: begin;\n"));
            } else {
                s.push_str(&format!(
                    "{name}: begin isolation level {};\n",
                    level_name(levels[*sess])
                ));
            }
            line += 1;
            open[*sess] = true;
        }
        let unique = 1000 + 10 * i as i64;
        let sql = match op {
            Op::ReadId(k) => format!("select * from t where id = {k}"),
            Op::ReadPredicate(m) => format!("select * from t where value % {m} = 0"),
            Op::WriteId(k) => format!("update t set value = {unique} where id = {k}"),
            Op::WritePredicate(k) => format!(
                "update t set value = {unique} + id where value > {}",
                *k as i64 * 10
            ),
            Op::Insert(k) => format!("insert into t values ({}, {unique})", 4 + *k as i64),
            Op::Delete(k) => format!("delete from t where id = {k}"),
            Op::LockId(k) => format!("select * from t where id = {k} for update"),
            Op::Commit => {
                open[*sess] = false;
                "commit".into()
            }
            Op::Rollback => {
                open[*sess] = false;
                "rollback".into()
            }
        };
        s.push_str(&format!("{name}: {sql};\n"));
        line += 1;
        step_lines.push(line);
    }
    for (i, o) in open.iter().enumerate() {
        if *o {
            s.push_str(&format!("T{i}: commit;\n"));
        }
    }
    (s, step_lines)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if std::env::var("DISTLAB_PROPTEST_SCALE").is_ok() { 5000 } else { 600 }))]

    #[test]
    fn interleavings_keep_each_levels_promises((levels, steps) in script()) {
        let (text, step_lines) = render(&levels, &steps);
        let script = parse_script(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let r = run_script(&script, IsolationLevel::Serializable2pl).map_err(TestCaseError::fail)?;

        // Waiting is terminal for a session: once a line waits, its later lines wait too.
        let mut stuck: BTreeMap<&str, bool> = BTreeMap::new();
        for s in &r.statements {
            let w = s.result.is_none();
            if stuck.get(s.session.as_str()).copied().unwrap_or(false) {
                prop_assert!(w, "line {} ran after its session was stuck\n{text}", s.line);
            }
            if w {
                prop_assert!(s.blocked || stuck.get(s.session.as_str()).copied().unwrap_or(false), "line {} waits without blocking\n{text}", s.line);
                stuck.insert(&s.session, true);
            }
        }

        // Primary keys stay unique in the committed table.
        let ids: Vec<&Value> = r.tables["t"].iter().map(|row| &row[0]).collect();
        let mut sorted = ids.clone();
        sorted.dedup();
        prop_assert_eq!(ids.len(), sorted.len(), "duplicate keys\n{}", text);

        // Which transaction (session + txn number) wrote each unique value, and whether it committed.
        let mut txn_of_line: BTreeMap<usize, (String, usize)> = BTreeMap::new();
        let mut counter: BTreeMap<String, usize> = BTreeMap::new();
        let mut fate: BTreeMap<(String, usize), bool> = BTreeMap::new();
        for s in &r.statements {
            let n = *counter.entry(s.session.clone()).or_insert(0);
            txn_of_line.insert(s.line, (s.session.clone(), n));
            let lower = s.sql.to_lowercase();
            let ended = lower.starts_with("commit") || lower.starts_with("rollback");
            let failed = matches!(&s.result, Some(Err(_)));
            if ended || failed {
                let committed = lower.starts_with("commit") && matches!(&s.result, Some(Ok(Outcome::Done { command: "COMMIT" })));
                fate.entry((s.session.clone(), n)).or_insert(committed);
            }
            if ended {
                *counter.get_mut(&s.session).unwrap() += 1;
            }
        }
        let writer_of = |v: i64| -> Option<(String, usize)> {
            let step = ((v - 1000) / 10) as usize;
            txn_of_line.get(step_lines.get(step)?).cloned()
        };

        // Reads: no aborted writes (outside READ UNCOMMITTED); repeatable reads repeat.
        let mut seen: BTreeMap<(String, usize, i64), i64> = BTreeMap::new();
        let mut wrote: BTreeMap<(String, usize), Vec<i64>> = BTreeMap::new();
        for s in &r.statements {
            let me = txn_of_line[&s.line].clone();
            let level = levels[s.session[1..].parse::<usize>().unwrap()];
            let lower = s.sql.to_lowercase();
            if lower.starts_with("update") || lower.starts_with("delete") || lower.starts_with("insert") {
                // Conservatively: any write may touch any row.
                wrote.entry(me.clone()).or_default().push(-1);
            }
            let Some(Ok(Outcome::Rows { rows, .. })) = &s.result else { continue };
            for row in rows {
                let (Value::Int(id), Value::Int(v)) = (&row[0], &row[1]) else { continue };
                if *v >= 1000 && level != 0 {
                    if let Some(w) = writer_of(*v) {
                        if w != me {
                            prop_assert_ne!(fate.get(&w).copied(), Some(false), "line {} read {} written by an aborted transaction\n{}", s.line, v, text);
                        }
                    }
                }
                if level >= 2 && !wrote.contains_key(&me) && !lower.contains("for update") {
                    if let Some(prev) = seen.insert((me.0.clone(), me.1, *id), *v) {
                        prop_assert_eq!(prev, *v, "repeatable read of id {} changed at line {}\n{}", id, s.line, text);
                    }
                }
            }
        }
    }
}
