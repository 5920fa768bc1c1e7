//! The human form of the demo's summary: the month's story, one section per mechanism (the month in
//! figures, what was burned and why, the exit pool, the exchange, capacity requests, standing bids, farming
//! pools, minting, leases and farmers), with decimal amounts and ISO-8601 dates.

use std::fmt::Write as _;

use serde::Serialize;
use tfeco_money::{Amount, Price};

use super::sections::{Burns, ExitSection, Flows};
use super::summary::Summary;

/// A JSON rendering of a small map or view for the human summary.
fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// An amount, or `?` when the node did not say.
fn amount_text<A>(amount: Option<&Amount<A>>) -> String {
    amount.map_or_else(|| "?".to_owned(), ToString::to_string)
}

/// A price with 6 decimals, or `-`.
fn price_text(price: Option<Price>) -> String {
    price.map_or_else(|| "-".to_owned(), |p| p.to_string_rounded(6))
}

/// The UTC date and time of unix seconds, ISO 8601 (`2025-11-08T00:00:00Z`; days from the civil calendar
/// algorithm of H. Hinnant, valid for every `i64` day count a demo reaches).
pub(super) fn iso_time(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs / 3_600, secs % 3_600 / 60, secs % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

/// The human form of a summary (several lines, ending with a newline).
pub fn render_summary(summary: &Summary) -> String {
    let mut out = String::new();
    header(&mut out, summary);
    flows(&mut out, &summary.month, &summary.cumulative);
    burns(&mut out, &summary.burns, &summary.month);
    exit(&mut out, &summary.exit);
    markets(&mut out, summary);
    farming_and_minting(&mut out, summary);
    leases_and_farmers(&mut out, summary);
    out
}

fn header(out: &mut String, summary: &Summary) {
    let resumed = if summary.resumed { " (resumed)" } else { "" };
    let _ = writeln!(
        out,
        "TFGrid Economy demo: month {} played{resumed}, node time now {}",
        summary.month_played,
        iso_time(summary.virtual_time)
    );
    let _ = writeln!(out, "  journal entries      {}", summary.entries);
    let _ = writeln!(out, "  state hash           {}", summary.state_hash);
    let replay = if summary.replay_matches { "same hash" } else { "MISMATCH" };
    let _ = writeln!(out, "  replay from scratch  {replay}");
    let invariants = if summary.invariants_ok { "OK" } else { "VIOLATED" };
    let _ = writeln!(out, "  invariants           {invariants}");
    checkpoint_line(out, summary);
    let rejected = json_text(&summary.commands_rejected);
    let accepted = summary.commands_accepted;
    let _ = writeln!(out, "  commands             {accepted} accepted, refused by code {rejected}");
    let _ = writeln!(out, "  TFT locked (vault)   {}", summary.tft_locked_in_vault);
    let _ = writeln!(out, "  TFT global supply    {}", summary.tft_global_supply);
    let _ = writeln!(out, "  treasury             {} CC", amount_text(summary.treasury_cc.as_ref()));
}

fn flows(out: &mut String, month: &Flows, total: &Flows) {
    out.push_str("\nThe month in figures                    this month    since genesis\n");
    let mut row = |name: &str, m: String, t: String| {
        let _ = writeln!(out, "  {name:<32} {m:>14}   {t:>14}");
    };
    row("CC minted (entries)", month.cc_minted.to_string(), total.cc_minted.to_string());
    row("CC paid for capacity", month.capacity_paid_cc.to_string(), total.capacity_paid_cc.to_string());
    row("CC burned", month.cc_burned.to_string(), total.cc_burned.to_string());
    row("TFT deposited (attested)", month.tft_deposited.to_string(), total.tft_deposited.to_string());
    row("USDC deposited (attested)", month.usdc_deposited.to_string(), total.usdc_deposited.to_string());
    row("TFT burned", month.tft_burned.to_string(), total.tft_burned.to_string());
    row(
        "TFT minted as node rewards",
        month.tft_rewards_minted.to_string(),
        total.tft_rewards_minted.to_string(),
    );
}

fn burns(out: &mut String, burns: &Burns, month: &Flows) {
    out.push_str("\nWhat was burned and why\n");
    let _ = writeln!(
        out,
        "  {} CC burned this month: {} CC as the revenue burn share (10% of every CC paid for capacity; \
         {} CC were paid) and {} CC of farmers' revenue converted to {} TFP through Pool 2.",
        burns.cc_burned,
        burns.revenue_share_cc,
        month.capacity_paid_cc,
        burns.converted_cc,
        burns.converted_tfp
    );
    let _ = writeln!(
        out,
        "  {} TFT burned with the revenue burn: the burn share's value in TFT at the oracle price, taken as \
         TFP from pool2.reserve (now {} TFP) and burned with the same TFT from the vault.",
        burns.tft_burned, burns.pool2_reserve_tfp
    );
    let _ = writeln!(
        out,
        "  Waiting now: {} CC of burn share for a valid price; {} TFT owed to the burn (reserve short).",
        burns.burn_pending_cc, burns.burn_owed_tft
    );
}

fn exit(out: &mut String, exit: &ExitSection) {
    out.push_str("\nExit pool (weekly uniform-price exit rounds, spec §8)\n");
    let _ = writeln!(
        out,
        "  funded this month: {} USDC deposited (guardian-attested) and {} USDC of treasury fiat proceeds \
         (guardian-approved); {} positions; the pool holds {} USDC and {} TFP",
        exit.deposited_usdc, exit.from_treasury_usdc, exit.positions, exit.pool_usdc, exit.pool_tfp
    );
    let _ = writeln!(
        out,
        "  {} exit bids submitted; {} rounds closed, {} cleared: {} USDC paid for {} TFP ({} TFP margin to \
         the positions that stayed)",
        exit.bids_submitted,
        exit.rounds_closed,
        exit.rounds_cleared,
        exit.usdc_paid,
        exit.tfp_surrendered,
        exit.margin_tfp
    );
    for round in &exit.rounds {
        let _ = writeln!(
            out,
            "    round {} closed {}: reference {}, clearing {}, cap {} USDC, paid {} USDC, {} bids{}",
            round.round_id.0,
            iso_time(round.closed_at),
            price_text(round.ref_price),
            price_text(round.clearing_price),
            round.cap,
            round.total_paid,
            round.bids,
            round.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "  since genesis: {} USDC paid; {} USD of value contributed by positions",
        exit.usdc_paid_total, exit.value_contributed_usd_total
    );
}

fn markets(out: &mut String, summary: &Summary) {
    let ex = &summary.exchange;
    let _ = writeln!(out, "\nExchange ({}, frequent batch auctions, spec §13)", ex.market);
    let _ = writeln!(
        out,
        "  {} orders placed; {} batches published, {} with trades: {} TFT for {} USDC; price {} .. {}, last {}",
        ex.orders_placed,
        ex.batches,
        ex.batches_with_trades,
        ex.volume_tft,
        ex.volume_usdc,
        price_text(ex.price_low),
        price_text(ex.price_high),
        price_text(ex.last_price)
    );
    let cap = &summary.capacity;
    out.push_str("\nCapacity requests (reverse auction, spec §9)\n");
    let _ = writeln!(
        out,
        "  {} requests posted, {} offers; {} closed: {} filled, {} partly; {} slices leased, {} CC refunded; \
         {} filled since genesis",
        cap.requests_posted,
        cap.offers,
        cap.requests_closed,
        cap.requests_filled,
        cap.requests_partly_filled,
        cap.slices_leased,
        cap.refunded_cc,
        cap.requests_filled_total
    );
    for shortfall in &cap.shortfalls {
        let _ = writeln!(out, "    short: {shortfall}");
    }
    let sb = &summary.standing_bids;
    out.push_str("\nStanding bids (seed tiers, spec §9)\n");
    let _ = writeln!(
        out,
        "  {} slices filled this month, {} since genesis; {} CC escrowed",
        sb.slices_filled, sb.slices_filled_total, sb.escrow_cc
    );
    for bid in &sb.bids {
        let _ = writeln!(
            out,
            "    {:<18} {:>6} CC/slice-month  filled {} of {}  escrow {} CC{}",
            bid.name,
            bid.price_month.to_string(),
            bid.filled,
            bid.quantity,
            bid.escrow,
            if bid.open { "" } else { " (closed)" }
        );
    }
}

/// The guardians' checkpoint: seq and signatures of the threshold.
fn checkpoint_line(out: &mut String, summary: &Summary) {
    let Some(checkpoint) = &summary.checkpoint else {
        let _ = writeln!(out, "  guardian checkpoint  none");
        return;
    };
    let status = if checkpoint.is_final { "final" } else { "pending" };
    let _ = writeln!(
        out,
        "  guardian checkpoint  entry {}, signed {}/{} ({status}; journal {}…, state {}…)",
        checkpoint.seq,
        checkpoint.signatures,
        checkpoint.threshold,
        checkpoint.journal_hash.chars().take(16).collect::<String>(),
        checkpoint.state_hash.chars().take(16).collect::<String>()
    );
}

fn farming_and_minting(out: &mut String, summary: &Summary) {
    let fp = &summary.farming_pools;
    out.push_str("\nFarming pools (spec §10)\n");
    let _ = writeln!(out, "  the pool owners set {} member prices this month", fp.prices_set);
    for pool in &fp.pools {
        let _ = writeln!(
            out,
            "    {}: {} farms, {} nodes, fee {} bps, prices {}; the owner earned {} CC in fees",
            pool.name,
            pool.member_farms,
            pool.member_nodes,
            pool.fee_bps,
            pool.price_policy,
            pool.owner_revenue_cc
        );
    }
    let minting = &summary.minting;
    out.push_str("\nMinting (spec §11)\n");
    let _ = writeln!(
        out,
        "  {} TFT minted as node rewards this month, {} since genesis; {} TFT locked in vesting",
        minting.tft_minted,
        minting.tft_minted_total,
        amount_text(minting.vesting_locked_tft.as_ref())
    );
    for report in minting.reports.as_deref().unwrap_or_default() {
        let _ = writeln!(
            out,
            "    period {} ({} .. {}): {} nodes, {} TFT, hash {}…, signed {}/{}, {}",
            report.period,
            iso_time(report.period_start),
            iso_time(report.period_end),
            report.nodes,
            report.total,
            report.hash.chars().take(16).collect::<String>(),
            report.signatures,
            report.threshold,
            if report.minted_at.is_none() { "pending" } else { "minted into vesting" }
        );
    }
}

fn leases_and_farmers(out: &mut String, summary: &Summary) {
    out.push_str("\nLeases and prices\n");
    let _ = writeln!(out, "  leases               {}", json_text(&summary.leases));
    let _ = writeln!(out, "  prices               {}", json_text(&summary.prices));
    out.push_str("  revenue per farmer (CC):\n");
    for farmer in &summary.revenue_per_farmer {
        let revenue = farmer.revenue_cc.to_string();
        let _ = writeln!(out, "    farmer {:>2}  {revenue:>14}  {}", farmer.farmer, farmer.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_follow_the_calendar() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_time(super::super::START), "2025-11-01T00:00:00Z");
        assert_eq!(iso_time(951_782_400 + 3_661), "2000-02-29T01:01:01Z");
        assert_eq!(iso_time(1_767_225_599), "2025-12-31T23:59:59Z");
    }
}
