"""``share`` (build, list, show, approve, export): notices to the partner's contact point."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from .. import sharing
from ..errors import DossierError
from ..formats import NOTICE_NAMES, notice_format
from ..labels import act_label, label, term
from ..locale import N_, _, language
from ..private_files import private_dir, write_private
from ..services.notices import NoticeService, Reviewer, open_notices, reviewer_named
from .common import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_OK,
    console,
    load_packset,
    packs_option,
    print_problems,
    say_error,
)
from .views import text_table

outbox_option = click.option(
    "--outbox",
    type=click.Path(path_type=Path, dir_okay=False),
    default=lambda: Path(os.environ.get("DOSSIER_RULES_OUTBOX", "outbox.sqlite")),
    show_default="outbox.sqlite, or $DOSSIER_RULES_OUTBOX",
    help="The SQLite file that holds the notices.",
)
HINTS = {
    "notice.is_draft": "share approve {notice_id} --by NAME",
    "notice.approver_missing": "--by NAME",
    "notice.needs_reviewer": "--by USERNAME",
}
"""What to type next after the words for a refusal: commands and options, the same in every language."""
reviewer_option = click.option("--by", "by", default=None, help="When --outbox is the service's database: the user name of the reviewer acting (it is logged).")


def say_refusal(exc: DossierError) -> int:
    """Print a refused notice in the user's language with the command to type next; the exit code (2 for unusable input)."""
    hint = HINTS.get(exc.code)
    say_error(exc, hint.format(**exc.params) if hint else None)
    return EXIT_INPUT if exc.code in ("notice.not_found", "notice.needs_reviewer", "notice.not_a_reviewer") else EXIT_FINDINGS


def refusal(exc: DossierError) -> SystemExit:
    return SystemExit(say_refusal(exc))


def acting(service: NoticeService, by: str | None) -> Reviewer:
    try:
        return reviewer_named(service, by)
    except DossierError as exc:
        raise refusal(exc) from None


@click.group()
def share() -> None:
    """Notices to the partner's contact point (art. 2) under 4(1) and the test-fraud article."""


@share.command("build")
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--with-personal-data", is_flag=True, help="Include candidates' identity, read from the dossier files the reports name.")
@click.option("-v", "--verbose", is_flag=True, help="Also list each notice built or extended and each report held back.")
@outbox_option
@packs_option
def share_build(reports: tuple[Path, ...], with_personal_data: bool, verbose: bool, outbox: Path, packs_dir: Path) -> None:
    """Turn the share-marked findings of REPORTS (check/batch JSON or JSONL) into draft notices.

    One notice per partner, act and intermediary lists every dossier
    concerned. Running it again with the same reports adds nothing; a new
    dossier about the same intermediary and act joins its open draft (an
    approved or exported notice is never changed: a new draft is started).
    Prints counts by outcome; -v lists the details.
    """
    packset = load_packset(packs_dir)
    with open_notices(outbox) as service:
        result = service.outbox.build(packset, reports, with_personal_data=with_personal_data)
    print_problems(result.problems)
    if verbose:
        _build_details(result)
    _build_counts(outbox, result)
    raise SystemExit(EXIT_INPUT if result.problems else EXIT_OK)


HELD_BACK_REASONS = {
    "not_yet_in_force": N_("the MOC with {country} had not yet taken effect on the report's date"),
    "start_unknown": N_("the date the MOC with {country} took effect is not known"),
    "ended": N_("the MOC with {country} had ended by the report's date"),
}
"""Why reports were held back, by the state of their MOC on the report's date (:func:`dossier_rules.status.pack_status`)."""


def _held_back_reason(country: str, state: str) -> str:
    """Why a report was held back, in the user's language (the partner country by its name)."""
    name = label(country, "ja" if language() == "ja" else "en", "country")
    return _(HELD_BACK_REASONS.get(state, state), country=name)


def _build_counts(outbox: Path, result: sharing.BuildResult) -> None:
    """The outcome of a build in a few lines, whatever the number of reports: counts, and held-back reports by reason."""
    dossiers = len({dossier for _, dossier in result.added})
    click.echo(
        _(
            "{outbox}: {built} notice(s) built, {dossiers} dossier(s) added to {drafts} open draft(s), {duplicates} finding(s) already in the outbox",
            outbox=outbox,
            built=len(result.created),
            dossiers=dossiers,
            drafts=len(result.extended),
            duplicates=result.duplicates,
        )
    )
    for (country, state), (held, findings) in result.held_back_by_reason().items():
        reason = _held_back_reason(country, state)
        click.echo(
            _(
                "held back, not shared: {reports} report(s), {findings} finding(s): {reason}",
                reports=held,
                findings=findings,
                reason=reason,
            )
        )


