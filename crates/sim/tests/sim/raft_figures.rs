//! The presets as tests of outcomes: the paper's Figure 7 (follower logs repaired) and
//! Figure 8 (why only current-term entries are committed by counting), with and without the
//! rule, and the situations a lecturer shows (election, leader crash, split vote, a
//! partitioned old leader).

use distlab_sim::engine::Engine;
use distlab_sim::models::raft::monitor::{run_checked, Property, Violation};
use distlab_sim::models::raft::presets::{self, Preset};
use distlab_sim::models::raft::{Command, Msg, Node, Role, Server};
use distlab_sim::trace::EventKind;

fn run(id: &str) -> (Preset, Engine<Node>, Vec<Violation>) {
    let p = presets::by_id(id).unwrap_or_else(|| panic!("no preset {id}"));
    let (e, v) = run_checked(p.scenario.setup().unwrap(), p.interventions.clone());
    (p, e, v)
}

fn servers(e: &Engine<Node>) -> Vec<&Server> {
    e.world()
        .nodes
        .iter()
        .filter_map(|n| match n {
            Node::Server(s) => Some(s),
            Node::Client(_) => None,
        })
        .collect()
}

fn terms(s: &Server) -> Vec<u64> {
    s.log.iter().map(|e| e.term).collect()
}

/// Elections won, in order: (server, term).
fn elections(e: &Engine<Node>) -> Vec<(usize, u64)> {
    e.trace()
        .iter()
        .flat_map(|ev| {
            ev.notes.iter().filter_map(move |n| {
                n.strip_prefix("leader of term ")
                    .map(|t| (ev.node.unwrap(), t.parse().unwrap()))
            })
        })
        .collect()
}

#[test]
fn every_preset_is_valid_and_has_an_id_of_its_own() {
    let all = presets::all();
    assert_eq!(all.len(), 8);
    let mut ids: Vec<&str> = all.iter().map(|p| p.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len());
    for p in &all {
        p.scenario.setup().unwrap();
        assert!(!p.interventions.is_empty(), "{}", p.id);
    }
}

#[test]
fn figure_7_the_leader_repairs_every_follower_log() {
    let (p, e, v) = run("figure-7");
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(elections(&e), [(0, 8)], "the top server leads term 8");
    // c and d refused their votes: their logs are more up-to-date (§5.4.1).
    let refused: Vec<usize> = e
        .trace()
        .iter()
        .filter(|ev| {
            ev.sent
                .iter()
                .any(|s| matches!(s.payload, Msg::RequestVoteReply { granted: false, .. }))
        })
        .filter_map(|ev| ev.node)
        .collect();
    assert_eq!(refused, [3, 4], "c and d refuse");
    let want = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8];
    for (i, s) in servers(&e).iter().enumerate() {
        assert_eq!(terms(s), want, "{}", p.scenario.servers[i]);
        assert_eq!(s.commit_index, 11, "{}", p.scenario.servers[i]);
    }
    // Where each follower's log matched the leader's: the highest prevLogIndex it
    // accepted before the write, after refusing every higher one (nextIndex back-off).
    for (follower, matched) in [(1, 9), (2, 4), (3, 10), (4, 10), (5, 5), (6, 3)] {
        let mut refused_above = Vec::new();
        let mut accepted = None;
        for ev in e.trace() {
            if ev.node != Some(follower) {
                continue;
            }
            for s in &ev.sent {
                if let Msg::AppendEntriesReply {
                    success,
                    prev_log_index,
                    ..
                } = s.payload
                {
                    if success && accepted.is_none() {
                        accepted = Some(prev_log_index);
                    } else if !success {
                        refused_above.push(prev_log_index);
                    }
                }
            }
        }
        let name = &p.scenario.servers[follower];
        assert_eq!(accepted, Some(matched), "{name} first accepted");
        for i in matched + 1..=10 {
            assert!(
                refused_above.contains(&i),
                "{name} refused prevLogIndex {i}"
            );
        }
    }
}

