//! The checker's benchmark workload, runnable natively (`distlab check bench`) and in the
//! browser: the caller passes the histories and a clock, since wasm has no `std::time`.

use super::check::{check, Outcome};
use super::model::ModelSpec;
use super::parse::{parse, Format};
use serde::Serialize;

/// One history to time: its name, its text, its format and the model to check it against.
#[derive(Clone, Debug)]
pub struct Item<'a> {
    pub name: &'a str,
    pub text: &'a str,
    pub format: Format,
    pub spec: ModelSpec,
}

/// One history's result. Times are wall-clock milliseconds as `now_ms` measures them.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub name: String,
    /// Operations in the parsed history.
    pub ops: usize,
    /// `linearizable`, `not-linearizable`, `unknown`, or `error: …` for a malformed file.
    pub outcome: String,
    pub parse_ms: f64,
    pub check_ms: f64,
    pub steps: u64,
}

/// The report: every row, and the total and maximum checking times.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Sum of `check_ms` (parsing excluded, as Porcupine's benchmarks time `CheckOperations`).
    pub total_check_ms: f64,
    /// Sum of `parse_ms`.
    pub total_parse_ms: f64,
    /// The slowest history's `check_ms`, and its name.
    pub max_check_ms: f64,
    pub max_name: String,
}

/// Parses and checks each item once, without a step budget, timing both with `now_ms`
/// (a monotone clock in milliseconds: `Instant` natively, `performance.now()` in the
/// browser).
pub fn run(items: &[Item<'_>], now_ms: &dyn Fn() -> f64) -> Report {
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let t0 = now_ms();
        let parsed = parse(item.text, item.format);
        let t1 = now_ms();
        let row = match parsed {
            Ok(h) => {
                let v = check(&h, &item.spec, None);
                let t2 = now_ms();
                Row {
                    name: item.name.to_string(),
                    ops: h.ops.len(),
                    outcome: match (&v.error, v.outcome) {
                        (Some(e), _) => format!("error: {e}"),
                        (None, o) => o.name().to_string(),
                    },
                    parse_ms: t1 - t0,
                    check_ms: t2 - t1,
                    steps: v.steps,
                }
            }
            Err(e) => Row {
                name: item.name.to_string(),
                ops: 0,
                outcome: format!("error: {e}"),
                parse_ms: t1 - t0,
                check_ms: 0.0,
                steps: 0,
            },
        };
        rows.push(row);
    }
    let total_check_ms = rows.iter().map(|r| r.check_ms).sum();
    let total_parse_ms = rows.iter().map(|r| r.parse_ms).sum();
    let (max_check_ms, max_name) = rows.iter().fold((0.0f64, String::new()), |(m, n), r| {
        if r.check_ms > m {
            (r.check_ms, r.name.clone())
        } else {
            (m, n)
        }
    });
    Report {
        rows,
        total_check_ms,
        total_parse_ms,
        max_check_ms,
        max_name,
    }
}

impl Report {
    /// How many rows had each outcome: (linearizable, not linearizable, other).
    pub fn counts(&self) -> (usize, usize, usize) {
        let l = self
            .rows
            .iter()
            .filter(|r| r.outcome == Outcome::Linearizable.name())
            .count();
        let n = self
            .rows
            .iter()
            .filter(|r| r.outcome == Outcome::NotLinearizable.name())
            .count();
        (l, n, self.rows.len() - l - n)
    }
}
