//! The course: the built-in lessons in the order of *Designing Data-Intensive Applications*,
//! grouped by part, each with the learner's progress (steps visited, completed, where to
//! continue) kept in local storage; imported lessons in a group of their own. Shown on the
//! home page and at `/course` (with "Reset progress").
//!
//! Progress is recorded by the lesson pages: [`record_visit`] when a step is shown
//! (`lesson_page::step_nav`), [`note_challenge`] when a step's challenge is solved. The
//! pure part ([`LessonProgress`], [`course_parts`]) is unit-tested natively.

use crate::author::{self, ImportedEntry};
use crate::storage;
use distlab_sim::lesson::ResolvedLesson;
use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A part of the course: a title, where it is in DDIA, and its lessons' ids in order.
pub struct Part {
    pub title: &'static str,
    /// Where the book covers it, e.g. "DDIA chapter 5".
    pub book: &'static str,
    pub lessons: &'static [&'static str],
}

/// The course's parts in the book's order. A part with no lesson is left out of the page;
/// built-in lessons not listed here are shown after them under "More lessons", so none is
/// ever hidden.
pub const PARTS: &[Part] = &[
    Part {
        title: "Replication",
        book: "DDIA chapter 5",
        lessons: &[
            "replication-lag",
            "session-guarantees",
            "quorums",
            "version-vectors",
        ],
    },
    Part {
        title: "Transactions and isolation",
        book: "DDIA chapter 7",
        lessons: &["isolation-levels"],
    },
    Part {
        title: "Faults and membership",
        book: "DDIA chapter 8",
        lessons: &["failure-detectors", "gossip"],
    },
    Part {
        title: "Linearizability and CAP",
        book: "DDIA chapter 9",
        lessons: &["linearizability", "cap"],
    },
    Part {
        title: "Clocks and causality",
        book: "DDIA chapters 8 and 9",
        lessons: &["logical-clocks"],
    },
    Part {
        title: "Consensus",
        book: "DDIA chapter 9",
        lessons: &["leader-election", "log-replication", "raft-lab", "paxos"],
    },
    Part {
        title: "Distributed transactions",
        book: "DDIA chapter 9",
        lessons: &["two-phase-commit"],
    },
];

/// The parts to show, each with its lessons found among `all` (in the part's order),
/// empty parts left out, then "More lessons" with any lesson of `all` no part lists (in
/// `all`'s order).
pub fn course_parts(
    all: &[ResolvedLesson],
) -> Vec<(&'static str, &'static str, Vec<&ResolvedLesson>)> {
    let mut out: Vec<(&'static str, &'static str, Vec<&ResolvedLesson>)> = PARTS
        .iter()
        .map(|p| {
            let ls = p
                .lessons
                .iter()
                .filter_map(|id| all.iter().find(|l| l.id == *id))
                .collect::<Vec<_>>();
            (p.title, p.book, ls)
        })
        .filter(|(_, _, ls)| !ls.is_empty())
        .collect();
    let rest: Vec<&ResolvedLesson> = all
        .iter()
        .filter(|l| !PARTS.iter().any(|p| p.lessons.contains(&l.id.as_str())))
        .collect();
    if !rest.is_empty() {
        out.push(("More lessons", "", rest));
    }
    out
}

/// What the learner has done in one lesson.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonProgress {
    /// Steps shown at least once (0-based).
    pub visited: BTreeSet<usize>,
    /// The step shown last (0-based): where "Continue" goes.
    pub last: usize,
    /// Whether one of the lesson's challenges was solved.
    #[serde(default)]
    pub solved: bool,
}

/// Progress per lesson id, as stored under [`storage::PROGRESS`].
pub type Progress = BTreeMap<String, LessonProgress>;

/// A lesson's progress as the course shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Steps visited that the lesson still has (a lesson may have lost steps since).
    pub visited: usize,
    pub total: usize,
    /// The last step was reached, or a challenge solved.
    pub completed: bool,
    /// 1-based step to continue at; `None` when the lesson was never opened.
    pub continue_at: Option<usize>,
}

impl LessonProgress {
    /// Records that step `step` (0-based) was shown.
    pub fn visit(&mut self, step: usize) {
        self.visited.insert(step);
        self.last = step;
    }

    /// The summary for a lesson of `total` steps.
    pub fn summary(&self, total: usize) -> Summary {
        let visited = self.visited.iter().filter(|&&s| s < total).count();
        Summary {
            visited,
            total,
            completed: self.solved
                || total
                    .checked_sub(1)
                    .is_some_and(|last| self.visited.contains(&last)),
            continue_at: (!self.visited.is_empty())
                .then(|| self.last.min(total.saturating_sub(1)) + 1),
        }
    }
}

