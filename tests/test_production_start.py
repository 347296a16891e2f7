"""Production starts with a real SECRET_KEY and refuses to start without one; development makes a
random key once per instance directory instead of sharing a public default."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.config import Config
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _env(tmp_path: Path, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PACKLINE_ENV", "DATABASE_URL")}
    env.update(PACKLINE_INSTANCE_DIR=str(tmp_path / "instance"), DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
               REDIS_URL=redis_url, PACKLINE_ENV="production")
    env.update(extra)
    return env


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_production_starts_with_a_real_key_and_serves(tmp_path, redis_server):
    env = _env(tmp_path, redis_server.url, SECRET_KEY=secrets.token_urlsafe(48))
    migrated = _flask(env, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still importing the app
                time.sleep(0.2)
        assert answer is not None, server.stdout.read() if server.poll() is not None else "no answer in 60 s"
        assert answer.status_code == 200 and answer.json()["status"] == "ok"
        login = requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
        assert login.status_code == 200 and "Secure" in login.headers.get("Set-Cookie", "Secure")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not (tmp_path / "instance" / "secret_key").exists()  # production never makes its own key


def test_production_refuses_to_start_without_a_key_or_with_a_short_one(tmp_path, redis_server):
    for extra in ({}, {"SECRET_KEY": "short"}):
        refused = _flask(_env(tmp_path, redis_server.url, **extra), "db", "upgrade")
        assert refused.returncode != 0
        assert "Set SECRET_KEY" in refused.stderr
        assert not (tmp_path / "prod.db").exists() or (tmp_path / "prod.db").stat().st_size == 0


def test_development_makes_one_private_key_per_instance_directory(tmp_path):
    first = Config.from_env({"PACKLINE_INSTANCE_DIR": str(tmp_path / "one")})["SECRET_KEY"]
    again = Config.from_env({"PACKLINE_INSTANCE_DIR": str(tmp_path / "one")})["SECRET_KEY"]
    other = Config.from_env({"PACKLINE_INSTANCE_DIR": str(tmp_path / "two")})["SECRET_KEY"]

    assert first == again and first != other and len(first) >= 32
    key_file = tmp_path / "one" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Config.from_env({"PACKLINE_INSTANCE_DIR": str(tmp_path / "one"),
                            "SECRET_KEY": "given-by-the-operator-123"})["SECRET_KEY"] == "given-by-the-operator-123"
