"""Problems with an input and the error that carries them: what every reader, check and interface reports.

A :class:`Problem` names the file and the place (line or JSON pointer) and says
what was expected, so a user can fix it without reading code; an
:class:`InputError` carries every problem found in one input, so all are
reported at once and a run over many files can record them and go on. An error
record lists at most :data:`MAX_PROBLEMS` of them (:func:`capped`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_PROBLEMS = 100
"""Problems listed per error record; the rest are counted in one last problem."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as we can."""

    source: str
    message: str
    kind: str = "invalid"
    pointer: str | None = None
    line: int | None = None
    rule: str | None = None

    def __str__(self) -> str:
        where = self.source + (f":{self.line}" if self.line else "")
        rule = f" [rule {self.rule}]" if self.rule else ""
        at = f" (at {self.pointer})" if self.pointer is not None else ""
        return f"{where}:{rule} {self.message}{at}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message}
        for key in ("pointer", "line", "rule"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class InputError(Exception):
    """Raised with every problem found in one input, so all can be reported at once."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def capped(problems: Iterable[Problem], source: str, line: int | None = None, unlisted: int = 0) -> list[Problem]:
    """The first :data:`MAX_PROBLEMS` problems, and one more that counts those not listed (and ``unlisted`` never examined)."""
    rest = iter(problems)
    out = list(itertools.islice(rest, MAX_PROBLEMS))
    more = sum(1 for _ in rest) + unlisted
    if more:
        out.append(Problem(source, f"{more} more problem(s) not listed; fix the ones above first", kind="truncated", line=line))
    return out
