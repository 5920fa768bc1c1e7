//! State snapshots: the state's canonical encoding as bytes, and back.
//!
//! [`State::snapshot_bytes`] is the postcard encoding of the whole state, exactly the bytes that
//! [`State::state_hash`] hashes (after its domain tag and [`super::STATE_ENCODING_VERSION`]).
//! [`State::from_snapshot_bytes`] decodes them and checks, in this order:
//!
//! 1. the bytes decode as a state (postcard reads from the slice: a length prefix larger than what is left
//!    fails, and serde caps every up-front allocation, so no input allocates more than its own size allows),
//!    nothing follows the encoding, and they are the canonical encoding of the state they decode to
//!    (postcard also reads overlong integers, e.g. `80 00` for 0, so other bytes can decode to the same
//!    state under another hash: found by the fuzzer, `fuzz/regressions/snapshot_state/`);
//! 2. the bytes hash to the state hash the caller expects (the snapshot file's header, a checkpoint):
//!    [`State::hash_of_snapshot_bytes`], without re-encoding. Sound because the hash is collision
//!    resistant: bytes with the hash of a real state's canonical encoding are that encoding, so they decode
//!    to that state. Any change to any byte is refused here, before anything else reads the decoded values;
//! 3. what is derived and therefore not encoded is rebuilt exactly as the commands built it: the ledger's
//!    account index and running totals, each exchange book's order lookups
//!    ([`Ledger::rebuild_derived`](crate::ledger::Ledger), `Exchange::rebuild_derived`), with checked
//!    arithmetic; the transient command time is the state's time (the replica tracks the journal's
//!    timestamps itself) and the state is not halted (a halted state never reaches the journal);
//! 4. every invariant holds ([`State::check_invariants`]).
//!
//! `State`'s serde `Deserialize` (any format) decodes the fields and runs step 3, so that no decoded state
//! is left without its lookups; it checks no hash and no invariant.
//!
//! Every other part of the state (open leases, grace sets, utilization meters, pool memberships, node keys)
//! is encoded as it is, so a decoded state applies every later command exactly as the original does: the
//! tests below and the core property test apply the same commands to both and compare every receipt.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::State;

/// Why snapshot bytes were refused by [`State::from_snapshot_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The bytes are not the encoding of a state (postcard's reason).
    Decode(String),
    /// A state decoded from a prefix, but `trailing` more bytes follow it.
    TrailingBytes {
        /// Bytes after the encoding.
        trailing: usize,
    },
    /// The decoded state's hash differs from the expected one (64 hex characters each).
    HashMismatch {
        /// The hash the caller expected.
        expected: String,
        /// The hash of the decoded state.
        actual: String,
    },
    /// The derived lookups cannot be rebuilt (a duplicate account, a misfiled order, a balance sum
    /// overflow): no command sequence produces such a state.
    Derived(String),
    /// An invariant fails on the decoded state ([`State::check_invariants`]'s description).
    Invariant(String),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Decode(reason) => write!(f, "the snapshot does not decode as a state: {reason}"),
            SnapshotError::TrailingBytes { trailing } => {
                write!(f, "the snapshot has {trailing} bytes after the state's encoding")
            }
            SnapshotError::HashMismatch { expected, actual } => {
                write!(f, "the snapshot's state hash is {actual}, expected {expected}")
            }
            SnapshotError::Derived(reason) => write!(f, "the snapshot's state is inconsistent: {reason}"),
            SnapshotError::Invariant(reason) => {
                write!(f, "the snapshot's state breaks an invariant: {reason}")
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

impl State {
    /// The canonical encoding of the whole state (postcard): exactly the bytes [`State::state_hash`] hashes.
    /// Restore it with [`State::from_snapshot_bytes`].
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("encoding the state into a Vec cannot fail")
    }

    /// Decodes [`State::snapshot_bytes`] and checks it (module doc): it must decode with no trailing byte,
    /// hash to `expected_state_hash` (64 hex characters, [`State::state_hash`]), have its derived lookups
    /// rebuilt and satisfy every invariant. Never panics, whatever the bytes.
    ///
    /// The transient command time ([`State::last_command_time`]) is the state's time until the next command.
    ///
    /// Errors: [`SnapshotError::Decode`], [`SnapshotError::TrailingBytes`], [`SnapshotError::HashMismatch`],
    /// [`SnapshotError::Derived`], [`SnapshotError::Invariant`], in the order they are checked.
    pub fn from_snapshot_bytes(bytes: &[u8], expected_state_hash: &str) -> Result<State, SnapshotError> {
        let decode_error = |e: postcard::Error| SnapshotError::Decode(e.to_string());
        let mut decoder = postcard::Deserializer::from_bytes(bytes);
        // The fields only (the derived serde code): the lookups are rebuilt after the hash check.
        let mut state = State::deserialize(&mut decoder).map_err(decode_error)?;
        let rest = decoder.finalize().map_err(decode_error)?;
        if !rest.is_empty() {
            return Err(SnapshotError::TrailingBytes { trailing: rest.len() });
        }
        if state.snapshot_bytes() != bytes {
            return Err(SnapshotError::Decode(
                "the bytes are not the canonical encoding of the state they decode to (an overlong integer)"
                    .to_owned(),
            ));
        }
        let actual = State::hash_of_snapshot_bytes(bytes);
        if actual != expected_state_hash {
            return Err(SnapshotError::HashMismatch { expected: expected_state_hash.to_owned(), actual });
        }
        state.rebuild_derived().map_err(SnapshotError::Derived)?;
        state.check_invariants().map_err(SnapshotError::Invariant)?;
        Ok(state)
    }

    /// Rebuilds what the encoding leaves out (module doc, step 3). Errors: a state no command sequence
    /// produces (a duplicate account, a misfiled order, balances whose sum overflows).
    fn rebuild_derived(&mut self) -> Result<(), String> {
        self.at = self.now;
        self.halted = None;
        self.ledger.rebuild_derived()?;
        self.capacity.rebuild_derived(&self.ledger);
        self.exchange.rebuild_derived()
    }
}

