"""inbound (SPEC §14, issue 19): suppliers, purchase orders with lines and receipts, reorder
points, requisitions, supplier quotes and inbound shipments (containers / ASNs)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('suppliers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=500), nullable=True),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('lead_time_days >= 0', name=op.f('ck_suppliers_lead_time_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('code', name=op.f('uq_suppliers_code'))
    )
    op.create_table('inbound_shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('destination_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=200), nullable=True),
    sa.Column('container_number', sa.String(length=100), nullable=True),
    sa.Column('tracking_number', sa.String(length=100), nullable=True),
    sa.Column('eta', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("status IN ('booked', 'departed', 'arrived', 'delivered', 'cancelled')", name=op.f('ck_inbound_shipments_status')),
    sa.ForeignKeyConstraint(['destination_id'], ['stock_locations.id'], name=op.f('fk_inbound_shipments_destination_id_stock_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_shipments')),
    sa.UniqueConstraint('number', name=op.f('uq_inbound_shipments_number'))
    )
    with op.batch_alter_table('inbound_shipments', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_shipments_destination_status', ['destination_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_shipments_eta'), ['eta'], unique=False)

    op.create_table('purchase_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('destination_id', sa.Integer(), nullable=False),
    sa.Column('expected_at', sa.DateTime(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('close_reason', sa.String(length=500), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'sent', 'confirmed', 'in_transit', 'partially_received', 'received', 'closed', 'cancelled')", name=op.f('ck_purchase_orders_state')),
    sa.ForeignKeyConstraint(['destination_id'], ['stock_locations.id'], name=op.f('fk_purchase_orders_destination_id_stock_locations')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_purchase_orders_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_orders_number'))
    )
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_orders_destination_state', ['destination_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('reorder_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('reorder_point', sa.Integer(), nullable=False),
    sa.Column('reorder_quantity', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('reorder_point >= 0', name=op.f('ck_reorder_points_reorder_point_non_negative')),
    sa.CheckConstraint('reorder_quantity > 0', name=op.f('ck_reorder_points_reorder_quantity_positive')),
    sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name=op.f('fk_reorder_points_location_id_stock_locations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_reorder_points_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_reorder_points_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reorder_points')),
    sa.UniqueConstraint('location_id', 'product_id', name='uq_reorder_point_location_product')
    )
    with op.batch_alter_table('reorder_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reorder_points_product_id'), ['product_id'], unique=False)

    op.create_table('requisitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'quoted', 'ordered', 'dismissed')", name=op.f('ck_requisitions_state')),
    sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name=op.f('fk_requisitions_location_id_stock_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requisitions')),
    sa.UniqueConstraint('number', name=op.f('uq_requisitions_number'))
    )
    with op.batch_alter_table('requisitions', schema=None) as batch_op:
        batch_op.create_index('ix_requisitions_location_state', ['location_id', 'state'], unique=False)

    op.create_table('purchase_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), server_default='0', nullable=False),
    sa.Column('damaged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.CheckConstraint('damaged >= 0 AND damaged <= received', name=op.f('ck_purchase_order_lines_damaged_within_received')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchase_order_lines_quantity_positive')),
    sa.CheckConstraint('received >= 0', name=op.f('ck_purchase_order_lines_received_non_negative')),
    sa.CheckConstraint('unit_cost IS NULL OR unit_cost >= 0', name=op.f('ck_purchase_order_lines_unit_cost_non_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_purchase_order_lines_product_id_products')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_lines_purchase_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines')),
    sa.UniqueConstraint('purchase_order_id', 'product_id', name='uq_purchase_order_line_product')
    )
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('purchase_order_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('receipt_key', sa.String(length=100), nullable=False),
    sa.Column('inbound_shipment_id', sa.Integer(), nullable=True),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['inbound_shipment_id'], ['inbound_shipments.id'], name=op.f('fk_purchase_order_receipts_inbound_shipment_id_inbound_shipments')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_receipts_purchase_order_id_purchase_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_receipts')),
    sa.UniqueConstraint('purchase_order_id', 'receipt_key', name='uq_purchase_order_receipt_key')
    )
    with op.batch_alter_table('purchase_order_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_receipts_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('requisition_id', sa.Integer(), nullable=True),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'accepted', 'rejected')", name=op.f('ck_quotes_state')),
    sa.CheckConstraint('lead_time_days >= 0', name=op.f('ck_quotes_lead_time_non_negative')),
    sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name=op.f('fk_quotes_location_id_stock_locations')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name=op.f('fk_quotes_purchase_order_id_purchase_orders')),
    sa.ForeignKeyConstraint(['requisition_id'], ['requisitions.id'], name=op.f('fk_quotes_requisition_id_requisitions')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_quotes_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
    sa.UniqueConstraint('number', name=op.f('uq_quotes_number'))
    )
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_requisition_id'), ['requisition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('requisition_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requisition_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("reason IN ('reorder_point', 'out_of_stock', 'manual')", name=op.f('ck_requisition_lines_reason')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_requisition_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_requisition_lines_product_id_products')),
    sa.ForeignKeyConstraint(['requisition_id'], ['requisitions.id'], name=op.f('fk_requisition_lines_requisition_id_requisitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_requisition_lines_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requisition_lines')),
    sa.UniqueConstraint('requisition_id', 'product_id', name='uq_requisition_line_product')
    )
    with op.batch_alter_table('requisition_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requisition_lines_requisition_id'), ['requisition_id'], unique=False)

    op.create_table('inbound_shipment_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_inbound_shipment_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_lines.id'], name=op.f('fk_inbound_shipment_lines_purchase_order_line_id_purchase_order_lines')),
    sa.ForeignKeyConstraint(['shipment_id'], ['inbound_shipments.id'], name=op.f('fk_inbound_shipment_lines_shipment_id_inbound_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_shipment_lines')),
    sa.UniqueConstraint('shipment_id', 'purchase_order_line_id', name='uq_inbound_shipment_line')
    )
    with op.batch_alter_table('inbound_shipment_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_shipment_lines_purchase_order_line_id'), ['purchase_order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_shipment_lines_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('quote_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_quote_lines_quantity_positive')),
    sa.CheckConstraint('unit_price IS NULL OR unit_price >= 0', name=op.f('ck_quote_lines_unit_price_non_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_quote_lines_product_id_products')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_lines_quote_id_quotes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_lines')),
    sa.UniqueConstraint('quote_id', 'product_id', name='uq_quote_line_product')
    )
    with op.batch_alter_table('quote_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_lines_quote_id'), ['quote_id'], unique=False)




def downgrade():
    with op.batch_alter_table('quote_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_lines_quote_id'))

    op.drop_table('quote_lines')
    with op.batch_alter_table('inbound_shipment_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_shipment_lines_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_shipment_lines_purchase_order_line_id'))

    op.drop_table('inbound_shipment_lines')
    with op.batch_alter_table('requisition_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requisition_lines_requisition_id'))

    op.drop_table('requisition_lines')
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quotes_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_quotes_requisition_id'))

    op.drop_table('quotes')
    with op.batch_alter_table('purchase_order_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_receipts_purchase_order_id'))

    op.drop_table('purchase_order_receipts')
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_purchase_order_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_product_id'))

    op.drop_table('purchase_order_lines')
    with op.batch_alter_table('requisitions', schema=None) as batch_op:
        batch_op.drop_index('ix_requisitions_location_state')

    op.drop_table('requisitions')
    with op.batch_alter_table('reorder_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reorder_points_product_id'))

    op.drop_table('reorder_points')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_orders_supplier_id'))
        batch_op.drop_index('ix_purchase_orders_destination_state')

    op.drop_table('purchase_orders')
    with op.batch_alter_table('inbound_shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_shipments_eta'))
        batch_op.drop_index('ix_inbound_shipments_destination_status')

    op.drop_table('inbound_shipments')
    op.drop_table('suppliers')

