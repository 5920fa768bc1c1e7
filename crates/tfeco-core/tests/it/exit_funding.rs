//! Funding the exit pool's USDC (issue 10 item 2, spec `decisions.md` §8, §12). Before: the only way in was
//! the operator's `FundExitPool` from treasury USDC, which the treasury never has in the demo (its revenue
//! share is CC), so `exit_pool.usdc` stayed 0. Now: guardian-attested USDC deposits into the pool itself
//! (`AttestExitPoolDeposit`) and guardian-approved treasury transfers (`ApproveTreasuryTransfer`), both
//! k-of-n; `FundExitPool` is refused for everyone. Every command goes through the [`Harness`], which checks
//! the invariants (conservation per asset) after each command and that a rejection changes nothing.

use tfeco_core::{AccountRef, Command, Event, Rejection, RejectionCode, SystemAccount, TreasuryDestination};
use tfeco_money::{Amount, Asset, Usdc};

use crate::harness::{account_of, signing_key, tokens, Harness};

/// Seed of the second guardian.
const SECOND: u8 = 21;

/// Two guardians (the operator and `SECOND`), both needed; a registered stranger. Returns the harness, the
/// second guardian and the stranger.
fn two_guardians() -> (Harness, tfeco_core::AccountKey, tfeco_core::AccountKey) {
    let mut h = Harness::with_params(|p| {
        p.guardians = vec![p.operator, account_of(&signing_key(SECOND))];
        p.guardian_threshold = Some(2);
        p.oracle_quorum = Some(1);
    });
    let second = h.register(SECOND);
    let stranger = h.register(22);
    (h, second, stranger)
}

fn usdc(whole: i128) -> Amount<Usdc> {
    Amount::from_units(tokens(whole))
}

fn pool_usdc(h: &Harness) -> i128 {
    h.system(SystemAccount::ExitPoolUsdc, Asset::Usdc)
}

fn deposit(whole: i128, id: &str) -> Command {
    Command::AttestExitPoolDeposit { usdc: usdc(whole), external_tx_id: id.to_owned() }
}

fn transfer(whole: i128, reference: &str) -> Command {
    Command::ApproveTreasuryTransfer {
        usdc: usdc(whole),
        to: TreasuryDestination::ExitPool,
        transfer_ref: reference.to_owned(),
    }
}

#[test]
fn an_attested_deposit_into_the_exit_pool_needs_the_guardian_threshold_and_is_idempotent() {
    let (mut h, second, stranger) = two_guardians();
    let op = h.operator;
    let deposited_before = h.state.ledger().totals(Asset::Usdc).deposited;
    assert_eq!(h.reject(stranger, deposit(100, "ext-1")).code(), RejectionCode::NotAuthorized);
    assert_eq!(h.reject(op, deposit(0, "ext-1")).code(), RejectionCode::AmountNotPositive);
    assert_eq!(h.reject(op, deposit(100, " ")).code(), RejectionCode::TextInvalid);
    let events = h.apply(op, deposit(100, "ext-1"));
    assert_eq!(
        events,
        vec![Event::AttestationRecorded { external_tx_id: "ext-1".to_owned(), count: 1, threshold: 2 }]
    );
    assert_eq!(pool_usdc(&h), 0, "below the threshold nothing moves");
    assert_eq!(h.reject(op, deposit(100, "ext-1")).code(), RejectionCode::DuplicateSignature);
    assert_eq!(h.reject(second, deposit(99, "ext-1")).code(), RejectionCode::AttestationConflict);
    // The external id is shared with ordinary deposits: one external transaction, one deposit.
    let other = Command::AttestDeposit {
        asset: Asset::Usdc,
        to: stranger,
        amount: Amount::from_units(tokens(100)),
        external_tx_id: "ext-1".to_owned(),
    };
    assert_eq!(h.reject(second, other).code(), RejectionCode::AttestationConflict);
    let events = h.apply(second, deposit(100, "ext-1"));
    assert_eq!(
        events,
        vec![Event::Deposited {
            to: AccountRef::System(SystemAccount::ExitPoolUsdc),
            amount: usdc(100).erase(),
            external_tx_id: "ext-1".to_owned(),
        }]
    );
    assert_eq!(pool_usdc(&h), tokens(100));
    // Conservation: the USDC entered the system as a deposit (the "in" side).
    assert_eq!(h.state.ledger().totals(Asset::Usdc).deposited, deposited_before + tokens(100));
    assert_eq!(h.state.bridge().exit_pool_deposited(), usdc(100));
    // A repeat by either guardian is a no-op.
    for signer in [op, second] {
        let events = h.apply(signer, deposit(100, "ext-1"));
        assert_eq!(events, vec![Event::AlreadyApplied { id: "ext-1".to_owned() }]);
    }
    assert_eq!(pool_usdc(&h), tokens(100));
    assert_eq!(h.state.bridge().exit_pool_deposited(), usdc(100));
}

