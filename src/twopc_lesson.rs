//! The lesson view for `model = "twopc"` (two-phase commit, and three-phase commit as the
//! contrast): the diagram with its crash and restart buttons; a row per participant (its
//! transactions' states with **in doubt** highlighted, committed data, locks held and the
//! transactions waiting for them, its durable log); the coordinator (its transactions'
//! phases and votes, its durable log with the commit point) with a **Begin transaction**
//! control; every lock hold on a timeline (how long it was held, who waited and how long,
//! the part of the hold spent in doubt); the outcomes and the atomicity monitor's verdict,
//! its violations marked on the diagram; a partition control. The challenge is judged on
//! the whole run. Built on [`crate::engine_lessons`]' `engine_lesson` and `step_challenge`.
//!
//! Sources for what is shown: Gray 1978; Bernstein, Hadzilacos & Goodman 1987, ch. 7
//! (the uncertainty period, AC1–AC5); DDIA ch. 9 ("Coordinator failure", "Holding locks
//! while in doubt"); Skeen 1981 (3PC).

use crate::diagram::Highlight;
use crate::engine_lessons::{cannot_show, engine_lesson, step_challenge, LessonRun, Violated};
use crate::lab::Lab;
use distlab_sim::lesson::ResolvedLesson;
use distlab_sim::models::twopc::analysis::{self, Analysis};
use distlab_sim::models::twopc::monitor::Violation;
use distlab_sim::models::twopc::{CommitProtocol, CoordRecord, PState, View, WriteSpec};
use distlab_sim::models::TwoPc;
use distlab_sim::{Action, Time};
use leptos::prelude::*;

/// A violation of the atomicity monitor as the page shows it.
fn violated(v: &Violation) -> Violated<'_> {
    Violated {
        step: v.step,
        time: v.time,
        property: v.property.name(),
        statement: v.property.statement(),
        text: &v.text,
    }
}

/// On the diagram: each monitor violation where the property failed, and where each
/// participant became in doubt (a period still open, or one of at least 100 ms).
fn twopc_highlights(a: &Analysis, names: &[String]) -> Vec<Highlight> {
    let mut h: Vec<Highlight> = a
        .in_doubt
        .iter()
        .filter(|d| d.until_ms.is_none() || d.duration(a.upto_ms) >= 100)
        .map(|d| {
            let who = names.get(d.participant).cloned().unwrap_or_default();
            let (text, why) = match d.until_ms {
                None => (
                    format!("{} in doubt", d.txn),
                    format!(
                        "{who} voted yes on {} at {} ms and has not learned the outcome: it holds its locks and may neither commit nor abort",
                        d.txn, d.from_ms
                    ),
                ),
                Some(u) => (
                    format!("{} in doubt {} ms", d.txn, u - d.from_ms),
                    format!(
                        "{who} was in doubt about {} from {} ms to {u} ms, holding its locks",
                        d.txn, d.from_ms
                    ),
                ),
            };
            Highlight {
                step: d.from_step,
                class: "in-doubt",
                text,
                why: Some(why),
            }
        })
        .collect();
    h.extend(a.violations.iter().map(|v| violated(v).highlight()));
    h
}

/// What the panels read at the shown step: every node's name and view and whether it is up.
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

/// `a, b, c` or `—`.
fn list_or_none(items: Vec<String>) -> String {
    if items.is_empty() {
        "—".into()
    } else {
        items.join(", ")
    }
}

