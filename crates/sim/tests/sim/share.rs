//! Run links (`share::RunLink`): a run of every engine model, with random faults added,
//! survives encode → decode → rebuild with a byte-identical trace; decoding never panics on
//! damaged or hostile codes; a run whose scenario or interventions are edited by hand is
//! refused with an error or runs, never panics; versions, models and node ids are checked;
//! isolation-lab runs round trip.

use crate::common::cases;
use crate::common::runs::{faults, run_with_faults, RawFault, StepRuns};
use base64::Engine as _;
use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::models::{self, EngineModel};
use distlab_sim::share::{self, LinkError, RunLink};
use distlab_sim::trace;
use proptest::prelude::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Step `pick` (modulo their number) of `M`'s lesson steps, with `raw` faults added: the
/// link of the run decodes to the same run, and rebuilding it gives the identical trace.
fn round_trip<M: StepRuns>(pick: usize, raw: &[RawFault], cursor: u16) {
    let steps = M::steps();
    assert!(!steps.is_empty(), "{} has lesson steps", M::NAME);
    let (scenario, ivs, _, name) = &steps[pick % steps.len()];
    let engine = run_with_faults::<M>(scenario, ivs, raw);
    let cursor = engine
        .trace()
        .len()
        .checked_sub(1)
        .map(|last| cursor as usize % (last + 1));
    let mut link = RunLink::of::<M>(scenario, engine.interventions(), cursor);
    link.lesson = Some("some-lesson".into());
    link.step = Some(3);
    link.zoom = Some(2.5);
    let code = link.encode();
    assert!(
        code.starts_with("1.")
            && code[2..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{name}: the code is URL-safe: {code}"
    );
    for back in [
        RunLink::decode(&code).unwrap_or_else(|e| panic!("{name}: {e}")),
        RunLink::from_json(&link.to_json()).unwrap_or_else(|e| panic!("{name}: {e}")),
    ] {
        assert_eq!(back, link, "{name}");
        let (s2, ivs2) = back.run::<M>().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&s2, scenario, "{name}");
        assert_eq!(ivs2, engine.interventions(), "{name}");
        let again = Engine::new(M::setup(&s2).unwrap(), ivs2);
        assert_eq!(
            trace::to_json(again.trace()),
            trace::to_json(engine.trace()),
            "{name}: the rebuilt trace is byte-identical"
        );
        assert_eq!(trace::digest(again.trace()), trace::digest(engine.trace()));
    }
}

proptest! {
    #![proptest_config(cases(12))]

    #[test]
    fn replication_runs_round_trip(pick in any::<usize>(), raw in faults(4, 1_500), c in any::<u16>()) {
        round_trip::<models::Replication>(pick, &raw, c);
    }

    #[test]
    fn clocks_runs_round_trip(pick in any::<usize>(), raw in faults(4, 400), c in any::<u16>()) {
        round_trip::<models::Clocks>(pick, &raw, c);
    }

    #[test]
    fn leaderless_runs_round_trip(pick in any::<usize>(), raw in faults(4, 800), c in any::<u16>()) {
        round_trip::<models::Leaderless>(pick, &raw, c);
    }

    #[test]
    fn raft_runs_round_trip(pick in any::<usize>(), raw in faults(4, 1_500), c in any::<u16>()) {
        round_trip::<models::Raft>(pick, &raw, c);
    }

    #[test]
    fn paxos_runs_round_trip(pick in any::<usize>(), raw in faults(4, 1_000), c in any::<u16>()) {
        round_trip::<models::Paxos>(pick, &raw, c);
    }

    #[test]
    fn quorum_runs_round_trip(pick in any::<usize>(), raw in faults(4, 1_500), c in any::<u16>()) {
        round_trip::<models::Quorum>(pick, &raw, c);
    }

    #[test]
    fn twopc_runs_round_trip(pick in any::<usize>(), raw in faults(4, 600), c in any::<u16>()) {
        round_trip::<models::TwoPc>(pick, &raw, c);
    }

    #[test]
    fn failure_detector_runs_round_trip(pick in any::<usize>(), raw in faults(4, 4_000), c in any::<u16>()) {
        round_trip::<models::FailureDetector>(pick, &raw, c);
    }

    #[test]
    fn gossip_runs_round_trip(pick in any::<usize>(), raw in faults(4, 1_500), c in any::<u16>()) {
        round_trip::<models::Gossip>(pick, &raw, c);
    }
}

