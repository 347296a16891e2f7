"""Imports: upload → RQ job (a real worker) → progress and a per-line report. A broken row never
stops the good ones; encodings, wrong headers, duplicates and unknown references are reported."""

from __future__ import annotations

import io
import re
import threading

import pytest
from rq import Queue, SimpleWorker
from rq.timeouts import TimerDeathPenalty
from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, ImportRun, Order, Product, StockLocation
from app.queues import redis_connection
from tests import factories
from tests.services.builders import row_counts, stock_of
from tests.views.test_auth import signed_in_admin


@pytest.fixture
def admin(app, client):
    return signed_in_admin(client)


class ThreadWorker(SimpleWorker):
    """A real RQ worker that can run outside the main thread (signals belong to the main thread)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def start_worker() -> threading.Thread:
    """A real RQ worker draining the imports queue in its own thread (own app context and session)."""
    connection = redis_connection()
    worker = ThreadWorker([Queue("imports", connection=connection)], connection=connection)
    thread = threading.Thread(target=worker.work, kwargs={"burst": True})
    thread.start()
    return thread


def work() -> None:
    thread = start_worker()
    thread.join(timeout=120)
    assert not thread.is_alive()


def upload(client, kind: str, content: bytes, filename: str = "data.csv"):
    return client.post("/admin/imports/", data={"kind": kind, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def run_import(client, kind: str, content: bytes, filename: str = "data.csv") -> tuple[ImportRun, str]:
    response = upload(client, kind, content, filename)
    assert response.status_code == 303, response.get_data(as_text=True)
    run_url = response.headers["Location"]
    work()
    html = client.get(run_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    db.session.rollback()
    run_id = int(re.search(r"/imports/(\d+)/", run_url).group(1))
    return db.session.get(ImportRun, run_id), html


def test_stock_csv_with_one_bad_line_imports_the_good_ones_and_reports_the_line(admin):
    loc = factories.location("IST-01")
    factories.product("MUG-1")
    factories.product("CUP-1")
    db.session.commit()
    loc_id = loc.id
    csv = b"location,sku,quantity\nIST-01,MUG-1,5\nIST-01,NOPE-9,3\nIST-01,CUP-1,-2\nIST-01,CUP-1,7\n"
    run, html = run_import(admin, "stock", csv)
    assert (run.status, run.total, run.done, run.updated, run.rejected) == ("finished", 4, 4, 2, 2)
    assert [e["line"] for e in run.errors] == [3, 4]
    assert "Unknown SKU 'NOPE-9'" in run.errors[0]["message"]
    assert 'data-status="finished"' in html and "hx-trigger" not in html  # polling stops
    assert 'data-line="3"' in html and "Unknown SKU" in html
    assert stock_of(loc_id, "MUG-1") == (5, 0) and stock_of(loc_id, "CUP-1") == (7, 0)


def test_progress_fragment_polls_every_second_while_the_job_waits(admin):
    response = upload(admin, "channels", b"code,name\nweb,Web\n")
    html = admin.get(response.headers["Location"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="queued"' in html and 'hx-trigger="every 1s"' in html and "<html" not in html


def test_utf8_with_bom_and_windows_1254_turkish_files_keep_their_letters(admin):
    text = "code,name,city,district\nIST-KDK,Kadıköy Şubesi,İstanbul,Kadıköy\n"
    run, _ = run_import(admin, "locations", b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert run.created == 1 and run.rejected == 0
    run, _ = run_import(admin, "locations", text.replace("IST-KDK", "IST-CP").encode("cp1254"))
    assert run.created == 1 and run.rejected == 0
    names = dict(db.session.execute(select(StockLocation.code, StockLocation.name)).all())
    assert names == {"IST-KDK": "Kadıköy Şubesi", "IST-CP": "Kadıköy Şubesi"}
    assert db.session.scalar(select(StockLocation.city).where(StockLocation.code == "IST-CP")) == "İstanbul"


def test_semicolon_separated_files_from_excel_are_read(admin):
    run, _ = run_import(admin, "channels", b"code;name;provides_shipping_label\nty;Trendyol;evet\n")
    assert run.created == 1
    assert db.session.scalar(select(Channel.provides_shipping_label).where(Channel.code == "ty")) is True


def test_wrong_headers_fail_the_import_with_a_clear_report_and_write_nothing(admin):
    db.session.rollback()
    before = row_counts()
    run, html = run_import(admin, "stock", b"loc,product,qty\nIST-01,MUG-1,5\n")
    assert run.status == "failed" and run.errors[0]["line"] == 1
    assert "Missing column(s): location, sku, quantity" in run.errors[0]["message"]
    assert "The import failed." in html
    after = row_counts()
    assert {k: v for k, v in after.items() if k != "import_runs"} == {k: v for k, v in before.items() if k != "import_runs"}


def test_unknown_columns_are_reported_but_do_not_stop_the_import(admin):
    run, _ = run_import(admin, "channels", b"code,name,colour\nweb,Web,blue\n")
    assert run.created == 1 and "Ignored unknown column(s): colour" in run.errors[0]["message"]


def test_duplicate_codes_update_and_a_barcode_taken_by_another_product_is_rejected(admin):
    csv = (b"sku,name,barcodes,weight_kg\n"
           b"MUG-1,Mug,111,0.4\n"
           b"MUG-1,Mug large,111|112,0.5\n"
           b"CUP-1,Cup,112,abc\n"
           b"CUP-2,Cup,112,0.2\n")
    run, _ = run_import(admin, "products", csv)
    assert (run.created, run.updated, run.rejected) == (1, 1, 2)
    assert {e["line"]: e["message"] for e in run.errors} == {
        4: "weight_kg: Enter a number, for example 1.5.",
        5: "barcodes: Already used by another product: 112 (MUG-1).",
    }
    mug = db.session.scalar(select(Product).where(Product.sku == "MUG-1"))
    assert (mug.name, mug.barcode_values) == ("Mug large", ["111", "112"])
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1


def test_json_product_list_is_imported(admin):
    body = b'[{"sku": "A-1", "name": "A", "barcodes": ["901"]}, {"sku": "", "name": "B"}, "junk"]'
    run, _ = run_import(admin, "products", body, filename="products.json")
    assert (run.created, run.rejected) == (1, 2)
    assert [e["line"] for e in run.errors] == [2, 3]


def test_orders_csv_groups_lines_into_orders_and_rejects_unknown_references(admin):
    factories.channel("web")
    factories.product("TSHIRT-M")
    factories.product("MUG-01")
    db.session.commit()
    csv = (b"number,channel,placed_at,delivery_type,ship_city,sku,quantity,price\n"
           b"WEB-1,web,2026-11-20T10:00:00Z,cargo,Istanbul,TSHIRT-M,2,199.90\n"
           b"WEB-1,web,2026-11-20T10:00:00Z,cargo,Istanbul,MUG-01,1,89.90\n"
           b"WEB-2,nochannel,2026-11-20T10:00:00Z,cargo,Istanbul,MUG-01,1,\n")
    run, _ = run_import(admin, "orders", csv)
    assert (run.done, run.created, run.rejected) == (3, 1, 1)
    assert run.errors[0]["line"] == 4
    order = db.session.scalar(select(Order).where(Order.number == "WEB-1"))
    assert sorted((i.product.sku, i.quantity) for i in order.items) == [("MUG-01", 1), ("TSHIRT-M", 2)]


def test_upload_without_a_file_is_refused_next_to_the_field(admin):
    response = admin.post("/admin/imports/", data={"kind": "stock"}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "Choose a file to upload." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_many_rows_are_streamed_in_batches(admin):
    rows = "".join(f"ch-{n},Channel {n}\n" for n in range(3000))
    run, html = run_import(admin, "channels", ("code,name\n" + rows).encode())
    assert (run.status, run.total, run.created, run.rejected) == ("finished", 3000, 3000, 0)
    assert "3000 of 3000 rows" in html


def test_upload_while_redis_is_down_is_refused_in_place_and_records_nothing(admin, redis_server):
    redis_server.stop()
    try:
        response = upload(admin, "channels", b"code,name\nweb,Web\n")
    finally:
        redis_server.start()
    assert response.status_code == 422 and "Background processing is unavailable" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_the_example_files_in_docs_import_without_a_single_rejected_row(admin):
    from pathlib import Path

    factories.cargo_company("demo")
    db.session.commit()
    examples = Path(__file__).resolve().parents[2] / "docs" / "imports"
    for kind in ("locations", "channels", "products", "stock", "orders"):
        run, _ = run_import(admin, kind, (examples / f"{kind}.csv").read_bytes(), f"{kind}.csv")
        assert (run.status, run.rejected) == ("finished", 0), (kind, run.errors)
        assert run.created + run.updated > 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2
    assert stock_of(db.session.scalar(select(StockLocation.id).where(StockLocation.code == "IST-KDK")), "MUG-01")[0] == 12
