"""Command API benchmark (SPEC §12): prepare / pick / complete_packing through gunicorn,
≥ 300 commands/s with p95 ≤ 50 ms, next to a same-run baseline: the trivial `GET /healthz`
(one `SELECT 1` and one Redis PING) hammered by the same client threads.

    python -m bench.commands                        # SQLite in a temporary directory
    python -m bench.commands --database postgresql://postgres@/packline?host=/tmp/pg&port=5433

Setup: a scratch database migrated with `flask_migrate.upgrade`, one store, 20 products with
plenty of stock, N orders with one `waiting` package each (2 one-unit items of different
products, reserved through the service layer), an admin user and API token, a private
redis-server on a unix socket, and `gunicorn -w 2 --threads 4 wsgi:app` on a free loopback port.
Then --clients threads (one requests.Session each) take packages from a shared queue and, per
package, POST .../commands/prepare, .../commands/pick once per unit (by barcode) and
.../commands/complete_packing_without_shipment (no carrier job needed): 4 commands per package,
in order, each expected to answer 200. The command phase stops after --seconds even if packages
are left; gunicorn and redis are stopped at the end (also on error).

Every phase also prints the client's own CPU per request (`time.process_time` of this process,
all client threads): the clients share the machine's cores with gunicorn and the database, so
what they burn is not the server's. `--client light` drives the API and `/healthz` with
http.client instead of requests (about a third of the client CPU per request).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.planning import _database

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = 20
ITEMS_PER_PACKAGE = 2
STAFF, STAFF_PASSWORD = "bench-staff", "bench-password-123"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(url: str, packages: int) -> tuple[str, list[tuple[int, list[str]]]]:
    """Migrate and fill the database; returns an admin API token and, per package, its id and the
    barcodes to scan (one per unit)."""
    from datetime import UTC, datetime

    from flask_migrate import upgrade

    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.models import Channel, Order, OrderItem, Product, ProductBarcode, StockLocation
    from app.services import stock, users, workorders

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        RQ_SYNC = True

    app = create_app(BenchConfig)
    out: list[tuple[int, list[str]]] = []
    with app.app_context():
        upgrade()
        channel = Channel(code="web", name="Web", provides_shipping_label=False)
        location = StockLocation(code="BENCH", name="Bench store", type="store", city="Istanbul",
                                 latitude=41.0, longitude=29.0, priority=10, is_packaging_center=True,
                                 is_transfer_source=True, is_pickup_location=True, active=True, tags=[])
        db.session.add_all([channel, location])
        products = []
        for n in range(PRODUCTS):
            p = Product(sku=f"CMD-{n:03d}", name=f"Command product {n}", weight_kg=0.5)
            p.barcodes.append(ProductBarcode(barcode=f"868{n:010d}"))
            products.append(p)
        db.session.add_all(products)
        db.session.flush()
        for p in products:
            stock.set_on_hand(location.id, p.id, packages * ITEMS_PER_PACKAGE + 10, "system:bench")
        db.session.commit()
        barcode = {p.id: p.barcodes[0].barcode for p in products}
        now = datetime.now(UTC).replace(tzinfo=None)
        for n in range(packages):
            order = Order(number=f"CMD-{n:06d}", channel_id=channel.id, placed_at=now, status="new",
                          delivery_type="cargo", customer_name="Bench", ship_city="Istanbul", ship_country="TR")
            chosen = [products[(n + k * 7) % PRODUCTS] for k in range(ITEMS_PER_PACKAGE)]
            for p in chosen:
                order.items.append(OrderItem(product=p, quantity=1))
            db.session.add(order)
            db.session.flush()
            package = workorders.create_package(order, location.id, [workorders.Line(i, 1) for i in order.items],
                                                "waiting", "system:bench", reserve=True)
            db.session.flush()
            out.append((package.id, [barcode[p.id] for p in chosen]))
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()
        users.create_user("bench-admin", "admin", "bench-password-123")
        users.create_user(STAFF, "staff", STAFF_PASSWORD, ["BENCH"])
        token = users.create_token("bench-admin", "bench")
        db.session.commit()  # create_token only flushes
        db.engine.dispose()
    return token, out


class _Redis:
    def __init__(self, directory: Path):
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen | None = None
        self.directory = directory

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit("redis-server is not installed")
        self.proc = subprocess.Popen([server, "--port", "0", "--unixsocket", str(self.socket), "--save", "",
                                      "--appendonly", "no", "--dir", str(self.directory)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not self.socket.exists():
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("redis-server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        _stop(self.proc)


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _start_gunicorn(url: str, redis_url: str, port: int, log: Path, workers: int, threads: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, PACKLINE_ENV="development")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads",
                             str(threads), "wsgi:app"], cwd=ROOT, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    import requests

    deadline = time.time() + 30
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        if time.time() > deadline:
            raise SystemExit(f"gunicorn did not answer /healthz:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


class _LightSession:
    """A keep-alive HTTP/1.1 connection with the little `requests.Session` API the API and
    `/healthz` clients use (`--client light`): http.client costs the client a fraction of the
    CPU requests does, and on a box the client shares with the server that CPU is the server's."""

    class _Answer:
        def __init__(self, status_code: int, body: bytes):
            self.status_code, self.text = status_code, body.decode("utf-8", "replace")

    def __init__(self, base: str):
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self._host, self._port = parts.hostname, parts.port
        self._conn = None
        self.headers: dict[str, str] = {}

    def _request(self, method: str, url: str, body: bytes | None, headers: dict[str, str]):
        import http.client
        from urllib.parse import urlsplit

        split = urlsplit(url)
        path = split.path + (f"?{split.query}" if split.query else "")
        for attempt in (1, 2):  # a kept-alive connection the server closed is opened again once
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
            try:
                self._conn.request(method, path, body=body, headers={**self.headers, **headers})
                answer = self._conn.getresponse()
                return self._Answer(answer.status, answer.read())
            except (http.client.HTTPException, ConnectionError):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, url: str, timeout: float = 30):
        return self._request("GET", url, None, {})

    def post(self, url: str, json=None, timeout: float = 30):
        import json as _json

        body = b"" if json is None else _json.dumps(json).encode()
        return self._request("POST", url, body, {"Content-Type": "application/json"} if json is not None else {})

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _session(base: str, kind: str):
    if kind == "light":
        return _LightSession(base)
    import requests

    return requests.Session()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run_clients(client, clients: int, seconds: float, latencies: list[list[float]], errors: list[str]) -> dict:
    """Run `client(n)` on `clients` threads (bounded by `seconds` + 60) and gather their latencies."""
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started, cpu = time.perf_counter(), time.process_time()  # process-wide: every client thread
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    flat = [v for part in latencies for v in part]
    return {"requests": len(flat), "seconds": elapsed, "latencies": flat, "errors": errors, "client_cpu": cpu}


