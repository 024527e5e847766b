//! The client-history panel: each operation a bar from its call to its return, one row per
//! client (as Porcupine's visualization draws them), with the linearizability checker's
//! verdict; for a violation, the longest linearizable prefix numbered in its order and the
//! operation that cannot be placed in red.

use distlab_sim::linearizability::{check, History, ModelSpec, Op, Operation, Outcome, Status};
use leptos::prelude::*;

/// Search steps the page allows the checker per history before answering "unknown", so a
/// huge history never freezes the page.
pub const BUDGET: u64 = 20_000_000;

/// What the checker said, in the panel's terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// `"linearizable"`, `"not-linearizable"` or `"unknown"`.
    pub outcome: &'static str,
    /// One or two sentences for the learner.
    pub text: String,
    /// Op ids of the longest linearizable prefix, in linearization order.
    pub linearized: Vec<usize>,
    /// The model state after each of `linearized`.
    pub states: Vec<String>,
    /// The op that cannot be placed.
    pub blocked: Option<usize>,
    /// The key the explanation is about (key-value histories), if any.
    pub key: Option<String>,
}

/// Checks `history` against `spec` and says what was found, in the panel's terms.
pub fn judge(history: &History, spec: &ModelSpec) -> Judgement {
    let v = check(history, spec, Some(BUDGET));
    let parts = v.partitions.len();
    let ops: usize = v.partitions.iter().map(|p| p.ops).sum();
    let keys = if parts > 1 || v.partitions.iter().any(|p| p.key.is_some()) {
        format!(" on {parts} key{}", if parts == 1 { "" } else { "s" })
    } else {
        String::new()
    };
    match (v.outcome, v.explanation) {
        (Outcome::NotLinearizable, Some(e)) => Judgement {
            outcome: Outcome::NotLinearizable.name(),
            text: e.text,
            linearized: e.linearized,
            states: e.states,
            blocked: Some(e.blocked),
            key: e.key,
        },
        (Outcome::Linearizable, _) => Judgement {
            outcome: Outcome::Linearizable.name(),
            text: format!(
                "some order of all {ops} operation{}{keys} respects real time and the {} model.",
                if ops == 1 { "" } else { "s" },
                spec.model
            ),
            linearized: Vec::new(),
            states: Vec::new(),
            blocked: None,
            key: None,
        },
        (o, _) => Judgement {
            outcome: o.name(),
            text: v.error.unwrap_or_else(|| {
                format!(
                    "the search stopped after {} steps without an answer.",
                    v.steps
                )
            }),
            linearized: Vec::new(),
            states: Vec::new(),
            blocked: None,
            key: None,
        },
    }
}

/// A short label for an operation's bar, e.g. `x: w 3`, `r → 3`, `cas 1→2`.
pub fn op_label(o: &Operation) -> String {
    fn k(key: &Option<String>) -> String {
        key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default()
    }
    let v = |v: &Option<String>| v.clone().unwrap_or_else(|| "nil".into());
    let text = match &o.op {
        Op::Read { key, value } => {
            if o.status == Status::Ok {
                format!("{}r → {}", k(key), v(value))
            } else {
                format!("{}r", k(key))
            }
        }
        Op::Write { key, value } => format!("{}w {value}", k(key)),
        Op::Cas { key, from, to } => format!("{}cas {from}→{to}", k(key)),
        Op::Append { key, value } => format!("{}append {value}", k(key)),
        Op::Add { key, value } => format!("{}add {value}", k(key)),
        Op::Remove { key, value } => format!("{}remove {value}", k(key)),
        Op::ReadSet { key, values } => {
            if o.status == Status::Ok {
                format!("{}read → {{{}}}", k(key), values.join(", "))
            } else {
                format!("{}read", k(key))
            }
        }
    };
    match o.status {
        Status::Ok => text,
        Status::Fail => format!("{text} (failed)"),
        Status::Info => format!("{text} ?"),
    }
}

fn op_key(o: &Operation) -> Option<&str> {
    match &o.op {
        Op::Read { key, .. }
        | Op::Write { key, .. }
        | Op::Cas { key, .. }
        | Op::Append { key, .. }
        | Op::Add { key, .. }
        | Op::Remove { key, .. }
        | Op::ReadSet { key, .. } => key.as_deref(),
    }
}

/// A sentence describing one operation for tooltips and screen readers.
pub fn op_sentence(o: &Operation, client: &str) -> String {
    let when = match (o.status, o.ret) {
        (Status::Info, _) | (_, None) => format!("called at {}, outcome unknown", o.call),
        (Status::Fail, Some(r)) => format!("called at {}, failed at {r}", o.call),
        (Status::Ok, Some(r)) => format!("called at {}, returned at {r}", o.call),
    };
    let label = if o.label.is_empty() {
        String::new()
    } else {
        format!(" [{}]", o.label)
    };
    format!("{client}: {}{label} — {when}", op_label(o))
}

