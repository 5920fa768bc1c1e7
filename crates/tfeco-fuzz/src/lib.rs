//! The bodies of the fuzz targets of `fuzz/` (`cargo fuzz`, nightly): one plain function per decoder of
//! outside input, taking the fuzzer's bytes and asserting what must hold beyond "no panic": round trips
//! where an encoder exists (parse(display(x)) == x), an accepted input re-encodes stably, checksums and
//! hashes catch a changed byte, and a state built from accepted input keeps every invariant.
//!
//! The functions live here, on the stable toolchain, so that `cargo test -p tfeco-fuzz` replays every
//! committed corpus file and every fixed crash (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`)
//! through exactly the code the fuzzers run, without nightly or libFuzzer in the main workspace. The seed
//! corpora come from the real encoders ([`seeds::seeds`], written by
//! `cargo run -p tfeco-fuzz --example write-corpus`). `docs/testing.md` ("Fuzzing") says how to run them.
//!
//! A target returns a [`Verdict`] (the tests check that every seed is accepted, so seeds reach the deep
//! checks); a violated property panics, which libFuzzer reports as a crash.

pub mod books;
pub mod journal;
pub mod money;
pub mod query;
pub mod request;
pub mod seeds;
pub mod snapshot;
pub mod wallet;

/// What a target made of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The decoder accepted the input (and every property of an accepted input held).
    Accepted,
    /// The decoder refused the input with its typed error (and refusing did not panic).
    Refused,
}

impl Verdict {
    /// [`Verdict::Accepted`] when `accepted`, else [`Verdict::Refused`].
    pub fn from_bool(accepted: bool) -> Verdict {
        if accepted {
            Verdict::Accepted
        } else {
            Verdict::Refused
        }
    }
}

/// One fuzz target: its name (the file `fuzz/fuzz_targets/<name>.rs` and the corpus directory
/// `fuzz/corpus/<name>/`) and its body.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// The body: decodes `data` and asserts the target's properties (panics on a violation).
    pub run: fn(&[u8]) -> Verdict,
}

/// Every fuzz target, in the order `fuzz/run.sh` runs them.
pub const TARGETS: &[Target] = &[
    Target { name: "amounts", run: money::amounts },
    Target { name: "signed_request", run: request::signed_request },
    Target { name: "request_body", run: request::request_body },
    Target { name: "journal_record", run: journal::journal_record },
    Target { name: "journal_stream", run: journal::journal_stream },
    Target { name: "genesis", run: journal::genesis },
    Target { name: "snapshot_state", run: snapshot::snapshot_state },
    Target { name: "snapshot_file", run: snapshot::snapshot_file },
    Target { name: "anchor_file", run: snapshot::anchor_file },
    Target { name: "order_book_csv", run: books::order_book_csv },
    Target { name: "bid_book_csv", run: books::bid_book_csv },
    Target { name: "keystore", run: wallet::keystore },
    Target { name: "mnemonic", run: wallet::mnemonic },
    Target { name: "query_strings", run: query::query_strings },
];

/// The target called `name`, if there is one.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|target| target.name == name)
}

/// The input as UTF-8 text, or `None` (text decoders take `&str`: their callers refuse other bytes first).
pub(crate) fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
