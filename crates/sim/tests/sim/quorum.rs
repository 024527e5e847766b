//! The quorum store: each preset shows exactly what it claims; runs are deterministic;
//! over random runs with crashes, partitions and loss, linearizable mode (ABD) never
//! returns a stale or inverted read and stores every acknowledged write on a majority,
//! eventual mode with w + r > n never misses an acknowledged write, and anti-entropy makes
//! replicas converge after healing.

use crate::common;

use common::cases;
use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::linearizability::{Op, Status};
use distlab_sim::models::quorum::analysis::{
    analyze, history, Analysis, RequestOutcome, RequestRecord,
};
use distlab_sim::models::quorum::presets::{self, Preset};
use distlab_sim::models::quorum::{
    self, majority, preference_list, Consistency, Entry, Msg, Node, QuorumScenario, Request, View,
};
use distlab_sim::models::search::{network_fault, network_noise};
use distlab_sim::trace::EventKind;
use distlab_sim::{NodeId, Time};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

fn run(p: &Preset) -> Engine<Node> {
    Engine::new(p.scenario.setup().unwrap(), p.interventions.clone())
}

fn last(e: &Engine<Node>) -> Option<usize> {
    e.trace().len().checked_sub(1)
}

fn full(e: &Engine<Node>) -> Analysis {
    analyze(e, last(e))
}

fn req<'a>(a: &'a Analysis, label: &str) -> &'a RequestRecord {
    a.requests
        .iter()
        .find(|q| q.label.as_deref() == Some(label))
        .unwrap_or_else(|| panic!("no request labelled {label}"))
}

/// Replica `r`'s entry for `key` right after trace step `step`.
fn entry_at(e: &Engine<Node>, step: usize, r: NodeId, key: &str) -> Option<Entry> {
    match &e.views_at(Some(step))[r] {
        View::Replica { data, .. } => data.get(key).cloned(),
        View::Client { .. } => panic!("node {r} is a client"),
    }
}

fn hints_at(e: &Engine<Node>, step: usize, r: NodeId) -> usize {
    match &e.views_at(Some(step))[r] {
        View::Replica { hints, .. } => hints.len(),
        View::Client { .. } => panic!("node {r} is a client"),
    }
}

