//! Ready-made replication scenarios for the free lab (`/lab/:preset`).

use super::{
    write, MonotonicReads, NamedLink, Node, PartitionSpec, Place, ReadYourWrites,
    ReplicationScenario, Request, SessionSpec,
};
use crate::{Action, Intervention, Time};

/// A preset: URL id, title, one-line description, scenario and interventions.
pub struct Preset {
    pub id: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub scenario: ReplicationScenario,
    pub interventions: Vec<Intervention<Node>>,
}

fn place(name: &str, place: &str) -> Place {
    Place {
        name: name.into(),
        place: Some(place.into()),
    }
}

/// The presets, in menu order.
pub fn presets() -> Vec<Preset> {
    let mut v = vec![three_cities(), busy_cluster()];
    v.extend(session_presets());
    v
}

/// The session-guarantee presets (docs/SESSION-GUARANTEES.md), one per anomaly and per
/// fix, each tested for what its summary claims in `tests/sim/session_guarantees.rs`.
pub fn session_presets() -> Vec<Preset> {
    vec![
        ryw_anomaly(),
        ryw_read_from_leader(),
        ryw_wait_for_position(),
        monotonic_anomaly(),
        monotonic_sticky(),
        monotonic_sticky_crash(),
        monotonic_wait_for_position(),
        prefix_anomaly(),
        prefix_same_partition(),
    ]
}

/// Looks a preset up by id.
pub fn preset(id: &str) -> Option<Preset> {
    presets().into_iter().find(|p| p.id == id)
}

/// A leader, two followers far apart, two clients: an empty stage for experiments.
fn three_cities() -> Preset {
    let scenario = ReplicationScenario {
        seed: 7,
        duration_ms: 1_000,
        mode: "async".into(),
        k: 1,
        leader: place("leader", "Frankfurt"),
        followers: vec![place("follower-1", "Paris"), place("follower-2", "Sydney")],
        clients: vec![place("alice", "Paris"), place("bob", "Sydney")],
        latency_ms: 10,
        jitter_ms: 3,
        links: vec![
            super::NamedLink {
                a: "leader".into(),
                b: "follower-2".into(),
                ms: 140,
                jitter_ms: 10,
            },
            super::NamedLink {
                a: "alice".into(),
                b: "follower-1".into(),
                ms: 3,
                jitter_ms: 0,
            },
            super::NamedLink {
                a: "bob".into(),
                b: "follower-2".into(),
                ms: 3,
                jitter_ms: 0,
            },
            super::NamedLink {
                a: "bob".into(),
                b: "leader".into(),
                ms: 145,
                jitter_ms: 0,
            },
        ],
        loss: 0.0,
        retransmit_ms: 1_000,
        partitions: Vec::new(),
        sessions: Vec::new(),
    };
    let interventions = vec![write(50, 3, "x", "1"), write(300, 4, "x", "2")];
    Preset { id: "three-cities", title: "Three cities", summary: "A leader in Frankfurt, followers in Paris and Sydney, two clients. Add your own reads, writes and failures.", scenario, interventions }
}

/// Seven nodes and a steady stream of writes and reads: several hundred messages.
fn busy_cluster() -> Preset {
    let followers: Vec<Place> = (1..=4)
        .map(|i| {
            place(
                &format!("follower-{i}"),
                ["Paris", "Madrid", "Warsaw", "Dublin"][i - 1],
            )
        })
        .collect();
    let scenario = ReplicationScenario {
        seed: 11,
        duration_ms: 1_500,
        mode: "semi-sync".into(),
        k: 2,
        leader: place("leader", "Frankfurt"),
        followers,
        clients: vec![place("alice", "Paris"), place("bob", "Dublin")],
        latency_ms: 20,
        jitter_ms: 25,
        links: vec![],
        loss: 0.0,
        retransmit_ms: 1_000,
        partitions: Vec::new(),
        sessions: Vec::new(),
    };
    let mut interventions = Vec::new();
    for i in 0..50u64 {
        interventions.push(write(
            20 + i * 24,
            5 + (i % 2) as usize,
            "counter",
            &i.to_string(),
        ));
        interventions.push(Intervention::new(
            32 + i * 24,
            Action::Request {
                client: 6 - (i % 2) as usize,
                request: Request::Read {
                    key: "counter".into(),
                    replica: 1 + (i % 4) as usize,
                },
                label: None,
            },
        ));
    }
    Preset { id: "busy-cluster", title: "Busy cluster", summary: "Seven nodes, semi-synchronous (k = 2), a hundred client operations: watch lag come and go.", scenario, interventions }
}

fn link(a: &str, b: &str, ms: Time) -> NamedLink {
    NamedLink {
        a: a.into(),
        b: b.into(),
        ms,
        jitter_ms: 0,
    }
}

