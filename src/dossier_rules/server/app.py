"""The application factory: one FastAPI app holding the engine, the accounts and the screening log."""

from __future__ import annotations

import hmac
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import Scope

from .. import __version__
from ..engine import Engine
from ..locale import N_
from ..packs import load_packs
from ..registries import load_registries
from . import errors
from .account_routes import router as account_router
from .accounts import Accounts
from .admin_routes import router as admin_router
from .auth import identify
from .catalog_routes import router as catalog_router
from .db import Database
from .headers import SecurityHeaders, localized_refusal
from .limits import BodyLimit, Deadline, UploadCap
from .metrics import Metrics, RequestMetrics
from .notice_routes import router as notice_router
from .screening_routes import router as screening_router
from .screenings import Screenings
from .settings import Settings

BATCH_PATH = "/api/v1/screenings/batch"
UPLOAD_PATHS = frozenset({"/api/v1/screenings", BATCH_PATH, "/screenings/upload"})
"""Requests that screen dossiers someone sent: counted against ``Settings.uploads_per_user``."""
READY_LOCK_WAIT_SECONDS = 2.0
"""How long ``/readyz`` waits for the database's write lock before calling the service not ready."""
READY_MIN_FREE_BYTES = 64 * 1024 * 1024
"""Free space ``/readyz`` wants beside the database file: below it, writes are about to fail."""
RETRY_AFTER_SECONDS = 5
"""What a 503 for a busy or full database tells the client to wait."""
UNAVAILABLE_MARKS = ("database is locked", "database table is locked", "database or disk is full", "disk i/o error", "unable to open database file")
"""SQLite errors that mean "not now" (a lock held elsewhere, a full disk), not a fault of the request."""
UNAVAILABLE = N_("the database is busy or its disk is full; nothing was changed, try again later")
NO_METRICS = N_("metrics are not served on this address")
METRICS_TOKEN = N_("send the metrics token: Authorization: Bearer <token>")


class DatabaseUnusable(Exception):
    """The database cannot be the service's: not SQLite, damaged, or unreadable (the message says which)."""


ops = APIRouter(tags=["operations"])


@ops.get("/healthz")
def health() -> dict[str, str]:
    """The process answers (liveness)."""
    return {"status": "ok"}


@ops.get("/readyz", responses={503: {}})
def readiness(request: Request) -> JSONResponse:
    """Packs are loaded, and the database opens and can be written (readiness)."""
    state = request.app.state
    problem = None if state.engine.packset.packs else "no packs loaded"
    problem = problem or database_problem(state.db.path)
    body: dict[str, Any] = {"status": "not ready" if problem else "ready", "packs": sorted(state.engine.packset.packs)}
    if problem:
        body["problem"] = problem
    return JSONResponse(body, status_code=503 if problem else 200)


def database_problem(path: Path) -> str | None:
    """Why the SQLite file could not take a write now (None: it could), without writing anything.

    A connection of its own, so a lock held elsewhere costs ``READY_LOCK_WAIT_SECONDS``
    at most, not the service's long busy timeout.
    """
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=READY_LOCK_WAIT_SECONDS)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"database: {exc}"
    if shutil.disk_usage(path.parent).free < READY_MIN_FREE_BYTES:
        return f"database: less than {READY_MIN_FREE_BYTES // (1024 * 1024)} MiB free on its disk"
    return None


@ops.get("/metrics", response_class=Response, responses={401: {}, 404: {}})
def metrics(request: Request) -> Response:
    """Prometheus exposition: requests, latency, screenings by outcome. Needs the metrics token."""
    expected = request.app.state.settings.metrics_token
    if not expected:
        return localized_refusal(request.scope, 404, "not_found", NO_METRICS)
    scheme, _space, sent = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), expected.encode()):
        refused = localized_refusal(request.scope, 401, "unauthenticated", METRICS_TOKEN)
        refused.headers["WWW-Authenticate"] = "Bearer"
        return refused
    body, content_type = request.app.state.metrics.exposition()
    return Response(body, media_type=content_type)


