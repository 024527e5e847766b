//! Saved runs: runs the learner kept with the share bar's "Save run", in this browser's
//! local storage ([`crate::storage::SAVED_RUNS`]), and `/saved`, the page that lists them:
//! open, rename, delete (with undo), "Export all" (one backup file with the saved runs and
//! any imported lessons) and "Import" (a backup, merged by id, or a single run file from
//! "Run as JSON").
//!
//! Nothing the learner made is lost: a file that cannot be read changes nothing and says
//! why (with the JSON error's line and column); stored data this version cannot read is
//! kept aside before anything new is written.

use crate::lesson_page::lessons;
use crate::share_bar::{download_text, IsolationRun};
use crate::storage;
use distlab_sim::models::{Clocks, Leaderless, Paxos, Quorum, Raft, Replication};
use distlab_sim::share::{LinkError, RunLink};
use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The storage key of saved runs.
const KEY: &str = storage::SAVED_RUNS;

/// One saved run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedRun {
    /// Unique within this browser (and kept across backups, so imports merge by it).
    pub id: String,
    /// The learner's name for it.
    pub name: String,
    /// When it was saved, as an ISO 8601 string.
    pub created: String,
    /// The run's link code ([`RunLink::encode`]).
    pub code: String,
    /// The run's model ("replication", "raft", …, "isolation").
    pub model: String,
    /// The lesson it was made in, if any.
    #[serde(default)]
    pub lesson: Option<String>,
    /// The lesson step, 1-based.
    #[serde(default)]
    pub step: Option<usize>,
    /// The address that opens it (path and query, with `run=`); computed from the run when
    /// absent.
    #[serde(default)]
    pub href: String,
}

impl SavedRun {
    /// A saved run of `link`, opened at `href`.
    pub fn new(link: &RunLink, href: String, name: String, id: String, created: String) -> Self {
        SavedRun {
            id,
            name,
            created,
            code: link.encode(),
            model: link.model.clone(),
            lesson: link.lesson.clone(),
            step: link.step,
            href,
        }
    }

    /// Where "Open" goes.
    pub fn href(&self) -> String {
        if self.href.starts_with('/') {
            self.href.clone()
        } else {
            RunLink::decode(&self.code)
                .map(|l| href_for(&l, &self.code))
                .unwrap_or_else(|_| "/".into())
        }
    }
}

/// A page that can show `link`'s run, with `code`: its lesson step; else the free lab
/// (replication), the isolation lab, or the first lesson of its model.
pub fn href_for(link: &RunLink, code: &str) -> String {
    if let Some(id) = &link.lesson {
        if lessons().iter().any(|l| &l.id == id) {
            return format!(
                "/lesson/{id}?step={}&run={code}",
                link.step.unwrap_or(1).max(1)
            );
        }
    }
    // The run's own preset when it names a known one (never a path from the file).
    let own = |ids: &[&str]| {
        link.preset
            .as_deref()
            .filter(|p| ids.contains(p))
            .map(str::to_string)
    };
    match link.model.as_str() {
        "replication" => {
            let presets = distlab_sim::models::replication::presets::presets();
            let ids: Vec<&str> = presets.iter().map(|p| p.id).collect();
            let preset = own(&ids)
                .or_else(|| ids.first().map(|p| p.to_string()))
                .unwrap_or_default();
            format!("/lab/{preset}?run={code}")
        }
        "isolation" => {
            let ids: Vec<&str> = distlab_sim::models::txn::presets::PRESETS
                .iter()
                .map(|p| p.id)
                .collect();
            let preset = own(&ids)
                .or_else(|| ids.first().map(|p| p.to_string()))
                .unwrap_or_default();
            let (level, line) = IsolationRun::of_link(link)
                .map(|(r, line)| (distlab_sim::share::isolation_key(r.level), line))
                .unwrap_or(("rc", Some(0)));
            let line = line.map_or(String::new(), |l| format!("&line={l}"));
            format!("/isolation/{preset}?level={level}{line}&run={code}")
        }
        model => match lessons().iter().find(|l| l.model == model) {
            Some(l) => format!("/lesson/{}?step=1&run={code}", l.id),
            None => "/".into(),
        },
    }
}

