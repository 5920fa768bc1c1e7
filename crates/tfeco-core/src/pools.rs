//! Pool 2 (spec `decisions.md` §5-6): conversions between revenue CC and TFP at the oracle price, through
//! `pool2.reserve`, and the farmer's settlement preference applied when revenue is credited.

use tfeco_money::{Amount, Asset, Cc, Rounding, Tfp};

use crate::command::Settlement;
use crate::event::Event;
use crate::ids::{AccountKey, SystemAccount};
use crate::ledger::{Inflow, Outflow, Posting, Slot};
use crate::oracle::Prices;
use crate::rejection::Rejection;
use crate::state::State;

/// A validated CC→TFP conversion.
struct CcToTfp {
    plan: [Posting; 3],
    cc: Amount<Cc>,
    tfp: Amount<Tfp>,
}

fn to_i128(units: u128) -> Result<i128, Rejection> {
    i128::try_from(units).map_err(|_| Rejection::Overflow)
}

impl State {
    /// Plans converting `cc` revenue CC of `account` to TFP: `tfp = floor(cc * cc_usd / tft_usd)`. With
    /// `allow_partial`, a reserve shortfall converts the largest CC amount the reserve covers instead.
    fn plan_cc_to_tfp(
        &self,
        account: AccountKey,
        cc: Amount<Cc>,
        allow_partial: bool,
        prices: &Prices,
    ) -> Result<CcToTfp, Rejection> {
        let slot = self.ledger.slot_of(&account).ok_or(Rejection::AccountNotFound { account })?;
        let revenue = self.ledger.account(&account).map_or(0, |a| a.revenue_cc);
        if cc.units() > revenue {
            return Err(Rejection::RevenueCcLow { needed: cc, available: Amount::from_units(revenue) });
        }
        let reserve = self.ledger.system_balance::<Tfp>(SystemAccount::Pool2Reserve).units();
        let mut cc_units = cc.units();
        let mut tfp_units =
            to_i128(prices.tft_for_cc(cc_units.unsigned_abs(), Rounding::Down).ok_or(Rejection::Overflow)?)?;
        if tfp_units == 0 {
            // Worth less than one TFP base unit: nothing to convert, whatever the reserve holds.
            return Err(Rejection::AmountNotPositive);
        }
        if tfp_units > reserve {
            if !allow_partial {
                return Err(Rejection::InsufficientPoolLiquidity {
                    needed: Amount::from_units(tfp_units),
                    available: Amount::from_units(reserve),
                });
            }
            // The most CC whose TFP (rounded down) fits in the reserve.
            cc_units = to_i128(
                prices.cc_for_tft(reserve.unsigned_abs(), Rounding::Down).ok_or(Rejection::Overflow)?,
            )?;
            tfp_units = to_i128(
                prices.tft_for_cc(cc_units.unsigned_abs(), Rounding::Down).ok_or(Rejection::Overflow)?,
            )?;
        }
        if cc_units <= 0 || tfp_units <= 0 {
            return Err(Rejection::InsufficientPoolLiquidity {
                needed: Amount::from_units(tfp_units.max(1)),
                available: Amount::from_units(reserve),
            });
        }
        let plan = [
            Posting::ConsumeRevenue { from: slot, units: cc_units },
            Posting::Burn { asset: Asset::Cc, from: slot, units: cc_units, outflow: Outflow::Burn },
            Posting::Transfer {
                asset: Asset::Tfp,
                from: Slot::System(SystemAccount::Pool2Reserve),
                to: slot,
                units: tfp_units,
                revenue: false,
            },
        ];
        self.ledger.validate(&plan)?;
        Ok(CcToTfp { plan, cc: Amount::from_units(cc_units), tfp: Amount::from_units(tfp_units) })
    }

    pub(crate) fn apply_convert_cc_to_tfp(
        &mut self,
        account: AccountKey,
        cc: Amount<Cc>,
        allow_partial: bool,
    ) -> Result<Vec<Event>, Rejection> {
        if !cc.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let prices = self.oracle.prices(&self.params, self.now)?;
        let conversion = self.plan_cc_to_tfp(account, cc, allow_partial, &prices)?;
        self.ledger.commit(&conversion.plan);
        Ok(vec![Event::ConvertedCcToTfp { account, cc: conversion.cc, tfp: conversion.tfp }])
    }

    pub(crate) fn apply_convert_tfp_to_cc(
        &mut self,
        account: AccountKey,
        tfp: Amount<Tfp>,
    ) -> Result<Vec<Event>, Rejection> {
        if !tfp.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let prices = self.oracle.prices(&self.params, self.now)?;
        let cc_units = to_i128(
            prices.cc_for_tft(tfp.units().unsigned_abs(), Rounding::Down).ok_or(Rejection::Overflow)?,
        )?;
        if cc_units == 0 {
            return Err(Rejection::AmountNotPositive);
        }
        let slot = self.ledger.slot_of(&account).ok_or(Rejection::AccountNotFound { account })?;
        let plan = [
            Posting::Transfer {
                asset: Asset::Tfp,
                from: slot,
                to: Slot::System(SystemAccount::Pool2Reserve),
                units: tfp.units(),
                revenue: false,
            },
            Posting::Mint { asset: Asset::Cc, to: slot, units: cc_units, inflow: Inflow::Mint },
        ];
        self.ledger.validate(&plan)?;
        self.ledger.commit(&plan);
        let mut events = vec![Event::ConvertedTfpToCc { account, tfp, cc: Amount::from_units(cc_units) }];
        self.resume_after_top_up(account, &mut events);
        Ok(events)
    }

    pub(crate) fn apply_set_settlement(&mut self, account: AccountKey, settle_in: Settlement) -> Vec<Event> {
        match settle_in {
            Settlement::Cc => self.settlement.remove(&account),
            Settlement::Tfp => self.settlement.insert(account, settle_in),
        };
        vec![Event::SettlementSet { account, settle_in }]
    }

    /// The settlement preference of an account (default CC).
    pub fn settlement_of(&self, account: &AccountKey) -> Settlement {
        self.settlement.get(account).copied().unwrap_or_default()
    }

    /// After revenue CC is credited to a farmer who settles in TFP: converts it through Pool 2 as far as the
    /// reserve allows (spec §6). Without valid prices, or with an empty reserve, it stays revenue CC.
    pub(crate) fn settle_revenue(
        &mut self,
        farmer: AccountKey,
        credited: Amount<Cc>,
        events: &mut Vec<Event>,
    ) {
        if self.settlement_of(&farmer) != Settlement::Tfp || !credited.is_positive() {
            return;
        }
        let Ok(prices) = self.oracle.prices(&self.params, self.now) else {
            return;
        };
        if let Ok(conversion) = self.plan_cc_to_tfp(farmer, credited, true, &prices) {
            self.ledger.commit(&conversion.plan);
            events.push(Event::ConvertedCcToTfp { account: farmer, cc: conversion.cc, tfp: conversion.tfp });
        }
    }
}
