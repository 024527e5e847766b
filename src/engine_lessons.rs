//! Lesson views for the engine models other than replication: `clocks` (logical clocks)
//! and `leaderless` (version vectors, last-write-wins). They share the narration column,
//! the generic [`Lab`], the transport and the space-time diagram with its causality
//! overlay; each adds its own panels.

use crate::diagram::{Highlight, SpaceTime};
use crate::history_panel::LiveHistory;
use crate::lab::Lab;
use crate::lesson_page::{
    experimenting_banner, hint_view, key_target, page_key, step_nav, transport_key, Narration,
    StepNav,
};
use crate::panels::{ClockControls, Transport, ZoomControl};
use crate::share_bar::{
    lab_history, lab_run, lesson_place, link_problem, open_link, HistoryOf, ShareBar,
};
use distlab_sim::causality::{shiviz, Causality};
use distlab_sim::diagram::Diagram;
use distlab_sim::lesson::question::Posed;
use distlab_sim::lesson::{Challenge, ResolvedLesson, ResolvedStep};
use distlab_sim::linearizability::Model;
use distlab_sim::models::leaderless::{analysis::Analysis, View as KvView};
use distlab_sim::models::raft::{
    analysis::Analysis as RaftAnalysis, monitor::Violation as RaftViolation, Broken as RaftBroken,
    RaftScenario, Refinement as RaftRefinement, Role as RaftRole, View as RaftView,
};
use distlab_sim::models::{clocks, Clocks, EngineModel, Leaderless, Raft};
use distlab_sim::{Describe, Engine, Intervention};
use leptos::ev;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeSet;

pub type Run<M> = (
    <M as EngineModel>::Scenario,
    Vec<Intervention<<M as EngineModel>::Node>>,
);

/// What [`engine_lesson`] sets up.
pub struct LessonRun<M: EngineModel + 'static> {
    /// The step navigation.
    pub nav: StepNav,
    pub lab: Lab<M>,
    /// The step's own run (scenario and interventions).
    pub step_run: Memo<Option<Run<M>>>,
    /// Loads the step's own run again.
    pub reload: Callback<()>,
    /// The step's question posed on the step's own run (not the learner's experiment).
    pub posed: Memo<Option<Result<Posed, String>>>,
    /// Whether the learner has left the step's own run (changed its scenario or
    /// interventions).
    pub experimenting: Signal<bool>,
    /// How to read the run's client history (models with clients), for the share bar's
    /// "Client history as JSON".
    pub history: Option<HistoryOf<M>>,
}

impl<M: EngineModel + 'static> LessonRun<M> {
    /// The lesson page: the narration (with the step's question, and `challenge`'s status)
    /// beside the lab column — transport, the diagram with `highlights`, then `panels`.
    pub fn page(
        &self,
        challenge: ViewFn,
        highlights: Signal<Vec<Highlight>>,
        panels: AnyView,
    ) -> AnyView {
        let (nav, posed) = (self.nav, self.posed);
        let share = lesson_share_bar(self.lab, nav, self.history);
        view! {
            <div class="lesson-layout">
                <Narration nav=nav challenge=challenge posed=posed />
                {lab_column(self.lab, highlights, self.experimenting, self.reload, panels, share)}
            </div>
        }
        .into_any()
    }
}

