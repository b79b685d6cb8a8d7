//! Condition parser: a Pratt loop over `~ & |` and parentheses, and one parse
//! function per phrase family.
//!
//! Grammar (precedence `~` > `&` > `|`):
//!
//! ```text
//! expr    := and ( "|" and )*
//! and     := unary ( "&" unary )*
//! unary   := "~"* primary
//! primary := "(" expr ")" | PHRASE
//! ```
//!
//! `All` and `Any` are flattened (`(a & b) & c` is `All(a, b, c)`) and double
//! negation cancels (`~~a` is `a`, also through parentheses). Doubled operators,
//! items side by side without an operator, dangling operators, `()` and
//! unbalanced parentheses are errors. Chains of `~`, `&` and `|` are parsed in
//! loops; only parentheses recurse, and they are capped at [`MAX_DEPTH`] levels.
//! The empty (or all-whitespace) text is the constant `false`.

mod cron;
mod phrase;

use std::ops::Range;

use super::Condition;
use super::lexer::{Token, TokenKind, tokenize};
use crate::{Error, ErrorKind};

/// How deeply parentheses may nest.
pub const MAX_DEPTH: usize = 64;

/// Parses condition text into a tree. The empty (or all-whitespace) text is `false`.
pub fn parse(text: &str) -> Result<Condition, Error> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(Condition::Constant {
            value: false,
            always: false,
        });
    }
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        depth: 0,
    };
    let cond = parser.expr()?;
    match parser.peek() {
        None => Ok(cond),
        Some(tok) if tok.kind == TokenKind::Close => {
            Err(parser.error(tok.span.clone(), "unmatched ')'"))
        }
        Some(tok) => Err(parser.missing_operator(tok)),
    }
}

/// The state of one parse: the tokens and the position in them.
struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    /// `and ( "|" and )*`.
    fn expr(&mut self) -> Result<Condition, Error> {
        let mut items = vec![self.and()?];
        while self.eat(TokenKind::Or) {
            items.push(self.and()?);
        }
        Ok(any(items))
    }

    /// `unary ( "&" unary )*`.
    fn and(&mut self) -> Result<Condition, Error> {
        let mut items = vec![self.unary()?];
        while self.eat(TokenKind::And) {
            items.push(self.unary()?);
        }
        Ok(all(items))
    }

    /// `"~"* primary`, counted in a loop so long chains cannot overflow the stack.
    fn unary(&mut self) -> Result<Condition, Error> {
        let mut negations = 0usize;
        while self.eat(TokenKind::Not) {
            negations += 1;
        }
        let mut cond = self.primary()?;
        for _ in 0..negations % 2 {
            cond = negate(cond);
        }
        Ok(cond)
    }

    /// `"(" expr ")"` or a phrase.
    fn primary(&mut self) -> Result<Condition, Error> {
        let Some(tok) = self.peek().cloned() else {
            let prev = self.prev().cloned();
            return Err(match prev {
                Some(prev) => self.error(
                    prev.span.clone(),
                    format!("expected a condition after '{}'", symbol(prev.kind)),
                ),
                None => self.error(self.text.len()..self.text.len(), "expected a condition"),
            });
        };
        match tok.kind {
            TokenKind::Phrase => {
                self.pos += 1;
                phrase::parse_phrase(self.text, tok.span)
            }
            TokenKind::Open => {
                if self.depth >= MAX_DEPTH {
                    return Err(self.error(
                        tok.span,
                        format!("parentheses nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
                self.pos += 1;
                if let Some(close) = self.peek().filter(|t| t.kind == TokenKind::Close) {
                    let span = tok.span.start..close.span.end;
                    return Err(self.error(span, "empty parentheses"));
                }
                self.depth += 1;
                let inner = self.expr()?;
                self.depth -= 1;
                match self.peek() {
                    Some(t) if t.kind == TokenKind::Close => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some(t) => Err(self.missing_operator(t)),
                    None => Err(self.error(tok.span, "unclosed '('")),
                }
            }
            TokenKind::And | TokenKind::Or | TokenKind::Close => {
                Err(match self.prev().filter(|p| p.kind != TokenKind::Phrase) {
                    Some(prev) => self.error(
                        prev.span.start..tok.span.end,
                        format!(
                            "expected a condition between '{}' and '{}'",
                            symbol(prev.kind),
                            symbol(tok.kind)
                        ),
                    ),
                    None => self.error(
                        tok.span.clone(),
                        format!("expected a condition before '{}'", symbol(tok.kind)),
                    ),
                })
            }
            // `unary` consumed every `~` before calling `primary`.
            TokenKind::Not => Err(self.error(tok.span, "unexpected '~'")),
        }
    }

    /// The error for an item that follows another item without an operator.
    fn missing_operator(&self, tok: &Token) -> Error {
        self.error(
            tok.span.clone(),
            "expected '&' or '|' between two conditions",
        )
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn prev(&self) -> Option<&Token> {
        self.pos.checked_sub(1).and_then(|i| self.tokens.get(i))
    }

    fn eat(&mut self, kind: TokenKind) -> bool {
        let hit = self.peek().is_some_and(|t| t.kind == kind);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidCondition, message).with_span(self.text, span)
    }
}

/// How a token is written, for messages.
fn symbol(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Open => "(",
        TokenKind::Close => ")",
        TokenKind::And => "&",
        TokenKind::Or => "|",
        TokenKind::Not => "~",
        TokenKind::Phrase => "phrase",
    }
}

/// `All` of `items`, flattening nested `All`s; a single item is itself.
fn all(items: Vec<Condition>) -> Condition {
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Condition::All(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    single_or(flat, Condition::All)
}

/// `Any` of `items`, flattening nested `Any`s; a single item is itself.
fn any(items: Vec<Condition>) -> Condition {
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Condition::Any(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    single_or(flat, Condition::Any)
}

/// The only item of `items`, or `build(items)` when there are several.
fn single_or(mut items: Vec<Condition>, build: fn(Vec<Condition>) -> Condition) -> Condition {
    if items.len() == 1
        && let Some(item) = items.pop()
    {
        return item;
    }
    build(items)
}

/// `~cond`, cancelling a double negation.
fn negate(cond: Condition) -> Condition {
    match cond {
        Condition::Not(inner) => *inner,
        other => Condition::Not(Box::new(other)),
    }
}
