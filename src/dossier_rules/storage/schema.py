"""The service database's tables, as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

Times are ISO 8601 text in UTC (as the first release stored them), so they
sort and compare the same on both engines and read back unchanged. The
migrations under ``migrations/versions`` build exactly this schema; a test
compares the two.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, Table, Text, UniqueConstraint

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("role", Text, CheckConstraint("role IN ('screener', 'reviewer', 'admin')"), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("lang", Text, CheckConstraint("lang IN ('ja', 'en')"), nullable=False, server_default="ja"),
    Column("created_at", Text, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("secret_hash", Text, nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
    Column("last_used", Text),
    Column("revoked_at", Text),
    Column("expires_at", Text),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", Text, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("failed", Integer, nullable=False, server_default="1"),
    Index("login_attempts_by_pair", "account", "address", "at"),
    Index("login_attempts_by_address", "address", "at"),
)
"""Each row is one password check reserved before it runs; it stays as a failure unless the password was right."""

log = Table(
    "log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)

log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", Text, nullable=False),
)

log_nodes = Table(
    "log_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)
"""Hashes of the complete subtrees of the log's Merkle tree (level 0: the leaves), so a proof takes few reads."""

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", Integer, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
)
"""Every checkpoint the service signed (a signed note), by tree size."""

screenings = Table(
    "screenings",
    metadata,
    Column("id", Text, primary_key=True),
    Column("log_seq", Integer, ForeignKey("log.seq"), nullable=False),
    Column("actor", Text, nullable=False),
    Column("screened_at", Text, nullable=False),
    Column("dossier_id", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("as_of", Text, nullable=False),
    Column("submitted", Text),
    Column("rescreen_of", Text),
    Column("outcome", Text),
    Column("blocks", Integer, nullable=False, server_default="0"),
    Column("warnings", Integer, nullable=False, server_default="0"),
    Column("infos", Integer, nullable=False, server_default="0"),
    Index("screenings_by_time", "screened_at", "id"),
    Index("screenings_by_seq", "log_seq"),
    Index("screenings_by_actor", "actor", "log_seq"),
    Index("screenings_by_country", "country", "log_seq"),
    Index("screenings_by_outcome", "outcome", "log_seq"),
    Index("screenings_by_dossier", "dossier_id"),
)
"""One row per stored screening: the columns a listing filters and shows, the full record is the log entry."""

notices = Table(
    "notices",
    metadata,
    Column("id", Text, primary_key=True),
    Column("group_key", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("country", Text, nullable=False),
    Column("act", Text, nullable=False),
    Column("header", Text, nullable=False),
    Column("state", Text, CheckConstraint("state IN ('draft', 'approved', 'exported')"), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("approved_by", Text),
    Column("approved_at", Text),
    Column("exported_at", Text),
    UniqueConstraint("group_key", "seq"),
)

items = Table(
    "items",
    metadata,
    Column("finding_key", Text, primary_key=True),
    Column("notice_id", Text, ForeignKey("notices.id"), nullable=False),
    Column("dossier_id", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("added_at", Text, nullable=False),
    Index("items_by_notice", "notice_id", "dossier_id"),
)

registry_imports = Table(
    "registry_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("country", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("retrieved_on", Text, nullable=False),
    Column("entries", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("imported_by", Text, nullable=False),
    Column("imported_at", Text, nullable=False),
    Index("registry_imports_by_registry", "country", "kind", "imported_at"),
)
"""Who imported which registry list, from where, when, and the hash of what was imported."""

notice_life = Table(
    "notice_life",
    metadata,
    Column("notice_id", Text, ForeignKey("notices.id"), primary_key=True),
    Column("state", Text, CheckConstraint("state IN ('sent', 'answered', 'closed', 'withdrawn')"), nullable=False),
    Column("sent_at", Text),
    Column("sent_how", Text),
    Column("answer", Text),
    Column("answered_at", Text),
    Column("closed_at", Text),
    Column("withdrawn_at", Text),
    Column("reason", Text),
    Index("notice_life_by_state", "state"),
)
"""A notice's life after approval: sent (and how), the partner's answer (JSON), closed or withdrawn (and why)."""

notice_events = Table(
    "notice_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("notice_id", Text, ForeignKey("notices.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("body", Text, nullable=False),
    Index("notice_events_by_notice", "notice_id", "id"),
)
"""Every change of a notice after approval, by whom and when: its history, also in a stand-alone outbox (no log)."""

inbox = Table(
    "inbox",
    metadata,
    Column("id", Text, primary_key=True),
    Column("country", Text, nullable=False),
    Column(
        "kind",
        Text,
        CheckConstraint("kind IN ('revocation', 'accreditation', 'result', 'inquiry', 'intermediary_report', 'report_withdrawal')"),
        nullable=False,
    ),
    Column("dated", Text, nullable=False),
    Column("received_on", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("notice_id", Text, ForeignKey("notices.id")),
    Column("body", Text, nullable=False),
    Column("personal", Text),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("due_on", Text),
    Column("answered_at", Text),
    Column("answered_by", Text),
    Column("answer_reference", Text),
    Index("inbox_by_country", "country", "received_on"),
)
"""Communications received from a partner, as received (``body``); personal data (art. 3) apart, in ``personal``."""

dispatches = Table(
    "dispatches",
    metadata,
    Column("id", Text, primary_key=True),
    Column("country", Text, nullable=False),
    Column("kind", Text, CheckConstraint("kind IN ('improvement_orders', 'inquiry')"), nullable=False),
    Column("provision", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", Text, CheckConstraint("state IN ('draft', 'approved', 'sent', 'answered', 'closed', 'withdrawn')"), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("approved_by", Text),
    Column("approved_at", Text),
    Column("sent_at", Text),
    Column("sent_how", Text),
    Column("due_days", Integer),
    Column("answer", Text),
    Column("answered_at", Text),
    Column("ended_at", Text),
    Column("reason", Text),
    Index("dispatches_by_country", "country", "state"),
)
"""What Japan sends on its own: notices of improvement orders (KH 6(4); LA/KG/TJ 6(3)) and inquiries (KH 5(7); LA/KG/TJ 7(6))."""
