"""Distribution scenarios and their ordered rules, which drive planning (SPEC §6)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped
from app.models.locations import StockLocation

SORT_KEYS = ("priority", "stock", "load", "distance")


class Scenario(Timestamped, db.Model):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    default_location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    # {"channels": [...], "delivery_types": [...], "payment_types": [...], "cargo_companies": [...]}
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)

    default_location: Mapped[StockLocation] = relationship()
    rules: Mapped[list[ScenarioRule]] = relationship(
        back_populates="scenario", cascade="all, delete-orphan", order_by="ScenarioRule.position"
    )


class ScenarioRule(db.Model):
    __tablename__ = "scenario_rules"
    __table_args__ = (
        UniqueConstraint("scenario_id", "position", name="uq_scenario_rules_scenario_position"),
        CheckConstraint("max_packages >= 1", name="max_packages_positive"),
        CheckConstraint(
            "location_type IS NULL OR location_type IN ('store', 'warehouse')", name="location_type"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    locations: Mapped[list] = mapped_column(JSON, default=list)  # location codes; empty = all
    exclude: Mapped[list] = mapped_column(JSON, default=list)
    location_type: Mapped[str | None] = mapped_column(String(16))
    same_city: Mapped[bool] = mapped_column(Boolean, default=False)
    use_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    sort: Mapped[list] = mapped_column(JSON, default=list)  # [{"by": "distance", "order": "asc"}]
    allow_split: Mapped[bool] = mapped_column(Boolean, default=False)
    max_packages: Mapped[int] = mapped_column(Integer, default=1)
    transferable: Mapped[bool] = mapped_column(Boolean, default=False)
    transfer_sources: Mapped[list] = mapped_column(JSON, default=list)  # location codes; empty = any source

    scenario: Mapped[Scenario] = relationship(back_populates="rules")
