//! The command-line grammar of `engine`: clap derive structs, with the help text
//! that documents formats and exit codes.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit codes, formats and defaults shared by every subcommand's help.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the condition could not be evaluated (e.g. it needs an owner task and no
     --task was given, or it reads scheduler state that was not given)
  2  bad input: an invalid condition (shown with a caret under the offending
     part), a bad option value, or an unreadable or malformed logs file";

/// Exit codes of every command, in short (the top-level help).
const ALL_EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  `cond`: the condition could not be evaluated; `run`: a failure while
     starting or running (address in use, unreadable state, scheduler error)
  2  bad input: an invalid condition or config file (with its place and a
     caret), a bad option value, an unreadable or malformed logs file";

/// Time formats accepted by `--now`, `--from` and `--started`.
const TIME_FORMATS: &str = "\
Times are local wall-clock times in the --tz zone, written
`YYYY-MM-DD HH:MM:SS[.fffffffff]`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD`
(midnight); a `T` may replace the space. A local time that is skipped by a
daylight-saving change means the end of the gap; a repeated one means its
earlier instant.";

/// The zone rule shared by `--tz`.
const TZ_HELP: &str = "The IANA time zone (e.g. `UTC`, `Europe/Berlin`) in which times given on \
    the command line and in the logs file are read, periods (`daily`, `time of day ...`) are \
    evaluated and times are printed. Default: the machine's zone, from the `TZ` environment \
    variable (an IANA name, optionally with a leading `:`), else the target of /etc/localtime, \
    else /etc/timezone, else UTC.";

/// `engine`: a scheduler whose tasks start when readable conditions hold.
#[derive(Debug, Parser)]
#[command(
    name = "engine",
    version,
    about = "A scheduler whose tasks start when readable conditions hold.",
    long_about = "A scheduler whose tasks start when readable conditions hold.\n\n\
        `engine run [CONFIG]` runs a session: the scheduler, its HTTP API and its durable \
        state. `engine cond ...` checks, evaluates and schedules condition text such as \
        \"daily between 08:00 and 10:00 & after task 'extract'\" without running \
        anything.",
    after_help = ALL_EXIT_CODES,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The top-level subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a session: the scheduler, the HTTP API and durable state.
    Run(RunArgs),
    /// Parse, evaluate or schedule a condition, without running anything.
    Cond(CondArgs),
}

/// `engine cond`.
#[derive(Debug, Args)]
#[command(
    about = "Parse, evaluate or schedule a condition, without running anything.",
    long_about = "Parse, evaluate or schedule a condition, without running anything.\n\n\
        COND is condition text, e.g. \"daily between 08:00 and 10:00 & ~has failed today\"; \
        quote it for the shell.",
    after_help = EXIT_CODES,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub(crate) struct CondArgs {
    /// What to do with the condition.
    #[command(subcommand)]
    pub(crate) command: CondCommand,
}

/// The `engine cond` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum CondCommand {
    /// Print `true` or `false`: the condition's value at one instant.
    #[command(
        long_about = "Print `true` or `false`: the condition's value at --now, given the task \
            log in --logs, the session parameters given with --param, and the scheduler state \
            given with --cycles and --started, as seen from the owner task --task.",
        after_help = format!("{TIME_FORMATS}\n\n{EXIT_CODES}")
    )]
    Eval(EvalArgs),
    /// Print the canonical text of the condition.
    #[command(
        long_about = "Print the canonical text of the condition: single spaces, ` & `, ` | `, \
            `~` with no space after it, parentheses only where precedence needs them. \
            Parsing the canonical text gives the same condition.",
        after_help = EXIT_CODES
    )]
    Parse(ParseArgs),
    /// Print the next times at which a task with this condition could start.
    #[command(
        long_about = "Print the next --count times at which a task with this start condition \
            could start, one local time per line (`YYYY-MM-DD HH:MM:SS`, with a fraction only \
            when it is not zero).\n\n\
            Starting at --from, it finds the earliest instant at which the condition is true, \
            prints it, records a `run` and a `success` of the owner task at that instant (a run \
            that takes no time), and looks again after it. It jumps from one instant at which \
            the value may change to the next, so it never steps through time second by second.\n\n\
            It stops early, with a note on stderr and exit code 0, when no further start comes \
            within 10 years of --from; when the condition can only become true through events \
            (another task's run, a parameter change), which `next` does not invent; or when the \
            condition stays true right after a start, so the task would run back to back \
            (e.g. `true`, `time of day between 10:00 and 12:00`).",
        after_help = format!("{TIME_FORMATS}\n\n{EXIT_CODES}")
    )]
    Next(NextArgs),
}

/// `engine cond parse`.
#[derive(Debug, Args)]
pub(crate) struct ParseArgs {
    /// The condition text.
    #[arg(value_name = "COND", allow_hyphen_values = true)]
    pub(crate) cond: String,
}

/// `engine cond eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The condition text.
    #[arg(value_name = "COND", allow_hyphen_values = true)]
    pub(crate) cond: String,

    /// The evaluation instant (a local time in --tz). Default: the current time.
    #[arg(long, value_name = "TIME")]
    pub(crate) now: Option<String>,

    /// Completed scheduler cycles, for `scheduler has ... cycles`. Giving --cycles or
    /// --started makes the scheduler "running"; the other one then defaults to 0
    /// cycles or a start at --now. Without either, scheduler conditions are an
    /// evaluation error (exit code 1).
    #[arg(long, value_name = "N")]
    pub(crate) cycles: Option<u64>,

    /// When the scheduler started (a local time in --tz), for `scheduler started ...
    /// ago` and `scheduler has run over ...`.
    #[arg(long, value_name = "TIME")]
    pub(crate) started: Option<String>,

    /// The world the condition sees.
    #[command(flatten)]
    pub(crate) world: WorldArgs,
}

