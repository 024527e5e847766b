//! `/lesson/:id?step=N`: the narration beside a live lab. The URL follows the step; the
//! learner may leave the script (any intervention) and return to it.

use crate::diagram::{Highlight, SpaceTime};
use crate::engine_lessons::{
    cannot_show, engine_lesson, ClocksLesson, LeaderlessLesson, LessonRun, RaftLesson,
};
use crate::history_panel::LiveHistory;
use crate::isolation::IsolationLesson;
use crate::lab::Lab;
use crate::panels::{
    ClientControls, ModeControl, Operations, Replicas, Topology, Transport, ZoomControl,
};
use crate::paxos_lesson::PaxosLesson;
use crate::share_bar::{
    lab_history, lab_run, lesson_place, link_problem, open_link, Place, ShareBar,
};
use distlab_sim::lesson::question::{Posed, Question};
use distlab_sim::lesson::ResolvedLesson;
use distlab_sim::models::{EngineModel, Replication};
use leptos::ev;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::sync::OnceLock;

/// The built-in lessons, resolved and validated at build time (build.rs), read once.
pub fn lessons() -> &'static [ResolvedLesson] {
    static L: OnceLock<Vec<ResolvedLesson>> = OnceLock::new();
    L.get_or_init(|| {
        // Written by build.rs from the same types: it cannot fail unless the build is broken.
        serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/lessons.json")))
            .unwrap_or_default()
    })
}

/// What the diagram marks in a replication run: stale reads (at their return) and lost
/// writes (at their acknowledgement), each with its explanation for the tooltip.
fn highlights_of(a: &distlab_sim::models::replication::analysis::Analysis) -> Vec<Highlight> {
    let stale = a.stale_reads().filter_map(|r| {
        let (_, step, ..) = r.returned.as_ref()?;
        Some(Highlight {
            step: *step,
            class: "stale",
            text: "stale read".into(),
            why: r.stale.as_ref().map(|s| s.explanation.clone()),
        })
    });
    let lost = a.writes.iter().filter(|w| a.lost_writes.contains(&w.op)).filter_map(|w| {
        let (_, step, _) = w.acked?;
        Some(Highlight {
            step,
            class: "lost",
            text: "lost write".into(),
            why: Some("This write was acknowledged to its client, but the current leader's log does not contain it: the failover lost it.".into()),
        })
    });
    stale.chain(lost).collect()
}

/// Where a key press happened, for deciding whether the lab may take it.
#[derive(Clone, Copy, PartialEq)]
pub enum KeyTarget {
    /// A text field or select: it keeps its keys (except Page Up/Down).
    Field,
    /// A button: it keeps Space and Enter (activation).
    Button,
    /// The page, an SVG mark, a link.
    Page,
    /// With a modifier (Ctrl, Alt, Meta): never ours.
    Other,
}

pub fn key_target(e: &web_sys::KeyboardEvent) -> KeyTarget {
    if e.ctrl_key() || e.meta_key() || e.alt_key() {
        return KeyTarget::Other;
    }
    let tag = e
        .target()
        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        .map(|el| el.tag_name().to_lowercase())
        .unwrap_or_default();
    match tag.as_str() {
        "input" | "select" | "textarea" => KeyTarget::Field,
        "button" => KeyTarget::Button,
        _ => KeyTarget::Page,
    }
}

/// Space play/pause, ←/→ step, Home/End. Returns whether the key was used.
pub fn transport_key<M: EngineModel + 'static>(
    lab: Lab<M>,
    target: KeyTarget,
    e: &web_sys::KeyboardEvent,
) -> bool {
    let key = e.key();
    if matches!(target, KeyTarget::Field | KeyTarget::Other)
        || target == KeyTarget::Button && matches!(key.as_str(), " " | "Enter")
    {
        return false;
    }
    let action: fn(&Lab<M>) = match key.as_str() {
        " " => Lab::toggle_play,
        "ArrowRight" => Lab::step_forward,
        "ArrowLeft" => Lab::step_back,
        "Home" => Lab::go_to_start,
        "End" => Lab::go_to_end,
        _ => return false,
    };
    action(&lab);
    true
}

