//! `tfeco config`: named profiles of client settings (the node's URL, the keystore, JSON output) in
//! `config.toml` in the user's configuration directory (`directories`: e.g. `~/.config/tfeco/` on Linux;
//! `TFECO_CONFIG_DIR` overrides it), and their resolution for every networked command ([`resolve`]).
//!
//! Precedence, for each setting: the command-line flag (`--url`, `--keystore`, `--json`), then the
//! environment (`TFECO_NODE`, `TFECO_KEYSTORE`), then the active profile, then the default. The active
//! profile is `--profile NAME` (or `TFECO_PROFILE`), else the file's `current_profile` (set by
//! `tfeco config use NAME`), else `default`. Naming a profile the file does not have is an error (except
//! `default`, which is empty until set), so a typo never signs with the wrong wallet.
//!
//! The file (written whole, atomically, by `config set|unset|use`):
//!
//! ```toml
//! current_profile = "staging"
//!
//! [profiles.default]
//! url = "http://127.0.0.1:8080"
//!
//! [profiles.staging]
//! url = "https://staging.example:8443"
//! keystore = "/home/me/alice.json"
//! json = true
//! ```

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

/// Overrides the configuration directory (tests, several setups on one machine).
pub(crate) const CONFIG_DIR_ENV: &str = "TFECO_CONFIG_DIR";
/// Selects the active profile (as `--profile`).
pub(crate) const PROFILE_ENV: &str = "TFECO_PROFILE";
/// The node's URL from the environment (as `--url`).
pub(crate) const URL_ENV: &str = "TFECO_NODE";
/// The keystore from the environment (as `--keystore`).
pub(crate) const KEYSTORE_ENV: &str = "TFECO_KEYSTORE";
/// The file's name in the configuration directory.
const FILE_NAME: &str = "config.toml";
/// The profile used when none is named or chosen.
pub(crate) const DEFAULT_PROFILE: &str = "default";
/// The default node URL.
pub(crate) const DEFAULT_URL: &str = "http://127.0.0.1:8080";
/// The default keystore (in the working directory).
pub(crate) const DEFAULT_KEYSTORE: &str = "tfeco-wallet.json";
/// Longest profile name, characters.
const MAX_PROFILE_NAME: usize = 64;

/// `tfeco config ...`.
#[derive(clap::Args, Debug)]
pub(crate) struct ConfigArgs {
    /// The profile to read or change (default: the active one).
    #[arg(long, value_name = "NAME", env = PROFILE_ENV, global = true)]
    profile: Option<String>,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Set a setting of a profile (created when new): `url URL`, `keystore FILE`, `json true|false`.
    Set {
        /// The setting.
        key: Key,
        /// Its value (a keystore path is stored absolute).
        value: String,
    },
    /// Print a setting of a profile; exits 1 when the profile does not set it.
    Get {
        /// The setting.
        key: Key,
    },
    /// Remove a setting from a profile (the default applies again).
    Unset {
        /// The setting.
        key: Key,
    },
    /// The settings in effect, each with where it comes from (flag or environment, profile, default).
    Show,
    /// The profiles, the active one marked.
    List,
    /// Make a profile the active one for later commands.
    Use {
        /// The profile (created first with `tfeco config set KEY VALUE --profile NAME`).
        name: String,
    },
    /// Print the configuration file's path.
    Path,
}

/// A setting of a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Key {
    /// The node's URL (`--url`).
    Url,
    /// The keystore file (`--keystore`).
    Keystore,
    /// JSON output (`--json`).
    Json,
}

/// One profile's settings; an absent setting falls through to the default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    /// The node's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    /// The keystore file (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) keystore: Option<PathBuf>,
    /// JSON output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) json: Option<bool>,
}

/// The configuration file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// The active profile (`tfeco config use`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_profile: Option<String>,
    /// The profiles by name.
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// Where a setting in effect comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Source {
    /// The command line.
    Flag,
    /// An environment variable.
    Env,
    /// The active profile.
    Profile,
    /// The built-in default.
    Default,
}

/// The settings of one networked command, resolved with their sources.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Settings {
    /// The active profile's name.
    pub(crate) profile: String,
    /// The configuration file (it may not exist).
    pub(crate) file: Option<PathBuf>,
    /// The node's URL.
    pub(crate) url: (String, Source),
    /// The keystore file.
    pub(crate) keystore: (PathBuf, Source),
    /// JSON output.
    pub(crate) json: (bool, Source),
}

