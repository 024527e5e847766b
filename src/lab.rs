//! The state of one lab: a run (scenario + interventions → engine), the cursor and the
//! animated playback time. Components read it; only the methods here change it.

use crate::diagram::{DiagramView, Highlight};
use distlab_sim::diagram::Diagram;
use distlab_sim::models::{EngineModel, Replication};
use distlab_sim::{Action, Engine, EventKind, Intervention, Protocol, Time};
use leptos::prelude::*;

/// Playback speeds offered (multiples of [`BASE_RATE`]).
pub const SPEEDS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];
/// Simulated milliseconds per real second at speed 1×.
pub const BASE_RATE: f64 = 250.0;

/// A lab's reactive state for any engine model `M` (replication by default). `Copy`:
/// every field is a signal handle.
pub struct Lab<M: EngineModel + 'static = Replication> {
    pub scenario: RwSignal<M::Scenario>,
    pub engine: RwSignal<Engine<M::Node>>,
    /// Built from the engine's trace whenever it changes.
    pub diagram: Memo<Diagram>,
    /// The step the learner has moved to (`None`: before the first event).
    pub cursor: RwSignal<Option<usize>>,
    /// Animated simulated time (ms) shown on the diagram; catches up with the cursor.
    pub display_time: RwSignal<f64>,
    /// The last step at or before both the cursor and the display time: what is drawn.
    pub shown: Memo<Option<usize>>,
    pub playing: RwSignal<bool>,
    /// Index into [`SPEEDS`].
    pub speed: RwSignal<usize>,
    /// Horizontal zoom of the diagram: 1 = the whole run fits the width.
    pub zoom: RwSignal<f64>,
    /// What the panels show: follows `shown`, at most ~7 times a second while playing.
    pub panel_step: RwSignal<Option<usize>>,
    /// The model's analysis of the run at `panel_step`.
    pub analysis: Memo<M::Analysis>,
    /// A message for the learner about the last thing they tried (e.g. an error).
    pub notice: RwSignal<Option<String>>,
    animating: StoredValue<bool>,
}

impl<M: EngineModel + 'static> Clone for Lab<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M: EngineModel + 'static> Copy for Lab<M> {}

