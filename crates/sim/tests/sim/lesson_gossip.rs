//! The "Gossip" lesson: every claim of its narration checked against the run the step
//! shows (computed by the engine and the analysis, not from the text); the challenge is open
//! in the step's own run and solved by the settings the hint points to; bad input is an
//! error, not a panic.

use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::lesson::{Goal, Lesson, LessonModel};
use distlab_sim::models::gossip::analysis::{analyze, expected_rounds, Analysis};
use distlab_sim::models::gossip::{Command, GossipScenario, Mode, Node};
use distlab_sim::models::{EngineModel, Gossip};
use distlab_sim::EventKind;

const TEXT: &str = include_str!("../../../../lessons/gossip.toml");

fn lesson() -> Lesson {
    Lesson::parse(TEXT).unwrap_or_else(|e| panic!("{e}"))
}

fn index(l: &Lesson, title: &str) -> usize {
    l.steps
        .iter()
        .position(|s| s.title == title)
        .unwrap_or_else(|| panic!("no step \"{title}\""))
}

struct Run {
    scenario: GossipScenario,
    engine: Engine<Node>,
    a: Analysis,
}

fn run_of(scenario: GossipScenario, ivs: Vec<Intervention<Node>>) -> Run {
    let engine = Engine::new(Gossip::setup(&scenario).unwrap(), ivs);
    let a = analyze(&scenario, &engine, engine.trace().len().checked_sub(1));
    Run {
        scenario,
        engine,
        a,
    }
}

fn step(title: &str) -> Run {
    let l = lesson();
    let i = index(&l, title);
    let (scenario, ivs) = l.engine_run::<Gossip>(i).unwrap();
    // Every step's cursor is the end of the run: the chart shows the whole spread.
    let engine = Engine::new(Gossip::setup(&scenario).unwrap(), ivs.clone());
    assert_eq!(
        l.steps[i].until.cursor(&engine).unwrap(),
        engine.trace().len().checked_sub(1),
        "{title}: the cursor is at the end"
    );
    run_of(scenario, ivs)
}

#[test]
fn the_lesson_parses_resolves_and_is_built_in() {
    let l = lesson();
    assert_eq!(l.id, "gossip");
    assert_eq!(l.model, "gossip");
    assert_eq!(l.order, 85);
    let r = l.resolve().unwrap();
    assert!(r.steps.iter().all(|s| s.gossip().is_some()));
    assert!(distlab_sim::lesson::built_in()
        .iter()
        .any(|l| l.id == "gossip"));
}

#[test]
fn step_1_eight_nodes_push_all_know_after_five_rounds() {
    let r = step("An update, and no coordinator");
    assert_eq!(r.scenario.nodes, 8);
    assert_eq!(r.scenario.mode, Mode::Push);
    assert_eq!(r.scenario.fanout, 1);
    let u = &r.a.updates[0];
    assert_eq!(
        (u.origin, u.key.as_str(), u.value.as_str(), u.time),
        (0, "x", "1", 50)
    );
    assert_eq!(u.all_round, Some(5));
    // Round 1: only n1 can tell anyone; round 2: the two informed nodes tell at most two more.
    assert!(u.curve[1] <= 2 && u.curve[2] <= 4, "{:?}", u.curve);
    // n1 sends one push per round (fanout 1).
    let per_round = r
        .engine
        .trace()
        .iter()
        .filter(|e| e.node == Some(0) && matches!(e.kind, EventKind::Timer { .. }))
        .all(|e| e.sent.len() <= 1);
    assert!(per_round);
    // Nodes that know nothing stay quiet: every push comes from an informed node.
    for e in r.engine.trace() {
        for s in &e.sent {
            assert!(!s.payload.entries().is_empty());
        }
    }
}

#[test]
fn step_2_push_at_64_doubles_then_crawls_ten_rounds() {
    let r = step("Push at 64 nodes: a fast start, a slow end");
    assert_eq!((r.scenario.nodes, r.scenario.mode), (64, Mode::Push));
    let u = &r.a.updates[0];
    assert_eq!(&u.curve[..5], &[1, 2, 3, 6, 12], "the narration's doubling");
    assert_eq!(u.all_round, Some(10));
    // "the last 13 nodes alone take three rounds"
    assert_eq!(u.curve[7], 51);
    assert_eq!(64 - u.curve[7], 13);
    assert_eq!(u.curve[10], 64);
    // Pittel: log2 64 + ln 64 ≈ 10.2
    let e = expected_rounds(64, Mode::Push, 1).unwrap();
    assert!((e.rounds - 10.16).abs() < 0.01);
    assert!((6.0 + 4.2 - e.rounds).abs() < 0.1);
}