/// Parses the `step` query value (1-based) against a lesson with `n` steps.
pub fn parse_step(raw: Option<&str>, n: usize) -> Result<usize, String> {
    match raw {
        None | Some("") => Ok(0),
        Some(s) => match s.trim().parse::<usize>() {
            Ok(k) if (1..=n).contains(&k) => Ok(k - 1),
            Ok(k) => Err(format!(
                "This lesson has steps 1 to {n}; there is no step {k}."
            )),
            Err(_) => Err(format!(
                "\"{s}\" is not a step number: this lesson has steps 1 to {n}."
            )),
        },
    }
}

#[component]
pub fn LessonPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    move || {
        let id = id.get();
        // Built-in lessons first; an imported lesson never shadows one (see `author`).
        if let Some(lesson) = lessons().iter().find(|l| l.id == id) {
            return view! { <LessonView lesson=lesson.clone() /> }.into_any();
        }
        match crate::author::find_imported(&id) {
            Some(crate::author::ImportedEntry { resolved: Ok(lesson), .. }) => {
                view! { <LessonView lesson=lesson /> }.into_any()
            }
            Some(crate::author::ImportedEntry { resolved: Err(p), stored }) => view! {
                <main class="message-page" role="alert">
                    <h1>"This imported lesson no longer opens"</h1>
                    <p>{format!("\"{}\" (imported from {}): {}", stored.title, stored.origin, p.describe())}</p>
                    <p><A href=format!("/lessons/open?edit={id}")>"Fix it on the lessons page"</A>" · "<A href="/course">"The course"</A></p>
                </main>
            }
            .into_any(),
            None => view! {
                <main class="message-page" role="alert">
                    <h1>"No such lesson"</h1>
                    <p>{format!("There is no lesson called \"{id}\" here. An imported lesson lives in the browser it was opened in: open its file again on the lessons page.")}</p>
                    <p><A href="/">"← All lessons"</A>" · "<A href="/lessons/open">"Open a lesson file"</A></p>
                </main>
            }
            .into_any(),
        }
    }
}

#[component]
fn LessonView(lesson: ResolvedLesson) -> impl IntoView {
    match lesson.model.as_str() {
        "isolation" => view! { <IsolationLesson lesson=lesson /> }.into_any(),
        "clocks" => view! { <ClocksLesson lesson=lesson /> }.into_any(),
        "leaderless" => view! { <LeaderlessLesson lesson=lesson /> }.into_any(),
        "raft" => view! { <RaftLesson lesson=lesson /> }.into_any(),
        "paxos" => view! { <PaxosLesson lesson=lesson /> }.into_any(),
        "failure-detector" => {
            view! { <crate::failure_detector_lesson::FailureDetectorLesson lesson=lesson /> }
                .into_any()
        }
        "quorum" => view! { <crate::quorum_lesson::QuorumLesson lesson=lesson /> }.into_any(),
        "twopc" => view! { <crate::twopc_lesson::TwoPcLesson lesson=lesson /> }.into_any(),
        "gossip" => view! { <crate::gossip_lesson::GossipLesson lesson=lesson /> }.into_any(),
        _ => view! { <ReplicationLesson lesson=lesson /> }.into_any(),
    }
}

/// A lesson's step (from `?step=N`) and moving between steps.
#[derive(Clone, Copy)]
pub struct StepNav {
    pub lesson: StoredValue<ResolvedLesson>,
    /// 0-based, or why the URL's step is not one.
    pub step: Memo<Result<usize, String>>,
    pub next: Callback<()>,
    pub back: Callback<()>,
}

/// Reads the step from the URL and builds the callbacks that change it.
pub fn step_nav(lesson: ResolvedLesson) -> StepNav {
    let query = use_query_map();
    let n = lesson.steps.len();
    let id = lesson.id.clone();
    let step = Memo::new(move |_| parse_step(query.read().get("step").as_deref(), n));
    // Course progress: every step shown is recorded; challenges report through the context.
    provide_context(crate::course::CurrentLesson(id.clone()));
    let visited = id.clone();
    Effect::new(move |_| {
        if let Ok(i) = step.get() {
            crate::course::record_visit(&visited, i);
        }
    });
    let navigate = use_navigate();
    let go = StoredValue::new(move |i: usize| {
        navigate(&format!("/lesson/{id}?step={}", i + 1), Default::default())
    });
    let next = Callback::new(move |()| {
        if let Ok(i) = step.get_untracked() {
            if i + 1 < n {
                go.with_value(|g| g(i + 1))
            }
        }
    });
    let back = Callback::new(move |()| {
        if let Ok(i) = step.get_untracked() {
            if i > 0 {
                go.with_value(|g| g(i - 1))
            }
        }
    });
    StepNav {
        lesson: StoredValue::new(lesson),
        step,
        next,
        back,
    }
}

