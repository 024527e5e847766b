//! The MVCC store: tables of row versions, transactions, snapshots and row locks, executing
//! [`Statement`]s for sessions the way PostgreSQL 15 does at READ COMMITTED, REPEATABLE
//! READ and SERIALIZABLE (PostgreSQL docs 13.2.1–13.2.3, 13.3.2), plus a textbook READ UNCOMMITTED that
//! really reads uncommitted data (PostgreSQL maps that level to READ COMMITTED).
//!
//! - **Row versions** carry `xmin` (creating transaction) and `xmax` (deleting / updating
//!   transaction) with command ids, so a statement never sees its own changes (PostgreSQL's
//!   cmin / cmax) and an update links the old version to the new one (the ctid chain).
//! - **Snapshots**: a transaction sees the versions created by transactions that committed
//!   before its snapshot, plus its own earlier commands. READ COMMITTED takes a snapshot per
//!   statement; REPEATABLE READ at its first statement that reads or writes data.
//! - **Writes** (UPDATE, DELETE, SELECT … FOR UPDATE / FOR SHARE) on a row whose newest
//!   version is being changed or locked (conflicting mode) by another transaction in progress
//!   **block** until it ends. If that transaction committed a change the snapshot does not
//!   see: READ COMMITTED re-checks the WHERE clause on the newest version and acts on it
//!   (EvalPlanQual, docs 13.2.1); REPEATABLE READ fails with SQLSTATE 40001 "could not
//!   serialize access due to concurrent update" (docs 13.2.2).
//! - **Primary keys** are checked against every live version, not the snapshot: an insert
//!   waits for a transaction in progress that inserted the same key, and fails with 23505 if
//!   it committed.
//! - **Errors inside a transaction block** abort it at once (its locks are released); the
//!   session then answers 25P02 "current transaction is aborted, commands ignored until end
//!   of transaction block" until ROLLBACK (or COMMIT, which rolls back).
//! - **Deadlocks** are found in the waits-for graph (by the runner, [`super::run`]); the
//!   transaction whose current wait began earliest in the cycle fails with 40P01 "deadlock
//!   detected". That is PostgreSQL's behaviour when the statements arrive within
//!   `deadlock_timeout` (1 s) of each other, as in a script: that waiter's timer fires first
//!   and it runs the check. Typed slowly, PostgreSQL fails the transaction that closed the
//!   cycle instead (the first waiter's one check found no cycle yet). The differential tests
//!   against PostgreSQL pin this (`distlab sql diff`).
//! - **Waits for a row** say which version and lock they want ([`RowWait`]), so the runner
//!   can queue several waiters for one row as PostgreSQL's tuple lock does; a statement woken
//!   from such a wait can stop once it has dealt with that row ([`Store::resume_from_wait`]).
//!
//! - **SERIALIZABLE** is PostgreSQL's SSI: REPEATABLE READ plus the SIREAD locks and
//!   rw-conflict checks of [`super::ssi`] (docs 13.2.3).
//! - **Serializable (2PL)**, not in PostgreSQL, is strict two-phase locking: reads share-lock
//!   the rows they return and predicate-lock their WHERE clause until the end of the
//!   transaction, always reading the latest committed state; writers wait for those locks.

use super::ast::{
    BinaryOp, Column, ColumnType, Expr, IsolationLevel, Projection, RowLockMode, Statement,
    UnaryOp, Value,
};
use super::history::{History, ObjectInfo, Observed, ReadInfo, TxnInfo, TxnOutcome, VersionInfo};
use super::ssi::{access_path, AccessPath, Ssi, Target};
use super::types::{arithmetic_type, SqlType};
use serde::Serialize;
use std::collections::BTreeMap;

/// A transaction id. Ids start at [`FIRST_XID`] and grow in begin order.
pub type Xid = u64;
/// The first transaction id handed out (PostgreSQL's first normal id is 3; larger ids read
/// better next to row values).
pub const FIRST_XID: Xid = 100;
/// The first PostgreSQL transaction id handed out (at a transaction's first write).
const FIRST_PG_XID: u64 = 1000;

/// One version of a row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Version {
    /// The transaction that created this version, and the command within it.
    pub xmin: Xid,
    pub cmin: u32,
    /// The transaction that deleted it or replaced it with a newer version, and its command.
    pub xmax: Option<Xid>,
    pub cmax: u32,
    /// The newer version an UPDATE made of this row (index in the table).
    pub updated_to: Option<usize>,
    pub values: Vec<Value>,
    /// Whether an UPDATE computed these values from the version it replaced (its SET reads
    /// the row, as in `hits = hits + 1`), rather than setting them outright.
    pub derived: bool,
}

impl Version {
    /// A new version written by `xmin` at command `cmin`, not yet replaced or deleted.
    fn created(xmin: Xid, cmin: u32, values: Vec<Value>) -> Self {
        Version {
            xmin,
            cmin,
            xmax: None,
            cmax: 0,
            updated_to: None,
            values,
            derived: false,
        }
    }
}

/// A table: its columns and every version of every row, in creation order (which is also
/// PostgreSQL's heap order for a small table without VACUUM, and so the order of a scan).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub versions: Vec<Version>,
    /// Row locks taken by SELECT … FOR UPDATE / FOR SHARE, by version index.
    pub locks: BTreeMap<usize, Vec<(Xid, RowLockMode)>>,
    /// The transaction that created the table. DDL is transactional in PostgreSQL: other
    /// transactions see the table once it commits (catalog reads use the latest snapshot),
    /// and a rollback drops it.
    pub created_by: Xid,
}

/// Where a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxnStatus {
    InProgress,
    Committed,
    Aborted,
}

/// A transaction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Txn {
    pub xid: Xid,
    pub level: IsolationLevel,
    pub status: TxnStatus,
    /// Position in the commit order (1, 2, …) once committed.
    pub commit_seq: Option<u64>,
    /// The transaction snapshot (REPEATABLE READ): commits up to this sequence number are visible.
    pub snapshot: Option<u64>,
    /// The current command id.
    pub cid: u32,
    /// The session that runs it.
    pub session: String,
    /// PostgreSQL's transaction id, assigned at the first write as PostgreSQL does (SSI
    /// compares these with snapshots' xmin).
    pub pg_xid: Option<u64>,
}

/// An error as PostgreSQL reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DbError {
    /// SQLSTATE, e.g. `"40001"`.
    pub sqlstate: &'static str,
    pub message: String,
}

