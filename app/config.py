"""Configuration, read once from the environment with safe development defaults."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PACKLINE_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'packline.db'}"


def default_redis_url() -> str:
    return f"unix://{INSTANCE_DIR / 'redis.sock'}"


class Config:
    ENV_NAME = os.environ.get("PACKLINE_ENV", "development")
    # Development default only; production must set SECRET_KEY (checked in create_app).
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or default_redis_url()
    RQ_DEFAULT_QUEUES = ("default", "planning", "carriers", "webhooks")
    # Run jobs inline instead of enqueueing (only for scripts that have no Redis).
    RQ_SYNC = _bool("RQ_SYNC", False)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", ENV_NAME == "production")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "480"))
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "15"))

    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    WEBHOOK_ALLOW_PRIVATE_URLS = os.environ.get("WEBHOOK_ALLOW_PRIVATE_URLS")
    INVOICE_SERVICE_URL = os.environ.get("INVOICE_SERVICE_URL")
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret"
    SESSION_COOKIE_SECURE = False
