//! The built-in lessons parse, validate, and each step shows what its narration claims.

use distlab_sim::diagram::Diagram;
use distlab_sim::lesson::{built_in, Lesson, BUILT_IN};
use distlab_sim::models::replication::analysis::analyze;
use distlab_sim::Engine;

#[test]
fn every_built_in_lesson_parses_and_validates() {
    for (file, text) in BUILT_IN {
        if let Err(e) = Lesson::parse(text) {
            panic!("{file}: {e}");
        }
    }
    assert_eq!(built_in().len(), BUILT_IN.len());
}

#[test]
fn dump_replication_lag() {
    let lesson = built_in()
        .into_iter()
        .find(|l| l.id == "replication-lag")
        .unwrap();
    for i in 0..lesson.steps.len() {
        let run = lesson.run_for_step(i).unwrap();
        let engine = Engine::new(run.scenario.setup().unwrap(), run.interventions.clone());
        let cursor = lesson.cursor_for_step(i, &engine).unwrap();
        let a = analyze(&engine, cursor);
        let d = Diagram::build(&engine);
        eprintln!(
            "== step {} {} cursor {:?} t={} events={} arrows={}",
            i + 1,
            lesson.steps[i].title,
            cursor,
            a.now,
            engine.trace().len(),
            d.arrows.len()
        );
        for w in &a.writes {
            eprintln!(
                "  write {:?} {} inv {} acked {:?} lat {:?}",
                w.label,
                w.value,
                w.invoked_at,
                w.acked,
                w.latency_ms()
            );
        }
        for r in &a.reads {
            eprintln!(
                "  read {:?} inv {} ret {:?} stale {}",
                r.label,
                r.invoked_at,
                r.returned,
                r.stale.is_some()
            );
        }
        eprintln!("  lag {:?} lost {:?}", a.lag, a.lost_writes);
    }
}
