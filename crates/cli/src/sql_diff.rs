//! `distlab sql diff SCRIPT --postgres URL`: runs a script on the simulator and on a real
//! PostgreSQL (one connection per session, in a fresh schema) and prints where they
//! disagree, statement by statement: status (ok / error / waiting), whether it blocked, the
//! SQLSTATE of errors, the rows returned (compared as a multiset when the SELECT has no
//! ORDER BY, since row order is then unspecified), and the final tables.
//!
//! Blocking on PostgreSQL is observed, not guessed: after submitting a statement the tool
//! waits briefly for it; if it has not finished, it asks `pg_blocking_pids` whether the
//! session's backend waits for a lock.

use crate::sql::load_and_run;
use crate::{emitln, Failure};
use distlab_sim::models::txn::ast::{IsolationLevel, Statement};
use distlab_sim::models::txn::store::Outcome;
use postgres::{Client, NoTls, SimpleQueryMessage};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One statement's result, in a form both sides produce.
#[derive(Clone, Debug, PartialEq)]
enum Res {
    Rows(Vec<Vec<Option<String>>>),
    Ok,
    Error(String),
    Waiting,
}

struct Observed {
    blocked: bool,
    res: Res,
}

/// The schema a run works in: its own, so concurrent runs do not collide.
fn schema() -> String {
    format!("distlab_diff_{}", std::process::id())
}

fn pg_exec(c: &mut Client, sql: &str) -> Res {
    match c.simple_query(sql) {
        Ok(msgs) => {
            let rows: Vec<Vec<Option<String>>> = msgs
                .iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                    }
                    _ => None,
                })
                .collect();
            let is_select = sql.trim_start().to_ascii_lowercase().starts_with("select");
            if is_select {
                Res::Rows(rows)
            } else {
                Res::Ok
            }
        }
        Err(e) => Res::Error(
            e.code()
                .map_or_else(|| "?".to_string(), |c| c.code().to_string()),
        ),
    }
}

fn level_sql(l: IsolationLevel) -> &'static str {
    match l {
        IsolationLevel::ReadUncommitted => "read uncommitted",
        IsolationLevel::ReadCommitted => "read committed",
        IsolationLevel::RepeatableRead => "repeatable read",
        _ => "serializable",
    }
}

/// Final table contents by name, rows as text (`None` = NULL).
type Tables = BTreeMap<String, Vec<Vec<Option<String>>>>;

