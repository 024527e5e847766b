//! Exact, shareable runs: a run (model, scenario, interventions, cursor, lesson and step)
//! as a [`RunLink`], written into a URL as a short versioned code, or as JSON for a file.
//!
//! The code is `<version>.<payload>`: the run's JSON compressed with raw DEFLATE
//! (`miniz_oxide`) and written in unpadded URL-safe base64 (`base64`, RFC 4648 §5), so it
//! needs no escaping in a query string. Version 1 is the only one so far; a code with a
//! higher version says so rather than guessing ("made by a newer Distlab"), and every
//! older version stays decodable. The same scenario, interventions and seed give the
//! identical trace on any machine (the engine is deterministic), so opening a link replays
//! exactly the run that was shared.
//!
//! Decoding never panics on any input: a damaged code gets a [`LinkError`] saying which part
//! is wrong. Opening a decoded run for a model ([`RunLink::run`]) checks everything the
//! engine relies on — the scenario (`EngineModel::setup`, including its time bounds), every
//! node id an intervention names, what each intervention asks of its nodes
//! (`EngineModel::check_intervention`), times within `models::scenario::MAX_TIME_MS` — so
//! an edited link is refused with [`LinkError::BadScenario`] rather than crashing the page.
//!
//! The isolation lab's runs are links too: model `"isolation"` with
//! `scenario = {"script": …, "level": "rc"}` and the submitted line as the cursor
//! ([`RunLink::isolation`], [`RunLink::isolation_parts`]).

use crate::engine::{Intervention, Protocol};
use crate::models::txn::ast::IsolationLevel;
use crate::models::{scenario, EngineModel};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The current link format version (the number before the dot of a code).
pub const VERSION: u32 = 1;

/// Refuse to inflate a payload beyond this many bytes (a link is a few KB; a hostile code
/// must not make the page allocate without bound).
pub const MAX_JSON_BYTES: usize = 4 << 20;

/// One run as it is shared: enough to rebuild the identical trace and put the learner at
/// the same place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunLink {
    /// The link format version this run was written with ([`VERSION`]).
    #[serde(default = "one")]
    pub v: u32,
    /// The engine model, as lesson files name it (`EngineModel::NAME`: "replication",
    /// "raft", …, or "isolation").
    pub model: String,
    /// The lesson the run was made in, by id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<String>,
    /// The lesson step, 1-based as in `?step=N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// The lab preset the run was made in, by id, for runs made outside a lesson (the
    /// free lab's `/lab/<preset>`, the isolation lab's `/isolation/<preset>`), so a run
    /// file reopens on its own page. Absent in links written before it existed; readers
    /// use it only when it names a preset they know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// The model's scenario (`EngineModel::Scenario` as JSON; includes its seed).
    pub scenario: serde_json::Value,
    /// Every intervention of the run, in order (`Vec<Intervention<_>>` as JSON).
    #[serde(default)]
    pub interventions: serde_json::Value,
    /// The trace step the learner stood at (0-based; `None`: before the first event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<usize>,
    /// The diagram's zoom (1 = the whole run fits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom: Option<f64>,
}

fn one() -> u32 {
    1
}

/// Why a code or a run file could not be opened.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkError {
    /// The code has no `<version>.` prefix, or the version is not a number.
    NoVersion,
    /// Made by a newer Distlab than this one.
    NewerVersion(u32),
    /// The payload is not base64url (the link was cut or changed), at this byte offset.
    NotBase64(String),
    /// The payload does not inflate (damaged), or inflates beyond [`MAX_JSON_BYTES`].
    NotCompressed(String),
    /// The JSON inside does not describe a run: the serde message (with line and column).
    BadRun(String),
    /// The run is for another model than the page expects.
    WrongModel { expected: String, found: String },
    /// The scenario or the interventions do not fit the model.
    BadScenario(String),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::NoVersion => write!(
                f,
                "the run code does not start with a version number (like \"1.\"): it is not a Distlab run link"
            ),
            LinkError::NewerVersion(v) => write!(
                f,
                "the run was shared by a newer Distlab (link format {v}; this one reads up to {VERSION}): reload to get the newest version"
            ),
            LinkError::NotBase64(e) => write!(
                f,
                "the run code is damaged (was the link cut short or changed?): {e}"
            ),
            LinkError::NotCompressed(e) => write!(f, "the run code is damaged: {e}"),
            LinkError::BadRun(e) => write!(f, "the run in the link is not valid: {e}"),
            LinkError::WrongModel { expected, found } => write!(
                f,
                "the run is a {found} run, but this page shows {expected} runs"
            ),
            LinkError::BadScenario(e) => write!(f, "the run's scenario does not fit: {e}"),
        }
    }
}

impl std::error::Error for LinkError {}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

