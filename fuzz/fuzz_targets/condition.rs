#![no_main]
//! Fuzz target `condition`: any text through the condition parser.
//!
//! Properties (DESIGN.md, "Canonical text"): parsing never panics; a parsed
//! condition prints as canonical text that parses back to the same tree and
//! prints the same again; an error's span lies on character boundaries of the
//! input it names, and `render()` (the caret display) works for it.

use engine_core::Condition;
use engine_fuzz::check_span;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Condition>() {
        Ok(condition) => {
            let canonical = condition.to_string();
            let reparsed = match canonical.parse::<Condition>() {
                Ok(reparsed) => reparsed,
                Err(error) => panic!(
                    "canonical text {canonical:?} of {text:?} does not parse: {}",
                    error.render()
                ),
            };
            assert_eq!(
                reparsed, condition,
                "canonical text {canonical:?} of {text:?} parses to another tree"
            );
            assert_eq!(
                reparsed.to_string(),
                canonical,
                "canonical text of {text:?} is not stable"
            );
        }
        Err(error) => {
            check_span(error.input().unwrap_or(text), error.span());
            let rendered = error.render();
            assert!(rendered.starts_with(&error.to_string()));
        }
    }
});
