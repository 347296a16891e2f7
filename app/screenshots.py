"""Refresh the screenshots the docs show: `.venv/bin/python -m app.screenshots [DIRECTORY]`.

Not a test (tests never write into the repository). It builds a throw-away demo brand — a
temporary SQLite database, a private redis-server (no worker: labels stay pending) — serves it on
127.0.0.1, and photographs the store screens in headless Chromium at tablet size (768×1024) into
DIRECTORY (default docs/screenshots): once in English, and once in Turkish (a browser asking for
Turkish, as the demo brand's store staff's tablets do) as `tr-*.png`. Needs redis-server, Chromium (CHROMIUM_PATH, default
/usr/bin/chromium) and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
TABLET = {"width": 768, "height": 1024}
STAFF_PASSWORD = "packline-staff"  # the demo's public staff password (services/demo.py)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis(directory: Path) -> subprocess.Popen:
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server).")
    sock = directory / "redis.sock"
    proc = subprocess.Popen([server, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no",
                             "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while not sock.exists():
        if time.time() > deadline:
            proc.terminate()
            raise SystemExit("redis-server did not start.")
        time.sleep(0.05)
    return proc


def _marketplace_package(app) -> tuple[str, int] | None:
    """A Trendyol order planned like any other; (location code, package id) of its package."""
    from app.extensions import db
    from app.models import Package, Stock, StockLocation
    from app.services import planning
    from app.services.actors import Actor
    from app.services.orders import create_order

    with app.app_context():
        home = db.session.scalar(select(StockLocation).where(StockLocation.code == "WH-IST"))
        stock = db.session.scalar(select(Stock).where(Stock.location_id == home.id, Stock.on_hand >= 2)
                                  .order_by(Stock.id))
        actor = Actor.system("screenshots")
        order, _ = create_order({
            "number": "TY-3000412", "channel": "trendyol", "status": "approved", "delivery_type": "cargo",
            "placed_at": (datetime.now(UTC) - timedelta(minutes=20)).isoformat(), "payment_type": "card",
            "customer": {"name": "Deniz Arslan", "phone": "+905557778899"},
            "shipping_address": {"line": "Tuzla Cd. 4", "city": "Istanbul", "district": "Tuzla", "country": "TR",
                                 "latitude": home.latitude, "longitude": home.longitude},
            "items": [{"sku": stock.product.sku, "quantity": 1, "price": "199.90"}],
        }, actor)
        planning.plan_order(order.id, trigger="screenshots", actor=actor)
        package = db.session.scalar(select(Package).where(Package.order_id == order.id))
        if package is None or package.state != "waiting":
            return None
        return package.location.code, package.id


def _failed_delivery_return(app) -> None:
    """A parcel of the home store that the carrier could not deliver: it is packed, shipped and
    reported `delivery_failed` through the package commands, which opens its return (issue 19)."""
    from app.extensions import db
    from app.models import Package, StockLocation
    from app.services.actors import Actor
    from app.services.packages import run_package_command

    with app.app_context():
        home = db.session.scalar(select(StockLocation).where(StockLocation.code == "IST-KDK"))
        package_id = db.session.scalar(select(Package.id).where(Package.location_id == home.id,
                                                                Package.state == "waiting").order_by(Package.id))
        if package_id is None:
            return
        actor = Actor.system("screenshots")
        run_package_command(package_id, "complete_packing_without_shipment", {}, actor)
        run_package_command(package_id, "ship_without_integration",
                            {"cargo_company": "demo", "tracking_number": "DM-RETURN-1"}, actor)
        run_package_command(package_id, "update_shipment_status", {"status": "delivery_failed"}, actor)


def _shoot(page, directory: Path, name: str) -> None:
    # caret="initial": hiding the caret injects a <style>, which the CSP (rightly) blocks.
    page.screenshot(path=str(directory / f"{name}.png"), caret="initial")
    print(f"  {directory / (name + '.png')}")


def _sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/store/**")


def _photograph(app, base_url: str, out: Path, marketplace: tuple[str, int] | None, language: str = "en") -> None:
    """The store screens as a tablet whose browser asks for `language` sees them."""
    from playwright.sync_api import expect, sync_playwright

    from app.extensions import db
    from app.models import Package, StockLocation

    with app.app_context():
        home = db.session.scalar(select(StockLocation).where(StockLocation.code == "IST-KDK"))
        preparing = db.session.scalar(select(Package.id).where(Package.location_id == home.id,
                                                               Package.state == "preparing"))
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        prefix = "" if language == "en" else f"{language}-"
        browser_locale = {"en": "en-GB", "tr": "tr-TR"}[language]
        context = browser.new_context(viewport=TABLET, base_url=base_url, locale=browser_locale)
        page = context.new_page()
        _sign_in(page, "staff-ist-kdk")
        _shoot(page, out, f"{prefix}store-home")
        page.goto("/store/IST-KDK/packages")
        _shoot(page, out, f"{prefix}store-queue")
        if preparing:
            page.goto(f"/store/IST-KDK/packages/{preparing}")
            _shoot(page, out, f"{prefix}store-package-scanning")
        page.goto("/store/IST-KDK/transfers")
        _shoot(page, out, f"{prefix}store-transfers")
        transfer = page.locator("#transfers a.row").first
        if transfer.count():
            transfer.click()
            page.wait_for_load_state()
            _shoot(page, out, f"{prefix}store-transfer")
        page.goto("/store/IST-KDK/packages")
        next_oldest = page.locator("#batch-select button[name=next_oldest]").first
        if next_oldest.count():
            next_oldest.click()
            page.wait_for_url("**/batches/**")
            _shoot(page, out, f"{prefix}store-batch")
        page.goto("/store/IST-KDK/receiving")
        _shoot(page, out, f"{prefix}store-receiving")
        arriving = page.locator("#receiving a.row").first
        if arriving.count():
            arriving.click()
            page.wait_for_load_state()
            if language == "en":  # count one unit with a typed "scanner"; the Turkish run shows the count
                barcode = page.locator("#return .item-meta.mono").first.inner_text().split(",")[0].strip()
                page.keyboard.type(barcode)
                page.keyboard.press("Enter")
                expect(page.locator("#scan-feedback[data-scan-ok]")).to_have_count(1)
            _shoot(page, out, f"{prefix}store-receiving-return")
            page.click("[data-command=review]")
            page.wait_for_load_state()
            _shoot(page, out, f"{prefix}store-receiving-finish")
        context.close()

        if marketplace is not None and language == "en":
            code, package_id = marketplace
            context = browser.new_context(viewport=TABLET, base_url=base_url, locale=browser_locale)
            page = context.new_page()
            _sign_in(page, f"staff-{code.lower()}")
            page.goto(f"/store/{code}/packages/{package_id}")
            page.click("button[data-command=prepare]")
            barcode = page.locator("#package .item-meta.mono").first.inner_text().split(",")[0].strip()
            page.locator("#scan-field").fill(barcode)
            page.keyboard.press("Enter")
            expect(page.locator("#complete_packing_channel-tracking_number")).to_be_focused()
            _shoot(page, out, f"{prefix}store-marketplace-label")
            context.close()
        browser.close()


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="packline-shots-") as tmp:
        directory = Path(tmp)
        redis = _start_redis(directory)
        try:
            from flask_migrate import upgrade
            from werkzeug.serving import make_server

            from app import create_app
            from app.services.demo import seed_demo

            app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'shots.db'}",
                              "REDIS_URL": f"unix://{directory / 'redis.sock'}",
                              "INSTANCE_DIR": directory / "instance", "SECRET_KEY": "screenshots-only"})
            with app.app_context():
                upgrade()
                seed_demo()
            marketplace = _marketplace_package(app)
            _failed_delivery_return(app)
            port = _free_port()
            server = make_server("127.0.0.1", port, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                print(f"Screenshots of the demo brand into {out}:")
                _photograph(app, f"http://127.0.0.1:{port}", out, marketplace, "en")
                _photograph(app, f"http://127.0.0.1:{port}", out, None, "tr")
            finally:
                server.shutdown()
                thread.join(timeout=5)
        finally:
            redis.terminate()
            redis.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
