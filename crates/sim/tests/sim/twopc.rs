//! Two-phase commit (presumed abort) and three-phase commit: each rule driven on one
//! node (locks in FIFO order, votes, the commit point, presumed abort, recovery from the
//! logs, cooperative termination, 3PC's timeouts, the broken switches), every preset's
//! outcome, the monitor and the analysis, the model's interventions and prepared
//! failures, and properties over many seeds: 2PC keeps atomicity under any random mix of
//! crashes, partitions and loss and every participant learns the outcome once the
//! coordinator is up and the network healed; 3PC under crashes only is safe; 3PC under
//! partitions and each broken switch are caught by the explorer; runs are deterministic.

use distlab_sim::engine::{Action, Ctx, Engine, Intervention};
use distlab_sim::models::twopc::analysis::analyze;
use distlab_sim::models::twopc::explore::{
    explore, random_schedule, run_analyzed, scenario_for, ExploreConfig,
};
use distlab_sim::models::twopc::monitor::{run_checked, Property};
use distlab_sim::models::twopc::presets::{self, transfer};
use distlab_sim::models::twopc::{
    Broken, Command, CommitProtocol, CoordPhase, CoordRecord, KeyDelta, Msg, Node, PRecord, PState,
    PeerAnswer, Timer, TwoPcScenario, TxnSpec, Vote, Write, WriteSpec,
};
use distlab_sim::models::{EngineModel, TwoPc};
use distlab_sim::{trace, Describe, Protocol};
use proptest::prelude::*;

fn nodes(s: &TwoPcScenario) -> Vec<Node> {
    s.setup().unwrap().protocols
}

fn sent(ctx: &Ctx<Node>) -> Vec<(usize, Msg)> {
    ctx.sent()
        .into_iter()
        .map(|(to, m)| (to, m.clone()))
        .collect()
}

/// Delivers `msg` from `from` to `node` (id `me`) at `now`; returns what it sends.
fn deliver(node: &mut Node, me: usize, from: usize, msg: Msg, now: u64) -> Vec<(usize, Msg)> {
    let mut ctx = Ctx::detached(me, now);
    node.on_message(from, msg, &mut ctx);
    sent(&ctx)
}

fn fire(node: &mut Node, me: usize, timer: Timer, now: u64) -> Vec<(usize, Msg)> {
    let mut ctx = Ctx::detached(me, now);
    node.on_timer(timer, &mut ctx);
    sent(&ctx)
}

fn write(txn: &str, key: &str, delta: i64) -> Msg {
    Msg::Write {
        txn: txn.into(),
        writes: vec![KeyDelta {
            key: key.into(),
            delta,
        }],
    }
}

fn prepare(txn: &str) -> Msg {
    Msg::Prepare {
        txn: txn.into(),
        participants: vec![1, 2],
    }
}

fn state(node: &Node, txn: &str) -> Option<PState> {
    node.participant().unwrap().txns.get(txn).map(|t| t.state)
}

fn done(txn: &str) -> Msg {
    Msg::Done {
        txn: txn.into(),
        ok: true,
    }
}

fn yes(txn: &str) -> Msg {
    Msg::Vote {
        txn: txn.into(),
        yes: true,
    }
}

// ------------------------------------------------------------------ participant rules

#[test]
fn locks_are_exclusive_and_granted_in_fifo_order() {
    let mut p = nodes(&transfer()).remove(1);
    assert_eq!(
        deliver(&mut p, 1, 0, write("T1", "alice", -10), 10),
        vec![(0, done("T1"))]
    );
    // T2 and T3 queue behind T1, in arrival order, and report nothing yet.
    assert!(deliver(&mut p, 1, 0, write("T2", "alice", -20), 11).is_empty());
    assert!(deliver(&mut p, 1, 0, write("T3", "alice", -30), 12).is_empty());
    let x = p.participant().unwrap();
    assert_eq!(x.locks["alice"], "T1");
    assert_eq!(x.waiting["alice"], vec!["T2".to_string(), "T3".to_string()]);
    assert_eq!(state(&p, "T2"), Some(PState::Waiting));
    // T1 aborts: the lock goes to T2 (first in line), which reports done; T3 still waits.
    let out = deliver(&mut p, 1, 0, Msg::Abort { txn: "T1".into() }, 20);
    assert_eq!(out, vec![(0, done("T2"))]);
    let x = p.participant().unwrap();
    assert_eq!(x.locks["alice"], "T2");
    assert_eq!(x.waiting["alice"], vec!["T3".to_string()]);
    assert_eq!(x.data["alice"], 500, "an abort leaves the committed value");
    // T2 commits (prepare, commit): its write is applied, T3 gets the lock.
    assert_eq!(
        deliver(&mut p, 1, 0, prepare("T2"), 21),
        vec![(0, yes("T2"))]
    );
    let out = deliver(&mut p, 1, 0, Msg::Commit { txn: "T2".into() }, 30);
    assert_eq!(
        out,
        vec![(0, done("T3")), (0, Msg::Ack { txn: "T2".into() })]
    );
    assert_eq!(p.participant().unwrap().data["alice"], 480);
}