#[test]
fn a_treasury_transfer_moves_at_the_threshold_only_what_the_treasury_holds() {
    let (mut h, second, stranger) = two_guardians();
    let op = h.operator;
    h.set_prices("0.01", "4228");
    assert_eq!(h.reject(stranger, transfer(40, "t-1")).code(), RejectionCode::NotAuthorized);
    assert_eq!(h.reject(op, transfer(0, "t-1")).code(), RejectionCode::AmountNotPositive);
    assert_eq!(h.reject(op, transfer(40, "")).code(), RejectionCode::TextInvalid);
    let events = h.apply(op, transfer(40, "t-1"));
    assert_eq!(
        events,
        vec![Event::TreasuryTransferApproved {
            transfer_ref: "t-1".to_owned(),
            usdc: usdc(40),
            count: 1,
            threshold: 2
        }]
    );
    assert_eq!(h.reject(op, transfer(40, "t-1")).code(), RejectionCode::DuplicateSignature);
    assert_eq!(h.reject(second, transfer(41, "t-1")).code(), RejectionCode::AttestationConflict);
    // The treasury holds no USDC yet: the approval that reaches the threshold is refused (nothing recorded,
    // so it can be sent again once the treasury has it).
    let r = h.reject(second, transfer(40, "t-1"));
    assert_eq!(
        r,
        Rejection::BalanceLow {
            asset: Asset::Usdc,
            needed: Amount::from_units(tokens(40)),
            available: Amount::ZERO
        }
    );
    // A fiat entry brings the treasury 100 USDC.
    h.enter_fiat(stranger, tokens(100));
    assert_eq!(h.system(SystemAccount::Treasury, Asset::Usdc), tokens(100));
    let deposited = h.state.ledger().totals(Asset::Usdc).deposited;
    let events = h.apply(second, transfer(40, "t-1"));
    assert_eq!(events, vec![Event::ExitPoolFunded { usdc: usdc(40), transfer_ref: "t-1".to_owned() }]);
    assert_eq!(h.system(SystemAccount::Treasury, Asset::Usdc), tokens(60));
    assert_eq!(pool_usdc(&h), tokens(40));
    assert_eq!(h.state.ledger().totals(Asset::Usdc).deposited, deposited, "a move, not a deposit");
    assert_eq!(h.state.bridge().treasury_transferred(), usdc(40));
    // Idempotent by reference; the reference is not reusable for other facts.
    assert_eq!(h.apply(op, transfer(40, "t-1")), vec![Event::AlreadyApplied { id: "t-1".to_owned() }]);
    assert_eq!(h.reject(op, transfer(10, "t-1")).code(), RejectionCode::AttestationConflict);
    // References are their own namespace: an external deposit id "t-1" does not collide.
    h.apply(op, deposit(5, "t-1"));
    assert_eq!(pool_usdc(&h), tokens(40));
    // More than the treasury holds is refused at the threshold.
    h.apply(op, transfer(61, "t-2"));
    assert_eq!(h.reject(second, transfer(61, "t-2")).code(), RejectionCode::BalanceLow);
    assert_eq!(h.system(SystemAccount::Treasury, Asset::Usdc), tokens(60));
}

#[test]
fn the_operator_alone_can_no_longer_move_treasury_money() {
    let (mut h, second, _) = two_guardians();
    let op = h.operator;
    h.set_prices("0.01", "4228");
    h.enter_fiat(op, tokens(100));
    for signer in [op, second] {
        let r = h.reject(signer, Command::FundExitPool { usdc: usdc(10) });
        assert_eq!(r.code(), RejectionCode::CommandRetired);
        assert!(r.to_string().contains("approve_treasury_transfer"), "{r}");
    }
    assert_eq!(pool_usdc(&h), 0);
    assert_eq!(h.system(SystemAccount::Treasury, Asset::Usdc), tokens(100));
}
