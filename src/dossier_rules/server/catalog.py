"""What the service screens with, as JSON: packs, rules (the ``explain`` view), coverage, registries.

Built from the loaded :class:`~dossier_rules.packs.PackSet` and registries
the engine holds, so it always describes exactly what the service applies.
File locations are given relative to the pack directory, never as server paths.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ..conditions import outline
from ..coverage import rows
from ..engine import Engine
from ..packs import CompiledRule, PackSet


def _relative(path: Path | str, root: Path | None) -> str:
    path = Path(path)
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return path.name


def packs(engine: Engine, root: Path | None) -> list[dict[str, Any]]:
    packset = engine.packset
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
        "tests": [{"name": t.name, "expect": t.expect, "count": t.count, "as_of": t.as_of} for t in spec.tests],
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


def registries(engine: Engine, today: date) -> list[dict[str, Any]]:
    """Each loaded registry, how old it is today, whether it is stale for the engine, and whether it is sample data."""
    out = []
    for loaded in engine.registries:
        reg = loaded.registry
        age = (today - reg.retrieved_on).days
        out.append(
            {
                "country": reg.country,
                "kind": reg.kind,
                "entries": loaded.count,
                "retrieved_on": reg.retrieved_on.isoformat(),
                "age_days": age,
                "stale": engine.max_registry_age is not None and age > engine.max_registry_age,
                "sample": reg.sample,
                "source": reg.source,
                "sha256": loaded.sha256,
            }
        )
    return out
