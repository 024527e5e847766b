//! `/lessons/open`: a teacher opens a lesson file (TOML, the format of `docs/LESSONS.md`)
//! by file picker, drag and drop, or the address of a file on this site. The browser
//! parses, validates and resolves it with the same functions `build.rs` uses for the
//! built-in lessons (the sim crate's `lesson-files` feature); errors are listed with their
//! line and the offending line, and the text stays in the box to be fixed. A valid lesson
//! is kept in local storage (its text and where it came from) and opened at
//! `/lesson/<id>?step=1`.
//!
//! Imported lessons are resolved again from their text whenever they are shown, so a
//! lesson that no longer resolves (after an upgrade) is listed with its error, never
//! dropped. An imported lesson may not take a built-in lesson's id: built-in lessons are
//! looked up first, and the import is refused with a message naming the `id` line.

use crate::clocks_page::ImportBox;
use crate::storage;
use distlab_sim::lesson::{Lesson, ResolvedLesson};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// An imported lesson as stored under [`storage::IMPORTED_LESSONS`] (a list of these).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportedLesson {
    /// The lesson's id when it was imported (its URL: `/lesson/<id>`).
    pub id: String,
    /// Its title when it was imported (shown even if it no longer resolves).
    pub title: String,
    /// Where it came from: `file example.toml`, an address, or `typed or pasted here`.
    pub origin: String,
    /// The lesson file's text, exactly as opened (and edited) here.
    pub text: String,
}

/// What is wrong with a lesson text: a 1-based line (0 when no line applies) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl Problem {
    /// "line 12: unknown node …", or the message alone.
    pub fn describe(&self) -> String {
        if self.line > 0 {
            format!("line {}: {}", self.line, self.message)
        } else {
            self.message.clone()
        }
    }
}

/// An imported lesson with what its text resolves to now.
#[derive(Clone, Debug)]
pub struct ImportedEntry {
    pub stored: ImportedLesson,
    pub resolved: Result<ResolvedLesson, Problem>,
}

/// The 1-based line of the top-level `id = …`, or 0.
pub fn id_line(text: &str) -> usize {
    text.lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .position(|l| {
            l.trim_start()
                .strip_prefix("id")
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map_or(0, |i| i + 1)
}

/// Parses, validates and resolves a lesson text exactly as `build.rs` does for the
/// built-in lessons, and refuses an id that a built-in lesson (`built_in`) has.
pub fn check(text: &str, built_in: &[&str]) -> Result<ResolvedLesson, Problem> {
    if text.trim().is_empty() {
        return Err(Problem {
            line: 0,
            message: "There is no lesson text yet: open a file, give the address of one, or paste it into the box.".into(),
        });
    }
    let lesson = Lesson::parse(text).map_err(|e| Problem {
        line: e.line,
        message: e.message,
    })?;
    if built_in.contains(&lesson.id.as_str()) {
        return Err(Problem {
            line: id_line(text),
            message: format!(
                "id = \"{}\" is the id of a built-in lesson. Give your lesson its own id (e.g. \"my-{}\"): imported lessons never replace built-in ones.",
                lesson.id, lesson.id
            ),
        });
    }
    lesson.resolve().map_err(|m| Problem {
        line: 0,
        message: format!("the lesson cannot be resolved: {m}"),
    })
}

/// The lines around `line` (1-based) to show with an error: `(number, text, is_it)`, one
/// line of context on each side.
pub fn excerpt(text: &str, line: usize) -> Vec<(usize, String, bool)> {
    if line == 0 {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.to_string(), i + 1 == line))
        .filter(|(n, _, _)| n + 1 >= line && *n <= line + 1)
        .collect()
}

/// The origin (`scheme://host[:port]`) of an absolute http(s) address.
fn origin_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..url.len() - rest.len() + end])
}

