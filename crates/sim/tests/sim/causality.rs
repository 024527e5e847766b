//! Causality of runs: vector clocks decide happens-before exactly as the message graph does,
//! Lamport timestamps are a linear extension of it, and the explanations name real chains.

use crate::common;

use common::{build, cases, schedule, spec, Faults, Modes};
use distlab_sim::causality::{Causality, Hop, LamportTimestamp, Relation, VectorClock};
use distlab_sim::diagram::Diagram;
use distlab_sim::engine::Engine;
use distlab_sim::trace::EventKind;
use proptest::prelude::*;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Happens-before straight from the trace, by transitive closure of program order and
/// deliveries (an oracle independent of the clocks): `reach[a][b]` for trace steps.
fn closure<P: distlab_sim::Protocol>(engine: &Engine<P>) -> (Vec<usize>, Vec<Vec<bool>>) {
    let trace = engine.trace();
    let steps: Vec<usize> = trace
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.node.is_some()
                && !matches!(
                    e.kind,
                    EventKind::Drop { .. }
                        | EventKind::Ignored { .. }
                        | EventKind::Partition { .. }
                        | EventKind::Heal
                        | EventKind::CutLink { .. }
                        | EventKind::RestoreLink { .. }
                        | EventKind::SetLinkDelay { .. }
                )
        })
        .map(|(s, _)| s)
        .collect();
    let n = steps.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut last_on: BTreeMap<usize, usize> = BTreeMap::new();
    let mut sent_by: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, &s) in steps.iter().enumerate() {
        let ev = &trace[s];
        let node = ev.node.unwrap();
        if let Some(&p) = last_on.get(&node) {
            edges[p].push(i);
        }
        last_on.insert(node, i);
        if let EventKind::Deliver { id, .. } = ev.kind {
            edges[sent_by[&id]].push(i);
        }
        for m in &ev.sent {
            sent_by.insert(m.id, i);
        }
    }
    // Steps are in processing order, so a reverse sweep computes reachability.
    let mut reach = vec![vec![false; n]; n];
    for a in (0..n).rev() {
        for &b in &edges[a] {
            reach[a][b] = true;
            let (lo, hi) = reach.split_at_mut(b);
            for (x, r) in lo[a].iter_mut().zip(&hi[0]) {
                *x |= *r;
            }
        }
    }
    (steps, reach)
}

proptest! {
    #![proptest_config(cases(48))]

    /// Over random replication runs with crashes, partitions, loss and drops.
    // `reach` is read both ways round (`[a][b]` and `[b][a]`), so the index loops stay.
    #[allow(clippy::needless_range_loop)]
    #[test]
    #[allow(clippy::needless_range_loop)] // a and b index several tables at once
    fn clocks_agree_with_the_message_graph(
        spec in spec(Modes::Any, true),
        ops in schedule(Faults::ALL, 3, 6),
    ) {
        let engine = Engine::new(spec.setup(), build(&spec, &ops));
        let diagram = Diagram::build(&engine);
        let c = Causality::of_diagram(&diagram);
        let (steps, reach) = closure(&engine);
        prop_assert_eq!(c.len(), steps.len());
        for (i, &s) in steps.iter().enumerate() {
            prop_assert_eq!(c.events[i].mark, s);
            prop_assert_eq!(c.event_of_mark[s], Some(i));
        }
        let mut stamps: Vec<LamportTimestamp> = c.lamport.clone();
        stamps.sort();
        stamps.dedup();
        prop_assert_eq!(stamps.len(), c.len(), "Lamport timestamps are a total order");
        for a in 0..c.len() {
            for b in 0..c.len() {
                let hb = reach[a][b];
                prop_assert_eq!(c.happens_before(a, b), hb, "events {} {}", a, b);
                let vc = c.vector[a].compare(&c.vector[b]);
                prop_assert_eq!(vc == Some(Ordering::Less), hb);
                if hb {
                    prop_assert!(c.lamport[a] < c.lamport[b]);
                    prop_assert!(c.lamport[a].counter < c.lamport[b].counter);
                    let chain = c.chain(a, b).unwrap();
                    prop_assert_eq!(chain.last().unwrap().1, b);
                    let mut at = a;
                    for &(hop, next) in &chain {
                        match hop {
                            Hop::SameNode => {
                                prop_assert_eq!(c.events[at].node, c.events[next].node);
                                prop_assert_eq!(c.events[at].seq + 1, c.events[next].seq);
                            }
                            Hop::Message => {
                                prop_assert!(c.events[next].received_from.contains(&at))
                            }
                        }
                        at = next;
                    }
                } else {
                    prop_assert!(c.chain(a, b).is_none());
                }
                let expected = if a == b {
                    Relation::Same
                } else if hb {
                    Relation::Before
                } else if reach[b][a] {
                    Relation::After
                } else {
                    Relation::Concurrent
                };
                prop_assert_eq!(c.relation(a, b), expected);
            }
        }
        let pairs = (0..c.len())
            .flat_map(|a| (a + 1..c.len()).map(move |b| (a, b)))
            .filter(|&(a, b)| !reach[a][b] && !reach[b][a])
            .count();
        prop_assert_eq!(c.concurrent_pairs(), pairs);
        // Lamport's counter-examples are exactly the concurrent pairs with different
        // counters, each reported once, the smaller counter first.
        let all: Vec<usize> = (0..c.len()).collect();
        let found = c.lamport_only_pairs(&all);
        let expected = (0..c.len())
            .flat_map(|a| (0..c.len()).map(move |b| (a, b)))
            .filter(|&(a, b)| !reach[a][b] && !reach[b][a] && c.lamport[a].counter < c.lamport[b].counter)
            .count();
        prop_assert_eq!(found.len(), expected);
        for w in found.windows(2) {
            let gap = |(a, b): (usize, usize)| c.lamport[b].counter - c.lamport[a].counter;
            prop_assert!(gap(w[0]) >= gap(w[1]), "widest gap first");
        }
        for &(a, b) in &found {
            prop_assert!(c.lamport[a].counter < c.lamport[b].counter && !reach[a][b] && !reach[b][a]);
        }
        let order = c.lamport_order(&all);
        for w in order.windows(2) {
            prop_assert!(c.lamport[w[0]] < c.lamport[w[1]]);
            prop_assert!(!reach[w[1]][w[0]], "Lamport order is a linear extension");
        }
    }
}

