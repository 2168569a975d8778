"""The engine: pick the dossier's pack, run its compiled rules, build the report.

Evaluation is deterministic: rules run in pack order (what a pack extends
first), items of a ``for_each`` in list order, and nothing depends on the
clock except the report's ``generated_at``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from pydantic import BaseModel

from .conditions import ROOT, Env
from .model import BrokerDossier, CandidateDossier
from .packs import CompiledRule, Pack, PackSet, ResolvedRule
from .registries import Registries, keeper
from .report import Finding, PackStatus, PackUsed, RegistryUsed, Report
from .sources import InputError, Problem

DEFAULT_MAX_REGISTRY_AGE = 180
"""Days after retrieval from which a registry is reported as stale (relative to the as-of date)."""

AnyDossier = CandidateDossier | BrokerDossier


def json_value(value: Any) -> Any:
    """A dossier value as it appears in evidence: JSON types only."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


def pack_status(pack: Pack, as_of: date) -> PackStatus:
    """Whether the pack's MOC is in force on ``as_of``: never assume it is."""
    period = pack.moc.in_force
    article = f"MOC-{pack.country} {period.article}"
    if period.starts_on is None:
        rule = period.start_rule
        return PackStatus(
            state="start_unknown",
            article=article,
            detail={
                "ja": "この協力覚書の開始日は未確定です" + (f"（{rule.ja}）" if rule else "") + "。開始日がパックに設定されるまで、適用の可否を確認してください。",
                "en": "The start date of this MOC is not known" + (f" ({rule.en})" if rule else "") + "; confirm whether it applies until the pack records the date.",
            },
        )
    if as_of < period.starts_on:
        return PackStatus(
            state="not_yet_in_force",
            article=article,
            detail={
                "ja": f"{as_of.isoformat()} 時点では、この協力覚書はまだ効力を生じていません（開始日 {period.starts_on.isoformat()}）。",
                "en": f"On {as_of.isoformat()} this MOC was not yet in force (it starts on {period.starts_on.isoformat()}).",
            },
        )
    if period.ends_on is not None and as_of >= period.ends_on:
        return PackStatus(
            state="ended",
            article=article,
            detail={
                "ja": f"この協力覚書は {period.ends_on.isoformat()} に終了しています（評価日 {as_of.isoformat()}）。",
                "en": f"This MOC ended on {period.ends_on.isoformat()} (evaluated as of {as_of.isoformat()}).",
            },
        )
    return PackStatus(
        state="in_force",
        article=article,
        detail={"ja": "評価日時点で効力を有しています。", "en": "In force on the date evaluated."},
    )


def _status_finding(pack: Pack, status: PackStatus, dossier: AnyDossier) -> Finding:
    """A pack that is not in force is a finding of its own, so no run can pass silently."""
    return Finding(
        rule_id=f"{pack.id}.pack-not-in-force",
        pack=pack.id,
        article=status.article,
        severity="warn",
        share=False,
        title={"ja": "協力覚書の適用期間外", "en": "MOC not in force on the date evaluated"},
        message=status.detail,
        evidence={"/submitted": dossier.submitted.isoformat()},
    )


class Engine:
    """Evaluates dossiers against a loaded :class:`PackSet` and the registries its rules consult."""

    def __init__(
        self,
        packset: PackSet,
        registries: Registries | None = None,
        max_registry_age: int | None = DEFAULT_MAX_REGISTRY_AGE,
    ):
        self.packset = packset
        self.registries = registries or Registries.empty()
        self.max_registry_age = max_registry_age
        self._needs: dict[str, dict[str, tuple[ResolvedRule, ...]]] = {
            pack.id: {
                kind: tuple(r for r in pack.rules if kind in r.rule.registries)
                for kind in sorted({k for r in pack.rules for k in r.rule.registries})
            }
            for pack in packset.packs.values()
        }
        self._used: dict[str, list[PackUsed]] = {
            pack.id: [PackUsed(id=s.id, version=s.spec.pack.version, sha256=s.sha256) for s in pack.chain]
            for pack in packset.packs.values()
        }
        self._rules: dict[tuple[str, str], tuple[ResolvedRule, ...]] = {
            (pack.country, kind): pack.rules_for(kind)
            for pack in packset.packs.values()
            for kind in ("candidate", "broker")
        }

    def pack_for(self, dossier: AnyDossier, source: str) -> Pack:
        pack = self.packset.for_country(dossier.country)
        if pack is None:
            known = ", ".join(sorted(p.country for p in self.packset.packs.values()))
            raise InputError([Problem(source, f"no pack for country {dossier.country}; packs exist for {known}", kind="no_pack", pointer="/country")])
        return pack

    def evaluate(
        self,
        dossier: AnyDossier,
        as_of: date | None = None,
        source: str | None = None,
        timestamp: bool = True,
    ) -> Report:
        """Run every rule of the dossier's pack that applies to its kind."""
        pack = self.pack_for(dossier, source or dossier.dossier_id)
        as_of = as_of or dossier.submitted
        status = pack_status(pack, as_of)
        findings = [] if status.state == "in_force" else [_status_finding(pack, status, dossier)]
        used, warnings = self._registries_for(pack, as_of)
        findings.extend(warnings)
        env: Env = {ROOT: dossier, "$as_of": as_of, "$registries": self.registries.view(dossier.country, as_of)}
        for resolved in self._rules[(pack.country, dossier.kind)]:
            findings.extend(run_rule(resolved, env, pack.id))
        counts = {"block": 0, "warn": 0, "info": 0}
        for finding in findings:
            counts[finding.severity] += 1
        return Report(
            dossier_id=dossier.dossier_id,
            kind=dossier.kind,
            country=dossier.country,
            source=source,
            as_of=as_of,
            pack=pack.id,
            packs=self._used[pack.id],
            pack_status=status,
            registries=used,
            counts=counts,
            findings=findings,
            generated_at=datetime.now(timezone.utc).replace(microsecond=0) if timestamp else None,
        )


    def _registries_for(self, pack: Pack, as_of: date) -> tuple[list[RegistryUsed], list[Finding]]:
        """Record each registry the pack consults; warn when one is missing or older than allowed."""
        used, warnings = [], []
        for kind, rules in self._needs[pack.id].items():
            country = keeper(pack.country, kind)
            loaded = self.registries.get(pack.country, kind)
            if loaded is None:
                used.append(RegistryUsed(kind=kind, country=country, status="missing"))
                warnings.append(_registry_finding(pack, kind, country, rules, None))
                continue
            reg = loaded.registry
            age = (as_of - reg.retrieved_on).days
            stale = self.max_registry_age is not None and age > self.max_registry_age
            used.append(
                RegistryUsed(
                    kind=kind, country=country, status="stale" if stale else "ok", sha256=loaded.sha256,
                    retrieved_on=reg.retrieved_on, age_days=age, entries=len(reg.entries), sample=reg.sample,
                )
            )
            if stale:
                warnings.append(_registry_finding(pack, kind, country, rules, age))
        return used, warnings


