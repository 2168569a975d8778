"""JSON Schemas of dossiers, packs and reports, generated from the pydantic models and the packs present.

The models are the source of truth for the shape of a dossier; the packs
are the source of truth for which countries can be screened and for the
fields a country's MOC adds (``country_fields``). The dossier schemas are
therefore generated *for a pack set*: ``country`` lists the countries of
its packs, and ``country_fields`` allows, per country, exactly the fields
that country's pack declares. ``schemas/`` holds the files generated for
the shipped packs; ``dossier-rules schemas write`` regenerates them (pass
``--packs`` for another pack directory) and a test fails when the
checked-in copies drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .model import DOSSIER_ADAPTER, BrokerDossier, CandidateDossier
from .packs import PackFile, PackSet, country_fields_schema
from .registries import Registry
from .report import Checkpoint, ErrorRecord, Report, RunHeader
from .sharing import Notice

_BASE = "https://dossier-rules.invalid/schemas/"


def generate(packset: PackSet) -> dict[str, dict[str, Any]]:
    """File name -> schema, for every schema the project publishes, with dossiers for the packs of ``packset``."""
    dossier = DOSSIER_ADAPTER.json_schema()
    for kind, name in (("candidate", "CandidateDossier"), ("broker", "BrokerDossier")):
        _for_packs(dossier["$defs"][name], kind, packset)
    schemas: dict[str, dict[str, Any]] = {
        "dossier.schema.json": dossier,
        "candidate.schema.json": _for_packs(CandidateDossier.model_json_schema(), "candidate", packset),
        "broker.schema.json": _for_packs(BrokerDossier.model_json_schema(), "broker", packset),
        "pack.schema.json": PackFile.model_json_schema(),
        "registry.schema.json": Registry.model_json_schema(),
        "report.schema.json": Report.model_json_schema(),
        "error-record.schema.json": ErrorRecord.model_json_schema(),
        "run-header.schema.json": RunHeader.model_json_schema(),
        "checkpoint.schema.json": Checkpoint.model_json_schema(),
        "notice.schema.json": Notice.model_json_schema(),
    }
    for name, schema in schemas.items():
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = _BASE + name
    return schemas


def _for_packs(schema: dict[str, Any], kind: str, packset: PackSet) -> dict[str, Any]:
    """Restrict one dossier object schema to the countries of the packs, and each country's own fields."""
    packs = sorted(packset.packs.values(), key=lambda p: p.country)
    schema["properties"]["country"]["enum"] = [pack.country for pack in packs]
    schema["allOf"] = [
        {
            "if": {"properties": {"country": {"const": pack.country}}, "required": ["country"]},
            "then": {"properties": {"country_fields": country_fields_schema(pack.meta, kind)}},
        }
        for pack in packs
    ]
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write(directory: Path, packset: PackSet) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate(packset).items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path, packset: PackSet) -> list[str]:
    """Names of schema files that are missing or differ from what the models and packs generate."""
    out = []
    for name, schema in generate(packset).items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != render(schema):
            out.append(name)
    return out
