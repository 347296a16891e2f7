import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy.engine import make_url

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)  # keep the app's loggers alive
logger = logging.getLogger('alembic.env')


def get_engine():
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions['migrate'].db.engine
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )
    # SQLite, as online (run_migrations_online): foreign keys off while the steps run, so a batch
    # table rebuild's DROP TABLE neither deletes the rows pointing at the table (ON DELETE
    # CASCADE) nor fails; before they go back on, the script lists any row the steps left
    # pointing nowhere (the sqlite3 shell prints foreign_key_check's rows). Written outside the
    # steps' transaction: the pragma does nothing inside one.
    sqlite = make_url(url).get_backend_name() == "sqlite"
    if sqlite:
        context.execute("PRAGMA foreign_keys=OFF")

    with context.begin_transaction():
        context.run_migrations()

    if sqlite:
        context.execute("PRAGMA foreign_key_check")
        context.execute("PRAGMA foreign_keys=ON")


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = dict(current_app.extensions['migrate'].configure_args)  # a copy: callbacks added below once
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite: batch mode rebuilds a table to drop or alter a column (copy, DROP TABLE,
            # rename). With foreign keys on (app/__init__.py turns them on for every connection),
            # that DROP TABLE deletes the rows that point at the table (ON DELETE CASCADE) or
            # fails (NO ACTION). So they are off while migrations run, and each migration checks
            # the references itself before the run commits (see _ForeignKeyCheck).
            _sqlite_foreign_keys(connection, False)
            # Rows that pointed nowhere before this run (a row deleted in the sqlite3 shell, where
            # foreign keys are off by default) are not a migration's doing: said once, not fatal.
            known = _pointing_nowhere(connection.connection.driver_connection)
            if known:
                logger.warning("%d rows already pointed at rows that are not there before migrating "
                               "(pre-existing; the migrations run, and fail only on rows they break "
                               "themselves): %s", len(known), _named(known))
            conf_args["on_version_apply"] = [*_as_list(conf_args.get("on_version_apply")),
                                             _ForeignKeyCheck(known)]
        try:
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                **conf_args
            )

            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                if connection.in_transaction():
                    connection.rollback()  # what closing the connection would do
                _sqlite_foreign_keys(connection, True)  # it goes back to the pool as it came


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _sqlite_foreign_keys(connection, on):
    # `PRAGMA foreign_keys` does nothing inside a transaction, and SQLAlchemy would open one
    # before any statement of its own (app/__init__.py's BEGIN): say it on the driver's
    # connection, which is in autocommit mode between transactions (isolation_level None).
    if connection.in_transaction():
        raise RuntimeError("PRAGMA foreign_keys must be set outside a transaction")
    driver = connection.connection.driver_connection
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0] != int(on):
        raise RuntimeError(f"SQLite did not turn foreign keys {'on' if on else 'off'}")


def _pointing_nowhere(connection) -> set[tuple]:
    """`PRAGMA foreign_key_check` as a set of (table, rowid, parent, referencing columns).
    `connection` is the driver's (no transaction opened) or SQLAlchemy's (the migration's own).
    The foreign key is named by its columns, not by the check's fkid: the number is the key's
    place in the table's list, which a batch rebuild of the table may change."""
    execute = getattr(connection, "exec_driver_sql", None) or connection.execute
    found, keys = set(), {}
    for table, rowid, parent, fkid in execute("PRAGMA foreign_key_check").fetchall():
        if table not in keys:
            columns = {}
            for key, _seq, _parent, column, *_ in execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
                columns.setdefault(key, []).append(column)
            keys[table] = {key: ",".join(names) for key, names in columns.items()}
        found.add((table, rowid, parent, keys[table].get(fkid, str(fkid))))
    return found


def _named(rows: set[tuple]) -> str:
    shown = sorted(rows, key=lambda r: (r[0], r[1] if r[1] is not None else -1, r[3]))[:10]
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return ", ".join(f"{table} row {rowid} ({columns}) -> {parent}" for table, rowid, parent, columns in shown) + more


class _ForeignKeyCheck:
    """In each SQLite migration's transaction, after the step and before the run commits: no
    row may point at a row that is not there unless it already did before the step (foreign
    keys are off while migrations run). A migration that broke one fails the run, which is
    rolled back whole, with the rows named."""

    def __init__(self, known: set[tuple]):
        self.known = known  # before the next step

    def __call__(self, ctx, step, heads, run_args):
        now = _pointing_nowhere(ctx.connection)
        broken = now - self.known
        if broken:
            where = f"{'up to' if step.is_upgrade else 'down from'} {step.up_revision_id}"
            raise RuntimeError(f"migration {where} would leave {len(broken)} rows pointing at rows "
                               f"that are not there: {_named(broken)}")
        self.known = now  # the next step is judged against this one's outcome


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
