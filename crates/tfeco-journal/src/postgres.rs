//! [`PostgresJournal`]: the journal in a PostgreSQL database, with the same records, hash chain, checksums,
//! genesis root, metadata and error semantics as [`crate::SqliteJournal`] (the sealing and checking is the
//! shared code of `record.rs`). Tables: `entries` (one row per entry), `meta` (key/value, with the
//! `format_version` row) and `writer` (one row: the writer lease's epoch).
//!
//! Durability: every append is one transaction (the group commit) committed with `synchronous_commit = on`
//! on a server running with `fsync = on` (checked at open), so a batch is durable when `append` returns.
//!
//! Writer lease (fencing): [`PostgresJournal::open`] (or [`PostgresJournal::take_lease`] after
//! [`PostgresJournal::open_existing`]) increments the `writer` epoch and keeps the new value;
//! every write transaction locks the row (`SELECT ... FOR UPDATE`) and commits only while the epoch is still
//! its own. A writer that another process has replaced (opened the same database since) gets
//! [`JournalError::Fenced`] and is poisoned: a paused or partitioned old writer can never append again.
//!
//! The connection lives on its own thread ([`Conn`]): the synchronous `postgres` client runs a private
//! async runtime, which must not be entered from a thread of the node's runtime; so every call is sent to
//! that thread and its owned result sent back, and the journal can be used from any thread.

use std::sync::mpsc;
use std::thread::JoinHandle;

use postgres::error::SqlState;
use postgres::{Client, NoTls, Row, Transaction};

use crate::record::{check_timestamps, seal, unsealed, ChainCheck, TailCheck};
use crate::{
    genesis_root, is_reserved_key, CorruptReason, Entry, EntryHash, EntryRef, Head, Journal, JournalError,
    NewEntry, OpenReport, FORMAT_VERSION, FORMAT_VERSION_KEY, GENESIS_KEY, LAST_COMMIT_KEY, ZERO_HASH,
};

/// Selects entry columns in the order [`decode`] expects, followed by the given SQL tail.
macro_rules! select_entries {
    ($tail:literal) => {
        concat!("SELECT seq, ts, signer, payload, signature, prev_hash, hash, checksum FROM entries ", $tail)
    };
}
const SELECT_ONE: &str = select_entries!("WHERE seq = $1");
const SELECT_PAGE: &str = select_entries!("WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3");
const UPSERT_META: &str =
    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
/// Inserts a whole batch in one statement (one round trip): one array per column.
const INSERT_BATCH: &str =
    "INSERT INTO entries (seq, ts, signer, payload, signature, prev_hash, hash, checksum) \
     SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BYTEA[], $4::BYTEA[], $5::BYTEA[], $6::BYTEA[], \
     $7::BYTEA[], $8::BIGINT[])";
const SCHEMA: &str = "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
    CREATE TABLE entries (
        seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, signer BYTEA NOT NULL, payload BYTEA NOT NULL,
        signature BYTEA NOT NULL, prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL, checksum BIGINT NOT NULL);
    CREATE TABLE writer (id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id), epoch BIGINT NOT NULL);
    INSERT INTO writer (id, epoch) VALUES (TRUE, 0);";
/// Key of the transaction-scoped advisory lock that serialises schema creation between concurrent openers.
const SCHEMA_LOCK: i64 = 0x7466_6563_6f6a_6e6c; // "tfecojnl"
/// Rows fetched per round trip by [`Journal::replay`] (bounds the memory a replay holds).
const PAGE: i64 = 512;

/// Maps a PostgreSQL error to a [`JournalError`] whose message names what was being done. A lock that
/// cannot be taken is [`JournalError::Locked`]; everything else is `Io` (a write refused by a read-only
/// server says so: a standby, or a session opened read-only).
fn pg(context: &'static str) -> impl Fn(postgres::Error) -> JournalError {
    move |e| {
        let detail = e.as_db_error().map_or_else(|| e.to_string(), |db| db.to_string());
        match e.code() {
            Some(code) if *code == SqlState::LOCK_NOT_AVAILABLE => {
                JournalError::Locked(format!("{context}: {detail}"))
            }
            Some(code) if *code == SqlState::READ_ONLY_SQL_TRANSACTION => JournalError::Io(format!(
                "{context}: the PostgreSQL server refuses writes ({detail}): it is a standby in recovery or \
                 the session is read-only; a writer needs the primary"
            )),
            _ => JournalError::Io(format!("{context}: {detail}")),
        }
    }
}

