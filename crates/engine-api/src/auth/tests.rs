//! Table-driven tests of the built-in authenticators, scopes and the constant-time comparison.

use std::net::SocketAddr;

use base64::Engine as _;
use hyper::header::{AUTHORIZATION, HeaderValue};

use super::*;

/// Runs `auth` on a `method /tasks/x` request with an optional `Authorization`
/// header, from `peer`, needing `scope`, and prints the decision in one line:
/// `allow`, `401 <reason> [<challenge>]` or `403 <reason>`.
fn check(
    auth: &dyn Authenticator,
    authorization: Option<&str>,
    peer: Option<&str>,
    scope: Scope,
) -> String {
    let mut headers = HeaderMap::new();
    if let Some(value) = authorization.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(AUTHORIZATION, value);
    }
    let peer: Option<SocketAddr> = peer.and_then(|p| p.parse().ok());
    let info = RequestInfo::new(&Method::POST, "/tasks/x", &headers)
        .with_peer(peer)
        .with_scope(scope);
    let decision = block_on(auth.authenticate(&info));
    match decision {
        AuthDecision::Allow => "allow".to_owned(),
        AuthDecision::Unauthorized { challenge, reason } => format!("401 {reason} [{challenge}]"),
        AuthDecision::Forbidden { reason } => format!("403 {reason}"),
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime.block_on(future),
        Err(error) => panic!("no runtime: {error}"),
    }
}

fn basic(user_password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_password)
    )
}

const BEARER: &str = r#"[Bearer realm="engine"]"#;
const BEARER_INVALID: &str = r#"[Bearer realm="engine", error="invalid_token"]"#;
const BASIC: &str = r#"[Basic realm="engine", charset="UTF-8"]"#;

#[test]
fn bearer_tokens_grant_their_scopes() {
    let auth = BearerTokens::default()
        .with_token("r-token", Scopes::of(&[Scope::Read]))
        .with_token("w-token", Scopes::of(&[Scope::Write]))
        .with_token("c-token", Scopes::of(&[Scope::Code]))
        .with_token("a-token", Scopes::of(&[Scope::Admin]));
    let cases = [
        (Some("Bearer r-token"), Scope::Read, "allow".to_owned()),
        (
            Some("Bearer r-token"),
            Scope::Write,
            "403 the credentials do not allow write".to_owned(),
        ),
        (Some("Bearer w-token"), Scope::Read, "allow".to_owned()),
        (Some("Bearer w-token"), Scope::Write, "allow".to_owned()),
        (
            Some("Bearer w-token"),
            Scope::Code,
            "403 the credentials do not allow code".to_owned(),
        ),
        (Some("Bearer c-token"), Scope::Code, "allow".to_owned()),
        (
            Some("Bearer c-token"),
            Scope::Admin,
            "403 the credentials do not allow admin".to_owned(),
        ),
        (Some("Bearer a-token"), Scope::Admin, "allow".to_owned()),
        (Some("Bearer a-token"), Scope::Read, "allow".to_owned()),
        (Some("bearer  a-token "), Scope::Admin, "allow".to_owned()),
        (
            None,
            Scope::Read,
            format!("401 missing bearer token {BEARER}"),
        ),
        (
            Some("Basic a-token"),
            Scope::Read,
            format!("401 missing bearer token {BEARER}"),
        ),
        (
            Some("Bearer"),
            Scope::Read,
            format!("401 missing bearer token {BEARER}"),
        ),
        (
            Some("Bearer a-toke"),
            Scope::Read,
            format!("401 invalid bearer token {BEARER_INVALID}"),
        ),
        (
            Some("Bearer a-tokenn"),
            Scope::Read,
            format!("401 invalid bearer token {BEARER_INVALID}"),
        ),
        (
            Some("Bearer A-token"),
            Scope::Read,
            format!("401 invalid bearer token {BEARER_INVALID}"),
        ),
        (
            Some("Bearer "),
            Scope::Read,
            format!("401 invalid bearer token {BEARER_INVALID}"),
        ),
    ];
    for (authorization, scope, expected) in cases {
        assert_eq!(
            check(&auth, authorization, None, scope),
            expected,
            "{authorization:?} {scope}"
        );
    }
}

#[test]
fn a_token_listed_twice_gets_the_union_of_its_scopes() {
    let auth = BearerTokens::default()
        .with_token("t", Scopes::of(&[Scope::Read]))
        .with_token("other", Scopes::ALL)
        .with_token("t", Scopes::of(&[Scope::Code]));
    assert_eq!(
        auth.scopes_of(b"t"),
        Scopes::of(&[Scope::Read, Scope::Code])
    );
    assert_eq!(auth.scopes_of(b"x"), Scopes::NONE);
    assert_eq!(
        check(
            &BearerTokens::default(),
            Some("Bearer t"),
            None,
            Scope::Read
        ),
        format!("401 invalid bearer token {BEARER_INVALID}")
    );
    assert_eq!(format!("{auth:?}"), "BearerTokens { tokens: 3, .. }");
}

