"""Configuration: defaults here, read from the environment each time an app is created.

Nothing is read at import time, so a variable set before `create_app` runs (by a test, or in a
subprocess's environment) is honoured even when this module was imported earlier.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
MIN_SECRET_KEY_LENGTH = 16


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where SQLite, the private Redis socket and uploads live: PACKLINE_INSTANCE_DIR or instance/."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("PACKLINE_INSTANCE_DIR") or BASE_DIR / "instance")


def default_database_url(directory: Path | None = None) -> str:
    return f"sqlite:///{(directory or instance_dir()) / 'packline.db'}"


def default_redis_url(directory: Path | None = None) -> str:
    return f"unix://{(directory or instance_dir()) / 'redis.sock'}"


# config key -> (environment variable, parser); an unset or empty variable keeps the default.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "INSTANCE_DIR": ("PACKLINE_INSTANCE_DIR", Path),
    "ENV_NAME": ("PACKLINE_ENV", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "SQLALCHEMY_DATABASE_URI": ("DATABASE_URL", str),
    "REDIS_URL": ("REDIS_URL", str),
    "RQ_SYNC": ("RQ_SYNC", _bool),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _bool),
    "SESSION_IDLE_MINUTES": ("SESSION_IDLE_MINUTES", int),
    "SESSION_ABSOLUTE_HOURS": ("SESSION_ABSOLUTE_HOURS", int),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", str),
    "LOGIN_MAX_FAILURES": ("LOGIN_MAX_FAILURES", int),
    "LOGIN_LOCK_MINUTES": ("LOGIN_LOCK_MINUTES", int),
    "WEBHOOK_ALLOW_PRIVATE_URLS": ("WEBHOOK_ALLOW_PRIVATE_URLS", str),
    "INVOICE_SERVICE_URL": ("INVOICE_SERVICE_URL", str),
    "PUBLIC_URL": ("PACKLINE_PUBLIC_URL", str),
    "TRUSTED_HOSTS": ("PACKLINE_TRUSTED_HOSTS", lambda v: [h.strip() for h in v.split(",") if h.strip()]),
    "METRICS_TOKEN": ("METRICS_TOKEN", str),
    "LOG_FORMAT": ("PACKLINE_LOG_FORMAT", str),
    # Recovery timings (docs/deploy.md): how often carriers are polled, after how long a label
    # request whose job was lost is asked again, how long a webhook attempt holds its delivery.
    "CARRIER_POLL_SECONDS": ("CARRIER_POLL_SECONDS", int),
    "CARRIER_LABEL_STALE_SECONDS": ("CARRIER_LABEL_STALE_SECONDS", int),
    "WEBHOOK_LEASE_SECONDS": ("WEBHOOK_LEASE_SECONDS", float),
    # Threads per worker process sending webhook attempts (0: in the job itself; services/webhooks/sender.py).
    "WEBHOOK_SENDER_THREADS": ("WEBHOOK_SENDER_THREADS", int),
    # Channels (docs/channels.md): stock pushed within this many seconds of a change; webhook body
    # size and rate per channel; seconds between retries of a status update told back to a channel.
    "CHANNEL_SYNC_SECONDS": ("CHANNEL_SYNC_SECONDS", float),
    "CHANNEL_WEBHOOK_MAX_BYTES": ("CHANNEL_WEBHOOK_MAX_BYTES", int),
    "CHANNEL_WEBHOOK_RATE": ("CHANNEL_WEBHOOK_RATE", int),
    "CHANNEL_RETRY_INTERVALS": ("CHANNEL_RETRY_INTERVALS",
                                lambda v: [float(x) for x in v.split(",") if x.strip()]),
    # KPIs (docs/kpis.md): seconds between rollup runs; seconds a computed report is kept (0 = never).
    "KPI_ROLLUP_SECONDS": ("KPI_ROLLUP_SECONDS", int),
    "KPI_CACHE_SECONDS": ("KPI_CACHE_SECONDS", int),
    # Orders one order-intake planning job plans in its transaction when more wait behind it (1: never group).
    "PLANNING_GROUP_LIMIT": ("PLANNING_GROUP_LIMIT", int),
}


class Config:
    """The defaults. `from_env()` lays the environment over them when an app is created; what a
    subclass sets itself (TestConfig, a benchmark's database) wins over both. None means
    "derived": the database and Redis socket live in INSTANCE_DIR, cookies are Secure in production.
    """

    INSTANCE_DIR: Path | None = None  # None: instance/ in the checkout
    ENV_NAME = "development"
    # Production must set SECRET_KEY (checked in create_app); elsewhere, when unset, a random key
    # is made once per instance directory (`development_secret_key`), never a public default.
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL: str | None = None
    # Run jobs inline instead of enqueueing (only for scripts that have no Redis).
    RQ_SYNC = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_SECURE: bool | None = None  # None: as SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    SESSION_IDLE_MINUTES = 480
    # However active, a session ends this long after sign-in (a stolen cookie has a shelf life).
    SESSION_ABSOLUTE_HOURS = 12
    # Proxies whose X-Forwarded-For is believed: comma-separated addresses or networks
    # ("10.0.0.5, 10.1.0.0/16"). None: the peer's own address is the client's.
    TRUSTED_PROXIES: str | None = None
    LOGIN_MAX_FAILURES = 5
    # werkzeug's method string for new password hashes: its default, scrypt (N=32768, ~0.15 s of
    # CPU). Not read from the environment; only TestConfig lowers the cost. A stored hash names its
    # own method, so a check always uses the cost it was made with.
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_LOCK_MINUTES = 15

    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    # Without JavaScript, a package page waiting for its carrier label reloads itself this often
    # (with JavaScript its fragment polls instead). TestConfig shortens it: a browser test waits it out.
    STORE_NOSCRIPT_REFRESH_SECONDS = 10
    WEBHOOK_ALLOW_PRIVATE_URLS: str | None = None
    WEBHOOK_SENDER_THREADS = 8
    # A planning job that finds more orders' jobs waiting behind it plans up to this many orders in
    # one transaction (one commit; app/tasks/planning.py, docs/decisions.md "group commit").
    PLANNING_GROUP_LIMIT = 100
    INVOICE_SERVICE_URL: str | None = None
    # Absolute links the API hands out (`next` pages) start with PUBLIC_URL when set; otherwise with
    # the request's host only when Flask checks it against TRUSTED_HOSTS (or outside production).
    PUBLIC_URL: str | None = None
    TRUSTED_HOSTS: list[str] | None = None
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    # GET /metrics answers only "Authorization: Bearer <METRICS_TOKEN>"; unset, it is a 404.
    METRICS_TOKEN: str | None = None
    LOG_FORMAT = "text"  # "json": one JSON object per log line (app/logs.py)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """This class's settings with the environment (default: os.environ) read now, then `overrides`."""
        environ = os.environ if environ is None else environ
        values = _settings_of(Config)
        values.update({key: parse(environ[name]) for key, (name, parse) in ENVIRONMENT.items()
                       if environ.get(name)})
        for klass in reversed(cls.__mro__):
            if klass is not Config and issubclass(klass, Config):
                values.update({key: value for key, value in vars(klass).items() if key.isupper()})
        values.update(overrides or {})
        directory = values["INSTANCE_DIR"] = Path(values["INSTANCE_DIR"] or instance_dir(environ))
        values["SQLALCHEMY_DATABASE_URI"] = values["SQLALCHEMY_DATABASE_URI"] or default_database_url(directory)
        values["REDIS_URL"] = values["REDIS_URL"] or default_redis_url(directory)
        if not values["SECRET_KEY"] and values["ENV_NAME"] != "production":
            values["SECRET_KEY"] = development_secret_key(directory)
        if values["SESSION_COOKIE_SECURE"] is None:
            values["SESSION_COOKIE_SECURE"] = values["ENV_NAME"] == "production"
        if values["REMEMBER_COOKIE_SECURE"] is None:
            values["REMEMBER_COOKIE_SECURE"] = values["SESSION_COOKIE_SECURE"]
        return values


def development_secret_key(directory: Path) -> str:
    """A random key kept in `<instance>/secret_key` (mode 0600), made the first time it is needed:
    sessions survive restarts, and no two installations share a key."""
    path = Path(directory) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _settings_of(klass: type) -> dict[str, Any]:
    return {key: getattr(klass, key) for key in dir(klass) if key.isupper()}


def load_config(config: type | Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings for `create_app(config)`: a Config subclass, a mapping of overrides, or None."""
    if isinstance(config, type) and issubclass(config, Config):
        return config.from_env(environ)
    if config is None or isinstance(config, Mapping):
        return Config.from_env(environ, config)
    return Config.from_env(environ, _settings_of(config))


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    # In-process test workers attempt webhooks inside the job, so a burst worker has finished every
    # attempt when it returns; the sender threads are tested in worker processes (test_webhooks_slow_receiver).
    WEBHOOK_SENDER_THREADS = 0
    SECRET_KEY = "test-secret"
    SESSION_COOKIE_SECURE = False
    # The same scrypt at a test's cost: the suite makes and checks thousands of passwords, and at
    # the production cost they were a tenth of its CPU (tests/services/test_password_hashing.py checks the production default).
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    STORE_NOSCRIPT_REFRESH_SECONDS = 2