/// A lesson of model `M`: loads each step's run into one [`Lab`], handles keys, and tells
/// when the learner has left the step's run. `run_of` reads a resolved step's run.
pub fn engine_lesson<M: EngineModel + 'static>(
    lesson: ResolvedLesson,
    run_of: fn(&ResolvedStep) -> Option<Run<M>>,
) -> Result<LessonRun<M>, String> {
    let nav = step_nav(lesson);
    let (lesson, step) = (nav.lesson, nav.step);
    let step_run = Memo::new(move |_| {
        step.get()
            .ok()
            .and_then(|i| lesson.with_value(|l| run_of(&l.steps[i])))
    });
    let (scenario, interventions) = lesson
        .with_value(|l| run_of(&l.steps[step.get_untracked().unwrap_or(0)]))
        .ok_or_else(|| format!("its steps are not {} runs", M::NAME))?;
    let lab = Lab::<M>::new(scenario, interventions)?;
    let load_step = move |i: usize| {
        let res = lesson.with_value(|l| {
            let s = &l.steps[i];
            let (scn, iv) = run_of(s).ok_or_else(|| "this step has no run".to_string())?;
            lab.load(scn, iv, None)?;
            lab.engine.with_untracked(|e| s.until.cursor(e))
        });
        match res {
            Ok(c) => {
                lab.zoom
                    .set(lesson.with_value(|l| l.steps[i].zoom.unwrap_or(1.0)));
                lab.jump(c);
                lab.notice.set(None);
            }
            Err(e) => lab.notice.set(Some(e)),
        }
    };
    // A shared link (`run=<code>`) opens its own run at the step; a bad code is reported
    // and the step's own run shown.
    let query = use_query_map();
    let code = Memo::new(move |_| query.read().get("run"));
    Effect::new(move |_| {
        if let Ok(i) = step.get() {
            let code = code.get();
            untrack(|| match code.map(|c| open_link(lab, &c)) {
                Some(Ok(())) => lab.notice.set(None),
                Some(Err(e)) => {
                    load_step(i);
                    lab.notice.set(Some(link_problem(&e, "the step's own run")));
                }
                None => load_step(i),
            });
        }
    });
    crate::present::offer_prepared(lab);
    let handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
        if page_key(nav, &e)
            || transport_key(lab, key_target(&e), &e)
            || crate::present::prepared_key(lab, key_target(&e), &e)
        {
            e.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
    let reload = Callback::new(move |()| {
        if let Ok(i) = step.get_untracked() {
            load_step(i)
        }
    });
    let posed = Memo::new(move |_| {
        let i = step.get().ok()?;
        let q = lesson.with_value(|l| l.steps[i].question.clone())?;
        Some(step_run.with(|r| {
            let (scn, iv) = r.as_ref().ok_or("this step has no run")?;
            let engine = Engine::new(M::setup(scn)?, iv.clone());
            let cursor = lesson.with_value(|l| l.steps[i].until.cursor(&engine))?;
            q.pose(Some((&Diagram::build(&engine), cursor)))
        }))
    });
    let experimenting = Signal::derive(move || {
        step_run.with(|r| r.as_ref().is_some_and(|(s, iv)| lab.differs_from(s, iv)))
    });
    Ok(LessonRun {
        nav,
        lab,
        step_run,
        reload,
        posed,
        experimenting,
        history: None,
    })
}

/// The share bar of a lesson step's lab: links to `/lesson/<id>?step=N`.
pub fn lesson_share_bar<M: EngineModel + 'static>(
    lab: Lab<M>,
    nav: StepNav,
    history: Option<HistoryOf<M>>,
) -> AnyView {
    let place = lesson_place(nav);
    let history = history.map(|of| lab_history(lab, of));
    match history {
        Some(h) => view! { <ShareBar run=lab_run(lab) place=place history=h /> }.into_any(),
        None => view! { <ShareBar run=lab_run(lab) place=place /> }.into_any(),
    }
}

/// The page shown when a lesson's run cannot be built.
pub fn cannot_show(e: String) -> AnyView {
    view! {
        <div class="message-page" role="alert">
            <h1>"This lesson cannot be shown"</h1>
            <p>{e}</p>
            <p><A href="/">"← All lessons"</A></p>
        </div>
    }
    .into_any()
}

/// The run as a ShiViz log, to copy into ShiViz or into the import page.
#[component]
fn ShivizExport<M: EngineModel + 'static>(lab: Lab<M>) -> impl IntoView {
    let open = RwSignal::new(false);
    let text = move || {
        open.get().then(|| {
            lab.diagram.with(|d| {
                let c = Causality::of_diagram(d);
                shiviz::export(d, &c, None)
            })
        })
    };
    view! {
        <details class="panel export" on:toggle=move |ev| {
            let el: web_sys::HtmlElement = event_target(&ev);
            open.set(el.get_attribute("open").is_some());
        }>
            <summary>"Export this run as a ShiViz log"</summary>
            <p class="hint">"The whole run in the format ShiViz reads (an event line, then "<code>"host {vector clock}"</code>"). Copy it into ShiViz, or open it in "<A href="/clocks/import">"the log viewer"</A>"."</p>
            <textarea readonly aria-label="ShiViz log of this run" rows="8">{text}</textarea>
        </details>
    }
}

