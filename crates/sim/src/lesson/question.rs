//! Questions a lesson step asks the learner, answered in the page and revealed after
//! answering. A question is either a multiple choice written by the author, a question
//! about the step's run whose answer is computed from the run's causality (happens-before,
//! see [`crate::causality`]), or a prediction of what a read returns, answered from the
//! run's client history ([`Prediction`]) — so the answer the page reveals is always the
//! run's, never a hand-written claim that could disagree with what the diagram shows.
//!
//! Events of a run are named by what their diagram mark says (see [`find_event`]).

use crate::causality::{Causality, Relation};
use crate::diagram::Diagram;
use crate::linearizability::{History, Op, Operation, Status};
use crate::models::history::OpSteps;
use serde::{Deserialize, Serialize};

/// A question, as the app receives it (markdown already rendered to safe HTML).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// The question, as HTML.
    pub html: String,
    pub kind: QuestionKind,
    /// Shown once the learner has answered, as HTML.
    #[serde(default)]
    pub explain: Option<String>,
}

/// What kind of answer a question takes, and where the right answer comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum QuestionKind {
    /// Pick among `options` (plain text); `answers` are the indices of the right ones.
    /// With more than one right answer the learner ticks every one of them.
    Choice {
        options: Vec<String>,
        answers: Vec<usize>,
    },
    /// How are events `a` and `b` of the run related: a → b, b → a or a ∥ b? The answer is
    /// the run's happens-before relation (Lamport 1978).
    Relation { a: String, b: String },
    /// Which events of the run (up to the step's cursor) are in `set` with respect to
    /// `event`? The learner ticks them; the answer is computed from the run.
    Events { set: EventSet, event: String },
    /// What does the read labelled `read` return? A multiple choice whose options are
    /// the values it could plausibly return — [`NONE`] (nothing written there yet) and
    /// every value written to its key by a write called before the read returned, in
    /// order of those writes' calls, deduplicated — and whose answer is what it returned
    /// in the step's run. Computed from the run's client history when the lesson is
    /// resolved ([`Prediction::of`]); `prediction` is `None` only before that.
    Predict {
        read: String,
        #[serde(default)]
        prediction: Option<Prediction>,
    },
}

/// The option that stands for "no value": the key was never written on the replica that
/// answered (the diagram's `→ (none)`).
pub const NONE: &str = "(none)";

/// A predict question's options and answer, computed from a run ([`Prediction::of`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// [`NONE`] first, then the values in order of their first write's call.
    pub options: Vec<String>,
    /// The index in `options` of what the read returned.
    pub answer: usize,
    /// Why, in words: what the read returned, when, and the writes to its key before.
    pub why: String,
}

