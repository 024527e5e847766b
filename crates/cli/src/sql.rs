//! `distlab sql run SCRIPT [--level LEVEL] [--json]`: runs an interleaving script on the
//! simulated PostgreSQL store. The output format is documented in docs/SQL-SCRIPTS.md.

use crate::{emit, emitln, Failure};
use distlab_sim::models::txn::ast::{IsolationLevel, Value};
use distlab_sim::models::txn::dsg::analyze;
use distlab_sim::models::txn::run::{run_script, RunResult, StatementResult};
use distlab_sim::models::txn::script::{parse_script_lenient, Script, ScriptError};
use distlab_sim::models::txn::store::Outcome;
use serde_json::{json, Value as Json};
use std::path::Path;

/// Parses a level name as written after `ISOLATION LEVEL` (or with dashes).
pub fn parse_level(s: &str) -> Result<IsolationLevel, String> {
    match s.to_ascii_lowercase().replace('-', " ").trim() {
        "read uncommitted" => Ok(IsolationLevel::ReadUncommitted),
        "read committed" => Ok(IsolationLevel::ReadCommitted),
        "repeatable read" => Ok(IsolationLevel::RepeatableRead),
        "serializable" => Ok(IsolationLevel::Serializable),
        "serializable 2pl" | "2pl" => Ok(IsolationLevel::Serializable2pl),
        other => Err(format!("unknown isolation level \"{other}\": expected read-uncommitted, read-committed, repeatable-read, serializable or serializable-2pl (strict two-phase locking; not in PostgreSQL, so sessions that BEGIN without a level get it)")),
    }
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::Text(s) => json!(s),
    }
}

/// The documented JSON form of a run.
pub fn to_json(r: &RunResult) -> Json {
    let statements: Vec<Json> = r
        .statements
        .iter()
        .map(|s| {
            let mut o = json!({
                "line": s.line,
                "session": s.session,
                "sql": s.sql,
                "blocked": s.blocked,
                "submitted": s.submitted,
                "completed": s.completed,
            });
            let m = o.as_object_mut().expect("object");
            if let Some(b) = &s.blocked_by {
                m.insert("blocked_by".into(), json!(b));
            }
            if s.in_line {
                m.insert("in_line".into(), json!(true));
            }
            match &s.result {
                None => {
                    m.insert("status".into(), json!("waiting"));
                }
                Some(Ok(out)) => {
                    m.insert("status".into(), json!("ok"));
                    match out {
                        Outcome::Rows { columns, rows } => {
                            m.insert("columns".into(), json!(columns));
                            m.insert(
                                "rows".into(),
                                Json::Array(
                                    rows.iter()
                                        .map(|r| Json::Array(r.iter().map(value_json).collect()))
                                        .collect(),
                                ),
                            );
                        }
                        Outcome::Affected { command, count } => {
                            m.insert("command".into(), json!(command));
                            m.insert("affected".into(), json!(count));
                        }
                        Outcome::Done { command } => {
                            m.insert("command".into(), json!(command));
                        }
                    }
                }
                Some(Err(e)) => {
                    m.insert("status".into(), json!("error"));
                    m.insert("sqlstate".into(), json!(e.sqlstate));
                    m.insert("message".into(), json!(e.message));
                }
            }
            o
        })
        .collect();
    let tables: serde_json::Map<String, Json> = r
        .tables
        .iter()
        .map(|(t, rows)| {
            (
                t.clone(),
                Json::Array(
                    rows.iter()
                        .map(|r| Json::Array(r.iter().map(value_json).collect()))
                        .collect(),
                ),
            )
        })
        .collect();
    let anomalies: Vec<Json> = analyze(&r.store.history())
        .findings
        .iter()
        .map(|f| {
            json!({
                "code": f.phenomenon.code(),
                "name": f.phenomenon.name(),
                "sessions": f.txns.iter().map(|x| session_of(r, *x)).collect::<Vec<_>>(),
                "explanation": f.explanation,
            })
        })
        .collect();
    json!({ "statements": statements, "tables": tables, "anomalies": anomalies })
}

/// The session that ran transaction `x`.
fn session_of(r: &RunResult, x: distlab_sim::models::txn::store::Xid) -> String {
    r.store
        .txns
        .get(&x)
        .map_or_else(|| x.to_string(), |t| t.session.clone())
}

