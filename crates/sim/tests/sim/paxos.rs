//! Single-decree Paxos as in "Paxos Made Simple": the rules as tables (promise or nack,
//! accept or nack, the value a proposer picks), whole runs (a value chosen and learned, a
//! later proposer adopting it, duelling proposers livelocking without backoff and settling
//! with it), the monitor and the analysis, and the randomized search catching each "broken
//! Paxos" variant.

use distlab_sim::engine::{Action, Ctx, Engine, Intervention};
use distlab_sim::models::paxos::analysis::{analyze, Abandoned, Analysis};
use distlab_sim::models::paxos::explore::{explore, random_schedule, scenario_for};
use distlab_sim::models::paxos::monitor::{run_checked, Monitor, Property};
use distlab_sim::models::paxos::{
    pick_value, Acceptor, Ballot, Broken, Config, Learner, Msg, Node, Operator, PaxosScenario,
    Phase, Proposer, ProposerSpec, Timer, View,
};
use distlab_sim::models::scenario::NamedLink;
use distlab_sim::models::{EngineModel, Paxos};
use distlab_sim::{Describe, Protocol};
use std::collections::BTreeSet;

/// Proposers 0 and 1, acceptors 2–4, learners 5 and 6.
fn config(broken: &[Broken], backoff_ms: u64) -> Config {
    Config {
        acceptors: vec![2, 3, 4],
        learners: vec![5, 6],
        retry_ms: 200,
        backoff_ms,
        broken: broken.iter().copied().collect(),
    }
}

fn b(round: u64, proposer: usize) -> Ballot {
    Ballot::new(round, proposer)
}

fn acc(round: u64, proposer: usize, v: &str) -> Option<(Ballot, String)> {
    Some((b(round, proposer), v.to_string()))
}

/// Delivers `msg` from `from` to node `me`; returns the messages it sends.
fn deliver(node: &mut Node, me: usize, from: usize, msg: Msg) -> Vec<(usize, Msg)> {
    let mut ctx = Ctx::detached(me, 1_000);
    node.on_message(from, msg, &mut ctx);
    sent(&ctx)
}

fn sent(ctx: &Ctx<Node>) -> Vec<(usize, Msg)> {
    ctx.sent()
        .into_iter()
        .map(|(to, m)| (to, m.clone()))
        .collect()
}

fn acceptor(
    promised: Option<Ballot>,
    accepted: Option<(Ballot, String)>,
    broken: &[Broken],
) -> Node {
    let mut a = Acceptor::new(config(broken, 0));
    a.promised = promised;
    a.accepted = accepted;
    Node::Acceptor(a)
}

fn acceptor_state(n: &Node) -> (Option<Ballot>, Option<(Ballot, String)>) {
    match n {
        Node::Acceptor(a) => (a.promised, a.accepted.clone()),
        _ => unreachable!(),
    }
}

#[test]
fn acceptor_promises_only_above_its_promise() {
    // (promised, accepted, Prepare n, promises?): "Paxos Made Simple" §2.2, phase 1b —
    // strictly greater than any prepare already answered; otherwise a nack (§2.3).
    type Row = (Option<Ballot>, Option<(Ballot, String)>, Ballot, bool);
    let rows: Vec<Row> = vec![
        (None, None, b(1, 0), true),
        (Some(b(1, 0)), None, b(1, 1), true), // same round, higher proposer
        (Some(b(1, 1)), None, b(1, 0), false), // same round, lower proposer
        (Some(b(2, 0)), None, b(2, 0), false), // the same ballot again
        (Some(b(2, 0)), acc(2, 0, "A"), b(3, 1), true), // reports what it accepted
        (Some(b(5, 1)), acc(2, 0, "A"), b(3, 1), false),
        (Some(b(5, 1)), acc(4, 1, "B"), b(6, 0), true),
    ];
    for (promised, accepted, n, promises) in rows {
        let mut node = acceptor(promised, accepted.clone(), &[]);
        let out = deliver(&mut node, 2, n.proposer, Msg::Prepare { n });
        assert_eq!(out.len(), 1, "one reply: {out:?}");
        let (to, reply) = &out[0];
        assert_eq!(*to, n.proposer, "the reply goes to the proposer");
        let (p_after, a_after) = acceptor_state(&node);
        if promises {
            assert_eq!(
                *reply,
                Msg::Promise {
                    n,
                    accepted: accepted.clone()
                },
                "promised {promised:?}, prepare {n}"
            );
            assert_eq!(p_after, Some(n), "the promise is raised to n");
        } else {
            assert_eq!(
                *reply,
                Msg::Nack {
                    n,
                    promised: promised.unwrap()
                },
                "promised {promised:?}, prepare {n}"
            );
            assert_eq!(p_after, promised, "a nack changes nothing");
        }
        assert_eq!(
            a_after, accepted,
            "a prepare never changes what was accepted"
        );
    }
}

