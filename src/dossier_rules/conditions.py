"""The condition language: check a YAML condition against the dossier schema, then compile it.

The pipeline follows CEL's: an *environment* says what exists (the dossier
fields and their types, derived from :mod:`dossier_rules.model`, and the
variables such as ``as_of``); :func:`parse` turns a YAML condition into an
AST and checks every field path, operator and operand type against that
environment, so that a typo fails when the pack is loaded, with its line;
:meth:`Node.program` turns the AST into a plain Python closure that runs
without any interpretation overhead. Nothing in a pack is ever executed as
code: the only things a condition can do are the operators below.

It is one module, longer than most, on purpose: each node type, the check of its YAML and its closure change
together (a new operator is one class here, then one case in each backend, which mypy points to).

Operators (YAML)::

    all: [C, ...]          any: [C, ...]          not: C
    exists: PATH           missing: PATH
    {field: PATH, OP: OPERAND}    OP in eq ne lt le gt ge in not_in
    some:  {in: PATH, as: NAME, where: C}
    every: {in: PATH, as: NAME, where: C}
    {field: PATH, listed_in: KIND}       on the registry KIND as of the evaluation date
    {field: PARTY_PATH, listed_in: KIND} a party (an object with id and name) on the registry KIND as of the
                                         evaluation date: by its id or accreditation number when it has one,
                                         else by its name (as ``among`` compares parties)
    {field: PATH, not_listed_in: KIND}   not on it (false when that registry is not loaded)
    {field: PATH, listed_in: {in: KIND, on: DATE_PATH}}
    {field: PATH, not_listed_in: {in: KIND, on: DATE_PATH}}
                                         on (not on) KIND on the date DATE_PATH gives instead of the evaluation
                                         date (both false when that date is missing or the list is not loaded)
    {field: PATH, never_listed_in: KIND} no entry of it was on KIND on or before the evaluation date (an entry
                                         that ended still counts as listed; false when the value is missing or
                                         the list is not loaded)
    {field: PATH, revoked_in: KIND}      its entry was revoked on or before the evaluation date
    {field: PATH, revoked_in: {in: KIND, before: DATE_PATH}}
                                         its entry was revoked before the date DATE_PATH gives (false when
                                         that date is missing or the list is not loaded)
    {field: PATH, listed_under_other_name: {in: KIND, name: NAME_PATH}}
                                         listed on KIND as of the evaluation date, but not under the name
                                         NAME_PATH gives (false when either value is missing or the
                                         list is not loaded)
    {retrieved: KIND, OP: OPERAND}       the day the registry KIND was retrieved, compared (OP in eq ne lt
                                         le gt ge) with a date operand; unknown (never true) when that
                                         registry is not loaded: what a list cannot know, it cannot prove
    {field: PARTY_PATH, among: PARTIES_PATH}
                                         the party at PARTY_PATH is one of the parties listed at PARTIES_PATH
                                         (or is the party there, when it names one party): the same id when
                                         both have one, else the same name (compared as registry names are);
                                         false when either is missing
    {count: {in: PATH, as: NAME, where: C}, OP: OPERAND}                  OP in eq ne lt le gt ge
    {sum: {in: PATH, as: NAME, of: NAME.PATH, where: C, unit: {field: NAME.PATH, eq: V}}, OP: OPERAND}
    {min: ...} / {max: ...}                                                 like sum; numbers or dates

An OPERAND is a literal (string, number, boolean, ISO date, or a list for
``in``/``not_in``), ``{field: PATH}``, or ``{var: as_of}``; a date operand may
carry ``offset: "-6m"`` (days d, weeks w, months m, years y).

Unknown is not false: a comparison whose field is missing is never true, in
either direction (``eq`` and ``ne`` alike). Use ``missing:`` to test for an
absent value. ``some`` over a missing list is false and ``every`` over a
missing or empty list is true; pair it with ``exists:`` when that matters.

Aggregates follow the same rule: over an absent list, or when an item that
passes ``where`` lacks the value (or its unit) being added up, the aggregate is
unknown and every comparison with it is false. Over an empty list ``count``
and ``sum`` are 0 and ``min``/``max`` are unknown. Amounts that carry a
currency or unit can only be added up or compared within one: an aggregate
over a value whose item has a ``currency`` or ``unit`` field must name it with
``unit: {field: NAME.currency, eq: USD}``, and an item in another unit makes
the aggregate unknown rather than silently mixing currencies.
"""

from __future__ import annotations

import dataclasses
import difflib
import operator
import re
import types
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property, lru_cache
from typing import Annotated, Any, Literal, TypeAlias, Union, assert_never, get_args, get_origin

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel

from .model import Vocabulary, parse_date
from .registries import REGISTRY_KINDS, comparable_name

Env = dict[str, Any]
"""Evaluation state: ``"$"`` is the dossier (validated JSON data), ``"$as_of"`` the date, ``"$registries"`` the
registry view for the dossier's country and date; other keys are bound items."""
Program = Callable[[Env], bool]
Getter = Callable[[Env], Any]

ROOT = "$"
VARIABLES: dict[str, Kind] = {"as_of": "date"}
"""Variables a condition may read with ``{var: NAME}``; the engine binds them as ``"$NAME"``."""


# --------------------------------------------------------------------------- the environment


Kind = Literal["object", "list", "string", "date", "bool", "number"]


@dataclass(frozen=True)
class FieldType:
    """The static type of a dossier field, as the compiler sees it."""

    kind: Kind
    fields: Mapping[str, FieldType] = field(default_factory=dict)
    item: FieldType | None = None
    choices: frozenset[str] | None = None
    vocabulary: str | None = None
    """For codes from an open list (languages): the label table of their common values (:class:`model.Vocabulary`)."""

    def describe(self) -> str:
        if self.kind == "list" and self.item:
            return f"list of {self.item.describe()}"
        if self.choices:
            return "one of " + ", ".join(sorted(self.choices))
        return self.kind


@cache
def type_of_model(model: type[BaseModel]) -> FieldType:
    """The :class:`FieldType` of a pydantic model, built from its annotations."""
    return FieldType("object", {name: type_of(info.annotation) for name, info in model.model_fields.items()})


