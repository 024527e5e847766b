//! The "Quorums (n, w, r)" lesson: each step shows what its narration claims, computed from
//! the simulation (not from the text); the challenge is open, and a learner's partition
//! solves it.

use distlab_sim::engine::{Action, Intervention};
use distlab_sim::lesson::question::QuestionKind;
use distlab_sim::lesson::{Lesson, LessonModel};
use distlab_sim::models::quorum::analysis::{analyze, RequestOutcome};
use distlab_sim::models::quorum::{self};
use distlab_sim::models::Quorum;
use distlab_sim::NodeId;

const TEXT: &str = include_str!("../../../../lessons/quorums.toml");

use crate::common::quorum_lesson::*;

fn lesson() -> Lesson {
    parse(TEXT)
}

fn sorted(mut v: Vec<NodeId>) -> Vec<NodeId> {
    v.sort_unstable();
    v
}

#[test]
fn the_lesson_is_built_in_and_comes_after_session_guarantees() {
    let l = lesson();
    assert_eq!(
        (l.id.as_str(), l.title.as_str(), l.model.as_str(), l.order),
        ("quorums", "Quorums (n, w, r)", "quorum", 17)
    );
    let all = distlab_sim::lesson::built_in();
    let pos = |id: &str| all.iter().position(|l| l.id == id).unwrap();
    assert_eq!(pos("quorums"), pos("session-guarantees") + 1);
    assert!(pos("quorums") < pos("isolation-levels"));
}

#[test]
fn four_replicas_and_x_lives_on_r4_r1_r2() {
    let l = lesson();
    let r = run(&l, "n replicas");
    assert_eq!(r.cursor, None);
    let (r1, r2, r4) = (r.id("r1"), r.id("r2"), r.id("r4"));
    assert_eq!(r.scenario.replicas.len(), 4);
    assert_eq!((r.scenario.n, r.scenario.w, r.scenario.r), (3, 1, 1));
    assert_eq!(quorum::preference_list("x", 4, 3), vec![r4, r1, r2]);
    assert_eq!(r.scenario.clients[0].replica, "r1");
    assert_eq!(r.scenario.clients[1].replica, "r4");
}

#[test]
fn w_plus_r_at_most_n_reads_stale_then_eventually_fresh() {
    let l = lesson();
    let r = run(&l, "w + r ≤ n");
    assert!(!r.a.quorum_overlap);
    let w = r.req("c1 writes x=1");
    assert_eq!((w.outcome, w.return_ms), (RequestOutcome::Ok, Some(20)));
    assert_eq!(w.stored_at, vec![r.id("r1")]);
    let rd = r.req("c2 reads x");
    assert_eq!((rd.call_ms, rd.return_ms), (50, Some(70)));
    assert_eq!(rd.value, None, "nothing");
    assert_eq!(rd.read_from, vec![r.id("r4")], "r4's own reply");
    assert_eq!(r.a.stale_reads.len(), 1);
    assert_eq!(r.a.stale_reads[0].read, rd.op);
    // Eventually.
    let r = run(&l, "Eventually");
    assert_eq!(r.first_holds(r.id("r4"), "x", "1"), Some(160));
    let later = r.req("c2 reads x later");
    assert_eq!(
        (later.value.as_deref(), later.return_ms),
        (Some("1"), Some(620))
    );
}

#[test]
fn overlapping_quorums_read_the_write_but_wait_for_a_far_replica() {
    let l = lesson();
    let i = index(&l, "w + r > n");
    let r = run(&l, "w + r > n");
    assert!(r.a.quorum_overlap, "{}", r.a.overlap);
    let w = r.req("c1 writes x=1");
    assert_eq!(w.return_ms, Some(40));
    assert_eq!(sorted(w.stored_at.clone()), vec![r.id("r1"), r.id("r2")]);
    let rd = r.req("c2 reads x");
    assert_eq!((rd.call_ms, rd.return_ms), (50, Some(370)));
    assert_eq!(rd.value.as_deref(), Some("1"));
    assert!(rd.read_from.contains(&r.id("r4")));
    assert!(r.a.stale_reads.is_empty());
    assert_eq!(r.latency("c2 reads x"), 320);
    let before = run(&l, "w + r ≤ n");
    assert_eq!(before.latency("c2 reads x"), 20);
    // The question: the right options are exactly those with w + r > n = 3.
    let q = l.steps[i]
        .question
        .as_ref()
        .expect("a question")
        .resolve()
        .unwrap();
    let QuestionKind::Choice { options, answers } = &q.kind else {
        panic!("a multiple choice");
    };
    let want: Vec<usize> = options
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            let n: Vec<usize> = o
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|d| d.parse().ok())
                .collect();
            n[0] + n[1] > 3
        })
        .map(|(k, _)| k)
        .collect();
    assert_eq!(*answers, want);
}