/// Runs the script on PostgreSQL. Errors: connection or setup failures (exit 2).
fn run_postgres(
    url: &str,
    script: &distlab_sim::models::txn::script::Script,
    level: IsolationLevel,
) -> Result<(Vec<Observed>, Tables), String> {
    let connect = || {
        Client::connect(url, NoTls)
            .map_err(|e| format!("cannot connect to PostgreSQL at {url}: {e}"))
    };
    let schema = schema();
    let mut admin = connect()?;
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema};"))
        .map_err(|e| format!("cannot prepare schema {schema}: {e}"))?;
    let mut tables = Vec::new();
    for l in &script.setup {
        admin
            .batch_execute(&l.sql)
            .map_err(|e| format!("line {}: setup failed on PostgreSQL: {e}", l.line))?;
        if let Statement::CreateTable { name, columns } = &l.statement {
            let pk = columns
                .iter()
                .find(|c| c.primary_key)
                .map(|c| c.name.clone());
            tables.push((name.clone(), pk));
        }
    }

    // One thread and connection per session.
    let (done_tx, done_rx) = mpsc::channel::<(usize, Res)>();
    let mut senders: BTreeMap<String, mpsc::Sender<(usize, String)>> = BTreeMap::new();
    let mut pids: BTreeMap<String, i32> = BTreeMap::new();
    let mut handles = Vec::new();
    for name in script.sessions() {
        let mut c = connect()?;
        c.batch_execute(&format!(
            "SET search_path = {schema}; SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {};",
            level_sql(level)
        ))
        .map_err(|e| format!("cannot set up session {name}: {e}"))?;
        let pid: i32 = c
            .query_one("select pg_backend_pid()", &[])
            .map_err(|e| e.to_string())?
            .get(0);
        pids.insert(name.clone(), pid);
        let (tx, rx) = mpsc::channel::<(usize, String)>();
        senders.insert(name.clone(), tx);
        let done = done_tx.clone();
        handles.push(std::thread::spawn(move || {
            for (idx, sql) in rx {
                let r = pg_exec(&mut c, &sql);
                if done.send((idx, r)).is_err() {
                    break;
                }
            }
            let _ = c.batch_execute("ROLLBACK");
        }));
    }
    drop(done_tx);

    let steps = &script.steps;
    let mut obs: Vec<Observed> = steps
        .iter()
        .map(|_| Observed {
            blocked: false,
            res: Res::Waiting,
        })
        .collect();
    let mut busy: BTreeMap<String, usize> = BTreeMap::new();
    let mut queues: BTreeMap<String, VecDeque<usize>> = BTreeMap::new();
    let session_of = |i: usize| steps[i].session.clone().unwrap_or_default();

    // Records a completion and submits the session's queued lines.
    fn complete(
        idx: usize,
        r: Res,
        obs: &mut [Observed],
        busy: &mut BTreeMap<String, usize>,
        name: &str,
    ) {
        obs[idx].res = r;
        busy.remove(name);
    }

    let wait_for = |idx: usize,
                    done_rx: &mpsc::Receiver<(usize, Res)>,
                    obs: &mut Vec<Observed>,
                    busy: &mut BTreeMap<String, usize>,
                    admin: &mut Client,
                    pid: i32|
     -> Result<(), String> {
        let start = Instant::now();
        loop {
            match done_rx.recv_timeout(Duration::from_millis(150)) {
                Ok((i, r)) => {
                    let name = session_of(i);
                    complete(i, r, obs, busy, &name);
                    if i == idx {
                        return Ok(());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let row = admin
                        .query_one("select cardinality(pg_blocking_pids($1)) > 0", &[&pid])
                        .map_err(|e| e.to_string())?;
                    if row.get::<_, bool>(0) {
                        obs[idx].blocked = true;
                        return Ok(());
                    }
                    if start.elapsed() > Duration::from_secs(20) {
                        return Err(format!(
                            "line {}: PostgreSQL neither finished nor blocked in 20 s",
                            steps[idx].line
                        ));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err("a session connection closed".into())
                }
            }
        }
    };

    let submit = |idx: usize,
                  busy: &mut BTreeMap<String, usize>,
                  obs: &mut Vec<Observed>,
                  admin: &mut Client|
     -> Result<(), String> {
        let name = session_of(idx);
        busy.insert(name.clone(), idx);
        senders[&name]
            .send((idx, steps[idx].sql.clone()))
            .map_err(|_| "session thread ended".to_string())?;
        wait_for(idx, &done_rx, obs, busy, admin, pids[&name])
    };

    // Submits the queued lines of sessions that are free again, in order.
    let drain = |busy: &mut BTreeMap<String, usize>,
                 queues: &mut BTreeMap<String, VecDeque<usize>>,
                 obs: &mut Vec<Observed>,
                 admin: &mut Client|
     -> Result<(), String> {
        loop {
            let ready: Vec<String> = queues
                .iter()
                .filter(|(n, q)| !q.is_empty() && !busy.contains_key(*n))
                .map(|(n, _)| n.clone())
                .collect();
            if ready.is_empty() {
                return Ok(());
            }
            for n in ready {
                if let Some(i) = queues.get_mut(&n).and_then(|q| q.pop_front()) {
                    submit(i, busy, obs, admin)?;
                }
            }
        }
    };
    // Records completions that have already arrived.
    let poll = |busy: &mut BTreeMap<String, usize>, obs: &mut Vec<Observed>, wait: Duration| {
        let mut got = false;
        while let Ok((i, r)) = done_rx.recv_timeout(if got { Duration::ZERO } else { wait }) {
            let name = session_of(i);
            complete(i, r, obs, busy, &name);
            got = true;
        }
        got
    };

    for idx in 0..steps.len() {
        // A blocked statement may have just finished (its blocker ended on the previous line).
        poll(&mut busy, &mut obs, Duration::from_millis(30));
        drain(&mut busy, &mut queues, &mut obs, &mut admin)?;
        let name = session_of(idx);
        if busy.contains_key(&name) || queues.get(&name).is_some_and(|q| !q.is_empty()) {
            queues.entry(name).or_default().push_back(idx);
        } else {
            submit(idx, &mut busy, &mut obs, &mut admin)?;
        }
    }
    // Let blocked statements finish (a deadlock victim is chosen after deadlock_timeout, 1 s)
    // and run what their sessions queued; stop when nothing moves for 1.5 s.
    loop {
        drain(&mut busy, &mut queues, &mut obs, &mut admin)?;
        if busy.is_empty() || !poll(&mut busy, &mut obs, Duration::from_millis(1500)) {
            break;
        }
    }
    // End every session (statements still waiting stay `Waiting`).
    admin
        .execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where pid = any($1)",
            &[&pids.values().copied().collect::<Vec<i32>>()],
        )
        .map_err(|e| e.to_string())?;
    drop(senders);
    for h in handles {
        let _ = h.join();
    }
    let mut finals = BTreeMap::new();
    for (t, pk) in tables {
        let order = pk.map(|c| format!(" order by {c}")).unwrap_or_default();
        finals.insert(
            t.clone(),
            match pg_exec(&mut admin, &format!("select * from {t}{order}")) {
                Res::Rows(r) => r,
                _ => Vec::new(),
            },
        );
    }
    let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    Ok((obs, finals))
}

