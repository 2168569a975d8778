"""``share`` (build, list, show, approve, export): notices to the partner's contact point."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from .. import sharing
from .common import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_OK,
    console,
    load_packset,
    packs_option,
    print_problems,
)


outbox_option = click.option(
    "--outbox",
    type=click.Path(path_type=Path, dir_okay=False),
    default=lambda: Path(os.environ.get("DOSSIER_RULES_OUTBOX", "outbox.sqlite")),
    show_default="outbox.sqlite, or $DOSSIER_RULES_OUTBOX",
    help="The SQLite file that holds the notices.",
)


@click.group()
def share() -> None:
    """Notices to the partner's contact point (art. 2) under 4(1) and the test-fraud article."""


@share.command("build")
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--with-personal-data", is_flag=True, help="Include candidates' identity, read from the dossier files the reports name.")
@outbox_option
@packs_option
def share_build(reports: tuple[Path, ...], with_personal_data: bool, outbox: Path, packs_dir: Path) -> None:
    """Turn the share-marked findings of REPORTS (check/batch JSON or JSONL) into draft notices.

    Running it again with the same reports adds nothing; a new dossier about
    the same intermediary and act joins its open draft.
    """
    packset = load_packset(packs_dir)
    with sharing.Outbox(outbox) as box:
        result = box.build(packset, reports, with_personal_data=with_personal_data)
    print_problems(result.problems)
    for held in result.held_back:
        click.echo(
            f"{held.source}: {held.dossier_id}: {held.findings} finding(s) held back, not shared: "
            f"MOC-{held.country} was not in force on the report's date ({held.state})",
            err=True,
        )
    click.echo(
        f"{outbox}: {len(result.created)} notice(s) created, {len(result.extended)} draft(s) extended, "
        f"{result.duplicates} finding(s) already in the outbox"
    )
    raise SystemExit(EXIT_INPUT if result.problems else EXIT_OK)


@share.command("list")
@click.option("--state", type=click.Choice(["draft", "approved", "exported"]), default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@outbox_option
def share_list(state: str | None, fmt: str, outbox: Path) -> None:
    """List the notices in the outbox."""
    with sharing.Outbox(outbox) as box:
        rows = [dict(r) for r in box.notices(state)]
    fields = ("id", "country", "act", "state", "dossiers", "findings", "created_at", "approved_by")
    if fmt == "json":
        click.echo(json.dumps([{k: r[k] for k in fields} for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table(*fields)
    for r in rows:
        table.add_row(*(str(r[k]) if r[k] is not None else "" for k in fields))
    console().print(table)


def _notice_or_exit(box: "sharing.Outbox", nid: str, action: Any) -> "sharing.Notice":
    try:
        return action(nid)
    except sharing.OutboxError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_FINDINGS if "no notice" not in str(exc) else EXIT_INPUT) from None


@share.command("show")
@click.argument("notice_id")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@outbox_option
def share_show(notice_id: str, fmt: str, outbox: Path) -> None:
    """Show one notice, whatever its state (for review; nothing is exported)."""
    with sharing.Outbox(outbox) as box:
        notice = _notice_or_exit(box, notice_id, box.notice)
    click.echo(sharing.render(notice, fmt), nl=False)


@share.command("approve")
@click.argument("notice_id")
@click.option("--by", "by", required=True, help="Name of the person approving the notice.")
@outbox_option
def share_approve(notice_id: str, by: str, outbox: Path) -> None:
    """Approve a draft notice; only approved notices can be exported."""
    with sharing.Outbox(outbox) as box:
        notice = _notice_or_exit(box, notice_id, lambda nid: box.approve(nid, by))
    click.echo(f"{notice.notice_id} approved by {notice.approved_by} at {notice.approved_at}")


@share.command("export")
@click.argument("notice_id")
@click.option("--format", "fmt", type=click.Choice(["json", "html", "md"]), default="json", show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here instead of standard output.")
@outbox_option
@packs_option
def share_export(notice_id: str, fmt: str, output: Path | None, outbox: Path, packs_dir: Path) -> None:
    """Export an approved notice (JSON, printable HTML in English with a Japanese summary, or Markdown).

    Refused while the partner's MOC is not in force on the day of export.
    """
    packset = load_packset(packs_dir)
    today = datetime.now(timezone.utc).date()
    with sharing.Outbox(outbox) as box:
        notice = _notice_or_exit(box, notice_id, lambda nid: box.export(nid, packset, today))
    text = sharing.render(notice, fmt)  # type: ignore[arg-type]
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
