"""`make run`'s supervisor (app.devserver, running app/Procfile): it stops cleanly on Ctrl-C and on
SIGTERM — web, then worker, then the private Redis, no process left behind, no traceback —, a
killed worker stops the rest and leaves no RQ scheduler behind, a killed private Redis is started
again, and a busy port is refused before any URL is printed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

# Every start here uses a SQLite file of its own (`_env`), whatever database the run tests.
pytestmark = pytest.mark.own_database

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY", "PACKLINE_ENV")}
    env.update(PACKLINE_INSTANCE_DIR=str(tmp_path / "instance"), DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
               PYTHONUNBUFFERED="1")
    return env


def _descendants(pid: int) -> set[int]:
    """Every process whose parent chain leads to `pid` (children in other sessions included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    return [int(p) for p in (Path("/proc") / str(pid) / "task" / str(pid) / "children").read_text().split()]


class Run:
    def __init__(self, tmp_path: Path, port: int, env: dict[str, str] | None = None):
        self.proc = subprocess.Popen([sys.executable, "-m", "app.devserver", "--port", str(port)], cwd=ROOT,
                                     env=env or _env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)  # its own group, like a terminal's foreground job
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def end(self) -> None:
        """After a failed check: stop it as a user would (SIGTERM), then whatever it started that is
        still there — a failing test must not leave a demo shop placing orders behind it."""
        if self.proc.poll() is not None:
            return
        started = _descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for pid in started:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def wait_for(self, text: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.proc.poll() is None, f"devserver exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{self.output}"
            time.sleep(0.2)


@pytest.mark.parametrize("how", ["ctrl_c", "sigterm"])
def test_make_run_stops_cleanly_and_leaves_nothing_behind(tmp_path, how):
    port = free_port()
    run = Run(tmp_path, port)
    try:
        run.wait_for("Press Ctrl-C to stop.")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the printed URL really answers
        children = _descendants(run.proc.pid)
        assert len(children) >= 4, children  # redis, worker, gunicorn master and its workers
        if how == "ctrl_c":
            os.killpg(run.proc.pid, signal.SIGINT)  # what the terminal does: the foreground group
        else:
            run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=90) == 0, run.output
    finally:
        run.end()
    run.reader.join(timeout=10)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)], run.output
    assert "Stopped." in run.output
    assert "Traceback" not in run.output and "unexpectedly" not in run.output, run.output


def test_a_busy_port_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "app.devserver", "--port", str(port)], cwd=ROOT,
                                env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"Port {port} is already in use" in result.stderr and "running at" not in result.stdout