impl Prediction {
    /// The prediction for the read labelled `label` of a run whose client history (see
    /// [`crate::models::history`]: reads and writes as register operations, a pending or
    /// refused read left out) over the whole run is `history` with trace positions
    /// `steps`, asked at trace step `cursor`. Errors: no operation is labelled `label`
    /// (listing the labelled reads), the operation is not a read (a write, or another
    /// operation), the read has not returned a value by `cursor` (it returns later, or
    /// never: still pending, or refused), or nothing was written to its key before it
    /// returned (the only option would be [`NONE`]). `invoked` says whether an operation with that
    /// label was invoked at all (the history leaves out reads that never returned).
    pub fn of(
        history: &History,
        steps: &[OpSteps],
        label: &str,
        invoked: bool,
        cursor: Option<usize>,
    ) -> Result<Prediction, String> {
        let reads: Vec<&str> = history
            .ops
            .iter()
            .filter(|o| matches!(o.op, Op::Read { .. }) && !o.label.is_empty())
            .map(|o| o.label.as_str())
            .collect();
        let Some(i) = history.ops.iter().position(|o| o.label == label) else {
            return Err(if invoked {
                format!("the read \"{label}\" never returns a value in the step's run (it is still waiting, or it was refused), so there is nothing to predict")
            } else {
                format!(
                    "no operation is labelled \"{label}\" in the step's run; predict names a read by its label ({})",
                    if reads.is_empty() {
                        "this run has no labelled reads".to_string()
                    } else {
                        format!("labelled reads: {}", reads.join(", "))
                    }
                )
            });
        };
        let read = &history.ops[i];
        let (Op::Read { key, value }, Status::Ok) = (&read.op, read.status) else {
            return Err(format!(
                "\"{label}\" is not a read: predict asks what a read returns ({})",
                if reads.is_empty() {
                    "this run has no labelled reads".to_string()
                } else {
                    format!("labelled reads: {}", reads.join(", "))
                }
            ));
        };
        let ret_step = steps.get(i).and_then(|s| s.ret);
        if cursor.is_none() || ret_step.zip(cursor).is_none_or(|(r, c)| r > c) {
            return Err(format!(
                "the read \"{label}\" has not returned by the step's cursor (it returns at trace step {}); move until to {{ returned = \"{label}\" }} or later",
                ret_step.map_or("?".into(), |r| r.to_string())
            ));
        }
        let returned_at = read.ret.unwrap_or(read.call);
        let writes: Vec<&Operation> = history
            .ops
            .iter()
            .filter(|o| matches!(&o.op, Op::Write { key: k, .. } if k == key))
            .filter(|o| o.call <= returned_at)
            .collect();
        let mut options = vec![NONE.to_string()];
        for w in &writes {
            if let Op::Write { value, .. } = &w.op {
                if !options.contains(value) {
                    options.push(value.clone());
                }
            }
        }
        let got = value.clone().unwrap_or_else(|| NONE.to_string());
        if !options.contains(&got) {
            // A value the run started with (e.g. a Raft server's initial log).
            options.push(got.clone());
        }
        let key_name = key.as_deref().unwrap_or("the register");
        if options.len() < 2 {
            return Err(format!(
                "nothing was written to {key_name} before \"{label}\" returned, so the only possible answer is {NONE}: ask about a read of a key that was written"
            ));
        }
        let answer = options.iter().position(|o| *o == got).unwrap_or(0);
        let shown = |v: &Option<String>| match v {
            Some(v) => format!("“{v}”"),
            None => format!("{NONE}: nothing written to {key_name} there yet"),
        };
        let mut why = format!(
            "“{label}” returned {} (called at {} ms, returned at {returned_at} ms).",
            shown(value),
            read.call
        );
        if writes.is_empty() {
            why.push_str(&format!(
                " No write to {key_name} was called before it returned."
            ));
        } else {
            let list: Vec<String> = writes
                .iter()
                .map(|w| {
                    let v = match &w.op {
                        Op::Write { value, .. } => value.as_str(),
                        _ => "",
                    };
                    let done = match (w.status, w.ret) {
                        (Status::Ok, Some(r)) => format!("acknowledged at {r} ms"),
                        _ => "not acknowledged".to_string(),
                    };
                    format!("“{v}” (called at {} ms, {done})", w.call)
                })
                .collect();
            why.push_str(&format!(
                " Writes to {key_name} called before it returned: {}.",
                list.join(", ")
            ));
        }
        Ok(Prediction {
            options,
            answer,
            why,
        })
    }
}

/// A set of events defined by happens-before relative to one event `e`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventSet {
    /// Events concurrent with `e` (neither happens before the other).
    ConcurrentWith,
    /// `e`'s causal past: events that happen before `e`.
    Before,
    /// `e`'s causal future: events that `e` happens before.
    After,
}

impl EventSet {
    /// The set in words, e.g. `"concurrent with"`.
    pub fn words(self) -> &'static str {
        match self {
            EventSet::ConcurrentWith => "concurrent with",
            EventSet::Before => "in the causal past of",
            EventSet::After => "in the causal future of",
        }
    }
}

/// A question ready to answer: its options, which are right, and (for questions about a
/// run) why, in words computed from the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Posed {
    /// The options, in the order shown.
    pub options: Vec<String>,
    /// Indices of the right options, ascending.
    pub correct: Vec<usize>,
    /// Whether the learner may tick several options (check boxes rather than radio
    /// buttons). True for event questions and for choices with several right answers.
    pub multiple: bool,
    /// Why the right options are right, computed from the run (`None` for choices, whose
    /// author writes `explain`).
    pub why: Option<String>,
}

