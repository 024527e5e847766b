//! The leaderless store: DDIA's shopping cart (Figure 5-13) step by step, version vectors
//! never losing an acknowledged write over random runs, last-write-wins losing concurrent
//! and even causally later writes, and tombstones.

use crate::common;

use common::cases;
use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::models::leaderless::analysis::analyze;
use distlab_sim::models::leaderless::{
    self, covers, ClientSpec, Conflict, LeaderlessScenario, Node, ReplicaSpec, View,
};
use proptest::prelude::*;

fn scenario(replicas: usize, clients: &[(&str, usize)], conflict: Conflict) -> LeaderlessScenario {
    let names = ["r1", "r2", "r3", "r4"];
    LeaderlessScenario {
        seed: 7,
        duration_ms: 300,
        conflict,
        tombstones: false,
        replicas: (0..replicas)
            .map(|i| ReplicaSpec {
                name: names[i].into(),
                place: None,
                clock_offset_ms: 0,
                clock_drift_ppm: 0,
            })
            .collect(),
        clients: clients
            .iter()
            .map(|(n, r)| ClientSpec {
                name: (*n).into(),
                place: None,
                replica: names[*r].into(),
            })
            .collect(),
        latency_ms: 1,
        jitter_ms: 0,
        links: Vec::new(),
        loss: 0.0,
        anti_entropy_ms: None,
    }
}

fn run(sc: &LeaderlessScenario, ivs: Vec<Intervention<Node>>) -> Engine<Node> {
    Engine::new(sc.setup().unwrap(), ivs)
}

/// `(cart, version number)` of every sibling replica 0 holds for `key`, in dot order.
fn siblings(engine: &Engine<Node>, replica: usize, key: &str) -> Vec<(String, u64)> {
    let View::Replica { data, .. } = distlab_sim::Protocol::view(&engine.world().nodes[replica])
    else {
        unreachable!()
    };
    data.get(key)
        .map(|s| {
            s.iter()
                .map(|s| (s.value.describe(), s.dot.counter))
                .collect()
        })
        .unwrap_or_default()
}

/// DDIA Figure 5-13: one server, two clients adding to a cart concurrently. With one
/// replica the dots' counters are the figure's version numbers.
#[test]
fn ddia_shopping_cart_figure_5_13() {
    let sc = scenario(
        1,
        &[("client1", 0), ("client2", 0)],
        Conflict::VersionVectors,
    );
    let (c1, c2) = (1, 2);
    let steps = [
        (c1, "milk", vec![("[milk]", 1)]),
        (c2, "eggs", vec![("[milk]", 1), ("[eggs]", 2)]),
        (c1, "flour", vec![("[eggs]", 2), ("[flour, milk]", 3)]),
        (
            c2,
            "ham",
            vec![("[flour, milk]", 3), ("[eggs, ham, milk]", 4)],
        ),
        (
            c1,
            "bacon",
            vec![("[eggs, ham, milk]", 4), ("[bacon, eggs, flour, milk]", 5)],
        ),
    ];
    let mut ivs = Vec::new();
    for (i, (client, item, want)) in steps.iter().enumerate() {
        ivs.push(leaderless::add(10 * i as u64, *client, "cart", item));
        let engine = run(&sc, ivs.clone());
        let want: Vec<(String, u64)> = want.iter().map(|(v, n)| (v.to_string(), *n)).collect();
        assert_eq!(siblings(&engine, 0, "cart"), want, "after adding {item}");
    }
    let engine = run(&sc, ivs);
    let names = sc.names();
    let a = analyze(&engine, engine.trace().len().checked_sub(1), &names);
    assert!(a.lost.is_empty(), "{:?}", a.lost);
    assert_eq!(a.merged["cart"], ["bacon", "eggs", "flour", "ham", "milk"]);
}

/// The same story under last-write-wins: every concurrent addition but one is lost.
#[test]
fn last_write_wins_loses_concurrent_additions() {
    let mut sc = scenario(
        1,
        &[("client1", 0), ("client2", 0)],
        Conflict::LastWriteWins,
    );
    sc.replicas[0].clock_drift_ppm = 0;
    let ivs = vec![
        leaderless::add(0, 1, "cart", "milk"),
        leaderless::add(10, 2, "cart", "eggs"),
        leaderless::add(20, 1, "cart", "flour"),
    ];
    let engine = run(&sc, ivs);
    let a = analyze(&engine, engine.trace().len().checked_sub(1), &sc.names());
    assert_eq!(a.merged["cart"], ["flour", "milk"]);
    assert_eq!(a.lost.len(), 1, "{:?}", a.lost);
    assert!(!a.lost[0].causally_later);
    assert!(a.lost[0].why.contains("concurrent"), "{}", a.lost[0].why);
    assert!(
        a.lost[0].why.contains("add eggs to cart"),
        "{}",
        a.lost[0].why
    );
}

