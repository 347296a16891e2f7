"""The admin and supervisor screens in Turkish (SPEC §15): every page reachable from the two
consoles, crawled by link as an admin and as a supervisor whose language is Turkish, shows no
English text of ours — no piece of an English catalogue entry whose Turkish differs (the same
check as the store flow's in tests/browser/test_store_turkish.py, on the server's HTML: the words
between tags and the attributes people read)."""

from __future__ import annotations

import html as html_lib
import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.models import Channel, ChannelInboxEntry, ChannelMapping, ChannelPush, Return
from app.models.channels import INBOX_OUTCOMES
from app.models.webhooks import WebhookSubscription
from tests import factories
from tests.browser.test_store_turkish import english_fragments
from tests.services.builders import make_package
from tests.views.test_auth import login

# Screens another area owns and checks: KPI pages and reports (issue 21).
ELSEWHERE = ("/supervisor/kpis", "/reports")
SKIP = re.compile(r"/(export|download|logout|label|slip)|\.(csv|pdf|zpl|json)$")
ATTRIBUTES = re.compile(r'\s(?:title|placeholder|aria-label|alt|data-confirm)="([^"]*)"')


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style|template)\b.*?</\1>|<!--.*?-->", " ", page, flags=re.S | re.I)
    said = " ".join(ATTRIBUTES.findall(page))
    page = re.sub(r"<(code|pre)\b.*?</\1>", " ", page, flags=re.S | re.I)  # codes, JSON, file names
    return html_lib.unescape(re.sub(r"<[^>]+>", "\n", page) + "\n" + said)


def english_on(text: str, fragments) -> list[str]:
    """The English pieces on the page; a piece inside a dotted code (an event type such as
    "order.created") is a code, not a word."""
    found = set()
    for pattern in fragments:
        for match in pattern.finditer(text):
            before, after = text[max(0, match.start() - 1):match.start()], text[match.end():match.end() + 2]
            if before in (".", "_") or re.match(r"[._]\w", after):
                continue
            found.add(match.group(0))
            break
    return sorted(found)


def crawl(client, starts: tuple[str, ...], limit: int = 150) -> dict[str, str]:
    """path → visible text of every page linked from `starts` under /admin and /supervisor."""
    seen: dict[str, str] = {}
    queue = deque(starts)
    while queue and len(seen) < limit:
        url = queue.popleft()
        path = urlsplit(url).path
        if path in seen or SKIP.search(path) or path.startswith(ELSEWHERE):
            continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200 or not response.mimetype == "text/html":
            seen[path] = ""
            continue
        page = response.get_data(as_text=True)
        assert '<html lang="tr">' in page, url
        seen[path] = visible_text(page)
        for href in re.findall(r'href="([^"#]+)"', page):
            href = html_lib.unescape(href)
            if href.startswith(("/admin", "/supervisor")) and urlsplit(href).path not in seen:
                queue.append(href)
    return seen


@pytest.fixture
def turkish_brand(app):
    store = factories.location("IST-01", name="Kadıköy Mağazası", city="İstanbul")
    factories.location("ANK-01", name="Çankaya Deposu", type="warehouse", city="Ankara")
    factories.product("CAY-1", name="Siyah çay")
    factories.channel("web", name="Web mağazası")
    factories.cargo_company("demo", name="Deneme Kargo")
    factories.denial_reason("hasarli", title="Hasarlı ürün")
    packages = [make_package(state, items=(("CAY-1", 1),), location=store)
                for state in ("waiting", "preparing", "blocked", "out_of_stock", "packed", "shipped")]
    # The integrations screens: an inbox entry of every outcome, a mapping and failed updates.
    web = db.session.scalar(db.select(Channel).where(Channel.code == "web"))
    shipped = packages[-1]
    ret = Return(number=f"{shipped.order.number}-R1", order_id=shipped.order_id, location_id=store.id,
                 source="channel", created_by="web", channel_ref="refund-1")
    db.session.add(ret)
    db.session.flush()
    for n, outcome in enumerate(INBOX_OUTCOMES):
        db.session.add(ChannelInboxEntry(channel_id=web.id, topic="orders/create", delivery_id=f"d-{n}",
                                         channel_order_id=str(1000 + n), body="{}", outcome=outcome,
                                         source="push" if n % 2 else "pull", order_id=packages[0].order_id,
                                         return_id=ret.id if outcome == "returned" else None))
    db.session.add(ChannelMapping(channel_id=web.id, kind="sku", channel_value="CAY-WEB", our_value="CAY-1"))
    db.session.add(ChannelPush(channel_id=web.id, order_id=shipped.order_id, package_id=shipped.id, kind="shipped",
                               status="failed", attempts=3, log=[{"at": "2026-12-01T10:00:00Z", "status_code": None,
                                                                   "error": "timeout", "retry_after": 30, "ms": 1200}]))
    db.session.add(WebhookSubscription(url="https://ornek.example/kanca", secret="s" * 32, events=["*"]))
    factories.user("yonetici", "admin")
    factories.user("sorumlu", "supervisor")
    factories.user("ayse", "staff", [store])
    for user_name in ("yonetici", "sorumlu"):
        db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = :u"), {"u": user_name})
    db.session.commit()


