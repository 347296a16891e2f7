"""The rule for new passwords (ASVS 2.1): at least 12 characters and not easy to guess.

"Easy to guess" is zxcvbn's estimate, offline: it matches the password against its lists of
common and breached passwords (xato, rockyou-derived), words, names, keyboard rows, dates,
repeats and sequences, and against the username. A score below 3 (fewer than about 10^8
guesses) is refused. Nothing leaves the server.
"""

from __future__ import annotations

from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MIN_SCORE = 3
# zxcvbn's matching grows quadratically with length; the first 72 characters decide (a strong
# password is strong there already, and a weak prefix of a long one is refused on purpose).
_ESTIMATE_CHARS = 72

TOO_SHORT = f"Use at least {MIN_LENGTH} characters."
TOO_COMMON = "This password is too common; choose another."
TOO_EASY = "This password is too easy to guess; choose another."


def password_problem(password: str | None, username: str = "") -> str | None:
    """What is wrong with `password` as a new password for `username`, in plain words; None if
    nothing is."""
    if not password or len(password) < MIN_LENGTH:
        return _("Use at least %(count)s characters.", count=MIN_LENGTH)
    estimate = zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=[username] if username else [])
    if estimate["score"] >= MIN_SCORE:
        return None
    common = any(match.get("dictionary_name") == "passwords" for match in estimate["sequence"])
    if common:
        return _("This password is too common; choose another.")
    return _("This password is too easy to guess; choose another.")