#[test]
fn a_yes_vote_is_forced_to_the_log_and_then_the_participant_is_in_doubt() {
    let mut p = nodes(&transfer()).remove(1);
    deliver(&mut p, 1, 0, write("T1", "alice", -100), 10);
    assert_eq!(p.participant().unwrap().value_for("alice", "T1"), 400);
    assert_eq!(
        deliver(&mut p, 1, 0, prepare("T1"), 30),
        vec![(0, yes("T1"))]
    );
    let x = p.participant().unwrap();
    assert!(
        matches!(&x.log[..], [PRecord::Prepared { txn, participants, at_ms: 30, .. }]
        if txn == "T1" && participants == &vec![1, 2])
    );
    assert_eq!(state(&p, "T1"), Some(PState::Prepared));
    // In doubt: the prepare timeout does nothing in 2PC, asking goes to the coordinator.
    assert!(fire(&mut p, 1, Timer::Prepare("T1".into()), 400).is_empty());
    assert_eq!(state(&p, "T1"), Some(PState::Prepared));
    assert_eq!(
        fire(&mut p, 1, Timer::Ask("T1".into()), 130),
        vec![(0, Msg::DecisionReq { txn: "T1".into() })]
    );
    // A duplicate prepare gets the same vote; the lock is still held.
    assert_eq!(
        deliver(&mut p, 1, 0, prepare("T1"), 131),
        vec![(0, yes("T1"))]
    );
    assert_eq!(p.participant().unwrap().locks["alice"], "T1");
}

#[test]
fn votes_no_by_scenario_or_overdraft_and_aborts_at_once() {
    let mut s = transfer();
    s.participants[1].vote = Vote::No;
    let mut b = nodes(&s).remove(2);
    deliver(&mut b, 2, 0, write("T1", "bob", 100), 10);
    let out = deliver(&mut b, 2, 0, prepare("T1"), 30);
    assert_eq!(
        out,
        vec![(
            0,
            Msg::Vote {
                txn: "T1".into(),
                yes: false
            }
        )]
    );
    assert_eq!(state(&b, "T1"), Some(PState::Aborted));
    assert!(b.participant().unwrap().locks.is_empty());

    let mut s = transfer();
    s.no_overdraft = true;
    let mut a = nodes(&s).remove(1);
    deliver(&mut a, 1, 0, write("T1", "alice", -600), 10);
    let out = deliver(&mut a, 1, 0, prepare("T1"), 30);
    assert_eq!(
        out,
        vec![(
            0,
            Msg::Vote {
                txn: "T1".into(),
                yes: false
            }
        )]
    );
    let mut a = nodes(&s).remove(1);
    deliver(&mut a, 1, 0, write("T1", "alice", -500), 10);
    assert_eq!(
        deliver(&mut a, 1, 0, prepare("T1"), 30),
        vec![(0, yes("T1"))]
    );
}

#[test]
fn before_voting_a_participant_may_abort_unilaterally() {
    let mut p = nodes(&transfer()).remove(1);
    deliver(&mut p, 1, 0, write("T1", "alice", -100), 10);
    assert!(fire(&mut p, 1, Timer::Prepare("T1".into()), 310).is_empty());
    assert_eq!(state(&p, "T1"), Some(PState::Aborted));
    // Its vote, if asked later, is no; a repeated write is refused.
    let no = Msg::Vote {
        txn: "T1".into(),
        yes: false,
    };
    assert_eq!(deliver(&mut p, 1, 0, prepare("T1"), 320), vec![(0, no)]);
    let refused = Msg::Done {
        txn: "T1".into(),
        ok: false,
    };
    assert_eq!(
        deliver(&mut p, 1, 0, write("T1", "alice", -1), 330),
        vec![(0, refused)]
    );
    // A prepare for work it never had is a no too.
    let out = deliver(&mut p, 1, 0, prepare("T9"), 340);
    assert_eq!(
        out[0].1,
        Msg::Vote {
            txn: "T9".into(),
            yes: false
        }
    );
}

#[test]
fn a_crashed_participant_rolls_back_unprepared_work_and_is_in_doubt_again_about_prepared_work() {
    let mut p = nodes(&transfer()).remove(1);
    deliver(&mut p, 1, 0, write("T1", "alice", -100), 10);
    deliver(&mut p, 1, 0, prepare("T1"), 30);
    // T2 waits behind T1; T3 works on another key, unprepared.
    deliver(&mut p, 1, 0, write("T2", "alice", -1), 31);
    deliver(&mut p, 1, 0, write("T3", "carol", 5), 32);
    p.on_crash();
    // While down, the log keeps T1 in doubt with its lock; the rest is gone.
    assert_eq!(state(&p, "T1"), Some(PState::Prepared));
    assert_eq!(state(&p, "T2"), None);
    assert!(p.participant().unwrap().waiting.is_empty());
    let mut ctx = Ctx::detached(1, 200);
    p.on_restart(&mut ctx);
    assert_eq!(state(&p, "T2"), Some(PState::Aborted));
    assert_eq!(state(&p, "T3"), Some(PState::Aborted));
    let x = p.participant().unwrap();
    assert_eq!(
        x.locks["alice"], "T1",
        "the in-doubt transaction re-takes its lock"
    );
    assert!(x.txns["T1"].recovered);
    assert_eq!(sent(&ctx), vec![(0, Msg::DecisionReq { txn: "T1".into() })]);
    // Told commit, it applies T1's write.
    deliver(&mut p, 1, 0, Msg::Commit { txn: "T1".into() }, 220);
    assert_eq!(p.participant().unwrap().data["alice"], 400);
}

