//! Gossip (Demers et al. 1987; Pittel 1987; Karp et al. 2000): the merge and digest rules,
//! whole runs under each mode, and properties over many seeds — every live connected node
//! learns an update, rounds grow like log n, push-pull is no slower than push, a higher
//! fanout never needs more rounds, loss slows but does not stop spreading, states only move
//! to higher versions, runs are deterministic.

use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::models::gossip::analysis::{analyze, expected_curve, Analysis};
use distlab_sim::models::gossip::{
    merge, newer_than, Command, Entry, GossipScenario, Mode, Node, State, Version,
};
use distlab_sim::models::{EngineModel, Gossip};
use distlab_sim::trace;
use proptest::prelude::*;

fn run(s: &GossipScenario, ivs: Vec<Intervention<Node>>) -> (Engine<Node>, Analysis) {
    let e = Engine::new(Gossip::setup(s).unwrap(), ivs);
    let a = analyze(s, &e, e.trace().len().checked_sub(1));
    (e, a)
}

fn scenario(n: usize, mode: Mode, fanout: usize, loss: f64, seed: u64) -> GossipScenario {
    GossipScenario {
        fanout,
        loss,
        rounds: 40,
        ..GossipScenario::basic(n, mode, seed)
    }
}

/// Rounds until every node knew the update (`MAX` when not within the run).
fn rounds(s: &GossipScenario) -> u64 {
    run(s, vec![]).1.updates[0].all_round.unwrap_or(u64::MAX)
}

fn mean_rounds(n: usize, mode: Mode, fanout: usize, loss: f64, seeds: std::ops::Range<u64>) -> f64 {
    let k = seeds.end - seeds.start;
    seeds
        .map(|seed| rounds(&scenario(n, mode, fanout, loss, seed)) as f64)
        .sum::<f64>()
        / k as f64
}

fn entry(key: &str, counter: u64, origin: usize, value: &str) -> Entry {
    Entry {
        key: key.into(),
        version: Version { counter, origin },
        value: value.into(),
        born: 0,
    }
}

#[test]
fn merge_keeps_the_higher_version_per_key() {
    let mut s = State::new();
    assert_eq!(merge(&mut s, &[entry("x", 1, 0, "a")]).len(), 1);
    // Lower or equal versions change nothing.
    assert!(merge(&mut s, &[entry("x", 1, 0, "a")]).is_empty());
    assert!(merge(&mut s, &[entry("x", 0, 5, "z")]).is_empty());
    // Same counter, higher origin wins (the tie-break).
    assert_eq!(merge(&mut s, &[entry("x", 1, 3, "b")]).len(), 1);
    assert_eq!(s["x"].value, "b");
    assert_eq!(
        merge(&mut s, &[entry("x", 2, 0, "c"), entry("y", 1, 1, "d")]).len(),
        2
    );
    assert_eq!((s["x"].value.as_str(), s["y"].value.as_str()), ("c", "d"));
}

#[test]
fn a_pull_is_answered_with_exactly_what_the_digest_lacks() {
    let mut s = State::new();
    merge(
        &mut s,
        &[
            entry("x", 2, 0, "a"),
            entry("y", 1, 1, "b"),
            entry("z", 1, 0, "c"),
        ],
    );
    let digest = vec![
        (
            "x".to_string(),
            Version {
                counter: 2,
                origin: 0,
            },
        ),
        (
            "y".to_string(),
            Version {
                counter: 0,
                origin: 4,
            },
        ),
    ];
    let keys: Vec<String> = newer_than(&s, &digest).into_iter().map(|e| e.key).collect();
    assert_eq!(keys, vec!["y", "z"]);
}

#[test]
fn each_mode_informs_every_node_without_loss() {
    for mode in Mode::ALL {
        for n in [8, 16, 64] {
            let (_, a) = run(&scenario(n, mode, 1, 0.0, 7), vec![]);
            let u = &a.updates[0];
            assert_eq!(u.informed(), n, "{mode:?} at {n}");
            assert!(u.stragglers.is_empty());
            assert_eq!(*u.curve.last().unwrap(), n);
            assert!(
                u.curve.windows(2).all(|w| w[0] <= w[1]),
                "the curve never falls"
            );
            assert_eq!(
                u.learnt[0].as_ref().unwrap().round,
                0,
                "the origin knows in round 0"
            );
        }
    }
}