/// Steps where `to` received a message matching `f`.
fn deliveries(e: &Engine<Node>, to: NodeId, f: impl Fn(&Msg) -> bool) -> Vec<usize> {
    e.trace()
        .iter()
        .enumerate()
        .filter(|(_, ev)| {
            ev.node == Some(to)
                && matches!(&ev.kind, EventKind::Deliver { payload, .. } if f(payload))
        })
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn every_preset_is_valid_and_listed_once() {
    let all = presets::all();
    assert_eq!(all.len(), 8);
    for p in &all {
        assert!(p.scenario.setup().is_ok(), "{}", p.id);
        assert_eq!(presets::by_id(p.id).unwrap().id, p.id);
        assert!(!run(p).truncated());
    }
}

#[test]
fn strict_quorum_every_read_sees_the_latest_write() {
    let p = presets::strict_quorum();
    let e = run(&p);
    let a = full(&e);
    assert!(a.quorum_overlap, "{}", a.overlap);
    assert_eq!(a.requests.len(), 7);
    assert!(a.requests.iter().all(|q| q.outcome == RequestOutcome::Ok));
    let mut reads = 0;
    for rd in a.requests.iter().filter(|q| q.kind == quorum::Kind::Read) {
        let latest = a
            .requests
            .iter()
            .filter(|w| w.kind == quorum::Kind::Write && w.return_step < Some(rd.call_step))
            .max_by_key(|w| w.return_step)
            .expect("a write precedes every read");
        assert_eq!(rd.value, latest.value, "{:?}", rd.label);
        assert_eq!(rd.version, latest.version);
        assert_eq!(rd.read_from.len(), 2, "r = 2 answers");
        reads += 1;
    }
    assert_eq!(reads, 4);
    assert!(a.stale_reads.is_empty() && a.inversions.is_empty());
    // Writes are acknowledged by two replicas, without the far one (r3).
    for w in a.requests.iter().filter(|q| q.kind == quorum::Kind::Write) {
        assert_eq!(w.stored_at.len(), 2);
        assert!(!w.stored_at.contains(&2));
    }
}

#[test]
fn sloppy_reads_return_a_stale_value_after_an_acknowledged_write() {
    let e = run(&presets::sloppy_reads());
    let a = full(&e);
    assert!(!a.quorum_overlap);
    let w = req(&a, "c1 writes x=1");
    let stale = req(&a, "c2 reads x (stale)");
    let later = req(&a, "c2 reads x later");
    assert_eq!(w.outcome, RequestOutcome::Ok);
    assert!(w.return_ms.unwrap() < stale.call_ms);
    assert_eq!(stale.outcome, RequestOutcome::Ok);
    assert_eq!(stale.value, None, "r3 had not heard of the write");
    assert_eq!(stale.read_from, vec![2]);
    assert_eq!(later.value.as_deref(), Some("1"));
    assert_eq!(a.stale_reads.len(), 1);
    assert_eq!(a.stale_reads[0].read, stale.op);
    assert_eq!(a.stale_reads[0].write, w.op);
}

#[test]
fn a_quorum_is_not_linearizable_ddia_figure_9_6() {
    let e = run(&presets::quorum_not_linearizable());
    let a = full(&e);
    let [pa, pb, pc, o, ..] = presets::figure_9_6_roles();
    assert!(a.quorum_overlap, "w + r > n");
    let w0 = req(&a, "writer sets x=0");
    let w1 = req(&a, "writer sets x=1");
    let ra = req(&a, "A reads x");
    let rb = req(&a, "B reads x");
    assert_eq!(w0.outcome, RequestOutcome::Ok);
    assert!(w1.version > w0.version);
    let v1 = w1.version.clone().unwrap();
    // When A reads, the write has reached pa only.
    let holders = |step: usize| -> Vec<NodeId> {
        [pa, pb, pc, o]
            .into_iter()
            .filter(|&r| entry_at(&e, step, r, "x").is_some_and(|x| x.version == v1))
            .collect()
    };
    assert_eq!(holders(ra.call_step), vec![pa]);
    assert_eq!(ra.value.as_deref(), Some("1"));
    assert!(ra.read_from.contains(&pa));
    // B starts after A returned, reads two replicas the write has not reached: x=0.
    assert!(ra.return_ms.unwrap() < rb.call_ms);
    assert_eq!(holders(rb.call_step), vec![pa]);
    assert_eq!(rb.value.as_deref(), Some("0"));
    let mut from = rb.read_from.clone();
    from.sort();
    let mut expect = vec![pb, pc];
    expect.sort();
    assert_eq!(from, expect);
    // The write was still in flight.
    assert!(w1.return_ms.unwrap() > rb.return_ms.unwrap());
    assert_eq!(w1.outcome, RequestOutcome::Ok);
    assert_eq!(a.inversions.len(), 1);
    assert_eq!(
        (a.inversions[0].earlier, a.inversions[0].later),
        (ra.op, rb.op)
    );
    assert!(
        a.stale_reads.is_empty(),
        "no write was acknowledged before B began"
    );
    // The history says the same.
    let h = history(&e, last(&e));
    let b = h.ops.iter().find(|o| o.label == "B reads x").unwrap();
    assert_eq!(b.status, Status::Ok);
    assert_eq!(
        b.op,
        Op::Read {
            key: Some("x".into()),
            value: Some("0".into())
        }
    );
}

#[test]
fn abd_reads_write_back_so_b_sees_the_new_value() {
    let e = run(&presets::abd());
    let a = full(&e);
    let [pa, pb, pc, o, ..] = presets::figure_9_6_roles();
    assert_eq!(a.consistency, Consistency::Linearizable);
    assert!(a.note.as_deref().unwrap().contains("ignored"));
    let w1 = req(&a, "writer sets x=1");
    let ra = req(&a, "A reads x");
    let rb = req(&a, "B reads x");
    let v1 = w1.version.clone().unwrap();
    let holders = |step: usize| -> Vec<NodeId> {
        [pa, pb, pc, o]
            .into_iter()
            .filter(|&r| entry_at(&e, step, r, "x").is_some_and(|x| x.version == v1))
            .collect()
    };
    // The same situation as Figure 9-6 when A reads: only pa has the write.
    assert_eq!(holders(ra.call_step), vec![pa]);
    assert_eq!(ra.value.as_deref(), Some("1"));
    assert!(ra.return_ms.unwrap() < rb.call_ms);
    // The write's own stores had reached pa only when B began; pb has x=1 from A's
    // write-back.
    let own_store = |r: NodeId| {
        deliveries(
            &e,
            r,
            |m| matches!(m, Msg::Store { op, .. } if *op == w1.op),
        )
    };
    assert!(own_store(pb).iter().all(|&s| s > rb.call_step));
    assert!(own_store(pc).iter().all(|&s| s > rb.call_step));
    let write_back = deliveries(
        &e,
        pb,
        |m| matches!(m, Msg::WriteBack { op, .. } if *op == ra.op),
    );
    assert!(write_back.iter().any(|&s| s < rb.call_step));
    assert_eq!(rb.value.as_deref(), Some("1"));
    assert_eq!(rb.version, Some(v1));
    assert!(a.inversions.is_empty() && a.stale_reads.is_empty());
    assert!(a.requests.iter().all(|q| q.outcome == RequestOutcome::Ok));
}

#[test]
fn read_repair_fixes_the_stale_replica() {
    let p = presets::read_repair();
    let e = run(&p);
    let a = full(&e);
    let w = req(&a, "c1 writes x=1");
    let rd = req(&a, "c1 reads x");
    assert_eq!(w.outcome, RequestOutcome::Ok);
    assert_eq!(
        entry_at(&e, rd.call_step, 2, "x"),
        None,
        "r3 missed the write"
    );
    assert_eq!(rd.value.as_deref(), Some("1"));
    let repairs = deliveries(&e, 2, |m| matches!(m, Msg::Repair { .. }));
    assert_eq!(repairs.len(), 1);
    assert!(repairs[0] > rd.call_step);
    assert_eq!(
        a.replicas[2].data.get("x").map(|x| x.version.clone()),
        w.version
    );
    assert!(a.converged);
    // Without read repair r3 stays stale.
    let mut off = p.clone();
    off.scenario.read_repair = false;
    let a = full(&run(&off));
    assert_eq!(a.replicas[2].data.get("x"), None);
    assert!(!a.converged);
}

#[test]
fn hinted_handoff_succeeds_through_a_fallback_and_delivers_the_hint() {
    let p = presets::hinted_handoff();
    let [_, _, away, fallback] = presets::hinted_handoff_roles();
    let e = run(&p);
    let a = full(&e);
    let w = req(&a, "c1 writes x=1");
    assert_eq!(w.outcome, RequestOutcome::Ok);
    assert!(w.stored_at.contains(&fallback));
    assert!(!w.stored_at.contains(&away));
    let heal = e
        .trace()
        .iter()
        .position(|ev| matches!(ev.kind, EventKind::Heal))
        .unwrap();
    assert_eq!(entry_at(&e, heal, away, "x"), None);
    assert_eq!(hints_at(&e, heal, fallback), 1);
    assert_eq!(
        entry_at(&e, heal, fallback, "x"),
        None,
        "a hint is not data"
    );
    let handoffs = deliveries(&e, away, |m| matches!(m, Msg::Handoff { .. }));
    assert!(!handoffs.is_empty() && handoffs[0] > heal);
    assert_eq!(
        a.replicas[away].data.get("x").map(|x| x.version.clone()),
        w.version
    );
    assert!(a.replicas[fallback].hints.is_empty());
    assert!(a.converged);
    // A strict quorum (no sloppy quorum) cannot get w = 3 acks.
    let mut strict = p.clone();
    strict.scenario.sloppy_quorum = false;
    let a = full(&run(&strict));
    assert_eq!(req(&a, "c1 writes x=1").outcome, RequestOutcome::TimedOut);
}

fn side<'a>(
    a: &'a Analysis,
    replicas: &[NodeId],
) -> &'a distlab_sim::models::quorum::analysis::SideCounts {
    a.per_side
        .iter()
        .find(|s| s.side == replicas)
        .unwrap_or_else(|| panic!("no side {replicas:?}: {:?}", a.per_side))
}

