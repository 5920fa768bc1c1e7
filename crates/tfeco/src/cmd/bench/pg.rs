//! PostgreSQL as a plain ledger, the baseline of `--suite compare`: two tables in the given database
//! (`plain_ledger_accounts`: one row per account with its balance, never negative; `plain_ledger_transfers`:
//! the journal, one row per transfer, unique per sender and nonce), and per transfer one transaction of
//! two balance `UPDATE`s (the debit only when the balance covers it) and one journal `INSERT`, committed
//! durably (`synchronous_commit = on`, the server's `fsync` must be on). One OS thread and one connection
//! per client, each client sending its own account's transfers in order, as the node's HTTP load does. A
//! deadlock or serialization failure is retried (and counted); the balances are updated in account order,
//! so deadlocks should not happen. After the run the journal must hold exactly the accepted transfers and
//! the balances must sum to what was deposited.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use postgres::error::SqlState;
use postgres::{Client, NoTls};
use serde_json::{json, Value};
use tfeco_sim::bench::measure::{rate, Latency};

/// Each account's opening balance (the transfers are small: never exhausted).
const OPENING_BALANCE: i64 = 1_000_000_000_000;

const SCHEMA: &str = "
    DROP TABLE IF EXISTS plain_ledger_transfers, plain_ledger_accounts;
    CREATE TABLE plain_ledger_accounts (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0));
    CREATE TABLE plain_ledger_transfers (
        id BIGSERIAL PRIMARY KEY,
        from_id INTEGER NOT NULL REFERENCES plain_ledger_accounts,
        to_id INTEGER NOT NULL REFERENCES plain_ledger_accounts,
        amount BIGINT NOT NULL CHECK (amount > 0),
        nonce BIGINT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        UNIQUE (from_id, nonce)
    );";

const DEBIT: &str = "UPDATE plain_ledger_accounts SET balance = balance - $2 WHERE id = $1 AND balance >= $2";
const CREDIT: &str = "UPDATE plain_ledger_accounts SET balance = balance + $2 WHERE id = $1";
const RECORD: &str =
    "INSERT INTO plain_ledger_transfers (from_id, to_id, amount, nonce) VALUES ($1, $2, $3, $4)";

/// What the plain ledger measured.
#[derive(Debug)]
pub(super) struct PlainRun {
    /// Committed transfers per second of the timed phase.
    pub(super) transfers_per_s: f64,
    /// Transfers committed.
    pub(super) accepted: usize,
    /// Transfers that failed (not retried), with the first few messages.
    pub(super) errors: Vec<String>,
    /// Transactions retried after a deadlock or serialization failure.
    pub(super) retries: u64,
    /// Per transfer, `BEGIN` to `COMMIT` done.
    pub(super) latency: Latency,
    /// The timed phase, seconds.
    pub(super) elapsed_s: f64,
    /// Whether the journal holds exactly the accepted transfers and the balances sum to the deposits.
    pub(super) journal_ok: bool,
}

impl PlainRun {
    /// The run as JSON (without the rate, which the compare report names).
    pub(super) fn details(&self) -> Value {
        json!({
            "accepted": self.accepted,
            "errors": self.errors.len(),
            "first_errors": self.errors.iter().take(5).collect::<Vec<_>>(),
            "retries": self.retries,
            "elapsed_s": self.elapsed_s,
            "journal_ok": self.journal_ok,
        })
    }
}

fn connect(url: &str) -> anyhow::Result<Client> {
    let mut client =
        Client::connect(url, NoTls).context("connecting to the plain ledger's PostgreSQL database")?;
    client.batch_execute("SET synchronous_commit = on")?;
    Ok(client)
}

/// The tables, fresh, with `clients` funded accounts. Errors: the server's `fsync` is off (no durable
/// commit to measure), or SQL failures.
fn set_up(url: &str, clients: usize) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    let fsync: String = client.query_one("SHOW fsync", &[])?.get(0);
    ensure!(fsync == "on", "the PostgreSQL server runs with fsync off: its commits are not durable");
    client.batch_execute(SCHEMA).context("creating the plain ledger's tables")?;
    let ids: Vec<i32> = (0..clients as i32).collect();
    client.execute(
        "INSERT INTO plain_ledger_accounts (id, balance) SELECT id, $2 FROM unnest($1::INTEGER[]) AS id",
        &[&ids, &OPENING_BALANCE],
    )?;
    Ok(())
}

