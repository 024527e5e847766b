//! Reading histories written by other tools.
//!
//! | [`Format`] | what | times |
//! |---|---|---|
//! | `edn` | Jepsen / Knossos EDN: a vector (or list) of operation maps, or one map per line | the line of each entry (its position, from 1, if two entries share a line) |
//! | `etcd` | Porcupine's etcd Jepsen logs: `INFO  jepsen.util - P\t:type\t:f\tvalue` | the line number |
//! | `kv` | Porcupine's kv logs: EDN maps with `:key`, `:f :get/:put/:append` (read as `edn`) | as `edn` |
//! | `json` | a [`History`] as JSON (docs/LINEARIZABILITY.md) | as written |
//!
//! Jepsen's conventions: an `:invoke` entry opens an operation of its `:process`; the next
//! `:ok`, `:fail` or `:info` entry of that process completes it. A process whose operation
//! ended `:info` (crashed) never invokes again; an operation never completed is
//! indeterminate ([`Status::Info`], `ret: None`). Entries whose `:process` is not an
//! integer (`:nemesis`) are skipped. A read's value is the completion's; a write's, cas's
//! (`[from to]`), append's and add's the invocation's. A read whose value is a vector or
//! set is a set read ([`Op::ReadSet`]). Integers become their decimal text, strings their
//! content, keywords `:name`; `nil` is `None`.
//!
//! Every error carries the 1-based line it was found on.

use super::history::{History, Op, Operation, Status};
use clojure_reader::edn::Edn;
use clojure_reader::parse::{parse as parse_node, SourceReader};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// A malformed history: what is wrong, and on which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

/// The history formats [`parse`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Jepsen EDN (Knossos' test histories).
    Edn,
    /// Porcupine's etcd Jepsen logs.
    Etcd,
    /// Porcupine's kv logs (EDN maps with `:key`; read by the EDN reader).
    Kv,
    /// [`History`] as JSON.
    Json,
}

impl Format {
    /// `edn`, `etcd`, `kv` or `json`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Edn => "edn",
            Format::Etcd => "etcd",
            Format::Kv => "kv",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Format::Edn, Format::Etcd, Format::Kv, Format::Json]
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown format {s:?} (known: edn, etcd, kv, json)"))
    }
}

/// Guesses a text's format: `etcd` if its first non-blank line holds `jepsen.util`; `json`
/// if it starts with `{"`, `[{` followed by `"`, or `[]`… and is valid JSON; `kv` if it is
/// EDN mentioning `:key`; otherwise `edn`.
pub fn detect(text: &str) -> Format {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.contains("jepsen.util") {
        return Format::Etcd;
    }
    let t = text.trim_start();
    if (t.starts_with('{') || t.starts_with('['))
        && serde_json::from_str::<serde_json::Value>(text).is_ok()
    {
        return Format::Json;
    }
    if text.contains(":key") {
        Format::Kv
    } else {
        Format::Edn
    }
}

/// Parses `text` in `format`.
pub fn parse(text: &str, format: Format) -> Result<History, ParseError> {
    match format {
        Format::Edn | Format::Kv => parse_edn(text),
        Format::Etcd => parse_etcd(text),
        Format::Json => parse_json(text),
    }
}

/// Parses `text` in `hint`, or in the format [`detect`] guesses; returns the format used.
pub fn parse_any(text: &str, hint: Option<Format>) -> Result<(Format, History), ParseError> {
    let format = hint.unwrap_or_else(|| detect(text));
    parse(text, format).map(|h| (format, h))
}

/// What an operation does, before its completion is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum F {
    Read,
    Write,
    Cas,
    Append,
    Add,
}

fn f_of(name: &str) -> Option<F> {
    Some(match name {
        "read" | "get" => F::Read,
        "write" | "put" => F::Write,
        "cas" => F::Cas,
        "append" => F::Append,
        "add" => F::Add,
        _ => return None,
    })
}

/// A value as the parsers see it.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Nil,
    Scalar(String),
    List(Vec<V>),
}

impl V {
    fn scalar(&self) -> Option<Option<String>> {
        match self {
            V::Nil => Some(None),
            V::Scalar(s) => Some(Some(s.clone())),
            V::List(_) => None,
        }
    }
}

/// An operation being assembled from its invocation and completion.
struct Pending {
    index: usize,
    line: usize,
    f: F,
    key: Option<String>,
    value: V,
}

/// Pairs invocations and completions (Jepsen's rules) into a [`History`].
struct Builder {
    ops: Vec<Option<Operation>>,
    calls: Vec<(usize, u64, u64, F, Option<String>, V)>,
    open: HashMap<i64, Pending>,
    crashed: HashMap<i64, usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invoke,
    Done(Status),
}