/// Every lesson step of every model, once, without faults.
#[test]
fn every_lesson_step_round_trips() {
    fn all<M: StepRuns>() -> usize {
        let n = M::steps().len();
        for i in 0..n {
            round_trip::<M>(i, &[], u16::MAX);
        }
        n
    }
    let counts = [
        all::<models::Replication>(),
        all::<models::Clocks>(),
        all::<models::Leaderless>(),
        all::<models::Raft>(),
        all::<models::Paxos>(),
        all::<models::Quorum>(),
        all::<models::TwoPc>(),
        all::<models::FailureDetector>(),
        all::<models::Gossip>(),
    ];
    assert!(
        counts.iter().all(|&n| n > 0),
        "every model has steps: {counts:?}"
    );
}

/// A valid code of some run (the first replication lesson step).
fn valid_code() -> String {
    let steps = models::Replication::steps();
    let (s, ivs, _, _) = &steps[steps.len() / 2];
    RunLink::of::<models::Replication>(s, ivs, Some(5)).encode()
}

/// Opens a decoded link as each model would; if a model accepts it, runs it to the end.
/// Neither may panic.
fn open_everywhere(link: &RunLink) {
    fn open<M: EngineModel>(link: &RunLink) {
        if let Ok((s, ivs)) = link.run::<M>() {
            let setup = M::setup(&s).expect("run() checked the scenario");
            let e = Engine::new(setup, ivs);
            let _ = M::analyze(&s, &e, e.trace().len().checked_sub(1));
        }
    }
    open::<models::Replication>(link);
    open::<models::Clocks>(link);
    open::<models::Leaderless>(link);
    open::<models::Raft>(link);
    open::<models::Paxos>(link);
    open::<models::Quorum>(link);
    open::<models::TwoPc>(link);
    open::<models::FailureDetector>(link);
    open::<models::Gossip>(link);
    let _ = link.isolation_parts();
}

fn decode_any(code: &str) {
    match RunLink::decode(code) {
        Ok(link) => open_everywhere(&link),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn decode_never_panics_on_any_string(s in ".*") {
        decode_any(&s);
    }

    #[test]
    fn decode_never_panics_on_base64_of_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        decode_any(&format!("1.{}", B64.encode(&bytes)));
        // Random bytes, compressed: valid DEFLATE whose content is not a run.
        let packed = miniz_oxide::deflate::compress_to_vec(&bytes, 6);
        decode_any(&format!("1.{}", B64.encode(packed)));
    }

    #[test]
    fn decode_never_panics_on_a_damaged_code(at in any::<usize>(), c in any::<char>(), cut in any::<bool>()) {
        let code = valid_code();
        let mut chars: Vec<char> = code.chars().collect();
        let i = at % chars.len();
        if cut {
            chars.truncate(i);
        } else {
            chars[i] = c;
        }
        let damaged: String = chars.into_iter().collect();
        decode_any(&damaged);
    }
}

/// A random edit of a JSON value: one number, string, bool or array somewhere in it
/// replaced, removed or duplicated.
#[derive(Clone, Debug)]
struct Edit {
    target: usize,
    how: u8,
    number: u64,
    text: String,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        any::<usize>(),
        0u8..8,
        prop_oneof![
            4 => 0u64..12,
            2 => 0u64..5_000,
            1 => Just(u64::MAX),
            1 => Just(i64::MAX as u64),
            1 => any::<u64>(),
        ],
        prop_oneof![
            Just(String::new()),
            "[a-z0-9-]{1,8}",
            Just("leader".to_string())
        ],
    )
        .prop_map(|(target, how, number, text)| Edit {
            target,
            how,
            number,
            text,
        })
}

