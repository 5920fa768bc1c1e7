//! `tfeco node agent --node N [--from SEQ]`: follows the node's events (`GET /v1/events?node=N`) and prints
//! one JSON line per action the farmer's node must take (`provision`, `stop_scheduled`, `stop`,
//! `grace_warning`, `grace_cleared`); the line format is in `docs/api.md`, section "Node agent". After a
//! dropped connection it reconnects with `Last-Event-ID`, so no entry is missed or repeated.

use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{json, Value};
use tfeco_core::{Event, LeaseId, NodeId};
use tfeco_wallet::api::capacity::{LeasesQuery, NodeView, NodesQuery};
use tfeco_wallet::api::events::EventEntry;
use tfeco_wallet::{CallError, Client};

use crate::connect::Session;
use crate::render;

/// Arguments of `tfeco node agent`.
#[derive(clap::Args)]
pub(crate) struct AgentArgs {
    /// The node id to act for.
    #[arg(long)]
    node: u32,
    /// Start at this journal seq (inclusive), e.g. 1 for the node's whole history; default: from now.
    #[arg(long)]
    from: Option<u64>,
    /// Stop after printing this many lines.
    #[arg(long)]
    max_lines: Option<u64>,
    /// Stop once the entries up to this journal seq are handled.
    #[arg(long)]
    until_seq: Option<u64>,
}

/// Seconds to wait before reconnecting after a dropped stream.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Runs `tfeco node agent`: prints action lines until a bound is reached (or forever). With
/// `--until-seq`, each request reads up to the journal head (`follow=false`) and the agent asks again until
/// the head passes the bound.
pub(crate) async fn run(session: &Session, args: AgentArgs) -> anyhow::Result<ExitCode> {
    let node_id = NodeId(args.node);
    let mut last_seq: Option<u64> = args.from.map(|from| from.saturating_sub(1));
    let mut printed = 0u64;
    loop {
        let head_before = match args.until_seq {
            Some(_) => match session.client.status().await {
                Ok(status) => Some(status.seq),
                Err(error) => return Ok(render::call_error(session.json, &error)),
            },
            None => None,
        };
        let follow = if head_before.is_some() { "&follow=false" } else { "" };
        let query = format!("node={}{follow}", args.node);
        let stream = match session.client.events(&query, last_seq).await {
            Ok(stream) => stream,
            Err(error @ CallError::Refused { .. }) => return Ok(render::call_error(session.json, &error)),
            Err(error) => {
                eprintln!("event stream: {error}; reconnecting");
                tokio::time::sleep(RECONNECT_DELAY).await;
                continue;
            }
        };
        let mut stream = std::pin::pin!(stream);
        while let Some(message) = stream.next().await {
            let entry = match message {
                Ok(entry) => entry,
                Err(error) => {
                    eprintln!("event stream: {error}; reconnecting");
                    break;
                }
            };
            if args.until_seq.is_some_and(|until| entry.seq > until) {
                return Ok(ExitCode::SUCCESS);
            }
            last_seq = Some(entry.seq);
            for line in actions(&session.client, node_id, &entry).await {
                render::emit_line(&line.to_string())?;
                printed += 1;
                if args.max_lines.is_some_and(|max| printed >= max) {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        if let (Some(until), Some(head)) = (args.until_seq, head_before) {
            if head >= until {
                return Ok(ExitCode::SUCCESS);
            }
            // Every entry up to `head` was considered by the request that just ended.
            last_seq = Some(last_seq.unwrap_or(0).max(head));
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// The action lines of one entry for `node_id`.
async fn actions(client: &Client, node_id: NodeId, entry: &EventEntry) -> Vec<Value> {
    let mut lines = Vec::new();
    let base = |action: &str, lease_id: LeaseId| json!({"action": action, "seq": entry.seq, "ts": entry.ts, "node_id": node_id.0, "lease_id": lease_id.0});
    for event in &entry.events {
        let line = match event {
            Event::LeaseOpened { lease_id, node_id: on, n_slices, billing, .. } if *on == node_id => {
                let mut line = base("provision", *lease_id);
                line["n_slices"] = json!(n_slices);
                line["billing"] = json!(billing);
                let (tenant, resources) = provision_details(client, node_id, *lease_id, *n_slices).await;
                line["tenant"] = tenant;
                line["resources"] = resources;
                line
            }
            Event::LeaseOpened { .. } => continue,
            Event::LeaseGraceStarted { lease_id, grace_until } => {
                let mut line = base("grace_warning", *lease_id);
                line["grace_until"] = json!(grace_until);
                line
            }
            Event::LeaseResumed { lease_id } => base("grace_cleared", *lease_id),
            Event::LeaseCancelRequested { lease_id, ends_at } => {
                let mut line = base("stop_scheduled", *lease_id);
                line["ends_at"] = json!(ends_at);
                line
            }
            Event::LeaseClosed { lease_id, reason, at } => {
                let mut line = base("stop", *lease_id);
                line["reason"] = json!(reason);
                line["at"] = json!(at);
                line
            }
            _ => continue,
        };
        lines.push(line);
    }
    lines
}

/// The lease's tenant and the resources of `n_slices` of the node (each resource of the node times
/// `n_slices / slices`, rounded down); `null` for what the node cannot tell.
async fn provision_details(
    client: &Client,
    node_id: NodeId,
    lease_id: LeaseId,
    n_slices: u32,
) -> (Value, Value) {
    let tenant = match client.leases(&LeasesQuery::default()).await {
        Ok(view) => view.leases.iter().find(|l| l.id == lease_id).map_or(Value::Null, |l| json!(l.tenant)),
        Err(_) => Value::Null,
    };
    let node: Option<NodeView> = client
        .nodes(&NodesQuery::default())
        .await
        .ok()
        .and_then(|view| view.nodes.into_iter().find(|n| n.id == node_id));
    let resources = node.map_or(Value::Null, |node| {
        let mut resources = serde_json::to_value(node.resources).unwrap_or_default();
        if let Some(fields) = resources.as_object_mut() {
            for value in fields.values_mut() {
                if let Some(total) = value.as_u64() {
                    *value = json!(total * u64::from(n_slices) / u64::from(node.slices.max(1)));
                }
            }
        }
        resources
    });
    (tenant, resources)
}
