//! SQL text → [`super::ast::Statement`], with the [`sqlparser`] crate's PostgreSQL dialect.
//!
//! Distlab executes a small subset of PostgreSQL's SQL: enough for the Hermitage isolation
//! tests and the isolation-levels lab. [`parse_statement`] accepts one statement of that
//! subset and maps it onto the engine's own AST; anything else — syntax errors as well as
//! valid PostgreSQL outside the subset (joins, subqueries, GROUP BY, functions, …) — is a
//! [`SqlError`] that names the construct and says where it is (1-based line and column).
//!
//! The subset:
//!
//! - `CREATE TABLE t (c type [PRIMARY KEY], …, [PRIMARY KEY (c)])` with the types `int`,
//!   `integer`, `bigint`, `smallint` (→ [`ColumnType::Int`], [`ColumnType::BigInt`],
//!   [`ColumnType::SmallInt`]) and `text`, `varchar`, `char` (→ [`ColumnType::Text`];
//!   lengths are not enforced).
//! - `INSERT INTO t [(cols)] VALUES (…), (…)`.
//! - `SELECT * | expr [AS name], … FROM t [WHERE e] [ORDER BY e [ASC|DESC], …]
//!   [FOR UPDATE | FOR SHARE]`.
//! - `UPDATE t SET c = e, … [WHERE e]`, `DELETE FROM t [WHERE e]`.
//! - `BEGIN` / `START TRANSACTION` `[ISOLATION LEVEL …]`, `SET TRANSACTION ISOLATION LEVEL …`,
//!   `COMMIT` / `END`, `ROLLBACK` / `ABORT`.
//! - Expressions: integer and string literals, `NULL`, columns (optionally qualified by the
//!   table's name), `+ - * / %`, `= <> != < <= > >=`, `AND OR NOT`, unary minus,
//!   `IS [NOT] NULL`, and `e [NOT] IN (a, b, …)`, which is rewritten to
//!   `e = a OR e = b …` (the definition of IN in PostgreSQL docs 9.24.1, including its
//!   NULL behaviour).
//!
//! Unquoted names are folded to lower case, as PostgreSQL does (docs 4.1.1); a quoted name
//! must already be lower case, since the engine's names are lower-case only.

use super::ast::{
    BinaryOp, Column, ColumnType, Expr, IsolationLevel, OrderBy, Projection, RowLockMode,
    Statement, UnaryOp, Value,
};
use sqlparser::ast as sp;
use sqlparser::ast::Spanned;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Span, Token, TokenWithSpan, Tokenizer, Word};
use std::fmt;

/// Why a statement was rejected, and where: `line` and `column` are 1-based positions in the
/// text given to [`parse_statement`] (columns count characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    /// What is wrong; for valid PostgreSQL outside Distlab's subset it starts with
    /// `unsupported:` and names the construct.
    pub message: String,
    /// 1-based line of the offending token or construct.
    pub line: usize,
    /// 1-based column (in characters) of the offending token or construct.
    pub column: usize,
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for SqlError {}

/// A 1-based (line, column) position.
type Pos = (usize, usize);

/// Deepest expression nesting accepted (keeps the engine's recursive evaluation bounded).
const MAX_EXPR_DEPTH: usize = 128;

/// What the subset offers, appended to "unsupported statement" errors.
const SUBSET: &str = "Distlab's SQL subset has CREATE TABLE, INSERT, SELECT, UPDATE, DELETE, \
                      BEGIN, SET TRANSACTION, COMMIT and ROLLBACK";

/// Parses one SQL statement of Distlab's subset (a trailing `;` is optional).
///
/// Semantics follow PostgreSQL: isolation levels as in PostgreSQL docs 13.2 (`READ
/// UNCOMMITTED` is kept as its own level here, see [`IsolationLevel`]), row locks of
/// `SELECT … FOR UPDATE / FOR SHARE` as in 13.3.2, unquoted names folded to lower case (4.1.1),
/// and a SELECT item's output name is its alias, else the column's name, else `?column?`
/// (7.3.2). Errors name the unsupported construct and carry its line and column.
pub fn parse_statement(sql: &str) -> Result<Statement, SqlError> {
    let dialect = PostgreSqlDialect {};
    let mut tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| SqlError {
            message: format!("syntax error: {}", e.message),
            line: (e.location.line as usize).max(1),
            column: (e.location.column as usize).max(1),
        })?;
    let end = end_of(sql);
    let Some(first) = tokens
        .iter()
        .position(|t| !is_trivia(&t.token) && t.token != Token::SemiColon)
    else {
        return Err(SqlError {
            message: "expected a statement, found nothing".into(),
            line: end.0,
            column: end.1,
        });
    };
    let start = pos(tokens[first].span).unwrap_or((1, 1));
    // PostgreSQL's `ABORT` is `ROLLBACK` (docs: SQL Commands, ABORT); sqlparser lacks it.
    if let Token::Word(w) = &tokens[first].token {
        if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("abort") {
            let span = tokens[first].span;
            tokens[first] = TokenWithSpan::new(Token::make_keyword("ROLLBACK"), span);
        }
    }
    let ctx = Ctx {
        tokens: &tokens,
        start,
    };
    // Row-lock strengths sqlparser does not parse: name them rather than report a syntax
    // error (they differ from FOR UPDATE / FOR SHARE in which locks conflict).
    let words: Vec<(String, Span)> = tokens
        .iter()
        .filter(|t| !is_trivia(&t.token))
        .map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => (w.value.to_ascii_uppercase(), t.span),
            _ => (String::new(), t.span),
        })
        .collect();
    for (k, (w, span)) in words.iter().enumerate() {
        let next: Vec<&str> = words[k + 1..]
            .iter()
            .take(3)
            .map(|x| x.0.as_str())
            .collect();
        let strength = match next.as_slice() {
            ["NO", "KEY", "UPDATE", ..] => "FOR NO KEY UPDATE",
            ["KEY", "SHARE", ..] => "FOR KEY SHARE",
            _ => continue,
        };
        if w == "FOR" {
            return Err(ctx.unsupported(
                pos(*span),
                &format!("{strength} (the subset has FOR UPDATE and FOR SHARE)"),
            ));
        }
    }

    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens.clone());
    let stmt = parser.parse_statement().map_err(|e| {
        let e = parser_error(e, end);
        let keyword =
            matches!(&tokens[first].token, Token::Word(w) if w.keyword != Keyword::NoKeyword);
        if keyword
            && e.message
                .starts_with("syntax error: Expected: an SQL statement")
            && (e.line, e.column) == start
        {
            // A statement sqlparser does not know either (e.g. `LOCK`).
            ctx.unsupported(Some(start), &format!("{} ({SUBSET})", ctx.statement_name()))
        } else {
            e
        }
    })?;
    let mut semicolon = false;
    while parser.consume_token(&Token::SemiColon) {
        semicolon = true;
    }
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let at = pos(next.span).unwrap_or(start);
        let message = if semicolon {
            "unsupported: several statements in one string (one statement at a time)".to_string()
        } else {
            format!(
                "syntax error: expected end of statement, found: {}",
                next.token
            )
        };
        return Err(SqlError {
            message,
            line: at.0,
            column: at.1,
        });
    }
    ctx.statement(&stmt)
}

