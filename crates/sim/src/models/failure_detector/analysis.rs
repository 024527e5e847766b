//! What a failure-detection run shows, recomputed from its recorded heartbeat arrivals:
//! per monitored node the φ series at every sample point, the suspicion intervals of both
//! detectors, which suspicions were **false** (the node was up: paused, slow or its
//! heartbeats lost) and the **detection time** of each real crash; and a sweep of thresholds
//! and timeouts over the same arrivals. φ is a function of the arrival times alone (Hayashibara
//! et al. 2004), so another threshold needs no new run: the sweep shows the trade-off as
//! numbers — a higher threshold or a longer timeout never suspects more often falsely and
//! never detects a crash sooner.
//!
//! Sampling follows the monitor ([`super`]): at each `k · sample_ms` up to the end, after
//! the arrivals at or before that instant; an arrival ends a suspicion at its own time. A
//! monitor crash forgets every history (no sample while it is down).

use super::{Msg, Node, PhiHistory, PhiParams, View};
use crate::engine::Engine;
use crate::trace::EventKind;
use crate::{NodeId, Time};
use serde::Serialize;

/// The thresholds of the φ sweep.
pub const SWEEP_THRESHOLDS: [f64; 7] = [1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 16.0];
/// The timeouts of the fixed-timeout sweep, ms.
pub const SWEEP_TIMEOUTS: [Time; 8] = [150, 200, 300, 500, 750, 1000, 1500, 2000];

/// Which detector, with its setting.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Detector {
    /// Suspect when the silence exceeds `ms`.
    Timeout { ms: Time },
    /// Suspect when φ ≥ `threshold` (the other φ parameters are the scenario's).
    Phi { threshold: f64 },
}

/// One period during which a detector suspected a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suspicion {
    /// The sample point at which it began, ms.
    pub from: Time,
    /// When it ended (a heartbeat arrived, or the monitor crashed); `None`: still at the end.
    pub to: Option<Time>,
    /// The node was up when it began: a false suspicion.
    pub false_suspicion: bool,
}

/// A real crash of a monitored node and how long a detector took to notice it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Detection {
    pub crash_at: Time,
    /// When the node restarted, if it did before the end.
    pub restart_at: Option<Time>,
    /// From the crash to the start of the suspicion that lasts until the node is back (or
    /// the end), ms (0 when that suspicion had already begun); `None`: not detected.
    pub after_ms: Option<Time>,
}

/// One monitored node's story.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeReport {
    pub node: NodeId,
    pub name: String,
    /// Heartbeat arrivals at the monitor, ms.
    pub arrivals: Vec<Time>,
    /// φ at every sample point while the monitor was up and had heard from the node.
    pub phi: Vec<(Time, f64)>,
    /// The silence (time since the last arrival) at the same points, ms.
    pub silence: Vec<(Time, Time)>,
    pub timeout: Vec<Suspicion>,
    pub phi_suspicions: Vec<Suspicion>,
    /// `(crash, restart)` periods, ms.
    pub down: Vec<(Time, Option<Time>)>,
    /// Stop-the-world pauses `(from, until)`, ms.
    pub pauses: Vec<(Time, Time)>,
    pub timeout_detections: Vec<Detection>,
    pub phi_detections: Vec<Detection>,
}

/// One row of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepRow {
    pub detector: Detector,
    /// False suspicions over all monitored nodes.
    pub false_suspicions: usize,
    /// Real crashes in the run.
    pub crashes: usize,
    /// The slowest detection over the crashes, ms; `None` when a crash went undetected
    /// (or there was none: see `crashes`).
    pub detection_ms: Option<Time>,
    /// Crashes not detected before the end.
    pub undetected: usize,
}

/// A failure-detection run analysed up to a trace step.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Analysis {
    /// The last instant analysed, ms.
    pub end: Time,
    pub sample_ms: Time,
    /// The scenario's φ threshold and timeout (what the monitor ran with).
    pub threshold: f64,
    pub timeout_ms: Time,
    pub nodes: Vec<NodeReport>,
    /// [`SWEEP_THRESHOLDS`] plus the scenario's threshold, ascending.
    pub phi_sweep: Vec<SweepRow>,
    /// [`SWEEP_TIMEOUTS`] plus the scenario's timeout, ascending.
    pub timeout_sweep: Vec<SweepRow>,
    /// The monitor's down periods.
    pub monitor_down: Vec<(Time, Option<Time>)>,
}

