"""The migrations build exactly the schema the models describe (what `flask db check` checks)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


@pytest.mark.own_app
def test_migrations_match_models(workdir):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'migrations-only.sqlite3'}",
                        "INSTANCE_DIR": str(workdir), "MEDIA_DIR": str(workdir / "media")})
    with fresh.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations disagree; run `flask --app wsgi db migrate`: {diff}"
