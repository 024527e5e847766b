//! `distlab raft explore --seeds N [--from S] [--servers 3|5|7] [--broken RULE]
//! [--refinement NAME] [--json]`:
//! the randomized search for violations of Raft's safety properties (the paper's
//! Figure 3), each run a random fault schedule checked after every event; and
//! `distlab raft replay FILE`: runs a saved run (the JSON `explore` prints) again and
//! checks it.

use crate::{emit, emitln, Failure};
use distlab_sim::engine::Intervention;
use distlab_sim::models::raft::explore::{explore as search, Found, Report};
use distlab_sim::models::raft::monitor::run_checked;
use distlab_sim::models::raft::{Broken, Node, RaftScenario, Refinement};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// Simulated length of each explored run, ms.
pub const RUN_MS: u64 = 2_500;
/// Failing runs shrunk per property (the shortest of them is printed).
const SHRINK_PER_PROPERTY: usize = 3;

/// What `raft explore` was asked.
pub struct ExploreOptions<'a> {
    pub seeds: u64,
    pub from: u64,
    pub servers: usize,
    pub broken: &'a [String],
    pub refinements: &'a [String],
    pub json: bool,
}

/// A run as `explore` prints it and `replay` reads it.
#[derive(Serialize, Deserialize)]
pub struct SavedRun {
    pub scenario: RaftScenario,
    pub interventions: Vec<Intervention<Node>>,
}

/// Runs `raft explore`. Exit code 0 when no run violated a property, 1 when one did; bad
/// arguments (an unknown rule, a server count other than 3, 5 or 7) are exit code 2.
pub fn explore(o: &ExploreOptions) -> Result<u8, Failure> {
    let mut base = RaftScenario::cluster(o.servers, 0);
    base.duration_ms = RUN_MS;
    for b in o.broken {
        base.broken
            .insert(Broken::parse(b).map_err(Failure::Input)?);
    }
    for r in o.refinements {
        base.refinements
            .insert(Refinement::parse(r).map_err(Failure::Input)?);
    }
    let report = search(&base, o.from, o.seeds, SHRINK_PER_PROPERTY).map_err(Failure::Input)?;
    if o.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::Failed(format!("cannot serialize the report: {e}")))?;
        emitln(&json)?;
    } else {
        emit(text_report(&report).as_bytes())?;
    }
    Ok(if report.failing_runs == 0 { 0 } else { 1 })
}

fn text_report(r: &Report) -> String {
    let mut o = String::new();
    let broken = if r.broken.is_empty() {
        "none (Raft as in the paper)".to_string()
    } else {
        r.broken
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let refinements = if r.refinements.is_empty() {
        "none".to_string()
    } else {
        r.refinements
            .iter()
            .map(|x| x.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        o,
        "{} runs (seeds {}..{}), {} servers, {} simulated ms each, {} events; rules broken: {broken}; refinements: {refinements}",
        r.runs,
        r.first_seed,
        r.first_seed + r.runs,
        r.servers,
        RUN_MS,
        r.events
    );
    if r.failing_runs == 0 {
        let _ = writeln!(o, "no violation of election safety, leader append-only, log matching, leader completeness, state machine safety or linearizable reads");
        return o;
    }
    let _ = writeln!(o, "{} run(s) violated a property:", r.failing_runs);
    for (p, n) in &r.by_property {
        let _ = writeln!(o, "  {}: {n} run(s)", p.name());
    }
    for f in &r.shortest {
        o += &found_text(f);
    }
    o
}

fn found_text(f: &Found) -> String {
    let mut o = String::new();
    let v = &f.violation;
    let _ = writeln!(
        o,
        "\n{} violated (seed {}, at {} ms, step {}): {}.\n  The property: {}.\n  Shortest schedule found: {} intervention(s) (from {}):",
        v.property.name(),
        f.seed,
        v.time,
        v.step,
        v.text,
        v.property.statement(),
        f.interventions.len(),
        f.original_len
    );
    let names = f.scenario.names();
    for iv in &f.interventions {
        let _ = writeln!(o, "    {:>5} ms  {}", iv.at, describe(&iv.action, &names));
    }
    let saved = SavedRun {
        scenario: f.scenario.clone(),
        interventions: f.interventions.clone(),
    };
    let _ = writeln!(
        o,
        "  Replay: save this line to a file and run `distlab raft replay FILE`:\n  {}",
        serde_json::to_string(&saved).unwrap_or_default()
    );
    o
}

fn describe(a: &distlab_sim::Action<Node>, names: &[String]) -> String {
    use distlab_sim::Describe;
    crate::actions::describe(
        a,
        names,
        |client, request| {
            format!(
                "{}: {}",
                crate::actions::name(names, client),
                request.label()
            )
        },
        |node, _| {
            format!(
                "{}: election timeout now",
                crate::actions::name(names, node)
            )
        },
    )
}

/// Runs `raft replay FILE`: exit 0 when the run violates nothing, 1 when it does (each
/// violation printed), 2 when the file cannot be read or is not a saved run.
pub fn replay(file: &Path, json: bool) -> Result<u8, Failure> {
    let path = file.display();
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))?;
    let saved: SavedRun = serde_json::from_str(text.trim()).map_err(|e| {
        Failure::Input(format!(
            "{path}: line {}: not a saved Raft run ({{\"scenario\": …, \"interventions\": […]}}): {e}",
            e.line()
        ))
    })?;
    let setup = saved
        .scenario
        .setup()
        .map_err(|e| Failure::Input(format!("{path}: the scenario: {e}")))?;
    let (engine, violations) = run_checked(setup, saved.interventions);
    if json {
        let out = serde_json::json!({ "events": engine.trace().len(), "violations": violations });
        emitln(&serde_json::to_string_pretty(&out).unwrap_or_default())?;
    } else {
        let mut o = format!("{} events\n", engine.trace().len());
        if violations.is_empty() {
            o += "no violation\n";
        }
        for v in &violations {
            let _ = writeln!(
                o,
                "{} violated at {} ms (step {}): {}",
                v.property.name(),
                v.time,
                v.step,
                v.text
            );
        }
        emit(o.as_bytes())?;
    }
    Ok(if violations.is_empty() { 0 } else { 1 })
}
