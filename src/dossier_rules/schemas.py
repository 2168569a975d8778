"""JSON Schemas of dossiers, packs and reports, generated from the pydantic models.

The models are the source of truth; ``schemas/`` holds the generated files
for other tools (editors, case systems). ``dossier-rules schemas write``
regenerates them and a test fails when the checked-in copies drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .model import DOSSIER_ADAPTER, BrokerDossier, CandidateDossier
from .packs import PackFile
from .registries import Registry
from .sharing import Notice
from .report import Checkpoint, ErrorRecord, Report, RunHeader

_BASE = "https://dossier-rules.invalid/schemas/"


def generate() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every schema the project publishes."""
    schemas: dict[str, dict[str, Any]] = {
        "dossier.schema.json": DOSSIER_ADAPTER.json_schema(),
        "candidate.schema.json": CandidateDossier.model_json_schema(),
        "broker.schema.json": BrokerDossier.model_json_schema(),
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


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path) -> list[str]:
    """Names of schema files that are missing or differ from what the models generate."""
    out = []
    for name, schema in generate().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != render(schema):
            out.append(name)
    return out

