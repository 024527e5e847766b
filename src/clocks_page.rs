//! `/clocks/import`: open a ShiViz log (paste, file picker, or drag and drop), see it as a
//! space-time diagram with messages inferred from the vector clocks, and the same causality
//! overlay as simulated runs. A bad log gets its line-numbered error; the text stays.

use crate::diagram::{DiagramView, SpaceTime};
use distlab_sim::causality::shiviz::{self, Execution};
use distlab_sim::causality::Causality;
use distlab_sim::diagram::Diagram;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// An example log: the "Logical clocks" lesson's last run, exported as ShiViz writes them.
fn example() -> String {
    use distlab_sim::models::Clocks;
    let lessons = crate::lesson_page::lessons();
    let Some(step) = lessons
        .iter()
        .find(|l| l.model == "clocks")
        .and_then(|l| l.steps.last())
    else {
        return String::new();
    };
    let Some((scenario, ivs)) = step.clocks() else {
        return String::new();
    };
    let Ok(setup) = <Clocks as distlab_sim::models::EngineModel>::setup(scenario) else {
        return String::new();
    };
    let engine = distlab_sim::Engine::new(setup, ivs.to_vec());
    let d = Diagram::build(&engine);
    let c = Causality::of_diagram(&d);
    shiviz::export(&d, &c, Some("Logical clocks lesson"))
}

/// An imported diagram's "time" is each event's Lamport counter: a few units for a small
/// log. Spread it so neighbouring events are far enough apart to see and click (the axis
/// shows no unit on this page).
fn spread(mut d: Diagram) -> Diagram {
    use distlab_sim::diagram::Outcome;
    let f = (200 / d.end_time.max(1)).max(1);
    for m in &mut d.marks {
        m.time *= f;
    }
    for a in &mut d.arrows {
        a.sent_at *= f;
        a.arrives_at *= f;
        if let Outcome::Delivered { at, .. } | Outcome::Dropped { at, .. } = &mut a.outcome {
            *at *= f;
        }
    }
    for x in &mut d.down {
        x.from *= f;
        if let Some((t, _)) = &mut x.until {
            *t *= f;
        }
    }
    d.end_time *= f;
    d
}

/// The result of reading the text: executions, or the error with its line.
fn read(text: &str, regex: &str) -> Result<Vec<Execution>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let regex = (!regex.trim().is_empty()).then_some(regex);
    shiviz::parse(text, regex).map_err(|e| e.to_string())
}

/// Reads a dropped or picked file into `text`, then tells `on_file` (name, text) if given.
fn load_file(
    file: web_sys::File,
    text: RwSignal<String>,
    status: RwSignal<Option<String>>,
    on_file: Option<Callback<(String, String)>>,
) {
    let Ok(reader) = web_sys::FileReader::new() else {
        status.set(Some("This browser cannot read files.".into()));
        return;
    };
    let name = file.name();
    let r = reader.clone();
    let onload = Closure::once_into_js(move || match r.result().ok().and_then(|v| v.as_string()) {
        Some(s) => {
            text.set(s.clone());
            status.set(Some(format!("Opened {name}.")));
            if let Some(f) = on_file {
                f.run((name, s));
            }
        }
        None => status.set(Some(format!("Could not read {name} as text."))),
    });
    reader.set_onload(Some(onload.unchecked_ref()));
    if reader.read_as_text(&file).is_err() {
        status.set(Some("Could not read the file.".into()));
    }
}

/// The box a log or history is opened in: a textarea to paste into, a file picker, and
/// drag and drop onto the box; `controls` go beside the picker, `after` below the status
/// line (e.g. the parse error). Shared by `/clocks/import` and `/check`.
#[component]
pub(crate) fn ImportBox(
    text: RwSignal<String>,
    status: RwSignal<Option<String>>,
    /// The textarea's accessible name, e.g. "ShiViz log".
    what: &'static str,
    /// The picker's label, e.g. "Open a log file".
    pick: &'static str,
    /// The picker's `accept` list.
    accept: &'static str,
    rows: &'static str,
    /// The textarea's placeholder.
    placeholder: &'static str,
    children: Children,
    #[prop(into)] after: ViewFn,
    /// Called with the file's name and text after a file is opened (picked or dropped).
    #[prop(optional)]
    on_file: Option<Callback<(String, String)>>,
) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(f) = input.files().and_then(|l| l.get(0)) {
            load_file(f, text, status, on_file);
        }
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(f) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|l| l.get(0))
        {
            load_file(f, text, status, on_file);
        }
    };
    view! {
        <section
            class="import-box"
            class:dragging=move || dragging.get()
            on:dragover=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <textarea
                aria-label=what
                rows=rows
                spellcheck="false"
                placeholder=placeholder
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    status.set(None);
                }
            ></textarea>
            <div class="import-controls">
                <label class="button">
                    {format!("{pick}…")}
                    <input type="file" accept=accept aria-label=pick on:change=on_pick class="visually-hidden" />
                </label>
                {children()}
            </div>
            <p class="status" aria-live="polite">{move || status.get()}</p>
            {move || after.run()}
        </section>
    }
}

