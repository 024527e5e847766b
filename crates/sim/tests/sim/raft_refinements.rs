//! The refinements of Ongaro's thesis as switches: pre-vote (§9.6), check quorum and the
//! leader's lease on votes (§6.2, §4.2.3), reads by read index (§6.4). Each is shown doing
//! what it is for in a whole run, and none of them costs safety under random faults.

use distlab_sim::engine::{Action, Engine, Intervention};
use distlab_sim::models::raft::explore::explore;
use distlab_sim::models::raft::monitor::{run_checked, Property};
use distlab_sim::models::raft::{Broken, Command, Node, RaftScenario, Refinement, Request, Role};
use distlab_sim::trace::EventKind;
use std::collections::BTreeSet;

fn cluster(refinements: &[Refinement]) -> RaftScenario {
    let mut s = RaftScenario::cluster(5, 11);
    s.duration_ms = 3_000;
    s.refinements = refinements.iter().copied().collect();
    s
}

fn servers(e: &Engine<Node>) -> Vec<&distlab_sim::models::raft::Server> {
    e.world()
        .nodes
        .iter()
        .filter_map(|n| match n {
            Node::Server(s) => Some(s),
            Node::Client(_) => None,
        })
        .collect()
}

/// The run of `s` with `ivs` stopped at `t` ms (a run goes on after its last
/// intervention, so those after `t` are left out).
fn run_until(s: &RaftScenario, ivs: &[Intervention<Node>], t: u64) -> Engine<Node> {
    let mut short = s.clone();
    short.duration_ms = t;
    let before: Vec<_> = ivs.iter().filter(|iv| iv.at <= t).cloned().collect();
    let mut e = Engine::start_with(short.setup().unwrap(), before);
    while e.world().now <= t && e.step() {}
    e
}

/// The leader (id, term) when the run is at `t` ms.
fn leader_at(s: &RaftScenario, ivs: &[Intervention<Node>], t: u64) -> (usize, u64) {
    let e = run_until(s, ivs, t);
    let found: Vec<(usize, u64)> = servers(&e)
        .iter()
        .enumerate()
        .filter(|(i, sv)| sv.role == Role::Leader && e.world().up[*i])
        .map(|(i, sv)| (i, sv.current_term))
        .collect();
    assert_eq!(found.len(), 1, "one leader at {t} ms: {found:?}");
    found[0]
}

fn put(at: u64, client: usize, key: &str, value: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request: Request::Put {
                key: key.into(),
                value: value.into(),
            },
            label: None,
        },
    )
}

fn get(at: u64, client: usize, key: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request: Request::Get { key: key.into() },
            label: None,
        },
    )
}

/// A follower cut off from the others for 1.5 s, then reconnected.
fn isolate_follower(s: &RaftScenario) -> (usize, usize, Vec<Intervention<Node>>) {
    let (leader, _) = leader_at(s, &[], 600);
    let lonely = (leader + 1) % 5;
    let rest: Vec<usize> = (0..6).filter(|&i| i != lonely).collect();
    let ivs = vec![
        Intervention::new(
            700,
            Action::Partition {
                groups: vec![vec![lonely], rest],
            },
        ),
        Intervention::new(2_200, Action::Heal),
    ];
    (leader, lonely, ivs)
}

#[test]
fn pre_vote_keeps_a_reconnecting_server_from_deposing_the_leader() {
    // Without pre-vote the cut-off follower keeps starting elections, its term climbs, and
    // when it comes back its term deposes the working leader.
    let plain = cluster(&[]);
    let (leader, lonely, ivs) = isolate_follower(&plain);
    let (_, term) = leader_at(&plain, &[], 600);
    let (e, v) = run_checked(plain.setup().unwrap(), ivs.clone());
    assert!(v.is_empty(), "{v:?}");
    let before_heal = leader_at(&plain, &ivs, 2_150);
    assert_eq!(
        before_heal,
        (leader, term),
        "the majority side keeps its leader"
    );
    let final_term = servers(&e)[leader].current_term;
    assert!(
        final_term > term + 2,
        "the rejoining server's inflated term deposed the leader: term {term} → {final_term}"
    );

    // With pre-vote it asks first, gets no pre-votes, and its term stays.
    let pv = cluster(&[Refinement::PreVote]);
    let (leader, lonely2, ivs) = isolate_follower(&pv);
    assert_eq!(lonely2, lonely);
    let (_, term) = leader_at(&pv, &[], 600);
    let (e, v) = run_checked(pv.setup().unwrap(), ivs.clone());
    assert!(v.is_empty(), "{v:?}");
    let during = leader_at(&pv, &ivs, 2_150);
    assert_eq!(during, (leader, term));
    let lonely_server = {
        let e = run_until(&pv, &ivs, 2_150);
        let s = servers(&e)[lonely];
        (s.current_term, s.role)
    };
    assert_eq!(
        lonely_server,
        (term, Role::PreCandidate),
        "cut off, it asks for pre-votes without raising its term"
    );
    assert_eq!(
        leader_at(&pv, &ivs, 3_000),
        (leader, term),
        "after healing the same leader leads in the same term"
    );
    let notes = e
        .trace()
        .iter()
        .flat_map(|ev| ev.notes.iter())
        .filter(|n| n.starts_with("asks for pre-votes"))
        .count();
    assert!(notes >= 3, "it kept asking: {notes}");
}

