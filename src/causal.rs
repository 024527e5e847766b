//! The causality overlay's pure part: for a selected event, the role every mark and arrow of
//! a diagram plays (its causal past, its causal future, concurrent with it); the clock text
//! written beside marks and where it goes; the relation of two events in words. No web
//! types, so it is unit-tested natively. The drawing is in `diagram.rs`.

use distlab_sim::causality::{Causality, Relation, VectorClock};
use distlab_sim::diagram::{Diagram, Outcome};
use std::collections::HashMap;
use std::fmt::Write as _;

/// A diagram's causality with what the overlay needs beside it. Computed once per diagram
/// (`O(events × nodes)`); everything per selection is `O(events + arrows)`.
#[derive(Clone, Debug, PartialEq)]
pub struct CausalIndex {
    pub causality: Causality,
    /// Per arrow of the diagram: its sending and receiving events, when it was delivered.
    pub arrow_events: Vec<Option<(usize, usize)>>,
}

/// Diagram mark per trace step.
fn mark_of_step(d: &Diagram) -> HashMap<usize, usize> {
    d.marks
        .iter()
        .enumerate()
        .map(|(i, m)| (m.step, i))
        .collect()
}

impl CausalIndex {
    pub fn of(d: &Diagram) -> CausalIndex {
        let causality = Causality::of_diagram(d);
        let mark_of_step = mark_of_step(d);
        let event_at = |step: usize| {
            mark_of_step
                .get(&step)
                .and_then(|&m| causality.event_of_mark.get(m).copied().flatten())
        };
        let arrow_events = d
            .arrows
            .iter()
            .map(|a| match a.outcome {
                Outcome::Delivered { step, .. } => Some((event_at(a.send_step)?, event_at(step)?)),
                _ => None,
            })
            .collect();
        CausalIndex {
            causality,
            arrow_events,
        }
    }

    /// The event at diagram mark `mark`, if that mark is one (drops and network-wide marks
    /// are not).
    pub fn event(&self, mark: usize) -> Option<usize> {
        self.causality.event_of_mark.get(mark).copied().flatten()
    }
}

/// What a mark or an arrow is to the selected event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The selected event itself.
    Selected,
    /// In its causal past (it happens before the selected event); for an arrow, a message
    /// between two such events (or into the selected one).
    Past,
    /// In its causal future; for an arrow, a message between such events (or out of the
    /// selected one).
    Future,
    /// Neither before nor after it. Arrows are never concurrent.
    Concurrent,
}

impl Role {
    /// The `data-causal` attribute's value.
    pub fn attr(self) -> &'static str {
        match self {
            Role::Selected => "selected",
            Role::Past => "past",
            Role::Future => "future",
            Role::Concurrent => "concurrent",
        }
    }
}

/// The overlay for one selected event: a role per diagram mark and per arrow (`None`: not
/// part of it, drawn dimmed), and the sizes of the three sets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    pub marks: Vec<Option<Role>>,
    pub arrows: Vec<Option<Role>>,
    pub past: usize,
    pub future: usize,
    pub concurrent: usize,
}

/// Classifies every mark and arrow for the event at mark `selected`; `None` if that mark is
/// no event. One pass over the events (each comparison is `O(1)` with vector clocks).
pub fn classify(ix: &CausalIndex, selected: usize) -> Option<Overlay> {
    let c = &ix.causality;
    let s = ix.event(selected)?;
    let of_event: Vec<Role> = (0..c.len())
        .map(|e| match c.relation(e, s) {
            Relation::Same => Role::Selected,
            Relation::Before => Role::Past,
            Relation::After => Role::Future,
            Relation::Concurrent => Role::Concurrent,
        })
        .collect();
    let count = |r: Role| of_event.iter().filter(|&&x| x == r).count();
    let marks = c
        .event_of_mark
        .iter()
        .map(|e| e.map(|e| of_event[e]))
        .collect();
    let arrows = ix
        .arrow_events
        .iter()
        .map(|ends| {
            let (from, to) = (*ends)?;
            match (of_event[from], of_event[to]) {
                (Role::Past | Role::Selected, Role::Past | Role::Selected) => Some(Role::Past),
                (Role::Future | Role::Selected, Role::Future) => Some(Role::Future),
                _ => None,
            }
        })
        .collect();
    Some(Overlay {
        marks,
        arrows,
        past: count(Role::Past),
        future: count(Role::Future),
        concurrent: count(Role::Concurrent),
    })
}

/// A vector clock as written beside a mark: `[2,0,1]`.
pub fn vector_text(v: &VectorClock) -> String {
    let mut s = String::from("[");
    for (i, x) in v.0.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{x}");
    }
    s.push(']');
    s
}

