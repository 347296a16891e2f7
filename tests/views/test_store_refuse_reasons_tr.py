"""The Refuse list on a Turkish store page says the demo's denial reasons in Turkish (their titles
are catalogue sentences) and a brand's own reason as it was typed; English pages say them in English."""

from __future__ import annotations

import html
import re

from app.extensions import db
from app.services.demo import DENIAL_REASONS
from tests import factories
from tests.services.builders import make_package
from tests.views.test_store_queue import login, store_with_staff


def _options(body: str) -> dict[str, str]:
    select = re.search(r'<select[^>]*name="reason".*?</select>', body, re.S)
    assert select is not None, "no Refuse reason list on the page"
    return {value: html.unescape(text).strip()
            for value, text in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select.group(0))}


def test_the_refuse_list_says_the_demo_reasons_in_turkish(app, client):
    store = store_with_staff()
    for code, title, priority in DENIAL_REASONS:
        factories.denial_reason(code, title=title, priority=priority)
    factories.denial_reason("kirik", title="Kırık şişe", priority=50)
    package = make_package("waiting", location=store)
    db.session.commit()
    login(client)
    url = f"/store/{store.code}/packages/{package.id}"
    english = _options(client.get(url).get_data(as_text=True))
    assert english == {**{code: title for code, title, _p in DENIAL_REASONS}, "kirik": "Kırık şişe"}

    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'ayse'"))
    db.session.commit()
    turkish = _options(client.get(url).get_data(as_text=True))
    assert turkish == {"damaged": "Ürün hasarlı", "not_found": "Ürün mağazada bulunamadı",
                       "store_busy": "Mağaza hazırlayamayacak kadar yoğun", "wrong_item": "Rafta yanlış ürün var",
                       "kirik": "Kırık şişe"}