/// The address to fetch for what the teacher typed, on the page's `origin`
/// (`http://host:port`): paths (`/public/lessons/x.toml`, `public/lessons/x.toml`) and
/// addresses on this origin are accepted; any other site, or another kind of address,
/// is refused with a message saying why and what to do instead.
pub fn same_origin_url(input: &str, origin: &str) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("Type the address of a lesson file on this site, e.g. /public/lessons/example-stale-read.toml.".into());
    }
    let other_site = |o: &str| {
        format!(
            "{input} is on another site ({o}). Distlab fetches lesson files only from this site ({origin}): download the file and open it with the file picker instead."
        )
    };
    if let Some(rest) = input.strip_prefix("//") {
        let scheme = origin.split("://").next().unwrap_or("https");
        let full = format!("{scheme}://{rest}");
        return match origin_of(&full) {
            Some(o) if o == origin => Ok(full),
            Some(o) => Err(other_site(o)),
            None => Err(other_site(rest)),
        };
    }
    if input.starts_with('/') {
        return Ok(format!("{origin}{input}"));
    }
    if let Some(o) = origin_of(input) {
        return if o == origin {
            Ok(input.to_string())
        } else {
            Err(other_site(o))
        };
    }
    let scheme_like = input
        .split_once(':')
        .is_some_and(|(s, _)| !s.is_empty() && !s.contains('/'));
    if scheme_like {
        return Err(format!(
            "\"{input}\" is not an address Distlab can fetch: give a path on this site (/public/lessons/…) or an http(s) address on {origin}."
        ));
    }
    Ok(format!("{origin}/{input}"))
}

/// Whether fetched text is a web page rather than a lesson file (a static server answers
/// unknown paths with the app's index.html).
fn looks_like_html(text: &str) -> bool {
    let t: String = text
        .trim_start()
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    t.starts_with("<!doctype html") || t.starts_with("<html")
}

thread_local! {
    /// Texts already checked this session (checking runs every step's simulation).
    static CHECKED: RefCell<HashMap<String, Result<ResolvedLesson, Problem>>> = RefCell::new(HashMap::new());
}

/// [`check`] against the built-in lessons, remembered per text.
pub fn check_cached(text: &str) -> Result<ResolvedLesson, Problem> {
    if let Some(r) = CHECKED.with(|c| c.borrow().get(text).cloned()) {
        return r;
    }
    let ids: Vec<&str> = crate::lesson_page::lessons()
        .iter()
        .map(|l| l.id.as_str())
        .collect();
    let r = check(text, &ids);
    CHECKED.with(|c| c.borrow_mut().insert(text.to_string(), r.clone()));
    r
}

/// The stored imported lessons (`Err`: the stored value cannot be read; it is left as it is).
pub fn imported() -> Result<Vec<ImportedLesson>, String> {
    storage::load(storage::IMPORTED_LESSONS).map(Option::unwrap_or_default)
}

/// The stored imported lessons, each resolved from its text now.
pub fn imported_entries() -> Result<Vec<ImportedEntry>, String> {
    Ok(imported()?
        .into_iter()
        .map(|stored| {
            let resolved = check_cached(&stored.text);
            ImportedEntry { stored, resolved }
        })
        .collect())
}

/// The imported lesson with this id (as stored), resolved from its text now.
pub fn find_imported(id: &str) -> Option<ImportedEntry> {
    imported()
        .ok()?
        .into_iter()
        .find(|l| l.id == id)
        .map(|stored| ImportedEntry {
            resolved: check_cached(&stored.text),
            stored,
        })
}

/// Adds `lesson` to the stored list, replacing one with the same id. An unreadable stored
/// list is first kept aside (`storage::quarantine`); the message says so.
fn save_imported(lesson: ImportedLesson) -> Result<Option<String>, String> {
    let (mut list, note) = match imported() {
        Ok(l) => (l, None),
        Err(e) => {
            storage::quarantine(storage::IMPORTED_LESSONS);
            (
                Vec::new(),
                Some(format!(
                    "{e}; it was kept under \"{}.unreadable\".",
                    storage::IMPORTED_LESSONS
                )),
            )
        }
    };
    match list.iter_mut().find(|l| l.id == lesson.id) {
        Some(l) => *l = lesson,
        None => list.push(lesson),
    }
    storage::save(storage::IMPORTED_LESSONS, &list)?;
    Ok(note)
}

