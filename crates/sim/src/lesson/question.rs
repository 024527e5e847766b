//! Questions a lesson step asks the learner, answered in the page and revealed after
//! answering. A question is either a multiple choice written by the author, or a question
//! about the step's run whose answer is computed from the run's causality (happens-before,
//! see [`crate::causality`]) — so the answer the page reveals is always the run's, never a
//! hand-written claim that could disagree with what the diagram shows.
//!
//! Events of a run are named by what their diagram mark says (see [`find_event`]).

use crate::causality::{Causality, Relation};
use crate::diagram::Diagram;
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
