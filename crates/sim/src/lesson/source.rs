//! Lesson files (TOML): parsing, validation and resolution into [`ResolvedLesson`]s.
//! Needs the `lesson-files` feature (on by default). The format is documented for authors
//! in `docs/LESSONS.md`.
//!
//! A step positions the run: it may change the scenario's configuration (`set`), add
//! interventions (`actions`, accumulated over the steps so far), and say where the cursor
//! goes (`until`). It can end with a challenge: a predicate over the learner's run.
//!
//! Errors carry a 1-based line number: TOML syntax errors from the parser's span, other
//! errors from the line of the step (or table) they concern.

use super::isolation::{self as iso, parse_kept};
use super::{
    Challenge, Goal, IsolationStep, ResolvedLesson, ResolvedStep, StepModel, StepRun, Until,
};
use crate::engine::{Action, Engine, Intervention};
use crate::models::replication::{self, Node, ReplicationScenario, Request};
use crate::models::txn::ast::IsolationLevel;
use crate::models::txn::presets::{preset, PRESETS};
use crate::models::txn::run::run_script;
use crate::models::txn::script::parse_script;
use crate::network::Latency;
use crate::Time;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A lesson file, parsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// URL slug, e.g. `"replication-lag"` (lowercase letters, digits, `-`).
    pub id: String,
    pub title: String,
    /// One sentence for the lesson list.
    pub summary: String,
    /// The model: `"replication"` or `"isolation"`.
    pub model: String,
    /// Reading order on the home page (ascending).
    #[serde(default)]
    pub order: u32,
    /// The model's scenario: for `replication` a [`ReplicationScenario`] plus `actions`
    /// (interventions every step starts from); for `isolation` a `preset` or a `script`,
    /// a `level` and optionally a `compare` level.
    pub scenario: toml::Table,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// One narrated step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    /// Markdown narration: what to notice.
    pub text: String,
    /// Changes to the scenario from this step on (e.g. `{ mode = "sync" }`).
    #[serde(default)]
    pub set: Option<toml::Table>,
    /// Drop the interventions earlier steps added (keeps the scenario's own `actions`).
    #[serde(default)]
    pub clear_actions: bool,
    /// Interventions added from this step on.
    #[serde(default)]
    pub actions: Vec<TimedAction>,
    /// Labels of scripted client operations (in the scenario or earlier steps) that this
    /// step and the following ones leave out.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Where the run's cursor stands for this step.
    #[serde(default)]
    pub until: Until,
    /// A task the learner solves by experimenting.
    #[serde(default)]
    pub challenge: Option<Challenge>,
    /// Horizontal zoom of the diagram for this step (1 = whole run; 1–16). A display hint.
    #[serde(default)]
    pub zoom: Option<f64>,
}

/// An intervention in a lesson file, with nodes by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedAction {
    /// Simulated ms.
    pub at: Time,
    #[serde(flatten)]
    pub action: NamedAction,
}

/// The interventions a lesson can script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum NamedAction {
    Write {
        client: String,
        key: String,
        value: String,
        #[serde(default)]
        label: Option<String>,
    },
    Read {
        client: String,
        replica: String,
        key: String,
        #[serde(default)]
        label: Option<String>,
    },
    Crash {
        node: String,
    },
    Restart {
        node: String,
    },
    Partition {
        groups: Vec<Vec<String>>,
    },
    Heal,
    Cut {
        a: String,
        b: String,
    },
    Restore {
        a: String,
        b: String,
    },
    /// Set a link's one-way delay in ms; without `ms`, back to the scenario's latency.
    Delay {
        a: String,
        b: String,
        #[serde(default)]
        ms: Option<Time>,
    },
    Promote {
        node: String,
    },
}

impl NamedAction {
    /// The label of a scripted client operation, if it has one.
    pub fn label(&self) -> Option<&str> {
        match self {
            NamedAction::Write { label, .. } | NamedAction::Read { label, .. } => label.as_deref(),
            _ => None,
        }
    }
}

