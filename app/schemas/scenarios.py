"""Scenarios and their rules as the API takes and returns them (SPEC §9.1 `POST /api/v1/scenarios`),
plus the planning dry-run and run bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, RootModel, field_validator

from app.schemas.common import MAX_INT, Code, Name, StrictModel
from app.schemas.orders import OrderIn

SortKey = Literal["priority", "stock", "load", "distance"]


class SortIn(StrictModel):
    by: SortKey = Field(description="priority, stock (units of the order available), load (open/quota) or distance.")
    order: Literal["asc", "desc"] = "asc"


class ConditionsIn(StrictModel):
    """An empty list matches anything."""

    channels: list[Code] = Field(default_factory=list)
    delivery_types: list[Literal["cargo", "click_and_collect"]] = Field(default_factory=list)
    payment_types: list[Name] = Field(default_factory=list)
    cargo_companies: list[Code] = Field(default_factory=list)


class RuleIn(StrictModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={  # what the service checks, as far as a schema can
        "if": {"properties": {"transferable": {"const": True}}, "required": ["transferable"]},
        "else": {"properties": {"transfer_sources": {"maxItems": 0}}}})

    name: Name
    locations: list[Code] = Field(default_factory=list, description="Only these location codes; empty = all.")
    exclude: list[Code] = Field(default_factory=list, description="Never these location codes.")
    location_type: Literal["store", "warehouse"] | None = None
    same_city: bool = False
    use_quota: bool = Field(False, description="Skip locations whose open packages reached max_quota.")
    sort: list[SortIn] = Field(default_factory=lambda: [SortIn(by="priority")], max_length=4)
    allow_split: bool = False
    max_packages: int = Field(1, ge=1, le=20, description="At most this many packages when splitting.")
    transferable: bool = False
    transfer_sources: list[Code] = Field(default_factory=list,
                                         description="Location codes to transfer from; empty = any transfer source.")

    @field_validator("sort")
    @classmethod
    def _distinct_keys(cls, value: list[SortIn]) -> list[SortIn]:
        keys = [s.by for s in value]
        if len(keys) != len(set(keys)):
            raise ValueError("Each sort key may appear once.")
        return value


class RuleOut(RuleIn):
    id: int
    position: int


class ScenarioIn(StrictModel):
    name: Name
    priority: int = Field(100, ge=0, le=1_000_000, description="Lower is tried first.")
    active: bool = True
    default_location: Code = Field(description="Where unplannable items are parked as an out_of_stock package.")
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    rules: list[RuleIn] = Field(min_length=1, max_length=50, description="Tried in order; at least one.")


class ScenarioPatch(StrictModel):
    name: Name | None = None
    priority: int | None = Field(None, ge=0, le=1_000_000)
    active: bool | None = None
    default_location: Code | None = None
    conditions: ConditionsIn | None = None
    rules: list[RuleIn] | None = Field(None, min_length=1, max_length=50)


class RuleList(RootModel[list[RuleOut]]):
    """A scenario's rules, in order."""


class RulePositionIn(RuleIn):
    """A rule added to a scenario; `position` (1-based) inserts it there, default last."""

    position: int | None = Field(None, ge=1, le=1_000)


class ScenarioOut(StrictModel):
    id: int
    name: str
    priority: int
    active: bool
    default_location: str
    conditions: ConditionsIn
    rules: list[RuleOut]


class DryRunIn(StrictModel):
    """The id of an existing order."""

    order_id: int = Field(ge=1, le=MAX_INT)


class DryRunBody(RootModel[DryRunIn | OrderIn]):
    """Either `{"order_id": n}` of an existing order, or an order body shaped like POST /orders."""


class DryRunOut(StrictModel):
    outcome: str
    scenario: str | None
    packages: list[dict[str, Any]]
    trace: dict[str, Any]
    explanation: str


class PlanningRunIn(StrictModel):
    chunk_size: int = Field(500, ge=1, le=5000)


class PlanningRunOut(StrictModel):
    job_id: str
