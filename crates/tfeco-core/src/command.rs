//! Commands (the only inputs that change state), their envelope, and the canonical bytes a client signs.
//!
//! The `Command` enum is the journaled wire format: its serde shape is versioned and only grows (new
//! variants at the end; never reorder or reuse). JSON uses externally tagged snake_case variants, e.g.
//! `{"transfer": {"asset": "TFT", "to": "ab…", "amount": "12.5"}}`; the journal uses postcard.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Price, Tfp, Tft, Usdc};

use crate::catalogue::Resources;
use crate::ids::{AccountKey, FarmId, LeaseId, NodeId, WithdrawalId};

/// An oracle price feed (spec `decisions.md` §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceFeed {
    /// TFT price in USD per TFT.
    TftUsd,
    /// Gold price in USD per troy ounce (the CC peg: 0.001 g of gold).
    GoldUsdPerOz,
}

impl PriceFeed {
    /// Both feeds, in canonical order.
    pub const ALL: [PriceFeed; 2] = [PriceFeed::TftUsd, PriceFeed::GoldUsdPerOz];

    /// Stable name: `tft_usd` or `gold_usd_per_oz`.
    pub fn name(self) -> &'static str {
        match self {
            PriceFeed::TftUsd => "tft_usd",
            PriceFeed::GoldUsdPerOz => "gold_usd_per_oz",
        }
    }
}

/// How a lease is billed (spec `decisions.md` §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// One-hour periods at the hourly price (monthly price / 720 × premium).
    Hourly,
    /// 720-hour periods at the listed monthly price; not refundable.
    Monthly,
}

/// What a node is: a catalogue model or custom resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NodeSpec {
    /// A model of the catalogue, by exact name (e.g. `"Mini 3"`).
    Model {
        /// The model name.
        model: String,
    },
    /// Custom hardware: resources and the number of slices it is cut into. Never certified.
    Custom {
        /// Whole-node resources.
        resources: Resources,
        /// Slices the node is cut into (per-slice resources = resources / slices).
        slices: u32,
    },
}

/// A state-changing command. Each is validated fully before anything changes; a rejection is a
/// [`crate::Rejection`] and leaves the state untouched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Registers the signer's key as an account.
    RegisterAccount {},
    /// Moves TFT, TFP or USDC to another registered account. CC is refused (`CcNotTransferable`).
    Transfer {
        /// The asset (TFT, TFP or USDC).
        asset: Asset,
        /// The receiving account.
        to: AccountKey,
        /// The amount, > 0.
        amount: Amount<AnyAsset>,
    },
    /// An attestor confirms an external deposit of TFT or USDC; executes once `attestation_threshold`
    /// attestors agree on the same facts; idempotent by `external_tx_id`.
    AttestDeposit {
        /// TFT or USDC.
        asset: Asset,
        /// The credited account.
        to: AccountKey,
        /// The amount, > 0.
        amount: Amount<AnyAsset>,
        /// The external (bridge) transaction id, unique.
        external_tx_id: String,
    },
    /// A user asks to withdraw TFT or USDC to an external address; the funds move to `escrow.withdrawals`.
    RequestWithdrawal {
        /// TFT or USDC.
        asset: Asset,
        /// The amount, > 0.
        amount: Amount<AnyAsset>,
        /// External destination address (opaque text).
        destination: String,
    },
    /// An attestor confirms that a requested withdrawal was paid out externally; the escrowed funds leave
    /// the system. Idempotent by `external_tx_id`.
    AttestWithdrawal {
        /// The withdrawal request.
        withdrawal_id: WithdrawalId,
        /// The external transaction id, unique.
        external_tx_id: String,
    },
    /// An oracle submitter reports a price observed at `observed_at` (unix seconds).
    SubmitPrice {
        /// The feed.
        feed: PriceFeed,
        /// USD per TFT, or USD per troy ounce of gold.
        price: Price,
        /// Observation time, unix seconds; not after the state's time.
        observed_at: i64,
    },
    /// Pool 1 entry: TFT locked in the vault, TFP minted into `pool2.reserve`, CC minted to the signer.
    EnterWithTft {
        /// TFT brought in, > 0.
        tft: Amount<Tft>,
    },
    /// Fiat entry attested by a payment key: mints `usd / cc_usd` CC to `to`, credits the USD as USDC to
    /// the treasury. Idempotent by `payment_id`.
    EnterWithFiat {
        /// The paying user.
        to: AccountKey,
        /// USD paid, 7 decimals.
        usd: Amount<Usdc>,
        /// Unique payment id from the payment processor.
        payment_id: String,
    },
    /// Locks TFT in the vault and mints the same TFP to the signer (1:1).
    LockTft {
        /// TFT to lock, > 0.
        tft: Amount<Tft>,
    },
    /// Burns TFP and releases the same TFT from the vault; only while `tft_usd >= cc_usd / entry_rate`.
    UnlockTfp {
        /// TFP to return, > 0.
        tfp: Amount<Tfp>,
    },
    /// Registers a farm owned by the signer.
    RegisterFarm {
        /// Display name, 1..=max_text_len bytes, unique.
        name: String,
    },
    /// Registers a node in one of the signer's farms.
    RegisterNode {
        /// The farm.
        farm_id: FarmId,
        /// Model or custom resources.
        spec: NodeSpec,
        /// Slices offered (default: all of the node's slices); at most the node's slices.
        offered_slices: Option<u32>,
    },
    /// Sets the price of one slice-month of a node, inside its band.
    SetSlicePrice {
        /// The node (of one of the signer's farms).
        node_id: NodeId,
        /// CC per slice-month.
        price: Amount<Cc>,
    },
    /// Leases `n_slices` of a node at its listed price; the first period is charged at once.
    OpenLease {
        /// The node.
        node_id: NodeId,
        /// Slices, 1..=free slices.
        n_slices: u32,
        /// Hourly or monthly periods.
        billing: Billing,
        /// Number of periods after which the lease expires (`None`: until cancelled).
        periods: Option<u32>,
    },
    /// Ends a lease at the end of its current (paid) period; a lease in grace closes at once.
    CancelLease {
        /// The lease (of the signer).
        lease_id: LeaseId,
    },
    /// Advances time to `now` (unix seconds) and runs everything due: billing, grace expiry, pending burns.
    /// Operator only.
    Tick {
        /// The new time, unix seconds, not before the current time.
        now: i64,
    },
}

