//! [`HttpDriver`]: signs the agents' commands and posts them to a running node through
//! [`tfeco_wallet::Client`], keeping each signer's nonce; counts what the node accepted and what it refused
//! (by stable code). Also the reads the scenarios observe the economy with: every path they use is here.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use serde_json::Value;
use tfeco_core::{AccountKey, Command};
use tfeco_wallet::client::account_of;
use tfeco_wallet::{Client, ClientError};

use crate::{Result, SimError};

/// The answer to one submitted command.
pub enum Submitted {
    /// Accepted: the events (JSON array) of its journal entry.
    Accepted(Value),
    /// Refused by the node with this stable code (the state did not change).
    Refused(String),
}

impl Submitted {
    /// The events when accepted.
    pub fn events(self) -> Option<Value> {
        match self {
            Submitted::Accepted(events) => Some(events),
            Submitted::Refused(_) => None,
        }
    }
}

/// A signing client of one node with the agents' nonces and the tally of outcomes.
pub struct HttpDriver {
    client: Client,
    next_nonce: BTreeMap<AccountKey, u64>,
    accepted: u64,
    refused: BTreeMap<String, u64>,
}

impl HttpDriver {
    /// A driver of the node at `url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(url: &str) -> Self {
        HttpDriver {
            client: Client::new(url),
            next_nonce: BTreeMap::new(),
            accepted: 0,
            refused: BTreeMap::new(),
        }
    }

    /// Signs `command` with `key` and the signer's next nonce (asked of the node on first use) and submits
    /// it. A refusal is an outcome (the economy refusing things is part of every story) and keeps the nonce;
    /// errors: [`SimError::Node`] when the node cannot be reached or answers garbage.
    pub async fn submit(&mut self, key: &SigningKey, command: Command) -> Result<Submitted> {
        let account = account_of(key);
        let nonce = match self.next_nonce.get(&account) {
            Some(nonce) => *nonce,
            None => self.client.next_nonce(&account).await?,
        };
        match self.client.submit(key, nonce, command).await {
            Ok(ok) => {
                self.next_nonce.insert(account, nonce + 1);
                self.accepted += 1;
                Ok(Submitted::Accepted(ok.events))
            }
            Err(ClientError::Api { code, .. }) => {
                self.next_nonce.insert(account, nonce);
                *self.refused.entry(code.clone()).or_default() += 1;
                Ok(Submitted::Refused(code))
            }
            Err(error) => Err(SimError::Node(error)),
        }
    }

    /// Commands the node accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Commands the node refused so far, by stable code.
    pub fn refused(&self) -> &BTreeMap<String, u64> {
        &self.refused
    }

    async fn get(&self, path: &str) -> Result<Value> {
        Ok(self.client.get(path).await?)
    }

    /// `GET /v1/status`: `{now, seq, state_hash, invariants_ok, ...}`.
    pub async fn status(&self) -> Result<Value> {
        self.get("/v1/status").await
    }

    /// The node's time, unix seconds.
    pub async fn now(&self) -> Result<i64> {
        let status = self.status().await?;
        status["now"].as_i64().ok_or_else(|| SimError::Check("the node's status has no time".to_owned()))
    }

    /// `GET /v1/farms`: `{farms: [{id, owner, ...}]}`.
    pub async fn farms(&self) -> Result<Value> {
        self.get("/v1/farms").await
    }

    /// `GET /v1/nodes`: `{nodes: [{id, free_slices, price_month, ...}]}`.
    pub async fn nodes(&self) -> Result<Value> {
        self.get("/v1/nodes").await
    }

    /// `GET /v1/accounts/{account}`: balances, revenue, nonces.
    pub async fn account(&self, account: &AccountKey) -> Result<Value> {
        self.get(&format!("/v1/accounts/{account}")).await
    }

    /// `GET /v1/leases`, all of them, or a tenant's open ones.
    pub async fn leases(&self, open_of_tenant: Option<&AccountKey>) -> Result<Value> {
        match open_of_tenant {
            Some(tenant) => self.get(&format!("/v1/leases?tenant={tenant}&open=true")).await,
            None => self.get("/v1/leases").await,
        }
    }

    /// `GET /v1/mint/reports`: `{reports: [{period, minted_at, ...}]}`.
    pub async fn mint_reports(&self) -> Result<Value> {
        self.get("/v1/mint/reports").await
    }

    /// `GET /v1/mint/reports/{period}`: one report with its `canonical_json`.
    pub async fn mint_report(&self, period: u32) -> Result<Value> {
        self.get(&format!("/v1/mint/reports/{period}")).await
    }

    /// `GET /v1/supply`: minted, burned, vault and global supply per asset.
    pub async fn supply(&self) -> Result<Value> {
        self.get("/v1/supply").await
    }

    /// `GET /v1/system-accounts`: treasury, vesting, pools.
    pub async fn system_accounts(&self) -> Result<Value> {
        self.get("/v1/system-accounts").await
    }

    /// `GET /v1/prices`: the oracle's current prices.
    pub async fn prices(&self) -> Result<Value> {
        self.get("/v1/prices").await
    }
}
