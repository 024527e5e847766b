//! Ready-made quorum runs for the page and the lessons. Each is a scenario plus
//! interventions; what each one claims is tested in `crates/sim/tests/sim/quorum.rs`.
//! Replicas are `r1…` (ids 0…), clients follow; the key is `x` throughout, whose ring
//! order with 3 replicas is r3, r1, r2 and with 4 replicas r4, r1, r2, r3 (see
//! [`super::ring_order`]); the presets pick their roles from that order.

use super::{labelled, read, ring_order, write, Consistency, Node, QuorumScenario};
use crate::engine::{Action, Intervention};
use crate::network::Latency;
use crate::NodeId;

/// A named run.
#[derive(Clone, Debug)]
pub struct Preset {
    /// The id the page's address uses, e.g. `"strict-quorum"`.
    pub id: &'static str,
    pub title: &'static str,
    /// What to watch for, in a sentence or two.
    pub summary: &'static str,
    pub scenario: QuorumScenario,
    pub interventions: Vec<Intervention<Node>>,
}

/// Every preset, in teaching order.
pub fn all() -> Vec<Preset> {
    vec![
        strict_quorum(),
        sloppy_reads(),
        quorum_not_linearizable(),
        read_repair(),
        hinted_handoff(),
        abd(),
        cap_ap(),
        cap_cp(),
    ]
}

/// The preset with this id.
pub fn by_id(id: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.id == id)
}

fn link(a: &str, b: &str, ms: u64) -> super::NamedLink {
    super::NamedLink {
        a: a.into(),
        b: b.into(),
        ms,
        jitter_ms: 0,
    }
}

fn name(i: NodeId) -> String {
    format!("r{}", i + 1)
}

/// n = 3, w = 2, r = 2: sequential writes and reads; every read sees the latest write.
pub fn strict_quorum() -> Preset {
    let mut s = QuorumScenario::cluster(3, &[0, 1]);
    s.links = vec![link("r1", "r3", 80), link("r2", "r3", 80)];
    let (c1, c2) = (3, 4);
    Preset {
        id: "strict-quorum",
        title: "Strict quorum: w + r > n",
        summary: "n = 3, w = 2, r = 2, and r3 is far away. Each write is acknowledged by two replicas and each read asks two: every read quorum meets every write quorum, so every read returns the latest acknowledged write — without waiting for r3.",
        scenario: s,
        interventions: vec![
            labelled(write(0, c1, "x", "1"), "c1 writes x=1"),
            labelled(read(100, c2, "x"), "c2 reads x"),
            labelled(write(200, c1, "x", "2"), "c1 writes x=2"),
            labelled(read(300, c2, "x"), "c2 reads x again"),
            labelled(read(400, c1, "x"), "c1 reads x"),
            labelled(write(500, c2, "x", "3"), "c2 writes x=3"),
            labelled(read(600, c1, "x"), "c1 reads x again"),
        ],
    }
}

/// n = 3, w = 1, r = 1 with a slow replica: a stale read after an acknowledged write.
pub fn sloppy_reads() -> Preset {
    let mut s = QuorumScenario::cluster(3, &[0, 2]);
    s.w = 1;
    s.r = 1;
    s.links = vec![link("r1", "r3", 300), link("r2", "r3", 300)];
    let (c1, c2) = (3, 4);
    Preset {
        id: "sloppy-reads",
        title: "w + r ≤ n: stale reads",
        summary: "n = 3, w = 1, r = 1, and r3 is 300 ms away from the others. c1's write is acknowledged as soon as r1 has stored it; c2's read is answered by r3 alone, which has not heard of it yet: a stale read. Later, once the write reaches r3, reads see it.",
        scenario: s,
        interventions: vec![
            labelled(write(0, c1, "x", "1"), "c1 writes x=1"),
            labelled(read(50, c2, "x"), "c2 reads x (stale)"),
            labelled(read(600, c2, "x"), "c2 reads x later"),
        ],
    }
}

