//! The panels around the diagram: transport controls, replicas and replication lag, client
//! operations (with stale reads and lost writes), the topology view with live failures,
//! and the client-operation and replication-mode controls.

use crate::lab::{Lab, SPEEDS};
use distlab_sim::models::replication::{Request, Role, View};
use distlab_sim::models::EngineModel;
use distlab_sim::{Action, Latency, NodeRole};
use leptos::prelude::*;

/// Play / pause, step, go to start / end, speed, and the timeline.
#[component]
pub fn Transport<M: EngineModel + 'static>(lab: Lab<M>) -> impl IntoView {
    let len = move || lab.engine.with(|e| e.trace().len());
    let pos = move || lab.cursor.get().map_or(0, |s| s + 1);
    let status = move || {
        let t = lab.display_time.get();
        format!("{t:.0} ms · step {} of {}", pos(), len())
    };
    view! {
        <div class="transport" role="toolbar" aria-label="Playback">
            <button aria-label="Go to start" title="Go to start (Home)" on:click=move |_| lab.go_to_start()>{icon("start")}</button>
            <button aria-label="Step back" title="Step back (←)" on:click=move |_| lab.step_back()>{icon("back")}</button>
            {move || if lab.playing.get() {
                view! { <button class="play" aria-label="Pause" title="Pause (Space)" on:click=move |_| lab.toggle_play()>{icon("pause")}</button> }.into_any()
            } else {
                view! { <button class="play" aria-label="Play" title="Play (Space)" on:click=move |_| lab.toggle_play()>{icon("play")}</button> }.into_any()
            }}
            <button aria-label="Step forward" title="Step forward (→)" on:click=move |_| lab.step_forward()>{icon("forward")}</button>
            <button aria-label="Go to end" title="Go to end (End)" on:click=move |_| lab.go_to_end()>{icon("end")}</button>
            <label class="speed">
                <span>"Speed"</span>
                <select aria-label="Speed" on:change=move |ev| {
                    if let Ok(i) = event_target_value(&ev).parse::<usize>() { lab.speed.set(i.min(SPEEDS.len() - 1)) }
                }>
                    {SPEEDS.iter().enumerate().map(|(i, s)| view! {
                        <option value=i.to_string() selected=move || lab.speed.get() == i>{format!("{s}×")}</option>
                    }).collect_view()}
                </select>
            </label>
            <input type="range" class="timeline" aria-label="Timeline" min="0" max=move || len().to_string()
                prop:value=move || pos().to_string()
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<usize>() {
                        lab.playing.set(false);
                        lab.jump(v.checked_sub(1));
                    }
                } />
            <span class="status" aria-live="polite">{status}</span>
        </div>
    }
}

/// The diagram's horizontal zoom.
#[component]
pub fn ZoomControl<M: EngineModel + 'static>(lab: Lab<M>) -> impl IntoView {
    view! {
        <label class="zoom">
                <span>"Zoom"</span>
                <select aria-label="Zoom" on:change=move |ev| { if let Ok(z) = event_target_value(&ev).parse::<f64>() { lab.zoom.set(z) } }>
                    {[(1.0, "whole run"), (2.0, "2×"), (4.0, "4×"), (8.0, "8×"), (16.0, "16×")].into_iter().map(|(z, l)| view! {
                        <option value=z.to_string() selected=move || (lab.zoom.get() - z).abs() < 1e-9>{l}</option>
                    }).collect_view()}
                </select>
            </label>
    }
}

