//! `distlab check linearizability FILE --model M [--initial V] [--format F] [--budget N]
//! [--json]`: reads a history (Jepsen EDN, Porcupine etcd or kv log, JSON), checks it for
//! linearizability and prints the verdict with its explanation.
//!
//! `distlab check bench [--testdata DIR] [--json]`: times the checker on Porcupine's 102
//! etcd histories and 6 kv histories (build with --release).

use crate::{emit, emitln, Failure};
use distlab_sim::linearizability::bench::{self, Item, Report};
use distlab_sim::linearizability::parse::{parse_any, Format};
use distlab_sim::linearizability::{describe, Model, ModelSpec, Outcome};
use std::path::{Path, PathBuf};

/// What `check linearizability` was asked.
pub struct Options<'a> {
    pub file: &'a Path,
    /// `register`, `cas-register`, `kv` or `set`.
    pub model: &'a str,
    /// The initial value (register, cas-register: default nil; kv: default "").
    pub initial: Option<&'a str>,
    /// `auto`, `edn`, `etcd`, `kv` or `json`.
    pub format: &'a str,
    /// Maximum search steps (none: unlimited).
    pub budget: Option<u64>,
    pub json: bool,
}

/// Runs `check linearizability`: exit code 0 linearizable, 1 not linearizable, 2 unknown
/// (budget exhausted; the verdict is printed) or bad input ([`Failure::Input`]: unreadable
/// file, `FILE: line N: message` for a malformed history, an operation the model lacks).
pub fn linearizability(o: &Options) -> Result<u8, Failure> {
    let model: Model = o.model.parse().map_err(Failure::Input)?;
    let hint = match o.format {
        "auto" => None,
        f => Some(f.parse::<Format>().map_err(Failure::Input)?),
    };
    let path = o.file.display();
    let text = std::fs::read_to_string(o.file)
        .map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))?;
    let (format, history) =
        parse_any(&text, hint).map_err(|e| Failure::Input(format!("{path}: {e}")))?;
    let spec = ModelSpec {
        model,
        initial: o.initial.map(str::to_string),
    };
    let verdict = distlab_sim::linearizability::try_check(&history, &spec, o.budget)
        .map_err(|e| Failure::Input(format!("{path}: {e}")))?;
    let code = match verdict.outcome {
        Outcome::Linearizable => 0,
        Outcome::NotLinearizable => 1,
        Outcome::Unknown => 2,
    };
    if o.json {
        let mut v = serde_json::to_value(&verdict).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.insert("format".into(), format.name().into());
            m.insert("model".into(), model.name().into());
            m.insert("operations".into(), history.ops.len().into());
        }
        emitln(&v.to_string())?;
        return Ok(code);
    }
    let mut out = String::new();
    out.push_str(&format!(
        "{path}: {} ({} operations, format {format}, model {model}{}, {} search steps)\n",
        verdict.outcome,
        history.ops.len(),
        spec.initial
            .as_deref()
            .map(|i| format!(" from {i}"))
            .unwrap_or_default(),
        verdict.steps
    ));
    if verdict.partitions.len() > 1 {
        for p in &verdict.partitions {
            out.push_str(&format!(
                "  key {}: {} ops, {}\n",
                p.key.as_deref().unwrap_or("(none)"),
                p.ops,
                p.outcome
            ));
        }
    }
    if let Some(e) = &verdict.explanation {
        out.push_str(&format!("\n{}\n\nlongest linearizable prefix:\n", e.text));
        for (id, state) in e.linearized.iter().zip(&e.states) {
            if let Some(op) = history.ops.get(*id) {
                out.push_str(&format!("  #{id} {}  → state {state}\n", describe(op)));
            }
        }
        if let Some(op) = history.ops.get(e.blocked) {
            out.push_str(&format!(
                "cannot be placed:\n  #{} {}\n",
                e.blocked,
                describe(op)
            ));
        }
    }
    if verdict.outcome == Outcome::Unknown {
        out.push_str("the step budget ran out before the search ended (try a larger --budget)\n");
    }
    emit(out.as_bytes())?;
    Ok(code)
}

/// The shared test data: `dir`, else $DISTLAB_TESTDATA, else ../shared/testdata.
fn testdata(dir: Option<&Path>) -> PathBuf {
    dir.map(Path::to_path_buf)
        .or_else(|| std::env::var("DISTLAB_TESTDATA").ok().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/testdata"))
}

fn read_group(dir: &Path, ext: &str) -> Result<Vec<(String, String)>, Failure> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Failure::Input(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            std::fs::read_to_string(&p)
                .map(|t| (name, t))
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", p.display())))
        })
        .collect()
}

/// Runs `check bench`: the etcd histories (cas-register from nil) and the kv histories,
/// each parsed and checked once; prints per group the total and the slowest file's
/// checking time in wall-clock milliseconds. Exit code 0, or 2 when the data is missing.
pub fn bench_cmd(dir: Option<&Path>, json: bool) -> Result<u8, Failure> {
    let root = testdata(dir);
    let etcd = read_group(&root.join("porcupine/jepsen"), "log")?;
    let kv = read_group(&root.join("porcupine/kv"), "txt")?;
    let start = std::time::Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1000.0;
    fn items(files: &[(String, String)], format: Format, model: Model) -> Vec<Item<'_>> {
        files
            .iter()
            .map(|(n, t)| Item {
                name: n,
                text: t,
                format,
                spec: ModelSpec::new(model),
            })
            .collect()
    }
    let etcd_report = bench::run(&items(&etcd, Format::Etcd, Model::CasRegister), &now);
    let kv_report = bench::run(&items(&kv, Format::Kv, Model::Kv), &now);
    if json {
        let v = serde_json::json!({ "etcd": etcd_report, "kv": kv_report });
        emitln(&v.to_string())?;
        return Ok(0);
    }
    let line = |name: &str, r: &Report| {
        let (l, n, other) = r.counts();
        format!(
            "{name}: {} histories ({l} linearizable, {n} not, {other} other): check total {:.1} ms, max {:.2} ms ({}); parse total {:.1} ms\n",
            r.rows.len(),
            r.total_check_ms,
            r.max_check_ms,
            r.max_name,
            r.total_parse_ms
        )
    };
    let mut out = format!(
        "linearizability checker, wall-clock, data {}\n",
        root.display()
    );
    out.push_str(&line("etcd (cas-register)", &etcd_report));
    out.push_str(&line("kv (per key)", &kv_report));
    for r in &kv_report.rows {
        out.push_str(&format!(
            "  {}: {} ops, {}, {:.2} ms, {} steps\n",
            r.name, r.ops, r.outcome, r.check_ms, r.steps
        ));
    }
    emit(out.as_bytes())?;
    Ok(0)
}
