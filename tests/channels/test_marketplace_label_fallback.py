"""A package whose marketplace prints its label (Trendyol) never gets a label from our own carrier:
the fetch job retries a marketplace that has no label yet, the carrier poll's sweep of stale label
requests queues the channel's fetch again (not a carrier request), and "ask for a new label" asks
the marketplace. Real simulator process, real Redis and burst worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import Package, Shipment
from app.models.base import utcnow
from app.services.packages import run_package_command
from app.tasks.carriers import poll_shipments
from tests.channels.conftest import run_jobs
from tests.channels.pushes import BOSS
from tests.channels.pushes import order_from as _order_from

LABEL_PATH = "/integration/sellers/12345/common-label/"
TRENDYOL_TRACKING = str(7330000000000 + 9001)


def _pack_without_scan(sim, live_server) -> int:
    order = _order_from(sim, live_server, "ty")
    package = db.session.scalar(select(Package).where(Package.order_id == order.id))
    run_package_command(package.id, "complete_packing_channel", {}, BOSS)
    return package.id


def _shipment() -> Shipment:
    db.session.expire_all()
    return db.session.scalar(select(Shipment))


def test_the_fetch_job_retries_while_the_marketplace_has_no_label_yet(world, sim, live_server, app, monkeypatch):
    monkeypatch.setitem(app.config, "CARRIER_RETRY_INTERVALS", [0, 0])
    sim.fault(LABEL_PATH, "500", count=2)
    _pack_without_scan(sim, live_server)
    run_jobs("carriers")
    shipment = _shipment()
    assert (shipment.status, shipment.tracking_number) == ("label_ready", TRENDYOL_TRACKING)
    assert len(sim.requests(LABEL_PATH, "GET")) == 3


def test_a_stale_marketplace_label_is_fetched_from_the_marketplace_never_the_carrier(world, sim, live_server, app,
                                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "CARRIER_RETRY_INTERVALS", [0])  # two attempts, both fail
    sim.fault(LABEL_PATH, "500", count=2)
    _pack_without_scan(sim, live_server)
    run_jobs("carriers")
    shipment = _shipment()
    assert (shipment.status, shipment.tracking_number) == ("pending", None)
    assert shipment.last_error  # why it is still waiting, for staff to read
    db.session.execute(update(Shipment).values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()

    result = poll_shipments()
    assert result["label_requests_requeued"] == 1
    run_jobs("carriers")
    shipment = _shipment()
    assert (shipment.status, shipment.tracking_number) == ("label_ready", TRENDYOL_TRACKING)
    assert shipment.label_zpl.startswith("^XA") and not shipment.carrier_reference
    assert len(sim.requests(LABEL_PATH, "GET")) == 3


def test_asking_for_a_new_label_asks_the_marketplace(world, sim, live_server):
    package_id = _pack_without_scan(sim, live_server)
    run_jobs("carriers")
    assert _shipment().status == "label_ready"
    run_package_command(package_id, "refresh_label", {}, BOSS)
    run_jobs("carriers")
    shipment = _shipment()
    assert (shipment.status, shipment.tracking_number) == ("label_ready", TRENDYOL_TRACKING)
    assert shipment.label_zpl.startswith("^XA") and not shipment.carrier_reference
    assert len(sim.requests(LABEL_PATH, "GET")) == 2


def test_the_package_page_names_the_marketplace_and_offers_its_zpl_label(world, sim, live_server, client):
    from app.models import Channel
    from tests.channels.test_admin_screens import sign_in

    package_id = _pack_without_scan(sim, live_server)
    channel_name = db.session.scalar(select(Channel.name).where(Channel.code == "ty"))
    sign_in(client, "admin")
    page_url = f"/store/IST-01/packages/{package_id}"
    waiting = client.get(page_url).get_data(as_text=True)
    assert f"Fetching the label from {channel_name}" in waiting and "Asking the carrier" not in waiting
    assert "Print label" not in waiting

    run_jobs("carriers")  # the real Trendyol fetch through the simulator: ZPL only, no PDF
    assert _shipment().label_pdf in (b"", None)
    page = client.get(page_url).get_data(as_text=True)
    assert "Print label (ZPL)" in page and f"{page_url}/label.zpl" in page
    label = client.get(f"{page_url}/label.zpl")
    assert label.status_code == 200 and label.data.startswith(b"^XA") and TRENDYOL_TRACKING.encode() in label.data
    assert "attachment" in label.headers["Content-Disposition"]
    pdf = client.get(f"{page_url}/label.pdf")  # an old bookmark or the API's link still finds it
    assert pdf.status_code == 302 and pdf.headers["Location"].endswith("/label.zpl")


def test_the_channel_inbox_shows_times_in_the_brands_zone(world, sim, live_server, client):
    from datetime import datetime

    from app.models import ChannelInboxEntry
    from app.services.settings import put_setting
    from tests.channels.test_admin_screens import sign_in

    _order_from(sim, live_server, "ty")
    put_setting("TIME_ZONE", "Europe/Istanbul")
    entry = db.session.scalar(select(ChannelInboxEntry))
    entry.received_at, entry.processed_at = datetime(2026, 12, 6, 19, 30, 5), datetime(2026, 12, 6, 19, 30, 7)
    entry_id = entry.id
    db.session.commit()
    sign_in(client, "admin")
    inbox = client.get("/admin/integrations/inbox").get_data(as_text=True)
    assert "6 Dec 2026, 22:30:05 +03" in inbox and "2026-12-06 19:30:05" not in inbox
    page = client.get(f"/admin/integrations/inbox/{entry_id}").get_data(as_text=True)
    assert "6 Dec 2026, 22:30:05 +03" in page and "6 Dec 2026, 22:30:07 +03" in page and " UTC" not in page
