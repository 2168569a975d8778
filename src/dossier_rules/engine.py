"""The engine: pick the dossier's pack, run its compiled rules, build the report.

Evaluation is deterministic: rules run in an order fixed by the pack (what a
pack extends first, rules that iterate the same list together), items of a
``for_each`` in list order, and nothing depends on the clock except the
report's ``generated_at``.

The report is built as plain JSON-ready data (:meth:`Engine.evaluate_data`):
batch screening serializes it directly, which is what makes it fast.
:class:`dossier_rules.report.Report` is its schema, and :meth:`Engine.evaluate`
returns it validated into that model for callers that want typed objects.
Everything that depends only on the pack and the as-of date (pack status,
from :mod:`dossier_rules.status`; registries consulted, their warnings) is
computed once per date and shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from . import __version__, backends, codegen, labels
from .conditions import ROOT, Env, as_date
from .locale import N_, translate
from .model import BrokerDossier, CandidateDossier
from .packs import CompiledRule, Pack, PackSet, ResolvedRule
from .problems import InputError, Problem
from .registries import REPORTS, Registries, RegistryView, keeper
from .report import REPORT_VERSION, Report, data_warning, outcome, registry_used
from .sources import Data
from .status import pack_status, status_warnings, without_moc_effect

AnyDossier = CandidateDossier | BrokerDossier

DEFAULT_MAX_REGISTRY_AGE = 180
"""Days after retrieval from which a registry is reported as stale (relative to the as-of date)."""


def json_value(value: Any) -> Any:
    """A value read by a rule as it appears in evidence: JSON types only (date paths read as dates)."""
    return value.isoformat() if isinstance(value, date) else value


REPORTS_RECEIVED = N_(" Received from the partner: {reports}.")
REPORT_RECEIVED_ON = N_("{note} (received {received_on})")


def _cite_reports(finding: Data, view: RegistryView, dossier: Data) -> Data:
    """A finding of a rule that consults the partner's 4(1) reports cites the reports it matched, as received.

    The message ends with each report's reference, date and receipt id (the entry's note) and the day Japan
    received it; the subject lists them too, so the intermediary view shows them. Every backend's findings
    pass here, so the three evaluators cite alike.
    """
    party = finding["subject"] or {}
    if dossier["kind"] == "broker":
        party = {"id": dossier.get("broker_id"), "name": dossier.get("name"), "accreditation": dossier.get("accreditation")}
    entries = view.reports(REPORTS, party)
    if not entries:
        return finding
    message = {}
    for lang, text in finding["message"].items():
        each = [translate(REPORT_RECEIVED_ON, lang).format(note=e.note or e.id, received_on=e.listed_from) for e in entries]
        message[lang] = text + translate(REPORTS_RECEIVED, lang).format(reports=("、" if lang == "ja" else "; ").join(each))
    return {**finding, "message": message, "subject": {**(finding["subject"] or {}), "reports": [e.note or e.id for e in entries]}}


def _finding(**fields: Any) -> Data:
    """A finding with every field of :class:`dossier_rules.report.Finding`, in its order."""
    return {
        "rule_id": fields["rule_id"],
        "pack": fields["pack"],
        "article": fields["article"],
        "also": fields.get("also", []),
        "severity": fields["severity"],
        "share": fields.get("share", False),
        "act": fields.get("act"),
        "title": fields["title"],
        "rule_severity": fields.get("rule_severity"),
        "limited": fields.get("limited"),
        "basis": fields.get("basis"),
        "message": fields["message"],
        "evidence": fields["evidence"],
        "item": fields.get("item"),
        "subject": fields.get("subject"),
    }


class EvaluationError(Exception):
    """Evaluating one dossier raised: a defect, reported as that dossier's error record with the rule at fault."""

    def __init__(self, rule_id: str | None, cause: BaseException):
        self.rule_id = rule_id
        self.cause = cause
        super().__init__(f"{type(cause).__name__}: {cause}")


@dataclass(frozen=True)
class _DateContext:
    """What a report needs that depends only on the pack and the as-of date."""

    status: Data
    registries: list[Data]
    warnings: list[Data]
    view: RegistryView
    pack_id: str
    as_of: str