/// Counts the editable places (every value) of `v`, and applies `e` to the
/// `e.target % count`-th when `apply`.
fn apply_edit(v: &mut serde_json::Value, e: &Edit) {
    fn count(v: &serde_json::Value) -> usize {
        1 + match v {
            serde_json::Value::Array(a) => a.iter().map(count).sum(),
            serde_json::Value::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }
    fn visit(v: &mut serde_json::Value, k: &mut usize, e: &Edit) -> bool {
        if *k == 0 {
            use serde_json::Value as J;
            *v = match (e.how, &*v) {
                (0, _) => J::from(e.number),
                (1, _) => J::from(-(e.number as i64 % 1000)),
                (2, _) => J::from(e.text.clone()),
                (3, J::Array(a)) if !a.is_empty() => {
                    let mut a = a.clone();
                    a.remove(e.number as usize % a.len());
                    J::Array(a)
                }
                (4, J::Array(a)) if !a.is_empty() => {
                    let mut a = a.clone();
                    let x = a[e.number as usize % a.len()].clone();
                    a.push(x);
                    J::Array(a)
                }
                (5, _) => J::Null,
                (6, _) => J::from(e.number as f64 / 7.0),
                _ => J::Bool(e.number.is_multiple_of(2)),
            };
            return true;
        }
        *k -= 1;
        match v {
            serde_json::Value::Array(a) => a.iter_mut().any(|x| visit(x, k, e)),
            serde_json::Value::Object(o) => o.values_mut().any(|x| visit(x, k, e)),
            _ => false,
        }
    }
    let n = count(v);
    let mut k = e.target % n;
    visit(v, &mut k, e);
}

/// A lesson run of `M` with up to three random edits of its link's JSON (scenario and
/// interventions): opening it is refused with an error, or it runs — never a panic.
fn edited_link_never_panics<M: StepRuns>(pick: usize, edits: &[Edit]) {
    let steps = M::steps();
    let (s, ivs, _, _) = &steps[pick % steps.len()];
    let link = RunLink::of::<M>(s, ivs, None);
    let mut v = serde_json::to_value(&link).unwrap();
    for e in edits {
        apply_edit(&mut v, e);
    }
    let text = v.to_string();
    if let Ok(edited) = RunLink::from_json(&text) {
        open_everywhere(&edited);
    }
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn edited_replication_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::Replication>(pick, &e);
    }

    #[test]
    fn edited_clocks_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::Clocks>(pick, &e);
    }

    #[test]
    fn edited_leaderless_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::Leaderless>(pick, &e);
    }

    #[test]
    fn edited_raft_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::Raft>(pick, &e);
    }

    #[test]
    fn edited_paxos_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::Paxos>(pick, &e);
    }

    #[test]
    fn edited_quorum_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::Quorum>(pick, &e);
    }

    #[test]
    fn edited_twopc_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::TwoPc>(pick, &e);
    }

    #[test]
    fn edited_failure_detector_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::FailureDetector>(pick, &e);
    }

    #[test]
    fn edited_gossip_links_never_panic(pick in any::<usize>(), e in prop::collection::vec(edit(), 1..4)) {
        edited_link_never_panics::<models::Gossip>(pick, &e);
    }
}

#[test]
fn a_newer_version_says_so() {
    let code = valid_code();
    let newer = format!("2{}", &code[1..]);
    assert_eq!(RunLink::decode(&newer), Err(LinkError::NewerVersion(2)));
    assert!(RunLink::decode(&newer)
        .unwrap_err()
        .to_string()
        .contains("newer Distlab"));
    assert_eq!(
        RunLink::decode("99999999999999999999.abc"),
        Err(LinkError::NewerVersion(u32::MAX))
    );
    let mut link = RunLink::decode(&code).unwrap();
    link.v = 2;
    assert_eq!(
        RunLink::from_json(&link.to_json()),
        Err(LinkError::NewerVersion(2))
    );
    assert_eq!(RunLink::decode("no dot here"), Err(LinkError::NoVersion));
    assert_eq!(RunLink::decode("x.abc"), Err(LinkError::NoVersion));
    assert_eq!(RunLink::decode("0.abc"), Err(LinkError::NoVersion));
    assert!(matches!(
        RunLink::decode("1.@@@"),
        Err(LinkError::NotBase64(_))
    ));
    assert!(matches!(
        RunLink::decode("1.AAAA"),
        Err(LinkError::NotCompressed(_))
    ));
}