/// The four replicas of DDIA Figure 9-6's runs: `x`'s preference list `pa, pb, pc` and an
/// outsider `o` that coordinates the writer; the writer, reader A (home `pa`) and reader
/// B (home `pc`). Returns the scenario, the roles and the slow-link interventions (at
/// 100 ms, once the first write is done): o–pb 100 ms, o–pc 400 ms; pa–pc is 30 ms.
fn figure_9_6_network(
    consistency: Consistency,
) -> (QuorumScenario, [NodeId; 7], Vec<Intervention<Node>>) {
    let ring = ring_order("x", 4);
    let (pa, pb, pc, o) = (ring[0], ring[1], ring[2], ring[3]);
    let mut s = QuorumScenario::cluster(4, &[o, pa, pc]);
    s.clients[0].name = "writer".into();
    s.clients[1].name = "A".into();
    s.clients[2].name = "B".into();
    s.consistency = consistency;
    s.w = 3;
    s.r = 2;
    s.timeout_ms = 1_000;
    s.duration_ms = 1_500;
    s.links = vec![link(&name(pa), &name(pc), 30)];
    let (wr, a, b) = (4, 5, 6);
    let slow = |x: NodeId, ms: u64| {
        Intervention::new(
            100,
            Action::SetLinkDelay {
                a: o,
                b: x,
                latency: Some(Latency {
                    base_ms: ms,
                    jitter_ms: 0,
                }),
            },
        )
    };
    (
        s,
        [pa, pb, pc, o, wr, a, b],
        vec![
            labelled(write(0, wr, "x", "0"), "writer sets x=0"),
            slow(pb, 100),
            slow(pc, 400),
        ],
    )
}

/// The roles of [`quorum_not_linearizable`] and [`abd`]: `[pa, pb, pc, o, writer, A, B]`.
pub fn figure_9_6_roles() -> [NodeId; 7] {
    figure_9_6_network(Consistency::Eventual).1
}

/// DDIA Figure 9-6: w + r > n and still not linearizable.
pub fn quorum_not_linearizable() -> Preset {
    let (s, [_, _, _, _, wr, a, b], mut ivs) = figure_9_6_network(Consistency::Eventual);
    ivs.extend([
        labelled(write(200, wr, "x", "1"), "writer sets x=1"),
        labelled(read(230, a, "x"), "A reads x"),
        labelled(read(280, b, "x"), "B reads x"),
    ]);
    Preset {
        id: "quorum-not-linearizable",
        title: "A quorum is not linearizable (DDIA Figure 9-6)",
        summary: "n = 3, w = 3, r = 2 (w + r > n). The write of x=1 has reached only r4 when A reads from r4 and r1 and sees x=1. B starts after A has returned, reads from r2 and r1 — which the write has not reached — and sees x=0: the value went back in time. No read repair, and the write is still in flight.",
        scenario: s,
        interventions: ivs,
    }
}

/// The same network and situation in linearizable mode (ABD).
pub fn abd() -> Preset {
    let (s, [_, _, _, _, wr, a, b], mut ivs) = figure_9_6_network(Consistency::Linearizable);
    // ABD's write first queries a majority (o–pb is 100 ms away), so its store reaches pa
    // at 420 ms: the reads come when the situation is Figure 9-6's again.
    ivs.extend([
        labelled(write(200, wr, "x", "1"), "writer sets x=1"),
        labelled(read(430, a, "x"), "A reads x"),
        labelled(read(500, b, "x"), "B reads x"),
    ]);
    Preset {
        id: "abd",
        title: "Linearizable quorums (ABD)",
        summary: "Figure 9-6's network in linearizable mode. The writer first asks a majority for the highest version, then stores x=1 with a higher one. When A reads, only r4 has it — as before — but A writes x=1 back to a majority before returning, so B, reading r2 and r1, sees x=1 too.",
        scenario: s,
        interventions: ivs,
    }
}

/// Read repair fixes a replica that missed a write.
pub fn read_repair() -> Preset {
    let mut s = QuorumScenario::cluster(3, &[0]);
    s.read_repair = true;
    let c1 = 3;
    Preset {
        id: "read-repair",
        title: "Read repair",
        summary: "r3 is cut off while c1 writes x=1 (w = 2: r1 and r2 acknowledge). After healing, r3 still holds nothing for x. c1's read asks all three; r3 answers with nothing, and the coordinator sends it the newest version: r3 is repaired.",
        scenario: s,
        interventions: vec![
            Intervention::new(
                0,
                Action::Partition {
                    groups: vec![vec![2], vec![0, 1, 3]],
                },
            ),
            labelled(write(10, c1, "x", "1"), "c1 writes x=1"),
            Intervention::new(100, Action::Heal),
            labelled(read(200, c1, "x"), "c1 reads x"),
        ],
    }
}

