//! [`ApiError`]: every refusal as `{code, message, detail?}` JSON with the HTTP status of its
//! [`ErrorCode`], and the classification of JSON decoding errors into stable codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tfeco_api::{ErrorBody, ErrorCode};
use tfeco_core::Rejection;

/// A refusal: an [`ErrorBody`] answered with its code's HTTP status.
#[derive(Debug)]
pub struct ApiError {
    body: ErrorBody,
}

impl ApiError {
    /// An error with `code` and a message (the status is the code's).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { body: ErrorBody::new(code, message) }
    }

    /// A query parameter refused: 400 `invalid_query`, the message starting with the parameter's name.
    pub fn invalid_query(param: &str, reason: impl std::fmt::Display) -> Self {
        ApiError::new(ErrorCode::InvalidQuery, format!("{param}: {reason}"))
    }

    /// A core rejection: its code, its message and its typed payload as `detail`.
    pub fn from_rejection(rejection: &Rejection) -> Self {
        ApiError {
            body: ErrorBody {
                code: ErrorCode::of_rejection(rejection),
                message: rejection.to_string(),
                detail: Some(Box::new(rejection.clone())),
            },
        }
    }

    /// A JSON body that does not decode, classified into a stable code (`malformed_json`, `unknown_field`,
    /// `amount_*` or `invalid_request`).
    pub fn from_json_error(error: &serde_json::Error) -> Self {
        let text = error.to_string();
        // Classify on serde's and our own wording only: quoted parts echo the client's input.
        let mut wording = String::with_capacity(text.len());
        let mut quoted = false;
        for c in text.chars() {
            match c {
                '"' | '`' => quoted = !quoted,
                _ if !quoted => wording.push(c),
                _ => {}
            }
        }
        let code = if wording.contains("unknown field") {
            ErrorCode::UnknownField
        } else if wording.contains("unknown variant") && text.contains("`register_account`") {
            // An unknown command name is an unknown key of the `command` object.
            ErrorCode::UnknownField
        } else if wording.contains("too many decimals") {
            ErrorCode::AmountTooManyDecimals
        } else if wording.contains("negative amounts are not allowed") {
            ErrorCode::AmountNegative
        } else if wording.contains("is too large") {
            ErrorCode::AmountOverflow
        } else if error.is_syntax() || error.is_eof() {
            ErrorCode::MalformedJson
        } else {
            ErrorCode::InvalidRequest
        };
        ApiError::new(code, text)
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.body.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.body.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<tfeco_core::ids::InvalidAccountKey> for ApiError {
    fn from(error: tfeco_core::ids::InvalidAccountKey) -> Self {
        ApiError::new(ErrorCode::InvalidAccount, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body)).into_response()
    }
}
