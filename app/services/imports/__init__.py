"""CSV and JSON imports of locations, channels, products, stock and orders, run as RQ jobs.

The upload is kept in Redis (shared by every web host and worker) until the run is done with it.
A job reads the file from where the run's last committed chunk ended (`files`) and writes rows
in short transactions (`rows`), each committed with the run's progress (`progress`): stock in
bulk, master data row by row in savepoints, orders one by one. A broken row is reported with its
line number and reason and never stops the good ones nor half-writes itself. The run goes on a
slice at a time on the `imports` queue, and a run whose worker died is resumed by a sweep
(`runs`). Encodings: UTF-8 with or without BOM, else Windows-1254 (Turkish Excel).
"""

from __future__ import annotations

from app.services.imports.files import KINDS
from app.services.imports.runs import MAX_BYTES, get_run, recover_stuck_runs, run_import, start_import

__all__ = ["KINDS", "MAX_BYTES", "get_run", "recover_stuck_runs", "run_import", "start_import"]
