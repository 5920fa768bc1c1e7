//! A real PostgreSQL server for tests: [`TempPostgres`] runs `initdb` in a temporary directory and starts
//! the server with `pg_ctl` on a free loopback port (trust authentication, user `tfeco`), and stops it
//! (and deletes the directory) on drop. [`shared`] is one server per test process, with
//! [`fresh_database`] giving each test its own new database.
//!
//! The tools are found on `PATH`, then in `/usr/lib/postgresql/*/bin`; when missing and running as root,
//! Debian's `postgresql` package is installed (`apt-get install -y postgresql`). PostgreSQL refuses to run
//! as root: as root, `initdb` and `pg_ctl` run as the `postgres` OS user, which owns the directory.
//! The shared server is also stopped by a small watcher process when the test process exits (statics are
//! never dropped), so no server outlives its tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// The database superuser the server is initialised with (trust authentication on loopback).
pub const USER: &str = "tfeco";

/// A PostgreSQL server in a temporary directory, listening on `127.0.0.1:`[`TempPostgres::port`].
/// Dropping it stops the server (`pg_ctl stop -m immediate`) and deletes its files.
pub struct TempPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    run_as_postgres: bool,
    databases: AtomicU32,
    create_lock: Mutex<()>,
}

impl std::fmt::Debug for TempPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempPostgres").field("dir", &self.dir.path()).field("port", &self.port).finish()
    }
}

/// Runs `command`, panicking with its output when it fails.
fn run(mut command: Command, what: &str) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory holding `initdb`, `pg_ctl` and `createdb`: `PATH` first (symlinks followed), then `/usr/lib/postgresql/*/bin` (newest).
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        // Follow a symlink to the real directory, which also holds `createdb`.
        .and_then(|dir| std::fs::canonicalize(dir.join("initdb")).ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf));
    if on_path.as_ref().is_some_and(|dir| dir.join("createdb").is_file()) {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Finds the PostgreSQL tools, installing Debian's `postgresql` when they are missing and we are root.
fn bin_dir() -> PathBuf {
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

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind a free loopback port").port()
}

impl TempPostgres {
    /// Initialises and starts a new server. Panics (with the tools' output) when that fails.
    pub fn start() -> TempPostgres {
        let bin = bin_dir();
        let run_as_postgres = is_root();
        let dir = tempfile::Builder::new().prefix("tfeco-pg-").tempdir().expect("temp dir");
        if run_as_postgres {
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("postgres:").arg(dir.path());
            run(chown, "chown the PostgreSQL directory to the postgres user");
        }
        let mut server = TempPostgres {
            dir,
            bin,
            port: 0,
            run_as_postgres,
            databases: AtomicU32::new(0),
            create_lock: Mutex::new(()),
        };
        let data = server.data_dir();
        let mut initdb = server.tool("initdb");
        initdb.arg("-D").arg(&data).args(["-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C"]);
        run(initdb, "initdb");
        // A port can be taken between probing and binding: try a few.
        let mut last = None;
        for _ in 0..5 {
            server.port = free_port();
            match server.pg_ctl_start() {
                Ok(()) => return server,
                Err(why) => last = Some(why),
            }
        }
        panic!("pg_ctl start failed: {}", last.unwrap_or_default());
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `bin/name` as a command, run as the `postgres` OS user when we are root.
    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.run_as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        let mut start = self.tool("pg_ctl");
        start.arg("-D").arg(self.data_dir()).arg("-l").arg(self.dir.path().join("server.log"));
        start.args(["-o", &options, "-w", "-t", "60", "start"]);
        let output = start.stdin(Stdio::null()).output().map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        Err(format!(
            "{}{}\n{log}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's directory (its data directory is `data/` inside, its log `server.log`).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The URL of database `db`: `postgres://tfeco@127.0.0.1:PORT/DB`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a new empty database (`CREATE DATABASE` through `createdb`) and returns its URL.
    pub fn create_database(&self) -> String {
        let name = format!("t{}", self.databases.fetch_add(1, Ordering::Relaxed) + 1);
        // CREATE DATABASE copies template1, which concurrent creations may hold: one at a time.
        let _one = self.create_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut createdb = Command::new(self.bin.join("createdb"));
        createdb.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER, &name]);
        run(createdb, "createdb");
        self.url(&name)
    }

    /// Stops the server when process `pid` has ended (a detached shell polling it), then deletes the
    /// directory: for a server in a static, which is never dropped.
    fn stop_when_process_ends(&self, pid: u32) {
        let stop = format!(
            "{}{} -D '{}' stop -m immediate",
            if self.run_as_postgres { "runuser -u postgres -- " } else { "" },
            self.bin.join("pg_ctl").display(),
            self.data_dir().display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{}'",
            self.dir.path().display()
        );
        // Detached: the shell starts the watcher in the background and exits at once (reaped here).
        let detached = format!("( {script} ) </dev/null >/dev/null 2>&1 &");
        let mut watcher = Command::new("sh");
        watcher.args(["-c", &detached]);
        run(watcher, "start the watcher that stops the test PostgreSQL server when the tests end");
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let mut stop = self.tool("pg_ctl");
        stop.arg("-D").arg(self.data_dir()).args(["stop", "-m", "immediate", "-w"]);
        // Best effort (a drop cannot fail): a server that cannot be stopped loses its directory anyway.
        let _ = stop.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

/// The test process's PostgreSQL server, started on first use and stopped when the process ends.
pub fn shared() -> &'static TempPostgres {
    static SERVER: OnceLock<TempPostgres> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = TempPostgres::start();
        server.stop_when_process_ends(std::process::id());
        server
    })
}

/// A new empty database on the [`shared`] server; returns its URL (`postgres://tfeco@127.0.0.1:PORT/DB`).
pub fn fresh_database() -> String {
    shared().create_database()
}
