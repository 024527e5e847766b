//! The transactions lab's SQL subset and script format: the Hermitage scripts parse, chosen
//! statements map to the exact AST, and what lies outside the subset is an error that names
//! the construct and points at it.

use distlab_sim::models::txn::ast::{
    BinaryOp, Column, ColumnType, Expr, IsolationLevel, OrderBy, Projection, RowLockMode,
    Statement, UnaryOp, Value,
};
use distlab_sim::models::txn::script::parse_script;
use distlab_sim::models::txn::sql::{parse_statement, SqlError};
use std::path::PathBuf;

fn parse(sql: &str) -> Statement {
    parse_statement(sql).unwrap_or_else(|e| panic!("{sql:?}: {e}"))
}

fn err(sql: &str) -> SqlError {
    match parse_statement(sql) {
        Ok(s) => panic!("{sql:?} parsed as {s:?}"),
        Err(e) => e,
    }
}

/// Asserts the error's position and that its message contains `needle`.
fn assert_err(sql: &str, needle: &str, line: usize, column: usize) {
    let e = err(sql);
    assert!(
        e.message.contains(needle),
        "{sql:?}: message {:?} lacks {needle:?}",
        e.message
    );
    assert_eq!((e.line, e.column), (line, column), "{sql:?}: {e}");
}

fn col(name: &str) -> Expr {
    Expr::Column(name.into())
}

fn int(i: i64) -> Expr {
    Expr::Literal(Value::Int(i))
}

fn bin(l: Expr, op: BinaryOp, r: Expr) -> Expr {
    Expr::Binary(Box::new(l), op, Box::new(r))
}

fn select_all(filter: Option<Expr>, lock: Option<RowLockMode>) -> Statement {
    Statement::Select {
        table: "test".into(),
        projection: Projection::All,
        filter,
        order_by: vec![],
        lock,
    }
}

// ---- Hermitage ----------------------------------------------------------------------------

fn hermitage_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("DISTLAB_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"),
    };
    let dir = base.join("hermitage");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "hermitage test data not found at {}; skipping",
            dir.display()
        );
        None
    }
}

#[test]
fn the_twenty_hermitage_scripts_parse() {
    let Some(dir) = hermitage_dir() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        20,
        "expected 20 Hermitage scripts in {}",
        dir.display()
    );
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let script = parse_script(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // Every non-comment, non-blank line is a statement.
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
            .count();
        assert_eq!(
            script.setup.len() + script.steps.len(),
            lines,
            "{}",
            file.display()
        );
        assert_eq!(script.setup.len(), 2, "{}", file.display());
        assert!(matches!(
            script.setup[0].statement,
            Statement::CreateTable { .. }
        ));
        let sessions = script.sessions();
        assert!(
            sessions.len() >= 2 && sessions[0] == "T1",
            "{}: {sessions:?}",
            file.display()
        );
        // Each session that begins a transaction sets one of PostgreSQL's levels.
        for step in &script.steps {
            if let Statement::SetTransaction { level } = step.statement {
                assert_ne!(level, IsolationLevel::Serializable2pl);
            }
        }
    }
}

#[test]
fn hermitage_setup_and_in_lists_map_exactly() {
    assert_eq!(
        parse("create table test (id int primary key, value int)"),
        Statement::CreateTable {
            name: "test".into(),
            columns: vec![
                Column {
                    name: "id".into(),
                    ty: ColumnType::Int,
                    primary_key: true
                },
                Column {
                    name: "value".into(),
                    ty: ColumnType::Int,
                    primary_key: false
                },
            ],
        }
    );
    // `id in (1,2)` (Hermitage G2-item).
    assert_eq!(
        parse("select * from test where id in (1,2)"),
        select_all(
            Some(Expr::InList {
                expr: Box::new(col("id")),
                list: vec![int(1), int(2)],
                negated: false
            }),
            None
        )
    );
    assert_eq!(
        parse("select * from test where id not in (3)"),
        select_all(
            Some(Expr::InList {
                expr: Box::new(col("id")),
                list: vec![int(3)],
                negated: true
            }),
            None
        )
    );
}

// ---- exact structure ----------------------------------------------------------------------

#[test]
fn update_with_arithmetic() {
    assert_eq!(
        parse("update test set value = value + 10"),
        Statement::Update {
            table: "test".into(),
            assignments: vec![("value".into(), bin(col("value"), BinaryOp::Add, int(10)))],
            filter: None,
        }
    );
    assert_eq!(
        parse("UPDATE Test SET Value = 12, id = -id WHERE Value = 10;"),
        Statement::Update {
            table: "test".into(),
            assignments: vec![
                ("value".into(), int(12)),
                ("id".into(), Expr::Unary(UnaryOp::Neg, Box::new(col("id")))),
            ],
            filter: Some(bin(col("value"), BinaryOp::Eq, int(10))),
        }
    );
}

