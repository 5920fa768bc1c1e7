//! A throw-away PostgreSQL server (cargo feature `temp-postgres`): [`TempPostgres`] runs `initdb` in a
//! temporary directory and starts the server with `pg_ctl` on a free loopback port (trust authentication,
//! user [`USER`]), and stops it (and deletes the directory) on drop. Used by `tfeco bench --suite compare`
//! when no server is given, and by the test kit (`tfeco_testkit::postgres`), which adds installing the tools
//! and one shared server per test process. For failover tests it also runs streaming replication: a
//! primary ([`TempPostgres::start_primary`]), hot standbys (synchronous or not) made with `pg_basebackup -R`,
//! a crash (`pg_ctl stop -m immediate`), promotion, and rejoining a failed primary with `pg_rewind`.
//!
//! The tools are found on `PATH`, then in `/usr/lib/postgresql/*/bin` ([`find_bin`]). PostgreSQL refuses to
//! run as root: as root, `initdb` and `pg_ctl` run as the `postgres` OS user, which owns the directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// The database superuser the server is initialised with (trust authentication on loopback).
pub const USER: &str = "tfeco";

/// Why a temporary server could not be started or used: the step and the tool's output.
#[derive(Debug, thiserror::Error)]
#[error("temporary PostgreSQL: {0}")]
pub struct TempPostgresError(pub String);

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

