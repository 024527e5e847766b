//! Ready-made Raft runs for the page and the lessons: the situations the paper draws and
//! the ones a lecturer reaches for. Each is a scenario plus interventions; the outcomes
//! each one is meant to show are tested in `crates/sim/tests/sim/raft_figures.rs`.

use super::{ClientSpec, InitialServer, NamedLink, Operator, RaftScenario, Request};
use crate::engine::{Action, Engine, Intervention};
use crate::NodeId;
use std::collections::BTreeSet;

/// A named run.
#[derive(Clone, Debug)]
pub struct Preset {
    /// The id the page's address uses, e.g. `"figure-8"`.
    pub id: &'static str,
    pub title: &'static str,
    /// What to watch for, in a sentence or two.
    pub summary: &'static str,
    pub scenario: RaftScenario,
    pub interventions: Vec<Intervention<super::Node>>,
    /// Where the page puts the cursor (simulated ms): the moment the preset is about.
    /// `None`: the end of the run.
    pub show_ms: Option<u64>,
}

/// Every preset, in teaching order.
pub fn all() -> Vec<Preset> {
    vec![
        normal_election(),
        leader_crash(),
        split_vote(),
        partitioned_leader(),
        figure_7(),
        figure_8(false),
        figure_8(true),
        figure_8_current_term_entry(),
    ]
}

/// The preset with this id.
pub fn by_id(id: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.id == id)
}

