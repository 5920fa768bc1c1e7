//! The ledger: accounts (registration, nonces), balances and per-asset totals, and the `Transfer` command.
//! It is the only module that changes balances, and only through postings (transfer, mint, burn) that are
//! validated as a whole plan before any is applied.
//!
//! Lock and release are transfers to and from system accounts (`vault`, `escrow.*`); the events name them.
//!
//! Conservation is checked two ways (issue 10, item 9): [`Ledger::check_conservation`] compares, per asset, a
//! running total of all balances (kept by every credit and debit) with the flows across the boundary
//! (`deposited + minted - withdrawn - burned`) in O(1), and the state runs it after every command in every
//! build; [`Ledger::check`] (part of `State::check_invariants`) re-sums every balance in O(accounts).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset};

use crate::event::Event;
use crate::ids::{AccountKey, AccountRef, SystemAccount};
use crate::rejection::Rejection;

/// A user account's ledger record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccount {
    /// The key.
    pub key: AccountKey,
    /// Balances in base units, indexed by [`Asset::index`].
    pub balances: [i128; 4],
    /// The part of the CC balance that is revenue CC (farmer shares); always `<=` the CC balance. Spending
    /// uses ordinary CC first (the revenue part shrinks only when the balance drops below it).
    pub revenue_cc: i128,
    /// The last nonce used (0 before the first command).
    pub last_nonce: u64,
    /// Registration time (unix seconds).
    pub registered_at: i64,
}

/// Flows of one asset across the system boundary, in base units. Conservation: the sum of all balances
/// equals `deposited + minted - withdrawn - burned` (spec `decisions.md` §1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetTotals {
    /// Attested deposits (and fiat credited as USDC).
    pub deposited: i128,
    /// Minted (CC on entry, TFP on lock, TFT rewards).
    pub minted: i128,
    /// Attested withdrawals.
    pub withdrawn: i128,
    /// Burned.
    pub burned: i128,
}

impl AssetTotals {
    /// What the balances must sum to.
    pub fn expected_supply(&self) -> i128 {
        self.deposited.saturating_add(self.minted).saturating_sub(self.withdrawn).saturating_sub(self.burned)
    }
}

/// Per-asset conservation does not hold: the balances (running total) differ from the flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConservationError {
    /// The asset.
    pub asset: Asset,
    /// Sum of all balances (the running total kept by every credit and debit), base units.
    pub held: i128,
    /// `deposited + minted - withdrawn - burned`, base units.
    pub expected: i128,
}

impl std::fmt::Display for ConservationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ConservationError { asset, held, expected } = self;
        write!(f, "{asset}: balances hold {held} but inflows minus outflows are {expected}")
    }
}

/// Where a posting takes or puts value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    User(u32),
    System(SystemAccount),
}

/// How value enters the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inflow {
    Deposit,
    Mint,
}

/// How value leaves the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outflow {
    Withdrawal,
    Burn,
}

/// One movement of value. `units` is always > 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Posting {
    /// Moves value; `revenue` marks CC credited as a farmer's revenue share.
    Transfer { asset: Asset, from: Slot, to: Slot, units: i128, revenue: bool },
    /// Value enters the system.
    Mint { asset: Asset, to: Slot, units: i128, inflow: Inflow },
    /// Value leaves the system.
    Burn { asset: Asset, from: Slot, units: i128, outflow: Outflow },
    /// Marks `units` of a user's revenue CC as used (no balance change). Must precede the posting that
    /// moves that CC, so that only revenue CC is spent (Pool 2 conversions, spec §5).
    ConsumeRevenue { from: Slot, units: i128 },
}

/// The result of arithmetic on a plan that [`Ledger::validate`] accepted: validation proved it cannot
/// overflow, so an overflow here is a bug and stops the node (assert, never a silent wrap).
fn validated(result: Option<i128>) -> i128 {
    result.expect("a validated plan cannot overflow")
}

