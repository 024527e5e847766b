//! `distlab clocks analyze FILE [--execution NAME] [--regex RE] [--pair A B]... [--json]`:
//! reads a ShiViz log (events with vector clocks; docs/CLOCKS.md), validates it, and prints
//! its hosts, events, the messages inferred from the clocks, how many event pairs are
//! concurrent, and how the pairs asked for are related, in words.

use crate::{emit, emitln, Failure};
use distlab_sim::causality::shiviz::{parse, Execution};
use distlab_sim::causality::{Causality, Relation};
use serde_json::{json, Value as Json};
use std::path::Path;

/// How many messages and concurrent pairs the text output lists before "… and N more".
const LIST_LIMIT: usize = 20;

/// What `clocks analyze` was asked.
pub struct AnalyzeOptions<'a> {
    pub file: &'a Path,
    /// The execution's name (`=== name ===`); the first execution when `None`.
    pub execution: Option<&'a str>,
    /// A custom parser regex (named groups `event`, `host`, `clock`).
    pub regex: Option<&'a str>,
    /// Event names, two per pair: `host:n` or `line:N`.
    pub pairs: &'a [String],
    pub json: bool,
}

/// Runs `clocks analyze`. Exit code 0; bad input (unreadable file, invalid log, unknown
/// execution or event) is [`Failure::Input`], whose message for an invalid log is
/// `FILE: line N: message`.
pub fn analyze(o: &AnalyzeOptions) -> Result<u8, Failure> {
    let path = o.file.display();
    let text = std::fs::read_to_string(o.file)
        .map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))?;
    let execs = parse(&text, o.regex).map_err(|e| Failure::Input(format!("{path}: {e}")))?;
    let names: Vec<&str> = execs.iter().map(|x| x.name.as_str()).collect();
    let x = match o.execution {
        None => &execs[0],
        Some(name) => execs.iter().find(|x| x.name == name).ok_or_else(|| {
            Failure::Input(format!(
                "no execution \"{name}\" in {path} (its executions: {})",
                quoted(&names)
            ))
        })?,
    };
    let c = x.causality();
    let pairs = o
        .pairs
        .chunks(2)
        .map(|p| Ok((resolve(x, &p[0])?, resolve(x, &p[1])?)))
        .collect::<Result<Vec<_>, Failure>>()?;
    if o.json {
        let json = serde_json::to_string_pretty(&to_json(x, &c, &names, &pairs))
            .map_err(|e| Failure::Failed(format!("cannot serialize the analysis: {e}")))?;
        emitln(&json)?;
    } else {
        emit(text_report(x, &c, &names, &pairs).as_bytes())?;
    }
    Ok(0)
}

/// `"a", "b"`.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The event named `host:n` (n-th event of the host, from 1) or `line:N` (the event written
/// on line N: its event line or its clock line). The name splits at its last colon, so host
/// names may contain colons; `line:N` means a host called `line` if there is one.
fn resolve(x: &Execution, name: &str) -> Result<usize, Failure> {
    let bad = |why: String| Failure::Input(format!("event \"{name}\": {why}"));
    let (left, right) = name.rsplit_once(':').ok_or_else(|| {
        bad("name an event as host:n (the n-th event of a host, from 1) or line:N".into())
    })?;
    let n: u64 = right
        .parse()
        .map_err(|_| bad(format!("\"{right}\" is not a number")))?;
    let execution = if x.name.is_empty() {
        String::new()
    } else {
        format!(" in execution \"{}\"", x.name)
    };
    if left == "line" && !x.hosts.iter().any(|h| h == "line") {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        return x.event_on_line(n).ok_or_else(|| {
            let first = x.events.iter().map(|e| e.line).min().unwrap_or(0);
            let last = x.events.iter().map(|e| e.clock_line).max().unwrap_or(0);
            bad(format!(
                "no event is written on line {n}{execution} (its events are on lines \
                 {first}–{last})"
            ))
        });
    }
    let Some(h) = x.hosts.iter().position(|h| h == left) else {
        return Err(bad(format!(
            "no host \"{left}\"{execution} (hosts: {})",
            x.hosts.join(", ")
        )));
    };
    let count = x.host_events(h).len();
    x.event(left, n).ok_or_else(|| {
        bad(format!(
            "host \"{left}\" has {count} event{}{execution}: n must be 1–{count}",
            if count == 1 { "" } else { "s" }
        ))
    })
}

/// `alice:2 (line 3)`.
fn label(x: &Execution, e: usize) -> String {
    format!("{} (line {})", x.name_of(e), x.events[e].line)
}

