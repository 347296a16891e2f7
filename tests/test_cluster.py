"""The cluster of docs/deploy.md, for real: `make cluster`'s supervisor (app.devserver with
PACKLINE_WEB=2 PACKLINE_WORKERS=2) runs two gunicorn servers on two ports and two RQ workers with
their schedulers against PostgreSQL and one Redis. Orders and package commands go alternately to
both ports (each command sent to both, as a client retrying on the other server would). Labels come
from the demo carrier and, for every other order, from a local HTTP carrier gateway; webhooks go to
a local receiver. The gateway holds one label request and the receiver one delivery until the test
has SIGKILLed the worker holding that connection, so both kills land in the middle of a job. Then:
every order planned once, no command applied twice, every label made once, every webhook event
received, each periodic job run once per period across both schedulers, the request id of an order
in the log of the job it enqueued, /metrics adding up every process, and nothing left after SIGTERM.

Runs only on PostgreSQL (TEST_DATABASE_URL=postgresql://..., as the second CI run sets it).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import free_port
from tests.http_servers import LocalServer, QuietHandler
from tests.scratch_db import postgres_database
from tests.test_devserver import Run, _alive, _children, _cmdline, _descendants

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not BASE_URL.startswith("postgresql"),
                                reason="the cluster runs on PostgreSQL only: set TEST_DATABASE_URL=postgresql://...")

ORDERS = 12
HELD_DELIVERY = 6  # the webhook request during which a worker is killed
HELD_LABEL = 2  # the gateway's label request during which a worker is killed
BARCODE = "8690000000017"
PERIODIC = re.compile(r"^periodic-(?P<name>.+)-(?P<slot>\d+)$")


class Holding(LocalServer):
    """A local server that holds its `hold_at`-th request unanswered until `release` is set."""

    def __init__(self, handler: type[QuietHandler], hold_at: int) -> None:
        super().__init__(handler)
        self.lock = threading.Lock()
        self.count = 0
        self.hold_at = hold_at
        self.held = threading.Event()
        self.held_client_port = 0
        self.held_tag = ""
        self.release = threading.Event()

    def hold_this_one(self, client_port: int, tag: str = "") -> bool:
        with self.lock:
            self.count += 1
            if self.count != self.hold_at:
                return False
            self.held_client_port, self.held_tag = client_port, tag
        self.held.set()
        self.release.wait(60)
        return True


class Receiver(Holding):
    """Webhooks: answers 204 after a short pause, records each event id."""

    def __init__(self) -> None:
        super().__init__(_Handler, HELD_DELIVERY)
        self.event_ids: list[str] = []


class Gateway(Holding):
    """A brand's carrier gateway (docs/carriers.md): one tracking number per Idempotency-Key."""

    def __init__(self) -> None:
        super().__init__(_GatewayHandler, HELD_LABEL)
        self.keys: list[str] = []


class _GatewayHandler(QuietHandler):
    server: Gateway

    def do_POST(self) -> None:
        self.read_body()
        key = self.headers["Idempotency-Key"]
        if self.path != "/shipments" or self.server.hold_this_one(self.client_address[1], key):
            return
        with self.server.lock:
            self.server.keys.append(key)
        body = json.dumps({"tracking_number": f"GW-{uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:12]}"}).encode()
        self.reply(200, body, Content_Type="application/json")

    def do_GET(self) -> None:  # the carrier poll asks for parcel statuses
        self.reply(200, b'{"status": "created"}', Content_Type="application/json")


