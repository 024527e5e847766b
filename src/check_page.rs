//! `/check`: open a client history from a real tool — a Jepsen EDN history, one of
//! Porcupine's etcd or kv logs, or Distlab's JSON — and see it drawn with the
//! linearizability checker's verdict.

use crate::clocks_page::ImportBox;
use crate::history_panel::{judge, HistoryPanel, Judgement};
use distlab_sim::linearizability::{parse_any, Format, History, Model, ModelSpec};
use leptos::prelude::*;

/// A small history to start from: the ESPN example of the Linearizability lesson, as JSON.
const EXAMPLE: &str = r#"{"ops": [
  {"id": 0, "client": 0, "call": 0, "ret": 40, "status": "ok", "op": {"f": "write", "key": null, "value": "final 4-2"}, "label": "referee writes the final score"},
  {"id": 1, "client": 1, "call": 50, "ret": 60, "status": "ok", "op": {"f": "read", "key": null, "value": "final 4-2"}, "label": "Alice reads"},
  {"id": 2, "client": 2, "call": 70, "ret": 80, "status": "ok", "op": {"f": "read", "key": null, "value": null}, "label": "Bob reads, after Alice"}
]}"#;

fn guess_model(format: Format, h: &History) -> Model {
    use distlab_sim::linearizability::Op;
    if h.ops.iter().any(|o| {
        matches!(
            o.op,
            Op::Add { .. } | Op::Remove { .. } | Op::ReadSet { .. }
        )
    }) {
        return Model::Set;
    }
    if format == Format::Kv || h.ops.iter().any(|o| matches!(o.op, Op::Append { .. })) {
        return Model::Kv;
    }
    if h.ops.iter().any(|o| matches!(o.op, Op::Cas { .. })) || format == Format::Etcd {
        return Model::CasRegister;
    }
    Model::Register
}

/// The page.
#[component]
pub fn CheckPage() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let status = RwSignal::new(None::<String>);
    // "" = guess from the history.
    let model_choice = RwSignal::new(String::new());
    let format_choice = RwSignal::new(String::new());
    let initial = RwSignal::new(String::new());
    let parsed = Memo::new(move |_| {
        text.with(|t| {
            if t.trim().is_empty() {
                return Ok(None);
            }
            let hint = format_choice.with(|f| f.parse::<Format>().ok());
            parse_any(t, hint).map(Some).map_err(|e| e.to_string())
        })
    });
    let spec = Memo::new(move |_| {
        parsed.with(|p| {
            let (format, h) = p.as_ref().ok()?.as_ref()?;
            let model = model_choice
                .with(|m| m.parse::<Model>().ok())
                .unwrap_or_else(|| guess_model(*format, h));
            let init = initial.with(|i| i.trim().to_string());
            Some(if init.is_empty() || init == "nil" {
                ModelSpec::new(model)
            } else {
                ModelSpec::with_initial(model, init)
            })
        })
    });
    let history = Signal::derive(move || {
        parsed.with(|p| {
            p.as_ref()
                .ok()
                .and_then(|x| x.as_ref().map(|(_, h)| h.clone()))
                .unwrap_or_default()
        })
    });
    let judgement: Memo<Option<Judgement>> = Memo::new(move |_| {
        let spec = spec.get()?;
        parsed.with(|p| {
            let (_, h) = p.as_ref().ok()?.as_ref()?;
            Some(judge(h, &spec))
        })
    });
    let facts = move || {
        parsed.with(|p| {
            let (format, h) = p.as_ref().ok()?.as_ref()?;
            let model = spec.with(|s| s.as_ref().map(|s| s.model.name()).unwrap_or(""));
            let clients = {
                let mut c: Vec<u64> = h.ops.iter().map(|o| o.client).collect();
                c.sort_unstable();
                c.dedup();
                c.len()
            };
            Some(format!(
                "Read as {format}: {} operations by {clients} clients, checked as a {model}. ",
                h.ops.len()
            ))
        })
    };
    let select =
        |label: &'static str, sig: RwSignal<String>, options: Vec<(&'static str, &'static str)>| {
            view! {
                <label>
                    {format!("{label} ")}
                    <select aria-label=label on:change=move |ev| sig.set(event_target_value(&ev))>
                        {options.into_iter().map(|(v, t)| view! {
                            <option value=v selected=move || sig.with(|s| s == v)>{t}</option>
                        }).collect_view()}
                    </select>
                </label>
            }
        };
    view! {
        <div class="check-page">
            <header class="lab-head">
                <h1>"Check a history for linearizability"</h1>
                <p class="hint">
                    "A client history from a real system: a Jepsen EDN history (as Knossos reads), one of Porcupine's etcd or key-value logs, or Distlab's JSON (see "
                    <code>"docs/LINEARIZABILITY.md"</code>
                    "). Each operation is drawn as a bar from its call to its return; the checker looks for one order of all operations that respects real time and the model. Paste it, choose a file, or drop one here."
                </p>
            </header>
            <ImportBox
                text=text
                status=status
                what="History"
                pick="Open a history file"
                accept=".edn,.log,.txt,.json,text/plain,application/json"
                rows="8"
                placeholder="Paste a history here, or drop a file"
                after=move || parsed.with(|p| p.as_ref().err().map(|e| view! {
                    <p class="error" role="alert">{format!("This history cannot be read: {e}")}</p>
                }))
            >
                    <button on:click=move |_| {
                        text.set(EXAMPLE.to_string());
                        status.set(Some("Loaded the ESPN example: a write acknowledged, then a read that misses it.".into()));
                    }>"Load an example"</button>
                    {select("Format", format_choice, vec![("", "detect"), ("edn", "Jepsen EDN"), ("etcd", "Porcupine etcd log"), ("kv", "Porcupine kv log"), ("json", "JSON")])}
                    {select("Model", model_choice, vec![("", "guess"), ("register", "register"), ("cas-register", "cas-register"), ("kv", "key-value"), ("set", "set")])}
                    <label>
                        "Initial value "
                        <input
                            type="text"
                            size="6"
                            aria-label="Initial value"
                            placeholder="nil"
                            prop:value=move || initial.get()
                            on:input=move |ev| initial.set(event_target_value(&ev))
                        />
                    </label>
            </ImportBox>
            <p class="import-facts" data-testid="check-facts">{facts}</p>
            <Show when=move || history.with(|h| !h.ops.is_empty())>
                <section class="panel wide" aria-labelledby="hist-h">
                    <h3 id="hist-h">"Client history"</h3>
                    <HistoryPanel
                        history=history
                        judgement=judgement.into()
                        names=Callback::new(|c: u64| format!("client {c}"))
                    />
                </section>
            </Show>
        </div>
    }
}
