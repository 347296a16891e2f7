"""Sentences stored now and said later (services/said.py): kept as catalogue messages, said in
the reader's language, in English for logs and the API; a sentence said through gettext while
listening is recalled as the message it was, values and all."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from app.services import said


def test_a_message_is_said_in_the_current_language_and_kept_in_english(app):
    message = said.said(said.N_("Unknown SKU %(skus)s: add the product, or map the channel's SKU to ours under "
                                "Mappings, then re-process."), skus=["A-1", "B-2"])
    with force_locale("tr"):
        assert said.text(message).startswith("Bilinmeyen SKU A-1, B-2: ürünü ekleyin")
        assert said.english(message).startswith("Unknown SKU A-1, B-2: add the product")


def test_a_sentence_said_through_gettext_while_listening_is_recalled_with_its_values(app):
    with force_locale("tr"), said.listening():
        text = _("The channel cancelled the order but Packline could not: %(problem)s",
                 problem=_("%(field)s: %(problem)s", field=_("Status"), problem=_("Required.")))
        english, message = said.stored(text)
    assert text == "Kanal siparişi iptal etti ama Packline edemedi: Durum: Zorunlu."
    assert english == "The channel cancelled the order but Packline could not: Status: Required."
    assert message == {"id": "The channel cancelled the order but Packline could not: %(problem)s",
                       "values": {"problem": {"id": "%(field)s: %(problem)s",
                                              "values": {"field": {"id": "Status"}, "problem": {"id": "Required."}}}}}
    with force_locale("tr"):
        assert said.text(message) == text


def test_without_listening_or_for_words_never_said_the_text_stays_as_it_is(app):
    text = _("Required.")
    assert said.stored(text) == ("Required.", None)  # nobody listened
    with said.listening():
        assert said.stored("HTTP 500 from the channel") == ("HTTP 500 from the channel", None)
    assert said.stored(None) == (None, None)


def test_lists_joined_and_messages_no_longer_in_the_catalogue_fall_back_to_their_english(app):
    reworded = said.said("Order %(number)s was once said like this.", number="W-1")
    with force_locale("tr"):
        assert said.text(reworded) == "Order W-1 was once said like this."
        assert said.text(said.joined([said.said(said.N_("Shipping address changed.")), "kanalın sözü"], "; ")) == \
            "Teslimat adresi değişti.; kanalın sözü"


def test_a_quantity_is_grouped_the_readers_way_and_an_int_stays_as_it_is(app):
    message = said.said(said.N_("A value is too long (more than %(limit)s characters)."), limit={"number": 131072})
    with force_locale("tr"):
        assert "131.072" in said.text(message)
        assert "131,072" in said.english(message)
    plain = said.said(said.N_("A value is too long (more than %(limit)s characters)."), limit=131072)
    with force_locale("en"):
        assert "more than 131072 characters" in said.text(plain)  # ids and codes are never grouped


def test_a_long_listening_block_keeps_recalling_its_latest_sentences(app):
    # An import slice says a few sentences per bad row; past the cap the newest must still be kept.
    with force_locale("tr"), said.listening():
        for n in range(said.MAX_HEARD + 500):
            last = _("Unknown location %(code)s.", code=f"X-{n}")
        _english, message = said.stored(last)
    assert message == {"id": "Unknown location %(code)s.", "values": {"code": f"X-{said.MAX_HEARD + 499}"}}
