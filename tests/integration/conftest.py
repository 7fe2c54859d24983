# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures for the sallyport integration tests: real traffic through a real gateway.

 ns P-a (client)                       sallyport                       ns P-b (server)
 a0 10.1.0.2/24 fd01::2/64 --- veth P-a1 [port inside  10.1.0.1/24 fd01::1/64]
                                         [port outside 10.2.0.1/24 fd02::1/64] veth P-b1 --- b0 10.2.0.2/24 fd02::2/64
 default via 10.1.0.1 / fd01::1                                          default via 10.2.0.1 / fd02::1
                      exception tap P-x -> ns P-gw (the gateway's kernel side: 10.1.0.1, 10.2.0.1, ...)

P is "spt<pid % 1000>", unique to the run. The gateway runs in the root namespace on
net_af_packet ports over the veths (lcores 0-1, one adaptive worker on lcore 1, in memory, its own
file prefix); each test module starts its own gateway and checks at teardown that SIGTERM stops
it with status 0 and nothing left behind.

Environment: SP_BUILD_DIR (default build/) holds app/sallyport/sallyport and app/spctl/spctl.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SP_BUILD_DIR", "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
SALLYPORT = BUILD / "app" / "sallyport" / "sallyport"
SPCTL = BUILD / "app" / "spctl" / "spctl"
NETNS_SH = ROOT / "scripts" / "netns-demo.sh"
PYTHON = "/usr/bin/python3"
STATE_DIR = Path("/run/sallyport-it")
HUGE_DIR = Path("/dev/hugepages")
ENV = dict(os.environ, LC_ALL="C", LANG="C")
# For sanitizer builds of the daemon: third-party leaks are suppressed (see lsan.supp); the
# slow unwinder gives LeakSanitizer whole stacks through libraries built without frame pointers
# so that the suppressions can match.
ENV["LSAN_OPTIONS"] = ":".join(filter(None, [
    os.environ.get("LSAN_OPTIONS", ""),
    f"suppressions={Path(__file__).with_name('lsan.supp')}", "print_suppressions=0"]))
if "fast_unwind_on_malloc" not in os.environ.get("ASAN_OPTIONS", ""):
    ENV["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""),
                                                 "fast_unwind_on_malloc=0"]))


def version():
    """The project version from meson.build (what --version and "show version" report)."""
    m = re.search(r"version:\s*'([^']+)'", (ROOT / "meson.build").read_text())
    return m.group(1)


def run(argv, timeout=30, check=False, input=None):
    """Run a command, capture text output; never hangs longer than timeout."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                           env=ENV)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        raise AssertionError(f"timed out after {timeout}s: {' '.join(map(str, argv))}\n{out}")
    if check and p.returncode != 0:
        raise AssertionError(f"failed ({p.returncode}): {' '.join(map(str, argv))}\n"
                             f"{p.stdout}{p.stderr}")
    return p


def wait_for(pred, timeout, interval=0.1):
    """Poll pred() until it returns something true; return that, or None after timeout."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


