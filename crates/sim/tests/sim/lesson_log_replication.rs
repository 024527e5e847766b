//! The "Log replication and commitment" lesson: each step shows what its narration claims,
//! computed from the simulation; the figure steps run exactly the tested presets
//! (`crates/sim/tests/raft_figures.rs`).

use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::lesson::Lesson;
use distlab_sim::models::raft::analysis::analyze;
use distlab_sim::models::raft::monitor::Property;
use distlab_sim::models::raft::presets::{self, Preset};
use distlab_sim::models::raft::{Msg, Node, RaftScenario};
use distlab_sim::models::{EngineModel, Raft};
use distlab_sim::EventKind;

fn lesson() -> Lesson {
    let text = distlab_sim::lesson::BUILT_IN
        .iter()
        .find(|(f, _)| *f == "log-replication.toml")
        .unwrap()
        .1;
    Lesson::parse(text).unwrap()
}

fn step(l: &Lesson, title: &str) -> usize {
    l.steps
        .iter()
        .position(|s| s.title == title)
        .unwrap_or_else(|| panic!("no step {title}"))
}

fn scenario(l: &Lesson, title: &str) -> (RaftScenario, Vec<Intervention<Node>>) {
    l.engine_run::<Raft>(step(l, title)).unwrap()
}

fn run(l: &Lesson, title: &str) -> (Engine<Node>, Option<usize>) {
    let i = step(l, title);
    let (s, ivs) = l.engine_run::<Raft>(i).unwrap();
    let e = Engine::new(Raft::setup(&s).unwrap(), ivs);
    let c = l.steps[i].until.cursor(&e).unwrap();
    (e, c)
}

/// Interventions without the labels lessons give client operations, in the order the
/// engine applies them (by time; equal times keep their order).
fn unlabelled(ivs: &[Intervention<Node>]) -> Vec<Intervention<Node>> {
    let mut v: Vec<Intervention<Node>> = ivs
        .iter()
        .map(|iv| {
            let mut iv = iv.clone();
            if let Action::Request { label, .. } = &mut iv.action {
                *label = None;
            }
            iv
        })
        .collect();
    v.sort_by_key(|iv| iv.at);
    v
}

fn same_run(l: &Lesson, title: &str, preset: Preset) {
    let (s, ivs) = scenario(l, title);
    assert_eq!(
        s, preset.scenario,
        "{title}: the scenario is preset {}",
        preset.id
    );
    assert_eq!(
        unlabelled(&ivs),
        unlabelled(&preset.interventions),
        "{title}: the interventions are preset {}",
        preset.id
    );
}

const S3: usize = 2;
const S5: usize = 4;

#[test]
fn the_figure_steps_run_the_tested_presets() {
    let l = lesson();
    same_run(
        &l,
        "Figure 7: a new leader repairs the logs",
        presets::figure_7(),
    );
    same_run(
        &l,
        "Figure 8: an old entry on a majority is not yet committed",
        presets::figure_8(false),
    );
    same_run(
        &l,
        "Figure 8 without the current-term rule",
        presets::figure_8(true),
    );
    same_run(
        &l,
        "Figure 8 (e): commit through an entry of the current term",
        presets::figure_8_current_term_entry(),
    );
    same_run(
        &l,
        "A partitioned old leader",
        presets::partitioned_leader(),
    );
    // The monitor's verdicts the narration names.
    let (e, _) = run(&l, "Figure 8 without the current-term rule");
    let a = analyze(&e, Some(e.trace().len() - 1));
    let props: Vec<Property> = a.violations.iter().map(|v| v.property).collect();
    assert_eq!(
        props,
        [Property::LeaderCompleteness, Property::StateMachineSafety]
    );
    for title in [
        "Figure 8: an old entry on a majority is not yet committed",
        "Figure 8 (e): commit through an entry of the current term",
        "Figure 7: a new leader repairs the logs",
    ] {
        let (e, _) = run(&l, title);
        assert!(
            analyze(&e, Some(e.trace().len() - 1)).violations.is_empty(),
            "{title}"
        );
    }
}

