//! Building responses: JSON bodies with `Content-Type: application/json`, and `204` answers.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::Value;

/// The body type of every response of the API.
pub type ResponseBody = Full<Bytes>;

/// The media type of every body the API sends.
pub(crate) const JSON: &str = "application/json";

/// A response with `status` and `value` as its JSON body.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response<ResponseBody> {
    // `Value`'s Display is its compact JSON text and cannot fail.
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

/// A `204 No Content` answer to `OPTIONS`, with the `Allow` header.
pub(crate) fn options(allow: &str) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Ok(value) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}
