"""The models and the migrations describe the same schema, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import evalplatform.models  # noqa: F401


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrations_are_at_a_single_head():
    from alembic.script import ScriptDirectory

    from evalplatform.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


def test_users_there_before_the_password_reset_migration_need_not_change_their_password(
        tmp_path):
    """0013 adds app_user.must_change_password: the accounts already there keep working (the
    column is false for them), and the step goes back down cleanly."""
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from evalplatform.db import make_engine
    from evalplatform.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'before.db'}"
    upgrade(url, "0012")
    engine = make_engine(url)  # the application's engine: SQLite's foreign keys enforced
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO app_user (username, display_name, role, active, password_hash, "
            "session_epoch, created_at) VALUES ('old', '老用户', 'finance', 1, 'x', 0, "
            "'2026-01-01 00:00:00')"))
        # a row that names the user, as a live database has many: the step must keep it
        connection.execute(text(
            "INSERT INTO expert (name, employer, title, phone, email, specialities, active, "
            "note, created_by, created_at) SELECT '专家', '', '', '', '', '[]', 1, '', id, "
            "'2026-01-01 00:00:00' FROM app_user WHERE username = 'old'"))
    upgrade(url)
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT must_change_password FROM app_user WHERE username = 'old'")).scalar() == 0
        assert connection.execute(text(
            "SELECT count(*) FROM expert JOIN app_user ON app_user.id = expert.created_by"
        )).scalar() == 1
    command.downgrade(alembic_config(url), "0012")
    columns = {c["name"] for c in inspect(create_engine(url)).get_columns("app_user")}
    assert "must_change_password" not in columns and "session_epoch" in columns
    engine.dispose()