#[test]
fn messages_follow_the_mode() {
    let (e, _) = run(&scenario(16, Mode::Pull, 1, 0.0, 3), vec![]);
    // Pull: every node asks every round, answers only with something newer.
    for ev in e.trace() {
        for s in &ev.sent {
            match &s.payload {
                distlab_sim::models::gossip::Msg::Pull { .. } => {}
                distlab_sim::models::gossip::Msg::Reply { entries, .. } => {
                    assert!(!entries.is_empty())
                }
                m => panic!("pull mode sent {m:?}"),
            }
        }
    }
    let (e, _) = run(&scenario(16, Mode::PushPull, 2, 0.0, 3), vec![]);
    let round_events = e.trace().iter().filter(|ev| {
        matches!(ev.kind, distlab_sim::EventKind::Timer { .. }) && !ev.sent.is_empty()
    });
    for ev in round_events {
        assert_eq!(ev.sent.len(), 2, "fanout 2: two exchanges per round");
        assert_ne!(ev.sent[0].to, ev.sent[1].to, "distinct peers");
        assert!(
            ev.sent.iter().all(|s| Some(s.to) != ev.node),
            "never itself"
        );
    }
}

#[test]
fn a_partition_leaves_stragglers_until_it_heals() {
    let s = scenario(16, Mode::PushPull, 1, 0.0, 4);
    let half = vec![(0..8).collect::<Vec<_>>(), (8..16).collect()];
    let cut = vec![Intervention::new(0, Action::Partition { groups: half })];
    let (_, a) = run(&s, cut.clone());
    let u = &a.updates[0];
    assert_eq!(u.informed(), 8);
    assert_eq!(u.stragglers, (8..16).collect::<Vec<_>>());
    assert_eq!(u.all_round, None);
    let mut healed = cut;
    healed.push(Intervention::new(1500, Action::Heal));
    let (_, a) = run(&s, healed);
    assert_eq!(a.updates[0].informed(), 16);
    assert!(a.updates[0].learnt[8..]
        .iter()
        .all(|l| l.as_ref().unwrap().time > 1500));
}

#[test]
fn an_operator_update_spreads_and_a_newer_version_wins_everywhere() {
    let s = scenario(16, Mode::PushPull, 1, 0.0, 5);
    let ivs = vec![Intervention::new(
        620,
        Action::Command {
            node: 9,
            command: Command::Update {
                key: "x".into(),
                value: "2".into(),
            },
        },
    )];
    let (e, a) = run(&s, ivs);
    assert_eq!(a.updates.len(), 2);
    let u = &a.updates[1];
    assert_eq!((u.origin, u.value.as_str()), (9, "2"));
    assert!(u.version > a.updates[0].version);
    assert_eq!(u.informed(), 16);
    let w = e.world();
    assert!(w.nodes.iter().all(|n| n.state["x"].value == "2"));
}

#[test]
fn an_update_made_before_hearing_of_an_older_one_supersedes_it_there() {
    // n8 updates x before x=1 (n1, 50 ms) reaches it: its version v1@n8 is above v1@n1,
    // so n8 counts as informed of x=1 (it holds a newer x) and everyone ends with n8's value.
    let s = scenario(16, Mode::PushPull, 1, 0.0, 5);
    let ivs = vec![Intervention::new(
        60,
        Action::Command {
            node: 7,
            command: Command::Update {
                key: "x".into(),
                value: "8".into(),
            },
        },
    )];
    let (e, a) = run(&s, ivs);
    assert_eq!(a.updates.len(), 2);
    assert_eq!(
        a.updates[1].version,
        Version {
            counter: 1,
            origin: 7
        }
    );
    assert!(a.updates[0].stragglers.is_empty());
    assert_eq!(a.updates[0].informed(), 16);
    assert_eq!(a.updates[0].learnt[7].as_ref().unwrap().time, 60);
    assert!(e.world().nodes.iter().all(|n| n.state["x"].value == "8"));
}

#[test]
fn crashed_nodes_keep_their_state_and_catch_up_after_restart() {
    let s = scenario(16, Mode::Pull, 1, 0.0, 6);
    let ivs = vec![
        Intervention::new(0, Action::Crash { node: 3 }),
        Intervention::new(2000, Action::Restart { node: 3 }),
    ];
    let (_, a) = run(&s, ivs);
    let l = a.updates[0].learnt[3].as_ref().expect("n4 catches up");
    assert!(l.time > 2000);
    assert_eq!(a.updates[0].informed(), 16);
}

