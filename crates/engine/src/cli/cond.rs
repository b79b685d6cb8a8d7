//! `engine cond {eval,parse,next}`: check, evaluate and schedule condition text.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use engine::condition::eval::{EvalContext, SchedulerState};
use engine::log::{Action, LogRecord, MemoryLogConfig, MemoryLogStore};
use engine::{Clock, Condition, SystemClock};
use serde_json::{Map, Value};

use super::args::{CondArgs, CondCommand, EvalArgs, NextArgs, ParseArgs, WorldArgs};
use super::input::{format_local, parse_params, parse_time, read_logs, time_zone};
use super::{Failure, Streams};

/// How far past `--from` `next` looks for a start.
const HORIZON: TimeDelta = TimeDelta::days(3653);

/// How many candidate instants `next` may try while looking for one start.
const STEP_BUDGET: u32 = 1_000_000;

/// The owner task of `next` when `--task` is not given.
const DEFAULT_NEXT_TASK: &str = "task";

/// Runs one `engine cond` subcommand.
pub(crate) fn run(args: CondArgs, streams: &mut Streams<'_>) -> Result<(), Failure> {
    match args.command {
        CondCommand::Parse(args) => parse(&args, streams),
        CondCommand::Eval(args) => eval(&args, streams),
        CondCommand::Next(args) => next(&args, streams),
    }
}

/// `engine cond parse`: prints the canonical text.
fn parse(args: &ParseArgs, streams: &mut Streams<'_>) -> Result<(), Failure> {
    let cond = parse_condition(&args.cond)?;
    writeln!(streams.out, "{cond}")?;
    Ok(())
}

/// `engine cond eval`: prints `true` or `false`.
fn eval(args: &EvalArgs, streams: &mut Streams<'_>) -> Result<(), Failure> {
    let cond = parse_condition(&args.cond)?;
    let world = World::read(&args.world)?;
    let now = match &args.now {
        Some(text) => parse_time("--now", text, world.tz)?,
        None => SystemClock.now(),
    };
    let started = args
        .started
        .as_deref()
        .map(|text| parse_time("--started", text, world.tz))
        .transpose()?;
    let scheduler = (args.cycles.is_some() || started.is_some()).then(|| SchedulerState {
        cycles: args.cycles.unwrap_or(0),
        started_at: started.unwrap_or(now),
    });
    let ctx = world.context(now, args.world.task.as_deref(), scheduler);
    let value = cond.eval(&ctx).map_err(evaluation)?;
    writeln!(streams.out, "{value}")?;
    Ok(())
}

/// `engine cond next`: prints the next start times, one per line.
fn next(args: &NextArgs, streams: &mut Streams<'_>) -> Result<(), Failure> {
    let cond = parse_condition(&args.cond)?;
    let world = World::read(&args.world)?;
    let from = match &args.from {
        Some(text) => parse_time("--from", text, world.tz)?,
        None => SystemClock.now(),
    };
    let task = args.world.task.as_deref().unwrap_or(DEFAULT_NEXT_TASK);
    let horizon = from
        .checked_add_signed(HORIZON)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut cursor = from;
    for i in 0..args.count {
        // The first search may start at `from` itself; later ones only after
        // the previous start, which is false there once its run is recorded.
        let found = if i == 0
            && cond
                .eval(&world.context(cursor, Some(task), None))
                .map_err(evaluation)?
        {
            Found::At(cursor)
        } else {
            world.search(&cond, task, cursor, horizon)?
        };
        let start = match found {
            Found::At(start) => start,
            Found::Stop(reason) => {
                writeln!(streams.err, "note: {reason}")?;
                break;
            }
        };
        writeln!(streams.out, "{}", format_local(start, world.tz))?;
        world.log.append(LogRecord::new(task, Action::Run, start));
        world
            .log
            .append(LogRecord::new(task, Action::Success, start));
        if cond
            .eval(&world.context(start, Some(task), None))
            .map_err(evaluation)?
        {
            if i + 1 < args.count {
                writeln!(
                    streams.err,
                    "note: the condition stays true right after a start at {}, so the task would start \
                     again as soon as each run ends",
                    format_local(start, world.tz)
                )?;
            }
            break;
        }
        cursor = start;
    }
    Ok(())
}

/// Parses condition text; an error is shown with a caret under the offending part.
fn parse_condition(text: &str) -> Result<Condition, Failure> {
    text.parse()
        .map_err(|e: engine::Error| Failure::Input(e.render()))
}

/// An evaluation error.
fn evaluation(error: engine::Error) -> Failure {
    Failure::Evaluation(error.to_string())
}

/// The outcome of looking for one start.
enum Found {
    /// The condition is true at this instant.
    At(DateTime<Utc>),
    /// No start can be found; why.
    Stop(String),
}

/// What a condition sees: time zone, task log and session parameters.
struct World {
    tz: Tz,
    log: MemoryLogStore,
    params: Map<String, Value>,
}

impl World {
    /// Reads `--tz`, `--logs` and `--param`.
    fn read(args: &WorldArgs) -> Result<Self, Failure> {
        let tz = time_zone(args.tz.as_deref())?;
        let params = parse_params(&args.params)?;
        // No retention bound: conditions without a window look at all history,
        // and the log holds only the file's records and 2 per `next` start.
        let log = MemoryLogStore::with_config(MemoryLogConfig {
            max_records_per_task: usize::MAX,
        });
        if let Some(path) = &args.logs {
            log.extend(read_logs(path, tz)?.records);
        }
        Ok(World { tz, log, params })
    }

    /// The evaluation context at `now` for the owner `task`; every task name is
    /// accepted.
    fn context<'a>(
        &'a self,
        now: DateTime<Utc>,
        task: Option<&'a str>,
        scheduler: Option<SchedulerState>,
    ) -> EvalContext<'a> {
        EvalContext {
            now,
            tz: self.tz,
            log: &self.log,
            task,
            scheduler,
            params: &self.params,
            task_exists: None,
        }
    }

    /// The earliest instant after `after` (and not after `horizon`) at which
    /// `cond` is true, jumping from one possible change of its value to the next.
    fn search(
        &self,
        cond: &Condition,
        task: &str,
        after: DateTime<Utc>,
        horizon: DateTime<Utc>,
    ) -> Result<Found, Failure> {
        let mut at = after;
        for _ in 0..STEP_BUDGET {
            let ctx = self.context(at, Some(task), None);
            let Some(change) = cond.next_change(&ctx).map_err(evaluation)? else {
                return Ok(Found::Stop(format!(
                    "no further start after {}: the condition no longer changes with time alone; only \
                     events (other tasks' runs, parameter changes) could make it true, and `next` does \
                     not invent events",
                    format_local(at, self.tz)
                )));
            };
            if change <= at {
                return Err(Failure::Evaluation(format!(
                    "the condition reported its next change at {}, which is not after {}",
                    format_local(change, self.tz),
                    format_local(at, self.tz)
                )));
            }
            if change > horizon {
                return Ok(Found::Stop(format!(
                    "no further start within 10 years of --from (up to {})",
                    format_local(horizon, self.tz)
                )));
            }
            at = change;
            if cond
                .eval(&self.context(at, Some(task), None))
                .map_err(evaluation)?
            {
                return Ok(Found::At(at));
            }
        }
        Ok(Found::Stop(format!(
            "no start found among {STEP_BUDGET} instants at which the condition may change, up to {}",
            format_local(at, self.tz)
        )))
    }
}