/// What the command line gave (after clap: a flag or its environment variable).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Given<'a> {
    /// `--url` or `TFECO_NODE`.
    pub(crate) url: Option<&'a str>,
    /// `--keystore` or `TFECO_KEYSTORE`.
    pub(crate) keystore: Option<&'a Path>,
    /// `--json`.
    pub(crate) json: bool,
    /// `--profile` or `TFECO_PROFILE`.
    pub(crate) profile: Option<&'a str>,
}

/// The configuration file's path: `$TFECO_CONFIG_DIR/config.toml`, else the user's configuration
/// directory's `tfeco/config.toml`; `None` when the platform has no home directory.
pub(crate) fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join(FILE_NAME));
    }
    directories::ProjectDirs::from("", "", "tfeco").map(|dirs| dirs.config_dir().join(FILE_NAME))
}

/// Reads the file at `path` (absent: an empty configuration); a malformed file is an error naming it.
fn load(path: Option<&Path>) -> anyhow::Result<ConfigFile> {
    let Some(path) = path else { return Ok(ConfigFile::default()) };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
    let file: ConfigFile = toml::from_str(&text)
        .with_context(|| format!("the configuration file {} is invalid", path.display()))?;
    for (name, profile) in &file.profiles {
        check_profile_name(name).with_context(|| format!("in {}", path.display()))?;
        if let Some(url) = &profile.url {
            check_url(url).with_context(|| format!("profile {name:?} in {}", path.display()))?;
        }
    }
    Ok(file)
}

/// Writes `file` to `path` atomically (a temp file in the same directory, then a rename).
fn save(path: &Path, file: &ConfigFile) -> anyhow::Result<()> {
    let dir = path.parent().context("the configuration file has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = toml::to_string(file).context("encoding the configuration")?;
    let mut temp =
        tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing in {}", dir.display()))?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist(path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// A profile name: 1 to 64 letters, digits, `-` or `_`.
fn check_profile_name(name: &str) -> anyhow::Result<()> {
    let valid = (1..=MAX_PROFILE_NAME).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        bail!("invalid profile name {name:?}: 1 to {MAX_PROFILE_NAME} letters, digits, '-' or '_'");
    }
    Ok(())
}

/// A node URL: `http://` or `https://` followed by a host, without spaces.
fn check_url(url: &str) -> anyhow::Result<()> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !url.chars().any(char::is_whitespace) => {
            Ok(())
        }
        _ => bail!("invalid node URL {url:?}: expected http://HOST[:PORT] or https://HOST[:PORT]"),
    }
}

/// The active profile's name: `named` (flag or environment), else the file's choice, else `default`.
fn active_name(file: &ConfigFile, named: Option<&str>) -> String {
    named
        .map(str::to_owned)
        .or_else(|| file.current_profile.clone())
        .unwrap_or_else(|| DEFAULT_PROFILE.to_owned())
}

/// The profile `name` of `file`; an unknown name other than `default` is an error listing the known ones.
fn profile_of<'f>(
    file: &'f ConfigFile,
    name: &str,
    path: Option<&Path>,
) -> anyhow::Result<Option<&'f Profile>> {
    check_profile_name(name)?;
    match file.profiles.get(name) {
        Some(profile) => Ok(Some(profile)),
        None if name == DEFAULT_PROFILE => Ok(None),
        None => {
            let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
            let where_ = path.map_or_else(|| "no configuration file".to_owned(), |p| p.display().to_string());
            bail!(
                "no profile {name:?} ({where_}; profiles: {}); create it with `tfeco config set url URL --profile {name}`",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            )
        }
    }
}

/// Whether `value`, given on the command line or in `env`, came from the environment.
fn source_of(value: &str, env: &str) -> Source {
    match std::env::var_os(env) {
        Some(set) if set == value => Source::Env,
        _ => Source::Flag,
    }
}

