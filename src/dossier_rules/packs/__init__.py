"""Rule packs: the YAML format, loading with located errors, ``extends`` and per-country articles.

A pack file has three parts: ``pack`` (metadata, including the MOC facts
the sharing notices need), ``test_base`` (a clean dossier per kind that
rule tests patch), and ``rules``. Loading goes: read YAML safely with line
numbers -> validate against ``schemas/pack.schema.json`` (generated from the
models in :mod:`.format`) -> compile every rule against the dossier schema
(:mod:`.load`, messages by :mod:`.templates`) -> resolve ``extends`` and turn
each rule's article template into the canonical citation of the concrete
pack's own MOC (``MOC-KH 4(1)(e)``, :mod:`.link`), giving the
:class:`Pack` and :class:`PackSet` of :mod:`.pack`.

A rule written once in the abstract ``common`` pack says
``article: "{information_sharing}(e)"``; each country pack maps
``information_sharing`` to its own article number, so a Kyrgyz finding
cites ``MOC-KG 4(1)(e)`` and a Pakistani test-fraud finding ``MOC-PK 5``.

The names below are the package's API; the modules hold one step each.
"""

from __future__ import annotations

from .format import SEVERITY_RANK, Act, ArticleEntry, DeclaredField, Lang, Localized, PackFile, Severity, TestBase, TestCase
from .load import link_sources, load_pack_file, load_packs, merge_patch, pack_files
from .pack import CompiledRule, Pack, PackSet, PackSource, ResolvedRule, country_fields_schema
from .templates import Template, Wording, enum_name, show_value

__all__ = [
    "SEVERITY_RANK",
    "Act",
    "ArticleEntry",
    "CompiledRule",
    "DeclaredField",
    "Lang",
    "Localized",
    "Pack",
    "PackFile",
    "PackSet",
    "PackSource",
    "ResolvedRule",
    "Severity",
    "Template",
    "TestBase",
    "TestCase",
    "Wording",
    "country_fields_schema",
    "enum_name",
    "link_sources",
    "load_pack_file",
    "load_packs",
    "merge_patch",
    "pack_files",
    "show_value",
]
