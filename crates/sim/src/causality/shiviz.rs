//! ShiViz logs: import (parse and validate), message inference, and export of any run.
//!
//! ShiViz (Beschastnikh et al., "Debugging distributed systems", CACM 59(8), 2016; the tool
//! at DistributedClocks/shiviz) draws a space-time diagram from a log in which every event
//! carries its vector clock. Its default parser regex, applied to the whole text with the
//! multi-line flag, is
//!
//! ```text
//! (?<event>.*)\n(?<host>\S*) (?<clock>{.*})
//! ```
//!
//! that is, a line of event text followed by a line `host {"host": 3, "other": 1}`; blank
//! lines between blocks are allowed. A custom regex may replace it: it must have the named
//! groups `event`, `host` and `clock`; any other named group becomes a field of the event.
//! Several executions are separated by delimiter lines `=== name ===` (ShiViz's delimiter
//! `^=== (?<trace>.*) ===$`); non-blank text before the first delimiter is an execution
//! named `""`.
//!
//! Differences from ShiViz, all on the side of telling the user more:
//! - ShiViz silently skips text its regex does not match; here any non-blank text outside
//!   every match is an error naming its line (a skipped line is usually a lost event).
//! - Line numbers are lines of the whole file (ShiViz counts from the start of each
//!   execution's text, and reports clock lines as `line + 1`).
//! - ShiViz keeps the last of two executions with the same name; here that is an error.
//! - Regexes are JavaScript-flavoured as ShiViz's are: a `{` that does not start a counted
//!   repetition (`{2}`, `{2,}`, `{2,5}`) is a literal brace, as in browsers. The rest is
//!   the `regex` crate's syntax, which agrees with JavaScript on what ShiViz logs use
//!   (`\S`, `\w`, `\d` are Unicode-aware here, ASCII in JavaScript).
//!
//! As in ShiViz, a host's events are ordered by their own clock entry (ShiViz sorts each
//! host's events by it before checking them), which for every log that instrumentation
//! libraries write is also their order in the file. See docs/CLOCKS.md.

use super::{Causality, VectorClock};
use crate::diagram::{Arrow, Diagram, Mark, Outcome};
use crate::engine::{NodeInfo, NodeRole};
use crate::NodeId;
use regex::Regex;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// ShiViz's default parser regex, as ShiViz writes it (JavaScript flavour; see the module
/// documentation for how `{` is read).
pub const DEFAULT_REGEX: &str = r"(?<event>.*)\n(?<host>\S*) (?<clock>{.*})";

/// ShiViz's delimiter of executions in one log, applied line by line.
pub const DELIMITER: &str = r"^=== (?<trace>.*) ===$";

/// Why a log cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogError {
    /// 1-based line of the log where the problem is (for a vector clock: the line of the
    /// clock text); 0 when the problem is not in the log (an invalid parser regex).
    pub line: usize,
    /// What is wrong, naming the event (`host:n`) and the lines involved.
    pub message: String,
}