impl RunLink {
    /// A link to a run of model `M`: its scenario, its interventions, where the learner
    /// stands, and the lesson step (1-based) it was made in.
    pub fn of<M: EngineModel>(
        scenario: &M::Scenario,
        interventions: &[Intervention<M::Node>],
        cursor: Option<usize>,
    ) -> RunLink {
        RunLink {
            v: VERSION,
            model: M::NAME.to_string(),
            lesson: None,
            step: None,
            preset: None,
            scenario: serde_json::to_value(scenario).unwrap_or(serde_json::Value::Null),
            interventions: serde_json::to_value(interventions)
                .unwrap_or(serde_json::Value::Array(vec![])),
            cursor,
            zoom: None,
        }
    }

    /// The run for model `M`: its scenario (checked by `M::setup`) and interventions
    /// (every node id in range, and each fitting the scenario by
    /// [`EngineModel::check_intervention`]), ready for `Engine::new(M::setup(&s)?, ivs)`.
    /// Errors: [`LinkError::WrongModel`] (another model's run), [`LinkError::BadScenario`]
    /// (a scenario or interventions that do not deserialize or do not fit).
    #[allow(clippy::type_complexity)]
    pub fn run<M: EngineModel>(
        &self,
    ) -> Result<(M::Scenario, Vec<Intervention<M::Node>>), LinkError> {
        if self.model != M::NAME {
            return Err(LinkError::WrongModel {
                expected: M::NAME.to_string(),
                found: self.model.clone(),
            });
        }
        let scenario: M::Scenario = serde_json::from_value(self.scenario.clone())
            .map_err(|e| LinkError::BadScenario(e.to_string()))?;
        let ivs: Vec<Intervention<M::Node>> = if self.interventions.is_null() {
            vec![]
        } else {
            serde_json::from_value(self.interventions.clone())
                .map_err(|e| LinkError::BadScenario(format!("interventions: {e}")))?
        };
        let setup = M::setup(&scenario).map_err(LinkError::BadScenario)?;
        check_interventions(&setup.nodes.len(), &ivs)?;
        for (i, iv) in ivs.iter().enumerate() {
            M::check_intervention(&scenario, iv)
                .map_err(|e| LinkError::BadScenario(format!("intervention {}: {e}", i + 1)))?;
        }
        Ok((scenario, ivs))
    }

    /// The run as pretty JSON (the "Export run" file; [`RunLink::from_json`] reads it).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a run file. Errors: [`LinkError::BadRun`] with serde's line and column,
    /// [`LinkError::NewerVersion`].
    pub fn from_json(text: &str) -> Result<RunLink, LinkError> {
        let link: RunLink =
            serde_json::from_str(text).map_err(|e| LinkError::BadRun(e.to_string()))?;
        if link.v > VERSION {
            return Err(LinkError::NewerVersion(link.v));
        }
        Ok(link)
    }

    /// The URL code: `1.` followed by the compressed JSON in base64url.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let packed = miniz_oxide::deflate::compress_to_vec(&json, 9);
        format!("{VERSION}.{}", B64.encode(packed))
    }

    /// Reads a URL code written by [`RunLink::encode`] (this version or an older one).
    /// Never panics; every error says what is wrong.
    pub fn decode(code: &str) -> Result<RunLink, LinkError> {
        let code = code.trim();
        let (version, payload) = code.split_once('.').ok_or(LinkError::NoVersion)?;
        let version: u32 = match version.parse() {
            Ok(v) => v,
            // All digits but beyond u32: a (much) newer format, not garbage.
            Err(_) if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(LinkError::NewerVersion(u32::MAX))
            }
            Err(_) => return Err(LinkError::NoVersion),
        };
        if version == 0 {
            return Err(LinkError::NoVersion);
        }
        if version > VERSION {
            return Err(LinkError::NewerVersion(version));
        }
        let packed = B64
            .decode(payload)
            .map_err(|e| LinkError::NotBase64(e.to_string()))?;
        let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_JSON_BYTES)
            .map_err(|e| {
                LinkError::NotCompressed(match e.status {
                    miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                        format!("it unpacks to more than {MAX_JSON_BYTES} bytes")
                    }
                    _ => "its compressed data is corrupt".to_string(),
                })
            })?;
        let text = String::from_utf8(json)
            .map_err(|_| LinkError::BadRun("the unpacked run is not UTF-8 text".into()))?;
        Self::from_json(&text)
    }
}

