# SPDX-License-Identifier: BSD-3-Clause
"""Configuration reload (console and SIGHUP): all-or-nothing, and no loss while it happens.

 ns P-a (client)                       sallyport                       ns P-b (server)
 a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
                                         [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64
                                                                          lo 10.9.0.1/32 (route tests)
A ping every 10 ms from P-a to P-b runs across every reload and must lose nothing.
"""

import re
import signal
import time

import pytest

from conftest import gateway_conf, line_of, wait_for

PINGS = 300  # at 10 ms: 3 s of traffic around each reload


class Pinger:
    def __init__(self, topo, log):
        self.bg = topo.bg(topo.ns_a, ["ping", "-n", "-i", "0.01", "-c", str(PINGS), "-W", "1",
                                      "10.2.0.2"], log_path=str(log))
        time.sleep(0.5)  # traffic is flowing before the reload starts

    def finish(self):
        try:
            # generous: on a loaded 2-core machine ping itself may be scheduled late
            self.bg.wait(timeout=PINGS * 0.01 + 60)
        finally:
            self.bg.close()
        out = self.bg.output()
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        assert m, out[-2000:]
        sent, recv = int(m.group(1)), int(m.group(2))
        assert sent == PINGS and recv == PINGS, f"lost {sent - recv} of {sent} pings:\n" + \
            "\n".join(out.splitlines()[-5:])


@pytest.fixture
def conf(gw_alive):
    """The gateway's file, restored to the original text after the test."""
    yield gw_alive
    gw_alive.write_conf(gw_alive.conf_text)


@pytest.fixture
def extra_lo(topo):
    topo.sh(topo.ns_b, ["ip", "addr", "add", "10.9.0.1/32", "dev", "lo"], check=True)
    yield
    topo.sh(topo.ns_b, ["ip", "addr", "del", "10.9.0.1/32", "dev", "lo"])


def bad_address_conf(gw):
    """The running config with one invalid address; returns (text, expected message prefix)."""
    text = gw.conf_text.replace('"10.1.0.1/24"', '"10.1.0.300/24"', 1)
    line = line_of(text, "10.1.0.300/24")
    return text, f"{gw.conf_path}:{line}: ports.[0].addresses.[0]: "


def assert_still_old(gw, topo):
    cfg = gw.spctl_ok("show", "config")
    assert "10.1.0.1/24" in cfg and "10.1.0.300" not in cfg, cfg
    assert topo.ping(topo.ns_a, "10.1.0.1", count=1).returncode == 0


def test_bad_reload_console(conf, topo, tmp_path):
    text, msg = bad_address_conf(conf)
    pinger = Pinger(topo, tmp_path / "ping.log")
    conf.write_conf(text)
    rc, out = conf.spctl("config", "reload")
    pinger.finish()
    assert rc == 1, out
    assert msg in out, f"expected {msg!r} in:\n{out}"
    assert_still_old(conf, topo)


def test_bad_reload_sighup(conf, topo, tmp_path):
    text, msg = bad_address_conf(conf)
    pinger = Pinger(topo, tmp_path / "ping.log")
    conf.write_conf(text)
    seen = conf.log_text().count(msg)
    conf.signal(signal.SIGHUP)
    logged = wait_for(lambda: conf.log_text().count(msg) > seen, 5)
    pinger.finish()
    assert logged, f"expected {msg!r} in the log:\n" + conf.log_tail(20)
    assert conf.alive()
    assert_still_old(conf, topo)


def test_syntax_error_reload(conf, topo):
    text = conf.conf_text.replace('name = "inside";', 'name == "inside";', 1)
    conf.write_conf(text)
    rc, out = conf.spctl("config", "reload")
    assert rc == 1, out
    # libconfig reports the line where it noticed the error: the next setting's line.
    assert re.search(re.escape(str(conf.conf_path)) + r":\d+: ", out), out
    assert_still_old(conf, topo)


def test_missing_file_reload(conf, topo):
    conf.conf_path.unlink()
    rc, out = conf.spctl("config", "reload")
    assert rc == 1, out
    assert str(conf.conf_path) in out, out
    assert_still_old(conf, topo)


def test_good_reload_adds_and_removes_route(conf, topo, extra_lo, tmp_path):
    assert topo.ping(topo.ns_a, "10.9.0.1", count=1).returncode != 0
    with_route = gateway_conf(topo, conf.name, conf.sock, conf.file_prefix,
                              routes=[{"prefix": "10.9.0.0/24", "via": "10.2.0.2"}],
                              **conf.conf_kw)

    # Add it with the console command.
    pinger = Pinger(topo, tmp_path / "ping1.log")
    conf.write_conf(with_route)
    rc, out = conf.spctl("config", "reload")
    pinger.finish()
    assert rc == 0, out
    assert "10.9.0.0/24" in conf.spctl_ok("show", "routes")
    p = topo.ping(topo.ns_a, "10.9.0.1", count=3)
    assert p.returncode == 0, p.stdout

    # Remove it again with SIGHUP.
    pinger = Pinger(topo, tmp_path / "ping2.log")
    conf.write_conf(conf.conf_text)
    conf.signal(signal.SIGHUP)
    gone = wait_for(lambda: "10.9.0.0/24" not in conf.spctl_ok("show", "routes"), 5)
    pinger.finish()
    assert gone, conf.spctl_ok("show", "routes")
    assert topo.ping(topo.ns_a, "10.9.0.1", count=1).returncode != 0


@pytest.mark.parametrize("old,new,setting", [
    ("mbufs = 8191;", "mbufs = 4095;", "mempool.mbufs"),
    ('file_prefix = "', 'file_prefix = "x', "eal.file_prefix"),
    ("qpairs=1", "qpairs=1,framecnt=1024", "ports.[0].device"),
    ("burst = 32;", "burst = 16;", "workers.burst"),
    ('"10.2.0.1/24", "fd02::1/64"', '"10.2.0.1/24"', "ports.[1].addresses"),
])
def test_restart_only_rejected(conf, topo, tmp_path, old, new, setting):
    text = conf.conf_text.replace(old, new, 1)
    assert text != conf.conf_text
    pinger = Pinger(topo, tmp_path / "ping.log")
    conf.write_conf(text)
    rc, out = conf.spctl("config", "reload")
    pinger.finish()
    assert rc == 1, out
    # No line: the setting may well be on the same line as before.
    assert f"{conf.conf_path}: {setting}: changing it needs a restart" in out, out
    assert_still_old(conf, topo)
