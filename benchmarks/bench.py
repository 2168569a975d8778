"""Throughput and memory of batch screening, measured against the floor in one run.

    python benchmarks/bench.py [--n 100000] [--memory-n 1000000] [--seed 7]

1. Generates N synthetic dossiers (seeded: the same N and seed give the same
   file) with a realistic mix: the five countries, about 10 % broker dossiers,
   about 70 % clean and the rest with one or two problems, and 1 % malformed
   records.
2. Runs, each in its own process, on the same file:
   * the floor: reading the lines and parsing each with orjson, nothing else;
   * ``dossier-rules batch`` with one job, and with one job per core;
   * the same with ``--engine rete`` (durable-rules), whose output must be identical;
   * the same batch on MEMORY_N records (the N-record file repeated), to show
     that peak memory does not grow with the input.
3. Prints records/s, records/s per core, peak memory (the largest resident
   set of any process of the run, from getrusage), the CPU seconds of each
   run (user + system, all its processes) and the ratios; the CPU seconds of
   starting a batch (a run of one record: imports, packs, schemas, summary),
   which a whole run pays once; and how much faster the machine itself ran
   one pure-Python process per job than one alone, just before the batch
   runs (on a shared machine, what others run takes cores from ``--jobs``).
4. Times each step of screening in one process on the first 20,000 records
   (read, checkpoint hash, parse, duplicate keys, schema, rules, report
   hash, summary counts, serialize; CPU time), to show where the time of a
   job goes.

Figures are only comparable within one run: the machine is shared and noisy.
When others use it, wall-time ratios mostly measure them; the CPU ratios
stay close to what an idle machine shows.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
COUNTRIES = [("KH", 0.3), ("LA", 0.15), ("KG", 0.15), ("TJ", 0.15), ("PK", 0.25)]
LANG = {"KH": ["km"], "LA": ["lo"], "KG": ["ky", "ru"], "TJ": ["tg", "ru"], "PK": ["ur", "en"]}
AGENCY = {
    "KH": ("MOLVT-ACC-0042", "Angkor Example Manpower Co. (fictional)"),
    "LA": ("LA-ACC-0210", "Vientiane Example Placement (fictional)"),
    "KG": ("KG-ACC-0008", "Issyk Example Labour (fictional)"),
    "TJ": ("TJ-ACC-0011", "Pamir Example Employment (fictional)"),
}
"""Each country's accredited agency in the sample registries: its number and the name the list gives it."""
SECTORS = ["agriculture", "construction", "nursing_care", "food_service", "building_cleaning", "accommodation", "industrial_products_manufacturing"]


def candidate(rng: random.Random, i: int, country: str) -> dict:
    agency = {
        "id": f"{country}-BRK-{rng.randrange(400):04d}",
        "name": f"Example Agency {rng.randrange(400)} (fictional)",
        "role": "sending_agency",
        "country": country,
    }
    if country in AGENCY:
        number, agency["name"] = AGENCY[country]
        agency["accreditation"] = {"ministry": "ministry", "number": number, "valid_from": "2021-01-01", "valid_to": "2027-12-31"}
    d = {
        "schema_version": "1.0",
        "dossier_id": f"{country}-BENCH-{i:08d}",
        "kind": "candidate",
        "country": country,
        "submitted": f"2025-{rng.randint(3, 9):02d}-{rng.randint(1, 28):02d}",
        "identity": {
            "name": f"Candidate {i} (fictional)",
            "nationality": country,
            "date_of_birth": f"{rng.randint(1985, 2004)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "passport_number": f"P{i:08d}",
        },
        "languages": LANG[country],
        "residence": "abroad" if rng.random() < 0.85 else "japan",
        "status_sought": "SSW1" if rng.random() < 0.9 else "SSW2",
        "sector": rng.choice(SECTORS),
        "hire_route": "sending_agency",
        "sending_agency": agency,
        "tests": [
            {"kind": "skills", "name": "Skills Test", "certificate_number": f"S-{i}", "taken_on": "2024-10-01", "identity_verified": True},
            {"kind": "japanese", "name": "JFT-Basic", "certificate_number": f"J-{i}", "taken_on": "2024-09-01", "identity_verified": True},
        ],
        "fees": [
            {
                "payee": {"id": agency["id"], "name": agency["name"], "role": "sending_agency"},
                "amount": rng.randrange(100, 3000),
                "currency": "USD",
                "purpose": "training",
                "basis_shown": True,
                "breakdown_explained": True,
                "explanation_language": LANG[country][0],
                "acknowledged": True,
            }
        ],
        "held_property": [],
        "contract_clauses": [],
        "incidents": [],
        "documents": [{"kind": "passport", "number": f"P{i:08d}", "finding": "authentic"}],
        "dependents": [],
        "receiving_organisation_id": f"RO-JP-{rng.randrange(2000):04d}",
    }
    if country == "KH":
        d["certificate"] = {"kind": "molvt_registration", "issuer": "MoLVT", "number": f"C-{i}", "issue_date": "2025-02-01"}
    if d["residence"] == "japan" and rng.random() < 0.5:
        d["hire_route"] = "direct"
        del d["sending_agency"]
    return d


