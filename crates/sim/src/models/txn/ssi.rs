//! Serializable Snapshot Isolation as PostgreSQL 15 implements it (Ports & Grittner, "Serializable
//! Snapshot Isolation in PostgreSQL", VLDB 2012; PostgreSQL's `src/backend/storage/lmgr/predicate.c`
//! and its README-SSI; docs 13.2.3).
//!
//! - **SIREAD locks** (predicate locks that block nothing) record what a SERIALIZABLE
//!   transaction read: a sequential scan locks the whole relation; an index scan locks the
//!   index page it visited (this store's tables are small: one B-tree leaf page) and every
//!   heap tuple it found visible; more than `max_pred_locks_per_page` (2) tuple locks on a
//!   heap page are promoted to a lock on the page (one heap page per small table).
//! - **rw-conflicts** (rw-antidependencies, reader → writer) are found two ways: a reader
//!   meets a row version written by a concurrent serializable transaction ("conflict out"),
//!   or a writer changes a tuple / inserts into a relation or index page on which a concurrent
//!   serializable transaction holds a SIREAD lock ("conflict in").
//! - A **dangerous structure** T_in → T_pivot → T_out, where T_out commits first, fails one
//!   transaction with SQLSTATE 40001 "could not serialize access due to read/write
//!   dependencies among transactions": the checks of `OnConflict_CheckForSerializationFailure`
//!   when a conflict is flagged, and of `PreCommit_CheckForSerializationFailure` at COMMIT
//!   (which dooms the pivot; a doomed transaction fails at its next read, write or COMMIT).
//! - Committed transactions keep their SIREAD locks and conflicts while concurrent
//!   transactions run, with the release rules of `ReleasePredicateLocks`.
//!
//! What is left out: summarization of old committed transactions (it only starts when
//! shared memory runs out), READ ONLY DEFERRABLE / safe snapshots (the SQL subset has no
//! READ ONLY), two-phase commit (prepared = committed here, as COMMIT is atomic).

use super::ast::{BinaryOp, Expr, OrderBy, UnaryOp};
use super::store::{DbError, Xid};
use serde::Serialize;
use std::collections::BTreeMap;

/// `max_pred_locks_per_page`: tuple locks on one page before promotion (PostgreSQL default).
pub const MAX_PRED_LOCKS_PER_PAGE: usize = 2;

/// What a SIREAD lock covers. Tables here fit in one heap page and one index leaf page.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Target {
    /// The whole table (a sequential scan).
    Relation { table: String },
    /// The table's heap page (promoted tuple locks).
    HeapPage { table: String },
    /// The primary-key index's leaf page (an index scan): covers every key, so it conflicts
    /// with every insert into the index.
    IndexPage { table: String },
    /// One row version, by its index in the table.
    Tuple { table: String, version: usize },
}

impl Target {
    fn table(&self) -> &str {
        match self {
            Target::Relation { table }
            | Target::HeapPage { table }
            | Target::IndexPage { table }
            | Target::Tuple { table, .. } => table,
        }
    }
}

/// A serializable transaction's SSI state (PostgreSQL's SERIALIZABLEXACT).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sxact {
    pub xid: Xid,
    /// Marked for failure: it errors at its next read, write or COMMIT.
    pub doomed: bool,
    /// Sequence numbers from one counter (PostgreSQL's LastSxactCommitSeqNo): at the
    /// pre-commit check, at commit, and the last one issued before the snapshot.
    pub prepare_seq: Option<u64>,
    pub commit_seq: Option<u64>,
    pub last_commit_before_snapshot: u64,
    /// The snapshot's xmin, in PostgreSQL transaction ids (see [`super::store::Txn::pg_xid`]).
    pub snapshot_xmin: u64,
    /// The next transaction id when it committed.
    pub finished_before: Option<u64>,
    /// Committed without writing (PostgreSQL treats it as READ ONLY from then on).
    pub read_only: bool,
    pub did_write: bool,
    /// It committed with an rw-conflict out to a transaction that committed before it.
    pub conflict_out_to_committed: bool,
    pub earliest_out_conflict_commit: u64,
}

impl Sxact {
    fn committed(&self) -> bool {
        self.commit_seq.is_some()
    }
    fn prepared(&self) -> bool {
        self.prepare_seq.is_some()
    }
}

