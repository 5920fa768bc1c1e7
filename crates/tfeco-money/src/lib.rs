//! Exact money for TFGrid Economy: assets, integer amounts, fixed-point prices, exact ratios and basis
//! points, with explicit rounding.
//!
//! Rules (spec `decisions.md` §1 and §15):
//! - every asset (TFT, TFP, CC, USDC) has 7 decimals; an amount is an `i128` count of base units (10^-7);
//! - [`Amount<A>`] carries its asset in the type, so a TFT amount cannot be added to a CC amount by accident;
//!   [`AssetAmount`] is the run-time tagged form used where the asset is data (a transfer of any asset);
//! - prices are [`Price`]: USD per whole token as fixed point with 18 fractional digits (no floats);
//! - every multiplication by a price or ratio goes through [`mul_div`] with a 256-bit intermediate and an
//!   explicit [`Rounding`] direction chosen by the caller.

mod amount;
#[cfg(feature = "openapi")]
pub mod openapi;
mod price;

pub use amount::{Amount, AnyAsset, AssetAmount, AssetKind, Cc, ParseAmountError, Tfp, Tft, Usdc};
pub use price::{cmp_products, mul_div, Bps, ParsePriceError, Price, Ratio, Rounding};

use serde::{Deserialize, Serialize};

/// Number of decimals of every asset (spec `decisions.md` §1).
pub const DECIMALS: u32 = 7;
/// Base units in one whole token: 10^7.
pub const UNITS_PER_TOKEN: i128 = 10_000_000;

/// An asset of the TFGrid economy. The stable codes (`"TFT"`, …) are used in JSON and on the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Asset {
    /// ThreeFold Token: the tradable token; enters by attested deposit or minted rewards.
    #[serde(rename = "TFT")]
    Tft,
    /// Marketplace TFT: 1 TFP is backed by 1 TFT locked in the vault.
    #[serde(rename = "TFP")]
    Tfp,
    /// Cloud Credit, pegged to 0.001 g of gold; not transferable between users.
    #[serde(rename = "CC")]
    Cc,
    /// The exit currency (1 USDC = 1 USD).
    #[serde(rename = "USDC")]
    Usdc,
}

impl Asset {
    /// All assets in their canonical order (the order used by the state hash and by reports).
    pub const ALL: [Asset; 4] = [Asset::Tft, Asset::Tfp, Asset::Cc, Asset::Usdc];

    /// The stable code, e.g. `"TFT"`.
    pub fn code(self) -> &'static str {
        match self {
            Asset::Tft => "TFT",
            Asset::Tfp => "TFP",
            Asset::Cc => "CC",
            Asset::Usdc => "USDC",
        }
    }

    /// Number of decimals (7 for every asset).
    pub fn decimals(self) -> u32 {
        DECIMALS
    }

    /// Position in [`Asset::ALL`]; used to index per-asset arrays.
    pub fn index(self) -> usize {
        match self {
            Asset::Tft => 0,
            Asset::Tfp => 1,
            Asset::Cc => 2,
            Asset::Usdc => 3,
        }
    }
}

impl std::fmt::Display for Asset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Error for an unknown asset code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown asset {0:?} (expected TFT, TFP, CC or USDC)")]
pub struct UnknownAsset(pub String);

impl std::str::FromStr for Asset {
    type Err = UnknownAsset;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "TFT" => Ok(Asset::Tft),
            "TFP" | "TFTF" => Ok(Asset::Tfp),
            "CC" => Ok(Asset::Cc),
            "USDC" => Ok(Asset::Usdc),
            _ => Err(UnknownAsset(s.to_owned())),
        }
    }
}
