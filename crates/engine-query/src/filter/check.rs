//! Checking a compiled filter against declared field types ([`Schema`]), so bad bounds are refused up front.

use crate::error::{Error, ErrorKind};
use crate::filter::{Alt, Filter, Test};
use crate::op::{Bound, Op};
use crate::value::time;
use crate::value::{FieldType, Literal};

/// The declared types of some fields, for [`Filter::check`].
///
/// Fields not listed are not checked: any value is fine for them.
///
/// ```
/// use engine_query::{ErrorKind, FieldType, Filter, Schema};
///
/// let schema = Schema::default().with_field("timestamp", FieldType::Time);
/// let error = Filter::parse("timestamp$min=yesterday")?.check(&schema).unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::TypeMismatch);
/// assert_eq!(error.span(), Some(14..23));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    fields: Vec<(String, FieldType)>,
}

impl Schema {
    /// This schema with `name` declared as `field_type` (replacing an earlier declaration).
    pub fn with_field(mut self, name: &str, field_type: FieldType) -> Self {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = field_type,
            None => self.fields.push((name.to_owned(), field_type)),
        }
        self
    }

    /// The declared type of `name`, if any.
    pub fn field_type(&self, name: &str) -> Option<FieldType> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }
}

impl<'a> FromIterator<(&'a str, FieldType)> for Schema {
    fn from_iter<I: IntoIterator<Item = (&'a str, FieldType)>>(fields: I) -> Self {
        fields
            .into_iter()
            .fold(Schema::default(), |schema, (name, t)| {
                schema.with_field(name, t)
            })
    }
}

impl Filter {
    /// Checks every value against the declared type of its field.
    ///
    /// A filter is compiled without knowing field types, and at match time a value
    /// that cannot be compared with a field (`timestamp$min=yesterday` against a
    /// time) simply does not match. An API that knows its fields calls this to
    /// refuse such a query instead (HTTP 400). Allowed per field type: a time for
    /// [`FieldType::Time`], a number for `Int` and `Float`, `true`/`false` for
    /// `Bool`, text for `Text`; `null` too for `=` and `$not`; `$regex` only on
    /// `Text`.
    ///
    /// # Errors
    ///
    /// The first mismatch, as [`ErrorKind::TypeMismatch`] with the key and, for a
    /// filter from a query string, the span of the value.
    pub fn check(&self, schema: &Schema) -> Result<(), Error> {
        for group in self.groups() {
            let Some(field_type) = schema.field_type(&group.field) else {
                continue;
            };
            for alt in &group.alts {
                check_alt(&group.key, group.op, field_type, alt)?;
            }
        }
        Ok(())
    }
}

/// Checks one alternative of the group `key` (operator `op`) on a field of `field_type`.
fn check_alt(key: &str, op: Op, field_type: FieldType, alt: &Alt) -> Result<(), Error> {
    let mismatch = |what: String| {
        let message = format!("value '{}' of key '{key}' {what}", alt.literal);
        Err(Error::new(ErrorKind::TypeMismatch, Some(key), message).with_span(alt.span.clone()))
    };
    let bound = match &alt.test {
        Test::Regex(_) if field_type == FieldType::Text => return Ok(()),
        Test::Regex(_) => {
            return mismatch(format!(
                "is a regex, but the field is a {field_type}, not text"
            ));
        }
        Test::Bound(bound) => bound,
    };
    if bound.null && matches!(op, Op::Eq | Op::Not) {
        return Ok(());
    }
    if interpretation(bound, field_type) {
        return Ok(());
    }
    match field_type {
        FieldType::Time => match &alt.literal {
            Literal::Text(text) if time::parse(text).is_some() => {
                mismatch("is a local time that does not exist in the filter's time zone".into())
            }
            _ => mismatch("is not a time like 2021-01-01 or 2021-01-01 12:00:00".into()),
        },
        FieldType::Int | FieldType::Float => mismatch("is not a number".into()),
        FieldType::Bool => mismatch("is not a boolean (true or false)".into()),
        FieldType::Text => mismatch("is not text".into()),
    }
}

/// Whether `bound` has a meaning for fields of `field_type`.
fn interpretation(bound: &Bound, field_type: FieldType) -> bool {
    match field_type {
        FieldType::Bool => bound.boolean.is_some(),
        FieldType::Int | FieldType::Float => bound.float.is_some() || bound.int.is_some(),
        FieldType::Text => bound.text.is_some(),
        FieldType::Time => bound.time.is_some(),
    }
}