/// The SSI bookkeeping of a store.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ssi {
    /// Serializable transactions that took a snapshot and did not roll back.
    pub sxacts: BTreeMap<Xid, Sxact>,
    /// rw-conflicts as (reader, writer), in the order they were flagged (PostgreSQL walks
    /// its conflict lists in that order, which decides which pivot the COMMIT check dooms).
    pub conflicts: Vec<(Xid, Xid)>,
    /// SIREAD locks and their holders.
    /// Holders in the order they took the lock (the order conflicts are flagged in).
    pub locks: BTreeMap<Target, Vec<Xid>>,
    last_seq: u64,
}

/// The error every SSI failure raises (SQLSTATE 40001).
pub fn rw_failure() -> DbError {
    DbError {
        sqlstate: "40001",
        message: "could not serialize access due to read/write dependencies among transactions"
            .into(),
    }
}

impl Ssi {
    /// Registers a serializable transaction at its snapshot.
    pub fn register(&mut self, xid: Xid, snapshot_xmin: u64) {
        let last = self.last_seq;
        self.sxacts.entry(xid).or_insert(Sxact {
            xid,
            doomed: false,
            prepare_seq: None,
            commit_seq: None,
            last_commit_before_snapshot: last,
            snapshot_xmin,
            finished_before: None,
            read_only: false,
            did_write: false,
            conflict_out_to_committed: false,
            earliest_out_conflict_commit: 0,
        });
    }

    /// Whether `xid` takes part in SSI (a serializable transaction with a snapshot).
    pub fn tracked(&self, xid: Xid) -> bool {
        self.sxacts.contains_key(&xid)
    }

    /// Fails a doomed transaction (PostgreSQL checks this before every tuple it examines,
    /// every write, and at COMMIT).
    pub fn check_doomed(&self, xid: Xid) -> Result<(), DbError> {
        match self.sxacts.get(&xid) {
            Some(s) if s.doomed => Err(rw_failure()),
            _ => Ok(()),
        }
    }

    fn holds(&self, xid: Xid, t: &Target) -> bool {
        self.locks.get(t).is_some_and(|h| h.contains(&xid))
    }

    fn add_lock(&mut self, xid: Xid, t: Target) {
        let h = self.locks.entry(t).or_default();
        if !h.contains(&xid) {
            h.push(xid);
        }
    }

    fn drop_lock(&mut self, xid: Xid, t: &Target) {
        if let Some(h) = self.locks.get_mut(t) {
            h.retain(|x| *x != xid);
            if h.is_empty() {
                self.locks.remove(t);
            }
        }
    }

    /// A sequential scan's lock on the whole table (finer locks of the same transaction on
    /// that table are then redundant and dropped, as PostgreSQL does on promotion).
    pub fn lock_relation(&mut self, xid: Xid, table: &str) {
        if !self.tracked(xid) {
            return;
        }
        let finer: Vec<Target> = self
            .locks
            .iter()
            .filter(|(t, h)| {
                t.table() == table
                    && matches!(t, Target::HeapPage { .. } | Target::Tuple { .. })
                    && h.contains(&xid)
            })
            .map(|(t, _)| t.clone())
            .collect();
        for t in finer {
            self.drop_lock(xid, &t);
        }
        self.add_lock(
            xid,
            Target::Relation {
                table: table.into(),
            },
        );
    }

    /// An index scan's lock on the index leaf page.
    pub fn lock_index(&mut self, xid: Xid, table: &str) {
        if self.tracked(xid) {
            self.add_lock(
                xid,
                Target::IndexPage {
                    table: table.into(),
                },
            );
        }
    }

    /// A tuple lock on a version an index scan returned, promoted to the heap page when the
    /// transaction would hold more than [`MAX_PRED_LOCKS_PER_PAGE`] tuple locks on it.
    pub fn lock_tuple(&mut self, xid: Xid, table: &str, version: usize) {
        if !self.tracked(xid) {
            return;
        }
        let rel = Target::Relation {
            table: table.into(),
        };
        let page = Target::HeapPage {
            table: table.into(),
        };
        let tuple = Target::Tuple {
            table: table.into(),
            version,
        };
        if self.holds(xid, &rel) || self.holds(xid, &page) || self.holds(xid, &tuple) {
            return;
        }
        let held: Vec<Target> = self
            .locks
            .iter()
            .filter(|(t, h)| {
                matches!(t, Target::Tuple { table: tt, .. } if tt == table) && h.contains(&xid)
            })
            .map(|(t, _)| t.clone())
            .collect();
        if held.len() + 1 > MAX_PRED_LOCKS_PER_PAGE {
            for t in held {
                self.drop_lock(xid, &t);
            }
            self.add_lock(xid, page);
        } else {
            self.add_lock(xid, tuple);
        }
    }

