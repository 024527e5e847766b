//! Distlab's browser app (Leptos, client-side rendered). It holds no protocol logic: it
//! builds runs with `distlab-sim`, reads their traces and adds interventions.

mod app;
mod author;
mod causal;
mod check_page;
mod clocks_page;
mod course;
mod diagram;
mod engine_lessons;
mod failure_detector_lesson;
mod gossip_lesson;
mod history_panel;
mod isolation;
mod lab;
mod lesson_page;
mod panels;
mod paxos_lesson;
mod present;
mod quorum_lesson;
mod saved;
mod share_bar;
mod step_list;
mod storage;
mod twopc_lesson;

fn main() {
    app::install_panic_hook();
    register_service_worker();
    leptos::mount::mount_to_body(app::App);
}

/// Registers `/sw.js` (the service worker that keeps the app working offline after the
/// first visit). Where there are no service workers (an insecure origin, an old browser)
/// or registration fails, the app works as before, online only: a warning in the console.
fn register_service_worker() {
    use wasm_bindgen::{closure::Closure, JsValue};
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    let has_sw = web_sys::js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker"))
        .unwrap_or(false);
    if !has_sw || !window.is_secure_context() {
        return;
    }
    let failed = Closure::<dyn FnMut(JsValue)>::new(|e: JsValue| {
        web_sys::console::warn_2(
            &JsValue::from_str(
                "Distlab will not work offline: the service worker was not registered",
            ),
            &e,
        );
    });
    let _ = navigator.service_worker().register("/sw.js").catch(&failed);
    // Called at most once, when the registration fails.
    failed.forget();
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