/// A job for the connection thread.
type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// One PostgreSQL connection owned by a dedicated thread; [`Conn::run`] runs a closure there and waits for
/// its result. Dropping it closes the connection and joins the thread.
struct Conn {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Conn {
    /// Starts the thread and connects. Errors: `Io` (cannot connect, cannot start a thread).
    fn connect(url: &str, target: &str) -> Result<Conn, JournalError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::sync_channel(1);
        let (url, target) = (url.to_owned(), target.to_owned());
        let thread = std::thread::Builder::new()
            .name("journal-postgres".into())
            .spawn(move || {
                let mut client = match Client::connect(&url, NoTls) {
                    Ok(client) => client,
                    Err(e) => {
                        let message = format!("connect to PostgreSQL at {target}: {e}");
                        let _ = ready.send(Err(JournalError::Io(message)));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                for job in queue {
                    job(&mut client);
                }
            })
            .map_err(|e| JournalError::Io(format!("start the journal connection thread: {e}")))?;
        let conn = Conn { jobs: Some(jobs), thread: Some(thread) };
        connected.recv().map_err(|_| JournalError::Io("the journal connection thread stopped".into()))??;
        Ok(conn)
    }

    /// Runs `job` on the connection thread and returns its result.
    /// Errors: the job's, or `Io` when the thread has stopped (it panicked).
    fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client) -> Result<T, JournalError> + Send + 'static,
    ) -> Result<T, JournalError> {
        let stopped = || JournalError::Io("the journal connection thread stopped".into());
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |client| {
            let _ = reply.send(job(client));
        });
        self.jobs.as_ref().ok_or_else(stopped)?.send(job).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A journal in a PostgreSQL database. One connection (on its own thread), held for the journal's life; the writer lease
/// ([`PostgresJournal::epoch`]) makes the newest opener the only one that can write.
pub struct PostgresJournal {
    conn: Conn,
    /// The connection target without credentials (for messages).
    target: String,
    head: Head,
    root: EntryHash,
    last_commit_start: u64,
    epoch: u64,
    poisoned: bool,
}

impl std::fmt::Debug for PostgresJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresJournal")
            .field("target", &self.target)
            .field("head_seq", &self.head.seq)
            .field("epoch", &self.epoch)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

/// `url` without its password, for messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl PostgresJournal {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST:PORT/DB`, or key=value form; no TLS), creates the
    /// schema when the database has none, checks the format version, verifies the last entry (checksum, hash, link to its predecessor); a bad last entry is
    /// reported in [`OpenReport::bad_last_entry`] and left in place; and takes the writer lease
    /// ([`PostgresJournal::take_lease`]).
    ///
    /// Errors: `Locked` (another writer appended while opening); `Io` (cannot connect, incomplete schema, `fsync` off on the server), `FormatVersion`,
    /// `Corrupt` (the entry before the last one is bad, or the rows cannot be read).
    pub fn open(url: &str) -> Result<(PostgresJournal, OpenReport), JournalError> {
        let (mut journal, report) = Self::open_with(url, Mode::Create)?;
        journal.take_lease()?;
        Ok((journal, report))
    }

    /// As [`PostgresJournal::open`] but never creates the schema (a database without a journal is `Io`)
    /// and does not take the writer lease: opening only reads, so a node refused after opening (another
    /// data directory's journal, say) does not fence the running writer. Call
    /// [`PostgresJournal::take_lease`] before writing; until then writes fail with `Fenced { ours: 0, .. }`.
    pub fn open_existing(url: &str) -> Result<(PostgresJournal, OpenReport), JournalError> {
        Self::open_with(url, Mode::Existing)
    }