    /// A read by `reader` met a version written by `writer`, which is concurrent with the
    /// reader's snapshot (PostgreSQL's CheckForSerializableConflictOut). Errors: 40001 when
    /// the reader must fail.
    pub fn conflict_out(&mut self, reader: Xid, writer: Xid) -> Result<(), DbError> {
        self.check_doomed(reader)?;
        let (Some(r), Some(w)) = (self.sxacts.get(&reader), self.sxacts.get(&writer)) else {
            return Ok(());
        };
        if reader == writer || w.doomed {
            return Ok(());
        }
        // A read-only reader and a committed writer without a conflict out to an earlier
        // committer: the reader can appear to run first.
        if r.read_only
            && w.committed()
            && (!w.conflict_out_to_committed
                || r.last_commit_before_snapshot < w.earliest_out_conflict_commit)
        {
            return Ok(());
        }
        if self.conflicts.contains(&(reader, writer)) {
            return Ok(());
        }
        self.flag(reader, writer, reader)
    }

    /// `writer` writes `targets` (PostgreSQL's CheckForSerializableConflictIn): every other
    /// transaction holding a SIREAD lock on one of them that is concurrent gets an
    /// rw-conflict to the writer (a committed holder counts while it finished after the
    /// writer's snapshot xmin). Errors: 40001 when the writer must fail (or is doomed).
    pub fn conflict_in(&mut self, writer: Xid, targets: &[Target]) -> Result<(), DbError> {
        let Some(snapshot_xmin) = self.sxacts.get(&writer).map(|s| s.snapshot_xmin) else {
            return Ok(());
        };
        self.check_doomed(writer)?;
        if let Some(s) = self.sxacts.get_mut(&writer) {
            s.did_write = true;
        }
        for t in targets {
            let holders: Vec<Xid> = self.locks.get(t).map(|h| h.to_vec()).unwrap_or_default();
            for h in holders {
                if h == writer {
                    continue;
                }
                let Some(s) = self.sxacts.get(&h) else {
                    continue;
                };
                let concurrent =
                    !s.committed() || s.finished_before.is_some_and(|f| snapshot_xmin < f);
                if !s.doomed && concurrent && !self.conflicts.contains(&(h, writer)) {
                    self.flag(h, writer, writer)?;
                }
            }
            // Writing a tuple makes one's own SIREAD lock on it unnecessary.
            if matches!(t, Target::Tuple { .. }) {
                self.drop_lock(writer, t);
            }
        }
        Ok(())
    }

    /// Records reader → writer after PostgreSQL's OnConflict_CheckForSerializationFailure;
    /// `me` is the transaction running the statement.
    fn flag(&mut self, reader: Xid, writer: Xid, me: Xid) -> Result<(), DbError> {
        let r = &self.sxacts[&reader];
        let w = &self.sxacts[&writer];
        // R → W → T2 with W committed and its conflict out already summarized.
        let mut failure = w.committed() && w.conflict_out_to_committed;
        if !failure {
            // W became a pivot with T2 committed first.
            failure = self
                .conflicts
                .iter()
                .filter(|(from, _)| *from == writer)
                .filter_map(|(_, t2)| self.sxacts.get(t2))
                .any(|t2| {
                    let p = t2.prepare_seq.unwrap_or(u64::MAX);
                    t2.prepared()
                        && r.commit_seq.is_none_or(|c| p <= c)
                        && w.commit_seq.is_none_or(|c| p <= c)
                        && (!r.read_only || p <= r.last_commit_before_snapshot)
                });
        }
        if !failure && w.prepared() && !r.read_only {
            // T0 → R → W: R became a pivot with W committed first.
            let wp = w.prepare_seq.unwrap_or(0);
            failure = self
                .conflicts
                .iter()
                .filter(|(_, to)| *to == reader)
                .filter_map(|(t0, _)| self.sxacts.get(t0))
                .any(|t0| {
                    !t0.doomed
                        && t0.commit_seq.is_none_or(|c| c >= wp)
                        && (!t0.read_only || t0.last_commit_before_snapshot >= wp)
                });
        }
        if failure {
            if me == writer || w.prepared() {
                return Err(rw_failure());
            }
            self.sxacts.get_mut(&writer).expect("exists").doomed = true;
        }
        self.conflicts.push((reader, writer));
        Ok(())
    }