def line_of(text, needle):
    """1-based line number of the first line of text containing needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise KeyError(needle)


def stats_names():
    """Every drop reason and counter name of lib/stats/sp_stats.h (the one schema)."""
    src = (ROOT / "lib" / "stats" / "sp_stats.h").read_text()
    drops = src.split("#define SP_DROP_REASONS")[1].split("#define SP_COUNTERS")[0]
    ctrs = src.split("#define SP_COUNTERS")[1].split("enum sp_drop")[0]
    pat = re.compile(r'X\(\s*\w+\s*,\s*"([^"]+)"')
    return pat.findall(drops), pat.findall(ctrs)


class Bg:
    """A background process (usually inside a namespace), killed with its group on close()."""

    def __init__(self, argv, log_path=None):
        self.argv = argv
        self.log_path = log_path
        out = open(log_path, "w") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=ENV,
                                     start_new_session=True)
        if log_path:
            out.close()

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def output(self):
        return Path(self.log_path).read_text(errors="replace") if self.log_path else ""

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Topo:
    """The namespaces and veths of one test run (see the module docstring)."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.ns_a = f"{prefix}-a"
        self.ns_b = f"{prefix}-b"
        self.ns_gw = f"{prefix}-gw"
        self.if_a = f"{prefix}-a1"     # root-side veth ends, opened by the gateway
        self.if_b = f"{prefix}-b1"
        self.tap = f"{prefix}-x"       # exception port, kernel side (moved into ns_gw)

    def up(self):
        run(["bash", str(NETNS_SH), "up", self.prefix], timeout=60, check=True)

    def down(self):
        run(["bash", str(NETNS_SH), "down", self.prefix], timeout=60)

    def mac(self, ifname):
        return Path(f"/sys/class/net/{ifname}/address").read_text().strip()

    def sh(self, ns, argv, timeout=30, check=False, input=None):
        """Run argv inside namespace ns."""
        return run(["ip", "netns", "exec", ns] + list(argv), timeout=timeout, check=check,
                   input=input)

    def bg(self, ns, argv, log_path=None):
        return Bg(["ip", "netns", "exec", ns] + list(argv), log_path)

    def ping(self, ns, dst, count=3, interval=0.2, wait=2, ttl=None, size=None, extra=(),
             timeout=None):
        argv = ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", str(wait)]
        if ":" in dst:
            argv.insert(1, "-6")
        if ttl is not None:
            argv += ["-t", str(ttl)]
        if size is not None:
            argv += ["-s", str(size)]
        argv += list(extra) + [dst]
        if timeout is None:
            timeout = count * (interval + wait) + 10
        return self.sh(ns, argv, timeout=timeout)

    def ping_until(self, ns, dst, timeout=10):
        """Ping once a second until one answer comes (neighbour resolution, start-up)."""
        return wait_for(lambda: self.ping(ns, dst, count=1, wait=1).returncode == 0, timeout,
                        interval=0.2)

    def listening(self, ns, port, proto="t"):
        out = self.sh(ns, ["ss", "-Hln" + proto, f"sport = :{port}"]).stdout
        return out.strip() != ""

    def addrs(self, ns, dev=None):
        argv = ["ip", "-o", "addr", "show"] + (["dev", dev] if dev else [])
        return self.sh(ns, argv).stdout

    def ns_exists(self, ns):
        return ns in run(["ip", "netns", "list"]).stdout.split()


def gateway_conf(topo, name, sock, file_prefix, *, inside_vlans=(), routes=(),
                 exception=True, log_level="info", driver="af_packet", inside_device=None,
                 outside_device=None, extra=""):
    """The gateway's configuration file text for the test topology.

    inside_vlans: ({"id": 100, "addresses": [...]},...); routes: ({"prefix":..., "via":...},...)
    driver: "af_packet" or "af_xdp", the PMD that opens the root-side veth ends.
    """
    devargs = {"af_packet": ",qpairs=1", "af_xdp": ""}[driver]
    inside_device = inside_device or f"net_{driver}0,iface={topo.if_a}{devargs}"
    outside_device = outside_device or f"net_{driver}1,iface={topo.if_b}{devargs}"

    def strlist(xs):
        return "[" + ", ".join(f'"{x}"' for x in xs) + "]"

    vlans = ""
    if inside_vlans:
        items = [f'{{ id = {v["id"]}; addresses = {strlist(v["addresses"])}; }}'
                 for v in inside_vlans]
        vlans = "\n    vlans = (\n      " + ",\n      ".join(items) + "\n    );"
    route_items = []
    for r in routes:
        fields = [f'prefix = "{r["prefix"]}";']
        if "via" in r:
            fields.append(f'via = "{r["via"]}";')
        if "interface" in r:
            fields.append(f'interface = "{r["interface"]}";')
        if r.get("blackhole"):
            fields.append("blackhole = true;")
        route_items.append("{ " + " ".join(fields) + " }")
    routes_txt = ",\n  ".join(route_items)
    return f"""# sallyport integration test gateway "{name}" (generated by tests/integration/conftest.py)
name = "{name}";
eal = {{
  lcores = "0-1";
  main_lcore = 0;
  file_prefix = "{file_prefix}";
  in_memory = true;
  no_pci = true;
  no_telemetry = true;
}};
workers = {{
  lcores = [1];
  idle = "adaptive";
  idle_max_us = 200;
  burst = 32;
}};
mempool = {{
  mbufs = 8191;
  cache = 256;
  data_room = 2176;
}};
ports = (
  {{
    name = "inside";
    device = "{inside_device}";
    mtu = 1500;
    addresses = ["10.1.0.1/24", "fd01::1/64"];{vlans}
  }},
  {{
    name = "outside";
    device = "{outside_device}";
    mtu = 1500;
    addresses = ["10.2.0.1/24", "fd02::1/64"];
  }}
);
exception = {{
  enabled = {"true" if exception else "false"};
  iface = "{topo.tap}";
  netns = "{topo.ns_gw}";
}};
routes = (
  {routes_txt}
);
icmp = {{
  errors_per_sec = 1000;
  burst = 50;
}};
log = {{
  format = "text";
  level = "{log_level}";
}};
console = {{
  socket = "{sock}";
}};
{extra}"""


