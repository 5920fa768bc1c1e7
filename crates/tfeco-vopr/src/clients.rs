//! Simulated clients: a seeded generator of valid and invalid commands from a small cast (the operator,
//! users, a key that never registers and a weak, small-order key), and the front door every request
//! passes before the writer, as `POST /v1/tx` does (strict key decoding, signature, nonce bound, expiry).
//!
//! Signatures are expensive next to the rest of the path, so most requests skip them: they carry a dummy
//! signature and enter as already verified (the replica never re-checks one). About three requests in a
//! hundred take the signed path through the front door: a valid one, a replayed one (an earlier signed
//! request sent again) and an attack (a forged signature, a weak signer key, or an expired request).

use ed25519_dalek::SigningKey;
use tfeco_core::request::{strict_key, NONCE_LIMIT};
use tfeco_core::{
    AccountKey, Billing, Command, FarmId, LeaseId, NodeId, NodeSpec, PriceFeed, RequestBody, SignedBody,
    State, WithdrawalId,
};
use tfeco_money::{Amount, Asset, Price};
use tfeco_server::replica::{BatchItem, SignedRequest};

use crate::model::{Holder, Model};
use crate::rng::Rng;

/// Users besides the operator.
pub const USERS: usize = 8;

/// The most TFT units a lean user enters with at once (10 TFT: about 5 CC at the simulated prices).
const LEAN_ENTRY: i128 = 10 * 10i128.pow(tfeco_money::DECIMALS);

/// The cast of one run: the operator (index 0), the users, a stranger (never registers on purpose, but
/// may try) and a weak key (the small-order identity point, which must never register).
pub struct Cast {
    /// Signing keys: operator, users, stranger.
    pub keys: Vec<SigningKey>,
    /// Their public keys, then the weak key last.
    pub accounts: Vec<[u8; 32]>,
}

/// The weak key: the encoding of the identity point (small order).
pub const WEAK_KEY: [u8; 32] = {
    let mut k = [0u8; 32];
    k[0] = 1;
    k
};

impl Cast {
    /// The cast of `seed`: keys derived from the seed.
    pub fn new(seed: u64) -> Self {
        let keys: Vec<SigningKey> = (0..USERS + 2)
            .map(|i| {
                let mut h = blake3::Hasher::new();
                h.update(b"tfeco-vopr/key");
                h.update(&seed.to_le_bytes());
                h.update(&(i as u64).to_le_bytes());
                SigningKey::from_bytes(h.finalize().as_bytes())
            })
            .collect();
        let mut accounts: Vec<[u8; 32]> = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
        accounts.push(WEAK_KEY);
        Cast { keys, accounts }
    }

    /// The operator's key.
    pub fn operator(&self) -> &SigningKey {
        &self.keys[0]
    }
}

/// How a request reaches the writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Treated as verified, with a dummy signature (the fast path).
    Trusted,
    /// Signed for real and checked by the front door.
    Signed,
    /// An attack the front door must refuse: forged signature, weak key, expired.
    Attack(&'static str),
    /// The operator's tick, signed by the replica itself when applied.
    Internal,
}

/// One generated request.
pub struct Generated {
    /// What goes to the writer (after the front door, for signed paths).
    pub item: BatchItem,
    /// The path it takes.
    pub path: Path,
}

/// The seeded command generator of one run.
pub struct Clients {
    rng: Rng,
    cast: Cast,
    /// Nonces handed out in the batch being built, above the model's (reset per batch).
    pending: std::collections::HashMap<[u8; 32], u64>,
    counter: u64,
    /// Signed requests already sent, for replays.
    sent: Vec<SignedRequest>,
}

impl Clients {
    /// The generator of `seed`.
    pub fn new(seed: u64) -> Self {
        Clients {
            rng: Rng::derive(seed, 2),
            cast: Cast::new(seed),
            pending: Default::default(),
            counter: 0,
            sent: Vec::new(),
        }
    }

    /// The cast.
    pub fn cast(&self) -> &Cast {
        &self.cast
    }

    /// Starts a new batch (the nonces of the last one are now in the model, or were lost).
    pub fn new_batch(&mut self) {
        self.pending.clear();
    }

