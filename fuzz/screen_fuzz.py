"""Long fuzz run over the screening pipeline: mutated dossiers, packs and registry CSV.

What must hold for every input (the oracle, shared with ``tests/test_fuzz.py``):

* dossiers: no exception escapes screening; records in = records out; a
  record the published schema (``schemas/dossier.schema.json``) rejects, or
  that is not JSON, gets an error record, and one it accepts gets a report;
* packs: loading gives a pack set or an ``InputError``, nothing else;
* registry CSV: parsing gives an import result or an ``InputError``, and
  every entry it keeps is valid;
* whole files (the path ``check``, the API and the page upload take: one
  multi-line document, located by line and JSON pointer when it is wrong):
  the same verdicts as records, and no file costs more than ``--max-cpu``
  seconds of CPU. Files are grown the ways an attacker grows them: thousands
  of unknown keys, deep nesting, long lists, wide items.

Run: ``python fuzz/screen_fuzz.py --inputs 1000000 --files 200000``
(``make fuzz``). The mutations are drawn from a seeded generator, so a run
is reproducible; the first failing input is written to ``fuzz/failures/``
and the run exits 1. Each part ends with its inputs per second and its
slowest input (for records, the slowest chunk of 512).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from dossier_rules import batch
from dossier_rules.engine import Engine
from dossier_rules.packs import load_packs
from dossier_rules.problems import InputError
from dossier_rules.registries import Entry, load_registries, parse_csv
from dossier_rules.sources import MAX_DOSSIER_BYTES, duplicate_key

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.json"))


class Oracle:
    """Screens records in-process and checks the invariants above."""

    def __init__(self) -> None:
        self.engine = Engine(load_packs(ROOT / "rules"), load_registries(ROOT / "rules" / "registries"))
        schema = json.loads((ROOT / "schemas" / "dossier.schema.json").read_text(encoding="utf-8"))
        self.schema = jsonschema_rs.validator_for(schema, validate_formats=True)
        self.accepted_count = 0
        batch._install(self.engine, None, False)

    def accepted(self, raw: bytes) -> bool:
        """Whether the published schema accepts ``raw`` (as JSON without repeated keys; a file may start with a UTF-8 byte order mark)."""
        raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        return self.schema.is_valid(data) and duplicate_key(raw, data) is None

    def screen(self, raws: list[bytes]) -> list[str]:
        """Violations of the invariants for these records (empty when all hold)."""
        items = [("fuzz", n, raw, None) for n, raw in enumerate(raws, 1)]
        try:
            blob, _ = batch.screen_chunk(items)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - the point is that nothing escapes
            return [f"screening raised {type(exc).__name__}: {exc}"]
        records = [orjson.loads(line) for line in blob.splitlines()]
        if len(records) != len(raws):
            return [f"{len(raws)} records in, {len(records)} out"]
        problems = []
        for n, (raw, record) in enumerate(zip(raws, records, strict=True)):
            expected = self.accepted(raw)
            self.accepted_count += expected
            if expected != ("errors" not in record):
                problems.append(
                    f"record {n}: schema {'accepts' if expected else 'rejects'} it but got {'an error record' if expected else 'a report'}: {record}"
                )
            elif "errors" in record and any(e["kind"] == "internal" for e in record["errors"]):
                problems.append(f"record {n}: internal error {record['errors']}")
        return problems

    def screen_file(self, raw: bytes, max_cpu: float) -> tuple[float, list[str]]:
        """CPU seconds screening ``raw`` as one file took, and the violations: the invariants of records, and ``max_cpu``."""
        started = time.process_time()
        try:
            record = batch.screen_record(self.engine, "fuzz.json", None, raw, None)
        except Exception as exc:  # noqa: BLE001 - the point is that nothing escapes
            return time.process_time() - started, [f"screening the file raised {type(exc).__name__}: {exc}"]
        cpu = time.process_time() - started
        expected = self.accepted(raw)
        self.accepted_count += expected
        problems = []
        if expected != ("errors" not in record):
            problems.append(
                f"schema {'accepts' if expected else 'rejects'} the file but got {'an error record' if expected else 'a report'}: {str(record)[:2000]}"
            )
        elif "errors" in record and any(e["kind"] == "internal" for e in record["errors"]):
            problems.append(f"internal error {record['errors']}")
        if cpu > max_cpu:
            problems.append(f"screening the file took {cpu:.2f} s of CPU, more than {max_cpu} s")
        return cpu, problems


def check_pack(text: str) -> str | None:
    """A violation if loading this pack text raises anything but ``InputError``."""
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "xx.yaml").write_text(text, encoding="utf-8", errors="replace")
        try:
            load_packs(Path(directory))
        except InputError:
            pass
        except Exception as exc:  # noqa: BLE001
            return f"loading the pack raised {type(exc).__name__}: {exc}"
    return None


def check_csv(text: str) -> str | None:
    """A violation if parsing this CSV raises anything but ``InputError`` or keeps an invalid entry."""
    try:
        result = parse_csv(text, "fuzz.csv")
    except InputError:
        return None
    except Exception as exc:  # noqa: BLE001
        return f"parsing the CSV raised {type(exc).__name__}: {exc}"
    for entry in result.entries:
        Entry.model_validate(entry.model_dump())
    return None


# --------------------------------------------------------------------------- the mutator

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1e16,
    5e-324,
    10**30,
    -0.0,
    1.5e300,
    "",
    " ",
    "\x00",
    "é",
    "\u202e",
    "x" * 5000,
    "2025-01-0,",
    "2.25-01-01",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2024-02-29",
    "2025-02-29",
    "2025-13-01",
    "\uff11\uff19\uff19\uff19-01-01",
    [],
    {},
    [None],
    {"": None},
    ["KH"] * 250,
    "KH",
    "JP",
    "candidate",
    "broker",
]


def mutate_value(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """``value`` with one random change somewhere inside it."""
    if isinstance(value, dict) and value and depth < 6 and rng.random() < 0.7:
        key = rng.choice(list(value))
        out = dict(value)
        roll = rng.random()
        if roll < 0.15:
            del out[key]
        elif roll < 0.25:
            out[rng.choice(["extra", key + "_", "kind", "id"])] = rng.choice(ODD_VALUES)
        else:
            out[key] = mutate_value(rng, value[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 6 and rng.random() < 0.7:
        out = list(value)
        index = rng.randrange(len(out))
        roll = rng.random()
        if roll < 0.15:
            del out[index]
        elif roll < 0.3:
            out.extend([out[index]] * rng.choice([1, 5, 300]))
        else:
            out[index] = mutate_value(rng, out[index], depth + 1)
        return out
    return rng.choice(ODD_VALUES)


def mutate_bytes(rng: random.Random, raw: bytes) -> bytes:
    """Byte-level damage: truncation, a flipped byte, a duplicated key, invalid UTF-8."""
    roll = rng.random()
    if roll < 0.3:
        return raw[: rng.randrange(len(raw) + 1)]
    if roll < 0.6:
        data = bytearray(raw)
        data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if roll < 0.8 and raw.endswith(b"}"):
        return raw[:-1] + b', "kind": "candidate"}'
    return raw.replace(b'"', b'\xff"', 1)


def dossier_inputs(rng: random.Random, count: int) -> list[bytes]:
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in SAMPLES]
    out = []
    for _ in range(count):
        data = rng.choice(samples)
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            data = mutate_value(rng, data)
        raw = json.dumps(data, ensure_ascii=rng.random() < 0.5).encode()
        if rng.random() < 0.2:
            raw = mutate_bytes(rng, raw)
        out.append(raw.replace(b"\n", b" "))
    return out


def grow(rng: random.Random, data: Any) -> tuple[Any, str]:
    """``data`` grown as an attacker grows a file, and how: unknown keys, nesting, a long list, wide items."""
    roll = rng.random()
    if not isinstance(data, dict):
        return data, "not an object"
    if roll < 0.3:
        count = rng.choice([50, 500, 5_000, 80_000])
        where = rng.choice(["top", "item"])
        extra = {f"x{n:06d}": rng.choice([1, "v", None]) for n in range(count)}
        fees = data.get("fees")
        if where == "item" and isinstance(fees, list) and fees and isinstance(fees[0], dict):
            return {**data, "fees": [{**fees[0], **extra}, *fees[1:]]}, f"{count} unknown keys in a fee"
        return {**data, **extra}, f"{count} unknown keys"
    if roll < 0.5:
        depth = rng.choice([10, 33, 200, 900])
        nested: Any = "km"
        for _ in range(depth):
            nested = [nested] if rng.random() < 0.5 else {"a": nested}
        return {**data, "languages": [nested]}, f"nested {depth} deep"
    if roll < 0.7:
        count = rng.choice([199, 201, 5_000, 50_000])
        fees = data.get("fees")
        item = fees[0] if isinstance(fees, list) and fees else {"amount": 1}
        return {**data, "fees": [item] * count}, f"{count} fees"
    count = rng.choice([20, 199])
    width = rng.choice([20, 199])
    items = [{f"k{n}": rng.choice(ODD_VALUES[:12]) for n in range(width)} for _ in range(count)]
    return {**data, rng.choice(["documents", "tests", "contract_clauses", "incidents"]): items}, f"{count} items of {width} odd members"


def file_input(rng: random.Random, samples: list[Any]) -> tuple[bytes, str]:
    """One whole dossier file, pretty-printed over many lines as people save them, and what was done to it."""
    data = rng.choice(samples)
    how = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        data = mutate_value(rng, data)
    if rng.random() < 0.3:
        data, grown = grow(rng, data)
        how.append(grown)
    raw = json.dumps(data, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1, 2, 4, "\t"])).encode()
    if len(raw) > MAX_DOSSIER_BYTES:  # reading refuses a larger file before it is parsed: grow it only as far as that
        raw = json.dumps(data).encode()[:MAX_DOSSIER_BYTES]
        how.append("cut at the size limit")
    if rng.random() < 0.05:
        raw = b"\xef\xbb\xbf" + raw
        how.append("byte order mark")
    if rng.random() < 0.2:
        raw = mutate_bytes(rng, raw)
        how.append("bytes damaged")
    return raw, ", ".join(how) or "mutated"


PACK_TEXT = (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8").split('MINI_PACK = """', 1)[1].split('"""', 1)[0]


def pack_input(rng: random.Random) -> str:
    lines = PACK_TEXT.splitlines()
    for _ in range(rng.choice([1, 2, 3])):
        index = rng.randrange(len(lines))
        roll = rng.random()
        if roll < 0.3:
            del lines[index]
        elif roll < 0.6:
            lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)] + rng.choice(
                ["&a", "*a", "!!python/object:os.system", "{", "[", ":", "'", " - ", "\t", "<<: *a"]
            )
        else:
            lines.insert(index, lines[rng.randrange(len(lines))])
    return "\n".join(lines) + "\n"


def csv_input(rng: random.Random) -> str:
    header = rng.choice(["id,name", "id,name,listed_from,ended_on,ended_because,note", "id,name,name", "name", "id,name,extra", ""])
    cells = ["A-1", "Name", "", '"', '"quoted', '=HYPERLINK("x")', "2025-01-01", "2025-13-01", "revoked", "x,y", "\r", "é", "\x00"]
    rows = [",".join(rng.choice(cells) for _ in range(rng.choice([1, 2, 6, 7]))) for _ in range(rng.choice([0, 1, 3]))]
    return "\n".join([header, *rows]) + rng.choice(["", "\n"])


def failed(seed: int, done: int, violations: list[str], inputs: list[bytes]) -> int:
    """Write the failing inputs to ``fuzz/failures/``, say so, and return the exit status 1."""
    failures = ROOT / "fuzz" / "failures"
    failures.mkdir(exist_ok=True)
    (failures / f"seed-{seed}-at-{done}.txt").write_text("\n\n".join(violations) + "\n\n" + b"\n".join(inputs).decode("utf-8", "replace"), encoding="utf-8")
    print(f"FAILED after {done} inputs: {violations[0][:2000]}", file=sys.stderr)
    return 1


def fuzz_files(oracle: Oracle, rng: random.Random, count: int, max_cpu: float, seed: int) -> int:
    """Screen ``count`` whole files; report inputs per second and the slowest; 1 at the first violation."""
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in SAMPLES]
    started, cpu_total = time.monotonic(), 0.0
    slowest = (0.0, 0, "")
    for done in range(1, count + 1):
        raw, how = file_input(rng, samples)
        cpu, violations = oracle.screen_file(raw, max_cpu)
        cpu_total += cpu
        slowest = max(slowest, (cpu, len(raw), how))
        if violations:
            return failed(seed, done, violations, [raw])
        if done % 10_000 == 0:
            print(f"files: {done:,}, {time.monotonic() - started:,.0f} s, slowest {slowest[0]:.3f} s CPU", flush=True)
    seconds = time.monotonic() - started
    print(
        f"files: {count:,} whole files in {seconds:,.0f} s ({count / max(seconds, 1e-9):,.0f}/s wall, {count / max(cpu_total, 1e-9):,.0f}/s CPU);"
        f" slowest {slowest[0]:.3f} s CPU: {slowest[1]:,} bytes ({slowest[2]})",
        flush=True,
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1_000_000, help="how many records (JSON Lines), packs and CSV files in all")
    parser.add_argument("--files", type=int, default=200_000, help="how many whole dossier files")
    parser.add_argument("--max-cpu", type=float, default=1.0, help="CPU seconds a whole file may cost before it counts as a failure")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    oracle = Oracle()
    if fuzz_files(oracle, random.Random(args.seed + 1), args.files, args.max_cpu, args.seed):
        return 1
    if args.inputs == 0:
        return 0
    counts: Counter[str] = Counter()
    started = time.monotonic()
    slowest_chunk = 0.0
    done = 0
    while done < args.inputs:
        size = min(512, args.inputs - done)
        packs = size // 256  # two packs and two CSV files per 512 inputs: a pack costs far more than a dossier
        raws = dossier_inputs(rng, size - 2 * packs)
        chunk_started = time.process_time()
        violations = oracle.screen(raws)
        slowest_chunk = max(slowest_chunk, time.process_time() - chunk_started)
        counts["dossiers"] += len(raws)
        for _ in range(packs):
            text = pack_input(rng)
            counts["packs"] += 1
            if (problem := check_pack(text)) is not None:
                violations.append(problem + "\n" + text)
            text = csv_input(rng)
            counts["csv"] += 1
            if (problem := check_csv(text)) is not None:
                violations.append(problem + "\n" + text)
        done += size
        if violations:
            return failed(args.seed, done, violations, raws)
        if done % 51_200 == 0:
            print(f"{done:,} inputs, {time.monotonic() - started:,.0f} s: {dict(counts, accepted=oracle.accepted_count)}", flush=True)
    seconds = time.monotonic() - started
    print(
        f"records: {done:,} inputs in {seconds:,.0f} s ({done / max(seconds, 1e-9):,.0f}/s), slowest chunk of 512 {slowest_chunk:.2f} s CPU,"
        f" seed {args.seed}: {dict(counts, accepted=oracle.accepted_count)}; no violation"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