class Engine:
    """Evaluates dossiers against a loaded :class:`PackSet` and the registries its rules consult."""

    def __init__(
        self,
        packset: PackSet,
        registries: Registries | None = None,
        max_registry_age: int | None = DEFAULT_MAX_REGISTRY_AGE,
        backend: str = backends.DEFAULT,
    ):
        self.packset = packset
        self.backend = backend
        self.rule_backend = backends.get(backend)
        self._decider: backends.Decider | None = None
        self._decider_built = False
        self.registries = registries or Registries.empty()
        self.max_registry_age = max_registry_age
        self._packs = {pack.country: pack for pack in packset.packs.values()}
        self._used = {pack.id: [{"id": s.id, "version": s.spec.pack.version, "sha256": s.sha256} for s in pack.chain] for pack in packset.packs.values()}
        self._plans = {
            (pack.country, kind): _plan([_Runner(r, pack.id) for r in pack.rules_for(kind)])
            for pack in packset.packs.values()
            for kind in ("candidate", "broker")
        }
        self._needs = {
            pack.id: {kind: tuple(r for r in pack.rules if kind in r.rule.registries) for kind in sorted({k for r in pack.rules for k in r.rule.registries})}
            for pack in packset.packs.values()
        }
        self._citing = {pack.id: frozenset(r.rule.id for r in self._needs[pack.id].get(REPORTS, ())) for pack in packset.packs.values()}
        self._effects = {pack.id: {r.rule.id: r.effect for r in pack.rules if r.effect is not None} for pack in packset.packs.values()}
        self._context = lru_cache(maxsize=4096)(self._date_context)
        self._screens = self._generated() if self.rule_backend.generated else {}

    def _generated(self) -> dict[tuple[str, str], codegen.Screen]:
        """Each pack's rules as one generated function per kind; a pack the generator cannot express is interpreted."""
        screens: dict[tuple[str, str], codegen.Screen] = {}
        for pack in self.packset.packs.values():
            try:
                code = codegen.code_for(pack)
            except codegen.Unsupported:
                continue
            heads = [_Runner(r, pack.id).static for r in pack.rules]
            for kind, screen in codegen.screens(code, heads).items():
                screens[(pack.country, kind)] = screen
        return screens

    def pack_for(self, country: str, source: str) -> Pack:
        pack = self._packs.get(country)
        if pack is None:
            known = ", ".join(sorted(self._packs))
            raise InputError([Problem(source, f"no pack for country {country}; packs exist for {known}", kind="no_pack", pointer="/country")])
        return pack

    def evaluate(self, dossier: AnyDossier | Data, as_of: date | None = None, source: str | None = None, timestamp: bool = True) -> Report:
        """Run every rule of the dossier's pack that applies to its kind; the typed report.

        A typed dossier is evaluated as the JSON it stands for, so both kinds of
        caller get the same findings and evidence.
        """
        data = dossier if isinstance(dossier, dict) else dossier.model_dump(mode="json", exclude_unset=True)
        return Report.model_validate(self.evaluate_data(data, as_of, source, timestamp))

    def evaluate_data(self, dossier: Data, as_of: date | None = None, source: str | None = None, timestamp: bool = True) -> Data:
        """The report as JSON-ready data, in the shape of :class:`Report`.

        ``dossier`` is validated JSON data (:func:`dossier_rules.sources.load_dossier`).
        """
        country, kind = dossier["country"], dossier["kind"]
        pack = self._packs.get(country) or self.pack_for(country, source or dossier["dossier_id"])
        if "country_fields" in dossier:
            pack.check_country_fields(dossier, source or dossier["dossier_id"])
        as_of = as_of or as_date(dossier["submitted"])
        context: _DateContext = self._context(pack.source.spec.pack.id, as_of)
        findings: list[Data] = []
        screen = self._screens.get((country, kind))
        try:
            if screen is not None:
                screen(dossier, as_of, context.view, findings)
            else:
                self._interpret(pack, kind, dossier, as_of, context.view, findings)
        except InputError:
            raise  # a record the backend cannot take: its own error record, not a defect
        except Exception as exc:
            raise self._failure(pack, kind, dossier, as_of, context.view, exc) from exc
        if citing := self._citing[pack.id]:
            findings = [_cite_reports(f, context.view, dossier) if f["rule_id"] in citing else f for f in findings]
        if context.status["state"] != "in_force":
            effects = self._effects[pack.id]
            findings = [without_moc_effect(f, effects) for f in findings]
        counts = {"block": 0, "warn": 0, "info": 0}
        for finding in findings:
            counts[finding["severity"]] += 1
        return {
            "report_version": REPORT_VERSION,
            "tool_version": __version__,
            "dossier_id": dossier["dossier_id"],
            "kind": kind,
            "country": country,
            "outcome": outcome(context.status["state"], findings),
            "source": source,
            "source_sha256": None,
            "submitted": dossier["submitted"],
            "sector": dossier.get("sector"),
            "as_of": context.as_of,
            "pack": context.pack_id,
            "packs": self._used[context.pack_id],
            "pack_status": context.status,
            "registries": context.registries,
            "counts": counts,
            "findings": findings,
            "data_warnings": context.warnings,
            "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat() if timestamp else None,
        }

    def _interpret(self, pack: Pack, kind: str, dossier: Data, as_of: date, view: RegistryView, findings: list[Data]) -> None:
        """The closure interpreter, or the backend's decider deciding what fires (findings built by the same runners).

        An exception in a rule is raised as :class:`EvaluationError` naming that rule.
        """
        env: Env = {ROOT: dossier, "$as_of": as_of, "$registries": view}
        plan = self._plans[(pack.country, kind)]
        runner: _Runner | None = None
        try:
            decider = self._backend_decider()
            if decider is not None:
                fired = decider.fired(pack, dossier, env)
                for items, runners in plan:
                    for runner in runners:
                        runner.emit(env, findings, items(env) if items else None, fired)
                return
            for items, runners in plan:
                runner = runners[0]
                if items is None:
                    for runner in runners:
                        runner.run(env, findings, None)
                elif present := items(env):
                    for runner in runners:
                        runner.run(env, findings, present)
        except InputError:
            raise
        except Exception as exc:
            raise EvaluationError(runner.rule.spec.id if runner else None, exc) from exc

    def _failure(self, pack: Pack, kind: str, dossier: Data, as_of: date, view: RegistryView, exc: Exception) -> EvaluationError:
        """The error for a dossier whose evaluation raised, naming the rule at fault.

        Generated code does not say which rule raised; the interpreter it was
        proven equal to does, so the dossier is evaluated again by it.
        """
        if isinstance(exc, EvaluationError):
            return exc
        try:
            self._interpret(pack, kind, dossier, as_of, view, [])
        except EvaluationError as again:
            return again
        except Exception as again:  # noqa: BLE001 - only to name the rule; the first exception is what is reported
            return EvaluationError(None, again)
        return EvaluationError(None, exc)

    def _backend_decider(self) -> backends.Decider | None:
        """The backend's decider, built on first use: where the engine evaluates (durable-rules: in a worker, never in the parent)."""
        if not self._decider_built:
            self._decider = self.rule_backend.decider(self.packset)
            self._decider_built = True
        return self._decider

    def _date_context(self, pack_id: str, as_of: date) -> _DateContext:
        pack = self.packset.packs[pack_id]
        status = pack_status(pack, as_of)
        used, warnings = self._registries_for(pack, as_of)
        return _DateContext(status, used, status_warnings(status) + warnings, self.registries.view(pack.country, as_of), pack_id, as_of.isoformat())

    def pack_files(self, pack_id: str) -> list[Data]:
        """The pack files a report of this pack names: the pack and every pack it extends (id, version, sha256)."""
        return self._used[pack_id]

    def consulted(self, pack_id: str) -> list[Data]:
        """The registries a pack's rules consult, as loaded (``sha256`` None when missing); date-independent."""
        pack = self.packset.packs[pack_id]
        out = []
        for kind in self._needs[pack_id]:
            loaded = self.registries.get(pack.country, kind)
            identity: Data = {"kind": kind, "country": keeper(pack.country, kind), "sha256": None, "retrieved_on": None, "entries": None, "sample": None}
            if loaded is not None:
                reg = loaded.registry
                identity.update(sha256=loaded.sha256, retrieved_on=reg.retrieved_on.isoformat(), entries=loaded.count, sample=reg.sample)
            out.append(identity)
        return out

    def _registries_for(self, pack: Pack, as_of: date) -> tuple[list[Data], list[Data]]:
        """Record each registry the pack consults; warn when one is missing or older than allowed.

        The partner's 4(1) reports are a list kept by the inbox, not retrieved from a publication: it is as
        current as the last message received, so its age is never a reason to warn.
        """
        used, warnings = [], []
        for identity in self.consulted(pack.id):
            seen = registry_used(identity, as_of, None if identity["kind"] == REPORTS else self.max_registry_age)
            used.append(seen)
            if seen["status"] != "ok":
                kind = seen["kind"]
                warnings.append(_registry_warning(pack, kind, seen["country"], self._needs[pack.id][kind], seen["age_days"]))
        return used, warnings


