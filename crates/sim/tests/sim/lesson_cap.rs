//! The "CAP and partitions" lesson: each step shows what its narration claims (requests
//! served and refused on each side, stale reads, the checker's verdict, what anti-entropy
//! keeps), computed from the simulation; the challenge is open, and a learner's partition
//! solves it.

use distlab_sim::engine::{Action, Intervention};
use distlab_sim::lesson::{Lesson, LessonModel};
use distlab_sim::models::quorum::analysis::RequestOutcome;
use distlab_sim::models::quorum::Consistency;
use distlab_sim::models::Quorum;
use distlab_sim::NodeId;

const TEXT: &str = include_str!("../../../../lessons/cap.toml");

use crate::common::quorum_lesson::*;

fn lesson() -> Lesson {
    parse(TEXT)
}

/// (served, refused) of the side whose replicas are `names`.
fn side(r: &Run, names: &[&str]) -> (usize, usize) {
    let ids: Vec<NodeId> = names.iter().map(|n| r.id(n)).collect();
    let s =
        r.a.per_side
            .iter()
            .find(|s| s.side == ids)
            .unwrap_or_else(|| panic!("no side {names:?}: {:?}", r.a.per_side));
    assert_eq!(s.counts.pending, 0);
    (s.counts.served, s.counts.refused)
}

#[test]
fn the_lesson_is_built_in_after_linearizability() {
    let l = lesson();
    assert_eq!(
        (l.id.as_str(), l.title.as_str(), l.model.as_str(), l.order),
        ("cap", "CAP and partitions", "quorum", 35)
    );
    let all = distlab_sim::lesson::built_in();
    let pos = |id: &str| all.iter().position(|l| l.id == id).unwrap();
    assert_eq!(pos("cap"), pos("linearizability") + 1);
    let r = run(&l, "Consistency, availability");
    assert_eq!(r.cursor, None);
    assert_eq!(r.scenario.replicas.len(), 3);
    assert_eq!(r.a.requests.len(), 0);
    let whole = run_with(r.scenario.clone(), r.ivs.clone());
    assert_eq!(whole.a.requests.len(), 8);
    for c in ["cA", "cB"] {
        let k = whole
            .a
            .requests
            .iter()
            .filter(|q| q.client == r.id(c))
            .count();
        assert_eq!(k, 4, "{c} writes and reads twice");
    }
}

#[test]
fn without_a_partition_both_modes_serve_everything_linearizably() {
    let l = lesson();
    let r = run(&l, "No partition");
    assert_eq!(r.a.consistency, Consistency::Linearizable);
    assert_eq!(side(&r, &["r1", "r2", "r3"]), (8, 0));
    assert_eq!(r.a.per_side.len(), 1);
    assert!(r.linearizable());
    // Dynamo mode, w = r = 1, sloppy: the same.
    let mut ap = r.scenario.clone();
    ap.consistency = Consistency::Eventual;
    assert_eq!((ap.w, ap.r, ap.sloppy_quorum), (1, 1, true));
    let ap = run_with(ap, r.ivs.clone());
    assert_eq!(side(&ap, &["r1", "r2", "r3"]), (8, 0));
    assert!(ap.linearizable());
    assert!(ap.a.stale_reads.is_empty());
}

#[test]
fn cp_refuses_the_minority_and_serves_the_majority() {
    let l = lesson();
    let r = run(&l, "The network splits");
    assert_eq!(r.a.consistency, Consistency::Linearizable);
    assert_eq!(side(&r, &["r1"]), (0, 4));
    assert_eq!(side(&r, &["r2", "r3"]), (4, 0));
    for q in r.a.requests.iter().filter(|q| q.client == r.id("cA")) {
        assert_eq!(q.outcome, RequestOutcome::TimedOut);
        assert_eq!(
            q.return_ms.unwrap() - q.call_ms,
            220,
            "refused 220 ms after asking"
        );
    }
    assert!(r.linearizable());
    assert_eq!(r.engine.trace()[r.step_of_heal()].time, 1_300);
    // The question: cB's only.
    let i = index(&l, "The network splits");
    let q = l.steps[i].question.as_ref().unwrap().resolve().unwrap();
    let distlab_sim::lesson::question::QuestionKind::Choice { options, answers } = q.kind else {
        panic!("a multiple choice");
    };
    assert_eq!(answers.len(), 1);
    assert_eq!(options[answers[0]], "cB's only");
}

