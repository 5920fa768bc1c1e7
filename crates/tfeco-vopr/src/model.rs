//! The reference model: a deliberately simple second implementation of accounts, nonces, balances per
//! account and asset, and supplies, written from the spec's rules for each command, sharing no code with
//! the core beyond the money types and the command's wire shape. Its data structures differ on purpose: one
//! `HashMap` keyed by `(account, asset)` for every balance (users and system accounts alike), a `HashMap`
//! of nonces, and its own running supply per asset.
//!
//! **Modelled** commands (the model predicts acceptance and the exact balance changes): `RegisterAccount`,
//! `Transfer`, `AttestDeposit` (the operator is the only guardian, threshold 1; a re-sent attestation with
//! the same facts is an accepted no-op, with other facts a conflict), `RequestWithdrawal`, `LockTft`, and,
//! for every command, authentication: an unregistered signer, a weak key, a nonce not above the last one or
//! at or above 2^63 is refused. The runner compares the model's prediction with the node's outcome for every
//! command and the balances and supplies after every batch.
//!
//! **Partly modelled** (the acceptance is the node's, the changes the model's): `EnterWithTft` (TFT to the
//! vault, the same TFP minted into `pool2.reserve`; only the CC minted, which depends on the oracle's
//! prices, is re-synchronised), `EnterWithFiat` (the USD credited to the treasury as USDC, once per payment
//! id; the CC minted is re-synchronised) and `UnlockTfp` (TFP burned, the same TFT out of the vault; open
//! only at or above parity).
//!
//! **Not modelled** (prices, leases and billing, farms and nodes, ticks, attested withdrawals): the model
//! only predicts the authentication refusals; for an accepted one it follows the node and then
//! re-synchronises exactly the balances the command may touch ([`Touch`]): the signer's and the named
//! account's (all accounts for ticks and leases, which bill every lessee and pay every farmer), and the
//! system accounts. Every followed outcome and re-sync is counted by command kind in the report, never
//! silent.

use std::collections::{HashMap, HashSet};

use tfeco_core::request::NONCE_LIMIT;
use tfeco_core::{AccountKey, AccountRef, Command, Envelope, State, SystemAccount};
use tfeco_money::Asset;

/// An account as the model names it: a user key, or a system account by its spec name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Holder {
    /// A user account.
    User([u8; 32]),
    /// A system account, by name (`vault`, `escrow.withdrawals`, ...).
    System(&'static str),
}

/// What the model predicts for one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prediction {
    /// Accepted, with these balance changes `(holder, asset, delta)`.
    Accept(Vec<(Holder, Asset, i128)>),
    /// Refused (the model does not predict which rejection, only that there is one).
    Refuse,
    /// Not modelled: the node's outcome is followed, and then these accounts are re-synchronised.
    Follow(Touch),
}

/// Which balances an unmodelled command may change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Touch {
    /// These users, and the system accounts.
    Users(Vec<[u8; 32]>),
    /// Every account (ticks, leases).
    All,
    /// A command modelled except for a price-dependent CC amount (entry with TFT or fiat) or except its
    /// acceptance (an unlock, open only at or above parity): when the node accepts it, these exact changes,
    /// then only the CC balance of `cc_of` (and the CC supply) is re-synchronised.
    Partial {
        /// The exact changes `(holder, asset, delta)`.
        changes: Vec<(Holder, Asset, i128)>,
        /// The account whose minted CC depends on the oracle's prices.
        cc_of: Option<[u8; 32]>,
    },
}

/// The reference model's state.
#[derive(Clone, Debug, Default)]
pub struct Model {
    operator: [u8; 32],
    nonces: HashMap<[u8; 32], u64>,
    weak: HashSet<[u8; 32]>,
    balances: HashMap<(Holder, Asset), i128>,
    supply: HashMap<Asset, i128>,
    /// Executed deposit attestations by external id ([`id_key`]): `(to, asset, units)`.
    deposits: HashMap<u64, ([u8; 32], Asset, i128)>,
    /// Fiat payments credited, by payment id ([`id_key`]).
    payments: HashSet<u64>,
    /// Test hook: a deliberately wrong model (a transfer's credit off by one unit), to show the checks fail.
    pub mutated: bool,
}

/// The spec names of the system accounts (the model's own table, not the core's).
const SYSTEM: [(SystemAccount, &str); 10] = [
    (SystemAccount::Vault, "vault"),
    (SystemAccount::Pool2Reserve, "pool2.reserve"),
    (SystemAccount::ExitPoolUsdc, "exit_pool.usdc"),
    (SystemAccount::ExitPoolTfp, "exit_pool.tfp"),
    (SystemAccount::Treasury, "treasury"),
    (SystemAccount::EscrowWithdrawals, "escrow.withdrawals"),
    (SystemAccount::EscrowStandingBids, "escrow.standing_bids"),
    (SystemAccount::EscrowCapacityRequests, "escrow.capacity_requests"),
    (SystemAccount::VestingLocked, "vesting.locked"),
    (SystemAccount::EscrowOrders, "escrow.orders"),
];