/// Removes the imported lesson `id` (after the teacher confirmed).
fn remove_imported(id: &str) -> Result<(), String> {
    let mut list = imported()?;
    list.retain(|l| l.id != id);
    storage::save(storage::IMPORTED_LESSONS, &list)
}

/// Fetches `url` as text; `done` gets the final address and the text, or what went wrong.
fn fetch_text(url: &str, done: impl FnOnce(Result<(String, String), String>) + 'static) {
    let Some(w) = web_sys::window() else {
        return done(Err("this page has no window to fetch from".into()));
    };
    let done: Rc<RefCell<Option<Box<dyn FnOnce(Result<(String, String), String>)>>>> =
        Rc::new(RefCell::new(Some(Box::new(done))));
    let finish =
        move |d: &Rc<RefCell<Option<Box<dyn FnOnce(Result<(String, String), String>)>>>>,
              r: Result<(String, String), String>| {
            if let Some(f) = d.borrow_mut().take() {
                f(r)
            }
        };
    let (d1, d2) = (done.clone(), done);
    let on_response = Closure::once(move |v: JsValue| {
        let resp: web_sys::Response = v.unchecked_into();
        if !resp.ok() {
            let status = format!("{} {}", resp.status(), resp.status_text());
            return finish(&d1, Err(format!("the server answered {}", status.trim())));
        }
        let final_url = resp.url();
        match resp.text() {
            Ok(p) => {
                let d3 = d1.clone();
                let on_text = Closure::once(move |t: JsValue| {
                    finish(&d1, Ok((final_url, t.as_string().unwrap_or_default())))
                });
                let on_err = Closure::once(move |_: JsValue| {
                    finish(&d3, Err("the file could not be read as text".into()))
                });
                let _ = p.then2(&on_text, &on_err);
                on_text.forget();
                on_err.forget();
            }
            Err(_) => finish(&d1, Err("the file could not be read as text".into())),
        }
    });
    let on_fail = Closure::once(move |_: JsValue| {
        finish(
            &d2,
            Err("the request failed: the address cannot be reached".into()),
        )
    });
    let _ = w.fetch_with_str(url).then2(&on_response, &on_fail);
    on_response.forget();
    on_fail.forget();
}

/// Selects line `line` (1-based) of the lesson box and focuses it.
fn select_line(text: &str, line: usize) {
    let Some(ta) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(".author .import-box textarea")
                .ok()
                .flatten()
        })
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return;
    };
    // Offsets in UTF-16 code units, as the DOM counts them.
    let mut start = 0u32;
    for (i, l) in text.split('\n').enumerate() {
        let len = l.encode_utf16().count() as u32;
        if i + 1 == line {
            let _ = ta.focus();
            let _ = ta.set_selection_range(start, start + len);
            return;
        }
        start += len + 1;
    }
}

