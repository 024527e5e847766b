//! The text alternative of a space-time diagram: every event up to the shown step as a
//! sentence a screen reader reads well ("t=12 ms: leader sends append x=1 to follower-2"),
//! in an ordered list inside a collapsible "Events as text" region under the diagram.
//!
//! Built from the same [`Diagram`] the SVG draws (marks, arrows, down periods), so the
//! words and the picture cannot disagree. The pure part ([`describe`]) is unit-tested
//! natively; [`StepList`] renders only while its `<details>` is open, and follows the
//! shown step at most ~7 times a second while a run plays.

use distlab_sim::diagram::{Arrow, Diagram, Mark, Outcome};
use leptos::html;
use leptos::prelude::*;

/// One event of a diagram in words.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    /// The event's trace step (the diagram's `Mark::step`).
    pub step: usize,
    /// The sentence, e.g. `"t=40 ms: follower-2 receives append x=1 from leader"`.
    pub text: String,
}

/// A node's name, or "node N" when the diagram does not know it.
fn name(d: &Diagram, n: usize) -> String {
    d.nodes
        .get(n)
        .map_or_else(|| format!("node {n}"), |i| i.name.clone())
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The mark's label without its leading `"who: "`, when it has one.
fn after_who<'a>(m: &'a Mark, who: &str) -> Option<&'a str> {
    m.label.strip_prefix(who)?.strip_prefix(": ")
}

/// What the event itself was, in words (without the messages it sent).
fn event_words(d: &Diagram, m: &Mark, delivered: Option<&Arrow>) -> Vec<String> {
    let who = m.node.map_or_else(|| "network".to_string(), |n| name(d, n));
    let mut parts = Vec::new();
    if let Some(a) = delivered {
        parts.push(format!(
            "{} receives {} from {}",
            name(d, a.to),
            a.label,
            name(d, a.from)
        ));
    }
    match m.kind {
        "deliver" if delivered.is_some() => {}
        "drop" => {
            let dropped = d.arrows.iter().find(|a| {
                matches!(a.outcome, Outcome::Dropped { step, .. } if step == m.step)
                    && Some(a.to) == m.node
            });
            match dropped {
                Some(a) => {
                    let why = match &a.outcome {
                        Outcome::Dropped { reason, .. } => reason.describe(),
                        _ => "",
                    };
                    parts.push(format!(
                        "{} from {} to {} is dropped: {why}",
                        a.label,
                        name(d, a.from),
                        name(d, a.to)
                    ));
                }
                None => parts.push(m.label.clone()),
            }
        }
        "timer" => match after_who(m, &who).and_then(|r| r.strip_prefix("timer ")) {
            Some(t) => parts.push(format!("{who}'s timer fires ({t})")),
            None => parts.push(m.label.clone()),
        },
        "invoke" => match after_who(m, &who) {
            Some(r) => parts.push(format!("{who} requests {r}")),
            None => parts.push(m.label.clone()),
        },
        "restart" => {
            let was_down = d.down.iter().find_map(|p| match p.until {
                Some((t, s)) if s == m.step && Some(p.node) == m.node => Some(t - p.from),
                _ => None,
            });
            parts.push(match (was_down, d.timed) {
                (Some(ms), true) => format!("{who} restarts after {ms} ms down"),
                _ => format!("{who} restarts"),
            });
        }
        "return" => match after_who(m, &who).filter(|r| r.starts_with('#')) {
            Some(r) => parts.push(format!("{who}'s operation {r}")),
            None => parts.push(m.label.clone()),
        },
        "network" => parts.push(format!("network: {}", m.label)),
        // start, crash, command, ignored, and an imported log's events: their own
        // one-line summary reads well already ("follower-1 crashes").
        _ => parts.push(m.label.clone()),
    }
    parts
}