#[test]
fn figure_8_with_the_rule_the_overwritten_entry_was_never_committed() {
    let (_, e, v) = run("figure-8");
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(
        elections(&e),
        [(0, 4), (4, 5)],
        "S1 in term 4, then S5 in term 5"
    );
    let s = servers(&e);
    // S1 (crashed) still holds the term-2 entry on disk, uncommitted; S5 overwrote it on
    // everyone else.
    assert_eq!(terms(s[0]), [1, 2]);
    for f in &s[1..] {
        assert_eq!(terms(f), [1, 3]);
    }
    // The term-2 entry reached a majority (S1, S2, S3, S4) while S1 led term 4 …
    let replicated_to = |node: usize| {
        e.trace().iter().any(|ev| {
            ev.node == Some(node)
                && matches!(&ev.kind, EventKind::Deliver { payload: Msg::AppendEntries { term: 4, entries, .. }, .. } if entries.iter().any(|x| x.term == 2))
        })
    };
    assert!(replicated_to(2) && replicated_to(3), "S3 and S4 got it");
    // … yet nobody ever committed or applied anything at index 2 before S5 overwrote it.
    let mut committed_2 = false;
    e.replay(e.trace().len() - 1, |_, w| {
        for n in &w.nodes {
            if let Node::Server(s) = n {
                if s.current_term == 4 && s.commit_index >= 2 {
                    committed_2 = true;
                }
            }
        }
    });
    assert!(!committed_2, "index 2 is not committed in term 4");
}

#[test]
fn figure_8_without_the_rule_a_committed_entry_is_overwritten() {
    let (_, e, v) = run("figure-8-broken");
    assert_eq!(elections(&e), [(0, 4), (4, 5)]);
    let props: Vec<Property> = v.iter().map(|v| v.property).collect();
    assert_eq!(
        props,
        [Property::LeaderCompleteness, Property::StateMachineSafety],
        "{v:?}"
    );
    assert!(
        v[0].text.contains("S5, leader of term 5, lacks entry 2"),
        "{}",
        v[0].text
    );
    assert!(
        v[1].text.contains(
            "S5 applied put x=t3 (term 3) at index 2, where S1 applied put x=t2 (term 2)"
        ),
        "{}",
        v[1].text
    );
}

#[test]
fn figure_8_e_a_current_term_entry_commits_and_s5_cannot_win() {
    let (_, e, v) = run("figure-8-e");
    assert!(v.is_empty(), "{v:?}");
    let won = elections(&e);
    assert_eq!(won[0], (0, 4));
    assert!(won.iter().all(|&(s, _)| s != 4), "S5 never leads: {won:?}");
    for s in servers(&e) {
        assert_eq!(terms(s), [1, 2, 4], "both entries survive everywhere");
    }
    // The client's write (term 4) was acknowledged before S1 crashed at 100 ms.
    let ack = e
        .trace()
        .iter()
        .find(|ev| !ev.returned.is_empty())
        .map(|ev| (ev.time, ev.returned[0].1.index));
    assert!(matches!(ack, Some((t, 3)) if t < 100), "{ack:?}");
}

#[test]
fn the_election_presets_do_what_they_say() {
    let (_, e, v) = run("normal-election");
    assert!(v.is_empty());
    assert_eq!(elections(&e), [(2, 1)]);
    assert!(servers(&e).iter().all(|s| s.commit_index == 1));

    let (_, e, v) = run("leader-crash");
    assert!(v.is_empty());
    let won = elections(&e);
    assert_eq!(won.len(), 2);
    assert!(won[1].0 != won[0].0 && won[1].1 > won[0].1, "{won:?}");
    let returned: Vec<usize> = e
        .trace()
        .iter()
        .flat_map(|ev| ev.returned.iter().map(|(_, r)| r.index))
        .collect();
    assert_eq!(returned, [1, 2], "both writes committed, the first kept");

    let (_, e, v) = run("split-vote");
    assert!(v.is_empty());
    let candidacies: Vec<&String> = e
        .trace()
        .iter()
        .flat_map(|ev| ev.notes.iter())
        .filter(|n| n.starts_with("candidate for term 2"))
        .collect();
    assert_eq!(candidacies.len(), 2, "two candidates in term 2");
    let won = elections(&e);
    assert!(
        won.iter().all(|&(_, t)| t != 2),
        "nobody wins term 2: {won:?}"
    );
    assert!(won.iter().any(|&(_, t)| t == 3), "term 3 elects: {won:?}");
}

