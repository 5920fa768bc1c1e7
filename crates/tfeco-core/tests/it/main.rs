//! Integration tests of `tfeco-core`: spec vectors, billing and leases, rejections, and a property test of
//! the whole state machine. Every command goes through [`harness::Harness`], which checks the invariants
//! after each command and that a rejection leaves the state hash unchanged.

mod billing;
/// One tick over a mixed book of leases, pinned to its recorded events and state hash (issue 13 item 6).
mod billing_golden;
mod command_time;
mod harness;
mod properties;
mod rejections;
mod vectors;

/// Regression tests of bugs found and fixed in `src/`.
mod known_bugs;

/// Capacity requests, standing bids, farming pools and capacity search (issue 4).
mod capacity;
/// The in-wallet exchange through the state: batch settlement, anti-bot rules, expiry (issue 6).
mod exchange;
/// Exit-pool funding (issue 10 item 2, decisions §8): guardian-attested deposits into the exit pool and
/// guardian-approved treasury transfers, k-of-n.
mod exit_funding;
/// Guardian governance (attestations, oracle quorum, parameter and guardian-set changes).
mod governance;
/// Minting periods, uptime violations, guardian-signed reports, the supply cap and vesting.
mod minting_state;
/// Pool 2 conversions, farmer settlement in TFP, exit-pool positions, bids and rounds (issue 3).
mod pools_exit;

/// The scenario that writes the format fixture covers every command kind.
mod every_command {
    use std::collections::BTreeSet;

    #[test]
    fn the_fixture_scenario_applies_every_command_kind_and_replays() {
        let h = tfeco_testkit::every_command_kind();
        let kinds: BTreeSet<u32> = h.accepted.iter().map(|e| e.command.index()).collect();
        let missing: Vec<&str> = tfeco_core::COMMAND_INDEX
            .iter()
            .filter(|(_, index)| !kinds.contains(index))
            .filter(|(name, _)| !tfeco_core::RETIRED_COMMANDS.iter().any(|(retired, _)| retired == name))
            .map(|(name, _)| *name)
            .collect();
        assert!(missing.is_empty(), "kinds the scenario never applied: {missing:?}");
        assert_eq!(h.replay_hash(), h.state.state_hash());
    }
}