#[test]
fn an_intervention_naming_node_99_is_a_bad_scenario() {
    let steps = models::Replication::steps();
    let (s, ivs, _, _) = &steps[0];
    let mut bad = ivs.clone();
    bad.push(Intervention::new(100, Action::Crash { node: 99 }));
    let link =
        RunLink::decode(&RunLink::of::<models::Replication>(s, &bad, None).encode()).unwrap();
    match link.run::<models::Replication>() {
        Err(LinkError::BadScenario(m)) => assert!(m.contains("node 99"), "{m}"),
        other => panic!("expected BadScenario, got {other:?}"),
    }
    // A read from a node that does not exist, or from a client, is refused too.
    let clients: Vec<usize> = (0..s.names().len()).filter(|&i| !s.is_server(i)).collect();
    for replica in [99, clients[0]] {
        let mut bad = ivs.clone();
        bad.push(models::replication::read(100, clients[0], replica, "x"));
        let link = RunLink::of::<models::Replication>(s, &bad, None);
        assert!(
            matches!(
                link.run::<models::Replication>(),
                Err(LinkError::BadScenario(_))
            ),
            "a read from node {replica}"
        );
    }
    // A request at a replica (not a client).
    let mut bad = ivs.clone();
    bad.push(models::replication::write(100, 0, "x", "1"));
    let link = RunLink::of::<models::Replication>(s, &bad, None);
    assert!(matches!(
        link.run::<models::Replication>(),
        Err(LinkError::BadScenario(_))
    ));
}

#[test]
fn a_replication_link_is_not_a_raft_run() {
    let code = valid_code();
    let link = RunLink::decode(&code).unwrap();
    assert_eq!(
        link.run::<models::Raft>().map(|_| ()),
        Err(LinkError::WrongModel {
            expected: "raft".into(),
            found: "replication".into()
        })
    );
    assert!(matches!(
        link.isolation_parts(),
        Err(LinkError::WrongModel { .. })
    ));
}

#[test]
fn isolation_runs_round_trip() {
    let script = "setup: create table t (id int primary key, v int)\nT1: begin\nT2: begin\nT1: select * from t\n";
    for (key, _) in share::ISOLATION_LEVELS {
        let link = RunLink::isolation(script, key, 3);
        let back = RunLink::decode(&link.encode()).unwrap();
        assert_eq!(back, link);
        assert_eq!(
            back.isolation_parts(),
            Ok((script.to_string(), key.to_string(), 3))
        );
        assert!(matches!(
            back.run::<models::Replication>(),
            Err(LinkError::WrongModel { .. })
        ));
    }
    // A level written as lesson files write it comes back as the lab's key.
    let mut link = RunLink::isolation(script, "rr", 1);
    link.scenario["level"] = "repeatable-read".into();
    assert_eq!(link.isolation_parts().unwrap().1, "rr");
    // An unknown level, or no script, is a bad scenario.
    let link = RunLink::isolation(script, "snapshot", 1);
    assert!(matches!(
        link.isolation_parts(),
        Err(LinkError::BadScenario(m)) if m.contains("snapshot")
    ));
    let mut link = RunLink::isolation(script, "rc", 1);
    link.scenario = serde_json::json!({ "level": "rc" });
    assert!(matches!(
        link.isolation_parts(),
        Err(LinkError::BadScenario(_))
    ));
    // No cursor: line 0.
    let mut link = RunLink::isolation(script, "rc", 1);
    link.cursor = None;
    assert_eq!(link.isolation_parts().unwrap().2, 0);
}

