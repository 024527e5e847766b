//! Ready-made 2PC / 3PC runs, each a scenario and its interventions, with the outcome it
//! shows (tested in `tests/sim/twopc.rs`). Times assume the default 10 ms latency: with
//! T1 begun at 0, writes arrive at 10, `done` at 20, prepare at 30 (participants vote and
//! are in doubt from then), votes at 40 (the decision), commit at 50, acks at 60. In 3PC,
//! pre-commit arrives at 50, its acks at 60, do-commit at 70.

use super::{
    Broken, CommitProtocol, Node, ParticipantSpec, TwoPcScenario, TxnSpec, Vote, WriteSpec,
};
use crate::engine::{Action, Intervention};

/// A ready-made run.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    /// E.g. `"happy-commit"`.
    pub id: &'static str,
    pub title: &'static str,
    /// What it shows, in a sentence or two.
    pub about: &'static str,
    pub scenario: TwoPcScenario,
    pub interventions: Vec<Intervention<Node>>,
}

/// Every preset id, in order.
pub const IDS: [&str; 10] = [
    "happy-commit",
    "vote-no",
    "vote-timeout",
    "coordinator-crash-before-decision",
    "coordinator-crash-after-decision",
    "participant-crash-after-yes",
    "three-phase-commit",
    "three-phase-partition",
    "broken-decide-on-timeout",
    "broken-send-before-log",
];

/// The coordinator (node 0), `shard-a` (1, alice = 500) and `shard-b` (2, bob = 100);
/// T1 at 0 moves 100 from alice to bob.
pub fn transfer() -> TwoPcScenario {
    let mut s = TwoPcScenario::basic(0, 0);
    s.participants = vec![
        ParticipantSpec::new("shard-a", &[("alice", 500)]),
        ParticipantSpec::new("shard-b", &[("bob", 100)]),
    ];
    s.transactions = vec![TxnSpec::new(
        "T1",
        0,
        vec![
            WriteSpec::new("shard-a", "alice", -100),
            WriteSpec::new("shard-b", "bob", 100),
        ],
    )];
    s
}

fn iv(at: u64, action: Action<Node>) -> Intervention<Node> {
    Intervention::new(at, action)
}

fn cut_b_from_coordinator(at: u64) -> Intervention<Node> {
    iv(
        at,
        Action::Partition {
            groups: vec![vec![0, 1], vec![2]],
        },
    )
}