/// The replicas of [`hinted_handoff`]: `[coordinator, acking replica, partitioned
/// replica, fallback]`.
pub fn hinted_handoff_roles() -> [NodeId; 4] {
    let ring = ring_order("x", 4);
    [ring[0], ring[1], ring[2], ring[3]]
}

/// A sloppy quorum: the write succeeds through a fallback; the hint is delivered later.
pub fn hinted_handoff() -> Preset {
    let [home, _, away, _] = hinted_handoff_roles();
    let mut s = QuorumScenario::cluster(4, &[home]);
    s.w = 3;
    s.sloppy_quorum = true;
    s.duration_ms = 800;
    let c1 = 4;
    let others: Vec<NodeId> = (0..5).filter(|&i| i != away).collect();
    Preset {
        id: "hinted-handoff",
        title: "Sloppy quorum and hinted handoff",
        summary: "n = 3, w = 3, four replicas. r2, one of x's three replicas, is partitioned away. After 50 ms without its ack, the coordinator sends the write to r3 — the next replica on the ring — with a hint naming r2; r3's ack completes the quorum. r3 keeps trying to hand the write to r2, and succeeds once the partition heals.",
        scenario: s,
        interventions: vec![
            Intervention::new(
                0,
                Action::Partition {
                    groups: vec![vec![away], others],
                },
            ),
            labelled(write(10, c1, "x", "1"), "c1 writes x=1"),
            Intervention::new(300, Action::Heal),
        ],
    }
}

/// The CAP presets' scenario: 3 replicas, client cA on r1 (the minority side), cB on r2
/// (with r3, the majority side); partitioned from 0 to 1,300 ms; each client writes and
/// reads twice.
fn cap(consistency: Consistency) -> (QuorumScenario, Vec<Intervention<Node>>) {
    let mut s = QuorumScenario::cluster(3, &[0, 1]);
    s.clients[0].name = "cA".into();
    s.clients[1].name = "cB".into();
    s.consistency = consistency;
    s.timeout_ms = 200;
    s.duration_ms = 1_600;
    if consistency == Consistency::Eventual {
        s.w = 1;
        s.r = 1;
        s.sloppy_quorum = true;
        s.anti_entropy_ms = Some(100);
    }
    let (ca, cb) = (3, 4);
    let ivs = vec![
        Intervention::new(
            0,
            Action::Partition {
                groups: vec![vec![0, ca], vec![1, 2, cb]],
            },
        ),
        labelled(write(100, ca, "x", "a1"), "cA writes x=a1"),
        labelled(write(150, cb, "x", "b1"), "cB writes x=b1"),
        labelled(read(400, ca, "x"), "cA reads x"),
        labelled(read(450, cb, "x"), "cB reads x"),
        labelled(write(700, ca, "x", "a2"), "cA writes x=a2"),
        labelled(write(750, cb, "x", "b2"), "cB writes x=b2"),
        labelled(read(1_000, ca, "x"), "cA reads x again"),
        labelled(read(1_050, cb, "x"), "cB reads x again"),
        Intervention::new(1_300, Action::Heal),
    ];
    (s, ivs)
}

/// CAP, available: both sides serve everything, and disagree.
pub fn cap_ap() -> Preset {
    let (s, ivs) = cap(Consistency::Eventual);
    Preset {
        id: "cap-ap",
        title: "CAP: available under partition (AP)",
        summary: "r1 and its client cA are cut off from r2, r3 and cB. With w = 1, r = 1 (eventual, sloppy quorum — with n = 3 replicas there is no fallback to hand to) every request on both sides is served, but cA reads its own side's values although cB's newer writes were acknowledged: stale, conflicting data. After healing, anti-entropy keeps the higher version and cA's last write is lost.",
        scenario: s,
        interventions: ivs,
    }
}

/// CAP, consistent: the minority side refuses everything.
pub fn cap_cp() -> Preset {
    let (s, ivs) = cap(Consistency::Linearizable);
    Preset {
        id: "cap-cp",
        title: "CAP: consistent under partition (CP)",
        summary: "The same partition in linearizable mode (ABD, majorities of 3). cB's side has two replicas, a majority: every request is served. cA's side has one: r1 cannot reach a majority, so every request there times out — refused rather than answered inconsistently.",
        scenario: s,
        interventions: ivs,
    }
}
