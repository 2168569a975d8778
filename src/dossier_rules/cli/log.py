"""``log`` (verify, export): the service's hash-chained screening log."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click
import orjson

from ..private_files import private_output
from .common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK
from .serve import db_option, settings_db


def _database(db: Path | None):  # type: ignore[no-untyped-def]
    from ..server.db import Database

    path = settings_db(db)
    if not path.exists():
        click.echo(f"error: {path}: no such database", err=True)
        raise SystemExit(EXIT_INPUT)
    return Database(path)


@click.group()
def log() -> None:
    """Verify and export the screening log of the service."""


@log.command("verify")
@click.option("--expect-head", default=None, help="The head hash printed by an earlier verify: fail unless the log still contains it at the same entry.")
@click.option(
    "--file",
    "file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Verify an exported log (JSON Lines) instead of the database.",
)
@db_option
def log_verify(expect_head: str | None, file: Path | None, db: Path | None) -> None:
    """Walk the hash chain; name the first entry that was edited, removed or reordered.

    Exit 0 when the chain holds, 1 when it is broken, 2 when the log cannot be read.
    """
    from ..server import screening_log

    if file is not None:
        result = screening_log.verify_chain(_exported(file))
    else:
        conn = _database(db).connection()
        result = screening_log.verify(conn)
        if result.ok and expect_head and not any(e.hash == expect_head for e in screening_log.entries(conn)):
            click.echo(f"BROKEN: no entry has the expected head hash {expect_head}: the log was rewritten", err=True)
            raise SystemExit(EXIT_FINDINGS)
    if not result.ok:
        click.echo(f"BROKEN at entry {result.first_bad}: {result.problem}", err=True)
        click.echo(f"{result.entries} entries verified before it", err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo(f"ok: {result.entries} entries, head {result.head}")
    raise SystemExit(EXIT_OK)


def _exported(path: Path):  # type: ignore[no-untyped-def]
    from ..server import screening_log

    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                yield screening_log.Entry.from_json(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                click.echo(f"error: {path}:{number}: not a log entry ({exc})", err=True)
                raise SystemExit(EXIT_INPUT) from None


@log.command("export")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here instead of standard output.")
@click.option("--after", type=click.IntRange(min=0), default=0, show_default=True, help="Export only entries after this position (for incremental archives).")
@db_option
def log_export(output: Path | None, after: int, db: Path | None) -> None:
    """Write the log as JSON Lines, one entry per line, with its hashes (verify it with log verify --file)."""
    from ..server import screening_log

    conn = _database(db).connection()
    count = 0
    with private_output(output) if output else nullcontext(sys.stdout.buffer) as stream:
        for item in screening_log.entries(conn, after):
            stream.write(orjson.dumps(item.to_json()) + b"\n")
            count += 1
    if output:
        click.echo(f"wrote {count} entries to {output}", err=True)