/// The summary of lesson `id` (of `total` steps) in `p`; a lesson never opened has
/// nothing visited.
pub fn summary_of(p: &Progress, id: &str, total: usize) -> Summary {
    p.get(id).cloned().unwrap_or_default().summary(total)
}

/// The stored progress (an unreadable value is kept aside by `storage::quarantine` and
/// counts as none).
pub fn load_progress() -> Progress {
    storage::load_or_default(storage::PROGRESS)
}

fn update(f: impl FnOnce(&mut Progress) -> bool) {
    let mut p = load_progress();
    if f(&mut p) {
        // Progress is a convenience: when storage is full or disabled the lesson still works.
        let _ = storage::save(storage::PROGRESS, &p);
    }
}

/// Records that step `step` (0-based) of lesson `id` was shown.
pub fn record_visit(id: &str, step: usize) {
    update(|p| {
        let e = p.entry(id.to_string()).or_default();
        if e.last == step && e.visited.contains(&step) {
            return false;
        }
        e.visit(step);
        true
    });
}

/// Records that a challenge of lesson `id` was solved.
pub fn record_solved(id: &str) {
    update(|p| {
        let e = p.entry(id.to_string()).or_default();
        if e.solved {
            return false;
        }
        e.solved = true;
        true
    });
}

/// Forgets all progress (after the learner confirmed).
pub fn reset_progress() {
    storage::remove(storage::PROGRESS);
}

/// The lesson a page shows, for [`note_challenge`]: provided by `step_nav`.
#[derive(Clone)]
pub struct CurrentLesson(pub String);

/// Called by a lesson page's challenge status with whether the challenge is met; records a
/// solved challenge for the lesson in context (nothing when there is none).
pub fn note_challenge(met: bool) {
    if met {
        if let Some(CurrentLesson(id)) = use_context::<CurrentLesson>() {
            record_solved(&id);
        }
    }
}

/// One lesson with its progress: title, summary, "N of M steps visited", "Completed", and
/// "Start lesson →" or "Continue at step N".
#[component]
fn LessonEntry(
    id: String,
    title: String,
    summary: String,
    total: usize,
    progress: RwSignal<Progress>,
    /// Heading level of the title (3 or 4).
    level: u8,
    #[prop(optional)] extra: Option<AnyView>,
) -> impl IntoView {
    let id2 = id.clone();
    let s = Memo::new(move |_| progress.with(|p| summary_of(p, &id2, total)));
    let start = format!("/lesson/{id}?step=1");
    let id3 = id.clone();
    let title2 = title.clone();
    view! {
        <li class="lesson-card course-lesson" data-lesson=id.clone()
            data-visited=move || s.get().visited data-total=total
            data-completed=move || s.get().completed.to_string()>
            {match level {
                4 => view! { <h4><A href=start.clone()>{title.clone()}</A></h4> }.into_any(),
                _ => view! { <h3><A href=start.clone()>{title.clone()}</A></h3> }.into_any(),
            }}
            <p>{summary}</p>
            {extra}
            <p class="meta progress-line">
                <progress max=total value=move || s.get().visited
                    aria-label=move || format!("{title2}: {} of {total} steps visited", s.get().visited)></progress>
                <span class="progress-text">{move || format!("{} of {total} steps visited", s.get().visited)}</span>
                {move || s.get().completed.then(|| view! { <span class="done">"✓ Completed"</span> })}
            </p>
            {move || match s.get().continue_at {
                Some(k) => view! {
                    <A href=format!("/lesson/{id3}?step={k}") attr:class="button primary">{format!("Continue at step {k}")}</A>
                }.into_any(),
                None => view! { <A href=start.clone() attr:class="button primary">"Start lesson →"</A> }.into_any(),
            }}
        </li>
    }
}

/// An imported lesson that no longer opens: its id, origin and the problem, with the way
/// to fix it.
fn broken_entry(e: &ImportedEntry, problem: &author::Problem, level: u8) -> impl IntoView {
    let title = e.stored.title.clone();
    view! {
        <li class="lesson-card course-lesson broken" data-lesson=e.stored.id.clone()>
            {match level {
                4 => view! { <h4>{title}</h4> }.into_any(),
                _ => view! { <h3>{title}</h3> }.into_any(),
            }}
            <p class="meta">{format!("Imported from {}", e.stored.origin)}</p>
            <p class="error" role="note">{format!("This lesson no longer opens: {}", problem.describe())}</p>
            <A href=format!("/lessons/open?edit={}", e.stored.id) attr:class="button">"Fix it on the lessons page"</A>
        </li>
    }
}