#[test]
fn read_repair_fixes_the_replica_that_missed_the_write() {
    let l = lesson();
    let r = run(&l, "Read repair");
    let (r1, r2, r4) = (r.id("r1"), r.id("r2"), r.id("r4"));
    let w = r.req("c1 writes x=1");
    assert_eq!(sorted(w.stored_at.clone()), vec![r1, r2]);
    let heal = r.step_of_heal();
    assert_eq!(r.engine.trace()[heal].time, 200);
    assert_eq!(r.value_at(Some(heal), r4, "x"), None);
    let rd = r.req("c1 reads x");
    assert_eq!(r.value_at(Some(rd.call_step), r4, "x"), None);
    assert_eq!((rd.value.as_deref(), rd.return_ms), (Some("1"), Some(290)));
    assert_eq!(sorted(rd.read_from.clone()), vec![r1, r2]);
    // r4's late answer (nothing) arrives at 560 ms; the repair at 710 ms.
    let late = r.engine.trace().iter().find(|e| {
        e.node == Some(r1)
            && matches!(&e.kind, distlab_sim::EventKind::Deliver { from, .. } if *from == r4)
    });
    assert_eq!(late.map(|e| e.time), Some(560));
    assert_eq!(r.first_holds(r4, "x", "1"), Some(710));
    assert!(r.a.converged);
    // Without read repair r4 holds nothing for x until the end.
    let mut off = r.scenario.clone();
    off.read_repair = false;
    let o = run_with(off, r.ivs.clone());
    assert_eq!(o.value_at(o.cursor, r4, "x"), None);
    assert!(!o.a.converged);
}

#[test]
fn a_sloppy_quorum_writes_through_a_fallback_and_reads_stale_despite_w_plus_r_above_n() {
    let l = lesson();
    let r = run(&l, "Sloppy quorum");
    let (r1, r2, r3, r4) = (r.id("r1"), r.id("r2"), r.id("r3"), r.id("r4"));
    assert!(r.a.quorum_overlap, "w + r = 4 > n = 3");
    let w = r.req("c1 writes x=1");
    assert_eq!((w.outcome, w.return_ms), (RequestOutcome::Ok, Some(90)));
    assert_eq!(sorted(w.stored_at.clone()), vec![r1, r3]);
    // r3 holds the write as a hint for r4, not as data.
    let rd = r.req("c2 reads x during the partition");
    let at_read = analyze(&r.engine, rd.return_step);
    let hints = &at_read.replicas[r3].hints;
    assert_eq!(hints.len(), 1);
    assert_eq!(hints[0].intended_name, "r4");
    assert_eq!(hints[0].entry.value, "1");
    assert!(!at_read.replicas[r3].data.contains_key("x"));
    // c2's read on the other side: r4 and r2 answer, neither has it.
    assert_eq!(sorted(rd.read_from.clone()), vec![r2, r4]);
    assert_eq!((rd.value.as_deref(), rd.return_ms), (None, Some(470)));
    assert!(r.a.stale_reads.iter().any(|s| s.read == rd.op));
    assert!(!r.linearizable());
    // The heal at 500 ms, the handoff to r4 at 670 ms, and the read at 600 ms sees 1.
    assert_eq!(r.engine.trace()[r.step_of_heal()].time, 500);
    assert_eq!(r.first_holds(r4, "x", "1"), Some(670));
    assert_eq!(r.req("c2 reads x later").value.as_deref(), Some("1"));
    assert!(r.a.replicas[r3].hints.is_empty());
    // A strict quorum refuses the write instead.
    let mut strict = r.scenario.clone();
    strict.sloppy_quorum = false;
    let s = run_with(strict, r.ivs.clone());
    assert_eq!(s.req("c1 writes x=1").outcome, RequestOutcome::TimedOut);
}

#[test]
fn the_challenge_is_open_and_a_learners_partition_solves_it() {
    let l = lesson();
    let i = index(&l, "Your turn");
    let c = l.steps[i].challenge.clone().expect("a challenge");
    assert_eq!(c.goal_name(), "stale-read");
    let r = run(&l, "Your turn");
    assert_eq!((r.scenario.n, r.scenario.w, r.scenario.r), (3, 2, 2));
    assert!(r.scenario.sloppy_quorum);
    let met = |r: &Run| {
        <Quorum as LessonModel>::goal_met(
            &r.scenario,
            &c,
            &r.engine,
            r.engine.trace().len().checked_sub(1),
        ) == Some(true)
    };
    assert!(!met(&r), "the step's own run must not solve it");
    // The narration: c2's 600 ms read sees x = 1, and nothing is stale.
    let whole = run_with(r.scenario.clone(), r.ivs.clone());
    assert_eq!(whole.req("c2 reads x later").value.as_deref(), Some("1"));
    assert!(whole.a.stale_reads.is_empty());
    // The learner, at the start, ticks r1, r3 and c1 as side A and presses Partition.
    let side_a: Vec<NodeId> = ["r1", "r3", "c1"].iter().map(|n| r.id(n)).collect();
    let rest: Vec<NodeId> = ["r2", "r4", "c2"].iter().map(|n| r.id(n)).collect();
    let mut ivs = r.ivs.clone();
    ivs.push(Intervention::new(
        0,
        Action::Partition {
            groups: vec![side_a, rest],
        },
    ));
    let solved = run_with(r.scenario.clone(), ivs);
    assert!(met(&solved));
    let later = solved.req("c2 reads x later");
    assert_eq!(later.value, None, "c2's read at 600 ms comes back empty");
    assert!(solved.a.stale_reads.iter().any(|s| s.read == later.op));
    // Cutting c2's home replica off alone does not do it: r = 2 cannot be met, the reads
    // are refused, not stale.
    let mut ivs = r.ivs.clone();
    let alone = vec![r.id("r4"), r.id("c2")];
    let others = ["r1", "r2", "r3", "c1"].iter().map(|n| r.id(n)).collect();
    ivs.push(Intervention::new(
        0,
        Action::Partition {
            groups: vec![alone, others],
        },
    ));
    let refused = run_with(r.scenario.clone(), ivs);
    assert!(!met(&refused));
    assert_eq!(
        refused.req("c2 reads x later").outcome,
        RequestOutcome::TimedOut
    );
}