#[test]
fn cap_ap_serves_both_sides_and_reads_stale_data() {
    let e = run(&presets::cap_ap());
    let a = full(&e);
    assert_eq!(a.per_side.len(), 2);
    for s in [side(&a, &[0]), side(&a, &[1, 2])] {
        assert_eq!(
            (s.counts.served, s.counts.refused, s.counts.pending),
            (4, 0, 0)
        );
    }
    for c in &a.per_client {
        assert_eq!((c.counts.served, c.counts.refused), (4, 0));
    }
    // cA reads its own side's value although cB's newer writes were acknowledged.
    let ra = req(&a, "cA reads x");
    assert_eq!(ra.value.as_deref(), Some("a1"));
    assert!(a.stale_reads.iter().any(|s| s.read == ra.op));
    assert_eq!(req(&a, "cA reads x again").value.as_deref(), Some("a2"));
    assert_eq!(req(&a, "cB reads x").value.as_deref(), Some("b1"));
    // After healing, anti-entropy converges on the higher version: cA's a2 is lost.
    assert!(a.converged);
    assert!(a.replicas.iter().all(|r| r.data["x"].value == "b2"));
}

#[test]
fn cap_cp_serves_the_majority_and_refuses_the_minority() {
    let e = run(&presets::cap_cp());
    let a = full(&e);
    let minority = side(&a, &[0]);
    assert_eq!((minority.counts.served, minority.counts.refused), (0, 4));
    assert_eq!(minority.clients, vec![3]);
    let majority_side = side(&a, &[1, 2]);
    assert_eq!(
        (majority_side.counts.served, majority_side.counts.refused),
        (4, 0)
    );
    assert!(a.stale_reads.is_empty() && a.inversions.is_empty());
    assert_eq!(req(&a, "cB reads x again").value.as_deref(), Some("b2"));
    // The history: cA's timed-out writes are Info without a return, its reads Fail.
    let h = history(&e, last(&e));
    for op in h.ops.iter().filter(|o| o.client == 3) {
        match op.op {
            Op::Write { .. } => assert_eq!((op.status, op.ret), (Status::Info, None)),
            _ => assert_eq!(op.status, Status::Fail),
        }
    }
    assert!(h
        .ops
        .iter()
        .filter(|o| o.client == 4)
        .all(|o| o.status == Status::Ok));
}