#[test]
fn select_with_modulo_predicate() {
    assert_eq!(
        parse("select * from test where value % 3 = 0"),
        select_all(
            Some(bin(
                bin(col("value"), BinaryOp::Mod, int(3)),
                BinaryOp::Eq,
                int(0)
            )),
            None
        )
    );
}

#[test]
fn delete_with_predicate() {
    assert_eq!(
        parse("delete from test where value = 20"),
        Statement::Delete {
            table: "test".into(),
            filter: Some(bin(col("value"), BinaryOp::Eq, int(20)))
        }
    );
    assert_eq!(
        parse("DELETE FROM test;"),
        Statement::Delete {
            table: "test".into(),
            filter: None
        }
    );
}

#[test]
fn transaction_control() {
    assert_eq!(
        parse("begin isolation level repeatable read"),
        Statement::Begin {
            level: Some(IsolationLevel::RepeatableRead)
        }
    );
    assert_eq!(parse("BEGIN;"), Statement::Begin { level: None });
    assert_eq!(parse("begin transaction"), Statement::Begin { level: None });
    assert_eq!(
        parse("start transaction isolation level serializable"),
        Statement::Begin {
            level: Some(IsolationLevel::Serializable)
        }
    );
    assert_eq!(
        parse("begin isolation level read uncommitted, read write"),
        Statement::Begin {
            level: Some(IsolationLevel::ReadUncommitted)
        }
    );
    assert_eq!(
        parse("set transaction isolation level read committed;"),
        Statement::SetTransaction {
            level: IsolationLevel::ReadCommitted
        }
    );
    assert_eq!(parse("commit"), Statement::Commit);
    assert_eq!(parse("end;"), Statement::Commit);
    assert_eq!(parse("commit work"), Statement::Commit);
    assert_eq!(parse("rollback"), Statement::Rollback);
    assert_eq!(parse("abort;"), Statement::Rollback);
    assert_eq!(parse("ABORT TRANSACTION"), Statement::Rollback);
}

#[test]
fn row_locks() {
    let id1 = Some(bin(col("id"), BinaryOp::Eq, int(1)));
    assert_eq!(
        parse("select * from test where id = 1 for update"),
        select_all(id1.clone(), Some(RowLockMode::ForUpdate))
    );
    assert_eq!(
        parse("select * from test where id = 1 for share;"),
        select_all(id1, Some(RowLockMode::ForShare))
    );
}

#[test]
fn insert_two_rows() {
    assert_eq!(
        parse("insert into test (id, value) values (1, 10), (2, 20)"),
        Statement::Insert {
            table: "test".into(),
            columns: Some(vec!["id".into(), "value".into()]),
            rows: vec![vec![int(1), int(10)], vec![int(2), int(20)]],
        }
    );
    assert_eq!(
        parse("INSERT INTO test VALUES (3, 'x'), (-4, NULL)"),
        Statement::Insert {
            table: "test".into(),
            columns: None,
            rows: vec![
                vec![int(3), Expr::Literal(Value::Text("x".into()))],
                vec![int(-4), Expr::Literal(Value::Null)],
            ],
        }
    );
    assert_eq!(
        parse("insert into t values (-9223372036854775808)"),
        Statement::Insert {
            table: "t".into(),
            columns: None,
            rows: vec![vec![int(i64::MIN)]]
        }
    );
}