/// The import page.
#[component]
pub fn ClocksImport() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let regex = RwSignal::new(String::new());
    let chosen = RwSignal::new(0usize);
    let status = RwSignal::new(None::<String>);
    let parsed = Memo::new(move |_| text.with(|t| regex.with(|r| read(t, r))));
    let execution = Memo::new(move |_| {
        parsed.with(|p| {
            p.as_ref().ok().and_then(|v| {
                let i = chosen.get().min(v.len().saturating_sub(1));
                v.get(i).cloned()
            })
        })
    });
    let diagram = Memo::new(move |_| {
        execution.with(|e| {
            e.as_ref().map(|e| spread(e.diagram())).unwrap_or(Diagram {
                nodes: Vec::new(),
                marks: Vec::new(),
                arrows: Vec::new(),
                down: Vec::new(),
                end_time: 0,
                timed: false,
            })
        })
    });
    let facts = Memo::new(move |_| {
        execution.with(|e| {
            e.as_ref().map(|e| {
                let c = e.causality();
                (
                    e.name.clone(),
                    e.hosts.len(),
                    e.events.len(),
                    e.messages.len(),
                    c.concurrent_pairs(),
                )
            })
        })
    });
    let view_data = DiagramView {
        diagram: diagram.into(),
        shown: Signal::derive(move || diagram.with(|d| d.marks.len().checked_sub(1))),
        display_time: Signal::derive(move || diagram.with(|d| d.end_time as f64)),
        zoom: Signal::stored(1.0),
        highlights: Signal::stored(Vec::new()),
        digest: None,
        on_crash: None,
        on_restart: None,
        on_drop: None,
    };
    view! {
        <div class="clocks-import">
            <header class="lab-head">
                <h1>"Open a ShiViz log"</h1>
                <p class="hint">
                    "A log from a real system, in the format ShiViz reads: each event line is followed by a line "
                    <code>"host {\"host\": 3, \"other\": 1}"</code>
                    " with the event's vector clock; several executions are separated by "
                    <code>"=== name ==="</code>
                    " lines. Messages are inferred from the clocks. Paste it, choose a file, or drop one here."
                </p>
            </header>
            <ImportBox
                text=text
                status=status
                what="ShiViz log"
                pick="Open a log file"
                accept=".log,.txt,text/plain"
                rows="10"
                placeholder="Paste a ShiViz log here, or drop a file"
                after=move || parsed.with(|p| match p {
                    Err(e) => Some(view! {
                        <p class="error" role="alert">{format!("This log cannot be read: {e}")}</p>
                    }.into_any()),
                    Ok(v) if v.len() > 1 => Some(view! {
                        <label>
                            "Execution "
                            <select aria-label="Execution" on:change=move |ev| {
                                chosen.set(event_target_value(&ev).parse().unwrap_or(0));
                            }>
                                {v.iter().enumerate().map(|(i, e)| view! {
                                    <option value=i.to_string() selected=move || chosen.get() == i>{e.name.clone()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    }.into_any()),
                    Ok(_) => None,
                })
            >
                    <button on:click=move |_| {
                        text.set(example());
                        status.set(Some("Loaded the Logical clocks lesson's run, exported as a ShiViz log.".into()));
                    }>"Load an example"</button>
                    <label>
                        "Custom regex "
                        <input
                            type="text"
                            aria-label="Custom regex"
                            placeholder=shiviz::DEFAULT_REGEX
                            prop:value=move || regex.get()
                            on:input=move |ev| regex.set(event_target_value(&ev))
                        />
                    </label>
            </ImportBox>
            {move || facts.get().map(|(name, hosts, events, messages, pairs)| view! {
                <p class="import-facts" data-testid="import-facts">
                    {if name.is_empty() { String::new() } else { format!("{name}: ") }}
                    {format!("{hosts} hosts, {events} events, {messages} messages inferred, {pairs} concurrent pairs. ")}
                    "Imported logs have no physical time: events are placed by their Lamport timestamp."
                </p>
            })}
            <Show when=move || diagram.with(|d| !d.marks.is_empty())>
                <SpaceTime data=view_data />
            </Show>
        </div>
    }
}
