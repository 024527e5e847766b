//! Conformance with the reference tools: every history in the shared test data
//! (../shared/testdata, or $DISTLAB_TESTDATA) listed in porcupine/EXPECTED.tsv and
//! knossos/EXPECTED.tsv gets the verdict Porcupine / Knossos give it; every explanation of
//! a non-linearizable one is well-formed.

use distlab_sim::linearizability::parse::{parse, Format};
use distlab_sim::linearizability::{
    check, replay_step, History, Model, ModelSpec, Outcome, ReplayState, Status, Verdict,
};
use std::collections::HashSet;
use std::path::PathBuf;

fn testdata() -> Option<PathBuf> {
    let dir = std::env::var("DISTLAB_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        });
    if dir.join("porcupine/EXPECTED.tsv").exists() {
        Some(dir)
    } else {
        eprintln!(
            "testdata absent: skipping ({} not found; set DISTLAB_TESTDATA)",
            dir.display()
        );
        None
    }
}

/// (file, spec, format, expected outcome) for each row of `folder/EXPECTED.tsv`.
fn expected(dir: &std::path::Path, folder: &str) -> Vec<(PathBuf, ModelSpec, Format, Outcome)> {
    let tsv = std::fs::read_to_string(dir.join(folder).join("EXPECTED.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "{l}");
            let (file, model, outcome) = (cols[0], cols[1], cols[2]);
            let spec = if model.starts_with("kv") {
                ModelSpec::new(Model::Kv)
            } else if model == "cas-register (initial 0)" {
                ModelSpec::with_initial(Model::CasRegister, "0")
            } else {
                assert!(model.starts_with("cas-register"), "{model}");
                ModelSpec::new(Model::CasRegister)
            };
            let format = if file.ends_with(".edn") {
                Format::Edn
            } else if file.starts_with("kv/") {
                Format::Kv
            } else {
                Format::Etcd
            };
            let outcome = match outcome {
                "linearizable" => Outcome::Linearizable,
                "not_linearizable" => Outcome::NotLinearizable,
                o => panic!("unknown expected outcome {o}"),
            };
            (dir.join(folder).join(file), spec, format, outcome)
        })
        .collect()
}

/// The explanation names a real op outside a prefix that replays through the model and
/// respects real time.
fn assert_explanation(h: &History, spec: &ModelSpec, v: &Verdict, name: &str) {
    let e = v
        .explanation
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no explanation"));
    assert!(!e.text.is_empty(), "{name}");
    assert_eq!(e.linearized.len(), e.states.len(), "{name}");
    assert!(
        !e.linearized.contains(&e.blocked),
        "{name}: blocked op in the prefix"
    );
    let blocked = &h.ops[e.blocked];
    assert_ne!(blocked.status, Status::Fail, "{name}");
    let key_of = |i: usize| match &h.ops[i].op {
        distlab_sim::linearizability::Op::Read { key, .. }
        | distlab_sim::linearizability::Op::Write { key, .. }
        | distlab_sim::linearizability::Op::Cas { key, .. }
        | distlab_sim::linearizability::Op::Append { key, .. } => key.clone(),
        _ => None,
    };
    assert_eq!(key_of(e.blocked), e.key, "{name}");
    let mut st = ReplayState::initial(spec);
    let inside: HashSet<usize> = e.linearized.iter().copied().collect();
    assert_eq!(inside.len(), e.linearized.len(), "{name}: an op twice");
    for (n, &id) in e.linearized.iter().enumerate() {
        let op = &h.ops[id];
        assert_eq!(key_of(id), e.key, "{name}");
        assert_ne!(op.status, Status::Fail, "{name}");
        st = replay_step(spec.model, &st, op)
            .unwrap_or_else(|| panic!("{name}: prefix op {id} (#{n}) not allowed in {st:?}"));
        // Real time: every op of the partition that returned before this one was called
        // is linearized before it.
        for (m, other) in h.ops.iter().enumerate() {
            if other.status == Status::Ok
                && key_of(m) == e.key
                && other.ret.is_some_and(|r| r < op.call)
            {
                let pos = e.linearized.iter().position(|&x| x == m);
                assert!(
                    pos.is_some_and(|p| p < n),
                    "{name}: op {m} returned before op {id} was called but is not before it"
                );
            }
        }
    }
}

fn run(folder: &str) {
    let Some(dir) = testdata() else { return };
    let cases = expected(&dir, folder);
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for (path, spec, format, want) in &cases {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let h = parse(&text, *format).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = check(&h, spec, None);
        assert!(v.error.is_none(), "{name}: {:?}", v.error);
        if v.outcome != *want {
            failures.push(format!("{name}: expected {want}, got {}", v.outcome));
            continue;
        }
        if *want == Outcome::NotLinearizable {
            assert_explanation(&h, spec, &v, &name);
        } else {
            assert!(v.explanation.is_none(), "{name}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{folder}: {} histories agree", cases.len());
}

#[test]
fn porcupine_histories_get_porcupines_verdicts() {
    run("porcupine");
}

#[test]
fn knossos_histories_get_knossos_verdicts() {
    run("knossos");
}

/// The auto-detected format of each file is the one EXPECTED.tsv implies.
#[test]
fn formats_are_detected() {
    let Some(dir) = testdata() else { return };
    for folder in ["porcupine", "knossos"] {
        for (path, _, format, _) in expected(&dir, folder) {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.trim().is_empty() {
                continue;
            }
            assert_eq!(
                distlab_sim::linearizability::detect(&text),
                format,
                "{}",
                path.display()
            );
        }
    }
}

/// A budget too small gives `unknown`, never a wrong answer.
#[test]
fn tiny_budget_is_unknown() {
    let Some(dir) = testdata() else { return };
    let text = std::fs::read_to_string(dir.join("porcupine/jepsen/etcd_002.log")).unwrap();
    let h = parse(&text, Format::Etcd).unwrap();
    let spec = ModelSpec::new(Model::CasRegister);
    let v = check(&h, &spec, Some(10));
    assert_eq!(v.outcome, Outcome::Unknown);
    assert!(v.steps <= 10);
    let full = check(&h, &spec, None);
    assert_eq!(full.outcome, Outcome::Linearizable);
    assert_eq!(
        check(&h, &spec, Some(full.steps)).outcome,
        Outcome::Linearizable
    );
}