def _registry_warning(pack: Pack, kind: str, country: str, rules: tuple[ResolvedRule, ...], age: int | None) -> Data:
    """A registry that is missing or stale weakens the rules that consult it: say so, never pass silently, cite no article."""
    ids = [r.rule.id for r in rules]
    listed = ", ".join(ids)
    titled = "、".join(f"「{r.rule.spec.title.ja}」" for r in rules)
    place, list_name = labels.label(country, "ja", "country"), labels.term(kind, "ja", "registry")
    if age is None:
        code = "registry-missing"
        message = {
            "ja": f"{place}の{list_name}が読み込まれていないため、次のルールでは照合していません：{titled}",
            "en": f"The {country} registry '{kind}' is not loaded, so these rules could not consult it: {listed}",
        }
    else:
        code = "registry-stale"
        message = {
            "ja": f"{place}の{list_name}は、基準日の{age}日前に取得されたものです。最新の一覧で照合し直してください（対象のルール：{titled}）。",
            "en": f"The {country} registry '{kind}' was retrieved {age} days before the date evaluated; re-check against a current list (rules: {listed}).",
        }
    return data_warning(code, {"ja": "照合用一覧の未読込・期限超過", "en": "Registry missing or out of date"}, message, ids, kind)


class _Runner:
    """One rule, ready to run: its program, its list to iterate, and the static part of its findings."""

    __slots__ = ("base", "items", "messages", "name", "program", "rule", "static")

    def __init__(self, resolved: ResolvedRule, pack_id: str):
        rule = self.rule = resolved.rule
        self.messages = resolved.messages
        spec = rule.spec
        self.program = rule.program
        self.items = rule.for_each.getter if rule.for_each else None
        self.name = spec.for_each.as_ if spec.for_each else None
        self.base = rule.for_each.pointer({ROOT: ""}) if rule.for_each else None
        self.static = {
            "rule_id": spec.id,
            "pack": rule.pack_id,
            "article": resolved.article,
            "also": list(resolved.also),
            "severity": spec.severity,
            "share": spec.share is not None,
            "act": spec.share.act if spec.share else None,
            "title": spec.title.model_dump(),
            "rule_severity": None,
            "limited": None,
            "basis": resolved.basis,
        }

    def run(self, env: Env, out: list[Data], items: list[Any] | None) -> None:
        """Append this rule's findings; a ``for_each`` rule yields one per matching item of ``items``."""
        if items is None:
            if self.program(env):
                out.append(self._finding(env, {ROOT: ""}, None))
            return
        name, program = self.name, self.program
        assert name is not None, "only a for_each rule is given the items of its list"
        for index, item in enumerate(items):
            env[name] = item
            if program(env):
                pointer = f"{self.base}/{index}"
                out.append(self._finding(env, {ROOT: "", name: pointer}, pointer))

    def emit(self, env: Env, out: list[Data], items: list[Any] | None, fired: set[tuple[str, int | None]]) -> None:
        """Append the findings of this rule for the (rule, item) pairs another backend decided fire."""
        rule_id = self.static["rule_id"]
        if self.items is None:
            if (rule_id, None) in fired:
                out.append(self._finding(env, {ROOT: ""}, None))
            return
        name = self.name
        assert name is not None, "a rule with a list to iterate binds a name to its item"
        for index in sorted(i for r, i in fired if r == rule_id and i is not None):
            assert items is not None, "a rule fires for an item only of a list the dossier has"
            env[name] = items[index]
            pointer = f"{self.base}/{index}"
            out.append(self._finding(env, {ROOT: "", name: pointer}, pointer))

    def _finding(self, env: Env, bases: dict[str, str], item: str | None) -> Data:
        rule = self.rule
        return _finding(
            **self.static,
            message={lang: template.render(env, lang) for lang, template in self.messages.items()},
            evidence={path.pointer(bases): json_value(path.getter(env)) for path in rule.evidence},
            item=item,
            subject=_subject(rule, env),
        )


def _plan(runners: list[_Runner]) -> tuple[tuple[Any, tuple[_Runner, ...]], ...]:
    """Rules grouped by the list they iterate (in first-appearance order), so an empty list skips its group.

    Findings keep the pack's rule order within a group; groups follow the order
    in which their first rule appears, which is fixed for a pack, so reports stay
    deterministic.
    """
    groups: dict[str | None, list[_Runner]] = {}
    getters: dict[str | None, Any] = {}
    for runner in runners:
        key = runner.rule.for_each.text if runner.rule.for_each else None
        groups.setdefault(key, []).append(runner)
        getters[key] = runner.items
    return tuple((getters[key], tuple(group)) for key, group in groups.items())


def _subject(rule: CompiledRule, env: Env) -> Data | None:
    """Who the finding is about: the rule's subject party, or the broker a broker rule examined."""
    if rule.subject is not None:
        party = rule.subject.getter(env)
        return json_value(party) if party is not None else None
    dossier = env[ROOT]
    return codegen.broker_subject(dossier) if dossier["kind"] == "broker" else None