fn vc(v: &[u64]) -> VectorClock {
    VectorClock(v.to_vec())
}

/// Comparison cases in the style of vector-clock libraries' own tests (descends, dominates,
/// concurrent, merge), including clocks of different lengths (missing entries are 0).
#[test]
fn vector_clock_comparisons() {
    use Ordering::*;
    let cases: &[(&[u64], &[u64], Option<Ordering>)] = &[
        (&[], &[], Some(Equal)),
        (&[1], &[], Some(Greater)),
        (&[], &[0, 0], Some(Equal)),
        (&[1, 0], &[1, 1], Some(Less)),
        (&[2, 1], &[1, 1], Some(Greater)),
        (&[1, 0], &[0, 1], None),
        (&[1, 2, 3], &[1, 2, 3], Some(Equal)),
        (&[1, 2, 3], &[1, 2], Some(Greater)),
        (&[3, 0, 1], &[2, 5, 1], None),
        (&[0, 0, 1], &[4, 4, 4], Some(Less)),
    ];
    for (a, b, want) in cases {
        assert_eq!(vc(a).compare(&vc(b)), *want, "{a:?} vs {b:?}");
        assert_eq!(vc(b).compare(&vc(a)), want.map(Ordering::reverse));
    }
    let mut m = vc(&[3, 0, 1]);
    m.merge(&vc(&[2, 5]));
    assert_eq!(m, vc(&[3, 5, 1]));
    m.tick(3);
    assert_eq!(m, vc(&[3, 5, 1, 1]));
    assert_eq!(m.to_string(), "[3, 5, 1, 1]");
}

/// The textbook three-process example (e.g. Kleppmann's lecture notes on vector clocks):
/// A: a1 send→B, B: b1 recv, b2 send→C, C: c1 local, c2 recv. Checks the clocks, the
/// Lamport counter-example (L(c1) < L(b2) though they are concurrent) and the words.
#[test]
fn three_process_example() {
    // (node, mark, received_from)
    let c = Causality::new(
        3,
        5,
        vec![
            (0, 0, vec![]),  // 0: a1 sends to B
            (2, 1, vec![]),  // 1: c1 local
            (1, 2, vec![0]), // 2: b1 receives a1's message
            (1, 3, vec![]),  // 3: b2 sends to C
            (2, 4, vec![3]), // 4: c2 receives
        ],
    )
    .unwrap();
    let clocks: Vec<String> = c.vector.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        clocks,
        [
            "[1, 0, 0]",
            "[0, 0, 1]",
            "[1, 1, 0]",
            "[1, 2, 0]",
            "[1, 2, 2]"
        ]
    );
    let counters: Vec<u64> = c.lamport.iter().map(|l| l.counter).collect();
    assert_eq!(counters, [1, 1, 2, 3, 4]);
    assert!(c.lamport[1] < c.lamport[3]);
    assert_eq!(c.relation(1, 3), Relation::Concurrent);
    assert_eq!(c.relation(0, 4), Relation::Before);
    assert_eq!(c.relation(4, 0), Relation::After);
    assert_eq!(c.past(4), vec![0, 1, 2, 3]);
    assert_eq!(c.future(0), vec![2, 3, 4]);
    assert_eq!(c.concurrent_with(1), vec![0, 2, 3]);
    assert_eq!(c.concurrent_pairs(), 3);
    let names = ["a1", "c1", "b1", "b2", "c2"];
    let name = |e: usize| names[e].to_string();
    let node = |n: usize| ["A", "B", "C"][n].to_string();
    let why = c.explain(0, 4, &name, &node);
    assert!(why.starts_with("a1 → c2: a chain of messages"), "{why}");
    assert!(why.contains("A sends at a1 and B receives at b1"), "{why}");
    assert!(
        why.contains("then B sends at b2 and C receives at c2"),
        "{why}"
    );
    let why = c.explain(3, 1, &name, &node);
    assert!(why.starts_with("b2 ∥ c1: concurrent"), "{why}");
    assert!(why.contains("[1, 2, 0] and [0, 0, 1]"), "{why}");
    assert!(
        why.contains("b2 has seen 2 event(s) of B (itself included), c1 only 0"),
        "{why}"
    );
    let why = c.explain(4, 1, &name, &node);
    assert!(why.starts_with("c1 → c2: both happen at C"), "{why}");
    assert!(Causality::new(1, 1, vec![(0, 0, vec![0])]).is_err());
}
