//! `distlab`: the command line front end to Distlab's engine.
//!
//! ```text
//! distlab lesson validate FILE...          check lesson files (ok FILE / FILE:LINE: message)
//! distlab lesson list                      the built-in lessons
//! distlab lesson show ID [--step N] [--json] [--file PATH]
//!                                          a lesson step's run: nodes, writes, reads, lag
//! distlab run --lesson ID --step N --trace the step's trace as JSON (diffable)
//! distlab bench [--events N]               engine throughput, step back, add intervention
//! distlab clocks analyze FILE [--execution NAME] [--regex RE] [--pair A B]... [--json]
//!                                          a ShiViz log: hosts, messages, concurrency
//! distlab raft explore --seeds N [--from S] [--servers 3|5|7] [--broken RULE]... [--refinement NAME]... [--json]
//!                                          random faults vs. Raft's safety properties
//! distlab raft replay FILE [--json]        check a saved run again
//! distlab twopc explore --seeds N [--from S] [--protocol two-phase|three-phase] [--broken RULE]... [--json]
//!                                          random faults vs. atomic commitment (2PC / 3PC)
//! distlab twopc replay FILE [--json]       check a saved 2PC / 3PC run again
//! distlab check linearizability FILE --model register|cas-register|kv|set [--initial V]
//!       [--format auto|edn|etcd|kv|json] [--budget STEPS] [--json]
//!                                          a client history: linearizable or why not (0/1/2)
//! distlab check bench [--testdata DIR]     time the checker on Porcupine's histories
//! ```
//!
//! Exit codes: 0 success; 1 failure (an invalid lesson file); 2 bad usage or bad input
//! (unknown lesson, step out of range, unreadable file, invalid arguments).
//! All times printed are simulated milliseconds, except the benchmark's wall-clock ones.

mod actions;
mod check;
mod clocks;
mod raft;
mod show;
mod sql;
mod sql_diff;
mod twopc;

use clap::{Args, Parser, Subcommand};
use distlab_sim::bench;
use distlab_sim::engine::{Engine, MAX_EVENTS};
use distlab_sim::lesson::{built_in, Lesson};
use distlab_sim::models::replication::analysis::analyze;
use distlab_sim::models::replication::{Node, ReplicationScenario};
use distlab_sim::trace;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "distlab",
    version,
    about = "Distlab: distributed systems as deterministic simulations",
    after_help = "Exit codes: 0 success, 1 failure (invalid lesson), 2 bad usage or bad input.\n\
                  Times are simulated milliseconds unless marked wall-clock."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate lesson files, list and show lessons.
    #[command(subcommand)]
    Lesson(LessonCommand),
    /// Run a lesson step and print its trace (--trace) or a one-line summary.
    Run(RunArgs),
    /// Run SQL interleaving scripts on the simulated PostgreSQL store.
    #[command(subcommand)]
    Sql(SqlCommand),
    /// Analyze logs whose events carry vector clocks (ShiViz's format).
    #[command(subcommand)]
    Clocks(ClocksCommand),
    /// Search Raft runs with random faults for safety violations; replay a saved run.
    #[command(subcommand)]
    Raft(RaftCommand),
    /// Search two- and three-phase commit runs with random faults for atomicity
    /// violations; replay a saved run.
    #[command(subcommand)]
    Twopc(TwopcCommand),
    /// Check client histories for linearizability; benchmark the checker.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Benchmark the engine (build with --release for meaningful numbers).
    Bench {
        /// Minimum number of trace events in the workload.
        #[arg(long, default_value_t = 10_000,
              value_parser = clap::value_parser!(u64).range(1..=MAX_EVENTS as u64))]
        events: u64,
    },
}

