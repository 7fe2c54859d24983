# SPDX-License-Identifier: BSD-3-Clause
"""The command line: --version, --check-config, bad usage, start-up failures (a missing port,
no hugepages) that must exit 1 with a clear message and leave nothing behind, --log-format json
and the --console shell.

 ns P-a (client)                       sallyport                       ns P-b (server)
 a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
                                         [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64
"""

import json
import os
import pty
import re
import select
import subprocess
import time

import pytest

from conftest import (ENV, HUGE_DIR, SALLYPORT, gateway_conf, line_of, run, start_gateway,
                      stop_gateway, version)


def conf_file(topo, tmp_path, name="cli", **kw):
    sock = str(tmp_path / "console.sock")
    text = gateway_conf(topo, name, sock, f"{topo.prefix}{name}", **kw)
    path = tmp_path / "gateway.conf"
    path.write_text(text)
    return path, text


def test_version(binaries):
    p = run([str(SALLYPORT), "--version"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert version() in p.stdout + p.stderr


@pytest.mark.parametrize("argv", [[], ["--frobnicate"], ["-c"], ["--log-format", "xml", "-c",
                                                                  "/nonexistent.conf"]])
def test_bad_usage(binaries, argv):
    p = run([str(SALLYPORT)] + argv)
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.strip(), "no message"


def test_check_config_good(topo, tmp_path):
    path, _ = conf_file(topo, tmp_path)
    p = run([str(SALLYPORT), "--check-config", str(path)])
    assert p.returncode == 0, p.stdout + p.stderr


ADDR_HINT = 'use address/prefix-length such as "10.1.0.1/24" or "fd00:1::1/64"'
# (replace this, with that, the setting named in the error, a needle on the error's line, reason)
BAD = [
    ('"10.1.0.1/24"', '"10.1.0.300/24"', "ports.[0].addresses.[0]", "10.1.0.300/24",
     f'invalid address "10.1.0.300/24": {ADDR_HINT}'),
    ('"fd02::1/64"', '"fd02::1/129"', "ports.[1].addresses.[1]", "fd02::1/129",
     f'invalid address "fd02::1/129": {ADDR_HINT}'),
    ('"10.2.0.1/24"', '"10.2.0.0/24"', "ports.[1].addresses.[0]", "10.2.0.0/24",
     '"10.2.0.0/24" is the network address of 10.2.0.0/24'),
    ("mtu = 1500;", "mtu = 20;", "ports.[0].mtu", "mtu = 20;", "20 is out of range 68..9000"),
    ('idle = "adaptive";', 'idle = "sometimes";', "workers.idle", "sometimes",
     'unknown idle mode "sometimes": use "poll" or "adaptive"'),
    # The second port's name line: the second "inside".
    ('name = "outside";', 'name = "inside";', "ports.[1].name", None,
     '"inside" is already the name of ports.[0]'),
    ("burst = 32;", "burst = 0;", "workers.burst", "burst = 0;", "0 is out of range 1..64"),
    ("mbufs = 8191;", 'mbufs = "many";', "mempool.mbufs", '"many"', "must be an integer"),
    ('format = "text";', 'format = "xml";', "log.format", '"xml"',
     'unknown format "xml": use "text" or "json"'),
    ("lcores = [1];", "lcores = [0];", "workers.lcores.[0]", "lcores = [0];",
     "lcore 0 is the main lcore (the control core)"),
]


@pytest.mark.parametrize("old,new,setting,needle,reason", BAD, ids=[b[2] for b in BAD])
def test_check_config_bad(topo, tmp_path, old, new, setting, needle, reason):
    _, good = conf_file(topo, tmp_path)
    text = good.replace(old, new, 1)
    assert text != good
    path = tmp_path / "bad.conf"
    path.write_text(text)
    if needle is None:
        line = [i for i, ln in enumerate(text.splitlines(), 1) if 'name = "inside";' in ln][1]
    else:
        line = line_of(text, needle)
    p = run([str(SALLYPORT), "--check-config", str(path)])
    assert p.returncode == 2, p.stdout + p.stderr
    want = f"{path}:{line}: {setting}: {reason}"
    assert want in p.stderr.splitlines(), f"expected the line\n{want}\nin:\n{p.stderr}"


def test_check_config_route_via_unreachable(topo, tmp_path):
    path, _ = conf_file(topo, tmp_path, routes=[{"prefix": "10.9.0.0/24", "via": "10.77.0.1"}])
    text = path.read_text()
    p = run([str(SALLYPORT), "--check-config", str(path)])
    assert p.returncode == 2, p.stdout + p.stderr
    line = line_of(text, "10.77.0.1")
    want = f'{path}:{line}: routes.[0].via: "10.77.0.1" is on no connected subnet'
    assert want in p.stderr.splitlines(), p.stderr


def test_check_config_syntax_error(topo, tmp_path):
    _, good = conf_file(topo, tmp_path)
    path = tmp_path / "syntax.conf"
    path.write_text(good.replace("main_lcore = 0;", "main_lcore == 0;", 1))
    p = run([str(SALLYPORT), "--check-config", str(path)])
    assert p.returncode == 2, p.stdout + p.stderr
    assert re.search("^" + re.escape(str(path)) + r":\d+: ", p.stderr, re.M), p.stderr


def test_check_config_unknown_setting(topo, tmp_path):
    """A misspelt setting is an error, not silently ignored."""
    path, _ = conf_file(topo, tmp_path, extra="lgo = { level = \"debug\"; };\n")
    text = path.read_text()
    p = run([str(SALLYPORT), "--check-config", str(path)])
    assert p.returncode == 2, p.stdout + p.stderr
    want = f'{path}:{line_of(text, "lgo =")}: lgo: unknown setting'
    assert any(ln.startswith(want) for ln in p.stderr.splitlines()), p.stderr


def test_check_config_missing_file(binaries, tmp_path):
    path = tmp_path / "nonexistent.conf"
    p = run([str(SALLYPORT), "--check-config", str(path)])
    assert p.returncode == 2, p.stdout + p.stderr
    assert str(path) in p.stderr, p.stderr


def test_bad_config_at_start_touches_nothing(topo, tmp_path):
    """-c with an invalid file: exit 2 before the EAL (no hugepage files, no tap)."""
    _, good = conf_file(topo, tmp_path)
    path = tmp_path / "bad.conf"
    path.write_text(good.replace('"10.1.0.1/24"', '"10.1.0.300/24"', 1))
    p = run([str(SALLYPORT), "-c", str(path)], timeout=30)
    assert p.returncode == 2, p.stdout + p.stderr
    assert f"{path}:{line_of(path.read_text(), '10.1.0.300')}: ports.[0].addresses.[0]: " in \
        p.stderr, p.stderr
    assert not os.path.exists(f"/sys/class/net/{topo.tap}")
    assert not os.path.exists(tmp_path / "console.sock")


def _nothing_left(topo, tmp_path, prefix):
    left = []
    if HUGE_DIR.is_dir():
        left += [str(p) for p in HUGE_DIR.glob(f"{prefix}map_*")]
    if os.path.exists(f"/sys/class/net/{topo.tap}"):
        left.append(topo.tap)
    if run(["ip", "-n", topo.ns_gw, "link", "show", topo.tap]).returncode == 0:
        left.append(f"{topo.tap} in {topo.ns_gw}")
    if os.path.exists(tmp_path / "console.sock"):
        left.append("console socket")
    return left


def test_missing_port_device(topo, tmp_path):
    path, _ = conf_file(topo, tmp_path, name="noport",
                        outside_device="net_af_packet1,iface=spnoexist0,qpairs=1")
    p = run([str(SALLYPORT), "-c", str(path)], timeout=60)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert "spnoexist0" in out or "net_af_packet1" in out, out
    assert "outside" in out, "the message should name the port:\n" + out
    left = _nothing_left(topo, tmp_path, f"{topo.prefix}noport")
    for f in HUGE_DIR.glob(f"{topo.prefix}noport*map_*") if HUGE_DIR.is_dir() else []:
        f.unlink()
    assert not left, left


def test_not_enough_hugepages(topo, tmp_path):
    """Ask the EAL (command-line override after --) for far more memory than exists."""
    path, _ = conf_file(topo, tmp_path, name="nohuge")
    p = run([str(SALLYPORT), "-c", str(path), "--", "-m", "200000"], timeout=60)
    out = p.stdout + p.stderr
    left = _nothing_left(topo, tmp_path, f"{topo.prefix}nohuge")
    for f in HUGE_DIR.glob(f"{topo.prefix}nohuge*map_*") if HUGE_DIR.is_dir() else []:
        f.unlink()
    assert p.returncode == 1, out
    assert "memory" in out.lower() or "hugepage" in out.lower(), out
    assert not left, left


def test_log_format_json(topo, tmp_path):
    gw = start_gateway(topo, tmp_path, "json", cli_args=["--log-format", "json"])
    try:
        gw.spctl_ok("show", "version")
    finally:
        stop_gateway(gw)
    lines = [ln for ln in gw.log_text().splitlines() if ln.strip()]
    assert lines, "no log at all"
    bad = []
    types = set()
    for ln in lines:
        try:
            rec = json.loads(ln)
            assert {"ts", "level", "type", "msg"} <= set(rec)
            types.add(rec["type"])
        except (ValueError, AssertionError):
            bad.append(ln)
    assert not bad, "log lines that are not JSON records:\n" + "\n".join(bad[:20])
    assert any(t.startswith("sp.") for t in types), types


def test_console_on_stdin(topo, tmp_path):
    """--console: the command shell on the daemon's terminal; "quit" stops it with status 0."""
    path, _ = conf_file(topo, tmp_path, name="tty")
    master, slave = pty.openpty()
    log = open(tmp_path / "tty.log", "w")
    proc = subprocess.Popen([str(SALLYPORT), "-c", str(path), "--console"], stdin=slave,
                            stdout=slave, stderr=log, env=ENV, start_new_session=True)
    os.close(slave)
    seen = b""

    def read_until(needle, timeout):
        nonlocal seen
        end = time.monotonic() + timeout
        while needle not in seen and time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        return needle in seen

    try:
        assert read_until(b">", 40), seen.decode(errors="replace")
        os.write(master, b"show version\r")
        assert read_until(version().encode(), 10), seen.decode(errors="replace")
        os.write(master, b"quit\r")
        rc = proc.wait(timeout=30)
        assert rc == 0, seen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        log.close()
        for f in HUGE_DIR.glob(f"{topo.prefix}tty*map_*") if HUGE_DIR.is_dir() else []:
            f.unlink()