#[test]
fn runs_are_deterministic() {
    for p in presets::all() {
        let a = run(&p);
        let b = run(&p);
        assert_eq!(
            distlab_sim::trace::to_json(a.trace()),
            distlab_sim::trace::to_json(b.trace()),
            "{}",
            p.id
        );
    }
    let mut p = presets::cap_ap();
    p.scenario.jitter_ms = 15;
    p.scenario.loss = 0.1;
    assert_eq!(
        distlab_sim::trace::to_json(run(&p).trace()),
        distlab_sim::trace::to_json(run(&p).trace())
    );
}

#[test]
fn scenario_errors_are_clear() {
    let ok = QuorumScenario::cluster(3, &[0]);
    assert!(ok.setup().is_ok());
    let err = |f: &dyn Fn(&mut QuorumScenario)| {
        let mut s = ok.clone();
        f(&mut s);
        s.setup().expect_err("an error")
    };
    assert!(err(&|s| s.n = 4).contains("n = 4"));
    assert!(err(&|s| s.n = 0).contains("n = 0"));
    assert!(err(&|s| s.w = 0).contains("w = 0"));
    assert!(err(&|s| s.r = 3 + 1).contains("r = 4"));
    assert!(err(&|s| s.replicas.truncate(2)).contains("3 to 7"));
    assert!(err(&|s| s.clients.clear()).contains("client"));
    assert!(err(&|s| s.clients[0].replica = "nowhere".into()).contains("unknown node"));
    assert!(err(&|s| s.timeout_ms = 0).contains("timeout_ms"));
    assert!(err(&|s| s.anti_entropy_ms = Some(0)).contains("anti_entropy_ms"));
    assert!(err(&|s| {
        s.sloppy_quorum = true;
        s.handoff_after_ms = s.timeout_ms;
    })
    .contains("handoff_after_ms"));
    assert!(err(&|s| s.loss = 2.0).contains("loss"));
}

