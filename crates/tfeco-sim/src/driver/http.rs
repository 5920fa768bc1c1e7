//! [`HttpDriver`]: signs the agents' commands and posts them to a running node through the typed
//! [`tfeco_wallet::Client`], keeping each signer's nonce; counts what the node accepted and what it refused
//! (by stable code). Scenarios observe the economy through the same client ([`HttpDriver::client`]), whose
//! reads return the `tfeco-api` views.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use tfeco_core::{AccountKey, Command, Event};
use tfeco_wallet::api::tx::TxAccepted;
use tfeco_wallet::api::ErrorCode;
use tfeco_wallet::client::account_of;
use tfeco_wallet::{CallError, Client};

use crate::{Result, SimError};

/// The answer to one submitted command.
pub enum Submitted {
    /// Accepted: the journal entry and its events.
    Accepted(TxAccepted),
    /// Refused by the node with this stable code (the state did not change).
    Refused(ErrorCode),
}

impl Submitted {
    /// The events when accepted (the client decodes them as [`tfeco_core::Event`]s), `None` when refused.
    pub fn events(self) -> Result<Option<Vec<Event>>> {
        match self {
            Submitted::Accepted(accepted) => Ok(Some(accepted.events)),
            Submitted::Refused(_) => Ok(None),
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

    /// The node's typed client, for the scenarios' reads.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Signs `command` with `key` and the signer's next nonce (asked of the node on first use) and submits
    /// it. A refusal is an outcome (the economy refusing things is part of every story) and keeps the nonce;
    /// errors: [`SimError::Node`] when the node cannot be reached or answers garbage.
    pub async fn submit(&mut self, key: &SigningKey, command: Command) -> Result<Submitted> {
        let account = account_of(key);
        let nonce = match self.next_nonce.get(&account) {
            Some(nonce) => *nonce,
            None => self.client.account_next_nonce(&account).await?,
        };
        match self.client.submit_command(key, nonce, command).await {
            Ok(accepted) => {
                self.next_nonce.insert(account, nonce + 1);
                self.accepted += 1;
                Ok(Submitted::Accepted(accepted))
            }
            Err(CallError::Refused { error, .. }) => {
                self.next_nonce.insert(account, nonce);
                *self.refused.entry(error.code.as_str().to_owned()).or_default() += 1;
                Ok(Submitted::Refused(error.code))
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

    /// The node's time, unix seconds.
    pub async fn now(&self) -> Result<i64> {
        Ok(self.client.status().await?.now)
    }
}
