//! [`SqliteJournal`]: the default backend, one embedded SQLite file in WAL mode with synchronous=FULL.
//! Opening never changes stored entries (a bad last entry is reported, not deleted); [`SqliteJournal::open_copy`]
//! reads a private copy so that a data directory is not changed by a byte (`tfeco verify`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior};

use crate::record::{check_timestamps, seal, unsealed, ChainCheck, TailCheck};
use crate::{
    genesis_root, is_reserved_key, CorruptReason, Entry, EntryHash, EntryRef, Head, Journal, JournalError,
    NewEntry, OpenReport, GENESIS_KEY, LAST_COMMIT_KEY, ZERO_HASH,
};

/// File name of the journal inside its directory.
pub const FILE_NAME: &str = "journal.sqlite";
/// File name of SQLite's write-ahead log next to the journal (holds the newest commits until checkpointed).
pub const WAL_FILE_NAME: &str = "journal.sqlite-wal";
/// On-disk format version written to and checked from the `format_version` meta row. Version 2: the
/// chain is rooted at the genesis ([`genesis_root`]) and each commit records its first seq.
pub const FORMAT_VERSION: u32 = 2;
/// Meta key holding the format version (4 bytes, u32 little-endian); reserved, `put_meta` refuses it.
pub const FORMAT_VERSION_KEY: &str = "format_version";

/// Selects entry columns in the order [`decode`] expects, followed by the given SQL tail.
macro_rules! select_entries {
    ($tail:literal) => {
        concat!("SELECT seq, ts, signer, payload, signature, prev_hash, hash, checksum FROM entries ", $tail)
    };
}
const SELECT_ONE: &str = select_entries!("WHERE seq = ?1");
const SELECT_RANGE: &str = select_entries!("WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq");
const UPSERT_META: &str =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const INSERT: &str = "INSERT INTO entries (seq, ts, signer, payload, signature, prev_hash, hash, checksum) \
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const SCHEMA_ENTRIES: &str = "CREATE TABLE entries (
    seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, signer BLOB NOT NULL, payload BLOB NOT NULL,
    signature BLOB NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL, checksum INTEGER NOT NULL)";
const SCHEMA_META: &str = "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)";

/// Maps a rusqlite error to a [`JournalError`] whose message names what was being done.
fn sql(context: &'static str) -> impl Fn(rusqlite::Error) -> JournalError {
    move |e| match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            JournalError::Locked(format!("{context}: {e}"))
        }
        _ => JournalError::Io(format!("{context}: {e}")),
    }
}

/// A journal stored in `<dir>/journal.sqlite`. The connection holds an exclusive lock on the file for its
/// whole life, so a second opener (in this or another process) gets [`JournalError::Locked`].
pub struct SqliteJournal {
    conn: Connection,
    path: PathBuf,
    head: Head,
    root: EntryHash,
    last_commit_start: u64,
    poisoned: bool,
    /// Fold the WAL into the database file when closing (a clean stop of a journal that passed its checks).
    checkpoint_on_close: bool,
}