/// The step's challenge, if it has one: solved or not as `met` judges it, with its hint.
pub fn step_challenge(
    nav: StepNav,
    met: impl Fn(&Challenge) -> bool + Copy + Send + Sync + 'static,
) -> impl Fn() -> Option<AnyView> + Copy + Send + Sync + 'static {
    move || {
        let i = nav.step.get().ok()?;
        let c = nav.lesson.with_value(|l| l.steps[i].challenge.clone())?;
        Some(challenge_status(met(&c), c.hint).into_any())
    }
}

/// A safety monitor's violation as the page shows it (Raft's and Paxos's monitors alike):
/// the trace step and time after which the property failed, its name and statement, and
/// what happened.
pub struct Violated<'a> {
    pub step: usize,
    pub time: u64,
    pub property: &'static str,
    pub statement: &'static str,
    pub text: &'a str,
}

impl Violated<'_> {
    /// The mark on the diagram at the event after which the property failed.
    pub fn highlight(&self) -> Highlight {
        Highlight {
            step: self.step,
            class: "lost",
            text: self.property.to_string(),
            why: Some(format!("{}: {}", self.statement, self.text)),
        }
    }

    /// The violation as a list item: the property, when, what happened and the statement.
    pub fn item(&self) -> impl IntoView {
        let what = format!(
            " violated at {} ms: {}. ({})",
            self.time, self.text, self.statement
        );
        view! { <li class="lost"><strong>{self.property}</strong>{what}</li> }
    }
}

/// Whether the step's challenge is solved, with its hint button.
fn challenge_status(met: bool, hint: Option<String>) -> impl IntoView {
    crate::course::note_challenge(met);
    view! {
        <div class="challenge" class:met=met role="status" aria-live="polite">
            <strong>{if met { "✓ Challenge solved!" } else { "Challenge: not solved yet" }}</strong>
            {hint_view(hint)}
        </div>
    }
}

/// One lab column: transport, share bar, banner, notices, diagram, panels.
pub fn lab_column<M: EngineModel + 'static>(
    lab: Lab<M>,
    highlights: Signal<Vec<Highlight>>,
    experimenting: Signal<bool>,
    reload: Callback<()>,
    panels: AnyView,
    share: AnyView,
) -> impl IntoView {
    view! {
        <main class="lab">
            <div class="lab-bar">
                <Transport lab=lab />
                <div class="lab-options"><ZoomControl lab=lab /></div>
            </div>
            {share}
            {move || experimenting.get().then(|| experimenting_banner(move |_| reload.run(())))}
            {move || lab.notice.get().map(|m| view! {
                <div class="notice" role="alert">{m}<button class="close" aria-label="Dismiss" on:click=move |_| lab.notice.set(None)>"×"</button></div>
            })}
            <SpaceTime data=lab.diagram_view(highlights) />
            <div class="panels">
                {panels}
                <ShivizExport lab=lab />
            </div>
        </main>
    }
}

/// Lamport timestamps beside vector clocks, up to the cursor: the events in Lamport order
/// with their vector clocks and whether each follows the previous causally or only by the
/// counter; how many pairs each orders; and the counter-examples to "L(a) < L(b) implies
/// a → b", one at a time, optionally marked on the diagram.
struct LamportVsVector {
    view: AnyView,
    highlights: Signal<Vec<Highlight>>,
}