/// One operation's bar, ready to draw (also its key: a bar is redrawn only when it changes).
#[derive(Clone, Debug, PartialEq)]
struct Bar {
    id: usize,
    class: String,
    x1: f64,
    x2: f64,
    y: f64,
    label: String,
    tip: String,
    pos: Option<usize>,
}

impl Bar {
    fn key(&self) -> String {
        format!(
            "{}|{}|{:.1}|{:.1}|{}|{:?}|{}",
            self.id, self.class, self.x1, self.x2, self.y, self.pos, self.label
        )
    }
}

/// The chart's frame: its clients (one row each, in order) and its time span.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Frame {
    pub clients: Vec<u64>,
    pub t0: u64,
    pub t_end: u64,
}

impl Frame {
    /// The frame that just fits `h`.
    pub fn of(h: &History) -> Frame {
        let mut clients: Vec<u64> = h.ops.iter().map(|o| o.client).collect();
        clients.sort_unstable();
        clients.dedup();
        let t0 = h.ops.iter().map(|o| o.call).min().unwrap_or(0);
        let t_end = h
            .ops
            .iter()
            .map(|o| o.ret.unwrap_or(o.call))
            .max()
            .unwrap_or(0)
            .max(t0 + 1);
        Frame { clients, t0, t_end }
    }
}

const LEFT: f64 = 96.0;
const WIDTH: f64 = 760.0;
const ROW_H: f64 = 30.0;
const OPEN_END: f64 = WIDTH * 1.04;