def _drive_commands(base: str, token: str, work: list[tuple[int, list[str]]], clients: int,
                    seconds: float, kind: str = "requests") -> dict:
    todo: queue.Queue = queue.Queue()
    for item in work:
        todo.put(item)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    done_packages = [0] * clients
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        session = _session(base, kind)
        session.headers["Authorization"] = f"Token {token}"
        mine = latencies[n]
        try:
            while time.perf_counter() < stop_at and len(errors) < 20:
                try:
                    package_id, barcodes = todo.get_nowait()
                except queue.Empty:
                    return
                steps = [("prepare", None)] + [("pick", {"barcode": b}) for b in barcodes] + \
                        [("complete_packing_without_shipment", None)]
                for command, body in steps:
                    t0 = time.perf_counter()
                    r = session.post(f"{base}/api/v1/packages/{package_id}/commands/{command}", json=body, timeout=30)
                    mine.append(time.perf_counter() - t0)
                    if r.status_code != 200:
                        errors.append(f"package {package_id} {command}: {r.status_code} {r.text[:200]}")
                        break
                else:
                    done_packages[n] += 1
        except Exception as exc:  # a client must never hang the benchmark
            errors.append(f"client {n}: {type(exc).__name__}: {exc}")
        finally:
            session.close()

    result = _run_clients(client, clients, seconds, latencies, errors)
    result["packages"] = sum(done_packages)
    return result