/// Whether this version of Distlab can open `link`'s run: a known model whose scenario
/// and interventions fit it.
pub fn check_run(link: &RunLink) -> Result<(), LinkError> {
    fn ok<T>(r: Result<T, LinkError>) -> Result<(), LinkError> {
        r.map(|_| ())
    }
    match link.model.as_str() {
        "replication" => ok(link.run::<Replication>()),
        "clocks" => ok(link.run::<Clocks>()),
        "leaderless" => ok(link.run::<Leaderless>()),
        "raft" => ok(link.run::<Raft>()),
        "paxos" => ok(link.run::<Paxos>()),
        "failure-detector" => ok(link.run::<distlab_sim::models::FailureDetector>()),
        "quorum" => ok(link.run::<Quorum>()),
        "gossip" => ok(link.run::<distlab_sim::models::Gossip>()),
        "twopc" => ok(link.run::<distlab_sim::models::TwoPc>()),
        "isolation" => ok(IsolationRun::of_link(link)),
        other => Err(LinkError::BadRun(format!(
            "it is a run of \"{other}\", which this version of Distlab does not know"
        ))),
    }
}

/// Everything the learner made, in one file ("Export all").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// Always `"backup"`: what tells a backup from other JSON.
    pub distlab: String,
    /// The backup format ([`BACKUP_VERSION`]).
    pub version: u32,
    #[serde(default)]
    pub runs: Vec<SavedRun>,
    /// Imported lessons as stored ([`storage::IMPORTED_LESSONS`]: each a
    /// `crate::author::ImportedLesson`), kept as they are.
    #[serde(default)]
    pub lessons: Vec<Value>,
}

/// The backup format this version writes and reads.
pub const BACKUP_VERSION: u32 = 1;

impl Backup {
    /// A backup of `runs` and `lessons`.
    pub fn new(runs: Vec<SavedRun>, lessons: Vec<Value>) -> Backup {
        Backup {
            distlab: "backup".into(),
            version: BACKUP_VERSION,
            runs,
            lessons,
        }
    }
}

/// What an imported file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Import {
    /// A backup ("Export all").
    Backup(Backup),
    /// One run ("Run as JSON").
    Run(RunLink),
}

/// A JSON error in words with its line and column: "line 3, column 7: expected `,` or `}`".
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let what = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(w, _)| w);
    format!("line {}, column {}: {what}", e.line(), e.column())
}

/// Reads an imported file. Errors say what is wrong, with the JSON error's line and column;
/// every run in a backup must be one this version can open.
pub fn parse_import(text: &str) -> Result<Import, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("it is not valid JSON ({})", json_error(&e)))?;
    if value.get("distlab").and_then(Value::as_str) == Some("backup") {
        let version = value.get("version").and_then(Value::as_u64).unwrap_or(0);
        if version > BACKUP_VERSION as u64 {
            return Err(format!(
                "it is a backup made by a newer Distlab (format {version}; this one reads up to {BACKUP_VERSION})"
            ));
        }
        let backup: Backup = serde_json::from_str(text)
            .map_err(|e| format!("it is not a valid Distlab backup ({})", json_error(&e)))?;
        for (i, r) in backup.runs.iter().enumerate() {
            RunLink::decode(&r.code)
                .and_then(|l| check_run(&l))
                .map_err(|e| {
                    format!(
                        "run {} (“{}”) in the backup cannot be opened: {e}",
                        i + 1,
                        r.name
                    )
                })?;
        }
        for (i, l) in backup.lessons.iter().enumerate() {
            serde_json::from_value::<crate::author::ImportedLesson>(l.clone()).map_err(|e| {
                format!(
                    "lesson {} in the backup is not an imported lesson: {e}",
                    i + 1
                )
            })?;
        }
        return Ok(Import::Backup(backup));
    }
    if value.get("model").is_some() && value.get("scenario").is_some() {
        let link = RunLink::from_json(text).map_err(|e| e.to_string())?;
        check_run(&link).map_err(|e| e.to_string())?;
        return Ok(Import::Run(link));
    }
    Err("it is neither a Distlab backup (from “Export all”) nor a run (from “Run as JSON”)".into())
}

