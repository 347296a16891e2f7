"""The whole store flow in Turkish (SPEC §15), in real Chromium on a tablet whose browser asks for
Turkish: prepare, scan, pack, print the label, ship — and no English word of ours left on any of
those screens. "Of ours": every English text in the catalogue that has a Turkish translation is
looked for in what the page shows."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from app.extensions import db
from app.i18n import po_path
from tests import factories
from tests.browser.test_store_flow import run_carrier_jobs, scan, sign_in, state_of
from tests.services.builders import get_cargo_company, get_channel, make_package

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def english_fragments() -> list[re.Pattern[str]]:
    """The English pieces of every translated catalogue entry (split at values and tags), each
    as a whole-word pattern; pieces the Turkish keeps as they are (SKU, ZPL…) are left out."""
    with open(po_path("tr"), "rb") as fh:
        catalogue = read_po(fh)
    # Words the Turkish itself uses somewhere ("Enter’a basın": the key's name) are not English
    # left over when they show, even if another entry's English has them as a piece of its own.
    kept = " ".join(" ".join(m.string if isinstance(m.string, tuple) else (m.string,))
                    for m in catalogue if m.id and m.string)
    patterns = {}
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        turkish = " ".join(message.string if isinstance(message.string, tuple) else (message.string,))
        for english in ids:
            for piece in re.split(r"%\(\w+\)s|<[^>]+>|[“”\"()·:?!.,;—…]", english):
                piece = piece.strip()
                if len(piece) < 4 or not re.search(r"[A-Za-z]{3}", piece) or piece in turkish \
                        or (piece in kept and re.search(r"(?<![\w-])" + re.escape(piece) + r"(?![\w-])", kept)):
                    continue
                patterns[piece] = re.compile(r"(?<![\w-])" + re.escape(piece) + r"(?![\w-])")
    return list(patterns.values())


def english_left(page, fragments) -> list[str]:
    text = page.locator("body").inner_text()
    return sorted({p.pattern for p in fragments if p.search(text)})


def turkish_store():
    store = factories.location("IST-KDK", name="Kadıköy Mağazası", address="Moda Cd. 10", city="İstanbul",
                               target_packaging_minutes=120)
    factories.user("ayse", "staff", [store])
    get_channel("web", name="Web Mağaza")
    cargo = get_cargo_company()
    cargo.name = "Yurtiçi Kargo"
    factories.product("TSHIRT-M", "8690000000017", name="Pamuklu tişört, lacivert, M")
    factories.product("CAP-BLK", "8690000000024", name="Şapka, siyah")
    factories.product("SCARF-RED", "8690000000031", name="Yün atkı, kırmızı")
    db.session.commit()
    package = make_package("waiting", location=store, items=[("TSHIRT-M", 2), ("CAP-BLK", 1)])
    package.order.customer_name = "Işıl Çağlayan"
    other = make_package("waiting", location=store, items=[("SCARF-RED", 1)])
    other.order.customer_name = "İsmail Öztürk"
    db.session.commit()
    return store, package


def test_the_whole_store_flow_in_turkish_leaves_no_english_on_screen(app, browser, live_server):
    store, package = turkish_store()
    package_id, number = package.id, package.number
    items = {i.product.sku: i.id for i in package.items}
    fragments = english_fragments()
    assert len(fragments) > 200  # the check looks for every translated text, not a handful
    context = browser.new_context(viewport=TABLET, base_url=live_server, locale="tr-TR")
    page = context.new_page()
    seen: dict[str, list[str]] = {}

    def check(screen: str) -> None:
        assert page.locator("html").get_attribute("lang") == "tr", screen
        left = english_left(page, fragments)
        if left:
            seen[screen] = left

    try:
        sign_in(page, "ayse")
        page.wait_for_url("**/store/IST-KDK/")
        expect(page.locator("h1")).to_contain_text("Kadıköy Mağazası")
        expect(page.locator("nav")).to_contain_text("Paketler")
        check("home")

        page.click("a.count-tile:has-text('Hazırlanacak')")
        page.wait_for_url("**/packages?tab=waiting")
        expect(page.locator("#queue .row")).to_have_count(2)
        check("queue")
        # Turkish-aware search from the queue: "işıl" finds "Işıl Çağlayan".
        page.fill("#queue-search", "IŞIL")
        page.click("#queue button[type=submit]")
        expect(page.locator("#queue .row")).to_have_count(1)
        expect(page.locator("#queue")).to_contain_text("“IŞIL” için 1 sonuç")
        check("search")

        page.click(f"a.row:has-text('{number}')")
        page.wait_for_url(f"**/packages/{package_id}")
        check("package")
        page.click("button[data-command=prepare]")
        expect(page.locator("#package .notice")).to_contain_text("Başladı. Her ürünü alırken okutun.")
        expect(page.locator("[data-scan-field]")).to_be_focused()
        check("prepared")

        scan(page, "1234567890")
        expect(page.locator("#scan-feedback[data-scan-error]")).to_contain_text("Bu barkod bu pakette yok.")
        check("wrong scan")
        for barcode in ("8690000000017", "8690000000017", "8690000000024"):
            scan(page, barcode)
        expect(page.locator(f"#item-{items['TSHIRT-M']} .picked")).to_have_text("2")
        expect(page.locator("#pick-progress")).to_contain_text("3 adetten 3 toplandı")
        check("scanned")

        page.click("button[data-command=complete_packing]")
        expect(page.locator("#package .notice")).to_contain_text("Paketlendi. Kargo firmasından etiket istendi")
        check("packed")
        run_carrier_jobs()
        label = page.locator("a:has-text('Etiketi yazdır')")
        expect(label).to_be_visible(timeout=15_000)
        check("label ready")
        response = page.request.get(label.get_attribute("href"))
        assert response.status == 200 and response.body().startswith(b"%PDF")

        page.click("button[data-command=ship]")
        expect(page.locator("#package .package-head .chip")).to_have_text("Kargoya verildi")
        expect(page.locator("#package .notice")).to_contain_text("Kargoya verildi. Koli yolda.")
        check("shipped")
        assert state_of(package_id) == "shipped"
    finally:
        context.close()
    assert seen == {}, f"English left on Turkish screens: {seen}"


def test_the_english_check_finds_english_when_there_is_some(app, page):
    """The check above can fail: on an English page it finds the English."""
    factories.user("ayse", "staff", [factories.location("IST-KDK", name="Kadıköy Mağazası")])
    db.session.commit()
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    assert page.locator("html").get_attribute("lang") == "en"
    left = english_left(page, english_fragments())
    assert any("Packages" in p for p in left) and any("Transfers" in p for p in left)