/// A lesson error with its 1-based line (0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LessonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for LessonError {}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line of the `n`-th `[[step]]` header (0-based), or 0.
fn step_line(text: &str, n: usize) -> usize {
    let mut seen = 0;
    for (i, l) in text.lines().enumerate() {
        if l.trim_start().starts_with("[[step]]") {
            if seen == n {
                return i + 1;
            }
            seen += 1;
        }
    }
    0
}

fn scenario_line(text: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with("[scenario]"))
        .map_or(0, |i| i + 1)
}

impl Lesson {
    /// Parses and validates a lesson file: syntax, fields, node names, labels, and that
    /// every step's run can be built and its `until` is reached.
    pub fn parse(text: &str) -> Result<Lesson, LessonError> {
        let lesson: Lesson = toml::from_str(text).map_err(|e| LessonError {
            line: e.span().map_or(0, |s| line_of(text, s.start)),
            message: e.message().to_string(),
        })?;
        lesson.validate(text)?;
        Ok(lesson)
    }

    fn validate(&self, text: &str) -> Result<(), LessonError> {
        let at = |line: usize, message: String| LessonError { line, message };
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(at(
                1,
                format!(
                    "id \"{}\" must be lowercase letters, digits and '-'",
                    self.id
                ),
            ));
        }
        if self.steps.is_empty() {
            return Err(at(0, "a lesson needs at least one [[step]]".into()));
        }
        match self.model.as_str() {
            "replication" => self.validate_replication(text),
            "isolation" => self.validate_isolation(text),
            other => Err(at(
                1,
                format!("unknown model \"{other}\": the models are: replication, isolation"),
            )),
        }
    }

    fn validate_replication(&self, text: &str) -> Result<(), LessonError> {
        let at = |line: usize, message: String| LessonError { line, message };
        self.base_scenario()
            .map_err(|m| at(scenario_line(text), m))?;
        for i in 0..self.steps.len() {
            let line = step_line(text, i);
            let step = &self.steps[i];
            let run = self
                .run_for_step(i)
                .map_err(|m| at(line, format!("step {} (\"{}\"): {m}", i + 1, step.title)))?;
            let engine = Engine::new(
                run.scenario.setup().map_err(|m| at(line, m))?,
                run.interventions.clone(),
            );
            self.cursor_for_step(i, &engine)
                .map_err(|m| at(line, format!("step {} (\"{}\"): {m}", i + 1, step.title)))?;
            if let Some(z) = step.zoom {
                if !(1.0..=16.0).contains(&z) {
                    return Err(at(
                        line,
                        format!(
                            "step {}: zoom = {z}, but zoom must be between 1 and 16",
                            i + 1
                        ),
                    ));
                }
            }
            if let Some(c) = &step.challenge {
                if c.goal.model() != "replication" || !c.keep.is_empty() {
                    return Err(at(
                        line,
                        format!("step {} challenge: goal \"{}\" and keep are for isolation lessons; replication goals are stale-read and lost-write", i + 1, goal_name(c.goal)),
                    ));
                }
                if let Some(name) = &c.client {
                    run.scenario
                        .node(name)
                        .map_err(|m| at(line, format!("step {} challenge: {m}", i + 1)))?;
                }
                if Lesson::challenge_met(c, &run.scenario, &engine) {
                    return Err(at(
                        line,
                        format!("step {} challenge: the step's own run already meets it; the learner would have nothing to do", i + 1),
                    ));
                }
            }
        }
        Ok(())
    }

    fn base_scenario(&self) -> Result<ReplicationScenario, String> {
        let mut t = self.scenario.clone();
        t.remove("actions");
        let s: ReplicationScenario = t
            .try_into()
            .map_err(|e: toml::de::Error| format!("[scenario]: {}", e.message()))?;
        s.setup()?;
        Ok(s)
    }

    fn base_actions(&self) -> Result<Vec<TimedAction>, String> {
        match self.scenario.get("actions") {
            None => Ok(Vec::new()),
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| format!("[scenario] actions: {}", e.message())),
        }
    }

    /// The scenario and interventions of step `i` (0-based) of a replication lesson.
    pub fn run_for_step(&self, i: usize) -> Result<StepRun, String> {
        if self.model != "replication" {
            return Err(format!(
                "lesson \"{}\" is an {} lesson, not a replication one",
                self.id, self.model
            ));
        }
        let mut table = self.scenario.clone();
        table.remove("actions");
        let mut actions = self.base_actions()?;
        for step in &self.steps[..=i.min(self.steps.len() - 1)] {
            if let Some(set) = &step.set {
                for (k, v) in set {
                    table.insert(k.clone(), v.clone());
                }
            }
            if step.clear_actions {
                actions = self.base_actions()?;
            }
            for label in &step.remove {
                let before = actions.len();
                actions.retain(|a| a.action.label() != Some(label.as_str()));
                if actions.len() == before {
                    return Err(format!(
                        "remove: no scripted operation is labelled \"{label}\""
                    ));
                }
            }
            actions.extend(step.actions.iter().cloned());
        }
        let scenario: ReplicationScenario = table
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        scenario.setup()?;
        let interventions = actions
            .iter()
            .map(|a| resolve(&scenario, a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StepRun {
            scenario,
            interventions,
        })
    }

    /// The cursor (trace step; `None` = before the first event) for step `i` on `engine`.
    pub fn cursor_for_step(
        &self,
        i: usize,
        engine: &Engine<Node>,
    ) -> Result<Option<usize>, String> {
        self.steps[i].until.cursor(engine)
    }

    /// Whether a challenge is met by `engine`'s run (evaluated over the whole trace).
    pub fn challenge_met(
        challenge: &Challenge,
        scenario: &ReplicationScenario,
        engine: &Engine<Node>,
    ) -> bool {
        challenge.met(scenario, engine, engine.trace().len().checked_sub(1))
    }
}