/// Accounts, balances and totals.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ledger {
    users: Vec<UserAccount>,
    #[serde(skip)]
    index: FxHashMap<AccountKey, u32>,
    system: [[i128; 4]; SystemAccount::ALL.len()],
    totals: [AssetTotals; 4],
    /// Sum of all balances per asset, kept by every credit and debit (derived, so not encoded: a replay
    /// rebuilds it through the same postings).
    #[serde(skip)]
    held: [i128; 4],
}

impl PartialEq for Ledger {
    fn eq(&self, other: &Self) -> bool {
        self.users == other.users && self.system == other.system && self.totals == other.totals
    }
}

impl Ledger {
    /// The slot of a registered user.
    pub(crate) fn slot_of(&self, key: &AccountKey) -> Option<Slot> {
        self.index.get(key).map(|i| Slot::User(*i))
    }

    /// The slot of a registered user, or [`Rejection::AccountNotFound`].
    pub(crate) fn user_slot(&self, key: &AccountKey) -> Result<Slot, Rejection> {
        self.slot_of(key).ok_or(Rejection::AccountNotFound { account: *key })
    }

    /// [`Ledger::user_slot`] trying `hint` (a slot remembered for `key`, e.g. a lease's tenant) first: the
    /// hint is used only if that slot holds `key`, so a stale or wrong hint costs one hash lookup, never a
    /// wrong account. A user's slot never changes (accounts are only added).
    pub(crate) fn user_slot_hinted(&self, hint: u32, key: &AccountKey) -> Result<Slot, Rejection> {
        match self.users.get(hint as usize) {
            Some(account) if account.key == *key => Ok(Slot::User(hint)),
            _ => self.user_slot(key),
        }
    }

    /// Validates then commits a plan: either every posting applies or none does.
    pub(crate) fn apply(&mut self, plan: &[Posting]) -> Result<(), Rejection> {
        self.validate(plan)?;
        self.commit(plan);
        Ok(())
    }

    /// `Transfer`: moves TFT, TFP or USDC between two registered accounts (CC is not transferable, spec §1).
    pub(crate) fn transfer(
        &mut self,
        from: AccountKey,
        (asset, to, amount): (Asset, AccountKey, Amount<AnyAsset>),
    ) -> Result<Vec<Event>, Rejection> {
        if asset == Asset::Cc {
            return Err(Rejection::CcNotTransferable);
        }
        if !amount.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        if from == to {
            return Err(Rejection::SelfTransfer);
        }
        let (from_slot, to_slot) = (self.user_slot(&from)?, self.user_slot(&to)?);
        self.apply(&[Posting::Transfer {
            asset,
            from: from_slot,
            to: to_slot,
            units: amount.units(),
            revenue: false,
        }])?;
        Ok(vec![Event::Transferred {
            from: AccountRef::User(from),
            to: AccountRef::User(to),
            amount: amount.with_asset(asset),
        }])
    }

    /// The record of a registered user.
    pub fn account(&self, key: &AccountKey) -> Option<&UserAccount> {
        self.index.get(key).map(|i| &self.users[*i as usize])
    }

    /// All user accounts, in registration order.
    pub fn accounts(&self) -> &[UserAccount] {
        &self.users
    }

    /// Balance of any account in base units (0 for unknown users).
    pub fn balance(&self, account: AccountRef, asset: Asset) -> i128 {
        match account {
            AccountRef::User(key) => self.account(&key).map_or(0, |a| a.balances[asset.index()]),
            AccountRef::System(system) => self.system[system.index()][asset.index()],
        }
    }

    /// Typed balance of a system account.
    pub fn system_balance<A: tfeco_money::AssetKind>(&self, system: SystemAccount) -> Amount<A> {
        Amount::from_units(self.system[system.index()][A::ASSET.index()])
    }

    /// Totals of one asset.
    pub fn totals(&self, asset: Asset) -> AssetTotals {
        self.totals[asset.index()]
    }

