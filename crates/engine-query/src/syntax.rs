//! Raw parameters: splitting a query string into `key=value` pairs, percent-decoding, key syntax, spans.

use std::ops::Range;

use crate::error::{Error, ErrorKind};
use crate::op::Op;
use crate::value::Literal;

#[cfg(test)]
mod tests;

/// One `key=value` parameter of a query, checked but not yet compiled.
///
/// The key is `field` or `field$op`; the spans (present when the parameter came
/// from a raw query string) are byte ranges in that string.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    key: String,
    field_len: usize,
    op: Op,
    value: Literal,
    key_span: Option<Range<usize>>,
    value_span: Option<Range<usize>>,
}

impl Param {
    /// A parameter from an already-decoded key and a value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EmptyKey`] for a key without a field name, and
    /// [`ErrorKind::UnknownOperator`] for an operator other than `$min`, `$max`,
    /// `$not` and `$regex`, or more than one `$`.
    pub fn new(key: &str, value: Literal) -> Result<Param, Error> {
        let (field_len, op) = split_key(key).map_err(|e| e.into_error(key, |r| r, None))?;
        Ok(Param {
            key: key.to_owned(),
            field_len,
            op,
            value,
            key_span: None,
            value_span: None,
        })
    }

    /// The whole key as given (decoded): `timestamp$min`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The field name: the key without its operator.
    pub fn field(&self) -> &str {
        self.key.get(..self.field_len).unwrap_or_default()
    }

    /// The operator.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The value.
    pub fn value(&self) -> &Literal {
        &self.value
    }

    /// The byte span of the key in the raw query string, if the parameter came from one.
    pub fn key_span(&self) -> Option<Range<usize>> {
        self.key_span.clone()
    }

    /// The byte span of the value in the raw query string, if the parameter came from one.
    pub fn value_span(&self) -> Option<Range<usize>> {
        self.value_span.clone()
    }
}

/// Splits a raw query string into parameters, in order.
///
/// A leading `?` is skipped. Pairs are separated by `&`; empty pairs (`a=1&&b=2`)
/// are skipped; a pair without `=` has the value `""`. Keys and values are
/// percent-decoded with `+` meaning a space; `$` may be written raw or as `%24`.
/// Spans in errors and parameters are byte offsets in `query` (counting the `?`).
///
/// # Errors
///
/// [`ErrorKind::InvalidEncoding`] for a `%` not followed by two hex digits or
/// decoded bytes that are not UTF-8, and the key errors of [`Param::new`].
pub fn parse_query(query: &str) -> Result<Vec<Param>, Error> {
    let (body, base) = match query.strip_prefix('?') {
        Some(rest) => (rest, 1),
        None => (query, 0),
    };
    let mut params = Vec::new();
    let mut start = base;
    for pair in body.split('&') {
        let pair_start = start;
        start += pair.len() + 1;
        if pair.is_empty() {
            continue;
        }
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key_span = pair_start..pair_start + raw_key.len();
        let value_start = (key_span.end + 1).min(pair_start + pair.len());
        let value_span = value_start..value_start + raw_value.len();

        let key = decode(raw_key, key_span.start).map_err(|e| e.into_error(raw_key, false))?;
        let (field_len, op) = split_key(&key.text).map_err(|e| {
            let pair_span = pair_start..pair_start + pair.len();
            e.into_error(&key.text, |r| key.raw_span(r), Some(pair_span))
        })?;
        let value =
            decode(raw_value, value_span.start).map_err(|e| e.into_error(&key.text, true))?;
        params.push(Param {
            key: key.text,
            field_len,
            op,
            value: Literal::Text(value.text),
            key_span: Some(key_span),
            value_span: Some(value_span),
        });
    }
    Ok(params)
}

/// What is wrong with a key, and where in the decoded key.
struct KeyError {
    kind: ErrorKind,
    message: String,
    /// Byte range in the decoded key; `None` for a wholly empty key.
    range: Option<Range<usize>>,
}

