//! The space-time diagram: a lifeline per node (time runs left to right), events as marks,
//! messages as arrows from send to delivery, messages in flight animated, dropped messages
//! ending in a cross, crashed periods shaded. Model-independent: it draws a
//! [`Diagram`](distlab_sim::diagram::Diagram) given as a [`DiagramView`] (signals and
//! optional callbacks), so any model's page — or an imported log with no engine — can use it.
//!
//! Every diagram has the causality overlay: Lamport timestamps and vector clocks beside the
//! marks, and a selected event's causal past, future and concurrent events (pure part in
//! [`crate::causal`]).

use crate::causal::{self, CausalIndex, Overlay, Role};
use distlab_sim::causality::Relation;
use distlab_sim::diagram::{Arrow, Diagram, Outcome};
use distlab_sim::{MessageId, NodeId, NodeRole, Time};
use leptos::ev;
use leptos::html;
use leptos::prelude::*;

/// What a [`SpaceTime`] draws and what its controls do. `Copy`: signal and callback handles.
///
/// A live run moves `shown` and `display_time` (see `Lab::diagram_view`); a whole diagram at
/// once (an imported log) has `shown` = its last mark's step, `display_time` = its
/// `end_time`, default `highlights` and no callbacks.
#[derive(Clone, Copy)]
pub struct DiagramView {
    /// The diagram; the causality overlay is recomputed when it changes.
    pub diagram: Signal<Diagram>,
    /// The last step drawn (`None`: none yet). Marks and arrows of later steps are hidden;
    /// messages sent by then and not yet arrived are drawn in flight.
    pub shown: Signal<Option<usize>>,
    /// Simulated time (ms) of the "now" line; positions messages in flight between steps.
    pub display_time: Signal<f64>,
    /// Horizontal zoom: 1 = the whole run fits the width.
    pub zoom: Signal<f64>,
    /// Marks the page wants pointed out (e.g. stale reads), with their explanations.
    pub highlights: Signal<Vec<Highlight>>,
    /// Shown as the `<svg>`'s `data-trace-digest` (simulated runs: the trace's digest).
    pub digest: Option<Signal<String>>,
    /// Row buttons "Crash NAME" / "Restart NAME" (absent: no buttons).
    pub on_crash: Option<Callback<NodeId>>,
    pub on_restart: Option<Callback<NodeId>>,
    /// Clicking a message in flight drops it (absent: messages in flight are not buttons).
    pub on_drop: Option<Callback<MessageId>>,
}

/// Height of one lifeline row, px.
pub const ROW_H: f64 = 58.0;
/// Space above the first row for the time axis, px.
const TOP: f64 = 30.0;
/// Horizontal padding inside the plot, px.
const PAD: f64 = 18.0;

/// Something the page wants marked on the diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Highlight {
    /// The trace step of the event to mark.
    pub step: usize,
    /// CSS class, e.g. `"stale"`, `"lost"`.
    pub class: &'static str,
    /// Short text drawn beside the mark.
    pub text: String,
    /// The explanation in words, added to the mark's tooltip.
    pub why: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct Tip {
    x: f64,
    y: f64,
    title: String,
    details: Vec<(String, String)>,
}

/// Geometry shared by every element of one diagram.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Geo {
    scale: f64,
    width: f64,
}

impl Geo {
    fn x(&self, t: f64) -> f64 {
        PAD + t * self.scale
    }
    fn y(&self, row: usize) -> f64 {
        TOP + ROW_H * row as f64 + ROW_H / 2.0
    }
}

/// How many colours epochs (terms, rounds) cycle through; `style/main.css` defines
/// `.epoch-0` … `.epoch-5`.
const EPOCH_COLOURS: u64 = 6;

/// The class that colours a message by its epoch (`" epoch-N"`), or nothing.
fn epoch_class(epoch: Option<(&'static str, u64)>) -> String {
    epoch.map_or(String::new(), |(_, e)| {
        format!(" epoch-{}", e % EPOCH_COLOURS)
    })
}

/// The key to the epoch colours when messages carry epochs: "Colour = term: ■ 1 ■ 2 …",
/// the last eight epochs of the run.
fn epoch_legend(d: &Diagram) -> Option<impl IntoView> {
    let name = d.arrows.iter().find_map(|a| a.epoch.map(|(n, _)| n))?;
    let mut epochs: Vec<u64> = d
        .arrows
        .iter()
        .filter_map(|a| a.epoch.map(|(_, e)| e))
        .collect();
    epochs.sort_unstable();
    epochs.dedup();
    let shown = epochs.split_off(epochs.len().saturating_sub(8));
    Some(view! {
        <ul class="epoch-legend" aria-label=format!("Message colours by {name}")>
            <li class="epoch-key">{format!("Messages coloured by {name}:")}</li>
            {(!epochs.is_empty()).then_some(view! { <li>"…"</li> })}
            {shown.into_iter().map(|e| view! {
                <li class=format!("epoch-{}", e % EPOCH_COLOURS)><span class="swatch" aria-hidden="true"></span>{format!("{name} {e}")}</li>
            }).collect_view()}
        </ul>
    })
}

fn arrow_head(x1: f64, y1: f64, x2: f64, y2: f64) -> String {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-6);
    let (ux, uy) = (dx / len, dy / len);
    let (bx, by) = (x2 - ux * 9.0, y2 - uy * 9.0);
    let (px, py) = (-uy * 4.0, ux * 4.0);
    format!(
        "{x2:.1},{y2:.1} {:.1},{:.1} {:.1},{:.1}",
        bx + px,
        by + py,
        bx - px,
        by - py
    )
}

