"""Typed errors of the application: a code, its parameters, and where it happened.

Modelled on OPA's ``topdown.Error{Code, Message, Location}``: the core raises a
:class:`DossierError` with a stable ``code`` (``notice.not_found``) and the
values the message needs; it never writes words meant for one interface (no
command-line hints, no HTTP statuses, no server file paths). Each interface
decides what the code means to its user: the API maps codes to statuses in one
table (:mod:`dossier_rules.server.errors`), the command line to exit codes and
hints, the pages to a message on the page; all of them render the words with
:meth:`DossierError.message`, from the catalog, in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .locale import N_, language, translate
from .problems import Problem

MESSAGES: dict[str, str] = {
    "notice.not_found": N_("no notice {notice_id}"),
    "notice.not_draft": N_("notice {notice_id} is already {state}"),
    "notice.is_draft": N_("notice {notice_id} is a draft: approve it first"),
    "notice.no_pack": N_("notice {notice_id} is for {country}, which has no pack loaded: whether its MOC is in force cannot be checked"),
    "notice.not_in_force": N_("notice {notice_id} is not exported: MOC-{country} is not in force on {on} ({state}). {detail}"),
    "notice.approver_missing": N_("an approval needs the approver's name"),
    "notice.none_chosen": N_("choose at least one screening to draft notices from"),
    "notice.needs_reviewer": N_("these notices are in the service's database: name one of its reviewers, by user name, to change or preview them"),
    "notice.not_a_reviewer": N_("{name} is not a reviewer of the service whose database holds these notices: approve as one of its reviewers, by user name"),
    "framework.wrong_state": N_("notice {notice_id} is {state}: this change is allowed only when it is {allowed}"),
    "framework.reason_missing": N_("withdrawing notice {notice_id} needs a reason"),
    "framework.awaits_result": N_(
        "notice {notice_id} asks the partner for the result of its investigation: record the result before closing it, or withdraw it"
    ),
    "framework.answer_before_sent": N_("the partner's result for notice {notice_id} is dated {received_on}, before the notice was sent ({sent_on})"),
    "framework.bad_due": N_("{spec}: a due period is COUNTRY=DAYS, e.g. PH=60 (1 to 3650 days)"),
    "framework.refused": N_("the communication was refused and nothing was recorded: {count} problem(s)"),
    "framework.unknown_notice": N_("the communication answers notice {notice_id}, which does not exist"),
    "framework.other_partner": N_("the communication comes from {country}, but notice {notice_id} was for {notice_country}"),
    "framework.already_received": N_("communication {received_id} was recorded already"),
    "framework.nothing_to_withdraw": N_("{country} withdraws its report {reference} about {intermediary}, but no such report is current: nothing recorded"),
    "framework.not_an_open_inquiry": N_("{received_id} is not an inquiry awaiting Japan's reply"),
    "framework.reference_missing": N_("the reply to inquiry {received_id} needs the reference of Japan's answer"),
    "framework.no_dispatch": N_("no notice of Japan's own {dispatch_id}"),
    "framework.no_inquiry_article": N_("the MOC with {country} has no article on inquiries from Japan: no inquiry is drafted"),
    "framework.subject_missing": N_("an inquiry needs what it asks (at most {limit} characters)"),
    "framework.bad_period": N_("the period {start} to {end} is empty or longer than {days} days"),
    "screening.not_found": N_("no screening {screening_id}"),
    "screening.dossier_not_stored": N_("screening {screening_id} kept only the dossier's SHA-256 (dossiers are not stored): nothing to re-screen"),
    "rule.not_found": N_("unknown rule {rule_id}"),
    "rule.not_found_close": N_("unknown rule {rule_id}; did you mean {close}?"),
    "registry.unknown_kind": N_("unknown registry kind {kind}; kinds: {kinds}"),
    "registry.kept_by_japan": N_("the {kind} registry is kept by Japan (JP), not {country}"),
    "registry.kept_by_partner": N_("the {kind} registry is kept by each partner country's ministry, not by Japan (JP)"),
    "registry.unknown": N_("no pack for {country} has a rule that consults a {kind} list (the packs present consult {kind} lists kept by {keepers})"),
    "registry.not_consulted": N_("no pack for {country} has a rule that consults a {kind} list (no rule of the packs present consults {kind})"),
    "registry.sample": N_(
        "the registries installed with dossier-rules are fictional samples and are never overwritten; import into a registries directory of your own"
    ),
    "registry.not_utf8": N_("not UTF-8 text"),
    "registry.bad_rows": N_("{count} bad row(s); nothing written ({good} good)"),
    "storage.error": N_("{where}: the database cannot be used"),
    "storage.unavailable": N_("{where}: the database cannot be used now ({reason}); try again later"),
    "storage.driver_missing": N_("{where}: PostgreSQL needs the psycopg driver: pip install 'dossier-rules[server]'"),
    "storage.corrupt": N_("{where}: not a database of this service, or damaged"),
    "storage.needs_upgrade": N_("{where} has schema {revision}, this release needs {head}: run dossier-rules db upgrade"),
    "storage.too_new": N_("{where} was upgraded by a later release (schema {revision}; this release knows up to {head})"),
    "storage.conflict": N_("{where}: the change conflicts with stored data"),
}
"""Every code and its English text (the catalog's message id); placeholders are the error's parameters."""


class DossierError(Exception):
    """A refusal the application explains to its user: ``code``, ``params``, optional ``location`` and ``problems``.

    ``problems`` are the located details a refusal can carry (each bad row of a
    registry CSV); ``str(error)`` is the message in the current language.
    """

    def __init__(self, code: str, location: str | None = None, problems: list[Problem] | None = None, **params: Any) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(code)
        self.code = code
        self.params: dict[str, Any] = params
        self.location = location
        self.problems = problems or []

    def message(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default: the current language); localized parameters ({"en", "ja"}) follow it."""
        return render(MESSAGES[self.code], self.params, lang)

    def __str__(self) -> str:
        return self.message()


def render(template: str, params: Mapping[str, Any], lang: str | None = None) -> str:
    """``template`` from the catalog in ``lang``, with ``params`` filled in; a {"en", "ja"} parameter in that language too."""
    chosen = lang or language()
    values = {key: _localized(value, chosen) for key, value in params.items()}
    return translate(template, chosen).format(**values)


def _localized(value: Any, lang: str) -> Any:
    if isinstance(value, Mapping) and "en" in value:
        return value.get(lang) or value["en"]
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value
