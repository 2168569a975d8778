"""Screening summaries on indexed columns, reserved login attempts, token expiry, registry import history.

* ``screenings`` gains the outcome and the counts of findings by severity,
  filled here from each screening's log entry, so listings never decode
  stored reports; and indexes for each filter a listing offers.
* ``login_failures`` (one row per failure, per account and per address) is
  replaced by ``login_attempts`` (one row per password check, reserved
  before the check runs, per account and address). Failures of the last
  minutes are not carried over: limits start afresh after the upgrade.
* ``tokens`` gains an optional expiry; ``registry_imports`` is new.

Revision ID: 0002
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEVERITY_COLUMNS = {"block": "blocks", "warn": "warnings", "info": "infos"}


def _backfill() -> None:
    conn = op.get_bind()
    screenings = sa.table(
        "screenings",
        sa.column("id", sa.Text),
        sa.column("outcome", sa.Text),
        sa.column("blocks", sa.Integer),
        sa.column("warnings", sa.Integer),
        sa.column("infos", sa.Integer),
    )
    last = ""
    while True:
        batch = conn.execute(
            sa.text("SELECT s.id, l.body FROM screenings s JOIN log l ON l.seq = s.log_seq WHERE s.id > :last ORDER BY s.id LIMIT 200"), {"last": last}
        ).all()
        if not batch:
            return
        for sid, body in batch:
            report = json.loads(body).get("report") or {}
            counts = dict.fromkeys(SEVERITY_COLUMNS.values(), 0)
            for finding in report.get("findings") or ():
                column = SEVERITY_COLUMNS.get(finding.get("severity"))
                if column:
                    counts[column] += 1
            conn.execute(screenings.update().where(screenings.c.id == sid).values(outcome=report.get("outcome"), **counts))
        last = batch[-1][0]


def upgrade() -> None:
    op.add_column("screenings", sa.Column("outcome", sa.Text))
    for column in SEVERITY_COLUMNS.values():
        op.add_column("screenings", sa.Column(column, sa.Integer, nullable=False, server_default="0"))
    _backfill()
    op.create_index("screenings_by_seq", "screenings", ["log_seq"])
    op.create_index("screenings_by_actor", "screenings", ["actor", "log_seq"])
    op.create_index("screenings_by_country", "screenings", ["country", "log_seq"])
    op.create_index("screenings_by_outcome", "screenings", ["outcome", "log_seq"])
    op.create_index("screenings_by_dossier", "screenings", ["dossier_id"])
    op.drop_index("login_failures_by_key", "login_failures")
    op.drop_table("login_failures")
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("login_attempts_by_pair", "login_attempts", ["account", "address", "at"])
    op.create_index("login_attempts_by_address", "login_attempts", ["address", "at"])
    op.add_column("tokens", sa.Column("expires_at", sa.Text))
    op.create_table(
        "registry_imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("retrieved_on", sa.Text, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("imported_by", sa.Text, nullable=False),
        sa.Column("imported_at", sa.Text, nullable=False),
    )
    op.create_index("registry_imports_by_registry", "registry_imports", ["country", "kind", "imported_at"])


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before upgrading")