class _Handler(QuietHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.read_body()
        if self.server.hold_this_one(self.client_address[1]):
            return  # no answer: the sender is dead
        time.sleep(0.1)
        with self.server.lock:
            self.server.event_ids.append(json.loads(body)["id"])
        self.send_response(204)
        self.end_headers()


def _owner_of_connection(client_port: int, pids: list[int]) -> int | None:
    """The process among `pids` holding the TCP connection whose local port is `client_port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == client_port:
                inodes.add(fields[9])
    for pid in pids:
        try:
            for fd in (Path("/proc") / str(pid) / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return pid
        except OSError:
            continue
    return None


def _two_free_ports() -> int:
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free ports in a row")


@pytest.fixture
def cluster_database():
    url = make_url(BASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with postgres_database(url, f"{url.database or 'packline'}_cluster_{os.getpid()}") as database:
        yield database


def _flask(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_two_web_servers_and_two_workers_survive_a_killed_worker(tmp_path, cluster_database):
    receiver, gateway = Receiver(), Gateway()
    for server in (receiver, gateway):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    port = _two_free_ports()
    ports = [port, port + 1]
    database = cluster_database.render_as_string(hide_password=False).replace("+psycopg", "")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SECRET_KEY", "PACKLINE_ENV")}
    env.update(DATABASE_URL=database, PACKLINE_INSTANCE_DIR=str(tmp_path / "instance"), PYTHONUNBUFFERED="1",
               PACKLINE_WEB="2", PACKLINE_WORKERS="2", PACKLINE_LOG_FORMAT="json",
               WEBHOOK_ALLOW_PRIVATE_URLS="true", WEBHOOK_LEASE_SECONDS="5",
               METRICS_TOKEN="cluster-metrics-token", CARRIER_POLL_SECONDS="6", CARRIER_LABEL_STALE_SECONDS="6")
    # Not the demo brand: the release step and one admin first, so the supervisor does not seed.
    _flask(env, "db", "upgrade")
    _flask(env, "users", "create", "ops", "--role", "admin", "--password", "cluster-test-password-1")
    token = _flask(env, "tokens", "create", "ops").strip().splitlines()[-1]
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    calls = {"n": 0}

    def call(method: str, path: str, body=None, expect: int = 200, key: str | None = None, port_index=None):
        index = calls["n"] % 2 if port_index is None else port_index
        calls["n"] += 1
        headers = {"Idempotency-Key": key} if key else {}
        answer = session.request(method, f"http://127.0.0.1:{ports[index]}/api/v1{path}", json=body,
                                 headers=headers, timeout=30)
        assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
        return answer

    run = Run(tmp_path, port, env)
    try:
        run.wait_for("Press Ctrl-C to stop.", timeout=120)
        assert f"http://127.0.0.1:{ports[1]}/" in run.output
        workers = [pid for pid in _children(run.proc.pid) if _cmdline(pid).endswith("wsgi worker ")]
        assert len(workers) == 2, run.output

        call("PUT", "/settings/WEBHOOK_ALLOW_PRIVATE_URLS", {"value": True})
        call("POST", "/locations", {"code": "CL-01", "name": "Cluster Store", "type": "store", "city": "Istanbul",
                                    "district": "Kadikoy", "latitude": 40.99, "longitude": 29.03, "priority": 10,
                                    "is_pickup_location": True}, 201)
        call("POST", "/channels", {"code": "web", "name": "Web shop"}, 201)
        call("POST", "/cargo-companies", {"code": "demo", "name": "Demo Cargo", "adapter": "demo"}, 201)
        call("POST", "/cargo-companies", {"code": "gw", "name": "Gateway Cargo", "adapter": "http",
                                          "config": {"base_url": gateway.url(""), "timeout_seconds": 60}}, 201)
        call("POST", "/products", {"sku": "CL-1", "name": "Cluster mug", "barcodes": [BARCODE], "weight_kg": 0.3},
             201)
        call("PUT", "/stock", [{"location": "CL-01", "sku": "CL-1", "quantity": 1000}])
        call("POST", "/scenarios", {
            "name": "Web", "priority": 10, "active": True, "default_location": "CL-01",
            "conditions": {"channels": ["web"], "delivery_types": [], "payment_types": [], "cargo_companies": []},
            "rules": [{"name": "Best store", "sort": [{"by": "priority", "order": "asc"}]}]}, 201)
        call("POST", "/webhooks", {"url": receiver.url("/hooks"),
                                   "events": ["package.state_changed", "shipment.label_ready"],
                                   "secret": "cluster-secret", "active": True,
                                   "retry": {"strategy": "fixed", "max_attempts": 10}}, 201)

        # Orders, each also sent again to the other server with the same key (a client's retry).
        order_ids, request_ids = [], {}
        for i in range(ORDERS):
            body = {"number": f"CL-{i}", "channel": "web", "placed_at": "2026-11-20T10:00:00Z", "status": "approved",
                    "delivery_type": "cargo", "payment_type": "card", "cargo_company": ("demo", "gw")[i % 2],
                    "customer": {"name": "Ayse Yilmaz", "email": "ayse@example.com", "phone": "+905551112233"},
                    "shipping_address": {"line": "Moda Cd. 1", "city": "Istanbul", "district": "Kadikoy",
                                         "postcode": "34710", "country": "TR", "latitude": 40.98,
                                         "longitude": 29.02},
                    "items": [{"sku": "CL-1", "quantity": 1, "price": "99.90"}]}
            first = call("POST", "/orders", body, 201, key=f"order-{i}", port_index=i % 2)
            again = call("POST", "/orders", body, 201, key=f"order-{i}", port_index=(i + 1) % 2)
            assert again.json()["id"] == first.json()["id"]
            order_ids.append(first.json()["id"])
            request_ids[first.json()["id"]] = first.headers["X-Request-Id"]
        packages = _wait_for(lambda: _planned_packages(call, order_ids), 60, "every order planned", run)

        killed: dict[str, int] = {}
        orphans: set[int] = set()

        def kill_the_sender(server: Holding, what: str) -> None:
            if not server.held.wait(90):
                return
            current = [pid for pid in _children(run.proc.pid) if _cmdline(pid).endswith("wsgi worker ")]
            pid = _owner_of_connection(server.held_client_port, current)
            if pid is not None:
                killed[what] = pid
                orphans.update(_descendants(pid))  # its RQ scheduler process must not outlive it
                os.kill(pid, signal.SIGKILL)
            server.release.set()

        killers = [threading.Thread(target=kill_the_sender, args=(server, what), daemon=True)
                   for server, what in ((gateway, "label"), (receiver, "webhook"))]
        for killer in killers:
            killer.start()
        for n, package_id in enumerate(packages):
            for command, body in (("prepare", None), ("pick", {"barcode": BARCODE, "quantity": 1}),
                                  ("complete_packing", {"boxes": 1, "weight_kg": 0.4})):
                key = f"{command}-{package_id}"
                first = call("POST", f"/packages/{package_id}/commands/{command}", body, key=key, port_index=n % 2)
                again = call("POST", f"/packages/{package_id}/commands/{command}", body, key=key,
                             port_index=(n + 1) % 2)
                assert again.json() == first.json()
        for killer in killers:
            killer.join(timeout=120)
        assert set(killed) == {"label", "webhook"}, f"killed {killed}:\n{run.output[-3000:]}"
        _wait_for(lambda: run.output.count("stopped unexpectedly (exit code -9); starting it again") == 2, 30,
                  "both killed workers started again", run)

        _wait_for(lambda: all(call("GET", f"/packages/{p}").json()["state"] == "packed" for p in packages),
                  90, "every label made", run)
        engine = create_engine(cluster_database)
        try:
            _wait_for(lambda: _deliveries_settled(engine), 90, "every webhook delivery settled", run)
            _check_database(engine, order_ids, packages, receiver, gateway)
        finally:
            engine.dispose()

        for package_id in packages:
            history = call("GET", f"/packages/{package_id}/history").json()["results"]
            assert [h["to_state"] for h in history] == [
                "waiting", "preparing", "preparing", "waiting_cargo_label", "packed"], history

        # Either server's /metrics adds up the counts of all processes: the 12 orders were planned
        # in the workers, the requests answered by both servers.
        for index in (0, 1):
            scrape = requests.get(f"http://127.0.0.1:{ports[index]}/metrics", timeout=30,
                                  headers={"Authorization": "Bearer cluster-metrics-token"})
            assert scrape.status_code == 200
            assert _metric_sum(scrape.text, "packline_orders_planned_total") == ORDERS
            assert _metric_sum(scrape.text, "packline_http_requests_total") >= calls["n"]

        everything = _descendants(run.proc.pid)
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=90) == 0, run.output[-3000:]
    finally:
        for server in (receiver, gateway):
            server.release.set()
        if run.proc.poll() is None:
            run.proc.kill()
        for server in (receiver, gateway):
            server.shutdown()
    run.reader.join(timeout=10)
    (tmp_path / "cluster.log").write_text(run.output)  # for a person reading a failure
    _wait_for(lambda: not [pid for pid in everything | set(killed.values()) | orphans if _alive(pid)], 30,
              "every process gone", run)
    _check_logs(run.output, order_ids, request_ids)


def _wait_for(condition, timeout: float, what: str, run: Run):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert run.proc.poll() is None, f"the cluster stopped before {what}:\n{run.output[-5000:]}"
        assert time.monotonic() < deadline, f"not {what} within {timeout} s:\n{run.output[-5000:]}"
        time.sleep(0.5)


def _metric_sum(exposition: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in exposition.splitlines()
               if line.startswith(name + "{") or line.startswith(name + " "))


def _planned_packages(call, order_ids: list[int]) -> list[int] | None:
    packages = []
    for order_id in order_ids:
        order = call("GET", f"/orders/{order_id}").json()
        if order["status"] != "planned":
            return None
        packages += [p["id"] for p in order["packages"]]
    return packages


def _deliveries_settled(engine) -> bool:
    with engine.connect() as conn:
        open_ = conn.scalar(text("SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'"))
        total = conn.scalar(text("SELECT count(*) FROM webhook_deliveries"))
        # An event whose publishing job died with the killed worker waits for the sweeper (15 s):
        # until then it has no delivery at all, so "every delivery succeeded" is not yet the end.
        unpublished = conn.scalar(text("SELECT count(*) FROM outbox_events WHERE published_at IS NULL"))
    return total > 0 and open_ == 0 and unpublished == 0


def _check_database(engine, order_ids: list[int], packages: list[int], receiver: Receiver,
                    gateway: Gateway) -> None:
    with engine.connect() as conn:
        # Every order planned once: one package each, holding exactly the ordered unit, planned once.
        per_order = dict(conn.execute(text("SELECT order_id, count(*) FROM packages GROUP BY order_id")).all())
        assert per_order == dict.fromkeys(order_ids, 1)
        units = dict(conn.execute(text(
            "SELECT p.order_id, sum(i.quantity) FROM package_items i JOIN packages p ON p.id = i.package_id "
            "GROUP BY p.order_id")).all())
        assert units == dict.fromkeys(order_ids, 1)
        planned = Counter(row[0] for row in conn.execute(text(
            "SELECT aggregate_id FROM outbox_events WHERE type = 'package.created'")))
        assert planned == Counter(packages)
        # Every label made once: one shipment per package, one label_ready each.
        shipments = dict(conn.execute(text(
            "SELECT package_id, count(*) FROM shipments WHERE tracking_number IS NOT NULL GROUP BY package_id")).all())
        assert shipments == dict.fromkeys(packages, 1)
        ready = Counter(row[0] for row in conn.execute(text(
            "SELECT aggregate_id FROM outbox_events WHERE type = 'shipment.label_ready'")))
        assert len(ready) == len(packages) and set(ready.values()) == {1}, ready
        gateway_numbers = conn.scalar(text("SELECT count(*) FROM shipments WHERE tracking_number LIKE 'GW-%'"))
    # The label request cut by the kill was asked again with the same key, and got the same shipment.
    with gateway.lock:
        keys = Counter(gateway.keys)
    assert gateway_numbers == len(keys) == ORDERS // 2, keys
    assert gateway.held_tag in keys, (gateway.held_tag, keys)
    assert gateway.count == len(gateway.keys) + 1  # every request answered once, but the held one
    with engine.connect() as conn:
        # Every webhook event delivered, at least once each.
        sent = {row[0] for row in conn.execute(text(
            "SELECT e.event_id FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id"))}
        assert len(sent) >= 4 * len(packages)  # state changes and a label per package
    with receiver.lock:
        received = set(receiver.event_ids)
    assert sent <= received, sent - received
    with engine.connect() as conn:
        redelivered = conn.scalar(text("SELECT count(*) FROM webhook_deliveries WHERE attempts > 1"))
    assert redelivered >= 1, "the delivery cut by the kill was attempted again"


def _check_logs(output: str, order_ids: list[int], request_ids: dict[int, str]) -> None:
    lines = []
    for raw in output.splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
    done = [line for line in lines if line.get("logger") == "packline.jobs" and " done in " in line["message"]]
    # Each periodic job ran at most once per period, though two schedulers ticked every 5 s.
    periodic = Counter(line["job_id"] for line in done if PERIODIC.match(line.get("job_id", "")))
    assert periodic and set(periodic.values()) == {1}, periodic
    slots: dict[str, list[int]] = {}
    for job_id in periodic:
        match = PERIODIC.match(job_id)
        slots.setdefault(match["name"], []).append(int(match["slot"]))
    polls = sorted(slots.get("poll_shipments", []))
    assert len(polls) >= 3, slots  # every 6 s during the run; the schedulers tick every 5 s
    # Every period had its run: two schedulers tick every 5 s for a 6 s period (a slow tick under load
    # may let one slip by both, which is not what this test is about; a duplicate is).
    assert polls[-1] - polls[0] + 1 - len(polls) <= 2, polls
    # The request id of each order's POST is on the log line of the planning job it enqueued.
    for order_id in order_ids:
        planning = [line for line in done if line.get("job_id") == f"plan-order-{order_id}"]
        assert planning and {line["request_id"] for line in planning} == {request_ids[order_id]}, planning
