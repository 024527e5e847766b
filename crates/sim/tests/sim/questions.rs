//! Lesson questions: events are found by the names lessons use, and the answers the page
//! reveals are the run's happens-before relation — over random runs, checked against a
//! relation computed independently (reachability in the message graph).

use crate::common;

use common::cases;
use distlab_sim::causality::Causality;
use distlab_sim::diagram::{Diagram, Outcome};
use distlab_sim::engine::Engine;
use distlab_sim::lesson::question::{find_event, EventSet, Question, QuestionKind};
use distlab_sim::lesson::Lesson;
use distlab_sim::lesson::Until;
use distlab_sim::models::clocks::{ClockedNode, ClocksScenario, Traffic};
use distlab_sim::models::{Clocks, EngineModel, Leaderless};
use distlab_sim::Protocol;
use proptest::prelude::*;

fn scenario(n: usize, seed: u64) -> ClocksScenario {
    ClocksScenario {
        seed,
        duration_ms: 300,
        nodes: (0..n)
            .map(|i| ClockedNode {
                name: ["A", "B", "C", "D"][i].into(),
                place: None,
                clock_offset_ms: 0,
                clock_drift_ppm: 0,
            })
            .collect(),
        latency_ms: 5,
        jitter_ms: 30,
        links: Vec::new(),
        loss: 0.1,
        traffic: Some(Traffic {
            every_ms: 25,
            send_probability: 0.7,
            count: 6,
        }),
    }
}

/// `reach[a][b]`: b is reachable from a by program order and delivered messages (marks
/// at a node other than drops; computed from the diagram, not from vector clocks).
fn reachability(d: &Diagram, events: &[usize]) -> Vec<Vec<bool>> {
    let n = events.len();
    let ix = |mark: usize| events.iter().position(|&m| m == mark);
    let mut reach = vec![vec![false; n]; n];
    for i in 0..n {
        for j in 0..n {
            let (a, b) = (&d.marks[events[i]], &d.marks[events[j]]);
            if a.node == b.node && a.step < b.step {
                reach[i][j] = true;
            }
        }
    }
    for a in &d.arrows {
        if let Outcome::Delivered { step, .. } = a.outcome {
            let s = d
                .marks
                .iter()
                .position(|m| m.step == a.send_step)
                .and_then(ix);
            let r = d.marks.iter().position(|m| m.step == step).and_then(ix);
            if let (Some(s), Some(r)) = (s, r) {
                reach[s][r] = true;
            }
        }
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if reach[i][k] && reach[k][j] {
                    reach[i][j] = true;
                }
            }
        }
    }
    reach
}

