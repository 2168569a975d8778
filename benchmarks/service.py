"""Screenings per second through the service, SQLite next to PostgreSQL, in one run.

    python benchmarks/service.py [--requests 400] [--clients 1,4,16] [--seed 7] [--pg-url URL]

1. Generates synthetic dossiers with ``bench.py``'s generator (the malformed
   ones left out).
2. For each set-up, a fresh database with one user and token, then
   ``dossier-rules serve`` on 127.0.0.1, and over loopback HTTP with keep-alive
   the single endpoint (one dossier per request) with 1, 4 and 16 clients:
   screenings/s, and p50/p99 of one request:
   * SQLite, one process;
   * PostgreSQL, one process;
   * PostgreSQL, two processes on one database (clients split between them).
   Each process first screens a few dossiers unmeasured (its packs compiled
   and cached). Every screening is stored in the hash-chained log, verified
   at the end.

PostgreSQL is a throwaway cluster (tests/postgres_support.py, ``fsync=off``:
it measures the service, not the disk) unless ``--pg-url`` names a server
whose database may be emptied. Figures are only comparable within one run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from bench import generate  # noqa: E402 - beside this script, importable once the path above is set

from dossier_rules.services.accounts import Accounts  # noqa: E402
from dossier_rules.storage import Database  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_user(location: str | Path) -> dict[str, str]:
    database = Database(location)
    accounts = Accounts(database)
    token = accounts.create_token(accounts.add_user("bench", "benchmark password", "screener"), "bench")[1]
    database.close()
    return {"Authorization": f"Bearer {token}", "content-type": "application/json"}


def start_servers(location: str | Path, count: int) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    processes, bases = [], []
    for _ in range(count):
        port = free_port()
        command = [sys.executable, "-m", "dossier_rules", "serve", "--port", str(port), "--db", str(location)]
        processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        bases.append(f"http://127.0.0.1:{port}")
    for base in bases:
        for _ in range(600):
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    return processes, bases


def client(base: str, headers: dict[str, str], lines: list[bytes]) -> list[float]:
    """Each request's latency, in seconds."""
    latencies = []
    with httpx.Client(base_url=base, timeout=120) as http:
        for line in lines:
            start = time.perf_counter()
            response = http.post("/api/v1/screenings", content=line, headers=headers)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 201:
                raise SystemExit(f"screening refused: {response.status_code} {response.text[:200]}")
    return latencies


def run(bases: list[str], headers: dict[str, str], lines: list[bytes], clients: int) -> tuple[float, list[float]]:
    parts = [lines[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda n: client(bases[n % len(bases)], headers, parts[n]), range(clients)))
    return time.perf_counter() - start, [x for r in results for x in r]


def percentile(ms: list[float], q: float) -> float:
    ordered = sorted(ms)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def postgres(url: str | None) -> tuple[object | None, callable]:  # type: ignore[valid-type]
    """A way to get fresh databases: on the given server, or on a throwaway cluster (returned to be stopped)."""
    if url:
        import psycopg

        base, _, _name = url.rpartition("/")

        def fresh(n: int) -> str:
            with psycopg.connect(base + "/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS bench_{n}")
                conn.execute(f"CREATE DATABASE bench_{n}")
            return f"{base}/bench_{n}"

        return None, fresh
    from tests.postgres_support import start

    cluster = start()
    if isinstance(cluster, str):
        raise SystemExit(f"no PostgreSQL: {cluster}")
    return cluster, lambda n: cluster.create_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="screenings per row")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-url", default=None, help="a PostgreSQL server to use instead of a throwaway cluster")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    cluster, fresh = postgres(args.pg_url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            data = work / "dossiers.jsonl"
            generate(data, args.requests, args.seed)
            lines = [line for line in data.read_bytes().splitlines() if b'"broken"' not in line]
            setups = [("SQLite, 1 process", work / "service.sqlite", 1), ("PostgreSQL, 1 process", fresh(1), 1), ("PostgreSQL, 2 processes", fresh(2), 2)]
            print(f"{'set-up':<24} {'clients':>7} {'screenings':>10} {'per s':>7} {'p50 ms':>7} {'p99 ms':>7}")
            for name, location, processes in setups:
                headers = with_user(location)
                servers, bases = start_servers(location, processes)
                try:
                    for base in bases:
                        client(base, headers, lines[:5])
                    for clients in counts:
                        seconds, latencies = run(bases, headers, lines, clients)
                        ms = [x * 1000 for x in latencies]
                        rate = len(lines) / seconds
                        print(
                            f"{name:<24} {clients:>7} {len(lines):>10} {rate:>7.1f} {statistics.median(ms):>7.1f} {percentile(ms, 0.99):>7.1f}",
                            flush=True,
                        )
                finally:
                    for server in servers:
                        server.terminate()
                        server.wait(30)
                verified = subprocess.run(
                    [sys.executable, "-m", "dossier_rules", "log", "verify", "--db", str(location)], check=False, capture_output=True, text=True
                )
                print(f"  log verify: {(verified.stdout or verified.stderr).strip()}")
            print(f"machine: {os.cpu_count()} cores, shared; figures hold within this run only")
    finally:
        if cluster is not None:
            cluster.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
