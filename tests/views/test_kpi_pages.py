"""The KPI pages: who sees which locations, bad ranges, the charts as SVG and the tables as CSV."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from app.extensions import db
from tests import factories
from tests.factories import PASSWORD
from tests.kpi_history import build_history

RANGE = {"from": "2026-11-09", "to": "2026-11-12"}


@pytest.fixture
def history(app):
    return build_history()


def login(client, username):
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303
    return client


def people(h):
    factories.user("boss", "supervisor")
    factories.user("ist-boss", "supervisor", [h.ist])
    factories.user("ayse", "staff", [h.ist])
    factories.user("root", "admin")
    db.session.commit()


def chart_urls(page: str) -> list[str]:
    """The src of every chart image on a KPI page (each chart is its own SVG request)."""
    return [html_lib.unescape(src) for src in re.findall(r'<figure class="kpi-chart"[^>]*>\s*<img src="([^"]+)"', page)]


def card(html: str, name: str) -> str:
    match = re.search(rf'data-kpi="{name}">(.*?)</span>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_a_supervisor_of_every_location_sees_them_all(client, history):
    people(history)
    html = login(client, "boss").get("/supervisor/kpis", query_string=RANGE).get_data(as_text=True)
    assert card(html, "processing_median_min") == "20.0 min"  # 10, 20, 30, 90 minutes: the 2nd of 4
    assert card(html, "fulfilment_rate") == "50.0%"
    assert 'value="IST"' in html and 'value="LON"' in html
    assert len(chart_urls(html)) == 6
    assert "2026-11-12" in html  # the empty day has its row


def test_a_supervisor_of_some_locations_sees_only_theirs(client, history):
    people(history)
    login(client, "ist-boss")
    html = client.get("/supervisor/kpis", query_string=RANGE).get_data(as_text=True)
    assert card(html, "processing_median_min") == "30.0 min"
    assert 'value="LON"' not in html and 'id="kpi-location"' not in html  # one location: no picker
    assert "Stock pushes, median: –<" in html  # a push belongs to no location: not theirs
    asked_for_other = client.get("/supervisor/kpis", query_string={**RANGE, "location": "LON"})
    text = asked_for_other.get_data(as_text=True)
    assert asked_for_other.status_code == 200 and "No location LON" in text
    assert 'data-table="locations"' in text and ">LON<" not in text
    csv = client.get("/supervisor/kpis/locations.csv", query_string=RANGE).get_data(as_text=True)
    assert "IST" in csv and "LON" not in csv
    svg = client.get("/supervisor/kpis/charts/locations.svg", query_string=RANGE).get_data(as_text=True)
    assert "IST" in svg and "LON" not in svg


def test_staff_see_their_own_store_only(client, history):
    people(history)
    login(client, "ayse")
    page = client.get("/store/IST/kpis", query_string=RANGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert card(html, "processing_median_min") == "30.0 min" and card(html, "error_rate") == "60.0"
    assert client.get("/store/LON/kpis").status_code == 404
    assert client.get("/store/LON/kpis/charts/processing.svg").status_code == 404
    assert client.get("/store/LON/kpis/days.csv").status_code == 404
    assert client.get("/supervisor/kpis").status_code == 403
    assert client.get("/supervisor/kpis/days.csv").status_code == 403
    assert client.get("/supervisor/kpis/charts/processing.svg").status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client, history):
    for url in ("/supervisor/kpis", "/store/IST/kpis", "/supervisor/kpis/charts/hours.svg", "/store/IST/kpis/days.csv"):
        assert client.get(url).status_code in (302, 303, 401)


def test_an_admin_sees_the_page(client, history):
    people(history)
    assert login(client, "root").get("/supervisor/kpis").status_code == 200


@pytest.mark.parametrize("args, words", [
    ({"from": "2026-11-12", "to": "2026-11-01"}, "The first day is after the last day"),
    ({"from": "0001-01-01", "to": "9999-12-31"}, "between 2000 and next year"),
    ({"to": "0001-01-01"}, "between 2000 and next year"),  # one end alone: no day before it to count back to
    ({"from": "9999-12-31"}, "between 2000 and next year"),  # nor after it
    ({"from": "2026-13-45"}, "is not a date"),
    ({"from": "x" * 5000}, "is not a date"),
    ({"channel": "nope"}, "No channel nope"),
])
def test_bad_ranges_answer_with_a_message_not_an_error(client, history, args, words):
    people(history)
    response = login(client, "boss").get("/supervisor/kpis", query_string=args)
    assert response.status_code == 200
    assert words in response.get_data(as_text=True)
    assert client.get("/supervisor/kpis/charts/processing.svg", query_string=args).status_code == 200
    assert client.get("/supervisor/kpis/days.csv", query_string=args).status_code == 200


def test_a_chart_downloads_as_svg_with_its_numbers(client, history):
    people(history)
    login(client, "boss")
    response = client.get("/supervisor/kpis/charts/processing.svg", query_string={**RANGE, "download": "1"})
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "script-src" not in response.headers["Content-Security-Policy"]
    svg = response.get_data(as_text=True)
    assert "<svg" in svg and "<script" not in svg
    assert '<desc class="value">20</desc>' in svg and '<desc class="value">90</desc>' in svg  # 10 Nov, both stores
    assert client.get("/supervisor/kpis/charts/nope.svg").status_code == 404
    page = client.get("/supervisor/kpis", query_string=RANGE).get_data(as_text=True)
    shown = next(url for url in chart_urls(page) if "/charts/processing.svg" in url)
    assert "from=2026-11-09" in shown and "to=2026-11-12" in shown  # the page's own filters
    drawn = client.get(shown)
    assert drawn.status_code == 200 and drawn.mimetype == "image/svg+xml"
    assert '<desc class="value">20</desc>' in drawn.get_data(as_text=True)


def test_each_table_downloads_as_csv_matching_the_page(client, history):
    people(history)
    login(client, "boss")
    response = client.get("/supervisor/kpis/days.csv", query_string=RANGE)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Day,Packages,Packed,Processing median (min)")
    assert [line.split(",")[0] for line in lines[1:]] == ["2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12"]
    assert lines[2].split(",")[1:4] == ["5", "4", "20.0"]  # IST 4 + LON 1 packages; 10, 20, 30, 90 minutes
    reasons = client.get("/supervisor/kpis/reasons.csv", query_string=RANGE).get_data(as_text=True)
    assert "Wrong item" in reasons and "damaged" in reasons
    assert client.get("/supervisor/kpis/nope.csv").status_code == 404


def test_the_navigation_links_to_the_kpis(client, history):
    people(history)
    login(client, "ayse")
    assert 'href="/store/IST/kpis"' in client.get("/store/IST/").get_data(as_text=True)
    client.post("/logout")
    login(client, "boss")
    assert 'href="/supervisor/kpis"' in client.get("/supervisor/").get_data(as_text=True)



def test_charts_are_kept_in_redis_and_drawn_without_it(client, history, redis_server):
    from app.queues import redis_connection

    people(history)
    login(client, "boss")
    first = client.get("/supervisor/kpis", query_string=RANGE).get_data(as_text=True)
    drawn = [client.get(url).get_data(as_text=True) for url in chart_urls(first)]
    assert len(redis_connection().keys("packline:kpi-chart:*")) == 6
    assert [client.get(url).get_data(as_text=True) for url in chart_urls(first)] == drawn  # the kept copies
    redis_server.stop()
    response = client.get("/supervisor/kpis", query_string=RANGE)
    assert response.status_code == 200
    again = response.get_data(as_text=True)
    def same(svg):  # pygal names each drawing with a fresh uuid
        return re.sub(r"chart-[0-9a-f-]{36}", "chart-x", svg)

    assert [same(client.get(url).get_data(as_text=True)) for url in chart_urls(again)] == [same(s) for s in drawn]
    assert card(again, "processing_median_min") == card(first, "processing_median_min")


def test_a_kept_report_gives_way_to_new_figures_after_the_rollup(client, history):
    from datetime import date

    from app.services import kpi_rollups
    from tests.kpi_history import at

    people(history)
    login(client, "boss")
    before = client.get("/supervisor/kpis", query_string=RANGE).get_data(as_text=True)
    assert card(before, "processing_median_min") == "20.0 min"
    for _ in range(3):  # three more packed in 5 minutes at LON on 10 Nov: 5, 5, 5, 10, 20, 30, 90
        package = history.package(history.lon, history.web, at(10, 13))
        history.pack(package, at(10, 13, 5))
    db.session.commit()
    assert card(client.get("/supervisor/kpis", query_string=RANGE).get_data(as_text=True),
                "processing_median_min") == "20.0 min"  # kept: the figures have not been recomputed
    kpi_rollups.rebuild(date(2026, 11, 9), date(2026, 11, 12))
    after = client.get("/supervisor/kpis", query_string=RANGE).get_data(as_text=True)
    assert card(after, "processing_median_min") == "10.0 min"


TURKISH = {"Accept-Language": "tr-TR,tr;q=0.9"}


def test_figures_days_and_charts_are_written_the_turkish_way_and_the_csv_stays_plain(client, history):
    people(history)
    login(client, "boss")
    html = client.get("/supervisor/kpis", query_string=RANGE, headers=TURKISH).get_data(as_text=True)
    assert card(html, "fulfilment_rate") == "%50,0"
    assert card(html, "processing_median_min") == "20,0 dk"
    assert card(html, "transfer_lead_median_h") == "24,0 sa"
    assert "10 Kas 2026" in html and "12 Kas 2026" in html  # the day rows and the range sentence
    assert "2026-11-10</th>" not in html
    processing = next(url for url in chart_urls(html) if "/charts/processing.svg" in url)
    svg = client.get(processing, headers=TURKISH).get_data(as_text=True)
    assert "10 Kas 2026" in svg
    quality = next(url for url in chart_urls(html) if "/charts/quality.svg" in url)
    assert '<desc class="value">50</desc>' in client.get(quality, headers=TURKISH).get_data(as_text=True)
    english = client.get("/supervisor/kpis", query_string=RANGE, headers={"Accept-Language": "en"})
    assert card(english.get_data(as_text=True), "fulfilment_rate") == "50.0%"
    lines = client.get("/supervisor/kpis/days.csv", query_string=RANGE,
                       headers=TURKISH).get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[2].split(",")[0] == "2026-11-10" and lines[2].split(",")[3] == "20.0"  # ISO day, dot decimal
