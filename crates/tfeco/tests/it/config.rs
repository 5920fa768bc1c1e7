//! `tfeco config` profiles and `tfeco completions` through the real binary, each test with its own
//! configuration directory (`TFECO_CONFIG_DIR`): settings are stored per profile, the active profile is
//! chosen by `config use`, `--profile` or `TFECO_PROFILE`, and each setting resolves as flag > environment >
//! profile > default (checked against a real node: a profile's URL reaches it, an unreachable URL from a
//! higher source wins and exits 4). Completion scripts name the subcommands, and bash parses its script.

use std::path::Path;

use serde_json::Value;

use crate::support::{run_cli, CliRun, ServeProcess};

/// `tfeco args...` with the configuration directory `config` and extra `envs`.
async fn tfeco(config: &Path, args: &[&str], envs: &[(&str, &str)]) -> CliRun {
    let config = config.to_str().expect("utf-8 temp path");
    let mut all = vec![("TFECO_CONFIG_DIR", config)];
    all.extend_from_slice(envs);
    run_cli(args, &all).await
}

/// An address nothing listens on.
const DEAD_URL: &str = "http://127.0.0.1:9";

/// `(value, source)` of `setting` in a `config show --json` answer.
fn shown(show: &Value, setting: &str) -> (String, String) {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    (text(&show[setting]["value"]), text(&show[setting]["source"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_are_stored_chosen_and_resolved_flag_env_profile_default() {
    let temp = tempfile::tempdir().expect("temp dir");
    let config = temp.path().join("config");
    let show = |envs: &'static [(&'static str, &'static str)], profile: Option<&'static str>| {
        let config = config.clone();
        async move {
            let mut args = vec!["config", "show", "--json"];
            args.extend(profile.iter().flat_map(|p| ["--profile", *p]));
            tfeco(&config, &args, envs).await.success_json("config show")
        }
    };

    // Nothing configured: the defaults.
    let defaults = show(&[], None).await;
    assert_eq!(defaults["profile"], "default");
    assert_eq!(shown(&defaults, "url"), ("http://127.0.0.1:8080".to_owned(), "default".to_owned()));
    assert_eq!(shown(&defaults, "keystore"), ("tfeco-wallet.json".to_owned(), "default".to_owned()));

    // Set in profiles (the keystore stored absolute), read back, listed.
    let set = |args: &'static [&'static str]| {
        let config = config.clone();
        async move { tfeco(&config, args, &[]).await.success_json("config set") }
    };
    set(&["config", "set", "url", "http://127.0.0.1:7001", "--json"]).await;
    set(&["config", "set", "url", "http://127.0.0.1:7002/", "--profile", "eu", "--json"]).await;
    let stored = set(&["config", "set", "keystore", "alice.json", "--profile", "eu", "--json"]).await;
    let keystore = stored["value"].as_str().expect("the stored path").to_owned();
    assert!(Path::new(&keystore).is_absolute() && keystore.ends_with("alice.json"), "{stored}");
    set(&["config", "set", "json", "true", "--profile", "eu", "--json"]).await;
    let got = tfeco(&config, &["config", "get", "url", "--profile", "eu"], &[]).await;
    assert_eq!((got.code, got.stdout.trim()), (Some(0), "http://127.0.0.1:7002"), "{}", got.stderr);
    let unset = tfeco(&config, &["config", "get", "keystore"], &[]).await;
    assert_eq!(unset.code, Some(1), "the default profile sets no keystore: {}", unset.stdout);
    let list = tfeco(&config, &["config", "list", "--json"], &[]).await.success_json("config list");
    assert_eq!(list["active"], "default");
    assert_eq!(list["profiles"].as_object().map(|p| p.len()), Some(2), "{list}");

    // Profile over default; `config use` and `--profile` choose; the environment beats the profile.
    assert_eq!(
        shown(&show(&[], None).await, "url"),
        ("http://127.0.0.1:7001".to_owned(), "profile".to_owned())
    );
    let eu = show(&[], Some("eu")).await;
    assert_eq!(shown(&eu, "url"), ("http://127.0.0.1:7002".to_owned(), "profile".to_owned()));
    assert_eq!(shown(&eu, "keystore"), (keystore.clone(), "profile".to_owned()));
    assert_eq!(shown(&eu, "json"), ("true".to_owned(), "profile".to_owned()));
    let env = show(&[("TFECO_NODE", "http://10.0.0.1:1"), ("TFECO_PROFILE", "eu")], None).await;
    assert_eq!(
        (env["profile"].as_str(), shown(&env, "url")),
        (Some("eu"), ("http://10.0.0.1:1".to_owned(), "env".to_owned()))
    );
    tfeco(&config, &["config", "use", "eu", "--json"], &[]).await.success_json("config use");
    assert_eq!(show(&[], None).await["profile"], "eu");
    assert_eq!(show(&[], Some("default")).await["profile"], "default");

    // Bad input changes nothing.
    let before = std::fs::read_to_string(config.join("config.toml")).expect("the file exists");
    for bad in [
        &["config", "set", "url", "localhost:8080"][..],
        &["config", "set", "json", "yes"],
        &["config", "set", "url", "http://x", "--profile", "no/such"],
        &["config", "use", "staging"],
        &["config", "set", "colour", "red"],
    ] {
        let run = tfeco(&config, bad, &[]).await;
        assert_ne!(run.code, Some(0), "{bad:?} must be refused: {}", run.stdout);
    }
    let unknown = tfeco(&config, &["status", "--profile", "staging"], &[]).await;
    assert_eq!(unknown.code, Some(1), "an unknown profile is an error: {}", unknown.stdout);
    assert!(unknown.stderr.contains("no profile \"staging\""), "{}", unknown.stderr);
    assert_eq!(std::fs::read_to_string(config.join("config.toml")).expect("file"), before);
    std::fs::write(config.join("config.toml"), "profiles = 3\n").expect("write");
    let broken = tfeco(&config, &["status"], &[]).await;
    assert!(broken.code == Some(1) && broken.stderr.contains("config.toml"), "{}", broken.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profiles_url_reaches_the_node_and_flags_and_environment_win() {
    let temp = tempfile::tempdir().expect("temp dir");
    let config = temp.path().join("config");
    let node = ServeProcess::start(&temp.path().join("node"), temp.path(), "config").await;
    let url = node.api.base.clone();
    let status = |args: &'static [&'static str], envs: Vec<(&'static str, String)>| {
        let config = config.clone();
        async move {
            let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut all = vec!["status", "--json"];
            all.extend_from_slice(args);
            tfeco(&config, &all, &envs).await
        }
    };

    tfeco(&config, &["config", "set", "url", url.as_str(), "--profile", "local", "--json"], &[])
        .await
        .success_json("set");
    tfeco(&config, &["config", "set", "url", DEAD_URL, "--json"], &[]).await.success_json("set");

    let local = status(&["--profile", "local"], vec![]).await.success_json("status --profile local");
    assert!(local["state_hash"].is_string(), "{local}");
    let by_env = status(&[], vec![("TFECO_PROFILE", "local".to_owned())]).await;
    by_env.success_json("status with TFECO_PROFILE=local");
    assert_eq!(status(&[], vec![]).await.code, Some(4), "the default profile names a dead URL");
    let env_wins = status(&["--profile", "local"], vec![("TFECO_NODE", DEAD_URL.to_owned())]).await;
    assert_eq!(env_wins.code, Some(4), "TFECO_NODE beats the profile");
    let flag = ["status", "--json", "--url", url.as_str()];
    let flag_wins = tfeco(&config, &flag, &[("TFECO_NODE", DEAD_URL)]).await;
    flag_wins.success_json("--url beats TFECO_NODE and the profile");
    tfeco(&config, &["config", "use", "local", "--json"], &[]).await.success_json("config use local");
    status(&[], vec![]).await.success_json("status with the active profile");
    let status = node.stop().await;
    assert!(status.success(), "the node did not stop cleanly: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_name_every_group_and_bash_loads_its_script() {
    let temp = tempfile::tempdir().expect("temp dir");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = tfeco(temp.path(), &["completions", shell], &[]).await;
        assert_eq!(run.code, Some(0), "completions {shell}: {}", run.stderr);
        for word in ["wallet", "config", "completions", "exit-pool", "--profile"] {
            assert!(run.stdout.contains(word), "the {shell} script does not name {word}");
        }
        if shell == "bash" {
            let script = temp.path().join("tfeco.bash");
            std::fs::write(&script, &run.stdout).expect("write the script");
            let check = format!("source '{}' && complete -p tfeco", script.display());
            let output = std::process::Command::new("bash").args(["-c", &check]).output().expect("bash runs");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && text.contains("tfeco"),
                "bash cannot load the script: {output:?}"
            );
        }
    }
    let refused = tfeco(temp.path(), &["completions", "tcsh"], &[]).await;
    assert_eq!(refused.code, Some(2), "an unknown shell is a usage error");
}
