//! `distlab sql diff SCRIPT --postgres URL`: runs a script on the simulator and on a real
//! PostgreSQL (one connection per session, in a fresh schema) and prints where they
//! disagree, statement by statement: status (ok / error / waiting), whether it blocked, the
//! SQLSTATE of errors, the rows returned (compared as a multiset when the SELECT has no
//! ORDER BY, since row order is then unspecified), and the final tables.
//!
//! Blocking on PostgreSQL is observed, not guessed: after submitting a statement the tool
//! waits briefly for it; if it has not finished, it asks `pg_blocking_pids` whether the
//! session's backend waits for a lock.

use crate::sql::{load_and_run, parse};
use crate::{emitln, Failure};
use distlab_sim::models::txn::ast::{IsolationLevel, Statement};
use distlab_sim::models::txn::run::{run_script, RunResult};
use distlab_sim::models::txn::script::Script;
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

/// The schema a run works in: its own (per process and worker), so concurrent runs do not
/// collide.
fn schema(worker: usize) -> String {
    format!("distlab_diff_{}_{worker}", std::process::id())
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

/// The PostgreSQL side of a run in progress: what each line did, which session runs which
/// line, which lines wait their session's turn.
struct Harness<'a> {
    obs: Vec<Observed>,
    busy: BTreeMap<String, usize>,
    queues: BTreeMap<String, VecDeque<usize>>,
    done_rx: mpsc::Receiver<(usize, Res)>,
    pids: BTreeMap<String, i32>,
    session_of: &'a dyn Fn(usize) -> String,
}

impl Harness<'_> {
    /// Records the completions that arrive within `wait` (then any already there).
    fn receive(&mut self, wait: Duration) -> bool {
        let mut got = false;
        while let Ok((i, r)) =
            self.done_rx
                .recv_timeout(if got { Duration::from_millis(5) } else { wait })
        {
            self.busy.remove(&(self.session_of)(i));
            self.obs[i].res = r;
            got = true;
        }
        got
    }

    /// Waits until every busy session has finished its line or waits for a lock
    /// (`pg_blocking_pids`), so that what a commit released has settled before the next
    /// line is submitted. A line seen waiting is marked blocked. While the waiting sessions
    /// form a cycle (a deadlock PostgreSQL has not yet detected: it looks only after
    /// `deadlock_timeout`, 1 s), it keeps waiting for the victim's error, as a person typing
    /// the next line would; the simulator resolves a deadlock when the cycle closes, so
    /// statements submitted in that second would otherwise meet a state the script never
    /// has. `line` names the script line in the error when PostgreSQL neither finishes nor
    /// blocks within 20 s.
    fn settle(&mut self, admin: &mut Client, line: usize) -> Result<(), String> {
        let start = Instant::now();
        loop {
            self.receive(Duration::from_millis(15));
            if self.busy.is_empty() {
                return Ok(());
            }
            let mut all_waiting = true;
            let mut waits_for: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
            for (name, idx) in self.busy.clone() {
                let pid = self.pids[&name];
                let row = admin
                    .query_one("select pg_blocking_pids($1)", &[&pid])
                    .map_err(|e| e.to_string())?;
                let blockers: Vec<i32> = row.get(0);
                if blockers.is_empty() {
                    all_waiting = false;
                } else {
                    self.obs[idx].blocked = true;
                    waits_for.insert(pid, blockers);
                }
            }
            if all_waiting && !has_cycle(&waits_for) {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(20) {
                return Err(format!(
                    "line {line}: PostgreSQL neither finished nor blocked in 20 s"
                ));
            }
        }
    }
}

/// Whether a waits-for graph (backend pid → the pids it waits for) has a cycle.
fn has_cycle(waits_for: &BTreeMap<i32, Vec<i32>>) -> bool {
    // Depth-first search; 1 = on the current path, 2 = done.
    fn visit(p: i32, g: &BTreeMap<i32, Vec<i32>>, mark: &mut BTreeMap<i32, u8>) -> bool {
        match mark.get(&p) {
            Some(1) => return true,
            Some(_) => return false,
            None => {}
        }
        mark.insert(p, 1);
        let found = g
            .get(&p)
            .is_some_and(|next| next.iter().any(|&q| visit(q, g, mark)));
        mark.insert(p, 2);
        found
    }
    let mut mark = BTreeMap::new();
    waits_for.keys().any(|&p| visit(p, waits_for, &mut mark))
}

