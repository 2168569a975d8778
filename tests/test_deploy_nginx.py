"""The nginx site of docs/deploy.md, as shipped, in front of a real `dossier-rules serve` process.

Debian's nginx runs with docs/deploy/nginx-dossier-rules.conf (only ports,
certificate paths and the host name substituted) and a certificate made
here; `serve` listens on loopback and believes the proxy's headers because
`--forwarded-allow-ips 127.0.0.1` says so. Skipped when nginx is not installed.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .deploy_support import free_port, self_signed
from .server_support import PASSWORD, ROOT, make_service

SITE = ROOT / "docs" / "deploy" / "nginx-dossier-rules.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
HOST = "screening.test"
SAMPLE = (ROOT / "samples" / "kh-candidate-revoked-agency.json").read_bytes()

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx); the site file is then untested")


def site_for_test(folder: Path, cert: Path, key: Path, upstream: int, http_port: int, https_port: int) -> str:
    """The shipped site file with this test's ports, certificate and host name."""
    text = SITE.read_text(encoding="utf-8")
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "/etc/ssl/dossier-rules/fullchain.pem": str(cert),
        "/etc/ssl/dossier-rules/privkey.pem": str(key),
        "screening.example.jp": HOST,
    }
    for old, new in replacements.items():
        assert old in text, f"the site file no longer contains {old!r}: update this test with it"
        text = text.replace(old, new)
    return text


def nginx_conf(folder: Path, site: Path) -> Path:
    """A main configuration around the site, with every file nginx writes inside ``folder``."""
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    conf = folder / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read this test's 0700 folders
    conf.write_text(
        f"{user}daemon off;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\nevents {{}}\n"
        "http {\n  access_log off;\n"
        f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n  fastcgi_temp_path {temp['fastcgi']};\n"
        f"  uwsgi_temp_path {temp['uwsgi']};\n  scgi_temp_path {temp['scgi']};\n  include {site};\n}}\n"
    )
    return conf


def wait_for(url: str, process: subprocess.Popen[bytes], **options: object) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args[0]} ended early"
        try:
            httpx.get(url, timeout=2, **options)  # type: ignore[arg-type]
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, ssl.SSLContext, dict[str, str]]]:
    """(https base URL, http base URL, trust for the certificate, the users' tokens) of nginx in front of serve."""
    folder = tmp_path_factory.mktemp("nginx")
    service = make_service(folder)
    db = service.app.state.db.location
    upstream, http_port, https_port = free_port(), free_port(), free_port()
    cert, key = self_signed(folder, HOST)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DOSSIER_RULES_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    command = [sys.executable, "-m", "dossier_rules", "serve", "--db", str(db), "--port", str(upstream), "--packs", str(ROOT / "rules")]
    log = (folder / "serve.log").open("wb")
    serve = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    site = folder / "site.conf"
    site.write_text(site_for_test(folder, cert, key, upstream, http_port, https_port))
    conf = nginx_conf(folder, site)
    assert NGINX is not None
    checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-e", str(folder / "error.log")], check=False, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-e", str(folder / "error.log")], stdout=log, stderr=log)
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        wait_for(f"http://127.0.0.1:{upstream}/healthz", serve)
        wait_for(f"https://127.0.0.1:{https_port}/healthz", nginx, verify=trust)
        yield f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", trust, service.tokens
    finally:
        for process in (nginx, serve):
            process.terminate()
            process.wait(timeout=20)
        log.close()


def test_plain_http_is_sent_to_https(proxied: tuple[str, str, ssl.SSLContext, dict[str, str]]) -> None:
    _https, http, _trust, _tokens = proxied
    answer = httpx.get(f"{http}/login", headers={"Host": HOST})
    assert answer.status_code == 301 and answer.headers["location"] == f"https://{HOST}/login"


def test_sign_in_through_the_proxy(proxied: tuple[str, str, ssl.SSLContext, dict[str, str]]) -> None:
    https, _http, trust, _tokens = proxied
    with httpx.Client(base_url=https, verify=trust, headers={"Host": HOST}) as client:
        page = client.get("/login")
        assert page.status_code == 200 and 'id="https-needed"' not in page.text  # serve saw the client's https
        assert page.headers["strict-transport-security"].startswith("max-age=")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        signed = client.post("/login", data={"username": "screener", "password": PASSWORD}, headers={"Sec-Fetch-Site": "same-origin"})
        assert signed.status_code == 303 and signed.headers["set-cookie"].startswith("__Host-dossier_rules_session=")
        assert client.get("/screenings/new").status_code == 200
        foreign = client.post("/login", data={"username": "screener", "password": PASSWORD}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403


def test_the_batch_answer_streams_through_and_metrics_stay_inside(proxied: tuple[str, str, ssl.SSLContext, dict[str, str]]) -> None:
    https, _http, trust, tokens = proxied
    body = b"".join(SAMPLE.replace(b"\n", b"") + b"\n" for _ in range(5))
    headers = {"Host": HOST, "Authorization": f"Bearer {tokens['screener']}", "content-type": "application/x-ndjson"}
    with httpx.Client(base_url=https, verify=trust) as client:
        lines = client.post("/api/v1/screenings/batch", content=body, headers=headers).text.splitlines()
        assert len(lines) == 5 and all('"findings"' in line for line in lines)
        assert client.get("/metrics", headers={"Host": HOST}).status_code == 404