    /// Sum of all balances of one asset (users and system accounts).
    pub fn supply(&self, asset: Asset) -> i128 {
        let users: i128 = self.users.iter().map(|a| a.balances[asset.index()]).sum();
        let system: i128 = self.system.iter().map(|b| b[asset.index()]).sum();
        users.saturating_add(system)
    }

    pub(crate) fn register(&mut self, key: AccountKey, now: i64) {
        debug_assert!(!self.index.contains_key(&key));
        let index = u32::try_from(self.users.len()).expect("fewer than 2^32 accounts");
        self.users.push(UserAccount {
            key,
            balances: [0; 4],
            revenue_cc: 0,
            last_nonce: 0,
            registered_at: now,
        });
        self.index.insert(key, index);
    }

    pub(crate) fn last_nonce(&self, key: &AccountKey) -> u64 {
        self.account(key).map_or(0, |a| a.last_nonce)
    }

    pub(crate) fn set_nonce(&mut self, key: &AccountKey, nonce: u64) {
        if let Some(i) = self.index.get(key) {
            let account = &mut self.users[*i as usize];
            debug_assert!(nonce > account.last_nonce);
            account.last_nonce = nonce;
        }
    }

    fn slot_balance(&self, slot: Slot, asset: Asset) -> i128 {
        match slot {
            Slot::User(i) => self.users[i as usize].balances[asset.index()],
            Slot::System(s) => self.system[s.index()][asset.index()],
        }
    }

    /// Checks that the whole plan can be applied: every amount > 0, no balance goes negative after the
    /// plan's net effect, and nothing overflows. Changes nothing.
    pub(crate) fn validate(&self, plan: &[Posting]) -> Result<(), Rejection> {
        // Running delta per (slot, asset): at most two per posting. Plans are short (a lease charge has at
        // most four postings), so their deltas live on the stack; longer plans use the heap.
        const INLINE_POSTINGS: usize = 4;
        let unused = (Slot::System(SystemAccount::Vault), Asset::Cc, 0);
        if plan.len() <= INLINE_POSTINGS {
            self.validate_with(plan, &mut [unused; 2 * INLINE_POSTINGS])
        } else {
            self.validate_with(plan, &mut vec![unused; plan.len().saturating_mul(2)])
        }
    }

