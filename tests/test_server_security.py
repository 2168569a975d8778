"""The service against a hostile or unlucky world: headers, cross-site posts, the session cookie's name, plain HTTP,
request deadlines, screenings per user, a busy or full database, readiness, metrics, and how `serve` starts."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import sqlite3
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from dossier_rules.cli import main
from dossier_rules.cli.serve import exposure_warning, start_metrics_server, tls_problem, uvicorn_options
from dossier_rules.locale import translate
from dossier_rules.server import app as app_module
from dossier_rules.server.auth import PLAIN_SESSION_COOKIE, SESSION_COOKIE
from dossier_rules.sharing import markdown_text
from dossier_rules.storage.database import temporary
from dossier_rules.web import router

from .deploy_support import free_port, running, self_signed
from .server_support import PASSWORD, ROOT, Service, make_service

SAMPLE = (ROOT / "samples" / "kh-candidate-revoked-agency.json").read_bytes()
JSON = {"content-type": "application/json"}
HTTPS_NEEDED = (
    "This service must be opened over HTTPS. Your browser keeps the sign-in cookie only on an encrypted connection, so signing in over plain HTTP cannot work."
)
TEMPLATES = ROOT / "src" / "dossier_rules" / "web" / "templates"


def make_site(tmp_path: Path, **settings: Any) -> Service:
    """The service with its pages, as ``serve`` mounts them."""
    site = make_service(tmp_path, **settings)
    site.app.include_router(router)
    return site


@pytest.fixture()
def service(tmp_path: Path) -> Service:
    return make_site(tmp_path)


def csp(response: httpx.Response) -> dict[str, str]:
    pairs = (part.strip().partition(" ") for part in response.headers["content-security-policy"].split(";"))
    return {name: value for name, _space, value in pairs}


# --------------------------------------------------------------------------- headers


def test_every_answer_carries_the_security_headers(service: Service) -> None:
    screened = service.client.post("/api/v1/screenings", content=SAMPLE, headers={**service.as_("admin"), **JSON}).json()
    answers = [
        service.client.get("/login"),
        service.client.get(f"/api/v1/screenings/{screened['screening_id']}", headers=service.as_("admin")),
        service.client.get("/api/v1/me"),  # an error record
        service.client.get("/static/style.css"),
    ]
    for response in answers:
        policy = csp(response)
        assert policy["script-src"] == "'self'" and "unsafe" not in response.headers["content-security-policy"]
        assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["strict-transport-security"].startswith("max-age=")
    login, stored, refused, static = answers
    assert login.headers["cache-control"] == stored.headers["cache-control"] == refused.headers["cache-control"] == "no-store"
    assert static.headers["cache-control"] == "max-age=3600"


def test_the_one_inline_style_allowed_is_the_notice_documents(service: Service) -> None:
    sid = service.client.post("/api/v1/screenings", content=SAMPLE, headers={**service.as_("admin"), **JSON}).json()["screening_id"]
    nid = service.client.post("/api/v1/notices/build", json={"screening_ids": [sid]}, headers=service.as_("reviewer")).json()["created"][0]
    document = service.client.get(f"/api/v1/notices/{nid}/preview", params={"format": "html"}, headers=service.as_("reviewer"))
    styles = re.findall(r"<style>(.*?)</style>", document.text, re.S)
    assert styles
    allowed = csp(document)["style-src"].split()
    for css in styles:
        assert f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'" in allowed
    assert len(allowed) == 1 + len(styles)


def test_the_page_templates_have_no_inline_script_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert not re.search(r"\sstyle\s*=|javascript:", text), template.name


def test_the_print_button_works_without_inline_script(service: Service) -> None:
    script = service.client.get("/static/print.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "window.print()" in script.text and "[data-print]" in script.text
    assert "data-print" in (TEMPLATES / "result.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- sign-in


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "https://evil.example"}, {"Origin": "null"}],
    ids=["cross-site", "same-site", "other-origin", "opaque-origin"],
)
def test_sign_in_from_another_site_is_refused_before_the_password_is_checked(service: Service, headers: dict[str, str]) -> None:
    form = {"username": "screener", "password": PASSWORD, "next": "/history"}
    page = service.client.post("/login", data=form, headers=headers, follow_redirects=False)
    api = service.client.post("/api/v1/session", json={"username": "screener", "password": PASSWORD}, headers=headers)
    for response in (page, api):
        assert response.status_code == 403
        assert response.json()["errors"][0]["kind"] == "forbidden" and "another site" in response.json()["errors"][0]["message"]
        assert "set-cookie" not in response.headers


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": "https://testserver"}], ids=["script", "same-origin", "own-origin"])
def test_sign_in_from_this_site_sets_a_host_only_cookie(service: Service, headers: dict[str, str]) -> None:
    response = service.client.post("/login", data={"username": "screener", "password": PASSWORD, "next": "/history"}, headers=headers, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and SESSION_COOKIE.startswith("__Host-")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
    assert "Path=/" in cookie or "path=/" in cookie
    assert service.client.get("/history").status_code == 200


def test_plain_http_cookies_lose_the_prefix_only_when_secure_cookies_are_off(tmp_path: Path) -> None:
    service = make_site(tmp_path, secure_cookies=False)
    client = TestClient(service.app, base_url="http://testserver")
    response = client.post("/login", data={"username": "screener", "password": PASSWORD}, follow_redirects=False)
    assert response.headers["set-cookie"].startswith(f"{PLAIN_SESSION_COOKIE}=") and "secure" not in response.headers["set-cookie"].lower()
    assert client.get("/history").status_code == 200


@pytest.mark.parametrize(
    ("base_url", "lang", "warned"),
    [
        ("http://screening.example", "en", True),
        ("http://screening.example", "ja", True),
        ("http://192.0.2.10:8000", "en", True),
        ("https://screening.example", "en", False),
        ("http://localhost:8000", "en", False),
        ("http://127.0.0.1:8000", "ja", False),
        ("http://[::1]:8000", "en", False),
    ],
)
def test_the_sign_in_page_says_when_the_cookie_cannot_be_kept(service: Service, base_url: str, lang: str, warned: bool) -> None:
    client = TestClient(service.app, base_url=base_url, cookies={"dossier_rules_lang": lang})
    page = client.get("/login").text
    assert ('id="https-needed"' in page) is warned
    assert (translate(HTTPS_NEEDED, lang) in page) is warned
    if warned:
        host = base_url.split("//")[1].split(":")[0]
        assert f"https://{host}/login" in page


def test_no_https_warning_when_secure_cookies_are_off(tmp_path: Path) -> None:
    service = make_site(tmp_path, secure_cookies=False)
    assert 'id="https-needed"' not in TestClient(service.app, base_url="http://screening.example").get("/login").text


# --------------------------------------------------------------------------- deadline and the per-user cap


def test_a_request_past_its_deadline_is_answered_503_and_the_service_goes_on(tmp_path: Path) -> None:
    service = make_site(tmp_path, request_deadline_seconds=0.2)
    release = threading.Event()
    slow = APIRouter()

    @slow.get("/test/slow")
    def wait_for_release() -> dict[str, bool]:
        return {"released": release.wait(timeout=30)}

    @slow.get("/test/quick")
    def quick() -> dict[str, bool]:
        return {"quick": True}

    service.app.include_router(slow)
    with TestClient(service.app, base_url="https://testserver") as client:
        late = client.get("/test/slow")
        assert late.status_code == 503 and late.headers["retry-after"] == "1"
        assert late.json()["errors"][0]["kind"] == "unavailable" and "0.2 seconds" in late.json()["errors"][0]["message"]
        assert client.get("/test/quick").json() == {"quick": True}
        in_japanese = client.get("/test/slow", headers={"Accept-Language": "ja,en;q=0.5"}).json()["errors"][0]["message"]
        assert in_japanese == translate("the request was not answered within {seconds} seconds; try again later", "ja").format(seconds="0.2")
        release.set()
        assert client.get("/healthz").json() == {"status": "ok"}


def test_a_user_may_run_only_so_many_screenings_at_once(tmp_path: Path) -> None:
    service = make_site(tmp_path, uploads_per_user=1)
    screenings = service.app.state.screenings
    entered, release = threading.Event(), threading.Event()
    original = screenings.screen

    def held_for_screener(raw: bytes, as_of: Any, actor: str) -> dict[str, Any]:
        if actor == "screener" and not release.is_set():
            entered.set()
            release.wait(timeout=30)
        return original(raw, as_of, actor)

    screenings.screen = held_for_screener
    answers: list[int] = []
    with TestClient(service.app, base_url="https://testserver") as client:

        def post(who: str) -> int:
            return client.post("/api/v1/screenings", content=SAMPLE, headers={**service.as_(who), **JSON}).status_code

        first = threading.Thread(target=lambda: answers.append(post("screener")))
        first.start()
        assert entered.wait(timeout=30)
        second = client.post("/api/v1/screenings", content=SAMPLE, headers={**service.as_("screener"), **JSON})
        assert second.status_code == 429 and second.headers["retry-after"] == "1"
        assert second.json()["errors"][0]["kind"] == "rate_limited"
        assert post("reviewer") == 201  # another user is not held up
        release.set()
        first.join(timeout=30)
        assert answers == [201]
        assert post("screener") == 201  # the slot is free again


# --------------------------------------------------------------------------- a busy or full database


@pytest.fixture()
def quick_sqlite(service: Service) -> Iterator[list[str]]:
    """Connections of the service wait 50 ms for a lock (not 60 s) and run any extra PRAGMAs listed."""
    engine = service.app.state.db.engine
    pragmas: list[str] = []

    def connect(dbapi_connection: Any, record: Any) -> None:
        for pragma in ["PRAGMA busy_timeout=50", *pragmas]:
            dbapi_connection.execute(pragma)

    event.listen(engine, "connect", connect)
    engine.dispose()  # new connections from now on, each set up as above
    yield pragmas
    event.remove(engine, "connect", connect)
    engine.dispose()


def test_a_write_lock_held_elsewhere_gives_503_with_retry_after(service: Service, quick_sqlite: list[str]) -> None:
    holder = sqlite3.connect(service.app.state.db.location, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = service.client.post("/api/v1/screenings", content=SAMPLE, headers={**service.as_("screener"), **JSON})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503 and response.headers["retry-after"] == "5", response.text
    assert set(response.json()) == {"source", "outcome", "errors", "code", "params"} and response.json()["errors"][0]["kind"] == "unavailable"
    assert service.client.post("/api/v1/screenings", content=SAMPLE, headers={**service.as_("screener"), **JSON}).status_code == 201


def test_a_full_disk_gives_503_and_nothing_is_stored(service: Service, quick_sqlite: list[str]) -> None:
    path = service.app.state.db.location
    pages = sqlite3.connect(path).execute("PRAGMA page_count").fetchone()[0]
    quick_sqlite.append(f"PRAGMA max_page_count={pages}")
    service.app.state.db.engine.dispose()
    before = sqlite3.connect(path).execute("SELECT count(*) FROM log").fetchone()[0]
    response = service.client.post("/api/v1/screenings", content=SAMPLE, headers={**service.as_("screener"), **JSON})
    assert response.status_code == 503, response.text
    assert "disk" in response.json()["errors"][0]["message"]
    quick_sqlite.clear()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM log").fetchone()[0] == before


def test_other_database_errors_are_not_called_temporary() -> None:
    def driver(message: str) -> Exception:
        return sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))

    assert temporary(driver("database is locked"))
    assert temporary(driver("database or disk is full"))
    assert temporary(RuntimeError("wrapped")) is False
    assert not temporary(driver("no such table: screenings"))


def test_readiness_needs_a_database_that_can_be_written(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    assert service.client.get("/readyz").status_code == 200
    monkeypatch.setattr(app_module, "READY_LOCK_WAIT_SECONDS", 0.05)
    holder = sqlite3.connect(service.app.state.db.location, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        locked = service.client.get("/readyz")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert locked.status_code == 503 and "locked" in locked.json()["problem"]
    assert service.client.get("/healthz").status_code == 200
    monkeypatch.setattr(shutil, "disk_usage", lambda path: type("usage", (), {"free": 1024})())
    full = service.client.get("/readyz")
    assert full.status_code == 503 and "free" in full.json()["problem"]


def test_readiness_fails_when_the_database_file_is_gone(service: Service) -> None:
    path = service.app.state.db.location
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert service.client.get("/readyz").status_code == 503


# --------------------------------------------------------------------------- metrics


def test_metrics_need_their_token(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    closed = make_site(tmp_path / "a")
    assert closed.client.get("/metrics").status_code == 404
    assert closed.client.get("/metrics", headers=closed.as_("admin")).status_code == 404
    service = make_site(tmp_path / "b", metrics_token="metrics-secret")
    assert service.client.get("/metrics").status_code == 401
    assert service.client.get("/metrics", headers=service.as_("admin")).status_code == 401
    assert service.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    shown = service.client.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})
    assert shown.status_code == 200 and "dossier_rules_http_requests" in shown.text


def test_metrics_on_an_address_of_their_own(service: Service) -> None:
    port = free_port()
    server = start_metrics_server(service.app, "127.0.0.1", port)
    try:
        service.client.get("/healthz")
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'route="/healthz"' in text
        with pytest.raises(SystemExit) as taken:
            start_metrics_server(service.app, "127.0.0.1", port)  # the port is in use: one line, exit 2
        assert taken.value.code == 2
    finally:
        server.shutdown()
        server.server_close()
    assert service.client.get("/metrics").status_code == 404  # and not on the service's own address


# --------------------------------------------------------------------------- Markdown exports


@pytest.mark.parametrize("text", ["see https://evil.example/x now", "www.evil.example", "mail a.b@evil.example", "ftp://files.example"])
def test_markdown_text_cannot_become_an_autolink(text: str) -> None:
    escaped = markdown_text(text)
    assert not re.search(r"(https?|ftp)://|www\.|[\w.+-]+@[\w-]+\.", escaped), escaped
    rendered = MarkdownIt("commonmark").render(escaped)
    assert "<a" not in rendered and rendered == f"<p>{text}</p>\n"


# --------------------------------------------------------------------------- serve


def test_serve_warns_only_when_exposed_in_plain_http() -> None:
    assert exposure_warning("0.0.0.0", tls=False, forwarded_allow_ips=None)
    assert exposure_warning("192.0.2.10", tls=False, forwarded_allow_ips="")
    assert exposure_warning("screening.example", tls=False, forwarded_allow_ips=None)
    for quiet in (("127.0.0.1", False, None), ("::1", False, None), ("localhost", False, None), ("0.0.0.0", True, None), ("0.0.0.0", False, "10.0.0.5")):
        assert exposure_warning(*quiet) is None, quiet


def test_proxy_headers_are_off_unless_configured() -> None:
    plain = uvicorn_options("127.0.0.1", 8000, None, None, None)
    assert plain["proxy_headers"] is False and "ssl_certfile" not in plain
    proxied = uvicorn_options("127.0.0.1", 8000, None, None, "10.0.0.5")
    assert proxied["proxy_headers"] is True and proxied["forwarded_allow_ips"] == "10.0.0.5"


def test_tls_files_are_checked_before_starting(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    assert tls_problem(None, None) is None and tls_problem(cert, key) is None
    assert tls_problem(cert, None) is not None
    assert tls_problem(cert, cert) is not None  # a certificate is not a key


def add_probe(app: Any) -> None:
    probe = APIRouter()

    @probe.get("/test/client")
    def client_seen(request: Request) -> dict[str, str]:
        return {"client": request.client.host if request.client else "", "scheme": request.url.scheme}

    app.include_router(probe)


@pytest.mark.parametrize(("allowed", "seen"), [(None, ("127.0.0.1", "http")), ("127.0.0.1", ("203.0.113.9", "https"))])
def test_forwarded_headers_count_only_from_a_configured_proxy(tmp_path: Path, allowed: str | None, seen: tuple[str, str]) -> None:
    service = make_site(tmp_path)
    add_probe(service.app)
    port = free_port()
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "Host": "screening.example"}
    with running(service.app, **uvicorn_options("127.0.0.1", port, None, None, allowed)):
        answer = httpx.get(f"http://127.0.0.1:{port}/test/client", headers=forged).json()
        login = httpx.get(f"http://127.0.0.1:{port}/login", headers=forged).text
    assert (answer["client"], answer["scheme"]) == seen
    assert ('id="https-needed"' in login) is (seen[1] == "http")


def test_serve_terminates_tls_itself(tmp_path: Path) -> None:
    service = make_site(tmp_path)
    cert, key = self_signed(tmp_path)
    port = free_port()
    trust = ssl.create_default_context(cafile=str(cert))
    with (
        running(service.app, **uvicorn_options("127.0.0.1", port, cert, key, None)),
        httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trust) as client,
    ):
        page = client.get("/login")
        signed = client.post("/login", data={"username": "screener", "password": PASSWORD}, headers={"Sec-Fetch-Site": "same-origin"}, follow_redirects=True)
    assert page.status_code == 200 and 'id="https-needed"' not in page.text
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert signed.status_code == 200 and signed.url.path == "/screenings/new"


def test_serve_refuses_a_corrupt_database_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "broken.sqlite"
    db.write_bytes(b"this is not an SQLite file " * 200)
    result = CliRunner().invoke(main, ["serve", "--db", str(db)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and str(db) in lines[0], result.stderr


def test_serve_takes_its_settings_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    env = {
        "DOSSIER_RULES_DB": str(tmp_path / "env.sqlite"),
        "DOSSIER_RULES_HOST": "0.0.0.0",
        "DOSSIER_RULES_PORT": "8443",
        "DOSSIER_RULES_FORWARDED_ALLOW_IPS": "10.0.0.5",
        "DOSSIER_RULES_REQUEST_DEADLINE": "7.5",
        "DOSSIER_RULES_UPLOADS_PER_USER": "2",
        "DOSSIER_RULES_METRICS_TOKEN": "from-env",
        "DOSSIER_RULES_NAMES_VISIBLE_TO": "admin",
        "DOSSIER_RULES_PACKS": str(ROOT / "rules"),
    }
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    settings = started["app"].state.settings
    assert (started["host"], started["port"], started["proxy_headers"], started["forwarded_allow_ips"]) == ("0.0.0.0", 8443, True, "10.0.0.5")
    assert (settings.request_deadline_seconds, settings.uploads_per_user, settings.metrics_token) == (7.5, 2, "from-env")
    assert settings.names_visible_to == frozenset({"admin"}) and settings.db == tmp_path / "env.sqlite"
    assert "warning" not in result.stderr  # a proxy is configured
    exposed = CliRunner().invoke(main, ["serve", "--port", "8001"], env={**env, "DOSSIER_RULES_FORWARDED_ALLOW_IPS": ""})
    assert exposed.exit_code == 0 and started["port"] == 8001 and started["proxy_headers"] is False
    assert "--tls-cert" in exposed.stderr and "0.0.0.0" in exposed.stderr