#[test]
fn basic_users_grant_their_scopes() {
    let auth = Basic::default()
        .with_user("reader", "pw:with:colons", Scopes::of(&[Scope::Read]))
        .with_user("ops", "s3cret", Scopes::ALL)
        .with_user("", "", Scopes::of(&[Scope::Write]));
    let cases = [
        (
            Some(basic("reader:pw:with:colons")),
            Scope::Read,
            "allow".to_owned(),
        ),
        (
            Some(basic("reader:pw:with:colons")),
            Scope::Write,
            "403 the credentials do not allow write".to_owned(),
        ),
        (Some(basic("ops:s3cret")), Scope::Admin, "allow".to_owned()),
        (Some(basic(":")), Scope::Write, "allow".to_owned()),
        (
            Some(basic("ops:s3cre")),
            Scope::Read,
            format!("401 invalid user name or password {BASIC}"),
        ),
        (
            Some(basic("reader:s3cret")),
            Scope::Read,
            format!("401 invalid user name or password {BASIC}"),
        ),
        (
            Some(basic("ops")),
            Scope::Read,
            format!("401 basic credentials have no ':' {BASIC}"),
        ),
        (
            Some("Basic !!!".to_owned()),
            Scope::Read,
            format!("401 basic credentials are not valid base64 {BASIC}"),
        ),
        (
            Some("Bearer ops".to_owned()),
            Scope::Read,
            format!("401 missing basic credentials {BASIC}"),
        ),
        (
            None,
            Scope::Read,
            format!("401 missing basic credentials {BASIC}"),
        ),
    ];
    for (authorization, scope, expected) in cases {
        assert_eq!(
            check(&auth, authorization.as_deref(), None, scope),
            expected,
            "{authorization:?} {scope}"
        );
    }
    assert_eq!(format!("{auth:?}"), "Basic { users: 3, .. }");
}

#[test]
fn loopback_only_and_allow_all() {
    let cases = [
        (Some("127.0.0.1:4000"), "allow"),
        (Some("[::1]:4000"), "allow"),
        (Some("[::ffff:127.0.0.1]:4000"), "allow"),
        (None, "allow"),
        (
            Some("192.168.1.5:4000"),
            "403 only clients on this machine may use this API",
        ),
        (
            Some("[2001:db8::1]:4000"),
            "403 only clients on this machine may use this API",
        ),
    ];
    for (peer, expected) in cases {
        assert_eq!(
            check(&LoopbackOnly, None, peer, Scope::Admin),
            expected,
            "{peer:?}"
        );
        assert_eq!(
            check(&AllowAll, None, peer, Scope::Admin),
            "allow",
            "{peer:?}"
        );
    }
    assert!(!AllowAll.guards_remote_access());
    assert!(LoopbackOnly.guards_remote_access());
    assert!(BearerTokens::default().guards_remote_access());
    assert!(Basic::default().guards_remote_access());
}

#[test]
fn constant_time_equality_is_equality() {
    let cases: [(&[u8], &[u8], bool); 9] = [
        (b"", b"", true),
        (b"a", b"a", true),
        (b"secret-token", b"secret-token", true),
        (b"secret-token", b"xecret-token", false),
        (b"secret-token", b"secret-tokex", false),
        (b"secret", b"secret-token", false),
        (b"secret-token", b"secret", false),
        (b"", b"x", false),
        (b"a\0", b"a", false),
    ];
    for (a, b, expected) in cases {
        assert_eq!(ct_eq(a, b), expected, "{a:?} {b:?}");
    }
}

#[test]
fn scopes_parse_and_imply_lower_scopes() {
    let cases = [
        ("read", "read", Ok([true, false, false, false])),
        ("write", "write", Ok([true, true, false, false])),
        ("code", "code", Ok([true, true, true, false])),
        ("admin", "admin", Ok([true, true, true, true])),
        ("read, code", "read code", Ok([true, true, true, false])),
        ("", "", Ok([false, false, false, false])),
        (
            "root",
            "",
            Err("unknown scope 'root', expected read, write, code or admin"),
        ),
    ];
    for (text, names, expected) in cases {
        let parsed = text.parse::<Scopes>();
        let got = parsed
            .as_ref()
            .map(|s| Scope::ALL.map(|scope| s.allows(scope)))
            .map_err(|e| e.message().to_owned());
        assert_eq!(got, expected.map_err(str::to_owned), "{text}");
        if let Ok(scopes) = parsed {
            let listed: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
            assert_eq!(listed.join(" "), names);
        }
    }
    assert_eq!(Scopes::ALL, Scopes::of(&Scope::ALL));
}
