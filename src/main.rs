//! Distlab's browser app (Leptos, client-side rendered). It holds no protocol logic: it
//! builds runs with `distlab-sim`, reads their traces and adds interventions.

mod app;
mod causal;
mod check_page;
mod clocks_page;
mod diagram;
mod engine_lessons;
mod history_panel;
mod isolation;
mod lab;
mod lesson_page;
mod panels;
mod paxos_lesson;
mod quorum_lesson;
mod storage;

fn main() {
    app::install_panic_hook();
    leptos::mount::mount_to_body(app::App);
}

/// The linearizability checker's benchmark, run in the browser by the browser tests
/// (`window.wasmBindings.bench_linearizability`). `items` is JSON:
/// `[{"name": "etcd_000.log", "text": "…", "format": "etcd", "model": "cas-register",
/// "initial": null}, …]`; the answer is the report as JSON (times in milliseconds from
/// `performance.now()`), or `{"error": "…"}` for malformed input.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn bench_linearizability(items: String) -> String {
    use distlab_sim::linearizability::{bench, Format, Model, ModelSpec};
    #[derive(serde::Deserialize)]
    struct In {
        name: String,
        text: String,
        format: Format,
        model: Model,
        #[serde(default)]
        initial: Option<String>,
    }
    let parsed: Vec<In> = match serde_json::from_str(&items) {
        Ok(v) => v,
        Err(e) => return serde_json::json!({ "error": e.to_string() }).to_string(),
    };
    let items: Vec<bench::Item> = parsed
        .iter()
        .map(|i| bench::Item {
            name: &i.name,
            text: &i.text,
            format: i.format,
            spec: ModelSpec {
                model: i.model,
                initial: i.initial.clone(),
            },
        })
        .collect();
    let perf = web_sys::window().and_then(|w| w.performance());
    let now = move || perf.as_ref().map_or(0.0, |p| p.now());
    let report = bench::run(&items, &now);
    serde_json::to_string(&report).unwrap_or_default()
}
