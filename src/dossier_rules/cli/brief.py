"""``exchange brief``: the consultation brief (4(2)) of one partner and period, as an XLSX workbook or an HTML file.

The figures come from the service's database (``--outbox`` names it: the
screenings and notices it holds); the command only reads. Exit 0, or 2 for a
bad period or an unusable database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from .. import brief_document
from ..errors import DossierError
from ..framework import life
from ..locale import _, language
from ..private_files import write_private
from ..services import briefs
from ..services.notices import open_notices
from .common import EXIT_INPUT, EXIT_OK, load_packset, packs_option, say_error
from .share import outbox_option


@click.command("brief")
@click.option("--partner", required=True, help="The partner, by its two-letter country code (one a pack covers).")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day of the period, YYYY-MM-DD.")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day of the period, YYYY-MM-DD (at most 366 days).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "html"]), default="xlsx", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="The file to write (0600).")
@click.option("--due", "due", multiple=True, help="A partner's due period for results, COUNTRY=DAYS (repeatable).")
@outbox_option
@packs_option
def brief_command(partner: str, start: datetime, end: datetime, fmt: str, out: Path, due: tuple[str, ...], outbox: Path, packs_dir: Path) -> None:
    """The consultation brief of one partner for a period: findings by act and by month, the intermediaries with most findings, notices, revocations, inquiries, and what changed since the previous period."""
    if not outbox.is_file():
        raise click.BadParameter(_("{path}: no such database", path=str(outbox)), param_hint="--outbox")
    packset = load_packset(packs_dir)
    today = datetime.now(UTC).date()
    try:
        with open_notices(outbox) as service:
            found = briefs.brief(service, packset, partner.upper(), start.date(), end.date(), life.due_periods(due), today)
    except DossierError as exc:
        say_error(exc)
        raise SystemExit(EXIT_INPUT) from None
    lang = language()
    try:
        if fmt == "xlsx":
            brief_document.write_xlsx(found, lang, out)
        else:
            write_private(out, brief_document.document(found, lang))
    except ModuleNotFoundError as exc:  # openpyxl (the xlsx extra) or matplotlib (the server extra) not installed
        extra = "xlsx" if fmt == "xlsx" else "server"
        click.echo(_("{module} is not installed: pip install 'dossier-rules[{extra}]'", module=exc.name or "?", extra=extra), err=True)
        raise SystemExit(EXIT_INPUT) from None
    raise SystemExit(EXIT_OK)
