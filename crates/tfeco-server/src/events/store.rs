//! The index: SQLite (`DIR/events.sqlite`, WAL, `synchronous=NORMAL`: a crash may lose the last writes, which
//! the next start rebuilds from the journal), or an in-memory SQLite database without a data directory.
//!
//! Tables: `entries(seq, ts, events)` (the entry's public events with their keys, JSON), `keys(key, seq)`
//! (every key of an entry's events, for the filters) and `meta` (`head`: the last seq indexed, `head_hash`:
//! that entry's journal hash, `genesis`: the hash of the journal's genesis, so an index of another journal
//! or of a rewritten tail is recognised and rebuilt).

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::filter::Filter;
use super::{IndexedEntry, IndexedEvent};

/// Result of the index's operations (an error is logged and leaves the stream or history unavailable,
/// never the node).
pub type StoreResult<T> = Result<T, rusqlite::Error>;

/// The index, behind one connection.
pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, events TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS keys (key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (key, seq)) WITHOUT ROWID;
";

impl Store {
    /// An empty in-memory index.
    pub fn memory() -> Self {
        let conn = Connection::open_in_memory().and_then(|conn| conn.execute_batch(SCHEMA).map(|()| conn));
        Store { conn: Mutex::new(conn.expect("an in-memory SQLite database opens")) }
    }

    /// Opens the index file at `path`; one that does not open (damaged, another format) is removed and
    /// created anew (it is rebuilt from the journal); when even that fails, an in-memory index is used.
    pub fn open_or_recreate(path: &Path) -> Self {
        match Self::open(path) {
            Ok(store) => return store,
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "the event index does not open; rebuilding it")
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
        Self::open(path).unwrap_or_else(|error| {
            tracing::warn!(%error, "the event index cannot be created; keeping it in memory");
            Self::memory()
        })
    }

    fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        conn.query_row("SELECT count(*) FROM meta", [], |row| row.get::<_, i64>(0))?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    /// A meta value.
    pub fn meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let conn = self.conn.lock();
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0)).optional()
    }

    /// The last seq indexed (0: none).
    pub fn head(&self) -> StoreResult<u64> {
        Ok(self.meta("head")?.and_then(|v| v.try_into().ok()).map_or(0, u64::from_be_bytes))
    }

    /// Empties the index and records the journal's genesis hash.
    pub fn reset(&self, genesis: &[u8]) -> StoreResult<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        tx.execute_batch("DELETE FROM entries; DELETE FROM keys; DELETE FROM meta;")?;
        tx.execute("INSERT INTO meta (key, value) VALUES ('genesis', ?1)", [genesis])?;
        tx.commit()
    }

    /// Adds `entries` (in seq order) in one transaction and moves the head to `head` (the last entry
    /// processed, whose journal hash is `head_hash`), entries without public events included.
    pub fn insert(&self, entries: &[Arc<IndexedEntry>], head: u64, head_hash: &[u8]) -> StoreResult<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        {
            let mut entry_row =
                tx.prepare_cached("INSERT OR REPLACE INTO entries (seq, ts, events) VALUES (?1, ?2, ?3)")?;
            let mut key_row = tx.prepare_cached("INSERT OR IGNORE INTO keys (key, seq) VALUES (?1, ?2)")?;
            for entry in entries.iter().filter(|e| !e.events.is_empty()) {
                let seq = i64::try_from(entry.seq).unwrap_or(i64::MAX);
                let json = serde_json::to_string(&entry.events).expect("events serialize");
                entry_row.execute(params![seq, entry.ts, json])?;
                for key in entry.events.iter().flat_map(|e| e.keys.iter()) {
                    key_row.execute(params![key, seq])?;
                }
            }
            let mut meta = tx.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
            meta.execute(params!["head", head.to_be_bytes().to_vec()])?;
            meta.execute(params!["head_hash", head_hash])?;
        }
        tx.commit()
    }

    /// At most `limit` entries with a seq in `after + 1 ..= upto` that have an entry-level match of
    /// `filter`, oldest first, and the head at the time of the read. Entries are returned whole; the
    /// caller keeps the matching events ([`IndexedEntry::view`]).
    pub fn page_after(
        &self,
        after: u64,
        upto: u64,
        filter: &Filter,
        limit: usize,
    ) -> StoreResult<(Vec<IndexedEntry>, u64)> {
        let conn = self.conn.lock();
        let head = head_of(&conn)?;
        let upto = upto.min(head);
        let (clause, mut args) = filter_clause(filter);
        let sql = format!(
            "SELECT seq, ts, events FROM entries WHERE seq > ? AND seq <= ?{clause} ORDER BY seq LIMIT ?"
        );
        let mut bound: Vec<rusqlite::types::Value> = vec![as_i64(after).into(), as_i64(upto).into()];
        bound.append(&mut args);
        bound.push(as_i64(limit as u64).into());
        Ok((read_entries(&conn, &sql, bound)?, head))
    }

    /// At most `limit` entries before `before` with an event of `filter`, newest first, and the head.
    pub fn page_before(
        &self,
        before: u64,
        filter: &Filter,
        limit: usize,
    ) -> StoreResult<(Vec<IndexedEntry>, u64)> {
        let conn = self.conn.lock();
        let head = head_of(&conn)?;
        let (clause, mut args) = filter_clause(filter);
        let sql =
            format!("SELECT seq, ts, events FROM entries WHERE seq < ?{clause} ORDER BY seq DESC LIMIT ?");
        let mut bound: Vec<rusqlite::types::Value> = vec![as_i64(before).into()];
        bound.append(&mut args);
        bound.push(as_i64(limit as u64).into());
        Ok((read_entries(&conn, &sql, bound)?, head))
    }
}

fn as_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn head_of(conn: &Connection) -> StoreResult<u64> {
    let head: Option<Vec<u8>> =
        conn.query_row("SELECT value FROM meta WHERE key = 'head'", [], |row| row.get(0)).optional()?;
    Ok(head.and_then(|v| v.try_into().ok()).map_or(0, u64::from_be_bytes))
}

/// ` AND seq IN (SELECT seq FROM keys WHERE key IN (?, ...))` per filter, with its values.
fn filter_clause(filter: &Filter) -> (String, Vec<rusqlite::types::Value>) {
    let mut clause = String::new();
    let mut args = Vec::new();
    for dim in &filter.dims {
        let marks = vec!["?"; dim.len()].join(", ");
        clause.push_str(&format!(" AND seq IN (SELECT seq FROM keys WHERE key IN ({marks}))"));
        args.extend(dim.iter().map(|key| rusqlite::types::Value::Text(key.clone())));
    }
    (clause, args)
}

fn read_entries(
    conn: &Connection,
    sql: &str,
    bound: Vec<rusqlite::types::Value>,
) -> StoreResult<Vec<IndexedEntry>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params_from_iter(bound), |row| {
        let seq: i64 = row.get(0)?;
        let json: String = row.get(2)?;
        let events: Vec<IndexedEvent> = serde_json::from_str(&json).map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(error))
        })?;
        Ok(IndexedEntry { seq: u64::try_from(seq).unwrap_or(0), ts: row.get(1)?, events })
    })?;
    rows.collect()
}
