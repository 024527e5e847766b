//! The lesson view for `model = "paxos"` (single-decree Paxos): the diagram, a row per
//! proposer (phase, ballot, value, promises and acceptances, and a **Propose** control that
//! adds an operator's proposal at the cursor), per acceptor (promise, accepted proposal) and
//! per learner (learned value); the chosen value, the ballots and preempted rounds, and the
//! safety monitor's verdict with its violations marked on the diagram. Built on the shared
//! engine-lesson pieces of [`crate::engine_lessons`].

use crate::diagram::Highlight;
use crate::engine_lessons::{cannot_show, engine_lesson, step_challenge, LessonRun, Violated};
use crate::lab::Lab;
use distlab_sim::lesson::ResolvedLesson;
use distlab_sim::models::paxos::{analysis::Analysis, monitor::Violation, Operator, View};
use distlab_sim::models::Paxos;
use distlab_sim::Action;
use leptos::prelude::*;

/// A violation of the Paxos monitor as the page shows it.
fn violated(v: &Violation) -> Violated<'_> {
    Violated {
        step: v.step,
        time: v.time,
        property: v.property.name(),
        statement: v.property.statement(),
        text: &v.text,
    }
}

/// The monitor's violations, marked on the diagram at the event after which each property
/// failed.
fn paxos_highlights(a: &Analysis) -> Vec<Highlight> {
    a.violations
        .iter()
        .map(|v| violated(v).highlight())
        .collect()
}

/// `—` for nothing, else the text.
fn or_none<T: ToString>(x: Option<T>) -> String {
    x.map_or("—".to_string(), |x| x.to_string())
}

/// What the panels read at the shown step: every node's view and whether it is up.
#[derive(Clone, PartialEq)]
struct Nodes {
    names: Vec<String>,
    views: Vec<View>,
    up: Vec<bool>,
}

impl Nodes {
    fn name(&self, i: usize) -> String {
        self.names.get(i).cloned().unwrap_or_default()
    }
    fn down(&self, i: usize) -> bool {
        !self.up.get(i).copied().unwrap_or(true)
    }
}

/// One proposer's row: its state at the shown step, and a value box with a Propose button
/// that adds `propose` at the cursor (the row is kept while the scenario's proposers stay
/// the same, so what the learner typed survives playback).
fn proposer_row(lab: Lab<Paxos>, nodes: Memo<Nodes>, i: usize, name: String) -> impl IntoView {
    let initial = lab.scenario.with_untracked(|s| {
        s.proposers[i]
            .value
            .clone()
            .unwrap_or_else(|| char::from(b'A' + (i % 26) as u8).to_string())
    });
    let value = RwSignal::new(initial);
    let view_of = move || nodes.with(|n| n.views.get(i).cloned());
    let down = move || nodes.with(|n| n.down(i));
    let cell = move |f: fn(&View) -> String| move || view_of().map_or(String::new(), |v| f(&v));
    let propose = move || {
        let v = value.get_untracked().trim().to_string();
        if v.is_empty() {
            lab.notice
                .set(Some("Type a value for the proposer to propose.".into()));
            return;
        }
        lab.intervene(Action::Command {
            node: i,
            command: Operator::Propose { value: v },
        });
    };
    let input_label = format!("Value for {name}");
    let button_label = format!("Propose at {name}");
    view! {
        <tr class="server" class:down=down>
            <th scope="row">{name}</th>
            <td class="role">{move || if down() { "crashed".to_string() } else { cell(|v| match v {
                View::Proposer { phase, .. } => phase.name().to_string(),
                _ => String::new(),
            })() }}</td>
            <td class="num">{cell(|v| match v {
                View::Proposer { ballot, .. } => or_none(*ballot),
                _ => String::new(),
            })}</td>
            <td>{cell(|v| match v {
                View::Proposer { value: Some(x), adopted_from: Some(b), .. } => format!("{x} (adopted, accepted in {b})"),
                View::Proposer { value, .. } => or_none(value.clone()),
                _ => String::new(),
            })}</td>
            <td class="num">{cell(|v| match v {
                View::Proposer { promises, .. } => promises.to_string(),
                _ => String::new(),
            })}</td>
            <td class="num">{cell(|v| match v {
                View::Proposer { accepted, .. } => accepted.to_string(),
                _ => String::new(),
            })}</td>
            <td>
                <form class="propose" style="display:flex;gap:0.3rem;align-items:center;margin:0" on:submit=move |ev| { ev.prevent_default(); propose() }>
                    <input type="text" size="4" maxlength="12" aria-label=input_label
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
                    <button type="submit" aria-label=button_label>"Propose"</button>
                </form>
            </td>
        </tr>
    }
}

