"""The compiled-pack cache: reused only for exactly the same packs and program, checked before it is read."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dossier_rules import pack_cache, sources
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.model import KINDS
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.problems import InputError
from dossier_rules.registries import Registries
from dossier_rules.sources import load_dossier

from .conftest import MINI_PACK, RULES, SAMPLES, write_pack

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(pack_cache.CACHE_ENV, str(directory))
    return directory


def reports(packset: PackSet, registries: Registries) -> list[dict[str, Any]]:
    engine = Engine(packset, registries)
    return [engine.evaluate_data(load_dossier(p.read_bytes(), str(p)), timestamp=False) for p in sorted(SAMPLES.glob("*.json"))]


def loads_counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every load from YAML (what the cache is there to avoid)."""
    calls: list[Path] = []
    original = pack_cache.load_packs

    def counted(directory: Path) -> PackSet:
        calls.append(directory)
        return original(directory)

    monkeypatch.setattr(pack_cache, "load_packs", counted)
    return calls


def test_the_second_load_comes_from_the_cache_and_screens_the_same(cache: Path, monkeypatch: pytest.MonkeyPatch, registries: Registries) -> None:
    loads = loads_counted(monkeypatch)
    first = pack_cache.load_packs_cached(RULES)
    second = pack_cache.load_packs_cached(RULES)
    assert len(loads) == 1 and len(list(cache.glob("packs-*.bin"))) == 1
    assert second is not first and reports(second, registries) == reports(first, registries)
    assert (cache.stat().st_mode & 0o077) == 0  # readable by its owner only