/// The page.
#[component]
pub fn AuthorPage() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let status = RwSignal::new(None::<String>);
    let address = RwSignal::new(String::new());
    // What was loaded last (origin, text): an edited text's origin says so.
    let loaded = StoredValue::new(None::<(String, String)>);
    let problem = RwSignal::new(None::<Problem>);
    // A valid lesson whose id is already imported with another text: replace it?
    let pending = RwSignal::new(None::<(ImportedLesson, String)>);
    let entries = RwSignal::new(imported_entries());
    let navigate = use_navigate();

    let origin_now = move |t: &str| {
        loaded.with_value(|l| match l {
            Some((o, lt)) if lt == t => o.clone(),
            Some((o, _)) => format!("{o}, edited here"),
            None => "typed or pasted here".to_string(),
        })
    };
    let save_and_open = {
        let navigate = navigate.clone();
        move |lesson: ImportedLesson| {
            let id = lesson.id.clone();
            match save_imported(lesson) {
                Ok(note) => {
                    entries.set(imported_entries());
                    if let Some(n) = note {
                        status.set(Some(n));
                    }
                    navigate(&format!("/lesson/{id}?step=1"), Default::default());
                }
                Err(e) => problem.set(Some(Problem {
                    line: 0,
                    message: format!("The lesson is valid but could not be kept: {e}. Your text is still in the box."),
                })),
            }
        }
    };
    let save_and_open = StoredValue::new(save_and_open);
    // Check the text; if valid, keep it and open it (asking first before replacing an
    // imported lesson of the same id with a different text).
    let attempt = move || {
        let t = text.get_untracked();
        pending.set(None);
        match check_cached(&t) {
            Err(p) => {
                problem.set(Some(p));
            }
            Ok(l) => {
                problem.set(None);
                let lesson = ImportedLesson {
                    id: l.id.clone(),
                    title: l.title.clone(),
                    origin: origin_now(&t),
                    text: t,
                };
                let existing = imported()
                    .ok()
                    .and_then(|v| v.into_iter().find(|e| e.id == lesson.id));
                match existing {
                    Some(e) if e.text != lesson.text => pending.set(Some((lesson, e.origin))),
                    _ => save_and_open.with_value(|f| f(lesson)),
                }
            }
        }
    };
    let on_file = Callback::new(move |(name, t): (String, String)| {
        loaded.set_value(Some((format!("file {name}"), t)));
        attempt();
    });
    let fetch = move || {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        match same_origin_url(&address.get_untracked(), &origin) {
            Err(m) => status.set(Some(m)),
            Ok(url) => {
                status.set(Some(format!("Fetching {url}…")));
                let asked = url.clone();
                fetch_text(&asked, move |r| {
                    match r {
                    Ok((final_url, _)) if origin_of(&final_url).is_some_and(|o| o != origin) => {
                        status.set(Some(format!("{url} redirected to another site ({final_url}); nothing was opened.")))
                    }
                    Ok((_, body)) if looks_like_html(&body) => status.set(Some(format!(
                        "{url} is a web page, not a lesson file: is the path right? (Lesson files are TOML, e.g. /public/lessons/example-stale-read.toml.)"
                    ))),
                    Ok((final_url, body)) => {
                        status.set(Some(format!("Fetched {final_url}.")));
                        text.set(body.clone());
                        loaded.set_value(Some((final_url, body)));
                        attempt();
                    }
                    Err(e) => status.set(Some(format!("Could not fetch {url}: {e}."))),
                }
                });
            }
        }
    };
    // `?edit=<id>`: an imported lesson's text into the box; `?url=<address>`: fetch it.
    let query = use_query_map();
    let (edit_id, url) = query.with_untracked(|q| (q.get("edit"), q.get("url")));
    let edit = Callback::new(move |l: ImportedLesson| {
        text.set(l.text.clone());
        pending.set(None);
        status.set(Some(format!(
            "The text of \"{}\" (imported from {}) is in the box to edit; “Check and open” keeps the new version.",
            l.title, l.origin
        )));
        problem.set(check_cached(&l.text).err());
        loaded.set_value(Some((l.origin, l.text)));
    });
    if let Some(id) = edit_id {
        match imported()
            .ok()
            .and_then(|v| v.into_iter().find(|l| l.id == id))
        {
            Some(l) => edit.run(l),
            None => status.set(Some(format!(
                "There is no imported lesson \"{id}\" to edit."
            ))),
        }
    }
    if let Some(u) = url {
        address.set(u);
        fetch();
    }

    let errors = move || {
        problem.get().map(|p| {
            let t = text.get_untracked();
            let rows = excerpt(&t, p.line);
            let line = p.line;
            view! {
                <div class="lesson-errors" role="alert">
                    <h2>"This lesson cannot be opened yet"</h2>
                    <ol>
                        <li data-line=line>
                            {(line > 0).then(|| view! {
                                <button class="link" on:click=move |_| select_line(&text.get_untracked(), line)>{format!("Line {line}")}</button>": "
                            })}
                            <span class="message">{p.message.clone()}</span>
                            {(!rows.is_empty()).then(|| view! {
                                <pre class="excerpt" aria-label=format!("Line {line} and its neighbours")>
                                    {rows.into_iter().map(|(n, l, here)| view! {
                                        <span class="excerpt-line" class:here=here>{format!("{}{n:>4} | {l}\n", if here { "→" } else { " " })}</span>
                                    }).collect_view()}
                                </pre>
                            })}
                        </li>
                    </ol>
                    <p class="hint">"Fix the text in the box and press “Check and open” again: nothing you typed is lost."</p>
                </div>
            }
        })
    };
    let confirm = move || {
        pending.get().map(|(lesson, old_origin)| {
            let l2 = lesson.clone();
            view! {
                <div class="confirm" role="group" aria-label="Replace the imported lesson?">
                    <p>{format!("A lesson with id \"{}\" is already imported (from {old_origin}) with a different text. Replace it with this one?", lesson.id)}</p>
                    <button class="primary" on:click=move |_| { pending.set(None); save_and_open.with_value(|f| f(l2.clone())) }>"Replace and open"</button>
                    " "
                    <button on:click=move |_| pending.set(None)>"Cancel"</button>
                </div>
            }
        })
    };

    view! {
        <main class="author">
            <p class="crumbs"><A href="/">"Distlab"</A>" / "<A href="/course">"course"</A>" / open a lesson"</p>
            <h1>"Open a lesson file"</h1>
            <p class="tagline">"A lesson is a TOML file (the format is in docs/LESSONS.md). Open one from your computer, drop it on the box, or give its address on this site. It is checked here exactly as the built-in lessons are, kept in this browser, and opened."</p>
            <form class="url-form" on:submit=move |ev| { ev.prevent_default(); fetch() }>
                <label for="lesson-url">"Address of a lesson file on this site"</label>
                <input id="lesson-url" type="text" placeholder="/public/lessons/example-stale-read.toml"
                    prop:value=move || address.get() on:input=move |ev| address.set(event_target_value(&ev)) />
                <button type="submit">"Fetch and open"</button>
            </form>
            <ImportBox text=text status=status what="Lesson file (TOML)" pick="Open a lesson file"
                accept=".toml,text/plain,application/toml" rows="18"
                placeholder="id = \"my-lesson\"\ntitle = \"…\"\nsummary = \"…\"\nmodel = \"replication\"\n\n[scenario]\n…\n\n[[step]]\ntitle = \"…\"\ntext = \"\"\"…\"\"\""
                on_file=on_file
                after=move || view! { {errors} {confirm} }>
                <button class="primary" on:click=move |_| attempt()>"Check and open"</button>
            </ImportBox>
            <ImportedList entries=entries on_edit=edit />
        </main>
    }
}

