//! The built-in lessons parse, validate, and each step of "Replication lag" shows what its
//! narration claims (numbers from the simulation, not from the text).

use crate::common;

use distlab_sim::lesson::{built_in, Lesson, BUILT_IN};
use distlab_sim::models::replication::analysis::analyze;
use distlab_sim::models::{Clocks, Leaderless, Paxos, Quorum, Raft};
use distlab_sim::{Action, Engine, Intervention};

#[test]
fn every_built_in_lesson_parses_and_validates() {
    for (file, text) in BUILT_IN {
        if let Err(e) = Lesson::parse(text) {
            panic!("{file}: {e}");
        }
    }
    assert_eq!(built_in().len(), BUILT_IN.len());
}

fn lesson() -> Lesson {
    built_in()
        .into_iter()
        .find(|l| l.id == "replication-lag")
        .expect("built in")
}

use common::{lesson_step as at_step, read_labelled as read, write_labelled as write};

#[test]
fn async_steps_show_a_fresh_alice_and_a_stale_bob() {
    // Step 2: the leader acknowledges at once; Sydney lags by one entry.
    let (_, a) = at_step("The equaliser");
    assert!(write(&a, "equaliser").latency_ms().unwrap() <= 10);
    assert_eq!(a.lag.iter().find(|l| l.follower == 2).unwrap().entries, 1);
    // Step 3: caught up.
    let (_, a) = at_step("Replicas catch up");
    assert!(a.lag.iter().all(|l| l.entries == 0), "{:?}", a.lag);
    // Step 6: Alice fresh, Bob stale, one millisecond apart.
    let (_, a) = at_step("Bob refreshes");
    let alice = read(&a, "alice-read");
    let bob = read(&a, "bob-read");
    assert_eq!(bob.invoked_at, alice.invoked_at + 1);
    assert_eq!(
        alice.returned.as_ref().unwrap().2.as_deref(),
        Some("ARG 4–2 final")
    );
    assert!(alice.stale.is_none());
    assert_eq!(
        bob.returned.as_ref().unwrap().2.as_deref(),
        Some("3–3 live")
    );
    assert!(bob.stale.is_some());
    assert_eq!(a.stale_reads().count(), 1);
    // Step 7: eventually everyone has index 2.
    let (_, a) = at_step("Eventually");
    assert!(
        a.lag.iter().all(|l| l.entries == 0 && l.position == 2),
        "{:?}",
        a.lag
    );
}

#[test]
fn semi_sync_and_sync_trade_latency_for_freshness() {
    let (_, a) = at_step("Semi-synchronous, k = 1");
    let lat = write(&a, "final-score").latency_ms().unwrap();
    assert!((15..=40).contains(&lat), "semi-sync k=1 latency {lat}");
    assert!(
        read(&a, "bob-read").stale.is_some(),
        "semi-sync k=1 does not make Sydney fresh"
    );

    let (_, a) = at_step("Synchronous");
    let lat = write(&a, "final-score").latency_ms().unwrap();
    assert!(lat >= 250, "sync latency {lat}");
    let bob = read(&a, "bob-read");
    assert!(
        bob.stale.is_none(),
        "concurrent with an unacknowledged write: not stale"
    );
    assert!(write(&a, "final-score").acked.unwrap().0 > bob.invoked_at);
}

