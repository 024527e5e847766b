//! Random interleaving scripts for differential testing against PostgreSQL and for property
//! tests: 2 or 3 sessions on a small table `t (id int primary key, value int)`, each running
//! transactions of reads by key (also `IN`, and a quoted key), predicate reads (`%`, `>`,
//! `OR`, `NOT`, ORDER BY), updates by key and by predicate, an update that moves a row to
//! another key, single- and multi-row inserts, deletes by key and by predicate, SELECT …
//! FOR UPDATE / FOR SHARE, ended by COMMIT or ROLLBACK at random points.
//! Sessions BEGIN without a level, so one script runs at every level (the run's default).
//! Deterministic from the seed (ChaCha8).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The setup every generated script starts with.
pub const SETUP: &str = "setup: create table t (id int primary key, value int);\nsetup: insert into t values (1, 10), (2, 20), (3, 30), (4, 40);\n";

/// Generates script number `index` of the stream for `seed` (scripts are independent, so
/// one can be regenerated alone). Shape: [`SETUP`], then 6–18 session lines, then a COMMIT
/// for every session whose transaction is still open.
pub fn script(seed: u64, index: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let sessions = rng.random_range(2..=3usize);
    let steps = rng.random_range(6..=18usize);
    let mut open = vec![false; sessions];
    let mut out = String::from(SETUP);
    for step in 0..steps {
        let s = rng.random_range(0..sessions);
        let name = format!("T{}", s + 1);
        if !open[s] {
            out.push_str(&format!("{name}: begin;\n"));
            open[s] = true;
        }
        let k = rng.random_range(1..=5i64);
        let v = 100 + 10 * step as i64 + s as i64;
        let k2 = rng.random_range(1..=5i64);
        let n = 10 * rng.random_range(0..=4i64);
        let m = rng.random_range(2..=4i64);
        let sql = match rng.random_range(0..100u32) {
            0..=14 => format!("select * from t where id = {k}"),
            // A quoted literal: PostgreSQL reads it as an integer here.
            15..=16 => format!("select * from t where id = '{k}'"),
            17..=23 => format!("select * from t where value % {m} = 0"),
            24..=28 => format!("select * from t where value > {n}"),
            29..=30 => "select * from t order by id".to_string(),
            31..=32 => format!(
                "select id, value from t where id = {k} or value > {n} order by value desc, id"
            ),
            33 => format!("select * from t where not (value % {m} = 0)"),
            34..=35 => format!("select * from t where id in ({k}, {k2})"),
            36..=48 => format!("update t set value = {v} where id = {k}"),
            49..=55 => format!("update t set value = value + 1 where id = {k}"),
            56..=59 => format!(
                "update t set value = value + 1 where value > {}",
                10 * rng.random_range(1..=4)
            ),
            60 => format!("update t set value = value * 2 where id in ({k}, {k2})"),
            // Moves the row to another key (a new index entry, with the unique check).
            61 => format!("update t set id = id + 10 where id = {k}"),
            62..=67 => format!("insert into t values ({}, {v})", rng.random_range(5..=7)),
            68 => format!(
                "insert into t values ({}, {v}), ({}, {})",
                rng.random_range(5..=7),
                rng.random_range(5..=7),
                v + 1
            ),
            69..=72 => format!("delete from t where id = {k}"),
            73 => format!("delete from t where value > {}", 100 + n),
            74..=78 => format!("select * from t where id = {k} for update"),
            79..=81 => format!("select * from t where id = {k} for share"),
            82..=92 => {
                open[s] = false;
                "commit".to_string()
            }
            _ => {
                open[s] = false;
                "rollback".to_string()
            }
        };
        out.push_str(&format!("{name}: {sql};\n"));
    }
    for (s, o) in open.iter().enumerate() {
        if *o {
            out.push_str(&format!("T{}: commit;\n", s + 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::txn::script::parse_script;

    #[test]
    fn scripts_parse_and_are_deterministic() {
        for i in 0..200 {
            let a = script(7, i);
            assert_eq!(a, script(7, i));
            parse_script(&a).unwrap_or_else(|e| panic!("{e}\n{a}"));
        }
        assert_ne!(script(7, 0), script(8, 0));
    }
}
