"""Japanese throughout: complete catalogs, the language choice, output that is never cut, input errors that say what to do."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from dossier_rules import batch, locale
from dossier_rules.cli import main
from dossier_rules.cli.check import print_text, screen_files, summary, text_lines, write_plain
from dossier_rules.cli.common import make_engine
from dossier_rules.locale.catalog import read_catalog, required
from dossier_rules.problems import InputError, Problem
from dossier_rules.sources import load_dossier

from .conftest import RULES, SAMPLES

NO_LOCALE = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """The command line sets the process language; leave English for the tests that follow."""
    yield
    locale.set_language("en")


def invoke(*args: str, env: dict[str, str | None] | None = None):
    return CliRunner().invoke(main, list(args), env={**NO_LOCALE, **(env or {})}, catch_exceptions=False)


# --------------------------------------------------------------------------- catalogs


def test_every_message_a_person_reads_has_a_japanese_translation() -> None:
    translated = {m.id: m.string for m in read_catalog("ja") if m.id}
    wanted = required()
    missing = sorted(text for text in wanted if not translated.get(text))
    assert not missing, (
        "messages without a Japanese translation (run `python -m dossier_rules.locale`, then translate them in "
        "src/dossier_rules/locale/ja/LC_MESSAGES/messages.po):\n" + "\n".join(f"  {t!r} ({wanted[t][0]})" for t in missing)
    )
    unused = sorted(set(translated) - set(wanted))
    assert not unused, f"catalog entries no longer used (run `python -m dossier_rules.locale`): {unused}"


def test_translations_keep_the_placeholders() -> None:
    placeholder = re.compile(r"\{[a-z_]*(?:![rs])?\}|%\([a-z_]+\)s")
    for message in read_catalog("ja"):
        if message.id and message.string:
            assert sorted(placeholder.findall(message.id)) == sorted(placeholder.findall(message.string)), message.id


def test_the_catalog_check_notices_a_missing_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """The completeness test above would fail for a new message: required() sees it, the catalog does not have it."""
    import dossier_rules.locale.catalog as catalog_module

    extra = "a message added to the code but not to the catalog"
    original = catalog_module._package_messages
    monkeypatch.setattr(catalog_module, "_package_messages", lambda: [*original(), (extra, "x.py:1")])
    assert extra in required() and extra not in {m.id for m in read_catalog("ja")}


# --------------------------------------------------------------------------- choosing the language


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "ja_JP.UTF-8", "LANGUAGE": "en"}, "en"),
    ],
)
def test_language_from_the_locale_variables(env: dict[str, str], expected: str) -> None:
    assert locale.detect(env) == expected


def test_lang_ja_gives_japanese_help_and_output() -> None:
    result = invoke("check", "--help", "--lang", "ja")
    assert "使い方:" in result.output and "案件ファイル FILES を審査します" in result.output
    assert "このメッセージを表示して終了します。" in result.output
    result = invoke("--lang", "ja", "check", str(SAMPLES / "kh-candidate-clean.json"))
    assert "指摘なし" in result.output and "審査1件" in result.output


def test_lang_from_the_environment_and_back_to_english() -> None:
    result = invoke("check", str(SAMPLES / "kh-candidate-clean.json"), env={"LANG": "ja_JP.UTF-8"})
    assert "指摘なし" in result.output
    result = invoke("check", "--help")
    assert "Usage:" in result.output and "Screen dossier FILES" in result.output and "使い方" not in result.output
    result = invoke("check", "--lang", "en", str(SAMPLES / "kh-candidate-clean.json"), env={"LANG": "ja_JP.UTF-8"})
    assert "no findings" in result.output


def test_click_usage_errors_are_japanese_too() -> None:
    result = invoke("--lang", "ja", "check", "x.json", "--fail-on", "sometimes")
    assert result.exit_code == 2 and "値が不正です" in result.output


# --------------------------------------------------------------------------- nothing cut


def _rendered(width: int, terminal: bool) -> str:
    engine = make_engine(RULES, None, 180)
    results, stats = screen_files(engine, [str(SAMPLES)], None)
    stream = io.StringIO()
    print_text(results, summary(stats), Console(file=stream, width=width, force_terminal=terminal, color_system=None))
    return stream.getvalue()


@pytest.mark.parametrize(("width", "terminal"), [(40, True), (80, True), (200, True), (80, False)])
def test_findings_are_wrapped_never_cut(width: int, terminal: bool) -> None:
    locale.set_language("ja")
    text = _rendered(width, terminal)
    assert "…" not in text
    if terminal:
        assert max(len(line) for line in text.splitlines()) <= width  # ASCII-only lines; CJK counts double and wraps sooner
    joined = re.sub(r"\n *", "", text)
    engine = make_engine(RULES, None, 180)
    results, _ = screen_files(engine, [str(SAMPLES)], None)
    findings = [f for r in results for f in r.get("findings", [])]
    assert findings
    for finding in findings:
        assert re.sub(r"\s", "", finding["message"]["ja"]) in re.sub(r"\s", "", joined)
        for pointer, value in finding["evidence"].items():
            assert re.sub(r"\s", "", f"{pointer} = {json.dumps(value, ensure_ascii=False)}") in re.sub(r"\s", "", joined)


ODD = "名前\tTab\x07Bell\x1b[31mEsc\rCR\nsecond\tline\x0cFF\x0bVT\x08BS"
"""What a dossier's text may carry into a message: tabs after wide characters, control characters, a newline."""


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_text_to_a_file_is_what_rich_writes_there(lang: str) -> None:
    """Without a terminal the report is written without rich, byte for byte as rich wrote it (no rich to load)."""
    locale.set_language(lang)
    engine = make_engine(RULES, None, 180)
    broker = json.loads((SAMPLES / "kg-broker-holds-passports.json").read_text(encoding="utf-8"))
    records, stats = screen_files(engine, [str(SAMPLES)], None)
    odd = batch.screen_record(engine, "odd\tname.json", None, json.dumps({**broker, "name": ODD}).encode(), None)
    records += [odd, batch.error_record("bad\x07.json", [Problem("bad\x07.json", "invalid\tJSON\r", pointer="/a\tb")])]
    lines = text_lines(records, summary(stats))
    assert any("\t" in piece for _, segments in lines for piece, _style in segments)
    plain = io.StringIO()
    write_plain(lines, plain)
    with_rich = io.StringIO()
    print_text(records, summary(stats), Console(file=with_rich, width=120, soft_wrap=False, highlight=False))
    assert plain.getvalue() == with_rich.getvalue()


