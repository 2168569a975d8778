"""Alembic's environment: migrations run on the connection (and inside the transaction) the caller opened."""

from alembic import context

from dossier_rules.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
