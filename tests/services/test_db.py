"""The transaction helpers: a web request's write intent (SQLite's BEGIN IMMEDIATE) lasts until
its write is committed or rolled back, never through the reads after it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import StockLocation
from app.services.db import begin_write, intend_write, write_intended
from tests import factories


@pytest.fixture
def writing_request(app):
    """The state of a POST request: it intends to write."""
    intend_write(True)
    yield
    intend_write(False)


def test_a_rolled_back_write_ends_the_write_intent(writing_request):
    db.session.scalar(select(StockLocation.id))
    db.session.rollback()  # a refused command: what the request does next is render its error
    assert not write_intended()


def test_a_savepoint_rolled_back_inside_a_write_keeps_the_write_intent(writing_request):
    begin_write()
    savepoint = db.session.begin_nested()
    factories.location("IST-01")
    savepoint.rollback()
    assert write_intended()
    db.session.commit()
    assert not write_intended()
