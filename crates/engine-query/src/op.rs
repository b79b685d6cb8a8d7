//! Operators (`=`, `$min`, `$max`, `$not`, `$regex`) and how each compares a field with a bound.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::value::time::{self, Zone};
use crate::value::{Literal, Value, cmp_f64_i64, cmp_i64_f64};

/// The operator of a query key: the part after `$`, or none for equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// `field=value`: the field equals the value.
    Eq,
    /// `field$min=value`: the field is at least the value (inclusive).
    Min,
    /// `field$max=value`: the field is at most the value (inclusive).
    Max,
    /// `field$not=value`: the record has the field and it does not equal the value.
    Not,
    /// `field$regex=pattern`: the field is text and the pattern matches at its start.
    Regex,
}

impl Op {
    /// Every operator, equality first.
    pub const ALL: [Op; 5] = [Op::Eq, Op::Min, Op::Max, Op::Not, Op::Regex];

    /// The key suffix: `""`, `"$min"`, `"$max"`, `"$not"`, `"$regex"`.
    pub fn suffix(self) -> &'static str {
        match self {
            Op::Eq => "",
            Op::Min => "$min",
            Op::Max => "$max",
            Op::Not => "$not",
            Op::Regex => "$regex",
        }
    }

    /// The operator named by the text after `$` (`min`, `max`, `not`, `regex`).
    pub(crate) fn from_name(name: &str) -> Option<Op> {
        Op::ALL
            .into_iter()
            .find(|op| op.suffix().strip_prefix('$') == Some(name))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            other => other.suffix(),
        })
    }
}

/// A comparison value parsed at compile time into every interpretation it has,
/// so that matching a record does no parsing of the bound.
///
/// A query-string value `10` is at once the text `"10"`, the integer 10 and the
/// float 10.0; `2021-01-01` is text and a time (midnight, or the last instant of
/// the day for `$max`); `true` is text and a boolean. A JSON number or boolean
/// keeps its JSON type and has no text interpretation.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub(crate) text: Option<Box<str>>,
    pub(crate) int: Option<i64>,
    pub(crate) float: Option<f64>,
    pub(crate) boolean: Option<bool>,
    pub(crate) null: bool,
    pub(crate) time: Option<DateTime<Utc>>,
}

impl Bound {
    /// Every interpretation of `literal` as a bound of `op`, reading times without
    /// an offset in `zone`.
    pub(crate) fn new(literal: &Literal, op: Op, zone: &Zone) -> Bound {
        let empty = Bound {
            text: None,
            int: None,
            float: None,
            boolean: None,
            null: false,
            time: None,
        };
        match literal {
            Literal::Null => Bound {
                null: true,
                ..empty
            },
            Literal::Bool(b) => Bound {
                boolean: Some(*b),
                ..empty
            },
            Literal::Int(i) => Bound {
                int: Some(*i),
                float: Some(*i as f64),
                ..empty
            },
            Literal::Float(f) => Bound {
                float: f.is_finite().then_some(*f),
                ..empty
            },
            Literal::Text(text) => Bound {
                text: Some(text.as_str().into()),
                int: parse_int(text),
                float: parse_float(text),
                boolean: match text.as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                },
                null: text == "null",
                time: time::parse(text).and_then(|parsed| match op {
                    Op::Max => parsed.last_instant(zone),
                    _ => parsed.first_instant(zone),
                }),
            },
        }
    }

    /// How `field` compares with this bound, or `None` when they cannot be
    /// compared (different types, NaN). `Null` and `Other` fields are handled by
    /// [`holds`] and never reach here as comparable.
    fn compare(&self, field: Value<'_>, zone: &Zone) -> Option<Ordering> {
        match field {
            Value::Bool(b) => self.boolean.map(|x| b.cmp(&x)),
            Value::Int(i) => match (self.int, self.float) {
                (Some(n), _) => Some(i.cmp(&n)),
                (None, Some(f)) => cmp_i64_f64(i, f),
                (None, None) => None,
            },
            Value::Float(x) => match (self.int, self.float) {
                (Some(n), _) => cmp_f64_i64(x, n),
                (None, Some(f)) => x.partial_cmp(&f),
                (None, None) => None,
            },
            Value::Time(t) => self.time.map(|b| t.cmp(&b)),
            Value::Str(s) => {
                if let Some(b) = self.time
                    && let Some(t) = time::parse(s).and_then(|parsed| parsed.first_instant(zone))
                {
                    return Some(t.cmp(&b));
                }
                self.text.as_deref().map(|text| s.cmp(text))
            }
            Value::Null | Value::Other => None,
        }
    }
}

/// Whether a present `field` satisfies `op` against `bound` (`$regex` excluded).
///
/// `=` holds when the two compare equal (a `Null` field equals only the bound
/// `null`); `$not` is exactly the negation of `=`; `$min` and `$max` hold when the
/// two compare and the order is right, so a `Null`, `Other` or incomparable field
/// never satisfies them.
pub(crate) fn holds(op: Op, field: Value<'_>, bound: &Bound, zone: &Zone) -> bool {
    let equal = |field: Value<'_>| match field {
        Value::Null => bound.null,
        other => bound.compare(other, zone) == Some(Ordering::Equal),
    };
    match op {
        Op::Eq => equal(field),
        Op::Not => !equal(field),
        Op::Min => matches!(
            bound.compare(field, zone),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        Op::Max => matches!(
            bound.compare(field, zone),
            Some(Ordering::Less | Ordering::Equal)
        ),
        Op::Regex => false,
    }
}

/// An integer written the plain way: optional sign, ASCII digits.
fn parse_int(text: &str) -> Option<i64> {
    text.parse().ok()
}

/// A finite decimal number (`1.5`, `-2`, `1e3`, `.5`); not `inf`, `NaN` or `infinity`.
fn parse_float(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}