/// Parses a script as the web page does: a session line whose SQL does not parse (bad or
/// unsupported SQL) is kept, and fails in its session with SQLSTATE 42601 and a message
/// naming the construct, its line and column, as PostgreSQL would fail it. Errors: a
/// malformed script (a line without a `session:` or `setup:` prefix, a prefix without a
/// statement, a `setup:` line after the sessions' lines, bad SQL in a `setup:` line).
pub fn parse(text: &str) -> Result<Script, ScriptError> {
    parse_script_lenient(text)
}

/// Reads, parses ([`parse`]) and simulates a script at the `--level` given (default read
/// committed). Errors (bad level, unreadable file, malformed script, failing setup) are bad
/// input.
pub fn load_and_run(
    path: &Path,
    level: Option<&str>,
) -> Result<(Script, IsolationLevel, RunResult), Failure> {
    let level = level
        .map(parse_level)
        .transpose()
        .map_err(Failure::Input)?
        .unwrap_or(IsolationLevel::ReadCommitted);
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?;
    let script = parse(&text).map_err(|e| Failure::Input(format!("{}:{e}", path.display())))?;
    let r = run_script(&script, level)
        .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    Ok((script, level, r))
}

/// Rows as `(a, b) (c, d)`.
fn rows_line(rows: &[Vec<Value>]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "({})",
                r.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each statement's submission, waiting and completion (in event counts) and its result,
/// `" by T1"`, or `" by T1 (in line for the row)"` when it waited behind T1 for a row.
fn waited_for(s: &StatementResult, word: &str) -> String {
    s.blocked_by
        .as_ref()
        .map(|b| {
            let line = if s.in_line {
                " (in line for the row)"
            } else {
                ""
            };
            format!("{word} {b}{line}")
        })
        .unwrap_or_default()
}

/// two lines per statement, as `sql run` prints them.
pub fn statement_lines(statements: &[StatementResult]) -> String {
    let mut out = String::new();
    for s in statements {
        let when = match s.completed {
            Some(c) if s.blocked => format!(
                "submitted at {}, blocked{}, completed at {c}",
                s.submitted,
                waited_for(s, " by")
            ),
            Some(c) if c == s.submitted + 1 => format!("at {}", s.submitted),
            // Its session was busy: it waited its turn, then ran without blocking.
            Some(c) => format!("submitted at {}, queued, completed at {c}", s.submitted),
            None => format!(
                "submitted at {}, still waiting{}",
                s.submitted,
                waited_for(s, " for")
            ),
        };
        let result = match &s.result {
            None => "waiting".to_string(),
            Some(Ok(Outcome::Rows { columns, rows })) => {
                format!(
                    "{} row{} ({}): {}",
                    rows.len(),
                    if rows.len() == 1 { "" } else { "s" },
                    columns.join(", "),
                    rows_line(rows)
                )
            }
            Some(Ok(Outcome::Affected { command, count })) => format!("{command} {count}"),
            Some(Ok(Outcome::Done { command })) => command.to_string(),
            Some(Err(e)) => format!("ERROR {}: {}", e.sqlstate, e.message),
        };
        out.push_str(&format!(
            "line {:>3}  {:<4} {:<50} {when}\n           → {result}",
            s.line, s.session, s.sql
        ));
        out.push('\n');
    }
    out
}

/// Runs the command; exit code 0 when the script ran, 2 on a malformed script or file.
pub fn run(path: &Path, level: Option<&str>, as_json: bool) -> Result<u8, Failure> {
    let (_, _, r) = load_and_run(path, level)?;
    if as_json {
        let mut s = serde_json::to_string_pretty(&to_json(&r)).expect("JSON values serialize");
        s.push('\n');
        return emit(s.as_bytes()).map(|_| 0);
    }
    emit(statement_lines(&r.statements).as_bytes())?;
    for (t, rows) in &r.tables {
        emitln(&format!("table {t}: {}", rows_line(rows)))?;
    }
    // The anomaly checker's verdict on the committed transactions (Adya's DSG).
    let findings = analyze(&r.store.history()).findings;
    if findings.is_empty() {
        emitln("anomalies: none (the committed transactions have no dependency cycle)")?;
    }
    for f in &findings {
        emitln(&format!("anomaly: {}", f.explanation))?;
    }
    Ok(0)
}