fn session(client: &str, ryw: ReadYourWrites, mr: MonotonicReads) -> SessionSpec {
    SessionSpec {
        client: client.into(),
        read_your_writes: ryw,
        monotonic_reads: mr,
        sticky: Vec::new(),
    }
}

/// A labelled client operation (reads name the replica they ask).
fn op(at: Time, client: usize, request: Request, label: &str) -> Intervention<Node> {
    Intervention::new(
        at,
        Action::Request {
            client,
            request,
            label: Some(label.into()),
        },
    )
}

fn put(at: Time, client: usize, key: &str, value: &str, label: &str) -> Intervention<Node> {
    let request = Request::Write {
        key: key.into(),
        value: value.into(),
    };
    op(at, client, request, label)
}

fn get(at: Time, client: usize, replica: usize, key: &str, label: &str) -> Intervention<Node> {
    let request = Request::Read {
        key: key.into(),
        replica,
    };
    op(at, client, request, label)
}

/// The comment thread of DDIA Figures 5-3 and 5-4: a leader in Frankfurt, follower-1 in
/// Paris (10 ms from the leader), follower-2 in Sydney behind a slow replication link
/// (250 ms); alice in Sydney (3 ms from follower-2, 145 ms from the leader), bob in
/// Frankfurt. Node ids: leader 0, follower-1 1, follower-2 2, alice 3, bob 4.
pub fn comments_scenario() -> ReplicationScenario {
    ReplicationScenario {
        seed: 5,
        duration_ms: 1_000,
        mode: "async".into(),
        k: 1,
        leader: place("leader", "Frankfurt"),
        followers: vec![place("follower-1", "Paris"), place("follower-2", "Sydney")],
        clients: vec![place("alice", "Sydney"), place("bob", "Frankfurt")],
        latency_ms: 10,
        jitter_ms: 0,
        links: vec![
            link("leader", "follower-2", 250),
            link("alice", "follower-2", 3),
            link("alice", "leader", 145),
            link("alice", "follower-1", 150),
            link("bob", "follower-2", 150),
        ],
        loss: 0.0,
        retransmit_ms: 1_000,
        partitions: Vec::new(),
        sessions: Vec::new(),
    }
}

/// Alice posts a comment (acknowledged at 310 ms) and reloads at 320 ms from follower-2,
/// which gets the comment only at 415 ms.
fn ryw_ops() -> Vec<Intervention<Node>> {
    vec![
        put(20, 3, "comments", "alice: nice photo!", "post"),
        get(320, 3, 2, "comments", "reload"),
    ]
}

fn ryw_anomaly() -> Preset {
    Preset {
        id: "read-your-writes-anomaly",
        title: "Read-your-writes violated",
        summary: "Alice posts a comment, reloads from a lagging follower and her comment is not there (DDIA Figure 5-3).",
        scenario: comments_scenario(),
        interventions: ryw_ops(),
    }
}

fn ryw_read_from_leader() -> Preset {
    let mut scenario = comments_scenario();
    scenario.sessions = vec![session(
        "alice",
        ReadYourWrites::ReadFromLeader,
        MonotonicReads::None,
    )];
    Preset {
        id: "read-your-writes-leader",
        title: "Read-your-writes: read from the leader",
        summary: "Alice reads what she wrote from the leader: she sees her comment, but the read takes 290 ms instead of 6 and lands on the leader.",
        scenario,
        interventions: ryw_ops(),
    }
}

fn ryw_wait_for_position() -> Preset {
    let mut scenario = comments_scenario();
    scenario.sessions = vec![session(
        "alice",
        ReadYourWrites::WaitForPosition,
        MonotonicReads::None,
    )];
    Preset {
        id: "read-your-writes-position",
        title: "Read-your-writes: wait for my write's position",
        summary: "Alice's reads carry the log index of her last write; follower-2 answers only once it has it, 92 ms later.",
        scenario,
        interventions: ryw_ops(),
    }
}

/// Alice posts at 20 ms; bob reads at 190 ms from follower-1 (it has the comment) and at
/// 220 ms from follower-2 (it does not, until 415 ms).
fn monotonic_ops() -> Vec<Intervention<Node>> {
    vec![
        put(20, 3, "comments", "alice: nice photo!", "post"),
        get(190, 4, 1, "comments", "bob-read-1"),
        get(220, 4, 2, "comments", "bob-read-2"),
    ]
}

fn monotonic_anomaly() -> Preset {
    Preset {
        id: "monotonic-reads-anomaly",
        title: "Monotonic reads violated",
        summary: "Bob sees Alice's comment, refreshes, and it is gone: his second read went to a follower further behind (DDIA Figure 5-4).",
        scenario: comments_scenario(),
        interventions: monotonic_ops(),
    }
}