impl LogError {
    fn at(line: usize, message: impl Into<String>) -> LogError {
        LogError {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for LogError {
    /// `line 12: message`, or just the message when `line` is 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for LogError {}

/// One event of a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogEvent {
    /// Index into [`Execution::hosts`].
    pub host: usize,
    /// Its own clock entry: its position among its host's events, from 1 (the `n` of its
    /// name `host:n`).
    pub seq: u64,
    /// The event text (the `event` group).
    pub text: String,
    /// 1-based line of the log where the `event` group starts (the event line).
    pub line: usize,
    /// 1-based line where the `clock` group starts (with the default regex, `line + 1`).
    pub clock_line: usize,
    /// The vector clock as written in the log: host name → number of that host's events
    /// this event has seen, itself included (zero entries kept as written; they mean the
    /// same as absent ones).
    pub clock: BTreeMap<String, u64>,
    /// The regex's other named groups that matched, in the regex's order: `(name, text)`.
    pub fields: Vec<(String, String)>,
}

impl LogEvent {
    /// The clock's entry for `host` (0 when absent).
    pub fn entry(&self, host: &str) -> u64 {
        self.clock.get(host).copied().unwrap_or(0)
    }
}

/// A message inferred from the clocks: event `from` sent, event `to` received (indices
/// into [`Execution::events`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Message {
    pub from: usize,
    pub to: usize,
}

/// One execution of a log, validated: its clocks obey the vector-clock rules, so its
/// causality is exactly what they say. Only [`parse`] makes one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Execution {
    /// Its name from the `=== name ===` line; `""` for text before any delimiter.
    pub name: String,
    /// 1-based line of its delimiter; 0 when it has none.
    pub line: usize,
    /// Host names in order of their first event in the log.
    pub hosts: Vec<String>,
    /// Events in log order.
    pub events: Vec<LogEvent>,
    /// Messages inferred as ShiViz infers them (see [`parse`]), in the causal order of
    /// their senders ([`Execution::order`]), then of their receivers.
    pub messages: Vec<Message>,
    /// Per host, its events in order (`by_host[h][n - 1]` is event `host:n`).
    #[serde(skip)]
    by_host: Vec<Vec<usize>>,
    /// The events in a causal order: every event after those it happens after (program
    /// order and messages); ties by log order.
    #[serde(skip)]
    order: Vec<usize>,
    /// Inverse of `order`.
    #[serde(skip)]
    position: Vec<usize>,
}

impl Execution {
    /// The events of `host` in order (`[0]` is `host:1`).
    pub fn host_events(&self, host: usize) -> &[usize] {
        &self.by_host[host]
    }

    /// The event `host:n` (`n` from 1), if it exists.
    pub fn event(&self, host: &str, n: u64) -> Option<usize> {
        let h = self.hosts.iter().position(|x| x == host)?;
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        self.by_host[h].get(i).copied()
    }

    /// The event written on `line` (its event line or its clock line), if any.
    pub fn event_on_line(&self, line: usize) -> Option<usize> {
        self.events
            .iter()
            .position(|e| e.line == line || e.clock_line == line)
    }

    /// The event's name: `host:n`.
    pub fn name_of(&self, event: usize) -> String {
        let e = &self.events[event];
        format!("{}:{}", self.hosts[e.host], e.seq)
    }

    /// The events (indices into [`Execution::events`]) in the order of [`Execution::causality`]'s
    /// events and [`Execution::diagram`]'s marks: a causal order, ties by log order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Where `event` stands in [`Execution::order`]: its index in [`Execution::causality`] and
    /// its mark in [`Execution::diagram`].
    pub fn position(&self, event: usize) -> usize {
        self.position[event]
    }

    /// The log's vector clock of `event`, dense over [`Execution::hosts`] (entry `h` for host
    /// `h`), comparable with [`Causality::vector`].
    pub fn vector(&self, event: usize) -> VectorClock {
        let e = &self.events[event];
        VectorClock(self.hosts.iter().map(|h| e.entry(h)).collect())
    }

    /// The senders of each event's inferred messages, per event.
    fn senders(&self) -> Vec<Vec<usize>> {
        let mut senders = vec![Vec::new(); self.events.len()];
        for m in &self.messages {
            senders[m.to].push(m.from);
        }
        senders
    }

    /// The causality of the execution computed from program order and the inferred
    /// messages by [`Causality::new`]: nodes are hosts (indices into `hosts`), events are in
    /// [`Execution::order`] and each event's `mark` is its position there. For a validated
    /// log its vector clocks equal the log's ([`Execution::vector`]).
    pub fn causality(&self) -> Causality {
        let senders = self.senders();
        let list = self
            .order
            .iter()
            .enumerate()
            .map(|(pos, &e)| {
                let from = senders[e].iter().map(|&s| self.position[s]).collect();
                (self.events[e].host, pos, from)
            })
            .collect();
        Causality::new(self.hosts.len(), self.events.len(), list)
            .expect("a validated execution's order puts every sender before its receivers")
    }

