//! Ready-made replication scenarios for the free lab (`/lab/:preset`).

use super::{write, Node, Place, ReplicationScenario, Request};
use crate::{Action, Intervention};

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
    vec![three_cities(), busy_cluster()]
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