#[test]
fn ap_serves_everyone_reads_stale_and_loses_a_write() {
    let l = lesson();
    let r = run(&l, "AP: answer everywhere");
    assert_eq!(r.a.consistency, Consistency::Eventual);
    assert_eq!((r.scenario.w, r.scenario.r), (1, 1));
    assert_eq!(side(&r, &["r1"]), (4, 0));
    assert_eq!(side(&r, &["r2", "r3"]), (4, 0));
    let b1 = r.req("cB writes x=b1");
    assert_eq!(b1.call_ms, 150);
    let ra = r.req("cA reads x");
    assert_eq!(ra.call_ms, 400);
    assert!(b1.return_ms.unwrap() < ra.call_ms);
    assert_eq!(ra.value.as_deref(), Some("a1"));
    assert!(r
        .a
        .stale_reads
        .iter()
        .any(|s| s.read == ra.op && s.write == b1.op));
    assert!(!r.linearizable());
    // After the heal every replica holds b2; cA's acknowledged a2 is lost.
    assert_eq!(r.req("cA writes x=a2").outcome, RequestOutcome::Ok);
    assert!(r.a.converged);
    for n in ["r1", "r2", "r3"] {
        assert_eq!(
            r.value_at(r.cursor, r.id(n), "x").as_deref(),
            Some("b2"),
            "{n}"
        );
    }
    let heal = r.step_of_heal();
    assert_eq!(
        r.value_at(Some(heal), r.id("r1"), "x").as_deref(),
        Some("a2")
    );
}

#[test]
fn the_trade_off_table_and_a_strict_quorum_that_refuses_but_is_not_abd() {
    let l = lesson();
    let ap = run(&l, "The trade-off in numbers");
    assert_eq!(ap.a.consistency, Consistency::Eventual);
    assert_eq!(
        (
            side(&ap, &["r1"]),
            side(&ap, &["r2", "r3"]),
            ap.linearizable()
        ),
        ((4, 0), (4, 0), false)
    );
    let mut cp = ap.scenario.clone();
    cp.consistency = Consistency::Linearizable;
    let cp = run_with(cp, ap.ivs.clone());
    assert_eq!(
        (
            side(&cp, &["r1"]),
            side(&cp, &["r2", "r3"]),
            cp.linearizable()
        ),
        ((0, 4), (4, 0), true)
    );
    // Dynamo with w = 2, r = 2 also refuses cA's side.
    let mut strict = ap.scenario.clone();
    strict.w = 2;
    strict.r = 2;
    let strict = run_with(strict, ap.ivs.clone());
    assert_eq!(side(&strict, &["r1"]), (0, 4));
    assert_eq!(side(&strict, &["r2", "r3"]), (4, 0));
}

#[test]
fn the_challenge_is_open_and_a_learners_partition_solves_it() {
    let l = lesson();
    let i = index(&l, "Your turn");
    let c = l.steps[i].challenge.clone().expect("a challenge");
    assert_eq!(c.goal_name(), "request-refused");
    let r = run(&l, "Your turn");
    assert_eq!(r.a.consistency, Consistency::Linearizable);
    let met = |x: &Run| {
        <Quorum as LessonModel>::goal_met(
            &x.scenario,
            &c,
            &x.engine,
            x.engine.trace().len().checked_sub(1),
        ) == Some(true)
    };
    assert!(!met(&r), "the step's own run must not solve it");
    let whole = run_with(r.scenario.clone(), r.ivs.clone());
    assert_eq!(side(&whole, &["r1", "r2", "r3"]), (8, 0));
    let partition = |a: &[&str]| {
        let side_a: Vec<NodeId> = a.iter().map(|n| r.id(n)).collect();
        let rest = (0..5).filter(|x| !side_a.contains(x)).collect();
        let mut ivs = r.ivs.clone();
        ivs.push(Intervention::new(
            0,
            Action::Partition {
                groups: vec![side_a, rest],
            },
        ));
        run_with(r.scenario.clone(), ivs)
    };
    // The minority partition of the earlier steps refuses cA, not cB.
    let wrong = partition(&["r1", "cA"]);
    assert!(!met(&wrong));
    assert_eq!(side(&wrong, &["r1"]), (0, 4));
    // cB with its home replica alone: a minority, refused.
    let right = partition(&["r2", "cB"]);
    assert!(met(&right));
    assert_eq!(side(&right, &["r2"]), (0, 4));
    assert_eq!(
        side(&right, &["r1", "r3"]),
        (4, 0),
        "cA's side is the majority now"
    );
}
