//! Random interleaving scripts for differential testing against PostgreSQL and for property
//! tests: 2 or 3 sessions on a small table `t (id int primary key, value int)`, each running
//! transactions of reads by key, predicate reads, updates by key and by predicate, inserts,
//! deletes, SELECT … FOR UPDATE / FOR SHARE, ended by COMMIT or ROLLBACK at random points.
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
        let sql = match rng.random_range(0..100u32) {
            0..=17 => format!("select * from t where id = {k}"),
            18..=25 => format!(
                "select * from t where value % {} = 0",
                rng.random_range(2..=4)
            ),
            26..=31 => format!(
                "select * from t where value > {}",
                10 * rng.random_range(0..=4)
            ),
            32..=34 => "select * from t order by id".to_string(),
            35..=50 => format!("update t set value = {v} where id = {k}"),
            51..=57 => format!("update t set value = value + 1 where id = {k}"),
            58..=62 => format!(
                "update t set value = value + 1 where value > {}",
                10 * rng.random_range(1..=4)
            ),
            63..=69 => format!("insert into t values ({}, {v})", rng.random_range(5..=7)),
            70..=74 => format!("delete from t where id = {k}"),
            75..=79 => format!("select * from t where id = {k} for update"),
            80..=82 => format!("select * from t where id = {k} for share"),
            83..=93 => {
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