/// Where a dropped message's arrow ends, as a fraction of the way to the receiver.
fn drop_fraction(a: &Arrow, at: u64) -> f64 {
    if at < a.arrives_at && a.arrives_at > a.sent_at {
        (at - a.sent_at) as f64 / (a.arrives_at - a.sent_at) as f64
    } else {
        0.8
    }
}

fn nice_tick(span: f64) -> f64 {
    let raw = span / 8.0;
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|v| *v >= raw)
        .unwrap_or(10.0 * p)
}

/// Where clock labels go, relative to their mark's lifeline (text baselines, px): below the
/// line first, then a second row below, then above.
const CLOCK_DY: [f64; 3] = [17.0, 28.0, -11.0];
/// Width of one character of a clock label (10 px monospace), px.
const CLOCK_CHAR_W: f64 = 6.1;

/// A selected event: its mark, and what identifies it across re-simulations (a new run
/// keeps the selection only if the mark is the same event).
#[derive(Clone, Debug, PartialEq)]
struct Pick {
    mark: usize,
    time: Time,
    label: String,
}

/// An element the causality overlay styles: a mark or an arrow, by index in the diagram.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Mark(usize),
    Arrow(usize),
}

fn set_attr(el: &web_sys::Element, name: &str, value: Option<&str>) {
    let _ = match value {
        Some(v) => el.set_attribute(name, v),
        None => el.remove_attribute(name),
    };
}

