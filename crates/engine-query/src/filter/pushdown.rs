//! Push-down: a necessary constraint on one field, so a store can use an index instead of a scan.

use std::cmp::Ordering;

use crate::filter::{Filter, Group, Test};
use crate::op::{Bound, Op};
use crate::value::{FieldType, TWO_POW_63, Value};

/// A necessary condition on one field of every record a filter matches: the
/// field's value is in [`values`](Constraint::values) (when that is `Some`) and
/// within [`min`](Constraint::min)`..=`[`max`](Constraint::max) (each when `Some`).
///
/// **Necessary, not sufficient**: a record outside the constraint cannot match,
/// but a record inside it may still fail the filter (other fields, `$not`,
/// `$regex`, ...). A store uses it to narrow candidates through an index, then
/// calls [`Filter::matches`] on each candidate. It holds for records whose field
/// is of the [`FieldType`] asked for; it says nothing about records where the
/// field has another type.
///
/// Only `=`, `$min` and `$max` constrain. A group with a `null` value gives no
/// constraint (a null field may match it), nor, for [`FieldType::Text`], a group
/// with a value that reads as a time (text fields that read as times compare as
/// times). Values with no meaning for the type are left out (`priority=high` for
/// an integer field), so a group left with none makes the constraint
/// [unsatisfiable](Constraint::is_unsatisfiable).
///
/// ```
/// use engine_query::{FieldType, Filter, Value};
///
/// let filter = Filter::parse("task_name=a&task_name=b&timestamp$min=2021-01-01&action$not=run")?;
/// let names = filter.constraint("task_name", FieldType::Text);
/// assert_eq!(names.values(), Some(&[Value::Str("a"), Value::Str("b")][..]));
/// let times = filter.constraint("timestamp", FieldType::Time);
/// assert_eq!(times.min(), Some(Value::Time("2021-01-01T00:00:00Z".parse()?)));
/// assert_eq!(times.max(), None);
/// assert!(filter.constraint("action", FieldType::Text).is_unconstrained());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Constraint<'f> {
    values: Option<Vec<Value<'f>>>,
    min: Option<Value<'f>>,
    max: Option<Value<'f>>,
}

impl<'f> Constraint<'f> {
    /// The finite set the value must be in, when the filter restricts it to one
    /// (each value once, in order of first appearance, all within the range).
    pub fn values(&self) -> Option<&[Value<'f>]> {
        self.values.as_deref()
    }

    /// The inclusive lower bound, if any.
    pub fn min(&self) -> Option<Value<'f>> {
        self.min
    }

    /// The inclusive upper bound, if any.
    pub fn max(&self) -> Option<Value<'f>> {
        self.max
    }

    /// Whether there is no constraint at all (every value may match).
    pub fn is_unconstrained(&self) -> bool {
        self.values.is_none() && self.min.is_none() && self.max.is_none()
    }

    /// Whether no value of the type can match: the filter matches no record whose
    /// field has this type.
    pub fn is_unsatisfiable(&self) -> bool {
        self.values.as_ref().is_some_and(Vec::is_empty)
    }

    /// Whether `value` satisfies the constraint (so a record with it may match).
    pub fn admits(&self, value: Value<'_>) -> bool {
        let in_set = self.values.as_ref().is_none_or(|values| {
            values
                .iter()
                .any(|v| same(*v, value) == Some(Ordering::Equal))
        });
        let above = self.min.is_none_or(|min| {
            matches!(same(value, min), Some(Ordering::Greater | Ordering::Equal))
        });
        let below = self
            .max
            .is_none_or(|max| matches!(same(value, max), Some(Ordering::Less | Ordering::Equal)));
        in_set && above && below
    }
}

