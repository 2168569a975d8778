"""The application factory: one FastAPI app holding the engine, the accounts and the screening log."""

from __future__ import annotations

import hmac
import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import Scope

from .. import __version__
from ..engine import Engine
from ..locale import N_, _
from ..services.accounts import Accounts
from ..services.screening_store import Screenings
from ..services.workspace import Workspace
from ..storage import Database, StorageError
from ..transparency import keyfile
from . import errors, openapi
from .account_routes import router as account_router
from .admin_routes import router as admin_router
from .auth import identify
from .catalog_routes import router as catalog_router
from .contract import Health, Readiness
from .framework_routes import router as framework_router
from .headers import SecurityHeaders, localized_refusal
from .limits import BodyLimit, Deadline, UploadCap
from .log_routes import router as log_router
from .metrics import Metrics, RequestMetrics
from .notice_routes import router as notice_router
from .screening_routes import router as screening_router
from .settings import Settings, default_log_key

BATCH_PATH = "/api/v1/screenings/batch"
UPLOAD_PATHS = frozenset({"/api/v1/screenings", BATCH_PATH, "/screenings/upload"})
"""Requests that screen dossiers someone sent: counted against ``Settings.uploads_per_user``."""
READY_LOCK_WAIT_SECONDS = 2.0
"""How long ``/readyz`` waits for the database's write lock before calling the service not ready."""
READY_MIN_FREE_BYTES = 64 * 1024 * 1024
"""Free space ``/readyz`` wants beside the database file: below it, writes are about to fail."""
NO_METRICS = N_("metrics are not served on this address")
METRICS_TOKEN = N_("send the metrics token: Authorization: Bearer <token>")


ops = APIRouter(tags=["operations"])


@ops.get("/healthz", response_model=Health)
def health() -> dict[str, str]:
    """The process answers (liveness)."""
    return {"status": "ok"}


@ops.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}})
def readiness(request: Request) -> JSONResponse:
    """Packs are loaded, and the database opens and can be written (readiness)."""
    state = request.app.state
    problem = None if state.engine.packset.packs else "no packs loaded"
    problem = problem or state.db.write_problem(READY_LOCK_WAIT_SECONDS, READY_MIN_FREE_BYTES)
    body: dict[str, Any] = {"status": "not ready" if problem else "ready", "packs": sorted(state.engine.packset.packs)}
    if problem:
        body["problem"] = problem
    return JSONResponse(body, status_code=503 if problem else 200)


@ops.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"},
        401: {"description": "The metrics token is missing or wrong"},
        404: {"description": "Metrics are not served on this address"},
    },
)
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


def load_engine(settings: Settings) -> Engine:
    """The same engine the CLI builds: packs, registries, the staleness limit (native backend)."""
    workspace = Workspace.of(settings.packs_dir, settings.registries_dir, settings.db, settings.max_registry_age)
    settings.packs_dir = workspace.packs_dir
    return workspace.engine(workspace.packset(cached=False))


def create_app(settings: Settings | None = None, extra_routers: tuple[Any, ...] = (), engine: Engine | None = None) -> FastAPI:
    """The service. Raises ``InputError`` when the packs or registries cannot be loaded, ``KeyFileError`` when the log's key cannot, a ``StorageError`` when the database cannot be used.

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
    db = Database(settings.db, upgrade=settings.upgrade_db)
    app.state.settings = settings
    app.state.db = db
    app.state.accounts = Accounts(db, settings.login_failures_per_account, settings.login_failures_per_address, settings.login_window_seconds)
    app.state.engine = engine or load_engine(settings)
    app.state.metrics = Metrics()
    app.state.log_key, app.state.log_key_created = keyfile.load_or_create(_log_key_path(settings))
    app.state.screenings = Screenings(db, app.state.engine, app.state.metrics, settings.store_dossiers, app.state.log_key)
    errors.install(app)
    openapi.install(app)
    app.include_router(ops)
    app.include_router(account_router)
    app.include_router(screening_router)
    app.include_router(catalog_router)
    app.include_router(notice_router)
    app.include_router(framework_router)
    app.include_router(admin_router)
    app.include_router(log_router)
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
    except StorageError:  # a busy database: the route itself answers, with 503
        return None
    return principal.user.username if principal else None


def _log_key_path(settings: Settings) -> Path:
    path = settings.log_key or default_log_key(settings.db)
    if path is None:
        raise keyfile.KeyFileError(
            _("a PostgreSQL database needs the log's signing key named with --log-key or $DOSSIER_RULES_LOG_KEY: every process signs with that one key")
        )
    return path


def openapi_text(engine: Engine) -> str:
    """The OpenAPI document as checked into ``schemas/openapi.json`` (stable key order, trailing newline)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(db=Path(tmp) / "openapi.sqlite", log_key=Path(tmp) / "openapi.log-key"), engine=engine)
        document = app.openapi()
        app.state.db.close()
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
