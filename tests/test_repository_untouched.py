"""Tests never write into the checkout: the app they build lives in the temporary instance
directory they set, even though `app.config` was imported before they set it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.test_store_flow import shoot

ROOT = Path(__file__).resolve().parents[1]

# Imports the app first, sets the environment afterwards (as tests/conftest.py does), then builds it.
BUILD_APP_AFTER_IMPORT = """
import json, os, sys
from app import create_app
os.environ.update(json.loads(sys.argv[1]))
app = create_app()
print(json.dumps({"instance_path": app.instance_path, "database": app.config["SQLALCHEMY_DATABASE_URI"],
                  "redis": app.config["REDIS_URL"], "idle": app.config["SESSION_IDLE_MINUTES"]}))
"""


def test_the_test_app_and_its_files_live_in_the_temporary_instance_directory(app, tmp_root):
    instance = Path(app.instance_path)
    assert instance == tmp_root / "instance"
    assert not instance.resolve().is_relative_to(ROOT)
    # The worker-process test keeps its log here.
    assert Path(os.environ["PACKLINE_INSTANCE_DIR"]) == instance


def test_the_environment_is_read_when_the_app_is_created_not_when_it_is_imported(tmp_path):
    instance = tmp_path / "instance"
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("PACKLINE_INSTANCE_DIR", None)
    late = {"PACKLINE_INSTANCE_DIR": str(instance), "SESSION_IDLE_MINUTES": "7"}
    result = subprocess.run([sys.executable, "-c", BUILD_APP_AFTER_IMPORT, json.dumps(late)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    built = json.loads(result.stdout.strip().splitlines()[-1])
    assert built == {"instance_path": str(instance), "database": f"sqlite:///{instance / 'packline.db'}",
                     "redis": f"unix://{instance / 'redis.sock'}", "idle": 7}
    assert instance.is_dir()


@pytest.mark.browser
def test_browser_screenshots_go_to_the_instance_directory_unless_the_docs_ask(app, page, monkeypatch):
    monkeypatch.delenv("PACKLINE_SCREENSHOTS_DIR", raising=False)
    page.goto("/login")
    written = shoot(page, "repository-untouched-check")
    try:
        assert written == Path(app.instance_path) / "screenshots" / "repository-untouched-check.png"
        assert written.read_bytes().startswith(b"\x89PNG")
        assert not (ROOT / "docs" / "screenshots" / written.name).exists()
    finally:
        written.unlink(missing_ok=True)

    monkeypatch.setenv("PACKLINE_SCREENSHOTS_DIR", str(app.instance_path) + "/docs-refresh")
    refreshed = shoot(page, "repository-untouched-check")
    assert refreshed == Path(app.instance_path) / "docs-refresh" / "repository-untouched-check.png"
    assert refreshed.exists()
