"""What produced a ``batch`` output, and whether a run may continue it.

A batch output starts with a run header (:class:`dossier_rules.report.RunHeader`):
the program and backend, the options, every pack file and every registry
used. Its reports then leave out what the header already says (their
``packs`` and ``registries``), which keeps the output lean. After every chunk
of reports comes a checkpoint (:class:`dossier_rules.report.Checkpoint`)
saying how many input records those reports came from and a hash of them.

``--resume`` continues an output only when the header matches the run about
to continue it and the input starts with exactly the records the last
checkpoint hashed; anything else is refused with the differences named, so
one output never mixes two pack versions, two registry imports or two
inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from . import __version__
from .engine import Engine
from .locale import _
from .problems import Problem
from .report import Checkpoint, RunHeader
from .results import Summary, is_header

Record = dict[str, Any]


class ResumeError(Exception):
    """The output cannot be continued by this run; the message says why."""


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def run_header(engine: Engine, as_of: date | None, spec: str) -> Record:
    """The header of an output written by this engine with these options (JSON data of :class:`RunHeader`)."""
    packs = {pack_id: engine.pack_files(pack_id) for pack_id in sorted(engine.packset.packs)}
    registries = {pack_id: engine.consulted(pack_id) for pack_id in sorted(engine.packset.packs)}
    files = sorted({(f["id"], f["version"], f["sha256"]) for used in packs.values() for f in used})
    header = RunHeader.model_validate(
        {
            "engine": {"version": __version__, "backend": engine.backend},
            "options": {"as_of": as_of, "max_registry_age": engine.max_registry_age},
            "packset_sha256": _digest(files),
            "packs": packs,
            "registries_sha256": _digest(registries),
            "registries": registries,
            "input": spec,
            "started_at": datetime.now(UTC).replace(microsecond=0),
        }
    )
    return header.model_dump(mode="json")


def differences(old: Record, new: Record) -> list[str]:
    """What differs between the header of an output and the run about to continue it, in words."""
    found = []
    for key in ("format", "format_version", "report_version"):
        if old.get(key) != new[key]:
            found.append(_("the output is {key} {old}, this run writes {new}", key=key, old=repr(old.get(key)), new=repr(new[key])))
    if old.get("engine") != new["engine"]:
        found.append(_("the output was written by {old}, this run is {new}", old=_engine(old.get("engine")), new=_engine(new["engine"])))
    for option, value in new["options"].items():
        before = (old.get("options") or {}).get(option)
        if before != value:
            found.append(_("--{option} was {old}, now {new}", option=option.replace("_", "-"), old=before, new=value))
    if old.get("packset_sha256") != new["packset_sha256"]:
        found.append(_("packs differ: {changes}", changes=_changed(_files(old.get("packs")), _files(new["packs"]))))
    if old.get("registries_sha256") != new["registries_sha256"]:
        found.append(_("registries differ: {changes}", changes=_changed(_registries(old.get("registries")), _registries(new["registries"]))))
    return found


def _engine(engine: Any) -> str:
    if not isinstance(engine, dict):
        return "an unknown program"
    return f"{engine.get('program')} {engine.get('version')} ({engine.get('backend')} backend)"


def _files(packs: Any) -> dict[str, str]:
    return {f["id"]: f"{f['version']} ({f['sha256'][:12]})" for used in (packs or {}).values() for f in used}


def _registries(registries: Any) -> dict[str, str]:
    out = {}
    for used in (registries or {}).values():
        for r in used:
            out[f"{r['country']} {r['kind']}"] = f"retrieved {r['retrieved_on']} ({r['sha256'][:12]})" if r.get("sha256") else "not loaded"
    return out


def _changed(before: dict[str, str], after: dict[str, str]) -> str:
    """``name: old → new`` for each entry that changed, appeared or disappeared."""
    parts = [
        f"{name}: {before.get(name, 'absent')} → {after.get(name, 'absent')}"
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]
    return "; ".join(parts) or "same files, listed differently"


# --------------------------------------------------------------------------- input identity


@dataclass
class InputTally:
    """A running identity of the input records read: how many, how many bytes, and a hash of them."""

    records: int = 0
    size: int = 0
    _hash: Any = field(default_factory=hashlib.sha256)

    def add(self, source: str, line: int | None, raw: bytes | None, problem: Problem | None) -> None:
        """Count one input record: its name and bytes, or the reason it could not be read."""
        self.records += 1
        name = source if line is None else f"{source}:{line}"
        self._hash.update(orjson.dumps([name, len(raw) if raw is not None else None, problem.kind if problem else None]))
        if raw is not None:
            self._hash.update(raw)
            self.size += len(raw)

    def checkpoint(self) -> Record:
        return Checkpoint(records=self.records, input_bytes=self.size, input_sha256=self._hash.hexdigest()).model_dump()


# --------------------------------------------------------------------------- reading an output back


@dataclass
class Written:
    """What an existing output holds, up to its last checkpoint."""

    header: Record
    checkpoint: Record | None
    summary: Summary
    end: int
    dropped: int


def read_written(out: Path) -> Written:
    """The header, the last checkpoint and the counts of the reports before it.

    Reports after the last checkpoint belong to a chunk whose checkpoint was
    never written (the run was interrupted while writing it); they are not
    trusted and are screened again. ``end`` is the byte offset to cut at.
    """
    summary = Summary()
    pending = Summary()
    header: Record | None = None
    checkpoint: Record | None = None
    end = position = dropped = 0
    with out.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                break  # cut off by the interruption
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise ResumeError(_("line {line} is not JSON: the output is damaged, start a new one", line=number)) from None
            position += len(line)
            if number == 1:
                if not (isinstance(record, dict) and is_header(record)):
                    raise ResumeError(_("it has no run header (it was not written by batch, or by an older version): start a new output"))
                header, end = record, position
                continue
            if record.get("record_type") == "checkpoint":
                if record.get("records") != summary.records + pending.records:
                    counted = summary.records + pending.records
                    raise ResumeError(
                        _(
                            "line {line}: the checkpoint counts {said} records but {counted} precede it: the output is damaged",
                            line=number,
                            said=record.get("records"),
                            counted=counted,
                        )
                    )
                summary.merge(pending)
                pending, checkpoint, end = Summary(), record, position
                continue
            pending.add(record)
        dropped = pending.records
    if header is None:
        raise ResumeError(_("it has no run header (it is empty or was cut off at its first line): start a new output"))
    return Written(header, checkpoint, summary, end, dropped)


def verify_input(items: Iterator[Any], tally: InputTally, checkpoint: Record) -> None:
    """Read the records the output already covers, and refuse an input that does not start with them."""
    count = checkpoint["records"]
    while tally.records < count:
        try:
            item = next(items)
        except StopIteration:
            raise ResumeError(
                _("the output covers {count} input records but the input has only {found}: not the same input", count=count, found=tally.records)
            ) from None
        tally.add(*item)
    mark = tally.checkpoint()
    if mark["input_sha256"] != checkpoint["input_sha256"]:
        raise ResumeError(
            _(
                "the input's first {count} records are not the ones the output was made from ({now} bytes now, {then} then; "
                "sha256 {found}, expected {expected}): the input was edited, replaced or named differently; restore it or start a new output",
                count=count,
                now=mark["input_bytes"],
                then=checkpoint["input_bytes"],
                found=mark["input_sha256"][:12],
                expected=checkpoint["input_sha256"][:12],
            )
        )
