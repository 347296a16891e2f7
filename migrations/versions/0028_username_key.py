"""usernames are the same whatever their capitals: users.username_key, unique

"Ayse" and "ayse" were two accounts (or none, for a person who typed the other one). The new
`username_key` holds the name as sign-in compares it (`models.users.username_key`: NFKC, the
Turkish dotted and dotless I as one letter, case folded) under a unique constraint, so a second
account whose name differs only by capitals cannot be made, on SQLite and PostgreSQL alike.

Existing users whose names differ only by capitals stop the upgrade before anything changes,
naming them: which of them is the real account is the brand's decision (rename or remove the
other, then upgrade again; docs/decisions.md).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 15:30:00
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_I = str.maketrans({"İ": "i", "I": "i", "ı": "i", "\u0307": None})


def username_key(name: str) -> str:
    """models.users.username_key as it was at this revision (a migration must not change later)."""
    return unicodedata.normalize("NFKC", (name or "").strip()).translate(_I).casefold()


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, username FROM users ORDER BY id")).all()
    keys: dict[str, list[str]] = {}
    for _id, name in rows:
        keys.setdefault(username_key(name)[:100], []).append(name)
    clashes = [names for names in keys.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(", ".join(repr(n) for n in names) for names in clashes)
        raise RuntimeError(
            "These users' names differ only by capital letters, and sign-in now treats them as one "
            f"name: {listed}. Rename or remove all but one of each group (UPDATE users SET username = "
            "'...' WHERE id = ...), then run the upgrade again. Nothing was changed.")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(length=100), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username_key", sa.String))
    for user_id, name in rows:
        bind.execute(users.update().where(users.c.id == user_id).values(username_key=username_key(name)[:100]))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(length=100), nullable=False)
        batch.create_unique_constraint(batch.f("uq_users_username_key"), ["username_key"])
    # Failed sign-ins are counted per key from now on; older rows (kept a day) keep their typed name.


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(batch.f("uq_users_username_key"), type_="unique")
        batch.drop_column("username_key")
