"""KPIs from a small hand-built history where each right number is plain to see (docs/kpis.md).

Two locations: IST (Europe/Istanbul, UTC+3, target 60 minutes) and LON (UTC, no target); two
channels. Times below are UTC; IST's days are Istanbul days.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.kpis import KpiDay
from app.services import kpi_charts, kpi_rollups, kpis
from app.services.packages import run_package_command
from tests import factories
from tests.kpi_history import D, build_history
from tests.services.builders import make_package, supervisor


@pytest.fixture
def history(app):
    return build_history()


def filters(h, start=date(2026, 11, 9), end=date(2026, 11, 12), locations=None, channels=None):
    return kpis.KpiFilters(start, end, locations, channels)


def run(h, **kw):
    return kpis.report(filters(h, **kw), [h.ist, h.lon], [h.web, h.ty])


def day_row(report, day):
    return next(r for r in report.tables["days"].rows if r["day"] == day)


def test_processing_time_median_and_p90_of_packages_packed_that_day(history):
    report = run(history, locations=(history.ist.id,))
    row = day_row(report, D)
    assert row["packed"] == 3
    assert (row["processing_median_min"], row["processing_p90_min"]) == (30.0, 90.0)  # 10, 30, 90 minutes


def test_fulfilment_counts_shipments_within_the_location_target(history):
    report = run(history)
    assert report.totals["shipped"] == 2 and report.totals["shipped_with_target"] == 2
    assert report.totals["fulfilment_rate"] == 50.0  # 20 of 60 minutes on time, 120 of 60 late


def test_days_are_the_locations_own_days(history):
    ist = run(history, locations=(history.ist.id,))
    assert day_row(ist, D)["packages"] == 4
    assert day_row(ist, date(2026, 11, 11))["packages"] == 1  # 22:30 UTC is 01:30 next day in Istanbul
    assert day_row(ist, date(2026, 11, 11))["refused"] == 1
    lon = run(history, locations=(history.lon.id,))
    assert day_row(lon, D)["packed"] == 1  # 23:50 UTC is still 10 Nov in London's UTC
    assert day_row(lon, date(2026, 11, 11))["packed"] == 0


def test_empty_days_are_rows_of_zeros_with_no_rates(history):
    report = run(history)
    assert [r["day"] for r in report.tables["days"].rows] == [date(2026, 11, d) for d in (9, 10, 11, 12)]
    empty = day_row(report, date(2026, 11, 12))
    assert empty["packages"] == 0 and empty["packed"] == 0
    assert empty["error_rate"] is None and empty["processing_median_min"] is None


def test_error_rate_by_reason_per_100_packages(history):
    report = run(history, locations=(history.ist.id,))
    row = day_row(report, D)
    assert (row["missing_reports"], row["cancelled"], row["refused"]) == (1, 1, 0)
    assert row["error_rate"] == 50.0  # 2 errors, 4 packages
    reasons = {(r["kind"], r["reason"]): r["count"] for r in report.tables["reasons"].rows}
    assert reasons == {("Refused", "damaged"): 1, ("Missing items", "Wrong item"): 1,
                       ("Cancelled", "customer asked"): 1}
    assert report.totals["error_rate"] == 60.0  # 3 errors over IST's 5 packages


def test_split_replan_transfer_and_sync_figures(history):
    t = run(history).totals
    assert t["orders_planned"] == 3 and t["split_rate"] == 33.3
    assert t["replans"] == 2 and t["replan_success"] == 50.0
    assert t["transfers_received"] == 1 and t["transfer_lead_median_h"] == 24.0
    assert t["order_sync_median_s"] == 0 and t["order_sync_p90_s"] == 60  # five at once, one a minute late
    assert t["stock_push_median_s"] == 8


def test_inventory_accuracy_and_throughput(history):
    t = run(history).totals
    # 2 units missing; packed units: p1, p2, p3 (2 each) and p6 (3) = 9 -> 2 of 11 picked = 18.2 per 100.
    assert t["packed_units"] == 9 and t["missing_units"] == 2
    assert t["missing_per_100_units"] == 18.2
    # Packed in hours: IST 09, 11, 11 (Istanbul) and LON 23 -> 4 packages in 3 working hours.
    assert t["active_hours"] == 3 and t["throughput_per_hour"] == 1.3
    hours = {r["hour"]: r["packed"] for r in run(history).tables["hours"].rows if r["packed"]}
    assert hours == {9: 1, 11: 2, 23: 1}


def test_channel_filter_and_per_channel_rows(history):
    only_ty = run(history, channels=(history.ty.id,))
    assert only_ty.totals["packed"] == 1 and only_ty.totals["packages"] == 1
    rows = {r["channel"]: r for r in run(history).tables["channels"].rows}
    assert rows["web"]["packed"] == 3 and rows["ty"]["packed"] == 1


def test_a_stock_push_has_no_location_and_only_unscoped_views_see_it(history):
    assert run(history).totals["stock_push_median_s"] == 8
    scoped = run(history, locations=(history.ist.id, history.lon.id))
    assert scoped.totals["stock_push_median_s"] is None


def test_rebuild_twice_gives_the_same_rows(history):
    before = db.session.scalar(select(func.count()).select_from(KpiDay))
    kpi_rollups.rebuild(date(2026, 11, 9), date(2026, 11, 12))
    assert db.session.scalar(select(func.count()).select_from(KpiDay)) == before
    assert run(history).totals["packed"] == 4


@pytest.mark.parametrize("args, message", [
    ({"from": "2026-11-12", "to": "2026-11-01"}, "after the last day"),
    ({"from": "1066-10-14", "to": "1066-10-15"}, "between 2000"),
    ({"from": "2024-01-01", "to": "2026-11-01"}, "at most 366 days"),
    ({"from": "yesterday"}, "is not a date"),
    ({"location": "NOPE"}, "No location NOPE"),
    ({"channel": "NOPE"}, "No channel NOPE"),
])
def test_bad_ranges_and_filters_fall_back_to_the_default_with_a_message(history, args, message):
    f, problem = kpis.parse_filters(args, [history.ist], [history.web], sees_all=False, today=date(2026, 11, 20))
    assert message in problem
    assert (f.start, f.end) == (date(2026, 11, 7), date(2026, 11, 20))
    assert f.location_ids == (history.ist.id,)


def test_scoped_filters_never_widen_to_other_locations(history):
    f, problem = kpis.parse_filters({"location": "LON"}, [history.ist], [], sees_all=False)
    assert f.location_ids == (history.ist.id,) and "No location LON" in problem
    f, problem = kpis.parse_filters({}, [history.ist, history.lon], [], sees_all=True)
    assert f.location_ids is None and problem is None


def test_charts_are_svg_with_the_numbers_of_their_table(history):
    report = run(history, locations=(history.ist.id,))
    svg = kpi_charts.chart_svg(kpi_charts.BY_NAME["processing"],
                               kpi_charts.chart_table(kpi_charts.BY_NAME["processing"], report))
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<script" not in svg
    assert '<desc class="value">30</desc>' in svg and '<desc class="value">90</desc>' in svg
    assert "10 Nov 2026" in svg  # the day as people read it (tests/views/test_kpi_pages: in Turkish too)
    for color in kpi_charts.PALETTE[:2]:
        assert color.lower() in svg.lower()


def test_real_commands_feed_the_rollup(app):
    loc = factories.location("CMD")
    factories.cargo_company("demo")
    package = make_package("preparing", location=loc, items=[("SKU-R", 2)])
    db.session.commit()
    run_package_command(package.id, "complete_packing_without_shipment", {}, supervisor())
    result = kpi_rollups.recompute_recent()
    assert result["days"] >= 1
    f, _ = kpis.parse_filters({}, [loc], [], sees_all=True)
    report = kpis.report(f, [loc], [])
    assert report.totals["packed"] == 1 and report.totals["packed_units"] == 2 and report.totals["packages"] == 1


def test_the_rebuild_command_recomputes_days_and_refuses_an_inverted_range(app, history):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["kpis", "rebuild", "--from", "2026-11-12", "--to", "2026-11-01"])
    assert bad.exit_code != 0 and "--to is before --from" in bad.output
    db.session.execute(KpiDay.__table__.delete())
    db.session.commit()
    good = runner.invoke(args=["kpis", "rebuild", "--from", "2026-11-09", "--to", "2026-11-12"])
    assert good.exit_code == 0, good.output
    assert "KPI days 2026-11-09 to 2026-11-12" in good.output
    db.session.rollback()
    assert run(history).totals["packed"] == 4


def test_a_first_day_alone_shows_two_weeks_from_it_or_up_to_today(history):
    today = date(2026, 11, 20)
    f, problem = kpis.parse_filters({"from": "2026-11-01"}, [history.ist], [], sees_all=False, today=today)
    assert (f.start, f.end, problem) == (date(2026, 11, 1), date(2026, 11, 14), None)
    f, problem = kpis.parse_filters({"from": "2026-11-18"}, [history.ist], [], sees_all=False, today=today)
    assert (f.start, f.end, problem) == (date(2026, 11, 18), date(2026, 11, 20), None)
    f, problem = kpis.parse_filters({"from": "2026-12-01"}, [history.ist], [], sees_all=False, today=today)
    assert (f.start, f.end, problem) == (date(2026, 12, 1), date(2026, 12, 1), None)  # a day ahead: empty, no error