def _store_session(base: str):
    """A signed-in browser session of the store's staff: the login form's CSRF token, the
    session cookie, and the CSRF token every page puts in htmx's headers."""
    import re

    import requests

    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)  # base.html gives htmx the token
    r = session.post(f"{base}/login", data={"username": STAFF, "password": STAFF_PASSWORD, "csrf_token": csrf},
                     timeout=30, allow_redirects=False)
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed: {r.status_code}")
    page = session.get(f"{base}/store/BENCH/", timeout=30).text
    match = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    if match is None:
        raise RuntimeError("no CSRF token on the store page")
    session.headers.update({"HX-Request": "true", "X-CSRFToken": match.group(1)})
    return session


def _drive_buttons(base: str, work: list[tuple[int, list[str]]], clients: int, seconds: float) -> dict:
    """The same commands as the store's htmx buttons post them: Prepare, one scan per unit (the
    scan form), Pack without shipment; fragment answers, CSRF header, session cookie."""
    todo: queue.Queue = queue.Queue()
    for item in work:
        todo.put(item)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    done_packages = [0] * clients
    sessions = [_store_session(base) for _ in range(clients)]  # signing in is not timed
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        session, mine = sessions[n], latencies[n]
        try:
            while time.perf_counter() < stop_at and len(errors) < 20:
                try:
                    package_id, barcodes = todo.get_nowait()
                except queue.Empty:
                    return
                page = f"{base}/store/BENCH/packages/{package_id}"
                steps = [(f"{page}/commands/prepare", {})] + [(f"{page}/scan", {"barcode": b}) for b in barcodes] + \
                        [(f"{page}/commands/complete_packing_without_shipment", {})]
                for url, form in steps:
                    t0 = time.perf_counter()
                    r = session.post(url, data=form, timeout=30)
                    mine.append(time.perf_counter() - t0)
                    if r.status_code != 200:
                        errors.append(f"package {package_id} {url.rsplit('/', 1)[-1]}: {r.status_code} {r.text[:200]}")
                        break
                else:
                    done_packages[n] += 1
        except Exception as exc:  # a client must never hang the benchmark
            errors.append(f"client {n}: {type(exc).__name__}: {exc}")
        finally:
            session.close()

    result = _run_clients(client, clients, seconds, latencies, errors)
    result["packages"] = sum(done_packages)
    return result


def _drive_healthz(base: str, clients: int, requests_total: int, seconds: float, kind: str = "requests") -> dict:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    per_client = requests_total // clients
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        session = _session(base, kind)
        mine = latencies[n]
        try:
            for _ in range(per_client):
                if time.perf_counter() > stop_at or len(errors) >= 20:
                    return
                t0 = time.perf_counter()
                r = session.get(f"{base}/healthz", timeout=30)
                mine.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(f"healthz: {r.status_code} {r.text[:200]}")
        except Exception as exc:
            errors.append(f"client {n}: {type(exc).__name__}: {exc}")
        finally:
            session.close()

    return _run_clients(client, clients, seconds, latencies, errors)


