//! The readable summary of a lesson step's run (`distlab lesson show`).

use distlab_sim::causality::Causality;
use distlab_sim::diagram::Diagram;
use distlab_sim::engine::{Engine, NodeRole};
use distlab_sim::lesson::{Goal, Lesson};
use distlab_sim::models::replication::analysis::Analysis;
use distlab_sim::models::replication::{Node, ReplicationScenario, Role, View};
use distlab_sim::models::{
    leaderless, paxos, quorum, raft, Clocks, Leaderless, Paxos, Quorum, Raft,
};
use distlab_sim::{Describe, Protocol};
use std::fmt::Write;

fn plural(n: u64, one: &str) -> String {
    match (n, one) {
        (1, _) => format!("{n} {one}"),
        (_, "entry") => format!("{n} entries"),
        _ => format!("{n} {one}s"),
    }
}

/// `Title — step i/n: step title` and a newline.
fn heading(lesson: &Lesson, index: usize) -> String {
    format!(
        "{} — step {}/{}: {}\n",
        lesson.title,
        index + 1,
        lesson.steps.len(),
        lesson.steps[index].title
    )
}

/// A summary of step `index` (0-based) of `lesson` with the run `engine` at `cursor`:
/// title, cursor time, per-node state, writes with latency, reads (stale ones marked
/// `STALE` with the explanation), follower lag and lost writes. Times in simulated ms.
pub fn summary(
    lesson: &Lesson,
    index: usize,
    scenario: &ReplicationScenario,
    engine: &Engine<Node>,
    cursor: Option<usize>,
    a: &Analysis,
) -> String {
    let mut o = String::new();
    let step = &lesson.steps[index];
    let names: Vec<&str> = engine.nodes().iter().map(|n| n.name.as_str()).collect();
    let name = |n: usize| names.get(n).copied().unwrap_or("?");
    o.push_str(&heading(lesson, index));
    let mode = scenario
        .mode()
        .map(|m| m.describe())
        .unwrap_or_else(|e| e.to_string());
    let _ = writeln!(
        o,
        "replication: {mode}, {}, seed {}",
        plural(scenario.followers.len() as u64, "follower"),
        scenario.seed
    );
    match cursor {
        Some(s) => {
            let _ = writeln!(
                o,
                "cursor: {} ms (event {} of {})",
                a.now,
                s + 1,
                engine.trace().len()
            );
        }
        None => {
            let _ = writeln!(
                o,
                "cursor: 0 ms (the start, before event 1 of {})",
                engine.trace().len()
            );
        }
    }

    // Nodes.
    let _ = writeln!(o, "\nnodes:");
    let world = engine.world_at(cursor);
    let titled: Vec<String> = engine
        .nodes()
        .iter()
        .map(|i| match &i.place {
            Some(p) => format!("{} ({p})", i.name),
            None => i.name.clone(),
        })
        .collect();
    let width = titled.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for (n, info) in engine.nodes().iter().enumerate() {
        let up = world.as_ref().is_none_or(|w| w.up[n]);
        let view = match &world {
            Some(w) => w.nodes[n].view(),
            None => engine.views_at(cursor)[n].clone(),
        };
        let state = match (&view, info.role) {
            (View::Server(s), _) => {
                let mut line = format!(
                    "{}, generation {}, log position {}",
                    if s.role == Role::Leader {
                        "leader"
                    } else {
                        "follower"
                    },
                    s.generation,
                    s.position
                );
                for (k, (v, ver)) in &s.data {
                    let _ = write!(line, "; {k} = \"{v}\" (index {})", ver.index);
                }
                if s.role == Role::Leader && !s.acked.is_empty() {
                    let acked: Vec<String> = s
                        .acked
                        .iter()
                        .map(|(f, p)| format!("{} at {p}", name(*f)))
                        .collect();
                    let _ = write!(line, "; followers acknowledged: {}", acked.join(", "));
                }
                if !s.waiting.is_empty() {
                    let _ = write!(
                        line,
                        "; {} waiting for follower acks",
                        plural(s.waiting.len() as u64, "write")
                    );
                }
                line
            }
            (View::Client { in_progress, .. }, NodeRole::Client) => {
                format!(
                    "client, {} in progress",
                    plural(*in_progress as u64, "write")
                )
            }
            (View::Client { .. }, NodeRole::Server) => "client".to_string(),
        };
        let _ = writeln!(
            o,
            "  {:width$}  {:4}  {state}",
            titled[n],
            if up { "up" } else { "DOWN" }
        );
    }

    // Writes.
    let _ = writeln!(o, "\nwrites:");
    if a.writes.is_empty() {
        let _ = writeln!(o, "  none yet");
    }
    for w in &a.writes {
        let label = w
            .label
            .as_deref()
            .map(|l| format!(" [{l}]"))
            .unwrap_or_default();
        let outcome = match (w.acked, w.latency_ms()) {
            (Some((at, _, v)), Some(lat)) => format!(
                "acknowledged at {at} ms, latency {lat} ms, log index {} (generation {})",
                v.index, v.generation
            ),
            _ => "not acknowledged".to_string(),
        };
        let lost = if a.lost_writes.contains(&w.op) {
            " — LOST"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "  op {}{label}: {} writes {} = \"{}\" at {} ms; {outcome}{lost}",
            w.op,
            name(w.client),
            w.key,
            w.value,
            w.invoked_at
        );
    }

    // Reads.
    let _ = writeln!(o, "\nreads:");
    if a.reads.is_empty() {
        let _ = writeln!(o, "  none yet");
    }
    for r in &a.reads {
        let label = r
            .label
            .as_deref()
            .map(|l| format!(" [{l}]"))
            .unwrap_or_default();
        let outcome = match &r.returned {
            Some((at, _, value, version, position)) => format!(
                "returned {} (index {}) at {at} ms; {} was at log position {position}",
                value
                    .as_deref()
                    .map_or("nothing".to_string(), |v| format!("\"{v}\"")),
                version.index,
                name(r.replica)
            ),
            None => "no answer yet".to_string(),
        };
        let stale = if r.stale.is_some() { " — STALE" } else { "" };
        let _ = writeln!(
            o,
            "  op {}{label}: {} reads {} from {} at {} ms; {outcome}{stale}",
            r.op,
            name(r.client),
            r.key,
            name(r.replica),
            r.invoked_at
        );
        if let Some(s) = &r.stale {
            let _ = writeln!(o, "    STALE READ: {}", s.explanation);
        }
    }
    let stale = a.stale_reads().count();
    let _ = writeln!(
        o,
        "  {} stale",
        if stale == 0 {
            "no read is".to_string()
        } else {
            format!(
                "{} {}",
                plural(stale as u64, "read"),
                if stale == 1 { "is" } else { "are" }
            )
        }
    );

    // Lag.
    let _ = writeln!(o, "\nreplication lag:");
    match a.leader {
        Some(l) => {
            let _ = writeln!(
                o,
                "  current leader: {}, log position {}",
                name(l),
                a.leader_position
            );
        }
        None => {
            let _ = writeln!(o, "  no leader");
        }
    }
    for lag in &a.lag {
        let behind = if lag.entries == 0 {
            "caught up".to_string()
        } else {
            format!("{} behind, {} ms", plural(lag.entries, "entry"), lag.ms)
        };
        let _ = writeln!(
            o,
            "  {}: {behind} (log position {})",
            name(lag.follower),
            lag.position
        );
    }

    // Lost writes.
    let _ = writeln!(o, "\nlost acknowledged writes:");
    if a.lost_writes.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for op in &a.lost_writes {
        if let Some(w) = a.writes.iter().find(|w| w.op == *op) {
            let _ = writeln!(
                o,
                "  op {}: {} = \"{}\", acknowledged to {} at {} ms, is not in the log of leader {}",
                w.op,
                w.key,
                w.value,
                name(w.client),
                w.acked.map_or(0, |x| x.0),
                a.leader.map_or("?", name)
            );
        }
    }

    if let Some(c) = &step.challenge {
        let goal = match c.goal {
            Goal::StaleRead => match &c.client {
                Some(who) => format!("make a read by {who} stale"),
                None => "make a read stale".to_string(),
            },
            Goal::LostWrite => "lose an acknowledged write".to_string(),
            // Validation keeps other models' goals out of replication lessons.
            _ => c.goal_name().to_string(),
        };
        let met = Lesson::challenge_met(c, scenario, engine);
        let _ = writeln!(
            o,
            "\nchallenge: {goal} — {}",
            if met {
                "met by this run"
            } else {
                "not met by this run"
            }
        );
    }
    o
}