/// Page Up / Page Down move between lesson steps (presenter remotes send these). Returns
/// whether the key was used.
pub fn page_key(nav: StepNav, e: &web_sys::KeyboardEvent) -> bool {
    if key_target(e) == KeyTarget::Other {
        return false;
    }
    match e.key().as_str() {
        "PageDown" => nav.next.run(()),
        "PageUp" => nav.back.run(()),
        _ => return false,
    }
    true
}

/// The narration column: the step's title and text, its challenge, Back / Next and the
/// step list.
#[component]
pub fn Narration(
    nav: StepNav,
    #[prop(into)] challenge: ViewFn,
    /// The step's question posed on its run (engine lessons); without it only
    /// multiple-choice questions can be posed.
    #[prop(optional)]
    posed: Option<Memo<Option<Result<Posed, String>>>>,
) -> impl IntoView {
    let lesson = nav.lesson;
    let n = lesson.with_value(|l| l.steps.len());
    let id = lesson.with_value(|l| l.id.clone());
    let title = lesson.with_value(|l| l.title.clone());
    let step_body = move || {
        match nav.step.get() {
        Err(msg) => view! {
            <div class="step-error" role="alert">
                <h2>"No such step"</h2>
                <p>{msg}</p>
                <p><A href=format!("/lesson/{}?step=1", id)>"Go to step 1"</A>" · "<A href="/">"All lessons"</A></p>
            </div>
        }
        .into_any(),
        Ok(i) => {
            let (t, html) =
                lesson.with_value(|l| (l.steps[i].title.clone(), l.steps[i].html.clone()));
            let challenge = challenge.clone();
            view! {
                <div class="step">
                    <p class="step-count">{format!("Step {} of {n}", i + 1)}</p>
                    <h2>{t}</h2>
                    <div class="narration-text" inner_html=html></div>
                    {lesson.with_value(|l| l.steps[i].question.clone()).map(|q| {
                        let posed = move || match posed {
                            Some(p) => p.get(),
                            None => Some(q.pose(None)),
                        };
                        let q = lesson.with_value(|l| l.steps[i].question.clone());
                        move || q.clone().zip(posed()).map(|(q, p)| view! { <QuestionBox question=q posed=p /> })
                    })}
                    {move || challenge.run()}
                    <div class="step-nav">
                        <button aria-label="Back" disabled={i == 0} on:click=move |_| nav.back.run(())>"← Back"</button>
                        <button aria-label="Next" class="primary" disabled={i + 1 >= n} on:click=move |_| nav.next.run(())>"Next →"</button>
                    </div>
                    <ol class="step-dots" aria-label="Steps">
                        {(0..n).map(|k| {
                            let (href, t) = lesson.with_value(|l| (format!("/lesson/{}?step={}", l.id, k + 1), l.steps[k].title.clone()));
                            view! { <li class:current=k == i><A href=href attr:title=t.clone() attr:aria-label=format!("Step {}: {t}", k + 1)>{(k + 1).to_string()}</A></li> }
                        }).collect_view()}
                    </ol>
                </div>
            }
            .into_any()
        }
    }
    };
    view! {
        <aside class="narration" aria-label="Lesson">
            <p class="crumbs"><A href="/">"Distlab"</A>" / "<span>{title}</span></p>
            {step_body}
        </aside>
    }
}

