//! The "Logical clocks" and "Concurrent writes and version vectors" lessons: each step
//! shows what its narration claims, computed from the simulation (not from the text).

use distlab_sim::causality::{Causality, Relation};
use distlab_sim::diagram::Diagram;
use distlab_sim::engine::Engine;
use distlab_sim::lesson::{Lesson, LessonModel};
use distlab_sim::models::leaderless::analysis::{analyze, Analysis};
use distlab_sim::models::leaderless::View;
use distlab_sim::models::{Clocks, EngineModel, Leaderless};
use distlab_sim::{PhysicalClock, Protocol};

fn lesson(file: &str) -> Lesson {
    let text = distlab_sim::lesson::BUILT_IN
        .iter()
        .find(|(f, _)| *f == file)
        .unwrap_or_else(|| panic!("{file} is built in"))
        .1;
    Lesson::parse(text).unwrap()
}

fn step_index(l: &Lesson, title: &str) -> usize {
    l.steps
        .iter()
        .position(|s| s.title == title)
        .unwrap_or_else(|| panic!("no step {title:?}"))
}

/// The run of a step, up to its cursor.
fn run<M: LessonModel>(l: &Lesson, title: &str) -> (M::Scenario, Engine<M::Node>, Option<usize>) {
    let i = step_index(l, title);
    let (scenario, ivs) = l.engine_run::<M>(i).unwrap();
    let engine = Engine::new(M::setup(&scenario).unwrap(), ivs);
    let cursor = l.steps[i].until.cursor(&engine).unwrap();
    (scenario, engine, cursor)
}

/// Causality of a run and the event whose mark label contains `text`.
struct Events {
    d: Diagram,
    c: Causality,
}

impl Events {
    fn of<P: Protocol>(e: &Engine<P>) -> Events {
        let d = Diagram::build(e);
        let c = Causality::of_diagram(&d);
        Events { d, c }
    }
    fn find(&self, text: &str) -> usize {
        (0..self.c.len())
            .find(|&e| self.d.marks[self.c.events[e].mark].label.contains(text))
            .unwrap_or_else(|| panic!("no event {text:?}"))
    }
    fn vector(&self, text: &str) -> Vec<u64> {
        self.c.vector[self.find(text)].0.clone()
    }
    fn lamport(&self, text: &str) -> u64 {
        self.c.lamport[self.find(text)].counter
    }
}

#[test]
fn logical_clocks_lesson() {
    let l = lesson("logical-clocks.toml");
    // Step 2: B's clock says it received m1 before A's clock says A sent it.
    let (_, e, cursor) = run::<Clocks>(&l, "A timestamp from the wrong clock");
    let trace = &e.trace()[..=cursor.unwrap()];
    let physical = |node: usize| {
        trace
            .iter()
            .find(|ev| ev.node == Some(node) && ev.state.is_some())
            .and_then(|ev| ev.state.as_ref().unwrap().physical_ms)
            .unwrap()
    };
    assert_eq!((physical(0), physical(1)), (10, 0));
    // Steps 3–4: C's write and B's send of m2 are concurrent, yet L(write) < L(send).
    let (_, e, _) = run::<Clocks>(&l, "Lamport timestamps");
    let ev = Events::of(&e);
    let (write, send) = (ev.find("C writes x"), ev.find("B: send m2"));
    assert_eq!(ev.c.relation(write, send), Relation::Concurrent);
    assert_eq!((ev.lamport("C writes x"), ev.lamport("B: send m2")), (1, 3));
    // Step 5: the vectors the narration quotes, and what is concurrent with "A writes y".
    let (_, e, _) = run::<Clocks>(&l, "Vector clocks");
    let ev = Events::of(&e);
    assert_eq!(ev.vector("C writes x"), [0, 0, 1]);
    assert_eq!(ev.vector("B: send m2"), [1, 2, 0]);
    assert_eq!(ev.vector("C ← B: m2"), [1, 2, 2]);
    let y = ev.find("A writes y");
    let concurrent: Vec<String> =
        ev.c.concurrent_with(y)
            .iter()
            .map(|&x| ev.d.marks[ev.c.events[x].mark].label.clone())
            .collect();
    assert_eq!(
        concurrent,
        [
            "C: C writes x",
            "B ← A: m1",
            "B: send m2",
            "C ← B: m2",
            "C: send m3"
        ]
    );
    // Step 6: random traffic on top, and many concurrent pairs.
    let (_, e, _) = run::<Clocks>(&l, "Many messages");
    let ev = Events::of(&e);
    let n = ev.c.len();
    assert!(n > 20, "{n} events");
    assert!(ev.c.concurrent_pairs() * 2 > n * (n - 1) / 2 / 2);
    let sent_by_traffic = e
        .trace()
        .iter()
        .filter(|x| matches!(x.kind, distlab_sim::EventKind::Timer { .. }))
        .count();
    assert_eq!(sent_by_traffic, 15, "three nodes × count 5");
}

type World = distlab_sim::World<<Leaderless as EngineModel>::Node>;

