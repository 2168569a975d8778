"""Screenings per second through the service, next to ``dossier-rules batch``, in one run.

    python benchmarks/service.py [--n 5000] [--singles 1000] [--clients 4] [--seed 7]

1. Generates N synthetic dossiers with ``bench.py``'s generator (1 % malformed).
2. ``dossier-rules batch --jobs 1`` on the file: the CLI's rate on this machine now.
3. Starts ``dossier-rules serve`` on 127.0.0.1 (a fresh database, one user and
   token made beforehand) and measures, over loopback HTTP with keep-alive:
   * the single endpoint, one client, one dossier per request: screenings/s and
     p50/p99 latency of a request;
   * the single endpoint with several clients at once;
   * the batch endpoint: the whole file as one JSON Lines body, streamed back;
   every screening is stored in the hash-chained log, which is verified at the end.

The service runs one process (its threads share one interpreter), so compare
it with ``batch --jobs 1``. Figures are only comparable within one run.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import generate

from dossier_rules.server.accounts import Accounts
from dossier_rules.server.db import Database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_batch(data: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dossier_rules", "batch", str(data), "--out", str(out), "--jobs", "1"], check=False, capture_output=True)
    return time.perf_counter() - start


def start_service(db: Path) -> tuple[subprocess.Popen, str, dict[str, str]]:
    accounts = Accounts(Database(db))
    user = accounts.add_user("bench", "benchmark password", "screener")
    token = accounts.create_token(user, "bench")[1]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dossier_rules", "serve", "--port", str(port), "--db", str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/readyz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    return process, base, {"Authorization": f"Bearer {token}"}


def singles(base: str, auth: dict[str, str], lines: list[bytes]) -> tuple[float, list[float]]:
    """Seconds for all, and each request's latency."""
    latencies = []
    headers = {**auth, "content-type": "application/json"}
    with httpx.Client(base_url=base, timeout=60) as client:
        start = time.perf_counter()
        for line in lines:
            t = time.perf_counter()
            client.post("/api/v1/screenings", content=line, headers=headers)
            latencies.append(time.perf_counter() - t)
        return time.perf_counter() - start, latencies


def parallel(base: str, auth: dict[str, str], lines: list[bytes], clients: int) -> float:
    parts = [lines[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda part: singles(base, auth, part), parts))
    return time.perf_counter() - start


def batch_endpoint(base: str, auth: dict[str, str], body: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    records = 0
    with (
        httpx.Client(base_url=base, timeout=600) as client,
        client.stream("POST", "/api/v1/screenings/batch", content=body, headers={**auth, "content-type": "application/x-ndjson"}) as response,
    ):
        for line in response.iter_lines():
            records += bool(line.strip())
    return time.perf_counter() - start, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="records for the batch rows")
    parser.add_argument("--singles", type=int, default=1000, help="requests for the single-endpoint rows")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "dossiers.jsonl"
        generate(data, args.n, args.seed)
        body = data.read_bytes()
        lines = [line for line in body.splitlines() if b'"broken"' not in line][: args.singles]
        rows = []
        seconds = cli_batch(data, work / "out.jsonl")
        rows.append(("CLI batch --jobs 1", args.n, seconds))
        process, base, auth = start_service(work / "service.sqlite")
        try:
            single_seconds, latencies = singles(base, auth, lines)
            rows.append(("API single, 1 client", len(lines), single_seconds))
            rows.append((f"API single, {args.clients} clients", len(lines), parallel(base, auth, lines, args.clients)))
            batch_seconds, records = batch_endpoint(base, auth, body)
            if records != args.n:
                raise SystemExit(f"batch endpoint returned {records} records for {args.n}")
            rows.append(("API batch endpoint", args.n, batch_seconds))
        finally:
            process.terminate()
            process.wait(30)
        verified = subprocess.run(
            [sys.executable, "-m", "dossier_rules", "log", "verify", "--db", str(work / "service.sqlite")], capture_output=True, text=True, check=False
        )
        cli_rate = args.n / rows[0][2]
        print(f"{'run':<26} {'records':>8} {'seconds':>8} {'records/s':>10} {'vs CLI':>7}")
        for name, n, secs in rows:
            print(f"{name:<26} {n:>8,} {secs:>8.2f} {n / secs:>10,.0f} {n / secs / cli_rate:>7.2f}")
        ms = sorted(x * 1000 for x in latencies)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(f"one dossier through the API: p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms ({len(ms)} requests, 1 client)")
        print(f"log verify: {verified.stdout.strip() or verified.stderr.strip()}")
        print(f"machine: {os.cpu_count()} cores, shared; ratios hold within this run only")


if __name__ == "__main__":
    main()