#[test]
fn scenarios_read_from_toml() {
    let text = r#"
        consistency = "linearizable"
        n = 3
        anti_entropy_ms = 100
        replicas = [{ name = "a" }, { name = "b" }, { name = "c", place = "Sydney" }]
        clients = [{ name = "alice", replica = "b" }]
        links = [{ a = "a", b = "c", ms = 120 }]
    "#;
    let s: QuorumScenario = toml::from_str(text).unwrap();
    assert_eq!(s.consistency, Consistency::Linearizable);
    assert_eq!((s.w, s.r, s.timeout_ms), (2, 2, 500));
    assert!(s.setup().is_ok());
    assert!(toml::from_str::<QuorumScenario>(&format!("{text}\nquorum = 2")).is_err());
}

#[test]
fn labels_read_well() {
    use distlab_sim::Describe;
    let e = run(&presets::hinted_handoff());
    let labels: Vec<String> = e
        .trace()
        .iter()
        .flat_map(|ev| ev.sent.iter().map(|s| s.payload.label()))
        .collect();
    let has = |p: &str| labels.iter().any(|l| l.starts_with(p));
    assert!(has("write x=1"), "{labels:?}");
    assert!(
        labels.iter().any(|l| l.contains("hint for r2")),
        "{labels:?}"
    );
    assert!(has("ack") && has("handoff x=1 v1."));
    assert!(has("ok v1."), "{labels:?}");
}

// ---- random runs ----

/// A random run: shape, network noise and a schedule of requests and faults, all from
/// `seed`. Requests use keys x and y with unique values; faults are crashes (restarted
/// later) and the shared network faults, all repaired by `repaired_by` ms.
struct RandomRun {
    scenario: QuorumScenario,
    interventions: Vec<Intervention<Node>>,
}

fn random_run(
    seed: u64,
    consistency: Consistency,
    eventual_overlap: bool,
    writers: Option<usize>,
) -> RandomRun {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let replicas = rng.random_range(3..=5);
    let clients = rng.random_range(1..=3);
    let homes: Vec<usize> = (0..clients)
        .map(|_| rng.random_range(0..replicas))
        .collect();
    let mut s = QuorumScenario::cluster(replicas, &homes);
    s.seed = seed;
    s.consistency = consistency;
    s.n = rng.random_range(1..=replicas);
    if eventual_overlap {
        s.w = rng.random_range(1..=s.n);
        s.r = s.n + 1 - s.w + rng.random_range(0..s.w);
        s.r = s.r.min(s.n);
    } else {
        s.w = rng.random_range(1..=s.n);
        s.r = rng.random_range(1..=s.n);
    }
    s.read_repair = rng.random_bool(0.5);
    s.timeout_ms = rng.random_range(100..400);
    s.handoff_after_ms = rng.random_range(20..s.timeout_ms);
    let (loss, jitter) = network_noise(seed, 0x0051_u64);
    s.loss = loss.min(0.05);
    s.jitter_ms = jitter;
    s.latency_ms = rng.random_range(1..=20);
    s.duration_ms = 3_000;
    let nodes = replicas + clients;
    let mut ivs = Vec::new();
    let ops = rng.random_range(2..=12);
    for i in 0..ops {
        let at: Time = rng.random_range(0..=1_000);
        let client = match writers {
            Some(k) if rng.random_bool(0.5) => replicas + k.min(clients - 1),
            _ => replicas + rng.random_range(0..clients),
        };
        let key = if rng.random_bool(0.6) { "x" } else { "y" };
        let is_write = rng.random_bool(0.5);
        let allowed_writer = writers.is_none_or(|k| client == replicas + k.min(clients - 1));
        let iv = if is_write && allowed_writer {
            quorum::write(at, client, key, &format!("v{i}"))
        } else {
            quorum::read(at, client, key)
        };
        ivs.push(quorum::labelled(iv, &format!("op{i}")));
    }
    let faults = rng.random_range(0..=4);
    for _ in 0..faults {
        let at: Time = rng.random_range(0..=700);
        if rng.random_bool(0.35) {
            let node = rng.random_range(0..replicas);
            ivs.push(Intervention::new(at, Action::Crash { node }));
            ivs.push(Intervention::new(
                at + rng.random_range(50..800),
                Action::Restart { node },
            ));
        } else if let Some((fault, when, repair)) = network_fault::<Node>(&mut rng, nodes, at) {
            ivs.push(Intervention::new(at, fault));
            ivs.push(Intervention::new(when, repair));
        }
    }
    ivs.sort_by_key(|iv| iv.at);
    RandomRun {
        scenario: s,
        interventions: ivs,
    }
}

