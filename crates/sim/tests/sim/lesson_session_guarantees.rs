//! The "Read-your-writes, monotonic reads, consistent prefix" lesson: every step runs the
//! tested preset it narrates (`tests/session_guarantees.rs`), and every number and claim in
//! its narration is checked here on the step's own run.

use distlab_sim::engine::{Engine, Intervention};
use distlab_sim::lesson::question::QuestionKind;
use distlab_sim::lesson::{Goal, Lesson, Until};
use distlab_sim::models::replication::analysis::{analyze, Analysis, Guarantee};
use distlab_sim::models::replication::presets::preset;
use distlab_sim::models::replication::{read, MonotonicReads, Node, ReplicationScenario};

fn lesson() -> Lesson {
    let text = distlab_sim::lesson::BUILT_IN
        .iter()
        .find(|(f, _)| *f == "session-guarantees.toml")
        .expect("the lesson is built in")
        .1;
    Lesson::parse(text).unwrap()
}

fn step(l: &Lesson, title: &str) -> usize {
    l.steps
        .iter()
        .position(|s| s.title == title)
        .unwrap_or_else(|| panic!("no step {title}"))
}

fn sorted(ivs: &[Intervention<Node>]) -> Vec<Intervention<Node>> {
    let mut v = ivs.to_vec();
    v.sort_by_key(|iv| iv.at);
    v
}

/// The step's scenario, interventions, and the analysis of its whole run and at its cursor.
fn run(
    l: &Lesson,
    title: &str,
) -> (
    ReplicationScenario,
    Vec<Intervention<Node>>,
    Analysis,
    Analysis,
) {
    let i = step(l, title);
    let r = l.run_for_step(i).unwrap();
    let e = Engine::new(r.scenario.setup().unwrap(), r.interventions.clone());
    let cursor = l.steps[i].until.cursor(&e).unwrap();
    let whole = analyze(&e, e.trace().len().checked_sub(1));
    let at = analyze(&e, cursor);
    (r.scenario, r.interventions, whole, at)
}

fn same_as_preset(l: &Lesson, title: &str, id: &str) -> Analysis {
    let (s, ivs, whole, _) = run(l, title);
    let p = preset(id).unwrap();
    assert_eq!(s, p.scenario, "{title}: the scenario is preset {id}");
    assert_eq!(
        sorted(&ivs),
        sorted(&p.interventions),
        "{title}: the operations are preset {id}"
    );
    whole
}

fn value(a: &Analysis, label: &str) -> Option<String> {
    a.read(label).unwrap().returned.as_ref().unwrap().2.clone()
}

fn kinds(a: &Analysis) -> Vec<Guarantee> {
    a.session_violations.iter().map(|v| v.guarantee).collect()
}

#[test]
fn order_puts_it_right_after_replication_lag() {
    let all = distlab_sim::lesson::built_in();
    let ids: Vec<&str> = all.iter().map(|l| l.id.as_str()).collect();
    let i = ids.iter().position(|i| *i == "replication-lag").unwrap();
    assert_eq!(ids[i + 1], "session-guarantees");
    assert_eq!(
        lesson().title,
        "Read-your-writes, monotonic reads, consistent prefix"
    );
}

#[test]
fn the_intro_shows_nothing_yet() {
    let l = lesson();
    let (_, _, _, at) = run(&l, "A comment thread, three replicas");
    assert!(at.reads.is_empty() && at.writes.is_empty());
}

