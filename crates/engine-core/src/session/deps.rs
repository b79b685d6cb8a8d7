//! The dependencies view (spec §10): which task waits for which, read off the
//! top level of each start condition.

use std::fmt;

use crate::condition::{Condition, Outcome, Quantifier};

/// One link: `child` waits for `parent`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dependency {
    /// The task waited for.
    pub parent: String,
    /// The task that waits.
    pub child: String,
    /// The outcome waited for.
    pub relation: Relation,
    /// `None` for a lone dependency; `All` / `Any` when it is one item of a
    /// top-level `&` / `|` (or of `after tasks` / `after any tasks`).
    pub kind: Option<DependencyType>,
}

/// The outcome a dependency waits for, by Red Engine's class names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// `after task 'a'` / `... succeeded`.
    DependSuccess,
    /// `after task 'a' failed`.
    DependFailure,
    /// `after task 'a' finished`.
    DependFinish,
    /// `after task 'a' terminated`.
    DependTerminate,
}

/// How a link combines with its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DependencyType {
    /// Every one of them.
    All,
    /// Any one of them.
    Any,
}

impl Relation {
    /// The name: `DependSuccess`, `DependFailure`, `DependFinish`,
    /// `DependTerminate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::DependSuccess => "DependSuccess",
            Relation::DependFailure => "DependFailure",
            Relation::DependFinish => "DependFinish",
            Relation::DependTerminate => "DependTerminate",
        }
    }

    fn of(outcome: Outcome) -> Relation {
        match outcome {
            Outcome::Succeeded { .. } => Relation::DependSuccess,
            Outcome::Failed => Relation::DependFailure,
            Outcome::Finished => Relation::DependFinish,
            Outcome::Terminated => Relation::DependTerminate,
        }
    }
}

impl DependencyType {
    /// The name: `All`, `Any`.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyType::All => "All",
            DependencyType::Any => "Any",
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for DependencyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text form: `'a' -> 'b'`, with ` (multi)` for an `All` link.
impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' -> '{}'", self.parent, self.child)?;
        if self.kind == Some(DependencyType::All) {
            f.write_str(" (multi)")?;
        }
        Ok(())
    }
}

/// The links of `child`'s start condition `cond`.
pub(super) fn links(child: &str, cond: &Condition) -> Vec<Dependency> {
    let mut out = Vec::new();
    match cond {
        Condition::Dependency {
            depends_on,
            quantifier,
            outcome,
            ..
        } => {
            let kind = match (quantifier, depends_on.len()) {
                (Quantifier::Single, _) | (_, 0 | 1) => None,
                (Quantifier::All, _) => Some(DependencyType::All),
                (Quantifier::Any, _) => Some(DependencyType::Any),
            };
            push(&mut out, child, depends_on, *outcome, kind);
        }
        Condition::All(items) | Condition::Any(items) => {
            let kind = if matches!(cond, Condition::All(_)) {
                DependencyType::All
            } else {
                DependencyType::Any
            };
            for item in items {
                let Condition::Dependency {
                    depends_on,
                    quantifier,
                    outcome,
                    ..
                } = item
                else {
                    continue;
                };
                // `after tasks` is an `&` of its own and `after any tasks` an
                // `|`: they flatten into a parent of the same kind only.
                let flattens = match quantifier {
                    Quantifier::Single => true,
                    Quantifier::All => kind == DependencyType::All || depends_on.len() == 1,
                    Quantifier::Any => kind == DependencyType::Any || depends_on.len() == 1,
                };
                if flattens {
                    push(&mut out, child, depends_on, *outcome, Some(kind));
                }
            }
        }
        _ => {}
    }
    out
}

fn push(
    out: &mut Vec<Dependency>,
    child: &str,
    parents: &[String],
    outcome: Outcome,
    kind: Option<DependencyType>,
) {
    for parent in parents {
        out.push(Dependency {
            parent: parent.clone(),
            child: child.to_owned(),
            relation: Relation::of(outcome),
            kind,
        });
    }
}