fn write(at: u64, client: NodeId, key: &str, value: &str) -> Intervention<super::Node> {
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

fn timeout(at: u64, node: NodeId) -> Intervention<super::Node> {
    Intervention::new(
        at,
        Action::Command {
            node,
            command: Operator::Timeout,
        },
    )
}

/// Five servers and a client, seed 3: s3 wins term 1 at about 180 ms.
fn five() -> RaftScenario {
    let mut s = RaftScenario::cluster(5, 3);
    s.duration_ms = 1_500;
    s
}

/// The server leading at `t` ms in `s` without interventions (the first one found).
pub fn leader_at(s: &RaftScenario, t: u64) -> Option<NodeId> {
    let mut e = Engine::start_with(s.setup().ok()?, Vec::new());
    while e.world().now <= t && e.step() {}
    e.world()
        .nodes
        .iter()
        .position(|n| matches!(n, super::Node::Server(sv) if sv.role == super::Role::Leader))
}

/// A normal election and a write committed on a majority.
pub fn normal_election() -> Preset {
    Preset {
        show_ms: None,
        id: "normal-election",
        title: "Normal election",
        summary: "A follower times out, asks for votes, wins a majority and leads; a client's write is replicated and committed.",
        scenario: five(),
        interventions: vec![write(450, 5, "x", "1")],
    }
}

/// The leader crashes; another is elected in a higher term.
pub fn leader_crash() -> Preset {
    let s = five();
    let leader = leader_at(&s, 600).unwrap_or(0);
    Preset {
        show_ms: None,
        id: "leader-crash",
        title: "Leader crash and re-election",
        summary: "The leader crashes at 700 ms: heartbeats stop, a follower times out and is elected in the next term; the write made before the crash survives.",
        interventions: vec![
            write(450, 5, "x", "1"),
            Intervention::new(700, Action::Crash { node: leader }),
            write(1_100, 5, "x", "2"),
        ],
        scenario: s,
    }
}

/// Two candidates in the same term split the votes; the next term resolves it.
pub fn split_vote() -> Preset {
    let mut s = five();
    s.links = vec![
        NamedLink {
            a: "s2".into(),
            b: "s5".into(),
            ms: 30,
            jitter_ms: 0,
        },
        NamedLink {
            a: "s4".into(),
            b: "s1".into(),
            ms: 30,
            jitter_ms: 0,
        },
    ];
    let leader = leader_at(&s, 600).unwrap_or(2);
    Preset {
        show_ms: None,
        id: "split-vote",
        title: "Split vote",
        summary: "After the leader crashes, s1 and s5 time out together: each gets two votes of five, nobody wins term 2, and a randomized timeout settles it in term 3.",
        interventions: vec![
            Intervention::new(700, Action::Crash { node: leader }),
            timeout(702, 0),
            timeout(702, 4),
        ],
        scenario: s,
    }
}

/// The leader and a client are cut off in a minority: it accepts writes it can never
/// commit, the majority elects a new leader, and on healing the old one steps down and its
/// uncommitted entries are replaced.
pub fn partitioned_leader() -> Preset {
    let mut s = five();
    s.duration_ms = 2_600;
    let leader = leader_at(&s, 600).unwrap_or(2);
    let rest: Vec<NodeId> = (0..5).filter(|&i| i != leader).collect();
    s.clients[0].server = Some(s.servers[leader].clone());
    s.clients.push(ClientSpec {
        name: "client2".into(),
        place: None,
        server: Some(s.servers[rest[0]].clone()),
    });
    Preset {
        show_ms: None,
        id: "partitioned-leader",
        title: "A partitioned old leader",
        summary: "The leader and one client are cut off from the other three servers: it appends the client's write but can never commit it; the majority elects a new leader and commits its own write; on healing the old leader sees the higher term, steps down, and its uncommitted entry is overwritten.",
        interventions: vec![
            write(450, 5, "x", "1"),
            Intervention::new(
                700,
                Action::Partition {
                    groups: vec![vec![leader, 5], rest.iter().copied().chain([6]).collect()],
                },
            ),
            write(800, 5, "x", "stale"),
            write(1_200, 6, "x", "2"),
            Intervention::new(1_800, Action::Heal),
        ],
        scenario: s,
    }
}

fn initial(server: &str, term: u64, voted_for: Option<&str>, log: &[u64]) -> InitialServer {
    InitialServer {
        server: server.into(),
        term,
        voted_for: voted_for.map(Into::into),
        log: log.to_vec(),
    }
}

/// The paper's Figure 7: the leader of term 8 and followers (a)–(f), whose logs miss
/// entries, have extra uncommitted ones, or both. The leader wins term 8 (with the votes of
/// a, b, e and f; c and d have more up-to-date logs and refuse), then repairs every log with
/// the consistency check and nextIndex back-off; a write of term 8 replaces the extra
/// entries of c and d.
pub fn figure_7() -> Preset {
    let mut s = RaftScenario::cluster(7, 1);
    s.servers = ["leader", "a", "b", "c", "d", "e", "f"]
        .map(String::from)
        .to_vec();
    s.clients[0].server = Some("leader".into());
    s.duration_ms = 600;
    s.initial = vec![
        initial("leader", 7, None, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6]),
        initial("a", 7, None, &[1, 1, 1, 4, 4, 5, 5, 6, 6]),
        initial("b", 7, None, &[1, 1, 1, 4]),
        initial("c", 7, None, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
        initial("d", 7, None, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]),
        initial("e", 7, None, &[1, 1, 1, 4, 4, 4, 4]),
        initial("f", 7, None, &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
    ];
    Preset {
        show_ms: Some(250),
        id: "figure-7",
        title: "Figure 7: follower logs repaired",
        summary: "The paper's Figure 7. The top server is elected leader of term 8; its AppendEntries are refused until nextIndex backs off to where each follower's log matches, then missing entries are sent and conflicting ones deleted.",
        interventions: vec![timeout(5, 0), write(120, 7, "x", "t8")],
        scenario: s,
    }
}

/// The Figure 8 start: S1 led term 2 and replicated index 2 to S2 only; S5 led term 3 and
/// wrote a different index 2 only to itself. S1 (term 3 by now) and S5 are about to act.
fn figure_8_scenario(broken: bool) -> RaftScenario {
    let mut s = RaftScenario::cluster(5, 1);
    s.servers = ["S1", "S2", "S3", "S4", "S5"].map(String::from).to_vec();
    s.clients[0].server = Some("S1".into());
    s.duration_ms = 700;
    s.initial = vec![
        initial("S1", 3, None, &[1, 2]),
        initial("S2", 2, Some("S1"), &[1, 2]),
        initial("S3", 3, Some("S5"), &[1]),
        initial("S4", 3, Some("S5"), &[1]),
        initial("S5", 3, Some("S5"), &[1, 3]),
    ];
    if broken {
        s.broken = BTreeSet::from([super::Broken::CurrentTermCommit]);
    }
    s
}

/// The paper's Figure 8 (a)–(d). S5 is down; S1 is elected in term 4 and replicates its
/// term-2 entry at index 2 to a majority, then crashes. S5 comes back and is elected in
/// term 5 (its last term, 3, beats their 2) and overwrites index 2 everywhere.
///
/// With the current-term rule (§5.4.2) S1 never counted that entry as committed, so
/// nothing is lost. With `broken` (`current-term-commit` removed) S1 commits and applies it
/// before crashing, and the monitor reports the committed entry overwritten.
pub fn figure_8(broken: bool) -> Preset {
    Preset {
        show_ms: Some(300),
        id: if broken {
            "figure-8-broken"
        } else {
            "figure-8"
        },
        title: if broken {
            "Figure 8 without the current-term rule"
        } else {
            "Figure 8: why only current-term entries are committed by counting"
        },
        summary: if broken {
            "As Figure 8, but the leader of term 4 commits the term-2 entry because it is on a majority. S5 then overwrites it: an applied entry is lost, and the monitor flags leader completeness and state machine safety."
        } else {
            "The paper's Figure 8: the leader of term 4 replicates an entry of term 2 to a majority but must not count it as committed; when S5 is elected in term 5 it overwrites that entry, and no applied entry is lost."
        },
        scenario: figure_8_scenario(broken),
        interventions: vec![
            Intervention::new(1, Action::Crash { node: 4 }),
            timeout(5, 0),
            Intervention::new(100, Action::Crash { node: 0 }),
            Intervention::new(110, Action::Restart { node: 4 }),
            timeout(115, 4),
            timeout(140, 4),
        ],
    }
}

/// Figure 8 (e): the same start, but S1 replicates an entry of its own term 4 to a
/// majority before crashing. That commits both it and the term-2 entry before it, and S5
/// can no longer be elected: a majority has a log more up-to-date than its own.
pub fn figure_8_current_term_entry() -> Preset {
    Preset {
        show_ms: Some(350),
        id: "figure-8-e",
        title: "Figure 8 (e): a current-term entry commits",
        summary: "S1, leader of term 4, gets a client's write (an entry of term 4) onto a majority before it crashes: that entry and the term-2 entry before it are committed, and S5 cannot win an election.",
        scenario: figure_8_scenario(false),
        interventions: vec![
            Intervention::new(1, Action::Crash { node: 4 }),
            timeout(5, 0),
            write(40, 5, "x", "t4"),
            Intervention::new(100, Action::Crash { node: 0 }),
            Intervention::new(110, Action::Restart { node: 4 }),
            timeout(115, 4),
            timeout(140, 4),
        ],
    }
}

/// The presets as a lesson without narration beyond each preset's summary: the page's
/// "Raft lab", one step per preset, where every control (crash, partition, time out, the
/// rules and refinements) is the learner's. Id `raft-lab`, ordered just after the Raft
/// lessons.
#[cfg(feature = "lesson-files")]
pub fn lab_lesson() -> crate::lesson::ResolvedLesson {
    use crate::lesson::{markdown_to_safe_html, ResolvedLesson, ResolvedStep, StepModel, Until};
    let steps = all()
        .into_iter()
        .map(|p| ResolvedStep {
            title: p.title.to_string(),
            html: markdown_to_safe_html(&format!(
                "{}\n\nCrash, restart or time out servers from their rows, cut the network, drop messages in flight, and switch rules and refinements below the diagram: the run continues from there and the safety monitor checks every event.",
                p.summary
            )),
            run: StepModel::Raft {
                scenario: p.scenario,
                interventions: p.interventions,
            },
            until: p.show_ms.map_or(Until::End, Until::Time),
            challenge: None,
            question: None,
            zoom: p.show_ms.map(|_| 4.0),
        })
        .collect();
    ResolvedLesson {
        id: "raft-lab".into(),
        title: "Raft lab".into(),
        summary: "The classic Raft situations, ready to break: elections, a leader crash, a split vote, a partitioned old leader, and the paper's Figures 7 and 8 — with every rule and refinement as a switch.".into(),
        order: 68,
        model: "raft".into(),
        steps,
    }
}