/// Runs `command`; its output, or an error naming `what` with the output when it fails.
fn run(mut command: Command, what: &str) -> Result<Output, TempPostgresError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TempPostgresError(format!("{what}: cannot run {command:?}: {e}")))?;
    if !output.status.success() {
        return Err(TempPostgresError(format!(
            "{what} failed ({}): {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(output)
}

/// Whether this process runs as root (`id -u` is 0).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory holding `initdb`, `pg_ctl` and `createdb`: `PATH` first (symlinks followed), then
/// `/usr/lib/postgresql/*/bin` (newest). `None` when PostgreSQL is not installed.
pub fn find_bin() -> Option<PathBuf> {
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

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> Result<u16, TempPostgresError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| TempPostgresError(format!("cannot bind a free loopback port: {e}")))
}

impl TempPostgres {
    /// Initialises and starts a new server with the tools [`find_bin`] finds, its directory in the system
    /// temp directory. Errors: the tools are not installed, or `initdb`/`pg_ctl` failed (with their output).
    pub fn start() -> Result<TempPostgres, TempPostgresError> {
        let bin = find_bin().ok_or_else(|| {
            TempPostgresError(
                "initdb/pg_ctl are not installed (not on PATH nor in /usr/lib/postgresql/*/bin): install \
                 PostgreSQL (Debian: apt-get install -y postgresql)"
                    .to_owned(),
            )
        })?;
        Self::start_with(bin)
    }

    /// As [`TempPostgres::start`] with the tools in `bin`.
    pub fn start_with(bin: PathBuf) -> Result<TempPostgres, TempPostgresError> {
        let server = Self::initialised(bin)?;
        server.started()
    }

    /// A new directory with a freshly `initdb`-ed cluster in `data/`, not started.
    fn initialised(bin: PathBuf) -> Result<TempPostgres, TempPostgresError> {
        let server = Self::empty(bin)?;
        let data = server.data_dir();
        let mut initdb = server.tool("initdb");
        initdb.arg("-D").arg(&data).args(["-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C"]);
        run(initdb, "initdb")?;
        Ok(server)
    }

    /// A new empty temporary directory (owned by `postgres` when we are root) for a server.
    fn empty(bin: PathBuf) -> Result<TempPostgres, TempPostgresError> {
        let run_as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("tfeco-pg-")
            .tempdir()
            .map_err(|e| TempPostgresError(format!("cannot create a temporary directory: {e}")))?;
        if run_as_postgres {
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("postgres:").arg(dir.path());
            run(chown, "chown the PostgreSQL directory to the postgres user")?;
        }
        Ok(TempPostgres {
            dir,
            bin,
            port: 0,
            run_as_postgres,
            databases: AtomicU32::new(0),
            create_lock: Mutex::new(()),
        })
    }

    /// Starts the server on a free port (a port can be taken between probing and binding: tries a few): a
    /// new one, or a standby made by [`TempPostgres::base_backup`]. Errors: `pg_ctl start` failed.
    pub fn started(mut self) -> Result<TempPostgres, TempPostgresError> {
        let mut last = String::new();
        for _ in 0..5 {
            self.port = free_port()?;
            match self.pg_ctl_start() {
                Ok(()) => return Ok(self),
                Err(why) => last = why,
            }
        }
        Err(TempPostgresError(format!("pg_ctl start failed: {last}")))
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
    /// Errors: `createdb` failed (with its output).
    pub fn create_database(&self) -> Result<String, TempPostgresError> {
        let name = format!("t{}", self.databases.fetch_add(1, Ordering::Relaxed) + 1);
        // CREATE DATABASE copies template1, which concurrent creations may hold: one at a time.
        let _one = self.create_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut createdb = Command::new(self.bin.join("createdb"));
        createdb.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER, &name]);
        run(createdb, "createdb")?;
        Ok(self.url(&name))
    }

    /// Stops the server when process `pid` has ended (a detached shell polling it), then deletes the
    /// directory: for a server in a static, which is never dropped. Errors: the watcher could not start.
    pub fn stop_when_process_ends(&self, pid: u32) -> Result<(), TempPostgresError> {
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
        run(watcher, "start the watcher that stops the temporary PostgreSQL server when the process ends")?;
        Ok(())
    }
}

/// The role standbys replicate as (`REPLICATION LOGIN`), allowed on loopback by its own `pg_hba.conf` line.
pub const REPLICATION_USER: &str = "replicator";

/// Settings of a primary that streams its WAL to standbys (appended to its `postgresql.conf`);
/// `wal_log_hints` lets `pg_rewind` turn a failed primary into a standby of the promoted one.
const PRIMARY_SETTINGS: &str = "
wal_level = replica
max_wal_senders = 10
wal_keep_size = '256MB'
wal_log_hints = on
hot_standby = on
synchronous_commit = on
";

/// Streaming replication (issue 13, failover): a primary with [`TempPostgres::start_primary`], hot standbys
/// made with `pg_basebackup -R` ([`TempPostgres::base_backup`], [`TempPostgres::start_standby`]),
/// promotion, an immediate stop (a crash), and rejoining a failed primary as a standby with `pg_rewind`.
impl TempPostgres {
    /// Initialises and starts a primary for streaming replication (`wal_level = replica`, `wal_log_hints`,
    /// WAL senders; a [`REPLICATION_USER`] role and its `pg_hba.conf` line). Replication is asynchronous until
    /// [`TempPostgres::start_standby`] names a synchronous standby (a primary waiting for a standby that does
    /// not exist yet would block every commit). Errors: as [`TempPostgres::start_with`].
    pub fn start_primary(bin: PathBuf) -> Result<TempPostgres, TempPostgresError> {
        let server = Self::initialised(bin)?;
        server.append_conf(PRIMARY_SETTINGS)?;
        let hba = server.data_dir().join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba)
            .map_err(|e| TempPostgresError(format!("read {}: {e}", hba.display())))?;
        let line = format!("host replication {REPLICATION_USER} 127.0.0.1/32 trust\n");
        std::fs::write(&hba, line + &rules)
            .map_err(|e| TempPostgresError(format!("write {}: {e}", hba.display())))?;
        let server = server.started()?;
        server.query("postgres", &format!("CREATE ROLE {REPLICATION_USER} WITH REPLICATION LOGIN"))?;
        Ok(server)
    }

    /// Appends `text` to the server's `postgresql.conf` (read at its next start).
    fn append_conf(&self, text: &str) -> Result<(), TempPostgresError> {
        use std::io::Write;
        let path = self.data_dir().join("postgresql.conf");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| TempPostgresError(format!("append to {}: {e}", path.display())))
    }

    /// Runs `sql` in database `db` with `psql` (as [`USER`]) and returns its unaligned output, trimmed.
    /// Errors: `psql` failed (with its output).
    pub fn query(&self, db: &str, sql: &str) -> Result<String, TempPostgresError> {
        let mut psql = Command::new(self.bin.join("psql"));
        psql.args([
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
        ]);
        psql.args(["-U", USER, "-d", db, "-c", sql]);
        let output = run(psql, "psql")?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// A base backup of this (running) primary for a standby named `name`, not started:
    /// `pg_basebackup -R -X stream` as [`REPLICATION_USER`] with `application_name=name` (the name
    /// `synchronous_standby_names` refers to). Its own `synchronous_standby_names` is emptied in
    /// `postgresql.conf` (once promoted it has no standby to wait for). Start it with [`TempPostgres::started`]. Errors: `pg_basebackup` failed.
    pub fn base_backup(&self, name: &str) -> Result<TempPostgres, TempPostgresError> {
        let standby = Self::empty(self.bin.clone())?;
        let source =
            format!("host=127.0.0.1 port={} user={REPLICATION_USER} application_name={name}", self.port);
        let mut backup = standby.tool("pg_basebackup");
        backup.arg("-D").arg(standby.data_dir()).args(["-R", "-X", "stream", "-c", "fast", "-d", &source]);
        run(backup, "pg_basebackup")?;
        standby.append_conf("synchronous_standby_names = ''\n")?;
        Ok(standby)
    }

    /// A running hot standby of this primary, named `name` ([`TempPostgres::base_backup`], then started),
    /// streaming. With `synchronous`, the primary then makes it its synchronous standby
    /// (`ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (name)'`, reloaded; `synchronous_commit` is
    /// `on`): from then on a commit returns only once the standby has flushed it. Errors: a step failed, or
    /// the standby did not reach the state within 60 s.
    pub fn start_standby(&self, name: &str, synchronous: bool) -> Result<TempPostgres, TempPostgresError> {
        let standby = self.base_backup(name)?.started()?;
        self.wait_for_standby(name, "async")?;
        if synchronous {
            self.query(
                "postgres",
                &format!("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 ({name})'"),
            )?;
            self.query("postgres", "SELECT pg_reload_conf()")?;
            self.wait_for_standby(name, "sync")?;
        }
        Ok(standby)
    }

    /// Waits (up to 60 s) until standby `name` streams from this primary in state `sync` (when it is the
    /// synchronous standby) or `async`. Errors: it did not, with `pg_stat_replication`'s rows.
    fn wait_for_standby(&self, name: &str, sync_state: &str) -> Result<(), TempPostgresError> {
        let sql = "SELECT application_name || ':' || state || ':' || sync_state FROM pg_stat_replication";
        let wanted = format!("{name}:streaming:{sync_state}");
        let mut rows = String::new();
        for _ in 0..600 {
            rows = self.query("postgres", sql)?;
            if rows.lines().any(|row| row == wanted) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(TempPostgresError(format!("standby {name} is not {sync_state} after 60 s: {rows:?}")))
    }

    /// `pg_ctl stop -m immediate`: the server stops at once without a checkpoint, as in a crash (its files
    /// stay; [`TempPostgres::restart`] starts it again). Errors: `pg_ctl` failed.
    pub fn stop_immediate(&self) -> Result<(), TempPostgresError> {
        let mut stop = self.tool("pg_ctl");
        stop.arg("-D").arg(self.data_dir()).args(["stop", "-m", "immediate", "-w"]);
        run(stop, "pg_ctl stop -m immediate").map(drop)
    }

    /// Starts a stopped server again on its port. Errors: `pg_ctl start` failed (with the server's log).
    pub fn restart(&self) -> Result<(), TempPostgresError> {
        self.pg_ctl_start().map_err(|why| TempPostgresError(format!("pg_ctl start failed: {why}")))
    }

    /// `pg_ctl promote -w`: a standby ends recovery and becomes a primary on a new timeline.
    /// Errors: `pg_ctl` failed (not a standby, not running).
    pub fn promote(&self) -> Result<(), TempPostgresError> {
        let mut promote = self.tool("pg_ctl");
        promote.arg("-D").arg(self.data_dir()).args(["promote", "-w", "-t", "60"]);
        run(promote, "pg_ctl promote").map(drop)
    }

    /// Rejoins this stopped, failed primary as a standby of `primary` (the promoted standby): a `CHECKPOINT`
    /// on `primary` first (`pg_rewind` reads the source's timeline from its control file, which the first
    /// checkpoint after promotion updates; before it, pg_rewind sees one timeline and rewinds nothing), then
    /// `pg_rewind -R --source-server=...` rewinds its files to where the timelines diverged (discarding
    /// what only it had) and writes `standby.signal` and `primary_conninfo`; then starts it. Errors:
    /// `pg_rewind` or the start failed.
    pub fn rejoin_as_standby_of(&self, primary: &TempPostgres) -> Result<(), TempPostgresError> {
        primary.query("postgres", "CHECKPOINT")?;
        let source = format!("host=127.0.0.1 port={} user={USER} dbname=postgres", primary.port);
        let mut rewind = self.tool("pg_rewind");
        rewind.arg("-D").arg(self.data_dir()).arg(format!("--source-server={source}")).arg("-R");
        run(rewind, "pg_rewind")?;
        self.append_conf("synchronous_standby_names = ''\n")?;
        self.restart()
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