impl Posed {
    /// Whether `picked` (option indices, any order) is exactly the right answer.
    pub fn is_right(&self, picked: &[usize]) -> bool {
        let mut p = picked.to_vec();
        p.sort_unstable();
        p.dedup();
        p == self.correct
    }
}

/// The causal events of a run up to trace step `upto` (all when `None` means "before the
/// first event": then there are none).
fn events_upto(d: &Diagram, c: &Causality, upto: Option<usize>) -> Vec<usize> {
    let Some(upto) = upto else {
        return Vec::new();
    };
    (0..c.len())
        .filter(|&e| d.marks[c.events[e].mark].step <= upto)
        .collect()
}

/// The text a page shows for event `e`: its mark's label and time, e.g.
/// `"B ← A: m1 (30 ms)"`.
pub fn event_name(d: &Diagram, c: &Causality, e: usize) -> String {
    let m = &d.marks[c.events[e].mark];
    format!("{} ({} ms)", m.label, m.time)
}

/// Finds the event a lesson names, among the events up to trace step `upto`. A reference
/// is, in order of preference:
/// - a mark's whole label, e.g. `"B ← A: m1"` or `"C: C writes x"`;
/// - a node's command without the node, e.g. `"send m2"` or `"C writes x"`;
/// - `"receive LABEL"`: the delivery of the message labelled LABEL (add `" at NODE"` when
///   it went to several nodes), e.g. `"receive m1"`, `"receive m1 at B"`.
///
/// Errors say that no event (up to the cursor) matches, or that several do, listing them.
pub fn find_event(
    d: &Diagram,
    c: &Causality,
    upto: Option<usize>,
    reference: &str,
) -> Result<usize, String> {
    let events = events_upto(d, c, upto);
    let label = |e: usize| d.marks[c.events[e].mark].label.as_str();
    let node = |e: usize| d.nodes[c.events[e].node].name.as_str();
    let r = reference.trim();
    let rules: [&dyn Fn(usize) -> bool; 3] = [
        &|e| label(e) == r,
        &|e| {
            label(e)
                .strip_prefix(node(e))
                .and_then(|l| l.strip_prefix(": "))
                == Some(r)
        },
        &|e| {
            let Some(rest) = r.strip_prefix("receive ") else {
                return false;
            };
            let (msg, at) = match rest.rsplit_once(" at ") {
                Some((m, n)) if d.nodes.iter().any(|i| i.name == n) => (m, Some(n)),
                _ => (rest, None),
            };
            d.marks[c.events[e].mark].kind == "deliver"
                && label(e).ends_with(&format!(": {msg}"))
                && at.is_none_or(|n| n == node(e))
        },
    ];
    for rule in rules {
        let found: Vec<usize> = events.iter().copied().filter(|&e| rule(e)).collect();
        match found.len() {
            0 => continue,
            1 => return Ok(found[0]),
            _ => {
                let names: Vec<String> = found.iter().map(|&e| event_name(d, c, e)).collect();
                return Err(format!(
                    "event \"{r}\" is ambiguous: {} events match ({}); use a whole label or \"receive LABEL at NODE\"",
                    found.len(),
                    names.join("; ")
                ));
            }
        }
    }
    Err(format!(
        "no event \"{r}\" up to the step's cursor; name an event by its label (e.g. \"send m1\", \"receive m1\" or a local event's label), one of: {}",
        events
            .iter()
            .map(|&e| format!("\"{}\"", label(e)))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

impl Question {
    /// Poses the question. `run` is the step's run — its diagram and the cursor (trace
    /// step; `None` = before the first event) — needed by questions about the run and
    /// ignored by choices. Errors: a question about a run without one, an event reference
    /// that does not resolve (see [`find_event`]), or a choice whose answers are not among
    /// its options.
    pub fn pose(&self, run: Option<(&Diagram, Option<usize>)>) -> Result<Posed, String> {
        match &self.kind {
            QuestionKind::Choice { options, answers } => {
                if options.len() < 2 {
                    return Err("a choice question needs at least two options".into());
                }
                let mut correct = answers.clone();
                correct.sort_unstable();
                correct.dedup();
                if correct.is_empty() || correct.iter().any(|&a| a >= options.len()) {
                    return Err("a choice question's answer must be one of its options".into());
                }
                Ok(Posed {
                    options: options.clone(),
                    multiple: correct.len() > 1,
                    correct,
                    why: None,
                })
            }
            QuestionKind::Predict { read, prediction } => {
                let p = prediction.as_ref().ok_or_else(|| {
                    format!("the question about \"{read}\" is answered from the step's run: resolve the lesson (Lesson::resolve) to pose it")
                })?;
                if p.options.len() < 2 || p.answer >= p.options.len() {
                    return Err(format!(
                        "the question about \"{read}\" has no valid options"
                    ));
                }
                Ok(Posed {
                    options: p.options.clone(),
                    correct: vec![p.answer],
                    multiple: false,
                    why: Some(p.why.clone()),
                })
            }
            QuestionKind::Relation { a, b } => {
                let (d, upto) = run.ok_or("a relation question is about a run")?;
                let c = Causality::of_diagram(d);
                let (ea, eb) = (find_event(d, &c, upto, a)?, find_event(d, &c, upto, b)?);
                if ea == eb {
                    return Err(format!("\"{a}\" and \"{b}\" are the same event"));
                }
                let (na, nb) = (short(d, &c, ea), short(d, &c, eb));
                let options = vec![
                    format!("{na} happens before {nb}"),
                    format!("{nb} happens before {na}"),
                    "They are concurrent".to_string(),
                ];
                let correct = match c.relation(ea, eb) {
                    Relation::Before => 0,
                    Relation::After => 1,
                    _ => 2,
                };
                let why = c.explain(ea, eb, &|e| short(d, &c, e), &|n| d.nodes[n].name.clone());
                Ok(Posed {
                    options,
                    correct: vec![correct],
                    multiple: false,
                    why: Some(why),
                })
            }
            QuestionKind::Events { set, event } => {
                let (d, upto) = run.ok_or("an events question is about a run")?;
                let c = Causality::of_diagram(d);
                let e = find_event(d, &c, upto, event)?;
                let others: Vec<usize> = events_upto(d, &c, upto)
                    .into_iter()
                    .filter(|&x| x != e)
                    .collect();
                let is_in = |x: usize| match set {
                    EventSet::ConcurrentWith => c.relation(e, x) == Relation::Concurrent,
                    EventSet::Before => c.happens_before(x, e),
                    EventSet::After => c.happens_before(e, x),
                };
                let correct: Vec<usize> = (0..others.len()).filter(|&i| is_in(others[i])).collect();
                let name = short(d, &c, e);
                let why = if correct.is_empty() {
                    format!("No event is {} {name}.", set.words())
                } else {
                    let list: Vec<String> =
                        correct.iter().map(|&i| short(d, &c, others[i])).collect();
                    format!(
                        "{} {} {} {name}: {}. {}",
                        correct.len(),
                        if correct.len() == 1 { "event is" } else { "events are" },
                        set.words(),
                        list.join(", "),
                        match set {
                            EventSet::ConcurrentWith => format!(
                                "Their vector clocks and {name}'s {} are incomparable: no chain of messages joins them.",
                                c.vector[e]
                            ),
                            EventSet::Before => format!(
                                "Each is joined to {name} by program order or a chain of messages; their vector clocks are ≤ {}.",
                                c.vector[e]
                            ),
                            EventSet::After => format!(
                                "{name} reaches each by program order or a chain of messages; their vector clocks are ≥ {}.",
                                c.vector[e]
                            ),
                        }
                    )
                };
                Ok(Posed {
                    options: others.iter().map(|&x| event_name(d, &c, x)).collect(),
                    correct,
                    multiple: true,
                    why: Some(why),
                })
            }
        }
    }
}

/// An event in quotes, e.g. `“A: send m1”`.
fn short(d: &Diagram, c: &Causality, e: usize) -> String {
    format!("“{}”", d.marks[c.events[e].mark].label)
}
