"""The package as people install it: the wheel's contents, the installed tool, and missing extras.

The ``wheel`` tests build the wheel, install it into a new virtual environment
in a temporary directory and run the installed command from there, with no
checkout on its path. They need no network: the new environment reuses the
dependencies of the environment running the tests (the versions the rest of
the suite ran with), and the wheel itself is installed with ``--no-index``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from dossier_rules import __version__, package_data
from dossier_rules.batch import record_digest
from dossier_rules.engine import Engine
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.report import Report
from dossier_rules.sharing import Outbox

from .conftest import ROOT, RULES, SAMPLES, sample

PACKAGE = ROOT / "src" / "dossier_rules"


def test_package_data_is_found_in_a_checkout() -> None:
    assert package_data.packs_dir() == RULES
    assert package_data.schemas_dir() == ROOT / "schemas"
    assert (package_data.schemas_dir() / "report.schema.json").is_file()


# --------------------------------------------------------------------------- the lock files

LOCKS = ROOT / "requirements"


def _pins(lock: Path) -> dict[str, Version]:
    """Name -> pinned version, from a requirements file written by ``make lock``."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            requirement = Requirement(line.split(" \\")[0].split(" ;")[0])
            (spec,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


def _declared() -> dict[str, list[Requirement]]:
    """Extra ('' for the core) -> the requirements pyproject.toml declares, the package itself left out."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    return {extra: [r for r in map(Requirement, reqs) if canonicalize_name(r.name) != "dossier-rules"] for extra, reqs in groups.items()}


@pytest.mark.parametrize(("lock", "extras"), [("dev.txt", None), ("base.txt", [""]), ("server.txt", ["", "server"])])
def test_every_lock_pins_what_pyproject_declares_within_its_bounds(lock: str, extras: list[str] | None) -> None:
    pins = _pins(LOCKS / lock)
    declared = _declared()
    for extra in extras if extras is not None else declared:
        for requirement in declared[extra]:
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{lock} does not pin {name} (extra {extra!r}): run make lock"
            assert requirement.specifier.contains(pins[name], prereleases=True), f"{lock} pins {name}=={pins[name]}, outside {requirement}: run make lock"


def test_the_deployment_runs_the_versions_the_tests_ran() -> None:
    tested = _pins(LOCKS / "dev.txt")
    for lock in ("base.txt", "server.txt"):
        assert {name: version for name, version in _pins(LOCKS / lock).items() if tested.get(name) != version} == {}


# --------------------------------------------------------------------------- the tool's own version


def test_reports_and_notices_record_the_version_of_the_tool(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    report = engine.evaluate(sample("pk-candidate-false-documents.json"), source="pk.json")
    assert report.tool_version == __version__
    reports = tmp_path / "reports.jsonl"
    reports.write_text(report.model_dump_json() + "\n", encoding="utf-8")
    with Outbox(tmp_path / "outbox.sqlite") as box:
        (created, *_) = box.build(packset, [reports]).created
        assert box.notice(created).tool_version == __version__


def test_reports_and_notices_from_before_the_tool_version_still_read(engine: Engine, packset: PackSet, tmp_path: Path) -> None:
    report = engine.evaluate(sample("pk-candidate-false-documents.json"), source="pk.json").model_dump(mode="json")
    del report["tool_version"]
    assert Report.model_validate(report).tool_version is None
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps(report) + "\n", encoding="utf-8")
    outbox = tmp_path / "outbox.sqlite"
    with Outbox(outbox) as box:
        (created, *_) = box.build(packset, [reports]).created
    with sqlite3.connect(outbox) as db:
        (header,) = db.execute("SELECT header FROM notices WHERE id = ?", (created,)).fetchone()
        db.execute("UPDATE notices SET header = ? WHERE id = ?", (json.dumps({k: v for k, v in json.loads(header).items() if k != "tool_version"}), created))
    db.close()
    with Outbox(outbox) as box:
        assert box.notice(created).tool_version is None


# --------------------------------------------------------------------------- --engine rete without durable-rules

_WITHOUT_DURABLE = """
import sys
from importlib.machinery import PathFinder

class WithoutDurable(PathFinder):
    # the path finder, blind to durable-rules: what an install without the extra looks like
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "durable" or name.startswith("durable."):
            return None
        return super().find_spec(name, path, target)

sys.meta_path[sys.meta_path.index(PathFinder)] = WithoutDurable
from dossier_rules.cli import main
sys.exit(main())
"""


@pytest.mark.parametrize(
    "args",
    [
        ["check", str(SAMPLES / "kh-candidate-clean.json"), "--engine", "rete"],
        ["batch", str(SAMPLES), "--out", "{out}", "--engine", "rete"],
        ["packs", "test", "--engine", "rete"],
    ],
    ids=["check", "batch", "packs-test"],
)
def test_rete_without_durable_rules_says_how_to_install_it(args: list[str], tmp_path: Path) -> None:
    args = [a.replace("{out}", str(tmp_path / "out.jsonl")) for a in args]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", _WITHOUT_DURABLE, *args], capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == ["error: the rete backend needs durable-rules: pip install 'dossier-rules[rete]'"]
    assert done.stdout == ""
    assert not (tmp_path / "out.jsonl").exists()


# --------------------------------------------------------------------------- the wheel


@dataclass
class Installed:
    wheel: Path
    venv: Path
    workdir: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The installed command, run outside the checkout with nothing of it on the path."""
        done = subprocess.run([str(self.command), *args], capture_output=True, text=True, env=_outside(), cwd=self.workdir, check=False, timeout=600)
        if check and done.returncode not in (0, 1):
            raise AssertionError(f"dossier-rules {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

    def python(self, code: str) -> str:
        return subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=_outside(), cwd=self.workdir, check=True
        ).stdout

    @property
    def command(self) -> Path:
        return self.venv / "bin" / "dossier-rules"


def _outside() -> dict[str, str]:
    """This process's environment without anything that points at the checkout or its packs."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DOSSIER_RULES_PACKS", "VIRTUAL_ENV"}}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)], check=True, capture_output=True)
    (wheel,) = dist.glob("dossier_rules-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # the dependencies: this environment's, appended to the new one's path (its own site-packages comes first)
    ask = [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
    site = Path(subprocess.run(ask, capture_output=True, text=True, check=True).stdout.strip())
    reuse = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (site / "_test_dependencies.pth").write_text("\n".join(reuse) + "\n", encoding="utf-8")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True)
    workdir = base / "work"
    workdir.mkdir()
    yield Installed(wheel, venv, workdir)


def _shipped_files() -> set[str]:
    """What the wheel must carry besides Python modules, as paths inside it."""
    expected = set()
    for source, target in ((ROOT / "rules", "dossier_rules/_data/rules"), (ROOT / "schemas", "dossier_rules/_data/schemas")):
        expected |= {f"{target}/{p.relative_to(source).as_posix()}" for p in source.rglob("*") if p.is_file()}
    for p in PACKAGE.rglob("*"):
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts:
            expected.add(f"dossier_rules/{p.relative_to(PACKAGE).as_posix()}")
    return expected


@pytest.mark.wheel
def test_the_wheel_carries_packs_registries_schemas_templates_and_catalogs(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        version = next(line for line in wheel.read(metadata).decode().splitlines() if line.startswith("Version: "))
    assert _shipped_files() - names == set()
    assert "dossier_rules/_data/rules/registries/kh-accredited-agencies.json" in names
    assert "dossier_rules/templates/notice.html" in names
    assert version == f"Version: {__version__}"


@pytest.mark.wheel
def test_the_installed_tool_runs_from_its_own_files(installed: Installed) -> None:
    where = installed.python("import dossier_rules; print(dossier_rules.__file__)").strip()
    assert Path(where).is_relative_to(installed.venv), where
    assert installed.run("--version").stdout.strip() == f"dossier-rules, version {__version__}"


@pytest.mark.wheel
def test_the_installed_tool_screens_with_the_installed_packs(installed: Installed, engine: Engine) -> None:
    name = "kh-candidate-revoked-agency.json"
    shutil.copy(SAMPLES / name, installed.workdir / name)
    done = installed.run("check", name, "--format", "jsonl", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    expected = engine.evaluate_data(sample(name), source=name, timestamp=False)
    expected["source_sha256"] = record_digest((SAMPLES / name).read_bytes())  # check records which file it read
    assert report["findings"] and report["registries"], "the sample has findings and consults registries"
    assert report.pop("checks")["passed"], "check says what was checked"
    assert {k: v for k, v in report.items() if k != "generated_at"} == {k: v for k, v in json.loads(json.dumps(expected)).items() if k != "generated_at"}
    assert all(r["sample"] for r in report["registries"] if r["status"] != "missing"), "the shipped registries are the fictional samples, and say so"


@pytest.mark.wheel
def test_the_installed_tool_speaks_japanese_from_its_own_catalog(installed: Installed) -> None:
    japanese = installed.run("--lang", "ja", "check", "--help").stdout
    from_checkout = subprocess.run(
        [sys.executable, "-m", "dossier_rules", "--lang", "ja", "check", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=True,
    ).stdout
    assert japanese == from_checkout.replace("python -m dossier_rules", "dossier-rules")
    assert japanese != installed.run("--lang", "en", "check", "--help").stdout


@pytest.mark.wheel
def test_the_installed_sample_registries_are_never_overwritten(installed: Installed) -> None:
    rows = installed.workdir / "agencies.csv"
    rows.write_text("id,name,listed_from\nMOLVT-ACC-0001,Example Agency,2024-01-01\n", encoding="utf-8")
    args = ["registry", "import", rows.name, "--country", "KH", "--kind", "accredited-agencies", "--source", "test"]
    refused = installed.run(*args, check=False)
    assert refused.returncode == 2
    assert "--registries DIR" in refused.stderr
    imported = installed.run(*args, "--registries", "mine")
    assert imported.returncode == 0, imported.stderr
    assert (installed.workdir / "mine" / "kh-accredited-agencies.json").is_file()


@pytest.mark.wheel
def test_the_installed_packs_pass_their_tests(installed: Installed) -> None:
    done = installed.run("packs", "test")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.wheel
def test_the_installed_service_starts_with_the_installed_packs(installed: Installed) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(installed.command), "serve", "--port", str(port), "--db", "service.sqlite"],
        cwd=installed.workdir,
        env=_outside(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(_first_answer(f"http://127.0.0.1:{port}/readyz", server))
        api = json.loads(_first_answer(f"http://127.0.0.1:{port}/openapi.json", server))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert ready == {"status": "ready", "packs": sorted(load_packs(RULES).packs)}
    assert api["info"]["version"] == __version__


def _first_answer(url: str, server: subprocess.Popen[str]) -> str:
    """The body of the first successful GET, polling while the server starts (bounded: 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"serve exited {server.returncode}: {server.stderr.read() if server.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.read().decode()
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"no answer from {url} within 60 s")
