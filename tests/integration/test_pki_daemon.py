# SPDX-License-Identifier: BSD-3-Clause
"""The daemon's side of the internal CA (docs/pki-daemon.md), on the test topology:

(a) renewal at 2/3 of a 30 s lifetime from the local intermediate (renew.source = "file");
(b) workload certificates through the issuance endpoint (one-time tokens) doing mutual TLS with
    curl against an nginx that trusts the bundle and checks the CRLs; a revoked one refused;
    reused and expired tokens refused;
(c) renewal through the issuing gateway's endpoint (renew.source = "gateway", mTLS);
(d) a root rollover with the daemon running and traffic flowing (0% loss).

Material is made with `spctl ca`; workload CSRs with the openssl CLI (a tool nobody here wrote).
The endpoint's clients verify the gateway's chain against the bundle with Python's ssl module:
gateway certificates carry only a SPIFFE ID, so curl's host name check cannot pass on them.
"""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SPCTL, run, start_gateway, stop_gateway, wait_for

TD = "td.test"
GW_ID = f"spiffe://{TD}/segment/gw"
WL_ID = f"spiffe://{TD}/ns/web/sa/client"

ENDPOINT_CLIENT = r'''
import http.client, ssl, sys
host, port, path, bundle, csr, token, cert, key = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=bundle)
ctx.check_hostname = False          # the gateway's certificate names a SPIFFE ID, no host
ctx.verify_mode = ssl.CERT_REQUIRED
if cert != "-":
    ctx.load_cert_chain(cert, key)
c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
headers = {"Content-Type": "application/pkcs10"}
if token != "-":
    headers["Authorization"] = "Bearer " + token
c.request("POST", path, body=open(csr, "rb").read(), headers=headers)
r = c.getresponse()
print(r.status)
sys.stdout.write(r.read().decode())
'''


RAW_CLIENT = r'''
import socket, ssl, sys
bundle, request = sys.argv[1], sys.argv[2].encode().decode("unicode_escape").encode()
ctx = ssl.create_default_context(cafile=bundle)
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(("10.1.0.1", 8443), timeout=15))
s.sendall(request)
out = b""
while True:
    try:
        d = s.recv(4096)
    except (ssl.SSLError, OSError):
        break
    if not d:
        break
    out += d
print(out.decode(errors="replace").split("\r\n")[0])
'''


def spctl_ca(*args, check=True):
    p = run([str(SPCTL), "ca"] + [str(a) for a in args], timeout=30)
    if check:
        assert p.returncode == 0, f"spctl ca {' '.join(map(str, args))}:\n{p.stdout}{p.stderr}"
    return p


class Pki:
    """A root, an intermediate, a bundle, CRLs and a gateway certificate in one directory."""

    def __init__(self, d, gw_seconds=3600, root_name="root", int_name="int"):
        self.d = Path(d)
        self.d.mkdir(parents=True, exist_ok=True)
        self.root_dir = self.d / root_name
        self.int_dir = self.d / int_name
        spctl_ca("init", "--trust-domain", TD, "--out", self.root_dir)
        spctl_ca("intermediate", "--root-cert", self.root_crt, "--root-key", self.root_key,
                 "--out", self.int_dir)
        self.bundle = self.d / "bundle.pem"
        spctl_ca("bundle", "--out", self.bundle, self.root_crt)
        self.gw_dir = self.d / "gw"
        self.issue_gw(gw_seconds)
        self.root_crl = self.d / "root.crl"
        self.int_crl = self.d / "int.crl"
        self.crls()
        self.policy = self.d / "policy"
        self.policy.write_text(f"trust-domain {TD}\nallow workload ns=web sa=*\n"
                               "default-lifetime 3600\nmax-lifetime 86400\n")
        self.audit = self.d / "endpoint-audit.log"

    @property
    def root_crt(self):
        return self.root_dir / "root.crt"

    @property
    def root_key(self):
        return self.root_dir / "root.key"

    @property
    def int_crt(self):
        return self.int_dir / "intermediate.crt"

    @property
    def int_key(self):
        return self.int_dir / "intermediate.key"

    @property
    def gw_crt(self):
        return self.gw_dir / "gw.crt"

    @property
    def gw_key(self):
        return self.gw_dir / "gw.key"

    def issue_gw(self, seconds, ca_crt=None, ca_key=None):
        spctl_ca("issue", "gateway", "--ca-cert", ca_crt or self.int_crt, "--ca-key",
                 ca_key or self.int_key, "--name", "gw", "--out", self.gw_dir, "--seconds",
                 seconds, "--backdate", "0", "--force")

    def crls(self):
        spctl_ca("crl", "--ca-cert", self.root_crt, "--ca-key", self.root_key, "--out",
                 self.root_crl)
        spctl_ca("crl", "--ca-cert", self.int_crt, "--ca-key", self.int_key, "--out",
                 self.int_crl)

    def pki_conf(self, renew="", crls=True, watch=True):
        crl = f'crls = [ "{self.root_crl}", "{self.int_crl}" ];' if crls else ""
        return f"""pki = {{
  cert = "{self.gw_crt}";
  key = "{self.gw_key}";
  bundle = "{self.bundle}";
  {crl}
  identity = "{GW_ID}";
  watch = {"true" if watch else "false"};
  {renew}
}};
"""

    def issuer_conf(self, max_seconds=86400):
        return f"""issuer = {{
  enabled = true;
  listen = "10.1.0.1:8443";
  ca_cert = "{self.int_crt}";
  ca_key = "{self.int_key}";
  policy = "{self.policy}";
  tokens = "{self.int_dir / 'tokens'}";
  audit = "{self.audit}";
  max_seconds = {max_seconds};
}};
"""

    def token(self, identity=WL_ID, ttl=600):
        p = spctl_ca("token", "--ca-dir", self.int_dir, "--identity", identity, "--ttl", ttl)
        return p.stdout.strip().splitlines()[-1].strip()