def type_of(annotation: Any) -> FieldType:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        marks = [m.name for m in args[1:] if isinstance(m, Vocabulary)]
        ftype = type_of(args[0])
        return dataclasses.replace(ftype, vocabulary=marks[0]) if marks else ftype
    if origin in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1:
            raise TypeError(f"unsupported union in dossier model: {annotation!r}")
        return type_of(present[0])
    if origin is list:
        return FieldType("list", item=type_of(args[0]))
    if origin is dict:  # country_fields: its fields are declared by each country's pack (see with_country_fields)
        return FieldType("object")
    if origin is Literal:
        return FieldType("string", choices=frozenset(args))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return type_of_model(annotation)
    simple: dict[object, Kind] = {bool: "bool", int: "number", float: "number", str: "string", date: "date"}
    if annotation in simple:
        return FieldType(simple[annotation])
    raise TypeError(f"unsupported type in dossier model: {annotation!r}")


DECLARED_TYPES: dict[str, FieldType] = {
    "string": FieldType("string"),
    "number": FieldType("number"),
    "bool": FieldType("bool"),
    "date": FieldType("date"),
}
"""The types a pack may declare for a country-specific dossier field."""


def with_country_fields(root: FieldType, declared: Mapping[str, FieldType]) -> FieldType:
    """The dossier type as one country's rules see it: ``country_fields`` holds the fields its pack declares."""
    return FieldType(root.kind, {**root.fields, "country_fields": FieldType("object", dict(declared))}, root.item, root.choices)


class ConditionError(Exception):
    """A condition that does not type-check; ``line`` points into the pack file."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Scope:
    """What names a condition can see: the dossier's fields and the items bound by ``some``/``every``."""

    root: FieldType
    bindings: Mapping[str, FieldType] = field(default_factory=dict)

    def bind(self, name: str, ftype: FieldType, line: int | None) -> Scope:
        if name in self.bindings or name in self.root.fields or name in VARIABLES:
            raise ConditionError(f"'{name}' is already a field or a bound name; choose another name for 'as'", line)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ConditionError(f"'as' must be a lower-case identifier, got {name!r}", line)
        return Scope(self.root, {**self.bindings, name: ftype})


# --------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class Path:
    """A checked field path: where it starts (the dossier or a bound item) and the fields it walks."""

    text: str
    start: str
    names: tuple[str, ...]
    type: FieldType

    @cached_property
    def getter(self) -> Getter:
        """The compiled accessor (built once; a frozen dataclass still caches through ``__dict__``).

        Dossiers are evaluated as validated JSON data, so a path walks dicts and
        an absent key reads as ``None``. Dates arrive as ISO strings; a path the
        model types as a date returns a :class:`date`, so comparisons and offsets
        work on dates whatever the operand.
        """
        get = _walker(self.start, self.names)
        if self.type.kind != "date":
            return get
        return lambda env: None if (value := get(env)) is None else as_date(value)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the compiled accessor (a closure); it is rebuilt on first use."""
        return {k: v for k, v in self.__dict__.items() if k != "getter"}

    def pointer(self, bases: Mapping[str, str]) -> str:
        """JSON pointer of this path, given the pointers of bound items."""
        return bases[self.start] + "".join("/" + n for n in self.names)


def _walker(start: str, names: tuple[str, ...]) -> Getter:
    """Read ``names`` from the dict bound to ``start``; ``None`` as soon as a step is absent."""
    if not names:
        return lambda env: env[start]
    if len(names) == 1:
        (a,) = names
        return lambda env: env[start].get(a)
    if len(names) == 2:
        a, b = names
        return lambda env: None if (x := env[start].get(a)) is None else x.get(b)

    def walk(env: Env) -> Any:
        value = env[start]
        for name in names:
            value = value.get(name)
            if value is None:
                return None
        return value

    return walk


@lru_cache(maxsize=8192)
def as_date(text: str) -> date:
    """An ISO date of a dossier (schema-checked before evaluation); cached, as dossiers repeat dates."""
    return date.fromisoformat(text)


OPERATOR_ALIASES = {
    "gte": "ge",
    "lte": "le",
    "geq": "ge",
    "leq": "le",
    "equals": "eq",
    "equal": "eq",
    "neq": "ne",
    "not_eq": "ne",
    "greater_than": "gt",
    "less_than": "lt",
    "==": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "notin": "not_in",
    "nin": "not_in",
    "exist": "exists",
    "and": "all",
    "or": "any",
}
"""Operator names from other rule languages, and the operator of this one that means the same."""


def _suggest(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _suggest_operator(word: str, options: Any) -> str:
    """A suggestion for a mistyped operator that never changes its meaning.

    Spelling distance would offer ``gt`` for ``gte`` (``>`` for ``>=``): the
    two-letter comparisons are one letter from each other, so they are only
    ever suggested for a known spelling of the same comparison in another
    language; other operators (``exsits``, ``not_inn``) by spelling.
    """
    options = list(options)
    if word in OPERATOR_ALIASES and OPERATOR_ALIASES[word] in options:
        return f"; did you mean '{OPERATOR_ALIASES[word]}'?"
    close = difflib.get_close_matches(word, [o for o in options if o not in _COMPARATORS], n=1)
    if not close:
        return ""
    return f"; did you mean '{close[0]}'?"


def resolve(text: Any, scope: Scope, line: int | None) -> Path:
    """Check a dotted field path against the scope and return it typed."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", text):
        raise ConditionError(f"a field path must be dotted names like 'certificate.issue_date', got {text!r}", line)
    parts = text.split(".")
    if parts[0] in scope.bindings:
        start, current, rest = parts[0], scope.bindings[parts[0]], parts[1:]
    else:
        start, current, rest = ROOT, scope.root, parts
    walked: list[str] = [] if start == ROOT else [start]
    for name in rest:
        if current.kind == "list":
            raise ConditionError(f"'{'.'.join(walked)}' is a list; use 'some' or 'every' to look at its items", line)
        if current.kind != "object" or name not in current.fields:
            where = f"'{'.'.join(walked)}'" if walked else "the dossier"
            options = current.fields if current.kind == "object" else []
            if start == ROOT and not walked:
                options = list(current.fields) + list(scope.bindings)
            raise ConditionError(f"unknown field '{name}' in {where}{_suggest(name, options)}", line)
        walked.append(name)
        current = current.fields[name]
    return Path(text, start, tuple(rest), current)


# --------------------------------------------------------------------------- the AST

ComparisonOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"]
OrderingOp = Literal["eq", "ne", "lt", "le", "gt", "ge"]
LookupOp = Literal["listed_in", "not_listed_in", "never_listed_in", "revoked_in", "listed_under_other_name"]
QuantifierKind = Literal["some", "every"]
AggregateFunc = Literal["count", "sum", "min", "max"]
"""The operators, each a closed type: a backend's ``match`` over one ends in ``assert_never``, so an operator a
backend forgets is a type error (mypy), never a silent default."""


class NodeBase(ABC):
    """A checked condition. ``program`` compiles it; ``children`` says what it contains; ``str`` renders it.

    Every tree walk (trace, branch coverage, outline, registries used, paths)
    goes through :meth:`children` (see :func:`walk`), so they agree on what a
    node contains; a backend dispatches on the closed union :data:`Node` and
    ends with ``assert_never``.
    """

    @abstractmethod
    def program(self) -> Program:
        """The node compiled to a closure over an :data:`Env` (the interpreter)."""

    @abstractmethod
    def children(self) -> tuple[tuple[str, Node], ...]:
        """The conditions this node contains, each with its key (a member's index, ``not``, ``where``)."""

    @abstractmethod
    def own_paths(self) -> list[Path]:
        """The field paths this node reads itself (not those its children read)."""

    def paths(self) -> list[Path]:
        """Every field path the condition reads, its children's included (for explain and the Rete translation)."""
        return self.own_paths() + [p for _, child in self.children() for p in child.paths()]


@dataclass(frozen=True)
class All(NodeBase):
    items: tuple[Node, ...]

    def program(self) -> Program:
        progs = tuple(n.program() for n in self.items)
        if len(progs) == 2:
            a, b = progs
            return lambda env: a(env) and b(env)

        def run(env: Env) -> bool:
            for p in progs:
                if not p(env):
                    return False
            return True

        return run

    def children(self) -> tuple[tuple[str, Node], ...]:
        return tuple((str(i), n) for i, n in enumerate(self.items))

    def own_paths(self) -> list[Path]:
        return []

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Any_(NodeBase):
    items: tuple[Node, ...]

    def program(self) -> Program:
        progs = tuple(n.program() for n in self.items)

        def run(env: Env) -> bool:
            for p in progs:
                if p(env):
                    return True
            return False

        return run

    def children(self) -> tuple[tuple[str, Node], ...]:
        return tuple((str(i), n) for i, n in enumerate(self.items))

    def own_paths(self) -> list[Path]:
        return []

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Not(NodeBase):
    item: Node

    def program(self) -> Program:
        inner = self.item.program()
        return lambda env: not inner(env)

    def children(self) -> tuple[tuple[str, Node], ...]:
        return (("not", self.item),)

    def own_paths(self) -> list[Path]:
        return []

    def __str__(self) -> str:
        return f"NOT {self.item}"


@dataclass(frozen=True)
class Presence(NodeBase):
    path: Path
    present: bool

    def program(self) -> Program:
        get = self.path.getter
        if self.present:
            return lambda env: get(env) is not None
        return lambda env: get(env) is None

    def children(self) -> tuple[tuple[str, Node], ...]:
        return ()

    def own_paths(self) -> list[Path]:
        return [self.path]

    def __str__(self) -> str:
        return f"{self.path.text} {'is present' if self.present else 'is missing'}"


