"""`make run` / `make cluster`: run the processes of app/Procfile; Ctrl-C or SIGTERM stops them.

Run as `python -m app.devserver --port 5000`. Honours DATABASE_URL, REDIS_URL, PORT, and
PACKLINE_WEB / PACKLINE_WORKERS (how many web and worker processes; 1 and 1 by default).

With METRICS_TOKEN set, every process counts into one PROMETHEUS_MULTIPROC_DIR (instance/prometheus,
emptied at start) unless one is given, so /metrics on any web process shows them all.

Order of things: the private Redis (when REDIS_URL is unset), the `release` line (migrations), the
demo brand on an empty database, the workers, then the web processes on PORT, PORT+1, ...

Each child runs in its own process session and group, so Ctrl-C (which the terminal sends to the
whole foreground group) reaches only this supervisor, which stops them in order: the web
processes, then the workers (each finishes or hands back its job), then Redis. Stopping a child
means SIGTERM to it, and once it is gone, SIGKILL to whatever is left in its group (the RQ
scheduler process a killed worker leaves behind, say), so nothing outlives the run.

A child that dies on its own: the private Redis is started again (the others reconnect to it). With
one web and one worker (`make run`), a web or worker that dies stops the rest with a message
saying which. With more of a kind (`make cluster`), it is started again, as systemd's
Restart=on-failure or a container platform would, unless it keeps dying (5 times in a minute).
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import shlex
import shutil
import signal
import socket as sockets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.config import instance_dir

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = Path(__file__).resolve().parent / "Procfile"
BIN = Path(sys.executable).parent
STOP_TIMEOUT = 15  # seconds each child gets to stop before it is killed
RESTARTS_PER_MINUTE = 5
# What `flask seed-demo-if-empty --print-logins` prints between its own words and the logins.
DEMO_LOGINS_MARKER = "-- demo logins --"
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


class Stop(Exception):
    """SIGINT/SIGTERM: stop everything in order."""


class Fatal(Exception):
    """A child died and the rest must stop; the message says which."""


def read_procfile(path: Path = PROCFILE) -> dict[str, str]:
    """`name: command` lines in order (comments and blank lines skipped)."""
    lines: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]+", name.strip()):
            raise ValueError(f"{path}: not a Procfile line: {raw!r}")
        lines[name.strip()] = command.strip()
    return lines


def command_line(command: str, env: dict[str, str]) -> list[str]:
    """Expand ${NAME}, ${NAME:-default} and $NAME from `env`, split as a shell would, and run
    the program from this virtualenv when it is there (flask, gunicorn)."""

    def expand(match: re.Match) -> str:
        name = match.group(1) or match.group(3)
        value = env.get(name, "")
        return value if value or match.group(2) is None else match.group(2)

    argv = shlex.split(_VARIABLE.sub(expand, command))
    local = BIN / argv[0]
    if local.exists():
        argv[0] = str(local)
    elif (found := shutil.which(argv[0], path=env.get("PATH"))) is not None:
        argv[0] = found
    return argv


def _bind_host(env: dict[str, str]) -> str:
    """The address the web lines bind (HOST, default 127.0.0.1), without IPv6 brackets."""
    return (env.get("HOST") or "127.0.0.1").strip().strip("[]")


def _connect_host(env: dict[str, str]) -> str:
    """Where to reach the web processes from this machine: HOST, or 127.0.0.1 for a wildcard."""
    host = _bind_host(env)
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def _port_free(host: str, port: int) -> bool:
    """False when `port` is taken on `host`; SystemExit when HOST is no address of this machine."""
    try:
        family, kind, proto, _, address = sockets.getaddrinfo(host, port, type=sockets.SOCK_STREAM)[0]
        with sockets.socket(family, kind, proto) as probe:
            probe.setsockopt(sockets.SOL_SOCKET, sockets.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return False
        sys.exit(f"HOST={host} cannot be used for the web server ({exc.strerror or exc}): set HOST to an "
                 "address of this machine, such as 127.0.0.1 or 0.0.0.0.")
    return True


def _listening(host: str, port: int) -> bool:
    try:
        with sockets.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _signal_group(pgid: int, signum: int) -> bool:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@dataclass
class Child:
    name: str  # "web.1", "worker.2", "redis"
    kind: str  # the Procfile line it runs
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    started: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.started = [t for t in self.started if t > time.monotonic() - 60] + [time.monotonic()]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT} if self.kind == "redis" else {}
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, start_new_session=True, **quiet)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exited(self) -> bool:
        """True once, when it has exited on its own; whatever it left in its group is ended."""
        if self.proc is None or self.proc.poll() is None:
            return False
        self.clear_group()
        return True

    def terminate(self) -> None:
        if self.running:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"  {self.name} did not stop in {STOP_TIMEOUT} s; killing it.", file=sys.stderr, flush=True)
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.clear_group()

    def clear_group(self) -> None:
        """End what the child left in its process group (its own children that outlived it)."""
        if self.proc is None or not _signal_group(self.proc.pid, signal.SIGTERM):
            return
        for _ in range(50):
            time.sleep(0.1)
            if not _signal_group(self.proc.pid, 0):
                return
        _signal_group(self.proc.pid, signal.SIGKILL)


def _stop_all(children: list[Child]) -> None:
    for child in children:
        child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        child.wait(deadline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # String defaults go through `type` too, so a bad variable gets argparse's one-line error.
    parser.add_argument("--port", type=int, default=os.environ.get("PORT") or "5000")
    parser.add_argument("--web", type=int, default=os.environ.get("PACKLINE_WEB") or "1")
    parser.add_argument("--workers", type=int, default=os.environ.get("PACKLINE_WORKERS") or "1")
    args = parser.parse_args()
    if args.web < 1 or args.workers < 1:
        sys.exit("PACKLINE_WEB and PACKLINE_WORKERS must be at least 1.")
    ports = [args.port + i for i in range(args.web)]
    # The web lines bind HOST (app/Procfile): check, wait for and show that address.
    host = _connect_host(os.environ)
    busy = [port for port in ports if not _port_free(_bind_host(os.environ), port)]
    if busy:
        sys.exit(f"Port {busy[0]} is already in use. Stop what uses it, or choose another port: "
                 f"PORT={max(ports) + 1} make run")
    directory = instance_dir()
    directory.mkdir(parents=True, exist_ok=True)
    procfile = read_procfile()

    def stop(*_: object) -> None:
        raise Stop

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)  # a process manager or `timeout` stops everything the same way
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PACKLINE_INSTANCE_DIR"] = str(directory)
    env.setdefault("WEB_CONCURRENCY", "2")
    if env.get("METRICS_TOKEN") and not env.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics on any web process adds up the counts of every web and worker process here.
        metrics_dir = directory / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    redis: Child | None = None
    if not env.get("REDIS_URL"):
        redis = Child("redis", "redis", command_line(procfile["redis"], env), env)
        if not Path(redis.argv[0]).is_absolute():
            sys.exit("redis-server was not found: run `make system` (it installs it), or set REDIS_URL to an "
                     "existing Redis; then run `make run` again.")
        env["REDIS_URL"] = f"unix://{directory / 'redis.sock'}"
    workers = [Child(f"worker.{i + 1}", "worker", command_line(procfile["worker"], env), env)
               for i in range(args.workers)]
    webs = [Child(f"web.{i + 1}", "web", command_line(procfile["web"], {**env, "PORT": str(port)}),
                  {**env, "PORT": str(port)}) for i, port in enumerate(ports)]
    restart = args.web > 1 or args.workers > 1
    shop: Child | None = None
    status = 0
    try:
        if redis:
            _start_redis(redis, directory)
        _release(procfile["release"], env)
        # Seeds when empty and prints the logins after a marker line: shown once the site answers.
        seeded = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "seed-demo-if-empty", "--print-logins"],
                                cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
        said, _marker, logins = seeded.partition(DEMO_LOGINS_MARKER + "\n")
        print(said, end="", flush=True)
        for child in workers + webs:
            child.start()
        deadline = time.monotonic() + 60
        for child, port in zip(webs, ports, strict=True):
            while not _listening(host, port):
                if not child.running or time.monotonic() > deadline:
                    raise Fatal(f"The web server did not start on port {port} (see its messages above).")
                time.sleep(0.2)
        shown = f"[{host}]" if ":" in host else host
        urls = ", ".join(f"http://{shown}:{port}/" for port in ports)
        if env.get("DEMO_SHOP", "1") != "0" and "shop" in procfile:
            shop = _start_shop(procfile["shop"], env, f"http://{shown}:{ports[0]}")
        print(f"\n  Packline is running at {urls}\n\n  Demo logins:\n{logins}", end="", flush=True)
        print("\n  Press Ctrl-C to stop.\n", flush=True)
        while True:
            for child in webs + workers:
                if child.exited():
                    _died(child, restart)
            if shop and shop.exited():
                print("  The demo shop stopped; no more demo orders will arrive.", file=sys.stderr, flush=True)
                shop = None
            if redis and redis.exited():
                print("  The private Redis stopped; starting it again.", file=sys.stderr, flush=True)
                _start_redis(redis, directory)
            time.sleep(0.5)
    except Stop:
        print("\n  Stopping Packline...", flush=True)
    except (Fatal, subprocess.CalledProcessError) as exc:
        print(f"\n  {exc}", file=sys.stderr, flush=True)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave orphans
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if shop:
            _stop_all([shop])
        _stop_all(webs)
        _stop_all(workers)
        if redis:
            _stop_all([redis])
        print("  Stopped.", flush=True)
    sys.exit(status)


def _died(child: Child, restart: bool) -> None:
    code = child.proc.returncode
    what = "The web server" if child.kind == "web" else "The worker"
    if not restart:
        raise Fatal(f"{what} stopped unexpectedly (exit code {code}); stopping the rest. Its messages are above.")
    if len(child.started) >= RESTARTS_PER_MINUTE:
        raise Fatal(f"{child.name} stopped unexpectedly {RESTARTS_PER_MINUTE} times in a minute (exit code "
                    f"{code}); stopping the rest. Its messages are above.")
    print(f"  {child.name} stopped unexpectedly (exit code {code}); starting it again, the others go on.",
          file=sys.stderr, flush=True)
    child.start()


def _start_shop(command: str, env: dict[str, str], web_url: str) -> Child | None:
    """The demo's simulated Shopify shop on a free port, once `flask demo-shop` has connected the
    demo's `web` channel to it (docs/channels.md); None when this is not the demo's database."""
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for attempt in range(3):  # the worker is busy with the demo's first orders: a locked database waits a moment
        found = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "demo-shop", f"http://127.0.0.1:{port}"],
                               cwd=ROOT, env=env, capture_output=True, text=True)
        if found.returncode == 0:
            break
        time.sleep(1 + attempt)
    if found.returncode != 0:  # the site works without it: say why and go on
        reason = (found.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"  The demo shop was not started: {reason}", file=sys.stderr, flush=True)
        return None
    skus = found.stdout.strip()
    if not skus:
        print("  No demo shop: this database has no demo 'web' channel with stock to sell.", flush=True)
        return None
    shop_env = {**env, "SHOP_PORT": str(port), "SHOP_SKUS": skus,
                "SHOP_WEBHOOK_URL": f"{web_url}/channels/web/webhooks", "PYTHONUNBUFFERED": "1"}
    shop = Child("shop", "shop", command_line(command, shop_env), shop_env)
    shop.start()
    deadline = time.monotonic() + 30  # the URL printed below answers
    while not _listening("127.0.0.1", port):
        if not shop.running or time.monotonic() > deadline:
            print("  The demo shop did not start (see its messages above); the site works without it.",
                  file=sys.stderr, flush=True)
            return shop if shop.running else None
        time.sleep(0.1)
    every = env.get("DEMO_SHOP_EVERY") or "20"
    print(f"  The demo shop (a simulated Shopify shop at http://127.0.0.1:{port}) places an order on the "
          f"'web' channel every {every} s.", flush=True)
    return shop


def _start_redis(redis: Child, directory: Path) -> None:
    socket = directory / "redis.sock"
    if socket.exists():
        socket.unlink()  # left over from a run that was killed
    redis.start()
    for _ in range(200):
        if socket.exists():
            return
        if not redis.running:
            raise Fatal(f"redis-server did not start (exit code {redis.proc.returncode}).")
        time.sleep(0.05)


def _release(command: str, env: dict[str, str]) -> None:
    subprocess.run(command_line(command, env), cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