#[test]
fn boolean_precedence() {
    // NOT binds tighter than AND, AND tighter than OR; parentheses group.
    assert_eq!(
        parse("select * from t where not (a = 1 or b <> 2)"),
        Statement::Select {
            table: "t".into(),
            projection: Projection::All,
            filter: Some(Expr::Unary(
                UnaryOp::Not,
                Box::new(bin(
                    bin(col("a"), BinaryOp::Eq, int(1)),
                    BinaryOp::Or,
                    bin(col("b"), BinaryOp::NotEq, int(2))
                )),
            )),
            order_by: vec![],
            lock: None,
        }
    );
    let Statement::Select {
        filter: Some(f), ..
    } = parse("select * from t where not a = 1 and b = 2 or c != 3")
    else {
        panic!()
    };
    assert_eq!(
        f,
        bin(
            bin(
                Expr::Unary(UnaryOp::Not, Box::new(bin(col("a"), BinaryOp::Eq, int(1)))),
                BinaryOp::And,
                bin(col("b"), BinaryOp::Eq, int(2))
            ),
            BinaryOp::Or,
            bin(col("c"), BinaryOp::NotEq, int(3))
        )
    );
    let Statement::Select {
        filter: Some(f), ..
    } = parse("select * from t where a + 2 * 3 - 1 >= 4 / 2")
    else {
        panic!()
    };
    assert_eq!(
        f,
        bin(
            bin(
                bin(col("a"), BinaryOp::Add, bin(int(2), BinaryOp::Mul, int(3))),
                BinaryOp::Sub,
                int(1)
            ),
            BinaryOp::GtEq,
            bin(int(4), BinaryOp::Div, int(2))
        )
    );
}

#[test]
fn projections_order_by_and_null_tests() {
    assert_eq!(
        parse("select id, test.value, value * 2, value as v, (id) from test where value is not null order by value desc, id"),
        Statement::Select {
            table: "test".into(),
            projection: Projection::Exprs(vec![
                (col("id"), "id".into()),
                (col("value"), "value".into()),
                (bin(col("value"), BinaryOp::Mul, int(2)), "?column?".into()),
                (col("value"), "v".into()),
                (col("id"), "id".into()),
            ]),
            filter: Some(Expr::IsNull { expr: Box::new(col("value")), negated: true }),
            order_by: vec![
                OrderBy { expr: col("value"), descending: true },
                OrderBy { expr: col("id"), descending: false },
            ],
            lock: None,
        }
    );
    // ORDER BY an output name uses that output's expression (PostgreSQL docs 7.5).
    let Statement::Select { order_by, .. } =
        parse("select value % 7 as r from test order by r asc")
    else {
        panic!()
    };
    assert_eq!(
        order_by,
        vec![OrderBy {
            expr: bin(col("value"), BinaryOp::Mod, int(7)),
            descending: false
        }]
    );
    let Statement::Select {
        filter, projection, ..
    } = parse("select test.* from test where name is null")
    else {
        panic!()
    };
    assert_eq!(projection, Projection::All);
    assert_eq!(
        filter,
        Some(Expr::IsNull {
            expr: Box::new(col("name")),
            negated: false
        })
    );
}

#[test]
fn create_table_types_and_primary_key_constraint() {
    assert_eq!(
        parse("CREATE TABLE Accounts (Name varchar(20), balance bigint, code char(3), note text, n smallint, k integer NOT NULL, PRIMARY KEY (k));"),
        Statement::CreateTable {
            name: "accounts".into(),
            columns: vec![
                Column { name: "name".into(), ty: ColumnType::Text, primary_key: false },
                Column { name: "balance".into(), ty: ColumnType::BigInt, primary_key: false },
                Column { name: "code".into(), ty: ColumnType::Text, primary_key: false },
                Column { name: "note".into(), ty: ColumnType::Text, primary_key: false },
                Column { name: "n".into(), ty: ColumnType::SmallInt, primary_key: false },
                Column { name: "k".into(), ty: ColumnType::Int, primary_key: true },
            ],
        }
    );
}

// ---- unsupported constructs and syntax errors ---------------------------------------------