#[test]
fn bad_scenarios_are_errors_not_panics() {
    let ok = GossipScenario::basic(8, Mode::Push, 0);
    let cases: Vec<(GossipScenario, &str)> = vec![
        (
            GossipScenario {
                nodes: 65,
                ..ok.clone()
            },
            "2 to 64",
        ),
        (
            GossipScenario {
                nodes: 1,
                ..ok.clone()
            },
            "2 to 64",
        ),
        (
            GossipScenario {
                fanout: 0,
                ..ok.clone()
            },
            "fanout",
        ),
        (
            GossipScenario {
                fanout: 8,
                ..ok.clone()
            },
            "fanout",
        ),
        (
            GossipScenario {
                round_ms: 0,
                ..ok.clone()
            },
            "round_ms",
        ),
        (
            GossipScenario {
                round_ms: 20,
                ..ok.clone()
            },
            "must fit in one round",
        ),
        (
            GossipScenario {
                rounds: 0,
                ..ok.clone()
            },
            "rounds",
        ),
        (
            GossipScenario {
                loss: 1.5,
                ..ok.clone()
            },
            "probability",
        ),
    ];
    for (s, want) in cases {
        let e = Gossip::setup(&s)
            .err()
            .unwrap_or_else(|| panic!("{s:?} accepted"));
        assert!(e.contains(want), "{e} (wanted {want})");
    }
    let mut s = ok.clone();
    s.updates[0].node = "n9".into();
    assert!(Gossip::setup(&s).err().unwrap().contains("n1 to n8"));
    assert!(Gossip::node(&ok, "n01").is_err());
    assert_eq!(Gossip::node(&ok, "n8"), Ok(7));
    let iv = Intervention::new(
        0,
        Action::Command {
            node: 1,
            command: Command::Update {
                key: " ".into(),
                value: "v".into(),
            },
        },
    );
    assert!(Gossip::check_intervention(&ok, &iv).is_err());
}

#[test]
fn the_expected_curve_is_demers_recurrence() {
    // Fanout 1, no loss: pull's uninformed fraction squares (p' = p²) and push's follows
    // p' = p (1 − 1/(n−1))^{n(1−p)} (Demers et al. 1987, with n − 1 possible peers).
    let n = 1000usize;
    let pull = expected_curve(n, Mode::Pull, 1, 0.0, 12);
    let push = expected_curve(n, Mode::Push, 1, 0.0, 12);
    for r in 0..12 {
        let p = 1.0 - pull[r] / n as f64;
        let want = p * (1.0 - pull[r] / (n as f64 - 1.0));
        assert!(((1.0 - pull[r + 1] / n as f64) - want).abs() < 1e-9);
        let p = 1.0 - push[r] / n as f64;
        let want = p * (1.0 - 1.0 / (n as f64 - 1.0)).powf(push[r]);
        assert!(((1.0 - push[r + 1] / n as f64) - want).abs() < 1e-9);
    }
    // Loss only slows it.
    let lossy = expected_curve(64, Mode::PushPull, 1, 0.2, 10);
    let clean = expected_curve(64, Mode::PushPull, 1, 0.0, 10);
    assert!(lossy.iter().zip(&clean).all(|(l, c)| l <= c));
}

#[test]
fn the_mean_rounds_match_the_mean_field_expectation() {
    for mode in Mode::ALL {
        let mean = mean_rounds(64, mode, 1, 0.0, 0..30);
        let mf = distlab_sim::models::gossip::analysis::mean_field_rounds(64, mode, 1, 0.0).unwrap()
            as f64;
        assert!(
            (mean - mf).abs() <= 1.5,
            "{mode:?}: mean {mean}, mean field {mf}"
        );
    }
}

#[test]
fn rounds_grow_like_log_n() {
    // 8× the nodes costs a few rounds more, far below n / fanout.
    for mode in Mode::ALL {
        let small = mean_rounds(8, mode, 1, 0.0, 0..30);
        let large = mean_rounds(64, mode, 1, 0.0, 0..30);
        assert!(large > small, "{mode:?}");
        assert!(large - small <= 8.0, "{mode:?}: {small} → {large}");
        assert!(large < 64.0 / 4.0, "{mode:?}: {large}");
        // The ratio follows log n (log 64 / log 8 = 2), not n (8).
        assert!(large / small < 3.0, "{mode:?}: {small} → {large}");
    }
}

#[test]
fn push_pull_is_no_slower_than_push_or_pull_on_average() {
    for n in [8, 32, 64] {
        let pp = mean_rounds(n, Mode::PushPull, 1, 0.0, 0..30);
        assert!(pp <= mean_rounds(n, Mode::Push, 1, 0.0, 0..30), "{n}");
        assert!(pp <= mean_rounds(n, Mode::Pull, 1, 0.0, 0..30), "{n}");
    }
}

#[test]
fn a_higher_fanout_never_needs_more_rounds_on_average() {
    for mode in Mode::ALL {
        let mut last = f64::INFINITY;
        for f in 1..=4 {
            let m = mean_rounds(32, mode, f, 0.0, 0..30);
            assert!(
                m <= last,
                "{mode:?}: fanout {f} took {m}, fanout {} took {last}",
                f - 1
            );
            last = m;
        }
    }
}