def start(topo, workdir, name, extra):
    Path(workdir).mkdir(parents=True, exist_ok=True)
    return start_gateway(topo, workdir, name, extra=extra)


def certs(gw):
    return gw.json("show", "certs")


def gw_cert(gw):
    return next(c for c in certs(gw)["certs"] if c["role"] == "gateway")


def make_csr(d, name):
    key, csr = Path(d) / f"{name}.key", Path(d) / f"{name}.csr"
    p = run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", str(key), "-subj", f"/CN={name}", "-out", str(csr)])
    assert p.returncode == 0, p.stderr
    return key, csr


def sign_raw(topo, d, pki, csr, token="-", cert="-", key="-", path="/v1/sign"):
    script = Path(d) / "endpoint_client.py"
    script.write_text(ENDPOINT_CLIENT)
    return topo.sh(topo.ns_a, ["python3", str(script), "10.1.0.1", "8443", path,
                               str(pki.bundle), str(csr), token, str(cert), str(key)],
                   timeout=30)


def sign(topo, d, pki, csr, token="-", cert="-", key="-", path="/v1/sign"):
    p = sign_raw(topo, d, pki, csr, token, cert, key, path)
    assert p.returncode == 0, f"endpoint client failed:\n{p.stdout}{p.stderr}"
    status, _, body = p.stdout.partition("\n")
    return int(status), body


def openssl_verify(pki, crt, crl_check=False):
    args = ["openssl", "verify", "-CAfile", str(pki.bundle), "-untrusted", str(pki.int_crt)]
    if crl_check:
        crls = Path(pki.d) / "all.crl"
        crls.write_text(pki.root_crl.read_text() + pki.int_crl.read_text())
        args += ["-crl_check_all", "-CRLfile", str(crls)]
    return run(args + [str(crt)])


# ---- (a) renewal from the local intermediate ------------------------------------------------

def test_renewal_file_at_two_thirds(topo, tmp_path):
    pki = Pki(tmp_path, gw_seconds=30)
    issued = time.time()
    renew = (f'renew = {{ source = "file"; ca_cert = "{pki.int_crt}"; '
             f'ca_key = "{pki.int_key}"; retry_s = 2; }};')
    gw = start(topo, tmp_path / "gw-a", "pkia", pki.pki_conf(renew))
    try:
        first = gw_cert(gw)
        assert first["spiffe_id"] == GW_ID
        assert first["state"] == "valid"
        assert 0 < first["days_left"] < 31 / 86400
        roles = [c["role"] for c in certs(gw)["certs"]]
        assert roles == ["gateway", "chain", "bundle-root", "crl", "crl"]

        assert wait_for(lambda: gw_cert(gw)["serial"] != first["serial"], 40, interval=0.25), \
            gw.log_tail()
        changed = time.time() - issued
        # 2/3 of 30 s = 20 s after not-before (the tick is 250 ms; start-up took some of it)
        assert 18 <= changed <= 24, f"renewed after {changed:.1f} s"
        new = gw_cert(gw)
        assert new["spiffe_id"] == GW_ID and new["state"] == "valid"
        c = certs(gw)["counters"]
        assert c["renewals"] >= 1 and c["renewal_failures"] == 0
        # the files were rewritten: the new certificate verifies with a tool nobody here wrote
        v = openssl_verify(pki, pki.gw_crt, crl_check=True)
        assert v.returncode == 0, v.stdout + v.stderr
        assert (pki.gw_key.stat().st_mode & 0o777) == 0o600
        out = gw.spctl_ok("show", "certs")
        assert "renewals " in out and GW_ID in out
        # still forwarding
        assert topo.ping(topo.ns_a, "10.2.0.2", count=3).returncode == 0
    finally:
        stop_gateway(gw)


