"""The schema of release 0.1 (accounts, sessions, login failures, the screening log, screenings, notices).

Release 0.1 created these tables itself, without a version table; such a
database is stamped with this revision and upgraded from it.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, sa.CheckConstraint("role IN ('screener', 'reviewer', 'admin')"), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lang", sa.Text, sa.CheckConstraint("lang IN ('ja', 'en')"), nullable=False, server_default="ja"),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("last_used", sa.Text),
        sa.Column("revoked_at", sa.Text),
    )
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("csrf", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
    )
    op.create_table("login_failures", sa.Column("key", sa.Text, nullable=False), sa.Column("at", sa.Float, nullable=False))
    op.create_index("login_failures_by_key", "login_failures", ["key", "at"])
    op.create_table(
        "log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.create_table(
        "screenings",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("log_seq", sa.Integer, sa.ForeignKey("log.seq"), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("screened_at", sa.Text, nullable=False),
        sa.Column("dossier_id", sa.Text, nullable=False),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("as_of", sa.Text, nullable=False),
        sa.Column("submitted", sa.Text),
        sa.Column("rescreen_of", sa.Text),
    )
    op.create_index("screenings_by_time", "screenings", ["screened_at", "id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("group_key", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("act", sa.Text, nullable=False),
        sa.Column("header", sa.Text, nullable=False),
        sa.Column("state", sa.Text, sa.CheckConstraint("state IN ('draft', 'approved', 'exported')"), nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", sa.Text),
        sa.Column("exported_at", sa.Text),
        sa.UniqueConstraint("group_key", "seq"),
    )
    op.create_table(
        "items",
        sa.Column("finding_key", sa.Text, primary_key=True),
        sa.Column("notice_id", sa.Text, sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("dossier_id", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("added_at", sa.Text, nullable=False),
    )
    op.create_index("items_by_notice", "items", ["notice_id", "dossier_id"])


def downgrade() -> None:
    for table in ("items", "notices", "screenings", "log_head", "log", "login_failures", "sessions", "tokens", "users"):
        op.drop_table(table)