@dataclass(frozen=True)
class Operand:
    """The right-hand side of a comparison: a constant, a field, or a variable, maybe shifted in time."""

    type: FieldType
    constant: Any = None
    path: Path | None = None
    var: str | None = None
    offset: relativedelta | None = None
    offset_text: str | None = None

    @property
    def is_constant(self) -> bool:
        return self.path is None and self.var is None

    def getter(self) -> Getter:
        base = self.path.getter if self.path else (lambda env, key="$" + str(self.var): env[key])
        shift = self.offset
        if shift is None:
            return base

        def shifted(env: Env) -> Any:
            value = base(env)
            if value is None:
                return None
            try:
                return value + shift
            except (OverflowError, ValueError):
                return None  # before 0001-01-01 or after 9999-12-31: no such date, so unknown (never false)

        return shifted

    def own_paths(self) -> list[Path]:
        return [self.path] if self.path is not None else []

    def __str__(self) -> str:
        if self.is_constant:
            if isinstance(self.constant, frozenset):
                return "[" + ", ".join(sorted(map(_show, self.constant))) + "]"
            return _show(self.constant)
        text = self.path.text if self.path else self.var or ""
        return f"({text} {self.offset_text})" if self.offset_text else text


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_COMPARATORS: dict[OrderingOp, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
ORDERING_OPERATORS: tuple[OrderingOp, ...] = get_args(OrderingOp)
COMPARISON_OPERATORS: tuple[ComparisonOp, ...] = get_args(ComparisonOp)
LOOKUP_OPERATORS: tuple[LookupOp, ...] = get_args(LookupOp)
AGGREGATES: tuple[AggregateFunc, ...] = get_args(AggregateFunc)
_MEMBERSHIP = ("in", "not_in")
_COMPARISON_BY_NAME: dict[str, ComparisonOp] = {op: op for op in COMPARISON_OPERATORS}
_ORDERING_BY_NAME: dict[str, OrderingOp] = {op: op for op in ORDERING_OPERATORS}
_LOOKUP_BY_NAME: dict[str, LookupOp] = {op: op for op in LOOKUP_OPERATORS}
_AGGREGATE_BY_NAME: dict[str, AggregateFunc] = {func: func for func in AGGREGATES}
AMONG = "among"
"""The one operator of a field that is not a value comparison or a look-up: the party is one of some parties."""
FIELD_OPERATORS: tuple[str, ...] = (*COMPARISON_OPERATORS, *LOOKUP_OPERATORS, AMONG)
"""Every operator written beside ``field``."""
SYMBOLS: dict[ComparisonOp, str] = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in": "in", "not_in": "not in"}


@dataclass(frozen=True)
class Compare(NodeBase):
    path: Path
    op: ComparisonOp
    operand: Operand

    def program(self) -> Program:
        get, op = self.path.getter, self.op
        match op:
            case "in" | "not_in":
                return self._membership(get, negate=op == "not_in")
            case "eq" | "ne" | "lt" | "le" | "gt" | "ge":
                return self._ordered(get, op)
            case _:
                assert_never(op)

    def _ordered(self, get: Getter, op: OrderingOp) -> Program:
        fn = _COMPARATORS[op]
        if self.operand.is_constant:
            const = self.operand.constant
            if op == "eq":
                return lambda env: get(env) == const
            return lambda env: (v := get(env)) is not None and fn(v, const)
        other = self.operand.getter()
        return lambda env: (a := get(env)) is not None and (b := other(env)) is not None and fn(a, b)

    def _membership(self, get: Getter, negate: bool) -> Program:
        if self.operand.is_constant:
            members = self.operand.constant
            if negate:
                return lambda env: (v := get(env)) is not None and v not in members
            return lambda env: get(env) in members
        other = self.operand.getter()
        if negate:
            return lambda env: (v := get(env)) is not None and (m := other(env)) is not None and v not in m
        return lambda env: (v := get(env)) is not None and v in (other(env) or ())

    def children(self) -> tuple[tuple[str, Node], ...]:
        return ()

    def own_paths(self) -> list[Path]:
        return [self.path, *self.operand.own_paths()]

    def __str__(self) -> str:
        return f"{self.path.text} {SYMBOLS[self.op]} {self.operand}"


_LOOKUPS: dict[LookupOp, str] = {
    "listed_in": "is listed in",
    "not_listed_in": "is not listed in",
    "never_listed_in": "was never listed in",
    "revoked_in": "was revoked in",
    "listed_under_other_name": "is listed under a name other than {name} in",
}


@dataclass(frozen=True)
class Lookup(NodeBase):
    """A registry look-up for the value of a field, as of the evaluation date.

    ``name`` is the path of the name the entry should bear (``listed_under_other_name`` only);
    ``before`` the path of a date before which a ``revoked_in`` revocation must fall, instead of the evaluation date;
    ``on`` the path of the date on which ``listed_in``/``not_listed_in`` ask, instead of the evaluation date (what a
    list showed when another act took place, such as MoLVT issuing its certificate).
    """

    path: Path
    op: LookupOp
    kind: str
    name: Path | None = None
    before: Path | None = None
    on: Path | None = None

    def program(self) -> Program:
        get, kind, op = self.path.getter, self.kind, self.op
        match op:
            case "listed_in" | "not_listed_in" if self.on is not None:
                day, want = self.on.getter, op == "listed_in"
                return lambda env: (
                    (v := get(env)) is not None
                    and (d := day(env)) is not None
                    and (r := env["$registries"]).available(kind)
                    and r.listed_on(kind, v, d) is want
                )
            case "listed_in":
                return lambda env: (v := get(env)) is not None and env["$registries"].listed(kind, v)
            case "not_listed_in":
                return lambda env: (v := get(env)) is not None and (r := env["$registries"]).available(kind) and not r.listed(kind, v)
            case "never_listed_in":
                return lambda env: (v := get(env)) is not None and (r := env["$registries"]).available(kind) and not r.ever_listed(kind, v)
            case "revoked_in" if self.before is not None:
                day = self.before.getter
                return lambda env: (v := get(env)) is not None and (d := day(env)) is not None and env["$registries"].revoked_before(kind, v, d)
            case "revoked_in":
                return lambda env: (v := get(env)) is not None and env["$registries"].revoked(kind, v)
            case "listed_under_other_name":
                assert self.name is not None
                name = self.name.getter
                return lambda env: (v := get(env)) is not None and (n := name(env)) is not None and env["$registries"].listed_under_other_name(kind, v, n)
            case _:
                assert_never(op)

    def children(self) -> tuple[tuple[str, Node], ...]:
        return ()

    def own_paths(self) -> list[Path]:
        return [self.path] + [p for p in (self.name, self.before, self.on) if p is not None]

    def __str__(self) -> str:
        verb = _LOOKUPS[self.op].format(name=self.name.text if self.name else "")
        if self.before is not None:
            when = f"before {self.before.text}"
        elif self.on is not None:
            when = f"on {self.on.text}"
        else:
            when = "on or before the evaluation date" if self.op == "never_listed_in" else "as of the evaluation date"
        return f"{self.path.text} {verb} registry {self.kind} ({when})"


@dataclass(frozen=True)
class Retrieved(NodeBase):
    """The retrieval date of a registry compared with a date: a list proves nothing about what came after it."""

    kind: str
    op: OrderingOp
    operand: Operand

    def program(self) -> Program:
        kind, fn = self.kind, _COMPARATORS[self.op]
        if self.operand.is_constant:
            const = self.operand.constant
            return lambda env: (a := env["$registries"].retrieved_on(kind)) is not None and fn(a, const)
        other = self.operand.getter()
        return lambda env: (a := env["$registries"].retrieved_on(kind)) is not None and (b := other(env)) is not None and fn(a, b)

    def children(self) -> tuple[tuple[str, Node], ...]:
        return ()

    def own_paths(self) -> list[Path]:
        return self.operand.own_paths()

    def __str__(self) -> str:
        return f"retrieval date of registry {self.kind} {SYMBOLS[self.op]} {self.operand}"


def same_party(party: Any, other: Any) -> bool:
    """Whether two party records name the same party: the same id when both have one, else the same name."""
    if not isinstance(party, dict) or not isinstance(other, dict):
        return False
    ids = party.get("id"), other.get("id")
    if ids[0] is not None and ids[1] is not None:
        return bool(ids[0] == ids[1])
    names = party.get("name"), other.get("name")
    return names[0] is not None and names[1] is not None and comparable_name(str(names[0])) == comparable_name(str(names[1]))


def party_among(party: Any, parties: Any) -> bool:
    """Whether ``party`` is one of ``parties`` (:func:`same_party`); false when either is missing."""
    return party is not None and parties is not None and any(same_party(party, p) for p in parties)


@dataclass(frozen=True)
class Among(NodeBase):
    """A party that the dossier also lists in a list of parties (``intermediaries``), or that is another named party."""

    path: Path
    parties: Path

    @property
    def one(self) -> bool:
        """Whether ``parties`` names one party (compared with it) rather than a list of them."""
        return self.parties.type.kind == "object"

    def program(self) -> Program:
        get, parties = self.path.getter, self.parties.getter
        if self.one:
            return lambda env: same_party(get(env), parties(env))
        return lambda env: party_among(get(env), parties(env))

    def children(self) -> tuple[tuple[str, Node], ...]:
        return ()

    def own_paths(self) -> list[Path]:
        return [self.path, self.parties]

    def __str__(self) -> str:
        return f"{self.path.text} is among {self.parties.text}"


@dataclass(frozen=True)
class Quantifier(NodeBase):
    kind: QuantifierKind
    path: Path
    name: str
    where: Node

    def program(self) -> Program:
        get, name, inner, kind = self.path.getter, self.name, self.where.program(), self.kind
        match kind:
            case "some":

                def some(env: Env) -> bool:
                    for item in get(env) or ():
                        env[name] = item
                        if inner(env):
                            return True
                    return False

                return some
            case "every":

                def every(env: Env) -> bool:
                    for item in get(env) or ():
                        env[name] = item
                        if not inner(env):
                            return False
                    return True

                return every
            case _:
                assert_never(kind)

    def children(self) -> tuple[tuple[str, Node], ...]:
        return (("where", self.where),)

    def own_paths(self) -> list[Path]:
        return [self.path]

    def __str__(self) -> str:
        word = "SOME" if self.kind == "some" else "EVERY"
        return f"{word} {self.name} IN {self.path.text}: {self.where}"


UNIT_FIELDS = ("currency", "unit")
"""Sibling fields that give an amount its unit: an aggregate over such an amount must name the unit."""


@dataclass(frozen=True)
class Aggregate:
    """A value computed over the items of a list: how many match, or the sum, least or greatest of a field.

    ``value`` is the field added up (absent for ``count``); ``unit``/``unit_value``
    the guard that every matching item is in that one currency or unit.
    ``type`` is the static type of the result (a number, or a date for the
    ``min``/``max`` of dates).
    """

    func: AggregateFunc
    path: Path
    name: str | None
    where: Node | None
    value: Path | None
    unit: Path | None
    unit_value: Any
    type: FieldType

    def item_value(self, env: Env) -> tuple[bool, Any]:
        """(unknown, value) of the item bound in ``env`` once it passed ``where``: unknown when it lacks the value
        or is in another unit (``True`` stands for the item itself in a ``count``)."""
        if self.value is None:
            return False, True
        value = self.value.getter(env)
        return value is None or (self.unit is not None and self.unit.getter(env) != self.unit_value), value

    def getter(self) -> Getter:
        """The compiled aggregate: a closure returning the value, or ``None`` when it is unknown."""
        items_of, name = self.path.getter, self.name
        keep = self.where.program() if self.where is not None else None
        read = self.value.getter if self.value is not None else None
        unit = self.unit.getter if self.unit is not None else None
        unit_value, func = self.unit_value, self.func

        def matching(env: Env) -> list[Any] | None:
            """The values of the items that pass ``where`` (True per item for count); None when unknown."""
            items = items_of(env)
            if items is None:
                return None
            values = []
            for item in items:
                if name is not None:
                    env[name] = item
                if keep is not None and not keep(env):
                    continue
                if read is None:
                    values.append(True)
                    continue
                value = read(env)
                if value is None or (unit is not None and unit(env) != unit_value):
                    return None
                values.append(value)
            return values

        match func:
            case "count":
                return lambda env: None if (v := matching(env)) is None else len(v)
            case "sum":
                return lambda env: None if (v := matching(env)) is None else sum(v)
            case "min" | "max":
                pick = min if func == "min" else max
                return lambda env: None if not (v := matching(env)) else pick(v)
            case _:
                assert_never(func)

    def own_paths(self) -> list[Path]:
        return [p for p in (self.path, self.value, self.unit) if p is not None]

    def __str__(self) -> str:
        text = f"{self.value.text} FOR " if self.value is not None else ""
        text += f"{self.name} IN {self.path.text}" if self.name else self.path.text
        if self.where is not None:
            text += f" WHERE {self.where}"
        if self.unit is not None:
            text += f" WITH {self.unit.text} == {_show(self.unit_value)}"
        return f"{self.func.upper()}({text})"


@dataclass(frozen=True)
class AggregateCompare(NodeBase):
    """A comparison of an aggregate with an operand; false when the aggregate is unknown."""

    aggregate: Aggregate
    op: OrderingOp
    operand: Operand

    def program(self) -> Program:
        get, fn = self.aggregate.getter(), _COMPARATORS[self.op]
        if self.operand.is_constant:
            const = self.operand.constant
            return lambda env: (v := get(env)) is not None and fn(v, const)
        other = self.operand.getter()
        return lambda env: (a := get(env)) is not None and (b := other(env)) is not None and fn(a, b)

    def children(self) -> tuple[tuple[str, Node], ...]:
        return (("where", self.aggregate.where),) if self.aggregate.where is not None else ()

    def own_paths(self) -> list[Path]:
        return self.aggregate.own_paths() + self.operand.own_paths()

    def __str__(self) -> str:
        return f"{self.aggregate} {SYMBOLS[self.op]} {self.operand}"


Node: TypeAlias = All | Any_ | Not | Presence | Compare | Lookup | Retrieved | Among | Quantifier | AggregateCompare
"""Every kind of checked condition node: a closed union, so ``match`` over it can be exhaustive."""


def walk(node: Node, key: str = "") -> Iterator[tuple[str, Node]]:
    """Every node of a condition with its key (like ``/1/not/where``), parents first: the one traversal."""
    yield key, node
    for child_key, child in node.children():
        yield from walk(child, f"{key}/{child_key}")


# --------------------------------------------------------------------------- parsing and checking

_OFFSET = re.compile(r"^([+-]?)(\d{1,4})([dwmy])$")


def parse_offset(text: Any, line: int | None) -> relativedelta:
    match = _OFFSET.match(str(text)) if isinstance(text, (str, int)) else None
    if not match:
        raise ConditionError(f"offset must look like '-30d', '2w', '6m' or '1y', got {text!r}", line)
    sign = -1 if match.group(1) == "-" else 1
    amount = sign * int(match.group(2))
    unit = match.group(3)
    if unit == "w":
        return relativedelta(weeks=amount)
    return relativedelta(days=amount if unit == "d" else 0, months=amount if unit == "m" else 0, years=amount if unit == "y" else 0)


def _line(node: Any, key: Any = None, default: int | None = None) -> int | None:
    """The line of a YAML node (or of one of its keys), as the pack loader records them."""
    line: int | None = node.key_lines.get(key, default) if key is not None and hasattr(node, "key_lines") else getattr(node, "line", default)
    return line


def _literal(value: Any, expected: FieldType, line: int | None, what: str) -> Any:
    """Check a constant against the type of the field it is compared with."""
    kind = expected.kind
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind == "date" and (day := parse_date(value)) is not None:
        return day
    if kind == "string" and isinstance(value, str):
        if expected.choices is not None and value not in expected.choices:
            raise ConditionError(
                f"{what}: {value!r} is not a possible value; expected {expected.describe()}{_suggest(value, expected.choices)}",
                line,
            )
        return value
    raise ConditionError(f"{what}: expected a {expected.describe()}, got {value!r}", line)


def _operand(raw: Any, expected: FieldType, scope: Scope, line: int | None, what: str) -> Operand:
    if not isinstance(raw, dict):
        return Operand(expected, constant=_literal(raw, expected, line, what))
    line = _line(raw, default=line)
    keys = set(raw)
    allowed = {"field", "var", "offset"}
    if keys - allowed or len(keys & {"field", "var"}) != 1:
        raise ConditionError(f"{what}: an operand mapping needs exactly one of 'field' or 'var' (and maybe 'offset'), got {sorted(keys)}", line)
    if "field" in raw:
        path = resolve(raw["field"], scope, line)
        otype, var = path.type, None
    else:
        name = raw["var"]
        if name not in VARIABLES:
            raise ConditionError(f"unknown variable {name!r}; known: {', '.join(VARIABLES)}", line)
        path, otype, var = None, FieldType(VARIABLES[name]), name
    offset = offset_text = None
    if "offset" in raw:
        if otype.kind != "date":
            raise ConditionError(f"{what}: 'offset' applies to dates only, but this operand is a {otype.describe()}", line)
        offset, offset_text = parse_offset(raw["offset"], line), str(raw["offset"])
    if otype.kind != expected.kind or (otype.choices and expected.choices and not otype.choices & expected.choices):
        raise ConditionError(f"{what}: cannot compare a {expected.describe()} with a {otype.describe()}", line)
    return Operand(otype, path=path, var=var, offset=offset, offset_text=offset_text)


def _membership_operand(raw: Any, left: FieldType, scope: Scope, line: int | None, op: str) -> Operand:
    if isinstance(raw, list):
        if not raw:
            raise ConditionError(f"'{op}' needs a non-empty list", line)
        values = frozenset(_literal(v, left, line, f"'{op}' item") for v in raw)
        return Operand(left, constant=values)
    if isinstance(raw, dict) and "field" in raw and set(raw) == {"field"}:
        path = resolve(raw["field"], scope, _line(raw, default=line))
        if path.type.kind != "list" or path.type.item is None or path.type.item.kind != left.kind:
            raise ConditionError(f"'{op}' needs a list of {left.kind} values, but '{path.text}' is a {path.type.describe()}", line)
        return Operand(path.type, path=path)
    raise ConditionError(f"'{op}' takes a list of values or {{field: PATH}} naming a list", line)


def parse(raw: Any, scope: Scope, line: int | None = None) -> Node:
    """Parse and statically check one condition; raise :class:`ConditionError` at the first fault."""
    line = _line(raw, default=line)
    if not isinstance(raw, dict) or not raw:
        raise ConditionError(f"a condition must be a mapping such as {{all: [...]}} or {{field: ..., eq: ...}}, got {raw!r}", line)
    if "field" in raw:
        return _parse_comparison(raw, scope, line)
    if "retrieved" in raw:
        return _parse_retrieved(raw, scope, line)
    if any(key in raw for key in AGGREGATES):
        return _parse_aggregate_comparison(raw, scope, line)
    if len(raw) != 1:
        raise ConditionError(f"a condition mapping has one operator, got {sorted(raw)}", line)
    ((op, arg),) = raw.items()
    arg_line = _line(raw, op, line)
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ConditionError(f"'{op}' takes a non-empty list of conditions", arg_line)
        items = tuple(parse(item, scope, _item_line(arg, i, arg_line)) for i, item in enumerate(arg))
        return All(items) if op == "all" else Any_(items)
    if op == "not":
        return Not(parse(arg, scope, arg_line))
    if op in ("exists", "missing"):
        return Presence(resolve(arg, scope, arg_line), present=op == "exists")
    if op == "some" or op == "every":
        return _parse_quantifier(op, arg, scope, arg_line)
    known = ["all", "any", "not", "exists", "missing", "some", "every", "field", "retrieved", *AGGREGATES]
    if op in COMPARISON_OPERATORS:
        raise ConditionError(f"'{op}' needs a 'field' to compare", arg_line)
    raise ConditionError(f"unknown operator '{op}'{_suggest_operator(op, known + list(COMPARISON_OPERATORS))}", arg_line)


def _parse_aggregate_comparison(raw: dict[str, Any], scope: Scope, line: int | None) -> Node:
    funcs = [k for k in raw if k in AGGREGATES]
    ops = [k for k in raw if k not in AGGREGATES]
    if len(funcs) != 1 or len(ops) != 1 or ops[0] not in _ORDERING_BY_NAME:
        unknown = [k for k in ops if k not in _ORDERING_BY_NAME]
        hint = _suggest_operator(unknown[0], ORDERING_OPERATORS) if unknown else ""
        raise ConditionError(
            f"an aggregate condition has one of {', '.join(AGGREGATES)} and exactly one of {', '.join(ORDERING_OPERATORS)}, got {sorted(raw)}{hint}",
            line,
        )
    func, op = _AGGREGATE_BY_NAME[funcs[0]], _ORDERING_BY_NAME[ops[0]]
    aggregate = _parse_aggregate(func, raw[func], scope, _line(raw, func, line))
    op_line = _line(raw, op, line)
    if op not in ("eq", "ne") and aggregate.type.kind not in ("number", "date"):
        raise ConditionError(f"'{op}' orders numbers or dates, but this {func} is a {aggregate.type.describe()}", op_line)
    operand = _operand(raw[op], aggregate.type, scope, op_line, f"{func} {op}")
    return AggregateCompare(aggregate, op, operand)


def _parse_aggregate(func: AggregateFunc, arg: Any, scope: Scope, line: int | None) -> Aggregate:
    """Check ``{in, as, where, of, unit}`` of one aggregate; ``count`` has no ``of``/``unit``."""
    allowed = {"in", "as", "where"} | ({"of", "unit"} if func != "count" else set())
    shape = (
        "{in: LIST_PATH, as: NAME, where: CONDITION}"
        if func == "count"
        else "{in: LIST_PATH, as: NAME, of: NAME.FIELD, where: CONDITION, unit: {field: NAME.FIELD, eq: VALUE}}"
    )
    if not isinstance(arg, dict) or "in" not in arg or set(arg) - allowed:
        got = sorted(arg) if isinstance(arg, dict) else arg
        raise ConditionError(f"'{func}' takes {shape} ('where' and 'unit' optional), got {got!r}", line)
    path = resolve(arg["in"], scope, _line(arg, "in", line))
    if path.type.kind != "list" or path.type.item is None:
        raise ConditionError(f"'{func}' works over a list, but '{path.text}' is a {path.type.describe()}", line)
    needs_name = "where" in arg or func != "count"
    if needs_name and "as" not in arg:
        raise ConditionError(f"'{func}' needs 'as: NAME' to name each item of '{path.text}'", line)
    name = str(arg["as"]) if "as" in arg else None
    inner = scope.bind(name, path.type.item, _line(arg, "as", line)) if name is not None else scope
    where = parse(arg["where"], inner, _line(arg, "where", line)) if "where" in arg else None
    if func == "count":
        return Aggregate("count", path, name, where, None, None, None, FieldType("number"))
    if "of" not in arg:
        raise ConditionError(f"'{func}' needs 'of: {name}.FIELD', the value to {'add up' if func == 'sum' else 'compare'}", line)
    assert name is not None  # 'of' needs 'as' (checked above)
    value, unit, unit_value = _aggregate_value(func, arg, name, inner, line)
    return Aggregate(func, path, name, where, value, unit, unit_value, value.type)


def _aggregate_value(func: str, arg: dict[str, Any], name: str, scope: Scope, line: int | None) -> tuple[Path, Path | None, Any]:
    """The value an aggregate reads from each item, and the unit guard its item's currency or unit requires."""
    of_line = _line(arg, "of", line)
    value = resolve(arg["of"], scope, of_line)
    if value.start != name:
        raise ConditionError(f"'of' reads a field of each item, like '{name}.amount', got {value.text!r}", of_line)
    allowed = ("number",) if func == "sum" else ("number", "date")
    if value.type.kind not in allowed:
        raise ConditionError(f"'{func}' needs {' or '.join(allowed)} values, but '{value.text}' is a {value.type.describe()}", of_line)
    siblings = resolve(".".join((name, *value.names[:-1])), scope, of_line).type.fields
    units = [u for u in UNIT_FIELDS if u in siblings]
    if "unit" not in arg:
        if units:
            owner = ".".join((name, *value.names[:-1], units[0]))
            raise ConditionError(
                f"'{value.text}' has a {units[0]}: say which one to {func} with 'unit: {{field: {owner}, eq: ...}}' "
                f"(amounts in different {units[0]} units are never added up or compared)",
                of_line,
            )
        return value, None, None
    guard, guard_line = arg["unit"], _line(arg, "unit", line)
    if not isinstance(guard, dict) or set(guard) != {"field", "eq"}:
        raise ConditionError(f"'unit' takes {{field: {name}.currency, eq: VALUE}}, got {guard!r}", guard_line)
    unit = resolve(guard["field"], scope, _line(guard, default=guard_line))
    if unit.start != name or unit.type.kind != "string":
        raise ConditionError(f"'unit' names a text field of each item, like '{name}.currency', got {unit.text!r}", guard_line)
    return value, unit, _literal(guard["eq"], unit.type, guard_line, "'unit'")


def _item_line(seq: Any, index: int, default: int | None) -> int | None:
    lines = getattr(seq, "item_lines", None)
    return lines[index] if lines and index < len(lines) else default


def _parse_comparison(raw: dict[str, Any], scope: Scope, line: int | None) -> Node:
    ops = [k for k in raw if k != "field"]
    if len(ops) != 1:
        raise ConditionError(f"a comparison has 'field' and exactly one of {', '.join(FIELD_OPERATORS)}, got {ops or 'none'}", line)
    name = ops[0]
    op_line = _line(raw, name, line)
    if name in _LOOKUP_BY_NAME:
        return _parse_lookup(raw, _LOOKUP_BY_NAME[name], scope, line, op_line)
    if name == AMONG:
        return _parse_among(raw, scope, line, op_line)
    if name not in _COMPARISON_BY_NAME:
        raise ConditionError(f"unknown comparison '{name}'{_suggest_operator(name, FIELD_OPERATORS)}", op_line)
    op = _COMPARISON_BY_NAME[name]
    path = resolve(raw["field"], scope, _line(raw, "field", line))
    left = path.type
    if left.kind in ("object", "list"):
        raise ConditionError(f"'{path.text}' is a {left.describe()}; compare one of its fields, or use exists/missing/some/every", op_line)
    if op in _MEMBERSHIP:
        operand = _membership_operand(raw[op], left, scope, op_line, op)
    else:
        if op not in ("eq", "ne") and left.kind not in ("number", "date"):
            raise ConditionError(f"'{op}' orders numbers or dates, but '{path.text}' is a {left.describe()}", op_line)
        operand = _operand(raw[op], left, scope, op_line, f"'{path.text}' {op}")
    return Compare(path, op, operand)


PARTY_FIELDS = frozenset({"id", "name"})
"""What :func:`same_party` compares: a value ``among`` reads must be an object with both."""


def _parse_among(raw: dict[str, Any], scope: Scope, line: int | None, op_line: int | None) -> Node:
    path = resolve(raw["field"], scope, _line(raw, "field", line))
    parties = resolve(raw[AMONG], scope, op_line)
    if path.type.kind != "object" or not set(path.type.fields) >= PARTY_FIELDS:
        raise ConditionError(f"'among' compares a party (an object with id and name), but '{path.text}' is a {path.type.describe()}", op_line)
    item = parties.type if parties.type.kind == "object" else parties.type.item
    if parties.type.kind not in ("list", "object") or item is None or item.kind != "object" or not set(item.fields) >= PARTY_FIELDS:
        raise ConditionError(
            f"'among' needs a party or a list of parties (objects with id and name), but '{parties.text}' is a {parties.type.describe()}", op_line
        )
    return Among(path, parties)


def _parse_retrieved(raw: dict[str, Any], scope: Scope, line: int | None) -> Node:
    ops = [k for k in raw if k != "retrieved"]
    if len(ops) != 1 or ops[0] not in _ORDERING_BY_NAME:
        unknown = [k for k in ops if k not in _ORDERING_BY_NAME]
        hint = _suggest_operator(unknown[0], ORDERING_OPERATORS) if unknown else ""
        raise ConditionError(f"'retrieved' takes a registry and exactly one of {', '.join(ORDERING_OPERATORS)}, got {sorted(raw)}{hint}", line)
    kind, op = raw["retrieved"], _ORDERING_BY_NAME[ops[0]]
    if kind not in REGISTRY_KINDS:
        raise ConditionError(
            f"unknown registry {kind!r}; known: {', '.join(sorted(REGISTRY_KINDS))}{_suggest(str(kind), REGISTRY_KINDS)}", _line(raw, "retrieved", line)
        )
    operand = _operand(raw[op], FieldType("date"), scope, _line(raw, op, line), f"retrieved {op}")
    return Retrieved(kind, op, operand)


def _parse_lookup(raw: dict[str, Any], op: LookupOp, scope: Scope, line: int | None, op_line: int | None) -> Node:
    path = resolve(raw["field"], scope, _line(raw, "field", line))
    name: Path | None = None
    before: Path | None = None
    on: Path | None = None
    kind = raw[op]
    if op == "revoked_in" and isinstance(kind, dict):
        before, kind = _dated_lookup(op, kind, "before", scope, op_line)
    if op in ("listed_in", "not_listed_in") and isinstance(kind, dict):
        on, kind = _dated_lookup(op, kind, "on", scope, op_line)
    if op == "listed_under_other_name":
        if not isinstance(kind, dict) or set(kind) != {"in", "name"}:
            got = sorted(kind) if isinstance(kind, dict) else kind
            raise ConditionError(f"'{op}' takes {{in: REGISTRY, name: NAME_PATH}}, got {got!r}", op_line)
        name = resolve(kind["name"], scope, _line(kind, "name", op_line))
        if name.type.kind != "string":
            raise ConditionError(f"'{op}' compares a name, but '{name.text}' is a {name.type.describe()}", op_line)
        kind = kind["in"]
    if not isinstance(kind, str) or kind not in REGISTRY_KINDS:
        raise ConditionError(f"unknown registry {kind!r}; known: {', '.join(sorted(REGISTRY_KINDS))}{_suggest(str(kind), REGISTRY_KINDS)}", op_line)
    party = op == "listed_in" and path.type.kind == "object" and set(path.type.fields) >= PARTY_FIELDS
    if path.type.kind != "string" and not party:
        raise ConditionError(f"'{op}' looks up an identifier (listed_in: or a party), but '{path.text}' is a {path.type.describe()}", op_line)
    if party and on is not None:
        raise ConditionError(f"'{op}' on a date looks up an identifier, but '{path.text}' is a party", op_line)
    return Lookup(path, op, kind, name, before, on)


def _dated_lookup(op: LookupOp, raw: dict[str, Any], key: str, scope: Scope, line: int | None) -> tuple[Path, Any]:
    """``{in: REGISTRY, KEY: DATE_PATH}``: the date path (checked to be a date) and the registry kind, unchecked."""
    if set(raw) != {"in", key}:
        raise ConditionError(f"'{op}' takes a registry, or {{in: REGISTRY, {key}: DATE_PATH}}, got {sorted(raw)!r}", line)
    day = resolve(raw[key], scope, _line(raw, key, line))
    if day.type.kind != "date":
        raise ConditionError(f"'{op}' {key}: needs a date, but '{day.text}' is a {day.type.describe()}", line)
    return day, raw["in"]


def _parse_quantifier(op: QuantifierKind, arg: Any, scope: Scope, line: int | None) -> Node:
    if not isinstance(arg, dict) or set(arg) != {"in", "as", "where"}:
        got = sorted(arg) if isinstance(arg, dict) else arg
        raise ConditionError(f"'{op}' takes {{in: LIST_PATH, as: NAME, where: CONDITION}}, got {got!r}", line)
    path = resolve(arg["in"], scope, _line(arg, "in", line))
    if path.type.kind != "list" or path.type.item is None:
        raise ConditionError(f"'{op}' iterates over a list, but '{path.text}' is a {path.type.describe()}", line)
    inner = scope.bind(str(arg["as"]), path.type.item, _line(arg, "as", line))
    return Quantifier(op, path, str(arg["as"]), parse(arg["where"], inner, _line(arg, "where", line)))


def outline(node: Node, indent: int = 0) -> list[str]:
    """The condition as indented lines, for people reading ``explain``."""
    pad = "  " * indent
    inner = [line for _, child in node.children() for line in outline(child, indent + 1)]
    match node:
        case All() | Any_():
            return [f"{pad}{'all of' if isinstance(node, All) else 'any of'}:", *inner]
        case Not():
            return [f"{pad}not:", *inner]
        case Quantifier():
            word = "for some" if node.kind == "some" else "for every"
            return [f"{pad}{word} {node.name} in {node.path.text}:", *inner]
        case AggregateCompare() if node.aggregate.where is not None:
            agg = node.aggregate
            value = f" of {agg.value.text}" if agg.value is not None else ""
            unit = f" with {agg.unit.text} == {_show(agg.unit_value)}" if agg.unit is not None else ""
            return [f"{pad}{agg.func}{value}{unit} {SYMBOLS[node.op]} {node.operand}, over each {agg.name} in {agg.path.text} where:", *inner]
        case AggregateCompare() | Presence() | Compare() | Lookup() | Retrieved() | Among():
            return [f"{pad}{node}"]
        case _:
            assert_never(node)


def registries_used(node: Node) -> set[str]:
    """The registry kinds a condition consults, so the engine can say when one is missing."""
    return {kind for _, each in walk(node) for kind in _own_registries(each)}


def _own_registries(node: Node) -> set[str]:
    """The registry kinds one node consults itself (its children are walked by :func:`registries_used`)."""
    match node:
        case Lookup() | Retrieved():
            return {node.kind}
        case All() | Any_() | Not() | Presence() | Compare() | Among() | Quantifier() | AggregateCompare():
            return set()
        case _:
            assert_never(node)