/// A summary of step `index` (0-based) of an isolation lesson: title, level (and the
/// comparison level), each statement submitted up to the step's cursor with its result,
/// the anomaly checker's verdict on that prefix, and the challenge's checklist on the
/// step's own script. Errors: the step's script does not parse or run.
pub fn isolation_summary(lesson: &Lesson, index: usize) -> Result<String, String> {
    use distlab_sim::lesson::{isolation, Until};
    use distlab_sim::models::txn::dsg::analyze;
    use distlab_sim::models::txn::run::run_script;
    use distlab_sim::models::txn::script::parse_script;
    let step = &lesson.steps[index];
    let iso = lesson.isolation_step(index)?;
    let script = parse_script(&iso.script).map_err(|e| e.to_string())?;
    let n = script.steps.len();
    let upto = match step.until {
        Until::Start => 0,
        Until::Statement(k) => k.min(n),
        _ => n,
    };
    let mut o = String::new();
    o.push_str(&heading(lesson, index));
    let _ = writeln!(
        o,
        "level: {}{}",
        iso.level,
        iso.compare
            .map(|c| format!(" (side by side with {c})"))
            .unwrap_or_default()
    );
    let _ = writeln!(o, "cursor: {upto} of {n} statements submitted\n");
    for level in std::iter::once(iso.level).chain(iso.compare) {
        let mut prefix = script.clone();
        prefix.steps.truncate(upto);
        let r = run_script(&prefix, level)?;
        if iso.compare.is_some() {
            let _ = writeln!(o, "at {level}:");
        }
        o.push_str(&crate::sql::statement_lines(&r.statements));
        let a = analyze(&r.store.history());
        if a.findings.is_empty() {
            let _ = writeln!(o, "anomalies: none (no dependency cycle)\n");
        } else {
            for f in &a.findings {
                let _ = writeln!(o, "anomaly: {}", f.explanation);
            }
            o.push('\n');
        }
    }
    if let Some(c) = &step.challenge {
        let checks = isolation::check(&c.keep, &iso.script, iso.level);
        let _ = writeln!(
            o,
            "challenge: run with no anomaly — {}",
            if isolation::all_met(&checks) {
                "met by this script"
            } else {
                "not met by this script"
            }
        );
        for ch in checks {
            let _ = writeln!(
                o,
                "  [{}] {}{}",
                if ch.met { "x" } else { " " },
                ch.label,
                if ch.met {
                    String::new()
                } else {
                    format!(": {}", ch.why)
                }
            );
        }
    }
    Ok(o)
}

