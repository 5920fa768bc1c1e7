//! Every command line of `README.md`'s ```` ```sh ```` blocks, run in order against real nodes on loopback
//! in a temp dir, so that a README step can never break silently (issue 10 item 15). `docs/*.md` have no
//! runnable blocks.
//!
//! How a line runs:
//! - a node that keeps serving (`tfeco serve ...`, `tfeco demo`, and `cargo run --release -p tfeco -- demo`,
//!   which is the built binary's `tfeco demo`) starts in the background on a free port (`--listen`
//!   added); the demo is ready once it prints "serving on". `TFECO_NODE` then points at it;
//! - a line whose comment says "stop the node first" first stops the running node (SIGINT);
//! - every other line runs in `bash -eo pipefail` with `tfeco` on `PATH` (the built binary), in the temp
//!   dir; consecutive lines share one shell, so `ALICE=$(...)` and `export` carry on to the next lines;
//! - comment lines right under a command (no blank line between) are its output: each must appear in the
//!   command's stdout, `T` and `T+N` (times relative to the node's time) matching anything.
//!
//! Substitutions (the only differences from what a reader types): `localhost:8080` and `127.0.0.1:8080`
//! become the test node's address; `<your key>` becomes the wallet's account (`tfeco wallet show --json`).
//! `TFECO_PASSWORD` is set for the first walkthrough (the README says the password comes from a prompt or
//! `TFECO_PASSWORD`; a test has no terminal).
//! `TFECO_CONFIG_DIR` is a folder of the temp dir, so the README's `tfeco config` lines never read or change
//! the profiles of the user running the tests.
//!
//! Lines that do not run, with the reason: [`SKIPPED`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::Duration;

use crate::support::BIN;

/// README lines that are not run, and why (matched by prefix).
const SKIPPED: &[(&str, &str)] =
    &[("cargo test --workspace", "it is the test suite this test belongs to: running it here would recurse")];

/// The password the test's wallets use (strong enough for the keystore's strength check).
const PASSWORD: &str = "umber-kestrel-quarry-1987";

/// Polls while waiting for a node (each `POLL` apart): at most ten minutes for a demo month in a debug build.
const READY_POLLS: u32 = 6_000;
const POLL: Duration = Duration::from_millis(100);

/// One line of a ```sh block: its number in the file, the command, and the output lines shown under it.
#[derive(Debug)]
struct Line {
    number: usize,
    command: String,
    output: Vec<String>,
}

/// The command lines of every ```sh block of `text`, in order.
fn sh_lines(text: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut in_block = false;
    let mut after_command = false;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with("```") {
            in_block = !in_block && trimmed == "```sh";
            after_command = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if trimmed.is_empty() {
            after_command = false;
        } else if let Some(comment) = trimmed.strip_prefix('#') {
            match lines.last_mut() {
                Some(line) if after_command => line.output.push(comment.trim().to_owned()),
                _ => {}
            }
        } else {
            lines.push(Line { number: index + 1, command: trimmed.to_owned(), output: Vec::new() });
            after_command = true;
        }
    }
    lines
}

/// The command without its trailing comment (`cmd   # why`).
fn code_of(command: &str) -> &str {
    command.split("  #").next().unwrap_or(command).trim()
}

/// `true` when `actual` matches `expected`, where `T` and `T+N` words of `expected` match any word.
fn matches_line(expected: &str, actual: &str) -> bool {
    let wild = |word: &str| {
        let word = word.trim_matches(|c: char| "();,:".contains(c));
        word == "T" || word.strip_prefix("T+").is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
    };
    let expected: Vec<&str> = expected.split_whitespace().collect();
    let actual: Vec<&str> = actual.split_whitespace().collect();
    expected.len() == actual.len()
        && expected.iter().zip(&actual).all(|(e, a)| e == a || (wild(e) && edges_match(e, a)))
}