def _registry_finding(pack: Pack, kind: str, country: str, rules: tuple[ResolvedRule, ...], age: int | None) -> Finding:
    """A registry that is missing or stale weakens the rules that consult it: say so, never pass silently."""
    ids = ", ".join(r.rule.id for r in rules)
    if age is None:
        rule_id = "registry.missing"
        message = {
            "ja": f"{country} の登録簿「{kind}」が読み込まれていないため、次の規則は照合できませんでした：{ids}",
            "en": f"The {country} registry '{kind}' is not loaded, so these rules could not consult it: {ids}",
        }
    else:
        rule_id = "registry.stale"
        message = {
            "ja": f"{country} の登録簿「{kind}」は評価日の {age} 日前に取得されたものです。最新の一覧で照合し直してください（対象規則：{ids}）。",
            "en": f"The {country} registry '{kind}' was retrieved {age} days before the date evaluated; re-check against a current list (rules: {ids}).",
        }
    return Finding(
        rule_id=rule_id,
        pack=pack.id,
        article=rules[0].article,
        also=sorted({a for r in rules for a in (r.article, *r.also)} - {rules[0].article}),
        severity="warn",
        share=False,
        title={"ja": "登録簿が利用できない、または古い", "en": "Registry missing or out of date"},
        message=message,
        evidence={},
    )


def run_rule(resolved: ResolvedRule, env: Env, pack_id: str) -> list[Finding]:
    """Evaluate one rule; a ``for_each`` rule yields one finding per matching item."""
    rule = resolved.rule
    if rule.for_each is None:
        return [make_finding(resolved, env, {ROOT: ""})] if rule.program(env) else []
    name = rule.spec.for_each.as_  # type: ignore[union-attr]
    base = rule.for_each.pointer({ROOT: ""})
    found = []
    for index, item in enumerate(rule.for_each.getter()(env) or ()):
        env[name] = item
        if rule.program(env):
            found.append(make_finding(resolved, env, {ROOT: "", name: f"{base}/{index}"}))
    return found


def make_finding(resolved: ResolvedRule, env: Env, bases: dict[str, str]) -> Finding:
    rule = resolved.rule
    spec = rule.spec
    evidence = {path.pointer(bases): json_value(path.getter()(env)) for path in rule.evidence}
    item = bases[spec.for_each.as_] if spec.for_each else None
    return Finding(
        rule_id=spec.id,
        pack=rule.pack_id,
        article=resolved.article,
        also=list(resolved.also),
        severity=spec.severity,
        share=spec.share is not None,
        act=spec.share.act if spec.share else None,
        title=spec.title,
        message={lang: template.render(env, lang) for lang, template in rule.messages.items()},  # type: ignore[arg-type]
        evidence=evidence,
        item=item,
        subject=_subject(rule, env),
    )


def _subject(rule: CompiledRule, env: Env) -> dict[str, Any] | None:
    """Who the finding is about: the rule's subject party, or the broker a broker rule examined."""
    if rule.subject is not None:
        party = rule.subject.getter()(env)
        return json_value(party) if party is not None else None
    dossier = env[ROOT]
    if isinstance(dossier, BrokerDossier):
        fields = {"id": dossier.dossier_id, "name": dossier.name, "role": dossier.role, "legal_form": dossier.legal_form, "country": dossier.based_in}
        return {k: v for k, v in fields.items() if v is not None}
    return None
