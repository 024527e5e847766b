//! The DSG checker (Adya 2000) on hand-built histories, one per phenomenon, plus negative
//! cases, and a property test: random serial histories have no anomaly and every edge points
//! forward in the serial order.

use distlab_sim::models::txn::ast::{IsolationLevel, Value};
use distlab_sim::models::txn::dsg::*;
use distlab_sim::models::txn::history::*;
use proptest::prelude::*;

/// Builds histories by hand: transactions, objects (rows of a table, with their unborn
/// version 0), versions appended in version order, and reads.
#[derive(Default)]
struct Builder {
    h: History,
    commits: u64,
}

const SETUP: u64 = 100;

impl Builder {
    fn new() -> Self {
        Self::default()
    }

    fn txn(&mut self, xid: u64, session: &str, outcome: TxnOutcome) -> &mut Self {
        self.h.txns.push(TxnInfo {
            xid,
            session: session.to_string(),
            level: IsolationLevel::ReadCommitted,
            outcome,
        });
        self
    }

    fn committed(&mut self, xid: u64, session: &str) -> &mut Self {
        self.commits += 1;
        let order = self.commits;
        self.txn(xid, session, TxnOutcome::Committed { order })
    }

    fn aborted(&mut self, xid: u64, session: &str) -> &mut Self {
        self.txn(xid, session, TxnOutcome::Aborted)
    }

    /// A new object (row `key` of `table`) with only its unborn version; returns its index.
    fn object(&mut self, table: &str, key: i64) -> usize {
        self.h.objects.push(ObjectInfo {
            table: table.to_string(),
            key: Value::Int(key),
            versions: vec![VersionInfo {
                writer: None,
                values: None,
                derived: false,
            }],
        });
        self.h.objects.len() - 1
    }

    /// Appends a live version `(key, value)` written by `writer`; returns its index.
    fn write(&mut self, object: usize, writer: u64, value: i64) -> usize {
        let key = match self.h.objects[object].key {
            Value::Int(k) => k,
            _ => unreachable!(),
        };
        self.push(
            object,
            writer,
            Some(vec![Value::Int(key), Value::Int(value)]),
        )
    }

    /// Appends a dead version (a deletion by `writer`); returns its index.
    #[allow(dead_code)]
    fn delete(&mut self, object: usize, writer: u64) -> usize {
        self.push(object, writer, None)
    }

    fn push(&mut self, object: usize, writer: u64, values: Option<Vec<Value>>) -> usize {
        let versions = &mut self.h.objects[object].versions;
        versions.push(VersionInfo {
            writer: Some(writer),
            values,
            derived: false,
        });
        versions.len() - 1
    }

    /// A read by `xid` of `table` with `predicate`, observing `(object, version, matched)`.
    fn read(
        &mut self,
        xid: u64,
        table: &str,
        predicate: Option<&str>,
        observed: &[(usize, usize, bool)],
    ) {
        let statement = self.h.reads.len();
        self.h.reads.push(ReadInfo {
            xid,
            statement,
            table: table.to_string(),
            predicate: predicate.map(str::to_string),
            observed: observed
                .iter()
                .map(|&(object, version, matched)| Observed {
                    object,
                    version,
                    matched,
                })
                .collect(),
            version_matches: vec![],
        });
    }

    fn build(&self) -> History {
        self.h.clone()
    }

    /// The history with every read's `version_matches` filled in, as the store does:
    /// `matches(predicate, values)` for each live version of each observed object, `false`
    /// for unborn and dead versions.
    fn build_exact(&self, matches: impl Fn(Option<&str>, &[Value]) -> bool) -> History {
        let mut h = self.h.clone();
        for r in &mut h.reads {
            r.version_matches = r
                .observed
                .iter()
                .map(|obs| {
                    self.h.objects[obs.object]
                        .versions
                        .iter()
                        .map(|v| {
                            v.values
                                .as_deref()
                                .is_some_and(|vals| matches(r.predicate.as_deref(), vals))
                        })
                        .collect()
                })
                .collect();
        }
        h
    }
}

