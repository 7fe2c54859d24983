# SPDX-License-Identifier: BSD-3-Clause
"""The internal CA (`spctl ca ...`) against a tool nobody here wrote: OpenSSL's command line.

`openssl verify -crl_check_all` must accept what should pass and reject expired, not yet valid,
revoked and wrong-root certificates, and a leaf outside the intermediate's trust domain (name
constraints), crafted with `openssl x509 -req` since spctl refuses to issue it. `openssl x509
-text` must show the SPIFFE URI SAN and the name constraint. Every refusal of spctl (corrupt
PEM, wrong key, expired CA, CSRs asking for CA rights or a foreign trust domain, reused or
expired tokens, a CRL from the wrong CA, ...) exits 1 with a message naming the problem and
leaves the CA directories exactly as they were. Then intermediate rotation and a full root
rollover, every step an spctl command, each state checked by both verifiers.

No network and no gateway: only files in a temporary directory. Needs only the built spctl
(SP_BUILD_DIR, default build/) and the openssl binary.
"""

import hashlib
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from conftest import SPCTL, run

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
TD = "example.org"


def spctl(*args, rc=0, timeout=30):
    """Run `spctl ca ARGS`; assert the exit status; return the process."""
    p = run([str(SPCTL), "ca", *map(str, args)], timeout=timeout)
    assert p.returncode == rc, (f"spctl ca {' '.join(map(str, args))}: status {p.returncode}, "
                                f"wanted {rc}\n{p.stdout}{p.stderr}")
    return p


def ossl(*args, rc=None):
    p = run([OPENSSL, *map(str, args)])
    if rc is not None:
        assert p.returncode == rc, f"openssl {' '.join(map(str, args))}\n{p.stdout}{p.stderr}"
    return p


def ossl_verify(bundle, cert, untrusted=None, crls=(), extra=()):
    """openssl verify; returns (ok, output)."""
    argv = ["verify", "-x509_strict", "-CAfile", bundle, *extra]
    if untrusted:
        argv += ["-untrusted", untrusted]
    if crls:
        argv += ["-crl_check_all"]
        for c in crls:
            argv += ["-CRLfile", c]
    p = ossl(*argv, cert)
    return p.returncode == 0, p.stdout + p.stderr


def sp_verify(bundle, cert, crls=(), extra=()):
    argv = ["verify", "--bundle", bundle, *extra]
    for c in crls:
        argv += ["--crl", c]
    p = run([str(SPCTL), "ca", *map(str, argv), str(cert)])
    assert p.returncode in (0, 1), p.stdout + p.stderr
    return p.returncode == 0, p.stdout + p.stderr


def serial_of(cert):
    return ossl("x509", "-in", cert, "-noout", "-serial", rc=0).stdout.strip().split("=")[1]


def snapshot(*dirs):
    """Names, modes and content hashes of every file under dirs."""
    out = {}
    for d in dirs:
        for p in sorted(Path(d).rglob("*")):
            if p.is_file():
                out[str(p)] = (stat.S_IMODE(p.stat().st_mode),
                               hashlib.sha256(p.read_bytes()).hexdigest())
    return out


