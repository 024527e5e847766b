//! The direct serialization graph (DSG) of a [`History`] and the anomalies it shows, after
//! Adya 2000 ("Weak Consistency: A Generalized Theory and Optimistic Implementations for
//! Distributed Transactions", ch. 3 for the graph, ch. 4 for the phenomena).
//!
//! [`analyze`] builds the graph and lists the [`Finding`]s:
//!
//! - **Nodes** are the committed transactions ([`TxnOutcome::Committed`]), by xid.
//! - **Installed versions.** The version order of an object is the order of its
//!   `versions` list, restricted to installed versions: a version whose writer did not
//!   commit is dropped, and of several versions one transaction wrote of the same object
//!   only the last counts (Adya: a transaction installs its final modification). In front
//!   of them stands the unborn version (no writer, no values).
//! - **Reads.** Every [`ReadInfo`] is a predicate read over its table (a missing WHERE
//!   clause is the predicate TRUE); each observation with `matched = true` is also an item
//!   read of that version. A read of a version that is not installed counts, for the
//!   edges, as a read of an installed one: of the writer's final version when the writer
//!   committed (the read is reported as G1b), otherwise of the latest installed version
//!   before it (a read of an aborted or still-running writer's version; G1a when the writer
//!   aborted).
//! - **Edges** ([`Edge`]), between committed transactions only, never from a transaction to
//!   itself, one per (from, to, kind, object) — an item edge wins over a predicate edge with
//!   the same key, as the dependency then holds without the predicate:
//!   - ww, "directly write-depends": Ti installs a version of x and Tj installs x's next
//!     installed version.
//!   - wr item, "directly item-read-depends": Tj item-reads the version Ti installed.
//!   - wr predicate, "directly predicate-read-depends": Tj's predicate read has x_k in its
//!     version set, Ti installed x_i = x_k or x_i before x_k, and x_i changes the matches of
//!     the read (x_i matches the predicate and the installed version before it does not, or
//!     vice versa — Adya's "changes the matches").
//!   - rw item, "directly item-anti-depends": Ti item-reads x_k and Tj installs x's next
//!     installed version.
//!   - rw predicate, "directly predicate-anti-depends" (Tj "overwrites" the read): Ti's
//!     predicate read has x_k in its version set and Tj installs a later version x_j that
//!     changes the matches of the read.
//!
//! # Whether a version matches a predicate
//!
//! "Changes the matches" needs to know whether a version satisfies the read's predicate.
//! A version's verdict for a read is decided as follows, in order:
//!
//! 1. a dead (deleted) or unborn version never matches;
//! 2. **exact**, when the store supplied the verdicts ([`ReadInfo::version_matches`]
//!    non-empty, one list per `observed` entry, in `observed` order, with one verdict per
//!    version of that entry's object): the store's verdict. A read whose lists do not line
//!    up with `observed` and the objects' version lists is treated as if it had none (for
//!    the objects whose lists do not line up, or for the whole read when the number of
//!    lists is off), and the rules below apply to it.
//!
//! With exact verdicts, "changes the matches" is exact for both predicate edges: x_j
//! changes the matches of the read iff x_j matches and the installed version before it does
//! not, or vice versa. So an insert of a row the predicate does not match makes no predicate
//! edge, and an update that moves a row into or out of the predicate does.
//!
//! # Predicates without their text
//!
//! Hand-built histories leave `version_matches` empty. The history then only records the
//! verdict for the version the read observed (`matched`) and the predicate as SQL text
//! without the table's column names, so it cannot be evaluated here. For such reads only,
//! after rule 1, a version's verdict is approximated as follows, in order:
//!
//! 1. with no WHERE clause (the predicate TRUE) every live version matches — exact;
//! 2. the observed version matches iff `matched` — exact;
//! 3. evidence: if some read of the same table with the same predicate text observed a
//!    live version with exactly the same values, and all such reads agree, their verdict
//!    is taken — exact as long as the predicate is a function of the row's values, which it
//!    is in this SQL subset;
//! 4. otherwise an **assumption**:
//!    - for versions at or before the observed one (wr predicate edges), a live version is
//!      assumed to match iff the observed version is live and matched. So an insert or a
//!      deletion before the read changes its matches iff the read matched the row, and an
//!      update between two live versions never does;
//!    - for versions after the observed one (rw predicate edges), a live version is assumed
//!      to match iff the observed version matched, or the observed version was unborn or
//!      dead. So deleting a row the read matched changes its matches, an update between two
//!      live versions does not (when the read matched the row, the rw item edge to the next
//!      writer already records the anti-dependency), and — **the phantom assumption** — an
//!      insert after a read that saw the row unborn or dead changes the read's matches, as
//!      if the new row satisfied the predicate.
//!
//! In this approximate mode the phantom assumption can add a false rw predicate edge (the
//! inserted row did not satisfy the predicate and no other read shows it), and hence a
//! false G2 or G-single; the assumptions for updates can miss an edge (an update that made a
//! row start or stop matching, with no read showing the new verdict). Predicate edges are
//! reported as such (`predicate: true`) in either mode, so a reader can tell them from the
//! item edges.
//!
//! # Phenomena
//!
//! Cycles are found by breadth-first search, through each edge in turn, so each finding
//! shows a shortest cycle of its kind through some edge; each phenomenon is reported at
//! most once per set of transactions (the shortest cycle found for that set). The kinds
//! (Adya 2000, ch. 4; lost update from Berenson et al. 1995, "A Critique of ANSI SQL
//! Isolation Levels", P4) are exclusive by the number of anti-dependency (rw) edges:
//! G0 (ww only), G1c (ww and wr, at least one wr), G-single (exactly one rw; lost update
//! when it is the two-transaction read-modify-write pattern), G2-item (two or more rw, all
//! item edges), G2 (two or more rw, one of them a predicate edge). G2-item is not reported
//! for a set of transactions already reported as G-single or lost update, nor G2 for one
//! already reported as G-single, lost update or G2-item.