/// The diagram with its row headers (names, places, crash / restart buttons) and the
/// causality overlay's controls, legend and explanation below it.
#[component]
pub fn SpaceTime(data: DiagramView) -> impl IntoView {
    let v = data;
    let plot_ref = NodeRef::<html::Div>::new();
    let width = RwSignal::new(900.0);
    let measure = move || {
        if let Some(el) = plot_ref.get_untracked() {
            let w = el.get_bounding_client_rect().width();
            if w > 100.0 && (w - width.get_untracked()).abs() > 0.5 {
                width.set(w);
            }
        }
    };
    Effect::new(move |_| {
        plot_ref.track();
        measure();
    });
    let handle = window_event_listener(ev::resize, move |_| measure());
    on_cleanup(move || handle.remove());

    let tip = RwSignal::new(None::<Tip>);
    let geo = Memo::new(move |_| {
        let w = width.get() * v.zoom.get().max(1.0);
        let end = v.diagram.with(|d| d.end_time).max(100) as f64 * 1.04;
        Geo {
            scale: (w - 2.0 * PAD) / end,
            width: w,
        }
    });
    // When zoomed in, keep the "now" line in view.
    Effect::new(move |_| {
        let x = geo.get().x(v.display_time.get());
        let vw = width.get();
        // After the DOM has the new width (next frame), or the browser clamps the scroll.
        request_animation_frame(move || {
            // `try_`: the diagram may have been removed before this frame (a page that
            // draws it only for small runs, e.g. the gossip lesson at 64 nodes).
            if let Some(el) = plot_ref.try_get_untracked().flatten() {
                let sl = el.scroll_left() as f64;
                if x < sl + 0.15 * vw || x > sl + 0.85 * vw {
                    el.set_scroll_left((x - 0.45 * vw).max(0.0) as i32);
                }
            }
        });
    });
    let rows = move || v.diagram.with(|d| d.nodes.len());
    let height = move || TOP + ROW_H * rows() as f64 + 8.0;
    let down_at = move |node: usize| {
        let s = v.shown.get();
        v.diagram.with(|d| {
            d.down.iter().any(|p| {
                p.node == node
                    && s.is_some_and(|s| p.from_step <= s && p.until.is_none_or(|(_, us)| us > s))
            })
        })
    };

    // Causality: computed once per diagram; the overlay once per selection.
    let causal = Memo::new(move |_| v.diagram.with(CausalIndex::of));
    let show_lamport = RwSignal::new(false);
    let show_vector = RwSignal::new(false);
    // Clock labels left out because their events are too close together at this zoom.
    let clocks_left_out = RwSignal::new(0usize);
    let compare_mode = RwSignal::new(false);
    let selected = RwSignal::new(None::<Pick>);
    let compared = RwSignal::new(None::<Pick>);
    let overlay = Memo::new(move |_| {
        let m = selected.with(|p| p.as_ref().map(|p| p.mark))?;
        causal.with(|ix| causal::classify(ix, m))
    });
    let clear = move || {
        selected.set(None);
        compared.set(None);
    };
    // A new run keeps a selection only where the same event is still there.
    Effect::new(move |_| {
        let (keep_a, keep_b) = v.diagram.with(|d| {
            let same = |p: &Option<Pick>| {
                p.as_ref().is_none_or(|p| {
                    d.marks
                        .get(p.mark)
                        .is_some_and(|m| m.time == p.time && m.label == p.label)
                })
            };
            (selected.with_untracked(same), compared.with_untracked(same))
        });
        if !keep_a {
            clear();
        } else if !keep_b {
            compared.set(None);
        }
    });
    // Click / Enter selects an event; Shift (or compare mode) picks the second one.
    let pick = move |mark: usize, second: bool| {
        let Some(p) = v.diagram.with_untracked(|d| {
            d.marks.get(mark).map(|m| Pick {
                mark,
                time: m.time,
                label: m.label.clone(),
            })
        }) else {
            return;
        };
        let first = selected.get_untracked();
        match first {
            Some(a) if second || compare_mode.get_untracked() => {
                if a.mark == mark {
                    return;
                }
                if compared.with_untracked(|b| b.as_ref().is_some_and(|b| b.mark == mark)) {
                    compared.set(None);
                } else {
                    compared.set(Some(p));
                }
            }
            Some(a) if a.mark == mark => clear(),
            _ => {
                compared.set(None);
                selected.set(Some(p));
            }
        }
    };
    let handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
        if e.key() == "Escape" && selected.with_untracked(Option::is_some) {
            clear();
        }
    });
    on_cleanup(move || handle.remove());

    let headers = move || {
        v.diagram.with(|d| {
            d.nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let name = n.name.clone();
                    let place = n.place.clone().unwrap_or_default();
                    let clock = (!n.clock.is_exact()).then(|| {
                        let text = format!("clock {}", n.clock.describe());
                        let title = format!(
                            "{name}'s physical clock: {}{}",
                            match n.clock.offset_ms {
                                0 => "on time".to_string(),
                                o if o < 0 => format!("{} ms behind true time", -o),
                                o => format!("{o} ms ahead of true time"),
                            },
                            if n.clock.drift_ppm == 0 { String::new() } else { format!(", running {} ppm {}", n.clock.drift_ppm.abs(), if n.clock.drift_ppm > 0 { "fast" } else { "slow" }) }
                        );
                        view! { <span class="node-clock" title=title>{text}</span> }
                    });
                    let role = n.role;
                    let label_crash = format!("Crash {name}");
                    let label_restart = format!("Restart {name}");
                    view! {
                        <div class="row-head" class:client=role == NodeRole::Client class:down=move || down_at(i)
                             style=format!("height:{ROW_H}px")>
                            <div class="row-name">
                                <span class="node-name">{name.clone()}</span>
                                <span class="node-place">{place}</span>
                                {clock}
                            </div>
                            {move || match (down_at(i), v.on_restart, v.on_crash) {
                                (true, Some(restart), _) => {
                                    let l = label_restart.clone();
                                    Some(view! { <button class="node-btn restart" aria-label=l
                                        on:click=move |_| restart.run(i)>"Restart"</button> }.into_any())
                                }
                                (false, _, Some(crash)) => {
                                    let l = label_crash.clone();
                                    Some(view! { <button class="node-btn crash" aria-label=l
                                        on:click=move |_| crash.run(i)>"Crash"</button> }.into_any())
                                }
                                _ => None,
                            }}
                        </div>
                    }
                })
                .collect_view()
        })
    };

    let axis = move || {
        let g = geo.get();
        let end = (g.width - 2.0 * PAD) / g.scale;
        let tick = nice_tick(end);
        let mut t = 0.0;
        let mut out = Vec::new();
        while t <= end {
            let x = g.x(t);
            out.push(view! {
                <line class="tick" x1=x x2=x y1=TOP - 6.0 y2=height() />
                <text class="tick-label" x=x y=TOP - 10.0 text-anchor="middle">{format!("{t} ms")}</text>
            });
            t += tick;
        }
        out.collect_view()
    };

    let lifelines = move || {
        let g = geo.get();
        (0..rows())
            .map(|i| {
                let y = g.y(i);
                view! { <line class="lifeline" x1=PAD x2=g.width - PAD y1=y y2=y /> }
            })
            .collect_view()
    };

    let downs = move || {
        let g = geo.get();
        v.diagram.with(|d| {
            d.down
                .iter()
                .map(|p| {
                    let p = p.clone();
                    let y = g.y(p.node) - ROW_H * 0.32;
                    let x1 = g.x(p.from as f64);
                    let x2 = move || match p.until {
                        Some((t, s)) if v.shown.get().is_some_and(|c| c >= s) => g.x(t as f64),
                        _ => g.x(v.display_time.get()).max(x1),
                    };
                    let visible = move || v.shown.get().is_some_and(|s| s >= p.from_step);
                    view! {
                        <rect class="down" class:future=move || !visible() x=x1 y=y width=move || (x2() - x1).max(1.0) height=ROW_H * 0.64 />
                    }
                })
                .collect_view()
        })
    };

    let set_tip = move |ev: &web_sys::MouseEvent, title: String, details: Vec<(String, String)>| {
        if let Some(el) = plot_ref.get_untracked() {
            let r = el.get_bounding_client_rect();
            let x = ev.client_x() as f64 - r.left() + el.scroll_left() as f64;
            tip.set(Some(Tip {
                x,
                y: ev.client_y() as f64 - r.top(),
                title,
                details,
            }));
        }
    };
    let focus_tip = move |x: f64, y: f64, title: String, details: Vec<(String, String)>| {
        tip.set(Some(Tip {
            x,
            y,
            title,
            details,
        }))
    };

    let arrows = move || {
        let g = geo.get();
        let shown_now = v.shown.get_untracked().map_or(0, |s| s + 1);
        v.diagram.with(|d| {
            let name = |n: usize| d.nodes.get(n).map_or(String::new(), |i| i.name.clone());
            d.arrows
                .iter()
                .enumerate()
                .filter_map(|(ix, a)| {
                    let end_step = a.end_step()?;
                    let (x1, y1) = (g.x(a.sent_at as f64), g.y(a.from));
                    let (xr, yr) = (g.x(a.arrives_at as f64), g.y(a.to));
                    let (dropped, reason, at) = match &a.outcome {
                        Outcome::Dropped { at, reason, .. } => (true, Some(reason.describe()), *at),
                        Outcome::Delivered { at, .. } => (false, None, *at),
                        Outcome::InFlight => return None,
                    };
                    let (x2, y2) = if dropped {
                        let f = drop_fraction(a, at);
                        (x1 + (xr - x1) * f, y1 + (yr - y1) * f)
                    } else {
                        (g.x(at as f64), yr)
                    };
                    let mut details = vec![("message".to_string(), format!("#{} {} → {}", a.id, name(a.from), name(a.to)))];
                    if d.timed {
                        details.push(("sent".into(), format!("{} ms", a.sent_at)));
                        match &a.outcome {
                            Outcome::Delivered { at, .. } => details.push(("delivered".into(), format!("{at} ms ({} ms later)", at - a.sent_at))),
                            Outcome::Dropped { at, reason, .. } => details.push(("dropped".into(), format!("{at} ms: {}", reason.describe()))),
                            Outcome::InFlight => {}
                        }
                    }
                    details.extend(a.details.iter().cloned());
                    let title = a.label.clone();
                    let (t2, d2) = (title.clone(), details.clone());
                    let label_x = (x1 + x2) / 2.0;
                    let label_y = (y1 + y2) / 2.0 - 4.0;
                    // A label is drawn only where its arrow is wider than the label itself (about 7.5 px a
                    // character at the diagram's label size), so dense runs do not pile labels up.
                    let long = (x2 - x1).abs() > (a.label.chars().count() as f64 * 7.5 + 12.0).max(70.0);
                    Some(view! {
                        <g class=format!("message{}{}{}", if dropped { " dropped" } else { "" }, if end_step >= shown_now { " future" } else { "" }, epoch_class(a.epoch)) data-vis=end_step
                           data-arrow=ix data-kind=a.kind data-epoch=a.epoch.map(|(_, e)| e) data-from=name(a.from) data-to=name(a.to) data-id=a.id
                           data-sent-at=a.sent_at data-received-at=if dropped { None } else { Some(at) }
                           data-sent-step=a.send_step data-received-step=if dropped { None } else { Some(end_step) }
                           data-dropped=if dropped { Some("true") } else { None } data-drop-reason=reason
                           tabindex="0" role="img"
                           aria-label=format!("{}: {} → {}{}", title, name(a.from), name(a.to), if dropped { ", dropped" } else { "" })
                           on:mouseenter=move |ev| set_tip(&ev, title.clone(), details.clone())
                           on:mouseleave=move |_| tip.set(None)
                           on:focus=move |_| focus_tip(x2, y2, t2.clone(), d2.clone())
                           on:blur=move |_| tip.set(None)>
                            <line class="hit" x1=x1 y1=y1 x2=x2 y2=y2 />
                            <line class="shaft" x1=x1 y1=y1 x2=x2 y2=y2 />
                            {if dropped {
                                view! { <path class="cross" d=format!("M{:.1},{:.1} l8,8 m0,-8 l-8,8", x2 - 4.0, y2 - 4.0) /> }.into_any()
                            } else {
                                view! { <polygon class="head" points=arrow_head(x1, y1, x2, y2) /> }.into_any()
                            }}
                            {long.then(|| view! { <text class="msg-label" x=label_x y=label_y text-anchor="middle">{a.label.clone()}</text> })}
                        </g>
                    })
                })
                .collect_view()
        })
    };

    let marks = move || {
        let g = geo.get();
        let shown_now = v.shown.get_untracked().map_or(0, |s| s + 1);
        let hl = v.highlights.get();
        v.diagram.with(|d| causal.with(|cx| {
            d.marks
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let step = m.step;
                    let x = g.x(m.time as f64);
                    let node_name = m.node.and_then(|n| d.nodes.get(n)).map(|n| n.name.clone());
                    let h = hl.iter().find(|h| h.step == step).cloned();
                    let hclass = h.as_ref().map_or("", |h| h.class);
                    let mut details = m.details.clone();
                    if let Some(why) = h.as_ref().and_then(|h| h.why.clone()) {
                        details.insert(0, (h.as_ref().map_or(String::new(), |h| h.text.clone()), why));
                    }
                    if let Some(e) = cx.event(i) {
                        details.push(("Lamport timestamp".into(), cx.causality.lamport[e].counter.to_string()));
                        details.push(("vector clock".into(), causal::vector_text(&cx.causality.vector[e])));
                    }
                    let title = m.label.clone();
                    let (t2, d2) = (title.clone(), details.clone());
                    let kind = m.kind;
                    match m.node {
                        None => {
                            let net_row = d.marks[..i].iter().filter(|x| x.node.is_none()).count();
                            let y2 = TOP + ROW_H * d.nodes.len() as f64;
                            view! {
                                <g class={if step >= shown_now { "event network future" } else { "event network" }} data-vis=step data-mark=i data-kind=kind data-time=m.time data-step=step
                                   tabindex="0" role="img" aria-label=title.clone()
                                   on:mouseenter=move |ev| set_tip(&ev, title.clone(), details.clone())
                                   on:mouseleave=move |_| tip.set(None)
                                   on:focus=move |_| focus_tip(x, TOP, t2.clone(), d2.clone()) on:blur=move |_| tip.set(None)>
                                    <line class="net-line" x1=x x2=x y1=TOP y2=y2 />
                                    <text class="net-label" x=x + 4.0 y=TOP + 12.0 + 13.0 * (net_row % 3) as f64>{m.label.clone()}</text>
                                </g>
                            }
                            .into_any()
                        }
                        Some(n) => {
                            let y = g.y(n);
                            let shape = match kind {
                                "crash" => view! { <path class="shape" d=format!("M{:.1},{:.1} l12,12 m0,-12 l-12,12", x - 6.0, y - 6.0) /> }.into_any(),
                                "invoke" => view! { <rect class="shape" x=x - 5.0 y=y - 5.0 width=10 height=10 /> }.into_any(),
                                "return" => view! { <polygon class="shape" points=format!("{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}", y - 7.0, x + 7.0, y + 7.0, x - 7.0) /> }.into_any(),
                                _ => view! { <circle class="shape" cx=x cy=y r=4.5 /> }.into_any(),
                            };
                            let text = h.map(|h| h.text);
                            // The accessible name includes the visible highlight text.
                            let aria = text.as_ref().map_or_else(|| title.clone(), |t| format!("{title} — {t}"));
                            // Events (not drops) can be selected for the causality overlay.
                            let event = cx.event(i).is_some();
                            view! {
                                <g class=format!("event {kind} {hclass}{}", if step >= shown_now { " future" } else { "" }) data-vis=step data-mark=i
                                   data-kind=kind data-node=node_name data-time=m.time data-step=step
                                   tabindex="0" aria-label=aria
                                   role=if event { "button" } else { "img" } aria-pressed=event.then_some("false")
                                   on:click=move |e: web_sys::MouseEvent| if event { pick(i, e.shift_key()) }
                                   on:keydown=move |e: web_sys::KeyboardEvent| if event && (e.key() == "Enter" || e.key() == " ") {
                                       e.prevent_default();
                                       e.stop_propagation();
                                       pick(i, e.shift_key());
                                   }
                                   on:mouseenter=move |ev| set_tip(&ev, title.clone(), details.clone())
                                   on:mouseleave=move |_| tip.set(None)
                                   on:focus=move |_| focus_tip(x, y, t2.clone(), d2.clone()) on:blur=move |_| tip.set(None)>
                                    <circle class="hit" cx=x cy=y r=10 />
                                    {(!hclass.is_empty()).then(|| view! { <circle class="ring" cx=x cy=y r=11 /> })}
                                    {shape}
                                    {text.map(|t| view! { <text class="hl-label" x=x y=y - 14.0 text-anchor="middle">{t}</text> })}
                                </g>
                            }
                            .into_any()
                        }
                    }
                })
                .collect_view()
        }))
    };

    // Lamport counters and vector clocks beside the marks, when asked for.
    let clocks = move || {
        let (lamport, vector) = (show_lamport.get(), show_vector.get());
        if !lamport && !vector {
            if clocks_left_out.get_untracked() != 0 {
                clocks_left_out.set(0);
            }
            return None;
        }
        let g = geo.get();
        let shown_now = v.shown.get_untracked().map_or(0, |s| s + 1);
        let labels = v.diagram.with(|d| {
            causal.with(|cx| {
                let c = &cx.causality;
                c.events
                    .iter()
                    .enumerate()
                    .map(|(e, ev)| {
                        let m = &d.marks[ev.mark];
                        let l = lamport.then(|| c.lamport[e].counter.to_string());
                        let vc = vector.then(|| causal::vector_text(&c.vector[e]));
                        let chars = l.as_ref().map_or(0, |s| s.len())
                            + vc.as_ref().map_or(0, |s| s.len() + 1);
                        (
                            m.step,
                            ev.node,
                            g.x(m.time as f64),
                            chars as f64 * CLOCK_CHAR_W,
                            l,
                            vc,
                        )
                    })
                    .collect::<Vec<_>>()
            })
        });
        // Centred on the mark, kept inside the plot.
        let centre = |x: f64, w: f64| x.max(w / 2.0 + 2.0).min(g.width - w / 2.0 - 2.0);
        let spans: Vec<(usize, f64, f64)> = labels
            .iter()
            .map(|(_, n, x, w, ..)| (*n, centre(*x, *w) - w / 2.0, *w))
            .collect();
        let levels = causal::stack_labels(&spans, CLOCK_DY.len());
        let left_out = levels.iter().filter(|l| l.is_none()).count();
        if clocks_left_out.get_untracked() != left_out {
            clocks_left_out.set(left_out);
        }
        Some(labels
            .into_iter()
            .zip(levels)
            .filter_map(|((step, node, x, w, l, vc), level)| {
                let y = g.y(node) + CLOCK_DY[level?];
                let gap = (l.is_some() && vc.is_some()).then_some(" ");
                Some(view! {
                    <text class={if step >= shown_now { "clock future" } else { "clock" }} data-vis=step data-step=step x=centre(x, w) y=y text-anchor="middle">
                        {l.map(|l| view! { <tspan class="lamport">{l}</tspan> })}{gap}{vc.map(|vc| view! { <tspan class="vc">{vc}</tspan> })}
                    </text>
                })
            })
            .collect_view())
    };

    // "e" and "f" beside the selected events (letters that do not read as node names).
    let badges = move || {
        let g = geo.get();
        [(selected.get(), "e"), (compared.get(), "f")]
            .into_iter()
            .filter_map(|(p, letter)| {
                let p = p?;
                let (x, y, step) = v.diagram.with(|d| {
                    let m = d.marks.get(p.mark)?;
                    Some((g.x(m.time as f64), g.y(m.node?), m.step))
                })?;
                Some(view! {
                    <text class="badge" class:future=move || v.shown.get().is_none_or(|s| s < step) x=x - 12.0 y=y - 9.0 text-anchor="end">{letter}</text>
                })
            })
            .collect_view()
    };

    // Messages in flight at the shown step: animated, clickable to drop.
    let in_flight = Memo::new(move |_| {
        let s = v.shown.get();
        v.diagram.with(|d| {
            d.arrows
                .iter()
                .filter(|a| {
                    s.is_some_and(|s| a.send_step <= s && a.end_step().is_none_or(|e| e > s))
                })
                .map(|a| a.id)
                .collect::<Vec<_>>()
        })
    });
    let flying = move |id: u64| {
        let Some(a) = v
            .diagram
            .with_untracked(|d| d.arrows.iter().find(|a| a.id == id).cloned())
        else {
            return ().into_any();
        };
        let names = v
            .diagram
            .with_untracked(|d| (d.nodes[a.from].name.clone(), d.nodes[a.to].name.clone()));
        let pos = move || {
            let g = geo.get();
            let t = v.display_time.get();
            let (x1, y1) = (g.x(a.sent_at as f64), g.y(a.from));
            let (xr, yr) = (g.x(a.arrives_at as f64), g.y(a.to));
            let f = if a.arrives_at > a.sent_at {
                ((t - a.sent_at as f64) / (a.arrives_at - a.sent_at) as f64).clamp(0.0, 1.0)
            } else {
                1.0
            };
            (x1, y1, x1 + (xr - x1) * f, y1 + (yr - y1) * f, xr, yr)
        };
        let short = a.label.clone();
        let droppable = v.on_drop;
        let label = match droppable {
            Some(_) => format!(
                "Drop message #{}: {} ({} → {})",
                a.id, a.label, names.0, names.1
            ),
            None => format!(
                "Message #{} in flight: {} ({} → {})",
                a.id, a.label, names.0, names.1
            ),
        };
        let title = match droppable {
            Some(_) => format!("{} (in flight — click to drop)", a.label),
            None => format!("{} (in flight)", a.label),
        };
        let mut details = vec![(
            "message".to_string(),
            format!("#{} {} → {}", a.id, names.0, names.1),
        )];
        details.push(("sent".into(), format!("{} ms", a.sent_at)));
        details.push(("arrives".into(), format!("{} ms", a.arrives_at)));
        details.extend(a.details.iter().cloned());
        let drop_it = move || {
            if let Some(cb) = droppable {
                cb.run(id)
            }
        };
        view! {
            <g class=format!("message in-flight{}", epoch_class(a.epoch)) class:droppable=droppable.is_some() role=if droppable.is_some() { "button" } else { "img" } tabindex="0" aria-label=label
               data-kind=a.kind data-from=names.0.clone() data-to=names.1.clone() data-id=a.id data-sent-at=a.sent_at
               on:click=move |_| drop_it()
               on:keydown=move |ev: web_sys::KeyboardEvent| if droppable.is_some() && (ev.key() == "Enter" || ev.key() == " ") { ev.prevent_default(); ev.stop_propagation(); drop_it() }
               on:mouseenter=move |ev| set_tip(&ev, title.clone(), details.clone())
               on:mouseleave=move |_| tip.set(None)>
                <line class="planned" x1=move || pos().0 y1=move || pos().1 x2=move || pos().4 y2=move || pos().5 />
                <line class="hit" x1=move || pos().0 y1=move || pos().1 x2=move || pos().4 y2=move || pos().5 />
                <line class="shaft" x1=move || pos().0 y1=move || pos().1 x2=move || pos().2 y2=move || pos().3 />
                <circle class="packet" cx=move || pos().2 cy=move || pos().3 r=5 />
                <text class="packet-label" x=move || pos().2 + 8.0 y=move || pos().3 - 6.0>{short}</text>
            </g>
        }
        .into_any()
    };

    // Visibility: every mark, finished arrow and clock label carries `data-vis` (the step
    // from which it is shown). Rather than one reactive closure per element, keep them sorted
    // by that step and toggle only the ones between the old and the new shown step.
    // The causality overlay is applied the same way: by attribute, on selection changes only.
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let index = StoredValue::new_local(Vec::<(usize, web_sys::Element)>::new());
    let targets = StoredValue::new_local(Vec::<(Target, web_sys::Element)>::new());
    let applied = StoredValue::new(0usize);
    let apply = move |target: usize| {
        let from = applied.get_value();
        index.with_value(|ix| {
            let (lo, hi, show) = if target > from {
                (from, target, true)
            } else {
                (target, from, false)
            };
            let a = ix.partition_point(|(v, _)| *v < lo);
            let b = ix.partition_point(|(v, _)| *v < hi);
            for (_, el) in &ix[a..b] {
                let cl = el.class_list();
                let _ = if show {
                    cl.remove_1("future")
                } else {
                    cl.add_1("future")
                };
            }
        });
        applied.set_value(target);
    };
    let apply_causal = move || {
        let a = selected.with_untracked(|p| p.as_ref().map(|p| p.mark));
        let b = compared.with_untracked(|p| p.as_ref().map(|p| p.mark));
        overlay.with_untracked(|o: &Option<Overlay>| {
            targets.with_value(|ts| {
                for (t, el) in ts {
                    let role = o.as_ref().and_then(|o| match *t {
                        Target::Mark(i) => o.marks.get(i).copied().flatten(),
                        Target::Arrow(i) => o.arrows.get(i).copied().flatten(),
                    });
                    set_attr(el, "data-causal", role.map(Role::attr));
                    if let Target::Mark(i) = *t {
                        set_attr(el, "data-compare", (b == Some(i)).then_some("true"));
                        if el.has_attribute("aria-pressed") {
                            let pressed = a == Some(i) || b == Some(i);
                            set_attr(
                                el,
                                "aria-pressed",
                                Some(if pressed { "true" } else { "false" }),
                            );
                        }
                    }
                }
            })
        });
    };
    let rebuild = move || {
        // Runs in the next frame: the diagram may have been removed by then.
        let Some(svg) = svg_ref.try_get_untracked().flatten() else {
            return;
        };
        let target = v.shown.get_untracked().map_or(0, |s| s + 1);
        let mut ix = Vec::new();
        let mut ts = Vec::new();
        if let Ok(list) = svg.query_selector_all("[data-vis]") {
            for i in 0..list.length() {
                if let Some(el) = list
                    .item(i)
                    .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
                {
                    let num = |name: &str| el.get_attribute(name).and_then(|v| v.parse().ok());
                    let vis: usize = num("data-vis").unwrap_or(usize::MAX);
                    if let Some(m) = num("data-mark") {
                        ts.push((Target::Mark(m), el.clone()));
                    } else if let Some(a) = num("data-arrow") {
                        ts.push((Target::Arrow(a), el.clone()));
                    }
                    let _ = if vis < target {
                        el.class_list().remove_1("future")
                    } else {
                        el.class_list().add_1("future")
                    };
                    ix.push((vis, el));
                }
            }
        }
        ix.sort_by_key(|(v, _)| *v);
        index.set_value(ix);
        targets.set_value(ts);
        applied.set_value(target);
        if selected.with_untracked(Option::is_some) {
            apply_causal();
        }
    };
    Effect::new(move |_| {
        // The diagram's DOM was re-rendered: re-index once the DOM is current (next frame).
        v.diagram.track();
        geo.track();
        v.highlights.track();
        show_lamport.track();
        show_vector.track();
        request_animation_frame(rebuild);
    });
    Effect::new(move |_| {
        let target = v.shown.get().map_or(0, |s| s + 1);
        apply(target);
    });
    Effect::new(move |_| {
        overlay.track();
        compared.track();
        apply_causal();
    });

    let now_x = move || geo.get().x(v.display_time.get());
    let aria = move || {
        let (n, m) = v.diagram.with(|d| (d.nodes.len(), d.arrows.len()));
        let t = v.shown.get().map_or(0, |s| {
            v.diagram.with(|d| {
                let k = d.marks.partition_point(|m| m.step <= s);
                k.checked_sub(1).map_or(0, |k| d.marks[k].time)
            })
        });
        if v.diagram.with(|d| d.timed) {
            format!("Space-time diagram: {n} lifelines, time runs left to right; {m} messages in the run; now at {t} ms")
        } else {
            format!("Space-time diagram of an imported log: {n} lifelines, events left to right in Lamport order; {m} messages")
        }
    };
    let digest = move || v.digest.map(|d| d.get());

    view! {
        <div class="spacetime">
            <div class="row-heads" style=move || format!("padding-top:{TOP}px")>{headers}</div>
            <div class="plot" node_ref=plot_ref>
                // `graphics-document`, not `img`: an image's children are presentational,
                // and the marks and messages inside are focusable controls.
                <svg node_ref=svg_ref role="graphics-document" aria-label=aria data-trace-digest=digest width=move || geo.get().width height=height
                     class="diagram" class:causal-on=move || overlay.with(Option::is_some)>
                    <g class="axis">{axis}</g>
                    <g class="lifelines">{lifelines}</g>
                    <g class="downs">{downs}</g>
                    <g class="arrows">{arrows}</g>
                    <g class="clocks">{clocks}</g>
                    <g class="marks">{marks}</g>
                    <g class="badges">{badges}</g>
                    <g class="flying">
                        <For each=move || in_flight.get() key=|id| *id children=flying />
                    </g>
                    <line class="now" x1=now_x x2=now_x y1=TOP - 4.0 y2=height />
                    <text class="now-label" x=move || now_x() + 4.0 y=TOP + 2.0>{move || v.diagram.with(|d| d.timed).then(|| format!("{:.0} ms", v.display_time.get()))}</text>
                </svg>
                {move || tip.get().map(|t| {
                    let left = (t.x + 14.0).min(geo.get_untracked().width - 260.0).max(0.0);
                    view! {
                        <div class="tip" role="tooltip" style=format!("left:{left:.0}px;top:{:.0}px", t.y + 14.0)>
                            <div class="tip-title">{t.title}</div>
                            <table>{t.details.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}</table>
                        </div>
                    }
                })}
            </div>
            {move || v.diagram.with(epoch_legend)}
            <CausalPanel
                diagram=v.diagram causal=causal overlay=overlay selected=selected compared=compared
                show_lamport=show_lamport show_vector=show_vector compare_mode=compare_mode clocks_left_out=clocks_left_out />
            <crate::step_list::StepList diagram=v.diagram shown=v.shown />
        </div>
    }
}

