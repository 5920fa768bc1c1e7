//! `Tick { now }`: the one place where time-driven work runs, phase by phase, in this order (spec
//! `decisions.md` §14):
//!
//! 1. parameter changes due by `now` take effect (so every charge of this tick uses them);
//! 2. billing: every open lease's due periods are charged, grace starts or ends;
//! 3. capacity requests whose window closed are decided (price ties to the higher uptime of the last closed
//!    minting period, read from the rewards slice here);
//! 4. the TFT counterpart of burned CC is settled;
//! 5. exit-pool rounds that ended are cleared;
//! 6. exchange batches that are due are cleared;
//! 7. minting periods that ended are closed into reports;
//! 8. vested rewards are released.

use super::{Receipt, State};
use crate::event::Event;
use crate::ids::AccountKey;
use crate::rejection::{Limit, Rejection};
use crate::slices::capacity::Payments;
use crate::types::Role;

/// The latest time a `Tick` may set: 9999-12-31T23:59:59Z (schedules add periods to times; this keeps every
/// time far from `i64` overflow).
pub const MAX_TIME: i64 = 253_402_300_799;

impl State {
    /// `Tick { now }`: the operator advances time to `now` and every phase runs, in order. Refused when `now`
    /// is before the state's time (`time_regression`), after [`MAX_TIME`], or more than `max_tick_advance_s`
    /// after the state's time (`limit_exceeded` / `tick_advance`: split a longer step into several ticks).
    pub(super) fn tick(&mut self, signer: AccountKey, now: i64) -> Result<Receipt, Rejection> {
        if !self.params().has_role(&signer, Role::Operator) {
            return Err(Rejection::NotAuthorized { role: Role::Operator });
        }
        if now < self.now {
            return Err(Rejection::TimeRegression { now: self.now, got: now });
        }
        if now > MAX_TIME {
            return Err(Rejection::LimitExceeded { what: Limit::Time, limit: MAX_TIME.unsigned_abs() });
        }
        let max_advance = self.params().max_tick_advance_s;
        if now.saturating_sub(self.now) > max_advance {
            let limit = max_advance.unsigned_abs();
            return Err(Rejection::LimitExceeded { what: Limit::TickAdvance, limit });
        }
        self.now = now;
        self.at = now;
        let mut events = vec![Event::Ticked { now }];
        self.governance.apply_due(now, &mut events);
        let (env, ledger, oracle, _, _, pool2, farming, capacity, exit_pool, rewards, exchange) =
            split!(self);
        let mut pay = Payments { ledger, pool2, oracle, farming };
        capacity.bill_due(&env, &mut pay, &mut events);
        let uptime = |node| rewards.uptime_score(node);
        capacity.close_due_requests(&env, &mut pay, &uptime, &mut events);
        pay.pool2.settle_pending_burn(&env, pay.ledger, oracle, &mut events);
        exit_pool.run_rounds(&env, pay.ledger, oracle, &mut events);
        exchange.clear_due(&env, pay.ledger, oracle, &mut events);
        rewards.close_periods(&env, pay.ledger, capacity, &mut events);
        if let Some(open) = rewards.next_period() {
            capacity.set_utilization_floor(open);
        }
        rewards.release_vesting(&env, pay.ledger, (&*capacity, &*farming), &mut events);
        Ok(events)
    }
}
