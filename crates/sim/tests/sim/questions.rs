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

// ---- "What does this read return?" (predict) ----

use distlab_sim::engine::{Action, Intervention};
use distlab_sim::lesson::question::{Prediction, NONE};
use distlab_sim::models::{history, quorum, raft, replication, Quorum, Raft, Replication};
use distlab_sim::trace::EventKind as Kind;
use distlab_sim::Time;

/// What the labelled operation returned in the trace, read straight from its return
/// event: `Some(value)` for a read that returned a value, `None` if it did not return.
fn returned<P: Protocol>(
    e: &Engine<P>,
    label: &str,
    value: impl Fn(&P::Response) -> Option<Option<String>>,
) -> Option<Option<String>> {
    let op = e.trace().iter().find_map(|ev| match &ev.kind {
        Kind::Invoke {
            op, label: Some(l), ..
        } if l == label => Some(*op),
        _ => None,
    })?;
    e.trace()
        .iter()
        .flat_map(|ev| ev.returned.iter())
        .find(|(o, _)| *o == op)
        .and_then(|(_, r)| value(r))
}

/// The values of the writes to `key` invoked at or before `t`, from the trace's invoke
/// events (an oracle independent of the client history).
fn written_before<P: Protocol>(
    e: &Engine<P>,
    t: Time,
    write: impl Fn(&P::Request) -> Option<(String, String)>,
    key: &str,
) -> Vec<String> {
    let mut v = Vec::new();
    for ev in e.trace().iter().filter(|ev| ev.time <= t) {
        if let Kind::Invoke { request, .. } = &ev.kind {
            if let Some((k, val)) = write(request) {
                if k == key && !v.contains(&val) {
                    v.push(val);
                }
            }
        }
    }
    v
}

/// For every labelled read of a run: the prediction's answer is the value the read
/// returned (the option `(none)` for nothing), its options are `(none)` then the values
/// written to its key before it returned, without duplicates, and only the answer is
/// right.
#[allow(clippy::too_many_arguments)]
fn predictions_match<P: Protocol>(
    e: &Engine<P>,
    h: &(distlab_sim::linearizability::History, Vec<history::OpSteps>),
    reads: &[(String, String)],
    value: impl Fn(&P::Response) -> Option<Option<String>> + Copy,
    write: impl Fn(&P::Request) -> Option<(String, String)> + Copy,
) {
    let last = e.trace().len().checked_sub(1);
    for (label, key) in reads {
        let got = returned(e, label, value);
        let p = Prediction::of(&h.0, &h.1, label, true, last);
        let Some(got) = got else {
            let m = p.expect_err("a read that never returned cannot be predicted");
            assert!(
                m.contains("never returns") || m.contains("has not returned"),
                "{m}"
            );
            continue;
        };
        let want = got.clone().unwrap_or_else(|| NONE.to_string());
        let ret_time = e
            .trace()
            .iter()
            .find(|ev| {
                ev.returned.iter().any(|(o, _)| {
                    e.trace().iter().any(|x| {
                        matches!(&x.kind, Kind::Invoke { op, label: Some(l), .. } if op == o && l == label)
                    })
                })
            })
            .unwrap()
            .time;
        let mut expected = vec![NONE.to_string()];
        expected.extend(written_before(e, ret_time, write, key));
        if !expected.contains(&want) {
            expected.push(want.clone());
        }
        if expected.len() < 2 {
            let m = p.expect_err("nothing to choose from");
            assert!(m.contains("only possible answer"), "{m}");
            continue;
        }
        let p = p.unwrap_or_else(|m| panic!("{label}: {m}"));
        assert_eq!(p.options[p.answer], want, "{label}");
        assert_eq!(p.options[0], NONE);
        let mut dedup = p.options.clone();
        dedup.dedup();
        dedup.sort();
        dedup.dedup();
        assert_eq!(
            dedup.len(),
            p.options.len(),
            "no duplicates: {:?}",
            p.options
        );
        assert_eq!(p.options, expected, "{label}");
        let q = Question {
            html: String::new(),
            kind: QuestionKind::Predict {
                read: label.clone(),
                prediction: Some(p.clone()),
            },
            explain: None,
        };
        let posed = q.pose(None).unwrap();
        assert!(!posed.multiple && posed.is_right(&[p.answer]));
        assert!(posed.why.as_deref().unwrap().contains(label.as_str()));
        for i in 0..p.options.len() {
            assert_eq!(posed.is_right(&[i]), i == p.answer);
        }
        // Asked before the read returned, it is refused.
        let early = e
            .trace()
            .iter()
            .position(|ev| ev.time >= ret_time)
            .and_then(|s| s.checked_sub(1));
        assert!(Prediction::of(&h.0, &h.1, label, true, early).is_err());
    }
}