impl std::fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteJournal")
            .field("path", &self.path)
            .field("head_seq", &self.head.seq)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl SqliteJournal {
    /// Opens the journal in `dir/journal.sqlite`, creating `dir`, the file and its schema if needed.
    ///
    /// Checks the format version and verifies the last entry only (checksum, hash, link to its predecessor);
    /// a bad last entry is reported in [`OpenReport::bad_last_entry`] and left in place.
    ///
    /// Errors: `Io` (cannot create/open, malformed schema), `Locked` (file in use), `FormatVersion`,
    /// `Corrupt` (the entry before the last one is bad, or the rows cannot be read).
    pub fn open(dir: &Path) -> Result<(SqliteJournal, OpenReport), JournalError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| JournalError::Io(format!("create journal directory {}: {e}", dir.display())))?;
        Self::open_at(dir, true)
    }

    /// Opens an existing journal in `dir` and never creates anything: no file, no schema.
    ///
    /// Errors: as [`SqliteJournal::open`], plus `Io` when the file does not exist or has no journal schema.
    pub fn open_existing(dir: &Path) -> Result<(SqliteJournal, OpenReport), JournalError> {
        if !dir.join(FILE_NAME).is_file() {
            return Err(JournalError::Io(format!("{} has no journal file ({FILE_NAME})", dir.display())));
        }
        Self::open_at(dir, false)
    }

    /// Opens a private copy of the journal of `dir` (its database file and write-ahead log, copied into a
    /// new temporary directory that the returned guard deletes on drop), so that reading it, SQLite's WAL
    /// recovery included, cannot change a byte of `dir`. For `tfeco verify` on a stopped node.
    ///
    /// Errors: as [`SqliteJournal::open_existing`], plus `Io` when copying fails.
    pub fn open_copy(dir: &Path) -> Result<(SqliteJournal, OpenReport, tempfile::TempDir), JournalError> {
        let source = dir.join(FILE_NAME);
        if !source.is_file() {
            return Err(JournalError::Io(format!("{} has no journal file ({FILE_NAME})", dir.display())));
        }
        let copy = tempfile::Builder::new()
            .prefix("tfeco-verify-")
            .tempdir()
            .map_err(|e| JournalError::Io(format!("create a temporary directory: {e}")))?;
        for name in [FILE_NAME, WAL_FILE_NAME] {
            let from = dir.join(name);
            if from.is_file() {
                std::fs::copy(&from, copy.path().join(name))
                    .map_err(|e| JournalError::Io(format!("copy {}: {e}", from.display())))?;
            }
        }
        let (journal, report) = Self::open_at(copy.path(), false)?;
        Ok((journal, report, copy))
    }

    fn open_at(dir: &Path, create: bool) -> Result<(SqliteJournal, OpenReport), JournalError> {
        let path = dir.join(FILE_NAME);
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let mut conn = Connection::open_with_flags(&path, flags).map_err(sql("open journal file"))?;
        configure(&conn)?;
        init_schema(&mut conn, create)?;
        if create {
            // SQLite syncs the files it writes, not the directory holding them: make a new file durable.
            #[cfg(unix)]
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| JournalError::Io(format!("sync journal directory {}: {e}", dir.display())))?;
        }
        let genesis = read_meta(&conn, GENESIS_KEY)?;
        let root = genesis.as_deref().map_or(ZERO_HASH, genesis_root);
        let last_commit_start = read_meta(&conn, LAST_COMMIT_KEY)?
            .map(|b| <[u8; 8]>::try_from(b.as_slice()).map(u64::from_le_bytes))
            .transpose()
            .map_err(|_| JournalError::Io(format!("{FILE_NAME}: {LAST_COMMIT_KEY} is not 8 bytes")))?
            .unwrap_or(0);
        let (head, bad_last_entry) = check_tail(&conn, root)?;
        tracing::debug!(path = %path.display(), seq = head.seq, "journal opened");
        let journal = SqliteJournal {
            conn,
            path,
            head,
            root,
            last_commit_start,
            poisoned: false,
            checkpoint_on_close: create,
        };
        Ok((journal, OpenReport { head, bad_last_entry }))
    }

    /// Makes the write-ahead log durable: a FULL checkpoint syncs the WAL, copies it into the database file
    /// and syncs that. A WAL recovered at open after a process crash may hold a commit that was never
    /// synced (SQLite does not sync it during recovery). Errors: `Io`, or `Locked` when the checkpoint could
    /// not complete.
    pub fn make_durable(&mut self) -> Result<(), JournalError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(FULL)", [], |row| row.get(0))
            .map_err(sql("checkpoint"))?;
        if busy != 0 {
            return Err(JournalError::Locked("checkpoint: the write-ahead log is busy".into()));
        }
        Ok(())
    }

    /// Deletes every entry after `seq` (a commit that was never acknowledged, or an explicit repair) and
    /// returns the new head, entry `seq` verified. Errors: `Corrupt` when entry `seq` is bad; `Io`.
    pub fn truncate_after(&mut self, seq: u64) -> Result<Head, JournalError> {
        let head = if seq == 0 {
            Head::empty(self.root)
        } else {
            let link = if seq == 1 { Some(self.root) } else { None };
            let entry = load_verified(&self.conn, seq, link)?
                .ok_or(JournalError::corrupt(seq, CorruptReason::SeqGap))??;
            Head { seq, hash: entry.hash, timestamp_ms: entry.timestamp_ms }
        };
        let tx = self.conn.transaction().map_err(sql("truncate: begin"))?;
        tx.execute("DELETE FROM entries WHERE seq > ?1", [seq as i64]).map_err(sql("truncate: delete"))?;
        tx.commit().map_err(sql("truncate: commit"))?;
        self.head = head;
        Ok(head)
    }

    /// Whether closing folds the write-ahead log into the database file (a checkpoint). Off after
    /// [`SqliteJournal::open_existing`] until the caller has checked the journal (so that a refused journal
    /// keeps its files exactly as found); on for a journal created by [`SqliteJournal::open`].
    pub fn set_checkpoint_on_close(&mut self, on: bool) {
        self.checkpoint_on_close = on;
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True after an append failed in storage; further appends return [`JournalError::Poisoned`].
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    fn write_batch(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        let mut head = self.head;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("append: begin"))?;
        {
            let mut insert = tx.prepare_cached(INSERT).map_err(sql("append: prepare"))?;
            for e in batch {
                let seq = head.seq + 1;
                let (hash, checksum) = seal(&unsealed(e, seq, &head.hash));
                insert
                    .execute(params![
                        seq as i64,
                        e.timestamp_ms,
                        &e.signer[..],
                        &e.payload[..],
                        &e.signature[..],
                        &head.hash[..],
                        &hash[..],
                        i64::from(checksum),
                    ])
                    .map_err(sql("append: insert"))?;
                head = Head { seq, hash, timestamp_ms: e.timestamp_ms };
            }
            let start = (self.head.seq + 1).to_le_bytes();
            let mut meta = tx.prepare_cached(UPSERT_META).map_err(sql("append: prepare"))?;
            meta.execute(params![LAST_COMMIT_KEY, &start[..]]).map_err(sql("append: record commit"))?;
        }
        tx.commit().map_err(sql("append: commit"))?;
        self.last_commit_start = self.head.seq + 1;
        Ok(head)
    }
}