    /// As [`PostgresJournal::open_existing`] for readers that must change nothing (`tfeco verify`): the
    /// session is read-only (`default_transaction_read_only = on`), so the server itself refuses any write
    /// and the writer lease is never taken: verifying a running writer's journal does not fence it. Works on
    /// a hot standby too. Errors: as [`PostgresJournal::open_existing`].
    pub fn open_read_only(url: &str) -> Result<(PostgresJournal, OpenReport), JournalError> {
        Self::open_with(url, Mode::ReadOnly)
    }

    /// Opens a new journal for a new node: creates the schema when absent and takes the writer lease only
    /// when the journal is empty (no genesis, no entries). Errors: `GenesisExists` when the database already
    /// holds a journal (another node's: nothing is changed, nobody is fenced); as [`PostgresJournal::open`].
    pub fn open_new(url: &str) -> Result<PostgresJournal, JournalError> {
        let (mut journal, report) = Self::open_with(url, Mode::Create)?;
        if report.head.seq != 0 || journal.genesis()?.is_some() {
            return Err(JournalError::GenesisExists);
        }
        journal.take_lease()?;
        Ok(journal)
    }

    /// Takes the writer lease: increments the epoch (fencing every earlier writer) and checks, in the same
    /// transaction, that the journal still ends where it did at open. Returns the new epoch.
    ///
    /// Errors: `Locked` when another writer appended since this journal was opened (reopen and retry);
    /// `Io` when the server is a standby (in recovery: read-only, a writer needs the primary) and on
    /// storage failure.
    pub fn take_lease(&mut self) -> Result<u64, JournalError> {
        let seq = self.head.seq;
        let target = self.target.clone();
        let epoch = self.conn.run(move |client| {
            refuse_standby(client, &target)?;
            let mut tx = client.transaction().map_err(pg("take writer lease: begin"))?;
            let epoch: i64 = tx
                .query_one("UPDATE writer SET epoch = epoch + 1 RETURNING epoch", &[])
                .and_then(|r| r.try_get(0))
                .map_err(pg("take writer lease"))?;
            let last: Option<i64> = tx
                .query_one("SELECT max(seq) FROM entries", &[])
                .and_then(|r| r.try_get(0))
                .map_err(pg("take writer lease: find last entry"))?;
            if last.unwrap_or(0) != seq as i64 {
                return Err(JournalError::Locked(format!(
                    "another writer appended to the journal while it was being opened (it ended at entry \
                     {seq}, now at {}); reopen it",
                    last.unwrap_or(0)
                )));
            }
            tx.commit().map_err(pg("take writer lease: commit"))?;
            u64::try_from(epoch).map_err(|_| JournalError::Io(format!("writer epoch {epoch} is negative")))
        })?;
        self.epoch = epoch;
        tracing::info!(target = %self.target, epoch, "journal writer lease taken");
        Ok(epoch)
    }

    fn open_with(url: &str, mode: Mode) -> Result<(PostgresJournal, OpenReport), JournalError> {
        let target = redact(url);
        let conn = Conn::connect(url, &target)?;
        let at = target.clone();
        let opened = conn.run(move |client| {
            configure(client)?;
            if mode == Mode::ReadOnly {
                client
                    .batch_execute("SET default_transaction_read_only TO on")
                    .map_err(pg("open read-only: set default_transaction_read_only"))?;
            }
            init_schema(client, mode == Mode::Create, &at)?;
            let genesis = read_meta(client, GENESIS_KEY)?;
            let root = genesis.as_deref().map_or(ZERO_HASH, genesis_root);
            let last_commit_start = read_meta(client, LAST_COMMIT_KEY)?
                .map(|b| <[u8; 8]>::try_from(b.as_slice()).map(u64::from_le_bytes))
                .transpose()
                .map_err(|_| JournalError::Io(format!("{at}: {LAST_COMMIT_KEY} is not 8 bytes")))?
                .unwrap_or(0);
            let (head, bad_last_entry) = check_tail(client, root)?;
            Ok((root, last_commit_start, OpenReport { head, bad_last_entry }))
        })?;
        let (root, last_commit_start, report) = opened;
        tracing::debug!(%target, seq = report.head.seq, "journal opened");
        let journal = PostgresJournal {
            conn,
            target,
            head: report.head,
            root,
            last_commit_start,
            epoch: 0,
            poisoned: false,
        };
        Ok((journal, report))
    }