impl Builder {
    fn new() -> Self {
        Builder {
            ops: Vec::new(),
            calls: Vec::new(),
            open: HashMap::new(),
            crashed: HashMap::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &mut self,
        line: usize,
        time: u64,
        process: i64,
        kind: Kind,
        f: F,
        key: Option<String>,
        value: V,
    ) -> Result<(), ParseError> {
        match kind {
            Kind::Invoke => {
                if let Some(p) = self.open.get(&process) {
                    return err(
                        line,
                        format!(
                            "process {process} invokes again before its operation of line {} completed",
                            p.line
                        ),
                    );
                }
                if let Some(l) = self.crashed.get(&process) {
                    return err(
                        line,
                        format!("process {process} invokes again after crashing (:info) on line {l}; Jepsen gives a crashed process a new id"),
                    );
                }
                let index = self.ops.len();
                self.ops.push(None);
                self.calls
                    .push((line, process as u64, time, f, key.clone(), value.clone()));
                self.open.insert(
                    process,
                    Pending {
                        index,
                        line,
                        f,
                        key,
                        value,
                    },
                );
                Ok(())
            }
            Kind::Done(status) => {
                let Some(p) = self.open.remove(&process) else {
                    return err(
                        line,
                        format!("process {process} completes an operation it did not invoke"),
                    );
                };
                if p.f != f {
                    return err(
                        line,
                        format!(
                            "process {process} completes a {f:?} but invoked a {:?} on line {}",
                            p.f, p.line
                        )
                        .to_lowercase(),
                    );
                }
                if p.key != key && key.is_some() {
                    return err(line, format!("process {process} completes with another key than it invoked on line {}", p.line));
                }
                if status == Status::Info {
                    self.crashed.insert(process, line);
                }
                let call = self.calls.get(p.index).map_or(0, |c| c.2);
                let op = make_op(p.f, p.key, &p.value, &value, status, line)?;
                let ret = if status == Status::Info {
                    None
                } else {
                    Some(time)
                };
                if let Some(slot) = self.ops.get_mut(p.index) {
                    *slot = Some(Operation {
                        id: p.index,
                        client: process as u64,
                        call,
                        ret,
                        status,
                        op,
                        label: format!("p{process} lines {}–{line}", p.line),
                    });
                }
                Ok(())
            }
        }
    }

    fn finish(mut self) -> Result<History, ParseError> {
        let mut ops = Vec::with_capacity(self.ops.len());
        for (i, slot) in self.ops.iter_mut().enumerate() {
            match slot.take() {
                Some(op) => ops.push(op),
                None => {
                    let Some((line, client, call, f, key, value)) = self.calls.get(i).cloned()
                    else {
                        continue;
                    };
                    let op = make_op(f, key, &value, &V::Nil, Status::Info, line)?;
                    ops.push(Operation {
                        id: i,
                        client,
                        call,
                        ret: None,
                        status: Status::Info,
                        op,
                        label: format!("p{client} line {line}, never completed"),
                    });
                }
            }
        }
        Ok(History { ops })
    }
}

fn make_op(
    f: F,
    key: Option<String>,
    invoked: &V,
    completed: &V,
    status: Status,
    line: usize,
) -> Result<Op, ParseError> {
    let scalar = |v: &V, what: &str| -> Result<Option<String>, ParseError> {
        v.scalar()
            .map_or_else(|| err(line, format!("{what}: expected a single value")), Ok)
    };
    // The value the operation was asked to write (invocation, else completion).
    let arg = if *invoked == V::Nil {
        completed
    } else {
        invoked
    };
    Ok(match f {
        F::Read => {
            let v = if status == Status::Ok {
                completed
            } else {
                invoked
            };
            match v {
                V::List(items) => Op::ReadSet {
                    key: None,
                    values: items
                        .iter()
                        .map(|i| match i.scalar() {
                            Some(Some(s)) => Ok(s),
                            _ => err(line, "a set read holds nil or a nested collection"),
                        })
                        .collect::<Result<_, _>>()?,
                },
                v => Op::Read {
                    key,
                    value: scalar(v, "read")?,
                },
            }
        }
        F::Write => match scalar(arg, "write")? {
            Some(value) => Op::Write { key, value },
            None => return err(line, "a write of nil"),
        },
        F::Append => match scalar(arg, "append")? {
            Some(value) => Op::Append { key, value },
            None => return err(line, "an append of nil"),
        },
        F::Add => match scalar(arg, "add")? {
            Some(value) => Op::Add { key: None, value },
            None => return err(line, "an add of nil"),
        },
        F::Cas => match arg {
            V::List(pair) if pair.len() == 2 => match (pair[0].scalar(), pair[1].scalar()) {
                (Some(Some(from)), Some(Some(to))) => Op::Cas { key, from, to },
                _ => return err(line, "a cas needs [from to] values, not nil"),
            },
            _ => return err(line, "a cas needs a value [from to]"),
        },
    })
}

fn edn_value(e: &Edn<'_>, line: usize) -> Result<V, ParseError> {
    Ok(match e {
        Edn::Nil => V::Nil,
        Edn::Int(i) => V::Scalar(i.to_string()),
        Edn::Str(s) => V::Scalar(s.to_string()),
        Edn::Key(k) => V::Scalar(format!(":{k}")),
        Edn::Symbol(s) => V::Scalar(s.to_string()),
        Edn::Bool(b) => V::Scalar(b.to_string()),
        Edn::Char(c) => V::Scalar(c.to_string()),
        Edn::Double(d) => V::Scalar(d.to_string()),
        Edn::Rational((a, b)) => V::Scalar(format!("{a}/{b}")),
        Edn::Vector(items) | Edn::List(items) => V::List(
            items
                .iter()
                .map(|i| edn_value(i, line))
                .collect::<Result<_, _>>()?,
        ),
        Edn::Set(items) => V::List(
            items
                .iter()
                .map(|i| edn_value(i, line))
                .collect::<Result<_, _>>()?,
        ),
        Edn::Tagged(_, inner) => edn_value(inner, line)?,
        _ => return err(line, "unsupported EDN value"),
    })
}

fn edn_error(e: &clojure_reader::error::Error) -> ParseError {
    ParseError {
        line: e.line.unwrap_or(1).max(1),
        message: format!("EDN: {:?}", e.code),
    }
}

/// Jepsen EDN histories, and Porcupine's kv logs (see the module docs).
pub fn parse_edn(text: &str) -> Result<History, ParseError> {
    let mut reader = SourceReader::new(text);
    let mut forms = Vec::new();
    loop {
        let node = parse_node(&mut reader).map_err(|e| edn_error(&e))?;
        // At the end the reader yields an empty `nil` form spanning the trailing blanks
        // and comments.
        let at_end = matches!(node.kind, clojure_reader::parse::NodeKind::Nil)
            && reader.remaining().trim().is_empty();
        if node.span.is_empty() || at_end {
            break;
        }
        forms.push(node);
    }
    // One vector or list of entries, or entries one after another.
    let entries = match forms.as_slice() {
        [only] => match &only.kind {
            clojure_reader::parse::NodeKind::Vector(items, _)
            | clojure_reader::parse::NodeKind::List(items, _) => items.clone(),
            _ => forms,
        },
        _ => forms,
    };
    let lines: Vec<usize> = entries.iter().map(|n| n.span.0.line).collect();
    let by_line = lines.windows(2).all(|w| w[0] < w[1]);
    let mut b = Builder::new();
    for (i, node) in entries.into_iter().enumerate() {
        let line = node.span.0.line;
        let time = if by_line { line as u64 } else { i as u64 + 1 };
        let edn = Edn::try_from(node).map_err(|e| edn_error(&e))?;
        let Edn::Map(map) = &edn else {
            return err(
                line,
                "expected an operation map {:process …, :type …, :f …, :value …}",
            );
        };
        let get = |k: &'static str| map.get(&Edn::Key(k.into()));
        let process = match get("process") {
            Some(Edn::Int(p)) => *p,
            Some(_) => continue, // :nemesis and other non-client processes
            None => return err(line, "missing :process"),
        };
        let kind = match get("type") {
            Some(Edn::Key(t)) => match t.as_ref() {
                "invoke" => Kind::Invoke,
                "ok" => Kind::Done(Status::Ok),
                "fail" => Kind::Done(Status::Fail),
                "info" => Kind::Done(Status::Info),
                other => return err(line, format!("unknown :type :{other}")),
            },
            _ => {
                return err(
                    line,
                    "missing :type (a keyword: :invoke, :ok, :fail or :info)",
                )
            }
        };
        let f = match get("f") {
            Some(Edn::Key(name)) => match f_of(name) {
                Some(f) => f,
                None => {
                    return err(
                        line,
                        format!(
                            "unknown :f :{name} (known: read/get, write/put, cas, append, add)"
                        ),
                    )
                }
            },
            _ => return err(line, "missing :f (a keyword)"),
        };
        let key = match get("key") {
            None | Some(Edn::Nil) => None,
            Some(k) => match edn_value(k, line)? {
                V::Scalar(s) => Some(s),
                _ => return err(line, ":key must be a single value"),
            },
        };
        let value = match get("value") {
            None => V::Nil,
            Some(v) => edn_value(v, line)?,
        };
        b.entry(line, time, process, kind, f, key, value)?;
    }
    b.finish()
}

fn etcd_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(\w+)\s+(.*?)\s*$",
        )
        .unwrap_or_else(|_| unreachable!("the etcd line regex is valid"))
    })
}