def _build_details(result: sharing.BuildResult) -> None:
    """Each notice built or extended (with the dossiers that joined it) and each report held back, one per line."""
    for nid in result.created:
        click.echo(_("built: {notice}", notice=nid))
    joined: dict[str, list[str]] = {}
    for nid, dossier in sorted(result.added):
        joined.setdefault(nid, []).append(dossier)
    for nid, dossiers in joined.items():
        click.echo(_("added to {notice}: {dossiers}", notice=nid, dossiers=", ".join(dossiers)))
    for held in result.held_back:
        reason = _held_back_reason(held.country, held.state)
        click.echo(
            _(
                "held back: {source}: {dossier}: {findings} finding(s): {reason}",
                source=held.source,
                dossier=held.dossier_id,
                findings=held.findings,
                reason=reason,
            )
        )


def _date(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    return value.date() if value else None


def notice_filter_options(command: Any) -> Any:
    """Options that choose notices (:class:`dossier_rules.sharing.NoticeFilter`), each repeatable."""
    options = [
        click.option("--country", "countries", multiple=True, help="Partner country of the notice."),
        click.option("--act", "acts", multiple=True, help="Act of the notice (a-e, test_fraud, revocation, ...)."),
        click.option("--intermediary", "intermediaries", multiple=True, help="The party the notice is about: its id, or its name (case and spacing ignored)."),
        click.option("--created-from", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_date, help="Created on or after (YYYY-MM-DD)."),
        click.option("--created-to", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_date, help="Created on or before (YYYY-MM-DD)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def notice_filter(options: dict[str, Any], states: tuple[str, ...] = ()) -> sharing.NoticeFilter:
    """The filter the options describe; removes them from ``options``."""
    return sharing.NoticeFilter(
        countries=frozenset(c.upper() for c in options.pop("countries")),
        acts=frozenset(options.pop("acts")),
        states=frozenset(states),
        intermediaries=frozenset(options.pop("intermediaries")),
        created_from=options.pop("created_from"),
        created_to=options.pop("created_to"),
    )


@share.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice(["draft", "approved", "exported"]))
@notice_filter_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@outbox_option
def share_list(states: tuple[str, ...], fmt: str, outbox: Path, **options: Any) -> None:
    """List the notices in the outbox, filtered by state, country, act, intermediary and creation date."""
    chosen = notice_filter(options, states)
    with open_notices(outbox) as service:
        rows = service.listing(chosen)
    fields = ("id", "country", "act", "state", "dossiers", "findings", "created_at", "approved_by")
    if fmt == "json":
        click.echo(json.dumps([{k: r[k] for k in fields} for r in rows], ensure_ascii=False, indent=2))
        return
    headers = (_("notice id"), _("country"), _("act"), _("state"), _("dossiers"), _("findings"), _("created at"), _("approved by"))
    body = [[_listed(k, r[k]) for k in fields] for r in rows]
    console().print(text_table(headers, body, ids=[0, 6]))


def _listed(key: str, value: Any) -> str:
    """A cell of ``share list``: the country, act and state in words from the one vocabulary, the rest as stored."""
    lang = language()
    if value is None:
        return ""
    if key == "country":
        return label(str(value), "ja" if lang == "ja" else "en", "country")
    if key == "act":
        return act_label(str(value), lang)
    if key == "state":
        return term(str(value), lang, "notice_state")
    return str(value)


@share.command("show")
@click.argument("notice_id")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@reviewer_option
@outbox_option
def share_show(notice_id: str, fmt: str, by: str | None, outbox: Path) -> None:
    """Show one notice, whatever its state (for review; nothing is exported). A draft's Markdown says it is a draft."""
    with open_notices(outbox) as service:
        try:
            text = sharing.render(service.notice(notice_id), "json") if fmt == "json" else service.preview(notice_id, "md", acting(service, by))
        except DossierError as exc:
            raise refusal(exc) from None
    click.echo(text, nl=False)


@share.command("approve")
@click.argument("notice_ids", nargs=-1)
@notice_filter_options
@click.option("--by", "by", required=True, help="Name of the person approving the notice.")
@click.option("--yes", is_flag=True, help="Approve the drafts a filter selects without asking.")
@outbox_option
def share_approve(notice_ids: tuple[str, ...], by: str, yes: bool, outbox: Path, **options: Any) -> None:
    """Approve draft notices: those named, or every draft a filter selects (after a count and a confirmation).

    Only approved notices can be exported. Exit 0 when every notice was
    approved, 1 when any was not (already approved, say), 2 when a named
    notice does not exist. When --outbox is the service's database, --by is
    the user name of one of its reviewers and each approval is logged, as
    through the service.
    """
    chosen = notice_filter(options, ("draft",))
    with open_notices(outbox) as service:
        who = acting(service, by)
        if notice_ids and not chosen.empty_except_state:
            raise click.UsageError(_("name notices or give a filter, not both"))
        if not notice_ids:
            if chosen.empty_except_state:
                raise click.UsageError(_("name the notices to approve, or choose drafts with --country, --act, --intermediary or --created-from/--created-to"))
            notice_ids = tuple(service.ids(chosen))
            if not notice_ids:
                click.echo(_("no draft notice matches"))
                raise SystemExit(EXIT_OK)
            if not yes:
                click.confirm(_("approve {n} draft notice(s) as {by}?", n=len(notice_ids), by=by), abort=True, err=True)
        refused = 0
        for nid in notice_ids:
            try:
                notice = service.approve(nid, who)
            except DossierError as exc:
                say_refusal(exc)
                if exc.code == "notice.not_found" and len(notice_ids) == 1:
                    raise SystemExit(EXIT_INPUT) from None
                refused += 1
                continue
            click.echo(_("{notice} approved by {by} at {at}", notice=notice.notice_id, by=notice.approved_by, at=notice.approved_at))
    if len(notice_ids) > 1:
        click.echo(_("{done} of {n} notice(s) approved", done=len(notice_ids) - refused, n=len(notice_ids)))
    raise SystemExit(EXIT_FINDINGS if refused else EXIT_OK)


@share.command("export")
@click.argument("notice_ids", nargs=-1)
@notice_filter_options
@click.option("--format", "fmt", type=click.Choice(NOTICE_NAMES), default=NOTICE_NAMES[0], show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here instead of standard output.")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default=None, help="Write each notice to this folder as NOTICE-ID.FORMAT.")
@reviewer_option
@outbox_option
@packs_option
def share_export(
    notice_ids: tuple[str, ...], fmt: str, output: Path | None, folder: Path | None, by: str | None, outbox: Path, packs_dir: Path, **options: Any
) -> None:
    """Export approved notices (JSON, printable HTML in English with a Japanese summary, or Markdown).

    One notice to standard output or --output; several (named, or every
    approved or exported notice a filter selects) into --dir. Exit 1 when
    any notice was refused (a draft, or a notice to a partner whose MOC is
    not in force on the day of export).
    """
    chosen = notice_filter(options, ("approved", "exported"))
    packset = load_packset(packs_dir)
    today = datetime.now(UTC).date()
    form = notice_format(fmt)
    assert form is not None, "click.Choice took a registered format"
    with open_notices(outbox) as service:
        who = acting(service, by)
        if not notice_ids and not chosen.empty_except_state:
            notice_ids = tuple(service.ids(chosen))
        if len(notice_ids) == 1 and folder is None:
            try:
                notice = service.export(notice_ids[0], packset, today, form, who)
            except DossierError as exc:
                raise refusal(exc) from None
            text = sharing.render(notice, form)
            if output is None:
                click.echo(text, nl=False)
            else:
                write_private(output, text)
                click.echo(_("wrote {path}", path=output), err=True)
            raise SystemExit(EXIT_OK)
        if folder is None:
            raise click.UsageError(_("several notices go to a folder: give --dir"))
        if not notice_ids:
            raise click.UsageError(_("name the notices to export, or choose them with a filter"))
        private_dir(folder)
        refused = 0
        for nid in notice_ids:
            try:
                notice = service.export(nid, packset, today, form, who)
            except DossierError as exc:
                say_refusal(exc)
                refused += 1
                continue
            write_private(folder / f"{notice.notice_id}.{fmt}", sharing.render(notice, form))
    click.echo(_("{done} of {n} notice(s) written to {folder}", done=len(notice_ids) - refused, n=len(notice_ids), folder=folder))
    raise SystemExit(EXIT_FINDINGS if refused else EXIT_OK)