# --------------------------------------------------------------------------- input errors that say what to do


BAD = """{
  "kind": "candiate",
  "dossier_id": "KH-X-1",
  "country": "KH",
  "submitted": "2025/06/01",
  "identity": {"name": "Test Person"},
  "residnce": "abroad",
  "tests": [{"kind": "skills", "identity_verified": "yes"}]
}
"""


def _problems(raw: bytes | str) -> dict[str, tuple[int | None, str]]:
    with pytest.raises(InputError) as caught:
        load_dossier(raw, "bad.json")
    return {p.pointer or "": (p.line, p.message) for p in caught.value.problems}


def test_every_problem_at_once_with_its_line_and_what_to_do() -> None:
    found = _problems(BAD)
    assert set(found) == {"/kind", "/submitted", "/residnce", "/tests/0/identity_verified"}
    assert found["/kind"][0] == 2 and "candidate" in found["/kind"][1]
    assert found["/submitted"] == (5, 'not a date: use YYYY-MM-DD, e.g. 2025-06-01 (got "2025/06/01")')
    assert found["/residnce"] == (7, 'unknown field "residnce"; did you mean "residence"?')
    assert found["/tests/0/identity_verified"][0] == 8 and "true or false" in found["/tests/0/identity_verified"][1]


def test_input_errors_in_japanese() -> None:
    with locale.use_language("ja"):
        found = _problems(BAD)
    assert "YYYY-MM-DD の形で入力してください" in found["/submitted"][1]
    assert "「residence」の誤りではありませんか" in found["/residnce"][1]


