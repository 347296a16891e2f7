"""A failure kept as a catalogue message keeps what the remote said (a redirect's address, a
channel's or carrier gateway's answer) cut like the English text: each value at most
MESSAGE_CHARS characters, so a hostile or broken remote cannot make a row megabytes long.
Real HTTP servers, a real RQ worker, the row read back with SQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services.channels import connector_for
from app.services.channels.base import ChannelError
from app.services.http_client import MESSAGE_CHARS, HttpError, request
from app.services.said import english
from tests.channels.conftest import woo_config
from tests.http_servers import LocalServer, QuietHandler, serving

HUGE = "https://elsewhere.example/" + "a" * 60_000  # under http.client's 64 KiB header line


class Remote(LocalServer):
    """Redirects every request to HUGE, or answers `status` with `body`."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.status, self.body, self.location = 302, b"", HUGE


class _Handler(QuietHandler):
    server: Remote

    def _serve(self) -> None:
        self.read_body()
        redirect = {"Location": self.server.location} if self.server.status in (301, 302, 307, 308) else {}
        self.reply(self.server.status, self.server.body, **redirect, Content_Type="application/json")

    do_GET = do_POST = do_PUT = _serve


@pytest.fixture
def remote() -> Iterator[Remote]:
    with serving(Remote()) as server:
        yield server


def _longest_text(value) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max([0, *(_longest_text(v) for k, v in value.items() if k != "id")])
    if isinstance(value, list):
        return max([0, *(_longest_text(v) for v in value)])
    return 0


def test_the_http_clients_redirect_message_keeps_the_address_cut(remote):
    with pytest.raises(HttpError) as error:
        request("GET", remote.url("/hook"), allow_private=True)
    message = error.value.said
    assert message["id"] == "HTTP %(status)s redirect not followed (Location: %(location)s)"
    location = message["values"]["location"]
    assert len(location) == MESSAGE_CHARS and location.endswith("…") and HUGE.startswith(location[:-1])
    assert len(error.value.message) <= MESSAGE_CHARS  # the English, as before


def test_a_channel_calls_message_keeps_its_path_and_answer_cut(app, remote):
    connector = connector_for("woocommerce", woo_config(type("Sim", (), {"url": remote.url()})()))
    remote.status, remote.body = 500, json.dumps({"message": "b" * 60_000}).encode()
    with pytest.raises(ChannelError) as error:
        connector.call("GET", "/wp-json/wc/v3/orders?page=" + "9" * 50_000)  # a next-page link a shop sent
    message = error.value.said
    assert message["id"] == "%(channel)s %(method)s %(path)s: %(problem)s: %(answer)s"
    assert len(message["values"]["path"]) == MESSAGE_CHARS
    assert _longest_text(message) <= MESSAGE_CHARS
    assert len(json.dumps(message)) < 3 * MESSAGE_CHARS + 500
    assert english(message).startswith("WooCommerce GET /wp-json/wc/v3/orders?page=999")


def test_a_carrier_redirect_to_a_huge_address_is_stored_cut(app, remote, monkeypatch):
    from tests import factories
    from tests.tasks.test_carriers_jobs import build_shipment, enqueue_label
    from tests.tasks.test_carriers_jobs import run_worker as run_carrier_worker

    monkeypatch.setitem(app.config, "CARRIER_RETRY_INTERVALS", [0])
    cargo = factories.cargo_company("ARAS", name="Aras Kargo", adapter="http",
                                    config={"base_url": remote.url(), "api_key": "k", "timeout_seconds": 5})
    shipment = build_shipment(cargo)
    db.session.commit()
    shipment_id = shipment.id
    enqueue_label(shipment_id)
    db.session.rollback()
    run_carrier_worker()  # a real RQ worker asks the gateway, which redirects to HUGE
    stored, error = db.session.execute(
        text("SELECT CAST(last_error_message AS TEXT), last_error FROM shipments WHERE id = :i"),
        {"i": shipment_id}).one()
    assert stored is not None and "redirected" in error
    message = json.loads(stored)
    assert message["id"] == "carrier gateway redirected %(what)s to %(location)s; configure the final URL"
    assert len(message["values"]["location"]) == MESSAGE_CHARS
    assert len(stored) < 1000  # the row, not 60 KB


def test_a_carrier_gateways_huge_error_message_is_kept_cut(app, remote):
    from app.services.carriers import get_adapter
    from app.services.carriers.base import CarrierError
    from tests.services.carriers.test_http import shipment_request

    remote.status, remote.body = 422, json.dumps({"message": "c" * 60_000}).encode()
    adapter = get_adapter("http", {"base_url": remote.url("/api/"), "api_key": "k"})
    with pytest.raises(CarrierError) as error:
        adapter.create_shipment(shipment_request())
    message = error.value.said
    assert message["values"]["message"] == "c" * (MESSAGE_CHARS - 1) + "…"
    assert _longest_text(message) <= MESSAGE_CHARS
