//! A run's client history exported as the checker's JSON (`History::to_json`) reads back
//! with `linearizability::parse` as the same history with the same verdict, for random
//! replication, Raft and quorum runs (lesson scenarios with random client operations and
//! faults, cut at a random step).

use crate::common::cases;
use crate::common::runs::{faults, run_with_faults, RawFault, StepRuns};
use distlab_sim::engine::{Action, Intervention};
use distlab_sim::linearizability::parse::parse;
use distlab_sim::linearizability::{
    check, detect, History, Model, ModelSpec, Op, Operation, Status,
};
use distlab_sim::models::{self, history, quorum, raft, replication, EngineModel};
use distlab_sim::Time;
use proptest::prelude::*;

/// A client operation as drawn: a write or a read of key `x` or `y`, by the `client`-th
/// client (modulo), from the `replica`-th replica where the model asks for one.
#[derive(Clone, Debug)]
struct RawOp {
    at: Time,
    write: bool,
    client: usize,
    replica: usize,
    key: bool,
    value: u8,
}

fn ops(max: usize, horizon: Time) -> impl Strategy<Value = Vec<RawOp>> {
    prop::collection::vec(
        (
            0..horizon,
            any::<bool>(),
            any::<usize>(),
            any::<usize>(),
            any::<bool>(),
            0u8..6,
        )
            .prop_map(|(at, write, client, replica, key, value)| RawOp {
                at,
                write,
                client,
                replica,
                key,
                value,
            }),
        0..=max,
    )
}

fn key(o: &RawOp) -> String {
    if o.key { "x" } else { "y" }.to_string()
}

/// Checks `parse(to_json(h)) == h` and the same verdict.
fn same_after_json(h: &History) {
    let json = h.to_json();
    assert_eq!(detect(&json), distlab_sim::linearizability::Format::Json);
    let back = parse(&json, distlab_sim::linearizability::Format::Json)
        .unwrap_or_else(|e| panic!("{e}\n{json}"));
    assert_eq!(&back, h);
    let spec = ModelSpec::new(Model::Register);
    assert_eq!(
        check(&back, &spec, Some(2_000_000)),
        check(h, &spec, Some(2_000_000))
    );
}

fn cut(len: usize, c: u32) -> Option<usize> {
    len.checked_sub(1).map(|last| c as usize % (last + 1))
}

fn replication_history(pick: usize, raw: &[RawFault], o: &[RawOp], c: u32) -> History {
    let steps = models::Replication::steps();
    let (s, ivs, _, _) = &steps[pick % steps.len()];
    let servers = s.server_count();
    let clients = s.names().len() - servers;
    let mut ivs = ivs.clone();
    ivs.extend(o.iter().map(|o| {
        let client = servers + o.client % clients;
        if o.write {
            replication::write(o.at, client, &key(o), &o.value.to_string())
        } else {
            replication::read(o.at, client, o.replica % servers, &key(o))
        }
    }));
    let e = run_with_faults::<models::Replication>(s, &ivs, raw);
    history::replication(&e, cut(e.trace().len(), c)).0
}

fn raft_history(pick: usize, raw: &[RawFault], o: &[RawOp], c: u32) -> History {
    let steps = models::Raft::steps();
    let (s, ivs, _, _) = &steps[pick % steps.len()];
    let mut ivs = ivs.clone();
    if !s.clients.is_empty() {
        let servers = s.servers.len();
        ivs.extend(o.iter().map(|o| {
            let request = if o.write {
                raft::Request::Put {
                    key: key(o),
                    value: o.value.to_string(),
                }
            } else {
                raft::Request::Get { key: key(o) }
            };
            Intervention::new(
                o.at,
                Action::Request {
                    client: servers + o.client % s.clients.len(),
                    request,
                    label: None,
                },
            )
        }));
    }
    let e = run_with_faults::<models::Raft>(s, &ivs, raw);
    history::raft(&e, cut(e.trace().len(), c)).0
}