/// Whitespace and comments.
fn is_trivia(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

/// The 1-based start of a span, if the span is known.
fn pos(span: Span) -> Option<Pos> {
    (span.start.line > 0).then_some((span.start.line as usize, span.start.column.max(1) as usize))
}

/// The position just past the end of `sql`.
fn end_of(sql: &str) -> Pos {
    let line = sql.split('\n').count();
    let last = sql.rsplit('\n').next().unwrap_or("");
    (line, last.chars().count() + 1)
}

/// Turns sqlparser's error (`… at Line: X, Column: Y`) into a [`SqlError`].
fn parser_error(e: ParserError, end: Pos) -> SqlError {
    let text = match e {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
        ParserError::RecursionLimitExceeded => {
            return SqlError {
                message: "statement nested too deeply".into(),
                line: 1,
                column: 1,
            }
        }
    };
    if let Some(i) = text.rfind(" at Line: ") {
        let tail = &text[i + " at Line: ".len()..];
        if let Some((l, c)) = tail.split_once(", Column: ") {
            if let (Ok(line), Ok(column)) = (l.trim().parse::<usize>(), c.trim().parse::<usize>()) {
                return SqlError {
                    message: format!("syntax error: {}", &text[..i]),
                    line,
                    column,
                };
            }
        }
    }
    // Without a location the parser ran out of input.
    SqlError {
        message: format!("syntax error: {text}"),
        line: end.0,
        column: end.1,
    }
}

/// Parses a template statement (used to check that a parsed statement has no clause beyond
/// the ones Distlab reads).
fn template(sql: &str) -> Option<sp::Statement> {
    Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .ok()?
        .into_iter()
        .next()
}

/// The conversion context: the statement's tokens (to locate keywords) and its start.
struct Ctx<'a> {
    tokens: &'a [TokenWithSpan],
    start: Pos,
}

