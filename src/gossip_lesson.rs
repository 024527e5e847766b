//! The lesson view for `model = "gossip"`: the settings (mode, fanout, nodes, loss, round
//! length; a change re-runs the scenario with the learner's interventions kept), a **chart**
//! of informed nodes per round against the expected (mean-field) curve with the log₂ n mark
//! and the closed-form expectation, a **heat map** (one row per node, one column per round,
//! coloured by when the node learnt the update) that stays cheap at 64 nodes, and the
//! space-time diagram — drawn at once up to [`DIAGRAM_NODES`] nodes, on demand above. Also
//! an Update control (an operator's update at a node, at the cursor) and the spread in
//! numbers. The challenge (`all-informed`) is judged on the whole run.

use crate::diagram::{Highlight, SpaceTime};
use crate::engine_lessons::{
    cannot_show, engine_lesson, lesson_share_bar, step_challenge, LessonRun,
};
use crate::lab::Lab;
use crate::lesson_page::{experimenting_banner, Narration};
use crate::panels::{Transport, ZoomControl};
use distlab_sim::lesson::ResolvedLesson;
use distlab_sim::models::gossip::analysis::{analyze, Analysis, Spread};
use distlab_sim::models::gossip::{Command, GossipScenario, Mode};
use distlab_sim::models::Gossip;
use distlab_sim::Action;
use leptos::prelude::*;
use std::fmt::Write;

/// Up to this many nodes the space-time diagram is drawn with the chart; above it, only when
/// the learner asks (64 lifelines and thousands of arrows are slow to draw and unreadable).
pub const DIAGRAM_NODES: usize = 16;

/// The update the chart and heat map show: the learner's choice, else the first.
fn shown_update(a: &Analysis, which: usize) -> Option<&Spread> {
    a.updates.get(which).or_else(|| a.updates.first())
}

#[component]
pub fn GossipLesson(lesson: ResolvedLesson) -> impl IntoView {
    let run =
        match engine_lesson::<Gossip>(lesson, |s| s.gossip().map(|(a, b)| (a.clone(), b.to_vec())))
        {
            Ok(x) => x,
            Err(e) => return cannot_show(e),
        };
    let LessonRun {
        nav,
        lab,
        posed,
        experimenting,
        reload,
        ..
    } = run;
    // Judged on the whole run: the update may still reach the last nodes after the cursor.
    let whole_run = Memo::new(move |_| {
        lab.scenario.with(|s| {
            lab.engine
                .with(|e| analyze(s, e, e.trace().len().checked_sub(1)))
        })
    });
    let challenge = step_challenge(nav, move |c| whole_run.with(|a| c.met_by_gossip(a)));
    let which = RwSignal::new(0usize);
    let show_diagram = RwSignal::new(false);
    let nodes = Memo::new(move |_| lab.scenario.with(|s| s.nodes));
    let highlights: Signal<Vec<Highlight>> = Signal::derive(Vec::new);
    let share = lesson_share_bar(lab, nav, None);
    let diagram = move || {
        let n = nodes.get();
        if n <= DIAGRAM_NODES || show_diagram.get() {
            view! {
                {(n > DIAGRAM_NODES).then(|| view! {
                    <p class="meta">
                        <button class="link" on:click=move |_| show_diagram.set(false)>"Hide the space-time diagram"</button>
                        {format!(" ({n} lifelines: scroll down for the heat map)")}
                    </p>
                })}
                <SpaceTime data=lab.diagram_view(highlights) />
            }
            .into_any()
        } else {
            view! {
                <p class="meta gossip-diagram-off">
                    {format!("{n} nodes: the space-time diagram is not drawn (the heat map above shows every node). ")}
                    <button on:click=move |_| show_diagram.set(true)>"Show the space-time diagram"</button>
                </p>
            }
            .into_any()
        }
    };
    view! {
        <div class="lesson-layout">
            <Narration nav=nav challenge=ViewFn::from(challenge) posed=posed />
            <main class="lab gossip-lab">
                <div class="lab-bar">
                    <Transport lab=lab />
                    <div class="lab-options"><ZoomControl lab=lab /></div>
                </div>
                {share}
                {move || experimenting.get().then(|| experimenting_banner(move |_| reload.run(())))}
                {move || lab.notice.get().map(|m| view! {
                    <div class="notice" role="alert">{m}<button class="close" aria-label="Dismiss" on:click=move |_| lab.notice.set(None)>"×"</button></div>
                })}
                <GossipSettings lab=lab />
                <div class="gossip-views">
                    <Chart lab=lab which=which />
                    <HeatMap lab=lab which=which />
                </div>
                {diagram}
                <div class="panels">
                    <SpreadPanel lab=lab which=which />
                    <UpdateControl lab=lab />
                </div>
            </main>
        </div>
    }
    .into_any()
}

