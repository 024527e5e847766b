//! The SQL subset the transactional store executes, as data. Produced by [`super::sql`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// Isolation levels (PostgreSQL docs 13.2; `ReadUncommitted` is the textbook level, which
/// PostgreSQL itself maps to READ COMMITTED; `Serializable2pl` is strict two-phase locking).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IsolationLevel {
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    /// SSI, as PostgreSQL's SERIALIZABLE.
    Serializable,
    /// Strict two-phase locking with predicate locks (for comparison; not in PostgreSQL).
    Serializable2pl,
}

impl fmt::Display for IsolationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IsolationLevel::ReadUncommitted => "read uncommitted",
            IsolationLevel::ReadCommitted => "read committed",
            IsolationLevel::RepeatableRead => "repeatable read",
            IsolationLevel::Serializable => "serializable",
            IsolationLevel::Serializable2pl => "serializable (2PL)",
        })
    }
}

/// A column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColumnType {
    /// `smallint` (`int2`): 16-bit signed.
    SmallInt,
    /// `int`, `integer` (`int4`): 32-bit signed.
    Int,
    /// `bigint` (`int8`): 64-bit signed.
    BigInt,
    /// `text`, `varchar`, `char` (lengths are not enforced).
    Text,
}

/// A column definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub primary_key: bool,
}

/// A value. `Null` is SQL NULL (three-valued logic in comparisons).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// Binary operators: arithmetic (integers), comparison, boolean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `%`: remainder with the sign of the dividend, as PostgreSQL's `%`.
    Mod,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnaryOp {
    Not,
    Neg,
}

/// An expression over one row's columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expr {
    Literal(Value),
    /// A column of the statement's table, by (lower-case) name.
    Column(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(Box<Expr>, BinaryOp, Box<Expr>),
    /// `e IS NULL` (`negated`: `IS NOT NULL`).
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `e IN (a, b, …)` (`negated`: `NOT IN`), with SQL's NULL rules.
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
}

impl fmt::Display for Expr {
    /// SQL text (fully parenthesized binary operations; text literals quoted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(Value::Text(s)) => write!(f, "'{}'", s.replace('\'', "''")),
            Expr::Literal(v) => write!(f, "{v}"),
            Expr::Column(c) => f.write_str(c),
            Expr::Unary(UnaryOp::Not, x) => write!(f, "not {x}"),
            Expr::Unary(UnaryOp::Neg, x) => write!(f, "-{x}"),
            Expr::Binary(a, op, b) => {
                let op = match op {
                    BinaryOp::Add => "+",
                    BinaryOp::Sub => "-",
                    BinaryOp::Mul => "*",
                    BinaryOp::Div => "/",
                    BinaryOp::Mod => "%",
                    BinaryOp::Eq => "=",
                    BinaryOp::NotEq => "<>",
                    BinaryOp::Lt => "<",
                    BinaryOp::LtEq => "<=",
                    BinaryOp::Gt => ">",
                    BinaryOp::GtEq => ">=",
                    BinaryOp::And => "and",
                    BinaryOp::Or => "or",
                };
                let nested = |e: &Expr| matches!(e, Expr::Binary(..));
                let side = |e: &Expr| {
                    if nested(e) {
                        format!("({e})")
                    } else {
                        e.to_string()
                    }
                };
                write!(f, "{} {op} {}", side(a), side(b))
            }
            Expr::IsNull { expr, negated } => {
                write!(f, "{expr} is {}null", if *negated { "not " } else { "" })
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let items: Vec<String> = list.iter().map(|e| e.to_string()).collect();
                write!(
                    f,
                    "{expr} {}in ({})",
                    if *negated { "not " } else { "" },
                    items.join(", ")
                )
            }
        }
    }
}

impl Expr {
    /// Whether the expression reads a column of the row (so an UPDATE that sets a column
    /// to it computes the new value from the current one, as `hits = hits + 1` does).
    pub fn reads_row(&self) -> bool {
        match self {
            Expr::Literal(_) => false,
            Expr::Column(_) => true,
            Expr::Unary(_, x) => x.reads_row(),
            Expr::Binary(a, _, b) => a.reads_row() || b.reads_row(),
            Expr::IsNull { expr, .. } => expr.reads_row(),
            Expr::InList { expr, list, .. } => expr.reads_row() || list.iter().any(Expr::reads_row),
        }
    }
}

/// What a SELECT returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Projection {
    /// `*`: every column in table order.
    All,
    /// Expressions with their output names.
    Exprs(Vec<(Expr, String)>),
}

/// Row locks a SELECT takes (PostgreSQL docs 13.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowLockMode {
    ForShare,
    ForUpdate,
}

/// One ORDER BY key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBy {
    pub expr: Expr,
    pub descending: bool,
}

/// A statement of the subset. Table and column names are lower-case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Statement {
    /// `BEGIN [ISOLATION LEVEL …]` / `START TRANSACTION …`.
    Begin {
        level: Option<IsolationLevel>,
    },
    /// `SET TRANSACTION ISOLATION LEVEL …` (must precede the transaction's first query).
    SetTransaction {
        level: IsolationLevel,
    },
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT`.
    Rollback,
    CreateTable {
        name: String,
        columns: Vec<Column>,
    },
    /// `INSERT INTO t [(cols)] VALUES (…), (…)`.
    Insert {
        table: String,
        columns: Option<Vec<String>>,
        rows: Vec<Vec<Expr>>,
    },
    Select {
        table: String,
        projection: Projection,
        filter: Option<Expr>,
        order_by: Vec<OrderBy>,
        lock: Option<RowLockMode>,
    },
    Update {
        table: String,
        assignments: Vec<(String, Expr)>,
        filter: Option<Expr>,
    },
    Delete {
        table: String,
        filter: Option<Expr>,
    },
    /// A line that did not parse (kept by [`super::script::parse_script_lenient`] so the
    /// session sees the error, as psql would): running it fails with SQLSTATE 42601 and
    /// `message`, aborting an open transaction block.
    Invalid {
        message: String,
    },
}

impl Statement {
    /// Whether the statement reads or writes table data (and so starts the transaction's
    /// snapshot under REPEATABLE READ / SERIALIZABLE).
    pub fn touches_data(&self) -> bool {
        matches!(
            self,
            Statement::Insert { .. }
                | Statement::Select { .. }
                | Statement::Update { .. }
                | Statement::Delete { .. }
        )
    }
}
