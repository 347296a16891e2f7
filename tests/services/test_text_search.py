"""Turkish-aware search and sorting (SPEC §15), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Order
from app.services import queues_store, text_search
from tests import factories
from tests.services.builders import make_order, make_package


def test_fold_treats_dotted_and_dotless_i_and_marked_letters_as_one():
    assert text_search.fold("İSTANBUL") == text_search.fold("istanbul") == "istanbul"
    assert text_search.fold("ILIK") == text_search.fold("ılık") == "ilik"
    assert text_search.fold("ŞİŞLİ") == text_search.fold("şişli") == text_search.fold("Sisli") == "sisli"
    assert text_search.fold("ĞÜÇÖ") == "guco"
    assert text_search.fold("İ".lower()) == "i"  # Python's "i" + combining dot


def _customer_names_matching(term: str) -> list[str]:
    query = select(Order.customer_name).where(text_search.contains(Order.customer_name, term))
    return sorted(db.session.scalars(query))


def test_the_database_finds_istanbul_from_istanbul_and_ilik_from_ILIK(app):
    for name in ["İSTANBUL KARGO", "ılık su", "Şule Çağlar", "Oğuz Öztürk", "Ivan Petrov", "plain 100%_name"]:
        make_order().customer_name = name
    db.session.commit()
    assert _customer_names_matching("istanbul") == ["İSTANBUL KARGO"]
    assert _customer_names_matching("ILIK") == ["ılık su"]
    assert _customer_names_matching("şule çağlar") == ["Şule Çağlar"]
    assert _customer_names_matching("SULE CAGLAR") == ["Şule Çağlar"]
    assert _customer_names_matching("ÖZTÜRK") == ["Oğuz Öztürk"]
    assert _customer_names_matching("ivan") == ["Ivan Petrov"]
    # LIKE's own signs are plain text in a search.
    assert _customer_names_matching("100%_") == ["plain 100%_name"]
    assert _customer_names_matching("%") == ["plain 100%_name"]


def test_the_store_queue_search_is_turkish_aware(app):
    store = factories.location("IST-01")
    package = make_package("waiting", location=store)
    package.order.customer_name = "İLKNUR IŞIK"
    make_package("waiting", location=store)  # "Ayse Yilmaz": not found
    db.session.commit()
    for term in ("ilknur", "ışık", "ISIK", "Işık"):
        found = queues_store.package_queue(store.id, search=term)
        assert [p.order.customer_name for p in found.packages.items] == ["İLKNUR IŞIK"], term
    assert queues_store.package_queue(store.id, search="ilkay").packages.items == []


def test_names_sort_in_turkish_alphabetical_order():
    names = ["Zeynep", "Çiğdem", "Cem", "ılgın", "İpek", "Işık", "Öykü", "Osman", "şule", "Sevgi", "Ümit", "Uğur", "ahmet"]
    assert sorted(names, key=text_search.sort_key) == [
        "ahmet", "Cem", "Çiğdem", "ılgın", "Işık", "İpek", "Osman", "Öykü", "Sevgi", "şule", "Uğur", "Ümit", "Zeynep"]
