//! Isolation lessons: where a step's cursor stands in a script, and the `no-anomaly`
//! challenge checked on the learner's own script.
//!
//! The challenge is a checklist, so the learner sees which part is still missing:
//!
//! 1. **kept**: each `keep` statement is still in the script, submitted by its session, in
//!    the given order; the learner may append to it (`... FOR UPDATE`), not change it. A
//!    session's kept statements run inside one transaction (BEGIN before the first, no
//!    COMMIT / ROLLBACK between them): splitting the read from the write would hide the
//!    race from the checker instead of fixing it.
//! 2. **finished**: no statement is still waiting at the end of the script.
//! 3. **decided by the database**: each of those transactions commits, or is aborted by the
//!    database with a serialization failure (40001) or a deadlock (40P01) — the errors an
//!    application retries. A ROLLBACK typed by the learner, or any other error, does not count.
//! 4. **no anomaly**: the committed transactions' direct serialization graph has no cycle
//!    and no aborted or intermediate read (Adya 2000, PL-3; [`Analysis::serializable`]).

use crate::models::txn::ast::{IsolationLevel, Statement};
use crate::models::txn::dsg::{analyze, Analysis};
use crate::models::txn::run::{run_script, RunResult};
use crate::models::txn::script::{parse_script_lenient, Script, ScriptLine};
use serde::{Deserialize, Serialize};

/// One item of a challenge's checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What is required, in words.
    pub label: String,
    pub met: bool,
    /// Why it is not met (empty when met).
    pub why: String,
}

/// A `keep` entry split into its session and its SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    pub session: String,
    pub sql: String,
}

/// Parses a `keep` entry, `"T1: update t set v = 1 where id = 1"`. Errors name what is
/// missing.
pub fn parse_kept(entry: &str) -> Result<Kept, String> {
    let (session, sql) = entry.split_once(':').ok_or_else(|| {
        format!("keep entry \"{entry}\" needs a session prefix, like \"T1: update …\"")
    })?;
    let session = session.trim();
    if session.is_empty() || session.eq_ignore_ascii_case("setup") {
        return Err(format!(
            "keep entry \"{entry}\" must name a session (T1, T2, …), not setup"
        ));
    }
    let sql = normalize(sql);
    if sql.is_empty() {
        return Err(format!("keep entry \"{entry}\" has no statement"));
    }
    Ok(Kept {
        session: session.to_string(),
        sql,
    })
}

