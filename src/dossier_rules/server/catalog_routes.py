"""API routes describing what the service screens with: packs, rules, coverage, registries.

Adapters over :mod:`dossier_rules.services.catalog`; file locations are given
relative to the pack and registries directories, never as server paths.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request

from ..services import catalog
from ..services.workspace import Workspace
from .auth import Principal, require, settings_of
from .contract import PackCoverage, PackInfo, RegistryInfo, RuleExplained, refusals

router = APIRouter(prefix="/api/v1", tags=["packs and registries"])
READ = refusals(401, 403)


@router.get("/packs", response_model=list[PackInfo], responses=READ)
def list_packs(request: Request, who: Principal = Depends(require("screener"))) -> list[dict[str, Any]]:
    """The packs loaded: version, country, what they extend, their hash, the MOC's period in force."""
    return catalog.packs(request.app.state.engine.packset, settings_of(request).packs_dir)


@router.get("/rules/{rule_id}", response_model=RuleExplained, responses=refusals(401, 403, 404))
def explain_rule(rule_id: str, request: Request, who: Principal = Depends(require("screener"))) -> dict[str, Any]:
    """One rule, as `dossier-rules explain` shows it: articles per pack, condition, evidence, messages, tests."""
    packset = request.app.state.engine.packset
    return catalog.explain(packset, catalog.find_rule(packset, rule_id), settings_of(request).packs_dir)


@router.get("/rules", responses=READ)
def list_rules(request: Request, who: Principal = Depends(require("screener"))) -> list[str]:
    """Every rule id (explain one with /rules/{rule_id})."""
    return catalog.rule_ids(request.app.state.engine.packset)


@router.get("/coverage", response_model=list[PackCoverage], responses=READ)
def coverage(request: Request, who: Principal = Depends(require("screener"))) -> list[dict[str, Any]]:
    """The provision matrix: each MOC article and the rules that encode it, or why none can."""
    return catalog.coverage(request.app.state.engine.packset)


@router.get("/registries", response_model=list[RegistryInfo], responses=READ)
def list_registries(request: Request, who: Principal = Depends(require("screener"))) -> list[dict[str, Any]]:
    """The registries loaded, their age today, and whether they are sample data."""
    return catalog.registries(request.app.state.engine, date.today(), workspace_of(request).registries_dir)


def workspace_of(request: Request) -> Workspace:
    """The service's packs, registries directory and database, as its settings give them."""
    settings = settings_of(request)
    return Workspace.of(settings.packs_dir, settings.registries_dir, settings.db, settings.max_registry_age)