use super::ast::Value;
use super::history::{History, ObjectInfo, Observed, ReadInfo, TxnOutcome};
use super::store::Xid;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// The kind of a direct dependency (Adya 2000, ch. 3, "Direct Conflicts").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DepKind {
    /// Write dependency: the target overwrote a version the source installed ("directly
    /// write-depends").
    Ww,
    /// Read dependency: the target read a version the source installed, or (predicate) a
    /// change the source made to the matches of the target's predicate read ("directly
    /// item-read-depends" / "directly predicate-read-depends").
    Wr,
    /// Anti-dependency: the target overwrote a version the source read, or (predicate)
    /// changed the matches of the source's predicate read after it ("directly
    /// item-anti-depends" / "directly predicate-anti-depends").
    Rw,
}

impl DepKind {
    /// `"ww"`, `"wr"` or `"rw"`.
    pub fn code(&self) -> &'static str {
        match self {
            DepKind::Ww => "ww",
            DepKind::Wr => "wr",
            DepKind::Rw => "rw",
        }
    }
}

/// One edge of the DSG: `to` depends on `from` (so `from` must come first in any serial
/// order). `object` indexes [`History::objects`]; `predicate` says whether the edge comes
/// from a predicate read (Adya's predicate-read / predicate-anti dependencies) rather than
/// an item read. Always `false` for ww edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Edge {
    pub from: Xid,
    pub to: Xid,
    pub kind: DepKind,
    pub predicate: bool,
    pub object: usize,
}

/// The phenomena the checker reports (Adya 2000, ch. 4, and Berenson et al. 1995 for lost
/// update). Each names a shape of the history that no serial execution has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phenomenon {
    /// G0, write cycle: a DSG cycle of ww edges only (Adya 2000, ch. 4, PL-1).
    G0,
    /// G1a, aborted read: a committed transaction read a version written by a transaction
    /// that aborted (Adya 2000, ch. 4, PL-2).
    G1a,
    /// G1b, intermediate read: a committed transaction read a version that was not the final
    /// one its (other, committed) writer wrote of that object (Adya 2000, ch. 4, PL-2).
    G1b,
    /// G1c, circular information flow: a DSG cycle of ww and wr edges with at least one wr
    /// (Adya 2000, ch. 4, PL-2).
    G1c,
    /// G-single, single anti-dependency cycle (read skew): a DSG cycle with exactly one rw
    /// edge (Adya 2000, ch. 4, PL-2+).
    GSingle,
    /// Lost update (P4, Berenson et al. 1995): the G-single cycle Ti rw→ Tj, Tj ww→ Ti on
    /// one object — Ti read it, Tj overwrote it, Ti overwrote Tj's version without
    /// computing from it (a value set outright, typically from Ti's earlier read). An
    /// overwrite computed from Tj's version (`hits = hits + 1` re-reading the row after
    /// waiting) loses nothing: that cycle is reported as G-single.
    LostUpdate,
    /// G2-item, item anti-dependency cycle (write skew): a DSG cycle with two or more rw
    /// edges, all item edges (Adya 2000, ch. 4, PL-2.99).
    G2Item,
    /// G2, anti-dependency cycle: a DSG cycle with two or more rw edges that needs a
    /// predicate rw edge (Adya 2000, ch. 4, PL-3).
    G2,
}

impl Phenomenon {
    /// The short code: `"G0"`, `"G1a"`, `"G1b"`, `"G1c"`, `"G-single"`, `"P4"` (lost
    /// update has no G-code: Berenson et al. 1995 call it P4), `"G2-item"`, `"G2"`.
    pub fn code(&self) -> &'static str {
        match self {
            Phenomenon::G0 => "G0",
            Phenomenon::G1a => "G1a",
            Phenomenon::G1b => "G1b",
            Phenomenon::G1c => "G1c",
            Phenomenon::GSingle => "G-single",
            Phenomenon::LostUpdate => "P4",
            Phenomenon::G2Item => "G2-item",
            Phenomenon::G2 => "G2",
        }
    }

    /// The plain name: `"write cycle"`, `"aborted read"`, `"intermediate read"`,
    /// `"circular information flow"`, `"read skew"`, `"lost update"`, `"write skew"`,
    /// `"anti-dependency cycle"`.
    pub fn name(&self) -> &'static str {
        match self {
            Phenomenon::G0 => "write cycle",
            Phenomenon::G1a => "aborted read",
            Phenomenon::G1b => "intermediate read",
            Phenomenon::G1c => "circular information flow",
            Phenomenon::GSingle => "read skew",
            Phenomenon::LostUpdate => "lost update",
            Phenomenon::G2Item => "write skew",
            Phenomenon::G2 => "anti-dependency cycle",
        }
    }
}

