#!/usr/bin/env bash
# Bounded local fuzzing of every target, one after the other, one libFuzzer process at a time.
# Not run in CI: findings are fixed and kept as ordinary regression tests in the crates.
#
#   fuzz/run.sh                         # 60 s per target
#   FUZZ_SECONDS=300 fuzz/run.sh        # longer
#   FUZZ_TARGETS=image_check fuzz/run.sh
#
# Works on a stable toolchain: cargo-fuzz passes nightly-only flags (-Z, sanitizer coverage), so
# on stable we set RUSTC_BOOTSTRAP=1 and build without a sanitizer (`-s none`). Rust code is
# memory-safe, so what we look for is panics, aborts, timeouts and memory blow-ups, which need no
# sanitizer. Debug assertions (`-a`) are on so integer overflow panics too.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and a C++ compiler (libFuzzer).
# The growing corpus and logs go to fuzz/.work/ (ignored); committed seeds are in fuzz/corpus/;
# crash inputs land in fuzz/artifacts/<target>/.
set -uo pipefail

cd "$(dirname "$0")"

seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"collection_code payment_notification image_check"}
rss_limit_mb=${FUZZ_RSS_LIMIT_MB:-2048}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

# Longest input per target: tokens and headers are short; photos are capped at 64 KiB by the
# target's own DecodeLimits. Per-input timeout in seconds.
max_len() {
    case $1 in
        collection_code) echo 4096 ;;
        payment_notification) echo 8192 ;;
        image_check) echo 65536 ;;
        *) echo 4096 ;;
    esac
}
timeout_secs() {
    case $1 in
        image_check) echo 10 ;;
        *) echo 5 ;;
    esac
}

flags=(--sanitizer none --debug-assertions)
for t in $targets; do
    if ! cargo fuzz build "${flags[@]}" "$t"; then
        echo "build of $t failed" >&2
        exit 2
    fi
done

mkdir -p .work/logs
failed=0
summary=()
for t in $targets; do
    mkdir -p ".work/corpus/$t" "corpus/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    log=".work/logs/$t.log"
    echo "== $t: ${seconds}s"
    # New units go to .work/corpus/$t (first directory); corpus/$t only seeds.
    cargo fuzz run "${flags[@]}" "$t" ".work/corpus/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb="$rss_limit_mb" \
        -timeout="$(timeout_secs "$t")" -print_final_stats=1 >"$log" 2>&1
    status=$?
    after=$(find "artifacts/$t" -type f | wc -l)
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -o '[0-9]*$' | tail -1)
    rss=$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "$log" | grep -o '[0-9]*$' | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*$')
    ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*$')
    corp=$(find ".work/corpus/$t" -type f | wc -l)
    new=$((after - before))
    line="$t: ${seconds}s, ${execs:-?} execs (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp}, peak RSS ${rss:-?} MB, new findings ${new}, exit ${status}"
    summary+=("$line")
    echo "$line"
    if [ "$status" -ne 0 ] || [ "$new" -ne 0 ]; then
        failed=1
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -20
    fi
done

echo
echo "== summary (logs in fuzz/.work/logs/)"
printf '%s\n' "${summary[@]}"
exit "$failed"
