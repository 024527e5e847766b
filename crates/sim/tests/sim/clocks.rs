//! The logical-clocks model: each node's own Lamport and vector clocks (piggybacked on its
//! messages) equal the engine's causality computed from the trace, over random traffic
//! with crashes, partitions and loss; physical clocks follow their skew and drift.

use crate::common;

use common::cases;
use distlab_sim::causality::{Causality, Relation};
use distlab_sim::diagram::Diagram;
use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::models::clocks::{self, ClockedNode, ClocksScenario, Node, Traffic};
use distlab_sim::{PhysicalClock, Time};
use proptest::prelude::*;

fn scenario(n: usize, seed: u64, loss: f64, traffic: Option<Traffic>) -> ClocksScenario {
    ClocksScenario {
        seed,
        duration_ms: 400,
        nodes: (0..n)
            .map(|i| ClockedNode {
                name: ["A", "B", "C", "D", "E", "F"][i].into(),
                place: None,
                clock_offset_ms: 0,
                clock_drift_ppm: 0,
            })
            .collect(),
        latency_ms: 5,
        jitter_ms: 20,
        links: Vec::new(),
        loss,
        traffic,
    }
}

/// Every event whose view was recorded shows the clocks the engine computes for it.
fn assert_clocks_agree(engine: &Engine<Node>) -> Result<usize, TestCaseError> {
    let diagram = Diagram::build(engine);
    let c = Causality::of_diagram(&diagram);
    let mut checked = 0;
    for (step, ev) in engine.trace().iter().enumerate() {
        let (Some(view), Some(e)) = (&ev.state, c.event_of_mark[step]) else {
            continue;
        };
        prop_assert_eq!(view.lamport, c.lamport[e].counter, "step {}", step);
        prop_assert_eq!(&view.vector, &c.vector[e].0, "step {}", step);
        checked += 1;
    }
    Ok(checked)
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn node_clocks_equal_the_engines_causality(
        n in 2usize..=6,
        seed in any::<u64>(),
        lossy in any::<bool>(),
        faults in prop::collection::vec((0u64..400, 0usize..6, 0u8..4), 0..6),
    ) {
        let traffic = Traffic { every_ms: 30, send_probability: 0.7, count: 8 };
        let sc = scenario(n, seed, if lossy { 0.2 } else { 0.0 }, Some(traffic));
        let mut ivs: Vec<Intervention<Node>> = Vec::new();
        for &(at, node, kind) in &faults {
            let node = node % n;
            ivs.push(Intervention::new(at, match kind {
                0 => Action::Crash { node },
                1 => Action::Restart { node },
                2 => Action::Partition { groups: vec![vec![node]] },
                _ => Action::Heal,
            }));
        }
        let engine = Engine::new(sc.setup().unwrap(), ivs);
        let checked = assert_clocks_agree(&engine)?;
        prop_assert!(checked > 0);
    }
}

/// A scripted run: A sends m1 to B, C does a local event, B sends m2 to C. The classic
/// picture: C's local event has a smaller Lamport timestamp than B's send, yet they are
/// concurrent.
#[test]
fn scripted_messages_and_the_lamport_counterexample() {
    let sc = scenario(3, 1, 0.0, None);
    let engine = Engine::new(
        sc.setup().unwrap(),
        vec![
            clocks::send(10, 0, &[1], "m1"),
            clocks::local(15, 2, "c-local"),
            clocks::send(60, 1, &[2], "m2"),
        ],
    );
    let d = Diagram::build(&engine);
    let c = Causality::of_diagram(&d);
    let labels: Vec<String> = c
        .events
        .iter()
        .map(|e| d.marks[e.mark].label.clone())
        .collect();
    let find = |text: &str| labels.iter().position(|l| l.contains(text)).unwrap();
    let (a_send, c_local, b_recv, b_send, c_recv) = (
        find("A: send m1"),
        find("c-local"),
        find("B ← A: m1"),
        find("B: send m2"),
        find("C ← B: m2"),
    );
    assert_eq!(c.vector[a_send].0, [1, 0, 0]);
    assert_eq!(c.vector[b_recv].0, [1, 1, 0]);
    assert_eq!(c.vector[b_send].0, [1, 2, 0]);
    assert_eq!(c.vector[c_local].0, [0, 0, 1]);
    assert_eq!(c.vector[c_recv].0, [1, 2, 2]);
    assert!(c.lamport[c_local] < c.lamport[b_send]);
    assert_eq!(c.relation(c_local, b_send), Relation::Concurrent);
    assert_eq!(c.relation(a_send, c_recv), Relation::Before);
    // The node's own clocks say the same, and the message carried the sender's clocks.
    assert_clocks_agree(&engine).unwrap();
    let m2 = d.arrows.iter().find(|a| a.label == "m2").unwrap();
    assert!(m2
        .details
        .contains(&("vector clock".to_string(), "[1, 2, 0]".to_string())));
    assert!(m2
        .details
        .contains(&("Lamport timestamp".to_string(), "3".to_string())));
}

/// Skew and drift: a node whose clock is behind stamps a receive earlier than the send.
#[test]
fn physical_clocks_can_order_a_receive_before_its_send() {
    let mut sc = scenario(2, 1, 0.0, None);
    sc.jitter_ms = 0;
    sc.nodes[1].clock_offset_ms = -40;
    let engine = Engine::new(sc.setup().unwrap(), vec![clocks::send(100, 0, &[1], "m1")]);
    let views: Vec<_> = engine
        .trace()
        .iter()
        .filter_map(|e| e.state.as_ref().map(|v| (e.node, v.physical_ms)))
        .collect();
    assert_eq!(views, [(Some(0), Some(100)), (Some(1), Some(65))]);

    let clock = PhysicalClock {
        offset_ms: 5,
        drift_ppm: 200_000,
    };
    let at = |t: Time| clock.read(t);
    assert_eq!((at(0), at(10), at(1000)), (5, 17, 1205));
    let slow = PhysicalClock {
        offset_ms: 0,
        drift_ppm: -500_000,
    };
    assert_eq!(slow.read(3), 1);
    assert_eq!(slow.describe(), "-500000 ppm");
    assert_eq!(clock.describe(), "+5 ms, +200000 ppm");
    assert_eq!(PhysicalClock::default().describe(), "exact");
}

#[test]
fn scenario_errors_name_the_problem() {
    let mut sc = scenario(1, 0, 0.0, None);
    assert_eq!(sc.setup().err().unwrap(), "1 nodes: a scenario has 2 to 8");
    sc = scenario(2, 0, 0.0, None);
    sc.nodes[1].name = "A".into();
    assert_eq!(sc.setup().err().unwrap(), "two nodes are named \"A\"");
    sc = scenario(2, 0, 1.5, None);
    assert!(sc.setup().err().unwrap().contains("loss = 1.5"));
    let toml_err = serde_json::from_str::<ClocksScenario>(r#"{"nodes": [], "bogus": 1}"#);
    assert!(toml_err.unwrap_err().to_string().contains("bogus"));
}
