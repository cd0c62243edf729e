"""Alembic environment for ppaflow.

``db.migrate.upgrade`` passes an open connection in
``config.attributes["connection"]``; from the command line
(``alembic -c db/alembic.ini ...``) the URL comes from ``DATABASE_URL``.
"""

import os

from alembic import context
from sqlalchemy import create_engine

import db.models  # noqa: F401  (registers every table on the metadata)
from db import db as database
from db.urls import normalize_database_url

config = context.config
target_metadata = database.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = normalize_database_url(os.environ.get("DATABASE_URL", "sqlite:///instance/ppaflow.sqlite3"))
    engine = create_engine(url)
    with engine.begin() as conn:
        run_migrations(conn)
