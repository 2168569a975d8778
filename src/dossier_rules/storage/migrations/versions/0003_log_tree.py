"""The screening log as a Merkle tree: subtree hashes and signed checkpoints.

* ``log_nodes`` holds the hash of every complete subtree (level 0: the
  leaves); a database upgraded from an earlier release has none, and the
  log gives every existing entry its leaf at the next append or checkpoint.
* ``log_checkpoints`` holds the checkpoints the service signed.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("note", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("log_checkpoints")
    op.drop_table("log_nodes")
