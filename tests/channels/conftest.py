"""The channel simulator as a real process, and a small world: a store with stock, products,
a scenario, and channels connected to the simulator."""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from rq import Queue, SimpleWorker

from app.extensions import db
from app.queues import redis_connection
from tests import factories
from tests.services.builders import make_scenario

ROOT = Path(__file__).resolve().parents[2]
SECRET = "shh-webhook-secret"


class Simulator:
    """Talks to the simulator process over HTTP, as a test would talk to a real shop."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def reset(self) -> None:
        self._call("POST", "/_sim/reset", {})

    def catalog(self, *skus: str) -> None:
        self._call("POST", "/_sim/catalog", {"skus": list(skus)})

    def fault(self, path_prefix: str, mode: str, count: int = 1, **extra: Any) -> None:
        self._call("POST", "/_sim/faults", {"path_prefix": path_prefix, "mode": mode, "count": count, **extra})

    def requests(self, path_prefix: str = "", method: str = "") -> list[dict[str, Any]]:
        return self._call("GET", f"/_sim/requests?path_prefix={path_prefix}&method={method}")["requests"]

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/_sim/state")

    def add_trendyol_packages(self, *packages: dict[str, Any]) -> None:
        self._call("POST", "/_sim/trendyol/packages", {"packages": list(packages)})

    def add_woocommerce_refunds(self, order_id: int, *refunds: dict[str, Any]) -> None:
        self._call("POST", "/_sim/woocommerce/refunds", {"order_id": order_id, "refunds": list(refunds)})

    def add_trendyol_claims(self, *claims: dict[str, Any]) -> None:
        self._call("POST", "/_sim/trendyol/claims", {"claims": list(claims)})

    def send_webhook(self, url: str, channel: str, topic: str, payload: Any, secret: str = SECRET,
                     **extra: Any) -> dict[str, Any]:
        return self._call("POST", "/_sim/webhooks/send", {"url": url, "channel": channel, "topic": topic,
                                                          "payload": payload, "secret": secret, **extra})


def start_simulator(*extra: str) -> tuple[subprocess.Popen, Simulator]:
    """The simulator as its own process on a port it chose itself (port 0: no race with other
    test processes for a "free" port); its first output line names the address."""
    proc = subprocess.Popen([sys.executable, "-m", "app.channel_simulator", "--port", "0", *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 60)  # a loaded CI machine starts Python slowly
    line = proc.stdout.readline() if ready else ""
    match = re.search(r"(http://\S+)", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"the channel simulator did not start: {line!r}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
    return proc, Simulator(match[1])


@pytest.fixture(scope="session")
def simulator_process():
    proc, sim = start_simulator()
    yield sim
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def sim(simulator_process: Simulator) -> Simulator:
    simulator_process.reset()
    return simulator_process


def shopify_config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {"base_url": sim.url, "access_token": "shpat_test", "webhook_secret": SECRET, "location_id": 777,
            "default_cargo_company": "demo", **extra}


def woo_config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {"base_url": sim.url, "consumer_key": "ck_test", "consumer_secret": "cs_test", "webhook_secret": SECRET,
            "default_cargo_company": "demo", **extra}


def trendyol_config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {"base_url": sim.url, "seller_id": "12345", "api_key": "key", "api_secret": "secret",
            "default_cargo_company": "demo", **extra}


@pytest.fixture
def world(app, sim):
    """IST-01 holds 10 of TSHIRT-M and 5 of MUG; channels shop (Shopify), woo (WooCommerce) and
    ty (Trendyol) point at the simulator, which knows both SKUs."""
    store = factories.location("IST-01", priority=1)
    factories.cargo_company("demo")
    for sku, qty in (("TSHIRT-M", 10), ("MUG", 5)):
        factories.stock(store, factories.product(sku=sku), qty)
    factories.channel("shop", adapter="shopify", config=shopify_config(sim))
    factories.channel("woo", adapter="woocommerce", config=woo_config(sim))
    factories.channel("ty", adapter="trendyol", config=trendyol_config(sim), provides_shipping_label=True)
    db.session.commit()
    make_scenario(store)
    sim.catalog("TSHIRT-M", "MUG")
    return store


def run_jobs(*queues: str) -> None:
    """Run every queued job of these queues (and the jobs they queue) with a real burst worker."""
    db.session.remove()  # as in a worker: each job starts without the test's read transaction
    conn = redis_connection()
    names = queues or ("channels", "planning", "default")
    SimpleWorker([Queue(n, connection=conn) for n in names], connection=conn).work(burst=True)
    db.session.expire_all()