/// One anomaly found in a history.
///
/// - `txns`: the transactions involved, sorted by xid (for G1a / G1b the writer and the
///   reader);
/// - `cycle`: the DSG cycle, each edge's `to` being the next edge's `from`, starting at the
///   smallest xid; empty for G1a and G1b;
/// - `explanation`: plain English naming the sessions and rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub phenomenon: Phenomenon,
    pub txns: Vec<Xid>,
    pub cycle: Vec<Edge>,
    pub explanation: String,
}

/// The direct serialization graph: the committed transactions (sorted by xid) and the
/// edges between them (sorted by from, to, kind, object).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Dsg {
    pub nodes: Vec<Xid>,
    pub edges: Vec<Edge>,
}

/// The result of [`analyze`]: the graph and the findings, ordered G0, G1a, G1b, G1c, lost
/// update, G-single, G2-item, G2, and within a phenomenon by their transactions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Analysis {
    pub dsg: Dsg,
    pub findings: Vec<Finding>,
}

impl Analysis {
    /// Whether the history is serializable in Adya's sense (PL-3, Adya 2000, ch. 4): the DSG
    /// has no cycle and no committed transaction read aborted or intermediate data (no G1a,
    /// no G1b).
    pub fn serializable(&self) -> bool {
        acyclic(&self.dsg)
            && !self
                .findings
                .iter()
                .any(|f| matches!(f.phenomenon, Phenomenon::G1a | Phenomenon::G1b))
    }
}

/// Builds the DSG of `h` and finds its anomalies (see the module documentation for the
/// rules and their sources). Deterministic: the same history gives the same analysis.
pub fn analyze(h: &History) -> Analysis {
    let ctx = Context::new(h);
    let edges = ctx.edges();
    let nodes: Vec<Xid> = ctx.committed.iter().copied().collect();
    let dsg = Dsg { nodes, edges };
    let mut findings = Vec::new();
    let labels = Labels::new(h);

    let (g1a, g1b) = ctx.bad_reads();
    let cycles = Cycles::find(&dsg, &|w: &Edge| ctx.overwrote_blindly(w));

    for (phenomenon, found) in [
        (Phenomenon::G0, &cycles.g0),
        (Phenomenon::G1a, &g1a),
        (Phenomenon::G1b, &g1b),
        (Phenomenon::G1c, &cycles.g1c),
        (Phenomenon::LostUpdate, &cycles.lost_update),
        (Phenomenon::GSingle, &cycles.g_single),
        (Phenomenon::G2Item, &cycles.g2_item),
        (Phenomenon::G2, &cycles.g2),
    ] {
        for (txns, item) in found {
            let explanation = match item {
                Found::Cycle(cycle) => explain_cycle(h, &ctx, &labels, phenomenon, txns, cycle),
                Found::Read {
                    writer,
                    reader,
                    objects,
                } => explain_read(h, &labels, phenomenon, *writer, *reader, objects),
            };
            findings.push(Finding {
                phenomenon,
                txns: txns.clone(),
                cycle: match item {
                    Found::Cycle(cycle) => cycle.clone(),
                    Found::Read { .. } => Vec::new(),
                },
                explanation,
            });
        }
    }
    Analysis { dsg, findings }
}

/// One line describing an edge, naming the sessions and the row, e.g.
/// `"T1 → T2 (rw, row 1 of test): T1 read a version that T2 overwrote"`. Predicate edges
/// say `"wr predicate"` / `"rw predicate"` and what the writer did to the row (inserted,
/// deleted or updated it).
pub fn describe_edge(h: &History, e: &Edge) -> String {
    let ctx = Context::new(h);
    describe(h, &ctx, &Labels::new(h), e)
}

// ---------------------------------------------------------------------------------------
// The graph.

/// One link of an object's installed-version chain; link 0 is the unborn version.
#[derive(Clone, Copy, Debug)]
struct Link {
    /// Index into the object's `versions` (`None` for the unborn base when version 0 has a
    /// writer, which a well-formed history never has).
    version: Option<usize>,
    writer: Option<Xid>,
}

/// An object's installed versions, and where each listed version counts in that order.
#[derive(Clone, Debug)]
struct Chain {
    /// `links[0]` is the unborn version; then the installed versions in version order.
    links: Vec<Link>,
    /// For each index into `versions`: the link a read of it counts as (itself if
    /// installed; the writer's installed version if the writer committed; otherwise the
    /// latest installed version before it).
    effective: Vec<usize>,
}

/// Which side of the observed version a verdict is wanted for (see "Predicates without
/// their text" in the module docs; irrelevant when the verdicts are exact).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    AtOrBefore,
    After,
}

/// What a read's verdict on a version is keyed by: (table, predicate text, the version's
/// values).
type EvidenceKey<'h> = (&'h str, Option<&'h str>, &'h [Value]);