#[test]
fn unsupported_constructs_are_named_and_located() {
    assert_err(
        "select * from a join b on a.id = b.id",
        "unsupported: JOIN",
        1,
        17,
    );
    assert_err(
        "select * from a left join b on true",
        "unsupported: JOIN",
        1,
        17,
    );
    assert_err("select * from a, b", "several tables in FROM", 1, 18);
    assert_err(
        "select * from test where id = (select max(id) from test)",
        "unsupported: subquery",
        1,
        32,
    );
    assert_err(
        "select * from test where id in (select id from test)",
        "unsupported: subquery",
        1,
        33,
    );
    assert_err(
        "select * from (select * from test) s",
        "subquery in FROM",
        1,
        16,
    );
    assert_err(
        "select value from test group by value",
        "unsupported: GROUP BY",
        1,
        24,
    );
    assert_err(
        "select * from test having 1 = 1",
        "unsupported: HAVING",
        1,
        20,
    );
    assert_err("select * from test limit 1", "unsupported: LIMIT", 1, 20);
    assert_err("select * from test offset 1", "unsupported: OFFSET", 1, 20);
    assert_err(
        "select count(*) from test",
        "unsupported: function call count",
        1,
        8,
    );
    assert_err(
        "select * from test where abs(value) = 1",
        "function call abs",
        1,
        26,
    );
    assert_err("drop table test", "unsupported: DROP TABLE", 1, 1);
    assert_err("  truncate test", "unsupported: TRUNCATE", 1, 3);
    assert_err("begin; commit", "unsupported: several statements", 1, 8);
    assert_err(
        "select distinct value from test",
        "unsupported: DISTINCT",
        1,
        8,
    );
    assert_err(
        "select * from test union select * from test",
        "unsupported: UNION",
        1,
        20,
    );
    assert_err(
        "with x as (select 1) select * from x",
        "unsupported: WITH",
        1,
        1,
    );
    assert_err("select 1", "SELECT without a table", 1, 1);
    assert_err("select * from test t", "unsupported: table alias t", 1, 20);
    assert_err(
        "select *, id from test",
        "`*` together with other select items",
        1,
        8,
    );
    assert_err(
        "select * from test where value = true",
        "unsupported: boolean literal TRUE",
        1,
        34,
    );
    assert_err(
        "select * from test where value between 1 and 2",
        "unsupported: BETWEEN",
        1,
        26,
    );
    assert_err(
        "select * from test where name like 'a%'",
        "unsupported: pattern matching",
        1,
        26,
    );
    assert_err(
        "select * from test where value = 1.5",
        "non-integer number 1.5",
        1,
        34,
    );
    assert_err(
        "select 'a' || 'b' from test",
        "unsupported: operator ||",
        1,
        8,
    );
    assert_err(
        "select * from test order by 1",
        "ORDER BY a column position",
        1,
        29,
    );
    assert_err(
        "select * from test for update nowait",
        "unsupported: NOWAIT",
        1,
        31,
    );
    assert_err(
        "select * from test for update of test",
        "FOR UPDATE OF",
        1,
        31,
    );
    assert_err(
        "update test set value = 1 from other",
        "UPDATE … FROM",
        1,
        27,
    );
    assert_err(
        "delete from test returning id",
        "unsupported: RETURNING",
        1,
        18,
    );
    assert_err(
        "insert into test select * from test",
        "INSERT … SELECT",
        1,
        18,
    );
    assert_err(
        "insert into test values (1) on conflict do nothing",
        "ON CONFLICT",
        1,
        29,
    );
    assert_err(
        "insert into test values (id)",
        "not allowed in VALUES",
        1,
        26,
    );
    assert_err("savepoint s1", "unsupported: SAVEPOINT", 1, 1);
    assert_err(
        "rollback to savepoint s1",
        "unsupported: ROLLBACK TO SAVEPOINT",
        1,
        10,
    );
    assert_err("begin read only", "unsupported: READ ONLY", 1, 12);
    assert_err(
        "set transaction read write",
        "SET TRANSACTION without ISOLATION LEVEL",
        1,
        1,
    );
    assert_err(
        "create table t (a int primary key, b int primary key)",
        "multiple primary keys",
        1,
        1,
    );
    assert_err(
        "create table t (a int, b int, primary key (a, b))",
        "PRIMARY KEY on several columns",
        1,
        31,
    );
    assert_err(
        "create table t (a boolean)",
        "unsupported: column type BOOLEAN",
        1,
        17,
    );
    assert_err(
        "create table t (a int default 0)",
        "unsupported: DEFAULT",
        1,
        23,
    );
    assert_err(
        "create table t (a int not null)",
        "unsupported: NOT NULL",
        1,
        23,
    );
    assert_err(
        "create table t (a int unique)",
        "unsupported: UNIQUE",
        1,
        23,
    );
    assert_err(
        "create index i on test (id)",
        "unsupported: CREATE INDEX",
        1,
        1,
    );
    assert_err("lock table test", "unsupported: LOCK TABLE", 1, 1);
    assert_err("commit and chain", "unsupported: COMMIT AND CHAIN", 1, 12);
    assert_err(
        "select * from test for update for share",
        "several locking clauses",
        1,
        20,
    );
    assert_err(
        "create table t (a int, primary key (b))",
        "column \"b\" named in key does not exist",
        1,
        37,
    );
    assert_err(
        "insert into test values (1), (1, 2)",
        "VALUES lists must all be the same length",
        1,
        31,
    );
    assert_err("select * from other.test", "schema-qualified", 1, 15);
    assert_err("select other.id from test", "reads only table test", 1, 8);
    assert_err("select \"Value\" from test", "quoted name", 1, 8);
    // Multi-line statements report the line too.
    assert_err(
        "select *\n  from test\n  group by id",
        "unsupported: GROUP BY",
        3,
        3,
    );
    assert_err(
        "select *\nfrom a\n  join b on a.x = b.x",
        "unsupported: JOIN",
        3,
        3,
    );
}

