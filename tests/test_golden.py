"""Golden reports: what each sample dossier's screening finds, held in tests/golden/reports.json.

A change to a pack, a message or the engine that changes what a sample finds
fails here with the sample and the finding named. When the change is meant,
``pytest tests/test_golden.py --update-golden`` rewrites the file from the
samples (every entry, stale ones dropped) and the diff is reviewed like code.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from dossier_rules.engine import Engine
from dossier_rules.packs import PackSet
from dossier_rules.registries import Registries
from dossier_rules.sources import load_dossier

from .conftest import SAMPLES

GOLDEN = Path(__file__).parent / "golden" / "reports.json"
KEPT = ("rule_id", "article", "also", "severity", "share", "act", "item", "message")
"""What a golden finding holds besides its evidence pointers: who found what, under which article, and how it reads."""


def golden_finding(finding: dict[str, Any]) -> dict[str, Any]:
    return {**{key: finding[key] for key in KEPT}, "evidence": sorted(finding["evidence"])}


def screened(packset: PackSet, registries: Registries) -> dict[str, Any]:
    """Every sample's outcome, pack and findings, as the packs and registries present screen it on its own date."""
    engine = Engine(packset, registries, max_registry_age=None)  # no staleness: the file must not depend on today
    out = {}
    for path in sorted(SAMPLES.glob("*.json")):
        report = engine.evaluate_data(load_dossier(path.read_bytes(), str(path)), timestamp=False)
        out[path.name] = {"outcome": report["outcome"], "pack": report["pack"], "findings": [golden_finding(f) for f in report["findings"]]}
    return out


def text(reports: dict[str, Any]) -> str:
    return json.dumps(reports, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write(target: Path, reports: dict[str, Any]) -> None:
    """The whole file, from the samples alone (stale entries go), replaced at once (a failed write leaves the old one)."""
    target.parent.mkdir(exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".reports-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text(reports))
    os.replace(temp, target)


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The samples whose screening differs from their golden report, or that only one side has."""
    return [name for name in sorted(expected.keys() | actual.keys()) if expected.get(name) != actual.get(name)]


def test_every_sample_finds_what_its_golden_report_says(request: pytest.FixtureRequest, packset: PackSet, registries: Registries) -> None:
    actual = screened(packset, registries)
    if request.config.getoption("--update-golden"):
        write(GOLDEN, actual)
    assert GOLDEN.exists(), "no golden reports yet: run pytest tests/test_golden.py --update-golden"
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert differences(expected, actual) == [], (
        "these samples no longer find what tests/golden/reports.json says (if meant: --update-golden, then review the diff)"
    )
    assert GOLDEN.read_text(encoding="utf-8") == text(expected)  # the file is in its canonical form, so an update's diff shows only changes


def test_a_changed_finding_is_caught_and_an_update_rewrites_every_entry(tmp_path: Path, packset: PackSet, registries: Registries) -> None:
    actual = screened(packset, registries)
    name = next(n for n, r in actual.items() if r["findings"])
    tampered = json.loads(json.dumps(actual))
    tampered[name]["findings"][0]["message"]["en"] += "."
    tampered["removed-sample.json"] = {"outcome": "clean", "pack": "xx", "findings": []}
    assert differences(tampered, actual) == [name, "removed-sample.json"]
    target = tmp_path / "golden" / "reports.json"
    write(target, tampered)
    write(target, actual)
    assert json.loads(target.read_text(encoding="utf-8")) == actual and differences(json.loads(target.read_text(encoding="utf-8")), actual) == []
    assert [p.name for p in target.parent.iterdir()] == ["reports.json"]  # no temporary file left behind