struct Context<'h> {
    h: &'h History,
    committed: BTreeSet<Xid>,
    outcome: HashMap<Xid, TxnOutcome>,
    chains: Vec<Chain>,
    /// (table, predicate, values) → (some read matched it, some read did not).
    evidence: HashMap<EvidenceKey<'h>, (bool, bool)>,
}

impl<'h> Context<'h> {
    fn new(h: &'h History) -> Self {
        let committed: BTreeSet<Xid> = h
            .txns
            .iter()
            .filter(|t| matches!(t.outcome, TxnOutcome::Committed { .. }))
            .map(|t| t.xid)
            .collect();
        let outcome = h.txns.iter().map(|t| (t.xid, t.outcome)).collect();
        let chains = h.objects.iter().map(|o| chain(o, &committed)).collect();
        let mut evidence: HashMap<_, (bool, bool)> = HashMap::new();
        for r in &h.reads {
            for obs in &r.observed {
                let Some(values) = version_values(h, obs.object, obs.version) else {
                    continue;
                };
                let seen = evidence
                    .entry((r.table.as_str(), r.predicate.as_deref(), values))
                    .or_default();
                if obs.matched {
                    seen.0 = true;
                } else {
                    seen.1 = true;
                }
            }
        }
        Context {
            h,
            committed,
            outcome,
            chains,
            evidence,
        }
    }

    fn link_values(&self, object: usize, link: &Link) -> Option<&'h [Value]> {
        link.version.and_then(|v| version_values(self.h, object, v))
    }

    /// The store's verdicts on every version of the object of `read.observed[i]` (module
    /// docs, "Whether a version matches a predicate"), if it supplied them and they line up
    /// with the read's observations and the object's versions.
    fn exact_matches<'r>(&self, read: &'r ReadInfo, i: usize) -> Option<&'r [bool]> {
        if read.version_matches.len() != read.observed.len() {
            return None;
        }
        let obs = read.observed.get(i)?;
        let verdicts = read.version_matches.get(i)?;
        let versions = self.h.objects.get(obs.object)?.versions.len();
        (verdicts.len() == versions).then_some(verdicts.as_slice())
    }

    /// Whether the version at `link` satisfies `read`'s predicate: `exact` (the store's
    /// verdicts on the object's versions) when given, otherwise as far as can be told
    /// (module docs, "Predicates without their text").
    fn matches(
        &self,
        read: &ReadInfo,
        obs: &Observed,
        exact: Option<&[bool]>,
        link: &Link,
        side: Side,
    ) -> bool {
        let Some(values) = self.link_values(obs.object, link) else {
            return false;
        };
        if let Some(exact) = exact {
            return link
                .version
                .and_then(|v| exact.get(v))
                .copied()
                .unwrap_or(false);
        }
        if read.predicate.is_none() {
            return true;
        }
        if link.version == Some(obs.version) {
            return obs.matched;
        }
        if let Some(&(yes, no)) =
            self.evidence
                .get(&(read.table.as_str(), read.predicate.as_deref(), values))
        {
            if yes != no {
                return yes;
            }
        }
        let observed_live = version_values(self.h, obs.object, obs.version).is_some();
        match side {
            Side::AtOrBefore => observed_live && obs.matched,
            Side::After => obs.matched || !observed_live,
        }
    }

    /// Whether the installed version at link `q` (≥ 1) changes the matches of the read:
    /// it matches and the installed version before it does not, or vice versa.
    fn changes_matches(
        &self,
        read: &ReadInfo,
        obs: &Observed,
        exact: Option<&[bool]>,
        q: usize,
        side: Side,
    ) -> bool {
        let links = &self.chains[obs.object].links;
        self.matches(read, obs, exact, &links[q], side)
            != self.matches(read, obs, exact, &links[q - 1], side)
    }

    /// For a ww edge Tj → Ti: whether Ti's first version of the object after Tj's was set
    /// outright rather than computed from Tj's in the same statement ([`super::history::VersionInfo::derived`]:
    /// `hits = hits + 1` after waiting re-reads the newest version, EvalPlanQual, and adds to
    /// it). Only a blind overwrite loses Tj's update; a computed one is still a G-single
    /// cycle if Ti read the row before Tj wrote it, but nothing was lost.
    fn overwrote_blindly(&self, w: &Edge) -> bool {
        let Some(chain) = self.chains.get(w.object) else {
            return true;
        };
        let versions = &self.h.objects[w.object].versions;
        let Some(p) = chain.links.windows(2).find_map(|pair| {
            (pair[0].writer == Some(w.from) && pair[1].writer == Some(w.to))
                .then_some(pair[0].version)
                .flatten()
        }) else {
            return true;
        };
        versions[p + 1..]
            .iter()
            .find(|v| v.writer == Some(w.to))
            .is_none_or(|v| !v.derived)
    }

    fn edges(&self) -> Vec<Edge> {
        // (from, to, kind, object) → predicate (an item edge wins).
        let mut edges: BTreeMap<(Xid, Xid, DepKind, usize), bool> = BTreeMap::new();
        let mut add = |from: Option<Xid>, to: Option<Xid>, kind, object, predicate: bool| {
            let (Some(from), Some(to)) = (from, to) else {
                return;
            };
            if from == to || !self.committed.contains(&from) || !self.committed.contains(&to) {
                return;
            }
            edges
                .entry((from, to, kind, object))
                .and_modify(|p| *p = *p && predicate)
                .or_insert(predicate);
        };
        for (object, chain) in self.chains.iter().enumerate() {
            for pair in chain.links.windows(2).skip(1) {
                add(pair[0].writer, pair[1].writer, DepKind::Ww, object, false);
            }
        }
        for read in &self.h.reads {
            if !self.committed.contains(&read.xid) {
                continue;
            }
            let reader = Some(read.xid);
            for (i, obs) in read.observed.iter().enumerate() {
                let Some(chain) = self.chains.get(obs.object) else {
                    continue;
                };
                let exact = self.exact_matches(read, i);
                let Some(&p) = chain.effective.get(obs.version) else {
                    continue;
                };
                let links = &chain.links;
                if obs.matched {
                    add(links[p].writer, reader, DepKind::Wr, obs.object, false);
                    if let Some(next) = links.get(p + 1) {
                        add(reader, next.writer, DepKind::Rw, obs.object, false);
                    }
                }
                for (q, link) in links.iter().enumerate().take(p + 1).skip(1) {
                    if self.changes_matches(read, obs, exact, q, Side::AtOrBefore) {
                        add(link.writer, reader, DepKind::Wr, obs.object, true);
                    }
                }
                for (q, link) in links.iter().enumerate().skip(p + 1) {
                    if self.changes_matches(read, obs, exact, q, Side::After) {
                        add(reader, link.writer, DepKind::Rw, obs.object, true);
                    }
                }
            }
        }
        edges
            .into_iter()
            .map(|((from, to, kind, object), predicate)| Edge {
                from,
                to,
                kind,
                predicate,
                object,
            })
            .collect()
    }

    /// G1a and G1b: matched reads by committed transactions of versions an aborted writer
    /// wrote, or that a committed writer later replaced within its own transaction.
    fn bad_reads(&self) -> (BTreeMap<Vec<Xid>, Found>, BTreeMap<Vec<Xid>, Found>) {
        let mut g1a: BTreeMap<(Xid, Xid), BTreeSet<usize>> = BTreeMap::new();
        let mut g1b: BTreeMap<(Xid, Xid), BTreeSet<usize>> = BTreeMap::new();
        for read in &self.h.reads {
            if !self.committed.contains(&read.xid) {
                continue;
            }
            for obs in read.observed.iter().filter(|o| o.matched) {
                let Some(version) = self
                    .h
                    .objects
                    .get(obs.object)
                    .and_then(|o| o.versions.get(obs.version))
                else {
                    continue;
                };
                let Some(writer) = version.writer else {
                    continue;
                };
                if writer == read.xid {
                    continue;
                }
                match self.outcome.get(&writer) {
                    Some(TxnOutcome::Aborted) => {
                        g1a.entry((writer, read.xid))
                            .or_default()
                            .insert(obs.object);
                    }
                    Some(TxnOutcome::Committed { .. }) => {
                        let chain = &self.chains[obs.object];
                        let installed = chain.links[chain.effective[obs.version]].version;
                        if installed != Some(obs.version) {
                            g1b.entry((writer, read.xid))
                                .or_default()
                                .insert(obs.object);
                        }
                    }
                    _ => {}
                }
            }
        }
        let convert = |m: BTreeMap<(Xid, Xid), BTreeSet<usize>>| {
            let mut out = BTreeMap::new();
            for ((writer, reader), objects) in m {
                let mut txns = vec![writer, reader];
                txns.sort_unstable();
                out.entry(txns).or_insert(Found::Read {
                    writer,
                    reader,
                    objects: objects.into_iter().collect(),
                });
            }
            out
        };
        (convert(g1a), convert(g1b))
    }
}