#[test]
fn acceptor_accepts_unless_it_promised_higher() {
    // (promised, Accept n, accepts?, accepts when promise-check is broken): phase 2b,
    // n ≥ promised.
    let rows: &[(Option<Ballot>, Ballot, bool)] = &[
        (None, b(1, 0), true), // no prepare seen (allowed: n ≥ nothing)
        (Some(b(1, 0)), b(1, 0), true),
        (Some(b(1, 0)), b(2, 1), true), // above the promise: accepted, promise raised
        (Some(b(2, 1)), b(2, 0), false),
        (Some(b(3, 0)), b(2, 1), false),
    ];
    for &(promised, n, accepts) in rows {
        for broken in [vec![], vec![Broken::PromiseCheck]] {
            let before = acc(1, 1, "old");
            let mut node = acceptor(promised, before.clone(), &broken);
            let out = deliver(
                &mut node,
                3,
                n.proposer,
                Msg::Accept {
                    n,
                    value: "V".into(),
                },
            );
            let (p_after, a_after) = acceptor_state(&node);
            let accepts = accepts || !broken.is_empty();
            let what = format!("promised {promised:?}, accept {n}, broken {broken:?}");
            if accepts {
                let msg = Msg::Accepted {
                    n,
                    value: "V".into(),
                };
                assert_eq!(
                    out,
                    vec![(n.proposer, msg.clone()), (5, msg.clone()), (6, msg)],
                    "{what}: accepted goes to the proposer and every learner"
                );
                assert_eq!(a_after, Some((n, "V".to_string())), "{what}");
                assert_eq!(p_after, promised.max(Some(n)), "{what}");
            } else {
                assert_eq!(
                    out,
                    vec![(
                        n.proposer,
                        Msg::Nack {
                            n,
                            promised: promised.unwrap()
                        }
                    )],
                    "{what}"
                );
                assert_eq!((p_after, a_after), (promised, before), "{what}");
            }
        }
    }
}