    /// This writer's lease epoch (0 before [`PostgresJournal::take_lease`]); a later writer's epoch is higher
    /// and fences this one.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// True after a write failed in storage or was fenced; further appends return [`JournalError::Poisoned`].
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Deletes every entry after `seq` (a commit that was never acknowledged, or an explicit repair) and
    /// returns the new head, entry `seq` verified. Errors: `Corrupt` when entry `seq` is bad; `Fenced`; `Io`.
    pub fn truncate_after(&mut self, seq: u64) -> Result<Head, JournalError> {
        let head = if seq == 0 {
            Head::empty(self.root)
        } else {
            let link = if seq == 1 { Some(self.root) } else { None };
            let entry = self
                .conn
                .run(move |client| load_verified(client, seq, link))?
                .ok_or(JournalError::corrupt(seq, CorruptReason::SeqGap))??;
            Head { seq, hash: entry.hash, timestamp_ms: entry.timestamp_ms }
        };
        self.write("truncate", move |tx| {
            tx.execute("DELETE FROM entries WHERE seq > $1", &[&(seq as i64)])
                .map_err(pg("truncate: delete"))?;
            Ok(())
        })?;
        self.head = head;
        Ok(head)
    }

    /// Runs `work` in one transaction that first checks the writer lease, and commits it. A lost lease is
    /// [`JournalError::Fenced`] (nothing written) and poisons the journal, as does any storage failure.
    fn write<T: Send + 'static>(
        &mut self,
        what: &'static str,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, JournalError> + Send + 'static,
    ) -> Result<T, JournalError> {
        let epoch = self.epoch;
        let result = self.conn.run(move |client| in_lease(client, epoch, work));
        if let Err(error) = &result {
            self.poisoned = true;
            tracing::error!(%error, what, target = %self.target, "journal write failed; journal poisoned (fail-stop)");
        }
        result
    }
}

/// How [`PostgresJournal::open_with`] opens: creating the schema when absent, only an existing journal, or
/// an existing journal in a read-only session.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    Existing,
    ReadOnly,
}

/// Refuses a server in recovery (a hot standby): it cannot take writes, and promoting it is the
/// operator's decision once the old primary is fenced (docs/operations.md, "Failover").
fn refuse_standby(client: &mut Client, target: &str) -> Result<(), JournalError> {
    let in_recovery: bool = client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .and_then(|r| r.try_get(0))
        .map_err(pg("take writer lease: ask whether the server is a standby"))?;
    if in_recovery {
        return Err(JournalError::Io(format!(
            "{target} is a standby server (in recovery, read-only): a writer needs the primary. If the primary \
             is lost, fence it (make sure it cannot come back as a primary), promote this standby \
             (`pg_ctl promote`) and start the writer again (docs/operations.md, \"Failover\")"
        )));
    }
    Ok(())
}

/// Session settings: every commit waits for its WAL flush (`synchronous_commit = on`); refuses a server
/// that does not sync its files (`fsync = off`), where a commit would not be durable.
fn configure(client: &mut Client) -> Result<(), JournalError> {
    client.batch_execute("SET synchronous_commit TO on").map_err(pg("set synchronous_commit"))?;
    let fsync: String =
        client.query_one("SHOW fsync", &[]).and_then(|r| r.try_get(0)).map_err(pg("read fsync setting"))?;
    if fsync != "on" {
        return Err(JournalError::Io(format!(
            "the PostgreSQL server runs with fsync={fsync}: its commits are not durable; refusing to journal there"
        )));
    }
    Ok(())
}

