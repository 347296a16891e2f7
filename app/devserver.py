"""`make run`: migrate, seed once, start Redis (if needed), web and worker; Ctrl-C stops them.

Run as `python -m app.devserver --port 5000`. Honours DATABASE_URL, REDIS_URL and PORT.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.config import instance_dir

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _flask(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)


def _start_redis(env: dict[str, str], directory: Path) -> subprocess.Popen | None:
    if os.environ.get("REDIS_URL"):
        return None
    server = shutil.which("redis-server")
    if server is None:
        sys.exit(
            "redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install "
            "redis-server) or set REDIS_URL to an existing Redis, then run `make run` again."
        )
    socket = directory / "redis.sock"
    if socket.exists():
        socket.unlink()  # left over from a run that was killed
    proc = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
         "--dir", str(directory), "--save", "60 1", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        if socket.exists():
            break
        time.sleep(0.05)
    env["REDIS_URL"] = f"unix://{socket}"
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    directory = instance_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # SIGTERM (a process manager, `timeout`) stops everything the same way Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    redis_proc = _start_redis(env, directory)
    if redis_proc:
        children.append(redis_proc)
    try:
        _flask("db", "upgrade", env=env)
        _flask("seed-demo-if-empty", env=env)
        children.append(subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env))
        children.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{args.port}", "--workers", "2", "--threads", "4",
             "--access-logfile", "-", "wsgi:app"], cwd=ROOT, env=env,
        ))
        time.sleep(1.5)
        print(f"\n  Packline is running at http://127.0.0.1:{args.port}/\n\n  Demo logins:", flush=True)
        _flask("demo-logins", env=env)
        print("\n  Press Ctrl-C to stop.\n", flush=True)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        print("A process stopped unexpectedly; shutting down.", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in reversed(children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