fn quorum_history(pick: usize, raw: &[RawFault], o: &[RawOp], c: u32) -> History {
    let steps = models::Quorum::steps();
    let (s, ivs, _, _) = &steps[pick % steps.len()];
    let replicas = s.replicas.len();
    let mut ivs = ivs.clone();
    ivs.extend(o.iter().map(|o| {
        let client = replicas + o.client % s.clients.len();
        if o.write {
            quorum::write(o.at, client, &key(o), &o.value.to_string())
        } else {
            quorum::read(o.at, client, &key(o))
        }
    }));
    let e = run_with_faults::<models::Quorum>(s, &ivs, raw);
    history::quorum(&e, cut(e.trace().len(), c)).0
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn replication_histories_read_back(pick in any::<usize>(), raw in faults(3, 1_200), o in ops(8, 1_200), c in any::<u32>()) {
        same_after_json(&replication_history(pick, &raw, &o, c));
    }

    #[test]
    fn raft_histories_read_back(pick in any::<usize>(), raw in faults(3, 1_200), o in ops(8, 1_200), c in any::<u32>()) {
        same_after_json(&raft_history(pick, &raw, &o, c));
    }

    #[test]
    fn quorum_histories_read_back(pick in any::<usize>(), raw in faults(3, 1_200), o in ops(8, 1_200), c in any::<u32>()) {
        same_after_json(&quorum_history(pick, &raw, &o, c));
    }
}

/// The written format is the documented one (docs/LINEARIZABILITY.md): `ops`, each with
/// `client`, `call`, `ret` (null when it never returned), `status` and `op` tagged by `f`;
/// a read of nothing is `"value": null`.
#[test]
fn the_json_is_the_documented_format() {
    let h = History {
        ops: vec![
            Operation {
                id: 0,
                client: 4,
                call: 10,
                ret: Some(20),
                status: Status::Ok,
                op: Op::Write {
                    key: Some("x".into()),
                    value: "1".into(),
                },
                label: "alice writes".into(),
            },
            Operation {
                id: 1,
                client: 5,
                call: 15,
                ret: None,
                status: Status::Info,
                op: Op::Write {
                    key: Some("x".into()),
                    value: "2".into(),
                },
                label: String::new(),
            },
            Operation {
                id: 2,
                client: 6,
                call: 30,
                ret: Some(31),
                status: Status::Ok,
                op: Op::Read {
                    key: Some("y".into()),
                    value: None,
                },
                label: "bob-read".into(),
            },
        ],
    };
    let v: serde_json::Value = serde_json::from_str(&h.to_json()).unwrap();
    assert_eq!(v["ops"][0]["client"], 4);
    assert_eq!(v["ops"][0]["call"], 10);
    assert_eq!(v["ops"][0]["ret"], 20);
    assert_eq!(v["ops"][0]["status"], "ok");
    assert_eq!(v["ops"][0]["op"]["f"], "write");
    assert_eq!(v["ops"][0]["op"]["key"], "x");
    assert_eq!(v["ops"][0]["op"]["value"], "1");
    assert_eq!(v["ops"][1]["status"], "info");
    assert!(v["ops"][1]["ret"].is_null());
    assert_eq!(v["ops"][2]["op"]["f"], "read");
    assert!(v["ops"][2]["op"]["value"].is_null());
    same_after_json(&h);
}

/// A lesson run whose history the checker rejects stays rejected after the round trip
/// (the verdict is not trivially "linearizable" on both sides).
#[test]
fn a_non_linearizable_history_stays_non_linearizable() {
    let p = models::quorum::presets::quorum_not_linearizable();
    let e = distlab_sim::engine::Engine::new(
        models::Quorum::setup(&p.scenario).unwrap(),
        p.interventions.clone(),
    );
    let h = history::quorum(&e, e.trace().len().checked_sub(1)).0;
    let spec = ModelSpec::new(Model::Register);
    assert_eq!(
        check(&h, &spec, None).outcome,
        distlab_sim::linearizability::Outcome::NotLinearizable
    );
    same_after_json(&h);
}