impl DbError {
    pub(crate) fn new(sqlstate: &'static str, message: impl Into<String>) -> Self {
        DbError {
            sqlstate,
            message: message.into(),
        }
    }
    fn serialization() -> Self {
        DbError::new(
            "40001",
            "could not serialize access due to concurrent update",
        )
    }
    fn aborted() -> Self {
        DbError::new(
            "25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }
}

/// What a completed statement returns.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Outcome {
    /// A SELECT's rows.
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    /// INSERT / UPDATE / DELETE: the command tag and the number of rows.
    Affected { command: &'static str, count: u64 },
    /// Other statements: the command tag (`BEGIN`, `COMMIT`, `ROLLBACK`, `SET`, `CREATE TABLE`).
    Done { command: &'static str },
}

/// The result of running (or resuming) a statement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Exec {
    Done(Result<Outcome, DbError>),
    /// Waiting for transaction `on` to end. `row`: the row version the statement waits to
    /// change or lock, when it waits for a row (not for a key or a predicate lock).
    Blocked {
        on: Xid,
        row: Option<RowWait>,
    },
    /// Returned by [`Store::resume_from_wait`]: the statement has acted on the row it waited
    /// for and stopped there; [`Store::resume`] runs the rest.
    Yielded,
}

/// The row version a blocked UPDATE, DELETE or SELECT … FOR UPDATE / FOR SHARE waits for,
/// and the lock it wants. Before sleeping on the transaction that holds the row, PostgreSQL
/// takes a heavyweight lock on the tuple itself (heap_update / heap_lock_tuple:
/// `heap_acquire_tuplock`, "to establish our priority for the tuple"), held until it has
/// acted on the row; a later waiter for the same version in a conflicting mode queues
/// behind that waiter instead of the row's holder. The runner keeps that queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowWait {
    pub table: String,
    /// Index of the version in the table.
    pub version: usize,
    /// `ForUpdate` for UPDATE and DELETE.
    pub mode: RowLockMode,
}

impl RowWait {
    /// Whether two waits are for the same version in modes whose tuple locks conflict
    /// (PostgreSQL's tuple locks of FOR SHARE are compatible with each other; every other
    /// pair conflicts).
    pub fn conflicts_with(&self, other: &RowWait) -> bool {
        self.table == other.table
            && self.version == other.version
            && (self.mode == RowLockMode::ForUpdate || other.mode == RowLockMode::ForUpdate)
    }
}

/// A statement in progress (it may be blocked).
#[derive(Clone, Debug, PartialEq)]
struct Pending {
    stmt: Statement,
    /// The statement's snapshot (commit sequence number).
    snapshot: u64,
    /// Rows of a multi-row INSERT already inserted.
    inserted: usize,
    /// Whether the statement runs in its own transaction (no BEGIN).
    autocommit: bool,
    /// Rows processed so far by a blocked SELECT … FOR UPDATE / SHARE, returned at the end.
    locked_rows: Vec<usize>,
    /// Rows an UPDATE / DELETE changed so far (a resumed statement skips them).
    affected: u64,
    /// The version at which the statement's scan last stopped to wait. PostgreSQL resumes a
    /// scan where it stopped, so on resuming, versions up to this one are not examined again
    /// for SSI (in particular, a transaction doomed meanwhile does not fail on them), and a
    /// sequential scan does not read its page again.
    blocked_at: Option<usize>,
    /// Stop once the scan has dealt with this version (the one it waited for).
    yield_after: Option<usize>,
    /// A new version whose changed primary key still has to pass the unique check (the
    /// statement waited for a transaction holding the same key).
    key_check: Option<usize>,
    /// A SELECT's output columns that are booleans (printed `t` / `f`, as by PostgreSQL).
    booleans: Vec<bool>,
}

/// A client session (a connection).
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub name: String,
    /// The level new transactions get (`SET SESSION CHARACTERISTICS` / the server default).
    pub default_level: IsolationLevel,
    /// The open transaction, if any.
    pub txn: Option<Xid>,
    /// Whether BEGIN opened a transaction block.
    pub in_block: bool,
    /// An error aborted the block: commands fail with 25P02 until ROLLBACK.
    pub failed: bool,
    pending: Option<Pending>,
}

impl Session {
    pub fn new(name: impl Into<String>, default_level: IsolationLevel) -> Self {
        Session {
            name: name.into(),
            default_level,
            txn: None,
            in_block: false,
            failed: false,
            pending: None,
        }
    }
    /// Whether a statement is in progress (blocked).
    pub fn busy(&self) -> bool {
        self.pending.is_some()
    }
}

/// The database.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Store {
    pub tables: BTreeMap<String, Table>,
    pub txns: BTreeMap<Xid, Txn>,
    next_xid: Xid,
    commit_seq: u64,
    /// SERIALIZABLE (SSI) bookkeeping: SIREAD locks, rw-conflicts.
    pub ssi: Ssi,
    /// Predicate locks of the 2PL level: (transaction, table, WHERE clause; `None` = all rows).
    pub predicate_locks: Vec<(Xid, String, Option<Expr>)>,
    /// Every scan, for the history ([`Store::history`]).
    pub scans: Vec<Scan>,
    /// The index of the statement being run, copied into [`Scan::statement`] (set by the runner).
    pub statement: usize,
    next_pg_xid: u64,
    latest_completed_pg_xid: u64,
}

/// One scan of a table by a statement: what it saw, for the history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scan {
    pub xid: Xid,
    pub statement: usize,
    pub table: String,
    pub predicate: Option<String>,
    /// The statement's snapshot (commit sequence number) and command id.
    pub snapshot: u64,
    pub cid: u32,
    /// Visible versions with whether they matched the WHERE clause (READ UNCOMMITTED: the
    /// versions it saw, committed or not).
    pub seen: Vec<(usize, bool)>,
    #[serde(skip)]
    filter: Option<Expr>,
}

enum RowAction {
    /// The new values, and whether they were computed from the row's current ones.
    Update(Vec<Value>, bool),
    Delete,
    Lock(RowLockMode),
}

/// Why a statement stopped before completing.
enum Stop {
    Error(DbError),
    /// Waiting for this transaction to end (and, when waiting for a row, which).
    Blocked(Xid, Option<RowWait>),
    /// Dealt with the row it had waited for (see [`Store::resume_from_wait`]).
    Yield,
}

impl From<DbError> for Stop {
    fn from(e: DbError) -> Self {
        Stop::Error(e)
    }
}

/// Computes what to do to a row from its current values.
type RowFn<'a> = dyn Fn(&Table, &[Value]) -> Result<RowAction, DbError> + 'a;

enum Step {
    /// Acted on this version (for locks: the version now locked).
    Done(usize),
    Skip,
    /// Must wait for this transaction; with the version, when it waits for the row itself
    /// (its writer or a conflicting locker), without for a 2PL predicate lock.
    Block(Xid, Option<usize>),
    /// Changed the row's primary key (new version at this index), and must wait for this
    /// transaction before the unique check can decide (it inserted or deleted that key).
    KeyWait(Xid, usize),
}

impl Store {
    pub fn new() -> Self {
        Store {
            next_xid: FIRST_XID,
            next_pg_xid: FIRST_PG_XID,
            latest_completed_pg_xid: FIRST_PG_XID - 1,
            ..Default::default()
        }
    }

    fn status(&self, x: Xid) -> TxnStatus {
        self.txns.get(&x).map_or(TxnStatus::Aborted, |t| t.status)
    }

    /// Whether `x` committed at or before snapshot `snap`.
    fn committed_in(&self, x: Xid, snap: u64) -> bool {
        self.txns
            .get(&x)
            .is_some_and(|t| t.commit_seq.is_some_and(|c| c <= snap))
    }

    /// Whether version `v` is visible to transaction `me` at command `cid` with snapshot `snap`.
    fn visible(&self, v: &Version, me: Xid, cid: u32, snap: u64, dirty: bool) -> bool {
        let created = if v.xmin == me {
            v.cmin < cid
        } else if dirty {
            self.status(v.xmin) != TxnStatus::Aborted
        } else {
            self.committed_in(v.xmin, snap)
        };
        if !created {
            return false;
        }
        match v.xmax {
            None => true,
            Some(x) if x == me => v.cmax >= cid,
            Some(x) if dirty => self.status(x) == TxnStatus::Aborted,
            Some(x) => !self.committed_in(x, snap),
        }
    }

    fn begin(&mut self, level: IsolationLevel, session: &str) -> Xid {
        let xid = self.next_xid;
        self.next_xid += 1;
        self.txns.insert(
            xid,
            Txn {
                xid,
                level,
                status: TxnStatus::InProgress,
                commit_seq: None,
                snapshot: None,
                cid: 0,
                session: session.to_string(),
                pg_xid: None,
            },
        );
        xid
    }

    fn end(&mut self, xid: Xid, commit: bool) {
        let seq = if commit {
            self.commit_seq += 1;
            Some(self.commit_seq)
        } else {
            None
        };
        if let Some(t) = self.txns.get_mut(&xid) {
            t.status = if commit {
                TxnStatus::Committed
            } else {
                TxnStatus::Aborted
            };
            t.commit_seq = seq;
            if let Some(px) = t.pg_xid {
                self.latest_completed_pg_xid = self.latest_completed_pg_xid.max(px);
            }
        }
        if commit {
            self.ssi.commit(xid, self.next_pg_xid);
        } else {
            self.ssi.abort(xid);
        }
        self.predicate_locks.retain(|(x, ..)| *x != xid);
        if !commit {
            self.tables.retain(|_, t| t.created_by != xid);
        }
        for table in self.tables.values_mut() {
            for holders in table.locks.values_mut() {
                holders.retain(|(x, _)| *x != xid);
            }
            table.locks.retain(|_, h| !h.is_empty());
        }
    }

