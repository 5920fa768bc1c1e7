//! `tfeco bench --suite scale`: an economy of 1,000,000 funded accounts and 1,000,000 open hourly leases
//! built in process (`tfeco_sim::bench::scale`): the time of one billing `Tick` over every open lease, the
//! resident memory per account and per lease, then the node's snapshot of that state (written, fsynced and
//! renamed as the node writes it: [`snapshots::write`]) and the restart from it (read, checksum, decode,
//! hash, derived lookups and invariants: [`snapshots::load`]). `--quick`: 10,000 of each.

use std::time::Instant;

use anyhow::{ensure, Context};
use serde_json::{json, Value};
use tfeco_server::snapshots;
use tfeco_sim::bench::measure::{build_kind, load_average, machine, round3};
use tfeco_sim::bench::scale::{build_and_tick, round6, ScaleSizes};

use super::storage::temp_dir;

/// Targets of the scale suite (a release build on the 2-core reference machine).
const TICK_TARGET_S: f64 = 1.0;
const BYTES_PER_ACCOUNT_TARGET: f64 = 512.0;
const BYTES_PER_LEASE_TARGET: f64 = 1_024.0;

/// Builds the economy, times the tick, the snapshot and the restart: the whole report, `{build, quick, suite,
/// ok, scale: {...}, targets, machine, total_wall_s}`. `ok` is every check passing (every lease charged,
/// invariants, the restarted state's hash); the targets are reported, not enforced. Runs on a blocking
/// thread; `progress` hears each step.
pub(super) fn bench_scale(
    quick: bool,
    threads: usize,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Value> {
    let started = Instant::now();
    let load_before = load_average();
    let sizes = ScaleSizes::new(quick);
    let run = build_and_tick(sizes, threads, progress)?;
    let mut scale = run.figures;
    let state = run.state;
    let dir = temp_dir("scale")?;
    let seq = state.commands_applied();
    let journal_hash = *blake3::hash(b"tfeco bench --suite scale: no journal").as_bytes();
    let timestamp_ms = state.now().saturating_mul(1_000);
    let written = Instant::now();
    let meta = snapshots::write(dir.path(), (seq, journal_hash, timestamp_ms), &state)?;
    let snapshot_write_s = written.elapsed().as_secs_f64();
    let snapshot_bytes = std::fs::metadata(&meta.path).context("the snapshot file")?.len();
    let expected_hash = meta.state_hash.clone();
    drop(state);
    progress("snapshot");
    let restarted = Instant::now();
    let (restored, loaded) = snapshots::load(&meta.path, Some((seq, journal_hash)))?;
    let restart_s = restarted.elapsed().as_secs_f64();
    ensure!(loaded.state_hash == expected_hash, "the snapshot's header changed");
    ensure!(restored.state_hash() == expected_hash, "the restarted state differs from the one written");
    ensure!(restored.capacity().leases().len() == sizes.leases, "the restarted state lost leases");
    drop(restored);
    progress("restart");
    scale.insert("snapshot_write_s".into(), json!(round6(snapshot_write_s)));
    scale.insert("snapshot_bytes".into(), json!(snapshot_bytes));
    scale.insert("restart_s".into(), json!(round6(restart_s)));
    scale.insert("restart_state_hash_ok".into(), json!(true));
    scale.insert("state_hash".into(), json!(expected_hash));
    let met = |field: &str, target: f64| scale.get(field).and_then(Value::as_f64).map(|v| v <= target);
    let targets = json!({
        "tick_s": { "target": TICK_TARGET_S, "met": met("tick_s", TICK_TARGET_S) },
        "bytes_per_account": { "target": BYTES_PER_ACCOUNT_TARGET, "met": met("bytes_per_account", BYTES_PER_ACCOUNT_TARGET) },
        "bytes_per_lease": { "target": BYTES_PER_LEASE_TARGET, "met": met("bytes_per_lease", BYTES_PER_LEASE_TARGET) },
    });
    let mut machine = machine(load_before);
    machine["temp_dir"] = json!(std::env::temp_dir().display().to_string());
    Ok(json!({
        "build": build_kind(),
        "quick": quick,
        "suite": "scale",
        "ok": true,
        "scale": Value::Object(scale),
        "targets": targets,
        "machine": machine,
        "total_wall_s": round3(started.elapsed().as_secs_f64()),
    }))
}

/// The report as a short table.
pub(super) fn scale_text(report: &Value) -> String {
    let s = &report["scale"];
    let f = |field: &str| s[field].as_f64().unwrap_or(f64::NAN);
    format!(
        "scale ({} build): {} accounts, {} hourly leases on {} {} nodes\n  \
         billing Tick over every open lease: {:.3} s (target < 1 s; {} events; CPU share {})\n  \
         resident memory: {:.0} B per account (target <= 512), {:.0} B per lease (target <= 1024)\n  \
         snapshot: {} bytes written in {:.3} s; restart from it (decode, rebuild, invariants): {:.3} s\n  \
         invariants after the tick: {:.3} s; setup s: keys {}, accounts {}, nodes {}, leases {}",
        report["build"].as_str().unwrap_or("?"),
        s["accounts"],
        s["leases"],
        s["nodes"],
        s["node_model"].as_str().unwrap_or("?"),
        f("tick_s"),
        s["tick_events"],
        s["tick_cpu_share"],
        f("bytes_per_account"),
        f("bytes_per_lease"),
        s["snapshot_bytes"],
        f("snapshot_write_s"),
        f("restart_s"),
        f("invariants_s"),
        s["setup_keys_s"],
        s["setup_accounts_s"],
        s["setup_nodes_s"],
        s["setup_leases_s"],
    )
}
