//! The linearizability checker on the client histories of whole model runs
//! (`models::history`): what each protocol guarantees, the checker confirms, and where a
//! protocol is broken or only eventually consistent, the checker finds the violation.

use distlab_sim::engine::Engine;
use distlab_sim::lesson::history_not_linearizable;
use distlab_sim::linearizability::{check, Model, ModelSpec, Outcome, Status};
use distlab_sim::models::history;
use distlab_sim::models::raft::explore::{random_schedule, scenario_for};
use distlab_sim::models::raft::{Broken, RaftScenario, Refinement};
use distlab_sim::models::{quorum, replication};
use std::collections::BTreeSet;

fn register() -> ModelSpec {
    ModelSpec::new(Model::Register)
}

fn end<P: distlab_sim::Protocol>(e: &Engine<P>) -> Option<usize> {
    e.trace().len().checked_sub(1)
}

/// Correct Raft (reads through the log, and reads by read index) gives a linearizable
/// history under random crashes, partitions and loss — Raft's promise to clients
/// (dissertation §6.3–6.4) — and the checker sees every operation.
#[test]
fn raft_histories_under_random_faults_are_linearizable() {
    let mut checked_ops = 0;
    for refinements in [BTreeSet::new(), BTreeSet::from([Refinement::ReadIndex])] {
        let mut base = RaftScenario::cluster(5, 2);
        base.duration_ms = 2_500;
        base.refinements = refinements;
        for seed in 0..60 {
            let s = scenario_for(&base, seed);
            let ivs = random_schedule(&s, seed).unwrap();
            let e = Engine::new(s.setup().unwrap(), ivs);
            let (h, steps) = history::raft(&e, end(&e));
            assert_eq!(h.ops.len(), steps.len());
            let v = check(&h, &register(), None);
            assert_eq!(
                v.outcome,
                Outcome::Linearizable,
                "seed {seed}: {:?}",
                v.explanation
            );
            checked_ops += h.ops.iter().filter(|o| o.status == Status::Ok).count();
        }
    }
    assert!(
        checked_ops > 500,
        "the runs have client operations: {checked_ops}"
    );
}

/// Raft with the read-index leadership check broken: a deposed leader answers reads from
/// its stale state machine. The seed the Raft search catches (see tests/raft.rs) gives a
/// history the checker rejects — the checker agrees with the Raft monitor.
#[test]
fn raft_without_the_read_leadership_check_is_not_linearizable() {
    let mut base = RaftScenario::cluster(5, 2);
    base.duration_ms = 2_500;
    base.refinements = BTreeSet::from([Refinement::ReadIndex]);
    base.broken = BTreeSet::from([Broken::ReadLeadershipCheck]);
    let caught = (0..2_000u64).find(|&seed| {
        let s = scenario_for(&base, seed);
        let ivs = random_schedule(&s, seed).unwrap();
        let e = Engine::new(s.setup().unwrap(), ivs);
        let h = history::raft(&e, end(&e)).0;
        check(&h, &register(), None).outcome == Outcome::NotLinearizable
    });
    let seed = caught.expect("some seed in 0..2000 gives a non-linearizable history");
    // The same faults on correct Raft are fine.
    let mut fixed = scenario_for(&base, seed);
    fixed.broken.clear();
    let ivs = random_schedule(&fixed, seed).unwrap();
    let e = Engine::new(fixed.setup().unwrap(), ivs);
    assert_eq!(
        check(&history::raft(&e, end(&e)).0, &register(), None).outcome,
        Outcome::Linearizable
    );
}

/// Alice's reload from a lagging follower after her comment was acknowledged (the
/// read-your-writes preset): a stale read, and not linearizable; the operation that cannot
/// be placed is her read.
#[test]
fn a_stale_read_from_a_follower_is_not_linearizable() {
    let p = replication::presets::preset("read-your-writes-anomaly").unwrap();
    let e = Engine::new(p.scenario.setup().unwrap(), p.interventions.clone());
    let (h, steps) = history::replication(&e, end(&e));
    let a = replication::analysis::analyze(&e, end(&e));
    assert!(a.stale_reads().next().is_some());
    let v = check(&h, &register(), None);
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    let blocked = v.explanation.unwrap().blocked;
    let stale = a.stale_reads().next().unwrap();
    assert_eq!(steps[blocked].client, stale.client);
    assert!(history_not_linearizable(&h));
    // Before the read returns, nothing is wrong yet.
    let before = steps[blocked].ret.unwrap() - 1;
    assert!(!history_not_linearizable(
        &history::replication(&e, Some(before)).0
    ));
}

/// A history's operations are in call order with the run's times; writes still waiting at
/// the cursor are of unknown outcome, reads still waiting are left out.
#[test]
fn histories_follow_the_cursor() {
    let p = quorum::presets::by_id("strict-quorum").unwrap();
    let e = Engine::new(p.scenario.setup().unwrap(), p.interventions.clone());
    let (full, steps) = history::quorum(&e, end(&e));
    assert!(full.ops.windows(2).all(|w| w[0].call <= w[1].call));
    assert!(full.ops.iter().all(|o| o.status == Status::Ok));
    assert!(history::quorum(&e, None).0.ops.is_empty());
    // Just after the first call: one operation, pending.
    let (h, _) = history::quorum(&e, Some(steps[0].call));
    assert_eq!(h.ops.len(), 1);
    assert!(h.ops[0].ret.is_none());
}

/// The shopping cart (version-vectors lesson), checked as one set per cart: last-write-wins
/// discards acknowledged additions, so a read after them misses an added item — not
/// linearizable — and the checker blames that read.
#[test]
fn last_write_wins_carts_are_not_linearizable() {
    use distlab_sim::lesson::Lesson;
    use distlab_sim::models::{leaderless, Leaderless};
    let l = Lesson::parse(include_str!("../../../../lessons/version-vectors.toml")).unwrap();
    let step = |title: &str| l.steps.iter().position(|s| s.title == title).unwrap();
    let (s, mut ivs) = l.engine_run::<Leaderless>(step("Last write wins")).unwrap();
    // With no read, nothing was observed: a history of adds alone is linearizable.
    let e = Engine::new(s.setup().unwrap(), ivs.clone());
    let adds = history::leaderless(&e, end(&e)).0;
    assert_eq!(
        check(&adds, &ModelSpec::new(Model::Set), None).outcome,
        Outcome::Linearizable
    );
    // A client reads the cart once every addition was acknowledged.
    let client = s.node(&s.clients[0].name).unwrap();
    ivs.push(leaderless::get(400, client, "cart", None));
    let e = Engine::new(s.setup().unwrap(), ivs);
    let a = leaderless::analysis::analyze(&e, end(&e), &s.names());
    assert!(!a.lost.is_empty(), "the step loses writes");
    let (h, _) = history::leaderless(&e, end(&e));
    let v = check(&h, &ModelSpec::new(Model::Set), None);
    assert_eq!(v.outcome, Outcome::NotLinearizable, "{h:?}");
    let ex = v.explanation.unwrap();
    assert!(matches!(
        h.ops[ex.blocked].op,
        distlab_sim::linearizability::Op::ReadSet { .. }
    ));
}
