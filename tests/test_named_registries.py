"""The registries by name: rule backends (dossier_rules.backends) and notice formats (dossier_rules.formats).

Each interface reads its choices from the registry, so these tests compare what
the command line, the engine and the OpenAPI document offer with what is
registered, and show that a backend registered by name is the one that decides.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from dossier_rules import backends, formats
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.locale import use_language
from dossier_rules.model import DOSSIER_ADAPTER
from dossier_rules.packs import Pack, PackSet
from dossier_rules.registries import Registries

from .conftest import sample

ROOT = Path(__file__).resolve().parent.parent


def _choices(*path: str, option: str) -> list[str]:
    command: Any = main
    for name in path:  # the groups load their commands on first use
        command = command.get_command(click.Context(command), name)
    (param,) = [p for p in command.params if isinstance(p, click.Option) and option in p.opts]
    return list(param.type.choices)


def test_the_engine_option_offers_exactly_the_registered_backends() -> None:
    assert backends.names() == ["native", "interpreted", "rete"]
    for path in (("check",), ("batch",), ("packs", "test")):
        assert _choices(*path, option="--engine") == backends.names(), path


def test_an_unknown_backend_is_refused_with_the_known_names(packset: PackSet) -> None:
    with pytest.raises(ValueError, match="unknown rule backend 'zen'; known: native, interpreted, rete"):
        Engine(packset, backend="zen")
    with pytest.raises(ValueError, match="already registered"):
        backends.register(backends.get("native"))


class _NothingFires:
    """A backend whose decider fires no rule: what the engine reports must come from it."""

    name = "nothing"
    generated = False
    parent_screens = False
    isolated = False

    def installed(self) -> bool:
        return True

    def decider(self, packset: PackSet) -> backends.Decider | None:
        return self

    def refusals(self, packset: PackSet) -> list[str]:
        return []

    def fired(self, pack: Pack, dossier: object, env: Any) -> set[tuple[str, int | None]]:
        return set()


def test_a_registered_backend_decides_what_fires(packset: PackSet, registries: Registries, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(backends._REGISTRY, "nothing", _NothingFires())
    dossier = DOSSIER_ADAPTER.validate_python(sample("kh-candidate-abroad-no-agency.json"))
    assert Engine(packset, registries, backend="interpreted").evaluate(dossier).findings  # the rules fire on it
    assert Engine(packset, registries, backend="nothing").evaluate(dossier).findings == []


def test_every_notice_format_is_registered_once_with_its_media_type() -> None:
    assert tuple(formats.NOTICE_FORMATS) == formats.NOTICE_NAMES == ("json", "html", "md")
    assert tuple(name for name, f in formats.NOTICE_FORMATS.items() if f.printed) == formats.PRINTED_NAMES
    assert [f.content_type for f in formats.NOTICE_FORMATS.values()] == ["application/json", "text/html", "text/markdown"]
    assert _choices("share", "export", option="--format") == list(formats.NOTICE_NAMES)
    assert formats.notice_format("md") == "md"
    assert formats.notice_format("pdf") is None


def test_the_openapi_document_offers_the_printed_formats() -> None:
    document = json.loads((ROOT / "schemas" / "openapi.json").read_text(encoding="utf-8"))
    for path in ("/api/v1/notices/{notice_id}/preview", "/api/v1/notices/{notice_id}/export"):
        operation = next(iter(document["paths"][path].values()))
        (param,) = [p for p in operation["parameters"] if p.get("name") == "format"]
        assert tuple(param["schema"]["enum"]) == formats.PRINTED_NAMES, path
        assert list(operation["responses"]["200"]["content"]) == [formats.NOTICE_FORMATS[n].content_type for n in formats.PRINTED_NAMES], path


def test_an_unknown_format_is_named_with_the_registered_ones_in_both_languages() -> None:
    with use_language("en"):
        assert formats.unknown_notice_format() == "The format is one of json, html, md."
    with use_language("ja"):
        assert formats.unknown_notice_format() == "形式は json、html、md のいずれかを指定してください。"