#[test]
fn failures_have_their_real_consequences() {
    // A crashed follower blocks synchronous writes.
    let (_, a) = at_step("A crashed follower blocks");
    assert!(write(&a, "final-score").acked.is_none());
    // ... until it restarts: it reports its position, catches up, and the write completes.
    let l = lesson();
    let run = l.run_for_step(9).unwrap();
    let mut ivs = run.interventions.clone();
    ivs.push(Intervention::new(
        800,
        Action::Restart {
            node: run.scenario.node("follower-2").unwrap(),
        },
    ));
    let e = Engine::new(run.scenario.setup().unwrap(), ivs);
    let a = analyze(&e, Some(e.trace().len() - 1));
    assert!(write(&a, "final-score").acked.unwrap().0 > 800);
    // Semi-sync k=1 does not notice the crash: the other follower acknowledges.
    let (_, a) = at_step("Semi-sync shrugs off");
    assert!(write(&a, "final-score").latency_ms().unwrap() <= 40);
    // A slow link to the far follower does not slow semi-sync k=1 ...
    let (_, a) = at_step("Semi-sync survives a slow");
    assert!(write(&a, "final-score").latency_ms().unwrap() <= 40);
    // ... but a slow link to the follower that acknowledges does.
    let (_, a) = at_step("…unless the slow one");
    assert!(write(&a, "final-score").latency_ms().unwrap() >= 250);
    // Failover after async acknowledgement loses the write.
    let (_, a) = at_step("Failover can lose");
    assert_eq!(a.lost_writes, vec![write(&a, "final-score").op]);
    assert_eq!(
        read(&a, "alice-after-failover")
            .returned
            .as_ref()
            .unwrap()
            .2
            .as_deref(),
        Some("3–3 live")
    );
}

#[test]
fn the_challenge_is_open_and_can_be_solved() {
    let l = lesson();
    let i = l
        .steps
        .iter()
        .position(|s| s.challenge.is_some())
        .expect("a challenge step");
    let c = l.steps[i].challenge.clone().unwrap();
    let run = l.run_for_step(i).unwrap();
    let engine = Engine::new(run.scenario.setup().unwrap(), run.interventions.clone());
    assert!(
        !Lesson::challenge_met(&c, &run.scenario, &engine),
        "the step's own run must not solve it"
    );
    // Cutting Sydney off changes nothing for Bob, who reads Paris: still fresh.
    let n = |name: &str| run.scenario.node(name).unwrap();
    let cut = |a: &str, b: &str| {
        let mut ivs = run.interventions.clone();
        ivs.push(Intervention::new(0, Action::CutLink { a: n(a), b: n(b) }));
        Engine::new(run.scenario.setup().unwrap(), ivs)
    };
    assert!(!Lesson::challenge_met(
        &c,
        &run.scenario,
        &cut("leader", "follower-2")
    ));
    // Cutting Paris off: the leader acknowledges via Sydney, Paris never gets the writes.
    let solved = cut("leader", "follower-1");
    assert!(Lesson::challenge_met(&c, &run.scenario, &solved));
}

#[test]
fn lesson_errors_name_the_line() {
    let text = BUILT_IN[0]
        .1
        .replace("node = \"follower-2\"", "node = \"folower-2\"");
    let e = Lesson::parse(&text).unwrap_err();
    assert!(e.message.contains("unknown node \"folower-2\""), "{e}");
    let line = text
        .lines()
        .position(|l| l.contains("A crashed follower blocks"))
        .unwrap()
        + 1;
    assert_eq!(e.line, line - 1, "{e}"); // the [[step]] header just above the title
    let e = Lesson::parse("id = \"x\"\ntitle = 3\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    let e = Lesson::parse(&BUILT_IN[0].1.replace(
        "until = { returned = \"bob-read\" }",
        "until = { returned = \"carol-read\" }",
    ))
    .unwrap_err();
    assert!(
        e.message.contains("no operation labelled \"carol-read\""),
        "{e}"
    );
    // Top-level keys are placed at their own line, whatever comes before them.
    for (key, bad) in [("model", "teleportation"), ("id", "Bad Id")] {
        let (_, text) = BUILT_IN
            .iter()
            .find(|(_, t)| !t.starts_with(key))
            .expect("a lesson with comments or other keys first");
        let line = text
            .lines()
            .position(|l| l.starts_with(&format!("{key} = ")))
            .unwrap()
            + 1;
        assert!(line > 1);
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[line - 1] = format!("{key} = \"{bad}\"");
        let e = Lesson::parse(&lines.join("\n")).unwrap_err();
        assert!(e.message.contains(bad), "{e}");
        assert_eq!(e.line, line, "{key}: {e}");
    }
}

