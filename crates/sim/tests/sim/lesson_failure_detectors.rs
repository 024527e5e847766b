//! The "Failure detectors" lesson: every claim of its text checked against the run it shows.

use distlab_sim::engine::Engine;
use distlab_sim::lesson::{built_in, Goal, LessonModel, ResolvedLesson};
use distlab_sim::models::failure_detector::analysis::{analyze, Analysis, Detector};
use distlab_sim::models::failure_detector::{FailureDetectorScenario, Node};
use distlab_sim::models::FailureDetector;

fn lesson() -> ResolvedLesson {
    built_in()
        .into_iter()
        .find(|l| l.id == "failure-detectors")
        .expect("the lesson is built in")
        .resolve()
        .expect("it resolves")
}

struct StepRun {
    scenario: FailureDetectorScenario,
    engine: Engine<Node>,
    a: Analysis,
}

fn step(n: usize) -> StepRun {
    let l = lesson();
    let (s, ivs) = l.steps[n - 1]
        .failure_detector()
        .expect("a failure-detector step");
    run(s.clone(), ivs.to_vec())
}

fn run(
    scenario: FailureDetectorScenario,
    ivs: Vec<distlab_sim::engine::Intervention<Node>>,
) -> StepRun {
    let engine = Engine::new(scenario.setup().unwrap(), ivs);
    let a = analyze(&engine, engine.trace().len().checked_sub(1));
    StepRun {
        scenario,
        engine,
        a,
    }
}

fn node<'a>(
    a: &'a Analysis,
    name: &str,
) -> &'a distlab_sim::models::failure_detector::analysis::NodeReport {
    a.nodes.iter().find(|n| n.name == name).unwrap()
}

fn phi_max(a: &Analysis, name: &str) -> f64 {
    node(a, name).phi.iter().map(|p| p.1).fold(0.0, f64::max)
}

fn sweep(a: &Analysis, d: Detector) -> &distlab_sim::models::failure_detector::analysis::SweepRow {
    a.phi_sweep
        .iter()
        .chain(&a.timeout_sweep)
        .find(|r| r.detector == d)
        .unwrap()
}

#[test]
fn lesson_validates_and_has_its_shape() {
    let l = lesson();
    assert_eq!(l.model, "failure-detector");
    assert_eq!(l.order, 80);
    assert_eq!(l.steps.len(), 7);
    let c = l.steps[6]
        .challenge
        .as_ref()
        .expect("the last step is the challenge");
    assert_eq!(c.goal, Goal::NoFalseSuspicion);
    assert_eq!(c.within_ms, Some(600));
}

#[test]
fn step1_steady_heartbeats_no_suspicion() {
    let r = step(1);
    assert_eq!(r.scenario.interval_ms, 100);
    for n in ["node-1", "node-2"] {
        let rep = node(&r.a, n);
        // every 100 ms, 10 ms in flight
        assert!(
            rep.arrivals.iter().all(|t| t % 100 == 10),
            "{:?}",
            rep.arrivals
        );
        assert!(rep.timeout.is_empty() && rep.phi_suspicions.is_empty());
        assert!(phi_max(&r.a, n) < 1.0);
    }
}

#[test]
fn step2_jitter_timeout_false_suspicions_phi_quiet() {
    let r = step(2);
    assert_eq!((r.scenario.jitter_ms, r.scenario.timeout_ms), (150, 150));
    assert!(
        r.a.timeout_false() >= 5,
        "again and again: {}",
        r.a.timeout_false()
    );
    assert_eq!(r.a.crashes(), 0);
    assert_eq!(r.a.phi_false(), 0);
    assert!(r.a.max_phi() < 3.0, "{}", r.a.max_phi());
    // arrivals up to 250 ms apart
    let gaps =
        r.a.nodes
            .iter()
            .flat_map(|n| n.arrivals.windows(2).map(|w| w[1] - w[0]));
    assert!(gaps.clone().max().unwrap() <= 250);
    assert!(gaps.max().unwrap() > 150);
}

#[test]
fn step3_pause_false_suspicions_by_both() {
    let r = step(3);
    let n1 = node(&r.a, "node-1");
    assert_eq!(n1.pauses, vec![(1000, 1300)]);
    assert!(n1.arrivals.contains(&910) && n1.arrivals.contains(&1310));
    assert!(
        !n1.arrivals.iter().any(|&t| t > 910 && t < 1310),
        "400 ms of silence"
    );
    assert_eq!(n1.phi_suspicions.len(), 1);
    assert_eq!(n1.phi_suspicions[0].from, 910 + 160);
    assert_eq!(n1.timeout.len(), 1);
    assert_eq!(n1.timeout[0].from, 1170);
    assert!(n1.phi_suspicions[0].from < n1.timeout[0].from, "φ first");
    for s in n1.phi_suspicions.iter().chain(&n1.timeout) {
        assert_eq!(s.to, Some(1310));
        assert!(s.false_suspicion);
    }
    // the window's deviation was the minimum (10 ms): regular 100 ms intervals
    assert_eq!(r.scenario.min_std_deviation_ms, 10);
    // the late heartbeat at 1300, then every 100 ms
    assert!(n1.arrivals.contains(&1410) && n1.arrivals.contains(&1510));
    assert!(node(&r.a, "node-2").phi_suspicions.is_empty());
}