@pytest.mark.parametrize("username, starts", [
    ("yonetici", ("/admin/", "/supervisor/")),
    ("sorumlu", ("/supervisor/",)),
])
def test_no_english_is_left_on_the_admin_and_supervisor_screens_in_turkish(app, client, turkish_brand,
                                                                           username, starts):
    login(client, username)
    pages = crawl(client, starts)
    assert len(pages) > (25 if username == "yonetici" else 10), sorted(pages)
    fragments = english_fragments()
    left = {path: found for path, text in pages.items() if (found := english_on(text, fragments))}
    assert left == {}, "English on Turkish screens:\n" + "\n".join(
        f"{p}: {f} in …{where(pages[p], f[0])}…" for p, f in sorted(left.items()))


def where(text: str, piece: str) -> str:
    """The words around `piece` on the page, for the failure message."""
    at = text.find(piece)
    return " ".join(text[max(0, at - 150):at + len(piece) + 150].split())


def test_the_check_finds_english_on_an_english_page(app, client, turkish_brand):
    db.session.execute(db.text("UPDATE users SET language = 'en' WHERE username = 'yonetici'"))
    db.session.commit()
    login(client, "yonetici")
    text = visible_text(client.get("/admin/locations/").get_data(as_text=True))
    found = english_on(text, english_fragments())
    assert "Locations" in found and "Search" in found


def test_an_inbox_entry_that_made_a_return_links_to_the_return(app, client, turkish_brand):
    login(client, "sorumlu")
    entry = db.session.scalar(db.select(ChannelInboxEntry).where(ChannelInboxEntry.outcome == "returned"))
    page = client.get(f"/admin/integrations/inbox/{entry.id}").get_data(as_text=True)
    link = f'href="/supervisor/returns/{entry.return_id}/"'
    assert 'id="return-link"' in page and link in page
    assert "İade alındı" in page and "Returned" not in page  # the outcome in the page's language
    assert client.get(f"/supervisor/returns/{entry.return_id}/").status_code == 200
    other = db.session.scalar(db.select(ChannelInboxEntry).where(ChannelInboxEntry.outcome == "imported"))
    assert 'id="return-link"' not in client.get(f"/admin/integrations/inbox/{other.id}").get_data(as_text=True)


def test_a_bad_mapping_file_is_explained_in_turkish_words_not_field_keys(app, client, turkish_brand):
    import io

    login(client, "yonetici")
    data = {"file": (io.BytesIO(b"sku,A,CAY-1\nsku,B,YOK-BOYLE\nsku,C\n"), "m.csv")}
    answer = client.post("/admin/integrations/web/mappings/import", data=data, content_type="multipart/form-data")
    assert answer.status_code == 422
    alert = visible_text(answer.get_data(as_text=True).split('class="alert alert-error"')[1].split("</p>")[0])
    assert "satır 2: Bizimki:" in alert and "satır 3: Üç değer bekleniyordu" in alert, alert
    assert "our_value:" not in alert and "line " not in alert
    assert db.session.scalar(db.select(db.func.count()).select_from(ChannelMapping)) == 1  # nothing imported


def test_a_channel_update_on_the_order_page_reads_in_turkish(app, client, turkish_brand):
    login(client, "sorumlu")
    push = db.session.scalar(db.select(ChannelPush))
    page = client.get(f"/supervisor/orders/{push.order_id}/").get_data(as_text=True)
    updates = page.split('id="channel-updates"')[1].split("</table>")[0]
    assert "Kargoya verildi" in updates and ">shipped<" not in updates and ">failed<" not in updates, updates
    assert "yanıt yok" in updates and "(30 sn bekle)" in updates
    assert '<time datetime="2026-12-01T10:00:00Z">' in updates and "2026-12-01T10:00:00Z ·" not in updates