/// A summary of step `index` (0-based) of a lesson of an engine model other than
/// replication (`clocks`, `leaderless`): every event up to the cursor with its Lamport
/// timestamp and vector clock, then what the model's analysis says. Errors: the step's
/// run cannot be built or its cursor is not reached.
pub fn engine_summary(lesson: &Lesson, index: usize) -> Result<String, String> {
    match lesson.model.as_str() {
        "clocks" => {
            let (scenario, ivs) = lesson.engine_run::<Clocks>(index)?;
            let engine = Engine::new(scenario.setup()?, ivs);
            let cursor = lesson.steps[index].until.cursor(&engine)?;
            Ok(heading(lesson, index)
                + &events_with_clocks(&engine, cursor)
                + &question(lesson, index, &engine, cursor)?)
        }
        "leaderless" => {
            let (scenario, ivs) = lesson.engine_run::<Leaderless>(index)?;
            let engine = Engine::new(scenario.setup()?, ivs);
            let cursor = lesson.steps[index].until.cursor(&engine)?;
            let mut o = heading(lesson, index) + &events_with_clocks(&engine, cursor);
            let a = leaderless::analysis::analyze(&engine, cursor, &scenario.names());
            for (key, items) in &a.merged {
                let _ = writeln!(
                    o,
                    "\n{key}: merged by a reader = [{}]; {} sibling(s) survive{}",
                    items.join(", "),
                    a.survivors.get(key).map_or(0, Vec::len),
                    if a.converged {
                        ""
                    } else {
                        " (replicas not converged)"
                    }
                );
            }
            for l in &a.lost {
                let _ = writeln!(o, "lost write: {}", l.why);
            }
            for (key, item) in &a.resurrected {
                let _ = writeln!(o, "resurrected: {item} is back in {key} after its removal");
            }
            o += &question(lesson, index, &engine, cursor)?;
            if let Some(c) = &lesson.steps[index].challenge {
                o += &challenge_line(c.goal_name(), c.met_by_leaderless(&a));
            }
            Ok(o)
        }
        "raft" => {
            let (scenario, ivs) = lesson.engine_run::<Raft>(index)?;
            let engine = Engine::new(scenario.setup()?, ivs);
            let cursor = lesson.steps[index].until.cursor(&engine)?;
            let mut o = heading(lesson, index) + &raft_summary(&engine, cursor);
            if let Some(c) = &lesson.steps[index].challenge {
                let met = c.met_by_raft(&raft::analysis::analyze(&engine, cursor));
                o += &challenge_line(c.goal_name(), met);
            }
            o += &question(lesson, index, &engine, cursor)?;
            Ok(o)
        }
        "paxos" => {
            let (scenario, ivs) = lesson.engine_run::<Paxos>(index)?;
            let engine = Engine::new(scenario.setup()?, ivs);
            let cursor = lesson.steps[index].until.cursor(&engine)?;
            let mut o = heading(lesson, index) + &paxos_summary(&scenario, &engine, cursor);
            if let Some(c) = &lesson.steps[index].challenge {
                // Judged on the whole run: a value may still be chosen after the cursor.
                let end = engine.trace().len().checked_sub(1);
                let met = c.met_by_paxos(&paxos::analysis::analyze(&engine, end));
                o += &challenge_line(c.goal_name(), met);
            }
            o += &question(lesson, index, &engine, cursor)?;
            Ok(o)
        }
        "quorum" => {
            let (scenario, ivs) = lesson.engine_run::<Quorum>(index)?;
            let engine = Engine::new(scenario.setup()?, ivs);
            let cursor = lesson.steps[index].until.cursor(&engine)?;
            let mut o = heading(lesson, index) + &events_with_clocks(&engine, cursor);
            let a = quorum::analysis::analyze(&engine, cursor);
            let _ = writeln!(o, "\n{:?} mode; {}", a.consistency, a.overlap);
            for r in &a.requests {
                let _ = writeln!(
                    o,
                    "{} {:?} {}{} at {} ms: {:?}",
                    engine.nodes()[r.client].name,
                    r.kind,
                    r.key,
                    r.value
                        .as_ref()
                        .map(|v| format!(" = {v}"))
                        .unwrap_or_default(),
                    r.call_ms,
                    r.outcome
                );
            }
            for s in &a.stale_reads {
                let _ = writeln!(o, "stale read: {}", s.why);
            }
            for side in &a.per_side {
                let _ = writeln!(
                    o,
                    "side [{}]: {} served, {} refused",
                    side.names.join(", "),
                    side.counts.served,
                    side.counts.refused
                );
            }
            let history = distlab_sim::models::history::quorum(&engine, cursor).0;
            let verdict = distlab_sim::linearizability::check(
                &history,
                &distlab_sim::linearizability::ModelSpec::new(
                    distlab_sim::linearizability::Model::Register,
                ),
                Some(distlab_sim::lesson::CHECK_BUDGET),
            );
            let _ = writeln!(o, "history: {}", verdict.outcome);
            if let Some(c) = &lesson.steps[index].challenge {
                let who = c.client.as_deref().and_then(|n| scenario.node(n).ok());
                let met = c.met_by_quorum(&a, who, || {
                    verdict.outcome == distlab_sim::linearizability::Outcome::NotLinearizable
                });
                o += &challenge_line(c.goal_name(), met);
            }
            o += &question(lesson, index, &engine, cursor)?;
            Ok(o)
        }
        "twopc" => {
            use distlab_sim::models::{twopc, TwoPc};
            let (scenario, ivs) = lesson.engine_run::<TwoPc>(index)?;
            let engine = Engine::new(scenario.setup()?, ivs);
            let cursor = lesson.steps[index].until.cursor(&engine)?;
            let mut o = heading(lesson, index) + &events_with_clocks(&engine, cursor);
            let names = scenario.names();
            let name = |p: usize| names.get(p).cloned().unwrap_or_default();
            let a = twopc::analysis::analyze(&engine, cursor);
            o.push('\n');
            for t in &a.transactions {
                let decision = t.decision.as_ref().map_or("not decided".to_string(), |d| {
                    format!(
                        "{} at {} ms",
                        if d.commit { "commit" } else { "abort" },
                        d.time
                    )
                });
                let per: Vec<String> = t
                    .outcomes
                    .iter()
                    .map(|o| match (o.committed, o.time) {
                        (Some(c), Some(at)) => format!(
                            "{} {} at {at} ms",
                            name(o.participant),
                            if c { "committed" } else { "aborted" }
                        ),
                        _ => format!("{} no outcome", name(o.participant)),
                    })
                    .collect();
                let _ = writeln!(o, "{}: coordinator {decision}; {}", t.txn, per.join(", "));
            }
            for d in &a.in_doubt {
                let _ = writeln!(
                    o,
                    "in doubt: {} about {} from {} ms{}",
                    name(d.participant),
                    d.txn,
                    d.from_ms,
                    d.until_ms
                        .map_or(" (still)".to_string(), |u| format!(" to {u} ms"))
                );
            }
            for b in &a.blocked {
                let _ = writeln!(
                    o,
                    "blocked: {} waited {} ms for {} at {} (held by in-doubt {})",
                    b.txn,
                    b.waited_ms,
                    b.key,
                    name(b.participant),
                    b.holder
                );
            }
            for v in &a.violations {
                let _ = writeln!(
                    o,
                    "VIOLATION {} at {} ms: {}",
                    v.property.name(),
                    v.time,
                    v.text
                );
            }
            if let Some(c) = &lesson.steps[index].challenge {
                // Judged on the whole run, as the page does.
                let end = engine.trace().len().checked_sub(1);
                let met = c.met_by_twopc(&twopc::analysis::analyze(&engine, end));
                o += &challenge_line(c.goal_name(), met);
            }
            o += &question(lesson, index, &engine, cursor)?;
            Ok(o)
        }
        "gossip" => {
            use distlab_sim::models::{gossip, Gossip};
            let (scenario, ivs) = lesson.engine_run::<Gossip>(index)?;
            let engine = Engine::new(scenario.setup()?, ivs);
            let cursor = lesson.steps[index].until.cursor(&engine)?;
            let a = gossip::analysis::analyze(&scenario, &engine, cursor);
            let mut o = heading(lesson, index);
            let _ = writeln!(
                o,
                "{} nodes, {}, fanout {}, loss {:.0} %, rounds of {} ms; {} messages ({} bytes)",
                a.n,
                a.mode.name(),
                a.fanout,
                a.loss * 100.0,
                a.round_ms,
                a.messages,
                a.bytes
            );
            for u in &a.updates {
                let curve: Vec<String> = u.curve.iter().map(|c| c.to_string()).collect();
                let _ = writeln!(
                    o,
                    "{}={} ({}) from n{}: informed per round {}; {}; {} messages",
                    u.key,
                    u.value,
                    u.version,
                    u.origin + 1,
                    curve.join(" "),
                    match u.all_round {
                        Some(r) => format!("all {} live nodes after {r} rounds", u.live),
                        None => format!("{} not informed", u.stragglers.len()),
                    },
                    u.messages
                );
            }
            if let Some(e) = &a.expected_rounds {
                let _ = writeln!(
                    o,
                    "expected: {} = {:.1} rounds ({})",
                    e.formula, e.rounds, e.source
                );
            }
            if let Some(c) = &lesson.steps[index].challenge {
                // Judged on the whole run: the update may still spread after the cursor.
                let end = engine.trace().len().checked_sub(1);
                let met = c.met_by_gossip(&gossip::analysis::analyze(&scenario, &engine, end));
                o += &challenge_line(c.goal_name(), met);
            }
            o += &question(lesson, index, &engine, cursor)?;
            Ok(o)
        }
        other => Err(format!("no summary for {other} lessons")),
    }
}

