"""What the catalogs must contain, and keeping them in step with the code.

Message ids come from five places: ``_()``/``N_()``/``ngettext()`` calls in the
package (Babel's Python extractor), the web page templates (Jinja2's Babel
extractor), the help of every command and option of the command line, the
messages of click itself (usage lines, option errors), which are shown in the
user's language too, and the field names and enumerated values of the dossier
model that the New screening form shows as labels. ``python -m dossier_rules.locale`` adds the missing ids
to ``ja/LC_MESSAGES/messages.po`` (untranslated, for a translator to fill) and
drops the ones no longer used.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from . import CATALOG_DIR

PACKAGE_DIR = CATALOG_DIR.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
CLICK_MODULES = ("core.py", "decorators.py", "exceptions.py", "formatting.py", "parser.py", "termui.py", "types.py")
"""The click modules whose messages a user of the command line can see (help, usage, errors, prompts)."""


def _package_messages() -> Iterator[tuple[str, str]]:
    method_map = [("**/web/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
    options = {"**/web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE_DIR), method_map, options_map=options, keywords=KEYWORDS, comment_tags=()
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                yield text, f"{filename}:{lineno}"


def _click_messages() -> Iterator[tuple[str, str]]:
    root = Path(click.__file__).parent
    for name in CLICK_MODULES:
        for lineno, message, _comments, _context in extract_from_file("python", str(root / name), keywords=KEYWORDS):
            for text in message if isinstance(message, tuple) else (message,):
                if text:
                    yield text, f"click/{name}:{lineno}"


def help_texts(command: click.Command, path: str = "dossier-rules") -> Iterator[tuple[str, str]]:
    """Every help text of ``command`` and its subcommands and options, as click shows it."""
    for text in (command.help, command.short_help, command.epilog):
        if text:
            yield inspect.cleandoc(text), path
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            yield param.help, f"{path} {param.opts[-1]}"
        if isinstance(param, click.Option) and isinstance(param.show_default, str):
            yield param.show_default, f"{path} {param.opts[-1]}"
    if isinstance(command, click.Group):
        context = click.Context(command)  # list and get: the top-level group loads its commands on use
        for name in sorted(command.list_commands(context)):
            sub = command.get_command(context, name)
            if sub is not None:
                yield from help_texts(sub, f"{path} {name}")


def _form_labels() -> Iterator[tuple[str, str]]:
    """The labels the New screening form derives from the dossier model (field names, enumerated values)."""
    from ..web.forms import field_names

    for text in sorted(field_names()):
        yield text, "dossier model"


def required() -> dict[str, list[str]]:
    """Every message id a person can read, with where it is used."""
    from ..cli import main

    found: dict[str, list[str]] = {}
    for text, where in (*_package_messages(), *_click_messages(), *help_texts(main), *_form_labels()):
        found.setdefault(text, []).append(where)
    return found


def po_path(lang: str) -> Path:
    return CATALOG_DIR / lang / "LC_MESSAGES" / "messages.po"


def read_catalog(lang: str) -> Catalog:
    with open(po_path(lang), "rb") as stream:
        return read_po(stream, locale=lang)


def update(lang: str = "ja") -> tuple[list[str], list[str]]:
    """Add missing ids (untranslated) and drop unused ones; return (added, dropped)."""
    wanted = required()
    catalog = read_catalog(lang) if po_path(lang).exists() else Catalog(locale=lang)
    have = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    added = [text for text in wanted if text not in have]
    dropped = [text for text in have if text not in wanted]
    for text in dropped:
        del catalog[text]
    for text in added:
        catalog.add(text, "", locations=[(wanted[text][0], None)])  # type: ignore[list-item]  # no line, as babel reads one
    catalog.project, catalog.version = "dossier-rules", ""
    with open(po_path(lang), "wb") as stream:
        write_po(stream, catalog, width=0, omit_header=False, sort_output=True, include_lineno=False)
    return added, dropped