/// The panel. `names(client)` gives a client's display name; `unit` is the time unit shown
/// on the axis (`"ms"` for simulated runs, `""` for imported logs, whose times are line
/// numbers). `frame`, when given, fixes the rows and the time axis (a live run passes the
/// whole run's, so bars stay put while the run plays and only new or changed ones are
/// drawn); otherwise the chart fits the history.
#[component]
pub fn HistoryPanel(
    history: Signal<History>,
    judgement: Signal<Option<Judgement>>,
    #[prop(into)] names: Callback<u64, String>,
    #[prop(optional)] unit: &'static str,
    #[prop(optional, into)] frame: Option<Signal<Frame>>,
) -> impl IntoView {
    let frame = Memo::new(move |_| {
        let fit = history.with(Frame::of);
        match frame {
            Some(f) => {
                let mut f = f.get();
                // Clients or times the given frame does not cover widen it.
                for c in fit.clients {
                    if !f.clients.contains(&c) {
                        f.clients.push(c);
                    }
                }
                f.t0 = f.t0.min(fit.t0);
                f.t_end = f.t_end.max(fit.t_end).max(f.t0 + 1);
                f
            }
            None => fit,
        }
    });
    let bars = Memo::new(move |_| {
        frame.with(|fr| {
            history.with(|h| {
                judgement.with(|j| {
                    let row = |c: u64| fr.clients.iter().position(|&x| x == c).unwrap_or(0);
                    let span = (fr.t_end - fr.t0) as f64;
                    let x = |t: u64| LEFT + t.saturating_sub(fr.t0) as f64 / span * WIDTH;
                    let blocked = j.as_ref().and_then(|j| j.blocked);
                    let focus_key = j.as_ref().and_then(|j| j.key.clone());
                    h.ops
                        .iter()
                        .map(|o| {
                            let y = row(o.client) as f64 * ROW_H + 6.0;
                            let x1 = x(o.call);
                            let x2 = match (o.status, o.ret) {
                                (Status::Info, _) | (_, None) => LEFT + OPEN_END,
                                (_, Some(r)) => x(r).max(x1 + 4.0),
                            };
                            let pos = j.as_ref().and_then(|j| {
                                j.linearized
                                    .iter()
                                    .position(|&id| id == o.id)
                                    .map(|i| i + 1)
                            });
                            let mut class = String::from("hist-op");
                            class += match o.status {
                                Status::Ok => " ok",
                                Status::Fail => " fail",
                                Status::Info => " info",
                            };
                            if pos.is_some() {
                                class += " linearized";
                            }
                            if blocked == Some(o.id) {
                                class += " blocked";
                            }
                            if focus_key.is_some() && op_key(o) != focus_key.as_deref() {
                                class += " other-key";
                            }
                            Bar {
                                id: o.id,
                                class,
                                x1,
                                x2,
                                y,
                                label: op_label(o),
                                tip: op_sentence(o, &names.run(o.client)),
                                pos,
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
        })
    });
    let rows = move || {
        frame.with(|fr| {
            fr.clients
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    let y = i as f64 * ROW_H + 4.0;
                    view! {
                        <text class="hist-client" x="4" y=y + 18.0>{names.run(c)}</text>
                        <line class="hist-lane" x1=LEFT x2=LEFT + OPEN_END y1=y + 14.0 y2=y + 14.0 />
                    }
                })
                .collect_view()
        })
    };
    let total_w = LEFT + OPEN_END + 8.0;
    let height = move || frame.with(|fr| fr.clients.len() as f64 * ROW_H + 26.0);
    let axis_y = move || frame.with(|fr| fr.clients.len() as f64 * ROW_H + 18.0);
    let chart = move || {
        if history.with(|h| h.ops.is_empty()) {
            return view! { <p class="meta">"No client operations yet."</p> }.into_any();
        }
        view! {
            <div class="hist-scroll" tabindex="0" role="region" aria-label="Client history chart (scrolls sideways)">
                <svg
                    class="history-chart"
                    role="img"
                    aria-label="Client history: each operation a bar from call to return, one row per client"
                    viewBox=move || format!("0 0 {total_w} {}", height())
                    style=format!("min-width: {}px", total_w.round())
                    preserveAspectRatio="xMinYMin meet"
                >
                    {rows}
                    <For each=move || bars.get() key=|b: &Bar| b.key() let(b)>
                        {
                            let fits = (b.x2 - b.x1) > b.label.chars().count() as f64 * 6.2 + 6.0;
                            let (x1, y) = (b.x1, b.y);
                            view! {
                                <g class=b.class.clone() data-op=b.id.to_string()>
                                    <title>{b.tip.clone()}</title>
                                    <rect x=x1 y=y width=b.x2 - x1 height="16" rx="3" />
                                    {fits.then(|| view! { <text class="hist-label" x=x1 + 4.0 y=y + 12.0>{b.label.clone()}</text> })}
                                    {(!fits).then(|| view! { <text class="hist-label outside" x=x1 y=y + 26.0>{b.label.clone()}</text> })}
                                    {b.pos.map(|n| view! { <text class="hist-order" x=x1 - 2.0 y=y - 1.0>{format!("{n}")}</text> })}
                                </g>
                            }
                        }
                    </For>
                    <text class="hist-axis" x=LEFT y=axis_y>{move || frame.with(|f| format!("{}{unit}", f.t0))}</text>
                    <text class="hist-axis end" x=LEFT + WIDTH y=axis_y>{move || frame.with(|f| format!("{}{unit}", f.t_end))}</text>
                </svg>
            </div>
        }
        .into_any()
    };
    let verdict = move || {
        judgement.with(|j| {
            j.as_ref().map(|j| {
                let (class, head) = match j.outcome {
                    "linearizable" => ("verdict ok", "Linearizable"),
                    "not-linearizable" => ("verdict bad", "Not linearizable"),
                    _ => ("verdict unknown", "Unknown"),
                };
                let states = (!j.states.is_empty()).then(|| {
                    let steps = j
                        .linearized
                        .iter()
                        .zip(&j.states)
                        .enumerate()
                        .map(|(i, (id, s))| {
                            history.with(|h| {
                                let o = h.ops.get(*id);
                                let l = o.map(op_label).unwrap_or_default();
                                let c = o.map(|o| names.run(o.client)).unwrap_or_default();
                                view! { <li>{format!("{}. {c}: {l} — state {s}", i + 1)}</li> }
                            })
                        })
                        .collect_view();
                    view! {
                        <details class="hist-prefix">
                            <summary>"The longest linearizable prefix, step by step"</summary>
                            <ol class="mono">{steps}</ol>
                        </details>
                    }
                });
                view! {
                    <p class=class data-testid="lin-verdict" data-outcome=j.outcome>
                        <strong>{head}</strong>
                        {format!(" — {}", j.text)}
                    </p>
                    {states}
                }
            })
        })
    };
    let list_open = RwSignal::new(false);
    let list = move || {
        if !list_open.get() {
            return None;
        }
        Some(history.with(|h| {
            h.ops
                .iter()
                .map(|o| view! { <li>{op_sentence(o, &names.run(o.client))}</li> })
                .collect_view()
        }))
    };
    view! {
        <div class="history-panel">
            {verdict}
            {chart}
            <details class="hist-list" on:toggle=move |ev| {
                let open = event_target::<web_sys::HtmlElement>(&ev)
                    .get_attribute("open")
                    .is_some();
                list_open.set(open);
            }>
                <summary>"Operations as text"</summary>
                <ul>{list}</ul>
            </details>
        </div>
    }
}

/// A run's client history with its steps in the trace (see
/// [`distlab_sim::models::history`]).
pub type RunHistory = (History, Vec<distlab_sim::models::history::OpSteps>);

/// The live history of a lab's run up to the step the panels show, checked key by key.
#[derive(Clone, Copy)]
pub struct LiveHistory {
    pub history: Memo<RunHistory>,
    /// The whole run's clients and time span, so the chart stays still while it plays.
    pub frame: Memo<Frame>,
    pub judgement: Memo<Option<Judgement>>,
}

impl LiveHistory {
    /// Follows `lab`'s panel step; `of(engine, upto)` extracts the history, checked against
    /// `model` (registers per key, or sets per key for shopping carts).
    pub fn new<M: distlab_sim::models::EngineModel + 'static>(
        lab: crate::lab::Lab<M>,
        of: fn(&distlab_sim::Engine<M::Node>, Option<usize>) -> RunHistory,
        model: distlab_sim::linearizability::Model,
    ) -> LiveHistory {
        // The step the history follows: the panels' step, but while the run plays at most
        // twice a second (checking and redrawing the history is the panels' heaviest part).
        let step = RwSignal::new(lab.panel_step.get_untracked());
        let last = StoredValue::new(f64::NEG_INFINITY);
        Effect::new(move |_| {
            let s = lab.panel_step.get();
            let now = crate::lab::now_ms();
            if !lab.playing.get() || now - last.get_value() >= 500.0 {
                last.set_value(now);
                step.set(s);
            }
        });
        let history = Memo::new(move |_| {
            let step = step.get();
            lab.engine.with(|e| of(e, step))
        });
        let judgement = Memo::new(move |_| {
            history.with(|(h, _)| {
                (!h.ops.is_empty()).then(|| {
                    let mut j = judge(h, &ModelSpec::new(model));
                    // The checker names clients by number; the run has names.
                    lab.engine.with_untracked(|e| {
                        for (i, n) in e.nodes().iter().enumerate() {
                            j.text = j
                                .text
                                .replace(&format!("client {i}'s"), &format!("{}'s", n.name));
                        }
                    });
                    j
                })
            })
        });
        let frame = Memo::new(move |_| {
            lab.engine.with(|e| {
                let end = e.trace().len().checked_sub(1);
                let mut f = Frame::of(&of(e, end).0);
                f.t0 = 0;
                f.t_end = f.t_end.max(e.trace().last().map_or(1, |ev| ev.time)).max(1);
                f
            })
        });
        LiveHistory {
            history,
            frame,
            judgement,
        }
    }

    /// The operation that cannot be placed, marked on the space-time diagram at its return
    /// (or its call, if it never returned).
    pub fn highlights(&self) -> Vec<crate::diagram::Highlight> {
        let (history, judgement) = (self.history, self.judgement);
        judgement.with(|j| {
            let Some(j) = j.as_ref().filter(|j| j.outcome == "not-linearizable") else {
                return Vec::new();
            };
            let Some(b) = j.blocked else {
                return Vec::new();
            };
            history.with(|(h, steps)| {
                let (Some(o), Some(s)) = (h.ops.get(b), steps.get(b)) else {
                    return Vec::new();
                };
                vec![crate::diagram::Highlight {
                    step: s.ret.unwrap_or(s.call),
                    class: "stale",
                    text: "not linearizable".into(),
                    why: Some(format!(
                        "{} cannot be placed in any order that respects real time: {}",
                        op_label(o),
                        j.text
                    )),
                }]
            })
        })
    }

    /// Adds [`LiveHistory::highlights`] to a page's own marks; where the page already
    /// marks the same event (e.g. a stale read), that mark says it too.
    pub fn add_to(&self, marks: &mut Vec<crate::diagram::Highlight>) {
        for h in self.highlights() {
            match marks.iter_mut().find(|m| m.step == h.step) {
                Some(m) => {
                    m.text = format!("{} · {}", m.text, h.text);
                    m.why = Some(match (&m.why, &h.why) {
                        (Some(a), Some(b)) => format!("{a} {b}"),
                        (a, b) => a.clone().or(b.clone()).unwrap_or_default(),
                    });
                }
                None => marks.push(h),
            }
        }
    }

    /// The panel, with clients named as the run names them.
    pub fn panel<M: distlab_sim::models::EngineModel + 'static>(
        &self,
        lab: crate::lab::Lab<M>,
    ) -> impl IntoView {
        let history = self.history;
        let names = Callback::new(move |c: u64| {
            lab.engine
                .with(|e| e.nodes().get(c as usize).map(|n| n.name.clone()))
                .unwrap_or_else(|| format!("client {c}"))
        });
        view! {
            <section class="panel wide" aria-labelledby="hist-h">
                <h3 id="hist-h">"Client history: linearizable?"</h3>
                <HistoryPanel
                    history=Signal::derive(move || history.with(|(h, _)| h.clone()))
                    judgement=self.judgement.into()
                    names=names
                    unit=" ms"
                    frame=self.frame
                />
            </section>
        }
    }
}