PROBLEMS = [
    lambda d, rng: d["fees"][0].update(basis_shown=False, breakdown_explained=False),
    lambda d, rng: d["held_property"].append(
        {"item": "deposit", "amount": 500, "currency": "USD", "holder": {"name": "Example Broker (fictional)", "role": "intermediary"}}
    ),
    lambda d, rng: d["held_property"].append({"item": "passport", "holder": {"name": "Example Broker (fictional)", "role": "intermediary"}}),
    lambda d, rng: d["tests"][0].update(impersonation_reported=True),
    lambda d, rng: d.pop("certificate", None),
    lambda d, rng: d.update(dependents=[{"relation": "spouse", "accompanying": True}], status_sought="SSW1"),
    lambda d, rng: d["contract_clauses"].append(
        {"kind": "penalty", "amount": 2000, "currency": "USD", "concluded": True, "party": {"name": "Example Broker (fictional)", "role": "intermediary"}}
    ),
    lambda d, rng: d["fees"][0].pop("acknowledged", None),
    lambda d, rng: d["documents"].append(
        {"kind": "diploma", "finding": "altered", "provided_by": {"name": "Example Broker (fictional)", "role": "intermediary"}}
    ),
    lambda d, rng: d["incidents"].append(
        {"kind": "threat", "occurred_on": "2024-11-02", "perpetrator": {"name": "Example Broker (fictional)", "role": "intermediary"}}
    ),
    lambda d, rng: [d["fees"][0].pop(k, None) for k in ("basis_shown", "acknowledged")],
    lambda d, rng: d.update(residence="abroad", hire_route="direct") or d.pop("sending_agency", None),
    lambda d, rng: "sending_agency" in d and "accreditation" in d["sending_agency"] and d["sending_agency"]["accreditation"].update(valid_to="2025-01-31"),
    lambda d, rng: "sending_agency" in d and d["sending_agency"].update(name="Another Example Agency (fictional)"),
]
"""Each makes one kind of rule fire (acts (a)-(e), a passport taken (act (c)), the act (e) doubt, test fraud,
dependents, the certificate, candidates sent without an agency, lapsed accreditation, an accreditation number
listed under another agency's name), so the benchmark times rules firing as well as passing."""


def broker(rng: random.Random, i: int, country: str) -> dict:
    return {
        "schema_version": "1.0",
        "dossier_id": f"{country}-BRKB-{i:08d}",
        "kind": "broker",
        "country": country,
        "submitted": "2025-06-01",
        "name": f"Example Broker {i} (fictional)",
        "role": "intermediary",
        "legal_form": rng.choice(["individual", "corporate"]),
        "based_in": country,
        "fee_schedule": {"published": True, "basis_shown": rng.random() < 0.8},
        "practices": {"holds_passports": rng.random() < 0.1, "takes_deposits": False, "penalty_contracts": rng.random() < 0.05},
    }