def test_an_unknown_field_far_from_any_known_one_lists_what_is_accepted() -> None:
    doc = json.loads((SAMPLES / "kh-candidate-clean.json").read_text())
    doc["identity"]["zzz"] = 1
    ((line, message),) = _problems(json.dumps(doc, indent=2)).values()
    assert "accepted here: date_of_birth, name, nationality, passport_number" in message and line is not None


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    raw = (SAMPLES / "kh-candidate-clean.json").read_bytes()
    assert load_dossier(b"\xef\xbb\xbf" + raw, "bom.json") == load_dossier(raw, "plain.json")


def test_shift_jis_is_named() -> None:
    doc = json.loads((SAMPLES / "kh-candidate-clean.json").read_text())
    doc["identity"]["name"] = "山田 花子"
    found = _problems(json.dumps(doc, ensure_ascii=False).encode("shift_jis"))
    assert next(iter(found.values()))[1] == "the file is not UTF-8 text; it looks like Shift_JIS. Save it as UTF-8 and try again"


def test_japanese_errors_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(BAD)
    shutil.copy(SAMPLES / "kh-candidate-clean.json", tmp_path / "good.json")
    result = invoke("check", str(tmp_path), "--lang", "ja")
    assert result.exit_code == 2
    assert "bad.json:5: 日付ではありません" in result.output and "（/submitted）" in result.output
    assert "審査1件、読取不能1件" in result.output


# --------------------------------------------------------------------------- every command in Japanese


ENGLISH = re.compile(r"\b[A-Za-z][a-z']+(?:[ ,:]+[A-Za-z][a-z']+)+\b")
"""Two or more English words in a row: a sentence or a label that was not translated."""

CODES = re.compile(r"[\w.+-]*/[\w./+-]*|\b[A-Za-z]+[-_.][\w.:()-]+|\b[A-Z]{2,}\w*\b|--[\w-]+")
"""Paths, JSON pointers, ids, rule ids, codes in capitals and option names: not sentences."""