    /// The execution as a diagram: one lifeline per host (`NodeInfo { name, role: Server,
    /// place: None }`), one mark per event in [`Execution::order`] (`step` = its index), and
    /// one delivered arrow per inferred message. A mark's kind is `deliver` when the event
    /// receives a message, `send` when it only sends, `local` otherwise; its label is the
    /// event text; its details give the host, the name `host:n`, the line, the log's vector
    /// clock, the Lamport time, the fields and the messages.
    ///
    /// A log has no physical time, so `time` is the event's Lamport counter (Lamport 1978,
    /// IR1/IR2 over program order and the inferred messages): the diagram is drawn in
    /// logical time, and `end_time` is the largest counter.
    pub fn diagram(&self) -> Diagram {
        let c = self.causality();
        let nodes = self
            .hosts
            .iter()
            .map(|h| NodeInfo {
                name: h.clone(),
                role: NodeRole::Server,
                place: None,
                clock: Default::default(),
            })
            .collect();
        let senders = self.senders();
        let mut receivers = vec![Vec::new(); self.events.len()];
        for m in &self.messages {
            receivers[m.from].push(m.to);
        }
        let names = |list: &[usize]| {
            list.iter()
                .map(|&x| self.name_of(x))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let marks = self
            .order
            .iter()
            .enumerate()
            .map(|(pos, &e)| {
                let ev = &self.events[e];
                let kind = if !senders[e].is_empty() {
                    "deliver"
                } else if !receivers[e].is_empty() {
                    "send"
                } else {
                    "local"
                };
                let mut details = vec![
                    ("host".to_string(), self.hosts[ev.host].clone()),
                    ("event".to_string(), self.name_of(e)),
                    ("line".to_string(), ev.line.to_string()),
                    ("vector clock".to_string(), clock_json(&ev.clock)),
                    (
                        "Lamport time".to_string(),
                        c.lamport[pos].counter.to_string(),
                    ),
                ];
                details.extend(ev.fields.iter().cloned());
                if !senders[e].is_empty() {
                    details.push(("receives from".into(), names(&senders[e])));
                }
                if !receivers[e].is_empty() {
                    details.push(("sends to".into(), names(&receivers[e])));
                }
                Mark {
                    step: pos,
                    time: c.lamport[pos].counter,
                    node: Some(ev.host),
                    kind,
                    label: ev.text.clone(),
                    details,
                }
            })
            .collect();
        let time = |e: usize| c.lamport[self.position[e]].counter;
        let arrows = self
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| Arrow {
                id: i as u64,
                from: self.events[m.from].host,
                to: self.events[m.to].host,
                sent_at: time(m.from),
                send_step: self.position[m.from],
                arrives_at: time(m.to),
                kind: "message",
                label: format!("{} → {}", self.name_of(m.from), self.name_of(m.to)),
                details: vec![
                    ("sent at".into(), self.name_of(m.from)),
                    ("received at".into(), self.name_of(m.to)),
                ],
                outcome: Outcome::Delivered {
                    at: time(m.to),
                    step: self.position[m.to],
                },
                epoch: None,
            })
            .collect();
        Diagram {
            nodes,
            marks,
            arrows,
            down: Vec::new(),
            end_time: c.lamport.iter().map(|l| l.counter).max().unwrap_or(0),
            timed: false,
        }
    }
}

/// A clock as compact JSON, keys in the map's order: `{"alice":2,"bob":1}`.
fn clock_json<'a>(entries: impl IntoIterator<Item = (&'a String, &'a u64)>) -> String {
    let body: Vec<String> = entries
        .into_iter()
        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// Parses a log with ShiViz's format: the default parser regex ([`DEFAULT_REGEX`]) or
/// `regex` (JavaScript flavour, with named groups `event`, `host`, `clock` and optionally
/// others kept as fields), executions separated by `=== name ===` lines. Windows line
/// endings are accepted.
///
/// Each execution is validated (every failure is a [`LogError`] naming the line, never a
/// panic): the clock must be a JSON object of whole numbers ≥ 0 with an entry for the
/// event's own host; each host's own entries must be 1, 2, 3, ...; an entry for another
/// host must name a host of the execution, must not exceed its number of events, and must
/// not go down from the host's previous event; an event that has seen event `k` of host `g`
/// must have seen everything that event had seen (`V(e) ≥ V(g:k)` entry-wise); no two events
/// may each have seen the other (a causal cycle); an execution must have events, and names
/// must be unique.
///
/// Messages are inferred as ShiViz's `ModelGraph` does: for event `e` of host `h` with
/// previous event `p` on `h`, every other host `g` whose entry grew (`V(e)[g] > V(p)[g]`)
/// gives the candidate sender `g:V(e)[g]`; a candidate in the causal past of another
/// candidate is dropped, so each message is drawn from its direct sender only.
pub fn parse(text: &str, regex: Option<&str>) -> Result<Vec<Execution>, LogError> {
    let text = text.replace("\r\n", "\n");
    let parser = Parser::new(regex)?;
    let lines = LineIndex::new(&text);
    let delimiter = Regex::new(&format!("(?m){DELIMITER}")).expect("the delimiter is valid");
    // Each execution's text: (its delimiter's name and line, start, end).
    type Part = (Option<(String, usize)>, usize, usize);
    let mut parts: Vec<Part> = Vec::new();
    let (mut header, mut start) = (None, 0);
    for caps in delimiter.captures_iter(&text) {
        let m = caps.get(0).expect("group 0");
        parts.push((header.take(), start, m.start()));
        header = Some((caps["trace"].to_string(), lines.line(m.start())));
        start = m.end();
    }
    parts.push((header, start, text.len()));
    let mut out: Vec<Execution> = Vec::new();
    for (header, start, end) in parts {
        if header.is_none() && text[start..end].trim().is_empty() {
            continue;
        }
        let (name, line) = header.unwrap_or_default();
        if let Some(first) = out.iter().find(|x| x.name == name) {
            return Err(LogError::at(
                line,
                format!(
                    "a second execution named \"{name}\" (the first starts at line {}); names \
                     must be unique so that one can be chosen",
                    first.line
                ),
            ));
        }
        let raw = parser.events(&text, start, end, &lines)?;
        if raw.is_empty() {
            return Err(LogError::at(
                line.max(1),
                format!("execution \"{name}\" has no events"),
            ));
        }
        out.push(validate(name, line, raw)?);
    }
    if out.is_empty() {
        return Err(LogError::at(1, "the log has no events"));
    }
    Ok(out)
}

/// Byte offset → 1-based line.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex(starts)
    }
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset)
    }
    /// 1-based column (in characters) of `offset` in its line of `text`.
    fn column(&self, text: &str, offset: usize) -> usize {
        let start = self.0[self.line(offset) - 1];
        text[start..offset].chars().count() + 1
    }
}

