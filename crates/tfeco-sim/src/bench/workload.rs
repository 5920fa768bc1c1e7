//! The foundation workloads: deterministic signers, the setup that registers and funds them, a stream of
//! pseudo-random transfers with each signer's nonces in order, and the signed journal corpus built from them
//! (every entry applied to a state as it is built, so all of it is valid on replay).

use ed25519_dalek::{Signer, SigningKey};
use tfeco_core::{AccountKey, Command, Envelope, Genesis, State};
use tfeco_core::{RequestBody, SignedBody};
use tfeco_money::{Amount, Asset, Tft};
use tfeco_wallet::client::account_of;

use crate::error::check;
use crate::rng::XorShift;
use crate::{Result, SimError};

/// Start time of the offline genesis (2025-11-01T00:00:00Z); the core never reads a clock.
pub const GENESIS_TIME: i64 = 1_761_955_200;
/// TFT deposited into every account before the transfers (transfers move at most 0.1 TFT each).
pub const FUNDING_TFT: i64 = 1_000_000;
/// Bodies signed per parallel signing round (bounds the memory of unsigned bodies).
const SIGN_CHUNK: usize = 50_000;
/// Namespace of the benchmarks' key seeds.
pub(crate) const KEY_NAMESPACE: &str = "tfeco-bench";

/// A deterministic bench key (public seeds: never use them for real value).
pub fn bench_key(role: &str, index: usize) -> SigningKey {
    crate::keys::seeded_key(KEY_NAMESPACE, role, index)
}

/// The signers of the offline benches: `accounts` user keys, then the operator (index `accounts`).
pub struct Signers {
    keys: Vec<SigningKey>,
    ids: Vec<AccountKey>,
}

impl Signers {
    /// `accounts` users and the operator.
    pub fn new(accounts: usize) -> Self {
        let mut keys: Vec<SigningKey> = (0..accounts).map(|i| bench_key("account", i)).collect();
        keys.push(bench_key("operator", 0));
        let ids = keys.iter().map(account_of).collect();
        Signers { keys, ids }
    }

    /// Number of user accounts.
    pub fn users(&self) -> usize {
        self.keys.len() - 1
    }

    fn operator_index(&self) -> usize {
        self.keys.len() - 1
    }

    /// The operator's account (the genesis operator of the offline benches).
    pub fn operator(&self) -> AccountKey {
        self.ids[self.operator_index()]
    }

    /// The users' accounts.
    pub fn user_ids(&self) -> &[AccountKey] {
        &self.ids[..self.users()]
    }

    /// Signer `index`'s key.
    pub fn key(&self, index: usize) -> &SigningKey {
        &self.keys[index]
    }
}

/// Registrations (each account, nonce 1) then one operator deposit per account: `(signer index, body)`.
pub fn setup_bodies(signers: &Signers, expiry: i64) -> Vec<(usize, RequestBody)> {
    let mut bodies = Vec::with_capacity(2 * signers.users());
    for i in 0..signers.users() {
        let command = Command::RegisterAccount {};
        bodies.push((i, RequestBody { signer: signers.ids[i], nonce: 1, expiry, command }));
    }
    let operator = signers.operator_index();
    for i in 0..signers.users() {
        let command = funding(signers.ids[i], format!("bench-deposit-{i}"));
        let nonce = i as u64 + 1;
        bodies.push((operator, RequestBody { signer: signers.ids[operator], nonce, expiry, command }));
    }
    bodies
}

/// The operator's attested deposit of [`FUNDING_TFT`] to `to`.
pub fn funding(to: AccountKey, external_tx_id: String) -> Command {
    let amount = Amount::from_units(Amount::<Tft>::tokens(FUNDING_TFT).units());
    Command::AttestDeposit { asset: Asset::Tft, to, amount, external_tx_id }
}

/// Pseudo-random transfers between accounts, with each signer's nonces in order (after registration's 1).
pub struct Transfers<'a> {
    ids: &'a [AccountKey],
    next_nonce: Vec<u64>,
    rng: XorShift,
}

impl<'a> Transfers<'a> {
    /// A stream between `ids` (at least two) from `seed`.
    pub fn new(ids: &'a [AccountKey], seed: u64) -> Self {
        Transfers { ids, next_nonce: vec![2; ids.len()], rng: XorShift(seed) }
    }

    /// The next transfer, valid until `expiry`: `(index of the signer in ids, body)`.
    pub fn next_body(&mut self, expiry: i64) -> (usize, RequestBody) {
        let (from, to) = self.rng.pair(self.ids.len());
        let nonce = self.next_nonce[from];
        self.next_nonce[from] += 1;
        let units = 1 + self.rng.below(1_000_000) as i128;
        let command =
            Command::Transfer { asset: Asset::Tft, to: self.ids[to], amount: Amount::from_units(units) };
        (from, RequestBody { signer: self.ids[from], nonce, expiry, command })
    }
}

/// The envelope the core applies for a body (the signature is checked by the server, not the core).
pub fn envelope_of(body: &RequestBody) -> Envelope {
    Envelope { signer: body.signer, nonce: body.nonce, command: body.command.clone() }
}