def test_startup_refusals(topo, tmp_path, binaries):
    """Exit 2 with the reason: expired certificate, wrong identity."""
    sallyport, _ = binaries
    pki = Pki(tmp_path, gw_seconds=3600)
    gwdir = tmp_path / "gw-r"
    gwdir.mkdir()
    from conftest import gateway_conf
    cases = []
    # expired: issued in the past
    spctl_ca("issue", "gateway", "--ca-cert", pki.int_crt, "--ca-key", pki.int_key,
             "--name", "old", "--out", tmp_path / "old", "--seconds", "10", "--not-before",
             "-100", "--backdate", "0")
    cases.append((pki.pki_conf().replace(str(pki.gw_crt), str(tmp_path / "old" / "old.crt"))
                  .replace(str(pki.gw_key), str(tmp_path / "old" / "old.key")),
                  "expired"))
    cases.append((pki.pki_conf().replace(GW_ID, f"spiffe://{TD}/segment/other"),
                  "wrong-identity"))
    for extra, word in cases:
        conf = gwdir / "refuse.conf"
        conf.write_text(gateway_conf(topo, "pkir", str(gwdir / "c.sock"), "pkir", extra=extra))
        p = run([str(sallyport), "-c", str(conf)], timeout=30)
        assert p.returncode == 2, p.stdout + p.stderr
        assert f"pki.cert " in p.stderr and word in p.stderr, p.stderr


# ---- (b) the issuance endpoint and mutual TLS with nginx -----------------------------------

NGINX_CONF = """
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
daemon on;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/tmp;
  proxy_temp_path {d}/tmp;
  fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp;
  scgi_temp_path {d}/tmp;
  server {{
    listen 10.2.0.2:8443 ssl;
    ssl_certificate {d}/server.crt;
    ssl_certificate_key {d}/server.key;
    ssl_client_certificate {bundle};
    ssl_verify_client on;
    ssl_verify_depth 3;
    ssl_crl {d}/crls.pem;
    location / {{ return 200 "hello $ssl_client_s_dn\\n"; }}
  }}
}}
"""


class Nginx:
    def __init__(self, topo, d, pki):
        self.topo, self.d, self.pki = topo, Path(d), pki
        self.d.mkdir(parents=True, exist_ok=True)
        (self.d / "tmp").mkdir(exist_ok=True)
        # nginx's own server certificate: a test-only CA with an IP SAN for curl's host check
        p = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=10.2.0.2",
                 "-addext", "subjectAltName=IP:10.2.0.2", "-keyout", str(self.d / "server.key"),
                 "-out", str(self.d / "server.crt")])
        assert p.returncode == 0, p.stderr
        self.write_crls()
        (self.d / "nginx.conf").write_text(NGINX_CONF.format(d=self.d, bundle=pki.bundle))
        p = topo.sh(topo.ns_b, ["nginx", "-c", str(self.d / "nginx.conf")])
        assert p.returncode == 0, p.stdout + p.stderr
        assert wait_for(lambda: topo.listening(topo.ns_b, 8443), 10)

    def write_crls(self):
        (self.d / "crls.pem").write_text(self.pki.root_crl.read_text() +
                                         self.pki.int_crl.read_text())

    def reload(self):
        self.write_crls()
        p = self.topo.sh(self.topo.ns_b, ["nginx", "-c", str(self.d / "nginx.conf"), "-s",
                                          "reload"])
        assert p.returncode == 0, p.stdout + p.stderr
        time.sleep(1)

    def stop(self):
        self.topo.sh(self.topo.ns_b, ["nginx", "-c", str(self.d / "nginx.conf"), "-s", "stop"])

    def curl(self, cert, key):
        p = self.topo.sh(self.topo.ns_a, [
            "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
            "--cacert", str(self.d / "server.crt"), "--cert", str(cert), "--key", str(key),
            "https://10.2.0.2:8443/"], timeout=20)
        return p.stdout.strip(), p.stderr