impl Command {
    /// Stable name of the command kind (for logs and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            Command::RegisterAccount {} => "register_account",
            Command::Transfer { .. } => "transfer",
            Command::AttestDeposit { .. } => "attest_deposit",
            Command::RequestWithdrawal { .. } => "request_withdrawal",
            Command::AttestWithdrawal { .. } => "attest_withdrawal",
            Command::SubmitPrice { .. } => "submit_price",
            Command::EnterWithTft { .. } => "enter_with_tft",
            Command::EnterWithFiat { .. } => "enter_with_fiat",
            Command::LockTft { .. } => "lock_tft",
            Command::UnlockTfp { .. } => "unlock_tfp",
            Command::RegisterFarm { .. } => "register_farm",
            Command::RegisterNode { .. } => "register_node",
            Command::SetSlicePrice { .. } => "set_slice_price",
            Command::OpenLease { .. } => "open_lease",
            Command::CancelLease { .. } => "cancel_lease",
            Command::Tick { .. } => "tick",
        }
    }
}

/// A command with who signed it and the nonce, as the core applies it. The journal stores the signed
/// request this was decoded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The signer (the account charged or acting).
    pub signer: AccountKey,
    /// The signer's nonce: strictly greater than the last one the account used.
    pub nonce: u64,
    /// The command.
    pub command: Command,
}

/// The body a client signs: signer, nonce, expiry and command. Its canonical encoding is
/// [`SIGNING_DOMAIN`] followed by the postcard encoding of this struct ([`RequestBody::signing_bytes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// The signing account.
    pub signer: AccountKey,
    /// Per-account strictly increasing nonce.
    pub nonce: u64,
    /// Unix seconds after which the server refuses the request.
    pub expiry: i64,
    /// The command.
    pub command: Command,
}

/// Domain separation prefix of signed requests.
pub const SIGNING_DOMAIN: &[u8] = b"tfeco/v1/request\0";

/// Why a signed request could not be decoded or verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The bytes are not a valid encoding.
    Decode,
    /// The signer is not a valid ed25519 public key.
    BadKey,
    /// The signature does not verify.
    BadSignature,
}

impl RequestBody {
    /// The postcard encoding of this body (what the journal stores as the payload).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("encoding into a Vec cannot fail")
    }

    /// Decodes a payload written by [`RequestBody::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, RequestError> {
        postcard::from_bytes(bytes).map_err(|_| RequestError::Decode)
    }

    /// The exact bytes an ed25519 signature covers: domain prefix + [`RequestBody::encode`].
    pub fn signing_bytes(&self) -> Vec<u8> {
        signing_bytes_of_payload(&self.encode())
    }

    /// Verifies `signature` (64 bytes) over this body with the signer's key.
    pub fn verify(&self, signature: &[u8]) -> Result<(), RequestError> {
        verify_payload(&self.signer, &self.encode(), signature)
    }

    /// The envelope the core applies.
    pub fn into_envelope(self) -> Envelope {
        Envelope { signer: self.signer, nonce: self.nonce, command: self.command }
    }
}

/// Domain prefix + payload.
pub fn signing_bytes_of_payload(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SIGNING_DOMAIN.len() + payload.len());
    bytes.extend_from_slice(SIGNING_DOMAIN);
    bytes.extend_from_slice(payload);
    bytes
}

/// Verifies an ed25519 signature by `signer` over an encoded [`RequestBody`] payload.
pub fn verify_payload(signer: &AccountKey, payload: &[u8], signature: &[u8]) -> Result<(), RequestError> {
    let key = VerifyingKey::from_bytes(signer.as_bytes()).map_err(|_| RequestError::BadKey)?;
    let signature = Signature::from_slice(signature).map_err(|_| RequestError::BadSignature)?;
    key.verify(&signing_bytes_of_payload(payload), &signature).map_err(|_| RequestError::BadSignature)
}