/// Creates the schema in an empty database (when `create`) or checks the format version of an existing one,
/// Serialised between openers by an advisory lock.
fn init_schema(client: &mut Client, create: bool, target: &str) -> Result<(), JournalError> {
    let mut tx = client.transaction().map_err(pg("open: begin"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK]).map_err(pg("open: lock schema"))?;
    let row = tx
        .query_one(
            "SELECT to_regclass('meta') IS NOT NULL, to_regclass('entries') IS NOT NULL, \
             to_regclass('writer') IS NOT NULL",
            &[],
        )
        .map_err(pg("open: read schema"))?;
    let exists = |i: usize| row.try_get::<_, bool>(i).map_err(pg("open: read schema"));
    match (exists(0)?, exists(1)?, exists(2)?) {
        (false, false, false) if !create => {
            return Err(JournalError::Io(format!("{target} holds no journal (no tables)")));
        }
        (false, false, false) => {
            tx.batch_execute(SCHEMA).map_err(pg("open: create schema"))?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)",
                &[&FORMAT_VERSION_KEY, &&FORMAT_VERSION.to_le_bytes()[..]],
            )
            .map_err(pg("open: write format version"))?;
        }
        (true, true, true) => check_format(&mut tx, target)?,
        (meta, entries, writer) => {
            return Err(JournalError::Io(format!(
                "{target} has an incomplete journal schema (meta table: {meta}, entries table: {entries}, \
                 writer table: {writer})"
            )))
        }
    }
    tx.commit().map_err(pg("open: commit"))
}

/// Refuses a journal of another format version (the same versions as the SQLite journal's).
fn check_format(tx: &mut Transaction<'_>, target: &str) -> Result<(), JournalError> {
    let stored = tx
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&FORMAT_VERSION_KEY])
        .map_err(pg("open: read format version"))?
        .ok_or_else(|| JournalError::Io(format!("{target} has no {FORMAT_VERSION_KEY} meta row")))?;
    let bytes: Vec<u8> = stored.try_get(0).map_err(pg("open: read format version"))?;
    let found = <[u8; 4]>::try_from(bytes.as_slice()).map(u32::from_le_bytes).map_err(|_| {
        JournalError::Io(format!(
            "{target}: {FORMAT_VERSION_KEY} meta row is {} bytes, expected 4 (u32 LE)",
            bytes.len()
        ))
    })?;
    if found != FORMAT_VERSION {
        tracing::error!(found, "journal written by another release");
        return Err(JournalError::FormatVersion { found, expected: FORMAT_VERSION });
    }
    Ok(())
}

/// Borrows one row (`select_entries!` column order) as an entry and its checksum without copying the blobs.
fn decode(row: &Row) -> Result<(EntryRef<'_>, u32), CorruptReason> {
    use CorruptReason::Decode;
    let int = |i: usize| row.try_get::<_, i64>(i).map_err(|_| Decode);
    let blob = |i: usize| row.try_get::<_, &[u8]>(i).map_err(|_| Decode);
    let hash = |i: usize| blob(i).and_then(|b| <&EntryHash>::try_from(b).map_err(|_| Decode));
    let entry = EntryRef {
        seq: u64::try_from(int(0)?).map_err(|_| Decode)?,
        timestamp_ms: int(1)?,
        signer: hash(2)?,
        payload: blob(3)?,
        signature: blob(4)?,
        prev_hash: hash(5)?,
        hash: hash(6)?,
    };
    Ok((entry, u32::try_from(int(7)?).map_err(|_| Decode)?))
}

/// Loads entry `seq` as an owned copy and checks it against its checksum, its hash and, if `link` is
/// given, the hash of its predecessor. `Ok(None)`: no such row.
fn load_verified(
    client: &mut Client,
    seq: u64,
    link: Option<EntryHash>,
) -> Result<Option<Result<Entry, JournalError>>, JournalError> {
    let Some(row) = client.query_opt(SELECT_ONE, &[&(seq as i64)]).map_err(pg("read entry"))? else {
        return Ok(None);
    };
    Ok(Some(match decode(&row) {
        Ok((e, checksum)) => ChainCheck::new(seq, link).check(&e, checksum).map(|()| e.to_entry()),
        Err(reason) => Err(JournalError::corrupt(seq, reason)),
    }))
}