#[derive(Subcommand, Debug)]
enum SqlCommand {
    /// Run a script (`setup: …;` then `T1: …;` lines; see docs/SQL-SCRIPTS.md) and print,
    /// per line, when it was submitted and completed, whether it blocked, its rows or error
    /// (SQLSTATE), then the final tables. Exits 0 when the script ran, 2 when it is malformed.
    Run {
        /// The script file.
        script: PathBuf,
        /// The level sessions start at (their BEGIN / SET TRANSACTION may change it):
        /// read-uncommitted, read-committed (default), repeatable-read, serializable (SSI),
        /// serializable-2pl (strict two-phase locking; not in PostgreSQL).
        #[arg(long)]
        level: Option<String>,
        /// Print one JSON object: `statements` and `tables`.
        #[arg(long)]
        json: bool,
    },
    /// Run a script on the simulator and on a real PostgreSQL, and print where they
    /// disagree. Exits 0 when they agree, 1 when they disagree, 2 on bad input or an
    /// unreachable server.
    Diff {
        /// The script file.
        script: PathBuf,
        /// e.g. postgres://postgres:secret@127.0.0.1:5432/postgres
        #[arg(long, value_name = "URL")]
        postgres: String,
        /// The level sessions start at (as for `sql run`).
        #[arg(long)]
        level: Option<String>,
    },
    /// Print generated script number INDEX of the generator stream for SEED (the scripts
    /// `sql fuzz` runs), to run or diff it alone.
    Generate {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 0)]
        index: u64,
    },
    /// Differential test: generated 2–3-session scripts on the simulator and on a real
    /// PostgreSQL at read committed, repeatable read and serializable. A script that
    /// disagrees runs again on PostgreSQL (up to 3 times): if a re-run agrees, PostgreSQL
    /// raced and the script counts as agreeing (listed as such). Prints the agreement rate
    /// per level and each disagreeing script minimized, with a command reproducing it.
    /// Exits 0 when every level reaches --min-agreement, 1 otherwise, 2 on bad input or an
    /// unreachable server.
    Fuzz {
        /// e.g. postgres://postgres:secret@127.0.0.1:5432/postgres
        #[arg(long, value_name = "URL")]
        postgres: String,
        /// Seed of the script generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Index of the first script.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Number of scripts.
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Only this level (as for `sql run`).
        #[arg(long)]
        level: Option<String>,
        /// Required agreement per level, in percent.
        #[arg(long, default_value_t = 99.0)]
        min_agreement: f64,
        /// Scripts run concurrently (each in its own schema).
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum RaftCommand {
    /// Run Raft with a random fault schedule per seed (crashes, often of the leader;
    /// restarts; partitions; cut and slow links; message loss; client writes), checking the
    /// five safety properties of the Raft paper's Figure 3 after every event. Prints how
    /// many runs violated each property and, per property, the shortest failing schedule
    /// found with a replayable run. Exits 0 when no run violated anything, 1 otherwise.
    Explore {
        /// Number of seeds (runs).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        seeds: u64,
        /// First seed.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Cluster size.
        #[arg(long, default_value_t = 5, value_parser = clap::builder::TypedValueParser::map(
            clap::builder::PossibleValuesParser::new(["3", "5", "7"]),
            |s: String| s.parse::<usize>().unwrap_or(5)))]
        servers: usize,
        /// Leave out a rule of Raft: vote-up-to-date-check, current-term-commit,
        /// persist-voted-for or read-leadership-check (with --refinement read-index).
        /// Repeat for several.
        #[arg(long, value_name = "RULE")]
        broken: Vec<String>,
        /// Switch on a refinement from Ongaro's thesis: pre-vote, check-quorum or
        /// read-index. Repeat for several.
        #[arg(long, value_name = "NAME")]
        refinement: Vec<String>,
        /// Print the report as JSON (runs, failing_runs, by_property, shortest with each
        /// violation's scenario and interventions).
        #[arg(long)]
        json: bool,
    },
    /// Run a saved run again (the JSON line `explore` prints: scenario and interventions)
    /// and check it. Exits 0 when nothing is violated, 1 when something is, 2 on a bad file.
    Replay {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TwopcCommand {
    /// Run 2PC (or 3PC) with a random schedule per seed — transactions begun at random
    /// over the participants, crashes of the coordinator (often while it collects votes
    /// or sends a decision) and of participants (often in doubt), restarts, partitions,
    /// cut and slow links, message loss — checking atomic commitment after every event
    /// (atomic outcome, commit needs every yes, outcome matches the decision, decisions
    /// never change). Prints the in-doubt statistics, how many runs violated each property
    /// and, per property, the shortest failing schedule found with a replayable run. Exits
    /// 0 when no run violated anything, 1 otherwise, 2 on bad arguments.
    Explore {
        /// Number of seeds (runs).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        seeds: u64,
        /// First seed.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// two-phase (2PC with presumed abort) or three-phase (3PC with timeouts).
        #[arg(long, default_value = "two-phase")]
        protocol: String,
        /// Leave out a rule of 2PC: decide-on-timeout or send-before-log. Repeat for several.
        #[arg(long, value_name = "RULE")]
        broken: Vec<String>,
        /// Participants per run (2 to 5).
        #[arg(long, default_value_t = 3)]
        participants: usize,
        /// Crashes and restarts only: no partitions, cut or slow links, loss or jitter.
        #[arg(long)]
        crashes_only: bool,
        /// Do not heal the network and restart every node at the end of the schedule, and
        /// leave out repairs planned after it: participants may end in doubt (blocked).
        #[arg(long)]
        no_heal: bool,
        /// Print the report as JSON (runs, failing_runs, by_property, in_doubt, shortest
        /// with each violation's scenario and interventions).
        #[arg(long)]
        json: bool,
    },
    /// Run a saved run again (the JSON line `explore` prints: scenario and interventions)
    /// and check it. Exits 0 when nothing is violated, 1 when something is, 2 on a bad file.
    Replay {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// Read a history (Jepsen EDN, Porcupine etcd or kv log, or JSON; see
    /// docs/LINEARIZABILITY.md) and check it against a sequential model. Prints the verdict
    /// and, when not linearizable, the longest linearizable prefix and the operation that
    /// cannot be placed. Exits 0 linearizable, 1 not linearizable, 2 unknown (budget
    /// exhausted) or bad input (`FILE: line N: message`).
    Linearizability {
        /// The history file.
        file: PathBuf,
        /// register, cas-register, kv or set.
        #[arg(long)]
        model: String,
        /// The initial value: of the register (default nil), or of every key (kv, default "").
        #[arg(long, value_name = "V")]
        initial: Option<String>,
        /// auto, edn, etcd, kv or json.
        #[arg(long, default_value = "auto")]
        format: String,
        /// Stop after this many search steps (the verdict is then `unknown`).
        #[arg(long, value_name = "STEPS")]
        budget: Option<u64>,
        /// Print the verdict as one JSON object (outcome, partitions, explanation, steps,
        /// format, model, operations).
        #[arg(long)]
        json: bool,
    },
    /// Time the checker (wall-clock; build with --release) on Porcupine's 102 etcd
    /// histories and 6 kv histories: total and slowest file per group.
    Bench {
        /// The shared test data folder (default $DISTLAB_TESTDATA, else ../shared/testdata).
        #[arg(long, value_name = "DIR")]
        testdata: Option<PathBuf>,
        /// Print every file's row as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ClocksCommand {
    /// Read a ShiViz log (an event line, then `host {"host": n, ...}` with its vector clock;
    /// executions separated by `=== name ===` lines; see docs/CLOCKS.md), validate it, and
    /// print its hosts with their event counts, the events, the messages inferred from the
    /// clocks, the concurrent pairs, and for each --pair how the two events are related and
    /// why. Exits 0, or 2 with `FILE: line N: message` for an invalid log, or for an unknown
    /// execution or event.
    Analyze {
        /// The log file.
        file: PathBuf,
        /// Analyze the execution with this name (`=== NAME ===`); default: the first.
        #[arg(long, value_name = "NAME")]
        execution: Option<String>,
        /// The parser regex, with named groups event, host and clock (others become fields);
        /// default: ShiViz's `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`.
        #[arg(long, value_name = "RE")]
        regex: Option<String>,
        /// Two events to relate: `host:n` (the n-th event of that host, from 1) or `line:N`
        /// (the event written on line N). Repeat for more pairs.
        #[arg(long, num_args = 2, value_names = ["A", "B"])]
        pair: Vec<String>,
        /// Print one JSON object: execution, executions, hosts, host_names, events_per_host,
        /// events, messages, message_list, event_pairs, concurrent_pairs, pairs.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum LessonCommand {
    /// Parse and validate lesson files: prints `ok FILE`, or `FILE:LINE: message` on
    /// standard error. Exits 1 if any file is invalid, 2 if any cannot be read.
    Validate {
        /// Lesson files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the built-in lessons: id, title, number of steps.
    List,
    /// Show a lesson step's run: cursor time, node states, writes with latency, reads with
    /// stale markers, replication lag, lost writes.
    Show(ShowArgs),
}

/// Which lesson: a built-in one by id, or a file.
#[derive(Args, Debug)]
struct LessonRef {
    /// Id of a built-in lesson (see `distlab lesson list`).
    #[arg(conflicts_with = "file")]
    id: Option<String>,
    /// Read the lesson from this file instead.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Step number, from 1.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    step: u64,
}

#[derive(Args, Debug)]
struct ShowArgs {
    #[command(flatten)]
    lesson: LessonRef,
    /// Print the analysis as JSON instead.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Id of a built-in lesson.
    #[arg(long, value_name = "ID", required_unless_present = "file")]
    lesson: Option<String>,
    /// Read the lesson from this file instead.
    #[arg(long, value_name = "PATH", conflicts_with = "lesson")]
    file: Option<PathBuf>,
    /// Step number, from 1.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    step: u64,
    /// Print the whole trace as JSON (byte-identical for identical runs).
    #[arg(long)]
    trace: bool,
}

/// Why a command failed, and its exit code.
#[derive(Debug)]
enum Failure {
    /// Bad usage or bad input: exit code 2.
    Input(String),
    /// The command ran and found a problem: exit code 1.
    Failed(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Failed(_) => 1,
        }
    }
    fn message(&self) -> &str {
        match self {
            Failure::Input(m) | Failure::Failed(m) => m,
        }
    }
}

/// Writes `bytes` to standard output. A closed pipe (`distlab ... | head`) ends the
/// program quietly with exit code 0, like other command line tools.
fn emit(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::Failed(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

/// [`emit`] a line.
fn emitln(line: &str) -> Result<(), Failure> {
    emit(format!("{line}\n").as_bytes())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lesson(LessonCommand::Validate { files }) => validate(&files),
        Command::Lesson(LessonCommand::List) => list().map(|_| 0),
        Command::Lesson(LessonCommand::Show(args)) => show_cmd(&args),
        Command::Run(args) => run_cmd(&args),
        Command::Sql(SqlCommand::Run {
            script,
            level,
            json,
        }) => sql::run(&script, level.as_deref(), json),
        Command::Sql(SqlCommand::Diff {
            script,
            postgres,
            level,
        }) => sql_diff::diff(&script, &postgres, level.as_deref()),
        Command::Sql(SqlCommand::Generate { seed, index }) => {
            emitln(&distlab_sim::models::txn::generate::script(seed, index)).map(|_| 0)
        }
        Command::Sql(SqlCommand::Fuzz {
            postgres,
            seed,
            from,
            count,
            level,
            min_agreement,
            workers,
            json,
        }) => sql_diff::fuzz(sql_diff::FuzzOptions {
            url: &postgres,
            seed,
            from,
            count,
            level: level.as_deref(),
            min_agreement,
            workers,
            json,
        }),
        Command::Clocks(ClocksCommand::Analyze {
            file,
            execution,
            regex,
            pair,
            json,
        }) => clocks::analyze(&clocks::AnalyzeOptions {
            file: &file,
            execution: execution.as_deref(),
            regex: regex.as_deref(),
            pairs: &pair,
            json,
        }),
        Command::Raft(RaftCommand::Explore {
            seeds,
            from,
            servers,
            broken,
            refinement,
            json,
        }) => raft::explore(&raft::ExploreOptions {
            seeds,
            from,
            servers,
            broken: &broken,
            refinements: &refinement,
            json,
        }),
        Command::Raft(RaftCommand::Replay { file, json }) => raft::replay(&file, json),
        Command::Twopc(TwopcCommand::Explore {
            seeds,
            from,
            protocol,
            broken,
            participants,
            crashes_only,
            no_heal,
            json,
        }) => twopc::explore(&twopc::ExploreOptions {
            seeds,
            from,
            protocol: &protocol,
            broken: &broken,
            participants,
            crashes_only,
            no_heal,
            json,
        }),
        Command::Twopc(TwopcCommand::Replay { file, json }) => twopc::replay(&file, json),
        Command::Check(CheckCommand::Linearizability {
            file,
            model,
            initial,
            format,
            budget,
            json,
        }) => check::linearizability(&check::Options {
            file: &file,
            model: &model,
            initial: initial.as_deref(),
            format: &format,
            budget,
            json,
        }),
        Command::Check(CheckCommand::Bench { testdata, json }) => {
            check::bench_cmd(testdata.as_deref(), json)
        }
        Command::Bench { events } => {
            let config = bench::Config {
                events: events as usize,
                ..Default::default()
            };
            emitln(&bench::run(&config).to_string()).map(|_| 0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("distlab: {}", f.message());
            ExitCode::from(f.code())
        }
    }
}

/// `lesson validate`: returns the exit code (0 all valid, 1 some invalid, 2 some unreadable).
fn validate(files: &[PathBuf]) -> Result<u8, Failure> {
    let mut code = 0;
    for file in files {
        let name = file.display();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                code = code.max(2);
                continue;
            }
        };
        match Lesson::parse(&text) {
            Ok(_) => emitln(&format!("ok {name}"))?,
            Err(e) if e.line > 0 => {
                eprintln!("{name}:{}: {}", e.line, e.message);
                code = code.max(1);
            }
            Err(e) => {
                eprintln!("{name}: {}", e.message);
                code = code.max(1);
            }
        }
    }
    Ok(code)
}

fn list() -> Result<(), Failure> {
    let lessons = built_in();
    let width = lessons.iter().map(|l| l.id.len()).max().unwrap_or(0);
    for l in &lessons {
        let n = l.steps.len();
        emitln(&format!(
            "{:width$}  {}  ({n} step{})",
            l.id,
            l.title,
            if n == 1 { "" } else { "s" }
        ))?;
    }
    Ok(())
}

/// Loads a built-in lesson by id, or a lesson file.
fn load(id: Option<&str>, file: Option<&Path>) -> Result<Lesson, Failure> {
    match (id, file) {
        (_, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?;
            Lesson::parse(&text).map_err(|e| {
                Failure::Input(if e.line > 0 {
                    format!("{}:{}: {}", path.display(), e.line, e.message)
                } else {
                    format!("{}: {}", path.display(), e.message)
                })
            })
        }
        (Some(id), None) => {
            let lessons = built_in();
            let ids: Vec<String> = lessons.iter().map(|l| l.id.clone()).collect();
            lessons.into_iter().find(|l| l.id == id).ok_or_else(|| {
                Failure::Input(format!(
                    "no built-in lesson \"{id}\" (the built-in lessons are: {})",
                    ids.join(", ")
                ))
            })
        }
        (None, None) => Err(Failure::Input(
            "which lesson? Give a lesson id or --file PATH".into(),
        )),
    }
}

/// A lesson step's run: the scenario, the engine, the cursor.
struct StepRun {
    lesson: Lesson,
    /// 0-based.
    index: usize,
    scenario: ReplicationScenario,
    engine: Engine<Node>,
    cursor: Option<usize>,
}

/// The 0-based index of 1-based `step`, or why it is out of range.
fn step_index(lesson: &Lesson, step: u64) -> Result<usize, Failure> {
    let n = lesson.steps.len();
    if step == 0 || step as usize > n {
        return Err(Failure::Input(format!(
            "step {step} is out of range: lesson \"{}\" has {n} step{} (1–{n})",
            lesson.id,
            if n == 1 { "" } else { "s" }
        )));
    }
    Ok(step as usize - 1)
}

fn build_step(lesson: Lesson, step: u64) -> Result<StepRun, Failure> {
    let index = step_index(&lesson, step)?;
    if lesson.model != "replication" {
        return Err(Failure::Input(format!(
            "lesson \"{}\" is an {} lesson: it has no event trace (see `distlab lesson show`)",
            lesson.id, lesson.model
        )));
    }
    let what = |m: String| Failure::Failed(format!("lesson \"{}\" step {step}: {m}", lesson.id));
    let run = lesson.run_for_step(index).map_err(what)?;
    let setup = run.scenario.setup().map_err(what)?;
    let engine = Engine::new(setup, run.interventions);
    let cursor = lesson.cursor_for_step(index, &engine).map_err(what)?;
    Ok(StepRun {
        lesson,
        index,
        scenario: run.scenario,
        engine,
        cursor,
    })
}

fn show_cmd(args: &ShowArgs) -> Result<u8, Failure> {
    let l = &args.lesson;
    let lesson = load(l.id.as_deref(), l.file.as_deref())?;
    if lesson.model == "isolation" {
        let index = step_index(&lesson, l.step)?;
        if args.json {
            return Err(Failure::Input(
                "--json is for replication lessons; for an isolation step's run as JSON, save its script and use `distlab sql run --json`".into(),
            ));
        }
        let text = show::isolation_summary(&lesson, index).map_err(|m| {
            Failure::Failed(format!("lesson \"{}\" step {}: {m}", lesson.id, l.step))
        })?;
        emit(text.as_bytes())?;
        return Ok(0);
    }
    if lesson.model != "replication" {
        let index = step_index(&lesson, l.step)?;
        if args.json {
            return Err(Failure::Input(format!(
                "--json is for replication lessons, not {} ones",
                lesson.model
            )));
        }
        let text = show::engine_summary(&lesson, index).map_err(|m| {
            Failure::Failed(format!("lesson \"{}\" step {}: {m}", lesson.id, l.step))
        })?;
        emit(text.as_bytes())?;
        return Ok(0);
    }
    let run = build_step(lesson, l.step)?;
    let analysis = analyze(&run.engine, run.cursor);
    if args.json {
        let json = serde_json::to_string_pretty(&analysis)
            .map_err(|e| Failure::Failed(format!("cannot serialize the analysis: {e}")))?;
        emitln(&json)?;
    } else {
        emit(
            show::summary(
                &run.lesson,
                run.index,
                &run.scenario,
                &run.engine,
                run.cursor,
                &analysis,
            )
            .as_bytes(),
        )?;
    }
    Ok(0)
}

fn run_cmd(args: &RunArgs) -> Result<u8, Failure> {
    let lesson = load(args.lesson.as_deref(), args.file.as_deref())?;
    let run = build_step(lesson, args.step)?;
    let trace = run.engine.trace();
    if args.trace {
        let mut json = trace::to_json(trace);
        json.push(b'\n');
        emit(&json)?;
    } else {
        let at = match run.cursor {
            Some(s) => format!("step {s} at {} ms", trace[s].time),
            None => "the start".to_string(),
        };
        emitln(&format!(
            "{} step {}: {} events, until {} ms{}; cursor at {at}; digest {:016x}",
            run.lesson.id,
            run.index + 1,
            trace.len(),
            run.engine.horizon(),
            if run.engine.truncated() {
                " (truncated)"
            } else {
                ""
            },
            trace::digest(trace),
        ))?;
    }
    Ok(0)
}