impl Model {
    /// The model at genesis: the operator registered, nothing held. `weak` keys are refused as signers of
    /// a registration.
    pub fn new(operator: [u8; 32], weak: &[[u8; 32]]) -> Self {
        let mut model = Model { operator, weak: weak.iter().copied().collect(), ..Model::default() };
        model.nonces.insert(operator, 0);
        model
    }

    /// The last nonce of `key`, or `None` when it is not registered.
    pub fn nonce(&self, key: &[u8; 32]) -> Option<u64> {
        self.nonces.get(key).copied()
    }

    /// The balance of `holder` in `asset`.
    pub fn balance(&self, holder: Holder, asset: Asset) -> i128 {
        self.balances.get(&(holder, asset)).copied().unwrap_or(0)
    }

    /// Predicts the outcome of `envelope`.
    pub fn predict(&self, envelope: &Envelope) -> Prediction {
        let signer = envelope.signer.0;
        let registered = self.nonces.contains_key(&signer);
        if let Command::RegisterAccount {} = envelope.command {
            let fresh = !registered && !self.weak.contains(&signer) && envelope.nonce < NONCE_LIMIT;
            return if fresh && envelope.nonce > 0 {
                Prediction::Accept(Vec::new())
            } else {
                Prediction::Refuse
            };
        }
        let last = self.nonces.get(&signer).copied();
        if last.is_none_or(|last| envelope.nonce <= last) || envelope.nonce >= NONCE_LIMIT {
            return Prediction::Refuse;
        }
        self.predict_command(signer, &envelope.command)
    }

    fn predict_command(&self, signer: [u8; 32], command: &Command) -> Prediction {
        let user = Holder::User(signer);
        let enough = |asset: Asset, units: i128| units > 0 && self.balance(user, asset) >= units;
        match command {
            Command::Transfer { asset, to, amount } => {
                let units = amount.units();
                let ok = *asset != Asset::Cc
                    && units > 0
                    && to.0 != signer
                    && self.nonces.contains_key(&to.0)
                    && enough(*asset, units);
                let credit = if self.mutated { units + 1 } else { units };
                accept_if(ok, vec![(user, *asset, -units), (Holder::User(to.0), *asset, credit)])
            }
            Command::AttestDeposit { asset, to, amount, external_tx_id } => {
                self.predict_deposit(signer, (*asset, to.0, amount.units()), external_tx_id)
            }
            Command::RequestWithdrawal { asset, amount, destination } => {
                let units = amount.units();
                let ok = matches!(asset, Asset::Tft | Asset::Usdc)
                    && enough(*asset, units)
                    && !destination.is_empty()
                    && destination.len() <= 256;
                accept_if(
                    ok,
                    vec![(user, *asset, -units), (Holder::System("escrow.withdrawals"), *asset, units)],
                )
            }
            Command::LockTft { tft } => {
                let units = tft.units();
                accept_if(
                    enough(Asset::Tft, units),
                    vec![
                        (user, Asset::Tft, -units),
                        (Holder::System("vault"), Asset::Tft, units),
                        (user, Asset::Tfp, units),
                    ],
                )
            }
            Command::Tick { .. } | Command::OpenLease { .. } | Command::CancelLease { .. } => {
                Prediction::Follow(Touch::All)
            }
            Command::EnterWithTft { tft } => Prediction::Follow(Touch::Partial {
                changes: vec![
                    (user, Asset::Tft, -tft.units()),
                    (Holder::System("vault"), Asset::Tft, tft.units()),
                    (Holder::System("pool2.reserve"), Asset::Tfp, tft.units()),
                ],
                cc_of: Some(signer),
            }),
            Command::UnlockTfp { tfp } => Prediction::Follow(Touch::Partial {
                changes: vec![
                    (user, Asset::Tfp, -tfp.units()),
                    (Holder::System("vault"), Asset::Tft, -tfp.units()),
                    (user, Asset::Tft, tfp.units()),
                ],
                cc_of: None,
            }),
            Command::EnterWithFiat { to, usd, payment_id } => {
                let fresh = !self.payments.contains(&id_key(payment_id));
                let changes =
                    if fresh { vec![(Holder::System("treasury"), Asset::Usdc, usd.units())] } else { vec![] };
                Prediction::Follow(Touch::Partial { changes, cc_of: Some(to.0) })
            }
            _ => Prediction::Follow(Touch::Users(vec![signer])),
        }
    }

    fn predict_deposit(
        &self,
        signer: [u8; 32],
        (asset, to, units): (Asset, [u8; 32], i128),
        id: &str,
    ) -> Prediction {
        let ok = signer == self.operator
            && matches!(asset, Asset::Tft | Asset::Usdc)
            && units > 0
            && self.nonces.contains_key(&to)
            && !id.is_empty()
            && id.len() <= 256;
        match self.deposits.get(&id_key(id)) {
            _ if !ok => Prediction::Refuse,
            Some(done) if *done == (to, asset, units) => Prediction::Accept(Vec::new()),
            Some(_) => Prediction::Refuse,
            None => Prediction::Accept(vec![(Holder::User(to), asset, units)]),
        }
    }

