//! The connection options every networked command shares ([`ConnectOpts`]: `--url`, `--keystore`, `--json`,
//! after the group or any of its subcommands) and the [`Session`] built from them: the node's client, the
//! keystore that signs, and the output mode. `--url` (or `TFECO_NODE`) is always the node's URL; `--node` is
//! always a node id, in the subcommands that take one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use serde::Serialize;
use tfeco_core::{AccountKey, Command};
use tfeco_wallet::api::tx::TxAccepted;
use tfeco_wallet::keystore::{password_from_env_or_prompt, Keystore};
use tfeco_wallet::{CallError, Client};

use crate::cmd::config;
use crate::render;

/// Where the keystore password is read when set (else a prompt).
const PASSWORD_ENV: &str = "TFECO_PASSWORD";

/// `--url`, `--keystore`, `--json`, `--profile`: flattened into every command group that talks to a node.
/// Each setting is the flag, else its environment variable, else the active profile's (`tfeco config`),
/// else the default (`crate::cmd::config::resolve`).
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ConnectOpts {
    /// The node's URL [default: the profile's, else http://127.0.0.1:8080].
    #[arg(long, value_name = "URL", env = "TFECO_NODE", global = true)]
    pub(crate) url: Option<String>,
    /// Keystore file of the signing key (commands that sign; password from TFECO_PASSWORD or a prompt)
    /// [default: the profile's, else tfeco-wallet.json].
    #[arg(long, value_name = "FILE", env = "TFECO_KEYSTORE", global = true)]
    pub(crate) keystore: Option<PathBuf>,
    /// Print JSON (amounts as decimal strings); errors as {"error": {code, message}}.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The settings profile to use (`tfeco config`; default: the active one).
    #[arg(long, value_name = "NAME", env = "TFECO_PROFILE", global = true)]
    pub(crate) profile: Option<String>,
}

impl ConnectOpts {
    /// The settings in effect: flag, environment, profile, default.
    pub(crate) fn settings(&self) -> anyhow::Result<config::Settings> {
        config::resolve(config::Given {
            url: self.url.as_deref(),
            keystore: self.keystore.as_deref(),
            json: self.json,
            profile: self.profile.as_deref(),
        })
    }
}

/// A prompt on the terminal with hidden input.
pub(crate) fn prompt(text: &str) -> std::io::Result<String> {
    rpassword::prompt_password(text)
}

/// The node, the signing keystore and the output mode of one command.
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) keystore: PathBuf,
    pub(crate) json: bool,
}

impl Session {
    /// The session of `opts` (see [`ConnectOpts::settings`]); an unreadable configuration file or an
    /// unknown profile is an error.
    pub(crate) fn new(opts: &ConnectOpts) -> anyhow::Result<Self> {
        let settings = opts.settings()?;
        Ok(Session {
            client: Client::new(&settings.url.0),
            keystore: settings.keystore.0,
            json: settings.json.0,
        })
    }

    /// The keystore at `--keystore`; a missing file says how to make one.
    fn keystore(&self) -> anyhow::Result<Keystore> {
        let path = &self.keystore;
        if !path.exists() {
            anyhow::bail!(
                "no wallet at {}: create one with `tfeco wallet new` (or `tfeco wallet recover`), or choose \
                 another with --keystore FILE (TFECO_KEYSTORE)",
                path.display()
            );
        }
        Keystore::load(path).with_context(|| format!("reading keystore {}", path.display()))
    }

    /// The keystore's signing key (password from `TFECO_PASSWORD` or a prompt).
    pub(crate) fn unlock(&self) -> anyhow::Result<SigningKey> {
        let keystore = self.keystore()?;
        let password = password_from_env_or_prompt(PASSWORD_ENV, "Keystore password: ", false, &prompt)?;
        Ok(keystore.decrypt(&password)?)
    }

    /// The keystore's account (its public key; no password needed).
    pub(crate) fn account(&self) -> anyhow::Result<AccountKey> {
        let keystore = self.keystore()?;
        Ok(AccountKey(keystore.public_key()?.to_bytes()))
    }

    /// Unlocks the keystore, signs `command` with the account's next nonce and submits it; prints the entry
    /// and its events.
    pub(crate) async fn submit(&self, command: Command) -> anyhow::Result<ExitCode> {
        let key = self.unlock()?;
        self.submit_as(&key, command, render::accepted).await
    }

    /// Signs `command` with `key` and submits it; prints `{seq, events}` with `--json`, else `human` of the
    /// answer. A refusal prints its code and exits 3.
    pub(crate) async fn submit_as(
        &self,
        key: &SigningKey,
        command: Command,
        human: impl FnOnce(&TxAccepted) -> String,
    ) -> anyhow::Result<ExitCode> {
        let result = self.client.submit_command_next(key, command).await;
        render::answer(self.json, result, human)
    }

    /// The node's time, unix seconds (the default observation time of a price).
    pub(crate) async fn node_now(&self) -> Result<i64, CallError> {
        Ok(self.client.status().await?.now)
    }

    /// Prints the answer of a read (see [`render::answer`]).
    pub(crate) fn answer<T: Serialize>(
        &self,
        result: Result<T, CallError>,
        human: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<ExitCode> {
        render::answer(self.json, result, human)
    }
}
