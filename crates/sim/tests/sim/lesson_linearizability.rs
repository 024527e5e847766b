//! The "Linearizability" lesson: each step shows what its narration claims (values, times,
//! the checker's verdict and the operation it cannot place, ABD's extra round trips),
//! computed from the simulation; the challenge is open, and a learner's Figure 9-6 by hand
//! (partition, write, heal, two reads) solves it.

use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::lesson::{Lesson, LessonModel};
use distlab_sim::linearizability::{check, Model, ModelSpec, Outcome};
use distlab_sim::models::history;
use distlab_sim::models::quorum::analysis::{analyze, RequestOutcome};
use distlab_sim::models::quorum::{self, Consistency, Node, View};
use distlab_sim::models::Quorum;
use distlab_sim::NodeId;

const TEXT: &str = include_str!("../../../../lessons/linearizability.toml");

use crate::common::quorum_lesson::*;

fn lesson() -> Lesson {
    parse(TEXT)
}

fn sorted(mut v: Vec<NodeId>) -> Vec<NodeId> {
    v.sort_unstable();
    v
}

#[test]
fn the_lesson_is_built_in_after_isolation() {
    let l = lesson();
    assert_eq!(
        (l.id.as_str(), l.title.as_str(), l.model.as_str(), l.order),
        ("linearizability", "Linearizability", "quorum", 30)
    );
    let all = distlab_sim::lesson::built_in();
    let pos = |id: &str| all.iter().position(|l| l.id == id).unwrap();
    assert_eq!(pos("linearizability"), pos("isolation-levels") + 1);
}

#[test]
fn the_setting_x_on_r4_r1_r2_and_the_coordinators() {
    let l = lesson();
    let r = run(&l, "As if there were one copy");
    assert_eq!(r.cursor, None);
    assert_eq!(
        quorum::preference_list("x", 4, 3),
        vec![r.id("r4"), r.id("r1"), r.id("r2")]
    );
    let home = |c: &str| {
        r.scenario
            .clients
            .iter()
            .find(|x| x.name == c)
            .unwrap()
            .replica
            .clone()
    };
    assert_eq!(
        (home("writer"), home("A"), home("B")),
        ("r3".into(), "r4".into(), "r2".into())
    );
    assert_eq!((r.scenario.n, r.scenario.w, r.scenario.r), (3, 3, 2));
    // A write, then everyone has it.
    let r = run(&l, "A write, then everyone");
    let w = r.req("writer sets x=0");
    assert_eq!((w.outcome, w.return_ms), (RequestOutcome::Ok, Some(40)));
    for n in ["r4", "r1", "r2"] {
        assert_eq!(
            r.value_at(r.cursor, r.id(n), "x").as_deref(),
            Some("0"),
            "{n}"
        );
    }
    assert!(r.linearizable());
}

#[test]
fn figure_9_6_a_reads_the_new_value_then_b_the_old_one() {
    let l = lesson();
    let r = run(&l, "A reads the new value");
    let (r1, r2, r4) = (r.id("r1"), r.id("r2"), r.id("r4"));
    let w1 = r.req("writer sets x=1");
    assert_eq!(w1.outcome, RequestOutcome::Pending);
    assert_eq!(r.first_holds(r4, "x", "1"), Some(220));
    let a = r.req("A reads x");
    for n in [r1, r2] {
        assert_eq!(r.value_at(a.return_step, n, "x").as_deref(), Some("0"));
    }
    assert_eq!((a.call_ms, a.return_ms), (230, Some(270)));
    assert_eq!(a.value.as_deref(), Some("1"));
    assert_eq!(sorted(a.read_from.clone()), vec![r1, r4]);
    assert!(r.linearizable(), "A's read is concurrent with the write");

    let r = run(&l, "B reads the old value");
    let a = r.req("A reads x");
    let b = r.req("B reads x");
    assert_eq!((b.call_ms, b.return_ms), (280, Some(320)));
    assert!(
        a.return_ms.unwrap() < b.call_ms,
        "B starts after A returned"
    );
    assert_eq!(b.value.as_deref(), Some("0"));
    assert_eq!(sorted(b.read_from.clone()), vec![r1, r2]);
    let v = r.verdict();
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    let e = v.explanation.expect("an explanation");
    let h = history::quorum(&r.engine, r.cursor).0;
    assert_eq!(h.ops[e.blocked].label, "B reads x", "{}", e.text);
    assert!(r.a.stale_reads.is_empty(), "not stale in ch. 5's sense");
    assert_eq!(r.a.inversions.len(), 1);
    // The write of 1 is acknowledged only at 1,020 ms.
    let whole = run_with(r.scenario.clone(), r.ivs.clone());
    let w1 = whole.req("writer sets x=1");
    assert_eq!(
        (w1.outcome, w1.return_ms),
        (RequestOutcome::Ok, Some(1_020))
    );
    assert!(whole.a.quorum_overlap);
}