    /// The check at COMMIT (PreCommit_CheckForSerializationFailure): a doomed transaction
    /// fails; otherwise a pivot that now has a dangerous structure with this transaction
    /// as T_out is doomed.
    pub fn precommit(&mut self, xid: Xid) -> Result<(), DbError> {
        if !self.tracked(xid) {
            return Ok(());
        }
        self.check_doomed(xid)?;
        let nears: Vec<Xid> = self
            .conflicts
            .iter()
            .filter(|(_, to)| *to == xid)
            .map(|(from, _)| *from)
            .collect();
        for near in nears {
            let n = &self.sxacts[&near];
            if n.committed() || n.doomed {
                continue;
            }
            let dangerous = self
                .conflicts
                .iter()
                .filter(|(_, to)| *to == near)
                .any(|(far, _)| {
                    *far == xid
                        || self
                            .sxacts
                            .get(far)
                            .is_some_and(|f| !f.committed() && !f.read_only && !f.doomed)
                });
            if dangerous {
                self.sxacts.get_mut(&near).expect("exists").doomed = true;
            }
        }
        self.last_seq += 1;
        self.sxacts.get_mut(&xid).expect("tracked").prepare_seq = Some(self.last_seq);
        Ok(())
    }

    /// After COMMIT (ReleasePredicateLocks with isCommit): the transaction keeps its SIREAD
    /// locks; conflicts with committed transactions are released (a conflict out to one
    /// that committed earlier is remembered as a flag). `next_xid` is the next transaction id.
    pub fn commit(&mut self, xid: Xid, next_xid: u64) {
        let Some(s) = self.sxacts.get_mut(&xid) else {
            return;
        };
        self.last_seq += 1;
        s.commit_seq = Some(self.last_seq);
        s.finished_before = Some(next_xid);
        if !s.did_write {
            s.read_only = true;
        }
        let me = s.clone();
        let mut flag = me.conflict_out_to_committed;
        let mut earliest = me.earliest_out_conflict_commit;
        let mut release = Vec::new();
        for &(r, w) in &self.conflicts {
            if r == xid {
                let ws = &self.sxacts[&w];
                if !me.read_only && ws.committed() {
                    let p = ws.prepare_seq.unwrap_or(0);
                    if !flag || p < earliest {
                        earliest = p;
                    }
                    flag = true;
                }
                if ws.committed() || ws.last_commit_before_snapshot >= self.last_seq {
                    release.push((r, w));
                }
            } else if w == xid {
                let rs = &self.sxacts[&r];
                if rs.committed() || rs.read_only {
                    release.push((r, w));
                }
            }
        }
        for c in release {
            self.conflicts.retain(|x| *x != c);
        }
        let s = self.sxacts.get_mut(&xid).expect("exists");
        s.conflict_out_to_committed = flag;
        s.earliest_out_conflict_commit = earliest;
    }

    /// After ROLLBACK or an error: everything of the transaction goes.
    pub fn abort(&mut self, xid: Xid) {
        if self.sxacts.remove(&xid).is_none() {
            return;
        }
        self.conflicts.retain(|(r, w)| *r != xid && *w != xid);
        for h in self.locks.values_mut() {
            h.retain(|x| *x != xid);
        }
        self.locks.retain(|_, h| !h.is_empty());
    }
}

