//! Raft as in the paper's Figure 2: the rules as tables (vote granting, the log
//! consistency check, commit index advance), elections and replication in whole runs, and
//! the monitor catching each "broken Raft" variant.

use distlab_sim::engine::{Action, Ctx, Engine, Intervention};
use distlab_sim::models::raft::explore::explore;
use distlab_sim::models::raft::monitor::{run_checked, Property};
use distlab_sim::models::raft::{
    Broken, Command, Config, Entry, Msg, Node, RaftScenario, Refinement, Request, Role, Server,
};
use distlab_sim::Protocol;
use std::collections::BTreeSet;

fn config(n: usize, broken: &[Broken]) -> Config {
    Config {
        servers: n,
        election_ms: 150,
        heartbeat_ms: 50,
        broken: broken.iter().copied().collect(),
        refinements: BTreeSet::new(),
    }
}

fn entry(term: u64, v: &str) -> Entry {
    Entry {
        term,
        command: Command::Put {
            key: "x".into(),
            value: v.into(),
        },
        client: None,
    }
}

/// A server with a log of the given terms, in `term`.
fn server(n: usize, terms: &[u64], term: u64, broken: &[Broken]) -> Server {
    let mut s = Server::new(config(n, broken), 1, 0);
    s.log = terms
        .iter()
        .enumerate()
        .map(|(i, &t)| entry(t, &i.to_string()))
        .collect();
    s.current_term = term;
    s
}

/// Delivers `msg` from `from` to server `me` with state `s`; returns the messages it sends.
fn deliver(s: &mut Server, me: usize, from: usize, msg: Msg) -> Vec<(usize, Msg)> {
    let mut node = Node::Server(s.clone());
    let mut ctx = Ctx::detached(me, 1_000);
    node.on_message(from, msg, &mut ctx);
    if let Node::Server(after) = node {
        *s = after;
    }
    ctx.sent()
        .into_iter()
        .map(|(to, m)| (to, m.clone()))
        .collect()
}

#[test]
fn up_to_date_check() {
    // (own last terms, candidate's last index, candidate's last term, expected): §5.4.1.
    let rows: &[(&[u64], usize, u64, bool)] = &[
        (&[], 0, 0, true),
        (&[1, 1], 2, 1, true),
        (&[1, 1], 1, 1, false),
        (&[1, 1], 3, 1, true),
        (&[1, 1], 1, 2, true),
        (&[1, 3], 5, 2, false),
        (&[1, 3], 2, 3, true),
        (&[1, 3], 1, 3, false),
    ];
    for &(own, idx, term, want) in rows {
        let s = server(3, own, 3, &[]);
        assert_eq!(
            s.log_ok(idx, term),
            want,
            "own {own:?}, candidate ({idx}, {term})"
        );
    }
}

#[test]
fn vote_granting() {
    // (our term, votedFor, our log terms, request term, candidate log (idx, term), granted,
    //  our term after): Figure 2, RequestVote receiver rules 1 and 2.
    type Row = (
        u64,
        Option<usize>,
        &'static [u64],
        u64,
        (usize, u64),
        bool,
        u64,
    );
    let rows: &[Row] = &[
        (1, None, &[1], 2, (1, 1), true, 2),  // newer term, log as good
        (2, None, &[1], 1, (1, 1), false, 2), // stale term
        (2, Some(2), &[1], 2, (1, 1), false, 2), // already voted for another
        (2, Some(1), &[1], 2, (1, 1), true, 2), // already voted for this one
        (2, Some(2), &[1], 3, (1, 1), true, 3), // new term clears the vote
        (2, None, &[1, 2], 3, (1, 1), false, 3), // candidate's log behind
        (2, None, &[1, 2], 3, (1, 3), true, 3), // higher last term wins
    ];
    for &(term, voted, log, req_term, (idx, lterm), granted, after) in rows {
        let mut s = server(3, log, term, &[]);
        s.voted_for = voted;
        let out = deliver(
            &mut s,
            0,
            1,
            Msg::RequestVote {
                term: req_term,
                last_log_index: idx,
                last_log_term: lterm,
            },
        );
        let Some((
            1,
            Msg::RequestVoteReply {
                granted: g,
                term: t,
            },
        )) = out.first().cloned()
        else {
            panic!("no reply: {out:?}");
        };
        assert_eq!(
            (g, t, s.current_term),
            (granted, after, after),
            "row {term} {voted:?} {log:?} {req_term}"
        );
        if granted {
            assert_eq!(s.voted_for, Some(1));
        }
    }
    // Broken: the up-to-date check is skipped.
    let mut s = server(3, &[1, 2], 2, &[Broken::VoteUpToDateCheck]);
    let out = deliver(
        &mut s,
        0,
        1,
        Msg::RequestVote {
            term: 3,
            last_log_index: 1,
            last_log_term: 1,
        },
    );
    assert!(matches!(
        out[0].1,
        Msg::RequestVoteReply { granted: true, .. }
    ));
}

