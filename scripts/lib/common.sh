# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; it defines functions and SP_ROOT only.

SP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

sp_say() { printf '%s\n' "$*"; }
sp_warn() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
sp_die() { sp_warn "$*"; exit 1; }

sp_need_root() {
    [[ $(id -u) -eq 0 ]] || sp_die "must run as root (network namespaces, hugepages, DPDK ports)"
}

# Debian's interpreter, never a pyenv/venv shim: pytest and scapy come from python3-* packages.
export SP_PYTHON=/usr/bin/python3

# sp_build DIR [meson setup options...]: configure DIR once (reused when already configured,
# reconfigured when the options changed is left to the caller), then build it.
sp_build() {
    local dir=$1
    shift
    if [[ ! -f "$SP_ROOT/$dir/build.ninja" ]]; then
        rm -rf "${SP_ROOT:?}/$dir"
        meson setup "$SP_ROOT/$dir" "$SP_ROOT" "$@" || return 1
    fi
    ninja -C "$SP_ROOT/$dir" -j"$(nproc)" || return 1
}

# sp_wait_socket PATH PID TIMEOUT_S: wait until the UNIX socket PATH exists while PID lives.
sp_wait_socket() {
    local path=$1 pid=$2 timeout=$3 i
    for ((i = 0; i < timeout * 10; i++)); do
        [[ -S $path ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# sp_stop_pid PID [TIMEOUT_S]: SIGTERM, wait, SIGKILL as a last resort. Returns the exit status
# when PID is our child (wait), else 0.
sp_stop_pid() {
    local pid=$1 timeout=${2:-10} i rc=0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; return $rc; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        sp_warn "pid $pid ignored SIGTERM for ${timeout}s, killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    return $rc
}