fn monotonic_sticky_scenario() -> ReplicationScenario {
    let mut scenario = comments_scenario();
    scenario.sessions = vec![session(
        "bob",
        ReadYourWrites::None,
        MonotonicReads::StickyReplica,
    )];
    scenario
}

fn monotonic_sticky() -> Preset {
    Preset {
        id: "monotonic-reads-sticky",
        title: "Monotonic reads: always the same replica",
        summary: "Bob's reads all go to the follower chosen by a hash of his name (follower-1): the comment never disappears.",
        scenario: monotonic_sticky_scenario(),
        interventions: monotonic_ops(),
    }
}

fn monotonic_sticky_crash() -> Preset {
    let mut interventions = monotonic_ops();
    interventions.push(Intervention::new(150, Action::Crash { node: 1 }));
    Preset {
        id: "monotonic-reads-sticky-crash",
        title: "Monotonic reads: the sticky replica crashes",
        summary: "Bob's replica (follower-1) crashes at 150 ms: both his reads go unanswered, though follower-2 is up.",
        scenario: monotonic_sticky_scenario(),
        interventions,
    }
}

fn monotonic_wait_for_position() -> Preset {
    let mut scenario = comments_scenario();
    scenario.sessions = vec![session(
        "bob",
        ReadYourWrites::None,
        MonotonicReads::WaitForPosition,
    )];
    Preset {
        id: "monotonic-reads-position",
        title: "Monotonic reads: wait for the position already read",
        summary: "Bob's second read carries follower-1's log position from his first; follower-2 holds it until it catches up.",
        scenario,
        interventions: monotonic_ops(),
    }
}

/// DDIA Figure 5-5: Mr. Poons's question on one partition, Mrs. Cake's answer on another.
/// Partition 1 (`question`): leader, follower-1 (Frankfurt), follower-2 (Sydney, 400 ms
/// from its leader). Partition 2 (`answer`, or only `weather` when `same_partition`):
/// leader-2, follower-3 (Frankfurt), follower-4 (Sydney, 140 ms from its leader). Clients
/// poons, cake (Frankfurt) and observer (Sydney, 3 ms from both Sydney followers).
/// Node ids: leader 0, follower-1 1, follower-2 2, leader-2 3, follower-3 4, follower-4 5,
/// poons 6, cake 7, observer 8.
pub fn poons_cake_scenario(same_partition: bool) -> ReplicationScenario {
    ReplicationScenario {
        seed: 5,
        duration_ms: 1_000,
        mode: "async".into(),
        k: 1,
        leader: place("leader", "Frankfurt"),
        followers: vec![
            place("follower-1", "Frankfurt"),
            place("follower-2", "Sydney"),
        ],
        clients: vec![
            place("poons", "Frankfurt"),
            place("cake", "Frankfurt"),
            place("observer", "Sydney"),
        ],
        latency_ms: 10,
        jitter_ms: 0,
        links: vec![
            link("leader", "follower-2", 400),
            link("leader-2", "follower-4", 140),
            link("observer", "follower-2", 3),
            link("observer", "follower-4", 3),
        ],
        loss: 0.0,
        retransmit_ms: 1_000,
        partitions: vec![PartitionSpec {
            leader: place("leader-2", "Frankfurt"),
            followers: vec![
                place("follower-3", "Frankfurt"),
                place("follower-4", "Sydney"),
            ],
            keys: vec![if same_partition { "weather" } else { "answer" }.into()],
        }],
        sessions: Vec::new(),
    }
}

/// Poons asks at 20 ms; Cake reads the question at 50 ms and answers at 80 ms; the
/// observer reads the answer at 240 ms and the question at 250 ms, from Sydney.
fn prefix_ops(answer_replica: usize) -> Vec<Intervention<Node>> {
    vec![
        put(
            20,
            6,
            "question",
            "How far into the future can you see, Mrs. Cake?",
            "question",
        ),
        get(50, 7, 1, "question", "cake-reads"),
        put(
            80,
            7,
            "answer",
            "About ten seconds usually, Mr. Poons.",
            "answer",
        ),
        get(240, 8, answer_replica, "answer", "observer-answer"),
        get(250, 8, 2, "question", "observer-question"),
    ]
}

fn prefix_anomaly() -> Preset {
    Preset {
        id: "consistent-prefix-anomaly",
        title: "Consistent prefix violated",
        summary: "The question and the answer live on two partitions; an observer in Sydney sees the answer before the question (DDIA Figure 5-5).",
        scenario: poons_cake_scenario(false),
        interventions: prefix_ops(5),
    }
}

fn prefix_same_partition() -> Preset {
    Preset {
        id: "consistent-prefix-same-partition",
        title: "Consistent prefix: causally related writes on one partition",
        summary: "The answer is written to the question's partition: one log orders them, and the observer never sees the answer alone — but one leader now takes every write of the conversation.",
        scenario: poons_cake_scenario(true),
        interventions: prefix_ops(2),
    }
}
