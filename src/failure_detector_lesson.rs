//! The lesson view for `model = "failure-detector"`: the diagram; a φ plot (φ over time per
//! monitored node, the threshold as a horizontal line, φ's suspicions shaded, the fixed
//! timeout's suspicions as bars under the axis, pauses and crashes marked, the cursor's
//! time); beside it both detectors' verdicts at the cursor; the numbers (false suspicions
//! and detection time per detector); the threshold and timeout sweeps computed from the
//! same arrivals; controls for the φ parameters, the timeout and a pause; the challenge.
//! Everything shown is read from `distlab_sim::models::failure_detector::analysis`.

use crate::engine_lessons::{cannot_show, engine_lesson, step_challenge, LessonRun};
use crate::lab::Lab;
use distlab_sim::lesson::ResolvedLesson;
use distlab_sim::models::failure_detector::analysis::{
    analyze, Analysis, Detector, NodeReport, SweepRow,
};
use distlab_sim::models::failure_detector::{Command, FailureDetectorScenario, View};
use distlab_sim::models::FailureDetector;
use distlab_sim::Action;
use leptos::prelude::*;

const W: f64 = 960.0;
const H: f64 = 270.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 28.0;
const TOP: f64 = 10.0;
/// The plot area's bottom; the timeout bars sit below it.
const BOTTOM: f64 = 215.0;

fn ms(x: Option<u64>) -> String {
    x.map_or("not detected".into(), |v| format!("{v} ms"))
}

/// The φ axis' top: a little above the threshold (φ above it is drawn at the top edge).
fn y_max(threshold: f64) -> f64 {
    (threshold * 1.5).max(threshold + 2.0).ceil()
}

fn times(n: usize) -> String {
    match n {
        0 => "never".into(),
        1 => "once".into(),
        n => format!("{n} times"),
    }
}

fn summary(a: &Analysis) -> String {
    let nodes: Vec<String> = a
        .nodes
        .iter()
        .map(|n| {
            format!(
                "{}: {} heartbeats, highest φ {:.1}, suspected by φ {}, by the timeout {}",
                n.name,
                n.arrivals.len(),
                n.phi.iter().map(|p| p.1).fold(0.0, f64::max),
                times(n.phi_suspicions.len()),
                times(n.timeout.len())
            )
        })
        .collect();
    format!(
        "φ over time, 0 to {} ms, threshold {}. {}.",
        a.end,
        a.threshold,
        nodes.join("; ")
    )
}