impl<M: EngineModel + 'static> Lab<M> {
    pub fn new(
        scenario: M::Scenario,
        interventions: Vec<Intervention<M::Node>>,
    ) -> Result<Lab<M>, String> {
        let engine = Engine::new(M::setup(&scenario)?, interventions);
        let engine = RwSignal::new(engine);
        let cursor = RwSignal::new(None);
        let display_time = RwSignal::new(0.0);
        let diagram = Memo::new(move |_| engine.with(Diagram::build));
        let shown = Memo::new(move |_| {
            let t = display_time.get();
            let c: usize = cursor.get()?;
            engine.with(|e| {
                let tr = e.trace();
                let c = c.min(tr.len().checked_sub(1)?);
                // Steps are in time order: walk back from the cursor to the display time.
                let mut s = c;
                while tr[s].time as f64 > t + 1e-6 {
                    if s == 0 {
                        return None;
                    }
                    s -= 1;
                }
                Some(s)
            })
        });
        let playing = RwSignal::new(false);
        let panel_step = RwSignal::new(None);
        let last_panel = StoredValue::new(0.0);
        Effect::new(move |_| {
            let s = shown.get();
            let t = now_ms();
            if !playing.get() || t - last_panel.get_value() > 150.0 {
                last_panel.set_value(t);
                if panel_step.get_untracked() != s {
                    panel_step.set(s);
                }
            }
        });
        let scenario = RwSignal::new(scenario);
        let analysis = Memo::new(move |_| {
            let s = panel_step.get();
            scenario.with(|sc| engine.with(|e| M::analyze(sc, e, s)))
        });
        Ok(Lab {
            scenario,
            engine,
            diagram,
            cursor,
            display_time,
            shown,
            playing,
            panel_step,
            speed: RwSignal::new(2),
            zoom: RwSignal::new(1.0),
            analysis,
            notice: RwSignal::new(None),
            animating: StoredValue::new(false),
        })
    }

    /// Replaces the run (a lesson step, or a new scenario) and puts the cursor at `cursor`.
    pub fn load(
        &self,
        scenario: M::Scenario,
        interventions: Vec<Intervention<M::Node>>,
        cursor: Option<usize>,
    ) -> Result<(), String> {
        let setup = M::setup(&scenario)?;
        self.playing.set(false);
        self.engine.set(Engine::new(setup, interventions));
        self.scenario.set(scenario);
        self.jump(cursor);
        Ok(())
    }

    /// Number of events in the trace (untracked: for event handlers and the animation loop).
    pub fn len(&self) -> usize {
        self.engine.with_untracked(|e| e.trace().len())
    }

    fn time_of(&self, step: Option<usize>) -> Time {
        step.map_or(0, |s| {
            self.engine
                .with_untracked(|e| e.trace().get(s).map_or(0, |ev| ev.time))
        })
    }

    /// The simulated time of the cursor (ms).
    pub fn now(&self) -> Time {
        self.time_of(self.cursor.get_untracked())
    }

    /// Moves the cursor without animation.
    pub fn jump(&self, step: Option<usize>) {
        let step = step
            .map(|s| s.min(self.len().saturating_sub(1)))
            .filter(|_| self.len() > 0);
        self.cursor.set(step);
        self.display_time.set(self.time_of(step) as f64);
    }

    /// One event forward, animating messages in flight.
    pub fn step_forward(&self) {
        let n = self.len();
        let next = match self.cursor.get_untracked() {
            None if n > 0 => Some(0),
            Some(s) if s + 1 < n => Some(s + 1),
            _ => return,
        };
        self.cursor.set(next);
        self.animate();
    }

    /// One event back (no animation).
    pub fn step_back(&self) {
        self.playing.set(false);
        let prev = match self.cursor.get_untracked() {
            Some(0) | None => None,
            Some(s) => Some(s - 1),
        };
        self.jump(prev);
    }

    pub fn go_to_start(&self) {
        self.playing.set(false);
        self.jump(None);
    }

    pub fn go_to_end(&self) {
        self.playing.set(false);
        self.jump(self.len().checked_sub(1));
    }

    pub fn at_end(&self) -> bool {
        let n = self.len();
        n == 0
            || self.cursor.get() == Some(n - 1)
                && self.display_time.get() >= self.time_of(Some(n - 1)) as f64
    }

    pub fn toggle_play(&self) {
        if self.playing.get_untracked() {
            self.playing.set(false);
        } else {
            if self.at_end() {
                self.jump(None);
            }
            self.playing.set(true);
            self.animate();
        }
    }

    /// Starts the animation loop if it is not running. With `prefers-reduced-motion`,
    /// steps land at once instead of gliding.
    fn animate(&self) {
        if !self.playing.get_untracked() && reduced_motion() {
            self.display_time
                .set(self.time_of(self.cursor.get_untracked()) as f64);
            return;
        }
        if self.animating.get_value() {
            return;
        }
        self.animating.set_value(true);
        let lab = *self;
        let start = now_ms();
        request_animation_frame(move || lab.frame(start));
    }

    fn frame(&self, last: f64) {
        let t_real = now_ms();
        let dt = ((t_real - last) / 1000.0).clamp(0.0, 0.1);
        let rate = BASE_RATE * SPEEDS[self.speed.get_untracked().min(SPEEDS.len() - 1)];
        let n = self.len();
        let mut keep = false;
        if self.playing.get_untracked() {
            let t = self.display_time.get_untracked() + dt * rate;
            let end = self.time_of(n.checked_sub(1)) as f64;
            // Advance the cursor over every event the display time has passed.
            let mut c = self.cursor.get_untracked();
            loop {
                let next = c.map_or(0, |s| s + 1);
                if next < n && self.time_of(Some(next)) as f64 <= t {
                    c = Some(next);
                } else {
                    break;
                }
            }
            if c != self.cursor.get_untracked() {
                self.cursor.set(c);
            }
            self.display_time.set(t.min(end));
            if t >= end {
                self.playing.set(false);
            } else {
                keep = true;
            }
        } else {
            // Catch up with the cursor: at the play rate, but within about 0.4 s.
            let target = self.time_of(self.cursor.get_untracked()) as f64;
            let cur = self.display_time.get_untracked();
            if cur < target {
                let step = (dt * rate).max((target - cur) * dt / 0.4).max(0.05);
                self.display_time.set((cur + step).min(target));
                keep = cur + step < target;
            } else if cur > target {
                self.display_time.set(target);
            }
        }
        if keep {
            let lab = *self;
            request_animation_frame(move || lab.frame(t_real));
        } else {
            self.animating.set_value(false);
        }
    }

    /// Applies an action at the cursor's time and re-simulates from there; the cursor moves
    /// to the intervention's own event so its effect is visible at once.
    pub fn intervene(&self, action: Action<M::Node>) {
        let at = self.now();
        let before = self.cursor.get_untracked();
        self.engine
            .update(|e| e.add_intervention(Intervention::new(at, action)));
        let target = self.engine.with(|e| {
            let start = before.map_or(0, |s| s + 1);
            e.trace()
                .iter()
                .enumerate()
                .skip(start)
                .find(|(_, ev)| ev.time == at && is_intervention(&ev.kind))
                .map(|(i, _)| i)
        });
        self.cursor.set(target.or(before));
        self.display_time.set(at as f64);
    }

    /// Changes the scenario (e.g. the replication mode) keeping the interventions and the
    /// cursor's time.
    pub fn set_scenario(&self, scenario: M::Scenario) {
        let at = self.now();
        let ivs = self.engine.with_untracked(|e| e.interventions().to_vec());
        match M::setup(&scenario) {
            Ok(setup) => {
                self.engine.set(Engine::new(setup, ivs));
                self.scenario.set(scenario);
                let c = self
                    .engine
                    .with_untracked(|e| e.trace().iter().rposition(|ev| ev.time <= at));
                self.jump(c);
                self.notice.set(None);
            }
            Err(m) => self.notice.set(Some(m)),
        }
    }

    /// What the space-time diagram needs: this run's diagram, shown step, time and zoom;
    /// its Crash / Restart buttons and dropping a message in flight are interventions.
    pub fn diagram_view(&self, highlights: Signal<Vec<Highlight>>) -> DiagramView {
        let lab = *self;
        let engine = self.engine;
        let digest = Memo::new(move |_| {
            engine.with(|e| format!("{:016x}", distlab_sim::trace::digest(e.trace())))
        });
        DiagramView {
            diagram: self.diagram.into(),
            shown: self.shown.into(),
            display_time: self.display_time.into(),
            zoom: self.zoom.into(),
            highlights,
            digest: Some(digest.into()),
            on_crash: Some(Callback::new(move |node| {
                lab.intervene(Action::Crash { node })
            })),
            on_restart: Some(Callback::new(move |node| {
                lab.intervene(Action::Restart { node })
            })),
            on_drop: Some(Callback::new(move |id| {
                lab.intervene(Action::DropMessage { id })
            })),
        }
    }

    /// Whether the run differs from `(scenario, interventions)`.
    pub fn differs_from(
        &self,
        scenario: &M::Scenario,
        interventions: &[Intervention<M::Node>],
    ) -> bool {
        self.scenario.with(|s| s != scenario)
            || self.engine.with(|e| e.interventions() != interventions)
    }
}

fn is_intervention<P: Protocol>(kind: &EventKind<P>) -> bool {
    use distlab_sim::DropReason;
    match kind {
        EventKind::Deliver { .. } | EventKind::Timer { .. } | EventKind::Start => false,
        EventKind::Drop { reason, .. } => *reason == DropReason::Manual,
        _ => true,
    }
}

/// Whether the user asked the system for reduced motion.
fn reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| {
            w.match_media("(prefers-reduced-motion: reduce)")
                .ok()
                .flatten()
        })
        .is_some_and(|m| m.matches())
}

/// Milliseconds from the page's time origin.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
