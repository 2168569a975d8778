"""Memory and time of ``report`` and ``diff`` over large results files, measured in one run.

    python benchmarks/results_bench.py [--base 20000] [--small 100000] [--large 1000000] [--seed 7]

1. Generates BASE synthetic dossiers (the generator of ``bench.py``) and
   screens them twice with ``batch``: with every registry, and without
   Cambodia's list of accredited agencies (a registry change, as after an
   import), giving an "old" and a "new" results file of the same input.
2. Repeats the records of each to SMALL and to LARGE records (the source and
   dossier id of each copy are made unique, so nothing is counted twice).
3. Runs, each in its own process: ``report --format json`` (every summary
   view), ``report --format csv`` (one row per dossier, streamed) and
   ``diff --format json`` over the SMALL and the LARGE files, and
   ``report --format xlsx`` (every sheet, openpyxl write-only) over those of
   at most XLSX_MAX results (``--xlsx-max``; Excel opens at most 1,048,576
   rows a sheet, and the findings sheet of 1,000,000 results would pass it).
4. Prints wall time, records/s and peak RSS (getrusage of the process), and
   the ratio of peak RSS LARGE/SMALL, which must stay within 1.10: these
   commands stream, so memory must not grow with the number of results; the
   XLSX must also stay under XLSX_LIMIT_MIB (``--xlsx-limit``).

Figures are only comparable within one run: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import PEAK, ROOT, generate

LIMIT = 1.10
"""Largest accepted ratio of peak memory between the LARGE and the SMALL run."""

XLSX_LIMIT_MIB = 64
"""Largest accepted peak RSS of ``report --format xlsx`` (every sheet) over 100,000 results."""


def screen(source: Path, out: Path, registries: Path | None) -> None:
    argv = [sys.executable, "-m", "dossier_rules", "batch", str(source), "--out", str(out), "--jobs", "1", "--packs", str(ROOT / "rules")]
    if registries is not None:
        argv += ["--registries", str(registries)]
    done = subprocess.run(argv, check=False, capture_output=True)
    if done.returncode not in (0, 2):  # 2: the generated input holds malformed records on purpose
        raise SystemExit(f"batch failed: {done.stderr.decode()[-2000:]}")


def repeat(results: Path, out: Path, n: int) -> None:
    """``n`` results from copies of the file's results; each copy's sources and dossier ids carry its number."""
    lines = [line for line in results.read_bytes().splitlines(keepends=True) if b'"record_type"' not in line]
    header = results.read_bytes().split(b"\n", 1)[0] + b"\n"
    with out.open("wb") as handle:
        handle.write(header)
        written, copy = 0, 0
        while written < n:
            tag = b"c%d/" % copy
            for line in lines[: n - written]:
                handle.write(line.replace(b'"source":"', b'"source":"' + tag, 1).replace(b'"dossier_id":"', b'"dossier_id":"' + tag, 1))
            written += min(len(lines), n - written)
            copy += 1


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command, run under its own small wrapper."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *argv], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, int(done.stdout.split()[0]) / 1024


def commands(old: Path, new: Path, work: Path, xlsx: bool) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "dossier_rules"]
    out = {
        "report --format json": [*cli, "report", str(new), "--format", "json", "--output", str(work / "report.json")],
        "report --format csv (per dossier)": [*cli, "report", str(new), "--format", "csv", "--output", str(work / "report.csv")],
        "diff --format json": [*cli, "diff", str(old), str(new), "--format", "json"],
    }
    if xlsx:
        out["report --format xlsx (all sheets)"] = [*cli, "report", str(new), "--format", "xlsx", "--output", str(work / "report.xlsx"), "--lang", "ja"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=int, default=20_000, help="dossiers screened (the results are copies of these)")
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--xlsx-max", type=int, default=100_000, help="largest number of results written as XLSX")
    parser.add_argument("--xlsx-limit", type=float, default=XLSX_LIMIT_MIB, help="largest accepted peak RSS (MiB) of the XLSX")
    parser.add_argument("--no-large", action="store_true", help="only the SMALL files (a short run: the XLSX bound, no ratio)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dossier-results-bench-"))
    try:
        source = work / "dossiers.jsonl"
        generate(source, args.base, args.seed)
        registries = Path(shutil.copytree(ROOT / "rules" / "registries", work / "registries"))
        (registries / "kh-accredited-agencies.json").unlink()
        screen(source, work / "old.jsonl", None)
        screen(source, work / "new.jsonl", registries)
        rows = []
        peaks: dict[str, dict[int, float]] = {}
        sizes = (args.small,) if args.no_large else (args.small, args.large)
        for n in sizes:
            old, new = work / f"old-{n}.jsonl", work / f"new-{n}.jsonl"
            repeat(work / "old.jsonl", old, n)
            repeat(work / "new.jsonl", new, n)
            for name, argv in commands(old, new, work, n <= args.xlsx_max).items():
                seconds, peak = measure(argv)
                peaks.setdefault(name, {})[n] = peak
                rows.append((name, n, seconds, peak, new.stat().st_size))
            old.unlink()
            new.unlink()
        print(f"{'command':36} {'results':>10} {'seconds':>8} {'results/s':>10} {'peak MiB':>9} {'file MiB':>9}")
        for name, n, seconds, peak, size in rows:
            print(f"{name:36} {n:>10,} {seconds:>8.1f} {n / seconds:>10,.0f} {peak:>9.1f} {size / 2**20:>9.0f}")
        failed = False
        for name, by_n in peaks.items():
            if name.startswith("report --format xlsx"):
                worst = max(by_n.values())
                failed |= worst > args.xlsx_limit
                print(f"peak RSS of {name}: {worst:.1f} MiB ({'ok' if worst <= args.xlsx_limit else 'ABOVE'} {args.xlsx_limit:g} MiB)")
            if args.large not in by_n or args.small not in by_n:
                continue
            ratio = by_n[args.large] / by_n[args.small]
            verdict = "ok" if ratio <= LIMIT else f"ABOVE {LIMIT:.2f}"
            failed |= ratio > LIMIT
            print(f"peak RSS {args.large:,} / {args.small:,} results, {name}: {ratio:.3f} ({verdict})")
        raise SystemExit(1 if failed else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
