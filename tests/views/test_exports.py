"""Exports: a large export becomes a background run (a real RQ worker) with a progress page and a
download that matches the streamed file; memory stays one chunk; only the owner sees the run; the
ledger screen and its export agree."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import datetime

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import ExportChunk, ExportRun, StockLedger
from app.services import export_runs
from app.services import stock as stock_service
from tests import factories
from tests.services.builders import get_product, make_package
from tests.views.test_admin_imports import work
from tests.views.test_auth import login


def _orders(n: int):
    loc = factories.location("IST-01")
    for i in range(n):
        p = make_package("waiting", location=loc, spare=n + 5)
        p.order.number = f"EXP-{i:03d}"
    db.session.commit()
    return loc


def test_a_large_export_runs_in_the_background_with_progress_and_the_same_file(app, client, monkeypatch):
    _orders(7)
    factories.user("sup", "supervisor")
    factories.user("other", "supervisor")
    db.session.commit()
    login(client, "sup")
    streamed = client.get("/reports/orders.csv").get_data(as_text=True)
    app.config["EXPORT_STREAM_MAX_ROWS"] = 3
    monkeypatch.setattr(export_runs, "CHUNK_ROWS", 2)
    try:
        response = client.get("/reports/orders.csv")
        assert response.status_code == 303
        page_url = response.headers["Location"]
        page = client.get(page_url).get_data(as_text=True)
        assert 'data-status="queued"' in page and 'hx-trigger="every 1s"' in page
        assert '<meta http-equiv="refresh"' in page  # without JavaScript the page reloads itself
        work()
        fragment = client.get(page_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert 'data-status="finished"' in fragment and "7 of 7 rows" in fragment and "hx-trigger" not in fragment
        db.session.commit()
        run = db.session.scalar(select(ExportRun))
        assert run.chunks == 4 and db.session.scalar(select(func.count()).select_from(ExportChunk)) == 4
        downloaded = client.get(f"/reports/exports/{run.id}/file")
        assert downloaded.is_streamed and downloaded.get_data(as_text=True) == streamed
        # Nobody else sees the run or its file.
        login(client, "other")
        assert client.get(page_url).status_code == 404
        assert client.get(f"/reports/exports/{run.id}/file").status_code == 404
    finally:
        app.config.pop("EXPORT_STREAM_MAX_ROWS", None)


def test_an_unfinished_export_has_no_file_yet(app, client):
    factories.user("sup", "supervisor")
    db.session.commit()
    user_id = db.session.scalar(select(factories.User.id))
    run = ExportRun(kind="orders", filters={}, status="running", total=10, done=4, created_by_id=user_id)
    db.session.add(run)
    db.session.commit()
    login(client, "sup")
    response = client.get(f"/reports/exports/{run.id}/file")
    assert response.status_code == 303
    assert "not finished yet" in client.get(response.headers["Location"]).get_data(as_text=True)


def _ledger_rows(location_id: int, product_id: int, count: int, start: int = 0) -> None:
    db.session.execute(insert(StockLedger), [
        {"location_id": location_id, "product_id": product_id, "on_hand_delta": 1, "reserved_delta": 0,
         "on_hand_after": i + 1, "reserved_after": 0, "reason": "count", "actor": "system:test",
         "reference": f"ref-{i}" + "x" * 60, "created_at": datetime(2026, 11, 1)} for i in range(start, start + count)])
    db.session.commit()


def _peak_while_exporting(user_id: int) -> tuple[int, int]:
    run = ExportRun(kind="ledger", filters={}, status="queued", created_by_id=user_id)
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    tracemalloc.start()
    try:
        export_runs.run_export(run_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    db.session.commit()
    run = db.session.get(ExportRun, run_id)
    assert run.status == "finished", run.error
    size = sum(len(b) for b in db.session.scalars(select(ExportChunk.body).where(ExportChunk.run_id == run_id)))
    return peak, size


def test_writing_an_export_holds_one_chunk_not_the_file(app, monkeypatch):
    """Ten times the rows: the file grows tenfold, the memory it takes to write it does not."""
    loc = factories.location("IST-01")
    product = get_product("MUG-1")
    user = factories.user("sup", "supervisor")
    db.session.commit()
    ids = (loc.id, product.id, user.id)
    monkeypatch.setattr(export_runs, "CHUNK_ROWS", 200)
    _ledger_rows(ids[0], ids[1], 2_000)
    small_peak, small_size = _peak_while_exporting(ids[2])
    _ledger_rows(ids[0], ids[1], 18_000, start=2_000)
    big_peak, big_size = _peak_while_exporting(ids[2])
    assert big_size > 9 * small_size
    assert big_peak < 1.5 * small_peak, (small_peak, big_peak)


def test_the_ledger_screen_filters_scopes_and_its_export_matches(app, client):
    ist, ank = factories.location("IST-01"), factories.location("ANK-01")
    mug = get_product("MUG-1")
    db.session.commit()
    stock_service.set_on_hand(ist.id, mug.id, 5, "user:ayse", reason="count", reference="c-1")
    stock_service.set_on_hand(ank.id, mug.id, 9, "system:test", reference="po-7")
    db.session.commit()
    factories.user("sup", "supervisor", [ist])
    db.session.commit()
    login(client, "sup")
    html = client.get("/reports/ledger/").get_data(as_text=True)
    assert html.count('data-ledger="') == 1 and "c-1" in html and "po-7" not in html
    assert client.get("/reports/ledger/?location=ANK-01").status_code == 422
    assert client.get("/reports/ledger/?reason=count&sku=MUG-1").get_data(as_text=True).count('data-ledger="') == 1
    assert client.get("/reports/ledger/?reason=nothing").get_data(as_text=True).count('data-ledger="') == 0
    rows = list(csv.DictReader(io.StringIO(client.get("/reports/ledger.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["location"], r["on_hand_after"], r["reference"]) for r in rows] == [("IST-01", "5", "c-1")]
    bad = client.get("/reports/ledger.csv?from=2026-12-05&to=2026-12-01")
    assert bad.status_code == 422 and "before the start date" in bad.get_data(as_text=True)


def test_a_nul_character_in_a_report_filter_is_refused_not_a_500(app, client):
    factories.location("IST-01")
    get_product("MUG-1")
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    for url in ("/reports/ledger/?location=%00", "/reports/ledger/?sku=MUG%00", "/reports/ledger.csv?reference=%00",
                "/reports/ledger/at?location=IST-01&sku=%00&at=2026-12-01T10:00", "/reports/orders/?q=%00",
                "/reports/audit/?q=%00"):
        response = client.get(url)  # the screens' one refusal of NUL (tests/views/test_nul_characters.py)
        assert response.status_code == 400, (url, response.status_code)


def test_the_ledger_screen_names_its_reasons_in_words_and_the_csv_keeps_the_codes(app, client):
    ist = factories.location("IST-01")
    mug = get_product("MUG-1")
    db.session.commit()
    stock_service.set_on_hand(ist.id, mug.id, 5, "user:ayse", reason="write_off", reference="w-1")
    db.session.commit()
    factories.user("sup", "supervisor", [ist])
    db.session.commit()
    login(client, "sup")
    for language, words in (("en", "Written off"), ("tr", "Zarar yazıldı")):
        html = client.get("/reports/ledger/", headers={"Accept-Language": language}).get_data(as_text=True)
        assert f'data-reason="write_off">{words}</td>' in html, language
    rows = list(csv.DictReader(io.StringIO(client.get("/reports/ledger.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["reason"] for r in rows] == ["write_off"]