/// The φ plot of the whole run, with a cursor line that follows `cursor_ms` (ms) on its
/// own: the plot is built once per run, not once per animation frame.
fn phi_plot(a: &Analysis, cursor_ms: Signal<f64>) -> impl IntoView {
    let end = a.end.max(1) as f64;
    let top = y_max(a.threshold);
    let x = move |t: f64| LEFT + (t / end) * (W - LEFT - RIGHT);
    let y = move |p: f64| BOTTOM - (p.min(top) / top) * (BOTTOM - TOP);
    let shades = a
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            n.phi_suspicions.iter().map(move |s| {
                let (x0, x1) = (x(s.from as f64), x(s.to.unwrap_or(a.end) as f64));
                view! {
                    <rect class=format!("fd-shade fd-c{i}") x=x0 y=TOP width=(x1 - x0).max(1.0) height=BOTTOM - TOP
                        data-from=s.from data-false=s.false_suspicion.to_string()>
                        <title>{format!("φ suspects {} from {} ms{}", n.name, s.from, if s.false_suspicion { " (false: it was up)" } else { "" })}</title>
                    </rect>
                }
            })
        })
        .collect_view();
    let bars = a
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            let row = BOTTOM + 18.0 + i as f64 * 6.0;
            n.timeout.iter().map(move |s| {
                let (x0, x1) = (x(s.from as f64), x(s.to.unwrap_or(a.end) as f64));
                view! {
                    <rect class=format!("fd-timeout-bar fd-c{i}") x=x0 y=row width=(x1 - x0).max(1.0) height="4">
                        <title>{format!("timeout suspects {} from {} ms", n.name, s.from)}</title>
                    </rect>
                }
            })
        })
        .collect_view();
    let marks = a
        .nodes
        .iter()
        .flat_map(|n| {
            let pauses = n.pauses.iter().map(|&(f, t)| {
                let (x0, x1) = (x(f as f64), x(t as f64));
                view! {
                    <rect class="fd-pause" x=x0 y=TOP width=(x1 - x0).max(1.0) height=BOTTOM - TOP>
                        <title>{format!("{} paused {f}–{t} ms", n.name)}</title>
                    </rect>
                }
                .into_any()
            });
            let crashes = n.down.iter().map(|&(c, _)| {
                view! {
                    <g class="fd-crash">
                        <line x1=x(c as f64) x2=x(c as f64) y1=TOP y2=BOTTOM />
                        <text x=x(c as f64) + 3.0 y=TOP + 10.0>{format!("{} crashes", n.name)}</text>
                    </g>
                }
                .into_any()
            });
            pauses.chain(crashes).collect::<Vec<_>>()
        })
        .collect_view();
    let lines = a
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let pts = n
                .phi
                .iter()
                .map(|&(t, p)| format!("{:.1},{:.1}", x(t as f64), y(p)))
                .collect::<Vec<_>>()
                .join(" ");
            view! { <polyline class=format!("fd-line fd-c{i}") points=pts data-node=n.name.clone() /> }
        })
        .collect_view();
    let ticks = (0..=5)
        .map(|k| {
            let t = end * k as f64 / 5.0;
            view! {
                <text class="fd-tick" x=x(t) y=BOTTOM + 12.0 text-anchor="middle">{format!("{:.0}", t)}</text>
            }
        })
        .collect_view();
    let yticks = [0.0, a.threshold, top]
        .into_iter()
        .map(|p| view! { <text class="fd-tick" x=LEFT - 4.0 y=y(p) + 4.0 text-anchor="end">{format!("{p}")}</text> })
        .collect_view();
    let th = y(a.threshold);
    let cx = move || x(cursor_ms.get().clamp(0.0, end));
    let label = format!("φ plot: {}", summary(a));
    view! {
        <svg class="fd-plot" role="img" aria-label=label viewBox=format!("0 0 {W} {H}") preserveAspectRatio="xMidYMid meet"
            data-threshold=a.threshold.to_string() data-end=a.end>
            <rect class="fd-frame" x=LEFT y=TOP width=W - LEFT - RIGHT height=BOTTOM - TOP />
            {shades}
            {marks}
            <line class="fd-threshold" x1=LEFT x2=W - RIGHT y1=th y2=th />
            <text class="fd-threshold-label" x=W - RIGHT - 4.0 y=th - 4.0 text-anchor="end">{format!("threshold φ = {}", a.threshold)}</text>
            {lines}
            {bars}
            <text class="fd-tick" x=LEFT - 4.0 y=BOTTOM + 21.0 text-anchor="end">"timeout"</text>
            {ticks}
            {yticks}
            <line class="fd-cursor" x1=cx x2=cx y1=TOP y2=H - 4.0 />
        </svg>
    }
}