#[test]
fn cooperative_termination_asks_peers_and_a_peer_that_has_not_voted_aborts() {
    let mut s = transfer();
    s.cooperative_termination = true;
    let mut ns = nodes(&s);
    let mut a = ns.remove(1);
    deliver(&mut a, 1, 0, write("T1", "alice", -100), 10);
    deliver(&mut a, 1, 0, prepare("T1"), 30);
    let asks = fire(&mut a, 1, Timer::Ask("T1".into()), 130);
    assert_eq!(
        asks,
        vec![
            (0, Msg::DecisionReq { txn: "T1".into() }),
            (2, Msg::DecisionReq { txn: "T1".into() })
        ]
    );
    // shard-b (node 2 after the removal: index 1) did its work but got no prepare.
    let mut b = ns.remove(1);
    deliver(&mut b, 2, 0, write("T1", "bob", 100), 10);
    let out = deliver(&mut b, 2, 1, Msg::DecisionReq { txn: "T1".into() }, 140);
    let aborted = Msg::PeerState {
        txn: "T1".into(),
        state: PeerAnswer::Aborted,
    };
    assert_eq!(out, vec![(1, aborted.clone())]);
    assert_eq!(state(&b, "T1"), Some(PState::Aborted));
    // An uncertain answer leaves the asker in doubt; an aborted one ends it.
    let unsure = Msg::PeerState {
        txn: "T1".into(),
        state: PeerAnswer::Uncertain,
    };
    deliver(&mut a, 1, 2, unsure, 150);
    assert_eq!(state(&a, "T1"), Some(PState::Prepared));
    deliver(&mut a, 1, 2, aborted, 150);
    assert_eq!(state(&a, "T1"), Some(PState::Aborted));
}

#[test]
fn three_phase_timeouts_abort_when_uncertain_and_commit_when_pre_committed() {
    let mut s = transfer();
    s.protocol = CommitProtocol::ThreePhase;
    let can = Msg::CanCommit {
        txn: "T1".into(),
        participants: vec![1, 2],
    };
    let mut p = nodes(&s).remove(1);
    deliver(&mut p, 1, 0, write("T1", "alice", -100), 10);
    assert_eq!(deliver(&mut p, 1, 0, can.clone(), 30), vec![(0, yes("T1"))]);
    fire(&mut p, 1, Timer::Prepare("T1".into()), 330);
    assert_eq!(state(&p, "T1"), Some(PState::Aborted));

    let mut p = nodes(&s).remove(1);
    deliver(&mut p, 1, 0, write("T1", "alice", -100), 10);
    deliver(&mut p, 1, 0, can, 30);
    let out = deliver(&mut p, 1, 0, Msg::PreCommit { txn: "T1".into() }, 50);
    assert_eq!(out, vec![(0, Msg::PreAck { txn: "T1".into() })]);
    assert_eq!(state(&p, "T1"), Some(PState::PreCommitted));
    fire(&mut p, 1, Timer::Prepare("T1".into()), 350);
    assert_eq!(state(&p, "T1"), Some(PState::Committed));
    assert_eq!(p.participant().unwrap().data["alice"], 400);
}

#[test]
fn broken_decide_on_timeout_aborts_an_in_doubt_participant() {
    let mut s = transfer();
    s.broken.insert(Broken::DecideOnTimeout);
    let mut p = nodes(&s).remove(1);
    deliver(&mut p, 1, 0, write("T1", "alice", -100), 10);
    deliver(&mut p, 1, 0, prepare("T1"), 30);
    fire(&mut p, 1, Timer::GiveUp("T1".into()), 330);
    assert_eq!(state(&p, "T1"), Some(PState::Aborted));
}

// ------------------------------------------------------------------ coordinator rules

/// A coordinator that has begun T1 (alice at 1, bob at 2) at time 0.
fn coordinator(s: &TwoPcScenario) -> (Node, Vec<(usize, Msg)>) {
    let mut c = nodes(s).remove(0);
    let mut ctx = Ctx::detached(0, 0);
    c.on_start(&mut ctx);
    let out = sent(&ctx);
    (c, out)
}

#[test]
fn the_coordinator_forces_commit_before_sending_it_and_ends_after_every_ack() {
    let (mut c, out) = coordinator(&transfer());
    assert_eq!(out.len(), 2);
    assert!(matches!(&out[0], (1, Msg::Write { txn, .. }) if txn == "T1"));
    deliver(&mut c, 0, 1, done("T1"), 20);
    let prepares = deliver(&mut c, 0, 2, done("T1"), 20);
    assert_eq!(prepares, vec![(1, prepare("T1")), (2, prepare("T1"))]);
    assert!(deliver(&mut c, 0, 1, yes("T1"), 40).is_empty());
    let commits = deliver(&mut c, 0, 2, yes("T1"), 40);
    let co = c.coordinator().unwrap();
    assert!(
        matches!(&co.log[..], [CoordRecord::Commit { txn, participants, at_ms: 40 }]
        if txn == "T1" && participants == &vec![1, 2])
    );
    assert_eq!(co.txns["T1"].phase, CoordPhase::Committing);
    let commit = Msg::Commit { txn: "T1".into() };
    assert_eq!(commits, vec![(1, commit.clone()), (2, commit.clone())]);
    // Re-sent only to those that have not acked.
    deliver(&mut c, 0, 1, Msg::Ack { txn: "T1".into() }, 50);
    assert_eq!(
        fire(&mut c, 0, Timer::Resend("T1".into()), 140),
        vec![(2, commit)]
    );
    deliver(&mut c, 0, 2, Msg::Ack { txn: "T1".into() }, 150);
    let co = c.coordinator().unwrap();
    assert_eq!(co.txns["T1"].phase, CoordPhase::Ended);
    assert!(matches!(co.log.last(), Some(CoordRecord::End { .. })));
}