/// DDIA Figure 8-3's shape: a replica whose clock is behind stamps a causally later write
/// with a smaller timestamp, and last-write-wins keeps the older value everywhere.
#[test]
fn skewed_clock_makes_lww_discard_a_causally_later_write() {
    let mut sc = scenario(2, &[("alice", 0), ("bob", 1)], Conflict::LastWriteWins);
    sc.replicas[1].clock_offset_ms = -50;
    let ivs = vec![
        leaderless::add(0, 2, "cart", "milk"),
        // Bob reads at r2 after replication, so his write has seen alice's.
        leaderless::get(20, 3, "cart", None),
        leaderless::add(40, 3, "cart", "eggs"),
    ];
    let engine = run(&sc, ivs);
    let a = analyze(&engine, engine.trace().len().checked_sub(1), &sc.names());
    assert!(a.converged);
    assert_eq!(a.merged["cart"], ["milk"]);
    assert_eq!(a.lost.len(), 1, "{:?}", a.lost);
    let lost = &a.lost[0];
    assert!(lost.causally_later);
    assert!(
        lost.why.contains("bob's write (add eggs to cart)"),
        "{}",
        lost.why
    );
    assert!(
        lost.why
            .contains("timestamp -9 ms (from r2's clock) is lower than the older write's 1 ms"),
        "{}",
        lost.why
    );
    // With version vectors, the same run keeps bob's write (it replaces alice's).
    sc.conflict = Conflict::VersionVectors;
    let engine = run(
        &sc,
        vec![
            leaderless::add(0, 2, "cart", "milk"),
            leaderless::get(20, 3, "cart", None),
            leaderless::add(40, 3, "cart", "eggs"),
        ],
    );
    let a = analyze(&engine, engine.trace().len().checked_sub(1), &sc.names());
    assert!(a.lost.is_empty());
    assert_eq!(a.merged["cart"], ["eggs", "milk"]);
}

/// Removing an item from one sibling: merged by union, it comes back unless the removal
/// left a tombstone.
#[test]
fn removed_items_come_back_without_tombstones() {
    // The resurrection: c2 had seen [milk] too and added eggs concurrently with the removal.
    for tombstones in [false, true] {
        let mut sc = scenario(1, &[("c1", 0), ("c2", 0)], Conflict::VersionVectors);
        sc.tombstones = tombstones;
        let ivs = vec![
            leaderless::add(0, 1, "cart", "milk"),
            leaderless::get(5, 2, "cart", None),
            leaderless::remove(20, 1, "cart", "milk"),
            leaderless::add(20, 2, "cart", "eggs"),
        ];
        let engine = run(&sc, ivs);
        let a = analyze(&engine, engine.trace().len().checked_sub(1), &sc.names());
        assert!(a.lost.is_empty());
        if tombstones {
            assert_eq!(a.merged["cart"], ["eggs"]);
            assert!(a.resurrected.is_empty());
        } else {
            assert_eq!(a.merged["cart"], ["eggs", "milk"]);
            assert_eq!(a.resurrected, [("cart".to_string(), "milk".to_string())]);
        }
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// Version vectors never lose an acknowledged write, whatever the interleaving,
    /// partitions and loss; survivors never cover each other; with anti-entropy and the
    /// network healed, replicas converge.
    #[test]
    fn version_vectors_keep_every_acknowledged_write(
        replicas in 1usize..=3,
        clients in 1usize..=3,
        seed in any::<u64>(),
        ops in prop::collection::vec((0u64..300, 0usize..3, 0u8..6, 0usize..3), 1..12),
        lossy in any::<bool>(),
    ) {
        let client_names = ["a", "b", "c"];
        let cl: Vec<(&str, usize)> = (0..clients).map(|i| (client_names[i], i % replicas)).collect();
        let mut sc = scenario(replicas, &cl, Conflict::VersionVectors);
        sc.seed = seed;
        sc.jitter_ms = 15;
        sc.loss = if lossy { 0.2 } else { 0.0 };
        sc.anti_entropy_ms = Some(40);
        sc.duration_ms = 600;
        let items = ["milk", "eggs", "ham"];
        let mut ivs = Vec::new();
        for &(at, who, kind, item) in &ops {
            let client = replicas + who % clients;
            ivs.push(match kind {
                0 | 1 => leaderless::add(at, client, "cart", items[item]),
                2 => leaderless::remove(at, client, "cart", items[item]),
                3 => leaderless::get(at, client, "cart", Some(item % replicas)),
                4 => Intervention::new(at, Action::Partition { groups: vec![vec![item % replicas]] }),
                _ => Intervention::new(at, Action::Heal),
            });
        }
        ivs.push(Intervention::new(310, Action::Heal));
        let engine = run(&sc, ivs);
        let a = analyze(&engine, engine.trace().len().checked_sub(1), &sc.names());
        prop_assert!(a.lost.is_empty(), "{:?}", a.lost);
        for sibs in a.survivors.values() {
            for s in sibs {
                for t in sibs {
                    prop_assert!(!covers(&t.context, s.dot));
                }
            }
        }
        if !lossy {
            prop_assert!(a.converged);
        }
    }
}

#[test]
fn scenario_errors_name_the_problem() {
    let sc = scenario(1, &[], Conflict::VersionVectors);
    assert_eq!(
        sc.setup().err().unwrap(),
        "a scenario needs at least one client"
    );
    let mut sc = scenario(2, &[("a", 0)], Conflict::VersionVectors);
    sc.clients[0].replica = "a".into();
    assert_eq!(
        sc.setup().err().unwrap(),
        "client \"a\": \"a\" is a client, not a replica"
    );
    sc.clients[0].replica = "r9".into();
    assert!(sc.setup().err().unwrap().contains("unknown node \"r9\""));
}