/// The course: parts with their lessons and progress, the imported lessons, and (when
/// `reset` is set) "Reset progress" with its confirmation.
#[component]
pub fn Course(
    /// Heading level of the parts' titles: the page's structure differs between the home
    /// page (parts are `h3` under "Lessons") and `/course` (parts are `h2`).
    #[prop(default = 2)]
    level: u8,
    #[prop(default = false)] reset: bool,
) -> impl IntoView {
    let progress = RwSignal::new(load_progress());
    let heading = move |text: String, id: String| match level {
        3 => view! { <h3 class="part-title" id=id>{text}</h3> }.into_any(),
        _ => view! { <h2 class="part-title" id=id>{text}</h2> }.into_any(),
    };
    let built_in = crate::lesson_page::lessons();
    let parts = course_parts(built_in)
        .into_iter()
        .enumerate()
        .map(|(k, (title, book, ls))| {
            let hid = format!("part-{k}");
            view! {
                <section class="course-part" aria-labelledby=hid.clone()>
                    {heading(title.to_string(), hid.clone())}
                    {(!book.is_empty()).then(|| view! { <p class="meta">{book}</p> })}
                    <ul class="lesson-list">
                        {ls.into_iter().map(|l| view! {
                            <LessonEntry id=l.id.clone() title=l.title.clone() summary=l.summary.clone()
                                total=l.steps.len() progress=progress level=level + 1 />
                        }).collect_view()}
                    </ul>
                </section>
            }
        })
        .collect_view();
    let imported = author::imported_entries();
    let imported_view = match imported {
        Err(e) => Some(
            view! {
                <section class="course-part" aria-labelledby="part-imported">
                    {heading("Imported lessons".into(), "part-imported".into())}
                    <p class="error" role="alert">{format!("The imported lessons cannot be read: {e}. They are kept as they are; open the lessons page to import again.")}</p>
                </section>
            }
            .into_any(),
        ),
        Ok(list) if list.is_empty() => None,
        Ok(list) => Some(
            view! {
                <section class="course-part" aria-labelledby="part-imported">
                    {heading("Imported lessons".into(), "part-imported".into())}
                    <p class="meta">"Lessons opened from files on this computer; they live in this browser only. "<A href="/lessons/open">"Manage imported lessons"</A></p>
                    <ul class="lesson-list">
                        {list.iter().map(|e| match &e.resolved {
                            Ok(l) => view! {
                                <LessonEntry id=l.id.clone() title=l.title.clone() summary=l.summary.clone()
                                    total=l.steps.len() progress=progress level=level + 1
                                    extra=view! { <p class="meta">{format!("Imported from {}", e.stored.origin)}</p> }.into_any() />
                            }.into_any(),
                            Err(p) => broken_entry(e, p, level + 1).into_any(),
                        }).collect_view()}
                    </ul>
                </section>
            }
            .into_any(),
        ),
    };
    view! {
        <div class="course">
            {parts}
            {imported_view}
            {reset.then(|| view! { <ResetProgress progress=progress /> })}
        </div>
    }
}

/// "Reset progress", then a confirmation ("Forget progress" / "Keep it") in place.
#[component]
fn ResetProgress(progress: RwSignal<Progress>) -> impl IntoView {
    let asking = RwSignal::new(false);
    let done = RwSignal::new(None::<String>);
    let confirm_ref = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if asking.get() {
            if let Some(b) = confirm_ref.get() {
                let _ = b.focus();
            }
        }
    });
    view! {
        <section class="reset" aria-labelledby="reset-h">
            <h2 id="reset-h" class="visually-hidden">"Reset progress"</h2>
            {move || if asking.get() {
                view! {
                    <div class="confirm" role="group" aria-label="Confirm reset">
                        <p>"Forget which steps you have visited and which challenges you solved, in every lesson? Imported lessons stay. This cannot be undone."</p>
                        <button node_ref=confirm_ref class="danger" on:click=move |_| {
                            reset_progress();
                            progress.set(Progress::default());
                            asking.set(false);
                            done.set(Some("Progress reset: every lesson starts afresh.".into()));
                        }>"Forget progress"</button>
                        " "
                        <button on:click=move |_| asking.set(false)>"Keep it"</button>
                    </div>
                }.into_any()
            } else {
                view! {
                    <button on:click=move |_| { done.set(None); asking.set(true) }
                        disabled=move || progress.with(|p| p.is_empty())>"Reset progress"</button>
                }.into_any()
            }}
            <p class="status" role="status">{move || done.get()}</p>
        </section>
    }
}

