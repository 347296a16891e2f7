"""A template filter applied to a literal answers in each request's language, not in the language
of the request that happened to compile the template first (Jinja folds such a filter into the
compiled template unless it takes the render context: app/__init__.py)."""

from __future__ import annotations

from app.extensions import db
from tests import factories
from tests.views.test_auth import login


def test_a_literal_state_in_a_sentence_is_said_in_the_language_of_each_request(app, client):
    factories.user("boss", "admin")
    db.session.commit()
    app.jinja_env.cache.clear()  # the inbox template compiled afresh, first for an English reader
    login(client, "boss")
    english = client.get("/admin/integrations/inbox").get_data(as_text=True)
    assert "<strong>Needs attention</strong>" in english

    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'boss'"))
    db.session.commit()
    turkish = client.get("/admin/integrations/inbox").get_data(as_text=True)
    assert '<html lang="tr">' in turkish
    assert "<strong>İlgi bekliyor</strong>" in turkish and "Needs attention" not in turkish


def test_every_filter_of_ours_is_evaluated_when_the_page_is_rendered(app):
    from jinja2.defaults import DEFAULT_FILTERS
    from jinja2.utils import _PassArg

    ours = {name: f for name, f in app.jinja_env.filters.items() if f is not DEFAULT_FILTERS.get(name)}
    assert {"state_label", "ledger_reason", "number", "money", "plain_words", "lower"} <= set(ours)
    folded = [name for name, f in ours.items() if _PassArg.from_obj(f) is not _PassArg.context]
    assert folded == []


def test_lower_in_a_template_lowers_the_turkish_way_on_a_turkish_page(app):
    from flask_babel import force_locale

    with app.test_request_context():
        template = app.jinja_env.from_string("{{ 'cancelled' | state_label | lower }} {{ 'İSTANBUL' | lower }}")
        with force_locale("tr"):
            assert template.render() == "iptal edildi istanbul"  # not "i̇ptal edildi"
        with force_locale("en"):
            assert template.render().startswith("cancelled ")


def test_a_planning_run_names_what_started_it_in_words(app):
    from flask_babel import force_locale

    with app.test_request_context():
        template = app.jinja_env.from_string("{{ 'job' | trigger_label }}|{{ 'cancel_order' | trigger_label }}|"
                                             "{{ 'something_new' | trigger_label }}")
        with force_locale("tr"):
            assert template.render() == "geldiğinde|adetler iptal edildi|something new"
        with force_locale("en"):
            assert template.render() == "as it arrived|units cancelled|something new"


def test_a_history_row_names_its_command_in_words(app):
    from flask_babel import force_locale

    with app.test_request_context():
        template = app.jinja_env.from_string("{{ 'ship' | command_label }}|{{ 'plan' | command_label }}|"
                                             "{{ 'dispatch' | command_label }}|{{ 'something_new' | command_label }}")
        with force_locale("en"):
            assert template.render() == "Ship|Planned|Dispatch|something new"
        with force_locale("tr"):
            said = template.render().split("|")
            assert said[0] != "Ship" and said[1] == "Planlandı" and said[3] == "something new", said
