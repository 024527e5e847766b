//! Runs an interleaving [`Script`] against the [`Store`]: statements are submitted in script
//! order; a statement that must wait blocks its session, and that session's later lines
//! wait their turn (as in psql, one connection per session); when a transaction ends, the
//! sessions waiting for it resume in the order they started waiting, and then queued lines
//! run in script order.
//!
//! Sessions waiting for the same row queue for it, as PostgreSQL's tuple lock makes them
//! (heap_update / heap_lock_tuple take it before sleeping on the row's holder): the first
//! waiter holds the row's place and waits for the holder's transaction; a later waiter in a
//! conflicting mode waits for the first waiter, and when that one has acted on the row it
//! looks at the row again (and usually waits for the first waiter's transaction).
//!
//! A cycle in the waits-for graph fails the session that started its current wait earliest
//! with 40P01 (PostgreSQL: each wait arms a `deadlock_timeout` timer, and the first to fire
//! after the cycle closed runs the check that finds it).

use super::ast::{IsolationLevel, Value};
use super::script::Script;
use super::store::{DbError, Exec, Outcome, RowWait, Session, Store, TxnStatus, Xid};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// What became of one script line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatementResult {
    /// 1-based line in the script.
    pub line: usize,
    pub session: String,
    pub sql: String,
    /// Event counter when the line was submitted, and when it completed (`None`: still waiting).
    pub submitted: usize,
    pub completed: Option<usize>,
    /// Whether it had to wait, and for which session (the last one it waited for).
    pub blocked: bool,
    pub blocked_by: Option<String>,
    /// Whether that wait was in line for a row behind another waiter (`blocked_by`), rather
    /// than for the transaction holding the row.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_line: bool,
    /// `None` while waiting.
    pub result: Option<Result<Outcome, DbError>>,
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub statements: Vec<StatementResult>,
    /// Final committed contents by table, rows ordered by primary key.
    pub tables: BTreeMap<String, Vec<Vec<Value>>>,
    pub store: Store,
}

/// A blocked session.
#[derive(Clone, Debug)]
struct Waiter {
    session: String,
    /// Its statement (index in the results).
    idx: usize,
    /// The transaction holding what it waits for.
    on: Xid,
    /// The row version it waits for, if it waits for a row.
    row: Option<RowWait>,
    /// The transaction of the waiter ahead of it in that row's line (PostgreSQL's tuple
    /// lock holder), while it waits behind one.
    behind: Option<Xid>,
}

impl Waiter {
    /// The transaction it waits for now.
    fn blocker(&self) -> Xid {
        self.behind.unwrap_or(self.on)
    }
}

struct Runner {
    store: Store,
    sessions: BTreeMap<String, Session>,
    results: Vec<StatementResult>,
    statements: Vec<super::ast::Statement>,
    queues: BTreeMap<String, VecDeque<usize>>,
    /// Blocked sessions, in the order they started their current wait.
    blocked: Vec<Waiter>,
    /// Woken sessions that have dealt with the row they waited for and will go on with
    /// the rest of their statement, in the order they were woken.
    woken: VecDeque<(String, usize)>,
    clock: usize,
    level: IsolationLevel,
}