#[test]
fn a_partitioned_old_leader_cannot_commit_and_steps_down_on_healing() {
    let (p, e, v) = run("partitioned-leader");
    assert!(v.is_empty(), "{v:?}");
    let won = elections(&e);
    let old = won[0].0;
    assert_eq!(won.len(), 2, "{won:?}");
    // While cut off, the old leader appended the stale write but never committed it.
    let mut during = None;
    e.replay(e.trace().len() - 1, |_, w| {
        if (1_700..1_800).contains(&w.now) {
            if let Node::Server(s) = &w.nodes[old] {
                during = Some((s.role, s.log.len(), s.commit_index));
            }
        }
    });
    assert_eq!(
        during,
        Some((Role::Leader, 2, 1)),
        "leader with an uncommitted entry"
    );
    let steps_down = e
        .trace()
        .iter()
        .find(|ev| ev.node == Some(old) && ev.notes.iter().any(|n| n.contains("leader steps down")))
        .map(|ev| ev.time);
    assert!(
        matches!(steps_down, Some(t) if t >= 1_800),
        "{steps_down:?}"
    );
    let a = distlab_sim::models::raft::analysis::analyze(&e, Some(e.trace().len() - 1));
    let downs: Vec<(usize, u64)> = a.step_downs.iter().map(|t| (t.node, t.term)).collect();
    assert_eq!(downs, [(old, 1)], "the analysis reports the step-down");
    assert_eq!(Some(a.step_downs[0].time), steps_down);
    // Its entry 2 was overwritten by the new leader's; every log agrees at the end.
    let s = servers(&e);
    for x in &s {
        assert_eq!(x.log, s[won[1].0].log);
    }
    assert_eq!(
        s[old].log[1].command,
        Command::Put {
            key: "x".into(),
            value: "2".into()
        }
    );
    // The client's retry of its stale write reached the new leader: a new entry 3.
    assert_eq!(
        s[old].log[2].command,
        Command::Put {
            key: "x".into(),
            value: "stale".into()
        }
    );
    assert!(p.summary.contains("never commit"));
}

#[test]
fn diagram_arrows_carry_the_term_of_their_message() {
    use distlab_sim::diagram::Diagram;
    let (_, e, _) = run("split-vote");
    let d = Diagram::build(&e);
    let mut terms = std::collections::BTreeSet::new();
    for (a, s) in d
        .arrows
        .iter()
        .zip(e.trace().iter().flat_map(|ev| ev.sent.iter()))
    {
        assert_eq!(a.id, s.id);
        let want = match &s.payload {
            Msg::RequestVote { term, .. }
            | Msg::RequestVoteReply { term, .. }
            | Msg::AppendEntries { term, .. }
            | Msg::AppendEntriesReply { term, .. } => Some(("term", *term)),
            _ => None,
        };
        assert_eq!(a.epoch, want, "{}", a.label);
        if let Some((_, t)) = a.epoch {
            terms.insert(t);
        }
    }
    assert_eq!(terms, [1, 2, 3].into(), "terms 1, 2 (split) and 3");
}

#[test]
fn the_raft_lab_has_one_step_per_preset() {
    let lab = presets::lab_lesson();
    let all = presets::all();
    assert_eq!((lab.id.as_str(), lab.model.as_str()), ("raft-lab", "raft"));
    assert_eq!(lab.steps.len(), all.len());
    for (step, p) in lab.steps.iter().zip(&all) {
        assert_eq!(step.title, p.title);
        let (s, ivs) = step.raft().expect("a Raft step");
        assert_eq!((s, ivs), (&p.scenario, &p.interventions[..]));
        assert!(step.html.starts_with("<p>"), "{}", step.html);
    }
    // As the app reads it: through JSON.
    let json = serde_json::to_string(&lab).unwrap();
    let back: distlab_sim::lesson::ResolvedLesson = serde_json::from_str(&json).unwrap();
    assert_eq!(back, lab);
}