/// A wildcard word still keeps its punctuation: `(T+8;` matches `(1200;` but not `1200`.
fn edges_match(expected: &str, actual: &str) -> bool {
    let lead = |s: &str| s.chars().take_while(|c| "(".contains(*c)).count();
    let tail = |s: &str| s.chars().rev().take_while(|c| ");,:".contains(*c)).collect::<String>();
    lead(expected) == lead(actual) && tail(expected) == tail(actual)
}

/// A free loopback port (bound, then released for the child).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A node in the background.
struct Node {
    child: Child,
    log: PathBuf,
    url: String,
}

impl Node {
    /// Starts `args` (a `tfeco serve|demo` line) with `--listen` on a free port; waits until it serves (the
    /// demo: until it printed "serving on", after its month).
    fn start(work: &Path, args: &[String], number: usize) -> Node {
        let port = free_port();
        let log = work.join(format!("node-{number}.log"));
        let stderr = std::fs::File::create(&log).expect("log file");
        let child = StdCommand::new(BIN)
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .current_dir(work)
            .env("TFECO_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn the node");
        let mut node = Node { child, log, url: format!("http://127.0.0.1:{port}") };
        let demo = args.first().is_some_and(|a| a == "demo");
        for _ in 0..READY_POLLS {
            let text = std::fs::read_to_string(&node.log).unwrap_or_default();
            let ready = if demo { text.contains("serving on") } else { text.contains("serving on http") };
            if ready {
                return node;
            }
            if let Some(status) = node.child.try_wait().expect("try_wait") {
                panic!("README line {number}: the node exited with {status}:\n{text}");
            }
            std::thread::sleep(POLL);
        }
        let _ = node.child.kill();
        panic!(
            "README line {number}: the node never served:\n{}",
            std::fs::read_to_string(&node.log).unwrap_or_default()
        );
    }

    /// SIGINT (the node's graceful stop), then the exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = StdCommand::new("kill").args(["-INT", &pid]).status().expect("kill -INT");
        assert!(sent.success());
        for _ in 0..READY_POLLS {
            if self.child.try_wait().expect("try_wait").is_some() {
                return;
            }
            std::thread::sleep(POLL);
        }
        panic!("the node did not stop after SIGINT");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `tfeco` arguments of a line that starts a serving node, or `None`.
fn node_args(code: &str) -> Option<Vec<String>> {
    let words: Vec<String> = code.split_whitespace().map(str::to_owned).collect();
    let args = match words.iter().position(|w| w == "--") {
        Some(dash) if words.first().is_some_and(|w| w == "cargo") => words[dash + 1..].to_vec(),
        _ if words.first().is_some_and(|w| w == "tfeco") => words[1..].to_vec(),
        _ => return None,
    };
    let serving = match args.first().map(String::as_str) {
        Some("serve") => true,
        Some("demo") => !args.iter().any(|a| a == "--no-serve"),
        _ => false,
    };
    serving.then_some(args)
}

/// The session: the temp dir, `PATH` with the binary, the running node, and the shell script so far.
struct Session {
    work: PathBuf,
    path: String,
    node: Option<Node>,
    pending: Vec<Line>,
    run: usize,
}

impl Session {
    fn url(&self) -> String {
        self.node.as_ref().map_or_else(|| "http://127.0.0.1:9".to_owned(), |n| n.url.clone())
    }

    /// The line as it runs here (substitutions of the module doc).
    fn substitute(&self, code: &str) -> String {
        let host = self.url().trim_start_matches("http://").to_owned();
        code.replace("localhost:8080", &host)
            .replace("127.0.0.1:8080", &host)
            .replace("<your key>", "$(tfeco wallet show --json | jq -r .account)")
    }

