//! Static types of the SQL subset, as PostgreSQL's parse analysis assigns them before a
//! statement runs (PostgreSQL docs ch. 10 "Type Conversion", 10.2 operators, 10.4 value
//! storage; 8.1.1 integer types).
//!
//! [`analyze`] checks a statement against its table and rewrites it: a quoted literal
//! (type `unknown` until its context decides) becomes a value of the type its context needs
//! (`id = '1'` compares integers), and every mismatch is an error before any row is read,
//! as in PostgreSQL — also on an empty table:
//!
//! - 42883 `operator does not exist: text = integer` (operands of no common type);
//! - 42725 `operator is not unique: unknown + unknown`;
//! - 42804 `argument of WHERE must be type boolean, not type integer`, and the same for
//!   AND, OR, NOT; `column "v" is of type integer but expression is of type text`;
//! - 22P02 `invalid input syntax for type integer: "abc"` (a literal that is not one).
//!
//! At run time, integer arithmetic overflows at the width of its static type
//! ([`arithmetic_type`]): `integer` (int4) at ±2³¹ with 22003 `integer out of range`, as
//! PostgreSQL's `int4pl` does, `smallint` and `bigint` likewise; a value stored into a
//! column is range-checked for the column's type.

use super::ast::{BinaryOp, Column, ColumnType, Expr, Projection, Statement, UnaryOp, Value};
use super::store::DbError;

/// A static type: the column types, `boolean` (conditions), and `unknown` (a quoted
/// literal or NULL whose context has not decided its type yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SqlType {
    SmallInt,
    Integer,
    BigInt,
    Text,
    Boolean,
    Unknown,
}

impl SqlType {
    /// PostgreSQL's name of the type, as its error messages say it.
    pub fn name(self) -> &'static str {
        match self {
            SqlType::SmallInt => "smallint",
            SqlType::Integer => "integer",
            SqlType::BigInt => "bigint",
            SqlType::Text => "text",
            SqlType::Boolean => "boolean",
            SqlType::Unknown => "unknown",
        }
    }

    fn integral(self) -> bool {
        matches!(self, SqlType::SmallInt | SqlType::Integer | SqlType::BigInt)
    }

    /// The type of a column.
    pub fn of_column(ty: ColumnType) -> SqlType {
        match ty {
            ColumnType::SmallInt => SqlType::SmallInt,
            ColumnType::Int => SqlType::Integer,
            ColumnType::BigInt => SqlType::BigInt,
            ColumnType::Text => SqlType::Text,
        }
    }

    /// The range of an integer type, and the SQLSTATE 22003 error for leaving it.
    pub fn check_range(self, v: i64) -> Result<i64, DbError> {
        let (lo, hi) = match self {
            SqlType::SmallInt => (i16::MIN as i64, i16::MAX as i64),
            SqlType::Integer => (i32::MIN as i64, i32::MAX as i64),
            _ => (i64::MIN, i64::MAX),
        };
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(self.out_of_range())
        }
    }

    /// 22003 `integer out of range` (with this type's name).
    pub fn out_of_range(self) -> DbError {
        DbError::new("22003", format!("{} out of range", self.name()))
    }
}

/// The type of an integer literal: `integer` if it fits, else `bigint` (PostgreSQL docs
/// 4.1.2.6).
fn literal_type(i: i64) -> SqlType {
    if i32::try_from(i).is_ok() {
        SqlType::Integer
    } else {
        SqlType::BigInt
    }
}

/// The type integer arithmetic on `a` and `b` yields: the wider of the two (smallint <
/// integer < bigint), as PostgreSQL's int2 / int4 / int8 operators are chosen.
fn wider(a: SqlType, b: SqlType) -> SqlType {
    a.max(b)
}