/// Adds the runs of `incoming` whose id is not in `runs` yet; returns (added, already
/// there). Runs already here keep their names.
pub fn merge_runs(runs: &mut Vec<SavedRun>, incoming: Vec<SavedRun>) -> (usize, usize) {
    let (mut added, mut skipped) = (0, 0);
    for r in incoming {
        if runs.iter().any(|x| x.id == r.id) {
            skipped += 1;
        } else {
            runs.push(r);
            added += 1;
        }
    }
    (added, skipped)
}

/// Adds the lessons of `incoming` not in `lessons` yet (the same `id`, or the same value
/// when they have none); returns how many were added.
pub fn merge_lessons(lessons: &mut Vec<Value>, incoming: Vec<Value>) -> usize {
    let mut added = 0;
    for l in incoming {
        let same = |x: &Value| match (x.get("id"), l.get("id")) {
            (Some(a), Some(b)) => a == b,
            _ => *x == l,
        };
        if !lessons.iter().any(same) {
            lessons.push(l);
            added += 1;
        }
    }
    added
}

/// The default name of a run imported from a run file: its lesson and step, if any.
pub fn imported_name(link: &RunLink, date: &str) -> String {
    let lesson = link
        .lesson
        .as_ref()
        .and_then(|id| lessons().iter().find(|l| &l.id == id))
        .map(|l| l.title.clone());
    match (lesson, link.step) {
        (Some(t), Some(s)) => format!("{t}, step {s}, {date} (imported)"),
        (Some(t), None) => format!("{t}, {date} (imported)"),
        _ => format!("A {} run, {date} (imported)", link.model),
    }
}

/// A fresh id: the time in ms and a random part.
pub fn new_id() -> String {
    format!(
        "{:x}-{:06x}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 16_777_216.0) as u64
    )
}

/// Now, as an ISO 8601 string.
pub fn now_iso() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