fn lamport_vs_vector(lab: Lab<Clocks>) -> LamportVsVector {
    let marked = RwSignal::new(false);
    let which = RwSignal::new(0usize);
    // The causality of the run and the events up to the cursor.
    let state = Memo::new(move |_| {
        let upto = lab.panel_step.get();
        lab.diagram.with(|d| {
            let c = Causality::of_diagram(d);
            let within: Vec<usize> = (0..c.len())
                .filter(|&e| upto.is_some_and(|u| d.marks[c.events[e].mark].step <= u))
                .collect();
            let pairs = c.lamport_only_pairs(&within);
            (c, within, pairs)
        })
    });
    let label = move |c: &Causality, e: usize| {
        lab.diagram
            .with_untracked(|d| d.marks[c.events[e].mark].label.clone())
    };
    let stamp = move |c: &Causality, e: usize| {
        let l = c.lamport[e];
        let node = lab.diagram.with_untracked(|d| {
            d.nodes
                .get(l.node)
                .map_or(String::new(), |n| n.name.clone())
        });
        format!("({}, {node})", l.counter)
    };
    let current = move || {
        state.with(|(_, _, pairs)| (!pairs.is_empty()).then(|| pairs[which.get() % pairs.len()]))
    };
    let highlights = Signal::derive(move || {
        if !marked.get() {
            return Vec::new();
        }
        let Some((a, b)) = current() else {
            return Vec::new();
        };
        state.with(|(c, _, _)| {
            let step = |e: usize| lab.diagram.with(|d| d.marks[c.events[e].mark].step);
            let why = format!(
                "L = {} < {}, yet the events are concurrent: vector clocks {} and {} are incomparable.",
                c.lamport[a].counter, c.lamport[b].counter, c.vector[a], c.vector[b]
            );
            vec![
                Highlight {
                    step: step(a),
                    class: "lamport-only",
                    text: format!("L={}", c.lamport[a].counter),
                    why: Some(why.clone()),
                },
                Highlight {
                    step: step(b),
                    class: "lamport-only",
                    text: format!("L={} ∥", c.lamport[b].counter),
                    why: Some(why),
                },
            ]
        })
    });
    let rows = move || {
        state.with(|(c, within, _)| {
            let order = c.lamport_order(within);
            order
                .iter()
                .enumerate()
                .map(|(k, &e)| {
                    let rel = match k.checked_sub(1).map(|p| c.happens_before(order[p], e)) {
                        None => ("", ""),
                        Some(true) => ("→", "causal: the previous event happens before this one"),
                        Some(false) => ("∥", "arbitrary: concurrent with the previous event; only the counter (or the node tie-break) puts it after"),
                    };
                    view! {
                        <tr class:arbitrary=rel.0 == "∥">
                            <td class="mono">{stamp(c, e)}</td>
                            <td>{label(c, e)}</td>
                            <td class="mono">{c.vector[e].to_string()}</td>
                            <td class="rel" title=rel.1 aria-label=rel.1>{rel.0}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let summary = move || {
        state.with(|(c, within, _)| {
            let n = within.len();
            let all = n * n.saturating_sub(1) / 2;
            let concurrent = within
                .iter()
                .enumerate()
                .map(|(i, &a)| within[i + 1..].iter().filter(|&&b| c.relation(a, b) == distlab_sim::causality::Relation::Concurrent).count())
                .sum::<usize>();
            format!(
                "{n} events, {all} pairs. Lamport timestamps put all {all} pairs in an order; happens-before orders {} of them. The other {concurrent} pairs are concurrent: vector clocks say so, Lamport timestamps cannot.",
                all - concurrent
            )
        })
    };
    let example = move || {
        let Some((a, b)) = current() else {
            return view! { <p class="meta">"No counter-example up to here: every pair with different counters is causally ordered."</p> }.into_any();
        };
        let total = state.with(|(_, _, p)| p.len());
        state.with(|(c, _, _)| {
            let text = format!(
                "“{}” has L = {} and “{}” L = {}, so L(a) < L(b) — yet they are concurrent: their vector clocks {} and {} are incomparable.",
                label(c, a), c.lamport[a].counter, label(c, b), c.lamport[b].counter, c.vector[a], c.vector[b]
            );
            view! {
                <p data-testid="lamport-counterexample"><strong>"Counter-example: "</strong>{text}</p>
                <div class="row-buttons">
                    <button aria-pressed=move || marked.get().to_string() on:click=move |_| marked.update(|m| *m = !*m)>"Mark it on the diagram"</button>
                    {(total > 1).then(|| view! {
                        <button on:click=move |_| which.update(|w| *w += 1)>{format!("Another one ({total} in all)")}</button>
                    })}
                </div>
            }
            .into_any()
        })
    };
    let view = view! {
        <section class="panel lamport-vs-vector" aria-labelledby="lvv-h">
            <h3 id="lvv-h">"Lamport timestamps vs. vector clocks"</h3>
            <p>{summary}</p>
            {example}
            <details>
                <summary>"The events in Lamport order"</summary>
                <table class="clock-table">
                    <thead><tr><th>"Lamport (counter, node)"</th><th>"Event"</th><th>"Vector clock"</th><th>"After the previous"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                <p class="hint">"→: the previous event happens before this one. ∥: the two are concurrent, and only Lamport's counter (or the node tie-break) orders them."</p>
            </details>
        </section>
    }
    .into_any();
    LamportVsVector { view, highlights }
}

/// `model = "clocks"`: nodes with their physical, Lamport and vector clocks.
#[component]
pub fn ClocksLesson(lesson: ResolvedLesson) -> impl IntoView {
    let run =
        match engine_lesson::<Clocks>(lesson, |s| s.clocks().map(|(a, b)| (a.clone(), b.to_vec())))
        {
            Ok(x) => x,
            Err(e) => return cannot_show(e),
        };
    let LessonRun { lab, .. } = run;
    let compare = lamport_vs_vector(lab);
    let nodes = move || {
        let step = lab.panel_step.get();
        let (infos, views) = lab.engine.with(|e| (e.nodes().to_vec(), e.views_at(step)));
        infos
            .into_iter()
            .zip(views)
            .map(|(info, v): (_, clocks::View)| {
                view! {
                    <tr>
                        <th scope="row">{info.name.clone()}</th>
                        <td>{info.clock.describe()}</td>
                        <td>{v.physical_ms.map_or("—".to_string(), |p| format!("{p} ms"))}</td>
                        <td class="num">{v.lamport.to_string()}</td>
                        <td class="mono">{v.label().split_once(" V=").map_or(String::new(), |(_, v)| v.to_string())}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let panels = view! {
        <section class="panel" aria-labelledby="clocks-h">
            <h3 id="clocks-h">"Clocks after each node's latest event"</h3>
            <table class="clock-table">
                <thead><tr><th>"Node"</th><th>"Physical clock"</th><th>"Reads"</th><th>"Lamport"</th><th>"Vector clock"</th></tr></thead>
                <tbody>{nodes}</tbody>
            </table>
            <p class="hint">"Turn on the clocks under the diagram, click an event to see its causal past and future, Shift-click another to compare them."</p>
        </section>
        {compare.view}
        <ClockControls lab=lab />
    }
    .into_any();
    run.page(ViewFn::from(|| ()), compare.highlights, panels)
}

fn kv_highlights(a: &Analysis) -> Vec<Highlight> {
    a.lost
        .iter()
        .filter_map(|l| {
            let w = a.writes.iter().find(|w| w.op == l.op)?;
            Some(Highlight {
                step: w.invoked,
                class: "lost",
                text: if l.causally_later {
                    "lost (causally later)".into()
                } else {
                    "lost".into()
                },
                why: Some(l.why.clone()),
            })
        })
        .collect()
}

/// `model = "leaderless"`: replicas' siblings with version vectors, the merged cart, lost
/// writes and resurrected items.
#[component]
pub fn LeaderlessLesson(lesson: ResolvedLesson) -> impl IntoView {
    let run = match engine_lesson::<Leaderless>(lesson, |s| {
        s.leaderless().map(|(a, b)| (a.clone(), b.to_vec()))
    }) {
        Ok(x) => x,
        Err(e) => return cannot_show(e),
    };
    let mut run = run;
    run.history = Some(distlab_sim::models::history::leaderless);
    let LessonRun { nav, lab, .. } = run;
    let live = LiveHistory::new(lab, distlab_sim::models::history::leaderless, Model::Set);
    let highlights = Memo::new(move |_| {
        let mut h = lab.analysis.with(kv_highlights);
        live.add_to(&mut h);
        h
    });
    let replicas = move || {
        let step = lab.panel_step.get();
        let (infos, views) = lab.engine.with(|e| (e.nodes().to_vec(), e.views_at(step)));
        infos
            .into_iter()
            .zip(views)
            .map(|(info, v): (_, KvView)| {
                let role = match &v {
                    KvView::Replica { .. } => "replica",
                    KvView::Client { .. } => "client, last saw",
                };
                let facts = v.fields();
                view! {
                    <li>
                        <strong>{info.name.clone()}</strong>
                        <span class="meta">{format!(" ({role}; clock {})", info.clock.describe())}</span>
                        <ul class="siblings">
                            {if facts.is_empty() {
                                view! { <li class="meta">"empty"</li> }.into_any()
                            } else {
                                facts.into_iter().map(|(k, s)| view! { <li class="mono">{format!("{k}: {s}")}</li> }).collect_view().into_any()
                            }}
                        </ul>
                    </li>
                }
            })
            .collect_view()
    };
    let outcome = move || {
        lab.analysis.with(|a| {
            let merged = a
                .merged
                .iter()
                .map(|(k, items)| {
                    view! {
                        <p>
                            <strong>{k.to_string()}</strong>
                            {format!(
                                " — a reader merging every surviving sibling sees [{}]{}",
                                items.join(", "),
                                if a.converged { "" } else { " (the replicas have not converged yet)" }
                            )}
                        </p>
                    }
                })
                .collect_view();
            let lost = a
                .lost
                .iter()
                .map(|l| view! { <li class="lost">{l.why.clone()}</li> })
                .collect_view();
            let back = a
                .resurrected
                .iter()
                .map(|(k, item)| view! { <li class="stale">{format!("{item} is back in {k} after it was removed: merging by union cannot see a removal.")}</li> })
                .collect_view();
            view! {
                {merged}
                {(!a.lost.is_empty()).then(|| view! { <h4>"Lost writes"</h4><ul data-testid="lost-writes">{lost}</ul> })}
                {(!a.resurrected.is_empty()).then(|| view! { <h4>"Resurrected items"</h4><ul data-testid="resurrected">{back}</ul> })}
                {(a.lost.is_empty() && a.resurrected.is_empty()).then(|| view! { <p class="meta">"No write lost so far."</p> })}
            }
        })
    };
    let challenge = step_challenge(nav, move |c| lab.analysis.with(|a| c.met_by_leaderless(a)));
    let panels = view! {
        <section class="panel" aria-labelledby="kv-h">
            <h3 id="kv-h">"Siblings and version vectors"</h3>
            <ul class="kv-nodes">{replicas}</ul>
        </section>
        <section class="panel" aria-labelledby="cart-h">
            <h3 id="cart-h">"The cart"</h3>
            {outcome}
        </section>
        <ClockControls lab=lab />
        {move || live.history.with(|(h, _)| !h.ops.is_empty()).then(|| live.panel(lab))}
    }
    .into_any();
    run.page(ViewFn::from(challenge), highlights.into(), panels)
}

/// The monitor's violations marked on the diagram at the event after which each property
/// failed.
fn raft_highlights(a: &RaftAnalysis) -> Vec<Highlight> {
    a.violations
        .iter()
        .map(|v| raft_violated(v).highlight())
        .collect()
}

fn raft_violated(v: &RaftViolation) -> Violated<'_> {
    Violated {
        step: v.step,
        time: v.time,
        property: v.property.name(),
        statement: v.property.statement(),
        text: &v.text,
    }
}

/// `model = "raft"`: a panel per server (role, term, vote, log with committed entries,
/// commit index, election timer), elections so far, and the safety monitor's verdict.
#[component]
pub fn RaftLesson(lesson: ResolvedLesson) -> impl IntoView {
    let run =
        match engine_lesson::<Raft>(lesson, |s| s.raft().map(|(a, b)| (a.clone(), b.to_vec()))) {
            Ok(x) => x,
            Err(e) => return cannot_show(e),
        };
    let mut run = run;
    run.history = Some(distlab_sim::models::history::raft);
    let LessonRun { nav, lab, .. } = run;
    let live = LiveHistory::new(lab, distlab_sim::models::history::raft, Model::Register);
    let highlights = Memo::new(move |_| {
        let mut h = lab.analysis.with(raft_highlights);
        live.add_to(&mut h);
        h
    });
    let servers = move || {
        let step = lab.panel_step.get();
        let now = lab.display_time.get();
        let (infos, views, up) = lab.engine.with(|e| {
            let up = e.world_at(step).map(|w| w.up).unwrap_or_default();
            (e.nodes().to_vec(), e.views_at(step), up)
        });
        let name = |i: usize| infos.get(i).map_or(String::new(), |n| n.name.clone());
        views
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                RaftView::Server { role, term, voted_for, log, commit_index, election_deadline, .. } => {
                    let down = !up.get(i).copied().unwrap_or(true);
                    let timer = election_deadline.filter(|_| !down && role != RaftRole::Leader).map(|(at, runs)| {
                        let pct = ((now - at as f64) / runs.max(1) as f64 * 100.0).clamp(0.0, 100.0);
                        view! {
                            <span class="timer" title=format!("election timeout: {runs} ms, set at {at} ms")>
                                <span class="timer-bar" style=format!("width:{pct:.0}%")></span>
                            </span>
                        }
                    });
                    let entries = log
                        .iter()
                        .enumerate()
                        .map(|(k, e)| {
                            let committed = k < commit_index;
                            view! {
                                <li class=format!("entry term-{}", e.term % 6) class:committed=committed
                                    title=format!("index {}, term {}: {}{}", k + 1, e.term, e.command.describe(), if committed { " (committed)" } else { " (not committed)" })>
                                    <span class="entry-term">{format!("t{}", e.term)}</span>
                                    {e.command.describe()}
                                </li>
                            }
                        })
                        .collect_view();
                    Some(view! {
                        <tr class=format!("server {}", role.name()) class:down=down>
                            <th scope="row">{name(i)}</th>
                            <td class="role">{if down { "crashed".to_string() } else { role.name().to_string() }}</td>
                            <td class="num">{term.to_string()}</td>
                            <td>{voted_for.map_or("—".to_string(), name)}</td>
                            <td><ol class="raft-log" aria-label=format!("log of {}", name(i))>{entries}</ol></td>
                            <td class="num">{commit_index.to_string()}</td>
                            <td>{timer}</td>
                        </tr>
                    })
                }
                RaftView::Client { .. } => None,
            })
            .collect_view()
    };
    let verdict = move || {
        lab.analysis.with(|a| {
            let elections = a
                .elections
                .iter()
                .map(|e| format!("{} (term {}, {} ms)", lab.engine.with_untracked(|en| en.nodes()[e.node].name.clone()), e.term, e.time))
                .collect::<Vec<_>>();
            let step_downs = a
                .step_downs
                .iter()
                .map(|e| format!("{} (led term {}; {} ms)", lab.engine.with_untracked(|en| en.nodes()[e.node].name.clone()), e.term, e.time))
                .collect::<Vec<_>>();
            let violations = a
                .violations
                .iter()
                .map(|v| raft_violated(v).item())
                .collect_view();
            view! {
                <p>{if elections.is_empty() { "No leader elected yet.".to_string() } else { format!("Leaders elected: {}.", elections.join(", ")) }}</p>
                {(!step_downs.is_empty()).then(|| view! { <p data-testid="raft-step-downs">{format!("Stepped down: {}.", step_downs.join(", "))}</p> })}
                {if a.violations.is_empty() {
                    view! { <p class="ok" data-testid="raft-safety">"Safety: election safety, leader append-only, log matching, leader completeness, state machine safety and linearizable reads all hold so far."</p> }.into_any()
                } else {
                    view! { <ul data-testid="raft-violations">{violations}</ul> }.into_any()
                }}
            }
        })
    };
    let challenge = step_challenge(nav, move |c| lab.analysis.with(|a| c.met_by_raft(a)));
    let panels = view! {
        <section class="panel raft-servers" aria-labelledby="raft-h">
            <h3 id="raft-h">"Servers"</h3>
            <table class="clock-table">
                <thead><tr><th>"Server"</th><th>"Role"</th><th>"Term"</th><th>"Voted for"</th><th>"Log"</th><th>"Commit"</th><th>"Election timer"</th></tr></thead>
                <tbody>{servers}</tbody>
            </table>
        </section>
        <section class="panel" aria-labelledby="raft-safety-h">
            <h3 id="raft-safety-h">"Elections and safety"</h3>
            {verdict}
        </section>
        <RaftSwitches lab=lab />
        {move || live.history.with(|(h, _)| !h.ops.is_empty()).then(|| live.panel(lab))}
    }
    .into_any();
    run.page(ViewFn::from(challenge), highlights.into(), panels)
}

/// The rules and refinements of a Raft run as switches: each broken rule ("broken Raft")
/// and each refinement from Ongaro's dissertation, changing the scenario and re-running it
/// (the learner's interventions are kept).
/// Reads and changes one of a Raft scenario's sets (`broken`, `refinements`).
type SetAccess<T> = (
    fn(&RaftScenario) -> &BTreeSet<T>,
    fn(&mut RaftScenario) -> &mut BTreeSet<T>,
);

#[component]
fn RaftSwitches(lab: Lab<Raft>) -> impl IntoView {
    // A checkbox that flips `x` in one of the scenario's sets (read with `get`, changed
    // with `get_mut`); ticked when `x` is in it
    // (`ticked_when_in`) or when it is not.
    fn switch<T: Ord + Copy + Send + Sync + 'static>(
        lab: Lab<Raft>,
        (get, get_mut): SetAccess<T>,
        x: T,
        ticked_when_in: bool,
        (label, help): (&'static str, &'static str),
    ) -> impl IntoView {
        let on = move || lab.scenario.with(|s| get(s).contains(&x)) == ticked_when_in;
        let toggle = move |_| {
            let mut s = lab.scenario.get_untracked();
            let set = get_mut(&mut s);
            if !set.remove(&x) {
                set.insert(x);
            }
            lab.set_scenario(s);
        };
        view! {
            <label title=help><input type="checkbox" prop:checked=on on:change=toggle />{label}</label>
        }
    }
    let rules = RaftBroken::ALL.map(|b| {
        let text = match b {
            RaftBroken::VoteUpToDateCheck => (
                "Up-to-date check on votes",
                "§5.4.1: refuse a vote to a candidate whose log is behind",
            ),
            RaftBroken::CurrentTermCommit => (
                "Commit only current-term entries",
                "§5.4.2: count replicas only for entries of the leader's term",
            ),
            RaftBroken::PersistVotedFor => (
                "votedFor survives a crash",
                "Figure 2: votedFor is on stable storage",
            ),
            RaftBroken::ReadLeadershipCheck => (
                "Confirm leadership before a read",
                "dissertation §6.4: a read-index read waits for a majority's heartbeat replies",
            ),
        };
        switch(lab, (|s| &s.broken, |s| &mut s.broken), b, false, text)
    });
    let refinements = RaftRefinement::ALL.map(|r| {
        let text = match r {
            RaftRefinement::PreVote => ("Pre-vote", "dissertation §9.6: ask for pre-votes before raising the term"),
            RaftRefinement::CheckQuorum => ("Check quorum", "dissertation §6.2: a leader without a majority steps down; votes are ignored while the leader is heard"),
            RaftRefinement::ReadIndex => ("Read index", "dissertation §6.4: reads skip the log, confirmed by a heartbeat round"),
        };
        switch(lab, (|s| &s.refinements, |s| &mut s.refinements), r, true, text)
    });
    view! {
        <section class="panel raft-switches" aria-labelledby="raft-switches-h">
            <h3 id="raft-switches-h">"Rules and refinements"</h3>
            <div class="switch-group" role="group" aria-label="Raft rules (untick to break one)">
                <span class="switch-head">"Rules (untick to break):"</span>
                {rules}
            </div>
            <div class="switch-group" role="group" aria-label="Raft refinements">
                <span class="switch-head">"Refinements:"</span>
                {refinements}
            </div>
        </section>
    }
}
