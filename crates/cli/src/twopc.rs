//! `distlab twopc explore --seeds N [--from S] [--protocol two-phase|three-phase]
//! [--broken RULE]... [--participants 2..5] [--crashes-only] [--no-heal] [--json]`: the
//! atomicity checker's randomized search over 2PC / 3PC runs (docs/TWOPC.md), each run a
//! random schedule of transactions and faults checked after every event; and
//! `distlab twopc replay FILE`: runs a saved run (the JSON `explore` prints) again and
//! checks it.

use crate::{emit, emitln, Failure};
use distlab_sim::engine::Intervention;
use distlab_sim::models::twopc::explore::{explore as search, ExploreConfig, Found, Report};
use distlab_sim::models::twopc::monitor::run_checked;
use distlab_sim::models::twopc::{Broken, CommitProtocol, Node, TwoPcScenario};
use distlab_sim::{Action, Describe, NodeId};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// What `twopc explore` was asked.
pub struct ExploreOptions<'a> {
    pub seeds: u64,
    pub from: u64,
    pub protocol: &'a str,
    pub broken: &'a [String],
    pub participants: usize,
    pub crashes_only: bool,
    pub no_heal: bool,
    pub json: bool,
}

/// A run as `explore` prints it and `replay` reads it.
#[derive(Serialize, Deserialize)]
pub struct SavedRun {
    pub scenario: TwoPcScenario,
    pub interventions: Vec<Intervention<Node>>,
}

/// Runs `twopc explore`. Exit code 0 when no run violated a property, 1 when one did; bad
/// arguments (an unknown protocol or rule, a participant count outside 2–5) are exit code 2.
pub fn explore(o: &ExploreOptions) -> Result<u8, Failure> {
    let protocol = CommitProtocol::parse(o.protocol).map_err(Failure::Input)?;
    let broken = o
        .broken
        .iter()
        .map(|b| Broken::parse(b))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Input)?;
    if !(2..=5).contains(&o.participants) {
        return Err(Failure::Input(format!(
            "--participants {}: 2 to 5",
            o.participants
        )));
    }
    let mut config = ExploreConfig::new(protocol, &broken);
    let duration = config.base.duration_ms;
    config.base = TwoPcScenario {
        duration_ms: duration,
        protocol,
        broken: broken.iter().copied().collect(),
        ..TwoPcScenario::basic(o.participants, 0)
    };
    config.network = !o.crashes_only;
    config.heal_at_end = !o.no_heal;
    let end = o.from.checked_add(o.seeds).ok_or_else(|| {
        Failure::Input(format!("--from {} --seeds {}: too large", o.from, o.seeds))
    })?;
    let report = search(&config, o.from..end).map_err(Failure::Input)?;
    if o.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::Failed(format!("cannot serialize the report: {e}")))?;
        emitln(&json)?;
    } else {
        emit(text_report(&report, &config).as_bytes())?;
    }
    Ok(if report.failing_runs == 0 { 0 } else { 1 })
}

fn text_report(r: &Report, c: &ExploreConfig) -> String {
    let mut o = String::new();
    let broken = if r.broken.is_empty() {
        "none".to_string()
    } else {
        r.broken
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let faults = match (c.crashes, c.network) {
        (true, true) => "crashes, partitions, cut and slow links, loss",
        (true, false) => "crashes only",
        (false, true) => "network faults only",
        (false, false) => "none",
    };
    let _ = writeln!(
        o,
        "{} runs (seeds {}..{}), {}, {} participants, {} simulated ms each (+{} ms after {}), {} events; faults: {faults}; rules broken: {broken}",
        r.runs,
        r.first_seed,
        r.first_seed + r.runs,
        r.protocol.name(),
        r.participants,
        c.base.duration_ms,
        distlab_sim::engine::SETTLE_MS,
        if c.heal_at_end { "healing everything" } else { "the last fault" },
        r.events
    );
    let _ = writeln!(
        o,
        "{} transactions: {} committed everywhere, {} aborted everywhere, {} other (a participant never heard of it, or unfinished)",
        r.transactions,
        r.committed,
        r.aborted,
        r.transactions.saturating_sub(r.committed + r.aborted)
    );
    let d = &r.in_doubt;
    let _ = writeln!(
        o,
        "in doubt: {} run(s) with an in-doubt participant, {} period(s), mean {:.0} ms, longest {} ms; {} run(s) ended with a participant still in doubt (blocked); {} wait(s) behind an in-doubt lock",
        d.runs_with_in_doubt, d.periods, d.mean_ms, d.max_ms, d.runs_blocked_at_end, d.blocked_waits
    );
    if r.failing_runs == 0 {
        let _ = writeln!(
            o,
            "no violation of atomic outcome, commit needs every yes, outcome matches the decision or decisions never change"
        );
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
        "\n{} violated (seed {}, {}, at {} ms, step {}): {}.\n  The property: {}.\n  Shortest schedule found: {} intervention(s) (from {}):",
        v.property.name(),
        f.seed,
        v.txn,
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
        "  Replay: save this line to a file and run `distlab twopc replay FILE`:\n  {}",
        serde_json::to_string(&saved).unwrap_or_default()
    );
    o
}

fn describe(a: &Action<Node>, names: &[String]) -> String {
    let n = |i: NodeId| crate::actions::name(names, i);
    crate::actions::describe(
        a,
        names,
        |_, request| request.label(),
        |node, command| {
            let distlab_sim::models::twopc::Command::Begin { id, writes } = command;
            let ws = writes
                .iter()
                .map(|w| format!("{} {:+} at {}", w.key, w.delta, n(w.participant)))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{}: begin {id} ({ws})", n(node))
        },
    )
}

/// Runs `twopc replay FILE`: exit 0 when the run violates nothing, 1 when it does (each
/// violation printed), 2 when the file cannot be read or is not a saved run.
pub fn replay(file: &Path, json: bool) -> Result<u8, Failure> {
    let path = file.display();
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))?;
    let saved: SavedRun = serde_json::from_str(text.trim()).map_err(|e| {
        Failure::Input(format!(
            "{path}: line {}: not a saved 2PC run ({{\"scenario\": …, \"interventions\": […]}}): {e}",
            e.line()
        ))
    })?;
    for iv in &saved.interventions {
        if let Action::Command {
            node,
            command: distlab_sim::models::twopc::Command::Begin { id, writes },
        } = &iv.action
        {
            distlab_sim::models::twopc::check_begin(&saved.scenario, *node, id, writes)
                .map_err(|e| Failure::Input(format!("{path}: {e}")))?;
        }
    }
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
                "{} violated for {} at {} ms (step {}): {}",
                v.property.name(),
                v.txn,
                v.time,
                v.step,
                v.text
            );
        }
        emit(o.as_bytes())?;
    }
    Ok(if violations.is_empty() { 0 } else { 1 })
}