    /// A nonce for `key`: usually the next one, sometimes reused, skipped ahead or out of range.
    fn nonce(&mut self, key: [u8; 32], model: &Model) -> u64 {
        // The model's nonce may be past a handed-out one: the operator's internal tick takes the next.
        let last = self.pending.get(&key).copied().max(model.nonce(&key)).unwrap_or(0);
        let nonce = match self.rng.below(100) {
            0..=2 => last.saturating_sub(self.rng.below(3)),
            3 => last + 2 + self.rng.below(5),
            4 => NONCE_LIMIT + self.rng.below(10),
            _ => last + 1,
        };
        if nonce > last && nonce < NONCE_LIMIT {
            self.pending.insert(key, nonce);
        }
        nonce
    }

    /// An amount: a share of `balance` mostly; zero, negative, or more than the balance sometimes.
    fn amount(&mut self, balance: i128) -> i128 {
        match self.rng.below(100) {
            0..=4 => 0,
            5..=7 => -(1 + self.rng.below(1_000_000) as i128),
            8..=14 => balance + 1 + self.rng.below(1_000_000) as i128,
            _ if balance <= 0 => 1 + self.rng.below(100_000_000) as i128,
            _ => 1 + (balance * self.rng.below(100) as i128) / 100,
        }
    }

    /// Generates the next request at simulated time `now_s`.
    pub fn next(&mut self, model: &Model, state: &State, now_s: i64) -> Generated {
        self.counter += 1;
        let actor = match self.rng.below(100) {
            0..=2 => 0,
            3 => USERS + 1,
            4 => USERS + 2,
            _ => 1 + self.rng.index(USERS),
        };
        let mut signer = self.cast.accounts[actor];
        let command = if model.nonce(&signer).is_none() && self.rng.below(10) < 6 {
            Command::RegisterAccount {}
        } else {
            self.command(signer, model, state, now_s)
        };
        let mut actor = actor;
        if operator_only(&command) && self.rng.below(10) != 0 {
            actor = 0;
            signer = self.cast.accounts[0];
        }
        if matches!(command, Command::Tick { .. }) && self.rng.below(4) == 0 {
            return Generated { item: BatchItem::Internal(command), path: Path::Internal };
        }
        let nonce = self.nonce(signer, model);
        let body = RequestBody { signer: AccountKey(signer), nonce, expiry: now_s + 60, command };
        match (self.rng.below(100), actor) {
            (0, _) if !self.sent.is_empty() => {
                let replayed = self.sent[self.rng.index(self.sent.len())].clone();
                Generated { item: BatchItem::Signed(replayed), path: Path::Signed }
            }
            (1, a) if a <= USERS + 1 => self.signed(body, actor),
            (2, a) if a <= USERS + 1 => self.attack(body, actor),
            _ => {
                let body = SignedBody::encode(body);
                Generated {
                    item: BatchItem::Signed(SignedRequest { body, signature: vec![0; 64] }),
                    path: Path::Trusted,
                }
            }
        }
    }

    fn signed(&mut self, body: RequestBody, actor: usize) -> Generated {
        let request = SignedRequest::sign(&self.cast.keys[actor], body.nonce, body.expiry, body.command);
        if self.sent.len() < 64 {
            self.sent.push(request.clone());
        }
        Generated { item: BatchItem::Signed(request), path: Path::Signed }
    }

    fn attack(&mut self, mut body: RequestBody, actor: usize) -> Generated {
        let (kind, key) = match self.rng.below(3) {
            0 => ("forged_signature", &self.cast.keys[(actor + 1) % self.cast.keys.len()]),
            1 => {
                body.signer = AccountKey(WEAK_KEY);
                ("weak_key", &self.cast.keys[actor])
            }
            _ => {
                body.expiry -= 3_600;
                ("expired", &self.cast.keys[actor])
            }
        };
        // The body names its signer; the signature is by `key` (another key, for a forgery).
        let encoded = SignedBody::encode(body);
        let signature = ed25519_dalek::Signer::sign(key, &encoded.signing_bytes()).to_bytes().to_vec();
        let request = SignedRequest { body: encoded, signature };
        Generated { item: BatchItem::Signed(request), path: Path::Attack(kind) }
    }

    /// A lean user (the last half of the users) enters with little at a time, so its leases run out of
    /// CC, go into grace, resume after a top-up or close.
    fn lean(&self, key: &[u8; 32]) -> bool {
        self.cast.accounts[USERS / 2 + 1..=USERS].contains(key)
    }

    /// Mostly an id of `ids` (what the client sees in the API), sometimes any small number.
    fn id_of(&mut self, ids: &[u64], n: u32) -> u64 {
        if ids.is_empty() || self.rng.below(5) == 0 {
            1 + u64::from(n)
        } else {
            *self.rng.pick(ids)
        }
    }

