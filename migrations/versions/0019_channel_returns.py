"""channel returns: returns carry the channel's own return/refund id; the inbox links the return
it made and takes the outcomes `returned` and `failed`; a channel push may be a `refund` of a
return instead of a package's status (issue 19)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 02:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OLD_OUTCOMES = "('pending', 'imported', 'updated', 'duplicate', 'needs_attention', 'ignored')"
NEW_OUTCOMES = "('pending', 'imported', 'updated', 'duplicate', 'needs_attention', 'ignored', 'returned', 'failed')"
OLD_KINDS = "('shipped', 'delivered', 'refused', 'cancelled')"
NEW_KINDS = "('shipped', 'delivered', 'refused', 'cancelled', 'refund')"


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_ref", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint("uq_returns_order_id_channel_ref", ["order_id", "channel_ref"])
    with op.batch_alter_table("channel_inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_channel_inbox_return_id_returns", "returns", ["return_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.drop_constraint("ck_channel_inbox_outcome", type_="check")
        batch_op.create_check_constraint("ck_channel_inbox_outcome", f"outcome IN {NEW_OUTCOMES}")
    with op.batch_alter_table("channel_pushes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_channel_pushes_return_id_returns", "returns", ["return_id"], ["id"],
                                    ondelete="CASCADE")
        batch_op.alter_column("package_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint("uq_channel_pushes_return_kind", ["return_id", "kind"])
        batch_op.drop_constraint("ck_channel_pushes_kind", type_="check")
        batch_op.create_check_constraint("ck_channel_pushes_kind", f"kind IN {NEW_KINDS}")


def downgrade() -> None:
    op.execute("DELETE FROM channel_pushes WHERE kind = 'refund'")
    op.execute("UPDATE channel_inbox SET outcome = 'needs_attention' WHERE outcome IN ('returned', 'failed')")
    with op.batch_alter_table("channel_pushes", schema=None) as batch_op:
        batch_op.drop_constraint("ck_channel_pushes_kind", type_="check")
        batch_op.create_check_constraint("ck_channel_pushes_kind", f"kind IN {OLD_KINDS}")
        batch_op.drop_constraint("uq_channel_pushes_return_kind", type_="unique")
        batch_op.alter_column("package_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("fk_channel_pushes_return_id_returns", type_="foreignkey")
        batch_op.drop_column("return_id")
    with op.batch_alter_table("channel_inbox", schema=None) as batch_op:
        batch_op.drop_constraint("ck_channel_inbox_outcome", type_="check")
        batch_op.create_check_constraint("ck_channel_inbox_outcome", f"outcome IN {OLD_OUTCOMES}")
        batch_op.drop_constraint("fk_channel_inbox_return_id_returns", type_="foreignkey")
        batch_op.drop_column("return_id")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_constraint("uq_returns_order_id_channel_ref", type_="unique")
        batch_op.drop_column("channel_ref")