fn sweep_table(
    caption: &'static str,
    rows: &[SweepRow],
    current: Detector,
    id: &'static str,
) -> impl IntoView {
    let body = rows
        .iter()
        .map(|r| {
            let setting = match r.detector {
                Detector::Phi { threshold } => format!("φ ≥ {threshold}"),
                Detector::Timeout { ms } => format!("{ms} ms"),
            };
            let detection = if r.crashes == 0 {
                "no crash".to_string()
            } else if r.undetected > 0 {
                format!("{} not detected", r.undetected)
            } else {
                ms(r.detection_ms)
            };
            let here = r.detector == current;
            view! {
                <tr class:fd-current=here>
                    <th scope="row">{setting}{here.then_some(" (now)")}</th>
                    <td class="num">{r.false_suspicions}</td>
                    <td class="num">{detection}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="clock-table fd-sweep" data-testid=id>
            <caption>{caption}</caption>
            <thead><tr><th scope="col">"Setting"</th><th scope="col">"False suspicions"</th><th scope="col">"Detection time"</th></tr></thead>
            <tbody>{body}</tbody>
        </table>
    }
}

fn verdicts(views: &[View], silence: &dyn Fn(&str) -> Option<u64>) -> AnyView {
    let Some(View::Monitor { watches }) = views.first() else {
        return view! { <p>"The monitor is down."</p> }.into_any();
    };
    let rows = watches
        .iter()
        .map(|w| {
            let s = silence(&w.node);
            let say = |x: bool| if x { "suspected" } else { "trusted" };
            view! {
                <tr>
                    <th scope="row">{w.node.clone()}</th>
                    <td class="num">{w.last_heartbeat.map_or("—".into(), |t| format!("{t} ms"))}</td>
                    <td class="num">{s.map_or("—".into(), |s| format!("{s} ms"))}</td>
                    <td class:stale=w.timeout_suspects data-testid=format!("fd-timeout-{}", w.node)>{say(w.timeout_suspects)}</td>
                    <td class:stale=w.phi_suspects data-testid=format!("fd-phi-{}", w.node)>{say(w.phi_suspects)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="clock-table">
            <thead><tr><th scope="col">"Node"</th><th scope="col">"Last heartbeat"</th><th scope="col">"Silence"</th><th scope="col">"Fixed timeout"</th><th scope="col">"φ accrual"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// The φ parameters, the timeout and a pause at the cursor; a change re-runs the scenario
/// with the learner's interventions kept.
fn controls(lab: Lab<FailureDetector>) -> impl IntoView {
    let change = move |f: &dyn Fn(&mut FailureDetectorScenario)| {
        let mut s = lab.scenario.get_untracked();
        f(&mut s);
        lab.set_scenario(s);
    };
    let number = move |label: &'static str,
                       help: &'static str,
                       min: &'static str,
                       max: &'static str,
                       step: &'static str,
                       get: fn(&FailureDetectorScenario) -> f64,
                       set: fn(&mut FailureDetectorScenario, f64)| {
        let apply = move |text: String| match text.trim().parse::<f64>() {
            Ok(v)
                if v.is_finite()
                    && v >= min.parse::<f64>().unwrap_or(0.0)
                    && v <= max.parse::<f64>().unwrap_or(f64::MAX) =>
            {
                change(&|s| set(s, v))
            }
            _ => lab
                .notice
                .set(Some(format!("{label}: give a number from {min} to {max}."))),
        };
        view! {
            <label title=help>
                {format!("{label} ")}
                <input type="number" min=min max=max step=step aria-label=label
                    prop:value=move || lab.scenario.with(get).to_string()
                    on:change=move |ev| apply(event_target_value(&ev)) />
            </label>
        }
    };
    let pause_ms = RwSignal::new(300u64);
    let pause_node = RwSignal::new(1usize);
    let names = move || lab.scenario.with(|s| s.nodes.clone());
    let pause = move || {
        lab.intervene(Action::Command {
            node: pause_node.get_untracked(),
            command: Command::Pause {
                ms: pause_ms.get_untracked().max(1),
            },
        })
    };
    view! {
        <section class="panel fd-controls" aria-labelledby="fd-controls-h">
            <h3 id="fd-controls-h">"Detectors"</h3>
            <div class="switch-group" role="group" aria-label="φ accrual">
                {number("φ threshold", "suspect when φ reaches this", "0.5", "50", "0.5", |s| s.threshold, |s, v| s.threshold = v)}
                {number("Acceptable heartbeat pause (ms)", "added to the mean of the inter-arrival times (Akka)", "0", "10000", "50", |s| s.acceptable_heartbeat_pause_ms as f64, |s, v| s.acceptable_heartbeat_pause_ms = v as u64)}
                {number("Minimum standard deviation (ms)", "the smallest σ used", "1", "1000", "5", |s| s.min_std_deviation_ms as f64, |s, v| s.min_std_deviation_ms = v as u64)}
            </div>
            <div class="switch-group" role="group" aria-label="Fixed timeout">
                {number("Timeout (ms)", "suspect after this much silence", "10", "10000", "10", |s| s.timeout_ms as f64, |s, v| s.timeout_ms = v as u64)}
            </div>
            <form class="switch-group" on:submit=move |ev| { ev.prevent_default(); pause() }>
                <label>"Pause "
                    <select aria-label="Node to pause" on:change=move |ev| pause_node.set(event_target_value(&ev).parse().unwrap_or(1))>
                        {move || names().into_iter().enumerate().map(|(i, n)| view! { <option value=(i + 1).to_string()>{n}</option> }).collect_view()}
                    </select>
                </label>
                <label>" for "
                    <input type="number" min="10" max="10000" step="10" aria-label="Pause length (ms)"
                        prop:value=move || pause_ms.get().to_string()
                        on:change=move |ev| pause_ms.set(event_target_value(&ev).parse().unwrap_or(300)) />
                    " ms"
                </label>
                <button type="submit">"Pause at the cursor"</button>
            </form>
        </section>
    }
}

/// `model = "failure-detector"`.
#[component]
pub fn FailureDetectorLesson(lesson: ResolvedLesson) -> impl IntoView {
    let run = match engine_lesson::<FailureDetector>(lesson, |s| {
        s.failure_detector().map(|(a, b)| (a.clone(), b.to_vec()))
    }) {
        Ok(x) => x,
        Err(e) => return cannot_show(e),
    };
    let LessonRun { nav, lab, .. } = run;
    // The plot, the numbers and the challenge read the whole run.
    let whole = Memo::new(move |_| {
        lab.engine
            .with(|e| analyze(e, e.trace().len().checked_sub(1)))
    });
    let cursor_ms = Signal::derive(move || lab.display_time.get());
    let plot = move || whole.with(|a| phi_plot(a, cursor_ms));
    let text_summary = move || whole.with(summary);
    let views = Memo::new(move |_| {
        let step = lab.panel_step.get();
        lab.engine.with(|e| e.views_at(step))
    });
    let state = move || {
        let step = lab.panel_step.get();
        let now = lab
            .engine
            .with(|e| step.and_then(|i| e.trace().get(i)).map_or(0, |ev| ev.time));
        views.with(|v| {
            verdicts(v, &|name: &str| {
                whole.with(|a| {
                    a.nodes
                        .iter()
                        .find(|n: &&NodeReport| n.name == name)
                        .and_then(|n| {
                            n.arrivals
                                .iter()
                                .rev()
                                .find(|&&t| t <= now)
                                .map(|t| now - t)
                        })
                })
            })
        })
    };
    let numbers = move || {
        whole.with(|a| {
            let crash = a.crashes() > 0;
            view! {
                <p data-testid="fd-numbers">
                    "φ accrual (threshold " {a.threshold} "): "
                    <strong data-testid="fd-phi-false">{a.phi_false()}</strong> " false suspicions; detection time "
                    <strong data-testid="fd-phi-detection">{if crash { ms(a.phi_detection()) } else { "no crash".into() }}</strong> ". "
                    "Fixed timeout (" {a.timeout_ms} " ms): "
                    <strong data-testid="fd-timeout-false">{a.timeout_false()}</strong> " false suspicions; detection time "
                    <strong data-testid="fd-timeout-detection">{if crash { ms(a.timeout_detection()) } else { "no crash".into() }}</strong> "."
                </p>
            }
        })
    };
    let sweeps = move || {
        whole.with(|a| {
            view! {
                <div class="fd-sweeps">
                    {sweep_table("φ thresholds on the same arrivals", &a.phi_sweep, Detector::Phi { threshold: a.threshold }, "fd-phi-sweep")}
                    {sweep_table("Timeouts on the same arrivals", &a.timeout_sweep, Detector::Timeout { ms: a.timeout_ms }, "fd-timeout-sweep")}
                </div>
            }
        })
    };
    let legend = move || {
        lab.scenario.with(|s| {
            s.nodes
                .iter()
                .enumerate()
                .map(|(i, n)| view! { <span class="fd-key"><span class=format!("fd-swatch fd-c{i}")></span>{n.clone()}</span> })
                .collect_view()
        })
    };
    let challenge = step_challenge(nav, move |c| whole.with(|a| c.met_by_failure_detector(a)));
    let panels = view! {
        <section class="panel fd-plot-panel" style="grid-column:1 / -1" aria-labelledby="fd-plot-h">
            <h3 id="fd-plot-h">"φ over time"</h3>
            <p class="fd-legend">{legend}
                <span class="fd-key"><span class="fd-swatch fd-threshold-key"></span>"threshold"</span>
                <span class="fd-key"><span class="fd-swatch fd-pause"></span>"pause"</span>
                " Shaded: suspected by φ. Bars under the axis: suspected by the timeout."</p>
            {plot}
            <p class="fd-summary" data-testid="fd-summary">{text_summary}</p>
        </section>
        <section class="panel fd-state" aria-labelledby="fd-state-h">
            <h3 id="fd-state-h">"The monitor at the cursor"</h3>
            {state}
            {numbers}
        </section>
        {controls(lab)}
        <section class="panel" style="grid-column:1 / -1" aria-labelledby="fd-sweep-h">
            <h3 id="fd-sweep-h">"Thresholds and timeouts on the same arrivals"</h3>
            {sweeps}
        </section>
    }
    .into_any();
    run.page(ViewFn::from(challenge), Signal::derive(Vec::new), panels)
}
