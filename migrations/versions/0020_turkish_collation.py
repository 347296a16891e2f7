"""a "turkish" collation on PostgreSQL, so lists of names sort as Turkish readers expect

Customer, location and product names are sorted in SQL with `COLLATE turkish`
(services/text_search.py: `turkish_order`): C < Ç, G < Ğ, ı < i, I < İ, O < Ö, S < Ş, U < Ü.
PostgreSQL builds it from ICU's Turkish (`tr-TR`); a server built without ICU gets the C
library's `tr_TR` locale when it has one, else a copy of "C" so the app still runs (names then sort
by code point; docs/languages.md says how to check). SQLite has no stored collations: the app
registers the same order on every connection (app/__init__.py).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 02:20:00
"""
from alembic import op
from sqlalchemy import text

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    found = lambda sql: bind.execute(text(sql)).scalar() is not None  # noqa: E731
    if found("SELECT 1 FROM pg_collation WHERE collname = 'turkish'"):
        return
    if found("SELECT 1 FROM pg_collation WHERE collprovider = 'i' LIMIT 1"):
        op.execute("CREATE COLLATION turkish (provider = icu, locale = 'tr-TR')")
    elif found("SELECT 1 FROM pg_collation WHERE collname IN ('tr_TR.utf8', 'tr_TR.UTF-8')"):
        name = bind.execute(text("SELECT collname FROM pg_collation "
                                 "WHERE collname IN ('tr_TR.utf8', 'tr_TR.UTF-8') LIMIT 1")).scalar()
        op.execute(f'CREATE COLLATION turkish FROM "{name}"')
    else:
        op.execute('CREATE COLLATION turkish FROM "C"')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP COLLATION IF EXISTS turkish")