impl Analysis {
    /// False suspicions by the fixed timeout, over all nodes.
    pub fn timeout_false(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| n.timeout.iter().filter(|s| s.false_suspicion).count())
            .sum()
    }
    /// False suspicions by φ accrual, over all nodes.
    pub fn phi_false(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| {
                n.phi_suspicions
                    .iter()
                    .filter(|s| s.false_suspicion)
                    .count()
            })
            .sum()
    }
    /// The slowest φ detection over the run's crashes; `None` if one went undetected or
    /// there was no crash.
    pub fn phi_detection(&self) -> Option<Time> {
        worst(self.nodes.iter().flat_map(|n| &n.phi_detections))
    }
    /// The slowest timeout detection (as [`Analysis::phi_detection`]).
    pub fn timeout_detection(&self) -> Option<Time> {
        worst(self.nodes.iter().flat_map(|n| &n.timeout_detections))
    }
    /// Real crashes of monitored nodes.
    pub fn crashes(&self) -> usize {
        self.nodes.iter().map(|n| n.down.len()).sum()
    }
    /// The highest φ sampled, over all nodes.
    pub fn max_phi(&self) -> f64 {
        self.nodes
            .iter()
            .flat_map(|n| n.phi.iter().map(|p| p.1))
            .fold(0.0, f64::max)
    }
}

fn worst<'a>(d: impl Iterator<Item = &'a Detection>) -> Option<Time> {
    let mut any = false;
    let mut max = 0;
    for x in d {
        any = true;
        max = max.max(x.after_ms?);
    }
    any.then_some(max)
}

/// What the evaluation of one node needs: its arrivals and the monitor's resets.
struct Input<'a> {
    arrivals: &'a [Time],
    monitor_down: &'a [(Time, Option<Time>)],
    down: &'a [(Time, Option<Time>)],
    end: Time,
    sample: Time,
}

struct Evaluated {
    phi: Vec<(Time, f64)>,
    silence: Vec<(Time, Time)>,
    timeout: Vec<Suspicion>,
    phi_suspicions: Vec<Suspicion>,
}

fn is_up(down: &[(Time, Option<Time>)], t: Time) -> bool {
    !down.iter().any(|&(c, r)| t >= c && r.is_none_or(|r| t < r))
}

/// Replays one node's arrivals through both detectors, sampling every `sample` ms.
fn evaluate(inp: &Input, p: &PhiParams, timeout: Time, series: bool) -> Evaluated {
    let mut out = Evaluated {
        phi: Vec::new(),
        silence: Vec::new(),
        timeout: Vec::new(),
        phi_suspicions: Vec::new(),
    };
    let mut h = PhiHistory::new();
    let mut t_open: Option<Time> = None;
    let mut p_open: Option<Time> = None;
    let mut ai = 0;
    // Monitor events: crashes reset, in time order.
    let mut resets: Vec<Time> = inp.monitor_down.iter().map(|d| d.0).collect();
    resets.sort_unstable();
    let mut ri = 0;
    let close = |open: &mut Option<Time>, at: Time, v: &mut Vec<Suspicion>| {
        if let Some(from) = open.take() {
            v.push(Suspicion {
                from,
                to: Some(at),
                false_suspicion: is_up(inp.down, from),
            });
        }
    };
    let s = inp.sample.max(1);
    let mut g = s;
    loop {
        let upto = g.min(inp.end);
        // Everything at or before this sample point, in time order.
        loop {
            let a = inp.arrivals.get(ai).copied().filter(|&a| a <= upto);
            let r = resets.get(ri).copied().filter(|&r| r <= upto);
            match (a, r) {
                (Some(a), r) if r.is_none_or(|r| a < r) => {
                    close(&mut t_open, a, &mut out.timeout);
                    close(&mut p_open, a, &mut out.phi_suspicions);
                    h.heartbeat(a, p);
                    ai += 1;
                }
                (_, Some(r)) => {
                    close(&mut t_open, r, &mut out.timeout);
                    close(&mut p_open, r, &mut out.phi_suspicions);
                    h = PhiHistory::new();
                    ri += 1;
                }
                _ => break,
            }
        }
        if g > inp.end {
            break;
        }
        if let (Some(last), true) = (h.last, is_up(inp.monitor_down, g)) {
            let phi = h.phi_at(g, p);
            if series {
                out.phi.push((g, phi));
                out.silence.push((g, g - last));
            }
            if t_open.is_none() && g - last > timeout {
                t_open = Some(g);
            }
            if p_open.is_none() && phi >= p.threshold {
                p_open = Some(g);
            }
        }
        g += s;
    }
    for (open, v) in [
        (t_open, &mut out.timeout),
        (p_open, &mut out.phi_suspicions),
    ] {
        if let Some(from) = open {
            v.push(Suspicion {
                from,
                to: None,
                false_suspicion: is_up(inp.down, from),
            });
        }
    }
    out
}

fn detections(down: &[(Time, Option<Time>)], sus: &[Suspicion], end: Time) -> Vec<Detection> {
    down.iter()
        .map(|&(c, r)| {
            let back = r.unwrap_or(end);
            let lasting = sus
                .iter()
                .find(|s| s.from <= back && s.to.is_none_or(|to| to >= back && to > c));
            Detection {
                crash_at: c,
                restart_at: r,
                after_ms: lasting.map(|s| s.from.max(c) - c),
            }
        })
        .collect()
}

