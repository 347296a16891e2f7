"""Creating and changing stock locations; every change is announced as a stock_location event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import StockLocation
from app.schemas.catalog import LocationIn, LocationPatch
from app.schemas.common import validate
from app.services import events
from app.services.actors import Actor
from app.services.catalog import require_admin
from app.services.db import begin_write
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.representations import location_dict


def get_location(code: str) -> StockLocation:
    location = db.session.scalar(select(StockLocation).where(StockLocation.code == code))
    if location is None:
        raise NotFound(f"There is no location {code}.")
    return location


def create_location(data: Any, actor: Actor) -> StockLocation:
    """Create a location from a LocationIn-shaped dict; emits stock_location.created. Commits.
    409 when the code exists, 422 on invalid fields, 403 unless the actor is an admin."""
    require_admin(actor)
    values = validate(LocationIn, data).model_dump()
    begin_write()
    if db.session.scalar(select(StockLocation.id).where(StockLocation.code == values["code"])):
        db.session.rollback()
        raise Conflict(f"Location {values['code']} already exists.", {"code": "Already exists."}, code="duplicate")
    location = StockLocation(**values)
    db.session.add(location)
    db.session.flush()
    events.emit("stock_location.created", "stock_location", location.id, location_dict(location))
    _commit(values["code"])
    return location


def update_location(code: str, data: Any, actor: Actor) -> StockLocation:
    """Change some fields of a location (the code stays); emits stock_location.updated with the
    old values of what changed. Commits; a request that changes nothing writes nothing."""
    require_admin(actor)
    changes = validate(LocationPatch, data).model_dump(exclude_unset=True)
    begin_write()
    location = db.session.scalar(select(StockLocation).where(StockLocation.code == code).with_for_update())
    if location is None:
        db.session.rollback()
        raise NotFound(f"There is no location {code}.")
    current = location_dict(location)
    try:
        merged = validate(LocationIn, {**current, **changes}).model_dump()
    except ValidationFailed:
        db.session.rollback()
        raise
    previous = {key: current[key] for key, value in merged.items() if current.get(key) != value}
    if not previous:
        db.session.rollback()
        return get_location(code)
    for key in previous:
        setattr(location, key, merged[key])
    db.session.flush()
    events.emit("stock_location.updated", "stock_location", location.id, location_dict(location), previous)
    _commit(code)
    return location


def _commit(code: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"Location {code} already exists.", {"code": "Already exists."}, code="duplicate") from None