/// Interventions must name nodes of the scenario (a link from an edited URL must not make
/// the engine index out of range), happen within [`scenario::MAX_TIME_MS`] and set no
/// delay above [`scenario::MAX_LATENCY_MS`].
fn check_interventions<P: Protocol>(
    nodes: &usize,
    ivs: &[Intervention<P>],
) -> Result<(), LinkError> {
    use crate::engine::Action;
    let n = *nodes;
    let bad = |id: usize, i: usize| {
        Err(LinkError::BadScenario(format!(
            "intervention {} names node {id}, but the scenario has {n} nodes",
            i + 1
        )))
    };
    for (i, iv) in ivs.iter().enumerate() {
        let at = |m: String| LinkError::BadScenario(format!("intervention {}: {m}", i + 1));
        scenario::check_time("its time", iv.at).map_err(at)?;
        if let Action::SetLinkDelay {
            latency: Some(l), ..
        } = &iv.action
        {
            scenario::check_latency("its delay", l.base_ms).map_err(at)?;
            scenario::check_latency("its jitter", l.jitter_ms).map_err(at)?;
        }
        let ids: Vec<usize> = match &iv.action {
            Action::Crash { node } | Action::Restart { node } | Action::Command { node, .. } => {
                vec![*node]
            }
            Action::Partition { groups } => groups.iter().flatten().copied().collect(),
            Action::CutLink { a, b }
            | Action::RestoreLink { a, b }
            | Action::SetLinkDelay { a, b, .. } => vec![*a, *b],
            Action::Request { client, .. } => vec![*client],
            Action::Heal | Action::DropMessage { .. } => vec![],
        };
        if let Some(id) = ids.into_iter().find(|&id| id >= n) {
            return bad(id, i);
        }
    }
    Ok(())
}

/// The model name of isolation-lab runs ([`RunLink::isolation`]).
pub const ISOLATION: &str = "isolation";

/// The isolation lab's level keys, as its URL writes them (`/isolation/:preset?level=rc`),
/// with the level each stands for.
pub const ISOLATION_LEVELS: [(&str, IsolationLevel); 5] = [
    ("ru", IsolationLevel::ReadUncommitted),
    ("rc", IsolationLevel::ReadCommitted),
    ("rr", IsolationLevel::RepeatableRead),
    ("ser", IsolationLevel::Serializable),
    ("2pl", IsolationLevel::Serializable2pl),
];

/// The level of an isolation-lab level key (`"rc"`), or of a level's kebab-case name as
/// lesson files and serde write it (`"read-committed"`); `None` for anything else.
pub fn isolation_level(key: &str) -> Option<IsolationLevel> {
    ISOLATION_LEVELS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .or_else(|| serde_json::from_value(serde_json::Value::String(key.to_string())).ok())
}

/// The isolation-lab key of a level (`"rc"` for read committed).
pub fn isolation_key(level: IsolationLevel) -> &'static str {
    ISOLATION_LEVELS
        .iter()
        .find(|(_, l)| *l == level)
        .map_or("rc", |(k, _)| k)
}

impl RunLink {
    /// A link to an isolation-lab run: the script (format: docs/SQL-SCRIPTS.md), the level
    /// key sessions run at (`"rc"`, see [`ISOLATION_LEVELS`]) and the number of session
    /// lines submitted (`line`, the lab's `&line=`), as model `"isolation"` with
    /// `scenario = {"script": …, "level": …}` and `cursor = line`.
    pub fn isolation(script: &str, level: &str, line: usize) -> RunLink {
        RunLink {
            v: VERSION,
            model: ISOLATION.to_string(),
            lesson: None,
            step: None,
            preset: None,
            scenario: serde_json::json!({ "script": script, "level": level }),
            interventions: serde_json::Value::Array(Vec::new()),
            cursor: Some(line),
            zoom: None,
        }
    }

    /// An isolation-lab run's script, level key (normalised to the lab's keys: a level
    /// written as `"read-committed"` comes back as `"rc"`) and line (0 when absent).
    /// Errors: [`LinkError::WrongModel`] for another model's run, [`LinkError::BadScenario`]
    /// when the scenario is not `{"script": text, "level": known level}`.
    pub fn isolation_parts(&self) -> Result<(String, String, usize), LinkError> {
        if self.model != ISOLATION {
            return Err(LinkError::WrongModel {
                expected: ISOLATION.to_string(),
                found: self.model.clone(),
            });
        }
        let field = |name: &str| self.scenario.get(name).and_then(|v| v.as_str());
        let script = field("script").ok_or_else(|| {
            LinkError::BadScenario("an isolation run needs its script as text".into())
        })?;
        let level = field("level").ok_or_else(|| {
            LinkError::BadScenario("an isolation run needs its level (e.g. \"rc\")".into())
        })?;
        let level = isolation_level(level).ok_or_else(|| {
            LinkError::BadScenario(format!(
                "unknown isolation level \"{level}\" (known: {})",
                ISOLATION_LEVELS
                    .iter()
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        Ok((
            script.to_string(),
            isolation_key(level).to_string(),
            self.cursor.unwrap_or(0),
        ))
    }
}