fn events_question(set: EventSet, event: &str) -> Question {
    Question {
        html: String::new(),
        kind: QuestionKind::Events {
            set,
            event: event.into(),
        },
        explain: None,
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// For every event of a random run, named by its whole label, each event question's
    /// right answer is exactly the set reachability gives, and a relation question's
    /// answer agrees too.
    #[test]
    fn answers_are_the_runs_happens_before(n in 2usize..=4, seed in 0u64..10_000) {
        let s = scenario(n, seed);
        let engine = Engine::new(s.setup().unwrap(), Vec::new());
        let d = Diagram::build(&engine);
        let c = Causality::of_diagram(&d);
        let upto = engine.trace().len().checked_sub(1);
        let marks: Vec<usize> = (0..c.len()).map(|e| c.events[e].mark).collect();
        let reach = reachability(&d, &marks);
        let unique = |m: usize| d.marks.iter().filter(|x| x.label == d.marks[m].label).count() == 1;
        for (i, &m) in marks.iter().enumerate() {
            if !unique(m) {
                continue;
            }
            let label = d.marks[m].label.clone();
            prop_assert_eq!(find_event(&d, &c, upto, &label).unwrap(), i);
            for set in [EventSet::ConcurrentWith, EventSet::Before, EventSet::After] {
                let posed = events_question(set, &label).pose(Some((&d, upto))).unwrap();
                let others: Vec<usize> = (0..marks.len()).filter(|&j| j != i).collect();
                prop_assert_eq!(posed.options.len(), others.len());
                let expected: Vec<usize> = (0..others.len())
                    .filter(|&k| {
                        let j = others[k];
                        match set {
                            EventSet::ConcurrentWith => !reach[i][j] && !reach[j][i],
                            EventSet::Before => reach[j][i],
                            EventSet::After => reach[i][j],
                        }
                    })
                    .collect();
                prop_assert!(posed.is_right(&expected), "{:?} of {}", set, label);
                prop_assert_eq!(&posed.correct, &expected);
            }
            // A relation question against the first other uniquely named event.
            if let Some((j, &m2)) = marks.iter().enumerate().find(|&(j, &m2)| j != i && unique(m2)) {
                let q = Question {
                    html: String::new(),
                    kind: QuestionKind::Relation { a: label.clone(), b: d.marks[m2].label.clone() },
                    explain: None,
                };
                let posed = q.pose(Some((&d, upto))).unwrap();
                let want = if reach[i][j] { 0 } else if reach[j][i] { 1 } else { 2 };
                prop_assert_eq!(&posed.correct, &vec![want]);
                prop_assert!(!posed.multiple);
            }
        }
    }
}

fn clocks_lesson_run() -> (Diagram, Option<usize>) {
    let text = distlab_sim::lesson::BUILT_IN
        .iter()
        .find(|(f, _)| *f == "logical-clocks.toml")
        .unwrap()
        .1;
    let l = Lesson::parse(text).unwrap();
    let (s, ivs) = l.engine_run::<Clocks>(4).unwrap();
    let e = Engine::new(Clocks::setup(&s).unwrap(), ivs);
    let cursor = e.trace().len().checked_sub(1);
    (Diagram::build(&e), cursor)
}

#[test]
fn events_are_found_by_label_command_or_receipt() {
    let (d, upto) = clocks_lesson_run();
    let c = Causality::of_diagram(&d);
    let label = |r: &str| {
        d.marks[c.events[find_event(&d, &c, upto, r).unwrap()].mark]
            .label
            .clone()
    };
    assert_eq!(label("B ← A: m1"), "B ← A: m1");
    assert_eq!(label("send m2"), "B: send m2");
    assert_eq!(label("C writes x"), "C: C writes x");
    assert_eq!(label("receive m3"), "A ← C: m3");
    assert_eq!(label("receive m3 at A"), "A ← C: m3");
    let err = find_event(&d, &c, upto, "receive m3 at B").unwrap_err();
    assert!(err.contains("no event \"receive m3 at B\""), "{err}");
    let err = find_event(&d, &c, upto, "D writes z").unwrap_err();
    assert!(err.contains("\"A: send m1\""), "lists the events: {err}");
    // Up to a cursor: m3 is sent at 110 ms and received at 130 ms.
    let at_120 = d
        .marks
        .iter()
        .rposition(|m| m.time <= 120)
        .map(|i| d.marks[i].step);
    assert!(find_event(&d, &c, at_120, "send m3").is_ok());
    assert!(find_event(&d, &c, at_120, "receive m3").is_err());
    assert!(
        find_event(&d, &c, None, "send m1").is_err(),
        "no event before the start"
    );
}

#[test]
fn choice_questions_and_their_errors() {
    let choice = |options: &[&str], answers: &[usize]| Question {
        html: String::new(),
        kind: QuestionKind::Choice {
            options: options.iter().map(|s| s.to_string()).collect(),
            answers: answers.to_vec(),
        },
        explain: None,
    };
    let p = choice(&["a", "b", "c"], &[2]).pose(None).unwrap();
    assert!(!p.multiple && p.is_right(&[2]) && !p.is_right(&[1]) && !p.is_right(&[1, 2]));
    let p = choice(&["a", "b", "c"], &[2, 0]).pose(None).unwrap();
    assert!(p.multiple && p.is_right(&[0, 2]) && p.is_right(&[2, 0]) && !p.is_right(&[0]));
    assert!(choice(&["a"], &[0]).pose(None).is_err());
    assert!(choice(&["a", "b"], &[3]).pose(None).is_err());
    assert!(events_question(EventSet::Before, "x").pose(None).is_err());
}

/// A lesson source with a question on its first step (a clocks lesson).
fn with_question(question: &str) -> String {
    format!(
        r#"id = "q"
title = "Q"
summary = "Q."
model = "clocks"

[scenario]
nodes = [{{ name = "A" }}, {{ name = "B" }}]
actions = [{{ at = 10, action = "send", from = "A", to = "B", label = "m1" }}]

[[step]]
title = "One"
text = "Text."
question = {question}
"#
    )
}

#[test]
fn lesson_files_reject_bad_questions_with_the_line() {
    let ok = Lesson::parse(&with_question(
        r#"{ ask = "?", relation = ["send m1", "receive m1"] }"#,
    ))
    .unwrap();
    let r = ok.resolve().unwrap();
    assert!(matches!(
        r.steps[0].question.as_ref().unwrap().kind,
        QuestionKind::Relation { .. }
    ));
    for (q, says) in [
        (
            r#"{ ask = "?", relation = ["send m1", "receive m9"] }"#,
            "no event \"receive m9\"",
        ),
        (
            r#"{ ask = "?", relation = ["send m1"] }"#,
            "names two events",
        ),
        (
            r#"{ ask = "?", concurrent-with = "send m1", before = "send m1" }"#,
            "exactly one of",
        ),
        (r#"{ ask = "?" }"#, "exactly one of"),
        (
            r#"{ ask = "?", options = ["a", "b"], answer = "c" }"#,
            "not one of the options",
        ),
        (r#"{ ask = "?", options = ["a", "b"] }"#, "needs an answer"),
        (
            r#"{ ask = "?", relation = ["send m1", "A: send m1"] }"#,
            "the same event",
        ),
    ] {
        let e = Lesson::parse(&with_question(q)).unwrap_err();
        assert_eq!(e.line, 13, "the question's line; {q}: {}", e.message);
        assert!(e.message.contains(says), "{q}: {}", e.message);
    }
}

/// The version-vector lesson's multiple-choice answer (the siblings after client2 adds ham)
/// is what the run gives.
#[test]
fn version_vector_choice_matches_the_run() {
    let text = distlab_sim::lesson::BUILT_IN
        .iter()
        .find(|(f, _)| *f == "version-vectors.toml")
        .unwrap()
        .1;
    let l = Lesson::parse(text).unwrap();
    let asking = l.steps.iter().position(|s| s.question.is_some()).unwrap();
    let q = l.steps[asking].question.as_ref().unwrap();
    let answer = q.answer.as_ref().unwrap().to_vec();
    // The run of the step that shows it: the next one, at ham's return.
    let (s, ivs) = l.engine_run::<Leaderless>(asking + 1).unwrap();
    let e = Engine::new(Leaderless::setup(&s).unwrap(), ivs);
    let at = Until::Returned("ham".into()).cursor(&e).unwrap();
    let w = e.world_at(at).unwrap();
    let distlab_sim::models::leaderless::View::Replica { data, .. } = w.nodes[0].view() else {
        panic!("db is a replica")
    };
    let mut siblings: Vec<String> = data["cart"].iter().map(|s| s.value.describe()).collect();
    siblings.sort();
    let mut said: Vec<String> = answer[0].split(" and ").map(str::to_string).collect();
    said.sort();
    assert_eq!(siblings, said);
}