    /// A command for `signer`: every kind the model covers, and the others it re-syncs after.
    fn command(&mut self, signer: [u8; 32], model: &Model, state: &State, now_s: i64) -> Command {
        let user = Holder::User(signer);
        let other = AccountKey(*self.rng.pick(&self.cast.accounts));
        let asset = *self.rng.pick(&[Asset::Tft, Asset::Tft, Asset::Usdc, Asset::Tfp, Asset::Cc]);
        let n = self.rng.below(12) as u32;
        let mut roll = self.rng.below(100);
        if (68..=73).contains(&roll) && self.lean(&signer) && self.rng.below(5) != 0 {
            roll = 83; // a lean user enters seldom and opens leases instead
        }
        if in_grace(state, signer) && self.rng.below(3) == 0 {
            roll = 68; // a tenant told its lease is in grace tops up
        } else if self.rng.below(4) == 0 && has_unlisted_node(state, signer) {
            roll = 81; // a farmer lists a new node
        }
        match roll {
            0..=4 => Command::RegisterAccount {},
            5..=34 => {
                let amount = Amount::from_units(self.amount(model.balance(user, asset)));
                Command::Transfer { asset, to: other, amount }
            }
            35..=49 => {
                let units = if self.rng.below(10) == 0 {
                    self.amount(0)
                } else {
                    1 + self.rng.below(100_000_000_000) as i128
                };
                // A bounded pool of ids: re-sent and conflicting attestations, and a state that stays small.
                let id = format!("dep-{}", self.rng.below(self.counter.clamp(1, 256)));
                Command::AttestDeposit {
                    asset,
                    to: other,
                    amount: Amount::from_units(units),
                    external_tx_id: id,
                }
            }
            50..=55 => {
                let amount = Amount::from_units(self.amount(model.balance(user, asset)));
                Command::RequestWithdrawal { asset, amount, destination: format!("addr-{n}") }
            }
            56..=61 => {
                Command::LockTft { tft: Amount::from_units(self.amount(model.balance(user, Asset::Tft))) }
            }
            62..=64 => {
                Command::UnlockTfp { tfp: Amount::from_units(self.amount(model.balance(user, Asset::Tfp))) }
            }
            65..=67 => {
                let (feed, price) = if self.rng.below(2) == 0 {
                    (PriceFeed::TftUsd, "0.05")
                } else {
                    (PriceFeed::GoldUsdPerOz, "3110.34768")
                };
                let price: Price = price.parse().expect("a valid price");
                // Observed at the node's time mostly; sometimes at the clock's, which may be ahead of it.
                let at = if self.rng.below(10) == 0 { now_s } else { now_s.min(state.now()) };
                Command::SubmitPrice { feed, price, observed_at: at - self.rng.below(120) as i64 }
            }
            68..=71 => {
                let balance = model.balance(user, Asset::Tft);
                let tft = if self.lean(&signer) {
                    self.amount(balance.min(LEAN_ENTRY))
                } else {
                    self.amount(balance)
                };
                Command::EnterWithTft { tft: Amount::from_units(tft) }
            }
            72..=73 => Command::EnterWithFiat {
                to: other,
                usd: Amount::from_units(self.amount(if self.lean(&other.0) {
                    LEAN_ENTRY / 20
                } else {
                    1_000_000_000
                })),
                payment_id: format!("pay-{}", self.rng.below(self.counter.clamp(1, 256))),
            },
            roll => self.market_command(roll, AccountKey(signer), state, n, now_s),
        }
    }