#[test]
fn syntax_errors_carry_sqlparsers_position() {
    assert_err(
        "select * form test",
        "syntax error: expected end of statement, found: form",
        1,
        10,
    );
    assert_err("select * from test wher id = 1", "syntax error", 1, 25);
    assert_err("update test set", "syntax error", 1, 16);
    assert_err("", "expected a statement", 1, 1);
    assert_err(" ;", "expected a statement", 1, 3);
    assert_err("frobnicate x", "syntax error", 1, 1);
    assert_err("select 'abc", "syntax error", 1, 8);
    let e = err("select * from test where");
    assert!(e.to_string().starts_with("line 1, column "), "{e}");
}

// ---- scripts ------------------------------------------------------------------------------

#[test]
fn script_structure_comments_and_sessions() {
    let text = "-- a comment\n\
                setup: create table t (id int primary key, v text);\n\
                \n\
                alice: begin; -- trailing comment\n  \
                bob : insert into t values (1, 'a--b');\n\
                alice: select * from t where v = 'x -- y';   \n\
                T2: commit\n\
                alice: commit;\n";
    let script = parse_script(text).unwrap();
    assert_eq!(script.setup.len(), 1);
    assert_eq!(script.setup[0].line, 2);
    assert_eq!(script.setup[0].session, None);
    assert_eq!(script.steps.len(), 5);
    assert_eq!(script.steps[0].line, 4);
    assert_eq!(script.steps[0].session.as_deref(), Some("alice"));
    assert_eq!(script.steps[0].sql, "begin;");
    assert_eq!(script.steps[0].statement, Statement::Begin { level: None });
    assert_eq!(script.steps[1].sql, "insert into t values (1, 'a--b');");
    assert_eq!(script.steps[2].sql, "select * from t where v = 'x -- y';");
    assert_eq!(script.steps[3].statement, Statement::Commit);
    assert_eq!(
        script.sessions(),
        vec!["alice".to_string(), "bob".into(), "T2".into()]
    );
}

#[test]
fn script_errors_point_at_the_line() {
    let e = parse_script("T1: begin;\nsetup: create table t (a int);\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 1), "{e}");
    assert!(e.message.contains("setup lines must come before"), "{e}");

    let e = parse_script("setup: create table t (a int);\n\nselect * from t;\n").unwrap_err();
    assert_eq!((e.line, e.column), (3, 1), "{e}");
    assert!(e.message.contains("expected `session: statement;`"), "{e}");
    assert!(
        e.to_string()
            .starts_with("line 3, column 1: expected `session: statement;`"),
        "{e}"
    );

    let e = parse_script("T1: begin;\nT1:   \n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(
        e.message.contains("expected a statement after `T1:`"),
        "{e}"
    );

    // Bad SQL on line 4: the column is the one inside the script's line.
    let text = "setup: create table t (a int);\nT1: begin;\nT2: begin;\nT1: select * from t join u on t.a = u.a;\n";
    let e = parse_script(text).unwrap_err();
    assert_eq!((e.line, e.column), (4, 21), "{e}");
    assert!(e.message.starts_with("unsupported: JOIN"), "{e}");

    let e = parse_script("T1: begin;\n  T2: selec * from t;\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 7), "{e}");
    assert!(e.message.contains("syntax error"), "{e}");

    let e = parse_script("T1: begin; commit;\n").unwrap_err();
    assert_eq!((e.line, e.column), (1, 12), "{e}");
    assert!(e.message.contains("several statements"), "{e}");
}

#[test]
fn lock_strengths_outside_the_subset_and_default_are_named() {
    assert_err(
        "select * from t where id = 1 for no key update",
        "unsupported: FOR NO KEY UPDATE",
        1,
        30,
    );
    assert_err(
        "select * from t for key share",
        "unsupported: FOR KEY SHARE",
        1,
        17,
    );
    assert_err(
        "update t set v = default where id = 1",
        "unsupported: DEFAULT",
        1,
        18,
    );
}

#[test]
fn unary_plus_is_the_identity() {
    let Statement::Update { assignments, .. } = parse("update t set v = +v + +1") else {
        panic!("an update")
    };
    assert_eq!(
        assignments[0].1,
        Expr::Binary(Box::new(col("v")), BinaryOp::Add, Box::new(int(1)))
    );
}
