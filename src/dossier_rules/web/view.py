"""What the Result page shows, worked out from a stored screening: verdict, warnings, findings, the unknown.

Templates only lay this out; every decision about what a person must see
(which banner, which group, what could not be checked) is made here, where
it can be tested without a browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..engine import Engine
from ..locale import N_, language
from ..packs import SEVERITY_RANK
from .forms import field_label

VERDICTS = {
    "blocked": ("block", N_("Blocked: the MOC does not allow this application as it stands")),
    "review": ("warn", N_("Needs review: a person must resolve the findings below")),
    "clear": ("clear", N_("No findings")),
    "not_in_force": ("warn", N_("MOC not in force on the date evaluated")),
}
SEVERITY_HEADINGS = {"block": N_("Block"), "warn": N_("Needs review"), "info": N_("For information")}


@dataclass
class Verdict:
    css: str
    text: str
    warnings: list[tuple[str, str]] = field(default_factory=list)
    """(what, text): ``not_in_force``, ``sample`` or ``stale``, and the words to show."""


def verdict(report: dict[str, Any]) -> Verdict:
    """The banner: the outcome, and every reason the result itself is uncertain (impossible to miss)."""
    css, text = VERDICTS.get(report.get("outcome", ""), ("warn", N_("Needs review: a person must resolve the findings below")))
    out = Verdict(css, text)
    status = report.get("pack_status") or {}
    if status.get("state") not in (None, "in_force"):
        out.warnings.append(("not_in_force", N_("MOC not in force on the date evaluated")))
    registries = report.get("registries") or []
    if any(r.get("sample") for r in registries):
        out.warnings.append(("sample", N_("Sample registry: the lists consulted are fictional sample data, not the published lists")))
    if any(r.get("status") in ("stale", "missing") for r in registries):
        out.warnings.append(("stale", N_("Stale or missing registry: a list consulted is older than allowed, or absent")))
    return out


def grouped(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Findings by severity, most severe first; empty groups left out."""
    order = sorted({f["severity"] for f in findings}, key=SEVERITY_RANK.__getitem__, reverse=True)
    return [(s, [f for f in findings if f["severity"] == s]) for s in order]


def localized(value: Any) -> str:
    """A ``{"ja": ..., "en": ...}`` text in the page's language."""
    if isinstance(value, dict):
        return str(value.get(language()) or value.get("en") or "")
    return "" if value is None else str(value)


def flatten(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every node of the dossier with its JSON pointer, parents before children (the dossier view)."""
    if isinstance(value, dict):
        if pointer:
            yield pointer, None
        for key, item in value.items():
            yield from flatten(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        yield pointer, None
        for index, item in enumerate(value):
            yield from flatten(item, f"{pointer}/{index}")
    else:
        yield pointer, value


def nearest(pointer: str, present: set[str]) -> str | None:
    """The pointer itself if the dossier has it, else its nearest ancestor that it has (an evidence link's target)."""
    while pointer and pointer not in present:
        pointer = pointer.rpartition("/")[0]
    return pointer or None


def present(dossier: Any, pointer: str) -> bool:
    """Whether the dossier gives a value at ``pointer`` (absent and null are both "not given")."""
    found, value = _resolve(dossier, pointer)
    return found and value is not None


def pointer_label(pointer: str) -> str:
    """A JSON pointer in words for staff: ``/fees/0/amount`` -> 費用 1 › 金額."""
    words = []
    for step in pointer.strip("/").split("/"):
        if step.isdigit() and words:
            words[-1] += f" {int(step) + 1}"
        elif step:
            words.append(field_label(step))
    return " › ".join(words)


def _resolve(dossier: Any, pointer: str) -> tuple[bool, Any]:
    node = dossier
    for step in pointer.strip("/").split("/"):
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return False, None
    return True, node


def unknowns(engine: Engine, report: dict[str, Any], dossier: dict[str, Any] | None) -> list[tuple[str, list[str]]]:
    """Fields the pack's rules consult that the dossier left empty, with the rules that needed them.

    Unknown is not false: a rule does not fire on a missing fact, so staff
    must see which facts were missing to know what was not checked.
    """
    if not dossier:
        return []
    pack = engine.packset.packs.get(report["pack"])
    if pack is None:
        return []
    missing: dict[str, list[str]] = {}
    for resolved in pack.rules_for(report["kind"]):
        spec = resolved.rule.spec
        for pointer in _evidence_pointers(spec, dossier):
            found, value = _resolve(dossier, pointer)
            if not found or value is None:
                missing.setdefault(pointer, [])
                if spec.id not in missing[pointer]:
                    missing[pointer].append(spec.id)
    return sorted(missing.items())


def _evidence_pointers(spec: Any, dossier: dict[str, Any]) -> Iterator[str]:
    """The pointers a rule's evidence names in this dossier (one per list item for a for_each rule)."""
    each = spec.for_each
    for path in spec.evidence:
        steps = path.split(".")
        if each is not None and steps[0] == each.as_:
            ok, items = _resolve(dossier, "/" + each.in_.replace(".", "/"))
            for index in range(len(items) if ok and isinstance(items, list) else 0):
                yield "/" + each.in_.replace(".", "/") + f"/{index}/" + "/".join(steps[1:])
        elif not steps[0].startswith("$"):
            yield "/" + "/".join(steps)