/// The static type of arithmetic (or a column, literal or negation) in an analysed
/// expression — the width at which it overflows. `columns`: the table's columns.
pub fn arithmetic_type(columns: &[Column], e: &Expr) -> SqlType {
    match e {
        Expr::Literal(Value::Int(i)) => literal_type(*i),
        Expr::Literal(_) => SqlType::Unknown,
        Expr::Column(c) => columns
            .iter()
            .find(|x| &x.name == c)
            .map_or(SqlType::Unknown, |x| SqlType::of_column(x.ty)),
        Expr::Unary(UnaryOp::Neg, x) => arithmetic_type(columns, x),
        Expr::Binary(a, op, b) if is_arithmetic(*op) => {
            match (arithmetic_type(columns, a), arithmetic_type(columns, b)) {
                (SqlType::Unknown, t) | (t, SqlType::Unknown) => t,
                (x, y) => wider(x, y),
            }
        }
        _ => SqlType::Boolean,
    }
}

fn is_arithmetic(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
    )
}

fn op_text(op: BinaryOp) -> &'static str {
    match op {
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
        BinaryOp::And => "AND",
        BinaryOp::Or => "OR",
    }
}

fn no_operator(a: SqlType, op: &str, b: SqlType) -> DbError {
    DbError::new(
        "42883",
        format!("operator does not exist: {} {op} {}", a.name(), b.name()),
    )
}

fn not_unique(a: SqlType, op: &str, b: SqlType) -> DbError {
    DbError::new(
        "42725",
        format!("operator is not unique: {} {op} {}", a.name(), b.name()),
    )
}

/// `argument of WHERE must be type boolean, not type integer` (42804).
fn not_boolean(what: &str, t: SqlType) -> DbError {
    DbError::new(
        "42804",
        format!(
            "argument of {what} must be type boolean, not type {}",
            t.name()
        ),
    )
}

/// A quoted literal given the type its context needs (PostgreSQL: the unknown literal is
/// converted with the type's input function). Errors: 22P02 when the text is not a value of
/// that type.
fn convert_literal(s: &str, want: SqlType) -> Result<Expr, DbError> {
    let invalid = || {
        DbError::new(
            "22P02",
            format!("invalid input syntax for type {}: \"{s}\"", want.name()),
        )
    };
    Ok(Expr::Literal(match want {
        SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
            let n = s.trim().parse::<i64>().map_err(|_| invalid())?;
            Value::Int(want.check_range(n)?)
        }
        SqlType::Boolean => {
            let t = s.trim().to_ascii_lowercase();
            let truthy = ["t", "true", "y", "yes", "on", "1"];
            let falsy = ["f", "false", "n", "no", "off", "0"];
            if truthy.contains(&t.as_str()) {
                Value::Int(1)
            } else if falsy.contains(&t.as_str()) {
                Value::Int(0)
            } else {
                return Err(invalid());
            }
        }
        SqlType::Text | SqlType::Unknown => Value::Text(s.to_string()),
    }))
}

/// An expression with its static type.
type Typed = (Expr, SqlType);

/// Gives an `unknown` expression (a quoted literal; NULL stays NULL) the type `want`.
fn coerce_unknown((e, t): Typed, want: SqlType) -> Result<Typed, DbError> {
    if t != SqlType::Unknown {
        return Ok((e, t));
    }
    match e {
        Expr::Literal(Value::Text(s)) => Ok((convert_literal(&s, want)?, want)),
        other => Ok((other, want)),
    }
}

struct Analyzer<'a> {
    columns: &'a [Column],
}