#[test]
fn a_no_vote_or_a_vote_timeout_aborts() {
    let (mut c, _) = coordinator(&transfer());
    deliver(&mut c, 0, 1, done("T1"), 20);
    deliver(&mut c, 0, 2, done("T1"), 20);
    let no = Msg::Vote {
        txn: "T1".into(),
        yes: false,
    };
    let out = deliver(&mut c, 0, 2, no, 40);
    // Abort goes to those that did not vote no.
    assert_eq!(out, vec![(1, Msg::Abort { txn: "T1".into() })]);
    assert_eq!(c.coordinator().unwrap().logged_decision("T1"), Some(false));

    let (mut c, _) = coordinator(&transfer());
    deliver(&mut c, 0, 1, done("T1"), 20);
    deliver(&mut c, 0, 2, done("T1"), 20);
    deliver(&mut c, 0, 1, yes("T1"), 40);
    let out = fire(&mut c, 0, Timer::Votes("T1".into()), 120);
    assert_eq!(out.len(), 2);
    assert_eq!(
        c.coordinator().unwrap().txns["T1"].phase,
        CoordPhase::Aborted
    );
}

#[test]
fn presumed_abort_answers_abort_without_a_record_but_not_while_deciding() {
    let (mut c, _) = coordinator(&transfer());
    deliver(&mut c, 0, 1, done("T1"), 20);
    deliver(&mut c, 0, 2, done("T1"), 20);
    let ask = Msg::DecisionReq { txn: "T1".into() };
    assert!(
        deliver(&mut c, 0, 1, ask.clone(), 35).is_empty(),
        "still collecting votes"
    );
    c.on_crash();
    let mut ctx = Ctx::detached(0, 100);
    c.on_restart(&mut ctx);
    assert!(sent(&ctx).is_empty(), "no record of T1: nothing to recover");
    let out = deliver(&mut c, 0, 1, ask, 110);
    assert_eq!(out, vec![(1, Msg::Abort { txn: "T1".into() })]);
    assert!(c.coordinator().unwrap().presumed.contains("T1"));
}

#[test]
fn a_restarted_coordinator_resends_a_logged_commit() {
    let (mut c, _) = coordinator(&transfer());
    for (p, m, t) in [
        (1, done("T1"), 20),
        (2, done("T1"), 20),
        (1, yes("T1"), 40),
        (2, yes("T1"), 40),
    ] {
        deliver(&mut c, 0, p, m, t);
    }
    deliver(&mut c, 0, 1, Msg::Ack { txn: "T1".into() }, 50);
    c.on_crash();
    assert!(c.coordinator().unwrap().txns.is_empty());
    let mut ctx = Ctx::detached(0, 300);
    c.on_restart(&mut ctx);
    let commit = Msg::Commit { txn: "T1".into() };
    assert_eq!(sent(&ctx), vec![(1, commit.clone()), (2, commit.clone())]);
    let ask = Msg::DecisionReq { txn: "T1".into() };
    assert_eq!(deliver(&mut c, 0, 2, ask, 310), vec![(2, commit)]);
}

#[test]
fn broken_send_before_log_sends_commit_without_a_record() {
    let mut s = transfer();
    s.broken.insert(Broken::SendBeforeLog);
    let (mut c, _) = coordinator(&s);
    for (p, m, t) in [(1, done("T1"), 20), (2, done("T1"), 20), (1, yes("T1"), 40)] {
        deliver(&mut c, 0, p, m, t);
    }
    let out = deliver(&mut c, 0, 2, yes("T1"), 40);
    assert_eq!(out.len(), 2);
    assert!(c.coordinator().unwrap().log.is_empty());
    c.on_crash();
    let out = deliver(&mut c, 0, 2, Msg::DecisionReq { txn: "T1".into() }, 100);
    assert_eq!(out, vec![(2, Msg::Abort { txn: "T1".into() })]);
}

#[test]
fn three_phase_coordinator_pre_commits_and_commits_when_pre_acks_time_out() {
    let mut s = transfer();
    s.protocol = CommitProtocol::ThreePhase;
    let (mut c, _) = coordinator(&s);
    deliver(&mut c, 0, 1, done("T1"), 20);
    let out = deliver(&mut c, 0, 2, done("T1"), 20);
    assert!(matches!(&out[0].1, Msg::CanCommit { .. }));
    deliver(&mut c, 0, 1, yes("T1"), 40);
    let out = deliver(&mut c, 0, 2, yes("T1"), 40);
    assert_eq!(out[0].1, Msg::PreCommit { txn: "T1".into() });
    assert!(matches!(
        &c.coordinator().unwrap().log[..],
        [CoordRecord::PreCommit { .. }]
    ));
    deliver(&mut c, 0, 1, Msg::PreAck { txn: "T1".into() }, 50);
    let out = fire(&mut c, 0, Timer::PreAcks("T1".into()), 140);
    assert_eq!(out[0].1, Msg::DoCommit { txn: "T1".into() });
    assert_eq!(c.coordinator().unwrap().logged_decision("T1"), Some(true));
    // A restart with PRE-COMMIT and no decision commits.
    let (mut c, _) = coordinator(&s);
    for (p, m, t) in [
        (1, done("T1"), 20),
        (2, done("T1"), 20),
        (1, yes("T1"), 40),
        (2, yes("T1"), 40),
    ] {
        deliver(&mut c, 0, p, m, t);
    }
    c.on_crash();
    let mut ctx = Ctx::detached(0, 200);
    c.on_restart(&mut ctx);
    assert_eq!(sent(&ctx).len(), 2);
    assert_eq!(c.coordinator().unwrap().logged_decision("T1"), Some(true));
}