/// `challenge: GOAL — met by this run` (or not), after a blank line.
fn challenge_line(goal: &str, met: bool) -> String {
    format!(
        "\nchallenge: {goal} — {}\n",
        if met {
            "met by this run"
        } else {
            "not met by this run"
        }
    )
}

/// Step `index`'s question, if it has one: the question as written, the options with the
/// right ones ticked, and why (computed from the run for questions about it).
fn question<P: Protocol>(
    lesson: &Lesson,
    index: usize,
    engine: &Engine<P>,
    cursor: Option<usize>,
) -> Result<String, String> {
    let Some(q) = &lesson.steps[index].question else {
        return Ok(String::new());
    };
    // Resolved on the step's run: a predict question's answer comes from it.
    let resolved = lesson
        .step_question(index)?
        .ok_or("the step asks no question")?;
    let posed = resolved.pose(Some((&Diagram::build(engine), cursor)))?;
    let mut o = format!("\nquestion: {}\n", q.ask);
    for (i, opt) in posed.options.iter().enumerate() {
        let tick = if posed.correct.contains(&i) { "x" } else { " " };
        let _ = writeln!(o, "  [{tick}] {opt}");
    }
    if let Some(why) = &posed.why {
        let _ = writeln!(o, "  why: {why}");
    }
    if let Some(e) = &q.explain {
        let _ = writeln!(o, "  explain: {e}");
    }
    Ok(o)
}

