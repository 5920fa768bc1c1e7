//! The one way handlers read their inputs besides the body: [`Query`] (typed query parameters: unknown,
//! repeated, malformed or out-of-range parameters answer 400 `invalid_query` naming the parameter) and
//! [`PathParam`] (the raw path parameter; a path that does not decode answers 400 `invalid_request`).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tfeco_api::ErrorCode;

use crate::api::error::ApiError;

/// Typed query parameters (`T` is a `tfeco_api` query struct with `deny_unknown_fields`).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

/// Parses a query string (`a=1&b=x`) into `T`; errors name the parameter.
///
/// # Errors
/// 400 `invalid_query`: an unknown or repeated parameter, or a value that does not parse.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let param = error.path().to_string();
        let inner = error.into_inner().to_string();
        query_error(&param, &inner)
    })
}

/// Words a deserialization error of the query, naming the parameter first.
fn query_error(param: &str, inner: &str) -> ApiError {
    let quoted = || inner.split('`').nth(1).unwrap_or("?").to_owned();
    if inner.starts_with("unknown field") {
        let expected = inner.split_once(", expected").map_or("", |(_, rest)| rest.trim());
        let accepted = if expected.is_empty() { "none".to_owned() } else { expected.replace('`', "") };
        return ApiError::invalid_query(
            &quoted(),
            format!("unknown parameter; this endpoint accepts {accepted}"),
        );
    }
    if inner.starts_with("duplicate field") {
        return ApiError::invalid_query(&quoted(), "given more than once");
    }
    if inner.starts_with("missing field") {
        return ApiError::invalid_query(&quoted(), "required");
    }
    let reason = if ["invalid digit", "cannot parse integer", "number too large", "number too small"]
        .iter()
        .any(|text| inner.contains(text))
    {
        format!("expected a whole number in range ({inner})")
    } else if inner.contains("`true` or `false`") {
        "expected true or false".to_owned()
    } else {
        inner.to_owned()
    };
    ApiError::invalid_query(if param.is_empty() || param == "." { "query" } else { param }, reason)
}

/// A value checked after parsing: `Err` answers 400 `invalid_query` naming `param`.
pub fn check_range<T: PartialOrd + std::fmt::Display + Copy>(
    param: &str,
    value: Option<T>,
    min: T,
    max: T,
) -> Result<Option<T>, ApiError> {
    match value {
        Some(v) if v < min || v > max => {
            Err(ApiError::invalid_query(param, format!("expected {min} to {max}, got {v}")))
        }
        other => Ok(other),
    }
}

/// The raw (percent-decoded) parameter of a route with one path parameter.
#[derive(Debug)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(raw)| PathParam(raw))
            .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
    }
}

impl PathParam {
    /// The parameter as a whole number; `code` (e.g. `invalid_id`) otherwise.
    pub fn id<T: std::str::FromStr>(&self, code: ErrorCode, what: &str) -> Result<T, ApiError> {
        self.0.parse().map_err(|_| ApiError::new(code, format!("{:?} is not a {what} id", self.0)))
    }
}