/// Rewrites a JavaScript regex for the `regex` crate: a `{` that does not start a counted
/// repetition is a literal brace in JavaScript (`{.*}` in ShiViz's default regex).
fn javascript_braces(re: &str) -> String {
    let counted = Regex::new(r"^\{[0-9]+(,[0-9]*)?\}").expect("valid");
    let mut out = String::with_capacity(re.len() + 4);
    let (mut escaped, mut in_class) = (false, false);
    for (i, c) in re.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if in_class {
            in_class = c != ']';
        } else if c == '[' {
            in_class = true;
        } else if c == '{' && !counted.is_match(&re[i..]) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The parser regex and its field groups.
struct Parser {
    re: Regex,
    source: String,
    fields: Vec<String>,
    custom: bool,
}

/// An event as matched, before validation.
struct Raw {
    host: String,
    event: LogEvent,
}

impl Parser {
    fn new(regex: Option<&str>) -> Result<Parser, LogError> {
        let source = regex.unwrap_or(DEFAULT_REGEX).to_string();
        let re = Regex::new(&format!("(?m){}", javascript_braces(&source)))
            .map_err(|e| LogError::at(0, format!("the parser regex {source:?} is invalid: {e}")))?;
        let names: Vec<String> = re.capture_names().flatten().map(String::from).collect();
        for required in ["event", "host", "clock"] {
            if !names.iter().any(|n| n == required) {
                return Err(LogError::at(
                    0,
                    format!(
                        "the parser regex {source:?} has no named group \"{required}\": it needs \
                         the groups (?<event>...), (?<host>...) and (?<clock>...){}",
                        if names.is_empty() {
                            " and has no named group".to_string()
                        } else {
                            format!(" (its named groups: {})", names.join(", "))
                        }
                    ),
                ));
            }
        }
        let fields = names
            .into_iter()
            .filter(|n| !matches!(n.as_str(), "event" | "host" | "clock"))
            .collect();
        Ok(Parser {
            re,
            source,
            fields,
            custom: regex.is_some(),
        })
    }

    /// The events of `text[start..end]`, with their clocks read (not yet validated).
    fn events(
        &self,
        text: &str,
        start: usize,
        end: usize,
        lines: &LineIndex,
    ) -> Result<Vec<Raw>, LogError> {
        let body = &text[start..end];
        let mut out = Vec::new();
        let mut covered = 0;
        for caps in self.re.captures_iter(body) {
            let m = caps.get(0).expect("group 0");
            if m.as_str().is_empty() {
                continue;
            }
            self.check_gap(body, covered, m.start(), start, lines)?;
            covered = m.end();
            let at = |g: &str| {
                caps.name(g).ok_or_else(|| {
                    LogError::at(
                        lines.line(start + m.start()),
                        format!(
                            "the parser regex matched here without its \"{g}\" group: {:?}",
                            m.as_str()
                        ),
                    )
                })
            };
            let (event, host, clock) = (at("event")?, at("host")?, at("clock")?);
            let clock_line = lines.line(start + clock.start());
            let clock_column = lines.column(text, start + clock.start());
            let fields = self
                .fields
                .iter()
                .filter_map(|f| caps.name(f).map(|v| (f.clone(), v.as_str().to_string())))
                .collect();
            out.push(Raw {
                host: host.as_str().to_string(),
                event: LogEvent {
                    host: 0,
                    seq: 0,
                    text: event.as_str().to_string(),
                    line: lines.line(start + event.start()),
                    clock_line,
                    clock: read_clock(clock.as_str(), host.as_str(), clock_line, clock_column)?,
                    fields,
                },
            });
        }
        self.check_gap(body, covered, body.len(), start, lines)?;
        Ok(out)
    }

    /// Text between matches must be blank: ShiViz would skip it silently.
    fn check_gap(
        &self,
        body: &str,
        from: usize,
        to: usize,
        start: usize,
        lines: &LineIndex,
    ) -> Result<(), LogError> {
        let gap = &body[from..to];
        let Some(i) = gap.find(|c: char| !c.is_whitespace()) else {
            return Ok(());
        };
        let at = start + from + i;
        let line = lines.line(at);
        let text = body[from + i..].lines().next().unwrap_or("");
        let hint = if self.custom {
            format!("the parser regex {:?} does not match here", self.source)
        } else {
            "each event is a line of text followed by a line `host {vector clock as JSON}`"
                .to_string()
        };
        Err(LogError::at(
            line,
            format!("{text:?} is not part of any event: {hint}"),
        ))
    }
}

/// Reads a vector clock written from `line`, `column` on: a JSON object of whole numbers
/// ≥ 0 with an entry for `host`.
fn read_clock(
    text: &str,
    host: &str,
    line: usize,
    column: usize,
) -> Result<BTreeMap<String, u64>, LogError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
        // serde_json counts from the clock's start; the log's column is further right on
        // the clock's first line.
        let col = if e.line() <= 1 {
            column + e.column().saturating_sub(1)
        } else {
            e.column()
        };
        LogError::at(
            line + e.line().saturating_sub(1),
            format!("the vector clock {text} is not valid JSON: {msg} at column {col}"),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(LogError::at(
            line,
            format!(
                "the vector clock {text} is not a JSON object mapping host names to counts, \
                 e.g. {{\"{host}\": 1}}"
            ),
        ));
    };
    let mut clock = BTreeMap::new();
    for (k, v) in map {
        let Some(n) = v.as_u64() else {
            return Err(LogError::at(
                line,
                format!(
                    "the vector clock's entry for \"{k}\" is {v}: each entry must be a whole \
                     number ≥ 0 (how many events of that host the event has seen)"
                ),
            ));
        };
        clock.insert(k, n);
    }
    if !clock.contains_key(host) {
        let known: Vec<&str> = clock.keys().map(String::as_str).collect();
        return Err(LogError::at(
            line,
            format!(
                "the vector clock has no entry for the event's own host \"{host}\" (it has {}); \
                 every event counts itself in its own host's entry",
                if known.is_empty() {
                    "no entries".to_string()
                } else {
                    format!("entries for {}", known.join(", "))
                }
            ),
        ));
    }
    Ok(clock)
}