fn etcd_value() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:(nil)|(-?\d+)|\[\s*(-?\d+)\s+(-?\d+)\s*\]|(:[\w-]+))$")
            .unwrap_or_else(|_| unreachable!("the etcd value regex is valid"))
    })
}

/// Porcupine's etcd Jepsen logs: lines `INFO  jepsen.util - P\t:type\t:f\tvalue` (type
/// invoke|ok|fail|info, f read|write|cas, value `nil`, an integer, `[from to]` or a keyword
/// such as `:timed-out`). Lines without `jepsen.util` are skipped; the line number is
/// the time. An `:info` completion's value (`:timed-out`) is not an output.
pub fn parse_etcd(text: &str) -> Result<History, ParseError> {
    let mut b = Builder::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if !l.contains("jepsen.util") {
            continue;
        }
        let Some(c) = etcd_line().captures(l) else {
            return err(
                line,
                "expected `INFO  jepsen.util - PROCESS\t:TYPE\t:F\tVALUE`",
            );
        };
        let process: i64 = match c[1].parse() {
            Ok(p) => p,
            Err(_) => return err(line, "process id out of range"),
        };
        let kind = match &c[2] {
            "invoke" => Kind::Invoke,
            "ok" => Kind::Done(Status::Ok),
            "fail" => Kind::Done(Status::Fail),
            _ => Kind::Done(Status::Info),
        };
        let f = match &c[3] {
            "read" => F::Read,
            "write" => F::Write,
            "cas" => F::Cas,
            other => {
                return err(
                    line,
                    format!("unknown :f :{other} (known: read, write, cas)"),
                )
            }
        };
        let Some(v) = etcd_value().captures(&c[4]) else {
            return err(
                line,
                format!(
                    "unknown value {:?} (nil, an integer, [from to] or a keyword)",
                    &c[4]
                ),
            );
        };
        let value = if v.get(1).is_some() {
            V::Nil
        } else if let Some(n) = v.get(2) {
            V::Scalar(n.as_str().to_string())
        } else if let (Some(a), Some(z)) = (v.get(3), v.get(4)) {
            V::List(vec![
                V::Scalar(a.as_str().to_string()),
                V::Scalar(z.as_str().to_string()),
            ])
        } else if kind == Kind::Done(Status::Info) || kind == Kind::Done(Status::Fail) {
            V::Nil // :timed-out and other reasons: not a value
        } else {
            return err(line, format!("unexpected keyword value {}", &c[4]));
        };
        b.entry(line, line as u64, process, kind, f, None, value)?;
    }
    b.finish()
}