/// The predicates of the hand-built histories, evaluated on `(id, v)` rows: `on_call`
/// (`v <> 0`), `id = k`, `v % 2 = 0`, or none (TRUE).
fn eval(predicate: Option<&str>, values: &[Value]) -> bool {
    let int = |i: usize| match values[i] {
        Value::Int(n) => n,
        _ => unreachable!(),
    };
    match predicate {
        None => true,
        Some("on_call") => int(1) != 0,
        Some("v % 2 = 0") => int(1) % 2 == 0,
        Some(p) => match p.strip_prefix("id = ") {
            Some(k) => int(0) == k.parse::<i64>().unwrap(),
            None => panic!("unknown predicate {p}"),
        },
    }
}

fn phenomena(a: &Analysis) -> Vec<Phenomenon> {
    a.findings.iter().map(|f| f.phenomenon).collect()
}

fn has_edge(
    a: &Analysis,
    from: u64,
    to: u64,
    kind: DepKind,
    predicate: bool,
    object: usize,
) -> bool {
    a.dsg.edges.contains(&Edge {
        from,
        to,
        kind,
        predicate,
        object,
    })
}

/// Each edge's `to` is the next edge's `from`, around to the start.
fn assert_closed(cycle: &[Edge]) {
    assert!(!cycle.is_empty());
    for (i, e) in cycle.iter().enumerate() {
        assert_eq!(e.to, cycle[(i + 1) % cycle.len()].from, "{cycle:?}");
    }
}

#[test]
fn g0_write_cycle() {
    // T1 and T2 write x and y in opposite orders: x: T1 then T2, y: T2 then T1.
    let mut b = Builder::new();
    b.committed(1, "T1").committed(2, "T2");
    let x = b.object("test", 1);
    let y = b.object("test", 2);
    b.write(x, 1, 11);
    b.write(x, 2, 12);
    b.write(y, 2, 22);
    b.write(y, 1, 21);
    let a = analyze(&b.build());
    assert!(has_edge(&a, 1, 2, DepKind::Ww, false, x));
    assert!(has_edge(&a, 2, 1, DepKind::Ww, false, y));
    assert_eq!(phenomena(&a), vec![Phenomenon::G0]);
    let f = &a.findings[0];
    assert_eq!(f.txns, vec![1, 2]);
    assert_eq!(f.cycle.len(), 2);
    assert_closed(&f.cycle);
    assert_eq!(f.cycle[0].from, 1);
    assert!(
        f.explanation.starts_with("Write cycle (G0)"),
        "{}",
        f.explanation
    );
    assert!(f.explanation.contains("row 1 of test"), "{}", f.explanation);
    assert!(!a.serializable());
}

#[test]
fn g1a_aborted_read() {
    let mut b = Builder::new();
    b.committed(SETUP, "setup")
        .aborted(1, "T1")
        .committed(2, "T2");
    let x = b.object("test", 1);
    let x0 = b.write(x, SETUP, 10);
    let x1 = b.write(x, 1, 11);
    b.read(2, "test", Some("id = 1"), &[(x, x1, true)]);
    let a = analyze(&b.build());
    assert_eq!(a.dsg.nodes, vec![2, SETUP]);
    // The aborted version counts as the latest installed one before it: setup's.
    assert!(has_edge(&a, SETUP, 2, DepKind::Wr, false, x));
    assert!(a.dsg.edges.iter().all(|e| e.from != 1 && e.to != 1));
    assert_eq!(phenomena(&a), vec![Phenomenon::G1a]);
    let f = &a.findings[0];
    assert_eq!(f.txns, vec![1, 2]);
    assert!(f.cycle.is_empty());
    assert!(
        f.explanation
            .contains("T2 read row 1 of test as T1 wrote it, and T1 aborted"),
        "{}",
        f.explanation
    );
    assert!(!a.serializable());
    let _ = x0;
}

