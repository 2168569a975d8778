"""``exchange``: a notice's life after approval (send, answer, close, withdraw, history, open) and the inbox (receive, inbox).

Every change goes through the notices service's one gate: in the service's
database it is logged as the reviewer named by ``--by``; in a stand-alone
outbox it is kept in the notice's history with that name.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import click
from rich.table import Table

from ..errors import DossierError
from ..framework import japan, life
from ..framework.inbox import MAX_COMMUNICATION_BYTES
from ..locale import _, language
from ..problems import InputError
from ..services import framework as inbox_service
from ..services.notices import open_notices
from ..services.workspace import Workspace
from ..sources import read_bytes
from .brief import brief_command
from .common import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_OK,
    console,
    load_packset,
    load_registry_set,
    packs_option,
    print_problems,
    registries_option,
    say_error,
)
from .share import acting, outbox_option, refusal, reviewer_option

INPUT_CODES = (
    "notice.not_found",
    "framework.no_dispatch",
    "framework.no_inquiry_article",
    "framework.subject_missing",
    "framework.refused",
    "framework.unknown_notice",
    "framework.nothing_to_withdraw",
    "framework.other_partner",
    "framework.bad_due",
    "framework.bad_period",
)


def _refused(exc: DossierError) -> SystemExit:
    """Unusable input exits 2; a change the notice's state refuses exits 1."""
    if exc.code in INPUT_CODES:
        say_error(exc)
        return SystemExit(EXIT_INPUT)
    return refusal(exc)


def _today() -> Any:
    return datetime.now(UTC).date()


@click.group()
def exchange() -> None:
    """The framework both ways: a notice's life after approval, and what the partner sends back."""


exchange.add_command(brief_command)


@exchange.command("send")
@click.argument("notice_id")
@click.option("--how", type=click.Choice(get_args(life.SendHow)), required=True, help="How the notice was transmitted.")
@reviewer_option
@outbox_option
@packs_option
def exchange_send(notice_id: str, how: str, by: str | None, outbox: Path, packs_dir: Path) -> None:
    """Mark an approved notice sent to the partner's contact point, and how (refused while its MOC is not in force)."""
    packset = load_packset(packs_dir)
    with open_notices(outbox) as service:
        try:
            service.send(notice_id, how, packset, _today(), acting(service, by))  # type: ignore[arg-type]  # click.Choice checked it
        except DossierError as exc:
            raise _refused(exc) from None
    click.echo(_("{notice_id}: sent ({how})", notice_id=notice_id, how=how))


@exchange.command("answer")
@click.argument("notice_id")
@click.option("--text", required=True, help="The partner's result (at most 4000 characters).")
@click.option("--date", "received_on", required=True, help="The date of the partner's communication, YYYY-MM-DD.")
@click.option("--reference", required=True, help="The partner's document reference.")
@click.option("--action", type=click.Choice(get_args(life.PartnerAction)), required=True, help="What the partner did.")
@reviewer_option
@outbox_option
def exchange_answer(notice_id: str, text: str, received_on: str, reference: str, action: str, by: str | None, outbox: Path) -> None:
    """Record the partner's result of a sent notice (KH 5(5); LA, KG, TJ 7(3)), or its answer to an inquiry."""
    try:
        result = life.Answer.model_validate({"text": text, "received_on": received_on, "reference": reference, "action": action})
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    with open_notices(outbox) as service:
        try:
            service.answer(notice_id, result, acting(service, by))
        except DossierError as exc:
            raise _refused(exc) from None
    click.echo(_("{notice_id}: answered ({action})", notice_id=notice_id, action=action))


@exchange.command("close")
@click.argument("notice_id")
@click.option("--note", default="", help="Why it is closed (optional).")
@reviewer_option
@outbox_option
def exchange_close(notice_id: str, note: str, by: str | None, outbox: Path) -> None:
    """Close an answered notice (or a sent one that expects no result from the partner)."""
    with open_notices(outbox) as service:
        try:
            service.close(notice_id, acting(service, by), note)
        except DossierError as exc:
            raise _refused(exc) from None
    click.echo(_("{notice_id}: closed", notice_id=notice_id))


@exchange.command("withdraw")
@click.argument("notice_id")
@click.option("--reason", required=True, help="Why the notice is withdrawn (kept with the notice, not in the log).")
@reviewer_option
@outbox_option
def exchange_withdraw(notice_id: str, reason: str, by: str | None, outbox: Path) -> None:
    """Withdraw a notice not yet answered, with a reason."""
    with open_notices(outbox) as service:
        try:
            service.withdraw(notice_id, reason, acting(service, by))
        except DossierError as exc:
            raise _refused(exc) from None
    click.echo(_("{notice_id}: withdrawn", notice_id=notice_id))


