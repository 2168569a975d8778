"""One vocabulary: an outcome, a severity, a kind of dossier, a role or a notice state reads the same on every surface.

The words come from :data:`dossier_rules.labels.TERMS`. These tests read each surface back (the command line's
tables, CSV and XLSX, the result page's banner, the catalog) in both languages and fail when one of them words a
code on its own.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from dossier_rules.cli import main
from dossier_rules.labels import TERMS, term
from dossier_rules.locale import translate
from dossier_rules.locale.catalog import read_catalog
from dossier_rules.report import OUTCOMES
from dossier_rules.web.view import VERDICTS

from .test_results import corpus

SEVERITIES = ("block", "warn", "info")
LANGS = ("ja", "en")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results holding every outcome and every severity (see ``tests/test_results.py``)."""
    path = tmp_path_factory.mktemp("vocabulary") / "results.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in corpus()), encoding="utf-8")
    return path


def report(results: Path, lang: str, *args: str) -> str:
    outcome = CliRunner().invoke(main, ["report", str(results), "--lang", lang, "--no-excel", *args])
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


def words(table: str, lang: str) -> list[str]:
    return [term(code, lang, table) for code in TERMS[table]]


def test_the_terms_are_distinct_within_each_table() -> None:
    for name, table in TERMS.items():
        for index in (0, 1):
            wording = [label[index] for label in table.values()]
            assert len(set(wording)) == len(wording), name


@pytest.mark.parametrize("lang", LANGS)
def test_csv_words_outcomes_and_severities_as_the_vocabulary(results: Path, lang: str) -> None:
    by_outcome = list(csv.reader(io.StringIO(report(results, lang, "--format", "csv", "--view", "outcome"))))
    assert [row[0] for row in by_outcome[1:]] == [term(o, lang, "outcome") for o in OUTCOMES]
    by_country = next(csv.reader(io.StringIO(report(results, lang, "--format", "csv", "--view", "country"))))
    assert [term(o, lang, "outcome") for o in OUTCOMES] == by_country[2:7]
    by_article = next(csv.reader(io.StringIO(report(results, lang, "--format", "csv", "--view", "article"))))
    assert by_article[3:6] == [term(s, lang, "severity") for s in SEVERITIES]
    dossiers = list(csv.DictReader(io.StringIO(report(results, lang, "--format", "csv", "--view", "dossiers"))))
    outcome_header = translate("outcome", lang)
    assert {row[outcome_header] for row in dossiers} == set(words("outcome", lang))
    assert {row[translate("kind", lang)] for row in dossiers} <= set(words("dossier_kind", lang)) | {""}


@pytest.mark.parametrize("lang", LANGS)
def test_the_text_tables_word_every_outcome_and_severity_as_the_vocabulary(results: Path, lang: str) -> None:
    text = report(results, lang, "--view", "outcome", "--view", "article")
    for wording in (*words("outcome", lang), *words("severity", lang)):
        assert wording in text
    cells = {cell.strip() for line in text.splitlines() for cell in line.split("│")} | {cell.strip() for line in text.splitlines() for cell in line.split("┃")}
    assert not cells & {*TERMS["outcome"], *SEVERITIES} - {term(code, lang) for code in (*TERMS["outcome"], *SEVERITIES)}


@pytest.mark.parametrize("lang", LANGS)
def test_the_workbook_words_outcomes_and_severities_as_the_vocabulary(results: Path, lang: str, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    report(results, lang, "--format", "xlsx", "--output", str(path))
    book = load_workbook(path, read_only=True)
    dossiers = [list(row) for row in book[translate("by dossier", lang)].iter_rows(values_only=True)]
    head = dossiers[0]
    assert head[6:9] == [term(s, lang, "severity") for s in SEVERITIES]
    assert {row[head.index(translate("outcome", lang))] for row in dossiers[1:]} == set(words("outcome", lang))
    findings = [list(row) for row in book[translate("all findings", lang)].iter_rows(values_only=True)]
    column = findings[0].index(translate("severity", lang))
    assert {row[column] for row in findings[1:]} == set(words("severity", lang))


@pytest.mark.parametrize("lang", LANGS)
def test_the_result_pages_banner_opens_with_the_outcome_as_the_vocabulary_words_it(lang: str) -> None:
    for code, (_css, banner) in VERDICTS.items():
        shown = translate(banner, lang)
        assert shown.lower().startswith(term(code, lang, "outcome").lower()), (code, shown)


def test_the_catalog_words_no_code_of_the_vocabulary_on_its_own() -> None:
    """A message id that is a code or the English of a term must read as the term does (else it is a second table)."""
    # a dossier field's name is the field vocabulary's (labels.field_label), not a term: "accreditation" the field
    # (認定) is not "accreditation" the communication received (認定の通知)
    catalog = {
        m.id: m.string for m in read_catalog("ja") if isinstance(m.id, str) and m.id and not any("dossier model" in str(where) for where, _line in m.locations)
    }
    clashes = []
    for table in TERMS.values():
        for code, (ja, en) in table.items():
            for msgid in {code, en, en.capitalize()}:
                if msgid in catalog and catalog[msgid] != ja:
                    clashes.append((msgid, catalog[msgid], ja))
    assert clashes == []


def test_a_field_has_one_name_on_the_form_the_result_page_and_the_spreadsheet() -> None:
    """The Excel template's header of a field, the form's label and the result page's evidence label read alike
    (glossary, section 3: they were two vocabularies, e.g. 受取人 on the form and 受領者 in the sheet)."""
    from dossier_rules.locale import use_language
    from dossier_rules.spreadsheets import layout
    from dossier_rules.web import forms, words

    columns = {(sheet.group, column.path): column for sheet in layout() for column in sheet.columns}
    cases = {
        (None, ("identity", "name")): "/identity/name",
        ("fees", ("payee", "name")): "/fees/0/payee/name",
        ("fees", ("basis_shown",)): "/fees/0/basis_shown",
        ("tests", ("name",)): "/tests/0/name",
        ("tests", ("certificate_number",)): "/tests/0/certificate_number",
        ("held_property", ("holder", "name")): "/held_property/0/holder/name",
        ("dependents", ("accompanying",)): "/dependents/0/accompanying",
    }
    with use_language("ja"):
        for (group, path), pointer in cases.items():
            sheet_words = columns[(group, path)].japanese(group).split(" › ")
            page_words = words.pointer_words(pointer).split(" › ")[1 if group else 0 :]
            steps = [step for step in pointer.strip("/").split("/") if not step.isdigit()]
            form_words = [words.field_words(step, parent) for parent, step in zip(["", *steps], steps, strict=False)][1 if group else 0 :]
            assert sheet_words == page_words == form_words, (pointer, sheet_words, page_words, form_words)
            assert forms.field_label(steps[-1]) in (form_words[-1], words.field_words(steps[-1]))


@pytest.mark.parametrize("lang", LANGS)
def test_the_batch_progress_line_words_outcomes_as_the_vocabulary(lang: str) -> None:
    from dossier_rules.batch import Stats
    from dossier_rules.cli.batch import progress_words
    from dossier_rules.locale import use_language

    stats = Stats()
    for record in corpus():
        stats.count(record)
    with use_language(lang):
        line = progress_words(stats, 10.0)
    for code in OUTCOMES:
        assert term(code, lang, "outcome") in line, (code, line)
    assert ("clear" not in line and "review" not in line.replace("needs review", "")) if lang == "en" else "読めない" not in line
