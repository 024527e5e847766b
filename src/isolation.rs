//! The isolation-levels lab (`/isolation/:preset?level=rc&compare=ser&line=N`): two or three
//! sessions' SQL stepped one submitted line at a time on the simulated PostgreSQL store,
//! with the row versions (xmin / xmax), each transaction's snapshot, the lock table and who
//! waits for whom, and the dependency graph with any cycle named. A level switch re-runs
//! the same script; a second level can be shown side by side.
//!
//! The state after line N is the run of the script's first N session lines (the store is
//! deterministic, so a prefix run is exactly the state at that point).

use crate::share_bar::{lesson_place, link_problem, IsolationRun, Place, ShareBar};
use distlab_sim::models::txn::ast::{IsolationLevel, Value};
use distlab_sim::models::txn::dsg::{analyze, Analysis, DepKind, Edge};
use distlab_sim::models::txn::history::History;
use distlab_sim::models::txn::presets::{preset, Preset, PRESETS};
use distlab_sim::models::txn::run::{run_script, RunResult, StatementResult};
use distlab_sim::models::txn::script::{parse_script_lenient, Script};
use distlab_sim::models::txn::ssi::Target;
use distlab_sim::models::txn::store::{Outcome, Store, TxnStatus, Xid};
use distlab_sim::share::RunLink;
use leptos::ev;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::BTreeMap;

/// The levels in the switch: URL key, label.
const LEVELS: [(&str, IsolationLevel, &str); 5] = [
    ("ru", IsolationLevel::ReadUncommitted, "Read uncommitted"),
    ("rc", IsolationLevel::ReadCommitted, "Read committed"),
    ("rr", IsolationLevel::RepeatableRead, "Repeatable read"),
    ("ser", IsolationLevel::Serializable, "Serializable (SSI)"),
    ("2pl", IsolationLevel::Serializable2pl, "Serializable (2PL)"),
];

fn level_key(l: IsolationLevel) -> &'static str {
    LEVELS.iter().find(|x| x.1 == l).map_or("rc", |x| x.0)
}

fn level_of(key: &str) -> Option<IsolationLevel> {
    LEVELS.iter().find(|x| x.0 == key).map(|x| x.1)
}

fn level_label(l: IsolationLevel) -> &'static str {
    LEVELS.iter().find(|x| x.1 == l).map_or("?", |x| x.2)
}

/// What the learner should know about a level (and its source).
fn level_note(l: IsolationLevel) -> &'static str {
    match l {
        IsolationLevel::ReadUncommitted => "Textbook READ UNCOMMITTED: reads see uncommitted writes. PostgreSQL itself runs READ UNCOMMITTED as READ COMMITTED (docs 13.2), so this level is not what PostgreSQL would do.",
        IsolationLevel::ReadCommitted => "PostgreSQL's default (docs 13.2.1): each statement sees a new snapshot; a write that waited re-checks its WHERE clause on the newest row version.",
        IsolationLevel::RepeatableRead => "Snapshot isolation (docs 13.2.2): one snapshot for the whole transaction; the second writer of a row fails with 40001 (first updater wins).",
        IsolationLevel::Serializable => "PostgreSQL's SERIALIZABLE (docs 13.2.3): snapshot isolation plus SIREAD locks that track read/write dependencies and abort one transaction of any dangerous structure.",
        IsolationLevel::Serializable2pl => "Not in PostgreSQL: strict two-phase locking. Reads take shared locks (and predicate locks on their WHERE clause) held to commit; writers wait for readers, so conflicts become waits and deadlocks instead of serialization errors.",
    }
}

/// One computed state: the run of the first `line` session lines at `level`.
#[derive(Clone)]
struct State {
    script: Script,
    /// The run of the prefix (statements of the first `line` lines).
    run: RunResult,
    /// The run's Adya history (computed once; the graph's edge descriptions read it).
    history: History,
    analysis: Analysis,
    line: usize,
}

fn compute(script: &Script, level: IsolationLevel, line: usize) -> Result<State, String> {
    let mut prefix = script.clone();
    prefix.steps.truncate(line);
    let run = run_script(&prefix, level)?;
    let history = run.store.history();
    let analysis = analyze(&history);
    Ok(State {
        script: script.clone(),
        run,
        history,
        analysis,
        line,
    })
}

/// `/isolation/:preset`.
#[component]
pub fn IsolationPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("preset").unwrap_or_default());
    move || {
        let id = id.get();
        match preset(&id) {
            Some(p) => view! { <IsolationLab preset=*p /> }.into_any(),
            None => view! {
                <div class="message-page" role="alert">
                    <h1>"No such scenario"</h1>
                    <p>{format!("There is no isolation scenario called \"{id}\". Try one of these:")}</p>
                    <ul>{PRESETS.iter().map(|p| view! { <li><A href=format!("/isolation/{}", p.id)>{p.title}</A></li> }).collect_view()}</ul>
                    <p><A href="/">"← Back to Distlab"</A></p>
                </div>
            }
            .into_any(),
        }
    }
}