/// A Raft run up to `cursor`: elections and candidacies, the servers' states there, a
/// stale leader if any, and the safety monitor's verdict.
fn raft_summary(engine: &Engine<raft::Node>, cursor: Option<usize>) -> String {
    let a = raft::analysis::analyze(engine, cursor);
    let names: Vec<String> = engine.nodes().iter().map(|n| n.name.clone()).collect();
    let name = |i: usize| names.get(i).cloned().unwrap_or_default();
    let mut o = String::new();
    let t = cursor.map_or(0, |c| engine.trace()[c].time);
    let _ = writeln!(o, "cursor at {t} ms");
    for c in &a.candidacies {
        let won = a
            .elections
            .iter()
            .any(|e| e.node == c.node && e.term == c.term);
        let _ = writeln!(
            o,
            "t={:>5} ms  {} candidate for term {}{}",
            c.time,
            name(c.node),
            c.term,
            if won { " — elected" } else { "" }
        );
    }
    for (i, v) in engine.views_at(cursor).iter().enumerate() {
        if let raft::View::Server {
            role,
            term,
            voted_for,
            log,
            commit_index,
            kv,
            ..
        } = v
        {
            let entries: Vec<String> = log
                .iter()
                .enumerate()
                .map(|(k, e)| {
                    let uncommitted = if k < *commit_index { "" } else { "?" };
                    format!("{uncommitted}{}", e.describe_at(k + 1))
                })
                .collect();
            let _ = writeln!(
                o,
                "{:<6} {:<9} term {term}, voted for {}, commit {commit_index}, log [{}], state {:?}",
                name(i),
                role.name(),
                voted_for.map_or("none".to_string(), name),
                entries.join(", "),
                kv
            );
        }
    }
    if let Some(two) = &a.two_leaders {
        let ((a1, t1), (a2, t2)) = (two.first, two.second);
        let _ = writeln!(
            o,
            "two leaders at {} ms: {} (term {t1}) and {} (term {t2})",
            two.time,
            name(a1),
            name(a2)
        );
    }
    if a.violations.is_empty() {
        let _ = writeln!(o, "safety: no violation of Figure 3's properties");
    }
    for v in &a.violations {
        violation_line(&mut o, v.property.name(), v.time, &v.text);
    }
    o
}

