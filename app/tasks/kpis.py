"""The KPI rollup job: recompute the recent days every few minutes (services/kpi_rollups.py)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.services import kpi_rollups
from app.tasks import job
from app.worker import Periodic, register_periodic

DEFAULT_SECONDS = 300


@job
def rollup_recent() -> dict[str, Any]:
    return kpi_rollups.recompute_recent()


def _interval(app: Flask) -> int:
    return int(app.config.get("KPI_ROLLUP_SECONDS", DEFAULT_SECONDS))


register_periodic(Periodic("kpi_rollup", "default", "app.tasks.kpis.rollup_recent", _interval))
