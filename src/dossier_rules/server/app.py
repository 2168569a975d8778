"""The application factory: one FastAPI app holding the engine, the accounts and the screening log."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from .. import __version__
from ..engine import Engine
from ..services.workspace import Workspace
from ..transparency import keyfile
from . import errors, openapi
from .account_routes import router as account_router
from .accounts import Accounts
from .admin_routes import router as admin_router
from .catalog_routes import router as catalog_router
from .contract import Health, Readiness
from .db import Database
from .limits import BodyLimit
from .log_routes import router as log_router
from .metrics import Metrics, RequestMetrics
from .notice_routes import router as notice_router
from .screening_routes import router as screening_router
from .screenings import Screenings
from .settings import Settings, default_log_key

BATCH_PATH = "/api/v1/screenings/batch"

ops = APIRouter(tags=["operations"])


@ops.get("/healthz", response_model=Health)
def health() -> dict[str, str]:
    """The process answers (liveness)."""
    return {"status": "ok"}


@ops.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}})
def readiness(request: Request) -> JSONResponse:
    """Packs are loaded and the database answers (readiness)."""
    state = request.app.state
    try:
        state.db.connection().execute("SELECT 1").fetchone()
        ok = bool(state.engine.packset.packs)
    except Exception:  # noqa: BLE001 - readiness reports any failure as "not ready", never as an error
        ok = False
    return JSONResponse({"status": "ready" if ok else "not ready", "packs": sorted(state.engine.packset.packs)}, status_code=200 if ok else 503)


@ops.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"}})
def metrics(request: Request) -> Response:
    """Prometheus exposition: requests, latency, screenings by outcome."""
    body, content_type = request.app.state.metrics.exposition()
    return Response(body, media_type=content_type)


def load_engine(settings: Settings) -> Engine:
    """The same engine the CLI builds: packs, registries, the staleness limit (native backend)."""
    workspace = Workspace.of(settings.packs_dir, settings.registries_dir, settings.db, settings.max_registry_age)
    settings.packs_dir = workspace.packs_dir
    return workspace.engine(workspace.packset(cached=False))


def create_app(settings: Settings | None = None, extra_routers: tuple[Any, ...] = (), engine: Engine | None = None) -> FastAPI:
    """The service. Raises ``InputError`` when the packs or registries cannot be loaded, ``KeyFileError`` when the log's key cannot.

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
    db = Database(settings.db)
    app.state.settings = settings
    app.state.db = db
    app.state.accounts = Accounts(db, settings.login_failures_per_account, settings.login_failures_per_address, settings.login_window_seconds)
    app.state.engine = engine or load_engine(settings)
    app.state.metrics = Metrics()
    app.state.log_key, app.state.log_key_created = keyfile.load_or_create(settings.log_key or default_log_key(settings.db))
    app.state.screenings = Screenings(db, app.state.engine, app.state.metrics, settings.store_dossiers)
    errors.install(app)
    openapi.install(app)
    app.include_router(ops)
    app.include_router(account_router)
    app.include_router(screening_router)
    app.include_router(catalog_router)
    app.include_router(notice_router)
    app.include_router(admin_router)
    app.include_router(log_router)
    for router in extra_routers:
        app.include_router(router)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(BodyLimit, limit_for=lambda path: settings.max_batch_bytes if path == BATCH_PATH else settings.max_body_bytes)
    return app


def openapi_text(engine: Engine) -> str:
    """The OpenAPI document as checked into ``schemas/openapi.json`` (stable key order, trailing newline)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(db=Path(tmp) / "openapi.sqlite", log_key=Path(tmp) / "openapi.log-key"), engine=engine)
        document = app.openapi()
        app.state.db.connection().close()
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