@exchange.command("history")
@click.argument("notice_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@outbox_option
def exchange_history(notice_id: str, fmt: str, outbox: Path) -> None:
    """A notice's whole life: each step, by whom and when, and the partner's result."""
    with open_notices(outbox) as service:
        try:
            found = service.history(notice_id)
        except DossierError as exc:
            raise _refused(exc) from None
    if fmt == "json":
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    table = Table(_("step"), _("at"), _("by"), _("details"))
    for step in found["steps"]:
        details = ", ".join(f"{k}={v}" for k, v in step.items() if k not in ("kind", "at", "by"))
        table.add_row(life.STATE_WORDS[life.STEP_STATE[step["kind"]]][language()], step["at"], step["by"] or "", details)
    console().print(table)
    click.echo(_("state: {state}", state=life.STATE_WORDS[found["state"]][language()]))


@exchange.command("open")
@click.option("--country", "countries", multiple=True, help="Only notices to this partner (repeatable).")
@click.option("--due", "due", multiple=True, help=f"A partner's due period for results, COUNTRY=DAYS (repeatable; default {life.DEFAULT_DUE_DAYS} days).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@outbox_option
def exchange_open(countries: tuple[str, ...], due: tuple[str, ...], fmt: str, outbox: Path) -> None:
    """Notices not closed or withdrawn (at most 1000), by partner and state, overdue first. Exit 1 when any is overdue."""
    try:
        periods = life.due_periods(due)
    except DossierError as exc:
        raise _refused(exc) from None
    with open_notices(outbox) as service:
        rows = service.open_notices(frozenset(c.upper() for c in countries), periods, _today())
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        fields = ("id", "country", "act", "state", "sent_how", "days_before_sent", "due_on", "overdue")
        table = Table(*fields)
        for r in rows:
            table.add_row(*_cells(r, fields))
        console().print(table)
    raise SystemExit(EXIT_FINDINGS if any(r["overdue"] for r in rows) else EXIT_OK)


def _cells(row: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    """A row of the open-notices table: blank for nothing, the state and the word "overdue" in the reader's language."""
    return [
        (_("overdue") if row[k] else "") if k == "overdue" else life.STATE_WORDS[row[k]][language()] if k == "state" else "" if row[k] is None else str(row[k])
        for k in fields
    ]


@exchange.command("receive")
@click.argument("communication", type=click.Path(path_type=Path, dir_okay=False))
@reviewer_option
@outbox_option
@packs_option
@registries_option
def exchange_receive(communication: Path, by: str | None, outbox: Path, packs_dir: Path, registries_dir: Path | None) -> None:
    """Record a communication received from a partner (JSON): refused whole, with every problem, or recorded.

    A revocation or an accreditation updates the partner's list of accredited
    agencies in --registries; 4(1) information about an intermediary
    (intermediary_report) and its withdrawal (report_withdrawal) update the
    partner's list intermediary-reports there, which screening consults; a
    result becomes the answer of the notice it names.
    """
    packset = load_packset(packs_dir)
    directory = Workspace.of(packs_dir, registries_dir).registries_dir
    try:
        data = read_bytes(communication, MAX_COMMUNICATION_BYTES + 1)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    with open_notices(outbox) as service:
        try:
            received = inbox_service.receive(service, packset, directory, data, str(communication), acting(service, by), _today())
        except DossierError as exc:
            raise _refused(exc) from None
    click.echo(_("recorded {received_id} ({kind})", received_id=received.id, kind=received.kind))


@exchange.command("inbox")
@click.option("--country", "countries", multiple=True, help="Only from this partner (repeatable).")
@outbox_option
def exchange_inbox(countries: tuple[str, ...], outbox: Path) -> None:
    """Communications received from partners (at most 1000, newest first), without personal data, as JSON."""
    with open_notices(outbox) as service:
        click.echo(json.dumps(inbox_service.listing(service, frozenset(c.upper() for c in countries)), ensure_ascii=False, indent=2))


@exchange.command("agenda")
@click.option("--country", required=True, help="The partner, by its two-letter country code (one a pack covers).")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day of the period, YYYY-MM-DD.")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day of the period, YYYY-MM-DD.")
@click.option("--due", "due", multiple=True, help="A partner's due period for results, COUNTRY=DAYS (repeatable).")
@outbox_option
def exchange_agenda(country: str, start: datetime, end: datetime, due: tuple[str, ...], outbox: Path) -> None:
    """The agenda of a 4(2) consultation with one partner, as JSON: the topics (a)-(f) with the period's numbers under each."""
    try:
        periods = life.due_periods(due)
        with open_notices(outbox) as service:
            found = inbox_service.agenda(service, country.upper(), start.date(), end.date(), periods, _today())
    except DossierError as exc:
        raise _refused(exc) from None
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))


