"""A channel update that failed on the channel's HTTP answer is said in the reader's language on
the supervisor's order page: the client's "HTTP 500" inside the connector's sentence, the
channel's own answer as it sent it; the push's `last_error` and log keep the English
(leftover of issue 20)."""

from __future__ import annotations

import html

from app.extensions import db
from app.models import ChannelPush
from tests.channels.pushes import failed_woo_push


def test_a_channel_update_failed_on_an_http_500_is_said_in_turkish(world, sim, live_server, app, client):
    order_id, push = failed_woo_push(sim, live_server, app)
    assert push.status == "failed"
    english = push.last_error
    assert english.startswith("WooCommerce ") and ": HTTP 500: " in english  # as before
    assert push.log[-1]["error"] == english
    message = push.log[-1]["error_message"]
    assert message["id"] == "%(channel)s %(method)s %(path)s: %(problem)s: %(answer)s"
    assert message["values"]["problem"] == {"id": "HTTP %(status)s", "values": {"status": 500}}

    from app.models import User
    from tests import factories
    from tests.views.test_auth import login

    factories.user("sup", "supervisor")
    db.session.commit()
    db.session.query(User).filter_by(username="sup").update({"language": "tr"})
    db.session.commit()
    login(client, "sup")
    page = html.unescape(client.get(f"/supervisor/orders/{order_id}/").get_data(as_text=True))
    assert ": HTTP 500 hatası: " in page
    assert english not in page
    assert db.session.get(ChannelPush, push.id).last_error == english