/// A step's question: the options (radio buttons, or check boxes when several are right),
/// "Check answer", then every option marked right or wrong, the computed reason and the
/// author's explanation. "Try again" hides the answer.
#[component]
fn QuestionBox(question: Question, posed: Result<Posed, String>) -> impl IntoView {
    let posed = match posed {
        Ok(p) => p,
        Err(e) => {
            return view! {
                <section class="question" role="alert">
                    <h3>"Question"</h3>
                    <p>{format!("This question cannot be asked on this run: {e}")}</p>
                </section>
            }
            .into_any()
        }
    };
    let picked = RwSignal::new(Vec::<usize>::new());
    let revealed = RwSignal::new(false);
    let posed = StoredValue::new(posed);
    let multiple = posed.with_value(|p| p.multiple);
    let options = posed.with_value(|p| p.options.clone());
    let toggle = move |k: usize, on: bool| {
        picked.update(|v| {
            if !multiple {
                v.clear();
            }
            v.retain(|&x| x != k);
            if on {
                v.push(k);
            }
        })
    };
    let rows = options
        .into_iter()
        .enumerate()
        .map(|(k, text)| {
            let right = posed.with_value(|p| p.correct.contains(&k));
            let is_picked = move || picked.with(|v| v.contains(&k));
            let mark = move || {
                revealed.get().then(|| match (right, is_picked()) {
                    (true, true) => ("mark right", "✓ right"),
                    (true, false) => ("mark missed", "✓ the answer"),
                    (false, true) => ("mark wrong", "✗ wrong"),
                    (false, false) => ("mark", ""),
                })
            };
            view! {
                <li class="option" class:right=move || revealed.get() && right class:wrong=move || revealed.get() && !right && is_picked()>
                    <label>
                        <input type=if multiple { "checkbox" } else { "radio" } name="question-option"
                            prop:checked=is_picked disabled=move || revealed.get()
                            on:change=move |ev| toggle(k, event_target_checked(&ev)) />
                        <span>{text}</span>
                    </label>
                    {move || mark().map(|(class, t)| view! { <span class=class>{t}</span> })}
                </li>
            }
        })
        .collect_view();
    let verdict = move || {
        revealed.get().then(|| {
            let right = picked.with(|v| posed.with_value(|p| p.is_right(v)));
            let why = posed.with_value(|p| p.why.clone());
            view! {
                <p class="verdict" class:right=right>
                    {if right { "✓ Right." } else if multiple { "✗ Not quite: the right answers are marked." } else { "✗ Not quite: the right answer is marked." }}
                </p>
                {why.map(|w| view! { <p class="why">{w}</p> })}
                {question.explain.clone().map(|h| view! { <div class="explain" inner_html=h></div> })}
            }
        })
    };
    view! {
        <section class="question" aria-labelledby="question-h">
            <h3 id="question-h">"Question"</h3>
            <div class="question-text" inner_html=question.html.clone()></div>
            <div role="group" aria-labelledby="question-h"><ul class="options">{rows}</ul></div>
            <div class="question-actions">
                {move || if revealed.get() {
                    view! { <button on:click=move |_| { revealed.set(false); picked.set(Vec::new()) }>"Try again"</button> }.into_any()
                } else {
                    view! { <button class="primary" disabled=move || picked.with(Vec::is_empty) on:click=move |_| revealed.set(true)>"Check answer"</button> }.into_any()
                }}
            </div>
            <div role="status" aria-live="polite">{verdict}</div>
        </section>
    }
    .into_any()
}

/// "You are experimenting" with the way back to the lesson's own run.
pub fn experimenting_banner(back: impl Fn(ev::MouseEvent) + 'static) -> impl IntoView {
    view! {
        <div class="experimenting" role="status">
            <span>"You are experimenting: this run is yours, not the lesson's."</span>
            <button on:click=back>"Return to the lesson"</button>
        </div>
    }
}

/// The hint button of a challenge.
pub fn hint_view(hint: Option<String>) -> impl IntoView {
    let show_hint = RwSignal::new(false);
    hint.map(|h| view! {
        <p>
            <button class="link" on:click=move |_| show_hint.update(|v| *v = !*v)>{move || if show_hint.get() { "Hide hint" } else { "Show a hint" }}</button>
            <span class="hint-text" class:hidden=move || !show_hint.get()>{h}</span>
        </p>
    })
}