/// The settings in effect for a command that gave `given` (see the module doc for the precedence).
pub(crate) fn resolve(given: Given<'_>) -> anyhow::Result<Settings> {
    let path = config_path();
    let file = load(path.as_deref())?;
    let name = active_name(&file, given.profile);
    let profile = profile_of(&file, &name, path.as_deref())?.cloned().unwrap_or_default();
    let url = match (given.url, profile.url) {
        (Some(url), _) => (url.to_owned(), source_of(url, URL_ENV)),
        (None, Some(url)) => (url, Source::Profile),
        (None, None) => (DEFAULT_URL.to_owned(), Source::Default),
    };
    let keystore = match (given.keystore, profile.keystore) {
        (Some(keystore), _) => (keystore.to_owned(), source_of(&keystore.to_string_lossy(), KEYSTORE_ENV)),
        (None, Some(keystore)) => (keystore, Source::Profile),
        (None, None) => (PathBuf::from(DEFAULT_KEYSTORE), Source::Default),
    };
    let json = match (given.json, profile.json) {
        (true, _) => (true, Source::Flag),
        (false, Some(json)) => (json, Source::Profile),
        (false, None) => (false, Source::Default),
    };
    Ok(Settings { profile: name, file: path, url, keystore, json })
}

/// Runs `tfeco config ...`.
pub(crate) fn run(args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let path = config_path();
    let json = args.json;
    match args.command {
        ConfigCommand::Set { key, value } => set(path, args.profile.as_deref(), key, Some(&value), json),
        ConfigCommand::Unset { key } => set(path, args.profile.as_deref(), key, None, json),
        ConfigCommand::Get { key } => get(path.as_deref(), args.profile.as_deref(), key, json),
        ConfigCommand::Show => show(args.profile.as_deref(), json),
        ConfigCommand::List => list(path.as_deref(), args.profile.as_deref(), json),
        ConfigCommand::Use { name } => use_profile(path, &name, json),
        ConfigCommand::Path => {
            let path = path.context(no_dir_message())?;
            print_out(json, &serde_json::json!({ "path": path }), &path.display().to_string())
        }
    }
}

/// Why there is no configuration file.
fn no_dir_message() -> String {
    format!("no configuration directory on this system: set {CONFIG_DIR_ENV}")
}

