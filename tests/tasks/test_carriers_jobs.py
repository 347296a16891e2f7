"""Carrier jobs on a real RQ worker: labels from the demo carrier and from an HTTP gateway served
on 127.0.0.1 by this module, retries, failures, idempotency and parcel status polling."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CargoCompany,
    Channel,
    Order,
    OrderItem,
    OutboxEvent,
    Package,
    PackageItem,
    Shipment,
    TransitionLog,
)
from app.queues import enqueue, redis_connection
from app.services.actors import Actor
from app.services.carriers.demo import demo_tracking_number
from app.services.packages import run_package_command
from tests import factories
from tests.http_servers import LocalServer, QuietHandler, serving
from tests.services import builders

GATEWAY_KEY = "gw-secret"


# ---------------------------------------------------------------------------------- builders


def build_shipment(cargo: CargoCompany | None = None, state: str = "waiting_cargo_label", boxes: int = 1,
                   location=None) -> Shipment:
    """An order packed at a store whose package waits for its label (a pending shipment), as
    complete_packing leaves it."""
    cargo = cargo or factories.cargo_company("demo", config={"deliver_after_minutes": 0})
    loc = location or factories.location(name="Kadıköy Mağaza", address="Moda Cd. 10", city="İstanbul")
    channel = db.session.scalar(select(Channel).where(Channel.code == "web")) or factories.channel("web")
    product = factories.product(name="T-shirt M")
    number = f"WEB-{next(factories._seq)}"
    order = Order(number=number, channel=channel, placed_at=datetime(2026, 11, 20, 10), status="in_progress",
                  delivery_type="cargo", cargo_company=cargo, customer_name="Ayşe Yılmaz",
                  customer_phone="+905551112233", ship_line="Moda Cd. 1 D:4", ship_city="İstanbul",
                  ship_district="Kadıköy", ship_postcode="34710", ship_country="TR")
    order.items.append(OrderItem(product=product, quantity=2, price=Decimal("199.90")))
    db.session.add(order)
    db.session.flush()
    package = Package(number=f"{number}-P1", order=order, location_id=loc.id, state=state)
    package.items.append(PackageItem(order_item=order.items[0], product_id=product.id, quantity=2,
                                     picked_quantity=2, state="packed"))
    db.session.add(package)
    db.session.flush()
    shipment = Shipment(package=package, cargo_company=cargo, status="pending", boxes=boxes,
                        weight_kg=Decimal("1.250"))
    db.session.add(shipment)
    db.session.commit()
    return shipment


def enqueue_label(shipment_id: int, version: int = 1, suffix: str = "") -> None:
    enqueue("carriers", "app.tasks.carriers.request_label", shipment_id, job_id=f"label-{shipment_id}-{version}{suffix}")


def label_requested(cargo: CargoCompany | None = None, **shipment: object) -> tuple[int, int]:
    """(shipment id, package id) of a new shipment whose label job a real worker has run."""
    built = build_shipment(cargo, **shipment)
    shipment_id, package_id = built.id, built.package_id
    enqueue_label(shipment_id)
    run_worker()
    return shipment_id, package_id


def run_worker() -> None:
    conn = redis_connection()
    SimpleWorker([Queue("carriers", connection=conn)], connection=conn).work(burst=True)


def reload(shipment_id: int) -> Shipment:
    db.session.expire_all()
    return db.session.get(Shipment, shipment_id)


def event_types(aggregate_type: str, aggregate_id: int) -> list[str]:
    return list(db.session.scalars(select(OutboxEvent.type).where(
        OutboxEvent.aggregate_type == aggregate_type, OutboxEvent.aggregate_id == aggregate_id)
        .order_by(OutboxEvent.id)))


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(autouse=True)
def quick_retries(app, monkeypatch):
    monkeypatch.setitem(app.config, "CARRIER_RETRY_INTERVALS", [0, 0])


# ---------------------------------------------------------------------------------- gateway


@dataclass
class Gateway:
    """A carrier gateway keeping one shipment per idempotency key; `mode` scripts bad answers."""

    url: str = ""
    mode: str = "ok"  # ok | slow | error500 | garbage | no_tracking | lose_first_answer
    creates: list[str] = field(default_factory=list)  # idempotency keys, one per create received
    by_key: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)  # tracking number -> gateway status
    cancels: list[str] = field(default_factory=list)  # tracking numbers
    cancel_answer: int = 200
    requests: int = 0  # of any kind
    release: threading.Event = field(default_factory=threading.Event)

    def create(self, key: str) -> tuple[int, bytes]:
        self.creates.append(key)
        if self.mode == "slow":
            self.release.wait(2)
            return 201, b"{}"
        if self.mode == "error500":
            return 500, json.dumps({"message": "database is down"}).encode()
        if self.mode == "garbage":
            return 200, b"<html>Service temporarily unavailable</html>"
        if self.mode == "no_tracking":
            return 201, json.dumps({"tracking_url": "https://carrier.example.invalid/t/"}).encode()
        tracking = self.by_key.setdefault(key, f"GW{len(self.by_key) + 1:08d}")
        if self.mode == "lose_first_answer" and len(self.creates) == 1:
            return 503, b"upstream timeout"  # made the shipment, lost the answer
        return 201, json.dumps({"tracking_number": tracking, "reference": f"ref-{tracking}",
                                "tracking_url": f"https://carrier.example.invalid/t/{tracking}"}).encode()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            gw.requests += 1
            self.read_body()
            if self.headers.get("Authorization") != f"Bearer {GATEWAY_KEY}":
                status, body = 401, b'{"message": "bad key"}'
            elif self.path == "/shipments":
                status, body = gw.create(self.headers["Idempotency-Key"])
            elif self.path.startswith("/shipments/") and self.path.endswith("/cancel"):
                gw.cancels.append(self.path.split("/")[2])
                status, body = gw.cancel_answer, b'{"message": "already handed over"}'
            else:
                status, body = 404, b'{"message": "no such endpoint"}'
            try:
                self.reply(status, body, Content_Type="application/json")
            except OSError:
                pass  # the client gave up (timeout tests)

        def do_GET(self) -> None:
            gw.requests += 1
            tracking = self.path.removeprefix("/shipments/")
            if tracking in gw.statuses:
                self.reply(200, json.dumps({"status": gw.statuses[tracking]}).encode(), Content_Type="application/json")
            else:
                self.reply(500, b'{"message": "tracking service down"}', Content_Type="application/json")

    server = LocalServer(Handler)
    gw.url = server.url()
    with serving(server, release=gw.release):
        yield gw


def http_cargo(gw: Gateway) -> CargoCompany:
    return factories.cargo_company("ARAS", name="Aras Kargo", adapter="http",
                                   config={"base_url": gw.url, "api_key": GATEWAY_KEY, "timeout_seconds": 0.3})


# ------------------------------------------------------------------------------ demo carrier


def test_worker_gets_a_demo_label_and_the_package_becomes_packed(app):
    shipment_id, package_id = label_requested(boxes=2)

    shipment = reload(shipment_id)
    assert shipment.status == "label_ready"
    assert shipment.tracking_number.startswith("PKL")
    assert shipment.tracking_url.endswith(shipment.tracking_number)
    assert shipment.attempts == 1 and shipment.last_error is None
    text = pdf_text(shipment.label_pdf)
    assert shipment.tracking_number in text
    assert "Ayşe Yılmaz" in text and "Kadıköy Mağaza" in text and "Box 2 of 2" in text
    assert shipment.label_zpl.startswith("^XA") and shipment.label_zpl.rstrip().endswith("^XZ")
    package = db.session.get(Package, package_id)
    assert (package.state, package.version) == ("packed", 2)
    assert event_types("shipment", shipment_id) == ["shipment.label_ready"]
    assert event_types("package", package_id) == ["package.state_changed"]
    logged = db.session.execute(select(TransitionLog.entity_type, TransitionLog.from_state, TransitionLog.to_state,
                                       TransitionLog.actor).order_by(TransitionLog.id)).all()
    assert logged == [("shipment", "pending", "label_ready", "system:carrier"),
                      ("package", "waiting_cargo_label", "packed", "system:carrier")]


def test_running_the_label_job_twice_keeps_one_shipment_and_one_tracking_number(app):
    shipment_id, _package_id = label_requested()
    first = reload(shipment_id).tracking_number
    enqueue_label(shipment_id, suffix="-again")  # a duplicate delivery of the same request
    run_worker()

    shipment = reload(shipment_id)
    assert shipment.tracking_number == first == demo_tracking_number(f"{shipment.package.number}-{shipment_id}")
    assert shipment.attempts == 1
    assert db.session.scalar(select(db.func.count(Shipment.id))) == 1
    assert event_types("shipment", shipment_id) == ["shipment.label_ready"]


def test_a_shipment_cancelled_and_requested_again_gets_a_new_idempotency_key(app):
    shipment_id, _package_id = label_requested()
    first = reload(shipment_id).tracking_number
    shipment = reload(shipment_id)
    db.session.add(TransitionLog(entity_type="shipment", entity_id=shipment_id, from_state="label_ready",
                                 to_state="cancelled", command="cancel", params={}, actor="user:test"))
    shipment.status, shipment.tracking_number, shipment.version = "pending", None, 3
    shipment.package.state = "waiting_cargo_label"
    db.session.commit()
    enqueue_label(shipment_id, version=3)
    run_worker()

    shipment = reload(shipment_id)
    assert shipment.status == "label_ready"
    assert shipment.tracking_number != first
    assert shipment.tracking_number == demo_tracking_number(f"{shipment.package.number}-{shipment_id}-r1")


def test_a_label_job_for_a_cancelled_package_calls_no_carrier(app, gateway):
    shipment_id, _package_id = label_requested(http_cargo(gateway), state="cancelled")
    assert gateway.creates == []
    assert reload(shipment_id).status == "pending"


def test_complete_packing_gets_its_label_from_a_real_worker_and_refresh_label_makes_a_new_one(app):
    package = builders.make_package("preparing", items=[("TSHIRT-M", 2)])
    package_id = package.id
    run_package_command(package_id, "complete_packing", {"boxes": 3, "weight_kg": "2.5"}, builders.supervisor())
    assert db.session.get(Package, package_id).state == "waiting_cargo_label"
    run_worker()  # the command enqueued the label job after its commit

    package = db.session.get(Package, package_id)
    shipment = package.shipment
    assert (package.state, shipment.status, shipment.boxes) == ("packed", "label_ready", 3)
    tracking, shipment_id = shipment.tracking_number, shipment.id
    assert tracking in pdf_text(shipment.label_pdf)
    assert len(PdfReader(io.BytesIO(shipment.label_pdf)).pages) == 3

    run_package_command(package_id, "refresh_label", {}, builders.supervisor())
    assert reload(shipment_id).status == "pending"
    run_worker()
    shipment = reload(shipment_id)
    assert (shipment.status, shipment.tracking_number, shipment.attempts) == ("label_ready", tracking, 2)
    assert shipment.package.state == "packed"


def test_update_shipment_info_regenerates_the_label_with_the_new_tracking_number(app):
    package = builders.make_package("preparing")
    package_id = package.id
    run_package_command(package_id, "complete_packing", {}, builders.supervisor())
    run_worker()
    run_package_command(package_id, "update_shipment_info", {"tracking_number": "MANUAL-42"}, builders.supervisor())
    run_worker()

    shipment = db.session.get(Package, package_id).shipment
    assert (shipment.status, shipment.tracking_number) == ("label_ready", "MANUAL-42")
    assert "MANUAL-42" in pdf_text(shipment.label_pdf) and "^FDMANUAL-42^FS" in shipment.label_zpl
    shipment_id = shipment.id
    enqueue_label(shipment_id, version=99)  # a duplicate: the label is current, the carrier is not asked
    run_worker()
    assert reload(shipment_id).attempts == 2


# ------------------------------------------------------------------------------ HTTP gateway


def test_http_gateway_label_is_requested_once_per_idempotency_key(app, gateway):
    shipment_id, package_id = label_requested(http_cargo(gateway))
    enqueue_label(shipment_id, suffix="-again")
    run_worker()

    shipment = reload(shipment_id)
    assert shipment.status == "label_ready"
    assert shipment.tracking_number == "GW00000001"
    assert shipment.carrier_reference == "ref-GW00000001"
    assert gateway.creates == [f"{shipment.package.number}-{shipment_id}"]
    assert gateway.requests == 1  # the duplicate job did not even fetch the label again
    # The gateway sent no label, so ours was rendered for its tracking number.
    assert "GW00000001" in pdf_text(shipment.label_pdf)
    assert db.session.get(Package, package_id).state == "packed"


def test_a_create_whose_answer_was_lost_is_retried_into_the_same_carrier_shipment(app, gateway):
    gateway.mode = "lose_first_answer"
    shipment_id, _package_id = label_requested(http_cargo(gateway))

    shipment = reload(shipment_id)
    assert shipment.status == "label_ready"
    assert shipment.tracking_number == "GW00000001"
    assert shipment.attempts == 2 and shipment.last_error is None
    key = f"{shipment.package.number}-{shipment_id}"
    assert gateway.creates == [key, key] and list(gateway.by_key) == [key]


@pytest.mark.parametrize(
    ("mode", "attempts", "reason"),
    [
        ("slow", 3, "carrier gateway timed out after 0.3 s"),
        ("error500", 3, "carrier gateway answered 500 to POST /shipments: database is down"),
        ("garbage", 1, "carrier answered with something that is not JSON: <html>Service temporarily"),
        ("no_tracking", 1, "carrier answered without a tracking number"),
    ],
)
def test_a_failing_gateway_leaves_a_failed_shipment_with_the_reason_and_nothing_half_written(
        app, gateway, mode, attempts, reason):
    gateway.mode = mode
    shipment_id, package_id = label_requested(http_cargo(gateway))

    shipment = reload(shipment_id)
    assert shipment.status == "failed"
    assert reason in shipment.last_error
    assert shipment.attempts == attempts == len(gateway.creates)  # transient ones retried twice
    assert (shipment.tracking_number, shipment.label_pdf, shipment.label_zpl) == (None, None, None)
    package = db.session.get(Package, package_id)
    assert (package.state, package.version) == ("waiting_cargo_label", 1)
    assert event_types("shipment", shipment_id) == ["shipment.status_changed"]
    assert event_types("package", package_id) == []
    # The job itself finished: the failure lives on the shipment, where staff see it.
    job = Queue("carriers", connection=redis_connection()).fetch_job(f"label-{shipment_id}-1")
    assert job.get_status() == "finished" and job.return_value()["outcome"] == "failed"


def test_a_failed_label_succeeds_when_requested_again(app, gateway):
    gateway.mode = "error500"
    shipment_id, _package_id = label_requested(http_cargo(gateway))
    assert reload(shipment_id).status == "failed"

    gateway.mode = "ok"
    enqueue_label(shipment_id, version=2)  # what refresh_label does after its commit
    run_worker()
    shipment = reload(shipment_id)
    assert shipment.status == "label_ready" and shipment.last_error is None
    assert shipment.package.state == "packed"


def test_a_cargo_company_with_a_broken_config_fails_the_shipment_at_once(app):
    cargo = factories.cargo_company("BROKEN", adapter="http", config={"base_url": "ftp://nowhere"})
    shipment_id, _package_id = label_requested(cargo)
    shipment = reload(shipment_id)
    assert shipment.status == "failed"
    assert "base_url must be an http:// or https:// URL" in shipment.last_error
    assert shipment.attempts == 1


# ----------------------------------------------------------------------------------- polling


def ship(package_id: int) -> None:
    run_package_command(package_id, "ship", {}, Actor.system("test"))


QUIET = {"polled": 0, "changed": 0, "errors": 0, "cancelled_at_carrier": 0, "cancel_errors": 0,
         "label_requests_requeued": 0}


def run_poll() -> dict:
    enqueue("carriers", "app.tasks.carriers.poll_shipments", job_id="poll-test")
    run_worker()
    return Queue("carriers", connection=redis_connection()).fetch_job("poll-test").return_value()


def test_polling_moves_a_demo_parcel_to_delivered_and_the_package_follows(app):
    shipment_id, package_id = label_requested()  # demo carrier with deliver_after_minutes=0
    ship(package_id)
    assert reload(shipment_id).status == "in_transit"

    assert run_poll() == {**QUIET, "polled": 1, "changed": 1}
    shipment = reload(shipment_id)
    assert shipment.status == "delivered" and shipment.delivered_at is not None
    package = db.session.get(Package, package_id)
    assert package.state == "delivered"
    assert "package.delivered" in event_types("package", package_id)
    last = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "package")
                              .order_by(TransitionLog.id.desc())).first()
    assert (last.from_state, last.to_state, last.command, last.actor) == (
        "shipped", "delivered", "update_shipment_status", "system:carrier")
    assert run_poll()["polled"] == 0  # delivered parcels are not asked about again


def test_a_demo_parcel_stays_in_transit_until_its_delivery_time(app):
    shipment_id, package_id = label_requested(factories.cargo_company("SLOW", config={"deliver_after_minutes": 60}))
    ship(package_id)
    assert run_poll() == {**QUIET, "polled": 1}
    assert db.session.get(Package, package_id).state == "shipped"


def test_gateway_news_moves_the_package_and_one_failing_parcel_does_not_stop_the_others(app, gateway):
    cargo = http_cargo(gateway)
    first, second = build_shipment(cargo), build_shipment(cargo)
    ids = [(first.id, first.package_id), (second.id, second.package_id)]
    for shipment_id, package_id in ids:
        enqueue_label(shipment_id)
        run_worker()
        ship(package_id)
    (a, a_package), (b, b_package) = ids
    gateway.statuses[reload(b).tracking_number] = "delivery_attempted"  # a's lookup answers 500

    assert run_poll() == {**QUIET, "polled": 2, "changed": 1, "errors": 1}
    assert db.session.get(Package, a_package).state == "shipped"
    assert db.session.get(Package, b_package).state == "attempted_delivery"
    assert reload(b).status == "attempted_delivery"

    gateway.statuses[reload(b).tracking_number] = "delivered"
    gateway.statuses[reload(a).tracking_number] = "in_transit"
    assert run_poll() == {**QUIET, "polled": 2, "changed": 1}
    assert db.session.get(Package, b_package).state == "delivered"
    assert db.session.get(Package, a_package).state == "shipped"


def test_polling_requeues_a_label_request_whose_job_was_lost(app):
    shipment = build_shipment()
    shipment_id, package_id = shipment.id, shipment.package_id
    shipment.updated_at = _utc_now() - timedelta(minutes=20)  # complete_packing committed, Redis was down
    db.session.commit()

    assert run_poll()["label_requests_requeued"] == 1
    run_worker()
    assert reload(shipment_id).status == "label_ready"
    assert db.session.get(Package, package_id).state == "packed"


def test_a_cancelled_package_s_shipment_is_cancelled_at_the_carrier_once(app, gateway):
    shipment_id, package_id = label_requested(http_cargo(gateway))
    run_package_command(package_id, "cancel", {"reason": "customer changed her mind"}, Actor.system("test"))
    assert reload(shipment_id).status == "cancelled"

    assert run_poll() == {**QUIET, "cancelled_at_carrier": 1}
    assert gateway.cancels == ["GW00000001"]
    assert run_poll() == QUIET
    assert gateway.cancels == ["GW00000001"]
    last = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "shipment")
                              .order_by(TransitionLog.id.desc())).first()
    assert (last.command, last.actor, last.params) == ("cancel_at_carrier", "system:carrier",
                                                       {"tracking_number": "GW00000001"})


def test_a_cancelled_demo_parcel_is_recorded_as_cancelled_at_the_demo_carrier_once(app):
    shipment_id, package_id = label_requested()  # demo carrier
    tracking_number = reload(shipment_id).tracking_number
    run_package_command(package_id, "cancel", {}, Actor.system("test"))

    assert run_poll() == {**QUIET, "cancelled_at_carrier": 1}
    assert run_poll() == QUIET
    told = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "shipment",
                                                          TransitionLog.command == "cancel_at_carrier")).all()
    assert [(t.actor, t.params) for t in told] == [("system:carrier", {"tracking_number": tracking_number})]


def test_a_carrier_refusing_a_cancellation_is_recorded_and_not_asked_again(app, gateway):
    gateway.cancel_answer = 409
    shipment_id, package_id = label_requested(http_cargo(gateway))
    run_package_command(package_id, "cancel", {}, Actor.system("test"))

    assert run_poll() == {**QUIET, "cancel_errors": 1}
    assert run_poll() == QUIET
    assert gateway.cancels == ["GW00000001"]
    last = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "shipment")
                              .order_by(TransitionLog.id.desc())).first()
    assert last.params["error"].endswith("already handed over")


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
