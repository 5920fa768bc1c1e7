//! The reference model: a deliberately simple second implementation of accounts, nonces, balances per
//! account and asset, supplies, and the capacity market's lease charges ([`market`]), written from the
//! spec's rules for each command, sharing no code with the core beyond the money types and the command's
//! wire shape. Its data structures differ on purpose: one `HashMap` keyed by `(account, asset)` for every
//! balance (users and system accounts alike), a `HashMap` of nonces, its own running supply per asset, and
//! vectors indexed by id for farms, nodes and leases.
//!
//! The model executes every command the simulated clients send ([`Model::execute`]): it decides
//! acceptance and applies the changes. `RegisterAccount`, `Transfer`, `AttestDeposit` and
//! `AttestWithdrawal` (the operator is the only guardian, threshold 1; a re-sent attestation with the same
//! facts is an accepted no-op, with other facts a conflict), `RequestWithdrawal`, `LockTft`, `UnlockTfp`
//! (open at or above the entry parity), `EnterWithTft` and `EnterWithFiat` (the CC minted at the oracle's
//! prices, then the recipient's leases in grace resume), `SubmitPrice` ([`oracle`]), `RegisterFarm`,
//! `RegisterNode`, `SetSlicePrice`, `OpenLease`, `CancelLease` and `Tick` (billing every lease: charges,
//! revenue split, the burn's TFT counterpart, grace, resumption, expiry, cancellation; [`market`]), and for
//! every command authentication: an unregistered signer, a weak key, a nonce not above the last one or at
//! or above 2^63 is refused. Nothing is copied from the node: a difference is a finding.

mod market;
mod oracle;

use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use tfeco_core::request::NONCE_LIMIT;
use tfeco_core::{AccountKey, AccountRef, Command, Envelope, Genesis, State, SystemAccount};
use tfeco_money::Asset;

use market::Market;
use oracle::Oracle;

/// An account as the model names it: a user key, or a system account by its spec name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Holder {
    /// A user account.
    User([u8; 32]),
    /// A system account, by name (`vault`, `escrow.withdrawals`, ...).
    System(&'static str),
}

/// What the model says of one command; an accepted command is already applied to the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prediction {
    /// Accepted (and applied).
    Accept,
    /// Refused (the model does not predict which rejection, only that there is one).
    Refuse,
}

/// Balances and supplies.
#[derive(Clone, Debug, Default)]
pub(crate) struct Books {
    balances: HashMap<(Holder, Asset), i128>,
    supply: HashMap<Asset, i128>,
}

impl Books {
    fn balance(&self, holder: Holder, asset: Asset) -> i128 {
        self.balances.get(&(holder, asset)).copied().unwrap_or(0)
    }

    /// Applies balance changes; a transfer's two changes cancel out in the supply, a mint's or burn's do not.
    fn change(&mut self, changes: &[(Holder, Asset, i128)]) {
        for (holder, asset, delta) in changes {
            *self.balances.entry((*holder, *asset)).or_insert(0) += delta;
            *self.supply.entry(*asset).or_insert(0) += delta;
        }
    }
}

/// An attested external fact, by external id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fact {
    Deposit([u8; 32], Asset, i128),
    Withdrawal(u64),
}

/// A withdrawal request: asset, units, and the external id that paid it.
#[derive(Clone, Copy, Debug)]
struct Withdrawal {
    asset: Asset,
    units: i128,
    paid_by: Option<u64>,
}

/// The reference model's state.
#[derive(Clone, Debug)]
pub struct Model {
    operator: [u8; 32],
    nonces: HashMap<[u8; 32], u64>,
    weak: HashSet<[u8; 32]>,
    books: Books,
    /// Executed attestations by external id ([`id_key`]); shared between copies until one changes it.
    attestations: Arc<HashMap<u64, Fact>>,
    /// Withdrawal requests; withdrawal `k` is entry `k - 1`.
    withdrawals: Vec<Withdrawal>,
    /// Fiat payments credited, by payment id ([`id_key`]): recipient and USD units; shared like the
    /// attestations.
    payments: Arc<HashMap<u64, ([u8; 32], i128)>>,
    /// Keys that may attest fiat payments.
    payment_keys: Vec<[u8; 32]>,
    oracle: Oracle,
    market: Market,
    /// Longest text field (external ids, destinations), bytes.
    max_text_len: usize,
    /// Test hook: a deliberately wrong model ([`Model::set_mutation`]).
    mutation: Option<Mutation>,
}

