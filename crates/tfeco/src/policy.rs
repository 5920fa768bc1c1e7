//! SPEC POLICY AND CORE RULES HELD BY THE CLI, awaiting the core (issue 9). Everything in this file is a
//! number or a rule of the spec that the binary should not own: it should come from the node's `Params` or
//! from a pure function of the core. It is isolated here so that each switch is a change to this file only:
//!
//! - [`bid_tiers`]: the published ThreeFold bid tiers (`marketplace_and_nodes.md` §5.2, issue 4), to become
//!   `Params::bid_tiers`;
//! - [`standing_bid_escrow`]: a standing bid's first-month escrow, `price x quantity`, computed by the core's
//!   private `capacity::cc_times` when the bid is posted (a public pure function is missing);
//! - [`max_uptime_samples_per_request`]: `Params::max_uptime_reports_per_command`, read from the core's
//!   default parameter set (the node's own value, if governance changes it, is not exposed by the API);
//! - [`v3_input_of_receipt`]: how the engine reads a node for the v3 rules (memory and SSD in GiB, no HDD,
//!   farming policy 1, no public traffic or IPv4, any violation zeroes), which the core's rewards code builds
//!   inline (a pure `minting` function taking a receipt's fields is missing).

use tfeco_core::rules::minting::{Certification, NodeResources, V3NodeInput};
use tfeco_core::Requirements;
use tfeco_core::{AccountKey, Params};
use tfeco_money::{Amount, Cc};

/// A published bid tier: a standing bid the operator posts.
pub(crate) struct BidTier {
    /// Its name, e.g. `Standard Compute`.
    pub(crate) name: &'static str,
    /// Per-slice requirements.
    pub(crate) requirements: Requirements,
    /// CC per slice-month.
    pub(crate) price_month: Amount<Cc>,
    /// Slices wanted.
    pub(crate) quantity: u32,
}

/// The published tiers: Standard Compute (BID-1: passmark>=2000 mem_gb>=4, 1.2 CC x 20,000 = 24,000 CC per
/// month) and Memory-Heavy (BID-2: mem_gb>=8, 2.4 CC x 2,000 = 4,800 CC per month).
pub(crate) fn bid_tiers() -> [BidTier; 2] {
    [
        BidTier {
            name: "Standard Compute",
            requirements: Requirements { min_passmark: 2_000, min_mem_gb: 4, ..Requirements::default() },
            price_month: Amount::from_units(12_000_000),
            quantity: 20_000,
        },
        BidTier {
            name: "Memory-Heavy",
            requirements: Requirements { min_mem_gb: 8, ..Requirements::default() },
            price_month: Amount::from_units(24_000_000),
            quantity: 2_000,
        },
    ]
}

/// The first month's escrow of a standing bid, `price_month x quantity`; `None` on overflow (which the core
/// refuses as `overflow`).
pub(crate) fn standing_bid_escrow(price_month: Amount<Cc>, quantity: u32) -> Option<Amount<Cc>> {
    price_month.units().checked_mul(i128::from(quantity)).map(Amount::from_units)
}

/// Most uptime samples one `ReportUptime` may carry.
pub(crate) fn max_uptime_samples_per_request() -> usize {
    Params::tfgrid4_2025(AccountKey([0; 32])).max_uptime_reports_per_command as usize
}

/// The v3 input of a minting receipt, as the engine reads a node: memory and SSD in GiB, no HDD, farming
/// policy 1, no public traffic or IPv4, any violation zeroes. Errors: resources too large.
pub(crate) fn v3_input_of_receipt(
    cores: u32,
    (mem_gb, ssd_gb): (u64, u64),
    certified: bool,
    uptime_permill: u32,
    violation: bool,
) -> Result<V3NodeInput, String> {
    let resources = NodeResources::from_gib(cores, mem_gb, ssd_gb, 0).map_err(|e| e.to_string())?;
    Ok(V3NodeInput {
        resources,
        nru_bytes: 0,
        ipv4_seconds: 0,
        certification: if certified { Certification::Certified } else { Certification::Diy },
        farming_policy_id: 1,
        uptime_permill,
        violation,
        virtualized: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tiers_are_the_published_ones() {
        let [standard, memory] = bid_tiers();
        assert_eq!((standard.price_month.to_string(), standard.quantity), ("1.2".to_owned(), 20_000));
        assert_eq!((memory.price_month.to_string(), memory.quantity), ("2.4".to_owned(), 2_000));
        let escrow = |t: &BidTier| standing_bid_escrow(t.price_month, t.quantity).unwrap().to_string();
        assert_eq!((escrow(&standard), escrow(&memory)), ("24000".to_owned(), "4800".to_owned()));
        assert_eq!(standing_bid_escrow(Amount::from_units(i128::MAX), 2), None);
        assert_eq!(max_uptime_samples_per_request(), 1_000);
    }
}