/// `model = "paxos"`: the diagram, the proposers, acceptors and learners, the chosen value
/// and the safety verdict; the challenge is judged on the whole run (a value may still be
/// chosen after the cursor).
#[component]
pub fn PaxosLesson(lesson: ResolvedLesson) -> impl IntoView {
    let run =
        match engine_lesson::<Paxos>(lesson, |s| s.paxos().map(|(a, b)| (a.clone(), b.to_vec()))) {
            Ok(x) => x,
            Err(e) => return cannot_show(e),
        };
    let LessonRun { nav, lab, .. } = run;
    let highlights = Memo::new(move |_| lab.analysis.with(paxos_highlights));
    let nodes = Memo::new(move |_| {
        let step = lab.panel_step.get();
        lab.engine.with(|e| Nodes {
            names: e.nodes().iter().map(|n| n.name.clone()).collect(),
            views: e.views_at(step),
            up: e.world_at(step).map(|w| w.up).unwrap_or_default(),
        })
    });
    // The proposers' rows are rebuilt only when the scenario's proposers change.
    let proposers = Memo::new(move |_| {
        lab.scenario.with(|s| {
            s.proposers
                .iter()
                .enumerate()
                .map(|(i, p)| (i, p.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let rows_of = move |want: fn(&View) -> Option<Vec<String>>| {
        move || {
            nodes.with(|n| {
                n.views
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let cells = want(v)?;
                        let down = n.down(i);
                        Some(view! {
                            <tr class:down=down>
                                <th scope="row">{n.name(i)}{down.then_some(" (crashed)")}</th>
                                {cells.into_iter().map(|c| view! { <td class="mono">{c}</td> }).collect_view()}
                            </tr>
                        })
                    })
                    .collect_view()
            })
        }
    };
    let acceptors = rows_of(|v| match v {
        View::Acceptor { promised, accepted } => Some(vec![
            or_none(*promised),
            accepted
                .as_ref()
                .map_or("—".into(), |(b, x)| format!("{x} in {b}")),
        ]),
        _ => None,
    });
    let learners = rows_of(|v| match v {
        View::Learner { learned } => Some(vec![learned
            .as_ref()
            .map_or("nothing yet".into(), |(b, x)| format!("{x} (ballot {b})"))]),
        _ => None,
    });
    let name = move |i: usize| nodes.with_untracked(|n| n.name(i));
    let outcome = move || {
        lab.analysis.with(|a| {
            let chosen = match &a.chosen {
                Some(c) => format!(
                    "Chosen: {} in ballot {} at {} ms (accepted by {}).",
                    c.value,
                    c.ballot,
                    c.time,
                    c.acceptors.iter().map(|&x| name(x)).collect::<Vec<_>>().join(", ")
                ),
                None => "No value chosen yet.".to_string(),
            };
            let others = a
                .chosen_ballots
                .iter()
                .filter(|c| a.chosen.as_ref().is_some_and(|f| f.value != c.value))
                .map(|c| format!("Also chosen: {} in ballot {} at {} ms.", c.value, c.ballot, c.time))
                .collect::<Vec<_>>();
            let learned = a
                .learned
                .iter()
                .map(|l| format!("{} learned {} (ballot {}) at {} ms", name(l.learner), l.value, l.ballot, l.time))
                .collect::<Vec<_>>();
            let per = a
                .ballots_per_proposer()
                .into_iter()
                .map(|(p, b)| format!("{} {}", name(p), b.len()))
                .collect::<Vec<_>>();
            let rounds = format!(
                "Ballots started: {}{}; preempted: {}.",
                a.ballots.len(),
                if per.is_empty() { String::new() } else { format!(" ({})", per.join(", ")) },
                a.preempted.len()
            );
            let adoptions = a
                .adoptions
                .iter()
                .map(|ad| {
                    let own = match &ad.own {
                        Some(o) if *o != ad.value => format!(" instead of its own {o}"),
                        _ => String::new(),
                    };
                    format!("{} adopted {} (accepted in {}) for ballot {}{own} at {} ms.", name(ad.proposer), ad.value, ad.from, ad.ballot, ad.time)
                })
                .collect::<Vec<_>>();
            let violations = a.violations.iter().map(|v| violated(v).item()).collect_view();
            view! {
                <p data-testid="paxos-chosen" class:ok=a.chosen.is_some() && others.is_empty()><strong>{chosen}</strong></p>
                {others.into_iter().map(|o| view! { <p class="lost">{o}</p> }).collect_view()}
                <p>{if learned.is_empty() { "No learner has learned a value yet.".to_string() } else { format!("{}.", learned.join("; ")) }}</p>
                <p data-testid="paxos-rounds">{rounds}</p>
                {adoptions.into_iter().map(|t| view! { <p>{t}</p> }).collect_view()}
                {if a.violations.is_empty() {
                    view! { <p class="ok" data-testid="paxos-safety">"Safety: at most one value chosen, only a proposed value chosen, only a chosen value learned — all hold so far."</p> }.into_any()
                } else {
                    view! { <ul data-testid="paxos-violations">{violations}</ul> }.into_any()
                }}
            }
        })
    };
    // Judged on the whole run, not at the cursor: "no value chosen" must hold to the end.
    let whole_run = Memo::new(move |_| {
        lab.engine.with(|e| {
            distlab_sim::models::paxos::analysis::analyze(e, e.trace().len().checked_sub(1))
        })
    });
    let challenge = step_challenge(nav, move |c| whole_run.with(|a| c.met_by_paxos(a)));
    let panels = view! {
        <section class="panel paxos-proposers" style="grid-column:1 / -1" aria-labelledby="paxos-p-h">
            <h3 id="paxos-p-h">"Proposers"</h3>
            <table class="clock-table">
                <thead><tr><th>"Proposer"</th><th>"Phase"</th><th>"Ballot"</th><th>"Value"</th><th>"Promises"</th><th>"Accepted"</th><th>"Propose at the cursor"</th></tr></thead>
                <tbody>
                    <For each=move || proposers.get() key=|p| p.clone() let:p>
                        {proposer_row(lab, nodes, p.0, p.1)}
                    </For>
                </tbody>
            </table>
        </section>
        <section class="panel paxos-acceptors" aria-labelledby="paxos-a-h">
            <h3 id="paxos-a-h">"Acceptors"</h3>
            <table class="clock-table">
                <thead><tr><th>"Acceptor"</th><th>"Promised"</th><th>"Accepted"</th></tr></thead>
                <tbody>{acceptors}</tbody>
            </table>
        </section>
        <section class="panel paxos-learners" aria-labelledby="paxos-l-h">
            <h3 id="paxos-l-h">"Learners"</h3>
            <table class="clock-table">
                <thead><tr><th>"Learner"</th><th>"Learned"</th></tr></thead>
                <tbody>{learners}</tbody>
            </table>
        </section>
        <section class="panel paxos-outcome" style="grid-column:1 / -1" aria-labelledby="paxos-o-h">
            <h3 id="paxos-o-h">"Chosen value and safety"</h3>
            {outcome}
        </section>
    }
    .into_any();
    run.page(ViewFn::from(challenge), highlights.into(), panels)
}
