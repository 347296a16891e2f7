"""Key → JSON settings edited by admins (ORDER_FILTERING, REPLAN_INTERVAL_MINUTES, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ConfigVersion(db.Model):
    """One row (id 1) that database triggers change whenever a row of the configuration that
    processes cache changes: settings, scenarios and their rules, locations, channels, cargo
    companies (migration 0011). `version` counts the changes; `token` is a fresh random number
    on each, so a cache keyed by it never mistakes a rolled-back or re-created row for the one
    it loaded (services/config_cache.py)."""

    __tablename__ = "config_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    token: Mapped[int] = mapped_column(BigInteger, default=0)
