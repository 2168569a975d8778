"""The language of the command line: ``--lang`` anywhere on the line, else the POSIX locale.

Every command and group accepts ``--lang`` (:func:`_localize` gives it to
those that do not declare it), so ``dossier-rules share list --lang ja`` and
``dossier-rules --lang ja share list`` mean the same.

The language is settled before click parses anything, so ``--help``, usage
errors and click's own messages come out in it as well as our output. Help
texts are translated on the command objects themselves and put back when the
next invocation (in the same process: tests, embedding) asks for English.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

from .. import locale
from ..locale import LANGUAGES, detect, set_language, translate

_CLICK_MODULES = (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.termui, click.types)


def lang_from_args(args: Sequence[str]) -> str | None:
    """The value of the last valid ``--lang`` on the command line, if any."""
    found = None
    for index, arg in enumerate(args):
        if arg == "--":
            break
        value = args[index + 1] if arg == "--lang" and index + 1 < len(args) else arg.partition("=")[2] if arg.startswith("--lang=") else None
        if value in LANGUAGES:
            found = value
    return found


def _click_gettext(message: str) -> str:
    return translate(message)


def apply(command: click.Command, args: Sequence[str]) -> None:
    """Choose the language for this invocation and put click's messages and our help texts in it."""
    lang = lang_from_args(args) or detect()
    set_language(lang)
    for module in _CLICK_MODULES:
        module._ = _click_gettext  # type: ignore[attr-defined]  # click reads its messages through this module global
        if hasattr(module, "ngettext"):
            module.ngettext = locale.ngettext  # type: ignore[attr-defined]  # and its plural ones through this
    _localize(command, lang)


def localize(command: click.Command) -> None:
    """Put a command loaded after the language was settled (see ``cli.LazyGroup``) in that language."""
    _localize(command, locale.language())


def _localize(command: click.Command, lang: str) -> None:
    if not any(param.name == "lang" for param in command.params):
        command.params.append(_lang_param())
    _swap(command, ("help", "short_help", "epilog"), lang)
    if hasattr(command, "_help_option"):
        command._help_option = None  # click builds --help once, in the language of that moment; build it again
    for param in command.params:
        if isinstance(param, click.Option):
            _swap(param, ("help", "show_default"), lang)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _localize(sub, lang)


def _swap(obj: Any, attrs: Sequence[str], lang: str) -> None:
    """Set each text attribute to its translation, keeping the English one to return to."""
    originals = obj.__dict__.setdefault("_english_texts", {attr: getattr(obj, attr, None) for attr in attrs})
    for attr, english in originals.items():
        if isinstance(english, str):
            setattr(obj, attr, english if lang == "en" else translate(inspect.cleandoc(english), lang))


class LocalizedGroup(click.Group):
    """The top-level group: settles the language before parsing (see the module docstring)."""

    def main(self, args: Sequence[str] | None = None, *posargs: Any, **kwargs: Any) -> Any:
        import sys

        argv = list(sys.argv[1:] if args is None else args)
        apply(self, argv)
        return super().main(argv, *posargs, **kwargs)


LANG_HELP = "Language of messages and help: ja or en [default: from LANG, else en]."

lang_option = click.option("--lang", type=click.Choice(LANGUAGES), default=None, expose_value=False, is_eager=True, help=LANG_HELP)


def _lang_param() -> click.Option:
    """``--lang`` for a command that does not declare it: parsed (the language is already settled), never passed on."""
    return click.Option(["--lang"], type=click.Choice(LANGUAGES), default=None, expose_value=False, is_eager=True, help=LANG_HELP)
