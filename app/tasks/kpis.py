"""The KPI rollup job: recompute the recent days every few minutes (services/kpi_rollups.py), then
prepare the default KPI page in each language (services/kpi_cache.py `warm_default`)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from app.services import kpi_cache, kpi_rollups
from app.tasks import job
from app.worker import Periodic, register_periodic

DEFAULT_SECONDS = 300
log = logging.getLogger(__name__)


@job
def rollup_recent() -> dict[str, Any]:
    done = kpi_rollups.recompute_recent()
    try:
        done["warmed"] = kpi_cache.warm_default()
    except Exception:  # noqa: BLE001 - the figures are committed; the page computes itself if need be
        log.exception("could not prepare the default KPI page after the rollup")
    return done


def _interval(app: Flask) -> int:
    return int(app.config.get("KPI_ROLLUP_SECONDS", DEFAULT_SECONDS))


register_periodic(Periodic("kpi_rollup", "default", "app.tasks.kpis.rollup_recent", _interval))