/// Mode, fanout, nodes, loss and round length; a change re-runs the scenario with the
/// learner's interventions kept.
#[component]
fn GossipSettings(lab: Lab<Gossip>) -> impl IntoView {
    let change = move |f: &dyn Fn(&mut GossipScenario)| {
        let mut s = lab.scenario.get_untracked();
        f(&mut s);
        lab.set_scenario(s);
    };
    let number = move |label: &'static str,
                       help: &'static str,
                       min: u32,
                       max: u32,
                       get: fn(&GossipScenario) -> u64,
                       set: fn(&mut GossipScenario, u64)| {
        let set_number = move |text: String| match text.trim().parse::<u64>() {
            Ok(v) if (min as u64..=max as u64).contains(&v) => change(&|s| set(s, v)),
            _ => lab.notice.set(Some(format!(
                "{label}: give a whole number from {min} to {max}."
            ))),
        };
        view! {
            <label title=help>
                {format!("{label} ")}
                <input type="number" min=min max=max aria-label=label
                    prop:value=move || lab.scenario.with(get).to_string()
                    on:change=move |ev| set_number(event_target_value(&ev)) />
            </label>
        }
    };
    let set_loss = move |text: String| match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=90.0).contains(&v) => change(&|s| s.loss = v / 100.0),
        _ => lab
            .notice
            .set(Some("loss %: give a number from 0 to 90.".into())),
    };
    let modes = Mode::ALL
        .into_iter()
        .map(|m| {
            let help = match m {
                Mode::Push => "informed nodes send what they know to random peers",
                Mode::Pull => "every node asks random peers for what it lacks (sends its digest)",
                Mode::PushPull => "both in one exchange",
            };
            view! {
                <label title=help>
                    <input type="radio" name="gossip-mode" prop:checked=move || lab.scenario.with(|s| s.mode == m)
                        on:change=move |_| change(&|s| s.mode = m) />
                    {m.name()}
                </label>
            }
        })
        .collect_view();
    view! {
        <section class="panel gossip-settings" aria-labelledby="g-settings-h">
            <h3 id="g-settings-h">"Gossip settings"</h3>
            <div class="switch-group" role="group" aria-label="Mode">{modes}</div>
            <div class="switch-group">
                <label title="number of nodes (8 to 64)">
                    "nodes "
                    <select aria-label="nodes" on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<usize>() { change(&|s| s.nodes = v) }
                    }>
                        {[8usize, 16, 32, 64].into_iter().map(|v| view! {
                            <option value=v.to_string() prop:selected=move || lab.scenario.with(|s| s.nodes == v)>{v.to_string()}</option>
                        }).collect_view()}
                    </select>
                </label>
                {number("fanout", "peers each node contacts per round", 1, 8, |s| s.fanout as u64, |s, v| s.fanout = v as usize)}
                <label title="probability that a message is lost, in percent">
                    "loss % "
                    <input type="number" min="0" max="90" step="5" aria-label="loss %"
                        prop:value=move || lab.scenario.with(|s| format!("{}", (s.loss * 100.0).round()))
                        on:change=move |ev| set_loss(event_target_value(&ev)) />
                </label>
                {number("round ms", "length of a gossip round, simulated ms", 30, 1000, |s| s.round_ms, |s, v| s.round_ms = v)}
            </div>
        </section>
    }
}

