"""The Alembic migrations build exactly the schema the models describe, and every one can be undone."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests.conftest import REPO, backend_database, make_app
from webapp.core.db import db

MIGRATIONS = str(REPO / "webapp" / "migrations")


def test_migrated_schema_matches_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_migration_downgrades_and_upgrades_again(backend, tmp_path):
    url, dispose = backend_database(backend, tmp_path)
    try:
        fresh = make_app(url, tmp_path)
        with fresh.app_context():
            upgrade(directory=MIGRATIONS)
            downgrade(directory=MIGRATIONS, revision="base")
            upgrade(directory=MIGRATIONS)
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection)
                assert context.get_current_revision() is not None
            db.session.remove()
            db.engine.dispose()
    finally:
        dispose()
