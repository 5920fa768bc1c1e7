//! `tfeco wallet lease|farm`: a tenant's leases (open at a node's listed price, cancel, list) and a farmer's
//! farms and nodes (create, add a node of a catalogue model, set a slice price).

use std::process::ExitCode;

use clap::Subcommand;
use tfeco_core::{Command, FarmId, LeaseId, NodeId, NodeSpec};
use tfeco_money::{Amount, Cc};
use tfeco_wallet::api::capacity::LeasesQuery;

use crate::args::BillingArg;
use crate::connect::Session;
use crate::render;

/// `tfeco wallet lease ...`.
#[derive(Subcommand)]
pub(super) enum LeaseCommand {
    /// Lease slices of a node at its listed price (first period charged at once).
    Open {
        /// Node id.
        #[arg(long)]
        node: u32,
        /// Number of slices.
        #[arg(long, default_value_t = 1)]
        slices: u32,
        /// Billing of the lease.
        #[arg(long, value_enum, default_value_t = BillingArg::Monthly)]
        billing: BillingArg,
        /// Periods until the lease expires (default: until cancelled).
        #[arg(long)]
        periods: Option<u32>,
    },
    /// Cancel a lease (it ends with its paid period).
    Cancel {
        /// Lease id.
        #[arg(long)]
        lease: u64,
    },
    /// List this wallet's leases.
    List,
}

/// `tfeco wallet farm ...`.
#[derive(Subcommand)]
pub(super) enum FarmCommand {
    /// Register a farm.
    Create {
        /// Farm name.
        #[arg(long)]
        name: String,
    },
    /// Register a node of a catalogue model in a farm.
    AddNode {
        /// Farm id.
        #[arg(long)]
        farm: u32,
        /// Catalogue model name, e.g. "Mini 3".
        #[arg(long)]
        model: String,
        /// Slices offered (default: the model's typical slices).
        #[arg(long)]
        offered: Option<u32>,
    },
    /// Set a node's slice price (CC per slice-month, inside the band).
    Price {
        /// Node id.
        #[arg(long)]
        node: u32,
        /// CC per slice-month.
        #[arg(long)]
        price: Amount<Cc>,
    },
}

/// Runs `tfeco wallet lease ...`.
pub(super) async fn run_lease(session: &Session, command: LeaseCommand) -> anyhow::Result<ExitCode> {
    let command = match command {
        LeaseCommand::List => {
            let query = LeasesQuery { tenant: Some(session.account()?), open: None };
            let leases = session.client.leases(&query).await;
            return session.answer(leases, |view| render::pretty(&view.leases));
        }
        LeaseCommand::Open { node, slices, billing, periods } => Command::OpenLease {
            node_id: NodeId(node),
            n_slices: slices,
            billing: billing.billing(),
            periods,
        },
        LeaseCommand::Cancel { lease } => Command::CancelLease { lease_id: LeaseId(lease) },
    };
    session.submit(command).await
}

/// Runs `tfeco wallet farm ...`.
pub(super) async fn run_farm(session: &Session, command: FarmCommand) -> anyhow::Result<ExitCode> {
    let command = match command {
        FarmCommand::Create { name } => Command::RegisterFarm { name },
        FarmCommand::AddNode { farm, model, offered } => Command::RegisterNode {
            farm_id: FarmId(farm),
            spec: NodeSpec::Model { model },
            offered_slices: offered,
        },
        FarmCommand::Price { node, price } => Command::SetSlicePrice { node_id: NodeId(node), price },
    };
    session.submit(command).await
}