/// Runs the script on PostgreSQL. Errors: connection or setup failures (exit 2).
fn run_postgres(
    url: &str,
    script: &distlab_sim::models::txn::script::Script,
    level: IsolationLevel,
    worker: usize,
) -> Result<(Vec<Observed>, Tables), String> {
    let connect = || {
        Client::connect(url, NoTls)
            .map_err(|e| format!("cannot connect to PostgreSQL at {url}: {e}"))
    };
    let schema = schema(worker);
    let mut admin = connect()?;
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema};"))
        .map_err(|e| format!("cannot prepare schema {schema}: {e}"))?;
    for l in &script.setup {
        admin
            .batch_execute(&l.sql)
            .map_err(|e| format!("line {}: setup failed on PostgreSQL: {e}", l.line))?;
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
    let session_of = |i: usize| steps[i].session.clone().unwrap_or_default();
    let mut h = Harness {
        obs: steps
            .iter()
            .map(|_| Observed {
                blocked: false,
                res: Res::Waiting,
            })
            .collect(),
        busy: BTreeMap::new(),
        queues: BTreeMap::new(),
        done_rx,
        pids: pids.clone(),
        session_of: &session_of,
    };
    let submit = |h: &mut Harness, admin: &mut Client, idx: usize| -> Result<(), String> {
        let name = session_of(idx);
        h.busy.insert(name.clone(), idx);
        senders[&name]
            .send((idx, steps[idx].sql.clone()))
            .map_err(|_| "session thread ended".to_string())?;
        h.settle(admin, steps[idx].line)
    };
    // Queued lines run in script order: the free session whose next line is earliest.
    let drain = |h: &mut Harness, admin: &mut Client| -> Result<(), String> {
        loop {
            let next = h
                .queues
                .iter()
                .filter(|(n, q)| !q.is_empty() && !h.busy.contains_key(*n))
                .filter_map(|(_, q)| q.front().copied())
                .min();
            let Some(idx) = next else { return Ok(()) };
            h.queues
                .get_mut(&session_of(idx))
                .expect("queued")
                .pop_front();
            submit(h, admin, idx)?;
        }
    };
    for idx in 0..steps.len() {
        drain(&mut h, &mut admin)?;
        let name = session_of(idx);
        if h.busy.contains_key(&name) || h.queues.get(&name).is_some_and(|q| !q.is_empty()) {
            h.queues.entry(name).or_default().push_back(idx);
        } else {
            submit(&mut h, &mut admin, idx)?;
        }
    }
    // Let blocked statements finish (a deadlock victim is chosen after deadlock_timeout, 1 s)
    // and run what their sessions queued; stop when nothing moves for 1.5 s.
    loop {
        drain(&mut h, &mut admin)?;
        if h.busy.is_empty() || !h.receive(Duration::from_millis(1500)) {
            break;
        }
        h.settle(&mut admin, 0)?;
    }
    let obs = std::mem::take(&mut h.obs);
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
    let finals = read_tables(&mut admin, &schema);
    let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    Ok((obs, finals?))
}

