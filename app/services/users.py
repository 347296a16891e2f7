"""Users, passwords, login throttling and API tokens.

Creating and changing users and tokens only flushes: the admin form or the CLI that calls it
commits (`services.db.committed`). Signing in records its own outcome and commits.

Throttling: LOGIN_MAX_FAILURES failures for one username within LOGIN_LOCK_MINUTES hold that
account back, even with the right password. Four times as many failures from one address hold
that address back too, but only for browsers that have not signed in to that account before (the
device cookie, `views/client.py`): an attacker at a shared address is slowed to a few guesses per
window, while the people who work there keep signing in on their own devices. Each attempt is
counted before its password is compared, under a lock per username and per address, so guesses
sent all at once are held to the same limits as guesses sent one by one."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.i18n import language_problem
from app.models.base import utcnow
from app.models.locations import StockLocation
from app.models.users import ROLES, ApiToken, LoginFailure, User, username_key
from app.services import config_cache
from app.services.db import begin_write, lock_names
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.services.passwords import password_problem
from app.services.sessions import end_all_sessions, open_session

TOKEN_PREFIX = "pkl_"


class LoginError(ServiceError):
    status = 401
    code = "login_failed"


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


def hash_password(password: str) -> str:
    """scrypt (werkzeug's default) — a memory-hard KDF; its cost is the app's PASSWORD_HASH_METHOD."""
    return generate_password_hash(password, method=_hash_method())


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash to compare against when the user does not exist, made at the cost real ones are
    made at, so timing does not reveal whether the name exists."""
    return generate_password_hash("not-a-real-password", method=method)


def create_user(
    username: str, role: str, password: str, location_codes: list[str] | None = None
) -> User:
    """Create a user; staff need at least one location. Flushes."""
    username = (username or "").strip()
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("Enter a username.")
    if role not in ROLES:
        errors["role"] = _("Role must be one of: %(roles)s.", roles=", ".join(ROLES))
    if problem := password_problem(password, username):
        errors["password"] = problem
    locations = _locations_by_code(location_codes or [], errors)
    if role == "staff" and not locations and "locations" not in errors:
        errors["locations"] = _("Staff users need at least one location.")
    if errors:
        raise ValidationFailed(_('The user could not be created.'), errors)
    existing = db.session.scalar(select(User.username).where(User.username_key == username_key(username)))
    if existing == username:
        raise Conflict(_('A user named %(username)s already exists.', username=repr(username)))
    if existing is not None:
        raise Conflict(_('%(username)s is taken: the user %(existing)s already exists, and capital letters do not '
                         'make another username. Choose a different name.',
                         username=repr(username), existing=repr(existing)))
    user = User(username=username, role=role, password_hash=hash_password(password), locations=locations)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user_id: int, role: str, location_codes: list[str], active: bool) -> User:
    """Change a user's role, locations and active flag; staff need at least one location.
    Deactivating, or narrowing what they may see, signs them out everywhere. Flushes."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_('No such user.'))
    errors: dict[str, str] = {}
    if role not in ROLES:
        errors["role"] = _("Role must be one of: %(roles)s.", roles=", ".join(ROLES))
    locations = _locations_by_code(location_codes, errors)
    if role == "staff" and not locations and "locations" not in errors:
        errors["locations"] = _("Staff users need at least one location.")
    if errors:
        raise ValidationFailed(_('The user was not saved: check the highlighted fields.'), errors)
    if (not active and user.active) or role != user.role or set(location_codes) != {loc.code for loc in user.locations}:
        user.session_version += 1  # a narrower scope or a deactivation takes effect at once
        end_all_sessions(user.id)
    user.role, user.locations, user.active = role, locations, active
    db.session.flush()
    return user


def reset_password(user_id: int, password: str) -> User:
    """Set a new password and sign the user out everywhere. Flushes."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_('No such user.'))
    if problem := password_problem(password, user.username):
        raise ValidationFailed(_('The password was not changed.'), {"password": problem})
    user.password_hash = hash_password(password)
    user.session_version += 1
    end_all_sessions(user.id)
    db.session.flush()
    return user


def set_scan_feedback(user_id: int, on: bool) -> User:
    """Switch the tone and vibration that confirm each scan on or off for one user. Flushes."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_('No such user.'))
    user.scan_feedback = on
    db.session.flush()
    return user


def set_language(user_id: int, language: str | None) -> User:
    """The language this user reads the screens in ("en", "tr"; None: the browser's, then the
    brand's). Flushes."""
    if language is not None and language_problem(language):
        raise ValidationFailed(_("Choose a language we have."), {"language": language_problem(language)})
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_('No such user.'))
    user.language = language
    db.session.flush()
    return user


def _locations_by_code(codes: list[str], errors: dict[str, str]) -> list[StockLocation]:
    if not codes:
        return []
    found = db.session.scalars(select(StockLocation).where(StockLocation.code.in_(codes))).all()
    missing = sorted(set(codes) - {loc.code for loc in found})
    if missing:
        errors["locations"] = _("Unknown location code(s): %(codes)s.", codes=", ".join(missing))
    return list(found)


