//! The genesis (parameters, catalogue, start time) and its versioned encoding, stored by the journal so a
//! replay starts from the same point.
//!
//! Encoding (format 1): the JSON object `{"format": 1, "genesis": {"params": {...}, "catalogue": [...],
//! "start_time": N}}`. JSON is self-describing, and every `Params` field has a default, so a parameter added
//! by a later version reads an older genesis with its default value; a field that a later version removes
//! is ignored. A genesis without a `format` (written before formats existed, as postcard) or with a format
//! this version does not know is refused with a typed [`FormatError`], never guessed at.

use serde::{Deserialize, Serialize};

use crate::catalogue::NodeModel;
use crate::params::Params;

/// The format version this version writes for the genesis and for journal entry payloads
/// (see [`crate::request::PAYLOAD_FORMAT`]).
pub const GENESIS_FORMAT: u32 = 1;

/// What a node starts from: parameters, the catalogue and the start time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Parameters.
    pub params: Params,
    /// Node models (from `data/node-catalogue`).
    pub catalogue: Vec<NodeModel>,
    /// Initial time, unix seconds.
    pub start_time: i64,
}

/// Why stored genesis bytes could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The bytes carry no format version (a journal written before formats were versioned).
    Unversioned,
    /// A format version this build does not read.
    UnknownVersion(u32),
    /// The bytes claim a known format but do not decode.
    Malformed(String),
    /// The genesis decodes but a parameter is out of range.
    InvalidParam(crate::params::InvalidParam),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Unversioned => f.write_str(
                "the genesis has no format version (written by a pre-release build): replay it with that build",
            ),
            FormatError::UnknownVersion(v) => {
                write!(f, "genesis format {v} is not known to this build (it reads format {GENESIS_FORMAT})")
            }
            FormatError::Malformed(reason) => write!(f, "the genesis does not decode: {reason}"),
            FormatError::InvalidParam(invalid) => write!(f, "the genesis is invalid: {invalid}"),
        }
    }
}

impl std::error::Error for FormatError {}

#[derive(Serialize)]
struct Versioned<'a> {
    format: u32,
    genesis: &'a Genesis,
}

#[derive(Deserialize)]
struct VersionProbe {
    format: Option<u32>,
}

#[derive(Deserialize)]
struct VersionedOwned {
    genesis: Genesis,
}

impl Genesis {
    /// The default genesis: the `tfgrid4-2025` parameters with `operator`, the compiled-in Q4 2025 catalogue,
    /// starting at `start_time` (unix seconds).
    pub fn tfgrid4_2025(operator: crate::ids::AccountKey, start_time: i64) -> Self {
        Genesis {
            params: Params::tfgrid4_2025(operator),
            catalogue: crate::catalogue::catalogue_q4_2025(),
            start_time,
        }
    }

    /// The versioned encoding (format [`GENESIS_FORMAT`], JSON).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&Versioned { format: GENESIS_FORMAT, genesis: self })
            .expect("a genesis always serializes to JSON")
    }

    /// Decodes [`Genesis::encode`] output of this or an earlier format, and checks its parameters
    /// ([`Params::check`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        let probe: VersionProbe = serde_json::from_slice(bytes).map_err(|_| FormatError::Unversioned)?;
        match probe.format {
            None => Err(FormatError::Unversioned),
            Some(GENESIS_FORMAT) => {
                let genesis = serde_json::from_slice::<VersionedOwned>(bytes)
                    .map(|v| v.genesis)
                    .map_err(|e| FormatError::Malformed(e.to_string()))?;
                genesis.params.check().map_err(FormatError::InvalidParam)?;
                Ok(genesis)
            }
            Some(other) => Err(FormatError::UnknownVersion(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AccountKey;

    fn genesis() -> Genesis {
        Genesis { params: Params::tfgrid4_2025(AccountKey([3; 32])), catalogue: Vec::new(), start_time: 42 }
    }

    #[test]
    fn round_trips_and_names_its_format() {
        let bytes = genesis().encode();
        assert!(bytes.starts_with(b"{\"format\":1,"), "{}", String::from_utf8_lossy(&bytes));
        assert_eq!(Genesis::decode(&bytes), Ok(genesis()));
    }

    #[test]
    fn unknown_unversioned_and_malformed_bytes_are_refused() {
        assert_eq!(Genesis::decode(b"{\"format\":2,\"genesis\":{}}"), Err(FormatError::UnknownVersion(2)));
        assert_eq!(Genesis::decode(&[0, 1, 2, 3]), Err(FormatError::Unversioned));
        assert_eq!(Genesis::decode(b"{\"genesis\":{}}"), Err(FormatError::Unversioned));
        assert!(matches!(Genesis::decode(b"{\"format\":1,\"genesis\":7}"), Err(FormatError::Malformed(_))));
    }

    #[test]
    fn a_parameter_added_later_reads_with_its_default() {
        let mut value: serde_json::Value = serde_json::from_slice(&genesis().encode()).expect("json");
        value["genesis"]["params"].as_object_mut().expect("params object").remove("bid_tiers");
        let bytes = serde_json::to_vec(&value).expect("json");
        assert_eq!(Genesis::decode(&bytes), Ok(genesis()));
    }
}
