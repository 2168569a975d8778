"""How long a consultation brief and the dashboard take over many stored screenings, and the charts.

    python benchmarks/brief.py [--n 2000] [--dir DIR]

Screens N dossiers (the samples, each under its own dossier id) into a fresh
service database (SQLite, in DIR or a temporary directory), all of one day,
then times (and measures the memory of) a brief of one partner (two periods read: this one and the
previous), the dashboard over every partner, and drawing their charts.
Screening is not measured. Figures are only comparable within one run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dossier_rules import brief_document, sharing
from dossier_rules.results import Filter
from dossier_rules.server.app import load_engine
from dossier_rules.server.metrics import Metrics
from dossier_rules.server.settings import Settings
from dossier_rules.services import briefs
from dossier_rules.services.notices import NoticeService
from dossier_rules.services.screening_store import Screenings
from dossier_rules.storage import Database

ROOT = Path(__file__).resolve().parents[1]


def body(n: int) -> bytes:
    """N dossiers as JSON Lines: the samples in turn, each with a dossier id of its own."""
    samples = [json.loads(p.read_text()) for p in sorted((ROOT / "samples").glob("*.json"))]
    lines = []
    for i in range(n):
        dossier = dict(samples[i % len(samples)])
        dossier["dossier_id"] = f"{dossier['dossier_id']}-{i:06d}"
        lines.append(json.dumps(dossier))
    return ("\n".join(lines) + "\n").encode()


def timed(label: str, work: object) -> object:
    """Run ``work`` twice: timed, then under tracemalloc (which slows it) for its peak of Python allocations."""
    started = time.perf_counter()
    result = work()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    tracemalloc.start()
    work()  # type: ignore[operator]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label}: {seconds:.2f} s, peak {peak / 2**20:.1f} MiB (Python allocations)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="brief-bench-"))
    engine = load_engine(Settings(packs_dir=ROOT / "rules"))
    db = Database(folder / "service.sqlite")
    store = Screenings(db, engine, Metrics())
    started = time.perf_counter()
    for _chunk in store.screen_many(body(args.n), None, "bench"):
        pass
    print(f"screened and stored {args.n} dossiers in {time.perf_counter() - started:.1f} s (not part of the figures)")
    today = datetime.now(UTC).date()
    first = today - timedelta(days=89)
    box = sharing.Outbox(db)
    service = NoticeService(box, db)
    found = timed("brief KH, 90 days", lambda: briefs.brief(service, engine.packset, "KH", first, today, {}, today))
    timed("dashboard, every partner, 90 days", lambda: briefs.dashboard(db, Filter(), first, today))
    timed("brief charts (2) and HTML", lambda: brief_document.document(found, "ja"))  # type: ignore[arg-type]
    print(f"brief KH: {found['dossiers']} dossiers, {found['findings']} findings")  # type: ignore[index]
    box.close()
    db.close()


if __name__ == "__main__":
    main()