#[test]
fn message_labels_name_the_phase_and_the_transaction() {
    let cases = [
        (write("T1", "alice", -100), "write T1 (alice -100)"),
        (done("T1"), "done T1"),
        (prepare("T1"), "prepare T1"),
        (yes("T1"), "yes T1"),
        (
            Msg::Vote {
                txn: "T1".into(),
                yes: false,
            },
            "no T1",
        ),
        (Msg::Commit { txn: "T1".into() }, "commit T1"),
        (Msg::Abort { txn: "T1".into() }, "abort T1"),
        (Msg::Ack { txn: "T1".into() }, "ack T1"),
        (Msg::DecisionReq { txn: "T1".into() }, "decision? T1"),
        (
            Msg::CanCommit {
                txn: "T2".into(),
                participants: vec![],
            },
            "can-commit? T2",
        ),
        (Msg::PreCommit { txn: "T2".into() }, "pre-commit T2"),
        (Msg::DoCommit { txn: "T2".into() }, "do-commit T2"),
    ];
    for (m, label) in cases {
        assert_eq!(m.label(), label);
    }
}

// ------------------------------------------------------------------ presets

fn run(id: &str) -> (Engine<Node>, distlab_sim::models::twopc::analysis::Analysis) {
    let p = presets::get(id).unwrap();
    let e = Engine::new(p.scenario.setup().unwrap(), p.interventions);
    let a = analyze(&e, Some(e.trace().len() - 1));
    (e, a)
}

/// (decision commit?, [participant committed?]) of `txn`.
fn outcome(
    a: &distlab_sim::models::twopc::analysis::Analysis,
    txn: &str,
) -> (Option<bool>, Vec<Option<bool>>) {
    let t = a.txn(txn).unwrap();
    (
        t.decision.as_ref().map(|d| d.commit),
        t.outcomes.iter().map(|o| o.committed).collect(),
    )
}

#[test]
fn every_preset_is_valid_and_listed() {
    assert_eq!(presets::all().len(), presets::IDS.len());
    for p in presets::all() {
        assert!(p.scenario.setup().is_ok(), "{}", p.id);
        for iv in &p.interventions {
            TwoPc::check_intervention(&p.scenario, iv).unwrap();
        }
    }
    assert!(presets::get("nope").is_none());
}

#[test]
fn preset_happy_commit() {
    let (e, a) = run("happy-commit");
    assert_eq!(
        outcome(&a, "T1"),
        (Some(true), vec![Some(true), Some(true)])
    );
    assert_eq!(a.txn("T1").unwrap().decision.as_ref().unwrap().time, 40);
    assert!(a.violations.is_empty());
    assert_eq!(a.in_doubt.len(), 2);
    assert!(a
        .in_doubt
        .iter()
        .all(|d| d.from_ms == 30 && d.until_ms == Some(50)));
    let w = e.world();
    assert_eq!(w.nodes[1].participant().unwrap().data["alice"], 400);
    assert_eq!(w.nodes[2].participant().unwrap().data["bob"], 200);
    assert!(matches!(
        w.nodes[0].coordinator().unwrap().log.last(),
        Some(CoordRecord::End { at_ms: 60, .. })
    ));
    // Locks held from the write to the commit.
    assert!(a
        .locks
        .iter()
        .all(|h| h.acquired_ms == 10 && h.released_ms == Some(50)));
    assert_eq!(a.total_lock_hold_ms, 80);
}

#[test]
fn preset_vote_no() {
    let (e, a) = run("vote-no");
    assert_eq!(
        outcome(&a, "T1"),
        (Some(false), vec![Some(false), Some(false)])
    );
    assert_eq!(
        a.txn("T1").unwrap().outcomes[1].time,
        Some(30),
        "shard-b aborts at once"
    );
    assert!(!a.txn("T1").unwrap().outcomes[1].voted_yes);
    assert_eq!(e.world().nodes[1].participant().unwrap().data["alice"], 500);
    assert!(a.violations.is_empty());
}

#[test]
fn preset_vote_timeout() {
    let (_, a) = run("vote-timeout");
    let t = a.txn("T1").unwrap();
    assert_eq!(
        outcome(&a, "T1"),
        (Some(false), vec![Some(false), Some(false)])
    );
    assert_eq!(
        t.decision.as_ref().unwrap().time,
        120,
        "vote_timeout_ms after prepare"
    );
    assert_eq!(
        t.outcomes[1].time,
        Some(310),
        "shard-b: prepare_timeout_ms after its work"
    );
    assert!(!t.outcomes[1].voted_yes);
}

#[test]
fn preset_coordinator_crash_before_decision_blocks_until_presumed_abort() {
    let (_, a) = run("coordinator-crash-before-decision");
    let t = a.txn("T1").unwrap();
    assert_eq!(
        outcome(&a, "T1"),
        (Some(false), vec![Some(false), Some(false)])
    );
    let d = t.decision.as_ref().unwrap();
    assert!(d.presumed && d.time > 300, "{d:?}");
    for p in [1, 2] {
        let dd = a.in_doubt_of(p);
        assert_eq!(dd.len(), 1);
        assert_eq!(dd[0].from_ms, 30);
        assert!(
            dd[0].until_ms.unwrap() > 300,
            "in doubt until after the restart"
        );
    }
    assert!(a.max_in_doubt_ms > 270);
    assert!(a.violations.is_empty());
}

