"""Start-up of ``dossier-rules check`` on one dossier, beside ``python -c pass``, in one run.

    python benchmarks/startup.py [--runs 20] [--before REV] [--dossier samples/kh-candidate-clean.json]

Runs each command ``--runs`` times (after one warm-up run) in a new process and
prints the mean and smallest wall time and the mean CPU time (user + system,
from the children's resource usage), and how many times ``python -c pass``
each costs:

* ``python -c pass``: the interpreter alone, the floor;
* ``check`` with a warm compiled-pack cache (a private cache directory, filled
  by the warm-up run): what a screener's second and later checks cost;
* ``check`` with ``DOSSIER_RULES_CACHE=off``: packs loaded from YAML and
  compiled on every run;
* with ``--before REV``, the same two checks by the program as of git
  revision REV (its ``src``, ``rules`` and ``schemas``, extracted to a
  temporary directory), so before and after are measured in the same run.

Bytecode is written and reused (``PYTHONDONTWRITEBYTECODE`` is removed from
the children's environment), as an installed package has it. Output goes to
a pipe, as from a script. Figures are only comparable within one run: when
others use the machine, wall times mostly measure them; CPU times stay close
to what an idle machine shows.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(command: list[str], env: dict[str, str], runs: int, cwd: Path) -> tuple[float, float, float]:
    """Mean wall, smallest wall and mean CPU seconds of ``runs`` runs, after one warm-up run (which fills caches)."""
    subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr.decode()}")
    return statistics.mean(walls), min(walls), statistics.mean(cpus)


def checkout(revision: str, into: Path) -> Path:
    """The program and packs as of ``revision``, extracted from git (the work tree is left alone)."""
    archive = into / "before.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src", "rules", "schemas"], stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "before", filter="data")
    return into / "before"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--before", metavar="REV", help="also measure the program as of this git revision")
    parser.add_argument("--dossier", type=Path, default=ROOT / "samples" / "kh-candidate-clean.json")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "DOSSIER_RULES_CACHE", "DOSSIER_RULES_PACKS")}
    check = [sys.executable, "-m", "dossier_rules", "check", str(args.dossier.resolve())]
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("now", ROOT)]
        if args.before:
            trees.insert(0, (f"before ({args.before})", checkout(args.before, Path(tmp))))
        cases: list[tuple[str, list[str], dict[str, str], Path]] = [("python -c pass", [sys.executable, "-c", "pass"], base, ROOT)]
        for label, tree in trees:
            env = {**base, "PYTHONPATH": str(tree / "src")}
            cases.append((f"check, {label}, warm cache", check, {**env, "DOSSIER_RULES_CACHE": str(Path(tmp) / f"cache-{len(cases)}")}, tree))
            cases.append((f"check, {label}, DOSSIER_RULES_CACHE=off", check, {**env, "DOSSIER_RULES_CACHE": "off"}, tree))
        results = [(label, *measure(command, env, args.runs, cwd)) for label, command, env, cwd in cases]
    floor = results[0][3]
    print(f"{args.runs} runs each after one warm-up; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at the end")
    print(f"{'':48} {'wall mean':>10} {'wall min':>10} {'CPU mean':>10} {'CPU / pass':>11}")
    for label, wall, least, cpu in results:
        print(f"{label:48} {wall * 1000:8.0f} ms {least * 1000:7.0f} ms {cpu * 1000:7.0f} ms {cpu / floor:10.1f}x")


if __name__ == "__main__":
    main()