/// The leader and one client cut off from the other four servers for 1.5 s.
fn isolate_leader(s: &RaftScenario) -> (usize, Vec<Intervention<Node>>) {
    let (leader, _) = leader_at(s, &[], 600);
    let client = 5;
    let rest: Vec<usize> = (0..5).filter(|&i| i != leader).collect();
    (
        leader,
        vec![
            Intervention::new(
                700,
                Action::Partition {
                    groups: vec![vec![leader, client], rest],
                },
            ),
            put(800, client, "x", "1"),
            Intervention::new(2_200, Action::Heal),
        ],
    )
}

#[test]
fn check_quorum_makes_a_cut_off_leader_step_down() {
    for (refinements, steps_down) in [(vec![], false), (vec![Refinement::CheckQuorum], true)] {
        let s = cluster(&refinements);
        let (old, ivs) = isolate_leader(&s);
        let (_, v) = run_checked(s.setup().unwrap(), ivs.clone());
        assert!(v.is_empty(), "{v:?}");
        let e = run_until(&s, &ivs, 2_100);
        let old_server = servers(&e)[old];
        assert_eq!(
            old_server.role != Role::Leader,
            steps_down,
            "{refinements:?}: the old leader is {:?}",
            old_server.role
        );
        // Either way it never committed the write it accepted while cut off.
        let accepted = old_server
            .log
            .iter()
            .position(|en| {
                en.command
                    == Command::Put {
                        key: "x".into(),
                        value: "1".into(),
                    }
            })
            .map(|i| i + 1);
        if let Some(i) = accepted {
            assert!(
                old_server.commit_index < i,
                "{refinements:?}: the write is not committed"
            );
        }
        let step_down = e
            .trace()
            .iter()
            .find(|ev| ev.notes.iter().any(|n| n.contains("check quorum")))
            .map(|ev| ev.time);
        match step_down {
            Some(t) => {
                assert!(steps_down);
                // Within two election timeouts (150–300 ms each) of the partition.
                assert!(
                    (700..=700 + 2 * 300 + 150).contains(&t),
                    "stepped down at {t}"
                );
            }
            None => assert!(!steps_down, "{refinements:?}"),
        }
    }
}

#[test]
fn check_quorum_lease_ignores_votes_while_the_leader_is_heard() {
    // The link between the leader and one follower fails (a partial partition): the
    // follower hears no heartbeats and asks the others for votes. Without the lease the
    // others adopt its higher term and the working leader is deposed; with check quorum
    // they still hear the leader and ignore the request (thesis §4.2.3).
    for (refinements, deposed) in [(vec![], true), (vec![Refinement::CheckQuorum], false)] {
        let s = cluster(&refinements);
        let (leader, term) = leader_at(&s, &[], 600);
        let cut_off = (leader + 2) % 5;
        let ivs = vec![
            Intervention::new(
                700,
                Action::CutLink {
                    a: leader,
                    b: cut_off,
                },
            ),
            Intervention::new(
                1_600,
                Action::RestoreLink {
                    a: leader,
                    b: cut_off,
                },
            ),
        ];
        let (e, v) = run_checked(s.setup().unwrap(), ivs.clone());
        assert!(v.is_empty(), "{v:?}");
        let after = leader_at(&s, &ivs, 1_500);
        assert_eq!(
            after != (leader, term),
            deposed,
            "{refinements:?}: {after:?}"
        );
        if !deposed {
            let ignored = e
                .trace()
                .iter()
                .flat_map(|ev| ev.notes.iter())
                .filter(|n| n.starts_with("ignores RequestVote"))
                .count();
            assert!(ignored >= 3, "the others ignored it: {ignored}");
        }
    }
}