/// How an event is named in explanations: its mark's label, and its time when the
/// diagram's times are simulated milliseconds (not for an imported log).
pub fn event_name(d: &Diagram, c: &Causality, e: usize) -> String {
    let m = &d.marks[c.events[e].mark];
    if d.timed {
        format!("“{}” ({} ms)", m.label, m.time)
    } else {
        format!("“{}”", m.label)
    }
}

fn node_name(d: &Diagram, n: usize) -> String {
    d.nodes
        .get(n)
        .map_or_else(|| format!("node {n}"), |i| i.name.clone())
}

/// The relation of the events at marks `a` and `b` and its explanation (a chain of messages,
/// or the incomparable vector-clock entries).
pub fn relation_text(
    d: &Diagram,
    ix: &CausalIndex,
    a: usize,
    b: usize,
) -> Option<(Relation, String)> {
    let c = &ix.causality;
    let (ea, eb) = (ix.event(a)?, ix.event(b)?);
    let text = c.explain(ea, eb, &|e| event_name(d, c, e), &|n| node_name(d, n));
    Some((c.relation(ea, eb), text))
}

/// Stacks labels on their lifelines so that neighbours do not overlap: each label
/// `(node, left, width)`, taken in order of `left` per node, goes to the first of `levels`
/// rows whose previous label ends before it starts (with a small gap). `None`: no row has
/// room (the events are too close together at this zoom), so the label is left out.
pub fn stack_labels(labels: &[(usize, f64, f64)], levels: usize) -> Vec<Option<usize>> {
    const GAP: f64 = 3.0;
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&i, &j| {
        (labels[i].0, labels[i].1)
            .partial_cmp(&(labels[j].0, labels[j].1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut ends: HashMap<usize, Vec<f64>> = HashMap::new();
    let mut out = vec![None; labels.len()];
    for i in order {
        let (node, left, width) = labels[i];
        let ends = ends
            .entry(node)
            .or_insert_with(|| vec![f64::NEG_INFINITY; levels]);
        if let Some(level) = (0..levels).find(|&l| ends[l] + GAP <= left) {
            ends[level] = left + width;
            out[i] = Some(level);
        }
    }
    out
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

    /// Happens-before by search over the diagram itself (program order per lifeline and
    /// delivered arrows), independent of vector clocks: the marks reachable from `from_mark`
    /// going forwards (its future) or backwards (its past).
    fn reachable(d: &Diagram, from_mark: usize, forwards: bool) -> Vec<bool> {
        let counts = |m: usize| {
            d.marks[m].node.is_some() && !matches!(d.marks[m].kind, "drop" | "network" | "ignored")
        };
        let mark_of_step = mark_of_step(d);
        let mut succ: Vec<Vec<usize>> = vec![Vec::new(); d.marks.len()];
        let mut edges = Vec::new();
        let mut last: HashMap<usize, usize> = HashMap::new();
        for m in (0..d.marks.len()).filter(|&m| counts(m)) {
            let n = d.marks[m].node.unwrap();
            if let Some(p) = last.insert(n, m) {
                edges.push((p, m));
            }
        }
        for a in &d.arrows {
            if let Outcome::Delivered { step, .. } = a.outcome {
                edges.push((mark_of_step[&a.send_step], mark_of_step[&step]));
            }
        }
        for (x, y) in edges {
            if forwards {
                succ[x].push(y);
            } else {
                succ[y].push(x);
            }
        }
        let mut seen = vec![false; d.marks.len()];
        let mut stack = succ[from_mark].clone();
        while let Some(m) = stack.pop() {
            if !std::mem::replace(&mut seen[m], true) {
                stack.extend(succ[m].iter().copied());
            }
        }
        seen
    }

    #[test]
    fn classify_matches_reachability_on_every_event() {
        for id in ["three-cities", "busy-cluster"] {
            let d = diagram(id);
            let ix = CausalIndex::of(&d);
            let events: Vec<usize> = (0..d.marks.len())
                .filter(|&m| ix.event(m).is_some())
                .collect();
            assert!(events.len() > 10, "{id}: a run with events");
            // Every event in small runs; a sample in big ones.
            let step = (events.len() / 60).max(1);
            for &s in events.iter().step_by(step) {
                let o = classify(&ix, s).expect("an event");
                let (fwd, back) = (reachable(&d, s, true), reachable(&d, s, false));
                for &m in &events {
                    let want = if m == s {
                        Role::Selected
                    } else if fwd[m] {
                        Role::Future
                    } else if back[m] {
                        Role::Past
                    } else {
                        Role::Concurrent
                    };
                    assert_eq!(o.marks[m], Some(want), "{id}: mark {m} for selection {s}");
                }
                assert_eq!(o.past + o.future + o.concurrent + 1, events.len());
            }
        }
    }

    #[test]
    fn non_events_have_no_role_and_arrows_follow_the_chains() {
        let d = diagram("busy-cluster");
        let ix = CausalIndex::of(&d);
        let s = (0..d.marks.len())
            .filter(|&m| ix.event(m).is_some())
            .nth(40)
            .unwrap();
        let o = classify(&ix, s).unwrap();
        for (m, mark) in d.marks.iter().enumerate() {
            if mark.node.is_none() || matches!(mark.kind, "drop" | "network" | "ignored") {
                assert_eq!(o.marks[m], None);
                assert_eq!(classify(&ix, m), None);
            }
        }
        let role_at = |step: usize| {
            let m = d.marks.iter().position(|x| x.step == step).unwrap();
            o.marks[m]
        };
        let mut past_arrows = 0;
        for (a, arrow) in d.arrows.iter().enumerate() {
            match arrow.outcome {
                Outcome::Delivered { step, .. } => {
                    let ends = (role_at(arrow.send_step), role_at(step));
                    let want = match ends {
                        (Some(Role::Past | Role::Selected), Some(Role::Past | Role::Selected)) => {
                            Some(Role::Past)
                        }
                        (Some(Role::Future | Role::Selected), Some(Role::Future)) => {
                            Some(Role::Future)
                        }
                        _ => None,
                    };
                    past_arrows += usize::from(want == Some(Role::Past));
                    assert_eq!(o.arrows[a], want);
                }
                _ => assert_eq!(o.arrows[a], None, "only delivered messages join a chain"),
            }
        }
        assert!(past_arrows > 0);
    }

    #[test]
    fn relation_text_names_events_and_gives_the_reason() {
        let d = diagram("three-cities");
        let ix = CausalIndex::of(&d);
        let c = &ix.causality;
        // A delivery and its send: the send happens before.
        let a = d
            .arrows
            .iter()
            .find(|a| matches!(a.outcome, Outcome::Delivered { .. }))
            .unwrap();
        let Outcome::Delivered { step, .. } = a.outcome else {
            unreachable!()
        };
        let (sm, rm) = (a.send_step, step);
        let (rel, text) = relation_text(&d, &ix, sm, rm).unwrap();
        assert_eq!(rel, Relation::Before);
        assert!(text.contains(" → "), "{text}");
        assert!(text.contains(&d.marks[sm].label), "{text}");
        let (rel, text) = relation_text(&d, &ix, rm, sm).unwrap();
        assert_eq!(rel, Relation::After);
        assert!(
            text.starts_with(&format!("“{}”", d.marks[sm].label)),
            "{text}"
        );
        // Some pair is concurrent, and says so with its clocks.
        let (x, y) = (0..c.len())
            .flat_map(|x| (0..c.len()).map(move |y| (x, y)))
            .find(|&(x, y)| c.relation(x, y) == Relation::Concurrent)
            .unwrap();
        let (rel, text) = relation_text(&d, &ix, c.events[x].mark, c.events[y].mark).unwrap();
        assert_eq!(rel, Relation::Concurrent);
        assert!(
            text.contains(" ∥ ") && text.contains(&vector_text(&c.vector[x]).replace(',', ", ")),
            "{text}"
        );
    }

    #[test]
    fn vector_text_is_compact() {
        assert_eq!(vector_text(&VectorClock(vec![2, 0, 1])), "[2,0,1]");
        assert_eq!(vector_text(&VectorClock(vec![])), "[]");
    }

    #[test]
    fn labels_stack_only_when_they_would_overlap() {
        // Node 0: three labels close together, then one far away; node 1 apart.
        let l = [
            (0, 0.0, 50.0),
            (0, 20.0, 50.0),
            (1, 10.0, 50.0),
            (0, 40.0, 50.0),
            (0, 300.0, 50.0),
            (0, 56.0, 10.0),
        ];
        let some = |v: &[usize]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        assert_eq!(stack_labels(&l, 3), some(&[0, 1, 0, 2, 0, 0]));
        // With too few rows, a label that fits nowhere is left out.
        assert_eq!(
            stack_labels(&l[..4], 2),
            vec![Some(0), Some(1), Some(0), None]
        );
        assert_eq!(stack_labels(&[], 2), Vec::<Option<usize>>::new());
    }
}
