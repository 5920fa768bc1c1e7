//! The oracle slice (spec `decisions.md` §3): the latest price submission of each guardian per feed, and the
//! valid prices derived from them (the maths is [`crate::rules::oracle`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::Price;

use crate::event::Event;
use crate::ids::AccountKey;
use crate::params::Params;
use crate::rejection::Rejection;
use crate::rules::oracle::{check_submission, effective_price, CcPrice, Prices, Submission};
use crate::slices::Env;
use crate::types::{PriceFeed, Role};

/// Latest submission per (feed, submitter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Oracle {
    latest: BTreeMap<(PriceFeed, AccountKey), Submission>,
}

impl Oracle {
    /// `SubmitPrice`: a guardian reports a price observed at `observed_at`.
    pub(crate) fn submit(
        &mut self,
        env: &Env<'_>,
        signer: AccountKey,
        feed: PriceFeed,
        price: Price,
        observed_at: i64,
    ) -> Result<Vec<Event>, Rejection> {
        env.require(signer, Role::Guardian)?;
        let submission = Submission { price, observed_at };
        let previous = self.latest.get(&(feed, signer)).copied();
        check_submission(submission, previous, env.now)
            .map_err(|reason| Rejection::PriceInvalid { reason })?;
        self.latest.insert((feed, signer), submission);
        Ok(vec![Event::PriceSubmitted { feed, price, observed_at }])
    }

    /// The effective price of a feed at `now` from the current guardians' latest submissions, or
    /// [`Rejection::PriceUnavailable`].
    pub fn effective(&self, feed: PriceFeed, params: &Params, now: i64) -> Result<Price, Rejection> {
        let latest = params.guardians.iter().filter_map(|key| self.latest.get(&(feed, *key)).copied());
        effective_price(feed, latest, &params.oracle_rules(), now).ok_or(Rejection::PriceUnavailable { feed })
    }

    /// Both prices at `now`, or the first one missing.
    pub fn prices(&self, params: &Params, now: i64) -> Result<Prices, Rejection> {
        let tft_usd = self.effective(PriceFeed::TftUsd, params, now)?;
        let gold = self.effective(PriceFeed::GoldUsdPerOz, params, now)?;
        Ok(Prices { tft_usd, cc: CcPrice::from_gold(gold) })
    }

    /// [`Oracle::prices`] in an [`Env`].
    pub(crate) fn prices_in(&self, env: &Env<'_>) -> Result<Prices, Rejection> {
        self.prices(env.params, env.now)
    }

    /// All stored submissions (for the API).
    pub fn submissions(&self) -> impl Iterator<Item = (&(PriceFeed, AccountKey), &Submission)> {
        self.latest.iter()
    }
}
