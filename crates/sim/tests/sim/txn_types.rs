//! Static types as PostgreSQL's parse analysis assigns them (PostgreSQL docs ch. 10, 8.1):
//! quoted literals take their context's type, mismatches fail before any row is read (also
//! on an empty table), integer arithmetic overflows at its type's width, and stored values
//! are range-checked for their column. The same script agrees with PostgreSQL 15
//! statement by statement (crates/cli/tests/sql_diff.rs, "types").

use distlab_sim::models::txn::ast::{IsolationLevel, Value};
use distlab_sim::models::txn::run::{run_script, RunResult};
use distlab_sim::models::txn::script::parse_script;
use distlab_sim::models::txn::store::Outcome;

const SETUP: &str = "setup: create table e (id int primary key, v int, name text, s smallint, b bigint);\nsetup: insert into e values (1, 10, 'ann', 1, 1);\n";

fn run(body: &str) -> RunResult {
    let script = parse_script(&format!("{SETUP}{body}")).unwrap();
    run_script(&script, IsolationLevel::ReadCommitted).unwrap()
}

/// Each body line's outcome: `Ok(rows)` for a SELECT (as text), `Ok([])` otherwise, or
/// `Err("SQLSTATE: message")`.
fn outcomes(body: &str) -> Vec<Result<Vec<String>, String>> {
    run(body)
        .statements
        .iter()
        .map(|s| match s.result.as_ref().expect("completed") {
            Ok(Outcome::Rows { rows, .. }) => Ok(rows
                .iter()
                .map(|r| r.iter().map(Value::to_string).collect::<Vec<_>>().join(","))
                .collect()),
            Ok(_) => Ok(Vec::new()),
            Err(e) => Err(format!("{}: {}", e.sqlstate, e.message)),
        })
        .collect()
}

fn one(sql: &str) -> Result<Vec<String>, String> {
    outcomes(&format!("T1: {sql}\n")).remove(0)
}

#[test]
fn quoted_literals_take_the_type_of_their_context() {
    assert_eq!(
        one("select id from e where id = '1';"),
        Ok(vec!["1".into()])
    );
    assert_eq!(one("select id from e where v > '5';"), Ok(vec!["1".into()]));
    assert_eq!(
        one("select id from e where id in (1, '2');"),
        Ok(vec!["1".into()])
    );
    assert_eq!(
        one("select id from e where 'a' = 'a';"),
        Ok(vec!["1".into()])
    );
    assert_eq!(
        one("select * from e where id = 'abc';"),
        Err("22P02: invalid input syntax for type integer: \"abc\"".into())
    );
    // Stored values: '30' into an integer column, 4 into a text column.
    let r = outcomes(
        "T1: insert into e values ('3', '30', 4, '5', '6');\nT1: select * from e where id = 3;\n",
    );
    assert_eq!(r[1], Ok(vec!["3,30,4,5,6".into()]));
}

#[test]
fn mismatched_types_fail_before_any_row_is_read() {
    assert_eq!(
        one("select * from e where name = 1;"),
        Err("42883: operator does not exist: text = integer".into())
    );
    assert_eq!(
        one("select * from e where name < 5;"),
        Err("42883: operator does not exist: text < integer".into())
    );
    assert_eq!(
        one("update e set name = name + 1;"),
        Err("42883: operator does not exist: text + integer".into())
    );
    assert_eq!(
        one("select * from e where v;"),
        Err("42804: argument of WHERE must be type boolean, not type integer".into())
    );
    assert_eq!(
        one("select * from e where v = 10 and 1;"),
        Err("42804: argument of AND must be type boolean, not type integer".into())
    );
    assert_eq!(
        one("update e set v = name;"),
        Err("42804: column \"v\" is of type integer but expression is of type text".into())
    );
    assert_eq!(
        one("select '1' + '2' from e;"),
        Err("42725: operator is not unique: unknown + unknown".into())
    );
    // Also with no row to read.
    let r = outcomes("T1: delete from e;\nT1: select * from e where name = 1;\n");
    assert_eq!(
        r[1],
        Err("42883: operator does not exist: text = integer".into())
    );
}

#[test]
fn integers_overflow_at_their_width() {
    assert_eq!(
        one("insert into e values (2, 3000000000, 'x', 1, 1);"),
        Err("22003: integer out of range".into())
    );
    assert_eq!(
        one("update e set v = v + 2147483647;"),
        Err("22003: integer out of range".into())
    );
    assert_eq!(
        one("update e set s = 40000;"),
        Err("22003: smallint out of range".into())
    );
    // bigint arithmetic is wider; an integer times a literal stays integer.
    let r = outcomes("T1: update e set b = b + 3000000000;\nT1: select b from e;\nT1: select v * 1000000 from e;\nT1: select v * 1000000000 from e;\n");
    assert_eq!(r[1], Ok(vec!["3000000001".into()]));
    assert_eq!(r[2], Ok(vec!["10000000".into()]));
    assert_eq!(r[3], Err("22003: integer out of range".into()));
}

#[test]
fn booleans_print_as_t_and_f() {
    assert_eq!(one("select id = 1, v > 10 from e;"), Ok(vec!["t,f".into()]));
}
