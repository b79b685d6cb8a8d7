//! Filter tests: checking against a schema and push-down constraints.

use super::*;

#[test]
fn check_against_a_schema() {
    let schema: Schema = [
        ("timestamp", FieldType::Time),
        ("priority", FieldType::Int),
        ("ratio", FieldType::Float),
        ("disabled", FieldType::Bool),
        ("name", FieldType::Text),
    ]
    .into_iter()
    .collect();
    let ok = [
        "timestamp$min=2021-01-01&timestamp$max=2021-01-01+12:00:00&timestamp=2021-01-01T00:00Z",
        "timestamp=null&timestamp$not=null",
        "priority=0&priority$min=-1.5&ratio$max=1e3&disabled=true&disabled$not=false",
        "name=x&name$min=2021-01-01&name$regex=a.*&name=null",
        "unknown$regex=x&unknown$min=anything",
    ];
    for query in ok {
        let filter = Filter::parse(query).expect("valid query");
        assert_eq!(filter.check(&schema), Ok(()), "{query}");
    }
    let bad = [
        (
            "timestamp$min=yesterday",
            "value 'yesterday' of key 'timestamp$min' is not a time like 2021-01-01 or 2021-01-01 12:00:00 at byte 14",
        ),
        (
            "x=1&timestamp=2021-01-01&timestamp=soon",
            "value 'soon' of key 'timestamp' is not a time like 2021-01-01 or 2021-01-01 12:00:00 at byte 35",
        ),
        (
            "timestamp$max=null",
            "value 'null' of key 'timestamp$max' is not a time like 2021-01-01 or 2021-01-01 12:00:00 at byte 14",
        ),
        (
            "timestamp$regex=2021",
            "value '2021' of key 'timestamp$regex' is a regex, but the field is a time, not text at byte 16",
        ),
        (
            "priority=high",
            "value 'high' of key 'priority' is not a number at byte 9",
        ),
        (
            "ratio$min=nan",
            "value 'nan' of key 'ratio$min' is not a number at byte 10",
        ),
        (
            "disabled=yes",
            "value 'yes' of key 'disabled' is not a boolean (true or false) at byte 9",
        ),
    ];
    for (query, message) in bad {
        let error = Filter::parse(query)
            .expect("valid query")
            .check(&schema)
            .expect_err("mismatch");
        assert_eq!(
            (error.kind(), error.to_string().as_str()),
            (ErrorKind::TypeMismatch, message),
            "{query}"
        );
    }
    let json = json!({"name": 5});
    let error = Filter::from_json(json.as_object().expect("object"))
        .expect("valid")
        .check(&schema);
    assert_eq!(
        error.map_err(|e| e.to_string()),
        Err("value '5' of key 'name' is not text".to_owned())
    );
    let gap = FilterOptions::default()
        .with_local(|_| None)
        .parse("timestamp$min=2021-01-01")
        .expect("valid");
    let error = gap.check(&schema).expect_err("no such local time");
    assert!(error.message().contains("does not exist"), "{error}");
    let schema = Schema::default()
        .with_field("a", FieldType::Int)
        .with_field("a", FieldType::Text);
    assert_eq!(schema.field_type("a"), Some(FieldType::Text));
}

/// Renders a constraint as `values [..] min .. max ..` with `*` for "none".
fn render_constraint(query: &str, field: &str, field_type: FieldType) -> String {
    let filter = Filter::parse(query).expect("valid query");
    let c = filter.constraint(field, field_type);
    let show = |v: Option<Value<'_>>| v.map_or("*".to_owned(), |v| v.to_string());
    let values = c.values().map_or("*".to_owned(), |vs| {
        format!(
            "[{}]",
            vs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )
    });
    format!(
        "values {values} min {} max {}",
        show(c.min()),
        show(c.max())
    )
}

#[test]
fn push_down_constraints() {
    use FieldType::*;
    let rows: &[(&str, &str, FieldType, &str)] = &[
        ("", "a", Text, "values * min * max *"),
        ("a=x&a=y&a=x", "a", Text, "values [x,y] min * max *"),
        ("a=x&b=y", "b", Text, "values [y] min * max *"),
        ("a$not=x&a$regex=y", "a", Text, "values * min * max *"),
        (
            "a$min=b&a$min=a&a$max=y&a$max=z",
            "a",
            Text,
            "values * min a max z",
        ),
        ("a=c&a=x&a$max=m", "a", Text, "values [c] min * max m"),
        ("a=x&a=null", "a", Text, "values * min * max *"),
        // Text that reads as a time compares as a time: no text constraint.
        ("a=2021-01-01&a=x", "a", Text, "values * min * max *"),
        (
            "t$min=2021-01-01&t$max=2021-01-02",
            "t",
            Time,
            "values * min 2021-01-01T00:00:00Z max 2021-01-02T23:59:59.999999999Z",
        ),
        (
            "t=2021-01-01+12:00&t=soon",
            "t",
            Time,
            "values [2021-01-01T12:00:00Z] min * max *",
        ),
        ("t$min=soon", "t", Time, "values [] min * max *"),
        (
            "t$min=2021-02-01&t$max=2021-01-01",
            "t",
            Time,
            "values [] min 2021-02-01T00:00:00Z max 2021-01-01T23:59:59.999999999Z",
        ),
        ("n=1&n=1.0&n=1.5&n=x", "n", Int, "values [1] min * max *"),
        ("n$min=1.5&n$max=7.5", "n", Int, "values * min 2 max 7"),
        (
            "n$min=-1e30&n$max=1e30",
            "n",
            Int,
            "values * min -9223372036854775808 max 9223372036854775807",
        ),
        ("n$min=1e30", "n", Int, "values [] min * max *"),
        ("n=1&n=2.5", "n", Float, "values [1,2.5] min * max *"),
        ("n$min=1&n$max=2.5", "n", Float, "values * min 1 max 2.5"),
        ("b=true&b=yes", "b", Bool, "values [true] min * max *"),
        ("b$min=true", "b", Bool, "values * min true max *"),
    ];
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(query, field, ty, expected)| {
            let got = render_constraint(query, field, *ty);
            (got != *expected)
                .then(|| format!("{query} {field} {ty:?}: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn push_down_is_necessary() {
    // Every value that matches a one-field filter is admitted by its constraint.
    let queries = [
        "n$min=1.5&n$max=7.5",
        "n=3&n=4.0&n=x",
        "n$min=-2&n$not=0",
        "n$max=0.5&n$max=-3",
    ];
    for query in queries {
        let filter = Filter::parse(query).expect("valid query");
        let ints = filter.constraint("n", FieldType::Int);
        let floats = filter.constraint("n", FieldType::Float);
        for i in -10..10 {
            if filter.matches(&Fields(vec![("n", Int(i64::from(i)))])) {
                assert!(ints.admits(Int(i64::from(i))), "{query}: {i}");
            }
            let x = f64::from(i) / 4.0;
            if filter.matches(&Fields(vec![("n", Float(x))])) {
                assert!(floats.admits(Float(x)), "{query}: {x}");
            }
        }
    }
    let filter = Filter::parse("n$min=5&n$max=1").expect("valid query");
    assert!(filter.constraint("n", FieldType::Int).is_unsatisfiable());
    assert!(filter.constraint("m", FieldType::Int).is_unconstrained());
}