def test_a_web_server_bound_to_another_host_is_waited_for_there(tmp_path):
    # HOST=<an address other than 127.0.0.1> (app/Procfile's web line binds it): the supervisor used
    # to wait on 127.0.0.1, never saw the server and stopped everything after 60 s.
    port = free_port()
    run = Run(tmp_path, port, {**_env(tmp_path), "HOST": "127.0.0.2"})
    try:
        run.wait_for("Press Ctrl-C to stop.")
        assert f"http://127.0.0.2:{port}/" in run.output
        with urllib.request.urlopen(f"http://127.0.0.2:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=90) == 0, run.output
    finally:
        run.end()
    run.reader.join(timeout=10)


def test_a_host_that_is_not_this_machine_is_one_line_and_nothing_starts(tmp_path):
    result = subprocess.run([sys.executable, "-m", "app.devserver", "--port", str(free_port())], cwd=ROOT,
                            env={**_env(tmp_path), "HOST": "203.0.113.254"}, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("HOST=203.0.113.254 cannot be used for the web server") and "running at" not in result.stdout
    assert not (tmp_path / "instance").exists(), "nothing was started or made"


def _wait(condition, timeout: float, what: str, run: Run) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s:\n{run.output}"
        time.sleep(0.2)


def test_a_killed_worker_stops_the_rest_with_a_message_and_leaves_no_scheduler_behind(tmp_path):
    run = Run(tmp_path, free_port())
    try:
        run.wait_for("Press Ctrl-C to stop.")
        [worker] = [pid for pid in _children(run.proc.pid) if _cmdline(pid).endswith("wsgi worker ")]
        # RQ's scheduler runs in a process the worker forks: the orphan a killed worker used to leave.
        _wait(lambda: _descendants(worker), 60, "the worker's scheduler process started", run)
        everything = _descendants(run.proc.pid)
        os.kill(worker, signal.SIGKILL)
        assert run.proc.wait(timeout=90) == 1, run.output
    finally:
        run.end()
    run.reader.join(timeout=10)
    _wait(lambda: not [pid for pid in everything if _alive(pid)], 30, "every process gone", run)
    assert "The worker stopped unexpectedly (exit code -9); stopping the rest." in run.output
    assert "Stopped." in run.output


def test_a_killed_private_redis_is_started_again_and_the_site_goes_on(tmp_path):
    port = free_port()
    run = Run(tmp_path, port)
    try:
        run.wait_for("Press Ctrl-C to stop.")
        [redis] = [pid for pid in _children(run.proc.pid) if "redis" in _cmdline(pid) or "valkey" in _cmdline(pid)]
        os.kill(redis, signal.SIGKILL)
        run.wait_for("The private Redis stopped; starting it again.", timeout=30)
        _wait(lambda: [pid for pid in _children(run.proc.pid) if pid != redis and "redis.sock" in _cmdline(pid)],
              30, "a new Redis", run)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        assert run.proc.poll() is None, "the web tier did not go down with Redis"
        everything = _descendants(run.proc.pid)
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=90) == 0, run.output
    finally:
        run.end()
    _wait(lambda: not [pid for pid in everything if _alive(pid)], 30, "every process gone", run)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("PACKLINE_WEB", "two", "argument --web: invalid int value: 'two'"),
    ("PACKLINE_WORKERS", "0", "PACKLINE_WEB and PACKLINE_WORKERS must be at least 1."),
])
def test_a_bad_process_count_is_one_line_and_nothing_starts(tmp_path, variable, value, message):
    result = subprocess.run([sys.executable, "-m", "app.devserver", "--port", str(free_port())], cwd=ROOT,
                            env={**_env(tmp_path), variable: value}, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].endswith(message) and "Traceback" not in result.stderr
    assert not (tmp_path / "instance").exists(), "nothing was started or made"


def test_the_demo_shop_places_orders_that_arrive_planned_and_hears_the_stock(tmp_path):
    """`make run`'s demo: a simulated Shopify shop sends signed orders to the demo's `web` channel;
    they are imported and planned, the shop is told the stock, and the shop stops with the rest."""
    import json
    import re
    import sqlite3

    port = free_port()
    env = _env(tmp_path)
    env.update(DEMO_SHOP_EVERY="1", CHANNEL_SYNC_SECONDS="2")
    run = Run(tmp_path, port, env)
    shop_pid = None
    try:
        run.wait_for("Press Ctrl-C to stop.")
        found = re.search(r"simulated Shopify shop at (http://127\.0\.0\.1:\d+)", run.output)
        assert found, run.output
        shop_url = found.group(1)
        shop_pid = next(pid for pid in _descendants(run.proc.pid) if "app.channel_simulator" in _cmdline(pid))
        deadline = time.monotonic() + 120
        planned = stock_told = 0
        while time.monotonic() < deadline and not (planned and stock_told):
            with sqlite3.connect(tmp_path / "run.db") as conn:
                planned = conn.execute(
                    "SELECT count(*) FROM channel_inbox i JOIN orders o ON o.id = i.order_id "
                    "JOIN channels c ON c.id = i.channel_id WHERE c.code = 'web' AND i.outcome = 'imported' "
                    "AND o.status IN ('planned', 'in_progress', 'out_of_stock')").fetchone()[0]
            with urllib.request.urlopen(f"{shop_url}/_sim/requests?path_prefix=/admin/api", timeout=5) as answer:
                stock_told = sum("inventory_levels" in r["path"] for r in json.load(answer)["requests"])
            time.sleep(1)
        assert planned >= 1, run.output
        assert stock_told >= 1, run.output
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=90) == 0, run.output
    finally:
        run.end()
    run.reader.join(timeout=10)
    deadline = time.monotonic() + 30
    while _alive(shop_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(shop_pid)
    assert "Traceback" not in run.output, run.output