/// Random labelled reads and writes (keys `x`, `y`, values 0–3) on lesson runs, with
/// faults.
fn client_ops(max: usize) -> impl Strategy<Value = Vec<(Time, bool, usize, usize, bool, u8)>> {
    prop::collection::vec(
        (
            0u64..900,
            any::<bool>(),
            any::<usize>(),
            any::<usize>(),
            any::<bool>(),
            0u8..4,
        ),
        1..=max,
    )
}

fn pick_step<M: crate::common::runs::StepRuns>(
    pick: usize,
) -> (M::Scenario, Vec<Intervention<M::Node>>) {
    let steps = M::steps();
    let (s, ivs, _, _) = &steps[pick % steps.len()];
    (s.clone(), ivs.clone())
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn replication_predictions_are_the_runs(pick in any::<usize>(), ops in client_ops(8), raw in crate::common::runs::faults(2, 900)) {
        let (s, mut ivs) = pick_step::<Replication>(pick);
        let servers = s.server_count();
        let clients = s.names().len() - servers;
        let mut reads = Vec::new();
        for (i, (at, write, c, r, k, v)) in ops.iter().enumerate() {
            let key = if *k { "x" } else { "y" };
            let mut iv = if *write {
                replication::write(*at, servers + c % clients, key, &v.to_string())
            } else {
                replication::read(*at, servers + c % clients, r % servers, key)
            };
            let label = format!("op-{i}");
            if let Action::Request { label: l, .. } = &mut iv.action {
                *l = Some(label.clone());
            }
            if !*write {
                reads.push((label, key.to_string()));
            }
            ivs.push(iv);
        }
        let e = crate::common::runs::run_with_faults::<Replication>(&s, &ivs, &raw);
        let h = history::replication(&e, e.trace().len().checked_sub(1));
        predictions_match(
            &e,
            &h,
            &reads,
            |r| match r {
                replication::Response::Value { value, .. } => Some(value.clone()),
                _ => None,
            },
            |q| match q {
                replication::Request::Write { key, value } => Some((key.clone(), value.clone())),
                _ => None,
            },
        );
    }

    #[test]
    fn raft_predictions_are_the_runs(pick in any::<usize>(), ops in client_ops(6), raw in crate::common::runs::faults(2, 900)) {
        let (s, mut ivs) = pick_step::<Raft>(pick);
        prop_assume!(!s.clients.is_empty());
        let servers = s.servers.len();
        let mut reads = Vec::new();
        for (i, (at, write, c, _, k, v)) in ops.iter().enumerate() {
            let key = if *k { "x" } else { "y" };
            let label = format!("op-{i}");
            let request = if *write {
                raft::Request::Put { key: key.into(), value: v.to_string() }
            } else {
                reads.push((label.clone(), key.to_string()));
                raft::Request::Get { key: key.into() }
            };
            ivs.push(Intervention::new(*at, Action::Request {
                client: servers + c % s.clients.len(),
                request,
                label: Some(label),
            }));
        }
        let e = crate::common::runs::run_with_faults::<Raft>(&s, &ivs, &raw);
        let h = history::raft(&e, e.trace().len().checked_sub(1));
        predictions_match(
            &e,
            &h,
            &reads,
            |r: &raft::Response| Some(r.value.clone()),
            |q| match q {
                raft::Request::Put { key, value } => Some((key.clone(), value.clone())),
                _ => None,
            },
        );
    }

    #[test]
    fn quorum_predictions_are_the_runs(pick in any::<usize>(), ops in client_ops(8), raw in crate::common::runs::faults(2, 900)) {
        let (s, mut ivs) = pick_step::<Quorum>(pick);
        let replicas = s.replicas.len();
        let mut reads = Vec::new();
        for (i, (at, write, c, _, k, v)) in ops.iter().enumerate() {
            let key = if *k { "x" } else { "y" };
            let client = replicas + c % s.clients.len();
            let label = format!("op-{i}");
            let iv = if *write {
                quorum::write(*at, client, key, &v.to_string())
            } else {
                reads.push((label.clone(), key.to_string()));
                quorum::read(*at, client, key)
            };
            ivs.push(quorum::labelled(iv, &label));
        }
        let e = crate::common::runs::run_with_faults::<Quorum>(&s, &ivs, &raw);
        let h = history::quorum(&e, e.trace().len().checked_sub(1));
        predictions_match(
            &e,
            &h,
            &reads,
            |r: &quorum::Response| (r.outcome == quorum::Outcome::Ok).then(|| r.value.clone()),
            |q| match q {
                quorum::Request::Write { key, value } => Some((key.clone(), value.clone())),
                _ => None,
            },
        );
    }
}

