//! OpenAPI schemas of the money types (cargo feature `openapi`), for the API contract crate `tfeco-api`.
//!
//! Each schema states the JSON shape the serde impls of this crate produce and accept:
//! - [`Amount`]: a non-negative decimal string with at most 7 decimals (`"12.5"`, `"0.0000001"`);
//! - [`Price`]: a non-negative decimal string with at most 18 decimals (USD per whole token);
//! - [`Asset`]: one of the codes `TFT`, `TFP`, `CC`, `USDC`;
//! - [`Bps`]: a whole number of basis points from 0 to 10,000;
//! - [`Ratio`]: `{"num": N, "den": D}` with whole numbers, `D > 0`.
//!
//! The patterns bound the digits so that every string they match parses (no overflow): 31 whole digits
//! for an amount (`i128` base units), 20 for a price (`u128` atto-USD).

use std::borrow::Cow;

use utoipa::__dev::ComposeSchema;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::{Amount, AnyAsset, Asset, AssetAmount, Bps, Cc, Price, Ratio, Tfp, Tft, Usdc};

/// The pattern of an [`Amount`] string.
pub const AMOUNT_PATTERN: &str = r"^[0-9]{1,31}(\.[0-9]{1,7})?$";
/// The pattern of a [`Price`] string.
pub const PRICE_PATTERN: &str = r"^[0-9]{1,20}(\.[0-9]{1,18})?$";

// `Amount<A>` is generic: `utoipa`'s derive composes a generic field type through `ComposeSchema` (its
// `PartialSchema` comes from a blanket impl over that trait), and wants its type argument to be a schema too.
// The asset tag does not change the JSON shape, so the composition ignores it.
impl<A> ComposeSchema for Amount<A> {
    fn compose(_generics: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some(AMOUNT_PATTERN))
            .description(Some("An amount of tokens: a non-negative decimal string with at most 7 decimals"))
            .examples(["12.5"])
            .into()
    }
}

impl<A> ToSchema for Amount<A> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Amount")
    }
}

/// The asset tags of [`Amount`] as schemas (a tag is not a JSON value of its own; see [`Amount`]).
macro_rules! asset_tag_schema {
    ($($tag:ident),*) => {$(
        impl ComposeSchema for $tag {
            fn compose(_generics: Vec<RefOr<Schema>>) -> RefOr<Schema> {
                ObjectBuilder::new().description(Some(concat!("Asset tag ", stringify!($tag)))).into()
            }
        }

        impl ToSchema for $tag {}
    )*};
}

asset_tag_schema!(Tft, Tfp, Cc, Usdc, AnyAsset);

impl PartialSchema for Price {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some(PRICE_PATTERN))
            .description(Some(
                "A price, USD (or quote asset) per whole token: a non-negative decimal string with at most \
                 18 decimals",
            ))
            .examples(["0.012"])
            .into()
    }
}

impl ToSchema for Price {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Price")
    }
}

impl PartialSchema for Asset {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(Asset::ALL.map(Asset::code)))
            .description(Some("An asset code"))
            .into()
    }
}

impl ToSchema for Asset {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Asset")
    }
}

impl PartialSchema for Bps {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Integer))
            .minimum(Some(0))
            .maximum(Some(10_000))
            .description(Some("Basis points: 1/10,000 (10,000 = 100 %)"))
            .into()
    }
}

impl ToSchema for Bps {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Bps")
    }
}

impl PartialSchema for Ratio {
    fn schema() -> RefOr<Schema> {
        let whole = |minimum: u8| ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(minimum));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("num", whole(0))
            .property("den", whole(1))
            .required("num")
            .required("den")
            .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)))
            .description(Some("An exact ratio num / den"))
            .into()
    }
}

impl ToSchema for Ratio {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Ratio")
    }
}

impl PartialSchema for AssetAmount {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("asset", Asset::schema())
            .property("amount", Amount::<AnyAsset>::schema())
            .required("asset")
            .required("amount")
            .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)))
            .description(Some("An amount of a named asset"))
            .into()
    }
}

impl ToSchema for AssetAmount {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AssetAmount")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: PartialSchema>() -> serde_json::Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    #[test]
    fn schemas_state_the_serde_shapes() {
        assert_eq!(json::<Amount<crate::Tft>>()["pattern"], AMOUNT_PATTERN);
        assert_eq!(json::<Price>()["type"], "string");
        assert_eq!(json::<Asset>()["enum"], serde_json::json!(["TFT", "TFP", "CC", "USDC"]));
        assert_eq!(json::<Bps>()["maximum"], 10_000);
        assert_eq!(json::<Ratio>()["required"], serde_json::json!(["num", "den"]));
    }

    #[test]
    fn the_largest_strings_the_patterns_allow_parse() {
        let amount = format!("{}.{}", "9".repeat(31), "9".repeat(7));
        assert!(amount.parse::<Amount<crate::Tft>>().is_ok());
        let price = format!("{}.{}", "9".repeat(20), "9".repeat(18));
        assert!(price.parse::<Price>().is_ok());
    }
}
