"""Peak memory and bytes of the screenings listing over large stored dossiers, in one run.

    python benchmarks/listing.py [--stored 60] [--size-mb 1.85]

1. Stores ``--stored`` screenings of one large dossier (about ``--size-mb``
   MB: the Cambodian sample grown with long contract clauses, incidents and
   documents, each within the model's limits) through ``serve``'s API.
2. Restarts ``serve`` on that database (so its peak resident memory starts
   from a fresh process), makes one small request, and reads the process's
   peak (``VmHWM`` in ``/proc/PID/status``).
3. Lists ``GET /api/v1/screenings?limit=50`` and ``limit=100`` and reads
   the peak again; then reads one full record by id, for comparison, and
   lists with a ``rule`` filter (which reads stored reports, one at a time).

The listing is answered from the indexed summary columns, so its peak should
not grow with the size of the stored dossiers. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from service import start_servers, with_user  # noqa: E402 - beside this script, importable once the path above is set


def large_dossier(size_mb: float) -> bytes:
    """The clean Cambodian sample with free-text items added until it is about ``size_mb`` MB."""
    dossier = json.loads((ROOT / "samples" / "kh-candidate-clean.json").read_text(encoding="utf-8"))
    text = "x" * 3996
    target = int(size_mb * 1_000_000)
    lists = {"incidents": {"kind": "threat"}, "contract_clauses": {"kind": "other"}, "documents": {"kind": "other", "finding": "authentic"}}
    for name in lists:
        dossier[name] = []
    n = 0
    while len(json.dumps(dossier)) < target and n < 200 * len(lists):
        name = list(lists)[n % len(lists)]
        field = "number" if name == "documents" else "description"
        dossier[name].append({**lists[name], field: f"{n:04d}{text}"})
        n += 1
    return json.dumps(dossier).encode()


def peak_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc: Linux only")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, default=60, help="screenings of the large dossier to store")
    parser.add_argument("--size-mb", type=float, default=1.85, help="size of the stored dossier, in MB")
    args = parser.parse_args()
    body = large_dossier(args.size_mb)
    with tempfile.TemporaryDirectory() as tmp:
        location = Path(tmp) / "service.sqlite"
        headers = with_user(location)
        servers, bases = start_servers(location, 1)
        try:
            with httpx.Client(base_url=bases[0], timeout=300, headers=headers) as http:
                for _ in range(args.stored):
                    response = http.post("/api/v1/screenings", content=body)
                    if response.status_code != 201:
                        raise SystemExit(f"screening refused: {response.status_code} {response.text[:200]}")
        finally:
            servers[0].terminate()
            servers[0].wait(30)
        servers, bases = start_servers(location, 1)
        pid = servers[0].pid
        try:
            with httpx.Client(base_url=bases[0], timeout=300, headers=headers) as http:
                http.get("/api/v1/screenings", params={"limit": 1}).raise_for_status()
                before = peak_kib(pid)
                print(f"stored: {args.stored} screenings of a {len(body) / 1e6:.2f} MB dossier")
                print(f"serve, fresh, after one small request: peak {before / 1024:.1f} MiB")
                for limit in (50, 100):
                    response = http.get("/api/v1/screenings", params={"limit": limit})
                    response.raise_for_status()
                    items = response.json()["items"]
                    print(
                        f"GET /api/v1/screenings?limit={limit}: {len(items)} items, {len(response.content) / 1024:.1f} KiB,"
                        f" peak now {peak_kib(pid) / 1024:.1f} MiB (+{(peak_kib(pid) - before) / 1024:.1f})"
                    )
                one = http.get(f"/api/v1/screenings/{items[0]['screening_id']}")
                one.raise_for_status()
                print(f"GET /api/v1/screenings/{{id}} (one full record): {len(one.content) / 1e6:.2f} MB, peak now {peak_kib(pid) / 1024:.1f} MiB")
                rule = one.json()["report"]["findings"][0]["rule_id"]
                response = http.get("/api/v1/screenings", params={"limit": 100, "rule": rule})
                response.raise_for_status()
                print(
                    f"GET /api/v1/screenings?limit=100&rule={rule} (reads stored reports one at a time):"
                    f" {len(response.json()['items'])} items, {len(response.content) / 1024:.1f} KiB, peak now {peak_kib(pid) / 1024:.1f} MiB"
                )
        finally:
            servers[0].terminate()
            servers[0].wait(30)
    print(f"machine: {os.cpu_count()} cores, shared; figures hold within this run only")


if __name__ == "__main__":
    main()