#[test]
fn preset_coordinator_crash_after_decision_leaves_shard_b_in_doubt_and_blocks_t2() {
    let (e, a) = run("coordinator-crash-after-decision");
    assert_eq!(
        outcome(&a, "T1"),
        (Some(true), vec![Some(true), Some(true)])
    );
    let t = a.txn("T1").unwrap();
    assert_eq!(t.outcomes[0].time, Some(50));
    assert_eq!(
        t.outcomes[1].time,
        Some(410),
        "after the restart at 400 re-sends commit"
    );
    let b = a.in_doubt_of(2);
    assert_eq!((b[0].from_ms, b[0].until_ms), (30, Some(410)));
    // T2 waited for bob behind the in-doubt T1 the whole time.
    assert_eq!(a.blocked.len(), 1);
    let bl = &a.blocked[0];
    assert_eq!(
        (bl.txn.as_str(), bl.holder.as_str(), bl.key.as_str()),
        ("T2", "T1", "bob")
    );
    assert_eq!(bl.waited_ms, 380);
    let hold = a
        .locks
        .iter()
        .find(|h| h.participant == 2 && h.txn == "T1")
        .unwrap();
    assert_eq!(hold.waiters[0].got_ms, Some(410));
    assert!(a.violations.is_empty());
    // Committed values: bob got T1's 100; T2 (forgotten by the crashed coordinator)
    // aborted, so its -30 never applied.
    assert_eq!(e.world().nodes[2].participant().unwrap().data["bob"], 200);
    // At 200 ms (before the restart), the analysis says shard-b is still in doubt.
    let step = e.trace().iter().rposition(|ev| ev.time <= 200).unwrap();
    let early = analyze(&e, Some(step));
    assert_eq!(early.still_in_doubt, 1);
    assert_eq!(early.in_doubt_of(2)[0].until_ms, None);
}

#[test]
fn preset_participant_crash_after_yes_recovers_and_commits() {
    let (_, a) = run("participant-crash-after-yes");
    assert_eq!(
        outcome(&a, "T1"),
        (Some(true), vec![Some(true), Some(true)])
    );
    let b = a.in_doubt_of(2);
    assert_eq!(b.len(), 1, "in doubt through the crash: one period");
    assert_eq!(b[0].from_ms, 30);
    assert_eq!(
        b[0].until_ms,
        Some(220),
        "restart at 200, asks, told commit"
    );
    // The lock table was lost in the crash and re-taken at once.
    let holds: Vec<_> = a.locks.iter().filter(|h| h.participant == 2).collect();
    assert_eq!(holds.len(), 1);
    assert!(a.violations.is_empty());
}

#[test]
fn preset_three_phase_commit() {
    let (_, a) = run("three-phase-commit");
    assert_eq!(
        outcome(&a, "T1"),
        (Some(true), vec![Some(true), Some(true)])
    );
    assert_eq!(a.txn("T1").unwrap().outcomes[0].time, Some(70));
    assert!(a.violations.is_empty());
}

#[test]
fn preset_three_phase_partition_violates_atomicity() {
    let (_, a) = run("three-phase-partition");
    assert_eq!(
        outcome(&a, "T1"),
        (Some(true), vec![Some(true), Some(false)])
    );
    let props: Vec<Property> = a.violations.iter().map(|v| v.property).collect();
    assert!(props.contains(&Property::AtomicOutcome), "{props:?}");
    assert_eq!(a.violations[0].time, 330);
}

#[test]
fn preset_broken_switches_violate_atomicity() {
    let (_, a) = run("broken-decide-on-timeout");
    assert_eq!(
        outcome(&a, "T1"),
        (Some(true), vec![Some(true), Some(false)])
    );
    assert!(a
        .violations
        .iter()
        .any(|v| v.property == Property::AtomicOutcome));
    let (_, a) = run("broken-send-before-log");
    assert_eq!(
        outcome(&a, "T1"),
        (Some(true), vec![Some(true), Some(false)])
    );
    assert!(a
        .violations
        .iter()
        .any(|v| v.property == Property::DecisionsFinal));
    assert!(a
        .violations
        .iter()
        .any(|v| v.property == Property::AtomicOutcome));
    // The same runs with the rule kept are fine.
    for id in ["broken-decide-on-timeout", "broken-send-before-log"] {
        let mut p = presets::get(id).unwrap();
        p.scenario.broken.clear();
        let (_, v) = run_checked(p.scenario.setup().unwrap(), p.interventions);
        assert!(v.is_empty(), "{id}: {v:?}");
    }
}

// ------------------------------------------------------------------ the model

#[test]
fn scenario_errors_are_clear() {
    type Edit = Box<dyn Fn(&mut TwoPcScenario)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|s| s.participants.clear()), "0 participants"),
        (
            Box::new(|s| s.participants[1].name = "coordinator".into()),
            "two nodes are named",
        ),
        (Box::new(|s| s.retry_ms = 0), "retry_ms must be positive"),
        (
            Box::new(|s| s.transactions[0].writes.clear()),
            "T1 has no writes",
        ),
        (
            Box::new(|s| s.transactions[0].writes[0].at = "coordinator".into()),
            "is the coordinator",
        ),
        (
            Box::new(|s| s.transactions[0].writes[0].at = "shard-z".into()),
            "unknown node \"shard-z\"",
        ),
        (
            Box::new(|s| s.transactions[0].start_ms = 5_000),
            "after the run ends",
        ),
        (
            Box::new(|s| s.transactions.push(s.transactions[0].clone())),
            "two transactions are named T1",
        ),
        (
            Box::new(|s| s.transactions[0].id = "T 1".into()),
            "no spaces",
        ),
        (Box::new(|s| s.loss = 2.0), "not a probability"),
    ];
    for (f, want) in cases {
        let mut s = transfer();
        f(&mut s);
        let err = s.setup().unwrap_err();
        assert!(err.contains(want), "{err} (wanted {want})");
    }
}

