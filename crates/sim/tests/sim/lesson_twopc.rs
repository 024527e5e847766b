//! The "Two-phase commit and why it blocks" lesson: each step shows what its narration
//! claims, computed from the simulation (not from the text); the challenges are open and
//! the learner's intended moves solve them (and mistimed ones do not); bad lesson input is
//! an error naming its line.

use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::lesson::{Goal, Lesson};
use distlab_sim::models::twopc::analysis::{analyze, Analysis};
use distlab_sim::models::twopc::monitor::Property;
use distlab_sim::models::twopc::{CoordRecord, Msg, Node, PRecord, PState, TwoPcScenario, View};
use distlab_sim::models::{EngineModel, TwoPc};
use distlab_sim::{EventKind, Time};

const TEXT: &str = include_str!("../../../../lessons/two-phase-commit.toml");

fn lesson() -> Lesson {
    Lesson::parse(TEXT).unwrap_or_else(|e| panic!("{e}"))
}

const COORD: usize = 0;
const SHARD_A: usize = 1;
const SHARD_B: usize = 2;

fn index(l: &Lesson, title: &str) -> usize {
    l.steps
        .iter()
        .position(|s| s.title == title)
        .unwrap_or_else(|| panic!("no step \"{title}\""))
}

/// A step's run, its cursor, the analysis at the cursor and over the whole run.
struct Run {
    scenario: TwoPcScenario,
    ivs: Vec<Intervention<Node>>,
    engine: Engine<Node>,
    cursor: Option<usize>,
    at_cursor: Analysis,
    whole: Analysis,
}

fn run_with(scenario: TwoPcScenario, ivs: Vec<Intervention<Node>>) -> Run {
    let engine = Engine::new(TwoPc::setup(&scenario).unwrap(), ivs.clone());
    let whole = analyze(&engine, engine.trace().len().checked_sub(1));
    Run {
        scenario,
        ivs,
        cursor: engine.trace().len().checked_sub(1),
        at_cursor: whole.clone(),
        whole,
        engine,
    }
}

fn run(l: &Lesson, title: &str) -> Run {
    let i = index(l, title);
    let (s, ivs) = l.engine_run::<TwoPc>(i).unwrap();
    let mut r = run_with(s, ivs);
    r.cursor = l.steps[i].until.cursor(&r.engine).unwrap();
    r.at_cursor = analyze(&r.engine, r.cursor);
    r
}

/// The same run with `extra` interventions added (a learner's moves).
fn with(r: &Run, extra: Vec<Intervention<Node>>) -> Run {
    let mut ivs = r.ivs.clone();
    ivs.extend(extra);
    run_with(r.scenario.clone(), ivs)
}