#[test]
fn g1b_intermediate_read() {
    // T1 writes x twice; T2 reads the first of the two.
    let mut b = Builder::new();
    b.committed(1, "T1").committed(2, "T2");
    let x = b.object("test", 1);
    let x1 = b.write(x, 1, 11);
    b.write(x, 1, 12);
    b.read(2, "test", Some("id = 1"), &[(x, x1, true)]);
    let a = analyze(&b.build());
    assert_eq!(phenomena(&a), vec![Phenomenon::G1b]);
    assert_eq!(a.findings[0].txns, vec![1, 2]);
    assert!(a.findings[0].cycle.is_empty());
    // For the graph, the read counts as a read of T1's installed version.
    assert!(has_edge(&a, 1, 2, DepKind::Wr, false, x));
    assert!(!a.serializable());
}

#[test]
fn g1c_circular_information_flow() {
    // T1 writes x, T2 writes y; each reads the other's write.
    let mut b = Builder::new();
    b.committed(1, "T1").committed(2, "T2");
    let x = b.object("test", 1);
    let y = b.object("test", 2);
    let x1 = b.write(x, 1, 11);
    let y2 = b.write(y, 2, 22);
    b.read(1, "test", Some("id = 2"), &[(x, x1, false), (y, y2, true)]);
    b.read(2, "test", Some("id = 1"), &[(x, x1, true), (y, y2, false)]);
    let a = analyze(&b.build());
    assert!(has_edge(&a, 1, 2, DepKind::Wr, false, x));
    assert!(has_edge(&a, 2, 1, DepKind::Wr, false, y));
    assert_eq!(phenomena(&a), vec![Phenomenon::G1c]);
    assert_closed(&a.findings[0].cycle);
    assert!(!a.serializable());
}

#[test]
fn lost_update() {
    // Both read the counter (setup's version), then each writes it: T1 first, then T2.
    let mut b = Builder::new();
    b.committed(SETUP, "setup")
        .committed(1, "T1")
        .committed(2, "T2");
    let c = b.object("counter", 1);
    let c0 = b.write(c, SETUP, 10);
    b.read(1, "counter", Some("id = 1"), &[(c, c0, true)]);
    b.read(2, "counter", Some("id = 1"), &[(c, c0, true)]);
    b.write(c, 1, 11);
    b.write(c, 2, 11);
    let a = analyze(&b.build());
    assert!(has_edge(&a, 2, 1, DepKind::Rw, false, c));
    assert!(has_edge(&a, 1, 2, DepKind::Ww, false, c));
    assert_eq!(phenomena(&a), vec![Phenomenon::LostUpdate]);
    let f = &a.findings[0];
    assert_eq!(f.txns, vec![1, 2]);
    assert_closed(&f.cycle);
    assert_eq!(f.cycle.len(), 2);
    assert!(f.cycle.iter().all(|e| e.object == c));
    assert!(
        f.explanation.contains("T1's update is lost"),
        "{}",
        f.explanation
    );
    assert_eq!(f.phenomenon.code(), "P4");
    assert!(!a.serializable());
}

#[test]
fn g_single_read_skew() {
    // T1 reads x (old), T2 writes x and y and commits, T1 reads y (new).
    let mut b = Builder::new();
    b.committed(SETUP, "setup")
        .committed(1, "T1")
        .committed(2, "T2");
    let x = b.object("test", 1);
    let y = b.object("test", 2);
    let x0 = b.write(x, SETUP, 10);
    let y0 = b.write(y, SETUP, 20);
    b.read(1, "test", Some("id = 1"), &[(x, x0, true), (y, y0, false)]);
    let x2 = b.write(x, 2, 11);
    let y2 = b.write(y, 2, 21);
    b.read(1, "test", Some("id = 2"), &[(x, x2, false), (y, y2, true)]);
    let a = analyze(&b.build());
    assert!(has_edge(&a, 1, 2, DepKind::Rw, false, x));
    assert!(has_edge(&a, 2, 1, DepKind::Wr, false, y));
    assert_eq!(phenomena(&a), vec![Phenomenon::GSingle]);
    let f = &a.findings[0];
    assert_eq!(f.txns, vec![1, 2]);
    assert_closed(&f.cycle);
    assert_eq!(f.cycle.iter().filter(|e| e.kind == DepKind::Rw).count(), 1);
    assert!(
        f.explanation.starts_with("Read skew (G-single)"),
        "{}",
        f.explanation
    );
    assert!(
        f.explanation
            .contains("T1 → T2 (rw, row 1 of test): T1 read a version that T2 overwrote"),
        "{}",
        f.explanation
    );
    assert!(!a.serializable());
}