/// The relation of log events `a` and `b`, and why, in words.
fn relation(x: &Execution, c: &Causality, a: usize, b: usize) -> (Relation, String) {
    let (pa, pb) = (x.position(a), x.position(b));
    let name = |p: usize| x.name_of(x.order()[p]);
    let node = |n: usize| x.hosts[n].clone();
    (c.relation(pa, pb), c.explain(pa, pb, &name, &node))
}

/// The concurrent pairs as log events, each pair in log order, sorted.
fn concurrent(x: &Execution, c: &Causality) -> Vec<(usize, usize)> {
    let n = x.events.len();
    (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .filter(|&(a, b)| c.relation(x.position(a), x.position(b)) == Relation::Concurrent)
        .collect()
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn text_report(x: &Execution, c: &Causality, names: &[&str], pairs: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let title = if x.name.is_empty() {
        "execution (unnamed)".to_string()
    } else {
        format!("execution \"{}\"", x.name)
    };
    let others: Vec<&str> = names.iter().copied().filter(|n| *n != x.name).collect();
    if others.is_empty() {
        out.push_str(&format!("{title}\n"));
    } else {
        out.push_str(&format!(
            "{title}; other executions (--execution NAME): {}\n",
            quoted(&others)
        ));
    }
    out.push_str(&format!("hosts: {}\n", x.hosts.len()));
    let width = x.hosts.iter().map(|h| h.chars().count()).max().unwrap_or(0);
    for (h, name) in x.hosts.iter().enumerate() {
        let pad = width - name.chars().count();
        out.push_str(&format!(
            "  {name}{}  {}\n",
            " ".repeat(pad),
            plural(x.host_events(h).len(), "event")
        ));
    }
    out.push_str(&format!("events: {}\n", x.events.len()));
    out.push_str(&format!(
        "messages: {} (inferred from the vector clocks)\n",
        x.messages.len()
    ));
    let more = |n: usize| format!("  … and {n} more (--json lists every message)\n");
    for m in x.messages.iter().take(LIST_LIMIT) {
        out.push_str(&format!("  {} → {}\n", label(x, m.from), label(x, m.to)));
    }
    if x.messages.len() > LIST_LIMIT {
        out.push_str(&more(x.messages.len() - LIST_LIMIT));
    }
    let n = x.events.len();
    let conc = concurrent(x, c);
    out.push_str(&format!(
        "concurrent pairs: {} of {} event pairs\n",
        conc.len(),
        n * n.saturating_sub(1) / 2
    ));
    for &(a, b) in conc.iter().take(LIST_LIMIT) {
        out.push_str(&format!("  {} ∥ {}\n", label(x, a), label(x, b)));
    }
    if conc.len() > LIST_LIMIT {
        out.push_str(&format!(
            "  … and {} more (ask about one with --pair A B)\n",
            conc.len() - LIST_LIMIT
        ));
    }
    for &(a, b) in pairs {
        let (rel, why) = relation(x, c, a, b);
        out.push_str(&format!(
            "pair {} and {}: {}\n  {why}\n",
            label(x, a),
            label(x, b),
            relation_word(rel)
        ));
    }
    out
}

/// `before`, `after`, `concurrent` or `same`.
fn relation_word(r: Relation) -> &'static str {
    match r {
        Relation::Same => "same",
        Relation::Before => "before",
        Relation::After => "after",
        Relation::Concurrent => "concurrent",
    }
}

/// The documented JSON form (docs/CLOCKS.md).
fn to_json(x: &Execution, c: &Causality, names: &[&str], pairs: &[(usize, usize)]) -> Json {
    let n = x.events.len();
    let messages: Vec<Json> = x
        .messages
        .iter()
        .map(|m| {
            json!({
                "from": x.name_of(m.from),
                "from_line": x.events[m.from].line,
                "to": x.name_of(m.to),
                "to_line": x.events[m.to].line,
            })
        })
        .collect();
    let pairs: Vec<Json> = pairs
        .iter()
        .map(|&(a, b)| {
            let (rel, why) = relation(x, c, a, b);
            json!({
                "a": x.name_of(a),
                "a_line": x.events[a].line,
                "b": x.name_of(b),
                "b_line": x.events[b].line,
                "relation": relation_word(rel),
                "explanation": why,
            })
        })
        .collect();
    json!({
        "execution": x.name,
        "executions": names,
        "hosts": x.hosts.len(),
        "host_names": x.hosts,
        "events_per_host": (0..x.hosts.len()).map(|h| x.host_events(h).len()).collect::<Vec<_>>(),
        "events": n,
        "messages": x.messages.len(),
        "message_list": messages,
        "event_pairs": n * n.saturating_sub(1) / 2,
        "concurrent_pairs": c.concurrent_pairs(),
        "pairs": pairs,
    })
}
