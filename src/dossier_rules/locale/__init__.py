"""Message catalogs: every string a person reads, in Japanese and English.

The English text is the message id (gettext's usual practice), so English
needs no catalog and costs nothing at start-up; Japanese comes from
``ja/LC_MESSAGES/messages.po``, read directly with Babel the first time a
Japanese string is needed (no compile step, so ``make test`` and an editable
install see catalog edits at once). ``python -m dossier_rules.locale`` adds
new message ids to the catalog; ``tests/test_locale.py`` fails while any of
them lacks a Japanese translation.

The language is chosen once per process by the command line (``--lang``, else
the POSIX locale variables) and per request by the web pages
(:func:`use_language`); code that builds a message calls :func:`_` with the
English text and ``str.format`` placeholders.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("ja", "en")
"""Supported languages; Japanese first, as the people who screen dossiers read it."""

CATALOG_DIR = Path(__file__).parent
_process_language = "en"
_request_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("dossier_rules_language", default=None)


def detect(environ: Mapping[str, str] | None = None) -> str:
    """The language the POSIX locale variables ask for: ``ja`` for any Japanese locale, else ``en``.

    GNU order: ``LANGUAGE`` (a list), then ``LC_ALL``, ``LC_MESSAGES``, ``LANG``;
    the first one set decides, and ``C``/``POSIX`` mean English.
    """
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            first = value.split(":")[0].strip().lower()
            return "ja" if first.startswith("ja") else "en"
    return "en"


def set_language(lang: str) -> None:
    """Set the language of this process (the command line does it once, before any output)."""
    global _process_language
    _process_language = _checked(lang)


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Use ``lang`` for messages made inside the block (one web request), whatever the process uses."""
    token = _request_language.set(_checked(lang))
    try:
        yield
    finally:
        _request_language.reset(token)


def language() -> str:
    """The language messages are made in right now."""
    return _request_language.get() or _process_language


def _checked(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return lang


@cache
def translations(lang: str) -> dict[str, str]:
    """Message id -> translation for ``lang`` (empty for English, whose ids are the text)."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    with open(CATALOG_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as stream:
        parsed = read_po(stream, locale=lang)
    out: dict[str, str] = {}
    for message in parsed:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
            if forms and forms[0] and forms[-1]:
                out[message.id[0]] = forms[0]
                out[message.id[1]] = forms[-1]
        elif isinstance(message.string, str) and message.string:
            out[message.id] = message.string
    return out


def translate(message: str, lang: str | None = None) -> str:
    """``message`` (English) in ``lang`` (default: the current language); itself when untranslated."""
    return translations(lang or language()).get(message, message)


def _(message: str, /, **params: Any) -> str:
    """``message`` in the current language, with ``{name}`` placeholders filled from ``params``."""
    text = translate(message)
    return text.format(**params) if params else text


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it yet (module-level constants)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural English form; Japanese has one form, its translation of either."""
    return translate(singular if n == 1 else plural)