/// The error on the earliest line among `errors`, if any.
fn first(errors: Vec<LogError>) -> Result<(), LogError> {
    match errors.into_iter().min_by_key(|e| e.line) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Validates one execution's events and infers its messages.
fn validate(name: String, line: usize, raw: Vec<Raw>) -> Result<Execution, LogError> {
    let mut hosts: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut events: Vec<LogEvent> = Vec::with_capacity(raw.len());
    for r in raw {
        let h = *index.entry(r.host.clone()).or_insert_with(|| {
            hosts.push(r.host.clone());
            hosts.len() - 1
        });
        let mut e = r.event;
        e.host = h;
        e.seq = e.entry(&r.host);
        events.push(e);
    }
    let mut by_host: Vec<Vec<usize>> = vec![Vec::new(); hosts.len()];
    for (i, e) in events.iter().enumerate() {
        by_host[e.host].push(i);
    }
    for list in &mut by_host {
        list.sort_by_key(|&i| events[i].seq); // stable: ties keep log order
    }
    let name_of = |e: usize| format!("{}:{}", hosts[events[e].host], events[e].seq);

    // Own entries: 1, 2, 3, ... per host.
    let mut errors = Vec::new();
    for (h, list) in by_host.iter().enumerate() {
        let bad = list
            .iter()
            .enumerate()
            .find(|&(i, &e)| events[e].seq != i as u64 + 1);
        if let Some((i, &e)) = bad {
            let ev = &events[e];
            errors.push(if i == 0 {
                LogError::at(
                    ev.clock_line,
                    format!(
                        "the first event of host \"{}\" has {} as its own clock entry; each \
                         host's clock starts at 1",
                        hosts[h], ev.seq
                    ),
                )
            } else {
                let p = &events[list[i - 1]];
                LogError::at(
                    ev.clock_line,
                    format!(
                        "host \"{}\"'s own clock entry goes from {} (line {}) to {}; it must \
                         increase by exactly 1 from one event of a host to the next",
                        hosts[h], p.seq, p.clock_line, ev.seq
                    ),
                )
            });
        }
    }
    first(errors)?;

    // Entries for other hosts: known hosts, existing events, never going down.
    let mut errors = Vec::new();
    for list in &by_host {
        for (i, &e) in list.iter().enumerate() {
            let ev = &events[e];
            let own = &hosts[ev.host];
            let problem = ev.clock.iter().find_map(|(g, &k)| {
                if k == 0 || g == own {
                    return None;
                }
                match index.get(g) {
                    None => Some(format!(
                        "event {} has seen {k} event(s) of \"{g}\", which has no events in this \
                         execution (hosts: {})",
                        name_of(e),
                        hosts.join(", ")
                    )),
                    Some(&gi) if k > by_host[gi].len() as u64 => Some(format!(
                        "event {} has seen {k} events of \"{g}\", but \"{g}\" has only {} \
                         in this execution: the clock refers to an event that does not exist",
                        name_of(e),
                        by_host[gi].len()
                    )),
                    _ => None,
                }
            });
            let problem = problem.or_else(|| {
                let p = &events[*list.get(i.checked_sub(1)?)?];
                p.clock.iter().find_map(|(g, &before)| {
                    let now = ev.entry(g);
                    (g != own && now < before).then(|| {
                        format!(
                            "event {}'s clock entry for \"{g}\" goes down from {before} (at {}'s \
                             previous event, line {}) to {now}; a host never forgets what it \
                             has seen",
                            name_of(e),
                            own,
                            p.clock_line
                        )
                    })
                })
            });
            if let Some(message) = problem {
                errors.push(LogError::at(ev.clock_line, message));
            }
        }
    }
    first(errors)?;

    let seen = |e: usize, g: usize| events[e].entry(&hosts[g]);
    // Transitivity: having seen g:k means having seen all that g:k had seen.
    let mut errors = Vec::new();
    for (e, ev) in events.iter().enumerate() {
        let problem = (0..hosts.len())
            .filter(|&g| g != ev.host && seen(e, g) > 0)
            .find_map(|g| {
                let c = by_host[g][seen(e, g) as usize - 1];
                events[c].clock.iter().find_map(|(x, &cx)| {
                    let ex = ev.entry(x);
                    (ex < cx).then(|| {
                        format!(
                            "event {} has seen {} (line {}), so it must have seen everything \
                             that event had seen, but {} has {x}: {cx} where {} has {x}: {ex} \
                             (a vector clock is at least the clock of every event it has seen)",
                            name_of(e),
                            name_of(c),
                            events[c].clock_line,
                            name_of(c),
                            name_of(e)
                        )
                    })
                })
            });
        if let Some(message) = problem {
            errors.push(LogError::at(ev.clock_line, message));
        }
    }
    first(errors)?;

    // Cycles: with transitive clocks, two events each having seen the other. Checking the
    // latest event seen of each host is enough (a later event of that host has seen more).
    let mut errors = Vec::new();
    for (e, ev) in events.iter().enumerate() {
        let cycle = (0..hosts.len())
            .filter(|&g| g != ev.host && seen(e, g) > 0)
            .map(|g| by_host[g][seen(e, g) as usize - 1])
            .find(|&c| seen(c, ev.host) >= ev.seq);
        if let Some(c) = cycle {
            errors.push(LogError::at(
                ev.clock_line,
                format!(
                    "causal cycle: event {} has seen {} (line {}), which has seen {} — each \
                     would happen before the other (clocks {} and {})",
                    name_of(e),
                    name_of(c),
                    events[c].clock_line,
                    name_of(e),
                    clock_json(&ev.clock),
                    clock_json(&events[c].clock)
                ),
            ));
        }
    }
    first(errors)?;

    // Messages, as ShiViz infers them.
    let mut messages = Vec::new();
    for list in &by_host {
        for (i, &e) in list.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| list[j]);
            let h = events[e].host;
            let candidates: Vec<usize> = (0..hosts.len())
                .filter(|&g| g != h && seen(e, g) > prev.map_or(0, |p| seen(p, g)))
                .map(|g| by_host[g][seen(e, g) as usize - 1])
                .collect();
            for &c in &candidates {
                let (ch, cs) = (events[c].host, events[c].seq);
                if !candidates.iter().any(|&o| o != c && seen(o, ch) >= cs) {
                    messages.push(Message { from: c, to: e });
                }
            }
        }
    }

    // A causal order: Kahn's algorithm over program order and messages, smallest log index
    // first.
    let mut preds = vec![0usize; events.len()];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); events.len()];
    for list in &by_host {
        for w in list.windows(2) {
            succs[w[0]].push(w[1]);
            preds[w[1]] += 1;
        }
    }
    for m in &messages {
        succs[m.from].push(m.to);
        preds[m.to] += 1;
    }
    let mut ready: BTreeSet<usize> = (0..events.len()).filter(|&e| preds[e] == 0).collect();
    let mut order = Vec::with_capacity(events.len());
    while let Some(e) = ready.pop_first() {
        order.push(e);
        for &s in &succs[e] {
            preds[s] -= 1;
            if preds[s] == 0 {
                ready.insert(s);
            }
        }
    }
    if order.len() < events.len() {
        // Unreachable after the checks above; kept as an error rather than a panic.
        let stuck = (0..events.len()).find(|e| !order.contains(e)).unwrap_or(0);
        return Err(LogError::at(
            events[stuck].clock_line,
            format!(
                "causal cycle through event {}: the clocks order events in a circle",
                name_of(stuck)
            ),
        ));
    }
    let mut position = vec![0; events.len()];
    for (p, &e) in order.iter().enumerate() {
        position[e] = p;
    }
    messages.sort_by_key(|m| (position[m.from], position[m.to]));
    let exec = Execution {
        name,
        line,
        hosts,
        events,
        messages,
        by_host,
        order,
        position,
    };

    // ShiViz's final check: the clocks the inferred messages imply are the log's clocks.
    // (Implied by the checks above; a mismatch would be a bug, reported, not a panic.)
    let c = exec.causality();
    for (e, ev) in exec.events.iter().enumerate() {
        let implied = &c.vector[exec.position[e]];
        if !implied.leq(&exec.vector(e)) || !exec.vector(e).leq(implied) {
            let should: BTreeMap<String, u64> = exec
                .hosts
                .iter()
                .enumerate()
                .filter(|&(g, _)| implied.get(g) > 0)
                .map(|(g, h)| (h.clone(), implied.get(g)))
                .collect();
            return Err(LogError::at(
                ev.clock_line,
                format!(
                    "event {} has an impermissible vector clock {}: the messages the log \
                     implies give {}",
                    exec.name_of(e),
                    clock_json(&ev.clock),
                    clock_json(&should)
                ),
            ));
        }
    }
    Ok(exec)
}