proptest! {
    #![proptest_config(cases(48))]

    /// ABD: no read returns a version older than a write acknowledged before it began, or
    /// than a read that returned before it began; every acknowledged write's version (or
    /// a newer one) is on a majority of its key's replicas when the client gets the ack.
    #[test]
    fn linearizable_mode_never_reads_stale(seed in any::<u64>()) {
        let rr = random_run(seed, Consistency::Linearizable, false, None);
        let e = Engine::new(rr.scenario.setup().unwrap(), rr.interventions);
        let a = full(&e);
        prop_assert!(a.stale_reads.is_empty(), "{:?}", a.stale_reads);
        prop_assert!(a.inversions.is_empty(), "{:?}", a.inversions);
        let (replicas, n) = (rr.scenario.replicas.len(), rr.scenario.n);
        for w in a.requests.iter().filter(|q| q.kind == quorum::Kind::Write && q.outcome == RequestOutcome::Ok) {
            let v = w.version.clone().unwrap();
            let step = w.return_step.unwrap();
            let holding = preference_list(&w.key, replicas, n)
                .into_iter()
                .filter(|&r| entry_at(&e, step, r, &w.key).is_some_and(|x| x.version >= v))
                .count();
            prop_assert!(holding >= majority(n), "write {:?} on {holding} of {n}", w.label);
        }
        // Every served read returns a value some write wrote (values are unique), with
        // that write's version when the writer learnt it (a write whose coordinator
        // crashed times out at the client without one).
        for rd in a.requests.iter().filter(|q| q.kind == quorum::Kind::Read && q.outcome == RequestOutcome::Ok) {
            if let Some(v) = &rd.version {
                let w = a.requests.iter().find(|w| w.kind == quorum::Kind::Write && w.value == rd.value);
                prop_assert!(w.is_some_and(|w| w.version.as_ref().is_none_or(|wv| wv == v)), "{:?}", rd);
            }
        }
    }

    /// Eventual mode with w + r > n, a strict quorum and one writer: every read returns
    /// the latest write acknowledged before it began, or a newer one.
    #[test]
    fn eventual_overlapping_quorums_see_acknowledged_writes(seed in any::<u64>()) {
        let mut rr = random_run(seed, Consistency::Eventual, true, Some(0));
        rr.scenario.sloppy_quorum = false;
        prop_assert!(rr.scenario.w + rr.scenario.r > rr.scenario.n);
        let e = Engine::new(rr.scenario.setup().unwrap(), rr.interventions);
        let a = full(&e);
        prop_assert!(a.quorum_overlap);
        prop_assert!(a.stale_reads.is_empty(), "{:?}", a.stale_reads);
        for rd in a.requests.iter().filter(|q| q.kind == quorum::Kind::Read && q.outcome == RequestOutcome::Ok) {
            let latest = a.requests.iter()
                .filter(|w| w.kind == quorum::Kind::Write && w.key == rd.key && w.outcome == RequestOutcome::Ok && w.return_step < Some(rd.call_step))
                .max_by_key(|w| w.version.clone());
            if let Some(w) = latest {
                prop_assert!(rd.version >= w.version);
                if rd.version == w.version {
                    prop_assert_eq!(&rd.value, &w.value);
                }
            }
        }
    }

    /// Anti-entropy (and hinted handoff) make every key's replicas agree once all faults
    /// are repaired, and no hint is left undelivered.
    #[test]
    fn replicas_converge_after_healing(seed in any::<u64>()) {
        let mut rr = random_run(seed, Consistency::Eventual, false, None);
        rr.scenario.anti_entropy_ms = Some(50);
        rr.scenario.sloppy_quorum = seed % 2 == 0;
        let e = Engine::new(rr.scenario.setup().unwrap(), rr.interventions);
        let a = full(&e);
        prop_assert!(a.converged, "{:?}", a.replicas);
        prop_assert!(a.replicas.iter().all(|r| r.hints.is_empty()), "{:?}", a.replicas);
        // Every key a write reached is on all of its replicas.
        let mut keys: BTreeMap<String, ()> = BTreeMap::new();
        for r in &a.replicas {
            for k in r.data.keys() {
                keys.insert(k.clone(), ());
            }
        }
        for k in keys.keys() {
            for p in preference_list(k, rr.scenario.replicas.len(), rr.scenario.n) {
                prop_assert!(a.replicas[p].data.contains_key(k));
            }
        }
    }
}