#[test]
fn abd_writes_back_so_b_reads_the_new_value() {
    let l = lesson();
    let r = run(&l, "Linearizable quorums: ABD");
    assert_eq!(r.a.consistency, Consistency::Linearizable);
    let (r1, r2, r4) = (r.id("r1"), r.id("r2"), r.id("r4"));
    assert_eq!(r.first_holds(r4, "x", "1"), Some(420));
    let a = r.req("A reads x (ABD)");
    for n in [r1, r2] {
        assert_eq!(r.value_at(Some(a.call_step), n, "x").as_deref(), Some("0"));
    }
    assert_eq!(a.value.as_deref(), Some("1"));
    // Before A's read returns, r1 has x = 1 from its write-back.
    assert!(r.first_holds(r1, "x", "1").unwrap() < a.return_ms.unwrap());
    assert!(a.stored_at.contains(&r1));
    let b = r.req("B reads x (ABD)");
    assert_eq!(b.call_ms, 500);
    assert_eq!(b.value.as_deref(), Some("1"));
    assert!(b.read_from.contains(&r1) && b.read_from.contains(&r2));
    assert!(r.linearizable());
    assert!(r.a.requests.iter().all(|q| q.outcome == RequestOutcome::Ok));
    // At 230 ms the ABD write has not stored x = 1 anywhere yet.
    for n in ["r1", "r2", "r3", "r4"] {
        let t = r.first_holds(r.id(n), "x", "1");
        assert!(t.is_none_or(|t| t > 230), "{n}: {t:?}");
    }
}

#[test]
fn what_abd_costs_in_simulated_ms() {
    let l = lesson();
    let dynamo = run(&l, "B reads the old value");
    let dynamo = run_with(dynamo.scenario.clone(), dynamo.ivs.clone());
    let abd = run(&l, "What ABD costs");
    assert_eq!(abd.a.consistency, Consistency::Linearizable);
    assert_eq!(dynamo.latency("A reads x"), 40);
    assert_eq!(dynamo.latency("B reads x"), 40);
    assert_eq!(abd.latency("A reads x (ABD)"), 60);
    assert_eq!(abd.latency("B reads x (ABD)"), 60);
    assert_eq!(dynamo.latency("writer sets x=1"), 820);
    assert_eq!(abd.latency("writer sets x=1"), 420);
    // Two round trips to a majority, r4 and r1.
    let w = abd.req("writer sets x=1");
    assert_eq!(
        sorted(w.stored_at.clone()),
        vec![abd.id("r1"), abd.id("r4")]
    );
    assert_eq!(
        sorted(w.read_from.clone()),
        vec![abd.id("r1"), abd.id("r4")]
    );
}

/// The first trace step at or after `from` whose event satisfies `f`.
fn find(e: &Engine<Node>, from: usize, f: impl Fn(&distlab_sim::Event<Node>) -> bool) -> usize {
    (from..e.trace().len())
        .find(|&s| f(&e.trace()[s]))
        .expect("an event")
}

