//! Signed requests: the body of `POST /v1/tx` and its answer.
//!
//! A client signs `{signer, nonce, expiry, command}` with ed25519 over `tfeco/v1/request\0` followed by
//! the postcard encoding of that body (`tfeco_core::RequestBody::signing_bytes`) and sends it with the hex
//! signature. The node answers once the command is durable in its journal.

use serde::{Deserialize, Serialize};
use tfeco_core::RequestBody;
use utoipa::ToSchema;

/// `POST /v1/tx` body: `{"body": {"signer", "nonce", "expiry", "command"}, "signature": "<128 hex>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TxRequest {
    /// The signed body.
    // TODO(core-openapi): RequestBody (and Command inside it).
    #[schema(schema_with = crate::schema::request_body)]
    pub body: RequestBody,
    /// The ed25519 signature of the body, hex.
    #[schema(schema_with = crate::schema::signature)]
    pub signature: String,
}

/// `POST /v1/tx` answer: the command is applied and durable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxAccepted {
    /// Its sequence number in the journal.
    pub seq: u64,
    /// What happened: each `tfeco_core::Event` as JSON, tagged by its `event` field.
    // TODO(core-openapi): `Vec<tfeco_core::Event>` once it derives `ToSchema` and decodes from JSON: today
    // an internally tagged event with an `i128` field does not deserialize ("i128 is not supported").
    #[schema(schema_with = crate::schema::events)]
    pub events: Vec<serde_json::Value>,
}
