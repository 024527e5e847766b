//! `model = "quorum"`: a Dynamo-style store with n, w and r, or the linearizable (ABD)
//! mode. Panels: the settings (n, w, r, read repair, sloppy quorum, anti-entropy, the
//! mode), each replica's keys with value and version, the requests with the replicas each
//! reached, requests served and refused per side of the network (CAP as a pair of
//! numbers), a partition control and client buttons, and the client history with the
//! linearizability checker's verdict.

use crate::diagram::Highlight;
use crate::engine_lessons::{cannot_show, engine_lesson, step_challenge, LessonRun};
use crate::history_panel::LiveHistory;
use crate::lab::Lab;
use distlab_sim::lesson::ResolvedLesson;
use distlab_sim::models::quorum::analysis::{Analysis, RequestOutcome};
use distlab_sim::models::quorum::{self, Consistency, Kind};
use distlab_sim::models::Quorum;
use distlab_sim::{Action, Time};
use leptos::prelude::*;

/// Stale reads and read inversions marked on the diagram at the read's return; refused
/// requests at their timeout.
fn quorum_highlights(a: &Analysis) -> Vec<Highlight> {
    let step_of = |op| {
        a.requests
            .iter()
            .find(|r| r.op == op)
            .and_then(|r| r.return_step)
    };
    let mut h: Vec<Highlight> = a
        .stale_reads
        .iter()
        .filter_map(|s| {
            Some(Highlight {
                step: step_of(s.read)?,
                class: "stale",
                text: "stale read".into(),
                why: Some(s.why.clone()),
            })
        })
        .collect();
    h.extend(a.inversions.iter().filter_map(|i| {
        Some(Highlight {
            step: step_of(i.later)?,
            class: "stale",
            text: "older than an earlier read".into(),
            why: Some(i.why.clone()),
        })
    }));
    h.extend(
        a.requests
            .iter()
            .filter(|r| r.outcome == RequestOutcome::TimedOut)
            .filter_map(|r| {
                Some(Highlight {
                    step: r.return_step?,
                    class: "lost",
                    text: "refused".into(),
                    why: r.reason.clone(),
                })
            }),
    );
    h
}

/// The lesson page.
#[component]
pub fn QuorumLesson(lesson: ResolvedLesson) -> impl IntoView {
    let run =
        match engine_lesson::<Quorum>(lesson, |s| s.quorum().map(|(a, b)| (a.clone(), b.to_vec())))
        {
            Ok(x) => x,
            Err(e) => return cannot_show(e),
        };
    let mut run = run;
    run.history = Some(distlab_sim::models::history::quorum);
    let LessonRun { nav, lab, .. } = run;
    let live = LiveHistory::new(
        lab,
        distlab_sim::models::history::quorum,
        distlab_sim::linearizability::Model::Register,
    );
    let highlights = Memo::new(move |_| {
        let mut h = lab.analysis.with(quorum_highlights);
        live.add_to(&mut h);
        h
    });
    let challenge = step_challenge(nav, move |c| {
        let who = c
            .client
            .as_deref()
            .and_then(|n| lab.scenario.with(|s| s.node(n).ok()));
        lab.analysis.with(|a| {
            c.met_by_quorum(a, who, || {
                live.judgement
                    .with(|j| j.as_ref().is_some_and(|j| j.outcome == "not-linearizable"))
            })
        })
    });
    let panels = view! {
        <QuorumSettings lab=lab />
        <CapCounts lab=lab live=live />
        <Replicas lab=lab />
        <Requests lab=lab />
        <QuorumControls lab=lab />
        {live.panel(lab)}
    }
    .into_any();
    run.page(ViewFn::from(challenge), highlights.into(), panels)
}

fn name_of(lab: Lab<Quorum>, n: usize) -> String {
    lab.engine
        .with(|e| e.nodes().get(n).map(|i| i.name.clone()))
        .unwrap_or_default()
}

