#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a bounded time each, and fails on any crash.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      # default 20 s per target, every target
#
# Installs what it needs when missing: the nightly toolchain (rustup, minimal profile) and cargo-fuzz
# (`cargo install cargo-fuzz --locked`). Builds all targets once, then runs each one on its committed seed
# corpus (fuzz/corpus/<target>/, read only) plus fixed crashes (fuzz/regressions/<target>/), writing what it
# finds to the scratch corpus fuzz/scratch/<target>/ (git-ignored; delete it to start over). Prints one line
# per target (seconds, executions, corpus size, result) and, for a crash, the artifact and the commands that
# reproduce it. Settings (docs/testing.md, "Fuzzing"):
#   TFECO_FUZZ_BUILD_FLAGS  cargo fuzz build/run flags (default: --sanitizer none --debug-assertions)
#   TFECO_FUZZ_JOBS         targets run at once (default 1)
#   TFECO_FUZZ_RSS_MB       libFuzzer's memory limit per target (default 2048)
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-20}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for file in fuzz_targets/*.rs; do targets+=("$(basename "$file" .rs)"); done
fi
read -r -a flags <<<"${TFECO_FUZZ_BUILD_FLAGS:---sanitizer none --debug-assertions}"
jobs="${TFECO_FUZZ_JOBS:-1}"
rss_mb="${TFECO_FUZZ_RSS_MB:-2048}"

# Started from `cargo test` (or CI), the outer build's settings must not leak into this one: its own
# target directory, flags and toolchain.
unset RUSTUP_TOOLCHAIN CARGO_TARGET_DIR RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET CARGO_BUILD_RUSTFLAGS \
    RUSTC RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTDOC CARGO_MAKEFLAGS CARGO_PRIMARY_PACKAGE || true

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: installing the nightly toolchain" >&2
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

build_start=$SECONDS
cargo +nightly fuzz build "${flags[@]}" >&2
echo "fuzz: built ${#targets[@]} targets in $((SECONDS - build_start)) s" >&2

mkdir -p scratch logs
run_target() {
    local target="$1" log="logs/$1.log"
    local corpora=("scratch/$target" "corpus/$target")
    mkdir -p "scratch/$target" "artifacts/$target"
    [ -d "regressions/$target" ] && corpora+=("regressions/$target")
    local status=0
    cargo +nightly fuzz run "${flags[@]}" "$target" "${corpora[@]}" -- \
        -max_total_time="$seconds" -timeout=60 -rss_limit_mb="$rss_mb" -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    local execs corpus
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    corpus=$(find "scratch/$target" -type f | wc -l)
    if [ "$status" -eq 0 ]; then
        printf 'fuzz: %-16s %5s s %10s execs %6s inputs  ok\n' "$target" "$seconds" "${execs:-?}" "$corpus"
        return 0
    fi
    local artifact
    artifact=$(sed -n 's/.*Test unit written to \(\S*\).*/\1/p' "$log" | tail -1)
    printf 'fuzz: %-16s %5s s %10s execs %6s inputs  CRASH (exit %s)\n' "$target" "$seconds" "${execs:-?}" \
        "$corpus" "$status"
    grep -a -m 10 -A 1 -E 'panicked at|SUMMARY|ERROR: libFuzzer' "$log" | cut -c 1-300 | sed 's/^/fuzz:     /' || true
    echo "fuzz:     log: fuzz/$log"
    if [ -n "$artifact" ]; then
        case "$artifact" in
            /*) ;;
            *) artifact="$PWD/${artifact#./}" ;;
        esac
        echo "fuzz:     artifact: $artifact"
        echo "fuzz:     reproduce: (cd fuzz && cargo +nightly fuzz run ${flags[*]} $target $artifact)"
        echo "fuzz:     keep it once fixed: mkdir -p fuzz/regressions/$target && cp $artifact fuzz/regressions/$target/ && cargo test -p tfeco-fuzz --test corpus"
    fi
    return 1
}

failed=0
running=0
for target in "${targets[@]}"; do
    if [ ! -f "fuzz_targets/$target.rs" ]; then
        echo "fuzz: no target $target (fuzz/fuzz_targets/$target.rs)" >&2
        failed=1
        continue
    fi
    run_target "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz: FAILED (see above)" >&2
    exit 1
fi
echo "fuzz: every target ran ${seconds} s without a crash" >&2