/// Times at which `node` sent a message satisfying `f` (to anyone), with the receiver.
fn sends(e: &Engine<Node>, node: usize, f: impl Fn(&Msg) -> bool) -> Vec<(Time, usize)> {
    e.trace()
        .iter()
        .filter(|ev| ev.node == Some(node))
        .flat_map(|ev| {
            ev.sent
                .iter()
                .filter(|m| f(&m.payload))
                .map(|m| (ev.time, m.to))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Times at which a message satisfying `f` addressed to `node` was dropped.
fn drops(e: &Engine<Node>, node: usize, f: impl Fn(&Msg) -> bool) -> Vec<Time> {
    e.trace()
        .iter()
        .filter(|ev| ev.node == Some(node))
        .filter_map(|ev| match &ev.kind {
            EventKind::Drop { payload, .. } if f(payload) => Some(ev.time),
            _ => None,
        })
        .collect()
}

/// The first time a note of `node` contains `text`.
fn noted(e: &Engine<Node>, node: usize, text: &str) -> Option<Time> {
    e.trace()
        .iter()
        .find(|ev| ev.node == Some(node) && ev.notes.iter().any(|n| n.contains(text)))
        .map(|ev| ev.time)
}

fn view_at(e: &Engine<Node>, step: Option<usize>, node: usize) -> View {
    e.views_at(step)[node].clone()
}

/// The last step at or before `t`.
fn step_at(e: &Engine<Node>, t: Time) -> Option<usize> {
    e.trace().iter().rposition(|ev| ev.time <= t)
}

/// Participant `p`'s state in `txn`, its data, locks and waiting lines at `step`.
fn participant(
    e: &Engine<Node>,
    step: Option<usize>,
    p: usize,
) -> (
    std::collections::BTreeMap<String, PState>,
    std::collections::BTreeMap<String, i64>,
    std::collections::BTreeMap<String, String>,
    std::collections::BTreeMap<String, Vec<String>>,
) {
    match view_at(e, step, p) {
        View::Participant {
            txns,
            data,
            locks,
            waiting,
            ..
        } => (
            txns.into_iter().map(|(k, t)| (k, t.state)).collect(),
            data,
            locks,
            waiting,
        ),
        other => panic!("node {p} is not a participant: {other:?}"),
    }
}

fn coord_log(e: &Engine<Node>, step: Option<usize>) -> Vec<CoordRecord> {
    match view_at(e, step, COORD) {
        View::Coordinator { log, .. } => log,
        other => panic!("not the coordinator: {other:?}"),
    }
}

fn outcome(a: &Analysis, txn: &str, p: usize) -> (Option<bool>, Option<Time>) {
    let t = a.txn(txn).unwrap_or_else(|| panic!("no {txn}"));
    let o = t.outcomes.iter().find(|o| o.participant == p).unwrap();
    (o.committed, o.time)
}

fn decision(a: &Analysis, txn: &str) -> Option<(bool, Time)> {
    a.txn(txn)?.decision.as_ref().map(|d| (d.commit, d.time))
}

/// The in-doubt periods of `p` about `txn`: (from, until).
fn doubt(a: &Analysis, p: usize, txn: &str) -> Vec<(Time, Option<Time>)> {
    a.in_doubt
        .iter()
        .filter(|d| d.participant == p && d.txn == txn)
        .map(|d| (d.from_ms, d.until_ms))
        .collect()
}

/// Lock holds of `key` at `p`: (holder, acquired, released).
fn holds(a: &Analysis, p: usize, key: &str) -> Vec<(String, Time, Option<Time>)> {
    a.locks
        .iter()
        .filter(|l| l.participant == p && l.key == key)
        .map(|l| (l.txn.clone(), l.acquired_ms, l.released_ms))
        .collect()
}

fn crash(at: Time, node: usize) -> Intervention<Node> {
    Intervention::new(at, Action::Crash { node })
}

#[test]
fn the_lesson_parses_resolves_and_comes_after_paxos() {
    let l = lesson();
    assert_eq!(
        (l.id.as_str(), l.model.as_str(), l.order),
        ("two-phase-commit", "twopc", 75)
    );
    let paxos = distlab_sim::lesson::built_in()
        .into_iter()
        .find(|x| x.id == "paxos")
        .unwrap();
    assert!(l.order > paxos.order);
    let r = l.resolve().unwrap();
    for (i, s) in r.steps.iter().enumerate() {
        let (scenario, ivs) = l.engine_run::<TwoPc>(i).unwrap();
        assert_eq!(s.twopc(), Some((&scenario, &ivs[..])));
        assert!(s.paxos().is_none() && s.replication().is_none());
    }
    assert!(l.steps.iter().filter(|s| s.question.is_some()).count() >= 3);
    let goals: Vec<Goal> = l
        .steps
        .iter()
        .filter_map(|s| s.challenge.as_ref().map(|c| c.goal))
        .collect();
    assert_eq!(
        goals,
        vec![Goal::ParticipantInDoubt, Goal::AtomicityViolated]
    );
    assert_eq!(Goal::ParticipantInDoubt.name(), "participant-in-doubt");
    assert_eq!(Goal::AtomicityViolated.name(), "atomicity-violated");
    assert!(
        Goal::ParticipantInDoubt.applies_to("twopc")
            && !Goal::ParticipantInDoubt.applies_to("paxos")
    );
    assert!(
        Goal::AtomicityViolated.applies_to("twopc") && !Goal::AtomicityViolated.applies_to("raft")
    );
}

#[test]
fn step_1_writes_take_locks_and_nothing_is_committed_yet() {
    let l = lesson();
    let r = run(&l, "One transfer, two shards");
    let e = &r.engine;
    // Writes arrive and are done at 10 ms; the coordinator has both answers at 20 ms.
    let done = sends(e, SHARD_A, |m| matches!(m, Msg::Done { ok: true, .. }));
    assert_eq!(done, vec![(10, COORD)]);
    assert_eq!(
        sends(e, SHARD_B, |m| matches!(m, Msg::Done { ok: true, .. })),
        vec![(10, COORD)]
    );
    assert_eq!(e.trace()[r.cursor.unwrap()].time, 20);
    for (p, key, committed, tentative) in [(SHARD_A, "alice", 500, 400), (SHARD_B, "bob", 100, 200)]
    {
        let (txns, data, locks, _) = participant(e, r.cursor, p);
        assert_eq!(txns.get("T1"), Some(&PState::Working));
        assert_eq!(data.get(key), Some(&committed), "nothing committed yet");
        assert_eq!(locks.get(key).map(String::as_str), Some("T1"));
        let Node::Participant(node) = &e.world_at(r.cursor).unwrap().nodes[p] else {
            panic!()
        };
        assert_eq!(node.value_for(key, "T1"), tentative);
    }
    assert!(r
        .at_cursor
        .transactions
        .iter()
        .all(|t| t.decision.is_none() && t.outcomes.iter().all(|o| o.committed.is_none())));
}

#[test]
fn step_2_prepare_vote_commit_point_commit_acks_end() {
    let l = lesson();
    let r = run(&l, "The happy path: prepare, vote, commit");
    let (e, a) = (&r.engine, &r.whole);
    assert_eq!(
        sends(e, COORD, |m| matches!(m, Msg::Prepare { .. })),
        vec![(20, SHARD_A), (20, SHARD_B)]
    );
    for p in [SHARD_A, SHARD_B] {
        assert_eq!(
            sends(e, p, |m| matches!(m, Msg::Vote { yes: true, .. })),
            vec![(30, COORD)]
        );
        assert_eq!(outcome(a, "T1", p), (Some(true), Some(50)));
        assert_eq!(doubt(a, p, "T1"), vec![(30, Some(50))], "in doubt 20 ms");
        let log = match view_at(e, r.cursor, p) {
            View::Participant { log, .. } => log,
            _ => unreachable!(),
        };
        assert!(matches!(&log[0], PRecord::Prepared { at_ms: 30, .. }));
        assert_eq!(
            sends(e, p, |m| matches!(m, Msg::Ack { .. })),
            vec![(50, COORD)]
        );
    }
    // The commit point: COMMIT forced at 40 ms, then commit sent; END at 60 ms.
    assert_eq!(decision(a, "T1"), Some((true, 40)));
    let log = coord_log(e, r.cursor);
    assert!(
        matches!(
            &log[..],
            [
                CoordRecord::Commit { at_ms: 40, .. },
                CoordRecord::End { at_ms: 60, .. }
            ]
        ),
        "{log:?}"
    );
    assert_eq!(
        sends(e, COORD, |m| matches!(m, Msg::Commit { .. })),
        vec![(40, SHARD_A), (40, SHARD_B)]
    );
    // Each lock held 40 ms (10 → 50); Alice 400, Bob 200.
    assert_eq!(
        holds(a, SHARD_A, "alice"),
        vec![("T1".into(), 10, Some(50))]
    );
    assert_eq!(holds(a, SHARD_B, "bob"), vec![("T1".into(), 10, Some(50))]);
    assert_eq!(participant(e, r.cursor, SHARD_A).1.get("alice"), Some(&400));
    assert_eq!(participant(e, r.cursor, SHARD_B).1.get("bob"), Some(&200));
    assert!(a.violations.is_empty() && a.blocked.is_empty());
}

#[test]
fn step_3_one_no_aborts_everywhere() {
    let l = lesson();
    let r = run(&l, "One shard votes no");
    let (e, a) = (&r.engine, &r.whole);
    assert!(r.scenario.no_overdraft);
    assert_eq!(r.scenario.participants[0].data.get("alice"), Some(&50));
    // shard-a votes no at 30 ms and aborts at once, releasing its lock.
    assert_eq!(
        sends(e, SHARD_A, |m| matches!(m, Msg::Vote { yes: false, .. })),
        vec![(30, COORD)]
    );
    assert_eq!(outcome(a, "T1", SHARD_A), (Some(false), Some(30)));
    assert_eq!(
        holds(a, SHARD_A, "alice"),
        vec![("T1".into(), 10, Some(30))]
    );
    // The coordinator decides abort at 40 ms on the no — before handling shard-b's yes.
    assert_eq!(decision(a, "T1"), Some((false, 40)));
    let decided = a.txn("T1").unwrap().decision.as_ref().unwrap().step;
    let yes_b = e
        .trace()
        .iter()
        .position(|ev| ev.node == Some(COORD) && matches!(&ev.kind, EventKind::Deliver { payload: Msg::Vote { yes: true, .. }, from, .. } if *from == SHARD_B))
        .unwrap();
    assert!(decided < yes_b, "one no is enough");
    assert!(matches!(
        &coord_log(e, r.cursor)[..],
        [CoordRecord::Abort { at_ms: 40, .. }]
    ));
    // abort goes to shard-b (in doubt since 30 ms), which undoes bob +100 at 50 ms.
    assert_eq!(
        sends(e, COORD, |m| matches!(m, Msg::Abort { .. })),
        vec![(40, SHARD_B)]
    );
    assert_eq!(doubt(a, SHARD_B, "T1"), vec![(30, Some(50))]);
    assert_eq!(outcome(a, "T1", SHARD_B), (Some(false), Some(50)));
    assert_eq!(holds(a, SHARD_B, "bob"), vec![("T1".into(), 10, Some(50))]);
    assert_eq!(participant(e, r.cursor, SHARD_A).1.get("alice"), Some(&50));
    assert_eq!(participant(e, r.cursor, SHARD_B).1.get("bob"), Some(&100));
    // Presumed abort: no acks, no END.
    assert!(sends(e, SHARD_B, |m| matches!(m, Msg::Ack { .. })).is_empty());
    assert!(!coord_log(e, r.cursor)
        .iter()
        .any(|r| matches!(r, CoordRecord::End { .. })));
    assert!(a.violations.is_empty());
}

#[test]
fn step_4_coordinator_crash_leaves_shard_b_in_doubt_and_t2_waiting() {
    let l = lesson();
    let r = run(&l, "The coordinator crashes after the commit point");
    let (e, a) = (&r.engine, &r.whole);
    assert!(!r.scenario.no_overdraft);
    // COMMIT at 40 ms, then the crash.
    assert_eq!(decision(a, "T1"), Some((true, 40)));
    let crash_t = e
        .trace()
        .iter()
        .find(|ev| ev.node == Some(COORD) && matches!(ev.kind, EventKind::Crash))
        .unwrap()
        .time;
    assert_eq!(crash_t, 40);
    // shard-a commits at 50 ms; the commit to shard-b is lost.
    assert_eq!(outcome(a, "T1", SHARD_A), (Some(true), Some(50)));
    assert_eq!(
        drops(e, SHARD_B, |m| matches!(m, Msg::Commit { .. })),
        vec![50]
    );
    // shard-b asks every 100 ms, in vain while the coordinator is down.
    let asks: Vec<Time> = sends(e, SHARD_B, |m| matches!(m, Msg::DecisionReq { .. }))
        .into_iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(&asks[..2], &[130, 230]);
    assert_eq!(
        drops(e, COORD, |m| matches!(m, Msg::DecisionReq { .. })),
        vec![140, 240]
    );
    // T2: begun at 25 ms, at shard-b at 35 ms, waiting in line for bob behind in-doubt T1.
    assert_eq!(a.txn("T2").unwrap().started_ms, Some(25));
    let mid = step_at(e, 200);
    let (txns, _, locks, waiting) = participant(e, mid, SHARD_B);
    assert_eq!(txns.get("T1"), Some(&PState::Prepared));
    assert_eq!(txns.get("T2"), Some(&PState::Waiting));
    assert_eq!(locks.get("bob").map(String::as_str), Some("T1"));
    assert_eq!(waiting.get("bob"), Some(&vec!["T2".to_string()]));
    // The coordinator restarts at 300 ms and re-sends commit; shard-b commits at 310 ms.
    assert!(sends(e, COORD, |m| matches!(m, Msg::Commit { .. })).contains(&(300, SHARD_B)));
    assert_eq!(noted(e, COORD, "recovers COMMIT T1"), Some(300));
    assert_eq!(outcome(a, "T1", SHARD_B), (Some(true), Some(310)));
    assert_eq!(
        doubt(a, SHARD_B, "T1"),
        vec![(30, Some(310))],
        "280 ms in doubt"
    );
    // The lock: held 300 ms by T1; T2 waited 275 ms and then got it.
    let bob = a
        .locks
        .iter()
        .find(|h| h.participant == SHARD_B && h.key == "bob" && h.txn == "T1")
        .unwrap();
    assert_eq!((bob.acquired_ms, bob.released_ms), (10, Some(310)));
    assert_eq!(bob.waiters.len(), 1);
    assert_eq!(
        (
            bob.waiters[0].txn.as_str(),
            bob.waiters[0].from_ms,
            bob.waiters[0].got_ms
        ),
        ("T2", 35, Some(310))
    );
    assert_eq!(a.blocked.len(), 1);
    let b = &a.blocked[0];
    assert_eq!(
        (b.txn.as_str(), b.holder.as_str(), b.waited_ms),
        ("T2", "T1", 275)
    );
    // T2 never gets a prepare; shard-b aborts it at 335 ms.
    assert!(sends(
        e,
        COORD,
        |m| matches!(m, Msg::Prepare { txn, .. } if txn == "T2")
    )
    .is_empty());
    assert_eq!(outcome(a, "T2", SHARD_B), (Some(false), Some(335)));
    assert!(a.violations.is_empty());
    // The question: keeping the lock is the only safe choice — committing or aborting
    // would each contradict some possible decision: here commit (abort would break
    // atomicity, as step 6 shows), and with the crash before the decision, abort.
}

#[test]
fn step_5_a_recovered_participant_is_in_doubt_again_and_asks() {
    let l = lesson();
    let r = run(&l, "A participant crashes after voting yes");
    let (e, a) = (&r.engine, &r.whole);
    assert!(r.ivs.len() == 2, "the earlier steps' actions are cleared");
    assert_eq!(decision(a, "T1"), Some((true, 40)));
    assert_eq!(outcome(a, "T1", SHARD_A), (Some(true), Some(50)));
    // commit sent at 40 and re-sent at 140: both find shard-b down.
    let to_b: Vec<Time> = sends(e, COORD, |m| matches!(m, Msg::Commit { .. }))
        .into_iter()
        .filter(|x| x.1 == SHARD_B)
        .map(|x| x.0)
        .collect();
    assert_eq!(&to_b[..2], &[40, 140]);
    assert_eq!(
        drops(e, SHARD_B, |m| matches!(m, Msg::Commit { .. })),
        vec![50, 150]
    );
    // Restart at 200 ms: PREPARED in the log → in doubt again, the lock on bob taken again,
    // decision? asked at once.
    let restart = e
        .trace()
        .iter()
        .position(|ev| ev.node == Some(SHARD_B) && matches!(ev.kind, EventKind::Restart))
        .unwrap();
    assert_eq!(e.trace()[restart].time, 200);
    let (txns, _, locks, _) = participant(e, Some(restart), SHARD_B);
    assert_eq!(txns.get("T1"), Some(&PState::Prepared));
    assert_eq!(locks.get("bob").map(String::as_str), Some("T1"));
    // Its write re-applied tentatively from the PREPARED record: bob would be 200.
    let Node::Participant(b) = &e.world_at(Some(restart)).unwrap().nodes[SHARD_B] else {
        panic!()
    };
    assert_eq!(
        (b.data.get("bob"), b.value_for("bob", "T1")),
        (Some(&100), 200)
    );
    assert!(e.trace()[restart]
        .sent
        .iter()
        .any(|m| m.to == COORD && matches!(m.payload, Msg::DecisionReq { .. })));
    assert_eq!(outcome(a, "T1", SHARD_B), (Some(true), Some(220)));
    assert_eq!(doubt(a, SHARD_B, "T1"), vec![(30, Some(220))]);
    assert!(a.violations.is_empty());
}

#[test]
fn step_6_deciding_on_a_timeout_breaks_atomicity_and_the_monitor_says_so() {
    let l = lesson();
    let r = run(&l, "Why not decide on a timeout?");
    let (e, a) = (&r.engine, &r.whole);
    assert_eq!(outcome(a, "T1", SHARD_A), (Some(true), Some(50)));
    assert_eq!(outcome(a, "T1", SHARD_B), (Some(false), Some(330)));
    assert_eq!(noted(e, SHARD_B, "gives up"), Some(330));
    let v = a
        .violations
        .iter()
        .find(|v| v.property == Property::AtomicOutcome)
        .expect("atomic outcome fails");
    assert_eq!((v.time, v.txn.as_str()), (330, "T1"));
    // The coordinator's re-sent commit at 400 ms comes too late.
    assert!(sends(e, COORD, |m| matches!(m, Msg::Commit { .. })).contains(&(400, SHARD_B)));
    assert_eq!(noted(e, SHARD_B, "which it has aborted"), Some(410));
    let end = r.cursor;
    assert_eq!(participant(e, end, SHARD_A).1.get("alice"), Some(&400));
    assert_eq!(
        participant(e, end, SHARD_B).1.get("bob"),
        Some(&100),
        "100 vanished"
    );
    // Correct 2PC on the same faults keeps waiting instead: no violation.
    let mut s = r.scenario.clone();
    s.broken.clear();
    let ok = run_with(s, r.ivs.clone());
    assert!(ok.whole.violations.is_empty());
    assert_eq!(outcome(&ok.whole, "T1", SHARD_B).0, Some(true));
}

#[test]
fn step_7_the_challenge_is_open_and_crashing_the_coordinator_in_the_window_solves_it() {
    let l = lesson();
    let i = index(&l, "Your turn: leave a participant in doubt");
    let c = l.steps[i].challenge.clone().unwrap();
    let r = run(&l, "Your turn: leave a participant in doubt");
    assert!(r.scenario.broken.is_empty() && r.ivs.is_empty());
    assert!(
        !c.met_by_twopc(&r.whole),
        "the step's own run does not meet it"
    );
    assert_eq!(decision(&r.whole, "T1"), Some((true, 40)));
    // The window: after prepare is sent (20 ms), before the decision (40 ms).
    let prepare_sent = sends(&r.engine, COORD, |m| matches!(m, Msg::Prepare { .. }))[0].0;
    assert_eq!(prepare_sent, 20);
    for t in 0..=60 {
        let x = with(&r, vec![crash(t, COORD)]);
        let met = c.met_by_twopc(&x.whole);
        assert_eq!(met, (prepare_sent..40).contains(&t), "crash at {t}");
        if t < prepare_sent {
            // Too early: they never vote, and abort on their own.
            for p in [SHARD_A, SHARD_B] {
                assert_eq!(outcome(&x.whole, "T1", p).0, Some(false), "crash at {t}");
                assert!(doubt(&x.whole, p, "T1").is_empty());
            }
        }
    }
    // The hint's move: the event at 30 ms where a shard receives prepare.
    let x = with(&r, vec![crash(30, COORD)]);
    assert_eq!(x.whole.still_in_doubt, 2);
    // Restarting the coordinator resolves it (presumed abort): no longer met.
    let y = with(
        &r,
        vec![
            crash(30, COORD),
            Intervention::new(200, Action::Restart { node: COORD }),
        ],
    );
    assert!(!c.met_by_twopc(&y.whole));
    assert_eq!(decision(&y.whole, "T1").map(|d| d.0), Some(false));
    assert!(y.whole.violations.is_empty());
    // And the lesson's own check agrees.
    use distlab_sim::lesson::LessonModel;
    assert_eq!(
        TwoPc::goal_met(
            &x.scenario,
            &c,
            &x.engine,
            x.engine.trace().len().checked_sub(1)
        ),
        Some(true)
    );
}

#[test]
fn step_8_three_phase_commit_survives_the_coordinator_crash() {
    let l = lesson();
    let r = run(&l, "Three-phase commit");
    let (e, a) = (&r.engine, &r.whole);
    assert_eq!(r.scenario.protocol.name(), "three-phase");
    assert_eq!(
        sends(e, COORD, |m| matches!(m, Msg::PreCommit { .. })),
        vec![(40, SHARD_A), (40, SHARD_B)]
    );
    for p in [SHARD_A, SHARD_B] {
        assert_eq!(noted(e, p, "pre-commits T1"), Some(50));
        assert_eq!(outcome(a, "T1", p), (Some(true), Some(350)));
    }
    assert!(
        sends(e, COORD, |m| matches!(m, Msg::DoCommit { .. })).is_empty(),
        "the coordinator was down"
    );
    assert_eq!(a.still_in_doubt, 0);
    assert!(a.violations.is_empty());
}

#[test]
fn step_9_a_partition_at_pre_commit_splits_3pc_and_solves_the_challenge() {
    let l = lesson();
    let i = index(&l, "Your turn: split 3PC with a partition");
    let c = l.steps[i].challenge.clone().unwrap();
    let r = run(&l, "Your turn: split 3PC with a partition");
    assert!(r.ivs.is_empty());
    assert!(!c.met_by_twopc(&r.whole));
    assert!(r.whole.violations.is_empty());
    let part = |t: Time| {
        with(
            &r,
            vec![Intervention::new(
                t,
                Action::Partition {
                    groups: vec![vec![COORD, SHARD_A], vec![SHARD_B]],
                },
            )],
        )
    };
    // The hint's move: at 40 ms, when pre-commit is sent.
    let x = part(40);
    assert!(c.met_by_twopc(&x.whole));
    assert_eq!(outcome(&x.whole, "T1", SHARD_A).0, Some(true));
    assert_eq!(outcome(&x.whole, "T1", SHARD_B).0, Some(false));
    // The coordinator, missing shard-b's pre-commit ack, commits on its timeout; shard-b,
    // uncertain (voted yes at 30 ms, no pre-commit), aborts on its own timeout.
    let vote_timeout = r.scenario.vote_timeout_ms;
    assert_eq!(decision(&x.whole, "T1"), Some((true, 40 + vote_timeout)));
    assert_eq!(
        outcome(&x.whole, "T1", SHARD_B).1,
        Some(30 + r.scenario.prepare_timeout_ms)
    );
    assert_eq!(noted(&x.engine, SHARD_A, "pre-commits T1"), Some(50));
    assert!(noted(&x.engine, SHARD_B, "pre-commits T1").is_none());
    // Too early (the votes cut off) or too late (both pre-committed): atomicity holds.
    for t in [10, 30, 50, 60] {
        let y = part(t);
        assert!(!c.met_by_twopc(&y.whole), "partition at {t}");
    }
    // Plain 2PC with the same partition blocks instead of splitting.
    let mut s = r.scenario.clone();
    s.protocol = distlab_sim::models::twopc::CommitProtocol::TwoPhase;
    let two = run_with(
        s,
        vec![Intervention::new(
            40,
            Action::Partition {
                groups: vec![vec![COORD, SHARD_A], vec![SHARD_B]],
            },
        )],
    );
    assert!(two.whole.violations.is_empty());
    assert_eq!(two.whole.still_in_doubt, 1);
}

// ---------------------------------------------------------------------------------------
// Bad input.

fn step_line(text: &str, n: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[step]]"))
        .nth(n)
        .unwrap()
        .0
        + 1
}

/// The lesson with `line` added right after step `i`'s `[[step]]` header.
fn insert_in_step(i: usize, line: &str) -> String {
    let at = step_line(TEXT, i);
    let mut lines: Vec<&str> = TEXT.lines().collect();
    lines.insert(at, line);
    lines.join("\n")
}

#[test]
fn bad_lesson_input_names_its_line() {
    let l = lesson();
    let last = l.steps.len() - 1;
    // A write at an unknown shard, at the coordinator, a duplicate id, no writes.
    for (action, want) in [
        (
            r#"{ at = 10, action = "begin", id = "T9", writes = [{ at = "shard-z", key = "k", delta = 1 }] }"#,
            "unknown node \"shard-z\"",
        ),
        (
            r#"{ at = 10, action = "begin", id = "T9", writes = [{ at = "coordinator", key = "k", delta = 1 }] }"#,
            "is the coordinator, not a participant",
        ),
        (
            r#"{ at = 10, action = "begin", id = "T1", writes = [{ at = "shard-a", key = "alice", delta = 1 }] }"#,
            "already one of the scenario's transactions",
        ),
        (
            r#"{ at = 10, action = "begin", id = "T9", writes = [] }"#,
            "has no writes",
        ),
    ] {
        let text = insert_in_step(last, &format!("actions = [{action}]"));
        let e = Lesson::parse(&text).unwrap_err();
        assert!(e.message.contains(want), "{e}");
        assert_eq!(e.line, step_line(&text, last), "{e}");
    }
    // A challenge the step's own run already meets: broken 2PC splits T1.
    let broken = index(&l, "Why not decide on a timeout?");
    let text = insert_in_step(broken, "challenge = { goal = \"atomicity-violated\" }");
    let e = Lesson::parse(&text).unwrap_err();
    assert!(e.message.contains("already meets it"), "{e}");
    assert_eq!(e.line, step_line(&text, broken));
    // Other models' goals and actions.
    let text = insert_in_step(0, "challenge = { goal = \"no-leader\" }");
    let e = Lesson::parse(&text).unwrap_err();
    assert!(
        e.message.contains(
            "not for twopc lessons; their goals: participant-in-doubt, atomicity-violated"
        ),
        "{e}"
    );
    let text = insert_in_step(
        0,
        "actions = [{ at = 10, action = \"propose\", node = \"shard-a\", value = \"B\" }]",
    );
    let e = Lesson::parse(&text).unwrap_err();
    assert!(e.message.contains("not available in twopc lessons"), "{e}");
    assert!(e.message.contains("begin (id, writes"), "{e}");
    // begin is 2PC's own: a Paxos lesson rejects it, and the 2PC goals.
    let paxos = distlab_sim::lesson::BUILT_IN
        .iter()
        .find(|(f, _)| *f == "paxos.toml")
        .unwrap()
        .1;
    let bad = paxos.replace(
        "actions = [{ at = 0, action = \"cut\", a = \"p1\", b = \"a3\" },",
        "actions = [{ at = 5, action = \"begin\", id = \"T1\", writes = [{ at = \"a1\", key = \"k\", delta = 1 }] }, { at = 0, action = \"cut\", a = \"p1\", b = \"a3\" },",
    );
    assert_ne!(bad, paxos);
    let e = Lesson::parse(&bad).unwrap_err();
    assert!(
        e.message
            .contains("\"begin\" is not available in paxos lessons"),
        "{e}"
    );
    let bad = paxos.replace(
        "goal = \"no-value-chosen\"",
        "goal = \"participant-in-doubt\"",
    );
    let e = Lesson::parse(&bad).unwrap_err();
    assert!(e.message.contains("not for paxos lessons"), "{e}");
    // A bad scenario key is named.
    let bad = TEXT.replace("protocol = \"two-phase\"", "protocol = \"four-phase\"");
    assert!(Lesson::parse(&bad).is_err());
}
