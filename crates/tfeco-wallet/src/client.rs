//! The HTTP client of the node API: builds and signs requests (ed25519 over the canonical body), submits
//! them, and maps error responses to typed [`ClientError`]s.

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use tfeco_core::RequestBody;
use tfeco_core::{AccountKey, Command};

/// How long a request stays valid after signing, seconds.
pub const DEFAULT_EXPIRY_S: i64 = 300;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached or the connection failed.
    #[error("cannot reach the node: {0}")]
    Http(String),
    /// The node refused the request with a stable code.
    #[error("{code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code, e.g. `balance_low`.
        code: String,
        /// Human-readable message.
        message: String,
    },
    /// The response was not the expected JSON.
    #[error("unexpected response: {0}")]
    Decode(String),
}

impl ClientError {
    /// The stable code of an API error, if this is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// An accepted command: its journal sequence number and events.
#[derive(Debug, Clone)]
pub struct TxOk {
    /// Sequence number in the journal.
    pub seq: u64,
    /// Events (JSON).
    pub events: Value,
}

/// The signed JSON body for `POST /v1/tx`.
pub fn sign_request(key: &SigningKey, nonce: u64, expiry: i64, command: Command) -> Value {
    let body = RequestBody { signer: AccountKey(key.verifying_key().to_bytes()), nonce, expiry, command };
    let signature = key.sign(&body.signing_bytes());
    json!({ "body": body, "signature": hex::encode(signature.to_bytes()) })
}

/// The account key of a signing key.
pub fn account_of(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A client of one node.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the node at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Self {
        Client { base: base_url.trim_end_matches('/').to_owned(), http: reqwest::Client::new() }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn decode(response: reqwest::Response) -> Result<Value, ClientError> {
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| ClientError::Decode(e.to_string()))?;
        if status.is_success() {
            return Ok(body);
        }
        Err(ClientError::Api {
            status: status.as_u16(),
            code: body["code"].as_str().unwrap_or("unknown").to_owned(),
            message: body["message"].as_str().unwrap_or("").to_owned(),
        })
    }

    /// `GET path` as JSON.
    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Self::decode(response).await
    }

    /// `GET path` as a signed read (own sealed bids and orders): headers carry the account, a timestamp and
    /// an ed25519 signature over [`tfeco_core::request::read_signing_bytes`].
    pub async fn get_signed(&self, path: &str, key: &SigningKey) -> Result<Value, ClientError> {
        let timestamp = unix_now();
        let signature = key.sign(&tfeco_core::request::read_signing_bytes(path, timestamp));
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("x-tfeco-account", account_of(key).to_hex())
            .header("x-tfeco-timestamp", timestamp.to_string())
            .header("x-tfeco-signature", hex::encode(signature.to_bytes()))
            .send()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Self::decode(response).await
    }

    /// Posts an already signed body (see [`sign_request`]).
    pub async fn post_signed(&self, body: &Value) -> Result<TxOk, ClientError> {
        let response = self
            .http
            .post(format!("{}/v1/tx", self.base))
            .json(body)
            .send()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        let value = Self::decode(response).await?;
        let seq = value["seq"].as_u64().ok_or_else(|| ClientError::Decode("missing seq".to_owned()))?;
        Ok(TxOk { seq, events: value["events"].clone() })
    }

    /// Signs `command` with `key` and `nonce` (expiry: now + 5 minutes) and submits it.
    pub async fn submit(&self, key: &SigningKey, nonce: u64, command: Command) -> Result<TxOk, ClientError> {
        self.post_signed(&sign_request(key, nonce, unix_now() + DEFAULT_EXPIRY_S, command)).await
    }

    /// The next nonce of an account (1 for an unregistered key).
    pub async fn next_nonce(&self, account: &AccountKey) -> Result<u64, ClientError> {
        match self.get(&format!("/v1/accounts/{account}")).await {
            Ok(value) => value["next_nonce"]
                .as_u64()
                .ok_or_else(|| ClientError::Decode("missing next_nonce".to_owned())),
            Err(ClientError::Api { code, .. }) if code == "account_not_found" => Ok(1),
            Err(error) => Err(error),
        }
    }

    /// Looks up the next nonce, then signs and submits.
    pub async fn submit_next(&self, key: &SigningKey, command: Command) -> Result<TxOk, ClientError> {
        let nonce = self.next_nonce(&account_of(key)).await?;
        self.submit(key, nonce, command).await
    }
}