def generate(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    countries, weights = zip(*COUNTRIES, strict=True)
    with path.open("wb") as out:
        for i in range(n):
            country = rng.choices(countries, weights)[0]
            if rng.random() < 0.01:
                out.write(b'{"dossier_id": "broken", "kind": \n')
                continue
            if rng.random() < 0.1:
                record = broker(rng, i, country)
            else:
                record = candidate(rng, i, country)
                if rng.random() < 0.3:
                    for problem in rng.sample(PROBLEMS, rng.choice([1, 1, 2])):
                        problem(record, rng)
            out.write(orjson.dumps(record) + b"\n")


FLOOR = """
import sys, orjson
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
        n += 1
print(n)
"""


SPIN = """
import sys, time
from multiprocessing import get_context
def work():
    total = 0
    for i in range(10_000_000):
        total += i
def wall(n):
    start = time.perf_counter()
    procs = [get_context("fork").Process(target=work) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return time.perf_counter() - start
one = wall(1)
print(int(sys.argv[1]) * one / wall(int(sys.argv[1])))
"""
"""How much faster N processes do N times a fixed pure-Python job than one does it once: what the machine
itself offers to ``--jobs N`` at the time of the run (others' work on a shared machine takes cores)."""


PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"""


STAGES = """
import gc, itertools, sys, time, orjson
from dossier_rules.batch import LEFT_TO_HEADER, Stats, read_input, record_digest
from dossier_rules.cli import default_packs_dir, make_engine as _engine
from dossier_rules.provenance import InputTally
from dossier_rules.problems import InputError
from dossier_rules.sources import check_dossier_data, duplicate_key

n = int(sys.argv[2])
engine = _engine(default_packs_dir(), None, 180)
gc.disable()  # every step's results are held here, which the streaming pipeline never does
per = {}

def timed(name, step, inputs, keep=True):
    out, start = [], time.process_time()  # CPU time of this process: what else runs on the machine matters less
    for x in inputs:
        try:
            result = step(*x)
        except (InputError, orjson.JSONDecodeError):
            continue
        if keep:  # what no later step reads is dropped, as the pipeline does (holding it costs fresh memory)
            out.append(result)
    per[name] = (time.process_time() - start) / n * 1e6
    return out

start = time.process_time()
items = list(itertools.islice(read_input(sys.argv[1]), n))
per["read"] = (time.process_time() - start) / n * 1e6
tally = InputTally()
timed("checkpoint hash", tally.add, items, keep=False)
parsed = timed("parse", lambda raw: (raw, orjson.loads(raw)), ((raw,) for _, _, raw, _ in items))
timed("duplicate keys", duplicate_key, parsed, keep=False)
try:
    check_dossier_data(parsed[0][1], "warm-up", 1)  # compiles the schemas, as starting a run does
except InputError:
    pass
dossiers = timed("validate", lambda raw, data: check_dossier_data(data, "bench", 1), parsed)
reports = timed("evaluate", lambda d: engine.evaluate_data(d, source="bench:1", timestamp=False), ((d,) for d in dossiers))
timed("report hash", record_digest, ((raw,) for raw, _ in parsed), keep=False)
for report in reports:
    for key in LEFT_TO_HEADER:
        del report[key]
timed("count", Stats().count, ((r,) for r in reports), keep=False)
timed("serialize", orjson.dumps, ((r,) for r in reports), keep=False)
print(orjson.dumps(per).decode())
"""


def stages(data: Path, n: int) -> dict[str, float]:
    """CPU microseconds per input record of each step of screening, in one process (no output file, no workers).

    The steps a batch run takes for each record, in order: reading the line,
    the checkpoint's running hash, parsing, the duplicate-key check, the
    schema, the rules, the report's hash of its record, the summary's counts
    and writing the (lean) report as JSON.
    """
    done = subprocess.run([sys.executable, "-c", STAGES, str(data), str(n)], check=True, capture_output=True, text=True)
    return orjson.loads(done.stdout)


def measure(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, the peak RSS (MiB) of the largest process the command ran, and the CPU seconds of all of them.

    Each command runs under its own small wrapper, whose RUSAGE_CHILDREN then
    covers that command and its workers only. On a shared machine wall time
    depends on what else runs; CPU time (user + system) much less so.
    """
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *argv], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    rss, cpu = done.stdout.split()
    return seconds, int(rss) / 1024, float(cpu)