#[test]
fn loss_slows_spreading_but_does_not_stop_it() {
    for mode in Mode::ALL {
        let clean = mean_rounds(32, mode, 1, 0.0, 0..30);
        let lossy = mean_rounds(32, mode, 1, 0.3, 0..30);
        assert!(lossy > clean, "{mode:?}: {clean} vs {lossy}");
        for seed in 0..30 {
            assert!(
                rounds(&scenario(32, mode, 1, 0.3, seed)) < 40,
                "{mode:?} seed {seed}"
            );
        }
    }
}

#[test]
fn presets_run_and_inform_every_live_node() {
    for (name, s, ivs) in distlab_sim::models::gossip::presets() {
        let (_, a) = run(&s, ivs.clone());
        let u = &a.updates[0];
        assert!(u.stragglers.is_empty(), "{name}: {:?}", u.stragglers);
        let down = ivs.len();
        assert_eq!(u.informed(), s.nodes - down, "{name}");
    }
}

#[test]
fn prepared_failures_crash_an_informed_node_split_and_heal() {
    let s = scenario(16, Mode::PushPull, 1, 0.0, 1);
    let e = Engine::new(Gossip::setup(&s).unwrap(), vec![]);
    let cursor = e.trace().iter().position(|ev| ev.time >= 450);
    let p = Gossip::prepared(&s, &e, cursor);
    assert_eq!(p.len(), 3);
    let Action::Crash { node } = p[0].actions[0] else {
        panic!("{:?}", p[0])
    };
    let w = e.world_at(cursor).unwrap();
    assert!(w.nodes[node].state.contains_key("x"), "{}", p[0].label);
    assert_ne!(node, 0, "not the origin while others know");
    assert!(matches!(&p[1].actions[0], Action::Partition { groups } if groups[0].len() == 8));
    assert_eq!(p[2].actions[0], Action::Heal);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A node's version of a key only ever goes up, through the whole trace, under any
    /// mode, fanout, loss and crash schedule.
    #[test]
    fn states_only_move_to_higher_versions(
        seed in 0u64..10_000,
        mode in prop::sample::select(Mode::ALL.to_vec()),
        fanout in 1usize..4,
        loss in 0.0f64..0.5,
        crash in 0usize..16,
    ) {
        let s = scenario(16, mode, fanout, loss, seed);
        let ivs = vec![
            Intervention::new(120, Action::Crash { node: crash }),
            Intervention::new(400, Action::Command { node: (crash + 1) % 16, command: Command::Update { key: "x".into(), value: "2".into() } }),
            Intervention::new(900, Action::Restart { node: crash }),
        ];
        let e = Engine::new(Gossip::setup(&s).unwrap(), ivs);
        let mut held: Vec<std::collections::BTreeMap<String, Version>> = vec![Default::default(); 16];
        for ev in e.trace() {
            if let (Some(n), Some(v)) = (ev.node, &ev.state) {
                for (k, (ver, _)) in &v.state {
                    if let Some(old) = held[n].get(k) {
                        prop_assert!(ver >= old, "node {n} went from {old} to {ver}");
                    }
                    held[n].insert(k.clone(), *ver);
                }
                prop_assert!(held[n].keys().all(|k| v.state.contains_key(k)), "a key was forgotten");
            }
        }
    }

    /// Same scenario and interventions: the same trace, byte for byte; and adding an
    /// intervention later gives the same as a fresh run with it.
    #[test]
    fn runs_are_deterministic(seed in 0u64..10_000, mode in prop::sample::select(Mode::ALL.to_vec())) {
        let s = scenario(32, mode, 2, 0.1, seed);
        let a = Engine::new(Gossip::setup(&s).unwrap(), vec![]);
        let b = Engine::new(Gossip::setup(&s).unwrap(), vec![]);
        prop_assert_eq!(trace::to_json(a.trace()), trace::to_json(b.trace()));
        let iv = Intervention::new(333, Action::Crash { node: 5 });
        let mut c = a.clone();
        c.add_intervention(iv.clone());
        let d = Engine::new(Gossip::setup(&s).unwrap(), vec![iv]);
        prop_assert_eq!(trace::digest(c.trace()), trace::digest(d.trace()));
    }

    /// Without loss or faults, every node learns the update by the end of a long enough run,
    /// and each node learns it from a node that already knew it (earlier, in the same round
    /// or an earlier one).
    #[test]
    fn every_node_learns_from_an_informed_node(seed in 0u64..10_000, n in 8usize..=64, mode in prop::sample::select(Mode::ALL.to_vec())) {
        let (_, a) = run(&scenario(n, mode, 1, 0.0, seed), vec![]);
        let u = &a.updates[0];
        prop_assert_eq!(u.informed(), n);
        for l in u.learnt.iter().flatten() {
            if let Some(from) = l.from {
                let src = u.learnt[from].as_ref().unwrap();
                // A reply may carry what the peer learnt earlier in the same round.
                prop_assert!(src.time < l.time && src.round <= l.round);
            }
        }
    }
}
