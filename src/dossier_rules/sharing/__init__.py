"""Information-sharing notices: findings to forward to the partner's contact point.

The MOCs exist so that both sides share, promptly, what stops abusive
intermediaries (art. 4(1)) and test fraud (KH 7; others 5). This module turns
the share-marked findings of reports into *notices*: one per partner
ministry and intermediary and act (test fraud: per test sitting), addressed from
and to the contact points of art. 2, carrying the confidentiality statement
of that MOC's art. 3.

Notices live in an outbox: a SQLite file of its own (``share``), or the
service's database (SQLite or PostgreSQL, through :mod:`dossier_rules.storage`).
Every change happens in one transaction per report, so a run that is killed leaves the outbox as it was
after the last whole report, and running it again completes the work: a
finding is stored once under a key made of its rule, dossier and evidence,
and notice ids are derived from their content, never from the clock.
Nothing leaves the outbox unless someone approved it.

Data minimisation: a notice names the intermediary fully; a candidate
appears only by dossier reference. Every field the model marks personal
(:data:`dossier_rules.model.PERSONAL`) is withheld from notices, in evidence
and in messages, unless the build was asked to include personal data; then
the identity is read back from the dossier and attached only if that
dossier is provably the one the report was made from (its content hash).

A report is trusted only as far as it can be checked: it must name the
packs loaded now (same hashes), and each finding must cite the article its
rule has in the pack of the report's country.

One job a module: :mod:`.model` (the notice), :mod:`.reports` (reading the
reports), :mod:`.compose` (keys, header, provenance and personal data of a
notice from a report), :mod:`.store` (the outbox), :mod:`.render` (the notice
in words). The names below are the package's API.
"""

from __future__ import annotations

from .compose import provenance_problem
from .model import Notice, State
from .render import markdown_text, render
from .store import BuildResult, HeldBack, NoticeFilter, Outbox, OutboxError, Recorder

__all__ = ["BuildResult", "HeldBack", "Notice", "NoticeFilter", "Outbox", "OutboxError", "Recorder", "State", "markdown_text", "provenance_problem", "render"]