#[test]
fn the_challenge_is_open_and_figure_9_6_by_hand_solves_it() {
    let l = lesson();
    let i = index(&l, "Your turn");
    let c = l.steps[i].challenge.clone().expect("a challenge");
    assert_eq!(c.goal_name(), "not-linearizable");
    let r = run(&l, "Your turn");
    assert_eq!(r.a.consistency, Consistency::Eventual);
    assert_eq!((r.scenario.w, r.scenario.r), (3, 2));
    let met = |e: &Engine<Node>| {
        <Quorum as LessonModel>::goal_met(&r.scenario, &c, e, e.trace().len().checked_sub(1))
            == Some(true)
    };
    assert!(!met(&r.engine), "the step's own run must not solve it");
    let whole = run_with(r.scenario.clone(), r.ivs.clone());
    assert!(whole.linearizable());
    assert_eq!(whole.req("A reads x=0").value.as_deref(), Some("0"));
    assert_eq!(whole.req("B reads x=0").value.as_deref(), Some("0"));
    // The learner, at the step's cursor (the write of 0 returned), as on the page.
    let id = |n: &str| r.id(n);
    let mut e = Engine::new(r.scenario.setup().unwrap(), r.ivs.clone());
    let now = e.trace()[r.cursor.unwrap()].time;
    let side_a: Vec<NodeId> = ["writer", "r3", "r4"].iter().map(|n| id(n)).collect();
    let rest: Vec<NodeId> = ["r1", "r2", "A", "B"].iter().map(|n| id(n)).collect();
    e.add_intervention(Intervention::new(
        now,
        Action::Partition {
            groups: vec![side_a, rest],
        },
    ));
    e.add_intervention(Intervention::new(
        now,
        Action::Request {
            client: id("writer"),
            request: quorum::Request::Write {
                key: "x".into(),
                value: format!("v@{now}"),
            },
            label: None,
        },
    ));
    // Step forward until r4 has stored it; Heal, and Read from A.
    let stored = (0..e.trace().len())
        .find(|&s| match &e.views_at(Some(s))[id("r4")] {
            View::Replica { data, .. } => data.get("x").is_some_and(|x| x.value != "0"),
            _ => false,
        })
        .expect("r4 stores the new value");
    let t = e.trace()[stored].time;
    e.add_intervention(Intervention::new(t, Action::Heal));
    e.add_intervention(Intervention::new(
        t,
        Action::Request {
            client: id("A"),
            request: quorum::Request::Read { key: "x".into() },
            label: None,
        },
    ));
    // Once A's read has returned, step once more and Read from B.
    let a_ret = find(&e, stored, |ev| {
        ev.node == Some(id("A")) && !ev.returned.is_empty()
    });
    let after = find(&e, a_ret, |ev| ev.time > e.trace()[a_ret].time);
    let t = e.trace()[after].time;
    e.add_intervention(Intervention::new(
        t,
        Action::Request {
            client: id("B"),
            request: quorum::Request::Read { key: "x".into() },
            label: None,
        },
    ));
    assert!(met(&e));
    let a = analyze(&e, e.trace().len().checked_sub(1));
    let reads: Vec<_> = a
        .requests
        .iter()
        .filter(|q| q.kind == quorum::Kind::Read && q.label.is_none())
        .collect();
    assert_eq!(reads.len(), 2);
    assert_eq!(
        reads[0].value,
        Some(format!("v@{now}")),
        "A sees the new value"
    );
    assert_eq!(reads[1].value.as_deref(), Some("0"), "B the old one");
    assert!(reads[0].return_ms.unwrap() < reads[1].call_ms);
    // The learner's operations alone, without the step's own reads, are not linearizable.
    let mine: distlab_sim::linearizability::History = {
        let mut h = history::quorum(&e, e.trace().len().checked_sub(1)).0;
        h.ops
            .retain(|o| !o.label.ends_with("x=0") || o.label.starts_with("writer"));
        for (k, o) in h.ops.iter_mut().enumerate() {
            o.id = k;
        }
        h
    };
    assert_eq!(mine.ops.len(), 4, "{:?}", mine.ops);
    assert_eq!(
        check(&mine, &ModelSpec::new(Model::Kv), Some(5_000_000)).outcome,
        Outcome::NotLinearizable
    );
}
