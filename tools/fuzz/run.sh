#!/usr/bin/env bash
# Builds the libFuzzer targets of BNN's file parsers with AddressSanitizer and runs each for a bounded
# time with bounded memory, starting from the committed seed corpora (new inputs go to a scratch copy).
#
#   tools/fuzz/run.sh              # every target, 20 s each
#   tools/fuzz/run.sh 300 npy      # one target for 5 minutes
#
# Bounds: a single allocation above MALLOC_LIMIT_MB (default 256 MiB) or a resident size above
# RSS_LIMIT_MB (default 2048 MiB) counts as a failure, as does any crash, trap or sanitizer report;
# inputs are at most MAX_LEN bytes (default 65536). Failing inputs are kept in $WORK/artifacts.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SECONDS_EACH="${1:-20}"
shift || true
TARGETS=("${@:-safetensors npy yaml bnnpack}")
TARGETS=(${TARGETS[*]})
WORK="${FUZZ_WORK:-${TMPDIR:-/tmp}/bnn-fuzz}"
MALLOC_LIMIT_MB="${MALLOC_LIMIT_MB:-256}"
RSS_LIMIT_MB="${RSS_LIMIT_MB:-2048}"
MAX_LEN="${MAX_LEN:-65536}"

nice -n 10 swift build -c release --package-path "$HERE" --build-path "$WORK/build" \
    -Xswiftc -sanitize=fuzzer,address $(printf -- '--product fuzz-%s ' "${TARGETS[0]}") >/dev/null
for target in "${TARGETS[@]:1}"; do
    nice -n 10 swift build -c release --package-path "$HERE" --build-path "$WORK/build" \
        -Xswiftc -sanitize=fuzzer,address --product "fuzz-$target" >/dev/null
done
BIN="$(swift build -c release --package-path "$HERE" --build-path "$WORK/build" --show-bin-path)"

status=0
for target in "${TARGETS[@]}"; do
    corpus="$WORK/corpus/$target"
    mkdir -p "$corpus" "$WORK/artifacts"
    cp "$HERE/corpus/$target/"* "$corpus/"
    echo "fuzz-$target: ${SECONDS_EACH} s, malloc limit ${MALLOC_LIMIT_MB} MiB, rss limit ${RSS_LIMIT_MB} MiB"
    if ! "$BIN/fuzz-$target" "$corpus" -max_total_time="$SECONDS_EACH" -malloc_limit_mb="$MALLOC_LIMIT_MB" \
            -rss_limit_mb="$RSS_LIMIT_MB" -max_len="$MAX_LEN" -artifact_prefix="$WORK/artifacts/$target-" \
            -print_final_stats=1 >"$WORK/$target.log" 2>&1; then
        echo "fuzz-$target FAILED (log: $WORK/$target.log)"; tail -30 "$WORK/$target.log"; status=1
    else
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$WORK/$target.log" | sed "s/^/  /"
    fi
done
exit $status