def checked(name: str, result: tuple[float, float, float], out: Path, n: int) -> tuple[str, int, float, float, float]:
    """A batch run counts only if it wrote one record per input record (it exits 2: 1 % are malformed).

    The run header and the checkpoints carry a ``record_type`` key; reports and error records never do (a quote
    inside a JSON string is escaped, so those bytes cannot come from a dossier's values).
    """
    with out.open("rb") as handle:
        written = sum(1 for line in handle if b'"record_type"' not in line)
    if written != n:
        raise SystemExit(f"{name}: wrote {written:,} records for {n:,}; the run failed, so its time means nothing")
    return (name, n, *result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--memory-n", type=int, default=1_000_000, help="records for the memory run (0 to skip)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-rete", action="store_true", help="skip the Rete backend row (it needs durable-rules)")
    args = parser.parse_args()
    if not args.no_rete and importlib.util.find_spec("durable") is None:
        raise SystemExit("the Rete row needs durable-rules (pip install -e '.[rete]'), or pass --no-rete")
    cli = [sys.executable, "-m", "dossier_rules"]
    work = Path(tempfile.mkdtemp(prefix="dossier-bench-"))
    try:
        data = work / "dossiers.jsonl"
        t = time.perf_counter()
        generate(data, args.n, args.seed)
        print(
            f"generated {args.n:,} dossiers ({data.stat().st_size / 2**20:,.0f} MiB) in {time.perf_counter() - t:.1f} s; "
            f"{os.cpu_count()} cores; Python {sys.version.split()[0]}"
        )
        rows = []
        rows.append(("orjson parse only (floor)", args.n, 1, *measure([sys.executable, "-c", FLOOR, str(data)])))

        def run_batch(label: str, out: Path, jobs: int, n: int, source: Path, *extra: str) -> None:
            result = measure(cli + ["batch", str(source), "--out", str(out), "--jobs", str(jobs), *extra])
            name, count, seconds, rss, cpu = checked(label, result, out, n)
            rows.append((name, count, jobs, seconds, rss, cpu))

        first = work / "first.jsonl"
        with data.open("rb") as lines:
            first.write_bytes(lines.readline())
        one_record = cli + ["batch", str(first), "--out", str(work / "first-out.jsonl"), "--jobs", "1"]
        measure(one_record)  # fills the compiled-pack cache if the packs or the program changed since it was last filled
        startup = measure(one_record)[2]
        machine = float(subprocess.run([sys.executable, "-c", SPIN, str(args.jobs)], check=True, capture_output=True, text=True).stdout)
        run_batch("batch --jobs 1", work / "o1.jsonl", 1, args.n, data)
        run_batch(f"batch --jobs {args.jobs}", work / "oN.jsonl", args.jobs, args.n, data)
        if not args.no_rete:
            run_batch(f"batch --jobs {args.jobs} --engine rete", work / "oR.jsonl", args.jobs, args.n, data, "--engine", "rete")
            same = (work / "oN.jsonl").read_bytes() == (work / "oR.jsonl").read_bytes()
        if args.memory_n:
            big = work / "big.jsonl"
            with big.open("wb") as out:
                for _ in range(args.memory_n // args.n):
                    with data.open("rb") as part:
                        shutil.copyfileobj(part, out)
            run_batch(f"batch --jobs {args.jobs}", work / "big-out.jsonl", args.jobs, args.memory_n // args.n * args.n, big)
        floor_rate, floor_cpu = rows[0][1] / rows[0][3], rows[0][5] / rows[0][1]
        print()
        print("| run | records | seconds | records/s | records/s per core | peak RSS (MiB) | time vs floor | CPU s | CPU per record vs floor |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, n, cores, seconds, rss, cpu in rows:
            rate = n / seconds
            print(
                f"| {name} | {n:,} | {seconds:,.1f} | {rate:,.0f} | {rate / cores:,.0f} | {rss:,.0f} | {floor_rate / rate:,.1f}x "
                f"| {cpu:,.1f} | {cpu / n / floor_cpu:,.1f}x |"
            )
        print()
        one, many = rows[1], rows[2]
        print(
            f"scaling: --jobs {args.jobs} is {(many[1] / many[3]) / (one[1] / one[3]):.2f}x --jobs 1 in wall time; "
            f"the machine itself ran {args.jobs} pure-Python processes {machine:.2f}x as fast as one just before"
        )
        print(
            f"start-up: a batch of one record takes {startup:.2f} CPU s ({startup / rows[0][5]:.1f}x the whole floor run); "
            f"without it, --jobs 1 spends {(one[5] - startup) / one[1] / floor_cpu:.1f}x the floor's CPU per record"
        )
        if not args.no_rete:
            native, rete_row = rows[2], rows[3]
            print(f"backends: native is {rete_row[3] / native[3]:.1f}x faster than rete on the same input (outputs {'identical' if same else 'DIFFER'})")
        if args.memory_n:
            big = rows[-1]
            print(f"memory: {big[1]:,} records peak {big[4]:,.0f} MiB vs {many[1]:,} records {many[4]:,.0f} MiB ({(big[4] / many[4] - 1) * 100:+.1f} %)")
        per = stages(data, min(args.n, 20_000))
        total = sum(per.values())
        print()
        print(f"where the time of one job goes (CPU µs per record, in one process, first {min(args.n, 20_000):,} records):")
        print("  " + ", ".join(f"{k} {v:.1f}" for k, v in per.items()) + f"; total {total:.1f} µs = {1e6 / total:,.0f} records/s per core")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