def _line(label: str, r: dict) -> str:
    lat = r["latencies"]
    ms = 1000.0
    rate = r["requests"] / r["seconds"] if r["seconds"] else 0.0
    return (f"{label}: {rate:.0f} req/s ({r['requests']} in {r['seconds']:.1f}s), "
            f"p50 {_pct(lat, 0.5) * ms:.1f} ms, p95 {_pct(lat, 0.95) * ms:.1f} ms, "
            f"p99 {_pct(lat, 0.99) * ms:.1f} ms, mean {statistics.fmean(lat) * ms if lat else 0:.1f} ms; "
            f"the client's own CPU {r['client_cpu'] / max(r['requests'], 1) * ms:.2f} ms a request "
            f"({r['client_cpu'] / r['seconds'] if r['seconds'] else 0:.2f} of a core)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", "sqlite"),
                        help="sqlite (default) or a postgresql:// server URL (a scratch database is created)")
    parser.add_argument("--packages", type=int, default=2000, help="waiting packages to seed (4 commands each)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=40.0, help="time limit of the command phase")
    parser.add_argument("--healthz", type=int, default=4000, help="GET /healthz requests in the baseline")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client", choices=["requests", "light"], default="requests",
                        help="the API and /healthz clients' HTTP library: requests (default) or http.client "
                             "(light: less of the shared CPU goes to the client; the buttons always use requests)")
    parser.add_argument("--buttons", action="store_true",
                        help="also run the same commands as the store's htmx buttons (half the packages each)")
    args = parser.parse_args(argv)

    url, drop = _database(args.database)
    kind = url.split(":", 1)[0].split("+")[0]
    tmp = Path(tempfile.mkdtemp(prefix="packline-bench-cmd-"))
    redis = _Redis(tmp)
    gunicorn = None
    try:
        t0 = time.perf_counter()
        token, work = _seed(url, args.packages)
        print(f"[commands/{kind}] seeded {len(work)} waiting packages ({ITEMS_PER_PACKAGE} units each) "
              f"in {time.perf_counter() - t0:.1f}s", flush=True)
        redis.start()
        port = _free_port()
        gunicorn = _start_gunicorn(url, redis.url, port, tmp / "gunicorn.log", args.workers, args.threads)
        base = f"http://127.0.0.1:{port}"
        warm = _drive_healthz(base, args.clients, args.clients * 10, 10, args.client)  # every worker thread connects once
        if warm["errors"]:
            raise SystemExit(f"warm-up failed: {warm['errors'][:3]}")
        health1 = _drive_healthz(base, args.clients, args.healthz // 2, 15, args.client)
        api_work, button_work = (work[::2], work[1::2]) if args.buttons else (work, [])
        cmds = _drive_commands(base, token, api_work, args.clients, args.seconds, args.client)
        buttons = _drive_buttons(base, button_work, args.clients, args.seconds) if args.buttons else None
        health2 = _drive_healthz(base, args.clients, args.healthz // 2, 15, args.client)
    finally:
        _stop(gunicorn)
        redis.stop()
        log = (tmp / "gunicorn.log")
        log_tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        drop()

    health = {"requests": health1["requests"] + health2["requests"],
              "seconds": health1["seconds"] + health2["seconds"],
              "latencies": health1["latencies"] + health2["latencies"],
              "errors": health1["errors"] + health2["errors"],
              "client_cpu": health1["client_cpu"] + health2["client_cpu"]}
    print(f"[commands/{kind}] gunicorn -w {args.workers} --threads {args.threads}, {args.clients} client threads "
          f"over loopback ({args.client}); {cmds['packages']} packages packed ({cmds['requests']} commands)")
    print(f"[commands/{kind}] " + _line("commands (prepare/pick/complete_packing_without_shipment)", cmds))
    if buttons is not None:
        print(f"[commands/{kind}] " + _line(f"store htmx buttons (prepare/scan/pack, {buttons['packages']} packages)",
                                            buttons))
        b_rate = buttons["requests"] / buttons["seconds"] if buttons["seconds"] else 0.0
    print(f"[commands/{kind}] " + _line("baseline GET /healthz (before+after)", health))
    rate = cmds["requests"] / cmds["seconds"] if cmds["seconds"] else 0.0
    h_rate = health["requests"] / health["seconds"] if health["seconds"] else 0.0
    p95 = _pct(cmds["latencies"], 0.95) * 1000
    if h_rate:
        print(f"[commands/{kind}] commands run at {rate / h_rate:.2f}x the /healthz rate; p95 "
              f"{p95 / max(_pct(health['latencies'], 0.95) * 1000, 1e-9):.1f}x the /healthz p95")
    if buttons is not None and h_rate:
        print(f"[commands/{kind}] store buttons run at {b_rate / h_rate:.2f}x the /healthz rate, p95 "
              f"{_pct(buttons['latencies'], 0.95) * 1000:.0f} ms")
    errors = cmds["errors"] + health["errors"] + (buttons["errors"] if buttons is not None else [])
    for e in errors[:10]:
        print(f"[commands/{kind}] ERROR {e}")
    if errors and log_tail:
        print(f"[commands/{kind}] gunicorn log tail:\n{log_tail}")
    target = "PASS" if rate >= 300 and p95 <= 50 else "BELOW TARGET"
    print(f"[commands/{kind}] target >= 300 commands/s and p95 <= 50 ms: {target}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