/// One transfer in one transaction: the balances in account order (no deadlock between two transfers),
/// then the journal row. `Ok(false)` when the debit found too little balance (rolled back).
fn transfer(
    client: &mut Client,
    from: i32,
    to: i32,
    amount: i64,
    nonce: i64,
) -> Result<bool, postgres::Error> {
    let mut tx = client.transaction()?;
    let debited = if from < to {
        let debited = tx.execute(DEBIT, &[&from, &amount])?;
        tx.execute(CREDIT, &[&to, &amount])?;
        debited
    } else {
        tx.execute(CREDIT, &[&to, &amount])?;
        tx.execute(DEBIT, &[&from, &amount])?
    };
    if debited != 1 {
        return Ok(false); // dropping the transaction rolls it back
    }
    tx.execute(RECORD, &[&from, &to, &amount, &nonce])?;
    tx.commit()?;
    Ok(true)
}

/// One client's outcome.
#[derive(Default)]
struct ClientRun {
    latencies_us: Vec<u32>,
    errors: Vec<String>,
    retries: u64,
}

/// Client `me` of `clients` sends `count` transfers from its account to the others, in nonce order.
fn client_run(mut client: Client, me: usize, clients: usize, count: usize) -> ClientRun {
    let mut run = ClientRun { latencies_us: Vec::with_capacity(count), ..ClientRun::default() };
    for n in 0..count {
        let to = (me + 1 + (n * 7_919 + me) % (clients - 1)) % clients;
        let amount = 1 + (n as i64 * 31 + me as i64) % 1_000;
        let sent = Instant::now();
        let outcome = loop {
            match transfer(&mut client, me as i32, to as i32, amount, n as i64 + 1) {
                Err(e)
                    if e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
                        || e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE) =>
                {
                    run.retries += 1
                }
                other => break other,
            }
        };
        match outcome {
            Ok(true) => run.latencies_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX)),
            Ok(false) => run.errors.push(format!("client {me}: insufficient balance")),
            Err(e) => run.errors.push(format!("client {me}: {e}")),
        }
    }
    run
}

/// Sets up the tables, opens one connection per client (untimed), then times `requests` transfers split
/// over `clients` (at least 2) concurrent clients, and checks the tables. Blocking.
pub(super) fn bench_plain_ledger(url: &str, clients: usize, requests: usize) -> anyhow::Result<PlainRun> {
    ensure!(clients >= 2, "the plain ledger needs at least 2 clients, not {clients}");
    set_up(url, clients)?;
    let connections = (0..clients).map(|_| connect(url)).collect::<anyhow::Result<Vec<_>>>()?;
    let start = Instant::now();
    let threads: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(me, client)| {
            let count = requests / clients + usize::from(me < requests % clients);
            std::thread::spawn(move || client_run(client, me, clients, count))
        })
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    let (mut errors, mut retries) = (Vec::new(), 0);
    for thread in threads {
        let run = thread.join().map_err(|_| anyhow::anyhow!("a plain ledger client panicked"))?;
        latencies.extend(run.latencies_us);
        errors.extend(run.errors);
        retries += run.retries;
    }
    let elapsed = start.elapsed();
    let journal_ok = check(url, latencies.len(), clients)?;
    Ok(summarize(latencies, errors, retries, elapsed, journal_ok))
}

fn summarize(
    mut latencies: Vec<u32>,
    errors: Vec<String>,
    retries: u64,
    elapsed: Duration,
    journal_ok: bool,
) -> PlainRun {
    PlainRun {
        transfers_per_s: rate(latencies.len(), elapsed),
        accepted: latencies.len(),
        latency: Latency::of_us(&mut latencies),
        errors,
        retries,
        elapsed_s: elapsed.as_secs_f64(),
        journal_ok,
    }
}

/// Whether the journal holds exactly `accepted` rows and the balances sum to the deposits.
fn check(url: &str, accepted: usize, clients: usize) -> anyhow::Result<bool> {
    let mut client = connect(url)?;
    let rows: i64 = client.query_one("SELECT count(*) FROM plain_ledger_transfers", &[])?.get(0);
    let total: i64 = client.query_one("SELECT sum(balance)::BIGINT FROM plain_ledger_accounts", &[])?.get(0);
    Ok(rows == accepted as i64 && total == OPENING_BALANCE * clients as i64)
}