/// n, w, r, the mode and the switches; changing one re-runs the scenario with the
/// learner's interventions kept.
#[component]
fn QuorumSettings(lab: Lab<Quorum>) -> impl IntoView {
    let change = move |f: &dyn Fn(&mut quorum::QuorumScenario)| {
        let mut s = lab.scenario.get_untracked();
        f(&mut s);
        lab.set_scenario(s);
    };
    let number = move |label: &'static str,
                       help: &'static str,
                       get: fn(&quorum::QuorumScenario) -> usize,
                       set: fn(&mut quorum::QuorumScenario, usize)| {
        let set_number = move |text: String| match text.trim().parse::<usize>() {
            Ok(v) => change(&|s| set(s, v)),
            Err(_) => lab
                .notice
                .set(Some(format!("{label}: give a whole number from 1 to 7."))),
        };
        view! {
            <label title=help>
                {format!("{label} ")}
                <input
                    type="number"
                    min="1"
                    max="7"
                    aria-label=label
                    prop:value=move || lab.scenario.with(get).to_string()
                    disabled=move || lab.scenario.with(|s| s.consistency == Consistency::Linearizable && label != "n")
                    on:change=move |ev| set_number(event_target_value(&ev))
                />
            </label>
        }
    };
    let switch = move |label: &'static str,
                       help: &'static str,
                       get: fn(&quorum::QuorumScenario) -> bool,
                       flip: fn(&mut quorum::QuorumScenario)| {
        view! {
            <label title=help>
                <input
                    type="checkbox"
                    prop:checked=move || lab.scenario.with(get)
                    disabled=move || lab.scenario.with(|s| s.consistency == Consistency::Linearizable)
                    on:change=move |_| change(&|s| flip(s))
                />
                {label}
            </label>
        }
    };
    let overlap = move || {
        lab.analysis.with(|a| {
            let class = if a.quorum_overlap { "ok" } else { "stale" };
            view! {
                <p class=class data-testid="quorum-overlap">
                    {if a.quorum_overlap { "Read and write quorums overlap: " } else { "Quorums need not overlap: " }}
                    <strong>{a.overlap.clone()}</strong>
                    {a.note.clone().map(|n| format!(" — {n}"))}
                </p>
            }
        })
    };
    view! {
        <section class="panel quorum-settings" aria-labelledby="q-settings-h">
            <h3 id="q-settings-h">"Quorums"</h3>
            <div class="switch-group" role="group" aria-label="Consistency mode">
                <label title="Dynamo: write to w of the key's n replicas, read from r">
                    <input type="radio" name="consistency" prop:checked=move || lab.scenario.with(|s| s.consistency == Consistency::Eventual)
                        on:change=move |_| change(&|s| s.consistency = Consistency::Eventual) />
                    "Dynamo (n, w, r)"
                </label>
                <label title="ABD (Attiya, Bar-Noy & Dolev): majority quorums, a write reads the latest version first, a read writes back what it returns">
                    <input type="radio" name="consistency" prop:checked=move || lab.scenario.with(|s| s.consistency == Consistency::Linearizable)
                        on:change=move |_| change(&|s| s.consistency = Consistency::Linearizable) />
                    "Linearizable (ABD, majorities)"
                </label>
            </div>
            <div class="switch-group">
                {number("n", "replicas per key", |s| s.n, |s, v| s.n = v)}
                {number("w", "write quorum: acknowledgements a write waits for", |s| s.w, |s, v| s.w = v)}
                {number("r", "read quorum: replies a read waits for", |s| s.r, |s, v| s.r = v)}
            </div>
            <div class="switch-group">
                {switch("Read repair", "after a read, send the newest version to replicas that answered with an older one", |s| s.read_repair, |s| s.read_repair = !s.read_repair)}
                {switch("Sloppy quorum", "hinted handoff: when preference replicas do not answer, store the write on the next replicas with a hint", |s| s.sloppy_quorum, |s| s.sloppy_quorum = !s.sloppy_quorum)}
                {switch("Anti-entropy", "replicas periodically push their data to the next replica on the ring (every 200 ms)", |s| s.anti_entropy_ms.is_some(), |s| s.anti_entropy_ms = if s.anti_entropy_ms.is_some() { None } else { Some(200) })}
            </div>
            {overlap}
        </section>
    }
}

