"""Pickup codes cannot be brute-forced: a few wrong codes lock the package, many lock the person,
both for 15 minutes, and every wrong code is recorded and logged."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Package, PickupCodeFailure
from app.models.base import utcnow
from app.services.errors import Conflict, TooManyAttempts, ValidationFailed
from app.services.packages import run_package_command
from app.services.pickup_codes import PER_PACKAGE, PER_PERSON
from app.services.settings import put_setting
from tests import factories
from tests.api.test_bad_input_regressions import auth
from tests.services.builders import make_package, staff
from tests.threads import at_once

CODE = "482913"


def _waiting_for_the_customer(store) -> Package:
    package = make_package("ready_for_pickup", location=store, delivery_type="click_and_collect")
    package.otp_code = CODE
    db.session.commit()
    return package


@pytest.fixture
def store(app):
    put_setting("IS_OTP_ENABLED", True)
    return factories.location("IST-KDK")


def _hand_over(package_id: int, code: str, who) -> str:
    try:
        return run_package_command(package_id, "deliver_to_customer", {"otp": code}, who).state
    except (ValidationFailed, TooManyAttempts) as exc:
        return type(exc).__name__


def test_a_few_wrong_codes_lock_the_package_even_for_the_right_code(store, caplog):
    package = _waiting_for_the_customer(store)
    clerk = staff(store)
    with caplog.at_level(logging.WARNING, logger="packline.security"):
        tries = [_hand_over(package.id, f"00000{n}", clerk) for n in range(PER_PACKAGE)]

    assert tries == ["WrongPickupCode"] * PER_PACKAGE
    assert _hand_over(package.id, CODE, clerk) == "TooManyAttempts"
    assert _hand_over(package.id, CODE, staff(store, name="mehmet")) == "TooManyAttempts"  # anyone
    db.session.expire_all()
    assert db.session.get(Package, package.id).state == "ready_for_pickup"
    assert db.session.scalar(select(func.count(PickupCodeFailure.id))) == PER_PACKAGE
    assert "the package is now locked" in caplog.text

    db.session.execute(update(PickupCodeFailure).values(created_at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    assert _hand_over(package.id, CODE, clerk) == "delivered"


def test_one_person_guessing_across_packages_is_locked_but_colleagues_are_not(store):
    packages = [_waiting_for_the_customer(store) for _ in range(PER_PERSON // (PER_PACKAGE - 1) + 1)]
    guesser = staff(store, name="guesser")
    wrong = 0
    for package in packages:
        for n in range(PER_PACKAGE - 1):
            if wrong < PER_PERSON:
                assert _hand_over(package.id, f"99999{n}", guesser) == "WrongPickupCode"
                wrong += 1
    last = packages[-1]
    assert _hand_over(last.id, CODE, guesser) == "TooManyAttempts"
    assert _hand_over(last.id, CODE, staff(store, name="colleague")) == "delivered"


def test_the_api_answers_429_when_locked(store, client):
    package = _waiting_for_the_customer(store)
    headers = auth("kdk", "staff", [store])
    url = f"/api/v1/packages/{package.id}/commands/deliver_to_customer"
    statuses = [client.post(url, json={"otp": "111111"}, headers=headers).status_code for _ in range(PER_PACKAGE)]
    locked = client.post(url, json={"otp": CODE}, headers=headers)

    assert statuses == [422] * PER_PACKAGE
    assert locked.status_code == 429
    assert locked.get_json()["error"]["code"] == "too_many_attempts"


def _hand_over_at_once(app, attempts: list[tuple[int, str]], who) -> list[str]:
    """Each attempt in its own thread and app context (its own database session), all at once."""

    def attempt(package_id: int, code: str) -> str:
        try:
            return _hand_over(package_id, code, who)
        except Conflict:
            return "Conflict"

    outcomes, errors = at_once(app, [partial(attempt, *each) for each in attempts])
    assert not errors, errors
    return outcomes


def test_wrong_codes_sent_at_once_are_compared_no_more_often_than_the_limit(app, store):
    """Each code is counted under the package's lock before it is compared, so forty guesses at
    once get exactly PER_PACKAGE answers "wrong code" and the others wait out the lock."""
    package_id = _waiting_for_the_customer(store).id
    clerk = staff(store)
    outcomes = _hand_over_at_once(app, [(package_id, f"{n:06d}") for n in range(40)], clerk)

    assert outcomes.count("WrongPickupCode") == PER_PACKAGE
    assert outcomes.count("TooManyAttempts") == 40 - PER_PACKAGE
    db.session.rollback()
    assert db.session.scalar(select(func.count(PickupCodeFailure.id))) == PER_PACKAGE


def test_one_person_guessing_at_many_packages_at_once_is_held_to_the_personal_limit(app, store):
    package_ids = [_waiting_for_the_customer(store).id for _ in range(PER_PERSON // PER_PACKAGE + 2)]
    guesser = staff(store, name="guesser")
    attempts = [(package_id, f"{n:06d}") for package_id in package_ids for n in range(PER_PACKAGE + 2)]
    outcomes = _hand_over_at_once(app, attempts, guesser)

    assert outcomes.count("WrongPickupCode") == PER_PERSON
    assert outcomes.count("TooManyAttempts") == len(attempts) - PER_PERSON


def test_the_right_code_among_wrong_ones_at_once_hands_over_once_and_counts_only_the_wrong(app, store):
    package_id = _waiting_for_the_customer(store).id
    outcomes = _hand_over_at_once(app, [(package_id, CODE), (package_id, "000001"), (package_id, "000002")],
                                  staff(store))
    assert outcomes.count("delivered") == 1
    assert set(outcomes) <= {"delivered", "WrongPickupCode", "Conflict"}  # Conflict: already handed over
    db.session.rollback()
    assert db.session.scalar(select(func.count(PickupCodeFailure.id))) == outcomes.count("WrongPickupCode")