#[test]
fn g2_item_write_skew() {
    // Two doctors on call; each session checks both are on call, then takes itself off.
    let mut b = Builder::new();
    b.committed(SETUP, "setup")
        .committed(1, "T1")
        .committed(2, "T2");
    let d1 = b.object("doctors", 1);
    let d2 = b.object("doctors", 2);
    let d1_0 = b.write(d1, SETUP, 1);
    let d2_0 = b.write(d2, SETUP, 1);
    let both = [(d1, d1_0, true), (d2, d2_0, true)];
    b.read(1, "doctors", Some("on_call"), &both);
    b.read(2, "doctors", Some("on_call"), &both);
    // The UPDATEs' scans, each matching its own row.
    b.read(
        1,
        "doctors",
        Some("id = 1"),
        &[(d1, d1_0, true), (d2, d2_0, false)],
    );
    b.read(
        2,
        "doctors",
        Some("id = 2"),
        &[(d1, d1_0, false), (d2, d2_0, true)],
    );
    b.write(d1, 1, 0);
    b.write(d2, 2, 0);
    let a = analyze(&b.build());
    assert!(has_edge(&a, 1, 2, DepKind::Rw, false, d2));
    assert!(has_edge(&a, 2, 1, DepKind::Rw, false, d1));
    assert_eq!(phenomena(&a), vec![Phenomenon::G2Item]);
    let f = &a.findings[0];
    assert_eq!(f.txns, vec![1, 2]);
    assert_closed(&f.cycle);
    assert!(f
        .cycle
        .iter()
        .all(|e| e.kind == DepKind::Rw && !e.predicate));
    assert_eq!(f.phenomenon.name(), "write skew");
    assert!(!a.serializable());
}

#[test]
fn g2_predicate_cycle() {
    // Each reads with a predicate, sees neither new row (both unborn), and inserts a row
    // the other's predicate would match.
    let mut b = Builder::new();
    b.committed(1, "T1").committed(2, "T2");
    let x = b.object("doctors", 3);
    let y = b.object("doctors", 4);
    let unborn = [(x, 0, false), (y, 0, false)];
    b.read(1, "doctors", Some("on_call"), &unborn);
    b.read(2, "doctors", Some("on_call"), &unborn);
    b.write(x, 1, 1);
    b.write(y, 2, 1);
    let a = analyze(&b.build());
    assert_eq!(
        a.dsg.edges,
        vec![
            Edge {
                from: 1,
                to: 2,
                kind: DepKind::Rw,
                predicate: true,
                object: y
            },
            Edge {
                from: 2,
                to: 1,
                kind: DepKind::Rw,
                predicate: true,
                object: x
            },
        ]
    );
    assert_eq!(phenomena(&a), vec![Phenomenon::G2]);
    let f = &a.findings[0];
    assert_eq!(f.txns, vec![1, 2]);
    assert_closed(&f.cycle);
    let h = b.build();
    assert_eq!(
        describe_edge(&h, &f.cycle[0]),
        "T1 → T2 (rw predicate, row 4 of doctors): T2 inserted the row after T1's predicate \
         read, which did not see it (a phantom)"
    );
    assert!(!a.serializable());
}

