//! Property tests of the linearizability checker:
//! * a random sequential execution of each model, given overlapping call/return intervals
//!   around its linearization points and some indeterminate operations, is accepted;
//! * the same with one read changed to a value no operation produces (for sets, a read
//!   holding a never-added element) is rejected, and that read is the blocked operation;
//! * on random histories of at most 6 operations the checker agrees with an exhaustive
//!   search over all permutations.

use distlab_sim::linearizability::{
    check, replay_step, History, Model, ModelSpec, Op, Operation, Outcome, ReplayState, Status,
};
use proptest::prelude::*;

/// A random sequential run of `model` with `n` operations: (op, is it a read?) with reads
/// returning what the model holds.
fn sequential(model: Model, choices: &[(u8, u8, u8)]) -> Vec<Op> {
    let mut st = ReplayState::initial(&ModelSpec::new(model));
    let mut ops = Vec::new();
    let key = |k: u8| Some(["a", "b"][k as usize % 2].to_string());
    for (i, &(kind, v, k)) in choices.iter().enumerate() {
        let value = format!("{}", v % 5);
        let op = match model {
            Model::Register | Model::CasRegister => match (kind % 3, &st) {
                (0, ReplayState::Value(cur)) => Op::Read {
                    key: None,
                    value: cur.clone(),
                },
                (2, ReplayState::Value(Some(cur))) if model == Model::CasRegister => Op::Cas {
                    key: None,
                    from: cur.clone(),
                    to: value,
                },
                _ => Op::Write { key: None, value },
            },
            Model::Kv => {
                // Per key state: replay the ops so far on that key.
                let mut kst = ReplayState::initial(&ModelSpec::new(Model::Kv));
                for o in &ops {
                    if let Op::Read { key: kk, .. }
                    | Op::Write { key: kk, .. }
                    | Op::Append { key: kk, .. } = o
                    {
                        if *kk == key(k) {
                            let op = Operation {
                                id: 0,
                                client: 0,
                                call: 0,
                                ret: Some(0),
                                status: Status::Ok,
                                op: o.clone(),
                                label: String::new(),
                            };
                            kst = replay_step(Model::Kv, &kst, &op).unwrap();
                        }
                    }
                }
                match (kind % 3, kst) {
                    (0, ReplayState::Value(cur)) => Op::Read {
                        key: key(k),
                        value: cur,
                    },
                    (1, _) => Op::Write { key: key(k), value },
                    _ => Op::Append {
                        key: key(k),
                        value: format!("{value}{i};"),
                    },
                }
            }
            Model::Set => match (kind % 3, &st) {
                (0, ReplayState::Set(s)) => Op::ReadSet {
                    key: None,
                    values: s.iter().rev().cloned().collect(),
                },
                (1, ReplayState::Set(s)) if !s.is_empty() => Op::Remove {
                    key: None,
                    value: s[i % s.len()].clone(),
                },
                _ => Op::Add {
                    key: None,
                    value: format!("{i}"),
                },
            },
        };
        if model != Model::Kv {
            let o = Operation {
                id: 0,
                client: 0,
                call: 0,
                ret: Some(0),
                status: Status::Ok,
                op: op.clone(),
                label: String::new(),
            };
            st = replay_step(model, &st, &o).expect("the generator follows the model");
        }
        ops.push(op);
    }
    ops
}

fn is_read(op: &Op) -> bool {
    matches!(op, Op::Read { .. } | Op::ReadSet { .. })
}

/// Intervals around linearization points 100 + 10 i; `info[i]` makes op i indeterminate.
fn history(ops: Vec<Op>, spread: &[(u8, u8, bool)]) -> History {
    History {
        ops: ops
            .into_iter()
            .zip(spread)
            .enumerate()
            .map(|(i, (op, &(before, after, info)))| {
                let point = 100 + 10 * i as u64;
                let status = if info { Status::Info } else { Status::Ok };
                Operation {
                    id: i,
                    client: i as u64,
                    call: point - u64::from(before % 40),
                    ret: if info {
                        None
                    } else {
                        Some(point + u64::from(after % 40))
                    },
                    status,
                    op,
                    label: String::new(),
                }
            })
            .collect(),
    }
}

fn model_strategy() -> impl Strategy<Value = Model> {
    prop_oneof![
        Just(Model::Register),
        Just(Model::CasRegister),
        Just(Model::Kv),
        Just(Model::Set)
    ]
}

