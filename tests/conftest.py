from __future__ import annotations

import copy
import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from dossier_rules.engine import Engine
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.registries import Registries, load_registries
from dossier_rules.sources import check_dossier_data

# Hypothesis profiles: ``ci`` (the default) runs each property test's full budget (strategies.budget);
# ``dev`` (HYPOTHESIS_PROFILE=dev, as make test-fast sets it) runs every test with at most 200 examples each.
settings.register_profile("ci", max_examples=10_000, deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True)
settings.register_profile("dev", settings.get_profile("ci"), max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
SAMPLES = ROOT / "samples"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/reports.json from the samples as the packs now screen them (review the diff before committing).",
    )


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


AGGREGATE_RULES = """
  - id: xx.fees-above-cap
    title: {ja: 手数料合計が上限超過, en: Fees above the cap}
    article: "{acts}(e)"
    applies_to: candidate
    severity: warn
    when:
      sum: {in: fees, as: f, of: f.amount, where: {field: f.payee.role, in: [sending_agency, intermediary]}, unit: {field: f.currency, eq: USD}}
      gt: 1000
    message: {ja: 超過, en: Above the cap}
    tests:
      - {name: fires, expect: fire, dossier: {fees: [{payee: {role: intermediary}, amount: 700, currency: USD}, {payee: {role: sending_agency}, amount: 700, currency: USD}]}}
      - {name: at the cap, expect: pass, dossier: {fees: [{payee: {role: intermediary}, amount: 1000, currency: USD}]}}
  - id: xx.fees-not-within-cap
    title: {ja: 上限内と確認できない, en: Not shown within the cap}
    article: "{acts}(e)"
    applies_to: candidate
    severity: warn
    when:
      not: {sum: {in: fees, as: f, of: f.amount, unit: {field: f.currency, eq: USD}}, le: 1000}
    message: {ja: 確認できない, en: Not shown}
    tests:
      - {name: other currency, expect: fire, dossier: {fees: [{amount: 10, currency: KHR}]}}
      - {name: within, expect: pass, dossier: {fees: [{amount: 10, currency: USD}]}}
  - id: xx.many-dependents
    title: {ja: 同伴家族が多い, en: Many accompanying dependents}
    article: "{acts}(a)"
    applies_to: candidate
    severity: info
    when:
      any:
        - count: {in: dependents, as: d, where: {field: d.accompanying, eq: true}}
          ge: 2
        - count: {in: dependents}
          eq: 0
    message: {ja: 家族, en: Dependents}
    tests:
      - {name: two accompanying, expect: fire, dossier: {dependents: [{relation: child, accompanying: true}, {relation: spouse, accompanying: true}]}}
      - {name: one, expect: pass, dossier: {dependents: [{relation: child, accompanying: true}]}}
  - id: xx.old-tests
    title: {ja: 試験が古い, en: Tests taken long ago}
    article: "{acts}(d)"
    applies_to: candidate
    severity: info
    when:
      all:
        - max: {in: tests, as: t, of: t.taken_on}
          lt: {var: as_of, offset: "-1y"}
        - min: {in: tests, as: t, of: t.taken_on, where: {field: t.kind, eq: skills}}
          ne: "2024-06-01"
    message: {ja: 古い, en: Old}
    tests:
      - {name: old, expect: fire, dossier: {tests: [{kind: skills, taken_on: "2023-12-31"}]}}
      - {name: recent, expect: pass, dossier: {tests: [{kind: skills, taken_on: "2025-01-15"}]}}
  - id: xx.largest-fee
    title: {ja: 最大の手数料, en: The largest fee}
    article: "{acts}(e)"
    applies_to: candidate
    severity: info
    for_each: {in: fees, as: fee}
    when:
      max: {in: fees, as: f, of: f.amount, unit: {field: f.currency, eq: USD}}
      eq: {field: fee.amount}
    message: {ja: 最大, en: Largest}
    tests:
      - {name: largest, expect: fire, count: 1, dossier: {fees: [{amount: 10, currency: USD}, {amount: 20, currency: USD}]}}
      - {name: unknown currency, expect: pass, dossier: {fees: [{amount: 10}]}}
"""