#[test]
fn insert_not_matching_a_predicate_makes_no_rw_edge() {
    // As in g2_predicate_cycle, each reads `on_call`, sees neither new row, and inserts
    // one — but neither inserted row is on call, so neither read's matches change.
    let mut b = Builder::new();
    b.committed(1, "T1").committed(2, "T2");
    let x = b.object("doctors", 3);
    let y = b.object("doctors", 4);
    let unborn = [(x, 0, false), (y, 0, false)];
    b.read(1, "doctors", Some("on_call"), &unborn);
    b.read(2, "doctors", Some("on_call"), &unborn);
    b.write(x, 1, 0);
    b.write(y, 2, 0);
    // Without the store's verdicts, the phantom assumption takes each insert to match.
    let approx = analyze(&b.build());
    assert_eq!(phenomena(&approx), vec![Phenomenon::G2]);
    // With them, there is no edge at all.
    let a = analyze(&b.build_exact(eval));
    assert!(a.dsg.edges.is_empty(), "{:?}", a.dsg.edges);
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    assert!(a.serializable());
}

#[test]
fn insert_matching_a_predicate_makes_an_exact_rw_edge() {
    // g2_predicate_cycle with the store's verdicts: the same G2, now for certain.
    let mut b = Builder::new();
    b.committed(1, "T1").committed(2, "T2");
    let x = b.object("doctors", 3);
    let y = b.object("doctors", 4);
    let unborn = [(x, 0, false), (y, 0, false)];
    b.read(1, "doctors", Some("on_call"), &unborn);
    b.read(2, "doctors", Some("on_call"), &unborn);
    b.write(x, 1, 1);
    b.write(y, 2, 1);
    let a = analyze(&b.build_exact(eval));
    assert!(has_edge(&a, 1, 2, DepKind::Rw, true, y));
    assert!(has_edge(&a, 2, 1, DepKind::Rw, true, x));
    assert_eq!(phenomena(&a), vec![Phenomenon::G2]);
}

#[test]
fn update_into_a_predicate_makes_a_predicate_rw_edge() {
    // Both rows exist off call; each reads `on_call` (matching neither), then puts the
    // row the other's read saw off call on call.
    let mut b = Builder::new();
    b.committed(SETUP, "setup")
        .committed(1, "T1")
        .committed(2, "T2");
    let x = b.object("doctors", 1);
    let y = b.object("doctors", 2);
    let x0 = b.write(x, SETUP, 0);
    let y0 = b.write(y, SETUP, 0);
    let off = [(x, x0, false), (y, y0, false)];
    b.read(1, "doctors", Some("on_call"), &off);
    b.read(2, "doctors", Some("on_call"), &off);
    b.write(y, 1, 1);
    b.write(x, 2, 1);
    // Without the store's verdicts an update between two live versions is assumed not to
    // change the matches: no predicate edge, no finding.
    let approx = analyze(&b.build());
    assert!(
        approx.dsg.edges.iter().all(|e| !e.predicate),
        "{:?}",
        approx.dsg.edges
    );
    assert!(approx.findings.is_empty(), "{:?}", approx.findings);
    // With them, each update moves a row into the other's predicate.
    let h = b.build_exact(eval);
    let a = analyze(&h);
    assert!(has_edge(&a, 1, 2, DepKind::Rw, true, x));
    assert!(has_edge(&a, 2, 1, DepKind::Rw, true, y));
    // Setup's rows never matched: no wr predicate edge from it.
    assert!(!a.dsg.edges.iter().any(|e| e.kind == DepKind::Wr));
    assert_eq!(phenomena(&a), vec![Phenomenon::G2]);
    let f = &a.findings[0];
    assert_eq!(f.txns, vec![1, 2]);
    assert_closed(&f.cycle);
    assert_eq!(
        describe_edge(&h, &f.cycle[0]),
        "T1 → T2 (rw predicate, row 1 of doctors): T2 updated the row after T1's predicate \
         read, changing what it would match"
    );
    assert!(!a.serializable());
}

