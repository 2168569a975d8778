"""The cost of the screening log's Merkle tree and checkpoints, in CPU time, in one run.

    python benchmarks/screening_log.py [--n 20000] [--body-bytes 2000]

Appends N entries (each with a body of about --body-bytes) to a fresh
database in one transaction, with ``synchronous=OFF`` so the figure is the
log's own work and not the disk's; then rebuilds the tree from the entries
(what an older database does once), signs a checkpoint, makes inclusion
proofs for 200 leaves spread over the log and one consistency proof, and
verifies the whole log. Figures are only comparable within one run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from dossier_rules.server.db import Database

from dossier_rules.services import screening_log
from dossier_rules.transparency.checkpoints import SigningKey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--body-bytes", type=int, default=2000)
    args = parser.parse_args()
    n = args.n
    db = Database(Path(tempfile.mkdtemp(prefix="log-bench-")) / "bench.sqlite")
    db.connection().execute("PRAGMA synchronous=OFF")
    key = SigningKey.generate("bench/log")
    body = {"report": {"text": "x" * args.body_bytes}}

    start = time.process_time()
    with db.write() as conn:
        for _ in range(n):
            screening_log.append(conn, "screening", "bench", body)
    append = time.process_time() - start

    start = time.process_time()
    with db.write() as conn:
        conn.execute("DELETE FROM log_nodes")
        screening_log.checkpoint(conn, key)
    rebuild = time.process_time() - start

    with db.write() as conn:
        conn.execute("DELETE FROM log_checkpoints")
        start = time.process_time()
        screening_log.checkpoint(conn, key)
        sign = time.process_time() - start

    conn = db.connection()
    leaves = range(0, n, max(1, n // 200))
    start = time.process_time()
    for index in leaves:
        screening_log.inclusion(conn, index, n)
    inclusion = (time.process_time() - start) / len(leaves)
    start = time.process_time()
    screening_log.consistency(conn, n // 3, n)
    consistency = time.process_time() - start
    start = time.process_time()
    result = screening_log.verify(conn)
    verify = time.process_time() - start
    assert result.ok, result.problem

    print(f"entries: {n} of about {args.body_bytes} bytes")
    print(f"append (entry and tree nodes): {append / n * 1e3:.3f} ms per entry")
    print(f"tree alone (rebuilt from the entries): {(rebuild - sign) / n * 1e3:.3f} ms per entry")
    print(f"sign a checkpoint: {sign * 1e3:.2f} ms")
    print(f"inclusion proof: {inclusion * 1e3:.3f} ms; consistency proof: {consistency * 1e3:.3f} ms")
    print(f"verify the whole log: {verify:.2f} s")


if __name__ == "__main__":
    main()
