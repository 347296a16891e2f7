"""All models, imported here so Alembic and the app see one metadata."""

from app.models.api import IdempotencyRecord, ImportRun
from app.models.audit import AuditEntry
from app.models.batches import PickBatch, PickBatchPackage
from app.models.catalog import CargoCompany, Channel, DenialReason, Product, ProductBarcode
from app.models.channels import ChannelCursor, ChannelInboxEntry, ChannelMapping, ChannelPush, ChannelStockSync
from app.models.events import OutboxEvent, TransitionLog
from app.models.exports import ExportChunk, ExportRun
from app.models.inbound import (
    InboundShipment,
    InboundShipmentLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderReceipt,
    Quote,
    QuoteLine,
    ReorderPoint,
    Requisition,
    RequisitionLine,
    Supplier,
)
from app.models.kpis import KpiDay, KpiDayBucket, KpiDayReason
from app.models.locations import StockLocation
from app.models.orders import Order, OrderItem, PlanningExclusion, PlanningTrace
from app.models.packages import Package, PackageItem, PickupCodeFailure
from app.models.returns import Return, ReturnItem
from app.models.scenarios import Scenario, ScenarioRule
from app.models.settings import Setting
from app.models.shipments import Invoice, Shipment
from app.models.stock import Reservation, Stock, StockLedger
from app.models.transfers import Transfer, TransferItem
from app.models.users import ApiToken, LoginFailure, User, UserSession, user_locations
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "AuditEntry",
    "ExportChunk",
    "ExportRun",
    "InboundShipment",
    "InboundShipmentLine",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderReceipt",
    "Quote",
    "QuoteLine",
    "ReorderPoint",
    "Requisition",
    "RequisitionLine",
    "Supplier",
    "ApiToken",
    "CargoCompany",
    "Channel",
    "ChannelCursor",
    "ChannelInboxEntry",
    "ChannelMapping",
    "ChannelPush",
    "ChannelStockSync",
    "DenialReason",
    "IdempotencyRecord",
    "KpiDay",
    "KpiDayBucket",
    "KpiDayReason",
    "ImportRun",
    "Invoice",
    "LoginFailure",
    "Order",
    "OrderItem",
    "OutboxEvent",
    "Package",
    "PackageItem",
    "PickBatch",
    "PickBatchPackage",
    "PickupCodeFailure",
    "PlanningExclusion",
    "PlanningTrace",
    "Product",
    "ProductBarcode",
    "Reservation",
    "Return",
    "ReturnItem",
    "Scenario",
    "ScenarioRule",
    "Setting",
    "Shipment",
    "Invoice",
    "Stock",
    "StockLedger",
    "StockLocation",
    "TransitionLog",
    "Transfer",
    "TransferItem",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "user_locations",
]