#[test]
fn append_entries_consistency_check() {
    // (follower log terms, prevLogIndex, prevLogTerm, entry terms, success, log after).
    type Row = (
        &'static [u64],
        usize,
        u64,
        &'static [u64],
        bool,
        &'static [u64],
    );
    let rows: &[Row] = &[
        (&[], 0, 0, &[1], true, &[1]),
        (&[1, 1], 2, 1, &[2], true, &[1, 1, 2]),
        (&[1], 2, 1, &[2], false, &[1]), // missing the previous entry
        (&[1, 1], 2, 2, &[2], false, &[1, 1]), // previous entry of another term
        (&[1, 1, 1, 1], 1, 1, &[2], true, &[1, 2]), // conflict: truncate, append
        (&[1, 2, 2], 1, 1, &[2], true, &[1, 2, 2]), // already there: keep what follows
        (&[1, 2, 3], 3, 3, &[], true, &[1, 2, 3]), // heartbeat
    ];
    for &(log, prev, prev_term, new, success, after) in rows {
        let mut s = server(3, log, 3, &[]);
        let entries = new.iter().map(|&t| entry(t, "n")).collect::<Vec<_>>();
        // Entries already present are equal to the leader's in the "keep" row.
        let entries = entries
            .into_iter()
            .enumerate()
            .map(|(k, e)| {
                s.log
                    .get(prev + k)
                    .filter(|o| o.term == e.term)
                    .cloned()
                    .unwrap_or(e)
            })
            .collect();
        let out = deliver(
            &mut s,
            0,
            1,
            Msg::AppendEntries {
                term: 3,
                prev_log_index: prev,
                prev_log_term: prev_term,
                entries,
                leader_commit: 0,
                round: 0,
            },
        );
        let Some((1, Msg::AppendEntriesReply { success: ok, .. })) = out.first().cloned() else {
            panic!("no reply: {out:?}");
        };
        let terms: Vec<u64> = s.log.iter().map(|e| e.term).collect();
        assert_eq!(
            (ok, terms.as_slice()),
            (success, after),
            "log {log:?} prev ({prev}, {prev_term}) new {new:?}"
        );
    }
}

