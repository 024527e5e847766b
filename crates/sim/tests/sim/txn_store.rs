//! The transactional store beyond the Hermitage tests: deadlocks, primary keys, aborted
//! transaction blocks, READ UNCOMMITTED, row locks, EvalPlanQual arithmetic. Expected
//! outcomes are PostgreSQL 15's (docs 13.2, 13.3); READ UNCOMMITTED is the textbook level.

use distlab_sim::models::txn::ast::{IsolationLevel, Value};
use distlab_sim::models::txn::run::{run_script, RunResult, StatementResult};
use distlab_sim::models::txn::script::parse_script;
use distlab_sim::models::txn::store::Outcome;

const SETUP: &str = "setup: create table test (id int primary key, value int);\nsetup: insert into test (id, value) values (1, 10), (2, 20);\n";

fn run(body: &str) -> RunResult {
    let script = parse_script(&format!("{SETUP}{body}")).unwrap();
    run_script(&script, IsolationLevel::ReadCommitted).unwrap()
}

fn line(r: &RunResult, n: usize) -> &StatementResult {
    // Body lines start after the two setup lines.
    r.statements
        .iter()
        .find(|s| s.line == n + 2)
        .unwrap_or_else(|| panic!("no body line {n}"))
}

fn state(s: &StatementResult) -> &str {
    match &s.result {
        Some(Err(e)) => e.sqlstate,
        Some(Ok(_)) => "ok",
        None => "waiting",
    }
}