/// The preset `id`, or `None`.
pub fn get(id: &str) -> Option<Preset> {
    let p = |id, title, about, scenario, interventions| Preset {
        id,
        title,
        about,
        scenario,
        interventions,
    };
    Some(match id {
        "happy-commit" => p(
            "happy-commit",
            "Both vote yes: commit",
            "T1 moves 100 from alice (shard-a) to bob (shard-b): prepare, two yes votes, the COMMIT record, commit, acks, END.",
            transfer(),
            vec![],
        ),
        "vote-no" => {
            let mut s = transfer();
            s.participants[1].vote = Vote::No;
            p(
                "vote-no",
                "A participant votes no: abort",
                "shard-b votes no and aborts at once; the coordinator decides abort and tells shard-a, which undoes its work.",
                s,
                vec![],
            )
        }
        "vote-timeout" => p(
            "vote-timeout",
            "A vote never arrives: abort on timeout",
            "The link to shard-b is cut after its work is done: no prepare reaches it. The coordinator aborts after vote_timeout_ms; shard-b, never asked to prepare, aborts unilaterally after prepare_timeout_ms.",
            transfer(),
            vec![
                iv(25, Action::CutLink { a: 0, b: 2 }),
                iv(400, Action::RestoreLink { a: 0, b: 2 }),
            ],
        ),
        "coordinator-crash-before-decision" => {
            let mut s = transfer();
            s.duration_ms = 800;
            p(
                "coordinator-crash-before-decision",
                "The coordinator crashes after sending prepare",
                "Both participants vote yes and are in doubt; the coordinator crashes before the votes arrive. They hold their locks and ask, unanswered, until it restarts at 300 ms with no record of T1: presumed abort.",
                s,
                vec![
                    iv(35, Action::Crash { node: 0 }),
                    iv(300, Action::Restart { node: 0 }),
                ],
            )
        }
        "coordinator-crash-after-decision" => {
            let mut s = transfer();
            s.duration_ms = 1_500;
            s.prepare_timeout_ms = 1_000;
            s.transactions.push(TxnSpec::new(
                "T2",
                15,
                vec![WriteSpec::new("shard-b", "bob", -30)],
            ));
            p(
                "coordinator-crash-after-decision",
                "The coordinator crashes after deciding commit",
                "The COMMIT record is written at 40 ms; shard-a gets commit, but shard-b is cut off and the coordinator crashes. shard-b stays in doubt, holding bob's lock (T2 waits behind it), until the coordinator restarts at 400 ms and re-sends commit from its log.",
                s,
                vec![
                    cut_b_from_coordinator(45),
                    iv(45, Action::Crash { node: 0 }),
                    iv(100, Action::Heal),
                    iv(400, Action::Restart { node: 0 }),
                ],
            )
        }
        "participant-crash-after-yes" => p(
            "participant-crash-after-yes",
            "A participant crashes after voting yes",
            "shard-b votes yes and crashes; the coordinator commits and re-sends commit to it. Restarted at 200 ms, shard-b finds PREPARED in its log, is in doubt again, re-takes its lock, asks, and commits.",
            transfer(),
            vec![
                iv(35, Action::Crash { node: 2 }),
                iv(200, Action::Restart { node: 2 }),
            ],
        ),
        "three-phase-commit" => {
            let mut s = transfer();
            s.protocol = CommitProtocol::ThreePhase;
            p(
                "three-phase-commit",
                "Three-phase commit without failures",
                "can-commit?, yes, pre-commit, ack, do-commit, ack: one more round trip than 2PC.",
                s,
                vec![],
            )
        }
        "three-phase-partition" => {
            let mut s = transfer();
            s.protocol = CommitProtocol::ThreePhase;
            p(
                "three-phase-partition",
                "3PC under a partition: atomicity lost",
                "A partition cuts shard-b off after both voted yes. shard-a is pre-committed and commits (on do-commit, or its timeout); shard-b, uncertain, times out and aborts. T1 commits at one shard and aborts at the other.",
                s,
                vec![cut_b_from_coordinator(45), iv(600, Action::Heal)],
            )
        }
        "broken-decide-on-timeout" => {
            let mut s = transfer();
            s.broken.insert(Broken::DecideOnTimeout);
            p(
                "broken-decide-on-timeout",
                "Broken 2PC: an in-doubt participant gives up",
                "As the coordinator crash after the decision, but shard-b aborts after prepare_timeout_ms in doubt. shard-a has committed: atomicity lost.",
                s,
                vec![
                    cut_b_from_coordinator(45),
                    iv(45, Action::Crash { node: 0 }),
                    iv(100, Action::Heal),
                    iv(400, Action::Restart { node: 0 }),
                ],
            )
        }
        "broken-send-before-log" => {
            let mut s = transfer();
            s.broken.insert(Broken::SendBeforeLog);
            p(
                "broken-send-before-log",
                "Broken 2PC: commit sent before it is durable",
                "The coordinator sends commit before writing COMMIT, then crashes. Restarted, it has no record of T1; shard-b, which missed the commit, asks and is told abort (presumed abort), while shard-a committed.",
                s,
                vec![
                    cut_b_from_coordinator(45),
                    iv(45, Action::Crash { node: 0 }),
                    iv(100, Action::Heal),
                    iv(200, Action::Restart { node: 0 }),
                ],
            )
        }
        _ => return None,
    })
}

/// Every preset, in [`IDS`] order.
pub fn all() -> Vec<Preset> {
    IDS.iter().filter_map(|id| get(id)).collect()
}