@exchange.command("orders")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day of the period, YYYY-MM-DD.")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day of the period, YYYY-MM-DD.")
@click.option("--draft", is_flag=True, help="Store them as drafts in the outbox (drafting the same again creates nothing).")
@reviewer_option
@outbox_option
@packs_option
@registries_option
def exchange_orders(start: datetime, end: datetime, draft: bool, by: str | None, outbox: Path, packs_dir: Path, registries_dir: Path | None) -> None:
    """The notices of improvement orders first listed in the period, as JSON: to KH under 6(4), to LA, KG, TJ under 6(3), only while each MOC is in force."""
    packset, registries = load_packset(packs_dir), load_registry_set(packs_dir, registries_dir)
    if draft:
        with open_notices(outbox) as service:
            found = inbox_service.draft_orders(service, packset, registries, start.date(), end.date(), acting(service, by), _today())
    else:
        found = japan.improvement_order_notices(packset, registries, start.date(), end.date(), _today())
    click.echo(json.dumps({"notices": found.notices, "held_back": found.held_back}, ensure_ascii=False, indent=2))


@exchange.command("ask")
@click.argument("country")
@click.option("--subject", required=True, help="What Japan asks the partner to provide (no more personal data than needed).")
@click.option("--due-days", type=click.IntRange(1, 3650), default=life.DEFAULT_DUE_DAYS, show_default=True, help="Days the partner is given to answer.")
@reviewer_option
@outbox_option
@packs_option
def exchange_ask(country: str, subject: str, due_days: int, by: str | None, outbox: Path, packs_dir: Path) -> None:
    """Draft an inquiry to a partner (KH 5(7); LA, KG, TJ 7(6)); it follows the life of a notice: approve, send, answer, close."""
    with open_notices(outbox) as service:
        try:
            did = inbox_service.draft_inquiry(service, load_packset(packs_dir), country.upper(), subject, due_days, acting(service, by))
        except DossierError as exc:
            raise _refused(exc) from None
    click.echo(did)


@exchange.command("dispatch")
@click.argument("action", type=click.Choice(list(inbox_service.DISPATCH_ALLOWED)))
@click.argument("dispatch_id")
@click.option("--how", type=click.Choice(get_args(life.SendHow)), default="other", show_default=True, help="send: how it was transmitted.")
@click.option("--text", default="", help="answer: the partner's answer.")
@click.option("--reference", default="", help="answer: the partner's document reference.")
@click.option("--reason", default="", help="withdraw: why.")
@reviewer_option
@outbox_option
@packs_option
def exchange_dispatch(action: str, dispatch_id: str, how: str, text: str, reference: str, reason: str, by: str | None, outbox: Path, packs_dir: Path) -> None:
    """Change one of Japan's own notices (improvement orders, inquiries): approve, send, answer, close or withdraw; logged."""
    packset = load_packset(packs_dir)
    data = {"how": how} if action == "send" else {"text": text, "reference": reference} if action == "answer" else {"reason": reason}
    with open_notices(outbox) as service:
        try:
            found = inbox_service.change_dispatch(service, dispatch_id, action, acting(service, by), packset, _today(), **data)
        except DossierError as exc:
            raise _refused(exc) from None
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))


@exchange.command("dispatches")
@click.option("--country", "countries", multiple=True, help="Only to this partner (repeatable).")
@outbox_option
def exchange_dispatches(countries: tuple[str, ...], outbox: Path) -> None:
    """Japan's own notices (at most 1000), overdue inquiries first, as JSON. Exit 1 when any is overdue."""
    with open_notices(outbox) as service:
        found = inbox_service.dispatches(service, frozenset(c.upper() for c in countries), _today())
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    raise SystemExit(EXIT_FINDINGS if any(r["overdue"] for r in found) else EXIT_OK)


@exchange.command("inquiries")
@click.option("--country", "countries", multiple=True, help="Only from this partner (repeatable).")
@outbox_option
@packs_option
def exchange_inquiries(countries: tuple[str, ...], outbox: Path, packs_dir: Path) -> None:
    """Inquiries received from partners (at most 1000), unanswered first by due date, as JSON. Exit 1 when any is overdue."""
    with open_notices(outbox) as service:
        found = inbox_service.inquiries(service, load_packset(packs_dir), frozenset(c.upper() for c in countries), _today())
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    raise SystemExit(EXIT_FINDINGS if any(r["overdue"] for r in found) else EXIT_OK)


@exchange.command("reply")
@click.argument("received_id")
@click.option("--reference", required=True, help="The reference of Japan's answer.")
@reviewer_option
@outbox_option
def exchange_reply(received_id: str, reference: str, by: str | None, outbox: Path) -> None:
    """Record that Japan answered a partner's inquiry (KH 6(5); LA, KG, TJ 6(4))."""
    with open_notices(outbox) as service:
        try:
            inbox_service.reply(service, received_id, reference, acting(service, by))
        except DossierError as exc:
            raise _refused(exc) from None
    click.echo(_("{received_id}: answered", received_id=received_id))