    /// Runs the pending lines in one shell; each must exit 0 and print the output shown under it.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.run += 1;
        let dir = self.work.join(format!("run-{}", self.run));
        std::fs::create_dir_all(&dir).expect("run dir");
        let mut script = String::from("set -eo pipefail\n");
        for (i, line) in self.pending.iter().enumerate() {
            let code = self.substitute(code_of(&line.command));
            script.push_str(&format!("echo {i} > '{}/current'\n", dir.display()));
            script.push_str(&format!("{{ {code}\n}} > '{0}/{i}.out' 2> '{0}/{i}.err'\n", dir.display()));
        }
        script.push_str(&format!("echo done > '{}/current'\n", dir.display()));
        let status = StdCommand::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&self.work)
            .env("PATH", &self.path)
            .env("TFECO_NODE", self.url())
            .env("TFECO_PASSWORD", PASSWORD)
            .env_remove("TFECO_KEYSTORE")
            .env_remove("TFECO_PROFILE")
            .env("TFECO_CONFIG_DIR", self.work.join("config"))
            .env("TFECO_LOG", "warn")
            .stdin(Stdio::null())
            .status()
            .expect("run bash");
        let read = |name: String| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        let current = read("current".to_owned());
        for (i, line) in self.pending.iter().enumerate() {
            let (out, err) = (read(format!("{i}.out")), read(format!("{i}.err")));
            let shown =
                format!("README line {}: {}\nstdout:\n{out}\nstderr:\n{err}", line.number, line.command);
            if current.trim() == i.to_string() {
                panic!("failed ({status}): {shown}");
            }
            for expected in &line.output {
                assert!(
                    out.lines().any(|actual| matches_line(expected, actual)),
                    "no line {expected:?} in {shown}"
                );
            }
        }
        assert!(
            status.success() && current.trim() == "done",
            "the shell failed ({status}) after the last line"
        );
        self.pending.clear();
    }

    /// Runs one README line (or queues it for the shell).
    fn line(&mut self, line: Line) {
        let code = code_of(&line.command).to_owned();
        if let Some((_, why)) = SKIPPED.iter().find(|(prefix, _)| code.starts_with(prefix)) {
            eprintln!("README line {}: not run: {why}", line.number);
            return;
        }
        if let Some(args) = node_args(&code) {
            self.flush();
            if let Some(node) = self.node.take() {
                node.stop();
            }
            self.node = Some(Node::start(&self.work, &args, line.number));
            return;
        }
        if line.command.contains("stop the node first") {
            self.flush();
            if let Some(node) = self.node.take() {
                node.stop();
            }
        }
        self.pending.push(line);
    }
}

#[test]
fn every_readme_command_runs() {
    for tool in ["bash", "curl", "jq"] {
        let found = StdCommand::new(tool).arg("--version").stdout(Stdio::null()).status();
        assert!(found.is_ok(), "the README's walkthrough uses {tool}: install it to run this test");
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README");
    let lines = sh_lines(&readme);
    assert!(lines.len() > 30, "the README's ```sh blocks: {lines:?}");
    let temp = tempfile::tempdir().expect("temp dir");
    let work = temp.path().to_path_buf();
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::os::unix::fs::symlink(BIN, bin.join("tfeco")).expect("symlink tfeco");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut session = Session { work, path, node: None, pending: Vec::new(), run: 0 };
    for line in lines {
        session.line(line);
    }
    session.flush();
    if let Some(node) = session.node.take() {
        node.stop();
    }
}

#[test]
fn the_extractor_reads_commands_and_their_output() {
    let text = "x\n```sh\ncmd one   # note\n# out 1\n\n# prose\ncmd two\n```\n```json\nnot run\n```\n";
    let lines = sh_lines(text);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!((lines[0].number, code_of(&lines[0].command)), (3, "cmd one"));
    assert_eq!(lines[0].output, ["out 1"]);
    assert!(lines[1].output.is_empty());
    assert!(matches_line(
        "batch 1 clears at T+10 (lock window from T+8;",
        "batch 1 clears at 1210 (lock window from 1208;"
    ));
    assert!(!matches_line("batch 1 clears at T+10", "batch 2 clears at 1210"));
    assert_eq!(node_args("cargo run --release -p tfeco -- demo"), Some(vec!["demo".to_owned()]));
    assert_eq!(node_args("tfeco demo --no-serve"), None);
    assert!(node_args("tfeco serve --data-dir d --clock manual").is_some());
    assert_eq!(node_args("tfeco wallet new"), None);
}