#[test]
fn commit_index_advance() {
    // 5 servers; leader 0 in term `term` with log terms `log`; followers 1–4 acknowledge
    // `acks` (their match indices). Expected commit index, with and without the
    // current-term rule (§5.4.2).
    type Row = (u64, &'static [u64], [usize; 4], usize, usize);
    let rows: &[Row] = &[
        (2, &[1, 2], [2, 2, 0, 0], 2, 2),
        (2, &[1, 2], [2, 0, 0, 0], 0, 0),    // no majority
        (4, &[1, 2], [2, 2, 0, 0], 0, 2),    // Figure 8 (c): index 2 is from term 2
        (4, &[1, 2, 4], [3, 3, 0, 0], 3, 3), // Figure 8 (e): a term-4 entry commits both
        (3, &[1, 3, 3], [3, 1, 1, 0], 0, 1), // index 1 on a majority, but of term 1
        (3, &[1, 3, 3], [3, 3, 1, 0], 3, 3), // index 3 (term 3) on a majority
    ];
    for &(term, log, acks, want, want_broken) in rows {
        for (broken, expect) in [
            (vec![], want),
            (vec![Broken::CurrentTermCommit], want_broken),
        ] {
            let mut s = server(5, log, term, &broken);
            // Make it leader of `term` by votes.
            s.role = Role::Candidate;
            s.voted_for = Some(0);
            s.votes = BTreeSet::from([0]);
            for v in 1..=2 {
                deliver(
                    &mut s,
                    0,
                    v,
                    Msg::RequestVoteReply {
                        term,
                        granted: true,
                    },
                );
            }
            assert_eq!(s.role, Role::Leader);
            for (f, &m) in acks.iter().enumerate() {
                if m > 0 {
                    deliver(
                        &mut s,
                        0,
                        f + 1,
                        Msg::AppendEntriesReply {
                            term,
                            success: true,
                            prev_log_index: 0,
                            match_index: m,
                            round: 0,
                        },
                    );
                }
            }
            assert_eq!(
                s.commit_index, expect,
                "term {term}, log {log:?}, acks {acks:?}, broken {broken:?}"
            );
        }
    }
}

fn three() -> RaftScenario {
    let mut s = RaftScenario::cluster(3, 7);
    s.duration_ms = 2_000;
    s
}

fn leaders(e: &Engine<Node>) -> Vec<(usize, u64)> {
    e.world()
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n {
            Node::Server(s) if s.role == Role::Leader && e.world().up[i] => {
                Some((i, s.current_term))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_leader_is_elected_and_writes_commit_everywhere() {
    let s = three();
    let client = 3;
    let ivs = (0..5)
        .map(|k| {
            Intervention::new(
                400 + 100 * k,
                Action::Request {
                    client,
                    request: Request::Put {
                        key: "x".into(),
                        value: k.to_string(),
                    },
                    label: None,
                },
            )
        })
        .collect();
    let (e, violations) = run_checked(s.setup().unwrap(), ivs);
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(leaders(&e).len(), 1, "one leader at the end");
    let returned = e.trace().iter().flat_map(|ev| ev.returned.iter()).count();
    assert_eq!(returned, 5, "every write returns");
    for n in &e.world().nodes[..3] {
        let Node::Server(sv) = n else { unreachable!() };
        assert_eq!(
            sv.kv.get("x").map(String::as_str),
            Some("4"),
            "every server applied the last write"
        );
        assert_eq!(sv.commit_index, sv.log.len());
    }
}

#[test]
fn crashing_the_leader_elects_another_in_a_higher_term() {
    let s = three();
    let e = Engine::new(s.setup().unwrap(), Vec::new());
    let (old, term) = leaders(&e)[0];
    let ivs = vec![Intervention::new(600, Action::Crash { node: old })];
    let (e, violations) = run_checked(s.setup().unwrap(), ivs);
    assert!(violations.is_empty(), "{violations:?}");
    let now = leaders(&e);
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].0, old);
    assert!(now[0].1 > term);
}

/// The randomized search: 2,000 seeds of random faults find no violation in Raft as in the
/// paper; each broken variant is caught by some seed in the same range, with the property
/// its rule protects, and its shrunk schedule still fails when replayed while dropping any
/// one of its interventions makes it pass.
#[test]
fn randomized_search_finds_only_broken_rules() {
    let mut base = RaftScenario::cluster(5, 0);
    base.duration_ms = 2_500;
    let report = explore(&base, 0, 2_000, 1).unwrap();
    assert_eq!(report.failing_runs, 0, "{:?}", report.shortest);
    assert!(
        report.events > 2_000 * 300,
        "the runs do something: {} events",
        report.events
    );
    for (rule, properties) in [
        (
            Broken::VoteUpToDateCheck,
            &[Property::LeaderCompleteness, Property::StateMachineSafety][..],
        ),
        (
            Broken::CurrentTermCommit,
            &[Property::LeaderCompleteness, Property::StateMachineSafety][..],
        ),
        (Broken::PersistVotedFor, &[Property::ElectionSafety][..]),
        (
            Broken::ReadLeadershipCheck,
            &[Property::LinearizableReads][..],
        ),
    ] {
        let mut broken = base.clone();
        broken.broken = BTreeSet::from([rule]);
        if rule == Broken::ReadLeadershipCheck {
            // It breaks a refinement: reads by read index.
            broken.refinements = BTreeSet::from([Refinement::ReadIndex]);
        }
        let found = (0..2_000)
            .find_map(|seed| {
                let r = explore(&broken, seed, 1, 1).unwrap();
                r.shortest.into_iter().next()
            })
            .unwrap_or_else(|| panic!("no seed in 0..2000 breaks {rule:?}"));
        assert!(
            properties.contains(&found.violation.property),
            "{rule:?}: {:?}",
            found.violation
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
        // The same schedule on correct Raft violates nothing.
        let mut fixed = found.scenario.clone();
        fixed.broken.clear();
        let (_, v) = run_checked(fixed.setup().unwrap(), found.interventions.clone());
        assert!(
            v.is_empty(),
            "{rule:?}: correct Raft survives the same faults: {v:?}"
        );
    }
}