#[test]
fn an_entry_is_appended_and_committed() {
    let l = lesson();
    let (e, c) = run(&l, "An entry is appended and committed");
    let c = c.unwrap();
    let w = e.world_at(Some(c)).unwrap();
    let Node::Server(leader) = &w.nodes[S3] else {
        panic!()
    };
    assert_eq!((leader.log.len(), leader.log[0].term), (1, 1));
    assert_eq!(leader.commit_index, 1);
    // The first AppendEntries with the entry carried prevLogIndex 0, prevLogTerm 0, and
    // the leader committed after two followers' acknowledgements.
    let first = e.trace()[..=c]
        .iter()
        .flat_map(|ev| ev.sent.iter())
        .find_map(|s| match &s.payload {
            Msg::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                ..
            } if !entries.is_empty() => Some((*prev_log_index, *prev_log_term)),
            _ => None,
        });
    assert_eq!(first, Some((0, 0)));
    let mut committed_at = None;
    e.replay(c, |step, w| {
        if let Node::Server(s) = &w.nodes[S3] {
            if s.commit_index == 1 && committed_at.is_none() {
                committed_at = Some(step);
            }
        }
    });
    let acks_before_commit = e.trace()[..=committed_at.unwrap()]
        .iter()
        .filter(|ev| {
            ev.node == Some(S3)
                && matches!(
                    &ev.kind,
                    EventKind::Deliver {
                        payload: Msg::AppendEntriesReply {
                            success: true,
                            match_index: 1,
                            ..
                        },
                        ..
                    }
                )
        })
        .count();
    assert_eq!(
        acks_before_commit, 2,
        "committed at the second follower's ack"
    );
}

#[test]
fn a_follower_falls_behind_and_catches_up() {
    let l = lesson();
    let (e, _) = run(&l, "A follower falls behind and catches up");
    // y2 and z3 were committed (answered) while s5 was down.
    for ev in e.trace() {
        for (_, r) in &ev.returned {
            if r.index >= 2 {
                assert!(ev.time < 1_100, "index {} answered at {}", r.index, ev.time);
            }
        }
    }
    // After the restart, s5's first AppendEntries brings entries 2 and 3 after index 1,
    // and s5 accepts it without a refusal.
    let after: Vec<&Msg> = e
        .trace()
        .iter()
        .filter(|ev| ev.node == Some(S5) && ev.time > 1_100)
        .filter_map(|ev| match &ev.kind {
            EventKind::Deliver { payload, .. } => Some(payload),
            _ => None,
        })
        .collect();
    assert!(
        matches!(after.first(), Some(Msg::AppendEntries { prev_log_index: 1, entries, .. }) if entries.len() == 2),
        "{:?}",
        after.first()
    );
    let refused = e
        .trace()
        .iter()
        .filter(|ev| ev.node == Some(S5) && ev.time > 1_100)
        .flat_map(|ev| ev.sent.iter())
        .any(|s| matches!(s.payload, Msg::AppendEntriesReply { success: false, .. }));
    assert!(!refused);
    for n in &e.world().nodes[..5] {
        let Node::Server(s) = n else { panic!() };
        assert_eq!((s.log.len(), s.commit_index), (3, 3));
    }
}

#[test]
fn the_challenge_is_open_and_a_partition_meets_it() {
    let l = lesson();
    let i = step(&l, "Your turn");
    let challenge = l.steps[i].challenge.clone().expect("a challenge");
    let (s, mut ivs) = l.engine_run::<Raft>(i).unwrap();
    let e = Engine::new(Raft::setup(&s).unwrap(), ivs.clone());
    assert!(!challenge.met_by_raft(&analyze(&e, Some(e.trace().len() - 1))));
    let client = s.node("client").unwrap();
    let rest: Vec<usize> = (0..5).filter(|&n| n != S3).collect();
    ivs.push(Intervention::new(
        700,
        Action::Partition {
            groups: vec![vec![S3, client], rest],
        },
    ));
    let e = Engine::new(Raft::setup(&s).unwrap(), ivs);
    assert!(challenge.met_by_raft(&analyze(&e, Some(e.trace().len() - 1))));
}