/// `engine cond next`.
#[derive(Debug, Args)]
pub(crate) struct NextArgs {
    /// The condition text.
    #[arg(value_name = "COND", allow_hyphen_values = true)]
    pub(crate) cond: String,

    /// Where the search starts (a local time in --tz; it may itself be printed).
    /// Default: the current time.
    #[arg(long, value_name = "TIME")]
    pub(crate) from: Option<String>,

    /// How many start times to print.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) count: u32,

    /// The world the condition sees (the owner task defaults to `task`).
    #[command(flatten)]
    pub(crate) world: WorldArgs,
}

/// Options shared by `eval` and `next`: the owner task, the log, the parameters
/// and the time zone.
#[derive(Debug, Args)]
pub(crate) struct WorldArgs {
    /// The owner task: the task whose start condition this is, used by phrases
    /// that name no task (`daily`, `has failed today`, `after task 'x'`).
    /// Default: none for `eval` (such phrases are then an evaluation error),
    /// `task` for `next`.
    #[arg(long, value_name = "NAME")]
    pub(crate) task: Option<String>,

    /// A task log file: a JSON array, or JSON lines (one object per line), of
    /// records `{"task_name": "...", "action": "run|success|fail|terminate|inaction|crash",
    /// "timestamp": "YYYY-MM-DD HH:MM:SS[.f]"}` in log order; timestamps are local
    /// times in --tz and other fields are ignored. The original's reserved action
    /// `crash_release` reads as `crash`; any other action is an error. Default: an
    /// empty log.
    #[arg(long, value_name = "FILE")]
    pub(crate) logs: Option<PathBuf>,

    /// A session parameter (repeatable). VALUE is read as JSON when it is valid
    /// JSON (`1`, `true`, `"a b"`, `[1, 2]`), otherwise it is the text itself;
    /// a key given twice keeps the last value.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub(crate) params: Vec<String>,

    /// The IANA time zone of all times. Default: the machine's (TZ, /etc/localtime).
    #[arg(long, value_name = "ZONE", long_help = TZ_HELP)]
    pub(crate) tz: Option<String>,
}

/// Exit codes of `engine run`.
const RUN_EXIT_CODES: &str = "\
Exit codes:
  0  stopped by Ctrl-C or SIGTERM after a graceful shutdown, or --check passed
  1  a failure while running: the address cannot be bound, the state directory
     cannot be opened, the scheduler stopped with an error
  2  bad input: an invalid config file (every error is shown as FILE:LINE:COLUMN,
     a bad condition with a caret under the offending part) or a bad option";