#[test]
fn update_out_of_a_predicate_makes_a_predicate_edge() {
    // T1 reads `on_call` and matches x; T2 takes x off call. The item rw edge wins.
    // T3 then reads `on_call` and no longer matches x: T2's update changed its matches.
    let mut b = Builder::new();
    b.committed(SETUP, "setup")
        .committed(1, "T1")
        .committed(2, "T2")
        .committed(3, "T3");
    let x = b.object("doctors", 1);
    let x0 = b.write(x, SETUP, 1);
    b.read(1, "doctors", Some("on_call"), &[(x, x0, true)]);
    let x2 = b.write(x, 2, 0);
    b.read(3, "doctors", Some("on_call"), &[(x, x2, false)]);
    let a = analyze(&b.build_exact(eval));
    assert!(has_edge(&a, 1, 2, DepKind::Rw, false, x));
    assert!(has_edge(&a, 2, 3, DepKind::Wr, true, x));
    assert!(has_edge(&a, SETUP, 3, DepKind::Wr, true, x));
    assert!(a.findings.is_empty(), "{:?}", a.findings);
}

#[test]
fn verdicts_that_do_not_line_up_fall_back_to_the_approximation() {
    // The non-matching inserts of insert_not_matching_a_predicate_makes_no_rw_edge, with
    // verdict lists of the wrong length: treated as absent, so the phantom assumption
    // applies again.
    let mut b = Builder::new();
    b.committed(1, "T1").committed(2, "T2");
    let x = b.object("doctors", 3);
    let y = b.object("doctors", 4);
    let unborn = [(x, 0, false), (y, 0, false)];
    b.read(1, "doctors", Some("on_call"), &unborn);
    b.read(2, "doctors", Some("on_call"), &unborn);
    b.write(x, 1, 0);
    b.write(y, 2, 0);
    // T1's read has one list too few: the whole read falls back, so T2's insert of y is
    // taken to match it; T2's read is exact, so T1's insert of x makes no edge.
    let mut h = b.build_exact(eval);
    h.reads[0].version_matches.pop();
    let a = analyze(&h);
    assert!(has_edge(&a, 1, 2, DepKind::Rw, true, y));
    assert!(!has_edge(&a, 2, 1, DepKind::Rw, true, x));
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    // T2's list for x is one verdict short: that object falls back for T2's read.
    let mut h = b.build_exact(eval);
    h.reads[1].version_matches[0].pop();
    let a = analyze(&h);
    assert!(!has_edge(&a, 1, 2, DepKind::Rw, true, y));
    assert!(has_edge(&a, 2, 1, DepKind::Rw, true, x));
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    // Both: the approximation's G2 again.
    let mut h = b.build_exact(eval);
    h.reads[0].version_matches.pop();
    h.reads[1].version_matches[0].pop();
    assert_eq!(phenomena(&analyze(&h)), vec![Phenomenon::G2]);
}

#[test]
fn serial_history_is_serializable() {
    let mut b = Builder::new();
    b.committed(SETUP, "setup")
        .committed(1, "T1")
        .committed(2, "T2");
    let x = b.object("test", 1);
    let y = b.object("test", 2);
    let x0 = b.write(x, SETUP, 10);
    let y0 = b.write(y, SETUP, 20);
    b.read(1, "test", None, &[(x, x0, true), (y, y0, true)]);
    let x1 = b.write(x, 1, 11);
    b.read(2, "test", Some("id = 1"), &[(x, x1, true), (y, y0, false)]);
    b.write(x, 2, 12);
    b.write(y, 2, 22);
    let a = analyze(&b.build());
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    assert!(a.serializable());
    assert_eq!(a.dsg.nodes, vec![1, 2, SETUP]);
    assert!(has_edge(&a, SETUP, 1, DepKind::Wr, false, x));
    assert!(has_edge(&a, 1, 2, DepKind::Ww, false, x));
    assert!(has_edge(&a, 1, 2, DepKind::Wr, false, x));
    assert!(has_edge(&a, 1, 2, DepKind::Rw, false, y));
    assert!(!a.dsg.edges.iter().any(|e| e.to == SETUP));
}

