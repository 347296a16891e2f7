"""Users, their location scope, their signed-in sessions, API tokens and login throttling."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.extensions import db
from app.models.base import Timestamped, one_of, utcnow
from app.models.locations import StockLocation

ROLES = ("admin", "supervisor", "staff")

# Turkish keyboards give I/ı and İ/i, others I/i: every one of them is the same letter in a username.
_DOTTED_AND_DOTLESS_I = str.maketrans({"İ": "i", "I": "i", "ı": "i", "\u0307": None})


def username_key(username: str) -> str:
    """What makes two usernames the same: "Ayşe", "AYŞE" and "ayşe" are one user, and so are
    "Işık" and "IŞIK" whichever keyboard typed them (docs/decisions.md). Sign-in, throttling and
    the unique index compare this, never the name as typed."""
    return unicodedata.normalize("NFKC", (username or "").strip()).translate(_DOTTED_AND_DOTLESS_I).casefold()

user_locations = Table(
    "user_locations",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("stock_locations.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Timestamped, db.Model):
    __tablename__ = "users"
    __table_args__ = (one_of("role", ROLES, "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    # username_key(username), unique: a name that differs from another only by capitals is taken.
    username_key: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change/deactivation so existing sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A tone and a buzz for every scan in the store app (My settings); on unless switched off.
    scan_feedback: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # "en" or "tr" (app/i18n.LANGUAGES); None: the browser's Accept-Language, then the brand's.
    language: Mapped[str | None] = mapped_column(String(8))

    locations: Mapped[list[StockLocation]] = relationship(
        secondary=user_locations, order_by="StockLocation.code"
    )
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @validates("username")
    def _keep_key(self, _name: str, value: str) -> str:
        self.username_key = username_key(value)[:100]
        return value

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def location_ids(self) -> set[int]:
        return {loc.id for loc in self.locations}

    @property
    def sees_all_locations(self) -> bool:
        """Admins, and supervisors without a configured subset, see every location."""
        return self.role == "admin" or (self.role == "supervisor" and not self.locations)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(db.Model):
    """One signed-in browser. Its cookie holds a random id whose hash is stored here, so signing
    out, a password reset or a role change ends the session on the server: a copy of the cookie
    stops working too. `last_seen_at` drives the idle timeout, `created_at` the absolute one."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class LoginFailure(db.Model):
    """Failed logins, counted per username and per address for throttling."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
