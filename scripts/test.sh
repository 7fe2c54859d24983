#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run every test of sallyport, as root, from any directory:
#
#   sudo scripts/test.sh [STAGE...]
#
# Stages, in order (all by default):
#   deps         scripts/install-deps.sh
#   checkpatch   scripts/checkpatch.sh (forbidden tokens, whitespace)
#   build        gcc, -Werror, in build/
#   unit         meson test (CUnit suites) in build/
#   asan         build with -Db_sanitize=address,undefined in build-asan/ and run the suites there
#   fuzz         clang build in build-fuzz/ and every libFuzzer harness for FUZZ_SECONDS (45) each
#   integration  pytest tests/integration (real traffic through real gateways in namespaces)
#   integration-asan  the same tests against the daemon of build-asan/ (memory errors, UB and
#                leaks under real traffic and shutdown)
# Prints a summary table and a last line "N passed, N failed"; exits 1 when a stage failed.
#
# Environment: SP_BUILD_DIR, SP_ASAN_DIR, SP_FUZZ_DIR (build directories, relative to the
# repository), FUZZ_SECONDS, PYTEST_ARGS (extra pytest arguments, e.g. "-k forwarding").
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$SP_ROOT" || exit 1

build_dir=${SP_BUILD_DIR:-build}
asan_dir=${SP_ASAN_DIR:-build-asan}
fuzz_dir=${SP_FUZZ_DIR:-build-fuzz}
fuzz_secs=${FUZZ_SECONDS:-45}
all_stages=(deps checkpatch build unit asan fuzz integration integration-asan)
stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=("${all_stages[@]}")
for s in "${stages[@]}"; do
    [[ " ${all_stages[*]} " == *" $s "* ]] || sp_die "unknown stage '$s' (${all_stages[*]})"
done

logdir=$(mktemp -d /tmp/sp-test.XXXXXX)
declare -A result duration
order=()

# run_stage NAME CMD...: run with output on the terminal and in $logdir/NAME.log.
run_stage() {
    local name=$1 start rc
    shift
    order+=("$name")
    printf '\n==== %s ====\n' "$name"
    start=$SECONDS
    "$@" 2>&1 | tee "$logdir/$name.log"
    rc=${PIPESTATUS[0]}
    duration[$name]=$((SECONDS - start))
    if [[ $rc -eq 0 ]]; then
        result[$name]=PASS
    else
        result[$name]=FAIL
        printf '==== %s FAILED (status %d) ====\n' "$name" "$rc"
    fi
}

skip_stage() {
    order+=("$1")
    result[$1]="FAIL"
    duration[$1]=0
    printf '\n==== %s: not run (%s) ====\n' "$1" "$2"
}

want() { [[ " ${stages[*]} " == *" $1 "* ]]; }
passed() { [[ ${result[$1]:-} == PASS ]]; }

stage_deps() { "$SP_ROOT/scripts/install-deps.sh"; }
stage_checkpatch() { "$SP_ROOT/scripts/checkpatch.sh"; }
stage_build() { CC=gcc sp_build "$build_dir" --werror; }
stage_unit() {
    meson test -C "$build_dir" --print-errorlogs --num-processes 1 --suite unit
}
stage_asan() {
    # No LTO here: it only slows the build, and the sanitizers want the plain one.
    CC=gcc sp_build "$asan_dir" --werror -Db_sanitize=address,undefined -Db_lto=false || return 1
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        meson test -C "$asan_dir" --print-errorlogs --num-processes 1 --suite unit \
        --timeout-multiplier 3
}
stage_fuzz() {
    local targets
    if [[ ! -f $fuzz_dir/build.ninja ]]; then
        rm -rf "$fuzz_dir"
        CC=clang meson setup "$fuzz_dir" -Db_sanitize=address,undefined -Db_lto=false \
            -Dc_args=-fsanitize=fuzzer-no-link -Db_lundef=false || return 1
    fi
    # Only the harnesses (and what they link): the gcc stages build everything else.
    mapfile -t targets < <(meson introspect --targets "$fuzz_dir" | "$SP_PYTHON" -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["name"].startswith("fuzz_"):
        print(os.path.relpath(t["filename"][0], sys.argv[1]))' "$SP_ROOT/$fuzz_dir")
    if [[ ${#targets[@]} -eq 0 ]]; then
        echo "no fuzz harness configured (meson found no clang with -fsanitize=fuzzer?)"
        return 1
    fi
    ninja -C "$fuzz_dir" -j"$(nproc)" "${targets[@]}" || return 1
    "$SP_ROOT/tests/fuzz/run.sh" "$SP_ROOT/$fuzz_dir" "$fuzz_secs"
}
# run_pytest BUILD_DIR: the integration suite against that build's binaries.
run_pytest() {
    [[ $(id -u) -eq 0 ]] || { echo "integration tests need root"; return 1; }
    "$SP_ROOT/scripts/hugepages.sh" 512 || return 1
    # Bounded: each test has its own timeouts; this catches anything that still hangs.
    # shellcheck disable=SC2086
    SP_BUILD_DIR="$SP_ROOT/$1" timeout --signal=INT --kill-after=30 1500 \
        "$SP_PYTHON" -m pytest -v -p no:cacheprovider --durations=10 \
        ${PYTEST_ARGS:-} "$SP_ROOT/tests/integration"
}
stage_integration() { run_pytest "$build_dir"; }
stage_integration_asan() {
    # The two-minute rekey-under-load test runs in full against the gcc build; the sanitizer
    # build repeats it for 30 s (the checks are the same, the load is ~3x slower there).
    SP_REKEY_SECONDS=${SP_REKEY_SECONDS:-30} \
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        run_pytest "$asan_dir"
}

total_start=$SECONDS
want deps && run_stage deps stage_deps
want checkpatch && run_stage checkpatch stage_checkpatch
want build && run_stage build stage_build
if want unit; then
    if want build && ! passed build; then
        skip_stage unit "build failed"
    else
        run_stage unit stage_unit
    fi
fi
want asan && run_stage asan stage_asan
want fuzz && run_stage fuzz stage_fuzz
if want integration; then
    if want build && ! passed build; then
        skip_stage integration "build failed"
    else
        run_stage integration stage_integration
    fi
fi
if want integration-asan; then
    if [[ ! -x $asan_dir/app/sallyport/sallyport ]]; then
        skip_stage integration-asan "no $asan_dir/app/sallyport/sallyport (asan build failed?)"
    else
        run_stage integration-asan stage_integration_asan
    fi
fi

npass=0
nfail=0
printf '\n==== summary (logs in %s) ====\n' "$logdir"
printf '%-17s %-6s %8s\n' stage result time
for s in "${order[@]}"; do
    printf '%-17s %-6s %7ss\n' "$s" "${result[$s]}" "${duration[$s]}"
    if [[ ${result[$s]} == PASS ]]; then
        npass=$((npass + 1))
    else
        nfail=$((nfail + 1))
    fi
done
printf '%-17s %-6s %7ss\n' total "" "$((SECONDS - total_start))"
echo "$npass passed, $nfail failed"
[[ $nfail -eq 0 ]]