/// A ShiViz log of any run, readable by ShiViz's default regex and by [`parse`]: for each
/// event of `causality` in its order (a causal order), the event line — its diagram mark's
/// label — then `host {"host": n, ...}` with the event's vector clock, its own host first,
/// then the other non-zero entries in node order. With `name`, the log starts with the
/// delimiter line `=== name ===` (newlines in it become spaces).
///
/// Made readable: newlines (and the other line terminators JavaScript's `.` stops at) in a
/// label become spaces; a label that ShiViz's regex would take for a host-and-clock line
/// (`word {...}`) or a delimiter (`=== x ===`) gets its first space replaced by a no-break
/// space (U+00A0), which looks the same. Host names are the node names with each whitespace
/// character replaced by `_` (ShiViz's `\S*` cannot match a space); an empty name becomes
/// `node-i`, and a name already taken gets `-i` appended (`i` = the node's index).
pub fn export(diagram: &Diagram, causality: &Causality, name: Option<&str>) -> String {
    let hosts = host_names(&diagram.nodes, causality.nodes);
    let clock_like = Regex::new(r"^\S* \{.*\}").expect("valid");
    let delimiter = Regex::new(DELIMITER).expect("valid");
    let mut out = String::new();
    if let Some(n) = name {
        out.push_str(&format!("=== {} ===\n", one_line(n)));
    }
    for (i, e) in causality.events.iter().enumerate() {
        let label = diagram.marks.get(e.mark).map_or("", |m| m.label.as_str());
        let mut line = one_line(label);
        if clock_like.is_match(&line) || delimiter.is_match(&line) {
            line = line.replacen(' ', "\u{a0}", 1);
        }
        let v = &causality.vector[i];
        let entries: Vec<(&String, &u64)> = std::iter::once(e.node)
            .chain((0..causality.nodes).filter(|&n| n != e.node))
            .filter(|&n| v.0.get(n).is_some_and(|&x| x > 0))
            .map(|n| (&hosts[n], &v.0[n]))
            .collect();
        out.push_str(&format!(
            "{line}\n{} {}\n",
            hosts[e.node],
            clock_json(entries)
        ));
    }
    out
}

/// `text` on one line: JavaScript's line terminators become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => ' ',
            c => c,
        })
        .collect()
}

/// Unique host names without whitespace for nodes `0..count`.
fn host_names(nodes: &[NodeInfo], count: usize) -> Vec<String> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    (0..count.max(nodes.len()))
        .map(|i: NodeId| {
            let raw = nodes.get(i).map_or("", |n| n.name.as_str());
            let mut name: String = raw
                .chars()
                .map(|c| if c.is_whitespace() { '_' } else { c })
                .collect();
            if name.is_empty() {
                name = format!("node-{i}");
            }
            while taken.contains(&name) {
                name = format!("{name}-{i}");
            }
            taken.insert(name.clone());
            name
        })
        .collect()
}