#[test]
fn the_scenario_reads_from_json_with_defaults() {
    let s: TwoPcScenario = serde_json::from_str(
        r#"{"participants": [{"name": "shard-a", "data": {"alice": 500}},
                             {"name": "shard-b", "data": {"bob": 100}, "vote": "no"}],
            "protocol": "three-phase", "broken": ["send-before-log"],
            "transactions": [{"id": "T1", "writes": [{"at": "shard-a", "key": "alice", "delta": -100}]}]}"#,
    )
    .unwrap();
    assert_eq!(s.protocol, CommitProtocol::ThreePhase);
    assert_eq!(s.participants[1].vote, Vote::No);
    assert_eq!(
        (s.vote_timeout_ms, s.retry_ms, s.prepare_timeout_ms),
        (100, 100, 300)
    );
    assert_eq!(s.coordinator, "coordinator");
    assert!(s.broken.contains(&Broken::SendBeforeLog));
    assert_eq!(s.node("shard-b"), Ok(2));
    assert!(serde_json::from_str::<TwoPcScenario>(r#"{"participants": [], "nope": 1}"#).is_err());
}

#[test]
fn interventions_are_checked() {
    let s = transfer();
    let begin = |node: usize, id: &str, writes: Vec<Write>| {
        Intervention::new(
            0,
            Action::Command {
                node,
                command: Command::Begin {
                    id: id.into(),
                    writes,
                },
            },
        )
    };
    let w = |p: usize| Write {
        participant: p,
        key: "k".into(),
        delta: 1,
    };
    assert!(TwoPc::check_intervention(&s, &begin(0, "T5", vec![w(1), w(2)])).is_ok());
    let bad = [
        (begin(1, "T5", vec![w(1)]), "not the coordinator"),
        (begin(0, "T1", vec![w(1)]), "already one of the scenario's"),
        (begin(0, "T5", vec![]), "without writes"),
        (begin(0, "T5", vec![w(0)]), "not a participant"),
        (begin(0, "T5", vec![w(3)]), "not a participant"),
        (begin(0, "", vec![w(1)]), "empty id"),
    ];
    for (iv, want) in bad {
        let err = TwoPc::check_intervention(&s, &iv).unwrap_err();
        assert!(err.contains(want), "{err}");
    }
    // The scenario's `begin` helper resolves names.
    let c = s
        .begin("T5", &[WriteSpec::new("shard-b", "bob", 5)])
        .unwrap();
    assert!(matches!(&c, Command::Begin { writes, .. } if writes[0].participant == 2));
    assert!(s
        .begin("T5", &[WriteSpec::new("coordinator", "x", 1)])
        .is_err());
}

#[test]
fn an_operator_begin_runs_a_transaction() {
    let mut s = transfer();
    s.transactions.clear();
    let cmd = s
        .begin("T7", &[WriteSpec::new("shard-a", "alice", -5)])
        .unwrap();
    let e = Engine::new(
        s.setup().unwrap(),
        vec![Intervention::new(
            100,
            Action::Command {
                node: 0,
                command: cmd,
            },
        )],
    );
    let a = analyze(&e, Some(e.trace().len() - 1));
    assert_eq!(outcome(&a, "T7"), (Some(true), vec![Some(true)]));
    assert_eq!(a.txn("T7").unwrap().started_ms, Some(100));
}

#[test]
fn prepared_failures_crash_the_coordinator_and_cut_off_an_in_doubt_participant() {
    let p = presets::get("happy-commit").unwrap();
    let e = Engine::new(p.scenario.setup().unwrap(), vec![]);
    // At the event at 30 ms both participants are in doubt.
    let cursor = e.trace().iter().rposition(|ev| ev.time == 30).unwrap();
    let ps = TwoPc::prepared(&p.scenario, &e, Some(cursor));
    assert_eq!(ps.len(), 3);
    assert_eq!(ps[0].label, "crash the coordinator (coordinator)");
    assert_eq!(ps[0].actions, vec![Action::Crash { node: 0 }]);
    assert_eq!(
        ps[1].label,
        "partition shard-a from the coordinator (in doubt)"
    );
    assert_eq!(
        ps[1].actions,
        vec![Action::Partition {
            groups: vec![vec![1], vec![0, 2]]
        }]
    );
    assert_eq!(ps[2].label, "heal the network and restart everything");
}

#[test]
fn views_show_phases_locks_and_logs() {
    let p = presets::get("coordinator-crash-after-decision").unwrap();
    let e = Engine::new(p.scenario.setup().unwrap(), p.interventions);
    let step = e.trace().iter().rposition(|ev| ev.time <= 200).unwrap();
    let views = e.views_at(Some(step));
    assert_eq!(views[2].label(), "T1 in doubt, T2 waiting for a lock");
    let fields = views[2].fields();
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "locks" && v == "bob by T1 (waiting: T2)"),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|(k, v)| k == "log" && v == "PREPARED T1"),
        "{fields:?}"
    );
}

// ------------------------------------------------------------------ properties

fn cfg(protocol: CommitProtocol, broken: &[Broken], network: bool) -> ExploreConfig {
    let mut c = ExploreConfig::new(protocol, broken);
    c.network = network;
    c.shrink_per_property = 1;
    c
}

#[test]
fn two_phase_commit_keeps_atomicity_and_everyone_learns_the_outcome() {
    let c = cfg(CommitProtocol::TwoPhase, &[], true);
    let r = explore(&c, 0..300).unwrap();
    assert_eq!(
        r.failing_runs,
        0,
        "{:?}",
        r.shortest.first().map(|f| &f.violation)
    );
    // The search exercises what matters: in-doubt periods, commits, aborts, blocked waits.
    assert!(r.in_doubt.runs_with_in_doubt > 250, "{:?}", r.in_doubt);
    assert!(
        r.committed > 300 && r.aborted > 300,
        "{} {}",
        r.committed,
        r.aborted
    );
    assert!(r.in_doubt.blocked_waits > 0);
    // Healed and restarted at the end: no participant is left in doubt.
    assert_eq!(r.in_doubt.runs_blocked_at_end, 0);
}

