"""The OpenAPI document is a contract the server keeps: schemathesis runs every operation of
/api/openapi.json against the live app with every check and a fixed seed, and any finding fails.

Schemathesis runs as its own process (its CLI) against the app served on a real port, so its
Hypothesis settings and pytest plugin never mix with this test run. The app has a real Redis:
operations that enqueue jobs (planning runs, plan-now, redeliveries) run for real; no worker takes
the jobs, so nothing leaves the machine. Webhook URLs may be private addresses here, so creating
a subscription never looks a host name up (the run needs no network).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CargoCompany,
    Channel,
    DenialReason,
    Order,
    Package,
    Product,
    Scenario,
    ScenarioRule,
    Stock,
    StockLocation,
    Transfer,
    WebhookDelivery,
    WebhookSubscription,
)
from app.services import orders as orders_service
from app.services.actors import Actor
from app.services.demo import seed_demo
from app.services.planning import plan_order
from app.services.settings import put_setting
from app.services.users import create_token
from app.services.webhooks.outbox import publish_pending
from app.services.webhooks.subscriptions import create_subscription
from app.services.webhooks.urls import PRIVATE_URLS_SETTING

SEED = 20261206
MAX_EXAMPLES = 6
# Rules a schema cannot state: codes and ids in a body must name existing records (an unknown
# one is a 422 naming the field), a command's parameters must fit the work order's contents, a
# carrier's config must suit its adapter, a known setting's value must suit the setting, a
# webhook must reach a public host with a retry policy spanning 24 h. For these operations a
# schema-valid request may also be refused with 422; every other check applies in full.
REFERENCES_OTHER_RECORDS = (
    "create_order", "cancel_order", "planning_dry_run", "put_stock", "create_scenario", "replace_scenario",
    "update_scenario", "add_rule", "update_rule", "create_cargo_company", "update_cargo_company",
    "put_setting_view", "create_webhook", "update_webhook",
    "create_channel", "update_channel", "put_mapping",  # a config must suit its adapter; mappings name records
    "create_return_view",  # a return names a shipped order, its SKUs and a location the caller works at
    "create_purchase_order_view", "create_inbound_shipment_view",  # name a supplier, SKUs, purchase orders
    "stock_ledger", "audit_entries",  # a date range must not end before it starts; a location must be the caller's
    "stock_at",  # names a location of the caller's and an existing SKU
    "create_import",  # the uploaded file must not be empty (its lines are checked by the job)
)
COMMANDS = "^(package|transfer|return|purchase_order|inbound_shipment)_command_"
# Settings the run may change; never the one that keeps webhook URLs off the network.
SETTING_KEYS = ["ORDER_FILTERING", "REPLAN_INTERVAL_MINUTES", "REQUIRE_SCAN_TO_PACK", "IS_OTP_ENABLED"]


def place_demo_orders() -> None:
    """Three planned orders; the click & collect one asks for a product its store lacks, so a
    transfer from the warehouse brings it."""
    system = Actor.system("contract-test")
    store, warehouse = (db.session.scalar(select(StockLocation.id).where(StockLocation.code == code))
                        for code in ("IST-KDK", "WH-IST"))
    in_store = select(Stock.product_id).where(Stock.location_id == store, Stock.on_hand > 0)
    lacking = db.session.scalar(select(Product.sku).join(Stock, Stock.product_id == Product.id)
                                .where(Stock.location_id == warehouse, Stock.on_hand > 0, Product.id.not_in(in_store))
                                .order_by(Product.sku).limit(1))
    lines = [("web", "cargo", ["TSHIRT-BLA-M", "JEANS-NAV-32"]), ("web", "click_and_collect", [lacking]),
             ("trendyol", "cargo", ["HOODIE-NAV-L", "CAP-BLA-ONE", "SOCKS-NAV-39-42"])]
    for n, (channel, delivery, skus) in enumerate(lines, start=1):
        order, _created = orders_service.create_order({
            "number": f"CT-{n}", "channel": channel, "placed_at": "2026-12-01T10:00:00Z", "delivery_type": delivery,
            "pickup_location": "IST-KDK" if delivery == "click_and_collect" else None, "cargo_company": "demo",
            "shipping_address": {"line": "Moda Cd. 1", "city": "Istanbul", "latitude": 40.98, "longitude": 29.02},
            "items": [{"sku": sku, "quantity": 1, "price": "99.90"} for sku in skus]}, system)
        plan_order(order.id, trigger="api", actor=system)


def seed() -> tuple[str, dict[str, list]]:
    """The demo brand with a few planned orders and a webhook; an admin token; the ids and codes
    the run draws path parameters from (besides the ones it makes up)."""
    seed_demo()
    put_setting(PRIVATE_URLS_SETTING, True)
    db.session.commit()
    create_subscription({"url": "http://127.0.0.1:9/hooks", "events": ["*"], "secret": "contract"},
                        Actor.system("contract-test"))
    place_demo_orders()
    publish_pending()  # the orders' events become deliveries (queued; no worker sends them)
    token = create_token("admin", "contract")
    db.session.commit()

    def ids(model) -> list[int]:
        return list(db.session.scalars(select(model.id).order_by(model.id)))

    codes = [c for model in (StockLocation, Channel, CargoCompany, DenialReason)
             for c in db.session.scalars(select(model.code).order_by(model.code))]
    known = {"order_id": ids(Order), "package_id": ids(Package), "transfer_id": ids(Transfer),
             "scenario_id": ids(Scenario), "rule_id": ids(ScenarioRule), "subscription_id": ids(WebhookSubscription),
             "delivery_id": ids(WebhookDelivery),
             "code": codes, "sku": list(db.session.scalars(select(Product.sku).order_by(Product.sku).limit(10))),
             "key": SETTING_KEYS}
    return token, {name: values for name, values in known.items() if values}


def config_toml(known: dict[str, list]) -> str:
    """schemathesis.toml: fixed seed, a few examples per operation, our ids half of the time."""
    # A busy CI machine is slow, never wrong: no "too slow" health check, a generous request timeout.
    lines = [f"seed = {SEED}", 'suppress-health-check = ["too_slow"]', "request-timeout = 60", "",
             "[generation]", f"max-examples = {MAX_EXAMPLES}", 'database = "none"',
             # NUL is refused everywhere (400 in the URL, 422 in a body), as the document says once.
             "allow-x00 = false", ""]
    for name, values in known.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in known]
    accepted = json.dumps(["2xx", 401, 403, 404, 409, 422])
    for selector in (f"include-operation-id = {json.dumps(list(REFERENCES_OTHER_RECORDS))}",
                     f'include-operation-id-regex = "{COMMANDS}"'):
        lines += ["", "[[operations]]", selector,
                  f"checks.positive_data_acceptance.expected-statuses = {accepted}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def quiet_server():
    """No log line per request: the run sends thousands."""
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)
    yield
    werkzeug.setLevel(level)


def test_the_server_keeps_every_promise_of_its_openapi_document(app, live_server, quiet_server, tmp_path: Path):
    token, known = seed()
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_toml(known))
    # One worker: on Python 3.11 two threads building ASTs at once (Hypothesis describing its
    # strategies) trip CPython's shared recursion counter ("AST constructor recursion depth mismatch").
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
               f"{live_server}/api/openapi.json", "--checks", "all", "--header", f"Authorization: Token {token}",
               "--workers", "1", "--no-color"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                            env={**os.environ, "NO_COLOR": "1"})

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-30000:]
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", output)
    assert selected and selected[1] == selected[2] == selected[3], output[-3000:]  # every operation ran