#[test]
fn aborted_transactions_are_excluded() {
    // T2 aborts between T1 and T3; its version of x is not installed, its reads count not.
    let mut b = Builder::new();
    b.committed(1, "T1").aborted(2, "T2").committed(3, "T3");
    let x = b.object("test", 1);
    let x1 = b.write(x, 1, 11);
    b.read(2, "test", Some("id = 1"), &[(x, x1, true)]);
    b.write(x, 2, 12);
    b.read(3, "test", Some("id = 1"), &[(x, x1, true)]);
    b.write(x, 3, 13);
    let a = analyze(&b.build());
    assert_eq!(a.dsg.nodes, vec![1, 3]);
    assert!(a.dsg.edges.iter().all(|e| e.from != 2 && e.to != 2));
    assert!(has_edge(&a, 1, 3, DepKind::Ww, false, x));
    assert!(has_edge(&a, 1, 3, DepKind::Wr, false, x));
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    assert!(a.serializable());
}

#[test]
fn reading_ones_own_write_makes_no_edge() {
    let mut b = Builder::new();
    b.committed(1, "T1");
    let x = b.object("test", 1);
    let x1 = b.write(x, 1, 11);
    b.read(1, "test", Some("id = 1"), &[(x, x1, true)]);
    let x2 = b.write(x, 1, 12);
    b.read(1, "test", None, &[(x, x2, true)]);
    let a = analyze(&b.build());
    assert!(a.dsg.edges.is_empty(), "{:?}", a.dsg.edges);
    assert!(a.findings.is_empty());
    assert!(a.serializable());
}

#[test]
fn codes_names_and_edge_descriptions() {
    let all = [
        (Phenomenon::G0, "G0", "write cycle"),
        (Phenomenon::G1a, "G1a", "aborted read"),
        (Phenomenon::G1b, "G1b", "intermediate read"),
        (Phenomenon::G1c, "G1c", "circular information flow"),
        (Phenomenon::GSingle, "G-single", "read skew"),
        (Phenomenon::LostUpdate, "P4", "lost update"),
        (Phenomenon::G2Item, "G2-item", "write skew"),
        (Phenomenon::G2, "G2", "anti-dependency cycle"),
    ];
    for (p, code, name) in all {
        assert_eq!(p.code(), code);
        assert_eq!(p.name(), name);
    }
    let mut b = Builder::new();
    b.committed(1, "T1").committed(2, "T2");
    let x = b.object("test", 1);
    b.write(x, 1, 11);
    b.write(x, 2, 12);
    let h = b.build();
    let e = |from, to, kind| Edge {
        from,
        to,
        kind,
        predicate: false,
        object: x,
    };
    assert_eq!(
        describe_edge(&h, &e(1, 2, DepKind::Rw)),
        "T1 → T2 (rw, row 1 of test): T1 read a version that T2 overwrote"
    );
    assert_eq!(
        describe_edge(&h, &e(1, 2, DepKind::Ww)),
        "T1 → T2 (ww, row 1 of test): T2 overwrote the version T1 wrote"
    );
    assert_eq!(
        describe_edge(&h, &e(1, 2, DepKind::Wr)),
        "T1 → T2 (wr, row 1 of test): T2 read the version T1 wrote"
    );
    let json = serde_json::to_value(e(1, 2, DepKind::Rw)).unwrap();
    assert_eq!(json["kind"], "rw");
    assert_eq!(
        serde_json::to_value(Phenomenon::GSingle).unwrap(),
        "g-single"
    );
}

#[test]
fn findings_are_ordered_and_deterministic() {
    // A G1a next to a G0 between other transactions: G0 is listed first.
    let mut b = Builder::new();
    b.committed(1, "T1")
        .committed(2, "T2")
        .aborted(3, "T3")
        .committed(4, "T4");
    let x = b.object("test", 1);
    let y = b.object("test", 2);
    let z = b.object("test", 3);
    b.write(x, 1, 11);
    b.write(x, 2, 12);
    b.write(y, 2, 22);
    b.write(y, 1, 21);
    let z3 = b.write(z, 3, 33);
    b.read(4, "test", Some("id = 3"), &[(z, z3, true)]);
    let h = b.build();
    let a = analyze(&h);
    assert_eq!(phenomena(&a), vec![Phenomenon::G0, Phenomenon::G1a]);
    assert_eq!(a, analyze(&h));
}

// ---------------------------------------------------------------------------------------
// Random serial histories.