impl Analyzer<'_> {
    /// Types `e`, converting quoted literals where an operator decides their type.
    fn expr(&self, e: &Expr) -> Result<Typed, DbError> {
        Ok(match e {
            Expr::Literal(Value::Int(i)) => (e.clone(), literal_type(*i)),
            Expr::Literal(_) => (e.clone(), SqlType::Unknown),
            Expr::Column(c) => {
                let col = self.columns.iter().find(|x| &x.name == c).ok_or_else(|| {
                    DbError::new("42703", format!("column \"{c}\" does not exist"))
                })?;
                (e.clone(), SqlType::of_column(col.ty))
            }
            Expr::Unary(UnaryOp::Not, x) => {
                let x = self.condition(x, "NOT")?;
                (Expr::Unary(UnaryOp::Not, Box::new(x)), SqlType::Boolean)
            }
            Expr::Unary(UnaryOp::Neg, x) => {
                let (x, t) = self.expr(x)?;
                if t == SqlType::Unknown && !matches!(x, Expr::Literal(Value::Null)) {
                    return Err(DbError::new(
                        "42725",
                        "operator is not unique: - unknown".to_string(),
                    ));
                }
                if !t.integral() && t != SqlType::Unknown {
                    return Err(DbError::new(
                        "42883",
                        format!("operator does not exist: - {}", t.name()),
                    ));
                }
                (Expr::Unary(UnaryOp::Neg, Box::new(x)), t)
            }
            Expr::Binary(a, op @ (BinaryOp::And | BinaryOp::Or), b) => {
                let what = op_text(*op);
                let (a, b) = (self.condition(a, what)?, self.condition(b, what)?);
                (
                    Expr::Binary(Box::new(a), *op, Box::new(b)),
                    SqlType::Boolean,
                )
            }
            Expr::Binary(a, op, b) => {
                let (a, b) = self.pair(self.expr(a)?, *op, self.expr(b)?)?;
                let t = if is_arithmetic(*op) {
                    match (a.1, b.1) {
                        (SqlType::Unknown, t) | (t, SqlType::Unknown) => t,
                        (x, y) => wider(x, y),
                    }
                } else {
                    SqlType::Boolean
                };
                (Expr::Binary(Box::new(a.0), *op, Box::new(b.0)), t)
            }
            Expr::IsNull { expr, negated } => {
                let (x, _) = self.expr(expr)?;
                (
                    Expr::IsNull {
                        expr: Box::new(x),
                        negated: *negated,
                    },
                    SqlType::Boolean,
                )
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                // `x IN (a, b)` is `x = a OR x = b`: each item against x.
                let mut x = self.expr(expr)?;
                let mut items = Vec::new();
                for item in list {
                    let (l, r) = self.pair(x.clone(), BinaryOp::Eq, self.expr(item)?)?;
                    x = l;
                    items.push(r.0);
                }
                (
                    Expr::InList {
                        expr: Box::new(x.0),
                        list: items,
                        negated: *negated,
                    },
                    SqlType::Boolean,
                )
            }
        })
    }

    /// The operands of a binary operator, unknown ones converted to the other's type.
    /// Errors: 42883 for operand types the operator does not take, 42725 for two unknowns
    /// under arithmetic.
    fn pair(&self, a: Typed, op: BinaryOp, b: Typed) -> Result<(Typed, Typed), DbError> {
        use SqlType::*;
        let text = op_text(op);
        let arithmetic = is_arithmetic(op);
        let null = |e: &Expr| matches!(e, Expr::Literal(Value::Null));
        match (a.1, b.1) {
            (Unknown, Unknown) if arithmetic && !null(&a.0) && !null(&b.0) => {
                Err(not_unique(Unknown, text, Unknown))
            }
            // Two unknowns compare as text (PostgreSQL's preferred string type).
            (Unknown, Unknown) => Ok((coerce_unknown(a, Text)?, coerce_unknown(b, Text)?)),
            (Unknown, t) => self.pair(coerce_unknown(a, t)?, op, b),
            (t, Unknown) => self.pair(a, op, coerce_unknown(b, t)?),
            (x, y) if x.integral() && y.integral() => Ok((a, b)),
            (Text, Text) | (Boolean, Boolean) if !arithmetic => Ok((a, b)),
            (x, y) => Err(no_operator(x, text, y)),
        }
    }

    /// A condition (WHERE, or an operand of AND / OR / NOT): must be boolean (a quoted
    /// literal is read as one). Errors: 42804.
    fn condition(&self, e: &Expr, what: &str) -> Result<Expr, DbError> {
        let (e, t) = coerce_unknown(self.expr(e)?, SqlType::Boolean)?;
        match t {
            SqlType::Boolean => Ok(e),
            t => Err(not_boolean(what, t)),
        }
    }

    /// A value stored into `column` (SET, INSERT): unknown literals take the column's type;
    /// integers go into integer columns (range-checked when stored) and, as text, into text
    /// columns (PostgreSQL's assignment cast). Errors: 42804 for other types.
    fn assigned(&self, e: &Expr, column: &Column) -> Result<Expr, DbError> {
        let want = SqlType::of_column(column.ty);
        let (e, t) = coerce_unknown(self.expr(e)?, want)?;
        let ok = t == want
            || (t.integral() && want.integral())
            || (t.integral() && want == SqlType::Text);
        if ok {
            Ok(e)
        } else if t == SqlType::Boolean && want == SqlType::Text {
            Err(DbError::new(
                "0A000",
                format!(
                    "unsupported: a boolean value in column \"{}\" (Distlab keeps booleans to conditions)",
                    column.name
                ),
            ))
        } else {
            Err(DbError::new(
                "42804",
                format!(
                    "column \"{}\" is of type {} but expression is of type {}",
                    column.name,
                    want.name(),
                    t.name()
                ),
            ))
        }
    }

    fn filter(&self, f: &Option<Expr>) -> Result<Option<Expr>, DbError> {
        f.as_ref().map(|f| self.condition(f, "WHERE")).transpose()
    }
}