#[test]
fn resolved_lessons_round_trip_through_json_as_the_app_reads_them() {
    for l in built_in() {
        let r = l.resolve().unwrap();
        assert_eq!(r.steps.len(), l.steps.len());
        let json = serde_json::to_string(&vec![r.clone()]).unwrap();
        let back: Vec<distlab_sim::lesson::ResolvedLesson> = serde_json::from_str(&json).unwrap();
        assert_eq!(back[0], r);
        assert_eq!(r.model, l.model);
        for (i, s) in r.steps.iter().enumerate() {
            assert!(s.html.contains("<p>"), "step {i} narration rendered");
            if l.model == "isolation" {
                // Each resolved step carries the step's script and levels.
                assert_eq!(s.isolation(), Some(&l.isolation_step(i).unwrap()));
                assert!(s.replication().is_none());
                continue;
            }
            if l.model == "clocks" {
                let (scenario, ivs) = l.engine_run::<Clocks>(i).unwrap();
                assert_eq!(s.clocks(), Some((&scenario, &ivs[..])));
                assert!(s.replication().is_none() && s.leaderless().is_none());
                continue;
            }
            if l.model == "leaderless" {
                let (scenario, ivs) = l.engine_run::<Leaderless>(i).unwrap();
                assert_eq!(s.leaderless(), Some((&scenario, &ivs[..])));
                assert!(s.replication().is_none() && s.clocks().is_none());
                continue;
            }
            if l.model == "raft" {
                let (scenario, ivs) = l.engine_run::<Raft>(i).unwrap();
                assert_eq!(s.raft(), Some((&scenario, &ivs[..])));
                assert!(s.replication().is_none() && s.leaderless().is_none());
                continue;
            }
            if l.model == "paxos" {
                let (scenario, ivs) = l.engine_run::<Paxos>(i).unwrap();
                assert_eq!(s.paxos(), Some((&scenario, &ivs[..])));
                assert!(s.replication().is_none() && s.raft().is_none());
                continue;
            }
            if l.model == "quorum" {
                let (scenario, ivs) = l.engine_run::<Quorum>(i).unwrap();
                assert_eq!(s.quorum(), Some((&scenario, &ivs[..])));
                assert!(s.replication().is_none() && s.paxos().is_none());
                continue;
            }
            if l.model == "twopc" {
                let (scenario, ivs) = l.engine_run::<distlab_sim::models::TwoPc>(i).unwrap();
                assert_eq!(s.twopc(), Some((&scenario, &ivs[..])));
                assert!(s.replication().is_none() && s.paxos().is_none());
                continue;
            }
            if l.model == "gossip" {
                let (scenario, ivs) = l.engine_run::<distlab_sim::models::Gossip>(i).unwrap();
                assert_eq!(s.gossip(), Some((&scenario, &ivs[..])));
                assert!(s.replication().is_none() && s.paxos().is_none());
                continue;
            }
            if l.model == "failure-detector" {
                let (scenario, ivs) = l
                    .engine_run::<distlab_sim::models::FailureDetector>(i)
                    .unwrap();
                assert_eq!(s.failure_detector(), Some((&scenario, &ivs[..])));
                assert!(s.replication().is_none() && s.paxos().is_none());
                continue;
            }
            // Each resolved step replays the same run, and its cursor is reached.
            let run = l.run_for_step(i).unwrap();
            let (scenario, interventions) = s.replication().expect("a replication step");
            assert_eq!(interventions, &run.interventions[..]);
            let e = Engine::new(scenario.setup().unwrap(), interventions.to_vec());
            assert_eq!(
                s.until.cursor(&e).unwrap(),
                l.cursor_for_step(i, &e).unwrap()
            );
        }
    }
}
