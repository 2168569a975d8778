"""The formats a notice is exported in, registered once: its name, its media type, whether it prints.

``share export --format``, the API's ``preview`` and ``export`` operations (and
the media types the OpenAPI document gives their answers), and the notices page's
export button each used to list these formats themselves, one of them with its
own error text naming them; they all read this registry now, so a format added
here reaches every interface at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .locale import _, language

NoticeFormat = Literal["json", "html", "md"]
"""The name of a notice format: what ``--format`` and ``?format=`` take, and the exported file's extension."""

PrintedNoticeFormat = Literal["html", "md"]
"""A notice format that is a document to read or print (the JSON form is the data itself)."""


@dataclass(frozen=True)
class ExportFormat:
    """One format: its name and the media type of a file or an answer in it."""

    name: NoticeFormat
    media_type: str
    printed: bool
    """A document for people (printable HTML, Markdown), as opposed to the notice's data (JSON)."""

    @property
    def content_type(self) -> str:
        """The media type without its parameters, as the OpenAPI document keys an answer's content."""
        return self.media_type.split(";", 1)[0]


NOTICE_FORMATS: dict[NoticeFormat, ExportFormat] = {
    "json": ExportFormat("json", "application/json", printed=False),
    "html": ExportFormat("html", "text/html; charset=utf-8", printed=True),
    "md": ExportFormat("md", "text/markdown; charset=utf-8", printed=True),
}
"""Every notice format, the data first (``share export``'s default)."""

NOTICE_NAMES: tuple[NoticeFormat, ...] = get_args(NoticeFormat)
PRINTED_NAMES: tuple[PrintedNoticeFormat, ...] = get_args(PrintedNoticeFormat)


def notice_format(name: str) -> NoticeFormat | None:
    """``name`` as a notice format, or None when no format has that name."""
    return next((known for known in NOTICE_NAMES if known == name), None)


def unknown_notice_format() -> str:
    """What to say to someone who asked for a format that is not one (in the current language)."""
    return _("The format is one of {formats}.", formats=("、" if language() == "ja" else ", ").join(NOTICE_NAMES))