fn values(s: &StatementResult) -> Vec<i64> {
    match &s.result {
        Some(Ok(Outcome::Rows { rows, .. })) => rows
            .iter()
            .map(|r| {
                if let Value::Int(v) = r[1] {
                    v
                } else {
                    panic!()
                }
            })
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deadlock_fails_the_transaction_that_waited_first() {
    let r = run("T1: begin;\nT2: begin;\nT1: update test set value = 11 where id = 1;\nT2: update test set value = 22 where id = 2;\nT1: update test set value = 12 where id = 2;\nT2: update test set value = 21 where id = 1;\nT1: rollback;\nT2: commit;\n");
    // T1 waits first (line 5), T2 closes the cycle (line 6): T1 gets 40P01, T2 then proceeds.
    assert!(line(&r, 5).blocked);
    assert_eq!(state(line(&r, 5)), "40P01");
    assert!(line(&r, 6).blocked);
    assert_eq!(state(line(&r, 6)), "ok");
    assert_eq!(
        r.tables["test"],
        vec![
            vec![Value::Int(1), Value::Int(21)],
            vec![Value::Int(2), Value::Int(22)]
        ]
    );
}

#[test]
fn primary_key_waits_for_an_uncommitted_insert_then_fails_or_proceeds() {
    let r = run("T1: begin;\nT1: insert into test values (3, 30);\nT2: insert into test values (3, 33);\nT1: commit;\n");
    assert!(line(&r, 3).blocked);
    assert_eq!(state(line(&r, 3)), "23505");
    let r = run("T1: begin;\nT1: insert into test values (3, 30);\nT2: insert into test values (3, 33);\nT1: rollback;\n");
    assert!(line(&r, 3).blocked);
    assert_eq!(state(line(&r, 3)), "ok");
    assert!(r.tables["test"].contains(&vec![Value::Int(3), Value::Int(33)]));
}

#[test]
fn an_error_aborts_the_block_until_rollback() {
    let r = run("T1: begin;\nT1: insert into test values (1, 99);\nT1: select * from test;\nT1: commit;\nT1: select * from test;\n");
    assert_eq!(state(line(&r, 2)), "23505");
    assert_eq!(state(line(&r, 3)), "25P02");
    assert!(matches!(
        line(&r, 4).result,
        Some(Ok(Outcome::Done {
            command: "ROLLBACK"
        }))
    ));
    assert_eq!(values(line(&r, 5)), vec![10, 20]);
}

#[test]
fn read_uncommitted_reads_dirty_data_read_committed_does_not() {
    let body = "T1: begin;\nT1: update test set value = 101 where id = 1;\nT2: begin isolation level LEVEL;\nT2: select * from test where id = 1;\nT1: rollback;\nT2: commit;\n";
    let r = run(&body.replace("LEVEL", "read uncommitted"));
    assert_eq!(
        values(line(&r, 4)),
        vec![101],
        "textbook READ UNCOMMITTED shows the dirty write"
    );
    let session = |r: &RunResult, x| r.store.txns[&x].session.clone();
    let dirty: Vec<(String, String)> = r
        .store
        .dirty_reads()
        .into_iter()
        .map(|(a, b)| (session(&r, a), session(&r, b)))
        .collect();
    assert_eq!(dirty, vec![("T2".to_string(), "T1".to_string())]);
    let r = run(&body.replace("LEVEL", "read committed"));
    assert_eq!(values(line(&r, 4)), vec![10]);
    assert!(r.store.dirty_reads().is_empty());
    // Reading a version committed before the statement ran is not dirty, at any level;
    // reading one's own uncommitted write is not either.
    let r = run("T1: begin isolation level read uncommitted;\nT1: update test set value = 5 where id = 2;\nT1: select * from test;\nT2: update test set value = 7 where id = 1;\nT1: select * from test;\nT1: commit;\n");
    assert_eq!(
        values(line(&r, 5)),
        vec![5, 7],
        "heap order: newest versions last"
    );
    assert!(
        r.store.dirty_reads().is_empty(),
        "{:?}",
        r.store.dirty_reads()
    );
}

#[test]
fn select_for_update_blocks_writers_and_for_share_readers_share() {
    let r = run("T1: begin;\nT1: select * from test where id = 1 for update;\nT2: update test set value = 12 where id = 1;\nT1: commit;\n");
    assert!(line(&r, 3).blocked);
    assert_eq!(state(line(&r, 3)), "ok");
    let r = run("T1: begin;\nT1: select * from test where id = 1 for share;\nT2: begin;\nT2: select * from test where id = 1 for share;\nT2: update test set value = 12 where id = 1;\nT1: commit;\nT2: commit;\n");
    assert!(!line(&r, 4).blocked, "two FOR SHARE locks do not conflict");
    assert!(
        line(&r, 5).blocked,
        "an update waits for the other share lock"
    );
    assert_eq!(state(line(&r, 5)), "ok");
}

#[test]
fn eval_plan_qual_recomputes_the_update_on_the_newest_version() {
    // Two concurrent increments at READ COMMITTED: the second waits, then adds to 11.
    let r = run("T1: begin;\nT2: begin;\nT1: update test set value = value + 1 where id = 1;\nT2: update test set value = value + 1 where id = 1;\nT1: commit;\nT2: commit;\n");
    assert!(line(&r, 4).blocked);
    assert_eq!(r.tables["test"][0], vec![Value::Int(1), Value::Int(12)]);
}

#[test]
fn a_blocked_session_queues_its_next_lines() {
    let r = run("T1: begin;\nT1: update test set value = 11 where id = 1;\nT2: update test set value = 12 where id = 1;\nT2: select * from test where id = 1;\nT1: commit;\n");
    // T2's select was submitted while T2 waited: it ran after the update completed.
    let (upd, sel) = (line(&r, 3), line(&r, 4));
    assert!(upd.completed.unwrap() < sel.completed.unwrap());
    assert!(sel.submitted < upd.completed.unwrap());
    assert_eq!(values(sel), vec![12]);
}

#[test]
fn still_blocked_at_the_end_is_reported_waiting() {
    let r = run("T1: begin;\nT1: update test set value = 11 where id = 1;\nT2: update test set value = 12 where id = 1;\n");
    assert_eq!(state(line(&r, 3)), "waiting");
    assert!(line(&r, 3).blocked);
}

#[test]
fn read_uncommitted_sees_dirty_rows_but_never_writes_them() {
    // Found by the interleaving property test: a READ UNCOMMITTED update used to change
    // another transaction's uncommitted version (a dirty write, P0). It must wait instead.
    let r = run("T1: begin isolation level repeatable read;\nT1: update test set value = 11 where id = 1;\nT2: begin isolation level read uncommitted;\nT2: select * from test where id = 1;\nT2: update test set value = 12 where id = 1;\nT1: commit;\nT2: commit;\n");
    assert_eq!(values(line(&r, 4)), vec![11], "the dirty read is visible");
    assert!(line(&r, 5).blocked, "the write waits for T1");
    assert_eq!(state(line(&r, 5)), "ok");
    assert_eq!(r.tables["test"][0], vec![Value::Int(1), Value::Int(12)]);
    let keys: Vec<&Value> = r.tables["test"].iter().map(|row| &row[0]).collect();
    assert_eq!(
        keys,
        vec![&Value::Int(1), &Value::Int(2)],
        "one live version per key"
    );
}

#[test]
fn eval_plan_qual_never_follows_an_aborted_update() {
    // Found by the interleaving property test: T1's update is rolled back, T0 deletes the
    // row; T1's next FOR UPDATE waited for T0 and then followed the stale link to T1's own
    // aborted version, returning a value that was never committed.
    let r = run("T1: begin;\nT1: update test set value = 1001 where id = 1;\nT0: begin isolation level read uncommitted;\nT0: delete from test where id = 1;\nT1: rollback;\nT1: begin;\nT1: select * from test where id = 1 for update;\nT0: commit;\nT1: commit;\n");
    let sel = line(&r, 7);
    assert!(sel.blocked);
    assert_eq!(
        values(sel),
        Vec::<i64>::new(),
        "the row was deleted; nothing to lock"
    );
}

#[test]
fn waiters_for_the_same_row_queue_behind_the_first() {
    // T2 holds row 1. T1 waits for it first; T3 then waits for the same row, in line behind
    // T1 (PostgreSQL's tuple lock), not for T2.
    let r = run("T2: begin;\nT2: update test set value = 12 where id = 1;\nT1: update test set value = 11 where id = 1;\nT3: update test set value = 13 where id = 1;\n");
    assert_eq!(state(line(&r, 3)), "waiting");
    assert_eq!(line(&r, 3).blocked_by.as_deref(), Some("T2"));
    assert!(!line(&r, 3).in_line);
    assert_eq!(state(line(&r, 4)), "waiting");
    assert_eq!(line(&r, 4).blocked_by.as_deref(), Some("T1"));
    assert!(line(&r, 4).in_line);
    // When T2 (which only locked the row) commits, T1 updates the row first (it held the
    // place), then T3: (10 + 1) * 10.
    let r = run("T2: begin;\nT2: select * from test where id = 1 for update;\nT1: update test set value = value + 1 where id = 1;\nT3: update test set value = value * 10 where id = 1;\nT2: commit;\n");
    // (Its last wait was for T1's transaction, once T1 had changed the row.)
    assert_eq!(line(&r, 4).blocked_by.as_deref(), Some("T1"));
    assert!(!line(&r, 4).in_line);
    assert_eq!(r.tables["test"][0], vec![Value::Int(1), Value::Int(110)]);
}

#[test]
fn a_deadlock_through_a_row_queue_fails_the_first_waiter_then_the_next() {
    // T1 waits for T2's row 3; T3's scan waits in line behind T1 for row 3 (after updating
    // row 2); T2 then wants row 2: T2 → T3 → T1 → T2. T1 waited first: 40P01. T3 then takes
    // the row's place and waits for T2 — a new wait, so T2 (waiting since before) is the
    // next victim and T3 goes on. PostgreSQL 15 does exactly this (checked by sql diff).
    let body = "T2: begin;\nT2: update test set value = 121 where id = 3;\nT1: update test set value = 220 where id = 3;\nT3: update test set value = value + 1 where value > 10;\nT2: update test set value = 241 where id = 2;\n";
    let r = run(&format!(
        "setup: insert into test values (3, 30), (4, 40);\n{body}"
    ));
    let l = |n: usize| line(&r, n + 1);
    assert_eq!(state(l(3)), "40P01");
    assert_eq!(state(l(4)), "ok");
    assert_eq!(state(l(5)), "40P01");
    assert_eq!(
        r.tables["test"],
        vec![
            vec![Value::Int(1), Value::Int(10)],
            vec![Value::Int(2), Value::Int(21)],
            vec![Value::Int(3), Value::Int(31)],
            vec![Value::Int(4), Value::Int(41)],
        ]
    );
}

#[test]
fn a_resumed_scan_does_not_fail_on_rows_it_read_before_waiting() {
    // Serializable. T1 waits to share-lock row 2, which T3 holds FOR UPDATE. Meanwhile
    // each read a row the other wrote (T3 → T1 → T3), so T3's COMMIT dooms T1. T1's FOR
    // SHARE then completes — PostgreSQL goes on from where the scan waited and does not
    // read row 2 again — and T1 fails at COMMIT instead (as PostgreSQL 15 does).
    let script = parse_script(&format!(
        "{SETUP}setup: insert into test values (3, 30);\nT3: begin isolation level serializable;\nT3: select * from test where id = 2 for update;\nT3: update test set value = 31 where id = 3;\nT1: begin isolation level serializable;\nT1: update test set value = 11 where id = 1;\nT3: select * from test where id = 1;\nT1: select * from test where id = 3;\nT1: select * from test where id = 2 for share;\nT3: commit;\nT1: commit;\n"
    ))
    .unwrap();
    let r = run_script(&script, IsolationLevel::Serializable).unwrap();
    let l = |n: usize| line(&r, n + 1);
    assert!(l(8).blocked);
    assert_eq!(values(l(8)), vec![20]);
    assert_eq!(state(l(9)), "ok");
    assert_eq!(state(l(10)), "40001");
}

#[test]
fn an_update_of_the_primary_key_passes_the_unique_check() {
    // Like an INSERT: a live row with the new key fails the statement with 23505 (checked
    // row by row, so `id = id + 1` fails on the first row), NULL with 23502.
    let r = run("T1: update test set id = 2 where id = 1;\nT1: update test set id = null where id = 1;\nT1: update test set id = id + 1;\nT1: update test set id = id + 10;\n");
    assert_eq!(state(line(&r, 1)), "23505");
    assert_eq!(state(line(&r, 2)), "23502");
    assert_eq!(state(line(&r, 3)), "23505");
    assert_eq!(state(line(&r, 4)), "ok");
    assert_eq!(
        r.tables["test"],
        vec![
            vec![Value::Int(11), Value::Int(10)],
            vec![Value::Int(12), Value::Int(20)]
        ]
    );
}

#[test]
fn a_new_key_waits_for_the_transaction_holding_it() {
    // T1 moves row 1 to key 5 without committing: T2's insert of key 5 waits, then fails if
    // T1 commits and goes ahead if it rolls back.
    let body = |end: &str| {
        format!("T1: begin;\nT1: update test set id = 5 where id = 1;\nT2: insert into test values (5, 50);\nT1: {end};\n")
    };
    let r = run(&body("commit"));
    assert!(line(&r, 3).blocked);
    assert_eq!(state(line(&r, 3)), "23505");
    let r = run(&body("rollback"));
    assert_eq!(state(line(&r, 3)), "ok");
    // The other way round: T2's key change waits for T1's insert — holding its row lock on
    // row 1 meanwhile, so T3's update of row 1 waits for T2 — then fails.
    let r = run("T1: begin;\nT1: insert into test values (5, 50);\nT2: update test set id = 5 where id = 1;\nT3: update test set value = 11 where id = 1;\nT1: commit;\n");
    assert_eq!(line(&r, 3).blocked_by.as_deref(), Some("T1"));
    assert_eq!(state(line(&r, 3)), "23505");
    assert_eq!(line(&r, 4).blocked_by.as_deref(), Some("T2"));
    assert_eq!(state(line(&r, 4)), "ok");
    assert!(r.tables["test"].contains(&vec![Value::Int(1), Value::Int(11)]));
}

#[test]
fn a_row_moved_to_another_key_ends_its_old_object_in_the_history() {
    let r = run("T1: update test set id = 3 where id = 1;\n");
    let h = r.store.history();
    let old = h
        .objects
        .iter()
        .find(|o| o.key == Value::Int(1))
        .expect("object 1");
    assert_eq!(old.versions.last().map(|v| v.values.is_none()), Some(true));
    let new = h
        .objects
        .iter()
        .find(|o| o.key == Value::Int(3))
        .expect("object 3");
    assert_eq!(
        new.versions.last().and_then(|v| v.values.clone()),
        Some(vec![Value::Int(3), Value::Int(10)])
    );
}

#[test]
fn create_table_is_transactional() {
    // Another session sees the table only once its creator commits; a rollback drops it,
    // and the name is free again.
    let r = run("T1: begin;\nT1: create table u (id int primary key);\nT1: insert into u values (1);\nT2: select * from u;\nT1: rollback;\nT2: create table u (id int primary key);\nT2: select * from u;\n");
    assert_eq!(state(line(&r, 4)), "42P01");
    assert_eq!(state(line(&r, 6)), "ok");
    assert_eq!(state(line(&r, 7)), "ok");
    assert!(r.tables.contains_key("u"));
    // A second CREATE of the same name waits for the first creator, then fails.
    let r = run("T1: begin;\nT1: create table u (id int primary key);\nT2: create table u (id int primary key);\nT1: commit;\n");
    assert!(line(&r, 3).blocked);
    assert_eq!(state(line(&r, 3)), "42P07");
    // Still open at the end of the script: not among the final tables.
    let r = run("T1: begin;\nT1: create table u (id int primary key);\n");
    assert!(!r.tables.contains_key("u"));
}

#[test]
fn a_bitmap_scan_reads_every_match_before_it_waits() {
    // Serializable. `id in (4, 3)` is a bitmap heap scan in PostgreSQL: T3 reads rows 3 and
    // 4 (row 4 as T2 had it before its update: an rw-conflict T3 → T2) before it waits for
    // T1's row 3. T2 read the row T3's first update changed (T2 → T3, and that T3 committed
    // first), so T2 is the pivot of T3' → T2 → T3: its COMMIT fails.
    let script = parse_script(
        "setup: create table t (id int primary key, value int);\nsetup: insert into t values (1, 10), (2, 20), (3, 30), (4, 40);\nT2: begin;\nT2: select * from t where value % 2 = 0;\nT3: update t set value = value + 1 where id = 1;\nT2: update t set value = 141 where id = 4;\nT1: begin;\nT1: update t set value = value + 1 where id = 3;\nT3: update t set value = value * 2 where id in (4, 3);\nT2: commit;\n",
    )
    .unwrap();
    let r = run_script(&script, IsolationLevel::Serializable).unwrap();
    let last = r.statements.last().unwrap();
    assert_eq!(state(last), "40001", "{last:?}");
}

#[test]
fn for_update_with_order_by_locks_rows_in_the_sorted_order() {
    // PostgreSQL plans SELECT … ORDER BY value FOR UPDATE as LockRows above a Sort: rows are
    // locked in value order (row 4 first), not heap order. So T3 first waits for T2's row 4,
    // then locks 4, 3, 2 and waits for T1's row 1 — and T1's update of row 2 closes a cycle.
    let script = parse_script("setup: create table t (id int primary key, value int);\nsetup: insert into t values (1, 40), (2, 30), (3, 20), (4, 10);\nT1: begin;\nT1: update t set value = 41 where id = 1;\nT2: begin;\nT2: select * from t where id = 4 for update;\nT3: select * from t order by value for update;\nT2: commit;\nT1: update t set value = 31 where id = 2;\nT1: commit;\n").unwrap();
    let r = run_script(&script, IsolationLevel::ReadCommitted).unwrap();
    let at = |line: usize| r.statements.iter().find(|s| s.line == line).unwrap();
    assert_eq!(state(at(7)), "40P01");
    assert_eq!(at(9).blocked_by.as_deref(), Some("T3"));
    assert_eq!(state(at(9)), "ok");
    // Key order for ORDER BY the key (an index scan, backward when descending): T3 waits
    // for T1's row 1 before it reaches row 4.
    let script = parse_script("setup: create table t (id int primary key, value int);\nsetup: insert into t values (1, 40), (2, 30), (3, 20), (4, 10);\nT1: begin;\nT1: update t set value = 41 where id = 1;\nT3: select * from t order by id for update;\n").unwrap();
    let r = run_script(&script, IsolationLevel::ReadCommitted).unwrap();
    assert_eq!(r.statements[2].blocked_by.as_deref(), Some("T1"));
}
