"""What a hostile workbook costs ``sheet import``: peak memory of a shared-string bomb and of an honest workbook.

Run: ``python benchmarks/xlsx_import.py [--cells 400] [--size 1000000]``. It
writes a workbook whose CELLS name cells all point at one shared string of
SIZE characters (a few KB zipped), reads it with
:func:`dossier_rules.spreadsheets.read_workbook` under ``tracemalloc``, and
prints the peak of Python allocations, the CPU seconds and what the import
said; then the same for an honest workbook of every sample dossier, for the
ratio. Each case runs in a fresh process so one does not warm the other.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}

CASE = """
import json, sys, time, tracemalloc
from pathlib import Path
from dossier_rules.problems import InputError
from dossier_rules.spreadsheets import read_workbook
tracemalloc.start()
start = time.process_time()
try:
    result = read_workbook(Path(sys.argv[1]))
    said = f"{len(result.dossiers)} imported, {result.rejected} left out, {len(result.problems)} problem(s)"
except InputError as exc:
    said = "refused: " + exc.problems[0].message[:100]
cpu = time.process_time() - start
print(json.dumps({"peak_mib": tracemalloc.get_traced_memory()[1] / 2**20, "cpu_s": cpu, "said": said}))
"""


def run(path: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CASE, str(path)], env=ENV, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=400)
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    from dossier_rules.spreadsheets import write_workbook
    from tests.xlsx_crafting import shared_string_bomb

    with tempfile.TemporaryDirectory() as tmp:
        bomb = shared_string_bomb(Path(tmp) / "bomb.xlsx", args.cells, args.size)
        honest = Path(tmp) / "samples.xlsx"
        write_workbook([json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "samples").glob("*.json"))], honest)
        print(f"{'case':<40} {'file KB':>8} {'peak MiB':>9} {'CPU s':>6}  result")
        for name, path in ((f"{args.cells} cells x one {args.size:,}-char string", bomb), ("every sample dossier", honest)):
            measured = run(path)
            print(f"{name:<40} {path.stat().st_size / 1024:>8.1f} {measured['peak_mib']:>9.1f} {measured['cpu_s']:>6.2f}  {measured['said']}")


if __name__ == "__main__":
    main()
