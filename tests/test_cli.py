"""The CLI of SPEC §2 that exists so far: users create, tokens create, seed-demo."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Product, Stock, StockLedger, StockLocation, User
from app.services.demo import LOCATIONS, demo_logins
from app.services.users import authenticate


def test_users_create_binds_staff_to_locations(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    result = runner.invoke(args=["users", "create", "mehmet", "--role", "staff", "--location", "IST-KDK",
                                 "--location", "IST-BSK", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "mehmet"))
    assert sorted(loc.code for loc in user.locations) == ["IST-BSK", "IST-KDK"]
    assert authenticate("mehmet", "long-enough-1", "127.0.0.1").id == user.id


def test_users_create_refuses_staff_without_location_and_unknown_locations(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "x", "--role", "staff", "--password", "long-enough-1"])
    assert result.exit_code != 0 and "at least one location" in result.output
    result = runner.invoke(args=["users", "create", "y", "--role", "staff", "--location", "NOPE",
                                 "--password", "long-enough-1"])
    assert result.exit_code != 0 and "NOPE" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_users_create_refuses_a_short_or_common_password(app):
    runner = app.test_cli_runner()
    for password, message in (("12345678", "Use at least 12 characters."),
                              ("password1234", "This password is too common; choose another.")):
        result = runner.invoke(args=["users", "create", "x", "--role", "admin", "--password", password])
        assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_tokens_create_for_unknown_user_fails_cleanly(app):
    result = app.test_cli_runner().invoke(args=["tokens", "create", "ghost"])
    assert result.exit_code != 0 and "ghost" in result.output


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (StockLocation, Product, Stock, StockLedger, User))


def test_seed_demo_is_idempotent_and_complete(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    first = _counts()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert _counts() == first
    locations = db.session.scalars(select(StockLocation)).all()
    assert sum(1 for loc in locations if loc.type == "warehouse") >= 1
    assert sum(1 for loc in locations if loc.type == "store") >= 5
    assert len({loc.city for loc in locations}) >= 2
    assert first[1] >= 50
    assert all(p.barcodes for p in db.session.scalars(select(Product)))
    for login in demo_logins():
        assert authenticate(login.username, login.password, "127.0.0.1").role == login.role
    assert len([login for login in demo_logins() if login.role == "staff"]) == len(LOCATIONS)