/// The diagram's events in words, one line per mark in step order: what happened, the
/// messages the event sent ("sends append x=1 to follower-1 and follower-2"), and
/// messages lost with it (a crash loses those in flight to the node). Timed diagrams
/// start each line with `t=N ms`; an imported log's lines have no time (their order is
/// the list's).
pub fn describe(d: &Diagram) -> Vec<EventLine> {
    let mut delivered_at = std::collections::HashMap::new();
    let mut sent_at: std::collections::HashMap<usize, Vec<&Arrow>> = Default::default();
    let mut lost_at: std::collections::HashMap<usize, Vec<&Arrow>> = Default::default();
    for a in &d.arrows {
        sent_at.entry(a.send_step).or_default().push(a);
        match a.outcome {
            Outcome::Delivered { step, .. } => {
                delivered_at.insert(step, a);
            }
            Outcome::Dropped { step, .. } => lost_at.entry(step).or_default().push(a),
            Outcome::InFlight => {}
        }
    }
    d.marks
        .iter()
        .map(|m| {
            let mut parts = event_words(d, m, delivered_at.get(&m.step).copied());
            if let Some(sent) = sent_at.get(&m.step) {
                // Group identical messages: "sends heartbeat to follower-1 and follower-2".
                let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
                for a in sent {
                    let to = name(d, a.to);
                    match groups.iter_mut().find(|(l, _)| *l == a.label) {
                        Some((_, tos)) => tos.push(to),
                        None => groups.push((&a.label, vec![to])),
                    }
                }
                let words: Vec<String> = groups
                    .iter()
                    .map(|(l, tos)| format!("{l} to {}", and_list(tos)))
                    .collect();
                parts.push(format!("sends {}", and_list(&words)));
            }
            if m.kind != "drop" {
                let lost: Vec<String> = lost_at
                    .get(&m.step)
                    .into_iter()
                    .flatten()
                    .map(|a| format!("{} from {}", a.label, name(d, a.from)))
                    .collect();
                if !lost.is_empty() {
                    parts.push(format!(
                        "messages in flight to it are lost: {}",
                        lost.join("; ")
                    ));
                }
            }
            let body = parts.join("; ");
            EventLine {
                step: m.step,
                text: if d.timed {
                    format!("t={} ms: {body}", m.time)
                } else {
                    body
                },
            }
        })
        .collect()
}

/// How many of `lines` are shown at step `shown` (they are in step order).
pub fn shown_count(lines: &[EventLine], shown: Option<usize>) -> usize {
    shown.map_or(0, |s| lines.partition_point(|l| l.step <= s))
}

