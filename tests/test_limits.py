"""Every read, list and error record has a bound; hostile packs and registry files are refused with a reason."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dossier_rules import input_errors
from dossier_rules.cli import main
from dossier_rules.model import MAX_LIST_ITEMS
from dossier_rules.packs import load_packs
from dossier_rules.problems import MAX_PROBLEMS, InputError
from dossier_rules.sources import MAX_QUOTED, duplicate_key, load_dossier, read_bytes

from .conftest import MINI_PACK, SAMPLES, write_pack
from .test_robustness import results_in

CLEAN = json.loads((SAMPLES / "kh-candidate-clean.json").read_text(encoding="utf-8"))


def invoke(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def problems_of(data: dict) -> list:
    with pytest.raises(InputError) as info:
        load_dossier(json.dumps(data).encode(), "d.json")
    return info.value.problems


# ---------------------------------------------------------------- error records and findings


def test_an_error_record_lists_at_most_max_problems_and_counts_the_rest() -> None:
    data = dict(CLEAN, fees=[{"amount": -1, "currency": "usd"}] * MAX_LIST_ITEMS)
    problems = problems_of(data)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].kind == "truncated" and problems[-1].message.startswith(f"{2 * MAX_LIST_ITEMS - MAX_PROBLEMS} more")


def test_a_list_above_the_schema_maximum_is_one_problem_however_long() -> None:
    problems = problems_of(dict(CLEAN, languages=["X"] * 400_000))
    assert [(p.pointer, p.kind) for p in problems] == [("/languages", "schema")]
    schema = json.loads((SAMPLES.parent / "schemas" / "candidate.schema.json").read_text())
    assert schema["properties"]["fees"]["anyOf"][0]["maxItems"] == MAX_LIST_ITEMS


def test_messages_quote_a_bounded_excerpt_never_the_whole_document() -> None:
    secret = "PASSPORT-SECRET-" + "x" * 500
    problems = problems_of(dict(CLEAN, identity={"name": "A", "passport_number": secret, "extra": 1}, tests=[secret]))
    text = " ".join(p.message for p in problems)
    assert secret not in text and all(len(p.message) < 4 * MAX_QUOTED + 100 for p in problems)
    problems = problems_of([CLEAN, {"identity": {"passport_number": secret}}])  # type: ignore[arg-type]
    assert secret not in " ".join(p.message for p in problems)


def test_duplicate_keys_are_refused_naming_the_key() -> None:
    raw = json.dumps(CLEAN)[:-1] + ', "residence": "japan", "residence": "abroad"}'
    with pytest.raises(InputError) as info:
        load_dossier(raw.encode(), "d.json")
    assert "'residence'" in info.value.problems[0].message
    nested = json.dumps(CLEAN).replace('"identity": {', '"identity": {"name": "B", ', 1)
    with pytest.raises(InputError, match="'name'"):
        load_dossier(nested.encode(), "d.json")
    assert load_dossier(json.dumps({**CLEAN, "identity": {"name": 'a":"b'}}).encode(), "d.json")


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ('{"a": 1, "a": 2}', "a"),
        ('{"a": {"b": "x:y", "b": "z"}}', "b"),
        ('{"a": "x", "b": {"c": [{"d": 1, "d": 1}]}}', "d"),
        ('{"a": "\\u003a", "a": "\\u003A"}', "a"),  # escaped colons: the quick colon count does not apply
        ('{"k\\u003a": 1, "k:": 2}', "k:"),  # the same key written two ways
        ('{"a": "::", "b": 1}', None),
        ('{"a": "\\u003a", "b": "x:y"}', None),
        ('{"a":' * 300 + "1" + "}" * 300, None),  # deeper than orjson writes back
        ('{"a":' * 300 + '{"b": 1, "b": 2}' + "}" * 300, "b"),
    ],
)
def test_duplicate_keys_are_found_however_the_document_is_written(raw: str, key: str | None) -> None:
    assert duplicate_key(raw.encode(), json.loads(raw)) == key


# ---------------------------------------------------------------- bounded reads


def test_a_device_or_fifo_among_dossiers_is_an_error_record_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(CLEAN))
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.json")
    result = invoke("check", str(tmp_path), "--format", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("errors", [{}])[0].get("kind") for r in records] == [None, "not_regular", "not_regular"]
    assert result.exit_code == 2


def test_the_read_limit_counts_bytes_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 100)
    with pytest.raises(InputError, match="larger than 10 bytes"):
        read_bytes(big, limit=10)


def test_stdin_is_read_with_the_same_bound() -> None:
    result = invoke("check", "-", "--format", "jsonl", stdin=b" " * (4 * 1024 * 1024 + 10))
    assert json.loads(result.stdout)["errors"][0]["kind"] == "too_large" and result.exit_code == 2


def test_an_over_long_line_is_skipped_without_holding_it(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    with source.open("wb") as handle:
        handle.write(json.dumps(CLEAN).encode() + b"\n" + b"x" * (9 * 1024 * 1024) + b"\n" + json.dumps(CLEAN).encode() + b"\n")
    result = invoke("batch", str(source), "--out", str(tmp_path / "o.jsonl"), "--jobs", "1")
    out = results_in(tmp_path / "o.jsonl")
    assert ["errors" in r for r in out] == [False, True, False] and out[1]["errors"][0]["kind"] == "too_large"
    assert result.exit_code == 2


# ---------------------------------------------------------------- packs


def test_an_alias_bomb_in_a_condition_is_refused_quickly(tmp_path: Path) -> None:
    bomb = "".join(f"    - &l{i} [{', '.join([f'*l{i - 1}' if i else '{missing: certificate}'] * 9)}]\n" for i in range(12))
    text = MINI_PACK.replace("pack:\n", "bombs:\n" + bomb + "pack:\n", 1)
    write_pack(tmp_path, "xx.yaml", text)
    done = threading.Event()
    errors: list[str] = []

    def load() -> None:
        try:
            load_packs(tmp_path)
        except InputError as exc:
            errors.append(str(exc))
        done.set()

    threading.Thread(target=load, daemon=True).start()
    assert done.wait(60), "loading the pack did not finish"
    assert errors and "aliases" in errors[0]


def test_a_deeply_nested_pack_is_refused_with_a_message(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("missing: certificate", "not: " + "{not: " * 2000 + "{missing: certificate}" + "}" * 2000))
    with pytest.raises(InputError, match="nested more than"):
        load_packs(tmp_path)
    write_pack(tmp_path, "xx.yaml", "a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(InputError, match="nested more than"):
        load_packs(tmp_path)


def test_pack_size_and_rule_count_are_bounded(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK + "#" + "x" * (1024 * 1024) + "\n")
    with pytest.raises(InputError, match="larger than"):
        load_packs(tmp_path)


# ---------------------------------------------------------------- registry import


def registry_import(csv_file: Path, out: Path, *extra: str):
    return invoke("registry", "import", str(csv_file), "--country", "KH", "--kind", "accredited-agencies", "--source", "s", "--registries", str(out), *extra)


def test_an_unterminated_quote_imports_nothing(tmp_path: Path) -> None:
    csv_file = tmp_path / "l.csv"
    csv_file.write_text('id,name\nA-1,"Agency one\nA-2,Agency two\nA-3,Agency three\n')
    result = registry_import(csv_file, tmp_path / "out")
    assert result.exit_code == 2 and "line 2" in result.stderr and "quote" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_column_given_twice_is_refused(tmp_path: Path) -> None:
    csv_file = tmp_path / "l.csv"
    csv_file.write_text("id,name,name\nA-1,One,Two\n")
    result = registry_import(csv_file, tmp_path / "out")
    assert result.exit_code == 2 and "given twice name" in result.stderr


def test_rejected_rows_are_written_safe_for_spreadsheets_and_files_are_readable(tmp_path: Path) -> None:
    csv_file = tmp_path / "l.csv"
    csv_file.write_text('id,name,listed_from\nA-1,One,\n=HYPERLINK("http://x"),@SUM(1),bad\n+A,-B,2025-13-01\n')
    out = tmp_path / "out"
    result = registry_import(csv_file, out, "--skip-bad")
    assert result.exit_code == 1
    rejected = (out / "kh-accredited-agencies.json.rejected.csv").read_text().splitlines()[1:]
    cells = [cell for row in rejected for cell in row.split(",")]
    assert not any(cell.lstrip('"').startswith(("=", "+", "-", "@")) for cell in cells), rejected
    assert "'=HYPERLINK" in rejected[0]
    assert (
        stat.S_IMODE((out / "kh-accredited-agencies.json").stat().st_mode)
        == stat.S_IMODE((SAMPLES.parent / "rules" / "registries" / "kh-accredited-agencies.json").stat().st_mode)
        == 0o644
    )


# ---------------------------------------------------------------- large registries


def test_a_large_registry_is_looked_up_through_an_index_built_once_for_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier_rules import registries

    monkeypatch.setattr(registries, "INDEX_ABOVE_BYTES", 200)
    csv_file = tmp_path / "l.csv"
    rows = [f"ACC-{n},Agency {n},2020-01-01,,," for n in range(50)] + ["ACC-7,Agency 7 again,2010-01-01,2015-01-01,revoked,"]
    csv_file.write_text("id,name,listed_from,ended_on,ended_because,note\n" + "\n".join(rows) + "\n")
    out = tmp_path / "regs"
    assert registry_import(csv_file, out).exit_code == 0
    target = out / "kh-accredited-agencies.json"
    indexes = sorted(out.glob(".kh-accredited-agencies.*.index.sqlite"))
    assert len(indexes) == 1 and registries.file_sha256(target)[:32] in indexes[0].name
    loaded = registries.load_registry(target)
    assert isinstance(loaded.index, registries.RegistryIndex) and loaded.registry.entries == [] and loaded.count == 51
    assert [e.name for e in loaded.index.get("ACC-7")] == ["Agency 7", "Agency 7 again"] and loaded.index.get("nope") == ()
    view = registries.Registries({loaded.key: loaded}).view("KH", registries.date(2016, 1, 1))
    assert view.revoked("accredited-agencies", "ACC-7") and not view.listed("accredited-agencies", "ACC-999")
    assert [e.id for e in loaded.entries()][:2] == ["ACC-0", "ACC-1"]
    # the file changes: its old index no longer serves it, a new one is built and the old one removed
    target.write_text(target.read_text().replace("Agency 7 again", "Agency seven"))
    reloaded = registries.load_registry(target)
    assert [e.name for e in reloaded.index.get("ACC-7")] == ["Agency 7", "Agency seven"]
    assert len(list(out.glob(".kh-accredited-agencies.*.index.sqlite"))) == 1
    listed = json.loads(invoke("registry", "list", "--registries", str(out), "--format", "json").output)
    assert listed[0]["entries"] == 51 and listed[0]["sha256"] == reloaded.sha256


# ---------------------------------------------------------------- bounded work for a hostile dossier

CPU_BOUND = 5.0
"""CPU seconds a 1 MB hostile dossier may cost: generous (it takes about 0.3 s); before the line index it took 33 s."""


def unknown_keys(count: int = 80_000) -> bytes:
    """A dossier of about 1 MB: the clean sample with ``count`` members no model has, one per line."""
    data = {**CLEAN, **{f"x{i:06d}": 1 for i in range(count)}}
    return json.dumps(data, indent=1).encode()


def unknown_keys_in_items() -> bytes:
    """About 600 KB within every size limit: 200 fees of 199 members each, most unknown, so each must be located."""
    fee = CLEAN["fees"][0]
    fees = [{**fee, **{f"x{j:03d}": 1 for j in range(199 - len(fee))}} for _ in range(200)]
    return json.dumps({**CLEAN, "fees": fees}, indent=1).encode()


def cpu_of(work: Any) -> tuple[Any, float]:
    """What ``work()`` returns and the CPU seconds of this process (every thread, the test client's too) it took."""
    start = time.process_time()
    out = work()
    return out, time.process_time() - start


def test_errors_are_located_with_one_newline_index_and_a_cap_on_values(monkeypatch: pytest.MonkeyPatch) -> None:
    text = unknown_keys().decode()
    recorded = []
    real = input_errors._Walker.record
    monkeypatch.setattr(input_errors._Walker, "record", lambda self, *a, **k: recorded.append(1) or real(self, *a, **k))
    lines = input_errors.pointer_lines(text)
    assert len(lines) == input_errors.MAX_LOCATED and len(recorded) <= 2 * input_errors.MAX_LOCATED + 1  # a key, then its value; then it stops
    assert lines["/x000000"] == text[: text.index('"x000000"')].count("\n") + 1
    assert lines["/identity/name"] == text[: text.index('"name"')].count("\n") + 1


@pytest.mark.parametrize("raw", [unknown_keys(), unknown_keys_in_items()], ids=["80000-top-level-keys", "200-items-of-199-keys"])
def test_a_hostile_dossier_is_one_error_record_from_check_in_bounded_cpu(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(raw)
    (result, cpu) = cpu_of(lambda: invoke("check", str(path), "--format", "json"))
    assert result.exit_code == 2 and cpu < CPU_BOUND
    (record,) = json.loads(result.output)["results"]
    assert record["outcome"] == "unreadable" and 1 <= len(record["errors"]) <= MAX_PROBLEMS + 1


def test_a_hostile_dossier_is_one_error_record_from_the_api_and_the_page_in_bounded_cpu(tmp_path: Path) -> None:
    from dossier_rules.web import router

    from .server_support import PASSWORD, make_service

    service = make_service(tmp_path)
    service.app.include_router(router)
    raw = unknown_keys()
    headers = {**service.as_("screener"), "content-type": "application/json"}
    (response, cpu) = cpu_of(lambda: service.client.post("/api/v1/screenings", content=raw, headers=headers))
    assert response.status_code == 422 and "errors" in response.json() and cpu < CPU_BOUND
    page = service.client.post("/login", data={"username": "screener", "password": PASSWORD}, follow_redirects=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    files = [("files", ("big.json", raw, "application/json"))]
    (response, cpu) = cpu_of(lambda: service.client.post("/screenings/upload", data={"csrf_token": csrf}, files=files))
    assert response.status_code == 422 and "big.json" in response.text and "80021" in response.text and cpu < CPU_BOUND


def test_nesting_no_dossier_has_is_refused_with_a_message_not_an_internal_error() -> None:
    text = json.dumps(CLEAN)
    for depth in (100, 500, 1000):
        with pytest.raises(InputError) as info:
            load_dossier(text.replace('"km"', "[" * depth + "]" * depth).encode(), "d.json")
        problems = info.value.problems
        assert [p.kind for p in problems] == ["too_large"] and "32" in problems[0].message
