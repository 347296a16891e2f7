"""An inbox reason built from a channel's payload keeps the channel's values cut as a failure's
are (`http_client.capped`): a SKU of megabytes, or thousands of unknown SKUs, cannot make the
row megabytes long, nor the inbox page that shows it. Signed webhooks through the services a
real delivery goes through; the row read back with SQL."""

from __future__ import annotations

import html
import json

from sqlalchemy import text

from app.channel_simulator.samples import shopify_order
from app.extensions import db
from app.services.channels import intake
from app.services.channels.base import hmac_base64
from app.services.http_client import MESSAGE_CHARS
from tests import factories
from tests.services.test_said_values_capped import _longest_text
from tests.views.test_auth import login

SECRET = "inbox-cap-secret"
HUGE_SKU = "SKU-" + "x" * 200_000


def _shop() -> None:
    factories.channel("shop", adapter="shopify", config={
        "base_url": "http://127.0.0.1:9", "access_token": "shpat_test", "webhook_secret": SECRET, "location_id": 7})
    factories.user("root", "admin")
    db.session.commit()


def _received(payload: dict, delivery: str) -> int:
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": hmac_base64(SECRET, body),
               "X-Shopify-Webhook-Id": delivery, "Content-Type": "application/json"}
    receipt = intake.receive_webhook("shop", None, headers, body)
    assert receipt.status == 200, receipt
    assert intake.process_entry(receipt.body["received"]) == "needs_attention"
    return receipt.body["received"]


def _stored(entry_id: int) -> tuple[str, dict]:
    db.session.rollback()
    reason, message = db.session.execute(text("SELECT reason, reason_message FROM channel_inbox WHERE id = :id"),
                                         {"id": entry_id}).one()
    return reason, message if isinstance(message, dict) else json.loads(message)


def test_a_huge_sku_in_a_payload_is_kept_cut_in_the_reason_and_on_the_inbox_page(app, client):
    _shop()
    entry_id = _received(shopify_order(9101, [(HUGE_SKU, 1)]), "huge-sku")
    reason, message = _stored(entry_id)
    assert message["id"].startswith("Unknown SKU %(skus)s")
    skus = message["values"]["skus"]
    assert len(skus) == MESSAGE_CHARS and skus.endswith("…") and HUGE_SKU.startswith(skus[:-1])
    assert len(reason) < 2 * MESSAGE_CHARS and reason.startswith("Unknown SKU SKU-xxx")
    login(client, "root")
    listed = html.unescape(client.get("/admin/integrations/inbox").get_data(as_text=True))
    shown = html.unescape(client.get(f"/admin/integrations/inbox/{entry_id}").get_data(as_text=True))
    shown = shown.split('<dd id="reason">')[1].split("</dd>")[0]  # the page also shows the body as received
    for page in (listed, shown):
        assert "Unknown SKU SKU-xxx" in page and "x" * MESSAGE_CHARS not in page


def test_hundreds_of_unknown_skus_keep_a_short_reason(app):
    _shop()
    lines = [(f"NO-{n:03d}-" + "y" * 40, 1) for n in range(300)]
    reason, message = _stored(_received(shopify_order(9102, lines), "many-skus"))
    assert message["id"].startswith("Unknown SKU %(skus)s")
    assert _longest_text(message) == MESSAGE_CHARS and message["values"]["skus"].startswith("NO-000-yyy")
    assert len(reason) < 2 * MESSAGE_CHARS and "NO-000-yyy" in reason