impl Ctx<'_> {
    fn error(&self, at: Option<Pos>, message: impl Into<String>) -> SqlError {
        let (line, column) = at.unwrap_or(self.start);
        SqlError {
            message: message.into(),
            line,
            column,
        }
    }

    fn unsupported(&self, at: Option<Pos>, what: &str) -> SqlError {
        self.error(at, format!("unsupported: {what}"))
    }

    /// The first occurrence of one of `keywords` outside parentheses, else inside them.
    fn keyword(&self, keywords: &[Keyword]) -> Option<Pos> {
        let mut depth = 0i32;
        let mut nested = None;
        for t in self.tokens {
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::Word(Word {
                    keyword,
                    quote_style: None,
                    ..
                }) if keywords.contains(keyword) => {
                    if depth == 0 {
                        return pos(t.span);
                    }
                    nested = nested.or(pos(t.span));
                }
                _ => {}
            }
        }
        nested
    }

    /// The first occurrence of one of `keywords` at or after `from`.
    fn keyword_after(&self, from: Option<Pos>, keywords: &[Keyword]) -> Option<Pos> {
        let from = from?;
        self.tokens.iter().find_map(|t| match &t.token {
            Token::Word(Word {
                keyword,
                quote_style: None,
                ..
            }) if keywords.contains(keyword) => pos(t.span).filter(|p| *p >= from),
            _ => None,
        })
    }

    /// The statement's leading keywords, e.g. `DROP TABLE`, to name an unsupported statement.
    fn statement_name(&self) -> String {
        const OBJECTS: &[Keyword] = &[
            Keyword::TABLE,
            Keyword::INDEX,
            Keyword::VIEW,
            Keyword::SCHEMA,
            Keyword::DATABASE,
            Keyword::SEQUENCE,
            Keyword::FUNCTION,
            Keyword::TRIGGER,
            Keyword::TYPE,
            Keyword::ROLE,
            Keyword::USER,
            Keyword::EXTENSION,
            Keyword::SAVEPOINT,
        ];
        let mut words = Vec::new();
        for t in self.tokens.iter().filter(|t| !is_trivia(&t.token)) {
            match &t.token {
                Token::Word(w)
                    if w.quote_style.is_none()
                        && (words.is_empty() || w.keyword != Keyword::NoKeyword)
                        && words.len() < 3 =>
                {
                    words.push(w.value.to_uppercase());
                    if OBJECTS.contains(&w.keyword) {
                        break;
                    }
                }
                _ => break,
            }
        }
        if words.is_empty() {
            "this statement".to_string()
        } else {
            words.join(" ")
        }
    }

    fn statement(&self, stmt: &sp::Statement) -> Result<Statement, SqlError> {
        match stmt {
            sp::Statement::StartTransaction {
                modes,
                modifier,
                statements,
                exception,
                has_end_keyword,
                ..
            } => {
                if modifier.is_some()
                    || !statements.is_empty()
                    || exception.is_some()
                    || *has_end_keyword
                {
                    return Err(self
                        .unsupported(None, "this form of BEGIN (only BEGIN [ISOLATION LEVEL …])"));
                }
                Ok(Statement::Begin {
                    level: self.modes(modes)?,
                })
            }
            sp::Statement::Set(sp::Set::SetTransaction {
                modes,
                snapshot,
                session,
            }) => {
                if *session {
                    return Err(
                        self.unsupported(None, "SET SESSION CHARACTERISTICS (use SET TRANSACTION)")
                    );
                }
                if snapshot.is_some() {
                    return Err(self.unsupported(
                        self.keyword(&[Keyword::SNAPSHOT]),
                        "SET TRANSACTION SNAPSHOT",
                    ));
                }
                match self.modes(modes)? {
                    Some(level) => Ok(Statement::SetTransaction { level }),
                    None => Err(self.unsupported(None, "SET TRANSACTION without ISOLATION LEVEL")),
                }
            }
            sp::Statement::Commit {
                chain, modifier, ..
            } => {
                if *chain {
                    return Err(
                        self.unsupported(self.keyword(&[Keyword::CHAIN]), "COMMIT AND CHAIN")
                    );
                }
                if modifier.is_some() {
                    return Err(self.unsupported(None, "this form of COMMIT"));
                }
                Ok(Statement::Commit)
            }
            sp::Statement::Rollback { chain, savepoint } => {
                if savepoint.is_some() {
                    return Err(self.unsupported(
                        self.keyword(&[Keyword::TO]),
                        "ROLLBACK TO SAVEPOINT (savepoints)",
                    ));
                }
                if *chain {
                    return Err(
                        self.unsupported(self.keyword(&[Keyword::CHAIN]), "ROLLBACK AND CHAIN")
                    );
                }
                Ok(Statement::Rollback)
            }
            sp::Statement::CreateTable(ct) => self.create_table(ct),
            sp::Statement::Insert(insert) => self.insert(insert),
            sp::Statement::Query(query) => self.select(query),
            sp::Statement::Update { .. } => self.update(stmt),
            sp::Statement::Delete(delete) => self.delete(delete),
            sp::Statement::Savepoint { .. } | sp::Statement::ReleaseSavepoint { .. } => {
                Err(self.unsupported(None, &format!("{} (savepoints)", self.statement_name())))
            }
            _ => Err(self.unsupported(None, &format!("{} ({SUBSET})", self.statement_name()))),
        }
    }

    /// Transaction modes of BEGIN / SET TRANSACTION: the isolation level, if given
    /// (PostgreSQL docs 13.2; SQL Commands, SET TRANSACTION).
    fn modes(&self, modes: &[sp::TransactionMode]) -> Result<Option<IsolationLevel>, SqlError> {
        let mut level = None;
        for mode in modes {
            match mode {
                sp::TransactionMode::IsolationLevel(l) => {
                    let l = match l {
                        sp::TransactionIsolationLevel::ReadUncommitted => {
                            IsolationLevel::ReadUncommitted
                        }
                        sp::TransactionIsolationLevel::ReadCommitted => {
                            IsolationLevel::ReadCommitted
                        }
                        sp::TransactionIsolationLevel::RepeatableRead => {
                            IsolationLevel::RepeatableRead
                        }
                        sp::TransactionIsolationLevel::Serializable => IsolationLevel::Serializable,
                        other => {
                            return Err(self.unsupported(
                                self.keyword(&[Keyword::ISOLATION]),
                                &format!("isolation level {other}"),
                            ))
                        }
                    };
                    if level.replace(l).is_some() {
                        return Err(self.error(
                            self.keyword(&[Keyword::ISOLATION]),
                            "conflicting ISOLATION LEVEL options",
                        ));
                    }
                }
                sp::TransactionMode::AccessMode(sp::TransactionAccessMode::ReadWrite) => {}
                sp::TransactionMode::AccessMode(sp::TransactionAccessMode::ReadOnly) => {
                    return Err(
                        self.unsupported(self.keyword(&[Keyword::ONLY]), "READ ONLY transactions")
                    );
                }
            }
        }
        Ok(level)
    }

    /// A lower-case name: unquoted names are folded (PostgreSQL docs 4.1.1); quoted ones must
    /// already be lower case.
    fn ident(&self, id: &sp::Ident) -> Result<String, SqlError> {
        match id.quote_style {
            None => Ok(id.value.to_lowercase()),
            Some('"') if id.value == id.value.to_lowercase() && !id.value.is_empty() => {
                Ok(id.value.clone())
            }
            Some(_) => Err(self.unsupported(
                pos(id.span),
                &format!("quoted name {id} (Distlab's names are lower case; write it unquoted)"),
            )),
        }
    }

    /// A table name: one part, no schema.
    fn table_name(&self, name: &sp::ObjectName) -> Result<String, SqlError> {
        match name.0.as_slice() {
            [sp::ObjectNamePart::Identifier(id)] => self.ident(id),
            _ => Err(self.unsupported(
                pos(name.span()),
                &format!("table name {name} (schema-qualified names; write just the table's name)"),
            )),
        }
    }

    /// The one table of a FROM list, UPDATE or DELETE.
    fn single_table(&self, from: &[sp::TableWithJoins], clause: &str) -> Result<String, SqlError> {
        let Some(first) = from.first() else {
            return Err(self.unsupported(
                None,
                &format!("{clause} without a table (Distlab's SQL subset reads one table)"),
            ));
        };
        if let Some(second) = from.get(1) {
            return Err(self.unsupported(
                pos(second.relation.span()),
                "several tables in FROM (Distlab's SQL subset reads one table)",
            ));
        }
        if let Some(join) = first.joins.first() {
            let at = self
                .keyword(&[
                    Keyword::JOIN,
                    Keyword::INNER,
                    Keyword::LEFT,
                    Keyword::RIGHT,
                    Keyword::FULL,
                    Keyword::CROSS,
                    Keyword::NATURAL,
                    Keyword::OUTER,
                ])
                .or_else(|| pos(join.relation.span()));
            return Err(self.unsupported(at, "JOIN (Distlab's SQL subset reads one table)"));
        }
        match &first.relation {
            sp::TableFactor::Table {
                name, alias, args, ..
            } => {
                let table = self.table_name(name)?;
                if let Some(alias) = alias {
                    return Err(self.unsupported(
                        pos(alias.name.span),
                        &format!(
                            "table alias {} (refer to the table by its name)",
                            alias.name
                        ),
                    ));
                }
                if args.is_some() {
                    return Err(self.unsupported(pos(name.span()), "table function"));
                }
                // Anything else on the table reference (hints, sampling, …).
                let mut plain = first.relation.clone();
                if let sp::TableFactor::Table { name: n, .. } = &mut plain {
                    *n = sp::ObjectName::from(vec![sp::Ident::new("t")]);
                }
                if let Some(sp::Statement::Query(q)) = template("SELECT * FROM t") {
                    if let sp::SetExpr::Select(s) = q.body.as_ref() {
                        if s.from[0].relation != plain {
                            return Err(self.unsupported(
                                pos(name.span()),
                                &format!("table reference {}", first.relation),
                            ));
                        }
                    }
                }
                Ok(table)
            }
            sp::TableFactor::Derived { .. } => Err(self.unsupported(
                pos(first.relation.span()),
                "subquery in FROM (Distlab's SQL subset reads one table per statement)",
            )),
            other => Err(self.unsupported(
                pos(other.span()),
                &format!("{other} in {clause} (only a table's name)"),
            )),
        }
    }

    fn create_table(&self, ct: &sp::CreateTable) -> Result<Statement, SqlError> {
        if ct.or_replace {
            return Err(self.unsupported(self.keyword(&[Keyword::OR]), "CREATE OR REPLACE TABLE"));
        }
        if ct.temporary || ct.global.is_some() {
            return Err(self.unsupported(
                self.keyword(&[
                    Keyword::TEMPORARY,
                    Keyword::TEMP,
                    Keyword::GLOBAL,
                    Keyword::LOCAL,
                ]),
                "temporary tables",
            ));
        }
        if ct.if_not_exists {
            return Err(
                self.unsupported(self.keyword(&[Keyword::IF]), "CREATE TABLE IF NOT EXISTS")
            );
        }
        let name = self.table_name(&ct.name)?;
        if ct.query.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::AS]), "CREATE TABLE … AS"));
        }
        if ct.like.is_some() || ct.clone.is_some() {
            return Err(self.unsupported(
                self.keyword(&[Keyword::LIKE, Keyword::CLONE]),
                "CREATE TABLE … LIKE",
            ));
        }
        let mut columns: Vec<Column> = Vec::new();
        let mut primary_keys = 0;
        let mut not_null_columns = Vec::new();
        for def in &ct.columns {
            let at = pos(def.name.span);
            let col = self.ident(&def.name)?;
            if columns.iter().any(|c| c.name == col) {
                return Err(self.error(at, format!("column \"{col}\" specified more than once")));
            }
            let ty = match &def.data_type {
                sp::DataType::Int(_) | sp::DataType::Integer(_) | sp::DataType::Int4(_) => {
                    ColumnType::Int
                }
                sp::DataType::BigInt(_) | sp::DataType::Int8(_) => ColumnType::BigInt,
                sp::DataType::SmallInt(_) | sp::DataType::Int2(_) => ColumnType::SmallInt,
                sp::DataType::Text
                | sp::DataType::Varchar(_)
                | sp::DataType::Char(_)
                | sp::DataType::Character(_)
                | sp::DataType::CharVarying(_)
                | sp::DataType::CharacterVarying(_) => ColumnType::Text,
                other => {
                    return Err(self.unsupported(
                        at,
                        &format!("column type {other} (Distlab's columns are int or text)"),
                    ))
                }
            };
            let (mut primary_key, mut not_null, mut null) = (false, false, false);
            for opt in &def.options {
                match &opt.option {
                    sp::ColumnOption::Unique {
                        is_primary: true,
                        characteristics: None,
                    } => primary_key = true,
                    sp::ColumnOption::NotNull => not_null = true,
                    sp::ColumnOption::Null => null = true,
                    sp::ColumnOption::Unique {
                        is_primary: false, ..
                    } => {
                        return Err(self.unsupported(
                            self.keyword_after(at, &[Keyword::UNIQUE]).or(at),
                            "UNIQUE constraint",
                        ))
                    }
                    sp::ColumnOption::Default(_) => {
                        return Err(self.unsupported(
                            self.keyword_after(at, &[Keyword::DEFAULT]).or(at),
                            "DEFAULT values",
                        ))
                    }
                    sp::ColumnOption::Check(_) => {
                        return Err(self.unsupported(
                            self.keyword_after(at, &[Keyword::CHECK]).or(at),
                            "CHECK constraint",
                        ))
                    }
                    sp::ColumnOption::ForeignKey { .. } => {
                        return Err(self.unsupported(
                            self.keyword_after(at, &[Keyword::REFERENCES]).or(at),
                            "foreign keys (REFERENCES)",
                        ))
                    }
                    other => {
                        return Err(self
                            .unsupported(at, &format!("column option {other} (only PRIMARY KEY)")))
                    }
                }
            }
            if not_null && null {
                return Err(self.error(
                    at,
                    format!("conflicting NULL/NOT NULL declarations for column \"{col}\""),
                ));
            }
            if null && primary_key {
                return Err(self.error(
                    at,
                    format!("conflicting NULL/NOT NULL declarations for column \"{col}\""),
                ));
            }
            if not_null {
                not_null_columns.push((col.clone(), at));
            }
            primary_keys += usize::from(primary_key);
            columns.push(Column {
                name: col,
                ty,
                primary_key,
            });
        }
        for constraint in &ct.constraints {
            // The constraint's keyword: the last one before the span (which starts at its columns).
            let span = pos(constraint.span());
            let kinds = [
                Keyword::PRIMARY,
                Keyword::UNIQUE,
                Keyword::FOREIGN,
                Keyword::CHECK,
                Keyword::EXCLUDE,
            ];
            let at = self
                .tokens
                .iter()
                .filter_map(|t| match &t.token {
                    Token::Word(Word {
                        keyword,
                        quote_style: None,
                        ..
                    }) if kinds.contains(keyword) => pos(t.span),
                    _ => None,
                })
                .rfind(|p| span.is_none_or(|s| *p <= s))
                .or(span);
            match constraint {
                sp::TableConstraint::PrimaryKey {
                    index_name,
                    index_type,
                    columns: key,
                    index_options,
                    characteristics,
                    ..
                } => {
                    if index_name.is_some()
                        || index_type.is_some()
                        || !index_options.is_empty()
                        || characteristics.is_some()
                    {
                        return Err(self.unsupported(at, "PRIMARY KEY options"));
                    }
                    let [key] = key.as_slice() else {
                        return Err(self
                            .unsupported(at, "PRIMARY KEY on several columns (one column only)"));
                    };
                    let sp::Expr::Identifier(id) = &key.column.expr else {
                        return Err(
                            self.unsupported(at, &format!("PRIMARY KEY on {}", key.column.expr))
                        );
                    };
                    if key.operator_class.is_some()
                        || key.column.options
                            != (sp::OrderByOptions {
                                asc: None,
                                nulls_first: None,
                            })
                    {
                        return Err(self.unsupported(at, "PRIMARY KEY options"));
                    }
                    let col = self.ident(id)?;
                    let Some(column) = columns.iter_mut().find(|c| c.name == col) else {
                        return Err(self.error(
                            pos(id.span),
                            format!("column \"{col}\" named in key does not exist"),
                        ));
                    };
                    if !column.primary_key {
                        column.primary_key = true;
                        primary_keys += 1;
                    }
                }
                other => {
                    let kind = other.to_string();
                    let kind = kind.split('(').next().unwrap_or("").trim();
                    return Err(self
                        .unsupported(at, &format!("table constraint {kind} (only PRIMARY KEY)")));
                }
            }
        }
        // NOT NULL is implied by PRIMARY KEY (PostgreSQL docs 5.4.4); elsewhere the engine has
        // no NOT NULL constraint.
        for (name, at) in not_null_columns {
            if !columns.iter().any(|c| c.name == name && c.primary_key) {
                return Err(self.unsupported(
                    self.keyword_after(at, &[Keyword::NOT]).or(at),
                    "NOT NULL constraint (only PRIMARY KEY, which implies NOT NULL)",
                ));
            }
        }
        if primary_keys > 1 {
            return Err(self.error(
                None,
                format!("multiple primary keys for table \"{name}\" are not allowed"),
            ));
        }
        // Any other clause (storage options, partitioning, inheritance, …).
        let mut plain = ct.clone();
        plain.name = sp::ObjectName::from(vec![sp::Ident::new("t")]);
        plain.columns.clear();
        plain.constraints.clear();
        if let Some(sp::Statement::CreateTable(mut t)) = template("CREATE TABLE t (a int)") {
            t.columns.clear();
            if plain != t {
                return Err(self.unsupported(
                    None,
                    "this form of CREATE TABLE (only columns and PRIMARY KEY)",
                ));
            }
        }
        Ok(Statement::CreateTable { name, columns })
    }

    fn insert(&self, insert: &sp::Insert) -> Result<Statement, SqlError> {
        let table = match &insert.table {
            sp::TableObject::TableName(name) => self.table_name(name)?,
            other => return Err(self.unsupported(None, &format!("INSERT INTO {other}"))),
        };
        if let Some(alias) = &insert.table_alias {
            return Err(self.unsupported(pos(alias.span), &format!("table alias {alias}")));
        }
        let columns = if insert.columns.is_empty() {
            None
        } else {
            let mut cols: Vec<String> = Vec::new();
            for c in &insert.columns {
                let name = self.ident(c)?;
                if cols.contains(&name) {
                    return Err(self.error(
                        pos(c.span),
                        format!("column \"{name}\" specified more than once"),
                    ));
                }
                cols.push(name);
            }
            Some(cols)
        };
        let Some(source) = &insert.source else {
            return Err(
                self.unsupported(self.keyword(&[Keyword::DEFAULT]), "INSERT … DEFAULT VALUES")
            );
        };
        let sp::SetExpr::Values(values) = source.body.as_ref() else {
            return Err(self.unsupported(
                pos(source.span()),
                "INSERT … SELECT (Distlab's SQL subset inserts VALUES lists)",
            ));
        };
        if source.with.is_some()
            || source.order_by.is_some()
            || source.limit_clause.is_some()
            || source.fetch.is_some()
            || !source.locks.is_empty()
        {
            return Err(self.unsupported(None, "clauses after VALUES"));
        }
        if insert.on.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::ON]), "ON CONFLICT"));
        }
        if insert.returning.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::RETURNING]), "RETURNING"));
        }
        let mut rows = Vec::new();
        for row in &values.rows {
            if let (Some(first), false) = (rows.first().map(Vec::len), rows.is_empty()) {
                if row.len() != first {
                    return Err(self.error(
                        row.first().and_then(|e: &sp::Expr| pos(e.span())),
                        "VALUES lists must all be the same length",
                    ));
                }
            }
            if let Some(cols) = &columns {
                if row.len() != cols.len() {
                    let which = if row.len() > cols.len() {
                        "more expressions than target columns"
                    } else {
                        "more target columns than expressions"
                    };
                    return Err(self.error(
                        row.first().and_then(|e| pos(e.span())),
                        format!("INSERT has {which}"),
                    ));
                }
            }
            let row = row
                .iter()
                .map(|e| self.expr(e, None, 0))
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(row);
        }
        // Any other clause (MySQL / Hive / ClickHouse forms the dialect still parses).
        let mut plain = insert.clone();
        plain.table = sp::TableObject::TableName(sp::ObjectName::from(vec![sp::Ident::new("t")]));
        plain.columns.clear();
        plain.source = None;
        if let Some(sp::Statement::Insert(mut t)) = template("INSERT INTO t VALUES (1)") {
            t.source = None;
            if plain != t {
                return Err(self.unsupported(
                    None,
                    "this form of INSERT (only INSERT INTO t [(cols)] VALUES …)",
                ));
            }
        }
        Ok(Statement::Insert {
            table,
            columns,
            rows,
        })
    }

    fn select(&self, query: &sp::Query) -> Result<Statement, SqlError> {
        if query.with.is_some() {
            return Err(self.unsupported(
                self.keyword(&[Keyword::WITH]),
                "WITH (common table expressions)",
            ));
        }
        let select = match query.body.as_ref() {
            sp::SetExpr::Select(select) => select,
            sp::SetExpr::SetOperation { op, .. } => {
                let kw = match op {
                    sp::SetOperator::Union => Keyword::UNION,
                    sp::SetOperator::Except => Keyword::EXCEPT,
                    sp::SetOperator::Intersect => Keyword::INTERSECT,
                    sp::SetOperator::Minus => Keyword::MINUS,
                };
                return Err(self.unsupported(
                    self.keyword(&[kw]),
                    &format!("{op} (Distlab's SQL subset reads one table per statement)"),
                ));
            }
            sp::SetExpr::Values(_) => return Err(self.unsupported(None, "VALUES as a query")),
            sp::SetExpr::Query(_) => return Err(self.unsupported(None, "parenthesized query")),
            _ => {
                return Err(self.unsupported(None, &format!("{} ({SUBSET})", self.statement_name())))
            }
        };
        if let Some(distinct) = &select.distinct {
            let what = match distinct {
                sp::Distinct::On(_) => "DISTINCT ON",
                sp::Distinct::Distinct => "DISTINCT",
            };
            return Err(self.unsupported(self.keyword(&[Keyword::DISTINCT]), what));
        }
        if select.top.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::TOP]), "TOP"));
        }
        if select.into.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::INTO]), "SELECT INTO"));
        }
        // FROM first: the projection's column references are checked against the table.
        let table = self.single_table(&select.from, "SELECT")?;
        let projection = self.projection(&select.projection, &table)?;
        let filter = select
            .selection
            .as_ref()
            .map(|e| self.expr(e, Some(&table), 0))
            .transpose()?;
        let group_by = match &select.group_by {
            sp::GroupByExpr::All(_) => true,
            sp::GroupByExpr::Expressions(exprs, modifiers) => {
                !exprs.is_empty() || !modifiers.is_empty()
            }
        };
        if group_by {
            return Err(self.unsupported(
                self.keyword(&[Keyword::GROUP]),
                "GROUP BY (no aggregation in Distlab's SQL subset)",
            ));
        }
        if select.having.is_some() {
            return Err(self.unsupported(
                self.keyword(&[Keyword::HAVING]),
                "HAVING (no aggregation in Distlab's SQL subset)",
            ));
        }
        if !select.named_window.is_empty() {
            return Err(self.unsupported(
                self.keyword(&[Keyword::WINDOW]),
                "WINDOW (no window functions)",
            ));
        }
        let order_by = match &query.order_by {
            None => Vec::new(),
            Some(order) => self.order_by(order, &projection, &table)?,
        };
        if let Some(limit) = &query.limit_clause {
            let (what, kw) = match limit {
                sp::LimitClause::LimitOffset { limit: None, .. } => ("OFFSET", Keyword::OFFSET),
                _ => ("LIMIT", Keyword::LIMIT),
            };
            return Err(self.unsupported(
                self.keyword(&[kw]),
                &format!("{what} (a SELECT returns every matching row)"),
            ));
        }
        if query.fetch.is_some() {
            return Err(self.unsupported(
                self.keyword(&[Keyword::FETCH]),
                "FETCH (a SELECT returns every matching row)",
            ));
        }
        let lock = match query.locks.as_slice() {
            [] => None,
            [lock] => {
                let at = self.keyword(&[Keyword::FOR]);
                if lock.of.is_some() {
                    return Err(self.unsupported(
                        self.keyword(&[Keyword::OF]).or(at),
                        &format!("{lock} (FOR UPDATE OF)"),
                    ));
                }
                if let Some(nonblock) = &lock.nonblock {
                    let what = match nonblock {
                        sp::NonBlock::Nowait => "NOWAIT",
                        sp::NonBlock::SkipLocked => "SKIP LOCKED",
                    };
                    let kw = self.keyword(&[Keyword::NOWAIT, Keyword::SKIP]);
                    return Err(self.unsupported(kw.or(at), what));
                }
                Some(match lock.lock_type {
                    sp::LockType::Update => RowLockMode::ForUpdate,
                    sp::LockType::Share => RowLockMode::ForShare,
                })
            }
            _ => {
                return Err(
                    self.unsupported(self.keyword(&[Keyword::FOR]), "several locking clauses")
                )
            }
        };
        // Anything else the dialect parses (QUALIFY, lateral views, settings, …).
        if let Some(sp::Statement::Query(t)) = template("SELECT * FROM t") {
            let mut plain_query = query.clone();
            plain_query.body = t.body.clone();
            plain_query.order_by = None;
            plain_query.locks.clear();
            let mut plain = (**select).clone();
            plain.projection.clear();
            plain.from.clear();
            plain.selection = None;
            let mut t_select = t.body.as_select().cloned();
            if let Some(ts) = &mut t_select {
                ts.projection.clear();
                ts.from.clear();
            }
            if plain_query != *t || Some(plain) != t_select {
                return Err(self.unsupported(
                    None,
                    "this form of SELECT (only SELECT … FROM t [WHERE] [ORDER BY] [FOR UPDATE | FOR SHARE])",
                ));
            }
        }
        Ok(Statement::Select {
            table,
            projection,
            filter,
            order_by,
            lock,
        })
    }

    /// The SELECT list: `*` alone, or expressions with their output names (PostgreSQL docs
    /// 7.3.2: the alias, else the column's name, else `?column?`).
    fn projection(&self, items: &[sp::SelectItem], table: &str) -> Result<Projection, SqlError> {
        let star = |options: &sp::WildcardAdditionalOptions,
                    at: Option<Pos>|
         -> Result<Projection, SqlError> {
            if items.len() > 1 {
                return Err(self.unsupported(
                    at,
                    "`*` together with other select items (write the columns)",
                ));
            }
            if *options != sp::WildcardAdditionalOptions::default() {
                return Err(self.unsupported(at, &format!("`*` options{options}")));
            }
            Ok(Projection::All)
        };
        let mut exprs = Vec::new();
        for item in items {
            match item {
                sp::SelectItem::Wildcard(options) => {
                    return star(options, pos(options.wildcard_token.0.span))
                }
                sp::SelectItem::QualifiedWildcard(kind, options) => {
                    let at = pos(item.span());
                    match kind {
                        sp::SelectItemQualifiedWildcardKind::ObjectName(name)
                            if self.table_name(name)? == table =>
                        {
                            return star(options, at)
                        }
                        _ => {
                            return Err(self.error(
                                at,
                                format!("`{kind}`: the statement reads only table {table}"),
                            ))
                        }
                    }
                }
                sp::SelectItem::UnnamedExpr(e) => {
                    let name = output_name(e)
                        .map(|id| self.ident(id))
                        .transpose()?
                        .unwrap_or_else(|| "?column?".into());
                    exprs.push((self.expr(e, Some(table), 0)?, name));
                }
                sp::SelectItem::ExprWithAlias { expr, alias } => {
                    exprs.push((self.expr(expr, Some(table), 0)?, self.ident(alias)?));
                }
            }
        }
        Ok(Projection::Exprs(exprs))
    }

    fn order_by(
        &self,
        order: &sp::OrderBy,
        projection: &Projection,
        table: &str,
    ) -> Result<Vec<OrderBy>, SqlError> {
        let at = self.keyword(&[Keyword::ORDER]);
        if order.interpolate.is_some() {
            return Err(self.unsupported(at, "INTERPOLATE"));
        }
        let sp::OrderByKind::Expressions(keys) = &order.kind else {
            return Err(self.unsupported(at, "ORDER BY ALL"));
        };
        let mut out = Vec::new();
        for key in keys {
            let key_at = pos(key.expr.span()).or(at);
            if key.options.nulls_first.is_some() {
                return Err(self.unsupported(key_at, "NULLS FIRST / NULLS LAST"));
            }
            if key.with_fill.is_some() {
                return Err(self.unsupported(key_at, "WITH FILL"));
            }
            if let sp::Expr::Value(v) = &key.expr {
                if matches!(v.value, sp::Value::Number(..)) {
                    return Err(self.unsupported(
                        key_at,
                        "ORDER BY a column position (write the column's name)",
                    ));
                }
            }
            // A bare name refers to an output column first (PostgreSQL docs 7.5).
            let mut expr = None;
            if let (sp::Expr::Identifier(id), Projection::Exprs(items)) = (&key.expr, projection) {
                let name = self.ident(id)?;
                let matches: Vec<_> = items.iter().filter(|(_, n)| *n == name).collect();
                match matches.as_slice() {
                    [(e, _)] => expr = Some(e.clone()),
                    [_, _, ..] if matches.iter().any(|(e, _)| *e != matches[0].0) => {
                        return Err(self.error(key_at, format!("ORDER BY \"{name}\" is ambiguous")))
                    }
                    [(e, _), ..] => expr = Some(e.clone()),
                    [] => {}
                }
            }
            let expr = match expr {
                Some(e) => e,
                None => self.expr(&key.expr, Some(table), 0)?,
            };
            out.push(OrderBy {
                expr,
                descending: key.options.asc == Some(false),
            });
        }
        Ok(out)
    }

    fn update(&self, stmt: &sp::Statement) -> Result<Statement, SqlError> {
        let sp::Statement::Update {
            table,
            assignments,
            from,
            selection,
            returning,
            or,
            limit,
        } = stmt
        else {
            unreachable!("update() is called on UPDATE statements");
        };
        if or.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::OR]), "UPDATE OR …"));
        }
        let name = self.single_table(std::slice::from_ref(table), "UPDATE")?;
        let mut out: Vec<(String, Expr)> = Vec::new();
        for a in assignments {
            let col = match &a.target {
                sp::AssignmentTarget::ColumnName(sp::ObjectName(parts)) => match parts.as_slice() {
                    [sp::ObjectNamePart::Identifier(id)] => self.ident(id)?,
                    _ => {
                        return Err(self.unsupported(
                            pos(a.target.span()),
                            &format!(
                                "qualified column {} in SET (write just the column)",
                                a.target
                            ),
                        ))
                    }
                },
                sp::AssignmentTarget::Tuple(_) => {
                    return Err(self.unsupported(
                        pos(a.target.span()),
                        "SET (a, b) = … (assign columns one by one)",
                    ))
                }
            };
            if out.iter().any(|(c, _)| *c == col) {
                return Err(self.error(
                    pos(a.target.span()),
                    format!("multiple assignments to same column \"{col}\""),
                ));
            }
            out.push((col, self.expr(&a.value, Some(&name), 0)?));
        }
        if from.is_some() {
            return Err(self.unsupported(
                self.keyword(&[Keyword::FROM]),
                "UPDATE … FROM (Distlab's SQL subset reads one table)",
            ));
        }
        let filter = selection
            .as_ref()
            .map(|e| self.expr(e, Some(&name), 0))
            .transpose()?;
        if returning.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::RETURNING]), "RETURNING"));
        }
        if limit.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::LIMIT]), "LIMIT"));
        }
        Ok(Statement::Update {
            table: name,
            assignments: out,
            filter,
        })
    }

    fn delete(&self, delete: &sp::Delete) -> Result<Statement, SqlError> {
        if !delete.tables.is_empty() {
            return Err(self.unsupported(None, "multi-table DELETE"));
        }
        let from = match &delete.from {
            sp::FromTable::WithFromKeyword(from) => from,
            sp::FromTable::WithoutKeyword(_) => {
                return Err(self.unsupported(None, "DELETE without FROM"))
            }
        };
        let table = self.single_table(from, "DELETE")?;
        if delete.using.is_some() {
            return Err(self.unsupported(
                self.keyword(&[Keyword::USING]),
                "DELETE … USING (Distlab's SQL subset reads one table)",
            ));
        }
        let filter = delete
            .selection
            .as_ref()
            .map(|e| self.expr(e, Some(&table), 0))
            .transpose()?;
        if delete.returning.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::RETURNING]), "RETURNING"));
        }
        if !delete.order_by.is_empty() {
            return Err(self.unsupported(self.keyword(&[Keyword::ORDER]), "ORDER BY in DELETE"));
        }
        if delete.limit.is_some() {
            return Err(self.unsupported(self.keyword(&[Keyword::LIMIT]), "LIMIT in DELETE"));
        }
        Ok(Statement::Delete { table, filter })
    }

    /// An expression; `table` is the statement's table (None in VALUES, where PostgreSQL
    /// allows no column references).
    fn expr(&self, e: &sp::Expr, table: Option<&str>, depth: usize) -> Result<Expr, SqlError> {
        let at = pos(e.span());
        if depth > MAX_EXPR_DEPTH {
            return Err(self.error(at, "expression nested too deeply"));
        }
        let sub = |e: &sp::Expr| self.expr(e, table, depth + 1).map(Box::new);
        let subquery = "subquery (Distlab's SQL subset reads one table per statement)";
        Ok(match e {
            sp::Expr::Identifier(id) => match table {
                Some(_) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default") => {
                    return Err(self.unsupported(at, "DEFAULT (give the value)"))
                }
                Some(_) => Expr::Column(self.ident(id)?),
                None if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default") => {
                    return Err(self.unsupported(at, "DEFAULT in VALUES (give every value)"))
                }
                None => {
                    return Err(self.error(
                        at,
                        format!("column reference {id} is not allowed in VALUES"),
                    ))
                }
            },
            sp::Expr::CompoundIdentifier(parts) => {
                let Some(table) = table else {
                    return Err(
                        self.error(at, format!("column reference {e} is not allowed in VALUES"))
                    );
                };
                match parts.as_slice() {
                    [t, c] => {
                        let qualifier = self.ident(t)?;
                        if qualifier != table {
                            return Err(self.error(
                                at,
                                format!(
                                    "column reference {e}: the statement reads only table {table}"
                                ),
                            ));
                        }
                        Expr::Column(self.ident(c)?)
                    }
                    _ => {
                        return Err(self.unsupported(
                            at,
                            &format!("column reference {e} (write column or table.column)"),
                        ))
                    }
                }
            }
            sp::Expr::Value(v) => Expr::Literal(self.value(&v.value, at, false)?),
            sp::Expr::Nested(inner) => self.expr(inner, table, depth + 1)?,
            sp::Expr::UnaryOp { op, expr } => match op {
                sp::UnaryOperator::Not => Expr::Unary(UnaryOp::Not, sub(expr)?),
                sp::UnaryOperator::Minus => match expr.as_ref() {
                    // `-5` is a negative constant, as in PostgreSQL's grammar.
                    sp::Expr::Value(v) if matches!(v.value, sp::Value::Number(..)) => {
                        Expr::Literal(self.value(&v.value, at, true)?)
                    }
                    _ => Expr::Unary(UnaryOp::Neg, sub(expr)?),
                },
                // Unary plus is the identity.
                sp::UnaryOperator::Plus => self.expr(expr, table, depth + 1)?,
                other => return Err(self.unsupported(at, &format!("operator {other}"))),
            },
            sp::Expr::BinaryOp { left, op, right } => {
                let op = match op {
                    sp::BinaryOperator::Plus => BinaryOp::Add,
                    sp::BinaryOperator::Minus => BinaryOp::Sub,
                    sp::BinaryOperator::Multiply => BinaryOp::Mul,
                    sp::BinaryOperator::Divide => BinaryOp::Div,
                    sp::BinaryOperator::Modulo => BinaryOp::Mod,
                    sp::BinaryOperator::Eq => BinaryOp::Eq,
                    sp::BinaryOperator::NotEq => BinaryOp::NotEq,
                    sp::BinaryOperator::Lt => BinaryOp::Lt,
                    sp::BinaryOperator::LtEq => BinaryOp::LtEq,
                    sp::BinaryOperator::Gt => BinaryOp::Gt,
                    sp::BinaryOperator::GtEq => BinaryOp::GtEq,
                    sp::BinaryOperator::And => BinaryOp::And,
                    sp::BinaryOperator::Or => BinaryOp::Or,
                    other => return Err(self.unsupported(at, &format!("operator {other}"))),
                };
                Expr::Binary(sub(left)?, op, sub(right)?)
            }
            sp::Expr::IsNull(inner) => Expr::IsNull {
                expr: sub(inner)?,
                negated: false,
            },
            sp::Expr::IsNotNull(inner) => Expr::IsNull {
                expr: sub(inner)?,
                negated: true,
            },
            // `a IN (x, y)` is `a = x OR a = y` (PostgreSQL docs 9.24.1).
            sp::Expr::InList {
                expr,
                list,
                negated,
            } => {
                if list.is_empty() {
                    return Err(self.error(at, "empty IN list"));
                }
                Expr::InList {
                    expr: Box::new(self.expr(expr, table, depth + 1)?),
                    list: list
                        .iter()
                        .map(&sub)
                        .collect::<Result<Vec<_>, _>>()?
                        .into_iter()
                        .map(|b| *b)
                        .collect(),
                    negated: *negated,
                }
            }
            sp::Expr::Subquery(q) => return Err(self.unsupported(pos(q.span()).or(at), subquery)),
            sp::Expr::InSubquery { subquery: q, .. } => {
                return Err(self.unsupported(pos(q.span()).or(at), subquery))
            }
            sp::Expr::Exists { subquery: q, .. } => {
                return Err(self.unsupported(
                    self.keyword(&[Keyword::EXISTS]).or(pos(q.span())).or(at),
                    subquery,
                ))
            }
            sp::Expr::Function(f) => {
                return Err(self.unsupported(
                    at,
                    &format!(
                        "function call {}(…) (Distlab's SQL subset has no functions)",
                        f.name
                    ),
                ))
            }
            sp::Expr::Between { .. } => {
                return Err(self.unsupported(at, "BETWEEN (write a >= x AND a <= y)"));
            }
            sp::Expr::Like { .. } | sp::Expr::ILike { .. } | sp::Expr::SimilarTo { .. } => {
                return Err(self.unsupported(at, "pattern matching (LIKE / ILIKE / SIMILAR TO)"));
            }
            sp::Expr::Cast { .. } => return Err(self.unsupported(at, &format!("type cast {e}"))),
            sp::Expr::Case { .. } => return Err(self.unsupported(at, "CASE")),
            sp::Expr::IsTrue(_)
            | sp::Expr::IsNotTrue(_)
            | sp::Expr::IsFalse(_)
            | sp::Expr::IsNotFalse(_)
            | sp::Expr::IsUnknown(_)
            | sp::Expr::IsNotUnknown(_) => {
                return Err(self.unsupported(at, &format!("{e} (Distlab has no boolean values)")))
            }
            sp::Expr::IsDistinctFrom(..) | sp::Expr::IsNotDistinctFrom(..) => {
                return Err(self.unsupported(at, "IS [NOT] DISTINCT FROM"))
            }
            sp::Expr::Tuple(_) => return Err(self.unsupported(at, &format!("row constructor {e}"))),
            _ => return Err(self.unsupported(at, &format!("expression {e}"))),
        })
    }

    /// A literal; `negate` for a `-` directly before a number.
    fn value(&self, v: &sp::Value, at: Option<Pos>, negate: bool) -> Result<Value, SqlError> {
        Ok(match v {
            sp::Value::Number(text, _) => {
                if !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(self.unsupported(
                        at,
                        &format!(
                            "non-integer number {text} (Distlab's values are integers and text)"
                        ),
                    ));
                }
                let n = text
                    .parse::<i128>()
                    .ok()
                    .map(|n| if negate { -n } else { n });
                match n.and_then(|n| i64::try_from(n).ok()) {
                    Some(n) => Value::Int(n),
                    None => return Err(self.error(at, format!("integer out of range: {text}"))),
                }
            }
            sp::Value::SingleQuotedString(s) => Value::Text(s.clone()),
            sp::Value::Null => Value::Null,
            sp::Value::Boolean(b) => {
                return Err(self.unsupported(
                    at,
                    &format!(
                        "boolean literal {} (Distlab's values are integers and text)",
                        if *b { "TRUE" } else { "FALSE" }
                    ),
                ))
            }
            sp::Value::Placeholder(p) => {
                return Err(self.unsupported(at, &format!("parameter {p}")))
            }
            other => {
                return Err(self.unsupported(
                    at,
                    &format!("literal {other} (use 'single-quoted' strings)"),
                ))
            }
        })
    }
}

/// The name a SELECT item gets without an alias when it is a (possibly qualified,
/// parenthesized) column reference.
fn output_name(e: &sp::Expr) -> Option<&sp::Ident> {
    match e {
        sp::Expr::Identifier(id) => Some(id),
        sp::Expr::CompoundIdentifier(parts) => parts.last(),
        sp::Expr::Nested(inner) => output_name(inner),
        _ => None,
    }
}
