//! [`LogRecord`] as an [`engine_query::Record`], the declared field types of the
//! log ([`log_schema`]), and the push-down plan stores derive from a filter.

use chrono::{DateTime, Utc};
use engine_query::{Constraint, FieldType, Filter, Record, Schema, Value};

use super::{Action, ActionSet, LogRecord};

/// The fields of a log record, as a query sees them:
///
/// | field | type | value |
/// |---|---|---|
/// | `task_name` | text | the task |
/// | `action` | text | `run`, `success`, `fail`, `terminate`, `inaction` or `crash` |
/// | `timestamp` | time | when the record was written |
/// | `start` | time | when the run started; null when the task never logged `run` |
/// | `end` | time | when the run ended; **missing** on `run` records |
/// | `runtime` | number | `end - start` in seconds, with a fraction; **missing** on `run` records, null when `start` is |
/// | `created` | number | `timestamp` as Unix seconds, with a fraction |
/// | `exc_text` | text | the error text; **missing** when there is none |
///
/// A record without a field matches no condition on it (`$not` included), so
/// `/logs?end$min=...` keeps only finished runs, and `exc_text$not=x` keeps only
/// records that have an error text.
///
/// ```
/// use engine_core::log::{Action, LogRecord};
/// use engine_query::{Filter, Record, Value};
///
/// let at = "2021-01-01T12:00:00Z".parse()?;
/// let run = LogRecord::new("extract", Action::Run, at);
/// assert_eq!(run.field("action"), Some(Value::Str("run")));
/// assert_eq!(run.field("end"), None);
/// assert!(Filter::parse("task_name=extract&timestamp$max=2021-01-01")?.matches(&run));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl Record for LogRecord {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        let run = self.action == Action::Run;
        match name {
            "task_name" => Some(Value::Str(&self.task_name)),
            "action" => Some(Value::Str(self.action.as_str())),
            "timestamp" => Some(Value::Time(self.timestamp)),
            "start" => Some(self.start.map_or(Value::Null, Value::Time)),
            "end" => match self.end {
                Some(end) => Some(Value::Time(end)),
                None if run => None,
                None => Some(Value::Null),
            },
            "runtime" => match self.runtime {
                Some(runtime) => Some(Value::Float(runtime.as_seconds_f64())),
                None if run => None,
                None => Some(Value::Null),
            },
            "created" => Some(Value::Float(self.created())),
            "exc_text" => self.exc_text.as_deref().map(Value::Str),
            _ => None,
        }
    }
}

/// The declared types of the log's fields (see the table on
/// [`LogRecord`'s `Record` impl](LogRecord#impl-Record-for-LogRecord)), for
/// [`Filter::check`]: an API refuses `/logs?timestamp$min=yesterday` with it
/// instead of matching nothing.
///
/// ```
/// use engine_core::log::log_schema;
/// use engine_query::Filter;
///
/// assert!(Filter::parse("timestamp$min=yesterday")?.check(&log_schema()).is_err());
/// assert!(Filter::parse("timestamp$min=2021-01-01&runtime$max=1.5")?.check(&log_schema()).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn log_schema() -> Schema {
    [
        ("task_name", FieldType::Text),
        ("action", FieldType::Text),
        ("timestamp", FieldType::Time),
        ("start", FieldType::Time),
        ("end", FieldType::Time),
        ("runtime", FieldType::Float),
        ("created", FieldType::Float),
        ("exc_text", FieldType::Text),
    ]
    .into_iter()
    .collect()
}

/// What a store may narrow candidates by before applying a filter: necessary
/// conditions on `task_name`, `action` and `timestamp` (see [`Filter::constraint`]).
#[derive(Debug, Clone)]
pub(crate) struct Pushdown<'f> {
    /// The constraint on the task name (a set and/or a text range).
    pub(crate) tasks: Constraint<'f>,
    /// The actions a matching record may have.
    pub(crate) actions: ActionSet,
    /// The earliest timestamp a matching record may have.
    pub(crate) start: Option<DateTime<Utc>>,
    /// The latest timestamp a matching record may have.
    pub(crate) end: Option<DateTime<Utc>>,
    /// Whether no record can match.
    pub(crate) empty: bool,
}

impl<'f> Pushdown<'f> {
    /// The push-down of `filter`.
    pub(crate) fn new(filter: &'f Filter) -> Self {
        let tasks = filter.constraint("task_name", FieldType::Text);
        let action = filter.constraint("action", FieldType::Text);
        let actions: ActionSet = Action::ALL
            .into_iter()
            .filter(|a| action.admits(Value::Str(a.as_str())))
            .collect();
        let time = filter.constraint("timestamp", FieldType::Time);
        let as_time = |value: Option<Value<'_>>| match value {
            Some(Value::Time(t)) => Some(t),
            _ => None,
        };
        let (mut start, mut end) = (as_time(time.min()), as_time(time.max()));
        // An equality set narrows the range to its extremes.
        if let Some(values) = time.values() {
            let times = values.iter().filter_map(|v| as_time(Some(*v)));
            start = times.clone().min().max(start);
            end = match (times.max(), end) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let empty = tasks.is_unsatisfiable()
            || actions == ActionSet::EMPTY
            || time.is_unsatisfiable()
            || matches!((start, end), (Some(s), Some(e)) if s > e);
        Pushdown {
            tasks,
            actions,
            start,
            end,
            empty,
        }
    }

    /// The task names the filter names, when it restricts them to a set.
    pub(crate) fn task_names(&self) -> Option<Vec<&'f str>> {
        self.tasks.values().map(|values| {
            values
                .iter()
                .filter_map(|v| match v {
                    Value::Str(name) => Some(*name),
                    _ => None,
                })
                .collect()
        })
    }

    /// Whether a record of `task` may match.
    pub(crate) fn admits_task(&self, task: &str) -> bool {
        self.tasks.admits(Value::Str(task))
    }

    /// Whether the action or time constraint narrows anything.
    pub(crate) fn narrows_records(&self) -> bool {
        self.actions != ActionSet::ALL || self.start.is_some() || self.end.is_some()
    }
}
