"""`make run`: migrate, seed once, start Redis (if needed), web and worker; Ctrl-C stops them.

Run as `python -m app.devserver --port 5000`. Honours DATABASE_URL, REDIS_URL and PORT.

The children run in their own process sessions, so Ctrl-C (which the terminal sends to the whole
foreground group) reaches only this supervisor, which then stops them in order: the web server,
then the worker (it finishes or hands back its job), then the private Redis. A web or worker
process that dies stops the rest with a message saying which; the private Redis is restarted
instead, since the others reconnect to it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket as sockets
import subprocess
import sys
import time
from pathlib import Path

from app.config import instance_dir

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_TIMEOUT = 15  # seconds each child gets to stop before it is killed


class Stop(Exception):
    """SIGINT/SIGTERM: stop everything in order."""


def _flask(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)


def _spawn(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True, **kwargs)


def _port_free(port: int) -> bool:
    with sockets.socket() as probe:
        probe.setsockopt(sockets.SOL_SOCKET, sockets.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    with sockets.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class PrivateRedis:
    """A redis-server on a unix socket in the instance directory, when REDIS_URL is not set."""

    def __init__(self, directory: Path, env: dict[str, str]):
        self.directory, self.env = directory, env
        self.socket = directory / "redis.sock"
        self.proc: subprocess.Popen | None = None
        self.server = shutil.which("redis-server")
        if self.server is None:
            sys.exit("redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install "
                     "redis-server) or set REDIS_URL to an existing Redis, then run `make run` again.")

    def start(self) -> None:
        if self.socket.exists():
            self.socket.unlink()  # left over from a run that was killed
        self.proc = _spawn([self.server, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
                            "--dir", str(self.directory), "--save", "60 1", "--appendonly", "no",
                            "--daemonize", "no"], self.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        for _ in range(200):
            if self.socket.exists():
                break
            time.sleep(0.05)
        self.env["REDIS_URL"] = f"unix://{self.socket}"


def _stop(name: str, proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"  {name} did not stop in {STOP_TIMEOUT} s; killing it.", file=sys.stderr, flush=True)
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    if not _port_free(args.port):
        sys.exit(f"Port {args.port} is already in use. Stop what uses it, or choose another port: "
                 f"PORT={args.port + 1} make run")
    directory = instance_dir()
    directory.mkdir(parents=True, exist_ok=True)

    def stop(*_: object) -> None:
        raise Stop

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)  # a process manager or `timeout` stops everything the same way
    env = dict(os.environ)
    redis = None if env.get("REDIS_URL") else PrivateRedis(directory, env)
    web = worker = None
    try:
        if redis:
            redis.start()
        _flask("db", "upgrade", env=env)
        _flask("seed-demo-if-empty", env=env)
        worker = _spawn([str(BIN / "flask"), "--app", "wsgi", "worker"], env)
        web = _spawn([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{args.port}", "--workers", "2", "--threads", "4",
                      "--access-logfile", "-", "wsgi:app"], env)
        deadline = time.monotonic() + 60
        while not _listening(args.port):
            if web.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"The web server did not start on port {args.port} (see its messages above).")
            time.sleep(0.2)
        print(f"\n  Packline is running at http://127.0.0.1:{args.port}/\n\n  Demo logins:", flush=True)
        _flask("demo-logins", env=env)
        print("\n  Press Ctrl-C to stop.\n", flush=True)
        while True:
            for name, proc in (("The web server", web), ("The worker", worker)):
                if proc.poll() is not None:
                    raise SystemExit(f"{name} stopped unexpectedly (exit code {proc.returncode}); "
                                     "stopping the rest. Its messages are above.")
            if redis and redis.proc.poll() is not None:
                print("  The private Redis stopped; starting it again.", file=sys.stderr, flush=True)
                redis.start()
            time.sleep(0.5)
    except Stop:
        print("\n  Stopping Packline...", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave orphans
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop("the web server", web)
        _stop("the worker", worker)
        if redis:
            _stop("Redis", redis.proc)
        print("  Stopped.", flush=True)


if __name__ == "__main__":
    main()
