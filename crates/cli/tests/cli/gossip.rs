//! `distlab lesson show gossip`: the spread of each step's update, the closed-form
//! expectation only where it applies (fanout 1, no loss), and the challenge's verdict.

use crate::common::{distlab, stderr, stdout};

#[test]
fn show_gossip_steps_give_the_curve_and_the_expectation() {
    let o = distlab(&["lesson", "show", "gossip", "--step", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("64 nodes, push, fanout 1, loss 0 %"), "{out}");
    assert!(out.contains("informed per round 1 2 3 6 12"), "{out}");
    assert!(out.contains("all 64 live nodes after 10 rounds"), "{out}");
    assert!(
        out.contains("log₂ n + ln n = 10.2 rounds (Pittel 1987)"),
        "{out}"
    );
    let o = distlab(&["lesson", "show", "gossip", "--step", "9"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("all 32 live nodes after 13 rounds"), "{out}");
    assert!(
        !out.contains("expected:"),
        "no closed form with loss: {out}"
    );
    assert!(out.contains("all-informed — not met"), "{out}");
}