impl Serialize for State {
    /// The canonical encoding's fields in order (the derived serde code; see [`State::snapshot_bytes`]).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        State::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for State {
    /// The fields, then the derived lookups rebuilt (module doc, step 3), so that any decoded state applies
    /// commands exactly like the one encoded. Checks neither a hash nor the invariants: for snapshots use
    /// [`State::from_snapshot_bytes`]. Errors: the fields do not decode, or the lookups cannot be rebuilt.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut state = State::deserialize(deserializer)?;
        state.rebuild_derived().map_err(serde::de::Error::custom)?;
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, Envelope};
    use crate::genesis::Genesis;
    use crate::ids::AccountKey;

    /// The accepted log of `tfeco_testkit::every_command_kind` (every live command kind), as this crate's
    /// types: the test kit links its own copy of `tfeco-core`, so its genesis and envelopes cross over
    /// through their postcard encoding (the journal's).
    fn every_command_kind_log() -> (Genesis, Vec<(Envelope, i64)>) {
        let h = tfeco_testkit::every_command_kind();
        let genesis = postcard::from_bytes(&postcard::to_allocvec(&h.genesis).unwrap()).unwrap();
        let log = h
            .accepted
            .iter()
            .zip(&h.accepted_at)
            .map(|(envelope, at)| {
                let command =
                    postcard::from_bytes(&postcard::to_allocvec(&envelope.command).unwrap()).unwrap();
                let signer = AccountKey(envelope.signer.0);
                (Envelope { signer, nonce: envelope.nonce, command }, *at)
            })
            .collect();
        (genesis, log)
    }

    fn replay(genesis: &Genesis, log: &[(Envelope, i64)]) -> State {
        let mut state = State::new(genesis.clone());
        for (envelope, at) in log {
            state.apply_at(envelope, *at).expect("accepted live, accepted on replay");
        }
        state
    }

    fn round_trip(state: &State) -> State {
        State::from_snapshot_bytes(&state.snapshot_bytes(), &state.state_hash()).expect("a state round-trips")
    }

    /// Commands after the scenario's log that use every rebuilt lookup: a new account (ledger index), a
    /// transfer between existing ones, then (`phase` 1) an exchange order placed, amended and cancelled (book
    /// lookups) and a month of time (billing, exit rounds, batches, a minting period close).
    fn further_commands(state: &State, phase: u8) -> Vec<(Envelope, i64)> {
        let accounts = state.ledger().accounts();
        let (alice, bob) = (accounts[1].key, accounts[2].key);
        let nonce = |key: AccountKey| state.ledger().last_nonce(&key) + 1;
        let market_id = crate::ids::MarketId(1);
        let (now, operator) = (state.now(), state.params().operator);
        let commands = if phase == 0 {
            let newcomer =
                AccountKey(ed25519_dalek::SigningKey::from_bytes(&[77; 32]).verifying_key().to_bytes());
            let amount = tfeco_money::Amount::from_units(1_000_000);
            let sell = Command::PlaceOrder {
                market_id,
                side: crate::types::Side::Sell,
                quantity: tfeco_money::Amount::from_units(100_000_000),
                limit_price: "0.2".parse().unwrap(),
                expires_after_batches: Some(3),
            };
            vec![
                (newcomer, 1, Command::RegisterAccount {}),
                (alice, nonce(alice), Command::Transfer { asset: tfeco_money::Asset::Tft, to: bob, amount }),
                (bob, nonce(bob), sell),
            ]
        } else {
            let book = &state.exchange().books()[&market_id];
            let order_id = *book.orders.keys().next_back().expect("bob's order rests");
            let amend = Command::AmendOrder {
                order_id,
                quantity: tfeco_money::Amount::from_units(200_000_000),
                limit_price: "0.19".parse().unwrap(),
            };
            vec![
                (bob, nonce(bob), amend),
                (alice, nonce(alice), Command::CancelOrder { order_id }),
                (bob, nonce(bob) + 1, Command::CancelOrder { order_id }),
                (operator, nonce(operator), Command::Tick { now: now + 31 * 86_400 }),
            ]
        };
        commands
            .into_iter()
            .map(|(signer, nonce, command)| (Envelope { signer, nonce, command }, now + 60))
            .collect()
    }

    /// Applies the same commands to both states: identical results (receipts or rejections) and hashes.
    fn apply_both(original: &mut State, decoded: &mut State, commands: &[(Envelope, i64)]) {
        for (envelope, at) in commands {
            let a = original.apply_at(envelope, *at);
            let b = decoded.apply_at(envelope, *at);
            assert_eq!(a, b, "{:?} after a snapshot round trip", envelope.command);
            assert_eq!(original.state_hash(), decoded.state_hash(), "{:?}", envelope.command);
        }
    }

    #[test]
    fn a_state_of_every_command_kind_round_trips_and_applies_the_same_commands_identically() {
        let (genesis, log) = every_command_kind_log();
        let state = replay(&genesis, &log);
        let bytes = state.snapshot_bytes();
        assert_eq!(postcard::to_allocvec(&state).unwrap(), bytes, "the bytes the state hash covers");
        assert_eq!(State::hash_of_snapshot_bytes(&bytes), state.state_hash());
        let decoded = round_trip(&state);
        assert_eq!(decoded.state_hash(), state.state_hash());
        assert_eq!(decoded.snapshot_bytes(), bytes, "canonical: re-encoding gives the same bytes");
        assert_eq!(decoded.halted(), None);
        assert_eq!(decoded.last_command_time(), decoded.now());
        let slots = state.capacity.tenant_slots_for_test();
        assert_eq!(slots.len(), state.capacity().leases().len(), "one remembered tenant slot per lease");
        assert!(!slots.is_empty() && !slots.contains(&u32::MAX));
        assert_eq!(
            decoded.capacity.tenant_slots_for_test(),
            slots,
            "rebuilt as opening the leases built them"
        );
        for (meter, error) in [(true, "classified wrongly"), (false, "slice accounting is off")] {
            let mut corrupt = decoded.clone();
            corrupt.capacity.corrupt_for_test(meter);
            let found = corrupt.check_invariants().expect_err("the capacity checks see it");
            assert!(found.contains(error), "{found}");
        }
        let plain: State = postcard::from_bytes(&bytes).expect("serde decodes a state too");
        assert_eq!(plain.check_invariants(), Ok(()), "with its lookups rebuilt");
        let (mut original, mut decoded) = (state, decoded);
        let accounts = original.ledger().accounts().len();
        for phase in 0..2 {
            let further = further_commands(&original, phase);
            apply_both(&mut original, &mut decoded, &further);
            // Each phase again from a fresh round trip of the original.
            decoded = round_trip(&original);
        }
        assert_eq!(original.ledger().accounts().len(), accounts + 1, "the newcomer registered");
    }

    /// A snapshot taken after every prefix of the log: the rest of the log applies to the decoded state
    /// exactly as to the original (same receipts, same hash after every command).
    #[test]
    fn a_snapshot_after_any_prefix_continues_like_the_original() {
        let (genesis, log) = every_command_kind_log();
        let mut state = State::new(genesis);
        for cut in 0..=log.len() {
            let mut original = state.clone();
            let mut decoded = round_trip(&state);
            apply_both(&mut original, &mut decoded, &log[cut..]);
            if let Some((envelope, at)) = log.get(cut) {
                state.apply_at(envelope, *at).expect("accepted");
            }
        }
    }

    #[test]
    fn a_wrong_hash_trailing_bytes_and_truncations_are_refused() {
        let (genesis, log) = every_command_kind_log();
        let state = replay(&genesis, &log);
        let (bytes, hash) = (state.snapshot_bytes(), state.state_hash());
        let other = State::new(genesis).state_hash();
        assert!(matches!(
            State::from_snapshot_bytes(&bytes, &other),
            Err(SnapshotError::HashMismatch { expected, actual }) if expected == other && actual == hash
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            State::from_snapshot_bytes(&longer, &hash).unwrap_err(),
            SnapshotError::TrailingBytes { trailing: 1 }
        );
        for len in 0..bytes.len() {
            assert!(State::from_snapshot_bytes(&bytes[..len], &hash).is_err(), "truncated to {len} bytes");
        }
    }

    /// A small deterministic generator (no randomness between runs).
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        *seed >> 33
    }

    /// Fuzz-style: single-bit flips and random byte runs over a real snapshot are refused or (when the
    /// flip leaves the state unchanged) give the same state; never a panic. Each mutation is also offered
    /// with the mutated state's own hash (as a forged header would), which must not panic either: it reaches
    /// the rebuild and the invariant checks with arbitrary values.
    /// Found by the fuzzer: an integer written in more bytes than needed (`80 00` for 0) decoded to the
    /// same state as the canonical bytes, so bytes whose hash is not the state's hash were accepted.
    #[test]
    fn an_overlong_integer_is_refused() {
        let state = State::new(every_command_kind_log().0);
        let bytes = state.snapshot_bytes();
        let overlong = (0..bytes.len())
            .filter(|&at| bytes[at] == 0)
            .map(|at| [&bytes[..at], &[0x80, 0x00], &bytes[at + 1..]].concat())
            .find(|candidate| {
                postcard::from_bytes::<State>(candidate).is_ok_and(|s| s.snapshot_bytes() == bytes)
            })
            .expect("a zero varint in the encoding");
        let refused = State::from_snapshot_bytes(&overlong, &State::hash_of_snapshot_bytes(&overlong));
        assert!(matches!(refused, Err(SnapshotError::Decode(_))), "{refused:?}");
        assert!(State::from_snapshot_bytes(&bytes, &state.state_hash()).is_ok());
    }

    #[test]
    fn flipped_bytes_are_refused_or_give_the_same_state_and_never_panic() {
        let (genesis, log) = every_command_kind_log();
        let state = replay(&genesis, &log);
        let (bytes, hash) = (state.snapshot_bytes(), state.state_hash());
        let mut seed = 0x5eed_u64;
        let mut refused = 0;
        for round in 0..3_000 {
            let mut mutated = bytes.clone();
            if round % 3 == 2 {
                let at = lcg(&mut seed) as usize % mutated.len();
                let run = 1 + lcg(&mut seed) as usize % 8;
                for byte in mutated.iter_mut().skip(at).take(run) {
                    *byte = lcg(&mut seed) as u8;
                }
            } else {
                let bit = lcg(&mut seed) as usize % (mutated.len() * 8);
                mutated[bit / 8] ^= 1 << (bit % 8);
            }
            match State::from_snapshot_bytes(&mutated, &hash) {
                Ok(decoded) => assert_eq!(decoded.state_hash(), hash),
                Err(_) => refused += 1,
            }
            let _ = State::from_snapshot_bytes(&mutated, &State::hash_of_snapshot_bytes(&mutated));
        }
        assert!(refused > 2_900, "only {refused} of 3000 mutations refused");
    }

    /// The two internally tagged enums of the state read both their JSON form (unchanged) and their compact
    /// form (tag then fields); an unknown tag is refused.
    #[test]
    fn internally_tagged_values_round_trip_in_json_and_postcard() {
        use crate::slices::capacity::LeaseStatus;
        use crate::types::{CloseReason, Shortfall, Unmet};
        let statuses = [
            LeaseStatus::Active,
            LeaseStatus::Grace { since: -5 },
            LeaseStatus::Cancelling,
            LeaseStatus::Closed { reason: CloseReason::InsufficientFunds, at: 1_761_955_200 },
        ];
        let cc = |units| tfeco_money::Amount::from_units(units);
        let shortfalls = [
            Shortfall::NoNodeListed,
            Shortfall::Unmet { unmet: Unmet::Memory, required: 8 },
            Shortfall::AllAboveMaxPrice { eligible: 2, max_price_month: cc(1), cheapest: cc(3) },
            Shortfall::FreeSlicesShort { eligible: 1, max_price_month: cc(2), free: 3, requested: 4 },
            Shortfall::HourlyPremium { hours_per_month: 720, max_price_month: cc(5) },
            Shortfall::TooFewOffers { filled: 1, wanted: 2 },
        ];
        fn both<T>(value: &T)
        where
            T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug,
        {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), value, "{json}");
            let compact = postcard::to_allocvec(value).unwrap();
            assert_eq!(&postcard::from_bytes::<T>(&compact).unwrap(), value, "{compact:?}");
        }
        statuses.iter().for_each(both);
        shortfalls.iter().for_each(both);
        assert_eq!(serde_json::to_string(&statuses[1]).unwrap(), r#"{"status":"grace","since":-5}"#);
        let unknown = postcard::to_allocvec(&("paused", 1i64)).unwrap();
        assert!(postcard::from_bytes::<LeaseStatus>(&unknown).is_err());
    }
}