#[test]
fn step_3_pull_ends_faster_but_sends_more_than_twice_the_messages() {
    let push = step("Push at 64 nodes: a fast start, a slow end");
    let pull = step("Pull: the end goes fast");
    assert_eq!(pull.scenario.mode, Mode::Pull);
    let (p, q) = (&push.a.updates[0], &pull.a.updates[0]);
    assert_eq!(q.all_round, Some(8));
    assert!(q.all_round < p.all_round);
    // The narration's numbers, and "the expected curves of the two are the same there":
    // within 5 % over the first three rounds, each about doubling.
    assert_eq!(&p.curve[..5], &[1, 2, 3, 6, 12]);
    assert_eq!(&q.curve[..5], &[1, 2, 6, 11, 20]);
    let (ep, eq) = (&push.a.expected_curve, &pull.a.expected_curve);
    for r in 1..4 {
        assert!((ep[r] - eq[r]).abs() / ep[r] < 0.05, "{ep:?} {eq:?}");
        assert!((ep[r] / ep[r - 1] - 2.0).abs() < 0.15);
    }
    // At the end pull is ahead: round 7, 61 against 51.
    assert!(q.curve[7] > p.curve[7]);
    assert!(
        q.messages > 2 * p.messages,
        "{} vs {}",
        q.messages,
        p.messages
    );
    // "early on, push is the cheap one": in the first three rounds push sent fewer messages.
    let early = |run: &Run| {
        run.engine
            .trace()
            .iter()
            .filter(|e| e.time >= 50 && e.time < 400)
            .map(|e| e.sent.len())
            .sum::<usize>()
    };
    assert!(
        early(&push) < early(&pull) / 4,
        "{} vs {}",
        early(&push),
        early(&pull)
    );
}

#[test]
fn step_4_push_pull_six_rounds_near_karp() {
    let r = step("Push-pull");
    assert_eq!(r.scenario.mode, Mode::PushPull);
    assert_eq!(r.a.updates[0].all_round, Some(6));
    let e = expected_rounds(64, Mode::PushPull, 1).unwrap();
    assert!((e.rounds - 5.2).abs() < 0.05, "{}", e.rounds);
    assert!((64f64.log(3.0) - 3.8).abs() < 0.05);
    assert!((64f64.ln().ln() - 1.4).abs() < 0.05);
}

#[test]
fn step_5_fanout_two_needs_fewer_rounds_and_two_messages_per_round() {
    let r = step("Fanout: more peers per round");
    assert_eq!((r.scenario.mode, r.scenario.fanout), (Mode::Push, 2));
    let rounds = r.a.updates[0].all_round.unwrap();
    assert!(rounds < 10, "{rounds}");
    // Each informed node sends two messages per round.
    for e in r.engine.trace() {
        if matches!(e.kind, EventKind::Timer { .. }) && !e.sent.is_empty() {
            assert_eq!(e.sent.len(), 2);
        }
    }
}

#[test]
fn step_6_loss_slows_but_everyone_learns() {
    let r = step("Loss slows gossip down, it does not stop it");
    assert_eq!(r.scenario.loss, 0.2);
    assert_eq!(r.scenario.mode, Mode::PushPull);
    let u = &r.a.updates[0];
    assert!(u.all_round.unwrap() > 6);
    assert!(u.stragglers.is_empty());
    assert_eq!(u.informed(), 64);
    let lost = r
        .engine
        .trace()
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Drop {
                    reason: distlab_sim::DropReason::Loss,
                    ..
                }
            )
        })
        .count();
    assert!(lost > 0);
}

#[test]
fn step_7_eight_nodes_three_rounds() {
    let r = step("O(log n): 8 nodes against 64");
    assert_eq!(
        (r.scenario.nodes, r.scenario.mode, r.scenario.loss),
        (8, Mode::PushPull, 0.0)
    );
    assert_eq!(r.a.updates[0].all_round, Some(3));
}