/// Reads a meta value.
fn read_meta(client: &mut Client, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
    client
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
        .and_then(|row| row.map(|r| r.try_get(0)).transpose())
        .map_err(pg("read meta"))
}

/// Verifies the last entry (checksum, hash, link to its predecessor, or to `root` for entry 1) without
/// changing anything. Returns the head (the last row, even when bad) and the problem of a bad last entry.
/// Reads at most two rows. Errors: the predecessor is bad too (not a single bad tail entry).
fn check_tail(
    client: &mut Client,
    root: EntryHash,
) -> Result<(Head, Option<(u64, JournalError)>), JournalError> {
    let max_seq: Option<i64> = client
        .query_one("SELECT max(seq) FROM entries", &[])
        .and_then(|r| r.try_get(0))
        .map_err(pg("open: find last entry"))?;
    let tail = TailCheck::start(max_seq, root, &mut |seq| load_verified(client, seq, None))?;
    let Some(tail) = tail else { return Ok((Head::empty(root), None)) };
    let row = client
        .query_opt(SELECT_ONE, &[&(tail.last_seq as i64)])
        .map_err(pg("open: read entry"))?
        .ok_or_else(|| tail.vanished())?;
    Ok(tail.judge(decode(&row)))
}

/// The column arrays of a sealed batch, in [`INSERT_BATCH`]'s order.
struct Sealed {
    seqs: Vec<i64>,
    stamps: Vec<i64>,
    hashes: Vec<EntryHash>,
    checksums: Vec<i64>,
    head: Head,
}

/// Seals `batch` on top of `head`: seq, hash (chained) and checksum of every entry (shared `record.rs`).
fn seal_batch(head: Head, batch: &[NewEntry]) -> Sealed {
    let mut sealed = Sealed {
        seqs: Vec::with_capacity(batch.len()),
        stamps: Vec::with_capacity(batch.len()),
        hashes: Vec::with_capacity(batch.len()),
        checksums: Vec::with_capacity(batch.len()),
        head,
    };
    for e in batch {
        let seq = sealed.head.seq + 1;
        let (hash, checksum) = seal(&unsealed(e, seq, &sealed.head.hash));
        sealed.seqs.push(seq as i64);
        sealed.stamps.push(e.timestamp_ms);
        sealed.hashes.push(hash);
        sealed.checksums.push(i64::from(checksum));
        sealed.head = Head { seq, hash, timestamp_ms: e.timestamp_ms };
    }
    sealed
}

impl PostgresJournal {
    fn write_batch(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        let start = self.head.seq + 1;
        let sealed = seal_batch(self.head, batch);
        let new_head = sealed.head;
        // Owned columns: the statement runs on the connection thread.
        let bytes = |f: fn(&NewEntry) -> &[u8]| batch.iter().map(|e| f(e).to_vec()).collect::<Vec<_>>();
        let (signers, payloads, signatures) =
            (bytes(|e| &e.signer), bytes(|e| &e.payload), bytes(|e| &e.signature));
        let hashes: Vec<Vec<u8>> = sealed.hashes.iter().map(|h| h.to_vec()).collect();
        let prevs: Vec<Vec<u8>> = std::iter::once(self.head.hash.to_vec())
            .chain(hashes[..hashes.len() - 1].iter().cloned())
            .collect();
        let Sealed { seqs, stamps, checksums, .. } = sealed;
        self.write("append", move |tx| {
            let columns: [&(dyn postgres::types::ToSql + Sync); 8] =
                [&seqs, &stamps, &signers, &payloads, &signatures, &prevs, &hashes, &checksums];
            tx.execute(INSERT_BATCH, &columns).map_err(pg("append: insert"))?;
            tx.execute(UPSERT_META, &[&LAST_COMMIT_KEY, &&start.to_le_bytes()[..]])
                .map_err(pg("append: record commit"))?;
            Ok(())
        })?;
        self.last_commit_start = start;
        Ok(new_head)
    }
}