#[test]
fn step4_crash_detection_times() {
    let r = step(4);
    let n2 = node(&r.a, "node-2");
    assert_eq!(n2.down, vec![(2500, None)]);
    assert_eq!(n2.arrivals.last(), Some(&2510));
    assert_eq!(n2.phi_detections[0].after_ms, Some(170));
    assert_eq!(n2.timeout_detections[0].after_ms, Some(270));
    assert_eq!(r.a.phi_detection(), Some(170));
    assert_eq!(r.a.timeout_detection(), Some(270));
    // φ was also the first to wrongly suspect node-1
    let n1 = node(&r.a, "node-1");
    assert!(n1.phi_suspicions[0].from < n1.timeout[0].from);
    assert_eq!((r.a.phi_false(), r.a.timeout_false()), (1, 1));
}

#[test]
fn step5_phi_adapts_per_node() {
    let r = step(5);
    let prev = step(4);
    let n2 = node(&r.a, "node-2");
    // no false suspicion of node-2 by φ although arrivals come up to 250 ms apart
    assert!(n2.phi_suspicions.iter().all(|s| !s.false_suspicion));
    let gaps: Vec<_> = n2.arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(*gaps.iter().max().unwrap() > 150 && *gaps.iter().max().unwrap() <= 250);
    // detection is slower than on the steady link
    let d = n2.phi_detections[0].after_ms.unwrap();
    assert!(d > prev.a.phi_detection().unwrap(), "{d}");
    // node-1's steady link: φ still suspects its pause as quickly as before
    assert_eq!(node(&r.a, "node-1").phi_suspicions[0].from, 1070);
}

#[test]
fn step6_trade_off_tables() {
    let r = step(6);
    assert!(r.scenario.links.is_empty());
    for w in r.a.phi_sweep.windows(2).chain(r.a.timeout_sweep.windows(2)) {
        assert!(w[1].false_suspicions <= w[0].false_suspicions);
        if let (Some(a), Some(b)) = (w[0].detection_ms, w[1].detection_ms) {
            assert!(b >= a);
        }
    }
    for t in [1.0, 16.0] {
        let row = sweep(&r.a, Detector::Phi { threshold: t });
        assert_eq!(
            row.false_suspicions, 1,
            "threshold {t} still suspects the pause"
        );
    }
    // even φ ≥ 16 is passed within 200 ms of silence (the pause's silence is 400 ms)
    let mut sc = r.scenario.clone();
    sc.threshold = 16.0;
    let x = run(sc, lesson().steps[5].failure_detector().unwrap().1.to_vec());
    let s = &node(&x.a, "node-1").phi_suspicions[0];
    assert!(s.from - 910 < 200, "{}", s.from);
}

#[test]
fn step7_challenge_not_met_as_given_met_with_acceptable_pause() {
    let l = lesson();
    let c = l.steps[6].challenge.clone().unwrap();
    let (s, ivs) = l.steps[6].failure_detector().unwrap();
    let r = run(s.clone(), ivs.to_vec());
    assert!(!c.met_by_failure_detector(&r.a));
    // the hint's answer: acceptable pause ≈ the pause's length
    let mut good = s.clone();
    good.acceptable_heartbeat_pause_ms = 300;
    let g = run(good, ivs.to_vec());
    assert_eq!(g.a.phi_false(), 0);
    assert!(g.a.phi_detection().unwrap() <= 600);
    assert!(c.met_by_failure_detector(&g.a));
    assert_eq!(
        FailureDetector::goal_met(
            &g.scenario,
            &c,
            &g.engine,
            g.engine.trace().len().checked_sub(1)
        ),
        Some(true)
    );
    // "never suspect" does not pass: the crash is not detected within 600 ms
    let mut never = s.clone();
    never.threshold = 50.0;
    never.acceptable_heartbeat_pause_ms = 3000;
    let n = run(never, ivs.to_vec());
    assert_eq!(n.a.phi_false(), 0);
    assert!(!c.met_by_failure_detector(&n.a));
    // the threshold alone does not do it
    for t in [12.0, 16.0, 50.0] {
        let mut x = s.clone();
        x.threshold = t;
        assert!(
            !c.met_by_failure_detector(&run(x, ivs.to_vec()).a),
            "threshold {t}"
        );
    }
}