class Gateway:
    """One sallyport process on the test topology."""

    def __init__(self, topo, workdir, name, cli_args=(), **conf_kw):
        self.topo = topo
        self.cli_args = list(cli_args)
        self.dir = Path(workdir)
        self.name = name
        self.sock = str(self.dir / "console.sock")
        self.file_prefix = f"{topo.prefix}{name}"
        self.conf_path = self.dir / "gateway.conf"
        self.log_path = self.dir / "gateway.log"
        self.conf_kw = conf_kw
        self.conf_text = gateway_conf(topo, name, self.sock, self.file_prefix, **conf_kw)
        self.conf_path.write_text(self.conf_text)
        self.proc = None
        self.rc = None

    def write_conf(self, text):
        self.conf_path.write_text(text)

    def start(self, timeout=40):
        self.log = open(self.log_path, "w")
        argv = [str(SALLYPORT), "-c", str(self.conf_path)] + (
            self.cli_args or ["--log-format", "text"])
        self.proc = subprocess.Popen(argv,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=ENV)
        up = wait_for(lambda: self.proc.poll() is not None or os.path.exists(self.sock),
                      timeout)
        if self.proc.poll() is not None:
            raise AssertionError(f"sallyport exited with {self.proc.returncode} at start-up:\n"
                                 + self.log_tail())
        if not up:
            raise AssertionError(f"no console socket after {timeout}s:\n" + self.log_tail())
        # Console answers: start-up is complete.
        ok = wait_for(lambda: self.spctl("show", "version")[0] == 0, 10)
        if not ok:
            raise AssertionError("console socket does not answer:\n" + self.log_tail())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=60):
        return "\n".join(self.log_text().splitlines()[-n:])

    def spctl(self, *args, json_out=False, timeout=15):
        """Run one console command. Returns (exit status, stdout + stderr)."""
        argv = [str(SPCTL), "-s", self.sock] + (["--json"] if json_out else []) + list(args)
        p = run(argv, timeout=timeout)
        return p.returncode, p.stdout + p.stderr

    def spctl_ok(self, *args, timeout=15):
        rc, out = self.spctl(*args, timeout=timeout)
        assert rc == 0, f"spctl {' '.join(args)} -> {rc}:\n{out}"
        return out

    def json(self, *args, timeout=15):
        argv = [str(SPCTL), "-s", self.sock, "--json"] + list(args)
        p = run(argv, timeout=timeout)
        assert p.returncode == 0, f"spctl --json {' '.join(args)} -> {p.returncode}:\n" \
            f"{p.stdout}{p.stderr}"
        try:
            return json.loads(p.stdout)
        except ValueError as e:
            raise AssertionError(f"spctl --json {' '.join(args)}: invalid JSON ({e}):\n"
                                 f"{p.stdout}")

    def stats(self):
        return self.json("show", "stats")

    def drop(self, reason):
        return int(self.stats()["drops"][reason])

    def ctr(self, name):
        return int(self.stats()["counters"][name])

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                self.rc = None
                self.log.close()
                return None
        self.rc = self.proc.returncode
        self.log.close()
        return self.rc

    def leftovers(self):
        """What a stopped gateway must not leave: hugepage files, its tap, its socket."""
        left = []
        if HUGE_DIR.is_dir():
            left += [str(p) for p in HUGE_DIR.glob(f"{self.file_prefix}map_*")]
        if Path(f"/sys/class/net/{self.topo.tap}").exists():
            left.append(f"interface {self.topo.tap} in the root namespace")
        if self.topo.ns_exists(self.topo.ns_gw):
            if run(["ip", "-n", self.topo.ns_gw, "link", "show", self.topo.tap]).returncode == 0:
                left.append(f"interface {self.topo.tap} in {self.topo.ns_gw}")
        return left

    def cleanup_files(self):
        if HUGE_DIR.is_dir():
            for p in HUGE_DIR.glob(f"{self.file_prefix}map_*"):
                p.unlink(missing_ok=True)
        shutil.rmtree(f"/var/run/dpdk/{self.file_prefix}", ignore_errors=True)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _remove_stale_runs():
    """Remove the topology of earlier runs whose pytest process is gone (interrupted runs)."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    for marker in STATE_DIR.glob("spt*.pid"):
        try:
            pid = int(marker.read_text().strip() or 0)
        except ValueError:
            pid = 0
        if pid and _pid_alive(pid):
            continue
        prefix = marker.name[:-4]
        # A gateway of that run may still hold the veths.
        gws = marker.with_suffix(".gateways")
        for gw_pid in gws.read_text().split() if gws.exists() else []:
            try:
                if Path(f"/proc/{gw_pid}/comm").read_text().strip() == "sallyport":
                    os.kill(int(gw_pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        Topo(prefix).down()
        if HUGE_DIR.is_dir():
            for p in HUGE_DIR.glob(f"{prefix}*map_*"):
                p.unlink(missing_ok=True)
        marker.with_suffix(".gateways").unlink(missing_ok=True)
        marker.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def binaries():
    missing = [str(p) for p in (SALLYPORT, SPCTL) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)} (build with meson/ninja first, or set "
                    f"SP_BUILD_DIR)", pytrace=False)
    if os.geteuid() != 0:
        pytest.fail("integration tests need root (namespaces, DPDK ports)", pytrace=False)
    return SALLYPORT, SPCTL


@pytest.fixture(scope="session")
def topo(binaries):
    _remove_stale_runs()
    prefix = f"spt{os.getpid() % 1000:03d}"
    marker = STATE_DIR / f"{prefix}.pid"
    marker.write_text(str(os.getpid()))
    t = Topo(prefix)
    try:
        t.up()
        yield t
    finally:
        t.down()
        marker.with_suffix(".gateways").unlink(missing_ok=True)
        marker.unlink(missing_ok=True)


def _record_gateway_pid(topo, pid):
    with open(STATE_DIR / f"{topo.prefix}.gateways", "a") as f:
        f.write(f"{pid}\n")


def start_gateway(topo, workdir, name, **conf_kw):
    """Start a gateway and warm the neighbour tables up (non-fatal)."""
    gw = Gateway(topo, workdir, name, **conf_kw)
    try:
        gw.start()
    except BaseException:
        gw.stop()
        gw.cleanup_files()
        raise
    _record_gateway_pid(topo, gw.proc.pid)
    topo.ping_until(topo.ns_a, "10.1.0.1", timeout=5)
    topo.ping_until(topo.ns_b, "10.2.0.1", timeout=5)
    return gw


def stop_gateway(gw):
    """Stop a gateway; assert the clean-shutdown contract."""
    rc = gw.stop()
    log = gw.log_text()
    tail = gw.log_tail()
    print(f"--- gateway {gw.name} log tail ({gw.log_path}) ---\n{tail}")
    left = gw.leftovers()
    gw.cleanup_files()
    assert rc == 0, f"gateway {gw.name} did not exit with 0 on SIGTERM (status {rc})"
    leaks = [ln for ln in log.splitlines() if "leak" in ln.lower()]
    assert not leaks, f"gateway {gw.name} reported leaks:\n" + "\n".join(leaks)
    assert not left, f"gateway {gw.name} left behind: {left}"


@pytest.fixture(scope="module")
def gateway(request, topo, tmp_path_factory):
    """A gateway for the test module. A module may set GATEWAY_OPTS = {...} (gateway_conf
    keyword arguments)."""
    opts = getattr(request.module, "GATEWAY_OPTS", {})
    name = request.module.__name__.split(".")[-1].replace("test_", "")[:8]
    workdir = tmp_path_factory.mktemp(f"gw-{name}")
    gw = start_gateway(topo, workdir, name, **opts)
    yield gw
    stop_gateway(gw)


@pytest.fixture
def gw_alive(gateway):
    """The module's gateway, checked to be running before and after the test."""
    assert gateway.alive(), "gateway died earlier:\n" + gateway.log_tail()
    yield gateway
    assert gateway.alive(), "gateway died during the test:\n" + gateway.log_tail()
