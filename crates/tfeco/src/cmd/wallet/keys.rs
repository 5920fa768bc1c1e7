//! `tfeco wallet new|recover|show`: keys in an encrypted keystore (argon2id + XChaCha20-Poly1305; password
//! from `TFECO_PASSWORD` or a prompt).
//!
//! Recovery phrases: `wallet new --mnemonic` derives the key from a new 24-word BIP-39 phrase (English;
//! SLIP-0010 ed25519 path `m/44'/1952867683'/account'/0'/0'`, see `tfeco_wallet::mnemonic`) and shows the
//! words once, on the terminal (stderr) only: never on stdout, in the JSON or in a log. `wallet recover`
//! reads a phrase from `TFECO_MNEMONIC` or a hidden prompt and writes a new keystore for it. The optional
//! BIP-39 passphrase is used only with `--with-passphrase` and comes from `TFECO_MNEMONIC_PASSPHRASE` or a
//! prompt.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use ed25519_dalek::SigningKey;
use serde_json::json;
use tfeco_core::AccountKey;
use tfeco_wallet::client::account_of;
use tfeco_wallet::keystore::{password_from_env_or_prompt, KdfParams, Keystore};
use tfeco_wallet::mnemonic::{account_path_string, Mnemonic, Zeroizing};

use crate::connect::{prompt, Session};
use crate::render;

/// Arguments of `wallet new`.
#[derive(clap::Args)]
pub(super) struct NewArgs {
    /// A label stored with the key.
    #[arg(long)]
    pub(super) label: Option<String>,
    /// Use cheap key derivation (for tests only).
    #[arg(long, hide = true)]
    pub(super) insecure_fast_kdf: bool,
    /// Derive the key from a new 24-word BIP-39 recovery phrase, shown once on the terminal (stderr).
    #[arg(long)]
    pub(super) mnemonic: bool,
    /// With --mnemonic: add a BIP-39 passphrase (TFECO_MNEMONIC_PASSPHRASE or a prompt); the words
    /// alone then no longer recover the account.
    #[arg(long, requires = "mnemonic")]
    pub(super) with_passphrase: bool,
    /// With --mnemonic: print the phrase to stderr without asking, even with --json or when stderr is
    /// not a terminal (it is never printed to stdout).
    #[arg(long, requires = "mnemonic")]
    pub(super) show_mnemonic: bool,
}

/// Arguments of `wallet recover`.
#[derive(clap::Args)]
pub(super) struct RecoverArgs {
    /// A label stored with the key.
    #[arg(long)]
    pub(super) label: Option<String>,
    /// Use cheap key derivation (for tests only).
    #[arg(long, hide = true)]
    pub(super) insecure_fast_kdf: bool,
    /// The phrase was made with a BIP-39 passphrase (TFECO_MNEMONIC_PASSPHRASE or a prompt).
    #[arg(long)]
    pub(super) with_passphrase: bool,
    /// Which account of the phrase (0 for the first, the one `wallet new --mnemonic` makes).
    #[arg(long, default_value_t = 0)]
    pub(super) account_index: u32,
    /// Refuse unless the recovered account is this key (catches a mistyped passphrase, which no
    /// checksum can).
    #[arg(long)]
    pub(super) expect_account: Option<AccountKey>,
}

/// A new keystore password, asked twice (or `TFECO_PASSWORD`), checked for strength (zxcvbn score at
/// least 3 of 4; `TFECO_ALLOW_WEAK_PASSWORD=1` skips the check, for throw-away development wallets).
fn new_password() -> anyhow::Result<Zeroizing<String>> {
    let password = password_from_env_or_prompt("TFECO_PASSWORD", "New keystore password: ", true, &prompt)?;
    if std::env::var_os("TFECO_ALLOW_WEAK_PASSWORD").is_none_or(|v| v != "1") {
        tfeco_wallet::keystore::check_password_strength(&password)?;
    }
    Ok(password)
}

/// Encrypts `key` into a new keystore at `path` (never over an existing file).
fn write_keystore(
    path: &Path,
    key: &SigningKey,
    insecure_fast_kdf: bool,
    label: Option<String>,
) -> anyhow::Result<()> {
    let password = new_password()?;
    let keystore = Keystore::encrypt(key, &password, kdf_params(insecure_fast_kdf), label)?;
    keystore.save(path).with_context(|| format!("writing {}", path.display()))
}