def _data_texts() -> list[str]:
    """The English a person may see in Japanese output because it is data: names in the samples and
    registries, the English texts of the packs (shown beside the Japanese by ``explain``), case names."""
    import yaml

    texts: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            texts.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in [*SAMPLES.glob("*.json"), *(RULES / "registries").glob("*.json")]:
        walk(json.loads(path.read_text(encoding="utf-8")))
    for path in RULES.glob("*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return sorted((t for t in texts if len(t) > 3), key=len, reverse=True)


PROPER_NAMES = ("Certificate of Registration",)
"""English names the Japanese texts give on purpose (the glossary: 登録証明書（Certificate of Registration）)."""


def _command_names() -> tuple[str, ...]:
    """``packs coverage``, ``dossier-rules report``...: commands a message tells the reader to run."""
    import click

    context = click.Context(main)
    names = []
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        names.append(f"dossier-rules {name}")
        if isinstance(command, click.Group):
            names.extend(f"{name} {sub}" for sub in command.commands)
    return tuple(sorted(names, key=len, reverse=True))


def _untranslated(output: str, data: list[str], extra: tuple[str, ...] = ()) -> list[str]:
    """Lines of ``output`` that still hold English words once data, ids and codes are taken out."""
    found = []
    for line in output.splitlines():
        text = line
        for known in (*extra, *PROPER_NAMES, *_command_names(), *data):
            if known in text:
                text = text.replace(known, " ")
        text = CODES.sub(" ", text)
        if ENGLISH.search(text):
            found.append(line)
    return found


@pytest.fixture(scope="module")
def japanese_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("ja")
    out = tmp / "results.jsonl"
    invoke("batch", str(SAMPLES), "--out", str(out), "--jobs", "1")
    locale.set_language("en")
    return {"results": out, "outbox": tmp / "outbox.sqlite", "db": tmp / "service.sqlite", "tmp": tmp}


def _trace_nodes(dossier: Path) -> tuple[str, ...]:
    """The condition texts of a trace (the packs' condition language, printed as written)."""
    result = invoke("trace", str(dossier), "--format", "json")
    nodes: list[str] = []

    def walk(step: dict) -> None:
        nodes.append(step["node"])
        for child in step.get("children", ()):
            walk(child)

    for rule in json.loads(result.output)["rules"]:
        for step in rule["trace"]:
            walk(step)
    return tuple(sorted(set(nodes), key=len, reverse=True))


def _outline(rule_id: str) -> tuple[str, ...]:
    from dossier_rules.conditions import outline
    from dossier_rules.packs import load_packs

    rule = load_packs(RULES).rule(rule_id)
    assert rule is not None
    return tuple(line.strip() for line in outline(rule.condition, 1))


def test_every_command_speaks_japanese_with_lang_after_the_subcommand(japanese_run: dict[str, Path]) -> None:
    """``--lang ja`` after the subcommand, for every command: no English sentence or label is left (data, ids and codes aside)."""
    results, outbox, db, tmp = japanese_run["results"], japanese_run["outbox"], str(japanese_run["db"]), japanese_run["tmp"]
    broker = SAMPLES / "kg-broker-holds-passports.json"
    commands: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        (("check", str(SAMPLES)), ()),
        (("batch", str(SAMPLES), "--out", str(tmp / "again.jsonl"), "--jobs", "1"), ()),
        (("report", str(results)), ()),
        (("report", str(results), "--format", "csv", "--view", "findings"), ()),
        (("diff", str(results), str(tmp / "again.jsonl")), ()),
        (("packs", "list"), ()),
        (("packs", "show", "kh"), ()),
        (("packs", "test", "kh"), ()),
        (("packs", "lint", str(RULES / "kh.yaml")), ()),
        (("packs", "compile", "kh"), ()),
        (("explain", "common.broker-holds-property"), _outline("common.broker-holds-property")),
        (("trace", str(broker)), _trace_nodes(broker)),
        (("registry", "list"), ()),
        (("registry", "show", "accredited-agencies", "--country", "KH"), ()),
        (("share", "build", str(results), "--outbox", str(outbox)), ()),
        (("share", "list", "--outbox", str(outbox)), ()),
        (("users", "list", "--db", db), ()),
    ]
    data = _data_texts()
    for args, extra in commands:
        result = invoke(*args, "--lang", "ja")
        assert result.exit_code in (0, 1), (args, result.output)
        left = _untranslated(result.output, data, extra)
        assert not left, f"{' '.join(args[:2])}: untranslated:\n" + "\n".join(left)


def test_users_add_asks_and_answers_in_japanese(japanese_run: dict[str, Path]) -> None:
    """``users add`` has a --lang of its own (the account's language); the command line speaks the locale's."""
    db = str(japanese_run["db"])
    result = CliRunner().invoke(
        main,
        ["users", "add", "hanako", "--role", "screener", "--db", db],
        input="correct horse battery\ncorrect horse battery\n",
        env={**NO_LOCALE, "LANG": "ja_JP.UTF-8"},
    )
    assert result.exit_code == 0, result.output
    assert "パスワード" in result.output and "ユーザー hanako を作成しました（審査担当者）" in result.output and "確認のためもう一度" in result.output


def test_the_english_check_notices_an_untranslated_line() -> None:
    """The check above would fail on an English label, and leaves data, ids and codes alone."""
    data = _data_texts()
    assert _untranslated("件数 │ records out", data) == ["件数 │ records out"]
    assert _untranslated("仲介機関「Mekong Example Recruiting (fictional)」 KH-BRK-0009 common.act-a-property-held /fees/0/payee", data) == []


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize(
    "command",
    [("batch", "--help"), ("share", "list", "--help"), ("registry", "--help"), ("packs", "test", "--help"), ("trace", "--help"), ("explain", "--help")],
)
def test_lang_anywhere_on_the_line(command: tuple[str, ...], where: str) -> None:
    args = ("--lang", "ja", *command) if where == "before" else (*command, "--lang", "ja")
    result = invoke(*args)
    assert result.exit_code == 0 and "使い方:" in result.output