fn goal_name(g: Goal) -> &'static str {
    match g {
        Goal::StaleRead => "stale-read",
        Goal::LostWrite => "lost-write",
        Goal::NoAnomaly => "no-anomaly",
    }
}

/// A level as lesson files write it: `read-uncommitted`, `read-committed`,
/// `repeatable-read`, `serializable` (SSI) or `serializable-2pl`.
fn level_named(name: &str) -> Result<IsolationLevel, String> {
    Ok(match name {
        "read-uncommitted" => IsolationLevel::ReadUncommitted,
        "read-committed" => IsolationLevel::ReadCommitted,
        "repeatable-read" => IsolationLevel::RepeatableRead,
        "serializable" => IsolationLevel::Serializable,
        "serializable-2pl" => IsolationLevel::Serializable2pl,
        other => {
            return Err(format!(
                "unknown isolation level \"{other}\" (the levels are: read-uncommitted, read-committed, repeatable-read, serializable, serializable-2pl)"
            ))
        }
    })
}

/// An isolation lesson's `[scenario]`, after a step's `set`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IsolationSource {
    /// A preset's id (see `models::txn::presets`).
    #[serde(default)]
    preset: Option<String>,
    /// A script of its own (`docs/SQL-SCRIPTS.md`).
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    level: Option<String>,
    /// A second level side by side, or `"none"`.
    #[serde(default)]
    compare: Option<String>,
}

