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


# Each pair differs only where Turkish and code-point (or English) order disagree.
TURKISH_ORDER = ["ahmet", "Cem", "Çiğdem", "Gül", "Ğ Ltd", "Hakan", "ılgın", "Işık", "İpek", "irmak", "Osman",
                 "Öykü", "Sevgi", "şule", "Uğur", "Ümit", "Xavier", "Zeynep"]


def test_the_database_sorts_names_in_the_turkish_alphabet(app):
    """`COLLATE turkish`: ICU's Turkish on PostgreSQL (migration 0020), the same order registered on
    every SQLite connection — the very order of `sort_key`."""
    from app.models import StockLocation

    for n, name in enumerate(reversed(TURKISH_ORDER)):
        factories.location(f"L{n:02}").name = name
    db.session.commit()
    by_name = select(StockLocation.name).order_by(text_search.turkish_order(StockLocation.name), StockLocation.id)
    assert list(db.session.scalars(by_name)) == TURKISH_ORDER
    # Without it the databases disagree with Turkish readers (and with each other): Ç, Ğ, İ, Ö, Ş, Ü
    # after Z on SQLite.
    plain = list(db.session.scalars(select(StockLocation.name).order_by(StockLocation.name)))
    assert plain != TURKISH_ORDER
    assert sorted(TURKISH_ORDER, key=text_search.sort_key) == TURKISH_ORDER


def test_case_and_marks_come_after_the_letters_alike_on_both_databases(app):
    from app.models import StockLocation

    names = ["ılık", "Ilık", "ILIK", "ilik", "İLİK", "aşık", "Aşık", "âşık", "aşk", "Ali", "Ali Veli", "Alice", "Ayşe 9",
             "Ayşe 10"]
    for n, name in enumerate(names):
        factories.location(f"C{n:02}").name = name
    db.session.commit()
    found = list(db.session.scalars(
        select(StockLocation.name).order_by(text_search.turkish_order(StockLocation.name), StockLocation.id)))
    assert found == sorted(names, key=text_search.sort_key) == [
        "Ali", "Ali Veli", "Alice", "aşık", "Aşık", "âşık", "aşk", "Ayşe 10", "Ayşe 9",
        "ılık", "Ilık", "ILIK", "ilik", "İLİK"]