impl Filter {
    /// A necessary constraint on `field` for records where it has type
    /// `field_type`; see [`Constraint`].
    pub fn constraint(&self, field: &str, field_type: FieldType) -> Constraint<'_> {
        let mut constraint = Constraint::default();
        let mut unsatisfiable = false;
        for group in self.groups().iter().filter(|g| &*g.field == field) {
            let Some(bounds) = group_bounds(group, field_type) else {
                continue;
            };
            match group.op {
                Op::Eq => {
                    let mut values: Vec<Value<'_>> = Vec::new();
                    for value in bounds.iter().filter_map(|b| equal_value(b, field_type)) {
                        if !values
                            .iter()
                            .any(|v| same(*v, value) == Some(Ordering::Equal))
                        {
                            values.push(value);
                        }
                    }
                    constraint.values = Some(values);
                }
                Op::Min => match bounds
                    .iter()
                    .filter_map(|b| lower(b, field_type))
                    .reduce(|a, b| pick(a, b, Ordering::Less))
                {
                    Some(low) => {
                        constraint.min = Some(
                            constraint
                                .min
                                .map_or(low, |m| pick(m, low, Ordering::Greater)),
                        )
                    }
                    None => unsatisfiable = true,
                },
                Op::Max => match bounds
                    .iter()
                    .filter_map(|b| upper(b, field_type))
                    .reduce(|a, b| pick(a, b, Ordering::Greater))
                {
                    Some(high) => {
                        constraint.max = Some(
                            constraint
                                .max
                                .map_or(high, |m| pick(m, high, Ordering::Less)),
                        )
                    }
                    None => unsatisfiable = true,
                },
                Op::Not | Op::Regex => {}
            }
        }
        if let (Some(min), Some(max)) = (constraint.min, constraint.max)
            && same(min, max) == Some(Ordering::Greater)
        {
            unsatisfiable = true;
        }
        if unsatisfiable {
            constraint.values = Some(Vec::new());
        }
        let (min, max) = (constraint.min, constraint.max);
        if let Some(values) = &mut constraint.values {
            let range = Constraint {
                values: None,
                min,
                max,
            };
            values.retain(|v| range.admits(*v));
        }
        constraint
    }
}

/// The bounds of a group that constrains fields of `field_type`; `None` when the
/// group gives no constraint (operator, a null value, text that reads as a time).
fn group_bounds(group: &Group, field_type: FieldType) -> Option<Vec<&Bound>> {
    if !matches!(group.op, Op::Eq | Op::Min | Op::Max) {
        return None;
    }
    let bounds: Vec<&Bound> = group
        .alts
        .iter()
        .filter_map(|alt| match &alt.test {
            Test::Bound(bound) => Some(bound),
            Test::Regex(_) => None,
        })
        .collect();
    let null = group.op == Op::Eq && bounds.iter().any(|b| b.null);
    let time_text = field_type == FieldType::Text && bounds.iter().any(|b| b.time.is_some());
    (!null && !time_text).then_some(bounds)
}

/// The field value equal to `bound`, for a field of `field_type`.
fn equal_value(bound: &Bound, field_type: FieldType) -> Option<Value<'_>> {
    match field_type {
        FieldType::Bool => bound.boolean.map(Value::Bool),
        FieldType::Int => bound
            .int
            .or_else(|| {
                bound
                    .float
                    .filter(|f| f.fract() == 0.0)
                    .and_then(float_to_int)
            })
            .map(Value::Int),
        FieldType::Float => float_of(bound).map(Value::Float),
        FieldType::Text => bound.text.as_deref().map(Value::Str),
        FieldType::Time => bound.time.map(Value::Time),
    }
}

/// The least field value of `field_type` at or above `bound`; `None` when there is none.
fn lower(bound: &Bound, field_type: FieldType) -> Option<Value<'_>> {
    match (field_type, bound.int) {
        (FieldType::Int, Some(n)) => Some(Value::Int(n)),
        (FieldType::Int, None) => {
            let ceil = bound.float?.ceil();
            if ceil < -TWO_POW_63 {
                Some(Value::Int(i64::MIN))
            } else {
                float_to_int(ceil).map(Value::Int)
            }
        }
        _ => equal_value(bound, field_type),
    }
}

/// The greatest field value of `field_type` at or below `bound`; `None` when there is none.
fn upper(bound: &Bound, field_type: FieldType) -> Option<Value<'_>> {
    match (field_type, bound.int) {
        (FieldType::Int, Some(n)) => Some(Value::Int(n)),
        (FieldType::Int, None) => {
            let floor = bound.float?.floor();
            if floor >= TWO_POW_63 {
                Some(Value::Int(i64::MAX))
            } else {
                float_to_int(floor).map(Value::Int)
            }
        }
        _ => equal_value(bound, field_type),
    }
}

/// A whole float as an `i64`, when it is one.
fn float_to_int(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f)).then_some(f as i64)
}

/// The float a bound stands for (an integer bound rounded to the nearest float,
/// which never excludes a float that compares equal or in range).
fn float_of(bound: &Bound) -> Option<f64> {
    bound.int.map(|n| n as f64).or(bound.float)
}

/// Orders two values of the same variant; `None` across variants or with NaN.
fn same(a: Value<'_>, b: Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(&y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(&y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(&y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

/// `b` if it is `order` than `a`, else `a`: `pick(a, b, Less)` is the minimum.
fn pick<'a>(a: Value<'a>, b: Value<'a>, order: Ordering) -> Value<'a> {
    if same(b, a) == Some(order) { b } else { a }
}