/// The participants' rows at the shown step: per transaction its state (in doubt
/// highlighted, with since when), committed data, locks with the transactions waiting for
/// each, and the durable log.
fn participant_rows(nodes: Memo<Nodes>) -> impl IntoView {
    move || {
        nodes.with(|n| {
            n.views
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let View::Participant { txns, data, locks, waiting, log } = v else {
                        return None;
                    };
                    let down = n.down(i);
                    let in_doubt = txns.values().any(|t| t.state.in_doubt());
                    let states = txns
                        .iter()
                        .map(|(id, t)| {
                            let doubt = t.state.in_doubt();
                            let cls = match t.state {
                                PState::Committed => "txn-state committed",
                                PState::Aborted => "txn-state aborted",
                                PState::Waiting => "txn-state waiting",
                                _ if doubt => "txn-state in-doubt",
                                _ => "txn-state",
                            };
                            let text = if doubt || t.state == PState::Waiting {
                                format!("{id} {} since {} ms", t.state.name(), t.since_ms)
                            } else {
                                format!("{id} {}", t.state.name())
                            };
                            view! { <li class=cls data-txn=id.clone() data-state=t.state.name()>{text}</li> }
                        })
                        .collect_view();
                    let data = list_or_none(data.iter().map(|(k, v)| format!("{k} = {v}")).collect());
                    let held = list_or_none(locks.iter().map(|(k, t)| format!("{k}: {t}")).collect());
                    let waits = list_or_none(
                        waiting
                            .iter()
                            .filter(|(_, w)| !w.is_empty())
                            .map(|(k, w)| format!("{k}: {}", w.join(", ")))
                            .collect(),
                    );
                    let records = list_or_none(log.iter().map(|r| r.text()).collect());
                    let name = n.name(i);
                    let attr = name.clone();
                    Some(view! {
                        <tr class:down=down class:in-doubt=in_doubt data-participant=attr>
                            <th scope="row">{name}{down.then_some(" (crashed)")}</th>
                            <td><ul class="txn-states">{states}</ul></td>
                            <td class="mono">{data}</td>
                            <td class="mono" data-testid="twopc-locks">{held}</td>
                            <td class="mono" data-testid="twopc-waiting">{waits}</td>
                            <td class="mono">{records}</td>
                        </tr>
                    })
                })
                .collect_view()
        })
    }
}

/// The coordinator at the shown step: its transactions (phase, votes, acks) and its
/// durable log, the COMMIT records marked as commit points.
fn coordinator_view(nodes: Memo<Nodes>) -> impl IntoView {
    move || {
        nodes.with(|n| {
            let Some((i, View::Coordinator { protocol, txns, log, presumed })) = n
                .views
                .iter()
                .enumerate()
                .find(|(_, v)| matches!(v, View::Coordinator { .. }))
            else {
                return view! { <p>"No coordinator."</p> }.into_any();
            };
            let down = n.down(i);
            let rows = txns
                .iter()
                .map(|t| {
                    let votes = list_or_none(
                        t.votes
                            .iter()
                            .map(|(p, y)| format!("{} {}", n.name(*p), if *y { "yes" } else { "no" }))
                            .collect(),
                    );
                    // The decision's time as its durable record says (after a restart the
                    // table entry is rebuilt at the restart time).
                    let logged = log.iter().find_map(|r| match r {
                        CoordRecord::Commit { txn, at_ms, .. } if *txn == t.id => Some((true, *at_ms)),
                        CoordRecord::Abort { txn, at_ms } if *txn == t.id => Some((false, *at_ms)),
                        _ => None,
                    });
                    let decided = match (logged, t.phase.decision(), t.decided_ms) {
                        (Some((c, at)), _, _) | (None, Some(c), Some(at)) => {
                            format!("{} at {at} ms", if c { "commit" } else { "abort" })
                        }
                        _ => "—".into(),
                    };
                    let why = t.reason.clone().unwrap_or_default();
                    view! {
                        <tr data-txn=t.id.clone()>
                            <th scope="row">{t.id.clone()}</th>
                            <td class="role">{t.phase.name()}</td>
                            <td>{votes}</td>
                            <td>{decided}</td>
                            <td>{why}</td>
                        </tr>
                    }
                })
                .collect_view();
            let records = log
                .iter()
                .map(|r| {
                    let commit_point = r.text().starts_with("COMMIT ");
                    let at = match r {
                        CoordRecord::PreCommit { at_ms, .. }
                        | CoordRecord::Commit { at_ms, .. }
                        | CoordRecord::Abort { at_ms, .. }
                        | CoordRecord::End { at_ms, .. } => *at_ms,
                    };
                    view! {
                        <li class="record" class:commit-point=commit_point>
                            <span class="mono">{r.text()}</span>
                            {format!(" at {at} ms")}
                            {commit_point.then_some(view! { <strong class="commit-point-tag">" ← commit point"</strong> })}
                        </li>
                    }
                })
                .collect_view();
            let protocol = match protocol {
                CommitProtocol::TwoPhase => "two-phase commit (presumed abort)",
                CommitProtocol::ThreePhase => "three-phase commit",
            };
            let status = if down { format!("{} — crashed (its log survives)", n.name(i)) } else { format!("{}: {protocol}", n.name(i)) };
            view! {
                <p class:lost=down data-testid="twopc-coordinator-status">{status}</p>
                {if txns.is_empty() {
                    view! { <p class="meta">{if down { "Its table of transactions is lost with its memory." } else { "No transaction in its table." }}</p> }.into_any()
                } else {
                    view! {
                        <table class="clock-table">
                            <thead><tr><th>"Txn"</th><th>"Phase"</th><th>"Votes"</th><th>"Decided"</th><th>"Why"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }.into_any()
                }}
                <h4>"Durable log"</h4>
                {if log.is_empty() {
                    view! { <p class="meta" data-testid="twopc-coord-log">"empty"</p> }.into_any()
                } else {
                    view! { <ol class="twopc-log" data-testid="twopc-coord-log">{records}</ol> }.into_any()
                }}
                {(!presumed.is_empty()).then(|| view! { <p class="meta">{format!("Answered abort by presumption (no record): {}.", presumed.join(", "))}</p> })}
            }
            .into_any()
        })
    }
}

