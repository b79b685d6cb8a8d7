//! Tests of the error type: spans are always on character boundaries, and the
//! caret rendering points at the offending part.

use super::*;

#[test]
fn spans_are_widened_to_character_boundaries() {
    // "é" is two bytes (1..3); spans that cut it in half are widened.
    let input = "aé b";
    let cases: &[(Range<usize>, Range<usize>)] = &[
        (2..2, 1..3),
        (2..3, 1..3),
        (1..2, 1..3),
        (0..100, 0..input.len()),
        (100..200, input.len()..input.len()),
        (Range { start: 4, end: 2 }, 3..3),
    ];
    for (given, want) in cases {
        let error = Error::new(ErrorKind::InvalidCondition, "bad").with_span(input, given.clone());
        assert_eq!(error.span(), Some(want.clone()), "{given:?}");
        // Rendering slices the input with the span: it must not panic.
        let _ = error.render();
    }
}

#[test]
fn render_draws_a_caret_under_the_span_on_its_line() {
    let input = "true &\ndaily between 25:00 and 10:00";
    let start = input.find("25:00").expect("literal");
    let error = Error::new(ErrorKind::InvalidTime, "bad time").with_span(input, start..start + 5);
    assert_eq!(
        error.render(),
        format!("bad time at byte {start}\n  daily between 25:00 and 10:00\n                ^^^^^")
    );
    assert_eq!(Error::new(ErrorKind::Log, "no span").render(), "no span");
}