def unavailable(exc: BaseException) -> bool:
    """Whether a database error means "busy or out of space, try again", from its message or its cause's.

    Causes are followed (``__cause__``, SQLAlchemy's ``orig``, and the error being
    handled when this one was raised) so an error re-raised by a storage layer is
    judged by the SQLite error underneath: after a full disk SQLite has already
    rolled back, and the storage's own ROLLBACK fails with "no transaction is active".
    """
    seen: BaseException | None = exc
    for _depth in range(8):  # chains are short; the bound only guards against a cycle
        if seen is None:
            return False
        if isinstance(seen, sqlite3.OperationalError) and any(mark in str(seen).lower() for mark in UNAVAILABLE_MARKS):
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None) or seen.__context__
    return False


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A held lock or a full disk: 503 with ``Retry-After`` and the error record, never a 500 page."""
    if not unavailable(exc):
        raise exc
    return localized_refusal(request.scope, 503, "unavailable", UNAVAILABLE, retry_after=RETRY_AFTER_SECONDS)


def open_database(path: Path) -> Database:
    """The service's database, or :class:`DatabaseUnusable` saying why it cannot be (``serve`` prints it in one line)."""
    try:
        return Database(path)
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnusable(str(exc)) from exc


def load_engine(settings: Settings) -> Engine:
    """The same engine the CLI builds: packs, registries, the staleness limit (native backend)."""
    if settings.packs_dir is None:
        from ..cli.common import default_packs_dir

        settings.packs_dir = default_packs_dir()
    packset = load_packs(settings.packs_dir)
    registries = load_registries(settings.registries_dir or settings.packs_dir / "registries")
    return Engine(packset, registries, max_registry_age=settings.max_registry_age)


def create_app(settings: Settings | None = None, extra_routers: tuple[Any, ...] = (), engine: Engine | None = None) -> FastAPI:
    """The service. Raises ``InputError`` when the packs or registries cannot be loaded.

    ``extra_routers`` are mounted after the API's own routes (the web pages do this);
    ``engine`` replaces the one built from the settings' packs (tests share one).
    """
    settings = settings or Settings()
    app = FastAPI(
        title="dossier-rules",
        version=__version__,
        summary="Screen Specified Skilled Worker dossiers against the MOC rule packs; a tamper-evident screening log.",
        docs_url=None,  # interactive docs would load their scripts from a CDN: off; the document is at /openapi.json
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    db = open_database(settings.db)
    app.state.settings = settings
    app.state.db = db
    app.state.accounts = Accounts(db, settings.login_failures_per_account, settings.login_failures_per_address, settings.login_window_seconds)
    app.state.engine = engine or load_engine(settings)
    app.state.metrics = Metrics()
    app.state.screenings = Screenings(db, app.state.engine, app.state.metrics, settings.store_dossiers)
    errors.install(app)
    app.add_exception_handler(sqlite3.OperationalError, database_unavailable)
    app.include_router(ops)
    app.include_router(account_router)
    app.include_router(screening_router)
    app.include_router(catalog_router)
    app.include_router(notice_router)
    app.include_router(admin_router)
    for router in extra_routers:
        app.include_router(router)
    # the last added runs first: headers on every answer, then the body limit, metrics, the deadline, the cap
    app.add_middleware(UploadCap, limit=settings.uploads_per_user, paths=UPLOAD_PATHS, who=uploader)
    app.add_middleware(Deadline, seconds_for=lambda path: settings.batch_deadline_seconds if path == BATCH_PATH else settings.request_deadline_seconds)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(BodyLimit, limit_for=lambda path: settings.max_batch_bytes if path == BATCH_PATH else settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, secure_cookies=settings.secure_cookies)
    return app


def uploader(scope: Scope) -> str | None:
    """The user a screening request is from, for the per-user cap (None: no valid credentials)."""
    try:
        principal = identify(Request(scope))
    except sqlite3.OperationalError:  # a busy database: the route itself answers, with 503
        return None
    return principal.user.username if principal else None


def openapi_text(engine: Engine) -> str:
    """The OpenAPI document as checked into ``schemas/openapi.json`` (stable key order, trailing newline)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(db=Path(tmp) / "openapi.sqlite"), engine=engine)
        document = app.openapi()
        app.state.db.connection().close()
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
