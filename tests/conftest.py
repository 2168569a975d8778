from __future__ import annotations

import copy
import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from dossier_rules.engine import Engine
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.registries import Registries, load_registries
from dossier_rules.sources import check_dossier_data

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session", autouse=True)
def private_pack_cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The compiled-pack cache of the test run lives in a temporary directory, never in the user's."""
    previous = os.environ.get("DOSSIER_RULES_CACHE")
    os.environ["DOSSIER_RULES_CACHE"] = str(tmp_path_factory.mktemp("pack-cache"))
    yield
    if previous is None:
        os.environ.pop("DOSSIER_RULES_CACHE", None)
    else:
        os.environ["DOSSIER_RULES_CACHE"] = previous


@pytest.fixture(scope="session")
def packset() -> PackSet:
    return load_packs(RULES)


@pytest.fixture(scope="session")
def registries() -> Registries:
    return load_registries(RULES / "registries")


@pytest.fixture(scope="session")
def engine(packset: PackSet, registries: Registries) -> Engine:
    return Engine(packset, registries)


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def candidate(country: str = "KH", **fields: Any) -> dict[str, Any]:
    """A minimal valid candidate dossier with the given fields set, as checked JSON data."""
    data: dict[str, Any] = {
        "dossier_id": f"{country}-T-1",
        "kind": "candidate",
        "country": country,
        "submitted": "2025-03-01",
        "identity": {"name": "Test Person"},
    }
    data.update(copy.deepcopy(fields))
    return check_dossier_data(data, "test")


def write_pack(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


MINI_PACK = """
pack:
  id: xx
  version: 1.0.0
  country: KH
  title: {ja: テスト, en: Test}
  moc:
    partner_ministry: {ja: 省, en: Ministry}
    contact_points: {article: "2", japan: {ja: 日本, en: Japan}, partner: {ja: 相手, en: Partner}}
    confidentiality: {article: "3", scope: third_parties, text: {ja: 秘密, en: Confidential}}
    signed: [{on: "2020-01-01", place: Tokyo}]
    in_force: {article: "10", starts_on: "2020-01-01"}
  provisions: {acts: "4(1)"}
test_base:
  candidate: {dossier_id: T-1, kind: candidate, country: KH, submitted: "2025-03-01", identity: {name: T}}
rules:
  - id: xx.no-certificate
    title: {ja: 証明書なし, en: No certificate}
    article: "{acts}(a)"
    applies_to: candidate
    severity: block
    when:
      missing: certificate
    message: {ja: なし, en: "missing ({residence})"}
    evidence: [certificate]
    tests:
      - {name: fires, expect: fire, dossier: {}}
      - {name: passes, expect: pass, dossier: {certificate: {number: C-1}}}
    basis: {article: "{acts}(a)", text: {ja: 根拠の条文, en: The text that makes it blocking}, domestic: {instrument: {ja: 法令, en: Act}, article: {ja: 第1条, en: art. 1}}}
    effect: {ja: 不適合です。, en: It does not meet the standards.}
"""


# --------------------------------------------------------------------------- PostgreSQL

_POSTGRES: dict[str, Any] = {"skipped": 0}
"""The session's cluster (``cluster``) or why there is none (``reason``), and how many tests skipped for it."""
POSTGRES_MISSING = "PostgreSQL not available"


@pytest.fixture(scope="session")
def postgres_cluster() -> Any:
    """The throwaway PostgreSQL cluster of this run (see tests/postgres_support.py); skips when there is none."""
    from .postgres_support import start

    if "cluster" not in _POSTGRES and "reason" not in _POSTGRES:
        started = start()
        _POSTGRES["cluster" if not isinstance(started, str) else "reason"] = started
    if "reason" in _POSTGRES:
        pytest.skip(f"{POSTGRES_MISSING}: {_POSTGRES['reason']}")
    yield _POSTGRES["cluster"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A fresh, empty database on each engine: a SQLite file's path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return tmp_path / "service.sqlite"
    cluster = request.getfixturevalue("postgres_cluster")
    url: str = cluster.create_database()
    return url


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and POSTGRES_MISSING in str(report.longrepr):
        _POSTGRES["skipped"] += 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    cluster = _POSTGRES.pop("cluster", None)
    if cluster is not None:
        _POSTGRES["used"] = f"PostgreSQL {cluster.version} (throwaway cluster on port {cluster.port})"
        cluster.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say whether the storage tests ran on PostgreSQL, and if not, why and how many were skipped."""
    if "reason" in _POSTGRES:
        terminalreporter.write_sep("=", "PostgreSQL NOT AVAILABLE", yellow=True)
        terminalreporter.write_line(f"{_POSTGRES['skipped']} tests on PostgreSQL were skipped: {_POSTGRES['reason']}")
    elif "used" in _POSTGRES:
        terminalreporter.write_line(f"storage tests ran on SQLite and on {_POSTGRES['used']}")