#[test]
fn read_your_writes_steps() {
    let l = lesson();
    let a = same_as_preset(
        &l,
        "Alice reloads: where is my comment?",
        "read-your-writes-anomaly",
    );
    assert_eq!(a.write("post").unwrap().invoked_at, 20);
    assert_eq!(a.write("post").unwrap().acked.unwrap().0, 310);
    let r = a.read("reload").unwrap();
    assert_eq!((r.invoked_at, r.latency_ms()), (320, Some(6)));
    assert_eq!(value(&a, "reload"), None);
    assert_eq!(kinds(&a), [Guarantee::ReadYourWrites]);
    // follower-2 has the comment at 415 ms: the time of the delivery of append #1.
    {
        let i = step(&l, "Alice reloads: where is my comment?");
        let run = l.run_for_step(i).unwrap();
        let e = Engine::new(run.scenario.setup().unwrap(), run.interventions);
        let before = analyze(&e, Until::Time(414).cursor(&e).unwrap());
        let after = analyze(&e, Until::Time(415).cursor(&e).unwrap());
        let lag = |a: &Analysis| a.lag.iter().find(|x| x.follower == 2).unwrap().entries;
        assert_eq!((lag(&before), lag(&after)), (1, 0));
    }

    let a = same_as_preset(
        &l,
        "Fix 1: read from the leader what you may have modified",
        "read-your-writes-leader",
    );
    let r = a.read("reload").unwrap();
    assert_eq!(r.replica, 2, "it still names follower-2");
    assert_eq!(r.served_by, Some(0));
    assert_eq!(r.latency_ms(), Some(290));
    assert_eq!(value(&a, "reload").as_deref(), Some("alice: nice photo!"));
    assert!(a.session_violations.is_empty());
    let leader = a.load.iter().find(|x| x.server == 0).unwrap();
    assert_eq!((leader.reads, leader.writes), (1, 1));

    let a = same_as_preset(
        &l,
        "Fix 2: remember the position of your last write",
        "read-your-writes-position",
    );
    let r = a.read("reload").unwrap();
    assert_eq!(a.write("post").unwrap().acked.unwrap().2.index, 1, "ok @1");
    assert_eq!(r.served_by, Some(2));
    assert_eq!((r.waited_ms, r.latency_ms()), (Some(92), Some(98)));
    assert_eq!(value(&a, "reload").as_deref(), Some("alice: nice photo!"));
    assert!(a.session_violations.is_empty());
    assert_eq!(
        a.load.iter().find(|x| x.server == 0).unwrap().reads,
        0,
        "the leader carries no read"
    );
}

#[test]
fn monotonic_reads_steps() {
    let l = lesson();
    let a = same_as_preset(
        &l,
        "Bob refreshes: the comment vanishes",
        "monotonic-reads-anomaly",
    );
    assert_eq!(
        value(&a, "bob-read-1").as_deref(),
        Some("alice: nice photo!")
    );
    assert_eq!(a.read("bob-read-1").unwrap().served_by, Some(1));
    assert_eq!(value(&a, "bob-read-2"), None);
    assert_eq!(a.read("bob-read-2").unwrap().served_by, Some(2));
    assert_eq!(kinds(&a), [Guarantee::MonotonicReads]);
    // The question's answer: not stale (alice's ok came at 310 ms, after 220 ms).
    assert!(a.stale_reads().next().is_none());
    let resolved = l.resolve().unwrap();
    let q = resolved.steps[step(&l, "Bob refreshes: the comment vanishes")]
        .question
        .clone()
        .unwrap();
    match q.kind {
        QuestionKind::Choice { options, answers } => {
            let right: Vec<&str> = answers.iter().map(|i| options[*i].as_str()).collect();
            assert_eq!(right, ["No"]);
        }
        other => panic!("{other:?}"),
    }

    let a = same_as_preset(
        &l,
        "Fix: always read from the same replica",
        "monotonic-reads-sticky",
    );
    for r in ["bob-read-1", "bob-read-2"] {
        assert_eq!(
            a.read(r).unwrap().served_by,
            Some(1),
            "hash(bob) → follower-1"
        );
        assert_eq!(value(&a, r).as_deref(), Some("alice: nice photo!"));
    }
    assert!(a.session_violations.is_empty());

    let a = same_as_preset(
        &l,
        "The cost: Bob's replica crashes",
        "monotonic-reads-sticky-crash",
    );
    assert!(a.reads.iter().all(|r| r.returned.is_none()), "no answer");
    assert_eq!(a.unanswered.len(), 2);
    assert!(a
        .unanswered
        .iter()
        .all(|u| u.replica == 1 && u.replica_down));
    assert!(a.session_violations.is_empty());

    let a = same_as_preset(
        &l,
        "Or: remember the position you have read",
        "monotonic-reads-position",
    );
    assert_eq!(
        a.read("bob-read-1").unwrap().returned.as_ref().unwrap().4,
        1,
        "follower-1's position 1"
    );
    let r = a.read("bob-read-2").unwrap();
    assert_eq!(r.served_by, Some(2));
    assert_eq!((r.waited_ms, r.latency_ms()), (Some(45), Some(345)));
    assert_eq!(
        value(&a, "bob-read-2").as_deref(),
        Some("alice: nice photo!")
    );
    assert!(a.session_violations.is_empty());
}