    /// [`Ledger::validate`] keeping the running deltas in `deltas` (room for two per posting).
    fn validate_with(&self, plan: &[Posting], deltas: &mut [(Slot, Asset, i128)]) -> Result<(), Rejection> {
        // Running delta per (slot, asset), checked after every debit in plan order — exactly the order in
        // which `commit` applies and asserts. Plans are short, so a linear scan beats a map.
        let mut used = 0usize;
        let mut add = |slot: Slot, asset: Asset, delta: i128| -> Result<i128, Rejection> {
            if let Some(entry) = deltas[..used].iter_mut().find(|(s, a, _)| *s == slot && *a == asset) {
                entry.2 = entry.2.checked_add(delta).ok_or(Rejection::Overflow)?;
                Ok(entry.2)
            } else {
                deltas[used] = (slot, asset, delta);
                used = used.saturating_add(1);
                Ok(delta)
            }
        };
        let debit = |slot: Slot, asset: Asset, units: i128, running: i128| -> Result<(), Rejection> {
            let balance = self.slot_balance(slot, asset);
            let after = balance.checked_add(running).ok_or(Rejection::Overflow)?;
            if after < 0 {
                return Err(Rejection::BalanceLow {
                    asset,
                    needed: Amount::from_units(units),
                    available: Amount::from_units(balance.saturating_add(running).saturating_add(units)),
                });
            }
            Ok(())
        };
        for posting in plan {
            match *posting {
                Posting::Transfer { asset, from, to, units, .. } => {
                    if units <= 0 {
                        return Err(Rejection::AmountNotPositive);
                    }
                    let running = add(from, asset, units.saturating_neg())?;
                    debit(from, asset, units, running)?;
                    let credited = add(to, asset, units)?;
                    self.slot_balance(to, asset).checked_add(credited).ok_or(Rejection::Overflow)?;
                }
                Posting::Mint { asset, to, units, .. } => {
                    if units <= 0 {
                        return Err(Rejection::AmountNotPositive);
                    }
                    let credited = add(to, asset, units)?;
                    self.slot_balance(to, asset).checked_add(credited).ok_or(Rejection::Overflow)?;
                    self.supply_headroom(asset, units)?;
                }
                Posting::Burn { asset, from, units, .. } => {
                    if units <= 0 {
                        return Err(Rejection::AmountNotPositive);
                    }
                    let running = add(from, asset, units.saturating_neg())?;
                    debit(from, asset, units, running)?;
                }
                Posting::ConsumeRevenue { from, units } => {
                    let available = match from {
                        Slot::User(i) => self.users[i as usize].revenue_cc,
                        Slot::System(_) => 0,
                    };
                    if units <= 0 || units > available {
                        return Err(Rejection::RevenueCcLow {
                            needed: Amount::from_units(units),
                            available: Amount::from_units(available),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Refuses inflows that would push an asset's total supply near the `i128` limit.
    fn supply_headroom(&self, asset: Asset, units: i128) -> Result<(), Rejection> {
        let totals = self.totals[asset.index()];
        let inflow = totals.deposited.checked_add(totals.minted).and_then(|t| t.checked_add(units));
        match inflow {
            Some(total) if total < i128::MAX / 4 => Ok(()),
            _ => Err(Rejection::Overflow),
        }
    }

    /// Applies a plan that [`Ledger::validate`] accepted. Cannot fail; asserts its own postconditions.
    pub(crate) fn commit(&mut self, plan: &[Posting]) {
        for posting in plan {
            match *posting {
                Posting::Transfer { asset, from, to, units, revenue } => {
                    self.debit(from, asset, units);
                    self.credit(to, asset, units);
                    if revenue && asset == Asset::Cc {
                        if let Slot::User(i) = to {
                            let account = &mut self.users[i as usize];
                            account.revenue_cc = validated(account.revenue_cc.checked_add(units));
                        }
                    }
                }
                Posting::Mint { asset, to, units, inflow } => {
                    self.credit(to, asset, units);
                    let totals = &mut self.totals[asset.index()];
                    match inflow {
                        Inflow::Deposit => totals.deposited = validated(totals.deposited.checked_add(units)),
                        Inflow::Mint => totals.minted = validated(totals.minted.checked_add(units)),
                    }
                }
                Posting::ConsumeRevenue { from, units } => {
                    if let Slot::User(i) = from {
                        let account = &mut self.users[i as usize];
                        account.revenue_cc = validated(account.revenue_cc.checked_sub(units));
                        assert!(account.revenue_cc >= 0, "validated plan consumed more revenue CC than held");
                    }
                }
                Posting::Burn { asset, from, units, outflow } => {
                    self.debit(from, asset, units);
                    let totals = &mut self.totals[asset.index()];
                    match outflow {
                        Outflow::Withdrawal => {
                            totals.withdrawn = validated(totals.withdrawn.checked_add(units))
                        }
                        Outflow::Burn => totals.burned = validated(totals.burned.checked_add(units)),
                    }
                }
            }
        }
    }

    fn balance_mut(&mut self, slot: Slot, asset: Asset) -> &mut i128 {
        match slot {
            Slot::User(i) => &mut self.users[i as usize].balances[asset.index()],
            Slot::System(s) => &mut self.system[s.index()][asset.index()],
        }
    }

    fn credit(&mut self, slot: Slot, asset: Asset, units: i128) {
        let balance = self.balance_mut(slot, asset);
        *balance = validated(balance.checked_add(units));
        let held = &mut self.held[asset.index()];
        *held = validated(held.checked_add(units));
    }

    fn debit(&mut self, slot: Slot, asset: Asset, units: i128) {
        let balance = self.balance_mut(slot, asset);
        *balance = validated(balance.checked_sub(units));
        assert!(*balance >= 0, "validated plan drove a balance negative");
        let held = &mut self.held[asset.index()];
        *held = validated(held.checked_sub(units));
        if let Slot::User(i) = slot {
            let account = &mut self.users[i as usize];
            let cc = account.balances[Asset::Cc.index()];
            if asset == Asset::Cc && account.revenue_cc > cc {
                account.revenue_cc = cc;
            }
        }
    }

    /// Test-only corruption hook: moves an asset's recorded mint total without any balance (a broken flow).
    #[cfg(test)]
    pub(crate) fn corrupt_flows_for_test(&mut self, asset: Asset, units: i128) {
        let totals = &mut self.totals[asset.index()];
        totals.minted = totals.minted.checked_add(units).expect("test amounts are small");
    }

    /// Per-asset conservation in O(1): for each asset, the running total of all balances equals `deposited
    /// + minted - withdrawn - burned`. The state runs it after every command in every build and halts on a
    /// violation (`Rejection::Halted`, fail-stop). Errors: the first asset that does not balance.
    pub fn check_conservation(&self) -> Result<(), ConservationError> {
        for asset in Asset::ALL {
            let held = self.held[asset.index()];
            let expected = self.totals[asset.index()].expected_supply();
            if held != expected {
                return Err(ConservationError { asset, held, expected });
            }
        }
        Ok(())
    }

    /// Rebuilds what is derived from the encoded records and so not encoded (a state snapshot, see
    /// `state/snapshot.rs`): the account index (key to registration position) and the running total of all
    /// balances per asset, exactly as registrations and postings built them.
    ///
    /// Errors (a decoded ledger no command sequence can produce): the same key registered twice, 2^32 accounts
    /// or more, a negative balance, or balances whose sum overflows `i128`.
    pub(crate) fn rebuild_derived(&mut self) -> Result<(), String> {
        let mut index = FxHashMap::default();
        index.reserve(self.users.len());
        for (position, account) in self.users.iter().enumerate() {
            let position = u32::try_from(position).map_err(|_| "2^32 accounts or more".to_owned())?;
            if index.insert(account.key, position).is_some() {
                return Err(format!("account {} is registered twice", account.key));
            }
        }
        let mut held = [0i128; 4];
        let balances = self.users.iter().map(|a| &a.balances).chain(self.system.iter());
        for row in balances {
            for (total, balance) in held.iter_mut().zip(row) {
                if *balance < 0 {
                    return Err("a balance is negative".to_owned());
                }
                *total = total.checked_add(*balance).ok_or("the balances of an asset overflow i128")?;
            }
        }
        self.index = index;
        self.held = held;
        Ok(())
    }

    /// Conservation per asset (balances re-summed, and equal to the running total), no negative balance,
    /// revenue CC within the CC balance, index consistent. O(accounts).
    pub(crate) fn check(&self) -> Result<(), String> {
        self.check_conservation().map_err(|e| e.to_string())?;
        for asset in Asset::ALL {
            let supply = self.supply(asset);
            let expected = self.totals[asset.index()].expected_supply();
            if supply != expected {
                return Err(format!(
                    "{asset}: balances sum to {supply} but inflows minus outflows are {expected}"
                ));
            }
            if supply != self.held[asset.index()] {
                return Err(format!("{asset}: balances sum to {supply} but the running total is off"));
            }
        }
        for account in &self.users {
            if account.balances.iter().any(|b| *b < 0) {
                return Err(format!("account {} has a negative balance", account.key));
            }
            if account.revenue_cc < 0 || account.revenue_cc > account.balances[Asset::Cc.index()] {
                return Err(format!("account {} has revenue CC outside its CC balance", account.key));
            }
        }
        if self.system.iter().flatten().any(|b| *b < 0) {
            return Err("a system account has a negative balance".to_owned());
        }
        if self.index.len() != self.users.len() {
            return Err("account index out of sync".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> AccountKey {
        AccountKey([byte; 32])
    }

    /// A ledger with two users: 100 TFT deposited to the first, 40 moved to the second, 5 burned from it,
    /// 7 CC minted to a system account.
    fn busy_ledger() -> Ledger {
        let mut ledger = Ledger::default();
        ledger.register(key(1), 0);
        ledger.register(key(2), 0);
        let (a, b) = (ledger.user_slot(&key(1)).unwrap(), ledger.user_slot(&key(2)).unwrap());
        let vault = Slot::System(SystemAccount::Vault);
        ledger
            .apply(&[
                Posting::Mint { asset: Asset::Tft, to: a, units: 100, inflow: Inflow::Deposit },
                Posting::Transfer { asset: Asset::Tft, from: a, to: b, units: 40, revenue: false },
                Posting::Burn { asset: Asset::Tft, from: b, units: 5, outflow: Outflow::Burn },
                Posting::Mint { asset: Asset::Cc, to: vault, units: 7, inflow: Inflow::Mint },
            ])
            .unwrap();
        ledger
    }

    #[test]
    fn the_running_totals_follow_every_posting() {
        let ledger = busy_ledger();
        assert_eq!(ledger.check_conservation(), Ok(()));
        assert_eq!(ledger.check(), Ok(()));
        for asset in Asset::ALL {
            assert_eq!(ledger.held[asset.index()], ledger.supply(asset), "{asset}");
        }
        assert_eq!((ledger.held[Asset::Tft.index()], ledger.held[Asset::Cc.index()]), (95, 7));
    }

    /// Issue 10 item 9: the O(1) check (run after every command in every build) detects a broken total.
    #[test]
    fn a_broken_total_fails_the_constant_time_check() {
        let mut ledger = busy_ledger();
        ledger.corrupt_flows_for_test(Asset::Cc, 1);
        let error = ledger.check_conservation().unwrap_err();
        assert_eq!(error, ConservationError { asset: Asset::Cc, held: 7, expected: 8 });
        assert_eq!(error.to_string(), "CC: balances hold 7 but inflows minus outflows are 8");
        assert!(ledger.check().is_err(), "the full check agrees");
        ledger.corrupt_flows_for_test(Asset::Cc, -1);
        assert_eq!(ledger.check_conservation(), Ok(()));
        // A balance changed behind the postings' back is caught by the full check's re-sum.
        ledger.users[0].balances[Asset::Tft.index()] += 1;
        assert_eq!(ledger.check_conservation(), Ok(()), "the running total cannot see it");
        assert!(ledger.check().unwrap_err().contains("TFT"));
    }

    /// A snapshot decodes the ledger without its derived parts: rebuilding them gives exactly what the
    /// postings built, and a decoded ledger no command sequence produces is refused.
    #[test]
    fn the_derived_index_and_totals_rebuild_exactly_or_are_refused() {
        let ledger = busy_ledger();
        let mut decoded: Ledger = postcard::from_bytes(&postcard::to_allocvec(&ledger).unwrap()).unwrap();
        assert!(decoded.index.is_empty() && decoded.held == [0; 4], "not encoded");
        decoded.rebuild_derived().unwrap();
        assert_eq!((&decoded.index, decoded.held), (&ledger.index, ledger.held));
        assert_eq!(decoded.check(), Ok(()));

        let mut twice = ledger.clone();
        twice.users[1].key = key(1);
        assert!(twice.rebuild_derived().unwrap_err().contains("registered twice"));
        let mut negative = ledger.clone();
        negative.users[1].balances[Asset::Usdc.index()] = -1;
        assert!(negative.rebuild_derived().unwrap_err().contains("negative"));
        let mut huge = ledger;
        huge.users[0].balances[Asset::Usdc.index()] = i128::MAX;
        huge.users[1].balances[Asset::Usdc.index()] = 1;
        assert!(huge.rebuild_derived().unwrap_err().contains("overflow"));
    }
}
