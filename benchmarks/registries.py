"""What a large registry costs: import once, then every start of ``check``, with and without the index.

Run: ``python benchmarks/registries.py [--rows 1000000]``. Each step runs in
its own process; the table gives its wall time and peak resident memory
(``wait4`` rusage). The rows to compare are in the same run:

* ``import``: ``registry import`` of a CSV of ROWS entries (writes the JSON
  and builds the SQLite index once);
* ``check (indexed)``: ``check`` of one sample dossier with that registry
  (start-up of the whole command included);
* ``load through the index``: what loading that registry costs now;
* ``load whole JSON``: what every start cost before the index (parse and
  validate the JSON, build the in-memory index), for the ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def measure(name: str, cmd: list[str]) -> tuple[str, float, float]:
    """Run ``cmd``; its wall time (s) and peak RSS (MiB)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{name} failed ({code}): {proc.stderr.read().decode() if proc.stderr else ''}")
    return name, seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        csv_file = directory / "agencies.csv"
        with csv_file.open("w", encoding="utf-8") as out:
            out.write("id,name,listed_from,ended_on,ended_because,note\n")
            for n in range(args.rows):
                ended = "2024-06-01,revoked" if n % 50 == 0 else ","
                out.write(f"ACC-{n:08d},Example Sending Agency {n},2019-04-01,{ended},\n")
        registries = directory / "registries"
        cli = [sys.executable, "-m", "dossier_rules"]
        rows = [
            measure(
                "import",
                [
                    *cli,
                    "registry",
                    "import",
                    str(csv_file),
                    "--country",
                    "KH",
                    "--kind",
                    "accredited-agencies",
                    "--source",
                    "bench",
                    "--registries",
                    str(registries),
                ],
            ),
            measure(
                "check (indexed)", [*cli, "check", str(ROOT / "samples" / "kh-candidate-clean.json"), "--registries", str(registries), "--format", "jsonl"]
            ),
            measure(
                "load through the index + 1 look-up",
                [
                    sys.executable,
                    "-c",
                    "import sys; from pathlib import Path; from dossier_rules.registries import load_registries; "
                    "r = load_registries(Path(sys.argv[1])); assert r.get('KH', 'accredited-agencies').index.get('ACC-00000050')",
                    str(registries),
                ],
            ),
            measure(
                "load whole JSON (before the index)",
                [
                    sys.executable,
                    "-c",
                    "import sys; from pathlib import Path; from dossier_rules.registries import Registry, index_entries; "
                    "index_entries(Registry.model_validate_json(Path(sys.argv[1]).read_bytes()))",
                    str(registries / "kh-accredited-agencies.json"),
                ],
            ),
        ]
        size = (registries / "kh-accredited-agencies.json").stat().st_size
        index = sum(p.stat().st_size for p in registries.glob(".*.index.sqlite"))
    print(f"registry of {args.rows:,} entries: JSON {size / 2**20:,.0f} MiB, index {index / 2**20:,.0f} MiB")
    print(f"{'step':<36}{'seconds':>10}{'peak RSS MiB':>14}")
    for name, seconds, rss in rows:
        print(f"{name:<36}{seconds:>10.1f}{rss:>14.0f}")
    whole, indexed = rows[3], rows[2]
    print(f"loading through the index: {whole[1] / indexed[1]:.1f}x less time, {whole[2] / indexed[2]:.1f}x less peak memory than loading the JSON")


if __name__ == "__main__":
    main()
