//! The app shell: routes, the home page, the not-found page, and the visible error shown
//! if the WebAssembly ever panics.

use crate::check_page::CheckPage;
use crate::clocks_page::ClocksImport;
use crate::isolation::IsolationPage;
use crate::lesson_page::{FreeLab, LessonPage};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// Logs panics to the console and shows them on the page instead of leaving it frozen.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_fatal(&info.to_string());
    }));
}

fn show_fatal(msg: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let el = match doc.get_element_by_id("fatal-error") {
        Some(el) => el,
        None => {
            let Ok(el) = doc.create_element("div") else {
                return;
            };
            el.set_id("fatal-error");
            let _ = el.set_attribute("role", "alert");
            if let Some(body) = doc.body() {
                let _ = body.append_child(&el);
            }
            el
        }
    };
    el.set_text_content(Some(&format!(
        "Distlab hit an internal error and stopped. Reload the page to start again (your place is in the address bar). Details: {msg}"
    )));
}

#[component]
pub fn App() -> impl IntoView {
    crate::present::provide_display();
    view! {
        <Router>
            <crate::present::GlobalBar />
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/") view=Home />
                <Route path=path!("/lesson/:id") view=LessonPage />
                <Route path=path!("/lab/:preset") view=FreeLab />
                <Route path=path!("/isolation/:preset") view=IsolationPage />
                <Route path=path!("/clocks/import") view=ClocksImport />
                <Route path=path!("/check") view=CheckPage />
                <Route path=path!("/course") view=crate::course::CoursePage />
                <Route path=path!("/lessons/open") view=crate::author::AuthorPage />
                <Route path=path!("/saved") view=crate::saved::SavedPage />
            </Routes>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <main class="home">
            <header class="home-head">
                <h1>"Distlab"</h1>
                <p class="tagline">"Distributed systems and databases as live, deterministic simulations. Step through them forwards and back; crash nodes, cut links and delay messages, and see what the protocol does."</p>
            </header>
            <section aria-labelledby="lessons-h">
                <h2 id="lessons-h">"The course"</h2>
                <p class="course-links">
                    <A href="/course" attr:class="button primary">"Your progress in the course →"</A>
                    " "
                    <A href="/lessons/open" attr:class="button">"Open a lesson file (teachers) →"</A>
                </p>
                <crate::course::Course level=3 />
            </section>
            <section aria-labelledby="labs-h">
                <h2 id="labs-h">"Free lab"</h2>
                <ul class="lesson-list">
                    {distlab_sim::models::replication::presets::presets().into_iter().map(|p| view! {
                        <li class="lesson-card">
                            <h3><A href=format!("/lab/{}", p.id)>{p.title}</A></h3>
                            <p>{p.summary}</p>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
            <section aria-labelledby="iso-h">
                <h2 id="iso-h">"Isolation levels lab"</h2>
                <p class="hint">"Step two or three sessions' SQL through a store that behaves like PostgreSQL 15, one line at a time, at any isolation level — and watch row versions, snapshots, locks and the dependency graph."</p>
                <ul class="lesson-list">
                    {distlab_sim::models::txn::presets::PRESETS.iter().map(|p| view! {
                        <li class="lesson-card">
                            <h3><A href=format!("/isolation/{}?level=rc&line=0", p.id)>{p.title}</A></h3>
                            <p class="meta">{p.phenomenon}</p>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
            <section aria-labelledby="logs-h">
                <h2 id="logs-h">"Logs from real systems"</h2>
                <p class="hint">"Open a ShiViz log — events with vector clocks from a real distributed system — and see it as a space-time diagram with its causality. Any run in Distlab can be exported the same way."</p>
                <p><A href="/clocks/import" attr:class="button">"Open a ShiViz log →"</A></p>
                <p class="hint">"Or check a client history — a Jepsen or Porcupine log, or JSON — for linearizability, with the same checker every Distlab run is judged by."</p>
                <p><A href="/check" attr:class="button">"Check a history →"</A></p>
                <p class="hint">"Runs you saved with “Save run”, to open, rename, export or import:"</p>
                <p><A href="/saved" attr:class="button">"Saved runs →"</A></p>
            </section>
            <footer class="home-foot">
                <p>"Keyboard: Space play/pause · ← → step · Home/End · Page Up/Down previous/next lesson step · P presentation mode · F full screen · 1–9 a scenario's prepared failures · ? all shortcuts · on a diagram's event, Enter selects it (Shift+Enter compares), Escape clears."</p>
            </footer>
        </main>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <div class="message-page" role="alert">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><A href="/">"← All lessons"</A></p>
        </div>
    }
}
