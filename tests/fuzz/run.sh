#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run every libFuzzer harness of a clang build for a bounded time.
#
#   tests/fuzz/run.sh BUILDDIR [SECONDS_EACH]      (default 60, or $FUZZ_SECONDS)
#
# BUILDDIR is configured with CC=clang -Db_sanitize=address,undefined; harnesses are
# BUILDDIR/tests/fuzz/fuzz_<name>. Seeds come from tests/fuzz/corpus/<name>/ (copied to a
# temporary directory, so the tree is never written). A crash, leak, timeout or sanitizer report
# fails the run; the reproducer is kept in BUILDDIR/fuzz-artifacts/<name>/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: tests/fuzz/run.sh BUILDDIR [SECONDS_EACH]}
secs=${2:-${FUZZ_SECONDS:-60}}
build=$(cd "$build" && pwd)

mapfile -t harnesses < <(find "$build/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' \
    -perm -u+x 2>/dev/null | sort)
if [[ ${#harnesses[@]} -eq 0 ]]; then
    echo "fuzz: no harness in $build/tests/fuzz (is it a clang build?)" >&2
    exit 1
fi

work=$(mktemp -d /tmp/sp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Sanitizer reports end the run with a non-zero status; UBSan is fatal too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=0
for h in "${harnesses[@]}"; do
    name=${h##*/fuzz_}
    corpus="$work/$name"
    mkdir -p "$corpus"
    for seeds in "$here/corpus/$name" "$here/corpus_$name" "$here/${name}_corpus"; do
        if [[ -d $seeds ]]; then
            cp -r "$seeds/." "$corpus/"
        fi
    done
    nseeds=$(find "$corpus" -type f | wc -l)
    artifacts="$build/fuzz-artifacts/$name"
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    log="$work/$name.log"
    echo "fuzz: $name for ${secs}s from $nseeds seeds"
    start=$SECONDS
    rc=0
    # -max_total_time bounds the run; -timeout catches a hang on one input; the outer timeout
    # catches a harness that never returns to libFuzzer's loop.
    timeout --signal=KILL $((secs + 120)) "$h" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
    stats=$(grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$log" |
        sed 's/^stat:://' | tr -s ' ' | tr '\n' ' ' || true)
    if [[ $rc -ne 0 ]]; then
        echo "fuzz: $name FAILED (status $rc after $((SECONDS - start))s); last lines:" >&2
        tail -n 60 "$log" >&2
        ls -l "$artifacts" >&2 || true
        failed=$((failed + 1))
    else
        echo "fuzz: $name ok in $((SECONDS - start))s: $stats"
        rmdir "$artifacts" 2>/dev/null || true
    fi
done
exit $((failed > 0))
