//! Hand-written schemas of the core's vocabulary types that appear in the contract, until the core
//! derives `utoipa::ToSchema` behind its `openapi` feature.
//!
//! Each function states the JSON shape the core's serde impls produce. Every use carries a
//! `TODO(core-openapi)` comment: once the core derives the schema, the field's `schema_with` is dropped.

use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::RefOr;

/// The pattern of an account key: an ed25519 public key as 64 hex characters.
pub const ACCOUNT_KEY_PATTERN: &str = "^[0-9a-fA-F]{64}$";
/// The pattern of an ed25519 signature: 64 bytes as 128 hex characters.
pub const SIGNATURE_PATTERN: &str = "^[0-9a-fA-F]{128}$";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(Type::String))
}

/// `null` or `schema`.
fn nullable(schema: impl Into<RefOr<Schema>>) -> Schema {
    let null = ObjectBuilder::new().schema_type(SchemaType::new(Type::Null));
    OneOfBuilder::new().item(null).item(schema).into()
}

/// An account key (`tfeco_core::AccountKey`).
pub fn account_key() -> Schema {
    string()
        .pattern(Some(ACCOUNT_KEY_PATTERN))
        .description(Some("An account: an ed25519 public key, 64 hex characters"))
        .into()
}

/// An account key or `null`.
pub fn account_key_or_null() -> Schema {
    nullable(account_key())
}

/// A list of account keys.
pub fn account_keys() -> Schema {
    ArrayBuilder::new().items(RefOr::T(account_key())).into()
}

/// A string of one of `values`.
pub fn one_of_strings(values: &[&str], description: &str) -> Schema {
    string().enum_values(Some(values.iter().copied())).description(Some(description)).into()
}

/// How a lease is billed (`tfeco_core::Billing`).
pub fn billing() -> Schema {
    one_of_strings(&["hourly", "monthly"], "How a lease is billed")
}

/// A side of an exchange order (`tfeco_core::exchange::Side`).
pub fn side() -> Schema {
    one_of_strings(&["buy", "sell"], "The side of an order")
}

/// An oracle price feed (`tfeco_core::PriceFeed`).
pub fn price_feed() -> Schema {
    one_of_strings(&["tft_usd", "gold_usd_per_oz"], "An oracle price feed")
}

/// Why a lease closed (`tfeco_core::CloseReason`).
pub fn close_reason() -> Schema {
    one_of_strings(&["cancelled", "expired", "insufficient_funds"], "Why a lease closed")
}

/// Which monthly hardware cost enters the calculator's `net` (`tfeco_core::roi::HwCostBasis`).
pub fn hw_cost_basis() -> Schema {
    one_of_strings(&["whole_usd", "exact"], "Which monthly hardware cost enters net: whole USD or exact")
}

/// A JSON object described in words (a core type without a schema yet).
pub fn object(description: &str) -> Schema {
    ObjectBuilder::new().schema_type(SchemaType::new(Type::Object)).description(Some(description)).into()
}

/// `null` or a JSON object described in words.
pub fn object_or_null(description: &str) -> Schema {
    nullable(object(description))
}

/// Whole-node or per-slice resources (`tfeco_core::Resources`).
pub fn resources() -> Schema {
    object("Resources: cpu_cores, passmark, mem_gb, ssd_gb, ai_mem_gb, ai_tps (whole numbers)")
}

/// Per-slice requirements (`tfeco_core::capacity::Requirements`).
pub fn requirements() -> Schema {
    object(
        "Per-slice requirements: min_cores, min_passmark, min_mem_gb, min_ssd_gb, min_ai_mem_gb, min_ai_tps, \
         certified_only, farm_id (null: any farm)",
    )
}

/// A hex signature.
pub fn signature() -> Schema {
    string()
        .pattern(Some(SIGNATURE_PATTERN))
        .description(Some("An ed25519 signature, 128 hex characters"))
        .into()
}

/// The command of a signed request (`tfeco_core::Command`): a reference to the `Command` component,
/// registered by `openapi::document` from [`crate::command_schema`].
// TODO(core-openapi): the core's `Command` schema.
pub fn command() -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Command"))
}

/// The signed part of a request (`tfeco_core::RequestBody`): signer, nonce, expiry, command.
pub fn request_body() -> Schema {
    let whole = |description: &str, minimum: i64| {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Integer))
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
            .minimum(Some(minimum))
            .description(Some(description))
    };
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Object))
        .property("signer", account_key())
        .property("nonce", whole("Per-account nonce; must be greater than the account's last one", 0))
        .property("expiry", whole("Unix seconds after which the request is refused", i64::MIN))
        .property("command", command())
        .required("signer")
        .required("nonce")
        .required("expiry")
        .required("command")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)))
        .description(Some(
            "The signed body: the signature covers `tfeco/v1/request\\0` followed by its postcard encoding",
        ))
        .into()
}

/// An event of an accepted command (`tfeco_core::Event`).
pub fn events() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(object("An event, tagged by its `event` field (e.g. \"transferred\")")))
        .into()
}

/// A price greater than zero: a price string with a non-zero digit.
pub fn positive_price() -> Schema {
    let non_zero = string().pattern(Some("[1-9]")).description(Some("Not zero"));
    AllOfBuilder::new()
        .item(<tfeco_money::Price as utoipa::PartialSchema>::schema())
        .item(non_zero)
        .description(Some("A price greater than zero"))
        .into()
}