fn version_values(h: &History, object: usize, version: usize) -> Option<&[Value]> {
    h.objects
        .get(object)?
        .versions
        .get(version)?
        .values
        .as_deref()
}

fn chain(o: &ObjectInfo, committed: &BTreeSet<Xid>) -> Chain {
    let mut last: HashMap<Xid, usize> = HashMap::new();
    for (i, v) in o.versions.iter().enumerate() {
        if let Some(w) = v.writer {
            last.insert(w, i);
        }
    }
    let base = Link {
        version: match o.versions.first() {
            Some(v) if v.writer.is_none() => Some(0),
            _ => None,
        },
        writer: None,
    };
    let mut links = vec![base];
    let mut position = vec![None; o.versions.len()];
    for (i, v) in o.versions.iter().enumerate() {
        if let Some(w) = v.writer {
            if committed.contains(&w) && last[&w] == i {
                position[i] = Some(links.len());
                links.push(Link {
                    version: Some(i),
                    writer: Some(w),
                });
            }
        }
    }
    let mut effective = Vec::with_capacity(o.versions.len());
    let mut latest = 0;
    for (i, v) in o.versions.iter().enumerate() {
        effective.push(match (position[i], v.writer) {
            (Some(p), _) => {
                latest = p;
                p
            }
            (None, Some(w)) if committed.contains(&w) => {
                position[last[&w]].expect("a committed writer's last version is installed")
            }
            _ => latest,
        });
    }
    Chain { links, effective }
}

