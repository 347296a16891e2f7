"""A cancelled or refused package's lines keep their own state ("open" in the database), but the
order and package pages say they went with the package — never "open" next to the live replacement."""

from __future__ import annotations

import re

from app.extensions import db
from app.services.packages import run_package_command
from tests import factories
from tests.services.builders import make_package, supervisor
from tests.views.test_auth import login


def _sup(client, language: str = "en"):
    factories.user("sup", "supervisor")
    db.session.commit()
    db.session.execute(db.text("UPDATE users SET language = :l WHERE username = 'sup'"), {"l": language})
    db.session.commit()
    login(client, "sup")


def _row(html: str, number: str) -> str:
    found = re.search(rf'<tr data-package="{re.escape(number)}">.*?</tr>', html, re.S)
    assert found is not None, html
    return found.group(0)


def test_a_cancelled_packages_lines_read_cancelled_with_the_package(app, client):
    package = make_package("waiting", items=[("BELT-BLA-85", 2)])
    number, order_id = package.number, package.order_id
    run_package_command(package.id, "cancel", {"reason": "customer changed mind"}, supervisor())
    _sup(client)
    row = _row(client.get(f"/supervisor/orders/{order_id}/").get_data(as_text=True), number)
    assert "BELT-BLA-85 × 2 (cancelled with the package)" in row and "open" not in row
    page = client.get(f"/supervisor/packages/{package.id}/").get_data(as_text=True)
    assert "Cancelled with the package" in page and ">Open<" not in page


def test_a_refused_packages_lines_read_released_in_turkish_too(app, client):
    factories.denial_reason("not_found", title="Item not found in the store")
    package = make_package("waiting", items=[("BELT-BLA-85", 2)])
    number, order_id = package.number, package.order_id
    run_package_command(package.id, "refuse", {"reason": "not_found"}, supervisor())
    _sup(client, "tr")
    row = _row(client.get(f"/supervisor/orders/{order_id}/").get_data(as_text=True), number)
    assert "BELT-BLA-85 × 2 (serbest bırakıldı: paket reddedildi)" in row and "açık" not in row
    page = client.get(f"/supervisor/packages/{package.id}/").get_data(as_text=True)
    assert "Serbest bırakıldı: paket reddedildi" in page and ">Açık<" not in page
