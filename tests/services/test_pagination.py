"""One page-argument parser and one paginator: screens forgive, the API names the bad parameter."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import StockLocation
from app.services.errors import ValidationFailed
from app.services.pagination import MAX_PAGE, Page, PageArgs, paginate
from tests import factories


@pytest.mark.parametrize("raw, page", [
    (None, 1), ("", 1), ("3", 3), ("0", 1), ("-2", 1), ("x", 1), ("²", 1), ("1.5", 1),
    (str(MAX_PAGE), MAX_PAGE), (str(MAX_PAGE + 1), 1), ("9" * 40, 1),
])
def test_screens_read_any_page_value_as_a_usable_page(raw, page):
    args = {} if raw is None else {"page": raw}
    assert PageArgs.lenient(args, 25) == PageArgs(page=page, size=25)


def test_the_api_refuses_bad_page_values_naming_the_parameter():
    assert PageArgs.strict({"page": "2", "page_size": "10"}, 50, 200) == PageArgs(page=2, size=10)
    assert PageArgs.strict({}, 50, 200) == PageArgs(page=1, size=50)
    for args, name in (({"page": "0"}, "page"), ({"page": "²"}, "page"), ({"page": str(MAX_PAGE + 1)}, "page"),
                       ({"page_size": "201"}, "page_size"), ({"page_size": "-1"}, "page_size")):
        with pytest.raises(ValidationFailed) as caught:
            PageArgs.strict(args, 50, 200)
        assert list(caught.value.details) == [name]


def test_a_page_knows_its_neighbours():
    middle = Page(items=[], total=51, page=2, size=25)
    assert (middle.pages, middle.has_prev, middle.has_next, middle.prev_num, middle.next_num) == (3, True, True, 1, 3)
    last = Page(items=[], total=50, page=2, size=25)
    assert (last.pages, last.has_next, last.next_num) == (2, False, None)
    empty = Page(items=[], total=0, page=1, size=25)
    assert (empty.pages, empty.has_prev, empty.has_next) == (1, False, False)


def test_paginate_returns_one_page_of_rows_and_the_whole_count(app):
    for n in range(5):
        factories.location(f"L{n}")
    db.session.commit()
    stmt = select(StockLocation).order_by(StockLocation.code)
    page = paginate(stmt, PageArgs(page=2, size=2))
    assert [loc.code for loc in page.items] == ["L2", "L3"] and page.total == 5 and page.has_next
    beyond = paginate(stmt, PageArgs(page=MAX_PAGE, size=200))
    assert beyond.items == [] and beyond.total == 5 and not beyond.has_next