#[component]
fn IsolationLab(preset: Preset) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let text = RwSignal::new(preset.script.to_string());
    // A shared link (`run=<code>`) brings its own script; its level and line are in the
    // address too.
    let link_error = RwSignal::new(None::<String>);
    if let Some(code) = query.read_untracked().get("run") {
        match RunLink::decode(&code).and_then(|l| IsolationRun::of_link(&l)) {
            Ok((run, _)) => text.set(run.script),
            Err(e) => link_error.set(Some(link_problem(&e, "the scenario's own script"))),
        }
    }
    let level = Signal::derive(move || {
        query
            .read()
            .get("level")
            .and_then(|k| level_of(&k))
            .unwrap_or(IsolationLevel::ReadCommitted)
    });
    let compare = Signal::derive(move || query.read().get("compare").and_then(|k| level_of(&k)));
    let line = Signal::derive(move || {
        query
            .read()
            .get("line")
            .and_then(|l| l.parse::<usize>().ok())
    });
    let id = preset.id;
    let set = Callback::new(
        move |(level, compare, line): (IsolationLevel, Option<IsolationLevel>, usize)| {
            let mut url = format!("/isolation/{id}?level={}&line={line}", level_key(level));
            if let Some(c) = compare {
                url.push_str(&format!("&compare={}", level_key(c)));
            }
            navigate(&url, Default::default());
        },
    );
    let place = Signal::derive(move || {
        let mut q = format!("level={}", level_key(level.get()));
        if let Some(l) = line.get() {
            q.push_str(&format!("&line={l}"));
        }
        if let Some(c) = compare.get() {
            q.push_str(&format!("&compare={}", level_key(c)));
        }
        Place::page(
            &format!("/isolation/{id}"),
            &q,
            &format!("Isolation: {}", preset.title),
            id,
        )
    });
    let scenario_select = move || {
        view! {
            <label class="mode">"Scenario "
                <select aria-label="Scenario" on:change=move |e| {
                    let v = event_target_value(&e);
                    let url = format!("/isolation/{v}?level={}&line=0", level_key(level.get_untracked()));
                    use_navigate()(&url, Default::default());
                }>
                    {PRESETS.iter().map(|p| view! { <option value=p.id selected=p.id == id>{p.title}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        <div class="iso">
            <header class="free-head">
                <p class="crumbs"><A href="/">"Distlab"</A>" / isolation levels / "{preset.title}</p>
                <h1 class="iso-title">{preset.title}<span class="summary">{preset.phenomenon}</span></h1>
                <p class="hint">{preset.summary}</p>
            </header>
            <ShareBar run=isolation_run(text, level, compare, line) place=place diagram=false />
            {move || link_error.get().map(|e| view! { <p class="notice" role="alert">{e}</p> })}
            <Workbench text=text original=Signal::stored(preset.script.to_string())
                level=level compare=compare line=line set=set bar_extra=scenario_select />
        </div>
    }
}

/// The share bar's run of an isolation lab or lesson: the script, the levels and the line.
fn isolation_run(
    text: RwSignal<String>,
    level: Signal<IsolationLevel>,
    compare: Signal<Option<IsolationLevel>>,
    line: Signal<Option<usize>>,
) -> Callback<(), RunLink> {
    Callback::new(move |()| {
        IsolationRun {
            script: text.get_untracked(),
            level: level.get_untracked(),
            compare: compare.get_untracked(),
        }
        .link(line.get_untracked())
    })
}

/// The isolation lab without its page: the step controls, the level switch and side by
/// side, each level's run at the current line, and the script editor. Used by the lab page
/// (state in the URL) and by isolation lessons (state in the lesson).
///
/// `text` is the script being run; `original` what "Restore" brings back; `line` the number
/// of session lines submitted (`None`: all of them; clamped to the script); `set` is called
/// with a new level, comparison level and line.
#[component]
pub fn Workbench(
    text: RwSignal<String>,
    #[prop(into)] original: Signal<String>,
    #[prop(into)] level: Signal<IsolationLevel>,
    #[prop(into)] compare: Signal<Option<IsolationLevel>>,
    #[prop(into)] line: Signal<Option<usize>>,
    set: Callback<(IsolationLevel, Option<IsolationLevel>, usize)>,
    #[prop(optional, into)] bar_extra: ViewFn,
    #[prop(optional, into)] banner: ViewFn,
    /// Open the script editor (e.g. for a challenge).
    #[prop(optional, into)]
    editor_open: Signal<bool>,
) -> impl IntoView {
    let draft = RwSignal::new(text.get_untracked());
    // The editor follows the script whenever it is replaced from outside (a lesson step).
    Effect::new(move |_| draft.set(text.get()));
    let edited = RwSignal::new(false);
    let parsed = Memo::new(move |_| text.with(|t| parse_script_lenient(t)));
    let total = Memo::new(move |_| parsed.with(|p| p.as_ref().map_or(0, |s| s.steps.len())));
    let line = Memo::new(move |_| {
        let n = total.get();
        line.get().map_or(n, |l| l.min(n))
    });
    let set_line = move |l: usize| set.run((level.get_untracked(), compare.get_untracked(), l));
    let step = move |d: i64| {
        let n = total.get_untracked() as i64;
        let l = (line.get_untracked() as i64 + d).clamp(0, n) as usize;
        set_line(l);
    };

    let handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
        let typing = e
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT"));
        if typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        match e.key().as_str() {
            "ArrowRight" => step(1),
            "ArrowLeft" => step(-1),
            "Home" => set_line(0),
            "End" => set_line(total.get_untracked()),
            _ => return,
        }
        e.prevent_default();
    });
    on_cleanup(move || handle.remove());

    let state_at = move |lv: IsolationLevel| {
        Signal::derive(move || {
            let l = line.get();
            parsed.with(|p| match p {
                Ok(s) => compute(s, lv, l).map(Some),
                Err(e) => Err(format!("The script cannot run: {e}")),
            })
        })
    };

    view! {
        <div class="iso-bar">
            <nav class="transport" aria-label="Steps">
                <button on:click=move |_| set_line(0) aria-label="Go to start" disabled=move || line.get() == 0>"« Start"</button>
                <button on:click=move |_| step(-1) aria-label="Step back" disabled=move || line.get() == 0>"◀ Back"</button>
                <button class="primary" on:click=move |_| step(1) aria-label="Step forward: next statement" disabled=move || { line.get() >= total.get() }>"Next statement ▶"</button>
                <button on:click=move |_| set_line(total.get_untracked()) aria-label="Go to end" disabled=move || { line.get() >= total.get() }>"End »"</button>
                <span class="line-count" aria-live="polite">{move || format!("{} of {} statements submitted", line.get(), total.get())}</span>
            </nav>
            {move || bar_extra.run()}
        </div>
        <fieldset class="levels">
            <legend>"Isolation level"</legend>
            {LEVELS.iter().map(|(k, l, label)| {
                let l = *l;
                view! {
                    <label class="level-choice">
                        <input type="radio" name="level" value=*k
                            prop:checked=move || level.get() == l
                            on:change=move |_| set.run((l, compare.get_untracked(), line.get_untracked())) />
                        {*label}
                    </label>
                }
            }).collect_view()}
            <label class="mode compare">"Side by side with "
                <select aria-label="Compare with" on:change=move |e| {
                    let v = event_target_value(&e);
                    set.run((level.get_untracked(), level_of(&v), line.get_untracked()));
                }>
                    <option value="" selected=move || compare.get().is_none()>"—"</option>
                    {LEVELS.iter().map(|(k, l, label)| {
                        let l = *l;
                        view! { <option value=*k selected=move || compare.get() == Some(l)>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <p class="level-note">{move || level_note(level.get())}</p>
        </fieldset>
        {move || banner.run()}
        {move || {
            let left = state_at(level.get());
            match compare.get() {
                None => view! { <RunView state=left level=level.get() full=true /> }.into_any(),
                Some(c) => {
                    let right = state_at(c);
                    view! {
                        <div class="side-by-side">
                            <RunView state=left level=level.get() full=false />
                            <RunView state=right level=c full=false />
                        </div>
                    }.into_any()
                }
            }
        }}
        <details class="panel editor" prop:open=move || edited.get() || editor_open.get()>
            <summary>"Edit the script"</summary>
            <p class="hint">"One statement per line: "<code>"setup: …;"</code>" lines first, then "<code>"T1: …;"</code>", "<code>"T2: …;"</code>" in the order they are submitted. Sessions that BEGIN without a level use the level chosen above. A line with bad SQL fails in its session, as in psql."</p>
            <textarea aria-label="Script" rows="14" spellcheck="false"
                prop:value=move || draft.get()
                on:input=move |e| draft.set(event_target_value(&e))></textarea>
            <div class="form-row">
                <button class="primary" on:click=move |_| {
                    edited.set(true);
                    text.set(draft.get_untracked());
                    set_line(0);
                }>"Run this script"</button>
                <button on:click=move |_| {
                    draft.set(original.get_untracked());
                    text.set(original.get_untracked());
                }>"Restore the scenario"</button>
            </div>
            {move || parsed.with(|p| p.as_ref().err().map(|e| view! {
                <p class="notice" role="alert">{format!("Line {}, column {}: {}. The rest of the script is kept; fix the line and run again.", e.line, e.column, e.message)}</p>
            }))}
        </details>
    }
}

/// Everything about one level's run at the current line.
#[component]
fn RunView(
    state: Signal<Result<Option<State>, String>>,
    level: IsolationLevel,
    full: bool,
) -> impl IntoView {
    move || match state.get() {
        Err(e) => view! { <p class="notice" role="alert">{e}</p> }.into_any(),
        Ok(None) => view! { <p class="empty">"Nothing to run."</p> }.into_any(),
        Ok(Some(s)) => {
            let verdict = verdict(&s.analysis, s.line >= s.script.steps.len());
            let dirty = dirty_note(&s.run.store);
            view! {
                <section class="run" aria-label=format!("Run at {}", level_label(level))>
                    <h2 class="run-title">{level_label(level)}</h2>
                    {match dirty {
                        Some(d) if s.analysis.findings.is_empty() => view! { <p class="verdict warn" role="status">{d}</p> }.into_any(),
                        _ => view! { <p class=if s.analysis.findings.is_empty() { "verdict ok" } else { "verdict bad" } role="status">{verdict}</p> }.into_any(),
                    }}
                    <Sessions state=s.clone() />
                    <div class="panels iso-panels">
                        <Versions store=s.run.store.clone() />
                        <DependencyGraph state=s.clone() />
                        {full.then(|| view! {
                            <Snapshots store=s.run.store.clone() />
                            <Locks state=s.clone() />
                        })}
                    </div>
                </section>
            }
            .into_any()
        }
    }
}

/// The checker's verdict in words; `complete`: every line has been submitted.
fn verdict(a: &Analysis, complete: bool) -> String {
    if a.findings.is_empty() {
        format!(
            "No anomaly{}: the committed transactions have no dependency cycle.",
            if complete { "" } else { " so far" }
        )
    } else {
        let names: Vec<String> = a
            .findings
            .iter()
            .map(|f| format!("{} ({})", f.phenomenon.name(), f.phenomenon.code()))
            .collect();
        format!("Anomaly: {}", names.join(", "))
    }
}

/// Dirty reads by transactions that have not finished yet (the checker sees them only once
/// the reader commits).
fn dirty_note(store: &Store) -> Option<String> {
    let open: Vec<String> = store
        .dirty_reads()
        .into_iter()
        .filter(|(r, _)| {
            store
                .txns
                .get(r)
                .is_some_and(|t| t.status == TxnStatus::InProgress)
        })
        .map(|(r, w)| {
            format!(
                "{} read data {} has not committed",
                who(store, r),
                who(store, w)
            )
        })
        .collect();
    (!open.is_empty()).then(|| {
        format!(
            "Dirty read: {}. The dependency graph judges committed transactions, so it will name this once the reader commits.",
            open.join("; ")
        )
    })
}

fn sessions_of(script: &Script) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in &script.steps {
        if let Some(s) = &l.session {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// What a blocked statement waits for, in words.
fn waiting_text(r: &StatementResult) -> String {
    let who = r
        .blocked_by
        .clone()
        .unwrap_or_else(|| "another transaction".into());
    if r.in_line {
        format!("⏳ waiting behind {who}, which is first in line for the same row")
    } else {
        format!("⏳ waiting for {who} (its lock)")
    }
}

fn result_view(r: &StatementResult, queued_behind: bool) -> AnyView {
    match &r.result {
        None if r.blocked => view! {
            <p class="res waiting">{waiting_text(r)}</p>
        }
        .into_any(),
        None => view! {
            <p class="res waiting">{if queued_behind { "⏳ queued: this session is still waiting, so the line runs when it is free" } else { "⏳ queued" }}</p>
        }
        .into_any(),
        Some(res) => {
            let waited = r
                .blocked
                .then(|| format!("waited for {}, then: ", r.blocked_by.clone().unwrap_or_default()));
            let body = match res {
                Ok(Outcome::Rows { columns, rows }) => view! {
                    <table class="rows">
                        <thead><tr>{columns.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}</tr></thead>
                        <tbody>{rows.iter().map(|row| view! { <tr>{row.iter().map(|v| view! { <td>{v.to_string()}</td> }).collect_view()}</tr> }).collect_view()}</tbody>
                    </table>
                    {rows.is_empty().then(|| view! { <span class="empty">"(no rows)"</span> })}
                }
                .into_any(),
                Ok(Outcome::Affected { command, count }) => view! { <span class="ok">{format!("{command} {count}")}</span> }.into_any(),
                Ok(Outcome::Done { command }) => view! { <span class="ok">{command.to_string()}</span> }.into_any(),
                Err(e) => view! { <span class="err">{format!("ERROR {}: {}", e.sqlstate, e.message)}</span> }.into_any(),
            };
            view! { <div class="res">{waited.map(|w| view! { <span class="waited">{w}</span> })}{body}</div> }.into_any()
        }
    }
}

/// One column per session; one row per script line, in submission order.
#[component]
fn Sessions(state: State) -> impl IntoView {
    let names = sessions_of(&state.script);
    // A session with only a line or two (a final check, say) gets a narrower column.
    let widths: Vec<String> = names
        .iter()
        .map(|n| {
            let lines = state
                .script
                .steps
                .iter()
                .filter(|l| l.session.as_deref() == Some(n.as_str()))
                .count();
            format!("minmax(0, {}fr)", if lines <= 2 { "0.7" } else { "1" })
        })
        .collect();
    let style = format!(
        "grid-template-columns: 3.2rem {};",
        if widths.is_empty() {
            "minmax(0, 1fr)".to_string()
        } else {
            widths.join(" ")
        }
    );
    let waiting: Vec<String> = state
        .run
        .statements
        .iter()
        .filter(|s| s.result.is_none() && s.blocked)
        .map(|s| s.session.clone())
        .collect();
    let rows = state.script.steps.iter().enumerate().map(|(i, l)| {
        let session = l.session.clone().unwrap_or_default();
        let col = names.iter().position(|n| *n == session).unwrap_or(0) + 2;
        let submitted = i < state.line;
        let current = i + 1 == state.line;
        let cell = if submitted {
            state.run.statements.get(i).map(|r| result_view(r, waiting.contains(&session)))
        } else {
            None
        };
        let class = format!(
            "stmt{}{}",
            if submitted { "" } else { " future" },
            if current { " current" } else { "" }
        );
        view! {
            <div class="lineno" style=format!("grid-row: {}; grid-column: 1;", i + 2)>{l.line}</div>
            <div class=class style=format!("grid-row: {}; grid-column: {col};", i + 2)
                data-session=session.clone() aria-current=current.then_some("step")>
                <code class="sql">{l.sql.clone()}</code>
                {cell}
            </div>
        }
    }).collect_view();
    view! {
        <div class="sessions" style=style role="group" aria-label="Sessions">
            <div class="lineno head" style="grid-row: 1; grid-column: 1;">"line"</div>
            {names.iter().enumerate().map(|(i, n)| view! {
                <div class="session-head" style=format!("grid-row: 1; grid-column: {};", i + 2)>{n.clone()}</div>
            }).collect_view()}
            {rows}
        </div>
    }
}

fn who(store: &Store, x: Xid) -> String {
    match store.txns.get(&x) {
        Some(t) => format!("{} ({x})", t.session),
        None => x.to_string(),
    }
}

/// Row versions with xmin / xmax, as PostgreSQL keeps them.
#[component]
fn Versions(store: Store) -> impl IntoView {
    let status = |x: Xid| store.txns.get(&x).map_or(TxnStatus::Aborted, |t| t.status);
    let tables = store.tables.values().map(|t| {
        let cols: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        let rows = t.versions.iter().map(|v| {
            let created = status(v.xmin);
            let (state, class) = match (created, v.xmax.map(status)) {
                (TxnStatus::Aborted, _) => ("aborted: never visible", "v-aborted"),
                (TxnStatus::InProgress, _) => ("uncommitted", "v-uncommitted"),
                (_, Some(TxnStatus::Committed)) => ("dead (replaced or deleted)", "v-dead"),
                (_, Some(TxnStatus::InProgress)) => ("live; being changed", "v-locked"),
                _ => ("live", "v-live"),
            };
            let xmax = v.xmax.map(|x| format!("{}{}", who(&store, x), if status(x) == TxnStatus::Aborted { " (aborted)" } else { "" })).unwrap_or_else(|| "—".into());
            view! {
                <tr class=class>
                    {v.values.iter().map(|x| view! { <td>{x.to_string()}</td> }).collect_view()}
                    <td class="xid">{who(&store, v.xmin)}</td>
                    <td class="xid">{xmax}</td>
                    <td>{state}</td>
                </tr>
            }
        }).collect_view();
        view! {
            <table class="versions" aria-label=format!("Row versions of {}", t.name)>
                <caption>{t.name.clone()}</caption>
                <thead><tr>{cols.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}<th>"xmin"</th><th>"xmax"</th><th>"state"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    }).collect_view();
    view! {
        <section class="panel" aria-labelledby="versions-h">
            <h3 id="versions-h">"Row versions"<span class="summary">"xmin created it, xmax deleted or replaced it"</span></h3>
            {tables}
        </section>
    }
}

/// Each transaction: level, status and what its snapshot sees.
#[component]
fn Snapshots(store: Store) -> impl IntoView {
    let committed: BTreeMap<u64, Xid> = store
        .txns
        .values()
        .filter_map(|t| t.commit_seq.map(|c| (c, t.xid)))
        .collect();
    let any = store.txns.values().any(|t| t.session != "setup");
    let rows = store.txns.values().filter(|t| t.session != "setup").map(|t| {
        let snap = match (t.level, t.snapshot) {
            (IsolationLevel::ReadCommitted | IsolationLevel::ReadUncommitted, _) => "a new snapshot for every statement".to_string(),
            (IsolationLevel::Serializable2pl, _) => "no snapshot: reads the latest committed rows under locks".to_string(),
            (_, None) => "no snapshot yet (taken at the first query)".to_string(),
            (_, Some(seq)) => {
                let seen: Vec<String> = committed.range(..=seq).map(|(_, x)| who(&store, *x)).collect();
                format!("sees commits of: {}", if seen.is_empty() { "none".into() } else { seen.join(", ") })
            }
        };
        let status = match t.status {
            TxnStatus::InProgress => "in progress",
            TxnStatus::Committed => "committed",
            TxnStatus::Aborted => "aborted",
        };
        view! { <tr><td>{who(&store, t.xid)}</td><td>{level_label(t.level)}</td><td>{status}</td><td>{snap}</td></tr> }
    }).collect_view();
    view! {
        <section class="panel" aria-labelledby="snap-h">
            <h3 id="snap-h">"Transactions and snapshots"</h3>
            {if any {
                view! { <table class="versions"><thead><tr><th>"transaction"</th><th>"level"</th><th>"status"</th><th>"snapshot"</th></tr></thead><tbody>{rows}</tbody></table> }.into_any()
            } else {
                view! { <p class="empty">"No session has started a transaction yet."</p> }.into_any()
            }}
        </section>
    }
}

/// Row locks, SIREAD and predicate locks, rw-conflicts, and who waits for whom.
#[component]
fn Locks(state: State) -> impl IntoView {
    let store = &state.run.store;
    let status = |x: Xid| store.txns.get(&x).map_or(TxnStatus::Aborted, |t| t.status);
    let mut row_locks: Vec<String> = Vec::new();
    for t in store.tables.values() {
        let pk = t.columns.iter().position(|c| c.primary_key).unwrap_or(0);
        for (i, v) in t.versions.iter().enumerate() {
            let key = v.values.get(pk).cloned().unwrap_or(Value::Null);
            if let Some(x) = v.xmax.filter(|x| status(*x) == TxnStatus::InProgress) {
                row_locks.push(format!(
                    "{} row {} {}: write lock (its UPDATE/DELETE), held by {}",
                    t.name,
                    t.columns[pk].name,
                    key,
                    who(store, x)
                ));
            }
            if let Some(h) = t.locks.get(&i) {
                for (x, m) in h {
                    let mode = match m {
                        distlab_sim::models::txn::ast::RowLockMode::ForUpdate => "FOR UPDATE",
                        distlab_sim::models::txn::ast::RowLockMode::ForShare => "FOR SHARE",
                    };
                    row_locks.push(format!(
                        "{} row {} {}: {mode}, held by {}",
                        t.name,
                        t.columns[pk].name,
                        key,
                        who(store, *x)
                    ));
                }
            }
        }
    }
    let siread: Vec<String> = store
        .ssi
        .locks
        .iter()
        .map(|(t, h)| {
            let what = match t {
                Target::Relation { table } => format!("all of {table} (sequential scan)"),
                Target::HeapPage { table } => format!("the heap page of {table}"),
                Target::IndexPage { table } => format!("the key index of {table} (index scan)"),
                Target::Tuple { table, version } => {
                    let key = store
                        .tables
                        .get(table)
                        .and_then(|t| t.versions.get(*version))
                        .and_then(|v| v.values.first().cloned())
                        .unwrap_or(Value::Null);
                    format!("{table} row {key} (version {version})")
                }
            };
            format!(
                "{what}: {}",
                h.iter()
                    .map(|x| who(store, *x))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let conflicts: Vec<String> = store
        .ssi
        .conflicts
        .iter()
        .map(|(r, w)| {
            format!(
                "{} → {}: {} read what {} wrote",
                who(store, *r),
                who(store, *w),
                who(store, *r),
                who(store, *w)
            )
        })
        .collect();
    let preds: Vec<String> = store
        .predicate_locks
        .iter()
        .map(|(x, t, f)| {
            format!(
                "{}: {t} where {}",
                who(store, *x),
                f.as_ref().map_or("true".into(), |f| f.to_string())
            )
        })
        .collect();
    let waits: Vec<String> = state
        .run
        .statements
        .iter()
        .filter(|s| s.result.is_none() && s.blocked)
        .map(|s| {
            format!(
                "{} waits for {}{} (line {})",
                s.session,
                s.blocked_by.clone().unwrap_or_default(),
                if s.in_line {
                    ", first in line for the same row"
                } else {
                    ""
                },
                s.line
            )
        })
        .collect();
    let list = |title: &'static str, items: Vec<String>, empty: &'static str| {
        view! {
            <h4>{title}</h4>
            {if items.is_empty() {
                view! { <p class="empty">{empty}</p> }.into_any()
            } else {
                view! { <ul class="ops">{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul> }.into_any()
            }}
        }
    };
    view! {
        <section class="panel" aria-labelledby="locks-h">
            <h3 id="locks-h">"Locks and waits"</h3>
            {list("Waits-for", waits, "Nobody waits.")}
            {list("Row locks", row_locks, "No row is locked.")}
            {list("SIREAD locks (serializable)", siread, "None: only SERIALIZABLE transactions take them.")}
            {list("rw-conflicts (serializable)", conflicts, "None recorded.")}
            {list("Predicate locks (2PL)", preds, "None: only 2PL transactions take them.")}
        </section>
    }
}

/// The direct serialization graph of the committed transactions, cycles highlighted.
#[component]
fn DependencyGraph(state: State) -> impl IntoView {
    let a = &state.analysis;
    let h = &state.history;
    let store = &state.run.store;
    let nodes: Vec<Xid> = a
        .dsg
        .nodes
        .iter()
        .copied()
        .filter(|x| store.txns.get(x).is_some_and(|t| t.session != "setup"))
        .collect();
    let n = nodes.len().max(1) as f64;
    let (cx, cy, r) = (160.0, 110.0, 80.0);
    let pos = |x: Xid| {
        let i = nodes.iter().position(|y| *y == x).unwrap_or(0) as f64;
        let ang = -std::f64::consts::FRAC_PI_2 + i * std::f64::consts::TAU / n;
        (cx + r * ang.cos(), cy + r * ang.sin())
    };
    let in_cycle = |e: &Edge| a.findings.iter().any(|f| f.cycle.iter().any(|c| c == e));
    let edges: Vec<Edge> = a
        .dsg
        .edges
        .iter()
        .filter(|e| nodes.contains(&e.from) && nodes.contains(&e.to))
        .cloned()
        .collect();
    let edge_views = edges
        .iter()
        .map(|e| {
            let (x1, y1) = pos(e.from);
            let (x2, y2) = pos(e.to);
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            // Offset sideways so a pair of opposite edges does not overlap.
            let (ox, oy) = (-uy * 6.0, ux * 6.0);
            let (sx, sy, ex, ey) = (
                x1 + ux * 18.0 + ox,
                y1 + uy * 18.0 + oy,
                x2 - ux * 20.0 + ox,
                y2 - uy * 20.0 + oy,
            );
            let kind = match e.kind {
                DepKind::Ww => "ww",
                DepKind::Wr => "wr",
                DepKind::Rw => "rw",
            };
            let class = format!(
                "dep dep-{kind}{}",
                if in_cycle(e) { " in-cycle" } else { "" }
            );
            let label = format!("{kind}{}", if e.predicate { " (pred.)" } else { "" });
            view! {
                <g class=class data-kind=kind>
                    <line x1=sx y1=sy x2=ex y2=ey marker-end="url(#dep-arrow)" />
                    <text x=(sx + ex) / 2.0 + ox y=(sy + ey) / 2.0 + oy>{label}</text>
                    <title>{distlab_sim::models::txn::dsg::describe_edge(h, e)}</title>
                </g>
            }
        })
        .collect_view();
    let node_views = nodes
        .iter()
        .map(|x| {
            let (px, py) = pos(*x);
            let name = store
                .txns
                .get(x)
                .map(|t| t.session.clone())
                .unwrap_or_default();
            view! {
                <g class="txn-node">
                    <circle cx=px cy=py r="17" />
                    <text x=px y=py + 5.0>{name}</text>
                </g>
            }
        })
        .collect_view();
    let findings = a
        .findings
        .iter()
        .map(|f| {
            view! {
                <li class="finding">{f.explanation.clone()}</li>
            }
        })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="dsg-h">
            <h3 id="dsg-h">"Dependency graph"<span class="summary">"committed transactions; a cycle means no serial order explains the run (Adya 2000)"</span></h3>
            {if nodes.is_empty() {
                view! { <p class="empty">"No transaction has committed yet."</p> }.into_any()
            } else {
                view! {
                    <svg class="dsg" viewBox="0 0 320 220" role="img" aria-label="Dependency graph">
                        <defs><marker id="dep-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" /></marker></defs>
                        {edge_views}
                        {node_views}
                    </svg>
                }.into_any()
            }}
            <p class="hint">"ww: overwrote its write · wr: read its write · rw: overwrote what it read (anti-dependency)"</p>
            <ul class="findings">{findings}</ul>
        </section>
    }
}

/// `/lesson/:id` for an isolation lesson: the narration beside the workbench. Each step
/// loads its script, level and cursor; the learner may change any of them (the banner
/// offers the way back), and a challenge is checked live on the learner's script.
#[component]
pub fn IsolationLesson(lesson: distlab_sim::lesson::ResolvedLesson) -> impl IntoView {
    use crate::lesson_page::{experimenting_banner, hint_view, step_nav, Narration};
    use distlab_sim::lesson::{isolation, IsolationStep, Until};
    let nav = step_nav(lesson);
    let (lesson, step) = (nav.lesson, nav.step);
    let step_data = move |i: usize| -> Option<(IsolationStep, Until)> {
        lesson.with_value(|l| {
            let s = l.steps.get(i)?;
            Some((s.isolation()?.clone(), s.until.clone()))
        })
    };
    let current = Memo::new(move |_| step.get().ok().and_then(step_data));
    let first = step_data(step.get_untracked().unwrap_or(0));
    let Some((first, _)) = first else {
        return view! { <div class="message-page" role="alert"><h1>"This lesson cannot be shown"</h1><p>"Its steps are not isolation scenarios."</p><p><A href="/">"← All lessons"</A></p></div> }.into_any();
    };
    let text = RwSignal::new(first.script.clone());
    let level = RwSignal::new(first.level);
    let compare = RwSignal::new(first.compare);
    let line = RwSignal::new(Some(0usize));
    let load = move |(s, until): (IsolationStep, Until)| {
        text.set(s.script);
        level.set(s.level);
        compare.set(s.compare);
        line.set(match until {
            Until::Start => Some(0),
            Until::Statement(k) => Some(k),
            _ => None,
        });
    };
    // A shared link (`run=<code>`) replaces the step's script, levels and line.
    let query = use_query_map();
    let code = Memo::new(move |_| query.read().get("run"));
    let link_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(d) = current.get() {
            let code = code.get();
            untrack(|| {
                load(d);
                link_error.set(None);
                let Some(code) = code else { return };
                match RunLink::decode(&code).and_then(|l| IsolationRun::of_link(&l)) {
                    Ok((run, l)) => {
                        text.set(run.script);
                        level.set(run.level);
                        compare.set(run.compare);
                        line.set(l);
                    }
                    Err(e) => link_error.set(Some(link_problem(&e, "the step's own script"))),
                }
            });
        }
    });
    let set = Callback::new(
        move |(l, c, n): (IsolationLevel, Option<IsolationLevel>, usize)| {
            level.set(l);
            compare.set(c);
            line.set(Some(n));
        },
    );
    let handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
        let field = e
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT"));
        if e.ctrl_key()
            || e.meta_key()
            || e.alt_key()
            || field && e.key() != "PageDown" && e.key() != "PageUp"
        {
            return;
        }
        match e.key().as_str() {
            "PageDown" => nav.next.run(()),
            "PageUp" => nav.back.run(()),
            _ => return,
        }
        e.prevent_default();
    });
    on_cleanup(move || handle.remove());

    let challenge_of = move || {
        let i = step.get().ok()?;
        lesson.with_value(|l| l.steps[i].challenge.clone())
    };
    let experimenting = move || {
        challenge_of().is_none()
            && current.with(|c| {
                c.as_ref().is_some_and(|(s, _)| {
                    text.with(|t| *t != s.script)
                        || level.get() != s.level
                        || compare.get() != s.compare
                })
            })
    };
    let challenge = move || {
        let c = challenge_of()?;
        let checks = Memo::new(move |_| text.with(|t| isolation::check(&c.keep, t, level.get())));
        let met = move || isolation::all_met(&checks.get());
        Effect::new(move |_| crate::course::note_challenge(met()));
        Some(view! {
            <div class="challenge" class:met=met role="status" aria-live="polite">
                <strong>{move || if met() { "✓ Challenge solved!" } else { "Challenge: not solved yet" }}</strong>
                <p class="hint">{move || format!("Checked on your script at {}:", level_label(level.get()))}</p>
                <ul class="checklist">
                    {move || checks.get().into_iter().map(|ch| view! {
                        <li class:met=ch.met>
                            <span class="mark" aria-hidden="true">{if ch.met { "✓" } else { "✗" }}</span>
                            <span>{ch.label}{(!ch.met).then(|| view! { <span class="why">{format!(" — {}", ch.why)}</span> })}</span>
                        </li>
                    }).collect_view()}
                </ul>
                {hint_view(c.hint.clone())}
            </div>
        })
    };
    let back_to_lesson = move |_| {
        if let Some(d) = current.get_untracked() {
            load(d)
        }
    };
    let original = Signal::derive(move || {
        current.with(|c| {
            c.as_ref()
                .map(|(s, _)| s.script.clone())
                .unwrap_or_default()
        })
    });
    let editor_open = Signal::derive(move || challenge_of().is_some());
    view! {
        <div class="lesson-layout">
            <Narration nav=nav challenge=challenge />
            <main class="lab iso">
                <ShareBar run=isolation_run(text, level.into(), compare.into(), line.into()) place=lesson_place(nav) diagram=false />
                {move || link_error.get().map(|e| view! { <p class="notice" role="alert">{e}</p> })}
                <Workbench text=text original=original level=level compare=compare
                    line=line set=set editor_open=editor_open
                    banner=move || experimenting().then(|| experimenting_banner(back_to_lesson)) />
            </main>
        </div>
    }
    .into_any()
}
