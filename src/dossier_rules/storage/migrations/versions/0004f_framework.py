"""The information-sharing framework: a notice's life after approval, its history, and the inbox.

* ``notice_life``: sent (and how), the partner's answer, closed or withdrawn.
* ``notice_events``: every change after approval, by whom and when.
* ``inbox``: communications received from a partner (inquiries with their due date and answer).
* ``dispatches``: what Japan sends on its own (improvement orders, inquiries), with their life.

Revision ID: 0004f
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004f"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_life",
        sa.Column("notice_id", sa.Text, sa.ForeignKey("notices.id"), primary_key=True),
        sa.Column("state", sa.Text, sa.CheckConstraint("state IN ('sent', 'answered', 'closed', 'withdrawn')"), nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.Column("sent_how", sa.Text),
        sa.Column("answer", sa.Text),
        sa.Column("answered_at", sa.Text),
        sa.Column("closed_at", sa.Text),
        sa.Column("withdrawn_at", sa.Text),
        sa.Column("reason", sa.Text),
    )
    op.create_index("notice_life_by_state", "notice_life", ["state"])
    op.create_table(
        "notice_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notice_id", sa.Text, sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("notice_events_by_notice", "notice_events", ["notice_id", "id"])
    op.create_table(
        "inbox",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column(
            "kind",
            sa.Text,
            sa.CheckConstraint("kind IN ('revocation', 'accreditation', 'result', 'inquiry', 'intermediary_report', 'report_withdrawal')"),
            nullable=False,
        ),
        sa.Column("dated", sa.Text, nullable=False),
        sa.Column("received_on", sa.Text, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("notice_id", sa.Text, sa.ForeignKey("notices.id")),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("personal", sa.Text),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.Column("due_on", sa.Text),
        sa.Column("answered_at", sa.Text),
        sa.Column("answered_by", sa.Text),
        sa.Column("answer_reference", sa.Text),
    )
    op.create_index("inbox_by_country", "inbox", ["country", "received_on"])
    op.create_table(
        "dispatches",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, sa.CheckConstraint("kind IN ('improvement_orders', 'inquiry')"), nullable=False),
        sa.Column("provision", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.Text, sa.CheckConstraint("state IN ('draft', 'approved', 'sent', 'answered', 'closed', 'withdrawn')"), nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", sa.Text),
        sa.Column("sent_at", sa.Text),
        sa.Column("sent_how", sa.Text),
        sa.Column("due_days", sa.Integer),
        sa.Column("answer", sa.Text),
        sa.Column("answered_at", sa.Text),
        sa.Column("ended_at", sa.Text),
        sa.Column("reason", sa.Text),
    )
    op.create_index("dispatches_by_country", "dispatches", ["country", "state"])


def downgrade() -> None:
    op.drop_table("dispatches")
    op.drop_table("inbox")
    op.drop_table("notice_events")
    op.drop_table("notice_life")