#[test]
fn consistent_prefix_steps() {
    let l = lesson();
    let a = same_as_preset(&l, "Mr. Poons and Mrs. Cake", "consistent-prefix-anomaly");
    assert_eq!(
        value(&a, "cake-reads").as_deref(),
        Some("How far into the future can you see, Mrs. Cake?")
    );
    assert_eq!(a.read("observer-answer").unwrap().served_by, Some(5));
    assert_eq!(
        value(&a, "observer-answer").as_deref(),
        Some("About ten seconds usually, Mr. Poons.")
    );
    assert_eq!(value(&a, "observer-question"), None);
    assert_eq!(kinds(&a), [Guarantee::ConsistentPrefix]);
    assert_eq!(
        a.session_violations[0].missing_write,
        a.write("question").unwrap().op
    );

    let a = same_as_preset(
        &l,
        "Fix: causally related writes on one partition",
        "consistent-prefix-same-partition",
    );
    assert!(a.session_violations.is_empty());
    assert_eq!(value(&a, "observer-answer"), None, "neither yet");
    assert_eq!(value(&a, "observer-question"), None);
    let (q, ans) = (a.write("question").unwrap(), a.write("answer").unwrap());
    assert_eq!(
        (q.acked.unwrap().2.index, ans.acked.unwrap().2.index),
        (1, 2),
        "one log: indexes 1 and 2"
    );
    let w: Vec<usize> = [0, 3]
        .iter()
        .map(|s| a.load.iter().find(|x| x.server == *s).unwrap().writes)
        .collect();
    assert_eq!(w, [2, 0], "both writes on partition 1's leader");
}

#[test]
fn the_challenge_is_met_by_a_read_in_the_window_and_not_outside_it() {
    let l = lesson();
    let i = step(&l, "Your turn: the answer without the question");
    let c = l.steps[i].challenge.clone().unwrap();
    assert_eq!(c.goal, Goal::ConsistentPrefixViolation);
    let r = l.run_for_step(i).unwrap();
    let met = |extra: Vec<Intervention<Node>>| {
        let mut ivs = r.interventions.clone();
        ivs.extend(extra);
        let e = Engine::new(r.scenario.setup().unwrap(), ivs);
        c.met(&r.scenario, &e, e.trace().len().checked_sub(1))
    };
    let observer = r.scenario.node("observer").unwrap();
    let f2 = r.scenario.node("follower-2").unwrap();
    let f1 = r.scenario.node("follower-1").unwrap();
    assert!(!met(vec![]), "the step's own run does not meet it");
    // The hint's numbers: the answer is seen at 246 ms, follower-2 has the question at 430 ms.
    let e = Engine::new(r.scenario.setup().unwrap(), r.interventions.clone());
    let a = analyze(&e, e.trace().len().checked_sub(1));
    assert_eq!(
        a.read("observer-answer")
            .unwrap()
            .returned
            .as_ref()
            .unwrap()
            .0,
        246
    );
    assert!(met(vec![read(300, observer, f2, "question")]));
    assert!(met(vec![read(420, observer, f2, "question")]));
    assert!(
        !met(vec![read(430, observer, f2, "question")]),
        "too late: follower-2 has it"
    );
    assert!(
        !met(vec![read(200, observer, f2, "question")]),
        "before seeing the answer"
    );
    assert!(
        !met(vec![read(300, observer, f1, "question")]),
        "follower-1 has the question"
    );
    // Someone else's read does not count.
    let poons = r.scenario.node("poons").unwrap();
    assert!(!met(vec![read(300, poons, f2, "question")]));
    // Sticky or position-based monotonic reads alone do not prevent it across partitions.
    let mut s = r.scenario.clone();
    s.sessions = vec![distlab_sim::models::replication::SessionSpec {
        client: "observer".into(),
        read_your_writes: Default::default(),
        monotonic_reads: MonotonicReads::WaitForPosition,
        sticky: vec![],
    }];
    let mut ivs = r.interventions.clone();
    ivs.push(read(300, observer, f2, "question"));
    let e = Engine::new(s.setup().unwrap(), ivs);
    assert!(c.met(&s, &e, e.trace().len().checked_sub(1)));
}