def test_endpoint_tokens_and_mtls(topo, tmp_path):
    pki = Pki(tmp_path, gw_seconds=3600)
    extra = pki.pki_conf() + pki.issuer_conf()
    gw = start(topo, tmp_path / "gw-b", "pkib", extra)
    nginx = None
    try:
        assert wait_for(lambda: topo.listening(topo.ns_gw, 8443), 5)
        key, csr = make_csr(tmp_path, "w1")
        tok = pki.token()
        status, body = sign(topo, tmp_path, pki, csr, token=tok)
        assert status == 200, body
        crt = tmp_path / "w1.crt"
        crt.write_text(body)
        info = spctl_ca("show", crt).stdout
        assert WL_ID in info
        v = openssl_verify(pki, crt, crl_check=True)
        assert v.returncode == 0, v.stdout + v.stderr

        # the same token again: refused, nothing issued
        _, csr2 = make_csr(tmp_path, "w2")
        status, body = sign(topo, tmp_path, pki, csr2, token=tok)
        assert status == 401 and "used" in body, body
        # an expired token
        old = pki.token(ttl=1)
        time.sleep(2.5)
        status, body = sign(topo, tmp_path, pki, csr2, token=old)
        assert status == 401 and "expired" in body, body
        # a wrong token, and none at all
        status, body = sign(topo, tmp_path, pki, csr2, token="0" * 64)
        assert status == 401, body
        status, body = sign(topo, tmp_path, pki, csr2)
        assert status == 401, body
        # a token for an identity of another trust domain cannot even be made; a CSR that
        # asks for another identity than the token's is refused
        p = run(["openssl", "req", "-new", "-key", str(key), "-subj", "/CN=x", "-addext",
                 f"subjectAltName=URI:spiffe://{TD}/ns/web/sa/other", "-out",
                 str(tmp_path / "other.csr")])
        assert p.returncode == 0, p.stderr
        status, body = sign(topo, tmp_path, pki, tmp_path / "other.csr", token=pki.token())
        assert status == 403, body
        # bad path, oversized lifetime
        status, body = sign(topo, tmp_path, pki, csr2, token=pki.token(), path="/v1/nope")
        assert status == 404, body
        status, body = sign(topo, tmp_path, pki, csr2, token=pki.token(),
                            path="/v1/sign?lifetime=999999")
        assert status == 400 and "max_seconds" in body, body

        # bounded requests: sizes are refused from the headers, before any body is read
        raw = tmp_path / "raw_client.py"
        raw.write_text(RAW_CLIENT)
        for request, status in [
                ("POST /v1/sign HTTP/1.1\\r\\nContent-Length: 100000\\r\\n\\r\\n", "413"),
                ("POST /v1/sign HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n", "400"),
                ("GET /v1/sign HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n", "405"),
                ("POST /v1/sign HTTP/1.1\\r\\nX: " + "a" * 9000 + "\\r\\n\\r\\n", "431")]:
            p = topo.sh(topo.ns_a, ["python3", str(raw), str(pki.bundle), request])
            assert p.stdout.startswith(f"HTTP/1.1 {status} "), p.stdout + p.stderr

        # mutual TLS with nginx trusting the bundle and checking CRLs
        nginx = Nginx(topo, tmp_path / "nginx", pki)
        code, err = nginx.curl(crt, key)
        assert code == "200", err
        # a certificate nginx does not know the root of: refused
        stranger = Pki(tmp_path / "stranger", gw_seconds=3600)
        spctl_ca("issue", "workload", "--ca-cert", stranger.int_crt, "--ca-key",
                 stranger.int_key, "--ns", "web", "--name", "client", "--out",
                 tmp_path / "stranger-wl")
        code, _ = nginx.curl(tmp_path / "stranger-wl" / "client.crt",
                             tmp_path / "stranger-wl" / "client.key")
        assert code != "200"

        # renewal with the workload's certificate instead of a token: same identity
        _, csr3 = make_csr(tmp_path, "w3")
        status, body = sign(topo, tmp_path, pki, csr3, cert=crt, key=key)
        assert status == 200, body
        (tmp_path / "w3.crt").write_text(body)
        assert WL_ID in spctl_ca("show", tmp_path / "w3.crt").stdout

        # revoke the workload certificate: nginx refuses it once the CRL is published
        serial = next(ln.split()[-1] for ln in info.splitlines() if "serial" in ln.lower())
        spctl_ca("revoke", "--ca-cert", pki.int_crt, "--ca-key", pki.int_key, "--serial",
                 serial, "--reason", "keyCompromise")
        pki.crls()
        nginx.reload()
        code, _ = nginx.curl(crt, key)
        assert code == "400", code   # nginx: "The SSL certificate error"
        v = openssl_verify(pki, crt, crl_check=True)
        assert v.returncode != 0
        # the gateway picks the new CRL up (watch) and refuses the revoked certificate too
        assert wait_for(lambda: [c["serial"] for c in certs(gw)["certs"]
                                 if c["role"] == "crl"] == ["2", "2"], 10), certs(gw)
        p = sign_raw(topo, tmp_path, pki, csr3, cert=crt, key=key)
        assert p.returncode != 0 or p.stdout.startswith("401"), p.stdout + p.stderr

        # every issuance is in the audit log, and the chain holds
        lines = [json.loads(ln) for ln in pki.audit.read_text().splitlines()]
        assert [r["action"] for r in lines] == ["sign", "renew"]
        assert lines[1]["who"] == WL_ID
        assert lines[0]["identity"] == WL_ID
        spctl_ca("audit", "verify", pki.audit)
        c = certs(gw)["counters"]
        assert c["issued"] == 2 and c["issue_refused"] >= 6
    finally:
        if nginx is not None:
            nginx.stop()
        stop_gateway(gw)