impl Lesson {
    /// The script, level and comparison of step `i` (0-based) of an isolation lesson:
    /// `[scenario]` with the `set` of every step so far applied (`preset` and `script`
    /// replace each other). Errors name the unknown preset or level, or the missing script.
    pub fn isolation_step(&self, i: usize) -> Result<IsolationStep, String> {
        if self.model != "isolation" {
            return Err(format!(
                "lesson \"{}\" is a {} lesson, not an isolation one",
                self.id, self.model
            ));
        }
        let mut table = self.scenario.clone();
        for step in &self.steps[..=i.min(self.steps.len() - 1)] {
            if let Some(set) = &step.set {
                for (k, v) in set {
                    match k.as_str() {
                        "preset" => {
                            table.remove("script");
                        }
                        "script" => {
                            table.remove("preset");
                        }
                        _ => {}
                    }
                    table.insert(k.clone(), v.clone());
                }
            }
        }
        let src: IsolationSource = table
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        let script = match (&src.preset, &src.script) {
            (Some(_), Some(_)) => return Err("give either preset or script, not both".into()),
            (Some(id), None) => preset(id)
                .ok_or_else(|| {
                    let ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
                    format!(
                        "unknown preset \"{id}\" (the presets are: {})",
                        ids.join(", ")
                    )
                })?
                .script
                .to_string(),
            (None, Some(s)) => s.clone(),
            (None, None) => return Err("the scenario needs a preset or a script".into()),
        };
        let level = match &src.level {
            Some(l) => level_named(l)?,
            None => IsolationLevel::ReadCommitted,
        };
        let compare = match src.compare.as_deref() {
            None | Some("none") => None,
            Some(l) => Some(level_named(l)?),
        };
        Ok(IsolationStep {
            script,
            level,
            compare,
        })
    }

    fn validate_isolation(&self, text: &str) -> Result<(), LessonError> {
        for (i, step) in self.steps.iter().enumerate() {
            let line = step_line(text, i);
            let fail = |m: String| LessonError {
                line,
                message: format!("step {} (\"{}\"): {m}", i + 1, step.title),
            };
            if !step.actions.is_empty() || !step.remove.is_empty() || step.clear_actions {
                return Err(fail(
                    "actions, remove and clear_actions are for replication lessons; an isolation step changes its script with set = { preset = … } or { script = … }".into(),
                ));
            }
            if step.zoom.is_some() {
                return Err(fail("zoom is for replication lessons".into()));
            }
            let run = self.isolation_step(i).map_err(&fail)?;
            let script = parse_script(&run.script).map_err(|e| fail(format!("the script, {e}")))?;
            run_script(&script, run.level).map_err(|e| fail(format!("the script, {e}")))?;
            let n = script.steps.len();
            match &step.until {
                Until::Start | Until::End => {}
                Until::Statement(k) if *k <= n => {}
                Until::Statement(k) => {
                    return Err(fail(format!(
                        "until = {{ statement = {k} }}, but the script has {n} session lines"
                    )))
                }
                _ => {
                    return Err(fail(
                        "an isolation step's until is \"start\", \"end\" or { statement = N }"
                            .into(),
                    ))
                }
            }
            if let Some(c) = &step.challenge {
                if c.goal != Goal::NoAnomaly || c.client.is_some() {
                    return Err(fail(format!(
                        "challenge: goal \"{}\" is for replication lessons; isolation lessons have no-anomaly (with keep)",
                        goal_name(c.goal)
                    )));
                }
                for k in &c.keep {
                    let kept = parse_kept(k).map_err(|m| fail(format!("challenge: {m}")))?;
                    if !iso::check(std::slice::from_ref(k), &run.script, run.level)[0].met {
                        return Err(fail(format!(
                            "challenge: keep \"{}: {}\" is not a statement of the step's script",
                            kept.session, kept.sql
                        )));
                    }
                }
                if iso::all_met(&iso::check(&c.keep, &run.script, run.level)) {
                    return Err(fail("challenge: the step's own run already meets it; the learner would have nothing to do".into()));
                }
            }
        }
        Ok(())
    }
}