#[test]
fn requests_of_a_crashed_coordinator_time_out_at_the_client() {
    let mut s = QuorumScenario::cluster(3, &[0]);
    s.timeout_ms = 100;
    let ivs = vec![
        quorum::labelled(quorum::write(0, 3, "x", "1"), "w"),
        Intervention::new(5, Action::Crash { node: 0 }),
    ];
    let mut ivs2 = ivs.clone();
    ivs2.push(Intervention::new(
        50,
        Action::Request {
            client: 3,
            request: Request::Read { key: "x".into() },
            label: Some("r".into()),
        },
    ));
    let e = Engine::new(s.setup().unwrap(), ivs2);
    let a = full(&e);
    let w = req(&a, "w");
    assert_eq!(w.outcome, RequestOutcome::TimedOut);
    assert_eq!(
        w.return_ms,
        Some(200),
        "the client's own timeout: 2 × timeout_ms"
    );
    assert!(w.reason.as_deref().unwrap().contains("no answer"));
    assert_eq!(req(&a, "r").outcome, RequestOutcome::TimedOut);
}

proptest! {
    #![proptest_config(cases(120))]

    /// ABD (linearizable mode) under random crashes, partitions and loss: the client
    /// history passes the linearizability checker (Attiya, Bar-Noy & Dolev 1995).
    #[test]
    fn abd_histories_pass_the_linearizability_checker(seed in any::<u64>()) {
        use distlab_sim::linearizability::{check, Model, ModelSpec, Outcome};
        let rr = random_run(seed, Consistency::Linearizable, false, None);
        let e = Engine::new(rr.scenario.setup().unwrap(), rr.interventions);
        let h = distlab_sim::models::history::quorum(&e, last(&e)).0;
        let v = check(&h, &ModelSpec::new(Model::Register), None);
        prop_assert_eq!(v.outcome, Outcome::Linearizable, "{:?}", v.explanation);
    }
}

/// Dynamo quorums are not linearizable: over random runs with concurrent writers, the
/// checker rejects some eventual-mode histories even with w + r > n, and rejects the
/// Figure 9-6 preset, naming reader B's read.
#[test]
fn eventual_quorums_fail_the_linearizability_checker() {
    use distlab_sim::linearizability::{check, Model, ModelSpec, Outcome};
    let spec = ModelSpec::new(Model::Register);
    let p = presets::by_id("quorum-not-linearizable").unwrap();
    let e = run(&p);
    let (h, _) = distlab_sim::models::history::quorum(&e, last(&e));
    let v = check(&h, &spec, None);
    assert_eq!(v.outcome, Outcome::NotLinearizable);
    let blocked = &h.ops[v.explanation.unwrap().blocked];
    let a = full(&e);
    let inversion = &a.inversions[0];
    let later = a.requests.iter().find(|r| r.op == inversion.later).unwrap();
    assert_eq!(blocked.client, later.client as u64);
    let failing = (0..400)
        .filter(|&seed| {
            let rr = random_run(seed, Consistency::Eventual, true, None);
            let e = Engine::new(rr.scenario.setup().unwrap(), rr.interventions);
            let h = distlab_sim::models::history::quorum(&e, last(&e)).0;
            check(&h, &spec, None).outcome == Outcome::NotLinearizable
        })
        .count();
    assert!(
        failing > 0,
        "some overlapping-quorum run is not linearizable"
    );
}