#[test]
fn value_selection_adopts_the_highest_accepted_proposal() {
    // (the promises' accepted proposals, expected value, adopted from): P2c.
    type Row = (Vec<Option<(Ballot, String)>>, &'static str, Option<Ballot>);
    let rows: Vec<Row> = vec![
        (vec![None, None], "own", None),
        (vec![None, acc(1, 0, "A")], "A", Some(b(1, 0))),
        (vec![acc(1, 0, "A"), acc(2, 1, "B")], "B", Some(b(2, 1))),
        (
            vec![acc(2, 1, "B"), acc(1, 0, "A"), None],
            "B",
            Some(b(2, 1)),
        ),
        (vec![acc(3, 0, "A"), acc(3, 1, "C")], "C", Some(b(3, 1))), // proposer breaks the tie
        (vec![acc(4, 0, "A"), acc(3, 1, "C")], "A", Some(b(4, 0))), // round first
    ];
    for (promises, want, from) in &rows {
        assert_eq!(
            pick_value(promises, "own"),
            (want.to_string(), *from),
            "{promises:?}"
        );
    }
    // The same through a proposer in phase 1: it sends Accept with that value once a
    // majority (2 of 3) promised, to every acceptor; broken, it sends its own value.
    for broken in [vec![], vec![Broken::AdoptAcceptedValue]] {
        for (promises, want, from) in &rows {
            let mut node = Node::Proposer(Proposer::new(config(&broken, 0), 1, 0));
            let mut ctx = Ctx::detached(0, 0);
            node.on_command(
                Operator::Propose {
                    value: "own".into(),
                },
                &mut ctx,
            );
            let n = b(1, 0);
            assert_eq!(
                sent(&ctx),
                vec![
                    (2, Msg::Prepare { n }),
                    (3, Msg::Prepare { n }),
                    (4, Msg::Prepare { n })
                ]
            );
            let mut out = Vec::new();
            for (k, p) in promises.iter().take(2).enumerate() {
                out = deliver(
                    &mut node,
                    0,
                    2 + k,
                    Msg::Promise {
                        n,
                        accepted: p.clone(),
                    },
                );
                if k == 0 {
                    assert!(out.is_empty(), "no majority after one promise");
                }
            }
            let (want, from) = if broken.is_empty() {
                (*want, *from)
            } else {
                ("own", None)
            };
            let accept = Msg::Accept {
                n,
                value: want.into(),
            };
            assert_eq!(
                out,
                vec![(2, accept.clone()), (3, accept.clone()), (4, accept)],
                "{promises:?}, broken {broken:?}"
            );
            let Node::Proposer(p) = &node else {
                unreachable!()
            };
            assert_eq!((p.phase, p.adopted_from), (Phase::Accepting, from));
        }
    }
}

#[test]
fn a_nack_abandons_the_ballot_and_the_retry_goes_higher() {
    // Without backoff: a new Prepare at once, above the round the nack reported.
    let mut node = Node::Proposer(Proposer::new(config(&[], 0), 1, 0));
    let mut ctx = Ctx::detached(0, 0);
    node.on_command(Operator::Propose { value: "A".into() }, &mut ctx);
    let out = deliver(
        &mut node,
        0,
        2,
        Msg::Nack {
            n: b(1, 0),
            promised: b(7, 1),
        },
    );
    assert_eq!(out.len(), 3);
    assert!(
        out.iter().all(|(_, m)| *m == Msg::Prepare { n: b(8, 0) }),
        "{out:?}"
    );
    // A stale nack (for the abandoned ballot) changes nothing.
    assert!(deliver(
        &mut node,
        0,
        3,
        Msg::Nack {
            n: b(1, 0),
            promised: b(7, 1)
        }
    )
    .is_empty());
    // Promises and acceptances for an old ballot are ignored.
    assert!(deliver(
        &mut node,
        0,
        3,
        Msg::Promise {
            n: b(1, 0),
            accepted: None
        }
    )
    .is_empty());

    // With backoff: it waits (no message), then the backoff timer starts the next ballot.
    let mut node = Node::Proposer(Proposer::new(config(&[], 50), 1, 0));
    let mut ctx = Ctx::detached(0, 0);
    node.on_command(Operator::Propose { value: "A".into() }, &mut ctx);
    let out = deliver(
        &mut node,
        0,
        2,
        Msg::Nack {
            n: b(1, 0),
            promised: b(3, 1),
        },
    );
    assert!(out.is_empty(), "backs off first: {out:?}");
    let Node::Proposer(p) = &node else {
        unreachable!()
    };
    assert_eq!(p.phase, Phase::BackingOff);
    let mut ctx = Ctx::detached(0, 30);
    node.on_timer(Timer::Backoff, &mut ctx);
    assert!(sent(&ctx)
        .iter()
        .all(|(_, m)| *m == Msg::Prepare { n: b(4, 0) }));
    // No majority within retry_ms: abandoned too.
    let mut ctx = Ctx::detached(0, 230);
    node.on_timer(Timer::Retry, &mut ctx);
    let Node::Proposer(p) = &node else {
        unreachable!()
    };
    assert_eq!(p.phase, Phase::BackingOff);
}

#[test]
fn crashes_keep_what_paxos_needs_durable() {
    // An acceptor keeps its promise and accepted proposal.
    let mut a = acceptor(Some(b(4, 1)), acc(3, 0, "A"), &[]);
    a.on_crash();
    assert_eq!(acceptor_state(&a), (Some(b(4, 1)), acc(3, 0, "A")));
    // A proposer forgets its attempt but not the highest round it used: it never reuses a
    // ballot.
    let mut node = Node::Proposer(Proposer::new(config(&[], 0), 1, 0));
    let mut ctx = Ctx::detached(0, 0);
    node.on_command(Operator::Propose { value: "A".into() }, &mut ctx);
    node.on_crash();
    let Node::Proposer(p) = &node else {
        unreachable!()
    };
    assert_eq!((p.phase, p.round, p.own.clone()), (Phase::Idle, 1, None));
    let mut ctx = Ctx::detached(0, 100);
    node.on_command(Operator::Propose { value: "B".into() }, &mut ctx);
    assert!(sent(&ctx)
        .iter()
        .all(|(_, m)| *m == Msg::Prepare { n: b(2, 0) }));
    // A learner keeps what it learned.
    let mut l = Learner::new(config(&[], 0));
    for a in [2, 3] {
        deliver_learner(&mut l, a, b(1, 0), "A");
    }
    let mut node = Node::Learner(l);
    node.on_crash();
    let Node::Learner(l) = &node else {
        unreachable!()
    };
    assert_eq!(l.learned, Some((b(1, 0), "A".to_string())));
}

fn deliver_learner(l: &mut Learner, from: usize, n: Ballot, v: &str) {
    let mut node = Node::Learner(l.clone());
    deliver(&mut node, 5, from, Msg::Accepted { n, value: v.into() });
    let Node::Learner(after) = node else {
        unreachable!()
    };
    *l = after;
}

#[test]
fn a_learner_needs_a_majority_in_one_ballot() {
    let mut l = Learner::new(config(&[], 0));
    deliver_learner(&mut l, 2, b(1, 0), "A");
    deliver_learner(&mut l, 3, b(2, 1), "A"); // same value, another ballot: not a majority
    deliver_learner(&mut l, 2, b(1, 0), "A"); // the same acceptor twice counts once
    assert_eq!(l.learned, None);
    deliver_learner(&mut l, 4, b(2, 1), "A");
    assert_eq!(l.learned, Some((b(2, 1), "A".to_string())));
}

fn run(s: &PaxosScenario, ivs: Vec<Intervention<Node>>) -> (Engine<Node>, Analysis) {
    let (e, violations) = run_checked(s.setup().unwrap(), ivs);
    let a = analyze(&e, e.trace().len().checked_sub(1));
    assert_eq!(a.violations, violations, "analysis and monitor agree");
    (e, a)
}

fn learned(e: &Engine<Node>) -> Vec<Option<String>> {
    e.world()
        .nodes
        .iter()
        .filter_map(|n| match n {
            Node::Learner(l) => Some(l.learned.as_ref().map(|(_, v)| v.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_single_proposer_gets_its_value_chosen_and_learned() {
    let mut s = PaxosScenario::basic(3);
    s.learners = vec!["l1".into(), "l2".into()];
    s.acceptors = (1..=5).map(|i| format!("a{i}")).collect();
    let (e, a) = run(&s, Vec::new());
    assert!(a.violations.is_empty(), "{:?}", a.violations);
    let chosen = a.chosen.clone().expect("a value is chosen");
    assert_eq!((chosen.value.as_str(), chosen.ballot), ("A", b(1, 0)));
    assert_eq!(
        chosen.time, 30,
        "three one-way trips of 10 ms: prepare, promise, accept"
    );
    assert_eq!(chosen.acceptors.len(), 3, "a majority of five");
    assert_eq!(learned(&e), vec![Some("A".into()), Some("A".into())]);
    assert!(
        a.learned.iter().all(|l| l.time == 40),
        "one more trip: {:?}",
        a.learned
    );
    let Node::Proposer(p) = &e.world().nodes[0] else {
        unreachable!()
    };
    assert_eq!((p.phase, p.chosen.as_deref()), (Phase::Chosen, Some("A")));
    assert_eq!(a.ballots_of(0), vec![b(1, 0)]);
    assert!(a.preempted.is_empty() && a.adoptions.is_empty());
    assert_eq!(a.learned.len(), 2);
    // The proposer's view says so; message kinds as the diagram styles them.
    assert_eq!(e.world().nodes[0].view().label(), "chosen: A");
    let kinds: BTreeSet<&str> = e
        .trace()
        .iter()
        .flat_map(|ev| ev.sent.iter().map(|m| m.payload.kind()))
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["prepare", "promise", "accept", "accepted"])
    );
}

/// The adoption preset: `p1` proposes A at 0 and it is chosen at 30 ms; `p2` proposes B at
/// 100 ms, in ballot 1.2 (above 1.1: same round, higher proposer). Its promises carry A, so
/// it proposes — and chooses — A.
fn adoption() -> PaxosScenario {
    let mut s = PaxosScenario::basic(0);
    s.proposers = vec![
        ProposerSpec::new("p1", "A", 0),
        ProposerSpec::new("p2", "B", 100),
    ];
    s
}

#[test]
fn a_later_proposer_adopts_the_chosen_value() {
    let (e, a) = run(&adoption(), Vec::new());
    assert!(a.violations.is_empty(), "{:?}", a.violations);
    let Node::Proposer(p2) = &e.world().nodes[1] else {
        unreachable!()
    };
    assert_eq!(p2.own.as_deref(), Some("B"));
    assert_eq!(
        p2.value.as_deref(),
        Some("A"),
        "p2 proposes A, not its own B"
    );
    assert_eq!((p2.phase, p2.chosen.as_deref()), (Phase::Chosen, Some("A")));
    let adopted = a.first_adoption().expect("an adoption");
    assert_eq!(
        (
            adopted.proposer,
            adopted.ballot,
            adopted.from,
            adopted.value.as_str()
        ),
        (1, b(1, 1), b(1, 0), "A")
    );
    assert_eq!(adopted.time, 120, "p2's promises arrive at 120 ms");
    let chosen: Vec<(Ballot, &str)> = a
        .chosen_ballots
        .iter()
        .map(|c| (c.ballot, c.value.as_str()))
        .collect();
    assert_eq!(
        chosen,
        vec![(b(1, 0), "A"), (b(1, 1), "A")],
        "A chosen twice, nothing else"
    );
    assert_eq!(learned(&e), vec![Some("A".into())]);

    // Broken: p2 ignores the promises and B is chosen after A.
    let mut broken = adoption();
    broken.broken = BTreeSet::from([Broken::AdoptAcceptedValue]);
    let (_, a) = run(&broken, Vec::new());
    assert_eq!(a.violations.len(), 1, "{:?}", a.violations);
    assert_eq!(a.violations[0].property, Property::AtMostOneChosen);
    assert!(
        a.violations[0].text.contains("A was chosen in ballot 1.1"),
        "{}",
        a.violations[0].text
    );
    assert!(a.adoptions.is_empty());
}

/// The duel preset: `p1` proposes A at 0 ms, `p2` proposes B at 10 ms; every link takes
/// 10 ms except those between the proposers and the middle acceptor `a2` (1 ms). Without
/// backoff each proposer hears of its preemption from `a2` at once and its new Prepare
/// overtakes the other's Accept at `a1` and `a3`.
fn duel(seed: u64, backoff_ms: u64) -> PaxosScenario {
    let mut s = PaxosScenario::basic(seed);
    s.proposers = vec![
        ProposerSpec::new("p1", "A", 0),
        ProposerSpec::new("p2", "B", 10),
    ];
    let near = |p: &str| NamedLink {
        a: p.into(),
        b: "a2".into(),
        ms: 1,
        jitter_ms: 0,
    };
    s.links = vec![near("p1"), near("p2")];
    s.backoff_ms = backoff_ms;
    s
}

#[test]
fn duelling_proposers_livelock_without_backoff() {
    let (e, a) = run(&duel(0, 0), Vec::new());
    assert!(a.violations.is_empty());
    assert!(a.chosen.is_none(), "nothing chosen in {} ms", e.horizon());
    assert_eq!(learned(&e), vec![None]);
    let per = a.ballots_per_proposer();
    assert!(
        per[&0].len() >= 40 && per[&1].len() >= 40,
        "both keep trying: {} and {} ballots",
        per[&0].len(),
        per[&1].len()
    );
    assert!(a.preempted.len() >= 80, "{} preempted", a.preempted.len());
    assert!(a
        .preempted
        .iter()
        .all(|p| matches!(p.why, Abandoned::Nacked { .. })));
    // Each ballot of one proposer is preempted by a higher ballot of the other.
    let last = a.ballots.last().unwrap();
    assert!(last.time > 950, "still duelling at the end: {last:?}");
    // The start time does not have to be exact: anywhere in 3–19 ms duels the same way.
    for start in [3, 7, 15, 19] {
        let mut s = duel(0, 0);
        s.proposers[1].start_ms = Some(start);
        let (_, a) = run(&s, Vec::new());
        assert!(a.chosen.is_none(), "p2 at {start} ms");
    }
}

#[test]
fn duelling_proposers_with_backoff_choose_one_value() {
    let mut values = BTreeSet::new();
    for seed in 0..30 {
        let (e, a) = run(&duel(seed, 100), Vec::new());
        assert!(a.violations.is_empty(), "seed {seed}: {:?}", a.violations);
        let chosen = a
            .chosen
            .as_ref()
            .unwrap_or_else(|| panic!("seed {seed}: nothing chosen"));
        assert!(
            chosen.time < 300,
            "seed {seed}: chosen at {} ms",
            chosen.time
        );
        assert!(a.chosen_ballots.iter().all(|c| c.value == chosen.value));
        assert_eq!(learned(&e), vec![Some(chosen.value.clone())], "seed {seed}");
        // Both proposers end up knowing the same value.
        for p in &e.world().nodes[..2] {
            let Node::Proposer(p) = p else { unreachable!() };
            assert!(
                p.chosen.is_none() || p.chosen.as_ref() == Some(&chosen.value),
                "seed {seed}"
            );
        }
        assert!(!a.preempted.is_empty(), "seed {seed}: they did duel");
        values.insert(chosen.value.clone());
    }
    assert_eq!(
        values.len(),
        2,
        "which proposer wins depends on the seed: {values:?}"
    );
}

#[test]
fn operator_commands_propose_and_crashes_do_not_break_safety() {
    let mut s = PaxosScenario::basic(2);
    s.proposers = vec![ProposerSpec::idle("p1"), ProposerSpec::idle("p2")];
    let propose = |at, node, v: &str| {
        Intervention::new(
            at,
            Action::Command {
                node,
                command: Operator::Propose { value: v.into() },
            },
        )
    };
    let (e, a) = run(&s, Vec::new());
    assert!(a.chosen.is_none() && a.ballots.is_empty() && e.trace().is_empty());
    // p1 proposes X; an acceptor and p1 crash in phase 2; p2 proposes Y later and the
    // restarted p1 proposes Z: still one value.
    let ivs = vec![
        propose(50, 0, "X"),
        Intervention::new(65, Action::Crash { node: 2 }),
        Intervention::new(65, Action::Crash { node: 0 }),
        propose(200, 1, "Y"),
        Intervention::new(300, Action::Restart { node: 0 }),
        Intervention::new(300, Action::Restart { node: 2 }),
        propose(400, 0, "Z"),
    ];
    let (e, a) = run(&s, ivs);
    assert!(a.violations.is_empty(), "{:?}", a.violations);
    let chosen = a.chosen.clone().expect("chosen");
    assert!(a.chosen_ballots.iter().all(|c| c.value == chosen.value));
    assert_eq!(learned(&e), vec![Some(chosen.value.clone())]);
    // The restarted p1 used a round above the one before its crash.
    let mine = a.ballots_of(0);
    assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
}

#[test]
fn the_monitor_checks_what_was_chosen_and_learned() {
    let names = (0..7).map(|i| format!("n{i}")).collect();
    let mut m = Monitor::new(names);
    let mut p = Proposer::new(config(&[], 0), 1, 0);
    p.own = Some("A".into());
    let accepting = |v: &str, ballot: Ballot| {
        let mut a = Acceptor::new(config(&[], 0));
        a.accepted = Some((ballot, v.into()));
        Node::Acceptor(a)
    };
    let idle = || Node::Acceptor(Acceptor::new(config(&[], 0)));
    let mut learner = Learner::new(config(&[], 0));
    learner.learned = Some((b(1, 0), "A".into()));
    // A learner believing A chosen before a majority accepted it.
    let nodes = vec![
        Node::Proposer(p.clone()),
        Node::Proposer(Proposer::new(config(&[], 0), 1, 1)),
        accepting("A", b(1, 0)),
        idle(),
        idle(),
        Node::Learner(learner),
        Node::Learner(Learner::new(config(&[], 0))),
    ];
    m.check(0, 5, &nodes);
    assert_eq!(m.violations.len(), 1);
    assert_eq!(m.violations[0].property, Property::LearnedIsChosen);
    assert!(m.chosen.is_empty());
    // A value nobody proposed, chosen.
    let mut m = Monitor::new(Vec::new());
    let nodes = vec![
        Node::Proposer(p.clone()),
        accepting("Q", b(1, 0)),
        accepting("Q", b(1, 0)),
        idle(),
    ];
    m.check(3, 7, &nodes);
    assert_eq!(
        m.violations.iter().map(|v| v.property).collect::<Vec<_>>(),
        vec![Property::ChosenWasProposed]
    );
    assert_eq!((m.violations[0].step, m.violations[0].time), (3, 7));
    // Acceptors overwrite; the monitor remembers: A chosen in 1.1 (steps 0–1), B in 2.2 later.
    let mut m = Monitor::new(Vec::new());
    let mut q = Proposer::new(config(&[], 0), 1, 1);
    q.own = Some("B".into());
    let ps = [Node::Proposer(p), Node::Proposer(q)];
    let at = |accs: [Node; 3]| {
        let mut v = ps.to_vec();
        v.extend(accs);
        v
    };
    m.check(0, 0, &at([accepting("A", b(1, 0)), idle(), idle()]));
    m.check(
        1,
        1,
        &at([accepting("A", b(1, 0)), accepting("A", b(1, 0)), idle()]),
    );
    assert!(m.is_chosen(b(1, 0), "A") && m.violations.is_empty());
    m.check(
        2,
        2,
        &at([accepting("B", b(2, 1)), accepting("A", b(1, 0)), idle()]),
    );
    assert!(m.violations.is_empty(), "B accepted by one only");
    m.check(
        3,
        3,
        &at([accepting("B", b(2, 1)), accepting("B", b(2, 1)), idle()]),
    );
    assert_eq!(m.violations.len(), 1);
    assert_eq!(m.violations[0].property, Property::AtMostOneChosen);
    assert_eq!(m.violations[0].step, 3);
}

#[test]
fn scenarios_validate_and_parse() {
    let s = PaxosScenario::basic(0);
    assert_eq!(s.names(), ["p1", "p2", "a1", "a2", "a3", "l1"]);
    assert_eq!(s.node("a2"), Ok(3));
    assert!(s.node("zz").unwrap_err().contains("known: p1, p2"));
    assert_eq!(Paxos::NAME, "paxos");
    assert_eq!(Paxos::node(&s, "l1"), Ok(5));
    assert_eq!(Paxos::setup(&s).unwrap().nodes.len(), 6);
    let bad = |f: &dyn Fn(&mut PaxosScenario), want: &str| {
        let mut s = PaxosScenario::basic(0);
        f(&mut s);
        let err = s.setup().expect_err(want);
        assert!(err.contains(want), "{err} does not say {want}");
    };
    bad(&|s| s.acceptors.truncate(2), "2 acceptors");
    bad(&|s| s.proposers.clear(), "no proposers");
    bad(
        &|s| s.learners = vec!["a1".into()],
        "two nodes are named \"a1\"",
    );
    bad(&|s| s.retry_ms = 0, "retry_ms");
    bad(
        &|s| s.proposers[1].start_ms = Some(5),
        "start_ms without a value",
    );
    bad(
        &|s| s.proposers[0].start_ms = Some(5_000),
        "after the run ends",
    );
    bad(&|s| s.proposers[0].value = Some(" ".into()), "empty");
    bad(
        &|s| {
            s.links = vec![NamedLink {
                a: "p1".into(),
                b: "a9".into(),
                ms: 1,
                jitter_ms: 0,
            }]
        },
        "unknown node \"a9\"",
    );
    let mut one = PaxosScenario::basic(0);
    one.acceptors.truncate(1);
    assert!(one.setup().is_ok(), "1 acceptor to experiment");

    // Files: defaults and unknown fields.
    let s: PaxosScenario = serde_json::from_str(
        r#"{"proposers": [{"name": "p1", "value": "A", "start_ms": 0}, {"name": "p2"}],
            "acceptors": ["a1", "a2", "a3"], "learners": ["l1"],
            "broken": ["promise-check"]}"#,
    )
    .unwrap();
    assert_eq!(
        (
            s.seed,
            s.duration_ms,
            s.latency_ms,
            s.jitter_ms,
            s.retry_ms,
            s.backoff_ms,
            s.loss
        ),
        (0, 1_000, 10, 0, 200, 100, 0.0)
    );
    assert_eq!(s.broken, BTreeSet::from([Broken::PromiseCheck]));
    let mut basic = PaxosScenario::basic(0);
    basic.broken = s.broken.clone();
    assert_eq!(s, basic, "basic() is the same scenario");
    assert!(serde_json::from_str::<PaxosScenario>(
        r#"{"proposers": [], "acceptors": [], "backof_ms": 3}"#
    )
    .unwrap_err()
    .to_string()
    .contains("backof_ms"));
    assert_eq!(
        Broken::parse("adopt-accepted-value"),
        Ok(Broken::AdoptAcceptedValue)
    );
    assert!(Broken::parse("nope").unwrap_err().contains("promise-check"));
    let cmd: Operator = serde_json::from_str(r#"{"command": "propose", "value": "Q"}"#).unwrap();
    assert_eq!(cmd, Operator::Propose { value: "Q".into() });
    assert!(serde_json::from_str::<distlab_sim::models::paxos::Request>(r#""x""#).is_err());
}

#[test]
fn messages_and_views_describe_themselves() {
    let rows: Vec<(Msg, &str, &str)> = vec![
        (Msg::Prepare { n: b(2, 0) }, "prepare", "prepare 2.1"),
        (
            Msg::Promise {
                n: b(2, 0),
                accepted: acc(1, 1, "B"),
            },
            "promise",
            "promise 2.1 (had B in 1.2)",
        ),
        (
            Msg::Accept {
                n: b(2, 0),
                value: "B".into(),
            },
            "accept",
            "accept 2.1 B",
        ),
        (
            Msg::Accepted {
                n: b(2, 0),
                value: "B".into(),
            },
            "accepted",
            "accepted 2.1 B",
        ),
        (
            Msg::Nack {
                n: b(2, 0),
                promised: b(3, 1),
            },
            "nack",
            "nack 2.1 (promised 3.2)",
        ),
    ];
    for (m, kind, label) in rows {
        assert_eq!((m.kind(), m.label().as_str()), (kind, label));
        assert_eq!(m.fields()[0], ("ballot".to_string(), "2.1".to_string()));
    }
    let v = View::Acceptor {
        promised: Some(b(3, 1)),
        accepted: acc(2, 0, "A"),
    };
    assert_eq!(v.label(), "promised 3.2, accepted A in 2.1");
    let v = View::Proposer {
        phase: Phase::Accepting,
        ballot: Some(b(2, 1)),
        value: Some("A".into()),
        own: Some("B".into()),
        adopted_from: Some(b(1, 0)),
        promises: 2,
        accepted: 1,
        chosen: None,
    };
    assert_eq!(v.label(), "accepting 2.2");
    let fields = v.fields();
    assert!(fields.contains(&("proposing".into(), "A (adopted, accepted in 1.1)".into())));
    assert!(fields.contains(&("promises".into(), "2".into())));
    assert_eq!(View::Learner { learned: None }.label(), "learned nothing");
}

/// The presets of docs/PAXOS.md, as lesson files write them (`[scenario]` tables), are the
/// scenarios these tests run.
#[cfg(feature = "lesson-files")]
#[test]
fn the_documented_presets_are_the_tested_ones() {
    let doc = include_str!("../../../../docs/PAXOS.md");
    let blocks: Vec<PaxosScenario> = doc
        .split("```toml\n")
        .skip(1)
        .map(|b| {
            let body = b.split("```").next().unwrap();
            let body = body
                .strip_prefix("[scenario]\n")
                .expect("a [scenario] table");
            toml::from_str(body).unwrap_or_else(|e| panic!("{e}\n{body}"))
        })
        .collect();
    assert_eq!(blocks, vec![adoption(), duel(0, 0)]);
}

/// The base of the randomized search: `p1` proposes A at 0, `p2` and `p3` wait; three
/// acceptors, two learners; 1.5 s. Every other proposal, and every fault, comes from the
/// schedule: without one, even broken Paxos chooses A alone.
fn search_base() -> PaxosScenario {
    let mut s = PaxosScenario::basic(0);
    s.proposers = vec![
        ProposerSpec::new("p1", "A", 0),
        ProposerSpec::idle("p2"),
        ProposerSpec::idle("p3"),
    ];
    s.learners = vec!["l1".into(), "l2".into()];
    s.duration_ms = 1_500;
    s
}

/// The randomized search: 2,000 seeds of random proposals and faults find no violation in
/// Paxos as in the paper; each broken variant is caught by some seed in the same range with
/// "at most one value is chosen", and its shrunk schedule still fails when replayed while
/// dropping any one of its interventions makes it pass; correct Paxos survives the same
/// schedule.
#[test]
fn randomized_search_finds_only_broken_rules() {
    let base = search_base();
    let report = explore(&base, 0, 2_000).unwrap();
    assert_eq!(report.failing_runs, 0, "{:?}", report.shortest);
    assert!(
        report.runs_with_choice > 1_900,
        "values get chosen: {} runs",
        report.runs_with_choice
    );
    assert!(
        report.events > 2_000 * 150,
        "the runs do something: {} events",
        report.events
    );
    for rule in Broken::ALL {
        let mut broken = base.clone();
        broken.broken = BTreeSet::from([rule]);
        let found = (0..2_000)
            .find_map(|seed| {
                explore(&broken, seed, 1)
                    .unwrap()
                    .shortest
                    .into_iter()
                    .next()
            })
            .unwrap_or_else(|| panic!("no seed in 0..2000 breaks {rule:?}"));
        assert_eq!(
            found.violation.property,
            Property::AtMostOneChosen,
            "{rule:?}"
        );
        assert!(
            !found.interventions.is_empty() && found.interventions.len() <= found.original_len,
            "{rule:?}: the schedule is needed, and shrinking only removes"
        );
        let setup = || found.scenario.setup().unwrap();
        let (_, again) = run_checked(setup(), found.interventions.clone());
        assert!(
            again.iter().any(|v| v.property == found.violation.property),
            "replays"
        );
        for i in 0..found.interventions.len() {
            let mut fewer = found.interventions.clone();
            fewer.remove(i);
            let (_, v) = run_checked(setup(), fewer);
            assert!(
                !v.iter().any(|v| v.property == found.violation.property),
                "{rule:?}: intervention {i} is needed"
            );
        }
        let mut fixed = found.scenario.clone();
        fixed.broken.clear();
        let (_, v) = run_checked(fixed.setup().unwrap(), found.interventions.clone());
        assert!(
            v.is_empty(),
            "{rule:?}: correct Paxos survives the same faults: {v:?}"
        );
    }
}

#[test]
fn schedules_are_reproducible() {
    let s = scenario_for(&search_base(), 42);
    let a = random_schedule(&s, 42).unwrap();
    assert_eq!(a, random_schedule(&s, 42).unwrap());
    assert!(a.len() > 5, "{} interventions", a.len());
    assert_ne!(
        a,
        random_schedule(&scenario_for(&search_base(), 43), 43).unwrap()
    );
}