# ---- (c) renewal through the issuing gateway -------------------------------------------------

def test_renewal_via_gateway(topo, tmp_path):
    pki = Pki(tmp_path, gw_seconds=30)
    issued = time.time()
    renew = 'renew = { source = "gateway"; url = "https://10.1.0.1:8443"; retry_s = 2; };'
    extra = pki.pki_conf(renew) + pki.issuer_conf(max_seconds=600)
    gw = start(topo, tmp_path / "gw-c", "pkic", extra)
    try:
        first = gw_cert(gw)
        assert wait_for(lambda: gw_cert(gw)["serial"] != first["serial"], 40, interval=0.25), \
            gw.log_tail()
        changed = time.time() - issued
        assert 18 <= changed <= 25, f"renewed after {changed:.1f} s"
        c = certs(gw)["counters"]
        assert c["renewals"] >= 1 and c["issued"] >= 1, c
        v = openssl_verify(pki, pki.gw_crt, crl_check=True)
        assert v.returncode == 0, v.stdout + v.stderr
        lines = [json.loads(ln) for ln in pki.audit.read_text().splitlines()]
        assert lines[0]["action"] == "renew" and lines[0]["identity"] == GW_ID
        assert lines[0]["who"] == GW_ID
        # and a forced renewal by command
        before = gw_cert(gw)["serial"]
        gw.spctl_ok("certs", "renew")
        assert wait_for(lambda: gw_cert(gw)["serial"] != before, 10), gw.log_tail()
    finally:
        stop_gateway(gw)


# ---- (d) root rollover with the daemon running ---------------------------------------------

def test_root_rollover_without_outage(topo, tmp_path):
    pki = Pki(tmp_path, gw_seconds=3600)
    gw = start(topo, tmp_path / "gw-d", "pkid", pki.pki_conf(crls=False))
    ping = None
    try:
        first = gw_cert(gw)
        assert sum(c["role"] == "bundle-root" for c in certs(gw)["certs"]) == 1
        ping = topo.bg(topo.ns_a, ["ping", "-n", "-i", "0.1", "-c", "250", "10.2.0.2"],
                       log_path=tmp_path / "ping.log")
        # 1. the new root joins the bundle: picked up without a restart
        new = Pki(tmp_path / "new", gw_seconds=3600)
        tmp = tmp_path / "bundle.tmp"
        spctl_ca("bundle", "--out", tmp, pki.root_crt, new.root_crt)
        tmp.replace(pki.bundle)
        assert wait_for(lambda: sum(c["role"] == "bundle-root"
                                    for c in certs(gw)["certs"]) == 2, 10), gw.log_tail()
        # 2. the gateway's certificate from the new root's intermediate
        pki.issue_gw(3600, ca_crt=new.int_crt, ca_key=new.int_key)
        assert wait_for(lambda: gw_cert(gw)["serial"] != first["serial"], 10), gw.log_tail()
        chain = [c for c in certs(gw)["certs"] if c["role"] == "chain"]
        assert len(chain) == 1
        # 3. the old root leaves the bundle
        spctl_ca("bundle", "--out", tmp, new.root_crt)
        tmp.replace(pki.bundle)
        assert wait_for(lambda: sum(c["role"] == "bundle-root"
                                    for c in certs(gw)["certs"]) == 1, 10), gw.log_tail()
        assert gw_cert(gw)["state"] == "valid"
        assert gw.alive()
        ping.wait(60)
        out = ping.output()
        assert " 0% packet loss" in out, out
        assert certs(gw)["counters"]["reloads"] >= 3
    finally:
        if ping is not None:
            ping.close()
        stop_gateway(gw)
