//! Runs an interleaving [`Script`] against the [`Store`]: statements are submitted in script
//! order; a statement that must wait blocks its session, and that session's later lines
//! wait their turn (as in psql, one connection per session); when a transaction ends, the
//! sessions waiting for it resume in the order they started waiting, and then queued lines
//! run in script order. A cycle in the
//! waits-for graph fails the session that started waiting earliest in it with 40P01
//! (PostgreSQL: its `deadlock_timeout` expires first, so it runs the deadlock check).

use super::ast::{IsolationLevel, Value};
use super::script::Script;
use super::store::{DbError, Exec, Outcome, Session, Store, Xid};
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
    /// Whether it had to wait, and for which session.
    pub blocked: bool,
    pub blocked_by: Option<String>,
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

struct Runner {
    store: Store,
    sessions: BTreeMap<String, Session>,
    results: Vec<StatementResult>,
    statements: Vec<super::ast::Statement>,
    queues: BTreeMap<String, VecDeque<usize>>,
    /// Blocked sessions, in the order they started waiting: (session, result index, xid).
    blocked: Vec<(String, usize, Xid)>,
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
            Exec::Blocked { .. } => {
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
            result: None,
        });
        r.statements.push(l.statement.clone());
        let busy = r.blocked.iter().any(|(s, ..)| *s == name)
            || r.queues.get(&name).is_some_and(|q| !q.is_empty());
        if busy {
            r.queues.entry(name).or_default().push_back(idx);
        } else {
            r.submit(&name, idx);
        }
    }
    let tables = r
        .store
        .tables
        .keys()
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
            Exec::Blocked { on } => {
                self.results[idx].blocked = true;
                self.results[idx].blocked_by = self.owner(on);
                if !self.blocked.iter().any(|(s, ..)| s == name) {
                    self.blocked.push((name.to_string(), idx, on));
                } else if let Some(b) = self.blocked.iter_mut().find(|(s, ..)| s == name) {
                    b.2 = on;
                }
                self.detect_deadlock();
            }
        }
    }

    /// Runs queued lines while some session is free: always the earliest line in script
    /// order among the free sessions' next lines (the submission order).
    fn drain(&mut self) {
        loop {
            let next = self
                .queues
                .iter()
                .filter(|(n, q)| !q.is_empty() && !self.blocked.iter().any(|(s, ..)| s == *n))
                .filter_map(|(_, q)| q.front().copied())
                .min();
            let Some(idx) = next else { break };
            let name = self.results[idx].session.clone();
            self.queues.get_mut(&name).expect("queued").pop_front();
            self.submit(&name, idx);
        }
    }

    /// Resumes sessions whose blocker has ended, earliest waiter first, until none can move.
    fn wake(&mut self) {
        loop {
            let ready = self.blocked.iter().position(|(_, _, x)| {
                self.store
                    .txns
                    .get(x)
                    .is_none_or(|t| t.status != super::store::TxnStatus::InProgress)
            });
            let Some(pos) = ready else { break };
            let (name, idx, _) = self.blocked.remove(pos);
            let mut s = self.sessions[&name].clone();
            self.store.statement = idx;
            let exec = self.store.resume(&mut s);
            self.sessions.insert(name.clone(), s);
            self.handle(&name, idx, exec);
        }
    }

    fn detect_deadlock(&mut self) {
        // Follow waits-for edges from each blocked session; a cycle returns to its start.
        let waits: BTreeMap<String, String> = self
            .blocked
            .iter()
            .filter_map(|(s, _, x)| self.owner(*x).map(|o| (s.clone(), o)))
            .collect();
        for (start, ..) in self.blocked.clone() {
            let mut seen = vec![start.clone()];
            let mut cur = start.clone();
            while let Some(next) = waits.get(&cur) {
                if *next == start {
                    // A cycle: the member that started waiting earliest is the victim.
                    let victim = self
                        .blocked
                        .iter()
                        .find(|(s, ..)| seen.contains(s))
                        .cloned()
                        .expect("cycle members are blocked");
                    self.blocked.retain(|(s, ..)| *s != victim.0);
                    let mut s = self.sessions[&victim.0].clone();
                    let exec = self.store.fail(
                        &mut s,
                        DbError {
                            sqlstate: "40P01",
                            message: "deadlock detected".into(),
                        },
                    );
                    self.sessions.insert(victim.0.clone(), s);
                    self.handle(&victim.0, victim.1, exec);
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
