//! Distlab's browser app (Leptos, client-side rendered). It holds no protocol logic: it
//! builds runs with `distlab-sim`, reads their traces and adds interventions.

mod app;
mod causal;
mod clocks_page;
mod diagram;
mod engine_lessons;
mod isolation;
mod lab;
mod lesson_page;
mod panels;
mod paxos_lesson;

fn main() {
    app::install_panic_hook();
    leptos::mount::mount_to_body(app::App);
}
