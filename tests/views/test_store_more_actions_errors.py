"""A form under More actions that comes back with an error keeps the section open, so the message
is next to the field the person was typing in (not only at the top of the page)."""

from __future__ import annotations

import re

import pytest

from tests.services.builders import make_package
from tests.views.test_store_packages import reload, url
from tests.views.test_store_queue import HX, login, store_with_staff


def _more(body: str) -> str:
    return re.search(r'<details class="more"[^>]*>.*?</details>', body, re.S).group(0)


@pytest.mark.parametrize("reason", ["", "   "])
def test_blocking_without_a_reason_keeps_more_actions_open_with_the_error_at_the_field(app, client, reason):
    store = store_with_staff()
    package = make_package("waiting", location=store)
    login(client)
    page = client.get(url(package)).get_data(as_text=True)
    assert _more(page).startswith('<details class="more">')  # closed until something needs it

    answer = client.post(url(package, "/commands/block"), data={"version": package.version, "reason": reason},
                         headers=HX)
    assert answer.status_code == 422
    more = _more(answer.get_data(as_text=True))
    assert more.startswith('<details class="more" open>')
    block_form = re.search(r'<form[^>]*/commands/block".*?</form>', more, re.S).group(0)
    assert 'field field-bad' in block_form and 'class="field-error" role="alert"' in block_form
    assert reload(package).state == "waiting"
