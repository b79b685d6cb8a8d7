//! Condition lexer: splits text into operators, parentheses and phrase text, each
//! with its byte span. Quoted text (`'...'`) is part of a phrase and may contain
//! the operator characters.
//!
//! Rules:
//!
//! * Any Unicode whitespace (including line breaks) between tokens is skipped.
//! * `(`, `)`, `&`, `|` and `~` outside quotes are one token each; there is no
//!   `&&` or `||` token (the parser rejects doubled operators).
//! * Everything else up to the next operator character outside quotes is one
//!   [`TokenKind::Phrase`], with surrounding whitespace trimmed from its span.
//! * A `'` opens quoted text and the next `'` closes it, so quoted text cannot
//!   contain `'` itself. An unclosed quote is an error. (v1.2.0 matched names
//!   greedily up to the last quote that let the rest of the phrase match; this
//!   rule is simpler to read and turns `after task 'a' failed'` into an error
//!   instead of a dependency on a task named `a' failed`.)

use std::ops::Range;

use crate::{Error, ErrorKind};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// `&`.
    And,
    /// `|`.
    Or,
    /// `~`.
    Not,
    /// The text of one phrase (`daily between 10:00 and 12:00`), trimmed.
    Phrase,
}

/// One token and the byte span it covers in the input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Its byte span in the input; for a phrase, without surrounding whitespace.
    pub span: Range<usize>,
}

/// Splits `text` into tokens. Fails only on an unclosed quote.
pub fn tokenize(text: &str) -> Result<Vec<Token>, Error> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if let Some(kind) = operator(c) {
            chars.next();
            tokens.push(Token {
                kind,
                span: start..start + c.len_utf8(),
            });
            continue;
        }
        // A phrase: up to the next operator character outside quotes.
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if operator(c).is_some() {
                break;
            }
            chars.next();
            if c == '\'' {
                let close = chars.find(|&(_, c)| c == '\'');
                let Some((j, _)) = close else {
                    return Err(Error::new(ErrorKind::InvalidCondition, "unclosed quote")
                        .with_span(text, i..text.len()));
                };
                end = j + 1;
            } else if !c.is_whitespace() {
                end = i + c.len_utf8();
            }
        }
        tokens.push(Token {
            kind: TokenKind::Phrase,
            span: start..end,
        });
    }
    Ok(tokens)
}

/// The operator or parenthesis token of `c`, if it is one.
fn operator(c: char) -> Option<TokenKind> {
    match c {
        '(' => Some(TokenKind::Open),
        ')' => Some(TokenKind::Close),
        '&' => Some(TokenKind::And),
        '|' => Some(TokenKind::Or),
        '~' => Some(TokenKind::Not),
        _ => None,
    }
}