@pytest.fixture(scope="module", autouse=True)
def built():
    if not os.access(SPCTL, os.X_OK):
        pytest.fail(f"not built: {SPCTL} (build first, or set SP_BUILD_DIR)", pytrace=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Root R1, intermediate I1, a bundle, leaves (good, Ed25519, expired, future, revoked) and
    the CRLs of both CAs."""
    d = tmp_path_factory.mktemp("pki")
    root, inter, leaves = d / "root", d / "int", d / "leaves"
    spctl("init", "--trust-domain", TD, "--out", root)
    spctl("intermediate", "--root-cert", root / "root.crt", "--root-key", root / "root.key",
          "--out", inter)
    ca = ["--ca-cert", inter / "intermediate.crt", "--ca-key", inter / "intermediate.key"]
    spctl("issue", "gateway", *ca, "--name", "gw1", "--out", leaves)
    spctl("issue", "workload", *ca, "--ns", "prod", "--name", "web", "--key-type", "ed25519",
          "--out", leaves)
    spctl("issue", "gateway", *ca, "--name", "old", "--not-before", "-7200", "--seconds", "3600",
          "--out", leaves)
    spctl("issue", "gateway", *ca, "--name", "early", "--not-before", "+3600", "--out", leaves)
    spctl("issue", "workload", *ca, "--ns", "prod", "--name", "gone", "--out", leaves)
    spctl("revoke", *ca, "--serial", serial_of(leaves / "gone.crt"), "--reason",
          "keyCompromise")
    spctl("crl", *ca, "--out", d / "int.crl")
    spctl("crl", "--ca-cert", root / "root.crt", "--ca-key", root / "root.key",
          "--out", d / "root.crl")
    spctl("bundle", "--out", d / "bundle.pem", root / "root.crt")
    return {
        "dir": d, "root": root, "int": inter, "leaves": leaves, "ca": ca,
        "bundle": d / "bundle.pem", "untrusted": inter / "intermediate.crt",
        "crls": [d / "int.crl", d / "root.crl"],
    }


# ---- interoperability: openssl verify and spctl ca verify agree ----

@pytest.mark.parametrize("leaf,ok,openssl_says,spctl_says", [
    ("gw1", True, "OK", "OK: spiffe://example.org/segment/gw1"),
    ("web", True, "OK", "OK: spiffe://example.org/ns/prod/sa/web"),
    ("old", False, "certificate has expired", "FAILED: expired: depth 0"),
    ("early", False, "certificate is not yet valid", "FAILED: not-yet-valid: depth 0"),
    ("gone", False, "certificate revoked", "FAILED: revoked: depth 0"),
])
def test_openssl_and_spctl_agree(pki, leaf, ok, openssl_says, spctl_says):
    cert = pki["leaves"] / f"{leaf}.crt"
    good, out = ossl_verify(pki["bundle"], cert, pki["untrusted"], pki["crls"])
    assert good == ok and openssl_says in out, out
    good, out = sp_verify(pki["bundle"], cert, pki["crls"])
    assert good == ok and out.startswith(spctl_says), out


def test_without_crls_revoked_still_chains(pki):
    """Without CRLs the revoked leaf chains (revocation is what the CRL adds)."""
    good, out = ossl_verify(pki["bundle"], pki["leaves"] / "gone.crt", pki["untrusted"])
    assert good, out
    good, out = sp_verify(pki["bundle"], pki["leaves"] / "gone.crt")
    assert good, out


def test_purposes(pki):
    for purpose in ("sslclient", "sslserver"):
        good, out = ossl_verify(pki["bundle"], pki["leaves"] / "gw1.crt", pki["untrusted"],
                                pki["crls"], extra=["-purpose", purpose])
        assert good, out


def test_wrong_root(pki, tmp_path):
    spctl("init", "--trust-domain", TD, "--out", tmp_path / "other")
    spctl("bundle", "--out", tmp_path / "other.pem", tmp_path / "other" / "root.crt")
    good, out = ossl_verify(tmp_path / "other.pem", pki["leaves"] / "gw1.crt", pki["untrusted"])
    assert not good and "unable to get local issuer certificate" in out, out
    good, out = sp_verify(tmp_path / "other.pem", pki["leaves"] / "gw1.crt")
    assert not good and out.startswith("FAILED: unknown-issuer: depth 1"), out


def test_expected_identity(pki):
    good, out = sp_verify(pki["bundle"], pki["leaves"] / "gw1.crt",
                          extra=["--id", "spiffe://example.org/segment/gw2"])
    assert not good and "FAILED: wrong-identity: depth 0: the certificate is for " \
        "'spiffe://example.org/segment/gw1', not 'spiffe://example.org/segment/gw2'" in out
    good, out = sp_verify(pki["bundle"], pki["leaves"] / "gw1.crt",
                          extra=["--trust-domain", TD, "--id", "spiffe://example.org/segment/gw1"])
    assert good, out


def test_text_shows_san_and_name_constraints(pki):
    text = ossl("x509", "-in", pki["untrusted"], "-noout", "-text", rc=0).stdout
    assert "X509v3 Name Constraints: critical" in text
    assert "Permitted:\n                  URI:example.org" in text
    assert "CA:TRUE, pathlen:0" in text
    assert "URI:spiffe://example.org\n" in text
    text = ossl("x509", "-in", pki["leaves"] / "gw1.crt", "-noout", "-text", rc=0).stdout
    assert "URI:spiffe://example.org/segment/gw1" in text
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text
    assert "CA:FALSE" in text
    text = ossl("x509", "-in", pki["leaves"] / "web.crt", "-noout", "-text", rc=0).stdout
    assert "URI:spiffe://example.org/ns/prod/sa/web" in text and "ED25519" in text
    text = ossl("crl", "-in", pki["crls"][0], "-noout", "-text", rc=0).stdout
    assert serial_of(pki["leaves"] / "gone.crt") in text and "Key Compromise" in text
    assert "X509v3 CRL Number: \n                1" in text


def test_name_constraints_enforced_by_openssl(pki, tmp_path):
    """Whoever holds the online intermediate's key cannot mint identities of another trust
    domain: a leaf crafted with openssl itself (spctl refuses) fails both verifiers."""
    key, csr, crt = tmp_path / "f.key", tmp_path / "f.csr", tmp_path / "f.crt"
    ext = tmp_path / "ext.cnf"
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n"
                   "subjectAltName=URI:spiffe://evil.example/segment/gw1\n")
    ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key, rc=0)
    ossl("req", "-new", "-key", key, "-subj", "/CN=evil", "-out", csr, rc=0)
    ossl("x509", "-req", "-in", csr, "-CA", pki["untrusted"], "-CAkey",
         pki["int"] / "intermediate.key", "-CAcreateserial", "-days", "1", "-extfile", ext,
         "-out", crt, rc=0)
    good, out = ossl_verify(pki["bundle"], crt, pki["untrusted"])
    assert not good and "permitted subtree violation" in out, out
    shutil.copy(crt, tmp_path / "chain.crt")
    with open(tmp_path / "chain.crt", "a") as f:
        f.write(Path(pki["untrusted"]).read_text())
    good, out = sp_verify(pki["bundle"], tmp_path / "chain.crt")
    assert not good and out.startswith("FAILED: name-constraints: depth 0"), out
    # The same request for our own trust domain passes: the constraint, not the key, refused.
    ext.write_text(ext.read_text().replace("evil.example", TD))
    ossl("x509", "-req", "-in", csr, "-CA", pki["untrusted"], "-CAkey",
         pki["int"] / "intermediate.key", "-CAcreateserial", "-days", "1", "-extfile", ext,
         "-out", crt, rc=0)
    good, out = ossl_verify(pki["bundle"], crt, pki["untrusted"])
    assert good, out


def test_seconds_long_certificate_expires(pki):
    spctl("issue", "workload", *pki["ca"], "--ns", "t", "--name", "brief", "--seconds", "2",
          "--backdate", "0", "--out", pki["dir"] / "brief")
    cert = pki["dir"] / "brief" / "brief.crt"
    good, out = sp_verify(pki["bundle"], cert)
    assert good, out
    time.sleep(3)
    good, out = ossl_verify(pki["bundle"], cert, pki["untrusted"])
    assert not good and "certificate has expired" in out, out
    good, out = sp_verify(pki["bundle"], cert)
    assert not good and "expired" in out, out


def test_crl_of_another_ca(pki, tmp_path):
    """A CRL that does not come from the intermediate does not cover its leaves."""
    spctl("intermediate", "--root-cert", pki["root"] / "root.crt", "--root-key",
          pki["root"] / "root.key", "--out", tmp_path / "i2", "--audit", tmp_path / "a.log")
    spctl("crl", "--ca-cert", tmp_path / "i2" / "intermediate.crt", "--ca-key",
          tmp_path / "i2" / "intermediate.key", "--out", tmp_path / "i2.crl")
    crls = [tmp_path / "i2.crl", pki["crls"][1]]
    good, out = ossl_verify(pki["bundle"], pki["leaves"] / "gw1.crt", pki["untrusted"], crls)
    assert not good and "unable to get certificate CRL" in out, out
    good, out = sp_verify(pki["bundle"], pki["leaves"] / "gw1.crt", crls)
    assert not good and out.startswith("FAILED: no-crl: depth 0"), out


def test_show_and_list(pki):
    out = spctl("show", pki["leaves"] / "gw1.crt").stdout
    assert "certificate 1 of 2" in out and "certificate 2 of 2" in out
    assert "spiffe id    spiffe://example.org/segment/gw1" in out
    assert f"serial       {serial_of(pki['leaves'] / 'gw1.crt')}" in out
    assert "days left)" in out and "kind         gateway" in out
    assert "kind         intermediate CA, pathlen 0, permitted URI host example.org" in out
    out = spctl("show", pki["crls"][0]).stdout
    assert "revoked      1" in out and "keyCompromise" in out
    out = spctl("list", pki["leaves"]).stdout
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["FILE", "KIND", "SPIFFE"]
    gw = [line for line in lines if line.startswith("gw1.crt")][0]
    assert "gateway" in gw and "spiffe://example.org/segment/gw1" in gw
    assert float(gw.split()[-1]) == pytest.approx(30.0, abs=0.1)
    old = [line for line in lines if line.startswith("old.crt")][0]
    assert old.split()[-1].startswith("-")


# ---- tokens and CSRs ----

def make_csr(tmp_path, name, *addext, key_type="EC"):
    key, csr = tmp_path / f"{name}.key", tmp_path / f"{name}.csr"
    if key_type == "EC":
        ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key,
             rc=0)
    else:
        ossl("genpkey", "-algorithm", key_type, "-out", key, rc=0)
    argv = ["req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", csr]
    for a in addext:
        argv += ["-addext", a]
    ossl(*argv, rc=0)
    return csr


@pytest.fixture
def policy(pki):
    p = pki["dir"] / "policy"
    p.write_text(f"trust-domain {TD}\nallow workload ns=prod sa=api-*\n"
                 "allow gateway name=edge-?\nmax-lifetime 2d\n")
    return p


def test_sign_csr_by_policy(pki, policy, tmp_path):
    csr = make_csr(tmp_path, "api", "subjectAltName=URI:spiffe://example.org/ns/prod/sa/api-1,"
                   "DNS:sneaky.example")
    out = tmp_path / "api.crt"
    spctl("sign", *pki["ca"], "--csr", csr, "--policy", policy, "--out", out)
    text = ossl("x509", "-in", out, "-noout", "-text", rc=0).stdout
    assert "URI:spiffe://example.org/ns/prod/sa/api-1" in text and "sneaky" not in text
    good, res = ossl_verify(pki["bundle"], out, pki["untrusted"], pki["crls"])
    assert good, res


def test_sign_with_token_once(pki, policy, tmp_path):
    ident = "spiffe://example.org/ns/batch/sa/job"
    p = spctl("token", "--ca-dir", pki["int"], "--identity", ident, "--ttl", "600")
    token = p.stdout.strip()
    assert len(token) == 64 and token not in (pki["int"] / "tokens").read_text()
    assert stat.S_IMODE((pki["int"] / "tokens").stat().st_mode) == 0o600
    csr = make_csr(tmp_path, "job", key_type="ED25519")
    spctl("sign", *pki["ca"], "--csr", csr, "--policy", policy, "--token", token,
          "--out", tmp_path / "job.crt", "--seconds", "600")
    text = ossl("x509", "-in", tmp_path / "job.crt", "-noout", "-text", rc=0).stdout
    assert f"URI:{ident}" in text
    p = spctl("sign", *pki["ca"], "--csr", csr, "--policy", policy, "--token", token,
              "--out", tmp_path / "job2.crt", rc=1)
    assert f"token: token already used (for '{ident}')" in p.stderr
    assert not (tmp_path / "job2.crt").exists()


REFUSALS = [
    # (name, prepare(pki, tmp) -> argv, message)
    ("corrupt CA certificate",
     lambda k, t: ["issue", "gateway", "--ca-cert", corrupt(k["untrusted"], t), "--ca-key",
                   k["int"] / "intermediate.key", "--name", "x", "--out", k["leaves"]],
     ": corrupt PEM block"),
    ("key of another CA",
     lambda k, t: ["issue", "gateway", "--ca-cert", k["untrusted"], "--ca-key",
                   k["root"] / "root.key", "--name", "x", "--out", k["leaves"]],
     "does not match"),
    ("root issuing leaves",
     lambda k, t: ["issue", "gateway", "--ca-cert", k["root"] / "root.crt", "--ca-key",
                   k["root"] / "root.key", "--name", "x", "--out", k["leaves"]],
     "is a root: leaves are issued by an intermediate"),
    ("existing key not replaced",
     lambda k, t: ["issue", "gateway", *k["ca"], "--name", "gw1", "--out", k["leaves"]],
     "gw1.crt exists (not overwriting; --force replaces it)"),
    ("existing root",
     lambda k, t: ["init", "--trust-domain", TD, "--out", k["root"]],
     "root.crt exists (not overwriting)"),
    ("CSR asking for CA rights",
     lambda k, t: ["sign", *k["ca"], "--policy", k["policy"], "--out", t / "o.crt", "--csr",
                   make_csr(t, "ca", "subjectAltName=URI:spiffe://example.org/ns/prod/sa/api-2",
                            "basicConstraints=critical,CA:TRUE")],
     "the CSR asks for CA rights (basicConstraints CA:TRUE)"),
    ("CSR for a foreign trust domain",
     lambda k, t: ["sign", *k["ca"], "--policy", k["policy"], "--out", t / "o.crt", "--csr",
                   make_csr(t, "f", "subjectAltName=URI:spiffe://other.org/ns/prod/sa/api-2")],
     "'spiffe://other.org/ns/prod/sa/api-2' is in a foreign trust domain"),
    ("CSR outside the policy",
     lambda k, t: ["sign", *k["ca"], "--policy", k["policy"], "--out", t / "o.crt", "--csr",
                   make_csr(t, "o", "subjectAltName=URI:spiffe://example.org/ns/dev/sa/api-2")],
     "no policy rule allows 'spiffe://example.org/ns/dev/sa/api-2'"),
    ("corrupt CSR",
     lambda k, t: ["sign", *k["ca"], "--policy", k["policy"], "--out", t / "o.crt", "--csr",
                   corrupt(make_csr(t, "c", "subjectAltName=URI:spiffe://example.org/ns/prod/"
                                    "sa/api-3"), t)],
     "CSR: "),
    ("unknown token",
     lambda k, t: ["sign", *k["ca"], "--policy", k["policy"], "--out", t / "o.crt", "--csr",
                   make_csr(t, "u"), "--token", "0" * 64],
     "token: unknown token"),
    ("revoke with the wrong key",
     lambda k, t: ["revoke", "--ca-cert", k["untrusted"], "--ca-key", k["root"] / "root.key",
                   "--serial", serial_of(k["leaves"] / "gw1.crt")],
     "does not match"),
    ("revoke an unknown serial",
     lambda k, t: ["revoke", *k["ca"], "--serial", "0BADC0DE"],
     "serial BADC0DE was not issued by this CA"),
    ("revoke twice",
     lambda k, t: ["revoke", *k["ca"], "--serial", serial_of(k["leaves"] / "gone.crt")],
     "is already revoked"),
    ("bundle of a non-root",
     lambda k, t: ["bundle", "--out", k["bundle"], k["root"] / "root.crt", k["untrusted"]],
     "is not a root (not self-signed"),
    ("token for a foreign trust domain",
     lambda k, t: ["token", "--ca-dir", k["int"], "--identity",
                   "spiffe://other.org/ns/a/sa/b"],
     "is in a foreign trust domain"),
]


def corrupt(path, tmp):
    text = Path(path).read_text().splitlines(keepends=True)
    text[2] = "!" + text[2][1:]
    out = tmp / ("bad-" + Path(path).name)
    out.write_text("".join(text))
    return out


@pytest.mark.parametrize("name,argv,message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_and_nothing_written(pki, policy, tmp_path, name, argv, message):
    k = dict(pki, policy=policy)
    args = argv(k, tmp_path)
    before = snapshot(pki["dir"])
    p = spctl(*args, rc=1)
    assert message in p.stderr, p.stderr
    assert p.stderr.startswith("spctl ca "), p.stderr
    assert snapshot(pki["dir"]) == before
    assert not (tmp_path / "o.crt").exists()


def test_expired_ca_and_token_refused(pki, policy, tmp_path):
    """Seconds-long CA and token: once expired, both are refused, nothing written."""
    spctl("intermediate", "--root-cert", pki["root"] / "root.crt", "--root-key",
          pki["root"] / "root.key", "--out", tmp_path / "short", "--seconds", "1",
          "--audit", tmp_path / "a.log")
    tok = spctl("token", "--ca-dir", pki["int"], "--identity",
                "spiffe://example.org/ns/batch/sa/late", "--ttl", "1").stdout.strip()
    csr = make_csr(tmp_path, "late")
    time.sleep(2.2)
    before = snapshot(pki["dir"], tmp_path / "short")
    p = spctl("issue", "gateway", "--ca-cert", tmp_path / "short" / "intermediate.crt",
              "--ca-key", tmp_path / "short" / "intermediate.key", "--name", "x",
              "--out", tmp_path / "short", rc=1)
    assert "intermediate.crt expired on " in p.stderr, p.stderr
    p = spctl("sign", *pki["ca"], "--csr", csr, "--policy", policy, "--token", tok,
              "--out", tmp_path / "late.crt", rc=1)
    assert "token: token expired (for 'spiffe://example.org/ns/batch/sa/late')" in p.stderr
    assert snapshot(pki["dir"], tmp_path / "short") == before
    assert not (tmp_path / "late.crt").exists()


def test_usage_errors(pki):
    for cmd in ("init", "intermediate", "issue", "sign", "revoke", "crl", "show", "list",
                "bundle", "token", "verify", "audit"):
        assert spctl(cmd, "--help").stdout.startswith(f"Usage: spctl ca {cmd}")
    p = spctl("init", "--out", "/nonexistent/x", rc=2)
    assert "--trust-domain is required" in p.stderr
    p = spctl("init", "--trust-domain", "Bad.TD", "--out", "/nonexistent/x", rc=2)
    assert "upper-case letter in the trust domain" in p.stderr
    p = spctl("issue", "gadget", rc=2)
    assert "say what to issue: gateway or workload" in p.stderr
    p = spctl("crl", "--serial", "1", rc=2)
    assert "option --serial does not apply here" in p.stderr
    spctl("frobnicate", rc=2)
    assert spctl("--help").stdout.startswith("Usage: spctl ca COMMAND")


# ---- keys and audit ----

def test_key_modes(pki):
    for key in [pki["root"] / "root.key", pki["int"] / "intermediate.key",
                pki["leaves"] / "gw1.key", pki["leaves"] / "web.key"]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    ossl("pkey", "-in", pki["leaves"] / "web.key", "-noout", rc=0)


def test_audit_chain(pki, tmp_path):
    log = pki["int"] / "audit.log"
    out = spctl("audit", "verify", log).stdout
    assert out.startswith("OK: ") and "chain intact" in out
    actions = [line.split('"action":"')[1].split('"')[0] for line in log.read_text().splitlines()]
    assert actions[:7] == ["issue"] * 5 + ["revoke", "crl"]
    root_actions = (pki["root"] / "audit.log").read_text()
    assert '"action":"init"' in root_actions and '"action":"intermediate"' in root_actions
    # Edited and removed lines are named; the copies keep the real log intact.
    lines = log.read_text().splitlines(keepends=True)
    edited = tmp_path / "edited.log"
    edited.write_text("".join(lines[:1] + [lines[1].replace('"who":"', '"who":"mallory ')] + lines[2:]))
    shutil.copy(str(log) + ".head", str(edited) + ".head")
    p = spctl("audit", "verify", edited, rc=1)
    assert f"FAILED: {edited}:3: the chain is broken: line 2 was changed" in p.stdout
    removed = tmp_path / "removed.log"
    removed.write_text("".join(lines[:2] + lines[3:]))
    shutil.copy(str(log) + ".head", str(removed) + ".head")
    p = spctl("audit", "verify", removed, rc=1)
    assert f"FAILED: {removed}:3: entry 4 where 3 was expected: entries were removed" in p.stdout
    cut = tmp_path / "cut.log"
    cut.write_text("".join(lines[:-1]))
    shutil.copy(str(log) + ".head", str(cut) + ".head")
    p = spctl("audit", "verify", cut, rc=1)
    assert "entries were removed at the end" in p.stdout


def test_damaged_audit_log_stops_issuance(pki, tmp_path):
    log = tmp_path / "a.log"
    spctl("issue", "gateway", *pki["ca"], "--name", "a1", "--out", tmp_path, "--audit", log)
    log.write_text(log.read_text().replace("gateway", "gatewax"))
    before = snapshot(tmp_path)
    p = spctl("issue", "gateway", *pki["ca"], "--name", "a2", "--out", tmp_path, "--audit", log,
              rc=1)
    assert "the audit log does not verify, refusing to go on" in p.stderr
    assert snapshot(tmp_path) == before


# ---- rotation runbooks, end to end ----

def test_intermediate_rotation(pki, tmp_path):
    """New intermediate under the same root; the old one is revoked by the root's CRL once
    its leaves are replaced. The bundle never changes."""
    r = ["--ca-cert", pki["root"] / "root.crt", "--ca-key", pki["root"] / "root.key"]
    audit = ["--audit", tmp_path / "audit.log"]
    spctl("intermediate", "--root-cert", pki["root"] / "root.crt", "--root-key",
          pki["root"] / "root.key", "--out", tmp_path / "i1", *audit)
    i1 = ["--ca-cert", tmp_path / "i1" / "intermediate.crt", "--ca-key",
          tmp_path / "i1" / "intermediate.key"]
    spctl("issue", "gateway", *i1, "--name", "gw", "--out", tmp_path / "old", *audit)
    spctl("intermediate", "--root-cert", pki["root"] / "root.crt", "--root-key",
          pki["root"] / "root.key", "--out", tmp_path / "i1b", *audit)
    i1b = ["--ca-cert", tmp_path / "i1b" / "intermediate.crt", "--ca-key",
           tmp_path / "i1b" / "intermediate.key"]
    spctl("issue", "gateway", *i1b, "--name", "gw", "--out", tmp_path / "new", *audit)
    for leaf in ("old", "new"):
        good, out = sp_verify(pki["bundle"], tmp_path / leaf / "gw.crt")
        assert good, out
    spctl("revoke", *r, "--serial", serial_of(tmp_path / "i1" / "intermediate.crt"),
          "--reason", "superseded", *audit)
    spctl("crl", *r, "--out", tmp_path / "root.crl", *audit)
    spctl("crl", *i1, "--out", tmp_path / "i1.crl", *audit)
    spctl("crl", *i1b, "--out", tmp_path / "i1b.crl", *audit)
    crls = [tmp_path / "root.crl", tmp_path / "i1.crl", tmp_path / "i1b.crl"]
    good, out = ossl_verify(pki["bundle"], tmp_path / "old" / "gw.crt",
                            tmp_path / "i1" / "intermediate.crt", crls)
    assert not good and "certificate revoked" in out, out
    good, out = sp_verify(pki["bundle"], tmp_path / "old" / "gw.crt", crls)
    assert not good and out.startswith("FAILED: revoked: depth 1"), out
    good, out = ossl_verify(pki["bundle"], tmp_path / "new" / "gw.crt",
                            tmp_path / "i1b" / "intermediate.crt", crls)
    assert good, out
    spctl("audit", "verify", tmp_path / "audit.log")


def test_root_rollover(tmp_path):
    """The runbook of docs/pki.md: R1+I1 issue L1; R2 is created and added to every bundle
    first; I2 under R2 issues L2; with bundle {R1,R2} both verify; once everything is on R2,
    R1 is removed: bundle {R2} rejects L1 and accepts L2."""
    d = tmp_path
    spctl("init", "--trust-domain", TD, "--out", d / "r1")
    spctl("intermediate", "--root-cert", d / "r1" / "root.crt", "--root-key",
          d / "r1" / "root.key", "--out", d / "i1")
    spctl("issue", "gateway", "--ca-cert", d / "i1" / "intermediate.crt", "--ca-key",
          d / "i1" / "intermediate.key", "--name", "l1", "--out", d / "leaves")
    spctl("bundle", "--out", d / "bundle.pem", d / "r1" / "root.crt")
    l1, l2 = d / "leaves" / "l1.crt", d / "leaves" / "l2.crt"
    assert sp_verify(d / "bundle.pem", l1)[0]

    # Step 1: the new root, into every bundle first (an overlap window).
    spctl("init", "--trust-domain", TD, "--out", d / "r2", "--key-type", "ed25519")
    out = spctl("bundle", "--out", d / "bundle.pem", d / "r1" / "root.crt",
                d / "r2" / "root.crt").stdout
    assert "2 root(s)" in out and f"added: {serial_of(d / 'r2' / 'root.crt')}; removed:)" in out
    good, res = ossl_verify(d / "bundle.pem", l1, d / "i1" / "intermediate.crt")
    assert good, res
    # Step 2: a new intermediate under the new root; leaves move to it as they renew.
    spctl("intermediate", "--root-cert", d / "r2" / "root.crt", "--root-key",
          d / "r2" / "root.key", "--out", d / "i2")
    spctl("issue", "gateway", "--ca-cert", d / "i2" / "intermediate.crt", "--ca-key",
          d / "i2" / "intermediate.key", "--name", "l2", "--out", d / "leaves")
    for leaf, inter in ((l1, d / "i1"), (l2, d / "i2")):
        good, res = ossl_verify(d / "bundle.pem", leaf, inter / "intermediate.crt")
        assert good, res
        good, res = sp_verify(d / "bundle.pem", leaf)
        assert good, res
    # With CRLs of every CA, still both.
    crls = []
    for ca, name in ((d / "r1" / "root", "r1"), (d / "i1" / "intermediate", "i1"),
                     (d / "r2" / "root", "r2"), (d / "i2" / "intermediate", "i2")):
        spctl("crl", "--ca-cert", f"{ca}.crt", "--ca-key", f"{ca}.key", "--out",
              d / f"{name}.crl")
        crls.append(d / f"{name}.crl")
    for leaf in (l1, l2):
        good, res = sp_verify(d / "bundle.pem", leaf, crls)
        assert good, res
    # Step 3: the old root leaves the bundles last.
    out = spctl("bundle", "--out", d / "bundle.pem", d / "r2" / "root.crt").stdout
    assert f"removed: {serial_of(d / 'r1' / 'root.crt')})" in out
    good, res = ossl_verify(d / "bundle.pem", l1, d / "i1" / "intermediate.crt")
    assert not good and "unable to get local issuer certificate" in res, res
    good, res = sp_verify(d / "bundle.pem", l1)
    assert not good and res.startswith("FAILED: unknown-issuer"), res
    good, res = ossl_verify(d / "bundle.pem", l2, d / "i2" / "intermediate.crt")
    assert good, res
    good, res = sp_verify(d / "bundle.pem", l2, crls[2:])
    assert good, res
    # The bundle changes are in the audit log next to it, and the chain holds.
    log = (d / "audit.log").read_text()
    assert log.count('"action":"bundle"') == 3
    spctl("audit", "verify", d / "audit.log")
