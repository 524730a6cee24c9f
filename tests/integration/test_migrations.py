"""The schema is made by the migrations only, and they must say exactly what the models say."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from contest.extensions import db


def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"the models and the migrations differ; write a migration: {differences}"


def test_the_migrations_go_down_and_up_again(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}")
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        tables = set(db.inspect(db.engine).get_table_names())
        assert {"user", "department", "department_member", "audit_event"} <= tables