/// Every table of `schema` at the end, whichever line created it, rows ordered by the
/// primary key (heap order without one, as the simulator's).
fn read_tables(admin: &mut Client, schema: &str) -> Result<Tables, String> {
    let tables = admin
        .query(
            "select c.relname::text, \
                    array(select a.attname::text \
                          from unnest(i.indkey::int2[]) with ordinality as k(attnum, pos) \
                          join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum \
                          order by k.pos) \
             from pg_class c \
             join pg_namespace s on s.oid = c.relnamespace \
             left join pg_index i on i.indrelid = c.oid and i.indisprimary \
             where s.nspname = $1 and c.relkind in ('r', 'p') \
             order by 1",
            &[&schema],
        )
        .map_err(|e| format!("cannot list the tables of schema {schema}: {e}"))?;
    let mut finals = BTreeMap::new();
    for row in tables {
        let t: String = row.get(0);
        let pk: Vec<String> = row.get(1);
        let order = if pk.is_empty() {
            String::new()
        } else {
            let cols: Vec<String> = pk.iter().map(|c| quote_ident(c)).collect();
            format!(" order by {}", cols.join(", "))
        };
        let sql = format!("select * from {}{order}", quote_ident(&t));
        match pg_exec(admin, &sql) {
            Res::Rows(r) => {
                finals.insert(t, r);
            }
            other => {
                return Err(format!(
                    "cannot read table {t} on PostgreSQL: {}",
                    describe(&other)
                ))
            }
        }
    }
    Ok(finals)
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
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

/// Where the simulator's run and PostgreSQL's differ, one line per statement or table.
fn compare(script: &Script, sim: &RunResult, pg: &[Observed], pg_tables: &Tables) -> Vec<String> {
    let mut out = Vec::new();
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
            // A line the simulator could not parse: say what it does not support.
            let why = match &script.steps[i].statement {
                Statement::Invalid { message } => format!(" ({message})"),
                _ => String::new(),
            };
            out.push(format!(
                "line {} ({}: {}): simulator {}{why}{}; PostgreSQL {}{}",
                s.line,
                s.session,
                s.sql,
                describe(&mine),
                if s.blocked { " after blocking" } else { "" },
                describe(&theirs),
                if pg[i].blocked { " after blocking" } else { "" },
            ));
        }
    }
    // Every table that exists at the end on either side.
    let names: std::collections::BTreeSet<&String> =
        sim.tables.keys().chain(pg_tables.keys()).collect();
    for t in names {
        let mine = sim.tables.get(t).map(|rows| rows_text(rows));
        match (mine, pg_tables.get(t)) {
            (Some(mine), Some(theirs)) if mine == *theirs => {}
            (Some(mine), Some(theirs)) => {
                out.push(format!("table {t}: simulator {mine:?}; PostgreSQL {theirs:?}"))
            }
            (Some(mine), None) => out.push(format!(
                "table {t}: exists on the simulator only, with rows {mine:?}; PostgreSQL has no such table"
            )),
            (None, Some(theirs)) => out.push(format!(
                "table {t}: exists on PostgreSQL only, with rows {theirs:?}; the simulator has no such table"
            )),
            (None, None) => {}
        }
    }
    out
}

/// Runs script text on both sides: the disagreements (empty when they agree). Errors: a
/// malformed script, failing setup, or PostgreSQL trouble.
fn diff_text(
    text: &str,
    url: &str,
    level: IsolationLevel,
    worker: usize,
) -> Result<Vec<String>, String> {
    let script = parse(text).map_err(|e| e.to_string())?;
    let sim = run_script(&script, level)?;
    let (pg, pg_tables) = run_postgres(url, &script, level, worker)?;
    Ok(compare(&script, &sim, &pg, &pg_tables))
}

/// Removes session lines one at a time while the script still disagrees (a greedy
/// delta-debugging pass to a fixpoint): the result is 1-minimal.
fn minimize(text: &str, url: &str, level: IsolationLevel, worker: usize, first: &str) -> String {
    // "line 7 (T2: update …): simulator …" → "T2: update …" (line numbers shift as lines go).
    fn key(d: &str) -> Option<&str> {
        match d.strip_prefix("line ") {
            Some(rest) => rest
                .split_once(" (")
                .and_then(|(_, r)| r.split_once("): "))
                .map(|(k, _)| k),
            None => d.split_once(':').map(|(k, _)| k),
        }
    }
    let target: Option<String> = key(first).map(str::to_string);
    let mut lines: Vec<&str> = text.lines().collect();
    loop {
        let mut shrunk = false;
        let mut i = 0;
        while i < lines.len() {
            if lines[i].starts_with("setup:") {
                i += 1;
                continue;
            }
            let mut candidate = lines.clone();
            candidate.remove(i);
            let t = candidate.join("\n") + "\n";
            // Keep the removal only if the same statement (or table) still disagrees.
            let same = |d: &Vec<String>| d.first().and_then(|x| key(x)) == target.as_deref();
            if diff_text(&t, url, level, worker).is_ok_and(|d| same(&d)) {
                lines = candidate;
                shrunk = true;
            } else {
                i += 1;
            }
        }
        if !shrunk {
            return lines.join("\n") + "\n";
        }
    }
}

/// The levels `sql fuzz` compares: PostgreSQL's three distinct ones (its READ UNCOMMITTED
/// is READ COMMITTED, and 2PL is not in PostgreSQL).
pub const FUZZ_LEVELS: [IsolationLevel; 3] = [
    IsolationLevel::ReadCommitted,
    IsolationLevel::RepeatableRead,
    IsolationLevel::Serializable,
];

/// Options of `distlab sql fuzz`: `count` generated scripts from `seed` (starting at script `from`),
/// each at every level of [`FUZZ_LEVELS`] (or only `level`), on both sides, `workers` at a
/// time. Prints the agreement rate per level and every disagreeing script minimized, with
/// the command that reproduces it. Exit 0 when every level agrees on at least
/// `min_agreement` percent, 1 otherwise, 2 on an unreachable server.
pub struct FuzzOptions<'a> {
    pub url: &'a str,
    pub seed: u64,
    pub from: u64,
    pub count: u64,
    pub level: Option<&'a str>,
    pub min_agreement: f64,
    pub workers: usize,
    pub json: bool,
}

