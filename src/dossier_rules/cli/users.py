"""``users`` (add, list, disable, enable, reset-password): accounts of the screening service."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from ..labels import term
from ..locale import _, language
from .common import EXIT_INPUT, console
from .serve import db_option, settings_db
from .views import text_table

if TYPE_CHECKING:
    from ..services.accounts import Accounts

T = TypeVar("T")

"""Roles of the service's accounts, as a person reads them."""


def _accounts(db: str | None) -> Accounts:
    from ..services.accounts import open_accounts  # the service's modules, loaded by the commands that use them

    return open_accounts(settings_db(db))


def _password(from_stdin: bool) -> str:
    """A new password: one line of stdin (scripts), or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)


def _run(action: Callable[[], T]) -> T:
    from ..services.accounts import AccountError

    try:
        return action()
    except AccountError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_INPUT) from None


@click.group()
def users() -> None:
    """Accounts of the screening service; there is no default account."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["screener", "reviewer", "admin"]), required=True)
@click.option("--name", "display_name", default=None, help="Name shown in the pages and recorded on approvals  [default: USERNAME]")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@db_option
def users_add(username: str, role: str, display_name: str | None, lang: str, password_stdin: bool, db: str | None) -> None:
    """Create a user; the password is asked for (at least 12 characters)."""
    accounts = _accounts(db)
    password = _password(password_stdin)
    user = _run(lambda: accounts.add_user(username, password, role, display_name, lang))  # type: ignore[arg-type]  # click.Choice checked the role
    click.echo(_("user {username} created ({role})", username=user.username, role=term(user.role, language(), "user_role")))


@users.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@db_option
def users_list(fmt: str, db: str | None) -> None:
    """List users with their role and whether they are disabled."""
    rows = [
        {"username": u.username, "name": u.display_name, "role": u.role, "disabled": u.disabled, "lang": u.lang, "created_at": u.created_at}
        for u in _accounts(db).users()
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    headers = (_("user name"), _("name"), _("role"), _("disabled"), _("language"), _("created at"))
    body = [
        [(_("yes") if v else "") if isinstance(v, bool) else term(str(v), language(), "user_role") if k == "role" else str(v) for k, v in row.items()]
        for row in rows
    ]
    console().print(text_table(headers, body, ids=[0]))


@users.command("disable")
@click.argument("username")
@db_option
def users_disable(username: str, db: str | None) -> None:
    """Disable a user: sessions end at once, tokens stop working."""
    _run(lambda: _accounts(db).set_disabled(username, True))
    click.echo(_("user {username} disabled", username=username))


@users.command("enable")
@click.argument("username")
@db_option
def users_enable(username: str, db: str | None) -> None:
    """Enable a disabled user again."""
    _run(lambda: _accounts(db).set_disabled(username, False))
    click.echo(_("user {username} enabled", username=username))


@users.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@db_option
def users_reset_password(username: str, password_stdin: bool, db: str | None) -> None:
    """Set a new password; the user's sessions end."""
    accounts = _accounts(db)
    _run(lambda: accounts.user(username))
    password = _password(password_stdin)
    _run(lambda: accounts.reset_password(username, password))
    click.echo(_("password of {username} reset", username=username))