/// A signed journal entry, as the node's writer stores it (the journal's `NewEntry`).
pub struct SignedEntry {
    /// Writer's stamp, ms since the epoch.
    pub timestamp_ms: i64,
    /// The signer's public key.
    pub signer: [u8; 32],
    /// `SignedBody::to_payload()`: the format byte, then the body's JSON text as signed.
    pub payload: Vec<u8>,
    /// The 64-byte ed25519 signature of the payload's signing bytes.
    pub signature: Vec<u8>,
}

/// Signs `bodies` on `threads` threads; `keys[i]` signs the bodies of signer index `i`.
pub fn sign_entries(
    bodies: &[(usize, RequestBody)],
    keys: &[SigningKey],
    timestamp_ms: i64,
    threads: usize,
) -> Result<Vec<SignedEntry>> {
    let chunk = bodies.len().div_ceil(threads.max(1)).max(1);
    let sign = |part: &[(usize, RequestBody)]| -> Vec<SignedEntry> {
        part.iter()
            .map(|(signer, body)| {
                let signed = SignedBody::encode(body.clone());
                let payload = signed.to_payload();
                let bytes = signed.signing_bytes();
                let signature = keys[*signer].sign(&bytes).to_bytes().to_vec();
                SignedEntry { timestamp_ms, signer: body.signer.0, payload, signature }
            })
            .collect()
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = bodies.chunks(chunk).map(|part| scope.spawn(move || sign(part))).collect();
        let mut entries = Vec::with_capacity(bodies.len());
        for handle in handles {
            entries
                .extend(handle.join().map_err(|_| SimError::Task("a signing thread panicked".to_owned()))?);
        }
        Ok(entries)
    })
}

/// Applies a body to a state; a refusal ends the workload.
pub fn apply_body(state: &mut State, body: &RequestBody) -> Result<()> {
    state
        .apply(&envelope_of(body))
        .map(drop)
        .map_err(|rejection| SimError::Rejected { command: body.command.kind(), rejection })
}

/// A state with the setup applied (registrations and deposits).
pub fn funded_state(genesis: &Genesis, signers: &Signers) -> Result<State> {
    let mut state = State::new(genesis.clone());
    for (_, body) in setup_bodies(signers, 0) {
        apply_body(&mut state, &body)?;
    }
    Ok(state)
}

/// The replay corpus: the setup then transfers, `total` signed entries, and the hash of the state they build.
pub struct Corpus {
    /// The entries in order.
    pub entries: Vec<SignedEntry>,
    /// Setup entries at the start (registrations and deposits).
    pub setup_entries: usize,
    /// The state hash after applying every entry.
    pub state_hash: String,
}

/// Builds the corpus: each chunk of bodies is applied to a state (so all are valid on replay), then signed on
/// `threads` threads. Errors: `total` no larger than the setup, or a refused body.
pub fn build_corpus(genesis: &Genesis, signers: &Signers, total: usize, threads: usize) -> Result<Corpus> {
    let mut state = State::new(genesis.clone());
    let timestamp_ms = GENESIS_TIME * 1_000;
    let expiry = GENESIS_TIME + 3_600;
    let mut entries = Vec::with_capacity(total);
    let mut pending = setup_bodies(signers, expiry);
    let setup_entries = pending.len();
    check!(
        setup_entries < total,
        "the replay workload ({total}) is not larger than its setup ({setup_entries})"
    );
    let mut transfers = Transfers::new(signers.user_ids(), 0x2545_F491_4F6C_DD1D);
    loop {
        for (_, body) in &pending {
            apply_body(&mut state, body)?;
        }
        entries.extend(sign_entries(&pending, &signers.keys, timestamp_ms, threads)?);
        let remaining = total - entries.len();
        if remaining == 0 {
            break;
        }
        pending = (0..SIGN_CHUNK.min(remaining)).map(|_| transfers.next_body(expiry)).collect();
    }
    Ok(Corpus { entries, setup_entries, state_hash: state.state_hash() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_signed_valid_and_rebuilds_its_state() {
        let signers = Signers::new(4);
        let genesis = Genesis::tfgrid4_2025(signers.operator(), GENESIS_TIME);
        let corpus = build_corpus(&genesis, &signers, 30, 2).unwrap();
        assert_eq!((corpus.entries.len(), corpus.setup_entries), (30, 8));
        let mut state = State::new(genesis.clone());
        for entry in &corpus.entries {
            let signer = AccountKey(entry.signer);
            tfeco_core::request::verify_payload(&signer, &entry.payload, &entry.signature).unwrap();
            let body = SignedBody::from_payload(&entry.payload).unwrap();
            apply_body(&mut state, body.body()).unwrap();
        }
        assert_eq!(state.state_hash(), corpus.state_hash);
        assert!(build_corpus(&genesis, &signers, 8, 1).is_err(), "no larger than its setup");
        // Deterministic: the same signers build the same corpus.
        assert_eq!(build_corpus(&genesis, &signers, 30, 1).unwrap().state_hash, corpus.state_hash);
    }

    #[test]
    fn transfers_keep_each_signers_nonces_in_order() {
        let signers = Signers::new(3);
        let mut transfers = Transfers::new(signers.user_ids(), 9);
        let mut last = [1u64; 3];
        for _ in 0..50 {
            let (from, body) = transfers.next_body(0);
            assert_eq!(body.nonce, last[from] + 1);
            last[from] = body.nonce;
            let Command::Transfer { to, .. } = body.command else { panic!("a transfer") };
            assert_ne!(to, body.signer);
        }
    }
}
