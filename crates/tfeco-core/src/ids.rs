//! Identities: account keys (ed25519 public keys), system accounts, and one numeric id newtype per kind of
//! record (farms, nodes, leases, withdrawals, positions, exit bids and rounds, standing bids, capacity requests,
//! farming pools, exchange markets and orders, parameter changes). Every id is a transparent number in JSON
//! and in the journal's postcard encoding, so wrapping a raw number changes no wire format.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An account: the 32-byte ed25519 public key that signs for it (spec `decisions.md` §2).
/// JSON shows it as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountKey(pub [u8; 32]);

impl AccountKey {
    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", &self.to_hex()[..12])
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Error for a malformed account key string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAccountKey;

impl fmt::Display for InvalidAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid account key: expected 64 hex characters (an ed25519 public key)")
    }
}

impl std::error::Error for InvalidAccountKey {}

impl FromStr for AccountKey {
    type Err = InvalidAccountKey;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut bytes).map_err(|_| InvalidAccountKey)?;
        Ok(AccountKey(bytes))
    }
}

impl Serialize for AccountKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_hex())
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for AccountKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            <[u8; 32]>::deserialize(deserializer).map(AccountKey)
        }
    }
}

/// Accounts without a private key, moved only by rules (spec `decisions.md` §2). Burns are not an account:
/// burned value leaves the supply and is counted in the ledger's totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SystemAccount {
    /// Holds the TFT locked behind TFP (entry and `LockTft`).
    Vault,
    /// Pool 2's TFP reserve (TFP minted on entry; source of burns and CC→TFP conversions).
    Pool2Reserve,
    /// The exit pool's USDC.
    ExitPoolUsdc,
    /// The exit pool's TFP (positions).
    ExitPoolTfp,
    /// ThreeFold's revenue share and fiat-entry proceeds.
    Treasury,
    /// Funds of pending withdrawals, until the bridge attests them.
    EscrowWithdrawals,
    /// CC escrowed by standing bids (first period of the unfilled quantity).
    EscrowStandingBids,
    /// CC escrowed by open capacity requests (reverse auctions).
    EscrowCapacityRequests,
    /// Minted node rewards not yet vested (spec §11 lock-up).
    VestingLocked,
    /// Funds of open exchange orders (spec §13: orders are prefunded).
    EscrowOrders,
}

impl SystemAccount {
    /// All system accounts in canonical order.
    pub const ALL: [SystemAccount; 10] = [
        SystemAccount::Vault,
        SystemAccount::Pool2Reserve,
        SystemAccount::ExitPoolUsdc,
        SystemAccount::ExitPoolTfp,
        SystemAccount::Treasury,
        SystemAccount::EscrowWithdrawals,
        SystemAccount::EscrowStandingBids,
        SystemAccount::EscrowCapacityRequests,
        SystemAccount::VestingLocked,
        SystemAccount::EscrowOrders,
    ];

    /// Stable name, as in the spec: `vault`, `pool2.reserve`, `exit_pool.usdc`, `exit_pool.tfp`,
    /// `treasury`, `escrow.withdrawals`.
    pub fn name(self) -> &'static str {
        match self {
            SystemAccount::Vault => "vault",
            SystemAccount::Pool2Reserve => "pool2.reserve",
            SystemAccount::ExitPoolUsdc => "exit_pool.usdc",
            SystemAccount::ExitPoolTfp => "exit_pool.tfp",
            SystemAccount::Treasury => "treasury",
            SystemAccount::EscrowWithdrawals => "escrow.withdrawals",
            SystemAccount::EscrowStandingBids => "escrow.standing_bids",
            SystemAccount::EscrowCapacityRequests => "escrow.capacity_requests",
            SystemAccount::VestingLocked => "vesting.locked",
            SystemAccount::EscrowOrders => "escrow.orders",
        }
    }

    /// Index in [`SystemAccount::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Looks a system account up by its stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Any account that can hold a balance: a user key or a system account. JSON shows users as hex and
/// system accounts by name (`"vault"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountRef {
    /// A user account (registered ed25519 key).
    User(AccountKey),
    /// A system account.
    System(SystemAccount),
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountRef::User(key) => write!(f, "{key}"),
            AccountRef::System(system) => f.write_str(system.name()),
        }
    }
}

impl Serialize for AccountRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_string())
        } else {
            match self {
                AccountRef::User(key) => serializer.serialize_newtype_variant("AccountRef", 0, "User", key),
                AccountRef::System(s) => serializer.serialize_newtype_variant("AccountRef", 1, "System", s),
            }
        }
    }
}

impl<'de> Deserialize<'de> for AccountRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        enum Raw {
            User(AccountKey),
            System(SystemAccount),
        }
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            if let Some(system) = SystemAccount::from_name(&text) {
                return Ok(AccountRef::System(system));
            }
            text.parse().map(AccountRef::User).map_err(serde::de::Error::custom)
        } else {
            Ok(match Raw::deserialize(deserializer)? {
                Raw::User(key) => AccountRef::User(key),
                Raw::System(s) => AccountRef::System(s),
            })
        }
    }
}

macro_rules! numeric_id {
    ($name:ident, $inner:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub $inner);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            /// Parses the decimal number.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }
    };
}
numeric_id!(FarmId, u32, "A farm, numbered from 1 in registration order.");
numeric_id!(NodeId, u32, "A node, numbered from 1 in registration order.");
numeric_id!(LeaseId, u64, "A lease, numbered from 1 in opening order.");
numeric_id!(WithdrawalId, u64, "A pending withdrawal, numbered from 1.");
numeric_id!(PositionId, u64, "An exit-pool position, numbered from 1.");
numeric_id!(ExitBidId, u64, "An exit bid, numbered from 1.");
numeric_id!(RoundId, u64, "An exit auction round, numbered from 1.");
numeric_id!(StandingBidId, u64, "A standing bid of the capacity market, numbered from 1.");
numeric_id!(CapacityRequestId, u64, "A capacity request (reverse auction), numbered from 1.");
numeric_id!(FarmingPoolId, u64, "A farming pool, numbered from 1.");
numeric_id!(MarketId, u32, "An exchange market (a trading pair such as TFT/USDC), numbered from 1.");
numeric_id!(OrderId, u64, "An exchange order, numbered from 1 across all markets.");
numeric_id!(ParamChangeId, u64, "A proposed parameter change, numbered from 1.");

/// OpenAPI schemas of the hand-serialized identities (cargo feature `openapi`).
#[cfg(feature = "openapi")]
mod openapi {
    use std::borrow::Cow;

    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;
    use utoipa::{PartialSchema, ToSchema};

    use super::{AccountKey, AccountRef, SystemAccount};

    impl PartialSchema for AccountKey {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .pattern(Some("^[0-9a-f]{64}$"))
                .description(Some("An account: its ed25519 public key, 64 lowercase hex characters"))
                .into()
        }
    }

    impl ToSchema for AccountKey {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("AccountKey")
        }
    }

    impl PartialSchema for AccountRef {
        fn schema() -> RefOr<Schema> {
            let names: Vec<&str> = SystemAccount::ALL.iter().map(|a| a.name()).collect();
            let pattern = format!("^([0-9a-f]{{64}}|{})$", names.join("|").replace('.', "\\."));
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .pattern(Some(pattern))
                .description(Some(
                    "A user account (64 hex characters) or a system account by name, e.g. `vault`",
                ))
                .into()
        }
    }

    impl ToSchema for AccountRef {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("AccountRef")
        }
    }
}