#[test]
fn every_model_checks_the_nodes_its_requests_name() {
    use distlab_sim::models::{clocks, leaderless, paxos, raft};
    fn refused<M: StepRuns>(iv: impl Fn(&M::Scenario) -> Intervention<M::Node>) {
        let steps = M::steps();
        let (s, ivs, _, _) = &steps[0];
        let mut bad = ivs.clone();
        bad.push(iv(s));
        let link = RunLink::of::<M>(s, &bad, None);
        assert!(
            matches!(link.run::<M>(), Err(LinkError::BadScenario(_))),
            "{}: {:?}",
            M::NAME,
            bad.last()
        );
    }
    refused::<models::Clocks>(|_| clocks::send(10, 0, &[1, 99], "m"));
    refused::<models::Leaderless>(|s| {
        Intervention::new(
            10,
            Action::Request {
                client: s.replicas.len(),
                request: leaderless::Request::Get {
                    key: "cart".into(),
                    replica: Some(99),
                },
                label: None,
            },
        )
    });
    refused::<models::Raft>(|s| {
        Intervention::new(
            10,
            Action::Command {
                node: s.servers.len(),
                command: raft::Operator::Timeout,
            },
        )
    });
    refused::<models::Raft>(|_| {
        Intervention::new(
            10,
            Action::Request {
                client: 0,
                request: raft::Request::Get { key: "x".into() },
                label: None,
            },
        )
    });
    refused::<models::Paxos>(|s| {
        Intervention::new(
            10,
            Action::Command {
                node: s.proposers.len(),
                command: paxos::Operator::Propose { value: "v".into() },
            },
        )
    });
    refused::<models::Quorum>(|_| models::quorum::read(10, 0, "x"));
}

/// Times far beyond any run (a hand-edited link) are refused rather than overflowing the
/// clock or piling messages up; a run at the bounds runs.
#[test]
fn times_beyond_the_bounds_are_refused() {
    use distlab_sim::models::scenario::{MAX_LATENCY_MS, MAX_TIME_MS};
    use distlab_sim::network::Latency;
    let steps = models::Raft::steps();
    let (s, ivs, _, _) = &steps[0];
    let bad = |s: &models::raft::RaftScenario, ivs: &[Intervention<models::raft::Node>]| {
        matches!(
            RunLink::of::<models::Raft>(s, ivs, None).run::<models::Raft>(),
            Err(LinkError::BadScenario(_))
        )
    };
    for edit in [
        |s: &mut models::raft::RaftScenario| s.latency_ms = u64::MAX / 2,
        |s: &mut models::raft::RaftScenario| s.jitter_ms = u64::MAX,
        |s: &mut models::raft::RaftScenario| s.duration_ms = u64::MAX,
        |s: &mut models::raft::RaftScenario| s.election_ms = u64::MAX,
        |s: &mut models::raft::RaftScenario| s.client_retry_ms = MAX_TIME_MS + 1,
    ] {
        let mut s = s.clone();
        edit(&mut s);
        assert!(bad(&s, ivs), "{s:?}");
    }
    let mut late = ivs.clone();
    late.push(Intervention::new(u64::MAX, Action::Heal));
    assert!(bad(s, &late));
    let mut slow = ivs.clone();
    slow.push(Intervention::new(
        10,
        Action::SetLinkDelay {
            a: 0,
            b: 1,
            latency: Some(Latency::fixed(MAX_LATENCY_MS + 1)),
        },
    ));
    assert!(bad(s, &slow));
    // At the bounds: accepted, and it runs.
    let steps = models::Clocks::steps();
    let (s, ivs, _, _) = &steps[0];
    let mut s = s.clone();
    s.latency_ms = MAX_LATENCY_MS;
    s.jitter_ms = MAX_LATENCY_MS;
    let mut ivs = ivs.clone();
    ivs.push(Intervention::new(MAX_TIME_MS, Action::Heal));
    let (s, ivs) = RunLink::of::<models::Clocks>(&s, &ivs, None)
        .run::<models::Clocks>()
        .unwrap();
    let e = Engine::new(models::Clocks::setup(&s).unwrap(), ivs);
    assert!(e.trace().last().is_some_and(|ev| ev.time == MAX_TIME_MS));
}
