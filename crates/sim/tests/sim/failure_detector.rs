//! Failure detection: the φ formula against an exact normal tail, both detectors on steady,
//! jittery, paused and crashed runs, the monitor's notes against the analysis, property
//! tests over seeds, determinism.

use crate::common::cases;
use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::models::failure_detector::analysis::{analyze, Analysis, Detector};
use distlab_sim::models::failure_detector::{
    phi, phi_crossing, Command, FailureDetectorScenario, Node, PauseSpec, PhiHistory, PhiParams,
};
use distlab_sim::models::{EngineModel, FailureDetector};
use distlab_sim::trace::{self, EventKind};
use distlab_sim::Time;
use proptest::prelude::*;

fn run(s: &FailureDetectorScenario, ivs: Vec<Intervention<Node>>) -> (Engine<Node>, Analysis) {
    let e = Engine::new(s.setup().expect("valid scenario"), ivs);
    let a = analyze(&e, e.trace().len().checked_sub(1));
    (e, a)
}

/// The upper tail of the standard normal, Q(y) = ∫_y^∞ φ(x) dx, by composite Simpson's rule
/// on [y, y + 40] (the integrand is smooth; 20 000 panels give ~1e-15 relative accuracy).
fn normal_tail(y: f64) -> f64 {
    let (a, b, n) = (y, y + 40.0, 20_000);
    let h = (b - a) / n as f64;
    let f = |x: f64| (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn phi_known_values_and_accuracy_against_the_exact_tail() {
    // At the mean: 1 − F = 1/2, φ = log10 2.
    assert!((phi(100.0, 100.0, 10.0) - 2f64.log10()).abs() < 1e-12);
    assert!((normal_tail(0.0) - 0.5).abs() < 1e-12);
    // The logistic CDF stays within Bowling et al.'s bound (1.4e-4) of the normal CDF.
    for i in -600..=600 {
        let y = i as f64 / 100.0;
        let approx_tail = 10f64.powf(-phi(y, 0.0, 1.0));
        assert!((approx_tail - normal_tail(y)).abs() < 1.5e-4, "y = {y}");
    }
    // Within two deviations φ agrees with the exact normal φ to a few hundredths; in the
    // far tail the approximation is thinner (larger φ), as documented.
    for i in 0..=20 {
        let y = i as f64 / 10.0;
        let exact = -normal_tail(y).log10();
        assert!((phi(y, 0.0, 1.0) - exact).abs() < 0.06, "y = {y}");
    }
    let exact6 = -normal_tail(6.0).log10();
    assert!((exact6 - 9.0).abs() < 0.05 && (phi(6.0, 0.0, 1.0) - 10.8).abs() < 0.1);
    // Finite far out (no overflow) and huge.
    assert!(phi(1e6, 0.0, 1.0).is_finite() && phi(1e6, 0.0, 1.0) > 1e10);
}

#[test]
fn phi_is_monotonic_in_elapsed_time() {
    for &(m, s) in &[(100.0, 10.0), (100.0, 50.0), (400.0, 25.0)] {
        let mut prev = -1.0;
        for t in 0..5_000 {
            let p = phi(t as f64, m, s);
            assert!(p > prev, "φ({t}) = {p} after {prev}");
            prev = p;
        }
    }
}

#[test]
fn history_bootstrap_window_and_crossing() {
    let p = PhiParams {
        threshold: 8.0,
        max_sample_size: 3,
        min_std_deviation_ms: 10.0,
        acceptable_heartbeat_pause_ms: 0.0,
        first_heartbeat_estimate_ms: 100.0,
    };
    let mut h = PhiHistory::new();
    assert_eq!(h.phi_at(1_000, &p), 0.0);
    h.heartbeat(10, &p);
    assert_eq!(h.intervals, [75.0, 125.0]);
    assert_eq!((h.mean(), h.std_dev()), (100.0, 25.0));
    for t in [110, 210, 310] {
        h.heartbeat(t, &p);
    }
    assert_eq!(
        h.intervals,
        [100.0, 100.0, 100.0],
        "the window keeps the last 3"
    );
    // σ = max(0, 10); φ(t) ≥ 8 first at about 52 ms past the mean.
    let cross = phi_crossing(&h, &p, 310, 10).unwrap();
    assert!(h.phi_at(cross, &p) >= 8.0 && h.phi_at(cross - 10, &p) < 8.0);
    assert_eq!(cross, 310 + 160);
    // The acceptable pause shifts the crossing by itself.
    let q = PhiParams {
        acceptable_heartbeat_pause_ms: 300.0,
        ..p
    };
    assert_eq!(phi_crossing(&h, &q, 310, 10), Some(310 + 460));
}

#[test]
fn steady_run_has_no_suspicion() {
    let (_, a) = run(&FailureDetectorScenario::basic(3, 7), vec![]);
    assert_eq!(a.nodes.len(), 3);
    assert_eq!((a.phi_false(), a.timeout_false(), a.crashes()), (0, 0, 0));
    assert!(a.max_phi() < 1.0);
    assert!(a.nodes.iter().all(|n| n.arrivals.len() == 30));
}

fn crash_run(seed: u64) -> (Engine<Node>, Analysis) {
    let s = FailureDetectorScenario::basic(2, seed);
    run(
        &s,
        vec![Intervention::new(1_500, Action::Crash { node: 1 })],
    )
}

#[test]
fn a_crash_is_detected_by_both_as_the_formulas_predict() {
    let (e, a) = crash_run(0);
    let n = &a.nodes[0];
    let last = *n.arrivals.last().unwrap();
    assert_eq!(last, 1_510);
    // timeout: first sample point with silence > 250 ms
    let t = n.timeout_detections[0].after_ms.unwrap();
    assert_eq!(1_500 + t, ((last + 250) / 10 + 1) * 10);
    // φ: first sample point where φ of the window's statistics passes 8 (σ = 10 ms: μ + 5.2σ)
    let p = n.phi_detections[0].after_ms.unwrap();
    assert_eq!(1_500 + p, last + 160);
    assert!(p < t);
    // the monitor said so on the diagram
    let notes: Vec<String> = e.trace().iter().flat_map(|ev| ev.notes.clone()).collect();
    assert!(notes.iter().any(|n| n.starts_with("φ suspects node-1")));
    assert!(notes
        .iter()
        .any(|n| n.starts_with("timeout suspects node-1")));
}

#[test]
fn pause_is_a_false_suspicion_and_heartbeats_resume() {
    let mut s = FailureDetectorScenario::basic(1, 0);
    s.pauses = vec![PauseSpec {
        node: "node-1".into(),
        at_ms: 1_050,
        ms: 300,
    }];
    let (_, a) = run(&s, vec![]);
    let n = &a.nodes[0];
    assert_eq!(n.pauses, vec![(1_050, 1_350)]);
    // the heartbeat due at 1100 goes out at 1350, then every 100 ms from there
    assert!(n.arrivals.contains(&1_360) && n.arrivals.contains(&1_460));
    assert!(!n.arrivals.contains(&1_110));
    assert_eq!(a.phi_false(), 1);
    assert_eq!(a.timeout_false(), 1);
    // the operator command does the same
    let (_, b) = run(
        &FailureDetectorScenario::basic(1, 0),
        vec![Intervention::new(
            1_050,
            Action::Command {
                node: 1,
                command: Command::Pause { ms: 300 },
            },
        )],
    );
    assert_eq!(b.nodes[0].arrivals, n.arrivals);
}

#[test]
fn the_monitor_agrees_with_the_analysis() {
    // The monitor's notes (suspect / trust) give the same non-empty intervals as the
    // analysis' replay of the arrivals.
    let mut s = FailureDetectorScenario::basic(2, 3);
    s.jitter_ms = 120;
    s.timeout_ms = 180;
    s.threshold = 3.0;
    s.pauses = vec![PauseSpec {
        node: "node-2".into(),
        at_ms: 700,
        ms: 250,
    }];
    let (e, a) = run(
        &s,
        vec![Intervention::new(2_000, Action::Crash { node: 1 })],
    );
    for (i, name) in ["node-1", "node-2"].iter().enumerate() {
        for (prefix, got) in [
            ("timeout suspects", &a.nodes[i].timeout),
            ("φ suspects", &a.nodes[i].phi_suspicions),
        ] {
            let mut open: Option<Time> = None;
            let mut seen = Vec::new();
            let kind = if prefix.starts_with('φ') {
                "φ"
            } else {
                "timeout"
            };
            for ev in e.trace() {
                for note in &ev.notes {
                    if note.starts_with(&format!("{prefix} {name}:")) {
                        open = Some(ev.time);
                    } else if note.starts_with(&format!("trusts {name} again"))
                        && note.contains(kind)
                    {
                        if let Some(f) = open.take() {
                            if f < ev.time {
                                seen.push((f, Some(ev.time)));
                            }
                        }
                    }
                }
            }
            if let Some(f) = open {
                seen.push((f, None));
            }
            let want: Vec<_> = got.iter().map(|s| (s.from, s.to)).collect();
            assert_eq!(seen, want, "{prefix} {name}");
        }
    }
}

#[test]
fn interventions_and_scenarios_are_checked() {
    let s = FailureDetectorScenario::basic(2, 0);
    let pause = |node, ms| {
        Intervention::new(
            10,
            Action::Command {
                node,
                command: Command::Pause { ms },
            },
        )
    };
    assert!(FailureDetector::check_intervention(&s, &pause(0, 100)).is_err());
    assert!(FailureDetector::check_intervention(&s, &pause(1, 0)).is_err());
    assert!(FailureDetector::check_intervention(&s, &pause(1, 100)).is_ok());
    let bad = |f: &dyn Fn(&mut FailureDetectorScenario)| {
        let mut x = s.clone();
        f(&mut x);
        x.setup().err().expect("refused")
    };
    assert!(bad(&|x| x.nodes.clear()).contains("1 to 5"));
    assert!(bad(&|x| x.threshold = 0.0).contains("threshold"));
    assert!(bad(&|x| x.threshold = f64::NAN).contains("threshold"));
    assert!(bad(&|x| x.sample_ms = 0).contains("sample_ms"));
    assert!(bad(&|x| x.max_sample_size = 0).contains("max_sample_size"));
    assert!(bad(&|x| x.pauses = vec![PauseSpec {
        node: "monitor".into(),
        at_ms: 1,
        ms: 5
    }])
    .contains("monitor"));
    assert!(bad(&|x| x.pauses = vec![PauseSpec {
        node: "nobody".into(),
        at_ms: 1,
        ms: 5
    }])
    .contains("unknown node"));
    // prepared failures: pause, crash, restart
    let (e, _) = run(&s, vec![]);
    let p = FailureDetector::prepared(&s, &e, Some(5));
    assert_eq!(p.len(), 3);
    assert!(p[0].label.starts_with("pause node-1"));
    assert!(p[1].label.starts_with("crash node-1"));
}

fn detected_forever(a: &Analysis, node: usize, crash: Time) -> bool {
    let n = &a.nodes[node];
    [&n.timeout, &n.phi_suspicions].iter().all(|sus| {
        sus.last()
            .is_some_and(|s| s.to.is_none() && s.from > crash && !s.false_suspicion)
    })
}

proptest! {
    #![proptest_config(cases(24))]

    /// A crashed node is eventually suspected, for good, by both detectors.
    #[test]
    fn a_crashed_node_is_suspected_forever(seed in 0u64..10_000, at in 300u64..2_500, jitter in 0u64..80, node in 0usize..3) {
        let mut s = FailureDetectorScenario::basic(3, seed);
        s.jitter_ms = jitter;
        s.duration_ms = 4_000;
        let (_, a) = run(&s, vec![Intervention::new(at, Action::Crash { node: node + 1 })]);
        prop_assert!(detected_forever(&a, node, at));
        prop_assert!(a.phi_detection().is_some() && a.timeout_detection().is_some());
    }

    /// No faults and jitter of at most 20 ms (with σ ≥ 10 ms): φ never reaches 3, and the
    /// 250 ms timeout never fires.
    #[test]
    fn small_jitter_never_passes_the_threshold(seed in 0u64..10_000, jitter in 0u64..=20, n in 1usize..=5) {
        let mut s = FailureDetectorScenario::basic(n, seed);
        s.jitter_ms = jitter;
        let (_, a) = run(&s, vec![]);
        prop_assert!(a.max_phi() < 3.0, "max φ {}", a.max_phi());
        prop_assert_eq!(a.timeout_false(), 0);
        let quiet = a.phi_sweep.iter().filter(|r| matches!(r.detector, Detector::Phi { threshold } if threshold >= 3.0)).all(|r| r.false_suspicions == 0);
        prop_assert!(quiet);
    }

    /// Raising the threshold (or the timeout) never adds false suspicions and never makes a
    /// detection faster.
    #[test]
    fn raising_the_threshold_trades_accuracy_for_speed(seed in 0u64..10_000, jitter in 0u64..200, pause in 50u64..600, crash in 1_000u64..2_500, loss in 0u32..3) {
        let mut s = FailureDetectorScenario::basic(2, seed);
        s.jitter_ms = jitter;
        s.loss = loss as f64 * 0.05;
        s.duration_ms = 4_000;
        s.pauses = vec![PauseSpec { node: "node-1".into(), at_ms: 500, ms: pause }];
        let (_, a) = run(&s, vec![Intervention::new(crash, Action::Crash { node: 2 })]);
        for rows in [&a.phi_sweep, &a.timeout_sweep] {
            for w in rows.windows(2) {
                prop_assert!(w[1].false_suspicions <= w[0].false_suspicions, "{:?}", w);
                prop_assert!(w[1].undetected >= w[0].undetected, "{:?}", w);
                if let (Some(x), Some(y)) = (w[0].detection_ms, w[1].detection_ms) {
                    prop_assert!(y >= x, "{:?}", w);
                }
            }
        }
    }

    /// Same scenario and interventions ⇒ the same trace, byte for byte, and the same analysis.
    #[test]
    fn runs_are_deterministic(seed in 0u64..10_000, jitter in 0u64..100, pause in 1u64..500) {
        let mut s = FailureDetectorScenario::basic(3, seed);
        s.jitter_ms = jitter;
        s.loss = 0.05;
        let ivs = vec![
            Intervention::new(400, Action::Command { node: 2, command: Command::Pause { ms: pause } }),
            Intervention::new(1_200, Action::Crash { node: 3 }),
        ];
        let (e1, a1) = run(&s, ivs.clone());
        let (e2, a2) = run(&s, ivs);
        prop_assert_eq!(trace::to_json(e1.trace()), trace::to_json(e2.trace()));
        prop_assert_eq!(a1, a2);
        prop_assert!(e1.trace().iter().any(|ev| matches!(ev.kind, EventKind::Crash)));
    }
}
