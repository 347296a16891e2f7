"""Shapes of the reporting API: stock ledger rows, stock at a past moment, audit entries and import runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class LedgerEntryOut(BaseModel):
    id: int
    at: str
    location: str
    sku: str
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str
    actor: str
    reference: str | None
    note: str | None


class StockAtOut(BaseModel):
    location: str
    sku: str
    at: str
    on_hand: int
    reserved: int
    available: int
    ledger_id: int | None  # the last change at or before `at`; null: none before then


class AuditChange(BaseModel):
    before: Any
    after: Any


class AuditEntryOut(BaseModel):
    id: int
    at: str
    actor: str
    kind: str
    record: str
    record_id: str | None
    action: Literal["created", "changed", "deleted"]
    changes: dict[str, AuditChange]


class ImportLineError(BaseModel):
    line: int
    message: str


class ImportRunOut(BaseModel):
    id: int
    kind: str
    filename: str | None
    status: Literal["queued", "running", "finished", "failed"]
    progress: dict[str, int]  # {"done", "total"}: lines of the file
    created: int
    updated: int
    rejected: int
    errors: list[ImportLineError]
    created_at: str
    finished_at: str | None
