"""The schema is made by Alembic alone, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Engine, inspect, select

from madoguchi.migrations import config
from madoguchi.models import Base, ProcedureVersion


def test_there_is_exactly_one_migration_head() -> None:
    heads = ScriptDirectory.from_config(config()).get_heads()
    assert len(heads) == 1


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_model_table_exists(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_publish_records_each_procedure_once(app: Flask, published: None) -> None:
    from madoguchi import db
    from madoguchi.catalogue import catalogue

    with app.app_context():
        rows = db.session().scalars(select(ProcedureVersion)).all()
        assert len(rows) >= 6
        _, again = catalogue().publish(db.session(), by="test")
        assert again == [], "publishing unchanged files records nothing new"