/// `wallet new`: a random key (or, with `--mnemonic`, one from a new recovery phrase) in a new keystore.
pub(super) fn new(session: &Session, args: NewArgs) -> anyhow::Result<ExitCode> {
    let path = &session.keystore;
    if args.mnemonic {
        let NewArgs { label, insecure_fast_kdf, with_passphrase, show_mnemonic, .. } = args;
        let options = NewFromPhrase { label, insecure_fast_kdf, with_passphrase, show_mnemonic };
        return new_from_phrase(path, session.json, options);
    }
    ensure_no_keystore(path)?;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    write_keystore(path, &key, args.insecure_fast_kdf, args.label)?;
    let account = account_of(&key);
    let value = json!({ "account": account, "keystore": path });
    render::view(session.json, &value, |_| {
        format!(
            "new account {account}\nkeystore {} (keep the password: it cannot be recovered; no recovery phrase: \
             back up the keystore file, or create keys with --mnemonic)",
            path.display()
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `wallet recover`: the key of a recovery phrase into a new keystore.
pub(super) fn recover(session: &Session, args: RecoverArgs) -> anyhow::Result<ExitCode> {
    let path = &session.keystore;
    ensure_no_keystore(path)?;
    let phrase = read_phrase()?;
    let passphrase = read_passphrase(args.with_passphrase, false)?;
    let key = recover_key(&phrase, &passphrase, args.account_index, args.expect_account)?;
    drop(phrase);
    write_keystore(path, &key, args.insecure_fast_kdf, args.label)?;
    let account = account_of(&key);
    let derivation_path = account_path_string(args.account_index)?;
    let value = json!({
        "account": account,
        "keystore": path,
        "derivation_path": derivation_path,
        "passphrase": args.with_passphrase,
    });
    render::view(session.json, &value, |_| {
        let with = if args.with_passphrase { ", with a BIP-39 passphrase" } else { "" };
        format!("recovered account {account}\nkeystore {} (path {derivation_path}{with})", path.display())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `wallet show`: the keystore's account and label (no password needed).
pub(super) fn show(session: &Session) -> anyhow::Result<ExitCode> {
    let path = &session.keystore;
    let keystore = Keystore::load(path).with_context(|| format!("reading keystore {}", path.display()))?;
    let account = AccountKey(keystore.public_key()?.to_bytes());
    let value = json!({ "account": account, "label": keystore.label(), "keystore": path });
    render::view(session.json, &value, |_| format!("account {account}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Where `wallet recover` reads the recovery phrase when set (else a hidden prompt).
const MNEMONIC_ENV: &str = "TFECO_MNEMONIC";
/// Where the BIP-39 passphrase is read when set and `--with-passphrase` is given (else a prompt).
const PASSPHRASE_ENV: &str = "TFECO_MNEMONIC_PASSPHRASE";

fn kdf_params(insecure_fast_kdf: bool) -> KdfParams {
    if insecure_fast_kdf {
        KdfParams::fast_for_tests()
    } else {
        KdfParams::interactive()
    }
}

/// Refuses early, before any secret is asked for or shown, when the keystore file exists
/// ([`Keystore::save`] refuses again, atomically, when it writes).
fn ensure_no_keystore(path: &Path) -> anyhow::Result<()> {
    if path.symlink_metadata().is_ok() {
        bail!(
            "keystore {} already exists: refusing to overwrite it (choose another --keystore)",
            path.display()
        );
    }
    Ok(())
}

/// The recovery phrase from `TFECO_MNEMONIC`, or else a hidden prompt on the terminal.
fn read_phrase() -> anyhow::Result<Zeroizing<String>> {
    if let Some(value) = std::env::var_os(MNEMONIC_ENV).filter(|v| !v.is_empty()) {
        return value
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| anyhow!("{MNEMONIC_ENV} is not valid UTF-8"));
    }
    prompt("Recovery phrase (words separated by spaces; input hidden): ")
        .map(Zeroizing::new)
        .map_err(|e| anyhow!("reading the recovery phrase: {e} (without a terminal, set {MNEMONIC_ENV})"))
}

/// The BIP-39 passphrase: empty unless `--with-passphrase`; then `TFECO_MNEMONIC_PASSPHRASE` or a prompt
/// (asked twice when `confirm`).
fn read_passphrase(with_passphrase: bool, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if !with_passphrase {
        if std::env::var_os(PASSPHRASE_ENV).is_some_and(|v| !v.is_empty()) {
            eprintln!(
                "warning: {PASSPHRASE_ENV} is set but --with-passphrase was not given: no passphrase is used"
            );
        }
        return Ok(Zeroizing::new(String::new()));
    }
    let from_env = std::env::var_os(PASSPHRASE_ENV).is_some_and(|v| !v.is_empty());
    let passphrase = password_from_env_or_prompt(PASSPHRASE_ENV, "BIP-39 passphrase: ", false, &prompt)
        .context("reading the BIP-39 passphrase")?;
    if confirm && !from_env {
        let again =
            Zeroizing::new(prompt("Repeat BIP-39 passphrase: ").context("reading the BIP-39 passphrase")?);
        if *again != *passphrase {
            bail!("the BIP-39 passphrases do not match (nothing was created)");
        }
    }
    Ok(passphrase)
}

/// Checks the phrase (word list and checksum), derives account `account_index` and, when given, checks it
/// is `expect_account`.
fn recover_key(
    phrase: &str,
    passphrase: &str,
    account_index: u32,
    expect_account: Option<AccountKey>,
) -> anyhow::Result<SigningKey> {
    let mnemonic = Mnemonic::parse(phrase)?;
    let key = mnemonic.account_key(passphrase, account_index)?;
    if let Some(expected) = expect_account {
        let account = account_of(&key);
        if account != expected {
            bail!(
                "the phrase gives account {account} at index {account_index}, not {expected}: check the \
                 passphrase and the account index (nothing was written)"
            );
        }
    }
    Ok(key)
}

/// How `wallet new --mnemonic` may show the phrase.
#[derive(Debug, PartialEq, Eq)]
enum PhraseDisplay {
    /// Print it to stderr.
    Show,
    /// Ask on the terminal first (`--json` with a terminal and no `--show-mnemonic`).
    ConfirmFirst,
    /// Refuse before creating anything, for this reason.
    Refuse(&'static str),
}

/// The words only ever go to stderr. They are printed when stderr is a terminal, or anywhere when
/// `--show-mnemonic` says so; with `--json` (output likely read by a program) a person at a terminal
/// confirms first, and without a terminal `--show-mnemonic` is required.
fn phrase_display(json_out: bool, show_mnemonic: bool, stderr_tty: bool, stdin_tty: bool) -> PhraseDisplay {
    if show_mnemonic {
        PhraseDisplay::Show
    } else if !stderr_tty {
        PhraseDisplay::Refuse(
            "stderr is not a terminal, so the recovery phrase would land in a file or a log: run this in a \
             terminal, or pass --show-mnemonic to print it to stderr anyway (nothing was created)",
        )
    } else if !json_out {
        PhraseDisplay::Show
    } else if stdin_tty {
        PhraseDisplay::ConfirmFirst
    } else {
        PhraseDisplay::Refuse(
            "with --json the recovery phrase is printed to the terminal (stderr), never in the JSON: pass \
             --show-mnemonic to allow it (nothing was created)",
        )
    }
}

/// The warning banner and the numbered words, for stderr only. Written straight into one buffer with room
/// to spare, so no stray copy of a word is left in freed memory.
fn phrase_banner(mnemonic: &Mnemonic, derivation_path: &str, with_passphrase: bool) -> Zeroizing<String> {
    use std::fmt::Write as _;
    let rule = "=".repeat(78);
    let thin = "-".repeat(78);
    let count = mnemonic.word_count();
    let mut text = Zeroizing::new(String::with_capacity(4096));
    // Writing to a String cannot fail.
    let _ = writeln!(text, "{rule}");
    let _ = writeln!(text, "  RECOVERY PHRASE: write these {count} words down, in order, on paper.");
    let _ = writeln!(text, "  Anyone with them controls the account. They will not be shown again.");
    let _ = writeln!(text, "  tfeco keeps no copy; never type them into a website, a chat or a photo.");
    let _ = writeln!(text, "{thin}");
    for (i, word) in mnemonic.words().enumerate() {
        let last_in_row = i % 4 == 3 || i + 1 == count;
        let _ = if last_in_row {
            writeln!(text, "  {:>2}. {word}", i + 1)
        } else {
            write!(text, "  {:>2}. {word:<12}", i + 1)
        };
    }
    let _ = writeln!(text, "{thin}");
    let _ = writeln!(text, "  BIP-39 English words; key at SLIP-0010 ed25519 path {derivation_path}.");
    if with_passphrase {
        let _ =
            writeln!(text, "  A BIP-39 passphrase was added: the words alone do NOT recover this account.");
        let _ = writeln!(text, "  Keep the passphrase too, apart from the words; recover with");
        let _ = writeln!(text, "  `tfeco wallet recover --with-passphrase`.");
    } else {
        let _ = writeln!(text, "  Recover with `tfeco wallet recover`.");
    }
    let _ = writeln!(text, "{rule}");
    text
}

/// Options of `wallet new --mnemonic`.
struct NewFromPhrase {
    label: Option<String>,
    insecure_fast_kdf: bool,
    with_passphrase: bool,
    show_mnemonic: bool,
}

/// `wallet new --mnemonic`: decide how the words will be shown (or refuse) before anything is created;
/// generate the phrase, derive account 0, write the keystore; only then show the words, on stderr.
fn new_from_phrase(keystore_path: &Path, json_out: bool, options: NewFromPhrase) -> anyhow::Result<ExitCode> {
    ensure_no_keystore(keystore_path)?;
    let stderr_tty = std::io::stderr().is_terminal();
    let stdin_tty = std::io::stdin().is_terminal();
    match phrase_display(json_out, options.show_mnemonic, stderr_tty, stdin_tty) {
        PhraseDisplay::Show => {}
        PhraseDisplay::Refuse(reason) => bail!("{reason}"),
        PhraseDisplay::ConfirmFirst => {
            eprint!(
                "The recovery phrase will be shown on this terminal (stderr), not in the JSON output.\n\
                 Make sure nobody can see the screen. Show it? Type \"yes\": "
            );
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer).context("reading the confirmation")?;
            if !answer.trim().eq_ignore_ascii_case("yes") {
                bail!("not confirmed: no key was created");
            }
        }
    }
    let passphrase = read_passphrase(options.with_passphrase, true)?;
    let password = new_password()?;

    let mnemonic = Mnemonic::generate();
    let key = mnemonic.account_key(&passphrase, 0)?;
    let keystore = Keystore::encrypt(&key, &password, kdf_params(options.insecure_fast_kdf), options.label)?;
    keystore.save(keystore_path).with_context(|| format!("writing {}", keystore_path.display()))?;

    let path = account_path_string(0)?;
    let banner = phrase_banner(&mnemonic, &path, options.with_passphrase);
    let mut stderr = std::io::stderr().lock();
    stderr
        .write_all(banner.as_bytes())
        .and_then(|()| stderr.flush())
        .context("showing the recovery phrase")?;
    drop(stderr);

    let account = account_of(&key);
    let value = json!({
        "account": account,
        "keystore": keystore_path,
        "mnemonic": {
            "words": mnemonic.word_count(),
            "wordlist": "english",
            "derivation_path": path,
            "passphrase": options.with_passphrase,
            "shown_on": "stderr",
        },
    });
    render::view(json_out, &value, |_| {
        format!(
            "new account {account}\nkeystore {} (keep the password: it cannot be recovered; the {} words \
             above recover the key)",
            keystore_path.display(),
            mnemonic.word_count()
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfeco_wallet::mnemonic::MnemonicError;

    /// A public test phrase (BIP-39 reference entropy 00..00) and its pinned account 0 / account 1 keys
    /// without a passphrase (see the pinned test in `tfeco_wallet::mnemonic`).
    const PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                          abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                          abandon abandon abandon art";
    const ACCOUNT_0: &str = "863e37d0a4ab945f4f8787eabe8132cd80f51303f73fde035bc5deaf9056e23a";
    const ACCOUNT_1: &str = "fed60ae2d61ce49b446a224eba438e450b888105c004c271f30de2b826596a4a";

    #[test]
    fn the_phrase_is_shown_only_where_it_should_be() {
        use PhraseDisplay::*;
        // (json, --show-mnemonic, stderr is a terminal, stdin is a terminal)
        assert_eq!(phrase_display(false, false, true, true), Show);
        assert_eq!(phrase_display(false, false, true, false), Show);
        assert_eq!(phrase_display(true, false, true, true), ConfirmFirst);
        assert!(
            matches!(phrase_display(true, false, true, false), Refuse(r) if r.contains("--show-mnemonic"))
        );
        // stderr redirected to a file or a pipe: never without --show-mnemonic.
        for json in [false, true] {
            for stdin_tty in [false, true] {
                assert!(
                    matches!(phrase_display(json, false, false, stdin_tty), Refuse(r) if r.contains("log"))
                );
                assert_eq!(phrase_display(json, true, false, stdin_tty), Show);
            }
        }
        assert_eq!(phrase_display(true, true, true, true), Show);
    }

    #[test]
    fn banner_warns_and_numbers_every_word() {
        let mnemonic = Mnemonic::generate();
        let path = account_path_string(0).expect("path");
        let banner = phrase_banner(&mnemonic, &path, false);
        for needle in [
            "write these 24 words down",
            "Anyone with them controls the account",
            "will not be shown again",
            "m/44'/1952867683'/0'/0'/0'",
            "tfeco wallet recover",
        ] {
            assert!(banner.contains(needle), "missing {needle:?}:\n{}", banner.as_str());
        }
        assert!(!banner.contains("passphrase"));
        // Every word, numbered, in order, four to a line.
        let mut found = Vec::new();
        for line in banner.lines() {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            if tokens.first().is_some_and(|t| t.ends_with('.') && t[..t.len() - 1].parse::<usize>().is_ok()) {
                assert_eq!(tokens.len(), 8, "{line}");
                for pair in tokens.chunks(2) {
                    found.push((pair[0].trim_end_matches('.').parse::<usize>().expect("number"), pair[1]));
                }
            }
        }
        let expected: Vec<(usize, &str)> = mnemonic.words().enumerate().map(|(i, w)| (i + 1, w)).collect();
        assert_eq!(found, expected);

        let with_passphrase = phrase_banner(&mnemonic, &path, true);
        assert!(with_passphrase.contains("the words alone do NOT recover"), "{}", with_passphrase.as_str());
        assert!(with_passphrase.contains("--with-passphrase"));
    }

    #[test]
    fn recover_key_checks_the_phrase_and_the_expected_account() {
        let key = recover_key(PHRASE, "", 0, None).expect("recover");
        assert_eq!(account_of(&key).to_string(), ACCOUNT_0);
        let key = recover_key(&PHRASE.to_uppercase(), "", 1, ACCOUNT_1.parse().ok()).expect("recover");
        assert_eq!(account_of(&key).to_string(), ACCOUNT_1);

        // A wrong word: the checksum error comes through typed.
        let wrong = PHRASE.replace(" art", " abandon");
        let error = recover_key(&wrong, "", 0, None).expect_err("refused");
        assert_eq!(error.downcast_ref::<MnemonicError>(), Some(&MnemonicError::Checksum));
        let error = recover_key(&PHRASE.replacen("abandon", "abandno", 1), "", 0, None).expect_err("refused");
        assert_eq!(error.downcast_ref::<MnemonicError>(), Some(&MnemonicError::UnknownWord { position: 1 }));
        assert!(!error.to_string().contains("abandno"), "{error}");

        // A mistyped passphrase gives another valid account: --expect-account catches it.
        let error = recover_key(PHRASE, "TREZRO", 0, ACCOUNT_0.parse().ok()).expect_err("refused");
        assert!(error.to_string().contains("check the passphrase"), "{error}");
    }

    #[test]
    fn recovered_key_round_trips_through_a_new_keystore_that_is_never_overwritten() {
        let temp = tempfile::tempdir().expect("tempdir");
        let path = temp.path().join("recovered.json");
        ensure_no_keystore(&path).expect("free");

        let generated = Mnemonic::generate();
        let original = generated.account_key("", 0).expect("derive");
        let key = recover_key(&generated.phrase(), "", 0, Some(account_of(&original))).expect("recover");
        let keystore =
            Keystore::encrypt(&key, "pw", kdf_params(true), Some("restored".to_owned())).expect("encrypt");
        keystore.save(&path).expect("save");
        let loaded = Keystore::load(&path).expect("load");
        assert_eq!(loaded.decrypt("pw").expect("decrypt").to_bytes(), original.to_bytes());

        let error = ensure_no_keystore(&path).expect_err("exists");
        assert!(error.to_string().contains("refusing to overwrite"), "{error}");
    }
}
