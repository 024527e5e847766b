//! Determinism and replay, over random scenarios and random fault schedules:
//!
//! - the same setup and interventions give a byte-identical trace;
//! - adding interventions one at a time ([`Engine::add_intervention`]) gives the same trace
//!   as a run from scratch with all of them, and keeps the trace up to the added
//!   intervention's time;
//! - stepping back ([`Engine::world_at`]) gives the world a fresh engine reaches by stepping
//!   forward, and [`Engine::views_at`] agrees with it.

use crate::common;

use common::{build, schedule, spec, Faults, Modes};
use distlab_sim::models::replication::Node;
use distlab_sim::trace::to_json;
use distlab_sim::{Engine, Intervention, Protocol};
use proptest::prelude::*;

proptest! {
    #![proptest_config(common::cases(256))]

    /// (a) Same scenario + interventions ⇒ byte-identical trace, and the same final world.
    #[test]
    fn same_run_same_trace(spec in spec(Modes::Any, true), ops in schedule(Faults::ALL, 20, 8)) {
        let ivs = build(&spec, &ops);
        let a = Engine::new(spec.setup(), ivs.clone());
        let b = Engine::new(spec.setup(), ivs);
        // Every intervention leaves an event; a run without any has nothing to do.
        prop_assert_eq!(a.trace().is_empty(), ops.is_empty());
        prop_assert_eq!(to_json(a.trace()), to_json(b.trace()));
        prop_assert!(a.world() == b.world());
    }
}

proptest! {
    #![proptest_config(common::cases(160))]

    /// (b) Incremental ≡ from scratch. `add_intervention` places no constraint on the order
    /// of times (the queue orders interventions by time, then by list position), so the
    /// schedule's times are in random order, with many equal times.
    #[test]
    fn incremental_equals_from_scratch(
        spec in spec(Modes::Any, true),
        ops in schedule(Faults::ALL, 40, 10),
        split in any::<prop::sample::Index>(),
    ) {
        let ivs = build(&spec, &ops);
        let k = split.index(ivs.len() + 1);
        let scratch = Engine::new(spec.setup(), ivs.clone());
        let mut inc = Engine::new(spec.setup(), ivs[..k].to_vec());
        for iv in &ivs[k..] {
            let before = inc.trace().clone();
            let old_horizon = inc.horizon();
            inc.add_intervention(iv.clone());
            // Every event up to and including the intervention's time is kept.
            let kept = before.iter().take_while(|e| e.time <= iv.at).count();
            prop_assert!(kept <= inc.trace().len());
            prop_assert_eq!(
                to_json(&before[..kept]),
                to_json(&inc.trace()[..kept]),
                "prefix up to {} ms changed by {:?}", iv.at, iv.action
            );
            // What follows the prefix is new: events the old run never reached (past its
            // horizon) and, at `iv.at`, the intervention's own event.
            for e in &inc.trace()[kept..] {
                if e.time < iv.at {
                    prop_assert!(e.time > old_horizon, "event at {} ms not kept", e.time);
                }
            }
            prop_assert!(inc.trace()[kept..].iter().any(|e| e.time == iv.at));
        }
        prop_assert_eq!(inc.interventions(), &ivs[..]);
        prop_assert_eq!(to_json(inc.trace()), to_json(scratch.trace()));
        prop_assert!(inc.world() == scratch.world());
        // Stepping back on the incrementally built engine uses its rebuilt checkpoints.
        if let Some(last) = scratch.trace().len().checked_sub(1) {
            for s in [0, last / 3, last / 2, last] {
                prop_assert!(inc.world_at(Some(s)) == scratch.world_at(Some(s)));
            }
        }
    }

    /// (c) `world_at(Some(s))` equals the world a fresh engine reaches by stepping forward
    /// `s + 1` events, for every `s`; and `views_at(Some(s))` are the views of that world.
    #[test]
    fn step_back_equals_stepping_forward(
        spec in spec(Modes::Any, true),
        ops in schedule(Faults::ALL, 40, 10),
    ) {
        let ivs: Vec<Intervention<Node>> = build(&spec, &ops);
        let engine = Engine::new(spec.setup(), ivs.clone());
        let mut fresh = Engine::start_with(spec.setup(), ivs);
        prop_assert!(engine.world_at(None).as_ref() == Some(fresh.world()));
        let start_views: Vec<_> = fresh.world().nodes.iter().map(Protocol::view).collect();
        prop_assert!(engine.views_at(None) == start_views);
        for s in 0..engine.trace().len() {
            prop_assert!(fresh.step(), "fresh engine stopped early at step {}", s);
            let back = engine.world_at(Some(s)).expect("step in the trace");
            prop_assert!(&back == fresh.world(), "world_at({}) differs from stepping", s);
            let views = engine.views_at(Some(s));
            prop_assert_eq!(views.len(), back.nodes.len());
            for (n, v) in views.iter().enumerate() {
                prop_assert_eq!(v, &Protocol::view(&back.nodes[n]), "node {} at step {}", n, s);
            }
        }
        prop_assert!(!fresh.step(), "fresh engine has more events than the run");
        prop_assert!(engine.world_at(Some(engine.trace().len())).is_none());
        prop_assert_eq!(to_json(fresh.trace()), to_json(engine.trace()));
    }
}

/// A fixed case that crosses several checkpoints, so `world_at` replays from one that is
/// not the first.
#[test]
fn step_back_across_checkpoints() {
    use distlab_sim::models::replication::{read, write};
    let spec = common::Spec {
        seed: 7,
        followers: 3,
        clients: 2,
        mode: "semi-sync",
        k: 2,
        latency_ms: 5,
        jitter_ms: 7,
        retransmit_ms: 100,
        loss: 0.0,
        duration_ms: 1_000,
    };
    let mut ivs = Vec::new();
    for i in 0..60u64 {
        ivs.push(write(i * 10, 4 + (i as usize % 2), "x", &format!("v{i}")));
        ivs.push(read(i * 10 + 3, 4, (i as usize) % 4, "x"));
    }
    let engine = Engine::new(spec.setup(), ivs.clone());
    assert!(engine.trace().len() > 3 * distlab_sim::engine::CHECKPOINT_EVERY);
    let mut fresh = Engine::start_with(spec.setup(), ivs);
    for s in 0..engine.trace().len() {
        assert!(fresh.step());
        assert!(
            engine.world_at(Some(s)).as_ref() == Some(fresh.world()),
            "step {s}"
        );
    }
}
