//! The `tfeco` binary: the async runtime, logging (`TFECO_LOG`, to stderr, as text or JSON lines) and exit
//! codes around the command tree of `cli.rs`. The commands live in `cmd/` (one module per group; every HTTP
//! call is a typed method of `tfeco_wallet::Client`), their human output in `render/`; the simulator (demo,
//! benchmark workloads) is the `tfeco-sim` library. Spec policy (bid tiers, limits) comes from the node's
//! parameters or the core.

mod args;
mod cli;
mod cmd;
mod connect;
mod filter;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(match &cli.command {
        cli::Commands::Serve(args) => args.log_format,
        _ => cmd::serve::LogFormat::Text,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli.command.run()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Log lines go to stderr, filtered by `TFECO_LOG` (default `warn`), as text or JSON lines
/// (`tfeco serve --log-format`).
fn init_logging(format: cmd::serve::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TFECO_LOG").unwrap_or_else(|_| "warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        cmd::serve::LogFormat::Text => logs.init(),
        cmd::serve::LogFormat::Json => logs.json().init(),
    }
}
