"""The KPI rollup job on a real RQ worker, and two rollups of the same days at once."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.kpis import KpiDay
from app.queues import redis_connection
from app.services import kpi_rollups, local_times
from app.services.packages import run_package_command
from app.worker import PERIODIC
from tests import factories
from tests.services.builders import make_package, supervisor
from tests.threads import at_once


def packed_today() -> int:
    db.session.rollback()  # see what the worker committed
    today = local_times.local(utcnow()).date()
    return db.session.scalar(select(func.coalesce(func.sum(KpiDay.packed), 0)).where(KpiDay.day == today))


def test_the_periodic_job_counts_a_package_packed_just_now(app):
    import app.tasks.kpis  # noqa: F401  (registers the periodic job, as the worker does)

    assert any(p.func == "app.tasks.kpis.rollup_recent" for p in PERIODIC)
    loc = factories.location("JOB")
    package = make_package("preparing", location=loc, items=[("SKU-J", 1)])
    db.session.commit()
    run_package_command(package.id, "complete_packing_without_shipment", {}, supervisor())
    assert packed_today() == 0
    conn = redis_connection()
    queue = Queue("default", connection=conn)
    job = queue.enqueue("app.tasks.kpis.rollup_recent")
    SimpleWorker([queue], connection=conn).work(burst=True)
    assert job.get_status() == "finished", job.latest_result().exc_string if job.latest_result() else None
    assert packed_today() == 1


def test_the_job_prepares_the_default_page_in_each_language(app, client):
    from tests.factories import PASSWORD

    loc = factories.location("WARM")
    factories.channel("web")
    package = make_package("preparing", location=loc, items=[("SKU-W", 1)])
    factories.user("boss", "supervisor")
    db.session.commit()
    run_package_command(package.id, "complete_packing_without_shipment", {}, supervisor())
    conn = redis_connection()
    queue = Queue("default", connection=conn)
    job = queue.enqueue("app.tasks.kpis.rollup_recent")
    SimpleWorker([queue], connection=conn).work(burst=True)
    assert job.get_status() == "finished", job.latest_result().exc_string if job.latest_result() else None
    assert job.result["warmed"] == 2  # English and Turkish
    reports, charts = set(conn.keys("packline:kpi-report:*")), set(conn.keys("packline:kpi-chart:*"))
    assert len(reports) == 2 and len(charts) == 12
    # The supervisor's first view of the default page and its charts use what the job kept.
    client.post("/login", data={"username": "boss", "password": PASSWORD})
    for language in ("en", "tr-TR,tr;q=0.9"):
        page = client.get("/supervisor/kpis", headers={"Accept-Language": language}).get_data(as_text=True)
        assert 'data-kpi="processing_median_min"' in page
        for name in ("processing", "hours"):
            assert client.get(f"/supervisor/kpis/charts/{name}.svg", headers={"Accept-Language": language}).status_code == 200
    assert set(conn.keys("packline:kpi-report:*")) == reports and set(conn.keys("packline:kpi-chart:*")) == charts


def test_two_rollups_of_the_same_days_at_once_leave_one_set_of_rows(app):
    loc = factories.location("TWO")
    for _ in range(3):
        package = make_package("preparing", location=loc, items=[("SKU-T", 1)])
        db.session.commit()
        run_package_command(package.id, "complete_packing_without_shipment", {}, supervisor())
    today = local_times.local(utcnow()).date()

    def rollup():
        kpi_rollups.rebuild(today - timedelta(days=1), today + timedelta(days=1))

    _, errors = at_once(app, [rollup, rollup])
    assert not errors
    assert packed_today() == 3
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(KpiDay).where(KpiDay.location_id == loc.id)) == 1