/// Milliseconds since the page started (for throttling), 0 when unavailable.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// "Events as text": a `<details>` under a diagram with the events up to the shown step
/// as an ordered list, the current one marked `aria-current="step"`. Nothing is built
/// while it is closed; while open it follows `shown` at most every 150 ms (and always
/// settles on the last value).
#[component]
pub fn StepList(diagram: Signal<Diagram>, shown: Signal<Option<usize>>) -> impl IntoView {
    let open = RwSignal::new(false);
    let details = NodeRef::<html::Details>::new();
    // The step the list shows: `shown`, throttled while it moves fast (playback).
    let step = RwSignal::new(shown.get_untracked());
    let last = StoredValue::new(0.0f64);
    let pending = StoredValue::new_local(None::<gloo_timers::callback::Timeout>);
    Effect::new(move |_| {
        let s = shown.get();
        if !open.get() {
            return;
        }
        let t = now_ms();
        if t - last.get_value() >= 150.0 {
            last.set_value(t);
            pending.set_value(None);
            if step.get_untracked() != s {
                step.set(s);
            }
        } else {
            let wait = (150.0 - (t - last.get_value())).max(0.0) as u32;
            pending.set_value(Some(gloo_timers::callback::Timeout::new(wait, move || {
                last.set_value(now_ms());
                step.set(shown.get_untracked());
            })));
        }
    });
    let lines = Memo::new(move |_| {
        if open.get() {
            diagram.with(describe)
        } else {
            Vec::new()
        }
    });
    let count = Memo::new(move |_| lines.with(|l| shown_count(l, step.get())));
    let current = Memo::new(move |_| {
        let k = count.get();
        k.checked_sub(1)
            .and_then(|k| lines.with(|l| l.get(k).map(|x| x.step)))
    });
    let total = move || diagram.with(|d| d.marks.len());
    let summary = move || {
        if open.get() {
            format!("Events as text ({} of {})", count.get(), total())
        } else {
            format!("Events as text ({} events in the run)", total())
        }
    };
    view! {
        <details class="events-text" node_ref=details
            on:toggle=move |_| {
                if let Some(el) = details.get_untracked() {
                    let o = el.open();
                    if o {
                        step.set(shown.get_untracked());
                    }
                    open.set(o);
                }
            }>
            <summary>{summary}</summary>
            {move || open.get().then(|| view! {
                <p class="hint">"Each event up to the step shown on the diagram, oldest first; the current one is marked. Times are simulated milliseconds."</p>
                // Focusable: the list scrolls, and keyboard users must be able to scroll it.
                <ol aria-label="Events up to the shown step" tabindex="0">
                    <For each=move || 0..count.get() key=|k| *k let:k>
                        <li
                            value=k + 1
                            data-step=move || lines.with(|l| l.get(k).map(|x| x.step))
                            aria-current=move || {
                                let here = lines.with(|l| l.get(k).map(|x| x.step));
                                (here.is_some() && here == current.get()).then_some("step")
                            }
                        >{move || lines.with(|l| l.get(k).map(|x| x.text.clone()).unwrap_or_default())}</li>
                    </For>
                </ol>
                {move || (count.get() == 0).then(|| view! { <p class="meta">"No events yet: step forward to see the first."</p> })}
            })}
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use distlab_sim::models::replication::presets::preset;
    use distlab_sim::Engine;

    fn diagram(id: &str) -> Diagram {
        let p = preset(id).expect("preset");
        let e = Engine::new(p.scenario.setup().expect("setup"), p.interventions);
        Diagram::build(&e)
    }

    #[test]
    fn one_line_per_event_in_step_order_with_times() {
        let d = diagram("three-cities");
        let lines = describe(&d);
        assert_eq!(lines.len(), d.marks.len());
        for (l, m) in lines.iter().zip(&d.marks) {
            assert_eq!(l.step, m.step);
            assert!(
                l.text.starts_with(&format!("t={} ms: ", m.time)),
                "{}",
                l.text
            );
        }
    }

    #[test]
    fn every_delivery_names_receiver_message_and_sender() {
        let d = diagram("three-cities");
        let lines = describe(&d);
        let mut seen = 0;
        for a in &d.arrows {
            if let Outcome::Delivered { step, .. } = a.outcome {
                let l = lines.iter().find(|l| l.step == step).expect("line");
                let want = format!(
                    "{} receives {} from {}",
                    d.nodes[a.to].name, a.label, d.nodes[a.from].name
                );
                assert!(l.text.contains(&want), "{} lacks {want}", l.text);
                seen += 1;
            }
        }
        assert!(seen > 0);
    }

    #[test]
    fn every_send_is_told_at_its_sending_event() {
        let d = diagram("three-cities");
        let lines = describe(&d);
        for a in &d.arrows {
            let l = lines.iter().find(|l| l.step == a.send_step).expect("line");
            assert!(l.text.contains("sends "), "{}", l.text);
            assert!(l.text.contains(&a.label), "{} lacks {}", l.text, a.label);
            assert!(
                l.text.contains(&d.nodes[a.to].name),
                "{} lacks {}",
                l.text,
                d.nodes[a.to].name
            );
        }
    }

    #[test]
    fn crashes_and_restarts_are_told_with_the_time_down() {
        use distlab_sim::{Action, Intervention};
        let p = preset("three-cities").expect("preset");
        let node = p
            .scenario
            .node("follower-1")
            .expect("the preset has a follower-1");
        let mut iv = p.interventions.clone();
        iv.push(Intervention::new(60, Action::Crash { node }));
        iv.push(Intervention::new(320, Action::Restart { node }));
        let e = Engine::new(p.scenario.setup().expect("setup"), iv);
        let d = Diagram::build(&e);
        let lines = describe(&d);
        assert!(
            lines.iter().any(|l| l.text == "t=60 ms: follower-1 crashes"
                || l.text.starts_with("t=60 ms: follower-1 crashes;")),
            "{lines:#?}"
        );
        assert!(
            lines.iter().any(|l| l
                .text
                .starts_with("t=320 ms: follower-1 restarts after 260 ms down")),
            "{lines:#?}"
        );
    }

    #[test]
    fn replies_name_whose_operation_returned() {
        let d = diagram("three-cities");
        let lines = describe(&d);
        let returns: Vec<&EventLine> = d
            .marks
            .iter()
            .filter(|m| m.kind == "return")
            .filter_map(|m| lines.iter().find(|l| l.step == m.step))
            .collect();
        assert!(!returns.is_empty());
        for l in returns {
            assert!(l.text.contains("'s operation #"), "{}", l.text);
            assert!(l.text.contains(" returns "), "{}", l.text);
        }
    }

    #[test]
    fn shown_count_follows_the_step() {
        let d = diagram("three-cities");
        let lines = describe(&d);
        assert_eq!(shown_count(&lines, None), 0);
        assert_eq!(shown_count(&lines, Some(0)), 1);
        let last = lines.last().expect("events").step;
        assert_eq!(shown_count(&lines, Some(last)), lines.len());
        assert_eq!(shown_count(&lines, Some(last + 10)), lines.len());
    }

    #[test]
    fn lists_read_as_english() {
        let s = |v: &[&str]| and_list(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&[]), "");
        assert_eq!(s(&["a"]), "a");
        assert_eq!(s(&["a", "b"]), "a and b");
        assert_eq!(s(&["a", "b", "c"]), "a, b and c");
    }
}