/// A transport icon (SVG, so it renders without special fonts).
fn icon(name: &'static str) -> impl IntoView {
    let shapes = match name {
        "start" => view! { <rect x="2" y="3" width="2" height="10" /><polygon points="9,3 4,8 9,13" /><polygon points="14,3 9,8 14,13" /> }.into_any(),
        "back" => view! { <rect x="3" y="3" width="2" height="10" /><polygon points="13,3 6,8 13,13" /> }.into_any(),
        "play" => view! { <polygon points="4,2 14,8 4,14" /> }.into_any(),
        "pause" => view! { <rect x="4" y="3" width="3" height="10" /><rect x="9" y="3" width="3" height="10" /> }.into_any(),
        "forward" => view! { <polygon points="3,3 10,8 3,13" /><rect x="11" y="3" width="2" height="10" /> }.into_any(),
        _ => view! { <polygon points="2,3 7,8 2,13" /><polygon points="7,3 12,8 7,13" /><rect x="12" y="3" width="2" height="10" /> }.into_any(),
    };
    view! { <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" fill="currentColor">{shapes}</svg> }
}

fn names(lab: &Lab) -> Vec<String> {
    lab.diagram
        .with(|d| d.nodes.iter().map(|n| n.name.clone()).collect())
}

/// Per replica: role, value, log position, lag in entries and milliseconds.
#[component]
pub fn Replicas(lab: Lab) -> impl IntoView {
    let views = Memo::new(move |_| {
        let s = lab.panel_step.get();
        lab.engine.with(|e| e.views_at(s))
    });
    let rows = move || {
        let a = lab.analysis.get();
        let names = names(&lab);
        let down: Vec<bool> = lab.diagram.with(|d| {
            let s = lab.panel_step.get();
            (0..d.nodes.len())
                .map(|n| {
                    d.down.iter().any(|p| {
                        p.node == n
                            && s.is_some_and(|s| {
                                p.from_step <= s && p.until.is_none_or(|(_, us)| us > s)
                            })
                    })
                })
                .collect()
        });
        views
            .get()
            .into_iter()
            .enumerate()
            .filter_map(|(n, v)| {
                let View::Server(s) = v else { return None };
                let lag = a.lag.iter().find(|l| l.follower == n);
                let is_leader = a.partitions.iter().any(|p| p.leader == Some(n));
                let role = match (s.role, is_leader) {
                    (Role::Leader, true) => "leader".to_string(),
                    (Role::Leader, false) => "old leader".to_string(),
                    _ => "follower".to_string(),
                };
                let values = if s.data.is_empty() {
                    "—".to_string()
                } else {
                    s.data
                        .iter()
                        .map(|(k, (v, _))| format!("{k} = {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let lag_text = match lag {
                    Some(l) if l.entries > 0 => format!("{} behind · {} ms", l.entries, l.ms),
                    Some(_) => "caught up".into(),
                    None if is_leader && s.waiting.is_empty() => "—".into(),
                    None if is_leader => {
                        format!("{} write(s) waiting for follower acks", s.waiting.len())
                    }
                    None => "—".into(),
                };
                let behind = lag.is_some_and(|l| l.entries > 0);
                let waiting = is_leader && !s.waiting.is_empty();
                Some(view! {
                    <tr class:down=down[n] class:behind=behind data-node=names[n].clone()>
                        <th scope="row">{names[n].clone()}{down[n].then_some(" (down)")}</th>
                        <td>{role}</td>
                        <td class="value">{values}</td>
                        <td class="num">{s.position}</td>
                        <td class:waiting=waiting class="lag">{lag_text}</td>
                    </tr>
                })
            })
            .collect_view()
    };
    view! {
        <section class="panel replicas" aria-labelledby="replicas-h">
            <h3 id="replicas-h">"Replicas"</h3>
            <table>
                <thead><tr><th>"node"</th><th>"role"</th><th>"value"</th><th>"log position"</th><th>"replication lag"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// Client operations so far: writes with latency, reads with results; stale reads and
/// lost writes explained.
#[component]
pub fn Operations(lab: Lab) -> impl IntoView {
    let body = move || {
        let a = lab.analysis.get();
        let names = names(&lab);
        let mut rows: Vec<(u64, AnyView)> = Vec::new();
        for w in &a.writes {
            let lost = a.lost_writes.contains(&w.op);
            let result = match (w.acked, w.latency_ms()) {
                (Some((t, _, v)), Some(l)) => {
                    format!("ok at {t} ms (index {}) · latency {l} ms", v.index)
                }
                _ => "waiting…".into(),
            };
            rows.push((
                w.op,
                view! {
                    <li class="op write" class:lost=lost class:pending=w.acked.is_none()>
                        <span class="who">{names[w.client].clone()}</span>
                        " writes " <code>{format!("{} = {}", w.key, w.value)}</code>
                        <span class="when">{format!(" at {} ms → ", w.invoked_at)}</span>
                        <span class="res">{result}</span>
                        {lost.then(|| view! { <div class="why">"LOST: acknowledged, but not in the new leader's log."</div> })}
                    </li>
                }
                .into_any(),
            ));
        }
        for r in &a.reads {
            let result = match &r.returned {
                Some((t, _, v, ver, _)) => format!(
                    "{} (index {}) at {t} ms",
                    v.as_deref().unwrap_or("(nothing)"),
                    ver.index
                ),
                None => "waiting…".into(),
            };
            let stale = r.stale.clone();
            // A session guarantee may send the read elsewhere and make it wait.
            let routed = r
                .served_by
                .filter(|s| *s != r.replica)
                .map(|s| format!(" (sent to {} by the client's session guarantee)", names[s]));
            let waited = r
                .waited_ms
                .filter(|w| *w > 0)
                .map(|w| format!(" · waited {w} ms at the replica for its log position"));
            let violations: Vec<(String, String)> = a
                .session_violations
                .iter()
                .filter(|v| v.read == r.op)
                .map(|v| (v.guarantee.name().to_string(), v.explanation.clone()))
                .collect();
            let violated = !violations.is_empty();
            rows.push((
                r.op,
                view! {
                    <li class="op read" class:stale=r.stale.is_some() class:session-violation=violated class:pending=r.returned.is_none()>
                        <span class="who">{names[r.client].clone()}</span>
                        " reads " <code>{r.key.clone()}</code> " from " {names[r.replica].clone()} {routed}
                        <span class="when">{format!(" at {} ms → ", r.invoked_at)}</span>
                        <span class="res">{result}{waited}</span>
                        {stale.map(|s| view! { <div class="why"><strong>"Stale read. "</strong>{s.explanation}</div> })}
                        {violations.into_iter().map(|(g, e)| view! { <div class="why session" data-guarantee=g.clone()><strong>{format!("{} violated. ", capitalize(&g))}</strong>{e}</div> }).collect_view()}
                    </li>
                }
                .into_any(),
            ));
        }
        rows.sort_by_key(|(op, _)| *op);
        if rows.is_empty() {
            view! { <p class="empty">"No client operations yet."</p> }.into_any()
        } else {
            view! { <ol class="ops">{rows.into_iter().map(|(_, v)| v).collect_view()}</ol> }
                .into_any()
        }
    };
    let summary = move || {
        let a = lab.analysis.get();
        let stale = a.stale_reads().count();
        let lost = a.lost_writes.len();
        let session = a.session_violations.len();
        format!(
            "{stale} stale read{} · {lost} lost write{} · {session} session violation{}",
            if stale == 1 { "" } else { "s" },
            if lost == 1 { "" } else { "s" },
            if session == 1 { "" } else { "s" }
        )
    };
    view! {
        <section class="panel operations" aria-labelledby="ops-h">
            <h3 id="ops-h">"Client operations" <span class="summary">{summary}</span></h3>
            {body}
            <SessionGuarantees lab=lab />
        </section>
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Session guarantees (docs/SESSION-GUARANTEES.md): each violation by name with the read
/// that broke it, and what the fixes cost — reads and writes per server with mean read
/// latency (simulated ms), reads that waited at a replica, reads left unanswered.
#[component]
pub fn SessionGuarantees(lab: Lab) -> impl IntoView {
    let body = move || {
        let a = lab.analysis.get();
        let names = names(&lab);
        let label = |op: u64| {
            a.reads
                .iter()
                .find(|r| r.op == op)
                .map(|r| {
                    let who = &names[r.client];
                    match &r.label {
                        Some(l) => {
                            format!("{who}'s read \"{l}\" of {} at {} ms", r.key, r.invoked_at)
                        }
                        None => format!("{who}'s read of {} at {} ms", r.key, r.invoked_at),
                    }
                })
                .unwrap_or_else(|| format!("read #{op}"))
        };
        let violations: Vec<AnyView> = a
            .session_violations
            .iter()
            .map(|v| {
                view! {
                    <li class="session-violation" data-guarantee=v.guarantee.name()>
                        <strong>{capitalize(v.guarantee.name())}</strong> ": " {label(v.read)}
                    </li>
                }
                .into_any()
            })
            .collect();
        let routed = a
            .reads
            .iter()
            .any(|r| r.served_by.is_some_and(|s| s != r.replica))
            || a.reads.iter().any(|r| r.waited_ms.is_some_and(|w| w > 0))
            || a.partitions.len() > 1
            || !a.unanswered.is_empty();
        if violations.is_empty() && !routed {
            return None;
        }
        let load: Vec<AnyView> = a
            .load
            .iter()
            .filter(|l| l.reads > 0 || l.writes > 0)
            .map(|l| {
                let mean = l
                    .mean_read_ms
                    .map_or("—".to_string(), |m| format!("{m:.0} ms"));
                view! {
                    <tr>
                        <td>{names[l.server].clone()}{if l.leader { " (leader)" } else { "" }}</td>
                        <td>{(l.partition + 1).to_string()}</td>
                        <td>{l.writes.to_string()}</td>
                        <td>{l.reads.to_string()}</td>
                        <td>{mean}</td>
                    </tr>
                }
                .into_any()
            })
            .collect();
        let waits: Vec<String> = a
            .reads
            .iter()
            .filter(|r| r.waited_ms.is_some_and(|w| w > 0))
            .map(|r| format!("{} waited {} ms", label(r.op), r.waited_ms.unwrap_or(0)))
            .collect();
        let unanswered: Vec<String> = a
            .unanswered
            .iter()
            .map(|u| {
                format!(
                    "{} — no answer from {}{} for {} ms",
                    label(u.op),
                    names[u.replica],
                    if u.replica_down { " (down)" } else { "" },
                    u.waiting_ms
                )
            })
            .collect();
        Some(view! {
            <div class="session-guarantees" aria-label="Session guarantees">
                <h4>"Session guarantees"</h4>
                {if violations.is_empty() {
                    view! { <p class="empty">"No read violated read-your-writes, monotonic reads or consistent prefix."</p> }.into_any()
                } else {
                    view! { <ul class="session-violations">{violations}</ul> }.into_any()
                }}
                <table class="session-cost">
                    <caption>"What the fixes cost: work per server"</caption>
                    <thead><tr><th>"server"</th><th>"partition"</th><th>"writes"</th><th>"reads served"</th><th>"mean read latency"</th></tr></thead>
                    <tbody>{load}</tbody>
                </table>
                {(!waits.is_empty()).then(|| view! { <p class="session-waits">{waits.join("; ")}</p> })}
                {(!unanswered.is_empty()).then(|| view! { <p class="session-unanswered"><strong>"Unanswered reads: "</strong>{unanswered.join("; ")}</p> })}
            </div>
        })
    };
    view! { {body} }
}

/// Issue a read or a write from a client at the current time.
#[component]
pub fn ClientControls(lab: Lab) -> impl IntoView {
    let client = RwSignal::new(None::<usize>);
    let replica = RwSignal::new(None::<usize>);
    let key = RwSignal::new("score".to_string());
    let value = RwSignal::new(String::new());
    let clients = move || {
        lab.diagram.with(|d| {
            d.nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.role == NodeRole::Client)
                .map(|(i, n)| (i, n.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let servers = move || {
        lab.diagram.with(|d| {
            d.nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.role == NodeRole::Server)
                .map(|(i, n)| (i, n.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let chosen_client = move || client.get().or_else(|| clients().last().map(|c| c.0));
    let chosen_replica = move || replica.get().or_else(|| servers().last().map(|c| c.0));
    let read = move |_| {
        if let (Some(c), Some(r)) = (chosen_client(), chosen_replica()) {
            lab.intervene(Action::Request {
                client: c,
                request: Request::Read {
                    key: key.get_untracked(),
                    replica: r,
                },
                label: None,
            });
        }
    };
    let write = move |_| {
        let v = value.get_untracked();
        if v.trim().is_empty() {
            lab.notice.set(Some("Type a value to write first.".into()));
            return;
        }
        if let Some(c) = chosen_client() {
            lab.notice.set(None);
            lab.intervene(Action::Request {
                client: c,
                request: Request::Write {
                    key: key.get_untracked(),
                    value: v,
                },
                label: None,
            });
        }
    };
    view! {
        <section class="panel client-controls" aria-labelledby="cc-h">
            <h3 id="cc-h">"Client operation (at the current time)"</h3>
            <div class="form-row">
                <label>"Client "
                    <select aria-label="Client" on:change=move |ev| client.set(event_target_value(&ev).parse().ok())>
                        {move || clients().into_iter().map(|(i, n)| view! { <option value=i.to_string() selected=move || chosen_client() == Some(i)>{n}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Key " <input aria-label="Key" size="8" prop:value=key on:input=move |ev| key.set(event_target_value(&ev)) /></label>
            </div>
            <div class="form-row">
                <label>"Replica "
                    <select aria-label="Replica to read from" on:change=move |ev| replica.set(event_target_value(&ev).parse().ok())>
                        {move || servers().into_iter().map(|(i, n)| view! { <option value=i.to_string() selected=move || chosen_replica() == Some(i)>{n}</option> }).collect_view()}
                    </select>
                </label>
                <button on:click=read>"Read"</button>
            </div>
            <div class="form-row">
                <label>"Value " <input aria-label="Value to write" size="12" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) /></label>
                <button on:click=write>"Write"</button>
            </div>
        </section>
    }
}

/// The replication mode, which restarts the run with the same interventions.
#[component]
pub fn ModeControl(lab: Lab) -> impl IntoView {
    let followers = move || lab.scenario.with(|s| s.followers.len());
    let current = move || {
        lab.scenario.with(|s| {
            if s.mode == "semi-sync" {
                format!("semi-sync:{}", s.k)
            } else {
                s.mode.clone()
            }
        })
    };
    let options = move || {
        let mut v = vec![("async".to_string(), "asynchronous".to_string())];
        for k in 1..=followers() {
            v.push((
                format!("semi-sync:{k}"),
                format!("semi-synchronous, k = {k}"),
            ));
        }
        v.push(("sync".into(), "synchronous".into()));
        v
    };
    let change = move |ev: leptos::ev::Event| {
        let val = event_target_value(&ev);
        let mut s = lab.scenario.get_untracked();
        match val.split_once(':') {
            Some((m, k)) => {
                s.mode = m.into();
                s.k = k.parse().unwrap_or(1);
            }
            None => s.mode = val,
        }
        lab.set_scenario(s);
    };
    view! {
        <label class="mode">
            <span>"Replication"</span>
            <select aria-label="Replication mode" on:change=change>
                {move || options().into_iter().map(|(v, l)| { let v2 = v.clone(); view! { <option value=v selected=move || current() == v2>{l}</option> } }).collect_view()}
            </select>
        </label>
    }
}

/// The topology: nodes and links; click a node to crash / restart / promote it, a link to
/// change its delay or cut it; and a partition control.
#[component]
pub fn Topology(lab: Lab) -> impl IntoView {
    let selected_link = RwSignal::new(None::<(usize, usize)>);
    let delay = RwSignal::new("300".to_string());
    let side_a = RwSignal::new(Vec::<usize>::new());
    let net = Memo::new(move |_| {
        let s = lab.panel_step.get();
        lab.engine
            .with(|e| e.world_at(s).map(|w| (w.net.clone(), w.up.clone())))
    });
    let nodes = move || lab.diagram.with(|d| d.nodes.clone());
    let pos = move |i: usize, n: usize| {
        let a = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
        (150.0 + 110.0 * a.cos(), 125.0 + 95.0 * a.sin())
    };
    let links = move || {
        let ns = nodes();
        let n = ns.len();
        let mut v = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                if ns[a].role == NodeRole::Client && ns[b].role == NodeRole::Client {
                    continue;
                }
                v.push((a, b));
            }
        }
        let (state, _) = net.get().unwrap_or_default();
        v.into_iter()
            .map(|(a, b)| {
                let (x1, y1) = pos(a, n);
                let (x2, y2) = pos(b, n);
                let reachable = state.reachable(a, b);
                let overridden = state.delay_overrides.contains_key(&distlab_sim::network::link(a, b));
                let lat = state.latency(a, b);
                let label = format!("Link {} – {} ({} ms{})", ns[a].name, ns[b].name, lat.base_ms, if reachable { "" } else { ", cut" });
                let client_link = ns[a].role == NodeRole::Client || ns[b].role == NodeRole::Client;
                view! {
                    <g class="link" class:cut=!reachable class:slow=overridden class:client-link=client_link class:selected=move || selected_link.get() == Some((a, b))
                       role="button" tabindex="0" aria-label=label.clone()
                       on:click=move |_| selected_link.set(Some((a, b)))
                       on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Enter" { ev.stop_propagation(); selected_link.set(Some((a, b))) }>
                        <title>{label.clone()}</title>
                        <line class="hit" x1=x1 y1=y1 x2=x2 y2=y2 />
                        <line class="wire" x1=x1 y1=y1 x2=x2 y2=y2 />
                    </g>
                }
            })
            .collect_view()
    };
    let node_marks = move || {
        let ns = nodes();
        let n = ns.len();
        let up = net.get().map(|x| x.1).unwrap_or_default();
        let a = lab.analysis.get();
        ns.iter()
            .enumerate()
            .map(|(i, info)| {
                let (x, y) = pos(i, n);
                let is_up = up.get(i).copied().unwrap_or(true);
                let is_leader = a.partitions.iter().any(|p| p.leader == Some(i));
                let name = info.name.clone();
                let label = if is_up { format!("Crash {name}") } else { format!("Restart {name}") };
                let toggle = move || lab.intervene(if is_up { Action::Crash { node: i } } else { Action::Restart { node: i } });
                view! {
                    <g class="topo-node" class:down=!is_up class:leader=is_leader class:client=info.role == NodeRole::Client
                       role="button" tabindex="0" aria-label=label.clone()
                       on:click=move |_| toggle()
                       on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Enter" { ev.stop_propagation(); toggle() }>
                        <title>{label.clone()}</title>
                        <circle cx=x cy=y r=if info.role == NodeRole::Client { 13 } else { 19 } />
                        <text x=x y={if y > 125.0 { y + 34.0 } else { y - 25.0 }} text-anchor="middle" class="name">{name}</text>
                    </g>
                    // The role letter sits outside the button, so the button's visible text
                    // is its node's name, which its accessible name contains.
                    <text x=x y=y + 4.0 text-anchor="middle" class="glyph" aria-hidden="true">{if !is_up { "✕" } else if is_leader { "L" } else if info.role == NodeRole::Client { "c" } else { "F" }}</text>
                }
            })
            .collect_view()
    };
    let set_delay = move |a: usize, b: usize| match delay.get_untracked().trim().parse::<u64>() {
        Ok(ms) if ms <= 100_000 => {
            lab.notice.set(None);
            lab.intervene(Action::SetLinkDelay {
                a,
                b,
                latency: Some(Latency::fixed(ms)),
            })
        }
        _ => lab.notice.set(Some(format!(
            "\"{}\" is not a delay: give whole milliseconds from 0 to 100000.",
            delay.get_untracked()
        ))),
    };
    let link_panel = move || {
        selected_link.get().map(|(a, b)| {
            let ns = nodes();
            let (state, _) = net.get().unwrap_or_default();
            let reachable = !state.cut.contains(&distlab_sim::network::link(a, b));
            let lat = state.latency(a, b);
            let title = format!("{} – {}", ns[a].name, ns[b].name);
            view! {
                <div class="link-panel" role="group" aria-label=format!("Link {title}")>
                    <strong>{format!("Link {title}")}</strong>
                    <span>{format!(" now {}–{} ms one way", lat.base_ms, lat.base_ms + lat.jitter_ms)}</span>
                    <div class="form-row">
                        <label>"Delay (ms) " <input aria-label="Link delay in milliseconds" type="number" min="0" max="100000" size="6" prop:value=delay on:input=move |ev| delay.set(event_target_value(&ev)) /></label>
                        <button on:click=move |_| set_delay(a, b)>"Set delay"</button>
                        <button on:click=move |_| lab.intervene(Action::SetLinkDelay { a, b, latency: None })>"Normal delay"</button>
                        {if reachable {
                            view! { <button on:click=move |_| lab.intervene(Action::CutLink { a, b })>"Cut link"</button> }.into_any()
                        } else {
                            view! { <button on:click=move |_| lab.intervene(Action::RestoreLink { a, b })>"Restore link"</button> }.into_any()
                        }}
                        <button class="close" aria-label="Close link panel" on:click=move |_| selected_link.set(None)>"×"</button>
                    </div>
                </div>
            }
        })
    };
    let partition_panel = move || {
        let ns = nodes();
        let partitioned = net.get().is_some_and(|(s, _)| !s.partition.is_empty());
        view! {
            <div class="partition" role="group" aria-label="Partition">
                <span>"Partition — side A: "</span>
                {ns.iter().enumerate().map(|(i, n)| {
                    let name = n.name.clone();
                    view! {
                        <label class="chk"><input type="checkbox" aria-label=format!("{name} on side A")
                            prop:checked=move || side_a.get().contains(&i)
                            on:change=move |_| side_a.update(|v| if let Some(p) = v.iter().position(|x| *x == i) { v.remove(p); } else { v.push(i); v.sort(); }) />
                            {name.clone()}</label>
                    }
                }).collect_view()}
                <button on:click=move |_| {
                    let a = side_a.get_untracked();
                    let n = lab.diagram.with_untracked(|d| d.nodes.len());
                    let b: Vec<usize> = (0..n).filter(|i| !a.contains(i)).collect();
                    if a.is_empty() || b.is_empty() {
                        lab.notice.set(Some("Tick some nodes for side A, leaving at least one on side B.".into()));
                    } else {
                        lab.notice.set(None);
                        lab.intervene(Action::Partition { groups: vec![a, b] });
                    }
                }>"Partition"</button>
                <button disabled=!partitioned on:click=move |_| lab.intervene(Action::Heal)>"Heal"</button>
            </div>
        }
    };
    let promote = move || {
        let a = lab.analysis.get();
        let ns = nodes();
        let leader_down = a
            .leader
            .is_some_and(|l| net.get().is_some_and(|(_, up)| !up[l]));
        leader_down.then(|| {
            view! {
                <div class="failover">
                    <span>"The leader is down. Manual failover: "</span>
                    {ns.iter().enumerate().filter(|(i, n)| n.role == NodeRole::Server && Some(*i) != a.leader).map(|(i, n)| {
                        let name = n.name.clone();
                        view! { <button on:click=move |_| lab.intervene(Action::Command { node: i, command: distlab_sim::models::replication::Command::Promote })>{format!("Promote {name}")}</button> }
                    }).collect_view()}
                </div>
            }
        })
    };
    view! {
        <section class="panel topology" aria-labelledby="topo-h">
            <h3 id="topo-h">"Network and failures"</h3>
            <p class="hint">"Click a node to crash or restart it, a link to slow or cut it, an arrow in flight to drop it."</p>
            <svg class="topo" viewBox="0 -14 300 282" role="graphics-document" aria-label="Topology: nodes and links">
                <g>{links}</g>
                <g>{node_marks}</g>
            </svg>
            {link_panel}
            {partition_panel}
            {promote}
        </section>
    }
}

/// Per-node physical clock parameters (skew in ms, drift in ppm), for models whose
/// scenarios have them (see [`EngineModel::clock`]). A change re-runs the scenario with
/// the same interventions and keeps the cursor's time; the row headers of the diagram show
/// every clock that is not exact.
#[component]
pub fn ClockControls<M: EngineModel + 'static>(lab: Lab<M>) -> impl IntoView {
    let rows = move || {
        let clocks: Vec<(usize, String, distlab_sim::PhysicalClock)> = lab.scenario.with(|s| {
            lab.engine.with_untracked(|e| {
                e.nodes()
                    .iter()
                    .enumerate()
                    .filter_map(|(i, n)| M::clock(s, i).map(|c| (i, n.name.clone(), c)))
                    .collect()
            })
        });
        clocks
            .into_iter()
            .map(|(i, name, clock)| {
                let set = move |offset: Option<i64>, drift: Option<i64>| {
                    let mut s = lab.scenario.get_untracked();
                    let mut c = M::clock(&s, i).unwrap_or_default();
                    if let Some(o) = offset {
                        c.offset_ms = o;
                    }
                    if let Some(d) = drift {
                        c.drift_ppm = d;
                    }
                    match M::set_clock(&mut s, i, c) {
                        Ok(()) => lab.set_scenario(s),
                        Err(m) => lab.notice.set(Some(m)),
                    }
                };
                let parse = move |ev: leptos::ev::Event, what: &str, limit: i64| -> Option<i64> {
                    let text = event_target_value(&ev);
                    match text.trim().parse::<i64>() {
                        Ok(v) if v.abs() <= limit => Some(v),
                        _ => {
                            lab.notice.set(Some(format!(
                                "{what} of {}: \"{text}\" is not a whole number between −{limit} and {limit}",
                                lab.engine.with_untracked(|e| e.nodes()[i].name.clone())
                            )));
                            None
                        }
                    }
                };
                view! {
                    <tr>
                        <th scope="row">{name.clone()}</th>
                        <td><input type="number" step="5" min="-1000" max="1000" class="num-input"
                            aria-label=format!("Clock skew of {name} (ms)") prop:value=clock.offset_ms.to_string()
                            on:change=move |ev| if let Some(v) = parse(ev, "Clock skew", 1000) { set(Some(v), None) } />" ms"</td>
                        <td><input type="number" step="1000" min="-500000" max="500000" class="num-input"
                            aria-label=format!("Clock drift of {name} (ppm)") prop:value=clock.drift_ppm.to_string()
                            on:change=move |ev| if let Some(v) = parse(ev, "Clock drift", 500_000) { set(None, Some(v)) } />" ppm"</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel clock-controls" aria-labelledby="clock-controls-h">
            <h3 id="clock-controls-h">"Physical clocks"</h3>
            <table>
                <thead><tr><th>"Node"</th><th>"Skew"</th><th>"Drift"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="hint">"Skew: how far the clock is from true time (negative: behind). Drift: how fast it gains (positive) or loses time, in parts per million — quartz clocks drift by tens of ppm; these are exaggerated to be seen."</p>
        </section>
    }
}