/// Checks `stmt` against the columns of its table and returns it with every quoted literal
/// converted to the type its context gives it, plus, for a SELECT, which output columns are
/// booleans (PostgreSQL prints those as `t` / `f`). Statements without a table pass through.
/// Errors: see the module documentation; 42703 for an unknown column.
pub fn analyze(stmt: &Statement, columns: &[Column]) -> Result<(Statement, Vec<bool>), DbError> {
    let a = Analyzer { columns };
    let column = |name: &str| {
        columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| DbError::new("42703", format!("column \"{name}\" does not exist")))
    };
    Ok(match stmt {
        Statement::Select {
            table,
            projection,
            filter,
            order_by,
            lock,
        } => {
            let (projection, booleans) = match projection {
                Projection::All => (Projection::All, vec![false; columns.len()]),
                Projection::Exprs(es) => {
                    let mut out = Vec::new();
                    let mut booleans = Vec::new();
                    for (e, name) in es {
                        let (e, t) = coerce_unknown(a.expr(e)?, SqlType::Text)?;
                        booleans.push(t == SqlType::Boolean);
                        out.push((e, name.clone()));
                    }
                    (Projection::Exprs(out), booleans)
                }
            };
            let order_by = order_by
                .iter()
                .map(|o| {
                    let (expr, _) = coerce_unknown(a.expr(&o.expr)?, SqlType::Text)?;
                    Ok(super::ast::OrderBy { expr, ..o.clone() })
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            (
                Statement::Select {
                    table: table.clone(),
                    projection,
                    filter: a.filter(filter)?,
                    order_by,
                    lock: *lock,
                },
                booleans,
            )
        }
        Statement::Update {
            table,
            assignments,
            filter,
        } => {
            let assignments = assignments
                .iter()
                .map(|(c, e)| Ok((c.clone(), a.assigned(e, column(c)?)?)))
                .collect::<Result<Vec<_>, DbError>>()?;
            (
                Statement::Update {
                    table: table.clone(),
                    assignments,
                    filter: a.filter(filter)?,
                },
                Vec::new(),
            )
        }
        Statement::Delete { table, filter } => (
            Statement::Delete {
                table: table.clone(),
                filter: a.filter(filter)?,
            },
            Vec::new(),
        ),
        Statement::Insert {
            table,
            columns: names,
            rows,
        } => {
            let targets: Vec<&Column> = match names {
                Some(ns) => ns.iter().map(|n| column(n)).collect::<Result<_, _>>()?,
                None => columns.iter().collect(),
            };
            let mut out = Vec::new();
            for row in rows {
                if row.len() > targets.len() {
                    return Err(DbError::new(
                        "42601",
                        "INSERT has more expressions than target columns",
                    ));
                }
                out.push(
                    row.iter()
                        .zip(&targets)
                        .map(|(e, c)| a.assigned(e, c))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            (
                Statement::Insert {
                    table: table.clone(),
                    columns: names.clone(),
                    rows: out,
                },
                Vec::new(),
            )
        }
        other => (other.clone(), Vec::new()),
    })
}
