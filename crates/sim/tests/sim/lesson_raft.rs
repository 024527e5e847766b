//! The "Leader election" lesson: each step shows what its narration claims, computed from
//! the simulation (not from the text).

use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::lesson::{Lesson, LessonModel};
use distlab_sim::models::raft::analysis::analyze;
use distlab_sim::models::raft::{Msg, Node, Outcome};
use distlab_sim::models::{EngineModel, Raft};
use distlab_sim::EventKind;

fn lesson() -> Lesson {
    let text = distlab_sim::lesson::BUILT_IN
        .iter()
        .find(|(f, _)| *f == "leader-election.toml")
        .unwrap()
        .1;
    Lesson::parse(text).unwrap()
}

fn run(l: &Lesson, title: &str) -> (Engine<Node>, Option<usize>) {
    let i = l
        .steps
        .iter()
        .position(|s| s.title == title)
        .unwrap_or_else(|| panic!("{title}"));
    let (s, ivs) = l.engine_run::<Raft>(i).unwrap();
    let e = Engine::new(Raft::setup(&s).unwrap(), ivs);
    let c = l.steps[i].until.cursor(&e).unwrap();
    (e, c)
}

const S1: usize = 0;
const S2: usize = 1;
const S3: usize = 2;
const S4: usize = 3;
const S5: usize = 4;
const CLIENT: usize = 5;

#[test]
fn leader_election_lesson() {
    let l = lesson();
    // Step 2: s3 times out first and wins term 1 with a majority, before 200 ms.
    let (e, c) = run(&l, "A timeout, a candidate, the votes");
    let a = analyze(&e, c);
    assert_eq!(a.candidacies.len(), 1);
    assert_eq!((a.candidacies[0].node, a.candidacies[0].term), (S3, 1));
    assert_eq!((a.elections[0].node, a.elections[0].term), (S3, 1));
    assert!(a.elections[0].time < 200);
    // Step 4: the client asked s1, was redirected to s3, and x=1 is applied everywhere.
    let (e, c) = run(&l, "A write is committed");
    let redirected = e.trace()[..=c.unwrap()].iter().any(|ev| {
        ev.node == Some(CLIENT)
            && matches!(&ev.kind, EventKind::Deliver { from, payload: Msg::Reply { outcome: Outcome::NotLeader { leader: Some(S3) }, .. }, .. } if *from == S1)
    });
    assert!(redirected, "s1 redirects the client to s3");
    let w = e.world_at(c).unwrap();
    let Node::Server(leader) = &w.nodes[S3] else {
        panic!()
    };
    assert_eq!(leader.commit_index, 1);
    assert_eq!(leader.kv.get("x").map(String::as_str), Some("1"));
    // Step 5: after the crash, a new leader in term 2 that is not s3.
    let (e, c) = run(&l, "The leader crashes");
    let a = analyze(&e, c);
    let last = a.elections.last().unwrap();
    assert!(last.term == 2 && last.node != S3, "{:?}", a.elections);
    assert!(a.violations.is_empty());
    // Step 6: s1 and s5 both stand for term 2, each gets two votes, nobody wins term 2,
    // and one of them wins term 3.
    let (e, c) = run(&l, "A split vote");
    let a = analyze(&e, c);
    let term2: Vec<usize> = a
        .candidacies
        .iter()
        .filter(|t| t.term == 2)
        .map(|t| t.node)
        .collect();
    assert_eq!(term2, [S1, S5]);
    assert!(!a.elections.iter().any(|t| t.term == 2));
    let granted_to = |cand: usize| {
        e.trace()
            .iter()
            .filter(|ev| ev.node == Some(cand))
            .filter_map(|ev| match &ev.kind {
                EventKind::Deliver {
                    from,
                    payload:
                        Msg::RequestVoteReply {
                            term: 2,
                            granted: true,
                        },
                    ..
                } => Some(*from),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(granted_to(S1), [S2]);
    assert_eq!(granted_to(S5), [S4]);
    let t3 = a
        .elections
        .iter()
        .find(|t| t.term == 3)
        .expect("term 3 has a leader");
    assert!([S1, S5].contains(&t3.node));
    // Step 7: the step's run does not meet the challenge; crashing two more servers does.
    let i = l
        .steps
        .iter()
        .position(|s| s.title == "Why a majority")
        .unwrap();
    let challenge = l.steps[i].challenge.clone().unwrap();
    let (s, mut ivs) = l.engine_run::<Raft>(i).unwrap();
    let met = |ivs: &[Intervention<Node>]| {
        let e = Engine::new(Raft::setup(&s).unwrap(), ivs.to_vec());
        challenge.met_by_raft(&analyze(&e, e.trace().len().checked_sub(1)))
    };
    assert!(!met(&ivs));
    ivs.push(Intervention::new(1_000, Action::Crash { node: S5 }));
    assert!(!met(&ivs), "three of five still elect");
    ivs.push(Intervention::new(1_100, Action::Crash { node: S4 }));
    assert!(met(&ivs), "two of five cannot");
    // Later, after a new leader was elected among three: it keeps the leader role when
    // two more crash, but without a working majority it does not count.
    let (_, base) = l.engine_run::<Raft>(i).unwrap();
    let mut late = base.clone();
    late.push(Intervention::new(1_695, Action::Crash { node: S5 }));
    assert!(!met(&late));
    late.push(Intervention::new(2_695, Action::Crash { node: S4 }));
    assert!(
        met(&late),
        "a leader cut off from the majority is no leader"
    );
    let e = Engine::new(Raft::setup(&s).unwrap(), ivs);
    assert!(Raft::goal_met(&s, &challenge, &e, e.trace().len().checked_sub(1)).unwrap());
}