    /// Farms, nodes, prices, leases, attested withdrawals and ticks (`roll` in 74..100), on ids the
    /// signer can see.
    fn market_command(&mut self, roll: u64, owner: AccountKey, state: &State, n: u32, now_s: i64) -> Command {
        let capacity = state.capacity();
        let farms = || capacity.farms_of(owner).map(|f| u64::from(f.id.0)).collect::<Vec<_>>();
        let nodes = || capacity.nodes().keys().map(|id| u64::from(id.0)).collect::<Vec<_>>();
        let own_nodes = || {
            capacity
                .farms_of(owner)
                .flat_map(|f| f.nodes.iter().map(|id| u64::from(id.0)))
                .collect::<Vec<_>>()
        };
        let leases =
            || capacity.leases().values().filter(|l| l.tenant == owner).map(|l| l.id.0).collect::<Vec<_>>();
        match roll {
            74..=76 => Command::RegisterFarm { name: format!("farm-{n}") },
            77..=80 => Command::RegisterNode {
                farm_id: FarmId(self.id_of(&farms(), n) as u32),
                spec: NodeSpec::Model { model: (*self.rng.pick(&["Mini 1", "Mini 3", "Nope"])).to_owned() },
                offered_slices: None,
            },
            81..=82 => Command::SetSlicePrice {
                node_id: NodeId(self.id_of(&unlisted_first(state, &own_nodes()), n) as u32),
                price: Amount::from_units(if self.rng.below(10) == 0 {
                    self.amount(50_000_000)
                } else {
                    12_000_000 + self.rng.below(120_000_000) as i128
                }),
            },
            83..=88 => Command::OpenLease {
                node_id: NodeId(self.id_of(&nodes(), n) as u32),
                n_slices: 1 + self.rng.below(3) as u32,
                billing: if self.rng.below(2) == 0 { Billing::Hourly } else { Billing::Monthly },
                periods: if self.rng.below(2) == 0 { None } else { Some(1 + n % 4) },
            },
            89..=90 => Command::CancelLease { lease_id: LeaseId(self.id_of(&leases(), n)) },
            91..=92 => Command::AttestWithdrawal {
                withdrawal_id: WithdrawalId(1 + u64::from(n)),
                external_tx_id: format!("wd-{n}"),
            },
            _ => self.tick(state, now_s),
        }
    }
}

impl Clients {
    /// A `Tick`: mostly to the clock's time, in steps the node accepts (the operator splits a long quiet
    /// stretch); sometimes back in time or one second past the largest step (both refused).
    fn tick(&mut self, state: &State, now_s: i64) -> Command {
        let last_step = state.now().saturating_add(state.params().max_tick_advance_s);
        let now = match self.rng.below(20) {
            0 | 1 => now_s - 1 - self.rng.below(7_200) as i64,
            2 => last_step + 1,
            _ => (now_s + self.rng.below(30) as i64).min(last_step),
        };
        Command::Tick { now }
    }
}

/// `ids` of nodes, those without a price (if any) only.
fn unlisted_first(state: &State, ids: &[u64]) -> Vec<u64> {
    let unlisted: Vec<u64> = ids.iter().copied().filter(|id| unlisted(state, NodeId(*id as u32))).collect();
    if unlisted.is_empty() {
        ids.to_vec()
    } else {
        unlisted
    }
}

/// `true` when `owner` has a node without a price.
fn has_unlisted_node(state: &State, owner: [u8; 32]) -> bool {
    state.capacity().farms_of(AccountKey(owner)).flat_map(|f| &f.nodes).any(|id| unlisted(state, *id))
}

/// `true` when node `id` exists and has no price yet.
fn unlisted(state: &State, id: NodeId) -> bool {
    state.capacity().nodes().get(&id).is_some_and(|node| node.price.is_none())
}

/// `true` when `tenant` has a lease in grace.
fn in_grace(state: &State, tenant: [u8; 32]) -> bool {
    let leases = state.capacity().leases();
    leases.values().rev().take(64).any(|l| {
        l.tenant.0 == tenant && matches!(l.status, tfeco_core::slices::capacity::LeaseStatus::Grace { .. })
    })
}

/// Commands only the operator (the one guardian and payment key) may sign; sent by others now and then.
fn operator_only(command: &Command) -> bool {
    matches!(
        command,
        Command::AttestDeposit { .. }
            | Command::AttestWithdrawal { .. }
            | Command::SubmitPrice { .. }
            | Command::EnterWithFiat { .. }
            | Command::Tick { .. }
    )
}

/// The front door of `POST /v1/tx` for a signed request at `now_s`: the signer's key decodes strictly
/// (canonical, not of small order), the signature verifies, the nonce is below 2^63, the expiry has not
/// passed and is at most `max_expiry_s` ahead. Errors: what was refused.
pub fn front_door(request: &SignedRequest, now_s: i64, max_expiry_s: i64) -> Result<(), &'static str> {
    let body = request.body.body();
    let key = strict_key(&body.signer).map_err(|_| "bad_signature (weak or invalid key)")?;
    request.body.verify_with_key(&key, &request.signature).map_err(|_| "bad_signature")?;
    if body.nonce >= NONCE_LIMIT {
        return Err("nonce_out_of_range");
    }
    if body.expiry < now_s {
        return Err("request_expired");
    }
    if body.expiry > now_s.saturating_add(max_expiry_s) {
        return Err("expiry_too_far");
    }
    Ok(())
}