/// Lowercase, whitespace collapsed, no trailing `;`.
fn normalize(sql: &str) -> String {
    let s = sql.trim().trim_end_matches(';').trim();
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether a script line is the kept statement, possibly with clauses appended.
fn matches(line: &ScriptLine, k: &Kept) -> bool {
    if line.session.as_deref() != Some(k.session.as_str()) {
        return false;
    }
    let s = normalize(&line.sql);
    s == k.sql || s.starts_with(&format!("{} ", k.sql))
}

/// Indexes (into `script.steps`) of the kept statements found in order, or the first one
/// missing.
fn find_kept(script: &Script, keep: &[Kept]) -> Result<Vec<usize>, String> {
    let mut found = Vec::new();
    let mut from = 0;
    for k in keep {
        match script.steps[from..].iter().position(|l| matches(l, k)) {
            Some(p) => {
                found.push(from + p);
                from += p + 1;
            }
            None => {
                let anywhere = script.steps.iter().any(|l| matches(l, k));
                return Err(if anywhere {
                    format!("{}: {} is there, but out of order", k.session, k.sql)
                } else {
                    format!("{}: {} is missing", k.session, k.sql)
                });
            }
        }
    }
    Ok(found)
}

/// COMMIT or ROLLBACK: what ends a transaction block. (A second BEGIN inside a block only
/// draws a warning in PostgreSQL.)
fn ends_block(s: &Statement) -> bool {
    matches!(s, Statement::Commit | Statement::Rollback)
}

/// For a session's kept statements (indexes into `steps`, ascending): the index of the
/// BEGIN that opens their transaction and of the line that ends it (`None`: never ended),
/// or why they are not in one transaction.
fn block_of(
    script: &Script,
    session: &str,
    kept: &[usize],
) -> Result<(usize, Option<usize>), String> {
    let (first, last) = (kept[0], kept[kept.len() - 1]);
    let mine = |i: &usize| script.steps[*i].session.as_deref() == Some(session);
    let begin = (0..first).rev().filter(mine).find(|i| {
        let s = &script.steps[*i].statement;
        ends_block(s) || matches!(s, Statement::Begin { .. })
    });
    let begin = match begin {
        Some(i) if matches!(script.steps[i].statement, Statement::Begin { .. }) => i,
        _ => {
            return Err(format!(
                "{session}'s kept statements must run inside a transaction (BEGIN first)"
            ))
        }
    };
    if let Some(i) = (first..last)
        .filter(mine)
        .find(|i| ends_block(&script.steps[*i].statement))
    {
        return Err(format!(
            "{session}'s kept statements must run in one transaction, but line {} ({}) splits them",
            script.steps[i].line, script.steps[i].sql
        ));
    }
    let end = (last + 1..script.steps.len())
        .filter(mine)
        .find(|i| ends_block(&script.steps[*i].statement));
    Ok((begin, end))
}

/// The `no-anomaly` challenge on the learner's script `text` run at `level`: the checklist
/// (see the module docs). The challenge is met when every item is. A script that does not
/// parse or run fails the first item with the reason.
pub fn check(keep: &[String], text: &str, level: IsolationLevel) -> Vec<Check> {
    let item = |label: &str, why: Option<String>| Check {
        label: label.to_string(),
        met: why.is_none(),
        why: why.unwrap_or_default(),
    };
    let kept_label = "The kept statements are still there, in order, one transaction per session";
    let kept: Vec<Kept> = match keep.iter().map(|k| parse_kept(k)).collect() {
        Ok(k) => k,
        Err(e) => return vec![item(kept_label, Some(e))],
    };
    let script = match parse_script_lenient(text) {
        Ok(s) => s,
        Err(e) => {
            return vec![item(
                kept_label,
                Some(format!("the script does not parse: {e}")),
            )]
        }
    };
    let run = match run_script(&script, level) {
        Ok(r) => r,
        Err(e) => {
            return vec![item(
                kept_label,
                Some(format!("the script cannot run: {e}")),
            )]
        }
    };
    let mut checks = Vec::new();
    let found = find_kept(&script, &kept);
    let mut blocks: Vec<(String, usize, Option<usize>)> = Vec::new();
    let kept_why = match &found {
        Err(e) => Some(e.clone()),
        Ok(found) => {
            let mut sessions: Vec<&str> = kept.iter().map(|k| k.session.as_str()).collect();
            sessions.dedup();
            sessions.sort();
            sessions.dedup();
            let mut why = None;
            for s in sessions {
                let mine: Vec<usize> = kept
                    .iter()
                    .zip(found)
                    .filter(|(k, _)| k.session == s)
                    .map(|(_, i)| *i)
                    .collect();
                match block_of(&script, s, &mine) {
                    Ok((b, e)) => blocks.push((s.to_string(), b, e)),
                    Err(e) => {
                        why = Some(e);
                        break;
                    }
                }
            }
            why
        }
    };
    checks.push(item(kept_label, kept_why));

    let waiting: Vec<String> = run
        .statements
        .iter()
        .filter(|s| s.result.is_none())
        .map(|s| format!("{} (line {})", s.session, s.line))
        .collect();
    checks.push(item(
        "Every session finishes: nobody is left waiting",
        (!waiting.is_empty()).then(|| format!("still waiting: {}", waiting.join(", "))),
    ));

    let decided = blocks
        .iter()
        .find_map(|(s, begin, end)| decided_by_database(&script, &run, s, *begin, *end).err());
    checks.push(item(
        "Each transaction commits, or the database aborts it (40001 or 40P01)",
        if found.is_ok() && blocks.is_empty() && !kept.is_empty() {
            Some("the kept statements are not in transactions".into())
        } else {
            decided
        },
    ));

    let analysis: Analysis = analyze(&run.store.history());
    checks.push(item(
        "No anomaly: the dependency graph has no cycle",
        (!analysis.serializable()).then(|| {
            analysis
                .findings
                .iter()
                .map(|f| format!("{} ({})", f.phenomenon.name(), f.phenomenon.code()))
                .collect::<Vec<_>>()
                .join(", ")
        }),
    ));
    checks
}

/// Whether the transaction of `session` from line `begin` to `end` committed or was aborted
/// by the database.
fn decided_by_database(
    script: &Script,
    run: &RunResult,
    session: &str,
    begin: usize,
    end: Option<usize>,
) -> Result<(), String> {
    let last = end.unwrap_or(script.steps.len() - 1);
    let mut other = None;
    for i in begin..=last {
        if script.steps[i].session.as_deref() != Some(session) {
            continue;
        }
        if let Some(Some(Err(e))) = run.statements.get(i).map(|s| s.result.as_ref()) {
            if e.sqlstate == "40001" || e.sqlstate == "40P01" {
                return Ok(());
            }
            if other.is_none() {
                other = Some(format!(
                    "{session} failed at line {} with {} ({}), not a serialization failure or deadlock",
                    script.steps[i].line, e.sqlstate, e.message
                ));
            }
        }
    }
    if let Some(o) = other {
        return Err(o);
    }
    match end.map(|e| &script.steps[e].statement) {
        Some(Statement::Commit) => Ok(()),
        Some(Statement::Rollback) => Err(format!(
            "{session} rolls back by itself: let the database decide (COMMIT)"
        )),
        _ => Err(format!("{session}'s transaction never commits")),
    }
}

/// Whether every item of a checklist is met.
pub fn all_met(checks: &[Check]) -> bool {
    !checks.is_empty() && checks.iter().all(|c| c.met)
}

/// The number of session lines (the cursor's range is `0..=n`) of a script, or the parse
/// error.
pub fn statement_count(text: &str) -> Result<usize, String> {
    parse_script_lenient(text)
        .map(|s| s.steps.len())
        .map_err(|e| e.to_string())
}