#[component]
fn ReplicationLesson(lesson: ResolvedLesson) -> impl IntoView {
    let LessonRun {
        nav,
        lab,
        step_run,
        reload,
        posed,
        experimenting,
        ..
    } = match engine_lesson::<Replication>(lesson, |s| {
        s.replication().map(|(a, b)| (a.clone(), b.to_vec()))
    }) {
        Ok(x) => x,
        Err(e) => return cannot_show(e),
    };
    let (lesson, step) = (nav.lesson, nav.step);

    let highlights = Memo::new(move |_| lab.analysis.with(highlights_of));
    let back_to_lesson = move |_| reload.run(());

    let challenge = move || {
        let i = step.get().ok()?;
        let c = lesson.with_value(|l| l.steps[i].challenge.clone())?;
        let (scn, _) = step_run.get()?;
        let same_mode = lab.scenario.with(|s| s == &scn);
        let met = same_mode && lab.analysis.with(|a| c.met_by(&scn, a));
        crate::course::note_challenge(met);
        Some(view! {
            <div class="challenge" class:met=met role="status" aria-live="polite">
                <strong>{if met { "✓ Challenge solved!" } else { "Challenge: not solved yet" }}</strong>
                {(!same_mode).then(|| view! { <p>"Set the replication mode back to this step's to count."</p> })}
                {hint_view(c.hint.clone())}
            </div>
        })
    };

    view! {
        <div class="lesson-layout">
            <Narration nav=nav challenge=challenge posed=posed />
            <LabView lab=lab highlights=highlights place=lesson_place(nav) banner=move || experimenting.get().then(|| experimenting_banner(back_to_lesson)) />
        </div>
    }
    .into_any()
}

/// The lab itself: transport and options, the share bar, an optional banner, notices, the
/// diagram and the panels. Shared by lessons and the free lab.
#[component]
fn LabView(
    lab: Lab,
    highlights: Memo<Vec<Highlight>>,
    /// The page a shared link opens.
    #[prop(into)]
    place: Signal<Place>,
    #[prop(optional, into)] banner: ViewFn,
) -> impl IntoView {
    let live = LiveHistory::new(
        lab,
        distlab_sim::models::history::replication,
        distlab_sim::linearizability::Model::Register,
    );
    let highlights = Memo::new(move |_| {
        let mut h = highlights.get();
        live.add_to(&mut h);
        h
    });
    view! {
        <main class="lab">
            <div class="lab-bar">
                <Transport lab=lab />
                <div class="lab-options"><ZoomControl lab=lab /><ModeControl lab=lab /></div>
            </div>
            <ShareBar run=lab_run(lab) place=place history=lab_history(lab, distlab_sim::models::history::replication) />
            {move || banner.run()}
            {move || lab.notice.get().map(|m| view! {
                <div class="notice" role="alert">{m}<button class="close" aria-label="Dismiss" on:click=move |_| lab.notice.set(None)>"×"</button></div>
            })}
            <SpaceTime data=lab.diagram_view(highlights.into()) />
            <div class="panels">
                <Replicas lab=lab />
                <Operations lab=lab />
                <Topology lab=lab />
                <ClientControls lab=lab />
                {move || live.history.with(|(h, _)| !h.ops.is_empty()).then(|| live.panel(lab))}
            </div>
        </main>
    }
}

/// `/lab/:preset`: the lab without narration, on a ready-made scenario.
#[component]
pub fn FreeLab() -> impl IntoView {
    use distlab_sim::models::replication::presets::preset;
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.read().get("preset").unwrap_or_default());
    move || {
        let id = id.get();
        let Some(p) = preset(&id) else {
            return view! {
                <div class="message-page" role="alert">
                    <h1>"No such lab"</h1>
                    <p>{format!("There is no lab preset called \"{id}\".")}</p>
                    <p><A href="/">"← Back to Distlab"</A></p>
                </div>
            }
            .into_any();
        };
        let lab = match Lab::new(p.scenario, p.interventions) {
            Ok(l) => l,
            Err(e) => {
                return view! { <div class="message-page" role="alert"><p>{e}</p></div> }.into_any()
            }
        };
        // A shared link (`?run=<code>`) opens its run instead of the preset's.
        if let Some(code) = query.read_untracked().get("run") {
            if let Err(e) = open_link(lab, &code) {
                lab.notice.set(Some(link_problem(&e, "the lab's own run")));
            }
        }
        let place = Place::page(
            &format!("/lab/{}", p.id),
            "",
            &format!("Lab: {}", p.title),
            p.id,
        );
        crate::present::offer_prepared(lab);
        let handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
            if transport_key(lab, key_target(&e), &e)
                || crate::present::prepared_key(lab, key_target(&e), &e)
            {
                e.prevent_default();
            }
        });
        on_cleanup(move || handle.remove());
        let highlights = Memo::new(move |_| lab.analysis.with(highlights_of));
        view! {
            <div class="free-lab">
                <header class="free-head"><p class="crumbs"><A href="/">"Distlab"</A>" / lab / "{p.title}</p><p class="hint">{p.summary}</p></header>
                <LabView lab=lab highlights=highlights place=place />
            </div>
        }
        .into_any()
    }
}