/// The chart: bars of informed nodes per round (up to the cursor), the expected curve, the
/// log₂ n mark and the closed-form expectation.
#[component]
fn Chart(lab: Lab<Gossip>, which: RwSignal<usize>) -> impl IntoView {
    const W: f64 = 560.0;
    const H: f64 = 250.0;
    const L: f64 = 40.0; // left margin
    const B: f64 = 34.0; // bottom margin
    const T: f64 = 12.0;
    let body = move || {
        lab.analysis.with(|a| {
            let n = a.n.max(1) as f64;
            let rounds = lab.scenario.with(|s| s.rounds) as usize;
            let cols = rounds + 1;
            let cw = (W - L - 8.0) / cols as f64;
            let y = |v: f64| T + (H - T - B) * (1.0 - v / n);
            let x = |r: f64| L + cw * r;
            let mut svg = String::new();
            // Grid and axes.
            for k in 0..=4 {
                let v = n * k as f64 / 4.0;
                let _ = write!(
                    svg,
                    r#"<line class="grid" x1="{L}" x2="{}" y1="{y}" y2="{y}"/><text class="tick-label" x="{}" y="{}" text-anchor="end">{}</text>"#,
                    W - 8.0,
                    L - 4.0,
                    y(v) + 4.0,
                    v.round(),
                    y = y(v)
                );
            }
            let step = if cols > 24 { 5 } else if cols > 12 { 2 } else { 1 };
            for r in (0..cols).step_by(step) {
                let _ = write!(
                    svg,
                    r#"<text class="tick-label" x="{}" y="{}" text-anchor="middle">{r}</text>"#,
                    x(r as f64 + 0.5),
                    H - B + 14.0
                );
            }
            let _ = write!(
                svg,
                r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle">round</text>"#,
                L + (W - L) / 2.0,
                H - 4.0
            );
            // Bars: the run's curve.
            let curve = shown_update(a, which.get()).map(|u| u.curve.clone()).unwrap_or_default();
            for (r, &c) in curve.iter().enumerate().take(cols) {
                let _ = write!(
                    svg,
                    r#"<rect class="bar" data-round="{r}" data-informed="{c}" x="{}" y="{}" width="{}" height="{}"><title>round {r}: {c} of {} informed</title></rect>"#,
                    x(r as f64) + cw * 0.12,
                    y(c as f64),
                    cw * 0.76,
                    (H - B - y(c as f64)).max(0.0),
                    a.n
                );
            }
            // Expected curve (mean field), through the bars' centres.
            let pts: Vec<String> = a
                .expected_curve
                .iter()
                .enumerate()
                .take(cols)
                .map(|(r, v)| format!("{:.1},{:.1}", x(r as f64 + 0.5), y(*v)))
                .collect();
            let _ = write!(svg, r#"<polyline class="expected" points="{}"/>"#, pts.join(" "));
            // log2 n and the closed form.
            let mut mark = |r: f64, class: &str, text: String| {
                if r + 0.5 < cols as f64 {
                    let xx = x(r + 0.5);
                    let _ = write!(
                        svg,
                        r#"<line class="{class}" x1="{xx}" x2="{xx}" y1="{T}" y2="{}"><title>{text}</title></line>"#,
                        H - B
                    );
                }
            };
            mark(n.log2(), "log-n", format!("log₂ n = {:.1}", n.log2()));
            if let Some(e) = &a.expected_rounds {
                mark(e.rounds, "formula", format!("{} ≈ {:.1}", e.formula, e.rounds));
            }
            svg
        })
    };
    let data = move || {
        lab.analysis.with(|a| {
            shown_update(a, which.get())
                .map(|u| {
                    u.curve
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default()
        })
    };
    let label = move || {
        lab.analysis.with(|a| match shown_update(a, which.get()) {
            Some(u) => format!(
                "Chart of informed nodes per round: {} of {} informed by round {}; expected curve dashed",
                u.informed(),
                a.n,
                u.curve.len().saturating_sub(1)
            ),
            None => "Chart of informed nodes per round: no update yet".into(),
        })
    };
    let marks = move || {
        lab.analysis.with(|a| {
            let n = a.n.max(1) as f64;
            let mut t = format!("log₂ n = {:.1} rounds (dotted)", n.log2());
            match &a.expected_rounds {
                Some(e) => {
                    let _ = write!(
                        t,
                        "; {} ≈ {:.1} rounds ({}, solid)",
                        e.formula, e.rounds, e.source
                    );
                }
                None => {
                    t.push_str("; no closed form with this fanout or loss: see the expected curve")
                }
            }
            t
        })
    };
    view! {
        <figure class="panel gossip-chart-panel">
            <figcaption>
                <strong>"Informed nodes per round"</strong>
                <span class="legend"><span class="sw bar"></span>" this run "<span class="sw expected"></span>" expected (mean field) "<span class="sw log-n"></span>" log₂ n "<span class="sw formula"></span>" formula"</span>
            </figcaption>
            <svg class="gossip-chart" data-testid="gossip-chart" role="img" aria-label=label data-informed=data
                viewBox=format!("0 0 {W} {H}") preserveAspectRatio="xMidYMid meet">
                <g inner_html=body></g>
            </svg>
            <p class="meta gossip-marks" data-testid="gossip-marks">{marks}</p>
        </figure>
    }
}

/// One row per node, one column per round: white before the node learnt the update, the
/// learning round strong, later rounds lighter; a crashed node's row hatched.
#[component]
fn HeatMap(lab: Lab<Gossip>, which: RwSignal<usize>) -> impl IntoView {
    let body =
        move || {
            lab.analysis.with(|a| {
            let rounds = lab.scenario.with(|s| s.rounds) as usize + 1;
            let n = a.n;
            let (cw, rh, left, top) = (
                14.0,
                if n > 32 {
                    5.0
                } else if n > 16 {
                    8.0
                } else {
                    12.0
                },
                34.0,
                8.0,
            );
            let mut svg = String::new();
            let u = shown_update(a, which.get());
            let now = u.map_or(0, |u| u.curve.len().saturating_sub(1));
            let label_every = if n > 32 {
                8
            } else if n > 16 {
                4
            } else {
                1
            };
            for i in 0..n {
                let yy = top + i as f64 * rh;
                if i % label_every == 0 || i + 1 == n {
                    let _ = write!(
                        svg,
                        r#"<text class="tick-label" x="{}" y="{}" text-anchor="end">n{}</text>"#,
                        left - 3.0,
                        yy + rh.max(8.0) - 1.0,
                        i + 1
                    );
                }
                let learnt = u.and_then(|u| u.learnt.get(i).cloned().flatten());
                let down = !a.up.get(i).copied().unwrap_or(true);
                let title = match (&learnt, down) {
                    (Some(l), _) => {
                        format!("n{}: learnt in round {} at {} ms", i + 1, l.round, l.time)
                    }
                    (None, true) => format!("n{}: crashed, not informed", i + 1),
                    (None, false) => format!("n{}: not informed yet", i + 1),
                };
                let _ = write!(
                    svg,
                    r#"<g class="row{}" data-node="n{}"><title>{title}</title>"#,
                    if down { " down" } else { "" },
                    i + 1
                );
                for r in 0..rounds.min(now + 1) {
                    let class = match &learnt {
                        Some(l) if l.round as usize == r => "learnt",
                        Some(l) if (l.round as usize) < r => "knows",
                        _ if down => "down",
                        _ => "unaware",
                    };
                    let _ = write!(
                        svg,
                        r#"<rect class="{class}" x="{}" y="{yy}" width="{}" height="{}"/>"#,
                        left + r as f64 * cw,
                        cw - 1.0,
                        (rh - 1.0).max(1.0)
                    );
                }
                svg.push_str("</g>");
            }
            for r in (0..rounds).step_by(2) {
                let _ = write!(
                    svg,
                    r#"<text class="tick-label" x="{}" y="{}" text-anchor="middle">{r}</text>"#,
                    left + r as f64 * cw + cw / 2.0,
                    top + n as f64 * rh + 12.0
                );
            }
            (svg, left + rounds as f64 * cw + 4.0, top + n as f64 * rh + 18.0)
        })
        };
    let size = Memo::new(move |_| {
        let (_, w, h) = body();
        (w, h)
    });
    view! {
        <figure class="panel gossip-heat-panel">
            <figcaption>
                <strong>"Who knows, round by round"</strong>
                <span class="legend"><span class="sw learnt"></span>" learnt "<span class="sw knows"></span>" knew "<span class="sw unaware"></span>" not yet "<span class="sw down"></span>" crashed"</span>
            </figcaption>
            <svg class="gossip-heat" data-testid="gossip-heat" role="img"
                aria-label=move || lab.analysis.with(|a| format!("Heat map of {} nodes by round: when each node learnt the update", a.n))
                viewBox=move || { let (w, h) = size.get(); format!("0 0 {w} {h}") }
                preserveAspectRatio="xMinYMin meet">
                <g inner_html=move || body().0></g>
            </svg>
        </figure>
    }
}

/// The spread in numbers: informed, rounds to all (or stragglers), messages, expectations.
#[component]
fn SpreadPanel(lab: Lab<Gossip>, which: RwSignal<usize>) -> impl IntoView {
    let picker = move || {
        lab.analysis.with(|a| {
            (a.updates.len() > 1).then(|| {
                let opts = a
                    .updates
                    .iter()
                    .enumerate()
                    .map(|(i, u)| view! { <option value=i.to_string() prop:selected=move || which.get() == i>{format!("{}={} at n{} ({} ms)", u.key, u.value, u.origin + 1, u.time)}</option> })
                    .collect_view();
                view! {
                    <label>"Update shown: "
                        <select aria-label="Update shown" on:change=move |ev| which.set(event_target_value(&ev).parse().unwrap_or(0))>{opts}</select>
                    </label>
                }
            })
        })
    };
    let body = move || {
        lab.analysis.with(|a| {
            let Some(u) = shown_update(a, which.get()) else {
                return view! { <p data-testid="gossip-status">"No update made yet."</p> }.into_any();
            };
            let all = match (u.all_round, u.all_time) {
                (Some(r), Some(t)) => format!("All {} live nodes know it: after {r} rounds ({t} ms).", u.live),
                _ if u.stragglers.is_empty() => "Nobody is up to learn it.".to_string(),
                _ => format!(
                    "Not yet informed ({}): {}.",
                    u.stragglers.len(),
                    u.stragglers.iter().map(|s| format!("n{}", s + 1)).collect::<Vec<_>>().join(", ")
                ),
            };
            let expected = match &a.expected_rounds {
                Some(e) => format!("Expected for all {}: {} ≈ {:.1} rounds ({}); mean field: {}.", a.n, e.formula, e.rounds, e.source, a.mean_field_rounds.map_or("more than 100".into(), |r| r.to_string())),
                None => format!("Expected (mean field, fanout {}, loss {:.0} %): {} rounds.", a.fanout, a.loss * 100.0, a.mean_field_rounds.map_or("more than 100".into(), |r| r.to_string())),
            };
            let kinds = a.by_kind.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
            view! {
                <p data-testid="gossip-status" class:ok=u.all_round.is_some()>
                    <strong>{format!("{}={} ({}) from n{}: {} of {} nodes informed.", u.key, u.value, u.version, u.origin + 1, u.informed(), a.n)}</strong>
                </p>
                <p data-testid="gossip-all">{all}</p>
                <p data-testid="gossip-messages">{format!("Messages from the update {}: {} ({} bytes). In the whole run so far: {} ({kinds}).", if u.all_round.is_some() { "until all knew" } else { "so far" }, u.messages, u.bytes, a.messages)}</p>
                <p class="meta">{expected}</p>
            }
            .into_any()
        })
    };
    view! {
        <section class="panel gossip-spread" style="grid-column:1 / -1" aria-labelledby="g-spread-h">
            <h3 id="g-spread-h">"The spread"</h3>
            {picker}
            {body}
        </section>
    }
}

/// An operator's update at a node, at the cursor.
#[component]
fn UpdateControl(lab: Lab<Gossip>) -> impl IntoView {
    let node = RwSignal::new("n1".to_string());
    let key = RwSignal::new("x".to_string());
    let value = RwSignal::new("2".to_string());
    let apply = move || {
        let id = match lab
            .scenario
            .with_untracked(|s| s.node(node.get_untracked().trim()))
        {
            Ok(id) => id,
            Err(e) => return lab.notice.set(Some(e)),
        };
        let k = key.get_untracked().trim().to_string();
        if k.is_empty() {
            return lab.notice.set(Some("Give the update a key.".into()));
        }
        lab.intervene(Action::Command {
            node: id,
            command: Command::Update {
                key: k,
                value: value.get_untracked(),
            },
        });
    };
    view! {
        <section class="panel gossip-update" style="grid-column:1 / -1" aria-labelledby="g-update-h">
            <h3 id="g-update-h">"Make an update at the cursor"</h3>
            <form class="switch-group" on:submit=move |ev| { ev.prevent_default(); apply() }>
                <label>"node " <input type="text" size="4" aria-label="Update node" prop:value=move || node.get() on:input=move |ev| node.set(event_target_value(&ev)) /></label>
                <label>"key " <input type="text" size="4" aria-label="Update key" prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev)) /></label>
                <label>"value " <input type="text" size="6" aria-label="Update value" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) /></label>
                <button type="submit">"Update"</button>
            </form>
        </section>
    }
}