/// Runs `script`, every session starting at `level` (statements may change it). Errors:
/// a setup line that fails or waits, with its line number.
pub fn run_script(script: &Script, level: IsolationLevel) -> Result<RunResult, String> {
    let mut store = Store::new();
    let mut setup = Session::new("setup", IsolationLevel::ReadCommitted);
    for l in &script.setup {
        match store.execute(&mut setup, &l.statement) {
            Exec::Done(Ok(_)) => {}
            Exec::Done(Err(e)) => {
                return Err(format!(
                    "line {}: setup failed: {} ({})",
                    l.line, e.message, e.sqlstate
                ))
            }
            Exec::Blocked { .. } | Exec::Yielded => {
                return Err(format!("line {}: setup statement would wait", l.line))
            }
        }
    }
    if let Some(x) = setup.txn {
        // An unterminated BEGIN in the setup: commit it, as the sessions expect the data.
        let _ = x;
        store.execute(&mut setup, &super::ast::Statement::Commit);
    }
    let mut r = Runner {
        store,
        sessions: BTreeMap::new(),
        results: Vec::new(),
        statements: Vec::new(),
        queues: BTreeMap::new(),
        blocked: Vec::new(),
        woken: VecDeque::new(),
        clock: 0,
        level,
    };
    for l in &script.steps {
        let name = l.session.clone().unwrap_or_else(|| "setup".into());
        r.clock += 1;
        let idx = r.results.len();
        r.results.push(StatementResult {
            line: l.line,
            session: name.clone(),
            sql: l.sql.clone(),
            submitted: r.clock,
            completed: None,
            blocked: false,
            blocked_by: None,
            in_line: false,
            result: None,
        });
        r.statements.push(l.statement.clone());
        let busy = r.busy(&name) || r.queues.get(&name).is_some_and(|q| !q.is_empty());
        if busy {
            r.queues.entry(name).or_default().push_back(idx);
        } else {
            r.submit(&name, idx);
        }
    }
    let tables = r
        .store
        .committed_tables()
        .map(|t| (t.clone(), r.store.committed_rows(t)))
        .collect();
    Ok(RunResult {
        statements: r.results,
        tables,
        store: r.store,
    })
}

impl Runner {
    fn session(&mut self, name: &str) -> &mut Session {
        let level = self.level;
        self.sessions
            .entry(name.to_string())
            .or_insert_with(|| Session::new(name, level))
    }

    fn submit(&mut self, name: &str, idx: usize) {
        let stmt = self.statements[idx].clone();
        let mut s = self.session(name).clone();
        self.store.statement = idx;
        let exec = self.store.execute(&mut s, &stmt);
        self.sessions.insert(name.to_string(), s);
        self.handle(name, idx, exec);
    }

    fn owner(&self, xid: Xid) -> Option<String> {
        self.sessions
            .iter()
            .find(|(_, s)| s.txn == Some(xid))
            .map(|(n, _)| n.clone())
    }

    fn handle(&mut self, name: &str, idx: usize, exec: Exec) {
        match exec {
            Exec::Done(result) => {
                self.clock += 1;
                self.results[idx].completed = Some(self.clock);
                self.results[idx].result = Some(result);
                self.wake();
                self.drain();
            }
            Exec::Yielded => self.woken.push_back((name.to_string(), idx)),
            Exec::Blocked { on, row } => {
                self.results[idx].blocked = true;
                // Behind the waiter holding the row's place, if there is one.
                let behind = row.as_ref().and_then(|r| self.place_holder(r, name));
                let w = Waiter {
                    session: name.to_string(),
                    idx,
                    on,
                    row,
                    behind,
                };
                match self.blocked.iter_mut().find(|b| b.session == name) {
                    Some(b) => *b = w,
                    None => self.blocked.push(w),
                }
                self.line_up();
                self.detect_deadlock();
            }
        }
    }

    /// Whether the session is running a statement (blocked, or woken and going on).
    fn busy(&self, name: &str) -> bool {
        self.blocked.iter().any(|w| w.session == name) || self.woken.iter().any(|w| w.0 == name)
    }

    /// Runs queued lines while some session is free: always the earliest line in script
    /// order among the free sessions' next lines (the submission order). Not while a woken
    /// statement has yet to go on: what it does comes first (nothing new is submitted until
    /// every running statement has finished or waits).
    fn drain(&mut self) {
        loop {
            if !self.woken.is_empty() {
                return;
            }
            let next = self
                .queues
                .iter()
                .filter(|(n, q)| !q.is_empty() && !self.busy(n))
                .filter_map(|(_, q)| q.front().copied())
                .min();
            let Some(idx) = next else { break };
            let name = self.results[idx].session.clone();
            self.queues.get_mut(&name).expect("queued").pop_front();
            self.submit(&name, idx);
        }
    }

    /// The transaction of the waiter that holds the place of `row` (PostgreSQL's tuple lock)
    /// in a mode conflicting with it, other than `session`.
    fn place_holder(&self, row: &RowWait, session: &str) -> Option<Xid> {
        self.blocked
            .iter()
            .filter(|h| h.session != session && h.behind.is_none())
            .find(|h| h.row.as_ref().is_some_and(|r| r.conflicts_with(row)))
            .and_then(|h| self.sessions[&h.session].txn)
    }