def test_an_edited_pack_is_never_served_from_the_cache(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    write_pack(packs, "xx.yaml", MINI_PACK)
    assert pack_cache.load_packs_cached(packs).packs["xx"].rules[0].rule.spec.message.en == "missing ({residence})"
    write_pack(packs, "xx.yaml", MINI_PACK.replace("missing ({residence})", "no certificate ({residence})"))
    loads = loads_counted(monkeypatch)
    assert pack_cache.load_packs_cached(packs).packs["xx"].rules[0].rule.spec.message.en == "no certificate ({residence})"
    assert len(loads) == 1


def _flip_last_byte(entry: Path) -> None:
    blob = bytearray(entry.read_bytes())
    blob[-1] ^= 1
    entry.write_bytes(bytes(blob))


def _other_key(entry: Path) -> None:
    blob = entry.read_bytes()
    start = len(pack_cache.MAGIC)
    entry.write_bytes(blob[:start] + b"0" * 64 + blob[start + 64 :])


DAMAGE = {
    "a changed byte": _flip_last_byte,
    "a cut-off entry": lambda entry: entry.write_bytes(entry.read_bytes()[:1000]),
    "another key in its header": _other_key,
    "not an entry at all": lambda entry: entry.write_bytes(b"\x80\x04 not a cache entry"),
    "an empty file": lambda entry: entry.write_bytes(b""),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_entry_is_never_unpickled_and_is_rebuilt(damage: str, cache: Path, monkeypatch: pytest.MonkeyPatch, registries: Registries) -> None:
    expected = reports(pack_cache.load_packs_cached(RULES), registries)
    (entry,) = cache.glob("packs-*.bin")
    DAMAGE[damage](entry)

    def refuse(data: bytes) -> Any:
        raise AssertionError("a damaged entry reached pickle")

    with monkeypatch.context() as patch:
        patch.setattr(pack_cache.pickle, "loads", refuse)
        loads = loads_counted(patch)
        rebuilt = pack_cache.load_packs_cached(RULES)
    assert len(loads) == 1 and reports(rebuilt, registries) == expected
    assert pack_cache.read_entry(entry, pack_cache.cache_key(RULES, pack_cache.pack_files(RULES))) is not None  # rewritten whole


def test_an_unusable_cache_directory_only_means_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(pack_cache.CACHE_ENV, str(blocker / "cache"))
    assert set(pack_cache.load_packs_cached(RULES).packs) == set(load_packs(RULES).packs)
    monkeypatch.setenv(pack_cache.CACHE_ENV, "off")
    loads = loads_counted(monkeypatch)
    pack_cache.load_packs_cached(RULES)
    pack_cache.load_packs_cached(RULES)
    assert len(loads) == 2


def test_the_cache_keeps_a_bounded_number_of_entries(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack_cache, "MAX_ENTRIES", 2)
    for n in range(4):
        packs = tmp_path / f"packs{n}"
        packs.mkdir()
        write_pack(packs, "xx.yaml", MINI_PACK.replace("missing ({residence})", f"missing {n} ({{residence}})"))
        pack_cache.load_packs_cached(packs)
    assert len(list(cache.glob("packs-*.bin"))) == 2


def test_broken_packs_are_reported_and_never_cached(cache: Path, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    write_pack(packs, "xx.yaml", MINI_PACK.replace("missing: certificate", "missing: certficate"))
    result = CliRunner().invoke(main, ["check", str(SAMPLES / "kh-candidate-clean.json"), "--packs", str(packs)])
    assert result.exit_code == 2 and "did you mean 'certificate'" in result.stderr
    assert not list(cache.glob("packs-*.bin"))


HEAVY = {
    "rich": "a text report written to a file or a pipe needs no wrapping or colour",
    "yaml": "packs come from the compiled-pack cache, not their YAML",
    "jinja2": "the notice templates",
    "babel": "the message catalogs are read without it",
    "jsonschema": "dossiers are checked by jsonschema-rs",
    "sqlite3": "the outbox, and the index of large registries only",
    "openpyxl": "spreadsheets",
    "durable": "the rete backend",
    "dossier_rules.rete": "the rete backend",
    "dossier_rules.sharing": "notices",
    "dossier_rules.schemas": "the schema writer",
    "dossier_rules.testing": "pack tests",
    "dossier_rules.cli.packs": "the pack tools",
}
"""Modules a screener's ``check`` of a valid dossier must not load (issue 14: start-up), and what they are for."""


def test_check_imports_only_what_it_uses(tmp_path: Path) -> None:
    """A screener's check of a valid dossier, with the packs cached, loads none of :data:`HEAVY` (nothing is timed)."""
    script = (
        "import sys\n"
        "from dossier_rules.cli import main\n"
        f"try:\n    main(['check', {str(SAMPLES / 'kh-candidate-clean.json')!r}])\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "print(sorted(sys.modules))\n"
    )
    env = {"PYTHONPATH": str(ROOT / "src"), "DOSSIER_RULES_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # the second run reads the packs from the cache
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("✓ KH-CAND-0001")
    loaded = set(ast.literal_eval(lines[-1]))
    assert "dossier_rules.cli.check" in loaded and "dossier_rules.codegen" in loaded
    assert {name: why for name, why in HEAVY.items() if name in loaded} == {}


def test_a_cached_entry_gives_the_dossier_schemas_without_generating_them(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Generating the dossier schemas from the model costs more than screening: a warm start reads them from the entry."""
    pack_cache.load_packs_cached(RULES)
    expected = {kind: model.model_json_schema() for kind, model in KINDS.items()}
    monkeypatch.setattr(sources, "_DOSSIER_SCHEMAS", {})
    monkeypatch.setattr(sources, "_schema_validators", functools.cache(sources._schema_validators.__wrapped__))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the dossier schemas were generated again")

    for model in KINDS.values():
        monkeypatch.setattr(model, "model_json_schema", refuse)
    pack_cache.load_packs_cached(RULES)
    assert sources.dossier_schemas() == expected
    assert load_dossier((SAMPLES / "kh-candidate-clean.json").read_bytes(), "clean.json")["dossier_id"] == "KH-CAND-0001"
    with pytest.raises(InputError):
        load_dossier(b'{"kind": "candidate", "country": "KH"}', "bad.json")