#[test]
fn step_8_crashed_nodes_every_live_node_learns_and_n12_catches_up() {
    let r = step("Crashed nodes");
    assert_eq!(r.scenario.nodes, 32);
    let u = &r.a.updates[0];
    // At the end n5, n20, n27 are down, n12 is up again.
    for x in [4, 19, 26] {
        assert!(!r.a.up[x]);
        assert!(u.learnt[x].is_none(), "a crashed node cannot learn");
    }
    assert!(r.a.up[11]);
    assert!(
        u.stragglers.is_empty(),
        "every live node learns: {:?}",
        u.stragglers
    );
    assert_eq!(u.informed(), 29, "28 nodes never crashed, and n12");
    let n12 = u.learnt[11].as_ref().expect("n12 learns after its restart");
    assert!(
        n12.time > 1000 && n12.time <= 1000 + 2 * r.scenario.round_ms + 50,
        "{}",
        n12.time
    );
    // The other nodes knew long before the restart.
    let before: usize = u
        .learnt
        .iter()
        .enumerate()
        .filter(|(i, l)| *i != 11 && l.is_some())
        .count();
    assert_eq!(before, 28);
    assert!(u
        .learnt
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 11)
        .all(|(_, l)| l.as_ref().is_none_or(|l| l.time < 1000)));
}

#[test]
fn step_9_challenge_open_in_the_step_and_solved_by_the_hint() {
    let l = lesson();
    let i = index(&l, "Challenge: gossip on a budget");
    let c = l.steps[i].challenge.clone().unwrap();
    assert_eq!(c.goal, Goal::AllInformed);
    let (scenario, ivs) = l.engine_run::<Gossip>(i).unwrap();
    assert!(ivs.is_empty(), "clear_actions drops the crashes");
    let r = run_of(scenario.clone(), ivs.clone());
    let u = &r.a.updates[0];
    // "it takes 13 rounds and more than 450 messages"
    assert_eq!(u.all_round, Some(13));
    assert!(u.messages > 450);
    assert!(!c.met_by_gossip(&r.a));
    assert_eq!(
        Gossip::goal_met(&scenario, &c, &r.engine, None),
        Some(false)
    );
    let solve = |mode: Mode, fanout: usize| {
        let s = GossipScenario {
            mode,
            fanout,
            ..scenario.clone()
        };
        let r = run_of(s.clone(), vec![]);
        c.met_by_gossip(&r.a)
    };
    assert!(solve(Mode::Push, 2), "push with fanout 2 solves it");
    assert!(solve(Mode::PushPull, 1), "push-pull solves it");
    assert!(!solve(Mode::Pull, 2));
    // Cheating does not count: fewer nodes or no loss.
    let small = GossipScenario {
        nodes: 8,
        ..scenario.clone()
    };
    assert!(!c.met_by_gossip(&run_of(small, vec![]).a));
    let clean = GossipScenario {
        loss: 0.0,
        mode: Mode::PushPull,
        ..scenario.clone()
    };
    assert!(!c.met_by_gossip(&run_of(clean, vec![]).a));
}

#[test]
fn the_update_action_and_bad_input() {
    let s = GossipScenario::basic(8, Mode::Push, 1);
    let a = distlab_sim::lesson::NamedAction::Update {
        node: "n3".into(),
        key: "y".into(),
        value: "2".into(),
    };
    assert_eq!(
        Gossip::model_action(&s, &a).unwrap(),
        Some(Action::Command {
            node: 2,
            command: Command::Update {
                key: "y".into(),
                value: "2".into()
            }
        })
    );
    let bad = distlab_sim::lesson::NamedAction::Update {
        node: "n9".into(),
        key: "y".into(),
        value: "2".into(),
    };
    assert!(Gossip::model_action(&s, &bad)
        .unwrap_err()
        .contains("n1 to n8"));
    let bad_text = TEXT.replace("nodes = 8\n", "nodes = 80\n");
    let e = Lesson::parse(&bad_text).unwrap_err();
    assert!(e.message.contains("2 to 64"), "{e}");
    assert!(e.line > 0);
    let bad_mode = TEXT.replace("mode = \"push\"\nfanout", "mode = \"shout\"\nfanout");
    assert!(Lesson::parse(&bad_mode).is_err());
    let foreign = TEXT.replace(
        "{ at = 1000, action = \"restart\", node = \"n12\" },",
        "{ at = 1000, action = \"propose\", node = \"n12\", value = \"A\" },",
    );
    let e = Lesson::parse(&foreign).unwrap_err();
    assert!(e.message.contains("update (node, key, value)"), "{e}");
}
