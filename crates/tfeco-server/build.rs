//! Rebuilds the crate when a file of the embedded web app changes (`api::web` embeds `web/` at compile
//! time; `include_dir!` alone does not tell Cargo about added or removed files).

fn main() {
    for path in ["web/index.html", "web/js", "web/css", "web/img", "web/vendor"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