/// The imported lessons with Open, Edit and Remove (confirmed in place); one that no
/// longer resolves is listed with its problem.
#[component]
fn ImportedList(
    entries: RwSignal<Result<Vec<ImportedEntry>, String>>,
    /// Puts a lesson's text into the box.
    on_edit: Callback<ImportedLesson>,
) -> impl IntoView {
    let removing = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    let rows = move || {
        match entries.get() {
        Err(e) => view! { <p class="error" role="alert">{format!("The imported lessons cannot be read: {e}. They are left as they are.")}</p> }.into_any(),
        Ok(list) if list.is_empty() => view! { <p class="meta">"None yet: lessons you open here are listed here and on the course page."</p> }.into_any(),
        Ok(list) => view! {
            <ul class="imported-list">
                {list.into_iter().map(|e| {
                    let id = e.stored.id.clone();
                    let (id_r, id_c) = (id.clone(), id.clone());
                    let title = e.stored.title.clone();
                    let t2 = title.clone();
                    let state = match &e.resolved {
                        Ok(l) => view! { <span class="meta">{format!("{} steps · {} model", l.steps.len(), l.model)}</span> }.into_any(),
                        Err(p) => view! { <span class="error">{format!("No longer opens: {}", p.describe())}</span> }.into_any(),
                    };
                    let ok = e.resolved.is_ok();
                    view! {
                        <li class="imported" data-lesson=id.clone()>
                            <div class="imported-head">
                                <strong>{title.clone()}</strong>
                                <span class="meta">{format!(" ({id}) · from {}", e.stored.origin)}</span>
                            </div>
                            <div>{state}</div>
                            <div class="imported-actions">
                                {ok.then(|| view! { <A href=format!("/lesson/{id}?step=1") attr:class="button">{format!("Open")}<span class="visually-hidden">{format!(" {title}")}</span></A> })}
                                " "
                                {
                                    let stored = e.stored.clone();
                                    view! { <button on:click=move |_| on_edit.run(stored.clone())>"Edit"<span class="visually-hidden">{format!(" {t2}")}</span></button> }
                                }
                                " "
                                {move || if removing.get().as_deref() == Some(id_r.as_str()) {
                                    let (a, b) = (id_c.clone(), id_c.clone());
                                    view! {
                                        <span class="confirm" role="group" aria-label="Confirm removal">
                                            {format!("Remove “{}” from this browser? ", e.stored.title)}
                                            <button class="danger" on:click=move |_| {
                                                match remove_imported(&a) {
                                                    Ok(()) => note.set(Some(format!("Removed \"{b}\"."))),
                                                    Err(m) => note.set(Some(format!("Nothing was removed: {m}"))),
                                                }
                                                removing.set(None);
                                                entries.set(imported_entries());
                                            }>"Remove"</button>
                                            " "
                                            <button on:click=move |_| removing.set(None)>"Keep"</button>
                                        </span>
                                    }.into_any()
                                } else {
                                    let a = id_c.clone();
                                    let t = e.stored.title.clone();
                                    view! { <button on:click=move |_| removing.set(Some(a.clone()))>"Remove"<span class="visually-hidden">{format!(" {t}")}</span></button> }.into_any()
                                }}
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any(),
    }
    };
    view! {
        <section class="imported-lessons" aria-labelledby="imported-h">
            <h2 id="imported-h">"Imported lessons"</h2>
            {rows}
            <p class="status" role="status">{move || note.get()}</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILT_IN: &[&str] = &["replication-lag", "quorums"];

    /// A small valid lesson (the replication model), with `id` and extra narration.
    fn lesson(id: &str, narration: &str) -> String {
        format!(
            r#"id = "{id}"
title = "A test lesson"
summary = "One write, one read."
model = "replication"

[scenario]
leader = {{ name = "leader" }}
followers = [{{ name = "follower-1" }}]
clients = [{{ name = "alice" }}]
actions = [{{ at = 10, action = "write", client = "alice", key = "x", value = "1" }}]

[[step]]
title = "A write"
text = """
{narration}
"""
"#
        )
    }

    #[test]
    fn a_valid_lesson_resolves_with_its_steps() {
        let l = check(&lesson("my-lesson", "Watch **x**."), BUILT_IN).expect("valid");
        assert_eq!(l.id, "my-lesson");
        assert_eq!(l.steps.len(), 1);
        assert!(
            l.steps[0].html.contains("<strong>x</strong>"),
            "{}",
            l.steps[0].html
        );
    }

    #[test]
    fn a_syntax_error_is_reported_at_its_line() {
        let mut t = lesson("my-lesson", "Fine.");
        t = t.replace("model = \"replication\"", "model = \"replication");
        let p = check(&t, BUILT_IN).expect_err("syntax error");
        assert_eq!(p.line, 4, "{p:?}");
    }

    #[test]
    fn an_unknown_node_is_reported_with_its_step_line() {
        let t = lesson("my-lesson", "Fine.").replace(
            "[[step]]\ntitle = \"A write\"",
            "[[step]]\ntitle = \"A write\"\nactions = [{ at = 20, action = \"crash\", node = \"folower-1\" }]",
        );
        let p = check(&t, BUILT_IN).expect_err("unknown node");
        assert!(p.message.contains("folower-1"), "{p:?}");
        let step_line = t.lines().position(|l| l == "[[step]]").unwrap() + 1;
        assert_eq!(p.line, step_line, "{p:?}");
    }

    #[test]
    fn a_built_in_id_is_refused_at_the_id_line() {
        let t = format!("# a comment\n{}", lesson("quorums", "x"));
        let p = check(&t, BUILT_IN).expect_err("taken id");
        assert_eq!(p.line, 2);
        assert!(p.message.contains("built-in"), "{p:?}");
    }

    #[test]
    fn empty_text_says_what_to_do() {
        let p = check("  \n", BUILT_IN).expect_err("empty");
        assert_eq!(p.line, 0);
        assert!(p.message.contains("open a file"), "{p:?}");
    }

    #[test]
    fn raw_html_in_narration_becomes_text() {
        let l = check(
            &lesson(
                "xss",
                "Hello <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>",
            ),
            BUILT_IN,
        )
        .expect("valid");
        let h = &l.steps[0].html;
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }

    #[test]
    fn excerpt_shows_the_line_and_its_neighbours() {
        let t = "a\nb\nc\nd";
        assert_eq!(
            excerpt(t, 2),
            vec![
                (1, "a".to_string(), false),
                (2, "b".to_string(), true),
                (3, "c".to_string(), false)
            ]
        );
        assert_eq!(excerpt(t, 1).len(), 2);
        assert_eq!(excerpt(t, 4).len(), 2);
        assert!(excerpt(t, 0).is_empty());
    }

    #[test]
    fn only_this_sites_addresses_are_fetched() {
        let o = "http://127.0.0.1:8080";
        assert_eq!(
            same_origin_url("/public/lessons/x.toml", o).unwrap(),
            "http://127.0.0.1:8080/public/lessons/x.toml"
        );
        assert_eq!(
            same_origin_url(" public/lessons/x.toml ", o).unwrap(),
            "http://127.0.0.1:8080/public/lessons/x.toml"
        );
        assert_eq!(
            same_origin_url("http://127.0.0.1:8080/a.toml", o).unwrap(),
            "http://127.0.0.1:8080/a.toml"
        );
        assert_eq!(
            same_origin_url("//127.0.0.1:8080/a.toml", o).unwrap(),
            "http://127.0.0.1:8080/a.toml"
        );
        for bad in [
            "https://example.com/a.toml",
            "http://127.0.0.1:8081/a.toml",
            "http://127.0.0.1:8080.evil.com/a.toml",
            "//example.com/a.toml",
        ] {
            let e = same_origin_url(bad, o).expect_err(bad);
            assert!(e.contains("another site"), "{bad}: {e}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/plain,x",
            "file:///etc/passwd",
            "",
        ] {
            assert!(same_origin_url(bad, o).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_id_line_is_found_before_any_table() {
        assert_eq!(id_line("# x\n\nid = \"a\"\n[scenario]\nid = 3"), 3);
        assert_eq!(id_line("[scenario]\nid = \"a\""), 0);
        assert_eq!(id_line("identity = 1\nid=\"a\""), 2);
    }

    #[test]
    fn html_pages_are_not_taken_for_lessons() {
        assert!(looks_like_html("\n<!DOCTYPE html><html>"));
        assert!(looks_like_html("<html lang=en>"));
        assert!(!looks_like_html("id = \"x\""));
    }

    #[test]
    fn stored_lessons_read_back() {
        let l = ImportedLesson {
            id: "a".into(),
            title: "A".into(),
            origin: "file a.toml".into(),
            text: "id = \"a\"".into(),
        };
        let s = serde_json::to_string(&vec![l.clone()]).unwrap();
        let back: Vec<ImportedLesson> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, vec![l]);
    }
}