/// Prints `value` as JSON with `--json`, else `human` (when not empty).
fn print_out(json: bool, value: &serde_json::Value, human: &str) -> anyhow::Result<ExitCode> {
    if json {
        println!("{value}");
    } else if !human.is_empty() {
        println!("{human}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `value` checked and normalised for `key` (`None`: unset).
fn apply(profile: &mut Profile, key: Key, value: Option<&str>) -> anyhow::Result<()> {
    match (key, value) {
        (Key::Url, Some(url)) => {
            check_url(url)?;
            profile.url = Some(url.trim_end_matches('/').to_owned());
        }
        (Key::Keystore, Some(keystore)) => {
            if keystore.is_empty() {
                bail!("the keystore path is empty");
            }
            let absolute = std::path::absolute(keystore).with_context(|| format!("resolving {keystore}"))?;
            profile.keystore = Some(absolute);
        }
        (Key::Json, Some(json)) => {
            profile.json = Some(match json {
                "true" => true,
                "false" => false,
                other => bail!("invalid json setting {other:?}: expected true or false"),
            });
        }
        (Key::Url, None) => profile.url = None,
        (Key::Keystore, None) => profile.keystore = None,
        (Key::Json, None) => profile.json = None,
    }
    Ok(())
}

/// `config set KEY VALUE` (`value: None`: `config unset KEY`) in the named or active profile.
fn set(
    path: Option<PathBuf>,
    named: Option<&str>,
    key: Key,
    value: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let path = path.context(no_dir_message())?;
    let mut file = load(Some(&path))?;
    let name = active_name(&file, named);
    check_profile_name(&name)?;
    let profile = file.profiles.entry(name.clone()).or_default();
    apply(profile, key, value)?;
    let shown = setting_value(profile, key);
    save(&path, &file)?;
    let key_name = key_name(key);
    let human = match &shown {
        Some(v) => format!("profile {name}: {key_name} = {v}"),
        None => format!("profile {name}: {key_name} unset"),
    };
    print_out(json, &serde_json::json!({ "profile": name, "key": key_name, "value": shown }), &human)
}

/// The name of `key` as typed.
fn key_name(key: Key) -> &'static str {
    match key {
        Key::Url => "url",
        Key::Keystore => "keystore",
        Key::Json => "json",
    }
}

/// The value `profile` sets for `key`, as text.
fn setting_value(profile: &Profile, key: Key) -> Option<String> {
    match key {
        Key::Url => profile.url.clone(),
        Key::Keystore => profile.keystore.as_ref().map(|k| k.display().to_string()),
        Key::Json => profile.json.map(|j| j.to_string()),
    }
}

/// `config get KEY`: exits 1 (a message on stderr) when the profile does not set it.
fn get(path: Option<&Path>, named: Option<&str>, key: Key, json: bool) -> anyhow::Result<ExitCode> {
    let file = load(path)?;
    let name = active_name(&file, named);
    let value = profile_of(&file, &name, path)?.and_then(|profile| setting_value(profile, key));
    match value {
        Some(value) => print_out(
            json,
            &serde_json::json!({ "profile": name, "key": key_name(key), "value": value }),
            &value,
        ),
        None => {
            eprintln!("profile {name} does not set {}", key_name(key));
            Ok(ExitCode::from(1))
        }
    }
}

/// `config show`: the settings in effect (environment, profile, default) with their sources.
fn show(named: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let url = std::env::var(URL_ENV).ok().filter(|u| !u.is_empty());
    let keystore = std::env::var_os(KEYSTORE_ENV).filter(|k| !k.is_empty()).map(PathBuf::from);
    let given = Given { url: url.as_deref(), keystore: keystore.as_deref(), json: false, profile: named };
    let settings = resolve(given)?;
    let source = |s: Source| {
        serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    };
    let file = settings.file.as_ref().map_or_else(|| "(none)".to_owned(), |p| p.display().to_string());
    let human = format!(
        "profile  {}\nfile     {file}\nurl      {} ({})\nkeystore {} ({})\njson     {} ({})",
        settings.profile,
        settings.url.0,
        source(settings.url.1),
        settings.keystore.0.display(),
        source(settings.keystore.1),
        settings.json.0,
        source(settings.json.1),
    );
    let value = serde_json::json!({
        "profile": settings.profile,
        "file": settings.file,
        "url": { "value": settings.url.0, "source": settings.url.1 },
        "keystore": { "value": settings.keystore.0, "source": settings.keystore.1 },
        "json": { "value": settings.json.0, "source": settings.json.1 },
    });
    print_out(json, &value, &human)
}

/// `config list`: every profile, the active one marked with `*`.
fn list(path: Option<&Path>, named: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let file = load(path)?;
    let active = active_name(&file, named);
    let mut names: Vec<String> = file.profiles.keys().cloned().collect();
    if !names.contains(&active) {
        names.push(active.clone());
        names.sort();
    }
    let lines: Vec<String> =
        names.iter().map(|n| format!("{} {n}", if *n == active { "*" } else { " " })).collect();
    let value = serde_json::json!({ "active": active, "profiles": file.profiles });
    print_out(json, &value, &lines.join("\n"))
}

/// `config use NAME`: the profile must exist (or be `default`).
fn use_profile(path: Option<PathBuf>, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let path = path.context(no_dir_message())?;
    let mut file = load(Some(&path))?;
    profile_of(&file, name, Some(&path))?;
    file.current_profile = Some(name.to_owned());
    save(&path, &file)?;
    print_out(json, &serde_json::json!({ "active": name }), &format!("active profile: {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls_are_checked() {
        assert!(check_profile_name("staging-2_eu").is_ok());
        for bad in ["", "a b", "x/y", &"p".repeat(65)] {
            assert!(check_profile_name(bad).is_err(), "{bad:?}");
        }
        for good in ["http://127.0.0.1:8080", "https://node.example", "http://n:1/"] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in ["127.0.0.1:8080", "ftp://x", "http://", "http:///x", "http://a b"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_file_round_trips_and_refuses_unknown_keys() {
        let mut file = ConfigFile { current_profile: Some("eu".to_owned()), ..ConfigFile::default() };
        let profile = file.profiles.entry("eu".to_owned()).or_default();
        apply(profile, Key::Url, Some("http://n:1/")).unwrap();
        apply(profile, Key::Json, Some("true")).unwrap();
        assert!(apply(profile, Key::Json, Some("yes")).is_err());
        assert_eq!(profile.url.as_deref(), Some("http://n:1"));
        let text = toml::to_string(&file).unwrap();
        assert_eq!(toml::from_str::<ConfigFile>(&text).unwrap(), file);
        assert!(toml::from_str::<ConfigFile>("[profiles.a]\nurl = \"http://x\"\ncolour = 1\n").is_err());
        assert_eq!(active_name(&file, None), "eu");
        assert_eq!(active_name(&file, Some("other")), "other");
        assert!(profile_of(&file, "other", None).is_err());
        assert!(profile_of(&file, DEFAULT_PROFILE, None).unwrap().is_none());
    }
}