/// Every lock hold up to the shown step as a bar on a common time axis, the part while
/// its holder was in doubt shaded, with the transactions that waited and for how long.
fn lock_timeline(lab: Lab<TwoPc>, names: Memo<Vec<String>>) -> impl IntoView {
    move || {
        lab.analysis.with(|a| {
            if a.locks.is_empty() {
                return view! { <p class="meta">"No lock taken yet."</p> }.into_any();
            }
            let end = lab.engine.with_untracked(|e| e.trace().last().map_or(1, |ev| ev.time)).max(a.upto_ms).max(1) as f64;
            let pct = |t: Time| (t as f64 / end * 100.0).clamp(0.0, 100.0);
            let name = |p: usize| names.with_untracked(|n| n.get(p).cloned().unwrap_or_default());
            let rows = a
                .locks
                .iter()
                .map(|l| {
                    let until = l.released_ms.unwrap_or(a.upto_ms);
                    let held = until.saturating_sub(l.acquired_ms);
                    // The part of this hold spent in doubt by its holder.
                    let doubt: Vec<(Time, Time)> = a
                        .in_doubt
                        .iter()
                        .filter(|d| d.participant == l.participant && d.txn == l.txn)
                        .filter_map(|d| {
                            let from = d.from_ms.max(l.acquired_ms);
                            let to = d.until_ms.unwrap_or(a.upto_ms).min(until);
                            (to > from).then_some((from, to))
                        })
                        .collect();
                    let doubt_ms: Time = doubt.iter().map(|(f, t)| t - f).sum();
                    let waiters = list_or_none(
                        l.waiters
                            .iter()
                            .map(|w| {
                                let to = w.until_ms.unwrap_or(a.upto_ms);
                                match (w.got_ms, w.until_ms) {
                                    (Some(g), _) => format!("{} waited {} ms (from {} ms), got it at {g} ms", w.txn, to - w.from_ms, w.from_ms),
                                    (None, None) => format!("{} waiting {} ms (since {} ms)", w.txn, to - w.from_ms, w.from_ms),
                                    (None, Some(_)) => format!("{} waited {} ms (from {} ms)", w.txn, to - w.from_ms, w.from_ms),
                                }
                            })
                            .collect(),
                    );
                    let span = format!(
                        "{} → {}",
                        l.acquired_ms,
                        l.released_ms.map_or("still held".to_string(), |r| format!("{r} ms"))
                    );
                    let bar = format!("left:{:.2}%;width:{:.2}%", pct(l.acquired_ms), (pct(until) - pct(l.acquired_ms)).max(0.4));
                    let doubt_bars = doubt
                        .iter()
                        .map(|(f, t)| {
                            let st = format!("left:{:.2}%;width:{:.2}%", pct(*f), (pct(*t) - pct(*f)).max(0.4));
                            view! { <span class="lock-doubt" style=st></span> }
                        })
                        .collect_view();
                    let wait_bars = l
                        .waiters
                        .iter()
                        .map(|w| {
                            let to = w.until_ms.unwrap_or(a.upto_ms);
                            let st = format!("left:{:.2}%;width:{:.2}%", pct(w.from_ms), (pct(to) - pct(w.from_ms)).max(0.4));
                            view! { <span class="lock-wait" style=st title=format!("{} waits", w.txn)></span> }
                        })
                        .collect_view();
                    let open = l.released_ms.is_none();
                    view! {
                        <tr class:held=open data-key=l.key.clone() data-holder=l.txn.clone()>
                            <th scope="row">{format!("{} · {}", name(l.participant), l.key)}</th>
                            <td class="mono">{l.txn.clone()}</td>
                            <td class="num">{span}</td>
                            <td class="num" data-testid="twopc-held-ms">{format!("{held} ms")}{(doubt_ms > 0).then(|| format!(" ({doubt_ms} in doubt)"))}</td>
                            <td>{waiters}</td>
                            <td class="lock-track" aria-hidden="true">
                                <span class="lock-bar" style=bar></span>
                                {doubt_bars}
                                {wait_bars}
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            let blocked = a
                .blocked
                .iter()
                .map(|b| {
                    let state = match b.until_ms {
                        None => " — still waiting".to_string(),
                        Some(u) => format!(" until {u} ms"),
                    };
                    view! {
                        <li>{format!(
                            "{} waited {} ms for {} at {}, held by {} while {} was in doubt (from {} ms{state}).",
                            b.txn, b.waited_ms, b.key, name(b.participant), b.holder, b.holder, b.from_ms
                        )}</li>
                    }
                })
                .collect_view();
            view! {
                <table class="clock-table lock-table">
                    <thead><tr><th>"Lock"</th><th>"Held by"</th><th>"From → to (ms)"</th><th>"Held"</th><th>"Waited for it"</th><th class="lock-track-h">"Timeline (blue: held; amber: holder in doubt; red line: waiting)"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                <p data-testid="twopc-lock-total">{format!("Locks held {} ms in all; the longest in-doubt period so far: {} ms.", a.total_lock_hold_ms, a.max_in_doubt_ms)}</p>
                {(!a.blocked.is_empty()).then(|| view! { <ul data-testid="twopc-blocked" class="twopc-blocked">{blocked}</ul> })}
            }
            .into_any()
        })
    }
}

/// Each transaction's decision and per-participant outcome, the in-doubt periods and the
/// atomicity verdict.
fn outcomes(lab: Lab<TwoPc>, names: Memo<Vec<String>>) -> impl IntoView {
    move || {
        lab.analysis.with(|a| {
            let name = |p: usize| names.with_untracked(|n| n.get(p).cloned().unwrap_or_default());
            let txns = a
                .transactions
                .iter()
                .map(|t| {
                    let decision = match &t.decision {
                        Some(d) => format!(
                            "{} at {} ms{}",
                            if d.commit { "commit" } else { "abort" },
                            d.time,
                            if d.presumed { " (presumed: no record)" } else { "" }
                        ),
                        None => "not decided".into(),
                    };
                    let per = t
                        .outcomes
                        .iter()
                        .map(|o| {
                            let what = match (o.committed, o.time) {
                                (Some(true), Some(at)) => format!("committed at {at} ms"),
                                (Some(false), Some(at)) => format!("aborted at {at} ms"),
                                _ if o.voted_yes => "in doubt (voted yes, no outcome)".to_string(),
                                _ => "no outcome".to_string(),
                            };
                            format!("{}: {what}", name(o.participant))
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    let mixed = t.outcomes.iter().any(|o| o.committed == Some(true))
                        && t.outcomes.iter().any(|o| o.committed == Some(false));
                    view! {
                        <li class:lost=mixed data-txn=t.txn.clone()><strong>{t.txn.clone()}</strong>{format!(" — coordinator: {decision}. {per}.")}</li>
                    }
                })
                .collect_view();
            let doubts = a
                .in_doubt
                .iter()
                .map(|d| {
                    let text = match (d.until_ms, d.resolved) {
                        (Some(u), Some(c)) => format!(
                            "{} was in doubt about {} from {} to {u} ms ({} ms), then {}.",
                            name(d.participant), d.txn, d.from_ms, u - d.from_ms, if c { "committed" } else { "aborted" }
                        ),
                        (Some(u), None) => format!("{} was in doubt about {} from {} to {u} ms.", name(d.participant), d.txn, d.from_ms),
                        (None, _) => format!(
                            "{} is in doubt about {} since {} ms ({} ms so far).",
                            name(d.participant), d.txn, d.from_ms, d.duration(a.upto_ms)
                        ),
                    };
                    let open = d.until_ms.is_none();
                    view! { <li class:in-doubt=open>{text}</li> }
                })
                .collect_view();
            let violations = a.violations.iter().map(|v| violated(v).item()).collect_view();
            view! {
                {if a.transactions.is_empty() {
                    view! { <p>"No transaction yet."</p> }.into_any()
                } else {
                    view! { <ul data-testid="twopc-outcomes">{txns}</ul> }.into_any()
                }}
                {(!a.in_doubt.is_empty()).then(|| view! { <ul data-testid="twopc-in-doubt">{doubts}</ul> })}
                {(a.still_in_doubt > 0).then(|| view! {
                    <p class="warn" data-testid="twopc-still-in-doubt">{format!(
                        "{} participant{} still in doubt: blocked until the decision reaches {}.",
                        a.still_in_doubt, if a.still_in_doubt == 1 { "" } else { "s" }, if a.still_in_doubt == 1 { "it" } else { "them" }
                    )}</p>
                })}
                {if a.violations.is_empty() {
                    view! { <p class="ok" data-testid="twopc-safety">"Atomicity: no transaction committed at one participant and aborted at another; commits only after every yes; every outcome matches the coordinator's decision; no decision reversed — all hold so far."</p> }.into_any()
                } else {
                    view! { <ul data-testid="twopc-violations">{violations}</ul> }.into_any()
                }}
            }
        })
    }
}

/// The next free transaction id (`T2`, `T3`, …) given the scenario's and the run's.
fn next_txn_id(lab: Lab<TwoPc>) -> String {
    let used: Vec<String> = lab.engine.with_untracked(|e| {
        let mut v: Vec<String> = e
            .interventions()
            .iter()
            .filter_map(|iv| match &iv.action {
                Action::Command {
                    command: distlab_sim::models::twopc::Command::Begin { id, .. },
                    ..
                } => Some(id.clone()),
                _ => None,
            })
            .collect();
        v.extend(lab.scenario.with_untracked(|s| {
            s.transactions
                .iter()
                .map(|t| t.id.clone())
                .collect::<Vec<_>>()
        }));
        v
    });
    (1..)
        .map(|k| format!("T{k}"))
        .find(|id| !used.contains(id))
        .expect("a free id")
}

/// One participant's line of the Begin control: its name, the key and the amount typed.
type BeginRow = (String, RwSignal<String>, RwSignal<String>);

/// The Begin transaction control: an id and, per participant, a key and an amount; begun
/// at the coordinator at the cursor's time. The lines are rebuilt only when the scenario's
/// participants change (so typing keeps focus); the id moves on to the next free one
/// whenever the run's interventions change.
fn begin_control(lab: Lab<TwoPc>) -> impl IntoView {
    let id = RwSignal::new(String::new());
    // What was wrong with the last attempt, shown beside the button.
    let problem = RwSignal::new(None::<String>);
    let participants = Memo::new(move |_| {
        lab.scenario.with(|s| {
            s.participants
                .iter()
                .map(|p| (p.name.clone(), p.data.keys().next().cloned()))
                .collect::<Vec<_>>()
        })
    });
    let rows: Memo<Vec<BeginRow>> = Memo::new(move |_| {
        participants.with(|ps| {
            ps.iter()
                .enumerate()
                .map(|(i, (name, key))| {
                    let delta = match i {
                        0 => "-10",
                        1 => "10",
                        _ => "",
                    };
                    (
                        name.clone(),
                        RwSignal::new(key.clone().unwrap_or_else(|| "x".into())),
                        RwSignal::new(delta.to_string()),
                    )
                })
                .collect()
        })
    });
    Effect::new(move |_| {
        lab.engine.with(|e| e.interventions().len());
        lab.scenario.with(|s| s.transactions.len());
        id.set(untrack(|| next_txn_id(lab)));
    });
    let begin = move || {
        let txn = id.get_untracked().trim().to_string();
        let writes: Result<Vec<WriteSpec>, String> =
            rows.get_untracked()
                .into_iter()
                .map(|(at, key, d)| (at, key.get_untracked(), d.get_untracked()))
                .filter(|(_, _, d)| !d.trim().is_empty())
                .map(|(at, key, d)| {
                    let delta: i64 = d.trim().trim_start_matches('+').parse().map_err(|_| {
                        format!("\"{d}\" is not a whole number (the amount at {at}).")
                    })?;
                    Ok(WriteSpec {
                        at,
                        key: key.trim().to_string(),
                        delta,
                    })
                })
                .collect();
        let cmd = writes.and_then(|w| {
            if w.is_empty() {
                return Err("Give an amount for at least one participant.".to_string());
            }
            lab.scenario.with_untracked(|s| s.begin(&txn, &w))
        });
        match cmd {
            Ok(command) => {
                problem.set(None);
                lab.intervene(Action::Command { node: 0, command });
            }
            Err(e) => problem.set(Some(e)),
        }
    };
    let inputs = move || {
        rows.get()
            .into_iter()
            .map(|(name, key, delta)| {
                let key_label = format!("Key at {name}");
                let delta_label = format!("Amount at {name}");
                view! {
                    <div class="begin-row">
                        <span class="begin-at">{name}</span>
                        <input type="text" size="6" maxlength="24" aria-label=key_label
                            prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev)) />
                        <input type="text" size="5" maxlength="12" inputmode="numeric" aria-label=delta_label placeholder="—"
                            prop:value=move || delta.get() on:input=move |ev| delta.set(event_target_value(&ev)) />
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <form class="twopc-begin" on:submit=move |ev| { ev.prevent_default(); begin() }>
            <label>"Transaction " <input type="text" size="4" maxlength="32" aria-label="Transaction id"
                prop:value=move || id.get() on:input=move |ev| id.set(event_target_value(&ev)) /></label>
            <div class="begin-rows">{inputs}</div>
            <button type="submit">"Begin transaction"</button>
            {move || problem.get().map(|m| view! { <p class="twopc-begin-problem" role="alert">{m}</p> })}
            <p class="meta">"Begun at the coordinator at the cursor's time. An empty amount leaves that participant out."</p>
        </form>
    }
}

/// Partition (the ticked nodes against the rest) and heal, at the cursor.
fn network_control(lab: Lab<TwoPc>, names: Memo<Vec<String>>) -> impl IntoView {
    let side = RwSignal::new(Vec::<usize>::new());
    let boxes = move || {
        names
            .get()
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
        let n = names.with_untracked(Vec::len);
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
    view! {
        <section class="panel twopc-network" style="grid-column:1 / -1" aria-labelledby="twopc-net-h">
            <h3 id="twopc-net-h">"Cut the network"</h3>
            <div class="twopc-net-row">
                <div class="switch-group" role="group" aria-label="Side A of a partition">
                    <span>"Side A:"</span>
                    {boxes}
                </div>
                <button on:click=partition>"Partition: side A | the rest"</button>
                <button on:click=move |_| lab.intervene(Action::Heal)>"Heal"</button>
                <span class="meta">"At the cursor's time. Crash and restart: the buttons beside each line of the diagram."</span>
            </div>
        </section>
    }
}

/// `model = "twopc"`: the diagram, the participants, the coordinator with the Begin
/// control, the locks over time, the outcomes and the atomicity verdict, and a partition
/// control; the challenge is judged on the whole run.
#[component]
pub fn TwoPcLesson(lesson: ResolvedLesson) -> impl IntoView {
    let run =
        match engine_lesson::<TwoPc>(lesson, |s| s.twopc().map(|(a, b)| (a.clone(), b.to_vec()))) {
            Ok(x) => x,
            Err(e) => return cannot_show(e),
        };
    let LessonRun { nav, lab, .. } = run;
    let names = Memo::new(move |_| lab.scenario.with(|s| s.names()));
    let highlights =
        Memo::new(move |_| names.with(|n| lab.analysis.with(|a| twopc_highlights(a, n))));
    let nodes = Memo::new(move |_| {
        let step = lab.panel_step.get();
        lab.engine.with(|e| Nodes {
            names: e.nodes().iter().map(|n| n.name.clone()).collect(),
            views: e.views_at(step),
            up: e.world_at(step).map(|w| w.up).unwrap_or_default(),
        })
    });
    // Judged on the whole run, not at the cursor: "in doubt at the end" is about the end.
    let whole_run = Memo::new(move |_| {
        lab.engine
            .with(|e| analysis::analyze(e, e.trace().len().checked_sub(1)))
    });
    let challenge = step_challenge(nav, move |c| whole_run.with(|a| c.met_by_twopc(a)));
    let panels = view! {
        <section class="panel twopc-participants" style="grid-column:1 / -1" aria-labelledby="twopc-p-h">
            <h3 id="twopc-p-h">"Participants"</h3>
            <table class="clock-table">
                <thead><tr><th>"Participant"</th><th>"Transactions"</th><th>"Data (committed)"</th><th>"Locks held"</th><th>"Waiting for a lock"</th><th>"Durable log"</th></tr></thead>
                <tbody>{participant_rows(nodes)}</tbody>
            </table>
        </section>
        {network_control(lab, names)}
        <section class="panel twopc-coordinator" aria-labelledby="twopc-c-h">
            <h3 id="twopc-c-h">"Coordinator"</h3>
            {coordinator_view(nodes)}
            {begin_control(lab)}
        </section>
        <section class="panel twopc-outcome" aria-labelledby="twopc-o-h">
            <h3 id="twopc-o-h">"Outcomes and atomicity"</h3>
            {outcomes(lab, names)}
        </section>
        <section class="panel twopc-locks" style="grid-column:1 / -1" aria-labelledby="twopc-l-h">
            <h3 id="twopc-l-h">"Locks over time"</h3>
            {lock_timeline(lab, names)}
        </section>
    }
    .into_any();
    run.page(ViewFn::from(challenge), highlights.into(), panels)
}