    /// Runs `stmt` for `session`. A statement that must wait returns [`Exec::Blocked`] and
    /// stays pending in the session: call [`Store::resume`] after the blocker ends.
    /// Errors: SQLSTATEs 40001, 23505, 25P02, 25001 (BEGIN inside a block), 42P01 (no such
    /// table), 42703 (no such column), 42P07 (table exists), 22012 (division by zero),
    /// 42804 (type mismatch), 0A000 (a level not implemented yet).
    pub fn execute(&mut self, session: &mut Session, stmt: &Statement) -> Exec {
        assert!(
            session.pending.is_none(),
            "session {} is blocked",
            session.name
        );
        if session.failed {
            return Exec::Done(match stmt {
                Statement::Rollback | Statement::Commit => {
                    session.failed = false;
                    session.in_block = false;
                    session.txn = None;
                    Ok(Outcome::Done {
                        command: "ROLLBACK",
                    })
                }
                _ => Err(DbError::aborted()),
            });
        }
        match stmt {
            Statement::Invalid { message } => self.fail(session, DbError::new("42601", message)),
            Statement::Begin { level } => {
                if session.in_block {
                    // PostgreSQL: a WARNING, and the block goes on.
                    return Exec::Done(Ok(Outcome::Done { command: "BEGIN" }));
                }
                let level = level.unwrap_or(session.default_level);
                session.txn = Some(self.begin(level, &session.name));
                session.in_block = true;
                Exec::Done(Ok(Outcome::Done { command: "BEGIN" }))
            }
            Statement::SetTransaction { level } => {
                match session.txn.and_then(|x| self.txns.get_mut(&x)) {
                    Some(t) if session.in_block && t.snapshot.is_none() && t.cid == 0 => {
                        t.level = *level;
                        Exec::Done(Ok(Outcome::Done { command: "SET" }))
                    }
                    Some(_) if session.in_block => self.fail(
                        session,
                        DbError::new(
                            "25001",
                            "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                        ),
                    ),
                    // Outside a block it only warns in PostgreSQL and has no effect.
                    _ => Exec::Done(Ok(Outcome::Done { command: "SET" })),
                }
            }
            Statement::Commit | Statement::Rollback => {
                let commit = matches!(stmt, Statement::Commit);
                session.in_block = false;
                if let Some(x) = session.txn.take() {
                    if commit {
                        // A failed COMMIT rolls back and ends the block (no 25P02 after it).
                        if let Err(e) = self.commit(x) {
                            return Exec::Done(Err(e));
                        }
                    } else {
                        self.end(x, false);
                    }
                }
                Exec::Done(Ok(Outcome::Done {
                    command: if commit { "COMMIT" } else { "ROLLBACK" },
                }))
            }
            _ => {
                let autocommit = session.txn.is_none();
                let xid = match session.txn {
                    Some(x) => x,
                    None => {
                        let x = self.begin(session.default_level, &session.name);
                        session.txn = Some(x);
                        x
                    }
                };
                let xmin = self.snapshot_xmin();
                let t = self.txns.get_mut(&xid).expect("open transaction");
                t.cid += 1;
                let level = t.level;
                let snapshot = match level {
                    IsolationLevel::ReadCommitted
                    | IsolationLevel::ReadUncommitted
                    | IsolationLevel::Serializable2pl => self.commit_seq,
                    _ if !stmt.touches_data() => self.commit_seq,
                    _ => *t.snapshot.get_or_insert(self.commit_seq),
                };
                if level == IsolationLevel::Serializable && stmt.touches_data() {
                    self.ssi.register(xid, xmin);
                }
                // Parse analysis: types checked and literals converted before anything runs.
                let (stmt, booleans) = match self.analyze(stmt, xid) {
                    Ok(x) => x,
                    Err(e) => return self.fail(session, e),
                };
                session.pending = Some(Pending {
                    stmt,
                    booleans,
                    snapshot,
                    inserted: 0,
                    autocommit,
                    locked_rows: Vec::new(),
                    affected: 0,
                    blocked_at: None,
                    yield_after: None,
                    key_check: None,
                });
                self.resume(session)
            }
        }
    }

    /// Continues a session's pending statement (after the transaction it waited for ended)
    /// to its end or its next wait.
    pub fn resume(&mut self, session: &mut Session) -> Exec {
        self.continue_pending(session, false)
    }

    /// Continues a session's pending statement only until it has dealt with the row it
    /// waited for (changed, locked or skipped it), returning [`Exec::Yielded`] there; a
    /// statement that did not wait for a row in a scan runs on as with [`Store::resume`].
    ///
    /// The runner uses this because PostgreSQL wakes every session waiting for a
    /// transaction at once, and those sessions then run side by side: each first deals
    /// with the row it waited for, which is quick, and only then goes on with the rest of
    /// its scan. Letting every woken session take that first step before any goes further
    /// reproduces who reaches a contended row first (and so who waits for whom next).
    pub fn resume_from_wait(&mut self, session: &mut Session) -> Exec {
        self.continue_pending(session, true)
    }

    fn continue_pending(&mut self, session: &mut Session, stop_after_row: bool) -> Exec {
        let Some(mut p) = session.pending.take() else {
            return Exec::Done(Err(DbError::new("XX000", "nothing to resume")));
        };
        let xid = session
            .txn
            .expect("pending statements run in a transaction");
        p.yield_after = if stop_after_row { p.blocked_at } else { None };
        match self.run(xid, &mut p) {
            Err(Stop::Blocked(on, row)) => {
                session.pending = Some(p);
                Exec::Blocked { on, row }
            }
            Err(Stop::Yield) => {
                p.yield_after = None;
                session.pending = Some(p);
                Exec::Yielded
            }
            Err(Stop::Error(e)) => self.fail(session, e),
            Ok(out) => {
                if p.autocommit {
                    session.txn = None;
                    if let Err(e) = self.commit(xid) {
                        return Exec::Done(Err(e));
                    }
                }
                Exec::Done(Ok(out))
            }
        }
    }

    /// Commits `x`, unless SSI's pre-commit check fails it (then it rolls back: 40001).
    fn commit(&mut self, x: Xid) -> Result<(), DbError> {
        if let Err(e) = self.ssi.precommit(x) {
            self.end(x, false);
            return Err(e);
        }
        self.end(x, true);
        Ok(())
    }

    /// PostgreSQL's transaction id for `x`, assigned at its first write.
    fn assign_pg_xid(&mut self, x: Xid) {
        if let Some(t) = self.txns.get_mut(&x) {
            if t.pg_xid.is_none() {
                t.pg_xid = Some(self.next_pg_xid);
                self.next_pg_xid += 1;
            }
        }
    }

    /// The xmin of a snapshot taken now (PostgreSQL's GetSnapshotData): the oldest running
    /// transaction id below xmax = latest completed + 1, or xmax itself.
    fn snapshot_xmin(&self) -> u64 {
        let xmax = self.latest_completed_pg_xid + 1;
        self.txns
            .values()
            .filter(|t| t.status == TxnStatus::InProgress)
            .filter_map(|t| t.pg_xid)
            .filter(|x| *x < xmax)
            .min()
            .unwrap_or(xmax)
    }

    /// Fails the session's transaction with `e` (aborting it at once, as PostgreSQL does).
    pub fn fail(&mut self, session: &mut Session, e: DbError) -> Exec {
        session.pending = None;
        if let Some(x) = session.txn {
            self.end(x, false);
        }
        if session.in_block {
            session.failed = true;
        } else {
            session.txn = None;
        }
        Exec::Done(Err(e))
    }

    /// [`super::types::analyze`] against the statement's table. Errors: 42P01 (no such
    /// table), and the type errors listed there.
    fn analyze(&self, stmt: &Statement, me: Xid) -> Result<(Statement, Vec<bool>), DbError> {
        let table = match stmt {
            Statement::Select { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. }
            | Statement::Insert { table, .. } => table,
            _ => return Ok((stmt.clone(), Vec::new())),
        };
        super::types::analyze(stmt, &self.table(table, me)?.columns)
    }

    /// The table `name` as transaction `me` sees it: committed, or created by `me`.
    /// Errors: 42P01.
    fn table(&self, name: &str, me: Xid) -> Result<&Table, DbError> {
        self.tables
            .get(name)
            .filter(|t| t.created_by == me || self.status(t.created_by) == TxnStatus::Committed)
            .ok_or_else(|| DbError::new("42P01", format!("relation \"{name}\" does not exist")))
    }

    /// The names of the tables that exist for everyone (their creator committed).
    pub fn committed_tables(&self) -> impl Iterator<Item = &String> {
        self.tables
            .iter()
            .filter(|(_, t)| self.status(t.created_by) == TxnStatus::Committed)
            .map(|(n, _)| n)
    }

    /// Runs a pending statement.
    fn run(&mut self, me: Xid, p: &mut Pending) -> Result<Outcome, Stop> {
        let t = &self.txns[&me];
        let (cid, level) = (t.cid, t.level);
        let dirty = level == IsolationLevel::ReadUncommitted;
        if level == IsolationLevel::Serializable2pl {
            // Locks, not snapshots: every (re)start reads the latest committed state.
            p.snapshot = self.commit_seq;
        }
        let snap = p.snapshot;
        match p.stmt.clone() {
            Statement::CreateTable { name, columns } => {
                if let Some(t) = self.tables.get(&name) {
                    // The catalog's unique index on the name: wait for a creator in
                    // progress (a rollback drops its table), then it exists.
                    if t.created_by != me && self.status(t.created_by) == TxnStatus::InProgress {
                        return Err(Stop::Blocked(t.created_by, None));
                    }
                    return Err(Stop::Error(DbError::new(
                        "42P07",
                        format!("relation \"{name}\" already exists"),
                    )));
                }
                self.tables.insert(
                    name.clone(),
                    Table {
                        name,
                        columns,
                        versions: Vec::new(),
                        locks: BTreeMap::new(),
                        created_by: me,
                    },
                );
                Ok(Outcome::Done {
                    command: "CREATE TABLE",
                })
            }
            Statement::Insert {
                table,
                columns,
                rows,
            } => {
                let tab = self.table(&table, me)?.clone();
                while p.inserted < rows.len() {
                    let values = build_row(&tab, columns.as_deref(), &rows[p.inserted])?;
                    if let Some(pk) = tab.columns.iter().position(|c| c.primary_key) {
                        if values[pk] == Value::Null {
                            return Err(not_null(&table, &tab.columns[pk].name).into());
                        }
                    }
                    if let Some(x) = self.predicate_lock_conflict(&table, me, &values, None) {
                        return Err(Stop::Blocked(x, None));
                    }
                    self.assign_pg_xid(me);
                    self.ssi.conflict_in(
                        me,
                        &[Target::Relation {
                            table: table.clone(),
                        }],
                    )?;
                    if let Some(pk) = tab.columns.iter().position(|c| c.primary_key) {
                        if let Some(x) = self.unique_check(&table, pk, &values[pk], me, None)? {
                            return Err(Stop::Blocked(x, None));
                        }
                    }
                    let tab_mut = self.tables.get_mut(&table).expect("checked");
                    tab_mut.versions.push(Version::created(me, cid, values));
                    p.inserted += 1;
                }
                Ok(Outcome::Affected {
                    command: "INSERT",
                    count: rows.len() as u64,
                })
            }
            Statement::Select {
                table,
                projection,
                filter,
                order_by,
                lock,
            } => {
                let tab = self.table(&table, me)?.clone();
                // 2PL: every row read is share-locked until the end of the transaction.
                let lock = match level {
                    IsolationLevel::Serializable2pl => lock.or(Some(RowLockMode::ForShare)),
                    _ => lock,
                };
                let resumed = p.blocked_at;
                let path = self.begin_scan(me, &tab, filter.as_ref(), &order_by, cid, p)?;
                // The order rows reach LockRows: heap order, or key order for a full index
                // scan (ORDER BY the key). With another ORDER BY, PostgreSQL's plan sorts
                // first (LockRows above Sort): the whole scan runs, then rows are locked in
                // the sorted order.
                let pk = tab
                    .columns
                    .iter()
                    .find(|c| c.primary_key)
                    .map(|c| c.name.clone());
                let plan = access_path(pk.as_deref(), filter.as_ref(), &order_by);
                let by_index = lock.is_some() && plan == AccessPath::IndexScan(None);
                let sort_then_lock = lock.is_some() && !order_by.is_empty() && !by_index;
                let mut order: Vec<usize> = (0..tab.versions.len()).collect();
                if by_index {
                    let key = tab
                        .columns
                        .iter()
                        .position(|c| c.primary_key)
                        .expect("a key");
                    let values = |i: usize| &tab.versions[i].values[key];
                    order.sort_by(|&a, &b| {
                        let c = cmp_nulls_last(values(a), values(b));
                        if order_by[0].descending {
                            c.reverse()
                        } else {
                            c
                        }
                    });
                }
                let place = |ord: &[usize], v: Option<usize>| {
                    v.and_then(|v| ord.iter().position(|&x| x == v))
                };
                let (stop_at, resume_at) = (place(&order, p.yield_after), place(&order, resumed));
                let mut rows: Vec<usize> = Vec::new();
                let mut candidates: Vec<usize> = Vec::new();
                let mut seen = Vec::new();
                for (at, &i) in order.iter().enumerate() {
                    let v = &tab.versions[i];
                    if !sort_then_lock && stop_at.is_some_and(|y| at > y) {
                        return Err(Stop::Yield);
                    }
                    let examined = if sort_then_lock {
                        resumed.is_some()
                    } else {
                        resume_at.is_some_and(|b| at <= b)
                    };
                    if !examined {
                        self.examine(me, &table, i, cid, snap, path.as_ref())?;
                    }
                    if !self.visible(v, me, cid, snap, dirty) {
                        continue;
                    }
                    let m = matches(&tab, filter.as_ref(), &v.values)?;
                    seen.push((i, m));
                    match (m, lock) {
                        (false, _) => {}
                        (true, None) => rows.push(i),
                        (true, Some(_)) if sort_then_lock => candidates.push(i),
                        (true, Some(mode)) => {
                            let f = filter.as_ref();
                            self.lock_row(&table, i, me, level, f, mode, p, &mut seen)?
                        }
                    }
                }
                if let (true, Some(mode)) = (sort_then_lock, lock) {
                    let mut keyed = Vec::new();
                    for &i in &candidates {
                        let vals = &tab.versions[i].values;
                        let keys = order_by
                            .iter()
                            .map(|o| eval(&tab, &o.expr, vals))
                            .collect::<Result<Vec<_>, _>>()?;
                        keyed.push((keys, i));
                    }
                    keyed.sort_by(|a, b| compare_keys(&order_by, &a.0, &b.0));
                    let sorted: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
                    let stop_at = place(&sorted, p.yield_after);
                    for (at, &i) in sorted.iter().enumerate() {
                        if stop_at.is_some_and(|y| at > y) {
                            return Err(Stop::Yield);
                        }
                        let f = filter.as_ref();
                        self.lock_row(&table, i, me, level, f, mode, p, &mut seen)?;
                    }
                }
                self.record_scan(me, &table, filter.as_ref(), snap, cid, seen);
                if lock.is_some() {
                    rows = p.locked_rows.clone();
                }
                let tab = &self.tables[&table];
                let mut out: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
                for i in rows {
                    let vals = &tab.versions[i].values;
                    let projected = match &projection {
                        Projection::All => vals.clone(),
                        Projection::Exprs(es) => es
                            .iter()
                            .map(|(e, _)| eval(tab, e, vals))
                            .collect::<Result<Vec<_>, _>>()?,
                    };
                    let keys = order_by
                        .iter()
                        .map(|o| eval(tab, &o.expr, vals))
                        .collect::<Result<Vec<_>, _>>()?;
                    out.push((keys, projected));
                }
                if !order_by.is_empty() {
                    out.sort_by(|a, b| compare_keys(&order_by, &a.0, &b.0));
                }
                let columns = match &projection {
                    Projection::All => tab.columns.iter().map(|c| c.name.clone()).collect(),
                    Projection::Exprs(es) => es.iter().map(|(_, n)| n.clone()).collect(),
                };
                // Booleans print as PostgreSQL prints them.
                let shown = |(k, v): (usize, Value)| match (p.booleans.get(k), v) {
                    (Some(true), Value::Int(b)) => {
                        Value::Text(if b != 0 { "t" } else { "f" }.into())
                    }
                    (_, v) => v,
                };
                Ok(Outcome::Rows {
                    columns,
                    rows: out
                        .into_iter()
                        .map(|(_, r)| r.into_iter().enumerate().map(shown).collect())
                        .collect(),
                })
            }
            Statement::Update {
                table,
                assignments,
                filter,
            } => {
                let tab = self.table(&table, me)?;
                if let Some((c, _)) = assignments
                    .iter()
                    .find(|(c, _)| !tab.columns.iter().any(|x| &x.name == c))
                {
                    return Err(Stop::Error(no_column(c)));
                }
                let derived = assignments.iter().any(|(_, e)| e.reads_row());
                self.modify(me, p, "UPDATE", &table, filter.as_ref(), |tab, vals| {
                    let mut new = vals.to_vec();
                    for (c, e) in &assignments {
                        let i = tab
                            .columns
                            .iter()
                            .position(|x| &x.name == c)
                            .expect("checked");
                        new[i] = coerce(&tab.columns[i], eval(tab, e, vals)?)?;
                    }
                    Ok(RowAction::Update(new, derived))
                })
            }
            Statement::Delete { table, filter } => {
                self.modify(me, p, "DELETE", &table, filter.as_ref(), |_, _| {
                    Ok(RowAction::Delete)
                })
            }
            Statement::Begin { .. }
            | Statement::Invalid { .. }
            | Statement::SetTransaction { .. }
            | Statement::Commit
            | Statement::Rollback => {
                unreachable!("handled in execute")
            }
        }
    }

    /// SELECT … FOR UPDATE / FOR SHARE: locks the row whose version `i` the scan returned
    /// (following it to its newest version at READ COMMITTED), remembering it in
    /// `p.locked_rows`; `Err(Stop::Blocked)` when it must wait.
    #[allow(clippy::too_many_arguments)]
    fn lock_row(
        &mut self,
        table: &str,
        i: usize,
        me: Xid,
        level: IsolationLevel,
        filter: Option<&Expr>,
        mode: RowLockMode,
        p: &mut Pending,
        seen: &mut [(usize, bool)],
    ) -> Result<(), Stop> {
        if p.locked_rows.contains(&i) {
            return Ok(());
        }
        let cid = self.txns[&me].cid;
        match self.act(table, i, me, cid, level, filter, RowAction::Lock(mode))? {
            Step::Done(j) => {
                if !p.locked_rows.contains(&j) {
                    p.locked_rows.push(j);
                }
                self.saw_newer(table, seen, i, j, filter);
            }
            Step::Skip => {
                let j = self.newest(table, i);
                self.saw_newer(table, seen, i, j, filter)
            }
            Step::Block(x, row) => {
                p.blocked_at = Some(i);
                return Err(Stop::Blocked(
                    x,
                    row.map(|version| RowWait {
                        table: table.to_string(),
                        version,
                        mode,
                    }),
                ));
            }
            Step::KeyWait(..) => unreachable!("a lock changes no key"),
        }
        Ok(())
    }

    /// UPDATE / DELETE (`command`): scan the statement's snapshot of `table` and act on
    /// every row matching `filter`. Rows this command already changed are invisible to it
    /// (cmax = cid), so a resumed statement carries on where it blocked; `p.affected`
    /// counts across resumes.
    fn modify(
        &mut self,
        me: Xid,
        p: &mut Pending,
        command: &'static str,
        table: &str,
        filter: Option<&Expr>,
        action: impl Fn(&Table, &[Value]) -> Result<RowAction, DbError>,
    ) -> Result<Outcome, Stop> {
        let t = &self.txns[&me];
        let (cid, level) = (t.cid, t.level);
        let dirty = level == IsolationLevel::ReadUncommitted;
        if let Some(n) = p.key_check.take() {
            if let Some(x) = self.check_new_key(table, n, me)? {
                p.key_check = Some(n);
                return Err(Stop::Blocked(x, None));
            }
        }
        let tab = self.table(table, me)?.clone();
        let resumed = p.blocked_at;
        let path = self.begin_scan(me, &tab, filter, &[], cid, p)?;
        let mut seen = Vec::new();
        for (i, v) in tab.versions.iter().enumerate() {
            if p.yield_after.is_some_and(|y| i > y) {
                return Err(Stop::Yield);
            }
            if resumed.is_none_or(|b| i > b) {
                self.examine(me, table, i, cid, p.snapshot, path.as_ref())?;
            }
            if !self.visible(v, me, cid, p.snapshot, dirty) {
                continue;
            }
            let m = matches(&tab, filter, &v.values)?;
            seen.push((i, m));
            if !m {
                continue;
            }
            // The action is computed on the version actually changed (EvalPlanQual may move on).
            match self.act_with(table, i, me, cid, level, filter, &action)? {
                Step::Done(j) => {
                    p.affected += 1;
                    self.saw_newer(table, &mut seen, i, j, filter);
                }
                Step::Skip => {
                    let j = self.newest(table, i);
                    self.saw_newer(table, &mut seen, i, j, filter);
                }
                Step::Block(x, row) => {
                    p.blocked_at = Some(i);
                    return Err(Stop::Blocked(
                        x,
                        row.map(|version| RowWait {
                            table: table.to_string(),
                            version,
                            mode: RowLockMode::ForUpdate,
                        }),
                    ));
                }
                Step::KeyWait(x, n) => {
                    p.affected += 1;
                    p.blocked_at = Some(i);
                    p.key_check = Some(n);
                    return Err(Stop::Blocked(x, None));
                }
            }
        }
        self.record_scan(me, table, filter, p.snapshot, cid, seen);
        Ok(Outcome::Affected {
            command,
            count: p.affected,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn act(
        &mut self,
        table: &str,
        i: usize,
        me: Xid,
        cid: u32,
        level: IsolationLevel,
        filter: Option<&Expr>,
        a: RowAction,
    ) -> Result<Step, DbError> {
        let mode = match a {
            RowAction::Lock(m) => m,
            _ => unreachable!("act is for row locks"),
        };
        self.act_with(
            table,
            i,
            me,
            cid,
            level,
            filter,
            &|_: &Table, _: &[Value]| Ok(RowAction::Lock(mode)),
        )
    }

    /// Acts on the row whose version `i` the scan found, following PostgreSQL's ExecUpdate
    /// and heap_update / heap_lock_tuple: compute the new values first (so an error in them,
    /// or a NULL key, fails before any wait: PostgreSQL projects and checks constraints
    /// before table_tuple_update); wait for a writer or conflicting locker in progress; if a
    /// committed transaction changed the row after the snapshot, READ COMMITTED moves to the
    /// newest version and re-checks the WHERE clause (EvalPlanQual), stricter levels fail
    /// with 40001. An UPDATE that changes the primary key then passes the unique check on
    /// the new key, as the new index entry does (23505, or wait for the key's holder).
    #[allow(clippy::too_many_arguments)]
    fn act_with(
        &mut self,
        table: &str,
        mut i: usize,
        me: Xid,
        cid: u32,
        level: IsolationLevel,
        filter: Option<&Expr>,
        action: &RowFn<'_>,
    ) -> Result<Step, DbError> {
        loop {
            let tab = &self.tables[table];
            let v = &tab.versions[i];
            let a = action(tab, &v.values)?;
            let pk = tab.columns.iter().position(|c| c.primary_key);
            let new_key = match (&a, pk) {
                (RowAction::Update(vals, _), Some(k)) if vals[k] != v.values[k] => {
                    if vals[k] == Value::Null {
                        return Err(not_null(table, &tab.columns[k].name));
                    }
                    Some(k)
                }
                _ => None,
            };
            // A version another transaction created and has not committed (only READ
            // UNCOMMITTED scans see one): writing it would be a dirty write (P0), which no
            // level allows. Wait for its creator.
            if v.xmin != me && self.status(v.xmin) == TxnStatus::InProgress {
                return Ok(Step::Block(v.xmin, Some(i)));
            }
            match v.xmax {
                Some(x) if x == me => return Ok(Step::Skip),
                Some(x) => match self.status(x) {
                    TxnStatus::InProgress => return Ok(Step::Block(x, Some(i))),
                    TxnStatus::Aborted => {}
                    TxnStatus::Committed => {
                        if !matches!(
                            level,
                            IsolationLevel::ReadCommitted | IsolationLevel::ReadUncommitted
                        ) {
                            return Err(DbError::serialization());
                        }
                        // EvalPlanQual: the newest version of the row, if it still exists.
                        match v.updated_to {
                            None => return Ok(Step::Skip),
                            Some(n) => {
                                let nv = &tab.versions[n];
                                if !matches(tab, filter, &nv.values)? {
                                    return Ok(Step::Skip);
                                }
                                i = n;
                                continue;
                            }
                        }
                    }
                },
                None => {}
            }
            let want = match &a {
                RowAction::Lock(m) => *m,
                _ => RowLockMode::ForUpdate,
            };
            if let Some(holders) = tab.locks.get(&i) {
                for (x, m) in holders {
                    let conflict = *x != me
                        && (want == RowLockMode::ForUpdate || *m == RowLockMode::ForUpdate);
                    if conflict && self.status(*x) == TxnStatus::InProgress {
                        return Ok(Step::Block(*x, Some(i)));
                    }
                }
            }
            if !matches!(a, RowAction::Lock(_)) {
                let new = match &a {
                    RowAction::Update(vals, _) => Some(vals.clone()),
                    _ => None,
                };
                let old = tab.versions[i].values.clone();
                if let Some(x) = self.predicate_lock_conflict(table, me, &old, new.as_deref()) {
                    return Ok(Step::Block(x, None));
                }
                let targets = [
                    Target::Tuple {
                        table: table.into(),
                        version: i,
                    },
                    Target::HeapPage {
                        table: table.into(),
                    },
                    Target::Relation {
                        table: table.into(),
                    },
                ];
                self.ssi.conflict_in(me, &targets)?;
            }
            self.assign_pg_xid(me);
            let tab = self.tables.get_mut(table).expect("exists");
            match a {
                RowAction::Lock(m) => {
                    let h = tab.locks.entry(i).or_default();
                    if !h
                        .iter()
                        .any(|(x, hm)| *x == me && (*hm == m || *hm == RowLockMode::ForUpdate))
                    {
                        h.push((me, m));
                    }
                }
                RowAction::Delete => {
                    tab.versions[i].xmax = Some(me);
                    tab.versions[i].cmax = cid;
                    // An aborted update may have left a link to its (dead) new version.
                    tab.versions[i].updated_to = None;
                }
                RowAction::Update(values, derived) => {
                    let n = tab.versions.len();
                    tab.versions[i].xmax = Some(me);
                    tab.versions[i].cmax = cid;
                    tab.versions[i].updated_to = Some(n);
                    tab.versions.push(Version {
                        derived,
                        ..Version::created(me, cid, values)
                    });
                    if new_key.is_some() {
                        // The new key gets an index entry, with the unique check.
                        if let Some(x) = self.check_new_key(table, n, me)? {
                            return Ok(Step::KeyWait(x, n));
                        }
                    }
                }
            }
            return Ok(Step::Done(i));
        }
    }

    /// Starts a scan of `tab` by `me`. SERIALIZABLE (SSI): takes the SIREAD lock of the access
    /// path PostgreSQL would use (relation for a sequential scan, index page for an index
    /// scan; see [`access_path`]) and returns that path; a sequential scan examines the
    /// whole page first, as PostgreSQL's page-at-a-time scan does. 2PL: takes a predicate
    /// lock on the WHERE clause and waits for any transaction in progress that wrote a
    /// version matching it (its exclusive lock). `p`: the statement (its snapshot, and
    /// whether it resumes after a wait).
    fn begin_scan(
        &mut self,
        me: Xid,
        tab: &Table,
        filter: Option<&Expr>,
        order_by: &[super::ast::OrderBy],
        cid: u32,
        p: &Pending,
    ) -> Result<Option<AccessPath>, Stop> {
        if self.txns[&me].level == IsolationLevel::Serializable2pl {
            let lock = (me, tab.name.clone(), filter.cloned());
            if !self.predicate_locks.contains(&lock) {
                self.predicate_locks.push(lock);
            }
            for v in &tab.versions {
                if v.xmin != me
                    && self.status(v.xmin) == TxnStatus::InProgress
                    && matches(tab, filter, &v.values)?
                {
                    return Err(Stop::Blocked(v.xmin, None));
                }
            }
        }
        if !self.ssi.tracked(me) {
            return Ok(None);
        }
        let pk = tab.columns.iter().find(|c| c.primary_key);
        let path = access_path(pk.map(|c| c.name.as_str()), filter, order_by);
        match path {
            AccessPath::SeqScan => {
                self.ssi.lock_relation(me, &tab.name);
                // A resumed scan goes on with the page it read before waiting.
                if p.blocked_at.is_none() {
                    for i in 0..tab.versions.len() {
                        let seq = Some(&AccessPath::SeqScan);
                        self.examine(me, &tab.name, i, cid, p.snapshot, seq)?;
                    }
                }
                // Examined already, and the relation lock covers every tuple: the per-row
                // pass has nothing left to do.
                Ok(None)
            }
            AccessPath::IndexScan(_) => {
                self.ssi.lock_index(me, &tab.name);
                Ok(Some(path))
            }
            AccessPath::BitmapScan(cond) => {
                self.ssi.lock_index(me, &tab.name);
                // The index's matches are read up front, page at a time, before any row is
                // acted on (and not again by a resumed scan).
                if p.blocked_at.is_none() {
                    let each = AccessPath::IndexScan(Some(cond));
                    for i in 0..tab.versions.len() {
                        self.examine(me, &tab.name, i, cid, p.snapshot, Some(&each))?;
                    }
                }
                Ok(None)
            }
        }
    }

    /// SSI: a scan examines version `i` (PostgreSQL's HeapCheckForSerializableConflictOut
    /// and PredicateLockTID): a doomed transaction fails here; a version written by a
    /// concurrent serializable transaction (created and invisible, or visible and deleted /
    /// replaced) is an rw-conflict out to that writer; an index scan SIREAD-locks the tuple it
    /// returns. An index scan only reaches versions whose key satisfies its condition, and
    /// stops in each update chain at the first visible version.
    fn examine(
        &mut self,
        me: Xid,
        table: &str,
        i: usize,
        cid: u32,
        snap: u64,
        path: Option<&AccessPath>,
    ) -> Result<(), DbError> {
        let Some(path) = path else {
            return Ok(());
        };
        let tab = &self.tables[table];
        let v = &tab.versions[i];
        if let AccessPath::IndexScan(cond) = path {
            if !matches(tab, cond.as_ref(), &v.values).unwrap_or(false) {
                return Ok(());
            }
            let mut j = i;
            while let Some(prev) = tab.versions.iter().position(|w| w.updated_to == Some(j)) {
                if self.visible(&tab.versions[prev], me, cid, snap, false) {
                    return Ok(());
                }
                j = prev;
            }
        }
        self.ssi.check_doomed(me)?;
        if self.status(v.xmin) == TxnStatus::Aborted {
            return Ok(());
        }
        let vis = self.visible(v, me, cid, snap, false);
        let writer = if vis {
            v.xmax
                .filter(|x| *x != me && self.status(*x) != TxnStatus::Aborted)
        } else if v.xmin != me {
            Some(v.xmin)
        } else {
            None
        };
        let lock = vis && v.xmin != me;
        if let Some(w) = writer {
            if !self.committed_in(w, snap) {
                self.ssi.conflict_out(me, w)?;
            }
        }
        if lock && matches!(path, AccessPath::IndexScan(_)) {
            self.ssi.lock_tuple(me, table, i);
        }
        Ok(())
    }

    /// 2PL: another transaction in progress holds a predicate lock that a row with values
    /// `old` (and, for an update, `new`) satisfies: the write must wait for it.
    fn predicate_lock_conflict(
        &self,
        table: &str,
        me: Xid,
        old: &[Value],
        new: Option<&[Value]>,
    ) -> Option<Xid> {
        let tab = self.tables.get(table)?;
        self.predicate_locks
            .iter()
            .filter(|(x, t, _)| *x != me && t == table && self.status(*x) == TxnStatus::InProgress)
            .find(|(_, _, f)| {
                matches(tab, f.as_ref(), old).unwrap_or(true)
                    || new.is_some_and(|n| matches(tab, f.as_ref(), n).unwrap_or(true))
            })
            .map(|(x, ..)| *x)
    }

    /// The newest version of the row whose version `i` a scan found, following the update
    /// chain through committed and own versions (what EvalPlanQual reads).
    fn newest(&self, table: &str, mut i: usize) -> usize {
        let tab = &self.tables[table];
        while let Some(n) = tab.versions[i].updated_to {
            if self.status(tab.versions[n].xmin) == TxnStatus::Aborted {
                break;
            }
            i = n;
        }
        i
    }

    /// When a write moved from version `i` (found by the scan) to a newer version `j`
    /// (EvalPlanQual, after waiting), the statement read `j`: record that instead.
    fn saw_newer(
        &self,
        table: &str,
        seen: &mut [(usize, bool)],
        i: usize,
        j: usize,
        filter: Option<&Expr>,
    ) {
        if i == j {
            return;
        }
        let tab = &self.tables[table];
        if let Some(e) = seen.iter_mut().find(|e| e.0 == i) {
            *e = (
                j,
                matches(tab, filter, &tab.versions[j].values).unwrap_or(false),
            );
        }
    }

    /// Records what a scan saw (replacing the record of an earlier, blocked attempt).
    fn record_scan(
        &mut self,
        me: Xid,
        table: &str,
        filter: Option<&Expr>,
        snapshot: u64,
        cid: u32,
        seen: Vec<(usize, bool)>,
    ) {
        let scan = Scan {
            xid: me,
            statement: self.statement,
            table: table.into(),
            predicate: filter.map(|f| f.to_string()),
            snapshot,
            cid,
            seen,
            filter: filter.cloned(),
        };
        if let Some(last) = self.scans.last_mut() {
            if last.xid == me && last.statement == scan.statement && last.table == table {
                *last = scan;
                return;
            }
        }
        self.scans.push(scan);
    }

    /// The unique check of the new version `n` that an UPDATE gave a new primary key (see
    /// [`Store::unique_check`]).
    fn check_new_key(&mut self, table: &str, n: usize, me: Xid) -> Result<Option<Xid>, DbError> {
        let tab = &self.tables[table];
        let Some(pk) = tab.columns.iter().position(|c| c.primary_key) else {
            return Ok(None);
        };
        let key = tab.versions[n].values[pk].clone();
        self.unique_check(table, pk, &key, me, Some(n))
    }

    /// A new index entry for primary key `key` (an INSERT, or an UPDATE that changed the key
    /// into version `skip`), as PostgreSQL's _bt_doinsert: `Ok(Some(x))` to wait for `x`
    /// (it inserted or deleted the key and is in progress), `Ok(None)` when the key is
    /// free, after SSI's conflict-in on the index page. Errors: 23505 when a live row has
    /// the key — but _bt_check_unique checks SSI conflicts on the index page first, so a
    /// dangerous structure wins over 23505 (40001).
    fn unique_check(
        &mut self,
        table: &str,
        pk: usize,
        key: &Value,
        me: Xid,
        skip: Option<usize>,
    ) -> Result<Option<Xid>, DbError> {
        let conflict = self.key_conflict(table, pk, key, me, skip);
        if let Some(KeyConflict::Wait(x)) = conflict {
            return Ok(Some(x));
        }
        self.ssi.conflict_in(
            me,
            &[Target::IndexPage {
                table: table.into(),
            }],
        )?;
        match conflict {
            Some(KeyConflict::Exists) => Err(unique_violation(table)),
            _ => Ok(None),
        }
    }

    /// Another live version with the same primary key value (other than version `skip`),
    /// judged like PostgreSQL's unique index check (not by snapshot): wait for its creator
    /// or deleter in progress.
    fn key_conflict(
        &self,
        table: &str,
        pk: usize,
        key: &Value,
        me: Xid,
        skip: Option<usize>,
    ) -> Option<KeyConflict> {
        for (i, v) in self.tables[table].versions.iter().enumerate() {
            if &v.values[pk] != key || skip == Some(i) {
                continue;
            }
            let created = match self.status(v.xmin) {
                TxnStatus::Aborted => continue,
                TxnStatus::InProgress if v.xmin != me => return Some(KeyConflict::Wait(v.xmin)),
                _ => true,
            };
            let deleted = match v.xmax {
                None => false,
                Some(x) if x == me => true,
                Some(x) => match self.status(x) {
                    TxnStatus::InProgress => return Some(KeyConflict::Wait(x)),
                    TxnStatus::Committed => true,
                    TxnStatus::Aborted => false,
                },
            };
            if created && !deleted {
                return Some(KeyConflict::Exists);
            }
        }
        None
    }

    /// Reads of uncommitted data (possible only at READ UNCOMMITTED): `(reader, writer)`
    /// for each version a statement saw that a different transaction had created and not
    /// committed when the statement ran, deduplicated, in the order of the scans. The anomaly
    /// checker sees such a read only once the reader commits (G1a or G1b, Adya 2000); this
    /// shows it as it happens (Berenson et al. 1995, P1 dirty read).
    pub fn dirty_reads(&self) -> Vec<(Xid, Xid)> {
        let mut out = Vec::new();
        for scan in &self.scans {
            let Some(table) = self.tables.get(&scan.table) else {
                continue;
            };
            for (v, _) in &scan.seen {
                let Some(version) = table.versions.get(*v) else {
                    continue;
                };
                let writer = version.xmin;
                let committed_before = self
                    .txns
                    .get(&writer)
                    .and_then(|t| t.commit_seq)
                    .is_some_and(|c| c <= scan.snapshot);
                if writer != scan.xid && !committed_before && !out.contains(&(scan.xid, writer)) {
                    out.push((scan.xid, writer));
                }
            }
        }
        out
    }

    /// The run so far as Adya's theory sees it (see [`History`]): every transaction with its
    /// outcome, every row (by table and primary key) with its versions in order — a DELETE
    /// installs a dead version — and every scan with the version it saw of every row.
    pub fn history(&self) -> History {
        let mut h = History::default();
        // (table, store version index) → (object, position in its version list)
        let mut place: BTreeMap<(String, usize), (usize, usize)> = BTreeMap::new();
        // (table, object) → dead versions' positions, for reads that saw a row as deleted
        let mut objects_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (name, tab) in &self.tables {
            let pk = tab.columns.iter().position(|c| c.primary_key);
            let mut by_key: BTreeMap<Value, usize> = BTreeMap::new();
            for (i, v) in tab.versions.iter().enumerate() {
                let key = match pk {
                    Some(k) => v.values[k].clone(),
                    None => Value::Int(i as i64),
                };
                let obj = *by_key.entry(key.clone()).or_insert_with(|| {
                    h.objects.push(ObjectInfo {
                        table: name.clone(),
                        key,
                        versions: vec![VersionInfo {
                            writer: None,
                            values: None,
                            derived: false,
                        }],
                    });
                    objects_of
                        .entry(name.clone())
                        .or_default()
                        .push(h.objects.len() - 1);
                    h.objects.len() - 1
                });
                let o = &mut h.objects[obj];
                o.versions.push(VersionInfo {
                    writer: Some(v.xmin),
                    values: Some(v.values.clone()),
                    derived: v.derived,
                });
                place.insert((name.clone(), i), (obj, o.versions.len() - 1));
                // A deletion, or an update that moved the row to another key, ends the
                // object with a dead version.
                let moved = v
                    .updated_to
                    .is_some_and(|n| pk.is_some_and(|k| tab.versions[n].values[k] != v.values[k]));
                if let (Some(d), true) = (v.xmax, v.updated_to.is_none() || moved) {
                    o.versions.push(VersionInfo {
                        writer: Some(d),
                        values: None,
                        derived: false,
                    });
                }
            }
        }
        for t in self.txns.values() {
            h.txns.push(TxnInfo {
                xid: t.xid,
                session: t.session.clone(),
                level: t.level,
                outcome: match (t.status, t.commit_seq) {
                    (TxnStatus::Committed, Some(order)) => TxnOutcome::Committed { order },
                    (TxnStatus::InProgress, _) => TxnOutcome::Running,
                    _ => TxnOutcome::Aborted,
                },
            });
        }
        for scan in &self.scans {
            let Some(tab) = self.tables.get(&scan.table) else {
                continue;
            };
            let objs = objects_of.get(&scan.table).cloned().unwrap_or_default();
            let sees = |w: Option<Xid>| {
                w.is_some_and(|w| w == scan.xid || self.committed_in(w, scan.snapshot))
            };
            let mut observed = Vec::new();
            let mut version_matches = Vec::new();
            for &obj in &objs {
                let o = &h.objects[obj];
                let seen = scan.seen.iter().find_map(|(i, m)| {
                    place
                        .get(&(scan.table.clone(), *i))
                        .filter(|(ob, _)| *ob == obj)
                        .map(|(_, pos)| (*pos, *m))
                });
                let (version, matched) = seen.unwrap_or_else(|| {
                    // Not visible: the latest version whose writer the read sees, if dead.
                    let dead = o
                        .versions
                        .iter()
                        .rposition(|v| sees(v.writer))
                        .filter(|p| o.versions[*p].values.is_none());
                    (dead.unwrap_or(0), false)
                });
                observed.push(Observed {
                    object: obj,
                    version,
                    matched,
                });
                version_matches.push(
                    o.versions
                        .iter()
                        .map(|v| {
                            v.values.as_ref().is_some_and(|vals| {
                                matches(tab, scan.filter.as_ref(), vals).unwrap_or(false)
                            })
                        })
                        .collect(),
                );
            }
            h.reads.push(ReadInfo {
                xid: scan.xid,
                statement: scan.statement,
                table: scan.table.clone(),
                predicate: scan.predicate.clone(),
                observed,
                version_matches,
            });
        }
        h
    }

    /// The committed contents of a table, newest versions of live rows, ordered by primary
    /// key (or scan order without one).
    pub fn committed_rows(&self, table: &str) -> Vec<Vec<Value>> {
        let Some(tab) = self.tables.get(table) else {
            return Vec::new();
        };
        let mut rows: Vec<Vec<Value>> = tab
            .versions
            .iter()
            .filter(|v| self.visible(v, 0, 0, self.commit_seq, false))
            .map(|v| v.values.clone())
            .collect();
        if let Some(pk) = tab.columns.iter().position(|c| c.primary_key) {
            rows.sort_by(|a, b| a[pk].cmp(&b[pk]));
        }
        rows
    }
}

enum KeyConflict {
    Wait(Xid),
    Exists,
}

/// 23505, as PostgreSQL words it for the table's primary key.
fn unique_violation(table: &str) -> DbError {
    DbError::new(
        "23505",
        format!("duplicate key value violates unique constraint \"{table}_pkey\""),
    )
}

/// 23502: a NULL in a NOT NULL column (the primary key).
fn not_null(table: &str, column: &str) -> DbError {
    DbError::new(
        "23502",
        format!("null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"),
    )
}

fn no_column(c: &str) -> DbError {
    DbError::new("42703", format!("column \"{c}\" does not exist"))
}

fn cmp_nulls_last(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Value::Null, Value::Null) => Equal,
        (Value::Null, _) => Greater,
        (_, Value::Null) => Less,
        _ => a.cmp(b),
    }
}

/// A value stored into `col` (PostgreSQL's assignment conversion): integers are checked
/// against the column's range (22003), text read as an integer for an integer column
/// (22P02), integers written as text into a text column.
/// Compares two rows' ORDER BY keys: each key ascending or descending, NULLs last when
/// ascending and first when descending (PostgreSQL's default).
fn compare_keys(order_by: &[super::ast::OrderBy], a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    for (i, o) in order_by.iter().enumerate() {
        let c = cmp_nulls_last(&a[i], &b[i]);
        let c = if o.descending { c.reverse() } else { c };
        if c != std::cmp::Ordering::Equal {
            return c;
        }
    }
    std::cmp::Ordering::Equal
}

fn coerce(col: &Column, v: Value) -> Result<Value, DbError> {
    let ty = SqlType::of_column(col.ty);
    match (col.ty, v) {
        (_, Value::Null) => Ok(Value::Null),
        (ColumnType::Text, Value::Text(s)) => Ok(Value::Text(s)),
        (ColumnType::Text, Value::Int(i)) => Ok(Value::Text(i.to_string())),
        (_, Value::Int(i)) => Ok(Value::Int(ty.check_range(i)?)),
        (_, Value::Text(s)) => {
            let n = s.trim().parse::<i64>().map_err(|_| {
                DbError::new(
                    "22P02",
                    format!("invalid input syntax for type {}: \"{s}\"", ty.name()),
                )
            })?;
            Ok(Value::Int(ty.check_range(n)?))
        }
    }
}

fn build_row(
    tab: &Table,
    columns: Option<&[String]>,
    exprs: &[Expr],
) -> Result<Vec<Value>, DbError> {
    let names: Vec<String> = match columns {
        Some(c) => c.to_vec(),
        None => tab.columns.iter().map(|c| c.name.clone()).collect(),
    };
    if exprs.len() > names.len() {
        return Err(DbError::new(
            "42601",
            "INSERT has more expressions than target columns",
        ));
    }
    let mut row = vec![Value::Null; tab.columns.len()];
    for (name, e) in names.iter().zip(exprs) {
        let i = tab
            .columns
            .iter()
            .position(|c| &c.name == name)
            .ok_or_else(|| no_column(name))?;
        row[i] = coerce(&tab.columns[i], eval(tab, e, &[])?)?;
    }
    Ok(row)
}

fn matches(tab: &Table, filter: Option<&Expr>, vals: &[Value]) -> Result<bool, DbError> {
    match filter {
        None => Ok(true),
        Some(f) => Ok(truth(&eval(tab, f, vals)?) == Some(true)),
    }
}

/// SQL truth value of a boolean result: `Some(true)`, `Some(false)` or `None` (unknown).
fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Int(i) => Some(*i != 0),
        _ => None,
    }
}