/// A replication lesson asking for Bob's read: the file's predict question becomes a
/// multiple choice on the step's run, through the same `Posed` as any choice.
fn predict_lesson(question: &str, until: &str) -> String {
    format!(
        r#"id = "predict"
title = "Predict"
summary = "P."
model = "replication"

[scenario]
leader = {{ name = "leader" }}
followers = [{{ name = "near" }}, {{ name = "far" }}]
clients = [{{ name = "alice" }}, {{ name = "bob" }}]
links = [{{ a = "leader", b = "far", ms = 100 }}]
actions = [
  {{ at = 10, action = "write", client = "alice", key = "k", value = "one", label = "w1" }},
  {{ at = 200, action = "write", client = "alice", key = "k", value = "two", label = "w2" }},
  {{ at = 230, action = "read", client = "bob", replica = "far", key = "k", label = "bob-read" }},
  {{ at = 240, action = "read", client = "bob", replica = "far", key = "other", label = "bob-other" }},
  {{ at = 900, action = "write", client = "alice", key = "k", value = "three", label = "w3" }},
]

[[step]]
title = "One"
text = "Text."
until = {until}
question = {question}
"#
    )
}

#[test]
fn a_predict_question_is_answered_from_the_run() {
    let text = predict_lesson(
        r#"{ ask = "What does **Bob's** read return?", predict = "bob-read" }"#,
        r#"{ returned = "bob-read" }"#,
    );
    let l = Lesson::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let r = l.resolve().unwrap();
    let q = r.steps[0].question.as_ref().unwrap();
    assert!(q.html.contains("<strong>Bob's</strong>"));
    let posed = q.pose(None).unwrap();
    // "three" is written after the read returned: not an option.
    assert_eq!(posed.options, vec![NONE, "one", "two"]);
    assert_eq!(posed.correct, vec![1], "far has only \"one\" at 230 ms");
    assert!(!posed.multiple);
    let why = posed.why.unwrap();
    assert!(why.contains("“one”") && why.contains("“two”"), "{why}");
    // Asked at the end, the read is the same and so is its answer; "three" is still not
    // an option (it was written after the read returned).
    let text = predict_lesson(r#"{ ask = "And now?", predict = "bob-read" }"#, r#""end""#);
    let r = Lesson::parse(&text).unwrap().resolve().unwrap();
    let posed = r.steps[0].question.as_ref().unwrap().pose(None).unwrap();
    assert_eq!(posed.options, vec![NONE, "one", "two"]);
    assert_eq!(posed.correct, vec![1]);
    // The resolved lesson (what the app ships) keeps the answer through JSON.
    let json = serde_json::to_string(&r).unwrap();
    let back: distlab_sim::lesson::ResolvedLesson = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    // Unresolved, it cannot be posed (the app never sees one).
    let unresolved = Question {
        html: String::new(),
        kind: QuestionKind::Predict {
            read: "bob-read".into(),
            prediction: None,
        },
        explain: None,
    };
    assert!(unresolved.pose(None).is_err());
}

#[test]
fn bad_predict_questions_are_rejected_with_their_line() {
    for (q, until, says) in [
        (
            r#"{ ask = "?", predict = "carol-read" }"#,
            r#""end""#,
            "no operation is labelled \"carol-read\"",
        ),
        (
            r#"{ ask = "?", predict = "w2" }"#,
            r#""end""#,
            "\"w2\" is not a read",
        ),
        (
            r#"{ ask = "?", predict = "bob-read" }"#,
            r#"{ returned = "w2" }"#,
            "has not returned by the step's cursor",
        ),
        (
            r#"{ ask = "?", predict = "bob-read" }"#,
            r#""start""#,
            "has not returned by the step's cursor",
        ),
        (
            r#"{ ask = "?", predict = "bob-read", options = ["a", "b"], answer = "a" }"#,
            r#""end""#,
            "exactly one of",
        ),
        (r#"{ ask = "?", predict = "" }"#, r#""end""#, "names a read"),
        (
            r#"{ ask = "?", predict = "bob-other" }"#,
            r#""end""#,
            "the only possible answer is (none)",
        ),
    ] {
        let text = predict_lesson(q, until);
        let e = Lesson::parse(&text).unwrap_err();
        let line = text
            .lines()
            .position(|l| l.starts_with("question ="))
            .unwrap()
            + 1;
        assert_eq!(e.line, line, "{q}: {}", e.message);
        assert!(e.message.contains(says), "{q}: {}", e.message);
    }
    // A clocks lesson has no client reads.
    let e = Lesson::parse(&with_question(r#"{ ask = "?", predict = "m1" }"#)).unwrap_err();
    assert_eq!(e.line, 13);
    assert!(e.message.contains("no client reads"), "{}", e.message);
}

/// Raft and quorum lessons take predict questions too.
#[test]
fn raft_and_quorum_lessons_take_predict_questions() {
    let raft_text = r#"id = "p"
title = "P"
summary = "P."
model = "raft"

[scenario]
servers = ["s1", "s2", "s3"]
clients = [{ name = "c" }]
actions = [
  { at = 400, action = "write", client = "c", key = "x", value = "1", label = "put" },
  { at = 600, action = "get", client = "c", key = "x", label = "get" },
]

[[step]]
title = "One"
text = "T."
until = { returned = "get" }
question = { ask = "?", predict = "get" }
"#;
    let r = Lesson::parse(raft_text)
        .unwrap_or_else(|e| panic!("{e}"))
        .resolve()
        .unwrap();
    let p = r.steps[0].question.as_ref().unwrap().pose(None).unwrap();
    assert_eq!(p.options, vec![NONE, "1"]);
    assert_eq!(p.correct, vec![1], "Raft reads the committed write");

    let quorum_text = r#"id = "q"
title = "Q"
summary = "Q."
model = "quorum"

[scenario]
n = 3
w = 1
r = 1
replicas = [{ name = "r1" }, { name = "r2" }, { name = "r3" }]
clients = [{ name = "c1", replica = "r1" }, { name = "c2", replica = "r3" }]
actions = [
  { at = 10, action = "write", client = "c1", key = "x", value = "a", label = "w" },
  { at = 100, action = "read", client = "c2", key = "x", label = "r" },
]

[[step]]
title = "One"
text = "T."
until = { returned = "r" }
question = { ask = "?", predict = "r" }
"#;
    let l = Lesson::parse(quorum_text).unwrap_or_else(|e| panic!("{e}"));
    let r = l.resolve().unwrap();
    let p = r.steps[0].question.as_ref().unwrap().pose(None).unwrap();
    let (s, ivs) = l.engine_run::<Quorum>(0).unwrap();
    let e = Engine::new(Quorum::setup(&s).unwrap(), ivs);
    let got = returned(&e, "r", |r: &quorum::Response| Some(r.value.clone()))
        .unwrap()
        .unwrap_or_else(|| NONE.to_string());
    assert_eq!(p.options[p.correct[0]], got);
    assert_eq!(p.options, vec![NONE, "a"]);
}