/// Below the diagram: the clock toggles, the compare mode, the legend, and what the
/// selection means in words (an `aria-live` region).
#[component]
fn CausalPanel(
    diagram: Signal<Diagram>,
    causal: Memo<CausalIndex>,
    overlay: Memo<Option<Overlay>>,
    selected: RwSignal<Option<Pick>>,
    compared: RwSignal<Option<Pick>>,
    show_lamport: RwSignal<bool>,
    show_vector: RwSignal<bool>,
    compare_mode: RwSignal<bool>,
    clocks_left_out: RwSignal<usize>,
) -> impl IntoView {
    let toggle = move |s: RwSignal<bool>| move |_| s.update(|b| *b = !*b);
    let pressed = move |s: RwSignal<bool>| move || if s.get() { "true" } else { "false" };
    let clear = move |_| {
        selected.set(None);
        compared.set(None);
    };
    let clocks_of = move |mark: usize| {
        causal.with(|cx| {
            cx.event(mark).map(|e| {
                (
                    cx.causality.lamport[e].counter,
                    causal::vector_text(&cx.causality.vector[e]),
                )
            })
        })
    };
    let order = move || {
        diagram.with(|d| {
            d.nodes
                .iter()
                .map(|n| n.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let explanation = move || {
        let Some(a) = selected.get() else {
            return view! {
                <p class="causal-hint">"Select an event (click it, or focus it and press Enter) to see its causal past and future. Shift+click a second event to compare the two."</p>
            }
            .into_any();
        };
        let (la, va) = clocks_of(a.mark).unwrap_or_default();
        let timed = diagram.with(|d| d.timed);
        let at = move |t: Time| {
            if timed {
                format!(" ({t} ms)")
            } else {
                String::new()
            }
        };
        match compared.get() {
            None => {
                let (past, future, concurrent) = overlay.with(|o| {
                    o.as_ref()
                        .map_or((0, 0, 0), |o| (o.past, o.future, o.concurrent))
                });
                view! {
                    <p class="causal-selected">
                        <strong class="ev">"e"</strong>{format!(" = “{}”{} · Lamport {la} · vector {va}", a.label, at(a.time))}
                    </p>
                    <p>{format!("{past} event(s) happen before it (its causal past), {future} after it (its causal future); {concurrent} are concurrent with it. Shift+click another event, or turn on Compare, to see how two events are related.")}</p>
                }
                .into_any()
            }
            Some(b) => {
                let (lb, vb) = clocks_of(b.mark).unwrap_or_default();
                let rel = diagram
                    .with(|d| causal.with(|cx| causal::relation_text(d, cx, a.mark, b.mark)));
                let (kind, symbol, text) = match rel {
                    Some((Relation::Before, t)) => ("before", "e → f", t),
                    Some((Relation::After, t)) => ("after", "f → e", t),
                    Some((Relation::Concurrent, t)) => ("concurrent", "e ∥ f", t),
                    Some((Relation::Same, t)) => ("same", "e = f", t),
                    None => ("none", "", String::new()),
                };
                view! {
                    <p class="causal-selected">
                        <strong class="ev">"e"</strong>{format!(" = “{}”{} · Lamport {la} · vector {va}", a.label, at(a.time))}<br />
                        <strong class="ev">"f"</strong>{format!(" = “{}”{} · Lamport {lb} · vector {vb}", b.label, at(b.time))}
                    </p>
                    <p class="relation" data-relation=kind><strong class="relation-symbol">{symbol}</strong>" "{text}</p>
                }
                .into_any()
            }
        }
    };
    view! {
        <div class="causality">
            <div class="causal-bar">
                <div class="causal-toggles" role="group" aria-label="Causality">
                    <button aria-label="Show Lamport timestamps" aria-pressed=pressed(show_lamport) on:click=toggle(show_lamport)>"Lamport timestamps"</button>
                    <button aria-label="Show vector clocks" aria-pressed=pressed(show_vector) on:click=toggle(show_vector)>"Vector clocks"</button>
                    <button aria-label="Compare two events" title="Compare: the next event you select becomes f" aria-pressed=pressed(compare_mode) on:click=toggle(compare_mode)>"Compare"</button>
                    {move || selected.with(Option::is_some).then(|| view! {
                        <button class="clear" aria-label="Clear selection" title="Clear selection (Escape)" on:click=clear>"Clear (Esc)"</button>
                    })}
                </div>
                {move || selected.with(Option::is_some).then(|| view! {
                    <ul class="causal-legend" aria-label="Legend">
                        <li><svg class="swatch" viewBox="0 0 24 24" aria-hidden="true"><circle class="ring sel" cx="12" cy="12" r="9" /><circle class="dot sel" cx="12" cy="12" r="5" /></svg>"selected (e)"</li>
                        <li><svg class="swatch" viewBox="0 0 24 24" aria-hidden="true"><circle class="dot past" cx="12" cy="12" r="5.5" /></svg>"past: happened before e"</li>
                        <li><svg class="swatch" viewBox="0 0 24 24" aria-hidden="true"><circle class="ring future" cx="12" cy="12" r="9" /><circle class="dot future" cx="12" cy="12" r="5.5" /></svg>"future: happens after e"</li>
                        <li><svg class="swatch" viewBox="0 0 24 24" aria-hidden="true"><circle class="dot concurrent" cx="12" cy="12" r="5.5" /></svg>"concurrent with e"</li>
                        <li><svg class="swatch wide" viewBox="0 0 36 24" aria-hidden="true"><line class="past" x1="2" y1="8" x2="34" y2="8" /><line class="future" x1="2" y1="17" x2="34" y2="17" /></svg>"messages on those chains"</li>
                    </ul>
                })}
            </div>
            {move || (show_lamport.get() || show_vector.get()).then(|| view! {
                <p class="clock-key">
                    {move || show_lamport.get().then_some("Bold number: Lamport counter. ")}
                    {move || show_vector.get().then(|| format!("[…]: vector clock, one entry per row in order ({}). ", order()))}
                    {move || match clocks_left_out.get() {
                        0 => None,
                        n => Some(format!("{n} label(s) left out where events are too close together: zoom in, or hover an event for its clocks.")),
                    }}
                </p>
            })}
            <div class="causal-text" aria-live="polite">{explanation}</div>
        </div>
    }
}