def _throttled(username: str, address: str, known_device: bool) -> str | None:
    """Why this attempt is held back without looking at the password, or None."""
    cfg = current_app.config
    since = utcnow() - timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    base = select(func.count(LoginFailure.id)).where(LoginFailure.created_at >= since)
    if (db.session.scalar(base.where(LoginFailure.username == username)) or 0) >= cfg["LOGIN_MAX_FAILURES"]:
        return _("Too many failed attempts. Wait a few minutes, then try again.")
    # An address may try several accounts (a shared store tablet), so it gets more room.
    if not known_device and (
        db.session.scalar(base.where(LoginFailure.address == address)) or 0
    ) >= cfg["LOGIN_MAX_FAILURES"] * 4:
        return _("Too many failed sign-ins from this network. Wait a few minutes, or sign in on a device you have "
                 "used before.")
    return None


def _count_attempt(username: str, address: str, known_device: bool) -> None:
    """Count this sign-in as a failure before its password is compared, in a short transaction
    that holds the username's and the address's locks: attempts sent at once are counted one
    after another, so no more than the limit are ever compared. A right password deletes the
    row again. Raises LoginError ("throttled") instead while the account or address is held
    back. Commits."""
    begin_write()
    try:
        lock_names(f"sign-in:user:{username}", f"sign-in:address:{address}")
        if refusal := _throttled(username, address, known_device):
            raise LoginError(refusal, code="throttled")
        db.session.add(LoginFailure(username=username, address=address))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _check_credentials(username: str, password: str, address: str, known_device: bool) -> User:
    """The user for valid credentials. Every attempt is first counted as a failure (committed);
    a wrong one is raised as one generic error, a right one clears the account's failures and
    flushes."""
    # Throttled and looked up by the name's key: "Ayse" and "ayse" are one account (username_key).
    username, address = username_key(username)[:100], address[:64]
    dummy = _dummy_hash(_hash_method())  # made on a process's first attempt, whoever it names
    _count_attempt(username, address, known_device)
    user = db.session.scalar(select(User).where(User.username_key == username))
    ok = check_password_hash(user.password_hash if user else dummy, password or "")
    if not (ok and user and user.active):
        raise LoginError(_('Wrong username or password, or the account is disabled.'))
    user_id = user.id
    begin_write()
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    user = db.session.get(User, user_id)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def authenticate(username: str, password: str, address: str, *, known_device: bool = False) -> User:
    """Return the user for valid credentials; one generic error for every failure. Commits."""
    user = _check_credentials(username, password, address, known_device)
    db.session.commit()
    return user


def sign_in(username: str, password: str, address: str, *, known_device: bool = False) -> tuple[User, str]:
    """Check the credentials and open a server-side session for this browser; returns the user
    and the raw session id its cookie keeps. One generic error for every failure. Commits."""
    user = _check_credentials(username, password, address, known_device)
    raw = open_session(user)
    db.session.commit()
    return user, raw


def _token_hash(raw: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(username: str, name: str | None = None) -> str:
    """Create an API token for a user and return it; only its hash is stored. Flushes."""
    user = db.session.scalar(select(User).where(User.username_key == username_key(username)))
    if user is None:
        raise ValidationFailed(_('No user named %(username)s.', username=repr(username)), {"username": _('Unknown user.')})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, name=name, prefix=raw[:10], token_hash=_token_hash(raw)))
    db.session.flush()
    return raw


# Built once: every API request runs it, and a statement object keeps its cache key. It reads the
# configuration token too (config_cache.note_token): a command then needs no read of its own.
_TOKEN_BY_HASH = (select(ApiToken, config_cache.token_query())
                  .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
                  .options(joinedload(ApiToken.user)))


def user_for_token(raw: str) -> tuple[User, ApiToken] | None:
    """The active user and token for a raw token, or None. Does not commit."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    row = db.session.execute(_TOKEN_BY_HASH, {"token_hash": _token_hash(raw)}).first()
    if row is None:
        return None
    token, config_token = row
    config_cache.note_token(config_token)
    if not token.user.active:
        return None
    return token.user, token


def revoke_token(token_id: int) -> None:
    """Revoke a token (a revoked one stays revoked at its first time). Flushes."""
    token = db.session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def prune_login_failures() -> int:
    cutoff = utcnow() - timedelta(days=1)
    result = db.session.execute(delete(LoginFailure).where(LoginFailure.created_at < cutoff))
    db.session.commit()
    return result.rowcount or 0


__all__ = [
    "LoginError",
    "authenticate",
    "create_token",
    "create_user",
    "hash_password",
    "prune_login_failures",
    "reset_password",
    "revoke_token",
    "sign_in",
    "update_user",
    "user_for_token",
]