/// Runs `work` in one transaction after checking that the writer lease is still `epoch`, and commits.
fn in_lease<T>(
    client: &mut Client,
    epoch: u64,
    work: impl FnOnce(&mut Transaction<'_>) -> Result<T, JournalError>,
) -> Result<T, JournalError> {
    let mut tx = client.transaction().map_err(pg("begin"))?;
    let row = tx.query_one("SELECT epoch FROM writer FOR UPDATE", &[]).map_err(pg("check writer lease"))?;
    let current = row.try_get::<_, i64>(0).map_err(pg("read writer lease"))?;
    let current = u64::try_from(current).map_err(|_| JournalError::Io("writer epoch is negative".into()))?;
    if current != epoch {
        return Err(JournalError::Fenced { ours: epoch, current });
    }
    let out = work(&mut tx)?;
    tx.commit().map_err(pg("commit"))?;
    Ok(out)
}

impl Journal for PostgresJournal {
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        if batch.is_empty() {
            return Ok(self.head);
        }
        check_timestamps(&self.head, batch)?;
        // A failed write has poisoned the journal (fail-stop) in `write`.
        let head = self.write_batch(batch)?;
        self.head = head;
        Ok(head)
    }

    fn head(&self) -> Head {
        self.head
    }

    fn replay(
        &self,
        from_seq: u64,
        visit: &mut dyn FnMut(EntryRef<'_>) -> Result<(), JournalError>,
    ) -> Result<Head, JournalError> {
        let from = from_seq.max(1);
        if from > self.head.seq {
            return Ok(self.head);
        }
        let (mut check, first) = ChainCheck::for_replay(from, self.root);
        let mut next = first;
        while next <= self.head.seq {
            // Visiting happens on the caller's thread, between pages: the visitor may read this journal.
            let last = self.head.seq as i64;
            let first = next as i64;
            let rows = self.conn.run(move |client| {
                client.query(SELECT_PAGE, &[&first, &last, &PAGE]).map_err(pg("replay: read"))
            })?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let (e, checksum) = decode(row).map_err(|r| JournalError::corrupt(next, r))?;
                check.check(&e, checksum)?;
                if e.seq >= from {
                    visit(e)?;
                }
                next = e.seq + 1;
            }
        }
        check.finish(&self.head)?;
        Ok(self.head)
    }

    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError> {
        if is_reserved_key(key) {
            return Err(JournalError::ReservedKey(key.to_owned()));
        }
        let (key, value) = (key.to_owned(), value.to_vec());
        self.write("put_meta", move |tx| {
            tx.execute(UPSERT_META, &[&key, &value]).map(drop).map_err(pg("put_meta"))
        })
    }

    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        let key = key.to_owned();
        self.conn.run(move |client| read_meta(client, &key))
    }

    fn root(&self) -> EntryHash {
        self.root
    }

    fn set_genesis(&mut self, genesis: &[u8]) -> Result<Head, JournalError> {
        if self.head.seq != 0 || self.conn.run(|client| read_meta(client, GENESIS_KEY))?.is_some() {
            return Err(JournalError::GenesisExists);
        }
        let bytes = genesis.to_vec();
        self.write("set genesis", move |tx| {
            tx.execute("INSERT INTO meta (key, value) VALUES ($1, $2)", &[&GENESIS_KEY, &bytes])
                .map(drop)
                .map_err(pg("set genesis"))
        })?;
        self.root = genesis_root(genesis);
        self.head = Head::empty(self.root);
        Ok(self.head)
    }

    fn last_commit_start(&self) -> u64 {
        self.last_commit_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("host=h user=u"), "host=h user=u");
    }

    #[test]
    fn sealing_a_batch_chains_its_entries() {
        let e = |ts| NewEntry { timestamp_ms: ts, signer: [1; 32], payload: vec![2], signature: vec![] };
        let sealed = seal_batch(Head::empty([7; 32]), &[e(1), e(2)]);
        assert_eq!(sealed.seqs, vec![1, 2]);
        assert_eq!(sealed.head.seq, 2);
        assert_eq!(sealed.head.hash, sealed.hashes[1]);
        let first = e(1);
        assert_eq!(seal(&unsealed(&first, 1, &[7; 32])).0, sealed.hashes[0]);
    }
}