/// The config file format, in short.
const RUN_CONFIG_HELP: &str = "\
The config file (TOML, every section optional, unknown keys are errors):
  [session]     timezone = \"Europe/Berlin\", task_priority, task_execution,
                task_pre_exist, use_instance_naming, silence_task_prerun,
                silence_cond_check, cycle_sleep, max_concurrent_runs, timeout,
                shutdown_grace, force_status_from_logs, debug
  [api]         host, port, body_limit, header_timeout, body_timeout,
                write_timeout, max_connections, shutdown_grace,
                allow_unauthenticated_remote
  [[api.tokens]]  scopes = [\"read\", \"write\", \"code\", \"admin\"], and
                env = \"VAR\" or file = \"path\" holding the bearer token
  [[api.users]]   user = \"name\", scopes = [...], and password_env = \"VAR\" or
                password_file = \"path\" (HTTP Basic)
  [state]       dir = \"path\" (or \"memory\")
  [parameters]  session parameters: name = value
  [[tasks]]     name, command = \"shell line\" | [\"program\", \"arg\"], or code + lang,
                or func (a function registered by a program that embeds the
                engine: the binary registers none); cwd, env, start_cond,
                end_cond, execution, priority, disabled, on_startup,
                on_shutdown, permanent_task, timeout, parameters, allow_overlap
Durations are text (\"30 minutes\") or seconds. Relative paths are relative to the
config file's directory. Secrets are never written inline: `token = \"...\"` and
`password = \"...\"` are refused. See README.md for a complete example.";

/// `engine run`.
#[derive(Debug, Args)]
#[command(
    about = "Run a session: the scheduler, the HTTP API and durable state.",
    long_about = "Run a session: the tasks of CONFIG (none without it), the scheduler that \
        starts them when their conditions hold, and the HTTP API (default \
        http://127.0.0.1:5000) to list, create, change, run and delete tasks while it runs.\n\n\
        State lives in SQLite files under --state (default ./.engine): the task log \
        (log.sqlite) and every accepted API change (requests.sqlite), so a restart keeps \
        logs, status and changes made over HTTP. Start-up order: config, session, config \
        tasks, replay of the stored API changes, scheduler, API. When ready it prints one \
        line to stdout: `engine: API on http://HOST:PORT, state in DIR (sqlite)`. \
        Ctrl-C or SIGTERM shuts down gracefully: the API drains, the scheduler runs the \
        on_shutdown tasks and terminates what still runs after its grace; a second signal \
        exits at once.\n\n\
        Listening on an address other than a loopback one without any [[api.tokens]] or \
        [[api.users]] is refused unless the config says allow_unauthenticated_remote = true: \
        the API can create tasks that run commands.",
    after_help = format!("{RUN_CONFIG_HELP}\n\n{RUN_EXIT_CODES}")
)]
pub(crate) struct RunArgs {
    /// The config file (TOML). Without it: an empty session with the API, ready for
    /// tasks posted over HTTP.
    #[arg(value_name = "CONFIG")]
    pub(crate) config: Option<PathBuf>,

    /// The address to listen on (overrides `[api] host`). Default: 127.0.0.1.
    #[arg(long, value_name = "HOST")]
    pub(crate) host: Option<String>,

    /// The port to listen on (overrides `[api] port`); 0 picks a free one, shown in
    /// the ready line. Default: 5000.
    #[arg(long, value_name = "PORT")]
    pub(crate) port: Option<u16>,

    /// Where state is kept (overrides `[state] dir`): a directory, created if
    /// missing, or `memory` to keep nothing (write `./memory` for a directory of
    /// that name). Default: ./.engine.
    #[arg(long, value_name = "DIR")]
    pub(crate) state: Option<String>,

    /// Validate CONFIG (every section, every task, built in a throwaway in-memory
    /// session) and exit: 0 with `ok: N tasks`, or 2 with every error found.
    #[arg(long)]
    pub(crate) check: bool,

    /// More log output on stderr: -v debug, -vv trace (for the engine's own
    /// crates). `RUST_LOG` wins when set. Default: info.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}
