//! Writes the seed corpora of every fuzz target ([`tfeco_fuzz::seeds::seeds`]) to
//! `fuzz/corpus/<target>/`, replacing the seeds it wrote before (files it did not write are kept):
//! `cargo run -p tfeco-fuzz --example write-corpus`. Some seeds carry fresh randomness (keystore salts), so
//! the files change on each run; commit them only when a seed's shape changed.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for target in tfeco_fuzz::TARGETS {
        let dir = corpus.join(target.name);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in tfeco_fuzz::seeds::seeds(target.name) {
            std::fs::write(dir.join(format!("seed-{name}")), &bytes)?;
        }
        println!("{}: {} seeds", target.name, tfeco_fuzz::seeds::seeds(target.name).len());
    }
    Ok(())
}