/// How PostgreSQL 15 reads a table of this store for a WHERE clause and ORDER BY: a
/// index scan on the primary key when the clause pins the key to one constant (`=`, a
/// one-item `IN`), a bitmap heap scan when it constrains the key otherwise (`<`, `<=`, `>`,
/// `>=`, `IN (…)`, `IS NULL`, and AND / OR of those), a full index scan for `ORDER BY key`
/// without a WHERE clause; otherwise a sequential scan. Checked against EXPLAIN on a fresh
/// table (never analyzed: the planner assumes 10 pages).
#[derive(Clone, Debug, PartialEq)]
pub enum AccessPath {
    SeqScan,
    /// An index scan with this index condition (`None`: every key, for `ORDER BY key`): rows
    /// come one by one from the index, each read as it is fetched. The planner's choice for
    /// one key (`id = 3`, `id IN (3)`).
    IndexScan(Option<Expr>),
    /// A bitmap heap scan with this index condition: the index yields the matching tuple
    /// ids first, then the heap page is read with all of them at once (heapam's
    /// page-at-a-time bitmap scan), so every matching tuple is read — SIREAD-locked and
    /// checked for rw-conflicts — before the statement acts on any row. The planner's choice
    /// for ranges, `IN` lists, OR and IS NULL on the key.
    BitmapScan(Expr),
}

/// Chooses the access path (see [`AccessPath`]). `pk` is the primary-key column name.
pub fn access_path(pk: Option<&str>, filter: Option<&Expr>, order_by: &[OrderBy]) -> AccessPath {
    let Some(pk) = pk else {
        return AccessPath::SeqScan;
    };
    if let Some(cond) = filter.and_then(|f| index_cond(pk, f)) {
        let one_key = match &cond {
            Expr::Binary(_, BinaryOp::Eq, _) => true,
            Expr::InList { list, .. } => list.len() == 1,
            _ => false,
        };
        return if one_key {
            AccessPath::IndexScan(Some(cond))
        } else {
            AccessPath::BitmapScan(cond)
        };
    }
    if filter.is_none()
        && order_by
            .first()
            .is_some_and(|o| matches!(&o.expr, Expr::Column(c) if c == pk))
    {
        return AccessPath::IndexScan(None);
    }
    AccessPath::SeqScan
}

fn constant(e: &Expr) -> bool {
    match e {
        Expr::Literal(_) => true,
        Expr::Column(_) => false,
        Expr::Unary(_, x) => constant(x),
        Expr::Binary(a, _, b) => constant(a) && constant(b),
        Expr::IsNull { expr, .. } => constant(expr),
        Expr::InList { expr, list, .. } => constant(expr) && list.iter().all(constant),
    }
}

fn is_pk(e: &Expr, pk: &str) -> bool {
    matches!(e, Expr::Column(c) if c == pk)
}

/// The part of `f` an index on `pk` can answer, if any.
fn index_cond(pk: &str, f: &Expr) -> Option<Expr> {
    use BinaryOp::*;
    match f {
        Expr::Binary(a, op @ (Eq | Lt | LtEq | Gt | GtEq), b)
            if (is_pk(a, pk) && constant(b)) || (is_pk(b, pk) && constant(a)) =>
        {
            Some(Expr::Binary(a.clone(), *op, b.clone()))
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } if is_pk(expr, pk) && list.iter().all(constant) => Some(f.clone()),
        Expr::IsNull {
            expr,
            negated: false,
        } if is_pk(expr, pk) => Some(f.clone()),
        Expr::Binary(a, And, b) => match (index_cond(pk, a), index_cond(pk, b)) {
            (Some(x), Some(y)) => Some(Expr::Binary(Box::new(x), And, Box::new(y))),
            (x, y) => x.or(y),
        },
        Expr::Binary(a, Or, b) => Some(Expr::Binary(
            Box::new(index_cond(pk, a)?),
            Or,
            Box::new(index_cond(pk, b)?),
        )),
        // The planner folds NOT over a comparison into the negated operator.
        Expr::Unary(UnaryOp::Not, x) => match &**x {
            Expr::Binary(a, op, b) => {
                let neg = match op {
                    NotEq => Eq,
                    Lt => GtEq,
                    LtEq => Gt,
                    Gt => LtEq,
                    GtEq => Lt,
                    _ => return None,
                };
                index_cond(pk, &Expr::Binary(a.clone(), neg, b.clone()))
            }
            Expr::Unary(UnaryOp::Not, y) => index_cond(pk, y),
            _ => None,
        },
        _ => None,
    }
}