fn case() -> impl Strategy<Value = (Model, Vec<(u8, u8, u8)>, Vec<(u8, u8, bool)>, usize)> {
    (model_strategy(), 1usize..14).prop_flat_map(|(m, n)| {
        (
            Just(m),
            prop::collection::vec(any::<(u8, u8, u8)>(), n),
            prop::collection::vec((any::<u8>(), any::<u8>(), prop::bool::weighted(0.15)), n),
            0..n,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn sequential_runs_with_overlap_are_linearizable((model, choices, spread, pick) in case()) {
        let ops = sequential(model, &choices);
        let h = history(ops.clone(), &spread);
        let v = check(&h, &ModelSpec::new(model), None);
        prop_assert_eq!(v.outcome, Outcome::Linearizable, "{:?}", h);

        // Corrupt one completed read (the first at or after `pick`).
        let target = (0..ops.len())
            .map(|i| (pick + i) % ops.len())
            .find(|&i| is_read(&h.ops[i].op) && h.ops[i].status == Status::Ok);
        if let Some(t) = target {
            let mut bad = h.clone();
            bad.ops[t].op = match &bad.ops[t].op {
                Op::Read { key, .. } => Op::Read { key: key.clone(), value: Some("never".into()) },
                Op::ReadSet { key, values } => {
                    let mut vs = values.clone();
                    vs.push("never".into());
                    Op::ReadSet {
                        key: key.clone(),
                        values: vs,
                    }
                }
                o => o.clone(),
            };
            let v = check(&bad, &ModelSpec::new(model), None);
            prop_assert_eq!(v.outcome, Outcome::NotLinearizable, "{:?}", bad);
            let e = v.explanation.unwrap();
            prop_assert_eq!(e.blocked, t, "{:?}\n{:?}", bad, e);
            prop_assert!(!e.linearized.contains(&t));
        }
    }
}

/// Exhaustive: is there a permutation of the ops that respects real time (an op that
/// returned strictly before another was called comes first) and replays through the model?
fn brute_force(h: &History, spec: &ModelSpec) -> bool {
    let ops: Vec<&Operation> = h.ops.iter().filter(|o| o.status != Status::Fail).collect();
    let ret = |o: &Operation| {
        if o.status == Status::Ok {
            o.ret.unwrap_or(u64::MAX)
        } else {
            u64::MAX
        }
    };
    fn go(
        ops: &[&Operation],
        used: &mut Vec<bool>,
        st: &ReplayState,
        model: Model,
        ret: &dyn Fn(&Operation) -> u64,
    ) -> bool {
        if used.iter().all(|&u| u) {
            return true;
        }
        for i in 0..ops.len() {
            if used[i] {
                continue;
            }
            // Every unused op that returned before ops[i] was called must come first.
            let blocked = (0..ops.len()).any(|j| !used[j] && j != i && ret(ops[j]) < ops[i].call);
            if blocked {
                continue;
            }
            // Per-key state: the kv model is checked on the key's own state.
            if let Some(next) = replay_step(model, st, ops[i]) {
                used[i] = true;
                let ok = go(ops, used, &next, model, ret);
                used[i] = false;
                if ok {
                    return true;
                }
            }
        }
        false
    }
    let mut used = vec![false; ops.len()];
    go(
        &ops,
        &mut used,
        &ReplayState::initial(spec),
        spec.model,
        &ret,
    )
}

/// Random small histories of one object (the brute force keeps one state, so kv uses one
/// key), with random values, intervals and statuses.
fn small() -> impl Strategy<Value = (Model, Vec<(u8, u8, u8, u8, u8)>)> {
    (
        model_strategy(),
        prop::collection::vec(any::<(u8, u8, u8, u8, u8)>(), 1..=6),
    )
}

fn small_history(model: Model, raw: &[(u8, u8, u8, u8, u8)]) -> History {
    History {
        ops: raw
            .iter()
            .enumerate()
            .map(|(i, &(kind, v, call, dur, status))| {
                let val = format!("{}", v % 3);
                let key = Some("k".to_string());
                let op = match model {
                    Model::Register => match kind % 2 {
                        0 => Op::Read {
                            key: None,
                            value: if v % 4 == 3 { None } else { Some(val) },
                        },
                        _ => Op::Write {
                            key: None,
                            value: val,
                        },
                    },
                    Model::CasRegister => match kind % 3 {
                        0 => Op::Read {
                            key: None,
                            value: if v % 4 == 3 { None } else { Some(val) },
                        },
                        1 => Op::Write {
                            key: None,
                            value: val,
                        },
                        _ => Op::Cas {
                            key: None,
                            from: format!("{}", kind % 3),
                            to: val,
                        },
                    },
                    Model::Kv => match kind % 3 {
                        0 => Op::Read {
                            key,
                            value: Some(["", "1", "12", "2"][v as usize % 4].to_string()),
                        },
                        1 => Op::Write { key, value: val },
                        _ => Op::Append { key, value: val },
                    },
                    Model::Set => match kind % 3 {
                        0 => Op::ReadSet {
                            key: None,
                            values: (0..3)
                                .filter(|b| v & (1 << b) != 0)
                                .map(|b| b.to_string())
                                .collect(),
                        },
                        1 => Op::Remove {
                            key: None,
                            value: val,
                        },
                        _ => Op::Add {
                            key: None,
                            value: val,
                        },
                    },
                };
                let call = u64::from(call % 20);
                let status = match status % 8 {
                    0 => Status::Info,
                    1 => Status::Fail,
                    _ => Status::Ok,
                };
                Operation {
                    id: i,
                    client: i as u64,
                    call,
                    ret: if status == Status::Info && dur % 2 == 0 {
                        None
                    } else {
                        Some(call + u64::from(dur % 10))
                    },
                    status,
                    op,
                    label: String::new(),
                }
            })
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn agrees_with_brute_force_on_small_histories((model, raw) in small()) {
        let h = small_history(model, &raw);
        for initial in [None, Some("0")] {
            if model == Model::Set && initial.is_some() {
                continue;
            }
            let spec = ModelSpec { model, initial: initial.map(str::to_string) };
            let v = check(&h, &spec, None);
            let expected = if brute_force(&h, &spec) { Outcome::Linearizable } else { Outcome::NotLinearizable };
            prop_assert_eq!(v.outcome, expected, "{:?} {:?}", spec, h);
            if let Some(e) = &v.explanation {
                prop_assert!(!e.linearized.contains(&e.blocked));
            }
        }
    }
}
