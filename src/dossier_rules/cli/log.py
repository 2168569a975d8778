"""``log`` (verify, export): the service's hash-chained screening log."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from ..locale import _
from .common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK
from .serve import db_option, settings_db


def _database(db: Path | None):  # type: ignore[no-untyped-def]
    from ..server.db import Database

    path = settings_db(db)
    if not path.exists():
        click.echo(_("error: {path}: no such database", path=path), err=True)
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
            click.echo(_("BROKEN: no entry has the expected head hash {head}: the log was rewritten", head=expect_head), err=True)
            raise SystemExit(EXIT_FINDINGS)
    if not result.ok:
        click.echo(_("BROKEN at entry {entry}: {problem}", entry=result.first_bad, problem=result.problem), err=True)
        click.echo(_("{count} entries verified before it", count=result.entries), err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo(_("ok: {count} entries, head {head}", count=result.entries, head=result.head))
    raise SystemExit(EXIT_OK)


def _exported(path: Path):  # type: ignore[no-untyped-def]
    from ..server import screening_log

    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                yield screening_log.Entry.from_json(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                click.echo(_("error: {path}:{line}: not a log entry ({reason})", path=path, line=number, reason=exc), err=True)
                raise SystemExit(EXIT_INPUT) from None


@log.command("export")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here instead of standard output.")
@click.option("--after", type=click.IntRange(min=0), default=0, show_default=True, help="Export only entries after this position (for incremental archives).")
@db_option
def log_export(output: Path | None, after: int, db: Path | None) -> None:
    """Write the log as JSON Lines, one entry per line, with its hashes (verify it with log verify --file)."""
    from ..server import screening_log

    conn = _database(db).connection()
    stream = output.open("wb") if output else sys.stdout.buffer
    count = 0
    try:
        for item in screening_log.entries(conn, after):
            stream.write(orjson.dumps(item.to_json()) + b"\n")
            count += 1
    finally:
        if output:
            stream.close()
    if output:
        click.echo(_("wrote {count} entries to {path}", count=count, path=output), err=True)