/// A disagreeing script: its index, level, differences and minimized text.
type Disagreement = (u64, IsolationLevel, Vec<String>, String);

/// A script whose first run disagreed but a re-run agreed (PostgreSQL raced): its index,
/// level, the first run's differences, and the re-run that agreed (1-based).
type Raced = (u64, IsolationLevel, Vec<String>, u32);

/// How many times `sql fuzz` runs a disagreeing script again on PostgreSQL before it counts
/// as a disagreement. Sessions woken at the same moment run side by side in PostgreSQL, so
/// a few scripts have more than one PostgreSQL outcome; one re-run that agrees shows the
/// simulator's outcome is one of them.
pub const FUZZ_RERUNS: u32 = 3;

/// Runs `sql fuzz` with `o` (see the command's help).
pub fn fuzz(o: FuzzOptions<'_>) -> Result<u8, Failure> {
    use distlab_sim::models::txn::generate;
    use std::sync::atomic::{AtomicU64, Ordering};
    let FuzzOptions {
        url,
        seed,
        from,
        count,
        level,
        min_agreement,
        workers,
        json: as_json,
    } = o;
    use std::sync::Mutex;
    let levels: Vec<IsolationLevel> = match level {
        Some(l) => vec![crate::sql::parse_level(l).map_err(Failure::Input)?],
        None => FUZZ_LEVELS.to_vec(),
    };
    // Fail fast on an unreachable server.
    Client::connect(url, NoTls)
        .map_err(|e| Failure::Input(format!("cannot connect to PostgreSQL at {url}: {e}")))?;
    let next = AtomicU64::new(from);
    let agreed: Mutex<BTreeMap<IsolationLevel, u64>> = Mutex::new(BTreeMap::new());
    let failures: Mutex<Vec<Disagreement>> = Mutex::new(Vec::new());
    let raced: Mutex<Vec<Raced>> = Mutex::new(Vec::new());
    let trouble: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|sc| {
        for w in 0..workers.max(1) {
            let (next, agreed, failures, raced, trouble, levels) =
                (&next, &agreed, &failures, &raced, &trouble, &levels);
            sc.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= from + count || trouble.lock().unwrap().is_some() {
                    return;
                }
                let text = generate::script(seed, i);
                for &l in levels {
                    match diff_text(&text, url, l, w) {
                        Ok(d) if d.is_empty() => {
                            *agreed.lock().unwrap().entry(l).or_insert(0) += 1;
                        }
                        Ok(d) => {
                            let again = (1..=FUZZ_RERUNS)
                                .find(|_| diff_text(&text, url, l, w).is_ok_and(|d| d.is_empty()));
                            match again {
                                Some(n) => {
                                    *agreed.lock().unwrap().entry(l).or_insert(0) += 1;
                                    raced.lock().unwrap().push((i, l, d, n));
                                }
                                None => {
                                    let small = minimize(&text, url, l, w, &d[0]);
                                    failures.lock().unwrap().push((i, l, d, small));
                                }
                            }
                        }
                        Err(e) => {
                            *trouble.lock().unwrap() = Some(format!("script {i} at {l}: {e}"));
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = trouble.into_inner().unwrap() {
        return Err(Failure::Input(e));
    }
    let agreed = agreed.into_inner().unwrap();
    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|f| (f.0, f.1));
    let mut raced = raced.into_inner().unwrap();
    raced.sort_by_key(|f| (f.0, f.1));
    let raced_at = |l: &IsolationLevel| raced.iter().filter(|r| r.1 == *l).count();
    let rate =
        |l: &IsolationLevel| 100.0 * *agreed.get(l).unwrap_or(&0) as f64 / count.max(1) as f64;
    let pass = levels.iter().all(|l| rate(l) >= min_agreement);
    let level_arg = |l: IsolationLevel| match l {
        IsolationLevel::Serializable2pl => "serializable-2pl".to_string(),
        _ => l.to_string().replace(' ', "-"),
    };
    if as_json {
        let v = serde_json::json!({
            "seed": seed,
            "from": from,
            "count": count,
            "levels": levels.iter().map(|l| serde_json::json!({
                "level": l.to_string(),
                "agreed": agreed.get(l).unwrap_or(&0),
                "raced": raced_at(l),
                "rate": rate(l),
            })).collect::<Vec<_>>(),
            "raced": raced.iter().map(|(i, l, d, n)| serde_json::json!({
                "script": i, "level": l.to_string(), "differences": d, "agreed_on_rerun": n,
            })).collect::<Vec<_>>(),
            "disagreements": failures.iter().map(|(i, l, d, small)| serde_json::json!({
                "script": i, "level": l.to_string(), "differences": d, "minimized": small,
            })).collect::<Vec<_>>(),
        });
        emitln(&serde_json::to_string_pretty(&v).expect("serializable"))?;
    } else {
        for (i, l, d, n) in &raced {
            emitln(&format!(
                "script {i} at {l}: PostgreSQL raced: the first run differed in {} statement(s) or table(s), re-run {n} agreed",
                d.len()
            ))?;
            for line in d {
                emitln(&format!("  {line}"))?;
            }
        }
        for (i, l, d, small) in &failures {
            emitln(&format!("script {i} at {l}: {} difference(s):", d.len()))?;
            for line in d {
                emitln(&format!("  {line}"))?;
            }
            emitln(&format!(
                "  minimized:\n{}",
                small
                    .lines()
                    .map(|x| format!("    {x}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ))?;
            emitln(&format!(
                "  reproduce: distlab sql fuzz --postgres URL --seed {seed} --from {i} --count 1 --level {}",
                level_arg(*l)
            ))?;
        }
        for l in &levels {
            let n = raced_at(l);
            let raced_note = if n > 0 {
                format!("; {n} of them on a re-run, PostgreSQL's first outcome differing")
            } else {
                String::new()
            };
            emitln(&format!(
                "{l}: {} of {count} generated scripts agree with PostgreSQL ({:.1}%{raced_note})",
                agreed.get(l).unwrap_or(&0),
                rate(l)
            ))?;
        }
    }
    Ok(if pass { 0 } else { 1 })
}

/// Runs the command: 0 when simulator and PostgreSQL agree, 1 when they disagree, 2 on a
/// malformed script or an unreachable server.
pub fn diff(path: &Path, url: &str, level: Option<&str>) -> Result<u8, Failure> {
    let (script, level, sim) = load_and_run(path, level)?;
    let (pg, pg_tables) = run_postgres(url, &script, level, 0).map_err(Failure::Input)?;
    let lines = compare(&script, &sim, &pg, &pg_tables);
    for l in &lines {
        emitln(l)?;
    }
    let disagreements = lines.len();
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

#[cfg(test)]
mod tests {
    use super::{compare, has_cycle, Tables};
    use distlab_sim::models::txn::ast::IsolationLevel;
    use distlab_sim::models::txn::run::run_script;
    use std::collections::BTreeMap;

    #[test]
    fn tables_on_one_side_only_are_disagreements() {
        let script = crate::sql::parse(
            "setup: create table t (id int primary key, v int);\nsetup: insert into t values (1, 10);\n",
        )
        .unwrap();
        let sim = run_script(&script, IsolationLevel::ReadCommitted).unwrap();
        let row = |a: &str, b: &str| vec![Some(a.to_string()), Some(b.to_string())];
        let same: Tables = [("t".to_string(), vec![row("1", "10")])].into();
        assert!(compare(&script, &sim, &[], &same).is_empty());
        let other: Tables = [("u".to_string(), vec![row("2", "20")])].into();
        assert_eq!(
            compare(&script, &sim, &[], &other),
            vec![
                "table t: exists on the simulator only, with rows [[Some(\"1\"), Some(\"10\")]]; PostgreSQL has no such table",
                "table u: exists on PostgreSQL only, with rows [[Some(\"2\"), Some(\"20\")]]; the simulator has no such table",
            ]
        );
    }

    #[test]
    fn waits_for_cycles() {
        let g = |edges: &[(i32, &[i32])]| -> BTreeMap<i32, Vec<i32>> {
            edges.iter().map(|(p, b)| (*p, b.to_vec())).collect()
        };
        assert!(!has_cycle(&g(&[])));
        // 1 waits for 2, which is idle in its transaction (not waiting): no deadlock.
        assert!(!has_cycle(&g(&[(1, &[2])])));
        // Two waiters on the same holder: no deadlock.
        assert!(!has_cycle(&g(&[(1, &[3]), (2, &[3])])));
        assert!(has_cycle(&g(&[(1, &[2]), (2, &[1])])));
        // A three-way cycle reached through a second blocker.
        assert!(has_cycle(&g(&[(1, &[4, 2]), (2, &[3]), (3, &[1])])));
    }
}