/// Today and now in local time, `2026-11-30 14:05`.
pub fn local_date() -> String {
    let d = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// Keeps the unreadable text under `key` aside before it may be overwritten: under
/// `<key>.unreadable` ([`storage::quarantine`]), or, when an earlier copy already holds
/// something else, under a key of its own. Returns the key it is kept under.
fn keep_aside(key: &str) -> String {
    storage::quarantine(key);
    let aside = format!("{key}.unreadable");
    let text = storage::raw(key);
    if storage::raw(&aside) == text {
        return aside;
    }
    let own = format!("{aside}.{}", js_sys::Date::now() as u64);
    // Stored as a JSON string: the text itself, unchanged inside it.
    let _ = storage::save(&own, &text);
    own
}

/// The saved runs, and a sentence if the stored ones could not be read (they are then kept
/// aside and the list starts empty).
pub fn load_runs() -> (Vec<SavedRun>, Option<String>) {
    match storage::load::<Vec<SavedRun>>(KEY) {
        Ok(v) => (v.unwrap_or_default(), None),
        Err(e) => {
            let aside = keep_aside(KEY);
            (
                Vec::new(),
                Some(format!(
                    "The saved runs stored in this browser could not be read: {e}. They are kept unchanged under “{aside}”; runs saved from now on start a new list."
                )),
            )
        }
    }
}

/// Reads the stored runs, changes them with `f` and stores them. Returns `f`'s answer, the
/// new list, and a note if the stored runs were unreadable (kept aside).
fn update_runs<T>(
    f: impl FnOnce(&mut Vec<SavedRun>) -> T,
) -> Result<(T, Vec<SavedRun>, Option<String>), String> {
    let (mut runs, problem) = load_runs();
    let answer = f(&mut runs);
    storage::save(KEY, &runs)?;
    Ok((answer, runs, problem))
}

/// Adds a saved run; returns its name and a note if the earlier saved runs were unreadable.
pub fn add(run: SavedRun) -> Result<(String, Option<String>), String> {
    let name = run.name.clone();
    update_runs(|runs| runs.push(run)).map(|(_, _, p)| (name, p))
}

/// The imported lessons as stored: `Ok(None)` when there are none, `Err` when the stored
/// value is not a list (unreadable, or a format this page does not know).
fn stored_lessons() -> Result<Option<Vec<Value>>, String> {
    storage::load::<Value>(storage::IMPORTED_LESSONS).and_then(|v| match v {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => {
            Err("the imported lessons are stored in a format this page does not know".into())
        }
    })
}

/// Applies an imported file's text; returns what was done, or (changing nothing) why not.
fn import_text(file: &str, text: &str) -> Result<String, String> {
    let bad = |e: String| format!("{file} was not imported: {e}. Nothing was changed.");
    match parse_import(text).map_err(bad)? {
        Import::Run(mut link) => {
            link.v = distlab_sim::share::VERSION;
            let code = link.encode();
            let run = SavedRun::new(
                &link,
                href_for(&link, &code),
                imported_name(&link, &local_date()),
                new_id(),
                now_iso(),
            );
            let name = run.name.clone();
            let (_, _, problem) = update_runs(|runs| runs.push(run))?;
            Ok(format!(
                "Added “{name}” from {file}.{}",
                problem.map(|p| format!(" {p}")).unwrap_or_default()
            ))
        }
        Import::Backup(b) => {
            let lessons_note = if b.lessons.is_empty() {
                String::new()
            } else {
                match stored_lessons() {
                    Ok(current) => {
                        let mut current = current.unwrap_or_default();
                        let n = merge_lessons(&mut current, b.lessons);
                        storage::save(storage::IMPORTED_LESSONS, &current)?;
                        format!(" {n} lesson{} added.", if n == 1 { "" } else { "s" })
                    }
                    Err(e) => format!(" Its lessons were not merged: {e}."),
                }
            };
            let ((added, skipped), _, problem) = update_runs(|runs| merge_runs(runs, b.runs))?;
            Ok(format!(
                "Imported {file}: {added} run{} added{}.{lessons_note}{}",
                if added == 1 { "" } else { "s" },
                if skipped > 0 {
                    format!(", {skipped} already here")
                } else {
                    String::new()
                },
                problem.map(|p| format!(" {p}")).unwrap_or_default()
            ))
        }
    }
}

/// A run's line under its name: lesson and step (or model) and when it was saved.
fn run_meta(r: &SavedRun) -> String {
    let place = match (&r.lesson, r.step) {
        (Some(l), Some(s)) => {
            let title = lessons()
                .iter()
                .find(|x| &x.id == l)
                .map_or(l.clone(), |x| x.title.clone());
            format!("{title}, step {s}")
        }
        _ => format!("{} lab", r.model),
    };
    let when = r.created.get(..16).unwrap_or(&r.created).replace('T', " ");
    format!("{place} · saved {when} UTC")
}

/// A change to the saved runs.
type Edit = Box<dyn FnOnce(&mut Vec<SavedRun>)>;

/// `/saved`: the saved runs.
#[component]
pub fn SavedPage() -> impl IntoView {
    let (initial, problem) = load_runs();
    let runs = RwSignal::new(initial);
    let problem = RwSignal::new(problem);
    let status = RwSignal::new(None::<String>);
    let import_error = RwSignal::new(None::<String>);
    let undo = RwSignal::new(None::<(usize, SavedRun)>);
    let editing = RwSignal::new(None::<String>);
    let draft = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);

    let change = move |f: Edit| match update_runs(f) {
        Ok(((), list, p)) => {
            runs.set(list);
            if p.is_some() {
                problem.set(p);
            }
        }
        Err(e) => problem.set(Some(e)),
    };
    let rename = move |id: String| {
        let name = draft.get_untracked().trim().to_string();
        editing.set(None);
        if name.is_empty() {
            status.set(Some("A name cannot be empty: the old name is kept.".into()));
            return;
        }
        change(Box::new(move |rs| {
            if let Some(r) = rs.iter_mut().find(|r| r.id == id) {
                r.name = name;
            }
        }));
    };
    let delete = move |id: String| {
        let found = runs.with_untracked(|rs| {
            rs.iter()
                .position(|r| r.id == id)
                .map(|i| (i, rs[i].clone()))
        });
        if let Some((i, r)) = found {
            change(Box::new(move |rs| rs.retain(|x| x.id != id)));
            status.set(Some(format!("Deleted “{}”.", r.name)));
            undo.set(Some((i, r)));
        }
    };
    let undo_delete = move |_| {
        if let Some((i, r)) = undo.get_untracked() {
            let name = r.name.clone();
            change(Box::new(move |rs| {
                if !rs.iter().any(|x| x.id == r.id) {
                    rs.insert(i.min(rs.len()), r);
                }
            }));
            undo.set(None);
            status.set(Some(format!("Restored “{name}”.")));
        }
    };
    let export_all = move |_| {
        let lessons = stored_lessons().ok().flatten().unwrap_or_default();
        let backup = Backup::new(runs.get_untracked(), lessons);
        let text = serde_json::to_string_pretty(&backup).unwrap_or_default();
        let date = local_date().get(..10).unwrap_or("").to_string();
        status.set(Some(
            match download_text(
                &format!("distlab-backup-{date}.json"),
                "application/json",
                &text,
            ) {
                Ok(()) => format!(
                    "Backup downloaded: {} run{} and {} lesson{}.",
                    backup.runs.len(),
                    if backup.runs.len() == 1 { "" } else { "s" },
                    backup.lessons.len(),
                    if backup.lessons.len() == 1 { "" } else { "s" }
                ),
                Err(e) => format!("The backup could not be downloaded: {e}"),
            },
        ));
    };
    let import_file = move |file: web_sys::File| {
        let name = file.name();
        let promise = file.text();
        status.set(Some(format!("Reading {name}…")));
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .ok()
                .and_then(|v| v.as_string())
            {
                Some(text) => match import_text(&name, &text) {
                    Ok(msg) => {
                        import_error.set(None);
                        runs.set(load_runs().0);
                        status.set(Some(msg));
                    }
                    Err(e) => {
                        status.set(None);
                        import_error.set(Some(e));
                    }
                },
                None => {
                    status.set(None);
                    import_error.set(Some(format!(
                        "{name} could not be read as text. Nothing was changed."
                    )));
                }
            }
        });
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(f) = input.files().and_then(|l| l.get(0)) {
            import_file(f);
        }
        // The same file may be picked again after a fix.
        input.set_value("");
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(f) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|l| l.get(0))
        {
            import_file(f);
        }
    };

    let row = move |r: SavedRun| {
        let id = r.id.clone();
        let (id2, id3, id4) = (id.clone(), id.clone(), id.clone());
        let name = r.name.clone();
        let (rename_label, delete_label, field_label) = (
            format!("Rename {name}"),
            format!("Delete {name}"),
            format!("New name for {name}"),
        );
        let href = r.href();
        let shown = name.clone();
        let is_editing = move || editing.with(|e| e.as_deref() == Some(id.as_str()));
        let start = {
            let name = name.clone();
            move |_| {
                draft.set(name.clone());
                editing.set(Some(id2.clone()));
            }
        };
        view! {
            <li class="saved-run" data-id=r.id.clone()>
                {move || if is_editing() {
                    let (id_a, id_b) = (id3.clone(), id3.clone());
                    view! {
                        <div class="rename-row">
                            <input type="text" aria-label=field_label.clone() prop:value=move || draft.get()
                                on:input=move |ev| draft.set(event_target_value(&ev))
                                on:keydown=move |ev: web_sys::KeyboardEvent| match ev.key().as_str() {
                                    "Enter" => rename(id_a.clone()),
                                    "Escape" => editing.set(None),
                                    _ => {}
                                } />
                            <button class="primary" on:click=move |_| rename(id_b.clone())>"Save name"</button>
                            <button on:click=move |_| editing.set(None)>"Cancel"</button>
                        </div>
                    }.into_any()
                } else {
                    let (h, n) = (href.clone(), shown.clone());
                    view! { <A href=h attr:class="saved-name">{n}</A> }.into_any()
                }}
                <p class="meta">{run_meta(&r)}</p>
                <div class="row-buttons">
                    <A href=r.href() attr:class="button" attr:aria-label=format!("Open {}", r.name)>"Open"</A>
                    <button aria-label=rename_label on:click=start>"Rename"</button>
                    <button aria-label=delete_label on:click=move |_| delete(id4.clone())>"Delete"</button>
                </div>
            </li>
        }
    };

    view! {
        <div class="saved-page">
            <header class="free-head">
                <p class="crumbs"><A href="/">"Distlab"</A>" / saved runs"</p>
                <h1>"Saved runs"</h1>
                <p class="hint">"Runs you kept with “Save run” under a diagram. They live in this browser only: use “Export all” to keep a copy or move them to another browser."</p>
            </header>
            {move || problem.get().map(|p| view! { <p class="notice" role="alert">{p}</p> })}
            <div class="saved-actions">
                <button class="primary" on:click=export_all>"Export all"</button>
                <label class="button">
                    "Import from a file…"
                    <input type="file" accept=".json,application/json" aria-label="Import from a file" class="visually-hidden" on:change=on_pick />
                </label>
                <span class="saved-status" role="status" aria-live="polite">
                    {move || status.get()}
                    {move || undo.get().map(|_| view! { " " <button class="link" on:click=undo_delete>"Undo"</button> })}
                </span>
            </div>
            {move || import_error.get().map(|e| view! { <p class="notice import-error" role="alert">{e}</p> })}
            <section class="drop-zone" class:dragging=move || dragging.get() aria-label="Drop a backup or run file here"
                on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <p class="hint">"Or drop a file here: a backup from “Export all” (runs already here are not duplicated) or a run from “Run as JSON”."</p>
            </section>
            {move || {
                let list = runs.get();
                if list.is_empty() {
                    view! { <p class="meta empty">"No saved runs yet. Use “Save run” under any lesson's or lab's diagram."</p> }.into_any()
                } else {
                    view! { <ul class="saved-list" aria-label="Saved runs">{list.into_iter().map(row).collect_view()}</ul> }.into_any()
                }
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raft_link() -> RunLink {
        let lesson = lessons().iter().find(|l| l.model == "raft").unwrap();
        let (scn, ivs) = lesson.steps[0].raft().unwrap();
        let mut link = RunLink::of::<Raft>(scn, ivs, Some(3));
        link.lesson = Some(lesson.id.clone());
        link.step = Some(1);
        link
    }

    fn saved(id: &str, name: &str) -> SavedRun {
        let link = raft_link();
        let code = link.encode();
        SavedRun::new(
            &link,
            href_for(&link, &code),
            name.into(),
            id.into(),
            "2026-11-30T10:00:00.000Z".into(),
        )
    }

    #[test]
    fn a_backup_round_trips_and_merges_by_id() {
        let lesson = serde_json::json!({"id": "l1", "title": "Mine", "origin": "typed or pasted here", "text": "id = \"l1\""});
        let b = Backup::new(
            vec![saved("a", "first"), saved("b", "second")],
            vec![lesson],
        );
        let text = serde_json::to_string_pretty(&b).unwrap();
        assert!(text.contains("\"distlab\": \"backup\""));
        let Import::Backup(back) = parse_import(&text).unwrap() else {
            panic!("not a backup")
        };
        assert_eq!(back, b);
        let mut mine = vec![saved("a", "renamed by me")];
        assert_eq!(merge_runs(&mut mine, back.runs.clone()), (1, 1));
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].name, "renamed by me");
        // Importing the same backup again adds nothing.
        assert_eq!(merge_runs(&mut mine, back.runs), (0, 2));
        let mut lessons = vec![serde_json::json!({"id": "l1", "text": "mine"})];
        assert_eq!(
            merge_lessons(
                &mut lessons,
                vec![
                    serde_json::json!({"id": "l1"}),
                    serde_json::json!({"id": "l2"})
                ]
            ),
            1
        );
        assert_eq!(lessons.len(), 2);
    }

    #[test]
    fn a_run_file_is_a_run_and_opens_at_its_lesson_step() {
        let link = raft_link();
        let Import::Run(back) = parse_import(&link.to_json()).unwrap() else {
            panic!("not a run")
        };
        assert_eq!(back, link);
        let code = back.encode();
        let href = href_for(&back, &code);
        assert_eq!(
            href,
            format!(
                "/lesson/{}?step=1&run={code}",
                link.lesson.as_deref().unwrap()
            )
        );
        assert!(imported_name(&back, "2026-11-30 10:00")
            .ends_with(", step 1, 2026-11-30 10:00 (imported)"));
    }

    #[test]
    fn bad_files_say_what_is_wrong_and_where() {
        let e = parse_import("{\n  \"distlab\": \"backup\",\n  \"runs\": [1,]\n}").unwrap_err();
        assert!(e.starts_with("it is not valid JSON (line 3, column"), "{e}");
        let e = parse_import("{\"distlab\": \"backup\", \"version\": 1, \"runs\": [{\"id\": 3}]}")
            .unwrap_err();
        assert!(
            e.contains("not a valid Distlab backup (line 1, column"),
            "{e}"
        );
        let e = parse_import("{\"distlab\": \"backup\", \"version\": 7}").unwrap_err();
        assert!(e.contains("newer Distlab (format 7"), "{e}");
        let e = parse_import(
            "{\"distlab\": \"backup\", \"version\": 1, \"lessons\": [{\"id\": \"x\"}]}",
        )
        .unwrap_err();
        assert!(
            e.starts_with("lesson 1 in the backup is not an imported lesson: missing field"),
            "{e}"
        );
        let e = parse_import("[1, 2]").unwrap_err();
        assert!(e.contains("neither a Distlab backup"), "{e}");
        let mut bad = saved("x", "broken");
        bad.code = "1.AAAA".into();
        let text = serde_json::to_string(&Backup::new(vec![bad], vec![])).unwrap();
        let e = parse_import(&text).unwrap_err();
        assert!(
            e.starts_with(
                "run 1 (“broken”) in the backup cannot be opened: the run code is damaged"
            ),
            "{e}"
        );
        let mut foreign = raft_link();
        foreign.model = "quorum".into();
        let e = parse_import(&foreign.to_json()).unwrap_err();
        assert!(e.contains("scenario does not fit"), "{e}");
    }

    #[test]
    fn lab_and_isolation_runs_without_a_lesson_open_in_their_labs() {
        let p = distlab_sim::models::replication::presets::presets().remove(0);
        let link = RunLink::of::<Replication>(&p.scenario, &p.interventions, None);
        assert_eq!(href_for(&link, "C"), format!("/lab/{}?run=C", p.id));
        let iso = IsolationRun {
            script: "T1: BEGIN;".into(),
            level: distlab_sim::models::txn::ast::IsolationLevel::RepeatableRead,
            compare: None,
        }
        .link(Some(1));
        assert!(href_for(&iso, "C").ends_with("?level=rr&line=1&run=C"));
        assert!(check_run(&iso).is_ok());
    }

    #[test]
    fn a_run_reopens_in_its_own_preset_and_only_a_known_one() {
        let all = distlab_sim::models::replication::presets::presets();
        let p = all.last().unwrap();
        assert_ne!(p.id, all[0].id, "at least two presets");
        let mut link = RunLink::of::<Replication>(&p.scenario, &p.interventions, None);
        link.preset = Some(p.id.to_string());
        let back = RunLink::from_json(&link.to_json()).unwrap();
        assert_eq!(href_for(&back, "C"), format!("/lab/{}?run=C", p.id));
        for bad in ["//evil.example", "../saved", "no-such-preset"] {
            link.preset = Some(bad.into());
            assert_eq!(href_for(&link, "C"), format!("/lab/{}?run=C", all[0].id));
        }
        let last = distlab_sim::models::txn::presets::PRESETS.last().unwrap();
        let mut iso = IsolationRun {
            script: "T1: BEGIN;".into(),
            level: distlab_sim::models::txn::ast::IsolationLevel::RepeatableRead,
            compare: None,
        }
        .link(Some(1));
        iso.preset = Some(last.id.to_string());
        assert!(href_for(&iso, "C").starts_with(&format!("/isolation/{}?level=rr", last.id)));
    }
}
