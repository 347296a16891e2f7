"""`python -m bench` (what `make bench` runs): every benchmark module in this package, in turn.

Each module exposes `main(argv) -> int`. Set BENCH_DATABASE_URL=postgresql://... to run the
database benchmarks on PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def run_all() -> int:
    failed = 0
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        main = getattr(module, "main", None)
        if main is None:
            continue
        print(f"== bench.{info.name}", flush=True)
        failed += 1 if main([]) else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_all())