/// Whether a graph has no cycle (Kahn's algorithm).
fn acyclic(dsg: &Dsg) -> bool {
    let mut indegree: BTreeMap<Xid, usize> = dsg.nodes.iter().map(|&n| (n, 0)).collect();
    let mut out: BTreeMap<Xid, Vec<Xid>> = BTreeMap::new();
    for e in &dsg.edges {
        *indegree.entry(e.to).or_default() += 1;
        indegree.entry(e.from).or_default();
        out.entry(e.from).or_default().push(e.to);
    }
    let mut ready: Vec<Xid> = indegree
        .iter()
        .filter(|(_, &d)| d == 0)
        .map(|(&n, _)| n)
        .collect();
    let mut done = 0;
    while let Some(n) = ready.pop() {
        done += 1;
        for to in out.get(&n).into_iter().flatten() {
            let d = indegree.get_mut(to).expect("every edge end has a degree");
            *d -= 1;
            if *d == 0 {
                ready.push(*to);
            }
        }
    }
    done == indegree.len()
}

// ---------------------------------------------------------------------------------------
// Cycles.

/// What a finding is about, before it is explained.
#[derive(Clone, Debug)]
enum Found {
    Cycle(Vec<Edge>),
    Read {
        writer: Xid,
        reader: Xid,
        objects: Vec<usize>,
    },
}

/// The cycles of each kind, by set of transactions.
struct Cycles {
    g0: BTreeMap<Vec<Xid>, Found>,
    g1c: BTreeMap<Vec<Xid>, Found>,
    lost_update: BTreeMap<Vec<Xid>, Found>,
    g_single: BTreeMap<Vec<Xid>, Found>,
    g2_item: BTreeMap<Vec<Xid>, Found>,
    g2: BTreeMap<Vec<Xid>, Found>,
}

struct Graph<'a> {
    edges: &'a [Edge],
    out: HashMap<Xid, Vec<usize>>,
}

impl Graph<'_> {
    fn out(&self, n: Xid) -> &[usize] {
        self.out.get(&n).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The shortest path of allowed edges from `from` to `to` (edge indices).
    fn shortest_path(
        &self,
        from: Xid,
        to: Xid,
        allow: &dyn Fn(&Edge) -> bool,
    ) -> Option<Vec<usize>> {
        let mut via: HashMap<Xid, usize> = HashMap::new();
        let mut seen = HashSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(n) = queue.pop_front() {
            for &i in self.out(n) {
                let e = &self.edges[i];
                if !allow(e) || !seen.insert(e.to) {
                    continue;
                }
                via.insert(e.to, i);
                if e.to == to {
                    let mut path = vec![i];
                    let mut at = self.edges[i].from;
                    while at != from {
                        let i = via[&at];
                        path.push(i);
                        at = self.edges[i].from;
                    }
                    path.reverse();
                    return Some(path);
                }
                queue.push_back(e.to);
            }
        }
        None
    }

    /// The shortest path of allowed edges from `from` to `to` that, with the one rw edge
    /// leading into `from`, has at least two rw edges; `None` if there is none or the
    /// shortest is not a simple path (it then goes around a shorter cycle, found through
    /// that cycle's own edges).
    fn shortest_second_rw(
        &self,
        from: Xid,
        to: Xid,
        allow: &dyn Fn(&Edge) -> bool,
    ) -> Option<Vec<usize>> {
        type State = (Xid, u8);
        let start: State = (from, 1);
        let goal: State = (to, 2);
        let mut via: HashMap<State, (usize, State)> = HashMap::new();
        let mut seen = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(state @ (n, rws)) = queue.pop_front() {
            if n == to {
                continue;
            }
            for &i in self.out(n) {
                let e = &self.edges[i];
                if !allow(e) {
                    continue;
                }
                let next = (e.to, (rws + u8::from(e.kind == DepKind::Rw)).min(2));
                if !seen.insert(next) {
                    continue;
                }
                via.insert(next, (i, state));
                if next == goal {
                    let mut path = Vec::new();
                    let mut at = next;
                    while at != start {
                        let (i, prev) = via[&at];
                        path.push(i);
                        at = prev;
                    }
                    path.reverse();
                    // Simple iff no node (the start included) is entered twice.
                    let mut nodes = HashSet::from([from]);
                    return path
                        .iter()
                        .all(|&i| nodes.insert(self.edges[i].to))
                        .then_some(path);
                }
                queue.push_back(next);
            }
        }
        None
    }
}