/// `/course`: the course with its heading, the way to imported lessons, and resetting.
#[component]
pub fn CoursePage() -> impl IntoView {
    view! {
        <main class="home course-page">
            <p class="crumbs"><A href="/">"Distlab"</A>" / course"</p>
            <h1>"The course"</h1>
            <p class="tagline">"The lessons in the order of Designing Data-Intensive Applications: replication, transactions, linearizability, clocks and consensus. Your progress is kept in this browser."</p>
            <Course level=2 reset=true />
            <p class="hint">"Teaching with your own lesson? "<A href="/lessons/open">"Open a lesson file"</A>"."</p>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in() -> Vec<ResolvedLesson> {
        serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/lessons.json")))
            .expect("build.rs writes the lessons")
    }

    #[test]
    fn every_built_in_lesson_is_in_the_course_once_and_parts_follow_the_book() {
        let all = built_in();
        let parts = course_parts(&all);
        let ids: Vec<&str> = parts
            .iter()
            .flat_map(|(_, _, ls)| ls.iter().map(|l| l.id.as_str()))
            .collect();
        assert_eq!(ids.len(), all.len(), "{ids:?}");
        for l in &all {
            assert_eq!(ids.iter().filter(|i| **i == l.id).count(), 1, "{}", l.id);
        }
        // Every listed id exists (a renamed lesson would silently leave its part).
        for p in PARTS {
            for id in p.lessons {
                assert!(all.iter().any(|l| l.id == *id), "no lesson {id}");
            }
        }
        let titles: Vec<&str> = parts.iter().map(|(t, _, _)| *t).collect();
        assert_eq!(
            titles,
            [
                "Replication",
                "Transactions and isolation",
                "Faults and membership",
                "Linearizability and CAP",
                "Clocks and causality",
                "Consensus",
                "Distributed transactions"
            ]
        );
        assert_eq!(ids[0], "replication-lag");
        assert!(ids.contains(&"raft-lab"));
    }

    #[test]
    fn lessons_no_part_lists_go_to_more_lessons() {
        let mut all = built_in();
        let mut extra = all[0].clone();
        extra.id = "something-new".into();
        all.push(extra);
        let parts = course_parts(&all);
        let (title, _, ls) = parts.last().expect("parts");
        assert_eq!(*title, "More lessons");
        assert_eq!(ls.len(), 1);
        assert_eq!(ls[0].id, "something-new");
    }

    #[test]
    fn progress_counts_visits_continues_at_the_last_and_completes() {
        let mut p = LessonProgress::default();
        assert_eq!(
            p.summary(5),
            Summary {
                visited: 0,
                total: 5,
                completed: false,
                continue_at: None
            }
        );
        p.visit(0);
        p.visit(2);
        p.visit(2);
        p.visit(1);
        let s = p.summary(5);
        assert_eq!((s.visited, s.completed, s.continue_at), (3, false, Some(2)));
        p.visit(4);
        let s = p.summary(5);
        assert_eq!((s.visited, s.completed, s.continue_at), (4, true, Some(5)));
    }

    #[test]
    fn a_solved_challenge_completes_and_a_shorter_lesson_is_counted_sanely() {
        let mut p = LessonProgress::default();
        p.visit(7);
        p.solved = true;
        // The lesson now has 3 steps: step 8 no longer exists.
        let s = p.summary(3);
        assert_eq!((s.visited, s.completed, s.continue_at), (0, true, Some(3)));
    }

    #[test]
    fn stored_progress_reads_back_and_tolerates_an_older_format() {
        let mut all = Progress::new();
        all.entry("quorums".into()).or_default().visit(3);
        let text = serde_json::to_string(&all).expect("serialize");
        let back: Progress = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, all);
        // Written before `solved` existed.
        let old: Progress =
            serde_json::from_str(r#"{"cap":{"visited":[0,1],"last":1}}"#).expect("old format");
        assert!(!old["cap"].solved);
        assert_eq!(summary_of(&old, "cap", 6).continue_at, Some(2));
        assert_eq!(summary_of(&old, "paxos", 8).continue_at, None);
    }
}
