"""Several workers at the same moment: each target in a thread of its own, with its own app context
and database session (as in another process), all let go together at a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from app.extensions import db


def at_once(app: Flask, targets: list[Callable[[], Any]], timeout: float = 60) -> tuple[list[Any], list[BaseException]]:
    """Run `targets` together; return what they returned (in the order they finished) and what they
    raised. Each thread gets `timeout` seconds; a barrier nobody else reaches in 30 s is an error."""
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def run(target: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results.append(target())
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results, errors
