//! The committed third-party bundle of the web app (`web/vendor/vendor.js`, `web/vendor/uplot.css`) is what
//! its lock file builds: `npm ci` and `node build.mjs` run in a temporary copy of `web/`'s build files, and
//! the output must equal the committed files byte for byte. Also runs the key derivation of the browser
//! wallet (`web/js/lib/keys.js`) in Node against the CLI's test vectors (`web/tests/unit-keys.mjs`).
//! Needs Node.js with npm; npm installs the packages of the lock file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn web() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

fn run(program: &str, args: &[&str], cwd: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot start (Node.js with npm is required): {e}"));
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

#[test]
fn the_committed_vendor_bundle_is_what_the_lock_file_builds() {
    let temp = tempfile::tempdir().expect("temp dir");
    for file in ["package.json", "package-lock.json", "build.mjs", "vendor-entry.js"] {
        std::fs::copy(web().join(file), temp.path().join(file))
            .unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
    run("npm", &["ci", "--no-audit", "--no-fund"], temp.path());
    let out = temp.path().join("out");
    run("node", &["build.mjs", out.to_str().expect("utf-8 path")], temp.path());
    for file in ["vendor.js", "uplot.css"] {
        let fresh = std::fs::read(out.join(file)).expect("built file");
        let committed = std::fs::read(web().join("vendor").join(file)).expect("committed file");
        assert!(
            fresh == committed,
            "web/vendor/{file} is not what the lock file builds: run `npm ci && npm run build` in crates/tfeco-server/web and commit it"
        );
    }
}

#[test]
fn browser_key_derivation_matches_the_cli_test_vectors() {
    let output = run("node", &["tests/unit-keys.mjs"], &web());
    assert!(output.contains("all key vectors match"), "{output}");
}