fn sweep_row(inputs: &[Input], p: &PhiParams, d: Detector) -> SweepRow {
    let mut row = SweepRow {
        detector: d,
        false_suspicions: 0,
        crashes: 0,
        detection_ms: None,
        undetected: 0,
    };
    let mut all = Vec::new();
    for inp in inputs {
        let (pp, timeout) = match d {
            Detector::Timeout { ms } => (*p, ms),
            Detector::Phi { threshold } => (PhiParams { threshold, ..*p }, Time::MAX),
        };
        let e = evaluate(inp, &pp, timeout, false);
        let sus = match d {
            Detector::Timeout { .. } => &e.timeout,
            Detector::Phi { .. } => &e.phi_suspicions,
        };
        row.false_suspicions += sus.iter().filter(|s| s.false_suspicion).count();
        let det = detections(inp.down, sus, inp.end);
        row.crashes += det.len();
        row.undetected += det.iter().filter(|d| d.after_ms.is_none()).count();
        all.extend(det);
    }
    row.detection_ms = worst(all.iter());
    row
}

/// Analyses `engine`'s run up to trace step `upto` (the whole run when it is the last step:
/// the analysis then runs to the run's horizon).
pub fn analyze(engine: &Engine<Node>, upto: Option<usize>) -> Analysis {
    let trace = engine.trace();
    let Some(upto) = upto else {
        return Analysis::default();
    };
    let upto = upto.min(trace.len().saturating_sub(1));
    let events = &trace[..=upto.min(trace.len().saturating_sub(1))];
    let end = if upto + 1 >= trace.len() {
        engine.horizon()
    } else {
        trace[upto].time
    };
    let Some(Node::Monitor(monitor)) = engine.world().nodes.first() else {
        return Analysis::default();
    };
    let config = monitor.config.clone();
    let names: Vec<String> = engine.nodes().iter().map(|n| n.name.clone()).collect();
    let count = engine.nodes().len();
    let mut arrivals: Vec<Vec<Time>> = vec![Vec::new(); count];
    let mut down: Vec<Vec<(Time, Option<Time>)>> = vec![Vec::new(); count];
    let mut pauses: Vec<Vec<(Time, Time)>> = vec![Vec::new(); count];
    for ev in events {
        let Some(n) = ev.node else { continue };
        match &ev.kind {
            EventKind::Deliver {
                from,
                payload: Msg::Heartbeat { .. },
                ..
            } if n == 0 => arrivals[*from].push(ev.time),
            EventKind::Crash => {
                down[n].push((ev.time, None));
                if let Some(p) = pauses[n].last_mut() {
                    if p.1 > ev.time && p.0 <= ev.time {
                        p.1 = ev.time;
                    }
                }
            }
            EventKind::Restart => {
                if let Some(d) = down[n].last_mut() {
                    d.1.get_or_insert(ev.time);
                }
            }
            _ => {}
        }
        if let Some(View::Monitored {
            paused_until: Some(u),
            ..
        }) = &ev.state
        {
            match pauses[n].last_mut() {
                Some(p) if p.0 <= ev.time && ev.time < p.1 => p.1 = *u,
                _ => pauses[n].push((ev.time, *u)),
            }
        }
    }
    let monitor_down = down[0].clone();
    let inputs: Vec<Input> = config
        .watched
        .iter()
        .map(|&n| Input {
            arrivals: &arrivals[n],
            monitor_down: &monitor_down,
            down: &down[n],
            end,
            sample: config.sample_ms,
        })
        .collect();
    let nodes = config
        .watched
        .iter()
        .zip(&inputs)
        .map(|(&n, inp)| {
            let e = evaluate(inp, &config.phi, config.timeout_ms, true);
            NodeReport {
                node: n,
                name: names[n].clone(),
                arrivals: arrivals[n].clone(),
                timeout_detections: detections(&down[n], &e.timeout, end),
                phi_detections: detections(&down[n], &e.phi_suspicions, end),
                phi: e.phi,
                silence: e.silence,
                timeout: e.timeout,
                phi_suspicions: e.phi_suspicions,
                down: down[n].clone(),
                pauses: pauses[n]
                    .iter()
                    .map(|&(a, b)| (a, b.min(end)))
                    .filter(|&(a, _)| a <= end)
                    .collect(),
            }
        })
        .collect();
    let mut thresholds: Vec<f64> = SWEEP_THRESHOLDS.to_vec();
    if !thresholds.contains(&config.phi.threshold) {
        thresholds.push(config.phi.threshold);
    }
    thresholds.sort_by(f64::total_cmp);
    let mut timeouts: Vec<Time> = SWEEP_TIMEOUTS.to_vec();
    if !timeouts.contains(&config.timeout_ms) {
        timeouts.push(config.timeout_ms);
    }
    timeouts.sort_unstable();
    Analysis {
        end,
        sample_ms: config.sample_ms,
        threshold: config.phi.threshold,
        timeout_ms: config.timeout_ms,
        phi_sweep: thresholds
            .into_iter()
            .map(|threshold| sweep_row(&inputs, &config.phi, Detector::Phi { threshold }))
            .collect(),
        timeout_sweep: timeouts
            .into_iter()
            .map(|ms| sweep_row(&inputs, &config.phi, Detector::Timeout { ms }))
            .collect(),
        nodes,
        monitor_down,
    }
}