/// A [`History`] as JSON: `{"ops": [{"client": 1, "call": 0, "ret": 3, "status": "ok",
/// "op": {"f": "read", "key": "x", "value": "1"}}, …]}`; `id` and `label` may be left
/// out, `ret` is `null` or absent for operations that never returned. Ids are assigned
/// by position. Errors carry serde_json's line.
pub fn parse_json(text: &str) -> Result<History, ParseError> {
    #[derive(Deserialize)]
    struct J {
        ops: Vec<JOp>,
    }
    #[derive(Deserialize)]
    struct JOp {
        client: u64,
        call: u64,
        #[serde(default)]
        ret: Option<u64>,
        status: Status,
        op: Op,
        #[serde(default)]
        label: String,
    }
    let j: J = serde_json::from_str(text).map_err(|e| ParseError {
        line: e.line().max(1),
        message: format!("JSON: {e}"),
    })?;
    Ok(History {
        ops: j
            .ops
            .into_iter()
            .enumerate()
            .map(|(id, o)| Operation {
                id,
                client: o.client,
                call: o.call,
                ret: o.ret,
                status: o.status,
                op: o.op,
                label: o.label,
            })
            .collect(),
    })
}

/// Writes `history` in the JSON format [`parse_json`] reads.
pub fn to_json(history: &History) -> String {
    serde_json::to_string_pretty(history).unwrap_or_default()
}