fn rows_text(rows: &[Vec<distlab_sim::models::txn::ast::Value>]) -> Vec<Vec<Option<String>>> {
    use distlab_sim::models::txn::ast::Value;
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|v| {
                    if *v == Value::Null {
                        None
                    } else {
                        Some(v.to_string())
                    }
                })
                .collect()
        })
        .collect()
}

fn describe(r: &Res) -> String {
    match r {
        Res::Rows(rows) => format!(
            "{} row(s) {:?}",
            rows.len(),
            rows.iter()
                .map(|r| r
                    .iter()
                    .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
                    .collect::<Vec<_>>()
                    .join(","))
                .collect::<Vec<_>>()
        ),
        Res::Ok => "ok".into(),
        Res::Error(s) => format!("error {s}"),
        Res::Waiting => "still waiting".into(),
    }
}

/// Runs the command: 0 when simulator and PostgreSQL agree, 1 when they disagree, 2 on a
/// malformed script or an unreachable server.
pub fn diff(path: &Path, url: &str, level: Option<&str>) -> Result<u8, Failure> {
    let (script, level, sim) = load_and_run(path, level)?;
    let (pg, pg_tables) = run_postgres(url, &script, level).map_err(Failure::Input)?;
    let mut disagreements = 0;
    for (i, s) in sim.statements.iter().enumerate() {
        let ordered = matches!(&script.steps[i].statement, Statement::Select { order_by, .. } if !order_by.is_empty());
        let mut mine = match &s.result {
            None => Res::Waiting,
            Some(Ok(Outcome::Rows { rows, .. })) => Res::Rows(rows_text(rows)),
            Some(Ok(_)) => Res::Ok,
            Some(Err(e)) => Res::Error(e.sqlstate.to_string()),
        };
        let mut theirs = pg[i].res.clone();
        if !ordered {
            for r in [&mut mine, &mut theirs] {
                if let Res::Rows(rows) = r {
                    rows.sort();
                }
            }
        }
        if mine != theirs || s.blocked != pg[i].blocked {
            disagreements += 1;
            emitln(&format!(
                "line {} ({}: {}): simulator {}{}; PostgreSQL {}{}",
                s.line,
                s.session,
                s.sql,
                describe(&mine),
                if s.blocked { " after blocking" } else { "" },
                describe(&theirs),
                if pg[i].blocked { " after blocking" } else { "" },
            ))?;
        }
    }
    for (t, rows) in &sim.tables {
        let mine = rows_text(rows);
        if pg_tables.get(t) != Some(&mine) {
            disagreements += 1;
            emitln(&format!(
                "table {t}: simulator {:?}; PostgreSQL {:?}",
                mine,
                pg_tables.get(t)
            ))?;
        }
    }
    if disagreements == 0 {
        emitln(&format!(
            "{}: simulator and PostgreSQL agree on all {} statements and the final tables",
            path.display(),
            sim.statements.len()
        ))?;
        Ok(0)
    } else {
        emitln(&format!(
            "{}: {disagreements} disagreement(s)",
            path.display()
        ))?;
        Ok(1)
    }
}