/// The analysis of a step's run at its cursor, and the world there.
fn analysis(l: &Lesson, title: &str) -> (Analysis, World) {
    let (scenario, e, cursor) = run::<Leaderless>(l, title);
    let world = e.world_at(cursor).unwrap();
    (analyze(&e, cursor, &scenario.names()), world)
}

/// `(cart, version)` of replica `r`'s siblings.
fn siblings(w: &World, r: usize) -> Vec<(String, u64)> {
    let View::Replica { data, .. } = w.nodes[r].view() else {
        panic!("not a replica")
    };
    data["cart"]
        .iter()
        .map(|s| (s.value.describe(), s.dot.counter))
        .collect()
}

#[test]
fn version_vectors_lesson() {
    let l = lesson("version-vectors.toml");
    let owned = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
        v.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    };
    // Steps 2–5: DDIA Figure 5-13, version by version.
    let (_, e) = analysis(&l, "Version 1");
    assert_eq!(siblings(&e, 0), owned(&[("[milk]", 1)]));
    let (_, e) = analysis(&l, "A write that has not seen the other");
    assert_eq!(siblings(&e, 0)[..2], owned(&[("[milk]", 1), ("[eggs]", 2)]));
    let (a, e) = analysis(&l, "Merging siblings");
    assert_eq!(
        siblings(&e, 0),
        owned(&[("[eggs, ham, milk]", 4), ("[bacon, eggs, flour, milk]", 5)])
    );
    assert_eq!(a.merged["cart"], ["bacon", "eggs", "flour", "ham", "milk"]);
    assert!(a.lost.is_empty());
    // Step 6: two replicas agree, nothing lost.
    let (a, e) = analysis(&l, "Two replicas: version vectors");
    assert!(a.converged && a.lost.is_empty());
    assert_eq!(siblings(&e, 0), siblings(&e, 1));
    assert_eq!(a.merged["cart"], ["bacon", "eggs", "flour", "ham", "milk"]);
    // Steps 7–8: milk comes back without tombstones, not with them.
    let (a, _) = analysis(&l, "Removing an item");
    assert_eq!(a.resurrected, [("cart".to_string(), "milk".to_string())]);
    assert!(a.merged["cart"].contains(&"jam".to_string()));
    let (a, _) = analysis(&l, "Tombstones");
    assert!(a.resurrected.is_empty());
    assert!(!a.merged["cart"].contains(&"milk".to_string()));
    // Step 9: last-write-wins loses concurrent writes.
    let (a, _) = analysis(&l, "Last write wins");
    assert!(!a.lost.is_empty());
    assert!(a.lost.iter().all(|w| !w.causally_later));
    assert!(a.merged["cart"].len() < 5);
    // Step 10: and a causally later one, with a skewed clock.
    let (a, _) = analysis(&l, "When the clock is wrong");
    assert_eq!(a.lost.len(), 1);
    assert!(a.lost[0].causally_later);
    assert_eq!(a.merged["cart"], ["milk"]);
}

/// The last step's challenge: with exact clocks nothing is lost; skewing a replica's clock
/// through the scenario parameter (as the page's clock controls do) makes last-write-wins
/// drop Bob's causally later write, and only when the skew exceeds the time between the
/// writes.
#[test]
fn version_vectors_clock_challenge() {
    let l = lesson("version-vectors.toml");
    let title = "Your turn: a clock that loses a write";
    let i = step_index(&l, title);
    let challenge = l.steps[i]
        .challenge
        .clone()
        .expect("the step has a challenge");
    let (scenario, ivs) = l.engine_run::<Leaderless>(i).unwrap();
    let outcome = |r1: PhysicalClock, r2: PhysicalClock| {
        let mut s = scenario.clone();
        Leaderless::set_clock(&mut s, 0, r1).unwrap();
        Leaderless::set_clock(&mut s, 1, r2).unwrap();
        let e = Engine::new(Leaderless::setup(&s).unwrap(), ivs.clone());
        let a = analyze(&e, e.trace().len().checked_sub(1), &s.names());
        (challenge.met_by_leaderless(&a), a)
    };
    let skew = |ms| PhysicalClock {
        offset_ms: ms,
        drift_ppm: 0,
    };
    let (met, a) = outcome(skew(0), skew(0));
    assert!(!met && a.lost.is_empty(), "exact clocks lose nothing");
    // Bob writes 60 ms after Alice (true time): a smaller skew keeps his stamp later.
    for ms in [10, 30, 50] {
        assert!(!outcome(skew(0), skew(-ms)).0, "r2 {ms} ms behind");
        assert!(!outcome(skew(ms), skew(0)).0, "r1 {ms} ms ahead");
    }
    for ms in [70, 100, 500] {
        let (met, a) = outcome(skew(0), skew(-ms));
        assert!(met, "r2 {ms} ms behind");
        assert_eq!(a.merged["cart"], ["milk"], "Bob's eggs are gone");
        assert!(outcome(skew(ms), skew(0)).0, "r1 {ms} ms ahead");
    }
    // The clients have no clock parameter.
    let mut s = scenario.clone();
    assert!(Leaderless::set_clock(&mut s, 2, skew(5)).is_err());
    assert_eq!(Leaderless::clock(&s, 2), None);
    assert_eq!(Leaderless::clock(&s, 1), Some(skew(0)));
}