/// Pragmas: exclusive lock, 4 KiB pages, WAL, fsync on every commit, 16 MiB page cache, fail fast if locked;
/// and no checkpoint when the connection closes, so that a journal refused at open keeps its WAL exactly as
/// found (evidence for `tfeco repair`; SQLite still checkpoints while appending).
fn configure(conn: &Connection) -> Result<(), JournalError> {
    conn.busy_timeout(Duration::ZERO).map_err(sql("set busy timeout"))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).map_err(sql("set no checkpoint"))?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(sql("set locking_mode"))?;
    conn.pragma_update(None, "page_size", 4096).map_err(sql("set page_size"))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(sql("set journal_mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(JournalError::Io(format!("cannot enable WAL mode (SQLite kept journal_mode={mode})")));
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(sql("set synchronous"))?;
    conn.pragma_update(None, "foreign_keys", "OFF").map_err(sql("set foreign_keys"))?;
    conn.pragma_update(None, "cache_size", -16384).map_err(sql("set cache_size"))?;
    Ok(())
}

/// Creates the schema in a fresh file (when `create`) or checks the format version of an existing one.
fn init_schema(conn: &mut Connection, create: bool) -> Result<(), JournalError> {
    // BEGIN EXCLUSIVE also takes the file lock that locking_mode=EXCLUSIVE then keeps until close.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(sql("open: lock journal file"))?;
    let table_exists = |name: &str| -> Result<bool, JournalError> {
        tx.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n > 0)
        .map_err(sql("open: read schema"))
    };
    match (table_exists("meta")?, table_exists("entries")?) {
        (false, false) if !create => {
            return Err(JournalError::Io(format!("{FILE_NAME} holds no journal (no tables)")));
        }
        (false, false) => {
            tx.execute_batch(&format!("{SCHEMA_META}; {SCHEMA_ENTRIES};"))
                .map_err(sql("open: create schema"))?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![FORMAT_VERSION_KEY, &FORMAT_VERSION.to_le_bytes()[..]],
            )
            .map_err(sql("open: write format version"))?;
        }
        (true, true) => {
            let stored: Option<Vec<u8>> = tx
                .query_row("SELECT value FROM meta WHERE key = ?1", [FORMAT_VERSION_KEY], |r| r.get(0))
                .optional()
                .map_err(sql("open: read format version"))?;
            let bytes = stored.ok_or_else(|| {
                JournalError::Io(format!("{FILE_NAME} has no {FORMAT_VERSION_KEY} meta row"))
            })?;
            let found = <[u8; 4]>::try_from(bytes.as_slice()).map(u32::from_le_bytes).map_err(|_| {
                JournalError::Io(format!(
                    "{FILE_NAME}: {FORMAT_VERSION_KEY} meta row is {} bytes, expected 4 (u32 LE)",
                    bytes.len()
                ))
            })?;
            if found != FORMAT_VERSION {
                tracing::error!(found, "journal written by another release");
                return Err(JournalError::FormatVersion { found, expected: FORMAT_VERSION });
            }
        }
        (meta, entries) => {
            return Err(JournalError::Io(format!(
                "{FILE_NAME} has an incomplete schema (meta table: {meta}, entries table: {entries})"
            )))
        }
    }
    tx.commit().map_err(sql("open: commit schema"))
}

