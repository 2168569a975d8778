"""The YAML loader of packs: safe, YAML 1.2-like scalars, every mapping and list remembering its lines, bounded.

Pack files are the only YAML read. Every key and item keeps its line, so a
problem found after loading (schema, condition, ``extends``) still names the
line (:func:`line_of`); a repeated key is an error, and size, nesting and alias
expansion are bounded before anything is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .problems import InputError, Problem
from .sources import read_bytes

if TYPE_CHECKING:
    import yaml

MAX_PACK_BYTES = 1024 * 1024
"""Above this a pack file is refused: the largest shipped pack is about 32 KB."""

MAX_PACK_NODES = 100_000
"""YAML nodes a pack may expand to, aliases included: the largest shipped pack has about 2,200."""

MAX_PACK_DEPTH = 100
"""Nesting a pack may have: shipped packs nest about 12 levels deep."""


class LocatedDict(dict[Any, Any]):
    """A mapping that remembers the line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[Any, int]


class LocatedList(list[Any]):
    """A sequence that remembers the line of itself and of each item."""

    line: int = 0
    item_lines: list[int]


@cache
def _pack_loader() -> type[yaml.SafeLoader]:
    """The YAML loader of packs, built on first use: packs read from the compiled-pack cache never import PyYAML."""
    import yaml

    class _PackLoader(yaml.SafeLoader):
        """SafeLoader that keeps YAML 1.2-like scalars and records positions.

        Timestamps stay strings (the schema decides what is a date), only
        ``true``/``false`` are booleans (``no`` or ``on`` stay strings), and a
        repeated key is an error instead of silently winning.
        """

    _PackLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _PackLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    _PackLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
    _PackLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
    return _PackLoader


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LocatedDict:
    import yaml

    loader.flatten_mapping(node)
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise yaml.constructor.ConstructorError(None, None, f"unsupported mapping key {key!r}", key_node.start_mark)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r} (first at line {result.key_lines[key]})", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def load_yaml(path: Path) -> tuple[Any, bytes]:
    """Load one YAML document safely; return the data and the raw bytes (for hashing)."""
    import yaml

    raw = read_bytes(path, limit=MAX_PACK_BYTES)
    if not raw.strip():
        raise InputError([Problem(str(path), "file is empty; expected a YAML mapping", kind="empty")])
    try:
        loader = _pack_loader()(raw)
        try:
            node = loader.get_single_node()
            if node is not None and expanded_size(node) > MAX_PACK_NODES:
                raise InputError(
                    [Problem(str(path), f"the pack expands to more than {MAX_PACK_NODES} YAML nodes through its aliases (*name); refused", kind="too_large")]
                )
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (RecursionError, TooDeep):
        raise InputError([Problem(str(path), f"invalid pack: nested more than {MAX_PACK_DEPTH} levels deep", kind="too_large")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError([Problem(str(path), f"invalid YAML: {exc.problem or exc}", kind="syntax", line=line)]) from exc
    except yaml.YAMLError as exc:
        raise InputError([Problem(str(path), f"invalid YAML: {exc}", kind="syntax")]) from exc
    return data, raw


class TooDeep(Exception):
    """A YAML document nested deeper than :data:`MAX_PACK_DEPTH`."""


def expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (as compiling a condition walks it).

    Computed over the node graph with each shared node counted once per use,
    in time linear in the file: an alias bomb of a few hundred bytes, which
    expands to billions of nodes, is measured without being expanded. A
    document nested deeper than :data:`MAX_PACK_DEPTH` raises :class:`TooDeep`.
    """
    import yaml

    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if depth > MAX_PACK_DEPTH:
            raise TooDeep()
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child, depth + 1) for child in node.value)
        else:
            total = 1
        sizes[id(node)] = total = min(total, MAX_PACK_NODES + 1)
        return total

    return size(root, 0)


def line_of(data: Any, path: Iterable[Any]) -> int | None:
    """The line of the deepest node of ``data`` that ``path`` reaches."""
    line = getattr(data, "line", None)
    node = data
    for step in path:
        if isinstance(node, LocatedDict) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, LocatedList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line