#[derive(Clone, Debug)]
enum Op {
    /// Read one row by key (a predicate read `id = k` matching at most that row).
    Read(usize),
    /// A predicate read `v % 2 = 0` (or no predicate) over the whole table.
    Scan(bool),
    /// Write a row: update it (or insert it when it is unborn or dead) with a value, or
    /// delete it when `delete` and it is live.
    Write {
        object: usize,
        value: i64,
        delete: bool,
    },
}

#[derive(Clone, Debug)]
struct Plan {
    commit: bool,
    ops: Vec<Op>,
}

const OBJECTS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..OBJECTS).prop_map(Op::Read),
        1 => any::<bool>().prop_map(Op::Scan),
        3 => (0..OBJECTS, 0i64..6, prop::bool::weighted(0.2))
            .prop_map(|(object, value, delete)| Op::Write { object, value, delete }),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    (prop::bool::weighted(0.8), prop::collection::vec(op(), 0..6))
        .prop_map(|(commit, ops)| Plan { commit, ops })
}

/// Runs the plans one after another: each transaction sees the latest installed versions
/// (and its own writes), and its versions are installed if it commits.
fn serial_history(plans: &[Plan]) -> Builder {
    let mut b = Builder::new();
    let objects: Vec<usize> = (0..OBJECTS).map(|k| b.object("t", k as i64)).collect();
    // The current installed version of each object.
    let mut installed = vec![0usize; OBJECTS];
    for (i, plan) in plans.iter().enumerate() {
        let xid = i as u64 + 1;
        let session = format!("T{xid}");
        if plan.commit {
            b.committed(xid, &session);
        } else {
            b.aborted(xid, &session);
        }
        let mut current = installed.clone();
        let live = |b: &Builder, o: usize, v: usize| b.h.objects[o].versions[v].values.clone();
        for op in &plan.ops {
            match *op {
                Op::Read(k) => {
                    let observed: Vec<_> = (0..OBJECTS)
                        .map(|o| {
                            (
                                objects[o],
                                current[o],
                                o == k && live(&b, o, current[o]).is_some(),
                            )
                        })
                        .collect();
                    b.read(xid, "t", Some(&format!("id = {k}")), &observed);
                }
                Op::Scan(all) => {
                    let observed: Vec<_> = (0..OBJECTS)
                        .map(|o| {
                            let matched = match live(&b, o, current[o]) {
                                None => false,
                                Some(_) if all => true,
                                Some(values) => {
                                    values[1] == Value::Int(0)
                                        || values[1] == Value::Int(2)
                                        || values[1] == Value::Int(4)
                                }
                            };
                            (objects[o], current[o], matched)
                        })
                        .collect();
                    b.read(xid, "t", (!all).then_some("v % 2 = 0"), &observed);
                }
                Op::Write {
                    object,
                    value,
                    delete,
                } => {
                    let is_live = live(&b, object, current[object]).is_some();
                    current[object] = if delete && is_live {
                        b.delete(objects[object], xid)
                    } else {
                        b.write(objects[object], xid, value)
                    };
                }
            }
        }
        if plan.commit {
            installed = current;
        }
    }
    b
}

proptest! {
    #[test]
    fn serial_histories_have_no_anomaly(
        plans in prop::collection::vec(plan(), 1..7),
        exact in any::<bool>(),
    ) {
        let b = serial_history(&plans);
        let h = if exact { b.build_exact(eval) } else { b.build() };
        let a = analyze(&h);
        prop_assert!(a.findings.is_empty(), "{:?}\n{:?}", a.findings, h);
        prop_assert!(a.serializable());
        // Serial order is xid order here.
        for e in &a.dsg.edges {
            prop_assert!(e.from < e.to, "{:?} points backwards in {:?}", e, h);
        }
        let committed: Vec<u64> = h
            .txns
            .iter()
            .filter(|t| matches!(t.outcome, TxnOutcome::Committed { .. }))
            .map(|t| t.xid)
            .collect();
        prop_assert_eq!(&a.dsg.nodes, &committed);
    }
}