/// A deliberate error in the model (a test hook): the checks must catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// A transfer credits one unit more than it debits.
    TransferCredit,
    /// A lease charge gives the treasury one unit of the farmer's share.
    LeaseSplit,
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
    /// The model at `genesis`: the operator registered, nothing held. `weak` keys are refused as signers
    /// of a registration.
    pub fn new(genesis: &Genesis, weak: &[[u8; 32]]) -> Self {
        let operator = genesis.params.operator.0;
        assert!(
            genesis.params.guardians == [AccountKey(operator)],
            "the model covers the operator as guardian"
        );
        let mut model = Model {
            operator,
            nonces: HashMap::from_iter([(operator, 0)]),
            weak: weak.iter().copied().collect(),
            books: Books::default(),
            attestations: Arc::default(),
            withdrawals: Vec::new(),
            payments: Arc::default(),
            payment_keys: genesis.params.fiat_payment_keys.iter().map(|k| k.0).collect(),
            oracle: Oracle::new(genesis),
            market: Market::new(genesis),
            max_text_len: genesis.params.max_text_len as usize,
            mutation: None,
        };
        model.weak.remove(&operator);
        model
    }

    /// Test hook: makes the model deliberately wrong, to show that the checks catch it.
    pub fn set_mutation(&mut self, mutation: Option<Mutation>) {
        self.mutation = mutation;
        self.market.mutate_split = mutation == Some(Mutation::LeaseSplit);
    }

    /// Lease billing the model has done (acknowledged commands only), by kind: `opened`, `charges`,
    /// `graces`, `resumes`, `closed`.
    pub fn lease_counts(&self) -> [(&'static str, u64); 5] {
        self.market.counts()
    }

    /// The last nonce of `key`, or `None` when it is not registered.
    pub fn nonce(&self, key: &[u8; 32]) -> Option<u64> {
        self.nonces.get(key).copied()
    }

    /// The balance of `holder` in `asset`.
    pub fn balance(&self, holder: Holder, asset: Asset) -> i128 {
        self.books.balance(holder, asset)
    }

    /// Executes `envelope`: decides acceptance and, when accepted, applies it (its nonce and changes).
    pub fn execute(&mut self, envelope: &Envelope) -> Prediction {
        let signer = envelope.signer.0;
        let registered = self.nonces.contains_key(&signer);
        let nonce_ok = envelope.nonce < NONCE_LIMIT
            && self.nonces.get(&signer).is_none_or(|last| envelope.nonce > *last)
            && envelope.nonce > 0;
        let prediction = match envelope.command {
            Command::RegisterAccount {} if !registered && !self.weak.contains(&signer) && nonce_ok => {
                Prediction::Accept
            }
            Command::RegisterAccount {} => Prediction::Refuse,
            _ if !registered || !nonce_ok => Prediction::Refuse,
            ref command => self.command(signer, command),
        };
        if prediction == Prediction::Accept {
            self.nonces.insert(signer, envelope.nonce);
        }
        prediction
    }

    /// Executes an authenticated command.
    fn command(&mut self, signer: [u8; 32], command: &Command) -> Prediction {
        let user = Holder::User(signer);
        let has = |books: &Books, asset: Asset, units: i128| units > 0 && books.balance(user, asset) >= units;
        let ok = match command {
            Command::Transfer { asset, to, amount } => {
                let units = amount.units();
                let ok = *asset != Asset::Cc
                    && to.0 != signer
                    && self.nonces.contains_key(&to.0)
                    && has(&self.books, *asset, units);
                let credit = if self.mutation == Some(Mutation::TransferCredit) { units + 1 } else { units };
                ok && self.apply(&[(user, *asset, -units), (Holder::User(to.0), *asset, credit)])
            }
            Command::AttestDeposit { asset, to, amount, external_tx_id } => {
                self.attest_deposit(signer, (*asset, to.0, amount.units()), external_tx_id)
            }
            Command::RequestWithdrawal { asset, amount, destination } => {
                let units = amount.units();
                let ok = matches!(asset, Asset::Tft | Asset::Usdc)
                    && has(&self.books, *asset, units)
                    && text_ok(destination, self.max_text_len);
                ok && self.request_withdrawal(user, *asset, units)
            }
            Command::AttestWithdrawal { withdrawal_id, external_tx_id } => {
                self.attest_withdrawal(signer, withdrawal_id.0, external_tx_id)
            }
            Command::LockTft { tft } => {
                let units = tft.units();
                has(&self.books, Asset::Tft, units)
                    && self.apply(&[
                        (user, Asset::Tft, -units),
                        (Holder::System("vault"), Asset::Tft, units),
                        (user, Asset::Tfp, units),
                    ])
            }
            Command::SubmitPrice { feed, price, observed_at } => {
                let now = self.market.now();
                let ok = signer == self.operator && self.oracle.submit(*feed, *price, *observed_at, now);
                if ok {
                    self.market.price_submitted(&mut self.books, &self.oracle);
                }
                ok
            }
            Command::EnterWithTft { tft } => self.enter_with_tft(signer, tft.units()),
            Command::EnterWithFiat { to, usd, payment_id } => {
                self.enter_with_fiat(signer, (to.0, usd.units()), payment_id)
            }
            Command::UnlockTfp { tfp } => self.unlock_tfp(signer, tfp.units()),
            market => self.market_command(signer, market),
        };
        if ok {
            Prediction::Accept
        } else {
            Prediction::Refuse
        }
    }

    /// Executes a capacity-market command or `Tick`; any other command is outside the model (the
    /// simulated clients send none) and is refused, which the node's acceptance would show.
    fn market_command(&mut self, signer: [u8; 32], command: &Command) -> bool {
        let market = &mut self.market;
        match command {
            Command::RegisterFarm { name } => market.register_farm(signer, name),
            Command::RegisterNode { farm_id, spec, offered_slices } => {
                market.register_node(signer, farm_id.0, spec, *offered_slices)
            }
            Command::SetSlicePrice { node_id, price } => {
                market.set_slice_price(signer, node_id.0, price.units())
            }
            Command::OpenLease { node_id, n_slices, billing, periods } => {
                let terms = (node_id.0, *n_slices, *billing);
                market.open_lease(&mut self.books, &self.oracle, signer, terms, *periods)
            }
            Command::CancelLease { lease_id } => market.cancel_lease(signer, lease_id.0),
            Command::Tick { now } => {
                market.tick(&mut self.books, &self.oracle, signer == self.operator, *now)
            }
            _ => false,
        }
    }

    /// `EnterWithTft`: TFT into the vault and the same TFP minted into `pool2.reserve`; CC minted to the
    /// user at the entry rate or the market (needs both prices, and at least one CC unit); then the user's
    /// leases in grace resume.
    fn enter_with_tft(&mut self, signer: [u8; 32], units: i128) -> bool {
        let user = Holder::User(signer);
        let prices = self.oracle.prices(self.market.now());
        let cc = prices
            .and_then(|p| self.oracle.entry_cc(p, units.unsigned_abs()))
            .and_then(|c| i128::try_from(c).ok());
        let Some(cc) = cc.filter(|cc| *cc > 0 && units > 0 && self.books.balance(user, Asset::Tft) >= units)
        else {
            return false;
        };
        self.apply(&[
            (user, Asset::Tft, -units),
            (Holder::System("vault"), Asset::Tft, units),
            (Holder::System("pool2.reserve"), Asset::Tfp, units),
            (user, Asset::Cc, cc),
        ]);
        self.market.resume_after_top_up(&mut self.books, &self.oracle, signer);
        true
    }

    /// `EnterWithFiat` by a payment key: `usd` paid by `to` mints `usd / cc_usd` CC to `to` (rounded down;
    /// needs only the gold price) and credits the USD to the treasury as USDC, once per payment id (the same
    /// id again with the same facts is an accepted no-op, with others a conflict); then `to`'s leases in
    /// grace resume.
    fn enter_with_fiat(&mut self, signer: [u8; 32], (to, usd): ([u8; 32], i128), payment_id: &str) -> bool {
        let key = id_key(payment_id);
        let valid = self.payment_keys.contains(&signer)
            && text_ok(payment_id, self.max_text_len)
            && usd > 0
            && self.nonces.contains_key(&to);
        if let (true, Some(done)) = (valid, self.payments.get(&key)) {
            return *done == (to, usd);
        }
        let per_usd =
            self.oracle.cc_usd(self.market.now()).and_then(|cc_usd| oracle::Frac::one().over(cc_usd));
        let cc = per_usd.and_then(|f| f.of_units(usd.unsigned_abs())).and_then(|c| i128::try_from(c).ok());
        let Some(cc) = cc.filter(|cc| valid && *cc > 0) else { return false };
        Arc::make_mut(&mut self.payments).insert(key, (to, usd));
        self.apply(&[(Holder::User(to), Asset::Cc, cc), (Holder::System("treasury"), Asset::Usdc, usd)]);
        self.market.resume_after_top_up(&mut self.books, &self.oracle, to);
        true
    }

    /// `UnlockTfp`: TFP burned and the same TFT out of the vault, open only at or above the entry parity.
    fn unlock_tfp(&mut self, signer: [u8; 32], units: i128) -> bool {
        let user = Holder::User(signer);
        let open = self.oracle.prices(self.market.now()).is_some_and(|p| !self.oracle.below_parity(p));
        open && units > 0
            && self.books.balance(user, Asset::Tfp) >= units
            && self.apply(&[
                (user, Asset::Tfp, -units),
                (Holder::System("vault"), Asset::Tft, -units),
                (user, Asset::Tft, units),
            ])
    }

    fn apply(&mut self, changes: &[(Holder, Asset, i128)]) -> bool {
        self.books.change(changes);
        true
    }

    fn attest_deposit(
        &mut self,
        signer: [u8; 32],
        (asset, to, units): (Asset, [u8; 32], i128),
        id: &str,
    ) -> bool {
        let ok = signer == self.operator
            && matches!(asset, Asset::Tft | Asset::Usdc)
            && units > 0
            && self.nonces.contains_key(&to)
            && text_ok(id, self.max_text_len);
        let fact = Fact::Deposit(to, asset, units);
        match self.attestations.get(&id_key(id)) {
            _ if !ok => false,
            Some(done) => *done == fact,
            None => {
                Arc::make_mut(&mut self.attestations).insert(id_key(id), fact);
                self.apply(&[(Holder::User(to), asset, units)])
            }
        }
    }

    fn request_withdrawal(&mut self, user: Holder, asset: Asset, units: i128) -> bool {
        self.withdrawals.push(Withdrawal { asset, units, paid_by: None });
        self.apply(&[(user, asset, -units), (Holder::System("escrow.withdrawals"), asset, units)])
    }

    /// `AttestWithdrawal`: the guardian attests a requested withdrawal paid; its escrow leaves the system.
    fn attest_withdrawal(&mut self, signer: [u8; 32], withdrawal_id: u64, id: &str) -> bool {
        let index = (withdrawal_id as usize).checked_sub(1).filter(|i| *i < self.withdrawals.len());
        let (Some(index), true) = (index, signer == self.operator) else { return false };
        let key = id_key(id);
        let Withdrawal { asset, units, paid_by } = self.withdrawals[index];
        let fact = Fact::Withdrawal(withdrawal_id);
        match self.attestations.get(&key) {
            _ if paid_by.is_some_and(|by| by != key) || !text_ok(id, self.max_text_len) => false,
            Some(done) => *done == fact,
            None => {
                Arc::make_mut(&mut self.attestations).insert(key, fact);
                self.withdrawals[index].paid_by = Some(key);
                self.apply(&[(Holder::System("escrow.withdrawals"), asset, -units)])
            }
        }
    }

    /// Compares every balance and supply, and the open leases (every lease when `full`), with the node's
    /// state; returns the differences.
    pub fn compare(&self, state: &State, full: bool) -> Vec<String> {
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
            let supply = self.books.supply.get(&asset).copied().unwrap_or(0);
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
        differences.extend(self.market.compare(state, full));
        differences
    }
}

/// A text field the node accepts: not blank, at most `max_len` bytes, no control characters.
fn text_ok(text: &str, max_len: usize) -> bool {
    !text.trim().is_empty() && text.len() <= max_len && !text.chars().any(char::is_control)
}

/// An external id as a number (64-bit FNV-1a), so that copying the model copies no strings.
fn id_key(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The first bytes of a key in hex, for messages.
pub fn short(key: &[u8; 32]) -> String {
    key[..4].iter().map(|b| format!("{b:02x}")).collect()
}
