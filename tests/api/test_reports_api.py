"""The reporting API: the stock ledger with its filters and scope, stock at a past moment, the audit
log (admins), and imports over the API run by a real RQ worker — the same runs as the admin page."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import select, update

from app.extensions import db
from app.models import ImportRun, StockLedger
from app.services import stock as stock_service
from tests import factories
from tests.api.test_master_data_api import auth
from tests.services.builders import get_product
from tests.views.test_admin_imports import work

SYSTEM = "system:test"


def _history():
    ist, ank = factories.location("IST-01"), factories.location("ANK-01")
    mug, cup = get_product("MUG-1"), get_product("CUP-1")
    db.session.commit()
    stock_service.set_on_hand(ist.id, mug.id, 10, SYSTEM, reference="po-1")
    stock_service.set_on_hand(ist.id, mug.id, 7, "user:ayse", reason="count", reference="count-9")
    stock_service.set_on_hand(ank.id, cup.id, 4, SYSTEM, reference="po-2")
    db.session.commit()
    rows = list(db.session.scalars(select(StockLedger).order_by(StockLedger.id)))
    # Spread them over three days so the dates and the past moment mean something.
    for row, day in zip(rows, (1, 3, 5), strict=True):
        db.session.execute(update(StockLedger).where(StockLedger.id == row.id)
                           .values(created_at=datetime(2026, 11, day, 12)))
    db.session.commit()
    return ist, ank, rows


def test_the_ledger_api_filters_and_pages_newest_first(app, client):
    _history()
    admin = auth("erp")
    body = client.get("/api/v1/stock/ledger", headers=admin).get_json()
    assert body["count"] == 3 and [r["location"] for r in body["results"]] == ["ANK-01", "IST-01", "IST-01"]
    first = body["results"][1]
    assert first["sku"] == "MUG-1" and first["on_hand_delta"] == -3 and first["on_hand_after"] == 7
    assert first["actor"] == "user:ayse" and first["reason"] == "count" and first["reference"] == "count-9"
    get = lambda q: [r["on_hand_after"] for r in client.get(f"/api/v1/stock/ledger?{q}", headers=admin)  # noqa: E731
                     .get_json()["results"]]
    assert get("location=IST-01") == [7, 10]
    assert get("sku=CUP-1") == [4]
    assert get("reason=count") == [7]
    assert get("actor=user:ayse") == [7]
    assert get("reference=po-1") == [10]
    assert get("from=2026-11-02&to=2026-11-04") == [7]
    assert get("location=IST-01&reason=count&from=2026-11-03&to=2026-11-03") == [7]
    page = client.get("/api/v1/stock/ledger?page_size=2", headers=admin).get_json()
    assert len(page["results"]) == 2 and page["next"]
    older = client.get(f"/api/v1/stock/ledger?before_id={page['results'][-1]['id']}", headers=admin).get_json()
    assert [r["on_hand_after"] for r in older["results"]] == [10]


def test_the_ledger_api_keeps_to_the_tokens_locations(app, client):
    ist, ank, _ = _history()
    staff = auth("ayse", "staff", [ist])
    body = client.get("/api/v1/stock/ledger", headers=staff).get_json()
    assert {r["location"] for r in body["results"]} == {"IST-01"}
    response = client.get("/api/v1/stock/ledger?location=ANK-01", headers=staff)
    assert response.status_code == 422 and "location" in response.get_json()["error"]["details"]
    response = client.get("/api/v1/stock/at?location=ANK-01&sku=CUP-1&at=2026-11-30T00:00:00Z", headers=staff)
    assert response.status_code == 422


def test_bad_ledger_filters_are_422_naming_the_parameter(app, client):
    _history()
    admin = auth("erp")
    for query, name in (("from=2026-11-05&to=2026-11-01", "to"), ("from=soon", "from"), ("before_id=x", "before_id"),
                        ("page_size=100000", "page_size"), ("sku=" + "x" * 300, "sku")):
        response = client.get(f"/api/v1/stock/ledger?{query}", headers=admin)
        assert response.status_code == 422, query
        assert name in response.get_json()["error"]["details"], query


def test_stock_at_a_past_moment_reads_the_last_change_before_it(app, client):
    _history()
    admin = auth("erp")
    at = lambda moment: client.get(f"/api/v1/stock/at?location=IST-01&sku=MUG-1&at={moment}",  # noqa: E731
                                   headers=admin)
    assert at("2026-10-01T00:00:00Z").get_json()["on_hand"] == 0
    assert at("2026-10-01T00:00:00Z").get_json()["ledger_id"] is None
    assert at("2026-11-02T00:00:00Z").get_json()["on_hand"] == 10
    assert at("2026-11-03T12:00:00Z").get_json()["on_hand"] == 7  # the change at that very second counts
    assert at("2026-11-03T14:00:00%2B03:00").get_json()["on_hand"] == 10  # 11:00 UTC: before the count
    body = at("2026-12-01").get_json()
    assert body == {**body, "location": "IST-01", "sku": "MUG-1", "on_hand": 7, "reserved": 0, "available": 7}
    for bad in ("yesterday", "", "1800-01-01T00:00:00Z"):
        assert at(bad).status_code == 422
    assert client.get("/api/v1/stock/at?location=IST-01&sku=NOPE&at=2026-12-01", headers=admin).status_code == 422


def test_stock_at_on_the_screen(app, client):
    from tests.views.test_auth import login

    _history()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    html = client.get("/reports/ledger/at?location=IST-01&sku=MUG-1&at=2026-11-02T00:00").get_data(as_text=True)
    assert 'data-on-hand>10<' in html
    response = client.get("/reports/ledger/at?location=IST-01&sku=MUG-1&at=tomorrow")
    assert response.status_code == 422 and "Enter the moment" in response.get_data(as_text=True)
    assert client.get("/reports/ledger/at").status_code == 200


def test_stock_at_on_the_screen_is_asked_and_answered_in_the_locations_time(app, client):
    from tests.views.test_auth import login

    ist, _, _ = _history()
    ist.time_zone = "Europe/Istanbul"  # UTC+3; the count was at 12:00 UTC = 15:00 in Istanbul on 3 Nov
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    form = client.get("/reports/ledger/at").get_data(as_text=True)
    assert "Moment (the location’s time)" in form and "(UTC)" not in form
    before = client.get("/reports/ledger/at?location=IST-01&sku=MUG-1&at=2026-11-03T14:30").get_data(as_text=True)
    assert "data-on-hand>10<" in before  # 14:30 in Istanbul is 11:30 UTC: before the count
    html = client.get("/reports/ledger/at?location=IST-01&sku=MUG-1&at=2026-11-03T15:00").get_data(as_text=True)
    assert "data-on-hand>7<" in html  # the count's own second counts
    assert "3 Nov 2026, 15:00:00 +03" in html and "Europe/Istanbul" in html  # the moment and the change, local
    assert "2026, 12:00:00" not in html  # (the <time> tag keeps UTC for machines)
    turkish = client.get("/reports/ledger/at?location=IST-01&sku=MUG-1&at=2026-11-03T15:00",
                         headers={"Accept-Language": "tr-TR,tr;q=0.9"}).get_data(as_text=True)
    assert "3 Kas 2026, 15:00:00 +03" in turkish
    # The API keeps UTC for a moment without an offset and answers ISO with the offset.
    admin = auth("erp")
    body = client.get("/api/v1/stock/at?location=IST-01&sku=MUG-1&at=2026-11-03T14:30", headers=admin).get_json()
    assert body["on_hand"] == 7 and body["at"] in ("2026-11-03T14:30:00Z", "2026-11-03T14:30:00+00:00")


def test_the_audit_api_is_for_admins_and_filters(app, client):
    admin = auth("erp")
    client.post("/api/v1/channels", json={"code": "web", "name": "Web shop"}, headers=admin)
    client.patch("/api/v1/channels/web", json={"name": "Web store"}, headers=admin)
    body = client.get("/api/v1/audit", headers=admin).get_json()
    assert [(r["kind"], r["record"], r["action"]) for r in body["results"]][:2] == [
        ("channel", "web", "changed"), ("channel", "web", "created")]
    assert body["results"][0]["changes"] == {"name": {"before": "Web shop", "after": "Web store"}}
    assert client.get("/api/v1/audit?action=created&kind=channel", headers=admin).get_json()["count"] == 1
    assert client.get("/api/v1/audit?q=WE", headers=admin).get_json()["count"] == 2
    assert client.get("/api/v1/audit?actor=nobody", headers=admin).get_json()["count"] == 0
    assert client.get("/api/v1/audit?kind=spaceship", headers=admin).status_code == 422
    supervisor = auth("boss", "supervisor")
    assert client.get("/api/v1/audit", headers=supervisor).status_code == 403


def test_imports_over_the_api_report_progress_and_line_errors(app, client):
    factories.location("IST-01")
    get_product("MUG-1")
    db.session.commit()
    admin = auth("erp")
    content = b"location,sku,quantity\nIST-01,MUG-1,5\nIST-01,NOPE-9,3\n"
    response = client.post("/api/v1/imports", data={"kind": "stock", "file": (io.BytesIO(content), "stock.csv")},
                           content_type="multipart/form-data", headers=admin)
    assert response.status_code == 202, response.get_json()
    run = response.get_json()
    assert run["status"] == "queued" and run["kind"] == "stock"
    assert response.headers["Location"].endswith(f"/api/v1/imports/{run['id']}")
    work()
    body = client.get(f"/api/v1/imports/{run['id']}", headers=admin).get_json()
    assert body["status"] == "finished" and body["progress"] == {"done": 2, "total": 2}
    assert body["rejected"] == 1 and body["errors"][0]["line"] == 3 and "NOPE-9" in body["errors"][0]["message"]
    # The admin page shows the same run.
    assert db.session.get(ImportRun, run["id"]).filename == "stock.csv"


def test_bad_imports_are_refused_and_record_nothing(app, client):
    admin = auth("erp")
    for data, field in (({"kind": "spaceships", "file": (io.BytesIO(b"a\n1\n"), "x.csv")}, "kind"),
                        ({"kind": "stock"}, "file"),
                        ({"kind": "stock", "file": (io.BytesIO(b""), "x.csv")}, "file")):
        response = client.post("/api/v1/imports", data=data, content_type="multipart/form-data", headers=admin)
        assert response.status_code == 422 and field in response.get_json()["error"]["details"], data
    response = client.post("/api/v1/imports", json={"kind": "stock"}, headers=admin)
    assert response.status_code == 422
    assert client.get("/api/v1/imports/999", headers=admin).status_code == 404
    supervisor = auth("boss", "supervisor")
    response = client.post("/api/v1/imports", data={"kind": "stock", "file": (io.BytesIO(b"x"), "x.csv")},
                           content_type="multipart/form-data", headers=supervisor)
    assert response.status_code == 403
    db.session.commit()
    assert db.session.scalar(select(ImportRun)) is None



def test_stock_at_and_the_audit_and_import_apis_keep_to_roles_and_locations(app, client):
    from tests.views.test_auth import login

    ist, ank, _ = _history()
    factories.user("sup", "supervisor", [ist])
    db.session.commit()
    login(client, "sup")
    response = client.get("/reports/ledger/at?location=ANK-01&sku=CUP-1&at=2026-11-30T00:00")
    assert response.status_code == 422 and "No location ANK-01 among yours" in response.get_data(as_text=True)
    staff = auth("ayse", "staff", [ist])
    assert client.get("/api/v1/audit", headers=staff).status_code == 403
    assert client.get("/api/v1/imports/1", headers=staff).status_code == 403
    assert client.get("/api/v1/stock/at?location=IST-01&sku=MUG-1&at=2026-11-30T00:00:00Z",
                      headers=staff).get_json()["on_hand"] == 7


def test_empty_dates_and_choices_are_refused_by_the_api(app, client):
    admin = auth("erp")
    for url in ("/api/v1/stock/ledger?to=", "/api/v1/audit?from=", "/api/v1/audit?kind="):
        response = client.get(url, headers=admin)
        assert response.status_code == 422, url