#[test]
fn read_index_reads_skip_the_log_and_stay_linearizable() {
    let s = cluster(&[Refinement::ReadIndex]);
    let client = 5;
    let ivs = vec![
        put(600, client, "x", "1"),
        get(700, client, "x"),
        get(800, client, "y"),
    ];
    let (e, v) = run_checked(s.setup().unwrap(), ivs);
    assert!(v.is_empty(), "{v:?}");
    let leader = servers(&e)
        .into_iter()
        .find(|sv| sv.role == Role::Leader)
        .expect("a leader");
    let commands: Vec<&Command> = leader.log.iter().map(|en| &en.command).collect();
    assert_eq!(
        commands,
        [
            &Command::Noop,
            &Command::Put {
                key: "x".into(),
                value: "1".into()
            }
        ],
        "a no-op when elected, the write, and no entry for the reads"
    );
    let answers: Vec<Option<String>> = e
        .trace()
        .iter()
        .flat_map(|ev| ev.returned.iter())
        .map(|(_, r)| r.value.clone())
        .collect();
    assert_eq!(answers, [None, Some("1".into()), None]);
}

#[test]
fn read_index_without_the_leadership_check_reads_stale_data() {
    // The old leader and a client are cut off; the majority elects a new leader which
    // commits x=2 for a second client; then the first client reads x at the old leader.
    let mut s = cluster(&[Refinement::ReadIndex]);
    s.clients.push(distlab_sim::models::raft::ClientSpec {
        name: "client2".into(),
        place: None,
        server: None,
    });
    let (old, _) = leader_at(&s, &[], 600);
    let rest: Vec<usize> = (0..5).filter(|&i| i != old).chain([6]).collect();
    let ivs = vec![
        put(600, 5, "x", "1"),
        Intervention::new(
            700,
            Action::Partition {
                groups: vec![vec![old, 5], rest],
            },
        ),
        put(1_000, 6, "x", "2"),
        get(1_600, 5, "x"),
        Intervention::new(2_200, Action::Heal),
    ];
    let (e, v) = run_checked(s.setup().unwrap(), ivs.clone());
    assert!(v.is_empty(), "correct read index: {v:?}");
    // The read's value and when it was answered.
    let read = |e: &Engine<Node>| {
        let op = e
            .trace()
            .iter()
            .find_map(|ev| match &ev.kind {
                EventKind::Invoke {
                    op,
                    request: Request::Get { .. },
                    ..
                } => Some(*op),
                _ => None,
            })
            .expect("the read was invoked");
        e.trace().iter().find_map(|ev| {
            ev.returned
                .iter()
                .find(|(o, _)| *o == op)
                .map(|(_, r)| (r.value.clone(), ev.time))
        })
    };
    let (value, at) = read(&e).expect("the read is answered once the partition heals");
    assert_eq!(value.as_deref(), Some("2"));
    assert!(at > 2_200, "not before the heal: {at}");

    let mut broken = s.clone();
    broken.broken = BTreeSet::from([Broken::ReadLeadershipCheck]);
    let (e, v) = run_checked(broken.setup().unwrap(), ivs);
    let (value, at) = read(&e).expect("answered");
    assert!(at < 2_200, "answered while cut off: {at}");
    assert_eq!(
        value.as_deref(),
        Some("1"),
        "the deposed leader answers from its stale state"
    );
    assert_eq!(
        v.iter().map(|v| v.property).collect::<Vec<_>>(),
        [Property::LinearizableReads],
        "{v:?}"
    );
}

/// All three refinements together under the randomized fault search: no violation of the
/// Figure 3 properties nor of linearizable reads.
#[test]
fn refinements_keep_safety_under_random_faults() {
    let mut base = cluster(&Refinement::ALL);
    base.duration_ms = 2_500;
    let report = explore(&base, 0, 1_000, 1).unwrap();
    assert_eq!(report.failing_runs, 0, "{:?}", report.shortest);
    assert!(report.events > 1_000 * 300);
}