impl Cycles {
    /// `blind(w)`: whether the ww edge `w`'s writer overwrote the earlier version without
    /// computing from it (see [`Context::overwrote_blindly`]).
    fn find(dsg: &Dsg, blind: &dyn Fn(&Edge) -> bool) -> Self {
        let mut out: HashMap<Xid, Vec<usize>> = HashMap::new();
        for (i, e) in dsg.edges.iter().enumerate() {
            out.entry(e.from).or_default().push(i);
        }
        let g = Graph {
            edges: &dsg.edges,
            out,
        };
        let close = |first: &Edge, path: Vec<usize>| -> Vec<Edge> {
            std::iter::once(*first)
                .chain(path.into_iter().map(|i| dsg.edges[i]))
                .collect()
        };
        let is = |k: DepKind| move |e: &Edge| e.kind == k;

        let mut g0 = BTreeMap::new();
        let mut g1c = BTreeMap::new();
        let mut lost_update = BTreeMap::new();
        let mut g_single = BTreeMap::new();
        let mut g2_item = BTreeMap::new();
        let mut g2 = BTreeMap::new();
        let no_rw = |e: &Edge| e.kind != DepKind::Rw;
        let item_rw = |e: &Edge| !(e.kind == DepKind::Rw && e.predicate);

        for e in dsg.edges.iter().filter(|e| is(DepKind::Ww)(e)) {
            if let Some(path) = g.shortest_path(e.to, e.from, &is(DepKind::Ww)) {
                record(&mut g0, close(e, path));
            }
        }
        for e in dsg.edges.iter().filter(|e| is(DepKind::Wr)(e)) {
            if let Some(path) = g.shortest_path(e.to, e.from, &no_rw) {
                record(&mut g1c, close(e, path));
            }
        }
        for e in dsg.edges.iter().filter(|e| is(DepKind::Rw)(e)) {
            let overwrite = dsg.edges.iter().find(|w| {
                w.kind == DepKind::Ww
                    && w.from == e.to
                    && w.to == e.from
                    && w.object == e.object
                    && blind(w)
            });
            if let Some(w) = overwrite {
                record(&mut lost_update, vec![*e, *w]);
            } else if let Some(path) = g.shortest_path(e.to, e.from, &no_rw) {
                record(&mut g_single, close(e, path));
            }
        }
        g_single.retain(|txns, _| !lost_update.contains_key(txns));
        let single =
            |txns: &Vec<Xid>| lost_update.contains_key(txns) || g_single.contains_key(txns);
        for e in dsg
            .edges
            .iter()
            .filter(|e| e.kind == DepKind::Rw && !e.predicate)
        {
            if let Some(path) = g.shortest_second_rw(e.to, e.from, &item_rw) {
                let cycle = close(e, path);
                if !single(&txns_of(&cycle)) {
                    record(&mut g2_item, cycle);
                }
            }
        }
        for e in dsg
            .edges
            .iter()
            .filter(|e| e.kind == DepKind::Rw && e.predicate)
        {
            if let Some(path) = g.shortest_second_rw(e.to, e.from, &|_| true) {
                let cycle = close(e, path);
                let txns = txns_of(&cycle);
                if !single(&txns) && !g2_item.contains_key(&txns) {
                    record(&mut g2, cycle);
                }
            }
        }
        Cycles {
            g0,
            g1c,
            lost_update,
            g_single,
            g2_item,
            g2,
        }
    }
}

fn txns_of(cycle: &[Edge]) -> Vec<Xid> {
    let set: BTreeSet<Xid> = cycle.iter().map(|e| e.from).collect();
    set.into_iter().collect()
}