impl KeyError {
    /// The crate error, mapping the decoded range to the raw query with `to_raw`;
    /// an empty key points at its whole pair.
    fn into_error(
        self,
        key: &str,
        to_raw: impl Fn(Range<usize>) -> Range<usize>,
        pair_span: Option<Range<usize>>,
    ) -> Error {
        let span = match self.range {
            Some(range) if pair_span.is_some() => Some(to_raw(range)),
            _ => pair_span,
        };
        Error::new(self.kind, Some(key), self.message).with_span(span)
    }
}

/// The length of the field name and the operator of a decoded key.
fn split_key(key: &str) -> Result<(usize, Op), KeyError> {
    let Some(dollar) = key.find('$') else {
        if key.is_empty() {
            return Err(KeyError {
                kind: ErrorKind::EmptyKey,
                message: "empty key".into(),
                range: None,
            });
        }
        return Ok((key.len(), Op::Eq));
    };
    let name = key.get(dollar + 1..).unwrap_or_default();
    if let Some(second) = name.find('$') {
        let second = dollar + 1 + second;
        return Err(KeyError {
            kind: ErrorKind::UnknownOperator,
            message: format!("key '{key}' has more than one '$'"),
            range: Some(second..key.len()),
        });
    }
    let Some(op) = Op::from_name(name) else {
        return Err(KeyError {
            kind: ErrorKind::UnknownOperator,
            message: format!(
                "unknown operator '${name}' in key '{key}', expected $min, $max, $not or $regex"
            ),
            range: Some(dollar..key.len()),
        });
    };
    if dollar == 0 {
        return Err(KeyError {
            kind: ErrorKind::EmptyKey,
            message: format!("key '{key}' has no field name"),
            range: Some(0..key.len()),
        });
    }
    Ok((dollar, op))
}

/// Percent-decoded text, with where each decoded byte came from.
struct Decoded {
    text: String,
    /// `origins[i]` is the query offset of the raw text that produced decoded byte
    /// `i`; one more entry holds the end of the raw text.
    origins: Vec<usize>,
}

impl Decoded {
    /// The span in the query of the decoded byte range `range`.
    fn raw_span(&self, range: Range<usize>) -> Range<usize> {
        let end_of_raw = self.origins.last().copied().unwrap_or_default();
        let at = |i: usize| self.origins.get(i).copied().unwrap_or(end_of_raw);
        at(range.start)..at(range.end)
    }
}

/// A percent-decoding failure: message and span in the query.
struct DecodeError {
    message: String,
    span: Range<usize>,
}

impl DecodeError {
    /// The crate error for a failure decoding `key` itself or, with `in_value`, its value.
    fn into_error(self, key: &str, in_value: bool) -> Error {
        let place = if in_value { "the value of key" } else { "key" };
        Error::new(
            ErrorKind::InvalidEncoding,
            Some(key),
            format!("{} in {place} '{key}'", self.message),
        )
        .with_span(Some(self.span))
    }
}

/// Percent-decodes `raw` (which starts at query offset `base`), `+` as space.
fn decode(raw: &str, base: usize) -> Result<Decoded, DecodeError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut origins = Vec::with_capacity(bytes.len() + 1);
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        origins.push(base + i);
        match byte {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
                let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                    // Point at the `%` and the (at most two) ASCII bytes after it.
                    let tail = bytes.get(i + 1..).unwrap_or_default();
                    let len = 1 + tail.iter().take(2).take_while(|b| b.is_ascii()).count();
                    let shown = raw.get(i..i + len).unwrap_or("%");
                    return Err(DecodeError {
                        message: format!("invalid percent-encoding '{shown}'"),
                        span: base + i..base + i + len,
                    });
                };
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    origins.push(base + bytes.len());
    match String::from_utf8(out) {
        Ok(text) => Ok(Decoded { text, origins }),
        Err(e) => {
            let error = e.utf8_error();
            let start = error.valid_up_to();
            let end = error
                .error_len()
                .map_or(e.as_bytes().len(), |len| start + len);
            let decoded = Decoded {
                text: String::new(),
                origins,
            };
            let span = decoded.raw_span(start..end);
            // Cover the whole last escape of the bad sequence.
            let span = span.start..span.end.max(span.start + 1);
            Err(DecodeError {
                message: "percent-decoded bytes are not UTF-8".into(),
                span,
            })
        }
    }
}