    /// Keeps each waiter in line behind the current holder of its row's place (the holder
    /// changes when the one it waited behind has acted and another was let in first), and
    /// records whom each blocked statement waits for.
    fn line_up(&mut self) {
        for k in 0..self.blocked.len() {
            let w = &self.blocked[k];
            if let (Some(_), Some(row)) = (w.behind, &w.row) {
                if let Some(h) = self.place_holder(row, &w.session) {
                    self.blocked[k].behind = Some(h);
                }
            }
        }
        for w in &self.blocked {
            // (A transaction that has ended has no session any more: keep the name.)
            if let Some(by) = self.owner(w.blocker()) {
                let r = &mut self.results[w.idx];
                r.in_line = w.behind.is_some();
                r.blocked_by = Some(by);
            }
        }
    }

    /// Whether a waiter can go on: the transaction it waits for has ended, or, in line for a
    /// row, nobody holds the row's place any more (it then looks at the row again).
    fn ready(&self, w: &Waiter) -> bool {
        match (&w.behind, &w.row) {
            (Some(_), Some(row)) => self.place_holder(row, &w.session).is_none(),
            _ => self
                .store
                .txns
                .get(&w.on)
                .is_none_or(|t| t.status != TxnStatus::InProgress),
        }
    }

    /// Resumes sessions that can go on, until none can move: first every waiter that can
    /// go on, earliest first, each only as far as the row it waited for; then the rest of
    /// their statements, in the order they were woken (see [`Store::resume_from_wait`]).
    fn wake(&mut self) {
        loop {
            self.line_up();
            let (name, idx, exec) =
                if let Some(pos) = self.blocked.iter().position(|w| self.ready(w)) {
                    let w = self.blocked.remove(pos);
                    let mut s = self.sessions[&w.session].clone();
                    self.store.statement = w.idx;
                    let exec = self.store.resume_from_wait(&mut s);
                    self.sessions.insert(w.session.clone(), s);
                    (w.session, w.idx, exec)
                } else if let Some((name, idx)) = self.woken.pop_front() {
                    let mut s = self.sessions[&name].clone();
                    self.store.statement = idx;
                    let exec = self.store.resume(&mut s);
                    self.sessions.insert(name.clone(), s);
                    (name, idx, exec)
                } else {
                    break;
                };
            self.handle(&name, idx, exec);
        }
    }

    fn detect_deadlock(&mut self) {
        // Follow waits-for edges from each blocked session; a cycle returns to its start. A
        // waiter that can go on (its row's place is free) waits for nobody: it is about to
        // look at the row again and start a new wait.
        let waits: BTreeMap<String, String> = self
            .blocked
            .iter()
            .filter(|w| !self.ready(w))
            .filter_map(|w| self.owner(w.blocker()).map(|o| (w.session.clone(), o)))
            .collect();
        for start in self
            .blocked
            .iter()
            .map(|w| w.session.clone())
            .collect::<Vec<_>>()
        {
            let mut seen = vec![start.clone()];
            let mut cur = start.clone();
            while let Some(next) = waits.get(&cur) {
                if *next == start {
                    // A cycle: the member whose current wait started earliest is the victim.
                    let victim = self
                        .blocked
                        .iter()
                        .find(|w| seen.contains(&w.session))
                        .cloned()
                        .expect("cycle members are blocked");
                    self.blocked.retain(|w| w.session != victim.session);
                    let mut s = self.sessions[&victim.session].clone();
                    let exec = self.store.fail(
                        &mut s,
                        DbError {
                            sqlstate: "40P01",
                            message: "deadlock detected".into(),
                        },
                    );
                    self.sessions.insert(victim.session.clone(), s);
                    self.handle(&victim.session, victim.idx, exec);
                    return;
                }
                if seen.contains(next) {
                    break;
                }
                seen.push(next.clone());
                cur = next.clone();
            }
        }
    }
}
