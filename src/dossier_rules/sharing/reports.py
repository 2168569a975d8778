"""Reading the reports notices are built from: ``check --format json|jsonl`` and ``batch`` output, error records skipped.

JSON Lines stream a bounded line at a time (a batch output's run header
completes its lean reports); a single JSON document is read whole up to
:data:`MAX_REPORT_DOCUMENT_BYTES`. A report that cannot be read becomes problems
for its file, never a notice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..batch import jsonl_items
from ..locale import _
from ..problems import InputError, Problem
from ..report import Report
from ..results import complete, is_header, is_result
from ..sources import MAX_DOSSIER_BYTES, open_input, problems_from_validation, read_stream

# --------------------------------------------------------------------------- reading reports


MAX_REPORT_DOCUMENT_BYTES = 64 * 1024 * 1024
"""A single JSON document of reports (``check --format json``) is read whole up to this size; JSON Lines stream."""


def read_reports(paths: Iterable[Path]) -> Iterator[tuple[str, Report | list[Problem]]]:
    """Reports from ``check --format json|jsonl`` or ``batch`` output; error records are skipped.

    JSON Lines (``batch``, ``check --format jsonl``) are read one bounded line
    at a time, so a file of any number of reports costs the memory of one.
    """
    for path in paths:
        source = str(path)
        try:
            handle = open_input(path)
        except InputError as exc:
            yield source, exc.problems
            continue
        with handle:
            first = handle.readline(MAX_DOSSIER_BYTES + 1)
            handle.seek(0)
            if _one_json_object(first):
                yield from _report_lines(handle, source)
            else:
                yield from _report_document(handle, source)


def _one_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _report_lines(handle: Any, source: str) -> Iterator[tuple[str, Report | list[Problem]]]:
    header: dict[str, Any] | None = None  # a batch output's run header: what its lean reports leave out
    for _item_source, number, raw, problem in jsonl_items(handle, source):
        if problem is not None:
            yield source, [problem]
            continue
        assert raw is not None, "an item holds its record or its problem"
        try:
            record = json.loads(raw)
        except ValueError as exc:
            yield source, [Problem(source, _("invalid JSON: {error}", error=exc), kind="syntax", line=number)]
            continue
        if isinstance(record, dict) and is_header(record):
            header = record
            continue
        yield from _report(source, number, record, header)


def _report_document(handle: Any, source: str) -> Iterator[tuple[str, Report | list[Problem]]]:
    try:
        whole = json.loads(read_stream(handle, source, MAX_REPORT_DOCUMENT_BYTES))
    except InputError as exc:
        yield source, exc.problems
        return
    except ValueError as exc:
        yield source, [Problem(source, _("invalid JSON: {error}", error=exc), kind="syntax")]
        return
    records = whole.get("results", []) if isinstance(whole, dict) and "results" in whole else [whole]
    for record in records if isinstance(records, list) else []:
        yield from _report(source, None, record, None)


def _report(source: str, line: int | None, record: Any, header: dict[str, Any] | None) -> Iterator[tuple[str, Report | list[Problem]]]:
    if not isinstance(record, dict) or "errors" in record or not is_result(record):
        return
    try:
        yield source, Report.model_validate(complete(record, header))
    except ValidationError as exc:
        yield source, problems_from_validation(source, exc, line)
