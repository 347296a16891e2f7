"""Mappings between a channel's values and ours (SPEC §13): SKUs, locations, payment, delivery
and cargo codes, order statuses. With no mapping a value means itself (channel SKU = our SKU),
so a new shop whose SKUs match ours needs no table at all."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select

from app.extensions import db
from app.models import CargoCompany, Channel, ChannelMapping, Product, StockLocation
from app.schemas.channels import MappingIn
from app.schemas.common import validate
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationFailed
from app.services.human_input import field_label, say
from app.services.records import require_admin
from app.services.said import N_

DELIVERY_TYPES = ("cargo", "click_and_collect")
MAX_IMPORT_LINES = 20_000


def mapping_dict(m: ChannelMapping) -> dict[str, Any]:
    return {"id": m.id, "kind": m.kind, "channel_value": m.channel_value, "our_value": m.our_value}


def query(channel_id: int, kind: str | None = None) -> Select:
    statement = select(ChannelMapping).where(ChannelMapping.channel_id == channel_id)
    if kind:
        statement = statement.where(ChannelMapping.kind == kind)
    return statement.order_by(ChannelMapping.kind, ChannelMapping.channel_value)


def lookup(channel_id: int) -> dict[str, dict[str, str]]:
    """{kind: {channel value: our value}} for one channel."""
    table: dict[str, dict[str, str]] = {}
    for kind, theirs, ours in db.session.execute(select(
            ChannelMapping.kind, ChannelMapping.channel_value, ChannelMapping.our_value).where(
            ChannelMapping.channel_id == channel_id)):
        table.setdefault(kind, {})[theirs] = ours
    return table


def channel_skus(channel_id: int, our_skus: list[str]) -> dict[str, list[str]]:
    """Our SKU -> the channel SKUs it is sold as (itself when no mapping names it)."""
    mapped: dict[str, list[str]] = {}
    for theirs, ours in db.session.execute(select(ChannelMapping.channel_value, ChannelMapping.our_value).where(
            ChannelMapping.channel_id == channel_id, ChannelMapping.kind == "sku")):
        mapped.setdefault(ours, []).append(theirs)
    return {sku: mapped.get(sku) or [sku] for sku in our_skus}


def _channel(code: str) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        raise NotFound(_('There is no channel %(code)s.', code=code))
    return channel


_MISSING = {"sku": (Product, Product.sku, N_("There is no product with SKU %(value)s.")),
            "location": (StockLocation, StockLocation.code, N_("There is no location with code %(value)s.")),
            "cargo": (CargoCompany, CargoCompany.code, N_("There is no cargo company with code %(value)s."))}


def _our_value_problem(kind: str, value: str) -> str | None:
    """Why `value` cannot be ours for `kind`, in the page's language, or None. Delivery types are
    a closed set and are named when refused. A source status is any status name: one that
    ORDER_FILTERING does not accept is valid too (its orders wait on hold until the channel sends
    an accepted one), and that setting may change after the mapping is saved. Payment types are
    the channel's own words, kept as they come."""
    if kind in _MISSING:
        model, column, sentence = _MISSING[kind]
        if db.session.scalar(select(model.id).where(column == value)) is None:
            return _(sentence, value=value)
    if kind == "delivery" and value not in DELIVERY_TYPES:
        return _("Use one of our delivery types: %(options)s.", options=", ".join(DELIVERY_TYPES))
    return None


def set_mapping(code: str, data: Any, actor: Actor) -> ChannelMapping:
    """Create or replace the mapping of one channel value. Flushes."""
    return change_mapping(code, data, actor)[0]


def change_mapping(code: str, data: Any, actor: Actor) -> tuple[ChannelMapping, str | None]:
    """`set_mapping`, also returning the value the channel's value mapped to before (None when
    it is new), so the admin is told what a re-added mapping replaced. Flushes."""
    require_admin(actor)
    channel = _channel(code)
    body = validate(MappingIn, data, "The mapping is not valid.")
    problem = _our_value_problem(body.kind, body.our_value)
    if problem:
        raise ValidationFailed(_('The mapping is not valid.'), {"our_value": problem})
    mapping = db.session.scalar(select(ChannelMapping).where(
        ChannelMapping.channel_id == channel.id, ChannelMapping.kind == body.kind,
        ChannelMapping.channel_value == body.channel_value))
    previous = mapping.our_value if mapping is not None else None
    if mapping is None:
        mapping = ChannelMapping(channel_id=channel.id, kind=body.kind, channel_value=body.channel_value)
        db.session.add(mapping)
    mapping.our_value = body.our_value
    db.session.flush()
    return mapping, previous


def delete_mapping(code: str, mapping_id: int, actor: Actor) -> None:
    require_admin(actor)
    channel = _channel(code)
    mapping = db.session.get(ChannelMapping, mapping_id)
    if mapping is None or mapping.channel_id != channel.id:
        raise NotFound(_('There is no such mapping.'))
    db.session.delete(mapping)
    db.session.flush()


def import_csv(code: str, text: str, actor: Actor) -> int:
    """Mappings from CSV lines `kind,channel_value,our_value` (a header line is optional): all
    lines are written or none; the error names every bad line. Flushes; returns the count."""
    require_admin(actor)
    rows = list(csv.reader(io.StringIO(text)))
    if rows and [c.strip().lower() for c in rows[0][:3]] == ["kind", "channel_value", "our_value"]:
        rows = rows[1:]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ValidationFailed(_('The file has no mappings.'), {"file": _('Expected lines: kind,channel_value,our_value.')})
    if len(rows) > MAX_IMPORT_LINES:
        raise ValidationFailed(_('The file is too long.'), {"file": _('At most %(max_import_lines)s lines.', max_import_lines=MAX_IMPORT_LINES)})
    problems: dict[str, str] = {}
    for n, row in enumerate(rows, start=1):
        if len(row) != 3:
            problems[f"line {n}"] = _('Expected three values: kind,channel_value,our_value.')
            continue
        try:
            with db.session.begin_nested():
                set_mapping(code, {"kind": row[0].strip(), "channel_value": row[1], "our_value": row[2]}, actor)
        except ValidationFailed as exc:
            problems[f"line {n}"] = "; ".join(_('%(field)s: %(problem)s', field=field_label(k), problem=say(v, k))
                                              for k, v in (exc.details or {}).items()) or exc.message
    if problems:
        raise ValidationFailed(_('Some lines are not valid; nothing was imported.'), problems)
    return len(rows)
