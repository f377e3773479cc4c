"""Alembic, run per service against that service's own database. Migrations run with a
synchronous driver (psycopg and sqlite3 serve both modes), so they can run from a
prestart command, a test fixture or the service's own CLI alike."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import make_url


def sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        db_path = make_url(database_url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(migrations_dir, database_url), "head")


def run_env(context) -> None:  # type: ignore[no-untyped-def]
    """Body of every service's migrations/env.py (online mode only)."""
    connectable = engine_from_config(
        context.config.get_section(context.config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


# The outbox and inbox tables as the shared mixins define them, for services'
# first migrations. A later change to a mixin needs a migration of its own.


def create_outbox_table() -> None:
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.Column("published_at", sa.DateTime(timezone=True), index=True),
    )


def create_inbox_table() -> None:
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def create_unpublished_outbox_index() -> None:
    """A partial index on the rows still to publish: the relay's claim then reads a few
    index entries instead of sorting every unpublished row of a large backlog."""
    import sqlalchemy as sa
    from alembic import op

    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["seq"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )


def leave_room_for_outbox_claims() -> None:
    """Half of each outbox page left free (PostgreSQL's fillfactor): the relay's claim
    then writes the row's new version on the same page as a heap-only update, without
    an entry in each of the table's four indexes, several times cheaper. The rows are
    deleted once published, so the space is reused. SQLite has no such setting."""
    from alembic import op

    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox SET (fillfactor = 50)")


def drop_outbox_published_index() -> None:
    """The relay deletes a row once Kafka acknowledged it, so ``published_at`` is never set:
    its index only cost a write for every event staged."""
    from alembic import op

    op.drop_index("ix_outbox_published_at", table_name="outbox")


def notify_relay_of_outbox_rows() -> None:
    """A statement that adds outbox rows also sends a notification on the database's
    ``hub_outbox`` channel (one per transaction, on commit: PostgreSQL folds repeats), so a
    relay listening there claims at once instead of asking every tenth of a second.
    SQLite has no notifications; its relay keeps polling."""
    from hub_shared.outbox import NOTIFY_CHANNEL

    notify_on_insert("outbox", NOTIFY_CHANNEL)


def stop_notifying_relay() -> None:
    stop_notifying_on_insert("outbox")


def notify_on_insert(table: str, channel: str) -> None:
    """Where the store is PostgreSQL, a statement that adds rows to ``table`` notifies
    ``channel`` on commit (``hub_shared.wakeup``); SQLite has no notifications."""
    from alembic import op

    from hub_shared import wakeup

    if op.get_bind().dialect.name == "postgresql":
        for statement in wakeup.trigger_statements(table, channel):
            op.execute(statement)


def stop_notifying_on_insert(table: str) -> None:
    from alembic import op

    from hub_shared import wakeup

    if op.get_bind().dialect.name == "postgresql":
        for statement in wakeup.drop_trigger_statements(table):
            op.execute(statement)
