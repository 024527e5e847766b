//! The example lesson for teachers (`public/lessons/example-stale-read.toml`, described in
//! docs/LESSONS.md "Your first lesson"): it parses, validates and resolves as build.rs and
//! the page's lesson opener do, uses every kind of step, and says what its run shows.

use distlab_sim::engine::Engine;
use distlab_sim::lesson::question::{QuestionKind, NONE};
use distlab_sim::lesson::{Lesson, Until};
use distlab_sim::models::replication::analysis;
use distlab_sim::models::{EngineModel, Replication};

const TEXT: &str = include_str!("../../../../public/lessons/example-stale-read.toml");

#[test]
fn the_example_lesson_parses_validates_and_resolves() {
    let l = Lesson::parse(TEXT).unwrap_or_else(|e| panic!("example-stale-read.toml:{e}"));
    let r = l.resolve().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.id, "example-stale-read");
    assert_eq!(r.model, "replication");
    // Every kind of step the guide shows.
    let s = &l.steps;
    assert!(
        s.iter()
            .any(|s| s.until == Until::Start && s.question.is_none()),
        "narration"
    );
    assert!(
        s.iter().any(|s| matches!(s.until, Until::Returned(_))),
        "until"
    );
    assert!(s.iter().any(|s| !s.actions.is_empty()), "actions");
    assert!(s.iter().any(|s| s.challenge.is_some()), "challenge");
    let kinds: Vec<&QuestionKind> = r
        .steps
        .iter()
        .filter_map(|s| s.question.as_ref().map(|q| &q.kind))
        .collect();
    assert!(kinds
        .iter()
        .any(|k| matches!(k, QuestionKind::Choice { .. })));
    assert!(kinds
        .iter()
        .any(|k| matches!(k, QuestionKind::Predict { .. })));
    // Every question can be posed as the page poses it.
    for step in &r.steps {
        if let Some(q) = &step.question {
            q.pose(None).unwrap();
        }
    }
}

/// What the example says happens: Bob's read returns the old price, a stale read; the
/// predict question's answer is that old price.
#[test]
fn the_example_shows_a_stale_read() {
    let l = Lesson::parse(TEXT).unwrap();
    let i = l
        .steps
        .iter()
        .position(|s| s.question.as_ref().is_some_and(|q| q.predict.is_some()))
        .unwrap();
    let (s, ivs) = l.engine_run::<Replication>(i).unwrap();
    let e = Engine::new(Replication::setup(&s).unwrap(), ivs);
    let cursor = l.steps[i].until.cursor(&e).unwrap();
    let a = analysis::analyze(&e, cursor);
    assert_eq!(a.stale_reads().count(), 1, "Bob's read is stale");
    let q = l.step_question(i).unwrap().unwrap();
    let posed = q.pose(None).unwrap();
    assert_eq!(posed.options, vec![NONE, "10 €", "12 €"]);
    assert_eq!(posed.options[posed.correct[0]], "10 €");
}

/// The snippets of docs/LESSONS.md's "Your first lesson", put together as the guide
/// describes, make a lesson that opens: what the teachers' guide shows works.
#[test]
fn the_teachers_guide_snippets_make_a_lesson() {
    let doc = include_str!("../../../../docs/LESSONS.md");
    let start = doc.find("## Your first lesson").expect("the guide");
    let end = start
        + doc[start..]
            .find("\n## Top level")
            .expect("the reference follows");
    let blocks: Vec<String> = doc[start..end]
        .split("```toml")
        .skip(1)
        .map(|b| {
            let code = &b[..b.find("```").expect("closed block")];
            // Indented under a list item in the guide.
            code.lines()
                .map(|l| l.strip_prefix("  ").unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert_eq!(
        blocks.len(),
        6,
        "head, narrate, until, actions, questions, challenge"
    );
    let questions: Vec<&str> = blocks[4]
        .lines()
        .filter(|l| l.starts_with("question"))
        .collect();
    assert_eq!(questions.len(), 2);
    let mut text = format!("{}\n{}\n{}\n", blocks[0], blocks[1], blocks[2]);
    for (i, q) in questions.iter().enumerate() {
        text += &format!(
            "\n[[step]]\ntitle = \"Question {i}\"\nuntil = {{ returned = \"bob-read\" }}\ntext = \"?\"\n{q}\n"
        );
    }
    text += &blocks[3];
    text += &format!(
        "\n[[step]]\ntitle = \"Your turn\"\nuntil = \"end\"\ntext = \"Go.\"\n{}\n",
        blocks[5].trim()
    );
    let l = Lesson::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let r = l.resolve().unwrap();
    assert_eq!(r.steps.len(), 6);
    let predict = r.steps[3].question.as_ref().unwrap().pose(None).unwrap();
    assert_eq!(predict.options, vec![NONE, "12"]);
}