    /// Applies an accepted command: its nonce, and the predicted changes (or, for an unmodelled one, a
    /// re-sync from `state` of what it touches). Returns the command kind when it was re-synchronised.
    pub fn apply(
        &mut self,
        envelope: &Envelope,
        prediction: &Prediction,
        state: &State,
    ) -> Option<&'static str> {
        let signer = envelope.signer.0;
        self.nonces.insert(signer, envelope.nonce);
        if let (Command::AttestDeposit { asset, to, amount, external_tx_id }, Prediction::Accept(_)) =
            (&envelope.command, prediction)
        {
            self.deposits.entry(id_key(external_tx_id)).or_insert((to.0, *asset, amount.units()));
        }
        if let Command::EnterWithFiat { payment_id, .. } = &envelope.command {
            self.payments.insert(id_key(payment_id));
        }
        match prediction {
            Prediction::Accept(changes) => {
                self.change(changes);
                None
            }
            Prediction::Refuse => None,
            Prediction::Follow(Touch::Partial { changes, cc_of }) => {
                self.change(changes);
                if let Some(user) = cc_of {
                    let units = state.ledger().balance(AccountRef::User(AccountKey(*user)), Asset::Cc);
                    self.balances.insert((Holder::User(*user), Asset::Cc), units);
                    self.supply.insert(Asset::Cc, state.ledger().supply(Asset::Cc));
                }
                Some(envelope.command.kind())
            }
            Prediction::Follow(touch) => {
                self.resync(touch, state);
                Some(envelope.command.kind())
            }
        }
    }

    /// The operator's tick signed by the node itself (its nonce: the next one), accepted: every account
    /// is re-synchronised.
    pub fn internal_tick(&mut self, state: &State) {
        *self.nonces.entry(self.operator).or_insert(0) += 1;
        self.resync(&Touch::All, state);
    }

    /// Applies balance changes; a transfer's two changes cancel out in the supply, a mint's one does not.
    fn change(&mut self, changes: &[(Holder, Asset, i128)]) {
        for (holder, asset, delta) in changes {
            *self.balances.entry((*holder, *asset)).or_insert(0) += delta;
            *self.supply.entry(*asset).or_insert(0) += delta;
        }
    }

    /// Copies the touched balances and the supplies from the node (after an unmodelled command).
    fn resync(&mut self, touch: &Touch, state: &State) {
        let ledger = state.ledger();
        let users: Vec<[u8; 32]> = match touch {
            Touch::Users(users) => users.clone(),
            Touch::All => self.nonces.keys().copied().collect(),
            Touch::Partial { .. } => return,
        };
        for asset in Asset::ALL {
            for user in &users {
                self.balances.insert(
                    (Holder::User(*user), asset),
                    ledger.balance(AccountRef::User(AccountKey(*user)), asset),
                );
            }
            for (system, name) in SYSTEM {
                self.balances
                    .insert((Holder::System(name), asset), ledger.balance(AccountRef::System(system), asset));
            }
            self.supply.insert(asset, ledger.supply(asset));
        }
    }

    /// Compares every balance and supply with the node's state; returns the differences.
    pub fn compare(&self, state: &State) -> Vec<String> {
        let ledger = state.ledger();
        let mut differences = Vec::new();
        for asset in Asset::ALL {
            let mut sum = 0i128;
            for user in self.nonces.keys() {
                let ours = self.balance(Holder::User(*user), asset);
                sum += ours;
                let theirs = ledger.balance(AccountRef::User(AccountKey(*user)), asset);
                if ours != theirs {
                    differences
                        .push(format!("{asset:?} balance of {}: model {ours}, node {theirs}", short(user)));
                }
            }
            for (system, name) in SYSTEM {
                let ours = self.balance(Holder::System(name), asset);
                sum += ours;
                let theirs = ledger.balance(AccountRef::System(system), asset);
                if ours != theirs {
                    differences.push(format!("{asset:?} balance of {name}: model {ours}, node {theirs}"));
                }
            }
            let supply = self.supply.get(&asset).copied().unwrap_or(0);
            if sum != supply || supply != ledger.supply(asset) {
                differences.push(format!(
                    "{asset:?} supply: model {supply} (its balances sum to {sum}), node {}",
                    ledger.supply(asset)
                ));
            }
        }
        if ledger.accounts().len() != self.nonces.len() {
            differences.push(format!(
                "accounts: model {}, node {}",
                self.nonces.len(),
                ledger.accounts().len()
            ));
        }
        differences
    }
}

/// An external id as a number (64-bit FNV-1a), so that copying the model copies no strings.
fn id_key(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn accept_if(ok: bool, changes: Vec<(Holder, Asset, i128)>) -> Prediction {
    if ok {
        Prediction::Accept(changes)
    } else {
        Prediction::Refuse
    }
}

/// The first bytes of a key in hex, for messages.
pub fn short(key: &[u8; 32]) -> String {
    key[..4].iter().map(|b| format!("{b:02x}")).collect()
}