/// Borrows one row (`select_entries!` column order) as an entry and its checksum without copying the blobs.
fn decode<'r>(row: &'r Row<'_>) -> Result<(EntryRef<'r>, u32), CorruptReason> {
    use CorruptReason::Decode;
    let int = |i: usize| row.get_ref(i).ok().and_then(|v| v.as_i64().ok()).ok_or(Decode);
    let blob = |i: usize| row.get_ref(i).ok().and_then(|v| v.as_blob().ok()).ok_or(Decode);
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
    conn: &Connection,
    seq: u64,
    link: Option<EntryHash>,
) -> Result<Option<Result<Entry, JournalError>>, JournalError> {
    let mut stmt = conn.prepare_cached(SELECT_ONE).map_err(sql("open: prepare"))?;
    let mut rows = stmt.query([seq as i64]).map_err(sql("open: read entry"))?;
    let Some(row) = rows.next().map_err(sql("open: read entry"))? else { return Ok(None) };
    Ok(Some(match decode(row) {
        Ok((e, checksum)) => ChainCheck::new(seq, link).check(&e, checksum).map(|()| e.to_entry()),
        Err(reason) => Err(JournalError::corrupt(seq, reason)),
    }))
}

/// Reads a meta value with a plain query.
fn read_meta(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .map_err(sql("read meta"))
}

/// Verifies the last entry (checksum, hash, link to its predecessor, or to `root` for entry 1) without
/// changing anything. Returns the head (the last row, even when bad) and the problem of a bad last entry.
/// Reads at most two rows. Errors: the predecessor is bad too (not a single bad tail entry).
fn check_tail(
    conn: &Connection,
    root: EntryHash,
) -> Result<(Head, Option<(u64, JournalError)>), JournalError> {
    let max_seq: Option<i64> = conn
        .query_row("SELECT max(seq) FROM entries", [], |r| r.get(0))
        .map_err(sql("open: find last entry"))?;
    let tail = TailCheck::start(max_seq, root, &mut |seq| load_verified(conn, seq, None))?;
    let Some(tail) = tail else { return Ok((Head::empty(root), None)) };
    let mut stmt = conn.prepare_cached(SELECT_ONE).map_err(sql("open: prepare"))?;
    let mut rows = stmt.query([tail.last_seq as i64]).map_err(sql("open: read entry"))?;
    let row = rows.next().map_err(sql("open: read entry"))?.ok_or_else(|| tail.vanished())?;
    Ok(tail.judge(decode(row)))
}

impl Drop for SqliteJournal {
    fn drop(&mut self) {
        if self.checkpoint_on_close && !self.poisoned {
            if let Err(error) = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
                tracing::warn!(%error, "journal: checkpoint on close failed (the WAL keeps the entries)");
            }
        }
    }
}

impl Journal for SqliteJournal {
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        if batch.is_empty() {
            return Ok(self.head);
        }
        check_timestamps(&self.head, batch)?;
        match self.write_batch(batch) {
            Ok(head) => {
                self.head = head;
                Ok(head)
            }
            Err(e) => {
                self.poisoned = true;
                tracing::error!(error = %e, "journal append failed; journal poisoned (fail-stop)");
                Err(e)
            }
        }
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
        let mut stmt = self.conn.prepare_cached(SELECT_RANGE).map_err(sql("replay: prepare"))?;
        let mut rows = stmt.query([first as i64, self.head.seq as i64]).map_err(sql("replay: query"))?;
        let mut expected = first;
        while let Some(row) = rows.next().map_err(sql("replay: read"))? {
            let (e, checksum) = decode(row).map_err(|r| JournalError::corrupt(expected, r))?;
            check.check(&e, checksum)?;
            if e.seq >= from {
                visit(e)?;
            }
            expected += 1;
        }
        check.finish(&self.head)?;
        Ok(self.head)
    }

    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError> {
        if is_reserved_key(key) {
            return Err(JournalError::ReservedKey(key.to_owned()));
        }
        self.conn
            .prepare_cached(UPSERT_META)
            .and_then(|mut s| s.execute(params![key, value]))
            .map(drop)
            .map_err(sql("put_meta"))
    }

    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        read_meta(&self.conn, key)
    }

    fn root(&self) -> EntryHash {
        self.root
    }

    fn set_genesis(&mut self, genesis: &[u8]) -> Result<Head, JournalError> {
        if self.head.seq != 0 || read_meta(&self.conn, GENESIS_KEY)?.is_some() {
            return Err(JournalError::GenesisExists);
        }
        self.conn
            .execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![GENESIS_KEY, genesis])
            .map_err(sql("set genesis"))?;
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
    fn durability_pragmas_are_in_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (j, _) = SqliteJournal::open(dir.path()).expect("open");
        let pragma = |name: &str| -> String {
            j.conn.pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0)).map_or_else(
                |e| e.to_string(),
                |v| match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t.to_lowercase(),
                    other => format!("{other:?}"),
                },
            )
        };
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("synchronous"), "2"); // FULL
        assert_eq!(pragma("locking_mode"), "exclusive");
        assert_eq!(pragma("foreign_keys"), "0");
        assert_eq!(pragma("page_size"), "4096");
    }
}