/// Requests served and refused on each side of the network, and the checker's verdict:
/// the CAP trade-off as numbers.
#[component]
fn CapCounts(lab: Lab<Quorum>, live: LiveHistory) -> impl IntoView {
    let rows = move || {
        lab.analysis.with(|a| {
            a.per_side
                .iter()
                .map(|s| {
                    let clients = s
                        .clients
                        .iter()
                        .map(|&c| name_of(lab, c))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let side = if s.names.is_empty() {
                        "no replica".to_string()
                    } else {
                        s.names.join(", ")
                    };
                    view! {
                        <tr>
                            <td>{side}</td>
                            <td>{clients}</td>
                            <td class="num served">{s.counts.served}</td>
                            <td class="num refused">{s.counts.refused}</td>
                            <td class="num">{s.counts.pending}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let verdict = move || {
        live.judgement
            .with(|j| match j.as_ref().map(|j| j.outcome) {
                Some("linearizable") => "linearizable",
                Some("not-linearizable") => "NOT linearizable",
                Some(_) => "unknown",
                None => "no operations yet",
            })
    };
    let totals = move || {
        lab.analysis.with(|a| {
            let served: usize = a.per_side.iter().map(|s| s.counts.served).sum();
            let refused: usize = a.per_side.iter().map(|s| s.counts.refused).sum();
            (served, refused)
        })
    };
    view! {
        <section class="panel cap" aria-labelledby="cap-h">
            <h3 id="cap-h">"Served and refused, by side of the network"</h3>
            <table>
                <thead><tr><th>"Replicas reachable"</th><th>"Clients"</th><th>"Served"</th><th>"Refused"</th><th>"Waiting"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="cap-line" data-testid="cap-line">
                {move || {
                    let (s, r) = totals();
                    format!("{s} served, {r} refused — history {}.", verdict())
                }}
            </p>
        </section>
    }
}

/// Each replica's keys (value and version) and the hints it holds for others.
#[component]
fn Replicas(lab: Lab<Quorum>) -> impl IntoView {
    let rows = move || {
        let step = lab.panel_step.get();
        let up = lab
            .engine
            .with(|e| e.world_at(step).map(|w| w.up).unwrap_or_default());
        lab.analysis.with(|a| {
            let keys: std::collections::BTreeSet<&String> =
                a.replicas.iter().flat_map(|r| r.data.keys()).collect();
            let newest = |k: &String| {
                a.replicas
                    .iter()
                    .filter_map(|r| r.data.get(k).map(|e| (e.version.counter, e.version.replica)))
                    .max()
            };
            let rows = a
                .replicas
                .iter()
                .map(|r| {
                    let down = !up.get(r.node).copied().unwrap_or(true);
                    let cells = keys
                        .iter()
                        .map(|k| match r.data.get(*k) {
                            Some(e) => {
                                let stale = newest(k) != Some((e.version.counter, e.version.replica));
                                view! { <td class="mono" class:stale-cell=stale>{e.label()}</td> }.into_any()
                            }
                            None => view! { <td class="meta">"—"</td> }.into_any(),
                        })
                        .collect_view();
                    let hints = r
                        .hints
                        .iter()
                        .map(|h| format!("{}={} for {}", h.key, h.entry.label(), h.intended_name))
                        .collect::<Vec<_>>()
                        .join("; ");
                    view! {
                        <tr class:down=down>
                            <th scope="row">{r.name.clone()}{down.then_some(" (crashed)")}</th>
                            {cells}
                            <td class="mono">{hints}</td>
                        </tr>
                    }
                })
                .collect_view();
            let heads = keys.iter().map(|k| view! { <th>{(*k).clone()}</th> }).collect_view();
            view! {
                <table data-testid="quorum-replicas">
                    <thead><tr><th>"Replica"</th>{heads}<th>"Hints held"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                <p class="meta">{if a.converged { "All replicas of every key agree." } else { "Replicas disagree: an older version is struck through." }}</p>
            }
        })
    };
    view! {
        <section class="panel" aria-labelledby="q-replicas-h">
            <h3 id="q-replicas-h">"Replicas: value and version per key"</h3>
            {rows}
        </section>
    }
}

/// The requests so far: what each did, which replicas it reached and waited for, and how
/// it ended.
#[component]
fn Requests(lab: Lab<Quorum>) -> impl IntoView {
    let items = move || {
        lab.analysis.with(|a| {
            if a.requests.is_empty() {
                return view! { <p class="meta">"No requests yet."</p> }.into_any();
            }
            let names = |v: &[usize]| v.iter().map(|&n| name_of(lab, n)).collect::<Vec<_>>().join(", ");
            a.requests
                .iter()
                .map(|r| {
                    let what = match r.kind {
                        Kind::Write => format!("write {}={}", r.key, r.value.clone().unwrap_or_default()),
                        Kind::Read => match (r.outcome, &r.value) {
                            (RequestOutcome::Ok, v) => format!("read {} → {}", r.key, v.clone().unwrap_or_else(|| "(absent)".into())),
                            _ => format!("read {}", r.key),
                        },
                    };
                    let version = r.version.as_ref().map(|v| format!(" {}", v.label())).unwrap_or_default();
                    let stale = a.stale_reads.iter().find(|s| s.read == r.op).map(|s| s.why.clone())
                        .or_else(|| a.inversions.iter().find(|i| i.later == r.op).map(|i| i.why.clone()));
                    let is_stale = stale.is_some();
                    let outcome = match r.outcome {
                        RequestOutcome::Ok => format!("served at {} ms", r.return_ms.unwrap_or(0)),
                        RequestOutcome::TimedOut => format!("refused at {} ms", r.return_ms.unwrap_or(0)),
                        RequestOutcome::Pending => "waiting".into(),
                    };
                    let reached = if r.reached.is_empty() { "no replica".to_string() } else { names(&r.reached) };
                    view! {
                        <li class="op" class:stale=is_stale class:lost=r.outcome == RequestOutcome::TimedOut>
                            <strong>{name_of(lab, r.client)}</strong>
                            {format!(" {what}{version} (called {} ms) — {outcome}; needed {} of [{}], reached {reached}", r.call_ms, r.needed, names(&r.waited_for))}
                            {r.reason.clone().map(|why| view! { <div class="meta">{why}</div> })}
                            {stale.map(|why| view! { <div class="why">{why}</div> })}
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    view! {
        <section class="panel" aria-labelledby="q-req-h">
            <h3 id="q-req-h">"Requests"</h3>
            <ol class="ops" data-testid="quorum-requests">{items}</ol>
        </section>
    }
}

/// Cut the network in two, heal it, and send requests from any client now.
#[component]
fn QuorumControls(lab: Lab<Quorum>) -> impl IntoView {
    let side = RwSignal::new(Vec::<usize>::new());
    let key = RwSignal::new("x".to_string());
    let value = RwSignal::new(String::new());
    let nodes = move || {
        lab.engine
            .with(|e| e.nodes().iter().map(|n| n.name.clone()).collect::<Vec<_>>())
    };
    let replicas = move || lab.scenario.with(|s| s.replicas.len());
    let boxes = move || {
        nodes()
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                view! {
                    <label>
                        <input type="checkbox" aria-label=format!("{name} on side A")
                            prop:checked=move || side.with(|s| s.contains(&i))
                            on:change=move |_| side.update(|s| if let Some(p) = s.iter().position(|&x| x == i) { s.remove(p); } else { s.push(i); }) />
                        {name}
                    </label>
                }
            })
            .collect_view()
    };
    let partition = move |_| {
        let a = side.get_untracked();
        let n = nodes().len();
        if a.is_empty() || a.len() == n {
            lab.notice.set(Some(
                "Tick the nodes on one side (side A); the others form side B.".into(),
            ));
            return;
        }
        let b: Vec<usize> = (0..n).filter(|i| !a.contains(i)).collect();
        lab.notice.set(None);
        lab.intervene(Action::Partition { groups: vec![a, b] });
    };
    let send = move |client: usize, write: bool| {
        let k = key.get_untracked().trim().to_string();
        if k.is_empty() {
            lab.notice.set(Some("Give a key to read or write.".into()));
            return;
        }
        let request = if write {
            let mut v = value.get_untracked().trim().to_string();
            if v.is_empty() {
                let at: Time = lab.now();
                v = format!("v@{at}");
            }
            quorum::Request::Write { key: k, value: v }
        } else {
            quorum::Request::Read { key: k }
        };
        lab.notice.set(None);
        lab.intervene(Action::Request {
            client,
            request,
            label: None,
        });
    };
    let clients = move || {
        let r = replicas();
        nodes()
            .into_iter()
            .enumerate()
            .skip(r)
            .map(|(i, name)| {
                view! {
                    <div class="client-row">
                        <strong>{name.clone()}</strong>
                        <button on:click=move |_| send(i, true) aria-label=format!("Write from {name}")>"Write"</button>
                        <button on:click=move |_| send(i, false) aria-label=format!("Read from {}", name.clone())>"Read"</button>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel" aria-labelledby="q-ctl-h">
            <h3 id="q-ctl-h">"Cut the network, send requests"</h3>
            <div class="switch-group" role="group" aria-label="Side A of a partition">
                <span class="switch-head">"Side A:"</span>
                {boxes}
            </div>
            <p>
                <button on:click=partition>"Partition: side A | the rest"</button>
                " "
                <button on:click=move |_| lab.intervene(Action::Heal)>"Heal"</button>
            </p>
            <div class="switch-group">
                <label>"Key " <input type="text" size="4" aria-label="Key" prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev)) /></label>
                <label>"Value " <input type="text" size="8" aria-label="Value to write" placeholder="auto" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) /></label>
            </div>
            {clients}
            <p class="meta">"Requests and faults happen at the current time; the run continues from there. Click a node's line on the diagram to crash or restart it."</p>
        </section>
    }
}
