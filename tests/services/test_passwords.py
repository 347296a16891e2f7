"""New passwords: at least 12 characters and not a common or easily guessed one (ASVS 2.1)."""

from __future__ import annotations

import pytest

from app.services import demo
from app.services.passwords import TOO_COMMON, TOO_EASY, TOO_SHORT, password_problem


@pytest.mark.parametrize(("password", "username", "problem"), [
    ("password", "", TOO_SHORT),
    ("12345678", "", TOO_SHORT),
    ("aaaaaaaa", "", TOO_SHORT),
    ("eleven-char", "", TOO_SHORT),
    ("password1234", "", TOO_COMMON),
    ("P@ssw0rd2024", "", TOO_COMMON),
    ("qwertyuiop12", "", TOO_COMMON),
    ("iloveyou1234", "", TOO_COMMON),
    ("aaaaaaaaaaaa", "", TOO_EASY),
    ("abcdefghijkl", "", TOO_EASY),
    ("mehmetmehmet1", "mehmet", TOO_EASY),
    ("a" * 1000, "", TOO_EASY),
    (None, "", TOO_SHORT),
])
def test_short_common_and_guessable_passwords_are_refused_in_plain_words(password, username, problem):
    assert password_problem(password, username) == problem


@pytest.mark.parametrize("password", [
    "correct-horse-battery", "brand-new-secret", "Tr0ub4dor&3xx", "kedi-masa-kalem-42",
    "çok-güzel-bir-gün", "x7!" + "Lq9#vR2@wZ" * 50,  # long passwords are judged by their start, quickly
])
def test_long_unguessable_passwords_are_accepted(password):
    assert password_problem(password, "ayse") is None


def test_the_demo_passwords_pass_the_rule():
    for login in demo.demo_logins():
        assert password_problem(login.password, login.username) is None
