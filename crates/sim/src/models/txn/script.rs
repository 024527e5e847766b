//! The interleaving script format: which session runs which statement, in which order.
//!
//! ```text
//! -- Lost update (P4) under read committed
//! setup: create table test (id int primary key, value int);
//! setup: insert into test (id, value) values (1, 10), (2, 20);
//! T1: begin isolation level read committed;
//! T2: begin isolation level read committed;
//! T1: update test set value = 11 where id = 1;
//! T2: update test set value = 11 where id = 1;   -- blocks until T1 ends
//! T1: commit;
//! T2: commit;
//! ```
//!
//! One statement per line, prefixed by `setup:` (run before the sessions start; these lines
//! come first) or by a session's name (an identifier such as `T1` or `alice`) and a colon.
//! The statement's `;` is optional. `--` starts a comment (outside string literals and
//! quoted names); blank lines are ignored. The SQL is Distlab's subset, see [`super::sql`].

use super::ast::Statement;
use super::sql::parse_statement;
use std::fmt;

/// A parsed script: setup statements, then the sessions' interleaved statements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// `setup:` lines, in order.
    pub setup: Vec<ScriptLine>,
    /// The sessions' lines, in the order they run.
    pub steps: Vec<ScriptLine>,
}

/// One statement of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptLine {
    /// 1-based line number in the script.
    pub line: usize,
    /// The session that runs it; `None` for `setup:` lines.
    pub session: Option<String>,
    /// The statement as written, without the prefix and without a trailing comment.
    pub sql: String,
    /// The parsed statement.
    pub statement: Statement,
}

/// Why a script was rejected: 1-based `line` and `column` (in characters) in the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub line: usize,
    pub column: usize,
    /// What is wrong (SQL errors carry [`super::sql::SqlError`]'s message).
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ScriptError {}

impl Script {
    /// The sessions named in [`Script::steps`], in order of first appearance.
    pub fn sessions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for step in &self.steps {
            if let Some(s) = &step.session {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out
    }
}

/// What a line must look like.
const EXPECTED: &str = "expected `session: statement;` (e.g. `T1: begin;`) or `setup: statement;`";

/// Parses a script (see the module documentation for the format).
pub fn parse_script(text: &str) -> Result<Script, ScriptError> {
    parse(text, false)
}

/// Like [`parse_script`], but a session line whose SQL does not parse is kept as
/// [`Statement::Invalid`] (its session gets the error when the line runs, as in psql), so
/// one typo does not lose the rest of the script. Errors: a malformed line prefix, or bad
/// SQL in a `setup:` line.
pub fn parse_script_lenient(text: &str) -> Result<Script, ScriptError> {
    parse(text, true)
}

fn parse(text: &str, lenient: bool) -> Result<Script, ScriptError> {
    let mut script = Script {
        setup: Vec::new(),
        steps: Vec::new(),
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let error = |column: usize, message: String| ScriptError {
            line,
            column,
            message,
        };
        let content = strip_comment(raw);
        if content.trim().is_empty() {
            continue;
        }
        let indent = content.len() - content.trim_start().len();
        let rest = &content[indent..];
        let name_len = rest
            .char_indices()
            .find(|&(i, c)| !(c == '_' || (c.is_alphanumeric() && (i > 0 || !c.is_ascii_digit()))))
            .map_or(rest.len(), |(i, _)| i);
        let name = &rest[..name_len];
        let after = rest[name_len..].trim_start();
        let column_of = |byte: usize| content[..byte].chars().count() + 1;
        if name.is_empty() || !after.starts_with(':') {
            return Err(error(column_of(indent), EXPECTED.to_string()));
        }
        let colon = content.len() - after.len();
        let sql_part = &content[colon + 1..];
        let sql_start = colon + 1 + (sql_part.len() - sql_part.trim_start().len());
        let sql = sql_part.trim();
        if sql.is_empty() || sql.chars().all(|c| c == ';' || c.is_whitespace()) {
            return Err(error(
                column_of(sql_start),
                format!("expected a statement after `{name}:`"),
            ));
        }
        let statement = match parse_statement(sql) {
            Ok(s) => s,
            Err(e) if lenient && !name.eq_ignore_ascii_case("setup") => Statement::Invalid {
                message: format!(
                    "line {line}, column {}: {}",
                    column_of(sql_start) + e.column - 1,
                    e.message
                ),
            },
            // The statement is on one line, so the SQL error's column is relative to it.
            Err(e) => return Err(error(column_of(sql_start) + e.column - 1, e.message)),
        };
        let is_setup = name.eq_ignore_ascii_case("setup");
        if is_setup && !script.steps.is_empty() {
            return Err(error(
                column_of(indent),
                "setup lines must come before the sessions' statements".into(),
            ));
        }
        let entry = ScriptLine {
            line,
            session: (!is_setup).then(|| name.to_string()),
            sql: sql.to_string(),
            statement,
        };
        if is_setup {
            script.setup.push(entry);
        } else {
            script.steps.push(entry);
        }
    }
    Ok(script)
}

/// The line without its `--` comment (a `--` inside '…' strings or "…" names is kept).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev_dash = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '-' && prev_dash => return &line[..i - 1],
            None => {}
        }
        prev_dash = quote.is_none() && c == '-' && !prev_dash;
    }
    line
}