#[test]
fn two_phase_commit_blocks_while_the_coordinator_stays_down() {
    // Without healing at the end, some runs end with a participant still in doubt.
    let mut c = cfg(CommitProtocol::TwoPhase, &[], true);
    c.heal_at_end = false;
    let r = explore(&c, 0..200).unwrap();
    assert_eq!(r.failing_runs, 0);
    assert!(r.in_doubt.runs_blocked_at_end > 0, "{:?}", r.in_doubt);
}

#[test]
fn cooperative_termination_keeps_atomicity() {
    let mut c = cfg(CommitProtocol::TwoPhase, &[], true);
    c.base.cooperative_termination = true;
    let r = explore(&c, 0..200).unwrap();
    assert_eq!(
        r.failing_runs,
        0,
        "{:?}",
        r.shortest.first().map(|f| &f.violation)
    );
}

#[test]
fn three_phase_commit_is_safe_under_crashes_only() {
    let r = explore(&cfg(CommitProtocol::ThreePhase, &[], false), 0..300).unwrap();
    assert_eq!(
        r.failing_runs,
        0,
        "{:?}",
        r.shortest.first().map(|f| &f.violation)
    );
    assert!(r.committed > 300);
}

#[test]
fn three_phase_commit_under_partitions_is_caught_and_the_run_replays() {
    let r = explore(&cfg(CommitProtocol::ThreePhase, &[], true), 0..300).unwrap();
    assert!(r.failing_runs > 0);
    let f = &r.shortest[0];
    assert!(f.interventions.len() < f.original_len);
    let (_, v) = run_checked(f.scenario.setup().unwrap(), f.interventions.clone());
    assert!(v.iter().any(|w| w.property == f.violation.property));
    // The network is what breaks it: the same schedule without network faults, loss or
    // jitter keeps atomicity.
    let mut calm = f.scenario.clone();
    (calm.loss, calm.jitter_ms) = (0.0, 0);
    let crashes: Vec<_> = f
        .interventions
        .iter()
        .filter(|iv| {
            matches!(
                iv.action,
                Action::Crash { .. } | Action::Restart { .. } | Action::Command { .. }
            )
        })
        .cloned()
        .collect();
    let (_, v) = run_checked(calm.setup().unwrap(), crashes);
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn each_broken_switch_is_caught() {
    for b in Broken::ALL {
        let r = explore(&cfg(CommitProtocol::TwoPhase, &[b], true), 0..200).unwrap();
        assert!(r.failing_runs > 0, "{}", b.name());
        for f in &r.shortest {
            let (_, v) = run_checked(f.scenario.setup().unwrap(), f.interventions.clone());
            assert!(
                v.iter().any(|w| w.property == f.violation.property),
                "{}",
                b.name()
            );
        }
    }
}

#[test]
fn runs_are_deterministic() {
    let c = cfg(CommitProtocol::TwoPhase, &[], true);
    for seed in [3, 17, 99] {
        let s = scenario_for(&c, seed);
        let ivs = random_schedule(&c, &s, seed).unwrap();
        assert_eq!(ivs, random_schedule(&c, &s, seed).unwrap());
        let (e1, a1) = run_analyzed(s.setup().unwrap(), ivs.clone());
        let e2 = Engine::new(s.setup().unwrap(), ivs);
        assert_eq!(trace::to_json(e1.trace()), trace::to_json(e2.trace()));
        let mut a2 = analyze(&e2, Some(e2.trace().len() - 1));
        a2.last_intervention = None;
        assert_eq!(a1, a2);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A transfer plus a competing transaction, with the coordinator and one participant
    /// crashed and restarted at any times and a partition at any time: 2PC never violates
    /// atomicity, and after everything heals every participant has an outcome matching the
    /// coordinator's decision and nobody is in doubt.
    #[test]
    fn two_phase_commit_survives_any_crash_timing(
        c_at in 0u64..120, c_for in 1u64..500,
        p in 1usize..=2, p_at in 0u64..120, p_for in 1u64..500,
        cut_at in 0u64..150, cut_for in 1u64..400,
        coop in any::<bool>(), seed in 0u64..1000,
    ) {
        let mut s = transfer();
        s.seed = seed;
        s.jitter_ms = 5;
        s.cooperative_termination = coop;
        s.transactions.push(TxnSpec::new("T2", 5, vec![WriteSpec::new("shard-b", "bob", -50)]));
        let ivs = vec![
            Intervention::new(c_at, Action::Crash { node: 0 }),
            Intervention::new(c_at + c_for, Action::Restart { node: 0 }),
            Intervention::new(p_at, Action::Crash { node: p }),
            Intervention::new(p_at + p_for, Action::Restart { node: p }),
            Intervention::new(cut_at, Action::Partition { groups: vec![vec![0], vec![1, 2]] }),
            Intervention::new(cut_at + cut_for, Action::Heal),
        ];
        let (e, a) = run_analyzed(s.setup().unwrap(), ivs);
        prop_assert!(a.violations.is_empty(), "{:?}", a.violations);
        prop_assert_eq!(a.still_in_doubt, 0);
        for t in &a.transactions {
            let Some(d) = &t.decision else { continue };
            for o in &t.outcomes {
                if o.voted_yes {
                    prop_assert_eq!(o.committed, Some(d.commit), "{} at {}", t.txn, o.participant);
                }
            }
        }
        // Committed data is exactly the committed transactions' writes.
        let bob = e.world().nodes[2].participant().unwrap().data["bob"];
        let committed = |id: &str| a.txn(id).is_some_and(|t| t.outcomes.iter().any(|o| o.participant == 2 && o.committed == Some(true)));
        let want = 100 + if committed("T1") { 100 } else { 0 } - if committed("T2") { 50 } else { 0 };
        prop_assert_eq!(bob, want);
    }
}