fn boolean(b: Option<bool>) -> Value {
    b.map_or(Value::Null, |b| Value::Int(b as i64))
}

/// Evaluates `e` on a row (`vals` in table column order; empty for INSERT VALUES).
/// Booleans are represented as `Int(0 | 1)` internally.
fn eval(tab: &Table, e: &Expr, vals: &[Value]) -> Result<Value, DbError> {
    Ok(match e {
        Expr::Literal(v) => v.clone(),
        Expr::Column(c) => {
            let i = tab
                .columns
                .iter()
                .position(|x| &x.name == c)
                .ok_or_else(|| no_column(c))?;
            vals.get(i).cloned().ok_or_else(|| no_column(c))?
        }
        Expr::IsNull { expr, negated } => {
            let v = eval(tab, expr, vals)?;
            boolean(Some((v == Value::Null) != *negated))
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let v = eval(tab, expr, vals)?;
            let mut found = Some(false);
            for item in list {
                let w = eval(tab, item, vals)?;
                if v == Value::Null || w == Value::Null {
                    found = found.and(None);
                } else if same_type(&v, &w)? && v == w {
                    found = Some(true);
                    break;
                }
            }
            boolean(if *negated { found.map(|b| !b) } else { found })
        }
        Expr::Unary(UnaryOp::Not, x) => boolean(truth(&eval(tab, x, vals)?).map(|b| !b)),
        Expr::Unary(UnaryOp::Neg, x) => match eval(tab, x, vals)? {
            Value::Int(i) => {
                let ty = arithmetic_type(&tab.columns, e);
                let n = i.checked_neg().ok_or_else(|| ty.out_of_range())?;
                Value::Int(ty.check_range(n)?)
            }
            Value::Null => Value::Null,
            Value::Text(_) => return Err(DbError::new("42883", "operator does not exist: - text")),
        },
        Expr::Binary(l, op, r) => {
            let (a, b) = (eval(tab, l, vals)?, eval(tab, r, vals)?);
            match op {
                BinaryOp::And => boolean(match (truth(&a), truth(&b)) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }),
                BinaryOp::Or => boolean(match (truth(&a), truth(&b)) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }),
                _ if a == Value::Null || b == Value::Null => Value::Null,
                BinaryOp::Eq => boolean(Some(same_type(&a, &b)? && a == b)),
                BinaryOp::NotEq => boolean(Some(!(same_type(&a, &b)? && a == b))),
                BinaryOp::Lt => boolean(Some(same_type(&a, &b)? && a < b)),
                BinaryOp::LtEq => boolean(Some(same_type(&a, &b)? && a <= b)),
                BinaryOp::Gt => boolean(Some(same_type(&a, &b)? && a > b)),
                BinaryOp::GtEq => boolean(Some(same_type(&a, &b)? && a >= b)),
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                    let (Value::Int(x), Value::Int(y)) = (&a, &b) else {
                        return Err(DbError::new(
                            "42883",
                            "arithmetic is only defined on integers here",
                        ));
                    };
                    let (x, y) = (*x, *y);
                    let r = match op {
                        BinaryOp::Add => x.checked_add(y),
                        BinaryOp::Sub => x.checked_sub(y),
                        BinaryOp::Mul => x.checked_mul(y),
                        BinaryOp::Div | BinaryOp::Mod if y == 0 => {
                            return Err(DbError::new("22012", "division by zero"))
                        }
                        // Rust's / and % truncate toward zero, as PostgreSQL's integer / and %.
                        BinaryOp::Div => x.checked_div(y),
                        _ => x.checked_rem(y),
                    };
                    // Overflow at the width of the operation's static type (int4pl …).
                    let ty = arithmetic_type(&tab.columns, e);
                    Value::Int(ty.check_range(r.ok_or_else(|| ty.out_of_range())?)?)
                }
            }
        }
    })
}

fn same_type(a: &Value, b: &Value) -> Result<bool, DbError> {
    match (a, b) {
        (Value::Int(_), Value::Int(_)) | (Value::Text(_), Value::Text(_)) => Ok(true),
        _ => Err(DbError::new(
            "42883",
            "operator does not exist: integer = text",
        )),
    }
}
