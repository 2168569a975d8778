"""The canonical layout of a pack file (``packs fmt``), comments kept.

Two authors who write the same pack should produce the same file, so a
review diff shows what changed in the rules, not in the typing. The
canonical layout is the one the shipped packs were written in, made exact:

- **Key order**: the keys of every part of the format (``pack``, ``moc``, a
  rule, a test case, ...) in the order :mod:`dossier_rules.packs.format` declares
  them (``id``, ``title``, ``article`` ... ``tests`` for a rule). Keys a pack
  names itself (provisions, wording, country fields, conditions, test
  dossiers) keep the author's order, which carries meaning (country fields
  are shown in it). A key the format does not know stays after the known
  ones, for ``packs lint`` to report.
- **Indentation**: two spaces per mapping level; a list's dash two spaces in
  from its key, its items' keys two further (``rules:`` / ``  - id:`` /
  ``    title:``).
- **Style**: a collection written in flow style (``{ja: ..., en: ...}``)
  stays in flow style and starts on its key's line; block stays block.
- **Quoting**: a scalar keeps the quotes it was written with (``"5(3)"``,
  ``"2019-03-25"`` need them to stay strings); a plain scalar stays plain.
  ``null`` is written ``null``.
- **Line width**: lines are never wrapped; long texts stay on one line, as
  Japanese has no spaces to break at.
- **Comments and blank lines** are kept. When keys are reordered, a comment
  on a line of its own moves with the key ruamel.yaml attaches it to (the
  key after it, or the key before it when that key's value ends there); one
  that would land between a list item's dash and its first key goes before
  the dash.

Reading goes through :func:`dossier_rules.located_yaml.load_yaml` first, so a file
fmt refuses (YAML errors, duplicate keys, alias bombs, too large) is refused
with the same file and line as ``packs lint`` gives.
"""

from __future__ import annotations

import io
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from .locale import _
from .located_yaml import load_yaml
from .packs.format import PackFile
from .problems import InputError, Problem


@dataclass(frozen=True)
class Formatted:
    """One pack file as read and in the canonical layout."""

    path: Path
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _yaml() -> YAML:
    """The round-trip reader and writer of the canonical layout (see the module's docstring)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1_000_000  # never wrap
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    yaml.brace_single_entry_mapping_in_flow_sequence = True
    yaml.representer.add_representer(type(None), lambda rep, _data: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def canonical(text: str, source: str) -> str:
    """``text`` (a pack file already read safely) in the canonical layout; :class:`InputError` when it is no mapping."""
    yaml = _yaml()
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError([Problem(source, f"invalid YAML: {exc.problem or exc}", kind="syntax", line=mark.line + 1 if mark else None)]) from None
    if not isinstance(data, CommentedMap):
        raise InputError([Problem(source, _("a pack file must be a YAML mapping with 'pack' and 'rules'"), kind="pack", line=1)])
    reorder(data, PackFile)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def format_file(path: Path) -> Formatted:
    """Read one pack file (bounded and checked as the loader does) and lay it out canonically."""
    _data, raw = load_yaml(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(str(path), _("not UTF-8 text (byte {offset})", offset=exc.start), kind="syntax")]) from None
    return Formatted(path, text, canonical(text, str(path)))


def reorder(node: Any, annotation: Any) -> None:
    """Put the keys of every part of the format in the order its model declares them, recursively."""
    annotation = _arm(annotation, node)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = {(info.alias or name): info.annotation for name, info in annotation.model_fields.items()}
        _sort_keys(node, list(fields))
        for key, value in node.items():
            if key in fields:
                reorder(value, fields[key])
    elif typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        for index, value in enumerate(node):
            reorder(value, item)
            _lift_first_comment(node, index, value)
    elif typing.get_origin(annotation) is dict:
        _key, item = typing.get_args(annotation)
        for value in node.values():
            reorder(value, item)


def _arm(annotation: Any, node: Any) -> Any:
    """The part of a (possibly optional or union) type that ``node`` is written as: a model or dict for a
    mapping, a list for a sequence; None when nothing in it is laid out (a scalar, ``Any``, a literal)."""
    arms = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else (annotation,)
    for arm in arms:
        is_model = isinstance(arm, type) and issubclass(arm, BaseModel)
        if isinstance(node, CommentedMap) and (is_model or typing.get_origin(arm) is dict):
            return arm
        if isinstance(node, CommentedSeq) and typing.get_origin(arm) is list:
            return arm
    return None


def _sort_keys(node: CommentedMap, order: list[str]) -> None:
    """Known keys in ``order``, then the others as written; a mapping already in order is left untouched."""
    rank = {key: index for index, key in enumerate(order)}
    keys = list(node)
    wanted = sorted(keys, key=lambda key: rank.get(key, len(order)))  # stable: unknown keys keep their order
    if wanted != keys:
        for key in wanted:
            node.move_to_end(key)


def _lift_first_comment(sequence: CommentedSeq, index: int, item: Any) -> None:
    """A comment that came before a key now first in a list item goes before the item's dash, where reading the
    output back puts it (left on the key, it would be written between the dash and the key, and move on a second run)."""
    if not isinstance(item, CommentedMap) or not item:
        return
    entry = item.ca.items.get(next(iter(item)))
    if entry and entry[1]:
        slot = sequence.ca.items.setdefault(index, [None, None, None, None])
        slot[1] = (slot[1] or []) + entry[1]
        entry[1] = None
