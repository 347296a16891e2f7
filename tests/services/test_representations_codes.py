"""An order's description names its channel, cargo company and locations by code: from the loaded
objects, else from the configuration snapshot this transaction checked — never a snapshot older
than a configuration record changed in this session and not yet flushed."""

from __future__ import annotations

from app.extensions import db
from app.models import StockLocation
from app.services import config_cache
from app.services.db import begin_write
from app.services.representations import order_dict
from tests.services.builders import get_cargo_company, make_package


def test_codes_come_from_the_checked_snapshot_unless_a_configuration_change_is_pending(app):
    package = make_package("waiting")
    order = package.order
    order.cargo_company_id = get_cargo_company("demo").id
    db.session.commit()
    order_id = order.id
    db.session.close()
    begin_write()
    config_cache.current()
    order = db.session.get(type(order), order_id)
    described = order_dict(order)
    assert (described["cargo_company"], described["channel"]) == ("demo", "web")
    assert "cargo_company" not in order.__dict__  # named from the snapshot, not loaded
    first = order.packages[0]
    assert "location" not in first.__dict__
    location = db.session.get(StockLocation, first.location_id)
    location.code = "RENAMED"  # not flushed: the snapshot predates it
    with db.session.no_autoflush:
        assert order_dict(order)["packages"][0]["location"] == "RENAMED"
    db.session.rollback()
