"""What is screened with, as data: packs, rules (the ``explain`` view), coverage, registries.

Built from a loaded :class:`~dossier_rules.packs.PackSet` and registries, so
it describes exactly what an engine applies. The command line renders these
as tables and text, the API returns them as JSON, the pages as HTML. File
locations are given relative to ``root`` (the API and the pages pass the pack
directory, so no server path leaves the host); without a root, as given.
"""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import Any

from ..conditions import outline
from ..coverage import rows
from ..engine import Engine
from ..errors import DossierError
from ..packs import CompiledRule, PackSet
from ..registries import Registries


def _relative(path: Path | str, root: Path | None) -> str:
    """``path`` below ``root``; its name alone when outside it; as given without a root (the command line's own files)."""
    path = Path(path)
    if root is None:
        return str(path)
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return path.name


def packs(packset: PackSet, root: Path | None) -> list[dict[str, Any]]:
    """Each pack: version, country, what it extends, its rules, its file and hash, the MOC's period in force."""
    out = []
    for source in packset.sources.values():
        meta = source.spec.pack
        pack = packset.packs.get(source.id)
        period = meta.moc.in_force if meta.moc else None
        out.append(
            {
                "id": meta.id,
                "version": meta.version,
                "country": meta.country,
                "abstract": meta.abstract,
                "extends": meta.extends,
                "title": meta.title.model_dump(),
                "rules": len(pack.rules) if pack else len(source.rules),
                "file": _relative(source.path, root),
                "sha256": source.sha256,
                "in_force": {"starts_on": period.starts_on, "ends_on": period.ends_on, "article": period.article} if period else None,
            }
        )
    return out


def rule_ids(packset: PackSet) -> list[str]:
    return sorted(r.id for s in packset.sources.values() for r in s.rules)


def find_rule(packset: PackSet, rule_id: str) -> CompiledRule:
    """The rule, or ``rule.not_found`` (``rule.not_found_close`` with up to three close ids)."""
    rule = packset.rule(rule_id)
    if rule is None:
        close = difflib.get_close_matches(rule_id, rule_ids(packset), n=3)
        if close:
            raise DossierError("rule.not_found_close", rule_id=rule_id, close=close)
        raise DossierError("rule.not_found", rule_id=rule_id)
    return rule


def explain(packset: PackSet, rule: CompiledRule, root: Path | None) -> dict[str, Any]:
    """A rule: where it is defined, what it cites under each pack, its condition in readable form, its tests."""
    spec = rule.spec
    return {
        "id": spec.id,
        "title": spec.title.model_dump(),
        "pack": rule.pack_id,
        "defined_in": {"file": _relative(rule.source, root), "line": rule.line},
        "cites": [{"pack": p.id, "article": r.article, "also": list(r.also)} for p in packset.packs.values() for r in p.rules if r.rule is rule],
        "applies_to": spec.applies_to,
        "severity": spec.severity,
        "share": spec.share.act if spec.share else None,
        "for_each": {"in": spec.for_each.in_, "as": spec.for_each.as_} if spec.for_each else None,
        "condition": [line.strip("\n") for line in outline(rule.condition, 0)],
        "evidence": list(spec.evidence),
        "registries": sorted(rule.registries),
        "message": spec.message.model_dump(),
        "tests": [
            {"name": t.name, "expect": t.expect, "count": t.count, "as_of": t.as_of, "line": line} for t, line in zip(spec.tests, rule.test_lines, strict=True)
        ],
    }


def coverage(packset: PackSet) -> list[dict[str, Any]]:
    """The provision matrix (``docs/coverage.md``) as data: each pack's articles and the rules citing them."""
    return [
        {
            "pack": pack.id,
            "country": pack.country,
            "articles": [
                {
                    "article": row.article,
                    "title": row.entry.title.model_dump(),
                    "rules": list(row.rules),
                    "not_checkable": row.entry.not_checkable.model_dump() if row.entry.not_checkable else None,
                    "note": row.entry.note.model_dump() if row.entry.note else None,
                    "unencoded": row.unencoded,
                }
                for row in rows(pack)
            ],
        }
        for pack in packset.packs.values()
    ]


def registries(engine: Engine, today: date, root: Path | None) -> list[dict[str, Any]]:
    """Each registry the engine holds, how old it is today, whether it is stale for the engine, and whether it is sample data."""
    return registry_rows(engine.registries, engine.max_registry_age, today, root)


def registry_rows(loaded_set: Registries, max_age: int | None, today: date, root: Path | None) -> list[dict[str, Any]]:
    """Each loaded registry, its age on ``today``, whether it is older than ``max_age`` days, its file relative to ``root``."""
    out = []
    for loaded in loaded_set:
        reg = loaded.registry
        age = (today - reg.retrieved_on).days
        out.append(
            {
                "country": reg.country,
                "kind": reg.kind,
                "entries": loaded.count,
                "retrieved_on": reg.retrieved_on.isoformat(),
                "age_days": age,
                "stale": max_age is not None and age > max_age,
                "sample": reg.sample,
                "source": reg.source,
                "file": _relative(loaded.path, root),
                "sha256": loaded.sha256,
            }
        )
    return out