/// Turns a named action into an intervention of `scenario`'s run.
pub fn resolve(
    scenario: &ReplicationScenario,
    a: &TimedAction,
) -> Result<Intervention<Node>, String> {
    let n = |name: &str| scenario.node(name);
    let server = |name: &str| -> Result<usize, String> {
        let id = n(name)?;
        if id > scenario.followers.len() {
            return Err(format!("\"{name}\" is a client, not a replica"));
        }
        Ok(id)
    };
    let client = |name: &str| -> Result<usize, String> {
        let id = n(name)?;
        if id <= scenario.followers.len() {
            return Err(format!("\"{name}\" is a replica, not a client"));
        }
        Ok(id)
    };
    let action = match &a.action {
        NamedAction::Write {
            client: c,
            key,
            value,
            label,
        } => Action::Request {
            client: client(c)?,
            request: Request::Write {
                key: key.clone(),
                value: value.clone(),
            },
            label: label.clone(),
        },
        NamedAction::Read {
            client: c,
            replica,
            key,
            label,
        } => Action::Request {
            client: client(c)?,
            request: Request::Read {
                key: key.clone(),
                replica: server(replica)?,
            },
            label: label.clone(),
        },
        NamedAction::Crash { node } => Action::Crash { node: n(node)? },
        NamedAction::Restart { node } => Action::Restart { node: n(node)? },
        NamedAction::Partition { groups } => Action::Partition {
            groups: groups
                .iter()
                .map(|g| g.iter().map(|x| n(x)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()?,
        },
        NamedAction::Heal => Action::Heal,
        NamedAction::Cut { a: x, b: y } => Action::CutLink { a: n(x)?, b: n(y)? },
        NamedAction::Restore { a: x, b: y } => Action::RestoreLink { a: n(x)?, b: n(y)? },
        NamedAction::Delay { a: x, b: y, ms } => Action::SetLinkDelay {
            a: n(x)?,
            b: n(y)?,
            latency: ms.map(Latency::fixed),
        },
        NamedAction::Promote { node } => Action::Command {
            node: server(node)?,
            command: replication::Command::Promote,
        },
    };
    Ok(Intervention::new(a.at, action))
}

/// The built-in lessons' sources, `(file name, text)`, in reading order.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "replication-lag.toml",
        include_str!("../../../../lessons/replication-lag.toml"),
    ),
    (
        "isolation-levels.toml",
        include_str!("../../../../lessons/isolation-levels.toml"),
    ),
];

/// Parses the built-in lessons (sorted by `order`). They are validated by tests.
pub fn built_in() -> Vec<Lesson> {
    let mut v: Vec<Lesson> = BUILT_IN
        .iter()
        .filter_map(|(_, t)| Lesson::parse(t).ok())
        .collect();
    v.sort_by_key(|l| l.order);
    v
}

impl Lesson {
    /// Resolves every step into its scenario, interventions and narration rendered to safe
    /// HTML: what the app ships (it then needs no TOML or markdown parser). Errors as
    /// [`Lesson::run_for_step`].
    pub fn resolve(&self) -> Result<ResolvedLesson, String> {
        let steps = (0..self.steps.len())
            .map(|i| {
                let run = if self.model == "isolation" {
                    StepModel::Isolation(self.isolation_step(i)?)
                } else {
                    let r = self.run_for_step(i)?;
                    StepModel::Replication {
                        scenario: r.scenario,
                        interventions: r.interventions,
                    }
                };
                let s = &self.steps[i];
                Ok(ResolvedStep {
                    title: s.title.clone(),
                    html: markdown_to_safe_html(&s.text),
                    run,
                    until: s.until.clone(),
                    challenge: s.challenge.clone(),
                    zoom: s.zoom,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(ResolvedLesson {
            id: self.id.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            order: self.order,
            model: self.model.clone(),
            steps,
        })
    }
}

/// Renders lesson markdown to HTML that cannot inject markup or script: raw HTML blocks
/// and inline HTML become escaped text, and `javascript:` / `data:` links are neutralised.
pub fn markdown_to_safe_html(md: &str) -> String {
    use pulldown_cmark::{html, Event, Options, Parser};
    let parser =
        Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|ev| {
            match ev {
                Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
                other => other,
            }
        });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out.replace("href=\"javascript:", "href=\"#blocked:")
        .replace("href=\"data:", "href=\"#blocked:")
}

#[cfg(test)]
mod tests {
    use super::markdown_to_safe_html;

    #[test]
    fn markdown_escapes_html_and_script() {
        let h = markdown_to_safe_html(
            "Hi <script>alert(1)</script> **bold**\n\n<img src=x onerror=alert(1)>",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
    }

    #[test]
    fn markdown_blocks_javascript_links() {
        let h = markdown_to_safe_html("[x](javascript:alert(1))");
        assert!(!h.contains("javascript:"), "{h}");
    }
}