/// A Paxos run up to `cursor`: the backoff and broken rules, the ballots each proposer
/// started and how many were preempted, adoptions, every node's state there (crashed ones
/// marked), the value chosen and learned, and the safety monitor's verdict.
fn paxos_summary(
    scenario: &paxos::PaxosScenario,
    engine: &Engine<paxos::Node>,
    cursor: Option<usize>,
) -> String {
    let a = paxos::analysis::analyze(engine, cursor);
    let names: Vec<String> = engine.nodes().iter().map(|n| n.name.clone()).collect();
    let name = |i: usize| names.get(i).cloned().unwrap_or_default();
    let names_of = |ns: &[usize]| ns.iter().map(|&n| name(n)).collect::<Vec<_>>().join(", ");
    let mut o = String::new();
    let t = cursor.map_or(0, |c| engine.trace()[c].time);
    let backoff = match scenario.backoff_ms {
        0 => "none (a preempted proposer retries at once)".to_string(),
        ms => format!("random, up to {ms} ms"),
    };
    let broken: Vec<&str> = scenario.broken.iter().map(|b| b.name()).collect();
    let _ = writeln!(
        o,
        "cursor at {t} ms; backoff {backoff}; broken rules: {}",
        if broken.is_empty() {
            "none".to_string()
        } else {
            broken.join(", ")
        }
    );
    for (p, ballots) in a.ballots_per_proposer() {
        let shown: Vec<String> = ballots.iter().take(8).map(|b| b.to_string()).collect();
        let more = if ballots.len() > 8 { ", …" } else { "" };
        let preempted = a.preempted.iter().filter(|x| x.proposer == p).count();
        let _ = writeln!(
            o,
            "{} started {} ({}{more}), {preempted} preempted",
            name(p),
            plural(ballots.len() as u64, "ballot"),
            shown.join(", ")
        );
    }
    for ad in &a.adoptions {
        let own = match &ad.own {
            Some(v) if *v != ad.value => format!(", not its own {v}"),
            _ => String::new(),
        };
        let _ = writeln!(
            o,
            "t={:>5} ms  {} adopts {} (accepted in {}) for ballot {}{own}",
            ad.time,
            name(ad.proposer),
            ad.value,
            ad.from,
            ad.ballot
        );
    }
    let up = engine.world_at(cursor).map(|w| w.up).unwrap_or_default();
    for (i, v) in engine.views_at(cursor).iter().enumerate() {
        let fields: Vec<String> = v.fields().iter().map(|(k, x)| format!("{k} {x}")).collect();
        let down = if up.get(i).copied().unwrap_or(true) {
            ""
        } else {
            " (crashed)"
        };
        let _ = writeln!(o, "{:<6} {}{down}", name(i), fields.join(", "));
    }
    match &a.chosen {
        Some(c) => {
            let _ = writeln!(
                o,
                "chosen: {} in ballot {} at {} ms (accepted by {})",
                c.value,
                c.ballot,
                c.time,
                names_of(&c.acceptors)
            );
        }
        None => {
            let _ = writeln!(o, "chosen: nothing yet");
        }
    }
    for l in &a.learned {
        let _ = writeln!(
            o,
            "t={:>5} ms  {} learns {} (ballot {})",
            l.time,
            name(l.learner),
            l.value,
            l.ballot
        );
    }
    if a.violations.is_empty() {
        let _ = writeln!(
            o,
            "safety: at most one value chosen, only a proposed value chosen, only a chosen value learned — all hold"
        );
    }
    for v in &a.violations {
        violation_line(&mut o, v.property.name(), v.time, &v.text);
    }
    o
}