/// Keeps `cycle` (rotated to start at its smallest xid) unless a cycle at least as short
/// was already kept for the same transactions.
fn record(found: &mut BTreeMap<Vec<Xid>, Found>, mut cycle: Vec<Edge>) {
    let start = (0..cycle.len()).min_by_key(|&i| cycle[i].from).unwrap_or(0);
    cycle.rotate_left(start);
    let txns = txns_of(&cycle);
    match found.get(&txns) {
        Some(Found::Cycle(kept)) if kept.len() <= cycle.len() => {}
        _ => {
            found.insert(txns, Found::Cycle(cycle));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Words.

/// How transactions are named: by session (`"T1"`), with the xid when the session ran
/// more than one transaction of the history (`"T1 (xid 104)"`).
struct Labels {
    names: HashMap<Xid, String>,
}

impl Labels {
    fn new(h: &History) -> Self {
        let mut per_session: HashMap<&str, usize> = HashMap::new();
        for t in &h.txns {
            *per_session.entry(t.session.as_str()).or_default() += 1;
        }
        let names = h
            .txns
            .iter()
            .map(|t| {
                let name = if per_session[t.session.as_str()] > 1 {
                    format!("{} (xid {})", t.session, t.xid)
                } else {
                    t.session.clone()
                };
                (t.xid, name)
            })
            .collect();
        Labels { names }
    }

    fn of(&self, xid: Xid) -> String {
        self.names
            .get(&xid)
            .cloned()
            .unwrap_or_else(|| format!("xid {xid}"))
    }

    fn list(&self, xids: &[Xid]) -> String {
        let names: Vec<String> = xids.iter().map(|&x| self.of(x)).collect();
        join_and(&names)
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `"row 1 of test"` (text keys quoted: `"row 'a' of test"`).
fn object_name(h: &History, object: usize) -> String {
    match h.objects.get(object) {
        Some(o) => match &o.key {
            Value::Text(s) => format!("row '{s}' of {}", o.table),
            key => format!("row {key} of {}", o.table),
        },
        None => format!("object #{object}"),
    }
}

/// What `writer` did to `object` with the version it installed.
fn action(ctx: &Context, object: usize, writer: Xid) -> Option<&'static str> {
    let links = &ctx.chains.get(object)?.links;
    let q = links.iter().position(|l| l.writer == Some(writer))?;
    let now = ctx.link_values(object, &links[q]).is_some();
    let before = q > 0 && ctx.link_values(object, &links[q - 1]).is_some();
    Some(match (before, now) {
        (_, false) => "deleted",
        (false, true) => "inserted",
        (true, true) => "updated",
    })
}

fn describe(h: &History, ctx: &Context, labels: &Labels, e: &Edge) -> String {
    let (a, b) = (labels.of(e.from), labels.of(e.to));
    let obj = object_name(h, e.object);
    let kind = if e.predicate {
        format!("{} predicate", e.kind.code())
    } else {
        e.kind.code().to_string()
    };
    let what = match (e.kind, e.predicate) {
        (DepKind::Ww, _) => format!("{b} overwrote the version {a} wrote"),
        (DepKind::Wr, false) => format!("{b} read the version {a} wrote"),
        (DepKind::Rw, false) => format!("{a} read a version that {b} overwrote"),
        (DepKind::Wr, true) => match action(ctx, e.object, e.from) {
            Some(act) => {
                format!("{a} {act} the row, changing what {b}'s predicate read matched")
            }
            None => format!("{a} changed what {b}'s predicate read matched"),
        },
        (DepKind::Rw, true) => match action(ctx, e.object, e.to) {
            Some("inserted") => format!(
                "{b} inserted the row after {a}'s predicate read, which did not see it (a phantom)"
            ),
            Some(act) => format!(
                "{b} {act} the row after {a}'s predicate read, changing what it would match"
            ),
            None => format!("{b} changed what {a}'s predicate read would match"),
        },
    };
    format!("{a} → {b} ({kind}, {obj}): {what}")
}

fn explain_cycle(
    h: &History,
    ctx: &Context,
    labels: &Labels,
    phenomenon: Phenomenon,
    txns: &[Xid],
    cycle: &[Edge],
) -> String {
    let steps: Vec<String> = cycle.iter().map(|e| describe(h, ctx, labels, e)).collect();
    let who = labels.list(txns);
    let why = match phenomenon {
        Phenomenon::G0 => format!(
            "Each transaction overwrote a version the previous one around the cycle wrote, \
             so no serial order of {who} installs the versions in this order."
        ),
        Phenomenon::G1c => format!(
            "Each transaction saw or overwrote the writes of the previous one around the \
             cycle, so information flowed in a circle: no serial order of {who} explains it."
        ),
        Phenomenon::LostUpdate => {
            let (reader, writer) = (labels.of(cycle[0].from), labels.of(cycle[0].to));
            let obj = object_name(h, cycle[0].object);
            let (reader, writer) = if cycle[0].kind == DepKind::Rw {
                (reader, writer)
            } else {
                (writer, reader)
            };
            format!(
                "{reader} read {obj}, {writer} then wrote it, and {reader} overwrote \
                 {writer}'s version based on what it had read: {writer}'s update is lost."
            )
        }
        Phenomenon::GSingle => {
            let rw = cycle
                .iter()
                .find(|e| e.kind == DepKind::Rw)
                .unwrap_or(&cycle[0]);
            let (a, b) = (labels.of(rw.from), labels.of(rw.to));
            format!(
                "Exactly one edge is an anti-dependency: {a} read state from before {b}'s \
                 write, yet through the rest of the cycle it depends on {b}, so {a} saw \
                 {b}'s effects only in part. No serial order of {who} explains it."
            )
        }
        Phenomenon::G2Item => {
            let n = cycle.iter().filter(|e| e.kind == DepKind::Rw).count();
            format!(
                "The cycle has {n} anti-dependencies, all on rows the transactions read: each \
                 acted on a version that another one in the cycle overwrote, so no serial \
                 order of {who} explains it."
            )
        }
        Phenomenon::G2 => format!(
            "The cycle needs an anti-dependency on a predicate read: a transaction changed \
             which rows another one's predicate read would match, so no serial order of \
             {who} is consistent with what the predicates saw."
        ),
        Phenomenon::G1a | Phenomenon::G1b => String::new(),
    };
    format!(
        "{} among {who}: {}. {why}",
        heading(phenomenon),
        steps.join("; ")
    )
}

fn explain_read(
    h: &History,
    labels: &Labels,
    phenomenon: Phenomenon,
    writer: Xid,
    reader: Xid,
    objects: &[usize],
) -> String {
    let (w, r) = (labels.of(writer), labels.of(reader));
    let names: Vec<String> = objects.iter().map(|&o| object_name(h, o)).collect();
    let rows = join_and(&names);
    let what = match phenomenon {
        Phenomenon::G1a => format!(
            "{r} read {rows} as {w} wrote it, and {w} aborted: {r} committed having seen \
             data that never existed."
        ),
        _ => format!(
            "{r} read a version of {rows} that {w} later overwrote within the same \
             transaction: {r} committed having seen a value that {w} never installed."
        ),
    };
    format!("{}: {what}", heading(phenomenon))
}

/// `"Read skew (G-single)"`, `"Lost update (P4)"`.
fn heading(phenomenon: Phenomenon) -> String {
    format!("{} ({})", capitalized(phenomenon.name()), phenomenon.code())
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
