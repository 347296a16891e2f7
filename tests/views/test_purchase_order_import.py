"""Purchase orders by CSV through the import framework (admin screen, real RQ worker): good
purchase orders are created as drafts; a purchase order with a bad line is refused whole and
reported with the line at fault."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import PurchaseOrder
from tests import factories
from tests.services.inbound.helpers import supplier
from tests.views.test_admin_imports import run_import
from tests.views.test_auth import login

CSV = (b"number,supplier,destination,sku,quantity,unit_cost,expected_at\n"
       b"PO-1,ACME,WH-01,TEA,10,2.50,2026-12-20\n"
       b"PO-1,ACME,WH-01,MUG,4,,2026-12-20\n"
       b"PO-2,ACME,WH-01,TEA,5,1.00,\n"
       b"PO-2,ACME,WH-01,GHOST,3,,\n"
       b"PO-3,NOPE,WH-01,TEA,1,,\n"
       b"PO-4,ACME,WH-01,MUG,0,,\n")


def test_a_purchase_order_csv_creates_the_good_ones_and_reports_bad_lines(app, client):
    factories.user("root", "admin")
    factories.location("WH-01", type="warehouse")
    factories.product("TEA")
    factories.product("MUG")
    supplier()
    db.session.commit()
    login(client, "root")

    run, html = run_import(client, "purchase_orders", CSV)

    assert (run.status, run.created, run.rejected) == ("finished", 1, 3)
    assert [e["line"] for e in run.errors] == [4, 6, 7]
    assert "line 5 sku" in run.errors[0]["message"] and "GHOST" in run.errors[0]["message"]
    assert "supplier" in run.errors[1]["message"]
    assert "line 7 quantity" in run.errors[2]["message"]
    pos = db.session.scalars(select(PurchaseOrder)).all()
    assert [(po.number, po.state, [(line.product.sku, line.quantity) for line in po.lines]) for po in pos] == [
        ("PO-1", "draft", [("TEA", 10), ("MUG", 4)])]
    assert 'data-line="4"' in html


def test_the_sample_file_in_docs_imports_without_a_rejected_line(app, client):
    examples = Path(__file__).resolve().parents[2] / "docs" / "imports"
    factories.user("root", "admin")
    supplier()
    db.session.commit()
    login(client, "root")
    for kind in ("locations", "products", "purchase_orders"):
        run, _ = run_import(client, kind, (examples / f"{kind}.csv").read_bytes(), f"{kind}.csv")
        assert (run.status, run.rejected) == ("finished", 0), (kind, run.errors)
    db.session.rollback()
    assert [(po.number, po.destination.code, len(po.lines)) for po in db.session.scalars(
        select(PurchaseOrder).order_by(PurchaseOrder.number))] == [("PO-1001", "WH-IST", 2), ("PO-1002", "IST-KDK", 1)]
