"""First run: the sample files in docs/imports/ import into the demo brand without a rejected line,
and an orders import reports its orders and its lines separately."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ImportRun, Order, User
from app.services import imports
from app.services.actors import Actor
from app.services.demo import ADMIN_PASSWORD, seed_demo
from tests.views.test_auth import login

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "imports"
KINDS = ("locations", "channels", "products", "stock", "orders")


def import_file(kind: str, actor: Actor) -> ImportRun:
    """Through the import service, as the admin page starts it; the job's slices run here."""
    run = imports.start_import(kind, f"{kind}.csv", (SAMPLES / f"{kind}.csv").read_bytes(), actor)
    for _ in range(50):
        db.session.rollback()
        run = imports.get_run(run.id)
        if run.status not in ("queued", "running"):
            return run
        imports.run_import(run.id, run.job_id)
    raise AssertionError(f"the {kind} import did not finish")


def test_every_sample_file_imports_into_the_demo_without_a_rejected_line(app):
    seed_demo()
    admin = Actor.for_user(db.session.scalar(select(User).where(User.username == "admin")))
    orders_before = len(db.session.scalars(select(Order)).all())
    for kind in KINDS:
        run = import_file(kind, admin)
        assert (run.status, run.rejected) == ("finished", 0), (kind, run.errors)
        assert run.done == run.total > 0
    db.session.rollback()
    assert len(db.session.scalars(select(Order)).all()) == orders_before + 2


@pytest.mark.parametrize("kind", KINDS)
def test_each_sample_file_on_its_own_after_the_demo_rejects_nothing(app, kind):
    """Any one sample, uploaded first after the demo (say, stock before products), still fits."""
    seed_demo()
    admin = Actor.for_user(db.session.scalar(select(User).where(User.username == "admin")))
    if kind in ("stock", "orders"):  # they name the samples' own products
        import_file("products", admin)
    run = import_file(kind, admin)
    assert (run.status, run.rejected) == ("finished", 0), (kind, run.errors)


def test_an_orders_import_reports_orders_and_lines_separately(app, client):
    seed_demo()
    admin = Actor.for_user(db.session.scalar(select(User).where(User.username == "admin")))
    import_file("products", admin)
    run = import_file("orders", admin)
    login(client, "admin", ADMIN_PASSWORD)

    html = " ".join(client.get(f"/admin/imports/{run.id}/").get_data(as_text=True).split())
    listing = " ".join(client.get("/admin/imports/").get_data(as_text=True).split())

    assert "3 of 3 lines · <span data-orders>2</span> orders in them" in html
    assert '<span class="num" data-created>2</span><span class="label">Orders created</span>' in html
    assert "3/3 lines<br><small>2 orders</small>" in listing
    products = next(r for r in db.session.scalars(select(ImportRun)) if r.kind == "products")
    page = " ".join(client.get(f"/admin/imports/{products.id}/").get_data(as_text=True).split())
    assert "3 of 3 rows" in page and "orders" not in page.split('id="import-progress"')[1].split("</section>")[0]