/// `VIOLATION of PROPERTY at T ms: TEXT` (a safety monitor's violation, Raft's or Paxos's).
fn violation_line(o: &mut String, property: &str, time: u64, text: &str) {
    let _ = writeln!(o, "VIOLATION of {property} at {time} ms: {text}");
}

/// `t=… ms  label   L=(c, n) V=[…]` for every trace step up to `cursor`.
fn events_with_clocks<P: Protocol>(engine: &Engine<P>, cursor: Option<usize>) -> String {
    let diagram = Diagram::build(engine);
    let c = Causality::of_diagram(&diagram);
    let mut o = String::new();
    let upto = cursor.map_or(0, |s| s + 1);
    for m in diagram.marks.iter().take(upto) {
        let clocks = c.event_of_mark[m.step]
            .map(|e| format!("  L={} V={}", c.lamport[e].counter, c.vector[e]))
            .unwrap_or_default();
        let _ = writeln!(o, "t={:>5} ms  {}{clocks}", m.time, m.label);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::engine_summary;
    use distlab_sim::lesson::built_in;

    fn paxos_step(title: &str) -> String {
        let l = built_in().into_iter().find(|l| l.id == "paxos").unwrap();
        let i = l.steps.iter().position(|s| s.title == title).unwrap();
        engine_summary(&l, i).unwrap()
    }

    #[test]
    fn paxos_summaries_read_the_run() {
        let o = paxos_step("Two phases, one value");
        assert!(o.contains("Paxos — step 1/8: Two phases, one value"), "{o}");
        assert!(o.contains("cursor at 40 ms"), "{o}");
        assert!(
            o.contains("chosen: A in ballot 1.1 at 30 ms (accepted by a1, a2)"),
            "{o}"
        );
        assert!(o.contains("l1 learns A (ballot 1.1)"), "{o}");
        assert!(o.contains("a3     promised 1.1, accepted A in 1.1"), "{o}");
        assert!(o.contains("all hold"), "{o}");
        let o = paxos_step("A later proposer adopts the value");
        assert!(
            o.contains("p2 adopts A (accepted in 1.1) for ballot 1.2, not its own B"),
            "{o}"
        );
        assert!(
            o.contains("[x] Accept it: B would be chosen too, after A"),
            "{o}"
        );
        let o = paxos_step("Duelling proposers");
        assert!(o.contains("backoff none"), "{o}");
        assert!(o.contains("p1 started 46 ballots (1.1, 2.1, 4.1,"), "{o}");
        assert!(o.contains("45 preempted"), "{o}");
        assert!(o.contains("chosen: nothing yet"), "{o}");
        let o = paxos_step("Broken Paxos: ignore the promises");
        assert!(o.contains("broken rules: adopt-accepted-value"), "{o}");
        assert!(
            o.contains("VIOLATION of at most one chosen at 130 ms"),
            "{o}"
        );
        let o = paxos_step("Your turn: make them duel");
        assert!(
            o.contains("challenge: no-value-chosen — not met by this run"),
            "{o}"
        );
    }
}
