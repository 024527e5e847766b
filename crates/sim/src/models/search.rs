//! Pieces of the randomized fault searches that do not depend on the protocol: a random
//! network fault with its repair, and shrinking a failing schedule to the interventions it
//! needs. Used by [`super::raft::explore`] and [`super::paxos::explore`].

use crate::engine::{Action, Intervention, Protocol};
use crate::network::Latency;
use crate::{NodeId, Time};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The network noise a search gives the run of `seed`: a loss rate (0–10 %, in half the
/// runs) and jitter (0–20 simulated ms), drawn from `seed ^ salt` (each search has its own
/// salt, so the same seed gives different searches different noise).
pub fn network_noise(seed: u64, salt: u64) -> (f64, Time) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ salt);
    let loss = if rng.random_bool(0.5) {
        rng.random_range(0.0..0.1)
    } else {
        0.0
    };
    (loss, rng.random_range(0..=20))
}

/// A random network fault among `nodes` nodes at `now`, and its repair: the fault to apply
/// now, and `(when, action)` to undo it. One of: a partition into two random sides (healed
/// within 100–1,000 ms), a cut link or a slow link (40–300 ms, with jitter; repaired within
/// 100–800 ms). `None` when there are fewer than two nodes. Any protocol.
pub fn network_fault<P: Protocol>(
    rng: &mut impl Rng,
    nodes: usize,
    now: Time,
) -> Option<(Action<P>, Time, Action<P>)> {
    if nodes < 2 {
        return None;
    }
    if rng.random_bool(0.5) {
        let mut side: Vec<NodeId> = (0..nodes).filter(|_| rng.random_bool(0.5)).collect();
        if side.is_empty() || side.len() == nodes {
            side = vec![rng.random_range(0..nodes)];
        }
        let other: Vec<NodeId> = (0..nodes).filter(|i| !side.contains(i)).collect();
        let heal = now + rng.random_range(100..1_000);
        return Some((
            Action::Partition {
                groups: vec![side, other],
            },
            heal,
            Action::Heal,
        ));
    }
    let a = rng.random_range(0..nodes);
    let b = (a + rng.random_range(1..nodes)) % nodes;
    let until = now + rng.random_range(100..800);
    Some(if rng.random_bool(0.5) {
        (
            Action::CutLink { a, b },
            until,
            Action::RestoreLink { a, b },
        )
    } else {
        (
            Action::SetLinkDelay {
                a,
                b,
                latency: Some(Latency {
                    base_ms: rng.random_range(40..300),
                    jitter_ms: rng.random_range(0..100),
                }),
            },
            until,
            Action::SetLinkDelay {
                a,
                b,
                latency: None,
            },
        )
    })
}

/// Removes interventions one at a time (last first, in passes until nothing more can go)
/// while `fails` still holds, so every intervention left is needed. Any protocol.
pub fn shrink_by<P: Protocol>(
    mut interventions: Vec<Intervention<P>>,
    mut fails: impl FnMut(&[Intervention<P>]) -> bool,
) -> Vec<Intervention<P>> {
    // Passes until none removes anything: dropping one intervention can make another
    // unnecessary.
    loop {
        let before = interventions.len();
        let mut i = interventions.len();
        while i > 0 {
            i -= 1;
            let mut fewer = interventions.clone();
            fewer.remove(i);
            if fails(&fewer) {
                interventions = fewer;
            }
        }
        if interventions.len() == before {
            return interventions;
        }
    }
}
