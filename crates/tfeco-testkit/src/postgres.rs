//! A real PostgreSQL server for tests: [`TempPostgres`] (from `tfeco_journal::temp_postgres`) runs `initdb`
//! in a temporary directory and starts the server with `pg_ctl` on a free loopback port (trust
//! authentication, user [`USER`]), and stops it (and deletes the directory) on drop. [`shared`] is one server
//! per test process, with [`fresh_database`] giving each test its own new database.
//!
//! The tools are found on `PATH`, then in `/usr/lib/postgresql/*/bin`; when missing and running as root,
//! Debian's `postgresql` package is installed (`apt-get install -y postgresql`). The shared server is also
//! stopped by a small watcher process when the test process exits (statics are never dropped), so no server
//! outlives its tests.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use tfeco_journal::temp_postgres::{find_bin, is_root};
pub use tfeco_journal::temp_postgres::{TempPostgres, USER};

/// Finds the PostgreSQL tools' directory, installing Debian's `postgresql` when they are missing and we are
/// root (for tests that start servers of their own, e.g. a primary and its standby).
pub fn bin_dir() -> PathBuf {
    if let Some(bin) = find_bin() {
        return bin;
    }
    assert!(
        is_root(),
        "PostgreSQL's initdb/pg_ctl are not installed (not on PATH nor in /usr/lib/postgresql/*/bin) and \
         this test is not root: install them with `apt-get install -y postgresql`"
    );
    let apt = |args: &[&str]| {
        let mut command = Command::new("apt-get");
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command.stdin(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
    };
    if !apt(&["install", "-y", "postgresql"]) {
        assert!(apt(&["update"]), "apt-get update failed while installing PostgreSQL");
        assert!(apt(&["install", "-y", "postgresql"]), "apt-get install -y postgresql failed");
    }
    find_bin().expect("PostgreSQL was installed but initdb/pg_ctl are still not found")
}

/// Starts a new server, installing the tools first when missing (as root). Panics (with the tools' output)
/// when that fails.
pub fn start() -> TempPostgres {
    TempPostgres::start_with(bin_dir()).unwrap_or_else(|e| panic!("{e}"))
}

/// The test process's PostgreSQL server, started on first use and stopped when the process ends.
pub fn shared() -> &'static TempPostgres {
    static SERVER: OnceLock<TempPostgres> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = start();
        server.stop_when_process_ends(std::process::id()).unwrap_or_else(|e| panic!("{e}"));
        server
    })
}

/// A new empty database on the [`shared`] server; returns its URL (`postgres://tfeco@127.0.0.1:PORT/DB`).
pub fn fresh_database() -> String {
    shared().create_database().unwrap_or_else(|e| panic!("{e}"))
}
